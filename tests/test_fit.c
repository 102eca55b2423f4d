/*
 * test_fit.c -- the multi-start maximum-likelihood fit: determinism,
 * cancellation, parameter recovery on simulated leaderboards (errors
 * shrinking at close to the root-n rate as families grow) and, on the paper
 * data, the accuracy of the integration at the fitted optimum.
 */
#include "harness.h"
#include "paper_k4.h"
#include "sim.h"
#include "scaling/data.h"
#include "latentscale.h"
#include "scaling/params.h"
#include "scaling/fit.h"
#include "scaling/fit_impl.h"
#include "scaling/tasks.h"

#include <stdlib.h>
#include <unistd.h>

static size_t sim_J = 12;

static int fit_warns(const ls_fit *f, const char *what)
{
    for (size_t i = 0; i < ls_fit_nwarnings(f); i++)
        if (strstr(ls_fit_warning(f, i), what)) return 1;
    return 0;
}

/* Fit options for a quick fit: K skills, the given starts, no standard errors. */
static ls_fit_options quick_options(size_t K, unsigned starts)
{
    ls_fit_options o;
    ls_fit_options_init(&o);
    o.skills = K;
    o.starts = starts;
    o.skip_se = 1;
    return o;
}

static double sim_fe_sd = 0; /* > 0: the family-by-benchmark effect's sd */

static ls_data *sim_data(size_t F, size_t K, uint64_t seed, ls_params *truth)
{
    ls_sim_options so;
    ls_sim_options_init(&so);
    so.family_effect_sd = sim_fe_sd;
    so.benchmarks = sim_J;
    so.families = F;
    so.skills = K;
    so.seed = seed;
    ls_table *t = NULL;
    double *floors = NULL;
    ls_params tr;
    ls_error e;
    if (ls_simulate(&so, &t, &tr, &floors, &e)) return NULL;
    char fl[1024];
    h_floor_list(t, floors, so.benchmarks, fl, sizeof fl);
    ls_data_options o;
    ls_data_options_init(&o);
    o.floors = fl;
    ls_data *d = NULL;
    ls_data_build(t, &o, &d, &e);
    ls_table_free(t);
    free(floors);
    if (truth) *truth = tr;
    else ls_params_free(&tr);
    return d;
}

/* Squared errors of beta, the anchor loadings and Sigma against the truth,
 * added to *sq; returns how many entries were added. */
static size_t add_sq_errors(const ls_params *est, const ls_params *truth, double *sq)
{
    size_t K = truth->K, J = truth->J, cnt = 0;
    for (size_t i = 0; i < truth->p * K; i++, cnt++) *sq += pow(est->beta[i] - truth->beta[i], 2);
    for (size_t k = 0; k < K; k++, cnt++) *sq += pow(est->lambda[k * J + k] - truth->lambda[k * J + k], 2);
    for (size_t i = 0; i < K * K; i++, cnt++) *sq += pow(est->sigma[i] - truth->sigma[i], 2);
    return cnt;
}

static int cancel_now(void *ctx, const char *s, double done, double total)
{
    (void)ctx; (void)s; (void)total;
    return done >= 3;
}

static void same_seed_gives_identical_estimates(void)
{
    ls_data *d = sim_data(40, 2, 9, NULL);
    ls_fit_options o;
    ls_fit_options_init(&o);
    o.skills = 2;
    o.starts = 3;
    ls_fit *a = NULL, *b = NULL;
    ls_error e;
    CHECK(ls_fit_run(d, &o, &a, &e) == LS_OK);
    o.threads = 1;
    CHECK(ls_fit_run(d, &o, &b, &e) == LS_OK);
    if (a && b) {
        CHECK(ls_fit_loglik(a) == ls_fit_loglik(b));
        CHECK(memcmp(ls_fit_theta(a), ls_fit_theta(b), ls_params_count(2, 12, 3) * sizeof(double)) == 0);
        CHECK(ls_fit_converged(a));
        CHECK(ls_fit_nparams(a) == ls_params_count(2, 12, 3));
        CHECK_NEAR(ls_fit_aic(a), -2 * (ls_fit_loglik(a) - (double)ls_fit_nparams(a)), 1e-9);
    }
    ls_fit_free(a);
    ls_fit_free(b);
    ls_data_free(d);
}

/* A rule too coarse to resolve gtol as its nodes move (64 QMC points,
 * re-centred at every adaptation): Newton with re-adapted nodes cannot
 * converge, the fit finishes on the node map frozen near the optimum, says
 * so, and is not called converged. */
static void coarse_rule_finishes_on_a_frozen_node_map(void)
{
    ls_data *d = sim_data(60, 2, 31, NULL);
    ls_fit_options o = quick_options(2, 2);
    o.gtol = 1e-4;
    o.integration = LS_INT_QMC;
    o.nodes = 64;
    ls_fit *a = NULL;
    ls_error e;
    CHECK(ls_fit_run(d, &o, &a, &e) == LS_OK);
    if (a) {
        double gfr = 1;
        CHECK(ls_fit_frozen(a, &gfr) == 1);
        CHECK_MSG(gfr <= 1e-4, "frozen gradient %.3g", gfr);
        CHECK_MSG(ls_fit_gradnorm(a) > 1e-4, "re-adapted gradient %.3g", ls_fit_gradnorm(a));
        CHECK(!ls_fit_converged(a));
        printf("  QMC-64: frozen max |g| %.2e, re-adapted %.2e\n", gfr, ls_fit_gradnorm(a));
    }
    ls_fit_free(a);
    ls_data_free(d);
}

static void progress_callback_cancels_the_fit(void)
{
    ls_data *d = sim_data(30, 2, 4, NULL);
    ls_fit_options o;
    ls_fit_options_init(&o);
    o.skills = 2;
    o.progress = cancel_now;
    ls_fit *f = NULL;
    ls_error e;
    CHECK(ls_fit_run(d, &o, &f, &e) == LS_ERR_CANCEL);
    CHECK(f == NULL);
    ls_data_free(d);
}

/* Root mean squared error of beta, the anchor loadings and Sigma against
 * the truth over `reps` simulated leaderboards of F families. */
static double recovery(size_t F, size_t K, int reps)
{
    double sq = 0;
    size_t cnt = 0;
    for (int r = 0; r < reps; r++) {
        ls_params truth;
        ls_data *d = sim_data(F, K, 1000 + (uint64_t)r * 7919 + K, &truth);
        if (!d) { CHECK_MSG(0, "simulation failed"); continue; }
        ls_fit_options o;
        ls_fit_options_init(&o);
        o.skills = K;
        o.anchors = "first"; /* the truth's parametrisation */
        o.starts = 1;
        o.seed = (uint64_t)r + 1;
        ls_fit *f = NULL;
        ls_error e;
        if (ls_fit_run(d, &o, &f, &e)) {
            CHECK_MSG(0, "%s", e.message);
            ls_data_free(d);
            ls_params_free(&truth);
            continue;
        }
        CHECK_MSG(ls_fit_converged(f), "F=%zu K=%zu rep %d: max |g| %.3g", F, K, r, ls_fit_gradnorm(f));
        const ls_params *est = ls_fit_params(f);
        cnt += add_sq_errors(est, &truth, &sq);
        ls_fit_free(f);
        ls_data_free(d);
        ls_params_free(&truth);
    }
    return cnt ? sqrt(sq / (double)cnt) : INFINITY;
}

/* A consistent estimator: with four times the families the error should
 * roughly halve (root-n); we require it to fall by at least a third.  K = 1,
 * 2 on product grids, K = 4 on the sparse grid. */
static void parameters_are_recovered_and_errors_shrink_with_more_families(void)
{
    for (size_t K = 1; K <= 2; K++) {
        double r_small = recovery(60, K, 4), r_big = recovery(240, K, 4);
        printf("  K=%zu: RMSE of beta, anchor loadings, Sigma: %.4f (60 families) -> %.4f (240 families), ratio %.2f (root-n: 0.50)\n",
               K, r_small, r_big, r_big / r_small);
        CHECK_MSG(r_big < 0.67 * r_small, "K=%zu RMSE %.4f -> %.4f", K, r_small, r_big);
        CHECK_MSG(r_big < 0.15, "K=%zu RMSE at 240 families %.4f", K, r_big);
    }
    /* K = 4 on the default sparse grid (level 4, signed weights) */
    double r_small = recovery(80, 4, 2), r_big = recovery(320, 4, 2);
    printf("  K=4 (sparse grid): RMSE %.4f (80 families) -> %.4f (320 families), ratio %.2f\n", r_small, r_big,
           r_big / r_small);
    CHECK_MSG(r_big < 0.67 * r_small, "K=4 RMSE %.4f -> %.4f", r_small, r_big);
    CHECK_MSG(r_big < 0.15, "K=4 RMSE at 320 families %.4f", r_big);
}

/* Ceilings: a leaderboard drawn with four benchmarks saturating below 1
 * (HellaSwag 0.85, MMLU 0.8, ARC 0.8, Winogrande 0.9) is recovered when the
 * fit is given those ceilings, and fitted worse without them: the
 * log-likelihood is lower and the estimates are biased. */
static void ceilings_are_recovered_and_matter(void)
{
    double ce[12] = {1, 1, 0.85, 1, 1, 0.8, 0.8, 1, 1, 0.9, 1, 1};
    ls_sim_options so;
    ls_sim_options_init(&so);
    so.families = 300;
    so.skills = 2;
    so.seed = 31;
    so.ceilings = ce;
    ls_table *t = NULL;
    double *floors = NULL;
    ls_params truth;
    ls_error e;
    CHECK(ls_simulate(&so, &t, &truth, &floors, &e) == LS_OK);
    if (!t) return;
    char fl[1024];
    h_floor_list(t, floors, 12, fl, sizeof fl);
    /* without ceilings, with the true ones, and estimating them */
    double rmse[3] = {0, 0, 0}, ll[3] = {0, 0, 0};
    for (int with = 0; with < 3; with++) {
        ls_data_options o;
        ls_data_options_init(&o);
        o.floors = fl;
        o.ceilings = with == 1 ? "hellaswag=0.85,mmlu=0.8,arc=0.8,winogrande=0.9" : NULL;
        ls_data *d = NULL;
        CHECK(ls_data_build(t, &o, &d, &e) == LS_OK);
        if (!d) continue;
        ls_fit_options fo = quick_options(2, 2);
        fo.anchors = "first"; /* the truth's parametrisation */
        if (with == 2) {
            fo.estimate_ceilings = "winogrande,hellaswag,mmlu,arc,math";
            fo.skip_se = 0;
        }
        ls_fit *f = NULL;
        CHECK(ls_fit_run(d, &fo, &f, &e) == LS_OK);
        if (f && with == 2) {
            /* each estimate within 3 standard errors of the truth (math's
             * truth is 1: its estimate is only bounded by it) */
            const ls_params *est = ls_fit_params(f);
            const double *se = ls_fit_se(f, LS_SE_HESSIAN);
            size_t base = ls_fit_nnat(f) - 12;
            CHECK(se != NULL && ls_fit_nnat(f) == ls_nat_count(2, 12, 3) + 12);
            CHECK(ls_fit_ceiling_estimated(f, 2) && ls_fit_ceiling_estimated(f, 0) && !ls_fit_ceiling_estimated(f, 1));
            for (size_t j = 0; se && j < 12; j++) {
                if (!ls_fit_ceiling_estimated(f, j)) {
                    CHECK(est->ceiling[j] == 1 && se[base + j] == 0);
                    continue;
                }
                printf("  estimated ceiling %zu: %.4f (se %.4f), truth %.2f\n", j, est->ceiling[j], se[base + j], ce[j]);
                if (ce[j] < 1)
                    CHECK_MSG(fabs(est->ceiling[j] - ce[j]) < 3 * se[base + j] && se[base + j] < 0.1,
                              "ceiling %zu: %.4f (se %.4f), truth %.2f", j, est->ceiling[j], se[base + j], ce[j]);
                else
                    CHECK_MSG(est->ceiling[j] > 0.9, "ceiling %zu: %.4f, truth 1", j, est->ceiling[j]);
            }
            /* the fit file carries them: loading it back gives the same
             * ceilings and log-likelihood */
            char path[] = "/tmp/ls_test_ceilXXXXXX";
            CHECK(h_fit_file(f, d, path, &e) == LS_OK);
            ls_data *d2 = NULL;
            ls_fit *f2 = NULL;
            CHECK(ls_fit_load(path, t, 1, &d2, &f2, &e) == LS_OK);
            if (f2) {
                CHECK_NEAR(ls_fit_loglik(f2), ls_fit_loglik(f), 1e-9);
                for (size_t j = 0; j < 12; j++) {
                    CHECK_NEAR(ls_fit_params(f2)->ceiling[j], est->ceiling[j], 1e-12);
                    CHECK(ls_fit_ceiling_estimated(f2, j) == ls_fit_ceiling_estimated(f, j));
                }
            }
            /* the certificate's Hessian half: negative definite here, and
             * carried by the file; a file that says it was not is loaded as
             * not converged */
            double me = NAN, me2 = NAN;
            CHECK_MSG(ls_fit_hessian_definite(f, &me) == 1 && me > 0 && ls_fit_converged(f),
                      "hessian %d, information's smallest eigenvalue %.3g", ls_fit_hessian_definite(f, NULL), me);
            CHECK(f2 && ls_fit_hessian_definite(f2, &me2) == 1 && me2 == me && ls_fit_converged(f2));
            ls_fit_free(f2);
            ls_data_free(d2);
            f2 = NULL;
            d2 = NULL;
            FILE *fp = fopen(path, "rb");
            char *txt = fp ? calloc(1 << 22, 1) : NULL;
            size_t len = txt ? fread(txt, 1, (1 << 22) - 1, fp) : 0;
            if (fp) fclose(fp);
            char *at = txt ? strstr(txt, "\"negative definite\"") : NULL;
            CHECK(at != NULL && len > 0);
            if (at) {
                fp = fopen(path, "wb");
                fwrite(txt, 1, (size_t)(at - txt), fp);
                fputs("\"not negative definite\"", fp);
                fputs(at + strlen("\"negative definite\""), fp);
                fclose(fp);
                CHECK(ls_fit_load(path, t, 1, &d2, &f2, &e) == LS_OK);
                CHECK(f2 && ls_fit_hessian_definite(f2, NULL) == 0 && !ls_fit_converged(f2));
            }
            free(txt);
            ls_fit_free(f2);
            ls_data_free(d2);
            remove(path);
        }
        if (f) {
            const ls_params *est = ls_fit_params(f);
            size_t K = 2, J = 12, cnt = 0;
            double sq = 0;
            for (size_t i = 0; i < 3 * K; i++, cnt++) sq += pow(est->beta[i] - truth.beta[i], 2);
            for (size_t i = 0; i < K * J; i++, cnt++) sq += pow(est->lambda[i] - truth.lambda[i], 2);
            for (size_t j = 0; j < J; j++, cnt++) sq += pow(est->b[j] - truth.b[j], 2);
            rmse[with] = sqrt(sq / (double)cnt);
            ll[with] = ls_fit_loglik(f);
            if (with) CHECK_MSG(ls_fit_converged(f), "max |g| %.3g", ls_fit_gradnorm(f));
        }
        ls_fit_free(f);
        ls_data_free(d);
    }
    printf("  ceilings: RMSE of beta, Lambda, b %.4f with the true ceilings, %.4f without, %.4f estimated; log-likelihood %.2f, %.2f, %.2f\n",
           rmse[1], rmse[0], rmse[2], ll[1], ll[0], ll[2]);
    /* five more free parameters: the maximum is at least the true ceilings' */
    CHECK_MSG(ll[2] > ll[1] - 0.05, "log-likelihood estimating the ceilings %.3f, with the true ones %.3f", ll[2], ll[1]);
    CHECK_MSG(rmse[2] < 1.5 * rmse[1] && rmse[2] < 0.15, "RMSE estimating the ceilings %.4f, with the true ones %.4f",
              rmse[2], rmse[1]);
    CHECK_MSG(rmse[1] < 0.15, "RMSE with ceilings %.4f", rmse[1]);
    CHECK_MSG(rmse[0] > 1.5 * rmse[1], "RMSE without ceilings %.4f, with %.4f", rmse[0], rmse[1]);
    CHECK_MSG(ll[1] > ll[0] + 10, "log-likelihood with ceilings %.3f, without %.3f", ll[1], ll[0]);
    ls_table_free(t);
    free(floors);
    ls_params_free(&truth);
}

/* K = 5 on the default rules, the sparse-grid pipeline: search on the
 * Laplace rule, polish on level 2 (71 nodes), the fixed-point finish on
 * level 3 (341) and then level 4 (1341), the check by importance sampling
 * (16,384 points per family or more).  On a simulated leaderboard it
 * converges with the full certificate (re-adapted gradient below gtol,
 * Hessian negative definite), recovers the parameters, and its value lies
 * within 0.05 of the check's (three of the check's standard errors
 * added). */
/* A maximum on the boundary of the skill correlations (three true skills,
 * five fitted: two skills must copy combinations of the others) has no
 * interior point where the gradient vanishes, so the fixed-point finish
 * cannot converge; it stops once Newton on the frozen rule has missed
 * gtol in two cycles and says so (it used to creep on for up to 30 cycles: on
 * the paper data's K = 7 sibling hold-out, past 30 minutes), with the
 * correlation warning beside it, and the estimate it stops at is still
 * good: its value within 0.05 of the check's.  About 40 s. */
static void boundary_maximum_stops_the_finish(void)
{
    size_t keep = sim_J;
    sim_J = 12;
    ls_data *d = sim_data(150, 3, 5, NULL);
    sim_J = keep;
    CHECK(d != NULL);
    if (!d) return;
    ls_fit_options o = quick_options(5, 2);
    ls_fit *f = NULL;
    ls_error e;
    CHECK(ls_fit_run(d, &o, &f, &e) == LS_OK);
    if (f) {
        int sigma_warned = 0;
        for (size_t i = 0; i < ls_fit_nwarnings(f); i++)
            sigma_warned |= strstr(ls_fit_warning(f, i), "skill correlations nearly singular") != NULL;
        printf("  K = 5 on three true skills: loglik %.4f, check %.4f, max |g| %.3g, %s\n", ls_fit_loglik(f),
               ls_fit_loglik_check(f, NULL), ls_fit_gradnorm(f), f->reason);
        CHECK(sigma_warned);
        CHECK(!ls_fit_converged(f));
        CHECK_MSG(strstr(f->reason, "no interior maximum") != NULL, "reason: %s", f->reason);
        CHECK_MSG(fabs(ls_fit_loglik_check(f, NULL) - ls_fit_loglik(f)) < 0.05 + 3 * ls_fit_loglik_check_se(f),
                  "loglik %.4f check %.4f", ls_fit_loglik(f), ls_fit_loglik_check(f, NULL));
    }
    ls_fit_free(f);
    ls_data_free(d);
}

/* The check of a fit's value: the fit's recorded check is what
 * ls_check_loglik gives on its check rule, which is a plain evaluation of
 * that rule, distinct from the fit's own value. */
static void check_value_is_the_finer_rule_at_the_estimate(void)
{
    ls_data *d = sim_data(60, 2, 19, NULL);
    CHECK(d != NULL);
    if (!d) return;
    ls_fit_options o = quick_options(2, 1);
    o.integration = LS_INT_SPARSE;
    o.nodes = 2;
    ls_fit *f = NULL;
    ls_error e;
    CHECK(ls_fit_run(d, &o, &f, &e) == LS_OK);
    if (f) {
        size_t npts = 0, pts = 0;
        double chk = ls_fit_loglik_check(f, &npts), v = NAN, w = NAN;
        CHECK(f->check_integration == LS_INT_SPARSE && f->check_nodes == 4);
        int ci = f->check_integration;
        unsigned cn = f->check_nodes;
        char meth[16];
        ls_fit_options oc = o; /* in the fit's parametrisation: its anchors */
        oc.anchors = ls_fit_anchors(f);
        CHECK(ls_check_loglik(d, &oc, 1, ls_fit_theta(f), &ci, &cn, &v, NULL, NULL, &pts, meth, &e) == LS_OK);
        CHECK(ci == LS_INT_SPARSE && cn == 4 && strcmp(meth, "sparse-grid") == 0 && pts == npts);
        CHECK_MSG(v == chk, "check %.10f, again %.10f", chk, v);
        ls_model *m = NULL;
        CHECK(ls_model_new(d, 2, ls_fit_anchors(f), LS_INT_SPARSE, 4, 1, &m, &e) == LS_OK);
        if (m) CHECK(ls_model_loglik(m, ls_fit_theta(f), &w, NULL, NULL, &e) == LS_OK);
        ls_model_free(m);
        CHECK_MSG(fabs(w - v) < 1e-9, "model %.10f, check %.10f", w, v);
        /* level 4 against the fit's level 2: close, not the same number */
        CHECK(ls_fit_loglik(f) != chk && fabs(ls_fit_loglik(f) - chk) < 1);
        CHECK(strcmp(ls_fit_integration(f, &pts), "sparse-grid") == 0 && pts < npts);
    }
    ls_fit_free(f);
    ls_data_free(d);
}

static void sparse_grid_pipeline_fits_five_skills(void)
{
    ls_params truth;
    ls_data *d = sim_data(150, 5, 77, &truth);
    CHECK(d != NULL);
    if (!d) return;
    ls_fit_options o = quick_options(5, 2);
    o.skip_se = 0; /* the Hessian half of the certificate */
    ls_fit *f = NULL;
    ls_error e;
    CHECK(ls_fit_run(d, &o, &f, &e) == LS_OK);
    if (f) {
        CHECK(strcmp(f->search_integration, "laplace") == 0 && f->search_nodes == 1);
        CHECK(f->polish_nodes == 71 && strcmp(f->integration, "sparse-grid") == 0 && f->nodes == 1341);
        size_t npts = 0;
        double chk = ls_fit_loglik_check(f, &npts), se = ls_fit_loglik_check_se(f);
        CHECK_MSG(npts >= 16384 && strcmp(ls_fit_check_method(f), "rqmc-t") == 0, "check %s, %zu points",
                  ls_fit_check_method(f), npts);
        CHECK_MSG(fabs(chk - ls_fit_loglik(f)) < 0.05 + 3 * se, "loglik %.4f check %.4f (se %.4f)",
                  ls_fit_loglik(f), chk, se);
        CHECK_MSG(ls_fit_converged(f) == LS_CONVERGED_GRADIENT && ls_fit_gradnorm(f) <= o.gtol, "max |g| %.3g",
                  ls_fit_gradnorm(f));
        double mine = NAN;
        CHECK_MSG(ls_fit_hessian_definite(f, &mine) == 1 && mine > 0, "information's smallest eigenvalue %.3g",
                  mine);
        const ls_params *est = ls_fit_params(f);
        double sq = 0;
        size_t cnt = add_sq_errors(est, &truth, &sq);
        double rmse = sqrt(sq / (double)cnt);
        printf("  K=5 (sparse grids): loglik %.4f, check %.4f, RMSE of beta, anchor loadings, Sigma %.4f\n",
               ls_fit_loglik(f), chk, rmse);
        CHECK_MSG(rmse < 0.2, "K=5 RMSE %.4f", rmse);
    }
    ls_fit_free(f);
    ls_data_free(d);
    ls_params_free(&truth);
}

/* The Laplace rule at K = 5 (the path every default fit with K >= 8
 * takes: a 150-iteration L-BFGS search, one round of whitened L-BFGS per
 * candidate, the whitened finish): it converges to gtol, its gradient
 * re-evaluated from scratch at the estimate is below gtol, the parameters
 * are recovered, and its Laplace value sits within a few units of the
 * importance-sampling check. */
static void laplace_rule_converges_by_whitened_lbfgs(void)
{
    ls_params truth;
    ls_data *d = sim_data(150, 5, 78, &truth);
    CHECK(d != NULL);
    if (!d) return;
    ls_fit_options o = quick_options(5, 3);
    o.integration = LS_INT_LAPLACE;
    ls_fit *f = NULL;
    ls_error e;
    CHECK_MSG(ls_fit_run(d, &o, &f, &e) == LS_OK, "%s", e.message);
    if (f) {
        CHECK(strcmp(f->search_integration, "laplace") == 0 && strcmp(f->integration, "laplace") == 0);
        CHECK_MSG(ls_fit_converged(f) && ls_fit_gradnorm(f) <= o.gtol, "max |g| %.3g (%s)",
                  ls_fit_gradnorm(f), f->reason);
        ls_model *m = NULL;
        CHECK(ls_model_new(d, 5, ls_fit_anchors(f), LS_INT_LAPLACE, 0, 1, &m, &e) == LS_OK);
        if (m) {
            double ll, *g = calloc(ls_model_dim(m), sizeof(double)), gm = 0;
            CHECK(ls_model_loglik(m, ls_fit_theta(f), &ll, g, NULL, &e) == LS_OK);
            for (size_t i = 0; i < ls_model_dim(m); i++) gm = fmax(gm, fabs(g[i]));
            CHECK_MSG(gm <= o.gtol && fabs(ll - ls_fit_loglik(f)) < 1e-6, "fresh max |g| %.3g, loglik %.6f",
                      gm, ll);
            free(g);
            ls_model_free(m);
        }
        size_t npts = 0;
        double chk = ls_fit_loglik_check(f, &npts);
        const ls_params *est = ls_fit_params(f);
        double sq = 0;
        size_t cnt = add_sq_errors(est, &truth, &sq);
        double rmse = sqrt(sq / (double)cnt);
        printf("  K=5 (Laplace): loglik %.4f, check %.4f (%zu points), max |g| %.3g, %u iterations, RMSE %.4f\n",
               ls_fit_loglik(f), chk, npts, ls_fit_gradnorm(f), f->iter, rmse);
        CHECK_MSG(rmse < 0.2, "K=5 Laplace RMSE %.4f", rmse);
        CHECK_MSG(npts > 0 && fabs(chk - ls_fit_loglik(f)) < 10, "check %.4f", chk);
    }
    ls_fit_free(f);
    ls_data_free(d);
    ls_params_free(&truth);
}

/* Honest standard errors: over 100 simulated leaderboards (K = 1, J = 6, 120
 * families, new true parameters each time), the mean standard error of each
 * free parameter is compared with the spread of its estimation errors.  The pooled ratio (geometric mean over the
 * parameters) must be within 15 % of 1 for the Hessian and the sandwich. */
static void standard_errors_match_the_spread_of_estimates(void)
{
    const int R = 100;
    const size_t K = 1, J = 6, p = 3, F = 120;
    size_t q = p * K + K * J + 2 * J + K * K;
    double *sum = calloc(q, sizeof(double)), *sq = calloc(q, sizeof(double));
    double *ses = calloc(3 * q, sizeof(double));
    int got = 0;
    sim_J = J;
    for (int r = 0; r < R; r++) {
        ls_params tr;
        ls_data *d = sim_data(F, K, 5000 + (uint64_t)r, &tr);
        if (!d) { CHECK_MSG(0, "rep %d: simulation failed", r); continue; }
        ls_fit_options o;
        ls_fit_options_init(&o);
        o.skills = K;
        o.anchors = "first"; /* the truth's parametrisation */
        o.starts = 1;
        ls_fit *f = NULL;
        ls_error e;
        if (ls_fit_run(d, &o, &f, &e)) {
            CHECK_MSG(0, "rep %d failed: %s", r, e.message);
            ls_data_free(d);
            ls_params_free(&tr);
            continue;
        }
        const double *se[3] = {ls_fit_se(f, LS_SE_HESSIAN), ls_fit_se(f, LS_SE_OPG), ls_fit_se(f, LS_SE_SANDWICH)};
        if (!se[0] || !se[1] || !se[2]) { CHECK_MSG(0, "rep %d: no standard errors", r); }
        else {
            const ls_params *pr = ls_fit_params(f);
            double nat[64];
            size_t a = 0;
            /* errors against the truth: the simulator draws new parameters per seed */
            for (size_t i = 0; i < p * K; i++) nat[a++] = pr->beta[i] - tr.beta[i];
            for (size_t i = 0; i < K * J; i++) nat[a++] = pr->lambda[i] - tr.lambda[i];
            for (size_t i = 0; i < J; i++) nat[a++] = pr->b[i] - tr.b[i];
            for (size_t i = 0; i < J; i++) nat[a++] = pr->phi[i] - tr.phi[i];
            for (size_t i = 0; i < K * K; i++) nat[a++] = pr->sigma[i] - tr.sigma[i];
            for (a = 0; a < q; a++) {
                sum[a] += nat[a];
                sq[a] += nat[a] * nat[a];
                for (int k = 0; k < 3; k++) ses[k * q + a] += se[k][a];
            }
            got++;
        }
        ls_fit_free(f);
        ls_data_free(d);
        ls_params_free(&tr);
    }
    sim_J = 12;
    CHECK(got == R);
    static const char *kind[3] = {"Hessian", "OPG", "sandwich"};
    for (int k = 0; k < 3 && got > 2; k++) {
        double lr = 0;
        int n = 0;
        for (size_t a = 0; a < q; a++) {
            double m = sum[a] / got, sd = sqrt((sq[a] / got - m * m) * got / (got - 1.0));
            double mse = ses[k * q + a] / got;
            if (sd < 1e-12 || mse < 1e-12) continue; /* fixed entries (sigma, zero loadings) */
            lr += log(mse / sd);
            n++;
        }
        double ratio = exp(lr / n);
        printf("  %s: mean standard error / spread of estimates = %.3f over %d parameters, %d fits\n",
               kind[k], ratio, n, got);
        /* the outer product of scores is printed only: with 120 families and
         * 21 parameters its finite-sample bias is known to be large */
        if (k != 1) CHECK_MSG(fabs(ratio - 1) < 0.15, "%s SE ratio %.3f", kind[k], ratio);
    }
    free(sum);
    free(sq);
    free(ses);
}

#define ORDER "math,ifeval,hellaswag,bbh,mmlu-pro,mmlu,arc,truthfulqa,gsm8k,winogrande,gpqa,musr"
static const double REF_LL[3] = {2728.3, 2971.3, 3062.0};

/* K = 4 with the reference's clip (eta into [-4.5, 4.5]), default starts:
 * the log-likelihood reaches the published AIC's (3123.5), and the
 * estimates are the published ones (spec, "Numbers to check against"):
 * every beta within 1.5 published standard errors (0.65 at most measured),
 * Lambda within 0.06 RMS over the 36 free loadings (0.024), Sigma within
 * 0.08 (0.038).  Without the clip the optimum is 3112.55, beta 0.152 RMS
 * away (4.3 standard errors on MATH's log t).  The clip makes the surface
 * kinked, so the polish stops when Newton steps gain less than 1e-3 (it
 * crept for 1464 iterations, 425 s, before) and the fit is converged by the
 * log-likelihood's change, not max |g| (0.63), which it says; its polished
 * starts stop within 0.05 of one another there (0.021 apart measured), and
 * count as agreeing. */
static void clipped_k4_reproduces_the_published_fit(const ls_data *d)
{
    ls_fit_options fo;
    ls_fit_options_init(&fo);
    fo.skills = 4;
    fo.logit_clamp = 4.5;
    fo.skip_se = 1;
    ls_fit *f = NULL;
    ls_error e;
    if (ls_fit_run(d, &fo, &f, &e)) {
        CHECK_MSG(0, "clipped K=4: %s", e.message);
        return;
    }
    const ls_params *pr = ls_fit_params(f);
    CHECK(pr->K == 4 && pr->J == 12 && pr->p == 3);
    double brms, zmax, lrms, smax;
    paper_k4_distance(pr->beta, pr->lambda, pr->sigma, &brms, &zmax, &lrms, &smax);
    printf("  K=4 with the clip: loglik %.3f (reference implementation 3123.5), beta RMS %.3f from the published, "
           "within %.2f published standard errors, Lambda RMS %.3f, Sigma max %.3f; max |g| %.3g\n",
           ls_fit_loglik(f), brms, zmax, lrms, smax, ls_fit_gradnorm(f));
    CHECK_MSG(ls_fit_loglik(f) >= 3123.5, "clipped K=4 loglik %.3f", ls_fit_loglik(f));
    CHECK_MSG(zmax < 1.5, "clipped K=4: a beta %.2f published standard errors away", zmax);
    CHECK_MSG(lrms < 0.06, "clipped K=4: Lambda RMS %.3f", lrms);
    CHECK_MSG(smax < 0.08, "clipped K=4: Sigma max difference %.3f", smax);
    /* gtol is out of reach on the kinked surface: converged by the
     * log-likelihood's change, and the fit says so */
    CHECK_MSG(ls_fit_converged(f) == LS_CONVERGED_CHANGE, "clipped K=4: converged %d (max |g| %.3g)", ls_fit_converged(f),
              ls_fit_gradnorm(f));
    CHECK(fit_warns(f, "converged instead by its change"));
    CHECK_MSG(ls_fit_starts_at_best(f) >= 2, "clipped K=4: %u polished starts at the best", ls_fit_starts_at_best(f));
    CHECK(!fit_warns(f, "different log-likelihoods"));
    ls_fit_free(f);
}

/* Anchors chosen from the data: a near copy of the first benchmark placed
 * second would make the first two anchors nearly collinear; "auto"
 * passes over it and keeps the order otherwise, names the choice in the fit
 * (and its file), and refits (calibration's, select's) reuse it.  Named and
 * "first" anchors are taken as given. */
static void anchors_pass_over_a_near_copy(void)
{
    ls_sim_options so;
    ls_sim_options_init(&so);
    so.benchmarks = 6;
    so.families = 60;
    so.skills = 2;
    so.seed = 77;
    ls_table *t = NULL, *t2 = NULL;
    double *floors = NULL;
    ls_params tr;
    ls_error e;
    CHECK(ls_simulate(&so, &t, &tr, &floors, &e) == LS_OK);
    if (!t) return;
    size_t nc = ls_table_ncol(t), nr = ls_table_nrow(t);
    const char *names[64];
    for (size_t c = 0; c < nc; c++) names[c] = ls_table_colname(t, c);
    names[nc] = "copy";
    CHECK(ls_table_new("near-copy", nc + 1, names, &t2, &e) == LS_OK);
    for (size_t i = 0; t2 && i < nr; i++) {
        const char *cells[64];
        char cp[64];
        for (size_t c = 0; c < nc; c++) cells[c] = ls_table_cell(t, i, c);
        double v = NAN;
        int miss = 0;
        CHECK(ls_table_number(t, i, 4, &v, &miss, &e) == LS_OK);
        /* the first benchmark's score, moved by at most 0.004 */
        if (miss) cp[0] = 0;
        else snprintf(cp, sizeof cp, "%.6f", fmin(0.999, fmax(0.001, v + 0.004 * sin((double)i))));
        cells[nc] = cp;
        CHECK(ls_table_append(t2, cells, &e) == LS_OK);
    }
    char fl[1024], order[512] = "";
    h_floor_list(t, floors, so.benchmarks, fl, sizeof fl);
    strcat(fl, ",copy=");
    snprintf(fl + strlen(fl), sizeof fl - strlen(fl), "%.6g", floors[0]);
    snprintf(order, sizeof order, "%s,copy", ls_table_colname(t, 4));
    for (size_t j = 1; j < so.benchmarks; j++) {
        strcat(order, ",");
        strcat(order, ls_table_colname(t, 4 + j));
    }
    ls_data_options o;
    ls_data_options_init(&o);
    o.floors = fl;
    o.benchmarks = order;
    ls_data *d = NULL;
    CHECK(t2 && ls_data_build(t2, &o, &d, &e) == LS_OK);
    if (d) {
        ls_fit_options fo = quick_options(2, 2);
        fo.anchors = "auto";
        ls_fit *f = NULL;
        CHECK_MSG(ls_fit_run(d, &fo, &f, &e) == LS_OK, "%s", e.message);
        if (f) {
            const ls_params *pr = ls_fit_params(f);
            printf("  anchors chosen with a near copy of %s second: %s\n", ls_data_benchmark(d, 0), ls_fit_anchors(f));
            CHECK(ls_fit_anchors_from_data(f) == 1);
            CHECK_MSG(pr->anchors[0] == 0 && pr->anchors[1] == 2, "anchors %zu, %zu", pr->anchors[0], pr->anchors[1]);
            CHECK(ls_fit_converged(f));
            char want[256];
            snprintf(want, sizeof want, "%s,%s", ls_data_benchmark(d, 0), ls_data_benchmark(d, 2));
            CHECK_MSG(strcmp(ls_fit_anchors(f), want) == 0, "%s", ls_fit_anchors(f));
            /* the file keeps the choice and says it was the data's */
            char path[] = "/tmp/ls_anchorsXXXXXX";
            ls_fit *g = NULL;
            ls_data *dg = NULL;
            CHECK(h_fit_file(f, d, path, &e) == LS_OK);
            CHECK_MSG(ls_fit_load(path, t2, 1, &dg, &g, &e) == LS_OK, "%s", e.message);
            if (g) {
                CHECK(ls_fit_anchors_from_data(g) == 1);
                CHECK(ls_fit_params(g)->anchors[1] == 2);
                CHECK(fabs(ls_fit_loglik(g) - ls_fit_loglik(f)) < 1e-6);
            }
            ls_fit_free(g);
            ls_data_free(dg);
            remove(path);
        }
        ls_fit_free(f);
        /* "first" and NULL (the default) are the first K */
        for (int v = 0; v < 2; v++) {
            fo.anchors = v ? NULL : "first";
            f = NULL;
            fo.max_iter = 5;
            CHECK(ls_fit_run(d, &fo, &f, &e) == LS_OK);
            if (f) {
                CHECK(ls_fit_anchors_from_data(f) == 0 && ls_fit_params(f)->anchors[1] == 1);
                CHECK(strcmp(ls_fit_anchors(f), "first") == 0);
            }
            ls_fit_free(f);
        }
    }
    ls_data_free(d);
    ls_table_free(t2);
    ls_table_free(t);
    ls_params_free(&tr);
    free(floors);
}

/* On the paper data, K = 1, 2 and 3: the fit converges, and at its optimum
 * every family's log-likelihood from the default adaptive rule agrees with a
 * brute-force Gauss-Hermite grid within 1e-4 (the total within 0.05). The
 * log-likelihood is printed beside the reference implementation's; the
 * whole K = 1..12 comparison is bench/bench_fit. */
static void paper_data_fit_is_accurate_at_its_optimum(void)
{
    char buf[4096], fl[4096];
    const char *p = h_shared_data("openllm_merged.csv", buf, sizeof buf);
    if (!p || !h_shared_data("benchmarks.csv", fl, sizeof fl)) return;
    ls_table *t = NULL;
    ls_error e;
    CHECK(ls_table_read(p, &t, &e) == LS_OK);
    ls_data_options o;
    ls_data_options_init(&o);
    o.benchmarks = ORDER;
    o.floors_file = fl;
    ls_data *d = NULL;
    CHECK(ls_data_build(t, &o, &d, &e) == LS_OK);
    if (!d) { ls_table_free(t); return; }
    size_t F = ls_data_nfamilies(d);
    for (size_t K = 1; K <= 3; K++) {
        ls_fit_options fo;
        ls_fit_options_init(&fo);
        fo.skills = K;
        fo.starts = K == 1 ? 4 : 2;
        fo.skip_se = K == 3; /* only the optimum matters here */
        ls_fit *f = NULL;
        if (ls_fit_run(d, &fo, &f, &e)) { CHECK_MSG(0, "K=%zu: %s", K, e.message); continue; }
        double ll = ls_fit_loglik(f);
        CHECK_MSG(ls_fit_converged(f), "K=%zu not converged (max |g| %.3g)", K, ls_fit_gradnorm(f));
        ls_model *ref = NULL;
        CHECK(ls_model_new(d, K, ls_fit_anchors(f), LS_INT_GH, K == 1 ? 80 : K == 2 ? 40 : 16, 0, &ref, &e) == LS_OK);
        double *fr = calloc(F, sizeof(double)), lr = NAN;
        if (ref) CHECK(ls_model_loglik(ref, ls_fit_theta(f), &lr, NULL, fr, &e) == LS_OK);
        const double *fd = ls_fit_family_loglik(f);
        double worst = 0;
        for (size_t g = 0; g < F; g++) worst = fmax(worst, fabs(fd[g] - fr[g]));
        printf("  K=%zu loglik %.2f (reference implementation %.1f)  |total - brute force| %.2e  worst family %.2e\n",
               K, ll, REF_LL[K - 1], fabs(ll - lr), worst);
        CHECK_MSG(worst < 1e-4, "K=%zu worst family error %.3g", K, worst);
        CHECK_MSG(fabs(ll - lr) < 0.05, "K=%zu total error %.3g", K, ll - lr);
        free(fr);
        ls_model_free(ref);
        ls_fit_free(f);
    }
    /* K = 4 with the default starts: the optimum with moderate loadings
     * (3112.29), not the basin at 3099.5 whose cross-loadings of +-6 to +-15
     * cancel, where seven of eight principal-component starts used to end */
    {
        ls_fit_options fo;
        ls_fit_options_init(&fo);
        fo.skills = 4;
        fo.skip_se = 1;
        ls_fit *f = NULL;
        if (ls_fit_run(d, &fo, &f, &e)) CHECK_MSG(0, "K=4: %s", e.message);
        else {
            const ls_params *pr = ls_fit_params(f);
            double lmax = 0;
            for (size_t i = 0; i < 4 * ls_data_nbenchmarks(d); i++) lmax = fmax(lmax, fabs(pr->lambda[i]));
            double brms, zmax, lrms, smax; /* issue 2, point 8: how far from the published table */
            paper_k4_distance(pr->beta, pr->lambda, pr->sigma, &brms, &zmax, &lrms, &smax);
            printf("  K=4 loglik %.2f (reference implementation 3123.5), largest |loading| %.2f, %u starts at the best\n"
                   "  K=4 without the clip against the published table (which the clip gave): beta RMS %.3f, "
                   "at most %.2f published standard errors, Lambda RMS %.3f, Sigma max %.3f\n",
                   ls_fit_loglik(f), lmax, ls_fit_starts_at_best(f), brms, zmax, lrms, smax);
            CHECK_MSG(ls_fit_loglik(f) > 3112.2, "K=4 loglik %.3f", ls_fit_loglik(f));
            CHECK_MSG(lmax < 4, "K=4 largest |loading| %.2f", lmax);
            CHECK_MSG(ls_fit_converged(f), "K=4 not converged (max |g| %.3g)", ls_fit_gradnorm(f));
            CHECK(!fit_warns(f, "nearly singular")); /* smallest eigenvalue 0.24 */
            /* accuracy (issue: the total within 0.05 of a very large
             * importance sample): the default sparse grid of level 4, its
             * check (level 6) and 262,144 QMC points at the optimum */
            size_t npts = 0;
            double chk = ls_fit_loglik_check(f, &npts), lq = NAN;
            ls_model *q = NULL;
            CHECK(ls_model_new(d, 4, ls_fit_anchors(f), LS_INT_QMC, 262144, 0, &q, &e) == LS_OK);
            if (q) { /* sampled as the check samples (check.c, sampled_loglik) */
                ls_model_set_control_variate(q, 1);
                CHECK(ls_model_loglik(q, ls_fit_theta(f), &lq, NULL, NULL, &e) == LS_OK);
            }
            printf("  K=4 loglik %.4f, check (%s, %zu nodes) %.4f, QMC 262144 points %.4f\n", ls_fit_loglik(f),
                   ls_fit_check_method(f), npts, chk, lq);
            CHECK(npts == 5257 && strcmp(ls_fit_check_method(f), "sparse-grid") == 0);
            CHECK_MSG(fabs(ls_fit_loglik(f) - lq) < 0.05, "K=4 loglik %.4f, QMC %.4f", ls_fit_loglik(f), lq);
            CHECK_MSG(fabs(chk - lq) < 0.05, "K=4 check %.4f, QMC %.4f", chk, lq);
            ls_model_free(q);
            ls_fit_free(f);
        }
    }
    /* K = 9..12: the Laplace rule (the default for K >= 8) with its exact
     * gradient reaches past the reference's value, and so does the
     * importance-sampling check of its value at the estimate (16,384
     * points), which lands within a few units of it (the Laplace
     * approximation is biased low at K = 9: 3.9 against 65,536 QMC points,
     * bench/bench_accuracy).  The earlier default (QMC 512 points, nodes
     * re-centred) stopped at 3046.5 at K = 9; K = 10 once spun for ever on
     * a spike of the Laplace value (a family's curvature near singular),
     * which the eigenvalue floor now caps.  At K = 9 the fit also ends
     * with a small gradient. */
    static const double REF_HIGH[4] = {3165.1, 3162.9, 3160.7, 3163.8};
    for (size_t K = 9; K <= 12; K++) {
        ls_fit_options fo = quick_options(K, 2);
        ls_fit *f = NULL;
        if (ls_fit_run(d, &fo, &f, &e)) { CHECK_MSG(0, "K=%zu: %s", K, e.message); continue; }
        size_t npts = 0;
        double ll = ls_fit_loglik(f), llc = ls_fit_loglik_check(f, &npts), ref = REF_HIGH[K - 9];
        printf("  K=%zu Laplace loglik %.2f (reference implementation %.1f), by importance sampling (%zu points) %.2f, max |g| %.3g\n",
               K, ll, ref, npts, llc, ls_fit_gradnorm(f));
        CHECK_MSG(ll > ref, "K=%zu loglik %.3f", K, ll);
        double lse_ = ls_fit_loglik_check_se(f);
        CHECK_MSG(npts >= LS_CHECK_POINTS && llc > ref && fabs(llc - ll) < 10 && lse_ <= LS_CHECK_SE,
                  "K=%zu check %.3f (%zu points, standard error %.3g)", K, llc, npts, lse_);
        if (K == 9) {
            /* the check against 4 times the points on other shifts: within
             * 0.05 and within 3 joint standard errors */
            ls_model *q = NULL;
            double big = NAN, v = 0;
            CHECK(ls_model_new(d, K, ls_fit_anchors(f), LS_INT_QMC, 4 * LS_CHECK_POINTS, 0, &q, &e) == LS_OK);
            if (q) {
                ls_model_set_control_variate(q, 1);
                ls_model_reseed(q, 0xabcdefULL);
                CHECK(ls_model_loglik(q, ls_fit_theta(f), &big, NULL, NULL, &e) == LS_OK);
                for (size_t g = 0; g < ls_data_nfamilies(d); g++) {
                    double se;
                    ls_model_family_loglik(q, g, &se);
                    v += se * se;
                }
                printf("  K=9 check %.4f (se %.4f); %u points on other shifts %.4f (se %.4f)\n", llc, lse_,
                       4 * LS_CHECK_POINTS, big, sqrt(v));
                CHECK_MSG(fabs(big - llc) < 0.05 && fabs(big - llc) < 3 * sqrt(v + lse_ * lse_),
                          "K=9 check %.4f against %.4f", llc, big);
            }
            ls_model_free(q);
        }
        if (K == 9) CHECK_MSG(ls_fit_gradnorm(f) < 1, "K=9 max |g| %.3g", ls_fit_gradnorm(f));
        /* no family's check value is more than LS_CHECK_FAMILY_GAP from its Laplace value */
        CHECK_MSG(!fit_warns(f, "unreliable"), "K=%zu: a family's check is far from its Laplace value", K);
        if (K == 10) {
            /* The check helper on the sparse grid of level 4: where a
             * family's signed sum is not positive (at the 0.4.1 optimum;
             * docs/METHOD.md) it falls back to the importance sampling of
             * the default check and gives its value exactly; otherwise it
             * is the grid's value (1.5 below the check at the 0.5.0
             * optimum: the grid is not accurate there). */
            int ci = LS_INT_SPARSE;
            unsigned cn = 4;
            size_t pts = 0;
            char meth[16];
            double v = NAN;
            CHECK(ls_check_loglik(d, &fo, 0, ls_fit_theta(f), &ci, &cn, &v, NULL, NULL, &pts, meth, &e) == LS_OK);
            printf("  K=10 check on the sparse grid of level 4: %s, %zu points, %.4f\n", meth, pts, v);
            if (ci == LS_INT_QMC)
                CHECK_MSG(cn == npts && pts == npts && v == llc,
                          "K=10 level-4 check fell back: %zu points, %.4f (the fit's check %.4f)", pts, v, llc);
            else
                CHECK_MSG(ci == LS_INT_SPARSE && cn == 4 && pts == 12981 && strcmp(meth, "sparse-grid") == 0 &&
                              isfinite(v),
                          "K=10 level-4 check: rule %d (%s), %zu nodes, %.4f", ci, meth, pts, v);
        }
        /* redundant skills: Sigma heads for the boundary (3-5 eigenvalues below 0.01) */
        CHECK_MSG(fit_warns(f, "nearly singular"), "K=%zu: no warning of a nearly singular Sigma", K);
        ls_fit_free(f);
    }
    /* the reference's published AIC table came from a version of its code
     * that clipped eta into [-4.5, 4.5]; with that clip we reach its K = 1 value */
    ls_fit_options fo;
    ls_fit_options_init(&fo);
    fo.skills = 1;
    fo.starts = 4;
    fo.logit_clamp = 4.5;
    fo.skip_se = 1;
    ls_fit *f = NULL;
    if (ls_fit_run(d, &fo, &f, &e)) CHECK_MSG(0, "clipped K=1: %s", e.message);
    else {
        printf("  K=1 with the reference's logit clip 4.5: loglik %.2f (reference implementation %.1f)\n",
               ls_fit_loglik(f), REF_LL[0]);
        CHECK_MSG(ls_fit_loglik(f) >= REF_LL[0], "clipped K=1 loglik %.2f", ls_fit_loglik(f));
        ls_fit_free(f);
    }
    clipped_k4_reproduces_the_published_fit(d);
    ls_data_free(d);
    ls_table_free(t);
}


/* A fit whose skill correlations are nearly singular says so (the likelihood
 * then rises towards the boundary, as on the paper data from K = 5); the
 * true, well-conditioned parameters do not. */
static int has_sigma_warning(const ls_data *d, const ls_params *truth, double corr)
{
    ls_params pr;
    ls_error e;
    if (ls_params_alloc(&pr, truth->K, truth->J, truth->p, &e)) return -1;
    ls_params_copy(&pr, truth);
    ls_params_to_std(&pr, d->x_mean, d->x_sd);
    if (corr > -1) pr.sigma[1] = pr.sigma[2] = corr;
    ls_fit_options fo;
    ls_fit_options_init(&fo);
    fo.skills = 2;
    fo.skip_se = 1;
    ls_model *m = NULL;
    ls_fit *f = NULL;
    int found = -1;
    if (!ls_model_new(d, 2, NULL, LS_INT_AUTO, 0, 0, &m, &e)) {
        double *th = calloc(ls_model_dim(m), sizeof(double));
        if (th && !ls_model_pack(m, &pr, th, &e) && !ls_fit_at(d, &fo, th, &f, &e)) {
            found = fit_warns(f, "nearly singular");
        }
        free(th);
    }
    ls_fit_free(f);
    ls_model_free(m);
    ls_params_free(&pr);
    return found;
}

static void nearly_singular_skill_correlations_are_reported(void)
{
    ls_params truth;
    ls_data *d = sim_data(40, 2, 12, &truth);
    CHECK(d != NULL);
    if (!d) return;
    printf("  true correlation %.3f\n", truth.sigma[1]);
    CHECK(fabs(truth.sigma[1]) < 0.9);
    CHECK(has_sigma_warning(d, &truth, -2) == 0);     /* the truth as it is */
    CHECK(has_sigma_warning(d, &truth, 0.98) == 0);   /* smallest eigenvalue 0.02 */
    CHECK(has_sigma_warning(d, &truth, 0.995) == 1);  /* 0.005 */
    ls_params_free(&truth);
    ls_data_free(d);
}

/* The first 8 rows of openllm_v1 (3 families, one of whose covariate
 * directions, log(tokens), hardly varies within them) fitted with one skill
 * and the three default terms: the family variance vanishes and the
 * covariate effects run off to hundreds of family standard deviations.
 * The fit says so before the optimiser (too few families) and after it
 * (absurd scale, nearly singular information), with the remedy; with
 * log(size) alone, as the warning proposes, nothing is said. */
static void tiny_real_table_is_reported_weakly_identified(void)
{
    char buf[4096];
    const char *p = h_shared_data("openllm_v1.csv", buf, sizeof buf);
    if (!p) return;
    FILE *fp = fopen(p, "rb");
    char text[8192];
    size_t len = 0;
    int lines = 0, c;
    while (fp && lines < 9 && len + 1 < sizeof text && (c = fgetc(fp)) != EOF) {
        text[len++] = (char)c;
        if (c == '\n') lines++;
    }
    if (fp) fclose(fp);
    CHECK(lines == 9);
    for (int cov = 0; cov < 2; cov++) {
        ls_table *t = NULL;
        ls_error e;
        CHECK(ls_table_parse(text, len, "tiny.csv", &t, &e) == LS_OK);
        ls_data_options o;
        ls_data_options_init(&o);
        o.benchmarks = "arc,hellaswag,mmlu,truthfulqa,winogrande,gsm8k";
        if (cov) o.covariates = "log(size)";
        ls_data *d = NULL;
        CHECK(ls_data_build(t, &o, &d, &e) == LS_OK);
        ls_fit_options fo;
        ls_fit_options_init(&fo);
        fo.skills = 1;
        ls_fit *f = NULL;
        CHECK(d && ls_fit_run(d, &fo, &f, &e) == LS_OK);
        if (f) {
            for (size_t i = 0; i < ls_fit_nwarnings(f); i++) printf("  %s\n", ls_fit_warning(f, i));
            if (!cov) {
                CHECK(fit_warns(f, "weakly identified: 3 families for 1 skill and 3 covariate terms, 1 of whose directions"));
                CHECK(fit_warns(f, "'log(tokens)' (0.086 %)"));
                CHECK(fit_warns(f, "families >= 1 + those directions + 2 x skills = 4"));
                CHECK(fit_warns(f, "use fewer covariates (`covariates` log(size))"));
                CHECK(fit_warns(f, "standard deviations of the family effects (bound 20)"));
                CHECK(fit_warns(f, "condition number"));
            } else {
                CHECK(!fit_warns(f, "weakly identified"));
                CHECK(!fit_warns(f, "condition number"));
                CHECK(fabs(f->beta_std[0]) < 20);
            }
        }
        ls_fit_free(f);
        ls_data_free(d);
        ls_table_free(t);
    }
}

/* A simulated leaderboard of 40 families whose covariates vary within
 * them, fitted at K = 1 and 2 with standard errors: none of the
 * identification warnings. */
static void well_identified_fit_has_no_identification_warning(void)
{
    for (size_t K = 1; K <= 2; K++) {
        ls_data *d = sim_data(40, K, 5, NULL);
        CHECK(d != NULL);
        if (!d) return;
        ls_fit_options fo = quick_options(K, 2);
        fo.skip_se = 0;
        ls_fit *f = NULL;
        ls_error e;
        CHECK(ls_fit_run(d, &fo, &f, &e) == LS_OK);
        if (f) {
            for (size_t i = 0; i < ls_fit_nwarnings(f); i++) printf("  %s\n", ls_fit_warning(f, i));
            CHECK(!fit_warns(f, "weakly identified"));
            CHECK(!fit_warns(f, "condition number"));
            double bmax = 0;
            for (size_t i = 0; i < f->p * f->K; i++) bmax = fmax(bmax, fabs(f->beta_std[i]));
            printf("  K = %zu: largest |beta_std| %.3g, information condition %.3g\n", K, bmax,
                   f->inf.max_eig / f->inf.min_eig);
            CHECK(bmax < 20);
            if (K == 1) {
                /* the same fit moved to absurd scales: a logit moved by 30
                 * (skill effect 15 < 20, loading 2), then a skill by 25 */
                size_t nw = ls_fit_nwarnings(f);
                f->beta_std[0] = 15;
                f->est.lambda[0] = 2;
                CHECK(lsfit_scale_warnings(d, f) == LS_OK);
                CHECK(ls_fit_nwarnings(f) == nw + 1);
                CHECK(fit_warns(f, "moves the logit of"));
                CHECK(fit_warns(f, "by 30 (bound 20)"));
                f->beta_std[0] = 25;
                CHECK(lsfit_scale_warnings(d, f) == LS_OK);
                CHECK(fit_warns(f, "by 25 standard deviations of the family effects (bound 20)"));
                CHECK(ls_fit_nwarnings(f) == nw + 2); /* the logit's warning is not repeated */
            }
        }
        ls_fit_free(f);
        ls_data_free(d);
    }
}

/* The family-by-benchmark effect: on data that have one (tau_j = 0.5 for
 * every benchmark) the fit recovers tau, certifies its optimum and rejects
 * tau = 0; on data without one it does not reject, and the fit file
 * carries tau and its standard errors back. */
static void family_effect_is_recovered_and_tested(void)
{
    ls_params truth;
    sim_fe_sd = 0.5;
    ls_data *d = sim_data(80, 1, 31, &truth);
    sim_fe_sd = 0;
    CHECK(d != NULL);
    if (!d) return;
    ls_fit_options o;
    ls_fit_options_init(&o);
    o.skills = 1;
    o.anchors = "first"; /* the truth's parametrisation */
    o.family_effect = 1;
    o.threads = 2;
    ls_fit *f = NULL;
    ls_error e;
    CHECK(ls_fit_run(d, &o, &f, &e) == LS_OK);
    if (f) {
        const ls_params *pr = ls_fit_params(f);
        const double *se = ls_fit_se(f, LS_SE_HESSIAN);
        size_t lay[LS_NAT_NBLOCKS + 1];
        ls_fit_nat_layout(f, lay);
        CHECK(pr->family_effect == 1 && lay[LS_NAT_TAU + 1] - lay[LS_NAT_TAU] == d->J);
        CHECK(ls_fit_converged(f) && ls_fit_hessian_definite(f, NULL) == 1);
        double mean = 0, z2 = 0;
        for (size_t j = 0; j < d->J; j++) {
            mean += pr->tau[j] / (double)d->J;
            if (se) z2 += pow((pr->tau[j] - 0.5) / se[lay[LS_NAT_TAU] + j], 2) / (double)d->J;
        }
        CHECK(se != NULL);
        CHECK_MSG(fabs(mean - 0.5) < 0.08, "mean tau %.3f (truth 0.5)", mean);
        CHECK_MSG(z2 < 3, "mean squared z of tau %.2f", z2);
        double l0, lr, pv;
        CHECK(ls_fit_family_effect_test(f, &l0, &lr, &pv) == 1);
        CHECK_MSG(pv < 1e-6 && lr > 0 && l0 < ls_fit_loglik(f), "LR %.2f, p %.3g", lr, pv);
        { /* parameter draws for predictions hold tau at its estimate and
           * draw the rest given it: never a smaller spread than nothing,
           * never a larger one than the marginal law's */
            ls_sampler *sm = NULL;
            CHECK(ls_sampler_new(d, f, 2, 1, 7, &sm, &e) == LS_OK);
            size_t dim = f->dim, t0 = dim - d->J;
            const double *th = ls_fit_theta(f);
            const double *V = f->inf.theta_cov;
            double s1 = 0, s2 = 0;
            int held = 1;
            const int ndraw = 400;
            for (int k = 0; sm && k < ndraw; k++) {
                CHECK(ls_sampler_params(sm, 0, NULL, 0, &e) == LS_OK);
                for (size_t j = 0; j < d->J; j++) held = held && sm->th[t0 + j] == th[t0 + j];
                double x = sm->th[0] - th[0];
                s1 += x;
                s2 += x * x;
            }
            double var = s2 / ndraw - (s1 / ndraw) * (s1 / ndraw);
            CHECK(held);
            CHECK_MSG(var > 0 && V && var < 1.3 * V[0], "draws of theta[0]: variance %.3g, marginal %.3g", var,
                      V ? V[0] : NAN);
            ls_sampler_free(sm);
        }
        /* the fit file carries tau and loads at the same value */
        char path[] = "/tmp/ls_test_feXXXXXX";
        CHECK(h_fit_file(f, d, path, &e) == LS_OK);
        ls_fit_summary *s = NULL;
        CHECK(ls_fit_summary_read(path, &s, &e) == LS_OK);
        if (s) {
            const ls_params *ps = ls_fit_summary_params(s);
            CHECK(ps->family_effect == 1 && fabs(ps->tau[2] - pr->tau[2]) < 1e-12);
            ls_fit_summary_free(s);
        }
        remove(path);
    }
    ls_fit_free(f);
    ls_data_free(d);
    ls_params_free(&truth);
    /* no effect in the data: no rejection at 1 % */
    d = sim_data(80, 1, 32, NULL);
    CHECK(d != NULL);
    if (!d) return;
    f = NULL;
    CHECK(ls_fit_run(d, &o, &f, &e) == LS_OK);
    if (f) {
        double pv = 0, lr = -1;
        CHECK(ls_fit_family_effect_test(f, NULL, &lr, &pv) == 1);
        CHECK_MSG(pv > 0.01, "no effect in the data: LR %.2f, p %.3g", lr, pv);
        /* most tau_j estimates are at or near 0, which the signed
         * parametrisation makes an interior point: the fit converges with a
         * definite information and finite standard errors (in log tau_j
         * the information in a tau_j running to 0 vanished) */
        const ls_params *pr = ls_fit_params(f);
        const double *se = ls_fit_se(f, LS_SE_HESSIAN);
        size_t lay[LS_NAT_NBLOCKS + 1];
        ls_fit_nat_layout(f, lay);
        CHECK_MSG(ls_fit_converged(f) && ls_fit_hessian_definite(f, NULL) == 1,
                  "no effect in the data: converged %d, Hessian definite %d", ls_fit_converged(f),
                  ls_fit_hessian_definite(f, NULL));
        double tmax = 0;
        size_t near0 = 0;
        for (size_t j = 0; j < d->J; j++) {
            CHECK_MSG(se && isfinite(se[lay[LS_NAT_TAU] + j]) && se[lay[LS_NAT_TAU] + j] > 0, "tau_%zu %.3g, se %.3g",
                      j, pr->tau[j], se ? se[lay[LS_NAT_TAU] + j] : NAN);
            tmax = fmax(tmax, pr->tau[j]);
            near0 += pr->tau[j] < 0.02;
        }
        CHECK_MSG(tmax < 0.3 && near0 >= d->J / 2, "no effect in the data: largest tau %.3f, %zu of %zu below 0.02", tmax,
                  near0, d->J);
    }
    ls_fit_free(f);
    ls_data_free(d);
}

int main(int argc, char **argv)
{
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    RUN(same_seed_gives_identical_estimates);
    RUN(anchors_pass_over_a_near_copy);
    RUN(progress_callback_cancels_the_fit);
    RUN(coarse_rule_finishes_on_a_frozen_node_map);
    RUN(nearly_singular_skill_correlations_are_reported);
    RUN(check_value_is_the_finer_rule_at_the_estimate);
    RUN(well_identified_fit_has_no_identification_warning);
    RUN(tiny_real_table_is_reported_weakly_identified);
    if (!quick) {
        RUN(family_effect_is_recovered_and_tested);
        RUN(parameters_are_recovered_and_errors_shrink_with_more_families);
        RUN(sparse_grid_pipeline_fits_five_skills);
        RUN(boundary_maximum_stops_the_finish);
        RUN(laplace_rule_converges_by_whitened_lbfgs);
        RUN(ceilings_are_recovered_and_matter);
        RUN(standard_errors_match_the_spread_of_estimates);
        RUN(paper_data_fit_is_accurate_at_its_optimum);
    }
    return h_finish();
}
