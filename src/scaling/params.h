/*
 * params.h -- conversions of scaling-law parameters between the
 * standardised covariate scale used for fitting and the raw log scale
 * users read (spec "Data": beta_raw = beta_std / sd; the intercepts absorb
 * the centring: b_raw_j = b_j - lambda_j^T beta_raw^T mean).
 */
#ifndef LS_PARAMS_H
#define LS_PARAMS_H

#include "scaling/data.h"

/* Copy src into dst (same shape). */
void ls_params_copy(ls_params *dst, const ls_params *src);
/* In place: standardised -> raw, and raw -> standardised. */
void ls_params_to_raw(ls_params *pr, const double *mean, const double *sd);
void ls_params_to_std(ls_params *pr, const double *mean, const double *sd);

#endif
