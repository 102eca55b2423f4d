/*
 * multiplicity.h -- corrections for testing m hypotheses at once: flags of
 * the rejected ones under Bonferroni (family-wise error rate) and
 * Benjamini-Hochberg (false discovery rate; Benjamini and Hochberg 1995,
 * J. R. Stat. Soc. B 57, the step-up rule).  The p-values are read with a
 * stride, so one column of a row-major matrix can be corrected in place.
 * A NaN p-value is a hypothesis not tested (an effect fixed by an
 * identification condition, or not identified): never flagged, and not
 * counted in m.
 */
#ifndef LS_KERNEL_MULTIPLICITY_H
#define LS_KERNEL_MULTIPLICITY_H

#include <stddef.h>

/* flag[k * stride] = pv[k * stride] < alpha / m', for k < m; m' the number
 * of p-values that are not NaN. */
void ls_bonferroni(const double *pv, size_t m, size_t stride, double alpha, int *flag);
/* flag[k * stride] = 1 for the k* smallest p-values, k* the largest k with
 * p_(k) <= alpha k / m; idx is scratch for m indices (no allocation). */
void ls_bh(const double *pv, size_t m, size_t stride, double alpha, int *flag, size_t *idx);

#endif
