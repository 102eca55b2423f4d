/*
 * newton.h -- second-order tools over an analytic gradient: the Hessian by
 * central differences of the gradient, and a damped (Levenberg-Marquardt)
 * Newton minimiser for the last, ill-conditioned stretch of a fit, where
 * L-BFGS crawls along curved ridges.
 */
#ifndef LS_NEWTON_H
#define LS_NEWTON_H

#include "optimisation/optimise.h"

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
