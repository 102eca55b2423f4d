/*
 * gpcm_mml.c -- the accuracy reference: marginal maximum likelihood of the
 * generalized partial credit model by adaptive Gauss-Hermite quadrature
 * (nodes on each person's posterior mean and covariance, Naylor and Smith
 * 1982; Schilling and Bock 2005), optimised by L-BFGS (optimisation/
 * optimise.h) with the analytic gradient; and the cross-product (OPG)
 * standard errors of the spec's "Inference" at any estimates.
 *
 * Persons are summed in fixed blocks (independent of the thread count) and
 * the blocks in order, so results are reproducible across thread counts.
 */
#include "gpcm/model.h"
#include "kernel/linalg.h"
#include "kernel/optimise.h"

#include <math.h>
#include <omp.h>
#include <string.h>

#define NBLOCK 64
#define ADAPT_PASSES 4
#define INFO_BLOCKS 8

/* Parameter layout: free slopes (pattern order), steps k >= 1 (block
 * order), then the strict lower triangle of the correlation factor. */
typedef struct mml_ctx {
    lsg_model *m;
    lsg_quad q;
    size_t D, na, nb, nr, nx; /* nx: covariate coefficients (dif J x p or lreg p x K) */
    size_t G;              /* gradient slots: J K + T + K K + nx              */
    double *shw;           /* threads x 2 J: a person's shifts and their scores */
    size_t *aidx, *bidx;   /* parameter -> index into a (J x K) or b (T) */
    int corr;              /* Sigma estimated (confirmatory, K > 1)      */
    double *work;          /* threads x work                             */
    size_t wsize;
    double *blk;           /* NBLOCK x (J K + T + K K + 1)               */
    double *pgrad;         /* threads x (J K + T + K K)                  */
} mml_ctx;

static void ctx_free(mml_ctx *c)
{
    lsg_quad_free(&c->q);
    ls_free(c->aidx);
    ls_free(c->bidx);
    ls_free(c->work);
    ls_free(c->blk);
    ls_free(c->pgrad);
    ls_free(c->shw);
}

static int ctx_init(mml_ctx *c, lsg_model *m, unsigned nodes, int corr, ls_error *err)
{
    memset(c, 0, sizeof *c);
    c->m = m;
    const size_t J = m->J, K = m->K, T = m->T;
    int rc = lsg_quad_init(&c->q, m, nodes, err);
    if (rc) return rc;
    c->corr = corr && K > 1;
    for (size_t x = 0; x < J * K; x++) c->na += m->pattern[x] != 0;
    if (m->equal_slopes) c->na = 1; /* K = 1: slot 0 stands for every item's slope */
    for (size_t j = 0; j < J; j++) c->nb += m->P[j];
    c->nr = c->corr ? K * (K - 1) / 2 : 0;
    c->nx = m->xmode == LSG_X_DIF ? J * m->p : m->xmode == LSG_X_LREG ? m->p * K : 0;
    c->D = c->na + c->nb + c->nr + c->nx;
    c->aidx = ls_malloc((c->na + 1) * sizeof *c->aidx);
    c->bidx = ls_malloc((c->nb + 1) * sizeof *c->bidx);
    c->wsize = lsg_quad_work(&c->q);
    const size_t G = J * K + T + K * K + c->nx;
    c->G = G;
    c->work = ls_malloc((size_t)m->threads * c->wsize * sizeof *c->work);
    c->blk = ls_malloc(NBLOCK * (G + 1) * sizeof *c->blk);
    c->pgrad = ls_malloc((size_t)m->threads * G * sizeof *c->pgrad);
    c->shw = ls_malloc((size_t)m->threads * 2 * J * sizeof *c->shw);
    if (!c->aidx || !c->bidx || !c->work || !c->blk || !c->pgrad || !c->shw) {
        ctx_free(c);
        return ls_nomem(err);
    }
    size_t p = 0;
    for (size_t x = 0; x < J * K && p < c->na; x++)
        if (m->pattern[x]) c->aidx[p++] = x;
    p = 0;
    for (size_t j = 0; j < J; j++)
        for (size_t k = 1; k <= m->P[j]; k++) c->bidx[p++] = m->off[j] + k;
    return LS_OK;
}

/* Sigma = L L' with row p of L = v_p / |v_p|, v_p = (w_p0 .. w_p,p-1, 1, 0 ..). */
static void corr_from_w(const double *w, size_t K, double *L, double *norms, double *sigma)
{
    size_t t = 0;
    memset(L, 0, K * K * sizeof *L);
    for (size_t p = 0; p < K; p++) {
        double s = 1.0;
        for (size_t q = 0; q < p; q++) {
            L[p * K + q] = w[t++];
            s += L[p * K + q] * L[p * K + q];
        }
        L[p * K + p] = 1.0;
        norms[p] = sqrt(s);
        for (size_t q = 0; q <= p; q++) L[p * K + q] /= norms[p];
    }
    ls_gemm(0, 1, K, K, K, L, L, sigma);
    for (size_t p = 0; p < K; p++) sigma[p * K + p] = 1.0;
}

/*
 * Sum over persons of the log-likelihood and (when grad) of its gradient
 * in a (J x K), b (T) and Sigma (K x K) into tot (G + 1: gradient, then ll).
 * With scores != NULL, each person's gradient goes to scores + i * G.
 */
static int evaluate(mml_ctx *c, int grad, double *tot, double *scores, double *post_mean,
                    double *post_cov)
{
    lsg_model *m = c->m;
    const size_t N = m->N, J = m->J, K = m->K, T = m->T, G = c->G, Gx = J * K + T + K * K, p = m->p;
    double sinv[100], L[100], ld;
    memcpy(L, m->sigma, K * K * sizeof *L);
    if (ls_chol(L, K)) return LS_ERR_NUMERIC;
    ls_chol_inverse(L, K, sinv);
    ld = 2.0 * ls_chol_logdet_half(L, K);
    const size_t nblk = N < NBLOCK ? N : NBLOCK;
    int bad = 0;
    lsg_quad_steps(&c->q, m->b); /* the steps are fixed during the pass */
#pragma omp parallel for schedule(dynamic, 1) num_threads(m->threads) reduction(| : bad)
    for (size_t bk = 0; bk < nblk; bk++) {
        const int tid = omp_get_thread_num();
        double *w = c->work + (size_t)tid * c->wsize, *pg = c->pgrad + (size_t)tid * G;
        double *sh = c->shw + (size_t)tid * 2 * J, *gsh = sh + J;
        double *acc = c->blk + bk * (G + 1);
        memset(acc, 0, (G + 1) * sizeof *acc);
        const size_t i0 = bk * N / nblk, i1 = (bk + 1) * N / nblk;
        for (size_t i = i0; i < i1; i++) {
            if (c->nx) lsg_person_shift(m, i, sh);
            double ll = lsg_quad_person(&c->q, i, m->a, m->b, c->nx ? sh : NULL, grad && c->nx ? gsh : NULL,
                                        sinv, ld, grad ? pg : NULL,
                                        grad ? pg + J * K : NULL, grad ? pg + J * K + T : NULL,
                                        post_mean ? post_mean + i * K : NULL,
                                        post_cov ? post_cov + i * K * K : NULL, w);
            if (!isfinite(ll)) bad = 1;
            /* only the entries of the items person i answered are set and
             * read (the others are zero for this person): the cost follows
             * the observed responses */
            const size_t c0 = m->R->rp[i], c1 = m->R->rp[i + 1];
            const uint32_t *it = m->R->ri;
            if (grad && c->nx) { /* the covariate coefficients through the shifts */
                const double *x = m->X + i * p;
                double *gx = pg + Gx;
                if (m->xmode == LSG_X_DIF) {
                    for (size_t cc = c0; cc < c1; cc++) {
                        const size_t j = it[cc];
                        for (size_t s = 0; s < p; s++) gx[j * p + s] = gsh[j] * x[s];
                    }
                } else {
                    double mean[10] = {0};
                    for (size_t k = 0; k < K; k++)
                        for (size_t s = 0; s < p; s++) mean[k] += m->lreg[s * K + k] * x[s];
                    memset(gx, 0, p * K * sizeof *gx);
                    for (size_t cc = c0; cc < c1; cc++) {
                        const size_t j = it[cc];
                        if (gsh[j] == 0) continue;
                        for (size_t k = 0; k < K; k++) {
                            pg[j * K + k] += gsh[j] * mean[k];
                            for (size_t s = 0; s < p; s++) gx[s * K + k] += gsh[j] * m->a[j * K + k] * x[s];
                        }
                    }
                }
            }
            acc[G] += ll;
            if (grad) {
                double *sc = scores ? scores + i * G : NULL;
                if (sc) memset(sc, 0, G * sizeof *sc);
                for (size_t cc = c0; cc < c1; cc++) {
                    const size_t j = it[cc], o = J * K + m->off[j], P1 = m->P[j] + 1;
                    for (size_t k = 0; k < K; k++) acc[j * K + k] += pg[j * K + k];
                    for (size_t h = 0; h < P1; h++) acc[o + h] += pg[o + h];
                    if (sc) {
                        memcpy(sc + j * K, pg + j * K, K * sizeof *sc);
                        memcpy(sc + o, pg + o, P1 * sizeof *sc);
                    }
                }
                for (size_t x = J * K + T; x < Gx; x++) acc[x] += pg[x];
                if (sc) memcpy(sc + J * K + T, pg + J * K + T, K * K * sizeof *sc);
                if (m->xmode == LSG_X_DIF && c->nx)
                    for (size_t cc = c0; cc < c1; cc++) {
                        const size_t o = Gx + it[cc] * p;
                        for (size_t s = 0; s < p; s++) acc[o + s] += pg[o + s];
                        if (sc) memcpy(sc + o, pg + o, p * sizeof *sc);
                    }
                else if (c->nx) {
                    for (size_t x = Gx; x < G; x++) acc[x] += pg[x];
                    if (sc) memcpy(sc + Gx, pg + Gx, (G - Gx) * sizeof *sc);
                }
            }
        }
    }
    lsg_quad_steps(&c->q, NULL);
    if (bad) return LS_ERR_NUMERIC;
    memset(tot, 0, (G + 1) * sizeof *tot);
    for (size_t bk = 0; bk < nblk; bk++)
        for (size_t x = 0; x <= G; x++) tot[x] += c->blk[bk * (G + 1) + x];
    return LS_OK;
}

/* Adapt the nodes: re-centre them `passes` times on the posterior mean and
 * covariance computed under the current rule (the GVEM q_i are narrower
 * than the posterior: the product bound adds curvature for every category).
 * mu, S: N x K and N x K x K scratch that ends with the moments. */
static int adapt(mml_ctx *c, int passes, double *mu, double *S, double *tot)
{
    for (int p = 0; p < passes; p++) {
        int rc = evaluate(c, 0, tot, NULL, mu, S);
        if (rc) return rc;
        lsg_quad_center(&c->q, mu, S);
    }
    return LS_OK;
}

/* Model parameters -> x (the inverse of unpack; equal slopes start at
 * their mean).  Non-zero when Sigma is not positive definite. */
static int pack(const mml_ctx *c, double *x)
{
    const lsg_model *m = c->m;
    const size_t K = m->K;
    for (size_t p = 0; p < c->na; p++) x[p] = m->a[c->aidx[p]];
    if (m->equal_slopes) {
        double t = 0;
        for (size_t j = 0; j < m->J; j++) t += m->a[j] / (double)m->J;
        x[0] = t;
    }
    for (size_t p = 0; p < c->nb; p++) x[c->na + p] = m->b[c->bidx[p]];
    if (c->corr) {
        double L[100];
        memcpy(L, m->sigma, K * K * sizeof *L);
        if (ls_chol(L, K)) return 1;
        size_t t = c->na + c->nb;
        for (size_t p = 0; p < K; p++)
            for (size_t q = 0; q < p; q++) x[t++] = L[p * K + q] / L[p * K + p];
    }
    if (c->nx) memcpy(x + c->na + c->nb + c->nr, m->xmode == LSG_X_DIF ? m->dif : m->lreg, c->nx * sizeof *x);
    return 0;
}

/* x -> model parameters (and the correlation factor pieces). */
static void unpack(mml_ctx *c, const double *x, double *L, double *norms)
{
    lsg_model *m = c->m;
    for (size_t p = 0; p < c->na; p++) m->a[c->aidx[p]] = x[p];
    if (m->equal_slopes)
        for (size_t j = 0; j < m->J; j++) m->a[j] = x[0];
    for (size_t p = 0; p < c->nb; p++) m->b[c->bidx[p]] = x[c->na + p];
    if (c->corr) corr_from_w(x + c->na + c->nb, m->K, L, norms, m->sigma);
    const double *xx = x + c->na + c->nb + c->nr;
    if (c->nx) memcpy(m->xmode == LSG_X_DIF ? m->dif : m->lreg, xx, c->nx * sizeof *xx);
}

static int objective(void *vctx, const double *x, double *f, double *g)
{
    mml_ctx *c = vctx;
    lsg_model *m = c->m;
    const size_t J = m->J, K = m->K, T = m->T, G = c->G, N = m->N;
    double L[100], norms[10];
    unpack(c, x, L, norms);
    double *sum = ls_malloc((G + 1) * sizeof *sum);
    if (!sum) return LS_ERR_NOMEM;
    int rc = evaluate(c, 1, sum, NULL, NULL, NULL);
    if (rc) {
        ls_free(sum);
        return rc;
    }
    const double sc = -1.0 / (double)N;
    *f = sc * sum[G];
    for (size_t p = 0; p < c->na; p++) g[p] = sc * sum[c->aidx[p]];
    if (m->equal_slopes) {
        double t = 0;
        for (size_t j = 0; j < J; j++) t += sum[j];
        g[0] = sc * t;
    }
    for (size_t p = 0; p < c->nb; p++) g[c->na + p] = sc * sum[J * K + c->bidx[p]];
    if (c->corr) {
        /* dF/dL = (G + G') L; dF/dv_p = (I - l l') dF/dl_p / |v_p| */
        const double *Gs = sum + J * K + T;
        double dL[100];
        for (size_t p = 0; p < K; p++)
            for (size_t q = 0; q < K; q++) {
                double s = 0;
                for (size_t r = 0; r < K; r++) s += (Gs[p * K + r] + Gs[r * K + p]) * L[r * K + q];
                dL[p * K + q] = s;
            }
        size_t t = c->na + c->nb;
        for (size_t p = 0; p < K; p++) {
            double dot = 0;
            for (size_t q = 0; q <= p; q++) dot += L[p * K + q] * dL[p * K + q];
            for (size_t q = 0; q < p; q++) g[t++] = sc * (dL[p * K + q] - L[p * K + q] * dot) / norms[p];
        }
    }
    for (size_t t = 0; t < c->nx; t++) g[c->na + c->nb + c->nr + t] = sc * sum[J * K + T + K * K + t];
    ls_free(sum);
    return LS_OK;
}

int lsg_mml(lsg_model *m, unsigned nodes, double gtol, unsigned max_iter, ls_progress_fn progress,
            void *progress_ctx, double *loglik, unsigned *iters, int *converged, ls_error *err)
{
    mml_ctx c;
    int rc = ctx_init(&c, m, nodes, !m->exploratory, err);
    if (rc) return rc;
    const size_t K = m->K, N = m->N, G = c.G;
    double *x = ls_malloc(c.D * sizeof *x), *tot = ls_malloc((G + 1) * sizeof *tot);
    if (!x || !tot) {
        rc = ls_nomem(err);
        goto done;
    }
    if (m->exploratory) /* Sigma = I: the GVEM whitening already holds it */
        for (size_t p = 0; p < K * K; p++) m->sigma[p] = p % (K + 1) == 0;
    if (pack(&c, x)) {
        rc = ls_fail(err, LS_ERR_NUMERIC, "gpcm mml: the starting correlation matrix is not positive definite");
        goto done;
    }
    *iters = 0;
    *converged = 0;
    double prev = -INFINITY;
    if (adapt(&c, m->mml_warm ? 1 : ADAPT_PASSES, m->mu, m->S, tot)) {
        rc = ls_fail(err, LS_ERR_NUMERIC, "gpcm mml: the marginal likelihood is not finite at the start");
        goto done;
    }
    for (int round = 0; round < 6; round++) {
        ls_opt_options oo;
        ls_opt_options_init(&oo);
        oo.gtol = gtol;
        oo.max_iter = max_iter;
        oo.progress = progress;
        oo.progress_ctx = progress_ctx;
        oo.stage = m->mml_stage ? m->mml_stage : "gpcm: MML";
        ls_opt_report rep;
        rc = ls_minimise(objective, &c, x, c.D, &oo, &rep, err);
        if (rc) goto done;
        *iters += rep.iter;
        double L[100], norms[10];
        unpack(&c, x, L, norms);
        /* re-centre the nodes on the quadrature posterior */
        rc = adapt(&c, 1, m->mu, m->S, tot);
        if (!rc) rc = evaluate(&c, 0, tot, NULL, NULL, NULL);
        if (rc) {
            rc = ls_fail(err, LS_ERR_NUMERIC, "gpcm mml: the marginal likelihood is not finite");
            goto done;
        }
        double ll = tot[G];
        *loglik = ll;
        if (rep.converged && fabs(ll - prev) < 1e-6 * (double)N) {
            *converged = 1;
            break;
        }
        prev = ll;
    }
done:
    ls_free(x);
    ls_free(tot);
    ctx_free(&c);
    return rc;
}

int lsg_mml_objective(lsg_model *m, unsigned nodes, const double *x, double *f, double *g, size_t *D,
                      ls_error *err)
{
    mml_ctx c;
    int rc = ctx_init(&c, m, nodes, !m->exploratory, err);
    if (rc) return rc;
    *D = c.D;
    double *xx = ls_malloc(c.D * sizeof *xx), *gg = ls_malloc(c.D * sizeof *gg);
    if (!xx || !gg) rc = ls_nomem(err);
    else {
        if (x) memcpy(xx, x, c.D * sizeof *xx);
        else if (pack(&c, xx)) rc = ls_fail(err, LS_ERR_NUMERIC, "gpcm mml: Sigma is not positive definite");
        if (!rc && objective(&c, xx, f, gg)) rc = ls_fail(err, LS_ERR_NUMERIC, "gpcm mml: not finite");
        if (!rc && g) memcpy(g, gg, c.D * sizeof *gg);
    }
    ls_free(xx);
    ls_free(gg);
    ctx_free(&c);
    return rc;
}

int lsg_marginal(const lsg_model *m, unsigned nodes, double *loglik, double *se_a, double *se_b,
                 double *se_sigma, double *cov_a, ls_error *err)
{
    mml_ctx c;
    lsg_model *mm = (lsg_model *)m; /* evaluate() only reads the model here */
    int rc = ctx_init(&c, mm, nodes, se_sigma != NULL, err);
    if (rc) return rc;
    const size_t K = m->K, N = m->N, J = m->J, T = m->T, G = c.G, D = c.D;
    double *tot = ls_malloc((G + 1) * sizeof *tot);
    double *sc = se_a ? ls_malloc(N * G * sizeof *sc) : NULL;
    double *Sd = se_a ? ls_malloc(N * D * sizeof *Sd) : NULL;
    double *I = se_a ? ls_malloc(D * D * sizeof *I) : NULL;
    double *pm = ls_malloc(N * K * sizeof *pm), *pc = ls_malloc(N * K * K * sizeof *pc);
    if (!tot || !pm || !pc || (se_a && (!sc || !Sd || !I))) {
        rc = ls_nomem(err);
        goto done;
    }
    rc = adapt(&c, ADAPT_PASSES, pm, pc, tot);
    if (!rc) rc = evaluate(&c, se_a != NULL, tot, sc, NULL, NULL);
    if (rc) {
        rc = ls_fail(err, LS_ERR_NUMERIC, "gpcm: the marginal likelihood is not finite");
        goto done;
    }
    *loglik = tot[G];
    if (!se_a) goto done;
    /* persons' scores in the natural parameters: slopes, steps, correlations */
    for (size_t i = 0; i < N; i++) {
        const double *s = sc + i * G;
        double *r = Sd + i * D;
        for (size_t p = 0; p < c.na; p++) r[p] = s[c.aidx[p]];
        for (size_t p = 0; p < c.nb; p++) r[c.na + p] = s[J * K + c.bidx[p]];
        size_t t = c.na + c.nb;
        if (c.corr)
            for (size_t p = 0; p < K; p++)
                for (size_t q = 0; q < p; q++) r[t++] = s[J * K + T + p * K + q] + s[J * K + T + q * K + p];
        for (size_t u = 0; u < c.nx; u++) r[t++] = s[J * K + T + K * K + u];
    }
    ls_gemm(1, 0, D, D, N, Sd, Sd, I);
    if (ls_chol(I, D)) {
        rc = ls_fail(err, LS_ERR_NUMERIC, "gpcm: the cross-product information is singular");
        goto done;
    }
    /* diagonal of the inverse: |L^-1 e_p|^2 summed ... use columns */
    {
        double *col = sc; /* reuse: N * G >= D */
        memset(se_a, 0, J * K * sizeof *se_a);
        for (size_t x = 0; x < T; x++) se_b[x] = NAN;
        if (se_sigma) memset(se_sigma, 0, K * K * sizeof *se_sigma);
        for (size_t p = 0; p < D; p++) {
            for (size_t r = 0; r < D; r++) col[r] = r == p;
            ls_chol_solve(I, D, col);
            double v = sqrt(fmax(col[p], 0));
            if (cov_a && p < c.na) /* column p of the inverse, slope rows */
                for (size_t r = 0; r < c.na; r++) cov_a[r * c.na + p] = col[r];
            if (p < c.na) se_a[c.aidx[p]] = v;
            else if (p < c.na + c.nb) se_b[c.bidx[p - c.na]] = v;
            else if (se_sigma) {
                size_t t = p - c.na - c.nb, k = 0;
                for (size_t a = 1; a < K; a++)
                    for (size_t b = 0; b < a; b++, k++)
                        if (k == t) se_sigma[a * K + b] = se_sigma[b * K + a] = v;
            }
        }
    }
done:
    ls_free(pm);
    ls_free(pc);
    ls_free(tot);
    ls_free(sc);
    ls_free(Sd);
    ls_free(I);
    ctx_free(&c);
    return rc;
}

/* The observed information of the quadrature sum (nodes held) for binary
 * items, by Louis' identity per person: with t = (theta, 1), z = (t, x) and
 * item j's parameters (a_j, c_j = -b_j1, dif_j) entering as z . (a_j, c_j,
 * dif_j), residuals r_j = y_j - P_j and weights w_j = P_j (1 - P_j) at each
 * node, person i adds, in block (j, l),
 *   expand(delta_jl E[w_j t t'] - E[r_j r_l t t'] + m_j m_l'),  m_j = E[r_j t],
 * where E is the posterior under the rule and expand() carries the (K + 1)
 * square to z's by t's last entry (x enters as that entry does).  About
 * q^2 (K + 1 + p)^2 per person, against D gradients of n q nodes each for
 * differences.  Also the cross-product of the scores.  I, Sc: D x D, zeroed
 * here. */
static int binary_information(mml_ctx *c, double *I, double *Sc)
{
    lsg_model *m = c->m;
    const size_t N = m->N, J = m->J, K = m->K, D = c->D, p = m->xmode == LSG_X_DIF ? m->p : 0;
    /* the nodes' buffers hold the larger of the rule and its fallback (lsg_quad fb) */
    const size_t n = c->q.fb && c->q.fb->rule.n > c->q.rule.n ? c->q.fb->rule.n : c->q.rule.n;
    const size_t K1 = K + 1, dz = K1 + p;
    double sinv[100], L[100];
    memcpy(L, m->sigma, K * K * sizeof *L);
    if (ls_chol(L, K)) return LS_ERR_NUMERIC;
    ls_chol_inverse(L, K, sinv);
    long *apos = ls_malloc(J * K * sizeof *apos);
    if (!apos) return LS_ERR_NOMEM;
    for (size_t x = 0; x < J * K; x++) apos[x] = -1;
    for (size_t t = 0; t < c->na; t++) apos[c->aidx[t]] = (long)t;
    if (m->equal_slopes)
        for (size_t j = 0; j < J; j++) apos[j] = 0;
    /* persons in INFO_BLOCKS fixed blocks, summed in block order: the same
     * sums whatever the number of threads */
    const size_t NB = N < INFO_BLOCKS ? N : INFO_BLOCKS;
    size_t JM = 1; /* the most items a person answered: the per-person work's size */
    for (size_t i = 0; i < N; i++)
        if (m->R->rp[i + 1] - m->R->rp[i] > JM) JM = m->R->rp[i + 1] - m->R->rp[i];
    double *acc = ls_calloc(NB * 2 * D * D, sizeof *acc);
    if (!acc) {
        ls_free(apos);
        return LS_ERR_NOMEM;
    }
    int bad = 0;
#pragma omp parallel for schedule(dynamic, 1) num_threads(m->threads) reduction(| : bad)
    for (size_t bk = 0; bk < NB; bk++) {
        double *Ht = acc + bk * 2 * D * D, *St = Ht + D * D;
        double *z = ls_malloc(n * K * sizeof *z), *pi = ls_malloc(n * sizeof *pi);
        double *rr = ls_malloc(n * JM * sizeof *rr), *ww = ls_malloc(n * JM * sizeof *ww);
        double *M = ls_malloc(JM * JM * K1 * K1 * sizeof *M), *mj = ls_malloc(JM * K1 * sizeof *mj);
        double *sh = ls_malloc(J * sizeof *sh), *g = ls_malloc(D * sizeof *g);
        long *ix = ls_malloc(JM * dz * sizeof *ix);
        double *sg = ls_malloc(JM * dz * sizeof *sg);
        size_t *obs = ls_malloc(JM * sizeof *obs);
        int *yo = ls_malloc(JM * sizeof *yo);
        if (!z || !pi || !rr || !ww || !M || !mj || !sh || !g || !ix || !sg || !obs || !yo) bad = 1;
        for (size_t i = bk * N / NB; !bad && i < (bk + 1) * N / NB; i++) {
            const double *ce = c->q.center + i * K, *Lc = c->q.chol + i * K * K;
            size_t no = 0;
            for (size_t cc = m->R->rp[i]; cc < m->R->rp[i + 1]; cc++, no++) {
                obs[no] = m->R->ri[cc];
                yo[no] = (int)m->R->rv[cc];
            }
            if (no == 0) continue;
            lsg_person_shift(m, i, sh);
            const ls_rule *ru = &c->q.rule;
        again:;
            const size_t nr = ru->n;
            double mx = -INFINITY;
            for (size_t k = 0; k < nr; k++) {
                double *zk = z + k * K;
                const double *u = ru->u + k * K;
                for (size_t a = 0; a < K; a++) {
                    double v = ce[a];
                    for (size_t b = 0; b <= a; b++) v += Lc[a * K + b] * u[b];
                    zk[a] = v;
                }
                double h = 0;
                for (size_t a = 0; a < K; a++)
                    for (size_t b = 0; b < K; b++) h -= 0.5 * zk[a] * sinv[a * K + b] * zk[b];
                for (size_t o = 0; o < no; o++) {
                    size_t j = obs[o];
                    double eta = sh[j] - m->b[m->off[j] + 1];
                    for (size_t a = 0; a < K; a++) eta += m->a[j * K + a] * zk[a];
                    if (m->probit) { /* log Phi(v), v = +-eta: d/deta +-lambda, -d2 lambda (lambda + v) */
                        const double v = yo[o] ? eta : -eta;
                        double lam;
                        h += lsg_log_Phi(v, &lam);
                        rr[k * JM + o] = yo[o] ? lam : -lam;
                        ww[k * JM + o] = lam * (lam + v);
                        continue;
                    }
                    double P = 1 / (1 + exp(-eta));
                    /* log P(y | eta), stably */
                    const double se = yo[o] ? -eta : eta; /* log(1 + e^se), without overflow */
                    h -= se > 30 ? se + log1p(exp(-se)) : log1p(exp(se));
                    rr[k * JM + o] = (double)yo[o] - P;
                    ww[k * JM + o] = P * (1 - P);
                }
                pi[k] = ru->lw[k] + h;
                if (pi[k] > mx) mx = pi[k];
            }
            double sum = 0;
            const signed char *wsg = ru->sg; /* a sparse grid's weight signs */
            for (size_t k = 0; k < nr; k++) sum += (pi[k] = wsg && wsg[k] < 0 ? -exp(pi[k] - mx) : exp(pi[k] - mx));
            if (!(sum > 0)) { /* as lsg_quad_person: the product rule for this person */
                if (c->q.fb && ru != &c->q.fb->rule) {
                    ru = &c->q.fb->rule;
                    goto again;
                }
                bad |= 2; /* not finite */
                continue;
            }
            for (size_t k = 0; k < nr; k++) pi[k] /= sum;
            /* m_j = E[r_j t]; M_jl = delta_jl E[w_j t t'] - E[r_j r_l t t'] (+ m_j m_l' below) */
            memset(mj, 0, no * K1 * sizeof *mj);
            memset(M, 0, no * no * K1 * K1 * sizeof *M);
            for (size_t k = 0; k < nr; k++) {
                const double pk = pi[k], *zk = z + k * K;
                if (fabs(pk) < 1e-300) continue;
                double t[11];
                for (size_t a = 0; a < K; a++) t[a] = zk[a];
                t[K] = 1;
                for (size_t o = 0; o < no; o++) {
                    const double ro = pk * rr[k * JM + o];
                    for (size_t a = 0; a < K1; a++) mj[o * K1 + a] += ro * t[a];
                    const double wo = pk * ww[k * JM + o];
                    for (size_t o2 = o; o2 < no; o2++) {
                        double cf = -ro * rr[k * JM + o2] + (o2 == o ? wo : 0);
                        double *B = M + (o * no + o2) * K1 * K1;
                        for (size_t a = 0; a < K1; a++)
                            for (size_t b = 0; b < K1; b++) B[a * K1 + b] += cf * t[a] * t[b];
                    }
                }
            }
            /* engine indices and signs of each observed item's z-parameters */
            for (size_t o = 0; o < no; o++) {
                size_t j = obs[o];
                for (size_t u = 0; u < dz; u++) {
                    long id;
                    double sgn = 1;
                    if (u < K) id = apos[j * K + u];
                    else if (u == K) {
                        id = (long)(c->na + j); /* binary: one step per item, in item order */
                        sgn = -1;
                    } else
                        id = (long)(c->na + c->nb + c->nr + j * p + (u - K1));
                    ix[o * dz + u] = id;
                    sg[o * dz + u] = sgn;
                }
            }
            const double *x = p ? m->X + i * p : NULL;
            /* the score in engine layout, and its outer product */
            memset(g, 0, D * sizeof *g);
            for (size_t o = 0; o < no; o++)
                for (size_t u = 0; u < dz; u++) {
                    long id = ix[o * dz + u];
                    if (id < 0) continue;
                    double v = u < K1 ? mj[o * K1 + u] : mj[o * K1 + K] * x[u - K1];
                    g[id] += sg[o * dz + u] * v;
                }
            for (size_t a = 0; a < D; a++) { /* upper triangle; mirrored at the end */
                if (g[a] == 0) continue;
                for (size_t b = a; b < D; b++) St[a * D + b] += g[a] * g[b];
            }
            /* the information: blocks (o, o2), o <= o2, and their mirrors */
            for (size_t o = 0; o < no; o++)
                for (size_t o2 = o; o2 < no; o2++) {
                    double B[121];
                    const double *Mb = M + (o * no + o2) * K1 * K1;
                    for (size_t a = 0; a < K1; a++)
                        for (size_t b = 0; b < K1; b++)
                            B[a * K1 + b] = Mb[a * K1 + b] + mj[o * K1 + a] * mj[o2 * K1 + b];
                    for (size_t u = 0; u < dz; u++) {
                        long iu = ix[o * dz + u];
                        if (iu < 0) continue;
                        for (size_t v = 0; v < dz; v++) {
                            long iv = ix[o2 * dz + v];
                            if (iv < 0) continue;
                            double e;
                            if (u < K1 && v < K1) e = B[u * K1 + v];
                            else if (u < K1) e = B[u * K1 + K] * x[v - K1];
                            else if (v < K1) e = B[K * K1 + v] * x[u - K1];
                            else e = B[K * K1 + K] * x[u - K1] * x[v - K1];
                            /* H + H' at the end: half of a diagonal block's */
                            e *= sg[o * dz + u] * sg[o2 * dz + v] * (o2 == o ? 0.5 : 1.0);
                            Ht[iu * (long)D + iv] += e;
                        }
                    }
                }
        }
        ls_free(z);
        ls_free(pi);
        ls_free(rr);
        ls_free(ww);
        ls_free(M);
        ls_free(mj);
        ls_free(sh);
        ls_free(g);
        ls_free(ix);
        ls_free(sg);
        ls_free(obs);
        ls_free(yo);
    }
    if (!bad) {
        memset(I, 0, D * D * sizeof *I);
        memset(Sc, 0, D * D * sizeof *Sc);
        for (size_t bk = 0; bk < NB; bk++)
            for (size_t a = 0; a < D * D; a++) {
                I[a] += acc[bk * 2 * D * D + a];
                Sc[a] += acc[bk * 2 * D * D + D * D + a];
            }
        for (size_t a = 0; a < D; a++)
            for (size_t b = a; b < D; b++) {
                double h = I[a * D + b] + I[b * D + a];
                I[a * D + b] = I[b * D + a] = h;
                Sc[b * D + a] = Sc[a * D + b];
            }
    }
    ls_free(acc);
    ls_free(apos);
    return bad & 1 ? LS_ERR_NOMEM : bad ? LS_ERR_NUMERIC : LS_OK;
}

int lsg_mml_information(lsg_model *m, unsigned nodes, int differences, size_t *D, double **xout, double **H,
                        double **S, double *loglik, ls_error *err)
{
    mml_ctx c;
    *xout = *H = *S = NULL;
    int rc = ctx_init(&c, m, nodes, !m->exploratory, err);
    if (rc) return rc;
    const size_t K = m->K, N = m->N, J = m->J, T = m->T, G = c.G, n = c.D;
    *D = n;
    double *x = ls_malloc(n * sizeof *x), *I = ls_calloc(n * n, sizeof *I), *Sc = ls_calloc(n * n, sizeof *Sc);
    int binary = m->xmode != LSG_X_LREG && !c.corr && !differences;
    for (size_t j = 0; j < J; j++) binary &= m->P[j] == 1;
    double *tot = ls_malloc((G + 1) * sizeof *tot), *sc = binary ? NULL : ls_malloc(N * G * sizeof *sc);
    double *gp = ls_malloc(n * sizeof *gp), *gm = ls_malloc(n * sizeof *gm), *r = ls_malloc(n * sizeof *r);
    if (!x || !I || !Sc || !tot || (!binary && !sc) || !gp || !gm || !r) {
        rc = ls_nomem(err);
        goto done;
    }
    if (pack(&c, x)) {
        rc = ls_fail(err, LS_ERR_NUMERIC, "mml: the correlation matrix is not positive definite");
        goto done;
    }
    rc = adapt(&c, 1, m->mu, m->S, tot); /* lsg_mml left the nodes adapted to these estimates */
    if (!rc) rc = evaluate(&c, !binary, tot, sc, NULL, NULL);
    if (rc) {
        rc = ls_fail(err, LS_ERR_NUMERIC, "mml: the marginal likelihood is not finite at the estimates");
        goto done;
    }
    *loglik = tot[G];
    if (binary) {
        rc = binary_information(&c, I, Sc);
        if (rc) {
            rc = rc == LS_ERR_NOMEM ? ls_nomem(err) : ls_fail(err, LS_ERR_NUMERIC, "mml: the information is not finite");
            goto done;
        }
    } else {
        /* the cross-product of the persons' scores (slopes, steps, covariate
         * coefficients: the correlation slots are in w only through the
         * objective, so they take the objective's derivative below) */
        for (size_t i = 0; i < N; i++) {
            const double *s = sc + i * G;
            for (size_t p = 0; p < c.na; p++) r[p] = s[c.aidx[p]];
            if (m->equal_slopes) {
                r[0] = 0;
                for (size_t j = 0; j < J; j++) r[0] += s[j];
            }
            for (size_t p = 0; p < c.nb; p++) r[c.na + p] = s[J * K + c.bidx[p]];
            for (size_t u = 0; u < c.nr; u++) r[c.na + c.nb + u] = 0;
            for (size_t u = 0; u < c.nx; u++) r[c.na + c.nb + c.nr + u] = s[J * K + T + K * K + u];
            for (size_t a = 0; a < n; a++)
                for (size_t b = 0; b < n; b++) Sc[a * n + b] += r[a] * r[b];
        }
        /* observed information: central differences of the analytic gradient,
         * nodes held where the estimates put them */
        for (size_t a = 0; a < n; a++) {
            const double x0 = x[a], h = 1e-5 * (1 + fabs(x0));
            double f;
            x[a] = x0 + h;
            rc = objective(&c, x, &f, gp);
            x[a] = x0 - h;
            if (!rc) rc = objective(&c, x, &f, gm);
            x[a] = x0;
            if (rc) {
                rc = ls_fail(err, LS_ERR_NUMERIC, "mml: the marginal likelihood is not finite near the estimates");
                goto done;
            }
            for (size_t b = 0; b < n; b++) I[b * n + a] = (double)N * (gp[b] - gm[b]) / (2 * h);
        }
        for (size_t a = 0; a < n; a++)
            for (size_t b = 0; b < a; b++) I[a * n + b] = I[b * n + a] = 0.5 * (I[a * n + b] + I[b * n + a]);
    }
    double f;
    rc = objective(&c, x, &f, gp); /* leave m at the estimates */
    if (rc) {
        rc = ls_fail(err, LS_ERR_NUMERIC, "mml: the marginal likelihood is not finite at the estimates");
        goto done;
    }
    if (binary) {
        /* one Newton step on the exact information polishes the quasi-Newton
         * end point (kept only when it raises the log-likelihood) */
        double *Lc = ls_malloc(n * n * sizeof *Lc), *x0 = ls_malloc(n * sizeof *x0);
        if (!Lc || !x0) {
            ls_free(Lc);
            ls_free(x0);
            rc = ls_nomem(err);
            goto done;
        }
        memcpy(Lc, I, n * n * sizeof *Lc);
        memcpy(x0, x, n * sizeof *x0);
        if (!ls_chol(Lc, n)) {
            for (size_t a = 0; a < n; a++) r[a] = -(double)N * gp[a];
            ls_chol_solve(Lc, n, r);
            for (size_t a = 0; a < n; a++) x[a] += r[a];
            double f1;
            if (objective(&c, x, &f1, gm) == LS_OK && f1 <= f) {
                f = f1;
                rc = adapt(&c, 1, m->mu, m->S, tot); /* the posterior moments at the step's end */
                if (!rc) rc = objective(&c, x, &f, gm);
            } else {
                memcpy(x, x0, n * sizeof *x);
                rc = objective(&c, x, &f, gp);
            }
        }
        ls_free(Lc);
        ls_free(x0);
        if (rc) {
            rc = ls_fail(err, LS_ERR_NUMERIC, "mml: the marginal likelihood is not finite at the estimates");
            goto done;
        }
        *loglik = -(double)N * f;
    }
done:
    ls_free(tot);
    ls_free(sc);
    ls_free(gp);
    ls_free(gm);
    ls_free(r);
    ctx_free(&c);
    if (rc) {
        ls_free(x);
        ls_free(I);
        ls_free(Sc);
        return rc;
    }
    *xout = x;
    *H = I;
    *S = Sc;
    return LS_OK;
}
