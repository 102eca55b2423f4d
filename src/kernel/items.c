/*
 * items.c -- item-response tables (items.h): R's row names, item patterns,
 * covariates, responses parsed with file:line:column errors.
 */
#include "kernel/items.h"

#include <fnmatch.h>
#include <math.h>
#include <stdint.h>
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
    ls_resp_free(&it->R);
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

/* out's arrays for n persons, q items and the ncov covariates named cov
 * (names copied); the item names are left to the caller. */
static int items_alloc(ls_items *out, size_t n, size_t q, size_t ncov, char **cov, const char *file,
                       int dense, ls_error *err)
{
    out->n = n;
    out->q = q;
    out->p = ncov;
    out->Y = dense ? ls_malloc(n * q * sizeof *out->Y) : NULL;
    out->X = ls_malloc((ncov ? n * ncov : 1) * sizeof *out->X);
    out->covariates = ls_calloc(ncov ? ncov : 1, sizeof *out->covariates);
    out->items = ls_calloc(q, sizeof *out->items);
    out->line = ls_malloc(n * sizeof *out->line);
    out->source = ls_strdup(file);
    if ((dense && !out->Y) || !out->X || !out->items || !out->covariates || !out->line || !out->source)
        return ls_nomem(err);
    for (size_t s = 0; s < ncov; s++)
        if (!(out->covariates[s] = ls_strdup(cov[s]))) return ls_nomem(err);
    return LS_OK;
}

/* The last checks of either layout: every item observed, no constant
 * covariate. */
static int items_check(const ls_items *out, const char *file, ls_error *err)
{
    const size_t n = out->n, q = out->q, ncov = out->p;
    for (size_t j = 0; j < q; j++) {
        size_t cnt = out->R.cp ? out->R.cp[j + 1] - out->R.cp[j] : 0;
        for (size_t i = 0; i < n && !cnt && out->Y; i++) cnt += !isnan(out->Y[i * q + j]);
        if (cnt == 0) return ls_fail(err, LS_ERR_INPUT, "%s: item '%.60s': no observed responses", file, out->items[j]);
    }
    for (size_t s = 0; s < ncov; s++) {
        double lo = INFINITY, hi = -INFINITY;
        for (size_t i = 0; i < n; i++) {
            lo = fmin(lo, out->X[i * ncov + s]);
            hi = fmax(hi, out->X[i * ncov + s]);
        }
        if (!(hi > lo)) return ls_fail(err, LS_ERR_INPUT, "%s: covariate '%s' is constant", file, out->covariates[s]);
    }
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
    if ((rc = items_alloc(out, n, q, ncov, cov, file, 1, err))) goto done;
    for (size_t j = 0; j < q; j++)
        if (!(out->items[j] = ls_strdup(ls_table_colname(t, out->col[j])))) {
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
    rc = items_check(out, file, err);
done:
    ls_strv_free(pat, npat);
    ls_strv_free(cov, ncov);
    ls_free(covcol);
    ls_free(used);
    if (rc) ls_items_free(out);
    return rc;
}

/* ---------------------------------------------------------------- */
/* Long format: one row per response                                 */
/* ---------------------------------------------------------------- */

/* Names -> first-appearance indices: open addressing on FNV-1a, the keys
 * borrowed from the table (they live as long as it does). */
typedef struct name_index {
    size_t cap, n;          /* slots (a power of 2), names             */
    size_t *slot;           /* cap: index + 1, or 0 (empty)            */
    const char **name;      /* n, in first-appearance order            */
    size_t name_cap;
} name_index;

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static void name_index_free(name_index *m)
{
    ls_free(m->slot);
    ls_free(m->name);
    memset(m, 0, sizeof *m);
}

/* The index of s, added when new (*added 1).  LS_OK or LS_ERR_NOMEM. */
static int name_index_get(name_index *m, const char *s, size_t *idx, int *added)
{
    if (2 * (m->n + 1) > m->cap) { /* keep the load at most 1/2 */
        size_t cap = m->cap ? 2 * m->cap : 64;
        size_t *slot = ls_calloc(cap, sizeof *slot);
        if (!slot) return LS_ERR_NOMEM;
        for (size_t k = 0; k < m->n; k++) {
            size_t h = (size_t)fnv1a(m->name[k]) & (cap - 1);
            while (slot[h]) h = (h + 1) & (cap - 1);
            slot[h] = k + 1;
        }
        ls_free(m->slot);
        m->slot = slot;
        m->cap = cap;
    }
    size_t h = (size_t)fnv1a(s) & (m->cap - 1);
    while (m->slot[h]) {
        size_t k = m->slot[h] - 1;
        if (strcmp(m->name[k], s) == 0) {
            *idx = k;
            *added = 0;
            return LS_OK;
        }
        h = (h + 1) & (m->cap - 1);
    }
    if (m->n == m->name_cap) {
        size_t nc = m->name_cap ? 2 * m->name_cap : 64;
        const char **nm = ls_realloc((void *)m->name, nc * sizeof *nm);
        if (!nm) return LS_ERR_NOMEM;
        m->name = nm;
        m->name_cap = nc;
    }
    m->name[m->n] = s;
    m->slot[h] = m->n + 1;
    *idx = m->n++;
    *added = 1;
    return LS_OK;
}

int ls_items_read_long(const ls_table *t, const char *columns, const char *covariates, ls_items_check check,
                       void *ctx, ls_items *out, ls_error *err)
{
    memset(out, 0, sizeof *out);
    const size_t nr = ls_table_nrow(t);
    const char *file = ls_table_name(t);
    char **lc = NULL, **cov = NULL;
    size_t nl = 0, ncov = 0;
    long col[3] = {-1, -1, -1}, *covcol = NULL;
    name_index persons, items;
    memset(&persons, 0, sizeof persons);
    memset(&items, 0, sizeof items);
    size_t *pidx = NULL, *iidx = NULL, *trow = NULL, nt = 0;
    uint32_t *tp = NULL, *ti = NULL;
    double *tv = NULL;
    unsigned char *xset = NULL;
    int rc = LS_OK;
    if (!columns || !*columns)
        return ls_fail(err, LS_ERR_OPTION, "long: expected the person, item and response columns");
    if ((rc = ls_split(columns, &lc, &nl, err))) return rc;
    if (nl != 3) {
        rc = ls_fail(err, LS_ERR_OPTION, "long: expected 3 columns (person,item,response), got %zu", nl);
        goto done;
    }
    if (nr == 0) {
        rc = ls_fail(err, LS_ERR_INPUT, "%s: no data rows", file);
        goto done;
    }
    static const char *role[3] = {"person", "item", "response"};
    for (int k = 0; k < 3; k++) {
        col[k] = ls_table_find(t, lc[k]);
        if (col[k] < 0) {
            rc = ls_fail(err, LS_ERR_OPTION, "long: no %s column '%s' in %s", role[k], lc[k], file);
            goto done;
        }
        for (int k2 = 0; k2 < k; k2++)
            if (col[k2] == col[k]) {
                rc = ls_fail(err, LS_ERR_OPTION, "long: '%s' named as %s and %s", lc[k], role[k2], role[k]);
                goto done;
            }
    }
    if (covariates && *covariates && (rc = ls_split(covariates, &cov, &ncov, err))) goto done;
    covcol = ls_calloc(ncov + 1, sizeof *covcol);
    pidx = ls_malloc(nr * sizeof *pidx);
    iidx = ls_malloc(nr * sizeof *iidx);
    if (!covcol || !pidx || !iidx) {
        rc = ls_nomem(err);
        goto done;
    }
    for (size_t s = 0; s < ncov; s++) {
        covcol[s] = ls_table_find(t, cov[s]);
        if (covcol[s] < 0) {
            rc = ls_fail(err, LS_ERR_OPTION, "covariates: no column '%s' in %s", cov[s], file);
            goto done;
        }
        for (int k = 0; k < 3; k++)
            if (covcol[s] == col[k]) {
                rc = ls_fail(err, LS_ERR_OPTION, "covariates: '%s' is the %s column", cov[s], role[k]);
                goto done;
            }
        for (size_t s2 = 0; s2 < s; s2++)
            if (covcol[s2] == covcol[s]) {
                rc = ls_fail(err, LS_ERR_OPTION, "covariates: '%s' named twice", cov[s]);
                goto done;
            }
    }
    /* pass 1: persons and items in order of first appearance */
    for (size_t r = 0; r < nr; r++) {
        const char *pn = ls_table_cell(t, r, (size_t)col[0]), *in = ls_table_cell(t, r, (size_t)col[1]);
        if (!*pn || !*in) {
            rc = ls_fail(err, LS_ERR_INPUT, "%s:%zu:%ld: column '%s': empty %s name", file, ls_table_line(t, r),
                         (*pn ? col[1] : col[0]) + 1, *pn ? lc[1] : lc[0], *pn ? "item" : "person");
            goto done;
        }
        int added;
        if (name_index_get(&persons, pn, &pidx[r], &added) || name_index_get(&items, in, &iidx[r], &added)) {
            rc = ls_nomem(err);
            goto done;
        }
    }
    const size_t n = persons.n, q = items.n;
    if (q < 2) {
        rc = ls_fail(err, LS_ERR_INPUT, "%s: column '%s': at least 2 items are needed, found %zu", file, lc[1], q);
        goto done;
    }
    if (n > LS_RESP_MAX_INDEX || q > LS_RESP_MAX_INDEX) {
        rc = ls_fail(err, LS_ERR_INPUT, "%s: %zu persons and %zu items: at most %zu of each", file, n, q,
                     (size_t)LS_RESP_MAX_INDEX);
        goto done;
    }
    if ((rc = items_alloc(out, n, q, ncov, cov, file, 0, err))) goto done;
    if (!(xset = ls_calloc(n ? n : 1, 1))) {
        rc = ls_nomem(err);
        goto done;
    }
    tp = ls_malloc(nr * sizeof *tp);
    ti = ls_malloc(nr * sizeof *ti);
    tv = ls_malloc(nr * sizeof *tv);
    trow = ls_malloc(nr * sizeof *trow);
    if (!tp || !ti || !tv || !trow) {
        rc = ls_nomem(err);
        goto done;
    }
    for (size_t j = 0; j < q; j++)
        if (!(out->items[j] = ls_strdup(items.name[j]))) {
            rc = ls_nomem(err);
            goto done;
        }
    /* pass 2: responses (a missing one is no response), covariates constant
     * within a person */
    for (size_t r = 0; r < nr; r++) {
        const size_t i = pidx[r], j = iidx[r], line = ls_table_line(t, r);
        if (!xset[i]) out->line[i] = line;
        for (size_t s = 0; s < ncov; s++) {
            double v;
            int miss;
            if ((rc = ls_table_number(t, r, (size_t)covcol[s], &v, &miss, err))) goto done;
            if (miss) {
                rc = ls_fail(err, LS_ERR_INPUT, "%s:%zu:%ld: column '%s': missing covariate value", file, line,
                             covcol[s] + 1, cov[s]);
                goto done;
            }
            if (!xset[i]) out->X[i * ncov + s] = v;
            else if (out->X[i * ncov + s] != v) {
                rc = ls_fail(err, LS_ERR_INPUT, "%s:%zu:%ld: column '%s': person '%.60s' has %.17g here and %.17g "
                             "on line %zu (a covariate is one value per person)", file, line, covcol[s] + 1, cov[s],
                             persons.name[i], v, out->X[i * ncov + s], out->line[i]);
                goto done;
            }
        }
        xset[i] = 1;
        double v;
        int miss;
        if ((rc = ls_table_number(t, r, (size_t)col[2], &v, &miss, err))) goto done;
        if (miss) continue;
        if (check && (rc = check(ctx, t, r, (size_t)col[2], &v, err))) goto done;
        tp[nt] = (uint32_t)i;
        ti[nt] = (uint32_t)j;
        tv[nt] = v;
        trow[nt++] = r;
    }
    size_t dup;
    if ((rc = ls_resp_from_triples(n, q, nt, tp, ti, tv, &dup, &out->R, err))) goto done;
    if (dup < nt) {
        const size_t r = trow[dup];
        rc = ls_fail(err, LS_ERR_INPUT, "%s:%zu: person '%.60s', item '%.60s': a second response", file,
                     ls_table_line(t, r), persons.name[pidx[r]], items.name[iidx[r]]);
        goto done;
    }
    rc = items_check(out, file, err);
done:
    ls_strv_free(lc, nl);
    ls_strv_free(cov, ncov);
    ls_free(covcol);
    ls_free(pidx);
    ls_free(iidx);
    ls_free(xset);
    ls_free(tp);
    ls_free(ti);
    ls_free(tv);
    ls_free(trow);
    name_index_free(&persons);
    name_index_free(&items);
    if (rc) ls_items_free(out);
    return rc;
}
