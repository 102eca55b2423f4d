/*
 * params.c -- the plain parameter block and its scale conversions.
 */
#include "scaling/params.h"

#include <string.h>

int ls_params_alloc(ls_params *pr, size_t K, size_t J, size_t p, ls_error *err)
{
    memset(pr, 0, sizeof *pr);
    pr->K = K;
    pr->J = J;
    pr->p = p;
    pr->beta = ls_calloc(p * K + 1, sizeof(double));
    pr->lambda = ls_calloc(K * J, sizeof(double));
    pr->b = ls_calloc(J, sizeof(double));
    pr->phi = ls_calloc(J, sizeof(double));
    pr->sigma = ls_calloc(K * K, sizeof(double));
    pr->anchors = ls_calloc(K, sizeof(size_t));
    pr->gamma = ls_calloc(p + 1, sizeof(double));
    pr->ceiling = ls_calloc(J + 1, sizeof(double));
    pr->tau = ls_calloc(J + 1, sizeof(double));
    if (!pr->beta || !pr->lambda || !pr->b || !pr->phi || !pr->sigma || !pr->anchors || !pr->gamma ||
        !pr->ceiling || !pr->tau) {
        ls_params_free(pr);
        return ls_nomem(err);
    }
    for (size_t k = 0; k < K; k++) {
        pr->sigma[k * K + k] = 1;
        pr->anchors[k] = k;
    }
    for (size_t j = 0; j < J; j++) pr->ceiling[j] = 1;
    return LS_OK;
}

void ls_params_free(ls_params *pr)
{
    if (!pr) return;
    ls_free(pr->beta);
    ls_free(pr->lambda);
    ls_free(pr->b);
    ls_free(pr->phi);
    ls_free(pr->sigma);
    ls_free(pr->anchors);
    ls_free(pr->gamma);
    ls_free(pr->ceiling);
    ls_free(pr->tau);
    memset(pr, 0, sizeof *pr);
}

void ls_params_copy(ls_params *dst, const ls_params *src)
{
    size_t K = src->K, J = src->J, p = src->p;
    memcpy(dst->beta, src->beta, p * K * sizeof(double));
    memcpy(dst->lambda, src->lambda, K * J * sizeof(double));
    memcpy(dst->b, src->b, J * sizeof(double));
    memcpy(dst->phi, src->phi, J * sizeof(double));
    memcpy(dst->sigma, src->sigma, K * K * sizeof(double));
    memcpy(dst->anchors, src->anchors, K * sizeof(size_t));
    if (dst->gamma && src->gamma) memcpy(dst->gamma, src->gamma, p * sizeof(double));
    if (dst->ceiling && src->ceiling) memcpy(dst->ceiling, src->ceiling, J * sizeof(double));
    if (dst->tau && src->tau) memcpy(dst->tau, src->tau, J * sizeof(double));
    dst->hetero = src->hetero;
    dst->family_effect = src->family_effect;
}

/* shift_j = lambda_j^T beta_raw^T mean */
static double shift(const ls_params *pr, size_t j, const double *mean)
{
    double s = 0;
    for (size_t k = 0; k < pr->K; k++) {
        double t = 0;
        for (size_t q = 0; q < pr->p; q++) t += pr->beta[q * pr->K + k] * mean[q];
        s += pr->lambda[k * pr->J + j] * t;
    }
    return s;
}

void ls_params_to_raw(ls_params *pr, const double *mean, const double *sd)
{
    for (size_t q = 0; q < pr->p; q++)
        for (size_t k = 0; k < pr->K; k++) pr->beta[q * pr->K + k] /= sd[q];
    for (size_t j = 0; j < pr->J; j++) pr->b[j] -= shift(pr, j, mean);
    for (size_t q = 0; pr->gamma && q < pr->p; q++) pr->gamma[q] /= sd[q];
}

void ls_params_to_std(ls_params *pr, const double *mean, const double *sd)
{
    for (size_t j = 0; j < pr->J; j++) pr->b[j] += shift(pr, j, mean);
    for (size_t q = 0; q < pr->p; q++)
        for (size_t k = 0; k < pr->K; k++) pr->beta[q * pr->K + k] *= sd[q];
    for (size_t q = 0; pr->gamma && q < pr->p; q++) pr->gamma[q] *= sd[q];
}
