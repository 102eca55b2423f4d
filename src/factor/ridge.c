/*
 * ridge.c -- the data-driven choice of the nuclear-norm ridge of joint ML
 * (ls_factor_options.ridge = -1; the CLI's --ridge auto): K-fold
 * cross-validation over held-out observed responses (docs/FACTOR.md,
 * "Choosing the ridge").
 *
 * Folds.  Each person's responses are shuffled and dealt to the K folds in
 * turn from a random fold, so a person with two or more responses keeps at
 * least one in every fold's training responses and the held-out responses
 * of an item spread evenly over the folds; a person's only response is
 * never held out, and a held-out response goes back to training when its
 * item would keep fewer than two training responses in that fold (or, for
 * binary items, lose every 0 or every 1 it has).
 *
 * Scores.  For a ridge, each fold's training responses (a copy of the data's
 * observed cells without the held-out ones) are fitted from the
 * principal-components start (the full fit's first start) with the same
 * bound, tolerance and sweeps; the held-out responses are scored by their
 * log-likelihood at the training fit's person scores, loadings and
 * intercepts (the predictive log-likelihood; it does not depend on the
 * identification).  The score of a ridge is the mean over every held-out
 * response, its standard error the SD of the K fold means over sqrt(K).
 *
 * Search.  Ridges 100, 31.6, 10, .., 0.1 (half decades, downwards: the
 * large ridges are the cheap fits) until the score has fallen at two
 * consecutive ridges below the best; a best at an end extends the search by
 * half decades (to 1000 or 0.01); then quarter and eighth decades on both
 * sides of the best.  The choice is the best mean score (ties: the larger
 * ridge).  Deterministic given the seed whatever the number of threads
 * (the sweeps are; the scores are summed in order).
 */
#include "factor/fit.h"

#include <math.h>
#include <string.h>

int lsf_ridge_folds(const ls_resp *R, int family, unsigned K, uint64_t seed, unsigned char *fold, ls_error *err)
{
    const size_t n = R->n, q = R->q, nnz = R->nnz;
    size_t maxlen = 1;
    for (size_t i = 0; i < n; i++)
        if (ls_resp_person_count(R, i) > maxlen) maxlen = ls_resp_person_count(R, i);
    size_t *perm = ls_malloc(maxlen * sizeof *perm), *pos = ls_malloc((q ? q : 1) * sizeof *pos),
           *c2r = ls_malloc((nnz ? nnz : 1) * sizeof *c2r);
    if (!perm || !pos || !c2r) {
        ls_free(perm);
        ls_free(pos);
        ls_free(c2r);
        return ls_nomem(err);
    }
    ls_rng g = {(seed + 101) * 0x9E3779B97F4A7C15ULL + 0xC0FFEEULL};
    for (size_t i = 0; i < n; i++) {
        const size_t k0 = R->rp[i], len = R->rp[i + 1] - k0;
        if (len < 2) {
            for (size_t a = 0; a < len; a++) fold[k0 + a] = (unsigned char)K;
            continue;
        }
        for (size_t a = 0; a < len; a++) perm[a] = a;
        for (size_t a = len - 1; a > 0; a--) {
            size_t b = (size_t)(ls_rng_next(&g) % (a + 1)), t = perm[a];
            perm[a] = perm[b];
            perm[b] = t;
        }
        unsigned off = (unsigned)(ls_rng_next(&g) % K);
        for (size_t t = 0; t < len; t++) fold[k0 + perm[t]] = (unsigned char)((off + t) % K);
    }
    /* the person-order index of every item-order cell */
    for (size_t j = 0; j < q; j++) pos[j] = R->cp[j];
    for (size_t i = 0; i < n; i++)
        for (size_t e = R->rp[i]; e < R->rp[i + 1]; e++) c2r[pos[R->ri[e]]++] = e;
    const int binary = family == LS_FACTOR_BERNOULLI || family == LS_FACTOR_PROBIT;
    for (size_t j = 0; j < q; j++) {
        int has0 = 0, has1 = 0;
        for (size_t c = R->cp[j]; c < R->cp[j + 1]; c++) {
            has0 |= R->cv[c] == 0.0;
            has1 |= R->cv[c] == 1.0;
        }
        for (unsigned k = 0; k < K; k++) {
            size_t tr = 0, tr0 = 0, tr1 = 0;
            for (size_t c = R->cp[j]; c < R->cp[j + 1]; c++) {
                if (fold[c2r[c]] == k) continue;
                tr++;
                tr0 += R->cv[c] == 0.0;
                tr1 += R->cv[c] == 1.0;
            }
            for (size_t c = R->cp[j]; c < R->cp[j + 1]; c++) {
                const int few = tr < 2, no0 = binary && has0 && !tr0, no1 = binary && has1 && !tr1;
                if (!few && !no0 && !no1) break;
                const size_t e = c2r[c];
                if (fold[e] != k) continue;
                const double y = R->rv[e];
                if (few || (no0 && y == 0.0) || (no1 && y == 1.0)) {
                    fold[e] = (unsigned char)K;
                    tr++;
                    tr0 += y == 0.0;
                    tr1 += y == 1.0;
                }
            }
        }
    }
    ls_free(perm);
    ls_free(pos);
    ls_free(c2r);
    return LS_OK;
}

/* The run's progress: one step per fit, reported (and the cancel asked)
 * at every sweep. */
typedef struct cv_prog {
    ls_progress_fn fn;
    void *ctx;
    double done, total;
} cv_prog;

static int cv_progress(void *ctx, const char *stage, double done, double total)
{
    (void)stage;
    (void)done;
    (void)total;
    cv_prog *p = ctx;
    return p->fn(p->ctx, "ridge cross-validation", p->done, p->total > p->done ? p->total : p->done + 1);
}

typedef struct cv_ctx {
    const ls_factor_data *d;
    ls_factor_options o; /* the user's, with the progress wrapped */
    unsigned K;
    const unsigned char *fold;
    ls_resp T;           /* the training responses of the current fold   */
    size_t *pos;         /* q scratch                                     */
    lsf_model m;         /* over T                                        */
    cv_prog prog;
} cv_ctx;

/* Fold k's training responses into c->T (its arrays hold every response). */
static void fill_training(cv_ctx *c, unsigned k)
{
    const ls_resp *R = &c->d->R;
    ls_resp *T = &c->T;
    const size_t n = R->n, q = R->q;
    size_t t = 0;
    memset(T->cp, 0, (q + 1) * sizeof *T->cp);
    T->rp[0] = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t e = R->rp[i]; e < R->rp[i + 1]; e++) {
            if (c->fold[e] == k) continue;
            T->ri[t] = R->ri[e];
            T->rv[t++] = R->rv[e];
            T->cp[R->ri[e] + 1]++;
        }
        T->rp[i + 1] = t;
    }
    T->nnz = t;
    for (size_t j = 0; j < q; j++) T->cp[j + 1] += T->cp[j];
    for (size_t j = 0; j < q; j++) c->pos[j] = T->cp[j];
    for (size_t i = 0; i < n; i++) /* persons increase within an item */
        for (size_t e = T->rp[i]; e < T->rp[i + 1]; e++) {
            const size_t j = T->ri[e];
            T->ci[c->pos[j]] = (uint32_t)i;
            T->cv[c->pos[j]++] = T->rv[e];
        }
}

/* The log-likelihood of fold k's held-out responses at the model's
 * parameters; *cnt gets their number. */
static double heldout_loglik(const cv_ctx *c, unsigned k, size_t *cnt)
{
    const ls_resp *R = &c->d->R;
    const lsf_model *m = &c->m;
    const size_t r = m->r, d = m->d, p1 = m->p1;
    double ll = 0;
    *cnt = 0;
    for (size_t i = 0; i < R->n; i++)
        for (size_t e = R->rp[i]; e < R->rp[i + 1]; e++) {
            if (c->fold[e] != k) continue;
            const size_t j = R->ri[e];
            const double *t = m->T + j * d, *u = m->U + i * r, *x = m->X1 + i * p1;
            double w = 0;
            for (size_t a = 0; a < r; a++) w += t[a] * u[a];
            for (size_t s = 0; s < p1; s++) w += t[r + s] * x[s];
            ll += lsf_cell(m->family, R->rv[e], w, m->s2[j], NULL, NULL);
            (*cnt)++;
        }
    return ll;
}

/* The cross-validated score of one ridge: mean held-out log-likelihood per
 * response, its standard error, and the folds whose fit did not converge.
 * A fit whose log-likelihood is not finite scores -inf. */
static int cv_point(cv_ctx *c, double ridge, double *score, double *se, unsigned *unconv, ls_error *err)
{
    double fm[256], sum = 0;
    size_t tot = 0;
    *unconv = 0;
    for (unsigned k = 0; k < c->K; k++) {
        fill_training(c, k);
        c->m.ridge = ridge;
        double ll;
        unsigned it;
        int conv = 0;
        int rc = lsf_fit_start(&c->m, &c->o, 0, &ll, &it, &conv, err);
        c->prog.done++;
        if (rc == LS_ERR_NUMERIC) {
            *score = -INFINITY;
            *se = NAN;
            *unconv = c->K;
            c->prog.done += c->K - 1 - k;
            return LS_OK;
        }
        if (rc) return rc;
        if (!conv) (*unconv)++;
        size_t cnt;
        double s = heldout_loglik(c, k, &cnt);
        fm[k] = s / (double)cnt;
        sum += s;
        tot += cnt;
    }
    *score = sum / (double)tot;
    double mf = 0, v = 0;
    for (unsigned k = 0; k < c->K; k++) mf += fm[k] / c->K;
    for (unsigned k = 0; k < c->K; k++) v += (fm[k] - mf) * (fm[k] - mf);
    *se = sqrt(v / (c->K - 1) / c->K);
    if (!isfinite(*score)) *score = -INFINITY;
    return LS_OK;
}

typedef struct cv_search {
    int done[LSF_CV_NGRID];
    double score[LSF_CV_NGRID], se[LSF_CV_NGRID];
    unsigned unconv[LSF_CV_NGRID];
} cv_search;

static double ridge_at(int e) { return pow(10.0, e / 8.0); }

/* Evaluate grid point e (eighths of a decade) once. */
static int visit(cv_ctx *c, cv_search *s, int e, ls_error *err)
{
    const int x = e - LSF_CV_EMIN;
    if (s->done[x]) return LS_OK;
    int rc = cv_point(c, ridge_at(e), &s->score[x], &s->se[x], &s->unconv[x], err);
    if (!rc) s->done[x] = 1;
    return rc;
}

/* The best evaluated point: the largest score, the largest ridge on ties. */
static int best_point(const cv_search *s)
{
    int best = LSF_CV_EMAX + 1;
    for (int e = LSF_CV_EMAX; e >= LSF_CV_EMIN; e--) {
        const int x = e - LSF_CV_EMIN;
        if (!s->done[x]) continue;
        if (best > LSF_CV_EMAX || s->score[x] > s->score[best - LSF_CV_EMIN]) best = e;
    }
    return best;
}

static int search(cv_ctx *c, cv_search *s, ls_error *err)
{
    int rc = LS_OK, best = 0, worse = 0, stopped = 0;
    double bs = -INFINITY;
    /* half decades from 100 down to 0.1 */
    for (int e = 16; e >= -8; e -= 4) {
        if ((rc = visit(c, s, e, err))) return rc;
        const double sc = s->score[e - LSF_CV_EMIN];
        if (e == 16 || sc > bs) {
            best = e;
            bs = sc;
            worse = 0;
        } else if (++worse == 2) {
            stopped = 1;
            break;
        }
    }
    /* a best at an end: further by half decades while the score improves */
    if (best == 16)
        for (int e = 20; e <= LSF_CV_EMAX; e += 4) {
            if ((rc = visit(c, s, e, err))) return rc;
            if (!(s->score[e - LSF_CV_EMIN] > bs)) break;
            best = e;
            bs = s->score[e - LSF_CV_EMIN];
        }
    if (!stopped && best == -8)
        for (int e = -12; e >= LSF_CV_EMIN; e -= 4) {
            if ((rc = visit(c, s, e, err))) return rc;
            if (!(s->score[e - LSF_CV_EMIN] > bs)) break;
            best = e;
            bs = s->score[e - LSF_CV_EMIN];
        }
    /* quarter, then eighth decades around the best, within the range searched */
    int lo = LSF_CV_EMAX, hi = LSF_CV_EMIN;
    for (int e = LSF_CV_EMIN; e <= LSF_CV_EMAX; e++)
        if (s->done[e - LSF_CV_EMIN]) {
            lo = e < lo ? e : lo;
            hi = e > hi ? e : hi;
        }
    for (int h = 2; h >= 1; h /= 2) {
        best = best_point(s);
        if (best + h <= hi && (rc = visit(c, s, best + h, err))) return rc;
        if (best - h >= lo && (rc = visit(c, s, best - h, err))) return rc;
    }
    return LS_OK;
}

int lsf_ridge_cv_run(const ls_factor_data *d, const ls_factor_options *o, double bound, lsf_ridge_cv *cv,
                     ls_error *err)
{
    memset(cv, 0, sizeof *cv);
    const unsigned K = LSF_CV_FOLDS;
    const ls_resp *R = &d->R;
    const size_t n = d->n, q = d->q, nnz = R->nnz, m1 = nnz ? nnz : 1;
    cv_ctx c;
    memset(&c, 0, sizeof c);
    c.d = d;
    c.o = *o;
    c.K = K;
    unsigned char *fold = ls_malloc(m1 * sizeof *fold);
    c.pos = ls_malloc((q ? q : 1) * sizeof *c.pos);
    c.T.n = n;
    c.T.q = q;
    c.T.rp = ls_calloc(n + 1, sizeof *c.T.rp);
    c.T.cp = ls_calloc(q + 1, sizeof *c.T.cp);
    c.T.ri = ls_malloc(m1 * sizeof *c.T.ri);
    c.T.rv = ls_malloc(m1 * sizeof *c.T.rv);
    c.T.ci = ls_malloc(m1 * sizeof *c.T.ci);
    c.T.cv = ls_malloc(m1 * sizeof *c.T.cv);
    int rc = LS_OK, have_model = 0;
    if (!fold || !c.pos || !c.T.rp || !c.T.cp || !c.T.ri || !c.T.rv || !c.T.ci || !c.T.cv) {
        rc = ls_nomem(err);
        goto done;
    }
    c.fold = fold;
    if ((rc = lsf_ridge_folds(R, o->family, K, o->seed, fold, err))) goto done;
    size_t held[LSF_CV_FOLDS] = {0};
    for (size_t e = 0; e < nnz; e++)
        if (fold[e] < K) held[fold[e]]++;
        else cv->kept++;
    for (unsigned k = 0; k < K; k++) {
        if (!held[k]) {
            rc = ls_fail(err, LS_ERR_OPTION,
                         "ridge: auto's cross-validation holds out responses in %u folds; these data leave fold %u "
                         "none (too few persons with two or more responses): give a ridge",
                         K, k + 1);
            goto done;
        }
        cv->heldout += held[k];
    }
    rc = lsf_model_init(&c.m, &c.T, d->X, n, q, d->p, o->factors, o->family, bound, o->threads, err);
    if (rc) goto done;
    have_model = 1;
    c.prog.fn = o->progress;
    c.prog.ctx = o->progress_ctx;
    c.prog.total = (double)K * 11; /* 7 half decades and 4 refinements, typically fewer */
    c.o.progress = o->progress ? cv_progress : NULL;
    c.o.progress_ctx = &c.prog;
    cv_search s;
    memset(&s, 0, sizeof s);
    if ((rc = search(&c, &s, err))) goto done;
    const int best = best_point(&s);
    cv->folds = K;
    for (int e = LSF_CV_EMIN; e <= LSF_CV_EMAX; e++) {
        const int x = e - LSF_CV_EMIN;
        if (!s.done[x]) continue;
        if (e == best) cv->best = cv->m;
        cv->grid[cv->m] = ridge_at(e);
        cv->score[cv->m] = s.score[x];
        cv->se[cv->m] = s.se[x];
        cv->unconverged[cv->m++] = s.unconv[x];
    }
    cv->fits = (unsigned)c.prog.done;
    if (!isfinite(cv->score[cv->best]))
        rc = ls_fail(err, LS_ERR_NUMERIC, "ridge: no ridge of the cross-validation gave a finite held-out "
                                          "log-likelihood");
done:
    if (have_model) lsf_model_free(&c.m);
    ls_resp_free(&c.T);
    ls_free(c.pos);
    ls_free(fold);
    if (rc) memset(cv, 0, sizeof *cv);
    return rc;
}
