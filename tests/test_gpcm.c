/*
 * test_gpcm.c -- the multidimensional generalized partial credit model
 * (models/gpcm, tasks/gpcm_*): binary items reproduce an independent direct
 * implementation of the multidimensional 2PL GVEM updates; the full lower
 * bound never decreases (confirmatory and exploratory) and stays below the
 * marginal log-likelihood; the MML gradient matches finite differences;
 * recovery on the spec's simulation against MML; the public API (data,
 * patterns, errors, JSON); the promax Jacobian and the rotated standard
 * errors (two step sizes, near-identity rotation, spread over simulated
 * replications); the warning for unobserved categories; bfi; the local
 * step's exponential and the blocked cross-product of the standard errors
 * against exp and CBLAS.  `--quick`
 * leaves out the slow parts.
 */
#include "latentscale.h"
#include "harness.h"
#include "gpcm/model.h"
#include "kernel/linalg.h"
#include "kernel/result.h"

#include <gsl/gsl_cblas.h>
#include <jansson.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static int quick = 0;

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---------------------------------------------------------------- */
/* Independent 2PL GVEM (Cho, Wang, Zhang and Xu 2021, M2PL):          */
/* P(y = 1) = logistic(a'theta - b), plain loops, Gauss-Jordan inverse */
/* ---------------------------------------------------------------- */

static void gj_inverse(double *A, size_t n, double *inv)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) inv[i * n + j] = i == j;
    for (size_t c = 0; c < n; c++) {
        size_t piv = c;
        for (size_t r = c + 1; r < n; r++)
            if (fabs(A[r * n + c]) > fabs(A[piv * n + c])) piv = r;
        for (size_t j = 0; j < n; j++) {
            double t = A[c * n + j];
            A[c * n + j] = A[piv * n + j];
            A[piv * n + j] = t;
            t = inv[c * n + j];
            inv[c * n + j] = inv[piv * n + j];
            inv[piv * n + j] = t;
        }
        double d = A[c * n + c];
        for (size_t j = 0; j < n; j++) {
            A[c * n + j] /= d;
            inv[c * n + j] /= d;
        }
        for (size_t r = 0; r < n; r++)
            if (r != c) {
                double f = A[r * n + c];
                for (size_t j = 0; j < n; j++) {
                    A[r * n + j] -= f * A[c * n + j];
                    inv[r * n + j] -= f * inv[c * n + j];
                }
            }
    }
}

typedef struct m2pl {
    size_t N, J, K;
    const int *Y, *Q;
    double a[60 * 3], b[60], sigma[9], mu[400 * 3], S[400 * 9], eta[400 * 60];
} m2pl;

static double jj_eta(double xi) { return xi < 1e-4 ? 0.125 : tanh(xi / 2) / (4 * xi); }

static void m2pl_xi(m2pl *s)
{
    const size_t K = s->K;
    for (size_t i = 0; i < s->N; i++)
        for (size_t j = 0; j < s->J; j++) {
            const double *a = s->a + j * K, *m = s->mu + i * K, *S = s->S + i * K * K;
            double am = 0, q = 0;
            for (size_t p = 0; p < K; p++) {
                am += a[p] * m[p];
                for (size_t r = 0; r < K; r++) q += a[p] * (S[p * K + r] + m[p] * m[r]) * a[r];
            }
            double xi2 = s->b[j] * s->b[j] - 2 * s->b[j] * am + q;
            s->eta[i * s->J + j] = jj_eta(sqrt(xi2));
        }
}

static void m2pl_iterate(m2pl *s)
{
    const size_t N = s->N, J = s->J, K = s->K;
    double si[9], tmp[9];
    memcpy(tmp, s->sigma, sizeof tmp);
    gj_inverse(tmp, K, si);
    for (size_t i = 0; i < N; i++) { /* E-step */
        double P[9], r[3] = {0, 0, 0};
        memcpy(P, si, sizeof P);
        for (size_t j = 0; j < J; j++) {
            const double *a = s->a + j * K, e = s->eta[i * J + j];
            const double c = s->Y[i * J + j] - 0.5 + 2 * e * s->b[j];
            for (size_t p = 0; p < K; p++) {
                r[p] += c * a[p];
                for (size_t q = 0; q < K; q++) P[p * K + q] += 2 * e * a[p] * a[q];
            }
        }
        gj_inverse(P, K, s->S + i * K * K);
        for (size_t p = 0; p < K; p++) {
            s->mu[i * K + p] = 0;
            for (size_t q = 0; q < K; q++) s->mu[i * K + p] += s->S[i * K * K + p * K + q] * r[q];
        }
    }
    double sg[9] = {0};
    for (size_t i = 0; i < N; i++)
        for (size_t p = 0; p < K * K; p++)
            sg[p] += (s->S[i * K * K + p] + s->mu[i * K + p / K] * s->mu[i * K + p % K]) / (double)N;
    double d[3];
    for (size_t p = 0; p < K; p++) d[p] = sqrt(sg[p * K + p]);
    for (size_t p = 0; p < K; p++)
        for (size_t q = 0; q < K; q++) s->sigma[p * K + q] = sg[p * K + q] / (d[p] * d[q]);
    for (size_t j = 0; j < J; j++)
        for (size_t p = 0; p < K; p++) s->a[j * K + p] *= d[p];
    for (size_t i = 0; i < N; i++)
        for (size_t p = 0; p < K; p++) {
            s->mu[i * K + p] /= d[p];
            for (size_t q = 0; q < K; q++) s->S[i * K * K + p * K + q] /= d[p] * d[q];
        }
    for (size_t j = 0; j < J; j++) { /* slopes on the loaded dimensions */
        size_t f[3], nf = 0;
        for (size_t p = 0; p < K; p++)
            if (s->Q[j * K + p]) f[nf++] = p;
        double M[9] = {0}, r[3] = {0, 0, 0}, Mi[9];
        for (size_t i = 0; i < N; i++) {
            const double e = s->eta[i * J + j], *m = s->mu + i * K, *S = s->S + i * K * K;
            const double c = s->Y[i * J + j] - 0.5 + 2 * e * s->b[j];
            for (size_t p = 0; p < nf; p++) {
                r[p] += c * m[f[p]];
                for (size_t q = 0; q < nf; q++) M[p * nf + q] += e * (S[f[p] * K + f[q]] + m[f[p]] * m[f[q]]);
            }
        }
        gj_inverse(M, nf, Mi);
        for (size_t p = 0; p < nf; p++) {
            double v = 0;
            for (size_t q = 0; q < nf; q++) v += Mi[p * nf + q] * r[q];
            s->a[j * K + f[p]] = 0.5 * v;
        }
    }
    for (size_t j = 0; j < J; j++) { /* intercepts */
        double num = 0, den = 0;
        for (size_t i = 0; i < N; i++) {
            const double e = s->eta[i * J + j];
            double am = 0;
            for (size_t p = 0; p < K; p++) am += s->a[j * K + p] * s->mu[i * K + p];
            num += 0.5 - s->Y[i * J + j] + 2 * e * am;
            den += 2 * e;
        }
        s->b[j] = num / den;
    }
    m2pl_xi(s);
}

static void test_eta(void)
{
    CHECK_NEAR(lsg_eta(0), 0.125, 1e-15);
    CHECK_NEAR(lsg_eta(1e-5), 0.125, 1e-10);
    CHECK_NEAR(lsg_eta(2.0), tanh(1.0) / 8.0, 1e-15);
    CHECK_NEAR(lsg_eta(-2.0), lsg_eta(2.0), 0);
    CHECK_NEAR(lsg_eta(0.99e-4), tanh(0.99e-4 / 2) / (4 * 0.99e-4), 1e-15);
}

static void test_binary_reproduces_m2pl(void)
{
    lsg_sim sim;
    ls_error e = {0, ""};
    const size_t N = 400, J = 24, K = 3;
    CHECK(lsg_simulate(N, J, K, 2, 2, 0.0, 11, &sim, &e) == 0);
    lsg_model m;
    CHECK(lsg_init(&m, N, J, K, sim.Y, sim.P, sim.pattern, 0, 2, &e) == 0);
    static m2pl ref;
    ref.N = N, ref.J = J, ref.K = K, ref.Y = sim.Y, ref.Q = sim.pattern;
    double b[60 * 2];
    for (size_t j = 0; j < J; j++) {
        ref.b[j] = 0.3 * ((double)j / J - 0.5);
        b[2 * j] = 0, b[2 * j + 1] = ref.b[j];
        for (size_t k = 0; k < K; k++) ref.a[j * K + k] = sim.pattern[j * K + k] ? 1.0 : 0.0;
    }
    double I3[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
    memcpy(ref.sigma, I3, sizeof I3);
    lsg_set(&m, ref.a, b, I3);
    CHECK(lsg_start(&m, &e) == 0);
    for (size_t i = 0; i < N; i++) {
        memset(ref.mu + i * K, 0, K * sizeof(double));
        memcpy(ref.S + i * K * K, I3, sizeof I3);
    }
    m2pl_xi(&ref);
    double worst = 0;
    for (int it = 0; it < 8; it++) {
        CHECK(lsg_iterate(&m, NULL, &e) == 0);
        m2pl_iterate(&ref);
    }
    for (size_t c = 0; c < J * K; c++) worst = fmax(worst, fabs(m.a[c] - ref.a[c]));
    for (size_t j = 0; j < J; j++) worst = fmax(worst, fabs(m.b[m.off[j] + 1] - ref.b[j]));
    for (size_t c = 0; c < K * K; c++) worst = fmax(worst, fabs(m.sigma[c] - ref.sigma[c]));
    for (size_t c = 0; c < N * K; c++) worst = fmax(worst, fabs(m.mu[c] - ref.mu[c]));
    for (size_t c = 0; c < N * K * K; c++) worst = fmax(worst, fabs(m.S[c] - ref.S[c]));
    for (size_t i = 0; i < N; i++)
        for (size_t j = 0; j < J; j++) {
            int y = sim.Y[i * J + j];
            worst = fmax(worst, fabs(lsg_eta_at(&m, i, j)[y ? 0 : 1] - ref.eta[i * J + j]));
        }
    printf("  binary items, 8 iterations: largest difference from the direct M2PL GVEM %.2e\n", worst);
    CHECK_MSG(worst < 1e-10, "worst %g", worst);
    lsg_free(&m);
    lsg_sim_free(&sim);
}

/* Lower bound traced over iterations: never decreases; ends below the
 * marginal log-likelihood (quadrature). */
static void check_monotone(int exploratory, size_t K, unsigned iters)
{
    lsg_sim sim;
    ls_error e = {0, ""};
    const size_t N = 300, J = 18;
    CHECK(lsg_simulate(N, J, K, 4, 6, 0.1, 5 + K, &sim, &e) == 0);
    int *pat = malloc(J * K * sizeof *pat);
    for (size_t j = 0; j < J; j++)
        for (size_t k = 0; k < K; k++) pat[j * K + k] = exploratory ? !(j < K && k > j) : sim.pattern[j * K + k];
    lsg_model m;
    CHECK(lsg_init(&m, N, J, K, sim.Y, sim.P, pat, exploratory, 2, &e) == 0);
    double *a = malloc(J * K * sizeof *a);
    for (size_t c = 0; c < J * K; c++) a[c] = pat[c] ? 0.8 + 0.1 * (double)(c % 3) : 0;
    lsg_set(&m, a, NULL, NULL);
    CHECK(lsg_start(&m, &e) == 0);
    double prev = m.elbo, worst = 0, first = m.elbo;
    unsigned bad = 0;
    for (unsigned it = 0; it < iters; it++) {
        /* each block separately: every update must not decrease the bound */
        int rc = lsg_estep(&m, &e) || lsg_sigma_step(&m, &e) || lsg_slope_step(&m, &e) ||
                 lsg_step_step(&m, &e) || lsg_local_step(&m, &e);
        CHECK(rc == 0);
        double drop = prev - m.elbo;
        if (drop > 1e-9 * fabs(prev)) bad++;
        worst = fmax(worst, drop);
        prev = m.elbo;
    }
    printf("  %s K=%zu: ELBO %.4f -> %.4f over %u iterations, largest decrease %.2e\n",
           exploratory ? "exploratory" : "confirmatory", K, first, m.elbo, iters, worst > 0 ? worst : 0.0);
    CHECK_MSG(bad == 0, "%u decreases, worst %g", bad, worst);
    /* the bound is below the marginal log-likelihood */
    double ll;
    CHECK(lsg_marginal(&m, K <= 2 ? 15 : 7, &ll, NULL, NULL, NULL, NULL, &e) == 0);
    printf("  ELBO %.4f <= marginal log-likelihood %.4f\n", m.elbo, ll);
    CHECK(m.elbo <= ll);
    free(a);
    free(pat);
    lsg_free(&m);
    lsg_sim_free(&sim);
}

static void test_elbo_monotone(void)
{
    check_monotone(0, 3, quick ? 40 : 150);
    check_monotone(1, 2, quick ? 40 : 150);
    check_monotone(0, 1, 30);
}

/* The updates from the sums taken during the person passes (E-step sums
 * rescaled by the Sigma step, the local step's Hessians, the E-step run by
 * the local step's pass) against the same updates with every sum taken
 * directly (m->stats cleared before each step). */
static void check_sums_direct(int exploratory, size_t K)
{
    lsg_sim sim;
    ls_error e = {0, ""};
    const size_t N = 250, J = 16;
    CHECK(lsg_simulate(N, J, K, 3, 5, 0.1, 21 + K, &sim, &e) == 0);
    int *pat = malloc(J * K * sizeof *pat);
    for (size_t j = 0; j < J; j++)
        for (size_t k = 0; k < K; k++) pat[j * K + k] = exploratory ? !(j < K && k > j) : sim.pattern[j * K + k];
    lsg_model m1, m2;
    CHECK(lsg_init(&m1, N, J, K, sim.Y, sim.P, pat, exploratory, 2, &e) == 0);
    CHECK(lsg_init(&m2, N, J, K, sim.Y, sim.P, pat, exploratory, 1, &e) == 0);
    double *a = malloc(J * K * sizeof *a);
    for (size_t c = 0; c < J * K; c++) a[c] = pat[c] ? 0.7 + 0.1 * (double)(c % 4) : 0;
    lsg_set(&m1, a, NULL, NULL);
    lsg_set(&m2, a, NULL, NULL);
    CHECK(lsg_start(&m1, &e) == 0);
    CHECK(lsg_start(&m2, &e) == 0);
    int used = 0;
    for (int it = 0; it < 25; it++) {
        used += (m1.stats & LSG_STATS_P) != 0;
        CHECK(lsg_iterate(&m1, NULL, &e) == 0);
        int rc = 0;
        m2.stats = 0;
        rc |= lsg_estep(&m2, &e);
        m2.stats = 0;
        rc |= lsg_sigma_step(&m2, &e) || lsg_slope_step(&m2, &e) || lsg_step_step(&m2, &e) || lsg_local_step(&m2, &e);
        CHECK(rc == 0);
    }
    double worst = 0;
    for (size_t c = 0; c < J * K; c++) worst = fmax(worst, fabs(m1.a[c] - m2.a[c]));
    for (size_t c = 0; c < m1.T; c++) worst = fmax(worst, fabs(m1.b[c] - m2.b[c]));
    for (size_t c = 0; c < K * K; c++) worst = fmax(worst, fabs(m1.sigma[c] - m2.sigma[c]));
    for (size_t c = 0; c < N * K; c++) worst = fmax(worst, fabs(m1.mu[c] - m2.mu[c]));
    for (size_t c = 0; c < N * K * K; c++) worst = fmax(worst, fabs(m1.S[c] - m2.S[c]));
    const double de = fabs(m1.elbo - m2.elbo) / fabs(m2.elbo);
    printf("  %s K=%zu, 25 iterations: sums from the person passes vs direct: largest difference %.2e, ELBO %.2e relative\n",
           exploratory ? "exploratory" : "confirmatory", K, worst, de);
    CHECK_MSG(used == 25, "the local step's E-step was used in %d of 25 iterations", used);
    CHECK_MSG(worst < 1e-9, "worst %g", worst);
    CHECK_MSG(de < 1e-12, "ELBO %.17g vs %.17g", m1.elbo, m2.elbo);
    free(a);
    free(pat);
    lsg_free(&m1);
    lsg_free(&m2);
    lsg_sim_free(&sim);
}

static void test_sums_direct(void)
{
    check_sums_direct(0, 3);
    check_sums_direct(1, 2);
    check_sums_direct(0, 1);
}

/* The quadrature's product path (e^{a'z} from per-item tables) against one
 * exponential per node (q.nidx cleared): log-likelihoods and gradients,
 * with and without shifts. */
static void test_quad_tables(void)
{
    lsg_sim sim;
    ls_error e = {0, ""};
    const size_t N = 60, J = 10, K = 3;
    CHECK(lsg_simulate(N, J, K, 2, 5, 0.1, 7, &sim, &e) == 0);
    lsg_model m;
    CHECK(lsg_init(&m, N, J, K, sim.Y, sim.P, sim.pattern, 0, 1, &e) == 0);
    double sig[9] = {1, 0.3, 0.2, 0.3, 1, 0.4, 0.2, 0.4, 1}, L[9], si[9];
    lsg_set(&m, sim.a, sim.b, sig);
    CHECK(lsg_start(&m, &e) == 0);
    CHECK(lsg_estep(&m, &e) == 0);
    memcpy(L, sig, sizeof L);
    CHECK(ls_chol(L, K) == 0);
    ls_chol_inverse(L, K, si);
    const double ld = 2 * ls_chol_logdet_half(L, K);
    for (unsigned nodes = 3; nodes <= 7; nodes += 4) {
        lsg_quad q;
        CHECK(lsg_quad_init(&q, &m, nodes, &e) == 0);
        CHECK(q.nidx != NULL);
        double *w = malloc(lsg_quad_work(&q) * sizeof *w), sh[10], gsh[2][10];
        double *ga = malloc(2 * J * K * sizeof *ga), *gb = malloc(2 * m.T * sizeof *gb), gs[2][9];
        double worst = 0;
        for (size_t i = 0; i < N; i++) {
            for (size_t j = 0; j < J; j++) sh[j] = 0.1 * (double)((i + j) % 5) - 0.2;
            double ll[2], pm[2][3], pc[2][9];
            for (int path = 0; path < 2; path++) {
                unsigned *keep = q.nidx;
                if (path) q.nidx = NULL;
                ll[path] = lsg_quad_person(&q, i, m.a, m.b, i % 2 ? sh : NULL, i % 2 ? gsh[path] : NULL, si, ld,
                                           ga + path * J * K, gb + path * m.T, gs[path], pm[path], pc[path], w);
                q.nidx = keep;
            }
            worst = fmax(worst, fabs(ll[0] - ll[1]) / (1 + fabs(ll[1])));
            for (size_t c = 0; c < J * K; c++) worst = fmax(worst, fabs(ga[c] - ga[J * K + c]));
            for (size_t c = 0; c < m.T; c++) worst = fmax(worst, fabs(gb[c] - gb[m.T + c]));
            for (size_t c = 0; c < K * K; c++) worst = fmax(worst, fabs(gs[0][c] - gs[1][c]));
            for (size_t c = 0; c < K; c++) worst = fmax(worst, fabs(pm[0][c] - pm[1][c]));
            if (i % 2)
                for (size_t j = 0; j < J; j++) worst = fmax(worst, fabs(gsh[0][j] - gsh[1][j]));
        }
        printf("  %u nodes per dimension: product tables vs one exponential per node: largest difference %.2e\n", nodes,
               worst);
        CHECK_MSG(worst < 1e-11, "worst %g", worst);
        free(w);
        free(ga);
        free(gb);
        lsg_quad_free(&q);
    }
    lsg_free(&m);
    lsg_sim_free(&sim);
}

/* Analytic gradient of the quadrature log-likelihood against central
 * differences, at fixed nodes. */
/* The local step's exponential (lsg_exp_neg) is within 2 ulp of exp on
 * [-700, 0]: a grid, the reduction's boundaries (n ln 2 +- ln 2 / 2) and
 * the ends. */
static void test_exp_neg(void)
{
    double worst = 0;
    size_t n = 0;
    for (size_t s = 0; s <= 2000000; s++) {
        double x = -700.0 * (double)s / 2000000.0;
        if (s % 3 == 1) x = -0.6931471805599453 * (double)(s % 1009) - 0.34657359027997264;
        if (s % 3 == 2) x = -1e-300 * (double)(s % 7) - 1e-17 * (double)(s % 11);
        const double e = exp(x), g = lsg_exp_neg(x);
        const double ulp = nextafter(e, INFINITY) - e;
        if (fabs(g - e) / ulp > worst) worst = fabs(g - e) / ulp;
        n++;
    }
    CHECK_MSG(worst <= 2.0, "worst error %.3g ulp over %zu points", worst, n);
    CHECK(lsg_exp_neg(0.0) == 1.0);
    CHECK(lsg_exp_neg(-700.0) > 0 && fabs(lsg_exp_neg(-700.0) / exp(-700.0) - 1) < 1e-15);
    printf("  exp_neg: worst %.3g ulp over %zu points\n", worst, n);
}

/* The blocked cross-product behind the standard errors' information
 * (ls_gemm with A'A of a tall A) equals CBLAS's dgemm bit for bit: odd
 * sizes (partial tiles, rows not a multiple of four), exact zeros and
 * negative values, and two thread counts. */
static void test_crossprod_blocked(void)
{
    const size_t m = 301, k = 1203;
    double *A = malloc(m * k * sizeof *A), *C = malloc(m * m * sizeof *C), *R = malloc(m * m * sizeof *R);
    uint64_t st = 12345;
    for (size_t x = 0; x < m * k; x++) {
        st = st * 6364136223846793005ULL + 1442695040888963407ULL;
        const double u = (double)(st >> 11) / 9007199254740992.0;
        A[x] = (st >> 7) % 5 == 0 ? 0.0 : (u - 0.4) * (1.0 + (double)(x % 7));
    }
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)m, (int)m, (int)k, 1.0, A, (int)m, A, (int)m, 0.0,
                R, (int)m);
    const int nt0 = omp_get_max_threads();
    for (int nt = 1; nt <= 2; nt++) {
        omp_set_num_threads(nt);
        for (size_t x = 0; x < m * m; x++) C[x] = NAN;
        ls_gemm(1, 0, m, m, k, A, A, C);
        size_t diff = 0;
        for (size_t x = 0; x < m * m; x++) diff += memcmp(&C[x], &R[x], sizeof *C) != 0;
        CHECK_MSG(diff == 0, "%zu of %zu entries differ from CBLAS with %d threads", diff, m * m, nt);
    }
    omp_set_num_threads(nt0);
    A[7] = INFINITY; /* not finite: CBLAS itself */
    ls_gemm(1, 0, m, m, k, A, A, C);
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)m, (int)m, (int)k, 1.0, A, (int)m, A, (int)m, 0.0,
                R, (int)m);
    size_t same = 0;
    for (size_t x = 0; x < m * m; x++) same += memcmp(&C[x], &R[x], sizeof *C) == 0;
    CHECK(same == m * m);
    free(A);
    free(C);
    free(R);
}

static void test_mml_gradient(void)
{
    lsg_sim sim;
    ls_error e = {0, ""};
    const size_t N = 40, J = 8, K = 2;
    CHECK(lsg_simulate(N, J, K, 3, 5, 0.1, 3, &sim, &e) == 0);
    lsg_model m;
    CHECK(lsg_init(&m, N, J, K, sim.Y, sim.P, sim.pattern, 0, 1, &e) == 0);
    double sig[4] = {1, 0.4, 0.4, 1};
    lsg_set(&m, sim.a, sim.b, sig);
    CHECK(lsg_start(&m, &e) == 0);
    CHECK(lsg_estep(&m, &e) == 0);
    lsg_quad q;
    CHECK(lsg_quad_init(&q, &m, 5, &e) == 0);
    double *w = malloc(lsg_quad_work(&q) * sizeof *w);
    double ga[16 * 2], gb[64], gs[4], tga[16 * 2] = {0}, tgb[64] = {0}, tgs[4] = {0};
    double L[4], si[4];
    /* total at sigma */
#define TOTAL(out_ll, want)                                                                    \
    do {                                                                                       \
        memcpy(L, m.sigma, sizeof L);                                                          \
        ls_chol(L, K);                                                                         \
        ls_chol_inverse(L, K, si);                                                             \
        double ld_ = 2 * ls_chol_logdet_half(L, K);                                            \
        out_ll = 0;                                                                            \
        for (size_t i = 0; i < N; i++) {                                                       \
            memset(ga, 0, sizeof ga); /* only the answered items' entries are written */       \
            memset(gb, 0, sizeof gb);                                                          \
            out_ll += lsg_quad_person(&q, i, m.a, m.b, NULL, NULL, si, ld_, want ? ga : NULL, gb, gs, NULL, NULL, w); \
            if (want) {                                                                        \
                for (size_t c_ = 0; c_ < J * K; c_++) tga[c_] += ga[c_];                       \
                for (size_t c_ = 0; c_ < m.T; c_++) tgb[c_] += gb[c_];                         \
                for (size_t c_ = 0; c_ < 4; c_++) tgs[c_] += gs[c_];                           \
            }                                                                                  \
        }                                                                                      \
    } while (0)
    double ll0;
    TOTAL(ll0, 1);
    const double h = 1e-5;
    double worst = 0;
    for (size_t c = 0; c < J * K; c++) {
        double lp, lm, keep = m.a[c];
        m.a[c] = keep + h;
        TOTAL(lp, 0);
        m.a[c] = keep - h;
        TOTAL(lm, 0);
        m.a[c] = keep;
        worst = fmax(worst, fabs((lp - lm) / (2 * h) - tga[c]) / (1 + fabs(tga[c])));
    }
    for (size_t j = 0; j < J; j++)
        for (size_t k = 1; k <= m.P[j]; k++) {
            size_t c = m.off[j] + k;
            double lp, lm, keep = m.b[c];
            m.b[c] = keep + h;
            TOTAL(lp, 0);
            m.b[c] = keep - h;
            TOTAL(lm, 0);
            m.b[c] = keep;
            worst = fmax(worst, fabs((lp - lm) / (2 * h) - tgb[c]) / (1 + fabs(tgb[c])));
        }
    { /* correlation: Sigma_01 = Sigma_10 = rho */
        double lp, lm;
        m.sigma[1] = m.sigma[2] = 0.4 + h;
        TOTAL(lp, 0);
        m.sigma[1] = m.sigma[2] = 0.4 - h;
        TOTAL(lm, 0);
        m.sigma[1] = m.sigma[2] = 0.4;
        double an = tgs[1] + tgs[2];
        worst = fmax(worst, fabs((lp - lm) / (2 * h) - an) / (1 + fabs(an)));
    }
#undef TOTAL
    printf("  quadrature log-likelihood %.6f, gradient vs central differences: largest relative error %.2e\n",
           ll0, worst);
    CHECK_MSG(worst < 1e-6, "worst %g", worst);
    free(w);
    lsg_quad_free(&q);
    lsg_free(&m);
    lsg_sim_free(&sim);
}

/* ---------------------------------------------------------------- */
/* The public API                                                     */
/* ---------------------------------------------------------------- */

/* ls_gpcm_run with the payload copied out by value for the assertions
 * (the result keeps owning its arrays: free the result). */
static int run_gpcm(const ls_gpcm_data *d, const int *pattern, const ls_gpcm_options *o, ls_result **r, lsg_fit *f,
                    ls_error *e)
{
    *r = NULL;
    int rc = ls_gpcm_run(d, pattern, o, r, e);
    if (!rc) *f = *(const lsg_fit *)ls_result_payload(*r, "gpcm-fit");
    else memset(f, 0, sizeof *f);
    return rc;
}

static ls_gpcm_data sim_data(const lsg_sim *s)
{
    ls_gpcm_data d;
    memset(&d, 0, sizeof d);
    d.n = s->N;
    d.J = s->J;
    d.Y = malloc(s->N * s->J * sizeof *d.Y);
    memcpy(d.Y, s->Y, s->N * s->J * sizeof *d.Y);
    d.ncat = malloc(s->J * sizeof *d.ncat);
    d.items = malloc(s->J * sizeof *d.items);
    for (size_t j = 0; j < s->J; j++) {
        d.ncat[j] = s->P[j] + 1;
        char buf[32];
        snprintf(buf, sizeof buf, "I%02zu", j + 1);
        d.items[j] = strdup(buf);
    }
    return d;
}

static void sim_data_free(ls_gpcm_data *d)
{
    for (size_t j = 0; j < d->J; j++) free(d->items[j]);
    free(d->items);
    free(d->Y);
    free(d->ncat);
}

typedef struct errs {
    double bias, rmse;
    size_t n;
} errs;

static void acc(errs *e, double est, double truth)
{
    e->bias += est - truth;
    e->rmse += (est - truth) * (est - truth);
    e->n++;
}

static void fin(errs *e)
{
    e->bias /= (double)(e->n ? e->n : 1);
    e->rmse = sqrt(e->rmse / (double)(e->n ? e->n : 1));
}

/* Bias and RMSE of a, b and the correlations of one fit against the truth. */
static void recovery(const lsg_fit *f, const lsg_sim *s, errs *ea, errs *eb, errs *es)
{
    const size_t J = s->J, K = s->K, nb = f->maxcat - 1;
    for (size_t c = 0; c < J * K; c++)
        if (s->pattern[c]) acc(ea, f->a[c], s->a[c]);
    for (size_t j = 0; j < J; j++)
        for (size_t k = 1; k <= s->P[j]; k++) acc(eb, f->b[j * nb + k - 1], s->b[s->off[j] + k]);
    for (size_t p = 0; p < K; p++)
        for (size_t q = 0; q < p; q++) acc(es, f->sigma[p * K + q], s->sigma[p * K + q]);
}

static void test_recovery(size_t N, size_t K, int with_mml, unsigned reps)
{
    const size_t J = 30;
    errs g[3], mm[3];
    memset(g, 0, sizeof g);
    memset(mm, 0, sizeof mm);
    double tg = 0, tm = 0;
    for (unsigned r = 0; r < reps; r++) {
        lsg_sim s;
        ls_error e = {0, ""};
        CHECK(lsg_simulate(N, J, K, 4, 6, 0.0, 100 + r, &s, &e) == 0);
        ls_gpcm_data d = sim_data(&s);
        ls_gpcm_options o;
        ls_gpcm_options_init(&o);
        o.factors = K;
        o.starts = 1;
        o.skip_se = 1;
        o.threads = 2;
        lsg_fit f;
        ls_result *f_r = NULL;
        double t0 = wall();
        int rc = run_gpcm(&d, s.pattern, &o, &f_r, &f, &e);
        tg += wall() - t0;
        CHECK_MSG(rc == 0, "%s", e.message);
        if (rc) {
            sim_data_free(&d);
            lsg_sim_free(&s);
            continue;
        }
        CHECK(f.converged);
        CHECK(f.monotone);
        recovery(&f, &s, &g[0], &g[1], &g[2]);
        ls_result_free(f_r);
        if (with_mml) {
            o.method = LS_GPCM_MML;
            t0 = wall();
            rc = run_gpcm(&d, s.pattern, &o, &f_r, &f, &e);
            tm += wall() - t0 - (rc ? 0 : f.seconds_gvem);
            CHECK_MSG(rc == 0, "%s", e.message);
            if (!rc) {
                CHECK(f.converged);
                recovery(&f, &s, &mm[0], &mm[1], &mm[2]);
                ls_result_free(f_r);
            }
        }
        sim_data_free(&d);
        lsg_sim_free(&s);
    }
    for (int k = 0; k < 3; k++) {
        fin(&g[k]);
        fin(&mm[k]);
    }
    printf("  recovery N=%zu J=%zu K=%zu, %u replications (bias / RMSE):\n", N, J, K, reps);
    printf("    %-6s %-10s %-19s %-19s %-19s %s\n", "method", "", "slopes a", "steps b", "correlations", "seconds/fit");
    printf("    %-6s %-10s %+8.4f / %7.4f  %+8.4f / %7.4f  %+8.4f / %7.4f  %.2f\n", "GVEM", "", g[0].bias,
           g[0].rmse, g[1].bias, g[1].rmse, g[2].bias, g[2].rmse, tg / reps);
    if (with_mml)
        printf("    %-6s %-10s %+8.4f / %7.4f  %+8.4f / %7.4f  %+8.4f / %7.4f  %.2f\n", "MML", "", mm[0].bias,
               mm[0].rmse, mm[1].bias, mm[1].rmse, mm[2].bias, mm[2].rmse, tm / reps);
    /* accuracy: sampling error at these N is about 0.05-0.1 for slopes and
     * correlations; the extreme steps of 6-category items are rarely used */
    CHECK(g[0].rmse < 0.15);
    CHECK(g[1].rmse < 0.5);
    CHECK(g[2].rmse < 0.1);
    if (with_mml) {
        CHECK(mm[0].rmse < 0.15);
        CHECK(mm[1].rmse < 0.5);
        CHECK(g[0].rmse < 1.5 * mm[0].rmse + 0.03);
        CHECK(g[1].rmse < 1.5 * mm[1].rmse + 0.05);
        CHECK(g[2].rmse < 1.5 * mm[2].rmse + 0.03);
    }
}

/* Above 10,000 persons the GVEM starts are screened on a seeded subsample
 * of 5,000 and only the best there runs on all persons: the choice is the
 * subsample's best, the other starts are not run on all persons (NaN),
 * the result does not depend on the thread count, and the fit is the full
 * run of the chosen start (with start 0 chosen, bit for bit the one-start
 * fit; otherwise at least as high a bound as that fit, within 1e-6). */
static void test_screened_starts(void)
{
    lsg_sim s;
    ls_error e = {0, ""};
    CHECK(lsg_simulate(12000, 10, 1, 3, 4, 0.0, 77, &s, &e) == 0);
    ls_gpcm_data d = sim_data(&s);
    ls_gpcm_options o;
    ls_gpcm_options_init(&o);
    o.starts = 3;
    o.skip_se = 1;
    o.threads = 2;
    lsg_fit f3, f3b, f1;
    ls_result *r3 = NULL, *r3b = NULL, *r1 = NULL;
    CHECK_MSG(run_gpcm(&d, s.pattern, &o, &r3, &f3, &e) == 0, "%s", e.message);
    o.threads = 1;
    CHECK_MSG(run_gpcm(&d, s.pattern, &o, &r3b, &f3b, &e) == 0, "%s", e.message);
    o.starts = 1;
    CHECK_MSG(run_gpcm(&d, s.pattern, &o, &r1, &f1, &e) == 0, "%s", e.message);
    if (r3 && r3b && r1) {
        CHECK(f3.screen_persons == 5000 && f3.screen_elbo != NULL && f1.screen_persons == 0);
        unsigned chosen = 3, run = 0;
        double best = -INFINITY;
        for (unsigned k = 0; k < 3; k++) {
            CHECK(isfinite(f3.screen_elbo[k]));
            if (f3.screen_elbo[k] > best) {
                best = f3.screen_elbo[k];
                chosen = k;
            }
            run += isfinite(f3.start_elbo[k]);
        }
        CHECK_MSG(run == 1 && chosen < 3 && isfinite(f3.start_elbo[chosen]), "%u starts on all persons", run);
        CHECK(f3.elbo == f3b.elbo && memcmp(f3.a, f3b.a, 10 * sizeof(double)) == 0);
        if (chosen == 0)
            CHECK(f3.elbo == f1.elbo && memcmp(f3.a, f1.a, 10 * sizeof(double)) == 0);
        else
            CHECK_MSG(f3.elbo >= f1.elbo - 1e-6 * fabs(f1.elbo), "screened %.6f, one start %.6f", f3.elbo, f1.elbo);
        printf("  N = 12000: screened on 5000 persons, start %u chosen (bounds %.3f %.3f %.3f), full bound %.4f "
               "(one start %.4f)\n", chosen, f3.screen_elbo[0], f3.screen_elbo[1], f3.screen_elbo[2], f3.elbo, f1.elbo);
    }
    ls_result_free(r3);
    ls_result_free(r3b);
    ls_result_free(r1);
    sim_data_free(&d);
    lsg_sim_free(&s);
}

static void test_recovery_quick(void) { test_recovery(600, 2, 1, 1); }
static void test_recovery_spec(void) { test_recovery(1000, 3, 1, 3); }

/* Exploratory on a simple-structure simulation (the simulator's
 * cross-loadings removed and the responses redrawn): promax recovers the
 * slopes and the correlation up to column order and sign.  (With a third
 * of the items loading equally on both factors, promax itself finds a
 * correlation of 0.14 from the exact population loadings whose truth is
 * 0.39: a property of the rotation, not of the fit.) */
static void test_exploratory(void)
{
    lsg_sim s;
    ls_error e = {0, ""};
    const size_t N = 1000, J = 18, K = 2;
    CHECK(lsg_simulate(N, J, K, 4, 4, 0.0, 21, &s, &e) == 0);
    uint64_t st = 88172645463325252ULL;
    for (size_t j = 0; j < J; j++)
        for (size_t k = 0; k < K; k++)
            if (k != j % K) s.a[j * K + k] = 0, s.pattern[j * K + k] = 0;
    for (size_t i = 0; i < N; i++)
        for (size_t j = 0; j < J; j++) {
            const double *aj = s.a + j * K, *bj = s.b + s.off[j];
            double sc = 0, pr[8], sum = 0;
            for (size_t k = 0; k < K; k++) sc += aj[k] * s.theta[i * K + k];
            for (size_t h = 0; h <= s.P[j]; h++) sum += (pr[h] = exp((double)h * sc - bj[h]));
            st ^= st << 13, st ^= st >> 7, st ^= st << 17; /* xorshift64 */
            double u = (double)(st >> 11) / 9007199254740992.0 * sum, c = 0;
            int y = (int)s.P[j];
            for (size_t h = 0; h <= s.P[j]; h++)
                if (u < (c += pr[h])) {
                    y = (int)h;
                    break;
                }
            s.Y[i * J + j] = y;
        }
    ls_gpcm_data d = sim_data(&s);
    ls_gpcm_options o;
    ls_gpcm_options_init(&o);
    o.factors = K;
    o.starts = 2;
    o.threads = 2;
    o.skip_se = 1;
    lsg_fit f;
    ls_result *f_r = NULL;
    int rc = run_gpcm(&d, NULL, &o, &f_r, &f, &e);
    CHECK_MSG(rc == 0, "%s", e.message);
    if (!rc) {
        CHECK(f.exploratory && f.rotation && f.a_unrotated);
        CHECK(f.monotone);
        /* match columns: truth column k to the fitted column with the largest |correlation| */
        double worst = 0;
        for (size_t k = 0; k < K; k++) {
            size_t best = 0;
            double bc = -1;
            for (size_t l = 0; l < K; l++) {
                double sxy = 0, sxx = 0, syy = 0;
                for (size_t j = 0; j < J; j++) {
                    sxy += s.a[j * K + k] * f.a[j * K + l];
                    sxx += s.a[j * K + k] * s.a[j * K + k];
                    syy += f.a[j * K + l] * f.a[j * K + l];
                }
                double c = fabs(sxy) / sqrt(sxx * syy);
                if (c > bc) bc = c, best = l;
            }
            double sg = 1;
            {
                double t = 0;
                for (size_t j = 0; j < J; j++) t += s.a[j * K + k] * f.a[j * K + best];
                sg = t < 0 ? -1 : 1;
            }
            for (size_t j = 0; j < J; j++) worst = fmax(worst, fabs(sg * f.a[j * K + best] - s.a[j * K + k]));
        }
        printf("  exploratory K=2 (promax): largest slope error %.3f, correlation %.3f (truth %.3f)\n", worst,
               fabs(f.sigma[1]), s.sigma[1]);
        CHECK(worst < 0.35);
        CHECK(fabs(fabs(f.sigma[1]) - s.sigma[1]) < 0.1);
        ls_result_free(f_r);
    }
    sim_data_free(&d);
    lsg_sim_free(&s);
}

/* ---------------------------------------------------------------- */
/* Standard errors of the promax-rotated solution                      */
/* ---------------------------------------------------------------- */

static uint64_t xs_next(uint64_t *st)
{
    *st ^= *st << 13, *st ^= *st >> 7, *st ^= *st << 17; /* xorshift64 */
    return *st;
}

static double xs_unif(uint64_t *st) { return ((double)(xs_next(st) >> 11) + 0.5) / 9007199254740992.0; }

static double xs_normal(uint64_t *st)
{
    double u = xs_unif(st), v = xs_unif(st);
    return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

/* Redraw the persons (theta ~ N(0, s->sigma)) and their responses from the
 * truth in s, with the generator state st. */
static void redraw(lsg_sim *s, uint64_t seed)
{
    const size_t N = s->N, J = s->J, K = s->K;
    uint64_t st = 0x9e3779b97f4a7c15ULL ^ (seed * 0x2545f4914f6cdd1dULL);
    for (int w = 0; w < 10; w++) xs_next(&st);
    double L[100];
    memcpy(L, s->sigma, K * K * sizeof *L);
    ls_chol(L, K);
    for (size_t i = 0; i < N; i++) {
        double z[10];
        for (size_t k = 0; k < K; k++) z[k] = xs_normal(&st);
        for (size_t k = 0; k < K; k++) {
            double v = 0;
            for (size_t l = 0; l <= k; l++) v += L[k * K + l] * z[l];
            s->theta[i * K + k] = v;
        }
        for (size_t j = 0; j < J; j++) {
            const double *aj = s->a + j * K, *bj = s->b + s->off[j];
            double sc = 0, pr[8], sum = 0;
            for (size_t k = 0; k < K; k++) sc += aj[k] * s->theta[i * K + k];
            for (size_t h = 0; h <= s->P[j]; h++) sum += (pr[h] = exp((double)h * sc - bj[h]));
            double u = xs_unif(&st) * sum, c = 0;
            int y = (int)s->P[j];
            for (size_t h = 0; h <= s->P[j]; h++)
                if (u < (c += pr[h])) {
                    y = (int)h;
                    break;
                }
            s->Y[i * J + j] = y;
        }
    }
}

/* K = 2, J items alternating between the factors (so that the anchors,
 * items 1 and 2, are well determined; slopes lo..hi), cross-loadings
 * `cross` on items 5 and J - 4, correlation rho, 4 categories with steps
 * spread around 0. */
static void two_factor_truth(lsg_sim *s, size_t J, double lo, double hi, double cross, double rho)
{
    const size_t K = 2;
    for (size_t j = 0; j < J; j++) {
        const size_t f = j % 2;
        for (size_t k = 0; k < K; k++) s->a[j * K + k] = 0, s->pattern[j * K + k] = k == f;
        s->a[j * K + f] = lo + (hi - lo) * (double)(j / 2) / (double)(J / 2 - 1);
        const double *step = (const double[]){-1.0 + 0.1 * (double)(j % 3), 0.2, 1.0 - 0.1 * (double)(j % 4)};
        s->b[s->off[j]] = 0;
        for (size_t k = 1; k <= s->P[j]; k++) s->b[s->off[j] + k] = s->b[s->off[j] + k - 1] + step[k - 1];
    }
    if (cross != 0) {
        s->a[4 * K + 1] = cross, s->pattern[4 * K + 1] = 1;
        s->a[(J - 3) * K + 0] = cross, s->pattern[(J - 3) * K + 0] = 1;
    }
    s->sigma[0] = s->sigma[3] = 1, s->sigma[1] = s->sigma[2] = rho;
}

/* Column map of fitted loadings fa (J x K) onto the truth ta: perm[k] the
 * fitted column of true column k, sg[k] its sign. */
static void match_columns(const double *ta, const double *fa, size_t J, size_t K, size_t *perm, double *sg)
{
    for (size_t k = 0; k < K; k++) {
        double bc = -1;
        for (size_t l = 0; l < K; l++) {
            double sxy = 0, sxx = 0, syy = 0;
            for (size_t j = 0; j < J; j++) {
                sxy += ta[j * K + k] * fa[j * K + l];
                sxx += ta[j * K + k] * ta[j * K + k];
                syy += fa[j * K + l] * fa[j * K + l];
            }
            double c = fabs(sxy) / sqrt(sxx * syy);
            if (c > bc) bc = c, perm[k] = l, sg[k] = sxy < 0 ? -1 : 1;
        }
    }
}

/* The Jacobian of the promax map by central differences: two step sizes
 * (eps 1e-4, the one used, and 1e-3) agree; a directional difference along
 * a random direction matches G v; K = 1 gives the identity. */
static void test_rotation_jacobian(void)
{
    const size_t J = 12, K = 3, M = J * K + 3;
    double lam[12 * 3], arot[12 * 3], phi[9], T[9], Tvar[9], sgn[3];
    int pat[12 * 3];
    uint64_t st = 12345;
    for (size_t j = 0; j < J; j++)
        for (size_t k = 0; k < K; k++) {
            /* an oblique three-factor structure seen in the anchored frame */
            double main = j % K == k ? 1.2 + 0.3 * xs_unif(&st) : 0.25 * xs_normal(&st);
            lam[j * K + k] = main;
        }
    /* rotate to the anchored (lower-triangular first K rows) frame: QR of the first rows */
    {
        double Mb[9], Lb[9];
        for (size_t p = 0; p < K; p++)
            for (size_t q = 0; q < K; q++) {
                double v = 0;
                for (size_t r = 0; r < K; r++) v += lam[p * K + r] * lam[q * K + r];
                Mb[p * K + q] = v;
            }
        memcpy(Lb, Mb, sizeof Lb);
        CHECK(ls_chol(Lb, K) == 0);
        /* R = L^-1 M_rows, lam <- lam R' (orthogonal) */
        double R[9];
        for (size_t c = 0; c < K; c++) {
            double col[3];
            for (size_t p = 0; p < K; p++) col[p] = lam[p * K + c];
            ls_trsv_lower(Lb, K, 0, col);
            for (size_t p = 0; p < K; p++) R[p * K + c] = col[p];
        }
        double out[12 * 3];
        for (size_t j = 0; j < J; j++)
            for (size_t p = 0; p < K; p++) {
                double v = 0;
                for (size_t c = 0; c < K; c++) v += lam[j * K + c] * R[p * K + c];
                out[j * K + p] = v;
            }
        memcpy(lam, out, sizeof out);
    }
    for (size_t j = 0; j < J; j++)
        for (size_t k = 0; k < K; k++) {
            pat[j * K + k] = !(j < K && k > j);
            if (!pat[j * K + k]) {
                CHECK(fabs(lam[j * K + k]) < 1e-12);
                lam[j * K + k] = 0;
            }
        }
    ls_error e = {0, ""};
    CHECK(lsg_promax(lam, J, K, arot, phi, T, Tvar, sgn, &e) == 0);
    size_t na = 0;
    for (size_t c = 0; c < J * K; c++) na += pat[c];
    double F0[12 * 3 + 3];
    double *G1 = malloc(M * na * sizeof *G1), *G2 = malloc(M * na * sizeof *G2), *G3 = malloc(M * na * sizeof *G3);
    double t0 = wall();
    CHECK_MSG(lsg_rotation_jacobian(lam, pat, J, K, Tvar, sgn, 1e-4, G1, F0, &e) == 0, "%s", e.message);
    double tj = wall() - t0;
    CHECK_MSG(lsg_rotation_jacobian(lam, pat, J, K, Tvar, sgn, 1e-3, G2, NULL, &e) == 0, "%s", e.message);
    CHECK_MSG(lsg_rotation_jacobian(lam, pat, J, K, Tvar, sgn, 1e-5, G3, NULL, &e) == 0, "%s", e.message);
    double big = 0, d12 = 0, d13 = 0;
    (void)T;
    for (size_t c = 0; c < M * na; c++) {
        big = fmax(big, fabs(G1[c]));
        d12 = fmax(d12, fabs(G1[c] - G2[c]));
        d13 = fmax(d13, fabs(G1[c] - G3[c]));
    }
    /* Euler: the rotated loadings are homogeneous of degree 1 in lam (Kaiser
     * normalisation; the promax target's scale cancels in the column
     * normalisation), the correlations of degree 0: G lam = (a_rot, 0) */
    double euler = 0;
    for (size_t r = 0; r < M; r++) {
        double v = 0;
        size_t c = 0;
        for (size_t x = 0; x < J * K; x++)
            if (pat[x]) v += G1[r * na + c++] * lam[x];
        euler = fmax(euler, fabs(v - (r < J * K ? F0[r] : 0.0)));
        if (r < J * K) CHECK(fabs(F0[r] - arot[r]) < 1e-3); /* the reported solution: R's stopping rule */
    }
    printf("  promax Jacobian (J=%zu, K=%zu, %zu free slopes, %.3f s): largest entry %.3f; largest difference "
           "eps 1e-4 vs 1e-3 %.2e, vs 1e-5 %.2e; Euler identity G lam = (a_rot, 0) off by %.2e\n",
           J, K, na, tj, big, d12, d13, euler);
    CHECK_MSG(d12 < 1e-5 * (1 + big), "d12 %g", d12);
    CHECK_MSG(d13 < 1e-5 * (1 + big), "d13 %g", d13);
    CHECK_MSG(euler < 1e-6, "Euler %g", euler);
    /* K = 1: the rotation is the identity, so is the Jacobian */
    {
        double l1[5] = {0.8, 1.1, -0.4, 0.9, 1.3}, a1[5], p1[1], T1[1], Tv1[1], s1[1], G[25];
        int p1p[5] = {1, 1, 1, 1, 1};
        CHECK(lsg_promax(l1, 5, 1, a1, p1, T1, Tv1, s1, &e) == 0);
        CHECK(lsg_rotation_jacobian(l1, p1p, 5, 1, Tv1, s1, 1e-4, G, NULL, &e) == 0);
        double w = 0;
        for (size_t r = 0; r < 5; r++)
            for (size_t c = 0; c < 5; c++) w = fmax(w, fabs(G[r * 5 + c] - (r == c)));
        CHECK_MSG(w < 1e-9, "K=1 Jacobian off the identity by %g", w);
    }
    free(G1);
    free(G2);
    free(G3);
}

/* Exploratory fits of a simulated design over replications: rotated
 * standard errors (mean over replications) against the spread (SD) of the
 * rotated estimates, per parameter; the unrotated ones alongside. */
static void check_rotated_se_spread(size_t N, unsigned reps, int method, double tol)
{
    const size_t J = 12, K = 2;
    lsg_sim s;
    ls_error e = {0, ""};
    CHECK(lsg_simulate(N, J, K, 4, 4, 0.0, 31, &s, &e) == 0);
    two_factor_truth(&s, J, 0.9, 1.8, 0.6, 0.3);
    const size_t M = J * K + 1;
    double *sum = calloc(M, sizeof *sum), *sum2 = calloc(M, sizeof *sum2), *sse = calloc(M, sizeof *sse);
    double *usum = calloc(J * K, sizeof *usum), *usum2 = calloc(J * K, sizeof *usum2), *use = calloc(J * K, sizeof *use);
    double *ref = NULL;
    unsigned ok = 0;
    double t0 = wall();
    for (unsigned r = 0; r < reps; r++) {
        redraw(&s, 1000 + r);
        ls_gpcm_data d = sim_data(&s);
        ls_gpcm_options o;
        ls_gpcm_options_init(&o);
        o.factors = K;
        o.starts = 1;
        o.threads = 2;
        o.method = method;
        lsg_fit f;
        ls_result *f_r = NULL;
        int rc = run_gpcm(&d, NULL, &o, &f_r, &f, &e);
        CHECK_MSG(rc == 0, "%s", e.message);
        if (!rc) {
            const double *sr = f.se_a_rot, *ss = f.se_sigma_rot;
            CHECK(sr && ss && f.se_a);
            if (sr && ss && f.se_a) {
                if (!ref) { /* the first replication's rotated solution fixes column order and sign */
                    ref = malloc(J * K * sizeof *ref);
                    size_t perm[2];
                    double sg[2];
                    match_columns(s.a, f.a, J, K, perm, sg);
                    for (size_t j = 0; j < J; j++)
                        for (size_t k = 0; k < K; k++) ref[j * K + k] = sg[k] * f.a[j * K + perm[k]];
                }
                size_t perm[2];
                double sg[2];
                match_columns(ref, f.a, J, K, perm, sg);
                for (size_t j = 0; j < J; j++)
                    for (size_t k = 0; k < K; k++) {
                        double v = sg[k] * f.a[j * K + perm[k]];
                        sum[j * K + k] += v, sum2[j * K + k] += v * v, sse[j * K + k] += sr[j * K + perm[k]];
                        double u = f.a_unrotated[j * K + k];
                        usum[j * K + k] += u, usum2[j * K + k] += u * u, use[j * K + k] += f.se_a[j * K + k];
                    }
                double rho = sg[0] * sg[1] * f.sigma[1];
                sum[J * K] += rho, sum2[J * K] += rho * rho, sse[J * K] += ss[1];
                ok++;
            }
            ls_result_free(f_r);
        }
        sim_data_free(&d);
    }
    double t = wall() - t0;
    /* ratio mean SE / SD per parameter; summary: median and the ratio of
     * root-mean-squares over the parameters */
    double ratio[25], urat[24], ms = 0, msd = 0, ums = 0, umsd = 0;
    size_t nr = 0, nu = 0;
    for (size_t x = 0; x < M; x++) {
        double m = sum[x] / ok, sd = sqrt(fmax(sum2[x] / ok - m * m, 0) * ok / (ok - 1)), se = sse[x] / ok;
        ratio[nr++] = se / sd;
        if (getenv("GPCM_DEBUG"))
            printf("    param %2zu: mean %.3f SD %.4f SE %.4f ratio %.3f | unrot mean %.3f SD %.4f SE %.4f\n", x, m, sd,
                   se, se / sd, x < J * K ? usum[x] / ok : 0.0,
                   x < J * K ? sqrt(fmax(usum2[x] / ok - (usum[x] / ok) * (usum[x] / ok), 0)) : 0.0,
                   x < J * K ? use[x] / ok : 0.0);
        ms += se * se, msd += sd * sd;
        if (x < J * K && use[x] > 0) {
            double um = usum[x] / ok, usd = sqrt(fmax(usum2[x] / ok - um * um, 0) * ok / (ok - 1));
            urat[nu++] = use[x] / ok / usd;
            ums += (use[x] / ok) * (use[x] / ok), umsd += usd * usd;
        }
    }
    for (size_t p = 1; p < nr; p++) /* insertion sorts for the medians */
        for (size_t q = p; q > 0 && ratio[q] < ratio[q - 1]; q--) {
            double tmp = ratio[q];
            ratio[q] = ratio[q - 1], ratio[q - 1] = tmp;
        }
    for (size_t p = 1; p < nu; p++)
        for (size_t q = p; q > 0 && urat[q] < urat[q - 1]; q--) {
            double tmp = urat[q];
            urat[q] = urat[q - 1], urat[q - 1] = tmp;
        }
    const double rms = sqrt(ms / msd), urms = sqrt(ums / umsd);
    printf("  rotated SEs vs spread, %s, N=%zu J=%zu K=%zu, %u replications (%.1f s): SE/SD over %zu rotated "
           "parameters: median %.3f (range %.3f..%.3f), RMS ratio %.3f; correlation SE/SD %.3f; unrotated: median "
           "%.3f, RMS ratio %.3f\n",
           method == LS_GPCM_MML ? "MML" : "GVEM", N, J, K, ok, t, nr, ratio[nr / 2], ratio[0], ratio[nr - 1], rms,
           (sse[J * K] / ok) / sqrt(fmax(sum2[J * K] / ok - (sum[J * K] / ok) * (sum[J * K] / ok), 0) * ok / (ok - 1)),
           urat[nu / 2], urms);
    CHECK(ok == reps);
    CHECK_MSG(fabs(ratio[nr / 2] - 1) < tol, "median SE/SD %g", ratio[nr / 2]);
    CHECK_MSG(fabs(rms - 1) < tol, "RMS SE/SD %g", rms);
    free(sum), free(sum2), free(sse), free(usum), free(usum2), free(use), free(ref);
    lsg_sim_free(&s);
}

/* quick: GVEM estimates, whose spread the (MML) cross-product standard
 * errors overstate by about 10 % on this design, rotated or not; a smoke
 * check with few replications.  slow: MML estimates, for which the
 * cross-product information is the right asymptotic covariance: the check
 * of the delta method.  (--only test_rotated_se_spread_gvem: 60 GVEM
 * replications.) */
static void test_rotated_se_spread_quick(void) { check_rotated_se_spread(500, 25, LS_GPCM_GVEM, 0.35); }
static void test_rotated_se_spread(void) { check_rotated_se_spread(800, 30, LS_GPCM_MML, 0.25); }
static void test_rotated_se_spread_gvem(void) { check_rotated_se_spread(800, 60, LS_GPCM_GVEM, 0.3); }

/* Simple-structure truth with high loadings and uncorrelated factors: the
 * promax rotation is near the identity, and the rotated standard errors of
 * the loadings that carry the structure equal the unrotated ones. */
static void test_rotated_se_identity(void)
{
    const size_t J = 12, K = 2, N = 1000;
    lsg_sim s;
    ls_error e = {0, ""};
    CHECK(lsg_simulate(N, J, K, 4, 4, 0.0, 41, &s, &e) == 0);
    two_factor_truth(&s, J, 2.0, 2.5, 0.0, 0.0);
    redraw(&s, 7);
    ls_gpcm_data d = sim_data(&s);
    ls_gpcm_options o;
    ls_gpcm_options_init(&o);
    o.factors = K;
    o.starts = 1;
    o.threads = 2;
    lsg_fit f;
    ls_result *f_r = NULL;
    int rc = run_gpcm(&d, NULL, &o, &f_r, &f, &e);
    CHECK_MSG(rc == 0, "%s", e.message);
    if (!rc) {
        const double *sr = f.se_a_rot, *ss = f.se_sigma_rot;
        CHECK(sr && ss && f.se_a);
        double off = 0;
        for (size_t p = 0; p < K; p++)
            for (size_t q = 0; q < K; q++) off = fmax(off, fabs(f.rotation[p * K + q] - (p == q)));
        double wmain = 0, wcross = 0, rcross_lo = 1e9, rcross_hi = 0;
        for (size_t j = 0; sr && j < J; j++)
            for (size_t k = 0; k < K; k++) {
                if (!f.pattern[j * K + k]) continue; /* the anchor's fixed zero */
                double r = sr[j * K + k] / f.se_a[j * K + k];
                if (s.pattern[j * K + k]) wmain = fmax(wmain, fabs(r - 1));
                else wcross = fmax(wcross, fabs(r - 1)), rcross_lo = fmin(rcross_lo, r), rcross_hi = fmax(rcross_hi, r);
            }
        printf("  near-identity rotation (largest |T - I| %.3f): rotated/unrotated SE of the %zu main loadings within "
               "%.3f of 1; cross-loadings ratio %.2f..%.2f; SE(correlation) %.4f\n",
               off, J, wmain, rcross_lo, rcross_hi, ss ? ss[1] : NAN);
        CHECK(off < 0.1);
        CHECK_MSG(wmain < 0.05, "main loadings %g", wmain);
        ls_result_free(f_r);
    }
    sim_data_free(&d);
    lsg_sim_free(&s);
}

/* A category inside 0..P_j that nobody uses: a warning naming the item and
 * the category, in the fit and in the JSON. */
static void test_unobserved_category_warning(void)
{
    lsg_sim s;
    ls_error e = {0, ""};
    CHECK(lsg_simulate(300, 6, 1, 4, 4, 0.0, 3, &s, &e) == 0);
    ls_gpcm_data d = sim_data(&s);
    d.source = (char *)"(simulated)";
    for (size_t i = 0; i < d.n; i++) { /* item 3: category 2 never used; item 5: category 0 never used */
        if (d.Y[i * 6 + 2] == 2) d.Y[i * 6 + 2] = 1;
        if (d.Y[i * 6 + 4] == 0) d.Y[i * 6 + 4] = 1;
    }
    ls_gpcm_options o;
    ls_gpcm_options_init(&o);
    o.starts = 1;
    o.threads = 2;
    o.max_iter = 200;
    int pat[6] = {1, 1, 1, 1, 1, 1};
    lsg_fit f;
    ls_result *f_r = NULL;
    int rc = run_gpcm(&d, pat, &o, &f_r, &f, &e);
    CHECK_MSG(rc == 0, "%s", e.message);
    if (!rc) {
        size_t nw = ls_result_nwarnings(f_r);
        for (size_t i = 0; i < nw; i++) printf("  warning: %s\n", ls_result_warning(f_r, i));
        CHECK(nw >= 2);
        CHECK(ls_result_warning(f_r, nw) == NULL);
        int saw3 = 0, saw5 = 0;
        for (size_t i = 0; i < nw; i++) {
            const char *w = ls_result_warning(f_r, i);
            saw3 |= strcmp(w, "item 'I03': category 2 (raw score 2) is never observed; its step parameter b2 is not "
                              "identified (it drifts towards +infinity)") == 0;
            saw5 |= strstr(w, "item 'I05': category 0 (raw score 0) is never observed") != NULL;
        }
        CHECK(saw3 && saw5);
        char path[256];
        snprintf(path, sizeof path, "/tmp/test_gpcm_w_%ld.json", (long)getpid());
        CHECK(ls_result_write(f_r, path, NULL, NULL, &e) == 0);
        json_error_t je;
        json_t *root = json_load_file(path, 0, &je);
        CHECK(root && json_array_size(json_object_get(root, "warnings")) == nw);
        if (root)
            CHECK(strstr(json_string_value(json_array_get(json_object_get(root, "warnings"), 0)), "never observed"));
        json_decref(root);
        remove(path);
        ls_result_free(f_r);
    }
    /* every category used: no warning */
    memcpy(d.Y, s.Y, d.n * d.J * sizeof *d.Y);
    rc = run_gpcm(&d, pat, &o, &f_r, &f, &e);
    CHECK(rc == 0);
    if (!rc) {
        CHECK(ls_result_nwarnings(f_r) == 0);
        ls_result_free(f_r);
    }
    d.source = NULL;
    sim_data_free(&d);
    lsg_sim_free(&s);
}

static const char *write_tmp(const char *name, const char *text, char *buf, size_t n)
{
    snprintf(buf, n, "/tmp/test_gpcm_%ld_%s", (long)getpid(), name);
    FILE *fp = fopen(buf, "wb");
    fputs(text, fp);
    fclose(fp);
    return buf;
}

static void test_data_and_patterns(void)
{
    char p1[256], p2[256];
    ls_error e = {0, ""};
    ls_table *t = NULL;
    write_tmp("d.csv", ",A1,A2,B1,x\n1,1,2,3,9\n2,2,NA,1,9\n3,3,1,2.5,9\n", p1, sizeof p1);
    CHECK(ls_items_table_read(p1, &t, &e) == 0);
    ls_gpcm_data *d = NULL;
    CHECK(ls_gpcm_data_build(t, "A*,B1", NAN, 0, &d, &e) == LS_ERR_INPUT);
    CHECK_MSG(strstr(e.message, ":4:4: column 'B1': expected an integer score, found '2.5'") != NULL, "%s", e.message);
    ls_table_free(t);
    write_tmp("d.csv", ",A1,A2,B1,x\n1,1,2,3,9\n2,2,NA,1,9\n3,3,1,2,9\n", p1, sizeof p1);
    CHECK(ls_items_table_read(p1, &t, &e) == 0);
    CHECK(ls_gpcm_data_build(t, "A*,B1", NAN, 0, &d, &e) == 0);
    CHECK(d->J == 3 && d->n == 3 && d->lowest == 1);
    CHECK(d->ncat[0] == 3 && d->ncat[1] == 2 && d->ncat[2] == 3);
    CHECK(d->Y == NULL && isnan(ls_resp_get(&d->R, 1, 1)) && ls_resp_get(&d->R, 0, 0) == 0 &&
          ls_resp_get(&d->R, 0, 2) == 2);
    ls_gpcm_data *d2 = NULL;
    CHECK(ls_gpcm_data_build(t, "A*,B1", 0, 0, &d2, &e) == 0);
    CHECK(d2->ncat[0] == 4);
    ls_gpcm_data_free(d2);
    CHECK(ls_gpcm_data_build(t, "A*", NAN, 2, &d2, &e) == LS_ERR_INPUT);
    CHECK_MSG(strstr(e.message, "above the highest category") != NULL, "%s", e.message);
    CHECK(ls_gpcm_data_build(t, "Z*", NAN, 0, &d2, &e) == LS_ERR_OPTION);
    /* patterns */
    size_t K;
    int *pat;
    write_tmp("p.csv", "item,f1,f2\nB1,0,1\nA1,1,0\nA2,1,1\n", p2, sizeof p2);
    CHECK(ls_gpcm_pattern_read(p2, d, &K, &pat, &e) == 0);
    CHECK(K == 2 && pat[0] == 1 && pat[1] == 0 && pat[2] == 1 && pat[3] == 1 && pat[4] == 0 && pat[5] == 1);
    ls_gpcm_pattern_free(pat);
    write_tmp("p.csv", "f1,f2\n1,0\n1,1\n0,2\n", p2, sizeof p2);
    CHECK(ls_gpcm_pattern_read(p2, d, &K, &pat, &e) == LS_ERR_INPUT);
    CHECK_MSG(strstr(e.message, ":4:2: expected 0 or 1 in a loading pattern, found '2'") != NULL, "%s", e.message);
    write_tmp("p.csv", "f1,f2\n1,0\n1,1\n", p2, sizeof p2);
    CHECK(ls_gpcm_pattern_read(p2, d, &K, &pat, &e) == LS_ERR_INPUT);
    write_tmp("p.csv", "item,f1\nA1,1\nQ9,1\nB1,1\n", p2, sizeof p2);
    CHECK(ls_gpcm_pattern_read(p2, d, &K, &pat, &e) == LS_ERR_INPUT);
    CHECK_MSG(strstr(e.message, ":3:1: item 'Q9' is not among the items") != NULL, "%s", e.message);
    /* options */
    ls_gpcm_options o;
    ls_gpcm_options_init(&o);
    lsg_fit f;
    ls_result *f_r = NULL;
    o.factors = 0;
    CHECK(run_gpcm(d, NULL, &o, &f_r, &f, &e) == LS_ERR_OPTION);
    o.factors = 2;
    o.method = LS_GPCM_MML;
    o.factors = 7;
    CHECK(run_gpcm(d, NULL, &o, &f_r, &f, &e) == LS_ERR_OPTION);
    int bad[6] = {1, 0, 1, 0, 1, 0};
    o.factors = 2;
    o.method = LS_GPCM_GVEM;
    CHECK(run_gpcm(d, bad, &o, &f_r, &f, &e) == LS_ERR_INPUT);
    CHECK_MSG(strstr(e.message, "factor 2 has no items") != NULL, "%s", e.message);
    ls_gpcm_data_free(d);
    ls_table_free(t);
    remove(p1);
    remove(p2);
}

/* The public handles: scores from an int matrix with their accessors, the
 * options' checks naming fields, the fit's entries with their labels and
 * warnings, a pattern from a table parsed in memory. */
static void test_handles(void)
{
    lsg_sim s;
    ls_error e = {0, ""};
    CHECK(lsg_simulate(200, 6, 2, 3, 4, 0.05, 17, &s, &e) == 0);
    ls_gpcm_data *d = NULL;
    CHECK(ls_gpcm_data_new(s.N, s.J, s.Y, NULL, 0, &d, &e) == 0);
    if (!d) {
        lsg_sim_free(&s);
        return;
    }
    CHECK(ls_gpcm_data_npersons(d) == 200 && ls_gpcm_data_nitems(d) == 6 && ls_gpcm_data_lowest(d) == 0);
    CHECK(strcmp(ls_gpcm_data_item(d, 5), "item6") == 0 && ls_gpcm_data_item(d, 6) == NULL);
    CHECK(ls_gpcm_data_source(d) == NULL);
    int ok = 1;
    for (size_t j = 0; j < 6; j++) ok &= ls_gpcm_data_categories(d, j) == s.P[j] + 1;
    CHECK(ok);
    ls_gpcm_options o;
    ls_gpcm_options_init(&o);
    CHECK(ls_gpcm_options_check(&o, &e) == 0);
    o.tol = 0;
    CHECK(ls_gpcm_options_check(&o, &e) == LS_ERR_OPTION);
    CHECK_MSG(strcmp(e.message, "tol: expected a positive number") == 0, "%s", e.message);
    o.tol = 1e-6;
    o.max_iter = 0;
    CHECK(ls_gpcm_options_check(&o, &e) == LS_ERR_OPTION && strcmp(e.message, "max_iter: expected at least 1") == 0);
    o.max_iter = 300;
    o.factors = 11;
    CHECK(ls_gpcm_options_check(&o, &e) == LS_ERR_OPTION && strcmp(e.message, "factors: expected 1..10") == 0);
    o.factors = 2;
    o.threads = 2;
    /* the pattern in item order, parsed from memory: item j loads on j mod 2 */
    const char *text = "f1,f2\n1,0\n0,1\n1,0\n0,1\n1,0\n0,1\n";
    ls_table *t = NULL;
    int *pat = NULL;
    size_t K = 0;
    CHECK(ls_table_parse(text, strlen(text), "<memory>", &t, &e) == 0);
    CHECK(ls_gpcm_pattern_from_table(t, d, &K, &pat, &e) == 0 && K == 2);
    ls_table_free(t);
    ls_result *r = NULL;
    if (pat) CHECK_MSG(ls_gpcm_run(d, pat, &o, &r, &e) == 0, "%s", e.message);
    if (r) {
        size_t rows, cols;
        const lsg_fit *f = ls_result_payload(r, "gpcm-fit");
        CHECK(strcmp(ls_result_kind(r), "gpcm-fit") == 0);
        CHECK(ls_result_numbers(r, "slopes", &rows, &cols) && rows == 6 && cols == 2);
        CHECK(strcmp(ls_result_row_labels(r, "steps"), "items") == 0 && strcmp(ls_result_col_labels(r, "steps"), "step") == 0);
        CHECK(ls_result_numbers(r, "steps", &rows, &cols) && cols == f->maxcat - 1 && ls_result_nstrings(r, "step") == cols);
        CHECK(strcmp(ls_result_string(r, "step", 0), "b1") == 0);
        CHECK(ls_result_numbers(r, "pattern", &rows, &cols)[1] == 0.0);
        CHECK(ls_result_number(r, "elbo") == f->elbo && ls_result_number(r, "iterations") == f->iterations);
        CHECK(ls_result_type(r, "se_factor_cor") == LS_ENTRY_NUMBERS);
        CHECK(ls_result_type(r, "rotation") == LS_ENTRY_NONE); /* confirmatory */
        CHECK(ls_result_numbers(r, "elbo_trace", &rows, &cols) && rows == f->iterations + 1u);
        CHECK(ls_result_nwarnings(r) == f->nwarnings);
    }
    ls_result_free(r);
    ls_gpcm_pattern_free(pat);
    ls_gpcm_data_free(d);
    /* scores that are not data */
    int Y[4] = {0, 1, 0, 70};
    CHECK(ls_gpcm_data_new(2, 2, Y, NULL, 0, &d, &e) == LS_ERR_INPUT && d == NULL);
    Y[3] = 0;
    CHECK(ls_gpcm_data_new(2, 2, Y, NULL, 0, &d, &e) == LS_ERR_INPUT && d == NULL); /* item 2: one category */
    CHECK_MSG(strstr(e.message, "every observed score is the lowest one") != NULL, "%s", e.message);
    CHECK(ls_gpcm_data_new(2, 2, Y, NULL, 1, &d, &e) == LS_ERR_OPTION && d == NULL);
    /* one category observed, not the lowest (item 2 always 2 of 0..2), and
     * with the categories given (item 2 always 0 of 3) */
    int Z[6] = {0, 2, 1, 2, 2, 2};
    CHECK(ls_gpcm_data_new(3, 2, Z, NULL, 0, &d, &e) == LS_ERR_INPUT && d == NULL);
    CHECK_MSG(strcmp(e.message, "scores: column 'item2': every observed score is 2, one category of 3; an item needs "
                                "responses in at least 2 categories (drop it from `items`)") == 0, "%s", e.message);
    Z[1] = Z[3] = Z[5] = 0;
    CHECK(ls_gpcm_data_new(3, 2, Z, NULL, 3, &d, &e) == LS_ERR_INPUT && d == NULL);
    CHECK_MSG(strstr(e.message, "column 'item2': every observed score is 0, one category of 3") != NULL, "%s", e.message);
    Z[5] = 1; /* two categories: accepted as data, but 3 persons are too few for a slope and 2 steps */
    CHECK(ls_gpcm_data_new(3, 2, Z, NULL, 3, &d, &e) == LS_OK && d != NULL);
    ls_gpcm_options go;
    ls_gpcm_options_init(&go);
    go.factors = 1;
    ls_result *gr = NULL;
    CHECK(ls_gpcm_run(d, NULL, &go, &gr, &e) == LS_ERR_OPTION && gr == NULL);
    CHECK_MSG(strcmp(e.message, "factors: item 'item1' with 1 slope and 2 steps needs more than 3 persons "
                                "(persons > slopes + steps: each item's are estimated from its persons), found 3") == 0,
              "%s", e.message);
    ls_gpcm_data_free(d);
    d = NULL;
    lsg_sim_free(&s);
}

/* A complete fit with standard errors, written as JSON and read back. */
static void test_fit_json(void)
{
    lsg_sim s;
    ls_error e = {0, ""};
    CHECK(lsg_simulate(500, 12, 2, 3, 5, 0.05, 8, &s, &e) == 0);
    ls_gpcm_data d = sim_data(&s);
    d.source = (char *)"(simulated)";
    ls_gpcm_options o;
    ls_gpcm_options_init(&o);
    o.factors = 2;
    o.threads = 2;
    lsg_fit f, f1;
    ls_result *f_r = NULL, *f1_r = NULL;
    CHECK(run_gpcm(&d, s.pattern, &o, &f_r, &f, &e) == 0);
    CHECK(f.se_a && f.se_b && f.se_sigma);
    CHECK(f.starts == 3 && f.starts_at_best >= 1);
    CHECK(isfinite(f.loglik) && f.elbo < f.loglik);
    CHECK_NEAR(f.vbic, -2 * f.elbo + log(500.0) * (double)f.nparams, 1e-8);
    size_t npar = 0;
    for (size_t c = 0; c < 24; c++) npar += s.pattern[c];
    for (size_t j = 0; j < 12; j++) npar += s.P[j];
    CHECK(f.nparams == npar + 1);
    int se_ok = 1;
    for (size_t c = 0; c < 24; c++)
        if (s.pattern[c]) se_ok &= f.se_a[c] > 0.01 && f.se_a[c] < 0.5;
    CHECK(se_ok);
    CHECK(f.se_sigma[1] > 0.005 && f.se_sigma[1] < 0.2);
    printf("  fit with SEs: ELBO %.3f, loglik %.3f, vBIC %.2f, SE(a_11) %.4f, SE(rho) %.4f\n", f.elbo, f.loglik,
           f.vbic, f.se_a[0], f.se_sigma[1]);
    /* one thread gives the same numbers */
    o.threads = 1;
    CHECK(run_gpcm(&d, s.pattern, &o, &f1_r, &f1, &e) == 0);
    CHECK(f1.elbo == f.elbo && f1.loglik == f.loglik && memcmp(f1.a, f.a, 24 * sizeof(double)) == 0);
    ls_result_free(f1_r);
    char path[256];
    snprintf(path, sizeof path, "/tmp/test_gpcm_%ld.json", (long)getpid());
    CHECK(ls_result_write(f_r, path, NULL, "[\"gpcm\",\"x.csv\"]", &e) == 0);
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    CHECK(root != NULL);
    if (root) {
        CHECK(strcmp(json_string_value(json_object_get(root, "version")), LS_VERSION) == 0);
        CHECK(json_integer_value(json_object_get(root, "seed")) == 1);
        CHECK(json_array_size(json_object_get(root, "steps")) == 12);
        CHECK(json_array_size(json_array_get(json_object_get(root, "steps"), 11)) == s.P[11]);
        CHECK(json_is_array(json_object_get(json_object_get(root, "options"), "command_line")));
        CHECK(json_real_value(json_object_get(root, "elbo")) == f.elbo);
        json_decref(root);
    }
    remove(path);
    ls_result_free(f_r);
    d.source = NULL;
    sim_data_free(&d);
    lsg_sim_free(&s);
}

/* bfi: 25 items, 6 categories, the five scales. */
static void test_bfi(void)
{
    char buf[512];
    const char *path = h_shared_data("bfi.csv", buf, sizeof buf);
    if (!path) return;
    ls_error e = {0, ""};
    ls_table *t = NULL;
    CHECK(ls_items_table_read(path, &t, &e) == 0);
    ls_gpcm_data *d = NULL;
    CHECK_MSG(ls_gpcm_data_build(t, "A*,C*,E*,N*,O*", NAN, 0, &d, &e) == 0, "%s", e.message);
    CHECK(d->n == 2800 && d->J == 25 && d->lowest == 1);
    const size_t K = 5;
    int pat[25 * 5];
    for (size_t j = 0; j < 25; j++)
        for (size_t k = 0; k < K; k++) pat[j * K + k] = j / 5 == k;
    ls_gpcm_options o;
    ls_gpcm_options_init(&o);
    o.factors = K;
    o.threads = 2;
    o.skip_se = 1;
    o.starts = 1;
    lsg_fit f;
    ls_result *f_r = NULL;
    double t0 = wall();
    int rc = run_gpcm(d, pat, &o, &f_r, &f, &e);
    CHECK_MSG(rc == 0, "%s", e.message);
    if (!rc) {
        printf("  bfi K=5 confirmatory: %.2f s, %u iterations, ELBO %.2f, vBIC %.2f\n", wall() - t0, f.iterations,
               f.elbo, f.vbic);
        CHECK(f.converged && f.monotone);
        /* this copy of bfi has its reverse-keyed items (A1 C4 C5 E1 E2 O2 O5)
         * already recoded: every slope is positive on its scale */
        for (size_t j = 0; j < 25; j++)
            CHECK_MSG(f.a[j * K + j / 5] > 0, "item %s slope %g", d->items[j], f.a[j * K + j / 5]);
        /* a reverse-keyed item (A1 scored 5 - y) gets the negative slope */
        double a1 = f.a[0], a2 = f.a[K];
        ls_result_free(f_r);
        for (size_t c = 0; c < d->R.nnz; c++) /* the data keep the observed cells */
            if (d->R.ri[c] == 0) d->R.rv[c] = 5 - d->R.rv[c];
        ls_resp_sync_items(&d->R);
        rc = run_gpcm(d, pat, &o, &f_r, &f, &e);
        CHECK_MSG(rc == 0, "%s", e.message);
        if (!rc) {
            printf("  A1 reversed: slope %.4f (was %.4f), A2 %.4f (was %.4f)\n", f.a[0], a1, f.a[K], a2);
            CHECK(fabs(f.a[0] + a1) < 0.02 && fabs(f.a[K] - a2) < 0.02);
            ls_result_free(f_r);
        }
    }
    ls_gpcm_data_free(d);
    ls_table_free(t);
}


/* Sparse long data (issue 29): 3,000 persons x 20 items with about 20 % of
 * the cells observed, written as a wide table (NA elsewhere) and as a long
 * table with its rows shuffled.  Both give the same fit (the same cells,
 * persons summed in another order: equal to rounding), and GVEM and MML
 * recover the simulated slopes and steps from the observed cells. */
static void test_sparse_long(void)
{
    const size_t N = 3000, J = 20, K = 1;
    lsg_sim s;
    ls_error e = {0, ""};
    CHECK(lsg_simulate(N, J, K, 3, 4, 0.8, 29, &s, &e) == 0);
    size_t nnz = 0;
    for (size_t c = 0; c < N * J; c++) nnz += s.Y[c] >= 0;
    char *wide = malloc(N * J * 4 + J * 5 + 64), *lng = malloc(nnz * 24 + 32);
    size_t *rows = malloc(nnz * sizeof *rows);
    size_t w = 0, l = 0, k = 0;
    for (size_t j = 0; j < J; j++) w += (size_t)sprintf(wide + w, "%sI%02zu", j ? "," : "", j + 1);
    w += (size_t)sprintf(wide + w, "\n");
    size_t n1 = 0; /* persons with a response (a long table has no others) */
    for (size_t i = 0; i < N; i++) {
        size_t cnt = 0;
        for (size_t j = 0; j < J; j++) cnt += s.Y[i * J + j] >= 0;
        if (!cnt) continue;
        n1++;
        for (size_t j = 0; j < J; j++) {
            const int y = s.Y[i * J + j];
            if (y >= 0) w += (size_t)sprintf(wide + w, "%s%d", j ? "," : "", y), rows[k++] = i * J + j;
            else w += (size_t)sprintf(wide + w, "%sNA", j ? "," : "");
        }
        w += (size_t)sprintf(wide + w, "\n");
    }
    uint64_t st = 29; /* shuffle the long rows */
    for (size_t a = nnz; a > 1; a--) {
        st = st * 6364136223846793005ULL + 1442695040888963407ULL;
        size_t b = (size_t)(st >> 33) % a, t = rows[a - 1];
        rows[a - 1] = rows[b];
        rows[b] = t;
    }
    l += (size_t)sprintf(lng + l, "person,item,score\n");
    for (size_t a = 0; a < nnz; a++)
        l += (size_t)sprintf(lng + l, "p%zu,I%02zu,%d\n", rows[a] / J + 1, rows[a] % J + 1, s.Y[rows[a]]);
    ls_table *tw = NULL, *tl = NULL;
    ls_gpcm_data *dw = NULL, *dl = NULL;
    CHECK(ls_table_parse(wide, w, "wide.csv", &tw, &e) == 0);
    CHECK(ls_table_parse(lng, l, "long.csv", &tl, &e) == 0);
    CHECK_MSG(ls_gpcm_data_build(tw, NULL, 0, 0, &dw, &e) == 0, "%s", e.message);
    CHECK_MSG(ls_gpcm_data_build_long(tl, "person,item,score", 0, 0, &dl, &e) == 0, "%s", e.message);
    if (!dw || !dl) return;
    CHECK(n1 > N * 9 / 10 && dl->n == n1 && dw->n == n1 && dl->J == J && dl->R.nnz == nnz && dw->R.nnz == nnz && dl->Y == NULL);
    size_t map[20]; /* long item u -> wide item j */
    for (size_t u = 0; u < J; u++) map[u] = (size_t)atoi(dl->items[u] + 1) - 1;
    int pat[20];
    for (size_t j = 0; j < J; j++) pat[j] = 1;
    for (int method = 0; method < 2; method++) {
        ls_gpcm_options o;
        ls_gpcm_options_init(&o);
        o.factors = 1;
        o.starts = 1;
        o.threads = 2;
        o.skip_se = 1;
        o.method = method ? LS_GPCM_MML : LS_GPCM_GVEM;
        ls_result *rw = NULL, *rl = NULL;
        lsg_fit fw, fl;
        int rc1 = run_gpcm(dw, pat, &o, &rw, &fw, &e), rc2 = run_gpcm(dl, pat, &o, &rl, &fl, &e);
        CHECK_MSG(rc1 == 0 && rc2 == 0, "%s", e.message);
        if (rc1 || rc2) return;
        const size_t nbw = fw.maxcat - 1, nbl = fl.maxcat - 1;
        double dab = 0, sa = 0, sb = 0;
        size_t nb = 0;
        for (size_t u = 0; u < J; u++) {
            const size_t j = map[u];
            dab = fmax(dab, fabs(fl.a[u] - fw.a[j]) / (1 + fabs(fw.a[j])));
            sa += pow(fw.a[j] - s.a[j], 2);
            for (size_t h = 0; h < s.P[j]; h++) {
                dab = fmax(dab, fabs(fl.b[u * nbl + h] - fw.b[j * nbw + h]) / (1 + fabs(fw.b[j * nbw + h])));
                sb += pow(fw.b[j * nbw + h] - s.b[s.off[j] + h + 1], 2);
                nb++;
            }
        }
        const double rmse_a = sqrt(sa / (double)J), rmse_b = sqrt(sb / (double)nb);
        const double dl_ = method ? fabs(fl.loglik - fw.loglik) / fabs(fw.loglik) : fabs(fl.elbo - fw.elbo) / fabs(fw.elbo);
        printf("  %s, %zu of %zu cells observed (%.1f %%): long vs wide: estimates %.1e, %s %.1e relative; "
               "RMSE slopes %.3f, steps %.3f\n",
               method ? "MML" : "GVEM", nnz, N * J, 100.0 * (double)nnz / (double)(N * J), dab,
               method ? "log-likelihood" : "lower bound", dl_, rmse_a, rmse_b);
        CHECK_MSG(dab < 1e-8 && dl_ < 1e-11, "%g %g", dab, dl_);
        CHECK_MSG(rmse_a < 0.25 && rmse_b < 0.3, "%g %g", rmse_a, rmse_b);
        ls_result_free(rw);
        ls_result_free(rl);
    }
    ls_gpcm_data_free(dw);
    ls_gpcm_data_free(dl);
    ls_table_free(tw);
    ls_table_free(tl);
    free(wide);
    free(lng);
    free(rows);
    lsg_sim_free(&s);
}

/* test_gpcm [--quick | --only NAME] */
int main(int argc, char **argv)
{
    quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    const char *only = argc > 2 && strcmp(argv[1], "--only") == 0 ? argv[2] : NULL;
#define RUN_IF(fn) do { if (!only || strcmp(only, #fn) == 0) RUN(fn); } while (0)
    RUN_IF(test_eta);
    RUN_IF(test_binary_reproduces_m2pl);
    RUN_IF(test_elbo_monotone);
    RUN_IF(test_sums_direct);
    RUN_IF(test_quad_tables);
    RUN_IF(test_exp_neg);
    RUN_IF(test_crossprod_blocked);
    RUN_IF(test_mml_gradient);
    RUN_IF(test_data_and_patterns);
    RUN_IF(test_fit_json);
    RUN_IF(test_handles);
    RUN_IF(test_recovery_quick);
    RUN_IF(test_rotation_jacobian);
    RUN_IF(test_rotated_se_identity);
    RUN_IF(test_unobserved_category_warning);
    RUN_IF(test_sparse_long);
    RUN_IF(test_screened_starts);
    if (quick) RUN_IF(test_rotated_se_spread_quick);
    if (!quick) {
        RUN_IF(test_rotated_se_spread);
        RUN_IF(test_exploratory);
        RUN_IF(test_recovery_spec);
        RUN_IF(test_bfi);
    }
    if (only && strcmp(only, "test_rotated_se_spread_gvem") == 0) RUN(test_rotated_se_spread_gvem);
#undef RUN_IF
    return h_finish();
}
