/*
 * items.c -- item-response tables (items.h): R's row names, item patterns,
 * covariates, responses parsed with file:line:column errors.
 */
#include "kernel/items.h"

#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---------------------------------------------------------------- */
/* R's row names                                                     */
/* ---------------------------------------------------------------- */

int ls_items_table_read(const char *path, ls_table **out, ls_error *err)
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
    const char *name = "\"" LS_ROW_NAMES "\"";
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

/* ---------------------------------------------------------------- */
/* Items and covariates                                              */
/* ---------------------------------------------------------------- */

void ls_items_free(ls_items *it)
{
    if (!it) return;
    ls_free(it->Y);
    ls_free(it->X);
    ls_free(it->col);
    ls_strv_free(it->items, it->q);
    ls_strv_free(it->covariates, it->p);
    ls_free(it->line);
    ls_free(it->source);
    memset(it, 0, sizeof *it);
}

char **ls_items_names(const char *const *names, size_t n, const char *prefix)
{
    char **v = ls_calloc(n ? n : 1, sizeof *v);
    for (size_t k = 0; v && k < n; k++) {
        char buf[64];
        if (!names) snprintf(buf, sizeof buf, "%s%zu", prefix, k + 1);
        if (!(v[k] = ls_strdup(names ? names[k] : buf))) {
            ls_strv_free(v, k);
            v = NULL;
        }
    }
    return v;
}

static int has_glob(const char *s) { return strpbrk(s, "*?[") != NULL; }

/* The item columns: used[c] is 2 for covariates, set to 1 for items. */
static int select_items(const ls_table *t, char **pat, size_t npat, char *used, size_t *col,
                        size_t *q_out, ls_error *err)
{
    const size_t nc = ls_table_ncol(t);
    const char *file = ls_table_name(t);
    size_t q = 0;
    if (!pat) { /* every column but R's row names and the covariates */
        for (size_t c = 0; c < nc; c++)
            if (!used[c] && strcmp(ls_table_colname(t, c), LS_ROW_NAMES) != 0) {
                used[c] = 1;
                col[q++] = c;
            }
    }
    for (size_t k = 0; k < npat; k++) {
        size_t before = q;
        if (has_glob(pat[k])) {
            for (size_t c = 0; c < nc; c++)
                if (!used[c] && fnmatch(pat[k], ls_table_colname(t, c), 0) == 0) {
                    used[c] = 1;
                    col[q++] = c;
                }
            if (q == before)
                return ls_fail(err, LS_ERR_OPTION, "items: no column of %s matches '%s'", file, pat[k]);
            continue;
        }
        long c = ls_table_find(t, pat[k]);
        if (c < 0) return ls_fail(err, LS_ERR_OPTION, "items: no column '%s' in %s", pat[k], file);
        if (used[c] == 2) return ls_fail(err, LS_ERR_OPTION, "items: '%s' is also a covariate", pat[k]);
        if (!used[c]) {
            used[c] = 1;
            col[q++] = (size_t)c;
        }
    }
    *q_out = q;
    return LS_OK;
}

int ls_items_read(const ls_table *t, const char *items, const char *covariates,
                  ls_items_check check, void *ctx, ls_items *out, ls_error *err)
{
    memset(out, 0, sizeof *out);
    const size_t nc = ls_table_ncol(t), n = ls_table_nrow(t);
    const char *file = ls_table_name(t);
    char **pat = NULL, **cov = NULL;
    size_t npat = 0, ncov = 0;
    long *covcol = NULL;
    char *used = NULL;
    int rc = LS_OK;
    if (items && !*items) return ls_fail(err, LS_ERR_OPTION, "items: no item columns given");
    if (n == 0) return ls_fail(err, LS_ERR_INPUT, "%s: no data rows", file);
    if (items) rc = ls_split(items, &pat, &npat, err);
    if (!rc && covariates && *covariates) rc = ls_split(covariates, &cov, &ncov, err);
    if (rc) goto done;
    covcol = ls_calloc(ncov + 1, sizeof *covcol);
    out->col = ls_calloc(nc + 1, sizeof *out->col);
    used = ls_calloc(nc + 1, 1);
    if (!covcol || !out->col || !used) {
        rc = ls_nomem(err);
        goto done;
    }
    for (size_t s = 0; s < ncov; s++) {
        covcol[s] = ls_table_find(t, cov[s]);
        if (covcol[s] < 0) {
            rc = ls_fail(err, LS_ERR_OPTION, "covariates: no column '%s' in %s", cov[s], file);
            goto done;
        }
        if (used[covcol[s]]) {
            rc = ls_fail(err, LS_ERR_OPTION, "covariates: '%s' named twice", cov[s]);
            goto done;
        }
        used[covcol[s]] = 2;
    }
    size_t q = 0;
    if ((rc = select_items(t, items ? pat : NULL, npat, used, out->col, &q, err))) goto done;
    if (q < 2) {
        rc = ls_fail(err, LS_ERR_OPTION, "items: at least 2 item columns are needed, found %zu", q);
        goto done;
    }
    out->n = n;
    out->q = q;
    out->p = ncov;
    out->Y = ls_malloc(n * q * sizeof *out->Y);
    out->X = ls_malloc((ncov ? n * ncov : 1) * sizeof *out->X);
    out->covariates = ls_calloc(ncov ? ncov : 1, sizeof *out->covariates);
    out->line = ls_malloc(n * sizeof *out->line);
    out->source = ls_strdup(file);
    out->items = ls_calloc(q, sizeof *out->items);
    if (!out->Y || !out->X || !out->items || !out->covariates || !out->line || !out->source) {
        rc = ls_nomem(err);
        goto done;
    }
    for (size_t j = 0; j < q; j++)
        if (!(out->items[j] = ls_strdup(ls_table_colname(t, out->col[j])))) {
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
            size_t c = out->col[j];
            if ((rc = ls_table_number(t, i, c, &v, &miss, err))) goto done;
            if (!miss && check && (rc = check(ctx, t, i, c, &v, err))) goto done;
            out->Y[i * q + j] = v;
        }
        for (size_t s = 0; s < ncov; s++) {
            double v;
            int miss;
            if ((rc = ls_table_number(t, i, (size_t)covcol[s], &v, &miss, err))) goto done;
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
    ls_free(used);
    if (rc) ls_items_free(out);
    return rc;
}
