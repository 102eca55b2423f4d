/*
 * multiplicity.c -- Bonferroni and Benjamini-Hochberg flags (multiplicity.h).
 */
#include "kernel/multiplicity.h"

#include <math.h>

void ls_bonferroni(const double *pv, size_t m, size_t stride, double alpha, int *flag)
{
    size_t tested = 0;
    for (size_t k = 0; k < m; k++) tested += !isnan(pv[k * stride]);
    for (size_t k = 0; k < m; k++) flag[k * stride] = !isnan(pv[k * stride]) && pv[k * stride] < alpha / (double)tested;
}

void ls_bh(const double *pv, size_t m, size_t stride, double alpha, int *flag, size_t *idx)
{
    /* order the m p-values (strided) by insertion into idx: stable, so ties
     * keep their order, and m is the number of items (tens) */
    /* the tested ones (p not NaN) first, in their order; the others unflagged */
    size_t t = 0;
    for (size_t k = 0; k < m; k++)
        if (!isnan(pv[k * stride])) idx[t++] = k;
    for (size_t k = 0; k < m; k++)
        if (isnan(pv[k * stride])) flag[k * stride] = 0;
    m = t;
    for (size_t k = 1; k < m; k++) {
        size_t v = idx[k], l = k;
        while (l > 0 && pv[idx[l - 1] * stride] > pv[v * stride]) {
            idx[l] = idx[l - 1];
            l--;
        }
        idx[l] = v;
    }
    size_t kstar = 0;
    for (size_t k = 0; k < m; k++)
        if (pv[idx[k] * stride] <= alpha * (double)(k + 1) / (double)m) kstar = k + 1;
    for (size_t k = 0; k < m; k++) flag[idx[k] * stride] = k < kstar;
}
