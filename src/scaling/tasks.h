/*
 * tasks.h -- machinery shared by the downstream tasks (private): a sampler
 * that draws the parameters from their asymptotic normal distribution and a
 * family's skills from its posterior under each draw.
 */
#ifndef LS_TASKS_H
#define LS_TASKS_H

#include "scaling/fit.h"
#include "scaling/model.h"

#include <jansson.h>
#include "kernel/result.h"

#include <gsl/gsl_rng.h>

#define LS_PRIOR ((size_t)-1) /* "family" index meaning: a new family, alpha ~ N(0, Sigma) */

typedef struct ls_sampler {
    const ls_data *d;
    const ls_fit *fit;
    ls_model *m;       /* bound to d; holds the current parameter draw      */
    double *chol;      /* dim x dim Cholesky factor of the theta covariance, or NULL */
    double *th;        /* current parameter draw (dim)                      */
    double *eps;       /* dim scratch                                       */
    double *prop;      /* proposals for resampling                          */
    double *lw;        /* their log weights                                 */
    double *r;         /* J scratch                                         */
    size_t nprop;
    gsl_rng *rng;
} ls_sampler;

/* A sampler for fit f on d.  With param_uncertainty 1 the theta covariance
 * is the fit's inverse observed information, with 2 its sandwich (each
 * computed when the fit has none); 0: the estimates only. */
int ls_sampler_new(const ls_data *d, const ls_fit *f, unsigned threads, int param_uncertainty,
                   uint64_t seed, ls_sampler **out, ls_error *err);
void ls_sampler_free(ls_sampler *s);
/* A param_cov option ("hessian" or NULL, "sandwich") as ls_sampler_new's
 * param_uncertainty (1, 2), or -1 with an option error. */
int ls_param_cov_kind(const char *param_cov, ls_error *err);
/* Next parameter draw (the estimate itself when point != 0 or without
 * uncertainty); adapts the listed families' posteriors to it. */
int ls_sampler_params(ls_sampler *s, int point, const size_t *fams, size_t nf, ls_error *err);
/* M draws of alpha (M x K) from family f's posterior under the current
 * parameters (sampling-importance-resampling around the adapted rule's
 * map), or from the prior N(0, Sigma) when f == LS_PRIOR. */
int ls_sampler_alpha(ls_sampler *s, size_t f, size_t M, double *alpha, ls_error *err);
/* The same, and with the family effect (fit option family_effect) each
 * draw's u_fj (M x J into u; the posterior given the draw's skills, or the
 * prior for a new family; zeros without the effect).  u may be NULL. */
int ls_sampler_alpha_u(ls_sampler *s, size_t f, size_t M, double *alpha, double *u, ls_error *err);
/* alpha = L z for the current parameters. */
void ls_sampler_z_to_alpha(const ls_sampler *s, const double *z, double *alpha);

/* Rows of t (an index list) copied into a new table. */
int ls_table_subset(const ls_table *t, const size_t *rows, size_t n, ls_table **out, ls_error *err);

/* d's benchmark names, comma-joined (ls_free), to rebuild data on a subset. */
char *ls_data_bench_list(const ls_data *d);

/* Quantile q of n sorted values (linear interpolation). */
double ls_quantile_sorted(const double *v, size_t n, double q);

/* ---------------------------------------------------------------- */
/* The payloads of the tasks' results (ls_result, kernel/result.h):  */
/* what each computes, plus the names its file needs, so a result     */
/* writes itself without the fit or the data.                         */
/* ---------------------------------------------------------------- */

typedef struct lss_posterior {
    size_t K, chains, draws;
    double *mode, *laplace_cov, *quad_mean, *quad_cov, *mcmc_mean, *mcmc_cov, *rhat, *ess;
    double accept;
    double *sample;      /* chains x draws x K */
    char *family;
    char **skills;       /* K */
    uint64_t seed;
} lss_posterior;

typedef struct lss_prediction {
    size_t n, J;
    double level;
    char **model, **family;   /* n */
    int *known;               /* n */
    double *mean, *median, *lower, *upper, *map, *observed; /* n x J */
    char **benchmarks;        /* J */
    uint64_t seed;
    int param_uncertainty;    /* 0 none, 1 inverse information, 2 sandwich */
    double *q25, *q75;        /* n x J: the central 50 % interval (evaluation's second level) */
    double *pit;              /* n x J: predictive CDF at the observed score (NaN: none) */
    int calibrated;           /* 1: the quantiles' levels came from the fit's calibration */
    ls_strlist warn;          /* extrapolation, near-miss family names */
} lss_prediction;

enum { LSS_NBASELINES = 3 }; /* the one-line baselines of baseline.c */

/* evaluate's nested selection (ls_evaluate_select) */
typedef struct lss_evalsel {
    size_t kmin, kmax;
    int interaction;          /* 1: also each K without the covariates' product terms */
    int ceilings;             /* 1: also the ceilings the data find saturating (prefixes) */
} lss_evalsel;

/* The configuration chosen by the sibling criterion (configure.c):
 * evaluate's, made inside the training rows; select's, over all rows.
 * sel_nk 0: none. */
typedef struct lss_config {
    size_t sel_nk, sel_nc;    /* K values, configurations (covariate list x ceilings) */
    size_t *sel_K;            /* sel_nk */
    char **sel_cov;           /* sel_nc: each configuration's covariate list */
    char **sel_ceil;          /* sel_nc: its estimated ceilings ("" none) */
    size_t *sel_nceil;        /* sel_nc: how many */
    double *sel_mae;          /* sel_nk x sel_nc: sibling MAE (NaN: not available) */
    double *sel_diff, *sel_se; /* sel_nk x sel_nc: MAE less the smallest's, paired over the
                               * held-out families, and its standard error (NaN: none) */
    int *sel_conv;            /* sel_nk x sel_nc: the full fit converged */
    size_t sel_k, sel_c;      /* the choice (indices) */
    char *sel_rank;           /* with ceilings: the ranking fit's candidates, "name z,.." */
} lss_config;

typedef struct lss_evaluation {
    lss_prediction pred;      /* the test rows */
    ls_fit *fit;              /* the fit on the training rows */
    ls_data *train;
    size_t J;
    double *mae;              /* J */
    double mae_overall, mae_mean, mae_map, coverage;
    double coverage50;        /* share of cells inside the central 50 % interval */
    double *coverage_bench;   /* J: coverage at the level per benchmark (NaN: none scored) */
    size_t n_cells, n_train, n_test, n_excluded;
   int has_baselines;        /* 0: the data lack size and tokens */
    double *baseline_mae;     /* LSS_NBASELINES x J */
    double baseline_overall[LSS_NBASELINES];
    char *warning;            /* drop_incomplete's (NULL: nothing dropped) */
    lss_config cs;            /* evaluate's nested selection (ls_evaluate_select), made inside the
                               * training rows; cs.sel_nk 0 without one */
} lss_evaluation;

/* The one-line baselines of an evaluation (baseline.c).  pred receives
 * LSS_NBASELINES x nte x J predictions of the test rows from the training
 * data tr, whose rows have log compute lf_train; the test rows are of the
 * families te_family with log compute lf_test. */
extern const char *const lss_baseline_names[LSS_NBASELINES];
extern const char *const lss_baseline_descriptions[LSS_NBASELINES];
int lss_baselines(const ls_data *tr, const double *lf_train, size_t nte, const char *const *te_family,
                  const double *lf_test, double *pred, ls_error *err);

typedef struct lss_selection {
    size_t nk;
    size_t *K;
    double *loglik, *aic, *bic, *cv;
    size_t *nparams;
    int *converged, *sampled;
    size_t best_aic, best_bic, best_cv;
    double *sibling;          /* nk: MAE of the predictive median on every family's largest
                               * model, held out and predicted from the other rows (NaN: none) */
    size_t best_sibling;      /* index into K; meaningful when has_sibling */
    int has_sibling;
    unsigned folds;
    uint64_t seed;
    char *warning;            /* drop_incomplete's (NULL: nothing dropped) */
    size_t reused;            /* fits taken from the journal instead of run */
    size_t nsib;              /* the sibling hold-out's rows (families) */
    double *sib_abs;          /* nk x nsib: each held-out row's summed absolute error of the
                               * median over its scored cells (NaN: taken from a journal
                               * that did not keep them, sib_partial) */
    int sib_partial;
    size_t *sib_cells;        /* nsib: those cells */
    size_t *refits, *refits_unconverged; /* nk: the folds' and the sibling hold-out's fits
                               * run, and how many of them did not converge */
    lss_config *cfg;          /* ls_select_configure's choice of configuration (NULL: none) */
} lss_selection;

/* The sibling criterion alone over K = kmin..kmax on the table t (select
 * with no folds, no journal and no check rule on the full fits): out's
 * sibling and best_sibling (has_sibling 0 when fewer than 5 families have
 * two or more models).  For evaluate's nested selection. */
int lss_select_siblings(const ls_table *t, const ls_data_options *dopt, const ls_fit_options *fo, size_t kmin,
                        size_t kmax, lss_selection *out, ls_error *err);
/* The same with a journal (NULL: none) that is kept when the run
 * completes: the caller removes it once the whole selection has. */
int lss_select_siblings_journal(const ls_table *t, const ls_data_options *dopt, const ls_fit_options *fo,
                                size_t kmin, size_t kmax, const char *journal, lss_selection *out, ls_error *err);

/* The configurations of sel (configure.c), each scored over K by the
 * sibling criterion on the table tt (built with the options o2): the
 * covariate lists (with interaction, also without their product terms)
 * and, with ceilings, for each the prefixes of the ceiling screen's
 * candidates, none first.  The smallest MAE among the converged fits is the
 * reference (only when none converged, among all); the choice is the
 * configuration with the fewest estimated ceilings whose MAE is within one
 * standard error of the reference's (the difference paired over the
 * held-out families), and within it the smallest MAE.  pre (NULL: none) is
 * a sibling run of the first configuration over the same K, borrowed (with
 * every family's absolute errors).  journal (NULL: none): the other
 * configurations' sibling fits are journaled in journal.config<c> (c from
 * 1) and the ceiling screen's fits in journal.screen, kept until
 * lss_configure_forget removes them. */
int lss_configure(const ls_table *tt, const ls_data_options *o2, const ls_fit_options *fo, const lss_evalsel *sel,
                  const lss_selection *pre, const char *journal, lss_config *out, ls_error *err);
/* Remove the configurations' journals of lss_configure (journal NULL:
 * nothing). */
void lss_configure_forget(const char *journal, size_t nc);
/* sel from the flags LS_SELECT_INTERACTION and LS_SELECT_CEILINGS, after
 * the checks: known flags, ceilings not also named by fo, a product term to
 * drop.  Errors name "select", "select_ceilings", "select_interaction". */
int lss_evalsel_make(const ls_data_options *dopt, const ls_fit_options *fo, size_t kmin, size_t kmax, int flags,
                     lss_evalsel *sel, ls_error *err);
/* c's arrays for nk K values and nc configurations, zeroed (-1: no
 * memory; lss_config_clear frees what was allocated). */
int lss_config_alloc(lss_config *c, size_t nk, size_t nc);
void lss_config_clear(lss_config *c);
/* The result entries select_* and selected_* of a choice, and a warning,
 * prefixed by where, for each fit that did not converge (first_warned: not
 * for the first configuration's, which the caller's K table warned of). */
int lss_config_entries(ls_result *r, const lss_config *c, const char *where, int first_warned, ls_error *err);

/* select's journal (journal.c): one slot per K and job (0 the full fit,
 * 1..folds the folds, folds + 1 the sibling hold-out). */
typedef struct lss_job {
    int done;
    double value;             /* full fit: log-likelihood; fold: held-out log-likelihood; siblings: MAE */
    double aic, bic;          /* the full fit's */
    size_t nparams;
    int converged, sampled;   /* converged: every job's fit; sampled: the full fit's */
    double *theta;            /* the full fit's estimate (dim; owned), the folds' start */
    size_t dim;
    double *fam_abs;          /* the sibling hold-out's: each held-out family's summed absolute
                               * error and its cells (nfam; owned; NULL: not kept) */
    size_t *fam_cells, nfam;
} lss_job;
/* The inputs' key: the version, the data as built, the fit options that
 * change a fit, the folds. */
uint64_t lss_select_key(const ls_data *d, const ls_fit_options *fo, unsigned folds);
/* Take the entries of a journal document with this key into job (nk x per
 * slots, K from kmin; a full fit's estimate allocated into theta, which the
 * caller frees); returns how many (0 for other inputs). Entries that do not
 * parse, or fall outside the slots, are ignored. */
size_t lss_journal_take(const json_t *root, uint64_t key, size_t kmin, size_t nk, size_t per, lss_job *job);
/* Write every done job, atomically. */
int lss_journal_write(const char *path, uint64_t key, size_t kmin, size_t nk, size_t per, const lss_job *job,
                      ls_error *err);

typedef struct lss_allocation {
    size_t ntarget, nbudget;
    double *budget;
    double *size, *size_lo, *size_hi, *tokens, *tokens_lo, *tokens_hi, *value;
    double *edge;             /* nbudget: the budget the allocation was computed at (the
                               * requested one, or the reachable edge it was clamped to) */
    char **target;            /* ntarget: the anchor benchmark of a skill, or a benchmark */
    int nskills;              /* the first nskills targets are skills */
    ls_optimal_options opt;   /* as used (ranges filled in), budgets borrowed no more */
} lss_allocation;

typedef struct lss_comparison {
    size_t K;
    double level;
    double *mean_a, *mean_b, *diff, *lower, *upper, *prob_greater;
    char *family_a, *family_b;
    char **skills;
    uint64_t seed;
} lss_comparison;

/* The data-free part of a fit file (ls_fit_summary_read, ls_fit_summarise). */
struct ls_fit_summary {
    ls_params est;
    char **benchmarks;  /* J */
    char **covariates;  /* p */
    double *nat_cov;    /* beta .. sigma (and gamma); NULL when absent */
    double range[4];    /* size min, max (billions), tokens min, max (trillions); NaN without */
    double st_range[2]; /* size x tokens min, max; NaN without */
    uint64_t seed;
    ls_strlist warn;    /* the fit's warnings */
};

/* Names of the skills (their anchor benchmarks), K new strings (ls_strv_free). */
char **lss_skill_names(const ls_fit *f, const ls_data *d);
/* Every warning of the fit, prefixed "the fit: ", into the task's result r:
 * a task on a fit that did not converge says so (predict.c). */
int lss_result_fit_warnings(ls_result *r, const ls_fit *f, ls_error *err);
/* The predictive distributions of the rows of newt (predict.c), into out. */
int lss_predict_compute(const ls_fit *f, const ls_data *d, const ls_table *newt, const ls_predict_options *o,
                        lss_prediction *out, ls_error *err);
/* role[i] = 0 (train) or 1 (test: the largest model, by size then tokens, of
 * every family of d with at least two models); t is the table d was built from. */
int lss_roles_largest(const ls_table *t, const ls_data *d, int *role, ls_error *err);
/* ls_fit_calibrate; where the data have too few families with two or more
 * models: an error when required, else a warning in f and LS_OK; the
 * refits report to progress (NULL: none), which can cancel them
 * (calibrate.c) */
int lss_fit_calibrate(ls_fit *f, const ls_data *d, const ls_table *t, const ls_data_options *dopt,
                      const ls_predict_options *o, int required, ls_progress_fn progress, void *progress_ctx,
                      ls_error *err);
/* The nested selection's choice among nk K x nc covariate lists (row-major
 * sibling MAEs and convergence flags): the smallest finite MAE among the
 * converged fits, or among all when none converged; ties keep the smaller
 * K, then the earlier list.  0 when no MAE is finite. */
int lss_select_choose(const double *mae, const int *conv, size_t nk, size_t nc, size_t *k, size_t *c);
/* A selection table's choices (best_aic, best_bic, best_cv, best_sibling)
 * from its values: each criterion's best among the K whose full fit
 * converged (for cv and the sibling MAE: and all of whose refits did),
 * only when there is none among all; ties keep the smaller K.  Needs nk,
 * folds, has_sibling and the value and convergence arrays. */
void lss_selection_choose(lss_selection *s);
/* Entries of a prediction (shared by prediction and evaluation results). */
int lss_prediction_entries(ls_result *r, const lss_prediction *p, ls_error *err);
void lss_prediction_clear(lss_prediction *p);
/* The tasks' writers (results.c), installed on their results. */
int lss_write_posterior(const ls_result *r, const char *path, const char *format,
                        const char *argv_json, ls_error *err);
int lss_write_prediction(const ls_result *r, const char *path, const char *format,
                         const char *argv_json, ls_error *err);
int lss_write_evaluation(const ls_result *r, const char *path, const char *format,
                         const char *argv_json, ls_error *err);
int lss_write_selection(const ls_result *r, const char *path, const char *format,
                        const char *argv_json, ls_error *err);
int lss_write_allocation(const ls_result *r, const char *path, const char *format,
                         const char *argv_json, ls_error *err);
int lss_write_comparison(const ls_result *r, const char *path, const char *format,
                         const char *argv_json, ls_error *err);
/* The selection result around a filled payload (select.c; also its reader). */
int lss_selection_result(lss_selection *s, ls_result **out, ls_error *err);
void lss_selection_free(void *s);

#endif
