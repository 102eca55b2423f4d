/*
 * test_faults.c -- resource faults: every allocation that reading a
 * leaderboard, building its data, simulating, fitting and writing a fit
 * makes through the allocation seam (core.h) is made to fail in turn; the
 * same for the factor models (item table with R's row names, data, fit,
 * DIF tests, selection, JSON) and the partial credit model (scores,
 * pattern file, fit with standard errors, JSON).  Each
 * run must return LS_ERR_NOMEM with an "out of memory" message, hand back
 * no object and leave any previous output file byte for byte; the sanitizer
 * build (LeakSanitizer) and valgrind catch what it leaks.  The loop stops at
 * the first N where the run succeeds without reaching its Nth allocation,
 * so N - 1 is the number of allocation sites exercised.
 *
 * Needs a build with LS_FAULT_INJECTION (the default); exits 77 (skip)
 * without it.
 */
#include "harness.h"
#include "kernel/core.h"
#include "latentscale.h"

#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <unistd.h>

/* Switches for parts of this test (all on): the heteroscedastic-precision
 * fit (which once leaked its constant-precision first fit), the fit JSON
 * failed from its first allocation (which once leaked "covariate_scaling"),
 * and the JSON with standard errors (whose interval blocks once swallowed
 * allocation failures and wrote a file without them). */
#ifndef LS_FAULTS_HETERO
#define LS_FAULTS_HETERO 1
#endif
#ifndef LS_FAULTS_WRITE_FIRST
#define LS_FAULTS_WRITE_FIRST 1
#endif
#ifndef LS_FAULTS_WRITE_SE
#define LS_FAULTS_WRITE_SE 1
#endif

static char dir[] = "/tmp/ls-faults-XXXXXX";
static char csv_path[256], floors_path[256], out_path[256], items_path[256], scores_path[256],
    pattern_path[256];
static const char PREVIOUS[] = "previous output\n";

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

static int file_is(const char *path, const char *text)
{
    char buf[256];
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    return n == strlen(text) && memcmp(buf, text, n) == 0;
}

/* Files in dir other than the inputs and the output: temporary litter. */
static int litter(void)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strstr(e->d_name, ".tmp.")) n++;
    closedir(d);
    return n;
}

/* A run under test: returns a status and frees whatever it made. */
typedef int (*run_fn)(void *ctx, ls_error *e);

static long sites_total;

/* Make allocation 1, 2, ... fail until the run succeeds without reaching
 * the failing allocation.  Returns the number of allocations of a clean
 * run (the sites exercised). */
static long every_allocation_fails_from(long first, const char *what, run_fn run, void *ctx)
{
    for (long n = first; n < 1000000; n++) {
        ls_error e = {0, ""};
        ls_fault_set(n);
        int rc = run(ctx, &e);
        long made = ls_fault_count();
        ls_fault_set(0);
        if (made < n) { /* never reached the failure: a clean run */
            CHECK_MSG(rc == LS_OK, "%s: clean run returned %d: %s", what, rc, e.message);
            printf("  %s: %ld allocations, failed in turn from number %ld\n", what, n - 1, first);
            return n - first;
        }
        CHECK_MSG(rc == LS_ERR_NOMEM, "%s: allocation %ld failed, but the run returned %d (%s)",
                  what, n, rc, e.message);
        if (rc == LS_ERR_NOMEM)
            CHECK_MSG(strcmp(e.message, "out of memory") == 0, "%s: allocation %ld: '%s'", what,
                      n, e.message);
        if (rc != LS_ERR_NOMEM) return -1; /* one report per run is enough */
    }
    return -1;
}

static long every_allocation_fails(const char *what, run_fn run, void *ctx)
{
    return every_allocation_fails_from(1, what, run, ctx);
}

/* ---------------------------------------------------------------- */
/* The runs                                                          */
/* ---------------------------------------------------------------- */

static int run_read_and_build(void *ctx, ls_error *e)
{
    (void)ctx;
    ls_table *t = NULL;
    ls_data *d = NULL;
    int rc = ls_table_read(csv_path, &t, e);
    CHECK((rc == LS_OK) == (t != NULL));
    if (!rc) {
        ls_data_options o;
        ls_data_options_init(&o);
        o.floors_file = floors_path;
        o.floors = "math=0.05";
        rc = ls_data_build(t, &o, &d, e);
        CHECK((rc == LS_OK) == (d != NULL));
    }
    ls_data_free(d);
    ls_table_free(t);
    return rc;
}

static int run_simulate(void *ctx, ls_error *e)
{
    (void)ctx;
    ls_sim_options so;
    ls_sim_options_init(&so);
    so.families = 6;
    so.skills = 1;
    so.benchmarks = 3;
    so.seed = 4;
    ls_table *t = NULL;
    ls_params truth;
    double *floors = NULL;
    int rc = ls_simulate(&so, &t, &truth, &floors, e);
    CHECK((rc == LS_OK) == (t != NULL));
    if (!rc) {
        ls_params_free(&truth);
        free(floors);
    }
    ls_table_free(t);
    return rc;
}

typedef struct fit_ctx {
    const ls_data *d;
    ls_fit_options o;
} fit_ctx;

static int run_fit(void *ctx, ls_error *e)
{
    fit_ctx *c = ctx;
    ls_fit *f = NULL;
    int rc = ls_fit_run(c->d, &c->o, &f, e);
    CHECK((rc == LS_OK) == (f != NULL));
    ls_fit_free(f);
    return rc;
}

typedef struct write_ctx {
    const ls_fit *f;
    const ls_data *d;
} write_ctx;

static int run_write(void *ctx, ls_error *e)
{
    write_ctx *c = ctx;
    write_file(out_path, PREVIOUS);
    int rc = ls_fit_write_json(c->f, c->d, out_path, "[\"test\"]", e);
    if (rc) CHECK_MSG(file_is(out_path, PREVIOUS), "previous output changed by a failed write");
    CHECK_MSG(litter() == 0, "temporary file left behind (rc %d)", rc);
    return rc;
}

/* ---------------------------------------------------------------- */
/* Factor models and the partial credit model                        */
/* ---------------------------------------------------------------- */

static int run_factor_data(void *ctx, ls_error *e)
{
    (void)ctx;
    ls_table *t = NULL;
    ls_factor_data *d = NULL;
    int rc = ls_items_table_read(items_path, &t, e);
    CHECK((rc == LS_OK) == (t != NULL));
    if (!rc) rc = ls_factor_data_build(t, "Q*", "g,x", NAN, LS_FACTOR_BERNOULLI, &d, e);
    if (!rc) {
        size_t an[2];
        rc = ls_factor_data_anchors(d, "Q1, Q6", 2, an, e);
    }
    CHECK(rc != LS_OK || d != NULL);
    ls_factor_data_free(d);
    ls_table_free(t);
    if (rc) return rc;
    const double Y[8] = {1, 0, NAN, 1, 0, 1, 1, 0}, X[4] = {0.5, -1, 2, 0};
    rc = ls_factor_data_new(4, 2, 1, Y, X, NULL, (const char *const[]){"x"}, &d, e);
    CHECK((rc == LS_OK) == (d != NULL));
    ls_factor_data_free(d);
    return rc;
}

typedef struct factor_ctx {
    const ls_factor_data *d;
    ls_factor_options o;
} factor_ctx;

/* A fit with the anchors' bootstrap, its DIF tests and its JSON: the
 * previous file survives every failure. */
static int run_factor_fit(void *ctx, ls_error *e)
{
    factor_ctx *c = ctx;
    ls_result *f = NULL, *dif = NULL;
    write_file(out_path, PREVIOUS);
    int rc = ls_factor_run(c->d, &c->o, &f, e);
    CHECK((rc == LS_OK) == (f != NULL));
    if (!rc) rc = ls_factor_dif_run(f, 0.05, LS_FACTOR_BH, &dif, e);
    if (!rc) rc = ls_factor_write_json(f, dif, NULL, out_path, "[\"test\"]", e);
    if (rc) CHECK_MSG(file_is(out_path, PREVIOUS), "previous output changed by a failed write");
    CHECK_MSG(litter() == 0, "temporary file left behind (rc %d)", rc);
    ls_result_free(dif);
    ls_result_free(f);
    return rc;
}

static int run_factor_select(void *ctx, ls_error *e)
{
    factor_ctx *c = ctx;
    ls_result *s = NULL;
    int rc = ls_factor_select(c->d, &c->o, 1, 2, &s, e);
    CHECK((rc == LS_OK) == (s != NULL));
    ls_result_free(s);
    return rc;
}

/* Scores with R's row names, a pattern file, a fit with standard errors
 * and its JSON; scores from an int matrix. */
static int run_gpcm(void *ctx, ls_error *e)
{
    (void)ctx;
    ls_table *t = NULL;
    ls_gpcm_data *d = NULL;
    ls_result *f = NULL;
    int *pat = NULL;
    size_t K = 0;
    write_file(out_path, PREVIOUS);
    int rc = ls_items_table_read(scores_path, &t, e);
    if (!rc) rc = ls_gpcm_data_build(t, NULL, NAN, 0, &d, e);
    CHECK(rc != LS_OK || d != NULL);
    if (!rc) rc = ls_gpcm_pattern_read(pattern_path, d, &K, &pat, e);
    if (!rc) {
        ls_gpcm_options o;
        ls_gpcm_options_init(&o);
        o.factors = K;
        o.starts = 2;
        o.max_iter = 20;
        o.threads = 1;
        rc = ls_gpcm_run(d, pat, &o, &f, e);
        CHECK((rc == LS_OK) == (f != NULL));
    }
    if (!rc) rc = ls_result_write(f, out_path, NULL, "[\"test\"]", e);
    if (rc) CHECK_MSG(file_is(out_path, PREVIOUS), "previous output changed by a failed write");
    CHECK_MSG(litter() == 0, "temporary file left behind (rc %d)", rc);
    ls_result_free(f);
    ls_gpcm_pattern_free(pat);
    ls_gpcm_data_free(d);
    ls_table_free(t);
    if (rc) return rc;
    const int Y[6] = {0, 2, 1, -1, 2, 0};
    rc = ls_gpcm_data_new(3, 2, Y, NULL, 0, &d, e);
    CHECK((rc == LS_OK) == (d != NULL));
    ls_gpcm_data_free(d);
    return rc;
}

static void factor_models_fail_cleanly_at_every_allocation(void)
{
    long n = every_allocation_fails("factor: item table (R's row names), data, anchors", run_factor_data, NULL);
    CHECK(n > 20);
    if (n > 0) sites_total += n;
    ls_table *t = NULL;
    ls_factor_data *d = NULL;
    ls_error e = {0, ""};
    CHECK(ls_items_table_read(items_path, &t, &e) == LS_OK);
    if (t) CHECK_MSG(ls_factor_data_build(t, "Q*", "g,x", NAN, LS_FACTOR_BERNOULLI, &d, &e) == LS_OK, "%s",
                     e.message);
    ls_table_free(t);
    if (!d) return;
    static const size_t an[2] = {0, 5};
    factor_ctx c = {d, {0}};
    ls_factor_options_init(&c.o);
    c.o.factors = 2;
    c.o.identify = LS_FACTOR_ANCHOR;
    c.o.anchors = an;
    c.o.starts = 2;
    c.o.max_iter = 5;
    c.o.loading_bootstrap = 2;
    c.o.threads = 1;
    n = every_allocation_fails("factor: fit (anchor, bootstrap), DIF, JSON", run_factor_fit, &c);
    CHECK(n > 50);
    if (n > 0) sites_total += n;
    n = every_allocation_fails("factor: selection of r", run_factor_select, &c);
    CHECK(n > 20);
    if (n > 0) sites_total += n;
    ls_factor_data_free(d);
}

static void partial_credit_fails_cleanly_at_every_allocation(void)
{
    long n = every_allocation_fails("gpcm: scores, pattern, fit with standard errors, JSON", run_gpcm, NULL);
    CHECK(n > 50);
    if (n > 0) sites_total += n;
}

/* ---------------------------------------------------------------- */
/* Tests                                                             */
/* ---------------------------------------------------------------- */


static void reading_and_building_fail_cleanly_at_every_allocation(void)
{
    long n = every_allocation_fails("read + build (floors file and overrides)",
                                    run_read_and_build, NULL);
    CHECK(n > 20);
    if (n > 0) sites_total += n;
}

static void simulation_fails_cleanly_at_every_allocation(void)
{
    long n = every_allocation_fails("simulate", run_simulate, NULL);
    CHECK(n > 5);
    if (n > 0) sites_total += n;
}

static void fits_fail_cleanly_at_every_allocation(void)
{
    ls_table *t = NULL;
    ls_data *d = NULL;
    ls_error e = {0, ""};
    CHECK(ls_table_read(csv_path, &t, &e) == LS_OK);
    ls_data_options dopt;
    ls_data_options_init(&dopt);
    dopt.floors_file = floors_path;
    if (t) CHECK_MSG(ls_data_build(t, &dopt, &d, &e) == LS_OK, "%s", e.message);
    if (!d) {
        ls_table_free(t);
        return;
    }
    /* a small fit through every stage: two starts (search, distinct-start
     * polish), standard errors; one with K = 2 on QMC nodes; one with
     * heteroscedastic precision (a second optimisation from the first) */
    fit_ctx c = {d, {0}};
    ls_fit_options_init(&c.o);
    c.o.skills = 1;
    c.o.starts = 2;
    c.o.max_iter = 30;
    c.o.threads = 1; /* the fault countdown is per thread */
    long n = every_allocation_fails("fit, K = 1, 2 starts, standard errors", run_fit, &c);
    CHECK(n > 50);
    if (n > 0) sites_total += n;
    c.o.skills = 2;
    c.o.starts = 1;
    c.o.integration = LS_INT_QMC;
    c.o.nodes = 16;
    c.o.skip_se = 1;
    n = every_allocation_fails("fit, K = 2, QMC, no standard errors", run_fit, &c);
    CHECK(n > 50);
    if (n > 0) sites_total += n;
#if LS_FAULTS_HETERO
    c.o.skills = 1;
    c.o.integration = LS_INT_AUTO;
    c.o.nodes = 0;
    c.o.precision_covariates = 1;
    n = every_allocation_fails("fit, K = 1, heteroscedastic precision", run_fit, &c);
    CHECK(n > 50);
    if (n > 0) sites_total += n;
#endif

    /* writing the fit: the previous file survives every failure; first a
     * fit without standard errors, then (once json.c reports the failures
     * there) one with them */
    for (int with_se = 0; with_se <= LS_FAULTS_WRITE_SE; with_se++) {
        ls_fit *f = NULL;
        c.o = (ls_fit_options){0};
        ls_fit_options_init(&c.o);
        c.o.skills = 1;
        c.o.starts = 1;
        c.o.max_iter = 30;
        c.o.threads = 1;
        c.o.skip_se = !with_se;
        CHECK(ls_fit_run(d, &c.o, &f, &e) == LS_OK);
        if (f) {
            write_ctx w = {f, d};
            n = every_allocation_fails_from(LS_FAULTS_WRITE_FIRST,
                                            with_se ? "write fit JSON with standard errors"
                                                    : "write fit JSON",
                                            run_write, &w);
            CHECK(n > 0);
            if (n > 0) sites_total += n;
        }
        ls_fit_free(f);
    }
    ls_data_free(d);
    ls_table_free(t);
}

/* A fit's warnings (ls_strlist): no limit on their number or length; an
 * add that runs out of memory leaves the list as it was, says so, and the
 * list remembers it; later adds work again. */
static void a_warning_list_survives_a_failed_add(void)
{
    ls_strlist l = {0};
    for (int i = 0; i < 20; i++) CHECK(ls_strlist_add(&l, "warning %d", i) == LS_OK);
    char wide[400];
    memset(wide, 'w', sizeof wide - 1);
    wide[sizeof wide - 1] = '\0';
    CHECK(ls_strlist_add(&l, "%s", wide) == LS_OK);
    CHECK(ls_strlist_count(&l) == 21 && strcmp(ls_strlist_get(&l, 12), "warning 12") == 0);
    CHECK(strlen(ls_strlist_get(&l, 20)) == sizeof wide - 1 && ls_strlist_get(&l, 21) == NULL && !l.failed);
    while (l.n < l.cap) CHECK(ls_strlist_add(&l, "fill") == LS_OK);
    size_t n = ls_strlist_count(&l);
    for (long k = 1; k <= 2; k++) { /* the string's allocation, then the list's growth */
        ls_fault_set(k);
        CHECK(ls_strlist_add(&l, "lost %ld", k) == LS_ERR_NOMEM);
        ls_fault_set(0);
        CHECK(l.failed && ls_strlist_count(&l) == n && ls_strlist_get(&l, n) == NULL);
        l.failed = 0;
    }
    for (size_t i = 0; i < n; i++) CHECK(ls_strlist_get(&l, i) != NULL);
    CHECK(ls_strlist_add(&l, "after") == LS_OK && strcmp(ls_strlist_get(&l, n), "after") == 0);
    ls_strlist_free(&l);
    CHECK(ls_strlist_count(&l) == 0 && ls_strlist_get(&l, 0) == NULL);
}

int main(void)
{
    ls_fault_set(1);
    void *probe = ls_malloc(8);
    ls_fault_set(0);
    if (probe) {
        ls_free(probe);
        printf("skip: built without LS_FAULT_INJECTION\n");
        return 77;
    }
    if (!mkdtemp(dir)) return 1;
    snprintf(csv_path, sizeof csv_path, "%s/lb.csv", dir);
    snprintf(floors_path, sizeof floors_path, "%s/floors.csv", dir);
    snprintf(out_path, sizeof out_path, "%s/fit.json", dir);
    snprintf(items_path, sizeof items_path, "%s/items.csv", dir);
    snprintf(scores_path, sizeof scores_path, "%s/scores.csv", dir);
    snprintf(pattern_path, sizeof pattern_path, "%s/pattern.csv", dir);
    /* 9 families, 3 benchmarks, missing cells, a text column, quotes */
    write_file(csv_path,
               "model,family,size,tokens,math,ifeval,hellaswag,notes\n"
               "a-1b,a,1,2,0.20,0.31,0.40,base\n"
               "a-7b,a,7,2,0.35,0.42,0.55,\"tuned, v2\"\n"
               "a-13b,a,13,2.5,0.41,,0.61,x\n"
               "b-3b,b,3,1,0.22,0.25,0.47,y\n"
               "b-8b,b,8,1.5,,0.38,0.52,z\n"
               "c-0.5b,c,0.5,0.3,0.05,0.12,0.30,w\n"
               "d-70b,d,70,15,0.62,0.71,0.83,v\n"
               "e-2b,e,2,4,0.18,0.22,0.44,u\n"
               "f-30b,f,30,3,0.50,0.58,,t\n"
               "g-1.5b,g,1.5,12,0.21,0.33,0.46,s\n"
               "h-9b,h,9,6,0.43,0.47,0.63,r\n"
               "i-4b,i,4,0.8,0.26,0.30,0.49,q\n");
    write_file(floors_path, "benchmark,floor\nmath,0\nhellaswag,0.25\narc,0.25\n");
    /* 16 persons, 6 binary items, 2 covariates, R's row names */
    write_file(items_path,
               "\"\",g,x,Q1,Q2,Q3,Q4,Q5,Q6\n\"1\",0,0.09,1,0,0,1,1,0\n\"2\",1,1.25,1,1,0,1,0,1\n"
               "\"3\",0,-0.37,0,0,0,0,0,1\n\"4\",1,-0.44,0,1,NA,1,0,1\n\"5\",0,-0.4,0,0,1,0,1,0\n"
               "\"6\",1,-2.02,0,1,1,1,0,1\n\"7\",0,-0.59,0,1,1,0,0,0\n\"8\",1,-0.6,0,0,0,0,0,1\n"
               "\"9\",0,1.66,0,0,0,1,0,0\n\"10\",1,-1.99,1,1,0,0,1,0\n\"11\",0,-0.48,1,0,0,1,0,1\n"
               "\"12\",1,0.3,0,1,0,0,1,0\n\"13\",0,-0.15,0,1,1,1,0,1\n\"14\",1,0.37,1,0,1,0,0,1\n"
               "\"15\",0,-1.17,0,0,0,0,0,0\n\"16\",1,0.3,1,0,1,1,0,1\n");
    /* 20 persons, 4 items scored 1..4, one missing */
    write_file(scores_path,
               ",A1,A2,B1,B2\n1,3,1,4,3\n2,1,4,2,1\n3,3,4,3,3\n4,3,4,1,1\n5,1,3,3,4\n6,3,,2,3\n7,2,3,3,3\n"
               "8,3,4,1,1\n9,2,3,2,3\n10,2,3,2,4\n11,1,1,3,3\n12,2,4,2,1\n13,3,2,4,3\n14,2,1,1,2\n"
               "15,3,2,3,3\n16,1,3,2,4\n17,3,3,4,3\n18,4,3,4,4\n19,1,4,2,2\n20,1,4,4,2\n");
    write_file(pattern_path, "item,F1,F2\nB1,0,1\nA1,1,0\nA2,1,0\nB2,0,1\n");

    RUN(reading_and_building_fail_cleanly_at_every_allocation);
    RUN(simulation_fails_cleanly_at_every_allocation);
    RUN(fits_fail_cleanly_at_every_allocation);
    RUN(a_warning_list_survives_a_failed_add);
    RUN(factor_models_fail_cleanly_at_every_allocation);
    RUN(partial_credit_fails_cleanly_at_every_allocation);
    printf("allocation sites exercised in all: %ld\n", sites_total);

    unlink(csv_path);
    unlink(floors_path);
    unlink(out_path);
    unlink(items_path);
    unlink(scores_path);
    unlink(pattern_path);
    rmdir(dir);
    return h_finish();
}
