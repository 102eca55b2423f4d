/*
 * model.h -- the scaling-law model's likelihood (private part; the handle
 * is opaque, its insides are in model_impl.h).
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
 *   tau      J (family effect only, ls_model_enable_family_effect): the sd
 *            of the family-by-benchmark effect u_fj = tau_j v_fj, signed.
 *            v_fj ~ N(0, 1) is symmetric, so tau_j and -tau_j are one model
 *            (the sd is |tau_j|) and tau_j = 0 is an interior point, where
 *            the likelihood is smooth with curvature in tau_j: an estimate
 *            on the boundary of the sd has finite information, which in
 *            log tau_j (the first parametrisation) it had not.
 *
 * A model evaluates the marginal log-likelihood at theta with an adaptive
 * rule: each evaluation finds every family's posterior mode and places the
 * rule's nodes there (the node map), unless the map is frozen.
 */
#ifndef LS_SCALING_H
#define LS_SCALING_H

#include "scaling/data.h"

/* ---------------------------------------------------------------- */
/* Construction and the layout of theta                              */
/* ---------------------------------------------------------------- */

/* ls_model_new with the heteroscedastic-precision option and the ceilings
 * to estimate (est_ceil: "all" or comma-separated benchmark names; NULL or
 * "": every ceiling fixed at the data's value).  The rule is
 * (integration, nodes) as ls_plan_resolve reads them. */
int ls_model_new_ext(const ls_data *d, size_t K, const char *anchors, int integration,
                     unsigned nodes, unsigned threads, int hetero, const char *est_ceil,
                     ls_model **out, ls_error *err);
/* Which ceilings est names ("all" or benchmark names; NULL or "": none):
 * kap_of (J) gets each benchmark's index in the kappa block or -1, *nkap
 * their number. */
int ls_ceilings_estimated(const ls_data *d, const char *est, long *kap_of, size_t *nkap, ls_error *err);

/* The family-by-benchmark random effect u_fj ~ N(0, tau_j^2): J more
 * parameters (signed tau_j) at the end of theta.  Call right after
 * construction; refused for the Laplace rule. */
#define LS_FE_NODES 11    /* inner adaptive Gauss-Hermite nodes       */
#define LS_FE_TAU0 0.1    /* tau_j when a parameter vector has none   */
int ls_model_enable_family_effect(ls_model *m, unsigned nodes, ls_error *err); /* nodes 0: LS_FE_NODES */
int ls_model_family_effect(const ls_model *m);

/* Where each block of theta sits (see the top of this file).  The arrays
 * are borrowed from the model and live as long as it does. */
typedef struct ls_layout {
    size_t K, J, p, dim;
    int hetero;               /* gamma present (p entries at off_g)        */
    size_t nkap;              /* kappa entries at off_k                    */
    const size_t *anchor;     /* K: the benchmark anchoring skill k        */
    const long *anchor_of;    /* J: the skill j anchors, or -1             */
    const size_t *lam_off;    /* J: offset of benchmark j's loadings       */
    const long *kap_of;       /* J: index of j's kappa, or -1 (fixed ceiling) */
    size_t off_b, off_phi, off_w, off_g, off_k;
    int fe;                   /* family effect: tau (J, signed) at off_t  */
    size_t off_t;
} ls_layout;
void ls_model_layout(const ls_model *m, ls_layout *out);
/* The data the model is bound to (borrowed by the model). */
const ls_data *ls_model_data(const ls_model *m);

/* ---------------------------------------------------------------- */
/* The rule and the evaluation's settings                            */
/* ---------------------------------------------------------------- */

/* The rule has one node at the mode (the Laplace rule; ls_plan_is_laplace):
 * its value re-adapted at every point is smooth with an exact gradient, so
 * it is optimised unfrozen. */
int ls_model_is_laplace(const ls_model *m);
/* The rule samples: per-family points, with standard errors. */
int ls_model_is_sampled(const ls_model *m);
/* The rule's name ("gauss-hermite", "sparse-grid", "laplace", "rqmc-t"). */
const char *ls_model_rule_kind(const ls_model *m);
/* on: evaluations reuse each family's stored node map (mode and curvature)
 * instead of re-adapting it, so that the value is a smooth function of
 * theta whose gradient is exact; off (the default): re-adapt. */
void ls_model_set_freeze(ls_model *m, int on);
/* c > 0: clip each linear predictor eta into [-c, c] (the reference
 * implementation's published fits); 0 (the default): off. */
void ls_model_set_logit_clamp(ls_model *m, double c);
/* Forget the families' modes: the next adaptation starts from z = 0. */
void ls_model_reset_modes(ls_model *m);
/* A sampled rule's value-only evaluations use the normal control variate
 * (ls_rule_estimate). */
void ls_model_set_control_variate(ls_model *m, int on);
/* Evaluate only the families flagged in only (F flags, borrowed: they must
 * outlive their use; NULL: all, the default).  The total then sums stale
 * values: read ls_model_family_loglik. */
void ls_model_set_families(ls_model *m, const unsigned char *only);
/* The Laplace rule's curvature eigenvalue floor d (laplace_logdet in
 * modes.c; default 1/2), for tests of its derivatives. */
void ls_model_set_laplace_floor(ls_model *m, double d);
/* A sampled rule draws its points on other random shifts (its seed xor
 * salt), for an independent replication. */
void ls_model_reseed(ls_model *m, uint64_t salt);

/* ---------------------------------------------------------------- */
/* Evaluation                                                        */
/* ---------------------------------------------------------------- */

/* Load theta into the model's natural-parameter buffers. */
void ls_model_load(ls_model *m, const double *theta);
/* The optimisers' objective (ls_objective_fn, ctx = the model): the
 * negative log-likelihood and its gradient under the current freeze state. */
int ls_model_negll(void *model, const double *x, double *f, double *g);
/* ls_model_loglik, ls_model_hessian (public header): the value, gradient
 * and frozen-node Hessian. */
/* Family f's log-likelihood from the last evaluation and (se, may be NULL)
 * its standard error: for a sampled rule the spread of its blocks at the
 * last value-only evaluation, NaN for a rule that does not sample. */
double ls_model_family_loglik(const ls_model *m, size_t f, double *se);
/* Family f's score (dim) from the last evaluation with a gradient
 * (borrowed, valid until the next). */
const double *ls_model_family_score(const ls_model *m, size_t f);

/* ---------------------------------------------------------------- */
/* Family posteriors, z scale (alpha = L z)                          */
/* ---------------------------------------------------------------- */

/* After an evaluation (or ls_model_eval_families) each family has a mode,
 * the Cholesky factor R of the curvature there (K x K) and a node map
 * z = center + A u (A: K x K, row-major) with log |det A|.  Borrowed;
 * valid until the next evaluation. */
typedef struct ls_family_map {
    const double *mode, *chol, *center, *A;
    double logdet;
} ls_family_map;
void ls_model_family_map(const ls_model *m, size_t f, ls_family_map *out);
/* Posterior mode (z scale) of family f for the loaded parameters; writes
 * K values of alpha = L z into alpha and, if chol != NULL, the Cholesky
 * factor of the negative Hessian in z (K x K).  Returns 0, or non-zero
 * when its Newton search stopped short. */
int ls_model_family_mode(ls_model *m, size_t f, double *alpha, double *chol);
/* log p(y_f, z) = h_f(z) with its normalising constant; r: scratch of
 * ls_model_logpost_scratch doubles (J, more with the family effect). */
double ls_model_family_logpost(const ls_model *m, size_t f, const double *z, double *r);
size_t ls_model_logpost_scratch(const ls_model *m);
/* The family effect u_fj (J values into u) of family f whose skills are at
 * z (z scale): tau_j (v* + s eps_j), v* and s the mode and the curvature's
 * scale of v_fj's posterior given z and the family's scores on j (its
 * normal approximation; eps NULL: the mode); for f = (size_t)-1 (a new
 * family) or a benchmark without the family's scores, the prior tau_j eps_j.
 * Zeros without the family effect.  scratch: ls_model_logpost_scratch. */
void ls_model_family_effect_draw(const ls_model *m, size_t f, const double *z, const double *eps, double *u,
                                 double *scratch);
/* Family f's last posterior mode on the z scale (K values, borrowed). */
const double *ls_model_family_zmode(const ls_model *m, size_t f);
/* Load theta and adapt only the listed families (sequential, no gradient). */
int ls_model_eval_families(ls_model *m, const double *theta, const size_t *fams, size_t nf,
                           ls_error *err);
/* Posterior mean (K) and covariance (K x K) of z by the family's rule. */
int ls_model_family_moments(const ls_model *m, size_t f, double *mean, double *cov, ls_error *err);

/* ---------------------------------------------------------------- */
/* The loaded parameters                                             */
/* ---------------------------------------------------------------- */

/* L (K x K, lower, row-major): Sigma = L L^T (borrowed). */
const double *ls_model_sigma_chol(const ls_model *m);
/* alpha = L z (K each). */
void ls_model_z_to_alpha(const ls_model *m, const double *z, double *alpha);
/* The skills' covariate part B^T x (K) for covariates x (p, standardised). */
void ls_model_skills_at(const ls_model *m, const double *x, double *skills);
/* Benchmark j's mean score for skills theta (K): c_j + (d_j - c_j)
 * logistic(b_j + lambda_j . theta), eta clipped as set. */
double ls_model_mean_score(const ls_model *m, size_t j, const double *skills);
/* The same with `shift` added to eta (the family effect u_fj). */
double ls_model_mean_score_shift(const ls_model *m, size_t j, const double *skills, double shift);
/* phi_j, benchmark j's precision (without the covariates' part). */
double ls_model_precision(const ls_model *m, size_t j);
/* log phi_ij - log phi_j = gamma . x at theta for covariates x (p,
 * standardised); 0 without heteroscedastic precision. */
double ls_model_precision_shift(const ls_model *m, const double *theta, const double *x);

#endif
