/*
 * newton.c -- finite-difference Hessian of an analytic gradient and a
 * trust-region Newton minimiser with the exact subproblem solved through
 * the eigen-decomposition of the Hessian (Nocedal & Wright, Numerical
 * Optimization, 2nd ed., section 4.3): s(mu) = -(H + mu I)^-1 g with the
 * smallest mu >= max(0, -lambda_min) for which |s| <= Delta.  Negative
 * curvature is followed to the boundary instead of being damped away, and
 * a rejected step costs one evaluation (the decomposition is reused).
 */
#include "kernel/newton.h"
#include "kernel/linalg.h"

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

/* |s(mu)|^2 for s_i = -gt_i / (lam_i + mu) in the eigenbasis. */
static double step_norm2(const double *lam, const double *gt, size_t n, double mu)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        double d = lam[i] + mu;
        s += gt[i] * gt[i] / (d * d);
    }
    return s;
}

/*
 * The trust-region subproblem min gt.s + s.diag(lam).s/2, |s| <= delta, in
 * the eigenbasis (lam ascending).  Writes st and returns the predicted
 * change of the objective (negative).
 */
static double tr_step(const double *lam, const double *gt, size_t n, double delta, double *st)
{
    double scale = fmax(fabs(lam[0]), fabs(lam[n - 1]));
    double floor_ = 1e-12 * (scale > 0 ? scale : 1);
    double lo = fmax(0, -lam[0] + floor_);
    double mu;
    if (lam[0] > floor_ && step_norm2(lam, gt, n, 0) <= delta * delta) {
        mu = 0; /* the Newton step fits */
    } else if (step_norm2(lam, gt, n, lo) <= delta * delta) {
        /* hard case: even at the smallest admissible shift the step is
         * short; go to the boundary along the lowest eigenvector */
        mu = lo;
    } else {
        /* |s(mu)| decreases in mu: bracket and solve |s(mu)| = delta by
         * safeguarded Newton on 1/|s| - 1/delta (nearly linear in mu) */
        /* the offset doubles, from a size that moves lo even when |lo| is
         * beyond 2^53 (lo + 1 == lo there: a fixed offset never grew) */
        double off = fmax(1.0, 1e-15 * fabs(lo)), hi = lo + off;
        while (step_norm2(lam, gt, n, hi) > delta * delta && hi < 1e300) {
            off *= 2;
            hi = lo + off;
        }
        mu = hi;
        for (int it = 0; it < 100; it++) {
            double s2 = step_norm2(lam, gt, n, mu), sn = sqrt(s2);
            double phi = 1 / sn - 1 / delta;
            if (fabs(sn - delta) <= 1e-6 * delta) break;
            if (phi < 0) lo = mu;
            else hi = mu;
            double ds2 = 0; /* d|s|^2/dmu */
            for (size_t i = 0; i < n; i++) {
                double d = lam[i] + mu;
                ds2 -= 2 * gt[i] * gt[i] / (d * d * d);
            }
            double dphi = -0.5 * ds2 / (s2 * sn);
            double next = mu - phi / dphi;
            mu = (next > lo && next < hi && isfinite(next)) ? next : 0.5 * (lo + hi);
        }
    }
    double pred = 0, s2 = 0;
    for (size_t i = 0; i < n; i++) {
        st[i] = -gt[i] / (lam[i] + mu);
        s2 += st[i] * st[i];
    }
    if (mu > 0 && mu == lo && s2 < delta * delta && lam[0] <= floor_) {
        /* hard case: add the lowest eigenvector's component up to delta */
        st[0] += sqrt(delta * delta - s2) * (gt[0] > 0 ? -1 : 1);
    }
    for (size_t i = 0; i < n; i++) pred += gt[i] * st[i] + 0.5 * lam[i] * st[i] * st[i];
    return pred;
}

int ls_newton(ls_objective_fn fn, void *ctx, double *x, size_t n, const ls_newton_options *o,
              ls_opt_report *rep, ls_error *err)
{
    memset(rep, 0, sizeof *rep);
    double *H = ls_calloc(n * n, sizeof(double)), *V = ls_calloc(n * n, sizeof(double));
    double *g = ls_calloc(n, sizeof(double)), *lam = ls_calloc(n, sizeof(double));
    double *gt = ls_calloc(n, sizeof(double)), *st = ls_calloc(n, sizeof(double));
    double *xt = ls_calloc(n, sizeof(double)), *gtr = ls_calloc(n, sizeof(double));
    double *xbest = ls_calloc(n, sizeof(double)), *B = ls_calloc(n * n, sizeof(double));
    double *sv = ls_calloc(n, sizeof(double));
    if (!H || !V || !g || !lam || !gt || !st || !xt || !gtr || !xbest || !B || !sv) {
        ls_free(H); ls_free(V); ls_free(g); ls_free(lam); ls_free(gt); ls_free(st); ls_free(xt); ls_free(gtr);
        ls_free(xbest); ls_free(B); ls_free(sv);
        return ls_nomem(err);
    }
    double fbest = INFINITY, gbest = INFINITY;
    unsigned age = 0; /* steps since B was computed afresh; 0: none yet */
    int have_B = 0;
    if (o->carry && o->carry_valid && *o->carry_valid) {
        memcpy(B, o->carry, n * n * sizeof(double));
        have_B = 1;
        age = 0; /* as after a fresh one, but given two tries a step */
    }
    ls_objective_fn first = o->refresh ? o->refresh : fn;
    double f, delta = -1; /* set from the first Newton step */
    double fprev = NAN;
    int small = 0; /* accepted steps in a row that gained less than ftol */
    int rc = LS_OK;
    snprintf(rep->reason, sizeof rep->reason, "Newton step limit (%u)", o->max_iter);
    for (unsigned it = 0;; it++) {
        rc = first(ctx, x, &f, g);
        rep->evals++;
        if (rc) { rc = ls_fail(err, rc, "the objective failed at an accepted point"); break; }
        rep->f = f;
        rep->gmax = maxabs(g, n);
        if (o->ftol > 0 && isfinite(fprev)) {
            small = fprev - f < o->ftol ? small + 1 : 0;
            if (small >= 2 && rep->gmax > o->gtol) {
                rep->stalled = 1;
                snprintf(rep->reason, sizeof rep->reason, "two steps gained less than %g", o->ftol);
                break;
            }
        }
        fprev = f;
        if (o->stop_at_noise && o->refresh) {
            if (!(f < fbest)) { /* back to the best refreshed point */
                memcpy(x, xbest, n * sizeof(double));
                rep->f = fbest;
                rep->gmax = gbest;
                snprintf(rep->reason, sizeof rep->reason, "steps below the objective's resolution");
                break;
            }
            fbest = f;
            gbest = rep->gmax;
            memcpy(xbest, x, n * sizeof(double));
        }
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
        int moved = 0;
        for (int pass = 0; pass < 2 && !moved; pass++) {
            int fresh = !have_B || age >= o->hessian_reuse || pass > 0;
            if (fresh) {
                if (o->hessian) {
                    rc = o->hessian(o->hessian_ctx, x, B);
                    if (rc) {
                        rc = rc == LS_ERR_NOMEM ? ls_nomem(err)
                                                : ls_fail(err, rc, "the Hessian could not be evaluated");
                        break;
                    }
                } else {
                    /* forward differences: the direction needs no more accuracy */
                    rc = ls_fd_hessian(fn, ctx, x, n, 1e-5, g, B, err);
                    rep->evals += (unsigned)n;
                    if (rc) break;
                }
                have_B = 1;
                age = 0;
            }
            memcpy(H, B, n * n * sizeof(double));
            if (ls_eigen_symm(H, n, lam, V)) { rc = ls_nomem(err); break; }
            int finite = 1;
            for (size_t i = 0; i < n; i++) finite &= isfinite(lam[i]);
            if (!finite) {
                rc = ls_fail(err, LS_ERR_NUMERIC, "the Hessian is not finite");
                break;
            }
            for (size_t i = 0; i < n; i++) {
                double s = 0;
                for (size_t k = 0; k < n; k++) s += V[k * n + i] * g[k];
                gt[i] = s;
            }
            if (o->known && lam[0] > 0) { /* heading for the known minimum? */
                double dist = 0, dec = 0;
                for (size_t i = 0; i < n; i++) {
                    double dt = 0;
                    for (size_t k = 0; k < n; k++) dt += V[k * n + i] * (x[k] - o->known[k]);
                    double e = dt - gt[i] / lam[i];
                    dist += 0.5 * lam[i] * e * e;
                    dec += 0.5 * gt[i] * gt[i] / lam[i];
                }
                if (dist <= o->known_tol && fabs(f - dec - o->f_known) <= o->known_tol) {
                    rep->abandoned = 1;
                    rep->f_pred = f - dec;
                    snprintf(rep->reason, sizeof rep->reason, "heading for a known minimum");
                    break;
                }
            }
            if (delta < 0) { /* first radius: the Newton step's length, capped */
                double s2 = lam[0] > 0 ? step_norm2(lam, gt, n, 0) : INFINITY;
                delta = fmin(sqrt(s2), 10.0);
            }
            /* a stale matrix gets few tries before it is refreshed */
            int max_tries = fresh ? 30 : 2;
            for (int tries = 0; tries < max_tries && !moved; tries++) {
                double pred = tr_step(lam, gt, n, delta, st);
                double snorm = 0;
                for (size_t i = 0; i < n; i++) snorm += st[i] * st[i];
                snorm = sqrt(snorm);
                for (size_t k = 0; k < n; k++) {
                    double s = 0;
                    for (size_t i = 0; i < n; i++) s += V[k * n + i] * st[i];
                    sv[k] = s;
                    xt[k] = x[k] + s;
                }
                double ft;
                int r2 = fn(ctx, xt, &ft, gtr);
                rep->evals++;
                double rho = (!r2 && isfinite(ft) && pred < 0) ? (ft - f) / pred : -1;
                if (rho > 1e-4 || (!r2 && isfinite(ft) && ft < f && pred > -1e-14 * fabs(f))) {
                    memcpy(x, xt, n * sizeof(double));
                    moved = 1;
                    if (rho > 0.75 && snorm > 0.99 * delta) delta = fmin(2 * delta, 1e3);
                    else if (rho < 0.25) delta = 0.25 * snorm;
                    if (o->hessian_reuse) { /* SR1: B += r r^T / (r.s), r = y - B s */
                        double rs = 0, rn = 0, sn2 = 0;
                        for (size_t i = 0; i < n; i++) {
                            double bs = 0;
                            for (size_t k = 0; k < n; k++) bs += B[i * n + k] * sv[k];
                            gt[i] = (gtr[i] - g[i]) - bs; /* gt is free now: r */
                            rs += gt[i] * sv[i];
                            rn += gt[i] * gt[i];
                            sn2 += sv[i] * sv[i];
                        }
                        if (fabs(rs) >= 1e-8 * sqrt(rn * sn2) && rs != 0)
                            for (size_t i = 0; i < n; i++)
                                for (size_t k = 0; k < n; k++) B[i * n + k] += gt[i] * gt[k] / rs;
                        age++;
                    }
                } else {
                    delta = 0.25 * fmin(delta, snorm);
                    if (delta < 1e-14 * (1 + maxabs(x, n))) break;
                }
            }
            if (rc) break;
        }
        if (rc || rep->abandoned) break;
        rep->iter++;
        if (!moved) {
            snprintf(rep->reason, sizeof rep->reason, "no trust-region step decreased the objective");
            break;
        }
    }
    if (o->carry && o->carry_valid && have_B) {
        memcpy(o->carry, B, n * n * sizeof(double));
        *o->carry_valid = 1;
    }
    ls_free(H); ls_free(V); ls_free(g); ls_free(lam); ls_free(gt); ls_free(st); ls_free(xt); ls_free(gtr);
    ls_free(xbest); ls_free(B); ls_free(sv);
    return rc;
}
