/*
 * fuzz_data.c -- libFuzzer harness for building the scaling-law data from a
 * leaderboard (ls_table_parse + ls_data_build), with options taken from
 * the input.
 *
 * Input: up to three sections separated by a line "%%":
 *   OPTIONS %% LEADERBOARD            or
 *   OPTIONS %% FLOORS.CSV %% LEADERBOARD
 * (a single section is a leaderboard with the default options).  OPTIONS
 * is "key=value" items separated by ';': b= benchmarks, c= covariates,
 * f= floor overrides, x= clip, m= model column, y= family column.  A
 * floors section is written to a temporary file for floors_file.
 *
 * Properties on success: the data agree with the table (models, families,
 * benchmarks), every observed cell is finite and inside [clip, 1 - clip],
 * cells are grouped by family with offsets that add up, covariates are
 * standardised and finite, floors lie in [0, 1).  On failure: no data and
 * a one-line message.
 */
#include "fuzz_common.h"
#include "scaling/data.h"
#include "latentscale.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char floors_path[64];

/* Parse "k=v;k=v" into o; the strings live in buf. */
static void parse_options(char *buf, ls_data_options *o)
{
    char *save = NULL;
    for (char *it = strtok_r(buf, ";\n", &save); it; it = strtok_r(NULL, ";\n", &save)) {
        if (strlen(it) < 2 || it[1] != '=') continue;
        char *v = it + 2;
        switch (it[0]) {
        case 'b': o->benchmarks = v; break;
        case 'c': o->covariates = v; break;
        case 'f': o->floors = v; break;
        case 'x': o->clip = strtod(v, NULL); break;
        case 'm': o->model_column = v; break;
        case 'y': o->family_column = v; break;
        default: break;
        }
    }
}

static void check_data(const ls_data *d, const ls_table *t, double clip)
{
    REQUIRE(d->n == ls_table_nrow(t) && d->n > 0);
    REQUIRE(d->J >= 1 && d->F >= 1 && d->F <= d->n);
    REQUIRE(ls_data_nmodels(d) == d->n && ls_data_nbenchmarks(d) == d->J);
    size_t rows_seen = 0;
    for (size_t f = 0; f < d->F; f++) {
        REQUIRE(d->family[f] && *d->family[f]);
        REQUIRE(d->cell_start[f + 1] > d->cell_start[f]);
        rows_seen += d->fam_nrows[f];
        for (size_t k = d->cell_start[f]; k < d->cell_start[f + 1]; k++) {
            const ls_cell *c = &d->cell[k];
            REQUIRE(c->row < d->n && c->j < d->J && d->family_of[c->row] == f);
            REQUIRE(isfinite(c->ly) && isfinite(c->l1y));
            double y = d->y[c->row * d->J + c->j];
            REQUIRE(y >= clip && y <= 1 - clip);
        }
    }
    REQUIRE(rows_seen == d->n);
    REQUIRE(d->cell_start[d->F] == d->ncell && d->ncell == ls_data_nobserved(d));
    for (size_t i = 0; i < d->n; i++) {
        REQUIRE(d->model[i] && *d->model[i] && d->family_of[i] < d->F);
        for (size_t k = 0; k < d->p; k++) REQUIRE(isfinite(d->x[i * d->p + k]));
    }
    for (size_t k = 0; k < d->p; k++) REQUIRE(d->x_sd[k] > 0 && isfinite(d->x_mean[k]));
    for (size_t j = 0; j < d->J; j++) REQUIRE(d->floor[j] >= 0 && d->floor[j] < 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    size_t l1, l2, l3;
    const char *s1 = fz_section(&p, end, &l1);
    const char *s2 = p < end ? fz_section(&p, end, &l2) : NULL;
    const char *s3 = p < end ? fz_section(&p, end, &l3) : NULL;
    const char *opts = NULL, *floors = NULL, *csv = s1;
    size_t lo = 0, lf = 0, lc = l1;
    if (s3) { opts = s1; lo = l1; floors = s2; lf = l2; csv = s3; lc = l3; }
    else if (s2) { opts = s1; lo = l1; csv = s2; lc = l2; }

    ls_data_options o;
    ls_data_options_init(&o);
    char *obuf = NULL;
    if (opts) {
        obuf = malloc(lo + 1);
        if (!obuf) return 0;
        memcpy(obuf, opts, lo);
        obuf[lo] = '\0';
        parse_options(obuf, &o);
    }
    if (floors) {
        if (!floors_path[0]) {
            const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
            snprintf(floors_path, sizeof floors_path, "%s/ls-fuzz-floors-%d.csv", dir, (int)getpid());
        }
        FILE *f = fopen(floors_path, "wb");
        if (f) {
            fwrite(floors, 1, lf, f);
            fclose(f);
            o.floors_file = floors_path;
        }
    }

    ls_table *t = NULL;
    ls_error e = {0, ""};
    if (ls_table_parse(csv, lc, "fuzz.csv", &t, &e) == LS_OK) {
        ls_data *d = NULL;
        int rc = ls_data_build(t, &o, &d, &e);
        REQUIRE((rc == LS_OK) == (d != NULL));
        if (rc == LS_OK) check_data(d, t, o.clip);
        else {
            REQUIRE(rc == LS_ERR_INPUT || rc == LS_ERR_OPTION || rc == LS_ERR_PARSE ||
                    rc == LS_ERR_IO || rc == LS_ERR_NOMEM);
            size_t n = strnlen(e.message, LS_ERROR_LEN);
            REQUIRE(n > 0 && n < LS_ERROR_LEN && !strchr(e.message, '\n'));
        }
        ls_data_free(d);
    }
    ls_table_free(t);
    if (o.floors_file) unlink(floors_path);
    free(obuf);
    return 0;
}
