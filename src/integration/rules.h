/*
 * rules.h -- integration rules for a K-dimensional standard normal.
 *
 * A rule is n nodes u_k with log weights lw_k chosen so that, for any
 * positive integrand e^{h(z)} and an affine map z = m + A u,
 *     log int e^{h(z)} dz  ~=  log|det A| + logsumexp_k (lw_k + h(m + A u_k)),
 * i.e. lw_k = log w_k - log phi_K(u_k) with w_k the rule's weights for
 * N(0, I).  The models place the nodes at each family's posterior mode
 * with A the inverse Cholesky factor of the curvature there (adaptive
 * quadrature); n = 1 at u = 0 is the Laplace approximation.
 */
#ifndef LS_RULES_H
#define LS_RULES_H

#include "core/core.h"
#include <stdint.h>

typedef struct ls_rule {
    size_t n, K;
    double *u;   /* n x K nodes                       */
    double *lw;  /* n log |weights|, as above          */
    signed char *sg; /* n signs of the weights; NULL: all positive */
    unsigned level;  /* sparse grid: its level (0 for the other rules) */
    char kind[16];
} ls_rule;

/* Product Gauss-Hermite with m nodes per dimension (GSL fixed Hermite
 * rule), dropping nodes whose weight is below prune times the largest. */
int ls_rule_gh(ls_rule *r, size_t K, unsigned m, double prune, ls_error *err);
/* n points (n even) of a Sobol sequence with a seeded random shift
 * (Cranley-Patterson), mapped by the normal quantile and mirrored (u, -u),
 * so odd moments are integrated exactly.  K <= 40. */
int ls_rule_qmc(ls_rule *r, size_t K, unsigned n, uint64_t seed, ls_error *err);
/* The same with a multivariate t proposal (df > 0; df = 0 is the normal):
 * heavier tails than the target keep the importance weights bounded when a
 * family's posterior is skewed or flat on one side (scores at a floor). */
int ls_rule_qmc_t(ls_rule *r, size_t K, unsigned n, double df, uint64_t seed, ls_error *err);
/* Smolyak sparse grid of level l >= 1 built from Gauss-Hermite rules of
 * 1, 3, 5, ..., 2 l + 1 nodes (combination technique, coincident nodes
 * merged).  Exact for every polynomial of total degree <= 2 l + 1 and for
 * products of at most l coordinates' powers up to degree 5; the weights of
 * some nodes are negative (r->sg).  K = 7, level 2: 113 nodes, against
 * 2187 for the 3-node product grid. */
int ls_rule_sparse(ls_rule *r, size_t K, unsigned level, ls_error *err);
#define LS_SPARSE_MAX_LEVEL 6
/* One node at 0: the Laplace approximation. */
int ls_rule_laplace(ls_rule *r, size_t K, ls_error *err);
void ls_rule_free(ls_rule *r);

#endif
