/*
 * test_integration.c -- the rules on named reference integrals:
 * Gaussian moments (exact for GH up to degree 2m-1), the per-family
 * randomised QMC points' odd moments (zero by construction), their
 * determinism and independence between groups, the calibration of their
 * block standard errors on a skewed integrand, the sparse grid's degree of
 * exactness (with its negative weights), and the adaptive map on a
 * Gaussian integrand, where every rule, Laplace included, is exact.
 */
#include "harness.h"
#include <gsl/gsl_math.h>
#include "kernel/rules.h"
#include <stdlib.h>
#include <string.h>
#include "kernel/special.h"

/* Node i's weight as a probability: sg exp(lw) phi(u), sg = 1 when the
 * rule has no signs (every rule but the sparse grid). */
static double node_weight(const ls_rule *r, size_t i)
{
    const double *u = r->u + i * r->K;
    double q = 0;
    for (size_t k = 0; k < r->K; k++) q += u[k] * u[k];
    double w = exp(r->lw[i] - 0.5 * q - 0.5 * (double)r->K * log(2 * M_PI));
    return r->sg ? r->sg[i] * w : w;
}

/* E[u1^a u2^b u3^c] under the rule (coordinates beyond K count as 1) */
static double moment3(const ls_rule *r, int a, int b, int c)
{
    double s = 0;
    for (size_t i = 0; i < r->n; i++) {
        const double *u = r->u + i * r->K;
        s += node_weight(r, i) * pow(u[0], a) * (r->K > 1 ? pow(u[1], b) : 1) *
             (r->K > 2 ? pow(u[2], c) : 1);
    }
    return s;
}

static double moment(const ls_rule *r, int a, int b) { return moment3(r, a, b, 0); }

static void gauss_hermite_integrates_normal_moments_exactly(void)
{
    ls_rule r;
    ls_error e;
    CHECK(ls_rule_gh(&r, 2, 6, 0, &e) == LS_OK);
    CHECK(r.n == 36);
    CHECK_NEAR(moment(&r, 0, 0), 1, 1e-13);
    CHECK_NEAR(moment(&r, 2, 0), 1, 1e-12);
    CHECK_NEAR(moment(&r, 4, 2), 3, 1e-11);
    CHECK_NEAR(moment(&r, 6, 4), 15 * 3, 1e-9);
    CHECK_NEAR(moment(&r, 3, 1), 0, 1e-12);
    ls_rule_free(&r);
}

static void pruning_drops_only_negligible_nodes(void)
{
    ls_rule r;
    ls_error e;
    CHECK(ls_rule_gh(&r, 3, 8, 1e-9, &e) == LS_OK);
    CHECK(r.n < 512 && r.n > 100);
    CHECK_NEAR(moment(&r, 0, 0), 1, 1e-8);
    CHECK_NEAR(moment(&r, 2, 2), 1, 1e-7);
    ls_rule_free(&r);
}

/* Group g's points of a per-group rule as a plain rule (free with ls_rule_free). */
static ls_rule group_view(const ls_rule *r, uint64_t g)
{
    ls_rule v;
    memset(&v, 0, sizeof v);
    v.n = r->n;
    v.K = r->K;
    v.u = malloc(r->n * r->K * sizeof(double));
    v.lw = malloc(r->n * sizeof(double));
    ls_rule_points(r, g, v.u, v.lw);
    return v;
}

static void rqmc_points_have_zero_odd_moments_and_unit_variance(void)
{
    ls_rule r;
    ls_error e;
    CHECK(ls_rule_rqmc(&r, 5, 4096, 8, 8, 7, &e) == LS_OK);
    CHECK(r.n == 4096 && r.u == NULL && r.v != NULL && strcmp(r.kind, "rqmc-t") == 0);
    for (uint64_t g = 0; g < 3; g++) {
        ls_rule v = group_view(&r, g);
        CHECK_NEAR(moment(&v, 1, 0), 0, 1e-12); /* mirrored */
        CHECK_NEAR(moment(&v, 3, 2), 0, 1e-12);
        CHECK_NEAR(moment(&v, 0, 0), 1, 0.02);   /* importance weights: estimates */
        CHECK_NEAR(moment(&v, 2, 0), 1, 0.03);
        CHECK_NEAR(moment(&v, 0, 2), 1, 0.03);
        ls_rule_free(&v);
    }
    ls_rule_free(&r);
}

static void rqmc_points_are_a_function_of_seed_and_group(void)
{
    ls_rule a, b, c;
    ls_error e;
    CHECK(ls_rule_rqmc(&a, 3, 64, 4, 4, 11, &e) == LS_OK);
    CHECK(ls_rule_rqmc(&b, 3, 64, 4, 4, 11, &e) == LS_OK);
    CHECK(ls_rule_rqmc(&c, 3, 64, 4, 4, 12, &e) == LS_OK);
    ls_rule a0 = group_view(&a, 0), b0 = group_view(&b, 0), a1 = group_view(&a, 1), c0 = group_view(&c, 0);
    size_t bytes = 64 * 3 * sizeof(double);
    CHECK(memcmp(a0.u, b0.u, bytes) == 0 && memcmp(a0.lw, b0.lw, 64 * sizeof(double)) == 0);
    CHECK(memcmp(a0.u, a1.u, bytes) != 0); /* another family: other points */
    CHECK(memcmp(a0.u, c0.u, bytes) != 0); /* another seed */
    /* the blocks are shifts of the same Sobol points, not copies */
    CHECK(memcmp(a0.u, a0.u + 16 * 3, 16 * 3 * sizeof(double)) != 0);
    ls_rule_free(&a0); ls_rule_free(&b0); ls_rule_free(&a1); ls_rule_free(&c0);
    ls_rule_free(&a);
    ls_rule_free(&b);
    ls_rule_free(&c);
}

/* Two integrands with integral 1, each a product over K coordinates of a
 * density with mode 0: Gumbel exp(-(x + e^-x)) (curvature 1 there; skewed,
 * heavier on the right) and the normal with standard deviation 1.05 (as
 * when a posterior is wider than its curvature at the mode says). */
static double log_density(int which, const double *z, size_t K)
{
    double s = 0;
    for (size_t k = 0; k < K; k++) {
        if (which == 0) s += -(z[k] + exp(-z[k]));
        else s += -0.5 * z[k] * z[k] / (1.05 * 1.05) - log(1.05) - 0.5 * log(2 * M_PI);
    }
    return s;
}

static void rqmc_standard_errors_are_calibrated(void)
{
    /* 400 groups, each an independent estimate of log 1 = 0, placed by
     * the Laplace map (mode 0, curvature 1): the estimates centre on 0 and
     * about 95 % lie within 2 standard errors, with and without the
     * control variate; the control variate shrinks the errors where the
     * integrand is near the normal at the mode */
    const size_t G = 400;
    for (int which = 0; which < 2; which++) {
        size_t K = which ? 9 : 3; /* the t proposal is far from normal in 9 dimensions */
        ls_rule r;
        ls_error e;
        CHECK(ls_rule_rqmc(&r, K, 1024, 8, 8, 5, &e) == LS_OK);
        double *t = malloc(r.n * sizeof(double)), *g = malloc(r.n * sizeof(double));
        double sum[2] = {0, 0}, sesum[2] = {0, 0};
        size_t within[2] = {0, 0};
        for (uint64_t grp = 0; grp < G; grp++) {
            ls_rule v = group_view(&r, grp);
            for (size_t q = 0; q < r.n; q++) {
                const double *u = v.u + q * K;
                double uu = 0;
                for (size_t k = 0; k < K; k++) uu += u[k] * u[k];
                t[q] = v.lw[q] + log_density(which, u, K);
                g[q] = v.lw[q] - 0.5 * uu - 0.5 * (double)K * log(2 * M_PI);
            }
            for (int cv = 0; cv < 2; cv++) {
                double se, est = ls_rule_estimate(&r, t, ls_logsumexp(t, r.n), cv ? g : NULL, &se);
                sum[cv] += est;
                sesum[cv] += se;
                within[cv] += fabs(est) < 2 * se;
            }
            ls_rule_free(&v);
        }
        for (int cv = 0; cv < 2; cv++) {
            double mean = sum[cv] / (double)G, se = sesum[cv] / (double)G;
            printf("  %s, control variate %d: mean error %.2e, mean standard error %.2e, %zu of %zu within 2 se\n",
                   which ? "wider normal" : "Gumbel", cv, mean, se, within[cv], G);
            CHECK_MSG(fabs(mean) < 3 * se / sqrt((double)G), "%d, cv %d: mean %.3g (se %.3g)", which, cv, mean, se);
            CHECK_MSG(within[cv] > 0.85 * (double)G && within[cv] < 0.99 * (double)G, "%d, cv %d: %zu within 2 se",
                      which, cv, within[cv]);
        }
        if (which == 1)
            CHECK_MSG(sesum[1] < 0.5 * sesum[0], "the control variate did not help: %.3g vs %.3g", sesum[1], sesum[0]);
        free(t);
        free(g);
        ls_rule_free(&r);
    }
}

static void sparse_grid_is_exact_to_its_degree(void)
{
    ls_rule r;
    ls_error e;
    /* level 3: every monomial of total degree <= 7, and products of three
     * coordinates' squares; level 2 misses the latter */
    CHECK(ls_rule_sparse(&r, 7, 3, &e) == LS_OK);
    CHECK(r.n == 785);
    size_t neg = 0;
    for (size_t i = 0; i < r.n; i++) neg += r.sg[i] < 0;
    CHECK(neg > 0);
    CHECK_NEAR(moment3(&r, 0, 0, 0), 1, 1e-12);
    CHECK_NEAR(moment3(&r, 2, 0, 0), 1, 1e-12);
    CHECK_NEAR(moment3(&r, 6, 0, 0), 15, 1e-10);
    CHECK_NEAR(moment3(&r, 4, 2, 0), 3, 1e-11);
    CHECK_NEAR(moment3(&r, 2, 2, 2), 1, 1e-11);
    CHECK_NEAR(moment3(&r, 4, 4, 0), 9, 1e-10); /* two coordinates, each degree <= 5 */
    CHECK_NEAR(moment3(&r, 3, 2, 1), 0, 1e-12);
    CHECK_NEAR(moment3(&r, 4, 4, 2), 9, 1e-9);   /* three coordinates, each degree <= 5 */
    CHECK(fabs(moment3(&r, 6, 2, 2) - 15) > 1); /* a sixth power beside two others: beyond it */
    ls_rule_free(&r);
    CHECK(ls_rule_sparse(&r, 7, 2, &e) == LS_OK);
    CHECK(r.n == 127);
    CHECK_NEAR(moment3(&r, 4, 2, 0), 3, 1e-11);
    CHECK(fabs(moment3(&r, 2, 2, 2) - 1) > 0.5);
    ls_rule_free(&r);
    /* every K and level: weights sum to one, E z1^2 = 1, E z1^4 = 3 and
     * (level >= 2) E z1^2 z2^2 = 1; nodes are distinct */
    for (size_t K = 1; K <= 10; K++)
        for (unsigned l = 1; l <= (K <= 5 ? 6u : 4u); l++) {
            CHECK(ls_rule_sparse(&r, K, l, &e) == LS_OK);
            double s0 = moment(&r, 0, 0), s2 = moment(&r, 2, 0), s4 = moment(&r, 4, 0);
            double s22 = K > 1 ? moment(&r, 2, 2) : 0;
            CHECK_MSG(fabs(s0 - 1) < 1e-10 && fabs(s2 - 1) < 1e-9 && fabs(s4 - 3) < 1e-8,
                      "K=%zu level %u: %.12g %.12g %.12g", K, l, s0, s2, s4);
            if (K > 1 && l >= 2) CHECK_MSG(fabs(s22 - 1) < 1e-8, "K=%zu level %u: E z1^2 z2^2 %.12g", K, l, s22);
            size_t dup = 0;
            for (size_t i = 1; i < r.n && r.n < 3000; i++)
                for (size_t j = 0; j < i; j++)
                    dup += memcmp(r.u + i * K, r.u + j * K, K * sizeof(double)) == 0;
            CHECK_MSG(dup == 0, "K=%zu level %u: %zu coincident nodes", K, l, dup);
            ls_rule_free(&r);
        }
    /* K = 1: the 7-node Gauss-Hermite rule, all weights positive */
    CHECK(ls_rule_sparse(&r, 1, 3, &e) == LS_OK);
    CHECK(r.n == 7);
    for (size_t i = 0; i < r.n; i++) CHECK(r.sg[i] == 1);
    ls_rule_free(&r);
}

static void every_rule_is_exact_for_a_gaussian_integrand(void)
{
    /* h(z) = -1/2 (z - m)^T P (z - m), P = R R^T (R lower):
     * log int e^h dz = K/2 log 2 pi - log|R|.  Nodes z = m + R^{-T} u. */
    const double R[2][2] = {{2.0, 0}, {0.6, 0.5}}, m[2] = {0.4, -1.1};
    const double P[2][2] = {{4.0, 1.2}, {1.2, 0.61}};
    ls_rule rules[4], rq;
    ls_error e;
    ls_rule_laplace(&rules[0], 2, &e);
    ls_rule_gh(&rules[1], 2, 5, 0, &e);
    ls_rule_rqmc(&rq, 2, 64, 4, 4, 3, &e);
    rules[2] = group_view(&rq, 9);
    ls_rule_sparse(&rules[3], 2, 2, &e);
    double logdetR = log(R[0][0] * R[1][1]);
    double exact = log(2 * M_PI) - logdetR;
    for (int q = 0; q < 4; q++) {
        ls_rule *r = &rules[q];
        double *t = malloc(r->n * sizeof(double)), *g = malloc(r->n * sizeof(double));
        for (size_t i = 0; i < r->n; i++) {
            const double *u = r->u + 2 * i;
            /* solve R^T v = u (R^T upper triangular) */
            double v1 = u[1] / R[1][1], v0 = (u[0] - R[1][0] * v1) / R[0][0];
            double z0 = m[0] + v0, z1 = m[1] + v1, d0 = z0 - m[0], d1 = z1 - m[1];
            double h = -0.5 * (P[0][0] * d0 * d0 + 2 * P[0][1] * d0 * d1 + P[1][1] * d1 * d1);
            t[i] = r->lw[i] + h;
            g[i] = r->lw[i] - 0.5 * (u[0] * u[0] + u[1] * u[1]) - log(2 * M_PI);
        }
        double v = ls_logsumexp_signed(t, r->sg, r->n) - logdetR;
        if (q == 2) { /* importance sampling: exact only with the normal control variate */
            double se;
            CHECK_MSG(fabs(v - exact) > 1e-4, "plain sum %.12g vs %.12g", v, exact);
            v = ls_rule_estimate(&rq, t, ls_logsumexp(t, rq.n), g, &se) - logdetR;
            CHECK(se < 1e-10);
        }
        CHECK_MSG(fabs(v - exact) < 1e-10, "rule %s: %.12g vs %.12g", q == 2 ? "rqmc" : r->kind, v, exact);
        free(t);
        free(g);
        ls_rule_free(r);
    }
    ls_rule_free(&rq);
}

static void invalid_rule_requests_are_rejected(void)
{
    ls_rule r;
    ls_error e;
    CHECK(ls_rule_gh(&r, 12, 10, 0, &e) == LS_ERR_OPTION);
    CHECK(strstr(e.message, "too many") != NULL);
    CHECK(ls_rule_rqmc(&r, 39, 64, 4, 4, 1, &e) == LS_ERR_OPTION); /* 39 + 2 dimensions */
    CHECK(ls_rule_rqmc(&r, 2, 64, 4, 5, 1, &e) == LS_ERR_OPTION);  /* odd df */
    CHECK(strstr(e.message, "df") != NULL);
    CHECK(ls_rule_rqmc(&r, 2, 60, 4, 4, 1, &e) == LS_ERR_OPTION);  /* not 2 x 4 blocks */
    CHECK(ls_rule_rqmc(&r, 2, 64, 1, 4, 1, &e) == LS_ERR_OPTION);
    CHECK(ls_rule_sparse(&r, 3, 0, &e) == LS_ERR_OPTION);
    CHECK(ls_rule_sparse(&r, 3, 7, &e) == LS_ERR_OPTION);
    CHECK(ls_rule_sparse(&r, 41, 2, &e) == LS_ERR_OPTION);
}

int main(void)
{
    RUN(gauss_hermite_integrates_normal_moments_exactly);
    RUN(pruning_drops_only_negligible_nodes);
    RUN(rqmc_points_have_zero_odd_moments_and_unit_variance);
    RUN(rqmc_points_are_a_function_of_seed_and_group);
    RUN(rqmc_standard_errors_are_calibrated);
    RUN(sparse_grid_is_exact_to_its_degree);
    RUN(every_rule_is_exact_for_a_gaussian_integrand);
    RUN(invalid_rule_requests_are_rejected);
    return h_finish();
}
