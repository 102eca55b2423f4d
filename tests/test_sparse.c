/*
 * test_sparse.c -- responses held by observed cell (kernel/sparse.h): the
 * person and item orders hold the same cells as the dense matrix, triples in
 * any order give the same structure, a second response is found at its
 * first occurrence, value changes reach both orders.
 */
#include "harness.h"
#include "kernel/rng.h"
#include "kernel/sparse.h"

#include <stdint.h>
#include <stdlib.h>

/* Every structural invariant, and agreement with the dense Y. */
static int same_as_dense(const ls_resp *R, const double *Y, size_t n, size_t q)
{
    if (R->n != n || R->q != q || R->rp[0] != 0 || R->cp[0] != 0 || R->rp[n] != R->nnz || R->cp[q] != R->nnz)
        return 0;
    size_t nnz = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < q; j++) {
            double y = Y[i * q + j], g = ls_resp_get(R, i, j);
            if (isnan(y) != isnan(g) || (!isnan(y) && y != g)) return 0;
            nnz += !isnan(y);
        }
    if (nnz != R->nnz) return 0;
    for (size_t i = 0; i < n; i++) {
        if (ls_resp_person_count(R, i) != R->rp[i + 1] - R->rp[i]) return 0;
        for (size_t k = R->rp[i]; k < R->rp[i + 1]; k++)
            if ((k > R->rp[i] && R->ri[k] <= R->ri[k - 1]) || Y[i * q + R->ri[k]] != R->rv[k]) return 0;
    }
    for (size_t j = 0; j < q; j++)
        for (size_t k = R->cp[j]; k < R->cp[j + 1]; k++)
            if ((k > R->cp[j] && R->ci[k] <= R->ci[k - 1]) || Y[R->ci[k] * q + j] != R->cv[k]) return 0;
    return 1;
}

static double *random_matrix(size_t n, size_t q, double miss, ls_rng *g)
{
    double *Y = malloc(n * q * sizeof *Y);
    for (size_t c = 0; c < n * q; c++) Y[c] = ls_rng_unif(g) < miss ? NAN : floor(5 * ls_rng_unif(g));
    return Y;
}

static void dense_and_shuffled_triples_give_the_same_cells(void)
{
    ls_rng g = {42};
    const double miss[4] = {0.0, 0.3, 0.9, 1.0};
    int ok_dense = 1, ok_triples = 1;
    for (int m = 0; m < 4; m++)
        for (size_t n = 1; n <= 40; n += 13)
            for (size_t q = 1; q <= 30; q += 7) {
                double *Y = random_matrix(n, q, miss[m], &g);
                ls_resp A, B;
                ls_error e;
                CHECK(ls_resp_from_dense(Y, n, q, &A, &e) == LS_OK);
                ok_dense &= same_as_dense(&A, Y, n, q);
                /* the same cells as triples, in a random order */
                size_t t = A.nnz, dup = 0;
                uint32_t *pi = malloc((t + 1) * sizeof *pi), *it = malloc((t + 1) * sizeof *it);
                double *v = malloc((t + 1) * sizeof *v);
                for (size_t k = 0, i = 0; i < n; i++)
                    for (size_t c = A.rp[i]; c < A.rp[i + 1]; c++, k++) {
                        pi[k] = (uint32_t)i;
                        it[k] = A.ri[c];
                        v[k] = A.rv[c];
                    }
                for (size_t k = t; k > 1; k--) {
                    size_t s = (size_t)(ls_rng_unif(&g) * (double)k);
                    if (s >= k) s = k - 1;
                    uint32_t a = pi[k - 1], b = it[k - 1];
                    double c = v[k - 1];
                    pi[k - 1] = pi[s], it[k - 1] = it[s], v[k - 1] = v[s];
                    pi[s] = a, it[s] = b, v[s] = c;
                }
                CHECK(ls_resp_from_triples(n, q, t, pi, it, v, &dup, &B, &e) == LS_OK);
                CHECK(dup == t);
                ok_triples &= same_as_dense(&B, Y, n, q);
                ls_resp_free(&A);
                ls_resp_free(&B);
                free(pi);
                free(it);
                free(v);
                free(Y);
            }
    CHECK(ok_dense);
    CHECK(ok_triples);
}

static void a_second_response_is_found_where_it_first_occurs(void)
{
    /* person 1 answers item 2 at k = 1, 4 and 6; person 0 item 0 at k = 0, 5 */
    const uint32_t pi[7] = {0, 1, 2, 0, 1, 0, 1}, it[7] = {0, 2, 1, 1, 2, 0, 2};
    const double v[7] = {1, 0, 1, 0, 1, 1, 0};
    ls_resp R;
    ls_error e;
    size_t dup = 0;
    CHECK(ls_resp_from_triples(3, 3, 7, pi, it, v, &dup, &R, &e) == LS_OK);
    CHECK_MSG(dup == 4, "dup %zu", dup);
    CHECK(R.rp == NULL && R.nnz == 0); /* left empty */
    CHECK(ls_resp_from_triples(3, 3, 4, pi, it, v, &dup, &R, &e) == LS_OK && dup == 4 && R.nnz == 4);
    ls_resp_free(&R);
}

static void changed_values_reach_the_item_order_and_copies_are_deep(void)
{
    ls_rng g = {7};
    const size_t n = 25, q = 9;
    double *Y = random_matrix(n, q, 0.4, &g);
    ls_resp R, C;
    ls_error e;
    CHECK(ls_resp_from_dense(Y, n, q, &R, &e) == LS_OK);
    CHECK(ls_resp_copy(&R, &C, &e) == LS_OK);
    for (size_t i = 0; i < n; i++)
        for (size_t k = C.rp[i]; k < C.rp[i + 1]; k++) {
            C.rv[k] = 100.0 * (double)i + C.ri[k];
            Y[i * q + C.ri[k]] = C.rv[k];
        }
    ls_resp_sync_items(&C);
    CHECK(same_as_dense(&C, Y, n, q));
    CHECK(!same_as_dense(&R, Y, n, q)); /* the original kept its values */
    ls_resp_free(&R);
    ls_resp_free(&C);
    free(Y);
}

int main(void)
{
    RUN(dense_and_shuffled_triples_give_the_same_cells);
    RUN(a_second_response_is_found_where_it_first_occurs);
    RUN(changed_values_reach_the_item_order_and_copies_are_deep);
    return h_finish();
}
