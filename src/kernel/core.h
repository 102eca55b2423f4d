/*
 * core.h -- private kernels shared by every module: the allocation seam,
 * error reporting and a few string helpers.  Not installed.
 */
#ifndef LS_CORE_H
#define LS_CORE_H

#include "latentscale.h"
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The allocation seam (STYLE habit 6): every allocation in the library goes
 * through these, so a test build can make the Nth allocation fail.
 * ls_free(NULL) is a no-op.  ls_alloc_array checks n * size for overflow.
 */
void *ls_malloc(size_t size);
void *ls_calloc(size_t n, size_t size);
void *ls_realloc(void *p, size_t size);
void ls_free(void *p);
char *ls_strdup(const char *s);

/* Fault injection, only in builds with LS_FAULT_INJECTION: the countdown-th
 * allocation from now fails (0 disables).  Thread-local. */
void ls_fault_set(long countdown);
long ls_fault_count(void);

/* Fill err (may be NULL) with code and a printf-style one-line message.
 * Returns code, so callers can `return ls_fail(err, LS_ERR_X, ...)`. */
int ls_fail(ls_error *err, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
int ls_nomem(ls_error *err);

/* Split a comma-separated list into trimmed, newly allocated items.
 * *items is an array of n strings; free with ls_strv_free. */
int ls_split(const char *list, char ***items, size_t *n, ls_error *err);
void ls_strv_free(char **items, size_t n);

/*
 * A growable list of strings, for a result's warnings (no limit on their
 * number or length).  Zero-initialise it ({0}) before the first add; the
 * list owns its strings, ls_strlist_free releases them and leaves it empty.
 * Allocation goes through the seam.  When an add runs out of memory the
 * list is left as it was (that string missing), the add returns
 * LS_ERR_NOMEM, and the list remembers it (failed), so that a caller who
 * adds from many places may check once, before handing its result out.
 */
typedef struct ls_strlist {
    char **item; /* n strings, owned */
    size_t n, cap;
    int failed;  /* some add ran out of memory */
} ls_strlist;
int ls_strlist_add(ls_strlist *l, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
int ls_strlist_vadd(ls_strlist *l, const char *fmt, va_list ap)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 0)))
#endif
    ;
size_t ls_strlist_count(const ls_strlist *l);
/* The i-th string, or NULL when i >= count (borrowed from the list). */
const char *ls_strlist_get(const ls_strlist *l, size_t i);
void ls_strlist_free(ls_strlist *l);

/* splitmix64: the seeding hash every module uses (start perturbations,
 * fold assignment, the factor models' generator, per-family point shifts).
 * Returns the mix of x + 0x9E3779B97F4A7C15; a generator keeps a state s
 * and draws ls_splitmix64(s), s += 0x9E3779B97F4A7C15. */
static inline uint64_t ls_splitmix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

#endif
