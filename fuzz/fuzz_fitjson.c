/*
 * fuzz_fitjson.c -- libFuzzer harness for reading fit files back: the
 * data-free summary (ls_fit_summary_read) and the full load bound to its
 * data (ls_fit_load) against a fixed tiny leaderboard.  The input is the
 * JSON text, written to a temporary file (both readers take a path).  The
 * seed corpus holds real fits of that leaderboard, so mutations reach the
 * checks behind the JSON syntax.  The seeds spell their version "@V", which
 * the harness replaces by this build's (LS_VERSION) before reading: a
 * version bump then leaves the corpus valid instead of stopping every seed
 * at the version check (which any other string still reaches).
 *
 * Properties: a status and the outputs agree; errors are one line.
 */
#include "fuzz_common.h"
#include "latentscale.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The leaderboard the seed fits were made from (fuzz/corpus/fitjson/README). */
static const char TABLE[] =
    "model,family,size,tokens,math,ifeval,hellaswag\n"
    "a-1b,a,1,2,0.20,0.31,0.40\n"
    "a-7b,a,7,2,0.35,0.42,0.55\n"
    "b-3b,b,3,1,0.22,0.25,0.47\n"
    "b-8b,b,8,1.5,,0.38,0.52\n"
    "c-0.5b,c,0.5,0.3,0.05,0.12,0.30\n"
    "d-70b,d,70,15,0.62,0.71,0.83\n"
    "e-2b,e,2,4,0.18,0.22,0.44\n"
    "f-30b,f,30,3,0.50,0.58,\n";

static ls_table *table;
static char path[64];

static void one_line(const ls_error *e)
{
    size_t n = strnlen(e->message, LS_ERROR_LEN);
    REQUIRE(n > 0 && n < LS_ERROR_LEN && !strchr(e->message, '\n'));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ls_error e = {0, ""};
    if (!table) {
        if (ls_table_parse(TABLE, sizeof TABLE - 1, "lb.csv", &table, &e) != LS_OK) abort();
        const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(path, sizeof path, "%s/ls-fuzz-fit-%d.json", dir, (int)getpid());
    }
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    const size_t vl = strlen(LS_VERSION);
    for (size_t i = 0; i < size; i++) {
        if (i + 1 < size && data[i] == '@' && data[i + 1] == 'V') {
            fwrite(LS_VERSION, 1, vl, f);
            i++;
        } else
            fputc(data[i], f);
    }
    fclose(f);

    ls_fit_summary *s = NULL;
    int rc = ls_fit_summary_read(path, &s, &e);
    REQUIRE((rc == LS_OK) == (s != NULL));
    if (rc) one_line(&e);
    ls_fit_summary_free(s);

    ls_data *d = NULL;
    ls_fit *fit = NULL;
    rc = ls_fit_load(path, table, 1, &d, &fit, &e);
    REQUIRE((rc == LS_OK) == (d != NULL) && (rc == LS_OK) == (fit != NULL));
    if (rc) one_line(&e);
    ls_fit_free(fit);
    ls_data_free(d);
    unlink(path);
    return 0;
}
