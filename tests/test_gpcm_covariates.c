/*
 * test_gpcm_covariates.c -- the partial credit model with person covariates
 * by marginal ML (issue 29, item 1): the gradient of the MML objective with
 * DIF shifts and with a latent regression against central differences;
 * recovery of DIF effects and factor means on simulated polytomous data
 * with the two DIF items flagged and few false flags; the binary case
 * through ls_gpcm_run agrees with the factor model's MML on the same data
 * (one engine); the covariates of the wide and the long reader agree; and a
 * real-data example (bfi agreeableness by gender; skips without the data).
 */
#include "gpcm/model.h"
#include "harness.h"
#include "kernel/rng.h"
#include "latentscale.h"

#include <stdint.h>

static int quick;

/* Polytomous responses: n persons, J items of ncat categories, one factor
 * theta_i = mean' x_i + N(0, 1), P(y = k) ~ exp(k (a_j theta + dif_j' x_i) -
 * b_jk); x_i1 a 0/1 group, x_i2 standard normal (p = 1 or 2). */
typedef struct psim {
    size_t n, J, p;
    int *Y;
    double *X, *a, *dif, mean[2];
} psim;

static void psim_make(size_t n, size_t J, unsigned ncat, size_t p, const double *dif, const double *mean,
                      uint64_t seed, psim *s)
{
    ls_rng g = {seed};
    s->n = n;
    s->J = J;
    s->p = p;
    s->Y = malloc(n * J * sizeof *s->Y);
    s->X = malloc(n * p * sizeof *s->X);
    s->a = malloc(J * sizeof *s->a);
    s->dif = malloc(J * p * sizeof *s->dif);
    memcpy(s->dif, dif, J * p * sizeof *dif);
    memcpy(s->mean, mean, p * sizeof *mean);
    double *b = malloc(J * ncat * sizeof *b);
    for (size_t j = 0; j < J; j++) {
        s->a[j] = 0.7 + 0.8 * ls_rng_unif(&g);
        double cum = 0;
        b[j * ncat] = 0;
        for (unsigned k = 1; k < ncat; k++) {
            cum += -1.0 + 2.0 * (double)(k - 1) / (double)(ncat - 2 > 0 ? ncat - 2 : 1) + 0.3 * ls_rng_norm(&g);
            b[j * ncat + k] = cum;
        }
    }
    for (size_t i = 0; i < n; i++) {
        double *x = s->X + i * p;
        x[0] = ls_rng_unif(&g) < 0.5;
        if (p > 1) x[1] = ls_rng_norm(&g);
        double th = ls_rng_norm(&g);
        for (size_t t = 0; t < p; t++) th += mean[t] * x[t];
        for (size_t j = 0; j < J; j++) {
            double sh = s->a[j] * th, w[64], tot = 0;
            for (size_t t = 0; t < p; t++) sh += dif[j * p + t] * x[t];
            for (unsigned k = 0; k < ncat; k++) {
                w[k] = exp((double)k * sh - b[j * ncat + k]);
                tot += w[k];
            }
            double u = ls_rng_unif(&g) * tot;
            unsigned k = 0;
            while (k + 1 < ncat && u > w[k]) u -= w[k++];
            s->Y[i * J + j] = (int)k;
        }
    }
    free(b);
}

static void psim_free(psim *s)
{
    free(s->Y);
    free(s->X);
    free(s->a);
    free(s->dif);
}

/* Data with covariates as the builders leave them (the test fills the
 * handle; names "x1", "x2"). */
static ls_gpcm_data *data_with_covariates(const psim *s, unsigned ncat)
{
    ls_gpcm_data *d = NULL;
    ls_error e;
    if (ls_gpcm_data_new(s->n, s->J, s->Y, NULL, ncat, &d, &e)) {
        fprintf(stderr, "%s\n", e.message);
        return NULL;
    }
    d->p = s->p;
    d->X = ls_malloc(s->n * s->p * sizeof *d->X);
    d->covariates = ls_malloc(s->p * sizeof *d->covariates);
    memcpy(d->X, s->X, s->n * s->p * sizeof *d->X);
    for (size_t t = 0; t < s->p; t++) d->covariates[t] = ls_strdup(t ? "x2" : "x1");
    return d;
}

/* (a) The MML objective's gradient in every parameter (slopes, steps, the
 * correlation factor with two factors, DIF shifts or latent regression)
 * against central differences at fixed nodes. */
static void gradient_matches_differences(void)
{
    const size_t N = 150, J = 6, p = 2;
    const double dif0[12] = {0.4, -0.2, 0, 0, 0, 0.1, -0.3, 0, 0, 0, 0, 0}, mean0[2] = {0.5, 0.3};
    psim s;
    psim_make(N, J, 4, p, dif0, mean0, 3, &s);
    double Xs[300];
    for (size_t c = 0; c < N * p; c++) Xs[c] = s.X[c] - (c % p == 0 ? 0.5 : 0.0);
    for (int variant = 0; variant < 4; variant++) {
        const int lreg = variant & 1;
        const size_t K = variant < 2 ? 1 : 2;
        unsigned P[6] = {3, 3, 3, 3, 3, 3};
        int pat[12];
        for (size_t j = 0; j < J; j++)
            for (size_t k = 0; k < K; k++) pat[j * K + k] = K == 1 || (j < 3) == (k == 0) || j == 3;
        lsg_model m;
        ls_error e;
        CHECK(lsg_init(&m, N, J, K, s.Y, P, pat, 0, 2, &e) == 0);
        double a[12], b[24], sig[4] = {1, 0.3, 0.3, 1};
        for (size_t j = 0; j < J; j++) {
            for (size_t k = 0; k < K; k++) a[j * K + k] = pat[j * K + k] ? 0.8 + 0.1 * (double)(j + k) : 0;
            for (size_t k = 0; k < 4; k++) b[j * 4 + k] = k ? -0.5 + 0.4 * (double)k + 0.05 * (double)j : 0;
        }
        lsg_set(&m, a, b, K == 2 ? sig : NULL);
        for (size_t i = 0; i < N; i++)
            for (size_t k = 0; k < K; k++) {
                m.mu[i * K + k] = 0.1 * (double)(i % 5) - 0.2;
                m.S[i * K * K + k * K + k] = 0.5;
            }
        CHECK(lsg_set_covariates(&m, Xs, p, lreg ? LSG_X_LREG : LSG_X_DIF, &e) == 0);
        if (lreg)
            for (size_t c = 0; c < p * K; c++) m.lreg[c] = 0.2 + 0.1 * (double)c;
        else
            for (size_t c = 0; c < J * p; c++) m.dif[c] = 0.1 * (double)((c * 3) % 5) - 0.2;
        size_t D = 0;
        double f0;
        double *g = malloc(64 * sizeof *g), *x = malloc(64 * sizeof *x);
        CHECK(lsg_mml_objective(&m, 7, NULL, &f0, g, &D, &e) == 0);
        CHECK(D <= 64);
        /* the vector itself: unpack what lsg_mml_objective packs (slopes,
         * steps, correlation factor, covariate coefficients) */
        size_t t = 0;
        for (size_t c = 0; c < J * K; c++)
            if (pat[c]) x[t++] = a[c];
        for (size_t j = 0; j < J; j++)
            for (size_t k = 1; k < 4; k++) x[t++] = b[j * 4 + k];
        if (K == 2) x[t++] = 0.3 / sqrt(1 - 0.09); /* L_10 / L_11 of the Cholesky factor */
        for (size_t c = 0; c < (lreg ? p * K : J * p); c++) x[t++] = lreg ? m.lreg[c] : m.dif[c];
        CHECK(t == D);
        double f1;
        CHECK(lsg_mml_objective(&m, 7, x, &f1, NULL, &D, &e) == 0);
        CHECK_NEAR(f1, f0, 1e-12);
        double worst = 0, big = 0;
        for (size_t c = 0; c < D; c++) {
            const double h = 1e-5, x0 = x[c];
            double fp, fm;
            x[c] = x0 + h;
            lsg_mml_objective(&m, 7, x, &fp, NULL, &D, &e);
            x[c] = x0 - h;
            lsg_mml_objective(&m, 7, x, &fm, NULL, &D, &e);
            x[c] = x0;
            worst = fmax(worst, fabs((fp - fm) / (2 * h) - g[c]));
            big = fmax(big, fabs(g[c]));
        }
        printf("  %s, K = %zu, %zu parameters: max |analytic - central difference| %.2e (largest |g| %.3g)\n",
               lreg ? "latent regression" : "DIF", K, D, worst, big);
        CHECK_MSG(worst < 1e-7 * fmax(1, big), "variant %d: %g", variant, worst);
        free(g);
        free(x);
        lsg_free(&m);
    }
    psim_free(&s);
}

/* (b) Recovery: 3000 persons x 12 items of 4 categories, one factor, two
 * covariates (a 0/1 group and a normal one), DIF on items 1 and 2 for the
 * group (+0.6, -0.5) and on item 3 for the normal one (+0.4); factor means
 * 0.5 x1 + 0.3 x2.  Under min-L1 the effects and A are recovered, the three
 * DIF effects flagged, the others mostly not; latent regression recovers
 * the means when there is no DIF. */
static void recovers_dif_and_flags_the_dif_items(void)
{
    const size_t n = quick ? 1500 : 3000, J = 12, p = 2;
    double dif[24] = {0}, mean[2] = {0.5, 0.3};
    dif[0 * p + 0] = 0.6;
    dif[1 * p + 0] = -0.5;
    dif[2 * p + 1] = 0.4;
    psim s;
    psim_make(n, J, 4, p, dif, mean, 11, &s);
    ls_gpcm_data *d = data_with_covariates(&s, 4);
    CHECK(d != NULL);
    ls_gpcm_options o;
    ls_gpcm_options_init(&o);
    o.method = LS_GPCM_MML;
    o.threads = 2;
    o.dif_lr = 1;
    ls_result *r = NULL;
    ls_error e;
    double l1_effect[24] = {0}, l1_A[2] = {0};
    int one[12];
    for (size_t j = 0; j < J; j++) one[j] = 1;
    int rc = ls_gpcm_run(d, one, &o, &r, &e);
    CHECK_MSG(rc == 0, "%s", e.message);
    if (!rc) {
        const double *ef = ls_result_numbers(r, "dif_effect", NULL, NULL), *se = ls_result_numbers(r, "dif_se", NULL, NULL);
        const double *fl = ls_result_numbers(r, "dif_flag", NULL, NULL), *fx = ls_result_numbers(r, "dif_fixed", NULL, NULL);
        const double *A = ls_result_numbers(r, "covariate_transform", NULL, NULL),
                     *sl = ls_result_numbers(r, "slopes", NULL, NULL), *pa = ls_result_numbers(r, "dif_p_adjusted", NULL, NULL);
        CHECK(ef && se && fl && fx && A && sl && pa);
        CHECK(ls_result_number(r, "converged") == 1);
        double worst = 0, worst_a = 0;
        size_t false_flags = 0, tested = 0, fixed = 0;
        for (size_t j = 0; j < J; j++) {
            worst_a = fmax(worst_a, fabs(sl[j] - s.a[j]));
            for (size_t t = 0; t < p; t++) {
                const size_t c = j * p + t;
                worst = fmax(worst, fabs(ef[c] - dif[c]));
                if (fx[c] != 0) {
                    fixed++;
                    CHECK(dif[c] == 0);           /* a fair item interpolated */
                    CHECK(fl[c] == 0 && isnan(pa[c])); /* not tested */
                    continue;
                }
                tested++;
                if (dif[c] != 0) CHECK_MSG(fl[c] != 0, "item %zu covariate %zu not flagged", j + 1, t + 1);
                else false_flags += fl[c] != 0;
            }
        }
        printf("  %zu x %zu: max |DIF estimate - truth| %.3f (se of the DIF items %.3f, %.3f, %.3f), "
               "A = (%.3f, %.3f) for (0.5, 0.3), max slope error %.3f; %zu fixed, %zu false flags of %zu tested\n",
               n, J, worst, se[0], se[2], se[5], A[0], A[1], worst_a, fixed, false_flags, tested - 3);
        /* within 4 standard errors (and 0.25 absolute) of the truth: each
         * DIF effect, the factor means (this sample's group difference of
         * the latent scores sits 2 standard errors below 0.5) */
        const double *sA = ls_result_numbers(r, "se_covariate_transform", NULL, NULL);
        size_t far = 0;
        for (size_t c = 0; c < J * p; c++)
            if (fx[c] == 0) far += fabs(ef[c] - dif[c]) > fmin(0.25, 4 * se[c]);
        CHECK_MSG(far == 0, "%zu effects beyond 4 standard errors", far);
        CHECK_MSG(worst < 0.2, "DIF error %g", worst);
        CHECK_MSG(fabs(A[0] - 0.5) < 4 * sA[0] && fabs(A[1] - 0.3) < 4 * sA[1], "A %g (%g), %g (%g)", A[0], sA[0],
                  A[1], sA[1]);
        for (size_t c = 0; c < J * p; c++) l1_effect[c] = ef[c];
        for (size_t c = 0; c < p; c++) l1_A[c] = A[c];
        CHECK_MSG(worst_a < 0.15, "slope error %g", worst_a);
        CHECK(fixed == p); /* one interpolated item per covariate (K = 1) */
        CHECK_MSG(false_flags <= 1, "%zu false flags", false_flags);
        /* the likelihood-ratio test of no DIF at all rejects */
        printf("  LR test of no DIF: %.2f on %.0f df, p %.3g\n", ls_result_number(r, "lr_dif"),
               ls_result_number(r, "lr_dif_df"), ls_result_number(r, "lr_dif_p"));
        CHECK(ls_result_number(r, "lr_dif_df") == (double)(p * (J - 1)));
        CHECK(ls_result_number(r, "lr_dif_p") < 1e-6);
    }
    ls_result_free(r);
    r = NULL;
    /* orthogonal: A = 0, the factor means' effect is in every item's shift */
    o.covariate_condition = LS_FACTOR_COV_ORTHOGONAL;
    o.skip_se = 1;
    o.dif_lr = 0;
    rc = ls_gpcm_run(d, one, &o, &r, &e);
    CHECK_MSG(rc == 0, "%s", e.message);
    if (!rc) {
        const double *ef = ls_result_numbers(r, "dif_effect", NULL, NULL), *A = ls_result_numbers(r, "covariate_transform", NULL, NULL);
        const double *sl = ls_result_numbers(r, "slopes", NULL, NULL);
        CHECK(A[0] == 0 && A[1] == 0);
        /* the same engine optimum read through the other condition: the
         * orthogonal effects are the min-L1 ones plus slope x A */
        double worst = 0;
        for (size_t j = 0; j < J; j++)
            for (size_t t = 0; t < p; t++)
                worst = fmax(worst, fabs(ef[j * p + t] - (l1_effect[j * p + t] + sl[j] * l1_A[t])));
        printf("  orthogonal: max |effect - (min-L1 effect + slope x A)| %.2e\n", worst);
        CHECK_MSG(worst < 1e-6, "%g", worst);
    }
    ls_result_free(r);
    ls_gpcm_data_free(d);
    psim_free(&s);
    /* latent regression on data without DIF */
    double nodif[24] = {0};
    psim_make(n, J, 4, p, nodif, mean, 12, &s);
    d = data_with_covariates(&s, 4);
    ls_gpcm_options_init(&o);
    o.method = LS_GPCM_MML;
    o.threads = 2;
    o.covariate_mode = LS_GPCM_COV_LREG;
    r = NULL;
    rc = ls_gpcm_run(d, one, &o, &r, &e);
    CHECK_MSG(rc == 0, "%s", e.message);
    if (!rc) {
        const double *A = ls_result_numbers(r, "covariate_transform", NULL, NULL),
                     *se = ls_result_numbers(r, "se_covariate_transform", NULL, NULL);
        printf("  latent regression: A = (%.3f (%.3f), %.3f (%.3f)) for (0.5, 0.3)\n", A[0], se[0], A[1], se[1]);
        CHECK(!ls_result_numbers(r, "dif_effect", NULL, NULL));
        CHECK(fabs(A[0] - 0.5) < 4 * se[0] && fabs(A[1] - 0.3) < 4 * se[1]);
        CHECK(se[0] > 0 && se[0] < 0.1);
    }
    /* DIF with the LR test on these data without DIF: the test's second fit
     * is this latent regression (log-likelihoods within 0.01), and it does
     * not reject */
    ls_result *r2 = NULL;
    o.covariate_mode = LS_GPCM_COV_DIF;
    o.dif_lr = 1;
    o.skip_se = 1;
    int rc2 = ls_gpcm_run(d, one, &o, &r2, &e);
    CHECK_MSG(rc2 == 0, "%s", e.message);
    if (!rc && !rc2) {
        double l0 = ls_result_number(r2, "loglik_no_dif"), lreg = ls_result_number(r, "loglik");
        printf("  no DIF: LR %.2f on %.0f df, p %.3f; log-likelihood without DIF %.4f, latent regression fit %.4f\n",
               ls_result_number(r2, "lr_dif"), ls_result_number(r2, "lr_dif_df"), ls_result_number(r2, "lr_dif_p"),
               l0, lreg);
        CHECK_NEAR(l0, lreg, 0.01);
        CHECK(ls_result_number(r2, "lr_dif_p") > 0.001);
    }
    ls_result_free(r2);
    ls_result_free(r);
    ls_gpcm_data_free(d);
    psim_free(&s);
}

/* (c) Binary items through ls_gpcm_run with covariates and through the
 * factor model's MML: the same engine, the same optimum (log-likelihood
 * within 1e-6), the same DIF effects. */
static void binary_case_agrees_with_factor_mml(void)
{
    const size_t n = 1500, J = 8, p = 2;
    double dif[16] = {0}, mean[2] = {0.4, -0.2};
    dif[0] = 0.7;
    dif[3 * p + 1] = -0.5;
    psim s;
    psim_make(n, J, 2, p, dif, mean, 21, &s);
    double *Yd = malloc(n * J * sizeof *Yd);
    for (size_t c = 0; c < n * J; c++) Yd[c] = s.Y[c];
    ls_factor_data *fd = NULL;
    ls_error e;
    CHECK(ls_factor_data_new(n, J, p, Yd, s.X, NULL, NULL, &fd, &e) == 0);
    ls_factor_options fo;
    ls_factor_options_init(&fo);
    fo.method = LS_FACTOR_MML;
    fo.threads = 2;
    ls_result *rf = NULL, *rg = NULL;
    int rc = ls_factor_run(fd, &fo, &rf, &e);
    CHECK_MSG(rc == 0, "%s", e.message);
    ls_gpcm_data *gd = data_with_covariates(&s, 2);
    ls_gpcm_options go;
    ls_gpcm_options_init(&go);
    go.method = LS_GPCM_MML;
    go.threads = 2;
    go.nodes = 11;   /* the factor model's default at one factor */
    go.gtol = 1e-5;  /* and its tolerance */
    int one[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    if (!rc) rc = ls_gpcm_run(gd, one, &go, &rg, &e);
    CHECK_MSG(rc == 0, "%s", e.message);
    if (!rc) {
        double lf = ls_result_number(rf, "loglik"), lg = ls_result_number(rg, "loglik");
        const double *bf = ls_result_numbers(rf, "beta", NULL, NULL), *eg = ls_result_numbers(rg, "dif_effect", NULL, NULL);
        const double *lo = ls_result_numbers(rf, "loadings", NULL, NULL), *sl = ls_result_numbers(rg, "slopes", NULL, NULL);
        double worst = 0, worst_a = 0;
        /* factor: logit = gamma' U + beta0 + beta' x, the same sign as the
         * partial credit model's a theta + shift - b_1 */
        for (size_t j = 0; j < J; j++) {
            worst_a = fmax(worst_a, fabs(fabs(lo[j]) - fabs(sl[j])));
            for (size_t t = 0; t < p; t++) worst = fmax(worst, fabs(bf[j * (p + 1) + 1 + t] - eg[j * p + t]));
        }
        printf("  %zu x %zu binary, 2 covariates: factor MML loglik %.8f, partial credit MML %.8f (difference %.2e); "
               "max |effect difference| %.2e, max |slope difference| %.2e\n",
               n, J, lf, lg, fabs(lf - lg), worst, worst_a);
        CHECK_NEAR(lf, lg, 1e-6);
        CHECK_MSG(worst < 1e-3, "%g", worst);
        CHECK_MSG(worst_a < 1e-3, "%g", worst_a);
    }
    ls_result_free(rf);
    ls_result_free(rg);
    ls_factor_data_free(fd);
    ls_gpcm_data_free(gd);
    free(Yd);
    psim_free(&s);
}

/* The builders: covariates from a wide table and from the same data long
 * (one value per person) are the same; the fits agree. */
static void wide_and_long_covariates_agree(void)
{
    const char *wide = "g,A,B,C\n0,0,1,2\n1,1,2,0\n0,2,0,1\n1,1,1,2\n0,0,2,1\n1,2,2,1\n";
    const char *lng = "who,q,s,g\np1,A,0,0\np1,B,1,0\np1,C,2,0\np2,A,1,1\np2,B,2,1\np2,C,0,1\np3,A,2,0\np3,B,0,0\n"
                      "p3,C,1,0\np4,A,1,1\np4,B,1,1\np4,C,2,1\np5,A,0,0\np5,B,2,0\np5,C,1,0\np6,A,2,1\np6,B,2,1\n"
                      "p6,C,1,1\n";
    ls_table *tw = NULL, *tl = NULL;
    ls_error e;
    CHECK(ls_table_parse(wide, strlen(wide), "w.csv", &tw, &e) == 0);
    CHECK(ls_table_parse(lng, strlen(lng), "l.csv", &tl, &e) == 0);
    ls_gpcm_data *dw = NULL, *dl = NULL;
    CHECK_MSG(ls_gpcm_data_build_cov(tw, "A,B,C", "g", NAN, 0, &dw, &e) == 0, "%s", e.message);
    CHECK_MSG(ls_gpcm_data_build_long_cov(tl, "who,q,s", "g", NAN, 0, &dl, &e) == 0, "%s", e.message);
    if (dw && dl) {
        CHECK(ls_gpcm_data_ncovariates(dw) == 1 && ls_gpcm_data_ncovariates(dl) == 1);
        CHECK(strcmp(ls_gpcm_data_covariate(dl, 0), "g") == 0);
        CHECK(ls_gpcm_data_covariate(dl, 1) == NULL);
        for (size_t i = 0; i < 6; i++) CHECK(dw->X[i] == dl->X[i] && dw->X[i] == (double)(i % 2));
    }
    /* without covariates the builders keep none */
    ls_gpcm_data *d0 = NULL;
    CHECK(ls_gpcm_data_build(tw, "A,B,C", NAN, 0, &d0, &e) == 0);
    CHECK(ls_gpcm_data_ncovariates(d0) == 0);
    /* the GVEM fit refuses covariates, naming the option */
    ls_gpcm_options o;
    ls_gpcm_options_init(&o);
    ls_result *r = NULL;
    CHECK(ls_gpcm_run(dw, NULL, &o, &r, &e) == LS_ERR_OPTION);
    CHECK(strstr(e.message, "covariates: need method mml") == e.message);
    o.covariate_mode = LS_GPCM_COV_LREG;
    CHECK(ls_gpcm_options_check(&o, &e) == LS_ERR_OPTION);
    o.method = LS_GPCM_MML;
    CHECK(ls_gpcm_options_check(&o, &e) == 0);
    o.dif_correction = 7;
    CHECK(ls_gpcm_options_check(&o, &e) == LS_ERR_OPTION);
    ls_gpcm_data_free(dw);
    ls_gpcm_data_free(dl);
    ls_gpcm_data_free(d0);
    ls_table_free(tw);
    ls_table_free(tl);
}

/* Real data: agreeableness (A1..A5, six categories) by gender on bfi,
 * polytomous MML at one factor with DIF under min-L1. */
static void bfi_agreeableness_gender_dif(void)
{
    char path[4096];
    if (!h_shared_data("bfi_psych.csv", path, sizeof path)) return;
    ls_table *t = NULL;
    ls_gpcm_data *d = NULL;
    ls_result *r = NULL;
    ls_error e;
    int rc = ls_items_table_read(path, &t, &e);
    if (!rc) rc = ls_gpcm_data_build_cov(t, "A1,A2,A3,A4,A5", "gender", NAN, 0, &d, &e);
    CHECK_MSG(rc == 0, "%s", e.message);
    ls_gpcm_options o;
    ls_gpcm_options_init(&o);
    o.method = LS_GPCM_MML;
    int one[5] = {1, 1, 1, 1, 1};
    if (!rc) rc = ls_gpcm_run(d, one, &o, &r, &e);
    CHECK_MSG(rc == 0, "%s", e.message);
    if (!rc) {
        const double *ef = ls_result_numbers(r, "dif_effect", NULL, NULL), *se = ls_result_numbers(r, "dif_se", NULL, NULL),
                     *fx = ls_result_numbers(r, "dif_fixed", NULL, NULL), *fl = ls_result_numbers(r, "dif_flag", NULL, NULL),
                     *A = ls_result_numbers(r, "covariate_transform", NULL, NULL),
                     *sA = ls_result_numbers(r, "se_covariate_transform", NULL, NULL);
        printf("  bfi A1..A5 by gender (n = %.0f): loglik %.3f, factor mean per gender unit %.3f (%.3f)\n",
               ls_result_number(r, "n_persons"), ls_result_number(r, "loglik"), A[0], sA[0]);
        size_t nfix = 0;
        for (size_t j = 0; j < 5; j++) {
            printf("    %s %7.3f (%5.3f)%s%s\n", ls_gpcm_data_item(d, j), ef[j], se[j], fx[j] != 0 ? " fixed" : "",
                   fl[j] != 0 ? " flagged" : "");
            nfix += fx[j] != 0;
        }
        CHECK(nfix == 1);
        CHECK(ls_result_number(r, "converged") == 1);
        /* women (gender 2) score higher on agreeableness */
        CHECK(A[0] > 3 * sA[0]);
    }
    ls_result_free(r);
    ls_gpcm_data_free(d);
    ls_table_free(t);
}

int main(int argc, char **argv)
{
    quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    RUN(gradient_matches_differences);
    RUN(wide_and_long_covariates_agree);
    RUN(binary_case_agrees_with_factor_mml);
    RUN(recovers_dif_and_flags_the_dif_items);
    RUN(bfi_agreeableness_gender_dif);
    return h_finish();
}
