/*
 * gpcm.h -- private pieces of the multidimensional generalized partial credit
 * model (docs/GPCM.md, ../shared/spec/gpcm.md): the Gaussian variational EM
 * state and its closed-form updates, the marginal likelihood by adaptive
 * Gauss-Hermite quadrature with its gradient, simulation.  Shared by
 * fit.c, mml.c, io.c, results.c, the tests and the benchmark; also the data
 * behind the public handle ls_gpcm_data and the payload of "gpcm-fit".
 *
 * Layout.  The scores 0..P_j are kept by observed cell only (kernel/sparse's
 * ls_resp: person order rp/ri/rv, item order cp/ci/cv), so memory and time
 * follow the observed responses.  Step parameters are stored per item in
 * blocks of P_j + 1 (index k = score k): b[off[j] + k] with b[off[j]] = 0.
 * The per-cell quantities follow the person-ordered cells c (rp[i] ..
 * rp[i+1]-1): A[c], B[c], and the Jaakkola-Jordan weights in blocks of
 * P_j + 1 from eta + eoff[i] (person i's cells one after the other), as
 * every pass over them runs over persons; the slot of the observed score
 * is unused.
 *
 * Sums over persons.  The item updates (slopes, steps) and Sigma need sums
 * over persons per item.  They are not taken by a pass per item over all
 * persons but while the person passes run: the E-step adds, per item,
 * sum_i A_ij (S_i + mu_i mu_i'), sum_i B_ij mu_i and sum_i v_ij mu_i' (v_ij
 * the steps' weights of the last local step, below) in the coordinates
 * before the rescaling, which the Sigma step then applies to the sums (a
 * linear change of variables); the local step adds the steps' Hessians.
 * Persons are summed in LSG_NBLOCK fixed blocks, the blocks in order, so
 * the sums do not depend on the number of threads.  m->stats says which
 * sums hold for the current state; without them the updates take their
 * sums directly (the same values up to rounding).
 */
#ifndef LS_MODELS_GPCM_H
#define LS_MODELS_GPCM_H

#include "kernel/core.h"
#include "kernel/rules.h"
#include "kernel/sparse.h"

#include <stdint.h>

/* ---------------------------------------------------------------- */
/* Gaussian variational EM                                           */
/* ---------------------------------------------------------------- */

typedef struct lsg_model {
    size_t N, J, K, T;
    const ls_resp *R;      /* the observed scores (borrowed, or &Rown)         */
    ls_resp Rown;          /* owned cells when built from a dense matrix       */
    size_t *eoff;          /* N + 1: person i's weights start at eta + eoff[i] */
    unsigned *P;           /* J highest scores                                 */
    size_t *off;           /* J + 1 block offsets                              */
    int *pattern;          /* J x K, 1 = free slope                            */
    int exploratory;       /* Sigma whitened to I after each update            */
    int threads;
    double *a;             /* J x K                                            */
    double *b;             /* T                                                */
    double *sigma;         /* K x K                                            */
    double *mu, *S;        /* N x K, N x K x K: q_i = N(mu_i, S_i)             */
    double *eta;           /* eoff[N]: per observed cell, P_j + 1 each          */
    double *A, *B;         /* nnz: sum_k eta d^2 and sum_k d (2 eta c - 1/2)    */
    double *ell;           /* N: person terms of the lower bound               */
    double elbo;
    /* Person covariates (MML only; lsg_set_covariates, default none): item
     * j's a_j' theta gains delta_ij, with
     *   xmode LSG_X_DIF:  delta_ij = dif_j' x_i     (an intercept shift per item:
     *                     differential item functioning on every item),
     *   xmode LSG_X_LREG: delta_ij = a_j' lreg' x_i (latent regression:
     *                     theta_i ~ N(lreg' x_i, Sigma), no DIF). */
    const double *X;       /* N x p (borrowed)                                 */
    size_t p;
    int xmode;
    double *dif;           /* J x p (owned)                                    */
    double *lreg;          /* p x K (owned)                                    */
    const char *mml_stage; /* the progress stage of lsg_mml (NULL: "gpcm: MML") */
    int equal_slopes;      /* MML, K = 1: one slope shared by every item (Rasch-type) */
    int mml_warm;          /* lsg_mml: mu, S already hold a quadrature posterior
                            * near the start (one adaptation pass, not four) */
    int probit;            /* MML, binary items only: P(y = 1 | theta) = Phi(eta)
                            * with eta = a'theta + shift - b_1 (0: the logit) */
    unsigned mml_sparse;   /* MML: 0 the product Gauss-Hermite rule of `nodes`
                            * per dimension; l >= 1 the Smolyak sparse grid of
                            * level l (ls_rule_sparse: signed weights) */
    /* the sums over persons (see the top of this file) */
    int stats;             /* LSG_STATS_E: E-step sums hold; LSG_STATS_L: local;
                            * LSG_STATS_P: the next E-step is done (below)    */
    double *mu2, *S2;      /* N x K, N x K x K: the local step's person pass
                            * also runs the next E-step (it needs only the new
                            * A, B and the unchanged a, Sigma) into these;
                            * lsg_estep then swaps them in                     */
    size_t *sdim, *snd;    /* J x K, J: item j's dimensions in the E-step sums
                            * (confirmatory: its free slopes; exploratory: all K) */
    size_t *soff, *hoff;   /* J + 1: item j's E-step sums M (nd x nd), r (nd),
                            * W (P_j x nd); local sums H (P_j x P_j), C (P_j) */
    size_t nblk, ssz, hsz; /* blocks; sizes of the E-step (+ K K) and local sums */
    double *sblk, *hblk;   /* nblk x (ssz + K K), nblk x hsz                   */
    double *ssum, *hsum;   /* the sums over blocks                             */
} lsg_model;

enum { LSG_STATS_E = 1, LSG_STATS_L = 2, LSG_STATS_P = 4 };
#define LSG_NBLOCK 32

enum { LSG_X_NONE = 0, LSG_X_DIF = 1, LSG_X_LREG = 2 };

/* Attach covariates X (N x p, borrowed) in mode xmode, their coefficients
 * at 0.  LS_OK or LS_ERR_NOMEM. */
int lsg_set_covariates(lsg_model *m, const double *X, size_t p, int xmode, ls_error *err);
/* Person i's shifts delta_ij under m's covariates (0 without them), set
 * for the items person i answered only (delta has J slots). */
void lsg_person_shift(const lsg_model *m, size_t i, double *delta);

/* Person i's block of P_j + 1 weights for item j (NULL when i did not
 * answer j; a search: for tests and checks, not for the passes). */
double *lsg_eta_at(const lsg_model *m, size_t i, size_t j);

/* Allocate for the data; pattern (J x K) is copied.  Parameters are zero:
 * set them with lsg_set, then call lsg_start.  lsg_init takes a dense
 * N x J matrix Y (scores, -1 = missing; kept as observed cells, Y is not
 * referenced afterwards); lsg_init_resp borrows the cells R (values the
 * scores 0..P_j; R must outlive m). */
int lsg_init(lsg_model *m, size_t N, size_t J, size_t K, const int *Y, const unsigned *P,
             const int *pattern, int exploratory, int threads, ls_error *err);
int lsg_init_resp(lsg_model *m, const ls_resp *R, size_t K, const unsigned *P, const int *pattern,
                  int exploratory, int threads, ls_error *err);
/* Cells from a dense N x J int matrix (-1 = missing). */
int lsg_resp_from_scores(const int *Y, size_t N, size_t J, ls_resp *out, ls_error *err);
void lsg_free(lsg_model *m);
/* a (J x K), b (T, block layout) and sigma (K x K) copied in (NULL: keep). */
void lsg_set(lsg_model *m, const double *a, const double *b, const double *sigma);
/* q_i = N(0, Sigma) for every person, then the local update: the lower bound
 * at the start is m->elbo.  Returns LS_OK or LS_ERR_NUMERIC. */
int lsg_start(lsg_model *m, ls_error *err);

/* The steps of one iteration, in this order; each maximises the full lower
 * bound in its block, so the bound cannot decrease (the test checks it).
 * Whoever changes mu or S other than through these steps clears m->stats. */
int lsg_estep(lsg_model *m, ls_error *err);      /* q_i given eta, a, b, Sigma  */
int lsg_sigma_step(lsg_model *m, ls_error *err); /* Sigma, then the rescaling    */
int lsg_slope_step(lsg_model *m, ls_error *err); /* a_j on its free dimensions   */
int lsg_step_step(lsg_model *m, ls_error *err);  /* b_j1..b_jP jointly           */
int lsg_local_step(lsg_model *m, ls_error *err); /* xi, eta and the bound (m->elbo) */
/* All five; *change = mean squared change of (a, b). */
int lsg_iterate(lsg_model *m, double *change, ls_error *err);

/* e^x for x in [-700, 0], the local step's vectorisable exponential. */
double lsg_exp_neg(double x);

/* eta(xi) = tanh(xi / 2) / (4 xi), eta(0) = 1/8. */
double lsg_eta(double xi);

/* ---------------------------------------------------------------- */
/* Marginal likelihood by adaptive Gauss-Hermite quadrature          */
/* ---------------------------------------------------------------- */

/* Per-person nodes z = m_i + L_i u on a fixed product rule. */
typedef struct lsg_quad {
    size_t N, J, K, T;
    const ls_resp *R;
    const unsigned *P;
    const size_t *off;
    ls_rule rule;
    double *center;        /* N x K                                            */
    double *chol;          /* N x K x K lower triangular L_i                   */
    int threads;
    /* The rule as a (possibly pruned) product of one set of m1 values x1:
     * node k's coordinate l is x1[t_kl].  Then e^{a_j'z} at node k is
     * TA_j[ia_k] TB_j[ib_k], with TA_j the mA = m1^h products over the
     * first h = K/2 coordinates (times e^{a_j'center}) and TB_j the mB
     * products over the others, indexed by ia_k = sum_{l<h} t_kl m1^l and
     * ib_k = sum_{l>=h} t_kl m1^(l-h): K m1 exponentials per item and
     * person instead of one per node.  nidx NULL: not of that form (or the
     * tables would be too large). */
    unsigned *nidx;        /* n x 2: ia_k, ib_k                                */
    /* pidx[d n + k] = sum_{l <= d} t_kl m1^l, node k's index among the
     * m1^(d+1) combinations of its first d + 1 coordinates (with nidx).  An
     * item whose g_j = L'a_j is zero beyond coordinate d (a confirmatory item
     * on factors <= d: L is lower triangular) takes the same value at every
     * node of one prefix, so its sums are taken once per prefix. */
    unsigned *pidx;        /* K x n                                            */
    size_t pmax;           /* the largest P_j                                  */
    /* e^{-b} (T) and each item's largest |b_h| (J), the same for every
     * person: taken once for the steps ebt_b points to (lsg_quad_steps),
     * else per person.  Whoever changes those steps in place calls
     * lsg_quad_steps again (or with NULL). */
    double *ebt;
    const double *ebt_b;
    double x1[64];
    size_t m1, mA, mB, h;
    /* A sparse grid (signed weights, m->mml_sparse): where its sum for a
     * person is not positive (the posterior far from the nodes' normal, as
     * at a line search's trial point), that person's integral is taken on
     * this product rule of 3 nodes per dimension on the same centre and
     * scale (centre and chol borrowed).  NULL for a product rule. */
    struct lsg_quad *fb;
    int probit;            /* the model's link (binary items)                   */
} lsg_quad;

/* log Phi(v), stable in both tails (GSL's log erfc), and *lam the inverse
 * Mills ratio phi(v) / Phi(v). */
double lsg_log_Phi(double v, double *lam);

int lsg_quad_init(lsg_quad *q, const lsg_model *m, unsigned nodes, ls_error *err);
void lsg_quad_free(lsg_quad *q);
/* Centre the nodes on the posterior mean and covariance of each person
 * (given initially by the GVEM q_i, later by the quadrature itself). */
void lsg_quad_center(lsg_quad *q, const double *mu, const double *S);
/*
 * Person i's marginal log-likelihood at (a, b, sigma) (sigma_inv and
 * logdet_sigma precomputed) and, when ga != NULL, its gradient: ga (J x K,
 * every entry), gb (T), and gs (K x K) the derivative in Sigma treated as
 * unsymmetric (symmetrise for correlations).  Only the entries of the
 * items person i answered are written in ga, gb and gshift (the others are
 * left as they were: the caller reads the same items' entries, so the cost
 * follows the observed responses).  shift (J, may be NULL) is
 * added to a_j' theta; with gshift != NULL (and ga) gshift_j receives the
 * derivative in shift_j.  post_mean, post_cov (may be
 * NULL): the posterior moments under the rule.  work: lsg_quad_work(q)
 * doubles.
 */
size_t lsg_quad_work(const lsg_quad *q);
/* Take e^{-b} once for the persons' integrals at the steps b (held until
 * the next call; NULL: none, each person takes them). */
void lsg_quad_steps(lsg_quad *q, const double *b);
double lsg_quad_person(const lsg_quad *q, size_t i, const double *a, const double *b,
                       const double *shift, double *gshift, const double *sigma_inv, double logdet_sigma, double *ga, double *gb,
                       double *gs, double *post_mean, double *post_cov, double *work);

/* ---------------------------------------------------------------- */
/* Simulation (spec "Checks")                                        */
/* ---------------------------------------------------------------- */

typedef struct lsg_sim {
    size_t N, J, K;
    int *Y;                /* N x J                                            */
    unsigned *P;           /* J                                                */
    int *pattern;          /* J x K                                            */
    double *a, *b, *sigma; /* truth: J x K, T (block layout), K x K            */
    double *theta;         /* N x K                                            */
    size_t *off;           /* J + 1                                            */
} lsg_sim;

/* Item j loads on dimension j mod K; the items of every third block of K
 * (j / K = 1, 4, 7, ..) also load on the next dimension (a few cross-loadings,
 * every dimension keeps items of its own);
 * slopes U(0.5, 1) (lo, hi), thresholds N(0, 1) (cumulated into b), latent
 * correlations U(0.2, 0.7) (redrawn until positive definite), each cell
 * missing with probability `missing`.  ncat_lo for the first half of the
 * items, ncat_hi for the rest. */
int lsg_simulate(size_t N, size_t J, size_t K, unsigned ncat_lo, unsigned ncat_hi, double missing,
                 uint64_t seed, lsg_sim *out, ls_error *err);
void lsg_sim_free(lsg_sim *s);

/* ---------------------------------------------------------------- */
/* Tasks (tasks/gpcm_mml.c)                                          */
/* ---------------------------------------------------------------- */

/* Marginal maximum likelihood from the GVEM estimates in m: adaptive
 * Gauss-Hermite quadrature (nodes per dimension) centred on each person's
 * posterior, L-BFGS on (free slopes, steps, correlations through a
 * row-normalised Cholesky factor; exploratory: Sigma = I), re-centred
 * between rounds.  m's a, b, sigma are replaced by the optimum and mu, S by
 * the quadrature posterior moments. */
int lsg_mml(lsg_model *m, unsigned nodes, double gtol, unsigned max_iter, ls_progress_fn progress,
            void *progress_ctx, double *loglik, unsigned *iters, int *converged, ls_error *err);
/* Marginal log-likelihood at m's estimates (quadrature centred on q_i) and,
 * when se_a != NULL, standard errors from the cross-product (outer product
 * of gradients, OPG) of the persons' scores: se_a (J x K, 0 for fixed
 * slopes), se_b (T, block layout), se_sigma (K x K; confirmatory only, may
 * be NULL).  cov_a (may be NULL; only with se_a): the na x na covariance of
 * the na free slopes, in row-major pattern order (the slope block of the
 * inverse information, so it accounts for the steps).  Returns
 * LS_ERR_NUMERIC when the information is singular. */
int lsg_marginal(const lsg_model *m, unsigned nodes, double *loglik, double *se_a, double *se_b,
                 double *se_sigma, double *cov_a, ls_error *err);
/* At m's estimates, in the layout of lsg_mml's parameter vector (free
 * slopes in pattern order, steps k >= 1 in block order, the correlation
 * factor's strict lower triangle when confirmatory with K > 1, then the
 * covariate coefficients: dif row-major J x p or lreg p x K): the vector
 * (*x, *D values), the observed information *H (D x D, with the nodes
 * adapted to the estimates and held: for binary items without latent
 * regression or correlations by Louis' identity, otherwise, or with
 * differences != 0, by central differences of the analytic gradient;
 * with equal_slopes the slopes are one value, the first)
 * and the cross-product of the persons' scores *S (D x D; zero in the
 * correlation slots), all allocated; *loglik.  With Louis' identity the
 * estimates first take one Newton step on it (kept when it raises the
 * log-likelihood): m and *x are then the polished estimates.  m->mu, m->S end as the
 * quadrature posterior moments. */
/* For tests: minus the mean marginal log-likelihood (*f) and its gradient g
 * (may be NULL) at x (lsg_mml's parameter layout, *D values; x NULL: m's
 * parameters), the nodes centred on m->mu, m->S and held. */
int lsg_mml_objective(lsg_model *m, unsigned nodes, const double *x, double *f, double *g, size_t *D,
                      ls_error *err);
int lsg_mml_information(lsg_model *m, unsigned nodes, int differences, size_t *D, double **x, double **H,
                        double **S, double *loglik, ls_error *err);

/* ---------------------------------------------------------------- */
/* Promax and its derivative (tasks/gpcm_fit.c)                      */
/* ---------------------------------------------------------------- */

/*
 * The reported exploratory solution: promax (Kaiser-normalised varimax
 * from the identity, R's stopping rule, then the power-4 Procrustes step)
 * of the unrotated slopes lam (J x K), columns oriented to positive sums.
 * a_rot (J x K), phi (K x K factor correlations), T (K x K, a_rot = lam T);
 * Tvar (K x K, the varimax rotation) and sgn (K column signs), both may be
 * NULL, hold the branch for lsg_rotation_jacobian.
 */
int lsg_promax(const double *lam, size_t J, size_t K, double *a_rot, double *phi, double *T,
               double *Tvar, double *sgn, ls_error *err);
/*
 * Jacobian of the rotated solution F(lam) = (a_rot row-major, J K values;
 * then phi_pq for p > q in row-major order, K(K-1)/2 values) with respect
 * to the free entries of lam (pattern != 0, row-major; na of them), by
 * central differences with steps eps (|lam_p| + 0.1).  Varimax is first
 * run from the reported rotation Tvar to its exact stationary point
 * (|change of the rotation| < 1e-13; R's rule stops near 1e-5), and every
 * perturbed rotation restarts from that point, runs to the same precision
 * and keeps the base column signs sgn, so the derivative is that of one
 * smooth branch (checked: every perturbed column keeps a congruence above
 * 0.99 with its base column).
 * G: (J K + K(K-1)/2) x na; F (may be NULL): F(lam) on that branch.
 * LS_ERR_NUMERIC when varimax does not converge
 * or a perturbation jumps to another branch.
 */
int lsg_rotation_jacobian(const double *lam, const int *pattern, size_t J, size_t K, const double *Tvar,
                          const double *sgn, double eps, double *G, double *F, ls_error *err);

/* ---------------------------------------------------------------- */
/* Data and fits behind the public handles                           */
/* ---------------------------------------------------------------- */

/* Scores behind the public handle (ls_gpcm_data_build, ls_gpcm_data_new).
 * The tests fill one directly (line and source may be NULL). */
struct ls_gpcm_data {
    size_t n, J;
    int *Y;               /* n x J scores 0..P_j, -1 = missing; NULL when the
                           * data hold the cells R only (the builders)          */
    ls_resp R;            /* the observed scores (rp NULL: take them from Y)     */
    unsigned *ncat;       /* J: number of categories P_j + 1 (>= 2)               */
    char **items;         /* J names                                             */
    size_t *line;         /* n source line numbers (NULL when not from a file)   */
    char *source;         /* file name (NULL: built from arrays)                 */
    double lowest;        /* the raw value scored 0                              */
    size_t p;             /* covariates (ls_gpcm_data_build_cov)                 */
    double *X;            /* n x p (NULL when p = 0)                             */
    char **covariates;    /* p names                                             */
};

/*
 * A fit (payload of a "gpcm-fit" result).  Arrays are row-major; step
 * parameters are stored J x (maxcat - 1) with b_j1..b_jP_j and NaN beyond an
 * item's categories.  Standard errors have the shapes of their estimates
 * (NULL when not computed); in exploratory mode they refer to the unrotated
 * solution (a_unrotated); those of the rotated solution are se_a_rot and
 * se_sigma_rot.
 */
typedef struct lsg_fit {
    size_t n, J, K, maxcat;
    int method, exploratory;
    unsigned *ncat;       /* J                                                    */
    int *pattern;         /* J x K: 1 = free loading                              */
    double *a;            /* J x K slopes (exploratory: promax-rotated)           */
    double *a_unrotated;  /* J x K, exploratory only (else NULL)                  */
    double *rotation;     /* K x K promax rotation T (a = a_unrotated T), or NULL */
    double *b;            /* J x (maxcat - 1) cumulative step parameters          */
    double *sigma;        /* K x K factor correlations                            */
    double *mu;           /* n x K posterior means (GVEM), in the reported frame  */
    double *se_a, *se_b;  /* J x K, J x (maxcat - 1)                              */
    double *se_sigma;     /* K x K (0 on the diagonal), confirmatory only          */
    double elbo;          /* GVEM evidence lower bound (full, with log-determinants) */
    double loglik;        /* marginal log-likelihood by adaptive quadrature (NaN if not computed) */
    double vbic;          /* -2 elbo + log(n) nparams                             */
    double bic;           /* -2 loglik + log(n) nparams (NaN without loglik)       */
    size_t nparams, nobs;
    unsigned iterations;  /* GVEM iterations of the best start                    */
    unsigned mml_iterations;
    unsigned starts, starts_at_best;
    double *start_elbo;   /* starts (NaN: broke down, or not run on all persons)  */
    unsigned screen_persons; /* the starts were screened on this many persons (0: not) */
    double *screen_elbo;  /* starts: their lower bounds there (NULL when not screened) */
    double *elbo_trace;   /* iterations + 1 values of the best start              */
    int monotone;         /* 1 when the lower bound never decreased (beyond 1e-9 relative) */
    int converged;
    uint64_t seed;
    double tol;
    unsigned nodes;
    double seconds_gvem, seconds_mml, seconds_se;
    double *se_a_rot;     /* J x K standard errors of the promax-rotated slopes a,
                           * exploratory fits with standard errors only (else NULL) */
    double *se_sigma_rot; /* K x K (0 on the diagonal) of the rotated correlations
                           * sigma; NULL exactly when se_a_rot is                */
    char **warnings;      /* nwarnings strings (e.g. a category never observed)    */
    size_t nwarnings;
    /* what the result's labels and file need (results.c) */
    char **items;         /* J                                                    */
    char *source;         /* NULL when the data were not read from a file         */
    double lowest;
    /* covariates (MML; p = 0 without): see ls_gpcm_run */
    size_t p;
    int covariate_mode, covariate_condition, dif_correction;
    double dif_alpha;
    char **covariates;    /* p                                                    */
    double *dif, *se_dif; /* J x p raw-scale item effects (DIF mode)              */
    double *dif_z, *dif_p, *dif_padj; /* J x p                                    */
    int *dif_flag, *dif_fixed;        /* J x p                                    */
    double *A, *se_A;     /* p x K factor means per unit of each covariate        */
    int has_lr;           /* the likelihood-ratio test of no DIF ran (dif_lr)     */
    double loglik_nodif, lr_dif, lr_p;
    size_t lr_df;
} lsg_fit;

/* The fit (ls_gpcm_run without the result around it): fills *out (free
 * with lsg_fit_free), also when the iterations did not converge; items and
 * source are left NULL. */
int lsg_run(const ls_gpcm_data *d, const int *pattern, const ls_gpcm_options *o, lsg_fit *out,
            ls_error *err);
void lsg_fit_free(lsg_fit *f);
/* With covariates (covariates.c): after lsg_mml on m (covariates attached,
 * standardised by means xm and sds xs), the reported slopes, steps (at
 * x = 0), effects and A, their standard errors from the observed
 * information (unless o->skip_se; then loglik stays lsg_mml's) and the DIF
 * tests, into out (a and b allocated by the caller). */
int lsg_cov_finish(lsg_model *m, unsigned nodes, const ls_gpcm_options *o, const double *xm, const double *xs,
                   lsg_fit *out, ls_error *err);
/* Starting values in a (J x K) and b (T) for m from the data: steps from the
 * category frequencies, slopes from the leading eigenvectors of the item
 * correlations (exploratory: the first K items' block lower triangular). */
int lsg_data_start(const ls_gpcm_data *d, const lsg_model *m, double *a, double *b, ls_error *err);
/* The JSON of a fit (io.c), atomically; the writer of "gpcm-fit" results. */
int lsg_write_json(const lsg_fit *f, const char *path, const char *argv_json, ls_error *err);

/* Append a formatted warning to f->warnings; LS_ERR_NOMEM on failure. */
int lsg_fit_warn(lsg_fit *f, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Block offsets for P (J values) into off (J + 1). */
void lsg_offsets(const unsigned *P, size_t J, size_t *off);

#endif
