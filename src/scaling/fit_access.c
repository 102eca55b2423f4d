/*
 * fit_access.c -- what a fit tells its callers (the public ls_fit_*
 * accessors).
 */
#include "scaling/fit_impl.h"

#include <math.h>

double ls_fit_loglik(const ls_fit *f) { return f->loglik; }

double ls_fit_loglik_check(const ls_fit *f, size_t *points)
{
    if (points) *points = isfinite(f->ll_check) ? f->check_points : 0;
    return f->ll_check;
}
double ls_fit_loglik_check_se(const ls_fit *f) { return isfinite(f->ll_check) ? f->ll_check_se : NAN; }
void ls_fit_check_criteria(const ls_fit *f, double *aic, double *bic)
{
    ls_info_criteria(f->ll_check, f->nparams, f->F, aic, bic); /* NaN in, NaN out */
}
const char *ls_fit_check_method(const ls_fit *f) { return isfinite(f->ll_check) ? f->check_method : ""; }
size_t ls_fit_nparams(const ls_fit *f) { return f->nparams; }
double ls_fit_aic(const ls_fit *f) { return f->aic; }
double ls_fit_bic(const ls_fit *f) { return f->bic; }
int ls_fit_converged(const ls_fit *f) { return f->converged; }
int ls_fit_anchors_from_data(const ls_fit *f) { return f->anchors_auto; }
const char *ls_fit_anchors(const ls_fit *f) { return f->anchors ? f->anchors : "first"; }
const char *ls_fit_convergence_criterion(const ls_fit *f)
{
    return f->converged == LS_CONVERGED_CHANGE ? LS_CRITERION_CHANGE
           : f->converged                      ? "max |gradient| <= gtol"
                                               : "none met";
}
double ls_fit_gradnorm(const ls_fit *f) { return f->gmax; }
int ls_fit_frozen(const ls_fit *f, double *gmax_frozen)
{
    if (gmax_frozen) *gmax_frozen = f->gmax_frozen;
    return f->frozen;
}
int ls_fit_hessian_definite(const ls_fit *f, double *min_eig)
{
    if (min_eig) *min_eig = f->hessian >= 0 ? f->info_min_eig : NAN;
    return f->hessian;
}
unsigned ls_fit_iterations(const ls_fit *f) { return f->iter; }
unsigned ls_fit_starts_at_best(const ls_fit *f) { return f->starts_at_best; }
const char *ls_fit_integration(const ls_fit *f, size_t *nodes)
{
    if (nodes) *nodes = f->nodes;
    return f->integration;
}
const ls_params *ls_fit_params(const ls_fit *f) { return &f->est; }
const double *ls_fit_beta_std(const ls_fit *f) { return f->beta_std; }

void ls_fit_timing(const ls_fit *f, double *search, double *polish, double *se, double *total)
{
    *search = f->t_search;
    *polish = f->t_polish;
    *se = f->t_se;
    *total = f->seconds;
}

double ls_fit_calibration_seconds(const ls_fit *f) { return f->t_calib; }

const double *ls_fit_se(const ls_fit *f, int kind)
{
    if (!f->have_se || kind < 0 || kind >= LS_SE_KINDS || !f->inf.ok[kind]) return NULL;
    return f->inf.se[kind];
}
const double *ls_fit_family_mode(const ls_fit *f, size_t fam) { return fam < f->F ? f->alpha + fam * f->K : NULL; }
const double *ls_fit_family_loglik(const ls_fit *f) { return f->fam_ll; }
size_t ls_fit_nwarnings(const ls_fit *f) { return ls_strlist_count(&f->warn); }
const char *ls_fit_warning(const ls_fit *f, size_t i) { return ls_strlist_get(&f->warn, i); }
const double *ls_fit_theta(const ls_fit *f) { return f->theta; }
size_t ls_fit_dim(const ls_fit *f) { return f->dim; }
size_t ls_fit_nnat(const ls_fit *f)
{
    return ls_nat_count(f->K, f->J, f->p) + (f->est.hetero ? f->p : 0) + (f->nkap ? f->J : 0) +
           (f->est.family_effect ? f->J : 0);
}
int ls_fit_ceiling_estimated(const ls_fit *f, size_t j) { return j < f->J && f->kap[j]; }

int ls_fit_family_effect_test(const ls_fit *f, double *ll_without, double *lr, double *pvalue)
{
    if (!f->have_fe_lr) return 0;
    if (ll_without) *ll_without = f->fe_ll0;
    if (lr) *lr = f->fe_lr;
    if (pvalue) *pvalue = f->fe_p;
    return 1;
}

int ls_fit_precision_test(const ls_fit *f, double *ll_const, double *aic_const, double *lr,
                          double *df, double *pvalue)
{
    if (!f->have_lr) return 0;
    *ll_const = f->ll_const;
    *aic_const = f->aic_const;
    *lr = f->lr;
    *df = f->lr_df;
    *pvalue = f->lr_p;
    return 1;
}
uint64_t ls_fit_seed(const ls_fit *f) { return f->opt.seed; }
size_t ls_fit_nfamilies(const ls_fit *f) { return f->F; }
