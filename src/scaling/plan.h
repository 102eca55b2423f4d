/*
 * plan.h -- which integration rule each stage of a fit uses (private).
 *
 * One place decides, for K skills and the fit options, the rules of the
 * search, the polish, the accurate finish (the reported value) and the
 * check of that value, and the constants of the stages that depend on
 * them.  The measurements behind every choice are in plan.c.
 */
#ifndef LS_PLAN_H
#define LS_PLAN_H

#include "scaling/data.h"
#include "kernel/rules.h"

/* A rule as the fit options name it: kind (enum ls_integration; 0 for no
 * rule, e.g. no check) and nodes (Gauss-Hermite nodes per dimension,
 * sparse-grid level, QMC points; 1 for the Laplace rule).  Resolved: never
 * LS_INT_AUTO, never nodes 0. */
typedef struct ls_rule_spec {
    int kind;
    unsigned nodes;
} ls_rule_spec;

/* The rule (integration, nodes) of the fit options resolves to at K:
 * LS_INT_AUTO and nodes 0 replaced by the defaults.  An unknown kind is
 * kept (ls_plan_rule_new refuses it). */
ls_rule_spec ls_plan_resolve(int integration, unsigned nodes, size_t K);
/* The accurate rule of a fit with the family effect (fit option
 * family_effect) when the user chose none (auto, nodes 0): every outer
 * node costs a one-dimensional integral per benchmark, so a coarser outer
 * rule than ls_plan_resolve's, whose value the check then compares with
 * that finer one's. */
ls_rule_spec ls_plan_family_effect_rule(size_t K);
/* The rule itself, for K dimensions (s resolved). */
int ls_plan_rule_new(const ls_rule_spec *s, size_t K, ls_rule *rule, ls_error *err);
/* One node at the mode: the Laplace rule, also Gauss-Hermite with one node
 * per dimension (the same rule).  Its value re-adapted at every point is
 * smooth with an exact gradient (ls_model_is_laplace). */
int ls_plan_is_laplace(const ls_rule_spec *s);

/* The check of a fit's value at its estimate.  For the Laplace rule, whose
 * value is biased (3.9 low at K = 9 on the paper data), importance
 * sampling: randomised QMC with per-family shifts, a t proposal at the
 * Laplace map and the normal control variate (ls_rule_rqmc,
 * ls_rule_estimate), LS_CHECK_POINTS points per family; while the
 * standard error of the total is above LS_CHECK_SE (so that the value is
 * within 0.05 at three standard errors), more points where they reduce
 * it most (up to LS_CHECK_MAX_POINTS; ls_check_loglik).  At K = 9 on the paper data, 16,384 points: 3173.200, standard
 * error 0.014, 1.5 s, against 3173.195 +- 0.003 with 262,144.  Not a sparse
 * grid: at K = 9 and 12 level 4 was within 0.03 of 262,144 points at half
 * the cost, but at K = 10 it was 7.5 off for one family (smollm, whose
 * posterior the Laplace map fits badly).
 * For a sparse grid at K <= 4, the sparse grid two levels finer (at most
 * LS_SPARSE_MAX_LEVEL), falling back to importance sampling when its signed
 * sum fails (ls_check_loglik); at K >= 5 importance sampling (level 6 has
 * tens of thousands of nodes there).  Other rules: no check. */
#define LS_CHECK_POINTS 16384
#define LS_CHECK_MAX_POINTS 262144
#define LS_CHECK_SE (0.05 / 3)
/* The check of the accurate rule a at K skills (kind 0: none). */
ls_rule_spec ls_plan_check(const ls_rule_spec *a, size_t K);
/* When the check on rule failed could not be evaluated (a sparse grid
 * whose signed sum is not positive for some family): 1 and the rule to
 * fall back to in *next (importance sampling), or 0 (none). */
int ls_plan_check_fallback(const ls_rule_spec *failed, ls_rule_spec *next);

/* The stages of a fit with K = o->skills skills (ls_fit_run).  A stage on
 * a Laplace rule (ls_plan_is_laplace) runs unfrozen, its re-adapted value
 * being smooth with an exact gradient; on any other rule the optimisers
 * freeze the node map between re-adaptations (fit_optimise.c). */
typedef struct ls_plan {
    ls_rule_spec search;   /* stage 1, every start                                */
    ls_rule_spec polish;   /* stage 2, the most promising distinct starts          */
    ls_rule_spec accurate; /* the finish and the reported value                   */
    ls_rule_spec check;    /* the check of that value (kind 0: none)              */
    ls_rule_spec prefinish; /* finish_frozen: a cheaper rule the finish converges on
                            * first (kind 0: none)                               */
    int search_own;        /* the search has a model of its own (else the accurate one's) */
    int polish_own;        /* the same for the polish                             */
    /* the search: L-BFGS to search_gtol for at most search_iter iterations,
     * then (search_newton) Newton to search_newton_gtol */
    unsigned search_iter;
    double search_gtol, search_newton_gtol;
    int search_newton;
    double promising;      /* polished: starts within this of the best search value */
    unsigned npolish;      /* at most this many polished                           */
    int polish_coarse;     /* the candidates only climbed until a step stops gaining */
    int finish;            /* the best polished point finished on the accurate rule */
    int finish_frozen;     /* ... by Newton on the frozen node map, re-adapted once */
    double finish_ftol;    /* ... stopping once two steps gain less than this       */
} ls_plan;

/* The plan of a fit under options o (any options: an invalid rule shows
 * when its model is built). */
void ls_fit_plan(const ls_fit_options *o, ls_plan *plan);

#endif
