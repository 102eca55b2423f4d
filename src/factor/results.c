/*
 * results.c -- the factor family's results (latentscale.h, "Results: one
 * convention"): the fit (kind "factor-fit"), the DIF tests ("factor-dif")
 * and the choice of the number of factors ("factor-selection"), each a
 * payload of fit.h with named, labelled entries and warnings.
 */
#include "factor/fit.h"
#include "kernel/items.h"
#include "kernel/multiplicity.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---------------------------------------------------------------- */
/* The fit                                                           */
/* ---------------------------------------------------------------- */

static void fit_free(void *v)
{
    lsf_fit_free(v);
    ls_free(v);
}

/* The names the labels and the file need, copied from d (or made up). */
static int fit_names(lsf_fit *f, const ls_factor_data *d, ls_error *err)
{
    f->items = ls_items_names((const char *const *)d->items, f->q, "item");
    f->covariates = ls_items_names((const char *const *)d->covariates, f->p, "x");
    f->terms = ls_calloc(f->p + 1, sizeof *f->terms);
    if (!f->items || !f->covariates || !f->terms || !(f->terms[0] = ls_strdup("(intercept)")))
        return ls_nomem(err);
    for (size_t s = 0; s < f->p; s++)
        if (!(f->terms[s + 1] = ls_strdup(f->covariates[s]))) return ls_nomem(err);
    if (d->source && !(f->source = ls_strdup(d->source))) return ls_nomem(err);
    return LS_OK;
}

/* Conditions the user should know of: coefficients held at the bound, and
 * a factor concentrated on a few persons (kurtosis of its scores above 10:
 * the degenerate joint-ML solution of short tests). */
static int fit_warnings(ls_result *r, const lsf_fit *f, ls_error *err)
{
    int rc = LS_OK;
    if (f->at_bound) rc = ls_result_warn(r, err, "%zu coefficients held at the bound %.3g", f->at_bound, f->bound);
    if (!rc && f->nse_bad) {
        char list[640];
        size_t len = 0, qr = f->q * f->r, p1 = f->p + 1;
        for (size_t b = 0; b < f->nse_bad && b < 8 && len < sizeof list; b++) {
            size_t c = f->se_bad[b];
            if (c < qr)
                len += (size_t)snprintf(list + len, sizeof list - len, "%sloading %.60s/factor %zu", b ? ", " : "",
                                        f->items[c / f->r], c % f->r + 1);
            else {
                c -= qr;
                len += (size_t)snprintf(list + len, sizeof list - len, "%s%s %.60s/%.60s", b ? ", " : "",
                                        c % p1 ? "covariate effect" : "intercept", f->items[c / p1], f->terms[c % p1]);
            }
        }
        if (f->nse_bad > 8 && len < sizeof list) snprintf(list + len, sizeof list - len, ", ...");
        rc = ls_result_warn(r, err, "%zu standard error%s of estimated coefficients %s zero, not finite or above %g x "
                            "the bound %.3g, given as nan (null in JSON): %s; these coefficients are not identified "
                            "by the data: use fewer factors or covariates, or more persons",
                            f->nse_bad, f->nse_bad == 1 ? "" : "s", f->nse_bad == 1 ? "is" : "are", LSF_SE_ABSURD,
                            lsf_se_bound(f->bound), list);
    }
    if (!rc && f->nse_bad_scores)
        rc = ls_result_warn(r, err, "%zu standard error%s of factor scores %s zero, not finite or above %g x the "
                            "bound %.3g, given as nan", f->nse_bad_scores, f->nse_bad_scores == 1 ? "" : "s",
                            f->nse_bad_scores == 1 ? "is" : "are", LSF_SE_ABSURD, lsf_se_bound(f->bound));
    if (!rc && f->bootstrap_skipped)
        rc = ls_result_warn(r, err, "the loadings' bootstrap bias correction (%u replicates) was not run: the fit %s; "
                            "the loadings are the uncorrected joint-ML estimates with analytic standard errors",
                            f->bootstrap_skipped, "did not converge");
    if (!rc && f->ridge > 0) {
        /* factors the penalty has erased: every loading near 0 */
        char list[256] = "";
        size_t len = 0, ne = 0;
        for (size_t k = 0; k < f->r; k++) {
            double mx = 0;
            for (size_t j = 0; j < f->q; j++) mx = fmax(mx, fabs(f->gamma[j * f->r + k]));
            if (!(mx < 0.05)) continue;
            if (len < sizeof list - 16) len += (size_t)snprintf(list + len, sizeof list - len, "%s%zu", ne ? ", " : "", k + 1);
            ne++;
        }
        if (ne)
            rc = ls_result_warn(r, err, "the ridge penalty %g erased %s %s (every loading below 0.05 in absolute "
                                "value): the fit has fewer factors than asked; lower the ridge or fit fewer factors",
                                f->ridge, ne == 1 ? "factor" : "factors", list);
    }
    if (!rc && f->ridge_cv.folds) {
        const lsf_ridge_cv *cv = &f->ridge_cv;
        const double lo = pow(10.0, LSF_CV_EMIN / 8.0), hi = pow(10.0, LSF_CV_EMAX / 8.0), x = cv->grid[cv->best];
        if (cv->unconverged[cv->best])
            rc = ls_result_warn(r, err, "cross-validation of the ridge: %u of the %u fits at the chosen ridge %.3g did "
                                "not converge in `max_iter` sweeps; their held-out scores are approximate",
                                cv->unconverged[cv->best], cv->folds, x);
        if (!rc && (fabs(x / lo - 1) < 1e-9 || fabs(x / hi - 1) < 1e-9))
            rc = ls_result_warn(r, err, "cross-validation of the ridge chose %g, the end of the range it searches "
                                "(%g to %g): the best ridge may lie beyond it; give a ridge", x, lo, hi);
    }
    if (!rc && f->anchor_gram_min < LSF_ANCHOR_GRAM_MIN)
        rc = ls_result_warn(r, err, "the anchor items' loading vectors are nearly collinear (smallest eigenvalue of "
                            "their correlation %.3g, below %g): the anchor condition divides by their differences, "
                            "so the other loadings and their standard errors are inflated; choose anchors that "
                            "measure distinct factors", f->anchor_gram_min, LSF_ANCHOR_GRAM_MIN);
    if (!rc && f->n_empty)
        rc = ls_result_warn(r, err, "%zu person%s no responses: %s factor scores and their standard errors are "
                            "missing (nan; null in JSON)", f->n_empty, f->n_empty == 1 ? " has" : "s have",
                            f->n_empty == 1 ? "its" : "their");
    if (!rc && f->method == LS_FACTOR_MML && f->p && f->lr_df && isnan(f->lr_p) && !isnan(f->loglik_nodif))
        rc = ls_result_warn(r, err, "the model without DIF did not converge: no likelihood-ratio test of DIF");
    for (size_t k = 0; !rc && f->method == LS_FACTOR_JML && k < f->r; k++) {
        double m2 = 0, m4 = 0;
        size_t nk = 0;
        for (size_t i = 0; i < f->n; i++) {
            double u = f->U[i * f->r + k] * f->U[i * f->r + k];
            if (isnan(u)) continue; /* a person with no responses */
            m2 += u;
            m4 += u * u;
            nk++;
        }
        double kurt = m2 > 0 ? (m4 / (double)nk) / ((m2 / (double)nk) * (m2 / (double)nk)) : 0;
        if (kurt > 10)
            rc = ls_result_warn(r, err, "factor %zu is concentrated on few persons (kurtosis %.1f): a degenerate "
                                "joint-ML solution; penalise it (`ridge` auto, or a number such as 1), or use fewer factors, more "
                                "items or a smaller bound", k + 1, kurt);
    }
    return rc;
}

static int fit_write(const ls_result *r, const char *path, const char *format, const char *argv_json,
                     ls_error *err)
{
    if (format && strcmp(format, "json") != 0)
        return ls_fail(err, LS_ERR_OPTION, "format: expected json, found '%s'", format);
    return lsf_write_json(ls_result_payload(r, "factor-fit"), NULL, NULL, r, path, argv_json, err);
}

static const char *covcond_name(int c) { return c == LS_FACTOR_COV_L1 ? "min-l1" : "orthogonal"; }

/* Is item j's effect of covariate s fixed by the identification condition?
 * A standard error of exactly 0 says so; and the min-L1 condition's least
 * absolute deviations fit interpolates r items per covariate, whose effects
 * are then 0 by construction (to rounding), not estimates. */
static int effect_fixed(const lsf_fit *f, size_t j, size_t s)
{
    const size_t p1 = f->p + 1;
    if (f->se_beta && f->se_beta[j * p1 + 1 + s] == 0) return 1;
    if (f->covariate_condition != LS_FACTOR_COV_L1) return 0;
    double big = 1;
    for (size_t k = 0; k < f->q; k++) big = fmax(big, fabs(f->beta[k * p1 + 1 + s]));
    return fabs(f->beta[j * p1 + 1 + s]) <= 1e-9 * big;
}

static int fit_entries(ls_result *r, const lsf_fit *f, ls_error *err)
{
    const size_t n = f->n, q = f->q, p = f->p, R = f->r, p1 = p + 1;
    const char *I = "items", *C = "covariates", *T = "terms", *F = "factors";
    int rc = ls_result_add_strings(r, I, f->items, q, err);
    if (!rc) rc = ls_result_add_strings(r, C, f->covariates, p, err);
    if (!rc) rc = ls_result_add_strings(r, T, f->terms, p1, err);
    if (!rc) rc = ls_result_add_index_labels(r, F, "factor", R, err);
    if (!rc) rc = ls_result_add_string(r, "source", f->source, err);
    if (!rc) rc = ls_result_add_string(r, "family", ls_factor_family_name(f->family), err);
    if (!rc) rc = ls_result_add_string(r, "identify", ls_factor_identify_name(f->identify), err);
    if (!rc) rc = ls_result_add_string(r, "covariate_condition", covcond_name(f->covariate_condition), err);
    if (!rc) rc = ls_result_add_number(r, "n_persons", (double)n, err);
    if (!rc) rc = ls_result_add_sizes(r, "anchors", f->anchors, R, 1, F, NULL, err);
    if (!rc) rc = ls_result_add_numbers(r, "loadings", f->gamma, q, R, I, F, err);
    if (!rc) rc = ls_result_add_numbers(r, "beta", f->beta, q, p1, I, T, err);
    if (!rc) rc = ls_result_add_numbers(r, "dispersion", f->dispersion, q, 1, I, NULL, err);
    if (!rc) rc = ls_result_add_numbers(r, "factor_cov", f->factor_cov, R, R, F, F, err);
    if (!rc) rc = ls_result_add_numbers(r, "factor_cor", f->factor_cor, R, R, F, F, err);
    if (!rc) rc = ls_result_add_numbers(r, "covariate_transform", f->A, p, R, C, F, err);
    if (!rc) rc = ls_result_add_numbers(r, "scores", f->U, n, R, NULL, F, err);
    if (!rc) rc = ls_result_add_numbers(r, "se_loadings", f->se_gamma, q, R, I, F, err);
    if (!rc) rc = ls_result_add_numbers(r, "se_loadings_naive", f->se_gamma_naive, q, R, I, F, err);
    if (!rc) rc = ls_result_add_numbers(r, "se_beta", f->se_beta, q, p1, I, T, err);
    if (!rc && p) {
        int *fx = ls_malloc(q * p * sizeof *fx);
        if (!fx) rc = ls_nomem(err);
        for (size_t j = 0; fx && j < q; j++)
            for (size_t s = 0; s < p; s++) fx[j * p + s] = effect_fixed(f, j, s);
        if (!rc) rc = ls_result_add_ints(r, "effect_fixed", fx, q, p, I, C, err);
        ls_free(fx);
    }
    if (!rc) rc = ls_result_add_numbers(r, "se_scores", f->se_U, n, R, NULL, F, err);
    if (!rc) rc = ls_result_add_numbers(r, "loadings_ml", f->gamma_ml, q, R, I, F, err);
    if (!rc) rc = ls_result_add_numbers(r, "se_loadings_analytic", f->se_gamma_analytic, q, R, I, F, err);
    if (!rc) rc = ls_result_add_number(r, "loglik", f->loglik, err);
    if (!rc) rc = ls_result_add_number(r, "jic", f->jic, err);
    if (!rc) rc = ls_result_add_number(r, "n_obs", (double)f->nobs, err);
    if (!rc) rc = ls_result_add_number(r, "n_params", (double)f->nparams, err);
    if (!rc) rc = ls_result_add_number(r, "converged", f->converged, err);
    if (!rc) rc = ls_result_add_number(r, "iterations", f->iterations, err);
    if (!rc) rc = ls_result_add_number(r, "starts", f->starts, err);
    if (!rc) rc = ls_result_add_number(r, "starts_at_best", f->starts_at_best, err);
    if (!rc) rc = ls_result_add_numbers(r, "start_loglik", f->start_loglik, f->starts, 1, NULL, NULL, err);
    if (!rc) rc = ls_result_add_number(r, "at_bound", (double)f->at_bound, err);
    if (!rc) rc = ls_result_add_number(r, "seed", (double)f->seed, err);
    if (!rc) rc = ls_result_add_number(r, "tol", f->tol, err);
    if (!rc) rc = ls_result_add_number(r, "bound", f->bound, err);
    if (!rc) rc = ls_result_add_number(r, "ridge", f->ridge, err);
    if (!rc && f->ridge_cv.folds) { /* the ridge chosen by cross-validation (ridge.c) */
        const lsf_ridge_cv *cv = &f->ridge_cv;
        double unc[LSF_CV_NGRID];
        for (size_t k = 0; k < cv->m; k++) unc[k] = cv->unconverged[k];
        rc = ls_result_add_number(r, "ridge_cv_folds", cv->folds, err);
        if (!rc) rc = ls_result_add_numbers(r, "ridge_cv_grid", cv->grid, cv->m, 1, NULL, NULL, err);
        if (!rc) rc = ls_result_add_numbers(r, "ridge_cv_score", cv->score, cv->m, 1, NULL, NULL, err);
        if (!rc) rc = ls_result_add_numbers(r, "ridge_cv_se", cv->se, cv->m, 1, NULL, NULL, err);
        if (!rc) rc = ls_result_add_numbers(r, "ridge_cv_unconverged", unc, cv->m, 1, NULL, NULL, err);
        if (!rc) rc = ls_result_add_number(r, "ridge_cv_best", (double)cv->best, err);
        if (!rc) rc = ls_result_add_number(r, "ridge_cv_heldout", (double)cv->heldout, err);
    }
    if (!rc) rc = ls_result_add_number(r, "scale_corrected", f->scale_corrected, err);
    if (!rc) rc = ls_result_add_number(r, "loading_bootstrap", f->loading_bootstrap, err);
    if (!rc) rc = ls_result_add_string(r, "method", ls_factor_method_name(f->method), err);
    if (!rc && f->method_reason) rc = ls_result_add_string(r, "method_reason", f->method_reason, err);
    if (!rc && f->method == LS_FACTOR_MML) {
        rc = ls_result_add_number(r, "nodes", f->nodes, err);
        if (!rc) rc = ls_result_add_number(r, "aic", f->aic, err);
        if (!rc) rc = ls_result_add_number(r, "bic", f->bic, err);
        if (!rc) rc = ls_result_add_numbers(r, "se_loadings_sandwich", f->se_gamma_sw, q, R, I, F, err);
        if (!rc) rc = ls_result_add_numbers(r, "se_beta_sandwich", f->se_beta_sw, q, p1, I, T, err);
        if (!rc && p && !isnan(f->loglik_nodif)) {
            rc = ls_result_add_number(r, "loglik_no_dif", f->loglik_nodif, err);
            if (!rc) rc = ls_result_add_number(r, "lr_dif", f->lr_dif, err);
            if (!rc) rc = ls_result_add_number(r, "lr_dif_df", (double)f->lr_df, err);
            if (!rc) rc = ls_result_add_number(r, "lr_dif_p", f->lr_p, err);
        }
    }
    return rc;
}

int ls_factor_run(const ls_factor_data *d, const ls_factor_options *o, ls_result **out,
                  ls_error *err)
{
    *out = NULL;
    int rc = ls_factor_options_check(o, err);
    if (!rc) rc = lsf_check_data(d, o, err);
    if (rc) return rc;
    lsf_fit *f = ls_calloc(1, sizeof *f);
    if (!f) return ls_nomem(err);
    rc = lsf_run(d, o, f, err);
    if (!rc) rc = fit_names(f, d, err);
    if (rc) {
        fit_free(f);
        return rc;
    }
    ls_result *r = NULL;
    if ((rc = ls_result_new("factor-fit", f, fit_free, &r, err))) return rc;
    rc = fit_entries(r, f, err);
    if (!rc) rc = fit_warnings(r, f, err);
    if (rc) {
        ls_result_free(r);
        return rc;
    }
    ls_result_set_writer(r, fit_write);
    *out = r;
    return LS_OK;
}

/* ---------------------------------------------------------------- */
/* DIF tests                                                         */
/* ---------------------------------------------------------------- */

static void dif_free(void *v)
{
    lsf_dif *d = v;
    if (!d) return;
    ls_free(d->effect);
    ls_free(d->se);
    ls_free(d->z);
    ls_free(d->pvalue);
    ls_free(d->flag);
    ls_free(d->flag_bonferroni);
    ls_free(d->flag_bh);
    ls_strv_free(d->items, d->q);
    ls_strv_free(d->covariates, d->p);
    ls_free(d);
}

int ls_factor_dif_check(double alpha, int correction, const ls_factor_data *d,
                        const ls_factor_options *o, ls_error *err)
{
    if (!(alpha > 0 && alpha < 1)) return ls_fail(err, LS_ERR_OPTION, "alpha: expected a level in (0, 1)");
    if (correction != LS_FACTOR_BONFERRONI && correction != LS_FACTOR_BH)
        return ls_fail(err, LS_ERR_OPTION, "correction: expected bonferroni or bh");
    if (o && o->skip_se) return ls_fail(err, LS_ERR_OPTION, "dif: needs the standard errors (they are skipped)");
    if (d && d->p == 0) return ls_fail(err, LS_ERR_OPTION, "dif: the model has no covariates");
    return LS_OK;
}

static int dif_compute(const lsf_fit *f, double alpha, int correction, lsf_dif *out, ls_error *err)
{
    const size_t q = f->q, p = f->p, p1 = p + 1;
    out->q = q;
    out->p = p;
    out->alpha = alpha;
    out->correction = correction;
    out->effect = ls_malloc(q * p * sizeof *out->effect);
    out->se = ls_malloc(q * p * sizeof *out->se);
    out->z = ls_malloc(q * p * sizeof *out->z);
    out->pvalue = ls_malloc(q * p * sizeof *out->pvalue);
    out->flag = ls_malloc(q * p * sizeof *out->flag);
    out->flag_bonferroni = ls_malloc(q * p * sizeof *out->flag_bonferroni);
    out->flag_bh = ls_malloc(q * p * sizeof *out->flag_bh);
    out->items = ls_items_names((const char *const *)f->items, q, "item");
    out->covariates = ls_items_names((const char *const *)f->covariates, p, "x");
    size_t *idx = ls_malloc(q * sizeof *idx);
    int rc = LS_OK;
    if (!out->effect || !out->se || !out->z || !out->pvalue || !out->flag || !out->flag_bonferroni ||
        !out->flag_bh || !out->items || !out->covariates || !idx) {
        rc = ls_nomem(err);
        goto done;
    }
    for (size_t j = 0; j < q; j++)
        for (size_t s = 0; s < p; s++) {
            double se = f->se_beta[j * p1 + 1 + s], b = f->beta[j * p1 + 1 + s];
            /* an effect without a usable standard error (0: fixed by the
             * identification condition, e.g. min-l1's zero; NaN: not
             * identified) is not tested: z and p NaN, and it is left out of
             * the multiplicity correction */
            double z = se > 0 && isfinite(se) && !effect_fixed(f, j, s) ? b / se : NAN;
            out->effect[j * p + s] = b;
            out->se[j * p + s] = se;
            out->z[j * p + s] = z;
            out->pvalue[j * p + s] = isnan(z) ? NAN : erfc(fabs(z) / 1.4142135623730951);
        }
    /* per covariate: q tests */
    for (size_t s = 0; s < p; s++) {
        ls_bonferroni(out->pvalue + s, q, p, alpha, out->flag_bonferroni + s);
        ls_bh(out->pvalue + s, q, p, alpha, out->flag_bh + s, idx);
    }
    for (size_t c = 0; c < q * p; c++)
        out->flag[c] = correction == LS_FACTOR_BH ? out->flag_bh[c] : out->flag_bonferroni[c];
done:
    ls_free(idx);
    return rc;
}

static const char *correction_name(int c) { return c == LS_FACTOR_BH ? "bh" : "bonferroni"; }

int ls_factor_dif_run(const ls_result *fit, double alpha, int correction, ls_result **out,
                      ls_error *err)
{
    *out = NULL;
    const lsf_fit *f = ls_result_payload(fit, "factor-fit");
    if (!f) return ls_fail(err, LS_ERR_OPTION, "dif: expected a factor fit");
    int rc = ls_factor_dif_check(alpha, correction, NULL, NULL, err);
    if (rc) return rc;
    if (f->p == 0) return ls_fail(err, LS_ERR_OPTION, "dif: the model has no covariates");
    if (!f->se_beta) return ls_fail(err, LS_ERR_OPTION, "dif: the fit has no standard errors");
    lsf_dif *d = ls_calloc(1, sizeof *d);
    if (!d) return ls_nomem(err);
    if ((rc = dif_compute(f, alpha, correction, d, err))) {
        dif_free(d);
        return rc;
    }
    ls_result *r = NULL;
    if ((rc = ls_result_new("factor-dif", d, dif_free, &r, err))) return rc;
    const size_t q = d->q, p = d->p;
    const char *I = "items", *C = "covariates";
    rc = ls_result_add_strings(r, I, d->items, q, err);
    if (!rc) rc = ls_result_add_strings(r, C, d->covariates, p, err);
    if (!rc) rc = ls_result_add_number(r, "alpha", d->alpha, err);
    if (!rc) rc = ls_result_add_string(r, "correction", correction_name(d->correction), err);
    if (!rc) rc = ls_result_add_numbers(r, "effect", d->effect, q, p, I, C, err);
    if (!rc) rc = ls_result_add_numbers(r, "se", d->se, q, p, I, C, err);
    if (!rc) rc = ls_result_add_numbers(r, "z", d->z, q, p, I, C, err);
    if (!rc) rc = ls_result_add_numbers(r, "p_value", d->pvalue, q, p, I, C, err);
    if (!rc) rc = ls_result_add_ints(r, "flag", d->flag, q, p, I, C, err);
    if (!rc) rc = ls_result_add_ints(r, "flag_bonferroni", d->flag_bonferroni, q, p, I, C, err);
    if (!rc) rc = ls_result_add_ints(r, "flag_bh", d->flag_bh, q, p, I, C, err);
    if (rc) {
        ls_result_free(r);
        return rc;
    }
    *out = r;
    return LS_OK;
}

/* ---------------------------------------------------------------- */
/* Number of factors                                                 */
/* ---------------------------------------------------------------- */

static void selection_free(void *v)
{
    lsf_selection *s = v;
    if (!s) return;
    ls_free(s->r);
    ls_free(s->loglik);
    ls_free(s->jic);
    ls_free(s->bic);
    ls_free(s->converged);
    ls_free(s);
}

static int select_compute(const ls_factor_data *d, const ls_factor_options *o, size_t rmin,
                          lsf_selection *out, ls_error *err)
{
    const size_t nr = out->nr;
    out->r = ls_malloc(nr * sizeof *out->r);
    out->loglik = ls_malloc(nr * sizeof *out->loglik);
    out->jic = ls_malloc(nr * sizeof *out->jic);
    out->bic = ls_malloc(nr * sizeof *out->bic);
    out->converged = ls_malloc(nr * sizeof *out->converged);
    if (!out->r || !out->loglik || !out->jic || !out->bic || !out->converged) return ls_nomem(err);
    /* one estimator for the whole range (auto decides at the largest r), so
     * that the criteria compare */
    ls_factor_options top = *o;
    top.factors = rmin + nr - 1;
    const char *why;
    int method = lsf_choose_method(d, &top, &why);
    out->mml = method == LS_FACTOR_MML;
    for (size_t k = 0; k < nr; k++) {
        ls_factor_options oo = *o;
        oo.factors = rmin + k;
        oo.method = method;
        oo.identify = LS_FACTOR_ORTHOGONAL;
        oo.anchors = NULL;
        oo.skip_se = 1;
        oo.dif_lr = 0;
        lsf_fit f;
        int rc = lsf_run(d, &oo, &f, err);
        if (rc) return rc;
        out->r[k] = oo.factors;
        out->loglik[k] = f.loglik;
        out->jic[k] = f.jic;
        out->bic[k] = f.bic;
        out->converged[k] = f.converged;
        lsf_fit_free(&f);
    }
    /* the smallest criterion among the converged fits (all, when none is) */
    const double *c = out->mml ? out->bic : out->jic;
    int any = 0;
    for (size_t k = 0; k < nr; k++) any |= out->converged[k];
    out->best = 0;
    int have = 0;
    for (size_t k = 0; k < nr; k++) {
        if (any && !out->converged[k]) continue;
        if (!have || c[k] < c[out->best]) out->best = k;
        have = 1;
    }
    return LS_OK;
}

int ls_factor_select(const ls_factor_data *d, const ls_factor_options *o, size_t rmin,
                     size_t rmax, ls_result **out, ls_error *err)
{
    *out = NULL;
    if (rmin < 1 || rmax < rmin)
        return ls_fail(err, LS_ERR_OPTION, "select: expected a range RMIN..RMAX with 1 <= RMIN <= RMAX");
    lsf_selection *s = ls_calloc(1, sizeof *s);
    if (!s) return ls_nomem(err);
    s->nr = rmax - rmin + 1;
    int rc = select_compute(d, o, rmin, s, err);
    if (rc) {
        selection_free(s);
        return rc;
    }
    ls_result *r = NULL;
    if ((rc = ls_result_new("factor-selection", s, selection_free, &r, err))) return rc;
    rc = ls_result_add_sizes(r, "factors", s->r, s->nr, 1, NULL, NULL, err);
    if (!rc) rc = ls_result_add_numbers(r, "loglik", s->loglik, s->nr, 1, NULL, NULL, err);
    if (!rc) rc = ls_result_add_numbers(r, "jic", s->jic, s->nr, 1, NULL, NULL, err);
    if (!rc) rc = ls_result_add_numbers(r, "bic", s->bic, s->nr, 1, NULL, NULL, err);
    if (!rc) rc = ls_result_add_string(r, "criterion", s->mml ? "bic" : "jic", err);
    if (!rc) rc = ls_result_add_ints(r, "converged", s->converged, s->nr, 1, NULL, NULL, err);
    if (!rc) rc = ls_result_add_number(r, "best", (double)s->best, err);
    if (rc) {
        ls_result_free(r);
        return rc;
    }
    *out = r;
    return LS_OK;
}

int ls_factor_write_json(const ls_result *fit, const ls_result *dif, const ls_result *sel,
                         const char *path, const char *argv_json, ls_error *err)
{
    const lsf_fit *f = ls_result_payload(fit, "factor-fit");
    const lsf_dif *d = ls_result_payload(dif, "factor-dif");
    const lsf_selection *s = ls_result_payload(sel, "factor-selection");
    if (!f || (dif && !d) || (sel && !s))
        return ls_fail(err, LS_ERR_OPTION, "write: expected a factor fit, its DIF tests and selection");
    return lsf_write_json(f, d, s, fit, path, argv_json, err);
}
