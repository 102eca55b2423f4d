/*
 * optimal.c -- compute-optimal allocation (spec "Inference and downstream
 * tasks").  With u = log s (billions of parameters) and v = log t
 * (trillions of tokens), skill k is B1k u + B2k v + B3k u v on the raw
 * scale; a benchmark's linear predictor mixes the skills through its
 * loadings, sum_k lambda_kj (B1k u + B2k v + B3k u v), which has the same
 * form.  Under the budget C = 6 N D = 6e21 s t FLOPs, v = log(C / 6e21) - u,
 * so each target is a quadratic in u, maximised exactly over the interval
 * where both s and t stay inside their ranges.  Because the logistic link
 * and the (positive) anchor loading are increasing, maximising the linear
 * predictor maximises the expected score.  Intervals come from draws of
 * (beta, lambda) from the asymptotic normal of the estimates.  A budget
 * below the smallest (or above the largest) the ranges reach, s_min t_min
 * (s_max t_max), is clamped to that corner and a warning says so.
 */
#include <omp.h>
#include "scaling/tasks.h"
#include "kernel/linalg.h"
#include "scaling/inference.h"

#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FLOPS_PER_UNIT 6e21 /* 6 N D with N in 1e9 and D in 1e12 */

void ls_optimal_options_init(ls_optimal_options *o)
{
    memset(o, 0, sizeof *o);
    o->draws = 1000;
    o->level = 0.9;
    o->seed = 1;
}

int ls_optimal_options_check(const ls_optimal_options *o, ls_error *err)
{
    if (!(o->level > 0 && o->level < 1))
        return ls_fail(err, LS_ERR_OPTION, "level: expected a number in (0, 1), found %g", o->level);
    if (o->budgets && o->nbudgets == 0) return ls_fail(err, LS_ERR_OPTION, "budgets: empty list");
    for (size_t b = 0; o->budgets && b < o->nbudgets; b++)
        if (!(o->budgets[b] > 0) || !isfinite(o->budgets[b]))
            return ls_fail(err, LS_ERR_OPTION, "budgets: expected positive FLOP counts, found %g", o->budgets[b]);
    if (!(o->size_min >= 0 && o->size_max >= 0 && o->tokens_min >= 0 && o->tokens_max >= 0) ||
        (o->size_max > 0 && !(o->size_max > o->size_min && o->size_min > 0)) ||
        (o->tokens_max > 0 && !(o->tokens_max > o->tokens_min && o->tokens_min > 0)))
        return ls_fail(err, LS_ERR_OPTION, "size_range/tokens_range: expected 0 < min < max");
    if (o->threads > 4096)
        return ls_fail(err, LS_ERR_OPTION, "threads: expected 0..4096, found %u", o->threads);
    if (o->draws > 10000000)
        return ls_fail(err, LS_ERR_OPTION, "draws: expected 0..10000000, found %zu", o->draws);
    return LS_OK;
}

static void allocation_free(void *v)
{
    lss_allocation *a = v;
    if (!a) return;
    ls_free(a->budget);
    ls_free(a->size); ls_free(a->size_lo); ls_free(a->size_hi);
    ls_free(a->tokens); ls_free(a->tokens_lo); ls_free(a->tokens_hi);
    ls_free(a->value); ls_free(a->edge);
    if (a->target) ls_strv_free(a->target, a->ntarget);
    ls_free(a);
}

/* Coefficients (a, b, c) of target q: a u + b v + c u v. */
static void target_coef(const double *beta, const double *lambda, size_t K, size_t J, size_t q,
                        double *co)
{
    co[0] = co[1] = co[2] = 0;
    for (size_t k = 0; k < K; k++) {
        double w = q < K ? (q == k) : lambda[k * J + (q - K)];
        for (int r = 0; r < 3; r++) co[r] += w * beta[(size_t)r * K + k];
    }
}

/* argmax over u in [ulo, uhi] of g(u) = a u + b (cc - u) + c u (cc - u) */
static double best_u(const double *co, double cc, double ulo, double uhi, double *val)
{
    double a = co[0], b = co[1], c = co[2];
    double lin = a - b + c * cc;
    double cand[3] = {ulo, uhi, ulo};
    int nc = 2;
    if (c > 0) {
        double us = lin / (2 * c);
        if (us > ulo && us < uhi) cand[nc++] = us;
    }
    double bu = ulo, bv = -INFINITY;
    for (int i = 0; i < nc; i++) {
        double u = cand[i], g = lin * u - c * u * u + b * cc;
        if (g > bv) { bv = g; bu = u; }
    }
    *val = bv;
    return bu;
}

static int cmp_d(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* The allocation's numbers into out, for parameters pr with the natural
 * vector's covariance cov (its leading block: beta, then lambda; NULL: no
 * intervals) of side q. */
/* draws whose normal deviates are drawn at once (then used in parallel) */
#define OPT_CHUNK 1024

static int optimal_compute(const ls_params *pr, const double *cov, size_t q,
                           const ls_optimal_options *o, lss_allocation *out, ls_error *err)
{
    size_t K = pr->K, J = pr->J, p = pr->p;
    if (p != 3)
        return ls_fail(err, LS_ERR_INPUT,
                       "compute-optimal allocation needs the covariates log(size), log(tokens), log(size)*log(tokens); this fit has %zu", p);
    if (!(o->size_min > 0 && o->size_max > o->size_min && o->tokens_min > 0 && o->tokens_max > o->tokens_min))
        return ls_fail(err, LS_ERR_OPTION, "size_range/tokens_range: expected 0 < min < max");
    size_t nb = o->budgets ? o->nbudgets : 10, nt = K + J;
    out->ntarget = nt;
    out->nbudget = nb;
    size_t cells = nt * nb;
    out->budget = ls_calloc(nb, sizeof(double));
    out->size = ls_calloc(cells, sizeof(double));
    out->size_lo = ls_calloc(cells, sizeof(double));
    out->size_hi = ls_calloc(cells, sizeof(double));
    out->tokens = ls_calloc(cells, sizeof(double));
    out->tokens_lo = ls_calloc(cells, sizeof(double));
    out->tokens_hi = ls_calloc(cells, sizeof(double));
    out->value = ls_calloc(cells, sizeof(double));
    out->edge = ls_calloc(nb, sizeof(double));
    size_t nbl = p * K + K * J, D = cov ? o->draws : 0;
    size_t chunk = D < OPT_CHUNK ? (D ? D : 1) : OPT_CHUNK;
    double *Lc = ls_calloc(nbl * nbl, sizeof(double)), *eps = ls_calloc(chunk * nbl, sizeof(double));
    double *bd = ls_calloc(chunk * nbl, sizeof(double)), *us = ls_calloc(D * cells + 1, sizeof(double));
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    int rc = LS_OK;
    if (!out->budget || !out->size || !out->size_lo || !out->size_hi || !out->tokens || !out->tokens_lo ||
        !out->tokens_hi || !out->value || !out->edge || !Lc || !eps || !bd || !us || !rng) {
        rc = ls_nomem(err);
        goto done;
    }
    gsl_rng_set(rng, (unsigned long)(o->seed ? o->seed : 1));
    double lsmin = log(o->size_min), lsmax = log(o->size_max), ltmin = log(o->tokens_min),
           ltmax = log(o->tokens_max);
    for (size_t b = 0; b < nb; b++) {
        if (o->budgets) out->budget[b] = o->budgets[b];
        else { /* log-spaced between the smallest and largest s t (observed, or the ranges' corners) */
            double lo = o->st_min > 0 ? log(o->st_min) : lsmin + ltmin;
            double hi = o->st_max > 0 ? log(o->st_max) : lsmax + ltmax;
            out->budget[b] = FLOPS_PER_UNIT * exp(lo + (hi - lo) * (double)b / (double)(nb - 1 ? nb - 1 : 1));
        }
        /* log(C / 6e21) = u + v must lie in [lsmin + ltmin, lsmax + ltmax] */
        double cc = log(out->budget[b] / FLOPS_PER_UNIT);
        cc = fmin(fmax(cc, lsmin + ltmin), lsmax + ltmax);
        out->edge[b] = fabs(cc - log(out->budget[b] / FLOPS_PER_UNIT)) > 1e-9 ? FLOPS_PER_UNIT * exp(cc)
                                                                                : out->budget[b];
    }
    /* the natural vector starts with beta (p x K) then lambda (K x J) */
    if (D) {
        for (size_t a = 0; a < nbl; a++)
            for (size_t c = 0; c < nbl; c++) Lc[a * nbl + c] = cov[a * q + c];
        /* a square root by eigen-decomposition: fixed loadings have zero
         * variance, so the matrix is only semi-definite */
        double *V = ls_calloc(nbl * nbl, sizeof(double)), *ev = ls_calloc(nbl, sizeof(double));
        if (!V || !ev || ls_eigen_symm(Lc, nbl, ev, V)) {
            ls_free(V); ls_free(ev);
            rc = ls_nomem(err);
            goto done;
        }
        for (size_t a = 0; a < nbl; a++)
            for (size_t c = 0; c < nbl; c++) Lc[a * nbl + c] = V[a * nbl + c] * sqrt(fmax(ev[c], 0));
        ls_free(V); ls_free(ev);
    }
    double co[3];
    for (size_t t = 0; t < nt; t++)
        for (size_t b = 0; b < nb; b++) {
            double cc = log(out->edge[b] / FLOPS_PER_UNIT);
            double ulo = fmax(lsmin, cc - ltmax), uhi = fmin(lsmax, cc - ltmin);
            size_t i = t * nb + b;
            if (ulo > uhi && ulo - uhi < 1e-9) uhi = ulo; /* a corner of the ranges, up to rounding */
            if (ulo > uhi) ulo = uhi = fmin(fmax(ulo, lsmin), lsmax); /* unreachable after the clamp */
            target_coef(pr->beta, pr->lambda, K, J, t, co);
            double u = best_u(co, cc, ulo, uhi, &out->value[i]);
            out->size[i] = exp(u);
            out->tokens[i] = exp(cc - u);
        }
    /* draws in chunks: the normal deviates in draw order from the one
     * stream, then each draw's allocations in parallel (each writes its own
     * cells), so the intervals do not depend on the thread count */
    unsigned nth = o->threads ? o->threads : (unsigned)omp_get_max_threads();
    for (size_t s0 = 0; s0 < D; s0 += OPT_CHUNK) {
        size_t ns = D - s0 < OPT_CHUNK ? D - s0 : OPT_CHUNK;
        for (size_t s = 0; s < ns * nbl; s++) eps[s] = gsl_ran_gaussian_ziggurat(rng, 1.0);
#pragma omp parallel for schedule(static) num_threads(nth)
        for (size_t s = 0; s < ns; s++) {
            double *bs = bd + s * nbl, cf[3];
            const double *es = eps + s * nbl;
            for (size_t a = 0; a < nbl; a++) {
                double v = a < p * K ? pr->beta[a] : pr->lambda[a - p * K];
                for (size_t c = 0; c < nbl; c++) v += Lc[a * nbl + c] * es[c];
                bs[a] = v;
            }
            for (size_t t = 0; t < nt; t++)
                for (size_t b = 0; b < nb; b++) {
                    double cc = log(out->edge[b] / FLOPS_PER_UNIT), val;
                    double ulo = fmax(lsmin, cc - ltmax), uhi = fmin(lsmax, cc - ltmin);
                    size_t i = t * nb + b;
                    if (ulo > uhi && ulo - uhi < 1e-9) uhi = ulo;
                    if (ulo > uhi) ulo = uhi = fmin(fmax(ulo, lsmin), lsmax);
                    target_coef(bs, bs + p * K, K, J, t, cf);
                    us[i * D + s0 + s] = best_u(cf, cc, ulo, uhi, &val);
                }
        }
    }
    for (size_t i = 0; i < cells; i++) {
        double cc = log(out->edge[i % nb] / FLOPS_PER_UNIT);
        if (!D) {
            out->size_lo[i] = out->size_hi[i] = out->size[i];
            out->tokens_lo[i] = out->tokens_hi[i] = out->tokens[i];
            continue;
        }
        double *v = us + i * D;
        qsort(v, D, sizeof(double), cmp_d);
        double ql = ls_quantile_sorted(v, D, (1 - o->level) / 2), qh = ls_quantile_sorted(v, D, (1 + o->level) / 2);
        out->size_lo[i] = exp(ql);
        out->size_hi[i] = exp(qh);
        out->tokens_lo[i] = exp(cc - qh);
        out->tokens_hi[i] = exp(cc - ql);
    }
done:
    ls_free(Lc); ls_free(eps); ls_free(bd); ls_free(us);
    if (rng) gsl_rng_free(rng);
    return rc;
}

int ls_optimal(const ls_fit_summary *s, const ls_optimal_options *o, ls_result **out,
               ls_error *err)
{
    *out = NULL;
    int rc = ls_optimal_options_check(o, err);
    if (rc) return rc;
    const ls_params *pr = &s->est;
    size_t K = pr->K, J = pr->J, p = pr->p;
    lss_allocation *a = ls_calloc(1, sizeof *a);
    if (!a) return ls_nomem(err);
    /* ranges left 0: the data's (recorded in the fit); default budgets span
     * the observed size x tokens */
    a->opt = *o;
    if (!(o->size_max > 0)) { a->opt.size_min = s->range[0]; a->opt.size_max = s->range[1]; }
    if (!(o->tokens_max > 0)) { a->opt.tokens_min = s->range[2]; a->opt.tokens_max = s->range[3]; }
    if (!o->budgets && !(o->st_max > 0) && isfinite(s->st_range[0])) {
        a->opt.st_min = s->st_range[0];
        a->opt.st_max = s->st_range[1];
    }
    size_t q = ls_nat_count(K, J, p) + (pr->hetero ? p : 0);
    rc = optimal_compute(pr, s->nat_cov, q, &a->opt, a, err);
    a->opt.budgets = NULL; /* the caller's; the result keeps its own copy */
    a->nskills = (int)K;
    if (!rc && !(a->target = ls_calloc(K + J, sizeof(char *)))) rc = ls_nomem(err);
    for (size_t t = 0; !rc && t < K + J; t++)
        if (!(a->target[t] = ls_strdup(t < K ? s->benchmarks[pr->anchors[t]] : s->benchmarks[t - K])))
            rc = ls_nomem(err);
    if (rc) {
        allocation_free(a);
        return rc;
    }
    ls_result *r = NULL;
    if ((rc = ls_result_new("allocation", a, allocation_free, &r, err))) return rc;
    size_t nt = a->ntarget, nb = a->nbudget;
    const char *T = "targets";
    rc = ls_result_add_strings(r, T, a->target, nt, err);
    if (!rc) rc = ls_result_add_numbers(r, "budgets", a->budget, nb, 1, NULL, NULL, err);
    if (!rc) rc = ls_result_add_numbers(r, "size", a->size, nt, nb, T, NULL, err);
    if (!rc) rc = ls_result_add_numbers(r, "size_lo", a->size_lo, nt, nb, T, NULL, err);
    if (!rc) rc = ls_result_add_numbers(r, "size_hi", a->size_hi, nt, nb, T, NULL, err);
    if (!rc) rc = ls_result_add_numbers(r, "tokens", a->tokens, nt, nb, T, NULL, err);
    if (!rc) rc = ls_result_add_numbers(r, "tokens_lo", a->tokens_lo, nt, nb, T, NULL, err);
    if (!rc) rc = ls_result_add_numbers(r, "tokens_hi", a->tokens_hi, nt, nb, T, NULL, err);
    if (!rc) rc = ls_result_add_numbers(r, "value", a->value, nt, nb, T, NULL, err);
    if (!rc) rc = ls_result_add_number(r, "n_skills", (double)K, err);
    if (!rc) rc = ls_result_add_number(r, "level", a->opt.level, err);
    for (size_t i = 0; !rc && i < ls_strlist_count(&s->warn); i++)
        rc = ls_result_warn(r, err, "the fit: %s", ls_strlist_get(&s->warn, i));
    if (!rc) rc = ls_result_add_number(r, "draws", s->nat_cov ? (double)a->opt.draws : 0, err);
    if (!rc) rc = ls_result_add_number(r, "seed", (double)a->opt.seed, err);
    if (!rc) rc = ls_result_add_number(r, "size_min", a->opt.size_min, err);
    if (!rc) rc = ls_result_add_number(r, "size_max", a->opt.size_max, err);
    if (!rc) rc = ls_result_add_number(r, "tokens_min", a->opt.tokens_min, err);
    if (!rc) rc = ls_result_add_number(r, "tokens_max", a->opt.tokens_max, err);
    for (size_t b = 0; !rc && b < nb; b++)
        if (a->edge[b] != a->budget[b]) {
            int low = a->edge[b] > a->budget[b];
            rc = ls_result_warn(r, err,
                                "budgets: %g FLOPs is %s the %s budget the size and tokens ranges reach; allocated at "
                                "that edge, %.4g FLOPs (size %.4g, tokens %.4g)",
                                a->budget[b], low ? "below" : "above", low ? "smallest" : "largest", a->edge[b],
                                low ? a->opt.size_min : a->opt.size_max, low ? a->opt.tokens_min : a->opt.tokens_max);
        }
    if (rc) {
        ls_result_free(r);
        return rc;
    }
    ls_result_set_writer(r, lss_write_allocation);
    *out = r;
    return LS_OK;
}
