/*
 * psych.c -- the generalized latent factor model (ls_items_table_read,
 * ls_factor_data_build, ls_factor_run, ls_factor_dif_run) and the partial
 * credit model (ls_gpcm_data_build, ls_gpcm_pattern_read, ls_gpcm_run) for
 * R.  Each entry point reads the CSV R wrote (or the user's file), fits,
 * converts the results with lsr_result_to_list and frees every C object
 * before returning.
 */
#include "latentscale_r.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static SEXP get(SEXP list, const char *name)
{
    SEXP names = Rf_getAttrib(list, R_NamesSymbol);
    if (TYPEOF(list) != VECSXP || names == R_NilValue) return R_NilValue;
    for (R_xlen_t i = 0; i < XLENGTH(list); i++)
        if (strcmp(CHAR(STRING_ELT(names, i)), name) == 0) return VECTOR_ELT(list, i);
    return R_NilValue;
}

static void fin_factor_data(SEXP x)
{
    ls_factor_data_free(lsr_ptr(x));
    lsr_clear(x);
}

static void fin_gpcm_data(SEXP x)
{
    ls_gpcm_data_free(lsr_ptr(x));
    lsr_clear(x);
}

static void fin_pattern(SEXP x)
{
    ls_gpcm_pattern_free(lsr_ptr(x));
    lsr_clear(x);
}

static void fin_free(SEXP x)
{
    free(lsr_ptr(x));
    lsr_clear(x);
}

/* The result held by external pointer rx as an R list; the C result is
 * freed then (or by rx's finalizer after an R error). */
static SEXP take(SEXP rx)
{
    SEXP out = PROTECT(lsr_result_to_list(lsr_ptr(rx)));
    lsr_fin_result(rx);
    UNPROTECT(1);
    return out;
}

/* dif: NULL, or list(alpha, correction = 0 bonferroni / 1 bh). */
SEXP lsr_factor(SEXP path, SEXP items, SEXP covariates, SEXP opts, SEXP dif)
{
    ls_error e = {0, ""};
    ls_factor_options o;
    ls_factor_options_init(&o);
    o.factors = (size_t)lsr_num(get(opts, "factors"), (double)o.factors);
    o.family = (int)lsr_num(get(opts, "family"), o.family);
    o.identify = (int)lsr_num(get(opts, "identify"), o.identify);
    o.covariate_condition = (int)lsr_num(get(opts, "covariate_condition"), o.covariate_condition);
    o.starts = (unsigned)lsr_num(get(opts, "starts"), o.starts);
    o.seed = (uint64_t)lsr_num(get(opts, "seed"), (double)o.seed);
    o.threads = (unsigned)lsr_num(get(opts, "threads"), o.threads);
    o.bound = lsr_num(get(opts, "bound"), o.bound);
    o.tol = lsr_num(get(opts, "tol"), o.tol);
    o.max_iter = (unsigned)lsr_num(get(opts, "max_iter"), o.max_iter);
    o.skip_se = (int)lsr_num(get(opts, "skip_se"), o.skip_se);
    o.ridge = lsr_num(get(opts, "ridge"), o.ridge);
    o.no_scale_correction = (int)lsr_num(get(opts, "no_scale_correction"), o.no_scale_correction);
    o.loading_bootstrap = (int)lsr_num(get(opts, "loading_bootstrap"), o.loading_bootstrap);
    o.method = (int)lsr_num(get(opts, "method"), o.method);
    o.nodes = (unsigned)lsr_num(get(opts, "nodes"), o.nodes);
    o.equal_loadings = (int)lsr_num(get(opts, "equal_loadings"), o.equal_loadings);
    o.dif_lr = dif != R_NilValue;
    o.progress = lsr_progress;
    double dich = lsr_num(get(opts, "dichotomise"), NAN);
    const char *anchors = lsr_str(get(opts, "anchors"));
    int with_dif = dif != R_NilValue;
    double alpha = lsr_num(get(dif, "alpha"), 0.05);
    int corr = (int)lsr_num(get(dif, "correction"), LS_FACTOR_BONFERRONI);
    if (ls_factor_options_check(&o, &e) || ls_factor_dif_check(alpha, corr, NULL, with_dif ? &o : NULL, &e))
        return lsr_error(&e);

    ls_table *t = NULL;
    if (ls_items_table_read(lsr_str(path), &t, &e)) return lsr_error(&e);
    SEXP tx = PROTECT(lsr_wrap(t, lsr_fin_table));
    ls_factor_data *d = NULL;
    const char *longcols = lsr_str(get(opts, "long"));
    int rc = longcols ? ls_factor_data_build_long(t, longcols, lsr_str(covariates), dich, o.family, &d, &e)
                      : ls_factor_data_build(t, lsr_str(items), lsr_str(covariates), dich, o.family, &d, &e);
    ls_table_free(t);
    lsr_clear(tx);
    SEXP dx = PROTECT(lsr_wrap(d, fin_factor_data));
    size_t *anch = NULL;
    SEXP ax = PROTECT(lsr_wrap(NULL, fin_free));
    if (!rc && with_dif) rc = ls_factor_dif_check(alpha, corr, d, &o, &e);
    if (!rc && anchors) {
        anch = calloc(o.factors, sizeof *anch);
        if (!anch) Rf_error("out of memory");
        R_SetExternalPtrAddr(ax, anch);
        rc = ls_factor_data_anchors(d, anchors, o.factors, anch, &e);
        o.anchors = anch;
    }
    ls_result *fit = NULL, *dr = NULL;
    if (!rc) rc = ls_factor_run(d, &o, &fit, &e);
    SEXP fx = PROTECT(lsr_wrap(fit, lsr_fin_result));
    if (!rc && with_dif) rc = ls_factor_dif_run(fit, alpha, corr, &dr, &e);
    SEXP drx = PROTECT(lsr_wrap(dr, lsr_fin_result));
    SEXP out;
    if (rc) {
        out = PROTECT(lsr_error(&e));
    } else {
        out = PROTECT(Rf_allocVector(VECSXP, 2));
        SEXP names = PROTECT(Rf_allocVector(STRSXP, 2));
        SET_STRING_ELT(names, 0, Rf_mkChar("fit"));
        SET_STRING_ELT(names, 1, Rf_mkChar("dif"));
        Rf_setAttrib(out, R_NamesSymbol, names);
        UNPROTECT(1);
        SET_VECTOR_ELT(out, 0, take(fx));
        if (dr) SET_VECTOR_ELT(out, 1, take(drx));
    }
    lsr_fin_result(fx);
    lsr_fin_result(drx);
    ls_factor_data_free(d);
    lsr_clear(dx);
    free(anch);
    lsr_clear(ax);
    UNPROTECT(6);
    return out;
}

/* pattern: NULL (exploratory with opts$exploratory, else one factor
 * on which every item loads), a path to a pattern CSV, or an integer
 * matrix J x K (R's column-major; 0/1). */
SEXP lsr_gpcm(SEXP path, SEXP items, SEXP pattern, SEXP opts)
{
    ls_error e = {0, ""};
    ls_gpcm_options o;
    ls_gpcm_options_init(&o);
    o.factors = (size_t)lsr_num(get(opts, "factors"), (double)o.factors);
    o.method = (int)lsr_num(get(opts, "method"), o.method);
    o.starts = (unsigned)lsr_num(get(opts, "starts"), o.starts);
    o.seed = (uint64_t)lsr_num(get(opts, "seed"), (double)o.seed);
    o.threads = (unsigned)lsr_num(get(opts, "threads"), o.threads);
    o.tol = lsr_num(get(opts, "tol"), o.tol);
    o.max_iter = (unsigned)lsr_num(get(opts, "max_iter"), o.max_iter);
    o.nodes = (unsigned)lsr_num(get(opts, "nodes"), o.nodes);
    o.gtol = lsr_num(get(opts, "gtol"), o.gtol);
    o.skip_se = (int)lsr_num(get(opts, "skip_se"), o.skip_se);
    o.covariate_mode = (int)lsr_num(get(opts, "covariate_mode"), o.covariate_mode);
    o.covariate_condition = (int)lsr_num(get(opts, "covariate_condition"), o.covariate_condition);
    o.dif_alpha = lsr_num(get(opts, "alpha"), o.dif_alpha);
    o.dif_correction = (int)lsr_num(get(opts, "correction"), o.dif_correction);
    o.dif_lr = (int)lsr_num(get(opts, "dif_lr"), o.dif_lr);
    o.progress = lsr_progress;
    double lowest = lsr_num(get(opts, "lowest"), NAN);
    unsigned ncat = (unsigned)lsr_num(get(opts, "categories"), 0);
    if (ls_gpcm_options_check(&o, &e)) return lsr_error(&e);

    ls_table *t = NULL;
    if (ls_items_table_read(lsr_str(path), &t, &e)) return lsr_error(&e);
    SEXP tx = PROTECT(lsr_wrap(t, lsr_fin_table));
    ls_gpcm_data *d = NULL;
    const char *longcols = lsr_str(get(opts, "long"));
    const char *covs = lsr_str(get(opts, "covariates"));
    int rc = longcols ? ls_gpcm_data_build_long_cov(t, longcols, covs, lowest, ncat, &d, &e)
                      : ls_gpcm_data_build_cov(t, lsr_str(items), covs, lowest, ncat, &d, &e);
    ls_table_free(t);
    lsr_clear(tx);
    SEXP dx = PROTECT(lsr_wrap(d, fin_gpcm_data));
    int *pat = NULL;
    SEXP px = PROTECT(lsr_wrap(NULL, fin_pattern));
    SEXP mx = PROTECT(lsr_wrap(NULL, fin_free));
    int *mine = NULL;
    if (!rc && TYPEOF(pattern) == STRSXP) {
        size_t K = 0;
        rc = ls_gpcm_pattern_read(lsr_str(pattern), d, &K, &pat, &e);
        R_SetExternalPtrAddr(px, pat);
        if (!rc && K != o.factors) {
            e.code = rc = LS_ERR_OPTION;
            snprintf(e.message, sizeof e.message, "factors: %zu, but the pattern %s has %zu columns", o.factors,
                     lsr_str(pattern), K);
        }
    } else if (!rc && TYPEOF(pattern) == INTSXP) {
        size_t J = ls_gpcm_data_nitems(d), K = o.factors;
        if ((size_t)XLENGTH(pattern) != J * K) {
            e.code = rc = LS_ERR_OPTION;
            snprintf(e.message, sizeof e.message, "pattern: expected %zu x %zu (items x factors), got %zu values", J,
                     K, (size_t)XLENGTH(pattern));
        } else {
            mine = calloc(J * K + 1, sizeof *mine);
            if (!mine) Rf_error("out of memory");
            R_SetExternalPtrAddr(mx, mine);
            for (size_t j = 0; j < J; j++)
                for (size_t k = 0; k < K; k++) mine[j * K + k] = INTEGER(pattern)[k * J + j];
        }
    } else if (!rc && !(int)lsr_num(get(opts, "exploratory"), 0)) { /* every item loads on every factor */
        size_t J = ls_gpcm_data_nitems(d), K = o.factors;
        if (K > 1) {
            e.code = rc = LS_ERR_OPTION;
            snprintf(e.message, sizeof e.message,
                     "factors: %zu needs a pattern (confirmatory) or exploratory = TRUE", K);
        } else {
            mine = calloc(J * K + 1, sizeof *mine);
            if (!mine) Rf_error("out of memory");
            R_SetExternalPtrAddr(mx, mine);
            for (size_t j = 0; j < J * K; j++) mine[j] = 1;
        }
    }
    ls_result *fit = NULL;
    if (!rc) rc = ls_gpcm_run(d, pat ? pat : mine, &o, &fit, &e);
    SEXP fx = PROTECT(lsr_wrap(fit, lsr_fin_result));
    SEXP out = PROTECT(rc ? lsr_error(&e) : take(fx));
    lsr_fin_result(fx);
    ls_gpcm_pattern_free(pat);
    lsr_clear(px);
    free(mine);
    lsr_clear(mx);
    ls_gpcm_data_free(d);
    lsr_clear(dx);
    UNPROTECT(6);
    return out;
}
