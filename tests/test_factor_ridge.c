/*
 * test_factor_ridge.c -- the cross-validated choice of joint ML's ridge
 * (ls_factor_options.ridge = -1, src/factor/ridge.c): the folds keep every
 * person and item in training; on a simulated short test the chosen ridge
 * predicts the unobserved cells' true probabilities better than a small and
 * a large fixed ridge; the choice is the same for the same seed whatever
 * the number of threads; the option's checks; progress and cancellation;
 * and on the bfi data (skipped when ../shared/data is absent) what it picks
 * and how its loadings compare with marginal ML's.
 *
 * `test_factor_ridge --quick` leaves out the real data.
 */
#include "harness.h"
#include "factor_sim.h"
#include "factor/fit.h"
#include "kernel/core.h"

#include <stdlib.h>

static int quick;


static double logistic(double w) { return 1.0 / (1.0 + exp(-w)); }

/* Root mean squared difference between the fitted and the true
 * probabilities over the cells the data left unobserved (Bernoulli, no
 * covariates). */
static double unobserved_rmse(const lsf_sim *s, const lsf_fit *f)
{
    const size_t r = s->r, p1 = s->p + 1;
    double ss = 0;
    size_t c = 0;
    for (size_t i = 0; i < s->n; i++)
        for (size_t j = 0; j < s->q; j++) {
            if (!isnan(s->Y[i * s->q + j])) continue;
            double wt = s->beta[j * p1], wf = f->beta[j * p1];
            for (size_t a = 0; a < r; a++) {
                wt += s->gamma[j * r + a] * s->U[i * r + a];
                wf += f->gamma[j * r + a] * f->U[i * r + a];
            }
            double dp = logistic(wf) - logistic(wt);
            ss += dp * dp;
            c++;
        }
    return c ? sqrt(ss / (double)c) : NAN;
}

/* ---------------------------------------------------------------- */

static void folds_keep_every_person_and_item_in_training(void)
{
    lsf_sim s;
    ls_error e;
    const size_t n = 400, q = 20;
    const unsigned K = LSF_CV_FOLDS;
    CHECK(lsf_simulate(n, q, 0, 2, LS_FACTOR_BERNOULLI, 0.2, 1.0, 0.3, 21, &s, &e) == 0);
    /* a person with one response and an item with three */
    s.Y[5 * q + 0] = 1;
    for (size_t j = 1; j < q; j++) s.Y[5 * q + j] = NAN;
    for (size_t i = 3; i < n; i++) s.Y[i * q + 7] = NAN;
    s.Y[0 * q + 7] = 0;
    s.Y[1 * q + 7] = 1;
    s.Y[2 * q + 7] = 1;
    ls_factor_data d = sim_data(&s);
    const ls_resp *R = &d.R;
    unsigned char *f1 = malloc(R->nnz), *f2 = malloc(R->nnz), *f3 = malloc(R->nnz);
    CHECK(lsf_ridge_folds(R, LS_FACTOR_BERNOULLI, K, 7, f1, &e) == 0);
    CHECK(lsf_ridge_folds(R, LS_FACTOR_BERNOULLI, K, 7, f2, &e) == 0);
    CHECK(lsf_ridge_folds(R, LS_FACTOR_BERNOULLI, K, 8, f3, &e) == 0);
    CHECK(memcmp(f1, f2, R->nnz) == 0);
    CHECK(memcmp(f1, f3, R->nnz) != 0);
    size_t held[LSF_CV_FOLDS + 1] = {0};
    for (size_t c = 0; c < R->nnz; c++) held[f1[c] <= K ? f1[c] : K]++;
    size_t bad_person = 0, bad_item = 0;
    for (unsigned k = 0; k < K; k++) {
        /* every person with two or more responses keeps one in training */
        for (size_t i = 0; i < n; i++) {
            size_t tr = 0, len = R->rp[i + 1] - R->rp[i];
            for (size_t c = R->rp[i]; c < R->rp[i + 1]; c++) tr += f1[c] != k;
            bad_person += len > 0 && tr == 0;
        }
        /* every item keeps two and both of its values */
        for (size_t j = 0; j < q; j++) {
            size_t tr = 0, t0 = 0, t1 = 0;
            for (size_t i = 0; i < n; i++)
                for (size_t c = R->rp[i]; c < R->rp[i + 1]; c++)
                    if (R->ri[c] == j && f1[c] != k) {
                        tr++;
                        t0 += R->rv[c] == 0;
                        t1 += R->rv[c] == 1;
                    }
            bad_item += tr < 2 || !t0 || !t1;
        }
    }
    CHECK(bad_person == 0);
    CHECK(bad_item == 0);
    /* the person with one response and the item with three are never held out whole */
    CHECK(f1[R->rp[5]] == K);
    /* folds of nearly equal size */
    double share = (double)(R->nnz - held[K]) / K;
    for (unsigned k = 0; k < K; k++) CHECK_MSG(fabs((double)held[k] - share) < 0.05 * share, "fold %u: %zu", k, held[k]);
    printf("  %zu responses: folds of %zu %zu %zu %zu %zu, %zu never held out\n", R->nnz, held[0], held[1],
           held[2], held[3], held[4], held[K]);
    free(f1);
    free(f2);
    free(f3);
    lsf_data_view_free(&d);
    lsf_sim_free(&s);
}

typedef struct prog_log {
    size_t calls, cv_calls, cancel_after;
    double last_done, total;
} prog_log;

static int log_progress(void *ctx, const char *stage, double done, double total)
{
    prog_log *p = ctx;
    p->calls++;
    if (strcmp(stage, "ridge cross-validation") == 0) {
        p->cv_calls++;
        p->last_done = done;
        p->total = total;
    }
    return p->cancel_after && p->calls >= p->cancel_after;
}

/* Simulated short test: 500 persons x 20 binary items, 2 factors, 20 % of
 * the cells unobserved.  The cross-validated ridge must predict those
 * cells' true probabilities better than ridge 0.1 (joint ML nearly
 * unpenalised: persons separate) and ridge 100 (factors shrunk away). */
static void cv_ridge_predicts_unobserved_cells_better_than_fixed_ones(void)
{
    lsf_sim s;
    ls_error e;
    CHECK(lsf_simulate(500, 20, 0, 2, LS_FACTOR_BERNOULLI, 0.2, 1.0, 0.2, 29, &s, &e) == 0);
    ls_factor_data d = sim_data(&s);
    ls_factor_options o;
    ls_factor_options_init(&o);
    o.factors = 2;
    o.skip_se = 1;
    o.ridge = -1;
    prog_log pl;
    memset(&pl, 0, sizeof pl);
    o.progress = log_progress;
    o.progress_ctx = &pl;
    lsf_fit fa, fb;
    ls_result *ra = NULL, *rb = NULL;
    int rc = run_fit(&d, &o, &ra, &fa, &e);
    CHECK_MSG(rc == 0, "%s", e.message);
    if (rc) goto out;
    const lsf_ridge_cv *cv = &fa.ridge_cv;
    CHECK(cv->folds == LSF_CV_FOLDS && cv->m >= 5 && cv->best < cv->m);
    CHECK(fa.ridge == cv->grid[cv->best]);
    for (size_t k = 0; k < cv->m; k++) CHECK(cv->score[cv->best] >= cv->score[k]);
    for (size_t k = 1; k < cv->m; k++) CHECK(cv->grid[k] > cv->grid[k - 1]);
    CHECK(cv->heldout + cv->kept == d.R.nnz);
    /* progress: the cross-validation reported its fits, then the sweeps */
    CHECK(pl.cv_calls > 0 && pl.calls > pl.cv_calls);
    CHECK(pl.last_done == cv->fits - 1 && pl.last_done < pl.total);
    printf("  cross-validation: %u fits; ridge chosen %.3g (score %.4f, se %.4f)\n", cv->fits, fa.ridge,
           cv->score[cv->best], cv->se[cv->best]);
    printf("  grid:");
    for (size_t k = 0; k < cv->m; k++) printf(" %.3g:%.4f", cv->grid[k], cv->score[k]);
    printf("\n");
    double err_auto = unobserved_rmse(&s, &fa);
    const double fixed[2] = {0.1, 100};
    double err_fixed[2];
    for (int t = 0; t < 2; t++) {
        ls_factor_options of = o;
        of.ridge = fixed[t];
        of.progress = NULL;
        lsf_fit ff;
        ls_result *rf = NULL;
        CHECK_MSG(run_fit(&d, &of, &rf, &ff, &e) == 0, "%s", e.message);
        err_fixed[t] = rf ? unobserved_rmse(&s, &ff) : NAN;
        CHECK(rf && ff.ridge_cv.folds == 0);
        ls_result_free(rf);
    }
    printf("  RMSE of the unobserved cells' probabilities: cv %.4f, ridge 0.1 %.4f, ridge 100 %.4f\n", err_auto,
           err_fixed[0], err_fixed[1]);
    CHECK(err_auto < err_fixed[0]);
    CHECK(err_auto < err_fixed[1]);
    /* the same seed, one thread: the same choice and the same fit */
    ls_factor_options o1 = o;
    o1.threads = 1;
    o1.progress = NULL;
    rc = run_fit(&d, &o1, &rb, &fb, &e);
    CHECK_MSG(rc == 0, "%s", e.message);
    if (!rc) {
        CHECK(fb.ridge == fa.ridge && fb.ridge_cv.m == cv->m);
        CHECK(memcmp(fb.ridge_cv.score, cv->score, cv->m * sizeof *cv->score) == 0);
        CHECK(memcmp(fb.gamma, fa.gamma, 20 * 2 * sizeof *fa.gamma) == 0);
        CHECK(fb.loglik == fa.loglik);
    }
out:
    ls_result_free(ra);
    ls_result_free(rb);
    lsf_data_view_free(&d);
    lsf_sim_free(&s);
}

/* The result's entries and the option's checks; a cancel during the
 * cross-validation stops the fit. */
static void options_entries_and_cancel(void)
{
    ls_factor_options o;
    ls_error e;
    ls_factor_options_init(&o);
    o.ridge = -1;
    CHECK(ls_factor_options_check(&o, &e) == 0);
    const double bad[3] = {-2, -0.5, INFINITY};
    for (int t = 0; t < 3; t++) {
        o.ridge = bad[t];
        CHECK(ls_factor_options_check(&o, &e) == LS_ERR_OPTION &&
              strcmp(e.message, "ridge: expected a number >= 0, or -1 (auto: chosen by cross-validation)") == 0);
    }
    o.ridge = -1;
    o.method = LS_FACTOR_MML;
    CHECK(ls_factor_options_check(&o, &e) == LS_ERR_OPTION &&
          strcmp(e.message, "method mml: ridge is a joint-ML penalty; marginal ML needs none") == 0);
    /* auto's estimator choice takes joint ML with a ridge to choose */
    lsf_sim s;
    CHECK(lsf_simulate(150, 12, 0, 1, LS_FACTOR_BERNOULLI, 0.2, 1.0, 0.0, 3, &s, &e) == 0);
    ls_factor_data d = sim_data(&s);
    o.method = LS_FACTOR_AUTO;
    o.skip_se = 1;
    o.starts = 1;
    const char *why = NULL;
    CHECK(lsf_choose_method(&d, &o, &why) == LS_FACTOR_JML);
    ls_result *r = NULL;
    CHECK_MSG(ls_factor_run(&d, &o, &r, &e) == 0, "%s", e.message);
    if (r) {
        size_t m = 0;
        const double *g = ls_result_numbers(r, "ridge_cv_grid", &m, NULL);
        const double *sc = ls_result_numbers(r, "ridge_cv_score", NULL, NULL);
        size_t b = (size_t)ls_result_number(r, "ridge_cv_best");
        CHECK(g && sc && m >= 5 && b < m);
        CHECK(g && ls_result_number(r, "ridge") == g[b]);
        CHECK(ls_result_number(r, "ridge_cv_folds") == LSF_CV_FOLDS);
        CHECK(ls_result_number(r, "ridge_cv_heldout") > 0.9 * 150 * 12);
        ls_result_free(r);
    }
    /* a given ridge has no cross-validation entries */
    o.ridge = 3;
    CHECK(ls_factor_run(&d, &o, &r, &e) == 0);
    if (r) CHECK(ls_result_numbers(r, "ridge_cv_grid", NULL, NULL) == NULL);
    ls_result_free(r);
    r = NULL;
    /* cancelled in the middle of the cross-validation */
    o.ridge = -1;
    prog_log pl;
    memset(&pl, 0, sizeof pl);
    pl.cancel_after = 40;
    o.progress = log_progress;
    o.progress_ctx = &pl;
    CHECK(ls_factor_run(&d, &o, &r, &e) == LS_ERR_CANCEL && r == NULL && strcmp(e.message, "interrupted") == 0);
    CHECK(pl.calls == 40 && pl.cv_calls == 40);
    lsf_data_view_free(&d);
    lsf_sim_free(&s);
}

/* A failed allocation anywhere in the cross-validation is reported as
 * such (and, under the sanitizers, leaks nothing). */
static void allocation_failures_are_reported_cleanly(void)
{
    lsf_sim s;
    ls_error e;
    CHECK(lsf_simulate(40, 8, 1, 1, LS_FACTOR_BERNOULLI, 0.2, 1.0, 0.1, 23, &s, &e) == 0);
    ls_factor_data d = sim_data(&s);
    ls_factor_options o;
    ls_factor_options_init(&o);
    o.starts = 1;
    o.max_iter = 3;
    o.ridge = -1;
    size_t failures = 0, successes = 0;
    for (long k = 1; k < 1100; k += k < 200 ? 1 : 13) { /* the early ones, then a sample */
        ls_result *r = NULL;
        ls_fault_set(k);
        int rc = ls_factor_run(&d, &o, &r, &e);
        ls_fault_set(0);
        CHECK(rc == 0 || rc == LS_ERR_NOMEM);
        CHECK((rc == 0) == (r != NULL));
        if (rc == LS_ERR_NOMEM) failures++;
        else successes++;
        ls_result_free(r);
    }
    printf("  %zu runs failed an allocation, %zu succeeded\n", failures, successes);
    CHECK(failures > 20 && successes > 0);
    lsf_data_view_free(&d);
    lsf_sim_free(&s);
}

/* ---------------------------------------------------------------- */
/* bfi                                                               */
/* ---------------------------------------------------------------- */

/* Mean over items of the loading vectors' lengths (rotation-invariant: the
 * loadings are in the units of factors with U'U/n = I or N(0, I)). */
static double mean_loading_length(const double *g, size_t q, size_t r, double *len)
{
    double m = 0;
    for (size_t j = 0; j < q; j++) {
        double s = 0;
        for (size_t a = 0; a < r; a++) s += g[j * r + a] * g[j * r + a];
        len[j] = sqrt(s);
        m += len[j] / (double)q;
    }
    return m;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void bfi_cross_validated_ridge(void)
{
    char buf[1024];
    const char *path = h_shared_data("bfi.csv", buf, sizeof buf);
    if (!path) return;
    ls_table *t;
    ls_error e;
    CHECK_MSG(ls_items_table_read(path, &t, &e) == 0, "%s", e.message);
    ls_factor_data *d = NULL;
    CHECK_MSG(ls_factor_data_build(t, "A*,C*,E*,N*,O*", NULL, 4, LS_FACTOR_BERNOULLI, &d, &e) == 0, "%s",
              e.message);
    ls_table_free(t);
    if (!d) return;
    /* r = 5 under the anchors of docs/FACTOR.md */
    ls_factor_options o;
    ls_factor_options_init(&o);
    o.factors = 5;
    o.identify = LS_FACTOR_ANCHOR;
    size_t an[5];
    const char *anames[5] = {"A2", "C1", "E3", "N1", "O1"};
    for (int k = 0; k < 5; k++)
        for (size_t j = 0; j < d->q; j++)
            if (strcmp(d->items[j], anames[k]) == 0) an[k] = j;
    o.anchors = an;
    o.ridge = -1;
    lsf_fit f;
    ls_result *fr = NULL;
    int rc = run_fit(d, &o, &fr, &f, &e);
    CHECK_MSG(rc == 0, "%s", e.message);
    if (!rc) {
        const lsf_ridge_cv *cv = &f.ridge_cv;
        printf("  bfi r = 5 (anchors A2 C1 E3 N1 O1): ridge chosen %.3g by %u fits, %u sweeps\n", f.ridge, cv->fits,
               f.iterations);
        printf("  grid:");
        for (size_t k = 0; k < cv->m; k++) printf(" %.3g:%.4f(%.4f)", cv->grid[k], cv->score[k], cv->se[k]);
        printf("\n");
        /* the curve has an interior maximum: neither end of the range */
        CHECK(cv->best > 0 && cv->best + 1 < cv->m);
        CHECK(f.ridge > 1 && f.ridge < 100);
        CHECK(f.converged);
    }
    ls_result_free(fr);
    /* r = 3, orthogonal: the loadings' scale against marginal ML */
    ls_factor_options_init(&o);
    o.factors = 3;
    o.ridge = -1;
    o.skip_se = 1;
    lsf_fit fj, fm;
    ls_result *rj = NULL, *rm = NULL;
    rc = run_fit(d, &o, &rj, &fj, &e);
    CHECK_MSG(rc == 0, "%s", e.message);
    ls_factor_options om;
    ls_factor_options_init(&om);
    om.factors = 3;
    om.method = LS_FACTOR_MML;
    om.skip_se = 1;
    int rc2 = run_fit(d, &om, &rm, &fm, &e);
    CHECK_MSG(rc2 == 0, "%s", e.message);
    if (!rc && !rc2) {
        double lj[25], lm[25], ratio[25];
        double mj = mean_loading_length(fj.gamma, 25, 3, lj), mm = mean_loading_length(fm.gamma, 25, 3, lm);
        for (size_t j = 0; j < 25; j++) ratio[j] = lj[j] / lm[j];
        qsort(ratio, 25, sizeof *ratio, cmp_double);
        printf("  bfi r = 3 (orthogonal): ridge chosen %.3g; mean loading length JML %.3f, MML %.3f (ratio %.3f); "
               "per item ratio median %.3f, range %.3f-%.3f\n", fj.ridge, mj, mm, mj / mm, ratio[12], ratio[0],
               ratio[24]);
        /* the penalty shrinks: the loadings are smaller than marginal ML's,
         * but the factors are not erased */
        CHECK(mj < mm && mj > 0.3 * mm);
    }
    ls_result_free(rj);
    ls_result_free(rm);
    ls_factor_data_free(d);
}

int main(int argc, char **argv)
{
    quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    RUN(folds_keep_every_person_and_item_in_training);
    RUN(options_entries_and_cancel);
    RUN(allocation_failures_are_reported_cleanly);
    RUN(cv_ridge_predicts_unobserved_cells_better_than_fixed_ones);
    if (!quick) RUN(bfi_cross_validated_ridge);
    return h_finish();
}
