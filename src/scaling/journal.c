/*
 * journal.c -- select's journal: the fits a selection has finished (per K:
 * the full fit, each cross-validation fold, the sibling hold-out), kept in
 * a small JSON file rewritten atomically after every fit, so that a select
 * killed part-way and run again on the same inputs reuses them.
 *
 * The file is keyed by a 64-bit FNV-1a hash of everything a fit's result
 * depends on: the version, the data as built (scores, covariates, floors,
 * ceilings, families, names), the fit options that change a fit, and the
 * folds.  A journal of other inputs is ignored (and replaced), as are
 * entries that do not parse.
 *
 *   {"kind": "select-journal", "version": "0.8.0", "key": "89ab...",
 *    "jobs": [{"K": 3, "job": 0, "value": 3043.8, "aic": .., "bic": ..,
 *              "n_params": 66, "converged": 1, "sampled": 0,
 *              "theta": [..the estimate, where the folds start..]},
 *             {"K": 3, "job": 1, "value": -512.3, "converged": 1}, ..]}
 *
 * job 0 is K's full fit (value: its log-likelihood), 1..folds the folds
 * (value: the fold's held-out log-likelihood), folds + 1 the sibling
 * hold-out (value: its MAE; since 0.19.0 also "family_abs" and
 * "family_cells", each held-out family's summed absolute error and its
 * cells, which the paired comparison of configurations needs).
 */
#include "scaling/tasks.h"
#include "kernel/json.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct fnv {
    uint64_t h;
} fnv;

static void fnv_bytes(fnv *s, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        s->h ^= b[i];
        s->h *= 0x100000001b3ULL;
    }
}

static void fnv_u64(fnv *s, uint64_t v) { fnv_bytes(s, &v, sizeof v); }

static void fnv_str(fnv *s, const char *t)
{
    /* NULL and "" differ; the length keeps "ab","c" apart from "a","bc" */
    fnv_u64(s, t ? (uint64_t)strlen(t) + 1 : 0);
    if (t) fnv_bytes(s, t, strlen(t));
}

static void fnv_dbl(fnv *s, double v)
{
    if (isnan(v)) v = NAN; /* one NaN */
    if (v == 0) v = 0;     /* one zero */
    fnv_bytes(s, &v, sizeof v);
}

uint64_t lss_select_key(const ls_data *d, const ls_fit_options *fo, unsigned folds)
{
    fnv s = {0xcbf29ce484222325ULL};
    fnv_str(&s, LS_VERSION);
    fnv_u64(&s, d->n);
    fnv_u64(&s, d->J);
    fnv_u64(&s, d->p);
    fnv_u64(&s, d->F);
    for (size_t i = 0; i < d->n * d->J; i++) fnv_dbl(&s, d->y[i]);
    for (size_t i = 0; i < d->n * d->p; i++) fnv_dbl(&s, d->x_raw[i]);
    for (size_t j = 0; j < d->J; j++) {
        fnv_dbl(&s, d->floor[j]);
        fnv_dbl(&s, d->ceil[j]);
        fnv_str(&s, d->bench[j]);
    }
    for (size_t i = 0; i < d->n; i++) {
        fnv_u64(&s, d->family_of[i]);
        fnv_str(&s, d->model[i]);
    }
    for (size_t f = 0; f < d->F; f++) fnv_str(&s, d->family[f]);
    for (size_t q = 0; q < d->p; q++) fnv_str(&s, d->covariate[q]);
    fnv_dbl(&s, d->clip);
    fnv_str(&s, fo->anchors);
    fnv_u64(&s, fo->starts);
    fnv_u64(&s, fo->seed);
    fnv_u64(&s, (uint64_t)(int64_t)fo->integration);
    fnv_u64(&s, fo->nodes);
    fnv_dbl(&s, fo->gtol);
    fnv_u64(&s, fo->max_iter);
    fnv_u64(&s, (uint64_t)(int64_t)fo->precision_covariates);
    fnv_u64(&s, (uint64_t)(int64_t)fo->family_effect);
    fnv_dbl(&s, fo->logit_clamp);
    fnv_str(&s, fo->estimate_ceilings);
    fnv_u64(&s, folds);
    return s.h;
}

static int get_num(const json_t *o, const char *k, double *v)
{
    const json_t *x = json_object_get(o, k);
    if (json_is_null(x)) { /* NaN, written as null */
        *v = NAN;
        return 1;
    }
    if (!json_is_number(x)) return 0;
    *v = json_number_value(x);
    return 1;
}

/* A sibling hold-out's per-family errors, where the entry has them whole
 * (else the job keeps none). */
static void take_families(const json_t *e, lss_job *j)
{
    const json_t *fa = json_object_get(e, "family_abs"), *fc = json_object_get(e, "family_cells");
    size_t n = json_array_size(fa);
    if (!json_is_array(fa) || !json_is_array(fc) || n == 0 || n > 10000000 || json_array_size(fc) != n) return;
    double *a = ls_malloc(n * sizeof *a);
    size_t *c = ls_malloc(n * sizeof *c);
    int ok = a && c;
    for (size_t q = 0; ok && q < n; q++) {
        const json_t *x = json_array_get(fa, q), *y = json_array_get(fc, q);
        double v = json_is_number(x) ? json_number_value(x) : NAN;
        double w = json_is_integer(y) ? (double)json_integer_value(y) : -1;
        ok = isfinite(v) && v >= 0 && w >= 0 && w < 1e9;
        if (ok) {
            a[q] = v;
            c[q] = (size_t)w;
        }
    }
    if (!ok) {
        ls_free(a);
        ls_free(c);
        return;
    }
    j->fam_abs = a;
    j->fam_cells = c;
    j->nfam = n;
}

size_t lss_journal_take(const json_t *root, uint64_t key, size_t kmin, size_t nk, size_t per, lss_job *job)
{
    char want[24];
    snprintf(want, sizeof want, "%016llx", (unsigned long long)key);
    const json_t *kind = json_object_get(root, "kind"), *k = json_object_get(root, "key"),
                 *jobs = json_object_get(root, "jobs");
    if (!json_is_string(kind) || strcmp(json_string_value(kind), "select-journal") != 0) return 0;
    if (!json_is_string(k) || strcmp(json_string_value(k), want) != 0 || !json_is_array(jobs)) return 0;
    size_t taken = 0, i;
    const json_t *e;
    json_array_foreach(jobs, i, e)
    {
        double K, jb, value, aic = NAN, bic = NAN, np = 0, conv = 0, samp = 0;
        if (!json_is_object(e) || !get_num(e, "K", &K) || !get_num(e, "job", &jb) || !get_num(e, "value", &value))
            continue;
        if (!(K >= (double)kmin && K < (double)(kmin + nk) && K == floor(K))) continue;
        if (!(jb >= 0 && jb < (double)per && jb == floor(jb))) continue;
        if (!get_num(e, "converged", &conv) || (conv != 0 && conv != 1)) continue;
        size_t slot = ((size_t)K - kmin) * per + (size_t)jb;
        if (jb == 0) { /* the full fit: its criteria too */
            if (!get_num(e, "aic", &aic) || !get_num(e, "bic", &bic) || !get_num(e, "n_params", &np) ||
                !get_num(e, "sampled", &samp))
                continue;
            if (!(np >= 0 && np < 1e9 && np == floor(np)) || (samp != 0 && samp != 1)) continue;
        }
        if (job[slot].done) continue; /* the first entry of a slot wins */
        double *theta = NULL;
        size_t dim = 0;
        if (jb == 0) { /* and its estimate, where the folds start */
            const json_t *th = json_object_get(e, "theta");
            dim = json_array_size(th);
            if (!json_is_array(th) || dim == 0 || dim > 100000) continue;
            if (!(theta = ls_malloc(dim * sizeof *theta))) continue;
            for (size_t q = 0; q < dim && theta; q++) {
                const json_t *v = json_array_get(th, q);
                if (!json_is_number(v) || !isfinite(json_number_value(v))) {
                    ls_free(theta);
                    theta = NULL;
                } else theta[q] = json_number_value(v);
            }
            if (!theta) continue;
        }
        job[slot] = (lss_job){1, value, aic, bic, (size_t)np, (int)conv, (int)samp, theta, dim, NULL, NULL, 0};
        take_families(e, &job[slot]);
        taken++;
    }
    return taken;
}

int lss_journal_write(const char *path, uint64_t key, size_t kmin, size_t nk, size_t per, const lss_job *job,
                      ls_error *err)
{
    char ks[24];
    snprintf(ks, sizeof ks, "%016llx", (unsigned long long)key);
    json_t *root = json_object(), *jobs = json_array();
    if (!root || !jobs) {
        json_decref(root);
        json_decref(jobs);
        return ls_nomem(err);
    }
    json_object_set_new(root, "kind", json_string("select-journal"));
    json_object_set_new(root, "version", json_string(LS_VERSION));
    json_object_set_new(root, "key", json_string(ks));
    json_object_set_new(root, "jobs", jobs);
    for (size_t s = 0; s < nk * per; s++) {
        if (!job[s].done) continue;
        json_t *e = json_object();
        if (!e) break;
        json_object_set_new(e, "K", json_integer((json_int_t)(kmin + s / per)));
        json_object_set_new(e, "job", json_integer((json_int_t)(s % per)));
        json_object_set_new(e, "value", ls_json_num(job[s].value));
        json_object_set_new(e, "converged", json_integer(job[s].converged));
        if (s % per == 0) {
            json_object_set_new(e, "aic", ls_json_num(job[s].aic));
            json_object_set_new(e, "bic", ls_json_num(job[s].bic));
            json_object_set_new(e, "n_params", json_integer((json_int_t)job[s].nparams));
            json_object_set_new(e, "sampled", json_integer(job[s].sampled));
            json_object_set_new(e, "theta", ls_json_vec(job[s].theta, job[s].dim));
        }
        if (job[s].fam_abs) {
            json_t *c = json_array();
            for (size_t q = 0; c && q < job[s].nfam; q++)
                json_array_append_new(c, json_integer((json_int_t)job[s].fam_cells[q]));
            json_object_set_new(e, "family_abs", ls_json_vec(job[s].fam_abs, job[s].nfam));
            if (c) json_object_set_new(e, "family_cells", c);
        }
        json_array_append_new(jobs, e);
    }
    int rc = ls_json_write(root, path, err);
    json_decref(root);
    return rc;
}
