/*
 * lad.c -- exact least absolute deviations and the min-L1 identification
 * of covariate effects (moved from factor/model.c so that the factor
 * model's and the partial credit model's marginal ML share it), and
 * standard errors of values computed from estimates through a map (the
 * delta method and simulation of the estimates' normal limit).
 */
#include "kernel/lad.h"
#include "kernel/linalg.h"
#include "kernel/rng.h"

#include <math.h>
#include <string.h>

/* Sort indices by b (insertion sort for short lists, else heap sort). */
static void sort_idx(const double *b, size_t *idx, size_t n)
{
    /* heap sort: deterministic, O(n log n), no allocation */
    for (size_t k = n / 2; k-- > 0;) {
        size_t root = k;
        for (;;) {
            size_t c = 2 * root + 1;
            if (c >= n) break;
            if (c + 1 < n && b[idx[c + 1]] > b[idx[c]]) c++;
            if (b[idx[c]] <= b[idx[root]]) break;
            size_t t = idx[c];
            idx[c] = idx[root];
            idx[root] = t;
            root = c;
        }
    }
    for (size_t end = n; end-- > 1;) {
        size_t t = idx[0];
        idx[0] = idx[end];
        idx[end] = t;
        size_t root = 0;
        for (;;) {
            size_t c = 2 * root + 1;
            if (c >= end) break;
            if (c + 1 < end && b[idx[c + 1]] > b[idx[c]]) c++;
            if (b[idx[c]] <= b[idx[root]]) break;
            size_t u = idx[c];
            idx[c] = idx[root];
            idx[root] = u;
            root = c;
        }
    }
}

size_t ls_wmedian(const double *b, const double *w, size_t n, size_t *idx)
{
    double total = 0;
    for (size_t k = 0; k < n; k++) {
        idx[k] = k;
        total += w[k];
    }
    sort_idx(b, idx, n);
    double acc = 0;
    for (size_t k = 0; k < n; k++) {
        acc += w[idx[k]];
        if (acc >= 0.5 * total) return idx[k];
    }
    return idx[n - 1];
}

static double lad_obj(const double *Z, const double *y, size_t m, size_t r, const double *a)
{
    double s = 0;
    for (size_t j = 0; j < m; j++) {
        double e = y[j];
        for (size_t k = 0; k < r; k++) e -= Z[j * r + k] * a[k];
        s += fabs(e);
    }
    return s;
}

/* Move a along direction dir to the exact minimiser of the objective on that
 * line: the weighted median of the breakpoints res_j / c_j, weights |c_j|.
 * Returns the index of the row that becomes zero, or m when no row moves. */
static size_t line_search(const double *Z, const double *y, size_t m, size_t r, double *a,
                          const double *dir, double *bp, double *wt, size_t *map, size_t *idx)
{
    size_t cnt = 0;
    double cmax = 0;
    for (size_t j = 0; j < m; j++) {
        double c = 0;
        for (size_t k = 0; k < r; k++) c += Z[j * r + k] * dir[k];
        if (fabs(c) > cmax) cmax = fabs(c);
    }
    for (size_t j = 0; j < m; j++) {
        double c = 0, e = y[j];
        for (size_t k = 0; k < r; k++) {
            c += Z[j * r + k] * dir[k];
            e -= Z[j * r + k] * a[k];
        }
        if (fabs(c) <= 1e-13 * cmax) continue;
        bp[cnt] = e / c;
        wt[cnt] = fabs(c);
        map[cnt++] = j;
    }
    if (!cnt) return m;
    size_t k = ls_wmedian(bp, wt, cnt, idx);
    double t = bp[k];
    for (size_t c = 0; c < r; c++) a[c] += t * dir[c];
    return map[k];
}

int ls_lad(const double *Z, const double *y, size_t m, size_t r, double *a, double *obj,
            ls_error *err)
{
    double *bp = ls_malloc(m * sizeof *bp), *wt = ls_malloc(m * sizeof *wt);
    size_t *map = ls_malloc(m * sizeof *map), *idx = ls_malloc(m * sizeof *idx);
    int rc = LS_OK;
    if (!bp || !wt || !map || !idx) {
        rc = ls_nomem(err);
        goto done;
    }
    size_t act[LS_LAD_MAX_R];
    double dir[LS_LAD_MAX_R], Q[LS_LAD_MAX_R * LS_LAD_MAX_R];
    memset(a, 0, r * sizeof *a);
    /* Phase 1: reach a vertex.  Each move is along a direction orthogonal to
     * the rows already fitted exactly (Gram-Schmidt on their Z rows), so they
     * stay at zero residual; the line search zeroes one more. */
    size_t nact = 0;
    for (size_t e = 0; e < r && nact < r; e++) {
        for (size_t k = 0; k < r; k++) dir[k] = k == e ? 1.0 : 0.0;
        for (size_t c = 0; c < nact; c++) {
            double dot = 0;
            for (size_t k = 0; k < r; k++) dot += dir[k] * Q[c * r + k];
            for (size_t k = 0; k < r; k++) dir[k] -= dot * Q[c * r + k];
        }
        double nr = 0;
        for (size_t k = 0; k < r; k++) nr += dir[k] * dir[k];
        if (nr < 1e-20) continue;
        size_t j = line_search(Z, y, m, r, a, dir, bp, wt, map, idx);
        if (j == m) continue;
        act[nact] = j;
        /* add Z_j to the orthonormal basis */
        double v[LS_LAD_MAX_R];
        for (size_t k = 0; k < r; k++) v[k] = Z[j * r + k];
        for (size_t c = 0; c < nact; c++) {
            double dot = 0;
            for (size_t k = 0; k < r; k++) dot += v[k] * Q[c * r + k];
            for (size_t k = 0; k < r; k++) v[k] -= dot * Q[c * r + k];
        }
        double vn = 0;
        for (size_t k = 0; k < r; k++) vn += v[k] * v[k];
        vn = sqrt(vn);
        if (vn < 1e-12) continue;
        for (size_t k = 0; k < r; k++) Q[nact * r + k] = v[k] / vn;
        nact++;
    }
    if (nact < r) {
        rc = ls_fail(err, LS_ERR_NUMERIC, "least absolute deviations: the loadings are rank deficient");
        goto done;
    }
    /* Phase 2: simplex descent.  At a vertex with active rows B (r x r), the
     * edge that frees active row k has direction B^-1 e_k; the objective is
     * convex and linear on each cone spanned by the edges, so when no edge
     * improves the vertex is a global minimum. */
    double f = lad_obj(Z, y, m, r, a);
    for (int it = 0; it < 10000; it++) {
        double B[LS_LAD_MAX_R * LS_LAD_MAX_R], Bi[LS_LAD_MAX_R * LS_LAD_MAX_R];
        for (size_t c = 0; c < r; c++) memcpy(B + c * r, Z + act[c] * r, r * sizeof *B);
        if (ls_lu_inverse(B, r, Bi)) {
            rc = ls_fail(err, LS_ERR_NUMERIC, "least absolute deviations: singular vertex");
            goto done;
        }
        int improved = 0;
        for (size_t k = 0; k < r && !improved; k++) {
            double trial[LS_LAD_MAX_R];
            for (size_t c = 0; c < r; c++) dir[c] = Bi[c * r + k];
            memcpy(trial, a, r * sizeof *a);
            size_t j = line_search(Z, y, m, r, trial, dir, bp, wt, map, idx);
            if (j == m) continue;
            double ft = lad_obj(Z, y, m, r, trial);
            if (ft < f - 1e-12 * (1 + fabs(f))) {
                memcpy(a, trial, r * sizeof *a);
                f = ft;
                act[k] = j;
                improved = 1;
            }
        }
        if (!improved) break;
    }
    *obj = f;
done:
    ls_free(bp);
    ls_free(wt);
    ls_free(map);
    ls_free(idx);
    return rc;
}

int ls_min_l1(const double *Z, size_t q, size_t r, double *Y, size_t p, size_t ld, double *A, ls_error *err)
{
    double *y = ls_malloc((q ? q : 1) * sizeof *y);
    if (!y) return ls_nomem(err);
    int rc = LS_OK;
    for (size_t s = 0; s < p && !rc; s++) {
        double obj, as[LS_LAD_MAX_R];
        for (size_t j = 0; j < q; j++) y[j] = Y[j * ld + s];
        rc = ls_lad(Z, y, q, r, as, &obj, err);
        if (rc) break;
        for (size_t k = 0; k < r; k++) A[s * r + k] = as[k];
        for (size_t j = 0; j < q; j++) {
            double g = 0;
            for (size_t k = 0; k < r; k++) g += Z[j * r + k] * as[k];
            Y[j * ld + s] -= g;
        }
    }
    ls_free(y);
    return rc;
}

int ls_map_se_sim(ls_map_fn map, const void *ctx, const double *x, size_t D, const double *V, size_t nout,
                  unsigned draws, uint64_t seed, double *se, ls_error *err)
{
    double *L = ls_malloc(D * D * sizeof *L), *xx = ls_malloc(D * D * sizeof *xx), *z = ls_malloc(D * sizeof *z);
    double *o = ls_malloc(nout * sizeof *o), *mean = ls_calloc(nout, sizeof *mean), *m2 = ls_calloc(nout, sizeof *m2);
    int rc = LS_OK;
    if (!L || !xx || !z || !o || !mean || !m2) {
        rc = ls_nomem(err);
        goto done;
    }
    memcpy(L, V, D * D * sizeof *L);
    if (ls_chol(L, D)) {
        for (size_t k = 0; k < nout; k++) se[k] = NAN;
        goto done;
    }
    ls_rng g = {seed};
    for (unsigned t = 0; t < draws && !rc; t++) {
        for (size_t a = 0; a < D; a++) z[a] = ls_rng_norm(&g);
        for (size_t a = 0; a < D; a++) {
            double s = x[a];
            for (size_t b = 0; b <= a; b++) s += L[a * D + b] * z[b];
            xx[a] = s;
        }
        rc = map(ctx, xx, o, err);
        for (size_t k = 0; k < nout && !rc; k++) { /* Welford */
            double dlt = o[k] - mean[k];
            mean[k] += dlt / (double)(t + 1);
            m2[k] += dlt * (o[k] - mean[k]);
        }
    }
    for (size_t k = 0; k < nout; k++) se[k] = sqrt(m2[k] / (draws - 1));
done:
    ls_free(L);
    ls_free(xx);
    ls_free(z);
    ls_free(o);
    ls_free(mean);
    ls_free(m2);
    return rc;
}

int ls_map_se_delta(ls_map_fn map, const void *ctx, const double *x, size_t D, const double *V, size_t nout,
                    double *se, ls_error *err)
{
    double *xx = ls_malloc(D * sizeof *xx), *op = ls_malloc(nout * sizeof *op), *om = ls_malloc(nout * sizeof *om);
    double *Jt = ls_malloc(nout * D * sizeof *Jt);
    int rc = LS_OK;
    if (!xx || !op || !om || !Jt) {
        rc = ls_nomem(err);
        goto done;
    }
    memcpy(xx, x, D * sizeof *xx);
    for (size_t a = 0; a < D && !rc; a++) {
        const double h = 1e-6 * (1 + fabs(x[a]));
        xx[a] = x[a] + h;
        rc = map(ctx, xx, op, err);
        xx[a] = x[a] - h;
        if (!rc) rc = map(ctx, xx, om, err);
        xx[a] = x[a];
        for (size_t k = 0; k < nout; k++) Jt[k * D + a] = (op[k] - om[k]) / (2 * h);
    }
    for (size_t k = 0; k < nout && !rc; k++) {
        const double *row = Jt + k * D;
        double v = 0;
        for (size_t a = 0; a < D; a++) {
            if (row[a] == 0) continue;
            double s = 0;
            for (size_t b = 0; b < D; b++) s += V[a * D + b] * row[b];
            v += row[a] * s;
        }
        se[k] = v > 0 ? sqrt(v) : 0.0;
    }
done:
    ls_free(xx);
    ls_free(op);
    ls_free(om);
    ls_free(Jt);
    return rc;
}

void ls_standardise_columns(const double *X, size_t n, size_t p, double *Xs, double *mean, double *sd)
{
    for (size_t s = 0; s < p; s++) {
        double mu = 0, ss = 0;
        for (size_t i = 0; i < n; i++) mu += X[i * p + s] / (double)n;
        for (size_t i = 0; i < n; i++) ss += (X[i * p + s] - mu) * (X[i * p + s] - mu);
        double v = sqrt(ss / (double)n);
        mean[s] = mu;
        sd[s] = v > 0 ? v : 1.0;
        for (size_t i = 0; i < n; i++) Xs[i * p + s] = (X[i * p + s] - mu) / sd[s];
    }
}
