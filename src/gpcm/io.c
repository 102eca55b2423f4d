/*
 * gpcm_io.c -- scores from tables (item patterns through the factor
 * module's reader, integer checks with file/line/column messages), loading
 * patterns from CSV, and the JSON of a fit, written atomically.
 */
#include "gpcm/model.h"
#include "kernel/json.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

void ls_gpcm_data_free(ls_gpcm_data *d)
{
    if (!d) return;
    ls_free(d->Y);
    ls_free(d->ncat);
    ls_strv_free(d->items, d->J);
    ls_free(d->line);
    ls_free(d->source);
    memset(d, 0, sizeof *d);
}

int ls_gpcm_data_build(const ls_table *t, const char *items, double lowest, unsigned ncat,
                       ls_gpcm_data *out, ls_error *err)
{
    memset(out, 0, sizeof *out);
    if (ncat == 1 || ncat > 64) return ls_fail(err, LS_ERR_OPTION, "categories: expected 2..64, got %u", ncat);
    if (!isnan(lowest) && (!isfinite(lowest) || lowest != floor(lowest)))
        return ls_fail(err, LS_ERR_OPTION, "lowest: expected an integer");
    ls_factor_data fd;
    int rc = ls_factor_data_build(t, items, NULL, NAN, LS_FACTOR_GAUSSIAN, &fd, err);
    if (rc) return rc;
    const size_t n = fd.n, J = fd.q;
    const char *file = ls_table_name(t);
    /* integers, and the lowest value */
    double lo = INFINITY;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < J; j++) {
            double v = fd.Y[i * J + j];
            if (isnan(v)) continue;
            long c = ls_table_find(t, fd.items[j]);
            if (v != floor(v) || fabs(v) > 1e6) {
                rc = ls_fail(err, LS_ERR_INPUT, "%s:%zu:%ld: column '%s': expected an integer score, found '%.40s'",
                             file, fd.line[i], c + 1, fd.items[j], ls_table_cell(t, i, (size_t)c));
                goto done;
            }
            if (!isnan(lowest) && v < lowest) {
                rc = ls_fail(err, LS_ERR_INPUT, "%s:%zu:%ld: column '%s': score %.0f is below the lowest score %.0f",
                             file, fd.line[i], c + 1, fd.items[j], v, lowest);
                goto done;
            }
            if (v < lo) lo = v;
        }
    if (!isnan(lowest)) lo = lowest;
    out->n = n;
    out->J = J;
    out->lowest = lo;
    out->Y = ls_malloc(n * J * sizeof *out->Y);
    out->ncat = ls_calloc(J, sizeof *out->ncat);
    out->line = ls_malloc(n * sizeof *out->line);
    out->source = ls_strdup(file);
    out->items = fd.items;
    fd.items = NULL;
    fd.q = 0;
    if (!out->Y || !out->ncat || !out->line || !out->source) {
        rc = ls_nomem(err);
        goto done;
    }
    memcpy(out->line, fd.line, n * sizeof *out->line);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < J; j++) {
            double v = fd.Y[i * J + j];
            int s = isnan(v) ? -1 : (int)(v - lo);
            long c = ls_table_find(t, out->items[j]);
            if (s > 63 || (ncat && s > (int)ncat - 1)) {
                rc = ls_fail(err, LS_ERR_INPUT, "%s:%zu:%ld: column '%s': score %.0f is above the highest category %.0f",
                             file, out->line[i], c + 1, out->items[j], v,
                             lo + (ncat ? (double)ncat - 1 : 63.0));
                goto done;
            }
            out->Y[i * J + j] = s;
            if (s >= 0 && (unsigned)s + 1 > out->ncat[j]) out->ncat[j] = (unsigned)s + 1;
        }
    for (size_t j = 0; j < J; j++) {
        if (ncat) out->ncat[j] = ncat;
        if (out->ncat[j] < 2) {
            rc = ls_fail(err, LS_ERR_INPUT, "%s: column '%s': every observed score is the lowest one (%.0f); "
                         "an item needs at least 2 categories", file, out->items[j], lo);
            goto done;
        }
    }
done:
    ls_factor_data_free(&fd);
    if (rc) ls_gpcm_data_free(out);
    return rc;
}

void ls_gpcm_pattern_free(int *pattern) { ls_free(pattern); }

int ls_gpcm_pattern_read(const char *path, const ls_gpcm_data *d, size_t *K, int **pattern,
                         ls_error *err)
{
    *pattern = NULL;
    ls_table *t = NULL;
    int rc = ls_table_read(path, &t, err);
    if (rc) return rc;
    const size_t nc = ls_table_ncol(t), nr = ls_table_nrow(t), J = d->J;
    const int named = nc > 0 && strcasecmp(ls_table_colname(t, 0), "item") == 0;
    const size_t c0 = named ? 1 : 0, k = nc - c0;
    int *pat = NULL;
    char *seen = NULL;
    if (k < 1 || k > 10) {
        rc = ls_fail(err, LS_ERR_INPUT, "%s: a pattern needs 1..10 factor columns%s, found %zu", path,
                     named ? " after 'item'" : "", k);
        goto done;
    }
    if (!named && nr != J) {
        rc = ls_fail(err, LS_ERR_INPUT, "%s: %zu rows for %zu items (one row per item, in item order, "
                     "or name them in an 'item' column)", path, nr, J);
        goto done;
    }
    pat = ls_calloc(J * k, sizeof *pat);
    seen = ls_calloc(J + 1, 1);
    if (!pat || !seen) {
        rc = ls_nomem(err);
        goto done;
    }
    for (size_t r = 0; r < nr; r++) {
        size_t j = r;
        if (named) {
            const char *name = ls_table_cell(t, r, 0);
            for (j = 0; j < J && strcmp(d->items[j], name) != 0; j++) {}
            if (j == J) {
                rc = ls_fail(err, LS_ERR_INPUT, "%s:%zu:1: item '%.60s' is not among the items fitted", path,
                             ls_table_line(t, r), name);
                goto done;
            }
            if (seen[j]) {
                rc = ls_fail(err, LS_ERR_INPUT, "%s:%zu:1: item '%.60s' appears twice", path, ls_table_line(t, r), name);
                goto done;
            }
        }
        seen[j] = 1;
        for (size_t c = 0; c < k; c++) {
            double v;
            int miss;
            rc = ls_table_number(t, r, c0 + c, &v, &miss, err);
            if (rc) goto done;
            if (miss || (v != 0.0 && v != 1.0)) {
                rc = ls_fail(err, LS_ERR_INPUT, "%s:%zu:%zu: expected 0 or 1 in a loading pattern, found '%.40s'",
                             path, ls_table_line(t, r), c0 + c + 1, ls_table_cell(t, r, c0 + c));
                goto done;
            }
            pat[j * k + c] = v == 1.0;
        }
    }
    for (size_t j = 0; j < J; j++)
        if (!seen[j]) {
            rc = ls_fail(err, LS_ERR_INPUT, "%s: no row for item '%s'", path, d->items[j]);
            goto done;
        }
    *K = k;
    *pattern = pat;
    pat = NULL;
done:
    ls_free(pat);
    ls_free(seen);
    ls_table_free(t);
    return rc;
}

/* ---------------------------------------------------------------- */
/* JSON                                                              */
/* ---------------------------------------------------------------- */

/* Steps as one array per item (P_j values). */
static json_t *steps_json(const double *b, const unsigned *ncat, size_t J, size_t nb)
{
    json_t *a = json_array();
    for (size_t j = 0; a && j < J; j++) json_array_append_new(a, ls_json_vec(b + j * nb, ncat[j] - 1));
    return a;
}

int ls_gpcm_write_json(const ls_gpcm_fit *f, const ls_gpcm_data *d, const char *path,
                       const char *argv_json, ls_error *err)
{
    const size_t J = f->J, K = f->K, nb = f->maxcat - 1;
    json_t *root = json_object(), *opts = json_object(), *data = json_object(), *se = json_object();
    if (!root || !opts || !data || !se) {
        json_decref(root);
        json_decref(opts);
        json_decref(data);
        json_decref(se);
        return ls_nomem(err);
    }
    json_object_set_new(root, "version", json_string(LS_VERSION));
    json_object_set_new(root, "model", json_string("multidimensional generalized partial credit"));
    json_object_set_new(root, "method", json_string(f->method == LS_GPCM_MML ? "mml" : "gvem"));
    json_object_set_new(root, "mode", json_string(f->exploratory ? "exploratory (promax)" : "confirmatory"));
    json_object_set_new(root, "seed", json_integer((json_int_t)f->seed));
    json_object_set_new(opts, "factors", json_integer((json_int_t)K));
    json_object_set_new(opts, "starts", json_integer(f->starts));
    json_object_set_new(opts, "seed", json_integer((json_int_t)f->seed));
    json_object_set_new(opts, "tol", ls_json_num(f->tol));
    json_object_set_new(opts, "nodes", json_integer(f->nodes));
    ls_json_add_argv(opts, argv_json);
    json_object_set_new(root, "options", opts);
    json_object_set_new(data, "source", json_string(d->source ? d->source : ""));
    json_object_set_new(data, "persons", json_integer((json_int_t)f->n));
    json_object_set_new(data, "observed", json_integer((json_int_t)f->nobs));
    json_object_set_new(data, "lowest_score", ls_json_num(d->lowest));
    json_object_set_new(data, "items", ls_json_strs(d->items, J));
    json_t *nc = json_array();
    for (size_t j = 0; j < J; j++) json_array_append_new(nc, json_integer(f->ncat[j]));
    json_object_set_new(data, "categories", nc);
    json_object_set_new(root, "data", data);
    json_object_set_new(root, "elbo", ls_json_num(f->elbo));
    json_object_set_new(root, "loglik", ls_json_num(f->loglik));
    json_object_set_new(root, "vbic", ls_json_num(f->vbic));
    json_object_set_new(root, "bic", ls_json_num(f->bic));
    json_object_set_new(root, "nparams", json_integer((json_int_t)f->nparams));
    json_object_set_new(root, "converged", json_boolean(f->converged));
    json_object_set_new(root, "elbo_monotone", json_boolean(f->monotone));
    json_object_set_new(root, "iterations", json_integer(f->iterations));
    json_object_set_new(root, "mml_iterations", json_integer(f->mml_iterations));
    json_object_set_new(root, "starts_at_best", json_integer(f->starts_at_best));
    json_object_set_new(root, "start_elbo", ls_json_vec(f->start_elbo, f->starts));
    json_object_set_new(root, "elbo_trace", ls_json_vec(f->elbo_trace, (size_t)f->iterations + 1));
    json_t *pat = json_array();
    for (size_t j = 0; j < J; j++) {
        json_t *row = json_array();
        for (size_t k = 0; k < K; k++) json_array_append_new(row, json_integer(f->pattern[j * K + k]));
        json_array_append_new(pat, row);
    }
    json_object_set_new(root, "pattern", pat);
    json_object_set_new(root, "slopes", ls_json_mat(f->a, J, K));
    if (f->a_unrotated) json_object_set_new(root, "slopes_unrotated", ls_json_mat(f->a_unrotated, J, K));
    if (f->rotation) json_object_set_new(root, "rotation", ls_json_mat(f->rotation, K, K));
    json_object_set_new(root, "steps", steps_json(f->b, f->ncat, J, nb));
    json_object_set_new(root, "factor_correlations", ls_json_mat(f->sigma, K, K));
    if (f->se_a) {
        json_object_set_new(se, "kind", json_string("cross-product (OPG) information of the persons' marginal scores"));
        json_object_set_new(se, f->exploratory ? "slopes_unrotated" : "slopes", ls_json_mat(f->se_a, J, K));
        json_object_set_new(se, "steps", steps_json(f->se_b, f->ncat, J, nb));
        if (f->se_sigma) json_object_set_new(se, "factor_correlations", ls_json_mat(f->se_sigma, K, K));
        const double *sr = ls_gpcm_se_rotated(f), *ss = ls_gpcm_se_sigma_rotated(f);
        if (sr && ss) {
            json_object_set_new(se, "rotated", json_string("delta method through the promax rotation "
                                                           "(central-difference Jacobian on the reported branch)"));
            json_object_set_new(se, "slopes_rotated", ls_json_mat(sr, J, K));
            json_object_set_new(se, "correlation_rotated", ls_json_mat(ss, K, K));
        }
        json_object_set_new(root, "standard_errors", se);
    } else {
        json_decref(se);
        json_object_set_new(root, "standard_errors", json_null());
    }
    json_t *warn = json_array();
    for (size_t i = 0; warn && i < ls_gpcm_nwarnings(f); i++)
        json_array_append_new(warn, json_string(ls_gpcm_warning(f, i)));
    json_object_set_new(root, "warnings", warn);
    int rc = ls_json_write(root, path, err);
    json_decref(root);
    return rc;
}
