/*
 * results.c -- the partial credit fit as a result of kind "gpcm-fit"
 * (latentscale.h, "Results: one convention"): the payload lsg_fit
 * (model.h) with named, labelled entries, its warnings and its JSON writer.
 */
#include "gpcm/model.h"
#include "kernel/items.h"
#include "kernel/result.h"

#include <math.h>
#include <string.h>

static void fit_free(void *v)
{
    lsg_fit_free(v);
    ls_free(v);
}

static int fit_write(const ls_result *r, const char *path, const char *format, const char *argv_json,
                     ls_error *err)
{
    if (format && strcmp(format, "json") != 0)
        return ls_fail(err, LS_ERR_OPTION, "format: expected json, found '%s'", format);
    return lsg_write_json(ls_result_payload(r, "gpcm-fit"), path, argv_json, err);
}

static int fit_entries(ls_result *r, const lsg_fit *f, ls_error *err)
{
    const size_t n = f->n, J = f->J, K = f->K, nb = f->maxcat - 1;
    const char *I = "items", *F = "factors", *S = "step";
    int rc = ls_result_add_strings(r, I, f->items, J, err);
    if (!rc) rc = ls_result_add_index_labels(r, F, "factor", K, err);
    if (!rc) rc = ls_result_add_index_labels(r, S, "b", nb, err);
    if (!rc) rc = ls_result_add_string(r, "source", f->source, err);
    if (!rc) rc = ls_result_add_string(r, "method", f->method == LS_GPCM_MML ? "mml" : "gvem", err);
    if (!rc) rc = ls_result_add_number(r, "exploratory", f->exploratory, err);
    if (!rc) rc = ls_result_add_number(r, "n_persons", (double)n, err);
    if (!rc) rc = ls_result_add_number(r, "lowest", f->lowest, err);
    if (!rc) { /* the categories (unsigned) through ints */
        int *ci = ls_malloc((J ? J : 1) * sizeof *ci);
        if (!ci) return ls_nomem(err);
        for (size_t j = 0; j < J; j++) ci[j] = (int)f->ncat[j];
        rc = ls_result_add_ints(r, "categories", ci, J, 1, I, NULL, err);
        ls_free(ci);
    }
    if (!rc) rc = ls_result_add_ints(r, "pattern", f->pattern, J, K, I, F, err);
    if (!rc) rc = ls_result_add_numbers(r, "slopes", f->a, J, K, I, F, err);
    if (!rc) rc = ls_result_add_numbers(r, "slopes_unrotated", f->a_unrotated, J, K, I, F, err);
    if (!rc) rc = ls_result_add_numbers(r, "rotation", f->rotation, K, K, F, F, err);
    if (!rc) rc = ls_result_add_numbers(r, "steps", f->b, J, nb, I, S, err);
    if (!rc) rc = ls_result_add_numbers(r, "factor_cor", f->sigma, K, K, F, F, err);
    if (!rc) rc = ls_result_add_numbers(r, "posterior_means", f->mu, n, K, NULL, F, err);
    if (!rc) rc = ls_result_add_numbers(r, "se_slopes", f->se_a, J, K, I, F, err);
    if (!rc) rc = ls_result_add_numbers(r, "se_steps", f->se_b, J, nb, I, S, err);
    if (!rc) rc = ls_result_add_numbers(r, "se_factor_cor", f->se_sigma, K, K, F, F, err);
    if (!rc) rc = ls_result_add_numbers(r, "se_slopes_rotated", f->se_a_rot, J, K, I, F, err);
    if (!rc) rc = ls_result_add_numbers(r, "se_factor_cor_rotated", f->se_sigma_rot, K, K, F, F, err);
    if (!rc) rc = ls_result_add_number(r, "elbo", f->elbo, err);
    if (!rc) rc = ls_result_add_number(r, "loglik", f->loglik, err);
    if (!rc) rc = ls_result_add_number(r, "vbic", f->vbic, err);
    if (!rc) rc = ls_result_add_number(r, "bic", f->bic, err);
    if (!rc) rc = ls_result_add_number(r, "n_params", (double)f->nparams, err);
    if (!rc) rc = ls_result_add_number(r, "n_obs", (double)f->nobs, err);
    if (!rc) rc = ls_result_add_number(r, "converged", f->converged, err);
    if (!rc) rc = ls_result_add_number(r, "monotone", f->monotone, err);
    if (!rc) rc = ls_result_add_number(r, "iterations", f->iterations, err);
    if (!rc) rc = ls_result_add_number(r, "mml_iterations", f->mml_iterations, err);
    if (!rc) rc = ls_result_add_number(r, "starts", f->starts, err);
    if (!rc) rc = ls_result_add_number(r, "starts_at_best", f->starts_at_best, err);
    if (!rc) rc = ls_result_add_numbers(r, "start_elbo", f->start_elbo, f->starts, 1, NULL, NULL, err);
    if (!rc && f->screen_persons) {
        rc = ls_result_add_number(r, "screen_persons", f->screen_persons, err);
        if (!rc) rc = ls_result_add_numbers(r, "screen_elbo", f->screen_elbo, f->starts, 1, NULL, NULL, err);
    }
    if (!rc) rc = ls_result_add_numbers(r, "elbo_trace", f->elbo_trace, (size_t)f->iterations + 1, 1, NULL, NULL, err);
    if (!rc) rc = ls_result_add_number(r, "seed", (double)f->seed, err);
    if (!rc) rc = ls_result_add_number(r, "tol", f->tol, err);
    if (!rc) rc = ls_result_add_number(r, "nodes", f->nodes, err);
    if (!rc) rc = ls_result_add_number(r, "seconds_gvem", f->seconds_gvem, err);
    if (!rc) rc = ls_result_add_number(r, "seconds_mml", f->seconds_mml, err);
    if (!rc) rc = ls_result_add_number(r, "seconds_se", f->seconds_se, err);
    if (!rc && f->p) {
        const size_t p = f->p;
        const char *C = "covariates";
        const int dif = f->covariate_mode == LS_GPCM_COV_DIF;
        rc = ls_result_add_strings(r, C, f->covariates, p, err);
        if (!rc) rc = ls_result_add_string(r, "covariate_mode", dif ? "dif" : "latent-regression", err);
        if (!rc && dif)
            rc = ls_result_add_string(r, "covariate_condition",
                                      f->covariate_condition == LS_FACTOR_COV_L1 ? "min-l1" : "orthogonal", err);
        if (!rc) rc = ls_result_add_numbers(r, "covariate_transform", f->A, p, K, C, F, err);
        if (!rc) rc = ls_result_add_numbers(r, "se_covariate_transform", f->se_A, p, K, C, F, err);
        if (!rc && !dif && f->se_A) {
            double *z = ls_malloc(p * K * sizeof *z), *pv = ls_malloc(p * K * sizeof *pv);
            if (!z || !pv) rc = ls_nomem(err);
            for (size_t c = 0; !rc && c < p * K; c++) {
                z[c] = f->se_A[c] > 0 ? f->A[c] / f->se_A[c] : NAN;
                pv[c] = isnan(z[c]) ? NAN : erfc(fabs(z[c]) / 1.4142135623730951);
            }
            if (!rc) rc = ls_result_add_numbers(r, "z_covariate_transform", z, p, K, C, F, err);
            if (!rc) rc = ls_result_add_numbers(r, "p_covariate_transform", pv, p, K, C, F, err);
            ls_free(z);
            ls_free(pv);
        }
        if (!rc && dif) {
            rc = ls_result_add_numbers(r, "dif_effect", f->dif, J, p, I, C, err);
            if (!rc) rc = ls_result_add_ints(r, "dif_fixed", f->dif_fixed, J, p, I, C, err);
            if (!rc) rc = ls_result_add_numbers(r, "dif_se", f->se_dif, J, p, I, C, err);
            if (!rc) rc = ls_result_add_numbers(r, "dif_z", f->dif_z, J, p, I, C, err);
            if (!rc) rc = ls_result_add_numbers(r, "dif_p", f->dif_p, J, p, I, C, err);
            if (!rc) rc = ls_result_add_numbers(r, "dif_p_adjusted", f->dif_padj, J, p, I, C, err);
            if (!rc) rc = ls_result_add_ints(r, "dif_flag", f->dif_flag, J, p, I, C, err);
            if (!rc) rc = ls_result_add_number(r, "dif_alpha", f->dif_alpha, err);
            if (!rc)
                rc = ls_result_add_string(r, "dif_correction", f->dif_correction == LS_FACTOR_BH ? "bh" : "bonferroni",
                                          err);
        }
        if (!rc && f->has_lr) {
            rc = ls_result_add_number(r, "loglik_no_dif", f->loglik_nodif, err);
            if (!rc) rc = ls_result_add_number(r, "lr_dif", f->lr_dif, err);
            if (!rc) rc = ls_result_add_number(r, "lr_dif_df", (double)f->lr_df, err);
            if (!rc) rc = ls_result_add_number(r, "lr_dif_p", f->lr_p, err);
        }
    }
    for (size_t i = 0; !rc && i < f->nwarnings; i++) rc = ls_result_warn(r, err, "%s", f->warnings[i]);
    return rc;
}

int ls_gpcm_run(const ls_gpcm_data *d, const int *pattern, const ls_gpcm_options *o,
                ls_result **out, ls_error *err)
{
    *out = NULL;
    int rc = ls_gpcm_options_check(o, err);
    if (rc) return rc;
    lsg_fit *f = ls_calloc(1, sizeof *f);
    if (!f) return ls_nomem(err);
    rc = lsg_run(d, pattern, o, f, err);
    if (!rc) {
        f->lowest = d->lowest;
        f->items = ls_items_names((const char *const *)d->items, f->J, "item");
        if (!f->items || (d->source && !(f->source = ls_strdup(d->source)))) rc = ls_nomem(err);
    }
    if (rc) {
        fit_free(f);
        return rc;
    }
    ls_result *r = NULL;
    if ((rc = ls_result_new("gpcm-fit", f, fit_free, &r, err))) return rc;
    if ((rc = fit_entries(r, f, err))) {
        ls_result_free(r);
        return rc;
    }
    ls_result_set_writer(r, fit_write);
    *out = r;
    return LS_OK;
}
