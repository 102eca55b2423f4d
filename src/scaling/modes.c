/*
 * modes.c -- family posteriors (model_impl.h): the mode of h_f by Newton,
 * the curvature there, the node map and the nodes it places, the Laplace
 * rule re-adapted (value, floored log determinant, the gradient's motion
 * terms), and the posterior quantities the tasks read.
 */
#include "scaling/model_impl.h"
#include "kernel/linalg.h"

#include <string.h>

#define NEWTON_MAX 60
#define NEWTON_TOL 1e-9

/* ---------------------------------------------------------------- */
/* The mode, the curvature there and the node map                    */
/* ---------------------------------------------------------------- */

/* ---------------------------------------------------------------- */
/* The family effect: one-dimensional blocks                         */
/* ---------------------------------------------------------------- */

#define BLOCK_NEWTON_MAX 50
#define BLOCK_NEWTON_TOL 1e-7 /* the step before: the error after it is its square */

/* The block's log integrand in v without the rule's normal constant:
 * sum_c log Beta(eta0_c + r + tau v) - v^2 / 2, and (want) the sums of the
 * cells' d_eta, h_eta, f_eta. */
static double block_g(const ls_model *m, size_t b0, size_t b1, double r, double tau, double v, int want,
                      double *s1, double *s2, double *sf)
{
    double g = -0.5 * v * v, a1 = 0, a2 = 0, af = 0;
    ls_beta_cell bc;
    for (size_t b = b0; b < b1; b++) {
        size_t c = m->bcell[b];
        g += lsm_cell_eval(m, m->eta0[c] + r + tau * v, &m->d->cell[c], want ? 1 | 4 : 0, &bc);
        if (want) {
            a1 += bc.d_eta;
            a2 += bc.h_eta;
            af += bc.f_eta;
        }
    }
    if (want) {
        *s1 = a1;
        *s2 = a2;
        *sf = af;
    }
    return g;
}

double lsm_block_weights(const ls_model *m, size_t f, size_t j, double r, const double *vm, fam_ws *w)
{
    const size_t *st = m->bstart + f * (m->J + 1);
    size_t b0 = st[j], b1 = st[j + 1], n = m->vrule.n;
    double tau = m->tau[j];
    for (size_t k = 0; k < n; k++)
        w->vt[k] = m->vrule.lw[k] + block_g(m, b0, b1, r, tau, vm[0] + vm[1] * m->vrule.u[k], 0, NULL, NULL, NULL);
    double lse = ls_logsumexp(w->vt, n);
    for (size_t k = 0; k < n; k++) w->vt[k] = exp(w->vt[k] - lse);
    return log(vm[1]) + lse - 0.5 * LOG_2PI;
}

double lsm_block(const ls_model *m, size_t f, size_t j, double r, int want, double *G, double *H, double *Fi,
                 double *vm, fam_ws *w)
{
    const size_t *st = m->bstart + f * (m->J + 1);
    size_t b0 = st[j], b1 = st[j + 1];
    if (b0 == b1) { /* no cells: the integral of the prior (its weights unused) */
        vm[0] = 0;
        vm[1] = 1;
        if (want) *G = *H = *Fi = 0;
        return 0;
    }
    if (w->vfix && !want) { /* a frozen evaluation: the stored map */
        vm[0] = w->vfix[2 * j];
        vm[1] = w->vfix[2 * j + 1];
        double val = lsm_block_weights(m, f, j, r, vm, w);
        if (w->vrow) memcpy(w->vrow + j * m->vrule.n, w->vt, m->vrule.n * sizeof(double));
        return val;
    }
    double tau = m->tau[j], v = w->vwarm ? vm[0] : 0, s1, s2, sf, curv = 1;
    /* Newton from the family's last inner mode (w->vwarm) or v = 0, Fisher
     * scoring where the observed
     * curvature is not positive, steps capped and halved until g rises */
    double g = block_g(m, b0, b1, r, tau, v, 1, &s1, &s2, &sf);
    for (int it = 0; it < BLOCK_NEWTON_MAX; it++) {
        curv = 1 - tau * tau * s2;
        if (!(curv > 1e-3)) curv = 1 + tau * tau * sf;
        double step = (tau * s1 - v) / curv;
        if (!isfinite(step)) break;
        if (fabs(step) > 3) step = step > 0 ? 3 : -3;
        double vn = v, gn = g, a1 = s1, a2 = s2, af = sf;
        int moved = 0;
        for (int ls = 0; ls < 40; ls++, step *= 0.5) {
            vn = v + step;
            gn = block_g(m, b0, b1, r, tau, vn, 1, &a1, &a2, &af);
            if (gn >= g - 1e-13 * fabs(g)) { moved = 1; break; }
        }
        if (!moved) break;
        v = vn;
        g = gn;
        s1 = a1;
        s2 = a2;
        sf = af;
        if (fabs(step) < BLOCK_NEWTON_TOL) break;
    }
    curv = 1 - tau * tau * s2;
    if (!(curv > 1e-2)) curv = 1 + tau * tau * sf;
    vm[0] = v;
    vm[1] = 1 / sqrt(curv);
    if (!want) {
        double val = lsm_block_weights(m, f, j, r, vm, w);
        if (w->vrow) memcpy(w->vrow + j * m->vrule.n, w->vt, m->vrule.n * sizeof(double));
        return val;
    }
    /* the nodes' values and sums in one pass */
    size_t n = m->vrule.n;
    double *S1 = w->vt + n, *S2 = w->vt + 2 * n, *SF = w->vt + 3 * n;
    for (size_t k = 0; k < n; k++)
        w->vt[k] = m->vrule.lw[k] +
                   block_g(m, b0, b1, r, tau, vm[0] + vm[1] * m->vrule.u[k], 1, S1 + k, S2 + k, SF + k);
    double lse = ls_logsumexp(w->vt, n), e1 = 0, e2 = 0, ef = 0, e11 = 0;
    for (size_t k = 0; k < n; k++) {
        double rho = exp(w->vt[k] - lse);
        e1 += rho * S1[k];
        e11 += rho * S1[k] * S1[k];
        e2 += rho * S2[k];
        ef += rho * SF[k];
    }
    *G = e1;
    *H = e2 + e11 - e1 * e1;
    *Fi = ef / (1 + tau * tau * ef);
    return log(vm[1]) + lse - 0.5 * LOG_2PI;
}

/* h_f(z) without the constant -K/2 log 2 pi; with derivatives when want. */
double lsm_fam_h(const ls_model *m, size_t f, const double *z, int want, fam_ws *w)
{
    const ls_data *d = m->d;
    size_t K = m->K, J = m->J;
    lsm_random_part(m, z, w->r);
    if (want)
        for (size_t j = 0; j < J; j++) w->Gj[j] = w->Hj[j] = w->Fj[j] = 0;
    double h = 0;
    if (m->fe) {
        for (size_t j = 0; j < J; j++)
            h += lsm_block(m, f, j, w->r[j], want, w->Gj + j, w->Hj + j, w->Fj + j, w->vm + 2 * j, w);
        w->vwarm = 1;
        for (size_t k = 0; k < K; k++) h -= 0.5 * z[k] * z[k];
        return h;
    }
    ls_beta_cell bc;
    for (size_t c = d->cell_start[f]; c < d->cell_start[f + 1]; c++) {
        const ls_cell *cl = &d->cell[c];
        size_t j = cl->j;
        h += lsm_cell_eval(m, m->eta0[c] + w->r[j], cl, want ? 1 | 4 : 0, &bc);
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
void lsm_laplace_map(const ls_model *m, fam_ws *w, double *A)
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
 * the iterate before the last step: lsm_laplace_family re-evaluates it).
 * Returns 0, or 1 when Newton did not reach its tolerance (the last iterate
 * is still usable). */
int lsm_fam_mode(const ls_model *m, size_t f, fam_ws *w)
{
    size_t K = m->K;
    int ok = 0;
    /* a stale warm start (the parameters moved far) can be worse than the
     * prior mean: start from whichever is higher */
    double h0 = lsm_fam_h(m, f, w->z, 0, w);
    memset(w->zn, 0, K * sizeof(double));
    double hz = lsm_fam_h(m, f, w->zn, 0, w);
    if (!(h0 >= hz)) memset(w->z, 0, K * sizeof(double));
    for (int it = 0; it < NEWTON_MAX; it++) {
        double h = lsm_fam_h(m, f, w->z, 1, w);
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
             * carries the stopping tolerance's 1e-9 noise; lsm_laplace_family
             * evaluates the curvature there (w->R is left one step behind) */
            if (ls_model_is_laplace(m))
                for (size_t k = 0; k < K; k++) w->z[k] += w->step[k];
            break;
        }
        double t = smax > 5 ? 5 / smax : 1;
        int moved = 0;
        for (int ls = 0; ls < 50; ls++, t *= 0.5) {
            for (size_t k = 0; k < K; k++) w->zn[k] = w->z[k] + t * w->step[k];
            double hn = lsm_fam_h(m, f, w->zn, 0, w);
            if (hn >= h - 1e-12 * fabs(h)) { moved = 1; break; }
        }
        if (!moved) { ok = 1; break; } /* no ascent left at machine precision */
        memcpy(w->z, w->zn, K * sizeof(double));
        if (t * smax < NEWTON_TOL) { ok = 1; break; }
    }
    if (!ok) {
        /* curvature at the final iterate for the node map */
        lsm_fam_h(m, f, w->z, 1, w);
        if (curvature_chol(m, w) == 2) return 2;
    }
    return ok ? 0 : 1;
}

/* Nodes z_q = c + A u_q and their log terms t_q = lw_q + h_f(z_q). */
void lsm_place_nodes(const ls_model *m, size_t f, const double *A, const double *c, fam_ws *w)
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
        double *fm = m->fe ? m->fe_map + (f * n + q) * 2 * m->J : NULL;
        if (m->fe) {
            w->vrow = w->vrho + q * m->J * m->vrule.n;
            w->vfix = m->freeze ? fm : NULL;
        }
        w->hk[q] = LW[q] + lsm_fam_h(m, f, zq, 0, w) - 0.5 * (double)K * LOG_2PI;
        if (m->fe) {
            memcpy(w->vmap + q * 2 * m->J, w->vm, 2 * m->J * sizeof(double));
            if (!m->freeze) memcpy(fm, w->vm, 2 * m->J * sizeof(double));
            w->vrow = NULL;
            w->vfix = NULL;
        }
        if (m->cv) { /* the control variate: the normal density at u */
            double uu = 0;
            for (size_t l = 0; l < K; l++) uu += u[l] * u[l];
            w->hk[n + q] = LW[q] - 0.5 * uu - 0.5 * (double)K * LOG_2PI;
        }
    }
}

/* ---------------------------------------------------------------- */
/* The Laplace rule re-adapted                                       */
/* ---------------------------------------------------------------- */

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
int lsm_laplace_family(ls_model *m, size_t f, int want_grad, fam_ws *w)
{
    const ls_data *d = m->d;
    size_t K = m->K, J = m->J;
    memcpy(w->z, m->zmode + f * K, K * sizeof(double));
    int nf = lsm_fam_mode(m, f, w);
    m->fam_newton_fail[f] = nf;
    if (nf == 2) return LS_ERR_NUMERIC;
    memcpy(m->zmode + f * K, w->z, K * sizeof(double));
    const double *z = w->z;
    lsm_random_part(m, z, w->r);
    memset(w->Hj, 0, J * sizeof(double));
    memset(w->Fj, 0, J * sizeof(double));
    size_t c0 = d->cell_start[f], nc = d->cell_start[f + 1] - c0;
    int want = want_grad ? 1 | 2 | 4 | 8 | 16 | (m->nkap ? 32 | 64 : 0) : 1 | 4;
    double h = 0;
    for (size_t c = 0; c < nc; c++) {
        const ls_cell *cl = &d->cell[c0 + c];
        h += lsm_cell_eval(m, m->eta0[c0 + c] + w->r[cl->j], cl, want, &w->bc[c]);
        w->Hj[cl->j] += w->bc[c].h_eta;
        w->Fj[cl->j] += w->bc[c].f_eta;
    }
    for (size_t k = 0; k < K; k++) h -= 0.5 * z[k] * z[k];
    int curv = curvature_chol(m, w);
    if (curv == 2) return LS_ERR_NUMERIC;
    lsm_laplace_map(m, w, m->fam_map + f * K * K); /* for the frozen objective and the Hessian */
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
    lsm_assemble_score(m, f, w->ebar, w->dbar, w->kbar, w->Zhat, w->GL, m->fam_grad + f * m->dim);
    return LS_OK;
}

/* ---------------------------------------------------------------- */
/* Family posteriors (for the tasks)                                 */
/* ---------------------------------------------------------------- */

int ls_model_family_mode(ls_model *m, size_t f, double *alpha, double *chol)
{
    size_t K = m->K;
    ls_model_z_to_alpha(m, m->zmode + f * K, alpha);
    if (chol) memcpy(chol, m->fam_chol + f * K * K, K * K * sizeof(double));
    return m->fam_newton_fail[f];
}

size_t ls_model_logpost_scratch(const ls_model *m)
{
    return m->J + (m->fe ? 2 * m->J + 4 * m->vrule.n : 0);
}

/* A workspace for lsm_fam_h without gradients from `scratch`
 * (ls_model_logpost_scratch doubles). */
static void logpost_ws(const ls_model *m, double *scratch, fam_ws *w)
{
    memset(w, 0, sizeof *w);
    w->r = scratch;
    if (m->fe) {
        w->vm = scratch + m->J;
        w->vt = w->vm + 2 * m->J;
    }
}

double ls_model_family_logpost(const ls_model *m, size_t f, const double *z, double *r)
{
    fam_ws w;
    logpost_ws(m, r, &w);
    return lsm_fam_h(m, f, z, 0, &w) - 0.5 * (double)m->K * LOG_2PI;
}

void ls_model_family_effect_draw(const ls_model *m, size_t f, const double *z, const double *eps, double *u,
                                 double *scratch)
{
    size_t J = m->J;
    if (!m->fe) {
        memset(u, 0, J * sizeof(double));
        return;
    }
    if (f == (size_t)-1 || !z) { /* a new family: the prior */
        for (size_t j = 0; j < J; j++) u[j] = eps ? m->tau[j] * eps[j] : 0;
        return;
    }
    fam_ws w;
    logpost_ws(m, scratch, &w);
    lsm_random_part(m, z, w.r);
    for (size_t j = 0; j < J; j++) {
        lsm_block(m, f, j, w.r[j], 0, NULL, NULL, NULL, w.vm + 2 * j, &w);
        u[j] = m->tau[j] * (w.vm[2 * j] + (eps ? w.vm[2 * j + 1] * eps[j] : 0));
    }
}

const double *ls_model_family_zmode(const ls_model *m, size_t f) { return m->zmode + f * m->K; }

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
    lsm_ws_carve(m, m->scratch, &w);
    int rc = LS_OK;
    for (size_t i = 0; i < nf && !rc; i++)
        if (lsm_family_eval(m, fams[i], 0, &w) != LS_OK)
            rc = ls_fail(err, LS_ERR_NUMERIC, "posterior of family '%s' is degenerate at these parameters",
                         m->d->family[fams[i]]);
    m->freeze = saved;
    return rc;
}

int ls_model_family_moments(const ls_model *m, size_t f, double *mean, double *cov, ls_error *err)
{
    size_t K = m->K, n = m->rule.n;
    double *t = ls_calloc(n, sizeof(double)), *zk = ls_calloc(n * K, sizeof(double));
    double *r = ls_calloc(ls_model_logpost_scratch(m), sizeof(double));
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
