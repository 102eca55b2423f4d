/*
 * value.c -- the marginal log-likelihood of the scaling law and its
 * gradient (Fisher's identity under the adaptive nodes; model_impl.h):
 * one family on its node map, and all families in parallel, summed in
 * family order.
 */
#include "scaling/model_impl.h"
#include "kernel/linalg.h"

#include <omp.h>
#include <stdint.h>
#include <string.h>

/* The score of family f's log-likelihood, assembled from per-cell weights
 * e_c (of d loglik / d eta) and dl_c (of d loglik / d log phi) and per
 * benchmark Zhat_j (K: the weighted sum of d loglik / d eta times z over
 * the family's cells of j): with posterior weights this is the gradient
 * (Fisher's identity), with one node's values the complete-data score.
 * GL: K x K scratch. */
void lsm_assemble_score(const ls_model *m, size_t f, const double *e, const double *dl, const double *dk,
                        const double *Zhat, double *GL, double *gr)
{
    lsm_assemble_part(m, f, SIZE_MAX, e, dl, dk, Zhat, GL, gr);
}

/* The same from the cells of one benchmark jb only (jb = SIZE_MAX: all of
 * the family's cells; with the family effect's block index, m->bcell). */
void lsm_assemble_part(const ls_model *m, size_t f, size_t jb, const double *e, const double *dl, const double *dk,
                       const double *Zhat, double *GL, double *gr)
{
    const ls_data *d = m->d;
    size_t K = m->K, J = m->J, p = m->p;
    size_t c0 = d->cell_start[f], nc = d->cell_start[f + 1] - c0;
    const size_t *st = jb == SIZE_MAX ? NULL : m->bstart + f * (J + 1);
    size_t b0 = st ? st[jb] : 0, b1 = st ? st[jb + 1] : nc;
    size_t j0 = st ? jb : 0, j1 = st ? jb + 1 : J;
    memset(gr, 0, m->dim * sizeof(double));
    for (size_t b = b0; b < b1; b++) {
        size_t c = st ? m->bcell[b] - c0 : b;
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
    for (size_t j = j0; j < j1; j++) {
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
    for (size_t j = j0; j < j1; j++)
        if (m->anchor_of[j] >= 0) gr[m->lam_off[j]] *= m->lam[(size_t)m->anchor_of[j] * J + j];
    /* d/dv_km = sum_l G_kl dL_kl / dv_km */
    double *gw = gr + m->off_w;
    for (size_t k = 1, q = 0; k < K; k++)
        for (size_t mm = 0; mm < k; mm++, q++) gw[q] = lsm_dL_dot(m, k, mm, GL + k * K);
}

/* Pass 2 with the family effect: the posterior weights of the nested
 * rule are pi_q rho_qjk (outer node q, inner node k of block j, each
 * block's inner map as placed), the complete-data eta_c = eta0_c + a_j . z_q
 * + tau_j v_k, and d eta / d tau_j = v (tau_j signed, model.h). */
static void family_effect_scores(ls_model *m, size_t f, const double *t, double lse, fam_ws *w)
{
    const ls_data *d = m->d;
    size_t K = m->K, J = m->J, n = m->rule.n, nv = m->vrule.n;
    size_t c0 = d->cell_start[f], nc = d->cell_start[f + 1] - c0;
    const size_t *st = m->bstart + f * (J + 1);
    double *gtau = w->Hj;
    memset(w->ebar, 0, nc * sizeof(double));
    memset(w->dbar, 0, nc * sizeof(double));
    memset(w->kbar, 0, nc * sizeof(double));
    memset(w->Zhat, 0, J * K * sizeof(double));
    memset(gtau, 0, J * sizeof(double));
    int want = 1 | 2 | (m->nkap ? 32 : 0);
    ls_beta_cell bc;
    for (size_t q = 0; q < n; q++) {
        double pq = exp(t[q] - lse);
        if (pq < WEIGHT_CUT) continue;
        if (m->rule.sg) pq *= m->rule.sg[q];
        const double *zq = w->zk + q * K, *vmq = w->vmap + q * 2 * J;
        lsm_random_part(m, zq, w->r);
        for (size_t j = 0; j < J; j++) {
            if (st[j] == st[j + 1]) continue;
            const double *rq = w->vrho + (q * J + j) * nv; /* as placed */
            double tau = m->tau[j], gsum = 0;
            for (size_t k = 0; k < nv; k++) {
                double rho = rq[k];
                if (rho < WEIGHT_CUT) continue;
                double v = vmq[2 * j] + vmq[2 * j + 1] * m->vrule.u[k], wq = pq * rho, S = 0;
                for (size_t b = st[j]; b < st[j + 1]; b++) {
                    size_t c = m->bcell[b];
                    lsm_cell_eval(m, m->eta0[c] + w->r[j] + tau * v, &d->cell[c], want, &bc);
                    w->ebar[c - c0] += wq * bc.d_eta;
                    w->dbar[c - c0] += wq * bc.d_lphi;
                    if (want & 32) w->kbar[c - c0] += wq * bc.d_d;
                    S += bc.d_eta;
                }
                gsum += rho * S;
                gtau[j] += wq * S * v;
            }
            for (size_t k = 0; k < K; k++) w->Zhat[j * K + k] += pq * gsum * zq[k];
        }
    }
    double *gr = m->fam_grad + f * m->dim;
    lsm_assemble_score(m, f, w->ebar, w->dbar, w->kbar, w->Zhat, w->GL, gr);
    for (size_t j = 0; j < J; j++) gr[m->off_t + j] = gtau[j];
}

/* log L_f and (if grad) its gradient into m->fam_grad[f]. */
int lsm_family_eval(ls_model *m, size_t f, int want_grad, fam_ws *w)
{
    const ls_data *d = m->d;
    size_t K = m->K, J = m->J, n = m->rule.n;
    double *A = w->H, *ctr = w->v, logdet;
    double *t = w->hk, *pi = w->hk + n;
    w->vwarm = 0;
    if (m->freeze) { /* node map held fixed: the sum is then a smooth function of theta */
        memcpy(A, m->fam_map + f * K * K, K * K * sizeof(double));
        memcpy(ctr, m->fam_center + f * K, K * sizeof(double));
        logdet = m->fam_logdet[f];
        lsm_place_nodes(m, f, A, ctr, w);
    } else if (ls_model_is_laplace(m)) {
        return lsm_laplace_family(m, f, want_grad, w);
    } else {
        memcpy(w->z, m->zmode + f * K, K * sizeof(double));
        int nf = lsm_fam_mode(m, f, w);
        m->fam_newton_fail[f] = nf;
        if (nf == 2) return LS_ERR_NUMERIC;
        memcpy(m->zmode + f * K, w->z, K * sizeof(double));
        memcpy(m->fam_chol + f * K * K, w->R, K * K * sizeof(double));
        lsm_laplace_map(m, w, A);
        memcpy(ctr, w->z, K * sizeof(double));
        logdet = -ls_chol_logdet_half(w->R, K);
        lsm_place_nodes(m, f, A, ctr, w);
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
    if (m->fe) {
        family_effect_scores(m, f, t, lse, w);
        return LS_OK;
    }
    for (size_t q = 0; q < n; q++) {
        pi[q] = exp(t[q] - lse);
        if (pi[q] < WEIGHT_CUT) continue;
        if (m->rule.sg) pi[q] *= m->rule.sg[q];
        const double *zq = w->zk + q * K;
        lsm_random_part(m, zq, w->r);
        memset(w->Gj, 0, J * sizeof(double));
        for (size_t c = 0; c < nc; c++) {
            const ls_cell *cl = &d->cell[c0 + c];
            size_t j = cl->j;
            lsm_cell_eval(m, m->eta0[c0 + c] + w->r[j], cl, want, &bc);
            w->ebar[c] += pi[q] * bc.d_eta;
            w->dbar[c] += pi[q] * bc.d_lphi;
            if (want & 32) w->kbar[c] += pi[q] * bc.d_d;
            w->Gj[j] += bc.d_eta;
        }
        for (size_t j = 0; j < J; j++)
            if (w->Gj[j] != 0)
                for (size_t k = 0; k < K; k++) w->Zhat[j * K + k] += pi[q] * w->Gj[j] * zq[k];
    }

    lsm_assemble_score(m, f, w->ebar, w->dbar, w->kbar, w->Zhat, w->GL, m->fam_grad + f * m->dim);
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
        lsm_ws_carve(m, m->scratch + (size_t)omp_get_thread_num() * m->scratch_len, &w);
#pragma omp for schedule(dynamic, 4)
        for (long f = 0; f < F; f++) {
            if (m->only && !m->only[f]) continue;
            if (lsm_family_eval(m, (size_t)f, grad != NULL, &w) != LS_OK) {
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
