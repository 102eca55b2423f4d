/*
 * configure.c -- the configuration chosen by extrapolation to a larger
 * sibling: K, whether the covariates' product terms stay, and which
 * benchmarks' ceilings are estimated (the saturating ones, found by a
 * likelihood-ratio screen).  Each configuration and K is scored by the
 * sibling criterion of select.c (every family's largest model held out, the
 * law refitted to the other rows); evaluate runs it on the training rows
 * only (ls_evaluate_select), select on all rows (ls_select_configure).
 */
#include "scaling/tasks.h"

#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char default_covariates[] = "log(size),log(tokens),log(size)*log(tokens)";

/* cov without its product terms (those containing '*'); NULL when it has
 * none or only products (*err set only on no memory: check *nomem). */
static char *drop_products(const char *cov, int *nomem)
{
    size_t n = strlen(cov), k = 0;
    char *out = ls_malloc(n + 1);
    *nomem = !out;
    if (!out) return NULL;
    int dropped = 0;
    for (const char *p = cov; *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (memchr(p, '*', len)) dropped = 1;
        else if (len) {
            if (k) out[k++] = ',';
            memcpy(out + k, p, len);
            k += len;
        }
        p += len + (e ? 1 : 0);
    }
    out[k] = '\0';
    if (!dropped || k == 0) {
        ls_free(out);
        return NULL;
    }
    return out;
}

/* At most this many ceilings in evaluate's ceiling candidates (each
 * prefix of the ranking is one more configuration: its fits per K). */
#define SELECT_MAX_CEILINGS 3
/* A benchmark is tested when the fit with every ceiling estimated puts its
 * ceiling below 1 by more than this (a ceiling of 0.999 changes no
 * prediction, and one that runs to 1 needs no test) ... */
#define SELECT_CEILING_GAP 0.005
/* ... and is a candidate when the likelihood-ratio statistic of its
 * ceiling alone against none exceeds the 5 % point of the boundary null
 * (d_j = 1 is the edge of the parameter space: a 50:50 mixture of
 * chi-square(0) and chi-square(1), whose 95 % point is 2.71). */
#define SELECT_CEILING_LR 2.705543

typedef struct {
    size_t j;
    double z;
} ceil_cand;

/* The progress of the screen's and the configurations' fits, each line
 * prefixed by which of them runs (the caller's function, NULL: none). */
typedef struct {
    ls_progress_fn fn;
    void *ctx;
    char prefix[160];
} cfg_progress;

static int cfg_progress_fn(void *ctx, const char *stage, double done, double total)
{
    const cfg_progress *p = ctx;
    char line[448];
    snprintf(line, sizeof line, "%s%s", p->prefix, stage ? stage : "");
    return p->fn(p->ctx, line, done, total);
}

/* o's progress through p, whose prefix the caller sets. */
static void cfg_progress_set(cfg_progress *p, ls_fit_options *o)
{
    if (!p->fn) return;
    o->progress = cfg_progress_fn;
    o->progress_ctx = p;
}

static int cmp_cand(const void *a, const void *b)
{
    const ceil_cand *x = a, *y = b;
    return (x->z < y->z) - (x->z > y->z); /* descending */
}

/* One fit to the training rows for the ceiling screen (no standard errors,
 * check rule or calibration): its log-likelihood. */
static int screen_fit(const ls_data *d, const ls_fit_options *fo, const char *ceilings, double *ll, ls_fit **keep,
                      ls_error *err)
{
    ls_fit_options o = *fo;
    o.estimate_ceilings = ceilings;
    o.calibrate = 0;
    o.skip_se = 1;
    o.skip_check = 1;
    ls_fit *f = NULL;
    int rc = ls_fit_options_check(&o, err);
    if (!rc) rc = ls_fit_run(d, &o, &f, err);
    if (rc) {
        if (rc != LS_ERR_CANCEL) {
            char msg[sizeof err->message];
            snprintf(msg, sizeof msg, "%s", err->message);
            rc = ls_fail(err, rc, "select_ceilings: the screen's fit with %s%s estimated (K = %zu): %s",
                         ceilings ? "the ceilings " : "no ceiling", ceilings ? ceilings : "", o.skills, msg);
        }
        return rc;
    }
    *ll = f->loglik;
    if (keep) *keep = f;
    else ls_fit_free(f);
    return LS_OK;
}

/* The screen's fits kept in a journal of select's form (journal.c): K the
 * screen's, slot 0 the fit with every ceiling estimated (its estimate: the
 * J ceilings, 1 where not estimated), 1 the fit with none, 2 + j the fit
 * with benchmark j's alone; value the log-likelihood. */
typedef struct {
    char *path; /* NULL: no journal */
    uint64_t key;
    size_t K, per;
    lss_job *job;
} screen_journal;

static int screen_journal_open(screen_journal *s, const char *journal, const ls_data *d, const ls_fit_options *fr,
                               ls_error *err)
{
    memset(s, 0, sizeof *s);
    if (!journal) return LS_OK;
    ls_fit_options fk = *fr;
    fk.estimate_ceilings = "screen"; /* the key of the screen, not of a fit */
    s->key = lss_select_key(d, &fk, 0);
    s->K = fr->skills;
    s->per = d->J + 2;
    size_t n = strlen(journal) + 16;
    s->path = ls_malloc(n);
    s->job = ls_calloc(s->per, sizeof *s->job);
    if (!s->path || !s->job) return ls_nomem(err);
    snprintf(s->path, n, "%s.screen", journal);
    FILE *jf = fopen(s->path, "rb");
    if (jf) {
        json_error_t je;
        json_t *root = json_loadf(jf, 0, &je);
        fclose(jf);
        if (root) lss_journal_take(root, s->key, s->K, 1, s->per, s->job);
        json_decref(root);
    }
    return LS_OK;
}

static void screen_journal_close(screen_journal *s)
{
    for (size_t q = 0; s->job && q < s->per; q++) {
        ls_free(s->job[q].theta);
        ls_free(s->job[q].fam_abs);
        ls_free(s->job[q].fam_cells);
    }
    ls_free(s->job);
    ls_free(s->path);
}

/* The screen's fit of slot q (ceilings: as screen_fit), from the journal
 * when it has it; dall (slot 0 only, J): the ceilings of the fit with all
 * estimated, 1 where not estimated. */
static int screen_slot(screen_journal *s, size_t q, const ls_data *d, const ls_fit_options *fr, const char *ceilings,
                       double *ll, double *dall, ls_error *err)
{
    size_t J = d->J;
    lss_job *jb = s->path ? &s->job[q] : NULL;
    if (jb && jb->done && (q != 0 || jb->dim == J)) {
        *ll = jb->value;
        if (q == 0) memcpy(dall, jb->theta, J * sizeof *dall);
        return LS_OK;
    }
    ls_fit *f = NULL;
    int rc = screen_fit(d, fr, ceilings, ll, q == 0 ? &f : NULL, err);
    if (rc) return rc;
    if (q == 0) {
        const ls_params *pr = ls_fit_params(f);
        for (size_t j = 0; j < J; j++)
            dall[j] = ls_fit_ceiling_estimated(f, j) && pr->ceiling ? pr->ceiling[j] : 1;
        ls_fit_free(f);
    }
    if (!jb) return LS_OK;
    ls_free(jb->theta);
    *jb = (lss_job){1, *ll, NAN, NAN, 0, 1, 0, NULL, 0, NULL, NULL, 0};
    if (q == 0) {
        if (!(jb->theta = ls_malloc(J * sizeof(double)))) return ls_nomem(err);
        memcpy(jb->theta, dall, J * sizeof(double));
        jb->dim = J;
    }
    return lss_journal_write(s->path, s->key, s->K, 1, s->per, s->job, err);
}

/* The saturating benchmarks, found by the data, at K = 4 (the paper's) or
 * the end of the range nearer it: one fit to the training rows with every
 * ceiling estimated names those whose ceiling falls below 1 by more than
 * SELECT_CEILING_GAP; each of them is then fitted alone and compared with
 * the fit without ceilings by the likelihood ratio; those above
 * SELECT_CEILING_LR are the candidates, ranked by it.  On return
 * names[0..*m) are comma lists of the first 1..*m candidates (the
 * prefixes), *rank a description of the screen. */
static int ceiling_candidates(const ls_table *tt, const ls_data_options *o2, const ls_fit_options *fo,
                              const lss_evalsel *sel, const char *journal, char **names, size_t *m, char **rank,
                              ls_error *err)
{
    *m = 0;
    *rank = NULL;
    ls_fit_options fr = *fo;
    fr.skills = sel->kmin > 4 ? sel->kmin : sel->kmax < 4 ? sel->kmax : 4;
    cfg_progress prog = {fo->progress, fo->progress_ctx, ""};
    ls_data *d = NULL;
    ceil_cand *cand = NULL;
    double *dall = NULL;
    double ll0 = NAN, llall = NAN;
    screen_journal sj;
    memset(&sj, 0, sizeof sj);
    int rc = ls_data_build(tt, o2, &d, err);
    if (!rc) rc = screen_journal_open(&sj, journal, d, &fr, err);
    if (!rc && !(dall = ls_calloc(d->J, sizeof *dall))) rc = ls_nomem(err);
    cfg_progress_set(&prog, &fr);
    snprintf(prog.prefix, sizeof prog.prefix, "ceiling screen, every ceiling estimated: ");
    if (!rc) rc = screen_slot(&sj, 0, d, &fr, "all", &llall, dall, err);
    snprintf(prog.prefix, sizeof prog.prefix, "ceiling screen, no ceiling: ");
    if (!rc) rc = screen_slot(&sj, 1, d, &fr, NULL, &ll0, NULL, err);
    if (rc) goto done;
    size_t J = d->J;
    cand = ls_calloc(J, sizeof *cand);
    size_t len = 256;
    for (size_t j = 0; j < J; j++) len += strlen(d->bench[j]) + 64;
    *rank = ls_calloc(len, 1);
    if (!cand || !*rank) { rc = ls_nomem(err); goto done; }
    size_t nc = 0, k = 0, tested = 0;
    k += (size_t)snprintf(*rank + k, len - k, "K = %zu; likelihood ratio of each ceiling alone against none:", fr.skills);
    for (size_t j = 0; j < J; j++) {
        double dj = dall[j];
        if (!(1 - dj > SELECT_CEILING_GAP)) continue; /* (1 also where not estimated) */
        double llj = NAN;
        snprintf(prog.prefix, sizeof prog.prefix, "ceiling screen, %.100s's ceiling alone: ", d->bench[j]);
        if ((rc = screen_slot(&sj, 2 + j, d, &fr, d->bench[j], &llj, NULL, err))) goto done;
        /* one more parameter cannot lower the maximum: a value below 0 is
         * the optimiser's tolerance */
        double lr = fmax(0, 2 * (llj - ll0));
        k += (size_t)snprintf(*rank + k, len - k, "%s %s %.2f (ceiling %.3f)", tested ? "," : "", d->bench[j],
                              lr, dj);
        tested++;
        if (isfinite(lr) && lr > SELECT_CEILING_LR) cand[nc++] = (ceil_cand){j, lr};
    }
    if (!tested)
        snprintf(*rank + k, len - k, " none tested (with every ceiling estimated none fell below %.3f)",
                 1 - SELECT_CEILING_GAP);
    else
        snprintf(*rank + k, len - k, "; candidates above %.2f: %zu", SELECT_CEILING_LR, nc);
    qsort(cand, nc, sizeof *cand, cmp_cand);
    *m = nc < SELECT_MAX_CEILINGS ? nc : SELECT_MAX_CEILINGS;
    for (size_t c = 0; c < *m; c++) {
        size_t l = 1;
        for (size_t q = 0; q <= c; q++) l += strlen(d->bench[cand[q].j]) + 1;
        if (!(names[c] = ls_calloc(l, 1))) { rc = ls_nomem(err); goto done; }
        for (size_t q = 0; q <= c; q++) {
            if (q) strcat(names[c], ",");
            strcat(names[c], d->bench[cand[q].j]);
        }
    }
done:
    screen_journal_close(&sj);
    ls_free(dall);
    ls_free(cand);
    ls_data_free(d);
    return rc;
}

/* The choice of lss_configure (tasks.h).  Configurations: the covariate lists
 * (and, with ceilings, for each the ceiling prefixes of
 * ceiling_candidates, none first); for each configuration and K the
 * sibling criterion.  The smallest MAE among the converged full fits is the
 * reference (only when none converged, among all, with a warning); the
 * choice is the configuration with the fewest estimated ceilings whose MAE
 * is within one standard error of the reference's (the difference paired
 * over the held-out families: a ceiling must earn its place by more than
 * the noise of a few dozen families), and within it the smallest MAE (ties:
 * the smaller K, then the covariates as given).  Without ceilings that is
 * the smallest MAE. */
/* configuration c's journal, journal.config<c> (NULL: none, or no memory) */
static char *config_journal(const char *journal, size_t c)
{
    if (!journal) return NULL;
    size_t n = strlen(journal) + 32;
    char *p = ls_malloc(n);
    if (p) snprintf(p, n, "%s.config%zu", journal, c);
    return p;
}

void lss_configure_forget(const char *journal, size_t nc)
{
    for (size_t c = 0; journal && c < nc; c++) {
        char *p = config_journal(journal, c);
        if (p) remove(p);
        ls_free(p);
    }
    size_t n = journal ? strlen(journal) + 16 : 0;
    char *p = journal ? ls_malloc(n) : NULL;
    if (p) {
        snprintf(p, n, "%s.screen", journal);
        remove(p);
    }
    ls_free(p);
}

int lss_configure(const ls_table *tt, const ls_data_options *o2, const ls_fit_options *fo, const lss_evalsel *sel,
                  const lss_selection *pre, const char *journal, lss_config *out, ls_error *err)
{
    size_t nk = sel->kmax - sel->kmin + 1;
    const char *cov0 = o2->covariates ? o2->covariates : default_covariates;
    char *covs[2] = {NULL, NULL}, *ceils[SELECT_MAX_CEILINGS + 1] = {NULL};
    size_t ncov = 1, nceil = 1, m = 0;
    int rc = LS_OK;
    lss_selection **runs = NULL;
    if (!(covs[0] = ls_strdup(cov0))) return ls_nomem(err);
    if (sel->interaction) {
        int nomem = 0;
        covs[1] = drop_products(cov0, &nomem);
        if (nomem) { rc = ls_nomem(err); goto done; }
        if (!covs[1]) {
            rc = ls_fail(err, LS_ERR_OPTION, "select_interaction: the covariates (%s) have no product term to drop",
                         cov0);
            goto done;
        }
        ncov = 2;
    }
    if (sel->ceilings) {
        if ((rc = ceiling_candidates(tt, o2, fo, sel, journal, ceils + 1, &m, &out->sel_rank, err))) goto done;
        nceil = 1 + m;
    }
    size_t nc = ncov * nceil;
    runs = ls_calloc(nc, sizeof *runs);
    if (lss_config_alloc(out, nk, nc) || !runs) {
        rc = ls_nomem(err);
        goto done;
    }
    for (size_t a = 0; a < nk; a++) out->sel_K[a] = sel->kmin + a;
    for (size_t c = 0; c < nc; c++) {
        size_t cv = c / nceil, ce = c % nceil;
        out->sel_cov[c] = ls_strdup(covs[cv]);
        out->sel_ceil[c] = ls_strdup(ce ? ceils[ce] : "");
        out->sel_nceil[c] = ce;
        if (!out->sel_cov[c] || !out->sel_ceil[c]) { rc = ls_nomem(err); goto done; }
        ls_data_options oc = *o2;
        oc.covariates = cv ? covs[cv] : o2->covariates;
        ls_fit_options fc = *fo;
        if (ce) fc.estimate_ceilings = ceils[ce];
        cfg_progress prog = {fo->progress, fo->progress_ctx, ""};
        cfg_progress_set(&prog, &fc);
        snprintf(prog.prefix, sizeof prog.prefix, "configuration %zu of %zu (%s, ceilings %.60s): ", c + 1, nc,
                 cv ? "no product term" : "covariates as given", ce ? ceils[ce] : "none");
        if (c == 0 && pre) { /* the same fits as the caller's K table: borrowed */
            runs[0] = (lss_selection *)(uintptr_t)pre;
        } else {
            char *jc = config_journal(journal, c);
            if (!(runs[c] = ls_calloc(1, sizeof **runs)) || (journal && !jc)) {
                ls_free(jc);
                rc = ls_nomem(err);
                goto done;
            }
            rc = lss_select_siblings_journal(tt, &oc, &fc, sel->kmin, sel->kmax, jc, runs[c], err);
            ls_free(jc);
        }
        if (!rc && !runs[c]->has_sibling)
            rc = ls_fail(err, LS_ERR_INPUT,
                         "select: the sibling criterion needs at least 5 training families with two or more "
                         "models and a size and tokens for each");
        if (rc) goto done;
        for (size_t a = 0; a < nk; a++) {
            out->sel_mae[a * nc + c] = runs[c]->sibling[a];
            out->sel_conv[a * nc + c] = runs[c]->converged[a];
        }
    }
    size_t bk = 0, bc = 0;
    if (!lss_select_choose(out->sel_mae, out->sel_conv, nk, nc, &bk, &bc)) {
        rc = ls_fail(err, LS_ERR_NUMERIC, "select: no finite sibling MAE for any K");
        goto done;
    }
    /* each configuration's paired difference from the reference */
    const lss_selection *rb = runs[bc];
    size_t ns = rb->nsib, cells = 0;
    for (size_t r = 0; r < ns; r++) cells += rb->sib_cells[r];
    for (size_t c = 0; c < nc; c++)
        for (size_t a = 0; a < nk; a++) {
            const double *x = runs[c]->sib_abs + a * ns, *y = rb->sib_abs + bk * ns;
            double s = 0, s2 = 0;
            for (size_t r = 0; r < ns; r++) {
                double dr = x[r] - y[r];
                s += dr;
                s2 += dr * dr;
            }
            double mean = s / (double)ns, var = ns > 1 ? (s2 - (double)ns * mean * mean) / (double)(ns - 1) : NAN;
            out->sel_diff[a * nc + c] = cells ? s / (double)cells : NAN;
            out->sel_se[a * nc + c] = cells && var >= 0 ? sqrt((double)ns * var) / (double)cells : NAN;
        }
    /* the fewest ceilings within one standard error, then the smallest MAE */
    int bcv = out->sel_conv[bk * nc + bc] != 0;
    out->sel_k = bk;
    out->sel_c = bc;
    for (size_t a = 0; a < nk; a++) /* K ascending, configurations in order: ties keep the first */
        for (size_t c = 0; c < nc; c++) {
            size_t q = a * nc + c, cur = out->sel_k * nc + out->sel_c;
            double v = out->sel_mae[q];
            if (!isfinite(v) || (out->sel_conv[q] != 0) != bcv) continue;
            if (!(out->sel_diff[q] <= out->sel_se[q]) && q != bk * nc + bc) continue;
            if (out->sel_nceil[c] < out->sel_nceil[out->sel_c] ||
                (out->sel_nceil[c] == out->sel_nceil[out->sel_c] && v < out->sel_mae[cur])) {
                out->sel_k = a;
                out->sel_c = c;
            }
        }
done:
    for (size_t c = pre ? 1 : 0; runs && c < out->sel_nc; c++) lss_selection_free(runs[c]);
    ls_free(runs);
    ls_free(covs[0]);
    ls_free(covs[1]);
    for (size_t c = 0; c <= SELECT_MAX_CEILINGS; c++) ls_free(ceils[c]);
    return rc;
}

int lss_select_choose(const double *mae, const int *conv, size_t nk, size_t nc, size_t *k, size_t *c)
{
    int found = 0, best_cv = 0;
    double best = 0;
    for (size_t a = 0; a < nk; a++) /* K ascending: ties keep the smaller K */
        for (size_t b = 0; b < nc; b++) {
            double v = mae[a * nc + b];
            int cv = conv[a * nc + b] != 0;
            if (!isfinite(v)) continue;
            if (!found || (cv && !best_cv) || (cv == best_cv && v < best)) {
                *k = a;
                *c = b;
                best = v;
                best_cv = cv;
                found = 1;
            }
        }
    return found;
}


int lss_evalsel_make(const ls_data_options *dopt, const ls_fit_options *fo, size_t kmin, size_t kmax, int flags,
                     lss_evalsel *sel, ls_error *err)
{
    if (flags & ~(LS_SELECT_INTERACTION | LS_SELECT_CEILINGS))
        return ls_fail(err, LS_ERR_OPTION, "select: unknown flags %#x", (unsigned)flags);
    *sel = (lss_evalsel){kmin, kmax, (flags & LS_SELECT_INTERACTION) != 0, (flags & LS_SELECT_CEILINGS) != 0};
    if (sel->ceilings && fo->estimate_ceilings && *fo->estimate_ceilings)
        return ls_fail(err, LS_ERR_OPTION, "select_ceilings: chooses the ceilings from the data; give it or the "
                                           "ceilings to estimate (%s), not both", fo->estimate_ceilings);
    if (sel->interaction) {
        const char *cov0 = dopt->covariates ? dopt->covariates : default_covariates;
        int nomem = 0;
        char *dropped = drop_products(cov0, &nomem);
        if (nomem) return ls_nomem(err);
        if (!dropped)
            return ls_fail(err, LS_ERR_OPTION, "select_interaction: the covariates (%s) have no product term to drop",
                           cov0);
        ls_free(dropped);
    }
    return LS_OK;
}

int lss_config_alloc(lss_config *c, size_t nk, size_t nc)
{
    c->sel_nk = nk;
    c->sel_nc = nc;
    c->sel_K = ls_calloc(nk, sizeof(size_t));
    c->sel_cov = ls_calloc(nc, sizeof(char *));
    c->sel_ceil = ls_calloc(nc, sizeof(char *));
    c->sel_nceil = ls_calloc(nc, sizeof(size_t));
    c->sel_mae = ls_calloc(nk * nc, sizeof(double));
    c->sel_diff = ls_calloc(nk * nc, sizeof(double));
    c->sel_se = ls_calloc(nk * nc, sizeof(double));
    c->sel_conv = ls_calloc(nk * nc, sizeof(int));
    return c->sel_K && c->sel_cov && c->sel_ceil && c->sel_nceil && c->sel_mae && c->sel_diff && c->sel_se &&
                   c->sel_conv
               ? 0
               : -1;
}

void lss_config_clear(lss_config *c)
{
    ls_free(c->sel_K);
    for (size_t q = 0; q < c->sel_nc; q++) {
        if (c->sel_cov) ls_free(c->sel_cov[q]);
        if (c->sel_ceil) ls_free(c->sel_ceil[q]);
    }
    ls_free(c->sel_cov);
    ls_free(c->sel_ceil);
    ls_free(c->sel_nceil);
    ls_free(c->sel_mae);
    ls_free(c->sel_diff);
    ls_free(c->sel_se);
    ls_free(c->sel_conv);
    ls_free(c->sel_rank);
    memset(c, 0, sizeof *c);
}

int lss_config_entries(ls_result *r, const lss_config *e, const char *where, int first_warned, ls_error *err)
{
    int rc = ls_result_add_sizes(r, "select_skills", e->sel_K, e->sel_nk, 1, NULL, NULL, err);
    if (!rc) rc = ls_result_add_strings(r, "select_covariates", e->sel_cov, e->sel_nc, err);
    if (!rc) rc = ls_result_add_numbers(r, "select_sibling_mae", e->sel_mae, e->sel_nk, e->sel_nc, NULL,
                                        "select_covariates", err);
    if (!rc) rc = ls_result_add_ints(r, "select_converged", e->sel_conv, e->sel_nk, e->sel_nc, NULL,
                                     "select_covariates", err);
    if (!rc) rc = ls_result_add_strings(r, "select_ceilings", e->sel_ceil, e->sel_nc, err);
    if (!rc) rc = ls_result_add_numbers(r, "select_mae_difference", e->sel_diff, e->sel_nk, e->sel_nc, NULL,
                                        "select_covariates", err);
    if (!rc) rc = ls_result_add_numbers(r, "select_mae_difference_se", e->sel_se, e->sel_nk, e->sel_nc, NULL,
                                        "select_covariates", err);
    if (!rc) rc = ls_result_add_number(r, "selected_skills", (double)e->sel_K[e->sel_k], err);
    if (!rc) rc = ls_result_add_string(r, "selected_covariates", e->sel_cov[e->sel_c], err);
    if (!rc) rc = ls_result_add_string(r, "selected_ceilings", e->sel_ceil[e->sel_c], err);
    if (!rc && e->sel_rank) rc = ls_result_add_string(r, "select_ceiling_candidates", e->sel_rank, err);
    if (!rc && !e->sel_conv[e->sel_k * e->sel_nc + e->sel_c])
        rc = ls_result_warn(r, err, "%s: no fit converged; the choice (K = %zu) is the smallest sibling MAE among "
                            "unconverged fits", where, e->sel_K[e->sel_k]);
    for (size_t k = 0; !rc && k < e->sel_nk * e->sel_nc; k++)
        if (!e->sel_conv[k] && !(first_warned && k % e->sel_nc == 0))
            rc = ls_result_warn(r, err, "%s: the fit with K = %zu (covariates %s%s%s) did not converge", where,
                                e->sel_K[k / e->sel_nc], e->sel_cov[k % e->sel_nc],
                                *e->sel_ceil[k % e->sel_nc] ? "; ceilings estimated: " : "", e->sel_ceil[k % e->sel_nc]);
    return rc;
}
