/*
 * bench_factor.c -- generalized latent factor models (issue 4).
 *
 *   bench_factor scale [n q r p threads defaults]
 *       the scale goal: n = 100000 persons, q = 200 binary items, r = 3,
 *       p = 5 (target < 60 s on 2 cores); prints the fit time and accuracy;
 *       defaults 1: the command line's defaults (3 starts, tolerance 1e-7).
 *   bench_factor coverage [reps n q identify design tol B]
 *       the simulation study of 2404.16745 (r = 2, p = 5, q = 100): coverage
 *       of 95 % intervals for covariate effects and loadings, DIF size and
 *       power under Bonferroni and Benjamini-Hochberg, over replications;
 *       and the loadings' diagnosis per class (anchor items, own factor,
 *       cross loadings): coverage, with the bias removed, with the Monte
 *       Carlo SD; mean bias, |bias| / SD, RMS SD against RMS mean SE; the
 *       mean and SD of error / SE.  design: 0 (default) redraws the item
 *       parameters in every replication, a seed fixes them (then the
 *       per-entry bias and SD are meaningful); tol: the fit's tolerance
 *       (0: default); B: --loading-bootstrap (-1: default, 50 under the
 *       anchor conditions).  LSF_BENCH_DUMP=FILE writes every loading of
 *       every replication (estimate, truth, SE) as CSV.
 *   bench_factor mml [n q r p threads lr]
 *       marginal ML at scale (issue 29): n = 100000, q = 30 binary items,
 *       r = 1, p = 5 (target < 30 s); wall and CPU seconds, accuracy; lr 1:
 *       with the likelihood-ratio test of DIF (a second fit, as --dif).
 *   bench_factor mml-dif [reps n dif]
 *       the DIF tests of marginal ML on the bfi design (one five-item scale,
 *       n = 2800, a binary covariate moving the factor mean by 0.26): the
 *       size of the Wald tests on DIF-free items and of the LR test of no
 *       DIF, and their power when item 5 has DIF `dif` (default 0.5).
 *   bench_factor sparse [n q per r p ridge threads file]
 *       sparse long data at scale (issue 29): n = 1,000,000 persons, q = 2000
 *       binary items, `per` = 20 items answered per person (1 % observed:
 *       20 million responses), r = 3, p = 5 covariates.  Writes the long
 *       table (person,item,y,x1..x5) to `file` (default
 *       /tmp/latentscale_sparse.csv, removed afterwards), then reads it and
 *       fits it with the command line's defaults and `--ridge ridge`
 *       (default 1: with 20 responses a person's 3 joint-ML scores run to the
 *       bound unless penalised), as `factor --long`: wall and CPU seconds of
 *       each phase, peak memory (target: under 10 minutes and 8 GB), and the
 *       covariate effects' accuracy.
 */
#include "factor/fit.h"
#include "kernel/linalg.h"
#include "kernel/rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static double cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A data handle over a simulation (X borrowed; lsf_data_view_free). */
static ls_factor_data sim_view(const lsf_sim *s)
{
    ls_factor_data d;
    if (lsf_data_view(&d, s->n, s->q, s->p, s->Y, s->X)) {
        fprintf(stderr, "bench_factor: out of memory\n");
        exit(1);
    }
    return d;
}

static int scale(int argc, char **argv)
{
    size_t n = argc > 2 ? strtoul(argv[2], NULL, 10) : 100000;
    size_t q = argc > 3 ? strtoul(argv[3], NULL, 10) : 200;
    size_t r = argc > 4 ? strtoul(argv[4], NULL, 10) : 3;
    size_t p = argc > 5 ? strtoul(argv[5], NULL, 10) : 5;
    unsigned threads = argc > 6 ? (unsigned)strtoul(argv[6], NULL, 10) : 0;
    int defaults = argc > 7 ? atoi(argv[7]) : 0;
    lsf_sim s;
    ls_error e;
    double t0 = now();
    if (lsf_simulate(n, q, p, r, LS_FACTOR_BERNOULLI, 0.2, 1.0, 0.0, 1, &s, &e)) {
        fprintf(stderr, "bench_factor: %s\n", e.message);
        return 1;
    }
    double t1 = now(), c1 = cpu();
    ls_factor_data d = sim_view(&s);
    ls_factor_options o;
    ls_factor_options_init(&o);
    o.factors = r;
    o.threads = threads;
    if (!defaults) {
        o.starts = 1;
        o.tol = 1e-6;
    }
    ls_result *fr = NULL;
    if (ls_factor_run(&d, &o, &fr, &e)) {
        fprintf(stderr, "bench_factor: %s\n", e.message);
        lsf_data_view_free(&d);
        lsf_sim_free(&s);
        return 1;
    }
    const lsf_fit f = *(const lsf_fit *)ls_result_payload(fr, "factor-fit");
    double t2 = now(), c2 = cpu();
    double ss = 0, mx = 0;
    for (size_t j = 0; j < q; j++)
        for (size_t k = 1; k <= p; k++) {
            double err = f.beta[j * (p + 1) + k] - s.beta[j * (p + 1) + k];
            ss += err * err;
            mx = fmax(mx, fabs(err));
        }
    printf("scale: n = %zu, q = %zu, r = %zu, p = %zu, binary: simulate %.1f s, fit %.1f s "
           "(%s, %u sweeps, %s, standard errors included); covariate effects RMSE %.4f, max %.4f\n",
           n, q, r, p, t1 - t0, t2 - t1, defaults ? "the defaults: 3 starts, tol 1e-7" : "one start, tol 1e-6", f.iterations, f.converged ? "converged" : "NOT converged",
           sqrt(ss / (double)(q * p)), mx);
    printf("fit CPU time %.1f s over all threads (wall on an otherwise idle 2-core machine about %.1f s)\n",
           c2 - c1, (c2 - c1) / 2);
    printf("target < 60 s: %s (wall clock as measured, load included)\n", t2 - t1 < 60 ? "met" : "MISSED");
    ls_result_free(fr);
    lsf_data_view_free(&d);
    lsf_sim_free(&s);
    return 0;
}

static int mml_scale(int argc, char **argv)
{
    size_t n = argc > 2 ? strtoul(argv[2], NULL, 10) : 100000;
    size_t q = argc > 3 ? strtoul(argv[3], NULL, 10) : 30;
    size_t r = argc > 4 ? strtoul(argv[4], NULL, 10) : 1;
    size_t p = argc > 5 ? strtoul(argv[5], NULL, 10) : 5;
    unsigned threads = argc > 6 ? (unsigned)strtoul(argv[6], NULL, 10) : 0;
    int lr = argc > 7 ? atoi(argv[7]) : 0;
    lsf_sim s;
    ls_error e;
    if (lsf_simulate(n, q, p, r, LS_FACTOR_BERNOULLI, 0.2, 1.0, 0.0, 1, &s, &e)) {
        fprintf(stderr, "bench_factor: %s\n", e.message);
        return 1;
    }
    ls_factor_data d = sim_view(&s);
    ls_factor_options o;
    ls_factor_options_init(&o);
    o.factors = r;
    o.threads = threads;
    o.method = LS_FACTOR_MML;
    o.dif_lr = lr;
    double t1 = now(), c1 = cpu();
    ls_result *fr = NULL;
    if (ls_factor_run(&d, &o, &fr, &e)) {
        fprintf(stderr, "bench_factor: %s\n", e.message);
        lsf_data_view_free(&d);
        lsf_sim_free(&s);
        return 1;
    }
    double t2 = now(), c2 = cpu();
    const lsf_fit f = *(const lsf_fit *)ls_result_payload(fr, "factor-fit");
    /* the truth's effects relative to the min-L1 reference are not the
     * simulation's raw effects; the loadings are comparable (r = 1, up to sign) */
    double ss = 0;
    for (size_t j = 0; r == 1 && j < q; j++) {
        double err = fabs(f.gamma[j]) - fabs(s.gamma[j]);
        ss += err * err;
    }
    printf("mml scale: n = %zu, q = %zu, r = %zu, p = %zu, binary: fit %.1f s wall, %.1f s CPU (%u iterations, %s, "
           "standard errors included; %s); loadings RMSE %.4f\n",
           n, q, r, p, t2 - t1, c2 - c1, f.iterations, f.converged ? "converged" : "NOT converged",
           lr ? "with the LR test of DIF (--dif)" : "without the LR test of DIF (the default without --dif)",
           r == 1 ? sqrt(ss / (double)q) : NAN);
    printf("target < 30 s: %s (wall clock as measured, load included; CPU / 2 = %.1f s)\n",
           t2 - t1 < 30 ? "met" : "MISSED", (c2 - c1) / 2);
    ls_result_free(fr);
    lsf_data_view_free(&d);
    lsf_sim_free(&s);
    return 0;
}

static int mml_dif(int argc, char **argv)
{
    unsigned reps = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 200;
    size_t n = argc > 3 ? strtoul(argv[3], NULL, 10) : 2800;
    double dif = argc > 4 ? strtod(argv[4], NULL) : 0.5;
    /* the design of the bfi neuroticism scale's MML fit, rounded */
    const size_t q = 5;
    const double a[5] = {2.4, 2.3, 2.2, 1.5, 1.2}, c[5] = {-0.9, -0.4, -1.2, -0.1, -2.4}, shift = 0.26;
    double *Y = malloc(n * q * sizeof *Y), *X = malloc(n * sizeof *X);
    unsigned wald_null = 0, wald_tests = 0, lr_null = 0, pow_wald = 0, pow_lr = 0, failed = 0;
    double t0 = now(), c0 = cpu();
    for (int world = 0; world < 2; world++)
        for (unsigned k = 0; k < reps; k++) {
            ls_rng g = {1000003ULL * (k + 1) + (uint64_t)world};
            for (size_t i = 0; i < n; i++) {
                X[i] = ls_rng_unif(&g) < 0.5;
                double th = shift * X[i] + ls_rng_norm(&g);
                for (size_t j = 0; j < q; j++) {
                    double w = a[j] * th + c[j] + (world && j == 4 ? dif * X[i] : 0);
                    Y[i * q + j] = ls_rng_unif(&g) < 1 / (1 + exp(-w));
                }
            }
            ls_factor_data d;
            if (lsf_data_view(&d, n, q, 1, Y, X)) {
                failed++;
                continue;
            }
            ls_factor_options o;
            ls_factor_options_init(&o);
            o.method = LS_FACTOR_MML;
            o.dif_lr = 1;
            o.seed = k + 1;
            ls_result *fr = NULL, *dr = NULL;
            ls_error e;
            int bad = ls_factor_run(&d, &o, &fr, &e) || ls_factor_dif_run(fr, 0.05, LS_FACTOR_BONFERRONI, &dr, &e);
            lsf_data_view_free(&d);
            if (bad) {
                failed++;
                ls_result_free(fr);
                continue;
            }
            const lsf_fit *f = ls_result_payload(fr, "factor-fit");
            const lsf_dif *t = ls_result_payload(dr, "factor-dif");
            if (!world) {
                lr_null += f->lr_p < 0.05;
                for (size_t j = 0; j < q; j++)
                    if (!isnan(t->pvalue[j])) {
                        wald_tests++;
                        wald_null += t->pvalue[j] < 0.05;
                    }
            } else {
                pow_lr += f->lr_p < 0.05;
                pow_wald += !isnan(t->pvalue[4]) && t->pvalue[4] < 0.05;
            }
            ls_result_free(dr);
            ls_result_free(fr);
        }
    printf("mml DIF tests, bfi design (n = %zu, 5 items, binary covariate, latent shift %.2f): %u + %u replications, "
           "%.0f s wall, %.0f s CPU, %u failed\n", n, shift, reps, reps, now() - t0, cpu() - c0, failed);
    printf("  no DIF: Wald tests at 0.05 reject %.4f of %u (target 0.05 +- 0.02); LR test of no DIF rejects %.4f\n",
           wald_tests ? (double)wald_null / wald_tests : NAN, wald_tests, (double)lr_null / reps);
    printf("  DIF %.2f on item 5: Wald power %.4f (unadjusted 0.05), LR power %.4f\n", dif, (double)pow_wald / reps,
           (double)pow_lr / reps);
    free(Y);
    free(X);
    return 0;
}

/* Per-class summary of the loadings' errors over replications: e[rep][c]
 * (estimate - truth in the frame), se[rep][c], ok[rep] (replication kept).
 * For every entry: bias = mean e, sd = Monte Carlo SD of e, mse = mean SE;
 * then per class the averages, and coverage with the SEs, with the bias
 * removed (e - bias, the SEs), and with the oracle SD (e, sd). */
static void loading_summary(const char *label, const double *e, const double *se, const double *tr,
                            const int *ok, const int *cls, const double *weak, size_t reps, size_t m)
{
    static const char *names[3] = {"anchor items (free entries)", "other items, own factor",
                                   "other items, cross loadings"};
    for (int c = 0; c < 3; c++) {
        size_t ne = 0, cv = 0, cvb = 0, cvo = 0, tot = 0, cvw[2] = {0, 0}, totw[2] = {0, 0};
        double sz = 0, sz2 = 0, sbias = 0, srel = 0, sabsz = 0, ssd = 0, sse = 0, sratio = 0, str = 0;
        for (size_t k = 0; k < m; k++) {
            if (cls[k] != c) continue;
            double s1 = 0, s2 = 0, sm = 0, t = 0;
            size_t cnt = 0;
            for (size_t rep = 0; rep < reps; rep++)
                if (ok[rep] && se[rep * m + k] > 0) {
                    s1 += e[rep * m + k];
                    s2 += e[rep * m + k] * e[rep * m + k];
                    sm += se[rep * m + k];
                    t += tr[rep * m + k];
                    cnt++;
                }
            if (cnt < 3) continue;
            double b = s1 / (double)cnt, sd = sqrt(fmax(s2 / (double)cnt - b * b, 0) * (double)cnt / (double)(cnt - 1));
            sm /= (double)cnt;
            t /= (double)cnt;
            for (size_t rep = 0; rep < reps; rep++)
                if (ok[rep] && se[rep * m + k] > 0) {
                    double x = e[rep * m + k];
                    cv += fabs(x) <= 1.959964 * se[rep * m + k];
                    cvb += fabs(x - b) <= 1.959964 * se[rep * m + k];
                    cvo += fabs(x) <= 1.959964 * sd;
                    int w = weak[rep] < 0.8;
                    cvw[w] += fabs(x) <= 1.959964 * se[rep * m + k];
                    totw[w]++;
                    sz += x / se[rep * m + k];
                    sz2 += x * x / (se[rep * m + k] * se[rep * m + k]);
                    tot++;
                }
            ne++;
            sbias += b;
            srel += fabs(t) > 1e-6 ? b / t : 0;
            sabsz += fabs(b) / sd;
            ssd += sd * sd;
            sse += sm * sm;
            sratio += sm / sd;
            str += t;
        }
        if (!ne) continue;
        double dn = (double)ne;
        printf("  %s, %s: %zu entries, mean truth %.3f\n"
               "    coverage %.4f; bias removed %.4f; with the Monte Carlo SD %.4f\n"
               "    mean bias %+.4f (relative %+.4f), mean |bias|/SD %.3f; RMS SD %.4f, RMS mean SE %.4f, mean SE/SD %.3f\n"
               "    z = error / SE: mean %+.3f, SD %.3f; coverage when the weaker anchor's loading is < 0.8 %.4f (%zu), >= 0.8 %.4f (%zu)\n",
               label, names[c], ne, str / dn, (double)cv / (double)tot, (double)cvb / (double)tot,
               (double)cvo / (double)tot, sbias / dn, srel / dn, sabsz / dn, sqrt(ssd / dn),
               sqrt(sse / dn), sratio / dn, sz / (double)tot,
               sqrt(fmax(sz2 / (double)tot - (sz / (double)tot) * (sz / (double)tot), 0)),
               totw[1] ? (double)cvw[1] / (double)totw[1] : NAN, totw[1],
               totw[0] ? (double)cvw[0] / (double)totw[0] : NAN, totw[0]);
    }
}

static int coverage(int argc, char **argv)
{
    size_t reps = argc > 2 ? strtoul(argv[2], NULL, 10) : 100;
    size_t n = argc > 3 ? strtoul(argv[3], NULL, 10) : 1000;
    size_t q = argc > 4 ? strtoul(argv[4], NULL, 10) : 100;
    int identify = argc > 5 ? atoi(argv[5]) : LS_FACTOR_ANCHOR_IDENTITY;
    uint64_t design = argc > 6 ? strtoull(argv[6], NULL, 10) : 0;
    double tol = argc > 7 ? atof(argv[7]) : 0;
    int boot = argc > 8 ? atoi(argv[8]) : -1;
    const size_t p = 5, r = 2, m = q * r;
    size_t cover = 0, total = 0, nulls = 0, alts = 0, rej_raw = 0, rej_bonf_null = 0, rej_bh_null = 0,
           pow_bonf = 0, pow_bh = 0, fwer = 0, cover_g = 0, total_g = 0, cover_gn = 0, cover_u = 0,
           total_u = 0;
    double bh_fdp = 0, t0 = now();
    size_t an[2] = {10, q / 2 + 10};
    double *E = calloc(reps * m, sizeof *E), *SE = calloc(reps * m, sizeof *SE),
           *TR = calloc(reps * m, sizeof *TR);
    int *ok = calloc(reps, sizeof *ok), *cls = calloc(m, sizeof *cls);
    double *weak = calloc(reps, sizeof *weak);
    if (!E || !SE || !TR || !ok || !cls || !weak) return 1;
    const char *dump_path = getenv("LSF_BENCH_DUMP"); /* per-replication loadings, for analysis */
    FILE *dump = dump_path ? fopen(dump_path, "w") : NULL;
    if (dump) fprintf(dump, "rep,item,factor,estimate,truth,se,se_naive,loglik,converged,iterations\n");
    size_t per = (q + r - 1) / r;
    for (size_t j = 0; j < q; j++)
        for (size_t b = 0; b < r; b++)
            cls[j * r + b] = (j == an[0] || j == an[1]) ? 0 : (b == j / per ? 1 : 2);
    for (size_t rep = 0; rep < reps; rep++) {
        lsf_sim s;
        ls_error e;
        if (lsf_simulate_design(n, q, p, r, LS_FACTOR_BERNOULLI, 0.2, 1.0, 0.0, design, 1000 + rep, &s, &e))
            return 1;
        ls_factor_data d = sim_view(&s);
        ls_factor_options o;
        ls_factor_options_init(&o);
        o.factors = r;
        o.starts = 1;
        o.identify = identify;
        o.anchors = an;
        if (tol > 0) o.tol = tol;
        o.loading_bootstrap = boot;
        ls_result *fr = NULL, *dr = NULL;
        if (ls_factor_run(&d, &o, &fr, &e) || ls_factor_dif_run(fr, 0.05, LS_FACTOR_BH, &dr, &e)) {
            fprintf(stderr, "bench_factor: replication %zu: %s\n", rep, e.message);
            ls_result_free(fr);
            lsf_data_view_free(&d);
            lsf_sim_free(&s);
            continue;
        }
        const lsf_fit f = *(const lsf_fit *)ls_result_payload(fr, "factor-fit");
        const lsf_dif dif = *(const lsf_dif *)ls_result_payload(dr, "factor-dif");
        size_t false_bonf = 0, false_bh = 0, bh_total = 0;
        for (size_t j = 0; j < q; j++)
            for (size_t k = 0; k < p; k++) {
                size_t c = j * (p + 1) + 1 + k;
                double t = s.beta[c];
                cover += fabs(f.beta[c] - t) <= 1.959964 * f.se_beta[c];
                total++;
                bh_total += dif.flag_bh[j * p + k];
                if (t == 0) {
                    nulls++;
                    rej_raw += dif.pvalue[j * p + k] < 0.05;
                    rej_bonf_null += dif.flag_bonferroni[j * p + k];
                    rej_bh_null += dif.flag_bh[j * p + k];
                    false_bonf += dif.flag_bonferroni[j * p + k];
                    false_bh += dif.flag_bh[j * p + k];
                } else {
                    alts++;
                    pow_bonf += dif.flag_bonferroni[j * p + k];
                    pow_bh += dif.flag_bh[j * p + k];
                }
            }
        fwer += false_bonf > 0;
        bh_fdp += bh_total ? (double)false_bh / (double)bh_total : 0;
        /* loadings and factor scores against the truth put in the same
         * identification (covariate condition, reference, condition) */
        weak[rep] = fmin(s.gamma[an[0] * r], s.gamma[an[1] * r + 1]);
        if (lsf_identify_params(&d, r, &o, s.U, s.gamma, s.beta, &e) == 0) {
            ok[rep] = 1;
            for (size_t j = 0; j < q; j++)
                for (size_t b = 0; b < r; b++) {
                    size_t c = j * r + b;
                    E[rep * m + c] = f.gamma[c] - s.gamma[c];
                    SE[rep * m + c] = f.se_gamma[c];
                    TR[rep * m + c] = s.gamma[c];
                    if (dump)
                        fprintf(dump, "%zu,%zu,%zu,%.6f,%.6f,%.6f,%.6f,%.4f,%d,%u\n", rep, j, b, f.gamma[c],
                                s.gamma[c], f.se_gamma[c], f.se_gamma_naive[c], f.loglik, f.converged,
                                f.iterations);
                    if (f.se_gamma[c] == 0) continue; /* fixed by the condition */
                    cover_g += fabs(f.gamma[c] - s.gamma[c]) <= 1.959964 * f.se_gamma[c];
                    cover_gn += fabs(f.gamma[c] - s.gamma[c]) <= 1.959964 * f.se_gamma_naive[c];
                    total_g++;
                }
            for (size_t i = 0; i < n; i++)
                for (size_t b = 0; b < r; b++) {
                    cover_u += fabs(f.U[i * r + b] - s.U[i * r + b]) <= 1.959964 * f.se_U[i * r + b];
                    total_u++;
                }
        }
        ls_result_free(dr);
        ls_result_free(fr);
        lsf_data_view_free(&d);
        lsf_sim_free(&s);
        if ((rep + 1) % 10 == 0)
            fprintf(stderr, "  %zu/%zu replications, %.0f s\n", rep + 1, reps, now() - t0);
    }
    printf("coverage study: %zu replications, n = %zu, q = %zu, r = %zu, p = %zu, %s, loading bootstrap %d, %s, %.0f s\n",
           reps, n, q, r, p, ls_factor_identify_name(identify), boot,
           design ? "item parameters fixed (design seed given)" : "item parameters redrawn each replication",
           now() - t0);
    printf("  95 %% intervals for covariate effects: coverage %.4f (%zu intervals)\n",
           (double)cover / (double)total, total);
    printf("  DIF, zero effects: unadjusted rejection at 0.05 %.4f; Bonferroni %.5f per test, "
           "family-wise error %.3f; BH %.5f per test, mean FDP %.4f\n",
           (double)rej_raw / (double)nulls, (double)rej_bonf_null / (double)nulls,
           (double)fwer / (double)reps, (double)rej_bh_null / (double)nulls, bh_fdp / (double)reps);
    printf("  DIF, effects of 1: power Bonferroni %.4f, BH %.4f\n", (double)pow_bonf / (double)alts,
           (double)pow_bh / (double)alts);
    if (total_g) {
        printf("  loadings (entries not fixed by the condition): coverage %.4f with the reported SEs (the bootstrap's "
               "when on), %.4f with the analytic SEs without the anchors' term\n",
               (double)cover_g / (double)total_g, (double)cover_gn / (double)total_g);
        printf("  factor scores: coverage %.4f\n", (double)cover_u / (double)total_u);
        loading_summary("loadings", E, SE, TR, ok, cls, weak, reps, m);
    }
    free(E);
    free(SE);
    free(TR);
    free(ok);
    free(cls);
    free(weak);
    if (dump) fclose(dump);
    return 0;
}

/* Peak resident memory of this process so far, in GB. */
static double peak_gb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / (1024.0 * 1024.0); /* kB on Linux */
}

static int sparse(int argc, char **argv)
{
    const size_t n = argc > 2 ? strtoul(argv[2], NULL, 10) : 1000000, q = argc > 3 ? strtoul(argv[3], NULL, 10) : 2000,
                 per = argc > 4 ? strtoul(argv[4], NULL, 10) : 20, r = argc > 5 ? strtoul(argv[5], NULL, 10) : 3,
                 p = argc > 6 ? strtoul(argv[6], NULL, 10) : 5;
    const double ridge = argc > 7 ? atof(argv[7]) : 1.0;
    const unsigned threads = argc > 8 ? (unsigned)strtoul(argv[8], NULL, 10) : 0;
    const char *path = argc > 9 ? argv[9] : "/tmp/latentscale_sparse.csv";
    if (per > q || r < 1 || r > 3 || p > 5 || n < 10) {
        fprintf(stderr, "bench_factor sparse: need per <= q, 1 <= r <= 3, p <= 5\n");
        return 2;
    }
    /* truth: item j loads on factor j % r (U(0.5, 1.5)), intercept U(-1, 1);
     * covariate s moves items 5s..5s+4 by 0.5 (DIF) and no other; factors
     * N(0, I) independent of the covariates (no latent regression) */
    ls_rng g = {20291};
    double *lam = malloc(q * sizeof *lam), *icp = malloc(q * sizeof *icp), *eff = calloc(q * 5, sizeof *eff);
    unsigned char *seen = calloc(q, 1);
    uint32_t *pick = malloc(per * sizeof *pick);
    for (size_t j = 0; j < q; j++) {
        lam[j] = 0.5 + ls_rng_unif(&g);
        icp[j] = 2 * ls_rng_unif(&g) - 1;
    }
    for (size_t s = 0; s < p; s++)
        for (size_t j = 5 * s; j < 5 * s + 5 && j < q; j++) eff[j * 5 + s] = 0.5;
    double t0 = now(), c0 = cpu();
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "bench_factor sparse: cannot write %s\n", path);
        return 1;
    }
    static char buf[1 << 20];
    setvbuf(f, buf, _IOFBF, sizeof buf);
    fprintf(f, "person,item,y");
    for (size_t s = 0; s < p; s++) fprintf(f, ",x%zu", s + 1);
    fputc('\n', f);
    for (size_t i = 0; i < n; i++) {
        double x[5], u[3];
        char xs[5][16];
        for (size_t s = 0; s < p; s++) {
            x[s] = round(1000 * ls_rng_norm(&g)) / 1000;
            snprintf(xs[s], sizeof xs[s], "%.3f", x[s]);
        }
        for (size_t k = 0; k < r; k++) u[k] = ls_rng_norm(&g);
        for (size_t a = 0; a < per; a++) { /* per distinct items */
            uint32_t j;
            do j = (uint32_t)(ls_rng_unif(&g) * (double)q);
            while (j >= q || seen[j]);
            seen[j] = 1;
            pick[a] = j;
        }
        for (size_t a = 0; a < per; a++) {
            const uint32_t j = pick[a];
            seen[j] = 0;
            double w = icp[j] + lam[j] * u[j % r];
            for (size_t s = 0; s < p; s++) w += eff[j * 5 + s] * x[s];
            int y = ls_rng_unif(&g) < 1 / (1 + exp(-w));
            fprintf(f, "p%zu,i%u,%d", i + 1, j + 1, y);
            for (size_t s = 0; s < p; s++) fprintf(f, ",%s", xs[s]);
            fputc('\n', f);
        }
    }
    if (fclose(f)) {
        fprintf(stderr, "bench_factor sparse: write failed on %s\n", path);
        return 1;
    }
    double t1 = now(), c1 = cpu();
    char cov[64] = "";
    for (size_t s = 0; s < p; s++) snprintf(cov + strlen(cov), sizeof cov - strlen(cov), "%sx%zu", s ? "," : "", s + 1);
    ls_error e;
    ls_table *t = NULL;
    ls_factor_data *d = NULL;
    if (ls_items_table_read(path, &t, &e) ||
        ls_factor_data_build_long(t, "person,item,y", p ? cov : NULL, NAN, LS_FACTOR_BERNOULLI, &d, &e)) {
        fprintf(stderr, "bench_factor sparse: %s\n", e.message);
        ls_table_free(t);
        if (!getenv("LSF_BENCH_KEEP")) unlink(path);
        return 1;
    }
    double t2 = now(), c2 = cpu(), m2 = peak_gb();
    ls_table_free(t);
    if (!getenv("LSF_BENCH_KEEP")) unlink(path); /* LSF_BENCH_KEEP=1 keeps the table */
    ls_factor_options o;
    ls_factor_options_init(&o);
    o.factors = r;
    o.threads = threads;
    o.ridge = ridge;
    o.method = LS_FACTOR_AUTO;
    ls_result *fr = NULL;
    if (ls_factor_run(d, &o, &fr, &e)) {
        fprintf(stderr, "bench_factor sparse: %s\n", e.message);
        ls_factor_data_free(d);
        return 1;
    }
    double t3 = now(), c3 = cpu();
    const lsf_fit *fit = ls_result_payload(fr, "factor-fit");
    /* covariate effects against the truth (items by their names i1..iq) */
    double ss0 = 0, ss1 = 0, mx = 0;
    size_t n0 = 0, n1 = 0;
    for (size_t jj = 0; jj < q; jj++) {
        const size_t j = strtoul(ls_factor_data_item(d, jj) + 1, NULL, 10) - 1;
        for (size_t s = 0; s < p; s++) {
            double err = fit->beta[jj * (p + 1) + 1 + s] - eff[j * 5 + s];
            mx = fmax(mx, fabs(err));
            if (eff[j * 5 + s] != 0) ss1 += err * err, n1++;
            else ss0 += err * err, n0++;
        }
    }
    printf("sparse: n = %zu persons, q = %zu binary items, %zu answered each (%.2f %% observed, %zu responses), "
           "r = %zu, p = %zu\n", n, q, per, 100.0 * (double)per / (double)q, n * per, r, p);
    printf("  write the long CSV: %.1f s wall, %.1f s CPU\n", t1 - t0, c1 - c0);
    printf("  read it and build the data (factor --long): %.1f s wall, %.1f s CPU; peak memory so far %.2f GB\n",
           t2 - t1, c2 - c1, m2);
    printf("  fit (%s, the command line's defaults: %u start%s, standard errors; ridge %g): %.1f s wall, %.1f s "
           "CPU, %u sweeps, %s\n", ls_factor_method_name(fit->method), o.starts, o.starts == 1 ? "" : "s", ridge,
           t3 - t2, c3 - c2, fit->iterations, fit->converged ? "converged" : "NOT converged");
    printf("  covariate effects: RMSE %.4f on the %zu DIF effects (0.5), %.4f on the %zu zero effects, max |error| %.3f\n",
           n1 ? sqrt(ss1 / (double)n1) : NAN, n1, n0 ? sqrt(ss0 / (double)n0) : NAN, n0, mx);
    printf("  total read + fit %.1f s wall (target < 600 s: %s), %.1f s CPU; peak memory %.2f GB (target < 8 GB: %s)\n",
           t3 - t1, t3 - t1 < 600 ? "met" : "MISSED", c3 - c1, peak_gb(), peak_gb() < 8 ? "met" : "MISSED");
    ls_result_free(fr);
    ls_factor_data_free(d);
    free(lam);
    free(icp);
    free(eff);
    free(seen);
    free(pick);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "scale") == 0) return scale(argc, argv);
    if (argc > 1 && strcmp(argv[1], "coverage") == 0) return coverage(argc, argv);
    if (argc > 1 && strcmp(argv[1], "mml") == 0) return mml_scale(argc, argv);
    if (argc > 1 && strcmp(argv[1], "mml-dif") == 0) return mml_dif(argc, argv);
    if (argc > 1 && strcmp(argv[1], "sparse") == 0) return sparse(argc, argv);
    fprintf(stderr, "usage: bench_factor scale [n q r p threads] | coverage [reps n q identify design tol B] | "
                    "mml [n q r p threads lr] | mml-dif [reps n dif] | sparse [n q per r p ridge threads file]\n");
    return 2;
}
