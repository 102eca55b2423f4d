/*
 * test_data.c -- building the scaling-law data from a leaderboard table:
 * column selection, covariate terms, floors, clipping, duplicates, and
 * every input error with its file, line and column.
 */
#include "harness.h"
#include "scaling/data.h"
#include "latentscale.h"

#include <stdlib.h>

static const char *GOOD =
    "model,family,size,tokens,flops,arc,mmlu,note\n"
    "a-1b,a,1,2,12,0.4,0.3,x\n"
    "a-7b,a,7,2,84,0.6,0.5,y\n"
    "b-3b,b,3,1,18,0.5,,z\n"
    "c-13b,c,13,4,312,0.0,1.0,w\n"
    "a-1b,a,1,2,12,0.41,0.31,again\n";

static int build(const char *csv, ls_data_options *o, ls_data **d, ls_error *e)
{
    ls_table *t = NULL;
    int rc = ls_table_parse(csv, strlen(csv), "lb.csv", &t, e);
    if (rc) return rc;
    rc = ls_data_build(t, o, d, e);
    ls_table_free(t);
    return rc;
}

static int build_err(const char *csv, ls_data_options *o, ls_error *e)
{
    ls_data *d = NULL;
    int rc = build(csv, o, &d, e);
    CHECK((rc == LS_OK) == (d != NULL));
    ls_data_free(d);
    return rc;
}

static void default_columns_skip_names_covariates_flops_and_text(void)
{
    ls_data_options o;
    ls_data_options_init(&o);
    ls_data *d = NULL;
    ls_error e;
    CHECK(build(GOOD, &o, &d, &e) == LS_OK);
    if (!d) return;
    CHECK(ls_data_nbenchmarks(d) == 2);
    CHECK(strcmp(ls_data_benchmark(d, 0), "arc") == 0 && strcmp(ls_data_benchmark(d, 1), "mmlu") == 0);
    CHECK(ls_data_ncovariates(d) == 3);
    CHECK(strcmp(ls_data_covariate(d, 2), "log(size)*log(tokens)") == 0);
    CHECK(ls_data_nmodels(d) == 5 && ls_data_nfamilies(d) == 3);
    CHECK(ls_data_nobserved(d) == 9);
    CHECK(ls_data_nclipped(d) == 2);
    CHECK(ls_data_nduplicates(d) == 1);
    /* standardised covariates: mean 0, sd 1 (divisor n) */
    for (size_t k = 0; k < 3; k++) {
        double m = 0, s = 0;
        for (size_t i = 0; i < d->n; i++) m += d->x[i * 3 + k] / 5;
        for (size_t i = 0; i < d->n; i++) s += d->x[i * 3 + k] * d->x[i * 3 + k] / 5;
        CHECK_NEAR(m, 0, 1e-12);
        CHECK_NEAR(s, 1, 1e-12);
    }
    CHECK_NEAR(d->x_raw[1 * 3 + 0], log(7), 1e-15);
    CHECK_NEAR(d->x_raw[3 * 3 + 2], log(13) * log(4), 1e-14);
    /* clipped scores and grouping by family: family a's cells come first */
    CHECK_NEAR(d->y[3 * 2 + 0], 0.001, 0);
    CHECK_NEAR(d->y[3 * 2 + 1], 0.999, 1e-15);
    CHECK(d->cell_start[1] == 6 && d->cell_start[3] == 9);
    ls_data_free(d);
}

static void benchmarks_floors_and_covariates_follow_the_options(void)
{
    ls_data_options o;
    ls_data_options_init(&o);
    o.benchmarks = "mmlu,arc";
    o.floors = "arc=0.25, mmlu=0.25";
    o.covariates = "log(flops),tokens";
    o.clip = 0.01;
    ls_data *d = NULL;
    ls_error e;
    CHECK(build(GOOD, &o, &d, &e) == LS_OK);
    if (!d) return;
    CHECK(strcmp(ls_data_benchmark(d, 0), "mmlu") == 0);
    CHECK(ls_data_floor(d, 0) == 0.25 && ls_data_floor(d, 1) == 0.25);
    CHECK(ls_data_ncovariates(d) == 2);
    CHECK_NEAR(d->x_raw[0], log(12), 1e-15);
    CHECK_NEAR(d->x_raw[1], 2, 0);
    CHECK_NEAR(d->y[3 * 2 + 1], 0.01, 0);
    ls_data_free(d);
}

static void errors_name_file_line_and_column(void)
{
    ls_data_options o;
    ls_data_options_init(&o);
    ls_error e;
    CHECK(build_err("model,family,size,tokens,arc\nm,f,1,1,1.5\n", &o, &e) == LS_ERR_INPUT);
    CHECK_MSG(strstr(e.message, "lb.csv:2:5: column 'arc': expected a score in [0, 1], found '1.5'"), "%s", e.message);
    CHECK(build_err("model,family,size,tokens,arc\nm,f,1,1,0.5\nn,f,0,1,0.5\n", &o, &e) == LS_ERR_INPUT);
    CHECK_MSG(strstr(e.message, "lb.csv:3:3: column 'size': log needs a positive value, found '0'"), "%s", e.message);
    o.benchmarks = "arc";
    CHECK(build_err("model,family,size,tokens,arc\nm,f,1,1,abc\n", &o, &e) == LS_ERR_INPUT);
    o.benchmarks = NULL;
    CHECK_MSG(strstr(e.message, "lb.csv:2:5") && strstr(e.message, "abc"), "%s", e.message);
    CHECK(build_err("model,size,tokens,arc\nm,1,1,0.5\n", &o, &e) == LS_ERR_INPUT);
    CHECK_MSG(strstr(e.message, "missing required column 'family'"), "%s", e.message);
    CHECK(build_err("model,family,size,tokens,arc\n", &o, &e) == LS_ERR_INPUT);
    CHECK_MSG(strstr(e.message, "no data rows"), "%s", e.message);
    CHECK(build_err("model,family,size,tokens,arc,mmlu\nm,f,1,1,0.5,0.4\nn,g,2,1,,\n", &o, &e) == LS_ERR_INPUT);
    CHECK_MSG(strstr(e.message, "lb.csv:3: family 'g' has no observed scores"), "%s", e.message);
    CHECK(build_err("model,family,size,tokens,arc,mmlu\nm,f,1,1,0.5,\nn,g,2,1,0.5,NA\n", &o, &e) == LS_ERR_INPUT);
    CHECK_MSG(strstr(e.message, "benchmark 'mmlu' has no observed scores"), "%s", e.message);
    CHECK(build_err("model,family,size,tokens,arc\nm,f,1,1,0.5\nn,g,1,1,0.5\n", &o, &e) == LS_ERR_INPUT);
    CHECK_MSG(strstr(e.message, "covariate 'log(size)' is constant"), "%s", e.message);
    CHECK(build_err("model,family,size,tokens,arc\nm,,1,1,0.5\n", &o, &e) == LS_ERR_INPUT);
    CHECK_MSG(strstr(e.message, "lb.csv:2:2: column 'family': empty family name"), "%s", e.message);
}

static void option_errors_name_the_option(void)
{
    ls_data_options o;
    ls_error e;
    ls_data_options_init(&o);
    o.benchmarks = "arc,nosuch";
    CHECK(build_err(GOOD, &o, &e) == LS_ERR_OPTION);
    CHECK_MSG(strstr(e.message, "benchmarks: unknown column 'nosuch'"), "%s", e.message);
    ls_data_options_init(&o);
    o.benchmarks = "arc,arc";
    CHECK(build_err(GOOD, &o, &e) == LS_ERR_OPTION);
    ls_data_options_init(&o);
    o.floors = "arc=1.0";
    CHECK(build_err(GOOD, &o, &e) == LS_ERR_OPTION);
    CHECK_MSG(strstr(e.message, "`floors` arc: expected a number in [0, 1)"), "%s", e.message);
    ls_data_options_init(&o);
    o.floors = "hellaswag=0.25";
    CHECK(build_err(GOOD, &o, &e) == LS_ERR_OPTION);
    CHECK_MSG(strstr(e.message, "unknown benchmark 'hellaswag'"), "%s", e.message);
    ls_data_options_init(&o);
    o.covariates = "log(params)";
    CHECK(build_err(GOOD, &o, &e) == LS_ERR_OPTION);
    CHECK_MSG(strstr(e.message, "covariates: unknown column 'params'"), "%s", e.message);
    ls_data_options_init(&o);
    o.clip = 0.7;
    CHECK(build_err(GOOD, &o, &e) == LS_ERR_OPTION);
    CHECK_MSG(strstr(e.message, "clip: "), "%s", e.message);
    ls_data_options_init(&o);
    o.floors_file = "/nonexistent/floors.csv";
    CHECK(build_err(GOOD, &o, &e) == LS_ERR_IO);
    CHECK_MSG(strstr(e.message, "/nonexistent/floors.csv"), "%s", e.message);
}

/* write text to a fresh temporary file; its path into buf */
static int temp_file(const char *text, char *buf)
{
    snprintf(buf, 64, "/tmp/ls_test_data_XXXXXX");
    int fd = mkstemp(buf);
    if (fd < 0) return -1;
    FILE *fp = fdopen(fd, "w");
    if (!fp) return -1;
    fputs(text, fp);
    fclose(fp);
    return 0;
}

static void ceilings_follow_the_options_and_are_checked(void)
{
    ls_data_options o;
    ls_error e;
    ls_data *d = NULL;
    ls_data_options_init(&o);
    CHECK(build(GOOD, &o, &d, &e) == LS_OK);
    if (d) CHECK(ls_data_ceiling(d, 0) == 1 && ls_data_ceiling(d, 1) == 1); /* none by default */
    ls_data_free(d);
    d = NULL;
    /* a file, then overrides */
    char path[64];
    CHECK(temp_file("benchmark,ceiling\nmmlu,0.9\narc,0.8\nhellaswag,0.95\n", path) == 0);
    o.ceilings_file = path;
    o.ceilings = "arc=0.85";
    CHECK(build(GOOD, &o, &d, &e) == LS_OK);
    if (d) CHECK(ls_data_ceiling(d, 0) == 0.85 && ls_data_ceiling(d, 1) == 0.9);
    ls_data_free(d);
    remove(path);
    /* errors name the option, or the file, line and column */
    ls_data_options_init(&o);
    o.ceilings = "arc=1.2";
    CHECK(build_err(GOOD, &o, &e) == LS_ERR_OPTION);
    CHECK_MSG(strstr(e.message, "`ceilings` arc: expected a number in (0, 1], found '1.2'"), "%s", e.message);
    o.ceilings = "arc=0";
    CHECK(build_err(GOOD, &o, &e) == LS_ERR_OPTION);
    o.ceilings = "gsm8k=0.9";
    CHECK(build_err(GOOD, &o, &e) == LS_ERR_OPTION);
    CHECK_MSG(strstr(e.message, "ceilings: unknown benchmark 'gsm8k'"), "%s", e.message);
    o.ceilings = "arc=0.25";
    o.floors = "arc=0.25";
    CHECK(build_err(GOOD, &o, &e) == LS_ERR_OPTION);
    CHECK_MSG(strstr(e.message, "benchmark 'arc': the ceiling 0.25 must exceed the floor 0.25"), "%s", e.message);
    ls_data_options_init(&o);
    CHECK(temp_file("benchmark,ceiling\nmmlu,0.9\narc,high\n", path) == 0);
    o.ceilings_file = path;
    CHECK(build_err(GOOD, &o, &e) == LS_ERR_INPUT);
    CHECK_MSG(strstr(e.message, ":3:2: column 'ceiling': expected a number") && strstr(e.message, path),
              "%s", e.message);
    remove(path);
    CHECK(temp_file("benchmark,ceiling\nmmlu,1.5\n", path) == 0);
    CHECK(build_err(GOOD, &o, &e) == LS_ERR_INPUT);
    CHECK_MSG(strstr(e.message, ":2:2: column 'ceiling': expected a number in (0, 1], found '1.5'"),
              "%s", e.message);
    remove(path);
    CHECK(temp_file("benchmark,floor\nmmlu,0.25\n", path) == 0);
    CHECK(build_err(GOOD, &o, &e) == LS_ERR_INPUT);
    CHECK_MSG(strstr(e.message, ":1: expected columns 'benchmark' and 'ceiling'"), "%s", e.message);
    remove(path);
}

static void every_allocation_failure_is_reported_cleanly(void)
{
    ls_table *t = NULL;
    ls_error e;
    CHECK(ls_table_parse(GOOD, strlen(GOOD), "lb.csv", &t, &e) == LS_OK);
    ls_data_options o;
    ls_data_options_init(&o);
    int ok = 0;
    for (long n = 1; n < 2000 && !ok; n++) {
        ls_data *d = NULL;
        ls_fault_set(n);
        int rc = ls_data_build(t, &o, &d, &e);
        ls_fault_set(0);
        if (rc == LS_OK) ok = 1;
        else CHECK_MSG(rc == LS_ERR_NOMEM && d == NULL, "allocation %ld: rc %d %s", n, rc, e.message);
        ls_data_free(d);
    }
    CHECK(ok);
    ls_table_free(t);
}

static void real_paper_data_has_the_documented_shape(void)
{
    char buf[4096], fl[4096];
    const char *p = h_shared_data("openllm_merged.csv", buf, sizeof buf);
    if (!p) return;
    h_shared_data("benchmarks.csv", fl, sizeof fl);
    ls_table *t = NULL;
    ls_error e;
    CHECK(ls_table_read(p, &t, &e) == LS_OK);
    ls_data_options o;
    ls_data_options_init(&o);
    o.benchmarks = "math,ifeval,hellaswag,bbh,mmlu-pro,mmlu,arc,truthfulqa,gsm8k,winogrande,gpqa,musr";
    o.floors_file = fl;
    ls_data *d = NULL;
    CHECK(ls_data_build(t, &o, &d, &e) == LS_OK);
    if (d) {
        CHECK(ls_data_nmodels(d) == 286);
        CHECK(ls_data_nfamilies(d) == 170);
        CHECK(ls_data_nduplicates(d) == 1);
        CHECK_NEAR(1.0 - (double)ls_data_nobserved(d) / (286.0 * 12), 0.329, 0.001);
        /* 44 scores are exactly 0 and one (0.0006) lies below the clip */
        CHECK(ls_data_nclipped(d) == 45);
        CHECK_NEAR(ls_data_floor(d, 3), 0.2885036095206113, 1e-15);
    }
    ls_data_free(d);
    ls_table_free(t);
}

/* A row without size, a family without scores: refused by default, naming
 * drop_incomplete; with it both go, named in order, and the rest is the
 * data of the complete rows alone.  Renamed size and tokens columns give
 * the same covariates.  Every allocation failure on the way is clean. */
static const char *INCOMPLETE =
    "model,family,params_b,train_tokens_t,arc,mmlu\n"
    "a-1b,a,1,2,0.4,0.3\n"
    "a-7b,a,,2,0.6,0.5\n"
    "b-3b,b,3,1,0.5,\n"
    "g-2b,ghost,2,1,,NA\n"
    "c-13b,c,13,4,0.3,0.6\n"
    "c-20b,c,20,3,0.45,0.65\n";
static const char *COMPLETE =
    "model,family,size,tokens,arc,mmlu\n"
    "a-1b,a,1,2,0.4,0.3\n"
    "b-3b,b,3,1,0.5,\n"
    "c-13b,c,13,4,0.3,0.6\n"
    "c-20b,c,20,3,0.45,0.65\n";

static void drop_incomplete_drops_rows_and_families_and_names_them(void)
{
    ls_data_options o;
    ls_data_options_init(&o);
    o.size_column = "params_b";
    o.tokens_column = "train_tokens_t";
    ls_error e;
    CHECK(build_err(INCOMPLETE, &o, &e) == LS_ERR_INPUT);
    CHECK_MSG(strcmp(e.message, "lb.csv:3:3: column 'params_b': covariate is missing (drop such rows with "
                                "`drop_incomplete`)") == 0, "%s", e.message);
    o.drop_incomplete = 1;
    ls_data *d = NULL, *c = NULL;
    CHECK(build(INCOMPLETE, &o, &d, &e) == LS_OK);
    ls_data_options oc;
    ls_data_options_init(&oc);
    CHECK(build(COMPLETE, &oc, &c, &e) == LS_OK);
    if (d && c) {
        CHECK(ls_data_nmodels(d) == 4 && ls_data_nfamilies(d) == 3);
        CHECK(ls_data_ndropped(d) == 2);
        CHECK(strcmp(ls_data_dropped(d, 0), "a-7b") == 0 && strcmp(ls_data_dropped(d, 1), "g-2b") == 0);
        CHECK(ls_data_dropped(d, 2) == NULL);
        CHECK(strcmp(ls_data_size_column(d), "params_b") == 0 && strcmp(ls_data_tokens_column(d), "train_tokens_t") == 0);
        CHECK_MSG(ls_data_warning(d) &&
                      strcmp(ls_data_warning(d),
                             "drop_incomplete: dropped 2 of 6 models (1 missing params_b or train_tokens_t; 1 in a "
                             "family with no score on the chosen benchmarks: ghost): a-7b, g-2b") == 0,
                  "%s", ls_data_warning(d) ? ls_data_warning(d) : "(none)");
        CHECK(strcmp(ls_data_covariate(d, 0), "log(size)") == 0);
        CHECK(ls_data_nobserved(d) == ls_data_nobserved(c));
        for (size_t i = 0; i < 4 * 3; i++) CHECK_NEAR(d->x[i], c->x[i], 1e-15);
        for (size_t i = 0; i < 4; i++) CHECK(strcmp(ls_data_model(d, i), ls_data_model(c, i)) == 0);
        CHECK(ls_data_ndropped(c) == 0 && ls_data_warning(c) == NULL);
    }
    ls_data_free(d);
    ls_data_free(c);
    o.drop_incomplete = 2;
    CHECK(build_err(INCOMPLETE, &o, &e) == LS_ERR_OPTION);
    CHECK_MSG(strcmp(e.message, "drop_incomplete: expected 0 or 1, found 2") == 0, "%s", e.message);
    o.drop_incomplete = 1;
    o.size_column = "";
    CHECK(build_err(INCOMPLETE, &o, &e) == LS_ERR_OPTION);
    CHECK_MSG(strcmp(e.message, "size_column: empty name") == 0, "%s", e.message);
    o.size_column = "params_b";
    ls_table *t = NULL;
    CHECK(ls_table_parse(INCOMPLETE, strlen(INCOMPLETE), "lb.csv", &t, &e) == LS_OK);
    int ok = 0;
    for (long n = 1; n < 2000 && !ok && t; n++) {
        ls_data *dd = NULL;
        ls_fault_set(n);
        int rc = ls_data_build(t, &o, &dd, &e);
        ls_fault_set(0);
        if (rc == LS_OK) ok = 1;
        else CHECK_MSG(rc == LS_ERR_NOMEM && dd == NULL, "allocation %ld: rc %d %s", n, rc, e.message);
        ls_data_free(dd);
    }
    CHECK(ok);
    ls_table_free(t);
}

int main(void)
{
    RUN(default_columns_skip_names_covariates_flops_and_text);
    RUN(benchmarks_floors_and_covariates_follow_the_options);
    RUN(ceilings_follow_the_options_and_are_checked);
    RUN(errors_name_file_line_and_column);
    RUN(option_errors_name_the_option);
    RUN(every_allocation_failure_is_reported_cleanly);
    RUN(real_paper_data_has_the_documented_shape);
    RUN(drop_incomplete_drops_rows_and_families_and_names_them);
    return h_finish();
}
