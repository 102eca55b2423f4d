/*
 * sim.h -- helpers shared by the tests that simulate leaderboards.
 */
#ifndef LS_TEST_SIM_H
#define LS_TEST_SIM_H

#include "latentscale.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* Write fit f (of d) as JSON to a new temporary file, named in path (a
 * mkstemp template, e.g. "/tmp/ls_testXXXXXX"); the caller reads it back
 * and removes it. */
static inline int h_fit_file(const ls_fit *f, const ls_data *d, char *path, ls_error *e)
{
    int fd = mkstemp(path);
    if (fd >= 0) close(fd);
    return ls_fit_write_json(f, d, path, NULL, e);
}

#endif
