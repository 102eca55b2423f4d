/*
 * fit_options.c -- the check of ls_fit_options (latentscale.h), run by
 * every task that fits before anything is allocated.  Messages name the
 * options' fields; the command line and the bindings name them in their own
 * words (the CLI's flags, Python's keywords).  What depends on the data (K
 * against the number of benchmarks, anchor and ceiling names) is checked
 * when the data are known.
 */
#include "scaling/fit.h"
#include "scaling/plan.h"

#include <math.h>

int ls_fit_options_check(const ls_fit_options *o, ls_error *err)
{
    if (o->skills < 1 || o->skills > 40)
        return ls_fail(err, LS_ERR_OPTION, "skills: expected 1..40, found %zu", o->skills);
    if (o->starts < 1 || o->starts > 1000)
        return ls_fail(err, LS_ERR_OPTION, "starts: expected 1..1000, found %u", o->starts);
    if (!(o->gtol > 0)) return ls_fail(err, LS_ERR_OPTION, "gtol: must be positive");
    if (o->max_iter < 1) return ls_fail(err, LS_ERR_OPTION, "max_iter: must be at least 1");
    if (o->threads > 1024)
        return ls_fail(err, LS_ERR_OPTION, "threads: expected 0..1024, found %u", o->threads);
    if (o->integration < LS_INT_AUTO || o->integration > LS_INT_SPARSE)
        return ls_fail(err, LS_ERR_OPTION, "integration: unknown method %d", o->integration);
    if (!(o->logit_clamp >= 0) || !isfinite(o->logit_clamp))
        return ls_fail(err, LS_ERR_OPTION, "logit_clamp: expected a number >= 0 (0 = off)");
    if (o->calibrate != 0 && o->calibrate != 1)
        return ls_fail(err, LS_ERR_OPTION, "calibrate: expected 0 or 1, found %d", o->calibrate);
    if (o->calibration_folds < 1 || o->calibration_folds > 100)
        return ls_fail(err, LS_ERR_OPTION, "calibration_folds: expected 1..100, found %u", o->calibration_folds);
    if (o->family_effect != 0 && o->family_effect != 1)
        return ls_fail(err, LS_ERR_OPTION, "family_effect: expected 0 or 1, found %d", o->family_effect);
    if (o->family_effect) {
        ls_rule_spec a = ls_plan_resolve(o->integration, o->nodes, o->skills);
        if (ls_plan_is_laplace(&a))
            return ls_fail(err, LS_ERR_OPTION,
                           "family_effect: needs a quadrature rule: at most 7 skills, and not the laplace "
                           "integration (found %zu skills)", o->skills);
        if (o->precision_covariates)
            return ls_fail(err, LS_ERR_OPTION,
                           "family_effect: cannot be combined with `precision_covariates` yet");
    }
    return LS_OK;
}
