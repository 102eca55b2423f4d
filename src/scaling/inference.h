/*
 * inference.h -- standard errors of the scaling-law estimates at a fitted
 * optimum (spec "Inference"): the observed information (the analytic
 * Hessian, ls_model_hessian, with the node map adapted at the optimum), the outer
 * product of per-family scores (families are the independent units) and
 * the sandwich of the two, carried to the natural scales by the delta
 * method.
 *
 * Natural vector ("nat"), in this order: beta (p x K, raw log scale),
 * lambda (K x J; fixed entries have standard error 0), b (J, raw scale),
 * phi (J), sigma (K x K), gamma (p, raw) with heteroscedastic precision,
 * and the ceilings (J; fixed ones have standard error 0) when some are
 * estimated.
 */
#ifndef LS_INFERENCE_H
#define LS_INFERENCE_H

#include "scaling/model.h"

#define LS_SE_KINDS 3 /* enum ls_se_kind in latentscale.h */

typedef struct ls_inference {
    size_t nnat;
    double *se[LS_SE_KINDS]; /* nnat each; NaN when that matrix is singular */
    double *cov;             /* nnat x nnat, from the inverse observed information */
    size_t dim;              /* unconstrained dimension                      */
    double *theta_cov;       /* dim x dim inverse observed information (theta scale) */
    double *theta_cov_sw;    /* dim x dim sandwich I^-1 B I^-1 (theta scale; NULL when not computed) */
    double min_eig;          /* smallest eigenvalue of the observed information */
    double max_eig;          /* and its largest */
    int ok[LS_SE_KINDS];
} ls_inference;

size_t ls_nat_count(size_t K, size_t J, size_t p);
/* The same for a model: with heteroscedastic precision gamma (p, raw)
 * follows sigma, and with estimated ceilings the J ceilings come last. */
size_t ls_nat_count_model(const ls_model *m);
/* th -> natural vector (raw scale), as above. */
int ls_nat_from_theta(ls_model *m, const double *th, double *nat, ls_error *err);
/* At the optimum th: fills inf (allocating). m is re-adapted at th. */
int ls_infer(ls_model *m, const double *th, ls_inference *inf, ls_error *err);
void ls_inference_free(ls_inference *inf);

#endif
