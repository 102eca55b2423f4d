/*
 * fit.h -- the factor family's private side of its public handles: the data
 * behind ls_factor_data and the payloads of its results (kinds
 * "factor-fit", "factor-dif", "factor-selection"), the pieces shared by
 * fit.c, io.c, simulate.c, the tests and the benchmark.
 */
#ifndef LS_FACTOR_FIT_H
#define LS_FACTOR_FIT_H

#include "factor/model.h"
#include "kernel/result.h"
#include "kernel/rng.h"
#include "kernel/sparse.h"

/* Responses and covariates behind the public handle (ls_factor_data_build,
 * ls_factor_data_new).  The tests and benchmarks make one over simulated
 * arrays with lsf_data_view (items, covariates, line and source NULL). */
struct ls_factor_data {
    size_t n, q, p;
    ls_resp R;            /* the observed responses, by person and by item      */
    double *X;            /* n x p covariates (raw scale), may be NULL when p = 0 */
    char **items;         /* q names (NULL: "item1".. in results)              */
    char **covariates;    /* p names (NULL: "x1"..)                            */
    size_t *line;         /* n source line numbers (NULL when not from a file) */
    char *source;         /* file name (NULL: built from arrays)               */
};

/*
 * A fit (payload of a "factor-fit" result), in the identified
 * parametrisation.  Arrays are row-major; the standard errors have the
 * shapes of their estimates and are NULL with skip_se.  d = r + p + 1.
 */
/* A standard error above this times the coefficients' bound is absurd: the
 * coefficient is not identified by the data (3 persons x 10 items with 2
 * factors gave 6e7 at bound 5). */
#define LSF_SE_ABSURD 1e3
/* The bound that rule measures against: the fit's box, or 5 for marginal
 * ML, which has none. */
static inline double lsf_se_bound(double bound) { return bound > 0 ? bound : 5.0; }
/* Anchors nearly collinear below this smallest eigenvalue of their unit
 * loading vectors' Gram matrix (r = 2: |cos| of their angle above 0.9). */
#define LSF_ANCHOR_GRAM_MIN 0.1

/* The cross-validated choice of the ridge (ls_factor_options.ridge = -1,
 * ridge.c; docs/FACTOR.md): K folds of observed responses, every ridge of a
 * log grid fitted on the training responses of each fold and scored by the
 * held-out responses' predictive log-likelihood. */
#define LSF_CV_FOLDS 5
/* The grid in eighths of a decade: 10^(e/8) for e in [LSF_CV_EMIN, LSF_CV_EMAX]
 * (0.01 to 1000); the search starts at 0.1 .. 100 by half decades. */
#define LSF_CV_EMIN (-16)
#define LSF_CV_EMAX 24
#define LSF_CV_NGRID (LSF_CV_EMAX - LSF_CV_EMIN + 1)
typedef struct lsf_ridge_cv {
    unsigned folds;       /* 0: the ridge was given, no cross-validation        */
    size_t m;             /* ridges tried, increasing                           */
    double grid[LSF_CV_NGRID];  /* the ridges                                   */
    double score[LSF_CV_NGRID]; /* mean held-out log-likelihood per response    */
    double se[LSF_CV_NGRID];    /* its standard error: SD of the fold means / sqrt(K) */
    unsigned unconverged[LSF_CV_NGRID]; /* folds whose fit did not converge    */
    size_t best;          /* index of the chosen ridge (the best mean score)    */
    size_t heldout;       /* responses held out, over all folds                 */
    size_t kept;          /* responses never held out (a person's or an item's last) */
    unsigned fits;        /* fits run                                           */
} lsf_ridge_cv;

/* Choose the ridge for d under o (joint ML; o->ridge is ignored) by
 * cross-validation: fills *cv; the choice is cv->grid[cv->best].  bound is
 * the coefficients' bound of the fits.  Deterministic given o->seed,
 * whatever the number of threads; interruptible through o->progress
 * (LS_ERR_CANCEL). */
int lsf_ridge_cv_run(const ls_factor_data *d, const ls_factor_options *o, double bound, lsf_ridge_cv *cv,
                     ls_error *err);
/* Stratified folds of d's responses (person order, d->R.rv's): fold[k] in
 * 0..K-1, or K for a response never held out (a person's only one, or the
 * last of an item in a fold's training responses).  (ridge.c; tests) */
int lsf_ridge_folds(const ls_resp *R, int family, unsigned K, uint64_t seed, unsigned char *fold, ls_error *err);

typedef struct lsf_fit {
    size_t n, q, p, r;
    int family, identify, covariate_condition;
    int method;           /* LS_FACTOR_JML or LS_FACTOR_MML (auto resolved)    */
    const char *method_reason; /* why auto chose it (static; NULL: asked for)   */
    unsigned nodes;       /* MML: Gauss-Hermite nodes per factor                */
    double aic, bic;      /* MML: -2 l + 2 k, -2 l + k log n (NaN under JML)    */
    double loglik_nodif;  /* MML with covariates: the model without DIF (the
                           * covariates move the factor means only)          */
    double lr_dif, lr_p;  /* its likelihood-ratio statistic and p-value (NaN: none) */
    size_t lr_df;
    double *se_gamma_sw, *se_beta_sw; /* MML: sandwich standard errors (NULL: none) */
    size_t *anchors;      /* r                                                  */
    double *U;            /* n x r factor scores                                */
    double *gamma;        /* q x r loadings                                     */
    double *beta;         /* q x (p+1): intercept, then covariate effects       */
    double *dispersion;   /* q: Gaussian variances (1 for the other families)   */
    double *factor_cov;   /* r x r: U'U/n (U centred), de-noised when scale_corrected */
    double *factor_cor;   /* r x r correlations                                 */
    double *A;            /* p x r: the covariate transformation applied, U += x A' */
    double *se_U, *se_gamma, *se_beta;
    double *se_gamma_naive; /* q x r: loadings' sandwich without the anchor term */
    double loglik, jic;
    size_t nobs, nparams;
    unsigned iterations, starts, starts_at_best;
    double *start_loglik; /* starts                                             */
    int converged;
    size_t at_bound;      /* coefficients held at the bound                     */
    uint64_t seed;
    double tol, bound, ridge;
    lsf_ridge_cv ridge_cv; /* how the ridge was chosen (ridge_cv.folds 0: given) */
    int scale_corrected;  /* the finite-q scale correction was applied        */
    unsigned loading_bootstrap; /* bootstrap replicates used for the loadings (0: none) */
    unsigned bootstrap_skipped; /* replicates the default or the option asked for but
                           * not run: the fit did not converge (0: none skipped) */
    double anchor_gram_min; /* anchor conditions, r > 1: smallest eigenvalue of the
                           * Gram matrix of the anchors' unit loading vectors
                           * (near 0: nearly collinear anchors); NaN otherwise */
    size_t n_empty;       /* persons with no responses: scores and their
                           * standard errors NaN                                */
    double *gamma_ml;     /* q x r: the loadings before the bootstrap bias
                           * correction (NULL without it)                      */
    double *se_gamma_analytic; /* q x r: the analytic (delta-method) standard
                           * errors (NULL without the bootstrap)               */
    size_t nse_bad;       /* loadings and coefficients whose standard errors are
                           * unusable (zero, not finite or absurd: now NaN)     */
    size_t *se_bad;       /* their indices: j r + a (loading), q r + j (p+1) + s */
    size_t nse_bad_scores; /* factor scores' standard errors set to NaN alike  */
    /* the names the result's labels and file need (ls_factor_run) */
    char **items;         /* q                                                  */
    char **covariates;    /* p                                                  */
    char **terms;         /* p + 1: "(intercept)", then the covariates          */
    char *source;         /* NULL when the data were not read from a file       */
} lsf_fit;

/* Tests of differential item functioning (payload of "factor-dif"): q x p
 * arrays, the effects and their standard errors copied from the fit. */
typedef struct lsf_dif {
    size_t q, p;
    double alpha;
    int correction;       /* the correction used for `flag`                    */
    double *effect, *se;  /* q x p                                             */
    double *z, *pvalue;   /* q x p                                             */
    int *flag;            /* q x p, by `correction`                            */
    int *flag_bonferroni, *flag_bh;
    char **items, **covariates;
} lsf_dif;

/* The number of factors by JIC, or by BIC under marginal ML (payload of
 * "factor-selection"). */
typedef struct lsf_selection {
    size_t nr;
    size_t *r;
    double *loglik, *jic, *bic; /* jic NaN under MML, bic NaN under JML          */
    int *converged;
    int mml;              /* the fits are marginal ML: the criterion is BIC     */
    size_t best;          /* index of the smallest criterion among the converged fits (all, when none is) */
} lsf_selection;

/* The estimator lsf_run uses for d and o (o->method, or auto's choice with
 * *reason set to a static sentence). */
int lsf_choose_method(const ls_factor_data *d, const ls_factor_options *o, const char **reason);
/* Marginal ML integrates the factors on the product Gauss-Hermite rule up
 * to LSF_MML_PRODUCT_R factors, above on a Smolyak sparse grid (default
 * level LSF_MML_SPARSE_LEVEL: largest one-dimensional rule 7 nodes), up to
 * LSF_MML_MAX_R factors. */
#define LSF_MML_PRODUCT_R 3
#define LSF_MML_MAX_R 6
#define LSF_MML_SPARSE_LEVEL 3
/* Why o cannot be fitted by marginal ML (a static sentence), or NULL. */
const char *lsf_mml_unsupported(const ls_factor_options *o);
/* The marginal-ML fit (mml.c), reached through lsf_run after its checks;
 * its engine keeps the observed responses only. */
int lsf_mml_run(const ls_factor_data *d, const ls_factor_options *o, const char *reason, lsf_fit *out,
                ls_error *err);

/* The fit itself (ls_factor_run without the result around it): fills *out
 * (free with lsf_fit_free) on success; names are left NULL. */
int lsf_run(const ls_factor_data *d, const ls_factor_options *o, lsf_fit *out, ls_error *err);
void lsf_fit_free(lsf_fit *f);
/* Standard errors that are zero (for a coefficient the identification does
 * not fix), not finite or above LSF_SE_ABSURD x f->bound become NaN
 * (printed as nan, null in JSON); the loadings and coefficients among them
 * are listed in f->se_bad (j r + a for loading (j, a), q r + j (p+1) + s for
 * coefficient s of item j's (1, x)), the scores' counted in
 * f->nse_bad_scores.  Non-zero on a failed allocation.  (lsf_run) */
int lsf_unusable_se(lsf_fit *f);

/* The checks of the options that need the data (factors against items and
 * persons, covariates, anchors); ls_factor_options_check first. */
int lsf_check_data(const ls_factor_data *d, const ls_factor_options *o, ls_error *err);

/* The factor JSON (io.c) of a fit with its DIF tests and selection (each
 * may be NULL), atomically, with the warnings of result warn (the fit's;
 * NULL: none) as "warnings"; also the writer of "factor-fit" results. */
int lsf_write_json(const lsf_fit *f, const lsf_dif *dif, const lsf_selection *sel, const ls_result *warn,
                   const char *path, const char *argv_json, ls_error *err);

/* One start of the alternating fit on m (start 0: the SVD start; others
 * perturbed): sweeps until the relative change of the log-likelihood is
 * below o->tol or o->max_iter.  *ll_out gets the final log-likelihood. */
int lsf_fit_start(lsf_model *m, const ls_factor_options *o, unsigned start, double *ll_out,
                  unsigned *iters, int *converged, ls_error *err);

/* Put parameters (U n x r, gamma q x r, beta q x (p+1); changed in place)
 * in the identification of o (covariate condition, then o->identify with
 * o->anchors): for comparing a simulation's truth with the estimates. */
int lsf_identify_params(const ls_factor_data *d, size_t r, const ls_factor_options *o, double *U, double *gamma, double *beta,
                        ls_error *err);

/* d over simulated arrays: the responses built from Y (n x q, NaN =
 * missing; owned by d, freed by lsf_data_view_free), X (n x p) borrowed.
 * LS_OK or LS_ERR_NOMEM. */
int lsf_data_view(ls_factor_data *d, size_t n, size_t q, size_t p, const double *Y, double *X);
void lsf_data_view_free(ls_factor_data *d);

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
double lsf_sim_draw(int family, double w, double s2, ls_rng *g);

#endif
