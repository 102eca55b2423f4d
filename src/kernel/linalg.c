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

void ls_gemm(int ta, int tb, size_t m, size_t n, size_t k, const double *A, const double *B,
             double *C)
{
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
