/*
 * factor_sim.h -- helpers shared by the factor-model tests that fit
 * simulated data through the public calls.
 */
#ifndef LS_TEST_FACTOR_SIM_H
#define LS_TEST_FACTOR_SIM_H

#include "latentscale.h"
#include "factor/fit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A data handle over a simulation (free with lsf_data_view_free). */
static inline ls_factor_data sim_data(const lsf_sim *s)
{
    ls_factor_data d;
    if (lsf_data_view(&d, s->n, s->q, s->p, s->Y, s->X)) {
        fprintf(stderr, "sim_data: out of memory\n");
        exit(1);
    }
    return d;
}

/* The public calls, with the payload copied out by value for the
 * assertions (the result keeps owning its arrays: free the result). */
static inline int run_fit(const ls_factor_data *d, const ls_factor_options *o, ls_result **r, lsf_fit *f,
                          ls_error *e)
{
    *r = NULL;
    int rc = ls_factor_run(d, o, r, e);
    if (!rc) *f = *(const lsf_fit *)ls_result_payload(*r, "factor-fit");
    else memset(f, 0, sizeof *f);
    return rc;
}

#endif
