/*
 * gpcm.c -- `latentscale gpcm`: the multidimensional generalized partial
 * credit model by Gaussian variational EM or marginal maximum likelihood
 * (docs/GPCM.md).
 */
#include "cli/cli.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double *nums(const ls_result *r, const char *name) { return ls_result_numbers(r, name, NULL, NULL); }
static double num(const ls_result *r, const char *name) { return ls_result_number(r, name); }

/* The covariate effects: DIF (item effects, standard errors, adjusted
 * p-values, flags) or the latent regression. */
static void print_covariates(const ls_result *f, size_t p, size_t K, int w)
{
    const size_t J = ls_result_nstrings(f, "items");
    const int dif = strcmp(ls_result_string(f, "covariate_mode", 0), "dif") == 0;
    const double *A = nums(f, "covariate_transform"), *seA = nums(f, "se_covariate_transform");
    if (dif) {
        const int l1 = strcmp(ls_result_string(f, "covariate_condition", 0), "min-l1") == 0;
        const double *e = nums(f, "dif_effect"), *se = nums(f, "dif_se"), *pa = nums(f, "dif_p_adjusted");
        const double *fx = nums(f, "dif_fixed"), *fl = nums(f, "dif_flag");
        printf("\ncovariate effects on the items (DIF; %s; steps are those at x = 0)%s:\n",
               l1 ? "min-L1: most items are fair" : "factors orthogonal to the covariates",
               se ? ", estimate (standard error) adjusted p, flagged *" : "");
        printf("  %-*s", w, "item");
        for (size_t s = 0; s < p; s++) printf("  %-28.28s", ls_result_string(f, "covariates", s));
        printf("\n");
        for (size_t j = 0; j < J; j++) {
            printf("  %-*.*s", w, w, ls_result_string(f, "items", j));
            for (size_t s = 0; s < p; s++) {
                size_t c = j * p + s;
                if (fx[c] != 0) printf("  %8.3f %-19s", e[c], "(fixed by min-L1)");
                else if (se) printf("  %8.3f (%5.3f) %6.4f %s  ", e[c], se[c], pa[c], fl[c] != 0 ? "*" : " ");
                else printf("  %8.3f %19s", e[c], "");
            }
            printf("\n");
        }
        if (se) {
            size_t nf = 0, nt = 0;
            for (size_t c = 0; c < J * p; c++) {
                nf += fl[c] != 0;
                nt += fx[c] == 0 && isfinite(se[c]) && se[c] > 0;
            }
            printf("DIF: %zu of %zu tested item-covariate effects flagged (%s, alpha %.3g)\n", nf, nt,
                   strcmp(ls_result_string(f, "dif_correction", 0), "bh") == 0 ? "Benjamini-Hochberg" : "Bonferroni",
                   num(f, "dif_alpha"));
        }
        if (nums(f, "lr_dif"))
            printf("likelihood-ratio test of no DIF at all (the covariates move only the factor means): "
                   "LR %.3f on %zu df, p %.4g (log-likelihood without DIF %.4f)\n",
                   num(f, "lr_dif"), (size_t)num(f, "lr_dif_df"), num(f, "lr_dif_p"), num(f, "loglik_no_dif"));
        if (!l1) return;
        printf("factor means per unit of each covariate (min-L1):\n");
    } else
        printf("\nlatent regression (factor means per unit of each covariate; no DIF)%s:\n",
               seA ? ", standard errors" : "");
    for (size_t s = 0; s < p; s++) {
        printf("  %-*.*s", w, w, ls_result_string(f, "covariates", s));
        for (size_t k = 0; k < K; k++) {
            printf("  %8.3f", A[s * K + k]);
            if (seA) printf(" (%5.3f)", seA[s * K + k]);
        }
        printf("\n");
    }
}

static void print_summary(const ls_result *f, int trace)
{
    const size_t J = ls_result_nstrings(f, "items"), K = ls_result_nstrings(f, "factors"),
                 nb = ls_result_nstrings(f, "step"), n = (size_t)num(f, "n_persons"), nobs = (size_t)num(f, "n_obs");
    const int exploratory = num(f, "exploratory") != 0, mml = strcmp(ls_result_string(f, "method", 0), "mml") == 0;
    const unsigned iterations = (unsigned)num(f, "iterations");
    const char *source = ls_result_string(f, "source", 0);
    const double *se_a = nums(f, exploratory ? "se_slopes_rotated" : "se_slopes");
    const double *se_s = nums(f, exploratory ? "se_factor_cor_rotated" : "se_factor_cor");
    const double *a = nums(f, "slopes"), *b = nums(f, "steps"), *se_b = nums(f, "se_steps"),
                 *sigma = nums(f, "factor_cor"), *pattern = nums(f, "pattern"), *ncat = nums(f, "categories");
    double loglik = num(f, "loglik");
    /* item names in full (up to 40 characters), however long */
    int w = cli_name_width(f, "items", 12);
    /* one factor: nothing to rotate */
    const int rotated = exploratory && K > 1;
    printf("generalized partial credit model: %zu factor%s, %s, %s\n", K, K == 1 ? "" : "s",
           rotated       ? "exploratory (lower-triangular anchors, promax rotation)"
           : exploratory ? "exploratory (one factor: no rotation)"
                         : "confirmatory pattern",
           mml ? "marginal maximum likelihood (adaptive Gauss-Hermite)" : "Gaussian variational EM");
    printf("data: %s, %zu persons, %zu items, %zu observed responses (%.1f %% missing), scores = value - %.0f\n",
           source ? source : "(memory)", n, J, nobs, 100.0 * (1.0 - (double)nobs / ((double)n * (double)J)),
           num(f, "lowest"));
    printf("lower bound (ELBO) %.4f after %u iterations, %s; never decreased: %s; %u of %u starts at the best\n",
           num(f, "elbo"), iterations, num(f, "converged") != 0 ? "converged" : "NOT converged",
           num(f, "monotone") != 0 ? "yes" : "NO", (unsigned)num(f, "starts_at_best"), (unsigned)num(f, "starts"));
    if (ls_result_type(f, "screen_persons") == LS_ENTRY_NUMBERS)
        printf("starts screened on a random subsample of %.0f persons; only the best there was run on all persons\n",
               num(f, "screen_persons"));
    if (mml) printf("MML: %u L-BFGS iterations\n", (unsigned)num(f, "mml_iterations"));
    printf("vBIC %.2f", num(f, "vbic"));
    if (isfinite(loglik))
        printf(", marginal log-likelihood %.4f (%u-point adaptive Gauss-Hermite per dimension), BIC %.2f", loglik,
               (unsigned)num(f, "nodes"), num(f, "bic"));
    printf(", %zu parameters\n", (size_t)num(f, "n_params"));
    if (trace) {
        const double *tr = nums(f, "elbo_trace");
        printf("\nlower bound per iteration:\n");
        for (unsigned t = 0; t <= iterations; t++) printf("  %5u %.6f\n", t, tr[t]);
    }
    printf("\nslopes%s:\n", !rotated ? (se_a ? " (standard errors)" : "")
                             : se_a ? " (promax-rotated; standard errors by the delta method through the rotation)"
                                    : " (promax-rotated)");
    printf("  %-*s", w, "item");
    for (size_t k = 0; k < K; k++) printf("  factor%-2zu%s", k + 1, se_a ? "        " : "");
    printf("\n");
    for (size_t j = 0; j < J; j++) {
        printf("  %-*.*s", w, w, ls_result_string(f, "items", j));
        for (size_t k = 0; k < K; k++) {
            if (pattern[j * K + k] == 0 && !exploratory) {
                printf("  %8s%s", ".", se_a ? "        " : "");
                continue;
            }
            printf("  %8.3f", a[j * K + k]);
            if (se_a) printf(" (%5.3f)", se_a[j * K + k]);
        }
        printf("\n");
    }
    printf("\nstep parameters b_j1..b_jP (cumulative; P(k) ~ exp(k a'theta - b_k))%s:\n",
           se_b ? ", standard errors below" : "");
    for (size_t j = 0; j < J; j++) {
        printf("  %-*.*s", w, w, ls_result_string(f, "items", j));
        for (size_t k = 0; k + 1 < (size_t)ncat[j]; k++) printf(" %8.3f", b[j * nb + k]);
        printf("\n");
        if (se_b) {
            printf("  %-*s", w, "");
            for (size_t k = 0; k + 1 < (size_t)ncat[j]; k++) printf(" (%6.3f)", se_b[j * nb + k]);
            printf("\n");
        }
    }
    printf("\nfactor correlations%s:\n", !rotated ? (se_s ? " (standard errors)" : "")
                                          : se_s ? " (promax; standard errors)" : " (promax)");
    for (size_t p = 0; p < K; p++) {
        printf("  ");
        for (size_t q = 0; q < K; q++) {
            printf(" %7.3f", sigma[p * K + q]);
            if (se_s) {
                if (p != q) printf(" (%5.3f)", se_s[p * K + q]);
                else printf("        ");
            }
        }
        printf("\n");
    }
    const size_t p = ls_result_nstrings(f, "covariates");
    if (p) print_covariates(f, p, K, w);
    printf("\ntime: GVEM %.2f s", num(f, "seconds_gvem"));
    if (mml) printf(", MML %.2f s", num(f, "seconds_mml"));
    if (isfinite(loglik)) printf(", marginal likelihood and standard errors %.2f s", num(f, "seconds_se"));
    printf("\n");
}

int cmd_gpcm(int argc, char **argv)
{
    int json = 0;
    ls_gpcm_options o;
    ls_gpcm_options_init(&o);
    const char *items = NULL, *pattern_file = NULL, *method = "gvem", *out = NULL, *longcols = NULL;
    const char *covariates = NULL, *covmode = "dif", *covcond = "min-l1", *correction = "bonferroni";
    double lowest = NAN;
    unsigned categories = 0;
    int exploratory = 0, quiet = 0, trace = 0;
    size_t factors = 0;
    arg_spec specs[] = {
        {"items", ARG_STRING, &items, "item columns: names or shell patterns, e.g. 'A*,C*' (default: all)", "P,.."},
        {"long", ARG_STRING, &longcols,
         "a long table, one row per response: its person, item and response columns (instead of --items)",
         "P,I,R"},
        {"factors", ARG_SIZE, &factors, "number of factors K (default: the pattern's columns, else 1)", "K"},
        {"pattern", ARG_STRING, &pattern_file, "confirmatory J x K 0/1 loading pattern (CSV; optional 'item' column)", "FILE"},
        {"exploratory", ARG_FLAG, &exploratory, "exploratory: lower-triangular anchors, then promax", NULL},
        {"method", ARG_STRING, &method, "gvem (default) or mml (adaptive Gauss-Hermite, K <= 6)", "M"},
        {"lowest", ARG_DOUBLE, &lowest, "raw value scored 0 (default: the smallest value observed)", "V"},
        {"categories", ARG_UINT, &categories, "categories of every item (default: per item, from the data)", "C"},
        {"starts", ARG_UINT, &o.starts, "GVEM starts: data-driven, then seeded (default 3)", "N"},
        {"seed", ARG_U64, &o.seed, "random seed (default 1)", "N"},
        {"threads", ARG_UINT, &o.threads, "worker threads (default: all cores)", "N"},
        {"tol", ARG_DOUBLE, &o.tol, "stop when the mean squared change of (a, b) is below X (default 1e-6)", "X"},
        {"max-iter", ARG_UINT, &o.max_iter, "GVEM iterations per start, MML iterations (default 2000)", "N"},
        {"nodes", ARG_UINT, &o.nodes, "Gauss-Hermite nodes per dimension (default 11, 7, 5 for K = 1, 2, 3; 3 for 4..6; 2 above)", "N"},
        {"gtol", ARG_DOUBLE, &o.gtol, "MML: max |gradient| of the mean log-likelihood (default 1e-4)", "X"},
        {"covariates", ARG_STRING, &covariates,
         "numeric person covariates (columns; long tables: one value per person); needs --method mml", "A,B,.."},
        {"covariate-mode", ARG_STRING, &covmode,
         "dif (default: an effect on every item, tested) or latent-regression (on the factor means only)", "M"},
        {"covariate-condition", ARG_STRING, &covcond,
         "DIF identification: min-l1 (default: most items are fair) or orthogonal (factors uncorrelated with "
         "covariates)", "C"},
        {"alpha", ARG_DOUBLE, &o.dif_alpha, "DIF level (default 0.05)", "A"},
        {"correction", ARG_STRING, &correction, "DIF multiplicity correction: bonferroni (default) or bh", "M"},
        {"dif-lr", ARG_FLAG, &o.dif_lr,
         "also fit the model without DIF (the covariates move the factor means only): the likelihood-ratio test "
         "of no DIF at all", NULL},
        {"no-se", ARG_FLAG, &o.skip_se, "skip the marginal likelihood and standard errors", NULL},
        {"trace", ARG_FLAG, &trace, "print the lower bound of every iteration", NULL},
        {"out", ARG_STRING, &out, "write the fit as JSON here", "FILE"},
        {"quiet", ARG_FLAG, &quiet, "print nothing but errors", NULL},
        CLI_JSON_SPEC(json),
        {NULL, 0, NULL, NULL, NULL}};
    arg_result r;
    char msg[256];
    if (args_parse(argc, argv, specs, &r, msg, sizeof msg)) return cli_usage("gpcm", msg);
    if (r.help) {
        cli_help("gpcm", "DATA [--items P,.. | --long P,I,R] --factors K (--pattern FILE | --exploratory) [options]",
                 "Multidimensional generalized partial credit model for ordered scores 0..P_j\n"
                 "(persons in rows, items in columns, NA or empty = missing; or with --long one row\n"
                 "per response, kept as the observed responses only), by Gaussian variational\n"
                 "EM (Cui, Wang and Xu 2024, arXiv 2401.13090) or by marginal maximum likelihood with\n"
                 "adaptive Gauss-Hermite quadrature.  Prints slopes, step parameters and factor\n"
                 "correlations with standard errors (cross-product information of the marginal\n"
                 "likelihood), the lower bound, vBIC and the marginal log-likelihood.  With\n"
                 "--covariates (--method mml): an effect of every covariate on every item (DIF),\n"
                 "identified by the min-L1 or orthogonal condition, with Wald tests and a\n"
                 "multiplicity correction (standard errors from the observed information); or\n"
                 "with --covariate-mode latent-regression the covariates move the factor means.",
                 specs,
                 "  latentscale gpcm bfi.csv --items 'A*,C*,E*,N*,O*' --factors 5 --pattern bfi_pattern.csv \\\n"
                 "      --out gpcm.json\n"
                 "  latentscale gpcm responses.csv --factors 3 --exploratory --out gpcm.json\n"
                 "  latentscale gpcm responses.csv --factors 2 --pattern q.csv --method mml\n"
                 "  latentscale gpcm answers.csv --long student,question,score --factors 1\n"
                 "  latentscale gpcm bfi_psych.csv --items 'A*' --covariates gender --method mml\n");
        return 0;
    }
    if (r.npos != 1) return cli_usage("gpcm", "expected one DATA file (see --help)");
    if (pattern_file && exploratory) return cli_usage("gpcm", "--pattern and --exploratory exclude each other");
    if (items && longcols) return cli_usage("gpcm", "--items and --long: give one (wide or long table)");
    int mcode;
    if (strcmp(method, "gvem") == 0) mcode = LS_GPCM_GVEM;
    else if (strcmp(method, "mml") == 0) mcode = LS_GPCM_MML;
    else return cli_usage("gpcm", "--method: expected gvem or mml");
    o.method = mcode;
    if (strcmp(covmode, "dif") == 0) o.covariate_mode = LS_GPCM_COV_DIF;
    else if (strcmp(covmode, "latent-regression") == 0) o.covariate_mode = LS_GPCM_COV_LREG;
    else return cli_usage("gpcm", "--covariate-mode: expected dif or latent-regression");
    if (strcmp(covcond, "min-l1") == 0) o.covariate_condition = LS_FACTOR_COV_L1;
    else if (strcmp(covcond, "orthogonal") == 0) o.covariate_condition = LS_FACTOR_COV_ORTHOGONAL;
    else return cli_usage("gpcm", "--covariate-condition: expected min-l1 or orthogonal");
    if (strcmp(correction, "bonferroni") == 0) o.dif_correction = LS_FACTOR_BONFERRONI;
    else if (strcmp(correction, "bh") == 0) o.dif_correction = LS_FACTOR_BH;
    else return cli_usage("gpcm", "--correction: expected bonferroni or bh");
    if (covariates && mcode != LS_GPCM_MML)
        return cli_usage("gpcm", "--covariates: need --method mml (the GVEM fit takes no covariates)");
    int factors_given = 0;
    for (int k = 0; k < argc; k++)
        if (strncmp(argv[k], "--factors", 9) == 0) factors_given = 1;
    ls_error e = {0, ""};
    /* the library's checks of the options, before any reading (K: the
     * pattern's, once read, when not given) */
    o.factors = factors_given ? factors : 1;
    if (ls_gpcm_options_check(&o, &e)) return cli_fail(&e);
    if (!pattern_file && !exploratory && factors > 1)
        return cli_usage("gpcm", "--factors > 1 needs --pattern FILE (confirmatory) or --exploratory");
    if (out && cli_same_file(out, r.pos[0]))
        return cli_usage("gpcm", "--out names an input file; refusing to overwrite it");
    if (out && pattern_file && cli_same_file(out, pattern_file))
        return cli_usage("gpcm", "--out names the pattern file; refusing to overwrite it");
    cli_json js;
    {
        int x = cli_json_open(&js, json, &out);
        if (x) return x;
    }

    ls_table *t = NULL;
    ls_gpcm_data *d = NULL;
    ls_result *f = NULL;
    int *pat = NULL, *pat_one = NULL;
    o.progress = cli_progress;
    int rc = ls_items_table_read(r.pos[0], &t, &e);
    if (!rc)
        rc = longcols ? ls_gpcm_data_build_long_cov(t, longcols, covariates, lowest, categories, &d, &e)
                      : ls_gpcm_data_build_cov(t, items, covariates, lowest, categories, &d, &e);
    if (!rc && pattern_file) {
        size_t K = 0;
        rc = ls_gpcm_pattern_read(pattern_file, d, &K, &pat, &e);
        if (!rc && factors_given && K != factors) {
            e.code = rc = LS_ERR_OPTION;
            snprintf(e.message, sizeof e.message, "--factors: %zu, but the pattern %s has %zu columns", factors,
                     pattern_file, K);
        }
        factors = K;
    }
    if (!rc && !pattern_file && !exploratory) { /* one factor: every item loads */
        factors = 1;
        pat_one = calloc(ls_gpcm_data_nitems(d), sizeof *pat_one);
        if (!pat_one) {
            e.code = rc = LS_ERR_NOMEM;
            snprintf(e.message, sizeof e.message, "out of memory");
        } else
            for (size_t j = 0; j < ls_gpcm_data_nitems(d); j++) pat_one[j] = 1;
    }
    o.factors = factors ? factors : 1;
    if (!rc) rc = ls_gpcm_run(d, pat ? pat : pat_one, &o, &f, &e);
    cli_progress_end();
    int code = 0;
    if (rc) code = cli_fail(&e);
    else {
        if (!quiet) print_summary(f, trace);
        /* warnings on stderr, with or without the summary */
        for (size_t i = 0; i < ls_result_nwarnings(f); i++)
            cli_warning(stderr, "latentscale: gpcm: ", ls_result_warning(f, i));
        if (out) {
            char *aj = cli_argv_json(argc, argv);
            rc = ls_result_write(f, out, NULL, aj, &e);
            free(aj);
            if (rc) code = cli_fail(&e);
        }
        if (!code && num(f, "converged") == 0) {
            fprintf(stderr, "latentscale: gpcm: %s did not converge in %u iterations (raise --max-iter or --tol)\n",
                    strcmp(ls_result_string(f, "method", 0), "mml") == 0 ? "the marginal likelihood fit" : "GVEM",
                    (unsigned)num(f, "iterations"));
            code = EXIT_NUMERIC;
        }
        if (!code && num(f, "monotone") == 0) {
            fprintf(stderr, "latentscale: gpcm: the lower bound decreased during the iterations (numerical trouble)\n");
            code = EXIT_NUMERIC;
        }
    }
    ls_result_free(f);
    ls_gpcm_data_free(d);
    ls_gpcm_pattern_free(pat);
    free(pat_one);
    ls_table_free(t);
    return cli_json_close(&js, code);
}
