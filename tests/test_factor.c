/*
 * test_factor.c -- generalized latent factor models (models/factor,
 * tasks/factor_*): finite-difference checks of every derivative, the exact
 * LAD solver against brute force, recovery on simulated data for every
 * family and identification, determinism across thread counts, DIF size and
 * power, coverage of covariate-effect intervals, the CLI data checks, and the
 * bfi personality data (skipped when ../shared/data is absent).
 *
 * `test_factor --quick` runs the fast part (also under sanitizers).
 */
#include "harness.h"
#include "factor_sim.h"
#include "factor/fit.h"
#include "kernel/linalg.h"
#include "kernel/core.h"
#include "kernel/multiplicity.h"

#include <jansson.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static int quick;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}



static int run_dif(const ls_result *fit, double alpha, int correction, ls_result **r, lsf_dif *dif, ls_error *e)
{
    *r = NULL;
    int rc = ls_factor_dif_run(fit, alpha, correction, r, e);
    if (!rc) *dif = *(const lsf_dif *)ls_result_payload(*r, "factor-dif");
    else memset(dif, 0, sizeof *dif);
    return rc;
}

static int run_select(const ls_factor_data *d, const ls_factor_options *o, size_t rmin, size_t rmax, ls_result **r,
                      lsf_selection *sel, ls_error *e)
{
    *r = NULL;
    int rc = ls_factor_select(d, o, rmin, rmax, r, e);
    if (!rc) *sel = *(const lsf_selection *)ls_result_payload(*r, "factor-selection");
    else memset(sel, 0, sizeof *sel);
    return rc;
}

/* ---------------------------------------------------------------- */
/* Derivatives                                                       */
/* ---------------------------------------------------------------- */

static void cell_derivatives_match_finite_differences(void)
{
    const double ys[4][3] = {{0, 1, 1}, {0, 3, 7}, {-1.3, 0.2, 2.5}, {0, 1, 0}};
    const double ws[] = {-6.0, -1.7, -0.2, 0.0, 0.4, 2.2, 5.5};
    for (int fam = 0; fam < 4; fam++)
        for (int a = 0; a < 3; a++)
            for (size_t b = 0; b < sizeof ws / sizeof *ws; b++) {
                double y = ys[fam][a], w = ws[b], s2 = 0.7, l1, l2, h = 1e-5;
                lsf_cell(fam, y, w, s2, &l1, &l2);
                double lp = lsf_cell(fam, y, w + h, s2, NULL, NULL);
                double lm = lsf_cell(fam, y, w - h, s2, NULL, NULL);
                double l1p, l1m;
                lsf_cell(fam, y, w + h, s2, &l1p, NULL);
                lsf_cell(fam, y, w - h, s2, &l1m, NULL);
                CHECK_NEAR(l1, (lp - lm) / (2 * h), 1e-6 * (1 + fabs(l1)));
                CHECK_NEAR(l2, (l1p - l1m) / (2 * h), 1e-6 * (1 + fabs(l2)));
                CHECK(l2 <= 0);
            }
    /* probit far in the tails stays finite */
    double l1, l2;
    double l = lsf_cell(LS_FACTOR_PROBIT, 1, -30, 1, &l1, &l2);
    CHECK(isfinite(l) && isfinite(l1) && isfinite(l2));
}

/* Item and person gradients and information against central differences
 * of the unit log-likelihoods, for every family, with missing cells. */
static void unit_derivatives_match_finite_differences(void)
{
    for (int fam = 0; fam < 4; fam++) {
        lsf_sim s;
        ls_error e;
        CHECK(lsf_simulate(60, 12, 2, 2, fam, 0.2, 0.8, 0.15, 11 + (uint64_t)fam, &s, &e) == 0);
        ls_factor_data dv = sim_data(&s);
        lsf_model m;
        CHECK(lsf_model_init(&m, &dv.R, s.X, s.n, s.q, s.p, s.r, fam, 6, 1, &e) == 0);
        ls_rng g = {5};
        for (size_t a = 0; a < s.n * s.r; a++) m.U[a] = 0.8 * ls_rng_norm(&g);
        for (size_t a = 0; a < s.q * m.d; a++) m.T[a] = 0.4 * ls_rng_norm(&g);
        for (size_t j = 0; j < s.q; j++) m.s2[j] = 0.5 + 0.1 * (double)j;
        double g0[LSF_MAX_D], H[LSF_MAX_D * LSF_MAX_D], gp[LSF_MAX_D], gm[LSF_MAX_D], t[LSF_MAX_D];
        double maxg = 0, maxh = 0;
        for (size_t j = 0; j < 3; j++) {
            const size_t d = m.d;
            memcpy(t, m.T + j * d, d * sizeof *t);
            lsf_item_eval(&m, j, t, g0, H, NULL);
            for (size_t k = 0; k < d; k++) {
                double h = 1e-5, keep = t[k];
                t[k] = keep + h;
                double lp = lsf_item_eval(&m, j, t, gp, NULL, NULL);
                t[k] = keep - h;
                double lm = lsf_item_eval(&m, j, t, gm, NULL, NULL);
                t[k] = keep;
                maxg = fmax(maxg, fabs(g0[k] - (lp - lm) / (2 * h)) / (1 + fabs(g0[k])));
                for (size_t l = 0; l < d; l++)
                    maxh = fmax(maxh, fabs(-H[l * d + k] - (gp[l] - gm[l]) / (2 * h)) / (1 + fabs(H[l * d + k])));
            }
        }
        for (size_t i = 0; i < 3; i++) {
            const size_t r = m.r;
            double u[LSF_MAX_R];
            memcpy(u, m.U + i * r, r * sizeof *u);
            lsf_person_eval(&m, i, u, g0, H, NULL);
            for (size_t k = 0; k < r; k++) {
                double h = 1e-5, keep = u[k];
                u[k] = keep + h;
                double lp = lsf_person_eval(&m, i, u, gp, NULL, NULL);
                u[k] = keep - h;
                double lm = lsf_person_eval(&m, i, u, gm, NULL, NULL);
                u[k] = keep;
                maxg = fmax(maxg, fabs(g0[k] - (lp - lm) / (2 * h)) / (1 + fabs(g0[k])));
                for (size_t l = 0; l < r; l++)
                    maxh = fmax(maxh, fabs(-H[l * r + k] - (gp[l] - gm[l]) / (2 * h)) / (1 + fabs(H[l * r + k])));
            }
        }
        CHECK_MSG(maxg < 1e-6 && maxh < 1e-5, "%s: gradient error %.2g, Hessian error %.2g",
                  ls_factor_family_name(fam), maxg, maxh);
        lsf_model_free(&m);
        lsf_data_view_free(&dv);
        lsf_sim_free(&s);
    }
}

/* ---------------------------------------------------------------- */
/* Weighted median and exact LAD                                     */
/* ---------------------------------------------------------------- */

static void weighted_median_minimises_weighted_absolute_deviation(void)
{
    double b[] = {3.0, -1.0, 2.0, 10.0, 0.5};
    double w[] = {1.0, 1.0, 1.0, 1.0, 1.0};
    size_t idx[5];
    CHECK(b[ls_wmedian(b, w, 5, idx)] == 2.0);
    double w2[] = {0.1, 0.1, 0.1, 5.0, 0.1};
    CHECK(b[ls_wmedian(b, w2, 5, idx)] == 10.0);
    /* brute force over the breakpoints on random inputs */
    ls_rng g = {3};
    for (int rep = 0; rep < 50; rep++) {
        double bb[9], ww[9];
        size_t ii[9];
        for (int k = 0; k < 9; k++) {
            bb[k] = ls_rng_norm(&g);
            ww[k] = ls_rng_unif(&g);
        }
        double t = bb[ls_wmedian(bb, ww, 9, ii)], best = INFINITY, ft = 0;
        for (int c = 0; c < 9; c++) {
            double f = 0;
            for (int k = 0; k < 9; k++) f += ww[k] * fabs(bb[k] - bb[c]);
            best = fmin(best, f);
        }
        for (int k = 0; k < 9; k++) ft += ww[k] * fabs(bb[k] - t);
        CHECK_NEAR(ft, best, 1e-12);
    }
}

/* A LAD optimum interpolates r rows: brute force over all r-subsets. */
static double lad_brute(const double *Z, const double *y, size_t m, size_t r)
{
    double best = INFINITY;
    size_t c[3];
    for (c[0] = 0; c[0] < m; c[0]++)
        for (c[1] = r > 1 ? c[0] + 1 : 0; c[1] < (r > 1 ? m : 1); c[1]++)
            for (c[2] = r > 2 ? c[1] + 1 : 0; c[2] < (r > 2 ? m : 1); c[2]++) {
                double B[9], Bi[9], a[3];
                for (size_t k = 0; k < r; k++) memcpy(B + k * r, Z + c[k] * r, r * sizeof *B);
                if (ls_lu_inverse(B, r, Bi)) continue;
                for (size_t k = 0; k < r; k++) {
                    a[k] = 0;
                    for (size_t l = 0; l < r; l++) a[k] += Bi[k * r + l] * y[c[l]];
                }
                double f = 0;
                for (size_t j = 0; j < m; j++) {
                    double e = y[j];
                    for (size_t k = 0; k < r; k++) e -= Z[j * r + k] * a[k];
                    f += fabs(e);
                }
                best = fmin(best, f);
            }
    return best;
}

static void lad_solver_is_exact_against_brute_force(void)
{
    ls_rng g = {17};
    for (size_t r = 1; r <= 3; r++)
        for (int rep = 0; rep < 40; rep++) {
            size_t m = 8 + (size_t)rep % 13;
            double Z[60], y[20], a[3], obj;
            for (size_t j = 0; j < m; j++) {
                for (size_t k = 0; k < r; k++) Z[j * r + k] = 0.5 + ls_rng_unif(&g) * (k == j % r ? 2 : 0.3);
                /* heavy-tailed responses: most near a plane, some far */
                y[j] = Z[j * r] * 0.7 + (ls_rng_unif(&g) < 0.3 ? 5 * ls_rng_norm(&g) : 0.1 * ls_rng_norm(&g));
            }
            ls_error e;
            CHECK(ls_lad(Z, y, m, r, a, &obj, &e) == 0);
            CHECK_NEAR(obj, lad_brute(Z, y, m, r), 1e-9 * (1 + obj));
        }
    /* "most items are fair": 20 zero effects and 5 shifted ones are
     * recovered exactly after an arbitrary shift A */
    double Z[50], y[25], a[2], obj, A[2] = {0.6, -0.4};
    for (size_t j = 0; j < 25; j++) {
        Z[j * 2] = 0.5 + ls_rng_unif(&g);
        Z[j * 2 + 1] = j < 12 ? 0.0 : 0.5 + ls_rng_unif(&g);
        double truth = j < 5 ? 1.0 : 0.0;
        y[j] = truth + Z[j * 2] * A[0] + Z[j * 2 + 1] * A[1];
    }
    ls_error e;
    CHECK(ls_lad(Z, y, 25, 2, a, &obj, &e) == 0);
    CHECK_NEAR(a[0], A[0], 1e-10);
    CHECK_NEAR(a[1], A[1], 1e-10);
}

static void benjamini_hochberg_matches_the_step_up_rule(void)
{
    double p[] = {0.01, 0.04, 0.03, 0.005, 0.5, 0.2};
    int flag[6];
    size_t idx[6];
    ls_bh(p, 6, 1, 0.05, flag, idx);
    /* sorted: .005 .01 .03 .04 .2 .5; thresholds k*.05/6: .0083 .0167 .025 .033 .042 .05
     * largest k with p_(k) <= threshold: k = 2 -> .005 and .01 */
    int expect[] = {1, 0, 0, 1, 0, 0};
    for (int k = 0; k < 6; k++) CHECK(flag[k] == expect[k]);
}

/* A NaN p-value is a hypothesis not tested: never flagged, and not counted
 * in m (with it counted, neither rule would flag anything here). */
static void untested_hypotheses_are_left_out_of_the_correction(void)
{
    double p[] = {0.02, NAN, NAN, 0.04};
    int flag[4] = {1, 1, 1, 1}, bon[4] = {1, 1, 1, 1};
    size_t idx[4];
    ls_bh(p, 4, 1, 0.05, flag, idx);
    CHECK(flag[0] == 1 && flag[1] == 0 && flag[2] == 0 && flag[3] == 1);
    ls_bonferroni(p, 4, 1, 0.05, bon);
    CHECK(bon[0] == 1 && bon[1] == 0 && bon[2] == 0 && bon[3] == 0);
}

/* ---------------------------------------------------------------- */
/* Fits on simulated data                                            */
/* ---------------------------------------------------------------- */

/* max |estimate - truth| of covariate slopes, and RMSE */
static void beta_errors(const lsf_fit *f, const lsf_sim *s, double *maxe, double *rmse)
{
    double m = 0, ss = 0;
    size_t p1 = s->p + 1, c = 0;
    for (size_t j = 0; j < s->q; j++)
        for (size_t k = 1; k < p1; k++) {
            double e = f->beta[j * p1 + k] - s->beta[j * p1 + k];
            m = fmax(m, fabs(e));
            ss += e * e;
            c++;
        }
    *maxe = m;
    *rmse = c ? sqrt(ss / (double)c) : 0;
}

/* Loadings under anchor identity against the truth mapped to the same
 * condition: Gamma B^-1 with B the anchors' true loadings. */
static double loading_rmse_anchor_identity(const lsf_fit *f, const lsf_sim *s)
{
    size_t r = s->r;
    double B[LSF_MAX_R * LSF_MAX_R], Bi[LSF_MAX_R * LSF_MAX_R], ss = 0;
    for (size_t k = 0; k < r; k++) memcpy(B + k * r, s->gamma + f->anchors[k] * r, r * sizeof *B);
    if (ls_lu_inverse(B, r, Bi)) return INFINITY;
    for (size_t j = 0; j < s->q; j++)
        for (size_t b = 0; b < r; b++) {
            double t = 0;
            for (size_t a = 0; a < r; a++) t += s->gamma[j * r + a] * Bi[a * r + b];
            double e = f->gamma[j * r + b] - t;
            ss += e * e;
        }
    return sqrt(ss / (double)(s->q * r));
}

/* Smallest canonical correlation between estimated and true factor scores
 * (1 = the same space). */
static double factor_space_corr(const lsf_fit *f, const lsf_sim *s)
{
    size_t r = s->r, n = s->n;
    double Saa[LSF_MAX_R * LSF_MAX_R] = {0}, Sbb[LSF_MAX_R * LSF_MAX_R] = {0}, Sab[LSF_MAX_R * LSF_MAX_R] = {0};
    double ma[LSF_MAX_R] = {0}, mb[LSF_MAX_R] = {0};
    for (size_t i = 0; i < n; i++)
        for (size_t a = 0; a < r; a++) {
            ma[a] += f->U[i * r + a] / (double)n;
            mb[a] += s->U[i * r + a] / (double)n;
        }
    for (size_t i = 0; i < n; i++)
        for (size_t a = 0; a < r; a++)
            for (size_t b = 0; b < r; b++) {
                double ua = f->U[i * r + a] - ma[a], ub = f->U[i * r + b] - ma[b];
                double ta = s->U[i * r + a] - mb[a], tb = s->U[i * r + b] - mb[b];
                Saa[a * r + b] += ua * ub;
                Sbb[a * r + b] += ta * tb;
                Sab[a * r + b] += ua * tb;
            }
    /* eigenvalues of Saa^-1/2 Sab Sbb^-1 Sba Saa^-1/2 */
    double Ai[LSF_MAX_R * LSF_MAX_R], Bi[LSF_MAX_R * LSF_MAX_R], T1[LSF_MAX_R * LSF_MAX_R],
        M[LSF_MAX_R * LSF_MAX_R], V[LSF_MAX_R * LSF_MAX_R], ev[LSF_MAX_R];
    ls_symm_power(Saa, r, -0.5, Ai);
    ls_symm_power(Sbb, r, -1.0, Bi);
    for (size_t a = 0; a < r; a++)
        for (size_t b = 0; b < r; b++) {
            double t = 0;
            for (size_t c = 0; c < r; c++)
                for (size_t e = 0; e < r; e++) t += Sab[a * r + c] * Bi[c * r + e] * Sab[b * r + e];
            T1[a * r + b] = t;
        }
    for (size_t a = 0; a < r; a++)
        for (size_t b = 0; b < r; b++) {
            double t = 0;
            for (size_t c = 0; c < r; c++)
                for (size_t e = 0; e < r; e++) t += Ai[a * r + c] * T1[c * r + e] * Ai[e * r + b];
            M[a * r + b] = t;
        }
    ls_eigen_symm(M, r, ev, V);
    return sqrt(fmax(ev[0], 0));
}

/* Sparse long data (each person answers 15 of 150 items, 10 % observed),
 * as large-scale testing delivers them: the data keep the observed cells
 * only, and the penalised joint fit recovers the covariate effects and the
 * loadings. */
static void sparse_long_data_are_fitted_from_the_observed_cells(void)
{
    const size_t n = 3000, q = 150, per = 15, p = 2;
    ls_rng g = {77};
    double lam[150], icp[150], eff[150][2];
    for (size_t j = 0; j < q; j++) {
        lam[j] = 0.5 + ls_rng_unif(&g);
        icp[j] = 2 * ls_rng_unif(&g) - 1;
        eff[j][0] = j < 5 ? 0.6 : 0;
        eff[j][1] = j >= 5 && j < 10 ? -0.6 : 0;
    }
    size_t len = 64 + n * per * 40, at = 0;
    char *csv = malloc(len);
    at += (size_t)snprintf(csv + at, len - at, "who,item,y,x1,x2\n");
    unsigned char used[150];
    for (size_t i = 0; i < n; i++) {
        double x[2] = {ls_rng_norm(&g), ls_rng_unif(&g) < 0.5}, u = ls_rng_norm(&g) + 0.3 * x[0];
        memset(used, 0, sizeof used);
        for (size_t a = 0; a < per; a++) {
            size_t j;
            do j = (size_t)(ls_rng_unif(&g) * (double)q) % q;
            while (used[j]);
            used[j] = 1;
            double w = icp[j] + lam[j] * u + eff[j][0] * x[0] + eff[j][1] * x[1];
            at += (size_t)snprintf(csv + at, len - at, "s%zu,q%zu,%d,%.6f,%.0f\n", i, j,
                                   ls_rng_unif(&g) < 1 / (1 + exp(-w)), x[0], x[1]);
        }
    }
    ls_table *t = NULL;
    ls_factor_data *d = NULL;
    ls_error e;
    CHECK(ls_table_parse(csv, at, "sparse.csv", &t, &e) == 0);
    int rc = ls_factor_data_build_long(t, "who,item,y", "x1,x2", NAN, LS_FACTOR_BERNOULLI, &d, &e);
    CHECK_MSG(rc == 0, "%s", e.message);
    if (rc) {
        ls_table_free(t);
        free(csv);
        return;
    }
    CHECK(d->n == n && d->q == q && d->R.nnz == n * per && d->R.rp[n] == n * per);
    ls_factor_options o;
    ls_factor_options_init(&o);
    o.ridge = 1;
    o.starts = 1;
    ls_result *r = NULL;
    lsf_fit f;
    rc = run_fit(d, &o, &r, &f, &e);
    CHECK_MSG(rc == 0, "%s", e.message);
    if (!rc) {
        CHECK(f.converged && f.nobs == n * per && f.n_empty == 0);
        double ss_dif = 0, me_dif = 0, ss_zero = 0, z2 = 0, sl = 0, st = 0, sll = 0, stt = 0, slt = 0;
        size_t nz = 0, found = 0;
        for (size_t jj = 0; jj < q; jj++) {
            const size_t j = strtoul(d->items[jj] + 1, NULL, 10);
            for (size_t s = 0; s < p; s++) {
                const size_t c = jj * (p + 1) + 1 + s;
                double err = f.beta[c] - eff[j][s];
                if (eff[j][s] != 0) {
                    ss_dif += err * err;
                    me_dif += err / eff[j][s] / 10; /* relative, mean over the 10 */
                    found += fabs(f.beta[c] / f.se_beta[c]) > 1.96;
                } else {
                    ss_zero += err * err;
                    z2 += err * err / (f.se_beta[c] * f.se_beta[c]);
                    nz++;
                }
            }
            double a = f.gamma[jj], b = lam[j];
            sl += a, st += b, sll += a * a, stt += b * b, slt += a * b;
        }
        double corr = (slt - sl * st / q) / sqrt((sll - sl * sl / q) * (stt - st * st / q));
        printf("  sparse 3000 x 150, 15 answered each: DIF effects RMSE %.3f, mean relative error %+.3f (%zu of 10 "
               "significant), zero effects RMSE %.3f, mean (error / SE)^2 %.2f; loadings |corr| %.3f, %u sweeps\n",
               sqrt(ss_dif / 10), me_dif, found,
               sqrt(ss_zero / (double)nz), z2 / (double)nz, fabs(corr), f.iterations);
        CHECK(sqrt(ss_dif / 10) < 0.3);
        CHECK(found >= 8);
        CHECK(z2 / (double)nz > 0.6 && z2 / (double)nz < 1.6); /* the errors are as large as the SEs say */
        CHECK(fabs(corr) > 0.75);
    }
    ls_result_free(r);
    ls_factor_data_free(d);
    ls_table_free(t);
    free(csv);
}

static void bernoulli_fit_recovers_the_truth(void)
{
    lsf_sim s;
    ls_error e;
    size_t n = quick ? 400 : 1000;
    CHECK(lsf_simulate(n, 100, 5, 2, LS_FACTOR_BERNOULLI, 0.2, 1.0, 0.0, 1, &s, &e) == 0);
    ls_factor_data d = sim_data(&s);
    ls_factor_options o;
    ls_factor_options_init(&o);
    o.factors = 2;
    o.identify = LS_FACTOR_ANCHOR_IDENTITY;
    size_t anchors[2] = {0, 99};
    o.anchors = anchors;
    o.starts = 2;
    lsf_fit f;
    ls_result *f_r = NULL;
    double t0 = now();
    int rc = run_fit(&d, &o, &f_r, &f, &e);
    double t1 = now();
    CHECK_MSG(rc == 0, "%s", e.message);
    if (rc) {
        lsf_data_view_free(&d);
        lsf_sim_free(&s);
        return;
    }
    double maxe, rmse;
    beta_errors(&f, &s, &maxe, &rmse);
    double lr = loading_rmse_anchor_identity(&f, &s), cc = factor_space_corr(&f, &s);
    printf("  bernoulli n=%zu q=100 r=2 p=5: %.2f s, %u sweeps, loglik %.2f; covariate effects "
           "RMSE %.3f max %.3f; loadings (anchor identity) RMSE %.3f; factor space corr %.3f\n",
           n, t1 - t0, f.iterations, f.loglik, rmse, maxe, lr, cc);
    CHECK(f.converged);
    CHECK(rmse < (quick ? 0.25 : 0.15));
    CHECK(lr < (quick ? 0.5 : 0.3));
    CHECK(cc > 0.9);
    /* anchors fixed at the identity */
    CHECK(f.gamma[0] == 1.0 && f.gamma[1] == 0.0 && f.gamma[99 * 2] == 0.0 && f.gamma[99 * 2 + 1] == 1.0);
    CHECK(f.se_gamma && f.se_gamma[0] == 0.0);
    ls_result_free(f_r);
    lsf_data_view_free(&d);
    lsf_sim_free(&s);
}

static void every_family_recovers_covariate_effects(void)
{
    for (int fam = 1; fam < 4; fam++) {
        lsf_sim s;
        ls_error e;
        CHECK(lsf_simulate(quick ? 500 : 800, 100, 2, 2, fam, 0.2, fam == LS_FACTOR_POISSON ? 0.5 : 1.0,
                           0.1, 2 + (uint64_t)fam, &s, &e) == 0);
        ls_factor_data d = sim_data(&s);
        ls_factor_options o;
        ls_factor_options_init(&o);
        o.factors = 2;
        o.family = fam;
        o.starts = 1;
        lsf_fit f;
        ls_result *f_r = NULL;
        int rc = run_fit(&d, &o, &f_r, &f, &e);
        CHECK_MSG(rc == 0, "%s", e.message);
        if (rc) {
            lsf_data_view_free(&d);
            lsf_sim_free(&s);
            continue;
        }
        double maxe, rmse;
        beta_errors(&f, &s, &maxe, &rmse);
        double cc = factor_space_corr(&f, &s);
        printf("  %-9s n=%zu q=100 r=2 p=2, 10%% missing: %u sweeps, covariate effects RMSE %.3f "
               "max %.3f, factor space corr %.3f\n",
               ls_factor_family_name(fam), s.n, f.iterations, rmse, maxe, cc);
        CHECK(f.converged);
        CHECK(rmse < 0.2);
        CHECK(cc > 0.85);
        if (fam == LS_FACTOR_GAUSSIAN) {
            double mv = 0;
            for (size_t j = 0; j < s.q; j++) mv += f.dispersion[j] / (double)s.q;
            CHECK_NEAR(mv, 1.0, 0.15);
        }
        ls_result_free(f_r);
        lsf_data_view_free(&d);
        lsf_sim_free(&s);
    }
}

/* Short tests (5 binary items per factor): the ridge recovers the simple
 * structure where plain joint ML degenerates. */
static void ridge_recovers_short_tests(void)
{
    lsf_sim s;
    ls_error e;
    CHECK(lsf_simulate(2800, 25, 0, 5, LS_FACTOR_BERNOULLI, 0.2, 1.0, 0.0, 5, &s, &e) == 0);
    ls_factor_data d = sim_data(&s);
    ls_factor_options o;
    ls_factor_options_init(&o);
    o.factors = 5;
    o.starts = 1;
    o.skip_se = 1;
    o.ridge = 10;
    o.identify = LS_FACTOR_ANCHOR;
    size_t an[5] = {0, 5, 10, 15, 20};
    o.anchors = an;
    lsf_fit f;
    ls_result *f_r = NULL;
    int rc = run_fit(&d, &o, &f_r, &f, &e);
    CHECK_MSG(rc == 0, "%s", e.message);
    if (rc) {
        lsf_data_view_free(&d);
        lsf_sim_free(&s);
        return;
    }
    /* the simple structure: each item loads most on its own block's factor */
    size_t own = 0;
    for (size_t j = 0; j < 25; j++) {
        size_t arg = 0;
        for (size_t k = 1; k < 5; k++)
            if (fabs(f.gamma[j * 5 + k]) > fabs(f.gamma[j * 5 + arg])) arg = k;
        own += arg == j / 5;
    }
    printf("  ridge 10, n=%zu q=25 r=5 (anchor): %u sweeps, %zu of 25 items load most on their own "
           "factor, factor space corr %.3f (5 binary items per factor)\n",
           s.n, f.iterations, own, factor_space_corr(&f, &s));
    CHECK(f.converged);
    CHECK(own >= 23);
    ls_result_free(f_r);
    lsf_data_view_free(&d);
    lsf_sim_free(&s);
}

/* The likelihood is the same under every condition, each condition holds,
 * and results do not depend on the number of threads. */
static void identification_conditions_hold_and_threads_do_not_matter(void)
{
    lsf_sim s;
    ls_error e;
    CHECK(lsf_simulate(300, 30, 2, 3, LS_FACTOR_BERNOULLI, 0.2, 1.0, 0.05, 4, &s, &e) == 0);
    ls_factor_data d = sim_data(&s);
    double ll0 = NAN;
    for (int id = 0; id <= LS_FACTOR_EQUAL_DIAGONAL; id++) {
        ls_factor_options o;
        ls_factor_options_init(&o);
        o.factors = 3;
        o.identify = id;
        o.starts = 1;
        o.max_iter = 60; /* the conditions hold at any iterate */
        /* the default bootstrap under the anchor conditions: they hold after its correction */
        size_t an[3] = {0, 10, 20};
        o.anchors = an;
        lsf_fit f;
        ls_result *f_r = NULL;
        int rc = run_fit(&d, &o, &f_r, &f, &e);
        CHECK_MSG(rc == 0, "%s", e.message);
        if (rc) continue;
        if (id == 0) ll0 = f.loglik;
        CHECK_NEAR(f.loglik, ll0, 1e-6 * fabs(ll0));
        size_t r = 3, q = s.q;
        double Mg[9] = {0};
        for (size_t j = 0; j < q; j++)
            for (size_t a = 0; a < r; a++)
                for (size_t b = 0; b < r; b++) Mg[a * r + b] += f.gamma[j * r + a] * f.gamma[j * r + b] / (double)q;
        const double *Mu = f.factor_cov;
        for (size_t a = 0; a < r; a++)
            for (size_t b = 0; b < r; b++) {
                switch (id) {
                case LS_FACTOR_ORTHOGONAL:
                    CHECK_NEAR(Mu[a * r + b], a == b, 1e-9);
                    if (a != b) CHECK_NEAR(Mg[a * r + b], 0, 1e-9);
                    break;
                case LS_FACTOR_TRIANGULAR:
                    CHECK_NEAR(Mu[a * r + b], a == b, 1e-9);
                    if (b > a) CHECK(f.gamma[an[a] * r + b] == 0.0);
                    if (a == b) CHECK(f.gamma[an[a] * r + a] > 0);
                    break;
                case LS_FACTOR_ANCHOR:
                    if (a == b) CHECK_NEAR(Mu[a * r + a], 1.0, 1e-9);
                    if (a != b) CHECK(f.gamma[an[a] * r + b] == 0.0);
                    else CHECK(f.gamma[an[a] * r + a] > 0);
                    break;
                case LS_FACTOR_ANCHOR_IDENTITY:
                    CHECK(f.gamma[an[a] * r + b] == (a == b ? 1.0 : 0.0));
                    break;
                default:
                    CHECK_NEAR(Mu[a * r + b], Mg[a * r + b], 1e-9);
                    if (a != b) CHECK_NEAR(Mu[a * r + b], 0, 1e-9);
                }
            }
        /* min-L1 covariate condition: the covariate effects are their own
         * LAD representative (A* = 0) */
        for (size_t sidx = 0; sidx < s.p; sidx++) {
            double Z[90], y[30], a[3], obj;
            const double *G = f.gamma_ml ? f.gamma_ml : f.gamma; /* the condition is on the ML loadings */
            for (size_t j = 0; j < q; j++) {
                memcpy(Z + j * r, G + j * r, r * sizeof *Z);
                y[j] = f.beta[j * (s.p + 1) + 1 + sidx];
            }
            CHECK(ls_lad(Z, y, q, r, a, &obj, &e) == 0);
            double f0 = 0;
            for (size_t j = 0; j < q; j++) f0 += fabs(y[j]);
            CHECK_NEAR(obj, f0, 1e-9 * (1 + f0));
        }
        ls_result_free(f_r);
    }
    /* threads: byte-identical estimates */
    lsf_fit f1, f2;
    ls_result *f1_r = NULL, *f2_r = NULL;
    ls_factor_options o;
    ls_factor_options_init(&o);
    o.factors = 3;
    o.identify = LS_FACTOR_ANCHOR;
    o.starts = 2;
    o.max_iter = 60;
    o.threads = 1;
    CHECK(run_fit(&d, &o, &f1_r, &f1, &e) == 0);
    o.threads = 2;
    CHECK(run_fit(&d, &o, &f2_r, &f2, &e) == 0);
    CHECK(memcmp(f1.U, f2.U, s.n * 3 * sizeof(double)) == 0);
    CHECK(memcmp(f1.gamma, f2.gamma, s.q * 3 * sizeof(double)) == 0);
    CHECK(memcmp(f1.se_beta, f2.se_beta, s.q * (s.p + 1) * sizeof(double)) == 0);
    CHECK(f1.loglik == f2.loglik);
    ls_result_free(f1_r);
    ls_result_free(f2_r);
    lsf_data_view_free(&d);
    lsf_sim_free(&s);
}

/* Coverage of 95 % intervals for covariate effects, DIF size and power, over
 * replications of the design (a quick version of bench/bench_factor). */
static void intervals_cover_and_dif_tests_hold_their_size(void)
{
    size_t reps = quick ? 4 : 30, n = 800, q = 100, p = 5, r = 2;
    size_t cover = 0, total = 0, null_rej = 0, nulls = 0, alt_rej = 0, alts = 0;
    size_t cover_g = 0, total_g = 0;
    double t0 = now();
    for (size_t rep = 0; rep < reps; rep++) {
        lsf_sim s;
        ls_error e;
        CHECK(lsf_simulate(n, q, p, r, LS_FACTOR_BERNOULLI, 0.2, 1.0, 0.0, 100 + rep, &s, &e) == 0);
        ls_factor_data d = sim_data(&s);
        ls_factor_options o;
        ls_factor_options_init(&o);
        o.factors = r;
        o.starts = 1;
        o.identify = LS_FACTOR_ANCHOR_IDENTITY;
        o.loading_bootstrap = 0; /* the analytic anchors' term; the bootstrap has its own test */
        size_t an[2] = {10, 60};
        o.anchors = an;
        lsf_fit f;
        ls_result *f_r = NULL;
        lsf_dif dif;
        ls_result *dif_r = NULL;
        if (run_fit(&d, &o, &f_r, &f, &e)) {
            CHECK_MSG(0, "%s", e.message);
            lsf_data_view_free(&d);
            lsf_sim_free(&s);
            continue;
        }
        CHECK(run_dif(f_r, 0.05, LS_FACTOR_BONFERRONI, &dif_r, &dif, &e) == 0);
        for (size_t j = 0; j < q; j++)
            for (size_t k = 0; k < p; k++) {
                double b = f.beta[j * (p + 1) + 1 + k], se = f.se_beta[j * (p + 1) + 1 + k];
                double t = s.beta[j * (p + 1) + 1 + k];
                cover += fabs(b - t) <= 1.959964 * se;
                total++;
                int flag = dif.flag_bonferroni[j * p + k];
                if (isnan(dif.pvalue[j * p + k])) continue; /* fixed by the condition: not a test */
                if (t == 0) {
                    nulls++;
                    null_rej += dif.pvalue[j * p + k] < 0.05;
                } else {
                    alts++;
                    alt_rej += flag;
                }
            }
        /* loadings under anchor identity, with the anchors' term */
        double B[4], Bi[4];
        for (size_t k = 0; k < r; k++) memcpy(B + k * r, s.gamma + an[k] * r, r * sizeof *B);
        ls_lu_inverse(B, r, Bi);
        for (size_t j = 0; j < q; j++) {
            if (j == an[0] || j == an[1]) continue;
            for (size_t b = 0; b < r; b++) {
                double t = 0;
                for (size_t a = 0; a < r; a++) t += s.gamma[j * r + a] * Bi[a * r + b];
                cover_g += fabs(f.gamma[j * r + b] - t) <= 1.959964 * f.se_gamma[j * r + b];
                total_g++;
            }
        }
        ls_result_free(dif_r);
        ls_result_free(f_r);
        lsf_data_view_free(&d);
        lsf_sim_free(&s);
    }
    double cov = (double)cover / (double)total, size = (double)null_rej / (double)nulls,
           power = (double)alt_rej / (double)alts, covg = (double)cover_g / (double)total_g;
    printf("  %zu replications (n=%zu, q=%zu, r=%zu, p=%zu; %.1f s): covariate-effect coverage %.3f, "
           "unadjusted test size %.3f, Bonferroni power %.3f, loading coverage (anchor identity) %.3f\n",
           reps, n, q, r, p, now() - t0, cov, size, power, covg);
    CHECK(cov > 0.90 && cov < 0.98);
    CHECK(size < 0.09);
    CHECK(power > 0.8);
    CHECK(covg > 0.88);
}

/* The parametric bootstrap of the loadings: on by default under the anchor
 * conditions, leaves the entries fixed by the condition exact, keeps the ML
 * loadings and the analytic standard errors, is deterministic whatever the
 * number of threads, and (full run) corrects the loadings' bias and covers
 * where the analytic intervals do not. */
static void loading_bootstrap_corrects_bias_and_covers(void)
{
    lsf_sim s;
    ls_error e;
    CHECK(lsf_simulate(500, 100, 1, 2, LS_FACTOR_BERNOULLI, 0.2, 1.0, 0.0, 31, &s, &e) == 0);
    ls_factor_data d = sim_data(&s);
    size_t an[2] = {0, 50}; /* the strongest item of each block: a weak anchor makes every ratio erratic */
    for (size_t j = 0; j < s.q; j++) {
        size_t k = j < s.q / 2 ? 0 : 1;
        if (s.gamma[j * 2 + k] > s.gamma[an[k] * 2 + k]) an[k] = j;
    }
    ls_factor_options o;
    ls_factor_options_init(&o);
    o.factors = 2;
    o.starts = 1;
    o.anchors = an;
    o.threads = 1;
    lsf_fit f0, f1, f2;
    ls_result *f0_r = NULL, *f1_r = NULL, *f2_r = NULL;
    CHECK(run_fit(&d, &o, &f0_r, &f0, &e) == 0); /* orthogonal: analytic by default */
    CHECK(f0.loading_bootstrap == 0 && f0.gamma_ml == NULL && f0.se_gamma_analytic == NULL);
    o.identify = LS_FACTOR_ANCHOR_IDENTITY;
    o.loading_bootstrap = 12;
    CHECK(run_fit(&d, &o, &f1_r, &f1, &e) == 0);
    o.threads = 2;
    CHECK(run_fit(&d, &o, &f2_r, &f2, &e) == 0);
    CHECK(f1.loading_bootstrap == 12);
    CHECK(f1.gamma_ml != NULL && f1.se_gamma_analytic != NULL);
    if (f1.gamma_ml && f2.gamma_ml) {
        CHECK(memcmp(f1.gamma, f2.gamma, s.q * 2 * sizeof(double)) == 0);
        CHECK(memcmp(f1.se_gamma, f2.se_gamma, s.q * 2 * sizeof(double)) == 0);
        size_t moved = 0;
        for (size_t j = 0; j < s.q; j++)
            for (size_t b = 0; b < 2; b++) {
                size_t c = j * 2 + b;
                if (j == an[0] || j == an[1]) {
                    CHECK(f1.gamma[c] == (j == an[b] ? 1.0 : 0.0)); /* fixed entries stay exact */
                    CHECK(f1.se_gamma[c] == 0.0);
                    continue;
                }
                CHECK(f1.se_gamma[c] > 0 && isfinite(f1.gamma[c]));
                CHECK(f1.se_gamma_analytic[c] > 0);
                /* the correction is a fraction of a standard error, and the
                 * bootstrap SD is of the analytic SD's order */
                CHECK(fabs(f1.gamma[c] - f1.gamma_ml[c]) < 2 * f1.se_gamma[c]);
                CHECK(f1.se_gamma[c] > 0.5 * f1.se_gamma_analytic[c] && f1.se_gamma[c] < 3 * f1.se_gamma_analytic[c]);
                moved += f1.gamma[c] != f1.gamma_ml[c];
            }
        CHECK(moved == (s.q - 2) * 2);
    }
    ls_result_free(f0_r);
    ls_result_free(f1_r);
    ls_result_free(f2_r);
    o.loading_bootstrap = 0; /* analytic */
    CHECK(run_fit(&d, &o, &f1_r, &f1, &e) == 0);
    CHECK(f1.loading_bootstrap == 0 && f1.gamma_ml == NULL);
    ls_result_free(f1_r);
    o.loading_bootstrap = -2;
    CHECK(run_fit(&d, &o, &f1_r, &f1, &e) == LS_ERR_OPTION);
    lsf_data_view_free(&d);
    lsf_sim_free(&s);
    if (quick) return;
    /* Anchor condition with correlated factors, the bench design at n = 800:
     * the joint-ML loadings are biased upwards (about +6 %) and their
     * analytic intervals too short; the bootstrap removes the bias and its
     * intervals cover. */
    size_t reps = 8, n = 800, q = 100, p = 5, r = 2, total = 0, cov_ml = 0, cov_bs = 0;
    double err_ml = 0, err_bs = 0;
    size_t an2[2] = {10, 60};
    for (size_t rep = 0; rep < reps; rep++) {
        CHECK(lsf_simulate(n, q, p, r, LS_FACTOR_BERNOULLI, 0.2, 1.0, 0.0, 500 + rep, &s, &e) == 0);
        d = sim_data(&s);
        ls_factor_options_init(&o);
        o.factors = r;
        o.starts = 1;
        o.identify = LS_FACTOR_ANCHOR;
        o.anchors = an2;
        o.loading_bootstrap = 30;
        lsf_fit f;
        ls_result *f_r = NULL;
        int rc = run_fit(&d, &o, &f_r, &f, &e);
        CHECK_MSG(rc == 0, "%s", e.message);
        if (rc == 0 && f.gamma_ml &&
            lsf_identify_params(&d, r, &o, s.U, s.gamma, s.beta, &e) == 0) {
            for (size_t j = 0; j < q; j++) {
                size_t c = j * r + (j < q / 2 ? 0 : 1); /* own factor */
                if (j == an2[0] || j == an2[1]) continue;
                err_ml += (f.gamma_ml[c] - s.gamma[c]) / s.gamma[c];
                err_bs += (f.gamma[c] - s.gamma[c]) / s.gamma[c];
                cov_ml += fabs(f.gamma_ml[c] - s.gamma[c]) <= 1.959964 * f.se_gamma_analytic[c];
                cov_bs += fabs(f.gamma[c] - s.gamma[c]) <= 1.959964 * f.se_gamma[c];
                total++;
            }
        }
        if (rc == 0) ls_result_free(f_r);
        lsf_data_view_free(&d);
        lsf_sim_free(&s);
    }
    double t = (double)total;
    printf("  anchor condition, %zu replications (n=%zu, q=%zu): own loadings' mean relative error ML %+.3f, "
           "bootstrap-corrected %+.3f; coverage analytic %.3f, bootstrap %.3f\n",
           reps, n, q, err_ml / t, err_bs / t, (double)cov_ml / t, (double)cov_bs / t);
    CHECK(total == reps * (q - 2));
    CHECK(err_ml / t > 0.02);                    /* the bias is there */
    CHECK(fabs(err_bs / t) < 0.5 * err_ml / t);  /* and mostly removed */
    CHECK((double)cov_bs / t > (double)cov_ml / t);
    CHECK((double)cov_bs / t > 0.9);
}

/* ---------------------------------------------------------------- */
/* Data from tables                                                  */
/* ---------------------------------------------------------------- */

static void data_errors_name_file_line_and_column(void)
{
    const char *csv = "id,g,Q1,Q2,Q3\n1,0,1,0,1\n2,1,1,NA,0\n3,1,2,0,1\n";
    ls_table *t;
    ls_error e;
    CHECK(ls_table_parse(csv, strlen(csv), "r.csv", &t, &e) == 0);
    ls_factor_data *d = NULL;
    int rc = ls_factor_data_build(t, "Q*", "g", NAN, LS_FACTOR_BERNOULLI, &d, &e);
    CHECK(rc == LS_ERR_INPUT);
    CHECK_MSG(strstr(e.message, "r.csv:4:3: column 'Q1'") != NULL, "%s", e.message);
    rc = ls_factor_data_build(t, "Q*", "g", 2, LS_FACTOR_BERNOULLI, &d, &e);
    CHECK(rc == 0);
    if (!rc) {
        CHECK(d->q == 3 && d->p == 1 && d->n == 3);
        CHECK(ls_resp_get(&d->R, 2, 0) == 1.0 && isnan(ls_resp_get(&d->R, 1, 1)) && d->R.nnz == 8);
        ls_factor_data_free(d);
    }
    CHECK(ls_factor_data_build(t, "Z*", NULL, NAN, 0, &d, &e) == LS_ERR_OPTION);
    CHECK(ls_factor_data_build(t, "Q1,Q2", "nope", NAN, 0, &d, &e) == LS_ERR_OPTION);
    CHECK(ls_factor_data_build(t, "Q*", NULL, NAN, LS_FACTOR_POISSON, &d, &e) == 0);
    ls_factor_data_free(d);
    ls_table_free(t);
    const char *csv2 = "g,Q1,Q2\n,1,0\n1,0,1\n";
    CHECK(ls_table_parse(csv2, strlen(csv2), "m.csv", &t, &e) == 0);
    CHECK(ls_factor_data_build(t, "Q1,Q2", "g", NAN, 0, &d, &e) == LS_ERR_INPUT);
    CHECK_MSG(strstr(e.message, "m.csv:2:1: column 'g': missing covariate") != NULL, "%s", e.message);
    ls_table_free(t);
}

/* A long table (one row per response, rows in any order) gives the wide
 * table's data; its errors name the file, line and column. */
static void long_tables_read_like_wide_ones(void)
{
    const char *wide = "id,g,Q1,Q2,Q3\np1,0,1,0,1\np2,1,1,,0\np3,1,0,0,1\n";
    const char *lng = "who,item,y,g\np2,Q3,0,1\np1,Q1,1,0\np1,Q2,0,0\np3,Q2,0,1\np2,Q1,1,1\np1,Q3,1,0\n"
                      "p3,Q1,0,1\np3,Q3,1,1\np2,Q2,,1\n";
    ls_table *tw = NULL, *tl = NULL;
    ls_error e;
    CHECK(ls_table_parse(wide, strlen(wide), "w.csv", &tw, &e) == 0);
    CHECK(ls_table_parse(lng, strlen(lng), "l.csv", &tl, &e) == 0);
    ls_factor_data *dw = NULL, *dl = NULL;
    CHECK(ls_factor_data_build(tw, "Q*", "g", NAN, LS_FACTOR_BERNOULLI, &dw, &e) == 0);
    int rc = ls_factor_data_build_long(tl, "who,item,y", "g", NAN, LS_FACTOR_BERNOULLI, &dl, &e);
    CHECK_MSG(rc == 0, "%s", e.message);
    if (dw && dl) {
        CHECK(dl->n == 3 && dl->q == 3 && dl->p == 1);
        /* persons and items in order of first appearance: p2 p1 p3, Q3 Q1 Q2 */
        const size_t pw[3] = {1, 0, 2}, iw[3] = {2, 0, 1};
        int same = 1;
        for (size_t i = 0; i < 3; i++) {
            same &= dl->X[i] == dw->X[pw[i]];
            for (size_t j = 0; j < 3; j++) {
                double a = ls_resp_get(&dl->R, i, j), b = ls_resp_get(&dw->R, pw[i], iw[j]);
                same &= (isnan(a) && isnan(b)) || a == b;
            }
        }
        CHECK(same);
        CHECK(strcmp(dl->items[0], "Q3") == 0 && dl->line[0] == 2 && dl->line[2] == 5);
    }
    ls_factor_data_free(dw);
    ls_factor_data_free(dl);
    dl = NULL;
    struct {
        const char *csv, *cols, *cov, *msg;
    } bad[] = {
        {"p,i,y\na,Q1,1\na,Q1,0\nb,Q2,1\n", "p,i,y", NULL, "x.csv:3: person 'a', item 'Q1': a second response"},
        {"p,i,y,g\na,Q1,1,0\na,Q2,0,1\nb,Q2,1,1\n", "p,i,y", "g", "x.csv:3:4: column 'g': person 'a' has 1 here and 0 on line 2"},
        {"p,i,y\na,Q1,2\na,Q2,0\n", "p,i,y", NULL, "x.csv:2:3: column 'y': expected 0 or 1"},
        {"p,i,y\na,Q1,1\na,Q1,0\n", "p,i,y", NULL, "at least 2 items"},
        {"p,i,y\na,Q1,1\n,Q2,0\n", "p,i,y", NULL, "x.csv:3:1: column 'p': empty person name"},
        {"p,i,y\na,Q1,1\nb,Q2,0\n", "p,i", NULL, "long: expected 3 columns"},
        {"p,i,y\na,Q1,1\nb,Q2,0\n", "p,i,z", NULL, "long: no response column 'z'"},
        {"p,i,y\na,Q1,1\nb,Q2,0\n", "p,i,p", NULL, "long: 'p' named as person and response"},
        {"p,i,y\na,Q1,1\nb,Q2,0\n", "p,i,y", "i", "covariates: 'i' is the item column"},
        {"p,i,y\na,Q1,1\nb,Q2,\n", "p,i,y", NULL, "item 'Q2': no observed responses"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        ls_table *t = NULL;
        CHECK(ls_table_parse(bad[k].csv, strlen(bad[k].csv), "x.csv", &t, &e) == 0);
        rc = ls_factor_data_build_long(t, bad[k].cols, bad[k].cov, NAN, LS_FACTOR_BERNOULLI, &dl, &e);
        CHECK_MSG(rc != 0 && dl == NULL && strstr(e.message, bad[k].msg), "case %zu: %s", k, e.message);
        ls_table_free(t);
    }
    ls_table_free(tw);
    ls_table_free(tl);
}

static void fit_json_is_written_and_reads_back(void)
{
    lsf_sim s;
    ls_error e;
    CHECK(lsf_simulate(200, 20, 1, 2, LS_FACTOR_BERNOULLI, 0.2, 1.0, 0.0, 9, &s, &e) == 0);
    ls_factor_data d = sim_data(&s);
    char *items[20], *covs[1] = {(char *)"x"};
    char names[20][8];
    for (int j = 0; j < 20; j++) {
        snprintf(names[j], sizeof names[j], "Q%d", j + 1);
        items[j] = names[j];
    }
    d.items = items;
    d.covariates = covs;
    ls_factor_options o;
    ls_factor_options_init(&o);
    o.factors = 2;
    o.identify = LS_FACTOR_ANCHOR;
    o.starts = 1;
    lsf_fit f;
    ls_result *f_r = NULL;
    lsf_dif dif;
    ls_result *dif_r = NULL;
    CHECK(run_fit(&d, &o, &f_r, &f, &e) == 0);
    CHECK(run_dif(f_r, 0.05, LS_FACTOR_BH, &dif_r, &dif, &e) == 0);
    const char *path = "test_factor_out.json";
    printf("  fit: converged %d after %u sweeps, %zu coefficients at the bound\n", f.converged, f.iterations, f.at_bound);
    CHECK(ls_factor_write_json(f_r, dif_r, NULL, path, "[\"factor\"]", &e) == 0);
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    CHECK(root != NULL);
    if (root) {
        CHECK(strcmp(json_string_value(json_object_get(root, "version")), LS_VERSION) == 0);
        CHECK(json_integer_value(json_object_get(root, "seed")) == 1);
        CHECK_NEAR(json_real_value(json_object_get(root, "loglik")), f.loglik, 1e-9 * fabs(f.loglik));
        json_t *L = json_object_get(json_object_get(root, "parameters"), "loadings");
        CHECK(json_array_size(L) == 20);
        CHECK(json_object_get(root, "dif") != NULL);
        /* anchor condition: the loadings' bootstrap by default, recorded */
        json_t *op = json_object_get(root, "options");
        CHECK(json_integer_value(json_object_get(op, "loading_bootstrap")) == (json_int_t)f.loading_bootstrap);
        CHECK(f.loading_bootstrap > 0);
        CHECK(json_is_true(json_object_get(op, "loadings_bias_corrected")));
        CHECK(json_object_get(json_object_get(root, "parameters"), "loadings_ml") != NULL);
        CHECK(json_object_get(json_object_get(root, "standard_errors"), "loadings_analytic") != NULL);
        json_decref(root);
    }
    remove(path);
    /* a directory as target fails with a message and writes nothing */
    CHECK(ls_factor_write_json(f_r, NULL, NULL, ".", NULL, &e) != 0);
    ls_result_free(dif_r);
    ls_result_free(f_r);
    lsf_data_view_free(&d);
    lsf_sim_free(&s);
}

static void options_are_checked_before_fitting(void)
{
    lsf_sim s;
    ls_error e;
    CHECK(lsf_simulate(50, 10, 1, 1, LS_FACTOR_BERNOULLI, 0.2, 1.0, 0.0, 9, &s, &e) == 0);
    ls_factor_data d = sim_data(&s);
    ls_factor_options o;
    ls_factor_options_init(&o);
    lsf_fit f;
    ls_result *f_r = NULL;
    o.factors = 10;
    CHECK(run_fit(&d, &o, &f_r, &f, &e) == LS_ERR_OPTION);
    o.factors = 2;
    size_t an[2] = {3, 3};
    o.anchors = an;
    CHECK(run_fit(&d, &o, &f_r, &f, &e) == LS_ERR_OPTION);
    o.anchors = NULL;
    o.bound = -1;
    CHECK(run_fit(&d, &o, &f_r, &f, &e) == LS_ERR_OPTION);
    lsf_data_view_free(&d);
    lsf_sim_free(&s);
}

/* The public handles: data from arrays with their accessors, the options'
 * checks naming fields, the fit's entries with their labels, and
 * ls_result_write writing the same file as ls_factor_write_json. */
static void results_and_data_handles_follow_the_convention(void)
{
    lsf_sim s;
    ls_error e = {0, ""};
    CHECK(lsf_simulate(150, 12, 1, 2, LS_FACTOR_BERNOULLI, 0.2, 1.0, 0.05, 13, &s, &e) == 0);
    const char *names[12] = {"A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L"};
    ls_factor_data *d = NULL;
    CHECK(ls_factor_data_new(s.n, s.q, s.p, s.Y, s.X, names, (const char *const[]){"age"}, &d, &e) == 0);
    if (!d) {
        lsf_sim_free(&s);
        return;
    }
    CHECK(ls_factor_data_npersons(d) == 150 && ls_factor_data_nitems(d) == 12 && ls_factor_data_ncovariates(d) == 1);
    CHECK(strcmp(ls_factor_data_item(d, 11), "L") == 0 && ls_factor_data_item(d, 12) == NULL);
    CHECK(strcmp(ls_factor_data_covariate(d, 0), "age") == 0 && ls_factor_data_source(d) == NULL);
    size_t an[2];
    CHECK(ls_factor_data_anchors(d, "B, K", 2, an, &e) == 0 && an[0] == 1 && an[1] == 10);
    CHECK(ls_factor_data_anchors(d, "B,Z", 2, an, &e) == LS_ERR_OPTION);
    CHECK_MSG(strcmp(e.message, "anchors: 'Z' is not one of the items") == 0, "%s", e.message);
    CHECK(ls_factor_data_anchors(d, "B", 2, an, &e) == LS_ERR_OPTION);
    CHECK_MSG(strcmp(e.message, "anchors: 1 names for 2 factors") == 0, "%s", e.message);
    ls_factor_options o;
    ls_factor_options_init(&o);
    CHECK(ls_factor_options_check(&o, &e) == 0);
    o.factors = 12;
    CHECK(ls_factor_options_check(&o, &e) == LS_ERR_OPTION);
    CHECK_MSG(strcmp(e.message, "factors: expected 1 to 10, got 12") == 0, "%s", e.message);
    o.factors = 2;
    o.max_iter = 0;
    CHECK(ls_factor_options_check(&o, &e) == LS_ERR_OPTION && strncmp(e.message, "max_iter: ", 10) == 0);
    o.max_iter = 60;
    o.loading_bootstrap = 100001;
    CHECK(ls_factor_options_check(&o, &e) == LS_ERR_OPTION && strncmp(e.message, "loading_bootstrap: ", 19) == 0);
    o.loading_bootstrap = -1;
    CHECK(ls_factor_dif_check(1.5, LS_FACTOR_BH, NULL, NULL, &e) == LS_ERR_OPTION);
    CHECK_MSG(strcmp(e.message, "alpha: expected a level in (0, 1)") == 0, "%s", e.message);
    o.skip_se = 1;
    CHECK(ls_factor_dif_check(0.05, LS_FACTOR_BH, d, &o, &e) == LS_ERR_OPTION && strncmp(e.message, "dif: ", 5) == 0);
    o.skip_se = 0;
    CHECK(ls_factor_dif_check(0.05, LS_FACTOR_BH, d, &o, &e) == 0);
    o.starts = 1;
    ls_result *r = NULL, *dif = NULL;
    CHECK_MSG(ls_factor_run(d, &o, &r, &e) == 0, "%s", e.message);
    if (r) {
        size_t rows, cols;
        CHECK(strcmp(ls_result_kind(r), "factor-fit") == 0);
        CHECK(ls_result_numbers(r, "loadings", &rows, &cols) && rows == 12 && cols == 2);
        CHECK(strcmp(ls_result_row_labels(r, "loadings"), "items") == 0);
        CHECK(strcmp(ls_result_col_labels(r, "loadings"), "factors") == 0);
        CHECK(ls_result_numbers(r, "beta", &rows, &cols) && rows == 12 && cols == 2);
        CHECK(strcmp(ls_result_col_labels(r, "beta"), "terms") == 0);
        CHECK(strcmp(ls_result_string(r, "terms", 0), "(intercept)") == 0);
        CHECK(strcmp(ls_result_string(r, "terms", 1), "age") == 0);
        CHECK(strcmp(ls_result_string(r, "factors", 1), "factor2") == 0);
        CHECK(strcmp(ls_result_string(r, "items", 3), "D") == 0);
        CHECK(ls_result_numbers(r, "scores", &rows, &cols) && rows == 150 && cols == 2);
        CHECK(ls_result_type(r, "source") == LS_ENTRY_NONE); /* data from arrays */
        CHECK(ls_result_type(r, "se_loadings") == LS_ENTRY_NUMBERS);
        CHECK(strcmp(ls_result_string(r, "identify", 0), "orthogonal") == 0);
        const lsf_fit *f = ls_result_payload(r, "factor-fit");
        CHECK(ls_result_number(r, "loglik") == f->loglik && ls_result_number(r, "n_obs") == (double)f->nobs);
        CHECK(ls_factor_dif_run(r, 0.05, LS_FACTOR_BONFERRONI, &dif, &e) == 0);
        CHECK(dif && ls_result_numbers(dif, "p_value", &rows, &cols) && rows == 12 && cols == 1);
        CHECK(dif && strcmp(ls_result_string(dif, "correction", 0), "bonferroni") == 0);
        CHECK(ls_result_write(dif, "x.json", NULL, NULL, &e) == LS_ERR_OPTION); /* no file of its own */
        /* the fit's writer is ls_factor_write_json without DIF tests and selection */
        char p1[64], p2[64];
        snprintf(p1, sizeof p1, "/tmp/test_factor_w1_%ld.json", (long)getpid());
        snprintf(p2, sizeof p2, "/tmp/test_factor_w2_%ld.json", (long)getpid());
        CHECK(ls_result_write(r, p1, NULL, "[\"x\"]", &e) == 0);
        CHECK(ls_factor_write_json(r, NULL, NULL, p2, "[\"x\"]", &e) == 0);
        FILE *a = fopen(p1, "rb"), *b = fopen(p2, "rb");
        int same = a && b;
        for (int ca = 0, cb = 0; same && ca != EOF;) {
            ca = fgetc(a);
            cb = fgetc(b);
            same = ca == cb;
        }
        CHECK(same);
        if (a) fclose(a);
        if (b) fclose(b);
        remove(p1);
        remove(p2);
        CHECK(ls_result_write(r, p1, "csv", NULL, &e) == LS_ERR_OPTION);
    }
    ls_result_free(dif);
    ls_result_free(r);
    /* responses that do not fit the family, rejected by the fit */
    s.Y[5] = 2;
    ls_factor_data *d2 = NULL;
    CHECK(ls_factor_data_new(s.n, s.q, 0, s.Y, NULL, NULL, NULL, &d2, &e) == 0);
    CHECK(ls_factor_run(d2, &o, &r, &e) == LS_ERR_INPUT && r == NULL);
    CHECK_MSG(strstr(e.message, "responses: person 1, item 6: expected 0 or 1") == e.message, "%s", e.message);
    CHECK(strcmp(ls_factor_data_item(d2, 0), "item1") == 0);
    ls_factor_data_free(d2);
    /* arrays that are not data */
    s.Y[5] = INFINITY;
    CHECK(ls_factor_data_new(s.n, s.q, 0, s.Y, NULL, NULL, NULL, &d2, &e) == LS_ERR_INPUT && d2 == NULL);
    CHECK(ls_factor_data_new(s.n, 1, 0, s.Y, NULL, NULL, NULL, &d2, &e) == LS_ERR_INPUT && d2 == NULL);
    ls_factor_data_free(d);
    lsf_sim_free(&s);
}

/* Every allocation of a fit, DIF and selection may fail: the call then
 * returns LS_ERR_NOMEM and frees everything (ASan checks the leaks). */
static void allocation_failures_are_reported_cleanly(void)
{
    lsf_sim s;
    ls_error e;
    CHECK(lsf_simulate(30, 8, 1, 1, LS_FACTOR_BERNOULLI, 0.2, 1.0, 0.1, 21, &s, &e) == 0);
    ls_factor_data d = sim_data(&s);
    ls_factor_options o;
    ls_factor_options_init(&o);
    o.starts = 2;
    o.max_iter = 5;
    size_t failures = 0, successes = 0;
    for (long k = 1; k < 400; k++) {
        lsf_fit f;
        ls_result *f_r = NULL;
        lsf_dif dif;
        ls_result *dif_r = NULL;
        lsf_selection sel;
        ls_result *sel_r = NULL;
        ls_fault_set(k);
        int rc = run_fit(&d, &o, &f_r, &f, &e);
        if (rc == 0) {
            int rd = run_dif(f_r, 0.05, LS_FACTOR_BH, &dif_r, &dif, &e);
            CHECK(rd == 0 || rd == LS_ERR_NOMEM);
            if (rd == 0) ls_result_free(dif_r);
            ls_result_free(f_r);
        }
        int rs = run_select(&d, &o, 1, 2, &sel_r, &sel, &e);
        ls_fault_set(0);
        CHECK(rc == 0 || rc == LS_ERR_NOMEM);
        CHECK(rs == 0 || rs == LS_ERR_NOMEM);
        if (rs == 0) ls_result_free(sel_r);
        if (rc == LS_ERR_NOMEM) failures++;
        else successes++;
    }
    CHECK(failures > 10 && successes > 0);
    lsf_data_view_free(&d);
    lsf_sim_free(&s);
}

/* ---------------------------------------------------------------- */
/* bfi                                                               */
/* ---------------------------------------------------------------- */

static void bfi_five_factors_under_the_anchor_condition(void)
{
    char buf[1024];
    const char *path = h_shared_data("bfi.csv", buf, sizeof buf);
    if (!path) return;
    ls_table *t;
    ls_error e;
    CHECK_MSG(ls_items_table_read(path, &t, &e) == 0, "%s", e.message);
    ls_factor_data *d = NULL;
    CHECK_MSG(ls_factor_data_build(t, "A*,C*,E*,N*,O*", NULL, 4, LS_FACTOR_BERNOULLI, &d, &e) == 0, "%s",
              e.message);
    ls_table_free(t);
    CHECK(d->n == 2800 && d->q == 25);
    ls_factor_options o;
    ls_factor_options_init(&o);
    o.factors = 5;
    o.identify = LS_FACTOR_ANCHOR;
    size_t an[5];
    const char *anames[5] = {"A2", "C1", "E3", "N1", "O1"};
    for (int k = 0; k < 5; k++)
        for (size_t j = 0; j < d->q; j++)
            if (strcmp(d->items[j], anames[k]) == 0) an[k] = j;
    o.anchors = an;
    /* plain joint ML is degenerate with 5 binary items per factor (persons
     * separate); the nuclear-norm ridge makes the fit well posed */
    o.ridge = 10;
    lsf_fit f;
    ls_result *f_r = NULL;
    double t0 = now();
    int rc = run_fit(d, &o, &f_r, &f, &e);
    CHECK_MSG(rc == 0, "%s", e.message);
    if (!rc) {
        printf("  bfi (2800 x 25, >= 4, 5 factors, anchors A2 C1 E3 N1 O1, ridge 10): %.1f s, %u sweeps, "
               "loglik %.2f, %u of %u starts at the best\n", now() - t0, f.iterations, f.loglik,
               f.starts_at_best, f.starts);
        /* each item loads most on its own scale (in absolute value) for most items */
        size_t own = 0;
        for (size_t j = 0; j < 25; j++) {
            size_t scale = j / 5, arg = 0;
            for (size_t k = 1; k < 5; k++)
                if (fabs(f.gamma[j * 5 + k]) > fabs(f.gamma[j * 5 + arg])) arg = k;
            own += arg == scale;
        }
        printf("  items loading most on their own scale: %zu of 25\n", own);
        CHECK(own >= 18);
        CHECK(f.converged);
        CHECK(f.starts_at_best == f.starts);
        printf("  factor correlations:\n");
        for (size_t a = 0; a < 5; a++) {
            printf("   ");
            for (size_t b = 0; b < 5; b++) printf(" %6.3f", f.factor_cor[a * 5 + b]);
            printf("\n");
        }
        ls_result_free(f_r);
    }
    ls_factor_data_free(d);
}

/* Too few persons for the factors and covariates (persons > factors +
 * covariates + 1) and constant items are refused with the counts and the
 * items named; 3 persons x 10 items with 2 factors and a covariate used to
 * fit, "converged", with standard errors 0.000 and 6e7. */
static void too_few_persons_and_constant_items_are_refused(void)
{
    const size_t q = 10;
    double X[5] = {0.3, -1.2, 0.6, 1.1, -0.4};
    double Y[5 * 10] = {0, 1, 1, 0, 1, 0, 1, 0, 0, 1, /* every item varies over the first 3 persons */
                        1, 0, 1, 1, 0, 1, 1, 0, 1, 0,
                        1, 1, 0, 0, 1, 0, 0, 1, 1, 1,
                        0, 0, 1, 1, 1, 0, 1, 1, 0, 0,
                        1, 1, 0, 1, 0, 1, 0, 0, 1, 1};
    ls_factor_options o;
    ls_factor_options_init(&o);
    o.factors = 2;
    for (size_t n = 3; n <= 5; n++) {
        ls_factor_data *d = NULL;
        ls_error e = {0, ""};
        CHECK(ls_factor_data_new(n, q, 1, Y, X, NULL, NULL, &d, &e) == LS_OK);
        ls_result *r = NULL;
        int rc = ls_factor_run(d, &o, &r, &e);
        if (n <= 4) {
            CHECK(rc == LS_ERR_OPTION);
            char want[256];
            snprintf(want, sizeof want, "factors: 2 factors and 1 covariate need more than 4 persons (persons > "
                     "factors + covariates + 1: each item's coefficients are estimated from them), found %zu", n);
            CHECK_MSG(strcmp(e.message, want) == 0, "%s", e.message);
        } else
            CHECK(rc == LS_OK || rc == LS_ERR_NUMERIC);
        ls_result_free(r);
        ls_factor_data_free(d);
    }
    /* item 4 constant (all 1), then items 4 and 9 (9 all 0) */
    for (int two = 0; two < 2; two++) {
        for (size_t i = 0; i < 5; i++) {
            Y[i * q + 3] = 1;
            if (two) Y[i * q + 8] = 0;
        }
        ls_factor_data *d = NULL;
        ls_error e = {0, ""};
        const char *names[10] = {"Q1", "Q2", "Q3", "Q4", "Q5", "Q6", "Q7", "Q8", "Q9", "Q10"};
        CHECK(ls_factor_data_new(5, q, 0, Y, NULL, names, NULL, &d, &e) == LS_OK);
        o.factors = 1;
        ls_result *r = NULL;
        CHECK(ls_factor_run(d, &o, &r, &e) == LS_ERR_INPUT);
        const char *want = two ? "responses: 2 columns have one observed response each ('Q4', 'Q9'); constant "
                                 "items carry no information: drop them from `items`"
                               : "responses: column 'Q4': every observed response is 1; a constant item carries no "
                                 "information: drop it from `items`";
        CHECK_MSG(strcmp(e.message, want) == 0, "%s", e.message);
        ls_result_free(r);
        ls_factor_data_free(d);
    }
}

/* Standard errors that are zero for an estimated coefficient, not finite,
 * or above 1e3 x the bound become NaN and are listed; those the anchor
 * condition fixes keep their 0; usable ones are untouched. */
static int has_warning(const ls_result *r, const char *text)
{
    for (size_t i = 0; i < ls_result_nwarnings(r); i++)
        if (strstr(ls_result_warning(r, i), text)) return 1;
    return 0;
}

/* What a fit cannot say is marked, not printed as an estimate: the effects
 * the min-L1 condition sets to 0 are not DIF tests (p NaN, out of the
 * correction, "effect_fixed"); a person with no responses has no factor
 * score (NaN, with a warning); a fit that did not converge gets no
 * bootstrap bias correction (and a warning saying so). */
static void untestable_effects_empty_persons_and_unconverged_bootstraps_are_marked(void)
{
    lsf_sim s;
    ls_error e;
    const size_t n = 300, q = 30, p = 2, r = 1;
    CHECK(lsf_simulate(n, q, p, r, LS_FACTOR_BERNOULLI, 0.2, 1.0, 0.0, 11, &s, &e) == 0);
    for (size_t j = 0; j < q; j++) s.Y[0 * q + j] = NAN; /* person 0 answered nothing */
    ls_factor_data d = sim_data(&s);
    ls_factor_options o;
    ls_factor_options_init(&o);
    o.factors = r;
    o.starts = 1;
    lsf_fit f;
    ls_result *fr = NULL, *dr = NULL;
    lsf_dif dif;
    CHECK(run_fit(&d, &o, &fr, &f, &e) == 0);
    if (fr) {
        CHECK(f.n_empty == 1 && has_warning(fr, "1 person has no responses"));
        CHECK(isnan(f.U[0]) && isnan(f.se_U[0]) && !isnan(f.U[1]) && f.se_U[1] > 0);
        CHECK(run_dif(fr, 0.05, LS_FACTOR_BH, &dr, &dif, &e) == 0);
        const double *fx = ls_result_numbers(fr, "effect_fixed", NULL, NULL);
        size_t nfixed = 0, nnan = 0;
        for (size_t c = 0; dr && fx && c < q * p; c++) {
            nfixed += fx[c] != 0;
            nnan += isnan(dif.pvalue[c]);
            CHECK((fx[c] != 0) == isnan(dif.pvalue[c]));
            if (fx[c] != 0) CHECK(dif.flag[c] == 0 && fabs(f.beta[(c / p) * (p + 1) + 1 + c % p]) < 1e-9);
        }
        printf("  %zu of %zu effects fixed by min-L1 (r = %zu per covariate at least), none tested\n", nfixed, q * p, r);
        CHECK(nfixed >= r * p && nfixed == nnan);
    }
    ls_result_free(dr);
    ls_result_free(fr);
    /* anchored, stopped after 3 sweeps: no bootstrap (50 by default) */
    o.identify = LS_FACTOR_ANCHOR;
    o.max_iter = 3;
    CHECK(run_fit(&d, &o, &fr, &f, &e) == 0);
    if (fr) {
        CHECK(!f.converged && f.bootstrap_skipped == 50 && f.loading_bootstrap == 0 && f.gamma_ml == NULL);
        CHECK(has_warning(fr, "bootstrap bias correction (50 replicates) was not run: the fit did not converge"));
    }
    ls_result_free(fr);
    lsf_data_view_free(&d);
    lsf_sim_free(&s);
}

/* Anchors whose loading vectors nearly point the same way are named in a
 * warning; orthogonal-ish anchors are not. */
static void nearly_collinear_anchors_are_flagged(void)
{
    lsf_sim s;
    ls_error e;
    const size_t n = 500, q = 40, r = 2;
    CHECK(lsf_simulate(n, q, 0, r, LS_FACTOR_BERNOULLI, 0.2, 1.0, 0.0, 21, &s, &e) == 0);
    ls_factor_data d = sim_data(&s);
    ls_factor_options o;
    ls_factor_options_init(&o);
    o.factors = r;
    o.starts = 1;
    o.loading_bootstrap = 0;
    lsf_fit f;
    ls_result *fr = NULL;
    CHECK(run_fit(&d, &o, &fr, &f, &e) == 0);
    /* the most and the least collinear pair of the orthogonal solution */
    size_t hi[2] = {0, 1}, lo[2] = {0, 1};
    double chi = -1, clo = 2;
    for (size_t j = 0; fr && j < q; j++)
        for (size_t k = j + 1; k < q; k++) {
            const double *a = f.gamma + j * r, *b = f.gamma + k * r;
            double c = fabs(a[0] * b[0] + a[1] * b[1]) / sqrt((a[0] * a[0] + a[1] * a[1]) * (b[0] * b[0] + b[1] * b[1]));
            if (c > chi && c < 0.999) chi = c, hi[0] = j, hi[1] = k;
            if (c < clo) clo = c, lo[0] = j, lo[1] = k;
        }
    ls_result_free(fr);
    o.identify = LS_FACTOR_ANCHOR;
    for (int t = 0; t < 2; t++) {
        o.anchors = t ? lo : hi;
        CHECK(run_fit(&d, &o, &fr, &f, &e) == 0);
        int w = fr && has_warning(fr, "loading vectors are nearly collinear");
        printf("  anchors %zu,%zu (|cos| %.3f in the orthogonal solution): smallest Gram eigenvalue %.3f, warned %d\n",
               o.anchors[0], o.anchors[1], t ? clo : chi, f.anchor_gram_min, w);
        CHECK(w == (t == 0));
        ls_result_free(fr);
    }
    lsf_data_view_free(&d);
    lsf_sim_free(&s);
}

/* A ridge that erases factors says so; a mild one does not. */
static void a_ridge_that_erases_factors_is_named(void)
{
    lsf_sim s;
    ls_error e;
    CHECK(lsf_simulate(300, 20, 0, 2, LS_FACTOR_BERNOULLI, 0.2, 1.0, 0.0, 5, &s, &e) == 0);
    ls_factor_data d = sim_data(&s);
    ls_factor_options o;
    ls_factor_options_init(&o);
    o.factors = 2;
    o.starts = 1;
    const double ridge[2] = {0.5, 1000};
    for (int t = 0; t < 2; t++) {
        o.ridge = ridge[t];
        lsf_fit f;
        ls_result *fr = NULL;
        CHECK(run_fit(&d, &o, &fr, &f, &e) == 0);
        double mx = 0;
        for (size_t c = 0; fr && c < 20 * 2; c++) mx = fmax(mx, fabs(f.gamma[c]));
        int w = fr && has_warning(fr, "erased factors 1, 2");
        printf("  ridge %g: largest |loading| %.3f, warned %d\n", ridge[t], mx, w);
        CHECK(w == (t == 1));
        ls_result_free(fr);
    }
    lsf_data_view_free(&d);
    lsf_sim_free(&s);
}

static void unusable_standard_errors_become_nan(void)
{
    lsf_fit f;
    memset(&f, 0, sizeof f);
    size_t anchors[2] = {0, 1};
    double se_g[6] = {0.5, 0, 0, 0, INFINITY, 1e7};        /* (0,1), (1,0) fixed; (1,1), (2,0), (2,1) bad */
    double se_b[6] = {0.2, 0.3, NAN, 0.4, 4000, 0};        /* (1,0) and (2,1) bad; 4000 < 5000 kept */
    double se_u[4] = {0.1, 0, 0.2, 0.3};
    f.n = 2;
    f.q = 3;
    f.p = 1;
    f.r = 2;
    f.identify = LS_FACTOR_ANCHOR;
    f.anchors = anchors;
    f.bound = 5;
    f.se_gamma = se_g;
    f.se_beta = se_b;
    f.se_U = se_u;
    CHECK(lsf_unusable_se(&f) == 0);
    CHECK(se_g[0] == 0.5 && se_g[1] == 0 && se_g[2] == 0);
    CHECK(isnan(se_g[3]) && isnan(se_g[4]) && isnan(se_g[5]));
    CHECK(se_b[0] == 0.2 && se_b[1] == 0.3 && se_b[3] == 0.4 && se_b[4] == 4000);
    CHECK(isnan(se_b[2]) && isnan(se_b[5]));
    CHECK(f.nse_bad == 5);
    size_t want[5] = {3, 6 + 2, 4, 5, 6 + 5}; /* item by item: loadings, then (1, x) */
    for (size_t b = 0; b < 5 && b < f.nse_bad; b++) CHECK(f.se_bad[b] == want[b]);
    CHECK(f.nse_bad_scores == 1 && isnan(se_u[1]));
    ls_free(f.se_bad);
}

int main(int argc, char **argv)
{
    quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    RUN(cell_derivatives_match_finite_differences);
    RUN(unit_derivatives_match_finite_differences);
    RUN(weighted_median_minimises_weighted_absolute_deviation);
    RUN(lad_solver_is_exact_against_brute_force);
    RUN(benjamini_hochberg_matches_the_step_up_rule);
    RUN(untested_hypotheses_are_left_out_of_the_correction);
    RUN(untestable_effects_empty_persons_and_unconverged_bootstraps_are_marked);
    RUN(nearly_collinear_anchors_are_flagged);
    RUN(a_ridge_that_erases_factors_is_named);
    RUN(data_errors_name_file_line_and_column);
    RUN(long_tables_read_like_wide_ones);
    RUN(sparse_long_data_are_fitted_from_the_observed_cells);
    RUN(options_are_checked_before_fitting);
    RUN(too_few_persons_and_constant_items_are_refused);
    RUN(unusable_standard_errors_become_nan);
    RUN(fit_json_is_written_and_reads_back);
    RUN(results_and_data_handles_follow_the_convention);
    RUN(allocation_failures_are_reported_cleanly);
    RUN(bernoulli_fit_recovers_the_truth);
    RUN(every_family_recovers_covariate_effects);
    RUN(ridge_recovers_short_tests);
    RUN(identification_conditions_hold_and_threads_do_not_matter);
    RUN(intervals_cover_and_dif_tests_hold_their_size);
    RUN(loading_bootstrap_corrects_bias_and_covers);
    if (!quick) RUN(bfi_five_factors_under_the_anchor_condition);
    return h_finish();
}
