/*
 * factor.h -- the engine of the generalized latent factor model (private):
 * response-family kernels, per-item and per-person Newton/IRLS updates,
 * the alternating joint-maximum-likelihood sweep, the normalisations, and an
 * exact least-absolute-deviation solver for the covariate condition.
 *
 * Mathematics: ../shared/spec/factor-models.md and docs/FACTOR.md
 * (Cui and Xu, arXiv 2508.05866; Ouyang, Cui, Tan and Xu, arXiv 2404.16745).
 *
 * Layout: persons i (n), items j (q), factors r, covariates p plus the
 * intercept (p1 = p + 1).  Item j's parameter row is t_j = (gamma_j, beta_j)
 * of length d = r + p1, and its design row for person i is
 * z_i = (U_i, 1, x_i), so w_ij = t_j . z_i.
 */
#ifndef LS_MODELS_FACTOR_H
#define LS_MODELS_FACTOR_H

#include "kernel/core.h"
#include "kernel/lad.h"
#include "kernel/sparse.h"

#include <stddef.h>
#include <stdint.h>

#define LSF_MAX_R 10
#define LSF_MAX_P 40
#define LSF_MAX_D (LSF_MAX_R + LSF_MAX_P + 1)

/* Log-likelihood of one cell at natural parameter w, with its first (l1)
 * and second (l2 <= 0) derivatives in w (either may be NULL).  s2 is the
 * Gaussian variance (ignored otherwise).  Poisson includes -log y!. */
double lsf_cell(int family, double y, double w, double s2, double *l1, double *l2);

typedef struct lsf_model {
    size_t n, q, p1, r, d;
    const ls_resp *R;  /* the observed responses, borrowed               */
    double *X1;        /* n x p1, owned: (1, x_i)                        */
    int family;
    double bound;      /* box on every coefficient                       */
    unsigned threads;  /* 0: OpenMP default                              */
    double ridge;      /* > 0: -ridge/2 |u|^2 per person and -ridge/2 |gamma_j|^2
                        * per item (nuclear-norm penalty); sweeps then only centre */
    double *U;         /* n x r, owned                                   */
    double *T;         /* q x d, owned: (gamma_j, beta_j)                */
    double *s2;        /* q, owned: Gaussian variances (1 otherwise)     */
    double *ll_i;      /* n: each person's log-likelihood after a sweep  */
    double *ll_j;      /* q                                              */
} lsf_model;

/* Allocate a model over R (borrowed, must outlive m) and X (n x p, copied;
 * NULL when p = 0).  Returns LS_OK or LS_ERR_NOMEM. */
int lsf_model_init(lsf_model *m, const ls_resp *R, const double *X, size_t n, size_t q, size_t p,
                   size_t r, int family, double bound, unsigned threads, ls_error *err);
void lsf_model_free(lsf_model *m);

/* Item j's log-likelihood at parameter row t (d values) over its observed
 * persons, with (when non-NULL) the gradient g (d), the information
 * H = -Hessian (d x d) and S = sum l1^2 z z^T (d x d). */
double lsf_item_eval(const lsf_model *m, size_t j, const double *t, double *g, double *H,
                     double *S);
/* Person i's log-likelihood at factor u (r values), same outputs (r, r x r). */
double lsf_person_eval(const lsf_model *m, size_t i, const double *u, double *g, double *H,
                       double *S);

/* Start: the top-r eigenvectors of a centred (transformed) response matrix
 * (on at most 4000 rows) give U; with perturb > 0, N(0, perturb^2) noise
 * drawn from `seed` is added.  Intercepts start at the link of each item's
 * mean, loadings and covariate effects at 0.  Returns LS_OK or NOMEM. */
int lsf_start(lsf_model *m, uint64_t seed, double perturb, ls_error *err);

/* One alternating sweep: a damped Newton step for every item (in parallel),
 * then for every person (in parallel), then lsf_normalise and lsf_clip.
 * Returns the joint log-likelihood before the normalisation; deterministic whatever the thread count. */
double lsf_sweep(lsf_model *m);
/* Project every coefficient on [-bound, bound] (the bound holds in the
 * normalised gauge U'U/n = I, so a collapsing factor cannot inflate Gamma). */
void lsf_clip(lsf_model *m);
/* Joint log-likelihood at the current parameters. */
double lsf_loglik(const lsf_model *m);

/* Invariant reparametrisations (the likelihood does not change):
 * centre U into the intercepts and make U'U/n = I (Gamma <- Gamma M^(1/2)). */
int lsf_normalise(lsf_model *m);
/* The orthogonal (PC-type) reference: centred, U'U/n = I, Gamma'Gamma/q
 * diagonal and decreasing, every loading column with a positive sum. */
int lsf_rotate_reference(lsf_model *m);
/* The rotation part alone: Gamma'Gamma/q diagonal decreasing by an orthogonal
 * rotation, positive loading sums (U'U/n is left as it is). */
int lsf_rotate_pc(lsf_model *m);
/* U <- U G, Gamma <- Gamma Gi^T with Gi = G^-1 (r x r). */
void lsf_transform(lsf_model *m, const double *G, const double *Gi);
/* Covariate condition: U <- U + x A^T, beta_s <- beta_s - Gamma A_s with A
 * the min-L1 solution per covariate (cond 0) or the least-squares projection
 * making U orthogonal to (1, x) (cond 1).  A (p x r) receives the shift
 * applied (may be NULL). */
int lsf_covariate_condition(lsf_model *m, int cond, double *A, ls_error *err);

/* Number of coefficients within 1e-9 of the bound. */
size_t lsf_at_bound(const lsf_model *m);

/* Weighted median and exact least absolute deviations: kernel/lad.h
 * (ls_wmedian, ls_lad). */

#endif
