/*
 * inference.c -- observed information, outer product of family scores,
 * sandwich, and the delta method to natural scales (see inference.h).
 */
#include "scaling/inference.h"
#include "scaling/params.h"
#include "kernel/linalg.h"
#include "kernel/newton.h"

#include <math.h>
#include <string.h>

size_t ls_nat_count(size_t K, size_t J, size_t p) { return p * K + K * J + 2 * J + K * K; }
size_t ls_nat_count_model(const ls_model *m)
{
    ls_layout l;
    ls_model_layout(m, &l);
    return ls_nat_count(l.K, l.J, l.p) + (l.hetero ? l.p : 0) + (l.nkap ? l.J : 0) + (l.fe ? l.J : 0);
}

int ls_nat_from_theta(ls_model *m, const double *th, double *nat, ls_error *err)
{
    ls_layout l;
    ls_model_layout(m, &l);
    size_t K = l.K, J = l.J, p = l.p;
    const ls_data *d = ls_model_data(m);
    ls_params pr;
    int rc = ls_params_alloc(&pr, K, J, p, err);
    if (rc) return rc;
    ls_model_unpack(m, th, &pr);
    ls_params_to_raw(&pr, d->x_mean, d->x_sd);
    double *o = nat;
    memcpy(o, pr.beta, p * K * sizeof(double)); o += p * K;
    memcpy(o, pr.lambda, K * J * sizeof(double)); o += K * J;
    memcpy(o, pr.b, J * sizeof(double)); o += J;
    memcpy(o, pr.phi, J * sizeof(double)); o += J;
    memcpy(o, pr.sigma, K * K * sizeof(double)); o += K * K;
    if (l.hetero) {
        memcpy(o, pr.gamma, p * sizeof(double));
        o += p;
    }
    if (l.nkap) {
        memcpy(o, pr.ceiling, J * sizeof(double));
        o += J;
    }
    if (l.fe) memcpy(o, pr.tau, J * sizeof(double));
    ls_params_free(&pr);
    return LS_OK;
}

/* out = A^{-1} via Cholesky of a copy; non-zero when A is not positive definite */
static int spd_inverse(const double *A, size_t n, double *work, double *out)
{
    memcpy(work, A, n * n * sizeof(double));
    if (ls_chol(work, n)) return 1;
    ls_chol_inverse(work, n, out);
    return 0;
}

/* C (n x n) = X Y X^T with X n x n, Y symmetric; tmp n x n */
static void sandwich(const double *X, const double *Y, size_t n, double *tmp, double *C)
{
    ls_gemm(0, 0, n, n, n, X, Y, tmp);
    ls_gemm(0, 1, n, n, n, tmp, X, C);
}

/* diag(G C G^T) and optionally the full G C G^T (G: q x n) */
static void delta(const double *G, const double *C, size_t q, size_t n, double *se, double *full)
{
    for (size_t a = 0; a < q; a++) {
        const double *ga = G + a * n;
        for (size_t b = full ? 0 : a; b < (full ? q : a + 1); b++) {
            const double *gb = G + b * n;
            double s = 0;
            for (size_t i = 0; i < n; i++) {
                if (ga[i] == 0) continue;
                double t = 0;
                for (size_t j = 0; j < n; j++) t += C[i * n + j] * gb[j];
                s += ga[i] * t;
            }
            if (full) full[a * q + b] = s;
            if (a == b) se[a] = s >= 0 ? sqrt(s) : NAN;
        }
    }
}

void ls_inference_free(ls_inference *inf)
{
    if (!inf) return;
    for (int k = 0; k < LS_SE_KINDS; k++) ls_free(inf->se[k]);
    ls_free(inf->cov);
    ls_free(inf->theta_cov);
    ls_free(inf->theta_cov_sw);
    memset(inf, 0, sizeof *inf);
}

int ls_infer(ls_model *m, const double *th0, ls_inference *inf, ls_error *err)
{
    size_t n = ls_model_dim(m), F = ls_model_data(m)->F, q = ls_nat_count_model(m);
    memset(inf, 0, sizeof *inf);
    inf->nnat = q;
    double *th = ls_calloc(n, sizeof(double)), *g = ls_calloc(n, sizeof(double));
    double *I = ls_calloc(n * n, sizeof(double)), *B = ls_calloc(n * n, sizeof(double));
    double *Ii = ls_calloc(n * n, sizeof(double)), *Bi = ls_calloc(n * n, sizeof(double));
    double *W = ls_calloc(n * n, sizeof(double)), *C = ls_calloc(n * n, sizeof(double));
    double *G = ls_calloc(q * n, sizeof(double)), *np = ls_calloc(q, sizeof(double));
    double *nm = ls_calloc(q, sizeof(double)), *ev = ls_calloc(n, sizeof(double));
    for (int k = 0; k < LS_SE_KINDS; k++) inf->se[k] = ls_calloc(q, sizeof(double));
    inf->cov = ls_calloc(q * q, sizeof(double));
    inf->dim = n;
    inf->theta_cov = ls_calloc(n * n, sizeof(double));
    inf->theta_cov_sw = ls_calloc(n * n, sizeof(double));
    int rc = LS_OK;
    if (!th || !g || !I || !B || !Ii || !Bi || !W || !C || !G || !np || !nm || !ev || !inf->se[0] ||
        !inf->se[1] || !inf->se[2] || !inf->cov || !inf->theta_cov || !inf->theta_cov_sw) {
        rc = ls_nomem(err);
        goto done;
    }
    memcpy(th, th0, n * sizeof(double));
    /* adapt the nodes at the optimum: per-family scores are then exact */
    ls_model_set_freeze(m, 0);
    double f;
    rc = ls_model_negll(m, th, &f, g);
    if (rc) { rc = ls_fail(err, rc, "the likelihood could not be evaluated at the optimum"); goto done; }
    for (size_t h = 0; h < F; h++) {
        const double *s = ls_model_family_score(m, h);
        for (size_t i = 0; i < n; i++)
            if (s[i] != 0)
                for (size_t j = 0; j < n; j++) B[i * n + j] += s[i] * s[j];
    }
    /* observed information: the analytic Hessian with the nodes just
     * adapted; for the one-node (Laplace) rule that frozen-map Hessian
     * leaves out the curvature's motion (on the paper data at K = 9 it was
     * indefinite, smallest eigenvalue -17), and its re-adapted value is
     * smooth with an exact gradient, so central differences of that */
    if (ls_model_is_laplace(m)) {
        rc = ls_fd_hessian(ls_model_negll, m, th, n, 1e-5, NULL, I, err);
        if (!rc) rc = ls_model_negll(m, th, &f, g); /* the maps at th again */
        if (rc) goto done;
    } else {
        rc = ls_model_hessian(m, th, I, err);
        if (rc) goto done;
        for (size_t i = 0; i < n * n; i++) I[i] = -I[i];
    }
    memcpy(W, I, n * n * sizeof(double));
    if (ls_eigen_symm(W, n, ev, C)) { rc = ls_nomem(err); goto done; }
    inf->min_eig = ev[0];
    inf->max_eig = ev[n - 1];

    /* Jacobian of the natural vector, central differences (no likelihood) */
    for (size_t i = 0; i < n; i++) {
        double xi = th[i], h = 1e-6 * fmax(1.0, fabs(xi));
        th[i] = xi + h;
        if ((rc = ls_nat_from_theta(m, th, np, err))) goto done;
        th[i] = xi - h;
        if ((rc = ls_nat_from_theta(m, th, nm, err))) goto done;
        th[i] = xi;
        for (size_t a = 0; a < q; a++) G[a * n + i] = (np[a] - nm[a]) / (2 * h);
    }
    { /* the family effect's sd is |tau_j|, the last natural block: its row
       * is the sign of tau_j (+1 at 0, where differences would give 0) */
        ls_layout l;
        ls_model_layout(m, &l);
        for (size_t j = 0; l.fe && j < l.J; j++) {
            double *row = G + (q - l.J + j) * n;
            memset(row, 0, n * sizeof(double));
            row[l.off_t + j] = th[l.off_t + j] < 0 ? -1 : 1;
        }
    }
    int okI = !spd_inverse(I, n, W, Ii), okB = !spd_inverse(B, n, W, Bi);
    inf->ok[LS_SE_HESSIAN] = okI;
    inf->ok[LS_SE_OPG] = okB;
    inf->ok[LS_SE_SANDWICH] = okI;
    for (int k = 0; k < LS_SE_KINDS; k++)
        for (size_t a = 0; a < q; a++) inf->se[k][a] = NAN;
    for (size_t a = 0; a < q * q; a++) inf->cov[a] = NAN;
    for (size_t a = 0; a < n * n; a++) inf->theta_cov[a] = okI ? Ii[a] : NAN;
    for (size_t a = 0; a < n * n; a++) inf->theta_cov_sw[a] = NAN;
    if (okI) delta(G, Ii, q, n, inf->se[LS_SE_HESSIAN], inf->cov);
    if (okB) delta(G, Bi, q, n, inf->se[LS_SE_OPG], NULL);
    if (okI) {
        sandwich(Ii, B, n, W, C);
        delta(G, C, q, n, inf->se[LS_SE_SANDWICH], NULL);
        memcpy(inf->theta_cov_sw, C, n * n * sizeof(double));
    }
done:
    ls_free(th); ls_free(g); ls_free(I); ls_free(B); ls_free(Ii); ls_free(Bi);
    ls_free(W); ls_free(C); ls_free(G); ls_free(np); ls_free(nm); ls_free(ev);
    if (rc) ls_inference_free(inf);
    return rc;
}
