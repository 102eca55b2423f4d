/*
 * fit_stages.c -- the stages of ls_fit_run on the rules of its plan
 * (ls_fit_plan): every start searched on a coarse rule, the most promising
 * distinct ones polished, the best finished on the accurate rule; then the
 * check of its value, the standard errors and the warnings.
 */
#include "scaling/fit_impl.h"

#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* A fatal status from a stage's optimiser (its error in e2): cancelled or
 * out of memory end the fit; any other failure only drops that start. */
static int fatal(lsfit_run *r, int rc, const ls_error *e2)
{
    if (rc != LS_ERR_CANCEL && rc != LS_ERR_NOMEM) return 0;
    if (r->err) *r->err = *e2;
    return 1;
}

/* Stage 1: every start on the search rule (ls_fit_plan: L-BFGS, then
 * Newton until a step no longer improves); this finds the basins. */
int lsfit_search(lsfit_run *r)
{
    const ls_fit_options *o = r->o;
    const ls_layout *l = &r->lay;
    ls_fit *f = r->f;
    size_t K = l->K, dim = l->dim;
    ls_model *mm = r->ms ? r->ms : r->m;
    ls_fit_options so = *o;
    so.gtol = r->plan.search_gtol;
    so.max_iter = o->max_iter < r->plan.search_iter ? o->max_iter : r->plan.search_iter;
    /* the family effect starts from the fit without it, which ran every
     * start: from there with every tau_j at LS_FE_TAU0, 0.5 and 1 (its
     * likelihood has several maxima: a family's deviations can go to one
     * benchmark's tau or to a correlated one's; on the paper split at K = 2
     * starts at 0.1 alone ended 10.7 below the best) */
    static const double tau_start[] = {LS_FE_TAU0, 0.5, 1.0};
    /* A single start given by the caller (ls_fit_run_from: the folds of
     * calibrate and select, from the fit to all rows) is already in the
     * basin it should describe: the search is skipped and the polish
     * starts there.  Searching it on the coarse rule first let the refit
     * wander: on the paper data (K = 4, --holdout largest) 3 of 5
     * calibration refits ended unconverged and the evaluation took 523 s
     * wall, against 131 s without the search, every refit converged
     * (docs/EVALUATION.md 0.10). */
    if (r->warm_used && o->starts == 1) {
        memcpy(r->start_th, r->th0, dim * sizeof(double));
        f->start_ll[0] = 0;
        f->t_search = lsfit_since(&r->t0);
        r->best_search = 0;
        return LS_OK;
    }
    unsigned nstart = l->fe ? (o->starts < 3 ? o->starts : 3) : o->starts;
    for (unsigned s = nstart; s < o->starts; s++) f->start_ll[s] = NAN;
    for (unsigned s = 0; s < nstart; s++) {
        double *ts = r->start_th + (size_t)s * dim;
        memcpy(ts, r->th0, dim * sizeof(double));
        /* Three starts in four begin without cross-loadings: every benchmark
         * that anchors no skill starts at lambda = 0 and the data build its
         * loadings.  The principal-components start, rotated so that the
         * anchors' block is the identity, carries large loadings of opposite
         * sign when the anchors are nearly collinear, and on the paper data
         * at K = 4 seven of eight such starts ended in a basin 12.8 below
         * the best (log-likelihood 3099.5, loadings of +-6 to +-15 that
         * cancel), against eight of eight zero starts in the best one. */
        if (s % 4 != 1 && !l->fe)
            for (size_t j = 0; j < l->J; j++)
                if (l->anchor_of[j] < 0)
                    for (size_t k = 0; k < K; k++) ts[l->lam_off[j] + k] = 0;
        if (l->fe)
            for (size_t j = 0; j < l->J; j++) ts[l->off_t + j] = tau_start[s];
        else if (s > 0) lsfit_perturb(r->m, ts, o->seed, s);
        ls_model_reset_modes(mm);
        snprintf(r->stage, sizeof r->stage, "K=%zu start %u/%u", K, s + 1, nstart);
        ls_opt_report rep;
        ls_error e2;
        int rc = lsfit_optimise_start(mm, ts, &so, r->stage, &rep, &e2);
        if (!rc && r->plan.search_newton) { /* and to a tight tolerance on the coarse rule, by Newton */
            ls_fit_options sn = *o;
            sn.gtol = r->plan.search_newton_gtol;
            rc = lsfit_newton_polish(mm, ts, &sn, LSFIT_NEWTON_COARSE, NULL, 0, 0, r->stage, &rep, &e2);
        }
        if (fatal(r, rc, &e2)) return rc;
        f->start_ll[s] = rc ? NAN : -rep.f; /* an infeasible start is recorded and skipped */
    }
    f->t_search = lsfit_since(&r->t0);
    r->best_search = -INFINITY;
    for (unsigned s = 0; s < o->starts; s++)
        if (f->start_ll[s] > r->best_search) r->best_search = f->start_ll[s];
    if (!isfinite(r->best_search)) return ls_fail(r->err, LS_ERR_NUMERIC, "no start gave a finite likelihood; check the data");
    return LS_OK;
}

/* Stage 2: the most promising distinct starts (ls_fit_plan: npolish,
 * promising) polished on the polish rule, the best kept in r->best.
 * Distinct: the search end points differ by 0.05 or more in some
 * coordinate. */
int lsfit_polish(lsfit_run *r)
{
    const ls_fit_options *o = r->o;
    ls_fit *f = r->f;
    size_t K = r->lay.K, dim = r->lay.dim;
    ls_model *mpol = r->mp ? r->mp : r->m;
    r->best_ll = -INFINITY;
    memset(&r->best_rep, 0, sizeof r->best_rep);
    r->polished = 0;
    for (unsigned round = 0; round < o->starts && r->polished < r->plan.npolish; round++) {
        /* next best unpolished start that is not a copy of a polished one */
        long pick = -1;
        for (unsigned s = 0; s < o->starts; s++) {
            if (!isfinite(f->start_ll[s]) || r->considered[s]) continue;
            if (pick < 0 || f->start_ll[s] > f->start_ll[pick]) pick = s;
        }
        if (pick < 0 || r->best_search - f->start_ll[pick] > r->plan.promising) break;
        int dup = 0;
        for (unsigned s = 0; s < o->starts && !dup; s++) {
            if (isnan(f->polish_ll[s])) continue;
            const double *a = r->start_th + (size_t)s * dim, *b = r->start_th + (size_t)pick * dim;
            double dmax = 0;
            for (size_t i = 0; i < dim; i++) dmax = fmax(dmax, fabs(a[i] - b[i]));
            dup = dmax < 0.05;
        }
        r->considered[pick] = 1;
        if (dup) continue;
        memcpy(r->th, r->start_th + (size_t)pick * dim, dim * sizeof(double));
        ls_model_reset_modes(mpol);
        snprintf(r->stage, sizeof r->stage, "K=%zu polish %u", K, r->polished + 1);
        ls_opt_report rep;
        ls_error e2;
        /* after the first: abandoned once it heads for the best point */
        const double *known = isfinite(r->best_ll) ? r->best : NULL;
        int rc;
        if (ls_model_is_laplace(mpol)) rc = lsfit_precond_polish(mpol, r->th, o, 1, r->stage, &rep, &e2);
        else if (r->plan.polish_coarse)
            rc = lsfit_newton_polish(mpol, r->th, o, LSFIT_NEWTON_COARSE, known, -r->best_ll, 0, r->stage, &rep, &e2);
        else rc = lsfit_polish_point(mpol, r->th, o, known, -r->best_ll, r->stage, &rep, &e2);
        if (fatal(r, rc, &e2)) return rc;
        r->polished++;
        if (rc) continue;
        if (rep.abandoned) { /* the quadratic model's value at the best point */
            f->polish_ll[pick] = -rep.f_pred;
            continue;
        }
        f->polish_ll[pick] = -rep.f;
        if (-rep.f > r->best_ll) {
            r->best_ll = -rep.f;
            r->best_rep = rep;
            memcpy(r->best, r->th, dim * sizeof(double));
        }
    }
    if (!isfinite(r->best_ll))
        return ls_fail(r->err, LS_ERR_NUMERIC, "no start could be polished to a finite likelihood");
    return LS_OK;
}

/*
 * The finish on a rule whose nodes move with the parameters (ls_fit_plan:
 * finish_frozen), as a fixed-point iteration: adapt the node map at the
 * point, maximise the smooth frozen-map objective by Newton to gtol (trust
 * region, analytic Hessian), and repeat from its optimum.  At a fixed
 * point the nodes are adapted at the point itself and the gradient there
 * (the rule applied to the score integrand) is below gtol: the gradient
 * certificate that ls_fit_converged reports.  The map contracts because
 * the integral hardly depends on where an accurate rule puts its nodes: on
 * the paper data at K = 6 the re-adapted max |gradient| went 0.87, 0.13,
 * 0.017, 0.010, 0.006 over five cycles of the level-3 sparse grid, and at
 * K = 7 it fell by 0.6-0.8 a cycle from 1.7; the cycles after the first
 * take one or two Newton steps.  (One Newton step a cycle, the chord
 * method, diverged at K = 6: the frozen Hessian is nearly singular in the
 * directions of the correlation matrices' boundary, where the optimum
 * lies, and only the trust region keeps those steps short.)  It stops
 * after LSFIT_FINISH_CYCLES cycles, or when three cycles in a row did not
 * reduce the gradient (not converged: the rule is too coarse for the
 * family posteriors), or when Newton on the frozen objective failed to
 * reach gtol in two cycles: then the objective has no interior maximum
 * within reach and each cycle only creeps along a flat direction (not
 * converged).  On the paper data at K = 7 without every family's
 * largest model (select's sibling hold-out) the skill correlations drift
 * towards their boundary: Newton spent its 40 steps in cycle after cycle,
 * the re-adapted value crept up by 0.1-0.6 a cycle and jumped back by 2
 * as the sparse grid's nodes followed the degenerating posteriors (max
 * |g| 1.5-210), 25 s a cycle on the level-3 grid and more on level 4,
 * past 30 minutes in all.  At K = 6 the same hold-out alternated: 40
 * steps, 37 (converged), 7, 40, 14, 26, 9, 40, the value creeping up by
 * 0.01 a cycle and max |g| between 0.08 and 31, so two missed cycles, not
 * two in a row, end it.  Healthy fits converge on the frozen objective in
 * every cycle (one or two steps after the first).  The cycles carry the
 * Newton matrix from one to the next (and from the prefinish's grid to the
 * accurate one; a cycle that misses gtol with it is not counted among the
 * misses and drops it, so the next starts from a fresh Hessian, as all did
 * before 0.19.0), and a cycle after the first starts on the node map the
 * previous cycle's check adapted at the same point.  gstop: the cycles end
 * once the re-adapted max |gradient| is below it (gtol on the accurate
 * rule; LSFIT_PREFINISH_GTOL gtol on the prefinish's, whose optimum the
 * accurate rule moves anyway: on the paper data at K = 7 its last five
 * cycles to gtol cost 3.4 s and left the level-4 gradient where it was).
 */
#define LSFIT_FINISH_CYCLES 30
#define LSFIT_PREFINISH_GTOL 5.0
static int finish_fixed_point(lsfit_run *r, ls_model *m, double gstop, double *carry, int *valid,
                              ls_opt_report *rep, int *no_interior, ls_error *e2)
{
    *no_interior = 0;
    const ls_fit_options *o = r->o;
    size_t dim = r->lay.dim;
    unsigned it = 0, ev = 0;
    double *g = ls_calloc(dim, sizeof(double));
    if (!g) return ls_nomem(e2);
    double gbest = INFINITY;
    int rc = LS_OK, worse = 0, unsolved = 0;
    for (int cycle = 0; cycle < LSFIT_FINISH_CYCLES; cycle++) {
        int carried = *valid;
        rc = lsfit_newton_frozen_carry(m, r->th, o, r->stage, carry, valid, cycle > 0, rep, e2);
        /* a miss with a carried matrix is not counted: the next cycle starts
         * from a fresh Hessian, as every cycle did before 0.19.0 */
        int missed = !rc && !rep->converged;
        unsolved += missed && !carried;
        if (missed) *valid = 0;
        it += rep->iter;
        ev += rep->evals;
        if (rc) break;
        /* the gradient with the nodes adapted here */
        double ll;
        ls_model_set_freeze(m, 0);
        if ((rc = ls_model_loglik(m, r->th, &ll, g, NULL, e2))) break;
        ev++;
        double gm = 0;
        for (size_t i = 0; i < dim; i++) gm = fmax(gm, fabs(g[i]));
        rep->f = -ll;
        rep->gmax = gm;
        rep->converged = gm <= o->gtol;
        if (gm <= gstop) {
            snprintf(rep->reason, sizeof rep->reason, "max |gradient| <= %g at re-adapted nodes (%d cycles)", gstop,
                     cycle + 1);
            break;
        }
        if (unsolved >= 2) {
            *no_interior = 1;
            snprintf(rep->reason, sizeof rep->reason, "no interior maximum: Newton missed gtol in %d cycles",
                     unsolved);
            break;
        }
        worse = gm >= gbest ? worse + 1 : 0;
        gbest = fmin(gbest, gm);
        if (worse >= 3) {
            snprintf(rep->reason, sizeof rep->reason, "re-adapting stopped reducing max |g| (%.3g, cycle %d)", gm,
                     cycle + 1);
            break;
        }
        if (cycle + 1 == LSFIT_FINISH_CYCLES)
            snprintf(rep->reason, sizeof rep->reason, "max |gradient| %.3g after %d re-adapted cycles", gm, cycle + 1);
    }
    ls_free(g);
    rep->iter = it;
    rep->evals = ev;
    rep->stalled = 0;
    rep->frozen = 0; /* the reported gradient is the re-adapted one */
    return rc;
}

/* The best polished point finished on the accurate rule (ls_fit_plan:
 * finish, finish_frozen), without losing: the re-adapted values before
 * and after are compared. */
static int finish_on_accurate_rule(lsfit_run *r)
{
    const ls_fit_options *o = r->o;
    ls_model *m = r->m;
    size_t dim = r->lay.dim;
    snprintf(r->stage, sizeof r->stage, "K=%zu finish", r->lay.K);
    ls_opt_report rep;
    ls_error e2;
    double ll_in = -INFINITY, ll_out = -INFINITY;
    memcpy(r->th, r->best, dim * sizeof(double));
    ls_model_reset_modes(m);
    ls_model_set_freeze(m, 0);
    if (ls_model_loglik(m, r->th, &ll_in, NULL, NULL, &e2)) ll_in = -INFINITY;
    int rc;
    if (r->plan.finish_frozen && o->logit_clamp > 0) {
        /* with the clip the frozen objective has kinks too: two cycles,
         * each stopping once Newton stops gaining */
        unsigned it = 0, ev = 0;
        for (int cycle = 0; cycle < 2; cycle++) {
            rc = lsfit_newton_polish(m, r->th, o, LSFIT_NEWTON_FROZEN, NULL, 0, r->plan.finish_ftol, r->stage, &rep,
                                     &e2);
            it += rep.iter;
            ev += rep.evals;
            if (rc || rep.converged || rep.stalled) break;
        }
        rep.iter = it;
        rep.evals = ev;
    } else if (r->plan.finish_frozen) {
        /* on the cheaper rule first, then on the accurate one */
        /* (where the cheaper rule finds no interior maximum, the accurate one
         * is not tried: it would creep the same way at several times the
         * cost, 4 of the 5 minutes of the K = 7 sibling hold-out above) */
        unsigned it0 = 0, ev0 = 0;
        int flat = 0, valid = 0;
        double *carry = ls_calloc(dim * dim, sizeof(double));
        if (!carry) return ls_nomem(r->err);
        rc = r->mq ? finish_fixed_point(r, r->mq, LSFIT_PREFINISH_GTOL * o->gtol, carry, &valid, &rep, &flat, &e2)
                   : LS_OK;
        if (r->mq) {
            it0 = rep.iter;
            ev0 = rep.evals;
        }
        if (!rc && !flat) {
            rc = finish_fixed_point(r, m, o->gtol, carry, &valid, &rep, &flat, &e2);
            rep.iter += it0;
            rep.evals += ev0;
        }
        ls_free(carry);
    } else if (ls_model_is_laplace(m)) /* no Newton after it: on a kink it would spend 40 steps */
        rc = lsfit_precond_polish(m, r->th, o, 6, r->stage, &rep, &e2);
    else
        rc = lsfit_polish_point(m, r->th, o, NULL, 0, r->stage, &rep, &e2);
    if (fatal(r, rc, &e2)) return rc;
    /* the finish must not lose: compare re-adapted values */
    ls_model_set_freeze(m, 0);
    if (!rc && isfinite(rep.f) && !ls_model_loglik(m, r->th, &ll_out, NULL, NULL, &e2) &&
        !(ll_out < ll_in - 1e-9)) {
        ls_opt_report *b = &r->best_rep;
        memcpy(r->best, r->th, dim * sizeof(double));
        b->iter += rep.iter;
        b->evals += rep.evals;
        b->frozen = rep.frozen;
        b->converged = rep.converged;
        b->stalled = rep.stalled;
        b->gmax = rep.gmax;
        snprintf(b->reason, sizeof b->reason, "%s", rep.reason);
    } else if (!rc && isfinite(ll_out)) {
        lsfit_warn(r->f, "the polish on the accurate rule lowered the log-likelihood (%.4f to %.4f); the point before it is reported",
                   ll_in, ll_out);
    }
    return LS_OK;
}

/* Stage 3: the finish, then the fit's numbers at the best point. */
int lsfit_finish(lsfit_run *r)
{
    const ls_fit_options *o = r->o;
    ls_fit *f = r->f;
    int rc;
    if (r->plan.finish && (rc = finish_on_accurate_rule(r))) return rc;
    /* agreement: polished starts that ended within 0.01 of the best; with
     * the clip within 0.05, since a polish stalled on the kinks stops short
     * by up to about 0.02 (KINK_FTOL; on the paper data's K = 4 two starts
     * stopped at 3123.486 and 3123.465 on the polish rule) */
    r->agree = o->logit_clamp > 0 ? 50 * KINK_FTOL : 0.01;
    for (unsigned s = 0; s < o->starts; s++)
        if (!isnan(f->polish_ll[s]) && r->best_ll - f->polish_ll[s] < r->agree) f->starts_at_best++;

    f->t_polish = lsfit_since(&r->t0) - f->t_search;
    /* final evaluation at the best point, modes re-found from scratch */
    if ((rc = lsfit_finish_at(f, r->m, r->d, r->best, r->th, &r->nfail, r->err))) return rc;
    f->converged = f->gmax <= o->gtol;
    /* with the clip, gtol is out of reach at the kinks: a polish on the
     * re-adapted node map that stopped because Newton stopped gaining
     * (KINK_FTOL) is converged by the change of the log-likelihood */
    if (!f->converged && o->logit_clamp > 0 && r->best_rep.stalled && !r->best_rep.frozen)
        f->converged = LS_CONVERGED_CHANGE;
    if (r->best_rep.frozen) {
        f->frozen = 1;
        f->gmax_frozen = r->best_rep.gmax;
    }
    if (r->f0 && o->family_effect) {
        /* tau = 0 is on the boundary: under the null the statistic is a
         * mixture of chi-square(k), k = 0..J, with binomial(J, 1/2) weights
         * (independent variance components) */
        size_t J = f->J;
        f->have_fe_lr = 1;
        f->fe_ll0 = r->f0->loglik;
        f->fe_lr = fmax(2 * (f->loglik - r->f0->loglik), 0);
        double p = 0, lw = -(double)J * log(2.0);
        for (size_t k = 1; k <= J; k++) {
            double lc = lgamma((double)J + 1) - lgamma((double)k + 1) - lgamma((double)(J - k) + 1);
            p += exp(lc + lw) * gsl_cdf_chisq_Q(f->fe_lr, (double)k);
        }
        f->fe_p = fmin(p, 1);
    } else if (r->f0) {
        f->have_lr = 1;
        f->ll_const = r->f0->loglik;
        f->aic_const = r->f0->aic;
        f->lr = 2 * (f->loglik - r->f0->loglik);
        f->lr_df = (double)(f->dim - r->f0->dim);
        f->lr_p = gsl_cdf_chisq_Q(fmax(f->lr, 0), f->lr_df);
    }
    f->iter = r->best_rep.iter;
    f->evals = r->best_rep.evals;
    snprintf(f->reason, sizeof f->reason, "%s", r->best_rep.reason);
    return LS_OK;
}

/* How far off is the value at the estimate?  Its check rule (ls_fit_plan:
 * check), with a warning for a family whose value the fit's rule got
 * wrong (LS_CHECK_FAMILY_GAP). */
int lsfit_check(lsfit_run *r)
{
    const ls_data *d = r->d;
    const ls_fit_options *o = r->o;
    ls_fit *f = r->f;
    size_t F = d->F;
    f->check_integration = r->plan.check.kind;
    f->check_nodes = r->plan.check.nodes;
    if (!f->check_integration || o->skip_check) return LS_OK;
    ls_error e2 = {0, ""};
    double v = NAN;
    size_t pts = 0;
    char meth[16] = "";
    int ci = f->check_integration;
    unsigned cn = f->check_nodes;
    double *fc = ls_calloc(F, sizeof(double));
    int rc2 = fc ? ls_check_loglik(d, o, o->threads, r->best, &ci, &cn, &v, &f->ll_check_se, fc, &pts, meth, &e2)
                 : ls_nomem(&e2);
    if (rc2 == LS_ERR_NOMEM) {
        ls_free(fc);
        if (r->err) *r->err = e2;
        return LS_ERR_NOMEM;
    }
    if (rc2 == LS_OK) {
        if (ci != f->check_integration)
            lsfit_warn(f, "the check's sparse grid failed (%s); importance sampling with %zu points was used instead",
                       e2.message, pts);
        f->ll_check = v;
        f->check_points = pts;
        f->check_integration = ci;
        f->check_nodes = cn;
        snprintf(f->check_method, sizeof f->check_method, "%s", meth);
        size_t worst = 0;
        for (size_t g = 1; g < F; g++)
            if (fabs(fc[g] - f->fam_ll[g]) > fabs(fc[worst] - f->fam_ll[worst])) worst = g;
        double gap = v - f->loglik, tol = fmax(LS_CHECK_TOTAL_GAP, 2 * f->ll_check_se);
        if (isfinite(gap) && fabs(gap) > tol)
            lsfit_warn(f, "the log-likelihood on the fit's rule (%.3f) is %.3f %s the check's (%s: %.3f, se %.3f): the "
                          "estimate maximises the fit's approximation, which is off by more than %.2f",
                       f->loglik, fabs(gap), gap > 0 ? "below" : "above", meth, v, f->ll_check_se, tol);
        if (fabs(fc[worst] - f->fam_ll[worst]) > LS_CHECK_FAMILY_GAP)
            lsfit_warn(f, "family '%s': log-likelihood %.2f on the fit's rule, %.2f on the check's (%s); the integration is unreliable for it (try `integration` qmc)",
                       d->family[worst], f->fam_ll[worst], fc[worst], meth);
    } else
        lsfit_warn(f, "the check of the log-likelihood at the estimate failed: %s", e2.message);
    ls_free(fc);
    return LS_OK;
}

/* The standard errors at the estimate (ls_infer), unless skipped; when
 * they are unavailable the fit says why. */
int lsfit_standard_errors(lsfit_run *r)
{
    ls_fit *f = r->f;
    double t_se0 = lsfit_since(&r->t0);
    if (!r->o->skip_se) {
        ls_error e2;
        int rc = ls_infer(r->m, r->best, &f->inf, &e2);
        if (rc == LS_ERR_NOMEM) {
            if (r->err) *r->err = e2;
            return rc;
        }
        if (rc) lsfit_warn(f, "standard errors unavailable: %s", e2.message);
        else {
            f->have_se = 1;
            /* the second half of the certificate: a maximum, not a saddle */
            f->hessian = f->inf.ok[LS_SE_HESSIAN] && f->inf.min_eig > 0;
            f->info_min_eig = f->inf.min_eig;
            if (!f->hessian) f->converged = 0;
            if (!f->inf.ok[LS_SE_HESSIAN])
                lsfit_warn(f, "the observed information is not positive definite (smallest eigenvalue %.3g): no Hessian or sandwich standard errors",
                           f->inf.min_eig);
            else if (f->inf.min_eig < 1e-6)
                lsfit_warn(f, "the observed information is nearly singular (smallest eigenvalue %.3g): some standard errors are very large",
                           f->inf.min_eig);
        }
    }
    f->t_se = lsfit_since(&r->t0) - t_se0;
    return LS_OK;
}

/* What the user should know about the data and the optimum. */
int lsfit_closing_warnings(lsfit_run *r)
{
    const ls_data *d = r->d;
    const ls_fit_options *o = r->o;
    ls_fit *f = r->f;
    if (d->warning) lsfit_warn(f, "%s", d->warning);
    if (d->nclipped)
        lsfit_warn(f, "%zu scores at or beyond 0 or 1 were clipped into [clip, 1 - clip]", d->nclipped);
    if (d->ndup)
        lsfit_warn(f, "%zu model names appear more than once; each row is kept as an evaluation", d->ndup);
    if (!f->converged && f->hessian == 0 && f->gmax <= o->gtol)
        lsfit_warn(f, "the estimate is not certified as a maximum: max |gradient| %.3g is below `gtol`, but the Hessian is not negative definite "
                      "(smallest eigenvalue of the observed information %.3g)",
                   f->gmax, f->info_min_eig);
    else if (!f->converged) lsfit_warn(f, "the optimiser did not converge: max |gradient| = %.3g", f->gmax);
    if (f->converged == LS_CONVERGED_CHANGE)
        lsfit_warn(f, "`logit_clamp`: the likelihood has kinks where a cell's eta crosses the clip; max |gradient| %.3g, "
                      "converged instead by its change (two Newton steps in a row each gained less than %g)",
                   f->gmax, KINK_FTOL);
    else if (!f->converged && o->logit_clamp > 0)
        lsfit_warn(f, "`logit_clamp`: the likelihood has kinks where a cell's eta crosses the clip, so max |gradient| "
                      "need not reach `gtol` (the polish stops once two Newton steps in a row each gain less than %g)",
                   KINK_FTOL);
    if (r->nfail)
        lsfit_warn(f, "%zu famil%s: posterior-mode search stopped short of its tolerance", r->nfail,
                   r->nfail == 1 ? "y" : "ies");
    if (r->polished > 1 && f->starts_at_best < 2) {
        /* values on the rule the candidates were polished on, which for
         * K >= 3 is coarser than the reported one */
        double next = -INFINITY;
        for (unsigned s = 0; s < o->starts; s++)
            if (!isnan(f->polish_ll[s]) && r->best_ll - f->polish_ll[s] >= r->agree && f->polish_ll[s] > next)
                next = f->polish_ll[s];
        if (isfinite(next) && r->lay.fe)
            lsfit_warn(f, "the %u polished starts ended at different log-likelihoods (on the rule they were polished on: "
                          "best %.4f, next %.4f); the family effect's fit runs three starts (every tau_j at 0.1, 0.5, "
                          "1) from the fit without it, and reports the best",
                       r->polished, r->best_ll, next);
        else if (isfinite(next))
            lsfit_warn(f, "the %u polished starts ended at different log-likelihoods (on the rule they were polished on: "
                          "best %.4f, next %.4f); consider more `starts`",
                       r->polished, r->best_ll, next);
        else
            lsfit_warn(f, "of the %u polished starts only one ended at a finite log-likelihood; consider more `starts`",
                       r->polished);
    }
    for (size_t j = 0; j < d->J; j++)
        if (f->est.phi[j] > 1e5) lsfit_warn(f, "precision of '%s' is very large (%.3g)", d->bench[j], f->est.phi[j]);
    return lsfit_sigma_warning(f, r->err);
}
