/*
 * special.c -- special functions (libm lgamma_r, GSL psi) and the Beta
 * kernel with its derivatives:
 *   d/dmu   log f = phi [psi(b) - psi(a) + log y - log(1-y)]
 *   d/dphi  log f = psi(phi) - mu psi(a) - (1-mu) psi(b) + mu log y + (1-mu) log(1-y)
 *   d2/dmu2 log f = -phi^2 [psi'(a) + psi'(b)]
 * with a = phi mu, b = phi (1 - mu) (spec "Estimation").
 */
#include "numerics/special.h"

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

double ls_trigamma(double x) { return x > 0 && isfinite(x) ? gsl_sf_psi_1(x) : NAN; }

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

/* a = phi mu and b = phi (1 - mu), each computed without cancellation. */
static void shape(double eta, double c, double phi, double *mu, double *s, double *a, double *b)
{
    double sg = ls_logistic(eta), sn = ls_logistic(-eta);
    *s = sg;
    *mu = c + (1 - c) * sg;
    double one_minus_mu = (1 - c) * sn;
    *a = phi * *mu;
    *b = phi * one_minus_mu;
    if (*a < TINY) *a = TINY;
    if (*b < TINY) *b = TINY;
}

double ls_beta_logpdf(double eta, double c, double phi, double lgphi, double ly, double l1y)
{
    double mu, s, a, b;
    shape(eta, c, phi, &mu, &s, &a, &b);
    return lgphi - ls_lgamma(a) - ls_lgamma(b) + (a - 1) * ly + (b - 1) * l1y;
}

double ls_beta_cell_eval(double eta, double c, double phi, double lgphi, double psiphi,
                         double ly, double l1y, int want, ls_beta_cell *out)
{
    double mu, s, a, b;
    shape(eta, c, phi, &mu, &s, &a, &b);
    double lp = lgphi - ls_lgamma(a) - ls_lgamma(b) + (a - 1) * ly + (b - 1) * l1y;
    if (!want) return lp;
    double pa = gsl_sf_psi(a), pb = gsl_sf_psi(b);
    double dmu_deta = (1 - c) * s * (1 - s);
    double dl_dmu = phi * (pb - pa + ly - l1y);
    if (want & 1) out->d_eta = dl_dmu * dmu_deta;
    if (want & 2) {
        double omu = b / phi;
        out->d_lphi = phi * (psiphi - mu * pa - omu * pb + mu * ly + omu * l1y);
    }
    if (want & 4) {
        double info_mu = phi * phi * (gsl_sf_psi_1(a) + gsl_sf_psi_1(b));
        out->f_eta = info_mu * dmu_deta * dmu_deta;
        out->h_eta = -out->f_eta + dl_dmu * dmu_deta * (1 - 2 * s);
    }
    return lp;
}
