/*
 * check.c -- the check of a fit's value at its estimate on a finer rule
 * (ls_plan_check): a plain evaluation of a grid, or importance sampling
 * with standard errors and more points where they pay (ls_check_loglik).
 */
#include "scaling/fit_impl.h"
#include "kernel/linalg.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* The log-likelihood at theta on rule (integration, nodes), into fam and
 * fse (F each; fse NaN for a grid), only for the families flagged in only
 * (NULL: all); the rule's points per family in *n, and in *sampled whether
 * it samples (per-family points with standard errors). */
static int sampled_loglik(const ls_data *d, const ls_fit_options *o, unsigned threads, const double *theta,
                          int integration, unsigned nodes, const unsigned char *only, double *fam,
                          double *fse, size_t *n, int *sampled, char *method, ls_error *err)
{
    ls_model *m = NULL;
    int rc = ls_fit_model_new(d, o, integration, nodes, threads, &m, err);
    if (rc) return rc;
    ls_model_set_control_variate(m, 1);
    ls_model_set_families(m, only);
    double ll;
    rc = ls_model_loglik(m, theta, &ll, NULL, NULL, err);
    for (size_t f = 0; f < d->F && !rc; f++)
        if (!only || only[f]) fam[f] = ls_model_family_loglik(m, f, &fse[f]);
    *n = ls_model_nodes(m);
    *sampled = ls_model_is_sampled(m);
    if (method) snprintf(method, 16, "%s", ls_model_rule_kind(m));
    ls_model_free(m);
    return rc;
}

int ls_check_loglik(const ls_data *d, const ls_fit_options *o, unsigned threads, const double *theta,
                    int *integration, unsigned *nodes, double *ll, double *se, double *family_ll,
                    size_t *points, char *method, ls_error *err)
{
    size_t F = d->F, n = 0;
    int sampled = 0;
    double *fam = ls_calloc(2 * F, sizeof(double)), *fse = fam + F;
    unsigned char *only = ls_calloc(F, 1);
    if (!fam || !only) {
        ls_free(fam);
        ls_free(only);
        return ls_nomem(err);
    }
    int rc = sampled_loglik(d, o, threads, theta, *integration, *nodes, NULL, fam, fse, &n, &sampled, method, err);
    ls_rule_spec tried = {*integration, *nodes}, next;
    if (rc == LS_ERR_NUMERIC && ls_plan_check_fallback(&tried, &next)) {
        /* a family's signed sum was not positive: importance sampling
         * (err keeps the sparse grid's message for the caller's warning) */
        *integration = next.kind;
        *nodes = next.nodes;
        ls_error e2;
        rc = sampled_loglik(d, o, threads, theta, *integration, *nodes, NULL, fam, fse, &n, &sampled, method, &e2);
        if (rc && err) *err = e2;
    }
    size_t n0 = n;
    /* Importance sampling whose standard error is above LS_CHECK_SE: more
     * points where they pay.  With family f's variance se_f^2 n_f / n at n
     * points, the fewest points for a total variance T^2 put n proportional
     * to se_f sqrt(n_f) (Lagrange); each family gets the power-of-2 multiple
     * of the base count at or above that (never fewer points than it had,
     * at most LS_CHECK_MAX_POINTS), T^2 = 0.8 LS_CHECK_SE^2 for a margin,
     * and the families are evaluated again in one model per count.  At most
     * three rounds.  (At K = 12 on the paper data this costs 3.3 times the
     * base points, where taking the largest errors 4 times over cost 7.) */
    unsigned *nf = ls_calloc(F, sizeof(unsigned));
    if (!nf) rc = ls_nomem(err);
    for (size_t f = 0; f < F && nf; f++) nf[f] = (unsigned)n0;
    for (int round = 0; !rc && sampled && round < 3; round++) {
        double v = 0, S = 0, T2 = 0.8 * LS_CHECK_SE * LS_CHECK_SE;
        for (size_t f = 0; f < F; f++) {
            v += fse[f] * fse[f];
            S += fse[f] * sqrt((double)nf[f]);
        }
        if (v <= LS_CHECK_SE * LS_CHECK_SE) break;
        int more = 0;
        for (unsigned level = 2 * (unsigned)n0; level <= LS_CHECK_MAX_POINTS && !rc; level *= 2) {
            memset(only, 0, F);
            size_t c = 0;
            for (size_t f = 0; f < F; f++) {
                double need = fse[f] * sqrt((double)nf[f]) * S / T2; /* the optimal n */
                unsigned to = (unsigned)n0;
                while (to < need && to < LS_CHECK_MAX_POINTS) to *= 2;
                if (to == level && to > nf[f]) {
                    only[f] = 1;
                    c++;
                }
            }
            if (!c) continue;
            more = 1;
            size_t got;
            rc = sampled_loglik(d, o, threads, theta, *integration, level, only, fam, fse, &got, &sampled, NULL, err);
            for (size_t f = 0; f < F && !rc; f++)
                if (only[f]) nf[f] = (unsigned)got;
        }
        if (!more) break;
    }
    ls_free(nf);
    if (!rc) {
        double s = 0, v = 0;
        for (size_t f = 0; f < F; f++) {
            s += fam[f];
            v += fse[f] * fse[f];
        }
        *ll = s;
        if (se) *se = sampled ? sqrt(v) : NAN;
        if (family_ll) memcpy(family_ll, fam, F * sizeof(double));
        if (points) *points = n0;
    }
    ls_free(fam);
    ls_free(only);
    return rc;
}

/* ---------------------------------------------------------------- */
/* Identification: the data's structure before the optimiser, the    */
/* estimates' scale and the information's conditioning after it       */
/* ---------------------------------------------------------------- */

/* The shares of variance within families of the covariate directions
 * spanned by the columns cols (m of them) of the standardised covariates:
 * the generalised eigenvalues of the within-family covariance against the
 * total one, ascending, into share (m).  Returns 0, or non-zero on a
 * failed allocation or decomposition. */
static int within_shares(const ls_data *d, const size_t *cols, size_t m, double *share)
{
    size_t n = d->n, p = d->p, F = d->F;
    double *T = ls_calloc(m * m, sizeof(double)), *W = ls_calloc(m * m, sizeof(double));
    double *S = ls_calloc(m * m, sizeof(double)), *A = ls_calloc(m * m, sizeof(double));
    double *V = ls_calloc(m * m, sizeof(double)), *mu = ls_calloc(F * m, sizeof(double));
    size_t *cnt = ls_calloc(F, sizeof(size_t));
    int rc = !T || !W || !S || !A || !V || !mu || !cnt;
    for (size_t r = 0; !rc && r < n; r++) {
        size_t g = d->family_of[r];
        cnt[g]++;
        for (size_t a = 0; a < m; a++) mu[g * m + a] += d->x[r * p + cols[a]];
    }
    for (size_t g = 0; !rc && g < F; g++)
        for (size_t a = 0; a < m; a++) mu[g * m + a] /= (double)(cnt[g] ? cnt[g] : 1);
    for (size_t r = 0; !rc && r < n; r++) {
        const double *xr = d->x + r * p, *mg = mu + d->family_of[r] * m;
        for (size_t a = 0; a < m; a++)
            for (size_t b = 0; b < m; b++) {
                T[a * m + b] += xr[cols[a]] * xr[cols[b]]; /* the columns are centred */
                W[a * m + b] += (xr[cols[a]] - mg[a]) * (xr[cols[b]] - mg[b]);
            }
    }
    /* shares: eigenvalues of T^-1/2 W T^-1/2 (T is non-singular: the data
     * build refuses collinear covariates) */
    if (!rc) rc = ls_symm_power(T, m, -0.5, S);
    if (!rc) {
        ls_gemm(0, 0, m, m, m, S, W, V);
        ls_gemm(0, 0, m, m, m, V, S, A);
        rc = ls_eigen_symm(A, m, share, V);
    }
    ls_free(T); ls_free(W); ls_free(S); ls_free(A); ls_free(V); ls_free(mu); ls_free(cnt);
    return rc;
}

/* Directions among cols (m) whose share of variance within families is
 * below LS_WITHIN_SHARE: their effects rest on the differences between
 * families.  (size_t)-1 on failure. */
static size_t between_only(const ls_data *d, const size_t *cols, size_t m)
{
    double *share = ls_calloc(m ? m : 1, sizeof(double));
    if (!share) return (size_t)-1;
    size_t q = 0;
    if (within_shares(d, cols, m, share)) q = (size_t)-1;
    else
        while (q < m && share[q] < LS_WITHIN_SHARE) q++;
    ls_free(share);
    return q;
}

int lsfit_structure_warnings(const ls_data *d, const ls_fit_options *o, ls_fit *f, ls_error *err)
{
    size_t p = d->p, F = d->F, K = o->skills;
    if (!p) {
        if (F < 1 + 2 * K)
            lsfit_warn(f, "weakly identified: %zu famil%s for %zu skill%s; the family effects need families >= 1 + 2 x skills = %zu "
                          "(a variance from m degrees of freedom has relative standard error sqrt(2/m)); use fewer `skills`",
                       F, F == 1 ? "y" : "ies", K, K == 1 ? "" : "s", 1 + 2 * K);
        return LS_OK;
    }
    size_t *cols = ls_calloc(p, sizeof(size_t)), *keep = ls_calloc(p, sizeof(size_t));
    char *lows = ls_calloc(p, 160), *keepnames = ls_calloc(p, 160);
    if (!cols || !keep || !lows || !keepnames) {
        ls_free(cols); ls_free(keep); ls_free(lows); ls_free(keepnames);
        return ls_nomem(err);
    }
    for (size_t k = 0; k < p; k++) cols[k] = k;
    size_t q = between_only(d, cols, p);
    int rc = q == (size_t)-1 ? ls_nomem(err) : LS_OK;
    /* Family means: F - 1 degrees of freedom after the benchmarks'
     * intercepts; the q effects that rest on them take q; the variances of
     * the K skills' family effects take the rest, two each at least: from
     * m degrees of freedom a variance has relative standard error
     * sqrt(2/m), over 100 % from one (the first 8 rows of openllm_v1, 3
     * families, leave one, and the fit runs to a vanishing family variance). */
    size_t need = 1 + 2 * K + (rc ? 0 : q);
    if (!rc && F < need) {
        /* the terms with almost no variance within families, by name */
        size_t nl = 0, len = 0;
        for (size_t k = 0; k < p && !rc; k++) {
            double sh;
            size_t c = k;
            if (within_shares(d, &c, 1, &sh)) { rc = ls_nomem(err); break; }
            if (sh < LS_WITHIN_SHARE) {
                if (len < 160 * p)
                    len += (size_t)snprintf(lows + len, 160 * p - len, "%s'%.100s' (%.2g %%)", nl ? ", " : "",
                                            d->covariate[k], 100 * sh);
                nl++;
            }
        }
        /* the remedy: the terms in order, each kept while the families
         * still suffice for them */
        size_t nk = 0, klen = 0;
        for (size_t k = 0; k < p && !rc; k++) {
            keep[nk] = k;
            size_t qk = between_only(d, keep, nk + 1);
            if (qk == (size_t)-1) { rc = ls_nomem(err); break; }
            if (F >= 1 + 2 * K + qk) {
                if (klen < 160 * p)
                    klen += (size_t)snprintf(keepnames + klen, 160 * p - klen, "%s%.100s", nk ? "," : "",
                                             d->covariate[k]);
                nk++;
            }
        }
        char remedy[512];
        size_t kmax = F > 1 + q ? (F - 1 - q) / 2 : 0;
        if (nk && nk < p)
            snprintf(remedy, sizeof remedy, "use fewer covariates (`covariates` %s)%s", keepnames,
                     kmax >= 1 && kmax < K ? " or fewer `skills`" : "");
        else if (kmax >= 1)
            snprintf(remedy, sizeof remedy, "use fewer `skills` (at most %zu)", kmax);
        else
            snprintf(remedy, sizeof remedy, "use fewer covariates or more families");
        if (!rc)
            lsfit_warn(f, "weakly identified: %zu famil%s for %zu skill%s and %zu covariate term%s, %zu of whose directions hardly vary within families "
                          "(under %g %% of their variance within them%s%s), so their effects rest on the differences between families; "
                          "the family effects need families >= 1 + those directions + 2 x skills = %zu (a variance from m degrees of freedom has "
                          "relative standard error sqrt(2/m)), and without them the loadings and covariate effects trade off "
                          "(estimates at absurd scales); %s",
                       F, F == 1 ? "y" : "ies", K, K == 1 ? "" : "s", p, p == 1 ? "" : "s", q, 100 * LS_WITHIN_SHARE,
                       nl ? ": " : "", nl ? lows : "", need, remedy);
    }
    ls_free(cols); ls_free(keep); ls_free(lows); ls_free(keepnames);
    return rc;
}

int lsfit_scale_warnings(const ls_data *d, ls_fit *f)
{
    size_t p = f->p, K = f->K;
    /* beta_std: a standard deviation of a covariate moves skill k by this
     * many standard deviations of the family effects (Sigma's diagonal is 1) */
    double worst = 0;
    size_t wk = 0, wc = 0;
    for (size_t c = 0; c < p; c++)
        for (size_t k = 0; k < K; k++)
            if (!(fabs(f->beta_std[c * K + k]) <= worst)) {
                worst = fabs(f->beta_std[c * K + k]);
                wc = c;
                wk = k;
            }
    if (p && !(worst <= LS_BETA_STD_MAX)) {
        double lmax = 0;
        for (size_t j = 0; j < f->J * K; j++) lmax = fmax(lmax, fabs(f->est.lambda[j]));
        lsfit_warn(f, "weakly identified: one standard deviation of '%s' moves skill '%s' by %.3g standard deviations of the family effects "
                      "(bound %g): the family effects have all but vanished (largest loading %.3g), the loadings and covariate effects "
                      "trade off and neither is identified; use fewer covariates (`covariates` %s)%s",
                   d->covariate[wc], d->bench[f->est.anchors[wk]], worst, LS_BETA_STD_MAX, lmax,
                   p > 1 ? d->covariate[0] : "with fewer terms", K > 1 ? " or fewer `skills`" : "");
    }
    /* on the logit scale: a standard deviation of a covariate moving
     * benchmark j's linear predictor by more than LS_BETA_STD_MAX */
    double eworst = 0;
    size_t ej = 0, ec = 0;
    for (size_t c = 0; c < p; c++)
        for (size_t j = 0; j < f->J; j++) {
            double e = 0;
            for (size_t k = 0; k < K; k++) e += f->est.lambda[k * f->J + j] * f->beta_std[c * K + k];
            if (!(fabs(e) <= eworst)) {
                eworst = fabs(e);
                ec = c;
                ej = j;
            }
        }
    if (p && worst <= LS_BETA_STD_MAX && !(eworst <= LS_BETA_STD_MAX))
        lsfit_warn(f, "weakly identified: one standard deviation of '%s' moves the logit of '%s' by %.3g (bound %g): "
                      "the scores saturate and the effect is not identified; use fewer covariates (`covariates` %s)%s",
                   d->covariate[ec], d->bench[ej], eworst, LS_BETA_STD_MAX,
                   p > 1 ? d->covariate[0] : "with fewer terms", K > 1 ? " or fewer `skills`" : "");
    if (f->have_se && f->inf.ok[LS_SE_HESSIAN] && f->inf.min_eig >= 1e-6 && f->inf.max_eig > 0 &&
        f->inf.max_eig > LS_INFO_COND_MAX * f->inf.min_eig)
        lsfit_warn(f, "the observed information is nearly singular (condition number %.3g, above %g): some parameters are not "
                      "identified by these data and their standard errors mislead; use fewer covariates%s",
                   f->inf.max_eig / f->inf.min_eig, LS_INFO_COND_MAX, K > 1 ? " or fewer `skills`" : "");
    return LS_OK;
}
