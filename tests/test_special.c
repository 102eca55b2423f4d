/*
 * test_special.c -- special functions and the Beta kernel: known values,
 * and every derivative against central finite differences.
 */
#include "harness.h"
#include <gsl/gsl_sf_psi.h>
#include <gsl/gsl_math.h>
#include "kernel/special.h"

static void known_values_of_lgamma_digamma_trigamma(void)
{
    CHECK_NEAR(ls_lgamma(1.0), 0.0, 1e-15);
    CHECK_NEAR(ls_lgamma(0.5), 0.5 * log(M_PI), 1e-14);
    CHECK_NEAR(ls_digamma(1.0), -0.57721566490153286, 1e-14);
    CHECK_NEAR(ls_trigamma(1.0), M_PI * M_PI / 6, 1e-13);
    CHECK(isnan(ls_digamma(0.0)) && isnan(ls_digamma(-1.0)) && isnan(ls_lgamma(-2.0)));
}

/* The fused inner-loop kernel against libm lgamma and GSL psi over 1e-300..1e8
 * (log-spaced, 4000 points), absolute error scaled by max(1, |value|). */
static void fused_lgamma_psi_matches_libm_and_gsl(void)
{
    double worst_lg = 0, worst_psi = 0;
    for (int i = 0; i <= 4000; i++) {
        double x = pow(10.0, -300.0 + 308.0 * i / 4000.0);
        if (x < 1e-6) x = pow(10.0, -6.0 + 14.0 * i / 4000.0) * (i % 2 ? 1 : 0.37);
        double ps, lg = ls_lgamma_psi(x, &ps);
        double lg0 = ls_lgamma(x), ps0 = ls_digamma(x);
        worst_lg = fmax(worst_lg, fabs(lg - lg0) / fmax(1, fabs(lg0)));
        worst_psi = fmax(worst_psi, fabs(ps - ps0) / fmax(1, fabs(ps0)));
    }
    printf("  fused lgamma worst scaled error %.2e, psi %.2e\n", worst_lg, worst_psi);
    CHECK_MSG(worst_lg < 1e-13, "lgamma error %.3g", worst_lg);
    CHECK_MSG(worst_psi < 1e-13, "psi error %.3g", worst_psi);
    double ps;
    CHECK_NEAR(ls_lgamma_psi(1e-300, &ps), ls_lgamma(1e-300), 1e-12);
    CHECK_NEAR(ps, -1e300, 1e287);
    CHECK(isnan(ls_lgamma_psi(0, &ps)) && isnan(ps));
    CHECK(isnan(ls_lgamma_psi(INFINITY, &ps)) && isnan(ps));
    CHECK(isnan(ls_lgamma_psi(NAN, NULL)));
}

static void trigamma_matches_gsl(void)
{
    double worst = 0;
    for (int i = 0; i <= 4000; i++) {
        double x = pow(10.0, -6.0 + 14.0 * i / 4000.0) * (i % 2 ? 1 : 0.37);
        double t = ls_trigamma(x), t0 = gsl_sf_psi_1(x);
        worst = fmax(worst, fabs(t - t0) / fabs(t0));
    }
    printf("  trigamma worst relative error against GSL %.2e\n", worst);
    CHECK_MSG(worst < 1e-13, "trigamma error %.3g", worst);
    CHECK(isnan(ls_trigamma(0)) && isnan(ls_trigamma(-1)) && isnan(ls_trigamma(NAN)));
}

static void tetragamma_matches_gsl(void)
{
    double worst = 0;
    for (int i = 0; i <= 4000; i++) {
        double x = pow(10.0, -6.0 + 14.0 * i / 4000.0) * (i % 2 ? 1 : 0.37);
        double t = ls_tetragamma(x), t0 = gsl_sf_psi_n(2, x);
        worst = fmax(worst, fabs(t - t0) / fabs(t0));
    }
    printf("  tetragamma worst relative error against GSL %.2e\n", worst);
    CHECK_MSG(worst < 1e-13, "tetragamma error %.3g", worst);
    CHECK_NEAR(ls_tetragamma(1.0), -2 * 1.2020569031595942854, 1e-14); /* -2 zeta(3) */
    CHECK(isnan(ls_tetragamma(0)) && isnan(ls_tetragamma(-1)) && isnan(ls_tetragamma(NAN)));
}

static void logistic_and_log1pexp_do_not_overflow(void)
{
    CHECK(ls_logistic(-1000) == 0.0 && ls_logistic(1000) == 1.0);
    CHECK_NEAR(ls_logistic(0), 0.5, 0);
    CHECK_NEAR(ls_log1pexp(1000), 1000, 1e-12);
    CHECK_NEAR(ls_log1pexp(-1000), 0, 1e-300);
    CHECK_NEAR(ls_log1pexp(0), log(2), 1e-15);
}

static void logsumexp_is_stable_for_large_arguments(void)
{
    double v[3] = {1000, 1000, 1000};
    CHECK_NEAR(ls_logsumexp(v, 3), 1000 + log(3), 1e-12);
    double w[2] = {-INFINITY, -INFINITY};
    CHECK(ls_logsumexp(w, 2) == -INFINITY);
}

static void signed_logsumexp_subtracts_and_refuses_a_negative_sum(void)
{
    double v[3] = {1000 + log(3.0), 1000, 1000 - log(2.0)};
    signed char s1[3] = {1, -1, 1}, s2[3] = {-1, 1, 1};
    CHECK_NEAR(ls_logsumexp_signed(v, s1, 3), 1000 + log(2.5), 1e-12);
    CHECK(isnan(ls_logsumexp_signed(v, s2, 3))); /* 1 + 1/2 - 3 < 0 */
    CHECK(ls_logsumexp_signed(v, NULL, 3) == ls_logsumexp(v, 3));
    double z[2] = {0, 0};
    signed char s3[2] = {1, -1};
    CHECK(isnan(ls_logsumexp_signed(z, s3, 2))); /* exactly 0 */
}

static void beta_density_integrates_to_one(void)
{
    /* with and without a ceiling: the density is in y, whatever its mean */
    const double ds[] = {1, 0.8};
    for (size_t k = 0; k < 2; k++) {
        double c = 0.25, phi = 20, eta = 0.3, s = 0, m = 0;
        int n = 200000;
        for (int i = 0; i < n; i++) {
            double y = (i + 0.5) / n;
            double p = exp(ls_beta_logpdf(eta, c, ds[k], phi, ls_lgamma(phi), log(y), log1p(-y))) / n;
            s += p;
            m += p * y;
        }
        CHECK_NEAR(s, 1.0, 1e-4);
        /* its mean is c + (d - c) logistic(eta) */
        CHECK_NEAR(m, c + (ds[k] - c) * ls_logistic(eta), 1e-4);
    }
}

static void beta_kernel_derivatives_match_finite_differences(void)
{
    const double etas[] = {-4, -1.2, 0, 0.7, 3.5}, cs[] = {0, 0.25, 0.5}, phis[] = {3, 40, 900};
    const double ys[] = {0.001, 0.3, 0.62, 0.999}, ds[] = {1, 0.9, 0.7};
    double worst = 0;
    for (size_t a = 0; a < 5; a++)
        for (size_t b = 0; b < 3; b++)
            for (size_t c = 0; c < 3; c++)
                for (size_t q = 0; q < 4; q++)
                    for (size_t r = 0; r < 3; r++) {
                    double eta = etas[a], fl = cs[b], phi = phis[c], y = ys[q], dd = ds[r];
                    double ly = log(y), l1y = log1p(-y), h = 1e-5;
                    ls_beta_cell bc, b1, b2;
                    ls_beta_cell_eval(eta, fl, dd, phi, ls_lgamma(phi), ls_digamma(phi), ly, l1y, 31, &bc);
                    double fp = ls_beta_cell_eval(eta + h, fl, dd, phi, ls_lgamma(phi), ls_digamma(phi), ly, l1y, 5, &b1);
                    double fm = ls_beta_cell_eval(eta - h, fl, dd, phi, ls_lgamma(phi), ls_digamma(phi), ly, l1y, 5, &b2);
                    double e1 = fabs((fp - fm) / (2 * h) - bc.d_eta) / fmax(1, fabs(bc.d_eta));
                    double e2 = fabs((b1.d_eta - b2.d_eta) / (2 * h) - bc.h_eta) / fmax(1, fabs(bc.h_eta));
                    double pp = phi * exp(h), pm = phi * exp(-h);
                    double gp = ls_beta_logpdf(eta, fl, dd, pp, ls_lgamma(pp), ly, l1y);
                    double gm = ls_beta_logpdf(eta, fl, dd, pm, ls_lgamma(pm), ly, l1y);
                    double e3 = fabs((gp - gm) / (2 * h) - bc.d_lphi) / fmax(1, fabs(bc.d_lphi));
                    /* second derivatives in log phi: differences of d_eta and d_lphi */
                    ls_beta_cell c1, c2;
                    ls_beta_cell_eval(eta, fl, dd, pp, ls_lgamma(pp), ls_digamma(pp), ly, l1y, 7, &c1);
                    ls_beta_cell_eval(eta, fl, dd, pm, ls_lgamma(pm), ls_digamma(pm), ly, l1y, 7, &c2);
                    double e4 = fabs((c1.d_eta - c2.d_eta) / (2 * h) - bc.h_el) / fmax(1, fabs(bc.h_el));
                    double e5 = fabs((c1.d_lphi - c2.d_lphi) / (2 * h) - bc.h_ll) / fmax(1, fabs(bc.h_ll));
                    /* third derivatives (the Laplace rule's gradient):
                     * differences of h_eta in eta and in log phi */
                    double e6 = fabs((b1.h_eta - b2.h_eta) / (2 * h) - bc.t_eta) / fmax(1, fabs(bc.t_eta));
                    double e7 = fabs((c1.h_eta - c2.h_eta) / (2 * h) - bc.t_eel) / fmax(1, fabs(bc.t_eel));
                    worst = fmax(worst, fmax(fmax(e1, e4), fmax(e2, fmax(e3, e5))));
                    worst = fmax(worst, fmax(e6, e7));
                    CHECK(bc.f_eta > 0);
                    /* the ceiling's derivatives (bit 32): differences in d (a
                     * smaller step: t_eed's truncation error at phi = 900 is
                     * 1e-4 with h = 1e-5) */
                    ls_beta_cell k0, k1, k2;
                    h = 1e-6;
                    ls_beta_cell_eval(eta, fl, dd, phi, ls_lgamma(phi), ls_digamma(phi), ly, l1y, 127, &k0);
                    double dp = ls_beta_cell_eval(eta, fl, dd + h, phi, ls_lgamma(phi), ls_digamma(phi), ly, l1y, 127, &k1);
                    double dm = ls_beta_cell_eval(eta, fl, dd - h, phi, ls_lgamma(phi), ls_digamma(phi), ly, l1y, 127, &k2);
                    double rel[5] = {
                        ((dp - dm) / (2 * h) - k0.d_d) / fmax(1, fabs(k0.d_d)),
                        ((k1.d_d - k2.d_d) / (2 * h) - k0.h_dd) / fmax(1, fabs(k0.h_dd)),
                        ((k1.d_eta - k2.d_eta) / (2 * h) - k0.h_ed) / fmax(1, fabs(k0.h_ed)),
                        ((k1.d_lphi - k2.d_lphi) / (2 * h) - k0.h_ld) / fmax(1, fabs(k0.h_ld)),
                        ((k1.h_eta - k2.h_eta) / (2 * h) - k0.t_eed) / fmax(1, fabs(k0.t_eed))};
                    for (int t = 0; t < 5; t++) worst = fmax(worst, fabs(rel[t]));
                }
    CHECK_MSG(worst < 1e-5, "worst relative error %.3g", worst);
}

int main(void)
{
    RUN(known_values_of_lgamma_digamma_trigamma);
    RUN(fused_lgamma_psi_matches_libm_and_gsl);
    RUN(trigamma_matches_gsl);
    RUN(tetragamma_matches_gsl);
    RUN(logistic_and_log1pexp_do_not_overflow);
    RUN(logsumexp_is_stable_for_large_arguments);
    RUN(signed_logsumexp_subtracts_and_refuses_a_negative_sum);
    RUN(beta_density_integrates_to_one);
    RUN(beta_kernel_derivatives_match_finite_differences);
    return h_finish();
}
