/*
 * scaling.h -- the scaling-law model's likelihood (private part).
 *
 * Unconstrained parameter vector theta (spec "Estimation"), in this order:
 *   B        p x K, row-major (standardised covariates)
 *   Lambda   per benchmark j: one entry log lambda_kj if j anchors skill k,
 *            else K free entries lambda_1j..lambda_Kj
 *   b        J
 *   log phi  J
 *   v        K(K-1)/2: row k of the Cholesky factor of Sigma is the unit
 *            vector (sin r / r v_k, cos r), r = |v_k| (the exponential map
 *            of the sphere at e_k), so Sigma has unit diagonal and is
 *            singular where some r = pi / 2, a finite point.
 *   gamma    p (heteroscedastic precision only)
 *   kappa    one per benchmark whose ceiling is estimated, in benchmark
 *            order: d_j = c_j + (1 - c_j) logistic(kappa_j).
 */
#ifndef LS_SCALING_H
#define LS_SCALING_H

#include "scaling/data.h"
#include "kernel/rules.h"

struct ls_model {
    const ls_data *d;           /* borrowed: must outlive the model */
    size_t K, J, p, F, dim;
    size_t *anchor;             /* K: benchmark anchoring skill k    */
    long *anchor_of;            /* J: skill anchored by j, or -1     */
    size_t *lam_off;            /* J: offset of column j in theta    */
    size_t off_b, off_phi, off_w;
    int hetero;                 /* log phi_ij = log phi_j + gamma^T x_i (x standardised) */
    size_t off_g;               /* gamma (p) after w, when hetero     */
    size_t off_k, nkap;         /* kappa (nkap) after gamma            */
    long *kap_of;               /* J: index of j's kappa, or -1 (fixed ceiling) */
    double *ceil, *dceil, *d2ceil; /* J: ceiling d_j, d d_j/d kappa_j, d^2 d_j/d kappa_j^2 */
    double *cphi, *clgphi, *cpsiphi; /* ncell: per-cell precision (hetero) */
    ls_rule rule;
    unsigned threads;
    int freeze;                 /* reuse stored modes and curvatures (tests) */
    double eta_clamp;           /* > 0: clip eta into [-eta_clamp, eta_clamp] (reference mode) */
    double lap_floor;           /* Laplace: curvature eigenvalue floor d (laplace_logdet) */
    size_t maxcell;
    double *zmode;              /* F x K: last posterior modes (z scale) */
    double *fam_ll;             /* F                                  */
    double *fam_grad;           /* F x dim                            */
    double *fam_chol;           /* F x K x K: curvature factor at mode */
    double *fam_center;         /* F x K: node map z = center + A u   */
    double *fam_map;            /* F x K x K: A (row-major)           */
    double *fam_logdet;         /* F: log |det A|                     */
    double *fam_se;             /* F: standard error of fam_ll from the rule's blocks, set by
                                 * value-only evaluations (0: none) */
    int cv;                     /* per-family rule, value only: the normal control variate */
    const unsigned char *only;  /* F flags: evaluate only these families (NULL: all); the
                                 * total then sums stale values, read fam_ll */
    int *fam_newton_fail;       /* F                                  */
    /* natural parameters of the current evaluation */
    double *B, *lam, *b, *phi, *lgphi, *psiphi, *L, *a;
    double *rowc, *dL, *wv;      /* Sigma's rows: sigma_rows in scaling.c */
    double *theta0;             /* n x K: B^T x_i                     */
    double *eta0;               /* ncell                              */
    double *scratch;            /* per thread                         */
    size_t scratch_len;
};

/* ls_model_new with the heteroscedastic-precision option and the ceilings
 * to estimate (est_ceil: "all" or comma-separated benchmark names; NULL or
 * "": every ceiling fixed at the data's value). */
int ls_model_new_ext(const ls_data *d, size_t K, const char *anchors, int integration,
                     unsigned nodes, unsigned threads, int hetero, const char *est_ceil,
                     ls_model **out, ls_error *err);
/* Which ceilings est names ("all" or benchmark names; NULL or "": none):
 * kap_of (J) gets each benchmark's index in the kappa block or -1, *nkap
 * their number. */
int ls_ceilings_estimated(const ls_data *d, const char *est, long *kap_of, size_t *nkap, ls_error *err);
/* Load theta into the model's natural-parameter buffers. */
void ls_model_load(ls_model *m, const double *theta);
/* Posterior mode (z scale) of family f for the loaded parameters; writes
 * K values of alpha = L z into alpha and, if chol != NULL, the Cholesky
 * factor of the negative Hessian in z (K x K). */
int ls_model_family_mode(ls_model *m, size_t f, double *alpha, double *chol);
/* The optimisers' objective (ls_objective_fn, ctx = the model): the
 * negative log-likelihood and its gradient under the current freeze state. */
int ls_model_negll(void *model, const double *x, double *f, double *g);
/* ls_model_hessian (public header): the frozen-node Hessian. */

/* Family posteriors, z scale (alpha = L z).  After an evaluation (or
 * ls_model_eval_families) each family has a mode (zmode), the Cholesky
 * factor of the curvature there (fam_chol) and a node map (fam_map,
 * fam_center). */
/* log p(y_f, z) = h_f(z) with its normalising constant; r: J scratch. */
double ls_model_family_logpost(const ls_model *m, size_t f, const double *z, double *r);
/* Load theta and adapt only the listed families (sequential, no gradient). */
int ls_model_eval_families(ls_model *m, const double *theta, const size_t *fams, size_t nf,
                           ls_error *err);
/* Posterior mean (K) and covariance (K x K) of z by the family's rule. */
int ls_model_family_moments(const ls_model *m, size_t f, double *mean, double *cov, ls_error *err);

#endif
