/*
 * lad.h -- exact least absolute deviations, the min-L1 identification of
 * covariate effects shared by the factor model's and the partial credit
 * model's marginal ML, and standard errors of values computed from
 * estimates through a map.
 */
#ifndef LS_KERNEL_LAD_H
#define LS_KERNEL_LAD_H

#include "kernel/core.h"

#include <stddef.h>
#include <stdint.h>

#define LS_LAD_MAX_R 10

/* Weighted median: a t minimising sum_k w_k |b_k - t| (w >= 0, at least one
 * positive).  idx is scratch for n indices.  Returns the index k whose b_k is
 * the minimiser. */
size_t ls_wmedian(const double *b, const double *w, size_t n, size_t *idx);
/* Exact least absolute deviations: a (r <= LS_LAD_MAX_R values) minimising
 * sum_j |y_j - Z_j . a| over m rows of Z (m x r), by descent along the edges
 * of the vertex it stands on, each edge searched exactly by a weighted median
 * (Barrodale-Roberts style simplex).  Returns LS_OK, NOMEM or NUMERIC (rank
 * deficient Z); *obj receives the minimum. */
int ls_lad(const double *Z, const double *y, size_t m, size_t r, double *a, double *obj, ls_error *err);

/* The min-L1 condition on covariate effects ("most items are fair"): for
 * each covariate s < p, A_s (r values, into A[s r ..]) is the least absolute
 * deviations fit of the items' effects Y[j ld + s] (j < q) on the loadings
 * Z (q x r), and the effects become the residuals Y_js - Z_j . A_s (in
 * place).  The factor means move by A' x: the model is unchanged.  With r
 * items fitted exactly, r effects per covariate end at 0 (to rounding):
 * fixed by the condition, not estimates. */
int ls_min_l1(const double *Z, size_t q, size_t r, double *Y, size_t p, size_t ld, double *A, ls_error *err);

/* Columns of X (n x p) centred and scaled by their (population) sd into
 * Xs, their means and sds (1 for a constant column) into mean and sd: the
 * covariates both marginal-ML fits work in. */
void ls_standardise_columns(const double *X, size_t n, size_t p, double *Xs, double *mean, double *sd);

/* A map from estimates x (D values) to nout reported values. */
typedef int (*ls_map_fn)(const void *ctx, const double *x, double *out, ls_error *err);
/* Standard errors of map(x) by simulation: x + L z, L L' = V, z standard
 * normal, `draws` times (ls_rng seeded with seed); se the standard
 * deviations (NaN everywhere when V is not positive definite).  For maps
 * that are not smooth at x (the min-L1 fit is a weighted median, whose
 * linearisation puts all of a shift's error on the item it interpolates). */
int ls_map_se_sim(ls_map_fn map, const void *ctx, const double *x, size_t D, const double *V, size_t nout,
                  unsigned draws, uint64_t seed, double *se, ls_error *err);
/* The same by the delta method: diag(J V J'), J the central-difference
 * Jacobian of map at x (steps 1e-6 (1 + |x_a|)). */
int ls_map_se_delta(ls_map_fn map, const void *ctx, const double *x, size_t D, const double *V, size_t nout,
                    double *se, ls_error *err);

#endif
