/*
 * leaderboard.c -- turn a leaderboard table into the scaling-law data:
 * pick benchmark and covariate columns, read floors, validate every score,
 * clip, standardise covariates, group observed cells by family.
 *
 * Covariates follow the spec (scaling-law.md, "Data"): by default
 * x = (log s, log t, log s * log t), standardised column-wise with mean and
 * sd (divisor n) over rows.
 */
#include "data/data.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_COVARIATES "log(size),log(tokens),log(size)*log(tokens)"
#define MAX_FACTORS 4

void ls_data_options_init(ls_data_options *o)
{
    memset(o, 0, sizeof *o);
    o->clip = 0.001;
    o->model_column = "model";
    o->family_column = "family";
}

/* ---------------------------------------------------------------- */
/* Covariate terms: factor ('*' factor)*, factor = col | log(col)     */
/* ---------------------------------------------------------------- */

typedef struct term {
    size_t nf;
    long col[MAX_FACTORS];
    int log[MAX_FACTORS];
} term;

static int parse_term(const ls_table *t, const char *text, term *tm, ls_error *err)
{
    memset(tm, 0, sizeof *tm);
    if (!*text) return ls_fail(err, LS_ERR_OPTION, "--covariates: empty term");
    char buf[256];
    if (strlen(text) >= sizeof buf)
        return ls_fail(err, LS_ERR_OPTION, "--covariates: term too long");
    strcpy(buf, text);
    char *save = NULL;
    for (char *f = strtok_r(buf, "*", &save); f; f = strtok_r(NULL, "*", &save)) {
        while (*f == ' ') f++;
        size_t len = strlen(f);
        while (len && f[len - 1] == ' ') f[--len] = '\0';
        if (tm->nf == MAX_FACTORS)
            return ls_fail(err, LS_ERR_OPTION, "--covariates: term '%s' has more than %d factors",
                           text, MAX_FACTORS);
        int lg = 0;
        if (len > 5 && strncmp(f, "log(", 4) == 0 && f[len - 1] == ')') {
            lg = 1;
            f[len - 1] = '\0';
            f += 4;
        }
        long c = ls_table_find(t, f);
        if (c < 0)
            return ls_fail(err, LS_ERR_OPTION, "--covariates: unknown column '%s' in %s", f,
                           ls_table_name(t));
        tm->col[tm->nf] = c;
        tm->log[tm->nf] = lg;
        tm->nf++;
    }
    if (tm->nf == 0) return ls_fail(err, LS_ERR_OPTION, "--covariates: empty term '%s'", text);
    return LS_OK;
}

static int eval_term(const ls_table *t, const term *tm, size_t row, double *v, ls_error *err)
{
    double prod = 1.0;
    for (size_t k = 0; k < tm->nf; k++) {
        double x;
        int miss;
        int rc = ls_table_number(t, row, (size_t)tm->col[k], &x, &miss, err);
        if (rc) return rc;
        const char *name = ls_table_colname(t, (size_t)tm->col[k]);
        if (miss)
            return ls_fail(err, LS_ERR_INPUT, "%s:%zu:%ld: column '%s': covariate is missing",
                           ls_table_name(t), ls_table_line(t, row), tm->col[k] + 1, name);
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
    ls_free(d->cell);
    ls_free(d->cell_start);
    ls_free(d);
}

static int column_is_numeric(const ls_table *t, size_t c)
{
    /* an all-missing column counts as numeric; it is rejected later */
    size_t nrow = ls_table_nrow(t);
    for (size_t r = 0; r < nrow; r++) {
        double v;
        int miss;
        if (ls_table_number(t, r, c, &v, &miss, NULL) != LS_OK) return 0;
    }
    return 1;
}

/* Floors: file first, then name=value overrides. */
static int read_floors(const ls_data_options *o, ls_data *d, ls_error *err)
{
    int rc = LS_OK;
    if (o->floors_file) {
        ls_table *ft = NULL;
        rc = ls_table_read(o->floors_file, &ft, err);
        if (rc) return rc;
        long cb = ls_table_find(ft, "benchmark"), cf = ls_table_find(ft, "floor");
        if (cb < 0 || cf < 0) {
            rc = ls_fail(err, LS_ERR_INPUT, "%s:1: expected columns 'benchmark' and 'floor'",
                         o->floors_file);
            ls_table_free(ft);
            return rc;
        }
        for (size_t r = 0; r < ls_table_nrow(ft) && !rc; r++) {
            const char *name = ls_table_cell(ft, r, (size_t)cb);
            double v;
            int miss;
            rc = ls_table_number(ft, r, (size_t)cf, &v, &miss, err);
            if (rc) break;
            if (miss || v < 0 || v >= 1) {
                rc = ls_fail(err, LS_ERR_INPUT,
                             "%s:%zu:%ld: column 'floor': expected a number in [0, 1), found '%s'",
                             o->floors_file, ls_table_line(ft, r), cf + 1,
                             ls_table_cell(ft, r, (size_t)cf));
                break;
            }
            for (size_t j = 0; j < d->J; j++)
                if (strcmp(d->bench[j], name) == 0) d->floor[j] = v;
        }
        ls_table_free(ft);
        if (rc) return rc;
    }
    if (o->floors && *o->floors) {
        char **items;
        size_t n;
        rc = ls_split(o->floors, &items, &n, err);
        if (rc) return rc;
        for (size_t k = 0; k < n && !rc; k++) {
            char *eq = strchr(items[k], '=');
            if (!eq) {
                rc = ls_fail(err, LS_ERR_OPTION, "--floor: expected name=value, found '%s'",
                             items[k]);
                break;
            }
            *eq = '\0';
            char *end;
            double v = strtod(eq + 1, &end);
            if (end == eq + 1 || *end || !(v >= 0 && v < 1)) {
                rc = ls_fail(err, LS_ERR_OPTION,
                             "--floor %s: expected a number in [0, 1), found '%s'", items[k],
                             eq + 1);
                break;
            }
            size_t j = 0;
            while (j < d->J && strcmp(d->bench[j], items[k]) != 0) j++;
            if (j == d->J) {
                rc = ls_fail(err, LS_ERR_OPTION, "--floor: unknown benchmark '%s'", items[k]);
                break;
            }
            d->floor[j] = v;
        }
        ls_strv_free(items, n);
    }
    return rc;
}

int ls_data_build(const ls_table *t, const ls_data_options *o, ls_data **out, ls_error *err)
{
    *out = NULL;
    if (!(o->clip > 0 && o->clip < 0.5))
        return ls_fail(err, LS_ERR_OPTION, "--clip: expected a number in (0, 0.5), found %g",
                       o->clip);
    const char *src = ls_table_name(t);
    size_t nrow = ls_table_nrow(t);
    if (nrow == 0) return ls_fail(err, LS_ERR_INPUT, "%s: no data rows", src);
    long cm = ls_table_find(t, o->model_column), cfam = ls_table_find(t, o->family_column);
    if (cm < 0)
        return ls_fail(err, LS_ERR_INPUT, "%s:1: missing required column '%s'", src,
                       o->model_column);
    if (cfam < 0)
        return ls_fail(err, LS_ERR_INPUT, "%s:1: missing required column '%s'", src,
                       o->family_column);

    int rc = LS_OK;
    char **cov = NULL, **bn = NULL;
    size_t ncov = 0, nb = 0;
    term *terms = NULL;
    size_t *bcol = NULL;
    ls_data *d = ls_calloc(1, sizeof *d);
    if (!d) return ls_nomem(err);

    /* covariate terms */
    rc = ls_split(o->covariates && *o->covariates ? o->covariates : DEFAULT_COVARIATES, &cov,
                  &ncov, err);
    if (rc) goto fail;
    terms = ls_calloc(ncov, sizeof *terms);
    if (!terms) { rc = ls_nomem(err); goto fail; }
    for (size_t k = 0; k < ncov && !rc; k++) rc = parse_term(t, cov[k], &terms[k], err);
    if (rc) goto fail;

    /* benchmark columns */
    size_t ncol = ls_table_ncol(t);
    bcol = ls_calloc(ncol, sizeof *bcol);
    if (!bcol) { rc = ls_nomem(err); goto fail; }
    if (o->benchmarks && *o->benchmarks) {
        rc = ls_split(o->benchmarks, &bn, &nb, err);
        if (rc) goto fail;
        if (nb > ncol) { rc = ls_fail(err, LS_ERR_OPTION, "--benchmarks: too many names"); goto fail; }
        for (size_t k = 0; k < nb; k++) {
            long c = ls_table_find(t, bn[k]);
            if (c < 0) {
                rc = ls_fail(err, LS_ERR_OPTION, "--benchmarks: unknown column '%s' in %s",
                             bn[k], src);
                goto fail;
            }
            for (size_t q = 0; q < k; q++)
                if (bcol[q] == (size_t)c) {
                    rc = ls_fail(err, LS_ERR_OPTION, "--benchmarks: '%s' named twice", bn[k]);
                    goto fail;
                }
            bcol[k] = (size_t)c;
        }
    } else {
        for (size_t c = 0; c < ncol; c++) {
            const char *name = ls_table_colname(t, c);
            int used = (long)c == cm || (long)c == cfam || strcmp(name, "flops") == 0;
            for (size_t k = 0; k < ncov && !used; k++)
                for (size_t q = 0; q < terms[k].nf; q++)
                    if ((size_t)terms[k].col[q] == c) used = 1;
            if (!used && column_is_numeric(t, c)) bcol[nb++] = c;
        }
        if (nb == 0) {
            rc = ls_fail(err, LS_ERR_INPUT, "%s: no numeric benchmark columns found", src);
            goto fail;
        }
    }

    d->n = nrow;
    d->J = nb;
    d->p = ncov;
    d->source = ls_strdup(src);
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
    if (!d->source || !d->model || !d->bench || !d->covariate || !d->family || !d->family_of ||
        !d->fam_nrows || !d->x_raw || !d->x || !d->x_mean || !d->x_sd || !d->y || !d->floor) {
        rc = ls_nomem(err);
        goto fail;
    }
    for (size_t j = 0; j < nb; j++)
        if (!(d->bench[j] = ls_strdup(ls_table_colname(t, bcol[j])))) { rc = ls_nomem(err); goto fail; }
    for (size_t k = 0; k < ncov; k++)
        if (!(d->covariate[k] = ls_strdup(cov[k]))) { rc = ls_nomem(err); goto fail; }

    rc = read_floors(o, d, err);
    if (rc) goto fail;

    /* rows: names, families, covariates, scores */
    for (size_t r = 0; r < nrow; r++) {
        const char *mname = ls_table_cell(t, r, (size_t)cm);
        const char *fname = ls_table_cell(t, r, (size_t)cfam);
        if (!*mname) {
            rc = ls_fail(err, LS_ERR_INPUT, "%s:%zu:%ld: column '%s': empty model name", src,
                         ls_table_line(t, r), cm + 1, o->model_column);
            goto fail;
        }
        if (!*fname) {
            rc = ls_fail(err, LS_ERR_INPUT, "%s:%zu:%ld: column '%s': empty family name", src,
                         ls_table_line(t, r), cfam + 1, o->family_column);
            goto fail;
        }
        if (!(d->model[r] = ls_strdup(mname))) { rc = ls_nomem(err); goto fail; }
        for (size_t q = 0; q < r; q++)
            if (strcmp(d->model[q], mname) == 0) { d->ndup++; break; }
        size_t f = 0;
        while (f < d->F && strcmp(d->family[f], fname) != 0) f++;
        if (f == d->F) {
            if (!(d->family[f] = ls_strdup(fname))) { rc = ls_nomem(err); goto fail; }
            d->F++;
        }
        d->family_of[r] = f;
        d->fam_nrows[f]++;
        for (size_t k = 0; k < ncov; k++) {
            rc = eval_term(t, &terms[k], r, &d->x_raw[r * ncov + k], err);
            if (rc) goto fail;
        }
        for (size_t j = 0; j < nb; j++) {
            double v;
            int miss;
            rc = ls_table_number(t, r, bcol[j], &v, &miss, err);
            if (rc) goto fail;
            if (!miss && (v < 0 || v > 1)) {
                rc = ls_fail(err, LS_ERR_INPUT,
                             "%s:%zu:%zu: column '%s': expected a score in [0, 1], found '%s'",
                             src, ls_table_line(t, r), bcol[j] + 1, d->bench[j],
                             ls_table_cell(t, r, bcol[j]));
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
    d->cell_start = ls_calloc(d->F + 1, sizeof *d->cell_start);
    d->cell = ls_calloc(d->ncell, sizeof *d->cell);
    if (!d->cell_start || !d->cell) { rc = ls_nomem(err); goto fail; }
    {
        size_t k = 0;
        for (size_t f = 0; f < d->F; f++) {
            d->cell_start[f] = k;
            for (size_t r = 0; r < nrow; r++) {
                if (d->family_of[r] != f) continue;
                for (size_t j = 0; j < nb; j++) {
                    double v = d->y[r * nb + j];
                    if (isnan(v)) continue;
                    d->cell[k].row = (uint32_t)r;
                    d->cell[k].j = (uint32_t)j;
                    d->cell[k].ly = log(v);
                    d->cell[k].l1y = log1p(-v);
                    k++;
                }
            }
            if (k == d->cell_start[f]) {
                size_t r = 0;
                while (d->family_of[r] != f) r++;
                rc = ls_fail(err, LS_ERR_INPUT,
                             "%s:%zu: family '%s' has no observed scores on the chosen benchmarks",
                             src, ls_table_line(t, r), d->family[f]);
                goto fail;
            }
        }
        d->cell_start[d->F] = k;
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
                         "%s: covariate '%s' is constant over all rows; drop it with --covariates",
                         src, cov[k]);
            goto fail;
        }
        d->x_mean[k] = m;
        d->x_sd[k] = s;
        for (size_t r = 0; r < nrow; r++) d->x[r * ncov + k] = (d->x_raw[r * ncov + k] - m) / s;
    }

    ls_strv_free(cov, ncov);
    ls_strv_free(bn, nb && o->benchmarks && *o->benchmarks ? nb : 0);
    ls_free(terms);
    ls_free(bcol);
    *out = d;
    return LS_OK;

fail:
    ls_strv_free(cov, ncov);
    if (o->benchmarks && *o->benchmarks) ls_strv_free(bn, nb);
    ls_free(terms);
    ls_free(bcol);
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
