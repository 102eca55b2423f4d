/*
 * fuzz_fit.c -- libFuzzer harness for the fit entry point on tiny inputs:
 * parse, build with default options, fit (ls_fit_run) with one skill, one
 * start, a few iterations, one thread.  The first byte of the input picks
 * the integration rule, standard errors and the logit clamp; the rest is
 * the leaderboard CSV (the fuzzer's -max_len keeps it tiny).
 *
 * Properties: a status and the output agree; a fit that returns LS_OK has
 * a finite log-likelihood, AIC and BIC and finite estimates (a NaN in a
 * successful fit is silent nonsense); errors are one line.
 */
#include "fuzz_common.h"
#include "latentscale.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void all_finite(const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++) REQUIRE(isfinite(v[i]));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096) return 0;
    unsigned flags = data[0];
    ls_table *t = NULL;
    ls_data *d = NULL;
    ls_fit *f = NULL;
    ls_error e = {0, ""};
    if (ls_table_parse((const char *)data + 1, size - 1, "fuzz.csv", &t, &e) != LS_OK) return 0;
    if (ls_table_nrow(t) > 60 || ls_table_ncol(t) > 10) goto done; /* keep each run short */
    ls_data_options dopt;
    ls_data_options_init(&dopt);
    if (ls_data_build(t, &dopt, &d, &e) != LS_OK) goto done;

    ls_fit_options o;
    ls_fit_options_init(&o);
    o.skills = 1;
    o.starts = 1;
    o.max_iter = 8;
    o.threads = 1;
    o.skip_se = !(flags & 4);
    static const int rules[4] = {LS_INT_AUTO, LS_INT_GH, LS_INT_LAPLACE, LS_INT_QMC};
    o.integration = rules[flags & 3];
    if (o.integration == LS_INT_QMC) o.nodes = 16;
    if (flags & 8) o.logit_clamp = 4.5;
    int rc = ls_fit_run(d, &o, &f, &e);
    REQUIRE((rc == LS_OK) == (f != NULL));
    if (rc == LS_OK) {
        REQUIRE(isfinite(ls_fit_loglik(f)) && isfinite(ls_fit_aic(f)) && isfinite(ls_fit_bic(f)));
        const ls_params *pr = ls_fit_params(f);
        all_finite(pr->beta, pr->p * pr->K);
        all_finite(pr->lambda, pr->K * pr->J);
        all_finite(pr->b, pr->J);
        all_finite(pr->phi, pr->J);
        all_finite(pr->sigma, pr->K * pr->K);
    } else {
        size_t n = strnlen(e.message, LS_ERROR_LEN);
        REQUIRE(n > 0 && n < LS_ERROR_LEN && !strchr(e.message, '\n'));
    }
done:
    ls_fit_free(f);
    ls_data_free(d);
    ls_table_free(t);
    return 0;
}
