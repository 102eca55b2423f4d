/*
 * fit.c -- the scaling law (ls_table_read, ls_fit_table) and
 * predictions (ls_predict) for R.  The fit lives in an external pointer
 * holding the fit and its data (ls_predict needs both), freed by the
 * finalizer; lsr_fit_info copies the estimates out as plain vectors, which
 * R/fit.R shapes into matrices with dimnames.
 */
#include "latentscale_r.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct fit_bundle {
    ls_data *d;
    ls_fit *f;
} fit_bundle;

static void fin_bundle(SEXP x)
{
    fit_bundle *b = lsr_ptr(x);
    if (b) {
        ls_fit_free(b->f);
        ls_data_free(b->d);
        free(b);
    }
    lsr_clear(x);
}

static SEXP get(SEXP list, const char *name)
{
    SEXP names = Rf_getAttrib(list, R_NamesSymbol);
    if (TYPEOF(list) != VECSXP || names == R_NilValue) return R_NilValue;
    for (R_xlen_t i = 0; i < XLENGTH(list); i++)
        if (strcmp(CHAR(STRING_ELT(names, i)), name) == 0) return VECTOR_ELT(list, i);
    return R_NilValue;
}

SEXP lsr_fit(SEXP path, SEXP dopts, SEXP fopts)
{
    ls_error e = {0, ""};
    ls_data_options dopt;
    ls_data_options_init(&dopt);
    dopt.benchmarks = lsr_str(get(dopts, "benchmarks"));
    if (lsr_str(get(dopts, "covariates"))) dopt.covariates = lsr_str(get(dopts, "covariates"));
    dopt.floors_file = lsr_str(get(dopts, "floors_file"));
    dopt.floors = lsr_str(get(dopts, "floors"));
    dopt.ceilings_file = lsr_str(get(dopts, "ceilings_file"));
    dopt.ceilings = lsr_str(get(dopts, "ceilings"));
    dopt.clip = lsr_num(get(dopts, "clip"), dopt.clip);
    if (lsr_str(get(dopts, "model_column"))) dopt.model_column = lsr_str(get(dopts, "model_column"));
    if (lsr_str(get(dopts, "family_column"))) dopt.family_column = lsr_str(get(dopts, "family_column"));

    ls_fit_options fo;
    ls_fit_options_init(&fo);
    fo.skills = (size_t)lsr_num(get(fopts, "skills"), (double)fo.skills);
    fo.anchors = lsr_str(get(fopts, "anchors"));
    fo.starts = (unsigned)lsr_num(get(fopts, "starts"), fo.starts);
    fo.seed = (uint64_t)lsr_num(get(fopts, "seed"), (double)fo.seed);
    fo.integration = (int)lsr_num(get(fopts, "integration"), fo.integration);
    fo.nodes = (unsigned)lsr_num(get(fopts, "nodes"), fo.nodes);
    fo.threads = (unsigned)lsr_num(get(fopts, "threads"), fo.threads);
    fo.gtol = lsr_num(get(fopts, "gtol"), fo.gtol);
    fo.max_iter = (unsigned)lsr_num(get(fopts, "max_iter"), fo.max_iter);
    fo.skip_se = (int)lsr_num(get(fopts, "skip_se"), fo.skip_se);
    fo.precision_covariates = (int)lsr_num(get(fopts, "precision_covariates"), fo.precision_covariates);
    fo.logit_clamp = lsr_num(get(fopts, "logit_clamp"), fo.logit_clamp);
    fo.estimate_ceilings = lsr_str(get(fopts, "estimate_ceilings"));
    fo.calibrate = (int)lsr_num(get(fopts, "calibrate"), fo.calibrate);
    fo.family_effect = (int)lsr_num(get(fopts, "family_effect"), fo.family_effect);
    fo.progress = lsr_progress;
    if (ls_data_options_check(&dopt, &e) || ls_fit_options_check(&fo, &e)) return lsr_error(&e);

    fit_bundle *b = calloc(1, sizeof *b);
    if (!b) Rf_error("out of memory");
    SEXP x = PROTECT(lsr_wrap(b, fin_bundle));
    ls_table *t = NULL;
    int rc = ls_table_read(lsr_str(path), &t, &e);
    if (!rc) {
        /* the table stays for the calibration, which refits on its rows */
        SEXP tx = PROTECT(lsr_wrap(t, lsr_fin_table));
        rc = ls_fit_table(t, &dopt, &fo, &b->d, &b->f, &e);
        ls_table_free(t);
        lsr_clear(tx);
        UNPROTECT(1);
    }
    UNPROTECT(1);
    return rc ? lsr_error(&e) : x;
}

static SEXP reals(const double *v, size_t n)
{
    if (!v) return R_NilValue;
    SEXP x = Rf_allocVector(REALSXP, (R_xlen_t)n);
    if (n) memcpy(REAL(x), v, n * sizeof *v);
    return x;
}

typedef const char *(*name_fn)(const ls_data *, size_t);

static SEXP names_of(const ls_data *d, name_fn fn, size_t n)
{
    SEXP x = PROTECT(Rf_allocVector(STRSXP, (R_xlen_t)n));
    for (size_t i = 0; i < n; i++) SET_STRING_ELT(x, (R_xlen_t)i, Rf_mkCharCE(fn(d, i), CE_UTF8));
    UNPROTECT(1);
    return x;
}

SEXP lsr_fit_info(SEXP x)
{
    fit_bundle *b = lsr_ptr(x);
    if (!b || !b->f) Rf_error("the fit's C object is gone (was it saved and reloaded? refit it)");
    const ls_fit *f = b->f;
    const ls_data *d = b->d;
    const ls_params *pr = ls_fit_params(f);
    size_t K = pr->K, J = pr->J, p = pr->p, F = ls_data_nfamilies(d), n = ls_data_nmodels(d);
    size_t off[LS_NAT_NBLOCKS + 1];
    ls_fit_nat_layout(f, off);
    const char *nm[] = {"K", "J", "p", "beta", "lambda", "b", "phi", "sigma", "gamma", "ceiling",
                        "anchors", "offsets", "estimates", "se", "se_sandwich", "loglik", "aic", "bic",
                        "converged", "criterion", "gradnorm", "hessian_definite", "iterations", "nparams", "seed",
                        "starts_at_best", "integration", "benchmarks", "covariates", "families", "models",
                        "floors", "ceilings_data", "n_observed", "n_clipped", "source", "warnings",
                        "calibration", NULL};
    int len = 0;
    while (nm[len]) len++;
    SEXP out = PROTECT(Rf_allocVector(VECSXP, len));
    SEXP names = PROTECT(Rf_allocVector(STRSXP, len));
    for (int i = 0; i < len; i++) SET_STRING_ELT(names, i, Rf_mkChar(nm[i]));
    int i = 0;
    SET_VECTOR_ELT(out, i++, Rf_ScalarReal((double)K));
    SET_VECTOR_ELT(out, i++, Rf_ScalarReal((double)J));
    SET_VECTOR_ELT(out, i++, Rf_ScalarReal((double)p));
    SET_VECTOR_ELT(out, i++, reals(pr->beta, p * K));
    SET_VECTOR_ELT(out, i++, reals(pr->lambda, K * J));
    SET_VECTOR_ELT(out, i++, reals(pr->b, J));
    SET_VECTOR_ELT(out, i++, reals(pr->phi, J));
    SET_VECTOR_ELT(out, i++, reals(pr->sigma, K * K));
    SET_VECTOR_ELT(out, i++, pr->hetero ? reals(pr->gamma, p) : R_NilValue);
    SET_VECTOR_ELT(out, i++, reals(pr->ceiling, J));
    SEXP anch = Rf_allocVector(INTSXP, (R_xlen_t)K);
    SET_VECTOR_ELT(out, i++, anch);
    for (size_t k = 0; k < K; k++) INTEGER(anch)[k] = (int)pr->anchors[k];
    SEXP offs = Rf_allocVector(INTSXP, LS_NAT_NBLOCKS + 1);
    SET_VECTOR_ELT(out, i++, offs);
    for (int k = 0; k <= LS_NAT_NBLOCKS; k++) INTEGER(offs)[k] = (int)off[k];
    size_t nn = off[LS_NAT_NBLOCKS];
    SEXP est = Rf_allocVector(REALSXP, (R_xlen_t)nn);
    SET_VECTOR_ELT(out, i++, est);
    if (nn) ls_fit_nat_estimates(f, REAL(est));
    SET_VECTOR_ELT(out, i++, reals(ls_fit_se(f, LS_SE_HESSIAN), nn));
    SET_VECTOR_ELT(out, i++, reals(ls_fit_se(f, LS_SE_SANDWICH), nn));
    SET_VECTOR_ELT(out, i++, Rf_ScalarReal(ls_fit_loglik(f)));
    SET_VECTOR_ELT(out, i++, Rf_ScalarReal(ls_fit_aic(f)));
    SET_VECTOR_ELT(out, i++, Rf_ScalarReal(ls_fit_bic(f)));
    SET_VECTOR_ELT(out, i++, Rf_ScalarInteger(ls_fit_converged(f)));
    SET_VECTOR_ELT(out, i++, Rf_mkString(ls_fit_convergence_criterion(f)));
    SET_VECTOR_ELT(out, i++, Rf_ScalarReal(ls_fit_gradnorm(f)));
    {
        int hd = ls_fit_hessian_definite(f, NULL); /* NA: not computed */
        SET_VECTOR_ELT(out, i++, Rf_ScalarLogical(hd < 0 ? NA_LOGICAL : hd));
    }
    SET_VECTOR_ELT(out, i++, Rf_ScalarReal((double)ls_fit_iterations(f)));
    SET_VECTOR_ELT(out, i++, Rf_ScalarReal((double)ls_fit_nparams(f)));
    SET_VECTOR_ELT(out, i++, Rf_ScalarReal((double)ls_fit_seed(f)));
    SET_VECTOR_ELT(out, i++, Rf_ScalarReal((double)ls_fit_starts_at_best(f)));
    SET_VECTOR_ELT(out, i++, Rf_mkString(ls_fit_integration(f, NULL)));
    SET_VECTOR_ELT(out, i++, names_of(d, ls_data_benchmark, J));
    SET_VECTOR_ELT(out, i++, names_of(d, ls_data_covariate, p));
    SET_VECTOR_ELT(out, i++, names_of(d, ls_data_family, F));
    SET_VECTOR_ELT(out, i++, names_of(d, ls_data_model, n));
    SEXP fl = Rf_allocVector(REALSXP, (R_xlen_t)J);
    SET_VECTOR_ELT(out, i++, fl);
    SEXP ce = Rf_allocVector(REALSXP, (R_xlen_t)J);
    SET_VECTOR_ELT(out, i++, ce);
    for (size_t j = 0; j < J; j++) REAL(fl)[j] = ls_data_floor(d, j), REAL(ce)[j] = ls_data_ceiling(d, j);
    SET_VECTOR_ELT(out, i++, Rf_ScalarReal((double)ls_data_nobserved(d)));
    SET_VECTOR_ELT(out, i++, Rf_ScalarReal((double)ls_data_nclipped(d)));
    SET_VECTOR_ELT(out, i++, Rf_mkString(ls_data_source(d) ? ls_data_source(d) : ""));
    size_t nw = ls_fit_nwarnings(f);
    SEXP w = Rf_allocVector(STRSXP, (R_xlen_t)nw);
    SET_VECTOR_ELT(out, i++, w);
    for (size_t k = 0; k < nw; k++) SET_STRING_ELT(w, (R_xlen_t)k, Rf_mkCharCE(ls_fit_warning(f, k), CE_UTF8));
    size_t ncal = 0;
    const double *cal = ls_fit_calibration(f, &ncal, NULL, NULL);
    SET_VECTOR_ELT(out, i++, reals(cal, ncal));
    Rf_setAttrib(out, R_NamesSymbol, names);
    UNPROTECT(2);
    return out;
}

SEXP lsr_predict(SEXP x, SEXP path, SEXP popts)
{
    fit_bundle *b = lsr_ptr(x);
    if (!b || !b->f) Rf_error("the fit's C object is gone (was it saved and reloaded? refit it)");
    ls_error e = {0, ""};
    ls_predict_options po;
    ls_predict_options_init(&po);
    po.level = lsr_num(get(popts, "level"), po.level);
    po.param_draws = (size_t)lsr_num(get(popts, "param_draws"), (double)po.param_draws);
    po.latent_draws = (size_t)lsr_num(get(popts, "latent_draws"), (double)po.latent_draws);
    po.seed = (uint64_t)lsr_num(get(popts, "seed"), (double)po.seed);
    po.threads = (unsigned)lsr_num(get(popts, "threads"), po.threads);
    po.param_cov = lsr_str(get(popts, "param_cov"));
    po.ceiling_uncertainty = (int)lsr_num(get(popts, "ceiling_uncertainty"), po.ceiling_uncertainty);
    if (ls_predict_options_check(&po, &e)) return lsr_error(&e);
    ls_table *t = NULL;
    if (ls_table_read(lsr_str(path), &t, &e)) return lsr_error(&e);
    SEXP tx = PROTECT(lsr_wrap(t, lsr_fin_table));
    ls_result *r = NULL;
    int rc = ls_predict(b->f, b->d, t, &po, &r, &e);
    ls_table_free(t);
    lsr_clear(tx);
    if (rc) {
        UNPROTECT(1);
        return lsr_error(&e);
    }
    SEXP rx = PROTECT(lsr_wrap(r, lsr_fin_result));
    SEXP out = PROTECT(lsr_result_to_list(r));
    ls_result_free(r);
    lsr_clear(rx);
    UNPROTECT(3);
    return out;
}
