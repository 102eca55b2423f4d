/*
 * test_report.c -- the SVG module (ticks, escaping, number formatting,
 * drawing) and the HTML report on a small simulated leaderboard: every
 * figure present and drawn, well-formed markup, byte-identical reruns, and
 * bad options that fail with a message and leave no file, through the
 * library and through the command line (argv[1] or $LS_CLI, when given).
 */
#include "harness.h"
#include "sim.h"
#include "report/svg.h"
#include "kernel/core.h" /* ls_fault_set: the library's allocations under the report fail in turn */

#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[] = "/tmp/ls-report-XXXXXX";
static const char *cli;

/* ---------------------------------------------------------------- */
/* SVG module                                                        */
/* ---------------------------------------------------------------- */

static void fixed_formatting_is_locale_free_and_never_negative_zero(void)
{
    char b[LS_FMT_LEN];
    CHECK(strcmp(ls_fmt_fixed(b, 2.5, 2), "2.50") == 0);
    CHECK(strcmp(ls_fmt_fixed(b, -0.001, 2), "0.00") == 0);
    CHECK(strcmp(ls_fmt_fixed(b, -0.0, 1), "0.0") == 0);
    CHECK(strcmp(ls_fmt_fixed(b, -1.25, 1), "-1.3") == 0); /* half away from zero */
    CHECK(strcmp(ls_fmt_fixed(b, 1234.5678, 1), "1234.6") == 0);
    CHECK(strcmp(ls_fmt_fixed(b, 7, 0), "7") == 0);
    CHECK(strcmp(ls_fmt_fixed(b, 0.05, 3), "0.050") == 0);
    CHECK(strcmp(ls_fmt_fixed(b, NAN, 2), "NA") == 0);
    CHECK(strcmp(ls_fmt_fixed(b, -INFINITY, 2), "-inf") == 0);
    CHECK(strcmp(ls_fmt_fixed(b, 3e20, 1), "3e+20") == 0);
}

static void significant_digits_switch_to_exponents_outside_1e_minus4_to_1e6(void)
{
    char b[LS_FMT_LEN];
    CHECK(strcmp(ls_fmt_sig(b, 0.001234, 3), "0.00123") == 0);
    CHECK(strcmp(ls_fmt_sig(b, 12.3, 4), "12.3") == 0);
    CHECK(strcmp(ls_fmt_sig(b, -12.34567, 4), "-12.35") == 0);
    CHECK(strcmp(ls_fmt_sig(b, 9.996, 3), "10") == 0);
    CHECK(strcmp(ls_fmt_sig(b, 2.5e25, 3), "2.5e+25") == 0);
    CHECK(strcmp(ls_fmt_sig(b, -4.5e-7, 2), "-4.5e-07") == 0);
    CHECK(strcmp(ls_fmt_sig(b, 9.999e6, 2), "1e+07") == 0);
    CHECK(strcmp(ls_fmt_sig(b, 0, 3), "0") == 0);
    CHECK(strcmp(ls_fmt_sig(b, -1e-12, 3), "-1e-12") == 0);
}

static void ticks_are_nice_and_inside_the_range(void)
{
    double t[LS_MAX_TICKS], step;
    size_t n = ls_svg_ticks(0, 1, 5, t, &step);
    CHECK(n == 6 && fabs(step - 0.2) < 1e-12 && t[0] == 0 && fabs(t[5] - 1) < 1e-12);
    CHECK(ls_svg_step_decimals(step) == 1);
    n = ls_svg_ticks(21.3, 24.9, 4, t, &step);
    CHECK(n == 3 && step == 1 && t[0] == 22 && t[2] == 24);
    n = ls_svg_ticks(0, 0.75, 3, t, &step);
    CHECK(n == 4 && step == 0.25 && ls_svg_step_decimals(step) == 2);
    n = ls_svg_ticks(-3.7, 12.2, 4, t, &step);
    CHECK(n == 3 && step == 5 && t[0] == 0 && !signbit(t[0]) && t[2] == 10);
    n = ls_svg_ticks(-1960, -1700, 4, t, &step);
    CHECK(n >= 3 && n <= 6 && t[0] >= -1960 && t[n - 1] <= -1700);
    for (size_t i = 1; i < n; i++) CHECK_NEAR(t[i] - t[i - 1], step, 1e-9);
    n = ls_svg_ticks(5, 5, 4, t, &step); /* a single value gets a unit range */
    CHECK(n >= 2 && t[0] >= 4.5 && t[n - 1] <= 5.5);
    CHECK(ls_svg_ticks(NAN, 1, 4, t, &step) == 0);
    CHECK(ls_svg_step_decimals(2.5) == 1 && ls_svg_step_decimals(5) == 0 && ls_svg_step_decimals(0.02) == 2);
}

static void labels_escape_markup_characters(void)
{
    ls_buf b;
    ls_buf_init(&b);
    ls_buf_escape(&b, "a<b & \"c\" > 'd'\x01");
    CHECK(b.s && strcmp(b.s, "a&lt;b &amp; &quot;c&quot; &gt; &#39;d&#39;?") == 0);
    ls_buf_free(&b);
    ls_buf_init(&b);
    ls_buf_printf(&b, "<svg>");
    ls_svg_text(&b, 1, 2, "middle", 10, 0, 0, "x < y & \"z\"");
    CHECK(b.s && strstr(b.s, ">x &lt; y &amp; &quot;z&quot;</text>") != NULL);
    CHECK(b.s && strstr(b.s, "text-anchor=\"middle\"") != NULL);
    ls_buf_free(&b);
}

static void lines_break_at_missing_values_and_bands_close(void)
{
    ls_buf b;
    ls_buf_init(&b);
    ls_svg_panel p;
    ls_svg_panel_init(&p, &b, 10, 10, 100, 50, 0, 4, 0, 1);
    double x[5] = {0, 1, 2, 3, 4}, y[5] = {0, 0.5, NAN, 0.5, 1}, lo[5] = {0, 0, 0, 0, 0}, hi[5] = {1, 1, 1, 1, 1};
    ls_svg_polyline(&p, x, y, 5, "#000000", 1, NULL);
    CHECK(b.s && strstr(b.s, "d=\"M10.0 60.0L35.0 35.0\"") != NULL);
    CHECK(b.s && strstr(b.s, "d=\"M85.0 35.0L110.0 10.0\"") != NULL);
    size_t before = b.len;
    ls_svg_band(&p, x, lo, hi, 5, "#ff0000", 0.2);
    CHECK(b.s && strstr(b.s + before, "Z\"/>") != NULL && strstr(b.s + before, "fill-opacity=\"0.2\"") != NULL);
    ls_svg_axes(&p, LS_AXIS_LINEAR, LS_AXIS_LINEAR, "x (units)", "y");
    CHECK(b.s && strstr(b.s, ">x (units)</text>") != NULL && strstr(b.s, ">0.50</text>") != NULL && strstr(b.s, ">0.25</text>") != NULL);
    ls_buf_free(&b);
    char c[8];
    ls_svg_diverging(0, c);
    CHECK(strcmp(c, "#f7f7f7") == 0);
    ls_svg_diverging(1, c);
    CHECK(strcmp(c, "#b2182b") == 0);
    ls_svg_diverging(-3, c);
    CHECK(strcmp(c, "#2166ac") == 0);
}

static void log_axes_label_powers_of_ten(void)
{
    ls_buf b;
    ls_buf_init(&b);
    ls_svg_panel p;
    ls_svg_panel_init(&p, &b, 50, 10, 300, 200, 21.2, 24.8, 8.1, 8.9);
    ls_svg_axes(&p, LS_AXIS_LOG10, LS_AXIS_LOG10, "C", "N");
    /* 10^22 with the exponent in a raised, smaller tspan; under one decade: 2 x 10^8 */
    CHECK(b.s && strstr(b.s, ">10<tspan dy=\"-4.2\" font-size=\"7.8\">22</tspan></text>") != NULL);
    CHECK(b.s && strstr(b.s, ">2\xc3\x97" "10<tspan dy=\"-4.2\" font-size=\"7.8\">8</tspan></text>") != NULL);
    CHECK(b.s && strstr(b.s, "^") == NULL && strstr(b.s, "e+") == NULL);
    ls_buf_free(&b);
}

static void markers_and_dashes_differ_by_series(void)
{
    ls_buf b;
    ls_buf_init(&b);
    char seen[LS_MARKERS_N][400];
    for (size_t i = 0; i < LS_MARKERS_N; i++) {
        size_t at = b.len;
        ls_svg_marker_px(&b, 10, 10, i, 4, "#000000", 1, NULL);
        CHECK(b.s && strstr(b.s + at, "class=\"marker\"") != NULL);
        snprintf(seen[i], sizeof seen[i], "%s", b.s + at);
        for (size_t k = 0; k < i; k++) CHECK_MSG(strcmp(seen[i], seen[k]) != 0, "markers %zu and %zu are the same", i, k);
    }
    CHECK(ls_svg_dash(0) == NULL);
    for (size_t i = 1; i < LS_DASHES_N; i++)
        for (size_t k = 0; k < i; k++)
            CHECK(ls_svg_dash(k) == NULL || strcmp(ls_svg_dash(i), ls_svg_dash(k)) != 0);
    ls_buf_free(&b);
}

static void colour_scale_is_robust_to_one_extreme_benchmark(void)
{
    /* 2 skills x 4 benchmarks; benchmark 3 loads 20, the others at most 2:
     * the per-benchmark maxima 1, 1.5, 2, 20 have median 1.75, clipped at 3 x 1.75 */
    double v[8] = {1.0, 0.5, -2.0, 20.0, 0.3, 1.5, 0.0, -8.0};
    unsigned char skip[8] = {0, 0, 0, 0, 0, 0, 1, 0};
    int clipped = -1;
    double m = ls_svg_robust_max(v, 2, 4, skip, &clipped);
    CHECK(clipped == 1 && fabs(m - 5.25) < 1e-12);
    v[3] = 2.5; /* no outlier: the largest */
    v[7] = -1.0;
    m = ls_svg_robust_max(v, 2, 4, skip, &clipped);
    CHECK(clipped == 0 && m == 2.5);
    skip[2] = 1; /* a skipped (fixed) entry does not count */
    v[2] = 100;
    skip[6] = 0;
    v[6] = 2.0;
    m = ls_svg_robust_max(v, 2, 4, skip, &clipped);
    CHECK(clipped == 0 && m == 2.5);
}

/* ---------------------------------------------------------------- */
/* The report                                                        */
/* ---------------------------------------------------------------- */

static ls_table *table;
static ls_data *data;
static ls_fit *fit;
static char sel_path[256], fit_path[256], csv_path[256];

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) { free(s); s = NULL; }
    if (s) s[n] = '\0';
    if (len) *len = (size_t)n;
    fclose(f);
    return s;
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static int setup(void)
{
    ls_sim_options so;
    ls_sim_options_init(&so);
    so.families = 24;
    so.skills = 2;
    so.seed = 11;
    double *floors = NULL;
    ls_params tr;
    ls_error e;
    if (ls_simulate(&so, &table, &tr, &floors, &e)) return 0;
    ls_params_free(&tr);
    char fl[1024];
    h_floor_list(table, floors, so.benchmarks, fl, sizeof fl);
    free(floors);
    ls_data_options o;
    ls_data_options_init(&o);
    o.floors = fl;
    if (ls_data_build(table, &o, &data, &e)) return 0;
    ls_fit_options fo;
    ls_fit_options_init(&fo);
    fo.skills = 2;
    fo.starts = 1;
    fo.threads = 2;
    if (ls_fit_run(data, &fo, &fit, &e)) return 0;
    snprintf(fit_path, sizeof fit_path, "%s/fit.json", dir);
    snprintf(csv_path, sizeof csv_path, "%s/sim.csv", dir);
    if (ls_fit_write_json(fit, data, fit_path, NULL, &e) || ls_table_write(table, csv_path, &e)) return 0;
    /* a selection table in the form `latentscale select --out` writes it */
    snprintf(sel_path, sizeof sel_path, "%s/select.json", dir);
    FILE *sf = fopen(sel_path, "w");
    if (!sf) return 0;
    fputs("{\"version\": \"" LS_VERSION "\", \"kind\": \"model selection over K\", \"seed\": 1,\n"
          " \"fits\": [\n"
          "  {\"skills\": 1, \"loglik\": 900, \"n_params\": 39, \"aic\": -1722, \"bic\": -1680, \"cv_loglik\": 850, \"converged\": true},\n"
          "  {\"skills\": 2, \"loglik\": 980, \"n_params\": 53, \"aic\": -1854, \"bic\": -1790, \"cv_loglik\": 910, \"converged\": true,\n"
          "   \"refits\": 4, \"refits_not_converged\": 0},\n"
          "  {\"skills\": 3, \"loglik\": 990, \"n_params\": 66, \"aic\": -1860, \"bic\": -1765, \"cv_loglik\": 905, \"converged\": false,\n"
          "   \"refits\": 4, \"refits_not_converged\": 1}],\n"
          " \"folds\": 3, \"best_aic\": 2, \"best_bic\": 2, \"best_cv\": 2,\n"
          " \"configuration\": {\"skills\": [1, 2], \"covariates\": [\"log(size),log(tokens)\", \"log(size),log(tokens)\"],\n"
          "  \"table\": [\n"
          "   {\"skills\": 1, \"covariates\": \"log(size),log(tokens)\", \"estimated_ceilings\": \"\", \"sibling_mae\": 0.061, \"mae_difference\": 0.009, \"mae_difference_se\": 0.002, \"converged\": true},\n"
          "   {\"skills\": 1, \"covariates\": \"log(size),log(tokens)\", \"estimated_ceilings\": \"mmlu\", \"sibling_mae\": 0.058, \"mae_difference\": 0.006, \"mae_difference_se\": 0.002, \"converged\": true},\n"
          "   {\"skills\": 2, \"covariates\": \"log(size),log(tokens)\", \"estimated_ceilings\": \"\", \"sibling_mae\": 0.053, \"mae_difference\": 0.001, \"mae_difference_se\": 0.002, \"converged\": true},\n"
          "   {\"skills\": 2, \"covariates\": \"log(size),log(tokens)\", \"estimated_ceilings\": \"mmlu\", \"sibling_mae\": 0.052, \"mae_difference\": 0, \"mae_difference_se\": 0, \"converged\": false}],\n"
          "  \"chosen_skills\": 2, \"chosen_covariates\": \"log(size),log(tokens)\", \"chosen_ceilings\": \"\",\n"
          "  \"ceiling_candidates\": \"K = 2; mmlu 9.10\"}}\n", sf);
    return fclose(sf) == 0;
}

/* Tags balance (every element closed or self-closed), as XML requires. */
static int well_formed(const char *s, char *why, size_t n)
{
    char stack[64][32];
    size_t depth = 0;
    for (const char *c = s; (c = strchr(c, '<')) != NULL;) {
        if (strncmp(c, "<!--", 4) == 0) {
            const char *e = strstr(c, "-->");
            if (!e) { snprintf(why, n, "unterminated comment"); return 0; }
            const char *dd = strstr(c + 4, "--");
            if (dd && dd < e) { snprintf(why, n, "'--' inside a comment"); return 0; }
            c = e + 3;
            continue;
        }
        if (c[1] == '!') { c = strchr(c, '>'); if (!c) return 0; continue; }
        const char *e = strchr(c, '>');
        if (!e) { snprintf(why, n, "unterminated tag"); return 0; }
        char name[32];
        int close = c[1] == '/';
        size_t k = 0;
        for (const char *q = c + 1 + close; q < e && *q != ' ' && *q != '/' && k + 1 < sizeof name; q++) name[k++] = *q;
        name[k] = '\0';
        if (close) {
            if (depth == 0 || strcmp(stack[depth - 1], name) != 0) {
                snprintf(why, n, "</%s> closes <%s>", name, depth ? stack[depth - 1] : "(nothing)");
                return 0;
            }
            depth--;
        } else if (e[-1] != '/') {
            if (depth == 64) { snprintf(why, n, "too deep"); return 0; }
            snprintf(stack[depth++], 32, "%s", name);
        }
        if (strcmp(name, "style") == 0 && !close) { /* CSS text: no markup inside */
            const char *end = strstr(e, "</style>");
            if (!end) return 0;
            c = end;
            continue;
        }
        c = e + 1;
    }
    if (depth) { snprintf(why, n, "<%s> never closed", stack[depth - 1]); return 0; }
    return 1;
}

static size_t count(const char *s, const char *end, const char *what)
{
    size_t n = 0;
    for (const char *c = s; (c = strstr(c, what)) != NULL && c < end; c++) n++;
    return n;
}

/* The section of figure id: its <svg> and drawn elements, or its note. */
static void check_figure(const char *html, const char *id, int present, size_t min_drawn)
{
    char key[64];
    snprintf(key, sizeof key, "<section class=\"figure\" id=\"fig-%s\">", id);
    const char *s = strstr(html, key);
    CHECK_MSG(s != NULL, "figure %s missing", id);
    if (!s) return;
    const char *e = strstr(s, "</section>");
    CHECK(e != NULL);
    if (!e) return;
    const char *svg = strstr(s, "<svg");
    int has_svg = svg && svg < e;
    CHECK_MSG(has_svg == present, "figure %s: svg %s", id, has_svg ? "present" : "absent");
    if (!present) {
        const char *note = strstr(s, "Figure omitted");
        CHECK_MSG(note && note < e, "figure %s: omitted without a note", id);
        return;
    }
    size_t drawn = count(s, e, "<path") + count(s, e, "<circle") + count(s, e, "<rect") + count(s, e, "<line");
    CHECK_MSG(drawn >= min_drawn, "figure %s: %zu drawn elements, expected >= %zu", id, drawn, min_drawn);
    CHECK_MSG(count(s, e, "<text") >= 3, "figure %s: no labels", id);
    const char *cap = strstr(s, "class=\"caption\"");
    CHECK_MSG(cap && cap < e, "figure %s: no caption", id);
}

/* the section of figure id, [*s, *e) */
static int section(const char *html, const char *id, const char **s, const char **e)
{
    char key[64];
    snprintf(key, sizeof key, "<section class=\"figure\" id=\"fig-%s\">", id);
    *s = strstr(html, key);
    *e = *s ? strstr(*s, "</section>") : NULL;
    return *s && *e;
}

/* Issue 28, item 15: what each figure must show besides colour. */
static void figures_mark_what_they_must(const char *html)
{
    const char *s, *e;
    size_t K = 2, J = 12;
    /* the warnings banner (or its "none") at the top, before the figures */
    const char *w = strstr(html, "id=\"warnings\"");
    CHECK(w != NULL && w < strstr(html, "<section"));
    /* figure 1: each highlighted family its own marker, on its points and in the legend */
    CHECK(section(html, "scores", &s, &e));
    if (s && e) {
        for (size_t h = 0; h < 4; h++) {
            char key[80];
            snprintf(key, sizeof key, "<g class=\"curve\" data-family=\"%zu\" data-marker=\"%zu\">", h, h);
            CHECK_MSG(count(s, e, key) == J, "family %zu: %zu curves with marker %zu", h, count(s, e, key), h);
            snprintf(key, sizeof key, "data-shape=\"%zu\"", h);
            CHECK_MSG(count(s, e, key) > J, "marker %zu drawn %zu times", h, count(s, e, key));
        }
        CHECK(count(s, e, "data-shape=\"4\"") == 0);
        /* extrapolation: dashed continuations and the marks at the edges of each family's compute */
        CHECK(count(s, e, "<g class=\"extrapolation\">") == 4 * J);
        const char *x = strstr(s, "<g class=\"extrapolation\">");
        const char *xe = x ? strstr(x, "</g>") : NULL;
        size_t dashed = 0;
        for (const char *c = s; (c = strstr(c, "<g class=\"extrapolation\">")) && c < e; c++) {
            const char *end = strstr(c, "</g>");
            dashed += count(c, end, "stroke-dasharray=\"5 3\"");
        }
        CHECK_MSG(x && xe && dashed >= J, "%zu dashed extrapolations", dashed);
        CHECK(count(s, e, "<g class=\"range-mark\">") >= J);
        CHECK(strstr(s, "extrapolated beyond the family&#39;s compute") != NULL);
        /* compute on a log axis with raised exponents */
        CHECK(count(s, e, ">10<tspan") >= J);
    }
    /* figure 2: the fixed loadings hatched, with a legend entry; standard errors in the cells */
    CHECK(section(html, "loadings", &s, &e));
    if (s && e) {
        CHECK_MSG(count(s, e, "<g class=\"fixed-entry\">") == K * (K - 1), "%zu fixed entries", count(s, e, "<g class=\"fixed-entry\">"));
        CHECK(count(s, e, "fill=\"url(#hatch-svg-loadings)\"") == K * (K - 1) + 1); /* cells and the legend */
        CHECK(count(s, e, ">fixed at 0 for identification (not estimated)</text>") == 1);
        const double *se = ls_fit_se(fit, LS_SE_HESSIAN);
        CHECK(se != NULL);
        CHECK_MSG(count(s, e, "<g class=\"se\">") == K * J - K * (K - 1), "%zu standard errors printed", count(s, e, "<g class=\"se\">"));
    }
    CHECK(section(html, "correlations", &s, &e));
    if (s && e) CHECK(count(s, e, "<g class=\"fixed-entry\">") == K);
    /* figure 5: the search range's limits drawn and labelled; skills differ by dash and marker */
    CHECK(section(html, "frontier", &s, &e));
    if (s && e) {
        static const char *lim[4] = {"size_min", "size_max", "tokens_min", "tokens_max"};
        for (int i = 0; i < 4; i++) {
            char key[80];
            snprintf(key, sizeof key, "<g class=\"range-limit\" data-limit=\"%s\">", lim[i]);
            const char *g = strstr(s, key);
            CHECK_MSG(g && g < e, "no %s limit", lim[i]);
            const char *ge = g ? strstr(g, "</g>\n</g>") : NULL;
            CHECK_MSG(g && ge && count(g, ge, "<line") == 1 && count(g, ge, ">search limit: ") == 1, "%s limit not drawn and labelled", lim[i]);
        }
        CHECK(count(s, e, "<g class=\"skill-line\" data-skill=\"1\" data-dash=\"solid\" data-marker=\"0\">") == 2);
        CHECK(count(s, e, "<g class=\"skill-line\" data-skill=\"2\" data-dash=\"7 3\" data-marker=\"1\">") == 2);
        CHECK(count(s, e, "e+") == 0); /* no 1e+21 labels */
    }
}

static int write_report(const ls_report_options *o, const char *path, ls_error *e)
{
    return ls_report_write(fit, data, o, path, e);
}

static void report_has_every_figure_and_is_well_formed(void)
{
    char path[300];
    snprintf(path, sizeof path, "%s/report.html", dir);
    ls_report_options o;
    ls_report_options_init(&o);
    o.select_path = sel_path;
    o.compare = "fam0001,fam0002";
    o.param_draws = 30;
    o.latent_draws = 10;
    o.optimal_draws = 200;
    o.seed = 7;
    o.title = "Report <of> \"sim\" & co";
    o.argv_json = "[\"fit.json\",\"sim.csv\",\"--out\",\"report.html\"]";
    ls_error e = {0, ""};
    int rc = write_report(&o, path, &e);
    CHECK_MSG(rc == LS_OK, "%s", e.message);
    char *html = slurp(path, NULL);
    CHECK(html != NULL);
    if (!html) return;
    char why[200] = "";
    CHECK_MSG(well_formed(html, why, sizeof why), "markup: %s", why);
    CHECK(strncmp(html, "<!DOCTYPE html>", 15) == 0);
    CHECK(strstr(html, "<title>Report &lt;of&gt; &quot;sim&quot; &amp; co</title>") != NULL);
    CHECK(strstr(html, "<script") == NULL && strstr(html, "<link") == NULL && strstr(html, "https:") == NULL);
    check_figure(html, "scores", 1, 12 * 20);
    check_figure(html, "loadings", 1, 2 * 12);
    check_figure(html, "correlations", 1, 4);
    check_figure(html, "selection", 1, 6);
    check_figure(html, "frontier", 1, 4);
    check_figure(html, "compare", 1, 4);
    CHECK(strstr(html, "<section id=\"fit-table\">") != NULL);
    /* curves and bands in every benchmark panel */
    CHECK(count(html, html + strlen(html), "<g class=\"panel\"") == 12);
    /* version, options and seed recorded: comment and footer */
    CHECK(strstr(html, "\"seed\":\"7\"") != NULL && strstr(html, "\"version\":\"" LS_VERSION "\"") != NULL);
    CHECK(strstr(html, "\"param_draws\":30") != NULL && strstr(html, "\\u002d\\u002dout") != NULL);
    CHECK(strstr(html, "Generated by latentscale " LS_VERSION ", report seed 7") != NULL);
    CHECK(strstr(html, "&quot;--out&quot;") != NULL);
    /* the configuration chosen by the sibling MAE: its heading, screen and table, the choice in bold */
    CHECK(strstr(html, "Configuration chosen by extrapolation to a larger sibling: K = 2, covariates "
                       "log(size),log(tokens), ceilings estimated: none") != NULL);
    CHECK(strstr(html, "Ceiling screen: K = 2; mmlu 9.10") != NULL);
    CHECK(strstr(html, "<tr class=\"chosen\"><td>2</td><td class=\"l\">log(size),log(tokens)</td><td class=\"l\">"
                       "none</td><td>0.0530</td><td>+0.0010</td><td>0.0020</td><td class=\"l\">chosen</td></tr>") != NULL);
    CHECK(strstr(html, "<td>0.0520</td><td>+0.0000</td><td>0.0000</td><td class=\"l\"> (not converged)</td>") != NULL);
    /* the selection's unconverged fit and refits are named; its converged ones are not */
    CHECK(strstr(html, "Not converged (its criteria are not to be trusted; faded markers): K = 3: the fit and 1 of 4 "
                       "refits.") != NULL);
    CHECK(strstr(html, "K = 3: AIC -1860 (not converged)") != NULL && strstr(html, "K = 2: AIC -1854 (not") == NULL);
    /* the AIC ring sits on K = 2, the best converged fit, not on K = 3's lower, unconverged AIC */
    const char *sec = strstr(html, "id=\"fig-selection\"");
    const char *rg = sec ? strstr(sec, "r=\"7\" fill=\"none\"") : NULL;
    const char *k2 = sec ? strstr(sec, "<title>K = 2: AIC") : NULL;
    double rx = NAN, px = NAN;
    if (rg) {
        const char *c = rg;
        while (c > sec && strncmp(c, "<circle", 7) != 0) c--;
        const char *cx = strstr(c, "cx=\"");
        if (cx) rx = atof(cx + 4);
    }
    if (k2) {
        const char *c = k2;
        while (c > sec && strncmp(c, "<circle", 7) != 0) c--;
        const char *cx = strstr(c, "cx=\"");
        if (cx) px = atof(cx + 4);
    }
    CHECK_MSG(isfinite(rx) && rx == px, "AIC ring at x %g, K = 2's point at %g", rx, px);
    CHECK(strstr(html, "K = 2: the fit") == NULL && strstr(html, "K = 1: the fit") == NULL);
    figures_mark_what_they_must(html);
    free(html);
}

/* Issue 28, item 6: one set of defaults; the report's P(A > B) is ls_compare's. */
static void defaults_and_comparison_match_the_command_line(void)
{
    ls_report_options o;
    ls_report_options_init(&o);
    ls_predict_options po;
    ls_predict_options_init(&po);
    CHECK(o.param_draws == po.param_draws && o.latent_draws == po.latent_draws && o.level == po.level &&
          o.seed == po.seed);
    char path[300];
    snprintf(path, sizeof path, "%s/cmp.html", dir);
    o.compare = "fam0001,fam0002";
    o.optimal_draws = 0; /* the frontiers are not compared here */
    o.grid = 2;
    ls_error e = {0, ""};
    CHECK_MSG(write_report(&o, path, &e) == LS_OK, "%s", e.message);
    char *html = slurp(path, NULL);
    if (!html) { CHECK(0); return; }
    ls_result *c = NULL;
    long fa = ls_data_find_family(data, "fam0001"), fb = ls_data_find_family(data, "fam0002");
    CHECK(fa >= 0 && fb >= 0);
    CHECK_MSG(ls_compare(fit, data, (size_t)fa, (size_t)fb, &po, &c, &e) == LS_OK, "%s", e.message);
    size_t K = 0;
    const double *pg = c ? ls_result_numbers(c, "prob_greater", &K, NULL) : NULL;
    CHECK(pg && K == 2);
    for (size_t k = 0; pg && k < K; k++) {
        char key[120], v[LS_FMT_LEN], v3[LS_FMT_LEN];
        snprintf(key, sizeof key, "<g class=\"prob-greater\" data-skill=\"%zu\" data-value=\"%s\">", k + 1,
                 ls_fmt_sig(v, pg[k], 9));
        const char *g = strstr(html, key);
        CHECK_MSG(g != NULL, "skill %zu: P(A > B) %s of ls_compare not in the report", k + 1, v);
        snprintf(key, sizeof key, ">%s</text>", ls_fmt_fixed(v3, pg[k], 3));
        CHECK(g && strstr(g, key) != NULL && strstr(g, key) < strstr(g, "</g>"));
    }
    ls_result_free(c);
    free(html);
}

/* A fit file with warnings (among them that the optimiser did not
 * converge): every one comes back with the fit and is in the banner at the
 * top of its report. */
static void every_warning_is_in_the_banner(void)
{
    char fp[300], path[300];
    snprintf(fp, sizeof fp, "%s/fit-warn.json", dir);
    snprintf(path, sizeof path, "%s/warn.html", dir);
    ls_error e = {0, ""};
    CHECK_MSG(ls_fit_write_json(fit, data, fp, NULL, &e) == LS_OK, "%s", e.message);
    /* add two warnings to the file's list, as a fit that stopped early records them */
    size_t n = 0;
    char *text = slurp(fp, &n);
    const char *key = "\"warnings\": [";
    char *at = text ? strstr(text, key) : NULL;
    CHECK(at != NULL);
    if (!at) { free(text); return; }
    const char *added[2] = {"the optimiser did not converge: max |gradient| = 0.731",
                            "a warning with <markup> & \"quotes\" in it"};
    at += strlen(key);
    const char *rest = at;
    while (*rest == ' ' || *rest == '\n') rest++;
    FILE *out = fopen(fp, "w");
    CHECK(out != NULL);
    if (!out) { free(text); return; }
    fwrite(text, 1, (size_t)(at - text), out);
    fprintf(out, "\"%s\", \"a warning with <markup> & \\\"quotes\\\" in it\"%s", added[0], *rest == ']' ? "" : ", ");
    fputs(at, out);
    fclose(out);
    free(text);
    ls_data *d2 = NULL;
    ls_fit *f2 = NULL;
    int rc = ls_fit_load(fp, table, 2, &d2, &f2, &e);
    CHECK_MSG(rc == LS_OK, "%s", e.message);
    if (!rc) {
        /* the file's warnings come back, every one, with the fit's own */
        for (size_t i = 0; i < 2 + ls_fit_nwarnings(fit); i++) {
            const char *w = i < 2 ? added[i] : ls_fit_warning(fit, i - 2);
            int found = 0;
            for (size_t k = 0; k < ls_fit_nwarnings(f2); k++) found |= strcmp(w, ls_fit_warning(f2, k)) == 0;
            CHECK_MSG(found, "warning lost in the file: %s", w);
        }
        ls_report_options o;
        ls_report_options_init(&o);
        o.param_draws = 0;
        o.latent_draws = 5;
        o.optimal_draws = 0;
        o.grid = 3;
        o.compare = "fam0001,fam0002";
        CHECK_MSG(ls_report_write(f2, d2, &o, path, &e) == LS_OK, "%s", e.message);
        char *html = slurp(path, NULL);
        const char *bs = html ? strstr(html, "<div class=\"warnings\" id=\"warnings\"") : NULL;
        const char *be = bs ? strstr(bs, "</div>") : NULL;
        CHECK(bs && be && be < strstr(html, "<section"));
        for (size_t i = 0; bs && be && i < ls_fit_nwarnings(f2); i++) {
            ls_buf w;
            ls_buf_init(&w);
            ls_buf_escape(&w, ls_fit_warning(f2, i));
            const char *hit = w.s ? strstr(bs, w.s) : NULL;
            CHECK_MSG(hit && hit < be, "warning not in the banner: %s", ls_fit_warning(f2, i));
            ls_buf_free(&w);
        }
        CHECK(bs && be && count(bs, be, "<li>") >= ls_fit_nwarnings(f2));
        /* each of the fit's warnings once (not again as "the fit: ..." from
         * every task), and none about figure 1's own hypothetical models */
        CHECK(bs && be && count(bs, be, "<li>") <= ls_fit_nwarnings(f2) + 4);
        CHECK(bs && be && count(bs, be, "the fit: ") == 0 && count(bs, be, "grid-") == 0);
        CHECK(bs && strstr(bs, "a warning with &lt;markup&gt; &amp; &quot;quotes&quot; in it") != NULL);
        free(html);
    }
    ls_fit_free(f2);
    ls_data_free(d2);
}

/* A benchmark of precision phi < 5 is flagged in its panel's title. */
static void low_precision_benchmarks_are_flagged(void)
{
    ls_sim_options so;
    ls_sim_options_init(&so);
    so.families = 24;
    so.skills = 1;
    so.benchmarks = 4;
    so.seed = 5;
    ls_table *t0 = NULL, *t = NULL;
    ls_params tr;
    double *floors = NULL;
    ls_error e = {0, ""};
    CHECK(ls_simulate(&so, &t0, &tr, &floors, &e) == LS_OK);
    ls_table_free(t0);
    free(floors);
    floors = NULL;
    tr.phi[2] = 2.5;
    so.truth = &tr;
    ls_params tr2;
    int rc = ls_simulate(&so, &t, &tr2, &floors, &e);
    ls_params_free(&tr);
    if (!rc) ls_params_free(&tr2);
    CHECK_MSG(rc == LS_OK, "%s", e.message);
    if (rc) return;
    char fl[512];
    h_floor_list(t, floors, so.benchmarks, fl, sizeof fl);
    free(floors);
    ls_data_options dopt;
    ls_data_options_init(&dopt);
    dopt.floors = fl;
    ls_data *d = NULL;
    ls_fit *f = NULL;
    ls_fit_options fo;
    ls_fit_options_init(&fo);
    fo.skills = 1;
    fo.starts = 1;
    fo.threads = 2;
    rc = ls_data_build(t, &dopt, &d, &e);
    if (!rc) rc = ls_fit_run(d, &fo, &f, &e);
    CHECK_MSG(rc == LS_OK, "%s", e.message);
    if (!rc) {
        const ls_params *pr = ls_fit_params(f);
        CHECK_MSG(pr->phi[2] < 5, "phi estimated %g", pr->phi[2]);
        ls_report_options o;
        ls_report_options_init(&o);
        o.param_draws = 0;
        o.latent_draws = 5;
        o.optimal_draws = 0;
        char path[300];
        snprintf(path, sizeof path, "%s/lowphi.html", dir);
        CHECK_MSG(ls_report_write(f, d, &o, path, &e) == LS_OK, "%s", e.message);
        char *html = slurp(path, NULL);
        for (size_t j = 0; html && j < 4; j++) {
            char key[200];
            snprintf(key, sizeof key, "<g class=\"panel\" data-benchmark=\"%s\"", ls_data_benchmark(d, j));
            const char *g = strstr(html, key);
            const char *ge = g ? strstr(g, "<g class=\"axes\">") : NULL;
            int flagged = g && ge && count(g, ge, "low precision: phi = ") == 1 &&
                          strncmp(g + strlen(key), " data-low-precision=\"1\"", strlen(" data-low-precision=\"1\"")) == 0;
            CHECK_MSG(g && flagged == (pr->phi[j] < 5), "benchmark %zu (phi %g): flagged %d", j, pr->phi[j], flagged);
        }
        CHECK(html && strstr(html, "Panel titles flag low-precision benchmarks (phi &lt; 5)") != NULL);
        free(html);
    }
    ls_fit_free(f);
    ls_data_free(d);
    ls_table_free(t);
}

static void omitted_figures_say_why(void)
{
    char path[300];
    snprintf(path, sizeof path, "%s/plain.html", dir);
    ls_report_options o;
    ls_report_options_init(&o);
    o.param_draws = 0; /* plug-in estimates: quick */
    o.latent_draws = 5;
    o.optimal_draws = 0;
    o.families = "fam0003";
    ls_error e = {0, ""};
    CHECK_MSG(write_report(&o, path, &e) == LS_OK, "%s", e.message);
    char *html = slurp(path, NULL);
    if (!html) { CHECK(0); return; }
    check_figure(html, "scores", 1, 12 * 20);
    check_figure(html, "selection", 0, 0);
    check_figure(html, "compare", 0, 0);
    check_figure(html, "frontier", 1, 4);
    CHECK(strstr(html, "fam0003 (") != NULL);
    free(html);
    /* no family named: the prior's curve */
    ls_report_options_init(&o);
    o.top = 0;
    o.param_draws = 0;
    o.latent_draws = 5;
    CHECK_MSG(write_report(&o, path, &e) == LS_OK, "%s", e.message);
    html = slurp(path, NULL);
    CHECK(html && strstr(html, "new family (prior)") != NULL);
    free(html);
}

static void same_inputs_and_seed_give_identical_bytes(void)
{
    char p1[300], p2[300], p3[300];
    snprintf(p1, sizeof p1, "%s/a.html", dir);
    snprintf(p2, sizeof p2, "%s/b.html", dir);
    snprintf(p3, sizeof p3, "%s/c.html", dir);
    ls_report_options o;
    ls_report_options_init(&o);
    o.select_path = sel_path;
    o.compare = "fam0002,fam0001";
    o.param_draws = 20;
    o.latent_draws = 10;
    o.optimal_draws = 100;
    o.seed = 3;
    o.threads = 1;
    ls_error e = {0, ""};
    CHECK(write_report(&o, p1, &e) == LS_OK);
    o.threads = 2;
    CHECK(write_report(&o, p2, &e) == LS_OK);
    o.seed = 4;
    CHECK(write_report(&o, p3, &e) == LS_OK);
    size_t n1 = 0, n2 = 0, n3 = 0;
    char *a = slurp(p1, &n1), *b = slurp(p2, &n2), *c = slurp(p3, &n3);
    CHECK(a && b && n1 == n2 && memcmp(a, b, n1) == 0);
    CHECK(a && c && (n1 != n3 || memcmp(a, c, n1) != 0)); /* the seed matters */
    free(a); free(b); free(c);
}

static void bad_options_fail_with_a_message_and_leave_no_file(void)
{
    char path[300], keep[300];
    snprintf(path, sizeof path, "%s/bad.html", dir);
    snprintf(keep, sizeof keep, "%s/keep.html", dir);
    FILE *f = fopen(keep, "w");
    if (f) { fputs("previous", f); fclose(f); }
    char bad_json[300], not_sel[300];
    snprintf(bad_json, sizeof bad_json, "%s/bad.json", dir);
    f = fopen(bad_json, "w");
    if (f) { fputs("{\"fits\": [", f); fclose(f); }
    snprintf(not_sel, sizeof not_sel, "%s/notsel.json", dir);
    f = fopen(not_sel, "w");
    if (f) { fputs("{\"kind\": \"fit\"}\n", f); fclose(f); }
    char bad_refits[300]; /* more unconverged refits than refits */
    snprintf(bad_refits, sizeof bad_refits, "%s/badrefits.json", dir);
    f = fopen(bad_refits, "w");
    if (f) {
        fputs("{\"fits\": [{\"skills\": 1, \"aic\": 1, \"bic\": 2, \"refits\": 2, \"refits_not_converged\": 3}]}\n", f);
        fclose(f);
    }
    char bad_cfg[600];
    snprintf(bad_cfg, sizeof bad_cfg, "%s/badcfg.json", dir);
    f = fopen(bad_cfg, "w");
    if (f) {
        fputs("{\"fits\": [{\"skills\": 1, \"aic\": 1, \"bic\": 2}], \"configuration\": {\"skills\": [1], "
              "\"covariates\": [\"a\"], \"table\": [{\"skills\": 1, \"covariates\": \"a\", \"estimated_ceilings\": \"\", "
              "\"sibling_mae\": 0.1, \"mae_difference\": 0, \"mae_difference_se\": 0, \"converged\": true}], "
              "\"chosen_skills\": 2, \"chosen_covariates\": \"a\", \"chosen_ceilings\": \"\"}}\n", f);
        fclose(f);
    }
    struct { const char *field, *value; int code; const char *msg; } cases[] = {
        {"families", "nope", LS_ERR_OPTION, "families: no family 'nope'"},
        {"families", "fam0001,fam0001", LS_ERR_OPTION, "families: 'fam0001' named twice"},
        {"families", "a,b,c,d,e,f,g,h,i", LS_ERR_OPTION, "families: at most 8"},
        {"compare", "fam0001", LS_ERR_OPTION, "compare: expected two families"},
        {"compare", "fam0001,zzz", LS_ERR_OPTION, "compare: no family 'zzz'"},
        {"compare", "fam0001,fam0001", LS_ERR_OPTION, "compare: the two families are the same"},
        {"select", "/nonexistent/select.json", LS_ERR_IO, "/nonexistent/select.json"},
        {"select", bad_json, LS_ERR_PARSE, "bad.json:1:"},
        {"select", not_sel, LS_ERR_INPUT, "not a selection file"},
        {"select", bad_refits, LS_ERR_INPUT, "fits[0]: expected integers 'refits' >= 'refits_not_converged' >= 0"},
        {"select", bad_cfg, LS_ERR_INPUT, "configuration: the chosen K, covariates and ceilings are not a row of its table"},
        {"level", "1.5", LS_ERR_OPTION, "level: expected a number in (0, 1)"},
        {"grid", "1", LS_ERR_OPTION, "grid: expected 2..1000"},
        {"top", "9", LS_ERR_OPTION, "top: expected 0..8"},
        {"latent", "0", LS_ERR_OPTION, "latent_draws"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ls_report_options o;
        ls_report_options_init(&o);
        const char *v = cases[i].value;
        if (!strcmp(cases[i].field, "families")) o.families = v;
        else if (!strcmp(cases[i].field, "compare")) o.compare = v;
        else if (!strcmp(cases[i].field, "select")) o.select_path = v;
        else if (!strcmp(cases[i].field, "level")) o.level = atof(v);
        else if (!strcmp(cases[i].field, "grid")) o.grid = (size_t)atol(v);
        else if (!strcmp(cases[i].field, "top")) o.top = (size_t)atol(v);
        else o.latent_draws = (size_t)atol(v);
        ls_error e = {0, ""};
        int rc = write_report(&o, path, &e);
        CHECK_MSG(rc == cases[i].code && strstr(e.message, cases[i].msg) != NULL && !strchr(e.message, '\n'),
                  "case %zu: rc %d, message '%s'", i, rc, e.message);
        CHECK_MSG(!exists(path), "case %zu left %s", i, path);
        rc = write_report(&o, keep, &e);
        char *k = slurp(keep, NULL);
        CHECK_MSG(rc != LS_OK && k && strcmp(k, "previous") == 0, "case %zu changed an existing file", i);
        free(k);
    }
    ls_report_options o;
    ls_report_options_init(&o);
    ls_error e = {0, ""};
    CHECK(ls_report_write(fit, data, &o, NULL, &e) == LS_ERR_OPTION && strstr(e.message, "out: required") != NULL);
    snprintf(path, sizeof path, "%s/no-such-folder/r.html", dir);
    o.param_draws = 0;
    o.optimal_draws = 0;
    CHECK(ls_report_write(fit, data, &o, path, &e) == LS_ERR_IO);
}

/* Every allocation of a (small) report failing in turn: a clean
 * LS_ERR_NOMEM, no file, nothing leaked (LeakSanitizer in the sanitizer
 * build). */
static void every_failed_allocation_is_reported_cleanly(void)
{
    char path[300];
    snprintf(path, sizeof path, "%s/fault.html", dir);
    ls_report_options o;
    ls_report_options_init(&o);
    o.select_path = sel_path;
    o.compare = "fam0001,fam0002";
    o.param_draws = 0;
    o.latent_draws = 2;
    o.optimal_draws = 5;
    o.grid = 3;
    o.threads = 1; /* the fault countdown is per thread */
    long site = 1, bad = 0;
    for (; site < 20000; site++) {
        ls_error e = {0, ""};
        ls_fault_set(site);
        int rc = ls_report_write(fit, data, &o, path, &e);
        ls_fault_set(0);
        if (rc == LS_OK) break;
        if (rc != LS_ERR_NOMEM || exists(path)) {
            if (bad++ < 5) fprintf(stderr, "  allocation %ld: rc %d (%s)\n", site, rc, e.message);
        }
    }
    printf("  %ld allocation sites\n", site - 1);
    CHECK(site < 20000 && bad == 0);
}

/* the command line: exit code, one-line message naming the option or file, no file */
static int run_cli(const char *args, char *err, size_t n)
{
    char cmd[2048], errf[300];
    snprintf(errf, sizeof errf, "%s/stderr.txt", dir);
    snprintf(cmd, sizeof cmd, "cd %s && %s report %s >/dev/null 2>%s", dir, cli, args, errf);
    int st = system(cmd);
    char *s = slurp(errf, NULL);
    snprintf(err, n, "%s", s ? s : "");
    free(s);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void command_line_reports_and_refuses_bad_options(void)
{
    if (!cli) {
        printf("  (no command line given: skipped)\n");
        return;
    }
    char err[1024];
    int rc = run_cli("fit.json sim.csv --select select.json --compare fam0001,fam0002 --param-draws 20 "
                     "--latent-draws 5 --optimal-draws 100 --threads 2 --out cli.html", err, sizeof err);
    CHECK_MSG(rc == 0, "exit %d: %s", rc, err);
    char path[300];
    snprintf(path, sizeof path, "%s/cli.html", dir);
    char *html = slurp(path, NULL);
    CHECK(html && strstr(html, "\"command_line\":[\"fit.json\",\"sim.csv\"") != NULL);
    CHECK(html && strstr(html, "(fit <code>fit.json</code>)") != NULL);
    free(html);
    struct { const char *args; int code; const char *msg; } cases[] = {
        {"fit.json sim.csv", 2, "latentscale report: --out: required\n"},
        {"fit.json --out x.html", 2, "expected FIT and DATA"},
        {"fit.json sim.csv --out x.html --grid abc", 2, "--grid"},
        {"fit.json sim.csv --out x.html --highlight nope", 2, "latentscale: --highlight: no family 'nope' in"},
        {"fit.json sim.csv --out x.html --level 2", 2, "--level"},
        {"fit.json sim.csv --out x.html --select missing.json", 3, "missing.json"},
        {"fit.json sim.csv --out x.html --bogus 1", 2, "bogus"},
        {"fit.json sim.csv --out sim.csv", 2, "refusing to overwrite"},
        {"missing.json sim.csv --out x.html", 3, "missing.json"},
    };
    snprintf(path, sizeof path, "%s/x.html", dir);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rc = run_cli(cases[i].args, err, sizeof err);
        char *nl = strchr(err, '\n');
        CHECK_MSG(rc == cases[i].code && strstr(err, cases[i].msg) != NULL && nl && nl[1] == '\0',
                  "'%s': exit %d, stderr '%s'", cases[i].args, rc, err);
        CHECK_MSG(!exists(path), "'%s' left a file", cases[i].args);
    }
    rc = run_cli("--help", err, sizeof err);
    CHECK(rc == 0);
}

int main(int argc, char **argv)
{
    cli = argc > 1 ? argv[1] : getenv("LS_CLI");
    RUN(fixed_formatting_is_locale_free_and_never_negative_zero);
    RUN(significant_digits_switch_to_exponents_outside_1e_minus4_to_1e6);
    RUN(ticks_are_nice_and_inside_the_range);
    RUN(labels_escape_markup_characters);
    RUN(lines_break_at_missing_values_and_bands_close);
    RUN(log_axes_label_powers_of_ten);
    RUN(markers_and_dashes_differ_by_series);
    RUN(colour_scale_is_robust_to_one_extreme_benchmark);
    if (!mkdtemp(dir)) return 1;
    int ok = setup();
    CHECK_MSG(ok, "simulating and fitting the test leaderboard failed");
    if (ok) {
        RUN(report_has_every_figure_and_is_well_formed);
        RUN(omitted_figures_say_why);
        RUN(defaults_and_comparison_match_the_command_line);
        RUN(every_warning_is_in_the_banner);
        RUN(low_precision_benchmarks_are_flagged);
        RUN(same_inputs_and_seed_give_identical_bytes);
        RUN(bad_options_fail_with_a_message_and_leave_no_file);
        RUN(every_failed_allocation_is_reported_cleanly);
        RUN(command_line_reports_and_refuses_bad_options);
    }
    ls_fit_free(fit);
    ls_data_free(data);
    ls_table_free(table);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (h_fail == 0 && system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return h_finish();
}
