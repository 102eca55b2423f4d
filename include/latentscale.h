/*
 * latentscale.h -- the one public header of latentscale.
 *
 * latentscale fits latent-variable models to benchmark and assessment data.
 * The flagship is the latent-variable scaling law for LLM families
 * (Cai et al., arXiv 2512.06553): every family f has a latent skill vector
 * alpha_f ~ N_K(0, Sigma); model i has skills theta_i = B^T x_i + alpha_f(i);
 * its score on benchmark j is Beta(phi_j mu_ij, phi_j (1 - mu_ij)) with
 * mu_ij = c_j + (1 - c_j) logistic(lambda_j^T theta_i + b_j).
 *
 * Contract (same for every function below):
 *   - functions return an int status (LS_OK == 0 on success);
 *   - on failure they fill the caller's ls_error (if non-NULL) with a
 *     one-line message and leave every output pointer NULL / untouched;
 *   - the library never prints, never exits, never aborts and keeps no
 *     global mutable state; randomness comes only from explicit seeds;
 *   - objects are opaque, created by *_new / *_read / *_run and released by
 *     the matching *_free, which accepts NULL;
 *   - numbers cross the API as plain double arrays, row-major, with sizes.
 */
#ifndef LATENTSCALE_H
#define LATENTSCALE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LS_VERSION "0.1.0"

/* ------------------------------------------------------------------ */
/* Status codes and errors                                            */
/* ------------------------------------------------------------------ */

enum ls_status {
    LS_OK = 0,
    LS_ERR_IO = 1,       /* a file could not be read or written        */
    LS_ERR_PARSE = 2,    /* malformed input text (CSV, JSON)           */
    LS_ERR_INPUT = 3,    /* well-formed input with invalid content     */
    LS_ERR_OPTION = 4,   /* an option value is invalid                 */
    LS_ERR_NOMEM = 5,    /* allocation failed                          */
    LS_ERR_NUMERIC = 6,  /* degenerate data or a numerical breakdown   */
    LS_ERR_NOCONV = 7,   /* the optimiser did not converge             */
    LS_ERR_CANCEL = 8    /* the progress callback asked to stop        */
};

#define LS_ERROR_LEN 512

/* Filled by a failing call; the caller owns it (usually on the stack). */
typedef struct ls_error {
    int code;
    char message[LS_ERROR_LEN];
} ls_error;

/* Short name of a status code ("io", "parse", ...); static storage. */
const char *ls_status_name(int code);

/*
 * Progress: called from long computations with a stage name, the work done
 * and the total (total may be 0 when unknown).  Return non-zero to cancel;
 * the computation then stops at the next safe point and returns
 * LS_ERR_CANCEL.  Called from the calling thread only.
 */
typedef int (*ls_progress_fn)(void *ctx, const char *stage, double done, double total);

/* ------------------------------------------------------------------ */
/* Tables: a parsed CSV file (module data/csv)                         */
/* ------------------------------------------------------------------ */

typedef struct ls_table ls_table;

/*
 * Read an RFC 4180 CSV file with a header row.  Accepts a UTF-8 BOM, CRLF
 * line ends, quoted fields with embedded commas, quotes and newlines.
 * Rejects: an empty file, duplicate or empty column names, ragged rows,
 * NUL bytes, invalid UTF-8.  Errors name the file, line and column.
 * On success *out owns a new table; free it with ls_table_free.
 */
int ls_table_read(const char *path, ls_table **out, ls_error *err);
/* Same, from memory; `name` is used in messages (e.g. "<stdin>"). */
int ls_table_parse(const char *buf, size_t len, const char *name, ls_table **out,
                   ls_error *err);
void ls_table_free(ls_table *t);

size_t ls_table_nrow(const ls_table *t);
size_t ls_table_ncol(const ls_table *t);
/* Column name (borrowed, valid while t lives). */
const char *ls_table_colname(const ls_table *t, size_t col);
/* Index of a column by exact name, or -1. */
long ls_table_find(const ls_table *t, const char *name);
/* Raw cell text (borrowed, never NULL; "" for an empty cell). */
const char *ls_table_cell(const ls_table *t, size_t row, size_t col);
/* 1-based line number where a data row starts in the source file. */
size_t ls_table_line(const ls_table *t, size_t row);
/* File name the table was read from (borrowed). */
const char *ls_table_name(const ls_table *t);

/*
 * Parse a numeric cell.  Empty cells and "NA" are missing (*missing = 1,
 * *value = NaN).  Anything else that is not a finite decimal number is an
 * error naming file, line, column and the text found.
 */
int ls_table_number(const ls_table *t, size_t row, size_t col, double *value, int *missing,
                    ls_error *err);

/* Build a table in memory (for simulation): ncol names, cells added later. */
int ls_table_new(const char *name, size_t ncol, const char *const *colnames, ls_table **out,
                 ls_error *err);
/* Append one row of ncol strings (copied). */
int ls_table_append(ls_table *t, const char *const *cells, ls_error *err);
/* Write as CSV, atomically (temporary file in the same folder, then rename). */
int ls_table_write(const ls_table *t, const char *path, ls_error *err);

/* ------------------------------------------------------------------ */
/* Scaling-law data (module data/leaderboard)                          */
/* ------------------------------------------------------------------ */

typedef struct ls_data ls_data;

typedef struct ls_data_options {
    /* Comma-separated benchmark columns in model order (the first K are the
     * anchors unless the fit names others).  NULL: every numeric column that
     * is not model, family or a covariate source, in file order. */
    const char *benchmarks;
    /* Comma-separated covariate terms.  A term is a column name, log(col),
     * or a product of such factors joined by '*', e.g.
     * "log(size),log(tokens),log(size)*log(tokens)" (the default, NULL). */
    const char *covariates;
    /* CSV with columns benchmark,floor (NULL: all floors 0). */
    const char *floors_file;
    /* Comma-separated name=value floor overrides, applied after the file. */
    const char *floors;
    /* Scores at or beyond 0 and 1 are clipped into [clip, 1 - clip]. */
    double clip;
    /* Name of the model and family columns ("model", "family"). */
    const char *model_column;
    const char *family_column;
} ls_data_options;

/* Documented defaults: benchmarks NULL, covariates NULL (log size, log tokens,
 * product), no floors, clip 0.001, "model", "family". */
void ls_data_options_init(ls_data_options *o);

/* Build the model's data from a table.  The table is only read. */
int ls_data_build(const ls_table *t, const ls_data_options *o, ls_data **out, ls_error *err);
void ls_data_free(ls_data *d);

size_t ls_data_nmodels(const ls_data *d);
size_t ls_data_nfamilies(const ls_data *d);
size_t ls_data_nbenchmarks(const ls_data *d);
size_t ls_data_ncovariates(const ls_data *d);
size_t ls_data_nobserved(const ls_data *d);   /* observed score cells  */
size_t ls_data_nclipped(const ls_data *d);    /* cells clipped         */
size_t ls_data_nduplicates(const ls_data *d); /* repeated model names  */
const char *ls_data_benchmark(const ls_data *d, size_t j);
const char *ls_data_covariate(const ls_data *d, size_t k);
const char *ls_data_family(const ls_data *d, size_t f);
const char *ls_data_model(const ls_data *d, size_t i);
double ls_data_floor(const ls_data *d, size_t j);

/* ------------------------------------------------------------------ */
/* Scaling-law parameters (natural scale)                              */
/* ------------------------------------------------------------------ */

/*
 * Plain parameter block; arrays are row-major and owned by whoever
 * allocated the block (ls_params_alloc / ls_params_free for the library's).
 *   beta   p x K   covariate effects on the skills
 *   lambda K x J   loadings (anchor columns diagonal, positive)
 *   b      J       intercepts
 *   phi    J       Beta precisions
 *   sigma  K x K   skill correlation matrix
 * `anchors` (K entries) gives the benchmark index anchoring each skill.
 */
typedef struct ls_params {
    size_t K, J, p;
    double *beta, *lambda, *b, *phi, *sigma;
    size_t *anchors;
} ls_params;

int ls_params_alloc(ls_params *pr, size_t K, size_t J, size_t p, ls_error *err);
void ls_params_free(ls_params *pr);
/* Number of free parameters: K(K-1)/2 + pK + K + K(J-K) + 2J. */
size_t ls_params_count(size_t K, size_t J, size_t p);

/* ------------------------------------------------------------------ */
/* Fitting (modules models/scaling, integration, optimisation)         */
/* ------------------------------------------------------------------ */

enum ls_integration {
    LS_INT_AUTO = 0,    /* Gauss-Hermite for K <= 3, quasi-Monte Carlo above */
    LS_INT_LAPLACE = 1, /* one node at the mode: the Laplace approximation  */
    LS_INT_GH = 2,      /* adaptive Gauss-Hermite product grid              */
    LS_INT_QMC = 3      /* adaptive randomised Sobol points, mirrored        */
};

typedef struct ls_fit_options {
    size_t skills;       /* K >= 1, <= number of benchmarks            */
    const char *anchors; /* comma-separated anchor benchmarks, NULL = first K */
    unsigned starts;     /* seeded starts (default 8)                  */
    uint64_t seed;       /* default 1                                  */
    int integration;     /* enum ls_integration, default AUTO          */
    unsigned nodes;      /* GH nodes per dimension or QMC points; 0 = auto */
    unsigned threads;    /* worker threads, 0 = all cores              */
    double gtol;         /* convergence: max |gradient| <= gtol (1e-2) */
    unsigned max_iter;   /* per start (default 3000)                   */
    int skip_se;         /* 1: no standard errors (they cost 2 x dim evaluations) */
    double logit_clamp;  /* > 0: clip each linear predictor eta into [-c, c] before the
                          * logistic, as the reference implementation's published
                          * AIC table did (c = 4.5); 0 (default): the model as specified */
    ls_progress_fn progress;
    void *progress_ctx;
} ls_fit_options;

void ls_fit_options_init(ls_fit_options *o);

typedef struct ls_fit ls_fit;

/* Fit the scaling law to d.  On success *out owns a new fit, even when the
 * optimiser did not converge (check ls_fit_converged). */
int ls_fit_run(const ls_data *d, const ls_fit_options *o, ls_fit **out, ls_error *err);
void ls_fit_free(ls_fit *f);

double ls_fit_loglik(const ls_fit *f);
size_t ls_fit_nparams(const ls_fit *f);
double ls_fit_aic(const ls_fit *f);
double ls_fit_bic(const ls_fit *f);
int ls_fit_converged(const ls_fit *f);
double ls_fit_gradnorm(const ls_fit *f);   /* max |gradient| at the optimum */
unsigned ls_fit_iterations(const ls_fit *f);
unsigned ls_fit_starts_at_best(const ls_fit *f);
/* Estimates on the raw covariate scale (beta) -- borrowed, valid while f lives. */
const ls_params *ls_fit_params(const ls_fit *f);
/* beta on the standardised covariate scale (p x K), borrowed. */
const double *ls_fit_beta_std(const ls_fit *f);
/* Posterior mode of family f's alpha (K values), borrowed. */
const double *ls_fit_family_mode(const ls_fit *f, size_t family);
/* Per-family marginal log-likelihood at the optimum, borrowed (F values). */
const double *ls_fit_family_loglik(const ls_fit *f);
/* Warnings gathered during the fit (clipping, convergence, ...), borrowed. */
size_t ls_fit_nwarnings(const ls_fit *f);
const char *ls_fit_warning(const ls_fit *f, size_t i);
/* Unconstrained optimum (ls_model_dim values), borrowed. */
const double *ls_fit_theta(const ls_fit *f);

/* Standard errors on the natural scales, in the order beta (p x K, raw log
 * scale), lambda (K x J; fixed entries 0), b (J, raw), phi (J), sigma
 * (K x K): from the inverse observed information (Hessian), the inverse
 * outer product of family scores (OPG) or the sandwich of the two.  NULL
 * when not computed (skip_se) or when that matrix is singular. */
enum ls_se_kind { LS_SE_HESSIAN = 0, LS_SE_OPG = 1, LS_SE_SANDWICH = 2 };
const double *ls_fit_se(const ls_fit *f, int kind);
/* Wall-clock seconds of the search, the polish, the standard errors and the
 * whole fit (kept out of the JSON, which is reproducible byte for byte). */
void ls_fit_timing(const ls_fit *f, double *search, double *polish, double *se, double *total);

/* Write the fit as JSON, atomically.  `argv_json` (may be NULL) is a JSON
 * object text recorded under "options" next to the library's own options. */
int ls_fit_write_json(const ls_fit *f, const ls_data *d, const char *path,
                      const char *argv_json, ls_error *err);

/* ------------------------------------------------------------------ */
/* Likelihood access (for tests, benchmarks and the Python binding)     */
/* ------------------------------------------------------------------ */

typedef struct ls_model ls_model;

/* A likelihood evaluator for d with K skills and the given integration. */
int ls_model_new(const ls_data *d, size_t K, const char *anchors, int integration,
                 unsigned nodes, unsigned threads, ls_model **out, ls_error *err);
void ls_model_free(ls_model *m);
size_t ls_model_dim(const ls_model *m);
/* Unconstrained parameter vector <-> natural parameters (standardised x). */
int ls_model_pack(const ls_model *m, const ls_params *pr, double *theta, ls_error *err);
int ls_model_unpack(const ls_model *m, const double *theta, ls_params *pr);
/* Marginal log-likelihood and (if grad != NULL) its gradient in theta.
 * family_ll (may be NULL) receives the F per-family terms. */
int ls_model_loglik(ls_model *m, const double *theta, double *ll, double *grad,
                    double *family_ll, ls_error *err);

/* ------------------------------------------------------------------ */
/* Simulation (module tasks/simulate)                                  */
/* ------------------------------------------------------------------ */

typedef struct ls_sim_options {
    size_t families;   /* number of families (default 60)               */
    size_t skills;     /* K (default 3)                                 */
    size_t benchmarks; /* J (default 12)                                */
    double missing;    /* share of (model, benchmark-block) cells never run (0.3) */
    uint64_t seed;     /* default 1                                     */
    const ls_params *truth; /* NULL: draw realistic random parameters   */
} ls_sim_options;

void ls_sim_options_init(ls_sim_options *o);

/*
 * Draw a synthetic leaderboard: families of varying size (many singletons),
 * sizes 0.1-200 B parameters, 0.1-20 T tokens, missing blocks.  *table gets
 * columns model,family,size,tokens,bench1..benchJ; *truth (allocated, free
 * with ls_params_free) the true parameters on the raw log scale, with the
 * default covariates; *floors (J values, caller frees with free()) the
 * guessing floors used.
 */
int ls_simulate(const ls_sim_options *o, ls_table **table, ls_params *truth, double **floors,
                ls_error *err);
/* Write true parameters as JSON, atomically. */
int ls_params_write_json(const ls_params *pr, const ls_table *t, const double *floors,
                         const char *path, const char *argv_json, ls_error *err);

#ifdef __cplusplus
}
#endif
#endif /* LATENTSCALE_H */
