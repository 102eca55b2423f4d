/*
 * fit_read.c -- read a fit file back (jansson) and bind it to its data.
 *
 * Every field is checked for presence, type and shape; a file from another
 * version, or one whose recorded log-likelihood the data do not reproduce,
 * is refused with a one-line message.
 */
#include "kernel/json.h"
#include "scaling/tasks.h"
#include "scaling/params.h"
#include "scaling/fit_impl.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct rd {
    const char *path;
    ls_error *err;
} rd;

static int bad(rd *r, const char *what)
{
    return ls_fail(r->err, LS_ERR_PARSE, "%s: not a latentscale fit file: %s", r->path, what);
}

static json_t *need(rd *r, json_t *o, const char *key, json_type type, int *rc)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_typeof(v) != type) {
        char msg[160];
        snprintf(msg, sizeof msg, "missing or mistyped field '%s'", key);
        *rc = bad(r, msg);
        return NULL;
    }
    return v;
}

/* n numbers (null -> NaN) from an array or an array of arrays (rows x cols) */
static int numbers(rd *r, json_t *a, size_t rows, size_t cols, double *out, const char *name)
{
    char msg[160];
    snprintf(msg, sizeof msg, "field '%s' does not have shape %zu x %zu", name, rows, cols);
    if (!json_is_array(a) || json_array_size(a) != rows) return bad(r, msg);
    for (size_t i = 0; i < rows; i++) {
        json_t *row = json_array_get(a, i);
        for (size_t j = 0; j < cols; j++) {
            json_t *v = cols == 1 && !json_is_array(row) ? row : json_array_get(row, j);
            if (cols > 1 && (!json_is_array(row) || json_array_size(row) != cols)) return bad(r, msg);
            if (json_is_null(v)) out[i * cols + j] = NAN;
            else if (json_is_number(v)) out[i * cols + j] = json_number_value(v);
            else return bad(r, msg);
        }
    }
    return LS_OK;
}

/* comma-joined strings of an array (caller frees) */
static char *joined(json_t *a, const double *vals)
{
    size_t n = json_array_size(a), len = 1;
    for (size_t i = 0; i < n; i++) len += strlen(json_string_value(json_array_get(a, i)) ? json_string_value(json_array_get(a, i)) : "") + 32;
    char *s = ls_calloc(len, 1);
    if (!s) return NULL;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        const char *v = json_string_value(json_array_get(a, i));
        if (vals) at += (size_t)snprintf(s + at, len - at, "%s%s=%.17g", i ? "," : "", v ? v : "", vals[i]);
        else at += (size_t)snprintf(s + at, len - at, "%s%s", i ? "," : "", v ? v : "");
    }
    return s;
}

static int all_strings(json_t *a)
{
    if (!json_is_array(a)) return 0;
    for (size_t i = 0; i < json_array_size(a); i++)
        if (!json_is_string(json_array_get(a, i))) return 0;
    return 1;
}

/* Parse the file and check it is a fit of this version; NULL with *rc set
 * otherwise. */
static json_t *open_fit(rd *r, int *rc)
{
    json_error_t je;
    json_t *root = json_load_file(r->path, 0, &je);
    if (!root) {
        if (je.line < 0 || strstr(je.text, "unable to open"))
            *rc = ls_fail(r->err, LS_ERR_IO, "%s: cannot read: %s", r->path, je.text);
        else
            *rc = ls_fail(r->err, LS_ERR_PARSE, "%s:%d:%d: invalid JSON: %s", r->path, je.line, je.column, je.text);
        return NULL;
    }
    json_t *ver = json_is_object(root) ? json_object_get(root, "version") : NULL;
    if (!json_is_object(root)) *rc = bad(r, "top level is not an object");
    else if (!json_is_string(ver)) *rc = bad(r, "missing or mistyped field 'version'");
    else if (strcmp(json_string_value(ver), LS_VERSION) != 0)
        *rc = ls_fail(r->err, LS_ERR_INPUT, "%s: written by latentscale %s, this is %s; refit with this version",
                      r->path, json_string_value(ver), LS_VERSION);
    else return root;
    json_decref(root);
    return NULL;
}

static int integration_kind(const char *s)
{
    if (strcmp(s, "laplace") == 0) return LS_INT_LAPLACE;
    if (strcmp(s, "gauss-hermite") == 0) return LS_INT_GH;
    if (strcmp(s, "qmc") == 0) return LS_INT_QMC;
    if (strcmp(s, "sparse-grid") == 0) return LS_INT_SPARSE;
    return LS_INT_AUTO;
}

int ls_fit_load(const char *path, const ls_table *t, unsigned threads, ls_data **dout, ls_fit **fout,
                ls_error *err)
{
    *dout = NULL;
    *fout = NULL;
    rd r = {path, err};
    int rc = LS_OK;
    json_t *root = open_fit(&r, &rc);
    if (!root) return rc;
    ls_data *d = NULL;
    ls_fit *f = NULL;
    char *bl = NULL, *cl = NULL, *fl = NULL, *al = NULL, *ceil_list = NULL;
    double *floors = NULL, *ceils = NULL, *theta = NULL;
    json_t *sk = need(&r, root, "skills", JSON_INTEGER, &rc);
    json_t *bn = rc ? NULL : need(&r, root, "benchmarks", JSON_ARRAY, &rc);
    json_t *cv = rc ? NULL : need(&r, root, "covariates", JSON_ARRAY, &rc);
    json_t *fv = rc ? NULL : need(&r, root, "floors", JSON_ARRAY, &rc);
    json_t *dop = rc ? NULL : need(&r, root, "data_options", JSON_OBJECT, &rc);
    json_t *op = rc ? NULL : need(&r, root, "options", JSON_OBJECT, &rc);
    json_t *par = rc ? NULL : need(&r, root, "parameters", JSON_OBJECT, &rc);
    json_t *llv = rc ? NULL : json_object_get(root, "loglik");
    if (rc) goto done;
    if (!json_is_number(llv)) { rc = bad(&r, "missing or mistyped field 'loglik'"); goto done; }
    if (!all_strings(bn) || !all_strings(cv)) { rc = bad(&r, "benchmark or covariate names are not strings"); goto done; }
    size_t J = json_array_size(bn), K = (size_t)json_integer_value(sk);
    if (K < 1 || K > J || json_array_size(fv) != J) { rc = bad(&r, "skills, benchmarks and floors disagree"); goto done; }
    json_t *clip = need(&r, dop, "clip", JSON_REAL, &rc);
    json_t *mc = rc ? NULL : need(&r, dop, "model_column", JSON_STRING, &rc);
    json_t *fc = rc ? NULL : need(&r, dop, "family_column", JSON_STRING, &rc);
    json_t *an = rc ? NULL : need(&r, op, "anchors", JSON_ARRAY, &rc);
    json_t *ig = rc ? NULL : need(&r, op, "integration", JSON_STRING, &rc);
    json_t *nd = rc ? NULL : need(&r, op, "nodes", JSON_INTEGER, &rc);
    json_t *gt = rc ? NULL : json_object_get(op, "gtol");
    json_t *lc = rc ? NULL : json_object_get(op, "logit_clamp");
    json_t *sd = rc ? NULL : need(&r, op, "seed", JSON_INTEGER, &rc);
    json_t *th = rc ? NULL : need(&r, par, "theta", JSON_ARRAY, &rc);
    if (rc) goto done;
    if (!all_strings(an) || json_array_size(an) != K) { rc = bad(&r, "anchors do not match skills"); goto done; }
    if (!json_is_number(gt) || !json_is_number(lc)) { rc = bad(&r, "missing or mistyped field 'gtol' or 'logit_clamp'"); goto done; }
    floors = ls_calloc(J, sizeof(double));
    ceils = ls_calloc(J, sizeof(double));
    if (!floors || !ceils) { rc = ls_nomem(err); goto done; }
    if ((rc = numbers(&r, fv, J, 1, floors, "floors"))) goto done;
    json_t *cev = json_object_get(root, "ceilings"); /* optional: none is all 1 */
    if (cev) {
        if ((rc = numbers(&r, cev, J, 1, ceils, "ceilings"))) goto done;
        if (!(ceil_list = joined(bn, ceils))) { rc = ls_nomem(err); goto done; }
    }
    bl = joined(bn, NULL);
    cl = joined(cv, NULL);
    fl = joined(bn, floors);
    al = joined(an, NULL);
    if (!bl || !cl || !fl || !al) { rc = ls_nomem(err); goto done; }

    /* the fit's benchmarks the data lack, named (ls_data_build would only
     * say the recorded list does not fit the columns) */
    {
        char miss[LS_ERROR_LEN / 2] = "";
        size_t nmiss = 0, used = 0;
        for (size_t j = 0; j < J; j++) {
            const char *b = json_string_value(json_array_get(bn, j));
            if (ls_table_find(t, b) >= 0) continue;
            if (used < sizeof miss - 80) {
                int w = snprintf(miss + used, sizeof miss - used, "%s'%.60s'", nmiss ? ", " : "", b);
                if (w > 0) used += (size_t)w < sizeof miss - used ? (size_t)w : sizeof miss - used - 1;
            } else if (used < sizeof miss - 5) {
                snprintf(miss + used, sizeof miss - used, ", ...");
                used = sizeof miss;
            }
            nmiss++;
        }
        if (nmiss) {
            rc = ls_fail(err, LS_ERR_INPUT, "%s does not match the fit %s: it lacks %zu of the fit's %zu benchmarks: %s",
                         ls_table_name(t), path, nmiss, J, miss);
            goto done;
        }
    }

    ls_data_options dopt;
    ls_data_options_init(&dopt);
    dopt.benchmarks = bl;
    dopt.covariates = cl;
    dopt.floors = fl;
    dopt.ceilings = ceil_list;
    dopt.clip = json_real_value(clip);
    dopt.model_column = json_string_value(mc);
    dopt.family_column = json_string_value(fc);
    /* optional (fits of 0.6.0 have none): the size and tokens columns, the drops */
    json_t *scv = json_object_get(dop, "size_column"), *tcv = json_object_get(dop, "tokens_column");
    json_t *dic = json_object_get(dop, "drop_incomplete");
    if ((scv && !json_is_string(scv)) || (tcv && !json_is_string(tcv)) || (dic && !json_is_boolean(dic))) {
        rc = bad(&r, "mistyped field 'size_column', 'tokens_column' or 'drop_incomplete'");
        goto done;
    }
    if (scv) dopt.size_column = json_string_value(scv);
    if (tcv) dopt.tokens_column = json_string_value(tcv);
    dopt.drop_incomplete = json_is_true(dic);
    if ((rc = ls_data_build(t, &dopt, &d, err))) {
        if (rc == LS_ERR_OPTION && err) { /* the fit's own options: the data do not match */
            char msg[LS_ERROR_LEN];
            snprintf(msg, sizeof msg, "%s", err->message);
            rc = ls_fail(err, LS_ERR_INPUT, "%s does not match the fit %s (%.300s)", ls_table_name(t), path, msg);
        }
        goto done;
    }

    ls_fit_options fo;
    ls_fit_options_init(&fo);
    fo.skills = K;
    fo.anchors = al;
    fo.integration = integration_kind(json_string_value(ig));
    fo.nodes = (unsigned)json_integer_value(nd);
    fo.gtol = json_number_value(gt);
    fo.logit_clamp = json_number_value(lc);
    fo.seed = (uint64_t)json_integer_value(sd);
    fo.threads = threads;
    json_t *pc = json_object_get(op, "precision_covariates");
    fo.precision_covariates = json_is_true(pc);
    fo.family_effect = json_is_true(json_object_get(op, "family_effect"));
    /* estimated ceilings: their kappa follow in theta, their values in the
     * natural vector */
    json_t *ec = json_object_get(op, "estimate_ceilings");
    size_t nkap = 0;
    if (json_is_string(ec) && *json_string_value(ec)) {
        fo.estimate_ceilings = json_string_value(ec);
        long *kap = ls_calloc(J, sizeof(long));
        if (!kap) { rc = ls_nomem(err); goto done; }
        rc = ls_ceilings_estimated(d, fo.estimate_ceilings, kap, &nkap, err);
        ls_free(kap);
        if (rc) goto done;
    } else if (ec && !json_is_null(ec)) {
        rc = bad(&r, "mistyped field 'options.estimate_ceilings'");
        goto done;
    }
    size_t dim = ls_params_count(K, J, d->p) + (fo.precision_covariates ? d->p : 0) + nkap +
                 (fo.family_effect ? J : 0);
    theta = ls_calloc(dim, sizeof(double));
    if (!theta) { rc = ls_nomem(err); goto done; }
    if ((rc = numbers(&r, th, dim, 1, theta, "parameters.theta"))) goto done;
    if ((rc = ls_fit_at(d, &fo, theta, &f, err))) goto done;
    double rec = json_number_value(llv);
    if (!(fabs(f->loglik - rec) <= 1e-6 * fabs(rec) + 1e-3)) {
        rc = ls_fail(err, LS_ERR_INPUT,
                     "%s: the data in %s give log-likelihood %.6f at this fit's estimates, the fit recorded %.6f: not the data it was fitted on",
                     path, ls_table_name(t), f->loglik, rec);
        goto done;
    }
    f->loglik = rec; /* what the file says, to the last digit */
    const char *ach = json_string_value(json_object_get(op, "anchors_chosen")); /* optional: before 0.14 named */
    f->anchors_auto = ach && strcmp(ach, "data") == 0;
    /* a clipped fit converged by the log-likelihood's change stays so (its
     * gradient at the kinks, recomputed here, is not below gtol) */
    json_t *cvj = json_object_get(root, "convergence");
    json_t *crit = json_is_object(cvj) ? json_object_get(cvj, "criterion") : NULL;
    if (!f->converged && fo.logit_clamp > 0 && json_is_true(json_object_get(root, "converged")) &&
        json_is_string(crit) && strcmp(json_string_value(crit), LS_CRITERION_CHANGE) == 0)
        f->converged = LS_CONVERGED_CHANGE;
    /* the Hessian half of the certificate, as the fit found it */
    json_t *hj = json_is_object(cvj) ? json_object_get(cvj, "hessian") : NULL;
    if (json_is_string(hj)) {
        const char *hs = json_string_value(hj);
        f->hessian = strcmp(hs, "negative definite") == 0 ? 1 : strcmp(hs, "not negative definite") == 0 ? 0 : -1;
        json_t *ej = json_object_get(cvj, "information_min_eigenvalue");
        f->info_min_eig = json_is_number(ej) ? json_number_value(ej) : NAN;
        if (f->hessian == 0) f->converged = 0;
    }
    /* the warnings the fit recorded (the fit rebuilt here recomputes only
     * some of them): every one, in the file's order, then the new ones */
    json_t *wj = json_object_get(root, "warnings");
    if (json_is_array(wj) && json_array_size(wj)) {
        ls_strlist now = f->warn;
        memset(&f->warn, 0, sizeof f->warn);
        for (size_t i = 0; i < json_array_size(wj); i++)
            if (json_is_string(json_array_get(wj, i))) ls_strlist_add(&f->warn, "%s", json_string_value(json_array_get(wj, i)));
        for (size_t k = 0; k < ls_strlist_count(&now); k++) {
            int seen = 0;
            for (size_t i = 0; !seen && i < ls_strlist_count(&f->warn); i++)
                seen = strcmp(ls_strlist_get(&f->warn, i), ls_strlist_get(&now, k)) == 0;
            if (!seen) ls_strlist_add(&f->warn, "%s", ls_strlist_get(&now, k));
        }
        ls_strlist_free(&now);
        if (f->warn.failed) { rc = ls_nomem(err); goto done; }
    }
    /* the calibration: sorted values in [0, 1] */
    json_t *cal = json_object_get(root, "calibration");
    if (cal && !json_is_null(cal)) {
        json_t *pit = json_object_get(cal, "pit"), *cm = json_object_get(cal, "models");
        size_t m = json_array_size(pit);
        if (!json_is_object(cal) || !json_is_array(pit) || m == 0 || m > 10000000 || !json_is_integer(cm) ||
            json_integer_value(cm) < 1) {
            rc = bad(&r, "mistyped field 'calibration'");
            goto done;
        }
        f->calib_pit = ls_calloc(m, sizeof(double));
        if (!f->calib_pit) { rc = ls_nomem(err); goto done; }
        if ((rc = numbers(&r, pit, m, 1, f->calib_pit, "calibration.pit"))) goto done;
        for (size_t a = 0; a < m; a++)
            if (!(f->calib_pit[a] >= 0 && f->calib_pit[a] <= 1) || (a && f->calib_pit[a] < f->calib_pit[a - 1])) {
                rc = bad(&r, "field 'calibration.pit': expected sorted numbers in [0, 1]");
                goto done;
            }
        f->calib_n = m;
        f->calib_models = f->calib_families = (size_t)json_integer_value(cm);
        /* per benchmark (0.12.0 on): together they are the pooled values */
        json_t *pb = json_object_get(cal, "pit_by_benchmark"), *fd = json_object_get(cal, "folds");
        if (pb) {
            if (!json_is_object(pb) || !json_is_integer(fd) || json_integer_value(fd) < 1) {
                rc = bad(&r, "mistyped field 'calibration.pit_by_benchmark' or 'calibration.folds'");
                goto done;
            }
            f->calib_folds = (size_t)json_integer_value(fd);
            json_t *cr = json_object_get(cal, "cold_refits");
            f->calib_cold = json_is_integer(cr) && json_integer_value(cr) >= 0 ? (size_t)json_integer_value(cr) : 0;
            f->calib_boff = ls_calloc(J + 1, sizeof(size_t));
            f->calib_bpit = ls_calloc(m, sizeof(double));
            if (!f->calib_boff || !f->calib_bpit) { rc = ls_nomem(err); goto done; }
            for (size_t j = 0; j < J; j++) {
                json_t *v = json_object_get(pb, d->bench[j]);
                size_t mj = json_array_size(v), at = f->calib_boff[j];
                if (!json_is_array(v) || mj > m - at) {
                    rc = bad(&r, "field 'calibration.pit_by_benchmark': expected an array per benchmark, "
                                 "together the values of 'calibration.pit'");
                    goto done;
                }
                char what[96];
                snprintf(what, sizeof what, "calibration.pit_by_benchmark.%.40s", d->bench[j]);
                if (mj && (rc = numbers(&r, v, mj, 1, f->calib_bpit + at, what))) goto done;
                for (size_t a = at; a < at + mj; a++)
                    if (!(f->calib_bpit[a] >= 0 && f->calib_bpit[a] <= 1) || (a > at && f->calib_bpit[a] < f->calib_bpit[a - 1])) {
                        rc = bad(&r, "field 'calibration.pit_by_benchmark': expected sorted numbers in [0, 1]");
                        goto done;
                    }
                f->calib_boff[j + 1] = at + mj;
            }
            if (f->calib_boff[J] != m) {
                char msg[128];
                snprintf(msg, sizeof msg, "field 'calibration.pit_by_benchmark': %zu values, 'calibration.pit' %zu",
                         f->calib_boff[J], m);
                rc = bad(&r, msg);
                goto done;
            }
        }
    }
    /* covariances, when the fit computed them */
    json_t *se = json_object_get(root, "standard_errors");
    json_t *tc = json_is_object(se) ? json_object_get(se, "theta_covariance") : NULL;
    json_t *nc = json_is_object(se) ? json_object_get(json_object_get(se, "covariance"), "matrix") : NULL;
    if (json_is_array(tc) && json_is_array(nc)) {
        size_t q = ls_fit_nnat(f);
        f->inf.nnat = q;
        f->inf.dim = dim;
        f->inf.theta_cov = ls_calloc(dim * dim, sizeof(double));
        f->inf.cov = ls_calloc(q * q, sizeof(double));
        f->inf.se[0] = ls_calloc(q, sizeof(double));
        if (!f->inf.theta_cov || !f->inf.cov || !f->inf.se[0]) { rc = ls_nomem(err); goto done; }
        if ((rc = numbers(&r, tc, dim, dim, f->inf.theta_cov, "standard_errors.theta_covariance"))) goto done;
        if ((rc = numbers(&r, nc, q, q, f->inf.cov, "standard_errors.covariance.matrix"))) goto done;
        for (size_t a = 0; a < q; a++) f->inf.se[0][a] = sqrt(f->inf.cov[a * q + a]);
        f->inf.ok[0] = 1;
        f->have_se = 1;
    }
done:
    json_decref(root);
    ls_free(bl); ls_free(cl); ls_free(fl); ls_free(al); ls_free(floors); ls_free(ceils); ls_free(ceil_list); ls_free(theta);
    if (rc) {
        ls_fit_free(f);
        ls_data_free(d);
        return rc;
    }
    *dout = d;
    *fout = f;
    return LS_OK;
}

/* ---------------------------------------------------------------- */
/* The data-free part of a fit file                                  */
/* ---------------------------------------------------------------- */

void ls_fit_summary_free(ls_fit_summary *s)
{
    if (!s) return;
    if (s->benchmarks) ls_strv_free(s->benchmarks, s->est.J);
    if (s->covariates) ls_strv_free(s->covariates, s->est.p);
    ls_free(s->nat_cov);
    ls_params_free(&s->est);
    ls_strlist_free(&s->warn);
    ls_free(s);
}

const ls_params *ls_fit_summary_params(const ls_fit_summary *s) { return &s->est; }
const char *ls_fit_summary_benchmark(const ls_fit_summary *s, size_t j)
{
    return j < s->est.J ? s->benchmarks[j] : NULL;
}
uint64_t ls_fit_summary_seed(const ls_fit_summary *s) { return s->seed; }
void ls_fit_summary_ranges(const ls_fit_summary *s, double range[6])
{
    for (int i = 0; i < 4; i++) range[i] = s->range[i];
    range[4] = s->st_range[0];
    range[5] = s->st_range[1];
}

int ls_fit_summarise(const ls_fit *f, const ls_data *d, ls_fit_summary **out, ls_error *err)
{
    *out = NULL;
    ls_fit_summary *s = ls_calloc(1, sizeof *s);
    if (!s) return ls_nomem(err);
    size_t K = f->K, J = f->J, p = f->p;
    int rc = ls_params_alloc(&s->est, K, J, p, err);
    if (rc) {
        ls_free(s);
        return rc;
    }
    ls_params_copy(&s->est, &f->est);
    s->seed = f->opt.seed;
    for (size_t i = 0; i < ls_fit_nwarnings(f); i++)
        if (ls_strlist_add(&s->warn, "%s", ls_fit_warning(f, i))) {
            ls_fit_summary_free(s);
            return ls_nomem(err);
        }
    s->benchmarks = ls_calloc(J, sizeof(char *));
    s->covariates = ls_calloc(p ? p : 1, sizeof(char *));
    double *mn = ls_calloc(p + 1, sizeof(double)), *mx = ls_calloc(p + 1, sizeof(double));
    if (!s->benchmarks || !s->covariates || !mn || !mx) rc = ls_nomem(err);
    for (size_t j = 0; !rc && j < J; j++)
        if (!(s->benchmarks[j] = ls_strdup(d->bench[j]))) rc = ls_nomem(err);
    for (size_t k = 0; !rc && k < p; k++)
        if (!(s->covariates[k] = ls_strdup(d->covariate[k]))) rc = ls_nomem(err);
    if (!rc) {
        lss_covariate_ranges(d, mn, mx, s->st_range);
        for (int i = 0; i < 4; i++) s->range[i] = NAN;
        for (size_t k = 0; k < p; k++) {
            if (strcmp(d->covariate[k], "log(size)") == 0) { s->range[0] = exp(mn[k]); s->range[1] = exp(mx[k]); }
            if (strcmp(d->covariate[k], "log(tokens)") == 0) { s->range[2] = exp(mn[k]); s->range[3] = exp(mx[k]); }
        }
    }
    const double *cov = ls_fit_nat_cov(f);
    if (!rc && cov) { /* the leading block: beta .. sigma and gamma, without the ceilings */
        size_t q0 = ls_nat_count(K, J, p) + (s->est.hetero ? p : 0), q = f->inf.nnat;
        if (!(s->nat_cov = ls_calloc(q0 * q0, sizeof(double)))) rc = ls_nomem(err);
        for (size_t a = 0; !rc && a < q0; a++) memcpy(s->nat_cov + a * q0, cov + a * q, q0 * sizeof(double));
    }
    ls_free(mn);
    ls_free(mx);
    if (rc) {
        ls_fit_summary_free(s);
        return rc;
    }
    *out = s;
    return LS_OK;
}

static char **strings(json_t *a, size_t n)
{
    char **v = ls_calloc(n ? n : 1, sizeof(char *));
    for (size_t i = 0; v && i < n; i++)
        if (!(v[i] = ls_strdup(json_string_value(json_array_get(a, i))))) {
            ls_strv_free(v, i);
            return NULL;
        }
    return v;
}

int ls_fit_summary_read(const char *path, ls_fit_summary **out, ls_error *err)
{
    *out = NULL;
    ls_fit_summary *s = ls_calloc(1, sizeof *s);
    if (!s) return ls_nomem(err);
    rd r = {path, err};
    int rc = LS_OK;
    json_t *root = open_fit(&r, &rc);
    if (!root) {
        ls_free(s);
        return rc;
    }
    json_t *sk = need(&r, root, "skills", JSON_INTEGER, &rc);
    json_t *bn = rc ? NULL : need(&r, root, "benchmarks", JSON_ARRAY, &rc);
    json_t *cv = rc ? NULL : need(&r, root, "covariates", JSON_ARRAY, &rc);
    json_t *par = rc ? NULL : need(&r, root, "parameters", JSON_OBJECT, &rc);
    json_t *cs = rc ? NULL : need(&r, root, "covariate_scaling", JSON_OBJECT, &rc);
    json_t *op = rc ? NULL : need(&r, root, "options", JSON_OBJECT, &rc);
    if (rc) goto done;
    if (!all_strings(bn) || !all_strings(cv)) { rc = bad(&r, "benchmark or covariate names are not strings"); goto done; }
    size_t J = json_array_size(bn), p = json_array_size(cv), K = (size_t)json_integer_value(sk);
    if (K < 1 || K > J) { rc = bad(&r, "skills and benchmarks disagree"); goto done; }
    if ((rc = ls_params_alloc(&s->est, K, J, p, err))) goto done;
    s->benchmarks = strings(bn, J);
    s->covariates = strings(cv, p);
    if (!s->benchmarks || !s->covariates) { rc = ls_nomem(err); goto done; }
    if ((rc = numbers(&r, json_object_get(par, "beta"), p, K, s->est.beta, "parameters.beta"))) goto done;
    if ((rc = numbers(&r, json_object_get(par, "lambda"), K, J, s->est.lambda, "parameters.lambda"))) goto done;
    if ((rc = numbers(&r, json_object_get(par, "b"), J, 1, s->est.b, "parameters.b"))) goto done;
    if ((rc = numbers(&r, json_object_get(par, "phi"), J, 1, s->est.phi, "parameters.phi"))) goto done;
    if ((rc = numbers(&r, json_object_get(par, "sigma"), K, K, s->est.sigma, "parameters.sigma"))) goto done;
    json_t *gm = json_object_get(par, "gamma");
    if (gm) {
        s->est.hetero = 1;
        if ((rc = numbers(&r, gm, p, 1, s->est.gamma, "parameters.gamma"))) goto done;
    }
    json_t *tj = json_object_get(par, "tau");
    if (tj) {
        s->est.family_effect = 1;
        if ((rc = numbers(&r, tj, J, 1, s->est.tau, "parameters.tau"))) goto done;
    }
    json_t *sd = json_object_get(op, "seed");
    s->seed = json_is_integer(sd) ? (uint64_t)json_integer_value(sd) : 1;
    json_t *wj = json_object_get(root, "warnings");
    for (size_t i = 0; json_is_array(wj) && i < json_array_size(wj); i++)
        if (json_is_string(json_array_get(wj, i)) &&
            ls_strlist_add(&s->warn, "%s", json_string_value(json_array_get(wj, i)))) {
            rc = ls_nomem(err);
            goto done;
        }
    for (int i = 0; i < 4; i++) s->range[i] = NAN;
    double *mn = ls_calloc(p + 1, sizeof(double)), *mx = ls_calloc(p + 1, sizeof(double));
    if (!mn || !mx) { ls_free(mn); ls_free(mx); rc = ls_nomem(err); goto done; }
    rc = numbers(&r, json_object_get(cs, "min"), p, 1, mn, "covariate_scaling.min");
    if (!rc) rc = numbers(&r, json_object_get(cs, "max"), p, 1, mx, "covariate_scaling.max");
    for (size_t k = 0; !rc && k < p; k++) {
        if (strcmp(s->covariates[k], "log(size)") == 0) { s->range[0] = exp(mn[k]); s->range[1] = exp(mx[k]); }
        if (strcmp(s->covariates[k], "log(tokens)") == 0) { s->range[2] = exp(mn[k]); s->range[3] = exp(mx[k]); }
    }
    ls_free(mn);
    ls_free(mx);
    if (rc) goto done;
    s->st_range[0] = s->st_range[1] = NAN;
    json_t *str = json_object_get(cs, "size_tokens_range");
    if (str && (rc = numbers(&r, str, 2, 1, s->st_range, "covariate_scaling.size_tokens_range"))) goto done;
    json_t *se = json_object_get(root, "standard_errors");
    json_t *nc = json_is_object(se) ? json_object_get(json_object_get(se, "covariance"), "matrix") : NULL;
    if (json_is_array(nc)) {
        size_t q0 = ls_nat_count(K, J, p) + (s->est.hetero ? p : 0);
        size_t q = q0 + (json_array_size(json_object_get(root, "ceilings_estimated")) ? J : 0) +
                   (s->est.family_effect ? J : 0);
        if (!(s->nat_cov = ls_calloc(q * q, sizeof(double)))) { rc = ls_nomem(err); goto done; }
        if ((rc = numbers(&r, nc, q, q, s->nat_cov, "standard_errors.covariance.matrix"))) goto done;
        for (size_t a = 0; q > q0 && a < q0; a++) /* the leading block, in place */
            memmove(s->nat_cov + a * q0, s->nat_cov + a * q, q0 * sizeof(double));
    }
done:
    json_decref(root);
    if (rc) ls_fit_summary_free(s);
    else *out = s;
    return rc;
}
