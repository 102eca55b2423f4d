/*
 * gpcm_sim.c -- responses from the multidimensional generalized partial
 * credit model, in the design of the spec's "Checks" (Cui, Wang and Xu 2024,
 * section 5): slopes U(0.5, 1) on the loaded dimensions, thresholds N(0, 1),
 * latent correlations U(0.2, 0.7).
 */
#include "gpcm/model.h"
#include "kernel/linalg.h"

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <string.h>

void lsg_sim_free(lsg_sim *s)
{
    if (!s) return;
    ls_free(s->Y);
    ls_free(s->P);
    ls_free(s->pattern);
    ls_free(s->a);
    ls_free(s->b);
    ls_free(s->sigma);
    ls_free(s->theta);
    ls_free(s->off);
    memset(s, 0, sizeof *s);
}

int lsg_simulate(size_t N, size_t J, size_t K, unsigned ncat_lo, unsigned ncat_hi, double missing,
                 uint64_t seed, lsg_sim *out, ls_error *err)
{
    memset(out, 0, sizeof *out);
    if (K < 1 || K > 10 || J < K || N < 1 || ncat_lo < 2 || ncat_hi < 2 || ncat_lo > 64 || ncat_hi > 64)
        return ls_fail(err, LS_ERR_OPTION, "gpcm simulate: invalid design");
    gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
    if (!g) return ls_nomem(err);
    gsl_rng_set(g, (unsigned long)(seed ? seed : 1));
    out->N = N;
    out->J = J;
    out->K = K;
    out->P = ls_malloc(J * sizeof *out->P);
    out->off = ls_malloc((J + 1) * sizeof *out->off);
    out->pattern = ls_calloc(J * K, sizeof *out->pattern);
    out->a = ls_calloc(J * K, sizeof *out->a);
    out->sigma = ls_calloc(K * K, sizeof *out->sigma);
    out->theta = ls_malloc(N * K * sizeof *out->theta);
    out->Y = ls_malloc(N * J * sizeof *out->Y);
    double *L = ls_malloc(K * K * sizeof *L), *eta = ls_malloc(65 * sizeof *eta);
    int rc = LS_OK;
    if (!out->P || !out->off || !out->pattern || !out->a || !out->sigma || !out->theta || !out->Y || !L ||
        !eta) {
        rc = ls_nomem(err);
        goto done;
    }
    for (size_t j = 0; j < J; j++) out->P[j] = (j < J / 2 ? ncat_lo : ncat_hi) - 1;
    lsg_offsets(out->P, J, out->off);
    out->b = ls_calloc(out->off[J], sizeof *out->b);
    if (!out->b) {
        rc = ls_nomem(err);
        goto done;
    }
    for (size_t j = 0; j < J; j++) {
        size_t k1 = j % K;
        out->pattern[j * K + k1] = 1;
        if (K > 1 && (j / K) % 3 == 1) out->pattern[j * K + (k1 + 1) % K] = 1;
        for (size_t k = 0; k < K; k++)
            if (out->pattern[j * K + k]) out->a[j * K + k] = 0.5 + 0.5 * gsl_rng_uniform(g);
        double cum = 0;
        for (size_t k = 1; k <= out->P[j]; k++) {
            cum += gsl_ran_gaussian(g, 1.0);
            out->b[out->off[j] + k] = cum;
        }
    }
    for (int tries = 0;; tries++) {
        for (size_t p = 0; p < K; p++)
            for (size_t q = 0; q <= p; q++)
                out->sigma[p * K + q] = out->sigma[q * K + p] = p == q ? 1.0 : 0.2 + 0.5 * gsl_rng_uniform(g);
        memcpy(L, out->sigma, K * K * sizeof *L);
        if (!ls_chol(L, K)) break;
        if (tries > 1000) {
            rc = ls_fail(err, LS_ERR_NUMERIC, "gpcm simulate: no positive definite correlation drawn");
            goto done;
        }
    }
    for (size_t i = 0; i < N; i++) {
        double zz[10], *th = out->theta + i * K;
        for (size_t k = 0; k < K; k++) zz[k] = gsl_ran_gaussian(g, 1.0);
        for (size_t p = 0; p < K; p++) {
            th[p] = 0;
            for (size_t q = 0; q <= p; q++) th[p] += L[p * K + q] * zz[q];
        }
        for (size_t j = 0; j < J; j++) {
            const double *aj = out->a + j * K, *bj = out->b + out->off[j];
            double s = 0, mx = -INFINITY, sum = 0;
            for (size_t k = 0; k < K; k++) s += aj[k] * th[k];
            for (size_t h = 0; h <= out->P[j]; h++) {
                eta[h] = (double)h * s - bj[h];
                if (eta[h] > mx) mx = eta[h];
            }
            for (size_t h = 0; h <= out->P[j]; h++) sum += (eta[h] = exp(eta[h] - mx));
            double u = gsl_rng_uniform(g) * sum, c = 0;
            int y = (int)out->P[j];
            for (size_t h = 0; h <= out->P[j]; h++) {
                c += eta[h];
                if (u < c) {
                    y = (int)h;
                    break;
                }
            }
            if (missing > 0 && gsl_rng_uniform(g) < missing) y = -1;
            out->Y[i * J + j] = y;
        }
    }
done:
    gsl_rng_free(g);
    ls_free(L);
    ls_free(eta);
    if (rc) lsg_sim_free(out);
    return rc;
}
