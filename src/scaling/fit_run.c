/*
 * fit_run.c -- maximum marginal likelihood for the scaling law: a data-driven
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
    /* the family effect: the fit without it first, the start (tau_j =
     * LS_FE_TAU0) and the null model of the likelihood-ratio test */
    if (o->family_effect) {
        ls_fit_options o0 = *o;
        o0.family_effect = 0;
        o0.skip_se = 1;
        o0.skip_check = 1;
        o0.progress = NULL;
        int rc = ls_fit_run(d, &o0, &r->f0, err);
        if (rc) return rc;
    }
    const ls_plan *pl = &r->plan;
    int rc = ls_fit_model_new(d, o, pl->accurate.kind, pl->accurate.nodes, o->threads, &r->m, err);
    if (!rc && pl->search_own) rc = ls_fit_model_new(d, o, pl->search.kind, pl->search.nodes, o->threads, &r->ms, err);
    if (!rc && pl->polish_own) rc = ls_fit_model_new(d, o, pl->polish.kind, pl->polish.nodes, o->threads, &r->mp, err);
    if (!rc && pl->prefinish.kind)
        rc = ls_fit_model_new(d, o, pl->prefinish.kind, pl->prefinish.nodes, o->threads, &r->mq, err);
    if (rc) return rc;
    ls_model_layout(r->m, &r->lay);
    size_t dim = r->lay.dim;
    if ((rc = lsfit_new(d, o, r->m, &r->f, err))) return rc;
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
    if (r->f0 && r->lay.fe) /* every block but tau is the fit without the effect's */
        memcpy(r->th0, r->f0->theta, r->lay.off_t * sizeof(double));
    else if (r->f0) { /* gamma stays 0; the ceilings' kappa follow gamma */
        memcpy(r->th0, r->f0->theta, r->lay.off_g * sizeof(double));
        memcpy(r->th0 + r->lay.off_k, r->f0->theta + r->lay.off_g, r->lay.nkap * sizeof(double));
    }
    if (r->warm && r->warm_dim == dim) {
        int finite = 1;
        for (size_t i = 0; i < dim; i++) finite = finite && isfinite(r->warm[i]);
        if (finite) memcpy(r->th0, r->warm, dim * sizeof(double));
        r->warm_used = finite;
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
    ls_model_free(r->mq);
    ls_fit_free(r->f0);
    ls_fit_free(r->f);
}

int ls_fit_run(const ls_data *d, const ls_fit_options *o, ls_fit **out, ls_error *err)
{
    return ls_fit_run_from(d, o, NULL, 0, out, err);
}

int ls_fit_run_from(const ls_data *d, const ls_fit_options *o, const double *theta, size_t dim, ls_fit **out,
                    ls_error *err)
{
    *out = NULL;
    int rc0 = ls_fit_options_check(o, err);
    if (rc0) return rc0;
    /* anchors chosen from the data ("auto"): the fit runs as if the user had
     * named them, so its file, its refits and its summary carry the names */
    ls_fit_options oa;
    char *auto_anchors = NULL;
    if (lsfit_anchors_auto(o->anchors)) {
        if ((rc0 = lsfit_auto_anchors(d, o->skills, o->estimate_ceilings, &auto_anchors, err))) return rc0;
        oa = *o;
        oa.anchors = auto_anchors;
        o = &oa;
    }
    lsfit_run r;
    memset(&r, 0, sizeof r);
    r.d = d;
    r.o = o;
    r.err = err;
    r.warm = theta;
    r.warm_dim = dim;
    clock_gettime(CLOCK_MONOTONIC, &r.t0);
    ls_fit_plan(o, &r.plan);
    int rc = run_prepare(&r);
    if (!rc) rc = lsfit_structure_warnings(d, o, r.f, err);
    if (!rc) rc = lsfit_search(&r);
    if (!rc) rc = lsfit_polish(&r);
    if (!rc) rc = lsfit_finish(&r);
    if (!rc) rc = lsfit_check(&r);
    if (!rc) rc = lsfit_standard_errors(&r);
    if (!rc) rc = lsfit_scale_warnings(d, r.f);
    if (!rc) rc = lsfit_closing_warnings(&r);
    if (!rc && r.f->warn.failed) rc = ls_nomem(err);
    if (!rc) {
        r.f->seconds = lsfit_since(&r.t0);
        r.f->anchors_auto = auto_anchors != NULL;
        *out = r.f;
        r.f = NULL; /* handed out */
    }
    run_free(&r);
    ls_free(auto_anchors);
    return rc;
}
