/*
 * io.c -- factor-model data from tables (the items reader of the kernel,
 * with dichotomising and the family's checks) or from arrays, and the JSON
 * of a fit, written atomically.
 */
#include "factor/fit.h"
#include "kernel/items.h"
#include "kernel/json.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---------------------------------------------------------------- */
/* Data                                                              */
/* ---------------------------------------------------------------- */

void ls_factor_data_free(ls_factor_data *d)
{
    if (!d) return;
    ls_resp_free(&d->R);
    ls_free(d->X);
    ls_strv_free(d->items, d->q);
    ls_strv_free(d->covariates, d->p);
    ls_free(d->line);
    ls_free(d->source);
    ls_free(d);
}

typedef struct cell_ctx {
    double dichotomise;
    int family;
} cell_ctx;

/* A response read from the table: dichotomised, then checked against the
 * family (items.h's ls_items_check). */
static int check_cell(void *ctx, const ls_table *t, size_t i, size_t c, double *v, ls_error *err)
{
    const cell_ctx *x = ctx;
    if (isfinite(x->dichotomise)) *v = *v >= x->dichotomise ? 1.0 : 0.0;
    const char *bad = NULL;
    if ((x->family == LS_FACTOR_BERNOULLI || x->family == LS_FACTOR_PROBIT) && *v != 0.0 && *v != 1.0)
        bad = "expected 0 or 1 for a binary response (dichotomise the items)";
    else if (x->family == LS_FACTOR_POISSON && (*v < 0 || *v != floor(*v) || *v > 1e9))
        bad = "expected a count (a non-negative integer)";
    if (!bad) return LS_OK;
    return ls_fail(err, LS_ERR_INPUT, "%s:%zu:%zu: column '%s': %s, found '%.40s'", ls_table_name(t),
                   ls_table_line(t, i), c + 1, ls_table_colname(t, c), bad, ls_table_cell(t, i, c));
}

/* A new data handle owning the arrays of it (which is left empty). */
static int data_from_items(ls_items *it, ls_factor_data **out, ls_error *err)
{
    ls_factor_data *d = ls_calloc(1, sizeof *d);
    if (!d) {
        ls_items_free(it);
        return ls_nomem(err);
    }
    d->n = it->n;
    d->q = it->q;
    d->p = it->p;
    if (it->Y) { /* a wide table: keep the observed cells only */
        int rc = ls_resp_from_dense(it->Y, it->n, it->q, &d->R, err);
        if (rc) {
            ls_free(d);
            ls_items_free(it);
            return rc;
        }
        ls_free(it->Y);
        it->Y = NULL;
    } else {
        d->R = it->R;
        memset(&it->R, 0, sizeof it->R);
    }
    d->X = it->X;
    d->items = it->items;
    d->covariates = it->covariates;
    d->line = it->line;
    d->source = it->source;
    ls_free(it->col);
    memset(it, 0, sizeof *it);
    *out = d;
    return LS_OK;
}

int ls_factor_data_build(const ls_table *t, const char *items, const char *covariates,
                         double dichotomise, int family, ls_factor_data **out, ls_error *err)
{
    *out = NULL;
    if (!items) return ls_fail(err, LS_ERR_OPTION, "items: required");
    cell_ctx ctx = {dichotomise, family};
    ls_items it;
    int rc = ls_items_read(t, items, covariates, check_cell, &ctx, &it, err);
    return rc ? rc : data_from_items(&it, out, err);
}

int ls_factor_data_build_long(const ls_table *t, const char *columns, const char *covariates, double dichotomise,
                              int family, ls_factor_data **out, ls_error *err)
{
    *out = NULL;
    cell_ctx ctx = {dichotomise, family};
    ls_items it;
    int rc = ls_items_read_long(t, columns, covariates, check_cell, &ctx, &it, err);
    return rc ? rc : data_from_items(&it, out, err);
}

int ls_factor_data_new(size_t n, size_t q, size_t p, const double *Y, const double *X,
                       const char *const *items, const char *const *covariates,
                       ls_factor_data **out, ls_error *err)
{
    *out = NULL;
    if (n == 0 || q < 2) return ls_fail(err, LS_ERR_INPUT, "responses: expected at least 1 person and 2 items, "
                                                          "found %zu x %zu", n, q);
    if (!Y || (p && !X)) return ls_fail(err, LS_ERR_INPUT, "responses: no values");
    for (size_t c = 0; c < n * q; c++)
        if (isinf(Y[c]))
            return ls_fail(err, LS_ERR_INPUT, "responses: person %zu, item %zu: expected a finite number or NaN "
                           "(missing)", c / q + 1, c % q + 1);
    for (size_t j = 0; j < q; j++) {
        size_t cnt = 0;
        for (size_t i = 0; i < n; i++) cnt += !isnan(Y[i * q + j]);
        if (!cnt) return ls_fail(err, LS_ERR_INPUT, "responses: item %zu: no observed responses", j + 1);
    }
    for (size_t s = 0; s < p; s++) {
        double lo = INFINITY, hi = -INFINITY;
        for (size_t i = 0; i < n; i++) {
            double x = X[i * p + s];
            if (!isfinite(x))
                return ls_fail(err, LS_ERR_INPUT, "covariates: person %zu, covariate %zu: expected a finite number",
                               i + 1, s + 1);
            lo = fmin(lo, x);
            hi = fmax(hi, x);
        }
        if (!(hi > lo)) return ls_fail(err, LS_ERR_INPUT, "covariates: covariate %zu is constant", s + 1);
    }
    ls_items it;
    memset(&it, 0, sizeof it);
    it.n = n;
    it.q = q;
    it.p = p;
    it.X = ls_malloc((p ? n * p : 1) * sizeof *it.X);
    it.items = ls_items_names(items, q, "item");
    it.covariates = ls_items_names(covariates, p, "x");
    if (!it.X || !it.items || !it.covariates) {
        ls_items_free(&it);
        return ls_nomem(err);
    }
    int rc = ls_resp_from_dense(Y, n, q, &it.R, err);
    if (rc) {
        ls_items_free(&it);
        return rc;
    }
    if (p) memcpy(it.X, X, n * p * sizeof *it.X);
    return data_from_items(&it, out, err);
}

int lsf_data_view(ls_factor_data *d, size_t n, size_t q, size_t p, const double *Y, double *X)
{
    memset(d, 0, sizeof *d);
    d->n = n;
    d->q = q;
    d->p = p;
    d->X = X;
    return ls_resp_from_dense(Y, n, q, &d->R, NULL);
}

void lsf_data_view_free(ls_factor_data *d) { ls_resp_free(&d->R); }

size_t ls_factor_data_npersons(const ls_factor_data *d) { return d ? d->n : 0; }
size_t ls_factor_data_nitems(const ls_factor_data *d) { return d ? d->q : 0; }
size_t ls_factor_data_ncovariates(const ls_factor_data *d) { return d ? d->p : 0; }
const char *ls_factor_data_item(const ls_factor_data *d, size_t j)
{
    return d && d->items && j < d->q ? d->items[j] : NULL;
}
const char *ls_factor_data_covariate(const ls_factor_data *d, size_t s)
{
    return d && d->covariates && s < d->p ? d->covariates[s] : NULL;
}
const char *ls_factor_data_source(const ls_factor_data *d) { return d ? d->source : NULL; }

int ls_factor_data_anchors(const ls_factor_data *d, const char *names, size_t factors, size_t *anchors,
                           ls_error *err)
{
    char **v = NULL;
    size_t nv = 0, k = 0;
    int rc = ls_split(names ? names : "", &v, &nv, err);
    for (size_t a = 0; !rc && a < nv; a++) {
        if (!*v[a]) continue; /* "A2,,C1": empty names are skipped */
        size_t j = 0;
        while (j < d->q && !(d->items && strcmp(d->items[j], v[a]) == 0)) j++;
        if (j == d->q) rc = ls_fail(err, LS_ERR_OPTION, "anchors: '%.100s' is not one of the items", v[a]);
        else if (k < factors) anchors[k] = j;
        k++;
    }
    if (!rc && k != factors)
        rc = ls_fail(err, LS_ERR_OPTION, "anchors: %zu names for %zu factors", k, factors);
    ls_strv_free(v, nv);
    return rc;
}

/* ---------------------------------------------------------------- */
/* JSON                                                              */
/* ---------------------------------------------------------------- */

/* Columns s0..s0+w of a row-major matrix with `cols` columns. */
static json_t *json_cols(const double *v, size_t rows, size_t cols, size_t s0, size_t w)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < rows; i++) json_array_append_new(a, ls_json_vec(v + i * cols + s0, w));
    return a;
}

static const char *correction_name(int c) { return c == LS_FACTOR_BH ? "bh" : "bonferroni"; }

int lsf_write_json(const lsf_fit *f, const lsf_dif *dif, const lsf_selection *sel, const ls_result *warn,
                   const char *path, const char *argv_json, ls_error *err)
{
    if (!f) return ls_fail(err, LS_ERR_OPTION, "write: expected a factor fit");
    const size_t n = f->n, q = f->q, p = f->p, r = f->r, p1 = p + 1;
    json_t *root = json_object();
    if (!root) return ls_nomem(err);
    json_object_set_new(root, "version", json_string(LS_VERSION));
    json_object_set_new(root, "kind", json_string("factor"));
    json_object_set_new(root, "seed", json_integer((json_int_t)f->seed));
    json_t *opts = json_object();
    json_object_set_new(opts, "family", json_string(ls_factor_family_name(f->family)));
    json_object_set_new(opts, "identify", json_string(ls_factor_identify_name(f->identify)));
    json_object_set_new(opts, "covariate_condition",
                        json_string(f->covariate_condition == LS_FACTOR_COV_L1 ? "min-l1" : "orthogonal"));
    json_object_set_new(opts, "factors", json_integer((json_int_t)r));
    json_object_set_new(opts, "method", json_string(ls_factor_method_name(f->method)));
    if (f->method_reason) json_object_set_new(opts, "method_reason", json_string(f->method_reason));
    if (f->method == LS_FACTOR_MML) json_object_set_new(opts, "nodes", json_integer(f->nodes));
    json_t *an = json_array();
    for (size_t k = 0; k < r; k++) json_array_append_new(an, json_string(f->items[f->anchors[k]]));
    json_object_set_new(opts, "anchors", an);
    json_object_set_new(opts, "starts", json_integer(f->starts));
    json_object_set_new(opts, "bound", ls_json_num(f->bound));
    json_object_set_new(opts, "tol", ls_json_num(f->tol));
    json_object_set_new(opts, "ridge", ls_json_num(f->ridge));
    if (f->ridge_cv.folds) { /* the ridge chosen by cross-validation (ridge.c) */
        const lsf_ridge_cv *cv = &f->ridge_cv;
        json_t *rc = json_object(), *unc = json_array();
        json_object_set_new(rc, "method", json_string("k-fold cross-validation over held-out responses"));
        json_object_set_new(rc, "rule", json_string("best mean held-out log-likelihood"));
        json_object_set_new(rc, "folds", json_integer(cv->folds));
        json_object_set_new(rc, "heldout_responses", json_integer((json_int_t)cv->heldout));
        json_object_set_new(rc, "never_heldout_responses", json_integer((json_int_t)cv->kept));
        json_object_set_new(rc, "fits", json_integer(cv->fits));
        json_object_set_new(rc, "chosen", ls_json_num(cv->grid[cv->best]));
        json_object_set_new(rc, "grid", ls_json_vec(cv->grid, cv->m));
        json_object_set_new(rc, "score", ls_json_vec(cv->score, cv->m));
        json_object_set_new(rc, "se", ls_json_vec(cv->se, cv->m));
        for (size_t k = 0; unc && k < cv->m; k++) json_array_append_new(unc, json_integer(cv->unconverged[k]));
        json_object_set_new(rc, "unconverged_folds", unc);
        json_object_set_new(opts, "ridge_cv", rc);
    }
    json_object_set_new(opts, "scale_corrected", json_boolean(f->scale_corrected));
    json_object_set_new(opts, "loading_bootstrap", json_integer(f->loading_bootstrap));
    json_object_set_new(opts, "loadings_bias_corrected", json_boolean(f->gamma_ml != NULL));
    ls_json_add_argv(opts, argv_json);
    json_object_set_new(root, "options", opts);
    json_t *data = json_object();
    json_object_set_new(data, "file", json_string(f->source ? f->source : ""));
    json_object_set_new(data, "persons", json_integer((json_int_t)n));
    json_object_set_new(data, "items", ls_json_strs(f->items, q));
    json_object_set_new(data, "covariates", ls_json_strs(f->covariates, p));
    json_object_set_new(data, "observed_cells", json_integer((json_int_t)f->nobs));
    json_object_set_new(data, "missing_share", ls_json_num(1.0 - (double)f->nobs / ((double)n * (double)q)));
    json_object_set_new(root, "data", data);
    json_object_set_new(root, "loglik", ls_json_num(f->loglik));
    json_object_set_new(root, "jic", ls_json_num(f->jic));
    json_object_set_new(root, "n_params", json_integer((json_int_t)f->nparams));
    if (f->method == LS_FACTOR_MML) {
        json_object_set_new(root, "aic", ls_json_num(f->aic));
        json_object_set_new(root, "bic", ls_json_num(f->bic));
        if (!isnan(f->loglik_nodif)) {
            json_t *lr = json_object();
            json_object_set_new(lr, "loglik_without_dif", ls_json_num(f->loglik_nodif));
            json_object_set_new(lr, "statistic", ls_json_num(f->lr_dif));
            json_object_set_new(lr, "df", json_integer((json_int_t)f->lr_df));
            json_object_set_new(lr, "p_value", ls_json_num(f->lr_p));
            json_object_set_new(root, "dif_likelihood_ratio", lr);
        }
    }
    json_object_set_new(root, "converged", json_boolean(f->converged));
    json_t *conv = json_object();
    json_object_set_new(conv, "iterations", json_integer(f->iterations));
    json_object_set_new(conv, "starts_at_best", json_integer(f->starts_at_best));
    json_object_set_new(conv, "start_loglik", ls_json_vec(f->start_loglik, f->starts));
    json_object_set_new(conv, "coefficients_at_bound", json_integer((json_int_t)f->at_bound));
    json_object_set_new(root, "convergence", conv);
    json_t *par = json_object();
    json_object_set_new(par, "loadings", ls_json_mat(f->gamma, q, r));
    if (f->gamma_ml) json_object_set_new(par, "loadings_ml", ls_json_mat(f->gamma_ml, q, r));
    json_object_set_new(par, "intercepts", json_cols(f->beta, q, p1, 0, 1));
    json_object_set_new(par, "covariate_effects", json_cols(f->beta, q, p1, 1, p));
    if (f->family == LS_FACTOR_GAUSSIAN) json_object_set_new(par, "variances", ls_json_vec(f->dispersion, q));
    json_object_set_new(par, "factor_covariance", ls_json_mat(f->factor_cov, r, r));
    json_object_set_new(par, "factor_correlation", ls_json_mat(f->factor_cor, r, r));
    json_object_set_new(par, "covariate_transform", ls_json_mat(f->A, p, r));
    json_object_set_new(root, "parameters", par);
    if (f->se_beta) {
        json_t *se = json_object();
        json_object_set_new(se, "loadings", ls_json_mat(f->se_gamma, q, r));
        if (f->se_gamma_analytic)
            json_object_set_new(se, "loadings_analytic", ls_json_mat(f->se_gamma_analytic, q, r));
        if (f->se_gamma_naive)
            json_object_set_new(se, "loadings_without_anchor_term", ls_json_mat(f->se_gamma_naive, q, r));
        if (f->se_gamma_sw) {
            json_object_set_new(se, "loadings_sandwich", ls_json_mat(f->se_gamma_sw, q, r));
            json_object_set_new(se, "intercepts_sandwich", json_cols(f->se_beta_sw, q, p1, 0, 1));
            json_object_set_new(se, "covariate_effects_sandwich", json_cols(f->se_beta_sw, q, p1, 1, p));
        }
        json_object_set_new(se, "intercepts", json_cols(f->se_beta, q, p1, 0, 1));
        json_object_set_new(se, "covariate_effects", json_cols(f->se_beta, q, p1, 1, p));
        json_object_set_new(se, "factor_scores", ls_json_mat(f->se_U, n, r));
        json_object_set_new(root, "standard_errors", se);
    }
    json_object_set_new(root, "factor_scores", ls_json_mat(f->U, n, r));
    if (dif) {
        json_t *o = json_object();
        json_object_set_new(o, "alpha", ls_json_num(dif->alpha));
        json_object_set_new(o, "correction", json_string(correction_name(dif->correction)));
        json_object_set_new(o, "z", ls_json_mat(dif->z, q, p));
        json_object_set_new(o, "p_value", ls_json_mat(dif->pvalue, q, p));
        json_t *fl = json_array();
        for (size_t j = 0; j < q; j++)
            for (size_t s = 0; s < p; s++) {
                if (!dif->flag[j * p + s]) continue;
                json_t *e = json_object();
                json_object_set_new(e, "item", json_string(f->items[j]));
                json_object_set_new(e, "covariate", json_string(f->covariates[s]));
                json_object_set_new(e, "effect", ls_json_num(f->beta[j * p1 + 1 + s]));
                json_object_set_new(e, "se", ls_json_num(f->se_beta[j * p1 + 1 + s]));
                json_object_set_new(e, "z", ls_json_num(dif->z[j * p + s]));
                json_object_set_new(e, "p_value", ls_json_num(dif->pvalue[j * p + s]));
                json_array_append_new(fl, e);
            }
        json_object_set_new(o, "flagged", fl);
        json_object_set_new(root, "dif", o);
    }
    if (sel) {
        json_t *o = json_object();
        json_t *rr = json_array();
        for (size_t k = 0; k < sel->nr; k++) json_array_append_new(rr, json_integer((json_int_t)sel->r[k]));
        json_object_set_new(o, "factors", rr);
        json_object_set_new(o, "loglik", ls_json_vec(sel->loglik, sel->nr));
        json_object_set_new(o, "jic", ls_json_vec(sel->jic, sel->nr));
        json_object_set_new(o, "bic", ls_json_vec(sel->bic, sel->nr));
        json_object_set_new(o, "criterion", json_string(sel->mml ? "bic" : "jic"));
        json_object_set_new(o, "best", json_integer((json_int_t)sel->r[sel->best]));
        json_object_set_new(root, "selection", o);
    }
    json_t *wa = json_array();
    for (size_t i = 0; warn && i < ls_result_nwarnings(warn); i++)
        json_array_append_new(wa, json_string(ls_result_warning(warn, i)));
    json_object_set_new(root, "warnings", wa);
    int rc = ls_json_write(root, path, err);
    json_decref(root);
    return rc;
}
