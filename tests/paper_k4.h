/*
 * paper_k4.h -- the reference's published K = 4 estimates on the paper data
 * (../shared/spec/scaling-law.md, "Numbers to check against"), raw log
 * scale; skills MATH, IFEval, HellaSwag, BBH; benchmarks in the paper's
 * order math, ifeval, hellaswag, bbh, mmlu-pro, mmlu, arc, truthfulqa,
 * gsm8k, winogrande, gpqa, musr.  Shared by the tests that compare with it.
 */
#ifndef LS_TESTS_PAPER_K4_H
#define LS_TESTS_PAPER_K4_H

/* beta (3 x 4, rows log s, log t, log s log t) and its standard errors */
static const double PAPER_K4_BETA[12] = {0.432, 0.190, 0.840, 0.656,
                                         0.774, 0.324, 0.384, 0.445,
                                         0.026, 0.154, -0.039, 0.010};
static const double PAPER_K4_BETA_SE[12] = {0.065, 0.054, 0.055, 0.079,
                                            0.101, 0.087, 0.085, 0.115,
                                            0.032, 0.034, 0.016, 0.041};
/* Lambda (4 x 12, two decimals) and Sigma (4 x 4) */
static const double PAPER_K4_LAMBDA[48] = {
    1.15, 0, 0, 0, 0.23, 0.26, 0.06, -0.05, 1.15, 0.11, -0.30, -0.63,
    0, 0.61, 0, 0, 0.10, 0.14, 0.06, 0.58, 0.04, -0.10, -0.42, -0.41,
    0, 0, 0.50, 0, -0.03, 0.03, 0.39, -0.27, 0.15, 0.51, 0.11, 0.17,
    0, 0, 0, 1.16, 0.52, 0.45, 0.07, 0.32, -0.26, -0.01, 1.68, 1.84};
static const double PAPER_K4_SIGMA[16] = {1, 0.28, 0.38, 0.63,
                                          0.28, 1, 0.57, 0.10,
                                          0.38, 0.57, 1, 0.52,
                                          0.63, 0.10, 0.52, 1};

#include <math.h>

/* How far a K = 4 fit in that order (beta p x K with p = 3, lambda K x J
 * with J = 12, sigma K x K, row-major) is from the table: the RMS and the
 * largest difference of beta in published standard errors, the RMS over
 * the 36 free loadings (the anchors' fixed zeros left out) and the largest
 * difference of Sigma. */
static inline void paper_k4_distance(const double *beta, const double *lambda, const double *sigma, double *beta_rms,
                                     double *beta_zmax, double *lambda_rms, double *sigma_max)
{
    double bsq = 0, zmax = 0, lsq = 0, smax = 0;
    for (int i = 0; i < 12; i++) {
        double db = beta[i] - PAPER_K4_BETA[i];
        bsq += db * db;
        zmax = fmax(zmax, fabs(db) / PAPER_K4_BETA_SE[i]);
    }
    int nl = 0;
    for (int k = 0; k < 4; k++)
        for (int j = 0; j < 12; j++) {
            if (j < 4 && j != k) continue; /* fixed zeros */
            double dl = lambda[k * 12 + j] - PAPER_K4_LAMBDA[k * 12 + j];
            lsq += dl * dl;
            nl++;
        }
    for (int i = 0; i < 16; i++) smax = fmax(smax, fabs(sigma[i] - PAPER_K4_SIGMA[i]));
    *beta_rms = sqrt(bsq / 12);
    *beta_zmax = zmax;
    *lambda_rms = sqrt(lsq / nl); /* nl = 36 */
    *sigma_max = smax;
}

#endif
