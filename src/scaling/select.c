/*
 * select.c -- choosing the number of skills K (spec "Inference and
 * downstream tasks"): for every K the full-data fit gives the
 * log-likelihood, AIC and BIC; with folds > 1, families are split into
 * seeded folds and each fold's families are scored by their marginal
 * log-likelihood under the fit to the other folds (the held-out predictive
 * log score of whole families).  And the criterion users care about,
 * extrapolation to a larger sibling: the largest model of every family with
 * two or more models is held out, the law refitted to the other rows, and
 * the held-out scores predicted (MAE of the predictive median, 50 family
 * draws, no parameter draws).  The full fits run first, in parallel (one
 * thread each); then the folds and the sibling hold-out, each started from
 * its K's full-data estimate with one start.  Results do not depend on the
 * thread count.
 */
#include "scaling/tasks.h"
#include "scaling/fit_impl.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void lss_selection_free(void *v)
{
    lss_selection *s = v;
    if (!s) return;
    ls_free(s->K);
    ls_free(s->loglik);
    ls_free(s->aic);
    ls_free(s->bic);
    ls_free(s->cv);
    ls_free(s->nparams);
    ls_free(s->converged);
    ls_free(s->sampled);
    ls_free(s->sibling);
    ls_free(s->refits);
    ls_free(s->refits_unconverged);
    ls_free(s->sib_abs);
    ls_free(s->sib_cells);
    ls_free(s->warning);
    if (s->cfg) lss_config_clear(s->cfg);
    ls_free(s->cfg);
    ls_free(s);
}

int lss_selection_result(lss_selection *s, ls_result **out, ls_error *err)
{
    *out = NULL;
    ls_result *r = NULL;
    int rc = ls_result_new("selection", s, lss_selection_free, &r, err);
    if (rc) return rc;
    size_t nk = s->nk;
    rc = ls_result_add_sizes(r, "K", s->K, nk, 1, NULL, NULL, err);
    if (!rc) rc = ls_result_add_numbers(r, "loglik", s->loglik, nk, 1, NULL, NULL, err);
    if (!rc) rc = ls_result_add_sizes(r, "n_params", s->nparams, nk, 1, NULL, NULL, err);
    if (!rc) rc = ls_result_add_numbers(r, "aic", s->aic, nk, 1, NULL, NULL, err);
    if (!rc) rc = ls_result_add_numbers(r, "bic", s->bic, nk, 1, NULL, NULL, err);
    if (!rc) rc = ls_result_add_numbers(r, "cv", s->cv, nk, 1, NULL, NULL, err);
    if (!rc) rc = ls_result_add_ints(r, "converged", s->converged, nk, 1, NULL, NULL, err);
    if (!rc) rc = ls_result_add_ints(r, "sampled", s->sampled, nk, 1, NULL, NULL, err);
    if (!rc) rc = ls_result_add_number(r, "best_aic", (double)s->best_aic, err);
    if (!rc) rc = ls_result_add_number(r, "best_bic", (double)s->best_bic, err);
    if (!rc) rc = ls_result_add_number(r, "best_cv", s->folds ? (double)s->best_cv : NAN, err);
    if (!rc && s->sibling) rc = ls_result_add_numbers(r, "sibling_mae", s->sibling, nk, 1, NULL, NULL, err);
    if (!rc) rc = ls_result_add_number(r, "best_sibling", s->has_sibling ? (double)s->best_sibling : NAN, err);
    if (!rc) rc = ls_result_add_number(r, "folds", s->folds, err);
    if (!rc) rc = ls_result_add_number(r, "seed", (double)s->seed, err);
    if (!rc) rc = ls_result_add_number(r, "reused", (double)s->reused, err);
    if (!rc && s->refits) rc = ls_result_add_sizes(r, "refits", s->refits, nk, 1, NULL, NULL, err);
    if (!rc && s->refits)
        rc = ls_result_add_sizes(r, "refits_not_converged", s->refits_unconverged, nk, 1, NULL, NULL, err);
    if (!rc && s->cfg && s->cfg->sel_nk) rc = lss_config_entries(r, s->cfg, "choice of configuration", 1, err);
    if (!rc && s->warning) rc = ls_result_warn(r, err, "%s", s->warning);
    for (size_t a = 0; !rc && a < nk; a++)
        if (!s->converged[a]) rc = ls_result_warn(r, err, "the fit with K = %zu did not converge", s->K[a]);
    for (size_t a = 0; !rc && s->refits && a < nk; a++)
        if (s->refits_unconverged[a])
            rc = ls_result_warn(r, err,
                                "K = %zu: %zu of its %zu refits (folds, sibling hold-out) did not converge; its "
                                "held-out scores come from their last estimates",
                                s->K[a], s->refits_unconverged[a], s->refits[a]);
    if (rc) {
        ls_result_free(r);
        return rc;
    }
    ls_result_set_writer(r, lss_write_selection);
    *out = r;
    return LS_OK;
}

/* A job's fit asks job_progress whether to stop: the shared flag, set when
 * the caller's progress function returned non-zero.  That function may be
 * called from the calling thread only, and a fit at large K runs for
 * minutes, so the calling thread fits nothing: it waits in poll_loop,
 * passing on each report a job leaves (pending) and repeating the last
 * one every POLL_SECONDS, so that an interrupt stops a select within a
 * fraction of a second (0.14.0: at the end of the next fit, 117 s at
 * K = 4 on the paper data).  Where the runtime gives a team of one, the
 * calling thread fits, reports its jobs at once and polls from its fits
 * (job_progress). */
#define POLL_SECONDS 0.25
typedef struct job_shared {
    volatile int cancel;
    ls_progress_fn fn;
    void *fn_ctx;
    char stage[96]; /* the last report, under critical(lss_select_job) */
    double done, total;
    int pending;    /* a report not yet passed to fn */
    struct timespec last_poll;
} job_shared;
typedef struct job_ctx {
    job_shared *sh;
    int caller; /* the job runs on the calling thread */
} job_ctx;

/* The calling thread while nworkers threads fit: reports and polls until
 * they are all done (*workers_done). */
static void poll_loop(job_shared *sh, const size_t *workers_done, size_t nworkers)
{
    const struct timespec nap = {0, 20000000}; /* 20 ms */
    for (;;) {
        size_t d;
        int c;
#pragma omp atomic read
        d = *workers_done;
#pragma omp atomic read
        c = sh->cancel;
        if (sh->fn && !c) {
            int stop = 0;
#pragma omp critical(lss_select_job)
            if (sh->pending || lsfit_since(&sh->last_poll) >= POLL_SECONDS) {
                clock_gettime(CLOCK_MONOTONIC, &sh->last_poll);
                stop = sh->fn(sh->fn_ctx, sh->stage, sh->done, sh->total);
                sh->pending = 0;
            }
            if (stop) {
#pragma omp atomic write
                sh->cancel = 1;
            }
        }
        if (d >= nworkers) return;
        nanosleep(&nap, NULL);
    }
}

static int job_progress(void *ctx, const char *stage, double done, double total)
{
    (void)stage; (void)done; (void)total;
    const job_ctx *c = ctx;
    job_shared *sh = c->sh;
    int v;
#pragma omp atomic read
    v = sh->cancel;
    if (v || !c->caller || !sh->fn || lsfit_since(&sh->last_poll) < POLL_SECONDS) return v;
    clock_gettime(CLOCK_MONOTONIC, &sh->last_poll); /* written by the calling thread only */
    int stop;
#pragma omp critical(lss_select_job)
    {
        stop = sh->fn(sh->fn_ctx, sh->stage, sh->done, sh->total);
        sh->pending = 0;
    }
    if (stop) {
#pragma omp atomic write
        sh->cancel = 1;
    }
    return stop;
}

/* Held-out score of the families in table `held` under fit f (trained on
 * data `train`): the held-out covariates are standardised with the
 * training means and sds, so f's theta applies as it is. */
static int heldout_loglik(const ls_fit *f, const ls_data *train, const ls_table *held,
                          const ls_data_options *o, double *ll, ls_error *err)
{
    ls_data *h = NULL;
    int rc = ls_data_build(held, o, &h, err);
    if (rc) return rc;
    for (size_t i = 0; i < h->n; i++)
        for (size_t q = 0; q < h->p; q++)
            h->x[i * h->p + q] = (h->x_raw[i * h->p + q] - train->x_mean[q]) / train->x_sd[q];
    /* a fit with a check rule is scored by it, like its in-sample value;
     * otherwise by its own rule */
    int ci = f->check_integration ? f->check_integration : f->opt.integration;
    unsigned cn = f->check_integration ? f->check_nodes : f->opt.nodes;
    rc = ls_check_loglik(h, &f->opt, 1, f->theta, &ci, &cn, ll, NULL, NULL, NULL, NULL, err);
    ls_data_free(h);
    return rc;
}

/* The best finite value of v (sign 1: the smallest, -1: the largest) among
 * the K whose full fit converged (refits_too: and all of whose refits did);
 * only when there is none, among all; ties keep the smaller K. */
static size_t choose_one(const lss_selection *s, const double *v, double sign, int refits_too)
{
    size_t best = s->nk;
    int best_ok = 0;
    for (size_t a = 0; a < s->nk; a++) {
        double x = sign * v[a];
        if (!isfinite(x)) continue;
        int ok = s->converged[a] && (!refits_too || !s->refits_unconverged || s->refits_unconverged[a] == 0);
        if (best == s->nk || (ok && !best_ok) || (ok == best_ok && x < sign * v[best])) {
            best = a;
            best_ok = ok;
        }
    }
    return best == s->nk ? 0 : best;
}

void lss_selection_choose(lss_selection *s)
{
    s->best_aic = choose_one(s, s->aic, 1, 0);
    s->best_bic = choose_one(s, s->bic, 1, 0);
    s->best_cv = s->folds ? choose_one(s, s->cv, -1, 1) : 0;
    s->best_sibling = s->has_sibling ? choose_one(s, s->sibling, 1, 1) : 0;
}

/* MAE of the predictive median of the held-out rows te under fit f (plug-in
 * parameters, 50 family draws): extrapolation to a larger sibling.  Each
 * row's summed absolute error goes to row_abs (NULL: not wanted), its
 * scored cells to row_cells (NULL: not wanted). */
static int sibling_mae(const ls_fit *f, const ls_data *d, const ls_table *te, uint64_t seed, double *mae,
                       double *row_abs, size_t *row_cells, ls_error *err)
{
    ls_predict_options po;
    ls_predict_options_init(&po);
    po.param_draws = 0;
    po.seed = seed;
    po.threads = 1;
    po.calibration = 0;
    lss_prediction p;
    int rc = lss_predict_compute(f, d, te, &po, &p, err);
    if (!rc) rc = ls_mae(p.median, p.observed, p.n, p.J, NULL, mae, NULL, err);
    for (size_t i = 0; !rc && row_abs && i < p.n; i++) {
        double s = 0;
        size_t m = 0;
        for (size_t j = 0; j < p.J; j++) {
            double y = p.observed[i * p.J + j];
            if (isnan(y)) continue;
            s += fabs(p.median[i * p.J + j] - y);
            m++;
        }
        row_abs[i] = s;
        if (row_cells) row_cells[i] = m;
    }
    lss_prediction_clear(&p);
    return rc;
}

/* A full fit's row of the table <-> its journal slot. */
static void job_to_table(const lss_job *j, lss_selection *out, size_t a)
{
    out->loglik[a] = j->value;
    out->aic[a] = j->aic;
    out->bic[a] = j->bic;
    out->nparams[a] = j->nparams;
    out->converged[a] = j->converged;
    out->sampled[a] = j->sampled;
}

static void table_to_job(const lss_selection *out, size_t a, lss_job *j)
{
    j->value = out->loglik[a];
    j->aic = out->aic[a];
    j->bic = out->bic[a];
    j->nparams = out->nparams[a];
    j->converged = out->converged[a];
    j->sampled = out->sampled[a];
}

static const char *job_name(size_t r, size_t nf, char *buf, size_t cap)
{
    if (r == 0) snprintf(buf, cap, "full fit");
    else if (r == nf + 1) snprintf(buf, cap, "largest siblings held out");
    else snprintf(buf, cap, "fold %zu of %zu", r, nf);
    return buf;
}

/* sibling_only: no check rule on the full fits (their log-likelihood is
 * not wanted, only their estimate, the sibling hold-out's start). */
/* keep_journal: the journal is left when the run completes (the caller's
 * selection goes on). */
static int select_compute(const ls_table *t, const ls_data_options *dopt, const ls_fit_options *fo,
                          size_t kmin, size_t kmax, unsigned folds, const char *journal, int sibling_only,
                          int keep_journal, lss_selection *out, ls_error *err)
{
    ls_data *full = NULL;
    ls_table *kept = NULL;
    int rc = ls_data_build(t, dopt, &full, err);
    if (rc) return rc;
    if (full->ndropped) { /* drop_incomplete: fold the rows kept (data row i is kept row i) */
        rc = ls_table_subset(t, full->trow, full->n, &kept, err);
        if (!rc && !(out->warning = ls_strdup(full->warning))) rc = ls_nomem(err);
        if (rc) {
            ls_table_free(kept);
            ls_data_free(full);
            return rc;
        }
        t = kept;
    }
    if (kmin < 1 || kmax < kmin || kmax > full->J) {
        rc = ls_fail(err, LS_ERR_OPTION, "skills: expected a range within 1..%zu, found %zu..%zu",
                     full->J, kmin, kmax);
        ls_data_free(full);
        ls_table_free(kept);
        return rc;
    }
    if (folds == 1 || folds > full->F) {
        rc = ls_fail(err, LS_ERR_OPTION, "folds: expected 0 (none) or 2..%zu (the families), found %u",
                     full->F, folds);
        ls_data_free(full);
        ls_table_free(kept);
        return rc;
    }
    /* jobs per K: 0 the full fit, 1..nf the folds, nf + 1 the sibling hold-out */
    size_t nk = kmax - kmin + 1, nf = folds, per = nf + 2, njob = nk * per, F = full->F, n = full->n;
    char *bl = ls_data_bench_list(full);
    size_t *perm = ls_calloc(F, sizeof(size_t)), *fold_of = ls_calloc(F, sizeof(size_t));
    size_t *rows_in = ls_calloc(n, sizeof(size_t)), *rows_out = ls_calloc(n, sizeof(size_t));
    double *cvpart = ls_calloc(njob, sizeof(double));
    ls_table **tin = ls_calloc(nf + 1, sizeof *tin), **tout = ls_calloc(nf + 1, sizeof *tout);
    int *role = ls_calloc(n, sizeof(int));
    int *jrc = ls_calloc(njob, sizeof(int));
    ls_error *jerr = ls_calloc(njob, sizeof(ls_error));
    lss_job *job = ls_calloc(njob, sizeof *job);
    char **kanch = NULL; /* per K, the anchors the data choose (on all rows) */
    out->nk = nk;
    out->folds = folds;
    out->seed = fo->seed;
    out->K = ls_calloc(nk, sizeof(size_t));
    out->loglik = ls_calloc(nk, sizeof(double));
    out->aic = ls_calloc(nk, sizeof(double));
    out->bic = ls_calloc(nk, sizeof(double));
    out->cv = ls_calloc(nk, sizeof(double));
    out->nparams = ls_calloc(nk, sizeof(size_t));
    out->converged = ls_calloc(nk, sizeof(int));
    out->sampled = ls_calloc(nk, sizeof(int));
    out->sibling = ls_calloc(nk, sizeof(double));
    out->refits = ls_calloc(nk, sizeof(size_t));
    out->refits_unconverged = ls_calloc(nk, sizeof(size_t));
    if (!job || !out->sampled || !out->sibling || !out->refits || !out->refits_unconverged || !role || !bl || !perm || !fold_of || !rows_in || !rows_out || !cvpart || !tin || !tout || !jrc || !jerr ||
        !out->K || !out->loglik || !out->aic || !out->bic || !out->cv || !out->nparams || !out->converged) {
        rc = ls_nomem(err);
        goto done;
    }
    ls_data_options o2 = *dopt;
    o2.benchmarks = bl;
    /* seeded fold assignment of families (Fisher-Yates with splitmix64) */
    uint64_t st = fo->seed * 0x9E3779B97F4A7C15ULL + 17;
    for (size_t g = 0; g < F; g++) perm[g] = g;
    for (size_t g = F; g > 1; g--) {
        uint64_t z = ls_splitmix64(st);
        st += 0x9E3779B97F4A7C15ULL;
        size_t r = (size_t)(z % g), tmp = perm[g - 1];
        perm[g - 1] = perm[r];
        perm[r] = tmp;
    }
    for (size_t g = 0; g < F; g++) fold_of[perm[g]] = nf ? g % nf : 0;
    for (size_t r = 0; r < nf; r++) {
        size_t a = 0, b = 0;
        for (size_t i = 0; i < n; i++) {
            if (fold_of[full->family_of[i]] == r) rows_out[b++] = i;
            else rows_in[a++] = i;
        }
        if ((rc = ls_table_subset(t, rows_in, a, &tin[r], err))) goto done;
        if ((rc = ls_table_subset(t, rows_out, b, &tout[r], err))) goto done;
    }
    /* the sibling hold-out: slot nf of tin/tout */
    size_t nsib = 0, a0 = 0;
    rc = lss_roles_largest(t, full, role, err);
    if (rc == LS_ERR_OPTION) { /* no size and tokens columns: no sibling criterion */
        rc = LS_OK;
        for (size_t i = 0; i < n; i++) role[i] = 0;
    }
    if (rc) goto done;
    for (size_t i = 0; i < n; i++) {
        if (role[i]) rows_out[nsib++] = i;
        else rows_in[a0++] = i;
    }
    out->has_sibling = nsib >= 5;
    out->nsib = out->has_sibling ? nsib : 0;
    if (out->has_sibling) {
        out->sib_abs = ls_malloc(nk * nsib * sizeof(double));
        out->sib_cells = ls_calloc(nsib, sizeof(size_t));
        if (!out->sib_abs || !out->sib_cells) { rc = ls_nomem(err); goto done; }
        for (size_t q = 0; q < nk * nsib; q++) out->sib_abs[q] = NAN;
        if ((rc = ls_table_subset(t, rows_in, a0, &tin[nf], err))) goto done;
        if ((rc = ls_table_subset(t, rows_out, nsib, &tout[nf], err))) goto done;
    }
    /* anchors "auto": chosen from the data once per K, on all rows, so the
     * folds' fits share the full fit's parametrisation (and warm start) */
    if (lsfit_anchors_auto(fo->anchors)) {
        if (!(kanch = ls_calloc(nk, sizeof *kanch))) { rc = ls_nomem(err); goto done; }
        for (size_t a = 0; a < nk; a++)
            if ((rc = lsfit_auto_anchors(full, kmin + a, fo->estimate_ceilings, &kanch[a], err))) goto done;
    }
    /* the journal: the jobs a killed run of the same inputs finished */
    uint64_t key = lss_select_key(full, fo, folds);
    if (journal) {
        FILE *jf = fopen(journal, "rb");
        if (jf) {
            json_error_t je;
            json_t *root = json_loadf(jf, 0, &je);
            fclose(jf);
            if (root) out->reused = lss_journal_take(root, key, kmin, nk, per, job);
            json_decref(root);
        }
        /* written now, so that a journal that cannot be written stops the
         * run before its first fit */
        if ((rc = lss_journal_write(journal, key, kmin, nk, per, job, err))) goto done;
    }
    job_shared sh;
    memset(&sh, 0, sizeof sh);
    sh.fn = fo->progress;
    sh.fn_ctx = fo->progress_ctx;
    snprintf(sh.stage, sizeof sh.stage, "select: starting");
    sh.total = (double)njob;
    clock_gettime(CLOCK_MONOTONIC, &sh.last_poll);
    size_t done_jobs = 0;
    unsigned nth = fo->threads ? fo->threads : (unsigned)omp_get_max_threads();
    for (size_t a = 0; a < nk; a++) out->K[a] = kmin + a;
    /* phase 0 the full fits; phase 1 the folds and the sibling hold-out,
     * each started from its K's full-data estimate (one start: the
     * held-out data change the optimum little, and the search from
     * scratch is most of a fit's time) */
    for (int phase = 0; phase < 2; phase++) {
    size_t next_job = 0, workers_done = 0;
    /* nth threads fit; the calling thread reports and polls (a team of one
     * fits as well, and polls from its fits) */
#pragma omp parallel num_threads(nth + 1)
    {
    int me = omp_get_thread_num(), team = omp_get_num_threads();
    if (me == 0 && team > 1)
        poll_loop(&sh, &workers_done, (size_t)team - 1);
    else {
    for (;;) {
        size_t jb;
#pragma omp atomic capture
        jb = next_job++;
        if (jb >= njob) break;
        size_t a = jb / per, r = jb % per; /* r == 0: the full fit; nf + 1: the siblings */
        if ((r == 0) != (phase == 0)) continue;
        int c;
#pragma omp atomic read
        c = sh.cancel;
        if (c) { jrc[jb] = ls_fail(&jerr[jb], LS_ERR_CANCEL, "interrupted"); continue; }
        if (job[jb].done) { /* from the journal */
            if (r == 0) job_to_table(&job[jb], out, a);
            else cvpart[jb] = job[jb].value;
            if (r == nf + 1 && out->has_sibling) {
                const lss_job *jj = &job[jb];
                /* sib_cells is shared: written under the lock the fitted jobs take */
#pragma omp critical(lss_select_job)
                {
                    if (jj->fam_abs && jj->nfam == out->nsib) {
                        memcpy(out->sib_abs + a * out->nsib, jj->fam_abs, out->nsib * sizeof(double));
                        memcpy(out->sib_cells, jj->fam_cells, out->nsib * sizeof(size_t));
                    } else
                        out->sib_partial = 1;
                }
            }
            jrc[jb] = 0;
#pragma omp atomic
            done_jobs++;
            continue;
        }
        if (r == nf + 1 && !out->has_sibling) {
            cvpart[jb] = NAN;
            jrc[jb] = 0;
#pragma omp atomic
            done_jobs++;
            continue;
        }
        ls_fit_options o = *fo;
        o.skills = kmin + a;
        if (kanch) o.anchors = kanch[a];
        o.threads = 1;
        o.skip_se = 1;
        o.skip_check = r != 0 || sibling_only; /* a fold's held-out families are sampled instead */
        o.progress = job_progress;
        job_ctx jc = {&sh, omp_get_thread_num() == 0};
        o.progress_ctx = &jc;
        const lss_job *full_fit = &job[a * per];
        const double *warm = r != 0 && full_fit->done ? full_fit->theta : NULL;
        if (warm) o.starts = 1;
        ls_data *dd = NULL;
        ls_fit *fit = NULL;
        int q = ls_data_build(r == 0 ? t : tin[r - 1], &o2, &dd, &jerr[jb]);
        if (!q) q = ls_fit_run_from(dd, &o, warm, warm ? full_fit->dim : 0, &fit, &jerr[jb]);
        double *theta = NULL, *fam_abs = NULL;
        size_t *fam_cells = NULL;
        if (!q && r == 0) {
            if (!(theta = ls_malloc(fit->dim * sizeof *theta))) q = ls_nomem(&jerr[jb]);
            else memcpy(theta, fit->theta, fit->dim * sizeof *theta);
        }
        size_t dim = fit ? fit->dim : 0;
        if (!q && r == 0) {
            out->loglik[a] = fit->loglik;
            out->aic[a] = fit->aic;
            out->bic[a] = fit->bic;
            if (isfinite(fit->ll_check)) {
                /* the Laplace value is biased (low by about 4 at K = 9 on the
                 * paper data), the sparse grid of level 3 by 0.25: AIC and
                 * BIC from the check rule's value instead */
                out->loglik[a] = fit->ll_check;
                ls_info_criteria(fit->ll_check, fit->nparams, fit->F, &out->aic[a], &out->bic[a]);
                out->sampled[a] = 1;
            }
            out->nparams[a] = fit->nparams;
            out->converged[a] = fit->converged;
        } else if (!q && r == nf + 1) {
            /* the cells per row are the same at every K (each job writes
             * its own copy, the journal's) */
            if (!(fam_abs = ls_malloc(out->nsib * sizeof *fam_abs)) ||
                !(fam_cells = ls_malloc(out->nsib * sizeof *fam_cells)))
                q = ls_nomem(&jerr[jb]);
            else
                q = sibling_mae(fit, dd, tout[nf], fo->seed, &cvpart[jb], fam_abs, fam_cells, &jerr[jb]);
        } else if (!q) {
            q = heldout_loglik(fit, dd, tout[r - 1], &o2, &cvpart[jb], &jerr[jb]);
        }
        int fconv = fit && ls_fit_converged(fit);
        ls_fit_free(fit);
        ls_data_free(dd);
        /* one job at a time: the journal, then the progress line */
#pragma omp critical(lss_select_job)
        {
            if (!q) {
                if (r == 0) {
                    table_to_job(out, a, &job[jb]);
                    job[jb].theta = theta;
                    job[jb].dim = dim;
                    theta = NULL;
                } else {
                    job[jb].value = cvpart[jb];
                    job[jb].converged = fconv;
                }
                if (fam_abs) {
                    memcpy(out->sib_abs + a * out->nsib, fam_abs, out->nsib * sizeof(double));
                    memcpy(out->sib_cells, fam_cells, out->nsib * sizeof(size_t));
                    job[jb].fam_abs = fam_abs;
                    job[jb].fam_cells = fam_cells;
                    job[jb].nfam = out->nsib;
                    fam_abs = NULL;
                    fam_cells = NULL;
                }
                job[jb].done = 1;
                if (journal) q = lss_journal_write(journal, key, kmin, nk, per, job, &jerr[jb]);
            }
            size_t dn;
#pragma omp atomic capture
            dn = ++done_jobs;
            if (fo->progress && !q) {
                char stage[96], nm[48];
                snprintf(stage, sizeof stage, "select: K = %zu, %s", kmin + a, job_name(r, nf, nm, sizeof nm));
                memcpy(sh.stage, stage, sizeof sh.stage);
                sh.done = (double)dn;
                sh.pending = 1;
                if (omp_get_thread_num() == 0) { /* the calling thread */
                    sh.pending = 0;
                    if (fo->progress(fo->progress_ctx, stage, (double)dn, (double)njob)) {
#pragma omp atomic write
                        sh.cancel = 1;
                    }
                }
            }
        }
        ls_free(theta);
        ls_free(fam_abs);
        ls_free(fam_cells);
        jrc[jb] = q;
    }
    if (me != 0) {
#pragma omp atomic
        workers_done++;
    }
    }
    }
    /* a report left after the last poll */
    if (sh.pending && !sh.cancel && fo->progress && fo->progress(fo->progress_ctx, sh.stage, sh.done, sh.total))
        sh.cancel = 1;
    sh.pending = 0;
    }
    for (size_t jb = 0; jb < njob; jb++)
        if (jrc[jb]) {
            rc = jrc[jb];
            if (err) {
                *err = jerr[jb];
                if (rc != LS_ERR_CANCEL)
                    ls_fail(err, rc, "K=%zu%s: %.400s", kmin + jb / per,
                            jb % per == nf + 1 ? " (the largest siblings held out)"
                            : jb % per ? " (a cross-validation fold)" : "", jerr[jb].message);
            }
            goto done;
        }
    if (journal && !keep_journal) remove(journal); /* complete: nothing left to resume */
    for (size_t a = 0; a < nk; a++) {
        double s = 0;
        for (size_t r = 1; r <= nf; r++) s += cvpart[a * per + r];
        out->cv[a] = nf ? s : NAN;
        out->sibling[a] = out->has_sibling ? cvpart[a * per + nf + 1] : NAN;
        for (size_t r = 1; r < per; r++) {
            const lss_job *j = &job[a * per + r];
            out->refits[a] += j->done;
            out->refits_unconverged[a] += j->done && !j->converged;
        }
    }
    lss_selection_choose(out);
done:
    for (size_t r = 0; tin && tout && r <= nf; r++) {
        ls_table_free(tin[r]);
        ls_table_free(tout[r]);
    }
    for (size_t a = 0; kanch && a < nk; a++) ls_free(kanch[a]);
    ls_free(kanch);
    ls_free(tin); ls_free(tout); ls_free(bl); ls_free(perm); ls_free(fold_of); ls_free(role);
    for (size_t jb = 0; job && jb < njob; jb++) {
        ls_free(job[jb].theta);
        ls_free(job[jb].fam_abs);
        ls_free(job[jb].fam_cells);
    }
    ls_free(rows_in); ls_free(rows_out); ls_free(cvpart); ls_free(jrc); ls_free(jerr); ls_free(job);
    ls_data_free(full);
    ls_table_free(kept);
    return rc;
}

int ls_select(const ls_table *t, const ls_data_options *dopt, const ls_fit_options *fo, size_t kmin,
              size_t kmax, unsigned folds, ls_result **out, ls_error *err)
{
    return ls_select_journal(t, dopt, fo, kmin, kmax, folds, NULL, out, err);
}

int ls_select_journal(const ls_table *t, const ls_data_options *dopt, const ls_fit_options *fo, size_t kmin,
                      size_t kmax, unsigned folds, const char *journal, ls_result **out, ls_error *err)
{
    return ls_select_configure(t, dopt, fo, kmin, kmax, folds, journal, 0, out, err);
}

int ls_select_configure(const ls_table *t, const ls_data_options *dopt, const ls_fit_options *fo, size_t kmin,
                        size_t kmax, unsigned folds, const char *journal, int flags, ls_result **out, ls_error *err)
{
    *out = NULL;
    ls_fit_options fk = *fo;
    fk.skills = kmin; /* the fits' K is the range's, checked below */
    int rc = ls_fit_options_check(&fk, err);
    lss_evalsel sel;
    if (!rc) rc = lss_evalsel_make(dopt, fo, kmin, kmax, flags, &sel, err);
    if (rc) return rc;
    lss_selection *s = ls_calloc(1, sizeof *s);
    if (!s) return ls_nomem(err);
    const char *jpath = journal && *journal ? journal : NULL;
    /* with flags the K table's journal stays until the configurations end */
    rc = select_compute(t, dopt, fo, kmin, kmax, folds, jpath, 0, flags != 0, s, err);
    if (!rc && flags) {
        if (!s->has_sibling) {
            rc = ls_fail(err, LS_ERR_INPUT, "the sibling criterion, which chooses the interaction and the ceilings, "
                                            "needs at least 5 families with two or more models and a size and "
                                            "tokens for each");
            if (jpath) remove(jpath); /* a rerun would be refused the same way */
        }
        else if (!(s->cfg = ls_calloc(1, sizeof *s->cfg))) rc = ls_nomem(err);
        /* the K table's sibling fits are the first configuration's (unless
         * some came from a journal that did not keep every family's errors) */
        else rc = lss_configure(t, dopt, fo, &sel, s->sib_partial ? NULL : s, jpath, s->cfg, err);
        if (!rc && jpath) { /* complete: nothing left to resume */
            lss_configure_forget(jpath, s->cfg->sel_nc);
            remove(jpath);
        }
    }
    if (rc) {
        lss_selection_free(s);
        return rc;
    }
    return lss_selection_result(s, out, err);
}

int lss_select_siblings(const ls_table *t, const ls_data_options *dopt, const ls_fit_options *fo, size_t kmin,
                        size_t kmax, lss_selection *out, ls_error *err)
{
    return select_compute(t, dopt, fo, kmin, kmax, 0, NULL, 1, 0, out, err);
}

int lss_select_siblings_journal(const ls_table *t, const ls_data_options *dopt, const ls_fit_options *fo,
                                size_t kmin, size_t kmax, const char *journal, lss_selection *out, ls_error *err)
{
    return select_compute(t, dopt, fo, kmin, kmax, 0, journal, 1, 1, out, err);
}
