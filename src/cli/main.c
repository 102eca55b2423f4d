/*
 * main.c -- entry point of the latentscale command line: the list of
 * commands and the dispatch to them (common.c holds what they share).  A thin
 * layer over the public C API in latentscale.h.
 */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* OpenMP's waiting threads spin before they sleep: libgomp's default is
 * 300,000 turns at every barrier of every likelihood evaluation.  On a
 * machine where other work holds the cores, those turns compete with the
 * thread everyone is waiting for: a K = 2 fit of the paper data took 10.2 s
 * with two threads where one thread takes 7.5 s (both cores busy), and
 * 35 s in an earlier busy period.  A short spin (3,000 turns; LLVM's
 * runtime: 1 ms) keeps the quiet-machine speed (2.04 s against 2.06 s)
 * and sleeps quickly under load (5.2 s).  The runtime reads these settings
 * once, when it is loaded, before main runs, so the command sets them and
 * starts itself again, once; a user's own OMP_WAIT_POLICY, GOMP_SPINCOUNT
 * or KMP_BLOCKTIME is left alone. */
static void wait_policy(char **argv)
{
    if (getenv("OMP_WAIT_POLICY") || getenv("GOMP_SPINCOUNT") || getenv("KMP_BLOCKTIME")) return;
    /* the program's own path (under valgrind, the program's, not the
     * tool's: exec'ing /proc/self/exe itself would start the tool) */
    char self[4096];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0 || (size_t)len >= sizeof self - 1) return; /* not Linux, or no /proc: the default */
    self[len] = 0;
    if (setenv("GOMP_SPINCOUNT", "3000", 1) != 0 || setenv("KMP_BLOCKTIME", "1", 1) != 0) return;
    execv(self, argv);
    /* the exec failed: carry on with the runtime's default */
}

static void usage(void)
{
    printf("latentscale %s -- latent-variable models for benchmark and assessment data\n\n"
           "usage: latentscale COMMAND [options]   (latentscale COMMAND --help for details)\n\n"
           "commands:\n"
           "  fit        fit the latent-variable scaling law to a leaderboard CSV\n"
           "  simulate   draw a synthetic leaderboard and its true parameters\n"
           "  demo       simulate a realistic leaderboard, fit it, summarise\n"
           "  posterior  a family's posterior: mode, Laplace, quadrature, MCMC with diagnostics\n"
           "  predict    predictive distributions of new models' scores, with intervals\n"
           "  evaluate   refit on training rows, predict held-out rows, MAE and coverage\n"
           "  select     choose the number of skills: AIC, BIC, cross-validation\n"
           "  optimal    compute-optimal parameters/tokens split per skill and benchmark\n"
           "  compare    compare two families' skills (e.g. base against instruction-tuned)\n"
           "  report     one self-contained HTML page with SVG figures and the table of a fit\n"
           "  factor     generalized latent factor model with covariates, DIF tests (items in columns)\n"
           "  gpcm       multidimensional generalized partial credit model (GVEM or MML) for ordered scores\n"
           "  version    print the version\n\n"
           "exit codes: 0 ok, 2 usage, 3 input, 4 numerical or not converged, 5 memory,\n"
           "            130 interrupted\n",
           LS_VERSION);
}

int main(int argc, char **argv)
{
    wait_policy(argv);
    cli_signals();
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage();
        return argc < 2 ? EXIT_USAGE : 0;
    }
    const char *c = argv[1];
    int rc;
    if (strcmp(c, "fit") == 0) rc = cmd_fit(argc - 2, argv + 2);
    else if (strcmp(c, "simulate") == 0) rc = cmd_simulate(argc - 2, argv + 2);
    else if (strcmp(c, "demo") == 0) rc = cmd_demo(argc - 2, argv + 2);
    else if (strcmp(c, "posterior") == 0) rc = cmd_posterior(argc - 2, argv + 2);
    else if (strcmp(c, "predict") == 0) rc = cmd_predict(argc - 2, argv + 2);
    else if (strcmp(c, "evaluate") == 0) rc = cmd_evaluate(argc - 2, argv + 2);
    else if (strcmp(c, "select") == 0) rc = cmd_select(argc - 2, argv + 2);
    else if (strcmp(c, "optimal") == 0) rc = cmd_optimal(argc - 2, argv + 2);
    else if (strcmp(c, "compare") == 0) rc = cmd_compare(argc - 2, argv + 2);
    else if (strcmp(c, "report") == 0) rc = cmd_report(argc - 2, argv + 2);
    else if (strcmp(c, "factor") == 0) rc = cmd_factor(argc - 2, argv + 2);
    else if (strcmp(c, "gpcm") == 0) rc = cmd_gpcm(argc - 2, argv + 2);
    else if (strcmp(c, "version") == 0 || strcmp(c, "--version") == 0) {
        printf("latentscale %s\n", LS_VERSION);
        rc = 0;
    } else {
        fprintf(stderr, "latentscale: unknown command '%s' (try latentscale --help)\n", c);
        rc = EXIT_USAGE;
    }
    cli_progress_end();
    return rc;
}
