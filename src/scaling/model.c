/*
 * model.c -- the scaling-law model: construction (anchors, estimated
 * ceilings, the rule, the per-family buffers), theta <-> natural
 * parameters (Sigma's rows by the exponential map of the sphere), and the
 * small functions through which the fit and the tasks use the model.  The
 * likelihood itself: value.c, modes.c, hessian.c (model_impl.h).
 */
#include "scaling/model_impl.h"
#include "scaling/plan.h"
#include "kernel/linalg.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

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
    ls_free(m->tau);
    ls_free(m->bcell);
    ls_free(m->bstart);
    ls_free(m->fe_map);
    ls_rule_free(&m->vrule);
    ls_free(m);
}

/* Resolve the anchors: NULL, "first" or "auto" mean the first K benchmarks
 * here (a fit resolves "auto" from the data before it builds its models). */
static int set_anchors(ls_model *m, const char *anchors, ls_error *err)
{
    const ls_data *d = m->d;
    for (size_t j = 0; j < m->J; j++) m->anchor_of[j] = -1;
    if (!anchors || !*anchors || strcmp(anchors, "first") == 0 || strcmp(anchors, "auto") == 0) {
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
        rc = ls_fail(err, LS_ERR_OPTION, "anchors: expected %zu names (one per skill), found %zu",
                     m->K, n);
        goto done;
    }
    for (size_t k = 0; k < n; k++) {
        size_t j = 0;
        while (j < m->J && strcmp(d->bench[j], v[k]) != 0) j++;
        if (j == m->J) {
            rc = ls_fail(err, LS_ERR_OPTION, "anchors: unknown benchmark '%s'", v[k]);
            goto done;
        }
        if (m->anchor_of[j] >= 0) {
            rc = ls_fail(err, LS_ERR_OPTION, "anchors: '%s' named twice", v[k]);
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
            rc = ls_fail(err, LS_ERR_OPTION, "estimate_ceilings: unknown benchmark '%s'", v[k]);
        else if (kap_of[j] >= 0)
            rc = ls_fail(err, LS_ERR_OPTION, "estimate_ceilings: '%s' named twice", v[k]);
        else
            kap_of[j] = 0;
    }
    ls_strv_free(v, n);
    if (rc) return rc;
    for (size_t j = 0; j < d->J; j++) /* benchmark order, whatever the list's */
        if (kap_of[j] >= 0) kap_of[j] = (long)(*nkap)++;
    return LS_OK;
}

/* Scratch per thread for one family: what lsm_ws_carve carves. */
static size_t scratch_size(const ls_model *m)
{
    size_t K = m->K, J = m->J, n = m->rule.n;
    return 9 * K + 7 * K * K + 5 * J + 2 * n + n * K + 3 * m->maxcell + 2 * J * K +
           (m->rule.v ? n * K + n : 0) + (m->fe ? 2 * J + 2 * n * J + 4 * m->vrule.n + n * J * m->vrule.n : 0) +
           m->maxcell * (sizeof(ls_beta_cell) / sizeof(double));
}

void lsm_ws_carve(const ls_model *m, double *s, fam_ws *w)
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
    w->vm = w->vmap = w->vt = w->vrho = w->vrow = NULL;
    w->vwarm = 0;
    w->vfix = NULL;
    if (m->fe) {
        w->vm = s; s += 2 * J;
        w->vmap = s; s += 2 * n * J;
        w->vt = s; s += 4 * m->vrule.n;
        w->vrho = s; s += n * J * m->vrule.n;
    }
    w->bc = (ls_beta_cell *)(void *)s; /* a struct of doubles only */
    w->floored = 0;
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
                       "skills: K = %zu, but it must be between 1 and the number of benchmarks (%zu)",
                       K, d->J);
    if (K > 40) return ls_fail(err, LS_ERR_OPTION, "skills: at most 40 skills are supported");
    if (threads > 1024) return ls_fail(err, LS_ERR_OPTION, "threads: expected 0..1024, found %u", threads);
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
    /* The likelihood hands families to threads four at a time
     * (ls_model_loglik): more threads than groups of four get no work
     * and only wait at the barrier, which on a loaded machine cost a
     * table of 3 families a minute instead of 0.1 s. */
    size_t groups = (d->F + 3) / 4;
    if (m->threads > groups) m->threads = (unsigned)(groups ? groups : 1);
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

    ls_rule_spec rs = ls_plan_resolve(integration, nodes, K);
    rc = ls_plan_rule_new(&rs, K, &m->rule, err);
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

int ls_model_enable_family_effect(ls_model *m, unsigned nodes, ls_error *err)
{
    if (m->fe) return LS_OK;
    if (ls_model_is_laplace(m))
        return ls_fail(err, LS_ERR_OPTION,
                       "family_effect: the family-by-benchmark effect needs a quadrature rule, not the Laplace "
                       "rule (at most 7 skills, and not integration laplace)");
    const ls_data *d = m->d;
    size_t F = m->F, J = m->J;
    if (nodes > 200) return ls_fail(err, LS_ERR_OPTION, "family effect: at most 200 inner nodes");
    int rc = ls_rule_gh(&m->vrule, 1, nodes ? nodes : LS_FE_NODES, 0, err);
    if (rc) return rc;
    m->fe = 1;
    m->off_t = m->dim;
    m->dim += J;
    ls_free(m->fam_grad);
    ls_free(m->scratch);
    m->fam_grad = ls_calloc(F * m->dim, sizeof(double));
    m->scratch_len = scratch_size(m);
    m->scratch = ls_calloc(m->scratch_len * m->threads, sizeof(double));
    m->tau = ls_calloc(J, sizeof(double));
    m->bcell = ls_calloc(d->ncell + 1, sizeof(size_t));
    m->bstart = ls_calloc(F * (J + 1), sizeof(size_t));
    m->fe_map = ls_calloc(F * m->rule.n * J * 2, sizeof(double));
    size_t *fill = ls_calloc(J, sizeof(size_t));
    if (!m->fam_grad || !m->scratch || !m->tau || !m->bcell || !m->bstart || !m->fe_map || !fill) {
        ls_free(fill);
        return ls_nomem(err);
    }
    /* a counting sort of each family's cells by benchmark (stable: rows in
     * order within a block) */
    for (size_t f = 0; f < F; f++) {
        size_t *st = m->bstart + f * (J + 1), c0 = d->cell_start[f], c1 = d->cell_start[f + 1];
        for (size_t c = c0; c < c1; c++) st[d->cell[c].j + 1]++;
        st[0] = c0;
        for (size_t j = 0; j < J; j++) st[j + 1] += st[j];
        for (size_t j = 0; j < J; j++) fill[j] = st[j];
        for (size_t c = c0; c < c1; c++) m->bcell[fill[d->cell[c].j]++] = c;
    }
    ls_free(fill);
    for (size_t j = 0; j < J; j++) m->tau[j] = LS_FE_TAU0;
    return LS_OK;
}

int ls_model_family_effect(const ls_model *m) { return m->fe; }

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
    /* signed: u = tau v with v symmetric, so tau and -tau are one model and
     * tau = 0 is an interior point (model.h) */
    for (size_t j = 0; m->fe && j < J; j++) m->tau[j] = th[m->off_t + j];
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
    pr->family_effect = m->fe;
    for (size_t j = 0; pr->tau && j < J; j++) pr->tau[j] = m->fe ? fabs(th[m->off_t + j]) : 0;
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
    for (size_t j = 0; m->fe && j < J; j++) {
        double t = pr->tau && pr->family_effect ? pr->tau[j] : LS_FE_TAU0;
        if (!(t >= 0 && isfinite(t)))
            return ls_fail(err, LS_ERR_INPUT, "family effect sd of '%s' must be finite and not negative",
                           m->d->bench[j]);
        th[m->off_t + j] = t;
    }
    return LS_OK;
}
/* ---------------------------------------------------------------- */
/* Through these the rest of the library uses the model              */
/* ---------------------------------------------------------------- */

void ls_model_layout(const ls_model *m, ls_layout *out)
{
    out->K = m->K;
    out->J = m->J;
    out->p = m->p;
    out->dim = m->dim;
    out->hetero = m->hetero;
    out->nkap = m->nkap;
    out->anchor = m->anchor;
    out->anchor_of = m->anchor_of;
    out->lam_off = m->lam_off;
    out->kap_of = m->kap_of;
    out->off_b = m->off_b;
    out->off_phi = m->off_phi;
    out->off_w = m->off_w;
    out->off_g = m->off_g;
    out->off_k = m->off_k;
    out->fe = m->fe;
    out->off_t = m->off_t;
}

const ls_data *ls_model_data(const ls_model *m) { return m->d; }

int ls_model_is_laplace(const ls_model *m) { return m->rule.n == 1; }
int ls_model_is_sampled(const ls_model *m) { return m->rule.v != NULL; }
const char *ls_model_rule_kind(const ls_model *m) { return m->rule.kind; }
void ls_model_set_freeze(ls_model *m, int on) { m->freeze = on; }
void ls_model_set_logit_clamp(ls_model *m, double c) { m->eta_clamp = c; }
void ls_model_reset_modes(ls_model *m) { memset(m->zmode, 0, m->F * m->K * sizeof(double)); }
void ls_model_set_control_variate(ls_model *m, int on) { m->cv = on; }
void ls_model_set_families(ls_model *m, const unsigned char *only) { m->only = only; }
void ls_model_set_laplace_floor(ls_model *m, double d) { m->lap_floor = d; }
void ls_model_reseed(ls_model *m, uint64_t salt) { m->rule.seed ^= salt; }

double ls_model_family_loglik(const ls_model *m, size_t f, double *se)
{
    if (se) *se = m->rule.v ? m->fam_se[f] : NAN;
    return m->fam_ll[f];
}

const double *ls_model_family_score(const ls_model *m, size_t f) { return m->fam_grad + f * m->dim; }

void ls_model_family_map(const ls_model *m, size_t f, ls_family_map *out)
{
    size_t K = m->K;
    out->mode = m->zmode + f * K;
    out->chol = m->fam_chol + f * K * K;
    out->center = m->fam_center + f * K;
    out->A = m->fam_map + f * K * K;
    out->logdet = m->fam_logdet[f];
}

const double *ls_model_sigma_chol(const ls_model *m) { return m->L; }

void ls_model_z_to_alpha(const ls_model *m, const double *z, double *alpha)
{
    size_t K = m->K;
    for (size_t k = 0; k < K; k++) {
        double v = 0;
        for (size_t l = 0; l <= k; l++) v += m->L[k * K + l] * z[l];
        alpha[k] = v;
    }
}

void ls_model_skills_at(const ls_model *m, const double *x, double *skills)
{
    size_t K = m->K, p = m->p;
    for (size_t k = 0; k < K; k++) {
        double v = 0;
        for (size_t q = 0; q < p; q++) v += x[q] * m->B[q * K + k];
        skills[k] = v;
    }
}

double ls_model_mean_score(const ls_model *m, size_t j, const double *skills)
{
    return ls_model_mean_score_shift(m, j, skills, 0);
}

double ls_model_mean_score_shift(const ls_model *m, size_t j, const double *skills, double shift)
{
    size_t K = m->K, J = m->J;
    double eta = m->b[j] + shift;
    for (size_t k = 0; k < K; k++) eta += m->lam[k * J + j] * skills[k];
    if (m->eta_clamp > 0) eta = fmax(-m->eta_clamp, fmin(m->eta_clamp, eta));
    double c = m->d->floor[j];
    return c + (m->ceil[j] - c) * ls_logistic(eta);
}

double ls_model_precision(const ls_model *m, size_t j) { return m->phi[j]; }

double ls_model_precision_shift(const ls_model *m, const double *theta, const double *x)
{
    double s = 0;
    for (size_t q = 0; m->hetero && q < m->p; q++) s += theta[m->off_g + q] * x[q];
    return s;
}
