/*
 * fit.c -- maximum marginal likelihood for the scaling law: a data-driven
 * start, seeded perturbed starts, L-BFGS on the adaptive-quadrature
 * likelihood, and the summary users read.
 *
 * Start 0 is deterministic: scores are mapped to the logit scale above their
 * floors, a rank-K principal-component fit with iterative imputation of the
 * missing cells gives loadings and scores, the anchor block is rotated to the
 * identity, scores are regressed on the covariates, and family means of the
 * residuals give Sigma and the skill scales.  Starts 1.. perturb it with
 * seeded Gaussian noise.  Each start is first run on a cheap rule (a small
 * adaptive product grid; the Laplace rule for K >= 8), the most promising
 * ones are polished on a middle rule, and the best is finished on the
 * accurate one (see ls_fit_run).
 */
#include "scaling/fit.h"
#include "scaling/params.h"
#include "scaling/model.h"
#include "kernel/linalg.h"
#include "kernel/special.h"
#include "kernel/newton.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void ls_fit_options_init(ls_fit_options *o)
{
    memset(o, 0, sizeof *o);
    o->skills = 4;
    o->starts = 8;
    o->seed = 1;
    o->integration = LS_INT_AUTO;
    o->gtol = 1e-2;
    o->max_iter = 3000;
}

void ls_fit_free(ls_fit *f)
{
    if (!f) return;
    ls_params_free(&f->est);
    ls_free(f->beta_std);
    ls_free(f->b_std);
    ls_free(f->theta);
    ls_free(f->alpha);
    ls_free(f->fam_ll);
    ls_free(f->start_ll);
    ls_free(f->polish_ll);
    ls_inference_free(&f->inf);
    ls_free(f->anchors);
    ls_free(f->est_ceil);
    ls_free(f->kap);
    ls_free(f);
}

static void warnf(ls_fit *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warnf(ls_fit *f, const char *fmt, ...)
{
    if (f->nwarn >= LS_MAX_WARN) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->warn[f->nwarn], sizeof f->warn[0], fmt, ap);
    va_end(ap);
    f->nwarn++;
}

/* The per-fit arrays sized by the model (f->K, J, p, F, dim set), and
 * which ceilings m estimates. */
static int fit_alloc(ls_fit *f, const ls_model *m, ls_error *err)
{
    if (!(f->kap = ls_calloc(f->J, 1))) return ls_nomem(err);
    f->nkap = m->nkap;
    for (size_t j = 0; j < f->J; j++) f->kap[j] = m->kap_of[j] >= 0;
    f->beta_std = ls_calloc(f->p * f->K + 1, sizeof(double));
    f->b_std = ls_calloc(f->J, sizeof(double));
    f->theta = ls_calloc(f->dim, sizeof(double));
    f->alpha = ls_calloc(f->F * f->K, sizeof(double));
    f->fam_ll = ls_calloc(f->F, sizeof(double));
    if (!f->beta_std || !f->b_std || !f->theta || !f->alpha || !f->fam_ll) return ls_nomem(err);
    return ls_params_alloc(&f->est, f->K, f->J, f->p, err);
}

/* Evaluate at th (modes re-found from scratch) and fill the estimates, the
 * family modes and log-likelihoods, the information criteria and gmax.
 * g: dim scratch.  *nfail: families whose mode search stopped short. */
static int finish_at(ls_fit *f, ls_model *m, const ls_data *d, const double *th, double *g,
                     size_t *nfail, ls_error *err)
{
    size_t K = f->K, dim = f->dim;
    memset(m->zmode, 0, f->F * K * sizeof(double));
    double ll;
    int rc = ls_model_loglik(m, th, &ll, g, f->fam_ll, err);
    if (rc) return rc;
    f->gmax = 0;
    for (size_t i = 0; i < dim; i++) f->gmax = fmax(f->gmax, fabs(g[i]));
    f->loglik = ll;
    memcpy(f->theta, th, dim * sizeof(double));
    ls_model_unpack(m, th, &f->est);
    memcpy(f->beta_std, f->est.beta, f->p * K * sizeof(double));
    memcpy(f->b_std, f->est.b, f->J * sizeof(double));
    ls_params_to_raw(&f->est, d->x_mean, d->x_sd);
    *nfail = 0;
    for (size_t fam = 0; fam < f->F; fam++)
        *nfail += ls_model_family_mode(m, fam, f->alpha + fam * K, NULL) != 0;
    f->nparams = dim;
    ls_info_criteria(ll, dim, f->F, &f->aic, &f->bic);
    return LS_OK;
}

static int sigma_warning(ls_fit *f, ls_error *err);

int ls_fit_at(const ls_data *d, const ls_fit_options *o, const double *theta, ls_fit **out,
              ls_error *err)
{
    *out = NULL;
    ls_model *m = NULL;
    int rc = ls_model_new_ext(d, o->skills, o->anchors, o->integration, o->nodes, o->threads, o->precision_covariates,
                              o->estimate_ceilings, &m, err);
    if (rc) return rc;
    m->eta_clamp = o->logit_clamp;
    ls_fit *f = ls_calloc(1, sizeof *f);
    double *g = ls_calloc(m->dim, sizeof(double));
    if (!f || !g) { rc = ls_nomem(err); goto done; }
    f->K = m->K; f->J = m->J; f->p = m->p; f->F = m->F; f->n = d->n; f->dim = m->dim;
    f->opt = *o;
    f->opt.progress = NULL;
    f->opt.progress_ctx = NULL;
    if (o->anchors && !(f->anchors = ls_strdup(o->anchors))) { rc = ls_nomem(err); goto done; }
    f->opt.anchors = f->anchors;
    if (o->estimate_ceilings && !(f->est_ceil = ls_strdup(o->estimate_ceilings))) { rc = ls_nomem(err); goto done; }
    f->opt.estimate_ceilings = f->est_ceil;
    snprintf(f->integration, sizeof f->integration, "%s", m->rule.kind);
    f->nodes = m->rule.n;
    snprintf(f->reason, sizeof f->reason, "%s", "loaded");
    f->ll_check = NAN; /* not computed here */
    f->ll_check_se = NAN;
    f->check_integration = ls_check_rule(&m->rule, &f->check_nodes);
    if ((rc = fit_alloc(f, m, err))) goto done;
    size_t nfail;
    if ((rc = finish_at(f, m, d, theta, g, &nfail, err))) goto done;
    f->converged = f->gmax <= o->gtol;
    rc = sigma_warning(f, err);
done:
    ls_free(g);
    ls_model_free(m);
    if (rc) ls_fit_free(f);
    else *out = f;
    return rc;
}

/* ---------------------------------------------------------------- */
/* Deterministic start                                               */
/* ---------------------------------------------------------------- */

static int initial_params(const ls_data *d, const ls_model *m, ls_params *pr, ls_error *err)
{
    size_t n = d->n, J = d->J, K = m->K, p = d->p, F = d->F;
    double *Z = ls_calloc(n * J, sizeof(double)), *C = ls_calloc(J * J, sizeof(double));
    double *V = ls_calloc(J * J, sizeof(double)), *ev = ls_calloc(J, sizeof(double));
    double *mean = ls_calloc(J, sizeof(double)), *T = ls_calloc(n * K, sizeof(double));
    double *W = ls_calloc(J * K, sizeof(double)), *af = ls_calloc(F * K, sizeof(double));
    double *resvar = ls_calloc(J, sizeof(double));
    int rc = LS_OK;
    if (!Z || !C || !V || !ev || !mean || !T || !W || !af || !resvar) { rc = ls_nomem(err); goto done; }

    /* ceilings: the data's, or for an estimated one a start halfway between
     * the benchmark's best observed score and 1 */
    for (size_t j = 0; j < J; j++) {
        double ce = d->ceil[j];
        if (m->kap_of[j] >= 0) {
            double top = d->floor[j];
            for (size_t i = 0; i < n; i++)
                if (!isnan(d->y[i * J + j]) && d->y[i * J + j] > top) top = d->y[i * J + j];
            ce = fmin(0.5 * (top + 1), 0.999);
        }
        pr->ceiling[j] = ce;
    }

    /* logit scale above the floor, missing cells filled with column means */
    for (size_t j = 0; j < J; j++) {
        double s = 0;
        size_t c = 0;
        for (size_t i = 0; i < n; i++) {
            double y = d->y[i * J + j];
            if (isnan(y)) continue;
            double q = (y - d->floor[j]) / (pr->ceiling[j] - d->floor[j]);
            q = q < 0.02 ? 0.02 : q > 0.98 ? 0.98 : q;
            Z[i * J + j] = log(q / (1 - q));
            s += Z[i * J + j];
            c++;
        }
        mean[j] = c ? s / (double)c : 0;
        for (size_t i = 0; i < n; i++)
            if (isnan(d->y[i * J + j])) Z[i * J + j] = mean[j];
    }
    /* rank-K principal components with iterative imputation */
    for (int round = 0; round < 15; round++) {
        for (size_t j = 0; j < J; j++) {
            double s = 0;
            for (size_t i = 0; i < n; i++) s += Z[i * J + j];
            mean[j] = s / (double)n;
        }
        for (size_t a = 0; a < J; a++)
            for (size_t b = 0; b < J; b++) {
                double s = 0;
                for (size_t i = 0; i < n; i++) s += (Z[i * J + a] - mean[a]) * (Z[i * J + b] - mean[b]);
                C[a * J + b] = s / (double)n;
            }
        if (ls_eigen_symm(C, J, ev, V)) { rc = ls_nomem(err); goto done; }
        for (size_t k = 0; k < K; k++) /* largest K: last columns */
            for (size_t j = 0; j < J; j++) W[j * K + k] = V[j * J + (J - 1 - k)];
        for (size_t i = 0; i < n; i++)
            for (size_t k = 0; k < K; k++) {
                double s = 0;
                for (size_t j = 0; j < J; j++) s += (Z[i * J + j] - mean[j]) * W[j * K + k];
                T[i * K + k] = s;
            }
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < J; j++) {
                if (!isnan(d->y[i * J + j])) continue;
                double s = mean[j];
                for (size_t k = 0; k < K; k++) s += T[i * K + k] * W[j * K + k];
                Z[i * J + j] = s;
            }
    }
    for (size_t j = 0; j < J; j++) { /* residual variance on observed cells */
        double s = 0;
        size_t c = 0;
        for (size_t i = 0; i < n; i++) {
            if (isnan(d->y[i * J + j])) continue;
            double e = Z[i * J + j] - mean[j];
            for (size_t k = 0; k < K; k++) e -= T[i * K + k] * W[j * K + k];
            s += e * e;
            c++;
        }
        resvar[j] = c ? s / (double)c : 1;
    }
    /* rotate so the anchor block of the loadings is the identity:
     * T' = T A^T, W' = W A^{-1}, A = W[anchors, :] */
    {
        double A[40 * 40], Ai[40 * 40], At[40 * 40];
        for (size_t k = 0; k < K; k++)
            for (size_t l = 0; l < K; l++) A[k * K + l] = W[m->anchor[k] * K + l];
        /* A^{-1} by Gauss-Jordan with partial pivoting (K <= 40) */
        for (size_t r = 0; r < K; r++)
            for (size_t c = 0; c < K; c++) { At[r * K + c] = A[r * K + c]; Ai[r * K + c] = r == c; }
        int singular = 0;
        for (size_t c = 0; c < K && !singular; c++) {
            size_t piv = c;
            for (size_t r = c + 1; r < K; r++)
                if (fabs(At[r * K + c]) > fabs(At[piv * K + c])) piv = r;
            if (fabs(At[piv * K + c]) < 1e-8) { singular = 1; break; }
            for (size_t q = 0; q < K; q++) {
                double t = At[c * K + q]; At[c * K + q] = At[piv * K + q]; At[piv * K + q] = t;
                t = Ai[c * K + q]; Ai[c * K + q] = Ai[piv * K + q]; Ai[piv * K + q] = t;
            }
            double dv = At[c * K + c];
            for (size_t q = 0; q < K; q++) { At[c * K + q] /= dv; Ai[c * K + q] /= dv; }
            for (size_t r = 0; r < K; r++) {
                if (r == c) continue;
                double fct = At[r * K + c];
                for (size_t q = 0; q < K; q++) { At[r * K + q] -= fct * At[c * K + q]; Ai[r * K + q] -= fct * Ai[c * K + q]; }
            }
        }
        if (!singular) {
            double *tmp = ls_calloc(n * K + J * K, sizeof(double));
            if (!tmp) { rc = ls_nomem(err); goto done; }
            ls_gemm(0, 1, n, K, K, T, A, tmp); /* T A^T */
            memcpy(T, tmp, n * K * sizeof(double));
            ls_gemm(0, 0, J, K, K, W, Ai, tmp); /* W A^-1 */
            memcpy(W, tmp, J * K * sizeof(double));
            ls_free(tmp);
        }
    }
    /* regress T on x (standardised, centred: no intercept needed) */
    {
        double XtX[64 * 64], XtT[64 * 40];
        if (p > 64) { rc = ls_fail(err, LS_ERR_OPTION, "at most 64 covariates"); goto done; }
        for (size_t a = 0; a < p; a++) {
            for (size_t b = 0; b < p; b++) {
                double s = 0;
                for (size_t i = 0; i < n; i++) s += d->x[i * p + a] * d->x[i * p + b];
                XtX[a * p + b] = s + (a == b ? 1e-6 * (double)n : 0);
            }
            for (size_t k = 0; k < K; k++) {
                double s = 0;
                for (size_t i = 0; i < n; i++) s += d->x[i * p + a] * T[i * K + k];
                XtT[a * K + k] = s;
            }
        }
        if (p && ls_chol(XtX, p)) { rc = ls_fail(err, LS_ERR_NUMERIC, "covariates are collinear"); goto done; }
        for (size_t k = 0; k < K; k++) {
            double col[64];
            for (size_t a = 0; a < p; a++) col[a] = XtT[a * K + k];
            if (p) ls_chol_solve(XtX, p, col);
            for (size_t a = 0; a < p; a++) pr->beta[a * K + k] = col[a];
        }
    }
    /* family means of the residuals */
    for (size_t i = 0; i < n; i++) {
        size_t f = d->family_of[i];
        for (size_t k = 0; k < K; k++) {
            double r = T[i * K + k];
            for (size_t a = 0; a < p; a++) r -= d->x[i * p + a] * pr->beta[a * K + k];
            af[f * K + k] += r / (double)d->fam_nrows[f];
        }
    }
    {
        double S[40 * 40], sd[40];
        for (size_t k = 0; k < K; k++)
            for (size_t l = 0; l < K; l++) {
                double s = 0;
                for (size_t f = 0; f < F; f++) s += af[f * K + k] * af[f * K + l];
                S[k * K + l] = s / (double)F;
            }
        for (size_t k = 0; k < K; k++) sd[k] = sqrt(fmax(S[k * K + k], 0.0025));
        for (size_t k = 0; k < K; k++)
            for (size_t l = 0; l < K; l++)
                pr->sigma[k * K + l] = k == l ? 1 : 0.8 * S[k * K + l] / (sd[k] * sd[l]);
        /* skills on unit family scale: theta / sd, lambda * sd */
        for (size_t k = 0; k < K; k++) {
            for (size_t a = 0; a < p; a++) pr->beta[a * K + k] /= sd[k];
            for (size_t j = 0; j < J; j++) pr->lambda[k * J + j] = W[j * K + k] * sd[k];
        }
        for (size_t k = 0; k < K; k++) { /* anchors: diagonal, positive */
            size_t ja = m->anchor[k];
            for (size_t l = 0; l < K; l++) pr->lambda[l * J + ja] = 0;
            pr->lambda[k * J + ja] = fmax(sd[k], 0.05);
        }
    }
    for (size_t j = 0; j < J; j++) {
        pr->b[j] = mean[j];
        double y = ls_logistic(mean[j]), c = d->floor[j], r = pr->ceiling[j] - c;
        double mu = c + r * y, dv = r * y * (1 - y);
        double var = dv * dv * resvar[j];
        double ph = var > 0 ? mu * (1 - mu) / var - 1 : 100;
        pr->phi[j] = ph < 5 ? 5 : ph > 100 ? 100 : ph;
    }
    for (size_t k = 0; k < K; k++) pr->anchors[k] = m->anchor[k];
done:
    ls_free(Z); ls_free(C); ls_free(V); ls_free(ev); ls_free(mean); ls_free(T); ls_free(W);
    ls_free(af); ls_free(resvar);
    return rc;
}

/* ---------------------------------------------------------------- */
/* Objective                                                         */
/* ---------------------------------------------------------------- */

/* Newton's refresh: re-adapt the node map at x, evaluate, then freeze it
 * for the Hessian and the trial steps that follow. */
static int objective_refresh(void *ctx, const double *x, double *f, double *g)
{
    ls_model *m = ctx;
    m->freeze = 0;
    int rc = ls_model_negll(m, x, f, g);
    m->freeze = 1;
    return rc;
}

/* The Newton callback: the exact Hessian of the frozen-node objective
 * (the negative log-likelihood) at x, where the nodes were just adapted. */
static int negll_hessian(void *ctx, const double *x, double *H)
{
    ls_model *m = ctx;
    ls_error e;
    int rc = ls_model_hessian(m, x, H, &e);
    if (rc) return rc;
    for (size_t i = 0; i < m->dim * m->dim; i++) H[i] = -H[i];
    return LS_OK;
}

/* How newton_polish treats the node map. */
enum {
    NEWTON_ADAPT,  /* re-adapt at every accepted point                        */
    NEWTON_COARSE, /* the same, stopping once a step no longer improves the
                    * re-adapted objective: the coarse rule resolves no more  */
    NEWTON_FROZEN  /* adapt at th once and hold the map: a smooth objective   */
};

/* Trust-region Newton from th to o->gtol (at most 40 steps) on the
 * frozen-node objective, with the analytic Hessian (reused for 3 steps
 * with SR1 updates); the node map as `mode` says.  known (or NULL): a
 * polished optimum; the run is abandoned once it heads there
 * (ls_newton_options.known). */
static int newton_polish(ls_model *m, double *th, const ls_fit_options *o, int mode, const double *known, double f_known,
                         double ftol, const char *stage, ls_opt_report *rep, ls_error *err)
{
    if (mode == NEWTON_FROZEN && m->rule.n == 1) mode = NEWTON_ADAPT;
    if (mode == NEWTON_FROZEN) {
        double f, *g = ls_calloc(m->dim, sizeof(double));
        if (!g) return ls_nomem(err);
        int rc = objective_refresh(m, th, &f, g); /* leaves the map frozen */
        ls_free(g);
        if (rc) {
            m->freeze = 0;
            return ls_fail(err, rc, "the likelihood could not be evaluated");
        }
    }
    /* the one-node (Laplace) rule re-adapted is smooth with an exact
     * gradient: Newton on it directly, the Hessian that of the frozen map */
    int smooth = m->rule.n == 1;
    ls_newton_options no;
    ls_newton_options_init(&no);
    no.stop_at_noise = mode == NEWTON_COARSE && !smooth;
    no.refresh = mode == NEWTON_FROZEN || smooth ? NULL : objective_refresh;
    no.hessian = negll_hessian;
    no.hessian_ctx = m;
    no.hessian_reuse = 3;
    no.gtol = o->gtol;
    no.max_iter = 40;
    no.known = known;
    no.f_known = f_known;
    no.known_tol = 0.01;
    no.ftol = ftol;
    no.progress = o->progress;
    no.progress_ctx = o->progress_ctx;
    no.stage = stage;
    if (smooth) m->freeze = 0;
    int rc = ls_newton(ls_model_negll, m, th, m->dim, &no, rep, err);
    m->freeze = 0;
    rep->frozen = mode == NEWTON_FROZEN;
    return rc;
}

/*
 * One start.  Adaptive quadrature moves its nodes with the parameters, and
 * the node placement (a Newton solve per family) makes the objective only
 * as smooth as the quadrature is accurate, which line searches notice.  So
 * each round freezes the node map (mode and curvature per family) at the
 * current point, runs L-BFGS on the resulting smooth objective, whose
 * analytic gradient is exact, and then re-adapts.  Convergence is judged on
 * the gradient with freshly adapted nodes.
 */
static int optimise_start(ls_model *m, double *th, const ls_fit_options *o, const char *stage,
                          ls_opt_report *tot, ls_error *err)
{
    ls_opt_options oo;
    ls_opt_options_init(&oo);
    oo.gtol = o->gtol;
    oo.rounds = 2;
    oo.progress = o->progress;
    oo.progress_ctx = o->progress_ctx;
    oo.stage = stage;
    memset(tot, 0, sizeof *tot);
    double *g = ls_calloc(m->dim, sizeof(double));
    if (!g) return ls_nomem(err);
    int rc = LS_OK;
    unsigned cap = 60;
    double prev = INFINITY;
    int dead = 0; /* rounds in a row whose line search failed at once */
    for (int round = 0; tot->iter < o->max_iter && dead < 2; round++) {
        double ll;
        m->freeze = 0; /* re-adapt the nodes here */
        rc = ls_model_loglik(m, th, &ll, g, NULL, err);
        if (rc) break;
        double gm = 0;
        for (size_t i = 0; i < m->dim; i++) gm = fmax(gm, fabs(g[i]));
        tot->f = -ll;
        tot->gmax = gm;
        if (gm <= o->gtol) {
            tot->converged = 1;
            snprintf(tot->reason, sizeof tot->reason, "max |gradient| <= %g", o->gtol);
            break;
        }
        /* stalled: the last round gained nothing measurable */
        if (round > 3 && prev - tot->f < 1e-7) break;
        prev = tot->f;
        m->freeze = m->rule.n > 1; /* the one-node rule is smooth re-adapted */
        unsigned left = o->max_iter - tot->iter;
        oo.max_iter = left < cap ? left : cap;
        ls_opt_report rep;
        rc = ls_minimise(ls_model_negll, m, th, m->dim, &oo, &rep, err);
        tot->iter += rep.iter;
        tot->evals += rep.evals + 1;
        snprintf(tot->reason, sizeof tot->reason, "%s", rep.reason);
        if (rc) break;
        /* no iteration accepted: the gradient does not describe the value
         * along its own direction (and each such round still gains ~1e-6,
         * above the stall test), so a third try would be the same */
        dead = rep.iter == 0 ? dead + 1 : 0;
        if (cap < 400) cap *= 2;
    }
    m->freeze = 0;
    if (!rc && !tot->converged && tot->iter >= o->max_iter)
        snprintf(tot->reason, sizeof tot->reason, "iteration limit (%u)", o->max_iter);
    ls_free(g);
    return rc;
}

/*
 * The smooth one-node (Laplace) objective at K >= 8 has directions whose
 * curvature differs by 1e6 (the loadings of near-floor benchmarks against
 * Sigma's rows near the boundary): L-BFGS crawls there (3000 iterations
 * left max |g| at 0.02-0.03), and Newton, whose Hessian holds the modes'
 * node map fixed, converges only linearly.  So L-BFGS runs in coordinates
 * that the Hessian whitens, theta = x0 + V |Lambda|^-1/2 y (eigenvalues
 * floored at max(1e-8 top, 1e-3)), re-whitened at the end point of each
 * round; convergence is judged on the gradient in theta.
 */
typedef struct {
    ls_model *m;
    const double *x0, *S; /* theta = x0 + S y, S dim x dim row-major */
    double *th, *g;       /* the last point and its gradient in theta */
    double gmax;
} pc_ctx;

static int pc_negll(void *ctx, const double *y, double *f, double *gy)
{
    pc_ctx *c = ctx;
    size_t n = c->m->dim;
    for (size_t i = 0; i < n; i++) {
        double s = c->x0[i];
        for (size_t k = 0; k < n; k++) s += c->S[i * n + k] * y[k];
        c->th[i] = s;
    }
    int rc = ls_model_negll(c->m, c->th, f, c->g);
    if (rc) return rc;
    double gm = 0;
    for (size_t i = 0; i < n; i++) gm = fmax(gm, fabs(c->g[i]));
    c->gmax = gm;
    for (size_t k = 0; k < n; k++) {
        double s = 0;
        for (size_t i = 0; i < n; i++) s += c->S[i * n + k] * c->g[i];
        gy[k] = s;
    }
    return LS_OK;
}

static double pc_measure(void *ctx) { return ((pc_ctx *)ctx)->gmax; }

static int precond_polish(ls_model *m, double *th, const ls_fit_options *o, int rounds,
                          const char *stage, ls_opt_report *tot, ls_error *err)
{
    size_t n = m->dim;
    memset(tot, 0, sizeof *tot);
    double *H = ls_calloc(n * n, sizeof(double)), *V = ls_calloc(n * n, sizeof(double));
    double *S = ls_calloc(n * n, sizeof(double)), *lam = ls_calloc(n, sizeof(double));
    double *x0 = ls_calloc(n, sizeof(double)), *y = ls_calloc(n, sizeof(double));
    double *tw = ls_calloc(n, sizeof(double)), *g = ls_calloc(n, sizeof(double));
    int rc = LS_OK;
    if (!H || !V || !S || !lam || !x0 || !y || !tw || !g) { rc = ls_nomem(err); goto done; }
    ls_opt_options oo;
    ls_opt_options_init(&oo);
    oo.gtol = o->gtol;
    oo.rounds = 2;
    oo.max_iter = 200;
    oo.progress = o->progress;
    oo.progress_ctx = o->progress_ctx;
    oo.stage = stage;
    oo.measure = pc_measure;
    m->freeze = 0;
    double prev = INFINITY;
    for (int round = 0; round <= rounds; round++) {
        double f;
        rc = ls_model_negll(m, th, &f, g);
        if (rc) { rc = ls_fail(err, rc, "the likelihood could not be evaluated"); break; }
        tot->evals++;
        double gm = 0;
        for (size_t i = 0; i < n; i++) gm = fmax(gm, fabs(g[i]));
        tot->f = f;
        tot->gmax = gm;
        if (gm <= o->gtol) {
            tot->converged = 1;
            snprintf(tot->reason, sizeof tot->reason, "max |gradient| <= %g", o->gtol);
            break;
        }
        if (round == rounds || !(prev - f > 1e-7)) break; /* the last round gained nothing */
        prev = f;
        rc = negll_hessian(m, th, H);
        if (rc) {
            rc = rc == LS_ERR_NOMEM ? ls_nomem(err) : ls_fail(err, rc, "the Hessian could not be evaluated");
            break;
        }
        if (ls_eigen_symm(H, n, lam, V)) { rc = ls_nomem(err); break; }
        double top = 0;
        for (size_t i = 0; i < n; i++) top = fmax(top, fabs(lam[i]));
        if (!isfinite(top)) { rc = ls_fail(err, LS_ERR_NUMERIC, "the Hessian is not finite"); break; }
        double fl = fmax(1e-8 * top, 1e-3);
        for (size_t k = 0; k < n; k++) {
            double sc = 1 / sqrt(fmax(fabs(lam[k]), fl));
            for (size_t i = 0; i < n; i++) S[i * n + k] = V[i * n + k] * sc;
        }
        memcpy(x0, th, n * sizeof(double));
        memset(y, 0, n * sizeof(double));
        pc_ctx c = {m, x0, S, tw, g, gm};
        ls_opt_report rep;
        rc = ls_minimise(pc_negll, &c, y, n, &oo, &rep, err);
        tot->iter += rep.iter;
        tot->evals += rep.evals;
        snprintf(tot->reason, sizeof tot->reason, "%s", rep.reason);
        if (rc) break;
        for (size_t i = 0; i < n; i++) {
            double s = x0[i];
            for (size_t k = 0; k < n; k++) s += S[i * n + k] * y[k];
            th[i] = s;
        }
    }
done:
    ls_free(H); ls_free(V); ls_free(S); ls_free(lam); ls_free(x0); ls_free(y); ls_free(tw); ls_free(g);
    return rc;
}

/* With --logit-clamp the objective has a kink wherever a cell's eta
 * crosses the clip at a node, so gtol is out of reach and Newton and L-BFGS
 * creep along the kinks (K = 4 on the paper data: 1464 iterations, 425 s,
 * ending max |g| 1.29).  There the polish stops once two Newton steps in a
 * row each gain less than this (capping the polish at 100 or 300
 * iterations instead ended within 0.02 of the 1464-iteration value). */
#define KINK_FTOL 1e-3
static double kink_ftol(const ls_model *m) { return m->eta_clamp > 0 ? KINK_FTOL : 0; }

/* Polish th to o->gtol on m: Newton re-adapting the nodes at every step.
 * When that does not converge, the rule cannot resolve gtol as its nodes
 * move (a coarse grid at high K; QMC, whose re-centring moves every node):
 * Newton on the node map frozen there (a well-defined optimum, found in a
 * few steps; the fit still reports the re-adapted gradient and is not
 * called converged), and L-BFGS rounds if even that stalls.  With the
 * clip a stalled Newton (KINK_FTOL) ends it. */
static int polish_point(ls_model *m, double *th, const ls_fit_options *o, const double *known, double f_known,
                        const char *stage, ls_opt_report *rep, ls_error *err)
{
    double ftol = kink_ftol(m);
    if (m->rule.n == 1) {
        /* the smooth one-node objective: L-BFGS on its exact gradient in
         * whitened coordinates, then Newton (whose frozen-map Hessian leaves
         * out the curvature's motion, so it converges only linearly) */
        int rc = precond_polish(m, th, o, 6, stage, rep, err);
        if (!rc && !rep->converged) {
            unsigned ni = rep->iter, ne = rep->evals;
            rc = newton_polish(m, th, o, NEWTON_ADAPT, known, f_known, ftol, stage, rep, err);
            rep->iter += ni;
            rep->evals += ne;
        }
        return rc;
    }
    int rc = newton_polish(m, th, o, NEWTON_ADAPT, known, f_known, ftol, stage, rep, err);
    if (!rc && !rep->converged && !rep->abandoned && !rep->stalled) {
        unsigned ni = rep->iter, ne = rep->evals;
        ls_opt_report fr;
        double *keep = ls_calloc(m->dim, sizeof(double));
        if (!keep) return ls_nomem(err);
        memcpy(keep, th, m->dim * sizeof(double));
        rc = newton_polish(m, th, o, NEWTON_FROZEN, NULL, 0, 0, stage, &fr, err);
        if (!rc && fr.converged) {
            *rep = fr;
            rep->iter += ni;
            rep->evals += ne;
            ls_free(keep);
            return LS_OK;
        }
        memcpy(th, keep, m->dim * sizeof(double));
        ls_free(keep);
        if (rc == LS_ERR_CANCEL || rc == LS_ERR_NOMEM) return rc;
    }
    if (!rc && !rep->converged && !rep->abandoned && !rep->stalled) {
        unsigned ni = rep->iter, ne = rep->evals;
        rc = optimise_start(m, th, o, stage, rep, err);
        rep->iter += ni;
        rep->evals += ne;
    }
    return rc;
}

/* ---------------------------------------------------------------- */
/* Multi-start fit                                                   */
/* ---------------------------------------------------------------- */

static double since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + 1e-9 * (double)(t.tv_nsec - t0->tv_nsec);
}

static void perturb(const ls_model *m, double *th, uint64_t seed, unsigned s)
{
    gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
    if (!g) return;
    gsl_rng_set(g, (unsigned long)ls_splitmix64(seed * 1000003u + s));
    double scale = 0.15 + 0.1 * (double)(s % 4);
    for (size_t i = 0; i < m->dim; i++) {
        double sd = scale;
        if ((i >= m->off_phi && i < m->off_w) || i >= m->off_g) sd = 0.3 * scale; /* log phi, gamma */
        th[i] += gsl_ran_gaussian(g, sd);
    }
    gsl_rng_free(g);
}

/* Sigma near singular: some combination of skills hardly varies across
 * families, and the likelihood rises towards the boundary of correlation
 * matrices (which the parametrisation reaches at a finite point, see
 * sigma_rows in scaling.c).  On the paper data the smallest eigenvalue is
 * 0.24 at K = 4, 1e-8 at K = 6 and 2e-13 at K = 9; at K = 8..10 three to five are
 * below 0.01.  Such a skill is a combination of the others across
 * families, and its correlations are at the edge of what they can be, where
 * normal-theory standard errors do not describe them. */
static int sigma_warning(ls_fit *f, ls_error *err)
{
    size_t K = f->K;
    if (K < 2) return LS_OK;
    double *S = ls_calloc(K * K, sizeof(double)), *V = ls_calloc(K * K, sizeof(double));
    double *ev = ls_calloc(K, sizeof(double));
    int rc = S && V && ev ? LS_OK : ls_nomem(err);
    if (!rc) {
        memcpy(S, f->est.sigma, K * K * sizeof(double));
        if (ls_eigen_symm(S, K, ev, V) == 0 && ev[0] < 0.01) {
            size_t nsmall = 0;
            while (nsmall < K && ev[nsmall] < 0.01) nsmall++;
            warnf(f, "skill correlations nearly singular (%zu of %zu eigenvalues < 0.01, smallest %.2g): the maximum is on the boundary, where standard errors of the correlations mislead; fewer skills may do",
                  nsmall, K, ev[0]);
        }
    }
    ls_free(S);
    ls_free(V);
    ls_free(ev);
    return rc;
}

/* The log-likelihood at theta on rule (integration, nodes), into fam and
 * fse (F each; fse NaN for a grid), only for the families flagged in only
 * (NULL: all); the rule's points per family in *n, and in *sampled whether
 * it samples (per-family points with standard errors). */
static int sampled_loglik(const ls_data *d, const ls_fit_options *o, unsigned threads, const double *theta,
                          int integration, unsigned nodes, const unsigned char *only, double *fam,
                          double *fse, size_t *n, int *sampled, char *method, ls_error *err)
{
    ls_model *m = NULL;
    int rc = ls_model_new_ext(d, o->skills, o->anchors, integration, nodes, threads,
                              o->precision_covariates, o->estimate_ceilings, &m, err);
    if (rc) return rc;
    m->eta_clamp = o->logit_clamp;
    /* the normal control variate */
    m->cv = 1;
    m->only = only;
    double ll;
    rc = ls_model_loglik(m, theta, &ll, NULL, NULL, err);
    for (size_t f = 0; f < m->F && !rc; f++)
        if (!only || only[f]) {
            fam[f] = m->fam_ll[f];
            fse[f] = m->rule.v ? m->fam_se[f] : NAN;
        }
    *n = m->rule.n;
    *sampled = m->rule.v != NULL;
    if (method) snprintf(method, 16, "%s", m->rule.kind);
    ls_model_free(m);
    return rc;
}

int ls_check_loglik(const ls_data *d, const ls_fit_options *o, unsigned threads, const double *theta,
                    int *integration, unsigned *nodes, double *ll, double *se, double *family_ll,
                    size_t *points, char *method, ls_error *err)
{
    size_t F = d->F, n = 0;
    int sampled = 0;
    double *fam = ls_calloc(2 * F, sizeof(double)), *fse = fam + F;
    unsigned char *only = ls_calloc(F, 1);
    if (!fam || !only) {
        ls_free(fam);
        ls_free(only);
        return ls_nomem(err);
    }
    int rc = sampled_loglik(d, o, threads, theta, *integration, *nodes, NULL, fam, fse, &n, &sampled, method, err);
    if (rc == LS_ERR_NUMERIC && *integration == LS_INT_SPARSE) {
        /* a family's signed sum was not positive: importance sampling
         * (err keeps the sparse grid's message for the caller's warning) */
        *integration = LS_INT_QMC;
        *nodes = LS_CHECK_POINTS;
        ls_error e2;
        rc = sampled_loglik(d, o, threads, theta, *integration, *nodes, NULL, fam, fse, &n, &sampled, method, &e2);
        if (rc && err) *err = e2;
    }
    size_t n0 = n;
    /* Importance sampling whose standard error is above LS_CHECK_SE: more
     * points where they pay.  With family f's variance se_f^2 n_f / n at n
     * points, the fewest points for a total variance T^2 put n proportional
     * to se_f sqrt(n_f) (Lagrange); each family gets the power-of-2 multiple
     * of the base count at or above that (never fewer points than it had,
     * at most LS_CHECK_MAX_POINTS), T^2 = 0.8 LS_CHECK_SE^2 for a margin,
     * and the families are evaluated again in one model per count.  At most
     * three rounds.  (At K = 12 on the paper data this costs 3.3 times the
     * base points, where taking the largest errors 4 times over cost 7.) */
    unsigned *nf = ls_calloc(F, sizeof(unsigned));
    if (!nf) rc = ls_nomem(err);
    for (size_t f = 0; f < F && nf; f++) nf[f] = (unsigned)n0;
    for (int round = 0; !rc && sampled && round < 3; round++) {
        double v = 0, S = 0, T2 = 0.8 * LS_CHECK_SE * LS_CHECK_SE;
        for (size_t f = 0; f < F; f++) {
            v += fse[f] * fse[f];
            S += fse[f] * sqrt((double)nf[f]);
        }
        if (v <= LS_CHECK_SE * LS_CHECK_SE) break;
        int more = 0;
        for (unsigned level = 2 * (unsigned)n0; level <= LS_CHECK_MAX_POINTS && !rc; level *= 2) {
            memset(only, 0, F);
            size_t c = 0;
            for (size_t f = 0; f < F; f++) {
                double need = fse[f] * sqrt((double)nf[f]) * S / T2; /* the optimal n */
                unsigned to = (unsigned)n0;
                while (to < need && to < LS_CHECK_MAX_POINTS) to *= 2;
                if (to == level && to > nf[f]) {
                    only[f] = 1;
                    c++;
                }
            }
            if (!c) continue;
            more = 1;
            size_t got;
            rc = sampled_loglik(d, o, threads, theta, *integration, level, only, fam, fse, &got, &sampled, NULL, err);
            for (size_t f = 0; f < F && !rc; f++)
                if (only[f]) nf[f] = (unsigned)got;
        }
        if (!more) break;
    }
    ls_free(nf);
    if (!rc) {
        double s = 0, v = 0;
        for (size_t f = 0; f < F; f++) {
            s += fam[f];
            v += fse[f] * fse[f];
        }
        *ll = s;
        if (se) *se = sampled ? sqrt(v) : NAN;
        if (family_ll) memcpy(family_ll, fam, F * sizeof(double));
        if (points) *points = n0;
    }
    ls_free(fam);
    ls_free(only);
    return rc;
}

int ls_fit_run(const ls_data *d, const ls_fit_options *o, ls_fit **out, ls_error *err)
{
    *out = NULL;
    if (o->starts < 1 || o->starts > 1000)
        return ls_fail(err, LS_ERR_OPTION, "--starts: expected 1..1000, found %u", o->starts);
    if (!(o->gtol > 0)) return ls_fail(err, LS_ERR_OPTION, "--gtol: must be positive");
    if (o->max_iter < 1) return ls_fail(err, LS_ERR_OPTION, "--max-iter: must be at least 1");
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ls_model *m = NULL, *ms = NULL, *mp = NULL;
    ls_fit *f0 = NULL;
    double *start_th = NULL;
    unsigned char *considered = NULL; /* starts already picked for polishing */
    /* heteroscedastic precision: the constant-precision fit first, as the
     * start (gamma = 0) and the null model of the likelihood-ratio test */
    if (o->precision_covariates) {
        ls_fit_options o0 = *o;
        o0.precision_covariates = 0;
        o0.skip_se = 1;
        int r0 = ls_fit_run(d, &o0, &f0, err);
        if (r0) return r0;
    }
    int rc = ls_model_new_ext(d, o->skills, o->anchors, o->integration, o->nodes, o->threads, o->precision_covariates,
                              o->estimate_ceilings, &m, err);
    if (rc) { ls_fit_free(f0); return rc; }
    if (!(o->logit_clamp >= 0) || !isfinite(o->logit_clamp)) {
        ls_model_free(m);
        ls_fit_free(f0);
        return ls_fail(err, LS_ERR_OPTION, "--logit-clamp: expected a number >= 0 (0 = off)");
    }
    m->eta_clamp = o->logit_clamp;
    /* The search stage only has to find basins: by default it uses a coarse
     * adaptive rule: 3 Gauss-Hermite nodes per dimension for K <= 2, the
     * Laplace rule for K = 3..5 (smooth, with an exact gradient: 150 L-BFGS
     * iterations a start, 0.15 s; on the paper data K = 3, 4, 5 took 3.0,
     * 3.8, 2.7 s instead of 6.6, 7.5, 5.6 s on 27, 16 and 11 nodes, ending
     * at the same optima; at K = 2 it ranked the neighbouring optima below
     * (2953.26) and at K = 6, 7 its optima lay so far from the sparse
     * grid's that the finish took 10 and 34 s), the sparse grid of level 1
     * for K = 6, 7 (13, 15 nodes against 2^K; K = 6, 7 took 14.4 and 21.2 s
     * instead of 25.3 and 53.5 s on 2 nodes per dimension).  K >= 8 runs on
     * the Laplace rule throughout (the default there, see scaling.c), as
     * does any rule the user chose. */
    if (o->integration == LS_INT_AUTO && o->skills <= 7) {
        size_t Kk = o->skills;
        int srule = Kk <= 2 ? LS_INT_GH : Kk <= 5 ? LS_INT_LAPLACE : LS_INT_SPARSE;
        rc = ls_model_new_ext(d, Kk, o->anchors, srule, srule == LS_INT_GH ? 3 : 1, o->threads,
                              o->precision_covariates, o->estimate_ceilings, &ms, err);
        if (rc) { ls_model_free(m); ls_fit_free(f0); return rc; }
        ms->eta_clamp = o->logit_clamp;
        /* The polish runs on a cheaper rule and the best point is finished
         * on the accurate one.  K = 2: the accurate grid (14^2 nodes) costs
         * 3 times the 8-node one, whose optimum is within ~1e-2 of it (on 5
         * or 6 nodes the paper data's best of four neighbouring optima,
         * 0.1-0.7 apart, was ranked below another: 2953.26 instead of
         * 2953.37).  K = 3: 6 nodes (216, against 1280 for the pruned 12^3
         * grid; 0.05 off the total, 0.002 per family), where the 8-node
         * grid's polish took 5.7 s instead of 2.6 s and ended at the same
         * optimum.  K = 4: the product grid of 4 nodes (256) before the sparse
         * grid of level 4 (681).  K = 5..7: the sparse grid of level 2 (71,
         * 97, 127 nodes) before level 3 (341, 533, 785); on the 3-node
         * product grid (2187 nodes at K = 7) the polish took 125 s. */
        if (!o->nodes && Kk >= 2) {
            int sparse = Kk >= 5;
            rc = ls_model_new_ext(d, Kk, o->anchors, sparse ? LS_INT_SPARSE : LS_INT_GH,
                                  sparse ? 2 : Kk == 4 ? 4 : Kk == 3 ? 6 : 8, o->threads,
                                  o->precision_covariates, o->estimate_ceilings, &mp, err);
            if (rc) { ls_model_free(m); ls_model_free(ms); ls_fit_free(f0); return rc; }
            mp->eta_clamp = o->logit_clamp;
        }
    }
    size_t K = m->K, J = m->J, p = m->p, F = m->F, dim = m->dim;
    ls_fit *f = ls_calloc(1, sizeof *f);
    double *th0 = ls_calloc(dim, sizeof(double)), *th = ls_calloc(dim, sizeof(double));
    double *best = ls_calloc(dim, sizeof(double));
    if (!f || !th0 || !th || !best) { rc = ls_nomem(err); goto fail; }
    f->K = K; f->J = J; f->p = p; f->F = F; f->n = d->n; f->dim = dim;
    f->opt = *o;
    if (o->anchors && !(f->anchors = ls_strdup(o->anchors))) { rc = ls_nomem(err); goto fail; }
    f->opt.anchors = f->anchors;
    if (o->estimate_ceilings && !(f->est_ceil = ls_strdup(o->estimate_ceilings))) { rc = ls_nomem(err); goto fail; }
    f->opt.estimate_ceilings = f->est_ceil;
    f->opt.progress = NULL;
    f->opt.progress_ctx = NULL;
    f->starts = o->starts;
    f->ll_check = NAN;
    f->ll_check_se = NAN;
    snprintf(f->integration, sizeof f->integration, "%s", m->rule.kind);
    f->nodes = m->rule.n;
    snprintf(f->search_integration, sizeof f->search_integration, "%s", (ms ? ms : m)->rule.kind);
    f->search_nodes = (ms ? ms : m)->rule.n;
    f->polish_nodes = (mp ? mp : m)->rule.n;
    f->start_ll = ls_calloc(o->starts, sizeof(double));
    f->polish_ll = ls_calloc(o->starts, sizeof(double));
    start_th = ls_calloc((size_t)o->starts * dim, sizeof(double));
    considered = ls_calloc(o->starts, 1);
    if (!f->start_ll || !f->polish_ll || !start_th || !considered) { rc = ls_nomem(err); goto fail; }
    rc = fit_alloc(f, m, err);
    if (rc) goto fail;
    for (unsigned s = 0; s < o->starts; s++) f->polish_ll[s] = NAN;

    rc = initial_params(d, m, &f->est, err);
    if (rc) goto fail;
    rc = ls_model_pack(m, &f->est, th0, err);
    if (rc) goto fail;
    if (f0) { /* gamma stays 0; the ceilings' kappa follow gamma */
        memcpy(th0, f0->theta, m->off_g * sizeof(double));
        memcpy(th0 + m->off_k, f0->theta + m->off_g, m->nkap * sizeof(double));
    }

    char stage[64];
    /* Stage 1: every start, on the coarse rule, 30 L-BFGS iterations to
     * leave the start's neighbourhood and then Newton until a step no longer
     * improves; this finds the basins.  (Newton does the climbing: 200
     * L-BFGS iterations on the 2-node grid cost 3 s a start at K = 4 and
     * gained less than the first 10 Newton steps.)  On the one-node rule,
     * smooth and cheap, 150 L-BFGS iterations and no Newton, whose
     * frozen-map Hessian converges only linearly there (at K = 9, 200
     * iterations took the starts to 3167.2-3168.7 instead of 3155-3166.6,
     * in the same time; on the paper data 80, 120, 150 and 200 iterations
     * ended K = 3..12 at the same optima but for the kinks of K = 8, 9,
     * see the finish, and 150 cost about 8 s less than 200 over K = 3..12). */
    /* Stage 2: the most promising distinct starts polished to gtol. */
    ls_fit_options so = *o;
    so.gtol = fmax(o->gtol, 1.0);
    int lap = (ms ? ms : m)->rule.n == 1;
    unsigned scap = lap ? 150 : 30;
    so.max_iter = o->max_iter < scap ? o->max_iter : scap;
    for (unsigned s = 0; s < o->starts; s++) {
        double *ts = start_th + (size_t)s * dim;
        memcpy(ts, th0, dim * sizeof(double));
        /* Three starts in four begin without cross-loadings: every benchmark
         * that anchors no skill starts at lambda = 0 and the data build its
         * loadings.  The principal-components start, rotated so that the
         * anchors' block is the identity, carries large loadings of opposite
         * sign when the anchors are nearly collinear, and on the paper data
         * at K = 4 seven of eight such starts ended in a basin 12.8 below
         * the best (log-likelihood 3099.5, loadings of +-6 to +-15 that
         * cancel), against eight of eight zero starts in the best one. */
        if (s % 4 != 1)
            for (size_t j = 0; j < J; j++)
                if (m->anchor_of[j] < 0)
                    for (size_t k = 0; k < K; k++) ts[m->lam_off[j] + k] = 0;
        if (s > 0) perturb(m, ts, o->seed, s);
        ls_model *mm = ms ? ms : m;
        memset(mm->zmode, 0, F * K * sizeof(double));
        snprintf(stage, sizeof stage, "K=%zu start %u/%u", K, s + 1, o->starts);
        ls_opt_report rep;
        ls_error e2;
        rc = optimise_start(mm, ts, &so, stage, &rep, &e2);
        if (!rc && !lap) { /* and to a tight tolerance on the coarse rule, by Newton */
            ls_fit_options sn = *o;
            sn.gtol = fmax(o->gtol, 0.05);
            rc = newton_polish(mm, ts, &sn, NEWTON_COARSE, NULL, 0, 0, stage, &rep, &e2);
        }
        if (rc == LS_ERR_CANCEL || rc == LS_ERR_NOMEM) {
            if (err) *err = e2;
            goto fail;
        }
        f->start_ll[s] = rc ? NAN : -rep.f; /* an infeasible start is recorded and skipped */
        rc = LS_OK;
    }
    f->t_search = since(&t0);
    double best_search = -INFINITY;
    for (unsigned s = 0; s < o->starts; s++)
        if (f->start_ll[s] > best_search) best_search = f->start_ll[s];
    if (!isfinite(best_search)) {
        rc = ls_fail(err, LS_ERR_NUMERIC, "no start gave a finite likelihood; check the data");
        goto fail;
    }
    double best_ll = -INFINITY;
    ls_opt_report best_rep;
    memset(&best_rep, 0, sizeof best_rep);
    unsigned polished = 0;
    ls_model *mpol = mp ? mp : m;
    /* K >= 5: the candidates are climbed by Newton until a step no longer
     * improves the re-adapted objective (the 3-node grid cannot resolve a
     * gradient of 1e-2 as its nodes move), or on the one-node rule (K >= 8)
     * by one round of whitened L-BFGS, and only the best one is then
     * polished to gtol on the accurate rule. */
    int coarse_pol = K >= 5;
    /* Polish the best distinct starts: all of them for K <= 2, where a polish
     * is cheap and the coarse rule ranks the paper data's neighbouring optima
     * (0.1-0.4 apart, in the loadings of near-floor benchmarks) poorly; the
     * best three above.  Distinct: the search end points differ by 0.05 or
     * more in some coordinate.  Promising: within 2 of the best search
     * value, or 10 on the one-node rule, whose 150 iterations stop short of
     * its optima (at K = 3 on the paper data the second start ended 2.65
     * below the first, and 2.0 left one candidate). */
    unsigned npol = K <= 2 ? o->starts : 3;
    for (unsigned round = 0; round < o->starts && polished < npol; round++) {
        /* next best unpolished start that is not a copy of a polished one */
        long pick = -1;
        for (unsigned s = 0; s < o->starts; s++) {
            if (!isfinite(f->start_ll[s]) || considered[s]) continue;
            if (pick < 0 || f->start_ll[s] > f->start_ll[pick]) pick = s;
        }
        if (pick < 0 || best_search - f->start_ll[pick] > (lap ? 10.0 : 2.0)) break;
        int dup = 0;
        for (unsigned s = 0; s < o->starts && !dup; s++) {
            if (isnan(f->polish_ll[s])) continue;
            const double *a = start_th + (size_t)s * dim, *b = start_th + (size_t)pick * dim;
            double dmax = 0;
            for (size_t i = 0; i < dim; i++) dmax = fmax(dmax, fabs(a[i] - b[i]));
            dup = dmax < 0.05;
        }
        considered[pick] = 1;
        if (dup) continue;
        memcpy(th, start_th + (size_t)pick * dim, dim * sizeof(double));
        memset(mpol->zmode, 0, F * K * sizeof(double));
        snprintf(stage, sizeof stage, "K=%zu polish %u", K, polished + 1);
        ls_opt_report rep;
        ls_error e2;
        /* after the first: abandoned once it heads for the best point */
        const double *known = isfinite(best_ll) ? best : NULL;
        if (mpol->rule.n == 1) rc = precond_polish(mpol, th, o, 1, stage, &rep, &e2);
        else if (coarse_pol) rc = newton_polish(mpol, th, o, NEWTON_COARSE, known, -best_ll, 0, stage, &rep, &e2);
        else rc = polish_point(mpol, th, o, known, -best_ll, stage, &rep, &e2);
        if (rc == LS_ERR_CANCEL || rc == LS_ERR_NOMEM) {
            if (err) *err = e2;
            goto fail;
        }
        polished++;
        if (rc) { rc = LS_OK; continue; }
        if (rep.abandoned) { /* the quadratic model's value at the best point */
            f->polish_ll[pick] = -rep.f_pred;
            continue;
        }
        f->polish_ll[pick] = -rep.f;
        if (-rep.f > best_ll) {
            best_ll = -rep.f;
            best_rep = rep;
            memcpy(best, th, dim * sizeof(double));
        }
    }
    if (!isfinite(best_ll)) {
        rc = ls_fail(err, LS_ERR_NUMERIC, "no start could be polished to a finite likelihood");
        goto fail;
    }
    if (mp || coarse_pol) { /* finish the best polished point on the accurate rule */
        snprintf(stage, sizeof stage, "K=%zu finish", K);
        ls_opt_report rep;
        ls_error e2;
        double ll_in = -INFINITY, ll_out = -INFINITY;
        memcpy(th, best, dim * sizeof(double));
        memset(m->zmode, 0, F * K * sizeof(double));
        m->freeze = 0;
        if (ls_model_loglik(m, th, &ll_in, NULL, NULL, &e2)) ll_in = -INFINITY;
        /* K >= 6: the rule cannot resolve gtol as its nodes move (they
         * shift by tenths), so Newton with re-adapted nodes would spend its
         * 40 steps (on the sparse grid at K = 7, 6 minutes with the L-BFGS
         * fallback) before the frozen-map fallback: go to the frozen map at
         * once.  It stops once two steps in a row gain less than 2e-3, far
         * below the rule's own error (0.2-0.25 against the check at K = 6,
         * 7): on the paper data the K = 6 finish spent 6 of its 14 steps
         * (2 s) gaining 0.003 in all. */
        if (K >= 6 && m->rule.n > 1) {
            unsigned it = 0, ev = 0;
            for (int cycle = 0; cycle < 2; cycle++) { /* re-adapted between */
                rc = newton_polish(m, th, o, NEWTON_FROZEN, NULL, 0, 2e-3, stage, &rep, &e2);
                it += rep.iter;
                ev += rep.evals;
                if (rc || rep.converged || rep.stalled) break;
            }
            rep.iter = it;
            rep.evals = ev;
        } else if (m->rule.n == 1) /* no Newton after it: on a kink it would spend 40 steps */
            rc = precond_polish(m, th, o, 6, stage, &rep, &e2);
        else
            rc = polish_point(m, th, o, NULL, 0, stage, &rep, &e2);
        if (rc == LS_ERR_CANCEL || rc == LS_ERR_NOMEM) {
            if (err) *err = e2;
            goto fail;
        }
        /* the finish must not lose: compare re-adapted values */
        m->freeze = 0;
        if (!rc && isfinite(rep.f) && !ls_model_loglik(m, th, &ll_out, NULL, NULL, &e2) &&
            !(ll_out < ll_in - 1e-9)) {
            memcpy(best, th, dim * sizeof(double));
            best_rep.iter += rep.iter;
            best_rep.evals += rep.evals;
            best_rep.frozen = rep.frozen;
            best_rep.converged = rep.converged;
            best_rep.stalled = rep.stalled;
            best_rep.gmax = rep.gmax;
            snprintf(best_rep.reason, sizeof best_rep.reason, "%s", rep.reason);
        } else if (!rc && isfinite(ll_out)) {
            warnf(f, "the polish on the accurate rule lowered the log-likelihood (%.4f to %.4f); the point before it is reported",
                  ll_in, ll_out);
        }
        rc = LS_OK;
    }
    /* agreement: polished starts that ended within 0.01 of the best; with
     * the clip within 0.05, since a polish stalled on the kinks stops short
     * by up to about 0.02 (KINK_FTOL; on the paper data's K = 4 two starts
     * stopped at 3123.486 and 3123.465 on the polish rule) */
    const double agree = m->eta_clamp > 0 ? 50 * KINK_FTOL : 0.01;
    for (unsigned s = 0; s < o->starts; s++)
        if (!isnan(f->polish_ll[s]) && best_ll - f->polish_ll[s] < agree) f->starts_at_best++;

    f->t_polish = since(&t0) - f->t_search;
    /* final evaluation at the best point, modes re-found from scratch */
    size_t nfail = 0;
    rc = finish_at(f, m, d, best, th, &nfail, err);
    if (rc) goto fail;
    f->converged = f->gmax <= o->gtol;
    /* with the clip, gtol is out of reach at the kinks: a polish on the
     * re-adapted node map that stopped because Newton stopped gaining
     * (KINK_FTOL) is converged by the change of the log-likelihood */
    if (!f->converged && m->eta_clamp > 0 && best_rep.stalled && !best_rep.frozen)
        f->converged = LS_CONVERGED_CHANGE;
    if (best_rep.frozen) {
        f->frozen = 1;
        f->gmax_frozen = best_rep.gmax;
    }
    f->check_integration = ls_check_rule(&m->rule, &f->check_nodes);
    if (f->check_integration && !o->skip_check) { /* how far off is the value here? */
        ls_error e2 = {0, ""};
        double v = NAN;
        size_t pts = 0;
        char meth[16] = "";
        int ci = f->check_integration;
        unsigned cn = f->check_nodes;
        double *fc = ls_calloc(F, sizeof(double));
        int rc2 = fc ? ls_check_loglik(d, o, o->threads, best, &ci, &cn, &v, &f->ll_check_se, fc, &pts, meth, &e2)
                     : ls_nomem(&e2);
        if (rc2 == LS_ERR_NOMEM) {
            ls_free(fc);
            if (err) *err = e2;
            rc = LS_ERR_NOMEM;
            goto fail;
        }
        if (rc2 == LS_OK) {
            if (ci != f->check_integration)
                warnf(f, "the check's sparse grid failed (%s); importance sampling with %zu points was used instead",
                      e2.message, pts);
            f->ll_check = v;
            f->check_points = pts;
            f->check_integration = ci;
            f->check_nodes = cn;
            snprintf(f->check_method, sizeof f->check_method, "%s", meth);
            size_t worst = 0;
            for (size_t g = 1; g < F; g++)
                if (fabs(fc[g] - f->fam_ll[g]) > fabs(fc[worst] - f->fam_ll[worst])) worst = g;
            if (fabs(fc[worst] - f->fam_ll[worst]) > LS_CHECK_FAMILY_GAP)
                warnf(f, "family '%s': log-likelihood %.2f on the fit's rule, %.2f on the check's (%s); the integration is unreliable for it (try --integration qmc)",
                      d->family[worst], f->fam_ll[worst], fc[worst], meth);
        } else
            warnf(f, "the check of the log-likelihood at the estimate failed: %s", e2.message);
        ls_free(fc);
    }
    if (f0) {
        f->have_lr = 1;
        f->ll_const = f0->loglik;
        f->aic_const = f0->aic;
        f->lr = 2 * (f->loglik - f0->loglik);
        f->lr_df = (double)(f->dim - f0->dim);
        f->lr_p = gsl_cdf_chisq_Q(fmax(f->lr, 0), f->lr_df);
    }
    f->iter = best_rep.iter;
    f->evals = best_rep.evals;
    snprintf(f->reason, sizeof f->reason, "%s", best_rep.reason);

    double t_se0 = since(&t0);
    if (!o->skip_se) {
        ls_error e2;
        rc = ls_infer(m, best, &f->inf, &e2);
        if (rc == LS_ERR_NOMEM) {
            if (err) *err = e2;
            goto fail;
        }
        if (rc) warnf(f, "standard errors unavailable: %s", e2.message);
        else {
            f->have_se = 1;
            if (!f->inf.ok[LS_SE_HESSIAN])
                warnf(f, "the observed information is not positive definite (smallest eigenvalue %.3g): no Hessian or sandwich standard errors",
                      f->inf.min_eig);
            else if (f->inf.min_eig < 1e-6)
                warnf(f, "the observed information is nearly singular (smallest eigenvalue %.3g): some standard errors are very large",
                      f->inf.min_eig);
        }
        rc = LS_OK;
    }
    f->t_se = since(&t0) - t_se0;
    if (d->nclipped)
        warnf(f, "%zu scores at or beyond 0 or 1 were clipped into [clip, 1 - clip]", d->nclipped);
    if (d->ndup)
        warnf(f, "%zu model names appear more than once; each row is kept as an evaluation", d->ndup);
    if (!f->converged) warnf(f, "the optimiser did not converge: max |gradient| = %.3g", f->gmax);
    if (f->converged == LS_CONVERGED_CHANGE)
        warnf(f, "--logit-clamp: the likelihood has kinks where a cell's eta crosses the clip; max |gradient| %.3g, "
                 "converged instead by its change (two Newton steps in a row each gained less than %g)",
              f->gmax, KINK_FTOL);
    else if (!f->converged && m->eta_clamp > 0)
        warnf(f, "--logit-clamp: the likelihood has kinks where a cell's eta crosses the clip, so max |gradient| "
                 "need not reach --gtol (the polish stops once two Newton steps in a row each gain less than %g)",
              KINK_FTOL);
    if (nfail)
        warnf(f, "%zu famil%s: posterior-mode search stopped short of its tolerance", nfail, nfail == 1 ? "y" : "ies");
    if (polished > 1 && f->starts_at_best < 2) {
        /* values on the rule the candidates were polished on, which for
         * K >= 3 is coarser than the reported one */
        double next = -INFINITY;
        for (unsigned s = 0; s < o->starts; s++)
            if (!isnan(f->polish_ll[s]) && best_ll - f->polish_ll[s] >= agree && f->polish_ll[s] > next)
                next = f->polish_ll[s];
        if (isfinite(next))
            warnf(f, "the %u polished starts ended at different log-likelihoods (on the rule they were polished on: "
                     "best %.4f, next %.4f); consider more --starts",
                  polished, best_ll, next);
        else
            warnf(f, "of the %u polished starts only one ended at a finite log-likelihood; consider more --starts",
                  polished);
    }
    for (size_t j = 0; j < J; j++)
        if (f->est.phi[j] > 1e5) warnf(f, "precision of '%s' is very large (%.3g)", d->bench[j], f->est.phi[j]);
    if ((rc = sigma_warning(f, err))) goto fail;

    f->seconds = since(&t0);
    ls_free(th0);
    ls_free(th);
    ls_free(best);
    ls_free(start_th);
    ls_free(considered);
    ls_model_free(m);
    ls_model_free(ms);
    ls_model_free(mp);
    ls_fit_free(f0);
    *out = f;
    return LS_OK;
fail:
    ls_free(th0);
    ls_free(th);
    ls_free(best);
    ls_free(start_th);
    ls_free(considered);
    ls_model_free(m);
    ls_model_free(ms);
    ls_model_free(mp);
    ls_fit_free(f0);
    ls_fit_free(f);
    return rc;
}

/* ---------------------------------------------------------------- */
/* Accessors                                                         */
/* ---------------------------------------------------------------- */

double ls_fit_loglik(const ls_fit *f) { return f->loglik; }

double ls_fit_loglik_check(const ls_fit *f, size_t *points)
{
    if (points) *points = isfinite(f->ll_check) ? f->check_points : 0;
    return f->ll_check;
}
double ls_fit_loglik_check_se(const ls_fit *f) { return isfinite(f->ll_check) ? f->ll_check_se : NAN; }
void ls_fit_check_criteria(const ls_fit *f, double *aic, double *bic)
{
    ls_info_criteria(f->ll_check, f->nparams, f->F, aic, bic); /* NaN in, NaN out */
}
const char *ls_fit_check_method(const ls_fit *f) { return isfinite(f->ll_check) ? f->check_method : ""; }
size_t ls_fit_nparams(const ls_fit *f) { return f->nparams; }
double ls_fit_aic(const ls_fit *f) { return f->aic; }
double ls_fit_bic(const ls_fit *f) { return f->bic; }
int ls_fit_converged(const ls_fit *f) { return f->converged; }
const char *ls_fit_convergence_criterion(const ls_fit *f)
{
    return f->converged == LS_CONVERGED_CHANGE ? LS_CRITERION_CHANGE
           : f->converged                      ? "max |gradient| <= gtol"
                                               : "none met";
}
double ls_fit_gradnorm(const ls_fit *f) { return f->gmax; }
int ls_fit_frozen(const ls_fit *f, double *gmax_frozen)
{
    if (gmax_frozen) *gmax_frozen = f->gmax_frozen;
    return f->frozen;
}
unsigned ls_fit_iterations(const ls_fit *f) { return f->iter; }
unsigned ls_fit_starts_at_best(const ls_fit *f) { return f->starts_at_best; }
const char *ls_fit_integration(const ls_fit *f, size_t *nodes)
{
    if (nodes) *nodes = f->nodes;
    return f->integration;
}
const ls_params *ls_fit_params(const ls_fit *f) { return &f->est; }
const double *ls_fit_beta_std(const ls_fit *f) { return f->beta_std; }

void ls_fit_timing(const ls_fit *f, double *search, double *polish, double *se, double *total)
{
    *search = f->t_search;
    *polish = f->t_polish;
    *se = f->t_se;
    *total = f->seconds;
}

const double *ls_fit_se(const ls_fit *f, int kind)
{
    if (!f->have_se || kind < 0 || kind >= LS_SE_KINDS || !f->inf.ok[kind]) return NULL;
    return f->inf.se[kind];
}
const double *ls_fit_family_mode(const ls_fit *f, size_t fam) { return fam < f->F ? f->alpha + fam * f->K : NULL; }
const double *ls_fit_family_loglik(const ls_fit *f) { return f->fam_ll; }
size_t ls_fit_nwarnings(const ls_fit *f) { return f->nwarn; }
const char *ls_fit_warning(const ls_fit *f, size_t i) { return i < f->nwarn ? f->warn[i] : NULL; }
const double *ls_fit_theta(const ls_fit *f) { return f->theta; }
size_t ls_fit_dim(const ls_fit *f) { return f->dim; }
size_t ls_fit_nnat(const ls_fit *f)
{
    return ls_nat_count(f->K, f->J, f->p) + (f->est.hetero ? f->p : 0) + (f->nkap ? f->J : 0);
}
int ls_fit_ceiling_estimated(const ls_fit *f, size_t j) { return j < f->J && f->kap[j]; }

int ls_fit_precision_test(const ls_fit *f, double *ll_const, double *aic_const, double *lr,
                          double *df, double *pvalue)
{
    if (!f->have_lr) return 0;
    *ll_const = f->ll_const;
    *aic_const = f->aic_const;
    *lr = f->lr;
    *df = f->lr_df;
    *pvalue = f->lr_p;
    return 1;
}
