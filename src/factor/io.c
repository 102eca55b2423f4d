/*
 * factor_io.c -- factor-model data from tables (item patterns, covariates,
 * dichotomising, family checks with file/line/column messages) and the JSON
 * of a fit, written atomically.
 */
#include "factor/fit.h"
#include "kernel/json.h"

#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---------------------------------------------------------------- */
/* Reading                                                           */
/* ---------------------------------------------------------------- */

int ls_factor_table_read(const char *path, ls_table **out, ls_error *err)
{
    ls_error e1 = {0, ""};
    int rc = ls_table_read(path, out, &e1);
    if (rc == LS_OK) return rc;
    /* R writes row names under an empty first header field: name it. */
    if (rc != LS_ERR_PARSE || !strstr(e1.message, ":1:1: empty column name")) {
        if (err) *err = e1;
        return rc;
    }
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        if (err) *err = e1;
        return rc;
    }
    size_t cap = 1 << 16, n = 0;
    const char *name = "\"(row)\"";
    size_t extra = strlen(name);
    char *buf = ls_malloc(cap + extra);
    for (;;) {
        if (!buf) break;
        if (n == cap) {
            char *b = ls_realloc(buf, cap * 2 + extra);
            if (!b) {
                ls_free(buf);
                buf = NULL;
                break;
            }
            buf = b;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, fp);
        n += got;
        if (got == 0) break;
    }
    fclose(fp);
    if (!buf) return ls_nomem(err);
    size_t off = (n >= 3 && (unsigned char)buf[0] == 0xEF && (unsigned char)buf[1] == 0xBB &&
                  (unsigned char)buf[2] == 0xBF) ? 3 : 0;
    size_t skip = (n - off >= 2 && buf[off] == '"' && buf[off + 1] == '"') ? 2 : 0;
    if (n - off > skip && (buf[off + skip] == ',' || buf[off + skip] == '\n' || buf[off + skip] == '\r')) {
        memmove(buf + off + extra, buf + off + skip, n - off - skip);
        memcpy(buf + off, name, extra);
        n = n - skip + extra;
        rc = ls_table_parse(buf, n, path, out, err);
    } else if (err) {
        *err = e1;
    }
    ls_free(buf);
    return rc;
}

void ls_factor_data_free(ls_factor_data *d)
{
    if (!d) return;
    ls_free(d->Y);
    ls_free(d->X);
    ls_strv_free(d->items, d->q);
    ls_strv_free(d->covariates, d->p);
    ls_free(d->line);
    ls_free(d->source);
    memset(d, 0, sizeof *d);
}

static int has_glob(const char *s) { return strpbrk(s, "*?[") != NULL; }

int ls_factor_data_build(const ls_table *t, const char *items, const char *covariates,
                         double dichotomise, int family, ls_factor_data *out, ls_error *err)
{
    memset(out, 0, sizeof *out);
    const size_t nc = ls_table_ncol(t), n = ls_table_nrow(t);
    const char *file = ls_table_name(t);
    char **pat = NULL, **cov = NULL;
    size_t npat = 0, ncov = 0;
    long *covcol = NULL;
    size_t *itemcol = NULL;
    char *used = NULL;
    int rc = LS_OK;
    if (!items || !*items) return ls_fail(err, LS_ERR_OPTION, "--items: no item columns given");
    if (n == 0) return ls_fail(err, LS_ERR_INPUT, "%s: no data rows", file);
    rc = ls_split(items, &pat, &npat, err);
    if (!rc && covariates && *covariates) rc = ls_split(covariates, &cov, &ncov, err);
    if (rc) goto done;
    covcol = ls_calloc(ncov + 1, sizeof *covcol);
    itemcol = ls_calloc(nc + 1, sizeof *itemcol);
    used = ls_calloc(nc + 1, 1);
    if (!covcol || !itemcol || !used) {
        rc = ls_nomem(err);
        goto done;
    }
    for (size_t s = 0; s < ncov; s++) {
        covcol[s] = ls_table_find(t, cov[s]);
        if (covcol[s] < 0) {
            rc = ls_fail(err, LS_ERR_OPTION, "--covariates: no column '%s' in %s", cov[s], file);
            goto done;
        }
        if (used[covcol[s]]) {
            rc = ls_fail(err, LS_ERR_OPTION, "--covariates: '%s' named twice", cov[s]);
            goto done;
        }
        used[covcol[s]] = 2;
    }
    size_t q = 0;
    for (size_t k = 0; k < npat; k++) {
        size_t before = q;
        if (has_glob(pat[k])) {
            for (size_t c = 0; c < nc; c++)
                if (!used[c] && fnmatch(pat[k], ls_table_colname(t, c), 0) == 0) {
                    used[c] = 1;
                    itemcol[q++] = c;
                }
        } else {
            long c = ls_table_find(t, pat[k]);
            if (c < 0) {
                rc = ls_fail(err, LS_ERR_OPTION, "--items: no column '%s' in %s", pat[k], file);
                goto done;
            }
            if (used[c] == 2) {
                rc = ls_fail(err, LS_ERR_OPTION, "--items: '%s' is also a covariate", pat[k]);
                goto done;
            }
            if (!used[c]) {
                used[c] = 1;
                itemcol[q++] = (size_t)c;
            }
        }
        if (q == before && has_glob(pat[k])) {
            rc = ls_fail(err, LS_ERR_OPTION, "--items: no column of %s matches '%s'", file, pat[k]);
            goto done;
        }
    }
    if (q < 2) {
        rc = ls_fail(err, LS_ERR_OPTION, "--items: at least 2 item columns are needed, found %zu", q);
        goto done;
    }
    out->n = n;
    out->q = q;
    out->p = ncov;
    out->Y = ls_malloc(n * q * sizeof *out->Y);
    out->X = ls_malloc((ncov ? n * ncov : 1) * sizeof *out->X);
    out->items = ls_calloc(q, sizeof *out->items);
    out->covariates = ls_calloc(ncov ? ncov : 1, sizeof *out->covariates);
    out->line = ls_malloc(n * sizeof *out->line);
    out->source = ls_strdup(file);
    if (!out->Y || !out->X || !out->items || !out->covariates || !out->line || !out->source) {
        rc = ls_nomem(err);
        goto done;
    }
    for (size_t j = 0; j < q; j++)
        if (!(out->items[j] = ls_strdup(ls_table_colname(t, itemcol[j])))) {
            rc = ls_nomem(err);
            goto done;
        }
    for (size_t s = 0; s < ncov; s++)
        if (!(out->covariates[s] = ls_strdup(cov[s]))) {
            rc = ls_nomem(err);
            goto done;
        }
    for (size_t i = 0; i < n; i++) {
        out->line[i] = ls_table_line(t, i);
        for (size_t j = 0; j < q; j++) {
            double v;
            int miss;
            size_t c = itemcol[j];
            rc = ls_table_number(t, i, c, &v, &miss, err);
            if (rc) goto done;
            if (!miss && isfinite(dichotomise)) v = v >= dichotomise ? 1.0 : 0.0;
            if (!miss) {
                const char *bad = NULL;
                if ((family == LS_FACTOR_BERNOULLI || family == LS_FACTOR_PROBIT) && v != 0.0 && v != 1.0)
                    bad = "expected 0 or 1 for a binary response (dichotomise the items)";
                else if (family == LS_FACTOR_POISSON && (v < 0 || v != floor(v) || v > 1e9))
                    bad = "expected a count (a non-negative integer)";
                if (bad) {
                    rc = ls_fail(err, LS_ERR_INPUT, "%s:%zu:%zu: column '%s': %s, found '%.40s'", file,
                                 ls_table_line(t, i), c + 1, ls_table_colname(t, c), bad,
                                 ls_table_cell(t, i, c));
                    goto done;
                }
            }
            out->Y[i * q + j] = v;
        }
        for (size_t s = 0; s < ncov; s++) {
            double v;
            int miss;
            rc = ls_table_number(t, i, (size_t)covcol[s], &v, &miss, err);
            if (rc) goto done;
            if (miss) {
                rc = ls_fail(err, LS_ERR_INPUT, "%s:%zu:%ld: column '%s': missing covariate value",
                             file, ls_table_line(t, i), covcol[s] + 1, cov[s]);
                goto done;
            }
            out->X[i * ncov + s] = v;
        }
    }
    for (size_t j = 0; j < q; j++) {
        size_t cnt = 0;
        for (size_t i = 0; i < n; i++) cnt += !isnan(out->Y[i * q + j]);
        if (cnt == 0) {
            rc = ls_fail(err, LS_ERR_INPUT, "%s: column '%s': no observed responses", file, out->items[j]);
            goto done;
        }
    }
    for (size_t s = 0; s < ncov; s++) {
        double lo = INFINITY, hi = -INFINITY;
        for (size_t i = 0; i < n; i++) {
            lo = fmin(lo, out->X[i * ncov + s]);
            hi = fmax(hi, out->X[i * ncov + s]);
        }
        if (!(hi > lo)) {
            rc = ls_fail(err, LS_ERR_INPUT, "%s: covariate '%s' is constant", file, cov[s]);
            goto done;
        }
    }
done:
    ls_strv_free(pat, npat);
    ls_strv_free(cov, ncov);
    ls_free(covcol);
    ls_free(itemcol);
    ls_free(used);
    if (rc) ls_factor_data_free(out);
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

int ls_factor_write_json(const ls_factor_fit *f, const ls_factor_data *d,
                         const ls_factor_dif *dif, const ls_factor_selection *sel,
                         const char *path, const char *argv_json, ls_error *err)
{
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
    json_t *an = json_array();
    for (size_t k = 0; k < r; k++) json_array_append_new(an, json_string(d->items[f->anchors[k]]));
    json_object_set_new(opts, "anchors", an);
    json_object_set_new(opts, "starts", json_integer(f->starts));
    json_object_set_new(opts, "bound", ls_json_num(f->bound));
    json_object_set_new(opts, "tol", ls_json_num(f->tol));
    json_object_set_new(opts, "ridge", ls_json_num(f->ridge));
    json_object_set_new(opts, "scale_corrected", json_boolean(f->scale_corrected));
    json_object_set_new(opts, "loading_bootstrap", json_integer(f->loading_bootstrap));
    json_object_set_new(opts, "loadings_bias_corrected", json_boolean(f->gamma_ml != NULL));
    ls_json_add_argv(opts, argv_json);
    json_object_set_new(root, "options", opts);
    json_t *data = json_object();
    json_object_set_new(data, "file", json_string(d->source ? d->source : ""));
    json_object_set_new(data, "persons", json_integer((json_int_t)n));
    json_object_set_new(data, "items", ls_json_strs(d->items, q));
    json_object_set_new(data, "covariates", ls_json_strs(d->covariates, p));
    json_object_set_new(data, "observed_cells", json_integer((json_int_t)f->nobs));
    json_object_set_new(data, "missing_share", ls_json_num(1.0 - (double)f->nobs / ((double)n * (double)q)));
    json_object_set_new(root, "data", data);
    json_object_set_new(root, "loglik", ls_json_num(f->loglik));
    json_object_set_new(root, "jic", ls_json_num(f->jic));
    json_object_set_new(root, "n_params", json_integer((json_int_t)f->nparams));
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
        json_object_set_new(se, "loadings_without_anchor_term", ls_json_mat(f->se_gamma_naive, q, r));
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
                json_object_set_new(e, "item", json_string(d->items[j]));
                json_object_set_new(e, "covariate", json_string(d->covariates[s]));
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
        json_object_set_new(o, "best", json_integer((json_int_t)sel->r[sel->best]));
        json_object_set_new(root, "selection", o);
    }
    int rc = ls_json_write(root, path, err);
    json_decref(root);
    return rc;
}
