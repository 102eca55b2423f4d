/*
 * factor.c -- `latentscale factor`: generalized latent factor models with
 * covariates by joint maximum likelihood, identification, standard errors,
 * DIF tests and the number of factors (docs/FACTOR.md).
 */
#include "cli/cli.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int parse_family(const char *s, int *out)
{
    static const char *names[] = {"bernoulli", "poisson", "gaussian", "probit"};
    for (int k = 0; k < 4; k++)
        if (strcmp(s, names[k]) == 0) {
            *out = k;
            return 0;
        }
    if (strcmp(s, "logit") == 0 || strcmp(s, "binary") == 0) {
        *out = LS_FACTOR_BERNOULLI;
        return 0;
    }
    return -1;
}

static int parse_identify(const char *s, int *out)
{
    static const char *names[] = {"orthogonal", "triangular", "anchor", "anchor-identity",
                                  "equal-diagonal"};
    for (int k = 0; k < 5; k++)
        if (strcmp(s, names[k]) == 0) {
            *out = k;
            return 0;
        }
    return -1;
}

/* "A..B" or "A" */
static int parse_range(const char *s, size_t *a, size_t *b)
{
    char *end;
    unsigned long x = strtoul(s, &end, 10);
    if (end == s) return -1;
    if (*end == '\0') {
        *a = *b = x;
        return 0;
    }
    if (strncmp(end, "..", 2) != 0) return -1;
    const char *t = end + 2;
    unsigned long y = strtoul(t, &end, 10);
    if (end == t || *end || y < x || x < 1) return -1;
    *a = x;
    *b = y;
    return 0;
}

/* Entry helpers: the numbers of an entry (NULL when absent), one number. */
static const double *nums(const ls_result *r, const char *name) { return ls_result_numbers(r, name, NULL, NULL); }
static double num(const ls_result *r, const char *name) { return ls_result_number(r, name); }
static size_t count(const ls_result *r, const char *name) { return (size_t)ls_result_number(r, name); }

static int mml_fit(const ls_result *f)
{
    const char *m = ls_result_string(f, "method", 0);
    return m && strcmp(m, "mml") == 0;
}

static int anchored(const char *identify)
{
    return strcmp(identify, "anchor") == 0 || strcmp(identify, "anchor-identity") == 0 ||
           strcmp(identify, "triangular") == 0;
}

static void print_summary(const ls_result *f, const ls_result *dif, const ls_result *sel)
{
    const size_t q = ls_result_nstrings(f, "items"), r = ls_result_nstrings(f, "factors"),
                 p = ls_result_nstrings(f, "covariates"), p1 = p + 1, n = count(f, "n_persons"),
                 nobs = count(f, "n_obs");
    const char *identify = ls_result_string(f, "identify", 0), *source = ls_result_string(f, "source", 0);
    const double *gamma = nums(f, "loadings"), *beta = nums(f, "beta"), *se_gamma = nums(f, "se_loadings"),
                 *se_beta = nums(f, "se_beta"), *cor = nums(f, "factor_cor"), *anchors = nums(f, "anchors");
    printf("generalized latent factor model: %s, %zu factor%s, %s identification%s\n",
           ls_result_string(f, "family", 0), r, r == 1 ? "" : "s", identify,
           p ? (strcmp(ls_result_string(f, "covariate_condition", 0), "min-l1") == 0
                    ? ", min-L1 covariate effects"
                    : ", factors orthogonal to covariates")
             : "");
    printf("data: %s, %zu persons, %zu items, %zu covariates, %zu observed cells (%.1f %% missing)\n",
           source ? source : "(memory)", n, q, p, nobs, 100.0 * (1.0 - (double)nobs / ((double)n * (double)q)));
    size_t ncv = 0;
    const double *cvg = ls_result_numbers(f, "ridge_cv_grid", &ncv, NULL);
    if (cvg && ncv) {
        const size_t b = count(f, "ridge_cv_best");
        printf("ridge chosen by %u-fold CV over held-out responses: %.3g (grid %.3g..%.3g, %zu values; held-out "
               "log-likelihood %.4f per response, se %.4f; the best mean)\n",
               (unsigned)num(f, "ridge_cv_folds"), cvg[b], cvg[0], cvg[ncv - 1], ncv, nums(f, "ridge_cv_score")[b],
               nums(f, "ridge_cv_se")[b]);
    }
    if (num(f, "ridge") > 0)
        printf("penalised joint likelihood: ridge %.3g on factors and loadings (nuclear norm); the standard\n"
               "errors ignore the penalty\n", num(f, "ridge"));
    const char *method = ls_result_string(f, "method", 0), *reason = ls_result_string(f, "method_reason", 0);
    int mml = method && strcmp(method, "mml") == 0;
    if (reason) printf("method auto: %s\n", reason);
    if (mml) {
        printf("marginal log-likelihood %.4f (factors integrated out, %u Gauss-Hermite nodes per factor%s), "
               "%zu parameters, AIC %.2f, BIC %.2f, %u iterations, %s\n",
               num(f, "loglik"), (unsigned)num(f, "nodes"),
               r > 3 ? " at most: a sparse grid" : "", count(f, "n_params"), num(f, "aic"), num(f, "bic"),
               (unsigned)num(f, "iterations"), num(f, "converged") != 0 ? "converged" : "NOT converged");
    } else
        printf("joint log-likelihood %.4f, JIC %.2f, %u sweeps, %s; %u of %u starts at the best value\n",
               num(f, "loglik"), num(f, "jic"), (unsigned)num(f, "iterations"),
               num(f, "converged") != 0 ? "converged" : "NOT converged", (unsigned)num(f, "starts_at_best"),
               (unsigned)num(f, "starts"));
    if (sel) {
        size_t nr = 0, best = count(sel, "best");
        int bic = strcmp(ls_result_string(sel, "criterion", 0), "bic") == 0;
        const double *rr = ls_result_numbers(sel, "factors", &nr, NULL), *ll = nums(sel, "loglik"),
                     *crit = nums(sel, bic ? "bic" : "jic"), *cv = nums(sel, "converged");
        printf("\nnumber of factors (%s):\n",
               bic ? "marginal ML, BIC = -2 l + k log n" : "JIC = -2 l + r max(n,q) log min(n,q)");
        for (size_t k = 0; k < nr; k++)
            printf("  r = %-3zu loglik %14.4f  %s %14.2f%s%s\n", (size_t)rr[k], ll[k], bic ? "BIC" : "JIC", crit[k],
                   cv[k] != 0 ? "" : "  (not converged)", k == best ? "  <- best" : "");
    }
    printf("\nloadings (standard errors)%s:\n", anchored(identify) ? ", anchors marked *" : "");
    if (nums(f, "loadings_ml"))
        printf("  bias-corrected by a parametric bootstrap (%u replicates; its SDs are the standard errors)\n",
               (unsigned)num(f, "loading_bootstrap"));
    /* item names in full, up to 40 characters */
    int w = cli_name_width(f, "items", 11);
    int fixed_any = 0;
    printf("  %-*s ", w, "item");
    for (size_t k = 0; k < r; k++) printf("  %8s%-2zu %8s", "factor", k + 1, "");
    printf("  %9s\n", "intercept");
    for (size_t j = 0; j < q; j++) {
        int anchor = 0;
        for (size_t k = 0; k < r; k++) anchor |= (size_t)anchors[k] == j;
        printf("  %-*.*s%c", w, w, ls_result_string(f, "items", j), anchor && anchored(identify) ? '*' : ' ');
        for (size_t k = 0; k < r; k++) {
            printf("  %8.3f", gamma[j * r + k]);
            /* a standard error of exactly 0: fixed by the identification condition */
            if (se_gamma && se_gamma[j * r + k] == 0) {
                printf(" %8s", "(fixed)");
                fixed_any = 1;
            } else if (se_gamma) printf(" (%6.3f)", se_gamma[j * r + k]);
            else printf("   %6s ", "");
        }
        printf("  %9.3f\n", beta[j * p1]);
    }
    if (fixed_any) printf("  (fixed): set by the identification condition, not estimated\n");
    printf("\nfactor correlations:\n");
    for (size_t a = 0; a < r; a++) {
        printf("  ");
        for (size_t b = 0; b < r; b++) printf(" %7.3f", cor[a * r + b]);
        printf("\n");
    }
    if (p) {
        const double *flag = dif ? nums(dif, "flag") : NULL;
        printf("\ncovariate effects (standard errors)%s:\n", dif ? ", DIF flagged *" : "");
        printf("  %-*s ", w, "item");
        for (size_t s = 0; s < p; s++) printf("  %-18.18s", ls_result_string(f, "covariates", s));
        printf("\n");
        size_t nfixed = 0;
        const double *efx = nums(f, "effect_fixed");
        for (size_t j = 0; j < q; j++) {
            printf("  %-*.*s ", w, w, ls_result_string(f, "items", j));
            for (size_t s = 0; s < p; s++) {
                double b = beta[j * p1 + 1 + s];
                if (efx && efx[j * p + s] != 0) {
                    printf("  %7.3f %8s  ", 0.0, "(fixed)"); /* 0 by the condition, to rounding */
                    nfixed++;
                } else if (se_beta) printf("  %7.3f (%6.3f)%c", b, se_beta[j * p1 + 1 + s],
                                         flag && flag[j * p + s] != 0 ? '*' : ' ');
                else printf("  %7.3f %10s", b, "");
            }
            printf("\n");
        }
        if (nfixed)
            printf("  (fixed): set by the identification condition (%s), not estimated and not tested\n",
                   ls_result_string(f, "covariate_condition", 0));
        if (dif) {
            size_t nf = 0, nt = 0;
            const double *pv = nums(dif, "p_value");
            for (size_t c = 0; c < q * p; c++) {
                nf += flag[c] != 0;
                nt += !isnan(pv[c]);
            }
            printf("\nDIF: %zu of %zu tested item-covariate effects flagged (%s, alpha %.3g)\n", nf, nt,
                   strcmp(ls_result_string(dif, "correction", 0), "bh") == 0 ? "Benjamini-Hochberg" : "Bonferroni",
                   num(dif, "alpha"));
        }
        if (mml && nums(f, "lr_dif"))
            printf("likelihood-ratio test of no DIF at all (the covariates move only the factor means): "
                   "LR %.2f on %zu df, p %.3g (log-likelihood without DIF %.4f)\n",
                   num(f, "lr_dif"), count(f, "lr_dif_df"), num(f, "lr_dif_p"), num(f, "loglik_no_dif"));
        if (mml && strcmp(ls_result_string(f, "covariate_condition", 0), "min-l1") == 0) {
            const double *A = nums(f, "covariate_transform");
            printf("latent regression (factor means per unit of each covariate; min-L1):\n");
            for (size_t s2 = 0; s2 < p; s2++) {
                printf("  %-*.*s ", w, w, ls_result_string(f, "covariates", s2));
                for (size_t k = 0; k < r; k++) printf("  %8.3f", A[s2 * r + k]);
                printf("\n");
            }
        }
    }
}

int cmd_factor(int argc, char **argv)
{
    int json = 0;
    ls_factor_options o;
    ls_factor_options_init(&o);
    const char *items = NULL, *covariates = NULL, *family = "bernoulli", *identify = NULL,
               *anchors = NULL, *out = NULL, *correction = "bonferroni", *select = NULL,
               *covcond = NULL;
    const char *method = NULL, *longcols = NULL, *ridge = NULL;
    double dichotomise = NAN, alpha = 0.05;
    int dif = 0, quiet = 0;
    unsigned boot = UINT_MAX; /* not given: the default */
    cli_field_flag("family", "--response");
    arg_spec specs[] = {
        {"items", ARG_STRING, &items, "item columns: names or shell patterns, e.g. 'Q*' (required, or --long)", "P,.."},
        {"long", ARG_STRING, &longcols,
         "a long table, one row per response: its person, item and response columns (instead of --items)",
         "P,I,R"},
        {"covariates", ARG_STRING, &covariates, "numeric covariate columns", "A,B,.."},
        {"factors", ARG_SIZE, &o.factors, "number of factors r (default 1, or the JIC choice with --select)", "R"},
        {"method", ARG_STRING, &method,
         "jml (default: joint ML, for long tests), mml (marginal ML, factors integrated out: short tests) or "
         "auto (mml up to 50 items)", "M"},
        {"equal-loadings", ARG_FLAG, &o.equal_loadings,
         "mml, 1 factor: one loading for every item (Rasch-type: a person random effect, as lme4's glmer)", NULL},
        {"nodes", ARG_UINT, &o.nodes, "mml: Gauss-Hermite nodes per factor (default 11, 9, 7 for 1, 2, 3 factors; 4 to 6 factors: "
         "a sparse grid whose largest rule has N = 3, 5, .., 13 nodes, default 7)", "N"},
        {"response", ARG_STRING, &family, "response distribution: bernoulli (default, logit), probit, poisson or gaussian", "F"},
        {"identify", ARG_STRING, &identify,
         "orthogonal (default), triangular, anchor, anchor-identity or equal-diagonal", "C"},
        {"anchors", ARG_STRING, &anchors, "anchor item of each factor (default: the first r items)", "A,B,.."},
        {"covariate-condition", ARG_STRING, &covcond,
         "min-l1 (default: most items are fair) or orthogonal (factors uncorrelated with covariates)", "C"},
        {"dichotomise", ARG_DOUBLE, &dichotomise, "binary responses: 1 when the value is >= T", "T"},
        {"dif", ARG_FLAG, &dif,
         "test every covariate effect for differential item functioning (mml: also the likelihood-ratio test "
         "of no DIF at all)", NULL},
        {"alpha", ARG_DOUBLE, &alpha, "DIF level (default 0.05)", "A"},
        {"correction", ARG_STRING, &correction, "bonferroni (default) or bh (Benjamini-Hochberg)", "M"},
        {"select", ARG_STRING, &select, "fit r = RMIN..RMAX and report the JIC of each (BIC under mml)", "RMIN..RMAX"},
        {"starts", ARG_UINT, &o.starts, "starts: SVD, then perturbed (default 3)", "N"},
        {"seed", ARG_U64, &o.seed, "random seed (default 1)", "N"},
        {"threads", ARG_UINT, &o.threads, "worker threads (default: all cores)", "N"},
        {"bound", ARG_DOUBLE, &o.bound, "bound on every coefficient, factors standardised (default 5; probit 3)", "X"},
        {"tol", ARG_DOUBLE, &o.tol, "relative change of the log-likelihood to stop (default 1e-7)", "X"},
        {"max-iter", ARG_UINT, &o.max_iter, "sweeps per start (default 500)", "N"},
        {"ridge", ARG_STRING, &ridge,
         "penalise X/2 (|U|^2 + |Gamma|^2), i.e. X |U Gamma'|_* (short tests; default 0 = joint ML); auto: "
         "X chosen by 5-fold cross-validation over held-out responses", "X|auto"},
        {"no-scale-correction", ARG_FLAG, &o.no_scale_correction,
         "normalise factors by U'U/n of the estimates, without the finite-q correction", NULL},
        {"loading-bootstrap", ARG_UINT, &boot,
         "parametric-bootstrap replicates for the loadings' bias correction and standard errors "
         "(default 50 under anchor, anchor-identity and triangular, 0 = analytic otherwise)", "B"},
        {"no-se", ARG_FLAG, &o.skip_se, "skip the standard errors", NULL},
        {"out", ARG_STRING, &out, "write the fit as JSON here", "FILE"},
        {"quiet", ARG_FLAG, &quiet, "print nothing but errors", NULL},
        CLI_JSON_SPEC(json),
        CLI_RENAMED("family", "--family is now --response (the response distribution)"),
        {NULL, 0, NULL, NULL, NULL}};
    arg_result r;
    char msg[256];
    if (args_parse(argc, argv, specs, &r, msg, sizeof msg)) return cli_usage("factor", msg);
    if (r.help) {
        cli_help("factor", "DATA (--items P,.. | --long P,I,R) [options]",
                 "Generalized latent factor model with covariates, by joint maximum likelihood\n"
                 "(Cui and Xu, arXiv 2508.05866; Ouyang et al., arXiv 2404.16745) or, for short tests,\n"
                 "marginal maximum likelihood (--method mml: U_i ~ N(A x_i, I) integrated out): persons\n"
                 "in rows, items in columns, w_ij = gamma_j . U_i + beta_j . (1, x_i).  Prints loadings,\n"
                 "factor correlations and covariate effects with standard errors; --dif tests each\n"
                 "covariate effect (differential item functioning) with a multiplicity correction.",
                 specs,
                 "  latentscale factor responses.csv --items 'Q*' --covariates gender,urban --factors 3 \\\n"
                 "      --identify anchor --dif --correction bh --out factor.json\n"
                 "  latentscale factor bfi.csv --items 'A*,C*,E*,N*,O*' --dichotomise 4 --factors 5 \\\n"
                 "      --identify anchor --anchors A2,C1,E3,N1,O1 --ridge auto --out bfi.json\n");
        return 0;
    }
    if (r.npos != 1) return cli_usage("factor", "expected one DATA file (see --help)");
    if (!items && !longcols)
        return cli_usage("factor", "--items: required (or, for a long table, its person, item and response columns)");
    if (items && longcols) return cli_usage("factor", "--items and --long: give one (wide or long table)");
    if (parse_family(family, &o.family)) return cli_usage("factor", "--response: expected bernoulli, probit, poisson or gaussian");
    if (method) {
        if (strcmp(method, "jml") == 0) o.method = LS_FACTOR_JML;
        else if (strcmp(method, "mml") == 0) o.method = LS_FACTOR_MML;
        else if (strcmp(method, "auto") == 0) o.method = LS_FACTOR_AUTO;
        else return cli_usage("factor", "--method: expected jml, mml or auto");
    }
    if (ridge) {
        char *end;
        if (strcmp(ridge, "auto") == 0) o.ridge = -1;
        else if (!*ridge || (o.ridge = strtod(ridge, &end), *end) || !(o.ridge >= 0) || !isfinite(o.ridge)) {
            snprintf(msg, sizeof msg, "--ridge: expected a number >= 0 or auto, found '%.60s'", ridge);
            return cli_usage("factor", msg);
        }
    }
    if (identify && parse_identify(identify, &o.identify))
        return cli_usage("factor", "--identify: expected orthogonal, triangular, anchor, anchor-identity or equal-diagonal");
    if (covcond) {
        if (strcmp(covcond, "min-l1") == 0 || strcmp(covcond, "l1") == 0) o.covariate_condition = LS_FACTOR_COV_L1;
        else if (strcmp(covcond, "orthogonal") == 0) o.covariate_condition = LS_FACTOR_COV_ORTHOGONAL;
        else return cli_usage("factor", "--covariate-condition: expected min-l1 or orthogonal");
    }
    int corr;
    if (strcmp(correction, "bonferroni") == 0) corr = LS_FACTOR_BONFERRONI;
    else if (strcmp(correction, "bh") == 0) corr = LS_FACTOR_BH;
    else return cli_usage("factor", "--correction: expected bonferroni or bh");
    o.dif_lr = dif;
    if (boot != UINT_MAX) o.loading_bootstrap = boot > INT_MAX ? INT_MAX : (int)boot;
    size_t rmin = 0, rmax = 0;
    if (select && parse_range(select, &rmin, &rmax))
        return cli_usage("factor", "--select: expected RMIN..RMAX, e.g. 1..6");
    if (out && cli_same_file(out, r.pos[0]))
        return cli_usage("factor", "--out names an input file; refusing to overwrite it");
    ls_error e = {0, ""};
    /* the library's checks of the options, before any reading */
    if (ls_factor_options_check(&o, &e) || ls_factor_dif_check(alpha, corr, NULL, dif ? &o : NULL, &e))
        return cli_fail(&e);
    cli_json js;
    {
        int x = cli_json_open(&js, json, &out);
        if (x) return x;
    }
    int factors_given = 0;
    for (int k = 0; k < argc; k++)
        if (strncmp(argv[k], "--factors", 9) == 0) factors_given = 1;

    ls_table *t = NULL;
    ls_factor_data *d = NULL;
    ls_result *fit = NULL, *dr = NULL, *sel = NULL;
    size_t *anch = NULL;
    o.progress = cli_progress;
    int rc = ls_items_table_read(r.pos[0], &t, &e);
    if (!rc)
        rc = longcols ? ls_factor_data_build_long(t, longcols, covariates, dichotomise, o.family, &d, &e)
                      : ls_factor_data_build(t, items, covariates, dichotomise, o.family, &d, &e);
    if (!rc && dif) rc = ls_factor_dif_check(alpha, corr, d, &o, &e);
    if (!rc && select) {
        rc = ls_factor_select(d, &o, rmin, rmax, &sel, &e);
        if (!rc && !factors_given) o.factors = (size_t)ls_result_numbers(sel, "factors", NULL, NULL)[count(sel, "best")];
    }
    if (!rc && anchors) {
        anch = calloc(o.factors, sizeof *anch);
        if (!anch) {
            e.code = rc = LS_ERR_NOMEM;
            snprintf(e.message, sizeof e.message, "out of memory");
        } else
            rc = ls_factor_data_anchors(d, anchors, o.factors, anch, &e);
        o.anchors = anch;
    }
    if (!rc) rc = ls_factor_run(d, &o, &fit, &e);
    cli_progress_end();
    if (!rc && dif) rc = ls_factor_dif_run(fit, alpha, corr, &dr, &e);
    int code = 0;
    if (rc) code = cli_fail(&e);
    else {
        if (!quiet) print_summary(fit, dr, sel);
        /* warnings on stderr, with or without the summary */
        for (size_t i = 0; i < ls_result_nwarnings(fit); i++)
            cli_warning(stderr, "latentscale: factor: ", ls_result_warning(fit, i));
        if (out) {
            char *aj = cli_argv_json(argc, argv);
            rc = ls_factor_write_json(fit, dr, sel, out, aj, &e);
            free(aj);
            if (rc) code = cli_fail(&e);
        }
        if (!code && num(fit, "converged") == 0) {
            if (mml_fit(fit))
                fprintf(stderr, "latentscale: factor: marginal ML did not converge in %u iterations\n",
                        (unsigned)num(fit, "iterations"));
            else
                fprintf(stderr, "latentscale: factor: the sweeps did not converge in %u iterations (raise --max-iter)\n",
                        (unsigned)num(fit, "iterations"));
            code = EXIT_NUMERIC;
        }
    }
    ls_result_free(fit);
    ls_result_free(dr);
    ls_result_free(sel);
    ls_factor_data_free(d);
    ls_table_free(t);
    free(anch);
    return cli_json_close(&js, code);
}
