/*
 * factor_simulate.c -- the simulation design of Ouyang, Cui, Tan and Xu
 * (arXiv 2404.16745, section on simulations; spec "Checks"), used by the
 * tests and bench/bench_factor.c.
 */
#include "factor/fit.h"
#include "kernel/linalg.h"

#include <math.h>
#include <string.h>

void lsf_sim_free(lsf_sim *s)
{
    if (!s) return;
    ls_free(s->Y);
    ls_free(s->X);
    ls_free(s->U);
    ls_free(s->gamma);
    ls_free(s->beta);
    memset(s, 0, sizeof *s);
}

double lsf_sim_draw(int family, double w, double s2, ls_rng *g)
{
    switch (family) {
    case LS_FACTOR_POISSON: { /* inversion; w is bounded by the design */
        double lam = exp(w), u = ls_rng_unif(g), pk = exp(-lam), c = pk;
        double k = 0;
        while (u > c && k < 1000) {
            k += 1;
            pk *= lam / k;
            c += pk;
        }
        return k;
    }
    case LS_FACTOR_GAUSSIAN: return w + sqrt(s2) * ls_rng_norm(g);
    case LS_FACTOR_PROBIT: return w + ls_rng_norm(g) > 0 ? 1.0 : 0.0;
    default: return ls_rng_unif(g) < 1.0 / (1.0 + exp(-w)) ? 1.0 : 0.0;
    }
}

int lsf_simulate(size_t n, size_t q, size_t p, size_t r, int family, double rho, double effect,
                 double missing, uint64_t seed, lsf_sim *out, ls_error *err)
{
    return lsf_simulate_design(n, q, p, r, family, rho, effect, missing, 0, seed, out, err);
}

int lsf_simulate_design(size_t n, size_t q, size_t p, size_t r, int family, double rho, double effect,
                        double missing, uint64_t design_seed, uint64_t seed, lsf_sim *out,
                        ls_error *err)
{
    memset(out, 0, sizeof *out);
    if (r < 1 || r > LSF_MAX_R || p > LSF_MAX_P || q < r || n < 2)
        return ls_fail(err, LS_ERR_OPTION, "simulate: invalid sizes");
    out->n = n;
    out->q = q;
    out->p = p;
    out->r = r;
    size_t p1 = p + 1, k = p + r;
    out->Y = ls_malloc(n * q * sizeof *out->Y);
    out->X = ls_malloc((p ? n * p : 1) * sizeof *out->X);
    out->U = ls_malloc(n * r * sizeof *out->U);
    out->gamma = ls_calloc(q * r, sizeof *out->gamma);
    out->beta = ls_calloc(q * p1, sizeof *out->beta);
    double *L = ls_calloc(k * k, sizeof *L);
    if (!out->Y || !out->X || !out->U || !out->gamma || !out->beta || !L) {
        ls_free(L);
        lsf_sim_free(out);
        return ls_nomem(err);
    }
    ls_rng g = {seed * 0x9E3779B97F4A7C15ULL + 12345};
    ls_rng gd = {design_seed * 0x9E3779B97F4A7C15ULL + 777};
    ls_rng *gp = design_seed ? &gd : &g; /* the item parameters' generator */
    /* AR(rho) correlation of (x, U): Cholesky factor of rho^|a-b| */
    for (size_t a = 0; a < k; a++)
        for (size_t b = 0; b < k; b++) L[a * k + b] = pow(rho, fabs((double)a - (double)b));
    if (ls_chol(L, k)) {
        ls_free(L);
        lsf_sim_free(out);
        return ls_fail(err, LS_ERR_NUMERIC, "simulate: invalid correlation");
    }
    size_t per = (q + r - 1) / r;
    for (size_t j = 0; j < q; j++) {
        size_t f = j / per;
        out->gamma[j * r + (f < r ? f : r - 1)] = 0.5 + ls_rng_unif(gp);
        out->beta[j * p1] = -1.0 + 2.0 * ls_rng_unif(gp);
    }
    for (size_t s = 0; s < p; s++)
        for (size_t j = 5 * s; j < 5 * s + 5 && j < q; j++) out->beta[j * p1 + 1 + s] = effect;
    double z[LSF_MAX_R + LSF_MAX_P], v[LSF_MAX_R + LSF_MAX_P];
    for (size_t i = 0; i < n; i++) {
        for (size_t a = 0; a < k; a++) z[a] = ls_rng_norm(&g);
        for (size_t a = 0; a < k; a++) {
            double s = 0;
            for (size_t b = 0; b <= a; b++) s += L[a * k + b] * z[b];
            v[a] = s > 2 ? 2 : (s < -2 ? -2 : s);
        }
        for (size_t s = 0; s < p; s++) out->X[i * p + s] = v[s];
        for (size_t a = 0; a < r; a++) out->U[i * r + a] = v[p + a];
        for (size_t j = 0; j < q; j++) {
            double w = out->beta[j * p1];
            for (size_t s = 0; s < p; s++) w += out->beta[j * p1 + 1 + s] * v[s];
            for (size_t a = 0; a < r; a++) w += out->gamma[j * r + a] * v[p + a];
            double y = lsf_sim_draw(family, w, 1.0, &g);
            out->Y[i * q + j] = (missing > 0 && ls_rng_unif(&g) < missing) ? NAN : y;
        }
    }
    ls_free(L);
    return LS_OK;
}
