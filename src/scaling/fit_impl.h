/*
 * fit_impl.h -- the insides of the scaling-law fit, shared by its files
 * only: fit.c (ls_fit_run: validate, plan, prepare, the stages, one
 * cleanup; ls_fit_at), fit_start.c (the starts), fit_optimise.c (the
 * optimisers on one model), fit_stages.c (search, polish, finish, check,
 * standard errors, warnings), check.c (the check of a value) and
 * fit_access.c (the accessors).
 */
#ifndef LS_FIT_IMPL_H
#define LS_FIT_IMPL_H

#include "scaling/fit.h"
#include "scaling/model.h"
#include "scaling/plan.h"

#include <time.h>

/* Seconds since t0 (CLOCK_MONOTONIC). */
double lsfit_since(const struct timespec *t0);

/* Add a warning to f (printf-style).  On a failed allocation the warning
 * is lost and f->warn remembers it: the fit then fails with LS_ERR_NOMEM
 * before it is handed out (ls_fit_run, ls_fit_at). */
void lsfit_warn(ls_fit *f, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Evaluate at th (modes re-found from scratch) and fill the estimates, the
 * family modes and log-likelihoods, the information criteria and gmax.
 * g: dim scratch.  *nfail: families whose mode search stopped short. */
/* A new fit for model m under options o (fit_core.c). */
int lsfit_new(const ls_data *d, const ls_fit_options *o, const ls_model *m, ls_fit **out, ls_error *err);
int lsfit_finish_at(ls_fit *f, ls_model *m, const ls_data *d, const double *th, double *g, size_t *nfail,
                    ls_error *err);
/* The warning of a Sigma near singular (LS_ERR_NOMEM or LS_OK). */
int lsfit_sigma_warning(ls_fit *f, ls_error *err);

/* ---------------------------------------------------------------- */
/* The starts (fit_start.c)                                          */
/* ---------------------------------------------------------------- */

/* The deterministic start for model m on d into pr. */
int lsfit_initial_params(const ls_data *d, const ls_model *m, ls_params *pr, ls_error *err);
/* The anchors chosen from the data (K names, comma-separated, in *names,
 * freed with ls_free): the start's principal components, then greedy
 * pivoting for the best-conditioned anchor block. */
int lsfit_auto_anchors(const ls_data *d, size_t K, const char *estimate_ceilings, char **names, ls_error *err);
/* Whether anchors (an option's value) asks for the data's choice */
int lsfit_anchors_auto(const char *anchors);
/* Start s > 0: th plus seeded Gaussian noise. */
void lsfit_perturb(const ls_model *m, double *th, uint64_t seed, unsigned s);

/* ---------------------------------------------------------------- */
/* The optimisers on one model (fit_optimise.c)                      */
/* ---------------------------------------------------------------- */

/* With --logit-clamp the objective has a kink wherever a cell's eta
 * crosses the clip at a node, so gtol is out of reach and Newton and L-BFGS
 * creep along the kinks (K = 4 on the paper data: 1464 iterations, 425 s,
 * ending max |g| 1.29).  There the polish stops once two Newton steps in a
 * row each gain less than this (capping the polish at 100 or 300
 * iterations instead ended within 0.02 of the 1464-iteration value). */
#define KINK_FTOL 1e-3

/* How lsfit_newton_polish treats the node map. */
enum {
    LSFIT_NEWTON_ADAPT,  /* re-adapt at every accepted point                        */
    LSFIT_NEWTON_COARSE, /* the same, stopping once a step no longer improves the
                          * re-adapted objective: the coarse rule resolves no more  */
    LSFIT_NEWTON_FROZEN  /* adapt at th once and hold the map: a smooth objective   */
};
int lsfit_newton_polish(ls_model *m, double *th, const ls_fit_options *o, int mode, const double *known,
                        double f_known, double ftol, const char *stage, ls_opt_report *rep, ls_error *err);
/* The same on the frozen map, carrying the Newton matrix between calls
 * (ls_newton_options.carry: dim x dim, *valid 0 before the first);
 * adapted: the map was adapted at th by the model's last evaluation, so
 * it is only frozen, not adapted again */
int lsfit_newton_frozen_carry(ls_model *m, double *th, const ls_fit_options *o, const char *stage, double *carry,
                              int *valid, int adapted, ls_opt_report *rep, ls_error *err);
int lsfit_optimise_start(ls_model *m, double *th, const ls_fit_options *o, const char *stage, ls_opt_report *tot,
                         ls_error *err);
int lsfit_precond_polish(ls_model *m, double *th, const ls_fit_options *o, int rounds, const char *stage,
                         ls_opt_report *tot, ls_error *err);
int lsfit_polish_point(ls_model *m, double *th, const ls_fit_options *o, const double *known, double f_known,
                       const char *stage, ls_opt_report *rep, ls_error *err);

/* ---------------------------------------------------------------- */
/* One run of ls_fit_run and its stages (fit_stages.c)               */
/* ---------------------------------------------------------------- */

/* The run: its plan, models and working points.  The run owns every
 * pointer but d, o and err (fit.c, run_free); f is handed out at the end. */
typedef struct lsfit_run {
    const ls_data *d;
    const ls_fit_options *o;
    ls_error *err;
    struct timespec t0;
    ls_plan plan;
    ls_fit *f;                 /* the fit being made                          */
    ls_fit *f0;                /* heteroscedastic precision: the constant-precision fit */
    ls_model *m;               /* the accurate rule's model                   */
    ls_model *ms, *mp;         /* the search's and the polish's (NULL: m)     */
    ls_model *mq;              /* the finish's first rule (plan.prefinish; NULL: none) */
    ls_layout lay;             /* m's theta                                   */
    double *th0;               /* dim: the deterministic start                */
    const double *warm;        /* warm_dim: a start given instead (NULL: none) */
    size_t warm_dim;
    int warm_used;             /* warm was finite and taken as the start      */
    double *th;                /* dim: work                                   */
    double *best;              /* dim: the best polished point                */
    double *start_th;          /* starts x dim: where the search left each start */
    unsigned char *considered; /* starts: already picked for polishing        */
    double best_search;        /* the best search value                       */
    double best_ll;            /* the best polished value                     */
    ls_opt_report best_rep;    /* and its report                              */
    unsigned polished;
    double agree;              /* polished values this close to the best agree */
    size_t nfail;              /* families whose final mode search stopped short */
    char stage[64];            /* the progress callback's label               */
} lsfit_run;

/* Each returns LS_OK or the status that ends the fit (err filled). */
int lsfit_search(lsfit_run *r);
int lsfit_polish(lsfit_run *r);
int lsfit_finish(lsfit_run *r);
int lsfit_check(lsfit_run *r);
int lsfit_standard_errors(lsfit_run *r);
int lsfit_closing_warnings(lsfit_run *r);

/* ---------------------------------------------------------------- */
/* Identification (check.c)                                          */
/* ---------------------------------------------------------------- */

/* A covariate direction varies within families when more than this share
 * of its variance lies within them (the paper data's least varying
 * direction: 0.6-0.8 %; the first 8 rows of openllm_v1: 0.04 % and
 * 0.0006 %). */
#define LS_WITHIN_SHARE 1e-3
/* |beta_std| above this: a standard deviation of a covariate moves a skill
 * by more standard deviations of the family effects (the paper data: 1.3
 * at most at K = 1, 2); and |lambda_j^T beta_std| above it: a benchmark's
 * logit by more than this. */
#define LS_BETA_STD_MAX 20.0
/* The observed information's condition number above this: nearly singular. */
#define LS_INFO_COND_MAX 1e10

/* Before the optimiser: families too few for the skills' family effects
 * once the covariate directions that hardly vary within families
 * (LS_WITHIN_SHARE) have taken theirs (families >= 1 + those directions
 * + 2 x skills), with the remedy (a subset of the covariate terms, or fewer
 * skills) as a warning on f. */
int lsfit_structure_warnings(const ls_data *d, const ls_fit_options *o, ls_fit *f, ls_error *err);
/* After the standard errors: covariate effects at absurd scales
 * (LS_BETA_STD_MAX) and a nearly singular observed information
 * (LS_INFO_COND_MAX). */
int lsfit_scale_warnings(const ls_data *d, ls_fit *f);

#endif
