/*
 * scaling.c -- marginal likelihood and gradient of the latent-variable
 * scaling law (Cai et al., arXiv 2512.06553; spec scaling-law.md).
 *
 * Family f's latent vector is written alpha = L z with z ~ N(0, I) and
 * Sigma = L L^T, so every family integrates against a standard normal:
 *     log L_f = log int exp(h_f(z)) dz,
 *     h_f(z)  = sum_{cells of f} log Beta(y | eta0_c + a_j . z) + log phi_K(z),
 * where eta0_c = lambda_j^T B^T x_i + b_j and a_j = L^T lambda_j.  Because
 * alpha is shared by the whole family, the random part of eta depends on the
 * benchmark only, which keeps Newton steps and node evaluations cheap.
 *
 * Integration is adaptive: Newton finds the mode z* of h_f, the negative
 * Hessian there is factored R R^T, and the rule's nodes are mapped to
 * z = z* + R^{-T} u.  The gradient is the posterior expectation of the
 * complete-data score (Fisher's identity) under the same nodes:
 *     d log L_f / d theta = sum_k pi_k d h_f(z_k) / d theta,
 * which is the exact gradient of the quadrature sum with the node map held
 * fixed, and differs from the derivative of the adaptive sum only by the
 * (tiny) quadrature error.
 *
 * Families are independent: they are computed in parallel and summed in
 * family order, so results do not depend on the number of threads.
 */
#include "scaling/model.h"
#include "kernel/linalg.h"
#include "kernel/special.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#define LOG_2PI 1.8378770664093454836
#define NEWTON_MAX 60
#define NEWTON_TOL 1e-9
#define WEIGHT_CUT 1e-15
#define LAPLACE_FLOOR 0.5 /* the Laplace curvature floor d (laplace_logdet) */

/* ---------------------------------------------------------------- */
/* Construction                                                      */
/* ---------------------------------------------------------------- */

size_t ls_params_count(size_t K, size_t J, size_t p)
{
    return K * (K - 1) / 2 + p * K + K + K * (J - K) + 2 * J;
}

void ls_model_free(ls_model *m)
{
    if (!m) return;
    ls_free(m->anchor);
    ls_free(m->anchor_of);
    ls_free(m->lam_off);
    ls_rule_free(&m->rule);
    ls_free(m->zmode);
    ls_free(m->fam_ll);
    ls_free(m->fam_grad);
    ls_free(m->fam_chol);
    ls_free(m->fam_center);
    ls_free(m->fam_map);
    ls_free(m->fam_logdet);
    ls_free(m->fam_se);
    ls_free(m->fam_newton_fail);
    ls_free(m->B);
    ls_free(m->lam);
    ls_free(m->b);
    ls_free(m->phi);
    ls_free(m->lgphi);
    ls_free(m->psiphi);
    ls_free(m->L);
    ls_free(m->a);
    ls_free(m->rowc);
    ls_free(m->dL);
    ls_free(m->wv);
    ls_free(m->theta0);
    ls_free(m->eta0);
    ls_free(m->scratch);
    ls_free(m->cphi);
    ls_free(m->clgphi);
    ls_free(m->cpsiphi);
    ls_free(m->kap_of);
    ls_free(m->ceil);
    ls_free(m->dceil);
    ls_free(m->d2ceil);
    ls_free(m);
}

/* Resolve the anchors: NULL means the first K benchmarks. */
static int set_anchors(ls_model *m, const char *anchors, ls_error *err)
{
    const ls_data *d = m->d;
    for (size_t j = 0; j < m->J; j++) m->anchor_of[j] = -1;
    if (!anchors || !*anchors) {
        for (size_t k = 0; k < m->K; k++) {
            m->anchor[k] = k;
            m->anchor_of[k] = (long)k;
        }
        return LS_OK;
    }
    char **v;
    size_t n;
    int rc = ls_split(anchors, &v, &n, err);
    if (rc) return rc;
    if (n != m->K) {
        rc = ls_fail(err, LS_ERR_OPTION, "--anchors: expected %zu names (one per skill), found %zu",
                     m->K, n);
        goto done;
    }
    for (size_t k = 0; k < n; k++) {
        size_t j = 0;
        while (j < m->J && strcmp(d->bench[j], v[k]) != 0) j++;
        if (j == m->J) {
            rc = ls_fail(err, LS_ERR_OPTION, "--anchors: unknown benchmark '%s'", v[k]);
            goto done;
        }
        if (m->anchor_of[j] >= 0) {
            rc = ls_fail(err, LS_ERR_OPTION, "--anchors: '%s' named twice", v[k]);
            goto done;
        }
        m->anchor[k] = j;
        m->anchor_of[j] = (long)k;
    }
done:
    ls_strv_free(v, n);
    return rc;
}

int ls_ceilings_estimated(const ls_data *d, const char *est, long *kap_of, size_t *nkap, ls_error *err)
{
    for (size_t j = 0; j < d->J; j++) kap_of[j] = -1;
    *nkap = 0;
    if (!est || !*est) return LS_OK;
    if (strcmp(est, "all") == 0) {
        for (size_t j = 0; j < d->J; j++) kap_of[j] = (long)(*nkap)++;
        return LS_OK;
    }
    char **v;
    size_t n;
    int rc = ls_split(est, &v, &n, err);
    if (rc) return rc;
    for (size_t k = 0; k < n && !rc; k++) {
        size_t j = 0;
        while (j < d->J && strcmp(d->bench[j], v[k]) != 0) j++;
        if (j == d->J)
            rc = ls_fail(err, LS_ERR_OPTION, "--estimate-ceilings: unknown benchmark '%s'", v[k]);
        else if (kap_of[j] >= 0)
            rc = ls_fail(err, LS_ERR_OPTION, "--estimate-ceilings: '%s' named twice", v[k]);
        else
            kap_of[j] = 0;
    }
    ls_strv_free(v, n);
    if (rc) return rc;
    for (size_t j = 0; j < d->J; j++) /* benchmark order, whatever the list's */
        if (kap_of[j] >= 0) kap_of[j] = (long)(*nkap)++;
    return LS_OK;
}

/* Scratch per thread for one family (see family_eval). */
static size_t scratch_size(const ls_model *m)
{
    size_t K = m->K, J = m->J, n = m->rule.n;
    return 9 * K + 7 * K * K + 5 * J + 2 * n + n * K + 3 * m->maxcell + 2 * J * K +
           (m->rule.v ? n * K + n : 0) + m->maxcell * (sizeof(ls_beta_cell) / sizeof(double));
}

int ls_model_new(const ls_data *d, size_t K, const char *anchors, int integration, unsigned nodes,
                 unsigned threads, ls_model **out, ls_error *err)
{
    return ls_model_new_ext(d, K, anchors, integration, nodes, threads, 0, NULL, out, err);
}

int ls_model_new_ext(const ls_data *d, size_t K, const char *anchors, int integration,
                     unsigned nodes, unsigned threads, int hetero, const char *est_ceil,
                     ls_model **out, ls_error *err)
{
    *out = NULL;
    if (K < 1 || K > d->J)
        return ls_fail(err, LS_ERR_OPTION,
                       "--skills: K = %zu, but it must be between 1 and the number of benchmarks (%zu)",
                       K, d->J);
    if (K > 40) return ls_fail(err, LS_ERR_OPTION, "--skills: at most 40 skills are supported");
    if (threads > 1024) return ls_fail(err, LS_ERR_OPTION, "--threads: expected 0..1024, found %u", threads);
    ls_gsl_quiet();
    ls_model *m = ls_calloc(1, sizeof *m);
    if (!m) return ls_nomem(err);
    m->d = d;
    m->K = K;
    m->J = d->J;
    m->p = d->p;
    m->F = d->F;
    m->hetero = hetero != 0;
    int nt = omp_get_num_procs();
    m->threads = threads ? threads : (unsigned)(nt > 0 ? nt : 1);
    for (size_t f = 0; f < d->F; f++) {
        size_t c = d->cell_start[f + 1] - d->cell_start[f];
        if (c > m->maxcell) m->maxcell = c;
    }
    int rc = LS_OK;
    m->anchor = ls_calloc(K, sizeof *m->anchor);
    m->anchor_of = ls_calloc(d->J, sizeof *m->anchor_of);
    m->lam_off = ls_calloc(d->J, sizeof *m->lam_off);
    m->kap_of = ls_calloc(d->J, sizeof *m->kap_of);
    m->ceil = ls_calloc(d->J, sizeof(double));
    m->dceil = ls_calloc(d->J, sizeof(double));
    m->d2ceil = ls_calloc(d->J, sizeof(double));
    if (!m->anchor || !m->anchor_of || !m->lam_off || !m->kap_of || !m->ceil || !m->dceil || !m->d2ceil) {
        rc = ls_nomem(err);
        goto fail;
    }
    rc = set_anchors(m, anchors, err);
    if (!rc) rc = ls_ceilings_estimated(d, est_ceil, m->kap_of, &m->nkap, err);
    if (rc) goto fail;
    for (size_t j = 0; j < d->J; j++) m->ceil[j] = d->ceil[j];
    m->dim = ls_params_count(K, d->J, d->p) + (m->hetero ? d->p : 0) + m->nkap;
    size_t off = d->p * K;
    for (size_t j = 0; j < d->J; j++) {
        m->lam_off[j] = off;
        off += m->anchor_of[j] >= 0 ? 1 : K;
    }
    m->off_b = off;
    m->off_phi = off + d->J;
    m->off_w = off + 2 * d->J;
    m->off_g = m->off_w + K * (K - 1) / 2;
    m->off_k = m->off_g + (m->hetero ? d->p : 0);

    /* Defaults from measured accuracy (bench_accuracy and test_models):
     * adaptive GH converges fast in the number of nodes per dimension, and
     * the product grid is the rule up to K = 3.  For K = 4..7 a sparse grid
     * is both cheaper and more accurate than a product grid: level 4 at
     * K = 4 (681 nodes, 0.04 off at the paper data's optimum), level 3 at
     * K = 5..7 (341, 533, 785 nodes; 0.24 off at K = 7, against 1.62 for
     * the 3^7 = 2187-node product grid).  Above,
     * the Laplace approximation, whose re-adapted value is smooth with an
     * exact gradient (laplace_motion), so that it can be optimised; the fit
     * then checks its value by importance sampling (ls_check_rule;
     * docs/METHOD.md: at K = 9 the mirrored QMC rule with 512 points, the
     * earlier default, was 13.8 off and could not be optimised with its
     * nodes moving). */
    if (integration == LS_INT_AUTO) integration = K <= 3 ? LS_INT_GH : K <= 7 ? LS_INT_SPARSE : LS_INT_LAPLACE;
    switch (integration) {
    case LS_INT_LAPLACE: rc = ls_rule_laplace(&m->rule, K, err); break;
    case LS_INT_GH:
        rc = ls_rule_gh(&m->rule, K, nodes ? nodes : (K == 1 ? 20 : K == 2 ? 14 : K == 3 ? 12 : K <= 5 ? 4 : 3),
                        K <= 3 ? 1e-9 : 1e-5, err);
        break;
    case LS_INT_SPARSE:
        rc = ls_rule_sparse(&m->rule, K, nodes ? nodes : K <= 4 ? 4 : 3, err);
        break;
    case LS_INT_QMC:
        /* per-family points in blocks, a t proposal; points rounded up to
         * a multiple of 2 blocks */
        rc = ls_rule_rqmc(&m->rule, K, ((nodes ? nodes : 512) + 2 * LS_RQMC_BLOCKS - 1) / (2 * LS_RQMC_BLOCKS) * (2 * LS_RQMC_BLOCKS),
                          LS_RQMC_BLOCKS, LS_RQMC_DF, 20251206u, err);
        break;
    default: rc = ls_fail(err, LS_ERR_OPTION, "unknown integration method %d", integration);
    }
    if (rc) goto fail;

    size_t F = d->F, J = d->J;
    m->zmode = ls_calloc(F * K, sizeof(double));
    m->fam_ll = ls_calloc(F, sizeof(double));
    m->fam_grad = ls_calloc(F * m->dim, sizeof(double));
    m->fam_chol = ls_calloc(F * K * K, sizeof(double));
    m->fam_center = ls_calloc(F * K, sizeof(double));
    m->fam_map = ls_calloc(F * K * K, sizeof(double));
    m->fam_logdet = ls_calloc(F, sizeof(double));
    m->fam_se = ls_calloc(F, sizeof(double));
    m->lap_floor = LAPLACE_FLOOR;
    m->fam_newton_fail = ls_calloc(F, sizeof(int));
    m->B = ls_calloc(d->p * K + 1, sizeof(double));
    m->lam = ls_calloc(K * J, sizeof(double));
    m->b = ls_calloc(J, sizeof(double));
    m->phi = ls_calloc(J, sizeof(double));
    m->lgphi = ls_calloc(J, sizeof(double));
    m->psiphi = ls_calloc(J, sizeof(double));
    m->L = ls_calloc(K * K, sizeof(double));
    m->a = ls_calloc(J * K, sizeof(double));
    m->rowc = ls_calloc(3 * K, sizeof(double));
    m->dL = ls_calloc(K * K * K, sizeof(double));
    m->wv = ls_calloc(K * (K - 1) / 2 + 1, sizeof(double));
    m->theta0 = ls_calloc(d->n * K, sizeof(double));
    m->eta0 = ls_calloc(d->ncell, sizeof(double));
    m->scratch_len = scratch_size(m);
    m->scratch = ls_calloc(m->scratch_len * m->threads, sizeof(double));
    if (m->hetero) {
        m->cphi = ls_calloc(d->ncell + 1, sizeof(double));
        m->clgphi = ls_calloc(d->ncell + 1, sizeof(double));
        m->cpsiphi = ls_calloc(d->ncell + 1, sizeof(double));
        if (!m->cphi || !m->clgphi || !m->cpsiphi) { rc = ls_nomem(err); goto fail; }
    }
    if (!m->zmode || !m->fam_ll || !m->fam_grad || !m->fam_chol || !m->fam_center || !m->fam_map || !m->fam_logdet || !m->fam_se || !m->fam_newton_fail || !m->B ||
        !m->lam || !m->b || !m->phi || !m->lgphi || !m->psiphi || !m->L || !m->a || !m->rowc || !m->dL || !m->wv ||
        !m->theta0 || !m->eta0 || !m->scratch) {
        rc = ls_nomem(err);
        goto fail;
    }
    *out = m;
    return LS_OK;
fail:
    ls_model_free(m);
    return rc;
}

size_t ls_model_dim(const ls_model *m) { return m->dim; }
size_t ls_model_nodes(const ls_model *m) { return m->rule.n; }

/* ---------------------------------------------------------------- */
/* Parameters: theta <-> natural                                     */
/* ---------------------------------------------------------------- */

/*
 * Sigma = L L^T with unit rows.  Row k is the point of the unit sphere in
 * R^(k+1) reached from e_k along v (its k free coordinates in theta) by the
 * exponential map:
 *     L_kl = sin(r) / r v_l (l < k),   L_kk = cos r,   r = |v|.
 * The boundary of correlation matrices, L_kk = 0 (row k in the span of the
 * earlier rows, Sigma singular), is the sphere r = pi / 2: a finite point.
 * Because z_k ~ N(0, 1) is symmetric, the likelihood is unchanged by the
 * reflection L_kk -> -L_kk, i.e. v -> (pi - r) v / r, so a maximum on the
 * boundary is a stationary point of the unconstrained objective that Newton
 * reaches quadratically.  (Up to 0.4.1, L_k = (w, 1) / |(w, 1)|, which
 * reaches the boundary only as |w| -> infinity, and the optimisers crawled
 * there: on the paper data Sigma's smallest eigenvalue is below 1e-4 from
 * K = 5.)  The map is smooth and regular for r < pi.
 *
 * With s(r) = sin r / r, t = s'(r) / r and q = t'(r) / r:
 *     dL_kl / dv_m = s d_lm + t v_l v_m,    dL_kk / dv_m = -s v_m,
 *     d2L_kl / dv_m dv_n = t (v_n d_lm + v_m d_ln + v_l d_mn) + q v_l v_m v_n,
 *     d2L_kk / dv_m dv_n = -s d_mn - t v_m v_n.
 */
static void sphere_coef(double r, double *s, double *t, double *q)
{
    double r2 = r * r;
    if (r < 0.1) { /* series: the closed forms cancel */
        *s = 1 - r2 / 6 * (1 - r2 / 20 * (1 - r2 / 42));
        *t = -1.0 / 3 + r2 / 30 - r2 * r2 / 840 + r2 * r2 * r2 / 45360;
        *q = 1.0 / 15 - r2 / 210 + r2 * r2 / 7560;
        return;
    }
    double sn = sin(r), cs = cos(r);
    *s = sn / r;
    *t = (r * cs - sn) / (r2 * r);
    *q = -(*s + 3 * *t) / r2;
}

/* L (K x K, lower) from the K (K - 1) / 2 coordinates w; optionally rowc
 * (K x 3: s, t, q of each row) and dL (K x K x K: dL[k][m][l] =
 * dL_kl / dv_km). */
static void sigma_rows(size_t K, const double *w, double *L, double *rowc, double *dL)
{
    memset(L, 0, K * K * sizeof(double));
    for (size_t k = 0; k < K; k++) {
        const double *v = w + k * (k - 1) / 2;
        double r2 = 0;
        for (size_t l = 0; l < k; l++) r2 += v[l] * v[l];
        double r = sqrt(r2), s, t, q;
        sphere_coef(r, &s, &t, &q);
        for (size_t l = 0; l < k; l++) L[k * K + l] = s * v[l];
        L[k * K + k] = k ? cos(r) : 1;
        if (rowc) {
            rowc[3 * k] = s;
            rowc[3 * k + 1] = t;
            rowc[3 * k + 2] = q;
        }
        if (!dL) continue;
        double *D = dL + k * K * K;
        memset(D, 0, K * K * sizeof(double));
        for (size_t mm = 0; mm < k; mm++) {
            for (size_t l = 0; l < k; l++) D[mm * K + l] = (l == mm ? s : 0) + t * v[l] * v[mm];
            D[mm * K + k] = -s * v[mm];
        }
    }
}

/* sum_l x_l dL_kl / dv_km */
static double dL_dot(const ls_model *m, size_t k, size_t mm, const double *x)
{
    const double *D = m->dL + (k * m->K + mm) * m->K;
    double s = 0;
    for (size_t l = 0; l <= k; l++) s += D[l] * x[l];
    return s;
}

void ls_model_load(ls_model *m, const double *th)
{
    const ls_data *d = m->d;
    size_t K = m->K, J = m->J, p = m->p;
    memcpy(m->B, th, p * K * sizeof(double));
    for (size_t j = 0; j < J; j++) {
        const double *t = th + m->lam_off[j];
        for (size_t k = 0; k < K; k++) m->lam[k * J + j] = 0;
        if (m->anchor_of[j] >= 0) m->lam[(size_t)m->anchor_of[j] * J + j] = exp(t[0]);
        else
            for (size_t k = 0; k < K; k++) m->lam[k * J + j] = t[k];
    }
    for (size_t j = 0; j < J; j++) {
        m->b[j] = th[m->off_b + j];
        double lp = th[m->off_phi + j];
        if (lp > 700) lp = 700;
        m->phi[j] = exp(lp);
        m->lgphi[j] = ls_lgamma(m->phi[j]);
        m->psiphi[j] = ls_digamma(m->phi[j]);
    }
    /* L rows from the exponential map of the sphere (sigma_rows) */
    sigma_rows(K, th + m->off_w, m->L, m->rowc, m->dL);
    memcpy(m->wv, th + m->off_w, K * (K - 1) / 2 * sizeof(double));
    /* a_j = L^T lambda_j */
    for (size_t j = 0; j < J; j++)
        for (size_t l = 0; l < K; l++) {
            double s = 0;
            for (size_t k = l; k < K; k++) s += m->L[k * K + l] * m->lam[k * J + j];
            m->a[j * K + l] = s;
        }
    for (size_t i = 0; i < d->n; i++)
        for (size_t k = 0; k < K; k++) {
            double s = 0;
            for (size_t q = 0; q < p; q++) s += d->x[i * p + q] * m->B[q * K + k];
            m->theta0[i * K + k] = s;
        }
    for (size_t c = 0; c < d->ncell; c++) {
        const ls_cell *cl = &d->cell[c];
        double s = m->b[cl->j];
        for (size_t k = 0; k < K; k++) s += m->lam[k * J + cl->j] * m->theta0[cl->row * K + k];
        m->eta0[c] = s;
    }
    for (size_t j = 0; j < J; j++) {
        if (m->kap_of[j] < 0) continue;
        double c = d->floor[j], s = ls_logistic(th[m->off_k + (size_t)m->kap_of[j]]);
        m->ceil[j] = c + (1 - c) * s;
        m->dceil[j] = (1 - c) * s * (1 - s);
        m->d2ceil[j] = m->dceil[j] * (1 - 2 * s);
    }
    if (m->hetero) {
        const double *g = th + m->off_g;
        for (size_t c = 0; c < d->ncell; c++) {
            const ls_cell *cl = &d->cell[c];
            double lp = th[m->off_phi + cl->j];
            for (size_t q = 0; q < p; q++) lp += g[q] * d->x[cl->row * p + q];
            if (lp > 700) lp = 700;
            m->cphi[c] = exp(lp);
            m->clgphi[c] = ls_lgamma_psi(m->cphi[c], &m->cpsiphi[c]);
        }
    }
}

int ls_model_unpack(const ls_model *m, const double *th, ls_params *pr)
{
    size_t K = m->K, J = m->J, p = m->p;
    memcpy(pr->beta, th, p * K * sizeof(double));
    for (size_t j = 0; j < J; j++) {
        const double *t = th + m->lam_off[j];
        for (size_t k = 0; k < K; k++) pr->lambda[k * J + j] = 0;
        if (m->anchor_of[j] >= 0) pr->lambda[(size_t)m->anchor_of[j] * J + j] = exp(t[0]);
        else
            for (size_t k = 0; k < K; k++) pr->lambda[k * J + j] = t[k];
        pr->b[j] = th[m->off_b + j];
        pr->phi[j] = exp(th[m->off_phi + j]);
    }
    double L[40 * 40];
    sigma_rows(K, th + m->off_w, L, NULL, NULL);
    for (size_t r = 0; r < K; r++)
        for (size_t c = 0; c < K; c++) {
            double s = 0;
            for (size_t l = 0; l < K; l++) s += L[r * K + l] * L[c * K + l];
            pr->sigma[r * K + c] = r == c ? 1.0 : s;
        }
    for (size_t k = 0; k < K; k++) pr->anchors[k] = m->anchor[k];
    pr->hetero = m->hetero;
    for (size_t q = 0; q < p; q++) pr->gamma[q] = m->hetero ? th[m->off_g + q] : 0;
    for (size_t j = 0; pr->ceiling && j < J; j++) {
        double c = m->d->floor[j];
        pr->ceiling[j] = m->kap_of[j] < 0 ? m->d->ceil[j]
                                           : c + (1 - c) * ls_logistic(th[m->off_k + (size_t)m->kap_of[j]]);
    }
    return LS_OK;
}

int ls_model_pack(const ls_model *m, const ls_params *pr, double *th, ls_error *err)
{
    size_t K = m->K, J = m->J, p = m->p;
    if (pr->K != K || pr->J != J || pr->p != p)
        return ls_fail(err, LS_ERR_INPUT, "parameters have shape K=%zu J=%zu p=%zu, model needs K=%zu J=%zu p=%zu",
                       pr->K, pr->J, pr->p, K, J, p);
    memcpy(th, pr->beta, p * K * sizeof(double));
    for (size_t j = 0; j < J; j++) {
        double *t = th + m->lam_off[j];
        if (m->anchor_of[j] >= 0) {
            double v = pr->lambda[(size_t)m->anchor_of[j] * J + j];
            if (!(v > 0))
                return ls_fail(err, LS_ERR_INPUT, "anchor loading of '%s' must be positive",
                               m->d->bench[j]);
            t[0] = log(v);
        } else
            for (size_t k = 0; k < K; k++) t[k] = pr->lambda[k * J + j];
        if (!(pr->phi[j] > 0))
            return ls_fail(err, LS_ERR_INPUT, "precision of '%s' must be positive", m->d->bench[j]);
        th[m->off_b + j] = pr->b[j];
        th[m->off_phi + j] = log(pr->phi[j]);
    }
    /* Cholesky factor of Sigma, semi-definite allowed (a fit on the
     * boundary): a pivot below 1e-12 is a zero column, whose entries below
     * must then vanish too */
    double S[40 * 40];
    memcpy(S, pr->sigma, K * K * sizeof(double));
    for (size_t k = 0; k < K; k++) {
        double dkk = S[k * K + k];
        for (size_t l = 0; l < k; l++) dkk -= S[k * K + l] * S[k * K + l];
        if (dkk < -1e-8 || !isfinite(dkk))
            return ls_fail(err, LS_ERR_INPUT, "skill correlation matrix is not positive semi-definite");
        int zero = dkk < 1e-12;
        S[k * K + k] = zero ? 0 : sqrt(dkk);
        for (size_t i = k + 1; i < K; i++) {
            double v = S[i * K + k];
            for (size_t l = 0; l < k; l++) v -= S[i * K + l] * S[k * K + l];
            if (zero && fabs(v) > 1e-6)
                return ls_fail(err, LS_ERR_INPUT, "skill correlation matrix is not positive semi-definite");
            S[i * K + k] = zero ? 0 : v / S[k * K + k];
        }
    }
    /* row k: v = r u with u the direction of its first k entries and
     * r = atan2(|first k|, L_kk) (sigma_rows) */
    for (size_t k = 1; k < K; k++) {
        double rho = 0;
        for (size_t l = 0; l < k; l++) rho += S[k * K + l] * S[k * K + l];
        rho = sqrt(rho);
        double r = atan2(rho, S[k * K + k]);
        double *v = th + m->off_w + k * (k - 1) / 2;
        for (size_t l = 0; l < k; l++) v[l] = rho > 0 ? r * S[k * K + l] / rho : 0;
    }
    for (size_t q = 0; m->hetero && q < p; q++) th[m->off_g + q] = pr->gamma ? pr->gamma[q] : 0;
    for (size_t j = 0; j < J; j++) {
        if (m->kap_of[j] < 0) continue;
        double c = m->d->floor[j], dj = pr->ceiling ? pr->ceiling[j] : m->d->ceil[j];
        if (!(dj > c && dj <= 1))
            return ls_fail(err, LS_ERR_INPUT, "ceiling of '%s' must be above its floor and at most 1",
                           m->d->bench[j]);
        double q = (dj - c) / (1 - c);
        q = fmin(fmax(q, 1e-9), 1 - 1e-9);
        th[m->off_k + (size_t)m->kap_of[j]] = log(q) - log1p(-q);
    }
    return LS_OK;
}

/* ---------------------------------------------------------------- */
/* One family                                                        */
/* ---------------------------------------------------------------- */

typedef struct fam_ws {
    double *z, *zn, *g, *step, *H, *R, *Gj, *Hj, *Fj, *r, *hk, *zk, *ebar, *dbar, *Zhat, *GL, *v;
    double *CA, *qj; /* Laplace gradient: M a_j (J x K), a_j' M a_j (J) */
    double *M, *ev, *EV, *EC; /* Laplace: d logdet_s / dC (K x K), eigen work (K, K x K, K x K) */
    double *kbar;             /* per cell: weight of d loglik / d ceiling (maxcell) */
    double *uf, *lwf;         /* a per-family rule's points (n x K) and log weights (n) */
    int floored;              /* M is the floored curvature's, not C^-1 */
    ls_beta_cell *bc;         /* Laplace: each cell's derivatives at the mode (maxcell) */
} fam_ws;

static void ws_carve(const ls_model *m, double *s, fam_ws *w)
{
    size_t K = m->K, J = m->J, n = m->rule.n;
    w->z = s; s += K;
    w->zn = s; s += K;
    w->g = s; s += K;
    w->step = s; s += K;
    w->v = s; s += 4 * K;
    w->H = s; s += K * K;
    w->R = s; s += K * K;
    w->GL = s; s += 2 * K * K;
    w->Gj = s; s += J;
    w->Hj = s; s += J;
    w->Fj = s; s += J;
    w->r = s; s += J;
    w->hk = s; s += 2 * n;
    w->zk = s; s += n * K;
    w->ebar = s; s += m->maxcell;
    w->dbar = s; s += m->maxcell;
    w->kbar = s; s += m->maxcell;
    w->Zhat = s; s += J * K;
    w->CA = s; s += J * K;
    w->qj = s; s += J;
    w->M = s; s += K * K;
    w->ev = s; s += K;
    w->EV = s; s += K * K;
    w->EC = s; s += K * K;
    w->uf = w->lwf = NULL;
    if (m->rule.v) {
        w->uf = s; s += n * K;
        w->lwf = s; s += n;
    }
    w->bc = (ls_beta_cell *)(void *)s; /* a struct of doubles only */
    w->floored = 0;
}

/* h_f(z) without the constant -K/2 log 2 pi; with derivatives when want. */
/* One cell's Beta log-density and derivatives.  With eta_clamp > 0 the
 * linear predictor is clipped into [-eta_clamp, eta_clamp] first, as the
 * reference implementation's published fits did (it is flat, with zero
 * derivative in eta, outside). */
static double cell_eval(const ls_model *m, double eta, const ls_cell *cl, int want, ls_beta_cell *bc)
{
    size_t j = cl->j;
    int flat = 0;
    if (m->eta_clamp > 0 && fabs(eta) > m->eta_clamp) {
        eta = eta > 0 ? m->eta_clamp : -m->eta_clamp;
        flat = 1;
    }
    double v;
    if (m->hetero) {
        size_t c = (size_t)(cl - m->d->cell);
        v = ls_beta_cell_eval(eta, m->d->floor[j], m->ceil[j], m->cphi[c], m->clgphi[c], m->cpsiphi[c], cl->ly,
                              cl->l1y, want, bc);
    } else
        v = ls_beta_cell_eval(eta, m->d->floor[j], m->ceil[j], m->phi[j], m->lgphi[j], m->psiphi[j], cl->ly,
                              cl->l1y, want, bc);
    if (flat && want) bc->d_eta = bc->h_eta = bc->f_eta = bc->h_el = bc->t_eta = bc->t_eel = bc->h_ed = bc->t_eed = 0;
    return v;
}

/* The random part of eta at z, per benchmark: r_j = a_j . z. */
static void random_part(const ls_model *m, const double *z, double *r)
{
    size_t K = m->K;
    for (size_t j = 0; j < m->J; j++) {
        double s = 0;
        for (size_t k = 0; k < K; k++) s += m->a[j * K + k] * z[k];
        r[j] = s;
    }
}

static double fam_h(const ls_model *m, size_t f, const double *z, int want, fam_ws *w)
{
    const ls_data *d = m->d;
    size_t K = m->K, J = m->J;
    random_part(m, z, w->r);
    if (want)
        for (size_t j = 0; j < J; j++) w->Gj[j] = w->Hj[j] = w->Fj[j] = 0;
    double h = 0;
    ls_beta_cell bc;
    for (size_t c = d->cell_start[f]; c < d->cell_start[f + 1]; c++) {
        const ls_cell *cl = &d->cell[c];
        size_t j = cl->j;
        h += cell_eval(m, m->eta0[c] + w->r[j], cl, want ? 1 | 4 : 0, &bc);
        if (want) {
            w->Gj[j] += bc.d_eta;
            w->Hj[j] += bc.h_eta;
            w->Fj[j] += bc.f_eta;
        }
    }
    for (size_t k = 0; k < K; k++) h -= 0.5 * z[k] * z[k];
    return h;
}

/* -Hessian of h in z: I - sum_j H_j a_j a_j^T (observed) or I + sum_j F_j a_j a_j^T. */
static void neg_hessian(const ls_model *m, const double *Hj, double sign, double *H)
{
    size_t K = m->K;
    for (size_t r = 0; r < K; r++)
        for (size_t c = 0; c < K; c++) H[r * K + c] = r == c;
    for (size_t j = 0; j < m->J; j++) {
        double h = sign * Hj[j];
        if (h == 0) continue;
        const double *aj = m->a + j * K;
        for (size_t r = 0; r < K; r++)
            for (size_t c = 0; c <= r; c++) H[r * K + c] += h * aj[r] * aj[c];
    }
    for (size_t r = 0; r < K; r++)
        for (size_t c = r + 1; c < K; c++) H[r * K + c] = H[c * K + r];
}

/* The curvature C from w->Hj (observed) factored into w->R, or from w->Fj
 * (Fisher) when the observed one is not positive definite.  Returns 0
 * (observed), 1 (Fisher) or 2 (neither factors). */
static int curvature_chol(const ls_model *m, fam_ws *w)
{
    neg_hessian(m, w->Hj, -1.0, w->R);
    if (!ls_chol(w->R, m->K)) return 0;
    neg_hessian(m, w->Fj, 1.0, w->R);
    return ls_chol(w->R, m->K) ? 2 : 1;
}

/* The Laplace node map A = R^-T (K x K), column by column (w->step as work). */
static void laplace_map(const ls_model *m, fam_ws *w, double *A)
{
    size_t K = m->K;
    for (size_t k = 0; k < K; k++) {
        double *col = w->step;
        for (size_t l = 0; l < K; l++) col[l] = l == k;
        ls_trsv_lower(w->R, K, 1, col);
        for (size_t l = 0; l < K; l++) A[l * K + k] = col[l];
    }
}

/* Newton with backtracking from w->z; leaves the mode in w->z and the
 * Cholesky factor of the curvature there in w->R (for the Laplace rule, at
 * the iterate before the last step: laplace_family re-evaluates it).
 * Returns 0, or 1 when Newton did not reach its tolerance (the last iterate
 * is still usable). */
static int fam_mode(const ls_model *m, size_t f, fam_ws *w)
{
    size_t K = m->K;
    int ok = 0;
    /* a stale warm start (the parameters moved far) can be worse than the
     * prior mean: start from whichever is higher */
    double h0 = fam_h(m, f, w->z, 0, w);
    memset(w->zn, 0, K * sizeof(double));
    double hz = fam_h(m, f, w->zn, 0, w);
    if (!(h0 >= hz)) memset(w->z, 0, K * sizeof(double));
    for (int it = 0; it < NEWTON_MAX; it++) {
        double h = fam_h(m, f, w->z, 1, w);
        for (size_t k = 0; k < K; k++) w->g[k] = -w->z[k];
        for (size_t j = 0; j < m->J; j++)
            for (size_t k = 0; k < K; k++) w->g[k] += w->Gj[j] * m->a[j * K + k];
        if (curvature_chol(m, w) == 2) return 2;
        memcpy(w->step, w->g, K * sizeof(double));
        ls_chol_solve(w->R, K, w->step);
        double smax = 0;
        for (size_t k = 0; k < K; k++) smax = fmax(smax, fabs(w->step[k]));
        if (!isfinite(smax)) return 2;
        if (smax < NEWTON_TOL) {
            ok = 1;
            /* Laplace: log det C moves with the mode at first order, so
             * take this last step (the mode then to ~1e-18), or the value
             * carries the stopping tolerance's 1e-9 noise; laplace_family
             * evaluates the curvature there (w->R is left one step behind) */
            if (m->rule.n == 1)
                for (size_t k = 0; k < K; k++) w->z[k] += w->step[k];
            break;
        }
        double t = smax > 5 ? 5 / smax : 1;
        int moved = 0;
        for (int ls = 0; ls < 50; ls++, t *= 0.5) {
            for (size_t k = 0; k < K; k++) w->zn[k] = w->z[k] + t * w->step[k];
            double hn = fam_h(m, f, w->zn, 0, w);
            if (hn >= h - 1e-12 * fabs(h)) { moved = 1; break; }
        }
        if (!moved) { ok = 1; break; } /* no ascent left at machine precision */
        memcpy(w->z, w->zn, K * sizeof(double));
        if (t * smax < NEWTON_TOL) { ok = 1; break; }
    }
    if (!ok) {
        /* curvature at the final iterate for the node map */
        fam_h(m, f, w->z, 1, w);
        if (curvature_chol(m, w) == 2) return 2;
    }
    return ok ? 0 : 1;
}

/* Nodes z_q = c + A u_q and their log terms t_q = lw_q + h_f(z_q). */
static void place_nodes(const ls_model *m, size_t f, const double *A, const double *c, fam_ws *w)
{
    size_t K = m->K, n = m->rule.n;
    const double *U = m->rule.u, *LW = m->rule.lw;
    if (m->rule.v) { /* this family's own points */
        ls_rule_points(&m->rule, f, w->uf, w->lwf);
        U = w->uf;
        LW = w->lwf;
    }
    for (size_t q = 0; q < n; q++) {
        const double *u = U + q * K;
        double *zq = w->zk + q * K;
        for (size_t r = 0; r < K; r++) {
            double s = c[r];
            for (size_t l = 0; l < K; l++) s += A[r * K + l] * u[l];
            zq[r] = s;
        }
        w->hk[q] = LW[q] + fam_h(m, f, zq, 0, w) - 0.5 * (double)K * LOG_2PI;
        if (m->cv) { /* the control variate: the normal density at u */
            double uu = 0;
            for (size_t l = 0; l < K; l++) uu += u[l] * u[l];
            w->hk[n + q] = LW[q] - 0.5 * uu - 0.5 * (double)K * LOG_2PI;
        }
    }
}

/* The score of family f's log-likelihood, assembled from per-cell weights
 * e_c (of d loglik / d eta) and dl_c (of d loglik / d log phi) and per
 * benchmark Zhat_j (K: the weighted sum of d loglik / d eta times z over
 * the family's cells of j): with posterior weights this is the gradient
 * (Fisher's identity), with one node's values the complete-data score.
 * GL: K x K scratch. */
static void assemble_score(const ls_model *m, size_t f, const double *e, const double *dl,
                           const double *dk, const double *Zhat, double *GL, double *gr)
{
    const ls_data *d = m->d;
    size_t K = m->K, J = m->J, p = m->p;
    size_t c0 = d->cell_start[f], nc = d->cell_start[f + 1] - c0;
    memset(gr, 0, m->dim * sizeof(double));
    for (size_t c = 0; c < nc; c++) {
        const ls_cell *cl = &d->cell[c0 + c];
        size_t j = cl->j, i = cl->row;
        double ec = e[c];
        gr[m->off_b + j] += ec;
        gr[m->off_phi + j] += dl[c];
        if (m->kap_of[j] >= 0) gr[m->off_k + (size_t)m->kap_of[j]] += dk[c] * m->dceil[j];
        if (m->hetero)
            for (size_t q = 0; q < p; q++) gr[m->off_g + q] += dl[c] * d->x[i * p + q];
        for (size_t q = 0; q < p; q++) {
            double xe = ec * d->x[i * p + q];
            for (size_t k = 0; k < K; k++) gr[q * K + k] += xe * m->lam[k * J + j];
        }
        double *gl = gr + m->lam_off[j];
        if (m->anchor_of[j] >= 0) gl[0] += ec * m->theta0[i * K + (size_t)m->anchor_of[j]];
        else
            for (size_t k = 0; k < K; k++) gl[k] += ec * m->theta0[i * K + k];
    }
    /* Zhat terms: lambda_j gets L Zhat_j; L gets sum_j lambda_j Zhat_j^T */
    memset(GL, 0, K * K * sizeof(double));
    for (size_t j = 0; j < J; j++) {
        const double *Zj = Zhat + j * K;
        double *gl = gr + m->lam_off[j];
        long ak = m->anchor_of[j];
        for (size_t k = 0; k < K; k++) {
            if (ak >= 0 && (size_t)ak != k) continue;
            double s = 0;
            for (size_t l = 0; l <= k; l++) s += m->L[k * K + l] * Zj[l];
            if (ak >= 0) gl[0] += s;
            else gl[k] += s;
        }
        for (size_t k = 0; k < K; k++) {
            double lk = m->lam[k * J + j];
            if (lk == 0) continue;
            for (size_t l = 0; l <= k; l++) GL[k * K + l] += lk * Zj[l];
        }
    }
    /* chain rule: anchors are on the log scale */
    for (size_t j = 0; j < J; j++)
        if (m->anchor_of[j] >= 0) gr[m->lam_off[j]] *= m->lam[(size_t)m->anchor_of[j] * J + j];
    /* d/dv_km = sum_l G_kl dL_kl / dv_km */
    double *gw = gr + m->off_w;
    for (size_t k = 1, q = 0; k < K; k++)
        for (size_t mm = 0; mm < k; mm++, q++) gw[q] = dL_dot(m, k, mm, GL + k * K);
}

/*
 * The Laplace rule's -1/2 log det C, with the curvature's eigenvalues
 * floored smoothly: s(l) = l for l >= 2 d, d + l^2 / (4 d) below (value and
 * slope continuous at 2 d).  Where the data make a family's posterior flatter
 * than its prior in some direction (cells whose Beta log-density is convex
 * in eta near a floor), C approaches singularity at a fold of the mode, and
 * -1/2 log det C grows without bound there: on the paper data at K = 10 the
 * optimiser found such a spike (one family, width 1e-5 in one coefficient,
 * gradient 1.2e4).  The floor caps it at 1/2 log(1 / d) per direction.
 * With d = 1/2 the floor acts only where some eigenvalue is below the
 * prior's 1, i.e. where the posterior is flatter than the prior (C = I +
 * a sum of positive terms when every cell is log-concave in eta).  (The
 * Laplace value can be exploited: on the paper data, Newton with a
 * difference Hessian raised it by 1.5-1.9 at K = 8, 9, with d = 1/4, while
 * the importance-sampling value fell by 4-5.)  With d = 1/4, K = 10 ended
 * with max |g| 28; with 1/2, 0.08 (2 starts; K = 8, 9, 12 alike, K = 11 5.7
 * against 0.8: the kink of a family whose mode switches remains).  With
 * every eigenvalue >= 2 d (one Cholesky of C - 2 d I decides) the value is
 * exactly Laplace's and w->floored = 0; otherwise w->M = U diag(s'/s) U',
 * the derivative of sum log s(l_i) in C, which laplace_motion uses in place
 * of C^-1.  R is the Cholesky factor of C.
 */

static double laplace_logdet(const ls_model *m, const double *R, fam_ws *w)
{
    size_t K = m->K;
    const double dl = m->lap_floor;
    double *C = w->EC, *M = w->M;
    for (size_t r = 0; r < K; r++)
        for (size_t c = 0; c <= r; c++) {
            double v = 0;
            for (size_t l = 0; l <= c; l++) v += R[r * K + l] * R[c * K + l];
            C[r * K + c] = C[c * K + r] = v;
        }
    memcpy(M, C, K * K * sizeof(double));
    for (size_t k = 0; k < K; k++) M[k * K + k] -= 2 * dl;
    w->floored = 0;
    if (ls_chol(M, K) == 0) return -ls_chol_logdet_half(R, K);
    if (ls_eigen_symm(C, K, w->ev, w->EV)) return -ls_chol_logdet_half(R, K);
    w->floored = 1;
    double ld = 0;
    for (size_t k = 0; k < K; k++) {
        double l = w->ev[k], sv, ds;
        if (l >= 2 * dl) {
            sv = l;
            ds = 1;
        } else {
            double lp = fmax(l, 0.0);
            sv = dl + lp * lp / (4 * dl);
            ds = lp / (2 * dl);
        }
        ld += log(sv);
        w->ev[k] = ds / sv;
    }
    for (size_t r = 0; r < K; r++)
        for (size_t c = 0; c < K; c++) {
            double v = 0;
            for (size_t k = 0; k < K; k++) v += w->EV[r * K + k] * w->ev[k] * w->EV[c * K + k];
            M[r * K + c] = v;
        }
    return -0.5 * ld;
}

/*
 * The one-node (Laplace) rule re-adapted at theta: log L_f = h(zhat) -
 * 1/2 log det C + const, with zhat the mode and C = I - sum_c l''_c a_j a_j'
 * the curvature there.  Its value is a smooth function of theta, but the
 * node's score (the envelope term, already in ebar, dbar and Zhat) is only
 * part of its gradient: C moves with theta directly and through zhat.
 * Added here, with q_j = a_j' C^-1 a_j and l', l'', l''' the derivatives
 * of cell c's log-density in eta (d/dlogphi marked _p):
 *   direct:   1/2 sum_c (l'''_c d eta_c + l''_p,c d logphi_c) q_j
 *             + sum_c l''_c (C^-1 a_j)' d a_j
 *   via zhat: v' d zhat, v = 1/2 sum_c l'''_c q_j a_j, d zhat = C^-1 d(grad_z h),
 *             i.e. with u = C^-1 v: sum_c (l''_c (a_j'u) d eta_c + l'_p,c (a_j'u)
 *             d logphi_c + l'_c u' d a_j),
 * where d eta_c at fixed z goes through ebar (eta0) and Zhat (z' d a_j).
 * With the eigenvalue floor active (laplace_logdet), the log det part's
 * C^-1 (in q_j and C^-1 a_j) is that floor's derivative M; the mode's
 * motion (u) keeps the true C^-1.  With the Fisher curvature (the observed
 * one not positive definite) the term is left out.
 */
static void laplace_motion(const ls_model *m, size_t f, fam_ws *w)
{
    const ls_data *d = m->d;
    size_t K = m->K, J = m->J;
    const double *z = w->z, *R = w->R; /* the mode; the Cholesky factor of C there */
    double *vv = w->v + K, *u = w->v + 2 * K;
    for (size_t j = 0; j < J; j++) {
        double *ca = w->CA + j * K;
        if (w->floored) { /* the floored log det's derivative in C (laplace_logdet) */
            for (size_t r = 0; r < K; r++) {
                double v = 0;
                for (size_t k = 0; k < K; k++) v += w->M[r * K + k] * m->a[j * K + k];
                ca[r] = v;
            }
        } else {
            memcpy(ca, m->a + j * K, K * sizeof(double));
            ls_chol_solve(R, K, ca);
        }
        double q = 0;
        for (size_t k = 0; k < K; k++) q += m->a[j * K + k] * ca[k];
        w->qj[j] = q;
    }
    size_t c0 = d->cell_start[f], nc = d->cell_start[f + 1] - c0;
    memset(vv, 0, K * sizeof(double));
    for (size_t c = 0; c < nc; c++) {
        size_t j = d->cell[c0 + c].j;
        double t = 0.5 * w->bc[c].t_eta * w->qj[j];
        if (!isfinite(t)) return; /* a shape at the floor of the grid: leave the term out */
        for (size_t k = 0; k < K; k++) vv[k] += t * m->a[j * K + k];
    }
    memcpy(u, vv, K * sizeof(double));
    ls_chol_solve(R, K, u);
    for (size_t k = 0; k < K; k++)
        if (!isfinite(u[k])) return;
    for (size_t c = 0; c < nc; c++) {
        const ls_beta_cell *bc = &w->bc[c];
        size_t j = d->cell[c0 + c].j;
        double au = 0;
        for (size_t k = 0; k < K; k++) au += m->a[j * K + k] * u[k];
        double x = 0.5 * bc->t_eta * w->qj[j] + bc->h_eta * au;
        if (!isfinite(x) || !isfinite(bc->t_eel)) continue; /* a shape at TINY: no term */
        double xk = 0;
        if (m->nkap && m->kap_of[j] >= 0) {
            xk = 0.5 * bc->t_eed * w->qj[j] + bc->h_ed * au;
            if (!isfinite(xk)) continue;
        }
        w->ebar[c] += x;
        w->dbar[c] += 0.5 * bc->t_eel * w->qj[j] + bc->h_el * au;
        w->kbar[c] += xk;
        double *zh = w->Zhat + j * K;
        const double *ca = w->CA + j * K;
        for (size_t k = 0; k < K; k++) zh[k] += x * z[k] + bc->h_eta * ca[k] + bc->d_eta * u[k];
    }
}

/*
 * The Laplace rule re-adapted at theta, in one pass over the family's cells
 * at the mode: their values give h(zhat), their second derivatives the
 * curvature C (observed; Fisher's when that is not positive definite, and
 * then without the motion terms), and with the gradient their first and
 * third derivatives are kept (w->bc) for the node's score and for
 * laplace_motion.  log L_f = h(zhat) + lw - K/2 log 2 pi - 1/2 log det_s C.
 */
static int laplace_family(ls_model *m, size_t f, int want_grad, fam_ws *w)
{
    const ls_data *d = m->d;
    size_t K = m->K, J = m->J;
    memcpy(w->z, m->zmode + f * K, K * sizeof(double));
    int nf = fam_mode(m, f, w);
    m->fam_newton_fail[f] = nf;
    if (nf == 2) return LS_ERR_NUMERIC;
    memcpy(m->zmode + f * K, w->z, K * sizeof(double));
    const double *z = w->z;
    random_part(m, z, w->r);
    memset(w->Hj, 0, J * sizeof(double));
    memset(w->Fj, 0, J * sizeof(double));
    size_t c0 = d->cell_start[f], nc = d->cell_start[f + 1] - c0;
    int want = want_grad ? 1 | 2 | 4 | 8 | 16 | (m->nkap ? 32 | 64 : 0) : 1 | 4;
    double h = 0;
    for (size_t c = 0; c < nc; c++) {
        const ls_cell *cl = &d->cell[c0 + c];
        h += cell_eval(m, m->eta0[c0 + c] + w->r[cl->j], cl, want, &w->bc[c]);
        w->Hj[cl->j] += w->bc[c].h_eta;
        w->Fj[cl->j] += w->bc[c].f_eta;
    }
    for (size_t k = 0; k < K; k++) h -= 0.5 * z[k] * z[k];
    int curv = curvature_chol(m, w);
    if (curv == 2) return LS_ERR_NUMERIC;
    laplace_map(m, w, m->fam_map + f * K * K); /* for the frozen objective and the Hessian */
    memcpy(m->fam_chol + f * K * K, w->R, K * K * sizeof(double));
    memcpy(m->fam_center + f * K, z, K * sizeof(double));
    double logdet = laplace_logdet(m, w->R, w);
    m->fam_logdet[f] = logdet;
    double ll = m->rule.lw[0] + h - 0.5 * (double)K * LOG_2PI + logdet;
    if (!isfinite(ll)) return LS_ERR_NUMERIC;
    m->fam_ll[f] = ll;
    if (!want_grad) return LS_OK;
    memset(w->Gj, 0, J * sizeof(double));
    for (size_t c = 0; c < nc; c++) {
        w->ebar[c] = w->bc[c].d_eta;
        w->dbar[c] = w->bc[c].d_lphi;
        w->kbar[c] = m->nkap ? w->bc[c].d_d : 0;
        w->Gj[d->cell[c0 + c].j] += w->bc[c].d_eta;
    }
    for (size_t j = 0; j < J; j++)
        for (size_t k = 0; k < K; k++) w->Zhat[j * K + k] = w->Gj[j] * z[k];
    if (curv == 0) laplace_motion(m, f, w); /* none with Fisher's curvature */
    assemble_score(m, f, w->ebar, w->dbar, w->kbar, w->Zhat, w->GL, m->fam_grad + f * m->dim);
    return LS_OK;
}

/* log L_f and (if grad) its gradient into m->fam_grad[f]. */
static int family_eval(ls_model *m, size_t f, int want_grad, fam_ws *w)
{
    const ls_data *d = m->d;
    size_t K = m->K, J = m->J, n = m->rule.n;
    double *A = w->H, *ctr = w->v, logdet;
    double *t = w->hk, *pi = w->hk + n;
    if (m->freeze) { /* node map held fixed: the sum is then a smooth function of theta */
        memcpy(A, m->fam_map + f * K * K, K * K * sizeof(double));
        memcpy(ctr, m->fam_center + f * K, K * sizeof(double));
        logdet = m->fam_logdet[f];
        place_nodes(m, f, A, ctr, w);
    } else if (n == 1) {
        return laplace_family(m, f, want_grad, w);
    } else {
        memcpy(w->z, m->zmode + f * K, K * sizeof(double));
        int nf = fam_mode(m, f, w);
        m->fam_newton_fail[f] = nf;
        if (nf == 2) return LS_ERR_NUMERIC;
        memcpy(m->zmode + f * K, w->z, K * sizeof(double));
        memcpy(m->fam_chol + f * K * K, w->R, K * K * sizeof(double));
        laplace_map(m, w, A);
        memcpy(ctr, w->z, K * sizeof(double));
        logdet = -ls_chol_logdet_half(w->R, K);
        place_nodes(m, f, A, ctr, w);
        memcpy(m->fam_map + f * K * K, A, K * K * sizeof(double));
        memcpy(m->fam_center + f * K, ctr, K * sizeof(double));
        m->fam_logdet[f] = logdet;
    }
    double lse = ls_logsumexp_signed(t, m->rule.sg, n);
    if (m->rule.v && !want_grad) /* importance sampling, value only: the
                                  * estimate and its error (with a gradient
                                  * the plain sum, whose gradient it is) */
        lse = ls_rule_estimate(&m->rule, t, lse, m->cv ? pi : NULL, m->fam_se + f);
    double ll = lse + logdet;
    if (!isfinite(ll)) return LS_ERR_NUMERIC;
    m->fam_ll[f] = ll;
    if (!want_grad) return LS_OK;

    /* pass 2: posterior-weighted scores */
    size_t c0 = d->cell_start[f], nc = d->cell_start[f + 1] - c0;
    memset(w->ebar, 0, nc * sizeof(double));
    memset(w->dbar, 0, nc * sizeof(double));
    memset(w->kbar, 0, nc * sizeof(double));
    memset(w->Zhat, 0, J * K * sizeof(double));
    ls_beta_cell bc;
    int want = 1 | 2 | (m->nkap ? 32 : 0);
    for (size_t q = 0; q < n; q++) {
        pi[q] = exp(t[q] - lse);
        if (pi[q] < WEIGHT_CUT) continue;
        if (m->rule.sg) pi[q] *= m->rule.sg[q];
        const double *zq = w->zk + q * K;
        random_part(m, zq, w->r);
        memset(w->Gj, 0, J * sizeof(double));
        for (size_t c = 0; c < nc; c++) {
            const ls_cell *cl = &d->cell[c0 + c];
            size_t j = cl->j;
            cell_eval(m, m->eta0[c0 + c] + w->r[j], cl, want, &bc);
            w->ebar[c] += pi[q] * bc.d_eta;
            w->dbar[c] += pi[q] * bc.d_lphi;
            if (want & 32) w->kbar[c] += pi[q] * bc.d_d;
            w->Gj[j] += bc.d_eta;
        }
        for (size_t j = 0; j < J; j++)
            if (w->Gj[j] != 0)
                for (size_t k = 0; k < K; k++) w->Zhat[j * K + k] += pi[q] * w->Gj[j] * zq[k];
    }

    assemble_score(m, f, w->ebar, w->dbar, w->kbar, w->Zhat, w->GL, m->fam_grad + f * m->dim);
    return LS_OK;
}

/* ---------------------------------------------------------------- */
/* All families                                                      */
/* ---------------------------------------------------------------- */

int ls_model_loglik(ls_model *m, const double *theta, double *ll, double *grad, double *family_ll,
                    ls_error *err)
{
    for (size_t i = 0; i < m->dim; i++)
        if (!isfinite(theta[i]))
            return ls_fail(err, LS_ERR_NUMERIC, "parameter vector has a non-finite entry (%zu)", i);
    ls_model_load(m, theta);
    int bad = 0;
    long badf = -1;
    long F = (long)m->F;
#pragma omp parallel num_threads(m->threads)
    {
        fam_ws w;
        ws_carve(m, m->scratch + (size_t)omp_get_thread_num() * m->scratch_len, &w);
#pragma omp for schedule(dynamic, 4)
        for (long f = 0; f < F; f++) {
            if (m->only && !m->only[f]) continue;
            if (family_eval(m, (size_t)f, grad != NULL, &w) != LS_OK) {
#pragma omp critical
                {
                    if (!bad || f < badf) badf = f;
                    bad = 1;
                }
            }
        }
    }
    if (bad)
        return ls_fail(err, LS_ERR_NUMERIC,
                       "likelihood of family '%s' is not finite at these parameters",
                       m->d->family[badf]);
    double s = 0;
    for (size_t f = 0; f < m->F; f++) s += m->fam_ll[f];
    *ll = s;
    if (family_ll) memcpy(family_ll, m->fam_ll, m->F * sizeof(double));
    if (grad) {
        memset(grad, 0, m->dim * sizeof(double));
        for (size_t f = 0; f < m->F; f++) {
            const double *g = m->fam_grad + f * m->dim;
            for (size_t i = 0; i < m->dim; i++) grad[i] += g[i];
        }
    }
    return LS_OK;
}

int ls_model_family_mode(ls_model *m, size_t f, double *alpha, double *chol)
{
    size_t K = m->K;
    const double *z = m->zmode + f * K;
    for (size_t k = 0; k < K; k++) {
        double s = 0;
        for (size_t l = 0; l <= k; l++) s += m->L[k * K + l] * z[l];
        alpha[k] = s;
    }
    if (chol) memcpy(chol, m->fam_chol + f * K * K, K * K * sizeof(double));
    return m->fam_newton_fail[f];
}

int ls_model_negll(void *model, const double *x, double *f, double *g)
{
    ls_model *m = model;
    double ll;
    int rc = ls_model_loglik(m, x, &ll, g, NULL, NULL);
    if (rc) return rc;
    *f = -ll;
    for (size_t i = 0; i < m->dim; i++) g[i] = -g[i];
    return LS_OK;
}

/* ---------------------------------------------------------------- */
/* Hessian at frozen nodes                                           */
/* ---------------------------------------------------------------- */

/*
 * With the node map held fixed, log L_f = log sum_q exp(lw_q + h_f(z_q)) +
 * const, and its Hessian is (Louis' identity for the quadrature sum)
 *     sum_q pi_q d2h_q + sum_q pi_q (s_q - sbar)(s_q - sbar)^T,
 * where s_q is the complete-data score at node q and pi_q its posterior
 * weight.  Every derivative of eta_c = eta0_c + lambda_j^T L z is at most
 * linear in z, so the first term needs, per cell, posterior moments of the
 * Beta kernel's second derivatives against 1, z and z z^T; only the second
 * term needs a score vector per node.
 *
 * Write d eta_c / d theta = J0_c + P_j z (J0_c: the node-free part; P_j,
 * the same for every cell of benchmark j, maps z into the lambda_j and w
 * coordinates).  The second derivatives of eta_c are node-free in
 * (B, lambda) and (log lambda_anchor)^2, and linear in z through w.
 */

typedef struct svec {
    size_t n;
    size_t *i;
    double *v;
} svec;

typedef struct hess_ws {
    double *S, *pis, *ec, *dc, *kc, *Zq, *gbar, *Sc;
    double *k0, *k1, *kk, *kl, *kd; /* ceilings: h_ed (1, z), h_dd, h_ld, d_d moments per cell */
    double *ebar, *m0, *n0, *l0, *m1, *n1, *M2, *M2j, *Zhat, *GL;
    double *T, *tmp;
    size_t *act;
    unsigned char *mark;
    svec j0, pm, u, v;
} hess_ws;

static void hess_ws_free(hess_ws *h)
{
    ls_free(h->S); ls_free(h->pis); ls_free(h->ec); ls_free(h->dc); ls_free(h->Zq);
    ls_free(h->kc); ls_free(h->k0); ls_free(h->k1); ls_free(h->kk); ls_free(h->kl); ls_free(h->kd);
    ls_free(h->gbar); ls_free(h->Sc); ls_free(h->ebar); ls_free(h->m0); ls_free(h->n0);
    ls_free(h->l0); ls_free(h->m1); ls_free(h->n1); ls_free(h->M2); ls_free(h->M2j);
    ls_free(h->Zhat); ls_free(h->GL); ls_free(h->T); ls_free(h->tmp);
    ls_free(h->act); ls_free(h->mark);
    ls_free(h->j0.i); ls_free(h->j0.v); ls_free(h->pm.i); ls_free(h->pm.v);
    ls_free(h->u.i); ls_free(h->u.v); ls_free(h->v.i); ls_free(h->v.v);
}

static int svec_alloc(svec *s, size_t n)
{
    s->n = 0;
    s->i = ls_calloc(n, sizeof(size_t));
    s->v = ls_calloc(n, sizeof(double));
    return s->i && s->v ? 0 : -1;
}

static int hess_ws_alloc(const ls_model *m, hess_ws *h)
{
    size_t K = m->K, J = m->J, p = m->p, n = m->rule.n, dim = m->dim, mc = m->maxcell + 1;
    size_t nP = K + K * (K - 1) / 2;
    memset(h, 0, sizeof *h);
    h->S = ls_calloc(n * dim, sizeof(double));
    h->Sc = ls_calloc(n * dim, sizeof(double));
    h->pis = ls_calloc(n, sizeof(double));
    h->ec = ls_calloc(mc, sizeof(double));
    h->dc = ls_calloc(mc, sizeof(double));
    h->kc = ls_calloc(mc, sizeof(double));
    h->k0 = ls_calloc(mc, sizeof(double));
    h->k1 = ls_calloc(mc * K, sizeof(double));
    h->kk = ls_calloc(mc, sizeof(double));
    h->kl = ls_calloc(mc, sizeof(double));
    h->kd = ls_calloc(mc, sizeof(double));
    h->Zq = ls_calloc(J * K, sizeof(double));
    h->gbar = ls_calloc(dim, sizeof(double));
    h->ebar = ls_calloc(mc, sizeof(double));
    h->m0 = ls_calloc(mc, sizeof(double));
    h->n0 = ls_calloc(mc, sizeof(double));
    h->l0 = ls_calloc(mc, sizeof(double));
    h->m1 = ls_calloc(mc * K, sizeof(double));
    h->n1 = ls_calloc(mc * K, sizeof(double));
    h->M2 = ls_calloc(mc * K * K, sizeof(double));
    h->M2j = ls_calloc(J * K * K, sizeof(double));
    h->Zhat = ls_calloc(J * K, sizeof(double));
    h->GL = ls_calloc(K * K, sizeof(double));
    h->T = ls_calloc(nP * K, sizeof(double));
    h->tmp = ls_calloc(nP, sizeof(double));
    h->act = ls_calloc(dim, sizeof(size_t));
    h->mark = ls_calloc(dim, 1);
    int bad = svec_alloc(&h->j0, p * K + K + 1) | svec_alloc(&h->pm, nP) |
              svec_alloc(&h->u, p + 1) | svec_alloc(&h->v, p * K + K + 1 + nP);
    if (bad || !h->S || !h->Sc || !h->pis || !h->ec || !h->dc || !h->Zq || !h->gbar || !h->ebar ||
        !h->kc || !h->k0 || !h->k1 || !h->kk || !h->kl || !h->kd ||
        !h->m0 || !h->n0 || !h->l0 || !h->m1 || !h->n1 || !h->M2 || !h->M2j || !h->Zhat ||
        !h->GL || !h->T || !h->tmp || !h->act || !h->mark) {
        hess_ws_free(h);
        return -1;
    }
    return 0;
}

static void svec_push(svec *s, size_t i, double v)
{
    s->i[s->n] = i;
    s->v[s->n++] = v;
}

/* H += s (a b^T + b a^T) */
static void add_sym(double *H, size_t dim, const svec *a, const svec *b, double s)
{
    for (size_t x = 0; x < a->n; x++) {
        double va = s * a->v[x];
        if (va == 0) continue;
        for (size_t y = 0; y < b->n; y++) {
            double t = va * b->v[y];
            H[a->i[x] * dim + b->i[y]] += t;
            H[b->i[y] * dim + a->i[x]] += t;
        }
    }
}

/* H += s a a^T */
static void add_outer(double *H, size_t dim, const svec *a, double s)
{
    for (size_t x = 0; x < a->n; x++) {
        double va = s * a->v[x];
        if (va == 0) continue;
        for (size_t y = 0; y < a->n; y++) H[a->i[x] * dim + a->i[y]] += va * a->v[y];
    }
}

/* the symmetric pair (i, j) of a second derivative */
static void add_pair(double *H, size_t dim, size_t i, size_t j, double v)
{
    H[i * dim + j] += v;
    if (i != j) H[j * dim + i] += v;
}

/* Rows of P_j (d eta / d theta = J0 + P_j z) with their theta indices;
 * returns the number of rows. */
static size_t build_P(const ls_model *m, size_t j, double *P, size_t *idx)
{
    size_t K = m->K, J = m->J, r = 0;
    long a = m->anchor_of[j];
    if (a >= 0) {
        double la = m->lam[(size_t)a * J + j];
        for (size_t l = 0; l < K; l++) P[l] = la * m->L[(size_t)a * K + l];
        idx[r++] = m->lam_off[j];
    } else
        for (size_t k = 0; k < K; k++, r++) {
            for (size_t l = 0; l < K; l++) P[r * K + l] = m->L[k * K + l];
            idx[r] = m->lam_off[j] + k;
        }
    for (size_t k = 1; k < K; k++) {
        double lk = m->lam[k * J + j];
        if (lk == 0) continue;
        const double *D = m->dL + k * K * K;
        for (size_t mm = 0; mm < k; mm++, r++) {
            for (size_t l = 0; l < K; l++) P[r * K + l] = lk * D[mm * K + l];
            idx[r] = m->off_w + k * (k - 1) / 2 + mm;
        }
    }
    return r;
}

/* out = P v as a sparse vector (appended) */
static void P_times(const double *P, const size_t *idx, size_t nr, size_t K, const double *v,
                    double scale, svec *out)
{
    for (size_t r = 0; r < nr; r++) {
        double s = 0;
        for (size_t l = 0; l < K; l++) s += P[r * K + l] * v[l];
        svec_push(out, idx[r], scale * s);
    }
}

/* P_j of every benchmark (they depend on the parameters only, not on the
 * family): rows nP * j.., count nr[j]. */
typedef struct hess_P {
    size_t nP;
    double *P;   /* J x nP x K */
    size_t *idx; /* J x nP */
    size_t *nr;  /* J */
} hess_P;

/* s[x] = sum_{q < np} ra[q] rb_x[q] - sum_{np <= q < n} ra[q] rb_x[q] for
 * the nb <= 4 rows rb_x = rb + x n: four dot products sharing the loads of
 * ra, with independent accumulators (fewer than four: one at a time, in
 * the same order). */
static void dot_rows(const double *ra, const double *rb, size_t n, size_t nb, size_t np, double *s)
{
    if (nb < 4) {
        for (size_t x = 0; x < nb; x++) {
            const double *r = rb + x * n;
            double p = 0, m = 0;
            for (size_t q = 0; q < np; q++) p += ra[q] * r[q];
            for (size_t q = np; q < n; q++) m += ra[q] * r[q];
            s[x] = p - m;
        }
        return;
    }
    const double *r0 = rb, *r1 = rb + n, *r2 = rb + 2 * n, *r3 = rb + 3 * n;
    double p0 = 0, p1 = 0, p2 = 0, p3 = 0, m0 = 0, m1 = 0, m2 = 0, m3 = 0;
    for (size_t q = 0; q < np; q++) {
        double x = ra[q];
        p0 += x * r0[q];
        p1 += x * r1[q];
        p2 += x * r2[q];
        p3 += x * r3[q];
    }
    for (size_t q = np; q < n; q++) {
        double x = ra[q];
        m0 += x * r0[q];
        m1 += x * r1[q];
        m2 += x * r2[q];
        m3 += x * r3[q];
    }
    s[0] = p0 - m0;
    s[1] = p1 - m1;
    s[2] = p2 - m2;
    s[3] = p3 - m3;
}

/* Hessian of log L_f (frozen nodes) into Hf (dim x dim, zeroed here). */
static int family_hessian(ls_model *m, size_t f, const hess_P *hp, fam_ws *w, hess_ws *h, double *Hf)
{
    const ls_data *d = m->d;
    size_t K = m->K, J = m->J, p = m->p, n = m->rule.n, dim = m->dim;
    size_t c0 = d->cell_start[f], nc = d->cell_start[f + 1] - c0;
    memset(Hf, 0, dim * dim * sizeof(double));
    place_nodes(m, f, m->fam_map + f * K * K, m->fam_center + f * K, w);
    double lse = ls_logsumexp_signed(w->hk, m->rule.sg, n);
    if (!isfinite(lse)) return LS_ERR_NUMERIC;

    memset(h->ebar, 0, nc * sizeof(double));
    memset(h->m0, 0, nc * sizeof(double));
    memset(h->n0, 0, nc * sizeof(double));
    memset(h->l0, 0, nc * sizeof(double));
    memset(h->m1, 0, nc * K * sizeof(double));
    memset(h->n1, 0, nc * K * sizeof(double));
    memset(h->M2, 0, nc * K * K * sizeof(double));
    memset(h->Zhat, 0, J * K * sizeof(double));
    memset(h->gbar, 0, dim * sizeof(double));
    memset(h->k0, 0, nc * sizeof(double));
    memset(h->k1, 0, nc * K * sizeof(double));
    memset(h->kk, 0, nc * sizeof(double));
    memset(h->kl, 0, nc * sizeof(double));
    memset(h->kd, 0, nc * sizeof(double));
    memset(h->kc, 0, nc * sizeof(double));
    size_t nu = 0;
    ls_beta_cell bc;
    int want = 1 | 2 | 4 | 8 | (m->nkap ? 32 | 64 : 0);
    for (size_t q = 0; q < n; q++) {
        double pq = exp(w->hk[q] - lse);
        if (pq < WEIGHT_CUT) continue;
        if (m->rule.sg) pq *= m->rule.sg[q];
        const double *zq = w->zk + q * K;
        random_part(m, zq, w->r);
        memset(w->Gj, 0, J * sizeof(double));
        for (size_t c = 0; c < nc; c++) {
            const ls_cell *cl = &d->cell[c0 + c];
            size_t j = cl->j;
            cell_eval(m, m->eta0[c0 + c] + w->r[j], cl, want, &bc);
            h->ec[c] = bc.d_eta;
            h->dc[c] = bc.d_lphi;
            if (m->nkap && m->kap_of[j] >= 0) {
                h->kc[c] = bc.d_d;
                h->k0[c] += pq * bc.h_ed;
                for (size_t k = 0; k < K; k++) h->k1[c * K + k] += pq * bc.h_ed * zq[k];
                h->kk[c] += pq * bc.h_dd;
                h->kl[c] += pq * bc.h_ld;
                h->kd[c] += pq * bc.d_d;
            }
            w->Gj[j] += bc.d_eta;
            h->ebar[c] += pq * bc.d_eta;
            double he = pq * bc.h_eta;
            double hl = pq * bc.h_el;
            h->m0[c] += he;
            h->n0[c] += hl;
            h->l0[c] += pq * bc.h_ll;
            double *m1 = h->m1 + c * K, *n1 = h->n1 + c * K, *M2 = h->M2 + c * K * K;
            for (size_t k = 0; k < K; k++) {
                m1[k] += he * zq[k];
                n1[k] += hl * zq[k];
                double hz = he * zq[k];
                for (size_t l = 0; l <= k; l++) M2[k * K + l] += hz * zq[l];
            }
        }
        for (size_t j = 0; j < J; j++)
            for (size_t k = 0; k < K; k++) {
                h->Zq[j * K + k] = w->Gj[j] * zq[k];
                h->Zhat[j * K + k] += pq * w->Gj[j] * zq[k];
            }
        double *sq = h->S + nu * dim;
        assemble_score(m, f, h->ec, h->dc, h->kc, h->Zq, h->GL, sq);
        for (size_t i = 0; i < dim; i++) h->gbar[i] += pq * sq[i];
        h->pis[nu++] = pq;
    }

    /* coordinates this family's likelihood depends on */
    memset(h->mark, 0, dim);
    for (size_t i = 0; i < m->p * K; i++) h->mark[i] = 1;
    for (size_t i = m->off_w; i < dim; i++) h->mark[i] = 1;
    for (size_t c = 0; c < nc; c++) {
        size_t j = d->cell[c0 + c].j;
        size_t nl = m->anchor_of[j] >= 0 ? 1 : K;
        for (size_t k = 0; k < nl; k++) h->mark[m->lam_off[j] + k] = 1;
        h->mark[m->off_b + j] = h->mark[m->off_phi + j] = 1;
        if (m->kap_of[j] >= 0) h->mark[m->off_k + (size_t)m->kap_of[j]] = 1;
    }
    size_t na = 0;
    for (size_t i = 0; i < dim; i++)
        if (h->mark[i]) h->act[na++] = i;

    /* covariance of the complete-data scores.  Sc holds, coordinate by
     * coordinate (row a, length nu), sqrt|pi_q| (s_q - gbar) with the nodes
     * of positive weight first (np of them) and those of negative weight
     * (a signed rule's) after, so entry (a, b) is the dot product of rows a
     * and b over the first np nodes minus that over the rest: contiguous
     * rows, four columns at a time. */
    size_t np = 0, nn = nu;
    for (size_t q = 0; q < nu; q++) {
        size_t slot = h->pis[q] < 0 ? --nn : np++;
        double sp = sqrt(fabs(h->pis[q]));
        const double *sq = h->S + q * dim;
        for (size_t a = 0; a < na; a++) h->Sc[a * nu + slot] = sp * (sq[h->act[a]] - h->gbar[h->act[a]]);
    }
    for (size_t a = 0; a < na; a++) {
        const double *ra = h->Sc + a * nu;
        double *row = Hf + h->act[a] * dim;
        for (size_t b = a; b < na; b += 4) {
            size_t nb = na - b < 4 ? na - b : 4;
            double s[4];
            dot_rows(ra, h->Sc + b * nu, nu, nb, np, s);
            for (size_t x = 0; x < nb; x++) {
                row[h->act[b + x]] += s[x];
                if (b + x != a) Hf[h->act[b + x] * dim + h->act[a]] += s[x];
            }
        }
    }

    /* posterior mean of the complete-data Hessian: per cell */
    memset(h->M2j, 0, J * K * K * sizeof(double));
    for (size_t c = 0; c < nc; c++) {
        const ls_cell *cl = &d->cell[c0 + c];
        size_t j = cl->j, i = cl->row;
        long a = m->anchor_of[j];
        const double *xi = d->x + i * p, *t0 = m->theta0 + i * K;
        svec *j0 = &h->j0, *pm = &h->pm, *u = &h->u, *v = &h->v;
        j0->n = pm->n = u->n = v->n = 0;
        if (a >= 0) {
            double la = m->lam[(size_t)a * J + j];
            for (size_t q = 0; q < p; q++) svec_push(j0, q * K + (size_t)a, xi[q] * la);
            svec_push(j0, m->lam_off[j], la * t0[a]);
        } else {
            for (size_t q = 0; q < p; q++)
                for (size_t k = 0; k < K; k++) svec_push(j0, q * K + k, xi[q] * m->lam[k * J + j]);
            for (size_t k = 0; k < K; k++) svec_push(j0, m->lam_off[j] + k, t0[k]);
        }
        svec_push(j0, m->off_b + j, 1.0);
        svec_push(u, m->off_phi + j, 1.0);
        if (m->hetero)
            for (size_t q = 0; q < p; q++) svec_push(u, m->off_g + q, xi[q]);
        const double *Pj = hp->P + j * hp->nP * K;
        const size_t *pidx = hp->idx + j * hp->nP, nr = hp->nr[j];
        /* eta-eta: m0 J0 J0^T + J0 (P m1)^T + (P m1) J0^T */
        P_times(Pj, pidx, nr, K, h->m1 + c * K, 1.0, pm);
        add_outer(Hf, dim, j0, h->m0[c]);
        add_sym(Hf, dim, j0, pm, 1.0);
        /* eta-log phi: (n0 J0 + P n1) u^T + u (...)^T */
        for (size_t x = 0; x < j0->n; x++) svec_push(v, j0->i[x], h->n0[c] * j0->v[x]);
        P_times(Pj, pidx, nr, K, h->n1 + c * K, 1.0, v);
        add_sym(Hf, dim, v, u, 1.0);
        add_outer(Hf, dim, u, h->l0[c]);
        if (m->kap_of[j] >= 0) {
            /* kappa_j: with d' = d d_j/d kappa_j, eta-kappa (k0 J0 + P k1) d',
             * log phi-kappa kl d', and kappa-kappa kk d'^2 + d_d d'' */
            size_t ik = m->off_k + (size_t)m->kap_of[j];
            double d1 = m->dceil[j];
            v->n = 0;
            for (size_t x = 0; x < j0->n; x++) svec_push(v, j0->i[x], h->k0[c] * d1 * j0->v[x]);
            P_times(Pj, pidx, nr, K, h->k1 + c * K, d1, v);
            for (size_t x = 0; x < v->n; x++) add_pair(Hf, dim, v->i[x], ik, v->v[x]);
            for (size_t x = 0; x < u->n; x++) add_pair(Hf, dim, u->i[x], ik, h->kl[c] * d1 * u->v[x]);
            add_pair(Hf, dim, ik, ik, h->kk[c] * d1 * d1 + h->kd[c] * m->d2ceil[j]);
        }
        /* d loglik/d eta times the node-free second derivatives of eta */
        double e = h->ebar[c];
        if (a >= 0) {
            double la = m->lam[(size_t)a * J + j];
            for (size_t q = 0; q < p; q++) add_pair(Hf, dim, q * K + (size_t)a, m->lam_off[j], e * xi[q] * la);
            add_pair(Hf, dim, m->lam_off[j], m->lam_off[j], e * la * t0[a]);
        } else
            for (size_t q = 0; q < p; q++)
                for (size_t k = 0; k < K; k++) add_pair(Hf, dim, q * K + k, m->lam_off[j] + k, e * xi[q]);
        const double *M2 = h->M2 + c * K * K;
        double *Mj = h->M2j + j * K * K;
        for (size_t k = 0; k < K; k++)
            for (size_t l = 0; l <= k; l++) Mj[k * K + l] += M2[k * K + l];
    }
    /* per benchmark: P_j M2_j P_j^T and the z-linear second derivatives */
    for (size_t j = 0; j < J; j++) {
        double *Mj = h->M2j + j * K * K;
        const double *Zh = h->Zhat + j * K;
        if (!h->mark[m->off_b + j]) continue; /* no cell of j in this family */
        for (size_t k = 0; k < K; k++)
            for (size_t l = k + 1; l < K; l++) Mj[k * K + l] = Mj[l * K + k];
        const double *Pj = hp->P + j * hp->nP * K;
        const size_t *pidx = hp->idx + j * hp->nP, nr = hp->nr[j];
        for (size_t r = 0; r < nr; r++)
            for (size_t l = 0; l < K; l++) {
                double s = 0;
                for (size_t k = 0; k < K; k++) s += Pj[r * K + k] * Mj[k * K + l];
                h->T[r * K + l] = s;
            }
        for (size_t r = 0; r < nr; r++)
            for (size_t s2 = 0; s2 < nr; s2++) {
                double s = 0;
                for (size_t l = 0; l < K; l++) s += h->T[r * K + l] * Pj[s2 * K + l];
                Hf[pidx[r] * dim + pidx[s2]] += s;
            }
        /* alpha-hat = L Zhat_j */
        double *ah = h->tmp;
        for (size_t k = 0; k < K; k++) {
            double s = 0;
            for (size_t l = 0; l <= k; l++) s += m->L[k * K + l] * Zh[l];
            ah[k] = s;
        }
        long a = m->anchor_of[j];
        if (a >= 0) {
            double la = m->lam[(size_t)a * J + j];
            add_pair(Hf, dim, m->lam_off[j], m->lam_off[j], la * ah[a]);
            for (size_t mm = 0; mm < (size_t)a; mm++)
                add_pair(Hf, dim, m->lam_off[j], m->off_w + (size_t)a * ((size_t)a - 1) / 2 + mm,
                         la * dL_dot(m, (size_t)a, mm, Zh));
        } else
            for (size_t k = 1; k < K; k++)
                for (size_t mm = 0; mm < k; mm++)
                    add_pair(Hf, dim, m->lam_off[j] + k, m->off_w + k * (k - 1) / 2 + mm,
                             dL_dot(m, k, mm, Zh));
        for (size_t k = 1; k < K; k++) {
            double lk = m->lam[k * J + j];
            if (lk == 0) continue;
            const double *v = m->wv + k * (k - 1) / 2, *rc = m->rowc + 3 * k;
            double sk = rc[0], tk = rc[1], qk = rc[2], c = 0;
            for (size_t l = 0; l < k; l++) c += Zh[l] * v[l];
            size_t o = m->off_w + k * (k - 1) / 2;
            for (size_t m1 = 0; m1 < k; m1++)
                for (size_t m2 = 0; m2 < k; m2++)
                    Hf[(o + m1) * dim + o + m2] +=
                        lk * (tk * (v[m2] * Zh[m1] + v[m1] * Zh[m2]) + v[m1] * v[m2] * (qk * c - tk * Zh[k]) +
                              (m1 == m2 ? tk * c - sk * Zh[k] : 0));
        }
    }
    return LS_OK;
}

int ls_model_hessian(ls_model *m, const double *theta, double *H, ls_error *err)
{
    size_t dim = m->dim, F = m->F;
    for (size_t i = 0; i < dim; i++)
        if (!isfinite(theta[i]))
            return ls_fail(err, LS_ERR_NUMERIC, "parameter vector has a non-finite entry (%zu)", i);
    ls_model_load(m, theta);
    unsigned nt = m->threads;
    size_t nb = 4 * (size_t)nt;
    hess_ws *hw = ls_calloc(nt, sizeof *hw);
    double *buf = ls_calloc(nb * dim * dim, sizeof(double));
    if (!hw || !buf) {
        ls_free(hw);
        ls_free(buf);
        return ls_nomem(err);
    }
    size_t K = m->K, J = m->J;
    hess_P hp;
    hp.nP = K + K * (K - 1) / 2;
    hp.P = ls_calloc(J * hp.nP * K, sizeof(double));
    hp.idx = ls_calloc(J * hp.nP, sizeof(size_t));
    hp.nr = ls_calloc(J, sizeof(size_t));
    int rc = hp.P && hp.idx && hp.nr ? LS_OK : ls_nomem(err);
    for (size_t j = 0; !rc && j < J; j++)
        hp.nr[j] = build_P(m, j, hp.P + j * hp.nP * K, hp.idx + j * hp.nP);
    unsigned made = 0;
    for (; !rc && made < nt; made++)
        if (hess_ws_alloc(m, &hw[made])) { rc = ls_nomem(err); break; }
    memset(H, 0, dim * dim * sizeof(double));
    for (size_t f0 = 0; f0 < F && !rc; f0 += nb) {
        long nf = (long)(F - f0 < nb ? F - f0 : nb);
        long badf = -1;
#pragma omp parallel num_threads(nt)
        {
            int t = omp_get_thread_num();
            fam_ws w;
            ws_carve(m, m->scratch + (size_t)t * m->scratch_len, &w);
#pragma omp for schedule(dynamic, 1)
            for (long b = 0; b < nf; b++)
                if (family_hessian(m, f0 + (size_t)b, &hp, &w, &hw[t], buf + (size_t)b * dim * dim)) {
#pragma omp critical
                    if (badf < 0 || b < badf) badf = b;
                }
        }
        if (badf >= 0) {
            rc = ls_fail(err, LS_ERR_NUMERIC, "likelihood of family '%s' is not finite at these parameters",
                         m->d->family[f0 + (size_t)badf]);
            break;
        }
        for (long b = 0; b < nf; b++) {
            const double *Hb = buf + (size_t)b * dim * dim;
            for (size_t i = 0; i < dim * dim; i++) H[i] += Hb[i];
        }
    }
    for (unsigned t = 0; t < made; t++) hess_ws_free(&hw[t]);
    ls_free(hp.P);
    ls_free(hp.idx);
    ls_free(hp.nr);
    ls_free(hw);
    ls_free(buf);
    return rc;
}

/* ---------------------------------------------------------------- */
/* Family posteriors (for the tasks)                                 */
/* ---------------------------------------------------------------- */

double ls_model_family_logpost(const ls_model *m, size_t f, const double *z, double *r)
{
    fam_ws w;
    memset(&w, 0, sizeof w);
    w.r = r;
    return fam_h(m, f, z, 0, &w) - 0.5 * (double)m->K * LOG_2PI;
}

int ls_model_eval_families(ls_model *m, const double *theta, const size_t *fams, size_t nf,
                           ls_error *err)
{
    for (size_t i = 0; i < m->dim; i++)
        if (!isfinite(theta[i]))
            return ls_fail(err, LS_ERR_NUMERIC, "parameter vector has a non-finite entry (%zu)", i);
    int saved = m->freeze;
    m->freeze = 0;
    ls_model_load(m, theta);
    fam_ws w;
    ws_carve(m, m->scratch, &w);
    int rc = LS_OK;
    for (size_t i = 0; i < nf && !rc; i++)
        if (family_eval(m, fams[i], 0, &w) != LS_OK)
            rc = ls_fail(err, LS_ERR_NUMERIC, "posterior of family '%s' is degenerate at these parameters",
                         m->d->family[fams[i]]);
    m->freeze = saved;
    return rc;
}

int ls_model_family_moments(const ls_model *m, size_t f, double *mean, double *cov, ls_error *err)
{
    size_t K = m->K, n = m->rule.n;
    double *t = ls_calloc(n, sizeof(double)), *zk = ls_calloc(n * K, sizeof(double));
    double *r = ls_calloc(m->J, sizeof(double));
    if (!t || !zk || !r) {
        ls_free(t); ls_free(zk); ls_free(r);
        return ls_nomem(err);
    }
    const double *A = m->fam_map + f * K * K, *c = m->fam_center + f * K;
    const double *U = m->rule.u, *LW = m->rule.lw;
    double *uf = NULL;
    if (m->rule.v) { /* the family's own points */
        if (!(uf = ls_calloc(n * (K + 1), sizeof(double)))) {
            ls_free(t); ls_free(zk); ls_free(r);
            return ls_nomem(err);
        }
        ls_rule_points(&m->rule, f, uf, uf + n * K);
        U = uf;
        LW = uf + n * K;
    }
    for (size_t q = 0; q < n; q++) {
        const double *u = U + q * K;
        double *zq = zk + q * K;
        for (size_t a = 0; a < K; a++) {
            double s = c[a];
            for (size_t l = 0; l < K; l++) s += A[a * K + l] * u[l];
            zq[a] = s;
        }
        t[q] = LW[q] + ls_model_family_logpost(m, f, zq, r);
    }
    ls_free(uf);
    double lse = ls_logsumexp_signed(t, m->rule.sg, n);
    if (!isfinite(lse)) {
        ls_free(t); ls_free(zk); ls_free(r);
        return ls_fail(err, LS_ERR_NUMERIC, "posterior moments of family '%s': the rule's sum is not positive",
                       m->d->family[f]);
    }
    memset(mean, 0, K * sizeof(double));
    memset(cov, 0, K * K * sizeof(double));
    for (size_t q = 0; q < n; q++) {
        double pq = exp(t[q] - lse) * (m->rule.sg ? m->rule.sg[q] : 1);
        for (size_t a = 0; a < K; a++) mean[a] += pq * zk[q * K + a];
    }
    for (size_t q = 0; q < n; q++) {
        double pq = exp(t[q] - lse) * (m->rule.sg ? m->rule.sg[q] : 1);
        for (size_t a = 0; a < K; a++)
            for (size_t b = 0; b < K; b++)
                cov[a * K + b] += pq * (zk[q * K + a] - mean[a]) * (zk[q * K + b] - mean[b]);
    }
    ls_free(t); ls_free(zk); ls_free(r);
    return LS_OK;
}
