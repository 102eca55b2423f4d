/*
 * rng.h -- a small deterministic generator (splitmix64, Steele, Lea and
 * Flood 2014) for starts, bootstrap worlds and simulations.  The state is
 * the caller's (STYLE habit 8: random state passed explicitly); seed it with
 * `ls_rng g = {seed}`.  The sequence is part of the outputs' reproducibility:
 * do not change it.
 */
#ifndef LS_KERNEL_RNG_H
#define LS_KERNEL_RNG_H

#include <stdint.h>

typedef struct ls_rng {
    uint64_t s;
} ls_rng;

/* Next 64 bits: ls_splitmix64 of the state, then s += 0x9E3779B97F4A7C15. */
uint64_t ls_rng_next(ls_rng *g);
/* Uniform on (0, 1): the top 53 bits, centred in their cell. */
double ls_rng_unif(ls_rng *g);
/* Standard normal by Box-Muller (two uniforms per draw, the cosine branch). */
double ls_rng_norm(ls_rng *g);

#endif
