/*
 * fit_core.c -- the fit object: its options' defaults, its creation at a
 * point of the parameter space (ls_fit_at, and the finish of every fit:
 * estimates, family modes, information criteria there), its warnings and
 * its release.  Used by ls_fit_run's stages (fit.c, fit_stages.c) and by
 * the check and the fit files that rebuild a fit without optimising.
 */
#include "scaling/fit_impl.h"
#include "scaling/params.h"
#include "kernel/linalg.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void ls_fit_options_init(ls_fit_options *o)
{
    memset(o, 0, sizeof *o);
    o->skills = 4;
    o->starts = 8;
    o->seed = 1;
    o->integration = LS_INT_AUTO;
    o->gtol = 1e-2;
    o->max_iter = 3000;
    o->calibration_folds = 5;
    o->calibrate = 1;
}

void ls_fit_free(ls_fit *f)
{
    if (!f) return;
    ls_params_free(&f->est);
    ls_free(f->beta_std);
    ls_free(f->b_std);
    ls_free(f->theta);
    ls_free(f->alpha);
    ls_free(f->fam_ll);
    ls_free(f->start_ll);
    ls_free(f->polish_ll);
    ls_inference_free(&f->inf);
    ls_free(f->anchors);
    ls_free(f->est_ceil);
    ls_free(f->kap);
    ls_free(f->calib_pit);
    ls_free(f->calib_bpit);
    ls_free(f->calib_boff);
    ls_strlist_free(&f->warn);
    ls_free(f);
}

double lsfit_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + 1e-9 * (double)(t.tv_nsec - t0->tv_nsec);
}

void lsfit_warn(ls_fit *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ls_strlist_vadd(&f->warn, fmt, ap); /* a failure is kept in f->warn.failed */
    va_end(ap);
}

int ls_fit_model_new(const ls_data *d, const ls_fit_options *o, int integration, unsigned nodes, unsigned threads,
                     ls_model **out, ls_error *err)
{
    if (o->family_effect && integration == LS_INT_AUTO && !nodes) { /* the fit's accurate rule */
        ls_rule_spec s = ls_plan_family_effect_rule(o->skills);
        integration = s.kind;
        nodes = s.nodes;
    }
    int rc = ls_model_new_ext(d, o->skills, o->anchors, integration, nodes, threads, o->precision_covariates,
                              o->estimate_ceilings, out, err);
    if (!rc) ls_model_set_logit_clamp(*out, o->logit_clamp);
    if (!rc && o->family_effect && (rc = ls_model_enable_family_effect(*out, 0, err))) {
        ls_model_free(*out);
        *out = NULL;
    }
    return rc;
}

/* A fit of d under options o on model m (the accurate rule's): its sizes,
 * its own copy of the options and the per-fit arrays; the value, its check
 * and the estimates still to be filled. */
int lsfit_new(const ls_data *d, const ls_fit_options *o, const ls_model *m, ls_fit **out, ls_error *err)
{
    ls_layout l;
    ls_model_layout(m, &l);
    ls_fit *f = *out = ls_calloc(1, sizeof *f);
    if (!f) return ls_nomem(err);
    f->K = l.K;
    f->J = l.J;
    f->p = l.p;
    f->F = d->F;
    f->n = d->n;
    f->dim = l.dim;
    f->opt = *o;
    f->opt.progress = NULL;
    f->opt.progress_ctx = NULL;
    if (o->anchors && !(f->anchors = ls_strdup(o->anchors))) return ls_nomem(err);
    f->opt.anchors = f->anchors;
    if (o->estimate_ceilings && !(f->est_ceil = ls_strdup(o->estimate_ceilings))) return ls_nomem(err);
    f->opt.estimate_ceilings = f->est_ceil;
    snprintf(f->integration, sizeof f->integration, "%s", ls_model_rule_kind(m));
    f->nodes = ls_model_nodes(m);
    f->ll_check = NAN; /* until checked */
    f->hessian = -1;   /* until the standard errors */
    f->info_min_eig = NAN;
    f->ll_check_se = NAN;
    /* which ceilings m estimates */
    if (!(f->kap = ls_calloc(f->J, 1))) return ls_nomem(err);
    f->nkap = l.nkap;
    for (size_t j = 0; j < f->J; j++) f->kap[j] = l.kap_of[j] >= 0;
    f->beta_std = ls_calloc(f->p * f->K + 1, sizeof(double));
    f->b_std = ls_calloc(f->J, sizeof(double));
    f->theta = ls_calloc(f->dim, sizeof(double));
    f->alpha = ls_calloc(f->F * f->K, sizeof(double));
    f->fam_ll = ls_calloc(f->F, sizeof(double));
    if (!f->beta_std || !f->b_std || !f->theta || !f->alpha || !f->fam_ll) return ls_nomem(err);
    return ls_params_alloc(&f->est, f->K, f->J, f->p, err);
}

int lsfit_finish_at(ls_fit *f, ls_model *m, const ls_data *d, const double *th, double *g, size_t *nfail,
                    ls_error *err)
{
    size_t K = f->K, dim = f->dim;
    ls_model_reset_modes(m);
    double ll;
    int rc = ls_model_loglik(m, th, &ll, g, f->fam_ll, err);
    if (rc) return rc;
    f->gmax = 0;
    for (size_t i = 0; i < dim; i++) f->gmax = fmax(f->gmax, fabs(g[i]));
    f->loglik = ll;
    memcpy(f->theta, th, dim * sizeof(double));
    ls_model_unpack(m, th, &f->est);
    memcpy(f->beta_std, f->est.beta, f->p * K * sizeof(double));
    memcpy(f->b_std, f->est.b, f->J * sizeof(double));
    ls_params_to_raw(&f->est, d->x_mean, d->x_sd);
    *nfail = 0;
    for (size_t fam = 0; fam < f->F; fam++)
        *nfail += ls_model_family_mode(m, fam, f->alpha + fam * K, NULL) != 0;
    f->nparams = dim;
    ls_info_criteria(ll, dim, f->F, &f->aic, &f->bic);
    return LS_OK;
}

/* Sigma near singular: some combination of skills hardly varies across
 * families, and the likelihood rises towards the boundary of correlation
 * matrices (which the parametrisation reaches at a finite point, see
 * sigma_rows in model.c).  On the paper data the smallest eigenvalue is
 * 0.24 at K = 4, 1e-8 at K = 6 and 2e-13 at K = 9; at K = 8..10 three to five are
 * below 0.01.  Such a skill is a combination of the others across
 * families, and its correlations are at the edge of what they can be, where
 * normal-theory standard errors do not describe them. */
int lsfit_sigma_warning(ls_fit *f, ls_error *err)
{
    size_t K = f->K;
    if (K < 2) return LS_OK;
    double *S = ls_calloc(K * K, sizeof(double)), *V = ls_calloc(K * K, sizeof(double));
    double *ev = ls_calloc(K, sizeof(double));
    int rc = S && V && ev ? LS_OK : ls_nomem(err);
    if (!rc) {
        memcpy(S, f->est.sigma, K * K * sizeof(double));
        if (ls_eigen_symm(S, K, ev, V) == 0 && ev[0] < 0.01) {
            size_t nsmall = 0;
            while (nsmall < K && ev[nsmall] < 0.01) nsmall++;
            lsfit_warn(f, "skill correlations nearly singular (%zu of %zu eigenvalues < 0.01, smallest %.2g): the maximum is on the boundary, where standard errors of the correlations mislead; fewer skills may do",
                       nsmall, K, ev[0]);
        }
    }
    ls_free(S);
    ls_free(V);
    ls_free(ev);
    return rc;
}

int ls_fit_at(const ls_data *d, const ls_fit_options *o, const double *theta, ls_fit **out,
              ls_error *err)
{
    *out = NULL;
    ls_plan plan;
    ls_fit_plan(o, &plan);
    ls_model *m = NULL;
    ls_fit *f = NULL;
    double *g = NULL;
    int rc = ls_fit_model_new(d, o, plan.accurate.kind, plan.accurate.nodes, o->threads, &m, err);
    if (!rc) rc = lsfit_new(d, o, m, &f, err);
    if (!rc && !(g = ls_calloc(f->dim, sizeof(double)))) rc = ls_nomem(err);
    if (rc) goto done;
    snprintf(f->reason, sizeof f->reason, "%s", "loaded");
    f->check_integration = plan.check.kind; /* the rule only: no value computed here */
    f->check_nodes = plan.check.nodes;
    size_t nfail;
    if ((rc = lsfit_finish_at(f, m, d, theta, g, &nfail, err))) goto done;
    f->converged = f->gmax <= o->gtol;
    rc = lsfit_sigma_warning(f, err);
    if (!rc && f->warn.failed) rc = ls_nomem(err);
done:
    ls_free(g);
    ls_model_free(m);
    if (rc) ls_fit_free(f);
    else *out = f;
    return rc;
}

/* ---------------------------------------------------------------- */
/* The multi-start fit                                               */
/* ---------------------------------------------------------------- */

/* The run's models (the plan's rules), its fit and buffers, and the
 * deterministic start r->th0. */
