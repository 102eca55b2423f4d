/*
 * init.c -- registration of the .Call entry points (no dynamic lookup).
 */
#include "latentscale_r.h"

#include <R_ext/Rdynload.h>

static const R_CallMethodDef calls[] = {
    {"lsr_fit", (DL_FUNC)&lsr_fit, 3},
    {"lsr_fit_info", (DL_FUNC)&lsr_fit_info, 1},
    {"lsr_predict", (DL_FUNC)&lsr_predict, 3},
    {"lsr_factor", (DL_FUNC)&lsr_factor, 5},
    {"lsr_gpcm", (DL_FUNC)&lsr_gpcm, 4},
    {"lsr_version", (DL_FUNC)&lsr_version, 0},
    {NULL, NULL, 0}};

void R_init_latentscale(DllInfo *dll)
{
    R_registerRoutines(dll, NULL, calls, NULL, NULL);
    R_useDynamicSymbols(dll, FALSE);
    R_forceSymbols(dll, TRUE);
}
