/*
 * core.c -- allocation seam, errors and string helpers.
 */
#include "kernel/core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- */
/* Allocation seam                                                   */
/* ---------------------------------------------------------------- */

#ifdef LS_FAULT_INJECTION
static _Thread_local long fault_countdown = 0;
static _Thread_local long alloc_count = 0;
void ls_fault_set(long countdown) { fault_countdown = countdown; alloc_count = 0; }
long ls_fault_count(void) { return alloc_count; }
static int fault_now(void)
{
    alloc_count++;
    if (fault_countdown > 0 && --fault_countdown == 0) return 1;
    return 0;
}
#else
void ls_fault_set(long countdown) { (void)countdown; }
long ls_fault_count(void) { return 0; }
static int fault_now(void) { return 0; }
#endif

void *ls_malloc(size_t size)
{
    if (fault_now()) return NULL;
    return malloc(size ? size : 1);
}

void *ls_calloc(size_t n, size_t size)
{
    if (fault_now()) return NULL;
    if (n == 0 || size == 0) return calloc(1, 1);
    return calloc(n, size);
}

void *ls_realloc(void *p, size_t size)
{
    if (fault_now()) return NULL;
    return realloc(p, size ? size : 1);
}

void ls_free(void *p) { free(p); }

char *ls_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *c = ls_malloc(n);
    if (c) memcpy(c, s, n);
    return c;
}

/* ---------------------------------------------------------------- */
/* Errors                                                            */
/* ---------------------------------------------------------------- */

const char *ls_version(void) { return LS_VERSION; }

const char *ls_status_name(int code)
{
    switch (code) {
    case LS_OK: return "ok";
    case LS_ERR_IO: return "io";
    case LS_ERR_PARSE: return "parse";
    case LS_ERR_INPUT: return "input";
    case LS_ERR_OPTION: return "option";
    case LS_ERR_NOMEM: return "memory";
    case LS_ERR_NUMERIC: return "numeric";
    case LS_ERR_NOCONV: return "convergence";
    case LS_ERR_CANCEL: return "cancelled";
    default: return "unknown";
    }
}

int ls_fail(ls_error *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
        /* one line: fold any newline a caller's text brought in */
        for (char *c = err->message; *c; c++)
            if (*c == '\n' || *c == '\r') *c = ' ';
        err->code = code;
    }
    return code;
}

int ls_nomem(ls_error *err) { return ls_fail(err, LS_ERR_NOMEM, "out of memory"); }

/* ---------------------------------------------------------------- */
/* Strings                                                           */
/* ---------------------------------------------------------------- */

void ls_strv_free(char **items, size_t n)
{
    if (!items) return;
    for (size_t i = 0; i < n; i++) ls_free(items[i]);
    ls_free(items);
}

int ls_split(const char *list, char ***items, size_t *n, ls_error *err)
{
    *items = NULL;
    *n = 0;
    size_t cap = 1;
    for (const char *c = list; *c; c++)
        if (*c == ',') cap++;
    char **v = ls_calloc(cap, sizeof *v);
    if (!v) return ls_nomem(err);
    size_t k = 0;
    const char *s = list;
    for (;;) {
        const char *e = strchr(s, ',');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        const char *a = s, *b = s + len;
        while (a < b && (*a == ' ' || *a == '\t')) a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t')) b--;
        v[k] = ls_malloc((size_t)(b - a) + 1);
        if (!v[k]) {
            ls_strv_free(v, k);
            return ls_nomem(err);
        }
        memcpy(v[k], a, (size_t)(b - a));
        v[k][b - a] = '\0';
        k++;
        if (!e) break;
        s = e + 1;
    }
    *items = v;
    *n = k;
    return LS_OK;
}

/* ---------------------------------------------------------------- */
/* String lists                                                      */
/* ---------------------------------------------------------------- */

int ls_strlist_vadd(ls_strlist *l, const char *fmt, va_list ap)
{
    va_list aq;
    va_copy(aq, ap);
    int len = vsnprintf(NULL, 0, fmt, aq);
    va_end(aq);
    char *s = len < 0 ? NULL : ls_malloc((size_t)len + 1);
    if (s) vsnprintf(s, (size_t)len + 1, fmt, ap);
    if (s && l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 8;
        char **v = ls_realloc(l->item, cap * sizeof *v);
        if (v) {
            l->item = v;
            l->cap = cap;
        } else {
            ls_free(s);
            s = NULL;
        }
    }
    if (!s) {
        l->failed = 1;
        return LS_ERR_NOMEM;
    }
    l->item[l->n++] = s;
    return LS_OK;
}

int ls_strlist_add(ls_strlist *l, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = ls_strlist_vadd(l, fmt, ap);
    va_end(ap);
    return rc;
}

size_t ls_strlist_count(const ls_strlist *l) { return l->n; }

const char *ls_strlist_get(const ls_strlist *l, size_t i) { return i < l->n ? l->item[i] : NULL; }

void ls_strlist_free(ls_strlist *l)
{
    for (size_t i = 0; i < l->n; i++) ls_free(l->item[i]);
    ls_free(l->item);
    memset(l, 0, sizeof *l);
}
