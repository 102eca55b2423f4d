/*
 * test_integration.c -- the rules on named reference integrals:
 * Gaussian moments (exact for GH up to degree 2m-1), the mirrored QMC
 * set's odd moments (zero by construction), the sparse grid's degree of
 * exactness (with its negative weights), and the adaptive map on a
 * Gaussian integrand, where every rule, Laplace included, is exact.
 */
#include "harness.h"
#include <gsl/gsl_math.h>
#include "integration/rules.h"
#include <stdlib.h>
#include "numerics/special.h"

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

static void mirrored_qmc_has_zero_odd_moments_and_unit_variance(void)
{
    ls_rule r;
    ls_error e;
    CHECK(ls_rule_qmc(&r, 5, 4096, 7, &e) == LS_OK);
    CHECK(r.n == 4096);
    CHECK_NEAR(moment(&r, 0, 0), 1, 1e-12);
    CHECK_NEAR(moment(&r, 1, 0), 0, 1e-12);
    CHECK_NEAR(moment(&r, 3, 2), 0, 1e-12);
    CHECK_NEAR(moment(&r, 2, 0), 1, 0.01);
    CHECK_NEAR(moment(&r, 0, 2), 1, 0.01);
    ls_rule_free(&r);
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

static void same_seed_gives_the_same_qmc_points(void)
{
    ls_rule a, b, c;
    ls_error e;
    ls_rule_qmc(&a, 3, 64, 11, &e);
    ls_rule_qmc(&b, 3, 64, 11, &e);
    ls_rule_qmc(&c, 3, 64, 12, &e);
    CHECK(memcmp(a.u, b.u, 64 * 3 * sizeof(double)) == 0);
    CHECK(memcmp(a.u, c.u, 64 * 3 * sizeof(double)) != 0);
    ls_rule_free(&a);
    ls_rule_free(&b);
    ls_rule_free(&c);
}

static void every_rule_is_exact_for_a_gaussian_integrand(void)
{
    /* h(z) = -1/2 (z - m)^T P (z - m), P = R R^T (R lower):
     * log int e^h dz = K/2 log 2 pi - log|R|.  Nodes z = m + R^{-T} u. */
    const double R[2][2] = {{2.0, 0}, {0.6, 0.5}}, m[2] = {0.4, -1.1};
    const double P[2][2] = {{4.0, 1.2}, {1.2, 0.61}};
    ls_rule rules[4];
    ls_error e;
    ls_rule_laplace(&rules[0], 2, &e);
    ls_rule_gh(&rules[1], 2, 5, 0, &e);
    ls_rule_qmc(&rules[2], 2, 64, 3, &e);
    ls_rule_sparse(&rules[3], 2, 2, &e);
    double logdetR = log(R[0][0] * R[1][1]);
    double exact = log(2 * M_PI) - logdetR;
    for (int q = 0; q < 4; q++) {
        ls_rule *r = &rules[q];
        double *t = malloc(r->n * sizeof(double));
        for (size_t i = 0; i < r->n; i++) {
            const double *u = r->u + 2 * i;
            /* solve R^T v = u (R^T upper triangular) */
            double v1 = u[1] / R[1][1], v0 = (u[0] - R[1][0] * v1) / R[0][0];
            double z0 = m[0] + v0, z1 = m[1] + v1, d0 = z0 - m[0], d1 = z1 - m[1];
            double h = -0.5 * (P[0][0] * d0 * d0 + 2 * P[0][1] * d0 * d1 + P[1][1] * d1 * d1);
            t[i] = r->lw[i] + h;
        }
        double v = ls_logsumexp_signed(t, r->sg, r->n) - logdetR;
        CHECK_MSG(fabs(v - exact) < 1e-10, "rule %s: %.12g vs %.12g", r->kind, v, exact);
        free(t);
        ls_rule_free(r);
    }
}

static void invalid_rule_requests_are_rejected(void)
{
    ls_rule r;
    ls_error e;
    CHECK(ls_rule_gh(&r, 12, 10, 0, &e) == LS_ERR_OPTION);
    CHECK(strstr(e.message, "too many") != NULL);
    CHECK(ls_rule_qmc(&r, 41, 64, 1, &e) == LS_ERR_OPTION);
    CHECK(ls_rule_qmc(&r, 2, 1, 1, &e) == LS_ERR_OPTION);
    CHECK(ls_rule_sparse(&r, 3, 0, &e) == LS_ERR_OPTION);
    CHECK(ls_rule_sparse(&r, 3, 7, &e) == LS_ERR_OPTION);
    CHECK(ls_rule_sparse(&r, 41, 2, &e) == LS_ERR_OPTION);
}

int main(void)
{
    RUN(gauss_hermite_integrates_normal_moments_exactly);
    RUN(pruning_drops_only_negligible_nodes);
    RUN(mirrored_qmc_has_zero_odd_moments_and_unit_variance);
    RUN(sparse_grid_is_exact_to_its_degree);
    RUN(same_seed_gives_the_same_qmc_points);
    RUN(every_rule_is_exact_for_a_gaussian_integrand);
    RUN(invalid_rule_requests_are_rejected);
    return h_finish();
}
