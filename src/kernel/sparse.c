/*
 * sparse.c -- item responses by observed cell, in person and item order
 * (sparse.h).
 */
#include "kernel/sparse.h"

#include <math.h>
#include <string.h>

void ls_resp_free(ls_resp *R)
{
    if (!R) return;
    ls_free(R->rp);
    ls_free(R->ri);
    ls_free(R->rv);
    ls_free(R->cp);
    ls_free(R->ci);
    ls_free(R->cv);
    memset(R, 0, sizeof *R);
}

/* The arrays for n persons, q items and nnz responses (offsets zeroed). */
static int resp_alloc(ls_resp *R, size_t n, size_t q, size_t nnz, ls_error *err)
{
    memset(R, 0, sizeof *R);
    if (n > LS_RESP_MAX_INDEX || q > LS_RESP_MAX_INDEX)
        return ls_fail(err, LS_ERR_INPUT, "%zu persons and %zu items: at most %zu of each", n, q,
                       (size_t)LS_RESP_MAX_INDEX);
    R->n = n;
    R->q = q;
    R->nnz = nnz;
    size_t m = nnz ? nnz : 1;
    R->rp = ls_calloc(n + 1, sizeof *R->rp);
    R->cp = ls_calloc(q + 1, sizeof *R->cp);
    R->ri = ls_malloc(m * sizeof *R->ri);
    R->rv = ls_malloc(m * sizeof *R->rv);
    R->ci = ls_malloc(m * sizeof *R->ci);
    R->cv = ls_malloc(m * sizeof *R->cv);
    if (!R->rp || !R->cp || !R->ri || !R->rv || !R->ci || !R->cv) {
        ls_resp_free(R);
        return ls_nomem(err);
    }
    return LS_OK;
}

/* Counts in off[1..m] become offsets: off[k] = sum of the counts before k. */
static void prefix(size_t *off, size_t m)
{
    for (size_t k = 0; k < m; k++) off[k + 1] += off[k];
}

/* The item order from the person order (persons increasing within an item). */
static int items_from_persons(ls_resp *R, ls_error *err)
{
    size_t *at = ls_malloc((R->q ? R->q : 1) * sizeof *at);
    if (!at) return ls_nomem(err);
    memcpy(at, R->cp, R->q * sizeof *at);
    for (size_t i = 0; i < R->n; i++)
        for (size_t k = R->rp[i]; k < R->rp[i + 1]; k++) {
            size_t c = at[R->ri[k]]++;
            R->ci[c] = (uint32_t)i;
            R->cv[c] = R->rv[k];
        }
    ls_free(at);
    return LS_OK;
}

int ls_resp_from_dense(const double *Y, size_t n, size_t q, ls_resp *out, ls_error *err)
{
    size_t nnz = 0;
    for (size_t c = 0; c < n * q; c++) nnz += !isnan(Y[c]);
    int rc = resp_alloc(out, n, q, nnz, err);
    if (rc) return rc;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < q; j++) {
            double y = Y[i * q + j];
            if (isnan(y)) continue;
            out->ri[k] = (uint32_t)j;
            out->rv[k++] = y;
            out->cp[j + 1]++;
        }
        out->rp[i + 1] = k;
    }
    prefix(out->cp, q);
    if ((rc = items_from_persons(out, err))) ls_resp_free(out);
    return rc;
}

int ls_resp_from_triples(size_t n, size_t q, size_t nnz, const uint32_t *person, const uint32_t *item,
                         const double *value, size_t *dup, ls_resp *out, ls_error *err)
{
    *dup = nnz;
    int rc = resp_alloc(out, n, q, nnz, err);
    if (rc) return rc;
    const size_t m = nnz ? nnz : 1;
    size_t *src = ls_malloc(m * sizeof *src), *srcp = ls_malloc(m * sizeof *srcp),
           *at = ls_malloc(((n > q ? n : q) + 1) * sizeof *at);
    if (!src || !srcp || !at) {
        rc = ls_nomem(err);
        goto done;
    }
    /* 1: by item, stable in input order (the persons and values parked in
     * the item-order arrays, the input index in src) */
    for (size_t k = 0; k < nnz; k++) out->cp[item[k] + 1]++;
    prefix(out->cp, q);
    memcpy(at, out->cp, q * sizeof *at);
    for (size_t k = 0; k < nnz; k++) {
        size_t c = at[item[k]]++;
        out->ci[c] = person[k];
        out->cv[c] = value[k];
        src[c] = k;
    }
    /* 2: by person, stable in that order: items increase within a person
     * and a repeated (person, item) keeps its input order */
    for (size_t k = 0; k < nnz; k++) out->rp[person[k] + 1]++;
    prefix(out->rp, n);
    memcpy(at, out->rp, n * sizeof *at);
    for (size_t j = 0; j < q; j++)
        for (size_t c = out->cp[j]; c < out->cp[j + 1]; c++) {
            size_t k = at[out->ci[c]]++;
            out->ri[k] = (uint32_t)j;
            out->rv[k] = out->cv[c];
            srcp[k] = src[c];
        }
    /* a second response: the same item twice in a row of a person (the
     * later of the two in input order) */
    for (size_t i = 0; i < n; i++)
        for (size_t k = out->rp[i] + 1; k < out->rp[i + 1]; k++)
            if (out->ri[k] == out->ri[k - 1] && srcp[k] < *dup) *dup = srcp[k];
    if (*dup < nnz) {
        ls_resp_free(out);
        goto done;
    }
    /* 3: the item order again, now with persons increasing */
    rc = items_from_persons(out, err);
done:
    ls_free(src);
    ls_free(srcp);
    ls_free(at);
    if (rc) ls_resp_free(out);
    return rc;
}

int ls_resp_copy(const ls_resp *in, ls_resp *out, ls_error *err)
{
    int rc = resp_alloc(out, in->n, in->q, in->nnz, err);
    if (rc) return rc;
    memcpy(out->rp, in->rp, (in->n + 1) * sizeof *in->rp);
    memcpy(out->cp, in->cp, (in->q + 1) * sizeof *in->cp);
    memcpy(out->ri, in->ri, in->nnz * sizeof *in->ri);
    memcpy(out->rv, in->rv, in->nnz * sizeof *in->rv);
    memcpy(out->ci, in->ci, in->nnz * sizeof *in->ci);
    memcpy(out->cv, in->cv, in->nnz * sizeof *in->cv);
    return LS_OK;
}

/* Position of item j in person i's list, or rp[i+1] when absent. */
static size_t find_in_person(const ls_resp *R, size_t i, size_t j)
{
    size_t lo = R->rp[i], hi = R->rp[i + 1];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (R->ri[mid] < j) lo = mid + 1;
        else hi = mid;
    }
    return lo < R->rp[i + 1] && R->ri[lo] == j ? lo : R->rp[i + 1];
}

void ls_resp_sync_items(ls_resp *R)
{
    for (size_t j = 0; j < R->q; j++)
        for (size_t c = R->cp[j]; c < R->cp[j + 1]; c++)
            R->cv[c] = R->rv[find_in_person(R, R->ci[c], j)];
}

double ls_resp_get(const ls_resp *R, size_t i, size_t j)
{
    size_t k = find_in_person(R, i, j);
    return k < R->rp[i + 1] ? R->rv[k] : NAN;
}
