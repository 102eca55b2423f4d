/*
 * fit_json.c -- JSON output of fits and true parameters (jansson), written
 * atomically.  Doubles are printed with 17 significant digits so they
 * round-trip; non-finite numbers become null.  Nothing time- or
 * thread-dependent is written, so the same input, options and seed give
 * byte-identical files.
 */
#include "kernel/json.h"
#include "kernel/atomic.h"
#include "scaling/fit.h"
#include "kernel/special.h"

#include <jansson.h>
#include <math.h>
#include <string.h>

static const char *integration_name(int k)
{
    switch (k) {
    case LS_INT_LAPLACE: return "laplace";
    case LS_INT_GH: return "gauss-hermite";
    case LS_INT_QMC: return "qmc";
    case LS_INT_SPARSE: return "sparse-grid";
    default: return "auto";
    }
}

/* A natural-vector quantity (estimates, standard errors, bounds) as named
 * blocks (ls_nat_layout). */
static json_t *se_block(const ls_fit *f, const double *v)
{
    size_t K = f->K, J = f->J, p = f->p, o[LS_NAT_NBLOCKS + 1];
    ls_fit_nat_layout(f, o);
    json_t *js = json_object();
    json_object_set_new(js, "beta", ls_json_mat(v + o[LS_NAT_BETA], p, K));
    json_object_set_new(js, "lambda", ls_json_mat(v + o[LS_NAT_LAMBDA], K, J));
    json_object_set_new(js, "b", ls_json_vec(v + o[LS_NAT_B], J));
    json_object_set_new(js, "phi", ls_json_vec(v + o[LS_NAT_PHI], J));
    json_object_set_new(js, "sigma", ls_json_mat(v + o[LS_NAT_SIGMA], K, K));
    if (o[LS_NAT_GAMMA + 1] > o[LS_NAT_GAMMA]) json_object_set_new(js, "gamma", ls_json_vec(v + o[LS_NAT_GAMMA], p));
    if (o[LS_NAT_CEILING + 1] > o[LS_NAT_CEILING])
        json_object_set_new(js, "ceilings", ls_json_vec(v + o[LS_NAT_CEILING], J));
    if (o[LS_NAT_TAU + 1] > o[LS_NAT_TAU]) json_object_set_new(js, "tau", ls_json_vec(v + o[LS_NAT_TAU], J));
    return js;
}

/* The 95 % intervals' lower or upper bounds from standard errors se. */
static json_t *ci_block(const ls_fit *f, const ls_data *d, const double *est, const double *se, int upper)
{
    double *v = ls_calloc(f->inf.nnat, sizeof(double));
    if (!v) return NULL;
    lss_confint_bound(f, d, est, se, LS_Z95, upper, v);
    json_t *o = se_block(f, v);
    ls_free(v);
    return o;
}

/* Standard errors of three kinds and the Hessian-based covariance matrix of
 * the natural vector, with the name of every entry. */
static json_t *se_json(const ls_fit *f, const ls_data *d)
{
    size_t K = f->K, J = f->J, p = f->p, q = f->inf.nnat;
    static const char *kinds[3] = {"hessian", "opg", "sandwich"};
    json_t *o = json_object();
    for (int k = 0; k < 3; k++)
        json_object_set_new(o, kinds[k], f->inf.ok[k] ? se_block(f, f->inf.se[k]) : json_null());
    json_object_set_new(o, "information_min_eigenvalue", ls_json_num(f->inf.min_eig));
    json_object_set_new(o, "information_max_eigenvalue", ls_json_num(f->inf.max_eig));
    double *est = ls_calloc(q, sizeof(double));
    if (!est) { json_decref(o); return NULL; }
    {
        ls_fit_nat_estimates(f, est);
        json_t *ci = json_object();
        json_object_set_new(ci, "level", json_real(0.95));
        json_object_set_new(ci, "method",
                            json_string("Wald on the natural scale; log scale for phi and anchor loadings; Fisher z for correlations"));
        for (int k = 0; k < 3; k++) {
            if (!f->inf.ok[k] || !f->inf.se[k]) continue;
            json_t *kb = json_object(), *lo = ci_block(f, d, est, f->inf.se[k], 0), *hi = ci_block(f, d, est, f->inf.se[k], 1);
            if (!kb || !lo || !hi) {
                json_decref(kb); json_decref(lo); json_decref(hi); json_decref(ci); json_decref(o);
                ls_free(est);
                return NULL;
            }
            json_object_set_new(kb, "lower", lo);
            json_object_set_new(kb, "upper", hi);
            json_object_set_new(ci, kinds[k], kb);
        }
        json_object_set_new(o, "confidence_intervals", ci);
        ls_free(est);
    }
    json_t *names = json_array();
    char buf[512];
    const char *sk[64];
    for (size_t k = 0; k < K && k < 64; k++) sk[k] = d->bench[f->est.anchors[k]];
    for (size_t a = 0; a < p; a++)
        for (size_t k = 0; k < K; k++) {
            snprintf(buf, sizeof buf, "beta[%s,%s]", d->covariate[a], sk[k]);
            json_array_append_new(names, json_string(buf));
        }
    for (size_t k = 0; k < K; k++)
        for (size_t j = 0; j < J; j++) {
            snprintf(buf, sizeof buf, "lambda[%s,%s]", sk[k], d->bench[j]);
            json_array_append_new(names, json_string(buf));
        }
    for (size_t j = 0; j < J; j++) {
        snprintf(buf, sizeof buf, "b[%s]", d->bench[j]);
        json_array_append_new(names, json_string(buf));
    }
    for (size_t j = 0; j < J; j++) {
        snprintf(buf, sizeof buf, "phi[%s]", d->bench[j]);
        json_array_append_new(names, json_string(buf));
    }
    for (size_t k = 0; k < K; k++)
        for (size_t l = 0; l < K; l++) {
            snprintf(buf, sizeof buf, "sigma[%s,%s]", sk[k], sk[l]);
            json_array_append_new(names, json_string(buf));
        }
    for (size_t a = 0; f->est.hetero && a < p; a++) {
        snprintf(buf, sizeof buf, "gamma[%s]", d->covariate[a]);
        json_array_append_new(names, json_string(buf));
    }
    for (size_t j = 0; f->nkap && j < J; j++) {
        snprintf(buf, sizeof buf, "ceiling[%s]", d->bench[j]);
        json_array_append_new(names, json_string(buf));
    }
    for (size_t j = 0; f->est.family_effect && j < J; j++) {
        snprintf(buf, sizeof buf, "tau[%s]", d->bench[j]);
        json_array_append_new(names, json_string(buf));
    }
    json_t *cov = json_object();
    json_object_set_new(cov, "kind", json_string("inverse observed information, delta method to the natural scales"));
    json_object_set_new(cov, "order", names);
    json_object_set_new(cov, "matrix", f->inf.ok[0] ? ls_json_mat(f->inf.cov, q, q) : json_null());
    json_object_set_new(o, "covariance", cov);
    json_object_set_new(o, "theta_covariance",
                        f->inf.ok[0] && f->inf.theta_cov ? ls_json_mat(f->inf.theta_cov, f->dim, f->dim) : json_null());
    return o;
}

int ls_fit_write_json(const ls_fit *f, const ls_data *d, const char *path, const char *argv_json,
                      ls_error *err)
{
    size_t K = f->K, J = f->J, p = f->p;
    json_t *root = json_object();
    if (!root) return ls_nomem(err);
    json_object_set_new(root, "version", json_string(LS_VERSION));
    json_object_set_new(root, "model", json_string("latent-variable scaling law (arXiv 2512.06553)"));

    json_t *data = json_object();
    json_object_set_new(data, "file", json_string(d->source));
    json_object_set_new(data, "models", json_integer((json_int_t)d->n));
    json_object_set_new(data, "families", json_integer((json_int_t)d->F));
    json_object_set_new(data, "observed_cells", json_integer((json_int_t)d->ncell));
    json_object_set_new(data, "missing_share",
                        ls_json_num(1.0 - (double)d->ncell / (double)(d->n * d->J)));
    json_object_set_new(data, "clipped_cells", json_integer((json_int_t)d->nclipped));
    json_object_set_new(data, "duplicate_models", json_integer((json_int_t)d->ndup));
    json_object_set_new(data, "dropped", ls_json_strs(d->dropped, d->ndropped));
    json_object_set_new(root, "data", data);
    json_t *dopt = json_object();
    json_object_set_new(dopt, "clip", json_real(d->clip));
    json_object_set_new(dopt, "model_column", json_string(d->model_col));
    json_object_set_new(dopt, "family_column", json_string(d->family_col));
    json_object_set_new(dopt, "size_column", json_string(d->size_col));
    json_object_set_new(dopt, "tokens_column", json_string(d->tokens_col));
    json_object_set_new(dopt, "drop_incomplete", json_boolean(d->ndropped > 0 || d->drop_incomplete));
    json_object_set_new(root, "data_options", dopt);

    json_object_set_new(root, "loglik", ls_json_num(f->loglik));
    json_object_set_new(root, "aic", ls_json_num(f->aic));
    json_object_set_new(root, "bic", ls_json_num(f->bic));
    json_object_set_new(root, "bic_n", json_integer((json_int_t)f->F));
    json_object_set_new(root, "n_params", json_integer((json_int_t)f->nparams));
    json_object_set_new(root, "converged", json_boolean(f->converged));
    json_object_set_new(root, "skills", json_integer((json_int_t)K));
    json_t *sn = json_array();
    for (size_t k = 0; k < K; k++) json_array_append_new(sn, json_string(d->bench[f->est.anchors[k]]));
    json_object_set_new(root, "skill_names", sn);
    json_object_set_new(root, "benchmarks", ls_json_strs(d->bench, J));
    json_object_set_new(root, "floors", ls_json_vec(d->floor, J));
    json_object_set_new(root, "ceilings", ls_json_vec(f->est.ceiling, J));
    if (f->nkap) {
        json_t *ce = json_array();
        for (size_t j = 0; j < J; j++)
            if (f->kap[j]) json_array_append_new(ce, json_string(d->bench[j]));
        json_object_set_new(root, "ceilings_estimated", ce);
    }
    json_object_set_new(root, "covariates", ls_json_strs(d->covariate, p));
    json_t *cs = json_object();
    json_object_set_new(cs, "mean", ls_json_vec(d->x_mean, p));
    json_object_set_new(cs, "sd", ls_json_vec(d->x_sd, p));
    {
        double *mn = ls_calloc(p + 1, sizeof(double)), *mx = ls_calloc(p + 1, sizeof(double));
        if (!mn || !mx) { ls_free(mn); ls_free(mx); json_decref(cs); json_decref(root); return ls_nomem(err); }
        double st[2];
        lss_covariate_ranges(d, mn, mx, st);
        if (isfinite(st[0])) /* observed range of size x tokens, for compute budgets */
            json_object_set_new(cs, "size_tokens_range", ls_json_vec(st, 2));
        json_object_set_new(cs, "min", ls_json_vec(mn, p));
        json_object_set_new(cs, "max", ls_json_vec(mx, p));
        ls_free(mn);
        ls_free(mx);
    }
    json_object_set_new(root, "covariate_scaling", cs);

    json_t *conv = json_object();
    json_object_set_new(conv, "criterion", json_string(ls_fit_convergence_criterion(f)));
    json_object_set_new(conv, "max_abs_gradient", ls_json_num(f->gmax));
    json_object_set_new(conv, "node_map", json_string(f->frozen ? "frozen near the optimum" : "re-adapted"));
    if (f->frozen) json_object_set_new(conv, "max_abs_gradient_frozen", ls_json_num(f->gmax_frozen));
    json_object_set_new(conv, "hessian", json_string(f->hessian > 0    ? "negative definite"
                                                     : f->hessian == 0 ? "not negative definite"
                                                                       : "not computed"));
    if (f->hessian >= 0) json_object_set_new(conv, "information_min_eigenvalue", ls_json_num(f->info_min_eig));
    json_object_set_new(conv, "iterations", json_integer(f->iter));
    json_object_set_new(conv, "evaluations", json_integer(f->evals));
    json_object_set_new(conv, "reason", json_string(f->reason));
    json_object_set_new(conv, "starts", json_integer(f->starts));
    json_object_set_new(conv, "starts_at_best", json_integer(f->starts_at_best));
    json_object_set_new(conv, "start_loglik_search", ls_json_vec(f->start_ll, f->starts));
    json_object_set_new(conv, "start_loglik_polished", ls_json_vec(f->polish_ll, f->starts));
    json_object_set_new(root, "convergence", conv);
    json_t *integ = json_object();
    json_object_set_new(integ, "method", json_string(f->integration));
    json_object_set_new(integ, "nodes", json_integer((json_int_t)f->nodes));
    json_object_set_new(integ, "search_method", json_string(f->search_integration));
    json_object_set_new(integ, "search_nodes", json_integer((json_int_t)f->search_nodes));
    json_object_set_new(integ, "polish_nodes", json_integer((json_int_t)f->polish_nodes));
    if (isfinite(f->ll_check)) { /* the value checked by a finer rule */
        json_object_set_new(integ, "check_method", json_string(f->check_method));
        json_object_set_new(integ, "check_points", json_integer((json_int_t)f->check_points));
        json_object_set_new(integ, "check_loglik", ls_json_num(f->ll_check));
        if (isfinite(f->ll_check_se)) json_object_set_new(integ, "check_se", ls_json_num(f->ll_check_se));
        double ca, cb; /* the information criteria of the checked value */
        ls_fit_check_criteria(f, &ca, &cb);
        json_object_set_new(integ, "check_aic", ls_json_num(ca));
        json_object_set_new(integ, "check_bic", ls_json_num(cb));
    }
    json_object_set_new(root, "integration", integ);

    json_t *par = json_object();
    json_object_set_new(par, "beta", ls_json_mat(f->est.beta, p, K));
    json_object_set_new(par, "beta_std", ls_json_mat(f->beta_std, p, K));
    json_object_set_new(par, "lambda", ls_json_mat(f->est.lambda, K, J));
    json_object_set_new(par, "b", ls_json_vec(f->est.b, J));
    json_object_set_new(par, "b_std", ls_json_vec(f->b_std, J));
    json_object_set_new(par, "phi", ls_json_vec(f->est.phi, J));
    json_object_set_new(par, "sigma", ls_json_mat(f->est.sigma, K, K));
    if (f->est.hetero) {
        json_object_set_new(par, "gamma", ls_json_vec(f->est.gamma, p));
        json_object_set_new(par, "precision_model",
                            json_string("log phi_ij = log phi_j + gamma . (x_i - mean x): phi_j is the precision at the covariate means, gamma on the raw covariate scale"));
    }
    if (f->est.family_effect) {
        json_object_set_new(par, "tau", ls_json_vec(f->est.tau, J));
        json_object_set_new(par, "family_effect_model",
                            json_string("eta_ij + u_fj, u_fj ~ N(0, tau_j^2) independent over families f and benchmarks j and of the skills"));
    }
    json_object_set_new(par, "theta", ls_json_vec(f->theta, f->dim));
    json_object_set_new(root, "parameters", par);
    if (f->have_se) {
        json_t *se = se_json(f, d);
        if (!se) { json_decref(root); return ls_nomem(err); }
        json_object_set_new(root, "standard_errors", se);
    }
    if (f->have_fe_lr) {
        json_t *pt = json_object();
        json_object_set_new(pt, "loglik_without", ls_json_num(f->fe_ll0));
        json_object_set_new(pt, "lr", ls_json_num(f->fe_lr));
        json_object_set_new(pt, "null_distribution",
                            json_string("mixture of chi-square(k), k = 0..J, binomial(J, 1/2) weights (tau = 0 is on the boundary)"));
        json_object_set_new(pt, "p_value", ls_json_num(f->fe_p));
        json_object_set_new(root, "family_effect_test", pt);
    }
    if (f->have_lr) {
        json_t *pt = json_object();
        json_object_set_new(pt, "loglik_constant", ls_json_num(f->ll_const));
        json_object_set_new(pt, "aic_constant", ls_json_num(f->aic_const));
        json_object_set_new(pt, "loglik_covariates", ls_json_num(f->loglik));
        json_object_set_new(pt, "aic_covariates", ls_json_num(f->aic));
        json_object_set_new(pt, "lr", ls_json_num(f->lr));
        json_object_set_new(pt, "df", ls_json_num(f->lr_df));
        json_object_set_new(pt, "p_value", ls_json_num(f->lr_p));
        json_object_set_new(root, "precision_test", pt);
    }

    json_t *fams = json_array();
    for (size_t g = 0; g < f->F; g++) {
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string(d->family[g]));
        json_object_set_new(o, "models", json_integer((json_int_t)d->fam_nrows[g]));
        json_object_set_new(o, "alpha_mode", ls_json_vec(f->alpha + g * K, K));
        json_object_set_new(o, "loglik", ls_json_num(f->fam_ll[g]));
        json_array_append_new(fams, o);
    }
    json_object_set_new(root, "families", fams);
    json_t *w = json_array();
    for (size_t i = 0; i < ls_fit_nwarnings(f); i++) json_array_append_new(w, json_string(ls_fit_warning(f, i)));
    json_object_set_new(root, "warnings", w);
    if (f->calib_pit) {
        json_t *cal = json_object(), *lv = json_object();
        json_object_set_new(cal, "method", json_string("largest sibling of every family with two or more models held out, "
                                                       "the law refitted without them (in folds of families, from the fit's estimates); "
                                                       "predictive CDF values of their scores, pooled and per benchmark"));
        json_object_set_new(cal, "models", json_integer((json_int_t)f->calib_models));
        json_object_set_new(cal, "cells", json_integer((json_int_t)f->calib_n));
        static const double qs[] = {0.05, 0.25, 0.5, 0.75, 0.95};
        for (size_t a = 0; a < sizeof qs / sizeof qs[0]; a++) {
            char key[16];
            snprintf(key, sizeof key, "%.2f", qs[a]);
            json_object_set_new(lv, key, ls_json_num(ls_fit_calibrated_level(f, qs[a])));
        }
        json_object_set_new(cal, "levels", lv);
        json_object_set_new(cal, "pit", ls_json_vec(f->calib_pit, f->calib_n));
        if (f->calib_boff) {
            json_object_set_new(cal, "folds", json_integer((json_int_t)f->calib_folds));
            json_object_set_new(cal, "cold_refits", json_integer((json_int_t)f->calib_cold));
            json_t *pb = json_object(), *lb = json_object();
            for (size_t j = 0; j < J; j++) {
                json_object_set_new(pb, d->bench[j], ls_json_vec(f->calib_bpit + f->calib_boff[j],
                                                                 f->calib_boff[j + 1] - f->calib_boff[j]));
                json_t *lj = json_object();
                for (size_t a = 0; a < sizeof qs / sizeof qs[0]; a++) {
                    char key[16];
                    snprintf(key, sizeof key, "%.2f", qs[a]);
                    json_object_set_new(lj, key, ls_json_num(ls_fit_calibrated_level_at(f, j, qs[a])));
                }
                json_object_set_new(lb, d->bench[j], lj);
            }
            json_object_set_new(cal, "pit_by_benchmark", pb);
            json_object_set_new(cal, "levels_by_benchmark", lb);
        }
        json_object_set_new(root, "calibration", cal);
    }

    json_object_set_new(root, "seed", json_integer((json_int_t)f->opt.seed));
    json_t *opts = json_object();
    json_object_set_new(opts, "skills", json_integer((json_int_t)K));
    json_t *an = json_array();
    for (size_t k = 0; k < K; k++) json_array_append_new(an, json_string(d->bench[f->est.anchors[k]]));
    json_object_set_new(opts, "anchors", an);
    json_object_set_new(opts, "anchors_chosen", json_string(f->anchors_auto ? "data" : "named"));
    json_object_set_new(opts, "starts", json_integer(f->opt.starts));
    json_object_set_new(opts, "seed", json_integer((json_int_t)f->opt.seed));
    json_object_set_new(opts, "integration", json_string(integration_name(f->opt.integration)));
    json_object_set_new(opts, "nodes", json_integer(f->opt.nodes));
    json_object_set_new(opts, "gtol", ls_json_num(f->opt.gtol));
    json_object_set_new(opts, "max_iter", json_integer(f->opt.max_iter));
    json_object_set_new(opts, "standard_errors", json_boolean(!f->opt.skip_se));
    json_object_set_new(opts, "loglik_check", json_boolean(!f->opt.skip_check));
    json_object_set_new(opts, "logit_clamp", json_real(f->opt.logit_clamp));
    json_object_set_new(opts, "precision_covariates", json_boolean(f->opt.precision_covariates));
    json_object_set_new(opts, "family_effect", json_boolean(f->opt.family_effect));
    json_object_set_new(opts, "estimate_ceilings", f->opt.estimate_ceilings && *f->opt.estimate_ceilings
                                                       ? json_string(f->opt.estimate_ceilings) : json_null());
    ls_json_add_argv(opts, argv_json);
    json_object_set_new(root, "options", opts);

    int rc = ls_json_write(root, path, err);
    json_decref(root);
    return rc;
}

int ls_params_write_json(const ls_params *pr, const ls_table *t, const double *floors,
                         const char *path, const char *argv_json, ls_error *err)
{
    size_t K = pr->K, J = pr->J, p = pr->p;
    json_t *root = json_object();
    if (!root) return ls_nomem(err);
    json_object_set_new(root, "version", json_string(LS_VERSION));
    json_object_set_new(root, "kind", json_string("true parameters (raw log scale)"));
    json_object_set_new(root, "skills", json_integer((json_int_t)K));
    json_t *bn = json_array();
    for (size_t j = 0; j < J && t; j++) json_array_append_new(bn, json_string(ls_table_colname(t, 4 + j)));
    json_object_set_new(root, "benchmarks", bn);
    json_t *cv = json_array();
    json_array_append_new(cv, json_string("log(size)"));
    json_array_append_new(cv, json_string("log(tokens)"));
    json_array_append_new(cv, json_string("log(size)*log(tokens)"));
    json_object_set_new(root, "covariates", cv);
    if (floors) json_object_set_new(root, "floors", ls_json_vec(floors, J));
    json_t *par = json_object();
    json_object_set_new(par, "beta", ls_json_mat(pr->beta, p, K));
    json_object_set_new(par, "lambda", ls_json_mat(pr->lambda, K, J));
    json_object_set_new(par, "b", ls_json_vec(pr->b, J));
    json_object_set_new(par, "phi", ls_json_vec(pr->phi, J));
    json_object_set_new(par, "sigma", ls_json_mat(pr->sigma, K, K));
    json_object_set_new(root, "parameters", par);
    if (pr->ceiling) json_object_set_new(root, "ceilings", ls_json_vec(pr->ceiling, J));
    if (pr->family_effect) json_object_set_new(par, "tau", ls_json_vec(pr->tau, J));
    json_t *opts = json_object();
    ls_json_add_argv(opts, argv_json);
    json_object_set_new(root, "options", opts);
    int rc = ls_json_write(root, path, err);
    json_decref(root);
    return rc;
}
