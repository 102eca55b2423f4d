/*
 * fit_optimise.c -- the optimisers of the fit on one model: rounds of
 * L-BFGS on the frozen node map (a start), trust-region Newton with the
 * analytic Hessian, L-BFGS whitened by the Hessian (the Laplace rule), and
 * the polish that chooses among them.
 */
#include "scaling/fit_impl.h"
#include "kernel/linalg.h"
#include "kernel/newton.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Newton's refresh: re-adapt the node map at x, evaluate, then freeze it
 * for the Hessian and the trial steps that follow. */
static int objective_refresh(void *ctx, const double *x, double *f, double *g)
{
    ls_model *m = ctx;
    ls_model_set_freeze(m, 0);
    int rc = ls_model_negll(m, x, f, g);
    ls_model_set_freeze(m, 1);
    return rc;
}

/* The Newton callback: the exact Hessian of the frozen-node objective
 * (the negative log-likelihood) at x, where the nodes were just adapted. */
static int negll_hessian(void *ctx, const double *x, double *H)
{
    ls_model *m = ctx;
    ls_error e;
    int rc = ls_model_hessian(m, x, H, &e);
    if (rc) return rc;
    size_t n = ls_model_dim(m);
    for (size_t i = 0; i < n * n; i++) H[i] = -H[i];
    return LS_OK;
}

/* Trust-region Newton from th to o->gtol (at most 40 steps) on the
 * frozen-node objective, with the analytic Hessian (reused for 3 steps
 * with SR1 updates); the node map as `mode` says.  known (or NULL): a
 * polished optimum; the run is abandoned once it heads there
 * (ls_newton_options.known). */
static int newton_polish(ls_model *m, double *th, const ls_fit_options *o, int mode, const double *known,
                         double f_known, double ftol, const char *stage, double *carry, int *valid, int adapted,
                         ls_opt_report *rep, ls_error *err)
{
    if (mode == LSFIT_NEWTON_FROZEN && ls_model_is_laplace(m)) mode = LSFIT_NEWTON_ADAPT;
    if (mode == LSFIT_NEWTON_FROZEN && adapted) ls_model_set_freeze(m, 1);
    else if (mode == LSFIT_NEWTON_FROZEN) {
        double f, *g = ls_calloc(ls_model_dim(m), sizeof(double));
        if (!g) return ls_nomem(err);
        int rc = objective_refresh(m, th, &f, g); /* leaves the map frozen */
        ls_free(g);
        if (rc) {
            ls_model_set_freeze(m, 0);
            return ls_fail(err, rc, "the likelihood could not be evaluated");
        }
    }
    /* the one-node (Laplace) rule re-adapted is smooth with an exact
     * gradient: Newton on it directly, the Hessian that of the frozen map */
    int smooth = ls_model_is_laplace(m);
    ls_newton_options no;
    ls_newton_options_init(&no);
    no.stop_at_noise = mode == LSFIT_NEWTON_COARSE && !smooth;
    no.refresh = mode == LSFIT_NEWTON_FROZEN || smooth ? NULL : objective_refresh;
    no.hessian = negll_hessian;
    no.hessian_ctx = m;
    no.hessian_reuse = 3;
    no.gtol = o->gtol;
    no.max_iter = 40;
    no.known = known;
    no.f_known = f_known;
    no.known_tol = 0.01;
    no.ftol = ftol;
    no.carry = carry;
    no.carry_valid = valid;
    no.progress = o->progress;
    no.progress_ctx = o->progress_ctx;
    no.stage = stage;
    if (smooth) ls_model_set_freeze(m, 0);
    int rc = ls_newton(ls_model_negll, m, th, ls_model_dim(m), &no, rep, err);
    ls_model_set_freeze(m, 0);
    rep->frozen = mode == LSFIT_NEWTON_FROZEN;
    return rc;
}

int lsfit_newton_polish(ls_model *m, double *th, const ls_fit_options *o, int mode, const double *known,
                        double f_known, double ftol, const char *stage, ls_opt_report *rep, ls_error *err)
{
    return newton_polish(m, th, o, mode, known, f_known, ftol, stage, NULL, NULL, 0, rep, err);
}

int lsfit_newton_frozen_carry(ls_model *m, double *th, const ls_fit_options *o, const char *stage, double *carry,
                              int *valid, int adapted, ls_opt_report *rep, ls_error *err)
{
    return newton_polish(m, th, o, LSFIT_NEWTON_FROZEN, NULL, 0, 0, stage, carry, valid, adapted, rep, err);
}

/*
 * One start.  Adaptive quadrature moves its nodes with the parameters, and
 * the node placement (a Newton solve per family) makes the objective only
 * as smooth as the quadrature is accurate, which line searches notice.  So
 * each round freezes the node map (mode and curvature per family) at the
 * current point, runs L-BFGS on the resulting smooth objective, whose
 * analytic gradient is exact, and then re-adapts.  Convergence is judged on
 * the gradient with freshly adapted nodes.
 */
int lsfit_optimise_start(ls_model *m, double *th, const ls_fit_options *o, const char *stage, ls_opt_report *tot,
                         ls_error *err)
{
    ls_opt_options oo;
    ls_opt_options_init(&oo);
    oo.gtol = o->gtol;
    oo.rounds = 2;
    oo.progress = o->progress;
    oo.progress_ctx = o->progress_ctx;
    oo.stage = stage;
    memset(tot, 0, sizeof *tot);
    size_t dim = ls_model_dim(m);
    double *g = ls_calloc(dim, sizeof(double));
    if (!g) return ls_nomem(err);
    int rc = LS_OK;
    unsigned cap = 60;
    double prev = INFINITY;
    int dead = 0; /* rounds in a row whose line search failed at once */
    for (int round = 0; tot->iter < o->max_iter && dead < 2; round++) {
        double ll;
        ls_model_set_freeze(m, 0); /* re-adapt the nodes here */
        rc = ls_model_loglik(m, th, &ll, g, NULL, err);
        if (rc) break;
        double gm = 0;
        for (size_t i = 0; i < dim; i++) gm = fmax(gm, fabs(g[i]));
        tot->f = -ll;
        tot->gmax = gm;
        if (gm <= o->gtol) {
            tot->converged = 1;
            snprintf(tot->reason, sizeof tot->reason, "max |gradient| <= %g", o->gtol);
            break;
        }
        /* stalled: the last round gained nothing measurable */
        if (round > 3 && prev - tot->f < 1e-7) break;
        prev = tot->f;
        ls_model_set_freeze(m, !ls_model_is_laplace(m)); /* the one-node rule is smooth re-adapted */
        unsigned left = o->max_iter - tot->iter;
        oo.max_iter = left < cap ? left : cap;
        ls_opt_report rep;
        rc = ls_minimise(ls_model_negll, m, th, dim, &oo, &rep, err);
        tot->iter += rep.iter;
        tot->evals += rep.evals + 1;
        snprintf(tot->reason, sizeof tot->reason, "%s", rep.reason);
        if (rc) break;
        /* no iteration accepted: the gradient does not describe the value
         * along its own direction (and each such round still gains ~1e-6,
         * above the stall test), so a third try would be the same */
        dead = rep.iter == 0 ? dead + 1 : 0;
        if (cap < 400) cap *= 2;
    }
    ls_model_set_freeze(m, 0);
    if (!rc && !tot->converged && tot->iter >= o->max_iter)
        snprintf(tot->reason, sizeof tot->reason, "iteration limit (%u)", o->max_iter);
    ls_free(g);
    return rc;
}

/*
 * The smooth one-node (Laplace) objective at K >= 8 has directions whose
 * curvature differs by 1e6 (the loadings of near-floor benchmarks against
 * Sigma's rows near the boundary): L-BFGS crawls there (3000 iterations
 * left max |g| at 0.02-0.03), and Newton, whose Hessian holds the modes'
 * node map fixed, converges only linearly.  So L-BFGS runs in coordinates
 * that the Hessian whitens, theta = x0 + V |Lambda|^-1/2 y (eigenvalues
 * floored at max(1e-8 top, 1e-3)), re-whitened at the end point of each
 * round; convergence is judged on the gradient in theta.
 */
typedef struct {
    ls_model *m;
    const double *x0, *S; /* theta = x0 + S y, S dim x dim row-major */
    double *th, *g;       /* the last point and its gradient in theta */
    double gmax;
} pc_ctx;

static int pc_negll(void *ctx, const double *y, double *f, double *gy)
{
    pc_ctx *c = ctx;
    size_t n = ls_model_dim(c->m);
    for (size_t i = 0; i < n; i++) {
        double s = c->x0[i];
        for (size_t k = 0; k < n; k++) s += c->S[i * n + k] * y[k];
        c->th[i] = s;
    }
    int rc = ls_model_negll(c->m, c->th, f, c->g);
    if (rc) return rc;
    double gm = 0;
    for (size_t i = 0; i < n; i++) gm = fmax(gm, fabs(c->g[i]));
    c->gmax = gm;
    for (size_t k = 0; k < n; k++) {
        double s = 0;
        for (size_t i = 0; i < n; i++) s += c->S[i * n + k] * c->g[i];
        gy[k] = s;
    }
    return LS_OK;
}

static double pc_measure(void *ctx) { return ((pc_ctx *)ctx)->gmax; }

int lsfit_precond_polish(ls_model *m, double *th, const ls_fit_options *o, int rounds, const char *stage,
                         ls_opt_report *tot, ls_error *err)
{
    size_t n = ls_model_dim(m);
    memset(tot, 0, sizeof *tot);
    double *H = ls_calloc(n * n, sizeof(double)), *V = ls_calloc(n * n, sizeof(double));
    double *S = ls_calloc(n * n, sizeof(double)), *lam = ls_calloc(n, sizeof(double));
    double *x0 = ls_calloc(n, sizeof(double)), *y = ls_calloc(n, sizeof(double));
    double *tw = ls_calloc(n, sizeof(double)), *g = ls_calloc(n, sizeof(double));
    int rc = LS_OK;
    if (!H || !V || !S || !lam || !x0 || !y || !tw || !g) { rc = ls_nomem(err); goto done; }
    ls_opt_options oo;
    ls_opt_options_init(&oo);
    oo.gtol = o->gtol;
    oo.rounds = 2;
    oo.max_iter = 200;
    oo.progress = o->progress;
    oo.progress_ctx = o->progress_ctx;
    oo.stage = stage;
    oo.measure = pc_measure;
    ls_model_set_freeze(m, 0);
    double prev = INFINITY;
    for (int round = 0; round <= rounds; round++) {
        double f;
        rc = ls_model_negll(m, th, &f, g);
        if (rc) { rc = ls_fail(err, rc, "the likelihood could not be evaluated"); break; }
        tot->evals++;
        double gm = 0;
        for (size_t i = 0; i < n; i++) gm = fmax(gm, fabs(g[i]));
        tot->f = f;
        tot->gmax = gm;
        if (gm <= o->gtol) {
            tot->converged = 1;
            snprintf(tot->reason, sizeof tot->reason, "max |gradient| <= %g", o->gtol);
            break;
        }
        if (round == rounds || !(prev - f > 1e-7)) break; /* the last round gained nothing */
        prev = f;
        rc = negll_hessian(m, th, H);
        if (rc) {
            rc = rc == LS_ERR_NOMEM ? ls_nomem(err) : ls_fail(err, rc, "the Hessian could not be evaluated");
            break;
        }
        if (ls_eigen_symm(H, n, lam, V)) { rc = ls_nomem(err); break; }
        double top = 0;
        for (size_t i = 0; i < n; i++) top = fmax(top, fabs(lam[i]));
        if (!isfinite(top)) { rc = ls_fail(err, LS_ERR_NUMERIC, "the Hessian is not finite"); break; }
        double fl = fmax(1e-8 * top, 1e-3);
        for (size_t k = 0; k < n; k++) {
            double sc = 1 / sqrt(fmax(fabs(lam[k]), fl));
            for (size_t i = 0; i < n; i++) S[i * n + k] = V[i * n + k] * sc;
        }
        memcpy(x0, th, n * sizeof(double));
        memset(y, 0, n * sizeof(double));
        pc_ctx c = {m, x0, S, tw, g, gm};
        ls_opt_report rep;
        rc = ls_minimise(pc_negll, &c, y, n, &oo, &rep, err);
        tot->iter += rep.iter;
        tot->evals += rep.evals;
        snprintf(tot->reason, sizeof tot->reason, "%s", rep.reason);
        if (rc) break;
        for (size_t i = 0; i < n; i++) {
            double s = x0[i];
            for (size_t k = 0; k < n; k++) s += S[i * n + k] * y[k];
            th[i] = s;
        }
    }
done:
    ls_free(H); ls_free(V); ls_free(S); ls_free(lam); ls_free(x0); ls_free(y); ls_free(tw); ls_free(g);
    return rc;
}

/* Polish th to o->gtol on m: Newton re-adapting the nodes at every step.
 * When that does not converge, the rule cannot resolve gtol as its nodes
 * move (a coarse grid at high K; QMC, whose re-centring moves every node):
 * Newton on the node map frozen there (a well-defined optimum, found in a
 * few steps; the fit still reports the re-adapted gradient and is not
 * called converged), and L-BFGS rounds if even that stalls.  With the
 * clip a stalled Newton (KINK_FTOL) ends it. */
int lsfit_polish_point(ls_model *m, double *th, const ls_fit_options *o, const double *known, double f_known,
                       const char *stage, ls_opt_report *rep, ls_error *err)
{
    double ftol = o->logit_clamp > 0 ? KINK_FTOL : 0;
    size_t dim = ls_model_dim(m);
    if (ls_model_is_laplace(m)) {
        /* the smooth one-node objective: L-BFGS on its exact gradient in
         * whitened coordinates, then Newton (whose frozen-map Hessian leaves
         * out the curvature's motion, so it converges only linearly) */
        int rc = lsfit_precond_polish(m, th, o, 6, stage, rep, err);
        if (!rc && !rep->converged) {
            unsigned ni = rep->iter, ne = rep->evals;
            rc = lsfit_newton_polish(m, th, o, LSFIT_NEWTON_ADAPT, known, f_known, ftol, stage, rep, err);
            rep->iter += ni;
            rep->evals += ne;
        }
        return rc;
    }
    int rc = lsfit_newton_polish(m, th, o, LSFIT_NEWTON_ADAPT, known, f_known, ftol, stage, rep, err);
    if (!rc && !rep->converged && !rep->abandoned && !rep->stalled) {
        unsigned ni = rep->iter, ne = rep->evals;
        ls_opt_report fr;
        double *keep = ls_calloc(dim, sizeof(double));
        if (!keep) return ls_nomem(err);
        memcpy(keep, th, dim * sizeof(double));
        rc = lsfit_newton_polish(m, th, o, LSFIT_NEWTON_FROZEN, NULL, 0, 0, stage, &fr, err);
        if (!rc && fr.converged) {
            *rep = fr;
            rep->iter += ni;
            rep->evals += ne;
            ls_free(keep);
            return LS_OK;
        }
        memcpy(th, keep, dim * sizeof(double));
        ls_free(keep);
        if (rc == LS_ERR_CANCEL || rc == LS_ERR_NOMEM) return rc;
    }
    if (!rc && !rep->converged && !rep->abandoned && !rep->stalled) {
        unsigned ni = rep->iter, ne = rep->evals;
        rc = lsfit_optimise_start(m, th, o, stage, rep, err);
        rep->iter += ni;
        rep->evals += ne;
    }
    return rc;
}
