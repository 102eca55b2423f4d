/*
 * harness.h -- a tiny test harness: CHECK records a failure with its line
 * and goes on; each test file ends by printing "N passed, N failed" and
 * returning non-zero when anything failed, 77 (CTest's skip) when asked.
 */
#ifndef LS_HARNESS_H
#define LS_HARNESS_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int h_pass, h_fail;

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

/* With LS_TEST_ONLY set, only the tests whose names contain it run (for
 * working on one test; CI leaves it unset). */
static inline int h_selected(const char *name)
{
    const char *only = getenv("LS_TEST_ONLY");
    return !only || !*only || strstr(name, only) != NULL;
}

/* Run a test function, naming it. */
#define RUN(fn)                                                                          \
    do {                                                                                 \
        if (!h_selected(#fn)) break;                                                     \
        int before = h_fail;                                                             \
        fn();                                                                            \
        printf("%s %s\n", h_fail == before ? "ok  " : "FAIL", #fn);                      \
    } while (0)

static inline int h_finish(void)
{
    printf("%d passed, %d failed\n", h_pass, h_fail);
    return h_fail ? 1 : 0;
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
