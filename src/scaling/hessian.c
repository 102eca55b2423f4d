/*
 * hessian.c -- the Hessian of the scaling law's log-likelihood with the
 * node map held fixed (Louis' identity for the quadrature sum;
 * model_impl.h): Newton's Hessian and the observed information.
 */
#include "scaling/model_impl.h"
#include "kernel/linalg.h"

#include <omp.h>
#include <string.h>

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
    /* the family effect: per cell the moments of h_eta t (1, z), h_el t,
     * h_ed v (v = d eta / d tau_j, tau_j signed); per benchmark the tau-tau
     * moment and the node's conditional tau score; the cells' first
     * derivatives at each inner node (3 x nv x maxcell); deviations of one
     * block (zero outside it), its score vector and coordinates */
    double *mt0, *mt1, *lt, *kt, *ttj, *Tq, *kv, *de, *dd, *dk, *Zd, *sv;
    size_t *bidx;
} hess_ws;

static void hess_ws_free(hess_ws *h)
{
    ls_free(h->S); ls_free(h->pis); ls_free(h->ec); ls_free(h->dc); ls_free(h->Zq);
    ls_free(h->kc); ls_free(h->k0); ls_free(h->k1); ls_free(h->kk); ls_free(h->kl); ls_free(h->kd);
    ls_free(h->gbar); ls_free(h->Sc); ls_free(h->ebar); ls_free(h->m0); ls_free(h->n0);
    ls_free(h->l0); ls_free(h->m1); ls_free(h->n1); ls_free(h->M2); ls_free(h->M2j);
    ls_free(h->Zhat); ls_free(h->GL); ls_free(h->T); ls_free(h->tmp);
    ls_free(h->act); ls_free(h->mark);
    ls_free(h->mt0); ls_free(h->mt1); ls_free(h->lt); ls_free(h->kt); ls_free(h->ttj); ls_free(h->Tq);
    ls_free(h->kv); ls_free(h->de); ls_free(h->dd); ls_free(h->dk); ls_free(h->Zd); ls_free(h->sv);
    ls_free(h->bidx);
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
    if (m->fe) {
        size_t nv = m->vrule.n;
        h->mt0 = ls_calloc(mc, sizeof(double));
        h->mt1 = ls_calloc(mc * K, sizeof(double));
        h->lt = ls_calloc(mc, sizeof(double));
        h->kt = ls_calloc(mc, sizeof(double));
        h->ttj = ls_calloc(J, sizeof(double));
        h->Tq = ls_calloc(J, sizeof(double));
        h->kv = ls_calloc(3 * nv * mc, sizeof(double));
        h->de = ls_calloc(mc, sizeof(double));
        h->dd = ls_calloc(mc, sizeof(double));
        h->dk = ls_calloc(mc, sizeof(double));
        h->Zd = ls_calloc(J * K, sizeof(double));
        h->sv = ls_calloc(dim, sizeof(double));
        h->bidx = ls_calloc(dim, sizeof(size_t));
        bad |= !h->mt0 || !h->mt1 || !h->lt || !h->kt || !h->ttj || !h->Tq || !h->kv || !h->de || !h->dd ||
               !h->dk || !h->Zd || !h->sv || !h->bidx;
    }
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

/* The family effect at outer node q (posterior weight pq, signed): each
 * block's inner weights rho_k (as placed) give the conditional means of
 * the cells' first derivatives (ec, dc, kc; G_j and the tau score Tq_j),
 * whose assembly is the node's score; the moments of the complete-data
 * Hessian accumulate under pq rho_k with eta_c + tau_j v_k (d eta / d
 * tau_j = v_k, d2 eta / d tau_j^2 = 0); and
 * each block's inner covariance of the complete-data scores,
 * pq sum_k rho_k (s_k - sbar)(s_k - sbar)^T, goes into Hf.  (Louis'
 * identity one level down: given z_q the blocks are independent, so the
 * nested posterior's score variance is the outer variance of the
 * conditional means plus the mean of the blocks' inner variances.) */
static void fe_node(const ls_model *m, size_t f, size_t q, double pq, const double *zq, fam_ws *w, hess_ws *h,
                    double *Hf)
{
    const ls_data *d = m->d;
    size_t K = m->K, J = m->J, p = m->p, nv = m->vrule.n, dim = m->dim;
    size_t c0 = d->cell_start[f];
    const size_t *st = m->bstart + f * (J + 1);
    const double *vmq = w->vmap + q * 2 * J;
    int want = 1 | 2 | 4 | 8 | (m->nkap ? 32 | 64 : 0);
    ls_beta_cell bc;
    for (size_t j = 0; j < J; j++) {
        w->Gj[j] = h->Tq[j] = 0;
        size_t b0 = st[j], b1 = st[j + 1], nb = b1 - b0;
        if (!nb) continue;
        const double *rq = w->vrho + (q * J + j) * nv;
        double tau = m->tau[j];
        int kap = m->kap_of[j] >= 0;
        for (size_t b = b0; b < b1; b++) {
            size_t c = m->bcell[b] - c0;
            h->ec[c] = h->dc[c] = h->kc[c] = 0;
        }
        for (size_t k = 0; k < nv; k++) {
            double rho = rq[k];
            if (rho < WEIGHT_CUT) continue;
            double v = vmq[2 * j] + vmq[2 * j + 1] * m->vrule.u[k], t = tau * v, wq = pq * rho, S = 0, tt = 0;
            double *kv = h->kv + 3 * k * nb;
            for (size_t b = b0; b < b1; b++) {
                size_t c = m->bcell[b] - c0;
                lsm_cell_eval(m, m->eta0[c0 + c] + w->r[j] + t, &d->cell[c0 + c], want, &bc);
                double *kb = kv + 3 * (b - b0);
                kb[0] = bc.d_eta;
                kb[1] = bc.d_lphi;
                kb[2] = kap ? bc.d_d : 0;
                h->ec[c] += rho * kb[0];
                h->dc[c] += rho * kb[1];
                h->kc[c] += rho * kb[2];
                S += bc.d_eta;
                tt += bc.h_eta * v * v;
                h->ebar[c] += wq * bc.d_eta;
                double he = wq * bc.h_eta, hl = wq * bc.h_el;
                h->m0[c] += he;
                h->n0[c] += hl;
                h->l0[c] += wq * bc.h_ll;
                h->mt0[c] += he * v;
                h->lt[c] += hl * v;
                double *m1 = h->m1 + c * K, *n1 = h->n1 + c * K, *M2 = h->M2 + c * K * K, *mt1 = h->mt1 + c * K;
                for (size_t l = 0; l < K; l++) {
                    double hz = he * zq[l];
                    m1[l] += hz;
                    n1[l] += hl * zq[l];
                    mt1[l] += hz * v;
                    for (size_t l2 = 0; l2 <= l; l2++) M2[l * K + l2] += hz * zq[l2];
                }
                if (kap) {
                    h->k0[c] += wq * bc.h_ed;
                    for (size_t l = 0; l < K; l++) h->k1[c * K + l] += wq * bc.h_ed * zq[l];
                    h->kk[c] += wq * bc.h_dd;
                    h->kl[c] += wq * bc.h_ld;
                    h->kd[c] += wq * bc.d_d;
                    h->kt[c] += wq * bc.h_ed * v;
                }
            }
            w->Gj[j] += rho * S;
            h->Tq[j] += rho * S * v;
            h->ttj[j] += wq * tt;
        }
        /* the block's coordinates: B, lambda_j, b_j, log phi_j, w and
         * gamma, kappa_j, tau_j */
        size_t na = 0, nl = m->anchor_of[j] >= 0 ? 1 : K;
        for (size_t i = 0; i < p * K; i++) h->bidx[na++] = i;
        for (size_t l = 0; l < nl; l++) h->bidx[na++] = m->lam_off[j] + l;
        h->bidx[na++] = m->off_b + j;
        h->bidx[na++] = m->off_phi + j;
        for (size_t i = m->off_w; i < m->off_k; i++) h->bidx[na++] = i;
        if (kap) h->bidx[na++] = m->off_k + (size_t)m->kap_of[j];
        h->bidx[na++] = m->off_t + j;
        for (size_t k = 0; k < nv; k++) {
            double rho = rq[k];
            if (rho < WEIGHT_CUT) continue;
            double v = vmq[2 * j] + vmq[2 * j + 1] * m->vrule.u[k], Sk = 0;
            const double *kv = h->kv + 3 * k * nb;
            for (size_t b = b0; b < b1; b++) {
                size_t c = m->bcell[b] - c0;
                const double *kb = kv + 3 * (b - b0);
                h->de[c] = kb[0] - h->ec[c];
                h->dd[c] = kb[1] - h->dc[c];
                h->dk[c] = kb[2] - h->kc[c];
                Sk += kb[0];
            }
            for (size_t l = 0; l < K; l++) h->Zd[j * K + l] = (Sk - w->Gj[j]) * zq[l];
            lsm_assemble_part(m, f, j, h->de, h->dd, h->dk, h->Zd, h->GL, h->sv);
            h->sv[m->off_t + j] = Sk * v - h->Tq[j];
            double wk = pq * rho;
            for (size_t a = 0; a < na; a++) {
                double sa = wk * h->sv[h->bidx[a]];
                if (sa == 0) continue;
                for (size_t b = a; b < na; b++) add_pair(Hf, dim, h->bidx[a], h->bidx[b], sa * h->sv[h->bidx[b]]);
            }
        }
    }
}

/* Hessian of log L_f (frozen nodes) into Hf (dim x dim, zeroed here). */
static int family_hessian(ls_model *m, size_t f, const hess_P *hp, fam_ws *w, hess_ws *h, double *Hf)
{
    const ls_data *d = m->d;
    size_t K = m->K, J = m->J, p = m->p, n = m->rule.n, dim = m->dim;
    size_t c0 = d->cell_start[f], nc = d->cell_start[f + 1] - c0;
    memset(Hf, 0, dim * dim * sizeof(double));
    lsm_place_nodes(m, f, m->fam_map + f * K * K, m->fam_center + f * K, w);
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
    if (m->fe) {
        memset(h->mt0, 0, nc * sizeof(double));
        memset(h->mt1, 0, nc * K * sizeof(double));
        memset(h->lt, 0, nc * sizeof(double));
        memset(h->kt, 0, nc * sizeof(double));
        memset(h->ttj, 0, J * sizeof(double));
    }
    size_t nu = 0;
    ls_beta_cell bc;
    int want = 1 | 2 | 4 | 8 | (m->nkap ? 32 | 64 : 0);
    for (size_t q = 0; q < n; q++) {
        double pq = exp(w->hk[q] - lse);
        if (pq < WEIGHT_CUT) continue;
        if (m->rule.sg) pq *= m->rule.sg[q];
        const double *zq = w->zk + q * K;
        lsm_random_part(m, zq, w->r);
        memset(w->Gj, 0, J * sizeof(double));
        if (m->fe) fe_node(m, f, q, pq, zq, w, h, Hf);
        for (size_t c = 0; !m->fe && c < nc; c++) {
            const ls_cell *cl = &d->cell[c0 + c];
            size_t j = cl->j;
            lsm_cell_eval(m, m->eta0[c0 + c] + w->r[j], cl, want, &bc);
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
        lsm_assemble_score(m, f, h->ec, h->dc, h->kc, h->Zq, h->GL, sq);
        for (size_t j = 0; m->fe && j < J; j++) sq[m->off_t + j] = h->Tq[j];
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
        if (m->fe) { /* tau_j against eta's other coordinates, log phi and kappa */
            size_t it = m->off_t + j;
            for (size_t x = 0; x < j0->n; x++) add_pair(Hf, dim, j0->i[x], it, h->mt0[c] * j0->v[x]);
            const double *mt1 = h->mt1 + c * K;
            for (size_t r = 0; r < nr; r++) {
                double s = 0;
                for (size_t l = 0; l < K; l++) s += Pj[r * K + l] * mt1[l];
                add_pair(Hf, dim, pidx[r], it, s);
            }
            for (size_t x = 0; x < u->n; x++) add_pair(Hf, dim, u->i[x], it, h->lt[c] * u->v[x]);
            if (m->kap_of[j] >= 0) add_pair(Hf, dim, m->off_k + (size_t)m->kap_of[j], it, h->kt[c] * m->dceil[j]);
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
        if (m->fe) add_pair(Hf, dim, m->off_t + j, m->off_t + j, h->ttj[j]);
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
                         la * lsm_dL_dot(m, (size_t)a, mm, Zh));
        } else
            for (size_t k = 1; k < K; k++)
                for (size_t mm = 0; mm < k; mm++)
                    add_pair(Hf, dim, m->lam_off[j] + k, m->off_w + k * (k - 1) / 2 + mm,
                             lsm_dL_dot(m, k, mm, Zh));
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
    /* the family effect: the inner maps held too (those of the last
     * adapted evaluation, as the frozen objective's) */
    int saved_freeze = m->freeze;
    if (m->fe) m->freeze = 1;
    unsigned nt = m->threads;
    size_t nb = 4 * (size_t)nt;
    hess_ws *hw = ls_calloc(nt, sizeof *hw);
    double *buf = ls_calloc(nb * dim * dim, sizeof(double));
    if (!hw || !buf) {
        ls_free(hw);
        ls_free(buf);
        m->freeze = saved_freeze;
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
            lsm_ws_carve(m, m->scratch + (size_t)t * m->scratch_len, &w);
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
    m->freeze = saved_freeze;
    return rc;
}
