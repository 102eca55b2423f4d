/*
 * tasks.h -- machinery shared by the downstream tasks (private): a sampler
 * that draws the parameters from their asymptotic normal distribution and a
 * family's skills from its posterior under each draw.
 */
#ifndef LS_TASKS_H
#define LS_TASKS_H

#include "scaling/fit.h"
#include "scaling/model.h"

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
/* alpha = L z for the current parameters. */
void ls_sampler_z_to_alpha(const ls_sampler *s, const double *z, double *alpha);

/* Rows of t (an index list) copied into a new table. */
int ls_table_subset(const ls_table *t, const size_t *rows, size_t n, ls_table **out, ls_error *err);

/* d's benchmark names, comma-joined (ls_free), to rebuild data on a subset. */
char *ls_data_bench_list(const ls_data *d);

/* Quantile q of n sorted values (linear interpolation). */
double ls_quantile_sorted(const double *v, size_t n, double q);

#endif
