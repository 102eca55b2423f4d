/*
 * calibrate.c -- calibration of predictions that does not trust the model.
 *
 * What users ask of the law is extrapolation: a family's next, larger model.
 * Within the fit's own data the largest sibling of every family with two or
 * more models is held out, the law refitted without them, and each held-out
 * cell's predictive CDF value u = F(y) recorded (the probability integral
 * transform).  A calibrated model has u uniform; a model that over-predicts
 * larger siblings has u piled up low, one whose intervals are too narrow has
 * u piled at both ends.  A prediction then reports, for a nominal quantile
 * level q, the predictive quantile at level u_(k), an order statistic of the
 * n stored values: k = floor((n + 1) q) below the median, ceil((n + 1) q)
 * above it, the split-conformal choice, which covers at least its level on
 * exchangeable new cells (marginally; cells of one family are dependent, so
 * the guarantee is approximate).  Median: the median of u.
 */
#include "scaling/tasks.h"
#include "scaling/fit_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CALIB_MIN_FAMILIES 5

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double ls_fit_calibrated_level(const ls_fit *f, double q)
{
    if (!f || !f->calib_pit || f->calib_n == 0 || !(q > 0 && q < 1)) return q;
    const double *u = f->calib_pit;
    size_t n = f->calib_n;
    if (q == 0.5) return n % 2 ? u[n / 2] : 0.5 * (u[n / 2 - 1] + u[n / 2]);
    double h = (double)(n + 1) * q;
    if (q < 0.5) {
        size_t k = (size_t)floor(h + 1e-9); /* (1 - 0.9) / 2 is 0.04999.. in binary */
        return k < 1 ? 0 : u[k - 1];
    }
    size_t k = (size_t)ceil(h - 1e-9);
    return k > n ? 1 : u[k - 1];
}

const double *ls_fit_calibration(const ls_fit *f, size_t *n, size_t *models, size_t *families)
{
    if (n) *n = f ? f->calib_n : 0;
    if (models) *models = f ? f->calib_models : 0;
    if (families) *families = f ? f->calib_families : 0;
    return f ? f->calib_pit : NULL;
}

int ls_fit_calibrate(ls_fit *f, const ls_data *d, const ls_table *t, const ls_data_options *dopt,
                     const ls_predict_options *o, ls_error *err)
{
    int rc = ls_predict_options_check(o, err);
    if (rc) return rc;
    if (ls_table_nrow(t) != d->n + d->ndropped)
        return ls_fail(err, LS_ERR_INPUT, "calibration: %s has %zu rows, the fit's data %zu: not the table it was built from",
                       ls_table_name(t), ls_table_nrow(t), d->n + d->ndropped);
    ls_table *kept = NULL;
    if (d->ndropped) { /* drop_incomplete: the rows kept (data row i is kept row i) */
        if ((rc = ls_table_subset(t, d->trow, d->n, &kept, err))) return rc;
        t = kept;
    }
    size_t n = d->n, ntr = 0, nte = 0;
    int *role = ls_calloc(n, sizeof(int));
    size_t *rtr = ls_calloc(n, sizeof(size_t)), *rte = ls_calloc(n, sizeof(size_t));
    ls_table *tt = NULL, *te = NULL;
    ls_data *dtr = NULL;
    ls_fit *g = NULL;
    lss_prediction pred;
    memset(&pred, 0, sizeof pred);
    double *u = NULL;
    char *bl = NULL;
    if (!role || !rtr || !rte) { rc = ls_nomem(err); goto done; }
    if ((rc = lss_roles_largest(t, d, role, err))) goto done;
    for (size_t i = 0; i < n; i++) {
        if (role[i]) rte[nte++] = i;
        else rtr[ntr++] = i;
    }
    if (nte < CALIB_MIN_FAMILIES) {
        rc = ls_fail(err, LS_ERR_INPUT,
                     "calibration: %zu families with two or more models (and sizes and tokens) in %s; at least %d needed",
                     nte, ls_table_name(t), CALIB_MIN_FAMILIES);
        goto done;
    }
    if ((rc = ls_table_subset(t, rtr, ntr, &tt, err))) goto done;
    if ((rc = ls_table_subset(t, rte, nte, &te, err))) goto done;
    ls_data_options o2 = *dopt;
    if (!(bl = ls_data_bench_list(d))) { rc = ls_nomem(err); goto done; }
    o2.benchmarks = bl;
    if ((rc = ls_data_build(tt, &o2, &dtr, err))) goto done;
    ls_fit_options fo = f->opt;
    fo.anchors = f->anchors;
    fo.estimate_ceilings = f->est_ceil;
    fo.calibrate = 0;
    fo.skip_check = 1; /* the held-out cells score the refit, not its log-likelihood */
    if ((rc = ls_fit_run(dtr, &fo, &g, err))) goto done;
    ls_predict_options po = *o;
    po.calibration = 0;
    if ((rc = lss_predict_compute(g, dtr, te, &po, &pred, err))) goto done;
    size_t m = 0;
    u = ls_calloc(pred.n * pred.J + 1, sizeof(double));
    if (!u) { rc = ls_nomem(err); goto done; }
    for (size_t c = 0; c < pred.n * pred.J; c++)
        if (!isnan(pred.pit[c])) u[m++] = pred.pit[c];
    if (m == 0) {
        rc = ls_fail(err, LS_ERR_INPUT, "calibration: the held-out siblings in %s have no scores", ls_table_name(t));
        goto done;
    }
    qsort(u, m, sizeof(double), cmp_double);
    ls_free(f->calib_pit);
    f->calib_pit = u;
    u = NULL;
    f->calib_n = m;
    f->calib_models = nte;
    f->calib_families = nte;
    if (!ls_fit_converged(g))
        lsfit_warn(f, "calibration: the refit without the %zu largest siblings did not converge (max |gradient| %.3g); "
                      "its calibration may mislead",
                   nte, g->gmax);
    if (f->warn.failed) rc = ls_nomem(err);
done:
    ls_free(role);
    ls_free(rtr);
    ls_free(rte);
    ls_free(bl);
    ls_free(u);
    ls_table_free(tt);
    ls_table_free(te);
    ls_table_free(kept);
    ls_data_free(dtr);
    ls_fit_free(g);
    lss_prediction_clear(&pred);
    return rc;
}
