/*
 * latentscale_r.h -- shared helpers of the R package's C layer (r/src/).
 *
 * Every C object is wrapped in an external pointer with a finalizer as soon
 * as it exists, so an R error (an allocation failure, an interrupt) cannot
 * leak it; the entry points free what they no longer need explicitly.
 * Library failures never longjmp out of C: an entry point returns a small
 * list of class "ls_c_error" (code, status, message) and the R wrapper
 * (.ls_call in R/util.R) turns it into a condition of class
 * c("latentscale_error", "error", "condition").
 */
#ifndef LATENTSCALE_R_H
#define LATENTSCALE_R_H

#define R_NO_REMAP
#include <R.h>
#include <Rinternals.h>

#include <latentscale.h>

/* The R list of a result: see result.c. */
SEXP lsr_result_to_list(const ls_result *r);
/* The "ls_c_error" list of a failed call. */
SEXP lsr_error(const ls_error *e);
/* A progress callback that cancels on a user interrupt. */
int lsr_progress(void *ctx, const char *stage, double done, double total);

/* Optional arguments from R: NULL or NA -> default. */
const char *lsr_str(SEXP s);
double lsr_num(SEXP s, double dflt);

/* External pointers with finalizers; lsr_ptr(x) is NULL once cleared. */
SEXP lsr_wrap(void *p, R_CFinalizer_t fin);
void *lsr_ptr(SEXP x);
void lsr_clear(SEXP x);
void lsr_fin_table(SEXP x);
void lsr_fin_result(SEXP x);

SEXP lsr_fit(SEXP path, SEXP dopts, SEXP fopts);
SEXP lsr_fit_info(SEXP x);
SEXP lsr_predict(SEXP x, SEXP path, SEXP popts);
SEXP lsr_factor(SEXP path, SEXP items, SEXP covariates, SEXP opts, SEXP dif);
SEXP lsr_gpcm(SEXP path, SEXP items, SEXP pattern, SEXP opts);
SEXP lsr_version(void);

#endif
