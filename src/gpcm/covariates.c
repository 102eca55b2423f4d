/*
 * covariates.c -- the partial credit model with person covariates by
 * marginal ML (ls_gpcm_run with data from ls_gpcm_data_build_cov): the
 * engine (mml.c) fits item shifts beta_j' x_i (DIF) or a latent regression
 * of the factor means on x, on standardised covariates; this file maps the
 * engine's estimates to the reported parametrisation (raw-scale effects,
 * steps of a person with x = 0, the min-L1 or orthogonal condition, shared
 * with the factor model's MML through kernel/lad), computes their standard
 * errors from the observed information (the delta method; for the min-L1
 * effects simulation through the map, as the factor model does) and the
 * Wald tests of every item effect with the multiplicity correction of
 * kernel/multiplicity.
 */
#include "gpcm/model.h"
#include "kernel/lad.h"
#include "kernel/linalg.h"
#include "kernel/multiplicity.h"

#include <math.h>
#include <string.h>

#define COV_SE_DRAWS 4000

typedef struct gmap {
    size_t J, K, p, na, nb, nr;
    const size_t *aidx;  /* na: free slope -> index into a (J x K) */
    const unsigned *P;   /* J highest scores                        */
    const double *xm, *xs;
    int mode, covcond;
} gmap;

static size_t gmap_nout(const gmap *g) { return g->J * g->K + g->nb + g->J * g->p + g->p * g->K; }

/* Engine vector x -> [slopes (J x K), steps at x = 0 (nb, block order),
 * raw-scale item effects (J x p; DIF mode, after the condition), A (p x K)]. */
static int gmap_report(const void *ctx, const double *x, double *o, ls_error *err)
{
    const gmap *g = ctx;
    const size_t J = g->J, K = g->K, p = g->p;
    double *a = o, *b = a + J * K, *e = b + g->nb, *A = e + J * p;
    const double *cx = x + g->na + g->nb + g->nr;
    memset(a, 0, J * K * sizeof *a);
    for (size_t t = 0; t < g->na; t++) a[g->aidx[t]] = x[t];
    memset(A, 0, p * K * sizeof *A);
    size_t t = 0;
    for (size_t j = 0; j < J; j++) {
        double c = 0; /* the shift at x = 0 */
        for (size_t s = 0; s < p; s++) {
            double gs;
            if (g->mode == LS_GPCM_COV_DIF) gs = cx[j * p + s];
            else {
                gs = 0;
                for (size_t k = 0; k < K; k++) gs += a[j * K + k] * cx[s * K + k];
            }
            double v = gs / g->xs[s];
            e[j * p + s] = g->mode == LS_GPCM_COV_DIF ? v : 0.0;
            c -= v * g->xm[s];
        }
        for (unsigned k = 1; k <= g->P[j]; k++, t++) b[t] = x[g->na + t] - (double)k * c;
    }
    if (g->mode == LS_GPCM_COV_LREG) {
        for (size_t s = 0; s < p; s++)
            for (size_t k = 0; k < K; k++) A[s * K + k] = cx[s * K + k] / g->xs[s];
        return LS_OK;
    }
    if (g->covcond != LS_FACTOR_COV_L1) return LS_OK;
    return ls_min_l1(a, J, K, e, p, p, A, err);
}

/* Benjamini-Hochberg adjusted p-values of m values read with a stride
 * (NaN: not tested, left NaN); idx scratch for m indices. */
static void bh_adjust(const double *pv, size_t m, size_t stride, double *adj, size_t *idx)
{
    size_t n = 0;
    for (size_t k = 0; k < m; k++) {
        adj[k * stride] = NAN;
        if (!isnan(pv[k * stride])) idx[n++] = k;
    }
    for (size_t u = 1; u < n; u++) /* insertion sort by p (m is a number of items) */
        for (size_t v = u; v > 0 && pv[idx[v] * stride] < pv[idx[v - 1] * stride]; v--) {
            size_t w = idx[v];
            idx[v] = idx[v - 1];
            idx[v - 1] = w;
        }
    double run = 1.0;
    for (size_t r = n; r-- > 0;) {
        double v = pv[idx[r] * stride] * (double)n / (double)(r + 1);
        run = fmin(run, v);
        adj[idx[r] * stride] = run;
    }
}

int lsg_cov_finish(lsg_model *m, unsigned nodes, const ls_gpcm_options *o, const double *xm, const double *xs,
                   lsg_fit *out, ls_error *err)
{
    const size_t J = m->J, K = m->K, p = m->p, nb = out->maxcat - 1;
    gmap g = {J, K, p, 0, 0, 0, NULL, m->P, xm, xs, o->covariate_mode, o->covariate_condition};
    for (size_t c = 0; c < J * K; c++) g.na += m->pattern[c] != 0;
    for (size_t j = 0; j < J; j++) g.nb += m->P[j];
    g.nr = !m->exploratory && K > 1 ? K * (K - 1) / 2 : 0;
    const size_t nout = gmap_nout(&g), nx = o->covariate_mode == LS_GPCM_COV_DIF ? J * p : p * K;
    size_t *aidx = ls_malloc((g.na + 1) * sizeof *aidx), *idx = ls_malloc((J + p) * sizeof *idx);
    double *o1 = ls_malloc(nout * sizeof *o1), *se = ls_malloc(nout * sizeof *se),
           *se2 = ls_malloc(nout * sizeof *se2);
    double *x = NULL, *H = NULL, *S = NULL, *V = NULL;
    int rc = LS_OK;
    out->p = p;
    out->covariate_mode = o->covariate_mode;
    out->covariate_condition = o->covariate_condition;
    out->dif_alpha = o->dif_alpha;
    out->dif_correction = o->dif_correction;
    out->A = ls_calloc(p * K, sizeof *out->A);
    if (!aidx || !idx || !o1 || !se || !se2 || !out->A) {
        rc = ls_nomem(err);
        goto done;
    }
    g.aidx = aidx;
    for (size_t c = 0, t = 0; c < J * K; c++)
        if (m->pattern[c]) aidx[t++] = c;
    size_t D = g.na + g.nb + g.nr + nx;
    if (!o->skip_se) {
        double ll;
        rc = lsg_mml_information(m, nodes, 0, &D, &x, &H, &S, &ll, err);
        if (rc) goto done;
        out->loglik = ll;
    } else { /* the vector from m (the correlation slots are not read by the map) */
        x = ls_calloc(D, sizeof *x);
        if (!x) {
            rc = ls_nomem(err);
            goto done;
        }
        for (size_t t = 0; t < g.na; t++) x[t] = m->a[aidx[t]];
        for (size_t j = 0, t = 0; j < J; j++)
            for (unsigned k = 1; k <= m->P[j]; k++) x[g.na + t++] = m->b[m->off[j] + k];
        memcpy(x + g.na + g.nb + g.nr, o->covariate_mode == LS_GPCM_COV_DIF ? m->dif : m->lreg, nx * sizeof *x);
    }
    if ((rc = gmap_report(&g, x, o1, err))) goto done;
    const double *ra = o1, *rb = ra + J * K, *re = rb + g.nb, *rA = re + J * p;
    memcpy(out->a, ra, J * K * sizeof *ra);
    for (size_t j = 0, t = 0; j < J; j++)
        for (size_t k = 0; k < nb; k++) out->b[j * nb + k] = k < m->P[j] ? rb[t++] : NAN;
    memcpy(out->A, rA, p * K * sizeof *rA);
    if (o->covariate_mode == LS_GPCM_COV_DIF) {
        out->dif = ls_malloc(J * p * sizeof *out->dif);
        out->dif_fixed = ls_calloc(J * p, sizeof *out->dif_fixed);
        if (!out->dif || !out->dif_fixed) {
            rc = ls_nomem(err);
            goto done;
        }
        memcpy(out->dif, re, J * p * sizeof *re);
        /* the min-L1 fit interpolates K items per covariate: their effects
         * are 0 by construction (to rounding), fixed, not estimates */
        if (o->covariate_condition == LS_FACTOR_COV_L1)
            for (size_t s = 0; s < p; s++) {
                double big = 1;
                for (size_t j = 0; j < J; j++) big = fmax(big, fabs(re[j * p + s]));
                for (size_t j = 0; j < J; j++) out->dif_fixed[j * p + s] = fabs(re[j * p + s]) <= 1e-9 * big;
            }
    }
    if (o->skip_se) goto done;
    V = ls_malloc(D * D * sizeof *V);
    double *L = ls_malloc(D * D * sizeof *L);
    if (!V || !L) {
        ls_free(L);
        rc = ls_nomem(err);
        goto done;
    }
    memcpy(L, H, D * D * sizeof *L);
    if (ls_chol(L, D)) {
        ls_free(L);
        if (lsg_fit_warn(out, "no standard errors: the observed information is not positive definite (not a "
                              "maximum, or a direction the data do not identify)"))
            rc = ls_nomem(err);
        out->converged = 0;
        goto done;
    }
    ls_chol_inverse(L, D, V);
    ls_free(L);
    if ((rc = ls_map_se_delta(gmap_report, &g, x, D, V, nout, se, err))) goto done;
    if (o->covariate_mode == LS_GPCM_COV_DIF && o->covariate_condition == LS_FACTOR_COV_L1) {
        /* the min-L1 map is a weighted median: simulate its spread */
        rc = ls_map_se_sim(gmap_report, &g, x, D, V, nout, COV_SE_DRAWS, o->seed ^ 0x67636f765f736500ULL, se2,
                           err);
        if (rc) goto done;
        memcpy(se + J * K + g.nb, se2 + J * K + g.nb, (J * p + p * K) * sizeof *se);
    }
    out->se_a = ls_malloc(J * K * sizeof *out->se_a);
    out->se_b = ls_malloc(J * nb * sizeof *out->se_b);
    out->se_A = ls_malloc(p * K * sizeof *out->se_A);
    if (!out->se_a || !out->se_b || !out->se_A) {
        rc = ls_nomem(err);
        goto done;
    }
    for (size_t c = 0; c < J * K; c++) out->se_a[c] = m->pattern[c] ? se[c] : 0.0;
    for (size_t j = 0, t = 0; j < J; j++)
        for (size_t k = 0; k < nb; k++) out->se_b[j * nb + k] = k < m->P[j] ? se[J * K + t++] : NAN;
    memcpy(out->se_A, se + J * K + g.nb + J * p, p * K * sizeof *se);
    if (o->covariate_mode != LS_GPCM_COV_DIF) goto done;
    /* Wald tests of every item effect, corrected per covariate over the
     * tested effects (the fixed ones are left out) */
    out->se_dif = ls_malloc(J * p * sizeof *out->se_dif);
    out->dif_z = ls_malloc(J * p * sizeof *out->dif_z);
    out->dif_p = ls_malloc(J * p * sizeof *out->dif_p);
    out->dif_padj = ls_malloc(J * p * sizeof *out->dif_padj);
    out->dif_flag = ls_calloc(J * p, sizeof *out->dif_flag);
    int *fb = ls_calloc(J * p, sizeof *fb), *fh = ls_calloc(J * p, sizeof *fh);
    if (!out->se_dif || !out->dif_z || !out->dif_p || !out->dif_padj || !out->dif_flag || !fb || !fh) {
        ls_free(fb);
        ls_free(fh);
        rc = ls_nomem(err);
        goto done;
    }
    for (size_t c = 0; c < J * p; c++) {
        double sd = se[J * K + g.nb + c], b = out->dif[c];
        double z = sd > 0 && isfinite(sd) && !out->dif_fixed[c] ? b / sd : NAN;
        out->se_dif[c] = out->dif_fixed[c] ? 0.0 : sd;
        out->dif_z[c] = z;
        out->dif_p[c] = isnan(z) ? NAN : erfc(fabs(z) / 1.4142135623730951);
    }
    for (size_t s = 0; s < p; s++) {
        ls_bonferroni(out->dif_p + s, J, p, o->dif_alpha, fb + s);
        ls_bh(out->dif_p + s, J, p, o->dif_alpha, fh + s, idx);
        if (o->dif_correction == LS_FACTOR_BH) bh_adjust(out->dif_p + s, J, p, out->dif_padj + s, idx);
        else {
            size_t mt = 0;
            for (size_t j = 0; j < J; j++) mt += !isnan(out->dif_p[j * p + s]);
            for (size_t j = 0; j < J; j++)
                out->dif_padj[j * p + s] =
                    isnan(out->dif_p[j * p + s]) ? NAN : fmin(1.0, out->dif_p[j * p + s] * (double)mt);
        }
    }
    for (size_t c = 0; c < J * p; c++) out->dif_flag[c] = o->dif_correction == LS_FACTOR_BH ? fh[c] : fb[c];
    ls_free(fb);
    ls_free(fh);
done:
    ls_free(aidx);
    ls_free(idx);
    ls_free(o1);
    ls_free(se);
    ls_free(se2);
    ls_free(x);
    ls_free(H);
    ls_free(S);
    ls_free(V);
    return rc;
}
