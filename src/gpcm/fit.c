/*
 * gpcm_fit.c -- ls_gpcm_run: starts, the GVEM iterations to the stopping
 * rule with the lower bound traced and checked, the choice among starts,
 * the optional marginal-likelihood fit (gpcm_mml.c), standard errors, vBIC
 * and, in exploratory mode, the promax rotation.
 */
#include "gpcm/model.h"
#include "kernel/items.h"
#include "kernel/lad.h"
#include "kernel/linalg.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <omp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void ls_gpcm_options_init(ls_gpcm_options *o)
{
    memset(o, 0, sizeof *o);
    o->factors = 1;
    o->method = LS_GPCM_GVEM;
    o->starts = 3;
    o->seed = 1;
    o->tol = 1e-6;
    o->max_iter = 2000;
    o->gtol = 1e-4;
    o->covariate_mode = LS_GPCM_COV_DIF;
    o->covariate_condition = LS_FACTOR_COV_L1;
    o->dif_alpha = 0.05;
    o->dif_correction = LS_FACTOR_BONFERRONI;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int ls_gpcm_options_check(const ls_gpcm_options *o, ls_error *err)
{
    if (!o) return ls_fail(err, LS_ERR_OPTION, "options: none given");
    if (!(o->tol > 0)) return ls_fail(err, LS_ERR_OPTION, "tol: expected a positive number");
    if (!(o->gtol > 0)) return ls_fail(err, LS_ERR_OPTION, "gtol: expected a positive number");
    if (o->starts < 1) return ls_fail(err, LS_ERR_OPTION, "starts: expected at least 1");
    if (o->max_iter < 1) return ls_fail(err, LS_ERR_OPTION, "max_iter: expected at least 1");
    if (o->factors < 1 || o->factors > 10) return ls_fail(err, LS_ERR_OPTION, "factors: expected 1..10");
    if (o->method != LS_GPCM_GVEM && o->method != LS_GPCM_MML)
        return ls_fail(err, LS_ERR_OPTION, "method: expected gvem or mml");
    if (o->method == LS_GPCM_MML && o->factors > 6)
        return ls_fail(err, LS_ERR_OPTION, "method mml: quadrature is limited to at most 6 factors (got %zu)",
                       o->factors);
    if (o->nodes > 40) return ls_fail(err, LS_ERR_OPTION, "nodes: expected at most 40");
    if (o->covariate_mode != LS_GPCM_COV_DIF && o->covariate_mode != LS_GPCM_COV_LREG)
        return ls_fail(err, LS_ERR_OPTION, "covariate_mode: expected dif or latent-regression");
    if (o->covariate_condition != LS_FACTOR_COV_L1 && o->covariate_condition != LS_FACTOR_COV_ORTHOGONAL)
        return ls_fail(err, LS_ERR_OPTION, "covariate_condition: expected min-l1 or orthogonal");
    if (!(o->dif_alpha > 0 && o->dif_alpha < 1)) return ls_fail(err, LS_ERR_OPTION, "alpha: expected a number in (0, 1)");
    if (o->dif_correction != LS_FACTOR_BONFERRONI && o->dif_correction != LS_FACTOR_BH)
        return ls_fail(err, LS_ERR_OPTION, "correction: expected bonferroni or bh");
    if (o->dif_lr && o->covariate_mode != LS_GPCM_COV_DIF)
        return ls_fail(err, LS_ERR_OPTION, "dif_lr: tests DIF against the latent regression: needs `covariate_mode` dif");
    if (o->covariate_mode == LS_GPCM_COV_LREG && o->method != LS_GPCM_MML)
        return ls_fail(err, LS_ERR_OPTION, "covariate_mode: latent regression needs method mml");
    return LS_OK;
}

void lsg_fit_free(lsg_fit *f)
{
    if (!f) return;
    ls_strv_free(f->items, f->J);
    ls_free(f->source);
    ls_free(f->ncat);
    ls_free(f->pattern);
    ls_free(f->a);
    ls_free(f->a_unrotated);
    ls_free(f->rotation);
    ls_free(f->b);
    ls_free(f->sigma);
    ls_free(f->mu);
    ls_free(f->se_a);
    ls_free(f->se_b);
    ls_free(f->se_sigma);
    ls_free(f->start_elbo);
    ls_free(f->screen_elbo);
    ls_free(f->elbo_trace);
    ls_free(f->se_a_rot);
    ls_free(f->se_sigma_rot);
    ls_strv_free(f->warnings, f->nwarnings);
    ls_strv_free(f->covariates, f->p);
    ls_free(f->dif);
    ls_free(f->se_dif);
    ls_free(f->dif_z);
    ls_free(f->dif_p);
    ls_free(f->dif_padj);
    ls_free(f->dif_flag);
    ls_free(f->dif_fixed);
    ls_free(f->A);
    ls_free(f->se_A);
    memset(f, 0, sizeof *f);
}

/* ---------------------------------------------------------------- */
/* Starting values                                                    */
/* ---------------------------------------------------------------- */

/* Item correlations of the scores (pairwise complete), J x J, in one pass
 * over the persons' observed pairs (each pair's sums in person order).
 * Non-zero when out of memory. */
static int item_correlations(const ls_resp *Rs, double *R)
{
    const size_t n = Rs->n, J = Rs->q, np = J * (J + 1) / 2;
    double *acc = ls_calloc(6 * np, sizeof *acc); /* per pair j >= l: sx sy sxx syy sxy c */
    if (!acc) return 1;
    for (size_t i = 0; i < n; i++)
        for (size_t u = Rs->rp[i]; u < Rs->rp[i + 1]; u++) {
            const size_t j = Rs->ri[u];
            const double x = Rs->rv[u];
            for (size_t v = Rs->rp[i]; v <= u; v++) {
                const size_t l = Rs->ri[v];
                const double y = Rs->rv[v];
                double *t = acc + 6 * (j * (j + 1) / 2 + l);
                t[0] += x, t[1] += y, t[2] += x * x, t[3] += y * y, t[4] += x * y, t[5]++;
            }
        }
    for (size_t j = 0; j < J; j++)
        for (size_t l = 0; l <= j; l++) {
            const double *t = acc + 6 * (j * (j + 1) / 2 + l);
            const double sx = t[0], sy = t[1], sxx = t[2], syy = t[3], sxy = t[4], c = t[5];
            double r = 0;
            if (c > 1) {
                double vx = sxx - sx * sx / c, vy = syy - sy * sy / c;
                r = vx > 0 && vy > 0 ? (sxy - sx * sy / c) / sqrt(vx * vy) : 0;
            }
            R[j * J + l] = R[l * J + j] = j == l ? 1.0 : r;
        }
    ls_free(acc);
    return 0;
}

/*
 * Start 0: steps from the marginal category frequencies (theta = 0), slopes
 * from the leading eigenvectors of the item correlations: per dimension on
 * its items (confirmatory; sign so that most are positive), or the first K
 * (exploratory, rotated so that the anchors' block is lower triangular).
 */
int lsg_data_start(const ls_gpcm_data *d, const lsg_model *m, double *a, double *b, ls_error *err)
{
    const size_t J = d->J, K = m->K;
    const ls_resp *Rs = m->R;
    for (size_t j = 0; j < J; j++) {
        const size_t P = m->P[j], o = m->off[j];
        double cnt[65];
        for (size_t k = 0; k <= P; k++) cnt[k] = 0.5;
        for (size_t c = Rs->cp[j]; c < Rs->cp[j + 1]; c++) cnt[(int)Rs->cv[c]] += 1;
        b[o] = 0;
        for (size_t k = 1; k <= P; k++) b[o + k] = -log(cnt[k] / cnt[0]);
    }
    double *R = ls_malloc(J * J * sizeof *R), *W = ls_malloc(J * J * sizeof *W),
           *V = ls_malloc(J * J * sizeof *V), *e = ls_malloc(J * sizeof *e);
    int rc = LS_OK;
    if (!R || !W || !V || !e) {
        rc = ls_nomem(err);
        goto done;
    }
    if (item_correlations(Rs, R)) {
        rc = ls_nomem(err);
        goto done;
    }
    memset(a, 0, J * K * sizeof *a);
    if (!m->exploratory) {
        size_t *idx = ls_malloc(J * sizeof *idx);
        if (!idx) {
            rc = ls_nomem(err);
            goto done;
        }
        for (size_t k = 0; k < K && !rc; k++) {
            size_t q = 0;
            for (size_t j = 0; j < J; j++)
                if (m->pattern[j * K + k]) idx[q++] = j;
            if (q == 0) continue;
            for (size_t r = 0; r < q; r++)
                for (size_t c = 0; c < q; c++) W[r * q + c] = R[idx[r] * J + idx[c]];
            if (ls_eigen_symm(W, q, e, V)) {
                rc = ls_fail(err, LS_ERR_NUMERIC, "gpcm: eigen-decomposition failed");
                break;
            }
            double s = 0;
            for (size_t r = 0; r < q; r++) s += V[r * q + q - 1];
            double sg = s < 0 ? -1.0 : 1.0;
            for (size_t r = 0; r < q; r++) {
                double v = sg * V[r * q + q - 1] * sqrt((double)q);
                a[idx[r] * K + k] = fmax(-2.0, fmin(2.0, v));
            }
        }
        ls_free(idx);
        goto done;
    }
    memcpy(W, R, J * J * sizeof *W);
    if (ls_eigen_symm(W, J, e, V)) {
        rc = ls_fail(err, LS_ERR_NUMERIC, "gpcm: eigen-decomposition failed");
        goto done;
    }
    for (size_t j = 0; j < J; j++)
        for (size_t k = 0; k < K; k++) {
            double l = V[j * J + (J - 1 - k)] * sqrt(fmax(e[J - 1 - k], 1e-6));
            a[j * K + k] = 1.7 * l;
        }
    /* rotate: M = first K rows, M M' = L L', a <- a M' L^-T (anchors -> L) */
    double Mb[100], Lb[100], rot[100];
    memcpy(Mb, a, K * K * sizeof *Mb);
    for (size_t p = 0; p < K; p++)
        for (size_t q = 0; q < K; q++) {
            double s = 0;
            for (size_t r = 0; r < K; r++) s += Mb[p * K + r] * Mb[q * K + r];
            Lb[p * K + q] = s;
        }
    if (ls_chol(Lb, K)) { /* degenerate anchors: plain unit loadings */
        for (size_t c = 0; c < J * K; c++) a[c] = m->pattern[c] ? 1.0 : 0.0;
        goto done;
    }
    /* rot = M' L^-T : column c of rot' ... solve L X = M row-wise */
    for (size_t r = 0; r < K; r++) {
        double col[10];
        for (size_t p = 0; p < K; p++) col[p] = Mb[p * K + r]; /* column r of M */
        ls_trsv_lower(Lb, K, 0, col);                          /* L^-1 M e_r   */
        for (size_t p = 0; p < K; p++) rot[r * K + p] = col[p]; /* rot = (L^-1 M)' */
    }
    for (size_t j = 0; j < J; j++) {
        double row[10];
        for (size_t p = 0; p < K; p++) {
            double s = 0;
            for (size_t r = 0; r < K; r++) s += a[j * K + r] * rot[r * K + p];
            row[p] = s;
        }
        for (size_t p = 0; p < K; p++) a[j * K + p] = m->pattern[j * K + p] ? fmax(-3.0, fmin(3.0, row[p])) : 0.0;
    }
    for (size_t k = 0; k < K; k++) /* positive anchors */
        if (a[k * K + k] < 0)
            for (size_t j = 0; j < J; j++) a[j * K + k] = -a[j * K + k];
done:
    ls_free(R);
    ls_free(W);
    ls_free(V);
    ls_free(e);
    return rc;
}

/* ---------------------------------------------------------------- */
/* Promax (Hendrickson and White 1964) after Kaiser-normalised varimax, */
/* as R's stats::promax(m = 4)                                       */
/* ---------------------------------------------------------------- */

/*
 * Varimax (Kaiser 1958) of the row-normalised loadings x (J x K), by the
 * SVD iteration of R's stats::varimax, from the orthogonal rotation TT
 * (in/out).  tight = 0: R's rule (stop when the sum of singular values
 * grows by a factor below 1 + 1e-5); tight = 1: iterate until no entry of
 * the rotation moves by 1e-13 (the derivative needs the exact stationary
 * point, not R's approximation of it).  z: J x K scratch.
 */
static int varimax(const double *x, size_t J, size_t K, double *TT, int tight, double *z)
{
    double Bm[100], BtB[100], Pw[100], Tn[100], half[100], dsum = 0;
    const int maxit = tight ? 50000 : 1000;
    for (int it = 0; it < maxit; it++) {
        ls_gemm(0, 0, J, K, K, x, TT, z);
        double cs[10] = {0};
        for (size_t j = 0; j < J; j++)
            for (size_t k = 0; k < K; k++) cs[k] += z[j * K + k] * z[j * K + k];
        for (size_t j = 0; j < J; j++)
            for (size_t k = 0; k < K; k++) {
                double v = z[j * K + k];
                z[j * K + k] = v * v * v - v * cs[k] / (double)J;
            }
        ls_gemm(1, 0, K, K, J, x, z, Bm);
        /* polar factor B (B'B)^-1/2 = U V' of the SVD; sum of singular values */
        ls_gemm(1, 0, K, K, K, Bm, Bm, BtB);
        if (ls_symm_power(BtB, K, -0.5, Pw)) return LS_ERR_NUMERIC;
        ls_gemm(0, 0, K, K, K, Bm, Pw, Tn);
        double ch = 0;
        for (size_t p = 0; p < K * K; p++) ch = fmax(ch, fabs(Tn[p] - TT[p]));
        memcpy(TT, Tn, K * K * sizeof *TT);
        if (tight) {
            if (ch < 1e-13) return LS_OK;
            continue;
        }
        double d = 0;
        if (ls_symm_power(BtB, K, 0.5, half)) return LS_ERR_NUMERIC;
        for (size_t k = 0; k < K; k++) d += half[k * K + k];
        if (it > 0 && d < dsum * (1 + 1e-5)) break;
        dsum = d;
    }
    return tight ? LS_ERR_NUMERIC : LS_OK;
}

/*
 * Promax T (K x K, lam T the rotated loadings) of lam (J x K; K >= 2):
 * varimax from TT (in: start, out: the varimax rotation), then the
 * Procrustes step to the target z |z|^3 with unit-variance factors.
 */
static int promax_core(const double *lam, size_t J, size_t K, double *TT, int tight, double *Tout, ls_error *err)
{
    double *x = ls_malloc(J * K * sizeof *x), *z = ls_malloc(J * K * sizeof *z),
           *sc = ls_malloc(J * sizeof *sc);
    double U[100];
    int rc = LS_OK;
    if (!x || !z || !sc) {
        rc = ls_nomem(err);
        goto done;
    }
    for (size_t j = 0; j < J; j++) {
        double s = 0;
        for (size_t k = 0; k < K; k++) s += lam[j * K + k] * lam[j * K + k];
        sc[j] = s > 0 ? sqrt(s) : 1.0;
        for (size_t k = 0; k < K; k++) x[j * K + k] = lam[j * K + k] / sc[j];
    }
    if (varimax(x, J, K, TT, tight, z)) {
        rc = ls_fail(err, LS_ERR_NUMERIC, tight ? "gpcm: varimax did not converge to 1e-13" : "gpcm: varimax failed");
        goto done;
    }
    ls_gemm(0, 0, J, K, K, x, TT, z);
    for (size_t j = 0; j < J; j++)
        for (size_t k = 0; k < K; k++) z[j * K + k] *= sc[j];
    /* promax: target Q = z |z|^3, U = (z'z)^-1 z'Q, columns scaled */
    for (size_t j = 0; j < J; j++)
        for (size_t k = 0; k < K; k++) {
            double v = z[j * K + k];
            x[j * K + k] = v * fabs(v) * fabs(v) * fabs(v);
        }
    double ZtZ[100], ZtQ[100], inv[100], UtU[100], UtUi[100];
    ls_gemm(1, 0, K, K, J, z, z, ZtZ);
    ls_gemm(1, 0, K, K, J, z, x, ZtQ);
    if (ls_lu_inverse(ZtZ, K, inv)) {
        rc = ls_fail(err, LS_ERR_NUMERIC, "gpcm: promax failed (singular loadings)");
        goto done;
    }
    ls_gemm(0, 0, K, K, K, inv, ZtQ, U);
    ls_gemm(1, 0, K, K, K, U, U, UtU);
    if (ls_lu_inverse(UtU, K, UtUi)) {
        rc = ls_fail(err, LS_ERR_NUMERIC, "gpcm: promax failed (singular rotation)");
        goto done;
    }
    for (size_t r = 0; r < K; r++)
        for (size_t k = 0; k < K; k++) U[r * K + k] *= sqrt(fmax(UtUi[k * K + k], 0));
    ls_gemm(0, 0, K, K, K, TT, U, Tout);
done:
    ls_free(x);
    ls_free(z);
    ls_free(sc);
    return rc;
}

/* Factor correlations of the rotation T: (T'T)^-1, to unit diagonal. */
static int phi_of(const double *T, size_t K, double *phi)
{
    double TtT[100];
    ls_gemm(1, 0, K, K, K, T, T, TtT);
    if (ls_lu_inverse(TtT, K, phi)) return LS_ERR_NUMERIC;
    for (size_t p = 0; p < K; p++) /* rescale to unit diagonal (rounding) */
        for (size_t q = 0; q < K; q++)
            if (p != q) phi[p * K + q] /= sqrt(phi[p * K + p] * phi[q * K + q]);
    for (size_t p = 0; p < K; p++) phi[p * K + p] = 1.0;
    return LS_OK;
}

int lsg_promax(const double *lam, size_t J, size_t K, double *a_rot, double *phi, double *T,
               double *Tvar, double *sgn, ls_error *err)
{
    double TT[100];
    for (size_t p = 0; p < K * K; p++) TT[p] = T[p] = p % (K + 1) == 0;
    int rc;
    if (K > 1 && (rc = promax_core(lam, J, K, TT, 0, T, err))) return rc;
    ls_gemm(0, 0, J, K, K, lam, T, a_rot);
    for (size_t k = 0; k < K; k++) { /* orient: positive column sums */
        double s = 0;
        for (size_t j = 0; j < J; j++) s += a_rot[j * K + k];
        if (sgn) sgn[k] = s < 0 ? -1.0 : 1.0;
        if (s < 0) {
            for (size_t r = 0; r < K; r++) T[r * K + k] = -T[r * K + k];
            for (size_t j = 0; j < J; j++) a_rot[j * K + k] = -a_rot[j * K + k];
        }
    }
    if (Tvar) memcpy(Tvar, TT, K * K * sizeof *TT);
    if (phi_of(T, K, phi)) return ls_fail(err, LS_ERR_NUMERIC, "gpcm: singular rotation");
    return LS_OK;
}

/* F(lam) on the branch (varimax from Tvar, signs sgn): rotated loadings,
 * then phi_pq, p > q.  TT_out (may be NULL): the converged varimax rotation. */
static int rotated_on_branch(const double *lam, size_t J, size_t K, const double *Tvar, const double *sgn,
                             double *F, double *TT_out, ls_error *err)
{
    double TT[100], T[100], phi[100];
    memcpy(TT, Tvar, K * K * sizeof *TT);
    if (K == 1) T[0] = 1.0;
    else {
        int rc = promax_core(lam, J, K, TT, 1, T, err);
        if (rc) return rc;
    }
    for (size_t r = 0; r < K; r++)
        for (size_t k = 0; k < K; k++) T[r * K + k] *= sgn[k];
    if (TT_out) memcpy(TT_out, TT, K * K * sizeof *TT);
    ls_gemm(0, 0, J, K, K, lam, T, F);
    if (phi_of(T, K, phi)) return ls_fail(err, LS_ERR_NUMERIC, "gpcm: singular rotation");
    size_t t = J * K;
    for (size_t p = 0; p < K; p++)
        for (size_t q = 0; q < p; q++) F[t++] = phi[p * K + q];
    return LS_OK;
}

/* The columns of the perturbed loadings Fp must stay those of F0: congruence
 * above 0.99 with the same column (no swap, no sign change). */
static int same_branch(const double *F0, const double *Fp, size_t J, size_t K)
{
    for (size_t k = 0; k < K; k++) {
        double sxy = 0, sxx = 0, syy = 0;
        for (size_t j = 0; j < J; j++) {
            sxy += F0[j * K + k] * Fp[j * K + k];
            sxx += F0[j * K + k] * F0[j * K + k];
            syy += Fp[j * K + k] * Fp[j * K + k];
        }
        if (!(sxy > 0.99 * sqrt(sxx * syy))) return 0;
    }
    return 1;
}

int lsg_rotation_jacobian(const double *lam, const int *pattern, size_t J, size_t K, const double *Tvar,
                          const double *sgn, double eps, double *G, double *F, ls_error *err)
{
    const size_t M = J * K + K * (K - 1) / 2;
    size_t na = 0;
    for (size_t x = 0; x < J * K; x++) na += pattern[x] != 0;
    double *l = ls_malloc(J * K * sizeof *l), *F0 = ls_malloc(M * sizeof *F0),
           *Fp = ls_malloc(M * sizeof *Fp), *Fm = ls_malloc(M * sizeof *Fm);
    double Tb[100];
    int rc = LS_OK;
    if (!l || !F0 || !Fp || !Fm) {
        rc = ls_nomem(err);
        goto done;
    }
    memcpy(l, lam, J * K * sizeof *l);
    /* the base point, with varimax converged from the reported rotation;
     * the perturbed ones start from its exact stationary point */
    if ((rc = rotated_on_branch(l, J, K, Tvar, sgn, F0, Tb, err))) goto done;
    size_t c = 0;
    for (size_t x = 0; x < J * K; x++) {
        if (!pattern[x]) continue;
        const double h = eps * (fabs(lam[x]) + 0.1);
        const double up = lam[x] + h, dn = lam[x] - h;
        l[x] = up;
        rc = rotated_on_branch(l, J, K, Tb, sgn, Fp, NULL, err);
        l[x] = dn;
        if (!rc) rc = rotated_on_branch(l, J, K, Tb, sgn, Fm, NULL, err);
        l[x] = lam[x];
        if (rc) goto done;
        if (!same_branch(F0, Fp, J, K) || !same_branch(F0, Fm, J, K)) {
            rc = ls_fail(err, LS_ERR_NUMERIC, "gpcm: the promax solution jumps to another branch under a "
                                              "perturbation of the slopes");
            goto done;
        }
        for (size_t r = 0; r < M; r++) G[r * na + c] = (Fp[r] - Fm[r]) / (up - dn);
        c++;
    }
    if (F) memcpy(F, F0, M * sizeof *F);
done:
    ls_free(l);
    ls_free(F0);
    ls_free(Fp);
    ls_free(Fm);
    return rc;
}

/* Standard errors of F: sqrt(diag(G V G')), G M x na, V na x na. */
static int delta_se(const double *G, const double *V, size_t M, size_t na, double *se, ls_error *err)
{
    double *row = ls_malloc((na ? na : 1) * sizeof *row);
    if (!row) return ls_nomem(err);
    for (size_t r = 0; r < M; r++) {
        const double *g = G + r * na;
        double v = 0;
        for (size_t p = 0; p < na; p++) {
            double s = 0;
            for (size_t q = 0; q < na; q++) s += V[p * na + q] * g[q];
            row[p] = s;
            v += g[p] * s;
        }
        se[r] = sqrt(fmax(v, 0));
    }
    ls_free(row);
    return LS_OK;
}

/* ---------------------------------------------------------------- */
/* Warnings                                                          */
/* ---------------------------------------------------------------- */

int lsg_fit_warn(lsg_fit *f, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char **w = ls_realloc(f->warnings, (f->nwarnings + 1) * sizeof *w);
    if (!w) return LS_ERR_NOMEM;
    f->warnings = w;
    if (!(w[f->nwarnings] = ls_strdup(buf))) return LS_ERR_NOMEM;
    f->nwarnings++;
    return LS_OK;
}

/* ---------------------------------------------------------------- */
/* The fit                                                            */
/* ---------------------------------------------------------------- */

/*
 * Delta-method standard errors of the rotated slopes and correlations from
 * the covariance V (na x na) of the unrotated free slopes: G V G' with G
 * the Jacobian of the promax map on the reported branch.  A rotation whose
 * derivative cannot be taken (varimax not converging, a branch jump) gives
 * a warning and no rotated standard errors; only LS_ERR_NOMEM fails.
 */
static int rotated_se(lsg_fit *out, const double *lam, const int *pat, const double *Tvar,
                      const double *sgn, const double *V, ls_error *err)
{
    const size_t J = out->J, K = out->K, M = J * K + K * (K - 1) / 2;
    size_t na = 0;
    for (size_t c = 0; c < J * K; c++) na += pat[c] != 0;
    ls_error e2 = {0, ""};
    double *G = ls_malloc(M * na * sizeof *G), *se = ls_malloc(M * sizeof *se);
    out->se_a_rot = ls_malloc(J * K * sizeof *out->se_a_rot);
    out->se_sigma_rot = ls_calloc(K * K, sizeof *out->se_sigma_rot);
    int rc = LS_OK;
    if (!G || !se || !out->se_a_rot || !out->se_sigma_rot) {
        rc = ls_nomem(err);
        goto done;
    }
    rc = lsg_rotation_jacobian(lam, pat, J, K, Tvar, sgn, 1e-4, G, NULL, &e2);
    if (rc == LS_ERR_NOMEM) {
        rc = ls_nomem(err);
        goto done;
    }
    if (rc) {
        ls_free(out->se_a_rot);
        ls_free(out->se_sigma_rot);
        out->se_a_rot = out->se_sigma_rot = NULL;
        rc = lsg_fit_warn(out, "no standard errors for the rotated solution: %s", e2.message) ? ls_nomem(err) : LS_OK;
        goto done;
    }
    if ((rc = delta_se(G, V, M, na, se, err))) goto done;
    memcpy(out->se_a_rot, se, J * K * sizeof *se);
    size_t t = J * K;
    for (size_t p = 0; p < K; p++)
        for (size_t q = 0; q < p; q++) out->se_sigma_rot[p * K + q] = out->se_sigma_rot[q * K + p] = se[t++];
done:
    ls_free(G);
    ls_free(se);
    return rc;
}

typedef struct best_state {
    double *a, *b, *sigma, *mu, *S, *trace;
    double elbo;
    unsigned iters, ntrace;
    int converged, monotone;
} best_state;

static int run_start(lsg_model *m, const ls_gpcm_options *o, const char *stage, double *trace,
                     unsigned *iters, int *converged, int *monotone, ls_error *err)
{
    int rc = lsg_start(m, err);
    if (rc) return rc;
    trace[0] = m->elbo;
    *converged = 0;
    *monotone = 1;
    unsigned it = 0;
    while (it < o->max_iter) {
        double change;
        double before = m->elbo;
        rc = lsg_iterate(m, &change, err);
        if (rc) return rc;
        it++;
        trace[it] = m->elbo;
        if (m->elbo < before - 1e-9 * fabs(before)) *monotone = 0;
        if (o->progress && (it % 10 == 0) && o->progress(o->progress_ctx, stage, it, o->max_iter))
            return ls_fail(err, LS_ERR_CANCEL, "gpcm: cancelled");
        if (change < o->tol) {
            *converged = 1;
            break;
        }
    }
    *iters = it;
    return LS_OK;
}

/* Start s's slopes a1 (J x K) and steps b1 (T) from the data's start a0, b0:
 * start 0 is the data's, start s > 0 perturbs it with its own seeded stream. */
static void start_values(unsigned s, const double *a0, const double *b0, const int *pat, size_t JK, size_t T,
                         uint64_t seed, gsl_rng *g, double *a1, double *b1)
{
    memcpy(a1, a0, JK * sizeof *a1);
    memcpy(b1, b0, T * sizeof *b1);
    if (s == 0) return;
    gsl_rng_set(g, (unsigned long)ls_splitmix64(seed * 1000003u + s));
    for (size_t c = 0; c < JK; c++)
        a1[c] = pat[c] ? a1[c] * (0.5 + gsl_rng_uniform(g)) + 0.3 * gsl_ran_gaussian(g, 1.0) : 0.0;
    for (size_t c = 0; c < T; c++) b1[c] += 0.3 * gsl_ran_gaussian(g, 1.0);
}

/*
 * Screening the starts when there are many persons (n > 2 LSG_SCREEN_N):
 * every start runs to convergence on the same random subsample of
 * LSG_SCREEN_N persons (chosen by selection sampling, Knuth's algorithm S,
 * from a stream of its own seeded by the fit's seed: the same persons
 * whatever the thread count), and only the start with the highest lower
 * bound there (the first on ties) then runs on all persons, from its own
 * starting values, so that the fit is exactly the one the full run of that
 * start gives.  The starts of one optimum differ only by where the stopping
 * rule left them (on the benchmark's design, N = 20,000: within 4e-6
 * relative), so the choice costs nothing in the bound beyond that; three
 * starts cost about one full start and a subsample's three.
 * screen (starts): the subsample's lower bounds (NaN: broke down);
 * *chosen: the start to run, or starts when every start broke down.
 */
#define LSG_SCREEN_N 5000
static int screen_starts(const ls_resp *Rs, size_t K, const unsigned *P, const int *pat, int exploratory,
                         int threads, const ls_gpcm_options *o, const double *a0, const double *b0, gsl_rng *g,
                         double *trace, double *screen, unsigned *chosen, ls_error *err)
{
    const size_t n = Rs->n, J = Rs->q, ns = LSG_SCREEN_N;
    uint32_t *pi = NULL, *pj = NULL;
    double *pv = NULL, *a1 = NULL, *b1 = NULL;
    ls_resp sub;
    memset(&sub, 0, sizeof sub);
    lsg_model ms;
    memset(&ms, 0, sizeof ms);
    size_t *pick = ls_malloc(ns * sizeof *pick);
    int rc = LS_OK;
    if (!pick) return ls_nomem(err);
    gsl_rng_set(g, (unsigned long)ls_splitmix64(~(o->seed * 1000003u)));
    size_t got = 0, nnz = 0;
    for (size_t i = 0; i < n && got < ns; i++)
        if ((double)(n - i) * gsl_rng_uniform(g) < (double)(ns - got)) {
            pick[got++] = i;
            nnz += Rs->rp[i + 1] - Rs->rp[i];
        }
    pi = ls_malloc((nnz ? nnz : 1) * sizeof *pi);
    pj = ls_malloc((nnz ? nnz : 1) * sizeof *pj);
    pv = ls_malloc((nnz ? nnz : 1) * sizeof *pv);
    if (!pi || !pj || !pv) {
        rc = ls_nomem(err);
        goto done;
    }
    for (size_t t = 0, k = 0; t < got; t++)
        for (size_t c = Rs->rp[pick[t]]; c < Rs->rp[pick[t] + 1]; c++, k++) {
            pi[k] = (uint32_t)t;
            pj[k] = Rs->ri[c];
            pv[k] = Rs->rv[c];
        }
    size_t dup = 0;
    if ((rc = ls_resp_from_triples(got, J, nnz, pi, pj, pv, &dup, &sub, err))) goto done;
    if ((rc = lsg_init_resp(&ms, &sub, K, P, pat, exploratory, threads, err))) goto done;
    a1 = ls_malloc(J * K * sizeof *a1);
    b1 = ls_malloc(ms.T * sizeof *b1);
    if (!a1 || !b1) {
        rc = ls_nomem(err);
        goto done;
    }
    double ident[100], best = -INFINITY;
    for (size_t c = 0; c < K * K; c++) ident[c] = c % (K + 1) == 0;
    *chosen = o->starts;
    for (unsigned s = 0; s < o->starts; s++) {
        start_values(s, a0, b0, pat, J * K, ms.T, o->seed, g, a1, b1);
        lsg_set(&ms, a1, b1, ident);
        unsigned iters = 0;
        int conv = 0, mono = 1;
        rc = run_start(&ms, o, "gpcm: GVEM (screening the starts)", trace, &iters, &conv, &mono, err);
        if (rc == LS_ERR_CANCEL || rc == LS_ERR_NOMEM) goto done;
        screen[s] = rc ? NAN : ms.elbo;
        rc = LS_OK;
        if (screen[s] > best) {
            best = screen[s];
            *chosen = s;
        }
    }
done:
    lsg_free(&ms);
    ls_resp_free(&sub);
    ls_free(pick);
    ls_free(pi);
    ls_free(pj);
    ls_free(pv);
    ls_free(a1);
    ls_free(b1);
    return rc;
}

int lsg_run(const ls_gpcm_data *d, const int *pattern, const ls_gpcm_options *o, lsg_fit *out,
            ls_error *err)
{
    memset(out, 0, sizeof *out);
    int rc = ls_gpcm_options_check(o, err);
    if (rc) return rc;
    if (!d || (!d->Y && !d->R.rp) || !d->ncat) return ls_fail(err, LS_ERR_INPUT, "gpcm: no scores");
    const size_t n = d->n, J = d->J, K = o->factors;
    if (J < 2 || n < 2) return ls_fail(err, LS_ERR_INPUT, "gpcm: need at least 2 items and 2 persons");
    if (!pattern && J < K) return ls_fail(err, LS_ERR_OPTION, "factors: %zu factors need at least %zu items", K, K);
    unsigned nodes = o->nodes ? o->nodes : (K == 1 ? 11 : K == 2 ? 7 : K == 3 ? 5 : K <= 6 ? 3 : 2);
    const size_t p = d->p;
    if (p && o->method != LS_GPCM_MML)
        return ls_fail(err, LS_ERR_OPTION, "covariates: need method mml (the GVEM fit takes no covariates)");
    if (p && !pattern && K > 1)
        return ls_fail(err, LS_ERR_OPTION, "covariates: with %zu factors need a confirmatory pattern (the "
                       "exploratory rotation does not carry covariate effects)", K);
    if (pattern) {
        for (size_t k = 0; k < K; k++) {
            size_t c = 0;
            for (size_t j = 0; j < J; j++) c += pattern[j * K + k] != 0;
            if (!c) return ls_fail(err, LS_ERR_INPUT, "pattern: factor %zu has no items", k + 1);
        }
        for (size_t j = 0; j < J; j++) {
            size_t c = 0;
            for (size_t k = 0; k < K; k++) c += pattern[j * K + k] != 0;
            if (!c) return ls_fail(err, LS_ERR_INPUT, "pattern: item '%s' loads on no factor", d->items[j]);
        }
    }
    /* each item's slopes (its pattern's factors, else all K) and steps
     * (categories - 1) are estimated from its persons */
    size_t jmax = 0, smax = 0, need = 0;
    for (size_t j = 0; j < J; j++) {
        size_t sl = K;
        if (pattern) {
            sl = 0;
            for (size_t k = 0; k < K; k++) sl += pattern[j * K + k] != 0;
        }
        if (sl + d->ncat[j] - 1 > need) {
            need = sl + d->ncat[j] - 1;
            jmax = j;
            smax = sl;
        }
    }
    if (n <= need)
        return ls_fail(err, LS_ERR_OPTION,
                       "factors: item '%s' with %zu slope%s and %u steps needs more than %zu persons (persons > "
                       "slopes + steps: each item's are estimated from its persons), found %zu",
                       d->items[jmax], smax, smax == 1 ? "" : "s", d->ncat[jmax] - 1, need, n);
    ls_gsl_quiet();
    const double t0 = now();
    int threads = o->threads ? (int)o->threads : omp_get_max_threads();
    unsigned *P = ls_malloc(J * sizeof *P);
    int *pat = ls_malloc(J * K * sizeof *pat);
    lsg_model m;
    memset(&m, 0, sizeof m);
    ls_resp Rloc; /* the cells of d->Y when the data hold no cells */
    memset(&Rloc, 0, sizeof Rloc);
    const ls_resp *Rs = &d->R;
    best_state best;
    memset(&best, 0, sizeof best);
    double *a0 = NULL, *b0 = NULL, *trace = NULL, *a1 = NULL, *b1 = NULL, *cov_a = NULL;
    double *Xs = NULL, *xm = NULL, *xsd = NULL;
    gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
    if (!P || !pat || !g) {
        rc = ls_nomem(err);
        goto fail;
    }
    size_t maxcat = 0, nobs = 0;
    for (size_t j = 0; j < J; j++) {
        P[j] = d->ncat[j] - 1;
        if (d->ncat[j] > maxcat) maxcat = d->ncat[j];
    }
    if (!d->R.rp) {
        if ((rc = lsg_resp_from_scores(d->Y, n, J, &Rloc, err))) goto fail;
        Rs = &Rloc;
    }
    nobs = Rs->nnz;
    for (size_t j = 0; j < J; j++)
        for (size_t k = 0; k < K; k++)
            pat[j * K + k] = pattern ? pattern[j * K + k] != 0 : !(j < K && k > j);
    rc = lsg_init_resp(&m, Rs, K, P, pat, pattern == NULL, threads, err);
    if (rc) goto fail;
    const size_t T = m.T;
    a0 = ls_malloc(J * K * sizeof *a0);
    b0 = ls_malloc(T * sizeof *b0);
    a1 = ls_malloc(J * K * sizeof *a1);
    b1 = ls_malloc(T * sizeof *b1);
    trace = ls_malloc(((size_t)o->max_iter + 1) * sizeof *trace);
    best.a = ls_malloc(J * K * sizeof *best.a);
    best.b = ls_malloc(T * sizeof *best.b);
    best.sigma = ls_malloc(K * K * sizeof *best.sigma);
    best.mu = ls_malloc(n * K * sizeof *best.mu);
    best.S = ls_malloc(n * K * K * sizeof *best.S);
    best.trace = ls_malloc(((size_t)o->max_iter + 1) * sizeof *best.trace);
    out->start_elbo = ls_calloc(o->starts, sizeof *out->start_elbo);
    if (!a0 || !b0 || !a1 || !b1 || !trace || !best.a || !best.b || !best.sigma || !best.mu || !best.S ||
        !best.trace || !out->start_elbo) {
        rc = ls_nomem(err);
        goto fail;
    }
    rc = lsg_data_start(d, &m, a0, b0, err);
    if (rc) goto fail;
    best.elbo = -INFINITY;
    double ident[100];
    for (size_t c = 0; c < K * K; c++) ident[c] = c % (K + 1) == 0;
    unsigned chosen = o->starts; /* screened: the one start run on all persons */
    if (o->starts > 1 && n > 2 * LSG_SCREEN_N) {
        out->screen_elbo = ls_malloc(o->starts * sizeof *out->screen_elbo);
        if (!out->screen_elbo) {
            rc = ls_nomem(err);
            goto fail;
        }
        rc = screen_starts(Rs, K, P, pat, pattern == NULL, threads, o, a0, b0, g, trace, out->screen_elbo, &chosen,
                           err);
        if (rc) goto fail;
        if (chosen < o->starts) out->screen_persons = LSG_SCREEN_N;
        else if ((rc = lsg_fit_warn(out, "every start broke down on the screening subsample of %d persons: "
                                         "every start was run on all persons",
                                    LSG_SCREEN_N))) {
            rc = ls_nomem(err);
            goto fail;
        }
    }
    for (unsigned s = 0; s < o->starts; s++) {
        if (out->screen_persons && s != chosen) { /* not run on all persons */
            out->start_elbo[s] = NAN;
            continue;
        }
        start_values(s, a0, b0, pat, J * K, T, o->seed, g, a1, b1);
        lsg_set(&m, a1, b1, ident);
        unsigned iters = 0;
        int conv = 0, mono = 1;
        rc = run_start(&m, o, s ? "gpcm: GVEM (start)" : "gpcm: GVEM", trace, &iters, &conv, &mono, err);
        if (rc == LS_ERR_CANCEL || rc == LS_ERR_NOMEM) goto fail;
        if (rc) { /* a start that broke down numerically is skipped */
            out->start_elbo[s] = NAN;
            rc = LS_OK;
            continue;
        }
        out->start_elbo[s] = m.elbo;
        if (m.elbo > best.elbo) {
            best.elbo = m.elbo;
            best.iters = iters;
            best.converged = conv;
            best.monotone = mono;
            memcpy(best.a, m.a, J * K * sizeof *m.a);
            memcpy(best.b, m.b, T * sizeof *m.b);
            memcpy(best.sigma, m.sigma, K * K * sizeof *m.sigma);
            memcpy(best.mu, m.mu, n * K * sizeof *m.mu);
            memcpy(best.S, m.S, n * K * K * sizeof *m.S);
            memcpy(best.trace, trace, ((size_t)iters + 1) * sizeof *trace);
            best.ntrace = iters + 1;
        }
    }
    if (!isfinite(best.elbo)) {
        rc = ls_fail(err, LS_ERR_NUMERIC, "gpcm: every start broke down numerically");
        goto fail;
    }
    if (out->screen_persons) { /* at the best on the subsample */
        const double sb = out->screen_elbo[chosen];
        for (unsigned s = 0; s < o->starts; s++)
            out->starts_at_best += fabs(out->screen_elbo[s] - sb) <= 1e-4 * (1 + fabs(sb));
    } else
        for (unsigned s = 0; s < o->starts; s++)
            out->starts_at_best += fabs(out->start_elbo[s] - best.elbo) <= 1e-4 * (1 + fabs(best.elbo));
    lsg_set(&m, best.a, best.b, best.sigma);
    memcpy(m.mu, best.mu, n * K * sizeof *m.mu);
    memcpy(m.S, best.S, n * K * K * sizeof *m.S);
    m.stats = 0; /* the sums over persons were those of the last start */
    m.elbo = best.elbo;
    out->seconds_gvem = now() - t0;

    out->loglik = NAN;
    if (o->method == LS_GPCM_MML) {
        const double t1 = now();
        int conv = 0;
        if (p) { /* standardised covariates in the engine */
            Xs = ls_malloc(n * p * sizeof *Xs);
            xm = ls_calloc(p, sizeof *xm);
            xsd = ls_calloc(p, sizeof *xsd);
            if (!Xs || !xm || !xsd) {
                rc = ls_nomem(err);
                goto fail;
            }
            ls_standardise_columns(d->X, n, p, Xs, xm, xsd);
            rc = lsg_set_covariates(&m, Xs, p, o->covariate_mode == LS_GPCM_COV_DIF ? LSG_X_DIF : LSG_X_LREG, err);
            if (rc) goto fail;
        }
        rc = lsg_mml(&m, nodes, o->gtol, o->max_iter, o->progress, o->progress_ctx, &out->loglik,
                     &out->mml_iterations, &conv, err);
        if (rc) goto fail;
        best.converged = best.converged && conv;
        out->seconds_mml = now() - t1;
    }
    /* exploratory: positive anchors (sign of each unrotated factor) */
    if (!pattern)
        for (size_t k = 0; k < K; k++)
            if (m.a[k * K + k] < 0) {
                for (size_t j = 0; j < J; j++) m.a[j * K + k] = -m.a[j * K + k];
                for (size_t i = 0; i < n; i++) {
                    m.mu[i * K + k] = -m.mu[i * K + k];
                    for (size_t l = 0; l < K; l++)
                        if (l != k) {
                            m.S[(i * K + k) * K + l] = -m.S[(i * K + k) * K + l];
                            m.S[(i * K + l) * K + k] = -m.S[(i * K + l) * K + k];
                        }
                }
            }

    /* the fit */
    out->n = n;
    out->J = J;
    out->K = K;
    out->maxcat = maxcat;
    out->method = o->method;
    out->exploratory = pattern == NULL;
    out->seed = o->seed;
    out->tol = o->tol;
    out->nodes = nodes;
    out->nobs = nobs;
    out->elbo = best.elbo;
    out->iterations = best.iters;
    out->starts = o->starts;
    out->converged = best.converged;
    out->monotone = best.monotone;
    out->elbo_trace = best.trace;
    best.trace = NULL;
    const size_t nb = maxcat - 1;
    out->ncat = ls_malloc(J * sizeof *out->ncat);
    out->pattern = ls_malloc(J * K * sizeof *out->pattern);
    out->a = ls_malloc(J * K * sizeof *out->a);
    out->b = ls_malloc(J * nb * sizeof *out->b);
    out->sigma = ls_malloc(K * K * sizeof *out->sigma);
    out->mu = ls_malloc(n * K * sizeof *out->mu);
    if (!out->ncat || !out->pattern || !out->a || !out->b || !out->sigma || !out->mu) {
        rc = ls_nomem(err);
        goto fail;
    }
    memcpy(out->ncat, d->ncat, J * sizeof *out->ncat);
    /* categories never observed: their step parameters are not identified */
    for (size_t j = 0; j < J; j++) {
        size_t cnt[64] = {0};
        for (size_t c = Rs->cp[j]; c < Rs->cp[j + 1]; c++) cnt[(int)Rs->cv[c]]++;
        for (size_t k = 0; k <= P[j]; k++) {
            if (cnt[k]) continue;
            if (k == 0)
                rc = lsg_fit_warn(out, "item '%s': category 0 (raw score %.0f) is never observed; the item's step "
                                  "parameters are not identified (they drift towards -infinity)",
                                  d->items[j], d->lowest);
            else
                rc = lsg_fit_warn(out, "item '%s': category %zu (raw score %.0f) is never observed; its step "
                                  "parameter b%zu is not identified (it drifts towards +infinity)",
                                  d->items[j], k, d->lowest + (double)k, k);
            if (rc) {
                rc = ls_nomem(err);
                goto fail;
            }
        }
    }
    memcpy(out->pattern, pat, J * K * sizeof *pat);
    for (size_t j = 0; j < J; j++)
        for (size_t k = 0; k < nb; k++) out->b[j * nb + k] = k < P[j] ? m.b[m.off[j] + k + 1] : NAN;
    size_t npar = 0;
    for (size_t c = 0; c < J * K; c++) npar += pat[c] != 0;
    for (size_t j = 0; j < J; j++) npar += P[j];
    if (pattern) npar += K * (K - 1) / 2;
    out->nparams = npar;
    out->vbic = -2.0 * out->elbo + log((double)n) * (double)npar;

    if (p) { /* covariates: information, reported values, tests (covariates.c) */
        npar += m.xmode == LSG_X_DIF ? J * p : p * K;
        out->nparams = npar;
        out->vbic = -2.0 * out->elbo + log((double)n) * (double)npar;
        const double t2 = now();
        memcpy(out->sigma, m.sigma, K * K * sizeof *m.sigma);
        if ((rc = lsg_cov_finish(&m, nodes, o, xm, xsd, out, err))) goto fail;
        out->covariates = ls_items_names((const char *const *)d->covariates, p, "x");
        if (!out->covariates) {
            rc = ls_nomem(err);
            goto fail;
        }
        out->seconds_se = now() - t2;
        out->bic = isfinite(out->loglik) ? -2.0 * out->loglik + log((double)n) * (double)npar : NAN;
        /* posterior means on the reported scale: theta = engine's + A' x
         * (DIF; A the condition's), + A' (mean x) (latent regression, whose
         * steps are those at x = 0) */
        for (size_t i = 0; i < n; i++)
            for (size_t k = 0; k < K; k++) {
                double v = m.mu[i * K + k];
                for (size_t s = 0; s < p; s++)
                    v += out->A[s * K + k] * (m.xmode == LSG_X_DIF ? d->X[i * p + s] : xm[s]);
                out->mu[i * K + k] = v;
            }
        if (o->dif_lr && m.xmode == LSG_X_DIF) {
            /* the model without DIF: the covariates move the factor means
             * only; from the DIF fit's slopes and steps and its min-L1 means
             * (standardised units) */
            double *lr0 = ls_malloc(p * K * sizeof *lr0);
            if (!lr0) {
                rc = ls_nomem(err);
                goto fail;
            }
            for (size_t s = 0; s < p; s++)
                for (size_t k = 0; k < K; k++) lr0[s * K + k] = out->A[s * K + k] * xsd[s];
            rc = lsg_set_covariates(&m, Xs, p, LSG_X_LREG, err);
            if (!rc) memcpy(m.lreg, lr0, p * K * sizeof *lr0);
            ls_free(lr0);
            if (rc) goto fail;
            m.mml_stage = "gpcm: MML without DIF";
            m.mml_warm = 1;
            double ll0 = NAN;
            unsigned it0 = 0;
            int conv0 = 0;
            rc = lsg_mml(&m, nodes, o->gtol, o->max_iter, o->progress, o->progress_ctx, &ll0, &it0, &conv0, err);
            if (rc) goto fail;
            out->has_lr = 1;
            out->loglik_nodif = ll0;
            out->lr_df = p * (J - K);
            out->lr_dif = fmax(0.0, 2 * (out->loglik - ll0));
            out->lr_p = conv0 && out->lr_df ? gsl_cdf_chisq_Q(out->lr_dif, (double)out->lr_df) : NAN;
        }
        goto done;
    }
    /* marginal log-likelihood and standard errors at the estimates */
    if (!o->skip_se) {
        const double t2 = now();
        double *se_b = ls_malloc(T * sizeof *se_b);
        size_t na = 0;
        for (size_t c = 0; c < J * K; c++) na += pat[c] != 0;
        cov_a = pattern ? NULL : ls_malloc(na * na * sizeof *cov_a);
        if (!pattern && !cov_a) {
            ls_free(se_b);
            rc = ls_nomem(err);
            goto fail;
        }
        out->se_a = ls_malloc(J * K * sizeof *out->se_a);
        out->se_b = ls_malloc(J * nb * sizeof *out->se_b);
        out->se_sigma = pattern ? ls_calloc(K * K, sizeof *out->se_sigma) : NULL;
        if (!se_b || !out->se_a || !out->se_b || (pattern && !out->se_sigma)) {
            ls_free(se_b);
            rc = ls_nomem(err);
            goto fail;
        }
        double ll;
        rc = lsg_marginal(&m, nodes, &ll, out->se_a, se_b, out->se_sigma, cov_a, err);
        if (rc == LS_ERR_NUMERIC) { /* singular information: no standard errors */
            ls_free(out->se_a);
            ls_free(out->se_b);
            ls_free(out->se_sigma);
            ls_free(cov_a);
            out->se_a = out->se_b = out->se_sigma = cov_a = NULL;
            if (lsg_fit_warn(out, "no standard errors: %s",
                             err ? err->message : "the cross-product information is singular")) {
                ls_free(se_b);
                rc = ls_nomem(err);
                goto fail;
            }
            rc = lsg_marginal(&m, nodes, &ll, NULL, NULL, NULL, NULL, err);
        }
        if (rc) {
            ls_free(se_b);
            goto fail;
        }
        if (out->se_b)
            for (size_t j = 0; j < J; j++)
                for (size_t k = 0; k < nb; k++) out->se_b[j * nb + k] = k < P[j] ? se_b[m.off[j] + k + 1] : NAN;
        ls_free(se_b);
        out->loglik = ll;
        out->seconds_se = now() - t2;
    }
    out->bic = isfinite(out->loglik) ? -2.0 * out->loglik + log((double)n) * (double)npar : NAN;

    /* report: confirmatory as fitted; exploratory promax-rotated */
    memcpy(out->a, m.a, J * K * sizeof *m.a);
    memcpy(out->sigma, m.sigma, K * K * sizeof *m.sigma);
    memcpy(out->mu, m.mu, n * K * sizeof *m.mu);
    if (!pattern) {
        out->a_unrotated = ls_malloc(J * K * sizeof *out->a_unrotated);
        out->rotation = ls_malloc(K * K * sizeof *out->rotation);
        if (!out->a_unrotated || !out->rotation) {
            rc = ls_nomem(err);
            goto fail;
        }
        memcpy(out->a_unrotated, m.a, J * K * sizeof *m.a);
        double Tm[100], Ti[100], Tvar[100], sgn[10];
        if ((rc = lsg_promax(m.a, J, K, out->a, out->sigma, Tm, Tvar, sgn, err))) goto fail;
        memcpy(out->rotation, Tm, K * K * sizeof *Tm);
        if (ls_lu_inverse(Tm, K, Ti)) {
            rc = ls_fail(err, LS_ERR_NUMERIC, "gpcm: singular rotation");
            goto fail;
        }
        const double t3 = now();
        if (cov_a && (rc = rotated_se(out, m.a, pat, Tvar, sgn, cov_a, err))) goto fail;
        if (cov_a) out->seconds_se += now() - t3;
        /* theta* = T^-1 theta: mu*_i' = mu_i' T^-T */
        ls_gemm(0, 1, n, K, K, m.mu, Ti, out->mu);
    }
    goto done;
fail:
    lsg_fit_free(out);
done:
    lsg_free(&m);
    ls_resp_free(&Rloc);
    ls_free(P);
    ls_free(pat);
    ls_free(a0);
    ls_free(b0);
    ls_free(a1);
    ls_free(b1);
    ls_free(trace);
    ls_free(cov_a);
    ls_free(Xs);
    ls_free(xm);
    ls_free(xsd);
    ls_free(best.a);
    ls_free(best.b);
    ls_free(best.sigma);
    ls_free(best.mu);
    ls_free(best.S);
    ls_free(best.trace);
    if (g) gsl_rng_free(g);
    return rc;
}
