/*
 * newton.h -- second-order tools over an analytic gradient: the Hessian by
 * differences of the gradient, and a trust-region Newton minimiser for the
 * last, ill-conditioned stretch of a fit, where L-BFGS crawls along curved
 * ridges.
 */
#ifndef LS_NEWTON_H
#define LS_NEWTON_H

#include "kernel/optimise.h"

/* H (n x n, row-major) = symmetrised differences of the gradient at x with
 * steps h_i = rel * max(1, |x_i|): forward from g0 (the gradient at x; n
 * calls) or, when g0 is NULL, central (2n calls). x is restored. */
int ls_fd_hessian(ls_objective_fn fn, void *ctx, double *x, size_t n, double rel,
                  const double *g0, double *H, ls_error *err);

typedef struct ls_newton_options {
    double gtol;        /* stop when max |g_i| <= gtol at a fresh point  */
    unsigned max_iter;  /* Newton steps                                  */
    /* Optional: called at the start of every step; may re-adapt whatever
     * the objective depends on (an adaptive quadrature) and must fill f, g. */
    ls_objective_fn refresh;
    /* Optional: the Hessian at x (or an approximation), called right after
     * the objective was evaluated there (so it may use what that evaluation
     * left behind, e.g. adapted quadrature nodes); returns a status
     * (LS_ERR_NOMEM is passed on as such); NULL: the forward-difference
     * Hessian (n gradient calls). */
    int (*hessian)(void *hessian_ctx, const double *x, double *H);
    void *hessian_ctx;
    /* With refresh: stop (at the best refreshed point) as soon as a step
     * that decreased the frozen objective raises the refreshed one, i.e.
     * when the steps are below what the refreshed objective can resolve
     * (a coarse adaptive quadrature).  Reported as not converged. */
    int stop_at_noise;
    /* 0: a fresh Hessian every step.  N > 0: after a fresh one, up to N
     * steps use it with symmetric-rank-one secant updates from the gradient
     * differences of accepted steps; a fresh one is taken sooner when a step
     * with the updated matrix is rejected. */
    unsigned hessian_reuse;
    /* Optional: a known minimum, with its value f_known.  Stop early
     * (rep->abandoned) when the Hessian is positive definite, the Newton
     * point xn = x - H^-1 g lies within known_tol of it in the quadratic
     * model's measure, (xn - known).H.(xn - known) / 2, and the model's
     * value there, f_pred = f - g.H^-1.g / 2, is within known_tol of
     * f_known: the run is heading for that minimum. */
    const double *known;
    double f_known, known_tol;
    /* > 0: stop (rep->stalled) once two accepted steps in a row each
     * lowered the objective by less than this. */
    double ftol;
    /* Optional (n x n, row-major): a matrix carried from an earlier run at
     * a nearby point.  When *carry_valid is set on entry, the first step
     * uses it as a stale matrix (two tries, then a fresh Hessian); on
     * return it holds the last matrix used, and *carry_valid is set. */
    double *carry;
    int *carry_valid;
    ls_progress_fn progress;
    void *progress_ctx;
    const char *stage;
} ls_newton_options;

void ls_newton_options_init(ls_newton_options *o);
/* x: start on entry, last accepted point on return; H receives the Hessian
 * at the last point where one was computed (may be NULL). */
int ls_newton(ls_objective_fn fn, void *ctx, double *x, size_t n, const ls_newton_options *o,
              ls_opt_report *rep, ls_error *err);

#endif
