/*
 * fuzz_common.h -- pieces shared by the harnesses: the property check
 * (REQUIRE), sections of an input separated by lines "%%", and for the
 * item-response harnesses (fuzz_factor_data, fuzz_gpcm_data,
 * fuzz_gpcm_pattern) "k=v;k=v" options, one-line messages and a temporary
 * file per process.
 */
#ifndef LS_FUZZ_COMMON_H
#define LS_FUZZ_COMMON_H

#include "latentscale.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REQUIRE(c)                                                                         \
    do {                                                                                   \
        if (!(c)) {                                                                        \
            fprintf(stderr, "property failed: %s (%s:%d)\n", #c, __FILE__, __LINE__);      \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

/* Next section of [*p, end): up to a line "%%" (consumed) or the end. */
static inline const char *fz_section(const char **p, const char *end, size_t *len)
{
    const char *s = *p;
    for (const char *c = s; c + 3 <= end; c++)
        if ((c == s || c[-1] == '\n') && c[0] == '%' && c[1] == '%' && c[2] == '\n') {
            *len = (size_t)(c - s);
            *p = c + 3;
            return s;
        }
    *len = (size_t)(end - s);
    *p = end;
    return s;
}

/* The value of option key in "k=v;k=v" (buf is changed: ';' become NULs;
 * call fz_options once, then fz_option per key). */
static inline void fz_options(char *buf)
{
    for (char *c = buf; *c; c++)
        if (*c == ';' || *c == '\n') *c = '\0';
}
static inline const char *fz_option(const char *buf, size_t len, char key)
{
    for (size_t i = 0; i < len; i += strlen(buf + i) + 1)
        if (buf[i] == key && buf[i + 1] == '=') return buf + i + 2;
    return NULL;
}

/* A failure: a known status and a one-line message. */
static inline void fz_failed(int rc, const ls_error *e)
{
    REQUIRE(rc == LS_ERR_INPUT || rc == LS_ERR_OPTION || rc == LS_ERR_PARSE || rc == LS_ERR_IO ||
            rc == LS_ERR_NOMEM || rc == LS_ERR_NUMERIC || rc == LS_ERR_NOCONV);
    size_t n = strnlen(e->message, LS_ERROR_LEN);
    REQUIRE(n > 0 && n < LS_ERROR_LEN && !strchr(e->message, '\n'));
}

/* Write [s, s + len) to this process's temporary file `tag`; its path, or NULL. */
static inline const char *fz_file(const char *tag, const char *s, size_t len, char *path, size_t n)
{
    const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(path, n, "%s/ls-fuzz-%s-%d.csv", dir, tag, (int)getpid());
    FILE *f = fopen(path, "wb");
    if (!f) return NULL;
    fwrite(s, 1, len, f);
    fclose(f);
    return path;
}

/* The options section as a NUL-separated copy (free it), or NULL. */
static inline char *fz_copy(const char *s, size_t len)
{
    char *b = malloc(len + 2);
    if (!b) return NULL;
    memcpy(b, s, len);
    b[len] = b[len + 1] = '\0';
    fz_options(b);
    return b;
}

/* An input "OPTIONS %% CSV" (a single section is a CSV without options):
 * the options as a NUL-separated copy (free it; NULL without options). */
typedef struct fz_input {
    char *opts;
    size_t lo;
    const char *csv;
    size_t lc;
} fz_input;
static inline fz_input fz_split(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    size_t l1, l2 = 0;
    const char *s1 = fz_section(&p, end, &l1);
    const char *s2 = p < end ? fz_section(&p, end, &l2) : NULL;
    fz_input in = {s2 ? fz_copy(s1, l1) : NULL, s2 ? l1 : 0, s2 ? s2 : s1, s2 ? l2 : l1};
    return in;
}

/* The CSV as a file read by ls_items_table_read (R's row names): the table,
 * or NULL after checking the failure's status and message. */
static inline ls_table *fz_items_table(const char *tag, const char *csv, size_t len)
{
    char path[96];
    ls_table *t = NULL;
    ls_error e = {0, ""};
    int rc = fz_file(tag, csv, len, path, sizeof path) ? ls_items_table_read(path, &t, &e) : LS_ERR_IO;
    REQUIRE((rc == LS_OK) == (t != NULL));
    if (rc) fz_failed(rc, &e);
    unlink(path);
    return t;
}

#endif
