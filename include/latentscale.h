/*
 * latentscale.h -- the one public header of latentscale.
 *
 * latentscale fits latent-variable models to benchmark and assessment data.
 * The flagship is the latent-variable scaling law for LLM families
 * (Cai et al., arXiv 2512.06553): every family f has a latent skill vector
 * alpha_f ~ N_K(0, Sigma); model i has skills theta_i = B^T x_i + alpha_f(i);
 * its score on benchmark j is Beta(phi_j mu_ij, phi_j (1 - mu_ij)) with
 * mu_ij = c_j + (d_j - c_j) logistic(lambda_j^T theta_i + b_j) (ceiling d_j: 1 unless given).
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

/* Every function of this header is exported from the shared library, and
 * nothing else is: the library is built with hidden visibility (the test
 * exported_symbols compares the two lists). */
#if defined(__GNUC__)
#define LS_API __attribute__((visibility("default")))
#else
#define LS_API
#endif

#define LS_VERSION "0.19.0"

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

/* The library's version string (LS_VERSION when the header matches). */
LS_API const char *ls_version(void);

/* Short name of a status code ("io", "parse", ...); static storage. */
LS_API const char *ls_status_name(int code);

/*
 * Progress: called from long computations with a stage name, the work done
 * and the total (total may be 0 when unknown).  Return non-zero to cancel;
 * the computation then stops at the next safe point and returns
 * LS_ERR_CANCEL.  Called from the calling thread only.
 */
typedef int (*ls_progress_fn)(void *ctx, const char *stage, double done, double total);

/* ------------------------------------------------------------------ */
/* Results: one convention for every task of every family              */
/* ------------------------------------------------------------------ */

/*
 * Every task (posterior, prediction, evaluation, selection, allocation,
 * comparison, factor fit, DIF tests, factor selection, partial credit fit)
 * returns an opaque ls_result, released by ls_result_free: a kind
 * ("posterior", "prediction", ...) and named entries, in the order the
 * task's documentation lists.  An entry holds numbers (rows x cols doubles,
 * row-major; a scalar is 1 x 1; counts, flags and indices are exact in
 * doubles; NaN where a value does not exist) or strings.  An entry may name
 * the string entries that label its rows and its columns ("loadings": rows
 * "items", columns "factors"), so a binding can build labelled matrices and
 * data frames without knowing the task.  Everything is borrowed from the
 * result: valid while it lives.  Warnings (conditions the user should know
 * of, e.g. a fit that did not converge) are listed with the result.
 */
typedef struct ls_result ls_result;
enum ls_entry_type { LS_ENTRY_NONE = 0, LS_ENTRY_NUMBERS = 1, LS_ENTRY_STRINGS = 2 };
LS_API const char *ls_result_kind(const ls_result *r);
LS_API size_t ls_result_nentries(const ls_result *r);
/* Name of entry i (NULL for i >= ls_result_nentries). */
LS_API const char *ls_result_entry(const ls_result *r, size_t i);
/* enum ls_entry_type of the entry called name (LS_ENTRY_NONE when absent). */
LS_API int ls_result_type(const ls_result *r, const char *name);
/* Numbers of an entry and its shape (NULL and 0 x 0 when absent or strings). */
LS_API const double *ls_result_numbers(const ls_result *r, const char *name, size_t *rows, size_t *cols);
/* The first number of an entry (NaN when absent). */
LS_API double ls_result_number(const ls_result *r, const char *name);
/* Strings of an entry: their count, and string i (NULL beyond). */
LS_API size_t ls_result_nstrings(const ls_result *r, const char *name);
LS_API const char *ls_result_string(const ls_result *r, const char *name, size_t i);
/* Names of the entries labelling the rows and the columns (NULL: none). */
LS_API const char *ls_result_row_labels(const ls_result *r, const char *name);
LS_API const char *ls_result_col_labels(const ls_result *r, const char *name);
LS_API size_t ls_result_nwarnings(const ls_result *r);
LS_API const char *ls_result_warning(const ls_result *r, size_t i);
/* Write the result atomically: format "json" (NULL) or, for predictions,
 * "csv" (one row per model and benchmark).  Every file records the version,
 * the seed and the options (argv_json: a JSON array or object text, may be
 * NULL).  No file is created or changed on failure. */
LS_API int ls_result_write(const ls_result *r, const char *path, const char *format,
                    const char *argv_json, ls_error *err);
LS_API void ls_result_free(ls_result *r);

/* Write len bytes to path atomically (a temporary file in the same folder,
 * flushed, then renamed): on failure no file is created or changed. */
LS_API int ls_write_file(const char *path, const void *buf, size_t len, ls_error *err);

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
LS_API int ls_table_read(const char *path, ls_table **out, ls_error *err);
/* Same, from memory; `name` is used in messages (e.g. "<stdin>"). */
LS_API int ls_table_parse(const char *buf, size_t len, const char *name, ls_table **out,
                   ls_error *err);
LS_API void ls_table_free(ls_table *t);

LS_API size_t ls_table_nrow(const ls_table *t);
LS_API size_t ls_table_ncol(const ls_table *t);
/* Column name (borrowed, valid while t lives). */
LS_API const char *ls_table_colname(const ls_table *t, size_t col);
/* Index of a column by exact name, or -1. */
LS_API long ls_table_find(const ls_table *t, const char *name);
/* Raw cell text (borrowed, never NULL; "" for an empty cell). */
LS_API const char *ls_table_cell(const ls_table *t, size_t row, size_t col);
/* 1-based line number where a data row starts in the source file. */
LS_API size_t ls_table_line(const ls_table *t, size_t row);
/* File name the table was read from (borrowed). */
LS_API const char *ls_table_name(const ls_table *t);

/*
 * Parse a numeric cell.  Empty cells and "NA" are missing (*missing = 1,
 * *value = NaN).  Anything else that is not a finite decimal number is an
 * error naming file, line, column and the text found.
 */
LS_API int ls_table_number(const ls_table *t, size_t row, size_t col, double *value, int *missing,
                    ls_error *err);

/* Build a table in memory (for simulation): ncol names, cells added later. */
LS_API int ls_table_new(const char *name, size_t ncol, const char *const *colnames, ls_table **out,
                 ls_error *err);
/* Append one row of ncol strings (copied). */
LS_API int ls_table_append(ls_table *t, const char *const *cells, ls_error *err);
/* Write as CSV, atomically (temporary file in the same folder, then rename). */
LS_API int ls_table_write(const ls_table *t, const char *path, ls_error *err);

/* ------------------------------------------------------------------ */
/* Scaling-law data (module data/leaderboard)                          */
/* ------------------------------------------------------------------ */

typedef struct ls_data ls_data;

typedef struct ls_data_options {
    /* Comma-separated benchmark columns in model order (the first K are the
     * anchors unless the fit names others or chooses them, anchors "auto").
     * NULL: every numeric column that is not model, family or a covariate
     * source, in file order. */
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
    /* Ceilings d_j, the upper asymptote of the mean c_j + (d_j - c_j)
     * logistic(eta): CSV with columns benchmark,ceiling (NULL: all 1, the
     * paper's model), then comma-separated name=value overrides. */
    const char *ceilings_file;
    const char *ceilings;
    /* Names of the size (billions of parameters) and tokens (trillions)
     * columns ("size", "tokens"): a covariate factor written size or tokens
     * (as in the default terms log(size), log(tokens)) reads these columns. */
    const char *size_column;
    const char *tokens_column;
    /* 0 (default): a row without a covariate value (size, tokens) or a family
     * without a score on the chosen benchmarks is an error.  1: such rows and
     * families are dropped, with a warning naming them (ls_data_ndropped). */
    int drop_incomplete;
} ls_data_options;

/* Documented defaults: benchmarks NULL, covariates NULL (log size, log tokens,
 * product), no floors, clip 0.001, "model", "family", no ceilings, "size",
 * "tokens", drop_incomplete 0. */
LS_API void ls_data_options_init(ls_data_options *o);
LS_API int ls_data_options_check(const ls_data_options *o, ls_error *err);

/* Build the model's data from a table.  The table is only read. */
LS_API int ls_data_build(const ls_table *t, const ls_data_options *o, ls_data **out, ls_error *err);
LS_API void ls_data_free(ls_data *d);

LS_API size_t ls_data_nmodels(const ls_data *d);
LS_API size_t ls_data_nfamilies(const ls_data *d);
LS_API size_t ls_data_nbenchmarks(const ls_data *d);
LS_API size_t ls_data_ncovariates(const ls_data *d);
LS_API size_t ls_data_nobserved(const ls_data *d);   /* observed score cells  */
LS_API size_t ls_data_nclipped(const ls_data *d);    /* cells clipped         */
LS_API size_t ls_data_nduplicates(const ls_data *d); /* repeated model names  */
LS_API const char *ls_data_benchmark(const ls_data *d, size_t j);
LS_API const char *ls_data_covariate(const ls_data *d, size_t k);
LS_API const char *ls_data_family(const ls_data *d, size_t f);
LS_API const char *ls_data_model(const ls_data *d, size_t i);
LS_API double ls_data_floor(const ls_data *d, size_t j);
LS_API double ls_data_ceiling(const ls_data *d, size_t j); /* 1 unless set */
LS_API const char *ls_data_source(const ls_data *d);        /* the table's file name */
LS_API const char *ls_data_model_column(const ls_data *d);  /* the model and family columns' names */
LS_API const char *ls_data_family_column(const ls_data *d);
LS_API const char *ls_data_size_column(const ls_data *d);   /* the size and tokens columns' names */
LS_API const char *ls_data_tokens_column(const ls_data *d);
/* Models dropped by drop_incomplete (table order), and the warning that
 * names them (NULL when none were dropped). */
LS_API size_t ls_data_ndropped(const ls_data *d);
LS_API const char *ls_data_dropped(const ls_data *d, size_t i);
LS_API const char *ls_data_warning(const ls_data *d);
LS_API size_t ls_data_family_of(const ls_data *d, size_t model);  /* family index of a model */
LS_API size_t ls_data_family_size(const ls_data *d, size_t family); /* its number of models */
/* n x p covariate terms of the models as evaluated (raw scale, e.g. log
 * size), and n x J scores (clipped; NaN when missing); borrowed. */
LS_API const double *ls_data_covariate_values(const ls_data *d);
LS_API const double *ls_data_scores(const ls_data *d);
/* A comma-separated list of family names resolved to indices (at most max
 * into idx; *n of them).  LS_ERR_OPTION naming the family when one is
 * unknown or named twice, or when there are more than max. */
LS_API int ls_data_families(const ls_data *d, const char *list, size_t *idx, size_t max, size_t *n,
                     ls_error *err);

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
    /* Heteroscedastic precision (fit option precision_covariates):
     * log phi_ij = log phi_j + gamma^T (x_i - mean x), so phi_j is the
     * precision at the covariate means; gamma (p, raw scale) is 0 and
     * hetero 0 otherwise. */
    double *gamma;
    int hetero;
    /* Ceilings d_j (J): the data's fixed values, or the estimates for the
     * benchmarks the fit option estimate_ceilings names. */
    double *ceiling;
    /* The family-by-benchmark effect (fit option family_effect): its sd
     * tau_j (J; 0 and family_effect 0 without it). */
    double *tau;
    int family_effect;
} ls_params;

LS_API int ls_params_alloc(ls_params *pr, size_t K, size_t J, size_t p, ls_error *err);
LS_API void ls_params_free(ls_params *pr);
/* Number of free parameters: K(K-1)/2 + pK + K + K(J-K) + 2J (plus p
 * with heteroscedastic precision). */
LS_API size_t ls_params_count(size_t K, size_t J, size_t p);

/* ------------------------------------------------------------------ */
/* Fitting (modules models/scaling, integration, optimisation)         */
/* ------------------------------------------------------------------ */

enum ls_integration {
    LS_INT_AUTO = 0,    /* Gauss-Hermite for K <= 3, sparse grid to 7, Laplace above */
    LS_INT_LAPLACE = 1, /* one node at the mode: the Laplace approximation  */
    LS_INT_GH = 2,      /* adaptive Gauss-Hermite product grid              */
    LS_INT_QMC = 3,     /* randomised Sobol points per family, t proposal    */
    LS_INT_SPARSE = 4   /* adaptive Smolyak sparse grid of Gauss-Hermite rules
                         * (nodes = its level; default 4 for K <= 4, 3 above) */
};

typedef struct ls_fit_options {
    size_t skills;       /* K >= 1, <= number of benchmarks            */
    /* comma-separated anchor benchmarks (benchmark k measures skill k
     * only); NULL or "first": the first K benchmarks; "auto": chosen from
     * the data, the benchmarks' order passing over any nearly in the span
     * of the anchors before it on the start's principal components (named
     * in the fit) */
    const char *anchors;
    unsigned starts;     /* seeded starts (default 8)                  */
    uint64_t seed;       /* default 1                                  */
    int integration;     /* enum ls_integration, default AUTO          */
    unsigned nodes;      /* GH nodes per dimension, sparse-grid level or QMC points; 0 = auto */
    unsigned threads;    /* worker threads, 0 = all cores              */
    double gtol;         /* convergence: max |gradient| <= gtol (1e-2) */
    unsigned max_iter;   /* per start (default 3000)                   */
    int skip_se;         /* 1: no standard errors (they cost 2 x dim evaluations) */
    int precision_covariates; /* 1: log phi_ij linear in the covariates (see ls_params),
                          * fitted after (and compared with) constant precision */
    double logit_clamp;  /* > 0: clip each linear predictor eta into [-c, c] before the
                          * logistic, as the reference implementation's published
                          * AIC table did (c = 4.5); 0 (default): the model as specified */
    ls_progress_fn progress;
    void *progress_ctx;
    int skip_check;      /* 1: no check of the value by a finer rule (ls_fit_loglik_check;
                          * 2-4 s at K = 12; select's fold fits, scored otherwise) */
    /* Ceilings to estimate by maximum likelihood: "all" or comma-separated
     * benchmark names (NULL: none; the others keep the data's ceilings).
     * d_j = c_j + (1 - c_j) logistic(kappa_j), one parameter each. */
    const char *estimate_ceilings;
    /* 1 (default): calibrate the fit by its largest siblings
     * (ls_fit_calibrate; calibration_folds more fits) where the data have
     * at least 5 families with two or more models, else a warning in the
     * fit; 0: the model's own intervals.  ls_fit_run does not (it has no
     * table): ls_fit_table and ls_evaluate do. */
    int calibrate;
    /* 1: a family-by-benchmark random effect u_fj ~ N(0, tau_j^2) on the
     * logit, independent of the skills and across benchmarks: a family's
     * own deviation on one benchmark, which its larger siblings inherit
     * (J more parameters tau_j; integrated by nested one-dimensional
     * adaptive Gauss-Hermite; at most 7 skills, not with the laplace
     * integration or precision_covariates).  Default 0. */
    int family_effect;
    /* Folds of the calibration (ls_fit_calibrate): the held-out largest
     * siblings are split into this many groups of families, each refitted
     * without its group only, from the fit's estimates (1: all at once).
     * 1..100, default 5. */
    unsigned calibration_folds;
} ls_fit_options;

LS_API void ls_fit_options_init(ls_fit_options *o);
/* LS_OK, or LS_ERR_OPTION with a message naming the field ("starts: ...").
 * Every function taking the options runs it first. */
LS_API int ls_fit_options_check(const ls_fit_options *o, ls_error *err);

typedef struct ls_fit ls_fit;

/* Fit the scaling law to d.  On success *out owns a new fit, even when the
 * optimiser did not converge (check ls_fit_converged). */
LS_API int ls_fit_run(const ls_data *d, const ls_fit_options *o, ls_fit **out, ls_error *err);
LS_API void ls_fit_free(ls_fit *f);

LS_API double ls_fit_loglik(const ls_fit *f);
/* The log-likelihood at the estimate by the fit's check rule, with *points
 * nodes or points per family (may be NULL): for the Laplace rule (the
 * default for K >= 8) importance sampling around each family's mode
 * (randomised quasi-Monte Carlo, each family its own points, a t proposal
 * and a normal control variate; points are added until the standard error,
 * ls_fit_loglik_check_se, is at most 0.05 / 3); for a sparse grid (the
 * default for K = 4..7) the sparse grid two levels finer, or importance
 * sampling (with a warning) when its signed sum is not positive for some
 * family.  NaN for other rules. */
LS_API double ls_fit_loglik_check(const ls_fit *f, size_t *points);
/* The standard error of that value when it comes from importance sampling
 * (NaN for a grid or no check). */
LS_API double ls_fit_loglik_check_se(const ls_fit *f);
/* AIC and BIC of the check value (NaN when there is no check). */
LS_API void ls_fit_check_criteria(const ls_fit *f, double *aic, double *bic);
/* The rule of the fit's value: its kind ("gauss-hermite", "sparse-grid",
 * "laplace", "rqmc-t", ...) and (nodes, may be NULL) its nodes per family. */
LS_API const char *ls_fit_integration(const ls_fit *f, size_t *nodes);
/* The check rule's kind ("sparse-grid", "rqmc-t"; "" when there is no check). */
LS_API const char *ls_fit_check_method(const ls_fit *f);
LS_API size_t ls_fit_nparams(const ls_fit *f);
LS_API double ls_fit_aic(const ls_fit *f);
LS_API double ls_fit_bic(const ls_fit *f);
/* 0: not converged; LS_CONVERGED_GRADIENT: max |gradient| <= gtol;
 * LS_CONVERGED_CHANGE: with logit_clamp > 0, whose kinks put gtol out of
 * reach, the polish stopped because two Newton steps in a row each gained
 * less than 1e-3 in log-likelihood. */
enum { LS_CONVERGED_GRADIENT = 1, LS_CONVERGED_CHANGE = 2 };
LS_API int ls_fit_converged(const ls_fit *f);
/* 1 when the fit chose its anchors from the data (anchors "auto"), 0 when
 * they were named or the first K */
LS_API int ls_fit_anchors_from_data(const ls_fit *f);
/* The fit's anchors as an anchors option: comma-separated names (or
 * "first"), to build an ls_model in the fit's parametrisation (an
 * ls_model's NULL anchors are the first K benchmarks, not the fit's
 * choice).  Owned by the fit. */
LS_API const char *ls_fit_anchors(const ls_fit *f);
/* That criterion in words: "max |gradient| <= gtol", "log-likelihood change
 * (kinks of the logit clamp)" or "none met" (also the fit file's
 * convergence.criterion). */
LS_API const char *ls_fit_convergence_criterion(const ls_fit *f);
LS_API double ls_fit_gradnorm(const ls_fit *f);   /* max |gradient| at the optimum */
/* 1 when the re-adapted rule could not resolve --gtol and the last stage
 * ran on the node map frozen near the optimum (ls_fit_gradnorm stays the
 * re-adapted gradient); *gmax_frozen (may be NULL) receives max |gradient|
 * of that frozen-map objective. */
LS_API int ls_fit_frozen(const ls_fit *f, double *gmax_frozen);
/* The second half of the convergence certificate: 1 when the Hessian at
 * the optimum is negative definite (the observed information, computed
 * with the standard errors, positive definite), 0 when it is not (the fit
 * is then not converged, whatever its gradient), -1 when it was not
 * computed (skip_se).  *min_eig (may be NULL): the information's smallest
 * eigenvalue (NaN when not computed). */
LS_API int ls_fit_hessian_definite(const ls_fit *f, double *min_eig);
LS_API unsigned ls_fit_iterations(const ls_fit *f);
LS_API uint64_t ls_fit_seed(const ls_fit *f);      /* the seed of the starts */
LS_API size_t ls_fit_nfamilies(const ls_fit *f);  /* families of the data it was fitted to */
LS_API unsigned ls_fit_starts_at_best(const ls_fit *f);
/* 1 when benchmark j's ceiling was estimated (option estimate_ceilings);
 * its value is ls_fit_params(f)->ceiling[j], its standard error the last
 * J entries of ls_fit_se. */
LS_API int ls_fit_ceiling_estimated(const ls_fit *f, size_t j);
/* Estimates on the raw covariate scale (beta) -- borrowed, valid while f lives. */
LS_API const ls_params *ls_fit_params(const ls_fit *f);
/* beta on the standardised covariate scale (p x K), borrowed. */
LS_API const double *ls_fit_beta_std(const ls_fit *f);
/* Posterior mode of family f's alpha (K values), borrowed. */
LS_API const double *ls_fit_family_mode(const ls_fit *f, size_t family);
/* Per-family marginal log-likelihood at the optimum, borrowed (F values). */
LS_API const double *ls_fit_family_loglik(const ls_fit *f);
/* Warnings gathered during the fit (clipping, convergence, ...), borrowed. */
LS_API size_t ls_fit_nwarnings(const ls_fit *f);
LS_API const char *ls_fit_warning(const ls_fit *f, size_t i);
/* With precision_covariates: the constant-precision fit's log-likelihood
 * and AIC, the likelihood-ratio statistic, its degrees of freedom and
 * chi-square p-value.  Returns 1, or 0 for a constant-precision fit. */
LS_API int ls_fit_precision_test(const ls_fit *f, double *ll_const, double *aic_const, double *lr,
                          double *df, double *pvalue);
/* With family_effect: the fit without the effect's log-likelihood, the
 * likelihood-ratio statistic and its p-value under the boundary null (a
 * mixture of chi-square(k), k = 0..J, with binomial(J, 1/2) weights).
 * Returns 1, or 0 for a fit without the effect. */
LS_API int ls_fit_family_effect_test(const ls_fit *f, double *ll_without, double *lr, double *pvalue);
/* Length of the unconstrained vector (ls_fit_theta) and of the natural
 * vector (ls_fit_se, ls_fit_nat_cov). */
LS_API size_t ls_fit_dim(const ls_fit *f);
LS_API size_t ls_fit_nnat(const ls_fit *f);
/* Unconstrained optimum (ls_fit_dim values), borrowed. */
LS_API const double *ls_fit_theta(const ls_fit *f);

/* Standard errors on the natural scales, in the order beta (p x K, raw log
 * scale), lambda (K x J; fixed entries 0), b (J, raw), phi (J), sigma
 * (K x K), then gamma (p, with precision covariates) and the ceilings (J,
 * fixed ones 0; when some are estimated): from the inverse observed information (Hessian), the inverse
 * outer product of family scores (OPG) or the sandwich of the two.  NULL
 * when not computed (skip_se) or when that matrix is singular. */
enum ls_se_kind { LS_SE_HESSIAN = 0, LS_SE_OPG = 1, LS_SE_SANDWICH = 2 };
LS_API const double *ls_fit_se(const ls_fit *f, int kind);
/* Covariance of the natural vector from the inverse observed information
 * (ls_fit_nnat x ls_fit_nnat), or NULL. */
LS_API const double *ls_fit_nat_cov(const ls_fit *f);
/* The natural vector's blocks, in order: beta (p x K), lambda (K x J), b (J),
 * phi (J), sigma (K x K), gamma (p; heteroscedastic precision only), the
 * ceilings (J; only when some are estimated) and tau (J; the family
 * effect's sds, fit option family_effect).  offsets[k] is where block k
 * starts and offsets[k + 1] - offsets[k] its length (0 when absent);
 * offsets[LS_NAT_NBLOCKS] is the vector's length. */
enum ls_nat_block {
    LS_NAT_BETA = 0, LS_NAT_LAMBDA, LS_NAT_B, LS_NAT_PHI, LS_NAT_SIGMA, LS_NAT_GAMMA,
    LS_NAT_CEILING, LS_NAT_TAU, LS_NAT_NBLOCKS
};
LS_API void ls_nat_layout(size_t K, size_t J, size_t p, int hetero, int ceilings, int family_effect,
                   size_t offsets[LS_NAT_NBLOCKS + 1]);
LS_API void ls_fit_nat_layout(const ls_fit *f, size_t offsets[LS_NAT_NBLOCKS + 1]);
/* The estimates in that order (ls_fit_nnat values into v). */
LS_API void ls_fit_nat_estimates(const ls_fit *f, double *v);
/* Wald intervals at `level` (in (0, 1)) of the natural vector from the
 * standard errors of `kind`: on the log scale for phi and the anchor
 * loadings, through Fisher's z for the correlations, on the logit scale of
 * (d - c) / (1 - c) for estimated ceilings, else on the natural scale;
 * fixed entries get their value twice (d: the fit's data, for the floors
 * of estimated ceilings).  lower and upper receive
 * ls_fit_nnat values.  LS_ERR_INPUT when those standard errors were not
 * computed. */
LS_API int ls_fit_confint(const ls_fit *f, const ls_data *d, int kind, double level, double *lower,
                   double *upper, ls_error *err);
/* Wall-clock seconds of the search, the polish, the standard errors and the
 * whole fit (kept out of the JSON, which is reproducible byte for byte). */
LS_API void ls_fit_timing(const ls_fit *f, double *search, double *polish, double *se, double *total);
/* Wall-clock seconds of the calibration (ls_fit_calibrate, or ls_fit_table's),
 * 0 when the fit has none; not in the JSON either. */
LS_API double ls_fit_calibration_seconds(const ls_fit *f);

/* Write the fit as JSON, atomically.  `argv_json` (may be NULL) is a JSON
 * object text recorded under "options" next to the library's own options. */
LS_API int ls_fit_write_json(const ls_fit *f, const ls_data *d, const char *path,
                      const char *argv_json, ls_error *err);

/* ------------------------------------------------------------------ */
/* Likelihood access (for tests, benchmarks and the Python binding)     */
/* ------------------------------------------------------------------ */

typedef struct ls_model ls_model;

/* A likelihood evaluator for d with K skills and the given integration. */
LS_API int ls_model_new(const ls_data *d, size_t K, const char *anchors, int integration,
                 unsigned nodes, unsigned threads, ls_model **out, ls_error *err);
LS_API void ls_model_free(ls_model *m);
LS_API size_t ls_model_dim(const ls_model *m);
/* Nodes (or points) of the integration rule per family. */
LS_API size_t ls_model_nodes(const ls_model *m);
/* Unconstrained parameter vector <-> natural parameters (standardised x). */
LS_API int ls_model_pack(const ls_model *m, const ls_params *pr, double *theta, ls_error *err);
LS_API int ls_model_unpack(const ls_model *m, const double *theta, ls_params *pr);
/* Marginal log-likelihood and (if grad != NULL) its gradient in theta.
 * family_ll (may be NULL) receives the F per-family terms. */
LS_API int ls_model_loglik(ls_model *m, const double *theta, double *ll, double *grad,
                    double *family_ll, ls_error *err);
/* Hessian (dim x dim) of the log-likelihood at theta with every family's
 * node map held at its stored value: the exact Hessian of the frozen-node
 * objective, a few gradient calls' cost.  The maps are those of the last
 * ls_model_loglik (call it at theta first for the Hessian of the adaptive
 * likelihood up to quadrature error). */
LS_API int ls_model_hessian(ls_model *m, const double *theta, double *H, ls_error *err);

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
    const double *ceilings; /* J ceilings of the mean (NULL: all 1)     */
    const char *ceiling_list; /* "name=value,.." ceiling overrides, after ceilings */
    /* > 0: every family f and benchmark j get u_fj ~ N(0, sd^2) on the
     * logit (the fit option family_effect's model; the truth records tau_j
     * = sd); a given truth with family_effect set uses its tau.  Drawn from
     * a stream of their own, so the rest of the table is the same as
     * without them.  Default 0. */
    double family_effect_sd;
} ls_sim_options;

LS_API void ls_sim_options_init(ls_sim_options *o);
LS_API int ls_sim_options_check(const ls_sim_options *o, ls_error *err);

/*
 * Draw a synthetic leaderboard: families of varying size (many singletons),
 * sizes 0.1-200 B parameters, 0.1-20 T tokens, missing blocks.  *table gets
 * columns model,family,size,tokens,bench1..benchJ; *truth (allocated, free
 * with ls_params_free) the true parameters on the raw log scale, with the
 * default covariates; *floors (J values, caller frees with free()) the
 * guessing floors used.
 */
LS_API int ls_simulate(const ls_sim_options *o, ls_table **table, ls_params *truth, double **floors,
                ls_error *err);
/* Write true parameters as JSON, atomically. */
LS_API int ls_params_write_json(const ls_params *pr, const ls_table *t, const double *floors,
                         const char *path, const char *argv_json, ls_error *err);

/* ------------------------------------------------------------------ */
/* Fit files (module output)                                           */
/* ------------------------------------------------------------------ */

/*
 * Load a fit written by ls_fit_write_json and bind it to the table it was
 * fitted on: the data are rebuilt with the fit's recorded benchmarks,
 * covariates, floors and clip, the likelihood is re-evaluated at the stored
 * optimum and must match the recorded log-likelihood (otherwise the table
 * is not the fit's data and LS_ERR_INPUT is returned).  The fit carries
 * every warning the file records (ls_fit_warning), then any new ones.
 * *d and *f are new.
 */
LS_API int ls_fit_load(const char *path, const ls_table *t, unsigned threads, ls_data **d, ls_fit **f,
                ls_error *err);

/* ------------------------------------------------------------------ */
/* Downstream tasks (module tasks): posteriors, prediction, evaluation, */
/* model selection, compute-optimal allocation, family comparison      */
/* ------------------------------------------------------------------ */

/* Index of a family by name in d, or -1. */
LS_API long ls_data_find_family(const ls_data *d, const char *name);

typedef struct ls_posterior_options {
    unsigned chains;     /* MCMC chains (default 4)                         */
    size_t warmup;       /* per chain (default 1000)                        */
    size_t draws;        /* kept per chain (default 2000)                   */
    uint64_t seed;       /* default 1                                       */
} ls_posterior_options;
LS_API void ls_posterior_options_init(ls_posterior_options *o);
LS_API int ls_posterior_options_check(const ls_posterior_options *o, ls_error *err);

/*
 * Posterior of one family's skills alpha_f at the fitted parameters, a
 * result of kind "posterior" with entries (K skills, labelled by "skills"):
 *   family (string), skills (K names), mode (K), laplace_cov (K x K; the
 *   inverse negative Hessian at the mode), quad_mean (K), quad_cov (K x K; by
 *   the fit's adaptive quadrature), mcmc_mean, mcmc_cov (pooled random-walk
 *   Metropolis draws), rhat (split R-hat), ess (effective sample size),
 *   accept (acceptance rate), sample (chains * draws x K), chains, draws, seed.
 */
LS_API int ls_posterior_run(const ls_fit *f, const ls_data *d, size_t family,
                     const ls_posterior_options *o, ls_result **out, ls_error *err);

typedef struct ls_predict_options {
    double level;         /* central interval level (default 0.9)            */
    size_t param_draws;   /* draws of the parameters (default 200; 0: plug-in estimates) */
    size_t latent_draws;  /* family-posterior draws per parameter draw (default 50) */
    uint64_t seed;        /* default 1                                       */
    unsigned threads;     /* 0 = all cores                                   */
    /* The covariance the parameter draws come from: "hessian" (NULL, the
     * default: the inverse observed information) or "sandwich" (I^-1 B I^-1
     * with B the outer product of family scores: robust when the model is
     * misspecified; wider where the data disagree with the model). */
    const char *param_cov;
    /* 1 (default): when the fit carries a calibration (ls_fit_calibrate),
     * the median and the interval are the predictive quantiles at the levels
     * the calibration maps 0.5 and the interval's ends to; 0: the model's
     * own quantiles. */
    int calibration;
    /* 1 (default): above the highest score the data show on a benchmark
     * whose ceiling is fixed (1, or a --ceiling value), the ceiling is not
     * known, only bounded: each draw takes it uniform between that best
     * observed score and the fixed ceiling, and the part of the mean score
     * above the best observed score is scaled into it.  Predictions inside
     * the data's score range are unchanged; far above it the interval spans
     * the unknown ceiling instead of collapsing onto 1.  0: the model's
     * ceiling taken as known. */
    int ceiling_uncertainty;
} ls_predict_options;
LS_API void ls_predict_options_init(ls_predict_options *o);
LS_API int ls_predict_options_check(const ls_predict_options *o, ls_error *err);

/*
 * Predictions for the rows of a table of new models (columns: the model and
 * family columns and the covariate sources; benchmark columns, if present,
 * are read as observed values): a result of kind "prediction" with entries
 * (n models x J benchmarks, rows labelled "models", columns "benchmarks"):
 *   models, families, benchmarks (names), known (n: 1 when the family is in
 *   the fit's data), mean, median, lower, upper (the predictive
 *   distribution's central interval at `level`), map (plug-in at the
 *   estimates and the family mode; prior mean 0 for a new family), observed
 *   (NaN when missing or no column), level, seed, param_uncertainty (1:
 *   parameter draws from the inverse observed information, 2: from the
 *   sandwich; 0: none asked, or that matrix was singular: plug-in
 *   estimates, intervals too narrow).
 */
LS_API int ls_predict(const ls_fit *f, const ls_data *d, const ls_table *newt,
               const ls_predict_options *o, ls_result **out, ls_error *err);

/*
 * Calibrate a fit by extrapolation to larger siblings, inside its own data:
 * the largest model of every family with at least two models (by size, then
 * tokens) is held out, the law is refitted to the other rows with the fit's
 * options, and the held-out cells' predictive CDF values u = F(y) (by o's
 * draws) are stored in the fit, sorted.  Where the model is right they are
 * uniform and the calibration changes nothing; where it over-predicts larger
 * siblings they pile up low, and predictions take their median and interval
 * ends from the quantiles of u (split-conformal over held-out siblings:
 * the k-th order statistic with k = floor((n + 1) q) for a lower end q,
 * ceil((n + 1) q) for an upper end).  t is the table d was built from with
 * options dopt.  Needs at least 5 such families.  Written to and read from
 * fit files.
 */
LS_API int ls_fit_calibrate(ls_fit *f, const ls_data *d, const ls_table *t, const ls_data_options *dopt,
                            const ls_predict_options *o, ls_error *err);
/* The fit of a table as the clients run it: ls_data_build(t, dopt),
 * ls_fit_run with o, and with o->calibrate ls_fit_calibrate (draws by the
 * prediction defaults with o's seed and threads), which, where the data
 * have too few families with two or more models, leaves a warning in the
 * fit instead of failing.  On success *d and *f are the caller's (free
 * them with ls_data_free, ls_fit_free); on failure both are NULL. */
LS_API int ls_fit_table(const ls_table *t, const ls_data_options *dopt, const ls_fit_options *o, ls_data **d,
                        ls_fit **f, ls_error *err);
/* The calibration's sorted CDF values (NULL when the fit has none) and
 * their number; models and families held out into *models, *families. */
LS_API const double *ls_fit_calibration(const ls_fit *f, size_t *n, size_t *models, size_t *families);
/* The level whose predictive quantile a calibrated prediction reports for
 * the nominal level q (q itself without a calibration), pooled over the
 * benchmarks. */
LS_API double ls_fit_calibrated_level(const ls_fit *f, double q);
/* The same for benchmark j (0-based, the fit's order), the level that
 * predictions use: for an interval's end (q other than 0.5) benchmark j's
 * own split-conformal level L_j where its n_j held-out cells give one
 * (n_j + 1 >= 1 / min(q, 1 - q)); for the median, and for an end where they
 * do not, L_j shrunk towards the pooled one L, (n_j L_j + 20 L) / (n_j + 20);
 * the pooled level when j is out of range or the calibration has no
 * per-benchmark values (fit files before 0.12.0). */
LS_API double ls_fit_calibrated_level_at(const ls_fit *f, size_t j, double q);

/* Mean absolute error of predictions pred against observations obs (n x J,
 * NaN in obs = not scored; a NaN prediction of a scored cell is an error):
 * per benchmark (J, NaN when none scored), overall over all scored cells,
 * and the number of cells scored. */
LS_API int ls_mae(const double *pred, const double *obs, size_t n, size_t J, double *per_benchmark,
           double *overall, size_t *cells, ls_error *err);

/*
 * Held-out evaluation: refit on the training rows, predict the test rows.
 * split: a table with columns model,role (train/test/excluded), or NULL for
 * holdout "largest" (the largest model, by size then tokens, of every family
 * with at least two models).  A result of kind "evaluation": the test rows'
 * prediction entries (as ls_predict's), then mae (J: MAE of the predictive
 * median per benchmark), mae_overall, mae_mean (of the predictive mean),
 * mae_map (of the plug-in), coverage (share of cells inside their interval),
 * n_cells, n_train, n_test, n_excluded.  The fit on the training rows and its
 * data: ls_evaluation_fit.
 */
LS_API int ls_evaluate(const ls_table *t, const ls_data_options *dopt, const ls_table *split,
                const ls_fit_options *fo, const ls_predict_options *po, ls_result **out,
                ls_error *err);
/*
 * ls_evaluate with the configuration chosen inside the training rows only
 * (the test rows are never seen by the choice): over K = kmin..kmax (and,
 * with interaction 1, the data options' covariates with and without their
 * product terms, e.g. log(size)*log(tokens): twice the fits) the training
 * rows' sibling criterion (ls_select's sibling_mae: every training family's
 * largest model held out, the law refitted to the other training rows, the
 * MAE of the predictive median of their scores); the smallest wins (ties:
 * the smaller K, then the covariates as given).  That K and those
 * covariates are then fitted to all training rows and the test rows scored
 * once, as ls_evaluate with them would.  fo's skills is ignored.  Cost: two
 * fits per K and covariate list (the full fit, whose estimate starts the
 * hold-out, and the hold-out with one start), then the final fit.  The
 * evaluation gains entries select_skills (nk), select_covariates (nc),
 * select_sibling_mae (nk x nc; NaN: no value), select_converged (nk x nc),
 * selected_skills and selected_covariates.  Errors name the options
 * "select" (the range) and "select_interaction".
 *
 * flags: LS_SELECT_INTERACTION (1) for the covariates with and without
 * their product terms; LS_SELECT_CEILINGS (2) for the ceilings too, after
 * a screen on the training rows at K = 4 (or the end of the range nearer
 * it): one fit with every ceiling estimated names the benchmarks whose
 * ceiling falls below 0.995; each is fitted with its ceiling alone and is a
 * candidate when its likelihood-ratio statistic against the fit without
 * ceilings exceeds 2.71 (5 % under the boundary null, a 50:50 mixture of
 * chi-square(0) and chi-square(1)), ranked by it; each of the first 1..3
 * candidates, as a prefix, is one more configuration (its fits per K and
 * covariate list), none the first.  The
 * smallest sibling MAE among converged fits is the reference; the choice is
 * the configuration with the fewest ceilings whose MAE exceeds the
 * reference's by at most one standard error (of the difference paired over
 * the held-out families), and within it the smallest MAE.  Entries
 * select_ceilings (nc; "" none), select_mae_difference and
 * select_mae_difference_se (nk x nc), selected_ceilings and
 * select_ceiling_candidates (the ranking, text) are added; with no flags
 * select_ceilings holds "" only and the choice is the smallest MAE.  With
 * LS_SELECT_CEILINGS fo's estimate_ceilings must be unset (error
 * "select_ceilings").
 */
#define LS_SELECT_INTERACTION 1
#define LS_SELECT_CEILINGS 2
LS_API int ls_evaluate_select(const ls_table *t, const ls_data_options *dopt, const ls_table *split,
                              const ls_fit_options *fo, const ls_predict_options *po, size_t kmin,
                              size_t kmax, int flags, ls_result **out, ls_error *err);
/* The training fit and data of an evaluation (borrowed; NULL for another kind). */
LS_API const ls_fit *ls_evaluation_fit(const ls_result *e, const ls_data **train);

/*
 * Model selection over K: fits K = kmin..kmax on the data of t (and, with
 * folds > 1, on family folds), in parallel; the fit options' skills are
 * ignored.  A fit with a check rule (see ls_fit_loglik_check) enters the
 * table with that rule's log-likelihood, in-sample and held out.  A result of
 * kind "selection" with entries (one per K): K, loglik, n_params, aic, bic,
 * cv (held-out log-likelihood of whole families; NaN when folds = 0),
 * converged, sampled (1: the values are the check rule's), best_aic,
 * best_bic, best_cv, best_sibling (indices into K; NaN when there is no CV
 * or no sibling criterion: each criterion's best among the K whose full fit
 * converged, for best_cv and best_sibling also all of whose refits did; only
 * when there is none, among all), folds, seed, refits and
 * refits_not_converged (per K: the folds' and the sibling hold-out's fits,
 * and how many of them did not converge; a warning names each K with
 * some).
 * fo's progress is called from the calling thread, which waits while
 * fo->threads others fit: with "select: K = k, <fit>" and the fits ended so
 * far of all, within 20 ms of a fit's end, and every 0.25 s in between
 * (the last report repeated), so that a cancel stops the fits within
 * moments.
 */
LS_API int ls_select(const ls_table *t, const ls_data_options *dopt, const ls_fit_options *fo,
              size_t kmin, size_t kmax, unsigned folds, ls_result **out, ls_error *err);
/* ls_select with a journal file: after every fit (per K: the full fit, each
 * fold, the sibling hold-out) the finished ones are written to `journal`
 * (atomically; JSON), keyed by the inputs (the data as built, the fit
 * options that change a fit, the folds, the version).  A run that finds a
 * journal of the same inputs reuses its fits instead of running them (the
 * result's "reused" counts them; the result is the same), so a select
 * killed part-way resumes where it stopped; a journal of other inputs is
 * replaced.  The file is removed when the selection completes.  NULL or "":
 * no journal. */
LS_API int ls_select_journal(const ls_table *t, const ls_data_options *dopt, const ls_fit_options *fo,
                             size_t kmin, size_t kmax, unsigned folds, const char *journal, ls_result **out,
                             ls_error *err);
/* ls_select_journal, and then, with flags (those of ls_evaluate_select),
 * the configuration chosen by the sibling criterion on all rows of t: K,
 * with LS_SELECT_INTERACTION whether the covariates' product terms stay,
 * with LS_SELECT_CEILINGS which benchmarks' ceilings are estimated (the
 * screen and the rule of ls_evaluate_select).  The first configuration
 * reuses the K table's sibling fits (unless some came from the journal);
 * each other costs two fits per K, the screen J + 2 more.  The result
 * gains the entries select_skills, select_covariates, select_ceilings,
 * select_sibling_mae, select_converged, select_mae_difference(_se),
 * selected_skills, selected_covariates, selected_ceilings and
 * select_ceiling_candidates, as ls_evaluate_select's, and its JSON a
 * "configuration" object.  flags 0 is ls_select_journal.  Errors name
 * "select", "select_interaction" and "select_ceilings"; with flags the data
 * need the sibling criterion (5 families with two or more models). */
LS_API int ls_select_configure(const ls_table *t, const ls_data_options *dopt, const ls_fit_options *fo,
                               size_t kmin, size_t kmax, unsigned folds, const char *journal, int flags,
                               ls_result **out, ls_error *err);
/* A selection written by ls_result_write (latentscale select --out), read
 * back as the same result (for the report).  Errors name the file. */
LS_API int ls_selection_read(const char *path, ls_result **out, ls_error *err);

/* Compute-optimal allocation under C = 6 N D (N parameters, D tokens). */
typedef struct ls_optimal_options {
    const double *budgets; size_t nbudgets; /* FLOPs; NULL: 10 budgets log-spaced over the range */
    double size_min, size_max;     /* billions of parameters               */
    double tokens_min, tokens_max; /* trillions of tokens                  */
    double st_min, st_max;         /* default budgets span 6e21 x [st_min, st_max] (size x tokens;
                                    * 0: the corners of the ranges)        */
    size_t draws;                  /* parameter draws for intervals (default 1000; 0: none) */
    double level;                  /* default 0.9                          */
    uint64_t seed;
    unsigned threads;              /* worker threads for the draws (0: all cores); the
                                    * intervals do not depend on it    */
} ls_optimal_options;
LS_API void ls_optimal_options_init(ls_optimal_options *o);
LS_API int ls_optimal_options_check(const ls_optimal_options *o, ls_error *err);

/*
 * Fit files without their data (for ls_optimal): a fit written by
 * ls_fit_write_json, read back as an opaque summary: the raw parameters,
 * benchmark and covariate names, the covariance of the natural vector
 * (beta .. sigma and gamma; NULL when absent) and the observed ranges of
 * size and tokens.
 */
typedef struct ls_fit_summary ls_fit_summary;
LS_API int ls_fit_summary_read(const char *path, ls_fit_summary **out, ls_error *err);
LS_API void ls_fit_summary_free(ls_fit_summary *s);
LS_API const ls_params *ls_fit_summary_params(const ls_fit_summary *s);
LS_API const char *ls_fit_summary_benchmark(const ls_fit_summary *s, size_t j);
/* Observed ranges: size (billions) min, max, tokens (trillions) min, max,
 * size x tokens min, max; NaN without the default covariates. */
LS_API void ls_fit_summary_ranges(const ls_fit_summary *s, double range[6]);
LS_API uint64_t ls_fit_summary_seed(const ls_fit_summary *s);
/* The same summary from a fit in memory and its data. */
LS_API int ls_fit_summarise(const ls_fit *f, const ls_data *d, ls_fit_summary **out, ls_error *err);

/*
 * For each target (the K skills, then the J benchmarks' linear predictors)
 * and budget: the size and tokens that maximise the target, with intervals
 * from draws of the natural vector's asymptotic normal distribution.  Ranges
 * left 0 in o come from s.  A result of kind "allocation" with entries
 * (targets x budgets, rows labelled "targets", columns "budgets_label"):
 * targets, kinds ("skill" or "benchmark"), budgets, size, size_lo, size_hi
 * (billions), tokens, tokens_lo, tokens_hi (trillions), value, level, draws,
 * seed, size_min, size_max, tokens_min, tokens_max.
 */
LS_API int ls_optimal(const ls_fit_summary *s, const ls_optimal_options *o, ls_result **out,
               ls_error *err);

/*
 * Family comparison: the posterior of alpha_A - alpha_B per skill,
 * integrating both family posteriors and parameter uncertainty.  A result of
 * kind "comparison" with entries (K, labelled "skills"): family_a, family_b,
 * skills, mean_a, mean_b, diff, lower, upper, prob_greater
 * (P(alpha_A,k > alpha_B,k)), level, seed.
 */
LS_API int ls_compare(const ls_fit *f, const ls_data *d, size_t fa, size_t fb,
               const ls_predict_options *o, ls_result **out, ls_error *err);

/* ------------------------------------------------------------------ */
/* Generalized latent factor models (module factor)                    */
/* ------------------------------------------------------------------ */

/*
 * Persons i = 1..n, items j = 1..q, responses y_ij (NaN = missing) from an
 * exponential family with natural parameter
 *   w_ij = gamma_j^T U_i + beta_j^T (1, x_i)
 * (Cui and Xu, arXiv 2508.05866; Ouyang, Cui, Tan and Xu, arXiv 2404.16745),
 * fitted by joint maximum likelihood: U (n x r), Gamma (q x r) and
 * B (q x (p+1)) are all parameters.  See docs/FACTOR.md.
 */
enum ls_factor_family {
    LS_FACTOR_BERNOULLI = 0, /* logit link (the main case)                  */
    LS_FACTOR_POISSON = 1,   /* log link                                    */
    LS_FACTOR_GAUSSIAN = 2,  /* identity link, one variance per item        */
    LS_FACTOR_PROBIT = 3     /* Bernoulli with probit link                  */
};

enum ls_factor_identify {
    LS_FACTOR_ORTHOGONAL = 0,     /* U'U/n = I, Gamma'Gamma/q diagonal decreasing */
    LS_FACTOR_TRIANGULAR = 1,     /* U'U/n = I, anchor rows of Gamma lower-triangular */
    LS_FACTOR_ANCHOR = 2,         /* diag(U'U/n) = 1, anchor rows diagonal > 0 (correlated factors) */
    LS_FACTOR_ANCHOR_IDENTITY = 3, /* anchor rows of Gamma = I, U'U/n free      */
    LS_FACTOR_EQUAL_DIAGONAL = 4  /* U'U/n = Gamma'Gamma/q diagonal (2404.16745) */
};

/* The estimator.  Joint ML treats the factor scores as parameters and
 * suits long tests (its theory needs many items); marginal ML integrates
 * them out (theta_i ~ N(A x_i, I)) by adaptive Gauss-Hermite quadrature and
 * is consistent for a fixed number of items: the method for short tests.
 * MML takes the Bernoulli (logit) family, 1 to 3 factors, the orthogonal or
 * triangular condition and no ridge; covariates shift every item's
 * intercept (DIF) and, under min-L1, the factor means (latent regression:
 * covariate_transform).  Auto: MML for tests of at most 50 items where it
 * applies, joint ML otherwise (the fit says which and why). */
enum ls_factor_method { LS_FACTOR_JML = 0, LS_FACTOR_MML = 1, LS_FACTOR_AUTO = 2 };

enum ls_factor_covcond {
    LS_FACTOR_COV_L1 = 0,         /* min-L1 covariate effects ("most items are fair") */
    LS_FACTOR_COV_ORTHOGONAL = 1  /* U orthogonal to the covariates               */
};

typedef struct ls_factor_options {
    size_t factors;       /* r >= 1 (default 1; at most 10)                    */
    int family;           /* enum ls_factor_family (default BERNOULLI)         */
    int identify;         /* enum ls_factor_identify (default ORTHOGONAL)      */
    int covariate_condition; /* enum ls_factor_covcond (default L1)            */
    const size_t *anchors; /* r item indices anchoring the factors (triangular and
                           * anchor conditions; ls_factor_data_anchors maps names);
                           * NULL: the first r items                           */
    unsigned starts;      /* starts: the SVD start, then perturbed ones (default 3; 1..1000) */
    uint64_t seed;        /* default 1                                         */
    unsigned threads;     /* 0: all cores                                      */
    double bound;         /* |U_ik|, |gamma_jk|, |beta_jk| <= bound in the normalised
                           * gauge U'U/n = I; 0 (default): 5, or 3 for probit */
    double tol;           /* stop when the relative change of the negative
                           * log-likelihood is below tol (default 1e-7)        */
    unsigned max_iter;    /* alternating sweeps per start (default 500)        */
    int skip_se;          /* 1: no standard errors                             */
    double ridge;         /* > 0: maximise l - ridge/2 (|U|^2 + |Gamma|^2), the
                           * nuclear-norm penalty of U Gamma^T: well posed for
                           * short tests, where plain joint ML degenerates
                           * (persons separate); the factor scale is then set
                           * by the penalty (bound default 50) and the standard
                           * errors ignore it.  0 (default): joint ML; -1 (auto):
                           * chosen by 5-fold cross-validation over held-out
                           * responses (joint ML only; docs/FACTOR.md) */
    int no_scale_correction; /* 1: normalise the factor scale by U'U/n of the
                           * estimates; 0 (default): by U'U/n minus the mean
                           * sandwich variance of the scores (finite-q bias
                           * correction, docs/FACTOR.md; skipped with ridge)  */
    int loading_bootstrap; /* replicates of the parametric bootstrap of the loadings
                           * (bias correction and standard errors, docs/FACTOR.md);
                           * -1 (default): 50 under anchor, anchor-identity and
                           * triangular, 0 (analytic) otherwise; 0: analytic;
                           * at most 100000                                   */
    int method;           /* enum ls_factor_method (default JML)               */
    unsigned nodes;       /* MML: Gauss-Hermite nodes per dimension (3..61); 0
                           * (default): 11, 9, 7 for 1, 2, 3 factors; 4 to 6
                           * factors: the sparse grid's largest rule (odd,
                           * 3..13; default 7)                                */
    int dif_lr;           /* MML with covariates: also fit the model without DIF (the
                           * covariates move the factor means only) for the
                           * likelihood-ratio test of no DIF at all (a second fit;
                           * the CLI's --dif sets it)                          */
    int equal_loadings;   /* MML, 1 factor: one loading for every item (a Rasch-type
                           * model: a person random effect with item intercepts,
                           * as lme4::glmer(y ~ 0 + item + (1 | person)) fits) */
    ls_progress_fn progress;
    void *progress_ctx;
} ls_factor_options;

LS_API void ls_factor_options_init(ls_factor_options *o);
/* LS_OK, or LS_ERR_OPTION with a message naming the field ("factors: expected
 * 1 to 10, got 12").  Every function taking the options runs it first; the
 * checks that need the data (factors below the numbers of items and persons,
 * anchors in range and distinct) run in ls_factor_run. */
LS_API int ls_factor_options_check(const ls_factor_options *o, ls_error *err);

/* Responses y_ij (NaN = missing) and covariates of n persons and q items:
 * an opaque handle, freed by ls_factor_data_free. */
typedef struct ls_factor_data ls_factor_data;

/*
 * Build factor data from a table (read it with ls_items_table_read to accept
 * R's row names): `items` is a comma-separated list of column names or shell
 * patterns ('Q*'); `covariates` (may be NULL) a comma-separated list of
 * numeric columns (a missing covariate is an error).  With dichotomise
 * finite, a response becomes 1 when >= dichotomise, else 0.  Responses are
 * checked against the family (0/1, non-negative integers, any finite
 * number); errors name the argument ("items: no column 'Z9' in r.csv") or
 * file, line and column.  On success *out is a new handle.
 */
LS_API int ls_factor_data_build(const ls_table *t, const char *items, const char *covariates,
                         double dichotomise, int family, ls_factor_data **out, ls_error *err);
/* The same from a long table, one row per response (online tests, adaptive
 * testing, crowd-sourced evaluations): `columns` is "person,item,response"
 * (column names); persons and items in order of first appearance; an empty
 * response is no response; a covariate must have one value per person (an
 * error names the file, line and column otherwise); a second response of a
 * person to an item is an error.  The data keep the observed responses only
 * (memory and time of joint and marginal ML follow them, not persons x
 * items). */
LS_API int ls_factor_data_build_long(const ls_table *t, const char *columns, const char *covariates,
                                     double dichotomise, int family, ls_factor_data **out, ls_error *err);
/* The same from arrays (copied): Y n x q (NaN = missing; checked against the
 * family by ls_factor_run), X n x p (finite; may be NULL when p = 0), q item
 * and p covariate names (NULL: "item1".., "x1"..). */
LS_API int ls_factor_data_new(size_t n, size_t q, size_t p, const double *Y, const double *X,
                       const char *const *items, const char *const *covariates,
                       ls_factor_data **out, ls_error *err);
LS_API void ls_factor_data_free(ls_factor_data *d);
LS_API size_t ls_factor_data_npersons(const ls_factor_data *d);
LS_API size_t ls_factor_data_nitems(const ls_factor_data *d);
LS_API size_t ls_factor_data_ncovariates(const ls_factor_data *d);
/* Names (borrowed, valid while d lives; NULL beyond the last). */
LS_API const char *ls_factor_data_item(const ls_factor_data *d, size_t j);
LS_API const char *ls_factor_data_covariate(const ls_factor_data *d, size_t s);
/* The table's name, or NULL for data built from arrays. */
LS_API const char *ls_factor_data_source(const ls_factor_data *d);
/* Anchor item names (comma-separated; empty names skipped) as the item
 * indices of ls_factor_options.anchors: `factors` of them into anchors.
 * LS_ERR_OPTION for an unknown name or another count. */
LS_API int ls_factor_data_anchors(const ls_factor_data *d, const char *names, size_t factors,
                           size_t *anchors, ls_error *err);

/* Read a CSV of item responses (persons in rows): like ls_table_read, but an
 * empty first column name (R's row names, write.csv) is accepted and called
 * "(row)".  Used by the factor models and the partial credit model, and for
 * leaderboards (pandas' to_csv writes its index the same way; ls_data_build
 * never takes "(row)" for a benchmark). */
LS_API int ls_items_table_read(const char *path, ls_table **out, ls_error *err);

/*
 * Fit the model to d: a result of kind "factor-fit", also when the sweeps
 * did not converge (entry converged 0).  Entries (n persons, q items, r
 * factors, p covariates; labels in brackets):
 *   items (q), covariates (p), terms (p + 1: "(intercept)", then the
 *   covariates), factors (r: "factor1"..), source (the table's name; absent
 *   for data from arrays), family, identify, covariate_condition ("min-l1" or
 *   "orthogonal") (strings);
 *   n_persons; anchors (r item indices [factors]);
 *   loadings (q x r [items, factors]), beta (q x (p+1) [items, terms]:
 *   intercept, then covariate effects), dispersion (q [items]: Gaussian
 *   variances, 1 for the other families), factor_cov and factor_cor (r x r:
 *   U'U/n of the centred scores, de-noised when scale_corrected, and its
 *   correlations), covariate_transform (p x r [covariates, factors]: the A
 *   applied, U += x A'), scores (n x r [-, factors]);
 *   se_loadings, se_loadings_naive (without the anchors' term), se_beta,
 *   se_scores (shapes of their estimates; absent with skip_se);
 *   loadings_ml, se_loadings_analytic (the loadings before the bootstrap's
 *   bias correction and their analytic standard errors; only when the
 *   bootstrap ran);
 *   loglik, jic (-2 l + r max(n, q) log min(n, q)), n_obs, n_params,
 *   converged, iterations, starts, starts_at_best, start_loglik (starts),
 *   at_bound (coefficients held at the bound), seed, tol, bound (as used),
 *   ridge, scale_corrected, loading_bootstrap (replicates used; 0: none);
 *   with ridge -1: ridge (the choice), ridge_cv_grid, ridge_cv_score (mean
 *   held-out log-likelihood per response), ridge_cv_se, ridge_cv_unconverged
 *   (folds), ridge_cv_best (index of the choice), ridge_cv_folds,
 *   ridge_cv_heldout.
 * Warnings: coefficients held at the bound, a factor concentrated on few
 * persons (a degenerate joint-ML solution).  ls_result_write writes the
 * fit's JSON (as ls_factor_write_json without DIF tests and selection).
 */
LS_API int ls_factor_run(const ls_factor_data *d, const ls_factor_options *o, ls_result **out,
                  ls_error *err);

/* Differential item functioning: for every item j and covariate s,
 * z = beta_js / se, two-sided p-values, and flags under Bonferroni
 * (p < alpha / q) and Benjamini-Hochberg at level alpha, per covariate. */
enum ls_factor_correction { LS_FACTOR_BONFERRONI = 0, LS_FACTOR_BH = 1 };
/* The checks of a DIF request, runnable before fitting: alpha in (0, 1), a
 * known correction and, when given, covariates in d and standard errors in
 * o (not skip_se).  d and o may be NULL. */
LS_API int ls_factor_dif_check(double alpha, int correction, const ls_factor_data *d,
                        const ls_factor_options *o, ls_error *err);
/* The tests on a "factor-fit" result (with covariates and standard errors):
 * a result of kind "factor-dif" with entries (q x p, labelled [items,
 * covariates]): items, covariates, alpha, correction ("bonferroni" or "bh"),
 * effect, se (the fit's covariate effects and standard errors), z, p_value,
 * flag (by `correction`), flag_bonferroni, flag_bh.  It has no file of its
 * own: ls_factor_write_json puts it in the fit's. */
LS_API int ls_factor_dif_run(const ls_result *fit, double alpha, int correction, ls_result **out,
                      ls_error *err);

/* Number of factors: fits r = rmin..rmax (orthogonal, no standard errors)
 * and the joint information criterion JIC = -2 l + r max(n, q) log(min(n, q)),
 * or under marginal ML (o->method, or auto's choice at rmax) BIC: a result
 * of kind "factor-selection" with entries (one per r): factors (r), loglik,
 * jic (NaN under MML), bic (NaN under JML), criterion ("jic" or "bic"),
 * converged, best (index of the smallest criterion among the converged
 * fits; among all when none converged).  Written with the fit by
 * ls_factor_write_json. */
LS_API int ls_factor_select(const ls_factor_data *d, const ls_factor_options *o, size_t rmin,
                     size_t rmax, ls_result **out, ls_error *err);

/* The factor JSON of a "factor-fit" result with, when not NULL, its
 * "factor-dif" tests and "factor-selection", atomically. */
LS_API int ls_factor_write_json(const ls_result *fit, const ls_result *dif, const ls_result *sel,
                         const char *path, const char *argv_json, ls_error *err);

/* Names of the enums ("bernoulli", "anchor", "mml", ...); static storage. */
LS_API const char *ls_factor_family_name(int family);
LS_API const char *ls_factor_method_name(int method);
LS_API const char *ls_factor_identify_name(int identify);

/* ------------------------------------------------------------------ */
/* Multidimensional generalized partial credit model (module gpcm)     */
/* ------------------------------------------------------------------ */

/*
 * Persons i = 1..n, items j = 1..J, ordered scores y_ij in 0..P_j (missing
 * allowed), theta_i ~ N_K(0, Sigma),
 *   P(y_ij = k | theta) = exp(k a_j' theta - b_jk) / sum_h exp(h a_j' theta - b_jh), b_j0 = 0,
 * fitted by Gaussian variational EM (Cui, Wang and Xu, arXiv 2401.13090) or by
 * marginal maximum likelihood with adaptive Gauss-Hermite quadrature (small K).
 * Confirmatory: a J x K 0/1 loading pattern, Sigma a correlation matrix.
 * Exploratory: a_jk = 0 for k > j on the first K items, Sigma = I, then a
 * promax rotation.  See docs/GPCM.md.
 */
enum ls_gpcm_method { LS_GPCM_GVEM = 0, LS_GPCM_MML = 1 };
enum ls_gpcm_covmode { LS_GPCM_COV_DIF = 0, LS_GPCM_COV_LREG = 1 };

typedef struct ls_gpcm_options {
    size_t factors;       /* K >= 1 (default 1; at most 10)                       */
    int method;           /* enum ls_gpcm_method (default GVEM); MML: K <= 6      */
    unsigned starts;      /* GVEM starts: data-driven, then seeded perturbations (default 3) */
    uint64_t seed;        /* default 1                                            */
    unsigned threads;     /* 0: all cores                                         */
    double tol;           /* GVEM stops when the mean squared change of (a, b) is
                           * below tol (default 1e-6)                            */
    unsigned max_iter;    /* GVEM iterations per start (default 2000)             */
    unsigned nodes;       /* Gauss-Hermite nodes per dimension for MML and the
                           * standard errors (0: 11, 7, 5 for K = 1, 2, 3; 3 for
                           * K = 4..6; 2 above; at most 40); the nodes are
                           * re-centred on each person's posterior before use */
    double gtol;          /* MML: max |gradient| of the mean log-likelihood (1e-4) */
    int skip_se;          /* 1: no standard errors                                */
    /* Person covariates (data built with ls_gpcm_data_build_cov; method MML
     * only; one factor or a confirmatory pattern):
     *   covariate_mode LS_GPCM_COV_DIF (default): every item's a_j' theta
     *     gains beta_j' x_i (differential item functioning), identified by
     *     covariate_condition (enum ls_factor_covcond: min-L1, the default,
     *     "most items are fair", the factor means moving by A' x; or
     *     orthogonal, A = 0), each effect tested (Wald, two-sided) with the
     *     dif_correction (enum ls_factor_correction, default Bonferroni) at
     *     level dif_alpha (default 0.05) per covariate;
     *   LS_GPCM_COV_LREG: latent regression, theta_i ~ N(A' x_i, Sigma), no DIF. */
    int covariate_mode;
    int covariate_condition;
    double dif_alpha;
    int dif_correction;
    int dif_lr;           /* DIF: also fit the latent regression (no DIF) for the
                           * likelihood-ratio test of no DIF at all (a second fit) */
    ls_progress_fn progress;
    void *progress_ctx;
} ls_gpcm_options;

LS_API void ls_gpcm_options_init(ls_gpcm_options *o);
/* LS_OK, or LS_ERR_OPTION with a message naming the field ("tol: expected a
 * positive number").  ls_gpcm_run runs it first. */
LS_API int ls_gpcm_options_check(const ls_gpcm_options *o, ls_error *err);

/* Ordered scores of n persons and J items: an opaque handle, freed by
 * ls_gpcm_data_free. */
typedef struct ls_gpcm_data ls_gpcm_data;

/*
 * Build scores from a table (read it with ls_items_table_read to accept R's
 * row names): `items` is a comma-separated list of names or shell patterns
 * ('A*'; NULL: every column but R's row names); responses must be integers;
 * score = value - lowest (lowest NaN: the smallest value observed over all
 * items).  ncat 0: each item's categories run up to its largest score;
 * ncat 2..64: every item has ncat categories (a larger score is an error).
 * Errors name the argument ("categories: ...") or file, line, column.
 */
LS_API int ls_gpcm_data_build(const ls_table *t, const char *items, double lowest, unsigned ncat,
                       ls_gpcm_data **out, ls_error *err);
/* The same from a long table, one row per response: `columns` is
 * "person,item,response" (column names, as ls_factor_data_build_long);
 * persons and items in order of first appearance; an empty response is no
 * response; a second response of a person to an item is an error naming
 * the line.  The data keep the observed responses only: the fit's memory
 * and time follow them, not persons x items. */
LS_API int ls_gpcm_data_build_long(const ls_table *t, const char *columns, double lowest, unsigned ncat,
                                   ls_gpcm_data **out, ls_error *err);
/* The same with person covariates: `covariates` (NULL: none) a
 * comma-separated list of numeric columns, as ls_factor_data_build (wide:
 * a missing or non-numeric value is an error naming file:line:column) and
 * ls_factor_data_build_long (long: one value per person, the same rules and
 * messages).  The covariates are used by ls_gpcm_run with method MML. */
LS_API int ls_gpcm_data_build_cov(const ls_table *t, const char *items, const char *covariates, double lowest,
                                  unsigned ncat, ls_gpcm_data **out, ls_error *err);
LS_API int ls_gpcm_data_build_long_cov(const ls_table *t, const char *columns, const char *covariates,
                                       double lowest, unsigned ncat, ls_gpcm_data **out, ls_error *err);
/* The same from an n x J int matrix of scores 0, 1, .. (negative: missing;
 * copied), J item names (NULL: "item1"..); the lowest raw value is 0. */
LS_API int ls_gpcm_data_new(size_t n, size_t J, const int *Y, const char *const *items, unsigned ncat,
                     ls_gpcm_data **out, ls_error *err);
LS_API void ls_gpcm_data_free(ls_gpcm_data *d);
LS_API size_t ls_gpcm_data_npersons(const ls_gpcm_data *d);
LS_API size_t ls_gpcm_data_nitems(const ls_gpcm_data *d);
/* Item j's name (borrowed; NULL beyond the last) and number of categories. */
LS_API const char *ls_gpcm_data_item(const ls_gpcm_data *d, size_t j);
LS_API unsigned ls_gpcm_data_categories(const ls_gpcm_data *d, size_t j);
/* The raw value scored 0, and the table's name (NULL for arrays). */
LS_API double ls_gpcm_data_lowest(const ls_gpcm_data *d);
LS_API const char *ls_gpcm_data_source(const ls_gpcm_data *d);
/* Number of covariates, and covariate s's name (borrowed; NULL beyond the last). */
LS_API size_t ls_gpcm_data_ncovariates(const ls_gpcm_data *d);
LS_API const char *ls_gpcm_data_covariate(const ls_gpcm_data *d, size_t s);

/*
 * A loading pattern from a CSV: a header row, then one row per item with K
 * cells 0 or 1; an optional first column named "item" gives item names (the
 * rows are then matched by name, in any order).  *pattern (J x K ints) is
 * allocated by the library; free it with ls_gpcm_pattern_free.  Errors name
 * the file, line and column.
 */
LS_API int ls_gpcm_pattern_read(const char *path, const ls_gpcm_data *d, size_t *K, int **pattern,
                         ls_error *err);
/* The same from a table (e.g. parsed from memory; messages name the table). */
LS_API int ls_gpcm_pattern_from_table(const ls_table *t, const ls_gpcm_data *d, size_t *K, int **pattern,
                               ls_error *err);
LS_API void ls_gpcm_pattern_free(int *pattern);

/*
 * Fit d; pattern (J x K 0/1, K = o->factors) or NULL for exploratory mode:
 * a result of kind "gpcm-fit", also when the iterations did not converge
 * (entry converged 0).  Entries (n persons, J items, K factors, P = the
 * largest number of categories - 1; labels in brackets):
 *   items (J), factors (K: "factor1"..), step (P: "b1".."bP"), source (the
 *   table's name; absent for arrays), method ("gvem" or "mml") (strings);
 *   exploratory, n_persons, lowest (the raw value scored 0), categories (J
 *   [items]), pattern (J x K [items, factors]: 1 = free slope);
 *   slopes (J x K; exploratory: promax-rotated), slopes_unrotated and
 *   rotation (K x K, slopes = slopes_unrotated rotation; exploratory only),
 *   steps (J x P [items, step]: cumulative b_j1..b_jP_j, NaN beyond an item's
 *   categories), factor_cor (K x K), posterior_means (n x K [-, factors]: the
 *   GVEM means in the reported frame);
 *   se_slopes (of the unrotated slopes in exploratory mode), se_steps,
 *   se_factor_cor (K x K, 0 on the diagonal; confirmatory only), and for
 *   exploratory fits se_slopes_rotated, se_factor_cor_rotated (delta method
 *   through the promax rotation): absent when not computed;
 *   elbo, loglik (NaN with skip_se), vbic, bic, n_params, n_obs, converged,
 *   monotone (the lower bound never decreased), iterations, mml_iterations,
 *   starts, starts_at_best, start_elbo (starts; NaN for a start that broke
 *   down or was not run on all persons), elbo_trace (iterations + 1),
 *   seed, tol, nodes, seconds_gvem, seconds_mml, seconds_se (wall clock; not
 *   in the JSON).  With more than 10,000 persons and several starts, the
 *   starts are screened on a seeded subsample and only the best there runs
 *   on all persons: screen_persons (5,000), screen_elbo (starts: their lower
 *   bounds on the subsample); starts_at_best then counts the subsample's.
 * With covariates (p of them): covariates (p), covariate_mode ("dif" or
 *   "latent-regression"); steps are then those of a person with x = 0.
 *   DIF: covariate_condition ("min-l1" or "orthogonal"), dif_effect,
 *   dif_se, dif_z, dif_p, dif_p_adjusted (Bonferroni: min(1, m p); BH: the
 *   step-up adjusted p-values; m the tested effects of the covariate),
 *   dif_flag (J x p [items, covariates]; 1 flagged), dif_fixed (1: fixed at
 *   0 by the min-L1 condition: not tested, z and p NaN, not counted in m),
 *   dif_alpha, dif_correction ("bonferroni" or "bh"), covariate_transform
 *   (p x K [covariates, factors]: the factor means' A, 0 under orthogonal)
 *   and se_covariate_transform; with dif_lr: loglik_no_dif, lr_dif,
 *   lr_dif_df (p (J - K)), lr_dif_p (NaN when the second fit did not
 *   converge); latent regression: covariate_transform,
 *   se_covariate_transform, z_covariate_transform, p_covariate_transform.
 * Warnings: categories never observed, standard errors that could not be
 * computed.  ls_result_write writes the fit's JSON.
 */
LS_API int ls_gpcm_run(const ls_gpcm_data *d, const int *pattern, const ls_gpcm_options *o,
                ls_result **out, ls_error *err);

/* ------------------------------------------------------------------ */
/* HTML report (modules output/report, output/svg)                      */
/* ------------------------------------------------------------------ */

/*
 * One self-contained HTML file (inline CSS and SVG; no scripts, fonts or
 * other files) summarising a fit: observed scores against training compute
 * with predicted curves and bands (ls_predict), the loadings and skill
 * correlations as heatmaps, AIC/BIC/CV against K (from a selection file),
 * compute-optimal frontiers (ls_optimal), a family comparison (ls_compare)
 * and the fit table, under a banner listing every warning of the fit and of
 * those computations.  The file records the version, the options and the
 * seed; same fit, data, options and seed give the same bytes.
 */
typedef struct ls_report_options {
    const char *families;   /* comma-separated families highlighted in figure 1 (at most 8);
                             * NULL: the `top` largest by number of models         */
    size_t top;             /* default 4; 0 with families NULL: the curve of a new
                             * family (prior N(0, Sigma)) only                     */
    const char *compare;    /* "A,B": figure 6, alpha_A - alpha_B; NULL: omitted    */
    const char *select_path;/* JSON written by ls_selection_write_json (latentscale
                             * select --out); NULL: figure 4 omitted with a note  */
    const char *title;      /* page title (NULL: "latentscale report")             */
    double level;           /* interval level of bands and intervals (0.9)         */
    size_t grid;            /* compute points per curve (default 30; 2..1000)      */
    /* The draws' defaults are ls_predict_options_init's (level, param_draws,
     * latent_draws, seed) and ls_optimal_options_init's (draws), so that the
     * report shows ls_predict's, ls_compare's and ls_optimal's numbers. */
    size_t param_draws;     /* parameter draws for bands and comparison (default 200) */
    size_t latent_draws;    /* family draws per parameter draw (default 50)       */
    size_t optimal_draws;   /* draws for the frontiers' intervals (default 1000)   */
    uint64_t seed;          /* default 1                                           */
    unsigned threads;       /* 0: all cores (results do not depend on it)          */
    const char *fit_name;   /* name of the fit file, shown in the page (may be NULL) */
    const char *argv_json;  /* command line as a JSON array text, recorded (may be NULL) */
    const char *param_cov;  /* covariance of the parameter draws: "hessian" (NULL) or
                             * "sandwich" (ls_predict_options.param_cov)           */
} ls_report_options;

/* Documented defaults above (the draws' taken from ls_predict_options_init
 * and ls_optimal_options_init); every pointer NULL. */
LS_API void ls_report_options_init(ls_report_options *o);
LS_API int ls_report_options_check(const ls_report_options *o, ls_error *err);

/* Write the report of fit f (bound to its data d, e.g. by ls_fit_load) to
 * path, atomically: on failure (an option naming an unknown family, an
 * unreadable selection file, ...) no file is created or changed.  Options
 * are checked before anything is computed; messages name the option
 * ("--families: ...") or the file. */
LS_API int ls_report_write(const ls_fit *f, const ls_data *d, const ls_report_options *o, const char *path,
                    ls_error *err);

#ifdef __cplusplus
}
#endif
#endif /* LATENTSCALE_H */
