/*
 * fuzz_select.c -- libFuzzer harness for reading a selection file back
 * (ls_selection_read, which the report uses for its figure of AIC, BIC and
 * cross-validation against K).  The input is the JSON text, written to a
 * temporary file (the reader takes a path).
 *
 * Properties: a status and the output agree; errors are one line; a
 * selection read back has as many AIC, BIC and CV values as K values, its
 * best indices point into them, and it writes itself again; a configuration
 * (select --select-ceilings) chooses a row of its table and reads back
 * from what it wrote.
 */
#include "fuzz_common.h"

#include <math.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64], out[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!path[0]) {
        const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(path, sizeof path, "%s/ls-fuzz-sel-%d.json", dir, (int)getpid());
        snprintf(out, sizeof out, "%s/ls-fuzz-sel-%d.out.json", dir, (int)getpid());
    }
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    if (size) fwrite(data, 1, size, f);
    fclose(f);
    ls_error e = {0, ""};
    ls_result *s = NULL;
    int rc = ls_selection_read(path, &s, &e);
    REQUIRE((rc == LS_OK) == (s != NULL));
    if (rc) {
        size_t n = strnlen(e.message, LS_ERROR_LEN);
        REQUIRE(n > 0 && n < LS_ERROR_LEN && !strchr(e.message, '\n'));
    } else {
        size_t nk = 0, na = 0, nb = 0, nc = 0;
        REQUIRE(ls_result_numbers(s, "K", &nk, NULL) && nk > 0);
        REQUIRE(ls_result_numbers(s, "aic", &na, NULL) && ls_result_numbers(s, "bic", &nb, NULL) &&
                ls_result_numbers(s, "cv", &nc, NULL) && na == nk && nb == nk && nc == nk);
        double ba = ls_result_number(s, "best_aic"), bb = ls_result_number(s, "best_bic");
        double bc = ls_result_number(s, "best_cv");
        REQUIRE(ba >= 0 && ba < (double)nk && bb >= 0 && bb < (double)nk && (isnan(bc) || (bc >= 0 && bc < (double)nk)));
        REQUIRE(ls_result_write(s, out, NULL, NULL, &e) == LS_OK);
        /* a configuration's choice is a row of its table, and survives the round trip */
        size_t ck = 0, cc = 0;
        const double *cm = ls_result_numbers(s, "select_sibling_mae", &ck, &cc);
        if (cm) {
            const double *ks = ls_result_numbers(s, "select_skills", NULL, NULL);
            double chosen = ls_result_number(s, "selected_skills");
            int found = 0;
            for (size_t a = 0; ks && a < ck; a++) found |= ks[a] == chosen;
            REQUIRE(found && cc == ls_result_nstrings(s, "select_covariates"));
            ls_result *again = NULL;
            REQUIRE(ls_selection_read(out, &again, &e) == LS_OK);
            REQUIRE(strcmp(ls_result_string(again, "selected_ceilings", 0), ls_result_string(s, "selected_ceilings", 0)) == 0);
            ls_result_free(again);
        }
        unlink(out);
    }
    ls_result_free(s);
    unlink(path);
    return 0;
}
