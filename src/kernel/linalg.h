/*
 * linalg.h -- small dense linear algebra on row-major double arrays,
 * over GSL (linalg and its CBLAS).  Sizes here are the number of skills
 * or parameters: tens to a few hundred.
 */
#ifndef LS_LINALG_H
#define LS_LINALG_H

#include <stddef.h>

/* Turn GSL's abort-on-error handler off (idempotent); every status is then
 * checked by the caller.  Called by every library entry point that uses GSL. */
void ls_gsl_quiet(void);

/* In-place Cholesky A = L L^T of a symmetric n x n matrix; on success the
 * lower triangle holds L and the strict upper triangle is zeroed.
 * Returns 0, or non-zero when A is not positive definite. */
int ls_chol(double *A, size_t n);
/* Solve L x = b (trans = 0) or L^T x = b (trans = 1) in place. */
void ls_trsv_lower(const double *L, size_t n, int trans, double *x);
/* Solve (L L^T) x = b in place. */
void ls_chol_solve(const double *L, size_t n, double *x);
/* sum log L_kk */
double ls_chol_logdet_half(const double *L, size_t n);
/* Inverse of A = L L^T into out (n x n). */
void ls_chol_inverse(const double *L, size_t n, double *out);
/* Symmetric eigen-decomposition: values ascending, vectors in columns of V.
 * A is destroyed.  Returns 0 or non-zero on failure (allocation). */
int ls_eigen_symm(double *A, size_t n, double *values, double *V);

/* C (m x n) = op(A) op(B), op(X) = X or X^T (ta, tb), inner size k. */
void ls_gemm(int ta, int tb, size_t m, size_t n, size_t k, const double *A, const double *B,
             double *C);


/* General inverse of a small n x n matrix by LU with partial pivoting (GSL).
 * Returns 0, or non-zero when A is singular or not finite.  A is not changed. */
int ls_lu_inverse(const double *A, size_t n, double *out);
/* out = A^power for a symmetric positive semi-definite n x n matrix, through
 * its eigen-decomposition (eigenvalues below 1e-12 x the largest are treated as
 * that floor, so negative powers stay finite).  Returns 0 or non-zero. */
int ls_symm_power(const double *A, size_t n, double power, double *out);

#endif
