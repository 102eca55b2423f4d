/*
 * optimise.c -- L-BFGS (Nocedal 1980; liblbfgs by N. Okazaki) driven in
 * rounds.  liblbfgs's own stopping rules are set very tight; we stop from the
 * progress callback once max |g| <= gtol, which is scale-free in the
 * parameter vector and matches what the fit reports.
 */
#include "kernel/optimise.h"

#include <lbfgs.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define STOP_CONVERGED 1001
#define STOP_CANCEL 1002
#define STOP_MAXITER 1003

typedef struct run {
    ls_objective_fn fn;
    void *ctx;
    const ls_opt_options *o;
    ls_opt_report *rep;
    unsigned iter_base;
    double *best_x;
    double best_f, best_gmax;
    size_t n;
    int cancel;
} run;

static double gmax_of(const double *g, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(g[i]));
    return m;
}

static lbfgsfloatval_t evaluate(void *inst, const lbfgsfloatval_t *x, lbfgsfloatval_t *g, const int n,
                                const lbfgsfloatval_t step)
{
    (void)step;
    run *r = inst;
    double f;
    r->rep->evals++;
    /* the interrupt is honoured between evaluations too: a line search that
     * never completes an iteration never reaches the progress callback */
    if (r->cancel ||
        (r->o->progress && r->o->progress(r->o->progress_ctx, r->o->stage ? r->o->stage : "optimise",
                                          (double)r->rep->iter, (double)r->o->max_iter))) {
        r->cancel = 1;
        for (int i = 0; i < n; i++) g[i] = 0;
        return 1e300;
    }
    int ok = r->fn(r->ctx, x, &f, g) == LS_OK && isfinite(f);
    for (int i = 0; ok && i < n; i++) ok = isfinite(g[i]);
    if (!ok) {
        /* infeasible (or a gradient that is not finite, on which the line
         * search could not stop): a huge value sends the line search back */
        for (int i = 0; i < n; i++) g[i] = 0;
        return 1e300;
    }
    double gm = r->o->measure ? r->o->measure(r->ctx) : gmax_of(g, (size_t)n);
    if (f < r->best_f || (f == r->best_f && gm < r->best_gmax)) {
        r->best_f = f;
        r->best_gmax = gm;
        memcpy(r->best_x, x, (size_t)n * sizeof(double));
    }
    return f;
}

static int progress(void *inst, const lbfgsfloatval_t *x, const lbfgsfloatval_t *g,
                    const lbfgsfloatval_t fx, const lbfgsfloatval_t xnorm,
                    const lbfgsfloatval_t gnorm, const lbfgsfloatval_t step, int n, int k, int ls)
{
    (void)x; (void)xnorm; (void)gnorm; (void)step; (void)ls; (void)fx;
    run *r = inst;
    r->rep->iter = r->iter_base + (unsigned)k;
    double gm = r->o->measure ? r->o->measure(r->ctx) : gmax_of(g, (size_t)n);
    if (r->o->progress &&
        r->o->progress(r->o->progress_ctx, r->o->stage ? r->o->stage : "optimise",
                       (double)r->rep->iter, (double)r->o->max_iter))
        return STOP_CANCEL;
    if (gm <= r->o->gtol) return STOP_CONVERGED;
    if (r->rep->iter >= r->o->max_iter) return STOP_MAXITER;
    return 0;
}

void ls_opt_options_init(ls_opt_options *o)
{
    memset(o, 0, sizeof *o);
    o->gtol = 1e-3;
    o->max_iter = 3000;
    o->rounds = 6;
}

int ls_minimise(ls_objective_fn fn, void *ctx, double *x, size_t n, const ls_opt_options *o,
                ls_opt_report *rep, ls_error *err)
{
    memset(rep, 0, sizeof *rep);
    double *g = ls_calloc(n, sizeof(double)), *bx = ls_calloc(n, sizeof(double));
    if (!g || !bx) {
        ls_free(g);
        ls_free(bx);
        return ls_nomem(err);
    }
    double f;
    int rc = fn(ctx, x, &f, g);
    rep->evals = 1;
    if (rc != LS_OK || !isfinite(f)) {
        ls_free(g);
        ls_free(bx);
        if (rc == LS_OK) rc = LS_ERR_NUMERIC;
        return ls_fail(err, rc, "objective is not finite at the start point");
    }
    run r = {fn, ctx, o, rep, 0, bx, f, o->measure ? o->measure(ctx) : gmax_of(g, n), n, 0};
    memcpy(bx, x, n * sizeof(double));
    lbfgs_parameter_t par;
    lbfgs_parameter_init(&par);
    par.m = 12;
    par.epsilon = 1e-12;
    par.past = 0;
    par.max_iterations = 0;
    par.max_linesearch = 60;
    par.linesearch = LBFGS_LINESEARCH_MORETHUENTE;
    int ret = 0;
    snprintf(rep->reason, sizeof rep->reason, "iteration limit");
    for (unsigned round = 0; round < o->rounds; round++) {
        if (r.best_gmax <= o->gtol) break;
        memcpy(x, bx, n * sizeof(double));
        r.iter_base = rep->iter;
        lbfgsfloatval_t fx;
        ret = lbfgs((int)n, x, &fx, evaluate, progress, &r, &par);
        if (r.cancel) ret = STOP_CANCEL;
        if (ret == STOP_CANCEL || ret == STOP_MAXITER) break;
        if (ret == STOP_CONVERGED) break;
        /* a line-search breakdown near the optimum: restart from the best point
         * with fresh curvature memory (and backtracking on the second try) */
        par.linesearch = round % 2 ? LBFGS_LINESEARCH_MORETHUENTE : LBFGS_LINESEARCH_BACKTRACKING_WOLFE;
        snprintf(rep->reason, sizeof rep->reason, "line search stopped (liblbfgs status %d)", ret);
    }
    memcpy(x, bx, n * sizeof(double));
    rep->f = r.best_f;
    rep->gmax = r.best_gmax;
    rep->converged = r.best_gmax <= o->gtol;
    if (rep->converged) snprintf(rep->reason, sizeof rep->reason, "max |gradient| <= %g", o->gtol);
    ls_free(g);
    ls_free(bx);
    if (ret == STOP_CANCEL) return ls_fail(err, LS_ERR_CANCEL, "interrupted");
    return LS_OK;
}
