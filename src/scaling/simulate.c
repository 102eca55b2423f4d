/*
 * simulate.c -- synthetic leaderboards drawn from the scaling law itself,
 * shaped like the Open LLM Leaderboard: many singleton families, sizes from
 * 0.1 to 200 B parameters on a realistic ladder, 0.1 to 20 T tokens shared
 * loosely within a family, and whole benchmark blocks never run (a model
 * evaluated on only one leaderboard version).
 */
#include "scaling/data.h"
#include "scaling/params.h"
#include "kernel/special.h"

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The paper's benchmark order and the leaderboard floors (benchmarks.csv). */
static const char *const LB_NAMES[12] = {"math", "ifeval", "hellaswag", "bbh", "mmlu-pro", "mmlu",
                                         "arc", "truthfulqa", "gsm8k", "winogrande", "gpqa", "musr"};
static const double LB_FLOORS[12] = {0, 0, 0.25, 0.2885, 0.1, 0.25, 0.25, 0.31, 0, 0.5, 0.25, 0.3433};
/* leaderboard version of each: 0 = v1 block, 1 = v2 block */
static const int LB_BLOCK[12] = {1, 1, 0, 1, 1, 0, 0, 0, 0, 0, 1, 1};
static const double SIZES[] = {0.125, 0.35, 0.5, 1.1, 1.5, 2.7, 3.8, 7, 8, 13, 14, 32, 34, 46, 70, 72, 110, 180};
#define NSIZES (sizeof SIZES / sizeof SIZES[0])

int ls_sim_options_check(const ls_sim_options *o, ls_error *err)
{
    size_t K = o->skills, J = o->benchmarks, F = o->families;
    if (F < 1 || F > 1000000) return ls_fail(err, LS_ERR_OPTION, "families: expected 1..1000000");
    if (J < 1 || J > 200) return ls_fail(err, LS_ERR_OPTION, "benchmarks: expected 1..200");
    if (K < 1 || K > J || K > 40)
        return ls_fail(err, LS_ERR_OPTION, "skills: expected 1..min(40, benchmarks)");
    if (!(o->missing >= 0 && o->missing < 1))
        return ls_fail(err, LS_ERR_OPTION, "missing: expected a share in [0, 1)");
    if (!(o->family_effect_sd >= 0 && o->family_effect_sd <= 5))
        return ls_fail(err, LS_ERR_OPTION, "family_effect_sd: expected a number in [0, 5]");
    if (o->truth && (o->truth->K != K || o->truth->J != J || o->truth->p != 3))
        return ls_fail(err, LS_ERR_OPTION, "truth: the given true parameters do not match K, J and p = 3");
    return LS_OK;
}

void ls_sim_options_init(ls_sim_options *o)
{
    memset(o, 0, sizeof *o);
    o->families = 60;
    o->skills = 3;
    o->benchmarks = 12;
    o->missing = 0.3;
    o->seed = 1;
}

static void random_truth(gsl_rng *g, ls_params *t)
{
    size_t K = t->K, J = t->J;
    for (size_t k = 0; k < K; k++) {
        t->beta[0 * K + k] = 0.3 + 0.5 * gsl_rng_uniform(g);  /* log size   */
        t->beta[1 * K + k] = 0.2 + 0.5 * gsl_rng_uniform(g);  /* log tokens */
        t->beta[2 * K + k] = gsl_ran_gaussian(g, 0.05);       /* product    */
    }
    for (size_t j = 0; j < J; j++) {
        for (size_t k = 0; k < K; k++)
            t->lambda[k * J + j] = j < K ? (j == k ? 0.6 + 0.6 * gsl_rng_uniform(g) : 0)
                                         : 0.25 + gsl_ran_gaussian(g, 0.3);
        t->phi[j] = 30 + 120 * gsl_rng_uniform(g);
    }
    /* Sigma = L L^T, rows of L unit length */
    double L[40 * 40] = {0};
    for (size_t k = 0; k < K; k++) {
        double s = 1;
        L[k * K + k] = 1;
        for (size_t l = 0; l < k; l++) {
            L[k * K + l] = gsl_ran_gaussian(g, 0.6);
            s += L[k * K + l] * L[k * K + l];
        }
        for (size_t l = 0; l <= k; l++) L[k * K + l] /= sqrt(s);
    }
    for (size_t r = 0; r < K; r++)
        for (size_t c = 0; c < K; c++) {
            double s = 0;
            for (size_t l = 0; l < K; l++) s += L[r * K + l] * L[c * K + l];
            t->sigma[r * K + c] = r == c ? 1 : s;
        }
}

int ls_simulate(const ls_sim_options *o, ls_table **table, ls_params *truth, double **floors,
                ls_error *err)
{
    *table = NULL;
    *floors = NULL;
    memset(truth, 0, sizeof *truth);
    size_t K = o->skills, J = o->benchmarks, F = o->families;
    int rc0 = ls_sim_options_check(o, err);
    if (rc0) return rc0;

    int rc = ls_params_alloc(truth, K, J, 3, err);
    if (rc) return rc;
    double *fl = ls_calloc(J, sizeof(double));
    char **names = ls_calloc(J + 4, sizeof(char *));
    gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
    ls_table *t = NULL;
    double *xs = NULL;
    size_t n = 0;
    char **cells = NULL;
    gsl_rng *gu = NULL; /* the family effects' own stream */
    double *ufj = NULL;
    if (!fl || !names || !g) { rc = ls_nomem(err); goto fail; }
    gsl_rng_set(g, (unsigned long)(o->seed ? o->seed : 1));
    names[0] = ls_strdup("model");
    names[1] = ls_strdup("family");
    names[2] = ls_strdup("size");
    names[3] = ls_strdup("tokens");
    for (size_t j = 0; j < J; j++) {
        char buf[32];
        if (J <= 12) snprintf(buf, sizeof buf, "%s", LB_NAMES[j]);
        else snprintf(buf, sizeof buf, "bench%03zu", j + 1);
        names[4 + j] = ls_strdup(buf);
        fl[j] = J <= 12 ? LB_FLOORS[j] : (j % 2 ? 0.25 : 0);
    }
    for (size_t c = 0; c < J + 4; c++)
        if (!names[c]) { rc = ls_nomem(err); goto fail; }
    if (o->truth) ls_params_copy(truth, o->truth);
    else random_truth(g, truth);
    /* ceilings: the option's, else the given truth's (ls_params_copy), else
     * 1; then the overrides; each at least 0.01 above its floor, as in data */
    for (size_t j = 0; j < J; j++)
        if (o->ceilings) truth->ceiling[j] = o->ceilings[j];
        else if (!o->truth) truth->ceiling[j] = 1;
    if ((rc = ls_bound_overrides(o->ceiling_list, "ceiling_list", 1, names + 4, J, truth->ceiling, err))) goto fail;
    if (o->family_effect_sd > 0 && !(o->truth && o->truth->family_effect)) {
        truth->family_effect = 1;
        for (size_t j = 0; j < J; j++) truth->tau[j] = o->family_effect_sd;
    }
    if (truth->family_effect) {
        if (!(gu = gsl_rng_alloc(gsl_rng_mt19937))) { rc = ls_nomem(err); goto fail; }
        gsl_rng_set(gu, (unsigned long)((o->seed ? o->seed : 1) ^ 0x5eedfaceUL));
        if (!(ufj = ls_calloc(J, sizeof(double)))) { rc = ls_nomem(err); goto fail; }
    }
    for (size_t j = 0; j < J; j++)
        if (!(truth->ceiling[j] >= fl[j] + 0.01 && truth->ceiling[j] <= 1)) {
            rc = ls_fail(err, LS_ERR_OPTION, "ceiling of '%s': expected a number in [%g, 1], found %g",
                         names[4 + j], fl[j] + 0.01, truth->ceiling[j]);
            goto fail;
        }

    /* family sizes: about 60 % singletons, the rest 2..12 */
    size_t *fsize = ls_calloc(F, sizeof(size_t));
    if (!fsize) { rc = ls_nomem(err); goto fail; }
    for (size_t f = 0; f < F; f++) {
        fsize[f] = gsl_rng_uniform(g) < 0.6 ? 1 : 2 + gsl_ran_geometric(g, 0.35) - 1;
        if (fsize[f] > 12) fsize[f] = 12;
        n += fsize[f];
    }
    xs = ls_calloc(n * 3 + 1, sizeof(double));
    size_t *fam = ls_calloc(n, sizeof(size_t));
    if (!xs || !fam) { ls_free(fsize); ls_free(fam); rc = ls_nomem(err); goto fail; }
    for (size_t f = 0, i = 0; f < F; f++) {
        double lt = log(0.2) + (log(15.0) - log(0.2)) * gsl_rng_uniform(g);
        size_t span = fsize[f] < NSIZES ? NSIZES - fsize[f] + 1 : 1;
        size_t start = gsl_rng_uniform_int(g, span);
        for (size_t q = 0; q < fsize[f]; q++, i++) {
            size_t si = start + q < NSIZES ? start + q : NSIZES - 1;
            double s = SIZES[si] * exp(gsl_ran_gaussian(g, 0.05));
            double tk = exp(lt + gsl_ran_gaussian(g, 0.25));
            if (tk < 0.1) tk = 0.1;
            if (tk > 20) tk = 20;
            xs[i * 3 + 0] = log(s);
            xs[i * 3 + 1] = log(tk);
            xs[i * 3 + 2] = xs[i * 3] * xs[i * 3 + 1];
            fam[i] = f;
        }
    }
    ls_free(fsize);
    double xm[3] = {0, 0, 0};
    for (size_t i = 0; i < n; i++)
        for (size_t q = 0; q < 3; q++) xm[q] += xs[i * 3 + q] / (double)n;
    if (!o->truth) { /* centre each benchmark's logit near a realistic mean */
        for (size_t j = 0; j < J; j++) {
            double s = 0;
            for (size_t k = 0; k < K; k++) {
                double th = 0;
                for (size_t q = 0; q < 3; q++) th += truth->beta[q * K + k] * xm[q];
                s += truth->lambda[k * J + j] * th;
            }
            truth->b[j] = -s + gsl_ran_gaussian(g, 0.5);
        }
    }

    rc = ls_table_new("simulated", J + 4, (const char *const *)names, &t, err);
    cells = ls_calloc(J + 4, sizeof(char *));
    char *buf = ls_calloc((J + 4) * 48, 1);
    if (rc || !cells || !buf) { ls_free(fam); ls_free(buf); if (!rc) rc = ls_nomem(err); goto fail; }
    for (size_t c = 0; c < J + 4; c++) cells[c] = buf + c * 48;
    double alpha[40], tmp[40];
    size_t last_f = (size_t)-1;
    for (size_t i = 0; i < n; i++) {
        size_t f = fam[i];
        if (f != last_f) { /* alpha_f ~ N(0, Sigma) via Cholesky */
            double S[40 * 40];
            memcpy(S, truth->sigma, K * K * sizeof(double));
            for (size_t k = 0; k < K; k++) tmp[k] = gsl_ran_gaussian(g, 1);
            /* simple Cholesky: Sigma is a valid correlation matrix here */
            for (size_t r = 0; r < K; r++)
                for (size_t c = 0; c <= r; c++) {
                    double s = S[r * K + c];
                    for (size_t q = 0; q < c; q++) s -= S[r * K + q] * S[c * K + q];
                    S[r * K + c] = r == c ? sqrt(fmax(s, 1e-12)) : s / S[c * K + c];
                }
            for (size_t r = 0; r < K; r++) {
                double s = 0;
                for (size_t c = 0; c <= r; c++) s += S[r * K + c] * tmp[c];
                alpha[r] = s;
            }
            for (size_t j = 0; gu && j < J; j++) ufj[j] = gsl_ran_gaussian(gu, truth->tau[j]);
            last_f = f;
        }
        double size = exp(xs[i * 3]), tok = exp(xs[i * 3 + 1]);
        snprintf(cells[0], 48, "fam%04zu-%.3gb-%zu", f + 1, size, i + 1);
        snprintf(cells[1], 48, "fam%04zu", f + 1);
        snprintf(cells[2], 48, "%.6g", size);
        snprintf(cells[3], 48, "%.6g", tok);
        double pmul = 1; /* heteroscedastic truth: log phi_ij = log phi_j + gamma . (x_i - mean x) */
        if (truth->hetero) {
            double lp = 0;
            for (size_t q = 0; q < 3; q++) lp += truth->gamma[q] * (xs[i * 3 + q] - xm[q]);
            pmul = exp(lp);
        }
        double u = gsl_rng_uniform(g);
        int drop = u < o->missing / 2 ? 0 : u < o->missing ? 1 : -1; /* block never run */
        for (size_t j = 0; j < J; j++) {
            double eta = truth->b[j];
            for (size_t k = 0; k < K; k++) {
                double th = alpha[k];
                for (size_t q = 0; q < 3; q++) th += truth->beta[q * K + k] * xs[i * 3 + q];
                eta += truth->lambda[k * J + j] * th;
            }
            if (ufj) eta += ufj[j];
            double ce = truth->ceiling[j];
            double mu = fl[j] + (ce - fl[j]) * ls_logistic(eta);
            int block = J <= 12 ? LB_BLOCK[j] : (int)(j % 2);
            int anchor_row = j < K && i == 0;
            if (block == drop && !anchor_row) { cells[4 + j][0] = '\0'; continue; }
            double ph = truth->phi[j] * pmul;
            double y = gsl_ran_beta(g, ph * mu, ph * (1 - mu));
            snprintf(cells[4 + j], 48, "%.6g", y);
        }
        rc = ls_table_append(t, (const char *const *)cells, err);
        if (rc) { ls_free(fam); ls_free(buf); goto fail; }
    }
    ls_free(fam);
    ls_free(buf);
    ls_free(cells);
    ls_free(xs);
    ls_strv_free(names, J + 4);
    gsl_rng_free(g);
    if (gu) gsl_rng_free(gu);
    ls_free(ufj);
    *table = t;
    *floors = fl;
    return LS_OK;
fail:
    ls_free(cells);
    ls_free(xs);
    if (names) ls_strv_free(names, J + 4);
    if (g) gsl_rng_free(g);
    if (gu) gsl_rng_free(gu);
    ls_free(ufj);
    ls_free(fl);
    ls_table_free(t);
    ls_params_free(truth);
    return rc;
}
