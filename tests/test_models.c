/*
 * test_models.c -- the scaling-law likelihood: every analytic gradient
 * against central finite differences (node map frozen, so the objective is
 * exactly the function the gradient differentiates, and with adaptive nodes
 * at high order), parameter packing round trips, thread-count invariance,
 * and the adaptive rules against a much larger reference rule.
 */
#include "harness.h"
#include "sim.h"
#include "latentscale.h"
#include "scaling/params.h"
#include "scaling/model.h"
#include "kernel/linalg.h"
#include "kernel/rules.h"

#include <stdlib.h>

/* ceilings applied to the simulated data's model (NULL: none), and those
 * the models of check_gradient_steps and check_hessian estimate */
static const char *sim_ceilings = NULL;
static const char *est_ceilings = NULL;
/* When set, theta_near_truth puts Sigma's row coordinates here (K = 4:
 * six values) after the nudge. */
static const double *w_set = NULL;
/* > 0: the simulated data carry a family-by-benchmark effect of this sd */
static double sim_fe_sd = 0;

static ls_data *sim_data(size_t F, size_t K, size_t J, uint64_t seed, ls_params *truth)
{
    ls_sim_options so;
    ls_sim_options_init(&so);
    so.families = F;
    so.skills = K;
    so.benchmarks = J;
    so.seed = seed;
    so.family_effect_sd = sim_fe_sd;
    ls_table *t = NULL;
    double *floors = NULL;
    ls_params tr;
    ls_error e;
    if (ls_simulate(&so, &t, &tr, &floors, &e)) { fprintf(stderr, "%s\n", e.message); return NULL; }
    ls_data_options o;
    ls_data_options_init(&o);
    char fl[1024];
    h_floor_list(t, floors, J, fl, sizeof fl);
    o.floors = fl;
    o.ceilings = sim_ceilings;
    ls_data *d = NULL;
    if (ls_data_build(t, &o, &d, &e)) fprintf(stderr, "%s\n", e.message);
    ls_table_free(t);
    free(floors);
    if (truth) *truth = tr;
    else ls_params_free(&tr);
    return d;
}

/* theta at the truth (standardised scale) plus a deterministic nudge */
static double *theta_near_truth(ls_model *m, const ls_data *d, ls_params *truth, double nudge)
{
    size_t dim = ls_model_dim(m);
    double *th = calloc(dim, sizeof(double));
    /* truth is raw: convert beta to the standardised scale by hand */
    ls_params s;
    ls_error e;
    ls_params_alloc(&s, truth->K, truth->J, truth->p, &e);
    memcpy(s.lambda, truth->lambda, truth->K * truth->J * sizeof(double));
    memcpy(s.phi, truth->phi, truth->J * sizeof(double));
    memcpy(s.sigma, truth->sigma, truth->K * truth->K * sizeof(double));
    memcpy(s.b, truth->b, truth->J * sizeof(double));
    memcpy(s.beta, truth->beta, truth->p * truth->K * sizeof(double));
    for (size_t j = 0; j < truth->J; j++) s.ceiling[j] = d->ceil[j] < 1 ? d->ceil[j] : 0.95;
    ls_params_to_std(&s, d->x_mean, d->x_sd);
    CHECK(ls_model_pack(m, &s, th, &e) == LS_OK);
    for (size_t i = 0; i < dim; i++) th[i] += nudge * sin(1.0 + (double)i);
    ls_layout l;
    ls_model_layout(m, &l);
    for (size_t q = 0; w_set && q < l.K * (l.K - 1) / 2; q++) th[l.off_w + q] = w_set[q];
    ls_params_free(&s);
    return th;
}

/* Worst relative error of the analytic gradient against central
 * differences; each component takes the best of the nh steps in hs. */
static double fd_max_rel_error_steps(ls_model *m, double *th, const double *hs, int nh)
{
    size_t dim = ls_model_dim(m);
    double *g = calloc(dim, sizeof(double)), ll, lp, lm, worst = 0;
    ls_error e;
    CHECK(ls_model_loglik(m, th, &ll, g, NULL, &e) == LS_OK);
    for (size_t i = 0; i < dim; i++) {
        double best = INFINITY, t = th[i];
        for (int k = 0; k < nh; k++) {
            th[i] = t + hs[k];
            ls_model_loglik(m, th, &lp, NULL, NULL, &e);
            th[i] = t - hs[k];
            ls_model_loglik(m, th, &lm, NULL, NULL, &e);
            th[i] = t;
            double fd = (lp - lm) / (2 * hs[k]);
            best = fmin(best, fabs(fd - g[i]) / fmax(1.0, fabs(fd)));
        }
        if (best > worst) worst = best;
    }
    free(g);
    return worst;
}

static double fd_max_rel_error(ls_model *m, double *th, double h)
{
    return fd_max_rel_error_steps(m, th, &h, 1);
}

/* lap_floor > 0 replaces the Laplace rule's eigenvalue floor */
static void check_gradient_steps(size_t K, int integration, unsigned nodes, int freeze, double tol,
                                 const double *hs, int nh, double lap_floor)
{
    ls_params truth;
    ls_data *d = sim_data(40, K, 8, 11 + K, &truth);
    CHECK(d != NULL);
    if (!d) return;
    ls_model *m = NULL;
    ls_error e;
    CHECK(ls_model_new_ext(d, K, NULL, integration, nodes, 2, 0, est_ceilings, &m, &e) == LS_OK);
    if (lap_floor > 0) ls_model_set_laplace_floor(m, lap_floor);
    double *th = theta_near_truth(m, d, &truth, 0.05);
    double ll;
    CHECK(ls_model_loglik(m, th, &ll, NULL, NULL, &e) == LS_OK); /* place the nodes */
    ls_model_set_freeze(m, freeze);
    double err = fd_max_rel_error_steps(m, th, hs, nh);
    CHECK_MSG(err < tol, "K=%zu integration=%d nodes=%u freeze=%d floor=%g: max relative error %.3g",
              K, integration, nodes, freeze, lap_floor, err);
    free(th);
    ls_model_free(m);
    ls_data_free(d);
    ls_params_free(&truth);
}

static void check_gradient(size_t K, int integration, unsigned nodes, int freeze, double tol)
{
    const double h = 1e-5;
    check_gradient_steps(K, integration, nodes, freeze, tol, &h, 1, 0);
}

static void gradients_match_finite_differences_with_frozen_nodes(void)
{
    check_gradient(1, LS_INT_GH, 7, 1, 1e-6);
    check_gradient(2, LS_INT_GH, 5, 1, 1e-6);
    check_gradient(3, LS_INT_GH, 4, 1, 1e-6);
    check_gradient(4, LS_INT_QMC, 32, 1, 1e-6);
    check_gradient(6, LS_INT_QMC, 16, 1, 1e-6);
    check_gradient(3, LS_INT_SPARSE, 2, 1, 1e-6); /* negative weights */
    check_gradient(5, LS_INT_SPARSE, 3, 1, 1e-6);
    check_gradient(3, LS_INT_LAPLACE, 0, 1, 1e-6);
}

static void gradients_match_finite_differences_of_the_adaptive_objective(void)
{
    /* with the node map re-adapted at every evaluation, the analytic
     * gradient is Fisher's identity; at high order it matches closely */
    check_gradient(1, LS_INT_GH, 30, 0, 1e-3);
    check_gradient(2, LS_INT_GH, 16, 0, 2e-3);
}

static void laplace_gradient_is_the_total_derivative(void)
{
    /* the Laplace value re-adapted at every evaluation is smooth, and its
     * gradient carries the curvature's motion (directly and through the
     * mode): exact, so the tolerance is that of the differences */
    /* best of three steps per component (measured: at most 2e-7; at
     * 1e-3 alone the truncation error is 5e-5); without the motion
     * terms the error is 6 to 17 */
    const double hs[] = {1e-5, 3e-5, 1e-4};
    for (size_t K = 1; K <= 5; K += 2) check_gradient_steps(K, LS_INT_LAPLACE, 0, 0, 1e-6, hs, 3, 0);
    /* the same with the curvature's eigenvalue floor active: at d = 1.5 the
     * smooth floor s(l) = d + l^2 / 4d covers every eigenvalue below 3, so
     * the log det part runs through its derivative M, not C^-1 */
    for (size_t K = 2; K <= 4; K += 2) check_gradient_steps(K, LS_INT_LAPLACE, 0, 0, 1e-6, hs, 3, 1.5);
}

static void pack_and_unpack_round_trip(void)
{
    ls_params truth, back;
    ls_data *d = sim_data(30, 3, 7, 5, &truth);
    ls_model *m = NULL;
    ls_error e;
    CHECK(ls_model_new(d, 3, "math,hellaswag,ifeval", LS_INT_GH, 3, 1, &m, &e) == LS_OK);
    if (!m) return;
    size_t dim = ls_model_dim(m);
    CHECK(dim == ls_params_count(3, 7, 3));
    double *th = calloc(dim, sizeof(double)), *th2 = calloc(dim, sizeof(double));
    for (size_t i = 0; i < dim; i++) th[i] = 0.3 * sin((double)i * 1.7);
    ls_params_alloc(&back, 3, 7, 3, &e);
    ls_model_unpack(m, th, &back);
    /* Sigma is a correlation matrix, anchors are diagonal and positive */
    for (size_t k = 0; k < 3; k++) CHECK_NEAR(back.sigma[k * 3 + k], 1.0, 1e-12);
    CHECK(back.anchors[0] == 0 && back.anchors[1] == 2 && back.anchors[2] == 1);
    for (size_t k = 0; k < 3; k++)
        for (size_t l = 0; l < 3; l++) {
            double v = back.lambda[l * 7 + back.anchors[k]];
            CHECK(l == k ? v > 0 : v == 0);
        }
    CHECK(ls_model_pack(m, &back, th2, &e) == LS_OK);
    double worst = 0;
    for (size_t i = 0; i < dim; i++) worst = fmax(worst, fabs(th[i] - th2[i]));
    CHECK_MSG(worst < 1e-12, "round trip error %.3g", worst);
    free(th);
    free(th2);
    ls_params_free(&back);
    ls_params_free(&truth);
    ls_model_free(m);
    ls_data_free(d);
}

static void results_do_not_depend_on_the_thread_count(void)
{
    ls_params truth;
    ls_data *d = sim_data(60, 2, 6, 3, &truth);
    ls_model *m1 = NULL, *m2 = NULL;
    ls_error e;
    ls_model_new(d, 2, NULL, LS_INT_AUTO, 0, 1, &m1, &e);
    ls_model_new(d, 2, NULL, LS_INT_AUTO, 0, 2, &m2, &e);
    double *th = theta_near_truth(m1, d, &truth, 0.1);
    size_t dim = ls_model_dim(m1);
    double *g1 = calloc(dim, sizeof(double)), *g2 = calloc(dim, sizeof(double)), l1, l2;
    CHECK(ls_model_loglik(m1, th, &l1, g1, NULL, &e) == LS_OK);
    CHECK(ls_model_loglik(m2, th, &l2, g2, NULL, &e) == LS_OK);
    CHECK(l1 == l2);
    CHECK(memcmp(g1, g2, dim * sizeof(double)) == 0);
    free(th); free(g1); free(g2);
    ls_model_free(m1); ls_model_free(m2);
    ls_data_free(d);
    ls_params_free(&truth);
}

static void adaptive_rules_agree_with_a_large_reference(void)
{
    /* default rules against much larger ones: GH of high order for K <= 3,
     * GH with one more node per dimension for K = 4, 5 */
    for (size_t K = 1; K <= 5; K++) {
        ls_params truth;
        ls_data *d = sim_data(50, K, 10, 21 + K, &truth);
        ls_model *m = NULL, *ref = NULL;
        ls_error e;
        ls_model_new(d, K, NULL, LS_INT_AUTO, 0, 2, &m, &e);
        const unsigned ref_nodes[6] = {0, 60, 30, 14, 6, 5};
        ls_model_new(d, K, NULL, LS_INT_GH, ref_nodes[K], 2, &ref, &e);
        double *th = theta_near_truth(m, d, &truth, 0.0);
        size_t F = ls_data_nfamilies(d);
        double *f1 = calloc(F, sizeof(double)), *f2 = calloc(F, sizeof(double)), l1, l2;
        CHECK(ls_model_loglik(m, th, &l1, NULL, f1, &e) == LS_OK);
        CHECK(ls_model_loglik(ref, th, &l2, NULL, f2, &e) == LS_OK);
        double worst = 0;
        for (size_t f = 0; f < F; f++) worst = fmax(worst, fabs(f1[f] - f2[f]));
        printf("  K=%zu: |default - reference| total %.2e, worst family %.2e\n", K, fabs(l1 - l2), worst);
        CHECK_MSG(worst < (K <= 3 ? 2e-4 : 5e-3), "K=%zu worst family difference %.3g", K, worst);
        CHECK_MSG(fabs(l1 - l2) < (K <= 3 ? 0.01 : 0.05), "K=%zu total difference %.3g", K, l1 - l2);
        /* and the Laplace approximation is worse than the default */
        ls_model *lap = NULL;
        ls_model_new(d, K, NULL, LS_INT_LAPLACE, 0, 2, &lap, &e);
        double l3;
        ls_model_loglik(lap, th, &l3, NULL, NULL, &e);
        CHECK_MSG(fabs(l3 - l2) >= fabs(l1 - l2), "K=%zu laplace %.3g default %.3g", K, l3 - l2, l1 - l2);
        if (K >= 4) { /* the sparse grid of level 3 beats the 3-node product grid */
            ls_model *sp = NULL, *gh3 = NULL;
            double l4, l5;
            CHECK(ls_model_new(d, K, NULL, LS_INT_SPARSE, 3, 2, &sp, &e) == LS_OK);
            CHECK(ls_model_new(d, K, NULL, LS_INT_GH, 3, 2, &gh3, &e) == LS_OK);
            CHECK(ls_model_loglik(sp, th, &l4, NULL, NULL, &e) == LS_OK);
            CHECK(ls_model_loglik(gh3, th, &l5, NULL, NULL, &e) == LS_OK);
            printf("  K=%zu: sparse level 3 (%zu nodes) %.2e, product 3 (%zu nodes) %.2e\n", K, ls_model_nodes(sp),
                   fabs(l4 - l2), ls_model_nodes(gh3), fabs(l5 - l2));
            CHECK_MSG(fabs(l4 - l2) < fabs(l5 - l2), "K=%zu sparse %.3g product %.3g", K, l4 - l2, l5 - l2);
            ls_model_free(sp);
            ls_model_free(gh3);
        }
        free(th); free(f1); free(f2);
        ls_model_free(m); ls_model_free(ref); ls_model_free(lap);
        ls_data_free(d);
        ls_params_free(&truth);
    }
}

static void too_many_skills_is_an_option_error(void)
{
    ls_data *d = sim_data(10, 2, 4, 1, NULL);
    ls_model *m = NULL;
    ls_error e;
    CHECK(ls_model_new(d, 5, NULL, LS_INT_AUTO, 0, 1, &m, &e) == LS_ERR_OPTION);
    CHECK(strstr(e.message, "skills: ") == e.message);
    CHECK(m == NULL);
    CHECK(ls_model_new(d, 2, "math,nosuch", LS_INT_AUTO, 0, 1, &m, &e) == LS_ERR_OPTION);
    CHECK(strstr(e.message, "nosuch") != NULL);
    ls_data_free(d);
}

/* The reference-mode logit clip: a clip far outside the data changes
 * nothing; a tight clip changes the likelihood, and its analytic gradient
 * (zero in eta for clipped cells) still matches finite differences. */
static void logit_clamp_is_exact_and_differentiable(void)
{
    ls_params truth;
    ls_data *d = sim_data(40, 2, 8, 13, &truth);
    CHECK(d != NULL);
    if (!d) return;
    ls_model *m = NULL;
    ls_error e;
    CHECK(ls_model_new(d, 2, NULL, LS_INT_GH, 5, 2, &m, &e) == LS_OK);
    double *th = theta_near_truth(m, d, &truth, 0.05);
    double l0, l1, l2;
    CHECK(ls_model_loglik(m, th, &l0, NULL, NULL, &e) == LS_OK);
    ls_model_set_logit_clamp(m, 1e6);
    CHECK(ls_model_loglik(m, th, &l1, NULL, NULL, &e) == LS_OK);
    CHECK(l1 == l0);
    ls_model_set_logit_clamp(m, 1.0);
    CHECK(ls_model_loglik(m, th, &l2, NULL, NULL, &e) == LS_OK);
    CHECK_MSG(fabs(l2 - l0) > 1.0, "clip at 1 changed the log-likelihood by only %.3g", l2 - l0);
    ls_model_set_freeze(m, 1);
    /* The clipped likelihood has kinks where a cell's eta crosses +-1 at a
     * node.  Adapting the nodes at th puts a family's mode, hence its
     * central node, on such a kink whenever the clip binds there, so the
     * check is made a little away from th (nodes still frozen), and each
     * component takes the best of three difference steps. */
    size_t dim = ls_model_dim(m);
    for (size_t i = 0; i < dim; i++) th[i] += 1e-3 * cos(1.0 + 2.0 * (double)i);
    static const double hs[3] = {1e-5, 1e-6, 1e-7};
    double worst = fd_max_rel_error_steps(m, th, hs, 3);
    CHECK_MSG(worst < 1e-5, "clipped likelihood: max relative gradient error %.3g", worst);
    free(th);
    ls_model_free(m);
    ls_data_free(d);
    ls_params_free(&truth);
}

/* Heteroscedastic precision: the gamma block's gradient (and every other
 * block's, now with per-cell precisions) matches finite differences, and
 * gamma = 0 gives the constant-precision likelihood exactly. */
static void heteroscedastic_precision_gradient(void)
{
    ls_params truth;
    ls_data *d = sim_data(40, 2, 8, 17, &truth);
    CHECK(d != NULL);
    if (!d) return;
    ls_model *m0 = NULL, *m = NULL;
    ls_error e;
    CHECK(ls_model_new(d, 2, NULL, LS_INT_GH, 5, 2, &m0, &e) == LS_OK);
    CHECK(ls_model_new_ext(d, 2, NULL, LS_INT_GH, 5, 2, 1, NULL, &m, &e) == LS_OK);
    CHECK(ls_model_dim(m) == ls_model_dim(m0) + d->p);
    double *th0 = theta_near_truth(m0, d, &truth, 0.05);
    double *th = calloc(ls_model_dim(m), sizeof(double));
    memcpy(th, th0, ls_model_dim(m0) * sizeof(double));
    double l0, l1;
    CHECK(ls_model_loglik(m0, th0, &l0, NULL, NULL, &e) == LS_OK);
    CHECK(ls_model_loglik(m, th, &l1, NULL, NULL, &e) == LS_OK);
    CHECK_NEAR(l1, l0, 1e-9 * fabs(l0));
    ls_layout l;
    ls_model_layout(m, &l);
    th[l.off_g + 0] = 0.3;
    th[l.off_g + 1] = -0.2;
    th[l.off_g + 2] = 0.1;
    CHECK(ls_model_loglik(m, th, &l1, NULL, NULL, &e) == LS_OK);
    ls_model_set_freeze(m, 1);
    double err = fd_max_rel_error(m, th, 1e-5);
    CHECK_MSG(err < 1e-6, "heteroscedastic precision: max relative gradient error %.3g", err);
    free(th);
    free(th0);
    ls_model_free(m);
    ls_model_free(m0);
    ls_data_free(d);
    ls_params_free(&truth);
}

/* The analytic Hessian at frozen nodes (Louis' identity for the quadrature
 * sum) against central differences of the analytic gradient, which is
 * exact for the frozen objective.  Away from the optimum, so the terms in
 * d loglik / d eta times the second derivatives of eta count; with
 * anchors that are not the first K benchmarks; with per-cell precisions. */
/* When positive, check_hessian fits the family effect (its data drawn
 * with tau = hess_fe, its tau_j set near it, unequal). */
static double hess_fe;

static void check_hessian(size_t K, int integration, unsigned nodes, const char *anchors, int hetero,
                          double clamp)
{
    ls_params truth;
    sim_fe_sd = hess_fe;
    ls_data *d = sim_data(30, K, 8, 23 + K, &truth);
    sim_fe_sd = 0;
    CHECK(d != NULL);
    if (!d) return;
    ls_model *m = NULL;
    ls_error e;
    CHECK(ls_model_new_ext(d, K, anchors, integration, nodes, 2, hetero, est_ceilings, &m, &e) == LS_OK);
    if (!m) { fprintf(stderr, "%s\n", e.message); return; }
    if (hess_fe > 0) CHECK(ls_model_enable_family_effect(m, 0, &e) == LS_OK);
    size_t dim = ls_model_dim(m);
    double *th0 = theta_near_truth(m, d, &truth, 0.05);
    double *th = calloc(dim, sizeof(double));
    memcpy(th, th0, dim * sizeof(double));
    ls_layout l;
    ls_model_layout(m, &l);
    /* tau_j signed: one negative, one at 0 (an interior point) */
    for (size_t j = 0; hess_fe > 0 && j < d->J; j++)
        th[l.off_t + j] = j == 2 ? 0 : (j == 1 ? -1 : 1) * hess_fe * (0.6 + 0.1 * (double)j);
    for (size_t q = 0; hetero && q < d->p; q++) th[l.off_g + q] = 0.2 * cos((double)q);
    ls_model_set_logit_clamp(m, clamp);
    /* a sparse grid has nodes of negative weight: the Hessian's score
     * covariance takes those with their sign */
    if (integration == LS_INT_SPARSE) {
        ls_rule r;
        CHECK(ls_rule_sparse(&r, K, nodes, &e) == LS_OK);
        CHECK_MSG(r.sg != NULL && r.n == ls_model_nodes(m), "K=%zu: the sparse rule has no signs", K);
        ls_rule_free(&r);
    }
    double ll;
    CHECK(ls_model_loglik(m, th, &ll, NULL, NULL, &e) == LS_OK); /* place the nodes */
    ls_model_set_freeze(m, 1);
    /* off the adapted point, so no central node sits on a kink of the clip */
    for (size_t i = 0; clamp > 0 && i < dim; i++) th[i] += 1e-3 * cos(1.0 + 2.0 * (double)i);
    double *H = calloc(dim * dim, sizeof(double)), *gp = calloc(dim, sizeof(double)),
           *gm = calloc(dim, sizeof(double));
    CHECK(ls_model_hessian(m, th, H, &e) == LS_OK);
    /* with the clip, the frozen objective has kinks where a cell's eta
     * crosses it at a node: each entry takes the best of three steps */
    int nh = clamp > 0 ? 3 : 1;
    double *best = calloc(dim, sizeof(double));
    double worst = 0, hmax = 0, asym = 0;
    for (size_t i = 0; i < dim; i++) {
        double t = th[i];
        for (size_t j = 0; j < dim; j++) best[j] = INFINITY;
        for (int k = 0; k < nh; k++) {
            double h = pow(10.0, -5 - k) * fmax(1.0, fabs(t));
            th[i] = t + h;
            ls_model_loglik(m, th, &ll, gp, NULL, &e);
            th[i] = t - h;
            ls_model_loglik(m, th, &ll, gm, NULL, &e);
            th[i] = t;
            for (size_t j = 0; j < dim; j++) {
                double fd = (gp[j] - gm[j]) / (2 * h);
                best[j] = fmin(best[j], fabs(fd - H[j * dim + i]) / fmax(1.0, fabs(fd)));
            }
        }
        for (size_t j = 0; j < dim; j++) {
            worst = fmax(worst, best[j]);
            hmax = fmax(hmax, fabs(H[j * dim + i]));
            asym = fmax(asym, fabs(H[i * dim + j] - H[j * dim + i]));
        }
    }
    free(best);
    CHECK_MSG(worst < 2e-5, "K=%zu integration=%d anchors=%s hetero=%d clamp=%g fe=%g: Hessian max "
              "relative error %.3g (max |H| %.3g)", K, integration, anchors ? anchors : "-", hetero,
              clamp, hess_fe, worst, hmax);
    CHECK_MSG(asym <= 1e-12 * hmax, "asymmetry %.3g", asym);
    CHECK(hmax > 1.0);
    free(H); free(gp); free(gm); free(th); free(th0);
    ls_model_free(m);
    ls_data_free(d);
    ls_params_free(&truth);
}

/* Sigma's rows are points of spheres, reached by the exponential map (see
 * sigma_rows in model.c): the boundary L_kk = 0 is at |v_k| = pi / 2.
 * Rows on (row 2), near (row 3, past it) and close to the origin (row 1,
 * where the map's coefficients come from series) of K = 4: the gradient and
 * the Hessian against differences; the reflection v -> (pi - r) v / r
 * leaves the likelihood unchanged (so a maximum on the boundary is a
 * stationary point); and a singular Sigma packs and unpacks. */
static void sigma_rows_through_the_boundary(void)
{
    const double half_pi = 1.5707963267948966;
    double w[6] = {0.06, 0.6 * half_pi, -0.8 * half_pi, 0.9, -1.1, 1.4};
    w_set = w;
    const double hs[] = {1e-5, 3e-5, 1e-4};
    check_gradient_steps(4, LS_INT_GH, 3, 1, 1e-6, hs, 3, 0);
    check_gradient_steps(4, LS_INT_LAPLACE, 0, 0, 1e-6, hs, 3, 0);
    check_hessian(4, LS_INT_GH, 3, NULL, 0, 0);
    w_set = NULL;

    ls_params truth, back;
    ls_data *d = sim_data(30, 4, 8, 9, &truth);
    ls_model *m = NULL;
    ls_error e;
    CHECK(d && ls_model_new(d, 4, NULL, LS_INT_GH, 3, 2, &m, &e) == LS_OK);
    if (!m) { ls_data_free(d); ls_params_free(&truth); return; }
    size_t dim = ls_model_dim(m);
    double *th = theta_near_truth(m, d, &truth, 0.02), *th2 = calloc(dim, sizeof(double));
    ls_layout l;
    ls_model_layout(m, &l);
    for (size_t q = 0; q < 6; q++) th[l.off_w + q] = w[q];
    double r3 = sqrt(w[3] * w[3] + w[4] * w[4] + w[5] * w[5]);
    CHECK(r3 > half_pi); /* row 3 past the boundary */
    double ll1, ll2;
    CHECK(ls_model_loglik(m, th, &ll1, NULL, NULL, &e) == LS_OK);
    memcpy(th2, th, dim * sizeof(double));
    for (size_t q = 3; q < 6; q++) th2[l.off_w + q] *= (3.141592653589793 - r3) / r3;
    CHECK(ls_model_loglik(m, th2, &ll2, NULL, NULL, &e) == LS_OK);
    CHECK_MSG(fabs(ll1 - ll2) < 1e-9 * fabs(ll1), "reflected row: %.12g against %.12g", ll1, ll2);
    /* row 2 exactly on the boundary: Sigma singular, packed and unpacked */
    double r2 = sqrt(w[1] * w[1] + w[2] * w[2]);
    th[l.off_w + 1] *= half_pi / r2;
    th[l.off_w + 2] *= half_pi / r2;
    ls_params_alloc(&back, 4, 8, 3, &e);
    ls_model_unpack(m, th, &back);
    double S[16];
    memcpy(S, back.sigma, sizeof S);
    CHECK(ls_chol(S, 4) != 0); /* not positive definite */
    CHECK(ls_model_pack(m, &back, th2, &e) == LS_OK);
    ls_params again;
    ls_params_alloc(&again, 4, 8, 3, &e);
    ls_model_unpack(m, th2, &again);
    double worst = 0;
    for (size_t i = 0; i < 16; i++) worst = fmax(worst, fabs(again.sigma[i] - back.sigma[i]));
    CHECK_MSG(worst < 1e-9, "singular Sigma round trip error %.3g", worst);
    /* and a matrix that is not semi-definite is refused */
    back.sigma[1] = back.sigma[4] = 0.99;
    back.sigma[2] = back.sigma[8] = -0.99;
    CHECK(ls_model_pack(m, &back, th2, &e) == LS_ERR_INPUT);
    ls_params_free(&again);
    ls_params_free(&back);
    free(th);
    free(th2);
    ls_model_free(m);
    ls_data_free(d);
    ls_params_free(&truth);
}

static void hessian_matches_differences_of_the_gradient(void)
{
    int all = !h_quick(); /* quick: one case of every rule and option */
    check_hessian(1, LS_INT_GH, 7, NULL, 0, 0);
    if (all) check_hessian(2, LS_INT_GH, 5, NULL, 0, 0);
    if (all) check_hessian(3, LS_INT_GH, 4, NULL, 0, 0);
    check_hessian(3, LS_INT_GH, 4, "mmlu,bbh,arc", 0, 0);
    if (all) check_hessian(4, LS_INT_QMC, 32, NULL, 0, 0);
    else check_hessian(2, LS_INT_QMC, 16, NULL, 0, 0);
    check_hessian(4, LS_INT_SPARSE, 2, NULL, 0, 0);
    if (all) check_hessian(5, LS_INT_SPARSE, 3, NULL, 0, 0);
    check_hessian(3, LS_INT_LAPLACE, 0, NULL, 0, 0);
    check_hessian(2, LS_INT_GH, 5, NULL, 1, 0);
    check_hessian(2, LS_INT_GH, 5, "hellaswag,ifeval", 1, 0);
    check_hessian(2, LS_INT_GH, 5, NULL, 0, 1.5);
}

/* With ceilings d_j < 1 (mean c + (d - c) logistic(eta)) every derivative
 * scales through dmu/deta: the gradient on frozen and re-adapted Laplace
 * rules and the Hessian, against differences as above. */
static void derivatives_hold_with_ceilings(void)
{
    sim_ceilings = "hellaswag=0.9,mmlu=0.8,arc=0.75,math=0.6";
    ls_params truth;
    ls_data *d = sim_data(20, 2, 8, 5, &truth);
    CHECK(d != NULL);
    if (d) {
        size_t set = 0;
        for (size_t j = 0; j < d->J; j++) set += d->ceil[j] < 1;
        CHECK(set == 4 && ls_data_ceiling(d, 2) == 0.9 && ls_data_ceiling(d, 1) == 1);
        ls_data_free(d);
        ls_params_free(&truth);
    }
    check_gradient(2, LS_INT_GH, 5, 1, 1e-6);
    check_gradient(3, LS_INT_SPARSE, 2, 1, 1e-6);
    const double hs[] = {1e-5, 3e-5, 1e-4};
    check_gradient_steps(3, LS_INT_LAPLACE, 0, 0, 1e-6, hs, 3, 0);
    check_hessian(2, LS_INT_GH, 5, NULL, 0, 0);
    check_hessian(2, LS_INT_GH, 5, NULL, 1, 0);
    check_hessian(3, LS_INT_LAPLACE, 0, NULL, 0, 0);
    sim_ceilings = NULL;
}

/* Estimated ceilings (kappa_j, d_j = c_j + (1 - c_j) logistic(kappa_j)):
 * their gradient on frozen grids, the re-adapted Laplace rule's total
 * derivative (the mode and the curvature move with kappa), and their rows
 * of the Hessian, also with per-cell precisions and other anchors.  Three
 * ceilings are set in the data and estimated, with a fourth that the data
 * leave at 1 (started at 0.95) and one (arc) set and held fixed. */
static void derivatives_hold_with_estimated_ceilings(void)
{
    sim_ceilings = "hellaswag=0.9,mmlu=0.8,arc=0.75,math=0.6";
    est_ceilings = "mmlu,math,hellaswag,ifeval";
    ls_params truth;
    ls_data *d = sim_data(20, 2, 8, 5, &truth);
    CHECK(d != NULL);
    if (d) {
        ls_model *m = NULL;
        ls_error e;
        CHECK(ls_model_new_ext(d, 2, NULL, LS_INT_GH, 5, 1, 0, est_ceilings, &m, &e) == LS_OK);
        ls_layout l = {0};
        if (m) ls_model_layout(m, &l);
        CHECK(m && l.nkap == 4 && ls_model_dim(m) == ls_params_count(2, d->J, d->p) + 4);
        /* benchmark order, whatever the list's: math is first */
        CHECK(m && l.kap_of[0] == 0 && l.kap_of[1] == 1 && l.kap_of[2] == 2 && l.kap_of[6] == -1);
        /* pack and unpack carry the ceilings */
        double *th = m ? theta_near_truth(m, d, &truth, 0) : NULL;
        ls_params back;
        ls_params_alloc(&back, 2, d->J, d->p, &e);
        if (th) {
            ls_model_unpack(m, th, &back);
            CHECK_NEAR(back.ceiling[0], 0.6, 1e-12);
            CHECK_NEAR(back.ceiling[1], 0.95, 1e-12);
            CHECK_NEAR(back.ceiling[6], 0.75, 1e-12);
        }
        ls_params_free(&back);
        free(th);
        ls_model_free(m);
        CHECK(ls_model_new_ext(d, 2, NULL, LS_INT_GH, 5, 1, 0, "mmlu,nosuch", &m, &e) == LS_ERR_OPTION);
        CHECK(strstr(e.message, "estimate_ceilings: unknown benchmark 'nosuch'") != NULL);
        CHECK(ls_model_new_ext(d, 2, NULL, LS_INT_GH, 5, 1, 0, "mmlu,mmlu", &m, &e) == LS_ERR_OPTION);
        CHECK(ls_model_new_ext(d, 2, NULL, LS_INT_GH, 5, 1, 0, "all", &m, &e) == LS_OK);
        if (m) ls_model_layout(m, &l);
        CHECK(m && l.nkap == d->J);
        ls_model_free(m);
        ls_data_free(d);
        ls_params_free(&truth);
    }
    /* (the node rules share one score path, so one frozen grid; these
     * run under valgrind in CI, hence no more than needed) */
    check_gradient(2, LS_INT_GH, 5, 1, 1e-6);
    const double hs[] = {1e-5, 3e-5, 1e-4};
    check_gradient_steps(3, LS_INT_LAPLACE, 0, 0, 1e-6, hs, 3, 0);
    check_gradient_steps(2, LS_INT_LAPLACE, 0, 0, 1e-6, hs, 3, 1.5);
    check_hessian(2, LS_INT_GH, 5, "hellaswag,ifeval", 1, 0);
    check_hessian(3, LS_INT_LAPLACE, 0, NULL, 0, 0);
    sim_ceilings = NULL;
    est_ceilings = NULL;
}

/* The family-by-benchmark effect (model.h, ls_model_enable_family_effect):
 * its analytic gradient (Fisher's identity under the nested rule, outer
 * nodes frozen, inner maps re-adapted by a converged Newton) against
 * central differences, for every block of theta including tau; the
 * nested rule against one with many more inner nodes; and its limit as
 * tau -> 0, the model without it. */
static void family_effect_derivatives_and_accuracy(void)
{
    sim_fe_sd = 0.4;
    ls_params truth;
    ls_data *d = sim_data(30, 2, 8, 23, &truth);
    sim_fe_sd = 0;
    CHECK(d != NULL);
    if (!d) return;
    CHECK(truth.family_effect == 1 && truth.tau[3] == 0.4);
    ls_error e;
    ls_model *m0 = NULL, *m = NULL, *mref = NULL;
    CHECK(ls_model_new(d, 2, NULL, LS_INT_GH, 6, 2, &m0, &e) == LS_OK);
    CHECK(ls_model_new(d, 2, NULL, LS_INT_GH, 6, 2, &m, &e) == LS_OK);
    CHECK(ls_model_new(d, 2, NULL, LS_INT_GH, 6, 2, &mref, &e) == LS_OK);
    if (!m0 || !m || !mref) return;
    CHECK(ls_model_enable_family_effect(m, 0, &e) == LS_OK);
    CHECK(ls_model_enable_family_effect(mref, 41, &e) == LS_OK);
    size_t dim0 = ls_model_dim(m0), dim = ls_model_dim(m);
    CHECK(dim == dim0 + d->J);
    double *th0 = theta_near_truth(m0, d, &truth, 0.03);
    double *th = calloc(dim, sizeof(double));
    memcpy(th, th0, dim0 * sizeof(double));
    ls_layout l;
    ls_model_layout(m, &l);
    CHECK(l.fe == 1 && l.off_t == dim0);
    /* tau = 0 is the model without the effect (the inner rule integrates a
     * constant exactly), and a point like any other: tau -> 0 is
     * continuous */
    for (size_t j = 0; j < d->J; j++) th[l.off_t + j] = 0;
    double l0, l1, lr, lpos, lneg;
    CHECK(ls_model_loglik(m0, th0, &l0, NULL, NULL, &e) == LS_OK);
    CHECK(ls_model_loglik(m, th, &l1, NULL, NULL, &e) == LS_OK);
    CHECK_MSG(fabs(l1 - l0) < 1e-9, "tau = 0: %.12f against %.12f without the effect", l1, l0);
    for (size_t j = 0; j < d->J; j++) th[l.off_t + j] = 1e-5;
    CHECK(ls_model_loglik(m, th, &l1, NULL, NULL, &e) == LS_OK);
    CHECK_MSG(fabs(l1 - l0) < 1e-6, "tau = 1e-5: %.9f against %.9f without the effect", l1, l0);
    /* tau near the truth's, unequal across benchmarks; the sign does not
     * matter (v is symmetric, its rule too) */
    for (size_t j = 0; j < d->J; j++) th[l.off_t + j] = 0.25 + 0.05 * (double)j;
    CHECK(ls_model_loglik(m, th, &lpos, NULL, NULL, &e) == LS_OK);
    for (size_t j = 0; j < d->J; j += 2) th[l.off_t + j] = -th[l.off_t + j];
    CHECK(ls_model_loglik(m, th, &lneg, NULL, NULL, &e) == LS_OK);
    CHECK_MSG(fabs(lpos - lneg) < 1e-9, "tau and -tau: %.12f against %.12f", lpos, lneg);
    for (size_t j = 0; j < d->J; j += 2) th[l.off_t + j] = -th[l.off_t + j];
    CHECK(ls_model_loglik(m, th, &l1, NULL, NULL, &e) == LS_OK);
    CHECK(ls_model_loglik(mref, th, &lr, NULL, NULL, &e) == LS_OK);
    /* (on these data, 30 families: 5, 7, 9, 11, 15, 21 inner nodes were
     * 2.7e-2, 1.9e-3, 4.3e-4, 1.1e-4, 6e-6, 2e-7 below 41's value) */
    CHECK_MSG(fabs(l1 - lr) < 3e-4, "11 inner nodes: %.6f, 41: %.6f", l1, lr);
    CHECK_MSG(l1 > l0 + 1, "the effect raises the likelihood of data that have it: %.3f vs %.3f", l1, l0);
    { /* one thread or two: the same value and gradient, bit for bit */
        ls_model *m1 = NULL, *m2 = NULL;
        CHECK(ls_model_new(d, 2, NULL, LS_INT_GH, 6, 1, &m1, &e) == LS_OK);
        CHECK(ls_model_new(d, 2, NULL, LS_INT_GH, 6, 2, &m2, &e) == LS_OK);
        CHECK(m1 && ls_model_enable_family_effect(m1, 0, &e) == LS_OK);
        CHECK(m2 && ls_model_enable_family_effect(m2, 0, &e) == LS_OK);
        double *g1 = calloc(dim, sizeof(double)), *g2 = calloc(dim, sizeof(double)), a1, a2;
        CHECK(ls_model_loglik(m1, th, &a1, g1, NULL, &e) == LS_OK);
        CHECK(ls_model_loglik(m2, th, &a2, g2, NULL, &e) == LS_OK);
        CHECK(a1 == a2 && memcmp(g1, g2, dim * sizeof(double)) == 0);
        free(g1);
        free(g2);
        ls_model_free(m1);
        ls_model_free(m2);
    }
    ls_model_set_freeze(m, 1);
    const double hs[] = {1e-5, 3e-5, 1e-4};
    double err = fd_max_rel_error_steps(m, th, hs, 3);
    CHECK_MSG(err < 1e-6, "family effect: max relative gradient error %.3g", err);
    /* the re-adapted objective too (the outer map moves) */
    ls_model_set_freeze(m, 0);
    err = fd_max_rel_error_steps(m, th, hs, 3);
    /* (the gradient holds the maps; the total derivative of the re-adapted
     * value differs from it by the rules' error as the maps move: here
     * 7.6e-3 with 6 outer and 11 inner nodes, in tau (2e-3 in log tau,
     * whose steps are relative)) */
    CHECK_MSG(err < 1.5e-2, "family effect, re-adapted nodes: max relative gradient error %.3g", err);
    /* the Hessian (Louis' identity under the nested rule) is symmetric and
     * agrees with second differences of the value in the tau block */
    double *H = calloc(dim * dim, sizeof(double));
    CHECK(ls_model_loglik(m, th, &l1, NULL, NULL, &e) == LS_OK); /* adapt the nodes here */
    CHECK(ls_model_hessian(m, th, H, &e) == LS_OK);
    ls_model_set_freeze(m, 1);
    for (size_t j = 0; j < d->J; j += 3) {
        size_t i = l.off_t + j;
        double h = 1e-3, t = th[i], lp, lm, lc;
        ls_model_loglik(m, th, &lc, NULL, NULL, &e);
        th[i] = t + h;
        ls_model_loglik(m, th, &lp, NULL, NULL, &e);
        th[i] = t - h;
        ls_model_loglik(m, th, &lm, NULL, NULL, &e);
        th[i] = t;
        double fd = (lp - 2 * lc + lm) / (h * h);
        CHECK_MSG(fabs(H[i * dim + i] - fd) < 1e-3 * fmax(1, fabs(fd)), "d2/dtau_%zu^2: %.6g against %.6g", j,
                  H[i * dim + i], fd);
    }
    double asym = 0, hmax = 0;
    for (size_t a = 0; a < dim; a++)
        for (size_t b = 0; b <= a; b++) {
            asym = fmax(asym, fabs(H[a * dim + b] - H[b * dim + a]));
            hmax = fmax(hmax, fabs(H[a * dim + b]));
        }
    CHECK_MSG(asym <= 1e-12 * hmax, "asymmetry %.3g of %.3g", asym, hmax);
    free(H);
    free(th);
    free(th0);
    ls_model_free(m);
    ls_model_free(m0);
    ls_model_free(mref);
    /* no Laplace rule for the effect */
    CHECK(ls_model_new(d, 2, NULL, LS_INT_LAPLACE, 0, 2, &m, &e) == LS_OK);
    CHECK(m && ls_model_enable_family_effect(m, 0, &e) == LS_ERR_OPTION);
    CHECK(strstr(e.message, "family_effect: ") != NULL);
    ls_model_free(m);
    ls_data_free(d);
    ls_params_free(&truth);
}

/* The family effect's Hessian (Louis' identity for the nested rule,
 * hessian.c fe_node) against central differences of the analytic
 * gradient, both on the frozen outer and inner maps: product rules at
 * K = 1, 2, 3, a signed sparse grid, other anchors, estimated ceilings. */
static void family_effect_hessian_matches_differences(void)
{
    int all = !h_quick(); /* quick: one case of each rule, and the ceilings */
    hess_fe = 0.4;
    check_hessian(1, LS_INT_GH, 7, NULL, 0, 0);
    if (all) check_hessian(2, LS_INT_GH, 5, NULL, 0, 0);
    if (all) check_hessian(3, LS_INT_GH, 3, NULL, 0, 0);
    check_hessian(3, LS_INT_SPARSE, 2, NULL, 0, 0);
    if (all) check_hessian(2, LS_INT_GH, 5, "hellaswag,ifeval", 0, 0);
    est_ceilings = "mmlu,math,hellaswag,ifeval";
    sim_ceilings = "hellaswag=0.9,mmlu=0.8,arc=0.75,math=0.6";
    check_hessian(2, LS_INT_GH, 5, NULL, 0, 0);
    est_ceilings = NULL;
    sim_ceilings = NULL;
    hess_fe = 0;
}

int main(void)
{
    RUN(family_effect_derivatives_and_accuracy);
    RUN(family_effect_hessian_matches_differences);
    RUN(gradients_match_finite_differences_with_frozen_nodes);
    RUN(gradients_match_finite_differences_of_the_adaptive_objective);
    RUN(laplace_gradient_is_the_total_derivative);
    RUN(derivatives_hold_with_estimated_ceilings);
    RUN(pack_and_unpack_round_trip);
    RUN(results_do_not_depend_on_the_thread_count);
    RUN(adaptive_rules_agree_with_a_large_reference);
    RUN(too_many_skills_is_an_option_error);
    RUN(logit_clamp_is_exact_and_differentiable);
    RUN(heteroscedastic_precision_gradient);
    RUN(hessian_matches_differences_of_the_gradient);
    RUN(sigma_rows_through_the_boundary);
    RUN(derivatives_hold_with_ceilings);
    return h_finish();
}
