/*
 * sampler.c -- draws for the downstream tasks (spec "Inference and
 * downstream tasks"): the parameters from the asymptotic normal of the
 * estimates (theta scale, covariance = inverse observed information), and a
 * family's skills from its posterior p(alpha_f | y_f, theta) under each
 * draw.
 *
 * The family posterior is sampled by sampling-importance-resampling: 4M
 * proposals from a normal placed by the family's adapted quadrature map
 * (centre and scale, widened by 1.25), weighted by posterior / proposal and
 * resampled systematically down to M.  The map already matches the
 * posterior's location and curvature, so the weights are nearly flat.
 */
#include "scaling/tasks.h"
#include "kernel/linalg.h"
#include "kernel/special.h"

#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROPOSALS_PER_DRAW 4
#define PROPOSAL_SCALE 1.25

void ls_sampler_free(ls_sampler *s)
{
    if (!s) return;
    ls_model_free(s->m);
    ls_free(s->chol);
    ls_free(s->th);
    ls_free(s->eps);
    ls_free(s->prop);
    ls_free(s->lw);
    ls_free(s->r);
    if (s->rng) gsl_rng_free(s->rng);
    ls_free(s);
}

int ls_param_cov_kind(const char *param_cov, ls_error *err)
{
    if (!param_cov || !*param_cov || strcmp(param_cov, "hessian") == 0) return 1;
    if (strcmp(param_cov, "sandwich") == 0) return 2;
    ls_fail(err, LS_ERR_OPTION, "param_cov: expected hessian or sandwich, found '%s'", param_cov);
    return -1;
}

/* The family effect's scales are held at their estimates in parameter
 * draws, as variance components usually are in mixed-model predictions:
 * the normal approximation of an sd's uncertainty is poor near 0, where
 * most of these estimates sit (on the paper split at K = 2, drawing tau
 * from it took the MAE from 0.0491, held, to 0.0515, the boundary
 * benchmarks' most).  The other parameters are drawn from their law given tau, with
 * covariance V_rr - V_rt V_tt^-1 V_tr; V (dim x dim) becomes that block
 * beside an identity tau block, whose rows the caller zeroes after the
 * Cholesky factorisation.  Returns 1 when it held tau, 0 when the fit has
 * no effect, -1 when V_tt is not positive definite, -2 out of memory. */
static int hold_tau(const ls_model *m, double *V)
{
    ls_layout l;
    ls_model_layout(m, &l);
    if (!l.fe) return 0;
    size_t n = l.dim, J = l.J, t0 = l.off_t;
    double *Lt = ls_calloc(J * J + J, sizeof(double)), *x = Lt ? Lt + J * J : NULL;
    if (!Lt) return -2;
    for (size_t a = 0; a < J; a++)
        for (size_t b = 0; b < J; b++) Lt[a * J + b] = V[(t0 + a) * n + t0 + b];
    if (ls_chol(Lt, J)) {
        ls_free(Lt);
        return -1;
    }
    for (size_t c = 0; c < t0; c++) {
        for (size_t a = 0; a < J; a++) x[a] = V[(t0 + a) * n + c];
        ls_chol_solve(Lt, J, x);
        for (size_t r = c; r < t0; r++) {
            double sub = 0;
            for (size_t a = 0; a < J; a++) sub += V[r * n + t0 + a] * x[a];
            V[r * n + c] -= sub;
            if (r != c) V[c * n + r] = V[r * n + c];
        }
    }
    ls_free(Lt);
    for (size_t a = 0; a < J; a++) {
        for (size_t i = 0; i < n; i++) V[(t0 + a) * n + i] = V[i * n + t0 + a] = 0;
        V[(t0 + a) * n + t0 + a] = 1;
    }
    return 1;
}

int ls_sampler_new(const ls_data *d, const ls_fit *f, unsigned threads, int param_uncertainty,
                   uint64_t seed, ls_sampler **out, ls_error *err)
{
    *out = NULL;
    ls_gsl_quiet();
    ls_sampler *s = ls_calloc(1, sizeof *s);
    if (!s) return ls_nomem(err);
    s->d = d;
    s->fit = f;
    int rc = ls_fit_model_new(d, &f->opt, f->opt.integration, f->opt.nodes, threads, &s->m, err);
    if (rc) goto fail;
    size_t dim = ls_model_dim(s->m);
    if (dim != f->dim) {
        rc = ls_fail(err, LS_ERR_INPUT, "the fit has %zu parameters, its data imply %zu", f->dim, dim);
        goto fail;
    }
    s->th = ls_calloc(dim, sizeof(double));
    s->eps = ls_calloc(dim, sizeof(double));
    s->r = ls_calloc(ls_model_logpost_scratch(s->m), sizeof(double));
    s->rng = gsl_rng_alloc(gsl_rng_mt19937);
    if (!s->th || !s->eps || !s->r || !s->rng) { rc = ls_nomem(err); goto fail; }
    gsl_rng_set(s->rng, (unsigned long)(seed ? seed : 1));
    double ll;
    rc = ls_model_loglik(s->m, f->theta, &ll, NULL, NULL, err);
    if (rc) goto fail;
    if (param_uncertainty) {
        ls_inference own;
        memset(&own, 0, sizeof own);
        const double *V = param_uncertainty == 2 ? f->inf.theta_cov_sw : f->inf.theta_cov;
        if (!V || !isfinite(V[0])) {
            rc = ls_infer(s->m, f->theta, &own, err);
            if (rc) goto fail;
            V = param_uncertainty == 2 ? own.theta_cov_sw : own.theta_cov;
        }
        s->chol = ls_calloc(dim * dim, sizeof(double));
        if (!s->chol) { ls_inference_free(&own); rc = ls_nomem(err); goto fail; }
        memcpy(s->chol, V, dim * dim * sizeof(double));
        ls_inference_free(&own);
        int hold = isfinite(s->chol[0]) ? hold_tau(s->m, s->chol) : 0;
        if (hold == -2) { rc = ls_nomem(err); goto fail; }
        if (hold < 0 || !isfinite(s->chol[0]) || ls_chol(s->chol, dim)) {
            rc = ls_fail(err, LS_ERR_NUMERIC,
                         "the %s is not positive definite, so parameter uncertainty is unavailable (set the parameter draws to 0)",
                         param_uncertainty == 2 ? "sandwich covariance" : "observed information");
            goto fail;
        }
        for (size_t j = 0; j < ls_model_data(s->m)->J && hold; j++) { /* tau rows: no noise */
            size_t i = dim - ls_model_data(s->m)->J + j;
            memset(s->chol + i * dim, 0, dim * sizeof(double));
        }
        /* re-adapt every family at the estimate (ls_infer froze nodes) */
        rc = ls_model_loglik(s->m, f->theta, &ll, NULL, NULL, err);
        if (rc) goto fail;
    }
    memcpy(s->th, f->theta, dim * sizeof(double));
    *out = s;
    return LS_OK;
fail:
    ls_sampler_free(s);
    return rc;
}

int ls_sampler_params(ls_sampler *s, int point, const size_t *fams, size_t nf, ls_error *err)
{
    size_t dim = ls_model_dim(s->m);
    int rc = LS_OK;
    /* a draw far in the tails can make a family's posterior degenerate:
     * redraw (a handful of times at most) */
    for (int attempt = 0; attempt < 20; attempt++) {
        memcpy(s->th, s->fit->theta, dim * sizeof(double));
        if (!point && s->chol) {
            for (size_t i = 0; i < dim; i++) s->eps[i] = gsl_ran_gaussian_ziggurat(s->rng, 1.0);
            for (size_t i = 0; i < dim; i++) {
                double v = 0;
                for (size_t k = 0; k <= i; k++) v += s->chol[i * dim + k] * s->eps[k];
                s->th[i] += v;
            }
        }
        rc = ls_model_eval_families(s->m, s->th, fams, nf, err);
        if (rc != LS_ERR_NUMERIC || point || !s->chol) return rc;
    }
    /* every redraw failed: the covariance is too wide to draw from, typically
     * a nearly singular information (a direction the data do not fix) */
    char why[200] = "";
    if (err) { /* the cause, cut to fit */
        size_t len = strlen(err->message);
        if (len >= sizeof why) len = sizeof why - 1;
        memcpy(why, err->message, len);
        why[len] = '\0';
    }
    double me = s->fit->inf.min_eig;
    if (isfinite(me) && me < 1e-6)
        return ls_fail(err, LS_ERR_NUMERIC,
                       "parameter draws: 20 draws in a row failed (%s); the observed information is nearly "
                       "singular (smallest eigenvalue %.2g), so the parameter uncertainty is too wide to draw "
                       "from: set the parameter draws to 0 (predictions at the estimates), or fit fewer skills or "
                       "estimated ceilings",
                       why, me);
    return ls_fail(err, LS_ERR_NUMERIC,
                   "parameter draws: 20 draws in a row failed (%s): set the parameter draws to 0 (predictions "
                   "at the estimates)",
                   why);
}

void ls_sampler_z_to_alpha(const ls_sampler *s, const double *z, double *alpha)
{
    ls_model_z_to_alpha(s->m, z, alpha);
}

int ls_sampler_alpha(ls_sampler *s, size_t f, size_t M, double *alpha, ls_error *err)
{
    return ls_sampler_alpha_u(s, f, M, alpha, NULL, err);
}

/* The family effect of the draw at z (uout: J values), eps from the rng;
 * nothing when uout is NULL or the fit has no family effect (the stream of
 * random numbers is then that of ls_sampler_alpha). */
static int draw_u(ls_sampler *s, size_t f, const double *z, double *uout, ls_error *err)
{
    if (!uout || !ls_model_family_effect(s->m)) return LS_OK;
    size_t J = s->d->J;
    double *eps = ls_calloc(J, sizeof(double));
    if (!eps) return ls_nomem(err);
    for (size_t j = 0; j < J; j++) eps[j] = gsl_ran_gaussian_ziggurat(s->rng, 1.0);
    ls_model_family_effect_draw(s->m, f, z, eps, uout, s->r);
    ls_free(eps);
    return LS_OK;
}

int ls_sampler_alpha_u(ls_sampler *s, size_t f, size_t M, double *alpha, double *uall, ls_error *err)
{
    ls_model *m = s->m;
    size_t K = s->fit->K, J = s->d->J;
    double z[64];
    if (K > 64) return ls_fail(err, LS_ERR_OPTION, "at most 64 skills are supported here");
    if (uall && !ls_model_family_effect(m)) memset(uall, 0, M * J * sizeof(double));
    if (f == LS_PRIOR) {
        for (size_t i = 0; i < M; i++) {
            for (size_t k = 0; k < K; k++) z[k] = gsl_ran_gaussian_ziggurat(s->rng, 1.0);
            ls_sampler_z_to_alpha(s, z, alpha + i * K);
            int rc = draw_u(s, f, z, uall ? uall + i * J : NULL, err);
            if (rc) return rc;
        }
        return LS_OK;
    }
    size_t N = PROPOSALS_PER_DRAW * M;
    if (N > s->nprop) {
        ls_free(s->prop);
        ls_free(s->lw);
        s->prop = ls_calloc(N * K, sizeof(double));
        s->lw = ls_calloc(N, sizeof(double));
        if (!s->prop || !s->lw) { s->nprop = 0; return ls_nomem(err); }
        s->nprop = N;
    }
    ls_family_map fm;
    ls_model_family_map(m, f, &fm);
    const double *A = fm.A, *c = fm.center;
    double logdet = fm.logdet, sc = PROPOSAL_SCALE;
    for (size_t i = 0; i < N; i++) {
        double u[64], lq = -logdet - (double)K * (log(sc) + 0.5 * 1.8378770664093454836);
        for (size_t k = 0; k < K; k++) {
            u[k] = gsl_ran_gaussian_ziggurat(s->rng, sc);
            lq -= 0.5 * (u[k] / sc) * (u[k] / sc);
        }
        double *zi = s->prop + i * K;
        for (size_t a = 0; a < K; a++) {
            double v = c[a];
            for (size_t l = 0; l < K; l++) v += A[a * K + l] * u[l];
            zi[a] = v;
        }
        s->lw[i] = ls_model_family_logpost(m, f, zi, s->r) - lq;
    }
    double lse = ls_logsumexp(s->lw, N);
    if (!isfinite(lse))
        return ls_fail(err, LS_ERR_NUMERIC, "posterior of family '%s' could not be sampled",
                       s->d->family[f]);
    /* systematic resampling */
    double step = 1.0 / (double)M, u0 = gsl_rng_uniform(s->rng) * step, cum = 0;
    size_t i = 0;
    for (size_t q = 0; q < N && i < M; q++) {
        cum += exp(s->lw[q] - lse);
        while (i < M && u0 + (double)i * step < cum) {
            ls_sampler_z_to_alpha(s, s->prop + q * K, alpha + i * K);
            int rc = draw_u(s, f, s->prop + q * K, uall ? uall + i * J : NULL, err);
            if (rc) return rc;
            i++;
        }
    }
    for (; i < M; i++) {
        ls_sampler_z_to_alpha(s, s->prop + (N - 1) * K, alpha + i * K);
        int rc = draw_u(s, f, s->prop + (N - 1) * K, uall ? uall + i * J : NULL, err);
        if (rc) return rc;
    }
    return LS_OK;
}

/* ---------------------------------------------------------------- */
/* Small helpers                                                     */
/* ---------------------------------------------------------------- */

int ls_table_subset(const ls_table *t, const size_t *rows, size_t n, ls_table **out, ls_error *err)
{
    *out = NULL;
    size_t nc = ls_table_ncol(t);
    const char **names = ls_calloc(nc ? nc : 1, sizeof *names);
    const char **cells = ls_calloc(nc ? nc : 1, sizeof *cells);
    if (!names || !cells) {
        ls_free(names); ls_free(cells);
        return ls_nomem(err);
    }
    for (size_t c = 0; c < nc; c++) names[c] = ls_table_colname(t, c);
    ls_table *u = NULL;
    int rc = ls_table_new(ls_table_name(t), nc, names, &u, err);
    for (size_t i = 0; i < n && !rc; i++) {
        for (size_t c = 0; c < nc; c++) cells[c] = ls_table_cell(t, rows[i], c);
        rc = ls_table_append(u, cells, err);
    }
    ls_free(names);
    ls_free(cells);
    if (rc) { ls_table_free(u); return rc; }
    *out = u;
    return LS_OK;
}

double ls_quantile_sorted(const double *v, size_t n, double q)
{
    if (n == 0) return NAN;
    double h = q * (double)(n - 1);
    size_t lo = (size_t)floor(h);
    if (lo >= n - 1) return v[n - 1];
    return v[lo] + (h - (double)lo) * (v[lo + 1] - v[lo]);
}

char *ls_data_bench_list(const ls_data *d)
{
    size_t len = 1;
    for (size_t j = 0; j < d->J; j++) len += strlen(d->bench[j]) + 1;
    char *s = ls_calloc(len, 1);
    if (!s) return NULL;
    for (size_t j = 0; j < d->J; j++) {
        if (j) strcat(s, ",");
        strcat(s, d->bench[j]);
    }
    return s;
}

long ls_data_find_family(const ls_data *d, const char *name)
{
    for (size_t f = 0; f < d->F; f++)
        if (strcmp(d->family[f], name) == 0) return (long)f;
    return -1;
}
