/*
 * gpcm.c -- the multidimensional generalized partial credit model: Gaussian
 * variational EM (Cui, Wang and Xu, Psychometrika 2024, arXiv 2401.13090; the
 * updates of ../shared/spec/gpcm.md) and the marginal likelihood by adaptive
 * Gauss-Hermite quadrature.
 *
 * The lower bound.  With d = k - y, c = b_k - b_y and w = d a'theta - c for
 * every k != y, P(y | theta) >= prod_k logistic(-w_k) (since 1 + sum e^w <=
 * prod (1 + e^w)), and Jaakkola and Jordan's bound
 *   log logistic(-w) >= log logistic(xi) - (w + xi)/2 - eta(xi) (w^2 - xi^2)
 * is quadratic in theta.  Under q_i = N(mu_i, S_i), E w = d a'mu - c and
 * E w^2 = (E w)^2 + d^2 a'S a; the bound is maximised at xi^2 = E w^2, where
 * the term is log logistic(xi) - (E w + xi)/2.  The full bound adds
 * -KL(q_i || N(0, Sigma)) with its log-determinants.
 *
 * Every update maximises the bound exactly in one block (q, Sigma, slopes,
 * steps, xi), so the bound cannot decrease: coordinate ascent.  The
 * rescaling of Sigma to a correlation matrix (confirmatory) or to the
 * identity (exploratory, through its Cholesky factor, which keeps the
 * anchors' lower-triangular pattern) is a change of variables theta -> D^-1
 * theta, a -> D' a under which the bound is invariant.
 *
 * Parallel loops run over persons or over items and write disjoint
 * outputs; sums across persons are taken in person order, so results do not
 * depend on the thread count.
 */
#include "gpcm/model.h"
#include "kernel/linalg.h"
#include "kernel/special.h"

#include <gsl/gsl_sf_erf.h>

#include <math.h>
#include <string.h>

#define LSG_KMAX 10
#define LSG_LOG_2PI 1.8378770664093454836
#define LSG_QTAB 4096 /* the largest table of lsg_quad (mA, mB) */

void lsg_offsets(const unsigned *P, size_t J, size_t *off)
{
    off[0] = 0;
    for (size_t j = 0; j < J; j++) off[j + 1] = off[j] + P[j] + 1;
}

double lsg_eta(double xi)
{
    xi = fabs(xi);
    if (xi < 1e-4) return 0.125 - xi * xi / 96.0;
    return tanh(0.5 * xi) / (4.0 * xi);
}

/* e^x for x in [-700, 0] (the local step's e^-xi, xi clipped at 700, where
 * 1 +- e^-xi is 1 exactly either way), branch-free so that a loop of them
 * vectorises: x = n ln 2 + r, |r| <= ln 2 / 2 (Cody and Waite's two-part
 * ln 2, n by the round-to-integer constant 1.5 2^52, whose low bits then
 * hold n), e^r by its Taylor polynomial to degree 13 (truncation below
 * 5e-18 relative), 2^n from the bits.  Within 2 ulp of exp (checked by
 * test_gpcm's test_exp_neg). */
static inline double exp_neg(double x)
{
    const double shift = 6755399441055744.0; /* 1.5 2^52 */
    const double t = x * 1.4426950408889634074 + shift, n = t - shift;
    const double r = (x - n * 6.93147180369123816490e-01) - n * 1.90821492927058770002e-10;
    double p = 1.0 / 6227020800.0; /* 1/13! */
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    uint64_t u;
    memcpy(&u, &t, sizeof u);
    u = (u + 1023u) << 52;
    double sc;
    memcpy(&sc, &u, sizeof sc);
    return p * sc;
}

double lsg_exp_neg(double x) { return exp_neg(x); }

/* ---------------------------------------------------------------- */
/* State                                                             */
/* ---------------------------------------------------------------- */

int lsg_resp_from_scores(const int *Y, size_t N, size_t J, ls_resp *out, ls_error *err)
{
    size_t nnz = 0;
    for (size_t c = 0; c < N * J; c++) nnz += Y[c] >= 0;
    const size_t mm = nnz ? nnz : 1;
    uint32_t *pi = ls_malloc(mm * sizeof *pi), *pj = ls_malloc(mm * sizeof *pj);
    double *pv = ls_malloc(mm * sizeof *pv);
    int rc;
    if (!pi || !pj || !pv) rc = ls_nomem(err);
    else if (N > LS_RESP_MAX_INDEX || J > LS_RESP_MAX_INDEX)
        rc = ls_fail(err, LS_ERR_INPUT, "%zu persons and %zu items: at most %zu of each", N, J,
                     (size_t)LS_RESP_MAX_INDEX);
    else {
        size_t k = 0, dup;
        for (size_t i = 0; i < N; i++)
            for (size_t j = 0; j < J; j++)
                if (Y[i * J + j] >= 0) {
                    pi[k] = (uint32_t)i;
                    pj[k] = (uint32_t)j;
                    pv[k++] = (double)Y[i * J + j];
                }
        rc = ls_resp_from_triples(N, J, nnz, pi, pj, pv, &dup, out, err);
    }
    ls_free(pi);
    ls_free(pj);
    ls_free(pv);
    return rc;
}

static int init_common(lsg_model *m, size_t K, const unsigned *P, const int *pattern, int exploratory,
                       int threads, ls_error *err);

int lsg_init(lsg_model *m, size_t N, size_t J, size_t K, const int *Y, const unsigned *P,
             const int *pattern, int exploratory, int threads, ls_error *err)
{
    memset(m, 0, sizeof *m);
    if (K < 1 || K > LSG_KMAX) return ls_fail(err, LS_ERR_OPTION, "factors: expected 1..%d, got %zu", LSG_KMAX, K);
    int rc = lsg_resp_from_scores(Y, N, J, &m->Rown, err);
    if (rc) return rc;
    m->R = &m->Rown;
    return init_common(m, K, P, pattern, exploratory, threads, err);
}

int lsg_init_resp(lsg_model *m, const ls_resp *R, size_t K, const unsigned *P, const int *pattern,
                  int exploratory, int threads, ls_error *err)
{
    memset(m, 0, sizeof *m);
    if (K < 1 || K > LSG_KMAX) return ls_fail(err, LS_ERR_OPTION, "factors: expected 1..%d, got %zu", LSG_KMAX, K);
    m->R = R;
    return init_common(m, K, P, pattern, exploratory, threads, err);
}

double *lsg_eta_at(const lsg_model *m, size_t i, size_t j)
{
    const ls_resp *R = m->R;
    size_t e = m->eoff[i];
    for (size_t c = R->rp[i]; c < R->rp[i + 1]; c++) {
        if (R->ri[c] == j) return m->eta + e;
        e += m->P[R->ri[c]] + 1;
    }
    return NULL;
}

static int init_common(lsg_model *m, size_t K, const unsigned *P, const int *pattern, int exploratory,
                       int threads, ls_error *err)
{
    const ls_resp *R = m->R;
    const size_t N = R->n, J = R->q, nnz = R->nnz ? R->nnz : 1;
    m->N = N;
    m->J = J;
    m->K = K;
    m->exploratory = exploratory;
    m->threads = threads > 0 ? threads : 1;
    m->P = ls_malloc(J * sizeof *m->P);
    m->off = ls_malloc((J + 1) * sizeof *m->off);
    m->pattern = ls_malloc(J * K * sizeof *m->pattern);
    if (!m->P || !m->off || !m->pattern) goto nomem;
    memcpy(m->P, P, J * sizeof *P);
    memcpy(m->pattern, pattern, J * K * sizeof *pattern);
    lsg_offsets(P, J, m->off);
    m->T = m->off[J];
    m->eoff = ls_malloc((N + 1) * sizeof *m->eoff);
    if (!m->eoff) goto nomem;
    m->eoff[0] = 0;
    for (size_t i = 0; i < N; i++) {
        size_t e = 0;
        for (size_t c = R->rp[i]; c < R->rp[i + 1]; c++) e += P[R->ri[c]] + 1;
        m->eoff[i + 1] = m->eoff[i] + e;
    }
    m->a = ls_calloc(J * K, sizeof *m->a);
    m->b = ls_calloc(m->T, sizeof *m->b);
    m->sigma = ls_calloc(K * K, sizeof *m->sigma);
    m->mu = ls_calloc(N * K, sizeof *m->mu);
    m->S = ls_calloc(N * K * K, sizeof *m->S);
    m->eta = ls_calloc(m->eoff[N] ? m->eoff[N] : 1, sizeof *m->eta);
    m->A = ls_calloc(nnz, sizeof *m->A);
    m->B = ls_calloc(nnz, sizeof *m->B);
    m->ell = ls_calloc(N, sizeof *m->ell);
    m->mu2 = ls_calloc(N * K, sizeof *m->mu2);
    m->S2 = ls_calloc(N * K * K, sizeof *m->S2);
    if (!m->a || !m->b || !m->sigma || !m->mu || !m->S || !m->eta || !m->A || !m->B || !m->ell || !m->mu2 ||
        !m->S2)
        goto nomem;
    for (size_t k = 0; k < K; k++) m->sigma[k * K + k] = 1.0;
    /* the sums over persons: item j's dimensions and offsets */
    m->sdim = ls_malloc(J * K * sizeof *m->sdim);
    m->snd = ls_malloc(J * sizeof *m->snd);
    m->soff = ls_malloc((J + 1) * sizeof *m->soff);
    m->hoff = ls_malloc((J + 1) * sizeof *m->hoff);
    if (!m->sdim || !m->snd || !m->soff || !m->hoff) goto nomem;
    m->soff[0] = m->hoff[0] = 0;
    for (size_t j = 0; j < J; j++) {
        size_t nd = 0;
        for (size_t k = 0; k < K; k++)
            if (exploratory || pattern[j * K + k]) m->sdim[j * K + nd++] = k;
        m->snd[j] = nd;
        m->soff[j + 1] = m->soff[j] + nd * nd + nd + P[j] * nd;
        m->hoff[j + 1] = m->hoff[j] + (size_t)P[j] * P[j] + P[j];
    }
    m->ssz = m->soff[J];
    m->hsz = m->hoff[J];
    m->nblk = N < LSG_NBLOCK ? N : LSG_NBLOCK;
    m->sblk = ls_malloc(m->nblk * (m->ssz + K * K) * sizeof *m->sblk);
    m->hblk = ls_malloc(m->nblk * m->hsz * sizeof *m->hblk);
    m->ssum = ls_malloc((m->ssz + K * K) * sizeof *m->ssum);
    m->hsum = ls_malloc(m->hsz * sizeof *m->hsum);
    if (!m->sblk || !m->hblk || !m->ssum || !m->hsum) goto nomem;
    return LS_OK;
nomem:
    lsg_free(m);
    return ls_nomem(err);
}

void lsg_free(lsg_model *m)
{
    if (!m) return;
    ls_resp_free(&m->Rown);
    ls_free(m->eoff);
    ls_free(m->P);
    ls_free(m->off);
    ls_free(m->pattern);
    ls_free(m->a);
    ls_free(m->b);
    ls_free(m->sigma);
    ls_free(m->mu);
    ls_free(m->S);
    ls_free(m->eta);
    ls_free(m->A);
    ls_free(m->B);
    ls_free(m->ell);
    ls_free(m->dif);
    ls_free(m->lreg);
    ls_free(m->mu2);
    ls_free(m->S2);
    ls_free(m->sdim);
    ls_free(m->snd);
    ls_free(m->soff);
    ls_free(m->hoff);
    ls_free(m->sblk);
    ls_free(m->hblk);
    ls_free(m->ssum);
    ls_free(m->hsum);
    memset(m, 0, sizeof *m);
}

int lsg_set_covariates(lsg_model *m, const double *X, size_t p, int xmode, ls_error *err)
{
    ls_free(m->dif);
    ls_free(m->lreg);
    m->dif = m->lreg = NULL;
    m->X = X;
    m->p = p;
    m->xmode = p ? xmode : LSG_X_NONE;
    if (m->xmode == LSG_X_DIF && !(m->dif = ls_calloc(m->J * p, sizeof *m->dif))) return ls_nomem(err);
    if (m->xmode == LSG_X_LREG && !(m->lreg = ls_calloc(p * m->K, sizeof *m->lreg))) return ls_nomem(err);
    return LS_OK;
}

void lsg_person_shift(const lsg_model *m, size_t i, double *delta)
{
    const size_t K = m->K, p = m->p, c0 = m->R->rp[i], c1 = m->R->rp[i + 1];
    const uint32_t *it = m->R->ri;
    const double *x = m->X ? m->X + i * p : NULL;
    for (size_t c = c0; c < c1; c++) delta[it[c]] = 0;
    if (m->xmode == LSG_X_DIF)
        for (size_t c = c0; c < c1; c++) {
            const size_t j = it[c];
            for (size_t s = 0; s < p; s++) delta[j] += m->dif[j * p + s] * x[s];
        }
    else if (m->xmode == LSG_X_LREG) {
        double mean[LSG_KMAX] = {0};
        for (size_t k = 0; k < K; k++)
            for (size_t s = 0; s < p; s++) mean[k] += m->lreg[s * K + k] * x[s];
        for (size_t c = c0; c < c1; c++) {
            const size_t j = it[c];
            for (size_t k = 0; k < K; k++) delta[j] += m->a[j * K + k] * mean[k];
        }
    }
}

void lsg_set(lsg_model *m, const double *a, const double *b, const double *sigma)
{
    if (a) memcpy(m->a, a, m->J * m->K * sizeof *a);
    if (b) memcpy(m->b, b, m->T * sizeof *b);
    if (sigma) memcpy(m->sigma, sigma, m->K * m->K * sizeof *sigma);
    for (size_t j = 0; j < m->J; j++) m->b[m->off[j]] = 0.0;
    for (size_t c = 0; c < m->J * m->K; c++)
        if (!m->pattern[c]) m->a[c] = 0.0;
    m->stats = 0;
}

int lsg_start(lsg_model *m, ls_error *err)
{
    const size_t K = m->K;
    for (size_t i = 0; i < m->N; i++) {
        memset(m->mu + i * K, 0, K * sizeof *m->mu);
        memcpy(m->S + i * K * K, m->sigma, K * K * sizeof *m->S);
    }
    m->stats = 0;
    return lsg_local_step(m, err);
}

/* Small dense Cholesky pieces for the per-person K x K work (K <= LSG_KMAX),
 * inline rather than through GSL: the same arithmetic as ls_chol,
 * ls_chol_solve and ls_chol_inverse without a library call per row. */
#if defined(__GNUC__)
#define LSG_INLINE static inline __attribute__((always_inline))
#else
#define LSG_INLINE static inline
#endif

LSG_INLINE int chol_small(double *A, size_t n)
{
    for (size_t j = 0; j < n; j++) {
        double d = A[j * n + j];
        for (size_t k = 0; k < j; k++) d -= A[j * n + k] * A[j * n + k];
        if (!(d > 0) || !isfinite(d)) return 1;
        d = sqrt(d);
        A[j * n + j] = d;
        for (size_t i = j + 1; i < n; i++) {
            double t = A[i * n + j];
            for (size_t k = 0; k < j; k++) t -= A[i * n + k] * A[j * n + k];
            A[i * n + j] = t / d;
        }
        for (size_t i = 0; i < j; i++) A[i * n + j] = 0;
    }
    return 0;
}

LSG_INLINE void chol_solve_small(const double *L, size_t n, double *x)
{
    for (size_t i = 0; i < n; i++) {
        double t = x[i];
        for (size_t k = 0; k < i; k++) t -= L[i * n + k] * x[k];
        x[i] = t / L[i * n + i];
    }
    for (size_t i = n; i-- > 0;) {
        double t = x[i];
        for (size_t k = i + 1; k < n; k++) t -= L[k * n + i] * x[k];
        x[i] = t / L[i * n + i];
    }
}

LSG_INLINE void chol_inverse_small(const double *L, size_t n, double *out)
{
    for (size_t c = 0; c < n; c++) {
        double *col = out + c * n; /* row c = column c: the inverse is symmetric */
        for (size_t r = 0; r < n; r++) col[r] = r == c;
        chol_solve_small(L, n, col);
    }
}

/* Sigma^-1 and log|Sigma|, or non-zero when Sigma is not positive definite. */
static int sigma_inverse(const double *sigma, size_t K, double *inv, double *logdet)
{
    double L[LSG_KMAX * LSG_KMAX];
    memcpy(L, sigma, K * K * sizeof *L);
    if (ls_chol(L, K)) return 1;
    ls_chol_inverse(L, K, inv);
    *logdet = 2.0 * ls_chol_logdet_half(L, K);
    return 0;
}

/* ---------------------------------------------------------------- */
/* The five updates                                                  */
/* ---------------------------------------------------------------- */

/* Person i's steps' weights for item j from its eta block e (score y):
 * v[k - 1] = sum_{h != y} 2 eta_h (h - y) (1[h = k] - 1[y = k]), k = 1..P;
 * the steps' gradient is sum_i (c_ij + (a_j'mu_i) v_ij) (lsg_step_step). */
static inline void step_weights(const double *e, unsigned P, int y, double *v)
{
    double t = 0;
    for (size_t k = 0; k <= P; k++) {
        if ((int)k == y) continue;
        const double w = 2.0 * e[k] * (double)((int)k - y);
        if (k >= 1) v[k - 1] = w;
        t += w;
    }
    if (y >= 1) v[y - 1] = -t;
}

/* The sums of the blocks, in block order. */
static void sum_blocks(const double *blk, size_t nblk, size_t sz, double *out)
{
    memcpy(out, blk, sz * sizeof *out);
    for (size_t bk = 1; bk < nblk; bk++)
        for (size_t x = 0; x < sz; x++) out[x] += blk[bk * sz + x];
}

/* Person i's E-step from A, B, a and sinv (Sigma^-1) into Si, mi, with its
 * terms added to the block's sums acc (Sigma's at acc + ssz); non-zero when
 * the precision is not positive definite.  Written once for K and the
 * dimensions dm of each item; estep_person calls it with K a constant and
 * ident = 1 when every item has all K dimensions in order (exploratory), so
 * that the small loops unroll: the same operations in the same order. */
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
#define LSG_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define LSG_CLONES
#endif
#define LSG_DIM(dm, p) (ident ? (p) : (dm)[p])
/* A vector loop for gcc; clang, which reports a `simd` loop it could not
 * vectorise as a warning (an error under -Werror, e.g. in the sanitizer and
 * fuzzing builds), gets the plain loop: the same operations in the same order. */
#if defined(__GNUC__) && !defined(__clang__)
#define LSG_SIMD _Pragma("omp simd")
#else
#define LSG_SIMD
#endif

LSG_INLINE int estep_person_k(const lsg_model *m, size_t i, const double *sinv, double *Si, double *mi, double *acc,
                              const size_t K, const int ident)
{
    const size_t c0 = m->R->rp[i], c1 = m->R->rp[i + 1];
    double Pm[LSG_KMAX * LSG_KMAX], r[LSG_KMAX], *sig = acc + m->ssz;
    memcpy(Pm, sinv, K * K * sizeof *Pm);
    memset(r, 0, K * sizeof *r);
    const uint32_t *it = m->R->ri;
    const double *yv = m->R->rv;
    for (size_t c = c0; c < c1; c++) {
        const size_t j = it[c];
        /* a_j is zero outside its dimensions dm (ascending): the same sums */
        const double *aj = m->a + j * K;
        const double w = 2.0 * m->A[c], v = m->B[c];
        const size_t nd = ident ? K : m->snd[j], *dm = m->sdim + j * K;
        if (!ident && nd == 1) { /* an item of one factor: the loop below, unrolled */
            const size_t dp = dm[0];
            if (aj[dp] == 0.0) continue;
            r[dp] += v * aj[dp];
            Pm[dp * K + dp] += w * aj[dp] * aj[dp];
            continue;
        }
        for (size_t p = 0; p < nd; p++) {
            const size_t dp = LSG_DIM(dm, p);
            if (aj[dp] == 0.0) continue;
            r[dp] += v * aj[dp];
            for (size_t s = 0; s <= p; s++) Pm[dp * K + LSG_DIM(dm, s)] += w * aj[dp] * aj[LSG_DIM(dm, s)];
        }
    }
    for (size_t p = 0; p < K; p++)
        for (size_t s = p + 1; s < K; s++) Pm[p * K + s] = Pm[s * K + p];
    if (chol_small(Pm, K)) return 1;
    chol_inverse_small(Pm, K, Si);
    memcpy(mi, r, K * sizeof *r);
    chol_solve_small(Pm, K, mi);
    /* the sums: Sigma's, then per item the slopes' and the steps' */
    for (size_t p = 0; p < K; p++)
        for (size_t q = 0; q < K; q++) sig[p * K + q] += Si[p * K + q] + mi[p] * mi[q];
    const double *e = m->eta + m->eoff[i];
    for (size_t c = c0; c < c1; c++) {
        const size_t j = it[c];
        const size_t nd = ident ? K : m->snd[j], *dm = m->sdim + j * K, P = m->P[j];
        double *M = acc + m->soff[j], *rr = M + nd * nd, *W = rr + nd, md[LSG_KMAX], vv[64];
        const double w = m->A[c], v = m->B[c];
        if (!ident && nd == 1) { /* the loops below, unrolled */
            const double m0 = mi[dm[0]];
            rr[0] += v * m0;
            M[0] += w * (Si[dm[0] * K + dm[0]] + m0 * m0);
            step_weights(e, m->P[j], (int)yv[c], vv);
            e += P + 1;
            for (size_t k = 0; k < P; k++) W[k] += vv[k] * m0;
            continue;
        }
        for (size_t p = 0; p < nd; p++) md[p] = mi[LSG_DIM(dm, p)];
        for (size_t p = 0; p < nd; p++) {
            rr[p] += v * md[p];
            const double *Sp = Si + LSG_DIM(dm, p) * K;
            for (size_t s = 0; s <= p; s++) M[p * nd + s] += w * (Sp[LSG_DIM(dm, s)] + md[p] * md[s]);
        }
        step_weights(e, m->P[j], (int)yv[c], vv);
        e += P + 1;
        for (size_t k = 0; k < P; k++)
            for (size_t p = 0; p < nd; p++) W[k * nd + p] += vv[k] * md[p];
    }
    return 0;
}

LSG_CLONES
static int estep_person(const lsg_model *m, size_t i, const double *sinv, double *Si, double *mi, double *acc)
{
    if (m->exploratory) switch (m->K) {
        case 2: return estep_person_k(m, i, sinv, Si, mi, acc, 2, 1);
        case 3: return estep_person_k(m, i, sinv, Si, mi, acc, 3, 1);
        case 4: return estep_person_k(m, i, sinv, Si, mi, acc, 4, 1);
        case 5: return estep_person_k(m, i, sinv, Si, mi, acc, 5, 1);
        case 6: return estep_person_k(m, i, sinv, Si, mi, acc, 6, 1);
        default: break;
        }
    else switch (m->K) { /* confirmatory: K a constant, the dimensions looked up */
        case 2: return estep_person_k(m, i, sinv, Si, mi, acc, 2, 0);
        case 3: return estep_person_k(m, i, sinv, Si, mi, acc, 3, 0);
        case 4: return estep_person_k(m, i, sinv, Si, mi, acc, 4, 0);
        case 5: return estep_person_k(m, i, sinv, Si, mi, acc, 5, 0);
        case 6: return estep_person_k(m, i, sinv, Si, mi, acc, 6, 0);
        default: break;
        }
    return estep_person_k(m, i, sinv, Si, mi, acc, m->K, 0);
}

int lsg_estep(lsg_model *m, ls_error *err)
{
    const size_t N = m->N, K = m->K, nb = m->nblk, sw = m->ssz + K * K;
    if (m->stats & LSG_STATS_P) { /* done by the local step's pass */
        double *t = m->mu;
        m->mu = m->mu2;
        m->mu2 = t;
        t = m->S;
        m->S = m->S2;
        m->S2 = t;
        m->stats = (m->stats & ~LSG_STATS_P) | LSG_STATS_E;
        return LS_OK;
    }
    double sinv[LSG_KMAX * LSG_KMAX], ld;
    if (sigma_inverse(m->sigma, K, sinv, &ld))
        return ls_fail(err, LS_ERR_NUMERIC, "gpcm: the latent covariance is not positive definite");
    int bad = 0;
#pragma omp parallel for schedule(static) num_threads(m->threads) reduction(| : bad)
    for (size_t bk = 0; bk < nb; bk++) {
        double *acc = m->sblk + bk * sw;
        memset(acc, 0, sw * sizeof *acc);
        for (size_t i = bk * N / nb; i < (bk + 1) * N / nb; i++)
            if (estep_person(m, i, sinv, m->S + i * K * K, m->mu + i * K, acc)) bad = 1;
    }
    if (bad) {
        m->stats &= ~LSG_STATS_E;
        return ls_fail(err, LS_ERR_NUMERIC, "gpcm: a variational precision is not positive definite");
    }
    sum_blocks(m->sblk, nb, sw, m->ssum);
    m->stats |= LSG_STATS_E;
    return LS_OK;
}

/* The E-step's sums under theta -> D^-1 theta (confirmatory: D diagonal,
 * d its entries; exploratory: D = L lower triangular, every item on all K
 * dimensions): M -> D^-1 M D^-T, r -> D^-1 r, W -> W D^-T.  M is kept in
 * its lower triangle. */
static void stats_rescale(lsg_model *m, const double *d, const double *L)
{
    const size_t J = m->J, K = m->K;
    for (size_t j = 0; j < J; j++) {
        const size_t nd = m->snd[j], *dm = m->sdim + j * K, P = m->P[j];
        double *M = m->ssum + m->soff[j], *r = M + nd * nd, *W = r + nd;
        if (d) {
            for (size_t p = 0; p < nd; p++) {
                r[p] /= d[dm[p]];
                for (size_t s = 0; s <= p; s++) M[p * nd + s] /= d[dm[p]] * d[dm[s]];
            }
            for (size_t k = 0; k < P; k++)
                for (size_t p = 0; p < nd; p++) W[k * nd + p] /= d[dm[p]];
            continue;
        }
        /* nd = K: tmp = L^-1 M (columns), M = tmp L^-T (rows) */
        double F[LSG_KMAX * LSG_KMAX], col[LSG_KMAX];
        for (size_t p = 0; p < K; p++)
            for (size_t s = 0; s <= p; s++) F[p * K + s] = F[s * K + p] = M[p * K + s];
        for (size_t c = 0; c < K; c++) {
            for (size_t q = 0; q < K; q++) col[q] = F[q * K + c];
            ls_trsv_lower(L, K, 0, col);
            for (size_t q = 0; q < K; q++) F[q * K + c] = col[q];
        }
        for (size_t q = 0; q < K; q++) ls_trsv_lower(L, K, 0, F + q * K);
        for (size_t p = 0; p < K; p++)
            for (size_t s = 0; s <= p; s++) M[p * K + s] = 0.5 * (F[p * K + s] + F[s * K + p]);
        ls_trsv_lower(L, K, 0, r);
        for (size_t k = 0; k < P; k++) ls_trsv_lower(L, K, 0, W + k * K);
    }
}

int lsg_sigma_step(lsg_model *m, ls_error *err)
{
    const size_t N = m->N, J = m->J, K = m->K;
    double s[LSG_KMAX * LSG_KMAX];
    m->stats &= ~LSG_STATS_P; /* a and Sigma change */
    if (m->stats & LSG_STATS_E)
        memcpy(s, m->ssum + m->ssz, K * K * sizeof *s);
    else {
        memset(s, 0, K * K * sizeof *s);
        for (size_t i = 0; i < N; i++) {
            const double *Si = m->S + i * K * K, *mi = m->mu + i * K;
            for (size_t p = 0; p < K * K; p++) s[p] += Si[p] + mi[p / K] * mi[p % K];
        }
    }
    for (size_t p = 0; p < K * K; p++) s[p] /= (double)N;
    if (!m->exploratory) {
        double d[LSG_KMAX];
        for (size_t k = 0; k < K; k++) {
            d[k] = sqrt(s[k * K + k]);
            if (!(d[k] > 0) || !isfinite(d[k])) {
                m->stats &= ~LSG_STATS_E;
                return ls_fail(err, LS_ERR_NUMERIC, "gpcm: latent variance %zu collapsed", k + 1);
            }
        }
        for (size_t p = 0; p < K; p++)
            for (size_t q = 0; q < K; q++) m->sigma[p * K + q] = p == q ? 1.0 : s[p * K + q] / (d[p] * d[q]);
        for (size_t j = 0; j < J; j++)
            for (size_t k = 0; k < K; k++) m->a[j * K + k] *= d[k];
#pragma omp parallel for schedule(static) num_threads(m->threads)
        for (size_t i = 0; i < N; i++) {
            double *Si = m->S + i * K * K, *mi = m->mu + i * K;
            for (size_t p = 0; p < K; p++) {
                mi[p] /= d[p];
                for (size_t q = 0; q < K; q++) Si[p * K + q] /= d[p] * d[q];
            }
        }
        if (m->stats & LSG_STATS_E) stats_rescale(m, d, NULL);
        return LS_OK;
    }
    /* exploratory: Sigma = L L', theta -> L^-1 theta, a_j -> L' a_j, Sigma -> I */
    double L[LSG_KMAX * LSG_KMAX], a2[LSG_KMAX];
    memcpy(L, s, K * K * sizeof *L);
    if (ls_chol(L, K)) {
        m->stats &= ~LSG_STATS_E;
        return ls_fail(err, LS_ERR_NUMERIC, "gpcm: the latent covariance is not positive definite");
    }
    for (size_t j = 0; j < J; j++) {
        double *aj = m->a + j * K;
        for (size_t k = 0; k < K; k++) {
            a2[k] = 0;
            for (size_t l = k; l < K; l++) a2[k] += L[l * K + k] * aj[l];
        }
        for (size_t k = 0; k < K; k++) aj[k] = m->pattern[j * K + k] ? a2[k] : 0.0;
    }
#pragma omp parallel for schedule(static) num_threads(m->threads)
    for (size_t i = 0; i < N; i++) {
        double *Si = m->S + i * K * K, *mi = m->mu + i * K, tmp[LSG_KMAX * LSG_KMAX];
        ls_trsv_lower(L, K, 0, mi);
        /* tmp = L^-1 S (column by column), then S = tmp L^-T (row by row) */
        for (size_t c = 0; c < K; c++) {
            double col[LSG_KMAX];
            for (size_t r = 0; r < K; r++) col[r] = Si[r * K + c];
            ls_trsv_lower(L, K, 0, col);
            for (size_t r = 0; r < K; r++) tmp[r * K + c] = col[r];
        }
        for (size_t r = 0; r < K; r++) {
            ls_trsv_lower(L, K, 0, tmp + r * K);
            memcpy(Si + r * K, tmp + r * K, K * sizeof *Si);
        }
        for (size_t p = 0; p < K; p++) /* exact symmetry */
            for (size_t q = p + 1; q < K; q++) Si[p * K + q] = Si[q * K + p] = 0.5 * (Si[p * K + q] + Si[q * K + p]);
    }
    for (size_t p = 0; p < K * K; p++) m->sigma[p] = p % (K + 1) == 0;
    if (m->stats & LSG_STATS_E) stats_rescale(m, NULL, L);
    return LS_OK;
}

int lsg_slope_step(lsg_model *m, ls_error *err)
{
    const size_t N = m->N, J = m->J, K = m->K, KK = K * K + K;
    const int have = (m->stats & LSG_STATS_E) != 0;
    m->stats &= ~LSG_STATS_P; /* a changes */
    double *dir = NULL; /* without the sums: per item M (K x K) and r (K), one pass over the cells */
    if (!have) {
        if (!(dir = ls_calloc(J * KK, sizeof *dir))) return ls_nomem(err);
        const ls_resp *R = m->R;
        for (size_t i = 0; i < N; i++) {
            const double *Si = m->S + i * K * K, *mi = m->mu + i * K;
            for (size_t c = R->rp[i]; c < R->rp[i + 1]; c++) {
                const size_t j = R->ri[c];
                size_t f[LSG_KMAX], nf = 0;
                for (size_t k = 0; k < K; k++)
                    if (m->pattern[j * K + k]) f[nf++] = k;
                double *M = dir + j * KK, *r = M + K * K;
                const double w = m->A[c], v = m->B[c];
                for (size_t p = 0; p < nf; p++) {
                    r[p] += v * mi[f[p]];
                    for (size_t s = 0; s <= p; s++)
                        M[p * nf + s] += w * (Si[f[p] * K + f[s]] + mi[f[p]] * mi[f[s]]);
                }
            }
        }
    }
    int bad = 0;
    for (size_t j = 0; j < J; j++) {
        size_t f[LSG_KMAX], nf = 0;
        for (size_t k = 0; k < K; k++)
            if (m->pattern[j * K + k]) f[nf++] = k;
        if (!nf) continue;
        double M[LSG_KMAX * LSG_KMAX], r[LSG_KMAX];
        if (have) { /* the E-step's sums, rescaled: f within the item's dimensions */
            const size_t nd = m->snd[j], *dm = m->sdim + j * K;
            const double *Ms = m->ssum + m->soff[j], *rs = Ms + nd * nd;
            size_t pos[LSG_KMAX];
            for (size_t p = 0, t = 0; p < nf; p++) {
                while (dm[t] != f[p]) t++;
                pos[p] = t;
            }
            for (size_t p = 0; p < nf; p++) {
                r[p] = rs[pos[p]];
                for (size_t s = 0; s <= p; s++) M[p * nf + s] = Ms[pos[p] * nd + pos[s]];
            }
        } else {
            memcpy(M, dir + j * KK, nf * nf * sizeof *M);
            memcpy(r, dir + j * KK + K * K, nf * sizeof *r);
        }
        for (size_t p = 0; p < nf; p++)
            for (size_t s = p + 1; s < nf; s++) M[p * nf + s] = M[s * nf + p];
        if (ls_chol(M, nf)) {
            bad = 1;
            continue;
        }
        ls_chol_solve(M, nf, r);
        for (size_t p = 0; p < nf; p++) m->a[j * K + f[p]] = 0.5 * r[p];
    }
    ls_free(dir);
    if (bad) return ls_fail(err, LS_ERR_NUMERIC, "gpcm: the slope equations of an item are singular");
    return LS_OK;
}

/*
 * Steps.  For person i and k != y the bound's term in b is, with
 * u = e_k - e_y and m = a'mu_i,  -(d m - u'b)/2 - eta (d m - u'b)^2 + const,
 * so the bound is a concave quadratic in (b_1..b_P) with Hessian
 * -sum 2 eta u u' and linear part sum (1/2 + 2 eta d m) u; solved jointly
 * (for P = 1 this is the 2PL step update).  The Hessian and sum 1/2 u
 * depend only on eta (the local step sums them); the rest is
 * sum_i (a_j'mu_i) v_ij = W_j a_j with W_j = sum_i v_ij mu_i' (the E-step's).
 */
int lsg_step_step(lsg_model *m, ls_error *err)
{
    const size_t N = m->N, J = m->J, K = m->K;
    const int have = (m->stats & (LSG_STATS_E | LSG_STATS_L)) == (LSG_STATS_E | LSG_STATS_L);
    int bad = 0;
    for (size_t j = 0; j < J; j++)
        if (m->P[j] > 64) return ls_fail(err, LS_ERR_NUMERIC, "gpcm: the step equations of an item are singular");
    double *dir = NULL; /* without the sums: per item H and g (hoff layout), one pass over the cells */
    if (!have) {
        if (!(dir = ls_calloc(m->hsz ? m->hsz : 1, sizeof *dir))) return ls_nomem(err);
        const ls_resp *R = m->R;
        for (size_t i = 0; i < N; i++) {
            const double *e = m->eta + m->eoff[i];
            for (size_t c = R->rp[i]; c < R->rp[i + 1]; c++) {
                const size_t j = R->ri[c], P = m->P[j];
                const int y = (int)R->rv[c];
                const double *aj = m->a + j * K;
                double *H = dir + m->hoff[j], *g = H + P * P;
                double mm = 0;
                for (size_t k = 0; k < K; k++) mm += aj[k] * m->mu[i * K + k];
                for (size_t k = 0; k <= P; k++) {
                    if ((int)k == y) continue;
                    const double d = (double)k - y, w = 2.0 * e[k], t = 0.5 + w * d * mm;
                    if (k >= 1) {
                        H[(k - 1) * P + k - 1] += w;
                        g[k - 1] += t;
                    }
                    if (y >= 1) {
                        H[(y - 1) * P + y - 1] += w;
                        g[y - 1] -= t;
                    }
                    if (k >= 1 && y >= 1) {
                        H[(k - 1) * P + y - 1] -= w;
                        H[(y - 1) * P + k - 1] -= w;
                    }
                }
                e += P + 1;
            }
        }
    }
    for (size_t j = 0; j < J; j++) {
        const size_t P = m->P[j], o = m->off[j];
        double H[64 * 64], g[64];
        if (P > 64) {
            bad = 1;
            continue;
        }
        const double *aj = m->a + j * K;
        if (have) {
            const size_t nd = m->snd[j], *dm = m->sdim + j * K;
            const double *Hs = m->hsum + m->hoff[j], *Cs = Hs + P * P, *W = m->ssum + m->soff[j] + nd * nd + nd;
            memcpy(H, Hs, P * P * sizeof *H);
            for (size_t k = 0; k < P; k++) {
                double t = Cs[k];
                for (size_t p = 0; p < nd; p++) t += W[k * nd + p] * aj[dm[p]];
                g[k] = t;
            }
        } else {
            memcpy(H, dir + m->hoff[j], P * P * sizeof *H);
            memcpy(g, dir + m->hoff[j] + P * P, P * sizeof *g);
        }
        if (ls_chol(H, P)) {
            bad = 1;
            continue;
        }
        ls_chol_solve(H, P, g);
        for (size_t k = 1; k <= P; k++) m->b[o + k] = g[k - 1];
    }
    ls_free(dir);
    if (bad) return ls_fail(err, LS_ERR_NUMERIC, "gpcm: the step equations of an item are singular");
    return LS_OK;
}

/* Person i's cells' E w and xi^2 = (E w)^2 + d^2 a'S a slot by slot, as in
 * eta (the observed score's slot: 0, unused), into xw and xq; K and ident
 * as in estep_person_k. */
LSG_INLINE void person_slots_k(const lsg_model *m, size_t i, double *xw, double *xq, const size_t K, const int ident)
{
    const uint32_t *it = m->R->ri;
    const double *yv = m->R->rv;
    const double *Si = m->S + i * K * K, *mi = m->mu + i * K;
    for (size_t cc = m->R->rp[i], t = 0; cc < m->R->rp[i + 1]; cc++) {
        const size_t j = it[cc];
        const double *aj = m->a + j * K, *bj = m->b + m->off[j];
        const size_t nd = ident ? K : m->snd[j], *dm = m->sdim + j * K, P = m->P[j];
        /* a_j is zero outside its dimensions: the same sums as over all K */
        double mm = 0, v = 0;
        for (size_t p = 0; p < nd; p++) {
            const size_t dp = LSG_DIM(dm, p);
            if (aj[dp] == 0.0) continue;
            mm += aj[dp] * mi[dp];
            double sp = 0;
            for (size_t q = 0; q < nd; q++) sp += Si[dp * K + LSG_DIM(dm, q)] * aj[LSG_DIM(dm, q)];
            v += aj[dp] * sp;
        }
        const int yy = (int)yv[cc];
        for (size_t k = 0; k <= P; k++, t++) {
            if ((int)k == yy) {
                xw[t] = xq[t] = 0;
                continue;
            }
            const double d = (double)k - yy, c = bj[k] - bj[yy], ew = d * mm - c;
            xw[t] = ew;
            xq[t] = ew * ew + d * d * v;
        }
    }
}

LSG_CLONES
static void person_slots(const lsg_model *m, size_t i, double *xw, double *xq)
{
    if (m->exploratory) switch (m->K) {
        case 2: person_slots_k(m, i, xw, xq, 2, 1); return;
        case 3: person_slots_k(m, i, xw, xq, 3, 1); return;
        case 4: person_slots_k(m, i, xw, xq, 4, 1); return;
        case 5: person_slots_k(m, i, xw, xq, 5, 1); return;
        case 6: person_slots_k(m, i, xw, xq, 6, 1); return;
        default: break;
        }
    else switch (m->K) {
        case 2: person_slots_k(m, i, xw, xq, 2, 0); return;
        case 3: person_slots_k(m, i, xw, xq, 3, 0); return;
        case 4: person_slots_k(m, i, xw, xq, 4, 0); return;
        case 5: person_slots_k(m, i, xw, xq, 5, 0); return;
        case 6: person_slots_k(m, i, xw, xq, 6, 0); return;
        default: break;
        }
    person_slots_k(m, i, xw, xq, m->K, 0);
}

/* The local step's slots: xq (xi^2 in, xi out), xx = e^-xi, xt = eta(xi)
 * (eta = tanh(xi/2)/(4 xi) by one exponential); independent slots, one
 * vector loop (compiled for AVX2 too where the machine has it: +, *, / and
 * the square root are exact IEEE operations at any width). */
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
__attribute__((target_clones("avx2", "default")))
#endif
static void eta_slots(double *xq, double *xx, double *xt, size_t ne)
{
LSG_SIMD
    for (size_t t = 0; t < ne; t++) {
        const double xi = sqrt(xq[t]), ex = exp_neg(xi > 700.0 ? -700.0 : -xi);
        /* both branches computed, then selected: no control flow */
        const double small = 0.125 - xi * xi / 96.0, big = (1.0 - ex) / ((1.0 + ex) * 4.0 * xi);
        xq[t] = xi;
        xx[t] = ex;
        xt[t] = xi < 1e-4 ? small : big;
    }
}

int lsg_local_step(lsg_model *m, ls_error *err)
{
    const size_t N = m->N, K = m->K, nb = m->nblk, hw = m->hsz, sw = m->ssz + K * K;
    const uint32_t *it = m->R->ri;
    const double *yv = m->R->rv;
    double sinv[LSG_KMAX * LSG_KMAX], lds;
    m->stats = 0; /* eta, A and B change */
    if (sigma_inverse(m->sigma, K, sinv, &lds))
        return ls_fail(err, LS_ERR_NUMERIC, "gpcm: the latent covariance is not positive definite");
    size_t emax = 1; /* the longest person's block of weights */
    for (size_t i = 0; i < N; i++)
        if (m->eoff[i + 1] - m->eoff[i] > emax) emax = m->eoff[i + 1] - m->eoff[i];
    /* per block, a person's slots as in eta: E w, xi^2 then xi, e^-xi, eta */
    double *xbuf = ls_malloc(nb * 4 * emax * sizeof *xbuf);
    if (!xbuf) return ls_nomem(err);
    int bad = 0, nonext = 0;
#pragma omp parallel for schedule(static) num_threads(m->threads) reduction(| : bad, nonext)
    for (size_t bk = 0; bk < nb; bk++) {
        double *acc = m->hblk + bk * hw, *sacc = m->sblk + bk * sw;
        double *xw = xbuf + bk * 4 * emax, *xq = xw + emax, *xx = xq + emax, *xt = xx + emax;
        memset(acc, 0, hw * sizeof *acc);
        memset(sacc, 0, sw * sizeof *sacc);
        for (size_t i = bk * N / nb; i < (bk + 1) * N / nb; i++) {
            const double *Si = m->S + i * K * K, *mi = m->mu + i * K;
            double ell = 0, prod = 1.0; /* prod: the 1 + e^-xi whose logarithm is pending */
            double *e = m->eta + m->eoff[i];
            const size_t c0 = m->R->rp[i], c1 = m->R->rp[i + 1], ne = m->eoff[i + 1] - m->eoff[i];
            person_slots(m, i, xw, xq);
            eta_slots(xq, xx, xt, ne);
            for (size_t cc = c0, t = 0; cc < c1; cc++) {
                const size_t j = it[cc];
                const double *bj = m->b + m->off[j];
                const size_t P = m->P[j];
                double sa = 0, sb = 0, hyy = 0;
                double *H = acc + m->hoff[j], *C = H + P * P;
                const int yy = (int)yv[cc];
                for (size_t k = 0; k <= P; k++) {
                    if ((int)k == yy) continue;
                    const double d = (double)k - yy, c = bj[k] - bj[yy], ew = xw[t + k], xi = xq[t + k];
                    const double et = xt[t + k], ex = xx[t + k];
                    e[k] = et;
                    prod *= 1.0 + ex; /* <= 2 per cell: one logarithm per person */
                    ell -= 0.5 * (ew + xi);
                    sa += et * d * d;
                    sb += d * (2.0 * et * c - 0.5);
                    /* the steps' Hessian and constant (lsg_step_step) */
                    const double w = 2.0 * et;
                    hyy += w;
                    if (k >= 1) {
                        H[(k - 1) * P + k - 1] += w;
                        C[k - 1] += 0.5;
                        if (yy >= 1) {
                            H[(k - 1) * P + yy - 1] -= w;
                            H[(yy - 1) * P + k - 1] -= w;
                        }
                    }
                }
                if (yy >= 1) {
                    H[(yy - 1) * P + yy - 1] += hyy;
                    C[yy - 1] -= 0.5 * (double)P;
                }
                if (prod > 1e200) { /* an item adds at most 2^P <= 2^64 */
                    ell -= log(prod);
                    prod = 1.0;
                }
                m->A[cc] = sa;
                m->B[cc] = sb;
                e += P + 1;
                t += P + 1;
            }
            ell -= log(prod);
            /* -KL(q_i || N(0, Sigma)) */
            double L[LSG_KMAX * LSG_KMAX], tr = 0, quad = 0;
            memcpy(L, Si, K * K * sizeof *L);
            if (chol_small(L, K)) {
                bad = 1;
                continue;
            }
            for (size_t p = 0; p < K; p++)
                for (size_t q = 0; q < K; q++) {
                    tr += sinv[p * K + q] * Si[q * K + p];
                    quad += mi[p] * sinv[p * K + q] * mi[q];
                }
            ell -= 0.5 * (tr + quad - (double)K - 2.0 * ls_chol_logdet_half(L, K) + lds);
            m->ell[i] = ell;
            /* the next E-step of this person (a failure is reported by
             * lsg_estep, which then runs on its own) */
            if (!nonext && estep_person(m, i, sinv, m->S2 + i * K * K, m->mu2 + i * K, sacc)) nonext = 1;
        }
    }
    ls_free(xbuf);
    if (bad) return ls_fail(err, LS_ERR_NUMERIC, "gpcm: a variational covariance is not positive definite");
    double s = 0;
    for (size_t i = 0; i < N; i++) s += m->ell[i];
    if (!isfinite(s)) return ls_fail(err, LS_ERR_NUMERIC, "gpcm: the lower bound is not finite");
    sum_blocks(m->hblk, nb, hw, m->hsum);
    m->elbo = s;
    m->stats = LSG_STATS_L;
    if (!nonext) {
        sum_blocks(m->sblk, nb, sw, m->ssum);
        m->stats |= LSG_STATS_P;
    }
    return LS_OK;
}

int lsg_iterate(lsg_model *m, double *change, ls_error *err)
{
    const size_t J = m->J, K = m->K, T = m->T;
    double *old = ls_malloc((J * K + T) * sizeof *old);
    if (!old) return ls_nomem(err);
    memcpy(old, m->a, J * K * sizeof *old);
    memcpy(old + J * K, m->b, T * sizeof *old);
    int rc = lsg_estep(m, err);
    if (!rc) rc = lsg_sigma_step(m, err);
    if (!rc) rc = lsg_slope_step(m, err);
    if (!rc) rc = lsg_step_step(m, err);
    if (!rc) rc = lsg_local_step(m, err);
    if (!rc && change) {
        double s = 0;
        size_t n = 0;
        for (size_t c = 0; c < J * K; c++)
            if (m->pattern[c]) {
                double d = m->a[c] - old[c];
                s += d * d;
                n++;
            }
        for (size_t j = 0; j < J; j++)
            for (size_t k = 1; k <= m->P[j]; k++) {
                double d = m->b[m->off[j] + k] - old[J * K + m->off[j] + k];
                s += d * d;
                n++;
            }
        *change = s / (double)(n ? n : 1);
    }
    ls_free(old);
    return rc;
}

/* ---------------------------------------------------------------- */
/* Marginal likelihood by adaptive Gauss-Hermite quadrature          */
/* ---------------------------------------------------------------- */

double lsg_log_Phi(double v, double *lam)
{
    /* Phi(v) = erfc(-v / sqrt 2) / 2 */
    const double lp = gsl_sf_log_erfc(-v * 0.70710678118654752440) - 0.69314718055994530942;
    *lam = exp(-0.5 * v * v - 0.91893853320467274178 - lp);
    return lp;
}

int lsg_quad_init(lsg_quad *q, const lsg_model *m, unsigned nodes, ls_error *err)
{
    memset(q, 0, sizeof *q);
    q->N = m->N;
    q->J = m->J;
    q->K = m->K;
    q->T = m->T;
    q->R = m->R;
    q->P = m->P;
    q->off = m->off;
    q->threads = m->threads;
    q->probit = m->probit;
    for (size_t j = 0; j < m->J; j++)
        if (m->P[j] > q->pmax) q->pmax = m->P[j];
    int rc = m->mml_sparse ? ls_rule_sparse(&q->rule, m->K, m->mml_sparse, err)
                           : ls_rule_gh(&q->rule, m->K, nodes, 1e-12, err);
    if (rc) return rc;
    q->center = ls_calloc(m->N * m->K, sizeof *q->center);
    q->chol = ls_calloc(m->N * m->K * m->K, sizeof *q->chol);
    unsigned char *tix = ls_malloc(q->rule.n * m->K);
    q->nidx = ls_malloc(2 * q->rule.n * sizeof *q->nidx);
    if (!q->center || !q->chol || !q->nidx || !tix) {
        ls_free(tix);
        lsg_quad_free(q);
        return ls_nomem(err);
    }
    /* the one-dimensional values behind the nodes (exact matches) */
    int product = 1;
    for (size_t c = 0; c < q->rule.n * m->K && product; c++) {
        const double v = q->rule.u[c];
        size_t t = 0;
        while (t < q->m1 && q->x1[t] != v) t++;
        if (t == q->m1) {
            if (q->m1 == sizeof q->x1 / sizeof q->x1[0] || !isfinite(v)) product = 0;
            else q->x1[q->m1++] = v;
        }
        tix[c] = (unsigned char)t;
    }
    const size_t K = m->K;
    q->h = K / 2;
    q->mA = q->mB = 1;
    for (size_t l = 0; l < K && product; l++) {
        size_t *mm = l < q->h ? &q->mA : &q->mB;
        if (*mm * q->m1 > LSG_QTAB) product = 0;
        else *mm *= q->m1;
    }
    if (product && !(q->pidx = ls_malloc(K * q->rule.n * sizeof *q->pidx))) {
        ls_free(tix);
        lsg_quad_free(q);
        return ls_nomem(err);
    }
    if (product)
        for (size_t k = 0; k < q->rule.n; k++) {
            size_t ia = 0, ib = 0;
            for (size_t l = K; l-- > q->h;) ib = ib * q->m1 + tix[k * K + l];
            for (size_t l = q->h; l-- > 0;) ia = ia * q->m1 + tix[k * K + l];
            q->nidx[2 * k] = (unsigned)ia;
            q->nidx[2 * k + 1] = (unsigned)ib;
            size_t pre = 0, pw = 1;
            for (size_t l = 0; l < K; l++, pw *= q->m1) {
                pre += tix[k * K + l] * pw;
                q->pidx[l * q->rule.n + k] = (unsigned)pre;
            }
        }
    else {
        ls_free(q->nidx);
        q->nidx = NULL;
        q->m1 = 0;
        q->mA = q->mB = 0;
    }
    ls_free(tix);
    if (m->mml_sparse) {
        lsg_quad *f = ls_calloc(1, sizeof *f);
        if (!f) {
            lsg_quad_free(q);
            return ls_nomem(err);
        }
        *f = *q;
        memset(&f->rule, 0, sizeof f->rule);
        f->nidx = NULL;
        f->pidx = NULL;
        f->ebt = NULL; /* the fallback takes e^{-b} per person */
        f->ebt_b = NULL;
        f->m1 = f->mA = f->mB = 0;
        f->fb = NULL;
        q->fb = f;
        rc = ls_rule_gh(&f->rule, m->K, 3, 1e-12, err);
        if (rc) {
            lsg_quad_free(q);
            return rc;
        }
    }
    if (!(q->ebt = ls_malloc((m->T + m->J) * sizeof *q->ebt))) {
        lsg_quad_free(q);
        return ls_nomem(err);
    }
    lsg_quad_center(q, m->mu, m->S);
    return LS_OK;
}

size_t lsg_quad_work(const lsg_quad *q)
{
    size_t pmax = 0;
    for (size_t j = 0; j < q->J; j++)
        if (q->P[j] > pmax) pmax = q->P[j];
    /* z, val, res (n x T), pr, the counted nodes, the gradient's per-node
     * terms ((pmax + 5) x n); eb, bmax; the tables; a sparse grid's
     * fallback rule may need more */
    size_t w = q->rule.n * (q->K + 3 + q->T + pmax + 6) + q->T + q->J + 1 + q->J * (2 + q->mA + q->mB);
    /* an item's values per prefix (pidx), then the nodes' sums per prefix
     * (K + 1 per prefix of every depth d: m1^(d+1) prefixes) */
    w += (pmax + 6) * q->mA * q->mB;
    if (q->pidx)
        for (size_t d = 0, t = 1; d < q->K; d++) {
            t *= q->m1;
            w += t * (q->K + 1);
        }
    if (q->fb) {
        size_t wf = lsg_quad_work(q->fb);
        if (wf > w) w = wf;
    }
    return w;
}

void lsg_quad_free(lsg_quad *q)
{
    if (!q) return;
    if (q->fb) { /* centre and chol are q's */
        ls_rule_free(&q->fb->rule);
        ls_free(q->fb);
    }
    ls_rule_free(&q->rule);
    ls_free(q->nidx);
    ls_free(q->pidx);
    ls_free(q->ebt);
    ls_free(q->center);
    ls_free(q->chol);
    memset(q, 0, sizeof *q);
}

void lsg_quad_steps(lsg_quad *q, const double *b)
{
    q->ebt_b = NULL;
    if (!b || !q->ebt) return;
    for (size_t j = 0; j < q->J; j++) {
        double mx = 0;
        for (size_t h = 0; h <= q->P[j]; h++) {
            const double bb = b[q->off[j] + h];
            q->ebt[q->off[j] + h] = exp(-bb);
            mx = fmax(mx, fabs(bb));
        }
        q->ebt[q->T + j] = mx;
    }
    q->ebt_b = b;
}

void lsg_quad_center(lsg_quad *q, const double *mu, const double *S)
{
    const size_t K = q->K;
    for (size_t i = 0; i < q->N; i++) {
        double *L = q->chol + i * K * K;
        memcpy(q->center + i * K, mu + i * K, K * sizeof *mu);
        double keep[LSG_KMAX * LSG_KMAX];
        if (q->rule.sg) memcpy(keep, L, K * K * sizeof *L);
        memcpy(L, S + i * K * K, K * K * sizeof *L);
        if (ls_chol(L, K)) {
            /* a signed rule's posterior covariance need not be positive
             * definite: keep the previous scale when there is one */
            if (q->rule.sg && keep[0] > 0) {
                memcpy(L, keep, K * K * sizeof *L);
                continue;
            }
            /* keep a usable rule: the unit matrix */
            memset(L, 0, K * K * sizeof *L);
            for (size_t k = 0; k < K; k++) L[k * K + k] = 1.0;
        }
    }
}

/* log(sum) collected into one logarithm per node: sum (>= 1, as b_j0 = 0)
 * is multiplied into *prod, whose log the caller takes once; what is
 * returned is the part of the log taken now (0 unless *prod would pass
 * 1e200, or sum is above 1e100). */
static inline double log_collect(double sum, double *prod)
{
    if (sum > 1e100) return log(sum);
    if ((*prod *= sum) > 1e200) {
        double l = log(*prod);
        *prod = 1.0;
        return l;
    }
    return 0.0;
}

/* e^s per prefix t of an item's coordinates (np of them): TA[t] TB[0]
 * when they lie within the first h (lowA), else TA[t mod mA] TB[t / mA],
 * the products the nodes of that prefix take. */
static inline void prefix_es(const double *TA, const double *TB, int lowA, size_t mA, size_t np, double *es)
{
    if (lowA) {
        for (size_t t = 0; t < np; t++) es[t] = TA[t] * TB[0];
        return;
    }
    for (size_t tb = 0, t = 0; t < np; tb++)
        for (size_t ta = 0; ta < mA; ta++, t++) es[t] = TA[ta] * TB[tb];
}

/* lsg_quad_person's body: static, so that its AVX2 clone and the resolver
 * stay inside the library (a global target_clones function is exported) */
LSG_CLONES
static double quad_person(const lsg_quad *q, size_t i, const double *a, const double *b, const double *shift,
                          double *gshift, const double *sigma_inv, double logdet_sigma, double *ga, double *gb,
                          double *gs, double *post_mean, double *post_cov, double *work)
{
    const size_t K = q->K, J = q->J, T = q->T, n = q->rule.n;
    const double *c = q->center + i * K, *L = q->chol + i * K * K;
    const size_t c0 = q->R->rp[i], c1 = q->R->rp[i + 1];
    const uint32_t *it = q->R->ri;
    const double *yv = q->R->rv;
    const int want = ga != NULL;
    double *z = work, *val = z + n * K, *ebw = val + n, *bmw = ebw + T, *res = bmw + J; /* res: n x T */
    const int steps = q->ebt && q->ebt_b == b; /* e^{-b} taken for these steps */
    const double *eb = steps ? q->ebt : ebw, *bmax = steps ? q->ebt + T : bmw;
    /* fe: per item, a flag (1: the product path), then the tables TA, TB */
    const size_t m1 = q->m1, mA = q->mA, fw = 2 + q->mA + q->mB, hd = q->h;
    double *fe = res + n * T;
    /* pmul[d] = m1^(d+1); ptab: an item's values per prefix, after the nodes' buffers */
    size_t pmul[LSG_KMAX];
    for (size_t l = 0, t = m1; l < K; l++, t *= m1) pmul[l] = t;
    double *ptab = fe + J * fw + (q->pmax + 8) * n;
    double lse_buf[65];
    double xmax = 0;
    for (size_t t = 0; t < m1; t++) xmax = fmax(xmax, fabs(q->x1[t]));
    /* the items on the product path: s_j(z) = base_j + g_j'u with g_j = L'a_j,
     * |s| bounded over the rule as the per-node test below would require;
     * their y_j s_j - b_jy summed over items once: ybase + yg'u - yb */
    double ybase = 0, yb = 0, yg[LSG_KMAX] = {0};
    for (size_t cc = c0; cc < c1; cc++) {
        const size_t j = it[cc];
        const int yjj = (int)yv[cc];
        if (!steps) {
            bmw[j] = 0;
            for (size_t h2 = 0; h2 <= q->P[j]; h2++) {
                const double bb = b[q->off[j] + h2];
                ebw[q->off[j] + h2] = exp(-bb);
                bmw[j] = fmax(bmw[j], fabs(bb));
            }
        }
        double *f = fe + j * fw;
        f[0] = 0;
        if (!q->nidx || q->probit) continue;
        const double *aj = a + j * K;
        double base = shift ? shift[j] : 0, g[LSG_KMAX], bound;
        for (size_t p = 0; p < K; p++) base += aj[p] * c[p];
        bound = fabs(base);
        for (size_t l = 0; l < K; l++) {
            double t = 0;
            for (size_t p = l; p < K; p++) t += aj[p] * L[p * K + l];
            g[l] = t;
            bound += fabs(t) * xmax;
        }
        if (!(bound * (double)q->P[j] < 300.0 && bmax[j] < 300.0)) continue;
        f[0] = 1;
        size_t last = 0; /* the last coordinate s depends on */
        for (size_t l = 0; l < K; l++)
            if (g[l] != 0.0) last = l;
        f[1] = (double)last;
        /* TA = e^base (x) the first hd coordinates' factors, TB the others' */
        double *TA = f + 2, *TB = TA + mA;
        TA[0] = exp(base);
        TB[0] = 1.0;
        size_t sa = 1, sb = 1;
        for (size_t l = 0; l < K; l++) {
            double *Tt = l < hd ? TA : TB;
            size_t *sz = l < hd ? &sa : &sb;
            for (size_t t2 = m1; t2-- > 0;) {
                const double ar = g[l] * q->x1[t2], e = ar == 0 ? 1.0 : exp(ar); /* e^{+-0} = 1 */
                for (size_t t = 0; t < *sz; t++) Tt[t2 * *sz + t] = Tt[t] * e;
            }
            *sz *= m1;
        }
        const double yy = (double)yjj;
        ybase += yy * base;
        yb += b[q->off[j] + (size_t)yjj];
        for (size_t l = 0; l < K; l++) yg[l] += yy * g[l];
    }
    /* nodes first (z, the prior and the hoisted y_j s_j - b_jy), then item
     * by item over the nodes: the nodes of one item are independent, so the
     * products do not wait on each other; each node's terms still come in
     * item order */
    double *pr = fe + J * fw; /* n: the products of sums whose log is pending */
    for (size_t k = 0; k < n; k++) {
        double *zk = z + k * K;
        const double *u = q->rule.u + k * K;
        for (size_t p = 0; p < K; p++) {
            double s = c[p];
            for (size_t l = 0; l <= p; l++) s += L[p * K + l] * u[l];
            zk[p] = s;
        }
        double h = -0.5 * logdet_sigma - 0.5 * (double)K * LSG_LOG_2PI;
        double quad = 0;
        for (size_t p = 0; p < K; p++)
            for (size_t l = 0; l < K; l++) quad += zk[p] * sigma_inv[p * K + l] * zk[l];
        h -= 0.5 * quad;
        double ys = ybase;
        for (size_t l = 0; l < K; l++) ys += yg[l] * u[l];
        val[k] = h + (ys - yb);
        pr[k] = 1.0;
    }
    double prb = 1.0; /* a bound on every pr[k] */
    for (size_t cc = c0; cc < c1; cc++) {
        const size_t j = it[cc];
        const int yi = (int)yv[cc];
        const double *aj = a + j * K, *bj = b + q->off[j], *xb = eb + q->off[j], *f = fe + j * fw;
        const size_t P = q->P[j], oj = q->off[j];
        const double yj = (double)yi;
        if (f[0] != 0) { /* e^s = TA[ia] TB[ib] at each node; residuals in the gradient pass */
            /* s depends on the first d + 1 coordinates only (g_l = 0 beyond):
             * the sums once per prefix (the same values: the factors
             * e^{g_l x} beyond d are 1 exactly), then node by node */
            const size_t d = (size_t)f[1], np = pmul[d];
            const unsigned *pre = q->pidx + d * n;
            double *es = ptab + np, smax;
            prefix_es(f + 2, f + 2 + mA, d < hd, mA, np, es);
            if (P == 1) {
LSG_SIMD
                for (size_t t = 0; t < np; t++) ptab[t] = 1.0 + es[t] * xb[1];
            } else { /* Horner, a coefficient at a time */
LSG_SIMD
                for (size_t t = 0; t < np; t++) ptab[t] = xb[P];
                for (size_t h2 = P; h2-- > 0;) {
                    const double x = xb[h2];
LSG_SIMD
                    for (size_t t = 0; t < np; t++) ptab[t] = ptab[t] * es[t] + x;
                }
            }
            { /* the largest sum, from the largest e^s (the sums grow with it,
               * and so do their roundings: positive terms) */
                const double *TA = f + 2, *TB = TA + mA;
                double xa = 0, xbm = 0;
                for (size_t t = 0; t < (d < hd ? np : mA); t++) xa = xa > TA[t] ? xa : TA[t];
                for (size_t t = 0; t < (d < hd ? 1 : np / mA); t++) xbm = xbm > TB[t] ? xbm : TB[t];
                const double em = xa * xbm;
                if (P == 1) smax = 1.0 + em * xb[1];
                else {
                    smax = xb[P];
                    for (size_t h2 = P; h2-- > 0;) smax = smax * em + xb[h2];
                }
            }
            if (smax <= 1e100 && prb * smax <= 1e200) {
                /* no node can take the rare branch below (pr[k] <= prb,
                 * rounding is monotone): the same products as a vector loop */
LSG_SIMD
                for (size_t k = 0; k < n; k++) pr[k] *= ptab[pre[k]];
                prb *= smax;
                continue;
            }
            for (size_t k = 0; k < n; k++) {
                const double sum = ptab[pre[k]], pk = pr[k] * sum;
                if (sum > 1e100 || pk > 1e200) val[k] -= log_collect(sum, pr + k); /* rare */
                else pr[k] = pk;
            }
            prb = 0;
            for (size_t k = 0; k < n; k++) prb = prb > pr[k] ? prb : pr[k];
            continue;
        }
        for (size_t k = 0; k < n; k++) {
            const double *zk = z + k * K;
            double *r = want ? res + k * T + oj : lse_buf;
            double s = shift ? shift[j] : 0;
            for (size_t p = 0; p < K; p++) s += aj[p] * zk[p];
            if (q->probit && P == 1) { /* probit: log Phi(+-eta), eta = s - b_1 */
                const double eta = s - bj[1];
                double lam;
                const double lp = lsg_log_Phi(yi ? eta : -eta, &lam);
                val[k] += lp;
                if (want) { /* slot 0: d/ds; slot 1 with the -y below: d/db_1 = -d/ds */
                    r[0] = yi ? lam : -lam;
                    r[1] = yj - r[0];
                }
                continue;
            }
            if (P == 1 && fabs(s) < 300.0 && bmax[j] < 300.0) { /* binary: two categories */
                const double e1 = exp(s) * xb[1], sum = 1.0 + e1;
                val[k] += yj * s - bj[yi] - log_collect(sum, pr + k);
                if (want) {
                    r[1] = e1 / sum;
                    r[0] = yj - r[1];
                }
                continue;
            }
            if (fabs(s) * (double)P < 300.0 && bmax[j] < 300.0) {
                /* exp(h s - b_h) = e^{s h} e^{-b_h}: one exponential per item */
                const double es = exp(s);
                double pw = 1.0, sum = 0;
                for (size_t h2 = 0; h2 <= P; h2++) {
                    r[h2] = pw * xb[h2];
                    sum += r[h2];
                    pw *= es;
                }
                val[k] += yj * s - bj[yi] - log_collect(sum, pr + k);
                if (want) {
                    const double inv = 1.0 / sum;
                    double eh = 0;
                    for (size_t h2 = 0; h2 <= P; h2++) {
                        r[h2] *= inv;
                        eh += (double)h2 * r[h2];
                    }
                    r[0] = yj - eh;
                }
                continue;
            }
            double mx = -INFINITY;
            for (size_t h2 = 0; h2 <= P; h2++) {
                lse_buf[h2] = (double)h2 * s - bj[h2];
                if (lse_buf[h2] > mx) mx = lse_buf[h2];
            }
            double sum = 0;
            for (size_t h2 = 0; h2 <= P; h2++) sum += exp(lse_buf[h2] - mx);
            const double lse = mx + log(sum);
            val[k] += lse_buf[yi] - lse;
            if (want) { /* p_h at this node, then residual y - E h in slot 0 */
                double eh = 0;
                for (size_t h2 = 0; h2 <= P; h2++) {
                    r[h2] = exp(lse_buf[h2] - lse);
                    eh += (double)h2 * r[h2];
                }
                r[0] = yj - eh;
            }
        }
        prb = 0; /* the general path multiplied into pr */
        for (size_t k = 0; k < n; k++) prb = prb > pr[k] ? prb : pr[k];
    }
    for (size_t k = 0; k < n; k++) val[k] += q->rule.lw[k] - log(pr[k]);
    double mx = -INFINITY;
    for (size_t k = 0; k < n; k++)
        if (val[k] > mx) mx = val[k];
    double sum = 0;
    const signed char *sg = q->rule.sg; /* a sparse grid's weight signs */
    for (size_t k = 0; k < n; k++) {
        val[k] = sg && sg[k] < 0 ? -exp(val[k] - mx) : exp(val[k] - mx);
        sum += val[k];
    }
    if (!(sum > 0)) /* a signed rule that does not fit the integrand */
        return q->fb ? lsg_quad_person(q->fb, i, a, b, shift, gshift, sigma_inv, logdet_sigma, ga, gb, gs, post_mean,
                                       post_cov, work)
                     : NAN;
    double ll = mx + log(sum);
    for (size_t p = 0; p < K; p++) ll += log(L[p * K + p]);
    for (size_t k = 0; k < n; k++) val[k] /= sum; /* posterior weights */
    if (post_mean || want) {
        double pm[LSG_KMAX] = {0}, G[LSG_KMAX * LSG_KMAX] = {0};
        for (size_t k = 0; k < n; k++)
            for (size_t p = 0; p < K; p++) {
                pm[p] += val[k] * z[k * K + p];
                for (size_t l = 0; l < K; l++) G[p * K + l] += val[k] * z[k * K + p] * z[k * K + l];
            }
        if (post_mean) memcpy(post_mean, pm, K * sizeof *pm);
        if (post_cov)
            for (size_t p = 0; p < K * K; p++) post_cov[p] = G[p] - pm[p / K] * pm[p % K];
        if (want) {
            /* d/dSigma of log phi(z; 0, Sigma) averaged: (Sinv G Sinv - Sinv) / 2 */
            double tmp[LSG_KMAX * LSG_KMAX];
            for (size_t p = 0; p < K; p++)
                for (size_t l = 0; l < K; l++) {
                    double s = 0;
                    for (size_t r = 0; r < K; r++) s += sigma_inv[p * K + r] * G[r * K + l];
                    tmp[p * K + l] = s;
                }
            for (size_t p = 0; p < K; p++)
                for (size_t l = 0; l < K; l++) {
                    double s = 0;
                    for (size_t r = 0; r < K; r++) s += tmp[p * K + r] * sigma_inv[r * K + l];
                    gs[p * K + l] = 0.5 * (s - sigma_inv[p * K + l]);
                }
        }
    }
    if (want) {
        /* the nodes whose weight counts (w >= 1e-300, or NaN), in node order:
         * the same sums as skipping the others node by node, without a branch
         * per item and node */
        unsigned *kk = (unsigned *)(pr + n);
        size_t nk = 0;
        for (size_t k = 0; k < n; k++)
            if (!(fabs(val[k]) < 1e-300)) kk[nk++] = (unsigned)k; /* signed weights: a sparse grid's */
        for (size_t cc = c0; cc < c1; cc++) { /* the answered items' entries only */
            const size_t j = it[cc];
            memset(ga + j * K, 0, K * sizeof *ga);
            memset(gb + q->off[j], 0, (q->P[j] + 1) * sizeof *gb);
        }
        /* the product path: per depth d, the counted nodes' weights W and
         * weighted nodes Z (K each) summed by prefix of the first d + 1
         * coordinates, where an item of depth d takes one value (pidx) */
        double *agg = ptab + (q->pmax + 6) * mA * q->mB;
        size_t aoff[LSG_KMAX];
        if (q->pidx) {
            size_t o = 0;
            for (size_t d = 0; d < K; d++) {
                aoff[d] = o;
                o += pmul[d] * (K + 1);
            }
            memset(agg, 0, o * sizeof *agg);
            for (size_t u = 0; u < nk; u++) {
                const size_t k = kk[u];
                const double w = val[k], *zk = z + k * K;
                double wz[LSG_KMAX];
                for (size_t p = 0; p < K; p++) wz[p] = w * zk[p];
                for (size_t d = 0; d < K; d++) {
                    const size_t t = q->pidx[d * n + k];
                    double *W = agg + aoff[d], *Zt = W + pmul[d] + t * K;
                    W[t] += w;
                    for (size_t p = 0; p < K; p++) Zt[p] += wz[p];
                }
            }
        }
        for (size_t cc = c0; cc < c1; cc++) {
            const size_t j = it[cc];
            const size_t P = q->P[j], oj = q->off[j];
            const double *f = fe + j * fw, *xb = eb + oj, yj = yv[cc];
            /* accumulated in registers (ga and gb may alias the inputs as far as
             * the compiler knows); ga_j and gb_j are zero here */
            double *gaj0 = ga + j * K, *g0 = gb + oj, gsh = 0, gaj[LSG_KMAX] = {0}, g[65] = {0};
            if (f[0] != 0) { /* the product path: the category probabilities again */
                const double *TA = f + 2, *TB = TA + mA;
                /* as vectors over the prefixes of the coordinates s depends
                 * on (pidx; the same values as node by node): e^s, r_h =
                 * e^{h s - b_h} / sum, E h; then node by node the terms
                 * w (y - E h) (rw) and w r_h (R row h); then the sums in node
                 * order, one after the other (the same operations in the
                 * same order as node by node) */
                const size_t d = (size_t)f[1], np = pmul[d];
                double *es = ptab, *pw = es + np, *tot = pw + np, *eh = tot + np, *RT = eh + np;
                prefix_es(TA, TB, d < hd, mA, np, es);
LSG_SIMD
                for (size_t t = 0; t < np; t++) {
                    pw[t] = 1.0;
                    tot[t] = 0;
                    eh[t] = 0;
                }
                for (size_t h2 = 0; h2 <= P; h2++) {
                    double *Rh = RT + h2 * np;
                    const double x = xb[h2];
LSG_SIMD
                    for (size_t t = 0; t < np; t++) {
                        Rh[t] = pw[t] * x;
                        tot[t] += Rh[t];
                        pw[t] *= es[t];
                    }
                }
LSG_SIMD
                for (size_t t = 0; t < np; t++) tot[t] = 1.0 / tot[t];
                for (size_t h2 = 1; h2 <= P; h2++) {
                    double *Rh = RT + h2 * np;
                    const double hh = (double)h2;
LSG_SIMD
                    for (size_t t = 0; t < np; t++) {
                        Rh[t] *= tot[t];
                        eh[t] += hh * Rh[t];
                    }
                }
                /* the sums over nodes by prefix: sum_k w_k (y - E h) z_k =
                 * sum_t (y - E h)_t Z_t and sum_k w_k r_hk = sum_t r_ht W_t */
                const double *W = agg + aoff[d], *Z = W + np;
                for (size_t t = 0; t < np; t++) {
                    const double cr = yj - eh[t], *Zt = Z + t * K;
                    for (size_t p = 0; p < K; p++) gaj[p] += cr * Zt[p];
                    gsh += cr * W[t];
                }
                for (size_t h2 = 1; h2 <= P; h2++) {
                    const double *RTh = RT + h2 * np;
                    double sh = 0;
                    for (size_t t = 0; t < np; t++) sh += RTh[t] * W[t];
                    g[h2] = sh;
                }
            } else
                for (size_t u = 0; u < nk; u++) {
                    const size_t k = kk[u];
                    const double w = val[k], *zk = z + k * K, *r = res + k * T + oj;
                    for (size_t p = 0; p < K; p++) gaj[p] += w * r[0] * zk[p];
                    gsh += w * r[0];
                    for (size_t h2 = 1; h2 <= P; h2++) g[h2] += w * r[h2];
                }
            memcpy(gaj0, gaj, K * sizeof *gaj);
            memcpy(g0 + 1, g + 1, P * sizeof *g);
            if (gshift) gshift[j] = gsh;
        }
        for (size_t cc = c0; cc < c1; cc++) {
            const size_t j = it[cc];
            const int yi = (int)yv[cc];
            gb[q->off[j] + (size_t)yi] -= yi >= 1 ? 1.0 : 0.0;
            gb[q->off[j]] = 0.0;
        }
    }
    return ll;
}

double lsg_quad_person(const lsg_quad *q, size_t i, const double *a, const double *b,
                       const double *shift, double *gshift, const double *sigma_inv, double logdet_sigma, double *ga, double *gb,
                       double *gs, double *post_mean, double *post_cov, double *work)
{
    return quad_person(q, i, a, b, shift, gshift, sigma_inv, logdet_sigma, ga, gb, gs, post_mean, post_cov, work);
}
