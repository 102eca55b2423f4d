/*
 * test_output.c -- JSON outputs: the fields other tools read, shapes,
 * byte-identical files for the same input and seed, atomic writes that
 * leave an existing file untouched on failure.
 */
#include "harness.h"
#include "latentscale.h"
#include "kernel/atomic.h"

#include <jansson.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/ls-out-XXXXXX";

static ls_data *small_data(ls_table **tp)
{
    ls_sim_options so;
    ls_sim_options_init(&so);
    so.families = 30;
    so.skills = 2;
    so.benchmarks = 5;
    ls_params tr;
    double *fl = NULL;
    ls_error e;
    if (ls_simulate(&so, tp, &tr, &fl, &e)) return NULL;
    ls_params_free(&tr);
    free(fl);
    ls_data_options o;
    ls_data_options_init(&o);
    ls_data *d = NULL;
    ls_data_build(*tp, &o, &d, &e);
    return d;
}

static char *slurp(const char *p)
{
    FILE *f = fopen(p, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = calloc((size_t)n + 1, 1);
    if (fread(b, 1, (size_t)n, f) != (size_t)n) { free(b); b = NULL; }
    fclose(f);
    return b;
}

static void fit_json_has_every_documented_field_and_is_reproducible(void)
{
    ls_table *t = NULL;
    ls_data *d = small_data(&t);
    CHECK(d != NULL);
    if (!d) return;
    ls_fit_options o;
    ls_fit_options_init(&o);
    o.skills = 2;
    o.starts = 2;
    ls_fit *f1 = NULL, *f2 = NULL;
    ls_error e;
    CHECK(ls_fit_run(d, &o, &f1, &e) == LS_OK);
    CHECK(ls_fit_run(d, &o, &f2, &e) == LS_OK);
    char p1[256], p2[256];
    snprintf(p1, sizeof p1, "%s/a.json", dir);
    snprintf(p2, sizeof p2, "%s/b.json", dir);
    CHECK(ls_fit_write_json(f1, d, p1, "[\"fit\",\"x.csv\"]", &e) == LS_OK);
    CHECK(ls_fit_write_json(f2, d, p2, "[\"fit\",\"x.csv\"]", &e) == LS_OK);
    char *a = slurp(p1), *b = slurp(p2);
    CHECK(a && b && strcmp(a, b) == 0);
    json_error_t je;
    json_t *r = json_loads(a ? a : "{}", 0, &je);
    const char *keys[] = {"loglik", "aic", "bic", "n_params", "converged", "skills", "benchmarks",
                          "covariates", "parameters", "families", "seed", "version", "options"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        CHECK_MSG(json_object_get(r, keys[i]) != NULL, "missing %s", keys[i]);
    json_t *par = json_object_get(r, "parameters");
    CHECK(json_array_size(json_object_get(par, "beta")) == 3);
    CHECK(json_array_size(json_array_get(json_object_get(par, "beta"), 0)) == 2);
    CHECK(json_array_size(json_object_get(par, "lambda")) == 2);
    CHECK(json_array_size(json_array_get(json_object_get(par, "lambda"), 0)) == 5);
    CHECK(json_array_size(json_object_get(par, "b")) == 5 && json_array_size(json_object_get(par, "phi")) == 5);
    CHECK(json_array_size(json_object_get(par, "sigma")) == 2);
    CHECK(json_array_size(json_object_get(par, "beta_std")) == 3);
    CHECK(json_array_size(json_object_get(r, "families")) == ls_data_nfamilies(d));
    CHECK(strcmp(json_string_value(json_object_get(r, "version")), LS_VERSION) == 0);
    CHECK(json_real_value(json_object_get(r, "loglik")) == ls_fit_loglik(f1));
    json_t *fam0 = json_array_get(json_object_get(r, "families"), 0);
    CHECK(json_array_size(json_object_get(fam0, "alpha_mode")) == 2);
    CHECK(json_is_array(json_object_get(json_object_get(r, "options"), "command_line")));
    /* standard errors: three kinds on the natural scales, and the covariance
     * whose diagonal is the square of the Hessian standard errors */
    json_t *se = json_object_get(r, "standard_errors");
    CHECK(json_is_object(se));
    json_t *sh = json_object_get(se, "hessian");
    CHECK(json_array_size(json_object_get(sh, "beta")) == 3 && json_array_size(json_object_get(sh, "phi")) == 5);
    CHECK(json_is_object(json_object_get(se, "sandwich")) && json_is_object(json_object_get(se, "opg")));
    json_t *cov = json_object_get(se, "covariance");
    size_t q = 3 * 2 + 2 * 5 + 2 * 5 + 2 * 2;
    CHECK(json_array_size(json_object_get(cov, "order")) == q && json_array_size(json_object_get(cov, "matrix")) == q);
    const double *seh = ls_fit_se(f1, LS_SE_HESSIAN);
    CHECK(seh != NULL);
    if (seh && json_array_size(json_object_get(cov, "matrix")) == q)
        for (size_t i = 0; i < q; i++) {
            double v = json_number_value(json_array_get(json_array_get(json_object_get(cov, "matrix"), i), i));
            CHECK_NEAR(sqrt(v), seh[i], 1e-9 * (1 + seh[i]));
        }
    const char *n0 = json_string_value(json_array_get(json_object_get(cov, "order"), 0));
    const char *nl = json_string_value(json_array_get(json_object_get(cov, "order"), q - 1));
    CHECK(n0 && strncmp(n0, "beta[log(size),", 15) == 0);
    CHECK(nl && strncmp(nl, "sigma[", 6) == 0);
    json_decref(r);
    free(a);
    free(b);
    ls_fit_free(f1);
    ls_fit_free(f2);
    ls_data_free(d);
    ls_table_free(t);
    unlink(p1);
    unlink(p2);
}

static void failed_atomic_write_leaves_the_old_file(void)
{
    char p[256];
    snprintf(p, sizeof p, "%s/keep.txt", dir);
    FILE *f = fopen(p, "w");
    fputs("old\n", f);
    fclose(f);
    ls_atomic a;
    ls_error e;
    CHECK(ls_atomic_open(&a, p, &e) == LS_OK);
    fputs("new partial", a.fp);
    ls_atomic_abort(&a); /* as if the run died before commit */
    char *s = slurp(p);
    CHECK(s && strcmp(s, "old\n") == 0);
    free(s);
    CHECK(ls_atomic_open(&a, p, &e) == LS_OK);
    fputs("new\n", a.fp);
    CHECK(ls_atomic_commit(&a, &e) == LS_OK);
    s = slurp(p);
    CHECK(s && strcmp(s, "new\n") == 0);
    free(s);
    /* unwritable folder and a directory target fail with messages */
    CHECK(ls_atomic_open(&a, "/nonexistent/dir/x.json", &e) == LS_ERR_IO);
    CHECK(strstr(e.message, "/nonexistent/dir/x.json: cannot write") != NULL);
    CHECK(ls_atomic_open(&a, dir, &e) == LS_ERR_IO);
    unlink(p);
}

int main(void)
{
    if (!mkdtemp(dir)) return 1;
    RUN(fit_json_has_every_documented_field_and_is_reproducible);
    RUN(failed_atomic_write_leaves_the_old_file);
    rmdir(dir);
    return h_finish();
}
