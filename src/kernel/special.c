/*
 * special.c -- special functions (libm lgamma_r, GSL psi, a fused
 * lgamma-and-psi for the inner loop) and the Beta
 * kernel with its derivatives:
 *   d/dmu   log f = phi [psi(b) - psi(a) + log y - log(1-y)]
 *   d/dphi  log f = psi(phi) - mu psi(a) - (1-mu) psi(b) + mu log y + (1-mu) log(1-y)
 *   d2/dmu2 log f = -phi^2 [psi'(a) + psi'(b)]
 * with a = phi mu, b = phi (1 - mu) (spec "Estimation").
 */
#include "kernel/special.h"

#include <gsl/gsl_sf_psi.h>
#include <math.h>

/* lgamma_r is POSIX-adjacent; declare it for strict C11 builds. */
extern double lgamma_r(double, int *);

#define TINY 1e-300

double ls_lgamma(double x)
{
    int sign;
    return x > 0 ? lgamma_r(x, &sign) : NAN;
}

double ls_digamma(double x) { return x > 0 && isfinite(x) ? gsl_sf_psi(x) : NAN; }

/*
 * log Gamma(x) and psi(x) together, for the inner loop (each cell at each
 * quadrature node needs both at a = phi mu and b = phi (1 - mu)).  The
 * recurrences Gamma(x + n) = Gamma(x) x (x + 1) ... (x + n - 1) and
 * psi(x + n) = psi(x) + sum 1/(x + i) move x to z = x + n >= 8, where the
 * Stirling series (to z^-13) and the asymptotic digamma series (to z^-14)
 * are accurate to about 1e-14.  The product P and its derivative P' are
 * carried together, so sum 1/(x + i) = P'/P costs one division.  Checked
 * against libm lgamma and GSL psi in tests/test_special.c.
 */
double ls_lgamma_psi(double x, double *psi)
{
    if (!(x > 0) || !isfinite(x)) {
        if (psi) *psi = NAN;
        return NAN;
    }
    double P = 1, dP = 0;
    while (x < 8) {
        dP = dP * x + P;
        P *= x;
        x += 1;
    }
    double r = 1 / x, r2 = r * r, lz = log(x);
    double lg = (x - 0.5) * lz - x + 0.91893853320467274178 /* log(2 pi)/2 */ +
                r * (1.0 / 12 + r2 * (-1.0 / 360 + r2 * (1.0 / 1260 + r2 * (-1.0 / 1680 +
                r2 * (1.0 / 1188 + r2 * (-691.0 / 360360 + r2 * (1.0 / 156)))))));
    if (P != 1) lg -= log(P);
    if (psi) {
        double ps = lz - 0.5 * r -
                    r2 * (1.0 / 12 + r2 * (-1.0 / 120 + r2 * (1.0 / 252 + r2 * (-1.0 / 240 +
                    r2 * (1.0 / 132 + r2 * (-691.0 / 32760 + r2 * (1.0 / 12)))))));
        *psi = P != 1 ? ps - dP / P : ps;
    }
    return lg;
}

/* psi'(x): the recurrence psi'(x) = psi'(x + 1) + 1/x^2 up to x >= 8, then
 * the asymptotic series 1/x + 1/(2x^2) + sum_k B_2k / x^(2k+1) to B_14
 * (truncation below 3e-15 there).  gsl_sf_psi_1 goes through the Hurwitz
 * zeta function and pow, which took 40 % of the Hessian's time in a perf
 * profile; tested against it. */
double ls_trigamma(double x)
{
    if (!(x > 0) || !isfinite(x)) return NAN;
    double s = 0;
    while (x < 8) {
        s += 1 / (x * x);
        x += 1;
    }
    double r = 1 / x, r2 = r * r;
    return s + r + 0.5 * r2 +
           r * r2 * (1.0 / 6 + r2 * (-1.0 / 30 + r2 * (1.0 / 42 + r2 * (-1.0 / 30 +
           r2 * (5.0 / 66 + r2 * (-691.0 / 2730 + r2 * (7.0 / 6)))))));
}

/* psi''(x): the recurrence psi''(x) = psi''(x + 1) - 2 / x^3 up to x >= 10,
 * then the derivative of trigamma's asymptotic series,
 * -1/x^2 - 1/x^3 - 1/(2x^4) + 1/(6x^6) - 1/(6x^8) + 3/(10x^10) - 5/(6x^12)
 * + 691/(210x^14) - 35/(2x^16).  GSL's gsl_sf_psi_n(2, x) goes through the
 * Hurwitz zeta function, several times slower. */
double ls_tetragamma(double x)
{
    if (!(x > 0) || !isfinite(x)) return NAN;
    double s = 0;
    while (x < 10) {
        s -= 2 / (x * x * x);
        x += 1;
    }
    double r = 1 / x, r2 = r * r;
    return s - r2 - r * r2 - 0.5 * r2 * r2 +
           r2 * r2 * r2 * (1.0 / 6 + r2 * (-1.0 / 6 + r2 * (3.0 / 10 + r2 * (-5.0 / 6 +
           r2 * (691.0 / 210 + r2 * (-35.0 / 2))))));
}

double ls_logistic(double x)
{
    if (x >= 0) return 1.0 / (1.0 + exp(-x));
    double e = exp(x);
    return e / (1.0 + e);
}

double ls_log1pexp(double x) { return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); }

double ls_logsumexp(const double *v, size_t n)
{
    double m = -INFINITY;
    for (size_t i = 0; i < n; i++)
        if (v[i] > m) m = v[i];
    if (!isfinite(m)) return m;
    double s = 0;
    for (size_t i = 0; i < n; i++) s += exp(v[i] - m);
    return m + log(s);
}

double ls_logsumexp_signed(const double *v, const signed char *sg, size_t n)
{
    if (!sg) return ls_logsumexp(v, n);
    double m = -INFINITY;
    for (size_t i = 0; i < n; i++)
        if (v[i] > m) m = v[i];
    if (!isfinite(m)) return m > 0 ? m : NAN;
    double s = 0;
    for (size_t i = 0; i < n; i++) s += sg[i] * exp(v[i] - m);
    return s > 0 ? m + log(s) : NAN;
}

/* a = phi mu and b = phi (1 - mu) for mu = c + (d - c) logistic(eta), each
 * computed without cancellation (1 - mu = (1 - d) + (d - c) logistic(-eta)). */
static void shape(double eta, double c, double d, double phi, double *mu, double *s, double *a,
                  double *b)
{
    double sg = ls_logistic(eta), sn = ls_logistic(-eta);
    *s = sg;
    *mu = c + (d - c) * sg;
    double one_minus_mu = (1 - d) + (d - c) * sn;
    *a = phi * *mu;
    *b = phi * one_minus_mu;
    if (*a < TINY) *a = TINY;
    if (*b < TINY) *b = TINY;
}

double ls_beta_logpdf(double eta, double c, double d, double phi, double lgphi, double ly, double l1y)
{
    double mu, s, a, b;
    shape(eta, c, d, phi, &mu, &s, &a, &b);
    return lgphi - ls_lgamma_psi(a, NULL) - ls_lgamma_psi(b, NULL) + (a - 1) * ly + (b - 1) * l1y;
}

double ls_beta_cell_eval(double eta, double c, double d, double phi, double lgphi, double psiphi,
                         double ly, double l1y, int want, ls_beta_cell *out)
{
    double mu, s, a, b;
    shape(eta, c, d, phi, &mu, &s, &a, &b);
    double pa, pb;
    double lp = lgphi - ls_lgamma_psi(a, &pa) - ls_lgamma_psi(b, &pb) + (a - 1) * ly + (b - 1) * l1y;
    if (!want) return lp;
    double dmu_deta = (d - c) * s * (1 - s);
    double dl_dmu = phi * (pb - pa + ly - l1y);
    if (want & 1) out->d_eta = dl_dmu * dmu_deta;
    if (want & 2) {
        double omu = b / phi;
        out->d_lphi = phi * (psiphi - mu * pa - omu * pb + mu * ly + omu * l1y);
    }
    double ta = 0, tb = 0; /* trigamma at the shapes, once for bits 4, 8, 16 and 64 */
    if (want & (4 | 8 | 16 | 64)) {
        ta = ls_trigamma(a);
        tb = ls_trigamma(b);
    }
    if (want & (4 | 8)) {
        if (want & 4) {
            double info_mu = phi * phi * (ta + tb);
            out->f_eta = info_mu * dmu_deta * dmu_deta;
            out->h_eta = -out->f_eta + dl_dmu * dmu_deta * (1 - 2 * s);
        }
        if (want & 8) {
            /* with a = mu phi, b = (1 - mu) phi:
             *   d2l/dmu dlogphi = dl/dmu + phi (b psi1(b) - a psi1(a))
             *   d2l/dlogphi2    = dl/dlogphi + phi^2 psi1(phi) - a^2 psi1(a) - b^2 psi1(b) */
            out->h_el = dmu_deta * (dl_dmu + phi * (b * tb - a * ta));
            out->h_ll = out->d_lphi + phi * phi * ls_trigamma(phi) - a * a * ta - b * b * tb;
        }
    }
    /* mu'' = mu' (1 - 2 s), mu''' = mu' (1 - 6 s + 6 s^2);
     * l_mumu = -phi^2 (psi1(a) + psi1(b)), l_mumumu = -phi^3 (psi2(a) - psi2(b)).
     * The ceiling: mu = c + (d - c) s, so d mu/dd = s, and d/dd of mu' = (d - c) s (1 - s)
     * and of mu'' = mu' (1 - 2 s) are v1 = s (1 - s) and v1 (1 - 2 s);
     * d l_mu/dd = l_mumu s, d l_mumu/dd = l_mumumu s */
    double m1 = dmu_deta, m2 = m1 * (1 - 2 * s), l2 = -phi * phi * (ta + tb), v1 = s * (1 - s);
    if (want & 16) {
        /* d/dlogphi at fixed mu: l_mumu -> 2 l_mumu - phi^2 (a psi2(a) + b psi2(b)),
         * l_mu -> l_mu + phi (b psi1(b) - a psi1(a)) */
        double qa = ls_tetragamma(a), qb = ls_tetragamma(b);
        double m3 = m1 * (1 - 6 * s + 6 * s * s), l3 = -phi * phi * phi * (qa - qb);
        out->t_eta = l3 * m1 * m1 * m1 + 3 * l2 * m1 * m2 + dl_dmu * m3;
        out->t_eel = (2 * l2 - phi * phi * (a * qa + b * qb)) * m1 * m1 +
                     (dl_dmu + phi * (b * tb - a * ta)) * m2;
        if (want & 64)
            out->t_eed = l3 * s * m1 * m1 + 2 * l2 * m1 * v1 + l2 * s * m2 + dl_dmu * v1 * (1 - 2 * s);
    }
    if (want & 32) out->d_d = dl_dmu * s;
    if (want & 64) {
        out->h_dd = l2 * s * s;
        out->h_ed = l2 * s * m1 + dl_dmu * v1;
        out->h_ld = s * (dl_dmu + phi * (b * tb - a * ta));
    }
    return lp;
}
