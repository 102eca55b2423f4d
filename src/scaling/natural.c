/*
 * natural.c -- the natural-parameter vector of a fit, in one place: its
 * layout (beta, lambda, b, phi, sigma, gamma, ceilings; latentscale.h,
 * ls_nat_layout), the estimates in that order, their covariance and their
 * confidence intervals.  Everything that writes, reads or draws the natural
 * vector (the fit file, the fit summary, the report, the bindings) takes
 * the layout from here.
 */
#include "scaling/fit.h"
#include "kernel/special.h"

#include <gsl/gsl_cdf.h>
#include <math.h>
#include <string.h>

void ls_nat_layout(size_t K, size_t J, size_t p, int hetero, int ceilings, int family_effect,
                   size_t offsets[LS_NAT_NBLOCKS + 1])
{
    size_t len[LS_NAT_NBLOCKS] = {p * K, K * J, J, J, K * K, hetero ? p : 0, ceilings ? J : 0,
                                  family_effect ? J : 0};
    offsets[0] = 0;
    for (int b = 0; b < LS_NAT_NBLOCKS; b++) offsets[b + 1] = offsets[b] + len[b];
}

void ls_fit_nat_layout(const ls_fit *f, size_t offsets[LS_NAT_NBLOCKS + 1])
{
    ls_nat_layout(f->K, f->J, f->p, f->est.hetero, f->nkap > 0, f->est.family_effect, offsets);
}

void ls_fit_nat_estimates(const ls_fit *f, double *v)
{
    size_t o[LS_NAT_NBLOCKS + 1];
    ls_fit_nat_layout(f, o);
    const double *src[LS_NAT_NBLOCKS] = {f->est.beta, f->est.lambda, f->est.b, f->est.phi,
                                         f->est.sigma, f->est.gamma, f->est.ceiling, f->est.tau};
    for (int b = 0; b < LS_NAT_NBLOCKS; b++)
        if (o[b + 1] > o[b]) memcpy(v + o[b], src[b], (o[b + 1] - o[b]) * sizeof(double));
}

const double *ls_fit_nat_cov(const ls_fit *f)
{
    return f->have_se && f->inf.ok[LS_SE_HESSIAN] ? f->inf.cov : NULL;
}

/* One bound (upper: sign + 1, lower: - 1) of every interval at normal
 * quantile z: Wald for beta, free loadings, b and gamma; on the log scale
 * for phi and the anchor loadings (positive); through Fisher's z for the
 * correlations; for an estimated ceiling on the logit scale of
 * (d - c) / (1 - c), inside (c, 1); for the family effect's sd, Wald on
 * its signed parametrisation folded at 0 (an estimate at 0 gets [0, z se]). */
void lss_confint_bound(const ls_fit *f, const ls_data *d, const double *est, const double *se,
                       double z, int upper, double *v)
{
    size_t K = f->K, J = f->J, o[LS_NAT_NBLOCKS + 1];
    ls_fit_nat_layout(f, o);
    const double sg = upper ? 1 : -1;
    for (size_t a = 0; a < o[LS_NAT_NBLOCKS]; a++) {
        double e = est[a], s = se[a];
        if (a >= o[LS_NAT_TAU]) v[a] = fmax(e + sg * z * s, 0);  /* tau: Wald on the signed tau, folded at 0 */
        else if (a >= o[LS_NAT_CEILING]) {                                    /* ceiling */
            double c = d->floor[a - o[LS_NAT_CEILING]], r = (e - c) / (1 - c);
            if (s == 0 || !(r > 0 && r < 1)) v[a] = e;
            else v[a] = c + (1 - c) * ls_logistic(log(r / (1 - r)) + sg * z * s / ((1 - c) * r * (1 - r)));
        } else if (a >= o[LS_NAT_PHI] && a < o[LS_NAT_SIGMA]) v[a] = e * exp(sg * z * s / e); /* phi */
        else if (a >= o[LS_NAT_SIGMA] && a < o[LS_NAT_GAMMA]) {               /* sigma */
            size_t r = (a - o[LS_NAT_SIGMA]) / K, c = (a - o[LS_NAT_SIGMA]) % K;
            v[a] = r == c ? 1.0 : tanh(atanh(e) + sg * z * s / (1 - e * e));
        } else if (a >= o[LS_NAT_LAMBDA] && a < o[LS_NAT_B]) {                /* lambda */
            size_t k = (a - o[LS_NAT_LAMBDA]) / J, j = (a - o[LS_NAT_LAMBDA]) % J;
            if (f->est.anchors[k] == j) v[a] = e * exp(sg * z * s / e);
            else if (s == 0) v[a] = e;                                        /* fixed at 0 */
            else v[a] = e + sg * z * s;
        } else v[a] = e + sg * z * s;
    }
}

int ls_fit_confint(const ls_fit *f, const ls_data *d, int kind, double level, double *lower,
                   double *upper, ls_error *err)
{
    if (!(level > 0 && level < 1))
        return ls_fail(err, LS_ERR_OPTION, "level: expected a number in (0, 1), found %g", level);
    const double *se = ls_fit_se(f, kind);
    if (!se)
        return ls_fail(err, LS_ERR_INPUT, "no standard errors of that kind: skipped, or the matrix is singular");
    double *est = ls_calloc(f->inf.nnat, sizeof(double));
    if (!est) return ls_nomem(err);
    ls_fit_nat_estimates(f, est);
    double z = level == 0.95 ? LS_Z95 : gsl_cdf_ugaussian_Qinv((1 - level) / 2);
    lss_confint_bound(f, d, est, se, z, 0, lower);
    lss_confint_bound(f, d, est, se, z, 1, upper);
    ls_free(est);
    return LS_OK;
}

void lss_covariate_ranges(const ls_data *d, double *mn, double *mx, double st[2])
{
    size_t p = d->p;
    for (size_t k = 0; k < p; k++) {
        mn[k] = INFINITY;
        mx[k] = -INFINITY;
        for (size_t i = 0; i < d->n; i++) {
            mn[k] = fmin(mn[k], d->x_raw[i * p + k]);
            mx[k] = fmax(mx[k], d->x_raw[i * p + k]);
        }
    }
    long ks = -1, kt = -1;
    for (size_t k = 0; k < p; k++) {
        if (strcmp(d->covariate[k], "log(size)") == 0) ks = (long)k;
        if (strcmp(d->covariate[k], "log(tokens)") == 0) kt = (long)k;
    }
    st[0] = st[1] = NAN;
    if (ks >= 0 && kt >= 0) {
        double lo = INFINITY, hi = -INFINITY;
        for (size_t i = 0; i < d->n; i++) {
            double v = d->x_raw[i * p + (size_t)ks] + d->x_raw[i * p + (size_t)kt];
            lo = fmin(lo, v);
            hi = fmax(hi, v);
        }
        st[0] = exp(lo);
        st[1] = exp(hi);
    }
}
