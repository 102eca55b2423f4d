/*
 * items.h -- assessment data from tables (private): persons in rows, items
 * in columns, read the same way by every family that models item responses
 * (the factor models and the partial credit model).
 *
 * A table may come from R (write.csv), whose row names sit under an empty
 * first header field: ls_items_table_read (latentscale.h) calls that column
 * "(row)".  Item columns are chosen by a comma-separated list of names or
 * shell patterns ('A*', 'Q?[0-9]'); covariates by a list of column names.
 * Every response and covariate is parsed as a number (empty or NA:
 * missing); errors name the option ("items: ...", "covariates: ...") or the
 * file, line and column of the offending cell.
 */
#ifndef LS_KERNEL_ITEMS_H
#define LS_KERNEL_ITEMS_H

#include "kernel/core.h"
#include "kernel/sparse.h"

/* The name ls_items_table_read gives R's row-name column. */
#define LS_ROW_NAMES "(row)"

/* What ls_items_read makes; every array is owned (ls_items_free).  The
 * arrays are meant to be moved into a family's data (set them NULL here). */
typedef struct ls_items {
    size_t n, q, p;     /* persons, items, covariates                     */
    double *Y;          /* n x q responses, NaN = missing (wide tables)   */
    ls_resp R;          /* the observed responses (long tables; Y NULL)   */
    double *X;          /* n x p covariates (allocated even when p = 0)   */
    size_t *col;        /* q table columns of the items                   */
    char **items;       /* q names                                        */
    char **covariates;  /* p names                                        */
    size_t *line;       /* n source lines                                 */
    char *source;       /* the table's name                               */
} ls_items;

/* Called for every observed response (v parsed, not missing) in reading
 * order, row by row: may change *v (e.g. dichotomise it) or reject it with
 * an error (return non-zero, err filled). */
typedef int (*ls_items_check)(void *ctx, const ls_table *t, size_t row, size_t col, double *v,
                              ls_error *err);

/*
 * Read the items (NULL: every column but LS_ROW_NAMES and the covariates)
 * and covariates (NULL or "": none) of t.  Checks, in order: a non-empty
 * item list, at least one row, the covariates exist (once each), each
 * pattern matches and each name exists (an item named as a covariate is an
 * error, a pattern skips covariates), at least 2 items, every cell a number
 * (check, when given, on each response), no missing covariate, every item
 * observed at least once, no constant covariate.
 */
int ls_items_read(const ls_table *t, const char *items, const char *covariates,
                  ls_items_check check, void *ctx, ls_items *out, ls_error *err);
void ls_items_free(ls_items *it);

/*
 * The same from a long table, one row per response: `columns` names the
 * person, item and response columns ("person,item,response"); persons and
 * items are numbered in order of first appearance (out->line: a person's
 * first row); an empty response is no response; covariates are columns
 * whose value is the same on every row of a person.  Checks: the three
 * columns exist and differ, covariates exist and are none of them, no
 * empty person or item name, at least 2 items, numbers (check on each
 * response, in row order), no second response of a person to an item,
 * covariates present and constant within persons, every item observed, no
 * constant covariate.  The responses go to out->R (memory in proportion to
 * the observed responses); out->Y and out->col are NULL.
 */
int ls_items_read_long(const ls_table *t, const char *columns, const char *covariates, ls_items_check check,
                       void *ctx, ls_items *out, ls_error *err);

/* n copies of names, or "prefix1".."prefixn" when names is NULL; NULL on
 * allocation failure.  Free with ls_strv_free(v, n). */
char **ls_items_names(const char *const *names, size_t n, const char *prefix);

#endif
