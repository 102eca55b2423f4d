/*
 * fit_start.c -- the starts of a fit.
 *
 * Start 0 is deterministic: scores are mapped to the logit scale above their
 * floors, a rank-K principal-component fit with iterative imputation of the
 * missing cells gives loadings and scores, the anchor block is rotated to the
 * identity, scores are regressed on the covariates, and family means of the
 * residuals give Sigma and the skill scales.  Starts 1.. perturb it with
 * seeded Gaussian noise.
 */
#include "scaling/fit_impl.h"
#include "kernel/linalg.h"
#include "kernel/special.h"

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <string.h>

/* The data's principal components on the logit scale: ceilings (the
 * data's, or for an estimated one, kap_of[j] >= 0, a start halfway between
 * the benchmark's best observed score and 1), scores mapped above their
 * floors into Z (n x J, missing cells imputed), the column means, and a
 * rank-K principal-component fit with iterative imputation: loadings W
 * (J x K, orthonormal columns, largest first), scores T (n x K), the
 * eigenvalues ev (ascending) of the imputed Z's covariance (C and V are
 * scratch: the eigensolver overwrites C). */
static int start_components(const ls_data *d, const long *kap_of, size_t K, double *ceiling, double *Z,
                            double *mean, double *W, double *T, double *C, double *V, double *ev)
{
    size_t n = d->n, J = d->J;
    for (size_t j = 0; j < J; j++) {
        double ce = d->ceil[j];
        if (kap_of && kap_of[j] >= 0) {
            double top = d->floor[j];
            for (size_t i = 0; i < n; i++)
                if (!isnan(d->y[i * J + j]) && d->y[i * J + j] > top) top = d->y[i * J + j];
            ce = fmin(0.5 * (top + 1), 0.999);
        }
        ceiling[j] = ce;
    }

    /* logit scale above the floor, missing cells filled with column means */
    for (size_t j = 0; j < J; j++) {
        double s = 0;
        size_t c = 0;
        for (size_t i = 0; i < n; i++) {
            double y = d->y[i * J + j];
            if (isnan(y)) continue;
            double q = (y - d->floor[j]) / (ceiling[j] - d->floor[j]);
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
        if (ls_eigen_symm(C, J, ev, V)) return LS_ERR_NOMEM;
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
    return LS_OK;
}

/* A benchmark is passed over as an anchor when what is left of its
 * loadings, once the earlier anchors are projected out, is below this
 * fraction of the largest remainder among the benchmarks not yet taken. */
#define ANCHOR_KEEP 0.3

int lsfit_anchors_auto(const char *anchors)
{
    return anchors && strcmp(anchors, "auto") == 0;
}

int lsfit_auto_anchors(const ls_data *d, size_t K, const char *estimate_ceilings, char **names, ls_error *err)
{
    *names = NULL;
    size_t n = d->n, J = d->J;
    if (K < 1 || K > J || K > 64) /* as the model says it */
        return ls_fail(err, LS_ERR_OPTION, "skills: K = %zu, but it must be between 1 and the number of benchmarks (%zu)",
                       K, J);
    long *kap_of = ls_calloc(J, sizeof(long));
    double *Z = ls_calloc(n * J, sizeof(double)), *C = ls_calloc(J * J, sizeof(double));
    double *V = ls_calloc(J * J, sizeof(double)), *ev = ls_calloc(J, sizeof(double));
    double *mean = ls_calloc(J, sizeof(double)), *T = ls_calloc(n * K, sizeof(double));
    double *W = ls_calloc(J * K, sizeof(double)), *ceiling = ls_calloc(J, sizeof(double));
    double *R = ls_calloc(J * K, sizeof(double));
    char *taken = ls_calloc(J, 1);
    size_t *pick = ls_calloc(K, sizeof(size_t)), nkap = 0;
    int rc = LS_OK;
    if (!kap_of || !Z || !C || !V || !ev || !mean || !T || !W || !ceiling || !R || !taken || !pick) {
        rc = ls_nomem(err);
        goto done;
    }
    if ((rc = ls_ceilings_estimated(d, estimate_ceilings, kap_of, &nkap, err))) goto done;
    if ((rc = start_components(d, kap_of, K, ceiling, Z, mean, W, T, C, V, ev))) {
        rc = ls_nomem(err);
        goto done;
    }
    /* R[j] = benchmark j's loadings on the standardised components divided
     * by its standard deviation: its correlations with them, a row of norm
     * sqrt(communality).  (Shrinking a row by the root of its observed share
     * made a sparsely observed, near-floor benchmark the first anchor on the
     * paper data, and the K = 5 fit unconverged.) */
    for (size_t j = 0; j < J; j++) { /* (C itself is overwritten by the eigensolver) */
        double mj = 0, vj = 0;
        for (size_t i = 0; i < n; i++) mj += Z[i * J + j] / (double)n;
        for (size_t i = 0; i < n; i++) vj += (Z[i * J + j] - mj) * (Z[i * J + j] - mj) / (double)n;
        double sd = sqrt(vj);
        for (size_t k = 0; k < K; k++) {
            double e = ev[J - 1 - k];
            R[j * K + k] = sd > 0 && e > 0 ? W[j * K + k] * sqrt(e) / sd : 0;
        }
    }
    /* pivoted Gram-Schmidt that keeps the benchmarks' order where it can:
     * anchor k is the first benchmark whose row, once the anchors before
     * it are projected out, keeps at least ANCHOR_KEEP of the largest such
     * remainder.  The first K benchmarks stay the anchors unless one of them
     * nearly lies in the span of the earlier ones.  (Pure pivoting, the
     * largest remainder each time, chose the odd benchmarks out, MuSR and
     * MMLU-Pro at K = 2 on the paper data, and the K = 2 fit ended on a
     * singular information.  Half instead of ANCHOR_KEEP also replaced
     * well-conditioned anchors of the paper's order at K = 2, 3, 5.) */
    for (size_t k = 0; k < K; k++) {
        double mx = 0;
        for (size_t j = 0; j < J; j++) {
            if (taken[j]) continue;
            double s = 0;
            for (size_t l = 0; l < K; l++) s += R[j * K + l] * R[j * K + l];
            if (s > mx) mx = s;
        }
        size_t best = J;
        double bn = 0;
        for (size_t j = 0; j < J && best == J; j++) {
            if (taken[j]) continue;
            double s = 0;
            for (size_t l = 0; l < K; l++) s += R[j * K + l] * R[j * K + l];
            if (s >= ANCHOR_KEEP * ANCHOR_KEEP * mx) { best = j; bn = s; }
        }
        taken[best] = 1;
        pick[k] = best;
        double nb = sqrt(bn);
        if (!(nb > 1e-12)) continue; /* nothing left: any unused benchmark will do */
        double u[64];
        for (size_t l = 0; l < K; l++) u[l] = R[best * K + l] / nb;
        for (size_t j = 0; j < J; j++) {
            double s = 0;
            for (size_t l = 0; l < K; l++) s += R[j * K + l] * u[l];
            for (size_t l = 0; l < K; l++) R[j * K + l] -= s * u[l];
        }
    }
    size_t len = 1;
    for (size_t k = 0; k < K; k++) len += strlen(d->bench[pick[k]]) + 1;
    if (!(*names = ls_calloc(len, 1))) { rc = ls_nomem(err); goto done; }
    for (size_t k = 0; k < K; k++) {
        if (k) strcat(*names, ",");
        strcat(*names, d->bench[pick[k]]);
    }
done:
    ls_free(kap_of); ls_free(Z); ls_free(C); ls_free(V); ls_free(ev); ls_free(mean); ls_free(T);
    ls_free(W); ls_free(ceiling); ls_free(R); ls_free(taken); ls_free(pick);
    return rc;
}

int lsfit_initial_params(const ls_data *d, const ls_model *m, ls_params *pr, ls_error *err)
{
    ls_layout lay;
    ls_model_layout(m, &lay);
    size_t n = d->n, J = d->J, K = lay.K, p = d->p, F = d->F;
    double *Z = ls_calloc(n * J, sizeof(double)), *C = ls_calloc(J * J, sizeof(double));
    double *V = ls_calloc(J * J, sizeof(double)), *ev = ls_calloc(J, sizeof(double));
    double *mean = ls_calloc(J, sizeof(double)), *T = ls_calloc(n * K, sizeof(double));
    double *W = ls_calloc(J * K, sizeof(double)), *af = ls_calloc(F * K, sizeof(double));
    double *resvar = ls_calloc(J, sizeof(double));
    int rc = LS_OK;
    if (!Z || !C || !V || !ev || !mean || !T || !W || !af || !resvar) { rc = ls_nomem(err); goto done; }
    if (start_components(d, lay.kap_of, K, pr->ceiling, Z, mean, W, T, C, V, ev)) {
        rc = ls_nomem(err);
        goto done;
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
            for (size_t l = 0; l < K; l++) A[k * K + l] = W[lay.anchor[k] * K + l];
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
            size_t ja = lay.anchor[k];
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
    for (size_t k = 0; k < K; k++) pr->anchors[k] = lay.anchor[k];
done:
    ls_free(Z); ls_free(C); ls_free(V); ls_free(ev); ls_free(mean); ls_free(T); ls_free(W);
    ls_free(af); ls_free(resvar);
    return rc;
}

void lsfit_perturb(const ls_model *m, double *th, uint64_t seed, unsigned s)
{
    ls_layout l;
    ls_model_layout(m, &l);
    gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
    if (!g) return;
    gsl_rng_set(g, (unsigned long)ls_splitmix64(seed * 1000003u + s));
    double scale = 0.15 + 0.1 * (double)(s % 4);
    for (size_t i = 0; i < l.dim; i++) {
        double sd = scale;
        if ((i >= l.off_phi && i < l.off_w) || i >= l.off_g) sd = 0.3 * scale; /* log phi, gamma */
        th[i] += gsl_ran_gaussian(g, sd);
    }
    gsl_rng_free(g);
}
