/*
 * io.c -- scores from tables (the kernel's items reader, then integer
 * checks with file/line/column messages) or from an int matrix, loading
 * patterns from CSV, and the JSON of a fit, written atomically.
 */
#include "gpcm/model.h"
#include "kernel/items.h"
#include "kernel/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---------------------------------------------------------------- */
/* Scores                                                            */
/* ---------------------------------------------------------------- */

void ls_gpcm_data_free(ls_gpcm_data *d)
{
    if (!d) return;
    ls_free(d->Y);
    ls_resp_free(&d->R);
    ls_free(d->ncat);
    ls_strv_free(d->items, d->J);
    ls_free(d->line);
    ls_free(d->source);
    ls_free(d->X);
    ls_strv_free(d->covariates, d->p);
    ls_free(d);
}

/* Categories per item: the largest score + 1 (ncat 0), or ncat for every
 * item; each item needs 2.  `where` names the data in messages.  First the
 * dense scores d->Y (when there) become the observed cells d->R. */
static int categories_as(ls_gpcm_data *d, unsigned ncat, const char *where, const char *what, ls_error *err)
{
    if (d->Y) {
        int rc = lsg_resp_from_scores(d->Y, d->n, d->J, &d->R, err);
        if (rc) return rc;
        ls_free(d->Y);
        d->Y = NULL;
    }
    for (size_t j = 0; j < d->J; j++) {
        if (ncat) d->ncat[j] = ncat;
        if (d->ncat[j] < 2)
            return ls_fail(err, LS_ERR_INPUT, "%s: %s '%s': every observed score is the lowest one (%.0f); "
                           "an item needs at least 2 categories", where, what, d->items[j], d->lowest);
    }
    /* an item observed in one category only: its slope has no information
     * and its step parameters run off to infinity */
    for (size_t j = 0; j < d->J; j++) {
        int first = -1, more = 0;
        for (size_t c = d->R.cp[j]; c < d->R.cp[j + 1] && !more; c++) {
            int y = (int)d->R.cv[c];
            if (first < 0) first = y;
            else if (y != first) more = 1;
        }
        if (!more && first >= 0)
            return ls_fail(err, LS_ERR_INPUT, "%s: %s '%s': every observed score is %.0f, one category of %u; "
                           "an item needs responses in at least 2 categories (%s)",
                           where, what, d->items[j], d->lowest + first, d->ncat[j],
                           strcmp(what, "item") == 0 ? "drop its rows" : "drop it from `items`");
    }
    return LS_OK;
}

static int categories(ls_gpcm_data *d, unsigned ncat, const char *where, ls_error *err)
{
    return categories_as(d, ncat, where, "column", err);
}

static int check_categories(unsigned ncat, ls_error *err)
{
    if (ncat == 1 || ncat > 64) return ls_fail(err, LS_ERR_OPTION, "categories: expected 2..64");
    return LS_OK;
}

/* A handle for n x J scores with the names moved in (set NULL there). */
static ls_gpcm_data *data_alloc(size_t n, size_t J, char ***items)
{
    ls_gpcm_data *d = ls_calloc(1, sizeof *d);
    if (!d) return NULL;
    d->n = n;
    d->J = J;
    d->items = *items;
    *items = NULL;
    d->Y = ls_malloc(n * J * sizeof *d->Y);
    d->ncat = ls_calloc(J, sizeof *d->ncat);
    if (!d->Y || !d->ncat) {
        ls_gpcm_data_free(d);
        return NULL;
    }
    return d;
}

/* The covariates of the items reader move into d (p = 0: none). */
static void take_covariates(ls_gpcm_data *d, ls_items *it)
{
    if (!it->p) return;
    d->p = it->p;
    d->X = it->X;
    d->covariates = it->covariates;
    it->X = NULL;
    it->covariates = NULL;
    it->p = 0;
}

int ls_gpcm_data_build(const ls_table *t, const char *items, double lowest, unsigned ncat,
                       ls_gpcm_data **out, ls_error *err)
{
    return ls_gpcm_data_build_cov(t, items, NULL, lowest, ncat, out, err);
}

int ls_gpcm_data_build_long(const ls_table *t, const char *columns, double lowest, unsigned ncat,
                            ls_gpcm_data **out, ls_error *err)
{
    return ls_gpcm_data_build_long_cov(t, columns, NULL, lowest, ncat, out, err);
}

size_t ls_gpcm_data_ncovariates(const ls_gpcm_data *d) { return d ? d->p : 0; }

const char *ls_gpcm_data_covariate(const ls_gpcm_data *d, size_t s)
{
    return d && s < d->p ? d->covariates[s] : NULL;
}

int ls_gpcm_data_build_cov(const ls_table *t, const char *items, const char *covariates, double lowest,
                           unsigned ncat, ls_gpcm_data **out, ls_error *err)
{
    *out = NULL;
    int rc = check_categories(ncat, err);
    if (rc) return rc;
    if (!isnan(lowest) && (!isfinite(lowest) || lowest != floor(lowest)))
        return ls_fail(err, LS_ERR_OPTION, "lowest: expected an integer");
    ls_items it;
    if ((rc = ls_items_read(t, items, covariates, NULL, NULL, &it, err))) return rc;
    const size_t n = it.n, J = it.q;
    const char *file = ls_table_name(t);
    ls_gpcm_data *d = NULL;
    /* integers, and the lowest value */
    double lo = INFINITY;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < J; j++) {
            double v = it.Y[i * J + j];
            if (isnan(v)) continue;
            size_t c = it.col[j];
            if (v != floor(v) || fabs(v) > 1e6) {
                rc = ls_fail(err, LS_ERR_INPUT, "%s:%zu:%zu: column '%s': expected an integer score, found '%.40s'",
                             file, it.line[i], c + 1, it.items[j], ls_table_cell(t, i, c));
                goto done;
            }
            if (!isnan(lowest) && v < lowest) {
                rc = ls_fail(err, LS_ERR_INPUT, "%s:%zu:%zu: column '%s': score %.0f is below the lowest score %.0f",
                             file, it.line[i], c + 1, it.items[j], v, lowest);
                goto done;
            }
            if (v < lo) lo = v;
        }
    if (!isnan(lowest)) lo = lowest;
    if (!(d = data_alloc(n, J, &it.items))) {
        rc = ls_nomem(err);
        goto done;
    }
    d->lowest = lo;
    take_covariates(d, &it);
    d->line = it.line;
    d->source = it.source;
    it.line = NULL;
    it.source = NULL;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < J; j++) {
            double v = it.Y[i * J + j];
            int s = isnan(v) ? -1 : (int)(v - lo);
            if (s > 63 || (ncat && s > (int)ncat - 1)) {
                rc = ls_fail(err, LS_ERR_INPUT, "%s:%zu:%zu: column '%s': score %.0f is above the highest category %.0f",
                             file, d->line[i], it.col[j] + 1, d->items[j], v,
                             lo + (ncat ? (double)ncat - 1 : 63.0));
                goto done;
            }
            d->Y[i * J + j] = s;
            if (s >= 0 && (unsigned)s + 1 > d->ncat[j]) d->ncat[j] = (unsigned)s + 1;
        }
    rc = categories(d, ncat, file, err);
done:
    ls_items_free(&it);
    if (rc) ls_gpcm_data_free(d);
    else *out = d;
    return rc;
}

/* The long reader's check of each response (kernel/items' ls_items_check):
 * an integer, not below `lowest`, and (lowest given) not above the highest
 * category; the response column is noted for the pass after reading. */
typedef struct long_ctx {
    double lowest;
    unsigned ncat;
    size_t col;
} long_ctx;

static int long_cell(void *vctx, const ls_table *t, size_t i, size_t c, double *v, ls_error *err)
{
    long_ctx *x = vctx;
    x->col = c;
    if (*v != floor(*v) || fabs(*v) > 1e6)
        return ls_fail(err, LS_ERR_INPUT, "%s:%zu:%zu: column '%s': expected an integer score, found '%.40s'",
                       ls_table_name(t), ls_table_line(t, i), c + 1, ls_table_colname(t, c), ls_table_cell(t, i, c));
    if (!isnan(x->lowest) && *v < x->lowest)
        return ls_fail(err, LS_ERR_INPUT, "%s:%zu:%zu: column '%s': score %.0f is below the lowest score %.0f",
                       ls_table_name(t), ls_table_line(t, i), c + 1, ls_table_colname(t, c), *v, x->lowest);
    return LS_OK;
}

int ls_gpcm_data_build_long_cov(const ls_table *t, const char *columns, const char *covariates, double lowest,
                                unsigned ncat, ls_gpcm_data **out, ls_error *err)
{
    *out = NULL;
    int rc = check_categories(ncat, err);
    if (rc) return rc;
    if (!isnan(lowest) && (!isfinite(lowest) || lowest != floor(lowest)))
        return ls_fail(err, LS_ERR_OPTION, "lowest: expected an integer");
    if (!columns) return ls_fail(err, LS_ERR_OPTION, "long: required");
    long_ctx ctx = {lowest, ncat, 0};
    ls_items it;
    if ((rc = ls_items_read_long(t, columns, covariates, long_cell, &ctx, &it, err))) return rc;
    const char *file = ls_table_name(t);
    double lo = lowest;
    if (isnan(lo)) {
        lo = INFINITY;
        for (size_t c = 0; c < it.R.nnz; c++) lo = fmin(lo, it.R.rv[c]);
    }
    /* above the highest category: the first such row, in row order */
    const double top = lo + (ncat ? (double)ncat - 1 : 63.0);
    for (size_t c = 0; c < it.R.nnz; c++) {
        if (it.R.rv[c] <= top) continue;
        for (size_t i = 0; i < ls_table_nrow(t); i++) {
            const char *cell = ls_table_cell(t, i, ctx.col);
            char *end;
            double v = strtod(cell, &end);
            if (end == cell || !(v > top)) continue;
            rc = ls_fail(err, LS_ERR_INPUT, "%s:%zu:%zu: column '%s': score %.0f is above the highest category %.0f",
                         file, ls_table_line(t, i), ctx.col + 1, ls_table_colname(t, ctx.col), v, top);
            break;
        }
        if (!rc) rc = ls_fail(err, LS_ERR_INPUT, "%s: a score is above the highest category %.0f", file, top);
        ls_items_free(&it);
        return rc;
    }
    ls_gpcm_data *d = ls_calloc(1, sizeof *d);
    if (d) d->ncat = ls_calloc(it.q, sizeof *d->ncat);
    if (!d || !d->ncat) {
        ls_free(d);
        ls_items_free(&it);
        return ls_nomem(err);
    }
    d->n = it.n;
    d->J = it.q;
    d->lowest = lo;
    d->R = it.R;
    memset(&it.R, 0, sizeof it.R);
    d->items = it.items;
    it.items = NULL;
    d->line = it.line;
    it.line = NULL;
    d->source = it.source;
    it.source = NULL;
    take_covariates(d, &it);
    ls_items_free(&it);
    for (size_t c = 0; c < d->R.nnz; c++) {
        d->R.rv[c] -= lo;
        d->R.cv[c] -= lo;
    }
    for (size_t j = 0; j < d->J; j++)
        for (size_t c = d->R.cp[j]; c < d->R.cp[j + 1]; c++)
            if ((unsigned)d->R.cv[c] + 1 > d->ncat[j]) d->ncat[j] = (unsigned)d->R.cv[c] + 1;
    if ((rc = categories_as(d, ncat, file, "item", err))) {
        ls_gpcm_data_free(d);
        return rc;
    }
    *out = d;
    return LS_OK;
}

int ls_gpcm_data_new(size_t n, size_t J, const int *Y, const char *const *items, unsigned ncat,
                     ls_gpcm_data **out, ls_error *err)
{
    *out = NULL;
    int rc = check_categories(ncat, err);
    if (rc) return rc;
    if (n < 1 || J < 2) return ls_fail(err, LS_ERR_INPUT, "scores: expected at least 1 person and 2 items, "
                                                         "found %zu x %zu", n, J);
    if (!Y) return ls_fail(err, LS_ERR_INPUT, "scores: no values");
    for (size_t c = 0; c < n * J; c++)
        if (Y[c] > 63 || (ncat && Y[c] > (int)ncat - 1))
            return ls_fail(err, LS_ERR_INPUT, "scores: person %zu, item %zu: score %d is above the highest "
                           "category %u", c / J + 1, c % J + 1, Y[c], ncat ? ncat - 1 : 63);
    for (size_t j = 0; j < J; j++) {
        size_t cnt = 0;
        for (size_t i = 0; i < n; i++) cnt += Y[i * J + j] >= 0;
        if (!cnt) return ls_fail(err, LS_ERR_INPUT, "scores: item %zu: no observed responses", j + 1);
    }
    char **names = ls_items_names(items, J, "item");
    ls_gpcm_data *d = names ? data_alloc(n, J, &names) : NULL;
    ls_strv_free(names, J);
    if (!d) return ls_nomem(err);
    for (size_t c = 0; c < n * J; c++) {
        d->Y[c] = Y[c] < 0 ? -1 : Y[c];
        if (Y[c] >= 0 && (unsigned)Y[c] + 1 > d->ncat[c % J]) d->ncat[c % J] = (unsigned)Y[c] + 1;
    }
    if ((rc = categories(d, ncat, "scores", err))) {
        ls_gpcm_data_free(d);
        return rc;
    }
    *out = d;
    return LS_OK;
}

size_t ls_gpcm_data_npersons(const ls_gpcm_data *d) { return d ? d->n : 0; }
size_t ls_gpcm_data_nitems(const ls_gpcm_data *d) { return d ? d->J : 0; }
const char *ls_gpcm_data_item(const ls_gpcm_data *d, size_t j)
{
    return d && d->items && j < d->J ? d->items[j] : NULL;
}
unsigned ls_gpcm_data_categories(const ls_gpcm_data *d, size_t j)
{
    return d && j < d->J ? d->ncat[j] : 0;
}
double ls_gpcm_data_lowest(const ls_gpcm_data *d) { return d ? d->lowest : NAN; }
const char *ls_gpcm_data_source(const ls_gpcm_data *d) { return d ? d->source : NULL; }

/* ---------------------------------------------------------------- */
/* Loading patterns                                                  */
/* ---------------------------------------------------------------- */

void ls_gpcm_pattern_free(int *pattern) { ls_free(pattern); }

int ls_gpcm_pattern_from_table(const ls_table *t, const ls_gpcm_data *d, size_t *K, int **pattern,
                               ls_error *err)
{
    *pattern = NULL;
    const char *path = ls_table_name(t);
    const size_t nc = ls_table_ncol(t), nr = ls_table_nrow(t), J = d->J;
    const int named = nc > 0 && strcasecmp(ls_table_colname(t, 0), "item") == 0;
    const size_t c0 = named ? 1 : 0, k = nc - c0;
    int *pat = NULL;
    char *seen = NULL;
    int rc = LS_OK;
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
    return rc;
}

int ls_gpcm_pattern_read(const char *path, const ls_gpcm_data *d, size_t *K, int **pattern,
                         ls_error *err)
{
    *pattern = NULL;
    ls_table *t = NULL;
    int rc = ls_table_read(path, &t, err);
    if (!rc) rc = ls_gpcm_pattern_from_table(t, d, K, pattern, err);
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

int lsg_write_json(const lsg_fit *f, const char *path, const char *argv_json, ls_error *err)
{
    if (!f) return ls_fail(err, LS_ERR_OPTION, "write: expected a partial credit fit");
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
    json_object_set_new(data, "source", json_string(f->source ? f->source : ""));
    json_object_set_new(data, "persons", json_integer((json_int_t)f->n));
    json_object_set_new(data, "observed", json_integer((json_int_t)f->nobs));
    json_object_set_new(data, "lowest_score", ls_json_num(f->lowest));
    json_object_set_new(data, "items", ls_json_strs(f->items, J));
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
    if (f->screen_persons) {
        json_object_set_new(root, "screen_persons", json_integer(f->screen_persons));
        json_object_set_new(root, "screen_elbo", ls_json_vec(f->screen_elbo, f->starts));
    }
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
        json_object_set_new(se, "kind", json_string(f->p ? "observed information (differences of the analytic gradient), delta method; min-l1 effects by simulation through the map" : "cross-product (OPG) information of the persons' marginal scores"));
        json_object_set_new(se, f->exploratory ? "slopes_unrotated" : "slopes", ls_json_mat(f->se_a, J, K));
        json_object_set_new(se, "steps", steps_json(f->se_b, f->ncat, J, nb));
        if (f->se_sigma) json_object_set_new(se, "factor_correlations", ls_json_mat(f->se_sigma, K, K));
        const double *sr = f->se_a_rot, *ss = f->se_sigma_rot;
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
    if (f->p) { /* covariates: see ls_gpcm_run */
        const size_t p = f->p;
        const int dif = f->covariate_mode == LS_GPCM_COV_DIF;
        json_t *cv = json_object();
        json_object_set_new(cv, "names", ls_json_strs(f->covariates, p));
        json_object_set_new(cv, "mode", json_string(dif ? "dif" : "latent-regression"));
        if (dif)
            json_object_set_new(cv, "condition",
                                json_string(f->covariate_condition == LS_FACTOR_COV_L1 ? "min-l1" : "orthogonal"));
        json_object_set_new(cv, "steps_at", json_string("x = 0"));
        json_object_set_new(cv, "covariate_transform", ls_json_mat(f->A, p, K));
        if (f->se_A) json_object_set_new(cv, "se_covariate_transform", ls_json_mat(f->se_A, p, K));
        if (dif) {
            json_object_set_new(cv, "effect", ls_json_mat(f->dif, J, p));
            json_t *fx = json_array();
            for (size_t c = 0; c < J * p; c++) json_array_append_new(fx, json_integer(f->dif_fixed[c]));
            json_object_set_new(cv, "fixed", fx);
            if (f->se_dif) {
                json_object_set_new(cv, "se", ls_json_mat(f->se_dif, J, p));
                json_object_set_new(cv, "z", ls_json_mat(f->dif_z, J, p));
                json_object_set_new(cv, "p_value", ls_json_mat(f->dif_p, J, p));
                json_object_set_new(cv, "p_adjusted", ls_json_mat(f->dif_padj, J, p));
                json_t *fl = json_array();
                for (size_t c = 0; c < J * p; c++) json_array_append_new(fl, json_integer(f->dif_flag[c]));
                json_object_set_new(cv, "flagged", fl);
                json_object_set_new(cv, "alpha", ls_json_num(f->dif_alpha));
                json_object_set_new(cv, "correction",
                                    json_string(f->dif_correction == LS_FACTOR_BH ? "bh" : "bonferroni"));
            }
        }
        if (f->has_lr) {
            json_t *lr = json_object();
            json_object_set_new(lr, "loglik_no_dif", ls_json_num(f->loglik_nodif));
            json_object_set_new(lr, "statistic", ls_json_num(f->lr_dif));
            json_object_set_new(lr, "df", json_integer((json_int_t)f->lr_df));
            json_object_set_new(lr, "p_value", ls_json_num(f->lr_p));
            json_object_set_new(cv, "lr_test_no_dif", lr);
        }
        json_object_set_new(root, "covariates", cv);
    }
    json_t *warn = json_array();
    for (size_t i = 0; warn && i < f->nwarnings; i++) json_array_append_new(warn, json_string(f->warnings[i]));
    json_object_set_new(root, "warnings", warn);
    int rc = ls_json_write(root, path, err);
    json_decref(root);
    return rc;
}
