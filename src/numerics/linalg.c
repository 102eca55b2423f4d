/*
 * linalg.c -- wrappers over GSL's Cholesky, triangular solves and the
 * symmetric eigen-solver, on plain arrays.
 */
#include "numerics/linalg.h"
#include "core/core.h"

#include <gsl/gsl_blas.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <math.h>

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
