/*
 * results.c -- files of the downstream tasks: predictions (CSV or JSON),
 * evaluations, model selections, posteriors, comparisons and allocations.
 * Each is written atomically and records the version, the options and the
 * seed.
 */
#include "kernel/json.h"
#include "scaling/tasks.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* Version, kind, seed, options and the result's warnings: what every
 * task's file starts with. */
static json_t *header(const ls_result *r, const char *kind, uint64_t seed, const char *argv_json)
{
    json_t *root = json_object();
    if (!root) return NULL;
    json_object_set_new(root, "version", json_string(LS_VERSION));
    json_object_set_new(root, "kind", json_string(kind));
    json_object_set_new(root, "seed", json_integer((json_int_t)seed));
    json_t *opts = json_object();
    ls_json_add_argv(opts, argv_json);
    json_object_set_new(root, "options", opts);
    json_t *w = json_array();
    for (size_t i = 0; i < ls_result_nwarnings(r); i++) json_array_append_new(w, json_string(ls_result_warning(r, i)));
    json_object_set_new(root, "warnings", w);
    return root;
}

char **lss_skill_names(const ls_fit *f, const ls_data *d)
{
    char **v = ls_calloc(f->K, sizeof(char *));
    for (size_t k = 0; v && k < f->K; k++)
        if (!(v[k] = ls_strdup(d->bench[f->est.anchors[k]]))) {
            ls_strv_free(v, k);
            return NULL;
        }
    return v;
}

/* Only JSON, unless the writer says otherwise. */
static int json_only(const char *format, ls_error *err)
{
    if (format && strcmp(format, "json") != 0)
        return ls_fail(err, LS_ERR_OPTION, "format: expected json, found '%s'", format);
    return LS_OK;
}

/* ---------------------------------------------------------------- */
/* Predictions                                                       */
/* ---------------------------------------------------------------- */

static json_t *cells_json(const lss_prediction *p, int only_observed)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < p->n; i++)
        for (size_t j = 0; j < p->J; j++) {
            size_t c = i * p->J + j;
            if (only_observed && isnan(p->observed[c])) continue;
            json_t *o = json_object();
            json_object_set_new(o, "model", json_string(p->model[i]));
            json_object_set_new(o, "family", json_string(p->family[i]));
            json_object_set_new(o, "known_family", json_boolean(p->known[i]));
            json_object_set_new(o, "benchmark", json_string(p->benchmarks[j]));
            json_object_set_new(o, "observed", ls_json_num(p->observed[c]));
            json_object_set_new(o, "prediction", ls_json_num(p->median[c]));
            json_object_set_new(o, "mean", ls_json_num(p->mean[c]));
            json_object_set_new(o, "median", ls_json_num(p->median[c]));
            json_object_set_new(o, "lower", ls_json_num(p->lower[c]));
            json_object_set_new(o, "upper", ls_json_num(p->upper[c]));
            json_object_set_new(o, "map", ls_json_num(p->map[c]));
            json_array_append_new(a, o);
        }
    return a;
}

/* The covariance the parameter draws came from (param_uncertainty). */
static json_t *param_cov_json(int kind)
{
    return kind == 2 ? json_string("sandwich") : kind ? json_string("inverse observed information") : json_null();
}

int lss_write_prediction(const ls_result *r, const char *path, const char *format,
                         const char *argv_json, ls_error *err)
{
    const lss_prediction *p = ls_result_payload(r, "prediction");
    if (format && strcmp(format, "json") != 0 && strcmp(format, "csv") != 0)
        return ls_fail(err, LS_ERR_OPTION, "format: expected json or csv, found '%s'", format);
    if (!format || strcmp(format, "json") == 0) {
        json_t *root = header(r, "predictions", p->seed, argv_json);
        if (!root) return ls_nomem(err);
        json_object_set_new(root, "level", json_real(p->level));
        json_object_set_new(root, "parameter_uncertainty", json_boolean(p->param_uncertainty));
        json_object_set_new(root, "parameter_covariance", param_cov_json(p->param_uncertainty));
        json_object_set_new(root, "point", json_string("median of the predictive distribution"));
        json_object_set_new(root, "cells", cells_json(p, 0));
        int rc = ls_json_write(root, path, err);
        json_decref(root);
        return rc;
    }
    static const char *cols[] = {"model", "family", "known_family", "benchmark", "observed", "mean",
                                 "median", "lower", "upper", "map", "level"};
    ls_table *t = NULL;
    int rc = ls_table_new(path, 11, cols, &t, err);
    char buf[8][32];
    for (size_t i = 0; !rc && i < p->n; i++)
        for (size_t j = 0; !rc && j < p->J; j++) {
            size_t c = i * p->J + j;
            double v[7] = {p->observed[c], p->mean[c], p->median[c], p->lower[c], p->upper[c], p->map[c], p->level};
            for (int k = 0; k < 7; k++) {
                if (isnan(v[k])) buf[k][0] = '\0';
                else snprintf(buf[k], sizeof buf[k], "%.6g", v[k]);
            }
            const char *row[11] = {p->model[i], p->family[i], p->known[i] ? "1" : "0", p->benchmarks[j],
                                   buf[0], buf[1], buf[2], buf[3], buf[4], buf[5], buf[6]};
            rc = ls_table_append(t, row, err);
        }
    if (!rc) rc = ls_table_write(t, path, err);
    ls_table_free(t);
    return rc;
}

/* ---------------------------------------------------------------- */
/* Evaluation and selection                                          */
/* ---------------------------------------------------------------- */

/* The configuration chosen by the sibling criterion (lss_config), made
 * inside the rows described by made_inside. */
static json_t *config_json(const lss_config *e, const char *made_inside)
{
    json_t *sel = json_object(), *rows = json_array();
    json_object_set_new(sel, "made_inside", json_string(made_inside));
    json_object_set_new(sel, "criterion",
                        json_string("sibling MAE: the largest model of every family with two or more (of those rows) "
                                    "held out, the law refitted to the other rows; MAE of the predictive "
                                    "median of their scores (the smallest wins; with ceilings: the fewest "
                                    "ceilings within one standard error of the smallest, paired over the "
                                    "held-out families)"));
    json_t *ks = json_array(), *cv = json_array();
    for (size_t a = 0; a < e->sel_nk; a++) json_array_append_new(ks, json_integer((json_int_t)e->sel_K[a]));
    for (size_t c = 0; c < e->sel_nc; c++) json_array_append_new(cv, json_string(e->sel_cov[c]));
    json_object_set_new(sel, "skills", ks);
    json_object_set_new(sel, "covariates", cv);
    for (size_t a = 0; a < e->sel_nk; a++)
        for (size_t c = 0; c < e->sel_nc; c++) {
            json_t *o = json_object();
            json_object_set_new(o, "skills", json_integer((json_int_t)e->sel_K[a]));
            json_object_set_new(o, "covariates", json_string(e->sel_cov[c]));
            json_object_set_new(o, "estimated_ceilings", json_string(e->sel_ceil[c]));
            json_object_set_new(o, "sibling_mae", ls_json_num(e->sel_mae[a * e->sel_nc + c]));
            json_object_set_new(o, "mae_difference", ls_json_num(e->sel_diff[a * e->sel_nc + c]));
            json_object_set_new(o, "mae_difference_se", ls_json_num(e->sel_se[a * e->sel_nc + c]));
            json_object_set_new(o, "converged", json_boolean(e->sel_conv[a * e->sel_nc + c]));
            json_array_append_new(rows, o);
        }
    json_object_set_new(sel, "table", rows);
    json_object_set_new(sel, "chosen_skills", json_integer((json_int_t)e->sel_K[e->sel_k]));
    json_object_set_new(sel, "chosen_covariates", json_string(e->sel_cov[e->sel_c]));
    json_object_set_new(sel, "chosen_ceilings", json_string(e->sel_ceil[e->sel_c]));
    if (e->sel_rank) json_object_set_new(sel, "ceiling_candidates", json_string(e->sel_rank));
    return sel;
}

int lss_write_evaluation(const ls_result *r, const char *path, const char *format,
                         const char *argv_json, ls_error *err)
{
    const lss_evaluation *e = ls_result_payload(r, "evaluation");
    const ls_data *d = e->train;
    if (json_only(format, err)) return LS_ERR_OPTION;
    json_t *root = header(r, "held-out evaluation", e->fit->opt.seed, argv_json);
    if (!root) return ls_nomem(err);
    json_t *mae = json_object();
    for (size_t j = 0; j < e->J; j++) json_object_set_new(mae, d->bench[j], ls_json_num(e->mae[j]));
    json_object_set_new(root, "mae", mae);
    json_object_set_new(root, "mae_overall", ls_json_num(e->mae_overall));
    json_object_set_new(root, "mae_predictive_mean", ls_json_num(e->mae_mean));
    json_object_set_new(root, "mae_plugin_map", ls_json_num(e->mae_map));
    json_object_set_new(root, "coverage", ls_json_num(e->coverage));
    json_t *cb = json_object();
    for (size_t j = 0; j < e->J; j++) json_object_set_new(cb, d->bench[j], ls_json_num(e->coverage_bench[j]));
    json_object_set_new(root, "coverage_by_benchmark", cb);
    json_object_set_new(root, "coverage50", ls_json_num(e->coverage50));
    json_object_set_new(root, "level", json_real(e->pred.level));
    json_t *bl = json_array();
    for (size_t b = 0; e->has_baselines && b < LSS_NBASELINES; b++) {
        json_t *o = json_object(), *bm = json_object();
        json_object_set_new(o, "name", json_string(lss_baseline_names[b]));
        json_object_set_new(o, "description", json_string(lss_baseline_descriptions[b]));
        json_object_set_new(o, "mae_overall", ls_json_num(e->baseline_overall[b]));
        for (size_t j = 0; j < e->J; j++)
            json_object_set_new(bm, d->bench[j], ls_json_num(e->baseline_mae[b * e->J + j]));
        json_object_set_new(o, "mae", bm);
        json_array_append_new(bl, o);
    }
    json_object_set_new(root, "baselines", bl);
    json_object_set_new(root, "parameter_uncertainty", json_boolean(e->pred.param_uncertainty));
    json_object_set_new(root, "parameter_covariance", param_cov_json(e->pred.param_uncertainty));
    json_object_set_new(root, "n_cells", json_integer((json_int_t)e->n_cells));
    json_object_set_new(root, "n_train", json_integer((json_int_t)e->n_train));
    json_object_set_new(root, "n_test", json_integer((json_int_t)e->n_test));
    json_object_set_new(root, "n_excluded", json_integer((json_int_t)e->n_excluded));
    json_object_set_new(root, "skills", json_integer((json_int_t)e->fit->K));
    json_object_set_new(root, "train_loglik", ls_json_num(e->fit->loglik));
    json_object_set_new(root, "train_converged", json_boolean(e->fit->converged));
    if (e->cs.sel_nk)
        json_object_set_new(root, "selection",
                            config_json(&e->cs, "the training rows only: the test rows were not seen by the choice"));
    json_object_set_new(root, "cells", cells_json(&e->pred, 1));
    json_t *w = json_array();
    for (size_t i = 0; i < ls_result_nwarnings(r); i++) json_array_append_new(w, json_string(ls_result_warning(r, i)));
    json_object_set_new(root, "warnings", w);
    int rc = ls_json_write(root, path, err);
    json_decref(root);
    return rc;
}

int lss_write_selection(const ls_result *r, const char *path, const char *format,
                        const char *argv_json, ls_error *err)
{
    const lss_selection *s = ls_result_payload(r, "selection");
    if (json_only(format, err)) return LS_ERR_OPTION;
    json_t *root = header(r, "model selection over K", s->seed, argv_json);
    if (!root) return ls_nomem(err);
    json_t *rows = json_array();
    for (size_t a = 0; a < s->nk; a++) {
        json_t *o = json_object();
        json_object_set_new(o, "skills", json_integer((json_int_t)s->K[a]));
        json_object_set_new(o, "loglik", ls_json_num(s->loglik[a]));
        json_object_set_new(o, "n_params", json_integer((json_int_t)s->nparams[a]));
        json_object_set_new(o, "aic", ls_json_num(s->aic[a]));
        json_object_set_new(o, "bic", ls_json_num(s->bic[a]));
        json_object_set_new(o, "cv_loglik", ls_json_num(s->cv[a]));
        json_object_set_new(o, "sibling_mae", s->sibling ? ls_json_num(s->sibling[a]) : json_null());
        json_object_set_new(o, "converged", json_boolean(s->converged[a]));
        if (s->refits) {
            json_object_set_new(o, "refits", json_integer((json_int_t)s->refits[a]));
            json_object_set_new(o, "refits_not_converged", json_integer((json_int_t)s->refits_unconverged[a]));
        }
        json_object_set_new(o, "loglik_method",
                            json_string(s->sampled && s->sampled[a] ? "the fit's check rule at the estimate"
                                                                    : "the fit's quadrature"));
        json_array_append_new(rows, o);
    }
    json_object_set_new(root, "fits", rows);
    json_object_set_new(root, "folds", json_integer(s->folds));
    json_object_set_new(root, "best_aic", json_integer((json_int_t)s->K[s->best_aic]));
    json_object_set_new(root, "best_bic", json_integer((json_int_t)s->K[s->best_bic]));
    json_object_set_new(root, "best_cv", s->folds ? json_integer((json_int_t)s->K[s->best_cv]) : json_null());
    json_object_set_new(root, "best_sibling",
                        s->has_sibling ? json_integer((json_int_t)s->K[s->best_sibling]) : json_null());
    json_object_set_new(root, "sibling_method",
                        json_string("the largest model of every family with two or more held out, the law refitted "
                                    "to the other rows; MAE of the predictive median of their scores"));
    if (s->cfg && s->cfg->sel_nk)
        json_object_set_new(root, "configuration",
                            config_json(s->cfg, "all rows, by the sibling criterion (K, covariates, ceilings)"));
    json_t *w = json_array();
    for (size_t i = 0; i < ls_result_nwarnings(r); i++) json_array_append_new(w, json_string(ls_result_warning(r, i)));
    json_object_set_new(root, "warnings", w);
    int rc = ls_json_write(root, path, err);
    json_decref(root);
    return rc;
}

/* ---------------------------------------------------------------- */
/* Posterior, comparison, allocation                                 */
/* ---------------------------------------------------------------- */

int lss_write_posterior(const ls_result *r, const char *path, const char *format,
                        const char *argv_json, ls_error *err)
{
    const lss_posterior *p = ls_result_payload(r, "posterior");
    if (json_only(format, err)) return LS_ERR_OPTION;
    size_t K = p->K;
    json_t *root = header(r, "family posterior", p->seed, argv_json);
    if (!root) return ls_nomem(err);
    json_object_set_new(root, "family", json_string(p->family));
    json_object_set_new(root, "skills", ls_json_strs(p->skills, K));
    json_object_set_new(root, "mode", ls_json_vec(p->mode, K));
    json_object_set_new(root, "laplace_covariance", ls_json_mat(p->laplace_cov, K, K));
    json_object_set_new(root, "quadrature_mean", ls_json_vec(p->quad_mean, K));
    json_object_set_new(root, "quadrature_covariance", ls_json_mat(p->quad_cov, K, K));
    json_object_set_new(root, "mcmc_mean", ls_json_vec(p->mcmc_mean, K));
    json_object_set_new(root, "mcmc_covariance", ls_json_mat(p->mcmc_cov, K, K));
    json_object_set_new(root, "rhat", ls_json_vec(p->rhat, K));
    json_object_set_new(root, "ess", ls_json_vec(p->ess, K));
    json_object_set_new(root, "acceptance", ls_json_num(p->accept));
    json_object_set_new(root, "chains", json_integer((json_int_t)p->chains));
    json_object_set_new(root, "draws_per_chain", json_integer((json_int_t)p->draws));
    json_object_set_new(root, "draws", ls_json_mat(p->sample, p->chains * p->draws, K));
    int rc = ls_json_write(root, path, err);
    json_decref(root);
    return rc;
}

int lss_write_comparison(const ls_result *r, const char *path, const char *format,
                         const char *argv_json, ls_error *err)
{
    const lss_comparison *c = ls_result_payload(r, "comparison");
    if (json_only(format, err)) return LS_ERR_OPTION;
    json_t *root = header(r, "family comparison", c->seed, argv_json);
    if (!root) return ls_nomem(err);
    json_object_set_new(root, "family_a", json_string(c->family_a));
    json_object_set_new(root, "family_b", json_string(c->family_b));
    json_object_set_new(root, "level", json_real(c->level));
    json_t *rows = json_array();
    for (size_t k = 0; k < c->K; k++) {
        json_t *o = json_object();
        json_object_set_new(o, "skill", json_string(c->skills[k]));
        json_object_set_new(o, "mean_a", ls_json_num(c->mean_a[k]));
        json_object_set_new(o, "mean_b", ls_json_num(c->mean_b[k]));
        json_object_set_new(o, "difference", ls_json_num(c->diff[k]));
        json_object_set_new(o, "lower", ls_json_num(c->lower[k]));
        json_object_set_new(o, "upper", ls_json_num(c->upper[k]));
        json_object_set_new(o, "prob_a_greater", ls_json_num(c->prob_greater[k]));
        json_array_append_new(rows, o);
    }
    json_object_set_new(root, "skills", rows);
    int rc = ls_json_write(root, path, err);
    json_decref(root);
    return rc;
}

int lss_write_allocation(const ls_result *r, const char *path, const char *format,
                         const char *argv_json, ls_error *err)
{
    const lss_allocation *a = ls_result_payload(r, "allocation");
    const ls_optimal_options *o = &a->opt;
    if (json_only(format, err)) return LS_ERR_OPTION;
    json_t *root = header(r, "compute-optimal allocation", o->seed, argv_json);
    if (!root) return ls_nomem(err);
    json_object_set_new(root, "flops", json_string("C = 6 N D; size in billions of parameters, tokens in trillions"));
    json_object_set_new(root, "size_range", ls_json_vec((double[]){o->size_min, o->size_max}, 2));
    json_object_set_new(root, "tokens_range", ls_json_vec((double[]){o->tokens_min, o->tokens_max}, 2));
    json_object_set_new(root, "level", json_real(o->level));
    json_object_set_new(root, "budgets", ls_json_vec(a->budget, a->nbudget));
    json_t *rows = json_array();
    for (size_t t = 0; t < a->ntarget; t++)
        for (size_t b = 0; b < a->nbudget; b++) {
            size_t i = t * a->nbudget + b;
            json_t *row = json_object();
            int skill = t < (size_t)a->nskills;
            json_object_set_new(row, "target", json_string(a->target[t]));
            json_object_set_new(row, "kind", json_string(skill ? "skill" : "benchmark"));
            json_object_set_new(row, "flops", ls_json_num(a->budget[b]));
            json_object_set_new(row, "size", ls_json_num(a->size[i]));
            json_object_set_new(row, "size_lower", ls_json_num(a->size_lo[i]));
            json_object_set_new(row, "size_upper", ls_json_num(a->size_hi[i]));
            json_object_set_new(row, "tokens", ls_json_num(a->tokens[i]));
            json_object_set_new(row, "tokens_lower", ls_json_num(a->tokens_lo[i]));
            json_object_set_new(row, "tokens_upper", ls_json_num(a->tokens_hi[i]));
            json_object_set_new(row, "value", ls_json_num(a->value[i]));
            json_array_append_new(rows, row);
        }
    json_object_set_new(root, "allocations", rows);
    int rc = ls_json_write(root, path, err);
    json_decref(root);
    return rc;
}

/* ---------------------------------------------------------------- */
/* A selection file read back (for the report)                      */
/* ---------------------------------------------------------------- */

/* At most this many fits in a selection file (K = 1..12 in practice). */
#define MAX_SELECT 1000

/* A selection file's "configuration" (config_json's object) read back
 * into c: each table row a K (a-major) and configuration, the choice one
 * of them.  Errors name the file and the field. */
static int config_read(const json_t *o, const char *path, lss_config *c, ls_error *err)
{
    const json_t *ks = json_object_get(o, "skills"), *cv = json_object_get(o, "covariates");
    const json_t *tb = json_object_get(o, "table"), *cs = json_object_get(o, "chosen_skills");
    const json_t *cc = json_object_get(o, "chosen_covariates"), *ce = json_object_get(o, "chosen_ceilings");
    const json_t *cr = json_object_get(o, "ceiling_candidates");
    size_t nk = json_array_size(ks), nc = json_array_size(cv);
    if (!json_is_object(o) || !nk || !nc || nk > MAX_SELECT || nc > MAX_SELECT || !json_is_array(tb) ||
        json_array_size(tb) != nk * nc || !json_is_integer(cs) || !json_is_string(cc) || !json_is_string(ce) ||
        (cr && !json_is_string(cr)))
        return ls_fail(err, LS_ERR_INPUT,
                       "%s: configuration: expected lists 'skills' and 'covariates', a 'table' of one row per K "
                       "and configuration, 'chosen_skills', 'chosen_covariates' and 'chosen_ceilings'", path);
    if (lss_config_alloc(c, nk, nc)) return ls_nomem(err);
    for (size_t a = 0; a < nk; a++) {
        const json_t *k = json_array_get(ks, a);
        if (!json_is_integer(k) || json_integer_value(k) < 1)
            return ls_fail(err, LS_ERR_INPUT, "%s: configuration: skills[%zu]: expected an integer >= 1", path, a);
        c->sel_K[a] = (size_t)json_integer_value(k);
    }
    for (size_t q = 0; q < nk * nc; q++) {
        size_t a = q / nc, b = q % nc;
        const json_t *row = json_array_get(tb, q);
        const json_t *rk = json_object_get(row, "skills"), *rc = json_object_get(row, "covariates");
        const json_t *re = json_object_get(row, "estimated_ceilings"), *rv = json_object_get(row, "converged");
        const char *cov = json_string_value(json_array_get(cv, b));
        if (!json_is_integer(rk) || (size_t)json_integer_value(rk) != c->sel_K[a] || !json_is_string(rc) || !cov ||
            strcmp(json_string_value(rc), cov) != 0 || !json_is_string(re) || !json_is_boolean(rv))
            return ls_fail(err, LS_ERR_INPUT,
                           "%s: configuration: table[%zu]: expected 'skills' %zu, 'covariates' as covariates[%zu], "
                           "a string 'estimated_ceilings' and a boolean 'converged'", path, q, c->sel_K[a], b);
        const char *ceil = json_string_value(re);
        if (a == 0) {
            if (!(c->sel_cov[b] = ls_strdup(cov)) || !(c->sel_ceil[b] = ls_strdup(ceil))) return ls_nomem(err);
            c->sel_nceil[b] = *ceil ? 1 : 0;
            for (const char *p = ceil; *p; p++) c->sel_nceil[b] += *p == ',';
        } else if (strcmp(ceil, c->sel_ceil[b]) != 0)
            return ls_fail(err, LS_ERR_INPUT, "%s: configuration: table[%zu]: 'estimated_ceilings' differs from "
                                              "table[%zu]'s", path, q, b);
        const char *num[3] = {"sibling_mae", "mae_difference", "mae_difference_se"};
        double *dst[3] = {c->sel_mae, c->sel_diff, c->sel_se};
        for (int i = 0; i < 3; i++) {
            const json_t *v = json_object_get(row, num[i]);
            if (!json_is_number(v) && !json_is_null(v))
                return ls_fail(err, LS_ERR_INPUT, "%s: configuration: table[%zu]: expected a number or null '%s'",
                               path, q, num[i]);
            dst[i][q] = json_is_number(v) ? json_number_value(v) : NAN;
        }
        c->sel_conv[q] = json_is_true(rv);
    }
    int found = 0;
    for (size_t q = 0; q < nk * nc && !found; q++)
        if ((json_int_t)c->sel_K[q / nc] == json_integer_value(cs) && strcmp(c->sel_cov[q % nc], json_string_value(cc)) == 0 &&
            strcmp(c->sel_ceil[q % nc], json_string_value(ce)) == 0) {
            c->sel_k = q / nc;
            c->sel_c = q % nc;
            found = 1;
        }
    if (!found)
        return ls_fail(err, LS_ERR_INPUT, "%s: configuration: the chosen K, covariates and ceilings are not a row of "
                                          "its table", path);
    if (cr && !(c->sel_rank = ls_strdup(json_string_value(cr)))) return ls_nomem(err);
    return LS_OK;
}

int ls_selection_read(const char *path, ls_result **out, ls_error *err)
{
    *out = NULL;
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root) {
        if (je.line < 1) return ls_fail(err, LS_ERR_IO, "cannot read %s: %s", path, je.text);
        return ls_fail(err, LS_ERR_PARSE, "%s:%d:%d: %s", path, je.line, je.column, je.text);
    }
    int rc = LS_OK;
    lss_selection *s = NULL;
    json_t *fits = json_object_get(root, "fits");
    if (!json_is_object(root) || !json_is_array(fits) || json_array_size(fits) == 0) {
        rc = ls_fail(err, LS_ERR_INPUT, "%s: not a selection file (latentscale select --out): no 'fits' list", path);
        goto done;
    }
    size_t nk = json_array_size(fits);
    if (nk > MAX_SELECT) {
        rc = ls_fail(err, LS_ERR_INPUT, "%s: more than %d fits", path, MAX_SELECT);
        goto done;
    }
    s = ls_calloc(1, sizeof *s);
    if (!s) { rc = ls_nomem(err); goto done; }
    s->nk = nk;
    s->K = ls_calloc(nk, sizeof(size_t));
    s->nparams = ls_calloc(nk, sizeof(size_t));
    s->loglik = ls_calloc(nk, sizeof(double));
    s->aic = ls_calloc(nk, sizeof(double));
    s->bic = ls_calloc(nk, sizeof(double));
    s->cv = ls_calloc(nk, sizeof(double));
    s->converged = ls_calloc(nk, sizeof(int));
    s->sampled = ls_calloc(nk, sizeof(int));
    s->sibling = ls_calloc(nk, sizeof(double));
    if (!s->K || !s->nparams || !s->loglik || !s->aic || !s->bic || !s->cv || !s->converged || !s->sampled ||
        !s->sibling) {
        rc = ls_nomem(err);
        goto done;
    }
    int have_cv = 0;
    for (size_t i = 0; i < nk; i++) {
        json_t *e = json_array_get(fits, i), *k = json_object_get(e, "skills");
        json_t *a = json_object_get(e, "aic"), *b = json_object_get(e, "bic"), *c = json_object_get(e, "cv_loglik");
        json_t *l = json_object_get(e, "loglik"), *np = json_object_get(e, "n_params");
        json_t *cv = json_object_get(e, "converged"), *lm = json_object_get(e, "loglik_method");
        if (!json_is_integer(k) || json_integer_value(k) < 1 || !(json_is_number(a) || json_is_null(a)) ||
            !(json_is_number(b) || json_is_null(b))) {
            rc = ls_fail(err, LS_ERR_INPUT, "%s: fits[%zu]: expected integer 'skills' >= 1 and numbers 'aic', 'bic'", path, i);
            goto done;
        }
        s->K[i] = (size_t)json_integer_value(k);
        s->aic[i] = json_is_number(a) ? json_number_value(a) : NAN;
        s->bic[i] = json_is_number(b) ? json_number_value(b) : NAN;
        s->cv[i] = json_is_number(c) ? json_number_value(c) : NAN;
        s->loglik[i] = json_is_number(l) ? json_number_value(l) : NAN;
        s->nparams[i] = json_is_integer(np) && json_integer_value(np) >= 0 ? (size_t)json_integer_value(np) : 0;
        s->converged[i] = json_is_true(cv);
        s->sampled[i] = json_is_string(lm) && strcmp(json_string_value(lm), "the fit's quadrature") != 0;
        if (isfinite(s->cv[i])) have_cv = 1;
        json_t *sm = json_object_get(e, "sibling_mae");
        s->sibling[i] = json_is_number(sm) ? json_number_value(sm) : NAN;
        if (isfinite(s->sibling[i])) s->has_sibling = 1;
        json_t *rf = json_object_get(e, "refits"), *rn = json_object_get(e, "refits_not_converged");
        if (json_is_integer(rf) || json_is_integer(rn)) {
            if (!json_is_integer(rf) || !json_is_integer(rn) || json_integer_value(rn) < 0 ||
                json_integer_value(rn) > json_integer_value(rf)) {
                rc = ls_fail(err, LS_ERR_INPUT,
                             "%s: fits[%zu]: expected integers 'refits' >= 'refits_not_converged' >= 0", path, i);
                goto done;
            }
            if (!s->refits) {
                s->refits = ls_calloc(nk, sizeof(size_t));
                s->refits_unconverged = ls_calloc(nk, sizeof(size_t));
                if (!s->refits || !s->refits_unconverged) {
                    rc = ls_nomem(err);
                    goto done;
                }
            }
            s->refits[i] = (size_t)json_integer_value(rf);
            s->refits_unconverged[i] = (size_t)json_integer_value(rn);
        }
    }
    json_t *fo = json_object_get(root, "folds"), *sd = json_object_get(root, "seed");
    s->folds = json_is_integer(fo) && json_integer_value(fo) > 0 && have_cv ? (unsigned)json_integer_value(fo) : 0;
    s->seed = json_is_integer(sd) ? (uint64_t)json_integer_value(sd) : 0;
    json_t *cf = json_object_get(root, "configuration");
    if (cf) {
        if (!(s->cfg = ls_calloc(1, sizeof *s->cfg))) { rc = ls_nomem(err); goto done; }
        if ((rc = config_read(cf, path, s->cfg, err))) goto done;
    }
    lss_selection_choose(s);
done:
    json_decref(root);
    if (rc) {
        lss_selection_free(s);
        return rc;
    }
    return lss_selection_result(s, out, err);
}
