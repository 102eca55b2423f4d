/*
 * fit.c -- maximum marginal likelihood for the scaling law: a data-driven
 * start, seeded perturbed starts, L-BFGS and Newton on the
 * adaptive-quadrature likelihood, and the summary users read.
 *
 * ls_fit_run validates its options, plans the rules of its stages
 * (ls_fit_plan), prepares the models and the starts, and runs the stages
 * (fit_stages.c): each start is first run on a cheap rule (a small
 * adaptive product grid; the Laplace rule for K >= 8), the most promising
 * ones are polished on a middle rule, and the best is finished on the
 * accurate one; then its value is checked on a finer rule, its standard
 * errors computed and its warnings written.  One exit frees the run.
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
    int rc = ls_model_new_ext(d, o->skills, o->anchors, integration, nodes, threads, o->precision_covariates,
                              o->estimate_ceilings, out, err);
    if (!rc) ls_model_set_logit_clamp(*out, o->logit_clamp);
    return rc;
}

/* A fit of d under options o on model m (the accurate rule's): its sizes,
 * its own copy of the options and the per-fit arrays; the value, its check
 * and the estimates still to be filled. */
static int fit_new(const ls_data *d, const ls_fit_options *o, const ls_model *m, ls_fit **out, ls_error *err)
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
    if (!rc) rc = fit_new(d, o, m, &f, err);
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
static int run_prepare(lsfit_run *r)
{
    const ls_data *d = r->d;
    const ls_fit_options *o = r->o;
    ls_error *err = r->err;
    /* heteroscedastic precision: the constant-precision fit first, as the
     * start (gamma = 0) and the null model of the likelihood-ratio test */
    if (o->precision_covariates) {
        ls_fit_options o0 = *o;
        o0.precision_covariates = 0;
        o0.skip_se = 1;
        int rc = ls_fit_run(d, &o0, &r->f0, err);
        if (rc) return rc;
    }
    const ls_plan *pl = &r->plan;
    int rc = ls_fit_model_new(d, o, pl->accurate.kind, pl->accurate.nodes, o->threads, &r->m, err);
    if (!rc && pl->search_own) rc = ls_fit_model_new(d, o, pl->search.kind, pl->search.nodes, o->threads, &r->ms, err);
    if (!rc && pl->polish_own) rc = ls_fit_model_new(d, o, pl->polish.kind, pl->polish.nodes, o->threads, &r->mp, err);
    if (rc) return rc;
    ls_model_layout(r->m, &r->lay);
    size_t dim = r->lay.dim;
    if ((rc = fit_new(d, o, r->m, &r->f, err))) return rc;
    ls_fit *f = r->f;
    f->starts = o->starts;
    const ls_model *msearch = r->ms ? r->ms : r->m, *mpolish = r->mp ? r->mp : r->m;
    snprintf(f->search_integration, sizeof f->search_integration, "%s", ls_model_rule_kind(msearch));
    f->search_nodes = ls_model_nodes(msearch);
    f->polish_nodes = ls_model_nodes(mpolish);
    r->th0 = ls_calloc(dim, sizeof(double));
    r->th = ls_calloc(dim, sizeof(double));
    r->best = ls_calloc(dim, sizeof(double));
    f->start_ll = ls_calloc(o->starts, sizeof(double));
    f->polish_ll = ls_calloc(o->starts, sizeof(double));
    r->start_th = ls_calloc((size_t)o->starts * dim, sizeof(double));
    r->considered = ls_calloc(o->starts, 1);
    if (!r->th0 || !r->th || !r->best || !f->start_ll || !f->polish_ll || !r->start_th || !r->considered)
        return ls_nomem(err);
    for (unsigned s = 0; s < o->starts; s++) f->polish_ll[s] = NAN;

    if ((rc = lsfit_initial_params(d, r->m, &f->est, err))) return rc;
    if ((rc = ls_model_pack(r->m, &f->est, r->th0, err))) return rc;
    if (r->f0) { /* gamma stays 0; the ceilings' kappa follow gamma */
        memcpy(r->th0, r->f0->theta, r->lay.off_g * sizeof(double));
        memcpy(r->th0 + r->lay.off_k, r->f0->theta + r->lay.off_g, r->lay.nkap * sizeof(double));
    }
    return LS_OK;
}

static void run_free(lsfit_run *r)
{
    ls_free(r->th0);
    ls_free(r->th);
    ls_free(r->best);
    ls_free(r->start_th);
    ls_free(r->considered);
    ls_model_free(r->m);
    ls_model_free(r->ms);
    ls_model_free(r->mp);
    ls_fit_free(r->f0);
    ls_fit_free(r->f);
}

int ls_fit_run(const ls_data *d, const ls_fit_options *o, ls_fit **out, ls_error *err)
{
    *out = NULL;
    int rc0 = ls_fit_options_check(o, err);
    if (rc0) return rc0;
    lsfit_run r;
    memset(&r, 0, sizeof r);
    r.d = d;
    r.o = o;
    r.err = err;
    clock_gettime(CLOCK_MONOTONIC, &r.t0);
    ls_fit_plan(o, &r.plan);
    int rc = run_prepare(&r);
    if (!rc) rc = lsfit_search(&r);
    if (!rc) rc = lsfit_polish(&r);
    if (!rc) rc = lsfit_finish(&r);
    if (!rc) rc = lsfit_check(&r);
    if (!rc) rc = lsfit_standard_errors(&r);
    if (!rc) rc = lsfit_closing_warnings(&r);
    if (!rc && r.f->warn.failed) rc = ls_nomem(err);
    if (!rc) {
        r.f->seconds = lsfit_since(&r.t0);
        *out = r.f;
        r.f = NULL; /* handed out */
    }
    run_free(&r);
    return rc;
}
