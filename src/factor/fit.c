/*
 * fit.c -- the generalized latent factor model's fit: options and their
 * checks, the multi-start joint-maximum-likelihood fit, identification,
 * standard errors and the loadings' bootstrap (results.c wraps it, with the
 * DIF tests and the choice of the number of factors, into results).
 *
 * Pipeline (docs/FACTOR.md):
 *   starts -> alternating sweeps (models/factor) -> best start ->
 *   covariate condition (min-L1 or orthogonal) -> orthogonal reference
 *   (U'U/n = I, Gamma'Gamma/q diagonal) -> per-item and per-person sandwich
 *   variances there -> the chosen condition as U' = U G, Gamma' = Gamma G^-T,
 *   with the anchors' estimation error carried by the delta method.
 */
#include "factor/fit.h"
#include "kernel/linalg.h"
#include "kernel/rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

void ls_factor_options_init(ls_factor_options *o)
{
    memset(o, 0, sizeof *o);
    o->factors = 1;
    o->family = LS_FACTOR_BERNOULLI;
    o->identify = LS_FACTOR_ORTHOGONAL;
    o->covariate_condition = LS_FACTOR_COV_L1;
    o->starts = 3;
    o->seed = 1;
    o->bound = 0.0;
    o->tol = 1e-7;
    o->max_iter = 500;
    o->loading_bootstrap = -1;
    o->method = LS_FACTOR_JML;
}

const char *ls_factor_method_name(int method)
{
    switch (method) {
    case LS_FACTOR_JML: return "jml";
    case LS_FACTOR_MML: return "mml";
    case LS_FACTOR_AUTO: return "auto";
    default: return "unknown";
    }
}

const char *ls_factor_family_name(int family)
{
    switch (family) {
    case LS_FACTOR_BERNOULLI: return "bernoulli";
    case LS_FACTOR_POISSON: return "poisson";
    case LS_FACTOR_GAUSSIAN: return "gaussian";
    case LS_FACTOR_PROBIT: return "probit";
    default: return "unknown";
    }
}

const char *ls_factor_identify_name(int identify)
{
    switch (identify) {
    case LS_FACTOR_ORTHOGONAL: return "orthogonal";
    case LS_FACTOR_TRIANGULAR: return "triangular";
    case LS_FACTOR_ANCHOR: return "anchor";
    case LS_FACTOR_ANCHOR_IDENTITY: return "anchor-identity";
    case LS_FACTOR_EQUAL_DIAGONAL: return "equal-diagonal";
    default: return "unknown";
    }
}

int ls_factor_options_check(const ls_factor_options *o, ls_error *err)
{
    if (!o) return ls_fail(err, LS_ERR_OPTION, "options: none given");
    if (o->factors < 1 || o->factors > LSF_MAX_R)
        return ls_fail(err, LS_ERR_OPTION, "factors: expected 1 to %d, got %zu", LSF_MAX_R, o->factors);
    if (o->family < 0 || o->family > LS_FACTOR_PROBIT)
        return ls_fail(err, LS_ERR_OPTION, "family: unknown (%d)", o->family);
    if (o->identify < 0 || o->identify > LS_FACTOR_EQUAL_DIAGONAL)
        return ls_fail(err, LS_ERR_OPTION, "identify: unknown (%d)", o->identify);
    if (o->covariate_condition < 0 || o->covariate_condition > LS_FACTOR_COV_ORTHOGONAL)
        return ls_fail(err, LS_ERR_OPTION, "covariate_condition: unknown (%d)", o->covariate_condition);
    if (o->starts < 1 || o->starts > 1000)
        return ls_fail(err, LS_ERR_OPTION, "starts: expected 1 to 1000, got %u", o->starts);
    if (!(o->bound >= 0) || !isfinite(o->bound))
        return ls_fail(err, LS_ERR_OPTION, "bound: expected a positive number (0: automatic)");
    if (!(o->tol > 0) || !isfinite(o->tol))
        return ls_fail(err, LS_ERR_OPTION, "tol: expected a positive number");
    if (!(o->ridge >= 0 || o->ridge == -1) || !isfinite(o->ridge))
        return ls_fail(err, LS_ERR_OPTION, "ridge: expected a number >= 0, or -1 (auto: chosen by cross-validation)");
    if (o->max_iter < 1) return ls_fail(err, LS_ERR_OPTION, "max_iter: expected at least 1");
    if (o->loading_bootstrap < -1 || o->loading_bootstrap > 100000)
        return ls_fail(err, LS_ERR_OPTION, "loading_bootstrap: expected 0 to 100000 replicates");
    if (o->method < LS_FACTOR_JML || o->method > LS_FACTOR_AUTO)
        return ls_fail(err, LS_ERR_OPTION, "method: unknown (%d); expected jml, mml or auto", o->method);
    if (o->nodes != 0 && (o->nodes < 3 || o->nodes > 61))
        return ls_fail(err, LS_ERR_OPTION, "nodes: expected 3 to 61 Gauss-Hermite nodes per factor, got %u", o->nodes);
    if (o->nodes != 0 && o->factors > LSF_MML_PRODUCT_R && o->factors <= LSF_MML_MAX_R && o->method != LS_FACTOR_JML &&
        (o->nodes % 2 == 0 || o->nodes > 2 * LS_SPARSE_MAX_LEVEL + 1))
        return ls_fail(err, LS_ERR_OPTION,
                       "nodes: with more than %d factors marginal ML integrates on a sparse grid whose largest rule has "
                       "3, 5, ..., %d nodes, got %u",
                       LSF_MML_PRODUCT_R, 2 * LS_SPARSE_MAX_LEVEL + 1, o->nodes);
    if (o->equal_loadings && o->method == LS_FACTOR_JML)
        return ls_fail(err, LS_ERR_OPTION, "equal_loadings: a constraint of marginal ML; use method mml");
    if (o->equal_loadings && o->factors != 1)
        return ls_fail(err, LS_ERR_OPTION, "equal_loadings: needs 1 factor, got %zu", o->factors);
    if (o->method == LS_FACTOR_MML || o->equal_loadings) {
        const char *why = lsf_mml_unsupported(o);
        if (why) return ls_fail(err, LS_ERR_OPTION, "method mml: %s", why);
    }
    return LS_OK;
}

const char *lsf_mml_unsupported(const ls_factor_options *o)
{
    if (o->family != LS_FACTOR_BERNOULLI && o->family != LS_FACTOR_PROBIT)
        return "only the bernoulli (logit) and probit families are fitted by marginal ML; use method jml";
    if (o->factors > LSF_MML_MAX_R)
        return "at most 6 factors (Gauss-Hermite quadrature, a sparse grid above 3); use method jml";
    if (o->identify != LS_FACTOR_ORTHOGONAL && o->identify != LS_FACTOR_TRIANGULAR)
        return "identify must be orthogonal or triangular (the factors are N(0, I) given the covariates)";
    if (o->ridge != 0) return "ridge is a joint-ML penalty; marginal ML needs none";
    if (o->loading_bootstrap > 0) return "loading_bootstrap is a joint-ML bias correction; marginal ML needs none";
    return NULL;
}

/* Why response y does not fit the family (NULL when it does). */
static const char *bad_response(int family, double y)
{
    if (!isfinite(y)) return "expected a finite number";
    if ((family == LS_FACTOR_BERNOULLI || family == LS_FACTOR_PROBIT) && y != 0.0 && y != 1.0)
        return "expected 0 or 1 for a binary response (dichotomise the items)";
    if (family == LS_FACTOR_POISSON && (y < 0 || y != floor(y) || y > 1e9))
        return "expected a count (a non-negative integer)";
    return NULL;
}

int lsf_check_data(const ls_factor_data *d, const ls_factor_options *o, ls_error *err)
{
    if (!d || !d->R.rp || d->n == 0 || d->q == 0) return ls_fail(err, LS_ERR_INPUT, "no responses");
    if (o->factors >= d->q)
        return ls_fail(err, LS_ERR_OPTION,
                       "factors: %zu factor%s more than %zu items (items > factors: each person's factor scores "
                       "are estimated from them), found %zu",
                       o->factors, o->factors == 1 ? " needs" : "s need", o->factors, d->q);
    /* each item's r + p + 1 coefficients (loadings, intercept, covariate
     * effects) are estimated from its persons, each person's r scores
     * from the items */
    if (d->n <= o->factors + d->p + 1)
        return ls_fail(err, LS_ERR_OPTION,
                       "factors: %zu factor%s and %zu covariate%s need more than %zu persons (persons > factors + "
                       "covariates + 1: each item's coefficients are estimated from them), found %zu",
                       o->factors, o->factors == 1 ? "" : "s", d->p, d->p == 1 ? "" : "s", o->factors + d->p + 1,
                       d->n);
    if (d->p > LSF_MAX_P)
        return ls_fail(err, LS_ERR_OPTION, "covariates: at most %d, got %zu", LSF_MAX_P, d->p);
    if (d->p && !d->X) return ls_fail(err, LS_ERR_INPUT, "covariates: no values");
    if (o->anchors)
        for (size_t k = 0; k < o->factors; k++) {
            if (o->anchors[k] >= d->q)
                return ls_fail(err, LS_ERR_OPTION, "anchors: item index %zu out of range", o->anchors[k]);
            for (size_t l = 0; l < k; l++)
                if (o->anchors[l] == o->anchors[k])
                    return ls_fail(err, LS_ERR_OPTION, "anchors: item '%s' named twice",
                                   d->items ? d->items[o->anchors[k]] : "?");
        }
    /* data from arrays (ls_factor_data_new) were not checked against a family */
    for (size_t i = 0; i < d->n; i++)
        for (size_t k = d->R.rp[i]; k < d->R.rp[i + 1]; k++) {
            double y = d->R.rv[k];
            const char *bad = bad_response(o->family, y);
            if (bad)
                return ls_fail(err, LS_ERR_INPUT, "responses: person %zu, item %zu: %s, found %g", i + 1,
                               (size_t)d->R.ri[k] + 1, bad, y);
        }
    /* constant items: no information on the factors, and the intercept of a
     * binary or count item runs to the bound */
    char names[512];
    size_t nconst = 0, len = 0;
    double value = 0;
    for (size_t j = 0; j < d->q; j++) {
        double y0 = NAN;
        int varies = 0;
        for (size_t k = d->R.cp[j]; k < d->R.cp[j + 1] && !varies; k++) {
            double y = d->R.cv[k];
            if (isnan(y0)) y0 = y;
            else if (y != y0) varies = 1;
        }
        if (varies || isnan(y0)) continue;
        if (!nconst) value = y0;
        if (nconst < 6 && len < sizeof names)
            len += d->items ? (size_t)snprintf(names + len, sizeof names - len, "%s'%.60s'", nconst ? ", " : "",
                                               d->items[j])
                            : (size_t)snprintf(names + len, sizeof names - len, "%s%zu", nconst ? ", " : "", j + 1);
        else if (nconst == 6 && len < sizeof names)
            len += (size_t)snprintf(names + len, sizeof names - len, ", ...");
        nconst++;
    }
    const char *where = d->source ? d->source : "responses";
    const char *col = d->items ? "column" : "item";
    if (nconst == 1)
        return ls_fail(err, LS_ERR_INPUT,
                       "%s: %s %s: every observed response is %g; a constant item carries no information: drop it "
                       "from `items`",
                       where, col, names, value);
    if (nconst)
        return ls_fail(err, LS_ERR_INPUT,
                       "%s: %zu %ss have one observed response each (%s); constant items carry no information: drop "
                       "them from `items`",
                       where, nconst, col, names);
    return LS_OK;
}

void lsf_fit_free(lsf_fit *f)
{
    if (!f) return;
    ls_strv_free(f->items, f->q);
    ls_strv_free(f->covariates, f->p);
    ls_strv_free(f->terms, f->p + 1);
    ls_free(f->source);
    ls_free(f->anchors);
    ls_free(f->U);
    ls_free(f->gamma);
    ls_free(f->beta);
    ls_free(f->dispersion);
    ls_free(f->factor_cov);
    ls_free(f->factor_cor);
    ls_free(f->A);
    ls_free(f->se_U);
    ls_free(f->se_gamma);
    ls_free(f->se_beta);
    ls_free(f->se_gamma_naive);
    ls_free(f->start_loglik);
    ls_free(f->gamma_ml);
    ls_free(f->se_gamma_analytic);
    ls_free(f->se_bad);
    ls_free(f->se_gamma_sw);
    ls_free(f->se_beta_sw);
    memset(f, 0, sizeof *f);
}

/* Auto's threshold: marginal ML up to this many items.  Joint ML's
 * consistency needs many items (2508.05866); at 50 its incidental-parameter
 * bias is already small, and beyond it quadrature costs grow with n q. */
#define LSF_AUTO_MML_ITEMS 50

int lsf_choose_method(const ls_factor_data *d, const ls_factor_options *o, const char **reason)
{
    *reason = NULL;
    if (o->method != LS_FACTOR_AUTO) return o->method;
    if (o->equal_loadings) {
        *reason = "marginal ML: equal loadings (a Rasch-type model) are a constraint of marginal ML";
        return LS_FACTOR_MML;
    }
    if (lsf_mml_unsupported(o)) {
        *reason = "joint ML: marginal ML does not take these options (it needs the bernoulli or probit family, at "
                  "most 6 factors, the orthogonal or triangular condition, no ridge)";
        return LS_FACTOR_JML;
    }
    if (d->q <= LSF_AUTO_MML_ITEMS) {
        *reason = "marginal ML: a short test (at most 50 items), where joint ML's scores are too noisy to be "
                  "treated as known";
        return LS_FACTOR_MML;
    }
    *reason = "joint ML: a long test (more than 50 items), where joint ML is consistent and much faster";
    return LS_FACTOR_JML;
}

/* ---------------------------------------------------------------- */
/* Sweeps and starts                                                 */
/* ---------------------------------------------------------------- */

/*
 * Alternating sweeps are block coordinate ascent and creep along the ridges
 * that couple items and persons (the slow linear rate of JML).  After each
 * sweep the step from the previous iterate is extrapolated,
 * theta + a (theta - theta_prev), and kept when the likelihood improves; a
 * doubles on success and resets to 1 on failure (a simple over-relaxation
 * that leaves every fixed point unchanged).
 */
static int run_sweeps(lsf_model *m, const ls_factor_options *o, double *ll_out, unsigned *iters,
                      int *converged, ls_error *err);

int lsf_fit_start(lsf_model *m, const ls_factor_options *o, unsigned start, double *ll_out,
                  unsigned *iters, int *converged, ls_error *err)
{
    int rc = lsf_start(m, o->seed + 7919u * start, start == 0 ? 0.0 : 0.5 + 0.25 * start, err);
    if (rc) return rc;
    return run_sweeps(m, o, ll_out, iters, converged, err);
}

/* The sweeps from the current parameters of m (a start, or a warm start). */
static int run_sweeps(lsf_model *m, const ls_factor_options *o, double *ll_out, unsigned *iters,
                      int *converged, ls_error *err)
{
    int rc = LS_OK;
    const size_t nu = m->n * m->r, nt = m->q * m->d;
    double *pU = ls_malloc(nu * sizeof *pU), *pT = ls_malloc(nt * sizeof *pT);
    double *cU = ls_malloc(nu * sizeof *cU), *cT = ls_malloc(nt * sizeof *cT);
    if (!pU || !pT || !cU || !cT) {
        rc = ls_nomem(err);
        goto done;
    }
    double prev = -INFINITY, ll = -INFINITY, a = 1.0;
    *converged = 0;
    unsigned it;
    int have_prev = 0;
    for (it = 1; it <= o->max_iter; it++) {
        if (have_prev) {
            memcpy(pU, m->U, nu * sizeof *pU);
            memcpy(pT, m->T, nt * sizeof *pT);
        }
        ll = lsf_sweep(m);
        if (!isfinite(ll)) {
            rc = ls_fail(err, LS_ERR_NUMERIC, "the log-likelihood is not finite");
            goto done;
        }
        if (have_prev) {
            memcpy(cU, m->U, nu * sizeof *cU);
            memcpy(cT, m->T, nt * sizeof *cT);
            double b = m->bound;
            for (size_t k = 0; k < nu; k++) {
                double v = cU[k] + a * (cU[k] - pU[k]);
                m->U[k] = v > b ? b : (v < -b ? -b : v);
            }
            for (size_t k = 0; k < nt; k++) {
                double v = cT[k] + a * (cT[k] - pT[k]);
                m->T[k] = v > b ? b : (v < -b ? -b : v);
            }
            double lle = lsf_loglik(m);
            if (isfinite(lle) && lle > ll) {
                if (m->ridge == 0) { /* the normalisation moves the value a little */
                    lsf_normalise(m);
                    lsf_clip(m);
                    ll = lsf_loglik(m);
                } else
                    ll = lle;
                a = a * 2 > 16 ? 16 : a * 2;
            } else {
                memcpy(m->U, cU, nu * sizeof *cU);
                memcpy(m->T, cT, nt * sizeof *cT);
                a = 1.0;
            }
        }
        have_prev = 1;
        if (o->progress && o->progress(o->progress_ctx, "factor sweeps", (double)it, (double)o->max_iter)) {
            rc = ls_fail(err, LS_ERR_CANCEL, "interrupted");
            goto done;
        }
        if (isfinite(prev) && fabs(ll - prev) <= o->tol * fabs(ll)) {
            *converged = 1;
            break;
        }
        prev = ll;
    }
    *iters = it > o->max_iter ? o->max_iter : it;
    *ll_out = lsf_loglik(m);
done:
    ls_free(pU);
    ls_free(pT);
    ls_free(cU);
    ls_free(cT);
    return rc;
}

/* ---------------------------------------------------------------- */
/* Identification: the chosen condition from the orthogonal reference  */
/* ---------------------------------------------------------------- */

/* G for the condition, as a function of the anchors' reference loadings B
 * (r x r, row k = anchor k) and lam (diag Gamma'Gamma/q in the reference). */
static int target_G(int identify, const double *B, const double *lam, size_t r, double *G)
{
    memset(G, 0, r * r * sizeof *G);
    switch (identify) {
    case LS_FACTOR_EQUAL_DIAGONAL:
        for (size_t k = 0; k < r; k++) G[k * r + k] = pow(fmax(lam[k], 1e-300), 0.25);
        return 0;
    case LS_FACTOR_ANCHOR_IDENTITY:
        for (size_t a = 0; a < r; a++)
            for (size_t k = 0; k < r; k++) G[a * r + k] = B[k * r + a];
        return 0;
    case LS_FACTOR_ANCHOR:
        for (size_t k = 0; k < r; k++) {
            double nk = 0;
            for (size_t a = 0; a < r; a++) nk += B[k * r + a] * B[k * r + a];
            nk = sqrt(nk);
            if (!(nk > 0)) return 1;
            for (size_t a = 0; a < r; a++) G[a * r + k] = B[k * r + a] / nk;
        }
        return 0;
    case LS_FACTOR_TRIANGULAR: {
        /* Gram-Schmidt on the anchor rows: G's columns q_k orthonormal,
         * b_m . q_k = 0 for m < k, b_k . q_k > 0. */
        for (size_t k = 0; k < r; k++) {
            double v[LSF_MAX_R];
            for (size_t a = 0; a < r; a++) v[a] = B[k * r + a];
            for (int pass = 0; pass < 2; pass++)
                for (size_t c = 0; c < k; c++) {
                    double dot = 0;
                    for (size_t a = 0; a < r; a++) dot += v[a] * G[a * r + c];
                    for (size_t a = 0; a < r; a++) v[a] -= dot * G[a * r + c];
                }
            double nv = 0;
            for (size_t a = 0; a < r; a++) nv += v[a] * v[a];
            nv = sqrt(nv);
            if (!(nv > 1e-12)) return 1;
            for (size_t a = 0; a < r; a++) G[a * r + k] = v[a] / nv;
        }
        return 0;
    }
    default:
        for (size_t k = 0; k < r; k++) G[k * r + k] = 1.0;
        return 0;
    }
}

/* out (r x r) = A V A^T accumulated: out += A V A^T. */
static void add_sandwich(double *out, const double *A, const double *V, size_t r)
{
    double T[LSF_MAX_R * LSF_MAX_R];
    for (size_t a = 0; a < r; a++)
        for (size_t b = 0; b < r; b++) {
            double s = 0;
            for (size_t c = 0; c < r; c++) s += A[a * r + c] * V[c * r + b];
            T[a * r + b] = s;
        }
    for (size_t a = 0; a < r; a++)
        for (size_t b = 0; b < r; b++) {
            double s = 0;
            for (size_t c = 0; c < r; c++) s += T[a * r + c] * A[b * r + c];
            out[a * r + b] += s;
        }
}

/* V = H^-1 S H^-1 (k x k); NaN when H is singular. */
static void sandwich(const double *H, const double *S, size_t k, double *V)
{
    double L[LSF_MAX_D * LSF_MAX_D], Hi[LSF_MAX_D * LSF_MAX_D], T[LSF_MAX_D * LSF_MAX_D];
    memcpy(L, H, k * k * sizeof *L);
    if (ls_chol(L, k)) {
        for (size_t a = 0; a < k * k; a++) V[a] = NAN;
        return;
    }
    ls_chol_inverse(L, k, Hi);
    for (size_t a = 0; a < k; a++)
        for (size_t b = 0; b < k; b++) {
            double s = 0;
            for (size_t c = 0; c < k; c++) s += Hi[a * k + c] * S[c * k + b];
            T[a * k + b] = s;
        }
    for (size_t a = 0; a < k; a++)
        for (size_t b = 0; b < k; b++) {
            double s = 0;
            for (size_t c = 0; c < k; c++) s += T[a * k + c] * Hi[c * k + b];
            V[a * k + b] = s;
        }
}

static int nthreads(unsigned t)
{
#ifdef _OPENMP
    return t ? (int)t : omp_get_max_threads();
#else
    (void)t;
    return 1;
#endif
}

/*
 * From the reference (m holds it) to the chosen condition, with standard
 * errors.  With Ginv = G(B)^-1:
 *   gamma'_j = Ginv gamma_j,   U'_i = G^T U_i,
 *   Var(gamma'_j) = Ginv V_j Ginv^T + sum_k J_jk V_ak J_jk^T      (derived)
 * where V_j is item j's sandwich in the reference and J_jk the derivative of
 * gamma'_j in the k-th anchor's loadings (central differences of G); an
 * anchor item's own loadings enter only through the sum.  Items are
 * independent to first order, so the anchors' terms add.
 */
static int identify_and_se(lsf_model *m, const ls_factor_options *o, const size_t *anchors,
                           lsf_fit *f, double *GtG, ls_error *err)
{
    const size_t r = m->r, q = m->q, n = m->n, d = m->d, p1 = m->p1;
    double B[LSF_MAX_R * LSF_MAX_R], lam[LSF_MAX_R] = {0}, G[LSF_MAX_R * LSF_MAX_R],
           Gi[LSF_MAX_R * LSF_MAX_R];
    for (size_t k = 0; k < r; k++) memcpy(B + k * r, m->T + anchors[k] * d, r * sizeof *B);
    for (size_t j = 0; j < q; j++)
        for (size_t k = 0; k < r; k++) lam[k] += m->T[j * d + k] * m->T[j * d + k] / (double)q;
    if (target_G(o->identify, B, lam, r, G) || ls_lu_inverse(G, r, Gi))
        return ls_fail(err, LS_ERR_NUMERIC,
                       "identification: the anchor items' loadings are singular (choose other anchors)");
    /* anchors whose loading vectors nearly point the same way: the
     * condition divides by their differences, and the other loadings come
     * out huge; measured by the smallest eigenvalue of the Gram matrix of
     * the anchors' unit loading vectors (1: orthogonal, 0: collinear) */
    f->anchor_gram_min = NAN;
    if (r > 1 && (o->identify == LS_FACTOR_ANCHOR || o->identify == LS_FACTOR_ANCHOR_IDENTITY ||
                  o->identify == LS_FACTOR_TRIANGULAR)) {
        double U[LSF_MAX_R * LSF_MAX_R], Gm[LSF_MAX_R * LSF_MAX_R], ev[LSF_MAX_R], V[LSF_MAX_R * LSF_MAX_R];
        int ok = 1;
        for (size_t k = 0; k < r; k++) {
            double nk = 0;
            for (size_t a = 0; a < r; a++) nk += B[k * r + a] * B[k * r + a];
            nk = sqrt(nk);
            ok = ok && nk > 0;
            for (size_t a = 0; a < r; a++) U[k * r + a] = nk > 0 ? B[k * r + a] / nk : 0;
        }
        for (size_t k = 0; k < r; k++)
            for (size_t l = 0; l < r; l++) {
                double g = 0;
                for (size_t a = 0; a < r; a++) g += U[k * r + a] * U[l * r + a];
                Gm[k * r + l] = g;
            }
        if (ok && ls_eigen_symm(Gm, r, ev, V) == 0) {
            double mn = ev[0];
            for (size_t k = 1; k < r; k++) mn = fmin(mn, ev[k]);
            f->anchor_gram_min = mn;
        }
    }
    if (GtG)
        for (size_t a = 0; a < r; a++)
            for (size_t b = 0; b < r; b++) {
                double s = 0;
                for (size_t c = 0; c < r; c++) s += G[c * r + a] * G[c * r + b];
                GtG[a * r + b] = s;
            }
    int need_delta = o->identify == LS_FACTOR_ANCHOR || o->identify == LS_FACTOR_ANCHOR_IDENTITY ||
                     o->identify == LS_FACTOR_TRIANGULAR;
    int rc = LS_OK;
    double *Vitem = NULL, *dGi = NULL, *dGT = NULL;
    if (!o->skip_se) {
        Vitem = ls_malloc(q * d * d * sizeof *Vitem);
        dGi = ls_calloc(r * r * r * r, sizeof *dGi); /* [k][l] -> r x r */
        dGT = ls_calloc(r * r * r * r, sizeof *dGT);
        f->se_U = ls_malloc(n * r * sizeof *f->se_U);
        f->se_gamma = ls_malloc(q * r * sizeof *f->se_gamma);
        f->se_gamma_naive = ls_malloc(q * r * sizeof *f->se_gamma_naive);
        f->se_beta = ls_malloc(q * p1 * sizeof *f->se_beta);
        if (!Vitem || !dGi || !dGT || !f->se_U || !f->se_gamma || !f->se_gamma_naive || !f->se_beta) {
            rc = ls_nomem(err);
            goto done;
        }
        int nt = nthreads(o->threads);
        (void)nt;
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
        for (long j = 0; j < (long)q; j++) {
            double H[LSF_MAX_D * LSF_MAX_D], S[LSF_MAX_D * LSF_MAX_D];
            lsf_item_eval(m, (size_t)j, m->T + (size_t)j * d, NULL, H, S);
            sandwich(H, S, d, Vitem + (size_t)j * d * d);
        }
        if (need_delta) {
            for (size_t k = 0; k < r; k++)
                for (size_t l = 0; l < r; l++) {
                    double Bp[LSF_MAX_R * LSF_MAX_R], Gp[LSF_MAX_R * LSF_MAX_R],
                        Gm[LSF_MAX_R * LSF_MAX_R], Gpi[LSF_MAX_R * LSF_MAX_R],
                        Gmi[LSF_MAX_R * LSF_MAX_R];
                    double h = 1e-6 * fmax(1.0, fabs(B[k * r + l]));
                    memcpy(Bp, B, r * r * sizeof *Bp);
                    Bp[k * r + l] += h;
                    int bad = target_G(o->identify, Bp, lam, r, Gp) || ls_lu_inverse(Gp, r, Gpi);
                    Bp[k * r + l] -= 2 * h;
                    bad = bad || target_G(o->identify, Bp, lam, r, Gm) || ls_lu_inverse(Gm, r, Gmi);
                    if (bad) {
                        rc = ls_fail(err, LS_ERR_NUMERIC, "identification: singular anchor loadings");
                        goto done;
                    }
                    double *di = dGi + (k * r + l) * r * r, *dt = dGT + (k * r + l) * r * r;
                    for (size_t a = 0; a < r; a++)
                        for (size_t b = 0; b < r; b++) {
                            di[a * r + b] = (Gpi[a * r + b] - Gmi[a * r + b]) / (2 * h);
                            dt[a * r + b] = (Gp[b * r + a] - Gm[b * r + a]) / (2 * h);
                        }
                }
        }
        /* loadings and covariate effects */
        for (size_t j = 0; j < q; j++) {
            const double *V = Vitem + j * d * d;
            double Vg[LSF_MAX_R * LSF_MAX_R], tot[LSF_MAX_R * LSF_MAX_R] = {0};
            long own = -1;
            for (size_t k = 0; k < r; k++)
                if (anchors[k] == j) own = (long)k;
            for (size_t a = 0; a < r; a++)
                for (size_t b = 0; b < r; b++) Vg[a * r + b] = V[a * d + b];
            double naive[LSF_MAX_R * LSF_MAX_R] = {0};
            add_sandwich(naive, Gi, Vg, r);
            if (!need_delta) memcpy(tot, naive, r * r * sizeof *tot);
            else {
                if (own < 0) add_sandwich(tot, Gi, Vg, r);
                for (size_t k = 0; k < r; k++) {
                    double J[LSF_MAX_R * LSF_MAX_R], Va[LSF_MAX_R * LSF_MAX_R];
                    const double *Vk = Vitem + anchors[k] * d * d;
                    for (size_t a = 0; a < r; a++)
                        for (size_t b = 0; b < r; b++) Va[a * r + b] = Vk[a * d + b];
                    for (size_t l = 0; l < r; l++) {
                        const double *di = dGi + (k * r + l) * r * r;
                        for (size_t a = 0; a < r; a++) {
                            double s = 0;
                            for (size_t c = 0; c < r; c++) s += di[a * r + c] * m->T[j * d + c];
                            if ((long)k == own) s += Gi[a * r + l];
                            J[a * r + l] = s;
                        }
                    }
                    add_sandwich(tot, J, Va, r);
                }
            }
            for (size_t a = 0; a < r; a++) {
                f->se_gamma[j * r + a] = sqrt(fmax(tot[a * r + a], 0.0));
                f->se_gamma_naive[j * r + a] = sqrt(fmax(naive[a * r + a], 0.0));
            }
            /* fixed entries under the anchor conditions carry no error */
            if (own >= 0 && (o->identify == LS_FACTOR_ANCHOR_IDENTITY || o->identify == LS_FACTOR_ANCHOR ||
                             o->identify == LS_FACTOR_TRIANGULAR))
                for (size_t a = 0; a < r; a++) {
                    int fixed = o->identify == LS_FACTOR_ANCHOR_IDENTITY ||
                                (o->identify == LS_FACTOR_ANCHOR && a != (size_t)own) ||
                                (o->identify == LS_FACTOR_TRIANGULAR && a > (size_t)own);
                    if (fixed) f->se_gamma[j * r + a] = f->se_gamma_naive[j * r + a] = 0;
                }
            for (size_t s = 0; s < p1; s++) f->se_beta[j * p1 + s] = sqrt(fmax(V[(r + s) * d + r + s], 0.0));
        }
        /* factor scores */
#pragma omp parallel for schedule(dynamic, 256) num_threads(nt)
        for (long il = 0; il < (long)n; il++) {
            size_t i = (size_t)il;
            double H[LSF_MAX_R * LSF_MAX_R], S[LSF_MAX_R * LSF_MAX_R], V[LSF_MAX_R * LSF_MAX_R],
                GT[LSF_MAX_R * LSF_MAX_R], tot[LSF_MAX_R * LSF_MAX_R] = {0};
            const double *u = m->U + i * r;
            lsf_person_eval(m, i, u, NULL, H, S);
            sandwich(H, S, r, V);
            for (size_t a = 0; a < r; a++)
                for (size_t b = 0; b < r; b++) GT[a * r + b] = G[b * r + a];
            add_sandwich(tot, GT, V, r);
            if (need_delta)
                for (size_t k = 0; k < r; k++) {
                    double J[LSF_MAX_R * LSF_MAX_R], Va[LSF_MAX_R * LSF_MAX_R];
                    const double *Vk = Vitem + anchors[k] * d * d;
                    for (size_t a = 0; a < r; a++)
                        for (size_t b = 0; b < r; b++) Va[a * r + b] = Vk[a * d + b];
                    for (size_t l = 0; l < r; l++) {
                        const double *dt = dGT + (k * r + l) * r * r;
                        for (size_t a = 0; a < r; a++) {
                            double s = 0;
                            for (size_t c = 0; c < r; c++) s += dt[a * r + c] * u[c];
                            J[a * r + l] = s;
                        }
                    }
                    add_sandwich(tot, J, Va, r);
                }
            for (size_t a = 0; a < r; a++) f->se_U[i * r + a] = sqrt(fmax(tot[a * r + a], 0.0));
        }
    }
    /* apply U' = U G, Gamma' = Gamma G^-T to the estimates */
    for (size_t i = 0; i < n; i++)
        for (size_t b = 0; b < r; b++) {
            double s = 0;
            for (size_t a = 0; a < r; a++) s += m->U[i * r + a] * G[a * r + b];
            f->U[i * r + b] = s;
        }
    for (size_t j = 0; j < q; j++) {
        for (size_t b = 0; b < r; b++) {
            double s = 0;
            for (size_t a = 0; a < r; a++) s += Gi[b * r + a] * m->T[j * d + a];
            f->gamma[j * r + b] = s;
        }
        memcpy(f->beta + j * p1, m->T + j * d + r, p1 * sizeof *f->beta);
    }
    /* exact zeros and ones where the condition fixes them */
    if (o->identify == LS_FACTOR_ANCHOR_IDENTITY || o->identify == LS_FACTOR_ANCHOR ||
        o->identify == LS_FACTOR_TRIANGULAR)
        for (size_t k = 0; k < r; k++)
            for (size_t a = 0; a < r; a++) {
                double *g = f->gamma + anchors[k] * r + a;
                if (o->identify == LS_FACTOR_ANCHOR_IDENTITY) *g = a == k ? 1.0 : 0.0;
                else if ((o->identify == LS_FACTOR_ANCHOR && a != k) ||
                         (o->identify == LS_FACTOR_TRIANGULAR && a > k))
                    *g = 0.0;
            }
done:
    ls_free(Vitem);
    ls_free(dGi);
    ls_free(dGT);
    return rc;
}

/* ---------------------------------------------------------------- */
/* The fit                                                           */
/* ---------------------------------------------------------------- */

/*
 * Finite-q correction of the factor scale (derived).  The estimated scores
 * are U_i + e_i with Var(e_i) ~ V_i = H_i^-1 S_i H_i^-1, so U'U/n of the
 * estimates exceeds the true moment by about Vbar = mean_i V_i, an O(1/q)
 * incidental-parameter bias that conditions fixing the factor variance
 * (anchor, triangular, orthogonal) pass on to every loading.  With U'U/n = I
 * on entry, the de-noised moment is M = I - Vbar; U <- U M^-1/2 and
 * Gamma <- Gamma M^1/2 make it the identity.  Skipped (returns 0) when M is
 * far from I (smallest eigenvalue below 0.5: too few items for the
 * correction to be trusted).
 */
static int denoise_scale(lsf_model *m, unsigned threads, int *applied)
{
    const size_t n = m->n, r = m->r;
    *applied = 0;
    double *Vi = ls_malloc(n * r * r * sizeof *Vi);
    if (!Vi) return LS_ERR_NOMEM;
    int nt = nthreads(threads);
    (void)nt;
#pragma omp parallel for schedule(dynamic, 256) num_threads(nt)
    for (long il = 0; il < (long)n; il++) {
        double H[LSF_MAX_R * LSF_MAX_R], S[LSF_MAX_R * LSF_MAX_R];
        lsf_person_eval(m, (size_t)il, m->U + (size_t)il * r, NULL, H, S);
        sandwich(H, S, r, Vi + (size_t)il * r * r);
    }
    double M[LSF_MAX_R * LSF_MAX_R] = {0}, G[LSF_MAX_R * LSF_MAX_R], Gi[LSF_MAX_R * LSF_MAX_R],
           E[LSF_MAX_R * LSF_MAX_R], V[LSF_MAX_R * LSF_MAX_R], ev[LSF_MAX_R];
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        int ok = 1;
        for (size_t a = 0; a < r * r; a++) ok &= isfinite(Vi[i * r * r + a]);
        if (!ok) continue;
        for (size_t a = 0; a < r * r; a++) M[a] += Vi[i * r * r + a];
        used++;
    }
    ls_free(Vi);
    if (!used) return LS_OK;
    for (size_t a = 0; a < r * r; a++) M[a] = -M[a] / (double)n;
    for (size_t a = 0; a < r; a++) M[a * r + a] += 1.0;
    memcpy(E, M, r * r * sizeof *E);
    if (ls_eigen_symm(E, r, ev, V) || !(ev[0] >= 0.5)) return LS_OK;
    if (ls_symm_power(M, r, -0.5, G) || ls_symm_power(M, r, 0.5, Gi)) return LS_OK;
    lsf_transform(m, G, Gi);
    *applied = 1;
    return LS_OK;
}

/* Map parameters (U n x r, gamma q x r, beta q x (p+1), in place) to the
 * fit's identification: covariate condition, reference, condition (see
 * factor_tasks.h).  Used to put the truth of a simulation in the frame of
 * the estimates. */
int lsf_identify_params(const ls_factor_data *dt, size_t r, const ls_factor_options *o, double *U, double *gamma,
                        double *beta, ls_error *err)
{
    lsf_model m;
    const size_t n = dt->n, q = dt->q, p = dt->p;
    int rc = lsf_model_init(&m, &dt->R, dt->X, n, q, p, r, o->family, 1e300, 1, err);
    if (rc) return rc;
    const size_t d = m.d, p1 = p + 1;
    memcpy(m.U, U, n * r * sizeof *U);
    for (size_t j = 0; j < q; j++) {
        memcpy(m.T + j * d, gamma + j * r, r * sizeof *gamma);
        memcpy(m.T + j * d + r, beta + j * p1, p1 * sizeof *beta);
    }
    lsf_fit f;
    memset(&f, 0, sizeof f);
    ls_factor_options oo = *o;
    oo.skip_se = 1;
    size_t an[LSF_MAX_R];
    for (size_t k = 0; k < r; k++) an[k] = o->anchors ? o->anchors[k] : k;
    f.U = U;
    f.gamma = gamma;
    f.beta = beta;
    rc = lsf_covariate_condition(&m, o->covariate_condition, NULL, err);
    if (!rc) rc = lsf_rotate_reference(&m) ? ls_nomem(err) : LS_OK;
    if (!rc) rc = identify_and_se(&m, &oo, an, &f, NULL, err);
    lsf_model_free(&m);
    return rc;
}

/* After the sweeps: covariate condition, normalisation, scale correction,
 * reference rotation, the chosen condition (with standard errors unless
 * o->skip_se).  A (p x r) and GtG (r x r) may be NULL. */
static int identify_fit(lsf_model *m, const ls_factor_options *o, const size_t *anchors,
                        lsf_fit *f, double *A, double *GtG, ls_error *err)
{
    int rc = lsf_covariate_condition(m, o->covariate_condition, A, err);
    if (!rc) rc = lsf_normalise(m) ? ls_nomem(err) : LS_OK;
    if (!rc && o->ridge == 0 && !o->no_scale_correction)
        rc = denoise_scale(m, o->threads, &f->scale_corrected) ? ls_nomem(err) : LS_OK;
    if (!rc) rc = lsf_rotate_pc(m) ? ls_nomem(err) : LS_OK;
    if (!rc) rc = identify_and_se(m, o, anchors, f, GtG, err);
    return rc;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Quantile (linear interpolation, type 7) of n sorted values. */
static double quantile_sorted(const double *v, size_t n, double pr)
{
    double h = (double)(n - 1) * pr;
    size_t k = (size_t)floor(h);
    if (k + 1 >= n) return v[n - 1];
    return v[k] + (h - (double)k) * (v[k + 1] - v[k]);
}

/*
 * The bootstrap world's factor scores (derived).  In the reference after the
 * scale correction, U'U/n = S while the de-noised moment is I, so the
 * scores' noise has moment N = S - I.  The noise is independent of the
 * covariates, so only the scores' part not explained by (1, x), R with
 * moment S_R, is de-noised: R <- R S_R^-1/2 (S_R - N)^1/2, whose moment is
 * S_R - N.  Scores drawn from the truth would have that spread; the raw
 * estimates are wider by the noise, and a bootstrap world built on them has
 * more extreme probabilities, hence larger standard errors and a larger bias
 * than the data's.  Left unchanged when S_R - N is not clearly positive
 * definite (smallest eigenvalue below half of S_R's) or N is not positive
 * semi-definite.  U (n x r) is changed in place.
 */
static void denoised_scores(const lsf_model *m, double *U)
{
    const size_t n = m->n, r = m->r, p1 = m->p1;
    double S[LSF_MAX_R * LSF_MAX_R] = {0}, N[LSF_MAX_R * LSF_MAX_R], E[LSF_MAX_R * LSF_MAX_R],
           V[LSF_MAX_R * LSF_MAX_R], ev[LSF_MAX_R], ev2[LSF_MAX_R];
    for (size_t i = 0; i < n; i++)
        for (size_t a = 0; a < r; a++)
            for (size_t b = 0; b < r; b++) S[a * r + b] += U[i * r + a] * U[i * r + b] / (double)n;
    for (size_t a = 0; a < r * r; a++) N[a] = S[a] - (a % (r + 1) == 0 ? 1.0 : 0.0);
    memcpy(E, N, sizeof E);
    if (ls_eigen_symm(E, r, ev, V) || ev[0] < -1e-9) return; /* ascending or not: check all */
    for (size_t a = 0; a < r; a++)
        if (ev[a] < -1e-9) return;
    /* regression of U on X1 = (1, x): C = (X1'X1)^-1 X1'U */
    double XX[LSF_MAX_D * LSF_MAX_D] = {0}, XU[LSF_MAX_D * LSF_MAX_R] = {0}, col[LSF_MAX_D];
    for (size_t i = 0; i < n; i++) {
        const double *x = m->X1 + i * p1;
        for (size_t a = 0; a < p1; a++) {
            for (size_t b = 0; b < p1; b++) XX[a * p1 + b] += x[a] * x[b];
            for (size_t b = 0; b < r; b++) XU[a * r + b] += x[a] * U[i * r + b];
        }
    }
    if (ls_chol(XX, p1)) return;
    for (size_t b = 0; b < r; b++) {
        for (size_t a = 0; a < p1; a++) col[a] = XU[a * r + b];
        ls_chol_solve(XX, p1, col);
        for (size_t a = 0; a < p1; a++) XU[a * r + b] = col[a]; /* now C */
    }
    double SR[LSF_MAX_R * LSF_MAX_R] = {0}, D[LSF_MAX_R * LSF_MAX_R], Pm[LSF_MAX_R * LSF_MAX_R],
           Pp[LSF_MAX_R * LSF_MAX_R], T[LSF_MAX_R * LSF_MAX_R];
    for (size_t i = 0; i < n; i++) {
        double res[LSF_MAX_R];
        for (size_t b = 0; b < r; b++) {
            double f = 0;
            for (size_t a = 0; a < p1; a++) f += m->X1[i * p1 + a] * XU[a * r + b];
            res[b] = U[i * r + b] - f;
        }
        for (size_t a = 0; a < r; a++)
            for (size_t b = 0; b < r; b++) SR[a * r + b] += res[a] * res[b] / (double)n;
    }
    for (size_t a = 0; a < r * r; a++) D[a] = SR[a] - N[a];
    memcpy(E, D, sizeof E);
    if (ls_eigen_symm(E, r, ev2, V)) return;
    memcpy(E, SR, sizeof E);
    if (ls_eigen_symm(E, r, ev, V)) return;
    double mn2 = ev2[0], mn = ev[0];
    for (size_t a = 1; a < r; a++) {
        mn2 = fmin(mn2, ev2[a]);
        mn = fmin(mn, ev[a]);
    }
    if (!(mn2 > 0.5 * mn)) return;
    if (ls_symm_power(SR, r, -0.5, Pm) || ls_symm_power(D, r, 0.5, Pp)) return;
    for (size_t a = 0; a < r; a++)
        for (size_t b = 0; b < r; b++) {
            double t = 0;
            for (size_t c = 0; c < r; c++) t += Pm[a * r + c] * Pp[c * r + b];
            T[a * r + b] = t;
        }
    for (size_t i = 0; i < n; i++) {
        double fit[LSF_MAX_R], res[LSF_MAX_R];
        for (size_t b = 0; b < r; b++) {
            double f = 0;
            for (size_t a = 0; a < p1; a++) f += m->X1[i * p1 + a] * XU[a * r + b];
            fit[b] = f;
            res[b] = U[i * r + b] - f;
        }
        for (size_t b = 0; b < r; b++) {
            double t = 0;
            for (size_t a = 0; a < r; a++) t += res[a] * T[a * r + b];
            U[i * r + b] = fit[b] + t;
        }
    }
}

/*
 * Parametric bootstrap of the identified loadings (docs/FACTOR.md,
 * "Loadings: bias and standard errors").  The fitted model (U0, T0, s20: the
 * joint ML estimates in any parametrisation) is the truth of a bootstrap
 * world: its loadings in the fit's identification are `truth` (as for a
 * simulation, lsf_identify_params).  Each replicate draws responses from it
 * (the observed cells only), refits from the truth (warm start), and
 * identifies the refit exactly as the fit; bias = mean - truth and sd (the
 * replicates' standard deviation) estimate the joint ML loadings' O(1/q)
 * incidental-parameter bias and their sampling SD, including what the
 * per-item sandwiches miss (the coupling through the estimated scores, the
 * nonlinearity of the anchors' transformation).  Deterministic (seeded by
 * o->seed), whatever the number of threads.
 */
static int loading_bootstrap(const ls_factor_data *d, const ls_factor_options *o,
                             const size_t *anchors, double bound, const double *U0,
                             const double *T0, const double *s20, unsigned B, double *bias,
                             double *sd, double *truth_out, unsigned *used, ls_error *err)
{
    const size_t n = d->n, q = d->q, p = d->p, r = o->factors, p1 = p + 1, dd = r + p1;
    *used = 0;
    ls_resp Rs;
    memset(&Rs, 0, sizeof Rs);
    double *truth = ls_malloc(q * r * sizeof *truth),
           *Ut = ls_malloc(n * r * sizeof *Ut), *bt = ls_malloc(q * p1 * sizeof *bt),
           *vals = ls_malloc((size_t)B * q * r * sizeof *vals), *col = ls_malloc((size_t)B * sizeof *col);
    lsf_fit fb;
    memset(&fb, 0, sizeof fb);
    fb.U = ls_malloc(n * r * sizeof *fb.U);
    fb.gamma = ls_malloc(q * r * sizeof *fb.gamma);
    fb.beta = ls_malloc(q * p1 * sizeof *fb.beta);
    lsf_model mb;
    memset(&mb, 0, sizeof mb);
    int rc = LS_OK, have_model = 0;
    if (!truth || !Ut || !bt || !vals || !col || !fb.U || !fb.gamma || !fb.beta) {
        rc = ls_nomem(err);
        goto done;
    }
    if ((rc = ls_resp_copy(&d->R, &Rs, err))) goto done;
    memcpy(Ut, U0, n * r * sizeof *Ut);
    for (size_t j = 0; j < q; j++) {
        memcpy(truth + j * r, T0 + j * dd, r * sizeof *truth);
        memcpy(bt + j * p1, T0 + j * dd + r, p1 * sizeof *bt);
    }
    rc = lsf_identify_params(d, r, o, Ut, truth, bt, err);
    if (rc) goto done;
    rc = lsf_model_init(&mb, &Rs, d->X, n, q, p, r, o->family, bound, o->threads, err);
    if (rc) goto done;
    have_model = 1;
    ls_factor_options ob = *o;
    ob.skip_se = 1;
    ob.ridge = 0;
    for (unsigned b = 0; b < B; b++) {
        ls_rng g = {(o->seed + 1) * 0x9E3779B97F4A7C15ULL + 0x51ED27ULL * (b + 1)};
        for (size_t i = 0; i < n; i++)
            for (size_t k = Rs.rp[i]; k < Rs.rp[i + 1]; k++) {
                const size_t j = Rs.ri[k];
                const double *t = T0 + j * dd;
                double w = t[r];
                for (size_t a = 0; a < r; a++) w += t[a] * U0[i * r + a];
                for (size_t s = 0; s < p; s++) w += t[r + 1 + s] * d->X[i * p + s];
                Rs.rv[k] = lsf_sim_draw(o->family, w, s20[j], &g);
            }
        ls_resp_sync_items(&Rs);
        memcpy(mb.U, U0, n * r * sizeof *mb.U);
        memcpy(mb.T, T0, q * dd * sizeof *mb.T);
        memcpy(mb.s2, s20, q * sizeof *mb.s2);
        double ll;
        unsigned it;
        int conv;
        ls_error e2;
        int rb = run_sweeps(&mb, &ob, &ll, &it, &conv, &e2);
        if (!rb) rb = identify_fit(&mb, &ob, anchors, &fb, NULL, NULL, &e2);
        if (rb == LS_ERR_NOMEM) {
            rc = ls_nomem(err);
            goto done;
        }
        if (rb) continue; /* a failed replicate (e.g. singular anchors) is left out */
        for (size_t c = 0; c < q * r; c++) vals[(size_t)*used * q * r + c] = fb.gamma[c] - truth[c];
        (*used)++;
    }
    if (*used >= 4) {
        /* the median, and the SD of the values winsorised at their 10 % and
         * 90 % quantiles (divided by 0.82381, its value for the normal): a
         * replicate in which joint ML degenerates (a few persons separate,
         * loadings run to the bound) must not move the correction or
         * inflate the SD, and the SD keeps most of the efficiency of the
         * plain one (the interquartile range would need about three times
         * the replicates for the same precision) */
        const size_t u = *used;
        for (size_t c = 0; c < q * r; c++) {
            for (size_t b = 0; b < u; b++) col[b] = vals[b * q * r + c];
            qsort(col, u, sizeof *col, cmp_double);
            bias[c] = quantile_sorted(col, u, 0.5);
            double lo = quantile_sorted(col, u, 0.1), hi = quantile_sorted(col, u, 0.9), s1 = 0, s2 = 0;
            for (size_t b = 0; b < u; b++) {
                double x = col[b] < lo ? lo : (col[b] > hi ? hi : col[b]);
                s1 += x;
                s2 += x * x;
            }
            double mw = s1 / (double)u;
            sd[c] = sqrt(fmax(s2 / (double)u - mw * mw, 0.0) * (double)u / (double)(u - 1)) / 0.8238;
        }
        memcpy(truth_out, truth, q * r * sizeof *truth_out);
    }
done:
    if (have_model) lsf_model_free(&mb);
    ls_resp_free(&Rs);
    ls_free(truth);
    ls_free(Ut);
    ls_free(bt);
    ls_free(vals);
    ls_free(col);
    ls_free(fb.U);
    ls_free(fb.gamma);
    ls_free(fb.beta);
    return rc;
}

/* Is loading (j, a) fixed by the identification condition (its standard
 * error 0 by construction)? */
static int loading_fixed(const lsf_fit *f, size_t j, size_t a)
{
    for (size_t k = 0; k < f->r; k++)
        if (f->anchors[k] == j)
            return f->identify == LS_FACTOR_ANCHOR_IDENTITY || (f->identify == LS_FACTOR_ANCHOR && a != k) ||
                   (f->identify == LS_FACTOR_TRIANGULAR && a > k);
    return 0;
}

/* A standard error no one can use: not finite, zero for an estimated
 * coefficient, or beyond LSF_SE_ABSURD times the coefficients' bound. */
static int se_unusable(double se, double bound)
{
    return !(se > 0) || !(se <= LSF_SE_ABSURD * lsf_se_bound(bound));
}

int lsf_unusable_se(lsf_fit *f)
{
    if (!f->se_gamma || !f->se_beta) return 0;
    const size_t q = f->q, r = f->r, p1 = f->p + 1;
    f->se_bad = ls_calloc(q * (r + p1), sizeof *f->se_bad);
    if (!f->se_bad) return 1;
    for (size_t j = 0; j < q; j++) {
        for (size_t a = 0; a < r; a++) {
            size_t c = j * r + a;
            if (loading_fixed(f, j, a)) continue;
            if (se_unusable(f->se_gamma[c], f->bound)) {
                f->se_gamma[c] = NAN;
                if (f->se_gamma_naive) f->se_gamma_naive[c] = NAN;
                if (f->se_gamma_analytic) f->se_gamma_analytic[c] = NAN;
                f->se_bad[f->nse_bad++] = c;
            }
        }
        for (size_t s = 0; s < p1; s++) {
            size_t c = j * p1 + s;
            /* an effect the min-L1 condition sets to 0 has no error */
            if (s > 0 && f->beta && f->se_beta[c] == 0 && f->covariate_condition == LS_FACTOR_COV_L1 &&
                fabs(f->beta[c]) < 1e-9)
                continue;
            if (se_unusable(f->se_beta[c], f->bound)) {
                f->se_beta[c] = NAN;
                f->se_bad[f->nse_bad++] = q * r + c;
            }
        }
    }
    for (size_t c = 0; f->se_U && c < f->n * r; c++)
        if (!(f->U && isnan(f->U[c])) && se_unusable(f->se_U[c], f->bound)) { /* NaN: a person with no responses */
            f->se_U[c] = NAN;
            f->nse_bad_scores++;
        }
    return 0;
}

int lsf_run(const ls_factor_data *d, const ls_factor_options *o, lsf_fit *out, ls_error *err)
{
    memset(out, 0, sizeof *out);
    out->anchor_gram_min = NAN; /* set by the anchor conditions */
    int rc = ls_factor_options_check(o, err);
    if (!rc) rc = lsf_check_data(d, o, err);
    if (rc) return rc;
    ls_gsl_quiet();
    const char *reason = NULL;
    int method = lsf_choose_method(d, o, &reason);
    if (method == LS_FACTOR_MML) return lsf_mml_run(d, o, reason, out, err);
    double bound = o->bound > 0 ? o->bound
                                : o->ridge != 0 ? 50.0 : (o->family == LS_FACTOR_PROBIT ? 3.0 : 5.0);
    /* ridge -1: chosen by cross-validation (ridge.c), then the fit at it */
    lsf_ridge_cv cv;
    memset(&cv, 0, sizeof cv);
    ls_factor_options oc;
    if (o->ridge < 0) {
        rc = lsf_ridge_cv_run(d, o, bound, &cv, err);
        if (rc) return rc;
        oc = *o;
        oc.ridge = cv.grid[cv.best];
        o = &oc;
    }
    const size_t n = d->n, q = d->q, p = d->p, r = o->factors, p1 = p + 1, dd = r + p1;
    lsf_model m;
    rc = lsf_model_init(&m, &d->R, d->X, n, q, p, r, o->family, bound, o->threads, err);
    if (rc) return rc;
    m.ridge = o->ridge;
    double *bestU = ls_malloc(n * r * sizeof *bestU), *bestT = ls_malloc(q * dd * sizeof *bestT),
           *bestS = ls_malloc(q * sizeof *bestS);
    lsf_fit *f = out;
    f->n = n;
    f->q = q;
    f->p = p;
    f->r = r;
    f->family = o->family;
    f->method = LS_FACTOR_JML;
    f->method_reason = reason;
    f->aic = f->bic = f->lr_dif = f->lr_p = f->loglik_nodif = NAN;
    f->identify = o->identify;
    f->covariate_condition = o->covariate_condition;
    f->seed = o->seed;
    f->tol = o->tol;
    f->bound = bound;
    f->ridge = o->ridge;
    f->ridge_cv = cv;
    f->starts = o->starts;
    f->anchors = ls_malloc(r * sizeof *f->anchors);
    f->U = ls_malloc(n * r * sizeof *f->U);
    f->gamma = ls_malloc(q * r * sizeof *f->gamma);
    f->beta = ls_malloc(q * p1 * sizeof *f->beta);
    f->dispersion = ls_malloc(q * sizeof *f->dispersion);
    f->factor_cov = ls_malloc(r * r * sizeof *f->factor_cov);
    f->factor_cor = ls_malloc(r * r * sizeof *f->factor_cor);
    f->A = ls_calloc(p ? p * r : 1, sizeof *f->A);
    f->start_loglik = ls_malloc(o->starts * sizeof *f->start_loglik);
    if (!bestU || !bestT || !bestS || !f->anchors || !f->U || !f->gamma || !f->beta ||
        !f->dispersion || !f->factor_cov || !f->factor_cor || !f->A || !f->start_loglik) {
        rc = ls_nomem(err);
        goto done;
    }
    for (size_t k = 0; k < r; k++) f->anchors[k] = o->anchors ? o->anchors[k] : k;
    double best = -INFINITY;
    for (unsigned s = 0; s < o->starts; s++) {
        double ll;
        unsigned it;
        int conv;
        rc = lsf_fit_start(&m, o, s, &ll, &it, &conv, err);
        if (rc) goto done;
        f->start_loglik[s] = ll;
        if (ll > best) {
            best = ll;
            memcpy(bestU, m.U, n * r * sizeof *bestU);
            memcpy(bestT, m.T, q * dd * sizeof *bestT);
            memcpy(bestS, m.s2, q * sizeof *bestS);
            f->iterations = it;
            f->converged = conv;
        }
    }
    for (unsigned s = 0; s < o->starts; s++)
        f->starts_at_best += fabs(f->start_loglik[s] - best) <= 1e-4 * fabs(best) + 1e-6;
    memcpy(m.U, bestU, n * r * sizeof *bestU);
    memcpy(m.T, bestT, q * dd * sizeof *bestT);
    memcpy(m.s2, bestS, q * sizeof *bestS);
    f->at_bound = lsf_at_bound(&m);
    m.ridge = 0; /* the log-likelihood and the sandwiches are the unpenalised ones */
    double GtG[LSF_MAX_R * LSF_MAX_R];
    rc = identify_fit(&m, o, f->anchors, f, f->A, GtG, err);
    if (rc) goto done;
    f->loglik = lsf_loglik(&m);
    int B = o->loading_bootstrap;
    if (B < 0)
        B = (o->identify == LS_FACTOR_ANCHOR || o->identify == LS_FACTOR_ANCHOR_IDENTITY ||
             o->identify == LS_FACTOR_TRIANGULAR)
                ? 50
                : 0;
    /* a bias correction around a fit that did not converge corrects
     * nothing: skip it, and say so */
    if (B > 0 && !o->skip_se && o->ridge == 0 && !f->converged) {
        f->bootstrap_skipped = (unsigned)B;
        B = 0;
    }
    if (B > 0 && !o->skip_se && o->ridge == 0) {
        double *bias = ls_calloc(q * r, sizeof *bias), *sd = ls_calloc(q * r, sizeof *sd),
               *tb = ls_calloc(q * r, sizeof *tb);
        f->gamma_ml = ls_malloc(q * r * sizeof *f->gamma_ml);
        f->se_gamma_analytic = ls_malloc(q * r * sizeof *f->se_gamma_analytic);
        unsigned used = 0;
        if (!bias || !sd || !tb || !f->gamma_ml || !f->se_gamma_analytic) rc = ls_nomem(err);
        else
        {
            /* the bootstrap world: the fit in its reference (after the scale
             * correction and the rotation), scores de-noised */
            memcpy(bestU, m.U, n * r * sizeof *bestU);
            memcpy(bestT, m.T, q * dd * sizeof *bestT);
            memcpy(bestS, m.s2, q * sizeof *bestS);
            if (f->scale_corrected) denoised_scores(&m, bestU);
            rc = loading_bootstrap(d, o, f->anchors, bound, bestU, bestT, bestS, (unsigned)B, bias, sd, tb,
                                   &used, err);
        }
        if (!rc && used >= 10 && used * 2 >= (unsigned)B) {
            memcpy(f->gamma_ml, f->gamma, q * r * sizeof *f->gamma);
            memcpy(f->se_gamma_analytic, f->se_gamma, q * r * sizeof *f->se_gamma);
            for (size_t c = 0; c < q * r; c++) {
                if (f->se_gamma[c] == 0) continue; /* fixed by the condition */
                size_t j = c / r, a = c % r;
                int positive = (o->identify == LS_FACTOR_ANCHOR || o->identify == LS_FACTOR_TRIANGULAR) &&
                               f->anchors[a] == j;
                /* the anchors' diagonal, positive by the condition, is
                 * corrected by the ratio truth / mean (the same to first
                 * order, and positive) */
                if (positive && tb[c] > 0 && tb[c] + bias[c] > 0)
                    f->gamma[c] *= tb[c] / (tb[c] + bias[c]);
                else
                    f->gamma[c] -= bias[c];
                f->se_gamma[c] = sd[c];
            }
            f->loading_bootstrap = used;
        } else {
            ls_free(f->gamma_ml);
            ls_free(f->se_gamma_analytic);
            f->gamma_ml = f->se_gamma_analytic = NULL;
        }
        ls_free(bias);
        ls_free(sd);
        ls_free(tb);
        if (rc) goto done;
    }
    for (size_t j = 0; j < q; j++) f->dispersion[j] = m.s2[j];
    /* factor moments in the chosen parametrisation: the reference moment is
     * I (U'U/n, or its de-noised version), so the moment is G^T G, computed
     * here from the scores and, when corrected, shrunk by the same factor */
    memset(f->factor_cov, 0, r * r * sizeof *f->factor_cov);
    for (size_t i = 0; i < n; i++)
        for (size_t a = 0; a < r; a++)
            for (size_t b = 0; b < r; b++) f->factor_cov[a * r + b] += f->U[i * r + a] * f->U[i * r + b] / (double)n;
    if (f->scale_corrected) {
        for (size_t a = 0; a < r * r; a++) f->factor_cov[a] = GtG[a];
    }
    for (size_t a = 0; a < r; a++)
        for (size_t b = 0; b < r; b++)
            f->factor_cor[a * r + b] = f->factor_cov[a * r + b] /
                                       sqrt(f->factor_cov[a * r + a] * f->factor_cov[b * r + b]);
    f->nobs = d->R.nnz;
    f->nparams = n * r + q * (r + p1) - r * r - r - p * r + (o->family == LS_FACTOR_GAUSSIAN ? q : 0);
    f->jic = -2 * f->loglik + (double)r * (double)(n > q ? n : q) * log((double)(n < q ? n : q));
    /* a person with no responses has no factor score to speak of */
    for (size_t i = 0; i < n; i++) {
        if (ls_resp_person_count(&d->R, i)) continue;
        f->n_empty++;
        for (size_t a = 0; a < r; a++) {
            f->U[i * r + a] = NAN;
            if (f->se_U) f->se_U[i * r + a] = NAN;
        }
    }
    rc = lsf_unusable_se(f);
    if (rc) rc = ls_nomem(err);
done:
    ls_free(bestU);
    ls_free(bestT);
    ls_free(bestS);
    lsf_model_free(&m);
    if (rc) lsf_fit_free(out);
    return rc;
}
