/*
 * baseline.c -- the one-line regressions every held-out evaluation is
 * scored against, fitted per benchmark j on the training rows' observed
 * scores y with the benchmark's floor c and ceiling d, and x the
 * standardised log training compute, log(size) + log(tokens) (log FLOPs
 * up to a constant):
 *
 *   family-logit-ols     ordinary least squares of
 *                        logit(min(max((y - c) / (d - c), 0.01), 0.99))
 *                        on a family intercept a_f and a common slope b x,
 *                        back-transformed (the paper's family + FLOPs
 *                        baseline, published MAE 0.048 on its split);
 *   family-logistic-ls   least squares of y on c + (d - c) logistic(a_f + b x)
 *                        with the penalty 1e-3 sum a_f^2 (Levenberg-Marquardt
 *                        from the first fit);
 *   global-logistic-ls   least squares of y on c + (d - c) logistic(a + b x),
 *                        one curve for every family.
 *
 * A test model of a family with no training score on benchmark j gets the
 * average intercept over that benchmark's training rows.
 */
#include "scaling/tasks.h"
#include "kernel/special.h"

#include <math.h>
#include <string.h>

const char *const lss_baseline_names[LSS_NBASELINES] = {"family-logit-ols", "family-logistic-ls",
                                                         "global-logistic-ls"};
const char *const lss_baseline_descriptions[LSS_NBASELINES] = {
    "OLS of logit((y - c)/(d - c)) on family intercepts and log FLOPs",
    "least squares of y on c + (d - c) logistic(family intercept + slope x log FLOPs), ridge 1e-3",
    "least squares of y on c + (d - c) logistic(intercept + slope x log FLOPs), one curve for all families"};

#define LOGIT_CLAMP 0.01
#define RIDGE 1e-3
#define LM_ITER 300

/* The observations of one benchmark: m rows, group g[i] in 0..G-1. */
typedef struct bl_obs {
    size_t m, G;
    const double *y, *x;
    const size_t *g;
    double c, d;
} bl_obs;

static double bl_objective(const bl_obs *o, const double *a, double b, double ridge)
{
    double s = 0;
    for (size_t i = 0; i < o->m; i++) {
        double r = o->y[i] - (o->c + (o->d - o->c) * ls_logistic(a[o->g[i]] + b * o->x[i]));
        s += r * r;
    }
    for (size_t k = 0; k < o->G; k++) s += ridge * a[k] * a[k];
    return s;
}

/* Levenberg-Marquardt on (a_1..a_G, b): the normal equations have an arrow
 * structure (each a_k couples only with b), solved through the Schur
 * complement of the diagonal block.  a and b hold the start and the result.
 * work: 3 G doubles. */
static void bl_logistic_ls(const bl_obs *o, double *a, double *b, double ridge, double *work)
{
    size_t G = o->G;
    double *D = work, *E = work + G, *gf = work + 2 * G;
    double f = bl_objective(o, a, *b, ridge), lambda = 1e-3;
    for (int it = 0; it < LM_ITER; it++) {
        double Gbb = 0, gb = 0;
        for (size_t k = 0; k < G; k++) {
            D[k] = ridge;
            E[k] = 0;
            gf[k] = -ridge * a[k];
        }
        for (size_t i = 0; i < o->m; i++) {
            double p = ls_logistic(a[o->g[i]] + *b * o->x[i]);
            double s = (o->d - o->c) * p * (1 - p);
            double r = o->y[i] - (o->c + (o->d - o->c) * p);
            size_t k = o->g[i];
            D[k] += s * s;
            E[k] += s * s * o->x[i];
            gf[k] += s * r;
            Gbb += s * s * o->x[i] * o->x[i];
            gb += s * o->x[i] * r;
        }
        int improved = 0;
        for (int tries = 0; tries < 30 && !improved; tries++) {
            double schur = Gbb * (1 + lambda) + 1e-12, rhs = gb;
            for (size_t k = 0; k < G; k++) {
                double dk = D[k] * (1 + lambda) + 1e-12;
                schur -= E[k] * E[k] / dk;
                rhs -= E[k] * gf[k] / dk;
            }
            double db = schur > 0 ? rhs / schur : 0, step = fabs(db);
            double *na = work + 3 * G; /* G more doubles, see the caller */
            for (size_t k = 0; k < G; k++) {
                double dk = D[k] * (1 + lambda) + 1e-12;
                double da = (gf[k] - E[k] * db) / dk;
                na[k] = a[k] + da;
                if (fabs(da) > step) step = fabs(da);
            }
            double fn = bl_objective(o, na, *b + db, ridge);
            if (fn <= f) {
                memcpy(a, na, G * sizeof(double));
                *b += db;
                double rel = (f - fn) / (f + 1e-300);
                f = fn;
                lambda = fmax(lambda / 3, 1e-12);
                improved = 1;
                if (rel < 1e-13 || step < 1e-10) return;
            } else
                lambda *= 4;
        }
        if (!improved) return;
    }
}

/* Ordinary least squares of z on group intercepts and a common slope:
 * the within-group slope (the pooled one when no group varies in x). */
static void bl_logit_ols(const bl_obs *o, const double *z, double *a, double *b, double *work)
{
    size_t G = o->G;
    double *n = work, *mx = work + G, *mz = work + 2 * G;
    for (size_t k = 0; k < G; k++) n[k] = mx[k] = mz[k] = 0;
    for (size_t i = 0; i < o->m; i++) {
        n[o->g[i]] += 1;
        mx[o->g[i]] += o->x[i];
        mz[o->g[i]] += z[i];
    }
    for (size_t k = 0; k < G; k++) {
        mx[k] /= n[k];
        mz[k] /= n[k];
    }
    double sxz = 0, sxx = 0;
    for (size_t i = 0; i < o->m; i++) {
        double dx = o->x[i] - mx[o->g[i]];
        sxz += dx * (z[i] - mz[o->g[i]]);
        sxx += dx * dx;
    }
    if (sxx > 1e-12) *b = sxz / sxx;
    else {
        double ax = 0, az = 0;
        for (size_t i = 0; i < o->m; i++) {
            ax += o->x[i];
            az += z[i];
        }
        ax /= (double)o->m;
        az /= (double)o->m;
        double pxz = 0, pxx = 0;
        for (size_t i = 0; i < o->m; i++) {
            pxz += (o->x[i] - ax) * (z[i] - az);
            pxx += (o->x[i] - ax) * (o->x[i] - ax);
        }
        *b = pxx > 1e-12 ? pxz / pxx : 0;
    }
    for (size_t k = 0; k < G; k++) a[k] = mz[k] - *b * mx[k];
}

/* The row-weighted average intercept: the intercept of a family unseen on
 * this benchmark. */
static double bl_mean_intercept(const bl_obs *o, const double *a)
{
    double s = 0;
    for (size_t i = 0; i < o->m; i++) s += a[o->g[i]];
    return o->m ? s / (double)o->m : 0;
}

int lss_baselines(const ls_data *tr, const double *lf_train, size_t nte, const char *const *te_family,
                  const double *lf_test, double *pred, ls_error *err)
{
    size_t n = tr->n, J = tr->J, F = tr->F;
    double mean = 0, sd = 0;
    for (size_t i = 0; i < n; i++) mean += lf_train[i];
    mean /= (double)n;
    for (size_t i = 0; i < n; i++) sd += (lf_train[i] - mean) * (lf_train[i] - mean);
    sd = n > 1 ? sqrt(sd / (double)(n - 1)) : 0;
    if (!(sd > 0)) sd = 1;
    double *y = ls_calloc(n, sizeof(double)), *x = ls_calloc(n, sizeof(double)), *z = ls_calloc(n, sizeof(double));
    double *a = ls_calloc(F + 1, sizeof(double)), *a2 = ls_calloc(F + 1, sizeof(double));
    double *work = ls_calloc(4 * (F + 1), sizeof(double));
    size_t *g = ls_calloc(n, sizeof(size_t)), *local = ls_calloc(F, sizeof(size_t));
    long *tef = ls_calloc(nte + 1, sizeof(long));
    int rc = LS_OK;
    if (!y || !x || !z || !a || !a2 || !work || !g || !local || !tef) {
        rc = ls_nomem(err);
        goto done;
    }
    for (size_t t = 0; t < nte; t++) tef[t] = ls_data_find_family(tr, te_family[t]);
    for (size_t j = 0; j < J; j++) {
        double c = tr->floor[j], d = tr->ceil[j];
        size_t m = 0, G = 0;
        for (size_t f = 0; f < F; f++) local[f] = (size_t)-1;
        for (size_t i = 0; i < n; i++) {
            double v = tr->y[i * J + j];
            if (isnan(v)) continue;
            size_t f = tr->family_of[i];
            if (local[f] == (size_t)-1) local[f] = G++;
            y[m] = v;
            x[m] = (lf_train[i] - mean) / sd;
            double u = (v - c) / (d - c);
            u = fmin(fmax(u, LOGIT_CLAMP), 1 - LOGIT_CLAMP);
            z[m] = log(u / (1 - u));
            g[m] = local[f];
            m++;
        }
        double *out0 = pred + 0 * nte * J, *out1 = pred + 1 * nte * J, *out2 = pred + 2 * nte * J;
        if (m == 0) {
            for (size_t t = 0; t < nte; t++) out0[t * J + j] = out1[t * J + j] = out2[t * J + j] = NAN;
            continue;
        }
        bl_obs o = {m, G, y, x, g, c, d};
        double b = 0, b2;
        bl_logit_ols(&o, z, a, &b, work);
        memcpy(a2, a, G * sizeof(double));
        b2 = b;
        double a_new = bl_mean_intercept(&o, a);
        for (size_t t = 0; t < nte; t++) {
            double xt = (lf_test[t] - mean) / sd;
            double at = tef[t] >= 0 && local[tef[t]] != (size_t)-1 ? a[local[tef[t]]] : a_new;
            out0[t * J + j] = c + (d - c) * ls_logistic(at + b * xt);
        }
        bl_logistic_ls(&o, a2, &b2, RIDGE, work);
        a_new = bl_mean_intercept(&o, a2);
        for (size_t t = 0; t < nte; t++) {
            double xt = (lf_test[t] - mean) / sd;
            double at = tef[t] >= 0 && local[tef[t]] != (size_t)-1 ? a2[local[tef[t]]] : a_new;
            out1[t * J + j] = c + (d - c) * ls_logistic(at + b2 * xt);
        }
        /* one curve: every row in group 0, started from the average intercept */
        for (size_t i = 0; i < m; i++) g[i] = 0;
        bl_obs o1 = {m, 1, y, x, g, c, d};
        double a1 = a_new, b1 = b2;
        bl_logistic_ls(&o1, &a1, &b1, 0, work);
        for (size_t t = 0; t < nte; t++)
            out2[t * J + j] = c + (d - c) * ls_logistic(a1 + b1 * (lf_test[t] - mean) / sd);
    }
done:
    ls_free(y); ls_free(x); ls_free(z); ls_free(a); ls_free(a2); ls_free(work);
    ls_free(g); ls_free(local); ls_free(tef);
    return rc;
}
