/*
 * harness.h -- a tiny test harness: CHECK records a failure with its line
 * and goes on; each test file ends by printing "N passed, N failed" and
 * returning non-zero when anything failed.  A test that needs the shared
 * real data and finds it absent says "skip", never "ok"; a run in which
 * nothing was checked because of that returns 77 (CTest's skip code).
 */
#ifndef LS_HARNESS_H
#define LS_HARNESS_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int h_pass, h_fail, h_skip;

#define CHECK(cond)                                                                      \
    do {                                                                                 \
        if (cond) h_pass++;                                                              \
        else {                                                                           \
            h_fail++;                                                                    \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);     \
        }                                                                                \
    } while (0)

#define CHECK_MSG(cond, ...)                                                             \
    do {                                                                                 \
        if (cond) h_pass++;                                                              \
        else {                                                                           \
            h_fail++;                                                                    \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);     \
            fprintf(stderr, __VA_ARGS__);                                                \
            fputc('\n', stderr);                                                         \
        }                                                                                \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                            \
    CHECK_MSG(fabs((double)(a) - (double)(b)) <= (tol), "%s = %.10g, %s = %.10g, tol %g", \
              #a, (double)(a), #b, (double)(b), (double)(tol))

/* Whether name matches an entry of a comma-separated list of exact test names. */
static inline int h_listed(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; p && *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && strncmp(p, name, n) == 0) return 1;
        p = e ? e + 1 : NULL;
    }
    return 0;
}

/* LS_TEST_ONLY (comma-separated test names): run only those; LS_TEST_SKIP:
 * run all but those.  CTest runs the real-data tests as entries of their
 * own this way (tests/CMakeLists.txt), so that they can report a skip. */
static inline int h_selected(const char *name)
{
    const char *only = getenv("LS_TEST_ONLY"), *skip = getenv("LS_TEST_SKIP");
    if (only && *only && !h_listed(only, name)) return 0;
    return !(skip && *skip && h_listed(skip, name));
}

/* LS_TEST_QUICK set (and not 0): the tests that check many configurations
 * check a representative few (scripts/valgrind.sh, where every case costs
 * thirty times as much and memory errors show on any of them). */
static inline int h_quick(void)
{
    const char *q = getenv("LS_TEST_QUICK");
    return q && *q && strcmp(q, "0") != 0;
}

/* Run a test function, naming it: ok, FAIL, or skip (it needed the shared
 * data and checked nothing). */
#define RUN(fn)                                                                          \
    do {                                                                                 \
        if (!h_selected(#fn)) break;                                                     \
        int before = h_fail, checks = h_pass + h_fail, skips = h_skip;                   \
        fn();                                                                            \
        const char *verdict = h_fail != before ? "FAIL"                                  \
                              : h_skip != skips && h_pass + h_fail == checks ? "skip" : "ok  "; \
        printf("%s %s\n", verdict, #fn);                                                 \
    } while (0)

static inline int h_finish(void)
{
    printf("%d passed, %d failed\n", h_pass, h_fail);
    if (h_fail) return 1;
    if (h_skip && h_pass == 0) {
        printf("nothing checked: the shared data folder is absent (skip)\n");
        return 77;
    }
    return 0;
}

/* Path of the shared real data, or NULL (with a message) when absent. */
#ifndef LS_SHARED_DATA
#define LS_SHARED_DATA ""
#endif
static inline const char *h_shared_data(const char *file, char *buf, size_t n)
{
    snprintf(buf, n, "%s/%s", LS_SHARED_DATA, file);
    FILE *f = fopen(buf, "rb");
    if (!f) {
        printf("skip: %s not found (the shared data folder is absent)\n", buf);
        h_skip++;
        return NULL;
    }
    fclose(f);
    return buf;
}

#ifdef LATENTSCALE_H
/* "name=floor,..." for the J benchmark columns (from column 4) of a
 * simulated table, as the floors option. */
static inline void h_floor_list(const ls_table *t, const double *floors, size_t J, char *buf, size_t n)
{
    buf[0] = '\0';
    for (size_t j = 0; j < J; j++) {
        char item[128];
        snprintf(item, sizeof item, "%s%s=%.6g", j ? "," : "", ls_table_colname(t, 4 + j), floors[j]);
        if (strlen(buf) + strlen(item) < n) strcat(buf, item);
    }
}
#endif

#endif
