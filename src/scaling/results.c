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

static json_t *header(const char *kind, uint64_t seed, const char *argv_json)
{
    json_t *root = json_object();
    if (!root) return NULL;
    json_object_set_new(root, "version", json_string(LS_VERSION));
    json_object_set_new(root, "kind", json_string(kind));
    json_object_set_new(root, "seed", json_integer((json_int_t)seed));
    json_t *opts = json_object();
    ls_json_add_argv(opts, argv_json);
    json_object_set_new(root, "options", opts);
    return root;
}

static const char *skill_name(const ls_fit *f, const ls_data *d, size_t k)
{
    return d->bench[f->est.anchors[k]];
}

/* ---------------------------------------------------------------- */
/* Predictions                                                       */
/* ---------------------------------------------------------------- */

static json_t *cells_json(const ls_prediction *p, const ls_data *d, int only_observed)
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
            json_object_set_new(o, "benchmark", json_string(d->bench[j]));
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

/* The covariance the parameter draws came from (ls_prediction.param_uncertainty). */
static json_t *param_cov_json(int kind)
{
    return kind == 2 ? json_string("sandwich") : kind ? json_string("inverse observed information") : json_null();
}

int ls_prediction_write(const ls_prediction *p, const ls_data *d, const char *path, int json,
                        const char *argv_json, ls_error *err)
{
    if (json) {
        json_t *root = header("predictions", p->seed, argv_json);
        if (!root) return ls_nomem(err);
        json_object_set_new(root, "level", json_real(p->level));
        json_object_set_new(root, "parameter_uncertainty", json_boolean(p->param_uncertainty));
        json_object_set_new(root, "parameter_covariance", param_cov_json(p->param_uncertainty));
        json_object_set_new(root, "point", json_string("median of the predictive distribution"));
        json_object_set_new(root, "cells", cells_json(p, d, 0));
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
            const char *row[11] = {p->model[i], p->family[i], p->known[i] ? "1" : "0", d->bench[j],
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

int ls_evaluation_write_json(const ls_evaluation *e, const char *path, const char *argv_json,
                             ls_error *err)
{
    const ls_data *d = e->train;
    json_t *root = header("held-out evaluation", e->fit->opt.seed, argv_json);
    if (!root) return ls_nomem(err);
    json_t *mae = json_object();
    for (size_t j = 0; j < e->J; j++) json_object_set_new(mae, d->bench[j], ls_json_num(e->mae[j]));
    json_object_set_new(root, "mae", mae);
    json_object_set_new(root, "mae_overall", ls_json_num(e->mae_overall));
    json_object_set_new(root, "mae_predictive_mean", ls_json_num(e->mae_mean));
    json_object_set_new(root, "mae_plugin_map", ls_json_num(e->mae_map));
    json_object_set_new(root, "coverage", ls_json_num(e->coverage));
    json_object_set_new(root, "level", json_real(e->pred.level));
    json_object_set_new(root, "parameter_uncertainty", json_boolean(e->pred.param_uncertainty));
    json_object_set_new(root, "parameter_covariance", param_cov_json(e->pred.param_uncertainty));
    json_object_set_new(root, "n_cells", json_integer((json_int_t)e->n_cells));
    json_object_set_new(root, "n_train", json_integer((json_int_t)e->n_train));
    json_object_set_new(root, "n_test", json_integer((json_int_t)e->n_test));
    json_object_set_new(root, "n_excluded", json_integer((json_int_t)e->n_excluded));
    json_object_set_new(root, "skills", json_integer((json_int_t)e->fit->K));
    json_object_set_new(root, "train_loglik", ls_json_num(e->fit->loglik));
    json_object_set_new(root, "train_converged", json_boolean(e->fit->converged));
    json_object_set_new(root, "cells", cells_json(&e->pred, d, 1));
    int rc = ls_json_write(root, path, err);
    json_decref(root);
    return rc;
}

int ls_selection_write_json(const ls_selection *s, const char *path, const char *argv_json,
                            ls_error *err)
{
    json_t *root = header("model selection over K", s->seed, argv_json);
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
        json_object_set_new(o, "converged", json_boolean(s->converged[a]));
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
    int rc = ls_json_write(root, path, err);
    json_decref(root);
    return rc;
}

/* ---------------------------------------------------------------- */
/* Posterior, comparison, allocation                                 */
/* ---------------------------------------------------------------- */

int ls_posterior_write_json(const ls_posterior *p, const ls_fit *f, const ls_data *d, size_t family,
                            uint64_t seed, const char *path, const char *argv_json, ls_error *err)
{
    size_t K = p->K;
    json_t *root = header("family posterior", seed, argv_json);
    if (!root) return ls_nomem(err);
    json_object_set_new(root, "family", json_string(d->family[family]));
    json_t *sn = json_array();
    for (size_t k = 0; k < K; k++) json_array_append_new(sn, json_string(skill_name(f, d, k)));
    json_object_set_new(root, "skills", sn);
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

int ls_comparison_write_json(const ls_comparison *c, const ls_fit *f, const ls_data *d, size_t fa,
                             size_t fb, uint64_t seed, const char *path, const char *argv_json,
                             ls_error *err)
{
    json_t *root = header("family comparison", seed, argv_json);
    if (!root) return ls_nomem(err);
    json_object_set_new(root, "family_a", json_string(d->family[fa]));
    json_object_set_new(root, "family_b", json_string(d->family[fb]));
    json_object_set_new(root, "level", json_real(c->level));
    json_t *rows = json_array();
    for (size_t k = 0; k < c->K; k++) {
        json_t *o = json_object();
        json_object_set_new(o, "skill", json_string(skill_name(f, d, k)));
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

int ls_allocation_write_json(const ls_allocation *a, const ls_params *pr, char *const *benchmarks,
                             const ls_optimal_options *o, const char *path, const char *argv_json,
                             ls_error *err)
{
    json_t *root = header("compute-optimal allocation", o->seed, argv_json);
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
            json_t *r = json_object();
            int skill = t < pr->K;
            json_object_set_new(r, "target", json_string(skill ? benchmarks[pr->anchors[t]] : benchmarks[t - pr->K]));
            json_object_set_new(r, "kind", json_string(skill ? "skill" : "benchmark"));
            json_object_set_new(r, "flops", ls_json_num(a->budget[b]));
            json_object_set_new(r, "size", ls_json_num(a->size[i]));
            json_object_set_new(r, "size_lower", ls_json_num(a->size_lo[i]));
            json_object_set_new(r, "size_upper", ls_json_num(a->size_hi[i]));
            json_object_set_new(r, "tokens", ls_json_num(a->tokens[i]));
            json_object_set_new(r, "tokens_lower", ls_json_num(a->tokens_lo[i]));
            json_object_set_new(r, "tokens_upper", ls_json_num(a->tokens_hi[i]));
            json_object_set_new(r, "value", ls_json_num(a->value[i]));
            json_array_append_new(rows, r);
        }
    json_object_set_new(root, "allocations", rows);
    int rc = ls_json_write(root, path, err);
    json_decref(root);
    return rc;
}
