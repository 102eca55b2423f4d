/*
 * leaderboard.c -- turn a leaderboard table into the scaling-law data:
 * pick benchmark and covariate columns, read floors, validate every score,
 * clip, standardise covariates, group observed cells by family.
 *
 * Covariates follow the spec (scaling-law.md, "Data"): by default
 * x = (log s, log t, log s * log t), standardised column-wise with mean and
 * sd (divisor n) over rows.
 */
#include "scaling/data.h"
#include "kernel/items.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEFAULT_COVARIATES "log(size),log(tokens),log(size)*log(tokens)"
#define MAX_FACTORS 4
/* A covariate whose standardised column keeps less than this share of its
 * variance after projection on the earlier ones is a linear combination of
 * them: beta is then not identified (only the sum along the null direction
 * is), so the fit would report arbitrary effects. */
#define COLLINEAR_TOL 1e-10

int ls_data_options_check(const ls_data_options *o, ls_error *err)
{
    if (!(o->clip > 0 && o->clip < 0.5))
        return ls_fail(err, LS_ERR_OPTION, "clip: expected a number in (0, 0.5), found %g", o->clip);
    if (o->model_column && !*o->model_column) return ls_fail(err, LS_ERR_OPTION, "model_column: empty name");
    if (o->family_column && !*o->family_column) return ls_fail(err, LS_ERR_OPTION, "family_column: empty name");
    if (o->size_column && !*o->size_column) return ls_fail(err, LS_ERR_OPTION, "size_column: empty name");
    if (o->tokens_column && !*o->tokens_column) return ls_fail(err, LS_ERR_OPTION, "tokens_column: empty name");
    if (o->drop_incomplete != 0 && o->drop_incomplete != 1)
        return ls_fail(err, LS_ERR_OPTION, "drop_incomplete: expected 0 or 1, found %d", o->drop_incomplete);
    return LS_OK;
}

void ls_data_options_init(ls_data_options *o)
{
    memset(o, 0, sizeof *o);
    o->clip = 0.001;
    o->model_column = "model";
    o->family_column = "family";
    o->size_column = "size";
    o->tokens_column = "tokens";
    o->drop_incomplete = 0;
}

/* ---------------------------------------------------------------- */
/* Name index: model and family names are looked up once per row, so a */
/* linear search would make a leaderboard of n rows cost O(n^2).        */
/* Open addressing over an array of n name pointers (borrowed).         */
/* ---------------------------------------------------------------- */

typedef struct name_index {
    size_t *slot; /* index into names + 1; 0 = empty */
    size_t mask;
} name_index;

static uint64_t name_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static int name_index_init(name_index *x, size_t n)
{
    size_t cap = 16;
    while (cap < 2 * n) cap *= 2;
    x->slot = ls_calloc(cap, sizeof *x->slot);
    x->mask = cap - 1;
    return x->slot ? 0 : -1;
}

/* Index of `name` among names[], or (size_t)-1; with add != 0 an absent
 * name is entered as index `id`. */
static size_t name_index_find(name_index *x, char *const *names, const char *name, int add,
                              size_t id)
{
    size_t i = (size_t)name_hash(name) & x->mask;
    while (x->slot[i]) {
        if (strcmp(names[x->slot[i] - 1], name) == 0) return x->slot[i] - 1;
        i = (i + 1) & x->mask;
    }
    if (add) x->slot[i] = id + 1;
    return (size_t)-1;
}

/* ---------------------------------------------------------------- */
/* Covariate terms: factor ('*' factor)*, factor = col | log(col)     */
/* ---------------------------------------------------------------- */

typedef struct term {
    size_t nf;
    long col[MAX_FACTORS];
    int log[MAX_FACTORS];
} term;

/* by_default: the term comes from the default covariates, so a missing
 * column is the file's fault (input error), not the option's. */
/* of_fit: the table holds new rows for a fit, whose column names apply. */
static int parse_term_as(const ls_table *t, const char *text, int by_default, int of_fit, const char *scol,
                         const char *tcol, term *tm, ls_error *err)
{
    memset(tm, 0, sizeof *tm);
    if (!*text) return ls_fail(err, LS_ERR_OPTION, "covariates: empty term");
    char buf[256];
    if (strlen(text) >= sizeof buf)
        return ls_fail(err, LS_ERR_OPTION, "covariates: term too long");
    strcpy(buf, text);
    char *save = NULL;
    for (char *f = strtok_r(buf, "*", &save); f; f = strtok_r(NULL, "*", &save)) {
        while (*f == ' ') f++;
        size_t len = strlen(f);
        while (len && f[len - 1] == ' ') f[--len] = '\0';
        if (tm->nf == MAX_FACTORS)
            return ls_fail(err, LS_ERR_OPTION, "covariates: term '%s' has more than %d factors",
                           text, MAX_FACTORS);
        int lg = 0;
        if (len > 5 && strncmp(f, "log(", 4) == 0 && f[len - 1] == ')') {
            lg = 1;
            f[len - 1] = '\0';
            f += 4;
        }
        /* size and tokens: the columns the options name for them */
        const char *field = NULL;
        if (strcmp(f, "size") == 0 && scol && strcmp(scol, "size") != 0) { field = "size_column"; f = (char *)scol; }
        else if (strcmp(f, "tokens") == 0 && tcol && strcmp(tcol, "tokens") != 0) { field = "tokens_column"; f = (char *)tcol; }
        long c = ls_table_find(t, f);
        if (c < 0 && field)
            return ls_fail(err, LS_ERR_INPUT, "%s:1: missing required column '%.60s' (%s `%s`)",
                           ls_table_name(t), f, of_fit ? "the fit's" : "named by", field);
        if (c < 0 && by_default) /* the user named no covariates: the file lacks a column */
            return ls_fail(err, LS_ERR_INPUT,
                           "%s:1: missing required column '%s' (the default covariates are "
                           DEFAULT_COVARIATES "; choose others with `covariates`)",
                           ls_table_name(t), f);
        if (c < 0)
            return ls_fail(err, LS_ERR_OPTION, "covariates: unknown column '%s' in %s", f,
                           ls_table_name(t));
        tm->col[tm->nf] = c;
        tm->log[tm->nf] = lg;
        tm->nf++;
    }
    if (tm->nf == 0) return ls_fail(err, LS_ERR_OPTION, "covariates: empty term '%s'", text);
    return LS_OK;
}

static int parse_term(const ls_table *t, const char *text, const ls_data *d, term *tm, ls_error *err)
{
    return parse_term_as(t, text, 0, 1, d->size_col, d->tokens_col, tm, err);
}

/* hint: a missing value is refused with a pointer to `drop_incomplete`. */
static int eval_term(const ls_table *t, const term *tm, size_t row, int hint, double *v, ls_error *err)
{
    double prod = 1.0;
    for (size_t k = 0; k < tm->nf; k++) {
        double x;
        int miss;
        int rc = ls_table_number(t, row, (size_t)tm->col[k], &x, &miss, err);
        if (rc) return rc;
        const char *name = ls_table_colname(t, (size_t)tm->col[k]);
        if (miss)
            return ls_fail(err, LS_ERR_INPUT, "%s:%zu:%ld: column '%s': covariate is missing%s",
                           ls_table_name(t), ls_table_line(t, row), tm->col[k] + 1, name,
                           hint ? " (drop such rows with `drop_incomplete`)" : "");
        if (tm->log[k]) {
            if (!(x > 0))
                return ls_fail(err, LS_ERR_INPUT,
                               "%s:%zu:%ld: column '%s': log needs a positive value, found '%s'",
                               ls_table_name(t), ls_table_line(t, row), tm->col[k] + 1, name,
                               ls_table_cell(t, row, (size_t)tm->col[k]));
            x = log(x);
        }
        prod *= x;
    }
    *v = prod;
    return LS_OK;
}

/* ---------------------------------------------------------------- */
/* Build                                                             */
/* ---------------------------------------------------------------- */

void ls_data_free(ls_data *d)
{
    if (!d) return;
    ls_free(d->source);
    ls_strv_free(d->model, d->n);
    ls_strv_free(d->family, d->F);
    ls_strv_free(d->bench, d->J);
    ls_strv_free(d->covariate, d->p);
    ls_free(d->family_of);
    ls_free(d->fam_nrows);
    ls_free(d->x_raw);
    ls_free(d->x);
    ls_free(d->x_mean);
    ls_free(d->x_sd);
    ls_free(d->y);
    ls_free(d->floor);
    ls_free(d->ceil);
    ls_free(d->cell);
    ls_free(d->cell_start);
    ls_free(d->trow);
    ls_strv_free(d->dropped, d->ndropped);
    ls_free(d->warning);
    ls_free(d);
}

/*
 * Default benchmark detection.  A column whose cells are all numbers (or
 * missing) is a benchmark; one that is mostly text (names, dates, notes) is
 * not.  A column of numbers with a few stray words is an error, not a text
 * column: dropping a whole benchmark because of one typo would change the
 * fit without a word.  *numeric gets 1 or 0.
 */
static int column_kind(const ls_table *t, size_t c, int *numeric, ls_error *err)
{
    size_t nrow = ls_table_nrow(t), nnum = 0, ntext = 0, first_text = 0;
    for (size_t r = 0; r < nrow; r++) {
        double v;
        int miss;
        if (ls_table_number(t, r, c, &v, &miss, NULL) != LS_OK) {
            if (!ntext++) first_text = r;
        } else if (!miss)
            nnum++;
    }
    *numeric = ntext == 0; /* an all-missing column counts; it is rejected later */
    if (ntext == 0 || nnum <= ntext) return LS_OK;
    double v;
    int miss;
    ls_error e;
    ls_table_number(t, first_text, c, &v, &miss, &e);
    return ls_fail(err, LS_ERR_INPUT,
                   "%s (%zu of the column's %zu filled cells are numbers; fix the cell or "
                   "choose the benchmarks with `benchmarks`)",
                   e.message, nnum, nnum + ntext);
}

/*
 * Floors and ceilings (the mean is c_j + (d_j - c_j) logistic(eta)): file
 * first, then name=value overrides.  One file serves several leaderboards
 * (benchmarks.csv lists all twelve; v1 has six), so a name that is not
 * fitted is skipped; but a file that sets none of the fitted benchmarks is
 * the wrong file or misspells them all, and a name listed twice is
 * ambiguous: both are errors.  Floors lie in [0, 1), ceilings in (0, 1],
 * and each benchmark's floor must be below its ceiling.
 */
typedef struct bound_kind {
    const char *column; /* "floor" or "ceiling" */
    const char *option; /* the option's field: "floors" or "ceilings" */
    const char *range;  /* "[0, 1)" or "(0, 1]" */
    int ceiling;
} bound_kind;

static int bound_ok(const bound_kind *k, double v)
{
    return k->ceiling ? v > 0 && v <= 1 : v >= 0 && v < 1;
}

static int read_bounds_file(const char *path, const bound_kind *k, ls_data *d, double *dst,
                            ls_error *err)
{
    ls_table *ft = NULL;
    int rc = ls_table_read(path, &ft, err);
    if (rc) return rc;
    long cb = ls_table_find(ft, "benchmark"), cf = ls_table_find(ft, k->column);
    size_t nr = ls_table_nrow(ft), matched = 0;
    if (cb < 0 || cf < 0)
        rc = ls_fail(err, LS_ERR_INPUT, "%s:1: expected columns 'benchmark' and '%s'", path, k->column);
    else if (nr == 0)
        rc = ls_fail(err, LS_ERR_INPUT, "%s: no data rows (expected benchmark,%s rows)", path, k->column);
    for (size_t r = 0; r < nr && !rc; r++) {
        const char *name = ls_table_cell(ft, r, (size_t)cb);
        double v;
        int miss;
        if (!*name) {
            rc = ls_fail(err, LS_ERR_INPUT, "%s:%zu:%ld: column 'benchmark': empty benchmark name",
                         path, ls_table_line(ft, r), cb + 1);
            break;
        }
        for (size_t q = 0; q < r; q++)
            if (strcmp(ls_table_cell(ft, q, (size_t)cb), name) == 0) {
                rc = ls_fail(err, LS_ERR_INPUT,
                             "%s:%zu:%ld: benchmark '%.60s' is listed twice (also on line %zu)",
                             path, ls_table_line(ft, r), cb + 1, name, ls_table_line(ft, q));
                break;
            }
        if (rc) break;
        rc = ls_table_number(ft, r, (size_t)cf, &v, &miss, err);
        if (rc) break;
        if (miss || !bound_ok(k, v)) {
            rc = ls_fail(err, LS_ERR_INPUT,
                         "%s:%zu:%ld: column '%s': expected a number in %s, found '%.60s'",
                         path, ls_table_line(ft, r), cf + 1, k->column, k->range,
                         ls_table_cell(ft, r, (size_t)cf));
            break;
        }
        size_t hits = 0;
        for (size_t j = 0; j < d->J; j++)
            if (strcmp(d->bench[j], name) == 0) {
                dst[j] = v;
                hits++;
            }
        /* rows for benchmarks the data lack are fine (one file for many
         * leaderboards), but one that differs only in case is a typo whose
         * bound would silently be 0 (or 1) */
        for (size_t j = 0; j < d->J && !hits; j++)
            if (strcasecmp(d->bench[j], name) == 0) {
                rc = ls_fail(err, LS_ERR_INPUT, "%s:%zu: benchmark '%.60s' is not in the data; did you mean '%.60s'?",
                             path, ls_table_line(ft, r), name, d->bench[j]);
                break;
            }
        matched += hits;
    }
    if (!rc && matched == 0)
        rc = ls_fail(err, LS_ERR_INPUT,
                     "%s: names none of the fitted benchmarks (its first is '%.60s', the first "
                     "fitted is '%.60s')",
                     path, ls_table_cell(ft, 0, (size_t)cb), d->bench[0]);
    ls_table_free(ft);
    return rc;
}

int ls_bound_overrides(const char *list, const char *option, int ceiling, char *const *names,
                       size_t nnames, double *dst, ls_error *err)
{
    const bound_kind kk = {ceiling ? "ceiling" : "floor", option, ceiling ? "(0, 1]" : "[0, 1)", ceiling};
    const bound_kind *k = &kk;
    int rc = LS_OK;
    if (list && *list) {
        char **items;
        size_t n;
        rc = ls_split(list, &items, &n, err);
        if (rc) return rc;
        for (size_t q = 0; q < n && !rc; q++) {
            char *eq = strchr(items[q], '=');
            if (!eq) {
                rc = ls_fail(err, LS_ERR_OPTION, "%s: expected name=value, found '%.60s'", k->option,
                             items[q]);
                break;
            }
            *eq = '\0';
            for (char *e = eq; e > items[q] && (e[-1] == ' ' || e[-1] == '\t');) *--e = '\0';
            char *end;
            double v = strtod(eq + 1, &end);
            if (end == eq + 1 || *end || !bound_ok(k, v)) {
                rc = ls_fail(err, LS_ERR_OPTION, "`%s` %.60s: expected a number in %s, found '%.60s'",
                             k->option, items[q], k->range, eq + 1);
                break;
            }
            size_t j = 0;
            while (j < nnames && strcmp(names[j], items[q]) != 0) j++;
            if (j == nnames) {
                rc = ls_fail(err, LS_ERR_OPTION, "%s: unknown benchmark '%.60s'", k->option, items[q]);
                break;
            }
            dst[j] = v;
        }
        ls_strv_free(items, n);
    }
    return rc;
}

static int read_bounds(const char *file, const char *list, const bound_kind *k, ls_data *d,
                       double *dst, ls_error *err)
{
    if (file) {
        int rc = read_bounds_file(file, k, d, dst, err);
        if (rc) return rc;
    }
    return ls_bound_overrides(list, k->option, k->ceiling, d->bench, d->J, dst, err);
}

static int read_floors_and_ceilings(const ls_data_options *o, ls_data *d, ls_error *err)
{
    static const bound_kind fk = {"floor", "floors", "[0, 1)", 0};
    static const bound_kind ck = {"ceiling", "ceilings", "(0, 1]", 1};
    for (size_t j = 0; j < d->J; j++) {
        d->floor[j] = 0;
        d->ceil[j] = 1;
    }
    int rc = read_bounds(o->floors_file, o->floors, &fk, d, d->floor, err);
    if (!rc) rc = read_bounds(o->ceilings_file, o->ceilings, &ck, d, d->ceil, err);
    for (size_t j = 0; j < d->J && !rc; j++)
        if (!(d->ceil[j] - d->floor[j] >= 0.01))
            rc = ls_fail(err, LS_ERR_OPTION,
                         "benchmark '%.60s': the ceiling %g must exceed the floor %g by at least 0.01",
                         d->bench[j], d->ceil[j], d->floor[j]);
    return rc;
}

/*
 * Degenerate designs the likelihood cannot resolve, caught before a fit
 * would report them as numbers.  Collinear covariates: modified Gram-Schmidt
 * on the standardised columns, in order, so the message names the first
 * term that the earlier ones explain.
 */
static int check_collinear(const ls_data *d, const char *src, ls_error *err)
{
    size_t n = d->n, p = d->p;
    if (p < 2) return LS_OK;
    double *q = ls_malloc(n * p * sizeof *q);
    if (!q) return ls_nomem(err);
    int rc = LS_OK;
    for (size_t k = 0; k < p && !rc; k++) {
        double *v = q + k * n, ss = 0;
        for (size_t r = 0; r < n; r++) v[r] = d->x[r * p + k];
        for (size_t e = 0; e < k; e++) {
            const double *u = q + e * n;
            double dot = 0;
            for (size_t r = 0; r < n; r++) dot += v[r] * u[r];
            for (size_t r = 0; r < n; r++) v[r] -= dot * u[r];
        }
        for (size_t r = 0; r < n; r++) ss += v[r] * v[r];
        /* the standardised column has sum of squares n */
        if (!(ss > COLLINEAR_TOL * (double)n)) {
            rc = ls_fail(err, LS_ERR_INPUT,
                         "%s: covariate '%s' is a linear combination of the covariates before it "
                         "(%zu rows); its effects cannot be identified; drop it with `covariates`",
                         src, d->covariate[k], n);
            break;
        }
        double inv = 1 / sqrt(ss);
        for (size_t r = 0; r < n; r++) v[r] *= inv;
    }
    ls_free(q);
    return rc;
}

/* A benchmark whose observed scores are all equal (after clipping): its
 * Beta precision phi grows without bound and the fit cannot converge. */
static int check_constant_benchmarks(const ls_data *d, const char *src, ls_error *err)
{
    for (size_t j = 0; j < d->J; j++) {
        size_t seen = 0;
        double first = NAN;
        int differs = 0;
        for (size_t r = 0; r < d->n && !differs; r++) {
            double v = d->y[r * d->J + j];
            if (isnan(v)) continue;
            if (seen++ == 0) first = v;
            else if (v != first) differs = 1;
        }
        if (!differs && seen >= 2)
            return ls_fail(err, LS_ERR_INPUT,
                           "%s: benchmark '%s': all %zu observed scores are equal (%g after "
                           "clipping), so its precision cannot be estimated; leave it out with "
                           "`benchmarks`",
                           src, d->bench[j], seen, first);
    }
    return LS_OK;
}

/*
 * Units.  The model's covariates are log(size) with size in billions of
 * parameters and log(tokens) with tokens in trillions; raw counts (7e9,
 * 2e12) shift the logs by 21 and 28 and silently wreck the fit.  No model
 * has 1e5 billion parameters or was trained on 1e5 trillion tokens, so a
 * median above 1e5 in a covariate source named size or tokens is a count.
 * Runs after the rows were read, so every value is a number.
 */
static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int check_units(const ls_table *t, const ls_data *d, const term *terms, size_t ncov, ls_error *err)
{
    static const struct { const char *col, *unit, *div; } u[] = {
        {"size", "billions of parameters", "1e9"}, {"tokens", "trillions of tokens", "1e12"}};
    const char *names[2] = {d->size_col, d->tokens_col};
    size_t nrow = d->n;
    for (size_t w = 0; w < 2; w++) {
        long c = ls_table_find(t, names[w]), used = 0;
        for (size_t k = 0; k < ncov && c >= 0 && !used; k++)
            for (size_t q = 0; q < terms[k].nf; q++) used |= terms[k].col[q] == c;
        if (!used) continue;
        double *v = ls_malloc((nrow ? nrow : 1) * sizeof *v);
        if (!v) return ls_nomem(err);
        size_t n = 0;
        for (size_t r = 0; r < nrow; r++) {
            double x;
            int miss;
            if (ls_table_number(t, d->trow[r], (size_t)c, &x, &miss, err) == LS_OK && !miss) v[n++] = x;
        }
        double med = 0;
        if (n) {
            qsort(v, n, sizeof *v, cmp_double);
            med = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
        }
        ls_free(v);
        if (med > 1e5)
            return ls_fail(err, LS_ERR_INPUT,
                           "%s: column '%s': %s is in %s: found a median of %g; divide by %s",
                           ls_table_name(t), names[w], u[w].col, u[w].unit, med, u[w].div);
    }
    return LS_OK;
}

/* "a", "a or b", "a, b or c": the distinct source columns of the covariate
 * terms, for the drop warning. */
static void covariate_sources(const ls_table *t, const term *terms, size_t ncov, char *out, size_t n)
{
    long seen[64];
    size_t ns = 0;
    for (size_t k = 0; k < ncov; k++)
        for (size_t q = 0; q < terms[k].nf; q++) {
            size_t i = 0;
            while (i < ns && seen[i] != terms[k].col[q]) i++;
            if (i == ns && ns < 64) seen[ns++] = terms[k].col[q];
        }
    size_t k = 0;
    out[0] = '\0';
    for (size_t i = 0; i < ns && k + 1 < n; i++) {
        const char *sep = i == 0 ? "" : i + 1 == ns ? " or " : ", ";
        int w = snprintf(out + k, n - k, "%s%.40s", sep, ls_table_colname(t, (size_t)seen[i]));
        if (w < 0) break;
        k += (size_t)w < n - k ? (size_t)w : n - k - 1;
    }
}

/* Append up to 10 names of v (n of them) to the buffer, then "and N more". */
static void list_names(char *buf, size_t cap, char *const *v, size_t n)
{
    size_t k = strlen(buf);
    for (size_t i = 0; i < n && i < 10 && k + 1 < cap; i++) {
        int w = snprintf(buf + k, cap - k, "%s%.60s", i ? ", " : "", v[i]);
        if (w < 0) return;
        k += (size_t)w < cap - k ? (size_t)w : cap - k - 1;
    }
    if (n > 10 && k + 1 < cap) snprintf(buf + k, cap - k, " and %zu more", n - 10);
}

/*
 * drop_incomplete: the table rows kept (rows[0..*nkeep)), in table order,
 * without the rows missing a covariate value and the rows of families with
 * no score on the chosen benchmarks (among the remaining rows).  The
 * dropped models' names and the warning naming them go into d.  Without
 * the option every row is kept (its errors come from the build).
 */
static int incomplete_rows(const ls_table *t, const ls_data_options *o, long cm, long cfam,
                           const term *terms, size_t ncov, const size_t *bcol, size_t nb,
                           ls_data *d, size_t *rows, size_t *nkeep, ls_error *err)
{
    size_t nrow = ls_table_nrow(t);
    *nkeep = 0;
    if (!o->drop_incomplete) {
        for (size_t r = 0; r < nrow; r++) rows[(*nkeep)++] = r;
        return LS_OK;
    }
    char *keep = ls_calloc(nrow, 1);
    char **fn = ls_calloc(nrow, sizeof *fn);           /* family names (borrowed) */
    char **dropf = ls_calloc(nrow, sizeof *dropf);     /* dropped families (borrowed) */
    size_t *famid = ls_calloc(nrow, sizeof *famid);
    char *has = ls_calloc(nrow, 1);
    name_index fx = {NULL, 0};
    int rc = LS_OK;
    if (!keep || !fn || !dropf || !famid || !has || name_index_init(&fx, nrow)) {
        rc = ls_nomem(err);
        goto done;
    }
    size_t nocov = 0, nofam = 0, nf = 0, ndf = 0;
    for (size_t r = 0; r < nrow; r++) {
        keep[r] = 1;
        for (size_t k = 0; k < ncov && keep[r]; k++)
            for (size_t q = 0; q < terms[k].nf && keep[r]; q++) {
                double x;
                int miss = 0;
                if (ls_table_number(t, r, (size_t)terms[k].col[q], &x, &miss, NULL) == LS_OK && miss) keep[r] = 0;
            }
        if (!keep[r]) { nocov++; continue; }
        const char *fname = ls_table_cell(t, r, (size_t)cfam);
        size_t g = name_index_find(&fx, fn, fname, 0, 0);
        if (g == (size_t)-1) {
            g = nf++;
            fn[g] = (char *)fname;
            name_index_find(&fx, fn, fname, 1, g);
        }
        famid[r] = g;
        for (size_t j = 0; j < nb && !has[g]; j++) {
            double v;
            int miss = 0;
            /* a cell that is not a number counts as a score: the build names it */
            if (ls_table_number(t, r, bcol[j], &v, &miss, NULL) != LS_OK || !miss) has[g] = 1;
        }
    }
    for (size_t r = 0; r < nrow; r++) {
        if (keep[r] && !has[famid[r]]) {
            keep[r] = 0;
            nofam++;
            size_t i = 0;
            while (i < ndf && strcmp(dropf[i], fn[famid[r]]) != 0) i++;
            if (i == ndf) dropf[ndf++] = fn[famid[r]];
        }
        if (keep[r]) rows[(*nkeep)++] = r;
    }
    if (*nkeep == nrow) goto done;
    if (*nkeep == 0) {
        rc = ls_fail(err, LS_ERR_INPUT, "%s: `drop_incomplete` leaves no rows (%zu missing a covariate, %zu "
                     "in families with no score on the chosen benchmarks)", ls_table_name(t), nocov, nofam);
        goto done;
    }
    d->ndropped = nrow - *nkeep;
    d->dropped = ls_calloc(d->ndropped, sizeof *d->dropped);
    if (!d->dropped) { d->ndropped = 0; rc = ls_nomem(err); goto done; }
    for (size_t r = 0, i = 0; r < nrow; r++)
        if (!keep[r]) {
            const char *m = ls_table_cell(t, r, (size_t)cm);
            char line[32];
            snprintf(line, sizeof line, "(line %zu)", ls_table_line(t, r));
            if (!(d->dropped[i++] = ls_strdup(*m ? m : line))) { rc = ls_nomem(err); goto done; }
        }
    char buf[2048], src[160];
    covariate_sources(t, terms, ncov, src, sizeof src);
    int w = snprintf(buf, sizeof buf, "drop_incomplete: dropped %zu of %zu models (", d->ndropped, nrow);
    if (nocov) w += snprintf(buf + w, sizeof buf - (size_t)w, "%zu missing %s%s", nocov, src, nofam ? "; " : "");
    if (nofam) {
        if (ndf == 1)
            snprintf(buf + w, sizeof buf - (size_t)w, "%zu in a family with no score on the chosen benchmarks: ", nofam);
        else
            snprintf(buf + w, sizeof buf - (size_t)w, "%zu in %zu families with no score on the chosen benchmarks: ",
                     nofam, ndf);
        list_names(buf, sizeof buf, dropf, ndf);
    }
    size_t k = strlen(buf);
    snprintf(buf + k, sizeof buf - k, "): ");
    list_names(buf, sizeof buf, d->dropped, d->ndropped);
    if (!(d->warning = ls_strdup(buf))) rc = ls_nomem(err);
done:
    ls_free(keep);
    ls_free(fn);
    ls_free(dropf);
    ls_free(famid);
    ls_free(has);
    ls_free(fx.slot);
    return rc;
}

int ls_data_build(const ls_table *t, const ls_data_options *o, ls_data **out, ls_error *err)
{
    *out = NULL;
    int rc0 = ls_data_options_check(o, err);
    if (rc0) return rc0;
    const char *src = ls_table_name(t);
    size_t nrow = ls_table_nrow(t), ntab = nrow;
    if (nrow == 0) return ls_fail(err, LS_ERR_INPUT, "%s: no data rows", src);
    const char *scol = o->size_column ? o->size_column : "size";
    const char *tcol = o->tokens_column ? o->tokens_column : "tokens";
    const char *mcol = o->model_column ? o->model_column : "model";
    const char *fcol = o->family_column ? o->family_column : "family";
    long cm = ls_table_find(t, mcol), cfam = ls_table_find(t, fcol);
    if (cm < 0)
        return ls_fail(err, LS_ERR_INPUT, "%s:1: missing required column '%.60s'", src, mcol);
    if (cfam < 0)
        return ls_fail(err, LS_ERR_INPUT, "%s:1: missing required column '%.60s'", src, fcol);

    int rc = LS_OK;
    char **cov = NULL, **bn = NULL;
    size_t ncov = 0, nb = 0;
    term *terms = NULL;
    size_t *bcol = NULL, *cursor = NULL;
    name_index models = {NULL, 0}, fams = {NULL, 0};
    int bench_default = !(o->benchmarks && *o->benchmarks);
    ls_data *d = ls_calloc(1, sizeof *d);
    if (!d) return ls_nomem(err);

    /* covariate terms */
    rc = ls_split(o->covariates && *o->covariates ? o->covariates : DEFAULT_COVARIATES, &cov,
                  &ncov, err);
    if (rc) goto fail;
    terms = ls_calloc(ncov, sizeof *terms);
    if (!terms) { rc = ls_nomem(err); goto fail; }
    int cov_default = !(o->covariates && *o->covariates);
    for (size_t k = 0; k < ncov && !rc; k++) rc = parse_term_as(t, cov[k], cov_default, 0, scol, tcol, &terms[k], err);
    if (rc) goto fail;

    /* benchmark columns */
    size_t ncol = ls_table_ncol(t);
    bcol = ls_calloc(ncol, sizeof *bcol);
    if (!bcol) { rc = ls_nomem(err); goto fail; }
    if (o->benchmarks && *o->benchmarks) {
        rc = ls_split(o->benchmarks, &bn, &nb, err);
        if (rc) goto fail;
        if (nb > ncol) { rc = ls_fail(err, LS_ERR_OPTION, "benchmarks: too many names"); goto fail; }
        for (size_t k = 0; k < nb; k++) {
            long c = ls_table_find(t, bn[k]);
            if (c < 0) {
                rc = ls_fail(err, LS_ERR_OPTION, "benchmarks: unknown column '%s' in %s",
                             bn[k], src);
                goto fail;
            }
            for (size_t q = 0; q < k; q++)
                if (bcol[q] == (size_t)c) {
                    rc = ls_fail(err, LS_ERR_OPTION, "benchmarks: '%s' named twice", bn[k]);
                    goto fail;
                }
            bcol[k] = (size_t)c;
        }
    } else {
        for (size_t c = 0; c < ncol; c++) {
            const char *name = ls_table_colname(t, c);
            /* "(row)": an index column (pandas, R) that ls_items_table_read named */
            int used = (long)c == cm || (long)c == cfam || strcmp(name, "flops") == 0 ||
                       strcmp(name, LS_ROW_NAMES) == 0;
            for (size_t k = 0; k < ncov && !used; k++)
                for (size_t q = 0; q < terms[k].nf; q++)
                    if ((size_t)terms[k].col[q] == c) used = 1;
            int numeric = 0;
            if (!used) {
                rc = column_kind(t, c, &numeric, err);
                if (rc) goto fail;
            }
            if (numeric) bcol[nb++] = c;
        }
        if (nb == 0) {
            rc = ls_fail(err, LS_ERR_INPUT, "%s: no numeric benchmark columns found", src);
            goto fail;
        }
    }

    snprintf(d->size_col, sizeof d->size_col, "%s", scol);
    snprintf(d->tokens_col, sizeof d->tokens_col, "%s", tcol);
    d->drop_incomplete = o->drop_incomplete;
    d->trow = ls_calloc(ntab, sizeof *d->trow);
    if (!d->trow) { rc = ls_nomem(err); goto fail; }
    rc = incomplete_rows(t, o, cm, cfam, terms, ncov, bcol, nb, d, d->trow, &nrow, err);
    if (rc) goto fail;
    d->n = nrow;
    d->J = nb;
    d->p = ncov;
    d->source = ls_strdup(src);
    d->clip = o->clip;
    snprintf(d->model_col, sizeof d->model_col, "%s", mcol);
    snprintf(d->family_col, sizeof d->family_col, "%s", fcol);
    d->model = ls_calloc(nrow, sizeof *d->model);
    d->bench = ls_calloc(nb, sizeof *d->bench);
    d->covariate = ls_calloc(ncov, sizeof *d->covariate);
    d->family = ls_calloc(nrow, sizeof *d->family); /* at most n families */
    d->family_of = ls_calloc(nrow, sizeof *d->family_of);
    d->fam_nrows = ls_calloc(nrow, sizeof *d->fam_nrows);
    d->x_raw = ls_calloc(nrow * (ncov ? ncov : 1), sizeof(double));
    d->x = ls_calloc(nrow * (ncov ? ncov : 1), sizeof(double));
    d->x_mean = ls_calloc(ncov ? ncov : 1, sizeof(double));
    d->x_sd = ls_calloc(ncov ? ncov : 1, sizeof(double));
    d->y = ls_calloc(nrow * nb, sizeof(double));
    d->floor = ls_calloc(nb, sizeof(double));
    d->ceil = ls_calloc(nb, sizeof(double));
    if (!d->source || !d->model || !d->bench || !d->covariate || !d->family || !d->family_of ||
        !d->fam_nrows || !d->x_raw || !d->x || !d->x_mean || !d->x_sd || !d->y || !d->floor || !d->ceil) {
        rc = ls_nomem(err);
        goto fail;
    }
    for (size_t j = 0; j < nb; j++)
        if (!(d->bench[j] = ls_strdup(ls_table_colname(t, bcol[j])))) { rc = ls_nomem(err); goto fail; }
    for (size_t k = 0; k < ncov; k++)
        if (!(d->covariate[k] = ls_strdup(cov[k]))) { rc = ls_nomem(err); goto fail; }

    rc = read_floors_and_ceilings(o, d, err);
    if (rc) goto fail;

    /* rows: names, families, covariates, scores */
    if (name_index_init(&models, nrow) || name_index_init(&fams, nrow)) {
        rc = ls_nomem(err);
        goto fail;
    }
    for (size_t r = 0; r < nrow; r++) {
        size_t tr = d->trow[r]; /* its table row */
        const char *mname = ls_table_cell(t, tr, (size_t)cm);
        const char *fname = ls_table_cell(t, tr, (size_t)cfam);
        if (!*mname) {
            rc = ls_fail(err, LS_ERR_INPUT, "%s:%zu:%ld: column '%s': empty model name", src,
                         ls_table_line(t, tr), cm + 1, mcol);
            goto fail;
        }
        if (!*fname) {
            rc = ls_fail(err, LS_ERR_INPUT, "%s:%zu:%ld: column '%s': empty family name", src,
                         ls_table_line(t, tr), cfam + 1, fcol);
            goto fail;
        }
        if (!(d->model[r] = ls_strdup(mname))) { rc = ls_nomem(err); goto fail; }
        if (name_index_find(&models, d->model, mname, 1, r) != (size_t)-1) d->ndup++;
        size_t f = name_index_find(&fams, d->family, fname, 0, 0);
        if (f == (size_t)-1) {
            f = d->F;
            if (!(d->family[f] = ls_strdup(fname))) { rc = ls_nomem(err); goto fail; }
            name_index_find(&fams, d->family, fname, 1, f);
            d->F++;
        }
        d->family_of[r] = f;
        d->fam_nrows[f]++;
        for (size_t k = 0; k < ncov; k++) {
            rc = eval_term(t, &terms[k], tr, 1, &d->x_raw[r * ncov + k], err);
            if (rc) goto fail;
        }
        for (size_t j = 0; j < nb; j++) {
            double v;
            int miss;
            rc = ls_table_number(t, tr, bcol[j], &v, &miss, err);
            if (rc) goto fail;
            if (!miss && (v < 0 || v > 1)) {
                rc = ls_fail(err, LS_ERR_INPUT,
                             "%s:%zu:%zu: column '%s': expected a score in [0, 1], found '%.60s'%s",
                             src, ls_table_line(t, tr), bcol[j] + 1, d->bench[j],
                             ls_table_cell(t, tr, bcol[j]),
                             bench_default ? " (every other numeric column is a benchmark unless "
                                             "`benchmarks` names them)"
                                           : "");
                goto fail;
            }
            if (!miss && (v < o->clip || v > 1 - o->clip)) {
                v = v < o->clip ? o->clip : 1 - o->clip;
                d->nclipped++;
            }
            d->y[r * nb + j] = v;
            if (!miss) d->ncell++;
        }
    }

    rc = check_units(t, d, terms, ncov, err);
    if (rc) goto fail;

    /* every benchmark and every family needs an observed score */
    for (size_t j = 0; j < nb; j++) {
        size_t seen = 0;
        for (size_t r = 0; r < nrow; r++) seen += !isnan(d->y[r * nb + j]);
        if (!seen) {
            rc = ls_fail(err, LS_ERR_INPUT, "%s: benchmark '%s' has no observed scores", src,
                         d->bench[j]);
            goto fail;
        }
    }
    /* cells grouped by family, rows in file order within a family (a
     * counting sort: one pass to count, one to place) */
    d->cell_start = ls_calloc(d->F + 1, sizeof *d->cell_start);
    d->cell = ls_calloc(d->ncell, sizeof *d->cell);
    cursor = ls_calloc(d->F, sizeof *cursor);
    if (!d->cell_start || !d->cell || !cursor) { rc = ls_nomem(err); goto fail; }
    for (size_t r = 0; r < nrow; r++)
        for (size_t j = 0; j < nb; j++)
            d->cell_start[d->family_of[r] + 1] += !isnan(d->y[r * nb + j]);
    for (size_t f = 0; f < d->F; f++) {
        if (d->cell_start[f + 1] == 0) {
            size_t r = 0;
            while (d->family_of[r] != f) r++;
            rc = ls_fail(err, LS_ERR_INPUT,
                         "%s:%zu: family '%s' has no observed scores on the chosen benchmarks "
                         "(drop such families with `drop_incomplete`)",
                         src, ls_table_line(t, d->trow[r]), d->family[f]);
            goto fail;
        }
        d->cell_start[f + 1] += d->cell_start[f];
        cursor[f] = d->cell_start[f];
    }
    for (size_t r = 0; r < nrow; r++)
        for (size_t j = 0; j < nb; j++) {
            double v = d->y[r * nb + j];
            if (isnan(v)) continue;
            ls_cell *c = &d->cell[cursor[d->family_of[r]]++];
            c->row = (uint32_t)r;
            c->j = (uint32_t)j;
            c->ly = log(v);
            c->l1y = log1p(-v);
        }

    /* standardise covariates (divisor n) */
    for (size_t k = 0; k < ncov; k++) {
        double m = 0, s = 0;
        for (size_t r = 0; r < nrow; r++) m += d->x_raw[r * ncov + k];
        m /= (double)nrow;
        for (size_t r = 0; r < nrow; r++) {
            double e = d->x_raw[r * ncov + k] - m;
            s += e * e;
        }
        s = sqrt(s / (double)nrow);
        if (!(s > 1e-12 * (1 + fabs(m)))) {
            rc = ls_fail(err, LS_ERR_INPUT,
                         "%s: covariate '%s' is constant over all rows; drop it with `covariates`",
                         src, cov[k]);
            goto fail;
        }
        d->x_mean[k] = m;
        d->x_sd[k] = s;
        for (size_t r = 0; r < nrow; r++) d->x[r * ncov + k] = (d->x_raw[r * ncov + k] - m) / s;
    }
    rc = check_collinear(d, src, err);
    if (rc) goto fail;
    rc = check_constant_benchmarks(d, src, err);
    if (rc) goto fail;

    ls_strv_free(cov, ncov);
    ls_strv_free(bn, nb && o->benchmarks && *o->benchmarks ? nb : 0);
    ls_free(terms);
    ls_free(bcol);
    ls_free(cursor);
    ls_free(models.slot);
    ls_free(fams.slot);
    *out = d;
    return LS_OK;

fail:
    ls_strv_free(cov, ncov);
    if (o->benchmarks && *o->benchmarks) ls_strv_free(bn, nb);
    ls_free(terms);
    ls_free(bcol);
    ls_free(cursor);
    ls_free(models.slot);
    ls_free(fams.slot);
    /* d->F and d->n bound the name arrays; unset names are NULL */
    d->n = d->model ? nrow : 0;
    d->J = d->bench ? nb : 0;
    d->p = d->covariate ? ncov : 0;
    if (d->family) {
        ls_strv_free(d->family, nrow);
        d->family = NULL;
        d->F = 0;
    }
    ls_data_free(d);
    return rc;
}

/* ---------------------------------------------------------------- */
/* Accessors                                                         */
/* ---------------------------------------------------------------- */

size_t ls_data_nmodels(const ls_data *d) { return d->n; }
size_t ls_data_nfamilies(const ls_data *d) { return d->F; }
size_t ls_data_nbenchmarks(const ls_data *d) { return d->J; }
size_t ls_data_ncovariates(const ls_data *d) { return d->p; }
size_t ls_data_nobserved(const ls_data *d) { return d->ncell; }
size_t ls_data_nclipped(const ls_data *d) { return d->nclipped; }
size_t ls_data_nduplicates(const ls_data *d) { return d->ndup; }
const char *ls_data_benchmark(const ls_data *d, size_t j) { return j < d->J ? d->bench[j] : NULL; }
const char *ls_data_covariate(const ls_data *d, size_t k) { return k < d->p ? d->covariate[k] : NULL; }
const char *ls_data_family(const ls_data *d, size_t f) { return f < d->F ? d->family[f] : NULL; }
const char *ls_data_model(const ls_data *d, size_t i) { return i < d->n ? d->model[i] : NULL; }
double ls_data_floor(const ls_data *d, size_t j) { return j < d->J ? d->floor[j] : NAN; }
double ls_data_ceiling(const ls_data *d, size_t j) { return j < d->J ? d->ceil[j] : NAN; }
const char *ls_data_source(const ls_data *d) { return d->source; }
const char *ls_data_model_column(const ls_data *d) { return d->model_col; }
const char *ls_data_family_column(const ls_data *d) { return d->family_col; }
const char *ls_data_size_column(const ls_data *d) { return d->size_col; }
const char *ls_data_tokens_column(const ls_data *d) { return d->tokens_col; }
size_t ls_data_ndropped(const ls_data *d) { return d->ndropped; }
const char *ls_data_dropped(const ls_data *d, size_t i) { return i < d->ndropped ? d->dropped[i] : NULL; }
const char *ls_data_warning(const ls_data *d) { return d->warning; }
size_t ls_data_family_of(const ls_data *d, size_t i) { return i < d->n ? d->family_of[i] : (size_t)-1; }
size_t ls_data_family_size(const ls_data *d, size_t f) { return f < d->F ? d->fam_nrows[f] : 0; }
const double *ls_data_covariate_values(const ls_data *d) { return d->x_raw; }
const double *ls_data_scores(const ls_data *d) { return d->y; }

int ls_data_families(const ls_data *d, const char *list, size_t *idx, size_t max, size_t *n,
                     ls_error *err)
{
    *n = 0;
    char **v = NULL;
    size_t nv = 0;
    int rc = ls_split(list, &v, &nv, err);
    if (rc) return rc;
    if (nv > max) rc = ls_fail(err, LS_ERR_OPTION, "at most %zu families, found %zu", max, nv);
    for (size_t i = 0; !rc && i < nv; i++) {
        long g = ls_data_find_family(d, v[i]);
        if (g < 0) {
            rc = ls_fail(err, LS_ERR_OPTION, "no family '%s' in %s", v[i], d->source);
            break;
        }
        for (size_t k = 0; k < i; k++)
            if (idx[k] == (size_t)g) rc = ls_fail(err, LS_ERR_OPTION, "'%s' named twice", v[i]);
        idx[i] = (size_t)g;
    }
    if (!rc) *n = nv;
    ls_strv_free(v, nv);
    return rc;
}

/* ---------------------------------------------------------------- */
/* Covariates of other rows (new models to predict)                  */
/* ---------------------------------------------------------------- */

int ls_data_covariates_of(const ls_data *d, const ls_table *t, double **x_raw, ls_error *err)
{
    *x_raw = NULL;
    size_t n = ls_table_nrow(t), p = d->p;
    term *terms = ls_calloc(p ? p : 1, sizeof *terms);
    double *x = ls_calloc(n * p + 1, sizeof(double));
    int rc = (!terms || !x) ? ls_nomem(err) : LS_OK;
    for (size_t k = 0; k < p && !rc; k++) rc = parse_term(t, d->covariate[k], d, &terms[k], err);
    for (size_t r = 0; r < n && !rc; r++)
        for (size_t k = 0; k < p && !rc; k++) rc = eval_term(t, &terms[k], r, 0, &x[r * p + k], err);
    ls_free(terms);
    if (rc) { ls_free(x); return rc; }
    *x_raw = x;
    return LS_OK;
}
