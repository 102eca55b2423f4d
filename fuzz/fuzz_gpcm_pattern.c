/*
 * fuzz_gpcm_pattern.c -- libFuzzer harness for loading patterns:
 * ls_gpcm_pattern_from_table (the reader of ls_gpcm_pattern_read) against
 * scores built from a table, then, when the pattern is read, a short
 * confirmatory fit (which checks every factor and every item is loaded).
 *
 * Input: SCORES.CSV %% PATTERN.CSV (every column of the scores is an item).
 *
 * Properties on success: 1..10 factors, every entry 0 or 1; a fit returns
 * a "gpcm-fit" result or a one-line error.  On failure: no pattern, a
 * one-line message.
 */
#include "fuzz_common.h"

#include <math.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    size_t l1, l2 = 0;
    const char *s1 = fz_section(&p, end, &l1);
    const char *s2 = p < end ? fz_section(&p, end, &l2) : NULL;
    if (!s2) return 0;
    ls_table *ts = NULL, *tp = NULL;
    ls_gpcm_data *d = NULL;
    ls_error e = {0, ""};
    if (ls_table_parse(s1, l1, "scores.csv", &ts, &e) == LS_OK &&
        ls_gpcm_data_build(ts, NULL, NAN, 0, &d, &e) == LS_OK) {
        int rc = ls_table_parse(s2, l2, "pattern.csv", &tp, &e);
        size_t K = 0;
        int *pat = NULL;
        if (rc == LS_OK) rc = ls_gpcm_pattern_from_table(tp, d, &K, &pat, &e);
        REQUIRE((rc == LS_OK) == (pat != NULL));
        if (rc) fz_failed(rc, &e);
        else {
            size_t J = ls_gpcm_data_nitems(d);
            REQUIRE(K >= 1 && K <= 10);
            for (size_t c = 0; c < J * K; c++) REQUIRE(pat[c] == 0 || pat[c] == 1);
            if (ls_gpcm_data_npersons(d) * J <= 200) {
                ls_gpcm_options o;
                ls_gpcm_options_init(&o);
                o.factors = K;
                o.starts = 1;
                o.max_iter = 3;
                o.threads = 1;
                o.skip_se = 1;
                ls_result *r = NULL;
                int rf = ls_gpcm_run(d, pat, &o, &r, &e);
                REQUIRE((rf == LS_OK) == (r != NULL));
                if (rf) fz_failed(rf, &e);
                else REQUIRE(strcmp(ls_result_kind(r), "gpcm-fit") == 0);
                ls_result_free(r);
            }
        }
        ls_gpcm_pattern_free(pat);
    }
    ls_gpcm_data_free(d);
    ls_table_free(ts);
    ls_table_free(tp);
    return 0;
}
