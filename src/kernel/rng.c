/*
 * rng.c -- splitmix64 draws, uniforms and normals (rng.h).
 */
#include "kernel/rng.h"
#include "kernel/core.h"

#include <math.h>

uint64_t ls_rng_next(ls_rng *g)
{
    uint64_t z = ls_splitmix64(g->s);
    g->s += 0x9E3779B97F4A7C15ULL;
    return z;
}

double ls_rng_unif(ls_rng *g) { return ((double)(ls_rng_next(g) >> 11) + 0.5) * 0x1.0p-53; }

double ls_rng_norm(ls_rng *g)
{
    double u = ls_rng_unif(g), v = ls_rng_unif(g);
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}
