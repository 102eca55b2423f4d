/*
 * sparse.h -- item responses held by the observed cells only (private).
 *
 * Large assessment data arrive long and sparse (online learning, adaptive
 * testing, crowd-sourced evaluations: most person x item pairs are never
 * asked), so the fits that visit the responses person by person and item by
 * item keep both orders: by person (a compressed row list) and by item (a
 * compressed column list), each with its own copy of the values so that
 * both loops read memory in order.  Memory: 24 bytes per observed response
 * plus 8 per person and per item, whatever the share observed.
 *
 * Within a person the items are increasing and within an item the persons
 * are increasing, so a loop over either list visits the same cells in the
 * same order as a loop over the dense matrix that skips the missing ones.
 */
#ifndef LS_KERNEL_SPARSE_H
#define LS_KERNEL_SPARSE_H

#include "kernel/core.h"

#include <stdint.h>

typedef struct ls_resp {
    size_t n, q, nnz; /* persons, items, observed responses               */
    size_t *rp;       /* n + 1: person i's responses are rp[i] .. rp[i+1]-1 */
    uint32_t *ri;     /* nnz: their items, increasing within a person     */
    double *rv;       /* nnz: their values                                */
    size_t *cp;       /* q + 1: item j's responses are cp[j] .. cp[j+1]-1  */
    uint32_t *ci;     /* nnz: their persons, increasing within an item    */
    double *cv;       /* nnz: their values                                */
} ls_resp;

/* The largest person or item count (indices are 32-bit). */
#define LS_RESP_MAX_INDEX ((size_t)UINT32_MAX)

/* From a dense n x q matrix (NaN = missing).  LS_OK, or LS_ERR_NOMEM /
 * LS_ERR_INPUT (more than LS_RESP_MAX_INDEX persons or items). */
int ls_resp_from_dense(const double *Y, size_t n, size_t q, ls_resp *out, ls_error *err);

/*
 * From nnz triples (person[k], item[k], value[k]) in any order (indices
 * below n and q; no missing values).  *dup is set to the smallest k that
 * repeats an earlier triple's person and item (a second response), or to
 * nnz when there is none; with a repeat, out is left empty and LS_OK is
 * returned (the caller words the error).  Time O(nnz + n + q).
 */
int ls_resp_from_triples(size_t n, size_t q, size_t nnz, const uint32_t *person, const uint32_t *item,
                         const double *value, size_t *dup, ls_resp *out, ls_error *err);

/* A deep copy. */
int ls_resp_copy(const ls_resp *in, ls_resp *out, ls_error *err);

/* After the person-ordered values rv were changed: copy them into cv. */
void ls_resp_sync_items(ls_resp *R);

/* The value of cell (i, j), NaN when it was not observed (binary search). */
double ls_resp_get(const ls_resp *R, size_t i, size_t j);

/* Number of observed responses of person i. */
static inline size_t ls_resp_person_count(const ls_resp *R, size_t i) { return R->rp[i + 1] - R->rp[i]; }

void ls_resp_free(ls_resp *R);

#endif
