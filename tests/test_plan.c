/*
 * test_plan.c -- the integration plan of a fit (plan.h): the default rules
 * of every stage for K = 1..12 with their node counts, the rules a user
 * names, the check that goes with each accurate rule and its fallback, and
 * the Laplace predicate against the rules themselves.
 */
#include "harness.h"
#include "latentscale.h"
#include "scaling/plan.h"

static ls_fit_options options(size_t K)
{
    ls_fit_options o;
    ls_fit_options_init(&o);
    o.skills = K;
    return o;
}

/* Nodes of rule s at K (0 when it cannot be built). */
static size_t nodes_of(const ls_rule_spec *s, size_t K)
{
    ls_rule r;
    ls_error e;
    if (ls_plan_rule_new(s, K, &r, &e)) return 0;
    size_t n = r.n;
    ls_rule_free(&r);
    return n;
}

static int same(const ls_rule_spec *s, int kind, unsigned nodes) { return s->kind == kind && s->nodes == nodes; }

static void default_plan_follows_the_measured_choices(void)
{
    for (size_t K = 1; K <= 12; K++) {
        ls_fit_options o = options(K);
        ls_plan p;
        ls_fit_plan(&o, &p);
        int lap = K >= 3 && (K <= 5 || K >= 8); /* the search on the Laplace rule */
        CHECK_MSG(p.search_own == (K <= 7) && p.polish_own == (K >= 2 && K <= 7), "K=%zu", K);
        CHECK_MSG(p.search_iter == (lap ? 150u : 30u) && p.search_newton == !lap &&
                      p.promising == (lap ? 10.0 : 2.0),
                  "K=%zu: search %u iterations, Newton %d", K, p.search_iter, p.search_newton);
        CHECK_MSG(p.npolish == (K <= 2 ? o.starts : 3u) && p.polish_coarse == (K >= 5), "K=%zu", K);
        CHECK_MSG(p.finish == (K >= 2) && p.finish_frozen == (K >= 5 && K <= 7), "K=%zu", K);
        /* the fixed-point finish runs on the level-3 grid before the accurate one */
        CHECK_MSG(K >= 5 && K <= 7 ? same(&p.prefinish, LS_INT_SPARSE, 3) : p.prefinish.kind == 0, "K=%zu", K);
        /* with the clip: frozen cycles from K = 6, no prefinish */
        ls_fit_options oc = o;
        oc.logit_clamp = 4.5;
        ls_plan pc;
        ls_fit_plan(&oc, &pc);
        CHECK_MSG(pc.finish_frozen == (K == 6 || K == 7) && pc.prefinish.kind == 0, "K=%zu clipped", K);
        CHECK(p.search_gtol == 1.0 && p.search_newton_gtol == 0.05 && p.finish_ftol == 2e-3);
        if (K >= 8) {
            CHECK(same(&p.accurate, LS_INT_LAPLACE, 1) && same(&p.search, LS_INT_LAPLACE, 1) &&
                  same(&p.polish, LS_INT_LAPLACE, 1));
            CHECK(same(&p.check, LS_INT_QMC, LS_CHECK_POINTS));
        }
    }
    /* nodes of the search, polish, accurate and check rules (0: none; the
     * product grids for K <= 3 pruned of weights below 1e-9 times the
     * largest; from K = 5 the check is importance sampling, its points per
     * family) */
    static const size_t N[8][4] = {
        {0, 0, 0, 0},        {3, 16, 16, 0},      {9, 64, 164, 0},      {1, 216, 1280, 0},
        {1, 256, 681, 5257}, {1, 71, 1341, 16384}, {13, 97, 2381, 16384}, {15, 127, 3921, 16384},
    };
    for (size_t K = 1; K <= 7; K++) {
        ls_fit_options o = options(K);
        ls_plan p;
        ls_fit_plan(&o, &p);
        size_t n[4] = {nodes_of(&p.search, K), nodes_of(&p.polish, K), nodes_of(&p.accurate, K),
                       p.check.kind ? nodes_of(&p.check, K) : 0};
        CHECK_MSG(n[0] == N[K][0] && n[1] == N[K][1] && n[2] == N[K][2] && n[3] == N[K][3],
                  "K=%zu: nodes %zu, %zu, %zu, check %zu", K, n[0], n[1], n[2], n[3]);
    }
}

static void a_rule_the_user_names_runs_every_stage(void)
{
    ls_fit_options o = options(2);
    o.integration = LS_INT_GH;
    o.nodes = 5;
    ls_plan p;
    ls_fit_plan(&o, &p);
    CHECK(!p.search_own && !p.polish_own && same(&p.search, LS_INT_GH, 5) && same(&p.accurate, LS_INT_GH, 5));
    CHECK(p.check.kind == 0 && p.check.nodes == 0);
    /* nodes with the automatic rule: its search, no polish of its own */
    o = options(3);
    o.nodes = 5;
    ls_fit_plan(&o, &p);
    CHECK(p.search_own && !p.polish_own && same(&p.accurate, LS_INT_GH, 5) && same(&p.polish, LS_INT_GH, 5));
    /* the Laplace rule at K = 3: checked by importance sampling */
    o = options(3);
    o.integration = LS_INT_LAPLACE;
    ls_fit_plan(&o, &p);
    CHECK(same(&p.check, LS_INT_QMC, LS_CHECK_POINTS) && p.search_iter == 150 && !p.search_newton);
    /* a sparse grid two levels finer, at most LS_SPARSE_MAX_LEVEL */
    o.integration = LS_INT_SPARSE;
    o.nodes = 5;
    ls_fit_plan(&o, &p);
    CHECK(same(&p.check, LS_INT_SPARSE, LS_SPARSE_MAX_LEVEL));
    o.nodes = LS_SPARSE_MAX_LEVEL;
    ls_fit_plan(&o, &p);
    CHECK(p.check.kind == 0);
    ls_rule_spec next;
    CHECK(ls_plan_check_fallback(&p.accurate, &next) && same(&next, LS_INT_QMC, LS_CHECK_POINTS));
    ls_rule_spec gh = {LS_INT_GH, 4};
    CHECK(!ls_plan_check_fallback(&gh, &next));
}

static void resolved_rules_resolve_to_themselves(void)
{
    static const int kinds[5] = {LS_INT_AUTO, LS_INT_LAPLACE, LS_INT_GH, LS_INT_QMC, LS_INT_SPARSE};
    for (size_t K = 1; K <= 12; K++)
        for (int k = 0; k < 5; k++)
            for (unsigned nodes = 0; nodes <= 3; nodes++) {
                ls_rule_spec s = ls_plan_resolve(kinds[k], nodes, K), t = ls_plan_resolve(s.kind, s.nodes, K);
                CHECK_MSG(s.kind != LS_INT_AUTO && s.nodes > 0 && same(&t, s.kind, s.nodes),
                          "K=%zu kind %d nodes %u", K, kinds[k], nodes);
            }
    ls_rule r;
    ls_error e;
    ls_rule_spec bad = ls_plan_resolve(9, 0, 2);
    CHECK(ls_plan_rule_new(&bad, 2, &r, &e) == LS_ERR_OPTION && strstr(e.message, "unknown integration") != NULL);
}

/* The fit decides by the plan's rules what the model decides by its
 * rule's node count (ls_model_is_laplace): they must agree. */
static void the_laplace_rules_are_the_one_node_rules(void)
{
    static const ls_rule_spec specs[] = {
        {LS_INT_LAPLACE, 1}, {LS_INT_GH, 1}, {LS_INT_GH, 2}, {LS_INT_GH, 3},
        {LS_INT_SPARSE, 1},  {LS_INT_SPARSE, 2}, {LS_INT_QMC, 1}, {LS_INT_QMC, 16},
    };
    for (size_t K = 1; K <= 6; K++)
        for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++)
            CHECK_MSG(ls_plan_is_laplace(&specs[i]) == (nodes_of(&specs[i], K) == 1), "K=%zu kind %d nodes %u", K,
                      specs[i].kind, specs[i].nodes);
}

int main(void)
{
    RUN(default_plan_follows_the_measured_choices);
    RUN(a_rule_the_user_names_runs_every_stage);
    RUN(resolved_rules_resolve_to_themselves);
    RUN(the_laplace_rules_are_the_one_node_rules);
    return h_finish();
}
