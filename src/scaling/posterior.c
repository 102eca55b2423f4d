/*
 * posterior.c -- a family's posterior p(alpha_f | y_f) at the fitted
 * parameters (mode, Laplace covariance, quadrature moments, MCMC draws with
 * split R-hat and effective sample size), and the comparison of two
 * families' skills integrating parameter uncertainty (spec "Inference and
 * downstream tasks").
 *
 * MCMC is random-walk Metropolis on the standardised scale z (alpha = L z)
 * with the proposal covariance (2.38^2 / K) times the Laplace covariance;
 * chains start from overdispersed points (twice the Laplace scale around
 * the mode).  Diagnostics follow Gelman et al., Bayesian Data Analysis (3rd
 * ed.), ch. 11: split R-hat, and the effective sample size from the
 * combined-chain autocorrelations truncated by Geyer's initial monotone
 * positive-pair sequence.
 */
#include "scaling/tasks.h"
#include "kernel/linalg.h"

#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void ls_posterior_options_init(ls_posterior_options *o)
{
    o->chains = 4;
    o->warmup = 1000;
    o->draws = 2000;
    o->seed = 1;
}

static void posterior_free(void *v)
{
    lss_posterior *p = v;
    if (!p) return;
    ls_free(p->mode);
    ls_free(p->laplace_cov);
    ls_free(p->quad_mean);
    ls_free(p->quad_cov);
    ls_free(p->mcmc_mean);
    ls_free(p->mcmc_cov);
    ls_free(p->rhat);
    ls_free(p->ess);
    ls_free(p->sample);
    ls_free(p->family);
    if (p->skills) ls_strv_free(p->skills, p->K);
    ls_free(p);
}

/* out = L S L^T (K x K), S symmetric */
static void to_alpha_cov(const double *L, const double *S, size_t K, double *out)
{
    for (size_t a = 0; a < K; a++)
        for (size_t b = 0; b < K; b++) {
            double v = 0;
            for (size_t k = 0; k <= a; k++)
                for (size_t l = 0; l <= b; l++) v += L[a * K + k] * S[k * K + l] * L[b * K + l];
            out[a * K + b] = v;
        }
}

/* Split R-hat and ESS of one scalar: x[c * n + t], C chains of n draws. */
static void diagnose(const double *x, size_t C, size_t n, double *rhat, double *ess)
{
    /* split R-hat: 2C sequences of h draws */
    size_t h = n / 2, S = 2 * C;
    double W = 0, mbar = 0, B = 0;
    double *mean = ls_calloc(S, sizeof(double));
    if (!mean || h < 2) { *rhat = *ess = NAN; ls_free(mean); return; }
    for (size_t s = 0; s < S; s++) {
        const double *v = x + (s / 2) * n + (s % 2) * h;
        double m = 0, q = 0;
        for (size_t t = 0; t < h; t++) m += v[t];
        m /= (double)h;
        for (size_t t = 0; t < h; t++) q += (v[t] - m) * (v[t] - m);
        W += q / (double)(h - 1);
        mean[s] = m;
        mbar += m;
    }
    W /= (double)S;
    mbar /= (double)S;
    for (size_t s = 0; s < S; s++) B += (mean[s] - mbar) * (mean[s] - mbar);
    B *= (double)h / (double)(S - 1);
    double varp = (double)(h - 1) / (double)h * W + B / (double)h;
    *rhat = W > 0 ? sqrt(varp / W) : NAN;
    ls_free(mean);

    /* ESS over the C full chains */
    double *cm = ls_calloc(C, sizeof(double)), *cv = ls_calloc(C, sizeof(double));
    if (!cm || !cv) { ls_free(cm); ls_free(cv); *ess = NAN; return; }
    double Wf = 0, mb = 0, Bf = 0;
    for (size_t c = 0; c < C; c++) {
        const double *v = x + c * n;
        double m = 0, q = 0;
        for (size_t t = 0; t < n; t++) m += v[t];
        m /= (double)n;
        for (size_t t = 0; t < n; t++) q += (v[t] - m) * (v[t] - m);
        cm[c] = m;
        cv[c] = q / (double)(n - 1);
        Wf += cv[c];
        mb += m;
    }
    Wf /= (double)C;
    mb /= (double)C;
    for (size_t c = 0; c < C; c++) Bf += (cm[c] - mb) * (cm[c] - mb);
    Bf = C > 1 ? Bf * (double)n / (double)(C - 1) : 0;
    double vp = (double)(n - 1) / (double)n * Wf + Bf / (double)n;
    if (!(vp > 0)) { *ess = NAN; ls_free(cm); ls_free(cv); return; }
    double sum = 0, prev = INFINITY;
    for (size_t t = 0; t + 1 < n; t += 2) {
        double rho[2];
        for (int e = 0; e < 2; e++) {
            size_t lag = t + (size_t)e;
            double ac = 0;
            for (size_t c = 0; c < C; c++) {
                const double *v = x + c * n;
                double a = 0;
                for (size_t u = 0; u + lag < n; u++) a += (v[u] - cm[c]) * (v[u + lag] - cm[c]);
                ac += a / (double)n;
            }
            ac /= (double)C;
            rho[e] = 1 - (Wf - ac) / vp;
        }
        double P = rho[0] + rho[1];
        if (P < 0) break;
        if (P > prev) P = prev; /* monotone */
        prev = P;
        sum += P;
    }
    double tau = -1 + 2 * sum;
    *ess = (double)(C * n) / fmax(tau, 1.0 / log10((double)(C * n) + 10));
    ls_free(cm);
    ls_free(cv);
}

int ls_posterior_options_check(const ls_posterior_options *o, ls_error *err)
{
    if (o->chains < 2 || o->chains > 64)
        return ls_fail(err, LS_ERR_OPTION, "chains: expected 2..64, found %u", o->chains);
    if (o->draws < 20 || o->draws > 10000000)
        return ls_fail(err, LS_ERR_OPTION, "draws: expected 20..10000000, found %zu", o->draws);
    if (o->warmup > 10000000)
        return ls_fail(err, LS_ERR_OPTION, "warmup: expected 0..10000000, found %zu", o->warmup);
    return LS_OK;
}

/* The posterior's numbers into out (its arrays allocated here). */
static int posterior_compute(const ls_fit *f, const ls_data *d, size_t family,
                             const ls_posterior_options *o, lss_posterior *out, ls_error *err)
{
    size_t K = f->K, C = o->chains, n = o->draws;
    ls_sampler *s = NULL;
    int rc = ls_sampler_new(d, f, 1, 0, o->seed, &s, err);
    if (rc) return rc;
    ls_model *m = s->m;
    double *zcur = NULL, *zprop = NULL, *Sz = NULL, *Rinv = NULL, *tmp = NULL, *col = NULL;
    out->K = K;
    out->chains = C;
    out->draws = n;
    out->mode = ls_calloc(K, sizeof(double));
    out->laplace_cov = ls_calloc(K * K, sizeof(double));
    out->quad_mean = ls_calloc(K, sizeof(double));
    out->quad_cov = ls_calloc(K * K, sizeof(double));
    out->mcmc_mean = ls_calloc(K, sizeof(double));
    out->mcmc_cov = ls_calloc(K * K, sizeof(double));
    out->rhat = ls_calloc(K, sizeof(double));
    out->ess = ls_calloc(K, sizeof(double));
    out->sample = ls_calloc(C * n * K, sizeof(double));
    zcur = ls_calloc(K, sizeof(double));
    zprop = ls_calloc(K, sizeof(double));
    Sz = ls_calloc(K * K, sizeof(double));
    Rinv = ls_calloc(K * K, sizeof(double));
    tmp = ls_calloc(C * n, sizeof(double));
    col = ls_calloc(K, sizeof(double));
    if (!out->mode || !out->laplace_cov || !out->quad_mean || !out->quad_cov || !out->mcmc_mean ||
        !out->mcmc_cov || !out->rhat || !out->ess || !out->sample || !zcur || !zprop || !Sz ||
        !Rinv || !tmp || !col) {
        rc = ls_nomem(err);
        goto done;
    }
    rc = ls_sampler_params(s, 1, &family, 1, err);
    if (rc) goto done;
    ls_family_map fm;
    ls_model_family_map(m, family, &fm);
    const double *zm = fm.mode, *R = fm.chol;
    ls_sampler_z_to_alpha(s, zm, out->mode);
    ls_chol_inverse(R, K, Sz);
    to_alpha_cov(ls_model_sigma_chol(m), Sz, K, out->laplace_cov);
    /* Rinv = R^{-T} (columns), so z = zm + Rinv e has covariance (R R^T)^{-1} */
    for (size_t k = 0; k < K; k++) {
        for (size_t l = 0; l < K; l++) col[l] = l == k;
        ls_trsv_lower(R, K, 1, col);
        for (size_t l = 0; l < K; l++) Rinv[l * K + k] = col[l];
    }
    double qm[64];
    rc = ls_model_family_moments(m, family, qm, Sz, err);
    if (rc) goto done;
    ls_sampler_z_to_alpha(s, qm, out->quad_mean);
    to_alpha_cov(ls_model_sigma_chol(m), Sz, K, out->quad_cov);

    double scale = 2.38 / sqrt((double)K);
    size_t accepted = 0, tried = 0;
    for (size_t c = 0; c < C; c++) {
        double e[64];
        for (size_t k = 0; k < K; k++) e[k] = gsl_ran_gaussian_ziggurat(s->rng, 2.0);
        for (size_t a = 0; a < K; a++) {
            double v = zm[a];
            for (size_t l = 0; l < K; l++) v += Rinv[a * K + l] * e[l];
            zcur[a] = v;
        }
        double lp = ls_model_family_logpost(m, family, zcur, s->r);
        for (size_t t = 0; t < o->warmup + n; t++) {
            for (size_t k = 0; k < K; k++) e[k] = gsl_ran_gaussian_ziggurat(s->rng, scale);
            for (size_t a = 0; a < K; a++) {
                double v = zcur[a];
                for (size_t l = 0; l < K; l++) v += Rinv[a * K + l] * e[l];
                zprop[a] = v;
            }
            double lq = ls_model_family_logpost(m, family, zprop, s->r);
            int acc = isfinite(lq) && log(gsl_rng_uniform_pos(s->rng)) < lq - lp;
            if (acc) {
                memcpy(zcur, zprop, K * sizeof(double));
                lp = lq;
            }
            if (t >= o->warmup) {
                accepted += (size_t)acc;
                tried++;
                ls_sampler_z_to_alpha(s, zcur, out->sample + (c * n + (t - o->warmup)) * K);
            }
        }
    }
    out->accept = (double)accepted / (double)tried;
    size_t N = C * n;
    for (size_t i = 0; i < N; i++)
        for (size_t k = 0; k < K; k++) out->mcmc_mean[k] += out->sample[i * K + k] / (double)N;
    for (size_t i = 0; i < N; i++)
        for (size_t a = 0; a < K; a++)
            for (size_t b = 0; b < K; b++)
                out->mcmc_cov[a * K + b] += (out->sample[i * K + a] - out->mcmc_mean[a]) *
                                            (out->sample[i * K + b] - out->mcmc_mean[b]) / (double)(N - 1);
    for (size_t k = 0; k < K; k++) {
        for (size_t i = 0; i < N; i++) tmp[i] = out->sample[i * K + k];
        diagnose(tmp, C, n, &out->rhat[k], &out->ess[k]);
    }
done:
    ls_free(zcur); ls_free(zprop); ls_free(Sz); ls_free(Rinv); ls_free(tmp); ls_free(col);
    ls_sampler_free(s);
    return rc;
}

int ls_posterior_run(const ls_fit *f, const ls_data *d, size_t family,
                     const ls_posterior_options *o, ls_result **out, ls_error *err)
{
    *out = NULL;
    if (family >= d->F) return ls_fail(err, LS_ERR_OPTION, "family: index %zu out of range", family);
    int rc = ls_posterior_options_check(o, err);
    if (rc) return rc;
    lss_posterior *p = ls_calloc(1, sizeof *p);
    if (!p) return ls_nomem(err);
    p->seed = o->seed;
    rc = posterior_compute(f, d, family, o, p, err);
    if (!rc && (!(p->family = ls_strdup(d->family[family])) || !(p->skills = lss_skill_names(f, d))))
        rc = ls_nomem(err);
    if (rc) {
        posterior_free(p);
        return rc;
    }
    ls_result *r = NULL;
    if ((rc = ls_result_new("posterior", p, posterior_free, &r, err))) return rc;
    size_t K = p->K;
    const char *S = "skills";
    if (!rc) rc = ls_result_add_string(r, "family", p->family, err);
    if (!rc) rc = ls_result_add_strings(r, S, p->skills, K, err);
    if (!rc) rc = ls_result_add_numbers(r, "mode", p->mode, K, 1, S, NULL, err);
    if (!rc) rc = ls_result_add_numbers(r, "laplace_cov", p->laplace_cov, K, K, S, S, err);
    if (!rc) rc = ls_result_add_numbers(r, "quad_mean", p->quad_mean, K, 1, S, NULL, err);
    if (!rc) rc = ls_result_add_numbers(r, "quad_cov", p->quad_cov, K, K, S, S, err);
    if (!rc) rc = ls_result_add_numbers(r, "mcmc_mean", p->mcmc_mean, K, 1, S, NULL, err);
    if (!rc) rc = ls_result_add_numbers(r, "mcmc_cov", p->mcmc_cov, K, K, S, S, err);
    if (!rc) rc = ls_result_add_numbers(r, "rhat", p->rhat, K, 1, S, NULL, err);
    if (!rc) rc = ls_result_add_numbers(r, "ess", p->ess, K, 1, S, NULL, err);
    if (!rc) rc = ls_result_add_number(r, "accept", p->accept, err);
    if (!rc) rc = ls_result_add_numbers(r, "sample", p->sample, p->chains * p->draws, K, NULL, S, err);
    if (!rc) rc = ls_result_add_number(r, "chains", (double)p->chains, err);
    if (!rc) rc = ls_result_add_number(r, "draws", (double)p->draws, err);
    if (!rc) rc = lss_result_fit_warnings(r, f, err);
    if (!rc) rc = ls_result_add_number(r, "seed", (double)p->seed, err);
    if (rc) {
        ls_result_free(r);
        return rc;
    }
    ls_result_set_writer(r, lss_write_posterior);
    *out = r;
    return LS_OK;
}

/* ---------------------------------------------------------------- */
/* Family comparison                                                 */
/* ---------------------------------------------------------------- */

static void comparison_free(void *v)
{
    lss_comparison *c = v;
    if (!c) return;
    ls_free(c->mean_a);
    ls_free(c->mean_b);
    ls_free(c->diff);
    ls_free(c->lower);
    ls_free(c->upper);
    ls_free(c->prob_greater);
    ls_free(c->family_a);
    ls_free(c->family_b);
    if (c->skills) ls_strv_free(c->skills, c->K);
    ls_free(c);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int compare_compute(const ls_fit *f, const ls_data *d, size_t fa, size_t fb,
                           const ls_predict_options *o, lss_comparison *out, ls_error *err)
{
    size_t K = f->K, S = o->param_draws ? o->param_draws : 1, M = o->latent_draws ? o->latent_draws : 50;
    ls_sampler *s = NULL;
    int pk = ls_param_cov_kind(o->param_cov, err);
    if (pk < 0) return LS_ERR_OPTION;
    int rc = ls_sampler_new(d, f, o->threads, o->param_draws > 0 ? pk : 0, o->seed, &s, err);
    if (rc) return rc;
    size_t N = S * M;
    double *da = ls_calloc(M * K, sizeof(double)), *db = ls_calloc(M * K, sizeof(double));
    double *diff = ls_calloc(N * K, sizeof(double)), *col = ls_calloc(N, sizeof(double));
    out->K = K;
    out->level = o->level;
    out->mean_a = ls_calloc(K, sizeof(double));
    out->mean_b = ls_calloc(K, sizeof(double));
    out->diff = ls_calloc(K, sizeof(double));
    out->lower = ls_calloc(K, sizeof(double));
    out->upper = ls_calloc(K, sizeof(double));
    out->prob_greater = ls_calloc(K, sizeof(double));
    if (!da || !db || !diff || !col || !out->mean_a || !out->mean_b || !out->diff || !out->lower ||
        !out->upper || !out->prob_greater) {
        rc = ls_nomem(err);
        goto done;
    }
    size_t fams[2] = {fa, fb};
    for (size_t t = 0; t < S && !rc; t++) {
        rc = ls_sampler_params(s, o->param_draws == 0, fams, 2, err);
        if (!rc) rc = ls_sampler_alpha(s, fa, M, da, err);
        if (!rc) rc = ls_sampler_alpha(s, fb, M, db, err);
        if (rc) break;
        for (size_t i = 0; i < M; i++)
            for (size_t k = 0; k < K; k++) {
                out->mean_a[k] += da[i * K + k] / (double)N;
                out->mean_b[k] += db[i * K + k] / (double)N;
                diff[(t * M + i) * K + k] = da[i * K + k] - db[i * K + k];
            }
    }
    if (rc) goto done;
    for (size_t k = 0; k < K; k++) {
        size_t pos = 0;
        double sum = 0;
        for (size_t i = 0; i < N; i++) {
            col[i] = diff[i * K + k];
            sum += col[i];
            pos += col[i] > 0;
        }
        qsort(col, N, sizeof(double), cmp_double);
        out->diff[k] = sum / (double)N;
        out->lower[k] = ls_quantile_sorted(col, N, (1 - o->level) / 2);
        out->upper[k] = ls_quantile_sorted(col, N, (1 + o->level) / 2);
        out->prob_greater[k] = (double)pos / (double)N;
    }
done:
    ls_free(da); ls_free(db); ls_free(diff); ls_free(col);
    ls_sampler_free(s);
    return rc;
}

int ls_compare(const ls_fit *f, const ls_data *d, size_t fa, size_t fb, const ls_predict_options *o,
               ls_result **out, ls_error *err)
{
    *out = NULL;
    if (fa >= d->F || fb >= d->F) return ls_fail(err, LS_ERR_OPTION, "families: index out of range");
    if (fa == fb) return ls_fail(err, LS_ERR_OPTION, "families: name two different families");
    int rc = ls_predict_options_check(o, err);
    if (rc) return rc;
    lss_comparison *c = ls_calloc(1, sizeof *c);
    if (!c) return ls_nomem(err);
    c->seed = o->seed;
    rc = compare_compute(f, d, fa, fb, o, c, err);
    if (!rc && (!(c->family_a = ls_strdup(d->family[fa])) || !(c->family_b = ls_strdup(d->family[fb])) ||
                !(c->skills = lss_skill_names(f, d))))
        rc = ls_nomem(err);
    if (rc) {
        comparison_free(c);
        return rc;
    }
    ls_result *r = NULL;
    if ((rc = ls_result_new("comparison", c, comparison_free, &r, err))) return rc;
    size_t K = c->K;
    const char *S = "skills";
    rc = ls_result_add_string(r, "family_a", c->family_a, err);
    if (!rc) rc = ls_result_add_string(r, "family_b", c->family_b, err);
    if (!rc) rc = ls_result_add_strings(r, S, c->skills, K, err);
    if (!rc) rc = ls_result_add_numbers(r, "mean_a", c->mean_a, K, 1, S, NULL, err);
    if (!rc) rc = ls_result_add_numbers(r, "mean_b", c->mean_b, K, 1, S, NULL, err);
    if (!rc) rc = ls_result_add_numbers(r, "diff", c->diff, K, 1, S, NULL, err);
    if (!rc) rc = ls_result_add_numbers(r, "lower", c->lower, K, 1, S, NULL, err);
    if (!rc) rc = ls_result_add_numbers(r, "upper", c->upper, K, 1, S, NULL, err);
    if (!rc) rc = ls_result_add_numbers(r, "prob_greater", c->prob_greater, K, 1, S, NULL, err);
    if (!rc) rc = ls_result_add_number(r, "level", c->level, err);
    if (!rc) rc = ls_result_add_number(r, "seed", (double)c->seed, err);
    if (!rc) rc = lss_result_fit_warnings(r, f, err);
    if (rc) {
        ls_result_free(r);
        return rc;
    }
    ls_result_set_writer(r, lss_write_comparison);
    *out = r;
    return LS_OK;
}
