/*
 * data.h -- the scaling-law data as the models see it (private).
 *
 * Built by ls_data_build (leaderboard.c) from a table; read by the models,
 * the tasks and the output.  Observed cells are stored grouped by family,
 * because each family's latent vector is integrated separately.
 */
#ifndef LS_DATA_H
#define LS_DATA_H

#include "kernel/core.h"
#include <stdint.h>

typedef struct ls_cell {
    uint32_t row;   /* model row i                      */
    uint32_t j;     /* benchmark                        */
    double ly;      /* log y  (after clipping)          */
    double l1y;     /* log(1 - y)                       */
} ls_cell;

struct ls_data {
    size_t n, F, J, p;
    char *source;          /* file name                 */
    char **model;          /* n names                   */
    char **family;         /* F names                   */
    char **bench;          /* J names                   */
    char **covariate;      /* p term names              */
    size_t *family_of;     /* n: family index of row i  */
    size_t *fam_nrows;     /* F: models in family       */
    double *x_raw;         /* n x p covariates          */
    double *x;             /* n x p standardised        */
    double *x_mean, *x_sd; /* p                          */
    double *y;             /* n x J scores, NaN missing */
    double *floor;         /* J guessing floors c_j      */
    double *ceil;          /* J ceilings d_j (1: none)   */
    size_t ncell;          /* observed cells            */
    ls_cell *cell;         /* grouped by family          */
    size_t *cell_start;    /* F + 1 offsets into cell    */
    size_t nclipped, ndup;
    double clip;           /* the clip used (recorded in fits) */
    char model_col[128], family_col[128], size_col[128], tokens_col[128];
    size_t *trow;          /* n: the table row of row i (drop_incomplete skips rows) */
    char **dropped;        /* ndropped model names dropped by drop_incomplete */
    size_t ndropped;
    int drop_incomplete;   /* the option, recorded in fits */
    char *warning;         /* the warning naming them (NULL: none dropped) */
};

/* Raw covariate terms of every row of a table t (same term texts as d),
 * e.g. new models to predict: *x_raw gets nrow(t) x p values (ls_free). */
int ls_data_covariates_of(const ls_data *d, const ls_table *t, double **x_raw, ls_error *err);
/* "name=value,.." floor (ceiling != 0: ceiling) overrides onto dst, by
 * benchmark name (names, nnames); values in [0, 1) (ceilings (0, 1]);
 * errors name the option.  NULL or "": nothing. */
int ls_bound_overrides(const char *list, const char *option, int ceiling, char *const *names,
                       size_t nnames, double *dst, ls_error *err);

#endif
