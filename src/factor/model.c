/*
 * factor.c -- joint maximum likelihood for generalized latent factor models
 * by alternating per-item and per-person Newton (IRLS) updates.
 *
 * Every item update is a GLM of y_.j on (U, 1, x) and every person update a
 * GLM of y_i. on Gamma with offsets beta_j . (1, x_i): small, independent,
 * concave problems (canonical links, and the log-concave probit), so each
 * Newton step is damped by halving until the unit's log-likelihood does not
 * decrease, then projected on the box [-bound, bound] (spec "Estimation",
 * step 2c).  Units are updated in parallel and their log-likelihoods summed
 * in index order afterwards, so results do not depend on the thread count.
 */
#include "factor/model.h"
#include "kernel/linalg.h"
#include "kernel/rng.h"
#include "kernel/special.h"

#include <math.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

/* ---------------------------------------------------------------- */
/* Family kernels                                                    */
/* ---------------------------------------------------------------- */

/* log Phi(v) and the inverse Mills ratio phi(v)/Phi(v), stable in both
 * tails (erfc above -30, the asymptotic series below). */
static double log_phi_cdf(double v, double *lam)
{
    if (v > -30) {
        double P = 0.5 * erfc(-v / 1.4142135623730951);
        *lam = exp(-0.5 * v * v - 0.9189385332046728) / P;
        return log(P);
    }
    double v2 = v * v, s = 1 - 1 / v2 + 3 / (v2 * v2) - 15 / (v2 * v2 * v2);
    *lam = -v / s;
    return -0.5 * v2 - 0.9189385332046728 - log(-v) + log(s);
}

double lsf_cell(int family, double y, double w, double s2, double *l1, double *l2)
{
    double l, d1, d2;
    switch (family) {
    case LS_FACTOR_POISSON: {
        double mu = exp(w > 40 ? 40 : w);
        l = y * w - mu - ls_lgamma(y + 1.0);
        d1 = y - mu;
        d2 = -mu;
        break;
    }
    case LS_FACTOR_GAUSSIAN: {
        double e = y - w;
        l = -0.5 * (e * e / s2 + log(6.283185307179586 * s2));
        d1 = e / s2;
        d2 = -1.0 / s2;
        break;
    }
    case LS_FACTOR_PROBIT: {
        /* y = 1: l = log Phi(w), l1 = lambda = phi(w)/Phi(w), l2 = -lambda (lambda + w);
         * y = 0: the same at -w with the signs of l1 flipped. */
        double v = y > 0.5 ? w : -w, lam;
        l = log_phi_cdf(v, &lam);
        d1 = y > 0.5 ? lam : -lam;
        d2 = -lam * (lam + v);
        break;
    }
    default: { /* Bernoulli, logit: l = y w - log(1 + e^w) */
        double e = exp(-fabs(w));
        double pr = w >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
        l = y * w - (w > 0 ? w : 0.0) - log1p(e);
        d1 = y - pr;
        d2 = -pr * (1.0 - pr);
        break;
    }
    }
    if (l1) *l1 = d1;
    if (l2) *l2 = d2;
    return l;
}

/* ---------------------------------------------------------------- */
/* Model                                                             */
/* ---------------------------------------------------------------- */

int lsf_model_init(lsf_model *m, const ls_resp *R, const double *X, size_t n, size_t q, size_t p,
                   size_t r, int family, double bound, unsigned threads, ls_error *err)
{
    memset(m, 0, sizeof *m);
    m->n = n;
    m->q = q;
    m->p1 = p + 1;
    m->r = r;
    m->d = r + p + 1;
    m->R = R;
    m->family = family;
    m->bound = bound;
    m->threads = threads;
    m->X1 = ls_malloc(n * m->p1 * sizeof *m->X1);
    m->U = ls_calloc(n * r, sizeof *m->U);
    m->T = ls_calloc(q * m->d, sizeof *m->T);
    m->s2 = ls_malloc(q * sizeof *m->s2);
    m->ll_i = ls_calloc(n, sizeof *m->ll_i);
    m->ll_j = ls_calloc(q, sizeof *m->ll_j);
    if (!m->X1 || !m->U || !m->T || !m->s2 || !m->ll_i || !m->ll_j) {
        lsf_model_free(m);
        return ls_nomem(err);
    }
    for (size_t i = 0; i < n; i++) {
        m->X1[i * m->p1] = 1.0;
        for (size_t s = 0; s < p; s++) m->X1[i * m->p1 + 1 + s] = X[i * p + s];
    }
    for (size_t j = 0; j < q; j++) m->s2[j] = 1.0;
    return LS_OK;
}

void lsf_model_free(lsf_model *m)
{
    if (!m) return;
    ls_free(m->X1);
    ls_free(m->U);
    ls_free(m->T);
    ls_free(m->s2);
    ls_free(m->ll_i);
    ls_free(m->ll_j);
    memset(m, 0, sizeof *m);
}

/* Accumulate c z z^T into the upper triangle of H (k x k). */
static void rank1_upper(double *H, size_t k, const double *z, double c)
{
    for (size_t a = 0; a < k; a++) {
        double ca = c * z[a];
        double *h = H + a * k;
        for (size_t b = a; b < k; b++) h[b] += ca * z[b];
    }
}

static void mirror(double *H, size_t k)
{
    for (size_t a = 0; a < k; a++)
        for (size_t b = 0; b < a; b++) H[a * k + b] = H[b * k + a];
}

/* An item's persons are scattered over the factor and covariate arrays: on
 * sparse data from a million persons every response would miss the cache.
 * The loops over an item's responses ask for the rows they need a few
 * responses ahead. */
#if defined(__GNUC__) && defined(__x86_64__)
/* (gcc 12 drops __builtin_prefetch in these loops; the instruction itself
 * stays) */
#define LSF_PREFETCH(p) __asm__ volatile("prefetcht0 %0" ::"m"(*(const char *)(p)))
#elif defined(__GNUC__)
#define LSF_PREFETCH(p) __builtin_prefetch(p)
#endif
#ifdef LSF_PREFETCH
#define LSF_AHEAD 12
static inline void ask_ahead(const lsf_model *m, const ls_resp *R, size_t c, size_t end)
{
    if (c + LSF_AHEAD < end) {
        const size_t i = R->ci[c + LSF_AHEAD];
        LSF_PREFETCH(m->U + i * m->r);
        LSF_PREFETCH(m->X1 + i * m->p1);
        LSF_PREFETCH(m->X1 + i * m->p1 + m->p1 - 1);
    }
}
#else
static inline void ask_ahead(const lsf_model *m, const ls_resp *R, size_t c, size_t end)
{
    (void)m, (void)R, (void)c, (void)end;
}
#endif

double lsf_item_eval(const lsf_model *m, size_t j, const double *t, double *g, double *H,
                     double *S)
{
    const size_t r = m->r, p1 = m->p1, d = m->d;
    double z[LSF_MAX_D];
    double ll = 0;
    if (g) memset(g, 0, d * sizeof *g);
    if (H) memset(H, 0, d * d * sizeof *H);
    if (S) memset(S, 0, d * d * sizeof *S);
    const double s2 = m->s2[j];
    const ls_resp *R = m->R;
    for (size_t c = R->cp[j], end = R->cp[j + 1]; c < end; c++) {
        ask_ahead(m, R, c, end);
        const size_t i = R->ci[c];
        const double y = R->cv[c];
        const double *u = m->U + i * r, *x = m->X1 + i * p1;
        double w = 0;
        for (size_t k = 0; k < r; k++) w += t[k] * u[k];
        for (size_t s = 0; s < p1; s++) w += t[r + s] * x[s];
        if (!g && !H && !S) {
            ll += lsf_cell(m->family, y, w, s2, NULL, NULL);
            continue;
        }
        double l1, l2;
        ll += lsf_cell(m->family, y, w, s2, &l1, &l2);
        memcpy(z, u, r * sizeof *z);
        memcpy(z + r, x, p1 * sizeof *z);
        if (g)
            for (size_t k = 0; k < d; k++) g[k] += l1 * z[k];
        if (H) rank1_upper(H, d, z, -l2);
        if (S) rank1_upper(S, d, z, l1 * l1);
    }
    if (H) mirror(H, d);
    if (S) mirror(S, d);
    if (m->ridge > 0) /* the loadings' share of the nuclear-norm penalty */
        for (size_t k = 0; k < r; k++) {
            ll -= 0.5 * m->ridge * t[k] * t[k];
            if (g) g[k] -= m->ridge * t[k];
            if (H) H[k * d + k] += m->ridge;
        }
    return ll;
}

double lsf_person_eval(const lsf_model *m, size_t i, const double *u, double *g, double *H,
                       double *S)
{
    const size_t r = m->r, p1 = m->p1, d = m->d;
    const double *x = m->X1 + i * p1;
    const ls_resp *R = m->R;
    double ll = 0;
    if (g) memset(g, 0, r * sizeof *g);
    if (H) memset(H, 0, r * r * sizeof *H);
    if (S) memset(S, 0, r * r * sizeof *S);
    for (size_t c = R->rp[i]; c < R->rp[i + 1]; c++) {
        const size_t j = R->ri[c];
        const double yj = R->rv[c];
        const double *t = m->T + j * d;
        double w = 0;
        for (size_t k = 0; k < r; k++) w += t[k] * u[k];
        for (size_t s = 0; s < p1; s++) w += t[r + s] * x[s];
        if (!g && !H && !S) {
            ll += lsf_cell(m->family, yj, w, m->s2[j], NULL, NULL);
            continue;
        }
        double l1, l2;
        ll += lsf_cell(m->family, yj, w, m->s2[j], &l1, &l2);
        if (g)
            for (size_t k = 0; k < r; k++) g[k] += l1 * t[k];
        if (H) rank1_upper(H, r, t, -l2);
        if (S) rank1_upper(S, r, t, l1 * l1);
    }
    if (H) mirror(H, r);
    if (S) mirror(S, r);
    if (m->ridge > 0) {
        for (size_t k = 0; k < r; k++) {
            ll -= 0.5 * m->ridge * u[k] * u[k];
            if (g) g[k] -= m->ridge * u[k];
            if (H) H[k * r + k] += m->ridge;
        }
    }
    return ll;
}

/* Solve H delta = g for the Newton direction, with a growing ridge when H is
 * not positive definite (a person with no responses, a constant item). */
static void newton_dir(const double *H, const double *g, size_t k, double *delta)
{
    double L[LSF_MAX_D * LSF_MAX_D];
    double tr = 0;
    for (size_t a = 0; a < k; a++) tr += fabs(H[a * k + a]);
    double ridge = 1e-10 * (tr / (double)k + 1e-300);
    for (int attempt = 0; attempt < 12; attempt++) {
        memcpy(L, H, k * k * sizeof *L);
        for (size_t a = 0; a < k; a++) L[a * k + a] += ridge;
        if (ls_chol(L, k) == 0) {
            memcpy(delta, g, k * sizeof *delta);
            ls_chol_solve(L, k, delta);
            return;
        }
        ridge = ridge * 100 + 1e-8;
    }
    memset(delta, 0, k * sizeof *delta);
}

static double clip(double v, double b) { return v > b ? b : (v < -b ? -b : v); }

/* One damped, projected Newton step on a unit (item when is_item, else
 * person); theta is updated in place; returns the unit's log-likelihood. */
static double unit_step(const lsf_model *m, int is_item, size_t idx, double *theta)
{
    const size_t k = is_item ? m->d : m->r;
    double g[LSF_MAX_D], H[LSF_MAX_D * LSF_MAX_D], delta[LSF_MAX_D], cand[LSF_MAX_D];
    double ll0 = is_item ? lsf_item_eval(m, idx, theta, g, H, NULL)
                         : lsf_person_eval(m, idx, theta, g, H, NULL);
    newton_dir(H, g, k, delta);
    double pred = 0; /* gain predicted by the quadratic model at step 1 */
    for (size_t a = 0; a < k; a++) pred += 0.5 * g[a] * delta[a];
    double step = 1.0;
    for (int h = 0; h < 30; h++, step *= 0.5) {
        int moved = 0;
        for (size_t a = 0; a < k; a++) {
            cand[a] = clip(theta[a] + step * delta[a], m->bound);
            if (cand[a] != theta[a]) moved = 1;
        }
        if (!moved) return ll0;
        double ll1 = is_item ? lsf_item_eval(m, idx, cand, NULL, NULL, NULL)
                             : lsf_person_eval(m, idx, cand, NULL, NULL, NULL);
        if (ll1 >= ll0 - 1e-12 * fabs(ll0) && isfinite(ll1)) {
            memcpy(theta, cand, k * sizeof *theta);
            /* A gain well above the quadratic model's means the curvature is
             * vanishing along delta (a response pattern pushing the unit
             * towards the bound): expand the step while it keeps paying. */
            if (h == 0 && ll1 - ll0 > 1.5 * pred && pred > 0) {
                double s2 = 2.0;
                for (int x = 0; x < 8; x++, s2 *= 2) {
                    int mv = 0;
                    for (size_t a = 0; a < k; a++) {
                        cand[a] = clip(theta[a] + (s2 - 1) * delta[a] * (s2 > 2 ? 0.5 : 1.0), m->bound);
                        mv |= cand[a] != theta[a];
                    }
                    if (!mv) break;
                    double ll2 = is_item ? lsf_item_eval(m, idx, cand, NULL, NULL, NULL)
                                         : lsf_person_eval(m, idx, cand, NULL, NULL, NULL);
                    if (!(ll2 > ll1) || !isfinite(ll2)) break;
                    memcpy(theta, cand, k * sizeof *theta);
                    ll1 = ll2;
                }
            }
            return ll1;
        }
    }
    return ll0;
}

/* Gaussian: the variance of item j is its mean squared residual. */
static void update_variance(lsf_model *m, size_t j)
{
    const size_t r = m->r, p1 = m->p1;
    const double *t = m->T + j * m->d;
    double rss = 0;
    size_t nj = 0;
    for (size_t c = m->R->cp[j], end = m->R->cp[j + 1]; c < end; c++) {
        ask_ahead(m, m->R, c, end);
        const size_t i = m->R->ci[c];
        const double y = m->R->cv[c];
        double w = 0;
        for (size_t k = 0; k < r; k++) w += t[k] * m->U[i * r + k];
        for (size_t s = 0; s < p1; s++) w += t[r + s] * m->X1[i * p1 + s];
        rss += (y - w) * (y - w);
        nj++;
    }
    m->s2[j] = nj ? fmax(rss / (double)nj, 1e-8) : 1.0;
}

static void centre(lsf_model *m);

static double sq_loadings(const lsf_model *m, size_t j)
{
    double s = 0;
    for (size_t k = 0; k < m->r; k++) s += m->T[j * m->d + k] * m->T[j * m->d + k];
    return s;
}

static int nthreads(const lsf_model *m)
{
#ifdef _OPENMP
    return m->threads ? (int)m->threads : omp_get_max_threads();
#else
    (void)m;
    return 1;
#endif
}

double lsf_sweep(lsf_model *m)
{
    const long q = (long)m->q, n = (long)m->n;
    int nt = nthreads(m);
    (void)nt;
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
    for (long j = 0; j < q; j++) {
        m->ll_j[j] = unit_step(m, 1, (size_t)j, m->T + (size_t)j * m->d);
        if (m->family == LS_FACTOR_GAUSSIAN) update_variance(m, (size_t)j);
    }
#pragma omp parallel for schedule(dynamic, 64) num_threads(nt)
    for (long i = 0; i < n; i++)
        m->ll_i[i] = unit_step(m, 0, (size_t)i, m->U + (size_t)i * m->r);
    double ll = 0;
    for (long i = 0; i < n; i++) ll += m->ll_i[i];
    if (m->ridge > 0) {
        /* penalised: the penalty fixes the scale; centring only lowers it */
        for (long j = 0; j < q; j++) ll -= 0.5 * m->ridge * sq_loadings(m, (size_t)j);
        centre(m);
        return ll;
    }
    lsf_normalise(m);
    lsf_clip(m);
    return ll;
}

void lsf_clip(lsf_model *m)
{
    for (size_t a = 0; a < m->n * m->r; a++) m->U[a] = clip(m->U[a], m->bound);
    for (size_t a = 0; a < m->q * m->d; a++) m->T[a] = clip(m->T[a], m->bound);
}

double lsf_loglik(const lsf_model *m)
{
    const long n = (long)m->n;
    int nt = nthreads(m);
    (void)nt;
#pragma omp parallel for schedule(static) num_threads(nt)
    for (long i = 0; i < n; i++)
        m->ll_i[i] = lsf_person_eval(m, (size_t)i, m->U + (size_t)i * m->r, NULL, NULL, NULL);
    double ll = 0;
    for (long i = 0; i < n; i++) ll += m->ll_i[i];
    if (m->ridge > 0)
        for (size_t j = 0; j < m->q; j++) ll -= 0.5 * m->ridge * sq_loadings(m, j);
    return ll;
}

size_t lsf_at_bound(const lsf_model *m)
{
    size_t c = 0;
    double b = m->bound * (1 - 1e-9);
    for (size_t a = 0; a < m->n * m->r; a++) c += fabs(m->U[a]) >= b;
    for (size_t a = 0; a < m->q * m->d; a++) c += fabs(m->T[a]) >= b;
    return c;
}

/* ---------------------------------------------------------------- */
/* Normalisations                                                    */
/* ---------------------------------------------------------------- */

/* U -> U - 1 ubar^T, intercepts absorb Gamma ubar. */
static void centre(lsf_model *m)
{
    const size_t r = m->r, n = m->n, d = m->d;
    double ub[LSF_MAX_R] = {0};
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < r; k++) ub[k] += m->U[i * r + k];
    for (size_t k = 0; k < r; k++) ub[k] /= (double)n;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < r; k++) m->U[i * r + k] -= ub[k];
    for (size_t j = 0; j < m->q; j++)
        for (size_t k = 0; k < r; k++) m->T[j * d + r] += m->T[j * d + k] * ub[k];
}

static void factor_moment(const lsf_model *m, double *M)
{
    const size_t r = m->r;
    memset(M, 0, r * r * sizeof *M);
    for (size_t i = 0; i < m->n; i++) rank1_upper(M, r, m->U + i * r, 1.0);
    mirror(M, r);
    for (size_t a = 0; a < r * r; a++) M[a] /= (double)m->n;
}

/* U <- U G, Gamma <- Gamma Gi^T where Gi = G^-1 (both r x r). */
static void transform(lsf_model *m, const double *G, const double *Gi)
{
    const size_t r = m->r, d = m->d;
    double tmp[LSF_MAX_R];
    for (size_t i = 0; i < m->n; i++) {
        double *u = m->U + i * r;
        for (size_t b = 0; b < r; b++) {
            double s = 0;
            for (size_t a = 0; a < r; a++) s += u[a] * G[a * r + b];
            tmp[b] = s;
        }
        memcpy(u, tmp, r * sizeof *u);
    }
    for (size_t j = 0; j < m->q; j++) {
        double *g = m->T + j * d;
        for (size_t b = 0; b < r; b++) {
            double s = 0;
            for (size_t a = 0; a < r; a++) s += g[a] * Gi[b * r + a];
            tmp[b] = s;
        }
        memcpy(g, tmp, r * sizeof *g);
    }
}

int lsf_normalise(lsf_model *m)
{
    const size_t r = m->r;
    double M[LSF_MAX_R * LSF_MAX_R], G[LSF_MAX_R * LSF_MAX_R], Gi[LSF_MAX_R * LSF_MAX_R];
    centre(m);
    factor_moment(m, M);
    if (ls_symm_power(M, r, -0.5, G) || ls_symm_power(M, r, 0.5, Gi)) return LS_ERR_NOMEM;
    transform(m, G, Gi);
    return LS_OK;
}

void lsf_transform(lsf_model *m, const double *G, const double *Gi) { transform(m, G, Gi); }

int lsf_rotate_reference(lsf_model *m)
{
    int rc = lsf_normalise(m);
    return rc ? rc : lsf_rotate_pc(m);
}

int lsf_rotate_pc(lsf_model *m)
{
    const size_t r = m->r, d = m->d, q = m->q;
    double Mg[LSF_MAX_R * LSF_MAX_R] = {0}, V[LSF_MAX_R * LSF_MAX_R], e[LSF_MAX_R];
    double G[LSF_MAX_R * LSF_MAX_R];
    for (size_t j = 0; j < q; j++) rank1_upper(Mg, r, m->T + j * d, 1.0 / (double)q);
    mirror(Mg, r);
    if (ls_eigen_symm(Mg, r, e, V)) return LS_ERR_NOMEM;
    /* decreasing eigenvalues; column signs: positive loading sums */
    for (size_t b = 0; b < r; b++)
        for (size_t a = 0; a < r; a++) G[a * r + b] = V[a * r + (r - 1 - b)];
    for (size_t b = 0; b < r; b++) {
        double s = 0;
        for (size_t j = 0; j < q; j++)
            for (size_t a = 0; a < r; a++) s += m->T[j * d + a] * G[a * r + b];
        if (s < 0)
            for (size_t a = 0; a < r; a++) G[a * r + b] = -G[a * r + b];
    }
    /* G orthogonal: G^-T = G */
    double Gi[LSF_MAX_R * LSF_MAX_R];
    for (size_t a = 0; a < r; a++)
        for (size_t b = 0; b < r; b++) Gi[a * r + b] = G[b * r + a];
    transform(m, G, Gi);
    return LS_OK;
}

int lsf_covariate_condition(lsf_model *m, int cond, double *A, ls_error *err)
{
    const size_t r = m->r, d = m->d, q = m->q, n = m->n, p1 = m->p1, p = p1 - 1;
    if (A) memset(A, 0, p * r * sizeof *A);
    if (p == 0) return LS_OK;
    if (cond == LS_FACTOR_COV_ORTHOGONAL) {
        /* C = (X1'X1)^-1 X1'U, U <- U - X1 C, beta_j <- beta_j + C gamma_j */
        double *XX = ls_calloc(p1 * p1, sizeof *XX), *XU = ls_calloc(p1 * r, sizeof *XU);
        if (!XX || !XU) {
            ls_free(XX);
            ls_free(XU);
            return ls_nomem(err);
        }
        for (size_t i = 0; i < n; i++) {
            const double *x = m->X1 + i * p1;
            rank1_upper(XX, p1, x, 1.0);
            for (size_t s = 0; s < p1; s++)
                for (size_t k = 0; k < r; k++) XU[s * r + k] += x[s] * m->U[i * r + k];
        }
        mirror(XX, p1);
        int bad = ls_chol(XX, p1);
        double col[LSF_MAX_P + 1];
        for (size_t k = 0; k < r && !bad; k++) {
            for (size_t s = 0; s < p1; s++) col[s] = XU[s * r + k];
            ls_chol_solve(XX, p1, col);
            for (size_t s = 0; s < p1; s++) XU[s * r + k] = col[s];
        }
        if (!bad) {
            for (size_t i = 0; i < n; i++)
                for (size_t k = 0; k < r; k++) {
                    double s = 0;
                    for (size_t c = 0; c < p1; c++) s += m->X1[i * p1 + c] * XU[c * r + k];
                    m->U[i * r + k] -= s;
                }
            for (size_t j = 0; j < q; j++)
                for (size_t c = 0; c < p1; c++) {
                    double s = 0;
                    for (size_t k = 0; k < r; k++) s += XU[c * r + k] * m->T[j * d + k];
                    m->T[j * d + r + c] += s;
                }
            if (A)
                for (size_t s = 0; s < p; s++)
                    for (size_t k = 0; k < r; k++) A[s * r + k] = -XU[(s + 1) * r + k];
        }
        ls_free(XX);
        ls_free(XU);
        if (bad) return ls_fail(err, LS_ERR_NUMERIC, "the covariates are collinear");
        return LS_OK;
    }
    /* min-L1: for each covariate s, A_s = argmin sum_j |beta_js - gamma_j . a| */
    double *Z = ls_malloc(q * r * sizeof *Z), *y = ls_malloc(q * sizeof *y);
    if (!Z || !y) {
        ls_free(Z);
        ls_free(y);
        return ls_nomem(err);
    }
    for (size_t j = 0; j < q; j++) memcpy(Z + j * r, m->T + j * d, r * sizeof *Z);
    int rc = LS_OK;
    for (size_t s = 0; s < p && !rc; s++) {
        double a[LSF_MAX_R], obj;
        for (size_t j = 0; j < q; j++) y[j] = m->T[j * d + r + 1 + s];
        rc = ls_lad(Z, y, q, r, a, &obj, err);
        if (rc == LS_ERR_NUMERIC)
            rc = ls_fail(err, LS_ERR_NUMERIC,
                         "covariate condition min-l1: the fitted loadings do not span %zu dimensions (a degenerate "
                         "joint-ML fit: with few responses per person, try `ridge` auto (or 1), fewer factors, or "
                         "`covariate_condition` orthogonal)", r);
        if (rc) break;
        for (size_t j = 0; j < q; j++) {
            double g = 0;
            for (size_t k = 0; k < r; k++) g += m->T[j * d + k] * a[k];
            m->T[j * d + r + 1 + s] -= g;
        }
        for (size_t i = 0; i < n; i++) {
            double x = m->X1[i * p1 + 1 + s];
            for (size_t k = 0; k < r; k++) m->U[i * r + k] += x * a[k];
        }
        if (A) memcpy(A + s * r, a, r * sizeof *a);
    }
    ls_free(Z);
    ls_free(y);
    if (!rc) centre(m);
    return rc;
}

/* ---------------------------------------------------------------- */
/* Start                                                             */
/* ---------------------------------------------------------------- */

static double link_of_mean(int family, double mean)
{
    switch (family) {
    case LS_FACTOR_POISSON: return log(fmax(mean, 1e-3));
    case LS_FACTOR_GAUSSIAN: return mean;
    case LS_FACTOR_PROBIT: {
        double p = fmin(fmax(mean, 1e-3), 1 - 1e-3);
        /* a rational approximation is enough for a start */
        return (log(p / (1 - p))) / 1.7;
    }
    default: {
        double p = fmin(fmax(mean, 1e-3), 1 - 1e-3);
        return log(p / (1 - p));
    }
    }
}

/* Orthonormalise the r columns of W (q x r) by modified Gram-Schmidt; a
 * column that vanishes becomes a unit vector.  */
static void orthonormalise(double *W, size_t q, size_t r)
{
    for (size_t k = 0; k < r; k++) {
        for (size_t l = 0; l < k; l++) {
            double dot = 0;
            for (size_t j = 0; j < q; j++) dot += W[j * r + k] * W[j * r + l];
            for (size_t j = 0; j < q; j++) W[j * r + k] -= dot * W[j * r + l];
        }
        double nn = 0;
        for (size_t j = 0; j < q; j++) nn += W[j * r + k] * W[j * r + k];
        if (!(nn > 1e-200)) {
            for (size_t j = 0; j < q; j++) W[j * r + k] = j == k;
            continue;
        }
        nn = 1 / sqrt(nn);
        for (size_t j = 0; j < q; j++) W[j * r + k] *= nn;
    }
}

/*
 * The eigenvectors of the r largest eigenvalues of the symmetric positive
 * semi-definite C (q x q) as the columns of W (q x r, largest first).  A
 * short test takes the whole decomposition (GSL); a long one the top r only
 * by subspace iteration and a Rayleigh-Ritz step, O(q^2 r) per iteration
 * instead of O(q^3) (2000 items: a second instead of half a minute).  It is
 * a start: 300 iterations at most.
 */
static int top_eigenvectors(const double *C, size_t q, size_t r, double *W)
{
    if (q <= 400) {
        double *A = ls_malloc(q * q * sizeof *A), *V = ls_malloc(q * q * sizeof *V), *e = ls_malloc(q * sizeof *e);
        int rc = !A || !V || !e;
        if (!rc) {
            memcpy(A, C, q * q * sizeof *A);
            rc = ls_eigen_symm(A, q, e, V);
        }
        if (!rc)
            for (size_t j = 0; j < q; j++)
                for (size_t k = 0; k < r; k++) W[j * r + k] = V[j * q + q - 1 - k]; /* ascending */
        ls_free(A);
        ls_free(V);
        ls_free(e);
        return rc ? LS_ERR_NOMEM : LS_OK;
    }
    double *Y = ls_malloc(q * r * sizeof *Y);
    if (!Y) return LS_ERR_NOMEM;
    ls_rng g = {0x9E3779B97F4A7C15ULL};
    for (size_t c = 0; c < q * r; c++) W[c] = ls_rng_norm(&g);
    orthonormalise(W, q, r);
    double P[LSF_MAX_R * LSF_MAX_R], M[LSF_MAX_R * LSF_MAX_R], V[LSF_MAX_R * LSF_MAX_R], e[LSF_MAX_R];
    for (int it = 0; it < 300; it++) {
        ls_gemm(0, 0, q, r, q, C, W, Y);
        orthonormalise(Y, q, r);
        /* the distance between the subspaces: |Y - W W'Y|^2 = r - |W'Y|^2 */
        ls_gemm(1, 0, r, r, q, W, Y, P);
        double dist = (double)r;
        for (size_t c = 0; c < r * r; c++) dist -= P[c] * P[c];
        memcpy(W, Y, q * r * sizeof *W);
        if (dist < 1e-14) break;
    }
    /* Rayleigh-Ritz: the eigenvectors of W'CW, largest first */
    ls_gemm(0, 0, q, r, q, C, W, Y);
    ls_gemm(1, 0, r, r, q, W, Y, M);
    for (size_t k = 0; k < r; k++) /* symmetrise the rounding */
        for (size_t l = 0; l < k; l++) M[k * r + l] = M[l * r + k] = 0.5 * (M[k * r + l] + M[l * r + k]);
    int rc = ls_eigen_symm(M, r, e, V);
    if (!rc) {
        for (size_t j = 0; j < q; j++) {
            double row[LSF_MAX_R];
            for (size_t k = 0; k < r; k++) {
                row[k] = 0;
                for (size_t l = 0; l < r; l++) row[k] += W[j * r + l] * V[l * r + r - 1 - k];
            }
            memcpy(W + j * r, row, r * sizeof *row);
        }
    }
    ls_free(Y);
    return rc ? LS_ERR_NOMEM : LS_OK;
}

int lsf_start(lsf_model *m, uint64_t seed, double perturb, ls_error *err)
{
    const size_t n = m->n, q = m->q, r = m->r, d = m->d;
    double *mean = ls_calloc(q, sizeof *mean), *sd = ls_calloc(q, sizeof *sd);
    size_t *cnt = ls_calloc(q, sizeof *cnt);
    double *C = ls_calloc(q * q, sizeof *C), *V = ls_malloc(q * r * sizeof *V), *z = ls_malloc(q * sizeof *z);
    int rc = LS_OK;
    if (!mean || !sd || !cnt || !C || !V || !z) {
        rc = ls_nomem(err);
        goto done;
    }
    int logy = m->family == LS_FACTOR_POISSON;
    const ls_resp *R = m->R;
    for (size_t j = 0; j < q; j++)
        for (size_t c = R->cp[j]; c < R->cp[j + 1]; c++) {
            double v = logy ? log(R->cv[c] + 0.5) : R->cv[c];
            mean[j] += v;
            sd[j] += v * v;
            cnt[j]++;
        }
    for (size_t j = 0; j < q; j++) {
        double c = cnt[j] ? (double)cnt[j] : 1.0;
        mean[j] /= c;
        sd[j] = sqrt(fmax(sd[j] / c - mean[j] * mean[j], 1e-8));
    }
    /* C = Z'Z (a missing response counts 0) over a systematic subsample of
     * rows, or over every row when the responses are sparse (at most 4000
     * rows' worth of cells) */
    size_t stride = n > 4000 ? (n + 3999) / 4000 : 1;
    if ((double)R->nnz <= 4000.0 * (double)q) stride = 1;
    for (size_t i = 0; i < n; i += stride) {
        const size_t k0 = R->rp[i], len = R->rp[i + 1] - k0;
        const uint32_t *jj = R->ri + k0;
        for (size_t a = 0; a < len; a++) {
            const double y = R->rv[k0 + a];
            z[a] = ((logy ? log(y + 0.5) : y) - mean[jj[a]]) / sd[jj[a]];
        }
        for (size_t a = 0; a < len; a++) /* items increase: the upper triangle */
            for (size_t b = a; b < len; b++) C[jj[a] * q + jj[b]] += z[a] * z[b];
    }
    mirror(C, q);
    if (top_eigenvectors(C, q, r, V)) {
        rc = ls_nomem(err);
        goto done;
    }
    ls_rng g = {seed * 0x2545F4914F6CDD1DULL + 0x1234567ULL};
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < r; k++) {
            double s = 0;
            for (size_t a = R->rp[i]; a < R->rp[i + 1]; a++) {
                const size_t j = R->ri[a];
                s += ((logy ? log(R->rv[a] + 0.5) : R->rv[a]) - mean[j]) / sd[j] * V[j * r + k];
            }
            m->U[i * r + k] = s;
        }
    /* scale to unit variance before perturbing */
    lsf_normalise(m);
    if (perturb > 0)
        for (size_t a = 0; a < n * r; a++) m->U[a] += perturb * ls_rng_norm(&g);
    for (size_t a = 0; a < n * r; a++) m->U[a] = clip(m->U[a], m->bound);
    memset(m->T, 0, q * d * sizeof *m->T);
    for (size_t j = 0; j < q; j++) {
        double mj = mean[j];
        if (logy) { /* back to the count scale for the log link */
            mj = 0;
            for (size_t c = R->cp[j]; c < R->cp[j + 1]; c++) mj += R->cv[c];
            mj = R->cp[j + 1] > R->cp[j] ? mj / (double)(R->cp[j + 1] - R->cp[j]) : 1.0;
        }
        m->T[j * d + r] = clip(link_of_mean(m->family, mj), m->bound);
        m->s2[j] = m->family == LS_FACTOR_GAUSSIAN ? sd[j] * sd[j] : 1.0;
    }
    centre(m);
done:
    ls_free(mean);
    ls_free(sd);
    ls_free(cnt);
    ls_free(C);
    ls_free(V);
    ls_free(z);
    return rc;
}
