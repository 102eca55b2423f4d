/*
 * result.c -- ls_result: a kind, a payload and named entries (result.h).
 * Entries are looked up by a linear scan of their names: results hold tens
 * of entries and bindings read each once.
 */
#include "kernel/result.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef struct entry {
    char *name;
    int type;                 /* enum ls_entry_type                       */
    size_t rows, cols;        /* strings: rows = count, cols = 1          */
    const double *num;        /* borrowed, or own                         */
    double *own;              /* owned numbers (copies of integer arrays)  */
    double scalar;            /* a 1 x 1 entry's storage                  */
    int is_scalar;
    char *const *str;         /* borrowed, or own_str                     */
    char **own_str;           /* owned strings (own_n of them)            */
    size_t own_n;
    char *row_labels, *col_labels;
} entry;

struct ls_result {
    const char *kind;
    void *payload;
    void (*free_payload)(void *);
    ls_result_writer write;
    entry *e;
    size_t n, cap;
    char **warn;
    size_t nwarn;
};

int ls_result_new(const char *kind, void *payload, void (*free_payload)(void *), ls_result **out,
                  ls_error *err)
{
    *out = NULL;
    ls_result *r = ls_calloc(1, sizeof *r);
    if (!r) {
        if (free_payload) free_payload(payload);
        return ls_nomem(err);
    }
    r->kind = kind;
    r->payload = payload;
    r->free_payload = free_payload;
    *out = r;
    return LS_OK;
}

void *ls_result_payload(const ls_result *r, const char *kind)
{
    return r && kind && strcmp(r->kind, kind) == 0 ? r->payload : NULL;
}

void ls_result_set_writer(ls_result *r, ls_result_writer write) { r->write = write; }

int ls_result_write(const ls_result *r, const char *path, const char *format,
                    const char *argv_json, ls_error *err)
{
    if (!r || !path) return ls_fail(err, LS_ERR_OPTION, "write: no result or no path");
    if (!r->write) return ls_fail(err, LS_ERR_OPTION, "write: a %s cannot be written", r->kind);
    return r->write(r, path, format, argv_json, err);
}

static const entry *find(const ls_result *r, const char *name)
{
    if (!r || !name) return NULL;
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->e[i].name, name) == 0) return &r->e[i];
    return NULL;
}

/* A new, zeroed entry called name, or NULL (err filled). */
static entry *add(ls_result *r, const char *name, const char *rows, const char *cols, ls_error *err)
{
    if (find(r, name)) {
        ls_fail(err, LS_ERR_NUMERIC, "result %s: entry '%s' added twice", r->kind, name);
        return NULL;
    }
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 16;
        entry *e = ls_realloc(r->e, cap * sizeof *e);
        if (!e) {
            ls_nomem(err);
            return NULL;
        }
        r->e = e;
        r->cap = cap;
    }
    entry *e = &r->e[r->n];
    memset(e, 0, sizeof *e);
    e->name = ls_strdup(name);
    e->row_labels = rows ? ls_strdup(rows) : NULL;
    e->col_labels = cols ? ls_strdup(cols) : NULL;
    if (!e->name || (rows && !e->row_labels) || (cols && !e->col_labels)) {
        ls_free(e->name);
        ls_free(e->row_labels);
        ls_free(e->col_labels);
        ls_nomem(err);
        return NULL;
    }
    r->n++;
    return e;
}

int ls_result_add_numbers(ls_result *r, const char *name, const double *v, size_t nrow,
                          size_t ncol, const char *rows, const char *cols, ls_error *err)
{
    if (!v) return LS_OK;
    entry *e = add(r, name, rows, cols, err);
    if (!e) return err ? err->code : LS_ERR_NOMEM;
    e->type = LS_ENTRY_NUMBERS;
    e->num = v;
    e->rows = nrow;
    e->cols = ncol;
    return LS_OK;
}

int ls_result_add_number(ls_result *r, const char *name, double v, ls_error *err)
{
    entry *e = add(r, name, NULL, NULL, err);
    if (!e) return err ? err->code : LS_ERR_NOMEM;
    e->type = LS_ENTRY_NUMBERS;
    e->scalar = v;
    e->is_scalar = 1;
    e->rows = e->cols = 1;
    return LS_OK;
}

/* An entry of owned numbers converted from an integer array. */
static int add_converted(ls_result *r, const char *name, const int *vi, const size_t *vs,
                         size_t nrow, size_t ncol, const char *rows, const char *cols, ls_error *err)
{
    if (!vi && !vs) return LS_OK;
    size_t n = nrow * ncol;
    double *own = ls_malloc((n ? n : 1) * sizeof(double));
    if (!own) return ls_nomem(err);
    for (size_t i = 0; i < n; i++) own[i] = vi ? (double)vi[i] : (double)vs[i];
    entry *e = add(r, name, rows, cols, err);
    if (!e) {
        ls_free(own);
        return err ? err->code : LS_ERR_NOMEM;
    }
    e->type = LS_ENTRY_NUMBERS;
    e->num = e->own = own;
    e->rows = nrow;
    e->cols = ncol;
    return LS_OK;
}

int ls_result_add_ints(ls_result *r, const char *name, const int *v, size_t nrow, size_t ncol,
                       const char *rows, const char *cols, ls_error *err)
{
    return add_converted(r, name, v, NULL, nrow, ncol, rows, cols, err);
}

int ls_result_add_sizes(ls_result *r, const char *name, const size_t *v, size_t nrow,
                        size_t ncol, const char *rows, const char *cols, ls_error *err)
{
    return add_converted(r, name, NULL, v, nrow, ncol, rows, cols, err);
}

int ls_result_add_strings(ls_result *r, const char *name, char *const *s, size_t n,
                          ls_error *err)
{
    if (!s) return LS_OK;
    entry *e = add(r, name, NULL, NULL, err);
    if (!e) return err ? err->code : LS_ERR_NOMEM;
    e->type = LS_ENTRY_STRINGS;
    e->str = s;
    e->rows = n;
    e->cols = 1;
    return LS_OK;
}

/* An entry of n owned strings (set later by the caller), or NULL. */
static entry *add_owned_strings(ls_result *r, const char *name, size_t n, ls_error *err)
{
    char **own = ls_calloc(n ? n : 1, sizeof(char *));
    if (!own) {
        ls_nomem(err);
        return NULL;
    }
    entry *e = add(r, name, NULL, NULL, err);
    if (!e) {
        ls_free(own);
        return NULL;
    }
    e->type = LS_ENTRY_STRINGS;
    e->str = e->own_str = own;
    e->own_n = n;
    e->rows = n;
    e->cols = 1;
    return e;
}

int ls_result_add_string(ls_result *r, const char *name, const char *s, ls_error *err)
{
    if (!s) return LS_OK;
    entry *e = add_owned_strings(r, name, 1, err);
    if (!e) return err ? err->code : LS_ERR_NOMEM;
    if (!(e->own_str[0] = ls_strdup(s))) return ls_nomem(err);
    return LS_OK;
}

int ls_result_add_index_labels(ls_result *r, const char *name, const char *prefix, size_t n,
                               ls_error *err)
{
    entry *e = add_owned_strings(r, name, n, err);
    if (!e) return err ? err->code : LS_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        char buf[64];
        snprintf(buf, sizeof buf, "%s%zu", prefix ? prefix : "", i + 1);
        if (!(e->own_str[i] = ls_strdup(buf))) return ls_nomem(err);
    }
    return LS_OK;
}

int ls_result_warn(ls_result *r, ls_error *err, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char **w = ls_realloc(r->warn, (r->nwarn + 1) * sizeof(char *));
    if (!w) return ls_nomem(err);
    r->warn = w;
    if (!(w[r->nwarn] = ls_strdup(buf))) return ls_nomem(err);
    r->nwarn++;
    return LS_OK;
}

/* ---------------------------------------------------------------- */
/* Public accessors (latentscale.h)                                  */
/* ---------------------------------------------------------------- */

const char *ls_result_kind(const ls_result *r) { return r ? r->kind : NULL; }
size_t ls_result_nentries(const ls_result *r) { return r ? r->n : 0; }
const char *ls_result_entry(const ls_result *r, size_t i)
{
    return r && i < r->n ? r->e[i].name : NULL;
}

int ls_result_type(const ls_result *r, const char *name)
{
    const entry *e = find(r, name);
    return e ? e->type : LS_ENTRY_NONE;
}

const double *ls_result_numbers(const ls_result *r, const char *name, size_t *rows, size_t *cols)
{
    const entry *e = find(r, name);
    if (!e || e->type != LS_ENTRY_NUMBERS) {
        if (rows) *rows = 0;
        if (cols) *cols = 0;
        return NULL;
    }
    if (rows) *rows = e->rows;
    if (cols) *cols = e->cols;
    return e->is_scalar ? &e->scalar : e->num;
}

double ls_result_number(const ls_result *r, const char *name)
{
    size_t nr, nc;
    const double *v = ls_result_numbers(r, name, &nr, &nc);
    return v && nr * nc > 0 ? v[0] : NAN;
}

size_t ls_result_nstrings(const ls_result *r, const char *name)
{
    const entry *e = find(r, name);
    return e && e->type == LS_ENTRY_STRINGS ? e->rows : 0;
}

const char *ls_result_string(const ls_result *r, const char *name, size_t i)
{
    const entry *e = find(r, name);
    return e && e->type == LS_ENTRY_STRINGS && i < e->rows ? e->str[i] : NULL;
}

const char *ls_result_row_labels(const ls_result *r, const char *name)
{
    const entry *e = find(r, name);
    return e ? e->row_labels : NULL;
}

const char *ls_result_col_labels(const ls_result *r, const char *name)
{
    const entry *e = find(r, name);
    return e ? e->col_labels : NULL;
}

size_t ls_result_nwarnings(const ls_result *r) { return r ? r->nwarn : 0; }
const char *ls_result_warning(const ls_result *r, size_t i)
{
    return r && i < r->nwarn ? r->warn[i] : NULL;
}

void ls_result_free(ls_result *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->n; i++) {
        entry *e = &r->e[i];
        ls_free(e->name);
        ls_free(e->row_labels);
        ls_free(e->col_labels);
        ls_free(e->own);
        if (e->own_str) ls_strv_free(e->own_str, e->own_n);
    }
    ls_free(r->e);
    if (r->warn) ls_strv_free(r->warn, r->nwarn);
    if (r->free_payload) r->free_payload(r->payload);
    ls_free(r);
}
