/*
 * commands.c -- the fit, simulate and demo commands.
 */
#include "cli/cli.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

/* Row labels as wide as the longest name (at least 22 characters), each
 * skill column as wide as its name (at least 10), so no name is cut. */
static void print_row_label(const char *s, int w) { printf("  %-*s", w, s); }

static int widest(int w, const char *s)
{
    size_t n = strlen(s);
    return n > (size_t)w && n < 1000 ? (int)n : w;
}

static int skill_width(const ls_data *d, const ls_params *pr, size_t k)
{
    return widest(10, ls_data_benchmark(d, pr->anchors[k]));
}

void cli_print_fit(const ls_fit *f, const ls_data *d)
{
    const ls_params *pr = ls_fit_params(f);
    size_t K = pr->K, J = pr->J, p = pr->p;
    int W = 22;
    for (size_t q = 0; q < p; q++) W = widest(W, ls_data_covariate(d, q));
    for (size_t j = 0; j < J; j++) W = widest(W, ls_data_benchmark(d, j));
    printf("latent-variable scaling law, K = %zu skills\n", K);
    printf("data: %zu models, %zu families, %zu benchmarks, %zu observed scores\n",
           ls_data_nmodels(d), ls_data_nfamilies(d), J, ls_data_nobserved(d));
    printf("skills named by their anchors (each measures its skill only):");
    for (size_t k = 0; k < K; k++) printf("%s %s", k ? "," : "", ls_data_benchmark(d, pr->anchors[k]));
    printf(ls_fit_anchors_from_data(f) ? "\n  (chosen from the data, no two nearly collinear)\n\n" : "\n\n");
    printf("covariate effects on skills (raw log scale)\n");
    print_row_label("covariate", W);
    for (size_t k = 0; k < K; k++) printf(" %*s", skill_width(d, pr, k), ls_data_benchmark(d, pr->anchors[k]));
    printf("\n");
    const double *se = ls_fit_se(f, LS_SE_HESSIAN);
    size_t lay[LS_NAT_NBLOCKS + 1];
    ls_fit_nat_layout(f, lay);
    char cell[32];
    for (size_t q = 0; q < p; q++) {
        print_row_label(ls_data_covariate(d, q), W);
        for (size_t k = 0; k < K; k++) printf(" %*.4f", skill_width(d, pr, k), pr->beta[q * K + k]);
        printf("\n");
        if (se) {
            print_row_label("  (standard error)", W);
            for (size_t k = 0; k < K; k++) {
                snprintf(cell, sizeof cell, "(%6.4f)", se[lay[LS_NAT_BETA] + q * K + k]);
                printf(" %*s", skill_width(d, pr, k), cell);
            }
            printf("\n");
        }
    }
    if (se) printf("  standard errors: inverse observed information (95 %% intervals: estimate +- 1.96 se);\n"
                   "  sandwich and OPG standard errors and every interval in the JSON\n");
    printf("\nloadings (rows: benchmarks; columns: skills) and benchmark parameters\n");
    print_row_label("benchmark", W);
    for (size_t k = 0; k < K; k++) printf(" %*s", skill_width(d, pr, k), ls_data_benchmark(d, pr->anchors[k]));
    int has_ceil = 0, est_ceil = 0; /* a ceiling column only when some benchmark has one */
    for (size_t j = 0; j < J; j++) {
        has_ceil |= pr->ceiling[j] < 1;
        est_ceil |= ls_fit_ceiling_estimated(f, j);
    }
    has_ceil |= est_ceil;
    printf(" %9s %9s %9s%s\n", "b", "phi", "floor", has_ceil ? "   ceiling" : "");
    for (size_t j = 0; j < J; j++) {
        print_row_label(ls_data_benchmark(d, j), W);
        for (size_t k = 0; k < K; k++) printf(" %*.4f", skill_width(d, pr, k), pr->lambda[k * J + j]);
        printf(" %9.4f %9.2f %9.4f", pr->b[j], pr->phi[j], ls_data_floor(d, j));
        if (has_ceil) printf(" %9.4f", pr->ceiling[j]);
        if (ls_fit_ceiling_estimated(f, j)) {
            if (se) printf(" (%6.4f)", se[lay[LS_NAT_CEILING] + j]);
            else printf(" (estimated)");
        }
        printf("\n");
    }
    if (est_ceil && se) printf("  (standard errors of the estimated ceilings)\n");
    if (K > 1) {
        printf("\nskill correlations\n");
        print_row_label("", W);
        for (size_t k = 0; k < K; k++) printf(" %*s", skill_width(d, pr, k), ls_data_benchmark(d, pr->anchors[k]));
        printf("\n");
        for (size_t r = 0; r < K; r++) {
            print_row_label(ls_data_benchmark(d, pr->anchors[r]), W);
            for (size_t c = 0; c < K; c++) printf(" %*.4f", skill_width(d, pr, c), pr->sigma[r * K + c]);
            printf("\n");
        }
    }
    if (pr->hetero) {
        printf("\nprecision: log phi_ij = log phi_j + gamma . (x_i - mean x); phi above is at the covariate means\n");
        const double *sg = se;
        for (size_t q = 0; q < p; q++) {
            print_row_label(ls_data_covariate(d, q), W);
            printf(" gamma %9.4f", pr->gamma[q]);
            if (sg) printf("   (%6.4f)", sg[lay[LS_NAT_GAMMA] + q]);
            printf("\n");
        }
        double l0, a0, lr, df, pv;
        if (ls_fit_precision_test(f, &l0, &a0, &lr, &df, &pv))
            printf("against constant precision: log-likelihood %.4f vs %.4f, LR %.3f on %.0f df, p = %.3g; AIC %.2f vs %.2f\n",
                   ls_fit_loglik(f), l0, lr, df, pv, ls_fit_aic(f), a0);
    }
    if (pr->family_effect) {
        printf("\nfamily-by-benchmark effect: eta + u_fj, u_fj ~ N(0, tau_j^2), independent of the skills\n");
        print_row_label("benchmark", W);
        printf(" %9s %9s\n", "tau", "(se)");
        for (size_t j = 0; j < J; j++) {
            print_row_label(ls_data_benchmark(d, j), W);
            printf(" %9.4f", pr->tau[j]);
            if (se) printf(" (%6.4f)", se[lay[LS_NAT_TAU] + j]);
            printf("\n");
        }
        double l0, lr, pv;
        if (ls_fit_family_effect_test(f, &l0, &lr, &pv))
            printf("against no effect: log-likelihood %.4f vs %.4f, LR %.3f, p = %.3g (chi-bar-square: tau = 0 is on the "
                   "boundary)\n", ls_fit_loglik(f), l0, lr, pv);
    }
    printf("\nlog-likelihood %.4f   parameters %zu   AIC %.2f   BIC %.2f\n", ls_fit_loglik(f),
           ls_fit_nparams(f), ls_fit_aic(f), ls_fit_bic(f));
    size_t npts;
    double llc = ls_fit_loglik_check(f, &npts);
    int laplace = strcmp(ls_fit_integration(f, NULL), "laplace") == 0, sparse = strcmp(ls_fit_check_method(f), "sparse-grid") == 0;
    double llse = ls_fit_loglik_check_se(f);
    char sebuf[48] = "";
    if (isfinite(llse)) snprintf(sebuf, sizeof sebuf, " (standard error %.3f)", llse);
    if (isfinite(llc)) {
        double ca, cb;
        ls_fit_check_criteria(f, &ca, &cb);
        int gh = strcmp(ls_fit_check_method(f), "gauss-hermite") == 0;
        printf("(%sby %s with %zu %s per family the log-likelihood here is %.4f%s: AIC %.2f, BIC %.2f)\n",
               laplace ? "Laplace approximation; " : "",
               gh ? "the finer Gauss-Hermite rule"
               : sparse ? (laplace ? "a sparse grid" : pr->family_effect ? "a finer sparse grid" : "the sparse grid two levels finer")
                        : "importance sampling",
               npts, sparse || gh ? "nodes" : "points", llc, sebuf, ca, cb);
    }
    int hd = ls_fit_hessian_definite(f, NULL);
    printf("converged: %s%s%s (max |gradient| %.2e, Hessian %s, %u iterations; polished starts at the best value: %u)\n",
           ls_fit_converged(f) ? "yes" : "NO", ls_fit_converged(f) == LS_CONVERGED_CHANGE ? ", by the " : "",
           ls_fit_converged(f) == LS_CONVERGED_CHANGE ? ls_fit_convergence_criterion(f) : "", ls_fit_gradnorm(f),
           hd > 0 ? "negative definite" : hd == 0 ? "NOT negative definite" : "not computed (--no-se)",
           ls_fit_iterations(f), ls_fit_starts_at_best(f));
    double gfr;
    if (ls_fit_frozen(f, &gfr))
        printf("  the integration rule does not resolve --gtol as its nodes move: on the node map frozen\n"
               "  near the optimum, max |gradient| %.2e\n", gfr);
    double ts, tp, tse, tt;
    ls_fit_timing(f, &ts, &tp, &tse, &tt);
    printf("time: %.1f s (search %.1f s, polish %.1f s, standard errors %.1f s)", tt, ts, tp, tse);
    if (ls_fit_calibration(f, NULL, NULL, NULL)) printf("; calibration %.1f s", ls_fit_calibration_seconds(f));
    printf("\n");
    cli_print_calibration(f, d, 0.9, "");
    size_t nw = ls_fit_nwarnings(f);
    for (size_t i = 0; i < nw; i++) cli_warning(stdout, NULL, ls_fit_warning(f, i));
}

/* ---------------------------------------------------------------- */
/* fit                                                               */
/* ---------------------------------------------------------------- */


/* Read, build, fit, print, write.  If keep is non-NULL the fit and its data
 * are handed back on success (caller frees both). */
static int run_fit(fit_args *a, const char *input, int argc, char **argv, const char *cmd,
                   ls_fit **keep, ls_data **keep_data)
{
    ls_error e = {0, ""};
    if (cli_parse_integration(a->integration, &a->fopt.integration))
        return cli_usage(cmd, "--integration: expected auto, gh, sparse, qmc or laplace");
    if (a->out && (cli_same_file(a->out, input) || cli_same_file(a->out, a->dopt.floors_file) ||
                   cli_same_file(a->out, a->dopt.ceilings_file)))
        return cli_usage(cmd, "--out names an input file; refusing to overwrite it");
    ls_table *t = NULL;
    ls_data *d = NULL;
    ls_fit *f = NULL;
    if (a->no_calibrate) a->fopt.calibrate = 0;
    int rc = ls_items_table_read(input, &t, &e);
    if (!rc) {
        a->fopt.progress = cli_progress;
        rc = ls_fit_table(t, &a->dopt, &a->fopt, &d, &f, &e);
        cli_progress_end();
    }
    if (!rc) cli_data_warning(d);
    int exit_code = 0;
    if (rc) exit_code = cli_fail(&e);
    else {
        if (!a->quiet) cli_print_fit(f, d);
        if (a->out) {
            char *aj = cli_argv_json(argc, argv);
            rc = ls_fit_write_json(f, d, a->out, aj, &e);
            free(aj);
            if (rc) exit_code = cli_fail(&e);
        }
        /* the summary carries the fit's warnings; without it they go to
         * stderr (once the fit is written: a failure stays one line), but
         * the data's, printed above */
        for (size_t i = 0; a->quiet && !exit_code && i < ls_fit_nwarnings(f); i++) {
            const char *w = ls_fit_warning(f, i), *dw = ls_data_warning(d);
            if (!dw || strcmp(w, dw) != 0) cli_warning(stderr, "latentscale: ", w);
        }
        if (!exit_code && !ls_fit_converged(f)) {
            fprintf(stderr, "latentscale: the fit did not converge (max |gradient| %.3g)%s\n",
                    ls_fit_gradnorm(f), a->out ? "; written with \"converged\": false" : "");
            exit_code = EXIT_NUMERIC;
        }
    }
    if (keep && exit_code == 0) {
        *keep = f;
        *keep_data = d;
    } else {
        ls_fit_free(f);
        ls_data_free(d);
    }
    ls_table_free(t);
    return exit_code;
}

int cmd_fit(int argc, char **argv)
{
    fit_args a;
    fit_args_init(&a);
    int json = 0;
    arg_spec specs[] = {DATA_SPECS(a), FIT_SPECS(a),
                        {"out", ARG_STRING, &a.out, "write the fit as JSON here", "FILE"},
                        {"quiet", ARG_FLAG, &a.quiet, "no summary on stdout", NULL},
                        CLI_JSON_SPEC(json),
                        {NULL, 0, NULL, NULL, NULL}};
    arg_result r;
    char msg[200];
    if (args_parse(argc, argv, specs, &r, msg, sizeof msg)) return cli_usage("fit", msg);
    if (r.help) {
        cli_help("fit", "DATA.csv [options]",
                 "Fit the latent-variable scaling law (arXiv 2512.06553) by maximum marginal\n"
                 "likelihood: adaptive quadrature per family, L-BFGS, several seeded starts." CLI_LEADERBOARD_UNITS,
                 specs,
                 "  latentscale fit leaderboard.csv --floors benchmarks.csv --skills 4 --out fit.json\n"
                 "  latentscale fit lb.csv --benchmarks math,ifeval,bbh --floor bbh=0.29 --skills 2\n");
        return 0;
    }
    if (r.npos != 1) return cli_usage("fit", "expected one data file (see --help)");
    if (a.out && (cli_same_file(a.out, r.pos[0]) || cli_same_file(a.out, a.dopt.floors_file) ||
                  cli_same_file(a.out, a.dopt.ceilings_file)))
        return cli_usage("fit", "--out names an input file; refusing to overwrite it");
    cli_json js;
    int x = cli_json_open(&js, json, &a.out);
    if (x) return x;
    return cli_json_close(&js, run_fit(&a, r.pos[0], argc, argv, "fit", NULL, NULL));
}

/* ---------------------------------------------------------------- */
/* simulate                                                          */
/* ---------------------------------------------------------------- */

static char *sibling_json(const char *csv)
{
    size_t n = strlen(csv);
    char *s = malloc(n + 16);
    if (!s) return NULL;
    strcpy(s, csv);
    if (n > 4 && strcmp(s + n - 4, ".csv") == 0) s[n - 4] = '\0';
    strcat(s, ".truth.json");
    return s;
}

static int simulate_to(const ls_sim_options *so, const char *out, const char *truth_out,
                       int argc, char **argv, ls_error *e)
{
    ls_table *t = NULL;
    ls_params truth;
    double *floors = NULL;
    int rc = ls_simulate(so, &t, &truth, &floors, e);
    if (rc) return rc;
    rc = ls_table_write(t, out, e);
    if (!rc) {
        char *aj = cli_argv_json(argc, argv);
        rc = ls_params_write_json(&truth, t, floors, truth_out, aj, e);
        free(aj);
    }
    ls_table_free(t);
    ls_params_free(&truth);
    free(floors);
    return rc;
}

/* floors CSV next to a simulated leaderboard */
static int write_floors(const ls_sim_options *so, const char *path, ls_error *e)
{
    ls_table *t = NULL;
    ls_params truth;
    double *floors = NULL;
    int rc = ls_simulate(so, &t, &truth, &floors, e);
    if (rc) return rc;
    const char *hdr[2] = {"benchmark", "floor"};
    ls_table *ft = NULL;
    rc = ls_table_new("floors", 2, hdr, &ft, e);
    for (size_t j = 0; !rc && j < so->benchmarks; j++) {
        char v[32];
        snprintf(v, sizeof v, "%.6g", floors[j]);
        const char *row[2] = {ls_table_colname(t, 4 + j), v};
        rc = ls_table_append(ft, row, e);
    }
    if (!rc) rc = ls_table_write(ft, path, e);
    ls_table_free(ft);
    ls_table_free(t);
    ls_params_free(&truth);
    free(floors);
    return rc;
}

int cmd_simulate(int argc, char **argv)
{
    ls_sim_options so;
    ls_sim_options_init(&so);
    const char *out = NULL, *truth = NULL, *floors = NULL;
    int quiet = 0;
    cli_field_flag("families", "--n-families");
    cli_field_flag("benchmarks", "--n-benchmarks");
    arg_spec specs[] = {
        {"n-families", ARG_SIZE, &so.families, "number of families (default 60)", "N"},
        {"ceiling", ARG_STRING, &so.ceiling_list, "ceilings of the mean, e.g. hellaswag=0.9 (default 1)", "NAME=V,.."},
        {"family-effect-sd", ARG_DOUBLE, &so.family_effect_sd,
         "a family-by-benchmark effect u_fj ~ N(0, X^2) on the logit (default 0: none)", "X"},
        {"skills", ARG_SIZE, &so.skills, "latent skills K (default 3)", "K"},
        {"n-benchmarks", ARG_SIZE, &so.benchmarks, "number of benchmarks J (default 12)", "J"},
        {"missing", ARG_DOUBLE, &so.missing, "share of models missing a benchmark block (0.3)", "P"},
        {"seed", ARG_U64, &so.seed, "random seed (default 1)", "N"},
        {"out", ARG_STRING, &out, "leaderboard CSV to write (required)", "FILE"},
        {"truth", ARG_STRING, &truth, "true parameters JSON (default OUT with .truth.json)", "FILE"},
        {"floors-out", ARG_STRING, &floors, "also write the floors CSV here", "FILE"},
        {"quiet", ARG_FLAG, &quiet, "no summary on stdout", NULL},
        CLI_RENAMED("families", "--families is now --n-families (a count)"),
        CLI_RENAMED("benchmarks", "--benchmarks is now --n-benchmarks (a count)"),
        {NULL, 0, NULL, NULL, NULL}};
    arg_result r;
    char msg[200];
    if (args_parse(argc, argv, specs, &r, msg, sizeof msg)) return cli_usage("simulate", msg);
    if (r.help) {
        cli_help("simulate", "--out FILE [options]",
                 "Draw a synthetic leaderboard from the scaling law with random realistic true\n"
                 "parameters: many singleton families, 0.1-200 B parameters, 0.1-20 T tokens,\n"
                 "benchmark blocks never run.  Writes the CSV and the true parameters (JSON).",
                 specs, "  latentscale simulate --n-families 60 --skills 3 --seed 7 --out sim.csv\n");
        return 0;
    }
    if (r.npos) return cli_usage("simulate", "takes no positional arguments");
    if (!out) return cli_usage("simulate", "--out is required");
    char *tpath = truth ? NULL : sibling_json(out);
    ls_error e = {0, ""};
    int rc = simulate_to(&so, out, truth ? truth : tpath, argc, argv, &e);
    if (!rc && floors) rc = write_floors(&so, floors, &e);
    int code = rc ? cli_fail(&e) : 0;
    if (!rc && !quiet)
        printf("wrote %s and %s (families %zu, K %zu, J %zu, seed %llu)\n", out,
               truth ? truth : tpath, so.families, so.skills, so.benchmarks,
               (unsigned long long)so.seed);
    free(tpath);
    return code;
}

/* ---------------------------------------------------------------- */
/* demo                                                              */
/* ---------------------------------------------------------------- */

/* mkdir -p: the folder and any missing parents, each 0777 less the umask. */
static int make_dirs(const char *dir, ls_error *e)
{
    char p[PATH_MAX];
    struct stat st;
    if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p) {
        e->code = LS_ERR_IO;
        snprintf(e->message, sizeof e->message, "%.200s...: path too long", dir);
        return e->code;
    }
    for (char *c = p + 1;; c++) {
        if (*c != '/' && *c) continue;
        char keep = *c;
        *c = '\0';
        if (mkdir(p, 0777) != 0 && !(errno == EEXIST && stat(p, &st) == 0 && S_ISDIR(st.st_mode))) {
            e->code = LS_ERR_IO;
            snprintf(e->message, sizeof e->message, "%.300s: cannot create the folder: %s", p,
                     errno == EEXIST ? "not a directory" : strerror(errno));
            return e->code;
        }
        *c = keep;
        if (!keep) break;
    }
    return LS_OK;
}

static int demo_run(int argc, char **argv, int quiet);

/* --quiet: the summary goes to /dev/null, the folder is still printed. */
int cmd_demo(int argc, char **argv)
{
    int quiet = 0;
    for (int i = 0; i < argc && strcmp(argv[i], "--") != 0; i++) quiet |= strcmp(argv[i], "--quiet") == 0;
    int saved = -1;
    if (quiet) {
        fflush(stdout);
        saved = dup(STDOUT_FILENO);
        int null = open("/dev/null", O_WRONLY);
        if (saved < 0 || null < 0 || dup2(null, STDOUT_FILENO) < 0) {
            if (null >= 0) close(null);
            if (saved >= 0) close(saved);
            fprintf(stderr, "latentscale demo: --quiet: cannot redirect the summary\n");
            return EXIT_INPUT;
        }
        close(null);
    }
    int code = demo_run(argc, argv, quiet);
    if (saved >= 0) {
        fflush(stdout);
        dup2(saved, STDOUT_FILENO);
        close(saved);
    }
    return code;
}

static int demo_run(int argc, char **argv, int quiet_flag)
{
    ls_sim_options so;
    ls_sim_options_init(&so);
    so.families = 150;
    so.skills = 3;
    so.seed = 2025;
    fit_args a;
    fit_args_init(&a);
    a.fopt.skills = 3;
    a.fopt.starts = 4;
    const char *dir = NULL;
    int quiet = quiet_flag;
    cli_field_flag("families", "--n-families");
    cli_field_flag("benchmarks", "--n-benchmarks");
    arg_spec specs[] = {
        {"n-families", ARG_SIZE, &so.families, "families to simulate (default 150)", "N"},
        {"n-benchmarks", ARG_SIZE, &so.benchmarks, "benchmarks to simulate (default 12)", "J"},
        {"skills", ARG_SIZE, &so.skills, "true and fitted K (default 3)", "K"},
        {"seed", ARG_U64, &so.seed, "simulation seed (default 2025)", "N"},
        {"threads", ARG_UINT, &a.fopt.threads, "worker threads of the fit (default: all cores)", "N"},
        {"dir", ARG_STRING, &dir, "folder for demo files (default: a new temporary folder)", "DIR"},
        {"quiet", ARG_FLAG, &quiet, "no summary on stdout (give --dir to know where the files are)", NULL},
        {"no-calibrate", ARG_FLAG, &a.no_calibrate,
         "skip the calibration on held-out largest siblings (the fit alone: seconds, not tens of seconds)", NULL},
        CLI_RENAMED("families", "--families is now --n-families (a count)"),
        CLI_RENAMED("benchmarks", "--benchmarks is now --n-benchmarks (a count)"),
        {NULL, 0, NULL, NULL, NULL}};
    arg_result r;
    char msg[200];
    if (args_parse(argc, argv, specs, &r, msg, sizeof msg)) return cli_usage("demo", msg);
    if (r.help) {
        cli_help("demo", "[options]",
                 "Simulate a realistic leaderboard (150 families, 12 benchmarks, 3 skills), fit\n"
                 "the scaling law to it and compare the estimates with the truth.",
                 specs, "  latentscale demo\n  latentscale demo --n-families 300 --seed 7\n");
        return 0;
    }
    if (r.npos) return cli_usage("demo", "takes no positional arguments");
    a.fopt.skills = so.skills;
    a.quiet = quiet;
    char tmpl[] = "/tmp/latentscale-demo-XXXXXX";
    if (!dir) {
        dir = mkdtemp(tmpl);
        if (!dir) return cli_usage("demo", "cannot create a temporary folder");
    }
    ls_error e = {0, ""};
    if (make_dirs(dir, &e)) return cli_fail(&e);
    char csv[PATH_MAX], tru[PATH_MAX], flo[PATH_MAX], fitp[PATH_MAX];
    snprintf(csv, sizeof csv, "%s/leaderboard.csv", dir);
    snprintf(tru, sizeof tru, "%s/truth.json", dir);
    snprintf(flo, sizeof flo, "%s/benchmarks.csv", dir);
    snprintf(fitp, sizeof fitp, "%s/fit.json", dir);
    int rc = simulate_to(&so, csv, tru, argc, argv, &e);
    if (!rc) rc = write_floors(&so, flo, &e);
    if (rc) return cli_fail(&e);
    printf("demo: simulated %zu families with K = %zu into %s\n", so.families, so.skills, dir);
    printf("      latentscale fit %s --floors %s --skills %zu --out %s\n\n", csv, flo, so.skills, fitp);
    a.dopt.floors_file = flo;
    a.out = fitp;
    ls_fit *f = NULL;
    ls_data *d = NULL;
    int code = run_fit(&a, csv, argc, argv, "demo", &f, &d);
    if (code) return code;

    /* the estimates next to the truth */
    ls_table *t = NULL;
    ls_params truth;
    double *floors = NULL;
    if (ls_simulate(&so, &t, &truth, &floors, &e) == LS_OK) {
        const ls_params *est = ls_fit_params(f);
        size_t K = so.skills, J = so.benchmarks;
        double sq = 0;
        size_t n = 0;
        /* natural-vector offsets of the standard errors */
        const double *se = ls_fit_se(f, LS_SE_HESSIAN);
        size_t lay[LS_NAT_NBLOCKS + 1];
        ls_fit_nat_layout(f, lay);
        size_t off_b = lay[LS_NAT_BETA], off_l = lay[LS_NAT_LAMBDA], off_s = lay[LS_NAT_SIGMA];
        size_t within = 0;
        printf("\nestimates against the truth (raw log scale; se from the inverse observed information)\n"
               "  %-40s %9s %9s %9s %7s\n", "parameter", "true", "estimate", "se", "z");
#define DEMO_ROW(NAME, TV, EV, IDX)                                                                \
    do {                                                                                           \
        double tv_ = (TV), ev_ = (EV), se_ = se ? se[IDX] : NAN, z_ = (ev_ - tv_) / se_;           \
        printf("  %-40.40s %9.4f %9.4f %9.4f %7.2f\n", NAME, tv_, ev_, se_, z_);                   \
        sq += (tv_ - ev_) * (tv_ - ev_);                                                           \
        within += fabs(z_) <= 2;                                                                   \
        n++;                                                                                       \
    } while (0)
        for (size_t q = 0; q < 3; q++)
            for (size_t k = 0; k < K; k++) {
                char name[96];
                snprintf(name, sizeof name, "beta[%s -> %s]", ls_data_covariate(d, q), ls_data_benchmark(d, k));
                DEMO_ROW(name, truth.beta[q * K + k], est->beta[q * K + k], off_b + q * K + k);
            }
        for (size_t k = 0; k < K; k++) {
            char name[96];
            snprintf(name, sizeof name, "lambda[%s] (anchor)", ls_data_benchmark(d, k));
            DEMO_ROW(name, truth.lambda[k * J + k], est->lambda[k * J + k], off_l + k * J + k);
        }
        for (size_t r2 = 0; r2 < K; r2++)
            for (size_t c = 0; c < r2; c++) {
                char name[96];
                snprintf(name, sizeof name, "sigma[%s, %s]", ls_data_benchmark(d, r2), ls_data_benchmark(d, c));
                DEMO_ROW(name, truth.sigma[r2 * K + c], est->sigma[r2 * K + c], off_s + r2 * K + c);
            }
#undef DEMO_ROW
        if (se) printf("  %zu of %zu estimates within 2 standard errors of the truth\n", within, n);
        printf("  root mean square error over these %zu parameters: %.4f\n", n, sqrt(sq / (double)n));
        ls_table_free(t);
        ls_params_free(&truth);
        free(floors);
    }
    ls_fit_free(f);
    ls_data_free(d);
    printf("\nfiles: %s\n", dir);
    return 0;
}
