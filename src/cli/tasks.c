/*
 * tasks.c -- the downstream commands: posterior, predict, evaluate, select,
 * optimal and compare.  Each parses its options, calls the public API,
 * prints a summary and writes its file atomically.
 */
#include "cli/cli.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* An option error found by the command itself (a family not in the data). */
static int opt_error(ls_error *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int opt_error(ls_error *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    e->code = LS_ERR_OPTION;
    return e->code;
}

/* Read FIT and DATA, rebuild the data and bind the fit. */
static int load_fit(const char *fit_path, const char *data_path, unsigned threads, ls_table **t,
                    ls_data **d, ls_fit **f, ls_error *e)
{
    int rc = ls_items_table_read(data_path, t, e);
    if (!rc) rc = ls_fit_load(fit_path, *t, threads, d, f, e);
    if (!rc) cli_data_warning(*d);
    return rc;
}

static int refuse_overwrite(const char *cmd, const char *out, const char *const *inputs, size_t n)
{
    for (size_t i = 0; out && i < n; i++)
        if (cli_same_file(out, inputs[i]))
            return cli_usage(cmd, "--out names an input file; refusing to overwrite it");
    return 0;
}

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

/* An entry's numbers (the shape is known to the caller). */
#define RN(r, name) ls_result_numbers((r), (name), NULL, NULL)

/* Write a task's result to out (when given), recording the command line;
 * returns the exit code. */
static int write_result(const ls_result *res, const char *out, const char *format, int argc, char **argv)
{
    if (!out) return 0;
    ls_error e = {0, ""};
    char *aj = cli_argv_json(argc, argv);
    int rc = ls_result_write(res, out, format, aj, &e);
    free(aj);
    return rc ? cli_fail(&e) : 0;
}

/* The width of a name column: the longest of the n strings `key` of r, at
 * least w, so no name is cut. */
static int name_width(const ls_result *r, const char *key, size_t n, int w)
{
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(ls_result_string(r, key, i));
        if (len > (size_t)w && len < 1000) w = (int)len;
    }
    return w;
}

/* The table of a prediction, one line per model and benchmark. */
static void print_prediction(const ls_result *p, size_t param_draws, size_t latent_draws)
{
    size_t n = 0, J = 0;
    const double *mean = ls_result_numbers(p, "mean", &n, &J), *median = RN(p, "median");
    const double *lower = RN(p, "lower"), *upper = RN(p, "upper"), *map = RN(p, "map");
    const double *obs = RN(p, "observed"), *known = RN(p, "known");
    int wm = name_width(p, "models", n, 28), wb = name_width(p, "benchmarks", J, 12);
    printf("%-*s %-*s %8s %8s %17s %8s %8s\n", wm, "model", wb, "benchmark", "mean", "median", "interval", "map",
           "observed");
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < J; j++) {
            size_t c = i * J + j;
            printf("%-*s %-*s %8.4f %8.4f [%6.4f, %6.4f] %8.4f", wm, ls_result_string(p, "models", i), wb,
                   ls_result_string(p, "benchmarks", j), mean[c], median[c], lower[c], upper[c], map[c]);
            if (isnan(obs[c])) printf("\n");
            else printf(" %8.4f\n", obs[c]);
        }
    for (size_t i = 0; i < n; i++)
        if (known[i] == 0)
            printf("note: family '%s' of '%s' is not in the data: its skills are drawn from the prior\n",
                   ls_result_string(p, "families", i), ls_result_string(p, "models", i));
    int pu = ls_result_number(p, "param_uncertainty") > 0;
    printf("interval level %.2f; parameter draws %zu, family-posterior draws %zu each\n",
           ls_result_number(p, "level"), pu ? param_draws : 0, latent_draws);
    if (param_draws > 0 && !pu)
        printf("warning: the observed information is singular: predictions use the estimates without their uncertainty, so intervals are too narrow\n");
}

/* --no-calibration of predict and evaluate (ls_predict_options.calibration = 0) */
static int no_calibration;
#define NO_CALIBRATION_SPEC                                                                        \
    {"no-calibration", ARG_FLAG, &no_calibration,                                                  \
     "ignore the fit's calibration: the model's own predictive quantiles", NULL}

/* --no-ceiling-uncertainty of predict and evaluate (ls_predict_options.ceiling_uncertainty = 0) */
static int no_ceiling;
#define NO_CEILING_SPEC                                                                            \
    {"no-ceiling-uncertainty", ARG_FLAG, &no_ceiling,                                              \
     "take a fixed ceiling as known: no draw of it above the best observed score", NULL}

#define PREDICT_SPECS(po)                                                                          \
    {"level", ARG_DOUBLE, &(po).level, "interval level (default 0.9)", "L"},                      \
        {"param-draws", ARG_SIZE, &(po).param_draws,                                               \
         "draws of the parameters (default 200; 0 = plug in the estimates)", "N"},                 \
        {"param-cov", ARG_STRING, &(po).param_cov,                                                 \
         "their covariance: hessian (default) or sandwich (robust to misspecification)", "KIND"},  \
    {                                                                                              \
        "latent-draws", ARG_SIZE, &(po).latent_draws,                                              \
            "family-posterior draws per parameter draw (default 50)", "N"                          \
    }

/* ---------------------------------------------------------------- */
/* posterior                                                         */
/* ---------------------------------------------------------------- */

int cmd_posterior(int argc, char **argv)
{
    int json = 0;
    ls_posterior_options po;
    ls_posterior_options_init(&po);
    const char *family = NULL, *out = NULL;
    unsigned threads = 0;
    int quiet = 0;
    arg_spec specs[] = {
        {"family", ARG_STRING, &family, "the family (required)", "NAME"},
        {"chains", ARG_UINT, &po.chains, "MCMC chains (default 4)", "N"},
        {"warmup", ARG_SIZE, &po.warmup, "warm-up iterations per chain (default 1000)", "N"},
        {"draws", ARG_SIZE, &po.draws, "kept draws per chain (default 2000)", "N"},
        {"seed", ARG_U64, &po.seed, "random seed (default 1)", "N"},
        {"threads", ARG_UINT, &threads, "worker threads for loading the fit", "N"},
        {"out", ARG_STRING, &out, "write the posterior (with the draws) as JSON here", "FILE"},
        {"quiet", ARG_FLAG, &quiet, "no summary on stdout", NULL},
        CLI_JSON_SPEC(json),
        {NULL, 0, NULL, NULL, NULL}};
    arg_result r;
    char msg[256];
    if (args_parse(argc, argv, specs, &r, msg, sizeof msg)) return cli_usage("posterior", msg);
    if (r.help) {
        cli_help("posterior", "FIT DATA --family NAME [options]",
                 "A family's posterior p(alpha_f | data) at the fitted parameters: the mode, the Laplace\n"
                 "covariance, the adaptive-quadrature mean and covariance, and random-walk Metropolis\n"
                 "draws with split R-hat and effective sample sizes.  DATA is the file FIT was fitted on." CLI_LEADERBOARD_UNITS,
                 specs, "  latentscale posterior fit.json leaderboard.csv --family yi-1.5 --out post.json\n");
        return 0;
    }
    if (r.npos != 2) return cli_usage("posterior", "expected FIT and DATA (see --help)");
    if (!family) return cli_usage("posterior", "--family: required");
    const char *inputs[] = {r.pos[0], r.pos[1]};
    int x = refuse_overwrite("posterior", out, inputs, 2);
    if (x) return x;
    cli_json js;
    if ((x = cli_json_open(&js, json, &out))) return x;
    ls_error e = {0, ""};
    ls_table *t = NULL;
    ls_data *d = NULL;
    ls_fit *f = NULL;
    ls_result *p = NULL;
    int rc = load_fit(r.pos[0], r.pos[1], threads, &t, &d, &f, &e);
    long fam = -1;
    if (!rc && (fam = ls_data_find_family(d, family)) < 0)
        rc = opt_error(&e, "--family: no family '%s' in %s", family, r.pos[1]);
    if (!rc) rc = ls_posterior_run(f, d, (size_t)fam, &po, &p, &e);
    int code = 0;
    if (rc) code = cli_fail(&e);
    else if (quiet) {
        cli_result_warnings(p);
        code = write_result(p, out, NULL, argc, argv);
    } else {
        cli_result_warnings(p);
        size_t K = 0;
        const double *mode = ls_result_numbers(p, "mode", &K, NULL), *lc = RN(p, "laplace_cov");
        const double *qm = RN(p, "quad_mean"), *qc = RN(p, "quad_cov"), *mm = RN(p, "mcmc_mean");
        const double *mc = RN(p, "mcmc_cov"), *rhat = RN(p, "rhat"), *ess = RN(p, "ess");
        printf("posterior of family '%s' (%u chains x %zu draws, acceptance %.2f)\n\n", family,
               po.chains, po.draws, ls_result_number(p, "accept"));
        int ws = name_width(p, "skills", K, 12);
        printf("  %-*s %9s %9s %9s %9s %9s %9s %7s %7s\n", ws, "skill", "mode", "laplace", "quad",
               "quad", "mcmc", "mcmc", "R-hat", "ESS");
        printf("  %-*s %9s %9s %9s %9s %9s %9s\n", ws, "", "", "sd", "mean", "sd", "mean", "sd");
        for (size_t k = 0; k < K; k++)
            printf("  %-*s %9.4f %9.4f %9.4f %9.4f %9.4f %9.4f %7.3f %7.0f\n",
                   ws, ls_result_string(p, "skills", k), mode[k], sqrt(lc[k * K + k]), qm[k],
                   sqrt(qc[k * K + k]), mm[k], sqrt(mc[k * K + k]), rhat[k], ess[k]);
        for (size_t k = 0; k < K; k++)
            if (rhat[k] > 1.01)
                printf("warning: R-hat %.3f > 1.01 for skill %zu: run longer chains (--draws)\n", rhat[k], k + 1);
        code = write_result(p, out, NULL, argc, argv);
    }
    ls_result_free(p);
    ls_fit_free(f);
    ls_data_free(d);
    ls_table_free(t);
    return cli_json_close(&js, code);
}

/* ---------------------------------------------------------------- */
/* predict                                                           */
/* ---------------------------------------------------------------- */

int cmd_predict(int argc, char **argv)
{
    int to_stdout = 0, quiet = 0;
    ls_predict_options po;
    ls_predict_options_init(&po);
    const char *newp = NULL, *out = NULL, *format = NULL;
    arg_spec specs[] = {
        {"new", ARG_STRING, &newp, "CSV of new models: model, family, size, tokens, ... (required)", "FILE"},
        PREDICT_SPECS(po), NO_CALIBRATION_SPEC, NO_CEILING_SPEC,
        {"seed", ARG_U64, &po.seed, "random seed (default 1)", "N"},
        {"threads", ARG_UINT, &po.threads, "worker threads (default: all cores)", "N"},
        {"out", ARG_STRING, &out, "write predictions here (CSV, or JSON if FILE ends in .json)", "FILE"},
        {"format", ARG_STRING, &format, "csv or json (default: from the --out extension)", "F"},
        {"quiet", ARG_FLAG, &quiet, "no table on stdout", NULL},
        CLI_JSON_SPEC(to_stdout),
        {NULL, 0, NULL, NULL, NULL}};
    arg_result r;
    char msg[256];
    if (args_parse(argc, argv, specs, &r, msg, sizeof msg)) return cli_usage("predict", msg);
    if (no_calibration) po.calibration = 0;
    if (no_ceiling) po.ceiling_uncertainty = 0;
    if (r.help) {
        cli_help("predict", "FIT DATA --new NEW.csv [options]",
                 "Predictive distributions of new models' scores: for each model and benchmark the mean,\n"
                 "median and a central interval, integrating the family posterior (the prior N(0, Sigma)\n"
                 "for a family not in DATA), parameter uncertainty and Beta noise; and the plug-in at the\n"
                 "family's posterior mode.  DATA is the file FIT was fitted on." CLI_LEADERBOARD_UNITS,
                 specs, "  latentscale predict fit.json leaderboard.csv --new new.csv --level 0.9 --out pred.csv\n");
        return 0;
    }
    if (r.npos != 2) return cli_usage("predict", "expected FIT and DATA (see --help)");
    if (!newp) return cli_usage("predict", "--new: required");
    int json = to_stdout || (out && ends_with(out, ".json"));
    if (format) {
        if (strcmp(format, "json") == 0) json = 1;
        else if (strcmp(format, "csv") == 0) json = 0;
        else return cli_usage("predict", "--format: expected csv or json");
    }
    if (to_stdout && !json) return cli_usage("predict", "--json: the output is JSON; drop --format csv");
    if (to_stdout && out && !ends_with(out, ".json") && !format)
        return cli_usage("predict", "--json with --out: name the file FILE.json (or add --format json)");
    const char *inputs[] = {r.pos[0], r.pos[1], newp};
    int x = refuse_overwrite("predict", out, inputs, 3);
    if (x) return x;
    cli_json js;
    if ((x = cli_json_open(&js, to_stdout, &out))) return x;
    ls_error e = {0, ""};
    ls_table *t = NULL, *nt = NULL;
    ls_data *d = NULL;
    ls_fit *f = NULL;
    ls_result *p = NULL;
    int rc = load_fit(r.pos[0], r.pos[1], po.threads, &t, &d, &f, &e);
    if (!rc) rc = ls_items_table_read(newp, &nt, &e);
    if (!rc) rc = ls_predict(f, d, nt, &po, &p, &e);
    int code = 0;
    if (rc) code = cli_fail(&e);
    else {
        if (!quiet) print_prediction(p, po.param_draws, po.latent_draws);
        cli_result_warnings(p);
        code = write_result(p, out, json ? "json" : "csv", argc, argv);
    }
    ls_result_free(p);
    ls_fit_free(f);
    ls_data_free(d);
    ls_table_free(t);
    ls_table_free(nt);
    return cli_json_close(&js, code);
}

/* ---------------------------------------------------------------- */
/* evaluate                                                          */
/* ---------------------------------------------------------------- */

static int parse_range(const char *s, size_t *lo, size_t *hi);

/* evaluate --select and select --select-...: the configuration chosen
 * (inside the rows `where` names) and the table it was made from, a line
 * per K and configuration. */
static void print_selection(const ls_result *ev, const char *where)
{
    size_t nk = 0, nc = 0;
    const double *m = ls_result_numbers(ev, "select_sibling_mae", &nk, &nc);
    const double *ks = ls_result_numbers(ev, "select_skills", NULL, NULL);
    const double *df = ls_result_numbers(ev, "select_mae_difference", NULL, NULL);
    const double *se = ls_result_numbers(ev, "select_mae_difference_se", NULL, NULL);
    const double *cv = ls_result_numbers(ev, "select_converged", NULL, NULL);
    if (!m || !ks || !df || !se) return;
    const char *ch_ceil = ls_result_string(ev, "selected_ceilings", 0);
    printf("configuration chosen %s: K = %.0f, covariates %s, ceilings estimated: %s\n", where,
           ls_result_number(ev, "selected_skills"), ls_result_string(ev, "selected_covariates", 0),
           ch_ceil && *ch_ceil ? ch_ceil : "none");
    const char *cand = ls_result_string(ev, "select_ceiling_candidates", 0);
    if (cand) printf("  ceiling screen: %s\n", cand);
    printf("  by the sibling MAE: each family's largest model held out, predicted from the other rows\n"
           "  (MAE of the predictive median; its difference from the smallest, paired over\n"
           "  those families, with its standard error; * the choice: the fewest ceilings within one\n"
           "  standard error of the smallest, then the smallest)\n");
    size_t wcov = strlen("covariates"), wce = strlen("ceilings");
    for (size_t c = 0; c < nc; c++) {
        size_t l1 = strlen(ls_result_string(ev, "select_covariates", c));
        const char *ce = ls_result_string(ev, "select_ceilings", c);
        size_t l2 = ce && *ce ? strlen(ce) : 4;
        if (l1 > wcov) wcov = l1;
        if (l2 > wce) wce = l2;
    }
    printf("  %4s  %-*s  %-*s  %11s  %19s\n", "K", (int)wcov, "covariates", (int)wce, "ceilings", "sibling MAE",
           "difference (se)");
    for (size_t c = 0; c < nc; c++)
        for (size_t k = 0; k < nk; k++) {
            const char *cn = ls_result_string(ev, "select_covariates", c), *ce = ls_result_string(ev, "select_ceilings", c);
            int chosen = ks[k] == ls_result_number(ev, "selected_skills") &&
                         strcmp(cn, ls_result_string(ev, "selected_covariates", 0)) == 0 && ce && ch_ceil &&
                         strcmp(ce, ch_ceil) == 0;
            size_t q = k * nc + c;
            char d[48];
            if (isfinite(df[q]) && isfinite(se[q])) snprintf(d, sizeof d, "%+.4f (%.4f)", df[q], se[q]);
            else snprintf(d, sizeof d, "-");
            printf("  %4.0f  %-*s  %-*s  %11.4f%s %19s%s\n", ks[k], (int)wcov, cn, (int)wce, ce && *ce ? ce : "none", m[q],
                   chosen ? "*" : " ", d, cv && !cv[q] ? "  (not converged)" : "");
        }
    printf("\n");
}

int cmd_evaluate(int argc, char **argv)
{
    int json = 0;
    fit_args a;
    fit_args_init(&a);
    ls_predict_options po;
    ls_predict_options_init(&po);
    const char *split = NULL, *holdout = NULL, *fit_out = NULL, *select = NULL;
    int select_interaction = 0, select_ceilings = 0;
    a.fopt.skills = SIZE_MAX; /* unset: --skills is refused with --select */
    arg_spec specs[] = {DATA_SPECS(a), FIT_SPECS(a), PREDICT_SPECS(po), NO_CALIBRATION_SPEC, NO_CEILING_SPEC,
                        {"select", ARG_STRING, &select,
                         "choose K in A..B inside the training rows by the sibling MAE, then score the test rows once", "A..B"},
                        {"select-interaction", ARG_FLAG, &select_interaction,
                         "with --select: also choose whether the covariates' product term stays (twice the fits)", NULL},
                        {"select-ceilings", ARG_FLAG, &select_ceilings,
                         "with --select: also choose which ceilings to estimate, among those the data find saturating", NULL},
                        {"fit-out", ARG_STRING, &fit_out, "also write the fit to the training rows as JSON here", "FILE"},
                        {"split", ARG_STRING, &split, "CSV with columns model,role (train/test/excluded)", "FILE"},
                        {"holdout", ARG_STRING, &holdout, "largest: hold out the largest model of each family with >= 2 models", "RULE"},
                        {"out", ARG_STRING, &a.out, "write the evaluation as JSON here", "FILE"},
                        {"quiet", ARG_FLAG, &a.quiet, "no summary on stdout", NULL},
                        CLI_JSON_SPEC(json),
        {NULL, 0, NULL, NULL, NULL}};
    arg_result r;
    char msg[256];
    if (args_parse(argc, argv, specs, &r, msg, sizeof msg)) return cli_usage("evaluate", msg);
    if (no_calibration) po.calibration = 0;
    if (no_ceiling) po.ceiling_uncertainty = 0;
    int skills_given = a.fopt.skills != SIZE_MAX;
    if (!skills_given) a.fopt.skills = 4;
    if (r.help) {
        cli_help("evaluate", "DATA (--split SPLIT.csv | --holdout largest) [options]",
                 "Held-out evaluation: refit on the training rows, predict the test rows, report the mean\n"
                 "absolute error of the predictive median per benchmark and overall (and of the predictive\n"
                 "mean and the plug-in at the family mode), and the coverage of the intervals.  With --select A..B\n"
                 "the number of skills (with --select-interaction also whether the size-token product term stays,\n"
                 "with --select-ceilings also which benchmarks' ceilings are estimated) is chosen inside the\n"
                 "training rows alone, by the sibling MAE of `latentscale select` (each training family's largest\n"
                 "model held out and predicted from the other training rows), then fitted to all training rows\n"
                 "and the test rows scored once: two fits per K and configuration, plus the final fit.  The\n"
                 "ceiling candidates: a fit with every ceiling estimated names those below 0.995; each is fitted\n"
                 "alone and kept when its likelihood ratio against no ceiling exceeds 2.71 (the first 3, as\n"
                 "prefixes); more ceilings are chosen only when they beat fewer by more than one standard error\n"
                 "of the sibling MAE's difference." CLI_LEADERBOARD_UNITS,
                 specs, "  latentscale evaluate leaderboard.csv --split split.csv --floors benchmarks.csv --skills 3 --out eval.json\n"
                        "  latentscale evaluate leaderboard.csv --holdout largest --select 1..4 --select-interaction\n");
        return 0;
    }
    if (r.npos != 1) return cli_usage("evaluate", "expected DATA (see --help)");
    if (!split == !holdout) return cli_usage("evaluate", "give exactly one of --split FILE and --holdout largest");
    if (holdout && strcmp(holdout, "largest") != 0) return cli_usage("evaluate", "--holdout: expected 'largest'");
    size_t slo = 0, shi = 0;
    if (select && parse_range(select, &slo, &shi))
        return cli_usage("evaluate", "--select: expected a range of K such as 1..4");
    if (select && skills_given)
        return cli_usage("evaluate", "--select chooses K: give either --select A..B or --skills K, not both");
    if (select_interaction && !select) return cli_usage("evaluate", "--select-interaction needs --select A..B");
    if (select_ceilings && !select) return cli_usage("evaluate", "--select-ceilings needs --select A..B");
    if (cli_parse_integration(a.integration, &a.fopt.integration))
        return cli_usage("evaluate", "--integration: expected auto, gh, sparse, qmc or laplace");
    if (a.no_calibrate) a.fopt.calibrate = 0;
    const char *inputs[] = {r.pos[0], split, a.dopt.floors_file, a.dopt.ceilings_file};
    int x = refuse_overwrite("evaluate", a.out, inputs, 4);
    if (!x) x = refuse_overwrite("evaluate", fit_out, inputs, 4);
    if (x) return x;
    cli_json js;
    if ((x = cli_json_open(&js, json, &a.out))) return x;
    po.seed = a.fopt.seed;
    po.threads = a.fopt.threads;
    a.fopt.progress = cli_progress;
    ls_error e = {0, ""};
    ls_table *t = NULL, *st = NULL;
    ls_result *ev = NULL;
    int rc = ls_items_table_read(r.pos[0], &t, &e);
    if (!rc && split) rc = ls_table_read(split, &st, &e);
    if (!rc && select) rc = ls_evaluate_select(t, &a.dopt, st, &a.fopt, &po, slo, shi,
                                                 (select_interaction ? LS_SELECT_INTERACTION : 0) |
                                                     (select_ceilings ? LS_SELECT_CEILINGS : 0),
                                                 &ev, &e);
    else if (!rc) rc = ls_evaluate(t, &a.dopt, st, &a.fopt, &po, &ev, &e);
    cli_progress_end();
    int code = 0;
    if (rc) code = cli_fail(&e);
    else {
        const ls_data *train = NULL;
        const ls_fit *fit = ls_evaluation_fit(ev, &train);
        int qs = cli_quiet_begin(a.quiet);
        size_t ncell = (size_t)ls_result_number(ev, "n_cells"), J = 0;
        const double *mae = ls_result_numbers(ev, "mae", &J, NULL);
        printf("held-out evaluation, K = %zu: %zu training rows, %zu test rows, %zu excluded, %zu scored cells\n\n",
               ls_fit_params(fit)->K, (size_t)ls_result_number(ev, "n_train"), (size_t)ls_result_number(ev, "n_test"),
               (size_t)ls_result_number(ev, "n_excluded"), ncell);
        if (select) print_selection(ev, "inside the training rows only (the test rows unseen)");
        int wb = 14;
        for (size_t j = 0; j < J; j++) {
            size_t len = strlen(ls_data_benchmark(train, j));
            if (len > (size_t)wb && len < 1000) wb = (int)len;
        }
        size_t nb = 0;
        const double *bmae = ls_result_numbers(ev, "baseline_mae", &nb, NULL);
        const double *bover = bmae ? ls_result_numbers(ev, "baseline_mae_overall", NULL, NULL) : NULL;
        const double *cov = ls_result_numbers(ev, "coverage_benchmark", NULL, NULL);
        printf("  %-*s %8s %9s", wb, "benchmark", "MAE", "coverage");
        for (size_t b = 0; bmae && b < nb; b++) printf(" %19s", ls_result_string(ev, "baselines", b));
        printf("\n");
        for (size_t j = 0; j < J; j++) {
            printf("  %-*s %8.4f %8.1f%%", wb, ls_data_benchmark(train, j), mae[j], 100 * cov[j]);
            for (size_t b = 0; bmae && b < nb; b++) printf(" %19.4f", bmae[b * J + j]);
            printf("\n");
        }
        printf("  %-*s %8.4f %8.1f%%", wb, "overall", ls_result_number(ev, "mae_overall"),
               100 * ls_result_number(ev, "coverage"));
        for (size_t b = 0; bmae && b < nb; b++) printf(" %19.4f", bover[b]);
        printf("\n");
        printf("\nMAE overall: %.4f (predictive median), %.4f (predictive mean), %.4f (plug-in at the family mode)\n",
               ls_result_number(ev, "mae_overall"), ls_result_number(ev, "mae_mean"), ls_result_number(ev, "mae_map"));
        if (bmae) {
            size_t best = 0;
            for (size_t b = 1; b < nb; b++)
                if (bover[b] < bover[best]) best = b;
            printf("best one-line baseline on the same cells: %s, MAE %.4f (the latent model's median: %.4f)\n",
                   ls_result_string(ev, "baselines", best), bover[best], ls_result_number(ev, "mae_overall"));
        }
        printf("coverage of the %.0f%% intervals: %.1f%% of %zu cells; of the central 50%% intervals: %.1f%%\n",
               100 * ls_result_number(ev, "level"), 100 * ls_result_number(ev, "coverage"), ncell,
               100 * ls_result_number(ev, "coverage50"));
        cli_print_calibration(fit, train, ls_result_number(ev, "level"),
                              ls_result_number(ev, "calibrated") > 0 ? " inside the training rows (used)"
                                                                     : " inside the training rows (not used: --no-calibration)");
        printf("training fit: log-likelihood %.4f, converged: %s\n", ls_fit_loglik(fit),
               ls_fit_converged(fit) ? "yes" : "NO");
        if (po.param_draws > 0 && !(ls_result_number(ev, "param_uncertainty") > 0))
            printf("warning: the observed information is singular: predictions use the estimates without their uncertainty, so intervals are too narrow\n");
        cli_quiet_end(qs);
        cli_result_warnings(ev);
        code = write_result(ev, a.out, NULL, argc, argv);
        if (!code && fit_out) {
            char *aj = cli_argv_json(argc, argv);
            rc = ls_fit_write_json(fit, train, fit_out, aj, &e);
            free(aj);
            if (rc) code = cli_fail(&e);
        }
    }
    ls_result_free(ev);
    ls_table_free(t);
    ls_table_free(st);
    return cli_json_close(&js, code);
}

/* ---------------------------------------------------------------- */
/* select                                                            */
/* ---------------------------------------------------------------- */

static int parse_range(const char *s, size_t *lo, size_t *hi)
{
    char *end;
    unsigned long a = strtoul(s, &end, 10);
    if (end == s) return -1;
    unsigned long b = a;
    if (strncmp(end, "..", 2) == 0) {
        const char *q = end + 2;
        b = strtoul(q, &end, 10);
        if (end == q) return -1;
    }
    if (*end || a < 1 || b < a) return -1;
    *lo = a;
    *hi = b;
    return 0;
}

int cmd_select(int argc, char **argv)
{
    int json = 0;
    fit_args a;
    fit_args_init(&a);
    const char *range = "1..4";
    unsigned folds = 5;
    int select_interaction = 0, select_ceilings = 0;
    arg_spec specs[] = {DATA_SPECS(a),
                        {"skills", ARG_STRING, &range, "range of K, e.g. 1..12 (default 1..4)", "A..B"},
                        {"folds", ARG_UINT, &folds, "family folds for the cross-validated score (default 5; 0 = none)", "N"},
                        {"starts", ARG_UINT, &a.fopt.starts, "seeded optimiser starts per fit (default 8)", "N"},
                        {"seed", ARG_U64, &a.fopt.seed, "random seed (default 1)", "N"},
                        {"threads", ARG_UINT, &a.fopt.threads, "fits run in parallel (default: all cores)", "N"},
                        {"integration", ARG_STRING, &a.integration, "auto (default), gh, sparse, qmc or laplace", "METHOD"},
                        {"gtol", ARG_DOUBLE, &a.fopt.gtol, "convergence: max |gradient| (default 1e-2)", "X"},
                        {"logit-clamp", ARG_DOUBLE, &a.fopt.logit_clamp, "clip eta into [-X, X] (default 0 = off)", "X"},
                        {"estimate-ceilings", ARG_STRING, &a.fopt.estimate_ceilings,
                         "estimate these benchmarks' ceilings by maximum likelihood (or all)", "A,B,..|all"},
                        {"family-effect", ARG_FLAG, &a.fopt.family_effect,
                         "a family-by-benchmark random effect u_fj ~ N(0, tau_j^2) in every fit (K <= 7)", NULL},
                        {"select-interaction", ARG_FLAG, &select_interaction,
                         "also choose, by the sibling MAE, whether the size-token product term stays", NULL},
                        {"select-ceilings", ARG_FLAG, &select_ceilings,
                         "also choose, by the sibling MAE, which ceilings to estimate, among those the data find "
                         "saturating", NULL},
                        {"out", ARG_STRING, &a.out, "write the table as JSON here", "FILE"},
                        {"quiet", ARG_FLAG, &a.quiet, "no table on stdout", NULL},
                        CLI_JSON_SPEC(json),
        {NULL, 0, NULL, NULL, NULL}};
    arg_result r;
    char msg[256];
    if (args_parse(argc, argv, specs, &r, msg, sizeof msg)) return cli_usage("select", msg);
    if (r.help) {
        cli_help("select", "DATA [--skills A..B] [options]",
                 "Choose the number of skills: for each K the log-likelihood, parameters, AIC, BIC and the\n"
                 "held-out log-likelihood of whole families over seeded family folds, and the sibling MAE\n"
                 "(every family's largest model held out and predicted from the other rows: extrapolation to a\n"
                 "larger sibling); the K each picks.  With --select-interaction and --select-ceilings the sibling\n"
                 "MAE also chooses whether the size-token product term stays and which benchmarks' ceilings are\n"
                 "estimated (after a likelihood-ratio screen at K = 4 names the saturating ones): the\n"
                 "configuration `evaluate --select` would choose from these rows." CLI_LEADERBOARD_UNITS,
                 specs, "  latentscale select leaderboard.csv --floors benchmarks.csv --skills 1..5 --folds 5\n"
                        "  latentscale select leaderboard.csv --skills 3..5 --folds 0 --select-interaction --select-ceilings\n");
        return 0;
    }
    if (r.npos != 1) return cli_usage("select", "expected DATA (see --help)");
    size_t lo, hi;
    if (parse_range(range, &lo, &hi)) return cli_usage("select", "--skills: expected a range such as 1..12");
    if (cli_parse_integration(a.integration, &a.fopt.integration))
        return cli_usage("select", "--integration: expected auto, gh, sparse, qmc or laplace");
    const char *inputs[] = {r.pos[0], a.dopt.floors_file, a.dopt.ceilings_file};
    int x = refuse_overwrite("select", a.out, inputs, 3);
    if (x) return x;
    /* a killed select resumes from OUT.journal */
    char journal[4096] = "";
    if (a.out && snprintf(journal, sizeof journal, "%s.journal", a.out) >= (int)sizeof journal)
        return cli_usage("select", "--out: the file name is too long");
    cli_json js;
    if ((x = cli_json_open(&js, json, &a.out))) return x;
    a.fopt.progress = cli_progress_lines;
    ls_error e = {0, ""};
    ls_table *t = NULL;
    ls_result *s = NULL;
    int rc = ls_items_table_read(r.pos[0], &t, &e);
    if (!rc)
        rc = ls_select_configure(t, &a.dopt, &a.fopt, lo, hi, folds, journal,
                                 (select_interaction ? LS_SELECT_INTERACTION : 0) |
                                     (select_ceilings ? LS_SELECT_CEILINGS : 0),
                                 &s, &e);
    cli_progress_end();
    if (!rc && ls_result_number(s, "reused") > 0)
        fprintf(stderr, "latentscale: select: resumed: %.0f fits taken from %s\n", ls_result_number(s, "reused"),
                journal);
    int code = 0;
    if (rc) code = cli_fail(&e);
    else {
        cli_result_warnings(s); /* on stderr, also with --quiet: drops, unconverged fits and refits */
        int qs = cli_quiet_begin(a.quiet);
        size_t nk = 0;
        const double *K = ls_result_numbers(s, "K", &nk, NULL), *ll = RN(s, "loglik"), *np = RN(s, "n_params");
        const double *aic = RN(s, "aic"), *bic = RN(s, "bic"), *cv = RN(s, "cv"), *conv = RN(s, "converged");
        const double *sampled = RN(s, "sampled"), *sib = RN(s, "sibling_mae");
        const double *refits = RN(s, "refits"), *refits_no = RN(s, "refits_not_converged");
        int has_sib = !isnan(ls_result_number(s, "best_sibling"));
        printf("  %3s %12s %7s %11s %11s %14s %12s %9s %7s\n", "K", "loglik", "params", "AIC", "BIC",
               folds ? "cv loglik" : "", has_sib ? "sibling MAE" : "", "converged", "refits");
        for (size_t i = 0; i < nk; i++) {
            printf("  %3.0f %12.3f %7.0f %11.2f %11.2f ", K[i], ll[i], np[i], aic[i], bic[i]);
            if (folds) printf("%14.3f", cv[i]);
            else printf("%14s", "");
            if (has_sib) printf(" %12.4f", sib[i]);
            else printf(" %12s", "");
            char rf[32] = "";
            if (refits && refits_no && refits[i] > 0) snprintf(rf, sizeof rf, "%.0f/%.0f", refits[i] - refits_no[i], refits[i]);
            printf(" %9s %7s%s\n", conv[i] != 0 ? "yes" : "NO", rf, sampled[i] != 0 ? "  *" : "");
        }
        if (has_sib)
            printf("  sibling MAE: every family's largest model held out, the law refitted without them, the\n"
                   "  MAE of the predictive median of their scores (extrapolation to a larger sibling)\n");
        int any = 0, refit_any = 0;
        for (size_t i = 0; refits && i < nk; i++) refit_any |= refits[i] > 0;
        if (refit_any)
            printf("  refits: of the folds' and the sibling hold-out's fits, how many converged\n");
        for (size_t i = 0; i < nk; i++) any |= sampled[i] != 0;
        if (any)
            printf("  * log-likelihood, AIC, BIC and cv by the fit's check rule at the estimate (importance\n"
                   "    sampling for the Laplace rule, K >= 8; a sparse grid two levels finer, K = 4..7)\n");
        printf("\nK chosen: AIC %.0f, BIC %.0f", K[(size_t)ls_result_number(s, "best_aic")],
               K[(size_t)ls_result_number(s, "best_bic")]);
        if (folds) printf(", cross-validation (%u family folds) %.0f", folds, K[(size_t)ls_result_number(s, "best_cv")]);
        if (has_sib) printf(", sibling extrapolation %.0f", K[(size_t)ls_result_number(s, "best_sibling")]);
        printf("\n");
        int shaky = 0;
        for (size_t i = 0; i < nk; i++) shaky |= conv[i] == 0 || (refits && refits_no && refits_no[i] > 0);
        if (shaky)
            printf("(each among the K whose fit converged; cross-validation and sibling extrapolation also\n"
                   " need all of the K's refits converged)\n");
        if (select_interaction || select_ceilings) {
            printf("\n");
            print_selection(s, "by extrapolation to a larger sibling");
        }
        cli_quiet_end(qs);
        code = write_result(s, a.out, NULL, argc, argv);
    }
    ls_result_free(s);
    ls_table_free(t);
    return cli_json_close(&js, code);
}

/* ---------------------------------------------------------------- */
/* optimal                                                           */
/* ---------------------------------------------------------------- */

/* comma-separated positive numbers */
static int parse_list(const char *s, double *v, size_t max, size_t *n)
{
    *n = 0;
    while (*s) {
        char *end;
        double x = strtod(s, &end);
        if (end == s || *n == max || !isfinite(x)) return -1;
        v[(*n)++] = x;
        s = end;
        if (*s == ',') s++;
        else if (*s) return -1;
    }
    return *n ? 0 : -1;
}

int cmd_optimal(int argc, char **argv)
{
    int json = 0, quiet = 0;
    ls_optimal_options o;
    ls_optimal_options_init(&o);
    cli_field_flag("draws", "--param-draws");
    const char *budgets = NULL, *srange = NULL, *trange = NULL, *out = NULL;
    arg_spec specs[] = {
        {"budgets", ARG_STRING, &budgets, "compute budgets in FLOPs (default: 10, log-spaced over the data's range)", "C1,C2,.."},
        {"size-range", ARG_STRING, &srange, "parameters searched, billions (default: the data's range)", "MIN,MAX"},
        {"tokens-range", ARG_STRING, &trange, "tokens searched, trillions (default: the data's range)", "MIN,MAX"},
        {"param-draws", ARG_SIZE, &o.draws, "parameter draws for the intervals (default 1000; 0 = none)", "N"},
        {"level", ARG_DOUBLE, &o.level, "interval level (default 0.9)", "L"},
        {"seed", ARG_U64, &o.seed, "random seed (default 1)", "N"},
        {"threads", ARG_UINT, &o.threads, "worker threads for the draws (default: all cores)", "N"},
        {"out", ARG_STRING, &out, "write the allocations as JSON here", "FILE"},
        {"quiet", ARG_FLAG, &quiet, "no table on stdout", NULL},
        CLI_JSON_SPEC(json),
        CLI_RENAMED("draws", "--draws is now --param-draws (draws of the parameters, as in predict and compare)"),
        {NULL, 0, NULL, NULL, NULL}};
    arg_result r;
    char msg[256];
    if (args_parse(argc, argv, specs, &r, msg, sizeof msg)) return cli_usage("optimal", msg);
    if (r.help) {
        cli_help("optimal", "FIT [options]",
                 "Compute-optimal allocation under C = 6 N D: for each skill and each benchmark's expected\n"
                 "score, the parameters/tokens split that maximises it at each budget, inside the size and\n"
                 "token ranges, with intervals from the uncertainty of the estimates.",
                 specs, "  latentscale optimal fit.json --size-range 0.07,180 --tokens-range 0.15,15\n");
        return 0;
    }
    if (r.npos != 1) return cli_usage("optimal", "expected FIT (see --help)");
    double bv[1000], sr[2], tr[2];
    size_t nb = 0, n2;
    if (budgets && parse_list(budgets, bv, 1000, &nb)) return cli_usage("optimal", "--budgets: expected positive numbers separated by commas");
    if (srange && (parse_list(srange, sr, 2, &n2) || n2 != 2)) return cli_usage("optimal", "--size-range: expected MIN,MAX");
    if (trange && (parse_list(trange, tr, 2, &n2) || n2 != 2)) return cli_usage("optimal", "--tokens-range: expected MIN,MAX");
    const char *inputs[] = {r.pos[0]};
    int x = refuse_overwrite("optimal", out, inputs, 1);
    if (x) return x;
    cli_json js;
    if ((x = cli_json_open(&js, json, &out))) return x;
    ls_error e = {0, ""};
    ls_fit_summary *fs = NULL;
    ls_result *al = NULL;
    int rc = ls_fit_summary_read(r.pos[0], &fs, &e);
    if (rc) return cli_json_close(&js, cli_fail(&e));
    if (srange) { o.size_min = sr[0]; o.size_max = sr[1]; }
    if (trange) { o.tokens_min = tr[0]; o.tokens_max = tr[1]; }
    if (budgets) { o.budgets = bv; o.nbudgets = nb; }
    rc = ls_optimal(fs, &o, &al, &e);
    int code = 0;
    if (rc) code = cli_fail(&e);
    else {
        int qs = cli_quiet_begin(quiet);
        size_t K = (size_t)ls_result_number(al, "n_skills"), nt = 0, nbud = 0;
        const double *budget = ls_result_numbers(al, "budgets", &nbud, NULL);
        const double *size = ls_result_numbers(al, "size", &nt, NULL), *slo = RN(al, "size_lo"), *shi = RN(al, "size_hi");
        const double *tok = RN(al, "tokens"), *tlo = RN(al, "tokens_lo"), *thi = RN(al, "tokens_hi");
        printf("compute-optimal allocation (C = 6 N D); size in B parameters, tokens in T; %.0f%% intervals%s\n",
               100 * o.level, ls_result_number(al, "draws") > 0 ? "" : " unavailable (no covariance in the fit)");
        printf("size searched in [%.3g, %.3g], tokens in [%.3g, %.3g]\n\n", ls_result_number(al, "size_min"),
               ls_result_number(al, "size_max"), ls_result_number(al, "tokens_min"), ls_result_number(al, "tokens_max"));
        for (size_t t = 0; t < nt; t++) {
            printf("%s %s\n", t < K ? "skill" : "benchmark", ls_result_string(al, "targets", t));
            printf("  %12s %10s %21s %10s %21s\n", "FLOPs", "size", "interval", "tokens", "interval");
            for (size_t b = 0; b < nbud; b++) {
                size_t i = t * nbud + b;
                printf("  %12.4g %10.4g [%8.4g, %8.4g] %10.4g [%8.4g, %8.4g]\n", budget[b], size[i], slo[i],
                       shi[i], tok[i], tlo[i], thi[i]);
            }
        }
        cli_quiet_end(qs);
        cli_result_warnings(al);
        code = write_result(al, out, NULL, argc, argv);
    }
    ls_result_free(al);
    ls_fit_summary_free(fs);
    return cli_json_close(&js, code);
}

/* ---------------------------------------------------------------- */
/* compare                                                           */
/* ---------------------------------------------------------------- */

int cmd_compare(int argc, char **argv)
{
    int json = 0;
    ls_predict_options po;
    ls_predict_options_init(&po);
    const char *families = NULL, *out = NULL;
    int quiet = 0;
    arg_spec specs[] = {
        {"families", ARG_STRING, &families, "the two families A,B (required)", "A,B"},
        PREDICT_SPECS(po),
        {"seed", ARG_U64, &po.seed, "random seed (default 1)", "N"},
        {"threads", ARG_UINT, &po.threads, "worker threads (default: all cores)", "N"},
        {"out", ARG_STRING, &out, "write the comparison as JSON here", "FILE"},
        {"quiet", ARG_FLAG, &quiet, "no table on stdout", NULL},
        CLI_JSON_SPEC(json),
        {NULL, 0, NULL, NULL, NULL}};
    arg_result r;
    char msg[256];
    if (args_parse(argc, argv, specs, &r, msg, sizeof msg)) return cli_usage("compare", msg);
    if (r.help) {
        cli_help("compare", "FIT DATA --families A,B [options]",
                 "Compare two families' skills: the posterior of alpha_A - alpha_B per skill, integrating\n"
                 "both family posteriors and parameter uncertainty; its mean, interval and P(A > B)." CLI_LEADERBOARD_UNITS,
                 specs, "  latentscale compare fit.json leaderboard.csv --families yi-1.5-chat,yi-1.5\n");
        return 0;
    }
    if (r.npos != 2) return cli_usage("compare", "expected FIT and DATA (see --help)");
    if (!families) return cli_usage("compare", "--families: required");
    const char *comma = strchr(families, ',');
    if (!comma || strchr(comma + 1, ',') || comma == families || !comma[1])
        return cli_usage("compare", "--families: expected two names, A,B");
    char fa[256], fb[256];
    snprintf(fa, sizeof fa, "%.*s", (int)(comma - families), families);
    snprintf(fb, sizeof fb, "%s", comma + 1);
    const char *inputs[] = {r.pos[0], r.pos[1]};
    int x = refuse_overwrite("compare", out, inputs, 2);
    if (x) return x;
    cli_json js;
    if ((x = cli_json_open(&js, json, &out))) return x;
    ls_error e = {0, ""};
    ls_table *t = NULL;
    ls_data *d = NULL;
    ls_fit *f = NULL;
    ls_result *c = NULL;
    int rc = load_fit(r.pos[0], r.pos[1], po.threads, &t, &d, &f, &e);
    long ia = -1, ib = -1;
    if (!rc && (ia = ls_data_find_family(d, fa)) < 0)
        rc = opt_error(&e, "--families: no family '%s' in %s", fa, r.pos[1]);
    if (!rc && (ib = ls_data_find_family(d, fb)) < 0)
        rc = opt_error(&e, "--families: no family '%s' in %s", fb, r.pos[1]);
    if (!rc) rc = ls_compare(f, d, (size_t)ia, (size_t)ib, &po, &c, &e);
    int code = 0;
    if (rc) code = cli_fail(&e);
    else {
        int qs = cli_quiet_begin(quiet);
        size_t K = 0;
        const double *ma = ls_result_numbers(c, "mean_a", &K, NULL), *mb = RN(c, "mean_b"), *df = RN(c, "diff");
        const double *lo = RN(c, "lower"), *hi = RN(c, "upper"), *pg = RN(c, "prob_greater");
        printf("%s (A) against %s (B): posterior of alpha_A - alpha_B per skill, %.0f%% intervals\n\n", fa, fb,
               100 * po.level);
        int ws = name_width(c, "skills", K, 12);
        printf("  %-*s %9s %9s %9s %21s %9s\n", ws, "skill", "A", "B", "A - B", "interval", "P(A > B)");
        for (size_t k = 0; k < K; k++)
            printf("  %-*s %9.3f %9.3f %9.3f [%8.3f, %8.3f] %9.3f\n", ws, ls_result_string(c, "skills", k), ma[k],
                   mb[k], df[k], lo[k], hi[k], pg[k]);
        cli_quiet_end(qs);
        cli_result_warnings(c);
        code = write_result(c, out, NULL, argc, argv);
    }
    ls_result_free(c);
    ls_fit_free(f);
    ls_data_free(d);
    ls_table_free(t);
    return cli_json_close(&js, code);
}
