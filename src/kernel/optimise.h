/*
 * optimise.h -- quasi-Newton minimisation (liblbfgs) with a convergence
 * test on the largest gradient component, restarts after line-search
 * breakdowns, and cancellation through the progress callback.
 */
#ifndef LS_OPTIMISE_H
#define LS_OPTIMISE_H

#include "kernel/core.h"

/* Minimise: fill *f and g (n values) at x; return LS_OK or a status.  A
 * non-OK status makes the optimiser treat x as infeasible and step back. */
typedef int (*ls_objective_fn)(void *ctx, const double *x, double *f, double *g);

typedef struct ls_opt_options {
    double gtol;        /* stop when max |g_i| <= gtol                  */
    unsigned max_iter;  /* iterations over all rounds                   */
    unsigned rounds;    /* L-BFGS restarts after line-search failures   */
    ls_progress_fn progress;
    void *progress_ctx;
    const char *stage;  /* name passed to progress                      */
    /* Optional convergence measure replacing max |g_i| (e.g. the gradient in
     * the original coordinates of a preconditioned problem), read after each
     * accepted step with the objective's ctx. */
    double (*measure)(void *ctx);
} ls_opt_options;

typedef struct ls_opt_report {
    double f, gmax;
    unsigned iter, evals;
    int converged;
    int frozen;         /* converged on a node map held fixed (set by callers) */
    int abandoned;      /* Newton stopped: heading for a known minimum   */
    double f_pred;      /* then: the quadratic model's value there       */
    int stalled;        /* Newton stopped: steps gained less than ftol   */
    char reason[80];
} ls_opt_report;

void ls_opt_options_init(ls_opt_options *o);
/* x: start on entry, best point on return.  Returns LS_OK (also when not
 * converged: see report), LS_ERR_CANCEL, LS_ERR_NOMEM or the objective's
 * status at the start point. */
int ls_minimise(ls_objective_fn fn, void *ctx, double *x, size_t n, const ls_opt_options *o,
                ls_opt_report *rep, ls_error *err);

#endif
