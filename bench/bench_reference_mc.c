/*
 * bench_reference_mc.c -- how the reference implementation's log-likelihood
 * estimate behaves at one of our estimates.  The reference (spec,
 * "Estimation") estimates each family's log L_f by plain Monte Carlo: the
 * log of the mean likelihood over B draws of alpha from the prior
 * N(0, Sigma).  It optimises with 10,000 fresh draws a step; the value it
 * reports, from which the published AIC comes, is one such estimate with
 * 100,000 draws (log_like's default; seed 42, the same draws for every
 * restart of a K) at the average of the last 20 % of iterates, and it keeps
 * the restart whose estimate is largest.  At the estimate of FIT.json this
 * repeats that estimate REPS times with fresh draws and prints, for the
 * total log-likelihood, the mean, the standard deviation, the smallest and
 * largest replication, and the expected largest of RESTARTS independent
 * normal values with that mean and spread.  With 100,000 draws the
 * published value should lie within a few standard deviations of the
 * mean, below it if the reference stopped short of the optimum; the
 * expected largest is what keeping the best of RESTARTS restarts would
 * report if each had fresh draws (an upper bound for the reference's
 * common draws).  It is to be read beside the fit's own (deterministic,
 * accurate) value; docs/METHOD.md, Known limits, has the figures for the
 * paper data.
 *
 * usage: bench_reference_mc FIT.json [DRAWS (100000)] [REPS (20)] [RESTARTS (30)] [DATA.csv]
 * DATA.csv defaults to the paper's table in ../shared/data.  Replication r
 * of family f draws from the Mersenne twister seeded with (f, r), so the
 * output does not depend on the number of threads.
 */
#include "latentscale.h"
#include "scaling/model.h"
#include "scaling/fit.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_integration.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* x n phi(x) Phi(x)^(n-1): the density of the largest of n standard normals, times x */
static double max_integrand(double x, void *p)
{
    double n = *(double *)p;
    return x * n * gsl_ran_ugaussian_pdf(x) * pow(gsl_cdf_ugaussian_P(x), n - 1);
}

static double expected_max(unsigned n)
{
    if (n <= 1) return 0;
    double nn = n, v = NAN, aerr;
    gsl_integration_workspace *w = gsl_integration_workspace_alloc(200);
    gsl_function fn = {max_integrand, &nn};
    if (w) gsl_integration_qagi(&fn, 0, 1e-10, 200, w, &v, &aerr);
    gsl_integration_workspace_free(w);
    return v;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_reference_mc FIT.json [DRAWS] [REPS] [RESTARTS] [DATA.csv]\n");
        return 2;
    }
    int B = argc > 2 ? atoi(argv[2]) : 100000, R = argc > 3 ? atoi(argv[3]) : 20;
    unsigned restarts = argc > 4 ? (unsigned)atoi(argv[4]) : 30;
    char path[4096];
    if (argc > 5) snprintf(path, sizeof path, "%s", argv[5]);
    else snprintf(path, sizeof path, "%s/openllm_merged.csv", LS_SHARED_DATA);
    if (B < 1 || R < 2) {
        fprintf(stderr, "DRAWS must be >= 1 and REPS >= 2\n");
        return 2;
    }
    ls_error e;
    ls_table *t = NULL;
    if (ls_table_read(path, &t, &e)) {
        printf("skip: %s\n", e.message);
        return 0;
    }
    ls_data *d = NULL;
    ls_fit *f = NULL;
    if (ls_fit_load(argv[1], t, 0, &d, &f, &e)) {
        fprintf(stderr, "%s\n", e.message);
        ls_table_free(t);
        return 1;
    }
    const ls_fit_options *o = &f->opt;
    size_t K = o->skills;
    ls_model *m = NULL;
    if (ls_fit_model_new(d, o, LS_INT_LAPLACE, 0, 1, &m, &e)) {
        fprintf(stderr, "%s\n", e.message);
        return 1;
    }
    ls_model_load(m, f->theta);
    size_t F = ls_data_nfamilies(d), J = ls_data_nbenchmarks(d);
    double *lf = calloc(F * (size_t)R, sizeof(double));
    if (!lf) return 1;
    int bad = 0;
#pragma omp parallel for schedule(dynamic)
    for (long fl = 0; fl < (long)F; fl++) {
        size_t fam = (size_t)fl;
        gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
        double *z = malloc(K * sizeof(double)), *r = malloc(J * sizeof(double)), *v = malloc((size_t)B * sizeof(double));
        if (!g || !z || !r || !v) {
#pragma omp atomic write
            bad = 1;
        } else
            for (int rep = 0; rep < R; rep++) {
                gsl_rng_set(g, 1000003ul * (fam + 1) + (unsigned long)rep);
                double mx = -INFINITY;
                for (int b = 0; b < B; b++) {
                    double zz = 0;
                    for (size_t k = 0; k < K; k++) {
                        z[k] = gsl_ran_gaussian_ziggurat(g, 1.0);
                        zz += z[k] * z[k];
                    }
                    /* the family's log-likelihood at alpha = L z: its log
                     * posterior density in z plus the prior's log density */
                    v[b] = ls_model_family_logpost(m, fam, z, r) + 0.5 * (double)K * log(2 * M_PI) + 0.5 * zz;
                    if (v[b] > mx) mx = v[b];
                }
                double s = 0;
                for (int b = 0; b < B; b++) s += exp(v[b] - mx);
                lf[fam * (size_t)R + (size_t)rep] = mx + log(s / B);
            }
        gsl_rng_free(g);
        free(z);
        free(r);
        free(v);
    }
    if (bad) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    double mean = 0, sd = 0, lo = INFINITY, hi = -INFINITY;
    double *tot = calloc((size_t)R, sizeof(double));
    for (int rep = 0; rep < R; rep++) {
        for (size_t fam = 0; fam < F; fam++) tot[rep] += lf[fam * (size_t)R + (size_t)rep];
        mean += tot[rep];
        lo = fmin(lo, tot[rep]);
        hi = fmax(hi, tot[rep]);
    }
    mean /= R;
    for (int rep = 0; rep < R; rep++) sd += (tot[rep] - mean) * (tot[rep] - mean);
    sd = sqrt(sd / (R - 1));
    double em = expected_max(restarts);
    printf("fit %s: K = %zu, logit clamp %g, log-likelihood %.4f\n", argv[1], K, o->logit_clamp, ls_fit_loglik(f));
    printf("plain Monte Carlo, %d prior draws per family, %d replications: mean %.3f (%+.3f), sd %.3f, "
           "range %.3f to %.3f\n",
           B, R, mean, mean - ls_fit_loglik(f), sd, lo, hi);
    printf("expected best of %u such estimates with fresh draws each: mean + %.3f sd = %.3f\n", restarts, em, mean + em * sd);
    free(tot);
    free(lf);
    ls_model_free(m);
    ls_fit_free(f);
    ls_data_free(d);
    ls_table_free(t);
    return 0;
}
