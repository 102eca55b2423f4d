/*
 * report.c -- one self-contained HTML file summarising a fit: SVG figures
 * drawn by output/svg.c and the fit table.  No scripts, no external files.
 *
 * The numbers come from the public task functions, never from model code
 * of our own: ls_predict (curves and prediction bands of hypothetical
 * models along compute), ls_optimal (compute-optimal frontiers), ls_compare
 * (family comparison), and the fit's estimates and standard errors.  The
 * page is assembled in memory and written atomically at the end, so a
 * failure leaves no file.  Same inputs, options and seed give the same
 * bytes: nothing depends on the clock, the locale or the thread count.
 *
 * Chapters: options and inputs; computations; figures 1-6; the fit table;
 * assembly.
 */
#include "report/svg.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ctype.h>
#include <stdarg.h>

#define FLOPS_PER_UNIT 6e21 /* C = 6 N D with N in billions and D in trillions */
#define GREY "#b8b8b8"

int rp_fail(ls_error *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return code;
}

int rp_nomem(ls_error *err) { return rp_fail(err, LS_ERR_NOMEM, "out of memory"); }

void rp_strv_free(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) free(v[i]);
    free(v);
}

/* Put "field: " before the message in err (a library message about an
 * option of the report). */
static int rp_prefix(ls_error *err, int rc, const char *field)
{
    if (rc && err) {
        char m[LS_ERROR_LEN];
        snprintf(m, sizeof m, "%s", err->message);
        rp_fail(err, rc, "%s: %.400s", field, m);
    }
    return rc;
}

/* The prediction options of the curves and the comparison, from the report's. */
static void predict_options(const ls_report_options *o, ls_predict_options *po)
{
    ls_predict_options_init(po);
    po->level = o->level;
    po->param_draws = o->param_draws;
    po->latent_draws = o->latent_draws;
    po->seed = o->seed;
    po->threads = o->threads;
    po->param_cov = o->param_cov;
}

/* One set of defaults for the same computation: the curves and the
 * comparison take the prediction options' defaults (the command line's
 * predict and compare), the frontiers the allocation's (optimal), so that a
 * report and those commands give the same numbers for the same seed. */
void ls_report_options_init(ls_report_options *o)
{
    memset(o, 0, sizeof *o);
    ls_predict_options po;
    ls_predict_options_init(&po);
    ls_optimal_options oo;
    ls_optimal_options_init(&oo);
    o->top = 4;
    o->level = po.level;
    o->grid = 30;
    o->param_draws = po.param_draws;
    o->latent_draws = po.latent_draws;
    o->param_cov = po.param_cov;
    o->optimal_draws = oo.draws;
    o->seed = po.seed;
    o->threads = po.threads;
}

/* Everything the page shows, computed before any HTML is written. */
typedef struct rep {
    const ls_fit *f;
    const ls_data *d;
    const ls_report_options *o;
    const ls_params *pr;      /* the fit's estimates                                    */
    const double *x;          /* n x p raw covariate terms of the data                   */
    const double *y;          /* n x J scores, NaN missing                               */
    char **bench;             /* J benchmark names (copies)                              */
    size_t lay[LS_NAT_NBLOCKS + 1]; /* the natural vector's layout (ls_fit_nat_layout)    */
    size_t K, J, p, n, F;
    long ks, kt;              /* columns of log(size) and log(tokens) in x_raw, or -1 */
    int default_cov;          /* covariates are the default three (curves, frontiers) */
    double *lc;               /* n: log10 training compute of each model (NaN: unknown) */
    double cmin, cmax;        /* observed range of lc */
    size_t nh;                /* highlighted families */
    size_t hi[LS_PALETTE_N];  /* their indices (LS_PALETTE_N: the prior) */
    double ratio[LS_PALETTE_N]; /* median tokens per parameter of each curve */
    ls_result *pred;          /* nh x grid rows */
    const double *pmean, *plower, *pupper; /* its mean and interval (rows x J) */
    int have_pred;
    double *grid_lc;          /* grid */
    char pred_note[LS_ERROR_LEN];
    ls_result *al;
    int have_al, al_intervals;
    char al_note[LS_ERROR_LEN];
    ls_result *cmp;
    int have_cmp;
    size_t fa, fb;
    char cmp_note[LS_ERROR_LEN];
    ls_result *sel;           /* the selection file                                      */
    size_t nsel;              /* its rows */
    char failed[3][LS_ERROR_LEN]; /* computations that failed (curves, frontiers, comparison) */
    const double *sel_k, *sel_aic, *sel_bic, *sel_cv;
    const double *sel_conv, *sel_refits, *sel_refits_no; /* the last two NULL in a file without them */
    double sel_best[3];       /* the selection's choices: AIC, BIC, cv (indices; nsel: none) */
    int have_cv;
} rep;

/* ================================================================ */
/* Options and inputs                                                */
/* ================================================================ */

static const char *skill_label(const rep *r, size_t k, char *buf, size_t n)
{
    snprintf(buf, n, "skill %zu (%s)", k + 1, ls_data_benchmark(r->d, r->pr->anchors[k]));
    return buf;
}

int ls_report_options_check(const ls_report_options *o, ls_error *err)
{
    if (!(o->level > 0 && o->level < 1))
        return rp_fail(err, LS_ERR_OPTION, "level: expected a number in (0, 1), found %g", o->level);
    if (o->grid < 2 || o->grid > 1000)
        return rp_fail(err, LS_ERR_OPTION, "grid: expected 2..1000 points, found %zu", o->grid);
    if (o->top > LS_PALETTE_N)
        return rp_fail(err, LS_ERR_OPTION, "top: expected 0..%d families, found %zu", LS_PALETTE_N, o->top);
    if (o->optimal_draws > 1000000)
        return rp_fail(err, LS_ERR_OPTION, "optimal_draws: expected 0..1000000, found %zu", o->optimal_draws);
    /* the draws of the curves and the comparison: the prediction options' own check */
    ls_predict_options po;
    predict_options(o, &po);
    return ls_predict_options_check(&po, err);
}

/* Highlighted families: the named ones, or the `top` largest (by models,
 * then data order); none and top == 0: the prior curve only. */
static int pick_families(rep *r, ls_error *err)
{
    const ls_report_options *o = r->o;
    const ls_data *d = r->d;
    if (o->families) {
        int rc = ls_data_families(d, o->families, r->hi, LS_PALETTE_N, &r->nh, err);
        if (!rc && r->nh == 0) rc = rp_fail(err, LS_ERR_OPTION, "empty list");
        return rp_prefix(err, rc, "families");
    }
    size_t want = o->top < r->F ? o->top : r->F;
    for (size_t h = 0; h < want; h++) {
        size_t best = r->F;
        for (size_t g = 0; g < r->F; g++) {
            int taken = 0;
            for (size_t k = 0; k < h; k++) taken |= r->hi[k] == g;
            if (!taken && (best == r->F || ls_data_family_size(d, g) > ls_data_family_size(d, best))) best = g;
        }
        r->hi[r->nh++] = best;
    }
    if (r->nh == 0) r->hi[r->nh++] = LS_PALETTE_N; /* a new family: the prior */
    return LS_OK;
}

static int pick_compare(rep *r, ls_error *err)
{
    size_t ab[LS_PALETTE_N], n = 0;
    int rc = ls_data_families(r->d, r->o->compare, ab, LS_PALETTE_N, &n, err);
    if (rc && strstr(err ? err->message : "", "named twice"))
        rc = rp_fail(err, LS_ERR_OPTION, "the two families are the same");
    else if (!rc && n != 2) rc = rp_fail(err, LS_ERR_OPTION, "expected two families, A,B");
    if (rc) return rp_prefix(err, rc, "compare");
    r->fa = ab[0];
    r->fb = ab[1];
    return LS_OK;
}

/* The table `latentscale select --out` writes, read back by the library. */
static int read_selection(rep *r, const char *path, ls_error *err)
{
    int rc = ls_selection_read(path, &r->sel, err);
    if (rc == LS_ERR_IO && err) {
        char m[LS_ERROR_LEN];
        snprintf(m, sizeof m, "%s", err->message);
        rp_fail(err, rc, "select_path: %.400s", m);
    }
    if (rc) return rc;
    r->sel_k = ls_result_numbers(r->sel, "K", &r->nsel, NULL);
    r->sel_aic = ls_result_numbers(r->sel, "aic", NULL, NULL);
    r->sel_bic = ls_result_numbers(r->sel, "bic", NULL, NULL);
    r->sel_cv = ls_result_numbers(r->sel, "cv", NULL, NULL);
    r->sel_conv = ls_result_numbers(r->sel, "converged", NULL, NULL);
    r->sel_refits = ls_result_numbers(r->sel, "refits", NULL, NULL);
    r->sel_refits_no = ls_result_numbers(r->sel, "refits_not_converged", NULL, NULL);
    static const char *best[3] = {"best_aic", "best_bic", "best_cv"};
    for (int c = 0; c < 3; c++) {
        double v = ls_result_number(r->sel, best[c]);
        r->sel_best[c] = isfinite(v) && v >= 0 && v < (double)r->nsel ? v : (double)r->nsel;
    }
    for (size_t i = 0; i < r->nsel; i++)
        if (isfinite(r->sel_cv[i])) r->have_cv = 1;
    return LS_OK;
}

/* ================================================================ */
/* Computations (public task functions only)                        */
/* ================================================================ */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median_of(double *v, size_t n)
{
    if (n == 0) return NAN;
    qsort(v, n, sizeof(double), cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* log10 compute of every model; the range */
static int compute_axis(rep *r, ls_error *err)
{
    const ls_data *d = r->d;
    r->ks = r->kt = -1;
    for (size_t k = 0; k < r->p; k++) {
        if (strcmp(ls_data_covariate(d, k), "log(size)") == 0) r->ks = (long)k;
        if (strcmp(ls_data_covariate(d, k), "log(tokens)") == 0) r->kt = (long)k;
    }
    r->default_cov = r->p == 3 && strcmp(ls_data_covariate(d, 0), "log(size)") == 0 &&
                     strcmp(ls_data_covariate(d, 1), "log(tokens)") == 0 &&
                     strcmp(ls_data_covariate(d, 2), "log(size)*log(tokens)") == 0;
    r->lc = calloc(r->n ? r->n : 1, sizeof(double));
    if (!r->lc) return rp_nomem(err);
    r->cmin = INFINITY;
    r->cmax = -INFINITY;
    for (size_t i = 0; i < r->n; i++) {
        r->lc[i] = NAN;
        if (r->ks < 0 || r->kt < 0) continue;
        double ls = r->x[i * r->p + (size_t)r->ks], lt = r->x[i * r->p + (size_t)r->kt];
        double v = log10(FLOPS_PER_UNIT) + (ls + lt) / log(10.0);
        if (!isfinite(v)) continue;
        r->lc[i] = v;
        r->cmin = fmin(r->cmin, v);
        r->cmax = fmax(r->cmax, v);
    }
    if (!(r->cmax >= r->cmin)) r->cmin = r->cmax = NAN;
    return LS_OK;
}

/* keep going without a figure on a numerical failure (recorded for the
 * warnings banner in failed[slot]), fail otherwise */
static int soften(rep *r, size_t slot, int rc, ls_error *err, char *note, size_t n, const char *what)
{
    if (rc == LS_ERR_NUMERIC || rc == LS_ERR_NOCONV) {
        snprintf(note, n, "%.40s failed: %.400s", what, err ? err->message : "numerical failure");
        snprintf(r->failed[slot], sizeof r->failed[slot], "%s", note);
        return LS_OK;
    }
    return rc;
}

/* Curves: hypothetical models of each highlighted family (or a new family)
 * along compute at the family's median tokens per parameter, predicted by
 * ls_predict. */
static int compute_curves(rep *r, ls_error *err)
{
    const ls_data *d = r->d;
    const ls_report_options *o = r->o;
    if (!r->default_cov) {
        snprintf(r->pred_note, sizeof r->pred_note,
                 "curves need the default covariates log(size), log(tokens), log(size)*log(tokens)");
        return LS_OK;
    }
    if (!isfinite(r->cmin)) {
        snprintf(r->pred_note, sizeof r->pred_note, "no model has a finite size and token count");
        return LS_OK;
    }
    size_t G = o->grid, rows = r->nh * G;
    double *rt = calloc(r->n ? r->n : 1, sizeof(double));
    r->grid_lc = calloc(G, sizeof(double));
    if (!rt || !r->grid_lc) { free(rt); return rp_nomem(err); }
    double lo = r->cmin, hi = r->cmax;
    if (hi - lo < 0.5) { lo -= 0.25; hi += 0.25; }
    for (size_t g = 0; g < G; g++) r->grid_lc[g] = lo + (hi - lo) * (double)g / (double)(G - 1);
    /* a family name that is not in the data stands for a new family */
    char prior_name[64] = "(new family)";
    for (int k = 0; ls_data_find_family(d, prior_name) >= 0; k++) snprintf(prior_name, sizeof prior_name, "(new family %d)", k);
    for (size_t h = 0; h < r->nh; h++) {
        size_t m = 0;
        for (size_t i = 0; i < r->n; i++)
            if (r->hi[h] == LS_PALETTE_N || ls_data_family_of(d, i) == r->hi[h]) {
                double v = exp(r->x[i * r->p + 1] - r->x[i * r->p]); /* T per B */
                if (isfinite(v) && v > 0) rt[m++] = v;
            }
        r->ratio[h] = m ? median_of(rt, m) : 1;
    }
    free(rt);
    const char *cols[4] = {ls_data_model_column(d), ls_data_family_column(d), ls_data_size_column(d), ls_data_tokens_column(d)};
    ls_table *t = NULL;
    int rc = ls_table_new("<report grid>", 4, cols, &t, err);
    for (size_t h = 0; !rc && h < r->nh; h++)
        for (size_t g = 0; !rc && g < G; g++) {
            /* C = 6e21 s t with t = ratio s */
            double s = sqrt(pow(10, r->grid_lc[g]) / FLOPS_PER_UNIT / r->ratio[h]), tk = r->ratio[h] * s;
            char name[64], sb[LS_FMT_LEN], tb[LS_FMT_LEN];
            snprintf(name, sizeof name, "grid-%zu-%zu", h, g);
            const char *cells[4] = {name, r->hi[h] == LS_PALETTE_N ? prior_name : ls_data_family(d, r->hi[h]),
                                    ls_fmt_sig(sb, s, 9), ls_fmt_sig(tb, tk, 9)};
            rc = ls_table_append(t, cells, err);
        }
    if (!rc) {
        ls_predict_options po;
        predict_options(o, &po);
        rc = ls_predict(r->f, d, t, &po, &r->pred, err);
        if (!rc) {
            size_t nr = 0;
            r->pmean = ls_result_numbers(r->pred, "mean", &nr, NULL);
            r->plower = ls_result_numbers(r->pred, "lower", NULL, NULL);
            r->pupper = ls_result_numbers(r->pred, "upper", NULL, NULL);
            r->have_pred = nr == rows;
        }
        rc = soften(r, 0, rc, err, r->pred_note, sizeof r->pred_note, "prediction");
    }
    ls_table_free(t);
    return rc;
}

/* Frontiers: ls_optimal over budgets spanning the data's size x tokens. */
static int compute_frontiers(rep *r, ls_error *err)
{
    const ls_data *d = r->d;
    if (!r->default_cov) {
        snprintf(r->al_note, sizeof r->al_note,
                 "compute-optimal allocation needs the default covariates log(size), log(tokens), log(size)*log(tokens)");
        return LS_OK;
    }
    double smin = INFINITY, smax = -INFINITY, tmin = INFINITY, tmax = -INFINITY, pmin = INFINITY, pmax = -INFINITY;
    for (size_t i = 0; i < r->n; i++) {
        double ls = r->x[i * r->p], lt = r->x[i * r->p + 1];
        smin = fmin(smin, ls); smax = fmax(smax, ls);
        tmin = fmin(tmin, lt); tmax = fmax(tmax, lt);
        pmin = fmin(pmin, ls + lt); pmax = fmax(pmax, ls + lt);
    }
    if (!(smax > smin && tmax > tmin && pmax > pmin && isfinite(pmax) && isfinite(pmin))) {
        snprintf(r->al_note, sizeof r->al_note, "the data span no range of sizes and token counts");
        return LS_OK;
    }
    enum { NB = 24 };
    double budgets[NB];
    for (int b = 0; b < NB; b++) budgets[b] = FLOPS_PER_UNIT * exp(pmin + (pmax - pmin) * b / (NB - 1));
    ls_fit_summary *fs = NULL;
    int rc = ls_fit_summarise(r->f, d, &fs, err);
    if (rc) return rc;
    ls_optimal_options oo;
    ls_optimal_options_init(&oo);
    oo.budgets = budgets;
    oo.nbudgets = NB;
    oo.size_min = exp(smin);
    oo.size_max = exp(smax);
    oo.tokens_min = exp(tmin);
    oo.tokens_max = exp(tmax);
    oo.draws = r->o->optimal_draws;
    oo.threads = r->o->threads;
    oo.level = r->o->level;
    oo.seed = r->o->seed;
    r->al_intervals = ls_fit_nat_cov(r->f) && oo.draws > 0;
    rc = ls_optimal(fs, &oo, &r->al, err);
    ls_fit_summary_free(fs);
    if (!rc) r->have_al = 1;
    return soften(r, 1, rc, err, r->al_note, sizeof r->al_note, "compute-optimal allocation");
}

static int compute_comparison(rep *r, ls_error *err)
{
    ls_predict_options po;
    predict_options(r->o, &po);
    int rc = ls_compare(r->f, r->d, r->fa, r->fb, &po, &r->cmp, err);
    if (!rc) r->have_cmp = 1;
    return soften(r, 2, rc, err, r->cmp_note, sizeof r->cmp_note, "comparison");
}

/* ================================================================ */
/* Page pieces                                                       */
/* ================================================================ */

static void fig_begin(ls_buf *b, const char *id, int number, const char *title)
{
    ls_buf_printf(b, "<section class=\"figure\" id=\"fig-%s\">\n<h2>Figure %d. ", id, number);
    ls_buf_escape(b, title);
    ls_buf_puts(b, "</h2>\n");
}

static void fig_note(ls_buf *b, const char *note)
{
    ls_buf_puts(b, "<p class=\"note\">");
    ls_buf_escape(b, note);
    ls_buf_puts(b, "</p>\n");
}

static void fig_end(ls_buf *b, const char *caption)
{
    if (caption) {
        ls_buf_puts(b, "<p class=\"caption\">");
        ls_buf_escape(b, caption);
        ls_buf_puts(b, "</p>\n");
    }
    ls_buf_puts(b, "</section>\n");
}

static void ring(const ls_svg_panel *p, double x, double y, const char *color)
{
    ls_buf_puts(p->b, "<circle");
    ls_buf_puts(p->b, " cx=\"");
    ls_buf_num(p->b, ls_svg_px(p, x), 1);
    ls_buf_puts(p->b, "\" cy=\"");
    ls_buf_num(p->b, ls_svg_py(p, y), 1);
    ls_buf_printf(p->b, "\" r=\"7\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\"/>\n", color);
}

/* ================================================================ */
/* Figure 1: scores against compute                                  */
/* ================================================================ */

#define LOW_PHI 5.0 /* benchmarks whose precision is below this are flagged */

/* v at x by linear interpolation along the grid gx[0..n-1] (increasing) */
static double interp(const double *gx, const double *v, size_t n, double x)
{
    if (x <= gx[0]) return v[0];
    for (size_t g = 1; g < n; g++)
        if (x <= gx[g]) {
            double t = (x - gx[g - 1]) / (gx[g] - gx[g - 1]);
            return v[g - 1] + t * (v[g] - v[g - 1]);
        }
    return v[n - 1];
}

/* Legend of figure 1, wrapped at `width`; returns its height.  Entries: a
 * family (line and its marker), then the conventions. */
static double scores_legend(ls_buf *b, double x0, double y0, double width, const char *const *labels,
                            const char *const *colors, size_t nh)
{
    double x = x0, y = y0;
    for (size_t i = 0; i <= nh + 2; i++) {
        const char *lab = i < nh ? labels[i] : i == nh ? labels[nh] : i == nh + 1 ? "extrapolated beyond the family's compute"
                                                                      : "edge of the family's observed compute";
        double w = 31 + 6.2 * (double)strlen(lab) + 18;
        if (x > x0 && x + w > x0 + width) { x = x0; y += 18; }
        if (i < nh) ls_svg_legend_entry(b, x, y, colors[i], NULL, i, lab);
        else if (i == nh) { /* the other families: grey points */
            ls_buf_puts(b, "<circle");
            ls_buf_puts(b, " cx=\"");
            ls_buf_num(b, x + 13, 1);
            ls_buf_puts(b, "\" cy=\"");
            ls_buf_num(b, y, 1);
            ls_buf_printf(b, "\" r=\"2.5\" fill=\"%s\"/>\n", GREY);
            ls_svg_text(b, x + 31, y + 4, "start", 11, 0, 0, lab);
        } else if (i == nh + 1) ls_svg_legend_entry(b, x, y, "#555555", "5 3", LS_MARKERS_N, lab);
        else {
            ls_svg_line(b, x + 13, y - 6, x + 13, y + 6, "#555555", 1.6, NULL);
            ls_svg_text(b, x + 31, y + 4, "start", 11, 0, 0, lab);
        }
        x += w;
    }
    return y - y0 + 18;
}

static void figure_scores(rep *r, ls_buf *b)
{
    const ls_data *d = r->d;
    const ls_report_options *o = r->o;
    fig_begin(b, "scores", 1, "Observed scores against training compute, with fitted curves");
    if (!isfinite(r->cmin)) {
        fig_note(b, "Figure omitted: the data have no log(size) and log(tokens) covariates, so training compute C = 6ND is unknown.");
        fig_end(b, NULL);
        return;
    }
    size_t J = r->J, cols = J < 4 ? J : 4, nrow = (J + cols - 1) / cols;
    int any_low = 0;
    for (size_t j = 0; j < J; j++) any_low |= r->pr->phi[j] < LOW_PHI;
    const double cw = 262, pw = 196, ph = 150, ml = 52, mt = any_low ? 36 : 24, chh = ph + mt + 44;
    double width = (double)cols * cw + 10;
    /* legend entries: highlighted families, then the rest */
    const char *labels[LS_PALETTE_N + 1], *colors[LS_PALETTE_N + 1];
    char lab[LS_PALETTE_N + 1][200];
    double fam_lo[LS_PALETTE_N], fam_hi[LS_PALETTE_N]; /* each curve's observed compute range */
    for (size_t h = 0; h < r->nh; h++) {
        char rb[LS_FMT_LEN];
        ls_fmt_sig(rb, 1000 * r->ratio[h], 3);
        if (r->hi[h] == LS_PALETTE_N) snprintf(lab[h], sizeof lab[h], "new family (prior), D/N = %s", rb);
        else if (r->have_pred)
            snprintf(lab[h], sizeof lab[h], "%.120s (%zu models, D/N = %s)", ls_data_family(d, r->hi[h]), ls_data_family_size(d, r->hi[h]), rb);
        else snprintf(lab[h], sizeof lab[h], "%.120s (%zu models)", ls_data_family(d, r->hi[h]), ls_data_family_size(d, r->hi[h]));
        labels[h] = lab[h];
        colors[h] = r->hi[h] == LS_PALETTE_N ? "#555555" : ls_svg_palette(h);
        fam_lo[h] = INFINITY;
        fam_hi[h] = -INFINITY;
        for (size_t i = 0; i < r->n; i++)
            if ((r->hi[h] == LS_PALETTE_N || ls_data_family_of(d, i) == r->hi[h]) && isfinite(r->lc[i])) {
                fam_lo[h] = fmin(fam_lo[h], r->lc[i]);
                fam_hi[h] = fmax(fam_hi[h], r->lc[i]);
            }
    }
    size_t nl = r->nh;
    labels[nl] = "other families";
    colors[nl++] = GREY;
    /* the legend's height first, drawn into a scratch buffer */
    ls_buf tmp;
    ls_buf_init(&tmp);
    double lh = scores_legend(&tmp, 10, 14, width - 20, labels, colors, r->nh);
    ls_buf_free(&tmp);
    double top = lh + 8, height = top + (double)nrow * chh;
    ls_svg_begin(b, width, height, "svg-scores", "Observed scores against training compute, one panel per benchmark");
    scores_legend(b, 10, 14, width - 20, labels, colors, r->nh);
    double xlo = r->cmin - 0.04 * (r->cmax - r->cmin + 0.5), xhi = r->cmax + 0.04 * (r->cmax - r->cmin + 0.5);
    if (r->have_pred) {
        xlo = fmin(xlo, r->grid_lc[0]);
        xhi = fmax(xhi, r->grid_lc[o->grid - 1]);
    }
    /* a band's opacity falls with the number of bands, so that overlaps stay readable */
    double band_op = r->nh <= 1 ? 0.16 : r->nh == 2 ? 0.11 : 0.06;
    size_t G = o->grid, NG = G + 2;
    double *cx = calloc(NG, sizeof(double)), *cm = calloc(NG, sizeof(double));
    double *cl = calloc(NG, sizeof(double)), *cu = calloc(NG, sizeof(double));
    double *tx = calloc(NG, sizeof(double)), *ty = calloc(NG, sizeof(double)), *tl = calloc(NG, sizeof(double)),
           *tu = calloc(NG, sizeof(double));
    if (!cx || !cm || !cl || !cu || !tx || !ty || !tl || !tu) b->oom = 1;
    for (size_t j = 0; j < J && !b->oom; j++) {
        size_t row = j / cols, col = j % cols;
        ls_svg_panel p;
        double x0 = (double)col * cw + ml, y0 = top + (double)row * chh + mt;
        ls_svg_panel_init(&p, b, x0, y0, pw, ph, xlo, xhi, 0, 1);
        int low = r->pr->phi[j] < LOW_PHI;
        ls_buf_printf(b, "<g class=\"panel\" data-benchmark=\"");
        ls_buf_escape(b, ls_data_benchmark(d, j));
        ls_buf_printf(b, "\"%s>\n", low ? " data-low-precision=\"1\"" : "");
        if (low) {
            char fl[120], pb[LS_FMT_LEN];
            ls_svg_text(b, x0 + pw / 2, y0 - 20, "middle", 12, 0, 1, ls_data_benchmark(d, j));
            snprintf(fl, sizeof fl, "\xe2\x9a\xa0 low precision: phi = %s < 5", ls_fmt_fixed(pb, r->pr->phi[j], 1));
            ls_buf_puts(b, "<g class=\"low-precision\" fill=\"#b35900\">");
            ls_svg_text(b, x0 + pw / 2, y0 - 6, "middle", 10.5, 0, 1, fl);
            ls_buf_puts(b, "</g>\n");
        } else ls_svg_text(b, x0 + pw / 2, y0 - 8, "middle", 12, 0, 1, ls_data_benchmark(d, j));
        ls_svg_axes(&p, LS_AXIS_LOG10, LS_AXIS_LINEAR, row == nrow - 1 || j + cols >= J ? "training compute C (FLOPs)" : NULL,
                    col == 0 ? "score (0 to 1)" : NULL);
        double fl = ls_data_floor(d, j), ce = r->pr->ceiling[j]; /* fixed or estimated */
        if (fl > 0) {
            double fx[2] = {xlo, xhi}, fy[2] = {fl, fl};
            ls_svg_polyline(&p, fx, fy, 2, "#777777", 1, "2 3");
        }
        if (ce < 1) {
            double fx[2] = {xlo, xhi}, fy[2] = {ce, ce};
            ls_svg_polyline(&p, fx, fy, 2, "#777777", 1, "2 3");
        }
        /* bands first (under everything), over each family's observed compute only */
        for (size_t h = 0; r->have_pred && h < r->nh; h++) {
            double a = fmax(fam_lo[h], r->grid_lc[0]), z = fmin(fam_hi[h], r->grid_lc[G - 1]);
            if (!(z > a)) continue;
            size_t m = 0;
            for (size_t g = 0; g < G; g++) {
                size_t c = (h * G + g) * J + j;
                cx[g] = r->grid_lc[g]; cm[g] = r->pmean[c]; cl[g] = r->plower[c]; cu[g] = r->pupper[c];
            }
            tx[m] = a; tl[m] = interp(cx, cl, G, a); tu[m++] = interp(cx, cu, G, a);
            for (size_t g = 0; g < G; g++)
                if (cx[g] > a && cx[g] < z) { tx[m] = cx[g]; tl[m] = cl[g]; tu[m++] = cu[g]; }
            tx[m] = z; tl[m] = interp(cx, cl, G, z); tu[m++] = interp(cx, cu, G, z);
            ls_buf_printf(b, "<g class=\"band\" data-family=\"%zu\">\n", h);
            ls_svg_band(&p, tx, tl, tu, m, colors[h], band_op);
            if (r->nh >= 2) { /* with several bands, thin edges tell them apart */
                ls_buf_puts(b, "<g stroke-opacity=\"0.5\">\n");
                ls_svg_polyline(&p, tx, tl, m, colors[h], 0.7, NULL);
                ls_svg_polyline(&p, tx, tu, m, colors[h], 0.7, NULL);
                ls_buf_puts(b, "</g>\n");
            }
            ls_buf_puts(b, "</g>\n");
        }
        /* the other families first, in grey, then the highlighted ones with their markers */
        for (int pass = 0; pass < 2; pass++)
            for (size_t i = 0; i < r->n; i++) {
                double y = r->y[i * J + j];
                if (isnan(y) || isnan(r->lc[i])) continue;
                size_t h = r->nh;
                for (size_t k = 0; k < r->nh; k++)
                    if (r->hi[k] == ls_data_family_of(d, i)) h = k;
                if ((h < r->nh) != pass) continue;
                if (h == r->nh) ls_svg_point(&p, r->lc[i], y, 1.8, GREY, 0.55, NULL);
                else {
                    char tt[400], yb[LS_FMT_LEN], cb[LS_FMT_LEN];
                    snprintf(tt, sizeof tt, "%.150s (%.150s): %s at 10^%s FLOPs", ls_data_model(d, i),
                             ls_data_family(d, ls_data_family_of(d, i)), ls_fmt_fixed(yb, y, 3), ls_fmt_fixed(cb, r->lc[i], 2));
                    ls_svg_marker(&p, r->lc[i], y, h, 3.2, colors[h], 0.9, tt);
                }
            }
        /* curves: solid over the family's observed compute, dashed beyond it,
         * a vertical mark at each edge of that range */
        for (size_t h = 0; r->have_pred && h < r->nh; h++) {
            for (size_t g = 0; g < G; g++) {
                size_t c = (h * G + g) * J + j;
                cx[g] = r->grid_lc[g]; cm[g] = r->pmean[c];
            }
            double a = fmax(fam_lo[h], r->grid_lc[0]), z = fmin(fam_hi[h], r->grid_lc[G - 1]);
            int has_range = isfinite(a) && isfinite(z) && z >= a;
            ls_buf_printf(b, "<g class=\"curve\" data-family=\"%zu\" data-marker=\"%zu\">\n", h, h % LS_MARKERS_N);
            if (has_range && z > a) { /* the fitted stretch */
                size_t m = 0;
                tx[m] = a; ty[m++] = interp(cx, cm, G, a);
                for (size_t g = 0; g < G; g++)
                    if (cx[g] > a && cx[g] < z) { tx[m] = cx[g]; ty[m++] = cm[g]; }
                tx[m] = z; ty[m++] = interp(cx, cm, G, z);
                ls_svg_polyline(&p, tx, ty, m, colors[h], 2, NULL);
                double mid = 0.5 * (a + z);
                ls_svg_marker(&p, mid, interp(cx, cm, G, mid), h, 3.8, colors[h], 1, NULL);
            }
            /* extrapolation below and above the family's range */
            ls_buf_puts(b, "<g class=\"extrapolation\">\n");
            for (int side = 0; side < 2; side++) {
                size_t m = 0;
                double edge = has_range ? (side ? z : a) : (side ? r->grid_lc[G - 1] : r->grid_lc[0]);
                if (!has_range && side) break; /* no observed compute: one dashed curve */
                if (!has_range) {
                    for (size_t g = 0; g < G; g++) { tx[m] = cx[g]; ty[m++] = cm[g]; }
                } else if (side == 0) {
                    for (size_t g = 0; g < G && cx[g] < edge; g++) { tx[m] = cx[g]; ty[m++] = cm[g]; }
                    if (m) { tx[m] = edge; ty[m++] = interp(cx, cm, G, edge); }
                } else {
                    tx[m] = edge; ty[m++] = interp(cx, cm, G, edge);
                    for (size_t g = 0; g < G; g++)
                        if (cx[g] > edge) { tx[m] = cx[g]; ty[m++] = cm[g]; }
                    if (m == 1) m = 0;
                }
                if (m >= 2) ls_svg_polyline(&p, tx, ty, m, colors[h], 1.4, "5 3");
            }
            ls_buf_puts(b, "</g>\n");
            if (has_range && r->hi[h] != LS_PALETTE_N) {
                ls_buf_puts(b, "<g class=\"range-mark\">\n");
                for (int side = 0; side < (z > a ? 2 : 1); side++) {
                    double e = side ? z : a, px = ls_svg_px(&p, e), py = ls_svg_py(&p, interp(cx, cm, G, e));
                    ls_svg_line(b, px, py - 7, px, py + 7, colors[h], 1.6, NULL);
                }
                ls_buf_puts(b, "</g>\n");
            }
            ls_buf_puts(b, "</g>\n");
        }
        ls_buf_puts(b, "</g>\n");
    }
    free(cx); free(cm); free(cl); free(cu); free(tx); free(ty); free(tl); free(tu);
    ls_svg_end(b);
    if (!r->have_pred) fig_note(b, r->pred_note[0] ? r->pred_note : "no curves");
    char cap[2000], lv[LS_FMT_LEN];
    ls_fmt_fixed(lv, 100 * o->level, 0);
    const char *lowcap = any_low ? " Panel titles flag low-precision benchmarks (phi < 5): their scores scatter widely "
                                   "about the curve, so a single score says little." : "";
    char calcap[256] = "";
    size_t ncal = 0, mcal = 0;
    if (r->have_pred && ls_result_number(r->pred, "calibrated") > 0 && ls_fit_calibration(r->f, &ncal, &mcal, NULL))
        snprintf(calcap, sizeof calcap,
                 " The bands' ends and the curves' medians are taken at calibrated levels: the predictive CDF values "
                 "of %zu held-out largest siblings (%zu cells) per benchmark (the medians shrunk towards the pooled ones; the fit's calibration).",
                 mcal, ncal);
    if (r->have_pred)
        snprintf(cap, sizeof cap,
                 "Points: observed scores of every model against its training compute C = 6ND FLOPs "
                 "(N parameters, D training tokens, from the size and tokens columns); highlighted families in "
                 "colour, each with its own marker, the others grey. Curves: the predictive mean score of a hypothetical model of the "
                 "highlighted family (a new family drawn from the prior N(0, Sigma) for the grey curve) at "
                 "compute C, with its tokens per parameter D/N fixed at the family's median (legend); solid over the "
                 "compute range of the family's own models (between the vertical marks), dashed where it is "
                 "extrapolated beyond them. Bands (thin edges when there are several), drawn over that range only: "
                 "central %s%% predictive intervals, integrating the family posterior, the uncertainty of the "
                 "estimates (%zu parameter draws x %zu family draws, seed %llu) and Beta noise (ls_predict).%s "
                 "Dotted lines: guessing floors (and ceilings).%s",
                 lv, ls_result_number(r->pred, "param_uncertainty") > 0 ? o->param_draws : (size_t)0, o->latent_draws,
                 (unsigned long long)o->seed, calcap, lowcap);
    else
        snprintf(cap, sizeof cap,
                 "Points: observed scores of every model against its training compute C = 6ND FLOPs "
                 "(N parameters, D training tokens); highlighted families in colour, each with its own marker, the others grey. "
                 "Dotted lines: guessing floors (and ceilings).%s", lowcap);
    fig_end(b, cap);
}

/* ================================================================ */
/* Figures 2 and 3: loadings and skill correlations                  */
/* ================================================================ */

/* rows x cols heatmap of v (row-major) with a diverging scale over
 * [-vmax, vmax] (clipped: some |v| beyond it, marked), the standard errors
 * (may be NULL) printed under the estimates, and the fixed entries (may be
 * NULL) hatched grey, not coloured, with a legend entry fixed_label. */
static void heatmap(ls_buf *b, const char *id, const char *title, const double *v, size_t rows,
                    size_t cols, char *const *rlab, char *const *clab, double vmax, const char *clip_label,
                    const char *scale_label, const double *se, const unsigned char *fixed, const char *fixed_label)
{
    const double cw = 60, chh = 38, ml = 150, mt = 96;
    double cbh = fmax(110, (double)rows * chh - 2);
    int any_fixed = 0, any_clip = 0;
    for (size_t i = 0; i < rows * cols; i++) {
        any_fixed |= fixed && fixed[i];
        any_clip |= !(fixed && fixed[i]) && fabs(v[i]) > vmax * (1 + 1e-9);
    }
    if (!clip_label) any_clip = 0;
    double ly = mt + fmax((double)rows * chh, cbh) + 22, nleg = (double)any_fixed + (double)any_clip;
    double width = ml + (double)cols * cw + 100, height = ly + 18 * nleg + 6;
    if (any_fixed) width = fmax(width, 40 + 6.3 * (double)strlen(fixed_label) + 30);
    if (any_clip) width = fmax(width, 40 + 6.3 * (double)strlen(clip_label) + 30);
    ls_svg_begin(b, width, height, id, title);
    ls_buf_printf(b, "<defs><pattern id=\"hatch-%s\" patternUnits=\"userSpaceOnUse\" width=\"6\" height=\"6\" "
                     "patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#ececec\"/>"
                     "<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#a8a8a8\" stroke-width=\"2\"/></pattern></defs>\n", id);
    char hatch[80];
    snprintf(hatch, sizeof hatch, "url(#hatch-%s)", id);
    for (size_t c = 0; c < cols; c++)
        ls_svg_text(b, ml + ((double)c + 0.5) * cw + 4, mt - 8, "start", 11, -45, 0, clab[c]);
    for (size_t rr = 0; rr < rows; rr++) {
        ls_svg_text(b, ml - 8, mt + ((double)rr + 0.5) * chh + 4, "end", 11, 0, 0, rlab[rr]);
        for (size_t c = 0; c < cols; c++) {
            size_t i = rr * cols + c;
            double x = v[i], t = x / vmax, cx = ml + ((double)c + 0.5) * cw - 1, cy = mt + ((double)rr + 0.5) * chh;
            double x0 = ml + (double)c * cw, y0 = mt + (double)rr * chh;
            char col[8], tip[300], xb[LS_FMT_LEN], sb[LS_FMT_LEN];
            if (fixed && fixed[i]) {
                snprintf(tip, sizeof tip, "%.100s, %.100s: fixed at %s (not estimated)", rlab[rr], clab[c], ls_fmt_sig(xb, x, 4));
                ls_buf_puts(b, "<g class=\"fixed-entry\">\n");
                ls_svg_rect(b, x0, y0, cw - 2, chh - 2, hatch, "#9a9a9a", tip);
                ls_buf_puts(b, "<g fill=\"#444444\">");
                ls_svg_text(b, cx, cy - 1, "middle", 11, 0, 1, ls_fmt_sig(xb, x, 3));
                ls_svg_text(b, cx, cy + 12, "middle", 9, 0, 0, "fixed");
                ls_buf_puts(b, "</g>\n</g>\n");
                continue;
            }
            ls_svg_diverging(t, col);
            int has_se = se && isfinite(se[i]) && se[i] > 0;
            if (has_se)
                snprintf(tip, sizeof tip, "%.100s, %.100s: %s (se %s)", rlab[rr], clab[c], ls_fmt_sig(xb, x, 4),
                         ls_fmt_sig(sb, se[i], 3));
            else snprintf(tip, sizeof tip, "%.100s, %.100s: %s", rlab[rr], clab[c], ls_fmt_sig(xb, x, 4));
            ls_svg_rect(b, x0, y0, cw - 2, chh - 2, col, NULL, tip);
            ls_buf_puts(b, fabs(t) > 0.6 ? "<g fill=\"#ffffff\">" : "<g fill=\"#111111\">");
            ls_svg_text(b, cx, has_se ? cy - 1 : cy + 4, "middle", 11, 0, 0, ls_fmt_fixed(xb, x, 2));
            if (has_se) {
                char sp[LS_FMT_LEN + 4];
                snprintf(sp, sizeof sp, "(%s)", ls_fmt_sig(sb, se[i], 2));
                ls_buf_puts(b, "<g class=\"se\">");
                ls_svg_text(b, cx, cy + 12, "middle", 9, 0, 0, sp);
                ls_buf_puts(b, "</g>");
            }
            ls_buf_puts(b, "</g>\n");
            if (clip_label && fabs(x) > vmax * (1 + 1e-9)) {
                double xr = x0 + cw - 2;
                ls_buf_puts(b, "<path class=\"clipped\" fill=\"#111111\" d=\"M");
                ls_buf_num(b, xr - 11, 1); ls_buf_puts(b, " "); ls_buf_num(b, y0, 1);
                ls_buf_puts(b, "L"); ls_buf_num(b, xr, 1); ls_buf_puts(b, " "); ls_buf_num(b, y0, 1);
                ls_buf_puts(b, "L"); ls_buf_num(b, xr, 1); ls_buf_puts(b, " "); ls_buf_num(b, y0 + 11, 1);
                ls_buf_puts(b, "Z\"/>\n");
            }
        }
    }
    ls_svg_colorbar(b, ml + (double)cols * cw + 24, mt, 16, cbh, vmax, scale_label);
    ls_buf_puts(b, "<g class=\"legend\">\n");
    if (any_fixed) {
        ls_svg_rect(b, 40, ly - 7, 20, 13, hatch, "#9a9a9a", NULL);
        ls_svg_text(b, 66, ly + 4, "start", 11, 0, 0, fixed_label);
        ly += 18;
    }
    if (any_clip) {
        ls_buf_puts(b, "<path class=\"clipped\" fill=\"#111111\" d=\"M42 ");
        ls_buf_num(b, ly - 6, 1);
        ls_buf_puts(b, "L56 ");
        ls_buf_num(b, ly - 6, 1);
        ls_buf_puts(b, "L56 ");
        ls_buf_num(b, ly + 8, 1);
        ls_buf_puts(b, "Z\"/>\n");
        ls_svg_text(b, 66, ly + 4, "start", 11, 0, 0, clip_label);
    }
    ls_buf_puts(b, "</g>\n");
    ls_svg_end(b);
}

static void figure_loadings(rep *r, ls_buf *b, char **skills)
{
    const ls_params *pr = r->pr;
    const double *se = ls_fit_se(r->f, LS_SE_HESSIAN);
    size_t K = r->K, J = r->J;
    /* identification: the other skills' loadings on a skill's anchor are fixed at 0 */
    unsigned char *fixed = calloc(K * J + 1, 1);
    if (!fixed) { b->oom = 1; return; }
    for (size_t k = 0; k < K; k++)
        for (size_t l = 0; l < K; l++)
            if (l != k && pr->anchors[l] < J) fixed[k * J + pr->anchors[l]] = 1;
    int clipped = 0;
    double vmax = ls_svg_robust_max(pr->lambda, K, J, fixed, &clipped);
    char clip[600] = "", vb[LS_FMT_LEN], mb[LS_FMT_LEN];
    if (clipped) {
        /* the benchmarks beyond the scale, named with their largest |loading| */
        int len = snprintf(clip, sizeof clip, "colour scale clipped at \xc2\xb1%s (%.0f x the median over benchmarks of "
                           "the largest |loading|); beyond it:", ls_fmt_sig(vb, vmax, 2), LS_SVG_CLIP);
        for (size_t j = 0, first = 1; j < J && len > 0 && (size_t)len < sizeof clip - 60; j++) {
            double m = 0;
            for (size_t k = 0; k < K; k++)
                if (!fixed[k * J + j]) m = fmax(m, fabs(pr->lambda[k * J + j]));
            if (m > vmax * (1 + 1e-9)) {
                len += snprintf(clip + len, sizeof clip - (size_t)len, "%s %.40s (%s)", first ? "" : ",", r->bench[j],
                                ls_fmt_sig(mb, m, 3));
                first = 0;
            }
        }
    }
    fig_begin(b, "loadings", 2, "Loadings of the benchmarks on the skills");
    heatmap(b, "svg-loadings", "Loadings heatmap, skills by benchmarks", pr->lambda, K, J, skills, r->bench,
            vmax, clipped ? clip : NULL, clipped ? "loading (clipped)" : "loading",
            se ? se + r->lay[LS_NAT_LAMBDA] : NULL, fixed, "fixed at 0 for identification (not estimated)");
    free(fixed);
    char cap[1200];
    snprintf(cap, sizeof cap,
             "Loadings lambda_kj (rows: skills, named by their anchor benchmark; columns: benchmarks) on a "
             "diverging scale symmetric about 0 (legend), %s; standard errors in parentheses%s. A skill's anchor "
             "loading is positive and the other skills' loadings on an anchor benchmark are fixed at 0 for "
             "identification: those cells are hatched grey and marked \"fixed\".",
             clipped ? "clipped so that an extreme benchmark does not wash out the others (cells beyond the scale "
                       "carry a black corner)" : "reaching the largest |loading|",
             se ? " (inverse observed information)" : " would appear under the estimates, but this fit has none");
    fig_end(b, cap);
}

static void figure_correlations(rep *r, ls_buf *b, char **skills)
{
    const ls_params *pr = r->pr;
    const double *se = ls_fit_se(r->f, LS_SE_HESSIAN);
    size_t K = r->K;
    unsigned char *fixed = calloc(K * K + 1, 1);
    if (!fixed) { b->oom = 1; return; }
    for (size_t k = 0; k < K; k++) fixed[k * K + k] = 1;
    fig_begin(b, "correlations", 3, "Skill correlation matrix");
    heatmap(b, "svg-correlations", "Skill correlation matrix Sigma", pr->sigma, K, K, skills, skills, 1, NULL,
            "correlation", se ? se + r->lay[LS_NAT_SIGMA] : NULL, fixed, "fixed at 1 (a correlation matrix)");
    free(fixed);
    fig_end(b, "Sigma, the correlation matrix of the family skills alpha_f ~ N(0, Sigma), with the estimates and "
               "their standard errors (in parentheses) in the cells; colour scale from -1 (blue) to 1 (red); the "
               "diagonal is fixed at 1 (hatched).");
}

/* ================================================================ */
/* Figure 4: information criteria against K                          */
/* ================================================================ */

/* Under figure 4: the configuration select chose by the sibling MAE
 * (select --select-interaction / --select-ceilings), its table a row per
 * K and configuration, the choice marked. */
static void selection_configuration(const rep *r, ls_buf *b)
{
    size_t nk = 0, nc = 0;
    const double *m = ls_result_numbers(r->sel, "select_sibling_mae", &nk, &nc);
    const double *ks = ls_result_numbers(r->sel, "select_skills", NULL, NULL);
    const double *df = ls_result_numbers(r->sel, "select_mae_difference", NULL, NULL);
    const double *se = ls_result_numbers(r->sel, "select_mae_difference_se", NULL, NULL);
    const double *cv = ls_result_numbers(r->sel, "select_converged", NULL, NULL);
    const char *ch_cov = ls_result_string(r->sel, "selected_covariates", 0);
    const char *ch_ceil = ls_result_string(r->sel, "selected_ceilings", 0);
    if (!m || !ks || !df || !se || !cv || !ch_cov || !ch_ceil) return;
    double ch_k = ls_result_number(r->sel, "selected_skills");
    char vb[LS_FMT_LEN];
    ls_buf_printf(b, "<h3>Configuration chosen by extrapolation to a larger sibling: K = %.0f, covariates ", ch_k);
    ls_buf_escape(b, ch_cov);
    ls_buf_puts(b, ", ceilings estimated: ");
    ls_buf_escape(b, *ch_ceil ? ch_ceil : "none");
    ls_buf_puts(b, "</h3>\n");
    const char *cand = ls_result_string(r->sel, "select_ceiling_candidates", 0);
    if (cand) {
        ls_buf_puts(b, "<p class=\"note\">Ceiling screen: ");
        ls_buf_escape(b, cand);
        ls_buf_puts(b, "</p>\n");
    }
    ls_buf_puts(b, "<table>\n<tr><th>K</th><th class=\"l\">covariates</th><th class=\"l\">ceilings</th>"
                   "<th>sibling MAE</th><th>difference</th><th>its se</th><th class=\"l\"></th></tr>\n");
    for (size_t c = 0; c < nc; c++)
        for (size_t a = 0; a < nk; a++) {
            size_t q = a * nc + c;
            const char *cn = ls_result_string(r->sel, "select_covariates", c);
            const char *ce = ls_result_string(r->sel, "select_ceilings", c);
            int chosen = ks[a] == ch_k && cn && ce && strcmp(cn, ch_cov) == 0 && strcmp(ce, ch_ceil) == 0;
            ls_buf_printf(b, "<tr%s><td>%.0f</td><td class=\"l\">", chosen ? " class=\"chosen\"" : "", ks[a]);
            ls_buf_escape(b, cn ? cn : "");
            ls_buf_puts(b, "</td><td class=\"l\">");
            ls_buf_escape(b, ce && *ce ? ce : "none");
            /* four decimals, as the command prints them (NaN: a dash) */
            const double v3[3] = {m[q], df[q], se[q]};
            ls_buf_puts(b, "</td>");
            for (int i = 0; i < 3; i++) {
                if (isfinite(v3[i])) snprintf(vb, sizeof vb, i == 1 ? "%+.4f" : "%.4f", v3[i]);
                else snprintf(vb, sizeof vb, "-");
                ls_buf_printf(b, "<td>%s</td>", vb);
            }
            ls_buf_printf(b, "<td class=\"l\">%s%s</td></tr>\n", chosen ? "chosen" : "",
                          cv[q] == 0 ? " (not converged)" : "");
        }
    ls_buf_puts(b, "</table>\n");
    fig_note(b, "Sibling MAE: every family's largest model held out and predicted from the other rows (MAE of the "
                "predictive median); the difference from the smallest is paired over those families. The choice: "
                "the fewest ceilings whose MAE is within one standard error of the smallest, then the smallest. "
                "evaluate --select makes the same choice inside its training rows.");
}

static void figure_selection(rep *r, ls_buf *b)
{
    fig_begin(b, "selection", 4, "Choosing the number of skills");
    if (!r->nsel) {
        fig_note(b, "Figure omitted: no selection table was given (latentscale select DATA --out select.json, then "
                    "report --select select.json).");
        fig_end(b, NULL);
        return;
    }
    size_t np = r->have_cv ? 2 : 1;
    const double pw = 330, ph = 220, ml = 76, mt = 44, cw = pw + ml + 30;
    double width = (double)np * cw + 10, height = mt + ph + 50;
    ls_svg_begin(b, width, height, "svg-selection", "AIC, BIC and cross-validated log-likelihood against K");
    double klo = r->sel_k[0], khi = r->sel_k[0];
    for (size_t i = 0; i < r->nsel; i++) { klo = fmin(klo, r->sel_k[i]); khi = fmax(khi, r->sel_k[i]); }
    klo -= 0.3;
    khi += 0.3;
    double fitk = (double)r->K;
    for (size_t q = 0; q < np; q++) {
        const double *s1 = q ? r->sel_cv : r->sel_aic, *s2 = q ? NULL : r->sel_bic;
        double lo = INFINITY, hi = -INFINITY;
        for (size_t i = 0; i < r->nsel; i++) {
            if (isfinite(s1[i])) { lo = fmin(lo, s1[i]); hi = fmax(hi, s1[i]); }
            if (s2 && isfinite(s2[i])) { lo = fmin(lo, s2[i]); hi = fmax(hi, s2[i]); }
        }
        if (!isfinite(lo)) { lo = 0; hi = 1; }
        double pad = 0.08 * (hi - lo > 0 ? hi - lo : fabs(hi) + 1);
        ls_svg_panel p;
        double x0 = (double)q * cw + ml;
        ls_svg_panel_init(&p, b, x0, mt, pw, ph, klo, khi, lo - pad, hi + pad);
        ls_svg_axes(&p, LS_AXIS_INTEGER, LS_AXIS_LINEAR, "number of skills K",
                    q ? "held-out log-likelihood" : "criterion (lower is better)");
        if (fitk >= klo && fitk <= khi) {
            double vx[2] = {fitk, fitk}, vy[2] = {lo - pad, hi + pad};
            ls_svg_polyline(&p, vx, vy, 2, "#999999", 1, "4 3");
        }
        const char *c1 = q ? ls_svg_palette(2) : ls_svg_palette(0), *c2 = ls_svg_palette(1);
        ls_svg_polyline(&p, r->sel_k, s1, r->nsel, c1, 2, NULL);
        if (s2) ls_svg_polyline(&p, r->sel_k, s2, r->nsel, c2, 2, "6 3");
        /* the rings: the selection's own choices (ls_select: the best converged K) */
        size_t b1 = (size_t)(q ? r->sel_best[2] : r->sel_best[0]), b2 = (size_t)r->sel_best[1];
        for (size_t i = 0; i < r->nsel; i++) {
            char tt[160], vb[LS_FMT_LEN];
            /* faded: the fit (or, for the held-out panel, a fold's refit) did not converge */
            int shaky = (r->sel_conv && r->sel_conv[i] == 0) ||
                        (q && r->sel_refits && r->sel_refits_no && r->sel_refits_no[i] > 0);
            double op = shaky ? 0.3 : 1;
            const char *nc = shaky ? " (not converged)" : "";
            snprintf(tt, sizeof tt, "K = %.0f: %s %s%s", r->sel_k[i], q ? "held-out log-likelihood" : "AIC",
                     ls_fmt_sig(vb, s1[i], 7), nc);
            ls_svg_point(&p, r->sel_k[i], s1[i], 3.5, c1, op, tt);
            if (s2) {
                snprintf(tt, sizeof tt, "K = %.0f: BIC %s%s", r->sel_k[i], ls_fmt_sig(vb, s2[i], 7), nc);
                ls_svg_point(&p, r->sel_k[i], s2[i], 3.5, c2, op, tt);
            }
        }
        if (b1 < r->nsel && isfinite(s1[b1])) ring(&p, r->sel_k[b1], s1[b1], c1);
        if (s2 && b2 < r->nsel && isfinite(s2[b2])) ring(&p, r->sel_k[b2], s2[b2], c2);
        const char *l2[3] = {"AIC", "BIC", "this fit's K"}, *k2[3] = {c1, c2, "#999999"};
        const char *l1[2] = {"cross-validated (family folds)", "this fit's K"}, *k1[2] = {c1, "#999999"};
        if (q) ls_svg_legend(b, x0, 18, "line", l1, k1, 2, 210, 0);
        else ls_svg_legend(b, x0, 18, "line", l2, k2, 3, 80, 0);
    }
    ls_svg_end(b);
    /* a criterion at a K whose fit or refits did not converge is not to be trusted: say which */
    char nb[600];
    size_t used = 0;
    for (size_t i = 0; i < r->nsel && used + 120 < sizeof nb; i++) {
        int fit_no = r->sel_conv && r->sel_conv[i] == 0;
        int ref_no = r->sel_refits && r->sel_refits_no && r->sel_refits_no[i] > 0;
        if (!fit_no && !ref_no) continue;
        used += (size_t)snprintf(nb + used, sizeof nb - used, "%sK = %.0f: ", used ? "; " : "", r->sel_k[i]);
        if (fit_no) used += (size_t)snprintf(nb + used, sizeof nb - used, "the fit%s", ref_no ? " and " : "");
        if (ref_no)
            used += (size_t)snprintf(nb + used, sizeof nb - used, "%.0f of %.0f refits", r->sel_refits_no[i],
                                     r->sel_refits[i]);
    }
    if (used) {
        char note[800];
        snprintf(note, sizeof note,
                 "Not converged (its criteria are not to be trusted; faded markers): %s. The select run's warnings "
                 "say why.",
                 nb);
        fig_note(b, note);
    }
    selection_configuration(r, b);
    fig_end(b, "Akaike and Bayesian information criteria (lower is better; BIC's penalty uses the number of "
               "families) and, when the selection ran with folds, the held-out log-likelihood of whole families "
               "(higher is better) for each number of skills K; rings mark each criterion's choice among the converged fits, the dashed "
               "vertical line the K of this fit. From the table of latentscale select.");
}

/* ================================================================ */
/* Figure 5: compute-optimal frontiers                               */
/* ================================================================ */

#define LIMIT_GREY "#666666"

/* Legend of figure 5 (b NULL: measure only); returns its height. */
static double frontier_legend(ls_buf *b, double x0, double y0, double width, char **skills, size_t K)
{
    double x = x0, y = y0;
    ls_buf tmp;
    ls_buf_init(&tmp);
    ls_buf *o = b ? b : &tmp;
    for (size_t k = 0; k <= K; k++) {
        const char *lab = k < K ? skills[k] : "limit of the search range (the data's smallest and largest N or D; beyond it shaded)";
        double w = 31 + 6.2 * (double)strlen(lab) + 18;
        if (x > x0 && x + w > x0 + width) { x = x0; y += 18; }
        if (k < K) ls_svg_legend_entry(o, x, y, ls_svg_palette(k), ls_svg_dash(k), k, lab);
        else {
            ls_buf_puts(o, "<g fill-opacity=\"0.07\">");
            ls_svg_rect(o, x, y - 7, 26, 7, "#000000", NULL, NULL);
            ls_buf_puts(o, "</g>\n");
            ls_svg_legend_entry(o, x, y, LIMIT_GREY, NULL, LS_MARKERS_N, lab);
        }
        x += w;
    }
    ls_buf_free(&tmp);
    return y - y0 + 18;
}

static void figure_frontiers(rep *r, ls_buf *b, char **skills)
{
    fig_begin(b, "frontier", 5, "Compute-optimal parameters and tokens per skill");
    if (!r->have_al) {
        char note[LS_ERROR_LEN + 40];
        snprintf(note, sizeof note, "Figure omitted: %s.", r->al_note);
        fig_note(b, note);
        fig_end(b, NULL);
        return;
    }
    const ls_result *a = r->al;
    size_t nb = 0, K = r->K;
    const double *budget = ls_result_numbers(a, "budgets", &nb, NULL);
    const double *size = ls_result_numbers(a, "size", NULL, NULL), *tokens = ls_result_numbers(a, "tokens", NULL, NULL);
    const double *size_lo = ls_result_numbers(a, "size_lo", NULL, NULL), *size_hi = ls_result_numbers(a, "size_hi", NULL, NULL);
    const double *tokens_lo = ls_result_numbers(a, "tokens_lo", NULL, NULL);
    const double *tokens_hi = ls_result_numbers(a, "tokens_hi", NULL, NULL);
    const double pw = 330, ph = 240, ml = 76, cw = pw + ml + 30;
    double width = 2 * cw + 10;
    double lh = frontier_legend(NULL, 10, 14, width - 20, skills, K);
    double mt = lh + 16, height = mt + ph + 50;
    ls_svg_begin(b, width, height, "svg-frontier", "Compute-optimal parameters and tokens against budget");
    frontier_legend(b, 10, 14, width - 20, skills, K);
    double *x = calloc(nb, sizeof(double)), *y = calloc(nb, sizeof(double));
    double *lo = calloc(nb, sizeof(double)), *hi = calloc(nb, sizeof(double));
    if (!x || !y || !lo || !hi) b->oom = 1;
    for (size_t q = 0; q < 2 && !b->oom; q++) {
        const double *v = q ? tokens : size, *vl = q ? tokens_lo : size_lo, *vh = q ? tokens_hi : size_hi;
        double unit = q ? 12 : 9; /* trillions, billions */
        /* the search range's limits (the data's smallest and largest size or tokens) */
        double lim[2] = {ls_result_number(a, q ? "tokens_min" : "size_min"), ls_result_number(a, q ? "tokens_max" : "size_max")};
        double ylo = INFINITY, yhi = -INFINITY;
        for (size_t i = 0; i < K * nb; i++) {
            double l = r->al_intervals ? vl[i] : v[i], h = r->al_intervals ? vh[i] : v[i];
            if (isfinite(l) && l > 0) ylo = fmin(ylo, log10(l) + unit);
            if (isfinite(h) && h > 0) yhi = fmax(yhi, log10(h) + unit);
        }
        for (int s2 = 0; s2 < 2; s2++)
            if (isfinite(lim[s2]) && lim[s2] > 0) {
                ylo = fmin(ylo, log10(lim[s2]) + unit);
                yhi = fmax(yhi, log10(lim[s2]) + unit);
            }
        double pad = 0.07 * (yhi - ylo) + 0.08;
        ls_svg_panel p;
        double x0 = (double)q * cw + ml;
        ls_svg_panel_init(&p, b, x0, mt, pw, ph, log10(budget[0]), log10(budget[nb - 1]), ylo - pad, yhi + pad);
        ls_svg_axes(&p, LS_AXIS_LOG10, LS_AXIS_LOG10, "compute budget C (FLOPs)",
                    q ? "optimal training tokens D" : "optimal parameters N");
        for (int s2 = 0; s2 < 2; s2++) {
            if (!(isfinite(lim[s2]) && lim[s2] > 0)) continue;
            double ly = log10(lim[s2]) + unit, py = ls_svg_py(&p, ly);
            ls_buf_printf(b, "<g class=\"range-limit\" data-limit=\"%s_%s\">\n", q ? "tokens" : "size", s2 ? "max" : "min");
            /* beyond the limit: shaded, the limit itself a thin solid line */
            double ey = s2 ? p.y0 : p.y0 + p.h;
            ls_buf_puts(b, "<g fill-opacity=\"0.07\">");
            ls_svg_rect(b, p.x0, fmin(py, ey), p.w, fabs(ey - py), "#000000", NULL, NULL);
            ls_buf_puts(b, "</g>\n");
            ls_svg_line(b, p.x0, py, p.x0 + p.w, py, LIMIT_GREY, 1.2, NULL);
            long ex = (long)floor(ly);
            char lab[120], mb[LS_FMT_LEN];
            ls_fmt_fixed(mb, pow(10, ly - (double)ex), 1);
            snprintf(lab, sizeof lab, "search limit: %s %s %s\xc3\x97" "10^%ld", s2 ? "largest" : "smallest", q ? "D" : "N", mb, ex);
            ls_buf_puts(b, "<g fill=\"#555555\">");
            ls_svg_text_sup(b, p.x0 + p.w - 4, s2 ? py - 4 : py + 12, "end", 10, lab);
            ls_buf_puts(b, "</g>\n</g>\n");
        }
        for (size_t k = 0; k < K; k++) {
            for (size_t i = 0; i < nb; i++) {
                size_t c = k * nb + i;
                x[i] = log10(budget[i]);
                y[i] = v[c] > 0 ? log10(v[c]) + unit : NAN;
                lo[i] = vl[c] > 0 ? log10(vl[c]) + unit : NAN;
                hi[i] = vh[c] > 0 ? log10(vh[c]) + unit : NAN;
            }
            if (r->al_intervals) ls_svg_band(&p, x, lo, hi, nb, ls_svg_palette(k), K > 2 ? 0.08 : 0.12);
        }
        /* lines over the bands; each skill its dash and its markers, the
         * markers staggered so that lines on top of each other stay apart */
        for (size_t k = 0; k < K; k++) {
            for (size_t i = 0; i < nb; i++) {
                x[i] = log10(budget[i]);
                y[i] = v[k * nb + i] > 0 ? log10(v[k * nb + i]) + unit : NAN;
            }
            ls_buf_printf(b, "<g class=\"skill-line\" data-skill=\"%zu\" data-dash=\"%s\" data-marker=\"%zu\">\n", k + 1,
                          ls_svg_dash(k) ? ls_svg_dash(k) : "solid", k % LS_MARKERS_N);
            ls_svg_polyline(&p, x, y, nb, ls_svg_palette(k), 2, ls_svg_dash(k));
            for (size_t i = (2 * k) % 6; i < nb; i += 6) ls_svg_marker(&p, x[i], y[i], k, 3.6, ls_svg_palette(k), 1, NULL);
            ls_buf_puts(b, "</g>\n");
        }
    }
    free(x); free(y); free(lo); free(hi);
    ls_svg_end(b);
    char cap[900], lv[LS_FMT_LEN];
    ls_fmt_fixed(lv, 100 * r->o->level, 0);
    if (r->al_intervals)
        snprintf(cap, sizeof cap,
                 "For each skill, the number of parameters N (left) and training tokens D (right) that maximise "
                 "the skill at compute budget C = 6ND, searched inside the data's ranges of size and tokens "
                 "(ls_optimal; log-log axes; each skill its colour, dash and marker). Bands: central %s%% intervals "
                 "from %zu draws of the estimates (seed %llu). Thin grey lines: the limits of the search range, shaded "
                 "beyond; a line that runs along one sits on the boundary, where the data say nothing beyond.",
                 lv, r->o->optimal_draws, (unsigned long long)r->o->seed);
    else
        snprintf(cap, sizeof cap,
                 "For each skill, the number of parameters N (left) and training tokens D (right) that maximise "
                 "the skill at compute budget C = 6ND, searched inside the data's ranges of size and tokens "
                 "(ls_optimal; log-log axes; each skill its colour, dash and marker). Thin grey lines: the limits "
                 "of the search range, shaded beyond. No intervals: the fit has no covariance of the estimates, or "
                 "--optimal-draws is 0.");
    fig_end(b, cap);
}

/* ================================================================ */
/* Figure 6: family comparison                                       */
/* ================================================================ */

static void figure_compare(rep *r, ls_buf *b, char **skills)
{
    char title[600];
    const ls_data *d = r->d;
    if (!r->o->compare) {
        fig_begin(b, "compare", 6, "Family comparison");
        fig_note(b, "Figure omitted: no families to compare (--compare A,B).");
        fig_end(b, NULL);
        return;
    }
    snprintf(title, sizeof title, "Family comparison: %.250s against %.250s", ls_data_family(d, r->fa), ls_data_family(d, r->fb));
    fig_begin(b, "compare", 6, title);
    if (!r->have_cmp) {
        fig_note(b, r->cmp_note);
        fig_end(b, NULL);
        return;
    }
    const ls_result *c = r->cmp;
    size_t K = 0;
    const double *lower = ls_result_numbers(c, "lower", &K, NULL), *upper = ls_result_numbers(c, "upper", NULL, NULL);
    const double *diff = ls_result_numbers(c, "diff", NULL, NULL);
    const double *prob_greater = ls_result_numbers(c, "prob_greater", NULL, NULL);
    const double ml = 160, pw = 420, mt = 30, rh = 34;
    double width = ml + pw + 170, height = mt + (double)K * rh + 50;
    double lo = 0, hi = 0;
    for (size_t k = 0; k < K; k++) {
        if (isfinite(lower[k])) lo = fmin(lo, lower[k]);
        if (isfinite(upper[k])) hi = fmax(hi, upper[k]);
    }
    double pad = 0.08 * (hi - lo) + 0.05;
    ls_svg_begin(b, width, height, "svg-compare", "Forest plot of per-skill differences between two families");
    ls_svg_panel p;
    ls_svg_panel_init(&p, b, ml, mt, pw, (double)K * rh, lo - pad, hi + pad, 0, (double)K);
    /* the y axis is categorical: draw the frame and x ticks only */
    ls_buf_puts(b, "<g class=\"axes\">\n");
    ls_svg_rect(b, p.x0, p.y0, p.w, p.h, "#ffffff", NULL, NULL);
    double t[LS_MAX_TICKS], step;
    size_t n = ls_svg_ticks(p.xlo, p.xhi, 6, t, &step);
    int dec = ls_svg_step_decimals(step);
    for (size_t i = 0; i < n; i++) {
        double x = ls_svg_px(&p, t[i]);
        char tb[LS_FMT_LEN];
        ls_svg_line(b, x, p.y0, x, p.y0 + p.h, "#e4e4e4", 1, NULL);
        ls_svg_line(b, x, p.y0 + p.h, x, p.y0 + p.h + 4, "#444444", 1, NULL);
        ls_svg_text(b, x, p.y0 + p.h + 15, "middle", 10, 0, 0, ls_fmt_fixed(tb, t[i], dec));
    }
    ls_svg_rect(b, p.x0, p.y0, p.w, p.h, NULL, "#444444", NULL);
    char xl[600];
    snprintf(xl, sizeof xl, "difference in skill, %.250s minus %.250s", ls_data_family(d, r->fa), ls_data_family(d, r->fb));
    ls_svg_text(b, p.x0 + p.w / 2, p.y0 + p.h + 33, "middle", 11, 0, 0, xl);
    ls_buf_puts(b, "</g>\n");
    double zx = ls_svg_px(&p, 0);
    ls_svg_line(b, zx, p.y0, zx, p.y0 + p.h, "#555555", 1, "4 3");
    ls_svg_text(b, ml + pw + 12, mt - 10, "start", 11, 0, 1, "P(A > B)");
    for (size_t k = 0; k < K; k++) {
        double yc = mt + ((double)k + 0.5) * rh;
        char tb[LS_FMT_LEN], lb[LS_FMT_LEN], ub[LS_FMT_LEN], tip[300];
        ls_svg_text(b, ml - 10, yc + 4, "end", 11, 0, 0, skills[k]);
        double x1 = ls_svg_px(&p, lower[k]), x2 = ls_svg_px(&p, upper[k]);
        ls_svg_rect(b, x1, yc - 1, x2 - x1, 2, "#0072B2", NULL, NULL);    /* interval */
        ls_svg_rect(b, x1 - 1, yc - 6, 2, 12, "#0072B2", NULL, NULL);    /* caps */
        ls_svg_rect(b, x2 - 1, yc - 6, 2, 12, "#0072B2", NULL, NULL);
        snprintf(tip, sizeof tip, "%s: difference %s [%s, %s]", skills[k], ls_fmt_sig(tb, diff[k], 3),
                 ls_fmt_sig(lb, lower[k], 3), ls_fmt_sig(ub, upper[k], 3));
        ls_svg_point(&p, diff[k], (double)K - (double)k - 0.5, 4.5, "#0072B2", 1, tip);
        ls_buf_printf(b, "<g class=\"prob-greater\" data-skill=\"%zu\" data-value=\"%s\">", k + 1,
                      ls_fmt_sig(tb, prob_greater[k], 9));
        ls_svg_text(b, ml + pw + 12, yc + 4, "start", 11, 0, 0, ls_fmt_fixed(tb, prob_greater[k], 3));
        ls_buf_puts(b, "</g>\n");
    }
    ls_svg_end(b);
    char cap[900], lv[LS_FMT_LEN];
    ls_fmt_fixed(lv, 100 * ls_result_number(c, "level"), 0);
    snprintf(cap, sizeof cap,
             "Posterior of alpha_A - alpha_B per skill for A = %.200s and B = %.200s (ls_compare): points are "
             "posterior means, bars central %s%% intervals, integrating both family posteriors and the "
             "uncertainty of the estimates (%zu parameter draws x %zu family draws, seed %llu); right: the "
             "posterior probability that A's skill is larger.",
             ls_data_family(d, r->fa), ls_data_family(d, r->fb), lv, r->o->param_draws, r->o->latent_draws,
             (unsigned long long)r->o->seed);
    fig_end(b, cap);
}

/* ================================================================ */
/* The fit table                                                     */
/* ================================================================ */

static void td_num(ls_buf *b, double v, const double *se, size_t i)
{
    char vb[LS_FMT_LEN], sb[LS_FMT_LEN];
    ls_buf_printf(b, "<td>%s", ls_fmt_sig(vb, v, 4));
    if (se && isfinite(se[i]) && se[i] > 0) ls_buf_printf(b, " <span class=\"se\">(%s)</span>", ls_fmt_sig(sb, se[i], 2));
    ls_buf_puts(b, "</td>");
}

static void th_text(ls_buf *b, const char *cls, const char *s)
{
    ls_buf_printf(b, "<th%s>", cls ? cls : "");
    ls_buf_escape(b, s);
    ls_buf_puts(b, "</th>");
}

static void kv_row(ls_buf *b, const char *k, const char *v)
{
    ls_buf_puts(b, "<tr><th class=\"l\">");
    ls_buf_escape(b, k);
    ls_buf_puts(b, "</th><td class=\"l\">");
    ls_buf_escape(b, v);
    ls_buf_puts(b, "</td></tr>\n");
}

static void fit_table(rep *r, ls_buf *b, char **skills)
{
    const ls_fit *f = r->f;
    const ls_data *d = r->d;
    const ls_params *pr = r->pr;
    const double *se = ls_fit_se(f, LS_SE_HESSIAN);
    size_t K = r->K, J = r->J, p = r->p;
    const size_t *lay = r->lay;
    size_t o_lam = lay[LS_NAT_LAMBDA], o_b = lay[LS_NAT_B], o_phi = lay[LS_NAT_PHI], o_sig = lay[LS_NAT_SIGMA],
           o_gam = lay[LS_NAT_GAMMA], o_ceil = lay[LS_NAT_CEILING], o_tau = lay[LS_NAT_TAU];
    char v[200], nb[LS_FMT_LEN];
    ls_buf_puts(b, "<section id=\"fit-table\">\n<h2>Table. The fit</h2>\n");
    ls_buf_puts(b, se ? "<p class=\"caption\">Estimates with standard errors (in parentheses) from the inverse observed information.</p>\n"
                      : "<p class=\"caption\">Estimates; this fit has no standard errors (fitted with --no-se).</p>\n");
    ls_buf_puts(b, "<h3>Fit statistics</h3>\n<table class=\"kv\">\n");
    kv_row(b, "log-likelihood", ls_fmt_fixed(nb, ls_fit_loglik(f), 4));
    kv_row(b, "AIC", ls_fmt_fixed(nb, ls_fit_aic(f), 3));
    kv_row(b, "BIC (penalty log F)", ls_fmt_fixed(nb, ls_fit_bic(f), 3));
    snprintf(v, sizeof v, "%zu", ls_fit_nparams(f));
    kv_row(b, "free parameters", v);
    snprintf(v, sizeof v, "%zu models, %zu families, %zu benchmarks, %zu observed scores (%zu clipped)", r->n, r->F,
             r->J, ls_data_nobserved(d), ls_data_nclipped(d));
    kv_row(b, "data", v);
    snprintf(v, sizeof v, "%zu", K);
    kv_row(b, "skills K", v);
    snprintf(v, sizeof v, "%s%s%s (max |gradient| %s at the estimates)", ls_fit_converged(f) ? "yes" : "no",
             ls_fit_converged(f) == LS_CONVERGED_CHANGE ? ", by the " : "",
             ls_fit_converged(f) == LS_CONVERGED_CHANGE ? ls_fit_convergence_criterion(f) : "",
             ls_fmt_sig(nb, ls_fit_gradnorm(f), 3));
    kv_row(b, "converged", v);
    size_t nodes = 0;
    const char *rule = ls_fit_integration(f, &nodes);
    snprintf(v, sizeof v, "%s, %zu nodes", rule, nodes);
    kv_row(b, "integration", v);
    snprintf(v, sizeof v, "%llu", (unsigned long long)ls_fit_seed(f));
    kv_row(b, "fit seed", v);
    ls_buf_puts(b, "</table>\n");

    ls_buf_puts(b, "<h3>Covariate effects beta (raw log scale)</h3>\n<table>\n<tr><th class=\"l\">covariate</th>");
    for (size_t k = 0; k < K; k++) th_text(b, NULL, skills[k]);
    ls_buf_puts(b, "</tr>\n");
    for (size_t q = 0; q < p; q++) {
        ls_buf_puts(b, "<tr>");
        th_text(b, " class=\"l\"", ls_data_covariate(d, q));
        for (size_t k = 0; k < K; k++) td_num(b, pr->beta[q * K + k], se, q * K + k);
        ls_buf_puts(b, "</tr>\n");
    }
    ls_buf_puts(b, "</table>\n");

    ls_buf_puts(b, "<h3>Benchmarks: loadings lambda, intercept b (raw scale), precision phi, floor (and ceiling)</h3>\n<table>\n<tr><th class=\"l\">benchmark</th>");
    for (size_t k = 0; k < K; k++) th_text(b, NULL, skills[k]);
    int has_ceil = 0; /* a ceiling column only when some benchmark has one */
    for (size_t j = 0; j < J; j++) has_ceil |= pr->ceiling[j] < 1 || ls_fit_ceiling_estimated(f, j);
    ls_buf_puts(b, has_ceil ? "<th>b</th><th>phi</th><th>floor</th><th>ceiling</th>"
                        : "<th>b</th><th>phi</th><th>floor</th>");
    ls_buf_puts(b, pr->family_effect ? "<th>tau (family effect sd)</th></tr>\n" : "</tr>\n");
    for (size_t j = 0; j < J; j++) {
        ls_buf_puts(b, "<tr>");
        th_text(b, " class=\"l\"", ls_data_benchmark(d, j));
        for (size_t k = 0; k < K; k++) td_num(b, pr->lambda[k * J + j], se, o_lam + k * J + j);
        td_num(b, pr->b[j], se, o_b + j);
        td_num(b, pr->phi[j], se, o_phi + j);
        ls_buf_printf(b, "<td>%s</td>", ls_fmt_sig(nb, ls_data_floor(d, j), 4));
        if (has_ceil) td_num(b, pr->ceiling[j], ls_fit_ceiling_estimated(f, j) ? se : NULL, o_ceil + j);
        if (pr->family_effect) td_num(b, pr->tau[j], se, o_tau + j);
        ls_buf_puts(b, "</tr>\n");
    }
    ls_buf_puts(b, "</table>\n");

    ls_buf_puts(b, "<h3>Skill correlations Sigma</h3>\n<table>\n<tr><th class=\"l\"></th>");
    for (size_t k = 0; k < K; k++) th_text(b, NULL, skills[k]);
    ls_buf_puts(b, "</tr>\n");
    for (size_t k = 0; k < K; k++) {
        ls_buf_puts(b, "<tr>");
        th_text(b, " class=\"l\"", skills[k]);
        for (size_t l = 0; l < K; l++) td_num(b, pr->sigma[k * K + l], se, o_sig + k * K + l);
        ls_buf_puts(b, "</tr>\n");
    }
    ls_buf_puts(b, "</table>\n");

    if (pr->hetero) {
        ls_buf_puts(b, "<h3>Precision covariates gamma (log phi_ij = log phi_j + gamma . (x_i - mean x))</h3>\n<table>\n");
        for (size_t q = 0; q < p; q++) {
            ls_buf_puts(b, "<tr>");
            th_text(b, " class=\"l\"", ls_data_covariate(d, q));
            td_num(b, pr->gamma[q], se, o_gam + q);
            ls_buf_puts(b, "</tr>\n");
        }
        ls_buf_puts(b, "</table>\n");
    }
    if (ls_fit_nwarnings(f)) {
        ls_buf_puts(b, "<h3>Warnings of the fit (also in the banner at the top)</h3>\n<ul>\n");
        for (size_t i = 0; i < ls_fit_nwarnings(f); i++) {
            ls_buf_puts(b, "<li>");
            ls_buf_escape(b, ls_fit_warning(f, i));
            ls_buf_puts(b, "</li>\n");
        }
        ls_buf_puts(b, "</ul>\n");
    }
    ls_buf_puts(b, "</section>\n");
}

/* the report's own options, one line per entry */
static void options_table(rep *r, ls_buf *b)
{
    const ls_report_options *o = r->o;
    char v[300], nb[LS_FMT_LEN];
    ls_buf_puts(b, "<h3>Report options</h3>\n<table class=\"kv\">\n");
    kv_row(b, "version", LS_VERSION);
    snprintf(v, sizeof v, "%llu", (unsigned long long)o->seed);
    kv_row(b, "seed", v);
    kv_row(b, "interval level", ls_fmt_fixed(nb, o->level, 3));
    snprintf(v, sizeof v, "%zu parameter draws (%s) x %zu family draws; %zu compute points per curve",
             o->param_draws, o->param_cov && strcmp(o->param_cov, "sandwich") == 0 ? "sandwich covariance" : "inverse observed information",
             o->latent_draws, o->grid);
    kv_row(b, "prediction", v);
    snprintf(v, sizeof v, "%zu draws", o->optimal_draws);
    kv_row(b, "optimal allocation", v);
    if (o->families) kv_row(b, "families", o->families);
    else {
        snprintf(v, sizeof v, "the %zu largest", o->top);
        kv_row(b, "families", v);
    }
    kv_row(b, "compare", o->compare ? o->compare : "(none)");
    kv_row(b, "select", o->select_path ? o->select_path : "(none)");
    if (o->argv_json) kv_row(b, "command line", o->argv_json);
    ls_buf_puts(b, "</table>\n");
}

/* ================================================================ */
/* Assembly                                                          */
/* ================================================================ */

static const char CSS[] =
    "body{font-family:sans-serif;color:#222;max-width:1120px;margin:20px auto;padding:0 14px;line-height:1.4}\n"
    "h1{font-size:1.5em;margin-bottom:.2em}h2{font-size:1.15em;margin-top:1.8em;border-bottom:1px solid #ddd}\n"
    "h3{font-size:1em;margin-bottom:.3em}.figure svg{display:block;max-width:100%;height:auto}\n"
    ".caption{font-size:.9em;color:#444;max-width:920px}.note{font-style:italic;color:#666}tr.chosen td{font-weight:bold}\n"
    "table{border-collapse:collapse;font-size:.85em;margin:.3em 0 1em}\n"
    "th,td{border:1px solid #ddd;padding:2px 7px;text-align:right;vertical-align:top}\n"
    "th{background:#f5f5f5;font-weight:normal}.l{text-align:left}.se{color:#777}\n"
    ".warnings{background:#fff3cd;border:2px solid #c77c02;border-radius:4px;padding:.5em 1em;margin:1em 0}\n"
    ".warnings p{margin:.2em 0}.warnings ul{margin:.3em 0;padding-left:1.4em}.warnings .src{font-weight:bold}\n"
    ".nowarnings{color:#2a6b2a;font-size:.9em;margin:.6em 0}\n"
    "footer{margin-top:2.5em;padding-top:.5em;font-size:.8em;color:#666;border-top:1px solid #ddd}\n";

/* A JSON text safe inside an HTML comment: every '-' (they only occur
 * inside strings here) becomes the escape \u002d. */
static void comment_json(ls_buf *b, json_t *root)
{
    char *s = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(12));
    if (!s) { b->oom = 1; return; }
    for (const char *c = s; *c; c++) {
        if (*c == '-') ls_buf_puts(b, "\\u002d");
        else if (*c == '>' || *c == '<') ls_buf_printf(b, "\\u%04x", (unsigned)*c);
        else ls_buf_put(b, c, 1);
    }
    free(s);
}

/* Is w (a task's warning) one of the fit's, repeated as "training fit: w"
 * or "the fit: w"?  Or about a hypothetical model of figure 1's curves
 * ("model 'grid-..."), which extrapolate beyond a family's compute on
 * purpose, drawn dashed? */
static int fit_warning_again(const rep *r, const char *w)
{
    if (strncmp(w, "model 'grid-", 12) == 0) return 1;
    static const char *const pre[] = {"training fit: ", "the fit: "};
    for (size_t k = 0; k < 2; k++)
        if (strncmp(w, pre[k], strlen(pre[k])) == 0) w += strlen(pre[k]);
    for (size_t i = 0; i < ls_fit_nwarnings(r->f); i++)
        if (strcmp(ls_fit_warning(r->f, i), w) == 0) return 1;
    return 0;
}

/* One item of the banner (b NULL: count only). */
static void banner_item(ls_buf *b, size_t *n, const char *source, const char *text)
{
    ++*n;
    if (!b) return;
    ls_buf_puts(b, "<li><span class=\"src\">");
    ls_buf_escape(b, source);
    ls_buf_puts(b, ":</span> ");
    ls_buf_escape(b, text);
    ls_buf_puts(b, "</li>\n");
}

static void result_warnings(const rep *r, ls_buf *b, size_t *n, const ls_result *res, const char *source)
{
    for (size_t i = 0; res && i < ls_result_nwarnings(res); i++)
        if (!fit_warning_again(r, ls_result_warning(res, i))) banner_item(b, n, source, ls_result_warning(res, i));
}

/* Every warning of the fit and of the computations behind the figures. */
static size_t banner_items(const rep *r, ls_buf *b)
{
    size_t n = 0;
    char v[300], gb[LS_FMT_LEN];
    const ls_fit *f = r->f;
    int said = 0;
    for (size_t i = 0; i < ls_fit_nwarnings(f); i++) said |= strstr(ls_fit_warning(f, i), "did not converge") != NULL;
    if (!ls_fit_converged(f) && !said) {
        snprintf(v, sizeof v, "the optimiser did not converge: max |gradient| = %s; the estimates, and every figure "
                 "drawn from them, may be off", ls_fmt_sig(gb, ls_fit_gradnorm(f), 3));
        banner_item(b, &n, "fit", v);
    }
    for (size_t i = 0; i < ls_fit_nwarnings(f); i++) banner_item(b, &n, "fit", ls_fit_warning(f, i));
    if (r->o->param_draws > 0 && r->have_pred && !(ls_result_number(r->pred, "param_uncertainty") > 0))
        banner_item(b, &n, "figures 1 and 6",
                    "the fit has no usable covariance of the estimates (fitted without standard errors, or the "
                    "observed information is singular): bands and intervals leave out the uncertainty of the "
                    "estimates, so they are too narrow");
    result_warnings(r, b, &n, r->pred, "figure 1 (predictions)");
    result_warnings(r, b, &n, r->al, "figure 5 (compute-optimal allocation)");
    result_warnings(r, b, &n, r->cmp, "figure 6 (comparison)");
    result_warnings(r, b, &n, r->sel, "figure 4 (selection file)");
    static const char *what[3] = {"figure 1", "figure 5", "figure 6"};
    for (size_t k = 0; k < 3; k++)
        if (r->failed[k][0]) banner_item(b, &n, what[k], r->failed[k]);
    return n;
}

/* The banner at the top of the page: every warning, or that there are none. */
static void warnings_banner(const rep *r, ls_buf *b)
{
    size_t n = banner_items(r, NULL);
    if (!n) {
        ls_buf_puts(b, "<div class=\"nowarnings\" id=\"warnings\">No warnings from the fit or from the "
                       "computations of this report.</div>\n");
        return;
    }
    ls_buf_printf(b, "<div class=\"warnings\" id=\"warnings\" role=\"alert\">\n<p><strong>%zu warning%s</strong>"
                     " (from the fit and from the computations of this report): read them before the figures.</p>\n<ul>\n",
                  n, n == 1 ? "" : "s");
    banner_items(r, b);
    ls_buf_puts(b, "</ul>\n</div>\n");
}

static void page_header(rep *r, ls_buf *b)
{
    const ls_report_options *o = r->o;
    json_t *meta = json_object();
    if (!meta) { b->oom = 1; return; }
    char seed[32], fseed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)o->seed);
    snprintf(fseed, sizeof fseed, "%llu", (unsigned long long)ls_fit_seed(r->f));
    json_object_set_new(meta, "version", json_string(LS_VERSION));
    json_object_set_new(meta, "kind", json_string("report"));
    json_object_set_new(meta, "seed", json_string(seed));
    json_object_set_new(meta, "fit_seed", json_string(fseed));
    json_t *op = json_object();
    json_object_set_new(op, "level", json_real(o->level));
    json_object_set_new(op, "grid", json_integer((json_int_t)o->grid));
    json_object_set_new(op, "param_draws", json_integer((json_int_t)o->param_draws));
    json_object_set_new(op, "param_cov", json_string(o->param_cov ? o->param_cov : "hessian"));
    json_object_set_new(op, "latent_draws", json_integer((json_int_t)o->latent_draws));
    json_object_set_new(op, "optimal_draws", json_integer((json_int_t)o->optimal_draws));
    json_object_set_new(op, "top", json_integer((json_int_t)o->top));
    json_object_set_new(op, "families", o->families ? json_string(o->families) : json_null());
    json_object_set_new(op, "compare", o->compare ? json_string(o->compare) : json_null());
    json_object_set_new(op, "select", o->select_path ? json_string(o->select_path) : json_null());
    json_t *cl = NULL;
    if (o->argv_json) {
        json_error_t je;
        cl = json_loads(o->argv_json, 0, &je);
    }
    json_object_set_new(op, "command_line", cl ? cl : json_null());
    json_object_set_new(meta, "options", op);
    ls_buf_puts(b, "<!DOCTYPE html>\n<!-- latentscale report ");
    comment_json(b, meta);
    json_decref(meta);
    ls_buf_puts(b, " -->\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n<title>");
    ls_buf_escape(b, o->title ? o->title : "latentscale report");
    ls_buf_printf(b, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<h1>", CSS);
    ls_buf_escape(b, o->title ? o->title : "latentscale report");
    ls_buf_puts(b, "</h1>\n");
    warnings_banner(r, b);
    ls_buf_puts(b, "<p>Latent-variable scaling law (Cai et al., arXiv 2512.06553) fitted to <code>");
    ls_buf_escape(b, ls_data_source(r->d));
    ls_buf_puts(b, "</code>");
    if (o->fit_name) {
        ls_buf_puts(b, " (fit <code>");
        ls_buf_escape(b, o->fit_name);
        ls_buf_puts(b, "</code>)");
    }
    ls_buf_printf(b, ": %zu models in %zu families, %zu benchmarks, K = %zu skills.</p>\n", r->n, r->F, r->J, r->K);
    ls_buf_puts(b, "<ol class=\"toc\">\n<li><a href=\"#fig-scores\">Scores against compute</a></li>\n"
                   "<li><a href=\"#fig-loadings\">Loadings</a></li>\n<li><a href=\"#fig-correlations\">Skill correlations</a></li>\n"
                   "<li><a href=\"#fig-selection\">Number of skills</a></li>\n<li><a href=\"#fig-frontier\">Compute-optimal frontiers</a></li>\n"
                   "<li><a href=\"#fig-compare\">Family comparison</a></li>\n<li><a href=\"#fit-table\">The fit table</a></li>\n</ol>\n");
}

static void page_footer(rep *r, ls_buf *b)
{
    options_table(r, b);
    ls_buf_printf(b, "<footer>Generated by latentscale %s, report seed %llu, fit seed %llu.", LS_VERSION,
                  (unsigned long long)r->o->seed, (unsigned long long)ls_fit_seed(r->f));
    if (r->o->argv_json) {
        ls_buf_puts(b, " Command line: <code>");
        ls_buf_escape(b, r->o->argv_json);
        ls_buf_puts(b, "</code>");
    }
    ls_buf_puts(b, " Same inputs, options and seed give this file byte for byte.</footer>\n</body>\n</html>\n");
}

int ls_report_write(const ls_fit *fit, const ls_data *data, const ls_report_options *o, const char *path,
                    ls_error *err)
{
    if (!fit || !data || !o) return rp_fail(err, LS_ERR_OPTION, "report: no fit, data or options");
    if (!path || !*path) return rp_fail(err, LS_ERR_OPTION, "out: required");
    int rc = ls_report_options_check(o, err);
    if (rc) return rc;
    const ls_params *pr = ls_fit_params(fit);
    if (pr->J != ls_data_nbenchmarks(data) || pr->p != ls_data_ncovariates(data) ||
        ls_fit_nfamilies(fit) != ls_data_nfamilies(data))
        return rp_fail(err, LS_ERR_INPUT, "report: the fit does not belong to the data %s", ls_data_source(data));
    rep r;
    memset(&r, 0, sizeof r);
    r.f = fit;
    r.d = data;
    r.o = o;
    r.pr = pr;
    r.x = ls_data_covariate_values(data);
    r.y = ls_data_scores(data);
    r.K = pr->K;
    r.J = pr->J;
    r.p = pr->p;
    r.n = ls_data_nmodels(data);
    r.F = ls_data_nfamilies(data);
    ls_fit_nat_layout(fit, r.lay);
    ls_buf b;
    ls_buf_init(&b);
    char **skills = NULL;
    /* inputs and options first: nothing is computed when one is wrong */
    rc = pick_families(&r, err);
    if (!rc && o->compare) rc = pick_compare(&r, err);
    if (!rc && o->select_path) rc = read_selection(&r, o->select_path, err);
    if (!rc && !(r.bench = calloc(r.J, sizeof(char *)))) rc = rp_nomem(err);
    for (size_t j = 0; !rc && j < r.J; j++)
        if (!(r.bench[j] = strdup(ls_data_benchmark(data, j)))) rc = rp_nomem(err);
    if (!rc) {
        skills = calloc(r.K, sizeof(char *));
        if (!skills) rc = rp_nomem(err);
        for (size_t k = 0; !rc && k < r.K; k++) {
            char sl[200];
            if (!(skills[k] = strdup(skill_label(&r, k, sl, sizeof sl)))) rc = rp_nomem(err);
        }
    }
    if (!rc) rc = compute_axis(&r, err);
    if (!rc) rc = compute_curves(&r, err);
    if (!rc) rc = compute_frontiers(&r, err);
    if (!rc && o->compare) rc = compute_comparison(&r, err);
    if (!rc) {
        page_header(&r, &b);
        figure_scores(&r, &b);
        figure_loadings(&r, &b, skills);
        figure_correlations(&r, &b, skills);
        figure_selection(&r, &b);
        figure_frontiers(&r, &b, skills);
        figure_compare(&r, &b, skills);
        fit_table(&r, &b, skills);
        page_footer(&r, &b);
        if (b.oom) rc = rp_nomem(err);
    }
    if (!rc) rc = ls_write_file(path, b.s, b.len, err);
    ls_buf_free(&b);
    if (skills) rp_strv_free(skills, r.K);
    if (r.bench) rp_strv_free(r.bench, r.J);
    free(r.lc);
    free(r.grid_lc);
    ls_result_free(r.pred);
    ls_result_free(r.al);
    ls_result_free(r.cmp);
    ls_result_free(r.sel);
    return rc;
}
