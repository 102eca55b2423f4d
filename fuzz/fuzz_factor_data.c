/*
 * fuzz_factor_data.c -- libFuzzer harness for factor-model data from a file:
 * ls_items_table_read (R's row names) + ls_factor_data_build (or, with L=,
 * ls_factor_data_build_long), the anchor names (ls_factor_data_anchors)
 * and, on small data, a short fit (M=1: by marginal ML).
 *
 * Input: OPTIONS %% CSV (a single section is a CSV with items "Q*").
 * OPTIONS is "key=value" items separated by ';': i= items, c= covariates,
 * d= dichotomise, f= family (0..3), a= anchor names, r= factors (1..3),
 * F=1 a fit (at most 400 cells: 1 start, 4 sweeps, standard errors),
 * L= the long table's person,item,response columns, M=1 the fit by
 * marginal ML (bernoulli, 5 nodes, 20 iterations).
 *
 * Properties on success: the sizes and names agree with the table (items
 * are distinct columns, covariates as named), every response is missing or
 * valid for the family (0/1 after dichotomising), every item is observed,
 * covariates are finite and not constant; anchors are item indices; a fit
 * is a "factor-fit" result whose entries have the data's shapes and a
 * finite log-likelihood.  On failure: no handle, a one-line message.
 */
#include "fuzz_common.h"
#include "factor/fit.h" /* the data behind the handle: responses of a long table */

#include <math.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_data(const ls_factor_data *d, const ls_table *t, double dich, int family)
{
    size_t n = ls_factor_data_npersons(d), q = ls_factor_data_nitems(d), p = ls_factor_data_ncovariates(d);
    REQUIRE(n == ls_table_nrow(t) && q >= 2 && q + p <= ls_table_ncol(t));
    for (size_t j = 0; j < q; j++) {
        const char *name = ls_factor_data_item(d, j);
        REQUIRE(name && ls_table_find(t, name) >= 0);
        for (size_t k = 0; k < j; k++) REQUIRE(strcmp(name, ls_factor_data_item(d, k)) != 0);
    }
    for (size_t s = 0; s < p; s++) REQUIRE(ls_table_find(t, ls_factor_data_covariate(d, s)) >= 0);
    REQUIRE(ls_factor_data_item(d, q) == NULL && ls_factor_data_covariate(d, p) == NULL);
    REQUIRE(strcmp(ls_factor_data_source(d), ls_table_name(t)) == 0);
    /* the responses, read back through the table */
    for (size_t j = 0; j < q; j++) {
        long c = ls_table_find(t, ls_factor_data_item(d, j));
        size_t seen = 0;
        for (size_t i = 0; i < n; i++) {
            double v;
            int miss;
            ls_error e;
            REQUIRE(ls_table_number(t, i, (size_t)c, &v, &miss, &e) == LS_OK);
            if (miss) continue;
            seen++;
            if (isfinite(dich)) v = v >= dich ? 1 : 0;
            if (family == LS_FACTOR_BERNOULLI || family == LS_FACTOR_PROBIT) REQUIRE(v == 0 || v == 1);
            if (family == LS_FACTOR_POISSON) REQUIRE(v >= 0 && v == floor(v));
        }
        REQUIRE(seen > 0);
    }
}

/* A long table's data: persons and items are values of their columns, at
 * most one response per row, each valid for the family. */
static void check_long(const ls_factor_data *d, const ls_table *t, const char *cols, int family)
{
    size_t n = ls_factor_data_npersons(d), q = ls_factor_data_nitems(d);
    REQUIRE(n >= 1 && n <= ls_table_nrow(t) && q >= 2 && q <= ls_table_nrow(t));
    char item[256];
    const char *comma = strchr(cols, ',');
    size_t len = comma ? (size_t)(comma - cols) : 0;
    const char *second = comma ? comma + 1 : "";
    const char *c2 = strchr(second, ',');
    size_t l2 = c2 ? (size_t)(c2 - second) : strlen(second);
    (void)len;
    if (l2 >= sizeof item) return;
    memcpy(item, second, l2);
    item[l2] = '\0';
    long ic = ls_table_find(t, item);
    REQUIRE(ic >= 0);
    for (size_t j = 0; j < q; j++) {
        const char *name = ls_factor_data_item(d, j);
        size_t r = 0;
        while (r < ls_table_nrow(t) && strcmp(ls_table_cell(t, r, (size_t)ic), name) != 0) r++;
        REQUIRE(r < ls_table_nrow(t));
        for (size_t k = 0; k < j; k++) REQUIRE(strcmp(name, ls_factor_data_item(d, k)) != 0);
    }
    size_t seen = 0;
    const ls_resp *R = &d->R;
    REQUIRE(R->n == n && R->q == q && R->rp[n] == R->nnz && R->cp[q] == R->nnz);
    for (size_t i = 0; i < n; i++) /* items increase within a person, and the item order holds the same cells */
        for (size_t k = R->rp[i]; k < R->rp[i + 1]; k++) {
            REQUIRE(R->ri[k] < q && (k == R->rp[i] || R->ri[k] > R->ri[k - 1]));
            REQUIRE(ls_resp_get(R, i, R->ri[k]) == R->rv[k]);
        }
    for (size_t j = 0; j < q; j++)
        for (size_t k = R->cp[j]; k < R->cp[j + 1]; k++) {
            REQUIRE(R->ci[k] < n && (k == R->cp[j] || R->ci[k] > R->ci[k - 1]));
            REQUIRE(ls_resp_get(R, R->ci[k], j) == R->cv[k]);
        }
    for (size_t c = 0; c < R->nnz; c++) {
        double v = R->rv[c];
        seen++;
        if (family == LS_FACTOR_BERNOULLI || family == LS_FACTOR_PROBIT) REQUIRE(v == 0 || v == 1);
        if (family == LS_FACTOR_POISSON) REQUIRE(v >= 0 && v == floor(v));
    }
    REQUIRE(seen >= q && seen <= ls_table_nrow(t));
}

static void check_fit(const ls_result *r, const ls_factor_data *d, size_t factors)
{
    size_t n = ls_factor_data_npersons(d), q = ls_factor_data_nitems(d), p = ls_factor_data_ncovariates(d);
    size_t rows, cols;
    REQUIRE(strcmp(ls_result_kind(r), "factor-fit") == 0);
    REQUIRE(ls_result_numbers(r, "loadings", &rows, &cols) && rows == q && cols == factors);
    REQUIRE(ls_result_numbers(r, "beta", &rows, &cols) && rows == q && cols == p + 1);
    REQUIRE(ls_result_numbers(r, "scores", &rows, &cols) && rows == n && cols == factors);
    REQUIRE(ls_result_nstrings(r, "items") == q && ls_result_nstrings(r, "terms") == p + 1);
    REQUIRE(isfinite(ls_result_number(r, "loglik")));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_input in = fz_split(data, size);
    const char *opts = in.opts;
    size_t lo = in.lo;
    const char *items = "Q*", *covariates = NULL, *anchors = NULL, *lcols = NULL, *v;
    double dich = NAN;
    int family = LS_FACTOR_BERNOULLI, fit = 0, mml = 0;
    size_t factors = 1;
    if (opts) {
        if ((v = fz_option(opts, lo, 'i'))) items = v;
        covariates = fz_option(opts, lo, 'c');
        anchors = fz_option(opts, lo, 'a');
        if ((v = fz_option(opts, lo, 'd'))) dich = strtod(v, NULL);
        if ((v = fz_option(opts, lo, 'f'))) family = (int)(strtoul(v, NULL, 10) % 4);
        if ((v = fz_option(opts, lo, 'r'))) factors = 1 + strtoul(v, NULL, 10) % 3;
        fit = fz_option(opts, lo, 'F') != NULL;
        lcols = fz_option(opts, lo, 'L');
        mml = fz_option(opts, lo, 'M') != NULL;
    }
    ls_table *t = fz_items_table("factor", in.csv, in.lc);
    ls_error e = {0, ""};
    if (t) {
        ls_factor_data *d = NULL;
        int rc = lcols ? ls_factor_data_build_long(t, lcols, covariates, dich, family, &d, &e)
                       : ls_factor_data_build(t, items, covariates, dich, family, &d, &e);
        REQUIRE((rc == LS_OK) == (d != NULL));
        if (rc) fz_failed(rc, &e);
        else {
            if (lcols) check_long(d, t, lcols, family);
            else check_data(d, t, dich, family);
            size_t an[3] = {0, 0, 0};
            if (anchors) {
                rc = ls_factor_data_anchors(d, anchors, factors, an, &e);
                if (rc) fz_failed(rc, &e);
                else
                    for (size_t k = 0; k < factors; k++) REQUIRE(an[k] < ls_factor_data_nitems(d));
            }
            size_t cells = ls_factor_data_npersons(d) * ls_factor_data_nitems(d);
            if (fit && cells <= 400) {
                ls_factor_options o;
                ls_factor_options_init(&o);
                o.factors = factors;
                o.family = family;
                o.starts = 1;
                o.max_iter = 4;
                o.threads = 1;
                o.loading_bootstrap = 0;
                o.anchors = anchors && rc == LS_OK ? an : NULL;
                o.identify = anchors && rc == LS_OK ? LS_FACTOR_ANCHOR : LS_FACTOR_ORTHOGONAL;
                if (mml) {
                    o.method = LS_FACTOR_MML;
                    o.family = LS_FACTOR_BERNOULLI;
                    o.identify = anchors && rc == LS_OK ? LS_FACTOR_TRIANGULAR : LS_FACTOR_ORTHOGONAL;
                    o.nodes = 5;
                    o.dif_lr = 1;
                }
                ls_result *r = NULL;
                int rf = ls_factor_run(d, &o, &r, &e);
                REQUIRE((rf == LS_OK) == (r != NULL));
                if (rf) fz_failed(rf, &e);
                else check_fit(r, d, factors);
                ls_result_free(r);
            }
        }
        ls_factor_data_free(d);
    }
    ls_table_free(t);
    free(in.opts);
    return 0;
}
