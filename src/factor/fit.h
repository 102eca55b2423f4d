/*
 * factor_tasks.h -- private pieces shared by tasks/factor_*.c and the tests.
 */
#ifndef LS_TASKS_FACTOR_TASKS_H
#define LS_TASKS_FACTOR_TASKS_H

#include "factor/model.h"

/* One start of the alternating fit on m (start 0: the SVD start; others
 * perturbed): sweeps until the relative change of the log-likelihood is
 * below o->tol or o->max_iter.  *ll_out gets the final log-likelihood. */
int lsf_fit_start(lsf_model *m, const ls_factor_options *o, unsigned start, double *ll_out,
                  unsigned *iters, int *converged, ls_error *err);

/* Put parameters (U n x r, gamma q x r, beta q x (p+1); changed in place)
 * in the identification of o (covariate condition, then o->identify with
 * o->anchors): for comparing a simulation's truth with the estimates. */
int lsf_identify_params(const double *Y, const double *X, size_t n, size_t q, size_t p, size_t r,
                        const ls_factor_options *o, double *U, double *gamma, double *beta,
                        ls_error *err);

/* Benjamini-Hochberg at level alpha over m p-values pv[k * stride]; flags
 * flag[k * stride]; idx is scratch for m indices. */
void lsf_bh(const double *pv, size_t m, size_t stride, double alpha, int *flag, size_t *idx);


/* Simulation design of 2404.16745 (spec "Checks"): Gamma block-structured
 * (q/r items per factor, entries U(0.5, 1.5)), (x_i, U_i) jointly normal with
 * AR(rho) correlation truncated at +-2, covariate s with effect `effect` on
 * items 5s..5s+4 and 0 elsewhere, intercepts U(-1, 1), responses from
 * `family` (Gaussian with variance 1), each cell missing with probability
 * `missing`.  Arrays are allocated with ls_malloc; free with lsf_sim_free. */
typedef struct lsf_sim {
    size_t n, q, p, r;
    double *Y, *X;           /* n x q, n x p                         */
    double *U, *gamma, *beta; /* n x r, q x r, q x (p+1) truth        */
} lsf_sim;
int lsf_simulate(size_t n, size_t q, size_t p, size_t r, int family, double rho, double effect,
                 double missing, uint64_t seed, lsf_sim *out, ls_error *err);
/* The same with the item parameters (loadings, intercepts) drawn from
 * design_seed (0: from seed, as lsf_simulate) and the persons and responses
 * from seed: replications of one fixed design. */
int lsf_simulate_design(size_t n, size_t q, size_t p, size_t r, int family, double rho, double effect,
                        double missing, uint64_t design_seed, uint64_t seed, lsf_sim *out,
                        ls_error *err);
void lsf_sim_free(lsf_sim *s);
/* One response drawn at natural parameter w (Gaussian variance s2). */
double lsf_sim_draw(int family, double w, double s2, lsf_rng *g);

#endif
