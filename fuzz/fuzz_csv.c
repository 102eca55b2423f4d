/*
 * fuzz_csv.c -- libFuzzer harness for the CSV parser (ls_table_parse) and
 * the numeric cells (ls_table_number), with a write-and-read-back check of
 * the writer (ls_table_write) on every table that parses.
 *
 * Properties, beyond "no crash, no sanitizer report, no leak":
 *   - a status and the output agree (table iff LS_OK); errors are one line;
 *   - column names are distinct and found by ls_table_find;
 *   - row line numbers start after the header and never decrease;
 *   - a cell that parses as a number is finite;
 *   - writing the table and reading it back gives the same cells.
 */
#include "fuzz_common.h"
#include "latentscale.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_error(const ls_error *e)
{
    size_t n = strnlen(e->message, LS_ERROR_LEN);
    REQUIRE(n > 0 && n < LS_ERROR_LEN);
    REQUIRE(!strchr(e->message, '\n') && !strchr(e->message, '\r'));
}

static char path[64];

static void round_trip(const ls_table *t)
{
    if (!path[0]) {
        const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(path, sizeof path, "%s/ls-fuzz-csv-%d.csv", dir, (int)getpid());
    }
    ls_error e;
    if (ls_table_write(t, path, &e) != LS_OK) return; /* disk trouble: not the parser's */
    ls_table *back = NULL;
    int rc = ls_table_read(path, &back, &e);
    unlink(path);
    if (rc != LS_OK) fprintf(stderr, "read back: %s\n", e.message);
    REQUIRE(rc == LS_OK);
    REQUIRE(ls_table_ncol(back) == ls_table_ncol(t));
    REQUIRE(ls_table_nrow(back) == ls_table_nrow(t));
    for (size_t c = 0; c < ls_table_ncol(t); c++)
        REQUIRE(strcmp(ls_table_colname(t, c), ls_table_colname(back, c)) == 0);
    for (size_t r = 0; r < ls_table_nrow(t); r++)
        for (size_t c = 0; c < ls_table_ncol(t); c++)
            REQUIRE(strcmp(ls_table_cell(t, r, c), ls_table_cell(back, r, c)) == 0);
    ls_table_free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ls_table *t = NULL;
    ls_error e = {0, ""};
    int rc = ls_table_parse((const char *)data, size, "fuzz.csv", &t, &e);
    REQUIRE((rc == LS_OK) == (t != NULL));
    if (rc) {
        REQUIRE(rc == LS_ERR_PARSE || rc == LS_ERR_NOMEM);
        check_error(&e);
        return 0;
    }
    size_t nr = ls_table_nrow(t), nc = ls_table_ncol(t);
    REQUIRE(nc >= 1);
    for (size_t c = 0; c < nc; c++) {
        const char *name = ls_table_colname(t, c);
        REQUIRE(*name);
        REQUIRE(ls_table_find(t, name) == (long)c);
    }
    size_t last = 1;
    for (size_t r = 0; r < nr; r++) {
        size_t line = ls_table_line(t, r);
        REQUIRE(line > last || (r == 0 && line >= 2));
        last = line;
        for (size_t c = 0; c < nc; c++) {
            double v;
            int miss;
            ls_error ne;
            int q = ls_table_number(t, r, c, &v, &miss, &ne);
            if (q == LS_OK) REQUIRE(miss ? isnan(v) : isfinite(v));
            else {
                REQUIRE(q == LS_ERR_INPUT);
                check_error(&ne);
            }
        }
    }
    round_trip(t);
    ls_table_free(t);
    return 0;
}
