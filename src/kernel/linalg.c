/*
 * linalg.c -- wrappers over GSL's Cholesky, triangular solves and the
 * symmetric eigen-solver, on plain arrays.
 */
#include "kernel/linalg.h"
#include "kernel/core.h"

#include <gsl/gsl_blas.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <math.h>
#include <string.h>

void ls_gsl_quiet(void) { gsl_set_error_handler_off(); }

int ls_chol(double *A, size_t n)
{
    for (size_t i = 0; i < n * n; i++)
        if (!isfinite(A[i])) return 1;
    gsl_matrix_view m = gsl_matrix_view_array(A, n, n);
    if (gsl_linalg_cholesky_decomp1(&m.matrix) != GSL_SUCCESS) return 1;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) A[i * n + j] = 0;
    return 0;
}

void ls_trsv_lower(const double *L, size_t n, int trans, double *x)
{
    gsl_matrix_const_view m = gsl_matrix_const_view_array(L, n, n);
    gsl_vector_view v = gsl_vector_view_array(x, n);
    gsl_blas_dtrsv(CblasLower, trans ? CblasTrans : CblasNoTrans, CblasNonUnit, &m.matrix,
                   &v.vector);
}

void ls_chol_solve(const double *L, size_t n, double *x)
{
    ls_trsv_lower(L, n, 0, x);
    ls_trsv_lower(L, n, 1, x);
}

double ls_chol_logdet_half(const double *L, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += log(L[i * n + i]);
    return s;
}

void ls_chol_inverse(const double *L, size_t n, double *out)
{
    for (size_t c = 0; c < n; c++) {
        double *col = out + c * n; /* solve into row c, symmetric result */
        for (size_t r = 0; r < n; r++) col[r] = r == c;
        ls_chol_solve(L, n, col);
    }
}

int ls_eigen_symm(double *A, size_t n, double *values, double *V)
{
    gsl_eigen_symmv_workspace *w = gsl_eigen_symmv_alloc(n);
    if (!w) return 1;
    gsl_matrix_view a = gsl_matrix_view_array(A, n, n);
    gsl_vector_view ev = gsl_vector_view_array(values, n);
    gsl_matrix_view vv = gsl_matrix_view_array(V, n, n);
    int rc = gsl_eigen_symmv(&a.matrix, &ev.vector, &vv.matrix, w);
    gsl_eigen_symmv_free(w);
    if (rc) return 1;
    gsl_eigen_symmv_sort(&ev.vector, &vv.matrix, GSL_EIGEN_SORT_VAL_ASC);
    return 0;
}

/*
 * The cross-product C = A'A (A: k x m row-major, C: m x m) of a tall A, as
 * GSL's CBLAS computes it but cache-blocked and over threads.  CBLAS's
 * dgemm (transposed A, beta 0) sets C to 0 and adds the rows' outer
 * products in row order, each entry C_pq += A_lp A_lq one row after the
 * other (it skips A_lp = 0, which adds +-0 and changes nothing: C starts
 * at +0 and a sum of finite terms never becomes -0).  Here each entry runs
 * through the same additions in the same order (four rows per load of C,
 * one addition after the other: no contraction in ISO C, so no fused
 * multiply-add either), so the result is identical bit for bit whatever
 * the tiles and threads; C_qp has the same products as C_pq, so only the
 * upper tiles are computed and mirrored.  A must be finite (the caller
 * checks).  Tiles of LS_XP_TILE columns: a C tile of 128 KB stays in L2.
 */
#define LS_XP_TILE 128

static void crossprod_tile(const double *A, size_t m, size_t k, size_t p0, size_t p1, size_t q0, size_t q1,
                           double *C)
{
    for (size_t p = p0; p < p1; p++)
        for (size_t q = q0; q < q1; q++) C[p * m + q] = 0.0;
    size_t l = 0;
    for (; l + 4 <= k; l += 4) {
        const double *r0 = A + l * m, *r1 = r0 + m, *r2 = r1 + m, *r3 = r2 + m;
        for (size_t p = p0; p < p1; p++) {
            const double t0 = r0[p], t1 = r1[p], t2 = r2[p], t3 = r3[p];
            double *c = C + p * m;
            for (size_t q = q0; q < q1; q++) {
                double s = c[q];
                s += t0 * r0[q];
                s += t1 * r1[q];
                s += t2 * r2[q];
                s += t3 * r3[q];
                c[q] = s;
            }
        }
    }
    for (; l < k; l++) {
        const double *r0 = A + l * m;
        for (size_t p = p0; p < p1; p++) {
            const double t0 = r0[p];
            double *c = C + p * m;
            for (size_t q = q0; q < q1; q++) c[q] += t0 * r0[q];
        }
    }
}

static void crossprod(size_t m, size_t k, const double *A, double *C)
{
    const size_t nt = (m + LS_XP_TILE - 1) / LS_XP_TILE, npair = nt * (nt + 1) / 2;
#pragma omp parallel for schedule(dynamic, 1)
    for (size_t t = 0; t < npair; t++) {
        size_t a = 0, r = t; /* tile pair t -> (a, b), a <= b */
        while (r >= nt - a) {
            r -= nt - a;
            a++;
        }
        const size_t b = a + r;
        const size_t p0 = a * LS_XP_TILE, p1 = p0 + LS_XP_TILE < m ? p0 + LS_XP_TILE : m;
        const size_t q0 = b * LS_XP_TILE, q1 = q0 + LS_XP_TILE < m ? q0 + LS_XP_TILE : m;
        crossprod_tile(A, m, k, p0, p1, q0, q1, C);
    }
    for (size_t p = 0; p < m; p++)
        for (size_t q = (p / LS_XP_TILE + 1) * LS_XP_TILE; q < m; q++) C[q * m + p] = C[p * m + q];
}

void ls_gemm(int ta, int tb, size_t m, size_t n, size_t k, const double *A, const double *B,
             double *C)
{
    if (ta && !tb && A == B && m == n && (double)m * (double)m * (double)k >= 1e8) {
        int finite = 1;
        for (size_t x = 0; x < m * k && finite; x++) finite = isfinite(A[x]);
        if (finite) {
            crossprod(m, k, A, C);
            return;
        }
    }
    cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                (int)m, (int)n, (int)k, 1.0, A, ta ? (int)m : (int)k, B, tb ? (int)k : (int)n, 0.0,
                C, (int)n);
}

/* Small matrices (n <= 16) use stack buffers, so the callers' hot paths
 * never allocate through the seam. */
#define LS_SMALL_N 16

int ls_lu_inverse(const double *A, size_t n, double *out)
{
    for (size_t i = 0; i < n * n; i++)
        if (!isfinite(A[i])) return 1;
    double small[LS_SMALL_N * LS_SMALL_N];
    double *W = n <= LS_SMALL_N ? small : ls_malloc(n * n * sizeof *W);
    gsl_permutation *perm = gsl_permutation_alloc(n);
    int rc = 1, sign = 0;
    if (W && perm) {
        memcpy(W, A, n * n * sizeof *W);
        gsl_matrix_view w = gsl_matrix_view_array(W, n, n);
        gsl_matrix_view o = gsl_matrix_view_array(out, n, n);
        if (gsl_linalg_LU_decomp(&w.matrix, perm, &sign) == GSL_SUCCESS) {
            double dmax = 0, dmin = INFINITY;
            for (size_t i = 0; i < n; i++) {
                double d = fabs(W[i * n + i]);
                if (d > dmax) dmax = d;
                if (d < dmin) dmin = d;
            }
            if (dmin > 1e-14 * dmax && gsl_linalg_LU_invert(&w.matrix, perm, &o.matrix) == GSL_SUCCESS)
                rc = 0;
        }
    }
    if (perm) gsl_permutation_free(perm);
    if (W != small) ls_free(W);
    return rc;
}

int ls_symm_power(const double *A, size_t n, double power, double *out)
{
    double sw[LS_SMALL_N * LS_SMALL_N], sv[LS_SMALL_N * LS_SMALL_N], se[LS_SMALL_N];
    int big = n > LS_SMALL_N;
    double *W = big ? ls_malloc(n * n * sizeof *W) : sw, *V = big ? ls_malloc(n * n * sizeof *V) : sv,
           *e = big ? ls_malloc(n * sizeof *e) : se;
    int rc = 1;
    if (W && V && e) {
        memcpy(W, A, n * n * sizeof *W);
        if (ls_eigen_symm(W, n, e, V) == 0) {
            double floor = 1e-12 * fmax(e[n - 1], 0.0);
            if (floor <= 0) floor = 1e-300;
            for (size_t k = 0; k < n; k++) e[k] = pow(fmax(e[k], floor), power);
            for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < n; j++) {
                    double s = 0;
                    for (size_t k = 0; k < n; k++) s += V[i * n + k] * e[k] * V[j * n + k];
                    out[i * n + j] = s;
                }
            rc = 0;
        }
    }
    if (big) {
        ls_free(W);
        ls_free(V);
        ls_free(e);
    }
    return rc;
}
