/*
 * bench_fit.c -- speed of the scaling-law fit on the paper data
 * (../shared/data/openllm_merged.csv, the paper's benchmark order and
 * floors): for each K, the time of one likelihood-plus-gradient evaluation,
 * of the analytic Hessian (and their ratio) and of the whole multi-start fit (split into search, polish and standard
 * errors; "best" counts polished starts at the best value), with the log-likelihood reached against
 * the value implied by the reference implementation's AIC.
 *
 * usage: bench_fit [DATA_DIR] [KMAX] [STARTS] [KMIN] [CLAMP]
 * Goal (issue 25): the whole K = 1..12 sweep under 60 s wall and 120 s
 * CPU on 2 cores, every K converged with the certificate (max |gradient|
 * below gtol at re-adapted nodes, Hessian negative definite), its value
 * within 0.05 of the check (|chk-ll|).
 * CLAMP > 0 fits with eta clipped into [-CLAMP, CLAMP] (fit option
 * logit_clamp; 4.5 is the clip behind the reference's published AIC
 * table); the evaluation and Hessian timings stay those of the unclipped
 * likelihood.  "conv" is yes (max |g| <= gtol), chg (with the clip:
 * converged by the log-likelihood's change) or no.
 */
#include "latentscale.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ORDER "math,ifeval,hellaswag,bbh,mmlu-pro,mmlu,arc,truthfulqa,gsm8k,winogrande,gpqa,musr"
static const double REF_LL[12] = {2728.3, 2971.3, 3062.0, 3123.5, 3149.8, 3162.3,
                                  3161.9, 3159.8, 3165.1, 3162.9, 3160.7, 3163.8};

/* The standard deviation of the reference's own evaluation of its
 * log-likelihood (plain Monte Carlo, 100,000 prior draws per family) at our
 * clipped optima, measured with bench_reference_mc (20 replications; K = 1..5
 * with version 0.5.3, K = 6..12 with 0.9.0).  A clipped fit is within
 * tolerance of the published value when it is at least that value less two
 * of these. */
static const double REF_SD[12] = {0.18, 0.50, 0.67, 2.09, 2.34, 2.70, 2.58, 2.30, 2.85, 2.42, 2.90, 2.91};

static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : LS_SHARED_DATA;
    int kmax = argc > 2 ? atoi(argv[2]) : 12;
    unsigned starts = argc > 3 ? (unsigned)atoi(argv[3]) : 0;
    int kmin = argc > 4 ? atoi(argv[4]) : 1;
    double clamp = argc > 5 ? atof(argv[5]) : 0;
    char path[4096], floors[4096];
    snprintf(path, sizeof path, "%s/openllm_merged.csv", dir);
    snprintf(floors, sizeof floors, "%s/benchmarks.csv", dir);
    ls_error e;
    ls_table *t = NULL;
    if (ls_table_read(path, &t, &e)) {
        printf("skip: %s\n", e.message);
        return 0;
    }
    ls_data_options o;
    ls_data_options_init(&o);
    o.benchmarks = ORDER;
    o.floors_file = floors;
    ls_data *d = NULL;
    if (ls_data_build(t, &o, &d, &e)) {
        fprintf(stderr, "%s\n", e.message);
        return 1;
    }
    printf("paper data: %zu models, %zu families, %zu observed cells\n", ls_data_nmodels(d),
           ls_data_nfamilies(d), ls_data_nobserved(d));
    if (clamp > 0) printf("fits with eta clipped into [-%g, %g] (the reference's published fits: 4.5)\n", clamp, clamp);
    printf("%3s %9s %9s %5s %8s %8s %8s %8s %8s %11s %11s %9s %9s %5s %5s %6s %9s %11s %7s\n", "K", "eval ms", "hess ms",
           "ratio", "fit s", "cpu s", "search", "polish", "se", "loglik", "reference", "tol", "diff", "conv", "hess",
           "best", "max|g|", "check", "|chk-ll|");
    double total = 0, total_sp = 0, total_cpu = 0;
    for (int K = kmin; K <= kmax; K++) {
        ls_model *m = NULL;
        ls_fit_options fo;
        ls_fit_options_init(&fo);
        fo.skills = (size_t)K;
        if (starts) fo.starts = starts;
        fo.logit_clamp = clamp;
        double t0 = now(), c0 = cpu_now();
        ls_fit *f = NULL;
        if (ls_fit_run(d, &fo, &f, &e)) {
            printf("%3d  fit failed: %s\n", K, e.message);
            ls_model_free(m);
            continue;
        }
        double tf = now() - t0, cf = cpu_now() - c0;
        if (ls_model_new(d, (size_t)K, ls_fit_anchors(f), LS_INT_AUTO, 0, 0, &m, &e)) { /* the fit's anchors */
            printf("%3d  model failed: %s\n", K, e.message);
            ls_fit_free(f);
            continue;
        }
        total += tf;
        total_cpu += cf;
        size_t dim = ls_model_dim(m);
        double *g = malloc(dim * sizeof(double)), ll;
        const double *th = ls_fit_theta(f);
        ls_model_loglik(m, th, &ll, g, NULL, &e);
        int reps = 20;
        double t1 = now();
        for (int r = 0; r < reps; r++) ls_model_loglik(m, th, &ll, g, NULL, &e);
        double te = (now() - t1) / reps * 1e3;
        /* the analytic Hessian at the nodes just adapted, in gradient calls */
        double *H = malloc(dim * dim * sizeof(double));
        ls_model_loglik(m, th, &ll, g, NULL, &e);
        t1 = now();
        for (int r = 0; r < 5; r++) ls_model_hessian(m, th, H, &e);
        double th_ms = (now() - t1) / 5 * 1e3;
        free(H);
        double ts, tp, tse, tt;
        ls_fit_timing(f, &ts, &tp, &tse, &tt);
        total_sp += ts + tp;
        /* conv: yes (max |g| <= gtol at re-adapted nodes), chg (with the
         * clip: by the log-likelihood's change) or no; hess: the Hessian
         * half of the certificate (yes, NO, - not computed); tol: the
         * published value less two sd of the reference's own evaluation,
         * printed for the clipped sweep where measured; the check exists
         * for K >= 4 */
        int hd = ls_fit_hessian_definite(f, NULL);
        double chk = ls_fit_loglik_check(f, NULL), tol = clamp > 0 ? REF_LL[K - 1] - 2 * REF_SD[K - 1] : NAN;
        printf("%3d %9.2f %9.2f %5.1f %8.2f %8.2f %8.1f %8.1f %8.1f %11.2f %11.1f %9.2f %9.2f %5s %5s %6u %9.3g %11.2f %7.3f%s\n",
               K, te, th_ms, th_ms / te, tf, cf, ts, tp, tse, ls_fit_loglik(f), REF_LL[K - 1], tol,
               ls_fit_loglik(f) - REF_LL[K - 1],
               ls_fit_converged(f) == LS_CONVERGED_CHANGE ? "chg" : ls_fit_converged(f) ? "yes" : "no",
               hd > 0 ? "yes" : hd == 0 ? "NO" : "-", ls_fit_starts_at_best(f), ls_fit_gradnorm(f), chk,
               fabs(chk - ls_fit_loglik(f)), isnan(tol) ? "" : ls_fit_loglik(f) >= tol ? "  within tol" : "  BELOW tol");
        fflush(stdout);
        free(g);
        ls_fit_free(f);
        ls_model_free(m);
    }
    printf("total fit time K = %d..%d: %.1f s wall, %.1f s CPU (goal: under 60 s wall and 120 s CPU for K = 1..12)\n",
           kmin, kmax, total, total_cpu);
    printf("of which search and polish (the restarts and the optimisation, without standard errors and the check): %.1f s\n",
           total_sp);
    ls_data_free(d);
    ls_table_free(t);
    return 0;
}
