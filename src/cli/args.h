/*
 * args.h -- the command line's option parser: a table of options per
 * command, "--name value" or "--name=value", positional arguments kept in
 * order.  Pure: no printing, no exit; errors come back as one line.
 */
#ifndef LS_ARGS_H
#define LS_ARGS_H

#include <stddef.h>

/* ARG_RENAMED: an old spelling, refused with help as the message ("--families
 * is now --n-families (a count)"); hidden from --help. */
enum arg_kind { ARG_FLAG, ARG_STRING, ARG_SIZE, ARG_UINT, ARG_U64, ARG_DOUBLE, ARG_RENAMED };

typedef struct arg_spec {
    const char *name;  /* without the leading "--"          */
    int kind;
    void *dest;        /* int*, const char**, size_t*, unsigned*, uint64_t*, double* */
    const char *help;  /* one line, shown by --help          */
    const char *meta;  /* placeholder shown in help: "K"     */
} arg_spec;

#define ARGS_MAX_POS 8

typedef struct arg_result {
    const char *pos[ARGS_MAX_POS];
    size_t npos;
    int help;
} arg_result;

/* Parse argv[0..argc) against specs (terminated by a NULL name).  Returns 0,
 * or -1 with a message in msg (size msgn). */
int args_parse(int argc, char **argv, const arg_spec *specs, arg_result *res, char *msg,
               size_t msgn);

#endif
