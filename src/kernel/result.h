/*
 * result.h -- the library's result objects (private side of ls_result).
 *
 * Every task of every family returns its result as an ls_result: a kind, a
 * payload (the family's own struct, private to that family) and a list of
 * named entries that the public accessors read (numbers as rows x cols
 * doubles, strings as a list), each optionally labelled by other entries
 * (the names of its rows and columns).  Entries borrow their arrays from the
 * payload, which the result owns and frees with it, so a result is built
 * once and never changed afterwards: the pointers stay valid while it lives.
 * Integer arrays of the payload are copied into doubles owned by the entry.
 */
#ifndef LS_KERNEL_RESULT_H
#define LS_KERNEL_RESULT_H

#include "kernel/core.h"

/* A new result of `kind` (a static string, e.g. "posterior") owning payload,
 * released by free_payload (may be NULL).  On failure the payload is freed
 * too, so the caller hands it over in every case. */
int ls_result_new(const char *kind, void *payload, void (*free_payload)(void *), ls_result **out,
                  ls_error *err);
/* The payload, or NULL when r is NULL or not of `kind`. */
void *ls_result_payload(const ls_result *r, const char *kind);
/* How ls_result_write writes r (set by the family that made it; without
 * one, ls_result_write refuses). */
typedef int (*ls_result_writer)(const ls_result *r, const char *path, const char *format,
                                const char *argv_json, ls_error *err);
void ls_result_set_writer(ls_result *r, ls_result_writer write);

/* Entries.  name (copied) must be new to r.  rows/cols: the names of the
 * string entries that label the rows and the columns (NULL: none; copied;
 * they may be added later).  A NULL array adds nothing and returns LS_OK, so
 * optional arrays (standard errors that were not computed) are simply absent. */
int ls_result_add_numbers(ls_result *r, const char *name, const double *v, size_t nrow,
                          size_t ncol, const char *rows, const char *cols, ls_error *err);
int ls_result_add_number(ls_result *r, const char *name, double v, ls_error *err);
int ls_result_add_ints(ls_result *r, const char *name, const int *v, size_t nrow, size_t ncol,
                       const char *rows, const char *cols, ls_error *err);
int ls_result_add_sizes(ls_result *r, const char *name, const size_t *v, size_t nrow,
                        size_t ncol, const char *rows, const char *cols, ls_error *err);
/* n strings, borrowed from the payload (an entry of NULL strings is not added). */
int ls_result_add_strings(ls_result *r, const char *name, char *const *s, size_t n,
                          ls_error *err);
/* One string, copied. */
int ls_result_add_string(ls_result *r, const char *name, const char *s, ls_error *err);
/* A warning, copied (printf-style). */
int ls_result_warn(ls_result *r, ls_error *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Names of the first n integers "1".."n" or prefix + i ("skill1", ...), owned by r:
 * labels for rows or columns that have no names of their own. */
int ls_result_add_index_labels(ls_result *r, const char *name, const char *prefix, size_t n,
                               ls_error *err);

#endif
