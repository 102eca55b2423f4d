/*
 * bench_predictions.c -- how trustworthy are the scaling law's predictions
 * of a model not yet evaluated?  Held-out evaluations on the paper data with
 * the default options (issue 24): the paper's split (its 11 test models) and
 * the largest model of every family (--holdout largest).  For each it prints
 * the MAE of the predictive median, the coverage of the 90 % and 50 %
 * intervals (overall and per benchmark), the three one-line baselines on the
 * same cells, and wall and CPU seconds.
 *
 * usage: bench_predictions [DATA_DIR (../shared/data)] [K (0: the default)] [DESIGN: both|split|largest]
 *                          [OPTIONS: comma-separated; fe: with the family-by-benchmark effect (fit
 *                          option family_effect); nocal: not calibrated (the default, as
 *                          the fit's, is calibrated inside the training rows, 5 folds; cal, the
 *                          earlier spelling, is accepted; ceil=a+b+..|all: estimate those
 *                          ceilings, fit option estimate_ceilings; select=A-B: K chosen in A..B
 *                          inside the training rows, evaluate --select; selceil: with select, the
 *                          ceilings chosen there too, --select-ceilings)]
 * Exits 77 when the data folder is absent.
 */
#include "latentscale.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double cpu(void) { return (double)clock() / CLOCKS_PER_SEC; }

static int family_effect = 0, calibrate = 1;
static char ceilings[512] = ""; /* estimate_ceilings: ceil=a+b+.. or ceil=all */
static size_t sel_lo = 0, sel_hi = 0; /* select=A-B: evaluate's nested choice of K */
static int sel_ceilings = 0;           /* selceil: and of the ceilings */

static int run(const char *label, const ls_table *t, const ls_table *split, const char *floors, size_t K)
{
    ls_data_options dopt;
    ls_data_options_init(&dopt);
    dopt.floors_file = floors;
    ls_fit_options fo;
    ls_fit_options_init(&fo);
    if (K) fo.skills = K;
    fo.family_effect = family_effect;
    fo.calibrate = calibrate;
    if (ceilings[0]) fo.estimate_ceilings = ceilings;
    ls_predict_options po;
    ls_predict_options_init(&po);
    ls_error e;
    ls_result *ev = NULL;
    double w0 = now(), c0 = cpu();
    int rc = sel_lo ? ls_evaluate_select(t, &dopt, split, &fo, &po, sel_lo, sel_hi,
                                         sel_ceilings ? LS_SELECT_CEILINGS : 0, &ev, &e)
                    : ls_evaluate(t, &dopt, split, &fo, &po, &ev, &e);
    if (rc) {
        fprintf(stderr, "bench_predictions: %s: %s\n", label, e.message);
        return 1;
    }
    double wall = now() - w0, cs = cpu() - c0;
    if (sel_lo) fo.skills = (size_t)ls_result_number(ev, "selected_skills");
    size_t J = 0, nb = 0;
    const double *mae = ls_result_numbers(ev, "mae", &J, NULL);
    const double *cov = ls_result_numbers(ev, "coverage_benchmark", NULL, NULL);
    const double *bm = ls_result_numbers(ev, "baseline_mae", &nb, NULL);
    const double *bo = ls_result_numbers(ev, "baseline_mae_overall", NULL, NULL);
    printf("\n== %s: K = %zu%s%s%s%s, %g training rows, %g test rows, %g cells; %.1f s wall, %.1f s CPU\n", label,
           fo.skills, family_effect ? " with the family effect" : "", calibrate ? ", calibrated (5 folds)" : "",
           ceilings[0] ? ", ceilings estimated: " : "", ceilings, ls_result_number(ev, "n_train"), ls_result_number(ev, "n_test"), ls_result_number(ev, "n_cells"),
           wall, cs);
    if (sel_lo) {
        const char *ch = ls_result_string(ev, "selected_ceilings", 0), *cand = ls_result_string(ev, "select_ceiling_candidates", 0);
        size_t nk = 0, nc = 0;
        const double *sm = ls_result_numbers(ev, "select_sibling_mae", &nk, &nc);
        const double *sd = ls_result_numbers(ev, "select_mae_difference", NULL, NULL);
        const double *ss = ls_result_numbers(ev, "select_mae_difference_se", NULL, NULL);
        printf("  chosen inside the training rows: K = %zu, ceilings estimated: %s\n", fo.skills, ch && *ch ? ch : "none");
        if (cand) printf("  ceiling candidates: %s\n", cand);
        for (size_t q = 0; sm && sd && ss && q < nk * nc; q++)
            printf("    K = %.0f, ceilings %-28s sibling MAE %.4f, difference %+.4f (se %.4f)\n",
                   ls_result_numbers(ev, "select_skills", NULL, NULL)[q / nc],
                   *ls_result_string(ev, "select_ceilings", q % nc) ? ls_result_string(ev, "select_ceilings", q % nc) : "none",
                   sm[q], sd[q], ss[q]);
    }
    printf("  %-12s %8s %9s", "benchmark", "MAE", "cover90");
    for (size_t b = 0; b < nb; b++) printf(" %19s", ls_result_string(ev, "baselines", b));
    printf("\n");
    double worst = 1;
    for (size_t j = 0; j < J; j++) {
        printf("  %-12s %8.4f %8.1f%%", ls_result_string(ev, "benchmarks", j), mae[j], 100 * cov[j]);
        for (size_t b = 0; b < nb; b++) printf(" %19.4f", bm[b * J + j]);
        printf("\n");
        if (!isnan(cov[j]) && cov[j] < worst) worst = cov[j];
    }
    double best = INFINITY;
    for (size_t b = 0; b < nb; b++) best = fmin(best, bo[b]);
    printf("  %-12s %8.4f %8.1f%%", "overall", ls_result_number(ev, "mae_overall"), 100 * ls_result_number(ev, "coverage"));
    for (size_t b = 0; b < nb; b++) printf(" %19.4f", bo[b]);
    printf("\n  MAE of the median %.4f (better than the best baseline %.4f: %s); 90%% coverage %.1f%% (goal 85-95), "
           "50%% coverage %.1f%%, lowest benchmark coverage %.1f%% (goal >= 75)\n",
           ls_result_number(ev, "mae_overall"), best, ls_result_number(ev, "mae_overall") < best ? "yes" : "NO",
           100 * ls_result_number(ev, "coverage"), 100 * ls_result_number(ev, "coverage50"), 100 * worst);
    for (size_t i = 0; i < ls_result_nwarnings(ev); i++) printf("  warning: %s\n", ls_result_warning(ev, i));
    ls_result_free(ev);
    return 0;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : LS_SHARED_DATA;
    size_t K = argc > 2 ? (size_t)atoi(argv[2]) : 0;
    const char *design = argc > 3 ? argv[3] : "both";
    const char *opts = argc > 4 ? argv[4] : "";
    family_effect = strstr(opts, "fe") != NULL;
    calibrate = strstr(opts, "nocal") == NULL;
    const char *se = strstr(opts, "select=");
    if (se && sscanf(se + 7, "%zu-%zu", &sel_lo, &sel_hi) != 2) sel_lo = sel_hi = 0;
    sel_ceilings = strstr(opts, "selceil") != NULL;
    const char *ce = strstr(opts, "ceil=");
    if (ce) {
        snprintf(ceilings, sizeof ceilings, "%s", ce + 5);
        for (char *c = ceilings; *c; c++) {
            if (*c == ',') {
                *c = '\0';
                break;
            }
            if (*c == '+') *c = ',';
        }
    }
    char path[4096], floors[4096], sp[4096];
    snprintf(path, sizeof path, "%s/openllm_merged.csv", dir);
    snprintf(floors, sizeof floors, "%s/benchmarks.csv", dir);
    snprintf(sp, sizeof sp, "%s/paper_split.csv", dir);
    ls_error e;
    ls_table *t = NULL, *split = NULL;
    if (ls_table_read(path, &t, &e) || ls_table_read(sp, &split, &e)) {
        printf("skip: %s (the shared data folder is absent)\n", e.message);
        ls_table_free(t);
        return 77;
    }
    printf("latentscale %s: held-out predictions with the default options\n", LS_VERSION);
    int rc = 0;
    if (strcmp(design, "largest") != 0) rc |= run("paper_split.csv", t, split, floors, K);
    if (strcmp(design, "split") != 0) rc |= run("--holdout largest", t, NULL, floors, K);
    ls_table_free(t);
    ls_table_free(split);
    return rc;
}
