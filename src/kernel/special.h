/*
 * special.h -- special functions and the Beta cell kernel shared by every
 * model.  Thin, input-guarded wrappers over libm and GSL: GSL's error
 * handler is never reached because arguments are checked first.
 */
#ifndef LS_SPECIAL_H
#define LS_SPECIAL_H

#include <stddef.h>

double ls_lgamma(double x);    /* log Gamma(x), x > 0 (thread-safe)       */
double ls_digamma(double x);   /* psi(x), x > 0                           */
double ls_trigamma(double x);  /* psi'(x), x > 0                          */
double ls_tetragamma(double x); /* psi''(x), x > 0                        */
/* log Gamma(x), and psi(x) into *psi when psi != NULL; x > 0 (NaN
 * otherwise). Fast (recurrence + asymptotic series), error ~1e-14. */
double ls_lgamma_psi(double x, double *psi);
double ls_logistic(double x);  /* 1 / (1 + exp(-x)), no overflow          */
double ls_log1pexp(double x);  /* log(1 + exp(x)), stable                 */
double ls_logsumexp(const double *v, size_t n);
/* log sum_i sg_i exp(v_i) with signs sg_i = +-1 (sg NULL: all +1); NaN
 * when the sum is not positive (a rule with negative weights can give
 * that for an integrand far from its design). */
double ls_logsumexp_signed(const double *v, const signed char *sg, size_t n);

/*
 * The Beta score kernel of the scaling law (spec "Model"):
 *   mu = c + (1 - c) logistic(eta),  y ~ Beta(phi mu, phi (1 - mu)).
 * Inputs: eta, floor c, precision phi, log y, log(1 - y), and the
 * per-benchmark constant lgamma(phi).  Outputs (any may be NULL):
 *   d_eta  = d loglik / d eta
 *   d_lphi = d loglik / d log phi     (needs psi_phi = digamma(phi))
 *   h_eta  = d^2 loglik / d eta^2 (observed)
 *   f_eta  = expected information in eta (Fisher, > 0)
 *   h_el   = d^2 loglik / d eta d log phi
 *   h_ll   = d^2 loglik / d (log phi)^2  (needs d_lphi)
 *   t_eta  = d^3 loglik / d eta^3
 *   t_eel  = d^3 loglik / d eta^2 d log phi
 * and the derivatives in the ceiling d (for its maximum-likelihood
 * estimate): with want bit 32 (no polygamma beyond psi: cheap)
 *   d_d   = d loglik / d d
 * with bit 64
 *   h_ed  = d^2 loglik / d eta d d  h_dd = d^2 loglik / d d^2
 *   h_ld  = d^2 loglik / d log phi d d
 * and with bits 64 and 16
 *   t_eed = d^3 loglik / d eta^2 d d
 * Returns the log-density.
 */
typedef struct ls_beta_cell {
    double d_eta, d_lphi, h_eta, f_eta, h_el, h_ll, t_eta, t_eel;
    double d_d, h_ed, h_dd, h_ld, t_eed;
} ls_beta_cell;

double ls_beta_logpdf(double eta, double c, double d, double phi, double lgphi, double ly, double l1y);
/* Value and derivatives; `want` bit 1: d_eta, 2: d_lphi, 4: h_eta and f_eta,
 * 8: h_el and h_ll (with 2), 16: t_eta and t_eel (tetragamma, GSL),
 * 32: the ceiling's d_d, 64: its h_ed, h_dd, h_ld (and t_eed with 16). */
double ls_beta_cell_eval(double eta, double c, double d, double phi, double lgphi, double psiphi,
                         double ly, double l1y, int want, ls_beta_cell *out);

#endif
