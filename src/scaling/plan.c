/*
 * plan.c -- the integration rules of a fit's stages and the constants that
 * go with them (see plan.h).  The timings and distances quoted are the
 * paper data's (docs/METHOD.md, bench/bench_fit, bench/bench_accuracy).
 */
#include "scaling/plan.h"

#include <math.h>

/* Defaults from measured accuracy (bench_accuracy and test_models):
 * adaptive GH converges fast in the number of nodes per dimension, and
 * the product grid is the rule up to K = 3.  For K = 4..7 a sparse grid
 * is both cheaper and more accurate than a product grid: level 4 (681,
 * 1341, 2381, 3921 nodes at K = 4..7; at the paper data's optima 0.04,
 * 0.05, 0.035 and 0.032 off the importance-sampling reference at K = 4, 5,
 * 6, 7, against 0.21-0.26 for level 3 and 1.53-1.57 for the 3-node
 * product grid at K = 6, 7).  Above,
 * the Laplace approximation, whose re-adapted value is smooth with an
 * exact gradient (laplace_motion), so that it can be optimised; the fit
 * then checks its value by importance sampling (ls_plan_check;
 * docs/METHOD.md: at K = 9 the mirrored QMC rule with 512 points, the
 * earlier default, was 13.8 off and could not be optimised with its
 * nodes moving). */
ls_rule_spec ls_plan_resolve(int integration, unsigned nodes, size_t K)
{
    if (integration == LS_INT_AUTO) integration = K <= 3 ? LS_INT_GH : K <= 7 ? LS_INT_SPARSE : LS_INT_LAPLACE;
    ls_rule_spec s = {integration, nodes};
    switch (integration) {
    case LS_INT_LAPLACE: s.nodes = 1; break;
    case LS_INT_GH:
        if (!nodes) s.nodes = K == 1 ? 20 : K == 2 ? 14 : K == 3 ? 12 : K <= 5 ? 4 : 3;
        break;
    case LS_INT_SPARSE:
        if (!nodes) s.nodes = 4;
        break;
    case LS_INT_QMC:
        if (!nodes) s.nodes = 512;
        break;
    default: break;
    }
    return s;
}

/* On the simulated K = 2 test data of test_models (30 families), 6 Gauss-
 * Hermite nodes per dimension were 5e-4 below 16; the check (the finer
 * rule) reports the distance on every fit. */
ls_rule_spec ls_plan_family_effect_rule(size_t K)
{
    ls_rule_spec s;
    if (K <= 3) {
        s.kind = LS_INT_GH;
        s.nodes = K == 1 ? 20 : K == 2 ? 8 : 5;
    } else {
        s.kind = LS_INT_SPARSE;
        s.nodes = 3;
    }
    return s;
}

int ls_plan_rule_new(const ls_rule_spec *s, size_t K, ls_rule *rule, ls_error *err)
{
    switch (s->kind) {
    case LS_INT_LAPLACE: return ls_rule_laplace(rule, K, err);
    case LS_INT_GH: return ls_rule_gh(rule, K, s->nodes, K <= 3 ? 1e-9 : 1e-5, err);
    case LS_INT_SPARSE: return ls_rule_sparse(rule, K, s->nodes, err);
    case LS_INT_QMC:
        /* per-family points in blocks, a t proposal; points rounded up to
         * a multiple of 2 blocks */
        return ls_rule_rqmc(rule, K, (s->nodes + 2 * LS_RQMC_BLOCKS - 1) / (2 * LS_RQMC_BLOCKS) * (2 * LS_RQMC_BLOCKS),
                            LS_RQMC_BLOCKS, LS_RQMC_DF, 20251206u, err);
    default: return ls_fail(err, LS_ERR_OPTION, "unknown integration method %d", s->kind);
    }
}

int ls_plan_is_laplace(const ls_rule_spec *s)
{
    return s->kind == LS_INT_LAPLACE || (s->kind == LS_INT_GH && s->nodes == 1);
}

ls_rule_spec ls_plan_check(const ls_rule_spec *a, size_t K)
{
    ls_rule_spec c = {0, 0};
    if (ls_plan_is_laplace(a)) {
        c.kind = LS_INT_QMC;
        c.nodes = LS_CHECK_POINTS;
    } else if (a->kind == LS_INT_SPARSE && K >= 5) { /* level 6 at K = 7: too many nodes */
        c.kind = LS_INT_QMC;
        c.nodes = LS_CHECK_POINTS;
    } else if (a->kind == LS_INT_SPARSE && a->nodes > 0 && a->nodes < LS_SPARSE_MAX_LEVEL) {
        c.kind = LS_INT_SPARSE;
        c.nodes = a->nodes + 2 < LS_SPARSE_MAX_LEVEL ? a->nodes + 2 : LS_SPARSE_MAX_LEVEL;
    }
    return c;
}

int ls_plan_check_fallback(const ls_rule_spec *failed, ls_rule_spec *next)
{
    if (failed->kind != LS_INT_SPARSE) return 0;
    next->kind = LS_INT_QMC;
    next->nodes = LS_CHECK_POINTS;
    return 1;
}

void ls_fit_plan(const ls_fit_options *o, ls_plan *plan)
{
    size_t K = o->skills;
    plan->accurate = ls_plan_resolve(o->integration, o->nodes, K);
    plan->check = ls_plan_check(&plan->accurate, K);
    plan->search = plan->polish = plan->accurate;
    plan->search_own = plan->polish_own = 0;
    /* The search stage only has to find basins: by default it uses a coarse
     * adaptive rule: 3 Gauss-Hermite nodes per dimension for K <= 2, the
     * Laplace rule for K = 3..5 (smooth, with an exact gradient: 150 L-BFGS
     * iterations a start, 0.15 s; on the paper data K = 3, 4, 5 took 3.0,
     * 3.8, 2.7 s instead of 6.6, 7.5, 5.6 s on 27, 16 and 11 nodes, ending
     * at the same optima; at K = 2 it ranked the neighbouring optima below
     * (2953.26) and at K = 6, 7 its optima lay so far from the sparse
     * grid's that the finish took 10 and 34 s), the sparse grid of level 1
     * for K = 6, 7 (13, 15 nodes against 2^K; K = 6, 7 took 14.4 and 21.2 s
     * instead of 25.3 and 53.5 s on 2 nodes per dimension).  K >= 8 runs on
     * the Laplace rule throughout (the default there, ls_plan_resolve), as
     * does any rule the user chose. */
    if (o->integration == LS_INT_AUTO && K <= 7) {
        plan->search_own = 1;
        plan->search.kind = K <= 2 ? LS_INT_GH : K <= 5 ? LS_INT_LAPLACE : LS_INT_SPARSE;
        plan->search.nodes = plan->search.kind == LS_INT_GH ? 3 : 1;
        /* The polish runs on a cheaper rule and the best point is finished
         * on the accurate one.  K = 2: the accurate grid (14^2 nodes) costs
         * 3 times the 8-node one, whose optimum is within ~1e-2 of it (on 5
         * or 6 nodes the paper data's best of four neighbouring optima,
         * 0.1-0.7 apart, was ranked below another: 2953.26 instead of
         * 2953.37).  K = 3: 6 nodes (216, against 1280 for the pruned 12^3
         * grid; 0.05 off the total, 0.002 per family), where the 8-node
         * grid's polish took 5.7 s instead of 2.6 s and ended at the same
         * optimum.  K = 4: the product grid of 4 nodes (256) before the sparse
         * grid of level 4 (681).  K = 5..7: the sparse grid of level 2 (71,
         * 97, 127 nodes) before level 3 (341, 533, 785); on the 3-node
         * product grid (2187 nodes at K = 7) the polish took 125 s. */
        if (!o->nodes && K >= 2) {
            int sparse = K >= 5;
            plan->polish_own = 1;
            plan->polish.kind = sparse ? LS_INT_SPARSE : LS_INT_GH;
            plan->polish.nodes = sparse ? 2 : K == 4 ? 4 : K == 3 ? 6 : 8;
        }
    }
    /* Stage 1 runs every start on the search rule: 30 L-BFGS iterations to
     * leave the start's neighbourhood and then Newton until a step no longer
     * improves; this finds the basins.  (Newton does the climbing: 200
     * L-BFGS iterations on the 2-node grid cost 3 s a start at K = 4 and
     * gained less than the first 10 Newton steps.)  On the one-node rule,
     * smooth and cheap, 150 L-BFGS iterations and no Newton, whose
     * frozen-map Hessian converges only linearly there (at K = 9, 200
     * iterations took the starts to 3167.2-3168.7 instead of 3155-3166.6,
     * in the same time; on the paper data 80, 120, 150 and 200 iterations
     * ended K = 3..12 at the same optima but for the kinks of K = 8, 9,
     * see the finish, and 150 cost about 8 s less than 200 over K = 3..12).
     * The search's tolerances are loose: it only ranks the starts. */
    /* The family effect has no Laplace rule (its nested blocks would need
     * their third derivatives): the search runs on 3 Gauss-Hermite nodes
     * per dimension up to K = 4, on the level-2 sparse grid above. */
    if (o->family_effect && ls_plan_is_laplace(&plan->search)) {
        plan->search.kind = K <= 4 ? LS_INT_GH : LS_INT_SPARSE;
        plan->search.nodes = K <= 4 ? 3 : 2;
    }
    int lap = ls_plan_is_laplace(&plan->search);
    plan->search_iter = lap ? 150 : 30;
    plan->search_gtol = fmax(o->gtol, 1.0);
    plan->search_newton = !lap;
    plan->search_newton_gtol = fmax(o->gtol, 0.05);
    /* Stage 2 polishes the best distinct starts: all of them for K <= 2,
     * where a polish is cheap and the coarse rule ranks the paper data's
     * neighbouring optima (0.1-0.4 apart, in the loadings of near-floor
     * benchmarks) poorly; the best three above.  Promising: within 2 of the
     * best search value, or 10 on the one-node rule, whose 150 iterations
     * stop short of its optima (at K = 3 on the paper data the second start
     * ended 2.65 below the first, and 2.0 left one candidate). */
    plan->npolish = K <= 2 ? o->starts : 3;
    plan->promising = lap ? 10.0 : 2.0;
    /* K >= 5: the candidates are climbed by Newton until a step no longer
     * improves the re-adapted objective (the 3-node grid cannot resolve a
     * gradient of 1e-2 as its nodes move), or on the one-node rule (K >= 8)
     * by one round of whitened L-BFGS, and only the best one is then
     * polished to gtol on the accurate rule. */
    plan->polish_coarse = K >= 5;
    plan->finish = plan->polish_own || plan->polish_coarse;
    /* K >= 5 (6 with the clip): the rule cannot resolve gtol with its
     * nodes moving (they shift by tenths), so Newton with re-adapted nodes
     * would spend its 40 steps (on the sparse grid at K = 7, 6 minutes with
     * the L-BFGS fallback).  The finish is instead a fixed-point iteration
     * of Newton on the frozen node map, re-adapted between cycles, to a
     * point whose re-adapted gradient is below gtol (fit_stages.c,
     * finish_fixed_point): first on the level-3 sparse grid (the
     * prefinish, 341, 533, 785 nodes at K = 5, 6, 7), whose cycles are
     * cheap, stopped at 5 gtol (LSFIT_PREFINISH_GTOL), then on the accurate
     * level-4 grid (1341, 2381, 3921 nodes), which needs one or two more,
     * the Newton matrix carried across cycles and grids.  On the paper
     * data (0.19.0): K = 5, 6, 7 in 2, 3 and 4 cycles on level 3 (before
     * 0.19.0, to gtol: 3, 5 and 9), then 2, 2 and 2 on level 4, max |gradient|
     * 0.006, 0.001, 0.004, values 0.046, 0.04, 0.03 below the check's
     * (importance sampling, standard error 0.012).  With the clip, whose
     * kinks the frozen map keeps, two frozen cycles each stopped once two
     * steps gain less than finish_ftol (2e-3), converged by the change
     * criterion only when the last did not freeze. */
    plan->finish_frozen = K >= (o->logit_clamp > 0 ? 6 : 5) && !ls_plan_is_laplace(&plan->accurate);
    plan->prefinish.kind = 0;
    plan->prefinish.nodes = 0;
    if (plan->finish_frozen && !(o->logit_clamp > 0) && o->integration == LS_INT_AUTO && !o->nodes && K <= 7) {
        plan->prefinish.kind = LS_INT_SPARSE;
        plan->prefinish.nodes = 3;
    }
    plan->finish_ftol = 2e-3;
    /* the family effect: the coarser accurate rule, checked on the finer
     * one (value only, once); the polish no finer than it */
    if (o->family_effect && o->integration == LS_INT_AUTO && !o->nodes) {
        ls_rule_spec full = plan->accurate;
        plan->accurate = ls_plan_family_effect_rule(K);
        if (K >= 2) plan->check = full;
        if (plan->polish_own && K <= 4) {
            plan->polish.kind = LS_INT_GH;
            plan->polish.nodes = K == 2 ? 5 : K == 3 ? 4 : 3;
        }
        plan->prefinish.kind = 0;
        plan->prefinish.nodes = 0;
        plan->finish_frozen = K >= 5;
    }
}
