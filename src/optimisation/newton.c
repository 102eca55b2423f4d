/*
 * newton.c -- finite-difference Hessian of an analytic gradient and a
 * damped Newton minimiser (Levenberg-Marquardt on the Hessian: solve
 * (H + mu D) d = -g with D = diag(max(|H_ii|, 1e-8)), shrink mu after a
 * successful step and grow it after a failed one).
 */
#include "optimisation/newton.h"
#include "numerics/linalg.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int ls_fd_hessian(ls_objective_fn fn, void *ctx, double *x, size_t n, double rel,
                  const double *g0, double *H, ls_error *err)
{
    double *gp = ls_calloc(2 * n, sizeof(double));
    if (!gp) return ls_nomem(err);
    double *gm = gp + n, f;
    int rc = LS_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        double xi = x[i], h = rel * fmax(1.0, fabs(xi));
        x[i] = xi + h;
        rc = fn(ctx, x, &f, gp);
        if (!rc && !g0) {
            x[i] = xi - h;
            rc = fn(ctx, x, &f, gm);
        }
        x[i] = xi;
        if (rc) break;
        for (size_t j = 0; j < n; j++)
            H[i * n + j] = g0 ? (gp[j] - g0[j]) / h : (gp[j] - gm[j]) / (2 * h);
    }
    if (rc) {
        ls_free(gp);
        return ls_fail(err, rc, "the Hessian could not be evaluated near the optimum");
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++) {
            double s = 0.5 * (H[i * n + j] + H[j * n + i]);
            H[i * n + j] = H[j * n + i] = s;
        }
    ls_free(gp);
    return LS_OK;
}

void ls_newton_options_init(ls_newton_options *o)
{
    memset(o, 0, sizeof *o);
    o->gtol = 1e-3;
    o->max_iter = 30;
}

static double maxabs(const double *g, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(g[i]));
    return m;
}

int ls_newton(ls_objective_fn fn, void *ctx, double *x, size_t n, const ls_newton_options *o,
              ls_opt_report *rep, ls_error *err)
{
    memset(rep, 0, sizeof *rep);
    double *H = ls_calloc(n * n, sizeof(double));
    double *A = ls_calloc(n * n, sizeof(double));
    double *g = ls_calloc(n, sizeof(double)), *d = ls_calloc(n, sizeof(double));
    double *xt = ls_calloc(n, sizeof(double)), *gt = ls_calloc(n, sizeof(double));
    if (!H || !A || !g || !d || !xt || !gt) {
        ls_free(H); ls_free(A); ls_free(g); ls_free(d); ls_free(xt); ls_free(gt);
        return ls_nomem(err);
    }
    ls_objective_fn first = o->refresh ? o->refresh : fn;
    double f, mu = 1e-3;
    int rc = LS_OK;
    snprintf(rep->reason, sizeof rep->reason, "Newton step limit (%u)", o->max_iter);
    for (unsigned it = 0;; it++) {
        rc = first(ctx, x, &f, g);
        rep->evals++;
        if (rc) { rc = ls_fail(err, rc, "the objective failed at an accepted point"); break; }
        rep->f = f;
        rep->gmax = maxabs(g, n);
        if (o->progress && o->progress(o->progress_ctx, o->stage, it, o->max_iter)) {
            rc = ls_fail(err, LS_ERR_CANCEL, "interrupted");
            break;
        }
        if (rep->gmax <= o->gtol) {
            rep->converged = 1;
            snprintf(rep->reason, sizeof rep->reason, "max |gradient| <= %g", o->gtol);
            break;
        }
        if (it >= o->max_iter) break;
        /* forward differences: the direction needs no more accuracy */
        rc = ls_fd_hessian(fn, ctx, x, n, 1e-5, g, H, err);
        rep->evals += (unsigned)n;
        if (rc) break;
        int moved = 0;
        for (int tries = 0; tries < 12 && !moved; tries++) {
            memcpy(A, H, n * n * sizeof(double));
            for (size_t i = 0; i < n; i++) A[i * n + i] += mu * fmax(fabs(H[i * n + i]), 1e-8);
            if (ls_chol(A, n)) { mu *= 10; continue; }
            for (size_t i = 0; i < n; i++) d[i] = -g[i];
            ls_chol_solve(A, n, d);
            for (size_t i = 0; i < n; i++) xt[i] = x[i] + d[i];
            double ft;
            int r2 = fn(ctx, xt, &ft, gt);
            rep->evals++;
            if (!r2 && isfinite(ft) && ft <= f) {
                memcpy(x, xt, n * sizeof(double));
                moved = 1;
                mu = fmax(mu / 10, 1e-10);
            } else {
                mu *= 10;
            }
        }
        rep->iter++;
        if (!moved) {
            snprintf(rep->reason, sizeof rep->reason, "no damped Newton step decreased the objective");
            break;
        }
    }
    ls_free(H); ls_free(A); ls_free(g); ls_free(d); ls_free(xt); ls_free(gt);
    return rc;
}
