/*
 * fuzz_gpcm_data.c -- libFuzzer harness for partial credit scores from a
 * file: ls_items_table_read (R's row names) + ls_gpcm_data_build and, on
 * small data, a short fit.
 *
 * Input: OPTIONS %% CSV (a single section is a CSV read with every column
 * as an item).  OPTIONS: i= items, L= long columns (person,item,response:
 * ls_gpcm_data_build_long instead), c= person covariates (the _cov
 * builders, wide or long), l= lowest (an integer), k= categories, F=1 a fit
 * (at most 300 cells: one factor, 1 start, 5 iterations, no standard
 * errors; with covariates by MML, 5 nodes).
 *
 * Properties on success: the sizes and names agree with the table, every
 * item has 2..64 categories (ncat when given), every response read back is
 * an integer at or above the lowest score and below lowest + categories,
 * every item is observed (long: at most one person per row, items with 2..64
 * categories, an integer lowest score); with covariates, at most as many
 * as named, each a column of the table; a fit is a
 * "gpcm-fit" result with the data's shapes and a finite lower bound (or
 * log-likelihood).  On failure: no handle, a one-line
 * message.
 */
#include "fuzz_common.h"

#include <math.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_data(const ls_gpcm_data *d, const ls_table *t, unsigned ncat)
{
    size_t n = ls_gpcm_data_npersons(d), J = ls_gpcm_data_nitems(d);
    double lo = ls_gpcm_data_lowest(d);
    REQUIRE(n == ls_table_nrow(t) && J >= 2 && J <= ls_table_ncol(t));
    REQUIRE(isfinite(lo) && lo == floor(lo));
    REQUIRE(ls_gpcm_data_item(d, J) == NULL && ls_gpcm_data_categories(d, J) == 0);
    for (size_t j = 0; j < J; j++) {
        unsigned c = ls_gpcm_data_categories(d, j);
        REQUIRE(c >= 2 && c <= 64 && (!ncat || c == ncat));
        long col = ls_table_find(t, ls_gpcm_data_item(d, j));
        REQUIRE(col >= 0);
        size_t seen = 0;
        for (size_t i = 0; i < n; i++) {
            double v;
            int miss;
            ls_error e;
            REQUIRE(ls_table_number(t, i, (size_t)col, &v, &miss, &e) == LS_OK);
            if (miss) continue;
            seen++;
            REQUIRE(v == floor(v) && v >= lo && v - lo <= (double)c - 1);
        }
        REQUIRE(seen > 0);
    }
}

static void check_long(const ls_gpcm_data *d, const ls_table *t, unsigned ncat)
{
    size_t n = ls_gpcm_data_npersons(d), J = ls_gpcm_data_nitems(d);
    double lo = ls_gpcm_data_lowest(d);
    REQUIRE(n >= 1 && n <= ls_table_nrow(t) && J >= 2 && J <= ls_table_nrow(t));
    REQUIRE(isfinite(lo) && lo == floor(lo));
    for (size_t j = 0; j < J; j++) {
        unsigned c = ls_gpcm_data_categories(d, j);
        REQUIRE(c >= 2 && c <= 64 && (!ncat || c == ncat) && ls_gpcm_data_item(d, j) != NULL);
    }
}

/* with a list of covariates (comma-separated): at most as many as the list
 * names (an empty list: none), each a column of t; without: none */
static void check_covariates(const ls_gpcm_data *d, const ls_table *t, const char *list)
{
    size_t p = ls_gpcm_data_ncovariates(d), named = 1;
    for (const char *c = list; c && *c; c++) named += *c == ',';
    REQUIRE(list ? p <= named : p == 0);
    for (size_t k = 0; k < p; k++) {
        const char *name = ls_gpcm_data_covariate(d, k);
        REQUIRE(name != NULL && ls_table_find(t, name) >= 0);
    }
    REQUIRE(ls_gpcm_data_covariate(d, p) == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_input in = fz_split(data, size);
    const char *opts = in.opts, *items = NULL, *longcols = NULL, *covs = NULL, *v;
    size_t lo = in.lo;
    double lowest = NAN;
    unsigned ncat = 0;
    int fit = 0;
    if (opts) {
        items = fz_option(opts, lo, 'i');
        longcols = fz_option(opts, lo, 'L');
        covs = fz_option(opts, lo, 'c');
        if ((v = fz_option(opts, lo, 'l'))) lowest = strtod(v, NULL);
        if ((v = fz_option(opts, lo, 'k'))) ncat = (unsigned)strtoul(v, NULL, 10);
        fit = fz_option(opts, lo, 'F') != NULL;
    }
    ls_table *t = fz_items_table("gpcm", in.csv, in.lc);
    ls_error e = {0, ""};
    if (t) {
        ls_gpcm_data *d = NULL;
        int rc = covs ? (longcols ? ls_gpcm_data_build_long_cov(t, longcols, covs, lowest, ncat, &d, &e)
                                  : ls_gpcm_data_build_cov(t, items, covs, lowest, ncat, &d, &e))
                      : longcols ? ls_gpcm_data_build_long(t, longcols, lowest, ncat, &d, &e)
                                 : ls_gpcm_data_build(t, items, lowest, ncat, &d, &e);
        REQUIRE((rc == LS_OK) == (d != NULL));
        if (rc) fz_failed(rc, &e);
        else {
            if (longcols) check_long(d, t, ncat);
            else check_data(d, t, ncat);
            check_covariates(d, t, covs);
            if (fit && ls_gpcm_data_npersons(d) * ls_gpcm_data_nitems(d) <= 300) {
                ls_gpcm_options o;
                ls_gpcm_options_init(&o);
                o.starts = 1;
                o.max_iter = 5;
                o.threads = 1;
                o.skip_se = 1;
                if (ls_gpcm_data_ncovariates(d)) {
                    o.method = LS_GPCM_MML;
                    o.nodes = 5;
                }
                ls_result *r = NULL;
                int rf = ls_gpcm_run(d, NULL, &o, &r, &e);
                REQUIRE((rf == LS_OK) == (r != NULL));
                if (rf) fz_failed(rf, &e);
                else {
                    size_t rows, cols;
                    REQUIRE(ls_result_numbers(r, "slopes", &rows, &cols) && rows == ls_gpcm_data_nitems(d));
                    REQUIRE(isfinite(ls_result_number(r, o.method == LS_GPCM_MML ? "loglik" : "elbo")));
                }
                ls_result_free(r);
            }
        }
        ls_gpcm_data_free(d);
    }
    ls_table_free(t);
    free(in.opts);
    return 0;
}
