/*
 * mml.c -- marginal maximum likelihood of the Bernoulli (logit or probit)
 * factor model with covariates, for short tests:
 *   logit P(y_ij = 1 | theta_i) = gamma_j' theta_i + beta_j0 + beta_j' x_i
 *   (probit: P = Phi(the same)),
 *   theta_i ~ N(A x_i, I),
 * theta integrated out by adaptive Gauss-Hermite quadrature.  A binary item
 * is a two-category partial credit item, so the fit runs on the partial
 * credit model's MML engine (gpcm/mml.c, one engine for both): the
 * variational (GVEM) fit without covariates gives the start and the node
 * centres, then L-BFGS on (slopes, intercepts, covariate shifts of every
 * item) with the nodes re-centred between rounds.
 *
 * Identification.  With a shift on every item the factor means and the
 * item shifts are exchangeable (beta_j + gamma_j' a gives the same model as
 * a factor mean moved by a); as in the joint fit (2404.16745) the
 * covariate condition picks one: min-L1 (A = the least-absolute-deviation
 * fit of the item shifts on the loadings, per covariate: "most items are
 * fair") or orthogonal (A = 0: the factor independent of the covariates).
 * With r > 1 the loadings are rotated like the joint fit's orthogonal
 * reference, or kept triangular on the anchors.
 *
 * Inference: the observed information by differences of the analytic
 * gradient, carried to the reported parametrisation by the delta method,
 * and for the min-L1 covariate effects by simulating the estimates' normal
 * limit through the map (sim_se: the min-L1 fit is a median, whose
 * linearisation misstates its error); sandwich errors beside them;
 * the likelihood-ratio test of "no DIF at all" (the covariates move the
 * factor means only; fitted on request, dif_lr) against the model with a
 * shift on every item.
 */
#include "factor/fit.h"
#include "gpcm/model.h"
#include "kernel/lad.h"
#include "kernel/linalg.h"
#include "kernel/rng.h"

#include <gsl/gsl_cdf.h>
#include <math.h>
#include <omp.h>
#include <string.h>

#define MML_GTOL 1e-5
#define MML_MAX_ITER 2000
#define GVEM_MAX_ITER 200
#define GVEM_TOL 1e-6
#define MML_SE_DRAWS 4000

/* What the map from the engine's parameter vector to the reported
 * parametrisation needs. */
typedef struct mml_map {
    size_t q, r, p, na;
    int equal;             /* one slope for every item (x[0])               */
    const int *pattern;    /* q x r, internal item order                   */
    const size_t *perm;    /* internal item t is original item perm[t]      */
    const double *xm, *xs; /* covariates' means and sds (standardised in the engine) */
    int identify, covcond; /* triangular: the anchors are internal items 0..r-1 */
} mml_map;

/* Reported values: gamma (q x r), beta (q x (p+1)), A (p x r), original
 * item order, from the engine's x; G (r x r, may be NULL) the rotation
 * applied (gamma = a G). */
static int mml_report(const mml_map *mp, const double *x, double *gamma, double *beta, double *A, double *G,
                      ls_error *err)
{
    const size_t q = mp->q, r = mp->r, p = mp->p, p1 = p + 1;
    double a[LSF_MAX_R], Gr[LSF_MAX_R * LSF_MAX_R] = {0};
    size_t t = 0;
    for (size_t u = 0; u < q; u++)
        for (size_t k = 0; k < r; k++)
            gamma[mp->perm[u] * r + k] = mp->equal ? x[0] : mp->pattern[u * r + k] ? x[t++] : 0.0;
    const double *b = x + mp->na, *dif = b + q;
    /* rotation */
    if (mp->identify == LS_FACTOR_ORTHOGONAL && r > 1) {
        double M[LSF_MAX_R * LSF_MAX_R] = {0}, V[LSF_MAX_R * LSF_MAX_R], e[LSF_MAX_R];
        for (size_t j = 0; j < q; j++)
            for (size_t k = 0; k < r; k++)
                for (size_t l = 0; l < r; l++) M[k * r + l] += gamma[j * r + k] * gamma[j * r + l];
        if (ls_eigen_symm(M, r, e, V)) return ls_nomem(err);
        for (size_t c = 0; c < r; c++)
            for (size_t k = 0; k < r; k++) Gr[k * r + c] = V[k * r + (r - 1 - c)];
    } else
        for (size_t k = 0; k < r; k++) Gr[k * r + k] = 1.0;
    for (size_t c = 0; c < r; c++) { /* column signs: positive sums, or positive anchors */
        double s = 0;
        if (mp->identify == LS_FACTOR_TRIANGULAR)
            for (size_t k = 0; k < r; k++) s += gamma[mp->perm[c] * r + k] * Gr[k * r + c];
        else
            for (size_t j = 0; j < q; j++)
                for (size_t k = 0; k < r; k++) s += gamma[j * r + k] * Gr[k * r + c];
        if (s < 0)
            for (size_t k = 0; k < r; k++) Gr[k * r + c] = -Gr[k * r + c];
    }
    for (size_t j = 0; j < q; j++) {
        for (size_t c = 0; c < r; c++) {
            double s = 0;
            for (size_t k = 0; k < r; k++) s += gamma[j * r + k] * Gr[k * r + c];
            a[c] = s;
        }
        memcpy(gamma + j * r, a, r * sizeof *a);
    }
    if (G) memcpy(G, Gr, r * r * sizeof *Gr);
    /* intercepts at x = 0 and the raw-scale item shifts */
    for (size_t u = 0; u < q; u++) {
        size_t j = mp->perm[u];
        double c0 = -b[u];
        for (size_t s = 0; s < p; s++) {
            double v = dif[u * p + s] / mp->xs[s];
            beta[j * p1 + 1 + s] = v;
            c0 -= v * mp->xm[s];
        }
        beta[j * p1] = c0;
    }
    if (p) memset(A, 0, p * r * sizeof *A);
    if (p == 0 || mp->covcond != LS_FACTOR_COV_L1) return LS_OK;
    /* the min-L1 condition (kernel/lad: shared with the partial credit model) */
    return ls_min_l1(gamma, q, r, beta + 1, p, p1, A, err);
}

/* Standard errors of the reported values by simulation through the map:
 * the engine's estimates are asymptotically N(x, V); their image under
 * mml_report, drawn MML_SE_DRAWS times (seeded), has the reported values'
 * sampling spread.  A linearisation would not do: the min-L1 fit is a
 * (weighted) median over the items, and its derivative at the estimate
 * puts all of the shift's error on the one item it interpolates, which
 * overstates it (in simulations of 9-item tests by 40 %).  se: the
 * standard deviations (out values). */
static int report_map(const void *ctx, const double *x, double *o, ls_error *err)
{
    const mml_map *mp = ctx;
    const size_t q = mp->q, r = mp->r, p = mp->p;
    return mml_report(mp, x, o, o + q * r, o + q * r + q * (p + 1), NULL, err);
}

static int sim_se(const mml_map *mp, const double *x, size_t D, const double *V, uint64_t seed, double *se,
                  ls_error *err)
{
    const size_t q = mp->q, r = mp->r, p = mp->p, nout = q * r + q * (p + 1) + p * r;
    return ls_map_se_sim(report_map, mp, x, D, V, nout, MML_SE_DRAWS, seed ^ 0x6d6d6c5f73650000ULL, se, err);
}

/* Standard errors of the reported values by the delta method: diag(Jt V
 * Jt') with Jt the central-difference Jacobian of mml_report at x.  Exact
 * to first order where the map is smooth: the loadings (rotated or not),
 * the intercepts, and the covariate effects without the min-L1 condition. */
static int delta_se(const mml_map *mp, const double *x, size_t D, const double *V, double *se, ls_error *err)
{
    const size_t q = mp->q, r = mp->r, p = mp->p, nout = q * r + q * (p + 1) + p * r;
    return ls_map_se_delta(report_map, mp, x, D, V, nout, se, err);
}

/* The standard errors of every reported value (out values into se, work
 * nout more): by the delta method, and for the min-L1 covariate effects by
 * simulation (sim_se). */
static int report_se(const mml_map *mp, const double *x, size_t D, const double *V, uint64_t seed, double *se,
                     double *work, ls_error *err)
{
    const size_t q = mp->q, r = mp->r, p = mp->p, p1 = p + 1;
    int rc = delta_se(mp, x, D, V, se, err);
    if (rc || p == 0 || mp->covcond != LS_FACTOR_COV_L1) return rc;
    rc = sim_se(mp, x, D, V, seed, work, err);
    if (rc) return rc;
    for (size_t j = 0; j < q; j++)
        for (size_t s = 1; s < p1; s++) se[q * r + j * p1 + s] = work[q * r + j * p1 + s];
    for (size_t c = 0; c < p * r; c++) se[q * r + q * p1 + c] = work[q * r + q * p1 + c];
    return LS_OK;
}

int lsf_mml_run(const ls_factor_data *d, const ls_factor_options *o, const char *reason, lsf_fit *f,
                ls_error *err)
{
    memset(f, 0, sizeof *f);
    const size_t n = d->n, q = d->q, p = d->p, r = o->factors, p1 = p + 1;
    const char *why = lsf_mml_unsupported(o);
    if (why) return ls_fail(err, LS_ERR_OPTION, "method mml: %s", why);
    /* the product rule's nodes per factor; above LSF_MML_PRODUCT_R factors
     * the sparse grid's largest one-dimensional rule (2 level + 1 nodes) */
    const unsigned nodes = o->nodes ? o->nodes : (r == 1 ? 11 : r == 2 ? 9 : 7);
    const unsigned level = r > LSF_MML_PRODUCT_R ? (o->nodes ? (o->nodes - 1) / 2 : LSF_MML_SPARSE_LEVEL) : 0;
    /* the engine keeps the observed cells (in its item order, below) */
    ls_resp Rm;
    memset(&Rm, 0, sizeof Rm);
    int *pat = ls_malloc(q * r * sizeof *pat);
    unsigned *P = ls_malloc(q * sizeof *P), *ncat = ls_malloc(q * sizeof *ncat);
    size_t *perm = ls_malloc(q * sizeof *perm);
    double *Xs = p ? ls_malloc(n * p * sizeof *Xs) : NULL, *xm = ls_calloc(p1, sizeof *xm),
           *xs = ls_calloc(p1, sizeof *xs);
    double *a0 = ls_calloc(q * r, sizeof *a0), *b0 = ls_calloc(2 * q, sizeof *b0);
    double *x = NULL, *H = NULL, *S = NULL, *V = NULL, *VS = NULL, *se = NULL;
    lsg_model m;
    memset(&m, 0, sizeof m);
    int rc = LS_OK;
    if (!pat || !P || !ncat || !perm || (p && !Xs) || !xm || !xs || !a0 || !b0) {
        rc = ls_nomem(err);
        goto done;
    }
    /* internal order: the anchors first (the exploratory engine's zeros sit
     * on its first r items), then the others in their order */
    {
        size_t t = 0;
        unsigned char *used = ls_calloc(q, 1);
        if (!used) {
            rc = ls_nomem(err);
            goto done;
        }
        for (size_t k = 0; k < r; k++) {
            size_t j = o->anchors ? o->anchors[k] : k;
            perm[t++] = j;
            used[j] = 1;
        }
        for (size_t j = 0; j < q; j++)
            if (!used[j]) perm[t++] = j;
        ls_free(used);
    }
    {
        size_t *pos = ls_malloc(q * sizeof *pos); /* the column of item j */
        if (!pos) {
            rc = ls_nomem(err);
            goto done;
        }
        for (size_t u = 0; u < q; u++) pos[perm[u]] = u;
        const size_t nnz = d->R.nnz, mz = nnz ? nnz : 1;
        uint32_t *tp = ls_malloc(mz * sizeof *tp), *ti = ls_malloc(mz * sizeof *ti);
        size_t dup;
        if (!tp || !ti) rc = ls_nomem(err);
        else {
            for (size_t i = 0; i < n; i++)
                for (size_t k = d->R.rp[i]; k < d->R.rp[i + 1]; k++) {
                    tp[k] = (uint32_t)i;
                    ti[k] = (uint32_t)pos[d->R.ri[k]];
                }
            rc = ls_resp_from_triples(n, q, nnz, tp, ti, d->R.rv, &dup, &Rm, err);
        }
        ls_free(tp);
        ls_free(ti);
        ls_free(pos);
        if (rc) goto done;
    }
    for (size_t u = 0; u < q; u++) {
        P[u] = 1;
        ncat[u] = 2;
        for (size_t k = 0; k < r; k++) pat[u * r + k] = !(u < r && k > u);
    }
    ls_standardise_columns(d->X, n, p, Xs, xm, xs);
    int threads = o->threads ? (int)o->threads : omp_get_max_threads();
    rc = lsg_init_resp(&m, &Rm, r, P, pat, 1, threads, err);
    if (rc) goto done;
    m.equal_slopes = o->equal_loadings;
    m.mml_sparse = level;
    {
        ls_gpcm_data gd;
        memset(&gd, 0, sizeof gd);
        gd.n = n;
        gd.J = q;
        gd.ncat = ncat;
        rc = lsg_data_start(&gd, &m, a0, b0, err);
    }
    if (rc) goto done;
    lsg_set(&m, a0, b0, NULL);
    rc = lsg_start(&m, err);
    for (unsigned it = 0; !rc && it < GVEM_MAX_ITER; it++) {
        double change = 0;
        rc = lsg_iterate(&m, &change, err);
        if (!rc && o->progress && it % 10 == 0 && o->progress(o->progress_ctx, "factor: start (GVEM)", it, GVEM_MAX_ITER))
            rc = ls_fail(err, LS_ERR_CANCEL, "factor: cancelled");
        if (rc || change < GVEM_TOL) break;
    }
    if (rc) goto done;
    if (o->family == LS_FACTOR_PROBIT) {
        /* the GVEM start is a logit fit: a probit's slopes and thresholds are
         * about 1/1.7 of a logit's (the logistic's sd is pi / sqrt 3 = 1.81,
         * 1.7 matches the two cdfs best) */
        m.probit = 1;
        for (size_t c = 0; c < q * r; c++) m.a[c] /= 1.702;
        for (size_t c = 0; c < m.T; c++) m.b[c] /= 1.702;
    }
    double ll, ll0 = NAN;
    unsigned iters, it0 = 0;
    int conv, conv0 = 0;
    ls_progress_fn pf = o->progress;
    const int lr = p > 0 && o->dif_lr;
    rc = lsg_set_covariates(&m, Xs, p, LSG_X_DIF, err);
    if (rc) goto done;
    m.mml_stage = "factor: MML";
    rc = lsg_mml(&m, nodes, MML_GTOL, MML_MAX_ITER, pf, o->progress_ctx, &ll, &iters, &conv, err);
    if (rc) goto done;

    /* the fit in the reported parametrisation */
    f->n = n;
    f->q = q;
    f->p = p;
    f->r = r;
    f->family = o->family;
    f->method = LS_FACTOR_MML;
    f->method_reason = reason;
    f->nodes = level ? 2 * level + 1 : nodes;
    f->identify = o->identify;
    f->covariate_condition = o->covariate_condition;
    f->seed = o->seed;
    f->tol = MML_GTOL;
    f->bound = 0;
    f->starts = 1;
    f->starts_at_best = 1;
    f->iterations = iters;
    f->converged = conv;
    f->anchors = ls_malloc(r * sizeof *f->anchors);
    f->U = ls_malloc(n * r * sizeof *f->U);
    f->gamma = ls_malloc(q * r * sizeof *f->gamma);
    f->beta = ls_malloc(q * p1 * sizeof *f->beta);
    f->dispersion = ls_malloc(q * sizeof *f->dispersion);
    f->factor_cov = ls_calloc(r * r, sizeof *f->factor_cov);
    f->factor_cor = ls_calloc(r * r, sizeof *f->factor_cor);
    f->A = ls_calloc(p ? p * r : 1, sizeof *f->A);
    f->start_loglik = ls_malloc(sizeof *f->start_loglik);
    if (!f->anchors || !f->U || !f->gamma || !f->beta || !f->dispersion || !f->factor_cov || !f->factor_cor ||
        !f->A || !f->start_loglik) {
        rc = ls_nomem(err);
        goto done;
    }
    for (size_t k = 0; k < r; k++) f->anchors[k] = perm[k];
    for (size_t j = 0; j < q; j++) f->dispersion[j] = 1.0;
    for (size_t k = 0; k < r; k++) f->factor_cov[k * r + k] = f->factor_cor[k * r + k] = 1.0;
    size_t D;
    rc = lsg_mml_information(&m, nodes, 0, &D, &x, &H, &S, &ll, err);
    if (rc) goto done;
    f->loglik = ll;
    f->start_loglik[0] = ll;
    f->nparams = D;
    f->aic = -2 * ll + 2 * (double)D;
    f->bic = -2 * ll + (double)D * log((double)n);
    f->jic = NAN;
    f->nobs = d->R.nnz;
    mml_map mp = {q, r, p, 0, o->equal_loadings, pat, perm, xm, xs, o->identify, o->covariate_condition};
    for (size_t c = 0; c < q * r; c++) mp.na += pat[c] != 0;
    if (mp.equal) mp.na = 1;
    double G[LSF_MAX_R * LSF_MAX_R];
    rc = mml_report(&mp, x, f->gamma, f->beta, f->A, G, err);
    if (rc) goto done;
    /* scores: posterior means and sds of theta_i = G' e_i + A x_i */
    for (size_t i = 0; i < n; i++) {
        const double *mu = m.mu + i * r;
        for (size_t c = 0; c < r; c++) {
            double v = 0;
            for (size_t k = 0; k < r; k++) v += G[k * r + c] * mu[k];
            for (size_t s = 0; s < p; s++) v += f->A[s * r + c] * d->X[i * p + s];
            f->U[i * r + c] = v;
        }
    }
    if (!o->skip_se) {
        const size_t nout = q * r + q * p1 + p * r;
        f->se_U = ls_malloc(n * r * sizeof *f->se_U);
        f->se_gamma = ls_malloc(q * r * sizeof *f->se_gamma);
        f->se_beta = ls_malloc(q * p1 * sizeof *f->se_beta);
        f->se_gamma_sw = ls_malloc(q * r * sizeof *f->se_gamma_sw);
        f->se_beta_sw = ls_malloc(q * p1 * sizeof *f->se_beta_sw);
        V = ls_malloc(D * D * sizeof *V);
        VS = ls_malloc(D * D * sizeof *VS);
        se = ls_malloc(2 * nout * sizeof *se);
        if (!f->se_U || !f->se_gamma || !f->se_beta || !f->se_gamma_sw || !f->se_beta_sw || !V || !VS || !se) {
            rc = ls_nomem(err);
            goto done;
        }
        for (size_t i = 0; i < n; i++)
            for (size_t c = 0; c < r; c++) {
                const double *Si = m.S + i * r * r;
                double w = 0;
                for (size_t k = 0; k < r; k++)
                    for (size_t l = 0; l < r; l++) w += G[k * r + c] * Si[k * r + l] * G[l * r + c];
                f->se_U[i * r + c] = sqrt(fmax(w, 0));
            }
        memcpy(V, H, D * D * sizeof *V);
        if (ls_chol(V, D)) {
            /* not a maximum, or a direction the data do not identify */
            for (size_t c = 0; c < q * r; c++) f->se_gamma[c] = f->se_gamma_sw[c] = NAN;
            for (size_t c = 0; c < q * p1; c++) f->se_beta[c] = f->se_beta_sw[c] = NAN;
            f->converged = 0;
        } else {
            double *L = VS;
            memcpy(L, V, D * D * sizeof *L);
            ls_chol_inverse(L, D, V);
            rc = report_se(&mp, x, D, V, o->seed, se, se + nout, err);
            if (rc) goto done;
            memcpy(f->se_gamma, se, q * r * sizeof *se);
            memcpy(f->se_beta, se + q * r, q * p1 * sizeof *se);
            /* sandwich V S V */
            double *T1 = ls_malloc(D * D * sizeof *T1);
            if (!T1) {
                rc = ls_nomem(err);
                goto done;
            }
            ls_gemm(0, 0, D, D, D, V, S, T1);
            ls_gemm(0, 0, D, D, D, T1, V, VS);
            ls_free(T1);
            rc = report_se(&mp, x, D, VS, o->seed, se, se + nout, err);
            if (rc) goto done;
            memcpy(f->se_gamma_sw, se, q * r * sizeof *se);
            memcpy(f->se_beta_sw, se + q * r, q * p1 * sizeof *se);
        }
        /* a loading the triangular condition fixes has no error */
        for (size_t k = 0; k < r; k++)
            for (size_t c = k + 1; c < r; c++)
                if (o->identify == LS_FACTOR_TRIANGULAR) f->se_gamma[perm[k] * r + c] = f->se_gamma_sw[perm[k] * r + c] = 0;
    }
    f->loglik_nodif = f->lr_dif = f->lr_p = NAN;
    if (lr) {
        /* the model without DIF: the covariates move the factor means only;
         * from the full fit's slopes and intercepts and its min-L1 means (a
         * start near the restricted optimum: faster than from the GVEM start) */
        double lr0[LSF_MAX_P * LSF_MAX_R], *y = ls_malloc(q * sizeof *y);
        if (!y) rc = ls_nomem(err);
        for (size_t s = 0; s < p && !rc; s++) {
            double obj, as[LSF_MAX_R];
            for (size_t u = 0; u < q; u++) y[u] = m.dif[u * p + s];
            rc = ls_lad(m.a, y, q, r, as, &obj, err);
            for (size_t k = 0; k < r; k++) lr0[s * r + k] = as[k];
        }
        ls_free(y);
        if (!rc) rc = lsg_set_covariates(&m, Xs, p, LSG_X_LREG, err);
        if (!rc) {
            memcpy(m.lreg, lr0, p * r * sizeof *lr0);
            m.mml_stage = "factor: MML without DIF";
            m.mml_warm = 1;
            rc = lsg_mml(&m, nodes, MML_GTOL, MML_MAX_ITER, pf, o->progress_ctx, &ll0, &it0, &conv0, err);
        }
        if (rc) goto done;
        f->loglik_nodif = ll0;
        f->lr_df = q * p - r * p;
        f->lr_dif = fmax(0.0, 2 * (f->loglik - ll0));
        f->lr_p = f->lr_df && conv0 ? gsl_cdf_chisq_Q(f->lr_dif, (double)f->lr_df) : NAN;
    }
    /* a person with no responses has no factor score to speak of */
    for (size_t i = 0; i < n; i++) {
        if (ls_resp_person_count(&d->R, i)) continue;
        f->n_empty++;
        for (size_t c = 0; c < r; c++) {
            f->U[i * r + c] = NAN;
            if (f->se_U) f->se_U[i * r + c] = NAN;
        }
    }
    f->anchor_gram_min = NAN;
    if (lsf_unusable_se(f)) rc = ls_nomem(err);
done:
    lsg_free(&m);
    ls_resp_free(&Rm);
    ls_free(pat);
    ls_free(P);
    ls_free(ncat);
    ls_free(perm);
    ls_free(Xs);
    ls_free(xm);
    ls_free(xs);
    ls_free(a0);
    ls_free(b0);
    ls_free(x);
    ls_free(H);
    ls_free(S);
    ls_free(V);
    ls_free(VS);
    ls_free(se);
    if (rc) lsf_fit_free(f);
    return rc;
}
