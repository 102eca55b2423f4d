/*
 * check.c -- the check of a fit's value at its estimate on a finer rule
 * (ls_plan_check): a plain evaluation of a grid, or importance sampling
 * with standard errors and more points where they pay (ls_check_loglik).
 */
#include "scaling/fit_impl.h"

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
