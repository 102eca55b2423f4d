/*
 * predict.c -- predictive distributions of new models' scores, and the
 * held-out evaluation built on them (spec "Inference and downstream tasks").
 *
 * For a new model i of family f and benchmark j the predictive distribution
 * integrates three sources of uncertainty, by simulation:
 *   theta^(s) ~ N(theta_hat, I^-1)                (parameter uncertainty)
 *   alpha^(s,m) ~ p(alpha_f | y_f, theta^(s))     (family posterior; prior
 *                                                   N(0, Sigma) for a new family)
 *   y ~ Beta(phi_j mu, phi_j (1 - mu)),  mu = c_j + (d_j - c_j) logistic(eta)
 * and, by default, a fourth: above the best score observed on benchmark j,
 * m_j, the data say nothing about where a fixed ceiling d_j really lies, so
 *   u ~ U(0, 1),  mu' = m_j + u (mu - m_j)  when mu > m_j
 * (the ceiling drawn uniform on [m_j, d_j], the curve above m_j scaled into
 * it).  u depends only on the seed, the benchmark and the draw, so every
 * model of a joint draw shares the benchmark's ceiling.
 * The predictive mean averages mu (exact given the draws); the median and
 * the interval are quantiles of the y draws.  The "map" column is the
 * paper's plug-in: mu at the estimates and the family's posterior mode.
 */
#include "scaling/tasks.h"
#include "kernel/special.h"
#include "kernel/rng.h"

#include <gsl/gsl_randist.h>
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_ROWS 64

void ls_predict_options_init(ls_predict_options *o)
{
    memset(o, 0, sizeof *o);
    o->level = 0.9;
    o->param_draws = 200;
    o->latent_draws = 50;
    o->seed = 1;
    o->threads = 0;
    o->calibration = 1;
    o->ceiling_uncertainty = 1;
}

int ls_predict_options_check(const ls_predict_options *o, ls_error *err)
{
    if (!(o->level > 0 && o->level < 1))
        return ls_fail(err, LS_ERR_OPTION, "level: expected a number in (0, 1), found %g", o->level);
    if (o->latent_draws < 1 || o->latent_draws > 100000)
        return ls_fail(err, LS_ERR_OPTION, "latent_draws: expected 1..100000, found %zu", o->latent_draws);
    if (o->param_draws > 100000)
        return ls_fail(err, LS_ERR_OPTION, "param_draws: expected 0..100000, found %zu", o->param_draws);
    if ((o->param_draws ? o->param_draws : 1) * o->latent_draws > 1000000)
        return ls_fail(err, LS_ERR_OPTION,
                       "param_draws x latent_draws: at most 1,000,000 draws per cell, found %zu",
                       (o->param_draws ? o->param_draws : 1) * o->latent_draws);
    if (o->threads > 1024)
        return ls_fail(err, LS_ERR_OPTION, "threads: expected 0..1024, found %u", o->threads);
    if (o->calibration != 0 && o->calibration != 1)
        return ls_fail(err, LS_ERR_OPTION, "calibration: expected 0 or 1, found %d", o->calibration);
    if (o->ceiling_uncertainty != 0 && o->ceiling_uncertainty != 1)
        return ls_fail(err, LS_ERR_OPTION, "ceiling_uncertainty: expected 0 or 1, found %d", o->ceiling_uncertainty);
    return ls_param_cov_kind(o->param_cov, err) < 0 ? LS_ERR_OPTION : LS_OK;
}

void lss_prediction_clear(lss_prediction *p)
{
    if (!p) return;
    ls_strv_free(p->model, p->n);
    ls_strv_free(p->family, p->n);
    ls_free(p->known);
    ls_free(p->mean);
    ls_free(p->median);
    ls_free(p->lower);
    ls_free(p->upper);
    ls_free(p->map);
    ls_free(p->observed);
    ls_free(p->q25);
    ls_free(p->q75);
    ls_free(p->pit);
    ls_strlist_free(&p->warn);
    if (p->benchmarks) ls_strv_free(p->benchmarks, p->J);
    memset(p, 0, sizeof *p);
}

static void prediction_free(void *v)
{
    lss_prediction_clear(v);
    ls_free(v);
}

int lss_prediction_entries(ls_result *r, const lss_prediction *p, ls_error *err)
{
    size_t n = p->n, J = p->J;
    const char *M = "models", *B = "benchmarks";
    int rc = ls_result_add_strings(r, M, p->model, n, err);
    if (!rc) rc = ls_result_add_strings(r, "families", p->family, n, err);
    if (!rc) rc = ls_result_add_strings(r, B, p->benchmarks, J, err);
    if (!rc) rc = ls_result_add_ints(r, "known", p->known, n, 1, M, NULL, err);
    if (!rc) rc = ls_result_add_numbers(r, "mean", p->mean, n, J, M, B, err);
    if (!rc) rc = ls_result_add_numbers(r, "median", p->median, n, J, M, B, err);
    if (!rc) rc = ls_result_add_numbers(r, "lower", p->lower, n, J, M, B, err);
    if (!rc) rc = ls_result_add_numbers(r, "upper", p->upper, n, J, M, B, err);
    if (!rc) rc = ls_result_add_numbers(r, "map", p->map, n, J, M, B, err);
    if (!rc) rc = ls_result_add_numbers(r, "observed", p->observed, n, J, M, B, err);
    if (!rc) rc = ls_result_add_number(r, "level", p->level, err);
    if (!rc) rc = ls_result_add_number(r, "seed", (double)p->seed, err);
    if (!rc) rc = ls_result_add_number(r, "param_uncertainty", p->param_uncertainty, err);
    if (!rc) rc = ls_result_add_number(r, "calibrated", p->calibrated, err);
    return rc;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static double quantile_f(const float *v, size_t n, double q)
{
    double h = q * (double)(n - 1);
    size_t lo = (size_t)floor(h);
    if (lo >= n - 1) return v[n - 1];
    return v[lo] + (h - (double)lo) * (v[lo + 1] - v[lo]);
}

/* The predictive CDF at y of the sorted draws v (ties count half); NaN
 * for a missing y. */
static double pit_f(const float *v, size_t n, double y)
{
    if (isnan(y)) return NAN;
    float fy = (float)y;
    size_t lo = 0, hi = n;
    while (lo < hi) { /* first draw >= y */
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid] < fy) lo = mid + 1;
        else hi = mid;
    }
    size_t a = lo;
    hi = n;
    while (lo < hi) { /* first draw > y */
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid] <= fy) lo = mid + 1;
        else hi = mid;
    }
    return ((double)a + 0.5 * (double)(lo - a)) / (double)n;
}

/* Lower-case letters and digits of s (at most cap - 1), for comparing names
 * that differ only in case or punctuation. */
static void name_key(const char *s, char *out, size_t cap)
{
    size_t k = 0;
    for (; *s && k + 1 < cap; s++)
        if (isalnum((unsigned char)*s)) out[k++] = (char)tolower((unsigned char)*s);
    out[k] = 0;
}

/* Edit distance of a and b, or 3 when it is larger than 2. */
static int edit_distance_2(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > lb + 2 || lb > la + 2 || la > 126 || lb > 126) return 3;
    int prev[128], cur[128];
    for (size_t j = 0; j <= lb; j++) prev[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int v = prev[j - 1] + (a[i - 1] != b[j - 1]);
            if (prev[j] + 1 < v) v = prev[j] + 1;
            if (cur[j - 1] + 1 < v) v = cur[j - 1] + 1;
            cur[j] = v;
        }
        memcpy(prev, cur, (lb + 1) * sizeof(int));
    }
    return prev[lb] > 2 ? 3 : prev[lb];
}

/* A family the fit does not know whose name nearly matches one it does
 * (case, punctuation, one typo): most likely a misspelling that would
 * silently give the prior's predictions of a new family. */
static int warn_near_family(const ls_data *d, const char *model, const char *fam, ls_strlist *w, ls_error *err)
{
    char kf[128], kd[128];
    name_key(fam, kf, sizeof kf);
    long best = -1;
    int bestd = 3;
    for (size_t g = 0; g < d->F; g++) {
        name_key(d->family[g], kd, sizeof kd);
        int dist = strcmp(kf, kd) == 0 ? 0 : strlen(kf) >= 4 ? edit_distance_2(kf, kd) : 3;
        if (dist < bestd && dist <= 1) {
            bestd = dist;
            best = (long)g;
        }
    }
    if (best < 0) return LS_OK;
    if (ls_strlist_add(w, "model '%.60s': family '%.60s' is not in the fit; did you mean '%.60s'? "
                          "It is predicted as a new family, from the prior",
                       model, fam, d->family[best]))
        return ls_nomem(err);
    return LS_OK;
}

/* A new model whose covariate (a column, or the log of one) lies outside
 * the range of the fitted rows: its prediction extrapolates the law. */
static int warn_extrapolation(const ls_data *d, const char *model, const double *xr, ls_strlist *w, ls_error *err)
{
    for (size_t q = 0; q < d->p; q++) {
        const char *term = d->covariate[q];
        if (strchr(term, '*')) continue; /* products follow their factors */
        double lo = INFINITY, hi = -INFINITY;
        for (size_t i = 0; i < d->n; i++) {
            lo = fmin(lo, d->x_raw[i * d->p + q]);
            hi = fmax(hi, d->x_raw[i * d->p + q]);
        }
        double v = xr[q], tol = 1e-9 * fmax(1, fabs(hi - lo));
        if (v >= lo - tol && v <= hi + tol) continue;
        int is_log = strncmp(term, "log(", 4) == 0 && term[strlen(term) - 1] == ')';
        int rc;
        if (is_log)
            rc = ls_strlist_add(w, "model '%.60s': %.*s %.4g is outside the fitted range [%.4g, %.4g] "
                                   "(%.3g times the %s): its predictions extrapolate the law",
                                model, (int)(strlen(term) - 5), term + 4, exp(v), exp(lo), exp(hi),
                                v > hi ? exp(v - hi) : exp(v - lo), v > hi ? "largest" : "smallest");
        else
            rc = ls_strlist_add(w, "model '%.60s': %s %.4g is outside the fitted range [%.4g, %.4g]: "
                                   "its predictions extrapolate the law",
                                model, term, v, lo, hi);
        if (rc) return ls_nomem(err);
    }
    return LS_OK;
}

/* The prediction's numbers into out (cleared first; its arrays allocated here). */
/* The ceiling's uniform of benchmark j in draw t: a function of the seed,
 * j and t only (not of the rows predicted beside it, nor of the chunking). */
static double ceiling_draw(uint64_t seed, size_t j, size_t t)
{
    ls_rng g = {seed * 0x9E3779B97F4A7C15u ^ ((uint64_t)j << 40) ^ (uint64_t)t ^ 0xC3A5C85C97CB3127u};
    ls_rng_next(&g);
    return ls_rng_unif(&g);
}

int lss_predict_compute(const ls_fit *f, const ls_data *d, const ls_table *newt,
                           const ls_predict_options *o, lss_prediction *out, ls_error *err)
{
    memset(out, 0, sizeof *out);
    int rc = ls_predict_options_check(o, err);
    if (rc) return rc;
    const char *src = ls_table_name(newt);
    size_t n = ls_table_nrow(newt), J = d->J, K = f->K, p = d->p;
    if (n == 0) return ls_fail(err, LS_ERR_INPUT, "%s: no rows to predict", src);
    long cm = ls_table_find(newt, d->model_col), cf = ls_table_find(newt, d->family_col);
    if (cm < 0) return ls_fail(err, LS_ERR_INPUT, "%s:1: missing required column '%s'", src, d->model_col);
    if (cf < 0) return ls_fail(err, LS_ERR_INPUT, "%s:1: missing required column '%s'", src, d->family_col);
    double *x = NULL, *th0 = NULL, *alpha = NULL, *theta_i = NULL, *best = NULL, *ufe = NULL, *umode = NULL, *lv = NULL;
    size_t *fam = NULL, *uniq = NULL;
    float *yd = NULL;
    ls_sampler *s = NULL;
    rc = ls_data_covariates_of(d, newt, &x, err);
    if (rc) return rc;
    out->n = n;
    out->J = J;
    out->level = o->level;
    out->seed = o->seed;
    out->model = ls_calloc(n, sizeof(char *));
    out->family = ls_calloc(n, sizeof(char *));
    out->known = ls_calloc(n, sizeof(int));
    out->mean = ls_calloc(n * J, sizeof(double));
    out->median = ls_calloc(n * J, sizeof(double));
    out->lower = ls_calloc(n * J, sizeof(double));
    out->upper = ls_calloc(n * J, sizeof(double));
    out->map = ls_calloc(n * J, sizeof(double));
    out->observed = ls_calloc(n * J, sizeof(double));
    out->q25 = ls_calloc(n * J, sizeof(double));
    out->q75 = ls_calloc(n * J, sizeof(double));
    out->pit = ls_calloc(n * J, sizeof(double));
    /* the quantile levels reported: the interval's ends, the median, the
     * quartiles; mapped by the fit's calibration when it has one */
    const double lv0[5] = {(1 - o->level) / 2, 0.5, (1 + o->level) / 2, 0.25, 0.75};
    out->calibrated = o->calibration && f->calib_pit;
    lv = ls_calloc(5 * J, sizeof(double)); /* per benchmark */
    if (!lv) { rc = ls_nomem(err); goto done; }
    for (size_t j = 0; j < J; j++)
        for (int a = 0; a < 5; a++) lv[j * 5 + a] = out->calibrated ? ls_fit_calibrated_level_at(f, j, lv0[a]) : lv0[a];
    out->benchmarks = ls_calloc(J, sizeof(char *));
    for (size_t j = 0; out->benchmarks && j < J; j++)
        if (!(out->benchmarks[j] = ls_strdup(d->bench[j]))) { rc = ls_nomem(err); goto done; }
    fam = ls_calloc(n, sizeof(size_t));
    uniq = ls_calloc(n, sizeof(size_t));
    if (!out->benchmarks || !out->model || !out->family || !out->known || !out->mean || !out->median || !out->lower ||
        !out->upper || !out->map || !out->observed || !out->q25 || !out->q75 || !out->pit || !fam || !uniq) {
        rc = ls_nomem(err);
        goto done;
    }
    size_t nu = 0;
    for (size_t i = 0; i < n; i++) {
        const char *mn = ls_table_cell(newt, i, (size_t)cm), *fn = ls_table_cell(newt, i, (size_t)cf);
        if (!*mn || !*fn) {
            rc = ls_fail(err, LS_ERR_INPUT, "%s:%zu: empty model or family name", src, ls_table_line(newt, i));
            goto done;
        }
        out->model[i] = ls_strdup(mn);
        out->family[i] = ls_strdup(fn);
        if (!out->model[i] || !out->family[i]) { rc = ls_nomem(err); goto done; }
        long g = ls_data_find_family(d, fn);
        if (g < 0 && (rc = warn_near_family(d, mn, fn, &out->warn, err))) goto done;
        fam[i] = g < 0 ? LS_PRIOR : (size_t)g;
        out->known[i] = g >= 0;
        if (g >= 0) {
            size_t u = 0;
            while (u < nu && uniq[u] != (size_t)g) u++;
            if (u == nu) uniq[nu++] = (size_t)g;
        }
        for (size_t j = 0; j < J; j++) {
            double v = NAN;
            int miss = 1;
            long c = ls_table_find(newt, d->bench[j]);
            if (c >= 0 && (rc = ls_table_number(newt, i, (size_t)c, &v, &miss, err))) goto done;
            if (!miss && !(v >= 0 && v <= 1)) {
                rc = ls_fail(err, LS_ERR_INPUT, "%s:%zu:%ld: column '%s': expected a score in [0, 1], found '%s'",
                             src, ls_table_line(newt, i), c + 1, d->bench[j], ls_table_cell(newt, i, (size_t)c));
                goto done;
            }
            out->observed[i * J + j] = miss ? NAN : v;
        }
        if ((rc = warn_extrapolation(d, mn, x + i * p, &out->warn, err))) goto done;
        for (size_t q = 0; q < p; q++) x[i * p + q] = (x[i * p + q] - d->x_mean[q]) / d->x_sd[q];
    }

    int pk = ls_param_cov_kind(o->param_cov, err);
    if (pk < 0) { rc = LS_ERR_OPTION; goto done; }
    rc = ls_sampler_new(d, f, o->threads, o->param_draws > 0 ? pk : 0, o->seed, &s, err);
    out->param_uncertainty = o->param_draws > 0 ? pk : 0;
    if (rc == LS_ERR_NUMERIC && o->param_draws > 0) {
        /* singular information (e.g. a clipped likelihood): the estimates only */
        out->param_uncertainty = 0;
        rc = ls_sampler_new(d, f, o->threads, 0, o->seed, &s, err);
    }
    if (rc) goto done;
    ls_model *m = s->m;
    size_t S = out->param_uncertainty ? o->param_draws : 1, M = o->latent_draws, N = S * M;
    /* the best observed score of every benchmark whose ceiling is fixed
     * (NaN: no ceiling uncertainty on j) */
    best = ls_calloc(J, sizeof(double));
    if (!best) { rc = ls_nomem(err); goto done; }
    {
        ls_layout lay;
        ls_model_layout(m, &lay);
        for (size_t j = 0; j < J; j++) {
            double b = -1;
            for (size_t r = 0; r < d->n; r++)
                if (d->y[r * J + j] > b) b = d->y[r * J + j];
            best[j] = o->ceiling_uncertainty && lay.kap_of[j] < 0 && b >= 0 && b < d->ceil[j] ? b : NAN;
        }
    }
    th0 = ls_calloc(K, sizeof(double));
    theta_i = ls_calloc(K, sizeof(double));
    alpha = ls_calloc((nu + 1) * M * K, sizeof(double)); /* slot nu: the prior */
    int fe = ls_model_family_effect(m);
    if (fe && !(ufe = ls_calloc((nu + 1) * M * J, sizeof(double)))) { rc = ls_nomem(err); goto done; }
    if (!(umode = ls_calloc(J, sizeof(double)))) { rc = ls_nomem(err); goto done; }
    size_t rows = n < CHUNK_ROWS ? n : CHUNK_ROWS;
    yd = ls_malloc(rows * J * N * sizeof(float));
    if (!th0 || !theta_i || !alpha || !yd) { rc = ls_nomem(err); goto done; }

    /* plug-in at the estimates and the family mode */
    rc = ls_sampler_params(s, 1, uniq, nu, err);
    if (rc) goto done;
    for (size_t i = 0; i < n; i++) {
        ls_model_skills_at(m, x + i * p, th0);
        memset(umode, 0, J * sizeof(double));
        if (fam[i] != LS_PRIOR) {
            double a[64];
            ls_model_family_mode(m, fam[i], a, NULL);
            for (size_t k = 0; k < K; k++) th0[k] += a[k];
            /* the family effect at its posterior mode given the skills' */
            if (fe)
                ls_model_family_effect_draw(m, fam[i], ls_model_family_zmode(m, fam[i]), NULL, umode, s->r);
        }
        for (size_t j = 0; j < J; j++) out->map[i * J + j] = ls_model_mean_score_shift(m, j, th0, umode[j]);
    }

    /* rows in chunks; every chunk replays the same parameter draws */
    for (size_t r0 = 0; r0 < n; r0 += CHUNK_ROWS) {
        size_t r1 = r0 + CHUNK_ROWS < n ? r0 + CHUNK_ROWS : n;
        gsl_rng_set(s->rng, (unsigned long)(o->seed ? o->seed : 1));
        for (size_t t = 0; t < S; t++) {
            rc = ls_sampler_params(s, !out->param_uncertainty, uniq, nu, err);
            if (rc) goto done;
            for (size_t u = 0; u <= nu; u++) {
                rc = ls_sampler_alpha_u(s, u < nu ? uniq[u] : LS_PRIOR, M, alpha + u * M * K,
                                        ufe ? ufe + u * M * J : NULL, err);
                if (rc) goto done;
            }
            for (size_t i = r0; i < r1; i++) {
                size_t u = 0;
                if (fam[i] == LS_PRIOR) u = nu;
                else
                    while (uniq[u] != fam[i]) u++;
                ls_model_skills_at(m, x + i * p, th0);
                /* heteroscedastic precision of this row */
                double pmul = exp(ls_model_precision_shift(m, s->th, x + i * p));
                for (size_t mm = 0; mm < M; mm++) {
                    const double *a = alpha + (u * M + mm) * K;
                    for (size_t k = 0; k < K; k++) theta_i[k] = th0[k] + a[k];
                    for (size_t j = 0; j < J; j++) {
                        double mu = ls_model_mean_score_shift(m, j, theta_i, ufe ? ufe[(u * M + mm) * J + j] : 0),
                               ph = ls_model_precision(m, j) * pmul;
                        if (mu > best[j]) mu = best[j] + ceiling_draw(o->seed, j, t * M + mm) * (mu - best[j]);
                        out->mean[i * J + j] += mu / (double)N;
                        double y = gsl_ran_beta(s->rng, ph * mu, ph * (1 - mu));
                        yd[((i - r0) * J + j) * N + t * M + mm] = (float)y;
                    }
                }
            }
        }
        for (size_t i = r0; i < r1; i++)
            for (size_t j = 0; j < J; j++) {
                float *v = yd + ((i - r0) * J + j) * N;
                qsort(v, N, sizeof(float), cmp_float);
                out->median[i * J + j] = quantile_f(v, N, lv[j * 5 + 1]);
                out->lower[i * J + j] = quantile_f(v, N, lv[j * 5 + 0]);
                out->upper[i * J + j] = quantile_f(v, N, lv[j * 5 + 2]);
                out->q25[i * J + j] = quantile_f(v, N, lv[j * 5 + 3]);
                out->q75[i * J + j] = quantile_f(v, N, lv[j * 5 + 4]);
                out->pit[i * J + j] = pit_f(v, N, out->observed[i * J + j]);
            }
    }
    /* intervals that shrank onto a bound of the score: the logistic has
     * saturated, and the interval says what the model assumes there (a
     * ceiling of 1, a floor), not what the data show */
    for (size_t i = 0; i < n && !rc; i++) {
        char names[512] = "";
        size_t len = 0, hits = 0;
        /* far above the data's scores: the interval is the unknown ceiling's */
        for (size_t j = 0; j < J; j++) {
            double mp = out->map[i * J + j];
            if (!(mp > best[j] + 0.5 * (1 - best[j]))) continue;
            if (len < sizeof names - 80)
                len += (size_t)snprintf(names + len, sizeof names - len, "%s%s (%.3f)", hits ? ", " : "", d->bench[j],
                                        best[j]);
            hits++;
        }
        if (hits && ls_strlist_add(&out->warn,
                                   "model '%.60s': the law puts %s far above the best score in the data (in "
                                   "parentheses): where the ceiling lies there is unknown, and the interval spans it",
                                   out->model[i], names)) {
            rc = ls_nomem(err);
            break;
        }
        names[0] = 0;
        len = hits = 0;
        for (size_t j = 0; j < J; j++) {
            double lo = out->lower[i * J + j], hi = out->upper[i * J + j];
            if (!(hi - lo < 1e-3 && (hi > 1 - 1e-3 || lo < 1e-3))) continue;
            if (len < sizeof names - 80)
                len += (size_t)snprintf(names + len, sizeof names - len, "%s%s", hits ? ", " : "", d->bench[j]);
            hits++;
        }
        if (hits && ls_strlist_add(&out->warn,
                                   "model '%.60s': the interval on %s is narrower than 0.001 at the score's bound: "
                                   "the law saturates there, so the interval reflects the model's floor or ceiling, "
                                   "not evidence (estimate the ceilings with `estimate_ceilings`, or treat it as an "
                                   "extrapolation)",
                                   out->model[i], names))
            rc = ls_nomem(err);
    }
done:
    ls_free(x); ls_free(th0); ls_free(theta_i); ls_free(alpha); ls_free(fam); ls_free(uniq); ls_free(yd);
    ls_free(ufe); ls_free(umode);
    ls_free(best);
    ls_free(lv);
    ls_sampler_free(s);
    if (rc) lss_prediction_clear(out);
    return rc;
}

int lss_result_fit_warnings(ls_result *r, const ls_fit *f, ls_error *err)
{
    int rc = LS_OK;
    for (size_t i = 0; !rc && i < ls_fit_nwarnings(f); i++)
        /* the rows dropped: said by the data the task reads (ls_data_warning) */
        if (strncmp(ls_fit_warning(f, i), "drop_incomplete:", 16) != 0)
            rc = ls_result_warn(r, err, "the fit: %s", ls_fit_warning(f, i));
    return rc;
}

int ls_predict(const ls_fit *f, const ls_data *d, const ls_table *newt, const ls_predict_options *o,
               ls_result **out, ls_error *err)
{
    *out = NULL;
    lss_prediction *p = ls_calloc(1, sizeof *p);
    if (!p) return ls_nomem(err);
    int rc = lss_predict_compute(f, d, newt, o, p, err);
    if (rc) {
        ls_free(p);
        return rc;
    }
    ls_result *r = NULL;
    if ((rc = ls_result_new("prediction", p, prediction_free, &r, err))) return rc;
    rc = lss_prediction_entries(r, p, err);
    if (!rc) rc = lss_result_fit_warnings(r, f, err);
    for (size_t i = 0; !rc && i < ls_strlist_count(&p->warn); i++)
        rc = ls_result_warn(r, err, "%s", ls_strlist_get(&p->warn, i));
    if (rc) {
        ls_result_free(r);
        return rc;
    }
    ls_result_set_writer(r, lss_write_prediction);
    *out = r;
    return LS_OK;
}

/* ---------------------------------------------------------------- */
/* Held-out evaluation                                               */
/* ---------------------------------------------------------------- */

static void evaluation_free(void *v)
{
    lss_evaluation *e = v;
    if (!e) return;
    lss_prediction_clear(&e->pred);
    ls_fit_free(e->fit);
    ls_data_free(e->train);
    ls_free(e->mae);
   ls_free(e->coverage_bench);
    ls_free(e->baseline_mae);
    ls_free(e->warning);
    lss_config_clear(&e->cs);
    ls_free(e);
}

const ls_fit *ls_evaluation_fit(const ls_result *r, const ls_data **train)
{
    const lss_evaluation *e = ls_result_payload(r, "evaluation");
    if (train) *train = e ? e->train : NULL;
    return e ? e->fit : NULL;
}

int ls_mae(const double *pred, const double *obs, size_t n, size_t J, double *per_benchmark,
           double *overall, size_t *cells, ls_error *err)
{
    double tot = 0;
    size_t nc = 0;
    for (size_t j = 0; j < J; j++) {
        double s = 0;
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
            double y = obs[i * J + j], p = pred[i * J + j];
            if (isnan(y)) continue;
            if (!isfinite(p))
                return ls_fail(err, LS_ERR_INPUT, "no prediction for scored cell (row %zu, benchmark %zu)", i + 1, j + 1);
            s += fabs(p - y);
            m++;
        }
        if (per_benchmark) per_benchmark[j] = m ? s / (double)m : NAN;
        tot += s;
        nc += m;
    }
    *overall = nc ? tot / (double)nc : NAN;
    if (cells) *cells = nc;
    return LS_OK;
}

enum { ROLE_TRAIN = 0, ROLE_TEST = 1, ROLE_EXCLUDED = 2 };

static int roles_from_split(const ls_table *t, const ls_data *full, const ls_table *split, int *role,
                            ls_error *err)
{
    const ls_data *d = full;
    const char *ss = ls_table_name(split);
    long sm = ls_table_find(split, "model"), sr = ls_table_find(split, "role");
    if (sm < 0) return ls_fail(err, LS_ERR_INPUT, "%s:1: missing required column 'model'", ss);
    if (sr < 0) return ls_fail(err, LS_ERR_INPUT, "%s:1: missing required column 'role'", ss);
    size_t n = ls_table_nrow(t);
    for (size_t i = 0; i < n; i++) role[i] = -1;
    for (size_t r = 0; r < ls_table_nrow(split); r++) {
        const char *mn = ls_table_cell(split, r, (size_t)sm), *rn = ls_table_cell(split, r, (size_t)sr);
        int v = strcmp(rn, "train") == 0 ? ROLE_TRAIN
                : strcmp(rn, "test") == 0 ? ROLE_TEST
                : strcmp(rn, "excluded") == 0 ? ROLE_EXCLUDED : -1;
        if (v < 0)
            return ls_fail(err, LS_ERR_INPUT, "%s:%zu:%ld: column 'role': expected train, test or excluded, found '%s'",
                           ss, ls_table_line(split, r), sr + 1, rn);
        int hit = 0;
        for (size_t i = 0; i < n; i++)
            if (strcmp(full->model[i], mn) == 0) {
                role[i] = v;
                hit = 1;
            }
        for (size_t q = 0; q < d->ndropped && !hit; q++) hit = strcmp(d->dropped[q], mn) == 0; /* dropped */
        if (!hit)
            return ls_fail(err, LS_ERR_INPUT, "%s:%zu: model '%s' is not in %s", ss,
                           ls_table_line(split, r), mn, ls_table_name(t));
    }
    for (size_t i = 0; i < n; i++)
        if (role[i] < 0)
            return ls_fail(err, LS_ERR_INPUT, "%s:%zu: model '%s' has no role in %s", ls_table_name(t),
                           ls_table_line(t, i), full->model[i], ss);
    return LS_OK;
}

int lss_roles_largest(const ls_table *t, const ls_data *full, int *role, ls_error *err)
{
    long cs = ls_table_find(t, full->size_col), ct = ls_table_find(t, full->tokens_col);
    if (cs < 0 || ct < 0)
        return ls_fail(err, LS_ERR_OPTION, "split: holding out the largest models, %s needs columns '%s' and '%s'",
                       ls_table_name(t), full->size_col, full->tokens_col);
    size_t n = full->n;
    for (size_t i = 0; i < n; i++) role[i] = ROLE_TRAIN;
    for (size_t g = 0; g < full->F; g++) {
        if (full->fam_nrows[g] < 2) continue;
        long best = -1;
        double bs = 0, bt = 0;
        for (size_t i = 0; i < n; i++) {
            if (full->family_of[i] != g) continue;
            double sv, tv;
            int ms, mt, rc;
            if ((rc = ls_table_number(t, i, (size_t)cs, &sv, &ms, err))) return rc;
            if ((rc = ls_table_number(t, i, (size_t)ct, &tv, &mt, err))) return rc;
            if (ms || mt) continue;
            if (best < 0 || sv > bs || (sv == bs && tv > bt)) {
                best = (long)i;
                bs = sv;
                bt = tv;
            }
        }
        if (best >= 0) role[best] = ROLE_TEST;
    }
    return LS_OK;
}

/* log(size) + log(tokens) of the table's rows (log FLOPs up to a
 * constant); 0 when a value is missing or not positive. */
static int log_compute(const ls_table *t, long cs, long ct, const size_t *rows, size_t n, double *lf, ls_error *err)
{
    for (size_t a = 0; a < n; a++) {
        double sv, tv;
        int ms, mt, rc;
        if ((rc = ls_table_number(t, rows[a], (size_t)cs, &sv, &ms, err))) return rc;
        if ((rc = ls_table_number(t, rows[a], (size_t)ct, &tv, &mt, err))) return rc;
        if (ms || mt || !(sv > 0) || !(tv > 0) || !isfinite(sv) || !isfinite(tv)) return 0;
        lf[a] = log(sv) + log(tv);
    }
    return 1;
}

/* The one-line baselines on the evaluation's test cells (baseline.c). */
static int evaluation_baselines(const ls_table *t, const ls_data_options *dopt, const size_t *tr_rows,
                                const size_t *te_rows, lss_evaluation *e, ls_error *err)
{
    (void)dopt;
    const lss_prediction *pp = &e->pred;
    size_t J = e->J, nte = pp->n;
    const char *sc = e->train->size_col, *tc = e->train->tokens_col;
    long cs = ls_table_find(t, sc), ct = ls_table_find(t, tc);
    if (cs < 0 || ct < 0) {
        if (ls_strlist_add(&e->pred.warn, "no baselines: %s lacks the columns '%s' and '%s' they need",
                           ls_table_name(t), sc, tc))
            return ls_nomem(err);
        return LS_OK;
    }
    double *lf_tr = ls_calloc(e->n_train, sizeof(double)), *lf_te = ls_calloc(nte, sizeof(double));
    double *bp = ls_calloc(LSS_NBASELINES * nte * J, sizeof(double));
    e->baseline_mae = ls_calloc(LSS_NBASELINES * J, sizeof(double));
    int rc = LS_OK;
    if (!lf_tr || !lf_te || !bp || !e->baseline_mae) { rc = ls_nomem(err); goto done; }
    int ok = log_compute(t, cs, ct, tr_rows, e->n_train, lf_tr, err);
    if (ok > 0) ok = log_compute(t, cs, ct, te_rows, nte, lf_te, err);
    if (ok < 0) { rc = ok; goto done; }
    if (!ok) {
        if (ls_strlist_add(&e->pred.warn, "no baselines: a row lacks a positive size or tokens"))
            rc = ls_nomem(err);
        goto done;
    }
    if ((rc = lss_baselines(e->train, lf_tr, nte, (const char *const *)pp->family, lf_te, bp, err))) goto done;
    for (size_t b = 0; b < LSS_NBASELINES; b++) {
        /* a benchmark without training scores has no baseline: those cells
         * are left out of its MAE (the latent model predicts them anyway) */
        double *pb = bp + b * nte * J, tot = 0;
        size_t nc = 0;
        for (size_t j = 0; j < J; j++) {
            double s = 0;
            size_t m = 0;
            for (size_t i = 0; i < nte; i++) {
                double y = pp->observed[i * J + j], q = pb[i * J + j];
                if (isnan(y) || isnan(q)) continue;
                s += fabs(q - y);
                m++;
            }
            e->baseline_mae[b * J + j] = m ? s / (double)m : NAN;
            tot += s;
            nc += m;
        }
        e->baseline_overall[b] = nc ? tot / (double)nc : NAN;
    }
    e->has_baselines = 1;
done:
    ls_free(lf_tr);
    ls_free(lf_te);
    ls_free(bp);
    return rc;
}

/* The default covariate terms (ls_data_options.covariates NULL). */
static int evaluate_compute(const ls_table *t, const ls_data_options *dopt, const ls_table *split,
                            const ls_fit_options *fo, const ls_predict_options *po, const lss_evalsel *sel,
                            lss_evaluation *out, ls_error *err)
{
    ls_data *full = NULL;
    ls_table *tt = NULL, *te = NULL;
    size_t *tr_rows = NULL, *te_rows = NULL;
    int *role = NULL;
    ls_table *kept = NULL;
    int rc = ls_data_build(t, dopt, &full, err);
    if (rc) return rc;
    if (full->ndropped) { /* drop_incomplete: split the rows kept (data row i is kept row i) */
        rc = ls_table_subset(t, full->trow, full->n, &kept, err);
        if (!rc && !(out->warning = ls_strdup(full->warning))) rc = ls_nomem(err);
        if (rc) goto done;
        t = kept;
    }
    size_t n = full->n, J = full->J;
    if (sel && (sel->kmin < 1 || sel->kmax < sel->kmin || sel->kmax > J)) {
        rc = ls_fail(err, LS_ERR_OPTION, "select: expected a range of K within 1..%zu (the benchmarks), found %zu..%zu",
                     J, sel->kmin, sel->kmax);
        goto done;
    }
    role = ls_calloc(n, sizeof(int));
    tr_rows = ls_calloc(n, sizeof(size_t));
    te_rows = ls_calloc(n, sizeof(size_t));
    out->mae = ls_calloc(J, sizeof(double));
    out->J = J;
    if (!role || !tr_rows || !te_rows || !out->mae) { rc = ls_nomem(err); goto done; }
    rc = split ? roles_from_split(t, full, split, role, err) : lss_roles_largest(t, full, role, err);
    if (rc) goto done;
    for (size_t i = 0; i < n; i++) {
        if (role[i] == ROLE_TRAIN) tr_rows[out->n_train++] = i;
        else if (role[i] == ROLE_TEST) te_rows[out->n_test++] = i;
        else out->n_excluded++;
    }
    if (out->n_test == 0) { rc = ls_fail(err, LS_ERR_INPUT, "the split has no test rows"); goto done; }
    if (out->n_train == 0) { rc = ls_fail(err, LS_ERR_INPUT, "the split has no training rows"); goto done; }
    if ((rc = ls_table_subset(t, tr_rows, out->n_train, &tt, err))) goto done;
    if ((rc = ls_table_subset(t, te_rows, out->n_test, &te, err))) goto done;
    /* the training data must keep the full data's benchmarks */
    ls_data_options o2 = *dopt;
    char *bl = ls_data_bench_list(full);
    if (!bl) { rc = ls_nomem(err); goto done; }
    o2.benchmarks = bl;
    ls_fit_options fsel = *fo;
    if (sel) {
        /* the configuration is chosen from the training rows alone (tt):
         * the test rows (te) are not passed */
        rc = lss_configure(tt, &o2, fo, sel, NULL, NULL, &out->cs, err);
        if (!rc) {
            fsel.skills = out->cs.sel_K[out->cs.sel_k];
            if (strcmp(out->cs.sel_cov[out->cs.sel_c], out->cs.sel_cov[0]) != 0) o2.covariates = out->cs.sel_cov[out->cs.sel_c];
            if (*out->cs.sel_ceil[out->cs.sel_c]) fsel.estimate_ceilings = out->cs.sel_ceil[out->cs.sel_c];
            rc = ls_fit_options_check(&fsel, err);
        }
        if (rc) {
            ls_free(bl);
            goto done;
        }
        fo = &fsel;
    }
    rc = ls_data_build(tt, &o2, &out->train, err);
    ls_free(bl);
    if (rc) goto done;
    if ((rc = ls_fit_run(out->train, fo, &out->fit, err))) goto done;
    /* calibrated inside the training rows only: the test rows stay unseen */
    ls_data_options dcal = *dopt; /* the calibration's refit: the chosen covariates */
    if (sel && strcmp(out->cs.sel_cov[out->cs.sel_c], out->cs.sel_cov[0]) != 0) dcal.covariates = out->cs.sel_cov[out->cs.sel_c];
    if (fo->calibrate && (rc = lss_fit_calibrate(out->fit, out->train, tt, &dcal, po, 0, fo->progress, fo->progress_ctx, err))) goto done;
    if ((rc = lss_predict_compute(out->fit, out->train, te, po, &out->pred, err))) goto done;
    size_t cells = 0, inside = 0, nn = out->pred.n;
    const lss_prediction *pp = &out->pred;
    if ((rc = ls_mae(pp->median, pp->observed, nn, J, out->mae, &out->mae_overall, &cells, err))) goto done;
    if ((rc = ls_mae(pp->mean, pp->observed, nn, J, NULL, &out->mae_mean, NULL, err))) goto done;
    if ((rc = ls_mae(pp->map, pp->observed, nn, J, NULL, &out->mae_map, NULL, err))) goto done;
    for (size_t c = 0; c < nn * J; c++)
        if (!isnan(pp->observed[c])) inside += pp->observed[c] >= pp->lower[c] && pp->observed[c] <= pp->upper[c];
    out->n_cells = cells;
    out->coverage = cells ? (double)inside / (double)cells : NAN;
    out->coverage_bench = ls_calloc(J, sizeof(double));
    if (!out->coverage_bench) { rc = ls_nomem(err); goto done; }
    size_t in50 = 0;
    for (size_t j = 0; j < J; j++) {
        size_t m = 0, in = 0;
        for (size_t i = 0; i < nn; i++) {
            size_t c = i * J + j;
            double y = pp->observed[c];
            if (isnan(y)) continue;
            m++;
            in += y >= pp->lower[c] && y <= pp->upper[c];
            in50 += y >= pp->q25[c] && y <= pp->q75[c];
        }
        out->coverage_bench[j] = m ? (double)in / (double)m : NAN;
    }
    out->coverage50 = cells ? (double)in50 / (double)cells : NAN;
    rc = evaluation_baselines(t, dopt, tr_rows, te_rows, out, err);
done:
    ls_data_free(full);
    ls_table_free(kept);
    ls_table_free(tt);
    ls_table_free(te);
    ls_free(tr_rows);
    ls_free(te_rows);
    ls_free(role);
    return rc;
}

static int evaluate_run(const ls_table *t, const ls_data_options *dopt, const ls_table *split,
                        const ls_fit_options *fo, const ls_predict_options *po, const lss_evalsel *sel,
                        ls_result **out, ls_error *err)
{
    *out = NULL;
    int rc = ls_predict_options_check(po, err);
    if (rc) return rc;
    lss_evaluation *e = ls_calloc(1, sizeof *e);
    if (!e) return ls_nomem(err);
    rc = evaluate_compute(t, dopt, split, fo, po, sel, e, err);
    if (rc) {
        evaluation_free(e);
        return rc;
    }
    ls_result *r = NULL;
    if ((rc = ls_result_new("evaluation", e, evaluation_free, &r, err))) return rc;
    rc = lss_prediction_entries(r, &e->pred, err);
    if (!rc) rc = ls_result_add_numbers(r, "mae", e->mae, e->J, 1, "benchmarks", NULL, err);
    if (!rc) rc = ls_result_add_number(r, "mae_overall", e->mae_overall, err);
    if (!rc) rc = ls_result_add_number(r, "mae_mean", e->mae_mean, err);
    if (!rc) rc = ls_result_add_number(r, "mae_map", e->mae_map, err);
    if (!rc) rc = ls_result_add_number(r, "coverage", e->coverage, err);
    if (!rc) rc = ls_result_add_numbers(r, "coverage_benchmark", e->coverage_bench, e->J, 1, "benchmarks", NULL, err);
    if (!rc) rc = ls_result_add_number(r, "coverage50", e->coverage50, err);
    if (!rc && e->has_baselines) {
        /* borrowed, like every string entry: the names are static */
        rc = ls_result_add_strings(r, "baselines", (char *const *)(uintptr_t)lss_baseline_names, LSS_NBASELINES, err);
        if (!rc) rc = ls_result_add_numbers(r, "baseline_mae", e->baseline_mae, LSS_NBASELINES, e->J, "baselines",
                                            "benchmarks", err);
        if (!rc) rc = ls_result_add_numbers(r, "baseline_mae_overall", e->baseline_overall, LSS_NBASELINES, 1,
                                            "baselines", NULL, err);
    }
    if (!rc) rc = ls_result_add_number(r, "n_cells", (double)e->n_cells, err);
    if (!rc) rc = ls_result_add_number(r, "n_train", (double)e->n_train, err);
    if (!rc) rc = ls_result_add_number(r, "n_test", (double)e->n_test, err);
    if (!rc) rc = ls_result_add_number(r, "n_excluded", (double)e->n_excluded, err);
    if (!rc && e->cs.sel_nk) rc = lss_config_entries(r, &e->cs, "selection inside the training rows", 0, err);
    if (!rc && e->warning) rc = ls_result_warn(r, err, "%s", e->warning);
    for (size_t i = 0; !rc && i < ls_fit_nwarnings(e->fit); i++)
        rc = ls_result_warn(r, err, "training fit: %s", ls_fit_warning(e->fit, i));
    size_t nw = ls_strlist_count(&e->pred.warn);
    for (size_t i = 0; !rc && i < nw && i < 10; i++)
        rc = ls_result_warn(r, err, "%s", ls_strlist_get(&e->pred.warn, i));
    if (!rc && nw > 10) rc = ls_result_warn(r, err, "and %zu more warnings of the test rows", nw - 10);
    if (rc) {
        ls_result_free(r);
        return rc;
    }
    ls_result_set_writer(r, lss_write_evaluation);
    *out = r;
    return LS_OK;
}

int ls_evaluate(const ls_table *t, const ls_data_options *dopt, const ls_table *split,
                const ls_fit_options *fo, const ls_predict_options *po, ls_result **out,
                ls_error *err)
{
    return evaluate_run(t, dopt, split, fo, po, NULL, out, err);
}

int ls_evaluate_select(const ls_table *t, const ls_data_options *dopt, const ls_table *split,
                       const ls_fit_options *fo, const ls_predict_options *po, size_t kmin, size_t kmax,
                       int flags, ls_result **out, ls_error *err)
{
    *out = NULL;
    if (kmin < 1 || kmax < kmin)
        return ls_fail(err, LS_ERR_OPTION, "select: expected a range of K such as 1..4, found %zu..%zu", kmin, kmax);
    /* the fits' K comes from the range: check the options at both ends */
    ls_fit_options fk = *fo;
    fk.skills = kmin;
    int rc = ls_fit_options_check(&fk, err);
    fk.skills = kmax;
    if (!rc) rc = ls_fit_options_check(&fk, err);
    if (rc) return rc;
    lss_evalsel sel;
    if ((rc = lss_evalsel_make(dopt, fo, kmin, kmax, flags, &sel, err))) return rc;
    return evaluate_run(t, dopt, split, fo, po, &sel, out, err);
}
