/*
 * rules.c -- Gauss-Hermite product grids (GSL gsl_integration_fixed),
 * randomised Sobol points, shifted per family (GSL qrng + gsl_cdf_ugaussian_Pinv),
 * Smolyak sparse grids of Gauss-Hermite rules, and the one-node Laplace rule.
 */
#include "kernel/rules.h"
#include "kernel/linalg.h"
#include "kernel/special.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_math.h>
#include <stdio.h>
#include <gsl/gsl_integration.h>
#include <gsl/gsl_qrng.h>
#include <gsl/gsl_sf_gamma.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LOG_2PI 1.8378770664093454836

void ls_rule_free(ls_rule *r)
{
    if (!r) return;
    ls_free(r->u);
    ls_free(r->lw);
    ls_free(r->sg);
    ls_free(r->v);
    r->v = NULL;
    r->u = r->lw = NULL;
    r->sg = NULL;
    r->n = 0;
}

static int rule_alloc(ls_rule *r, size_t K, size_t n, const char *kind, ls_error *err)
{
    memset(r, 0, sizeof *r);
    r->K = K;
    r->n = n;
    r->u = ls_calloc(n * K, sizeof(double));
    r->lw = ls_calloc(n, sizeof(double));
    snprintf(r->kind, sizeof r->kind, "%s", kind);
    if (!r->u || !r->lw) {
        ls_rule_free(r);
        return ls_nomem(err);
    }
    return LS_OK;
}

/* lw = log w + |u|^2 / 2 + K/2 log 2 pi */
static double lw_of(double logw, const double *u, size_t K)
{
    double s = 0;
    for (size_t k = 0; k < K; k++) s += u[k] * u[k];
    return logw + 0.5 * s + 0.5 * (double)K * LOG_2PI;
}

int ls_rule_laplace(ls_rule *r, size_t K, ls_error *err)
{
    int rc = rule_alloc(r, K, 1, "laplace", err);
    if (rc) return rc;
    r->lw[0] = lw_of(0.0, r->u, K);
    return LS_OK;
}

int ls_rule_gh(ls_rule *r, size_t K, unsigned m, double prune, ls_error *err)
{
    if (K == 0 || m == 0 || m > 200)
        return ls_fail(err, LS_ERR_OPTION, "Gauss-Hermite rule: need 1..200 nodes per dimension");
    double total = pow((double)m, (double)K);
    if (total > 2e6)
        return ls_fail(err, LS_ERR_OPTION,
                       "Gauss-Hermite rule: %u^%zu nodes is too many; use `integration` qmc", m, K);
    ls_gsl_quiet();
    /* weight exp(-x^2): x = u / sqrt 2, w / sqrt(pi) is the N(0,1) weight */
    gsl_integration_fixed_workspace *ws =
        gsl_integration_fixed_alloc(gsl_integration_fixed_hermite, m, 0.0, 1.0, 0.0, 0.0);
    if (!ws) return ls_nomem(err);
    const double *x = gsl_integration_fixed_nodes(ws), *w = gsl_integration_fixed_weights(ws);
    double x1[200], lw1[200], wmax = -INFINITY;
    for (unsigned i = 0; i < m; i++) {
        x1[i] = x[i] * M_SQRT2;
        lw1[i] = log(w[i]) - 0.5 * log(M_PI);
        if (lw1[i] > wmax) wmax = lw1[i];
    }
    gsl_integration_fixed_free(ws);

    size_t N = (size_t)total;
    double lcut = K * wmax + (prune > 0 ? log(prune) : -INFINITY);
    /* count surviving nodes first */
    size_t keep = 0, idx[64];
    for (size_t t = 0; t < N; t++) {
        size_t q = t;
        double lw = 0;
        for (size_t k = 0; k < K; k++) { idx[k] = q % m; q /= m; lw += lw1[idx[k]]; }
        if (lw >= lcut) keep++;
    }
    int rc = rule_alloc(r, K, keep, "gauss-hermite", err);
    if (rc) return rc;
    size_t s = 0;
    for (size_t t = 0; t < N; t++) {
        size_t q = t;
        double lw = 0;
        for (size_t k = 0; k < K; k++) { idx[k] = q % m; q /= m; lw += lw1[idx[k]]; }
        if (lw < lcut) continue;
        for (size_t k = 0; k < K; k++) r->u[s * K + k] = x1[idx[k]];
        r->lw[s] = lw_of(lw, r->u + s * K, K);
        s++;
    }
    return LS_OK;
}

int ls_rule_rqmc(ls_rule *r, size_t K, unsigned n, unsigned blocks, double df, uint64_t seed,
                 ls_error *err)
{
    memset(r, 0, sizeof *r);
    unsigned half = (unsigned)(df / 2);
    size_t dims = K + half;
    if (K == 0 || dims > 40)
        return ls_fail(err, LS_ERR_OPTION, "randomised QMC rule: K must be 1..%u", 40 - half);
    if (!(df >= 2 && df <= 8 && df == 2.0 * half))
        return ls_fail(err, LS_ERR_OPTION, "randomised QMC rule: df must be 2, 4, 6 or 8");
    if (blocks < 2 || n % (2 * blocks))
        return ls_fail(err, LS_ERR_OPTION, "randomised QMC rule: %u points is not a multiple of 2 x %u blocks",
                       n, blocks);
    size_t m = n / (2 * blocks);
    ls_gsl_quiet();
    gsl_qrng *q = gsl_qrng_alloc(gsl_qrng_sobol, (unsigned)dims);
    if (!q) return ls_nomem(err);
    r->v = ls_calloc(m * dims, sizeof(double));
    if (!r->v) {
        gsl_qrng_free(q);
        return ls_nomem(err);
    }
    for (size_t i = 0; i < m; i++) gsl_qrng_get(q, r->v + i * dims);
    gsl_qrng_free(q);
    r->K = K;
    r->n = n;
    r->dims = dims;
    r->blocks = blocks;
    r->df = df;
    r->seed = seed;
    snprintf(r->kind, sizeof r->kind, "rqmc-t");
    return LS_OK;
}

void ls_rule_points(const ls_rule *r, uint64_t g, double *u, double *lw)
{
    size_t K = r->K, dims = r->dims, m = r->n / (2 * r->blocks);
    unsigned half = (unsigned)(r->df / 2);
    double logw = -log((double)r->n), df = r->df;
    /* the standard t density's constant */
    double c = lgamma(0.5 * (df + (double)K)) - lgamma(0.5 * df) - 0.5 * (double)K * log(df * M_PI);
    uint64_t key = ls_splitmix64(r->seed ^ ls_splitmix64(g));
    double shift[40];
    for (unsigned b = 0; b < r->blocks; b++) {
        for (size_t k = 0; k < dims; k++) {
            key = ls_splitmix64(key);
            shift[k] = ((double)(key >> 11) + 0.5) * 0x1.0p-53;
        }
        for (size_t i = 0; i < m; i++) {
            const double *v0 = r->v + i * dims;
            double x[40];
            for (size_t k = 0; k < dims; k++) {
                double t = v0[k] + shift[k];
                t -= floor(t);
                x[k] = fmin(fmax(t, 1e-15), 1 - 1e-15);
            }
            /* chi2 with df = 2 half degrees of freedom: -2 log of a
             * product of half uniforms; the t radius sqrt(df / chi2) */
            double lp = 0;
            for (unsigned h = 0; h < half; h++) lp += log(x[K + h]);
            double sc = sqrt(df / (-2 * lp)), qq = 0;
            size_t at = (size_t)b * 2 * m + 2 * i;
            double *up = u + at * K, *um = up + K;
            for (size_t k = 0; k < K; k++) {
                up[k] = sc * gsl_cdf_ugaussian_Pinv(x[k]);
                um[k] = -up[k];
                qq += up[k] * up[k];
            }
            lw[at] = lw[at + 1] = logw - (c - 0.5 * (df + (double)K) * log1p(qq / df));
        }
    }
}

double ls_rule_estimate(const ls_rule *r, const double *t, double lse, const double *g, double *se)
{
    size_t n = r->n, B = r->v ? r->blocks : 1, nb = n / B;
    *se = 0;
    if (!isfinite(lse) || B > 64) return lse;
    /* one pass: per block the sums of a_q = exp(t_q - lse) (all blocks sum
     * to 1) and of the control variate c_q = exp(g_q) (sum 1 in
     * expectation); over all points the cross products for beta */
    double sa[64], sc[64], sag = 0, scc = 0, ta = 0, tc = 0;
    for (size_t b = 0; b < B; b++) {
        sa[b] = sc[b] = 0;
        for (size_t q = b * nb; q < (b + 1) * nb; q++) {
            double a = exp(t[q] - lse);
            sa[b] += a;
            if (g) {
                double c = exp(g[q]);
                sc[b] += c;
                sag += a * c;
                scc += c * c;
            }
        }
        ta += sa[b];
        tc += sc[b];
    }
    double beta = 0; /* least squares over the points */
    if (g) {
        double vc = scc - tc * tc / (double)n, cac = sag - ta * tc / (double)n;
        if (vc > 0) beta = cac / vc;
        double adj = 1 - beta * (tc - 1);
        /* a control variate that swings the estimate by half or more is
         * not describing the integrand: keep the plain estimate */
        if (!(adj > 0.5 && adj < 2)) beta = 0;
    }
    double e[64], s1 = 0, s2 = 0;
    for (size_t b = 0; b < B; b++) {
        e[b] = (double)B * (sa[b] - beta * sc[b]) + beta;
        s1 += e[b];
    }
    double mean = s1 / (double)B;
    if (!(mean > 0)) return lse;
    if (B > 1) {
        for (size_t b = 0; b < B; b++) s2 += (e[b] - mean) * (e[b] - mean);
        *se = sqrt(s2 / (double)(B - 1) / (double)B) / mean;
    }
    return lse + log(mean);
}

/* ---------------------------------------------------------------- */
/* Smolyak sparse grid                                               */
/* ---------------------------------------------------------------- */

/* A point of the combination before merging: its node ids as a string
 * (id + 1 per coordinate, so that strcmp orders and compares them) and
 * its weight. */
typedef struct sp_point {
    const char *key;
    double w;
} sp_point;

static int sp_cmp(const void *a, const void *b)
{
    return strcmp(((const sp_point *)a)->key, ((const sp_point *)b)->key);
}

/* Next excess vector with sum <= level (odometer); 0 after the last. */
static int sp_next(unsigned *ex, size_t K, unsigned level)
{
    for (size_t k = 0; k < K; k++) {
        unsigned s = 0;
        for (size_t l = 0; l < K; l++) s += ex[l];
        if (s < level) { ex[k]++; return 1; }
        ex[k] = 0;
    }
    return 0;
}

int ls_rule_sparse(ls_rule *r, size_t K, unsigned level, ls_error *err)
{
    if (K == 0 || K > 40 || level < 1 || level > LS_SPARSE_MAX_LEVEL)
        return ls_fail(err, LS_ERR_OPTION, "sparse grid: need K 1..40 and level 1..6");
    ls_gsl_quiet();
    /* 1-D rules e = 0..level with 2 e + 1 nodes; distinct node values get
     * one id each (every odd rule has the node 0). */
    double val[64], w1[7][13];
    unsigned char id1[7][13];
    size_t nval = 0;
    for (unsigned e = 0; e <= level; e++) {
        unsigned m = 2 * e + 1;
        gsl_integration_fixed_workspace *ws =
            gsl_integration_fixed_alloc(gsl_integration_fixed_hermite, m, 0.0, 1.0, 0.0, 0.0);
        if (!ws) return ls_nomem(err);
        const double *x = gsl_integration_fixed_nodes(ws), *w = gsl_integration_fixed_weights(ws);
        for (unsigned i = 0; i < m; i++) {
            double v = x[i] * M_SQRT2;
            if (fabs(v) < 1e-12) v = 0;
            size_t k = 0;
            while (k < nval && fabs(val[k] - v) > 1e-10) k++;
            if (k == nval) val[nval++] = v;
            id1[e][i] = (unsigned char)k;
            w1[e][i] = w[i] / sqrt(M_PI);
        }
        gsl_integration_fixed_free(ws);
    }
    /* The combination: every excess vector e (e_k = number of the 1-D rule
     * in coordinate k) with level - K < sum e <= level enters with
     * coefficient (-1)^(level - sum) C(K - 1, level - sum). */
    unsigned ex[40];
    size_t np = 0;
    memset(ex, 0, sizeof ex);
    do {
        unsigned s = 0;
        size_t npt = 1;
        for (size_t k = 0; k < K; k++) { s += ex[k]; npt *= 2 * ex[k] + 1; }
        if (level - s <= K - 1) np += npt;
    } while (sp_next(ex, K, level));
    sp_point *pts = ls_calloc(np, sizeof *pts);
    char *keys = ls_calloc(np, K + 1);
    int rc = pts && keys ? LS_OK : ls_nomem(err);
    size_t t0 = 0;
    memset(ex, 0, sizeof ex);
    do {
        if (rc) break;
        unsigned s = 0;
        size_t npt = 1;
        for (size_t k = 0; k < K; k++) { s += ex[k]; npt *= 2 * ex[k] + 1; }
        if (level - s > K - 1) continue;
        double c = gsl_sf_choose((unsigned)(K - 1), level - s);
        if ((level - s) & 1u) c = -c;
        for (size_t t = 0; t < npt; t++, t0++) {
            size_t q = t;
            double w = c;
            char *key = keys + t0 * (K + 1);
            for (size_t k = 0; k < K; k++) {
                unsigned m = 2 * ex[k] + 1, i = (unsigned)(q % m);
                q /= m;
                key[k] = (char)(id1[ex[k]][i] + 1);
                w *= w1[ex[k]][i];
            }
            pts[t0].key = key;
            pts[t0].w = w;
        }
    } while (sp_next(ex, K, level));
    if (!rc) {
        qsort(pts, np, sizeof *pts, sp_cmp);
        /* merge coincident nodes; drop those whose weights cancel */
        size_t nu = 0;
        for (size_t i = 0; i < np;) {
            size_t j = i + 1;
            double w = pts[i].w;
            while (j < np && strcmp(pts[i].key, pts[j].key) == 0) w += pts[j++].w;
            pts[nu].key = pts[i].key;
            pts[nu].w = w;
            if (fabs(w) > 1e-14) nu++;
            i = j;
        }
        rc = rule_alloc(r, K, nu, "sparse-grid", err);
        if (!rc && !(r->sg = ls_calloc(nu, 1))) {
            ls_rule_free(r);
            rc = ls_nomem(err);
        }
        if (!rc) r->level = level;
        for (size_t i = 0; !rc && i < nu; i++) {
            double *u = r->u + i * K;
            for (size_t k = 0; k < K; k++) u[k] = val[(unsigned char)pts[i].key[k] - 1];
            r->sg[i] = pts[i].w < 0 ? -1 : 1;
            r->lw[i] = lw_of(log(fabs(pts[i].w)), u, K);
        }
    }
    ls_free(pts);
    ls_free(keys);
    return rc;
}
