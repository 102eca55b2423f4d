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
#include "cli/args.h"

enum { EXIT_USAGE = 2, EXIT_INPUT = 3, EXIT_NUMERIC = 4, EXIT_MEMORY = 5, EXIT_INTERRUPT = 130 };

/* Print "latentscale: message" and map a status to an exit code. */
int cli_fail(const ls_error *e);
int cli_usage(const char *cmd, const char *msg);
void cli_help(const char *cmd, const char *synopsis, const char *about, const arg_spec *specs,
              const char *examples);
/* Progress bar on stderr when it is a terminal; cancels after SIGINT. */
int cli_progress(void *ctx, const char *stage, double done, double total);
void cli_progress_end(void);
/* argv as a JSON array text, for the outputs' "options"; caller frees. */
char *cli_argv_json(int argc, char **argv);

int cmd_fit(int argc, char **argv);
int cmd_simulate(int argc, char **argv);
int cmd_demo(int argc, char **argv);

/* Human summary of a fit on stdout. */
void cli_print_fit(const ls_fit *f, const ls_data *d);

#endif
