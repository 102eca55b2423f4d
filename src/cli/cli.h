/*
 * cli.h -- the latentscale command line: shared pieces of the commands.
 *
 * Exit codes (documented in the README):
 *   0 success; 2 usage or option error; 3 input error (file, parse, content);
 *   4 numerical failure or non-convergence (the fit is still written, with
 *   "converged": false); 5 out of memory; 130 interrupted (no output written).
 */
#ifndef LS_CLI_H
#define LS_CLI_H

#include "latentscale.h"

#include <stdio.h>
#include "cli/args.h"

#include <string.h>

enum { EXIT_USAGE = 2, EXIT_INPUT = 3, EXIT_NUMERIC = 4, EXIT_MEMORY = 5, EXIT_INTERRUPT = 130 };

/* Print "latentscale: message" and map a status to an exit code. */
/* Ctrl-C and SIGTERM: the progress callback then cancels (common.c). */
void cli_signals(void);
/* A library message in the command line's words: option fields (a leading
 * "field: ", and every `field`) as flags. */
void cli_words(const char *msg, char *out, size_t n);
/* This command names the option field `field` with flag (e.g. "draws",
 * "--param-draws" for optimal), overriding the shared map. */
void cli_field_flag(const char *field, const char *flag);
/* An old option spelling, refused with a message naming the new one. */
#define CLI_RENAMED(old, msg) {old, ARG_RENAMED, NULL, msg, NULL}
/* "PREFIXwarning: MSG" (in those words) on a line of its own. */
void cli_warning(FILE *to, const char *prefix, const char *msg);
/* The fit's calibration, when it has one: the levels that the nominal
 * interval (level) and the median map to, pooled and per benchmark; how is
 * put after "calibration" (e.g. " inside the training rows"). */
void cli_print_calibration(const ls_fit *f, const ls_data *d, double level, const char *how);
/* Every warning of a task's result, on stderr (also under --json). */
void cli_result_warnings(const ls_result *r);
/* Width of a column of the names in r's string entry `names`: the longest,
 * at least `least`, at most 40 characters. */
int cli_name_width(const ls_result *r, const char *names, int least);
int cli_fail(const ls_error *e);
int cli_usage(const char *cmd, const char *msg);
/* The units every command reading a leaderboard states in its --help. */
#define CLI_LEADERBOARD_UNITS                                                                     \
    "\nA leaderboard is a CSV with columns model, family, size (billions of parameters, 7 not\n"   \
    "7e9), tokens (trillions of training tokens, 2 not 2e12) and scores in [0, 1]."

void cli_help(const char *cmd, const char *synopsis, const char *about, const arg_spec *specs,
              const char *examples);
/* Progress bar on stderr when it is a terminal; cancels after SIGINT. */
int cli_progress(void *ctx, const char *stage, double done, double total);
/* One line per finished step (a stage naming it), on a terminal. */
int cli_progress_lines(void *ctx, const char *stage, double done, double total);
void cli_progress_end(void);
/* argv as a JSON array text, for the outputs' "options"; caller frees. */
char *cli_argv_json(int argc, char **argv);

/*
 * --json: the JSON document a command writes with --out, printed on stdout
 * in place of the readable summary.  cli_json_open (after the options are
 * checked, before any output) sends stdout to /dev/null and, without --out,
 * points *out at a file in a private temporary folder; cli_json_close
 * restores stdout, copies the document there when the command wrote it
 * (exit code 0, or 4 for a fit written with "converged": false), removes
 * the temporary files and returns code (or its own failure).  Off: both do
 * nothing.
 */
typedef struct cli_json {
    int on, saved_fd;
    char dir[64], path[96];
    const char *doc;
} cli_json;
int cli_json_open(cli_json *j, int on, const char **out);
int cli_json_close(cli_json *j, int code);
#define CLI_JSON_SPEC(flag)                                                                        \
    {"json", ARG_FLAG, &(flag), "print the JSON result on stdout instead of the summary", NULL}

int cmd_fit(int argc, char **argv);
int cmd_simulate(int argc, char **argv);
int cmd_demo(int argc, char **argv);

/* Options shared by the commands that read a leaderboard and fit it. */
typedef struct fit_args {
    ls_data_options dopt;
    ls_fit_options fopt;
    const char *out, *integration;
    int quiet;
    int se;      /* --se: standard errors (the default; kept for scripts that ask) */
    int calibrate;    /* --calibrate: the default (kept for scripts that ask) */
    int no_calibrate; /* --no-calibrate: the model's own intervals */
} fit_args;


#define DATA_SPECS(a)                                                                              \
    {"benchmarks", ARG_STRING, &(a).dopt.benchmarks,                                              \
     "benchmark columns in order (default: every other numeric column but flops)", "A,B,.."},     \
        {"covariates", ARG_STRING, &(a).dopt.covariates,                                           \
         "covariate terms (default log(size),log(tokens),log(size)*log(tokens))", "T1,T2,.."},    \
        {"floors", ARG_STRING, &(a).dopt.floors_file, "CSV of guessing floors (benchmark,floor)",  \
         "FILE"},                                                                                  \
        {"floor", ARG_STRING, &(a).dopt.floors, "floor overrides, e.g. arc=0.25,mmlu=0.25",        \
         "NAME=V,.."},                                                                             \
        {"ceilings", ARG_STRING, &(a).dopt.ceilings_file,                                          \
         "CSV of ceilings, the mean's upper asymptote (benchmark,ceiling; default 1)", "FILE"},   \
        {"ceiling", ARG_STRING, &(a).dopt.ceilings, "ceiling overrides, e.g. mmlu=0.85",           \
         "NAME=V,.."},                                                                             \
        {"clip", ARG_DOUBLE, &(a).dopt.clip, "clip scores into [clip, 1-clip] (default 0.001)",    \
         "EPS"},                                                                                   \
        {"model-column", ARG_STRING, &(a).dopt.model_column, "model name column (default model)",  \
         "NAME"},                                                                                  \
        {"family-column", ARG_STRING, &(a).dopt.family_column,                                     \
         "family name column (default family)", "NAME"},                                          \
        {"size-column", ARG_STRING, &(a).dopt.size_column,                                         \
         "size column, billions of parameters (default size)", "NAME"},                            \
        {"tokens-column", ARG_STRING, &(a).dopt.tokens_column,                                     \
         "tokens column, trillions of tokens (default tokens)", "NAME"},                           \
    {                                                                                              \
        "drop-incomplete", ARG_FLAG, &(a).dopt.drop_incomplete,                                    \
            "drop rows missing size or tokens and families without scores (default: refuse)", NULL \
    }

#define FIT_SPECS(a)                                                                               \
    {"skills", ARG_SIZE, &(a).fopt.skills, "number of latent skills K (default 4)", "K"},          \
        {"anchors", ARG_STRING, &(a).fopt.anchors,                                                 \
         "anchor benchmark of each skill; first (default): the first K benchmarks; auto: "         \
         "chosen from the data, no two nearly collinear",                                          \
         "A,B,..|auto|first"},                                                                     \
        {"starts", ARG_UINT, &(a).fopt.starts, "seeded optimiser starts (default 8)", "N"},        \
        {"seed", ARG_U64, &(a).fopt.seed, "random seed (default 1)", "N"},                         \
        {"integration", ARG_STRING, &(a).integration,                                             \
         "auto (default), gh, sparse, qmc or laplace", "METHOD"},                                          \
        {"nodes", ARG_UINT, &(a).fopt.nodes, "GH nodes per dimension, sparse-grid level or QMC points (0 = auto)", \
         "N"},                                                                                     \
        {"threads", ARG_UINT, &(a).fopt.threads, "worker threads (default: all cores)", "N"},     \
        {"gtol", ARG_DOUBLE, &(a).fopt.gtol, "convergence: max |gradient| (default 1e-2)", "X"},  \
        {"logit-clamp", ARG_DOUBLE, &(a).fopt.logit_clamp,                                       \
         "clip eta into [-X, X] as the reference's published AIC table did (4.5); default 0 = off", "X"}, \
        {"precision-covariates", ARG_FLAG, &(a).fopt.precision_covariates,                       \
         "log precision linear in the covariates, tested against constant precision", NULL},      \
        {"estimate-ceilings", ARG_STRING, &(a).fopt.estimate_ceilings,                           \
         "estimate these benchmarks' ceilings by maximum likelihood (or all)", "A,B,..|all"},     \
        {"family-effect", ARG_FLAG, &(a).fopt.family_effect,                                      \
         "a family-by-benchmark random effect u_fj ~ N(0, tau_j^2), tested against none (K <= 7)", NULL}, \
        {"calibrate", ARG_FLAG, &(a).calibrate,                                                   \
         "calibrate the intervals by extrapolation to each family's largest model, held out (the default; --calibration-folds more fits)", NULL}, \
        {"no-calibrate", ARG_FLAG, &(a).no_calibrate,                                             \
         "the model's own intervals, without the calibration's refits", NULL},                    \
        {"calibration-folds", ARG_UINT, &(a).fopt.calibration_folds,                              \
         "refits of the calibration, each without one group of the held-out siblings (default 5; 1: all at once)", "G"}, \
        {"se", ARG_FLAG, &(a).se, "standard errors in the output (the default)", NULL},               \
        {"no-se", ARG_FLAG, &(a).fopt.skip_se, "skip the standard errors (an analytic Hessian and per-family scores)", NULL}, \
    {                                                                                              \
        "max-iter", ARG_UINT, &(a).fopt.max_iter, "iterations per start (default 3000)", "N"       \
    }

void fit_args_init(fit_args *a);
int cli_parse_integration(const char *s, int *out);
/* 1 when a and b name the same existing file. */
int cli_same_file(const char *a, const char *b);

int cmd_posterior(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_evaluate(int argc, char **argv);
int cmd_select(int argc, char **argv);
int cmd_optimal(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_factor(int argc, char **argv);
int cmd_gpcm(int argc, char **argv);
int cmd_report(int argc, char **argv);

/* drop_incomplete's warning on stderr (nothing when no row was dropped). */
void cli_data_warning(const ls_data *d);
/* --quiet: stdout to /dev/null until cli_quiet_end (saved: what begin
 * returned; -1 when off). */
int cli_quiet_begin(int on);
void cli_quiet_end(int saved);
/* Human summary of a fit on stdout. */
void cli_print_fit(const ls_fit *f, const ls_data *d);

#endif
