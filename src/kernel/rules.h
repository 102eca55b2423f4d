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

#include "kernel/core.h"
#include <stdint.h>

typedef struct ls_rule {
    size_t n, K;
    double *u;   /* n x K nodes                       */
    double *lw;  /* n log |weights|, as above          */
    signed char *sg; /* n signs of the weights; NULL: all positive */
    unsigned level;  /* sparse grid: its level (0 for the other rules) */
    char kind[16];
    /* Per-group randomised QMC (ls_rule_rqmc): u and lw are NULL and each
     * group (family) draws its own points with ls_rule_points. */
    double *v;        /* n / (2 blocks) x dims unshifted Sobol points     */
    size_t dims;      /* K + the t radius's uniforms                      */
    unsigned blocks;  /* independent random shifts per group              */
    double df;        /* the t proposal's degrees of freedom (even)       */
    uint64_t seed;
} ls_rule;

/* Product Gauss-Hermite with m nodes per dimension (GSL fixed Hermite
 * rule), dropping nodes whose weight is below prune times the largest. */
int ls_rule_gh(ls_rule *r, size_t K, unsigned m, double prune, ls_error *err);
/* Randomised QMC whose points differ between groups: each group g (a
 * family) gets `blocks` independent Cranley-Patterson shifts of the same
 * n / (2 blocks) Sobol points, drawn from (seed, g, block), mapped to a
 * multivariate t with df (an even integer, 2..8) degrees of freedom and
 * mirrored.  Two groups' errors are then independent, so the error of a
 * sum over families grows as the square root of their number, not
 * linearly as with one shared point set (at K = 9 on the paper data the
 * shared set's per-family errors all had the same sign), and the spread of
 * the block estimates gives each group's standard error
 * (ls_rule_block_se).  n must be a multiple of 2 blocks. */
/* The models' choice: 8 blocks, 8 degrees of freedom (at K = 9 on the
 * paper data the standard error of the total at 16,384 points was 0.0145
 * with the control variate and 0.037 without; bench_accuracy). */
#define LS_RQMC_BLOCKS 8
#define LS_RQMC_DF 8.0
int ls_rule_rqmc(ls_rule *r, size_t K, unsigned n, unsigned blocks, double df, uint64_t seed,
                 ls_error *err);
/* Group g's points (n x K) and log weights (n) of a per-group rule. */
void ls_rule_points(const ls_rule *r, uint64_t g, double *u, double *lw);
/* The rule's estimate of a log integral from t_q = lw_q + log integrand(u_q)
 * (positive weights) and lse = log sum_q exp(t_q), the plain estimate;
 * *se receives its standard error from the spread of the blocks' estimates
 * (0 for a rule without blocks).  With g (may be NULL) the control variate
 * g_q = lw_q + log of a density whose integral is 1 (the normal at the
 * mode: sum_q exp(g_q) then estimates 1 with errors that follow the
 * integrand's), adjusted by least squares; it is dropped when it would
 * change the estimate by a factor of 2 or more. */
double ls_rule_estimate(const ls_rule *r, const double *t, double lse, const double *g, double *se);

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
