/*
 * test_factor_mml.c -- marginal maximum likelihood of the factor model
 * (factor/mml.c on the partial credit model's MML engine, gpcm/mml.c):
 * the covariate shift's derivative against differences, recovery of
 * loadings, DIF and the latent regression on simulated short tests, the
 * same optimum as the partial credit model's MML on binary items, the
 * size of the likelihood-ratio DIF test, auto's choice, the option checks,
 * and agreement with lme4::glmer on the bfi neuroticism items (reference
 * figures in tests/reference, written by bench/reference/lme4_rasch.R;
 * skipped when ../shared/data is absent).
 *
 * `test_factor_mml --quick` runs the same checks on smaller samples with
 * looser bounds, for a quick look by hand (not a CTest entry).
 */
#include "harness.h"
#include "factor/fit.h"
#include "gpcm/model.h"
#include "kernel/core.h"
#include "kernel/rng.h"

#include <stdlib.h>

#ifndef LS_SOURCE_DIR
#define LS_SOURCE_DIR "."
#endif

static int quick;

/* A short binary test: n persons, q items, r = 1, covariate x1 ~ Bernoulli
 * (0.5) and x2 ~ N(0, 1); theta = lreg . x + N(0, 1); item j's logit
 * a_j theta + c_j + dif_j . x.  Y is n x q (NaN missing with rate miss). */
typedef struct sim {
    size_t n, q, p;
    double *Y, *X, *a, *c, *dif; /* dif: q x p */
    double lreg[2];
} sim;

static void sim_free(sim *s)
{
    free(s->Y);
    free(s->X);
    free(s->a);
    free(s->c);
    free(s->dif);
}

static void simulate(size_t n, size_t q, int with_dif, double miss, uint64_t seed, sim *s)
{
    ls_rng g = {seed};
    s->n = n;
    s->q = q;
    s->p = 2;
    s->Y = malloc(n * q * sizeof *s->Y);
    s->X = malloc(n * 2 * sizeof *s->X);
    s->a = malloc(q * sizeof *s->a);
    s->c = malloc(q * sizeof *s->c);
    s->dif = calloc(q * 2, sizeof *s->dif);
    s->lreg[0] = 0.5;
    s->lreg[1] = -0.3;
    for (size_t j = 0; j < q; j++) {
        s->a[j] = 0.7 + 1.1 * (double)j / (double)(q - 1);
        s->c[j] = -1.0 + 2.0 * (double)((j * 7) % q) / (double)(q - 1);
    }
    if (with_dif) {
        if (q > 2) s->dif[2 * 2 + 0] = 0.8;  /* item 3: x1 */
        if (q > 6) s->dif[6 * 2 + 0] = -0.7; /* item 7: x1 */
        if (q > 4) s->dif[4 * 2 + 1] = 0.5;  /* item 5: x2 */
    }
    for (size_t i = 0; i < n; i++) {
        double x1 = ls_rng_unif(&g) < 0.5, x2 = ls_rng_norm(&g);
        s->X[i * 2] = x1;
        s->X[i * 2 + 1] = x2;
        double th = s->lreg[0] * x1 + s->lreg[1] * x2 + ls_rng_norm(&g);
        for (size_t j = 0; j < q; j++) {
            double w = s->a[j] * th + s->c[j] + s->dif[j * 2] * x1 + s->dif[j * 2 + 1] * x2;
            double y = ls_rng_unif(&g) < 1 / (1 + exp(-w));
            s->Y[i * q + j] = ls_rng_unif(&g) < miss ? NAN : y;
        }
    }
}

static ls_factor_data as_data(const sim *s, size_t p)
{
    ls_factor_data d;
    double *X = p ? s->X : NULL;
    if (p == 1) { /* the first covariate only */
        X = malloc(s->n * sizeof *X);
        for (size_t i = 0; i < s->n; i++) X[i] = s->X[i * 2];
    }
    if (lsf_data_view(&d, s->n, s->q, p, s->Y, X)) {
        fprintf(stderr, "as_data: out of memory\n");
        exit(1);
    }
    return d;
}

static const lsf_fit *payload(const ls_result *r) { return ls_result_payload(r, "factor-fit"); }

/* The derivative of a person's marginal log-likelihood in the item shifts
 * (through which the DIF and latent-regression gradients flow) against
 * central differences, at fixed nodes. */
static void shift_derivative_matches_differences(void)
{
    const size_t N = 3, J = 4, K = 2;
    int Y[12] = {1, 0, 1, 1, 0, 0, 1, -1, 1, 1, 0, 1};
    unsigned P[4] = {1, 1, 1, 1};
    int pat[8] = {1, 0, 1, 1, 1, 1, 1, 1};
    lsg_model m;
    ls_error e;
    CHECK(lsg_init(&m, N, J, K, Y, P, pat, 1, 1, &e) == 0);
    double a[8] = {0.9, 0, 0.4, 1.1, -0.3, 0.7, 1.2, 0.2}, b[8] = {0, 0.3, 0, -0.4, 0, 0.8, 0, -1.1};
    lsg_set(&m, a, b, NULL);
    for (size_t i = 0; i < N; i++) {
        m.mu[i * K] = 0.1 * (double)i;
        m.S[i * K * K] = m.S[i * K * K + 3] = 0.6;
        m.S[i * K * K + 1] = m.S[i * K * K + 2] = 0.1;
    }
    lsg_quad q;
    CHECK(lsg_quad_init(&q, &m, 7, &e) == 0);
    double si[4] = {1, 0, 0, 1}, *w = malloc(lsg_quad_work(&q) * sizeof *w);
    double ga[8], gb[8], gs[4], gsh[4], shift[4] = {0.2, -0.5, 0.1, 0.7};
    double worst = 0;
    for (size_t i = 0; i < N; i++) {
        /* only the answered items' entries are written: the others keep these zeros */
        memset(gsh, 0, sizeof gsh);
        lsg_quad_person(&q, i, m.a, m.b, shift, gsh, si, 0, ga, gb, gs, NULL, NULL, w);
        for (size_t j = 0; j < J; j++) {
            double s0 = shift[j], h = 1e-6;
            shift[j] = s0 + h;
            double lp = lsg_quad_person(&q, i, m.a, m.b, shift, NULL, si, 0, NULL, NULL, NULL, NULL, NULL, w);
            shift[j] = s0 - h;
            double lm = lsg_quad_person(&q, i, m.a, m.b, shift, NULL, si, 0, NULL, NULL, NULL, NULL, NULL, w);
            shift[j] = s0;
            double fd = (lp - lm) / (2 * h);
            worst = fmax(worst, fabs(fd - gsh[j]));
            if (Y[i * J + j] < 0) CHECK(gsh[j] == 0); /* a missing answer has no shift */
        }
    }
    CHECK_MSG(worst < 1e-7, "max |analytic - difference| = %g", worst);
    free(w);
    lsg_quad_free(&q);
    lsg_free(&m);
}

/* The observed information by Louis' identity (binary items) equals the
 * central differences of the analytic gradient, with DIF shifts, with two
 * factors, and with one shared slope; the scores' cross-products agree. */
static void analytic_information_matches_differences(void)
{
    const size_t N = 60, J = 5, p = 2;
    for (int variant = 0; variant < 3; variant++) {
        const size_t K = variant == 1 ? 2 : 1;
        sim s;
        simulate(N, J, 1, 0.1, 40 + (uint64_t)variant, &s);
        int *Y = malloc(N * J * sizeof *Y), *pat = malloc(J * K * sizeof *pat);
        unsigned P[5] = {1, 1, 1, 1, 1};
        for (size_t c = 0; c < N * J; c++) Y[c] = isnan(s.Y[c]) ? -1 : (int)s.Y[c];
        for (size_t j = 0; j < J; j++)
            for (size_t k = 0; k < K; k++) pat[j * K + k] = !(j < K && k > j);
        lsg_model m;
        ls_error e;
        CHECK(lsg_init(&m, N, J, K, Y, P, pat, 1, 2, &e) == 0);
        m.equal_slopes = variant == 2;
        double a[10], b[10] = {0};
        for (size_t j = 0; j < J; j++) {
            for (size_t k = 0; k < K; k++) a[j * K + k] = pat[j * K + k] ? (variant == 2 ? 1.1 : 0.6 + 0.2 * (double)(j + k)) : 0;
            b[2 * j + 1] = -0.3 + 0.25 * (double)j;
        }
        lsg_set(&m, a, b, NULL);
        for (size_t i = 0; i < N; i++)
            for (size_t k = 0; k < K; k++) m.S[i * K * K + k * K + k] = 0.5;
        CHECK(lsg_set_covariates(&m, s.X, p, LSG_X_DIF, &e) == 0);
        for (size_t c = 0; c < J * p; c++) m.dif[c] = 0.1 * (double)((c * 3) % 5) - 0.2;
        size_t D1, D2;
        double *x1, *H1, *S1, *x2, *H2, *S2, l1, l2;
        /* each call re-centres the nodes once: let them settle first */
        for (int settle = 0; settle < 6; settle++) {
            CHECK(lsg_mml_information(&m, 9, 0, &D1, &x1, &H1, &S1, &l1, &e) == 0);
            free(x1), free(H1), free(S1);
        }
        CHECK(lsg_mml_information(&m, 9, 0, &D1, &x1, &H1, &S1, &l1, &e) == 0);
        CHECK(lsg_mml_information(&m, 9, 1, &D2, &x2, &H2, &S2, &l2, &e) == 0);
        CHECK(D1 == D2);
        CHECK_NEAR(l1, l2, 1e-8 * fabs(l1));
        double worst = 0, worst_s = 0, big = 0;
        for (size_t c = 0; c < D1 * D1; c++) {
            worst = fmax(worst, fabs(H1[c] - H2[c]));
            worst_s = fmax(worst_s, fabs(S1[c] - S2[c]));
            big = fmax(big, fabs(H2[c]));
        }
        printf("  variant %d (K = %zu, %zu parameters): max |Louis - differences| %.2g (largest entry %.3g), "
               "cross-products %.2g\n", variant, K, D1, worst, big, worst_s);
        CHECK_MSG(worst < 1e-5 * big, "variant %d: %g", variant, worst);
        CHECK_MSG(worst_s < 1e-9 * big, "variant %d: %g", variant, worst_s);
        free(x1), free(H1), free(S1), free(x2), free(H2), free(S2);
        lsg_free(&m);
        free(Y);
        free(pat);
        sim_free(&s);
    }
}

/* Loadings, DIF effects and the latent regression recovered on a short test
 * (12 items); the three DIF effects flagged and no other under Bonferroni;
 * the standard errors match the spread of the estimates (z within 4). */
static void recovers_loadings_dif_and_latent_regression(void)
{
    sim s;
    size_t n = quick ? 1500 : 4000, q = 12;
    simulate(n, q, 1, 0.05, 11, &s);
    ls_factor_data d = as_data(&s, 2);
    ls_factor_options o;
    ls_factor_options_init(&o);
    o.method = LS_FACTOR_MML;
    o.threads = 2;
    o.dif_lr = 1;
    ls_result *r = NULL, *dr = NULL;
    ls_error e;
    int rc = ls_factor_run(&d, &o, &r, &e);
    CHECK_MSG(rc == 0, "%s", e.message);
    if (rc) {
        lsf_data_view_free(&d);
        sim_free(&s);
        return;
    }
    const lsf_fit *f = payload(r);
    CHECK(f->method == LS_FACTOR_MML && f->converged);
    double worst_z = 0;
    for (size_t j = 0; j < q; j++) {
        double z = (f->gamma[j] - s.a[j]) / f->se_gamma[j];
        worst_z = fmax(worst_z, fabs(z));
        for (size_t t = 0; t < 2; t++) {
            double se = f->se_beta[j * 3 + 1 + t];
            if (se > 0 && isfinite(se)) worst_z = fmax(worst_z, fabs(f->beta[j * 3 + 1 + t] - s.dif[j * 2 + t]) / se);
        }
    }
    printf("  n = %zu, 12 items, 2 covariates: loglik %.2f, %u iterations; worst |z| of loadings and DIF %.2f; "
           "latent regression %.3f, %.3f (truth 0.5, -0.3); LR %.1f on %zu df\n",
           n, f->loglik, f->iterations, worst_z, f->A[0], f->A[1], f->lr_dif, f->lr_df);
    CHECK(worst_z < 4.0);
    CHECK_NEAR(f->A[0], 0.5, quick ? 0.2 : 0.12);
    CHECK_NEAR(f->A[1], -0.3, quick ? 0.15 : 0.08);
    CHECK(f->lr_df == 12 * 2 - 2);
    CHECK(f->lr_p < 1e-6);
    CHECK(isfinite(f->aic) && f->bic > f->aic);
    rc = ls_factor_dif_run(r, 0.05, LS_FACTOR_BONFERRONI, &dr, &e);
    CHECK_MSG(rc == 0, "%s", e.message);
    if (!rc) {
        const lsf_dif *dif = ls_result_payload(dr, "factor-dif");
        for (size_t j = 0; j < q; j++)
            for (size_t t = 0; t < 2; t++) {
                int truth = s.dif[j * 2 + t] != 0;
                CHECK_MSG(dif->flag[j * 2 + t] == truth, "item %zu covariate %zu: flag %d, truth %d", j + 1, t + 1,
                          dif->flag[j * 2 + t], truth);
            }
    }
    /* scores: posterior means correlate with the truth's regression part */
    double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
    for (size_t i = 0; i < n; i++) {
        double u = f->U[i], v = 0.5 * s.X[i * 2] - 0.3 * s.X[i * 2 + 1];
        sx += u, sy += v, sxx += u * u, syy += v * v, sxy += u * v;
    }
    double cor = (sxy - sx * sy / (double)n) / sqrt((sxx - sx * sx / (double)n) * (syy - sy * sy / (double)n));
    CHECK(cor > 0.3);
    ls_result_free(dr);
    ls_result_free(r);
    lsf_data_view_free(&d);
    sim_free(&s);
}

/* Without DIF in the data the likelihood-ratio test rejects at about its
 * level: over replications, the share of p < 0.05 stays within binomial
 * noise of 5 %, and the p-values are not piled at 0. */
static void likelihood_ratio_test_holds_its_size(void)
{
    const int R = quick ? 20 : 80;
    int rej = 0;
    double mean_p = 0;
    for (int k = 0; k < R; k++) {
        sim s;
        simulate(600, 8, 0, 0.0, 1000 + (uint64_t)k, &s);
        ls_factor_data d = as_data(&s, 1);
        ls_factor_options o;
        ls_factor_options_init(&o);
        o.method = LS_FACTOR_MML;
        o.threads = 1;
        o.dif_lr = 1;
        ls_result *r = NULL;
        ls_error e;
        int rc = ls_factor_run(&d, &o, &r, &e);
        CHECK_MSG(rc == 0, "%s", e.message);
        if (!rc) {
            const lsf_fit *f = payload(r);
            rej += f->lr_p < 0.05;
            mean_p += f->lr_p / R;
            CHECK(f->lr_df == 7);
        }
        ls_result_free(r);
        lsf_data_view_free(&d);
        free(d.X);
        sim_free(&s);
    }
    printf("  LR test of no DIF, %d null replications (600 x 8): %d rejections at 5 %%, mean p %.3f\n", R, rej, mean_p);
    /* binomial(R, 0.05): at most 5 of 20, 10 of 80 with probability > 0.99 */
    CHECK(rej <= (quick ? 5 : 10));
    CHECK(mean_p > 0.35 && mean_p < 0.65);
}

/* One engine: without covariates the factor model's MML optimum is the
 * partial credit model's MML optimum on the same binary items. */
static void same_optimum_as_the_partial_credit_mml(void)
{
    sim s;
    simulate(800, 10, 0, 0.0, 5, &s);
    ls_factor_data d = as_data(&s, 0);
    ls_factor_options o;
    ls_factor_options_init(&o);
    o.method = LS_FACTOR_MML;
    o.threads = 1;
    ls_result *r = NULL, *g = NULL;
    ls_error e;
    int rc = ls_factor_run(&d, &o, &r, &e);
    CHECK_MSG(rc == 0, "%s", e.message);
    int *Y = malloc(800 * 10 * sizeof *Y);
    for (size_t c = 0; c < 800 * 10; c++) Y[c] = (int)s.Y[c];
    ls_gpcm_data *gd = NULL;
    CHECK(ls_gpcm_data_new(800, 10, Y, NULL, 2, &gd, &e) == 0);
    ls_gpcm_options go;
    ls_gpcm_options_init(&go);
    go.method = LS_GPCM_MML;
    go.factors = 1;
    go.threads = 1;
    go.nodes = 21;
    rc = rc ? rc : ls_gpcm_run(gd, NULL, &go, &g, &e);
    CHECK_MSG(rc == 0, "%s", e.message);
    if (!rc) {
        double l1 = payload(r)->loglik, l2 = ls_result_number(g, "loglik");
        printf("  800 x 10 binary: factor MML loglik %.6f, partial credit MML %.6f\n", l1, l2);
        CHECK_NEAR(l1, l2, 1e-3);
        /* the slopes agree up to sign */
        const double *sl = ls_result_numbers(g, "slopes", NULL, NULL);
        double worst = 0;
        for (size_t j = 0; j < 10; j++) worst = fmax(worst, fabs(fabs(sl[j]) - fabs(payload(r)->gamma[j])));
        CHECK_MSG(worst < 5e-3, "max slope difference %g", worst);
    }
    ls_result_free(r);
    ls_result_free(g);
    ls_gpcm_data_free(gd);
    lsf_data_view_free(&d);
    free(Y);
    sim_free(&s);
}

/* Two factors, orthogonal and triangular: the triangular anchors' fixed
 * loading is 0 with a "fixed" standard error, the orthogonal rotation makes
 * Gamma'Gamma diagonal, and both have the same likelihood. */
static void two_factors_under_both_conditions(void)
{
    const size_t n = quick ? 800 : 2000, q = 10;
    ls_rng g = {21};
    double *Y = malloc(n * q * sizeof *Y), lam[20];
    for (size_t j = 0; j < q; j++) {
        lam[j * 2] = j < 5 ? 1.4 : 0.3;
        lam[j * 2 + 1] = j < 5 ? 0.2 : 1.3;
    }
    for (size_t i = 0; i < n; i++) {
        double t1 = ls_rng_norm(&g), t2 = ls_rng_norm(&g);
        for (size_t j = 0; j < q; j++) {
            double w = lam[j * 2] * t1 + lam[j * 2 + 1] * t2 - 0.2;
            Y[i * q + j] = ls_rng_unif(&g) < 1 / (1 + exp(-w));
        }
    }
    ls_factor_data d;
    CHECK(lsf_data_view(&d, n, q, 0, Y, NULL) == 0);
    double ll[2] = {0, 0};
    for (int c = 0; c < 2; c++) {
        ls_factor_options o;
        ls_factor_options_init(&o);
        o.method = LS_FACTOR_MML;
        o.factors = 2;
        o.identify = c ? LS_FACTOR_TRIANGULAR : LS_FACTOR_ORTHOGONAL;
        size_t anchors[2] = {0, 9};
        o.anchors = c ? anchors : NULL;
        o.threads = 2;
        ls_result *r = NULL;
        ls_error e;
        int rc = ls_factor_run(&d, &o, &r, &e);
        CHECK_MSG(rc == 0, "%s", e.message);
        if (rc) continue;
        const lsf_fit *f = payload(r);
        ll[c] = f->loglik;
        CHECK(f->converged);
        if (c) {
            CHECK(f->gamma[0 * 2 + 1] == 0.0 && f->se_gamma[1] == 0.0);
            CHECK(f->gamma[0] > 0 && f->gamma[9 * 2 + 1] > 0);
        } else {
            double off = 0;
            for (size_t j = 0; j < q; j++) off += f->gamma[j * 2] * f->gamma[j * 2 + 1];
            CHECK_NEAR(off, 0, 1e-6);
        }
        ls_result_free(r);
    }
    printf("  %zu x 10, 2 factors: loglik orthogonal %.4f, triangular %.4f\n", n, ll[0], ll[1]);
    CHECK_NEAR(ll[0], ll[1], 0.02);
    lsf_data_view_free(&d);
    free(Y);
}

/* auto: marginal ML for a short test, joint ML for a long one, joint ML
 * where marginal ML does not apply; each with its reason. */
static void auto_chooses_by_test_length(void)
{
    ls_factor_data d;
    memset(&d, 0, sizeof d);
    ls_factor_options o;
    ls_factor_options_init(&o);
    o.method = LS_FACTOR_AUTO;
    const char *why = NULL;
    d.q = 25;
    CHECK(lsf_choose_method(&d, &o, &why) == LS_FACTOR_MML && why && strstr(why, "short test"));
    d.q = 200;
    CHECK(lsf_choose_method(&d, &o, &why) == LS_FACTOR_JML && why && strstr(why, "long test"));
    d.q = 25;
    o.family = LS_FACTOR_POISSON;
    CHECK(lsf_choose_method(&d, &o, &why) == LS_FACTOR_JML && why && strstr(why, "does not take"));
    o.family = LS_FACTOR_BERNOULLI;
    o.factors = 5; /* a sparse grid */
    CHECK(lsf_choose_method(&d, &o, &why) == LS_FACTOR_MML && why && strstr(why, "short test"));
    o.factors = 7;
    CHECK(lsf_choose_method(&d, &o, &why) == LS_FACTOR_JML && why && strstr(why, "at most 6 factors"));
    o.factors = 1;
    o.method = LS_FACTOR_MML;
    CHECK(lsf_choose_method(&d, &o, &why) == LS_FACTOR_MML && why == NULL);
    /* sparse data far beyond the old dense cap (2^28 cells): 7,000,000
     * persons x 40 items held by 40,000 responses.  Marginal ML keeps the
     * observed cells only, so auto takes it for this short test like any
     * other, and the engine is built in memory that follows the responses */
    const size_t n = 20000000 / 40 * 14, q = 40, nnz = 40000;
    uint32_t *pi = malloc(nnz * sizeof *pi), *it = malloc(nnz * sizeof *it);
    double *v = malloc(nnz * sizeof *v);
    for (size_t k = 0; k < nnz; k++) {
        pi[k] = (uint32_t)(k * 173 % n);
        it[k] = (uint32_t)(k % q);
        v[k] = (double)(k / q % 2);
    }
    ls_factor_data w;
    memset(&w, 0, sizeof w);
    w.n = n;
    w.q = q;
    size_t dup = 0;
    ls_error e;
    CHECK(ls_resp_from_triples(n, q, nnz, pi, it, v, &dup, &w.R, &e) == LS_OK && dup == nnz);
    o.method = LS_FACTOR_AUTO;
    CHECK_MSG(lsf_choose_method(&w, &o, &why) == LS_FACTOR_MML && why && strstr(why, "short test"), "%s", why);
    {
        unsigned P1[40];
        int pat1[40];
        for (size_t j = 0; j < q; j++) P1[j] = 1, pat1[j] = 1;
        lsg_model m;
        CHECK(lsg_init_resp(&m, &w.R, 1, P1, pat1, 1, 1, &e) == LS_OK);
        /* the per-response arrays have nnz entries, not n x q */
        CHECK(m.R->nnz == nnz && m.eoff[n] == 2 * nnz);
        lsg_free(&m);
    }
    ls_resp_free(&w.R);
    free(pi);
    free(it);
    free(v);
}

/* Sparse data (issue 29): 12 items with 80 % of the responses missing at
 * random (about 20 % of the cells observed, the engine holds those only):
 * marginal ML still recovers the loadings, the DIF effects and the latent
 * regression within their standard errors. */
static void sparse_data_recover_the_parameters(void)
{
    sim s;
    const size_t n = 20000, q = 12;
    simulate(n, q, 1, 0.8, 29, &s);
    ls_factor_data d = as_data(&s, 2);
    ls_factor_options o;
    ls_factor_options_init(&o);
    o.method = LS_FACTOR_MML;
    o.threads = 2;
    ls_result *r = NULL;
    ls_error e;
    int rc = ls_factor_run(&d, &o, &r, &e);
    CHECK_MSG(rc == 0, "%s", e.message);
    if (!rc) {
        const lsf_fit *f = payload(r);
        CHECK(f->method == LS_FACTOR_MML && f->converged);
        double worst_z = 0, rmse = 0;
        for (size_t j = 0; j < q; j++) {
            worst_z = fmax(worst_z, fabs(f->gamma[j] - s.a[j]) / f->se_gamma[j]);
            rmse += (f->gamma[j] - s.a[j]) * (f->gamma[j] - s.a[j]) / (double)q;
            for (size_t t = 0; t < 2; t++) {
                double se = f->se_beta[j * 3 + 1 + t];
                if (se > 0 && isfinite(se)) worst_z = fmax(worst_z, fabs(f->beta[j * 3 + 1 + t] - s.dif[j * 2 + t]) / se);
            }
        }
        printf("  n = %zu, 12 items, %.1f %% of the cells observed: loglik %.2f; loadings RMSE %.3f, worst |z| of "
               "loadings and DIF %.2f; latent regression %.3f, %.3f (truth 0.5, -0.3); %zu persons without responses\n",
               n, 100.0 * (double)d.R.nnz / (double)(n * q), f->loglik, sqrt(rmse), worst_z, f->A[0], f->A[1],
               f->n_empty);
        CHECK(d.R.nnz < n * q * 22 / 100 && d.R.nnz > n * q * 18 / 100);
        CHECK(worst_z < 4.0);
        CHECK(sqrt(rmse) < 0.15);
        CHECK_NEAR(f->A[0], 0.5, 0.2);
        CHECK_NEAR(f->A[1], -0.3, 0.15);
    }
    ls_result_free(r);
    lsf_data_view_free(&d);
    sim_free(&s);
}

static void options_are_checked(void)
{
    ls_factor_options o;
    ls_error e;
#define EXPECT(setup, needle)                                                                    \
    do {                                                                                         \
        ls_factor_options_init(&o);                                                              \
        setup;                                                                                   \
        int rc_ = ls_factor_options_check(&o, &e);                                               \
        CHECK_MSG(rc_ == LS_ERR_OPTION && strstr(e.message, needle), "%s: %s", #setup, e.message); \
    } while (0)
    EXPECT((o.method = LS_FACTOR_MML, o.family = LS_FACTOR_POISSON), "bernoulli (logit) and probit");
    EXPECT((o.method = LS_FACTOR_MML, o.factors = 7), "at most 6 factors");
    EXPECT((o.method = LS_FACTOR_MML, o.factors = 4, o.nodes = 8), "sparse grid");
    EXPECT((o.method = LS_FACTOR_MML, o.factors = 5, o.nodes = 15), "sparse grid");
    EXPECT((o.method = LS_FACTOR_MML, o.identify = LS_FACTOR_ANCHOR), "orthogonal or triangular");
    EXPECT((o.method = LS_FACTOR_MML, o.ridge = 10), "ridge");
    EXPECT((o.method = LS_FACTOR_MML, o.loading_bootstrap = 20), "loading_bootstrap");
    EXPECT((o.method = 7), "method");
    EXPECT((o.method = LS_FACTOR_MML, o.nodes = 2), "nodes");
    EXPECT((o.equal_loadings = 1), "use method mml");
    EXPECT((o.method = LS_FACTOR_MML, o.equal_loadings = 1, o.factors = 2), "1 factor");
#undef EXPECT
    ls_factor_options_init(&o);
    o.method = LS_FACTOR_MML;
    CHECK(ls_factor_options_check(&o, &e) == LS_OK);
}

/* The Rasch-type model (equal loadings, factor independent of gender, an
 * intercept and a gender effect per item) on the bfi neuroticism items
 * against lme4::glmer (nAGQ = 25): log-likelihood within 0.01,
 * coefficients within 1e-3 relative (or 1e-4), the person sd (our common
 * loading) within 1e-3 relative, standard errors within 1 %. */
static void lme4_check(const char *reference, int family);
static void mml_matches_lme4_on_bfi(void) { lme4_check(LS_SOURCE_DIR "/tests/reference/lme4_rasch_bfi.csv", LS_FACTOR_BERNOULLI); }

/* The same with the probit link (glmer's binomial(link = "probit"),
 * bench/reference/lme4_rasch.R ... probit): the same tolerances. */
static void probit_mml_matches_lme4_on_bfi(void)
{
    lme4_check(LS_SOURCE_DIR "/tests/reference/lme4_rasch_probit_bfi.csv", LS_FACTOR_PROBIT);
}

static void lme4_check(const char *reference, int family)
{
    char buf[1024];
    const char *path = h_shared_data("bfi_psych.csv", buf, sizeof buf);
    if (!path) return;
    ls_table *t = NULL, *ref = NULL;
    ls_factor_data *d = NULL;
    ls_result *r = NULL;
    ls_error e;
    int rc = ls_items_table_read(path, &t, &e);
    if (!rc) rc = ls_factor_data_build(t, "N1,N2,N3,N4,N5", "gender", 4, family, &d, &e);
    if (!rc) rc = ls_table_read(reference, &ref, &e);
    CHECK_MSG(rc == 0, "%s", e.message);
    if (rc) goto done;
    ls_factor_options o;
    ls_factor_options_init(&o);
    o.method = LS_FACTOR_MML;
    o.family = family;
    o.equal_loadings = 1;
    o.covariate_condition = LS_FACTOR_COV_ORTHOGONAL;
    o.nodes = 25;
    rc = ls_factor_run(d, &o, &r, &e);
    CHECK_MSG(rc == 0, "%s", e.message);
    if (rc) goto done;
    const lsf_fit *f = payload(r);
    size_t checked = 0;
    double worst_c = 0, worst_se = 0;
    for (size_t k = 0; k < ls_table_nrow(ref); k++) {
        const char *term = ls_table_cell(ref, k, 0);
        double est = atof(ls_table_cell(ref, k, 1)), se = atof(ls_table_cell(ref, k, 2));
        double ours = NAN, ours_se = NAN;
        if (strcmp(term, "loglik") == 0) {
            CHECK_NEAR(f->loglik, est, 0.01);
            checked++;
            continue;
        }
        if (strcmp(term, "person_sd") == 0) {
            CHECK_NEAR(f->gamma[0], est, 1e-3 * est);
            checked++;
            continue;
        }
        /* itemNj or itemNj:gender */
        int j = term[5] - '1';
        if (strlen(term) < 6 || j < 0 || j > 4) continue;
        int eff = strstr(term, ":gender") != NULL;
        ours = f->beta[j * 2 + eff];
        ours_se = f->se_beta[j * 2 + eff];
        worst_c = fmax(worst_c, fabs(ours - est) / fabs(est));
        worst_se = fmax(worst_se, fabs(ours_se - se) / se);
        CHECK_MSG(fabs(ours - est) <= fmax(1e-3 * fabs(est), 1e-4), "%s: ours %.6f, lme4 %.6f", term, ours, est);
        CHECK_MSG(fabs(ours_se - se) <= 0.01 * se, "%s se: ours %.6f, lme4 %.6f", term, ours_se, se);
        checked++;
    }
    printf("  bfi N1-N5 >= 4 by gender, Rasch-type, %s: loglik %.4f, person sd %.5f, N5:gender %.6f (se %.6f); %zu "
           "reference figures compared, coefficients within %.1e relative, standard errors %.2f %%\n",
           family == LS_FACTOR_PROBIT ? "probit" : "logit", f->loglik, f->gamma[0], f->beta[4 * 2 + 1],
           f->se_beta[4 * 2 + 1], checked, worst_c, 100 * worst_se);
    CHECK(checked == 12);
done:
    ls_result_free(r);
    ls_factor_data_free(d);
    ls_table_free(t);
    ls_table_free(ref);
}

/* The 2PL on the LSAT section 6 data (30 response patterns, 1000 persons;
 * no shared data needed) against the published marginal-ML estimates:
 * log-likelihood within 0.01, discriminations a_j and difficulties
 * b_j = -c_j / a_j within 1e-3 relative (the table's 4 decimals allow
 * 1.5e-4 of rounding). */
static void mml_reproduces_the_published_lsat6_2pl(void)
{
    ls_table *pt = NULL, *ref = NULL;
    ls_error e;
    int rc = ls_table_read(LS_SOURCE_DIR "/tests/reference/lsat6_patterns.csv", &pt, &e);
    if (!rc) rc = ls_table_read(LS_SOURCE_DIR "/tests/reference/lsat6_2pl_published.csv", &ref, &e);
    CHECK_MSG(rc == 0, "%s", e.message);
    if (rc) {
        ls_table_free(pt);
        return;
    }
    size_t n = 0, np = ls_table_nrow(pt);
    for (size_t k = 0; k < np; k++) n += (size_t)atoi(ls_table_cell(pt, k, 5));
    double *Y = malloc(n * 5 * sizeof *Y);
    size_t i = 0;
    for (size_t k = 0; k < np; k++)
        for (int c = atoi(ls_table_cell(pt, k, 5)); c > 0; c--, i++)
            for (size_t j = 0; j < 5; j++) Y[i * 5 + j] = atof(ls_table_cell(pt, k, j));
    ls_factor_data d;
    CHECK(lsf_data_view(&d, n, 5, 0, Y, NULL) == 0);
    ls_factor_options o;
    ls_factor_options_init(&o);
    o.method = LS_FACTOR_MML;
    o.threads = 1;
    ls_result *r = NULL;
    rc = ls_factor_run(&d, &o, &r, &e);
    CHECK_MSG(rc == 0, "%s", e.message);
    if (!rc) {
        const lsf_fit *f = payload(r);
        CHECK(n == 1000 && f->converged);
        size_t checked = 0;
        for (size_t k = 0; k < ls_table_nrow(ref); k++) {
            const char *term = ls_table_cell(ref, k, 0);
            double est = atof(ls_table_cell(ref, k, 1));
            if (strcmp(term, "loglik") == 0) {
                CHECK_NEAR(f->loglik, est, 0.01);
                checked++;
                continue;
            }
            int j = term[strlen(term) - 1] - '1';
            if (j < 0 || j > 4) continue;
            double ours = strncmp(term, "discrimination", 14) == 0 ? f->gamma[j] : -f->beta[j * 1] / f->gamma[j];
            CHECK_MSG(fabs(ours - est) <= 1e-3 * fabs(est), "%s: ours %.5f, published %.4f", term, ours, est);
            checked++;
        }
        printf("  LSAT6 2PL: loglik %.4f (published -2466.653), a_1 %.4f, b_5 %.4f; %zu figures compared\n",
               f->loglik, f->gamma[0], -f->beta[4] / f->gamma[4], checked);
        CHECK(checked == 11);
    }
    ls_result_free(r);
    lsf_data_view_free(&d);
    free(Y);
    ls_table_free(pt);
    ls_table_free(ref);
}

/* ---------------------------------------------------------------- */
/* More than 3 factors: the Smolyak sparse grid (issue 29)           */
/* ---------------------------------------------------------------- */

/* Binary responses of n persons to q items on r factors: item j loads
 * 1.2 - 0.2 ((j / r) mod 3) on factor j mod r and, past the first r items
 * (the anchors: each loads on its own factor only, so the triangular
 * condition holds in the truth), 0.4 on factor (j - 1) mod r; intercepts
 * spread over -1..1; x ~ Bernoulli(0.5) moves the factor means by lreg
 * (0.5, -0.3, 0, 0.2, ...) and items 6 and 14 by dif 1 and -1.
 * Y: n x q, X: n, gamma: q x r, c, dif: q. */
typedef struct simr {
    size_t n, q, r;
    double *Y, *X, *gamma, *c, *dif;
} simr;

static void simr_free(simr *s)
{
    free(s->Y);
    free(s->X);
    free(s->gamma);
    free(s->c);
    free(s->dif);
}

static void simulate_link(size_t n, size_t q, size_t r, int with_dif, int probit, uint64_t seed, simr *s);
static void simulate_r(size_t n, size_t q, size_t r, int with_dif, uint64_t seed, simr *s)
{
    simulate_link(n, q, r, with_dif, 0, seed, s);
}

/* probit: P(y = 1) = Phi(w), by a normal threshold */
static void simulate_link(size_t n, size_t q, size_t r, int with_dif, int probit, uint64_t seed, simr *s)
{
    ls_rng g = {seed};
    s->n = n, s->q = q, s->r = r;
    s->Y = malloc(n * q * sizeof *s->Y);
    s->X = malloc(n * sizeof *s->X);
    s->gamma = calloc(q * r, sizeof *s->gamma);
    s->c = malloc(q * sizeof *s->c);
    s->dif = calloc(q, sizeof *s->dif);
    const double lreg[6] = {0.5, -0.3, 0, 0.2, 0, -0.2};
    for (size_t j = 0; j < q; j++) {
        s->gamma[j * r + j % r] = 1.2 - 0.2 * (double)((j / r) % 3);
        if (j >= r) s->gamma[j * r + (j + r - 1) % r] += 0.4;
        s->c[j] = -1.0 + 2.0 * (double)((j * 7) % q) / (double)(q - 1);
    }
    if (with_dif && q > 14) {
        s->dif[5] = 1.0;
        s->dif[13] = -1.0;
    }
    for (size_t i = 0; i < n; i++) {
        double x = ls_rng_unif(&g) < 0.5, th[6];
        s->X[i] = x;
        for (size_t k = 0; k < r; k++) th[k] = (with_dif ? lreg[k] * x : 0) + ls_rng_norm(&g);
        for (size_t j = 0; j < q; j++) {
            double w = s->c[j] + s->dif[j] * x;
            for (size_t k = 0; k < r; k++) w += s->gamma[j * r + k] * th[k];
            s->Y[i * q + j] = probit ? (w + ls_rng_norm(&g) > 0) : (ls_rng_unif(&g) < 1 / (1 + exp(-w)));
        }
    }
}

/* A binary engine model of the simulated data: r factors, exploratory
 * (triangular pattern), the truth's slopes and intercepts, x as the DIF
 * covariate with shifts 0.1 on every item (dif = 1) or none; rule: the
 * sparse grid's level (0: product rule). */
static int engine_of(const simr *s, int dif, unsigned level, lsg_model *m, int **Yout, ls_error *e)
{
    const size_t n = s->n, q = s->q, r = s->r;
    int *Y = calloc(n * q, sizeof *Y), *pat = calloc(q * r, sizeof *pat);
    unsigned *P = calloc(q, sizeof *P);
    for (size_t c = 0; c < n * q; c++) Y[c] = isnan(s->Y[c]) ? -1 : (int)s->Y[c];
    for (size_t j = 0; j < q; j++) {
        P[j] = 1;
        for (size_t k = 0; k < r; k++) pat[j * r + k] = !(j < r && k > j);
    }
    int rc = lsg_init(m, n, q, r, Y, P, pat, 1, 2, e);
    if (!rc) {
        double *a = calloc(q * r, sizeof *a), *b = calloc(2 * q, sizeof *b);
        for (size_t j = 0; j < q; j++) {
            for (size_t k = 0; k < r; k++) a[j * r + k] = pat[j * r + k] ? s->gamma[j * r + k] : 0;
            b[2 * j + 1] = -s->c[j];
        }
        lsg_set(m, a, b, NULL);
        free(a);
        free(b);
        for (size_t i = 0; i < n; i++)
            for (size_t k = 0; k < r; k++) m->S[i * r * r + k * r + k] = 0.4;
        m->mml_sparse = level;
        if (dif) {
            rc = lsg_set_covariates(m, s->X, 1, LSG_X_DIF, e);
            for (size_t j = 0; !rc && j < q; j++) m->dif[j] = 0.1;
        }
    }
    free(pat);
    free(P);
    *Yout = Y;
    return rc;
}

/* On the sparse grid (signed weights) at r = 4: a person's analytic
 * gradient in the slopes, the steps and the item shifts against central
 * differences, nodes held; and the observed information by Louis' identity
 * against differences of the analytic gradient. */
static void gradient_check(size_t r, unsigned level, int probit)
{
    simr s;
    simulate_link(40, 8, r, 0, probit, 7, &s);
    lsg_model m;
    ls_error e;
    int *Y;
    CHECK(engine_of(&s, 0, level, &m, &Y, &e) == 0);
    m.probit = probit;
    for (size_t i = 0; i < s.n; i++) {
        m.mu[i * r] = 0.1 * (double)(i % 5) - 0.2;
        m.S[i * r * r + 1] = m.S[i * r * r + r] = 0.05;
    }
    lsg_quad q;
    CHECK(lsg_quad_init(&q, &m, 7, &e) == 0);
    CHECK(level ? q.rule.sg != NULL : q.rule.sg == NULL);
    const size_t J = s.q, T = m.T;
    double si[36] = {0}, *w = malloc(lsg_quad_work(&q) * sizeof *w);
    double *ga = calloc(J * r, sizeof *ga), *gb = calloc(T, sizeof *gb), gs[36], *gsh = calloc(J, sizeof *gsh);
    double *shift = malloc(J * sizeof *shift);
    for (size_t k = 0; k < r; k++) si[k * r + k] = 1;
    for (size_t j = 0; j < J; j++) shift[j] = 0.1 * (double)((j * 3) % 5) - 0.2;
    double worst = 0, big = 0;
    for (size_t i = 0; i < 6; i++) {
        double ll = lsg_quad_person(&q, i, m.a, m.b, shift, gsh, si, 0, ga, gb, gs, NULL, NULL, w);
        CHECK(isfinite(ll));
        const double h = 1e-6;
        for (size_t j = 0; j < J; j++) {
            for (size_t k = 0; k <= r; k++) { /* k < r: slope k; k = r: the step; then the shift */
                double *v = k < r ? &m.a[j * r + k] : &m.b[m.off[j] + 1], v0 = *v;
                *v = v0 + h;
                double lp = lsg_quad_person(&q, i, m.a, m.b, shift, NULL, si, 0, NULL, NULL, NULL, NULL, NULL, w);
                *v = v0 - h;
                double lm = lsg_quad_person(&q, i, m.a, m.b, shift, NULL, si, 0, NULL, NULL, NULL, NULL, NULL, w);
                *v = v0;
                double an = k < r ? ga[j * r + k] : gb[m.off[j] + 1];
                worst = fmax(worst, fabs((lp - lm) / (2 * h) - an));
                big = fmax(big, fabs(an));
            }
            double s0 = shift[j];
            shift[j] = s0 + h;
            double lp = lsg_quad_person(&q, i, m.a, m.b, shift, NULL, si, 0, NULL, NULL, NULL, NULL, NULL, w);
            shift[j] = s0 - h;
            double lm = lsg_quad_person(&q, i, m.a, m.b, shift, NULL, si, 0, NULL, NULL, NULL, NULL, NULL, w);
            shift[j] = s0;
            worst = fmax(worst, fabs((lp - lm) / (2 * h) - gsh[j]));
        }
    }
    printf("  %s, r = %zu, %s (%zu nodes): max |analytic - difference| %.2g (largest entry %.3g)\n",
           probit ? "probit" : "logit", r, level ? "sparse grid (signed weights)" : "product rule", q.rule.n, worst, big);
    CHECK_MSG(worst < 1e-6, "max |analytic - difference| = %g", worst);
    lsg_quad_free(&q);
    lsg_free(&m);
    free(Y);
    /* Louis' identity against differences, with DIF shifts */
    CHECK(engine_of(&s, 1, level, &m, &Y, &e) == 0);
    m.probit = probit;
    size_t D1, D2;
    double *x1, *H1, *S1, *x2, *H2, *S2, l1, l2;
    for (int settle = 0; settle < 6; settle++) {
        CHECK(lsg_mml_information(&m, 7, 0, &D1, &x1, &H1, &S1, &l1, &e) == 0);
        free(x1), free(H1), free(S1);
    }
    CHECK(lsg_mml_information(&m, 7, 0, &D1, &x1, &H1, &S1, &l1, &e) == 0);
    CHECK(lsg_mml_information(&m, 7, 1, &D2, &x2, &H2, &S2, &l2, &e) == 0);
    CHECK(D1 == D2);
    CHECK_NEAR(l1, l2, 1e-8 * fabs(l1));
    double wi = 0, ws = 0, bi = 0;
    for (size_t c = 0; c < D1 * D1; c++) {
        wi = fmax(wi, fabs(H1[c] - H2[c]));
        ws = fmax(ws, fabs(S1[c] - S2[c]));
        bi = fmax(bi, fabs(H2[c]));
    }
    printf("  %s, r = %zu, %zu parameters: max |Louis - differences| %.2g (largest entry %.3g), cross-products %.2g\n",
           probit ? "probit" : "logit", r, D1, wi, bi, ws);
    CHECK_MSG(wi < 1e-5 * bi, "%g", wi);
    CHECK_MSG(ws < 1e-9 * bi, "%g", ws);
    free(x1), free(H1), free(S1), free(x2), free(H2), free(S2);
    lsg_free(&m);
    free(Y);
    free(w), free(ga), free(gb), free(gsh), free(shift);
    simr_free(&s);
}

static void sparse_grid_gradient_matches_differences(void) { gradient_check(4, 3, 0); }

/* The probit link (log Phi by GSL's log erfc): the same checks with the
 * product rule at r = 2 and the sparse grid at r = 4. */
static void probit_gradient_matches_differences(void)
{
    gradient_check(2, 0, 1);
    gradient_check(4, 3, 1);
}

/* The sparse grid against product rules on the same marginal likelihood
 * (nodes adapted to each person's posterior, parameters at the truth):
 * at r = 3, 7^3 nodes against the grid of level 3 (105 nodes) and 4 (297);
 * at r = 4, 7^4 against level 3 (201) and 4 (681).  The level-3 grid is
 * within 0.03 of the product rule in a total near -15,000, 1000 x 24
 * (measured: 0.009 at r = 3, 0.010 at r = 4), level 4 within 0.01. */
static void sparse_grid_agrees_with_the_product_rule(void)
{
    for (size_t r = 3; r <= 4; r++) {
        simr s;
        simulate_r(1000, 24, r, 1, 30 + r, &s);
        double ll[3];
        for (int v = 0; v < 3; v++) {
            lsg_model m;
            ls_error e;
            int *Y;
            CHECK(engine_of(&s, 1, v == 0 ? 0 : (unsigned)v + 2, &m, &Y, &e) == 0);
            /* settle the nodes on the product rule's posterior first: every
             * rule then adapts from the same centres */
            unsigned keep = m.mml_sparse;
            m.mml_sparse = 0;
            double l0;
            CHECK(lsg_marginal(&m, 5, &l0, NULL, NULL, NULL, NULL, &e) == 0);
            m.mml_sparse = keep;
            int rc = lsg_marginal(&m, 7, &ll[v], NULL, NULL, NULL, NULL, &e);
            CHECK_MSG(rc == 0, "%s", e.message);
            lsg_free(&m);
            free(Y);
        }
        printf("  r = %zu, 1000 x 24, at the truth: loglik product 7^%zu %.4f, sparse level 3 %.4f (%+.4f), "
               "level 4 %.4f (%+.4f)\n", r, r, ll[0], ll[1], ll[1] - ll[0], ll[2], ll[2] - ll[0]);
        CHECK_NEAR(ll[1], ll[0], 0.03);
        CHECK_NEAR(ll[2], ll[0], 0.01);
        simr_free(&s);
    }
}

/* Four factors by marginal ML on a 3000 x 24 binary test with one
 * covariate (a group), triangular on the first four items: the loadings,
 * the two DIF effects and the latent regression recovered (|z| < 4 against
 * the standard errors, loadings RMSE < 0.1), the two DIF items flagged and
 * no other under Bonferroni. */
static void four_factors_recover_loadings_and_dif(void)
{
    const size_t n = quick ? 1500 : 3000, q = 24, r = 4;
    simr s;
    simulate_r(n, q, r, 1, 44, &s);
    ls_factor_data d;
    CHECK(lsf_data_view(&d, n, q, 1, s.Y, s.X) == 0);
    ls_factor_options o;
    ls_factor_options_init(&o);
    o.method = LS_FACTOR_MML;
    o.factors = r;
    o.identify = LS_FACTOR_TRIANGULAR;
    size_t anchors[4] = {0, 1, 2, 3};
    o.anchors = anchors;
    o.threads = 2;
    ls_result *res = NULL, *dr = NULL;
    ls_error e;
    int rc = ls_factor_run(&d, &o, &res, &e);
    CHECK_MSG(rc == 0, "%s", e.message);
    if (!rc) {
        const lsf_fit *f = payload(res);
        CHECK(f->method == LS_FACTOR_MML && f->converged && f->nodes == 7);
        double worst_z = 0, rmse = 0;
        size_t nfree = 0;
        for (size_t j = 0; j < q; j++) {
            for (size_t k = 0; k < r; k++) {
                double se = f->se_gamma[j * r + k], dv = f->gamma[j * r + k] - s.gamma[j * r + k];
                if (j < r && k > j) {
                    CHECK(f->gamma[j * r + k] == 0.0);
                    continue;
                }
                rmse += dv * dv;
                nfree++;
                CHECK(se > 0 && isfinite(se));
                worst_z = fmax(worst_z, fabs(dv) / se);
            }
            double se = f->se_beta[j * 2 + 1];
            if (se > 0 && isfinite(se)) worst_z = fmax(worst_z, fabs(f->beta[j * 2 + 1] - s.dif[j]) / se);
        }
        rmse = sqrt(rmse / (double)nfree);
        printf("  %zu x %zu, 4 factors, 1 covariate: loglik %.2f, %u iterations; loadings RMSE %.3f, worst |z| of "
               "loadings and DIF %.2f; DIF items 6, 14: %.3f, %.3f (truth 1, -1); latent regression %.3f %.3f "
               "%.3f %.3f (truth 0.5 -0.3 0 0.2)\n",
               n, q, f->loglik, f->iterations, rmse, worst_z, f->beta[5 * 2 + 1], f->beta[13 * 2 + 1], f->A[0],
               f->A[1], f->A[2], f->A[3]);
        CHECK(worst_z < 4.0);
        CHECK(rmse < (quick ? 0.15 : 0.1));
        CHECK_NEAR(f->A[0], 0.5, 0.2);
        CHECK_NEAR(f->A[1], -0.3, 0.2);
        rc = ls_factor_dif_run(res, 0.05, LS_FACTOR_BONFERRONI, &dr, &e);
        CHECK_MSG(rc == 0, "%s", e.message);
        if (!rc) {
            const lsf_dif *dif = ls_result_payload(dr, "factor-dif");
            for (size_t j = 0; j < q; j++)
                CHECK_MSG(dif->flag[j] == (s.dif[j] != 0), "item %zu: flag %d, truth %g", j + 1, dif->flag[j],
                          s.dif[j]);
        }
    }
    ls_result_free(dr);
    ls_result_free(res);
    lsf_data_view_free(&d);
    simr_free(&s);
}

/* Probit data (a normal threshold), 3000 x 16, two factors triangular on
 * the first two items, a group covariate with DIF on items 6 and 14 and a
 * latent regression (0.5, -0.3): the probit fit recovers the loadings and
 * the DIF effects (|z| < 4, loadings RMSE < 0.1) and flags exactly the two
 * items; its log-likelihood is above the logit fit's on the same data, and
 * (a sanity check, not a reference) the logit loadings are about 1.7 times
 * the probit's. */
static void probit_recovers_loadings_and_dif(void)
{
    const size_t n = quick ? 1500 : 3000, q = 16, r = 2;
    simr s;
    simulate_link(n, q, r, 1, 1, 52, &s);
    ls_factor_data d;
    CHECK(lsf_data_view(&d, n, q, 1, s.Y, s.X) == 0);
    double ll[2] = {NAN, NAN}, len[2] = {0, 0};
    for (int probit = 1; probit >= 0; probit--) {
        ls_factor_options o;
        ls_factor_options_init(&o);
        o.method = LS_FACTOR_MML;
        o.family = probit ? LS_FACTOR_PROBIT : LS_FACTOR_BERNOULLI;
        o.factors = r;
        o.identify = LS_FACTOR_TRIANGULAR;
        size_t anchors[2] = {0, 1};
        o.anchors = anchors;
        o.threads = 2;
        ls_result *res = NULL, *dr = NULL;
        ls_error e;
        int rc = ls_factor_run(&d, &o, &res, &e);
        CHECK_MSG(rc == 0, "%s", e.message);
        if (rc) continue;
        const lsf_fit *f = payload(res);
        CHECK(f->converged && f->family == o.family);
        ll[probit] = f->loglik;
        for (size_t c = 0; c < q * r; c++) len[probit] += fabs(f->gamma[c]);
        if (probit) {
            double worst_z = 0, rmse = 0;
            size_t nfree = 0;
            for (size_t j = 0; j < q; j++) {
                for (size_t k = 0; k < r; k++) {
                    if (j < r && k > j) continue;
                    double dv = f->gamma[j * r + k] - s.gamma[j * r + k];
                    rmse += dv * dv;
                    nfree++;
                    worst_z = fmax(worst_z, fabs(dv) / f->se_gamma[j * r + k]);
                }
                double se = f->se_beta[j * 2 + 1];
                if (se > 0 && isfinite(se)) worst_z = fmax(worst_z, fabs(f->beta[j * 2 + 1] - s.dif[j]) / se);
            }
            rmse = sqrt(rmse / (double)nfree);
            printf("  probit, %zu x %zu, 2 factors: loglik %.2f, %u iterations; loadings RMSE %.3f, worst |z| of "
                   "loadings and DIF %.2f; DIF items 6, 14: %.3f, %.3f (truth 1, -1); latent regression %.3f %.3f "
                   "(truth 0.5 -0.3)\n",
                   n, q, f->loglik, f->iterations, rmse, worst_z, f->beta[5 * 2 + 1], f->beta[13 * 2 + 1], f->A[0],
                   f->A[1]);
            CHECK(worst_z < 4.0);
            CHECK(rmse < 0.1);
            CHECK_NEAR(f->A[0], 0.5, 0.2);
            CHECK_NEAR(f->A[1], -0.3, 0.2);
            rc = ls_factor_dif_run(res, 0.05, LS_FACTOR_BONFERRONI, &dr, &e);
            CHECK_MSG(rc == 0, "%s", e.message);
            if (!rc) {
                const lsf_dif *dif = ls_result_payload(dr, "factor-dif");
                for (size_t j = 0; j < q; j++)
                    CHECK_MSG(dif->flag[j] == (s.dif[j] != 0), "item %zu: flag %d, truth %g", j + 1, dif->flag[j],
                              s.dif[j]);
            }
        }
        ls_result_free(dr);
        ls_result_free(res);
    }
    printf("  the same data by the logit: loglik %.2f (probit %.2f); sum |loading| logit / probit %.3f\n", ll[0],
           ll[1], len[0] / len[1]);
    CHECK(ll[1] > ll[0]);
    CHECK(len[0] / len[1] > 1.5 && len[0] / len[1] < 1.9);
    lsf_data_view_free(&d);
    simr_free(&s);
}

/* The sparse grid's fallback: nodes centred away from a person's posterior
 * and too wide (centre 2.5 off, scale 2) make some persons' signed sums
 * non-positive (narrow or well-centred nodes did not, at scales 0.1 and 1); those persons' integrals are then the 3-node product
 * rule's on the same centre and scale (equal to it exactly), finite, with
 * the gradient still matching differences. */
static void sparse_grid_falls_back_on_the_product_rule(void)
{
    const size_t r = 4;
    simr s;
    simulate_r(60, 12, r, 0, 9, &s);
    lsg_model m;
    ls_error e;
    int *Y;
    CHECK(engine_of(&s, 0, 3, &m, &Y, &e) == 0);
    for (size_t i = 0; i < s.n; i++)
        for (size_t k = 0; k < r; k++) {
            m.mu[i * r + k] = (i % 2 ? 2.5 : -2.5) * (k == i % r);
            m.S[i * r * r + k * r + k] = 4.0;
        }
    lsg_quad q;
    CHECK(lsg_quad_init(&q, &m, 7, &e) == 0);
    CHECK(q.fb != NULL && q.fb->rule.n == 81);
    double si[16] = {0}, *w = malloc(lsg_quad_work(&q) * sizeof *w);
    for (size_t k = 0; k < r; k++) si[k * r + k] = 1;
    const size_t J = s.q;
    double *ga = calloc(J * r, sizeof *ga), *gb = calloc(m.T, sizeof *gb), gs[16], *gsh = calloc(J, sizeof *gsh);
    size_t fell = 0;
    double worst = 0;
    for (size_t i = 0; i < s.n; i++) {
        double ll = lsg_quad_person(&q, i, m.a, m.b, NULL, NULL, si, 0, ga, gb, gs, NULL, NULL, w);
        double lf = lsg_quad_person(q.fb, i, m.a, m.b, NULL, NULL, si, 0, NULL, NULL, NULL, NULL, NULL, w);
        CHECK(isfinite(ll));
        if (ll != lf) continue;
        fell++;
        const double h = 1e-6;
        for (size_t j = 0; j < J; j++) {
            double *v = &m.b[m.off[j] + 1], v0 = *v;
            *v = v0 + h;
            double lp = lsg_quad_person(&q, i, m.a, m.b, NULL, NULL, si, 0, NULL, NULL, NULL, NULL, NULL, w);
            *v = v0 - h;
            double lm = lsg_quad_person(&q, i, m.a, m.b, NULL, NULL, si, 0, NULL, NULL, NULL, NULL, NULL, w);
            *v = v0;
            worst = fmax(worst, fabs((lp - lm) / (2 * h) - gb[m.off[j] + 1]));
        }
    }
    printf("  r = 4, nodes 2.5 off and twice too wide: %zu of %zu persons on the 3-node product rule; their step "
           "gradients against differences %.2g\n", fell, s.n, worst);
    CHECK(fell > 0 && fell < s.n);
    CHECK_MSG(worst < 1e-6, "%g", worst);
    free(w), free(ga), free(gb), free(gsh);
    lsg_quad_free(&q);
    lsg_free(&m);
    free(Y);
    simr_free(&s);
}

int main(int argc, char **argv)
{
    quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    RUN(shift_derivative_matches_differences);
    RUN(analytic_information_matches_differences);
    RUN(options_are_checked);
    RUN(auto_chooses_by_test_length);
    RUN(sparse_data_recover_the_parameters);
    RUN(same_optimum_as_the_partial_credit_mml);
    RUN(recovers_loadings_dif_and_latent_regression);
    RUN(two_factors_under_both_conditions);
    RUN(likelihood_ratio_test_holds_its_size);
    RUN(mml_reproduces_the_published_lsat6_2pl);
    RUN(mml_matches_lme4_on_bfi);
    RUN(sparse_grid_gradient_matches_differences);
    RUN(sparse_grid_agrees_with_the_product_rule);
    RUN(four_factors_recover_loadings_and_dif);
    RUN(sparse_grid_falls_back_on_the_product_rule);
    RUN(probit_gradient_matches_differences);
    RUN(probit_recovers_loadings_and_dif);
    RUN(probit_mml_matches_lme4_on_bfi);
    return h_finish();
}
