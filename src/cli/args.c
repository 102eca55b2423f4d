/*
 * args.c -- option parsing for the command line (see args.h).
 */
#include "cli/args.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_value(const arg_spec *s, const char *v, char *msg, size_t msgn)
{
    char *end = NULL;
    errno = 0;
    switch (s->kind) {
    case ARG_STRING: *(const char **)s->dest = v; return 0;
    case ARG_SIZE:
    case ARG_UINT:
    case ARG_U64: {
        /* digits only: strtoull would skip leading spaces and negate a sign,
         * so " -1" would come back as 2^64 - 1 */
        if (*v < '0' || *v > '9') break;
        unsigned long long x = strtoull(v, &end, 10);
        if (errno || *end) break;
        if (s->kind == ARG_UINT) {
            if (x > 0xffffffffULL) break;
            *(unsigned *)s->dest = (unsigned)x;
        } else if (s->kind == ARG_SIZE) *(size_t *)s->dest = (size_t)x;
        else *(uint64_t *)s->dest = (uint64_t)x;
        return 0;
    }
    case ARG_DOUBLE: {
        double x = strtod(v, &end);
        if (!*v || errno || *end || !isfinite(x)) break;
        *(double *)s->dest = x;
        return 0;
    }
    default: break;
    }
    snprintf(msg, msgn, "--%s: expected %s, found '%.60s'", s->name,
             s->kind == ARG_DOUBLE ? "a number" : "a non-negative integer", v);
    return -1;
}

static int parse_all(int argc, char **argv, const arg_spec *specs, arg_result *res, char *msg,
                     size_t msgn);

/* Messages quote what the user typed and go to stderr as one line: control
 * characters (a newline inside a quoted shell argument) are shown as '?'. */
int args_parse(int argc, char **argv, const arg_spec *specs, arg_result *res, char *msg,
               size_t msgn)
{
    int rc = parse_all(argc, argv, specs, res, msg, msgn);
    if (rc)
        for (char *c = msg; *c; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f) *c = '?';
    return rc;
}

static int parse_all(int argc, char **argv, const arg_spec *specs, arg_result *res, char *msg,
                     size_t msgn)
{
    memset(res, 0, sizeof *res);
    int only_pos = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (only_pos || a[0] != '-' || a[1] == '\0') {
            if (res->npos == ARGS_MAX_POS) {
                snprintf(msg, msgn, "too many arguments ('%.60s')", a);
                return -1;
            }
            res->pos[res->npos++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) { only_pos = 1; continue; }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) { res->help = 1; continue; }
        if (a[1] != '-') {
            snprintf(msg, msgn, "unknown option '%.60s' (options start with --)", a);
            return -1;
        }
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const arg_spec *s = specs;
        while (s->name && !(strlen(s->name) == len && strncmp(s->name, name, len) == 0)) s++;
        if (!s->name) {
            snprintf(msg, msgn, "unknown option '--%.*s' (see --help)", (int)(len > 60 ? 60 : len), name);
            return -1;
        }
        if (s->kind == ARG_RENAMED) {
            snprintf(msg, msgn, "%s", s->help);
            return -1;
        }
        if (s->kind == ARG_FLAG) {
            if (eq) {
                snprintf(msg, msgn, "--%s takes no value", s->name);
                return -1;
            }
            *(int *)s->dest = 1;
            continue;
        }
        const char *v = eq ? eq + 1 : NULL;
        if (!v) {
            if (i + 1 >= argc) {
                snprintf(msg, msgn, "--%s needs a value", s->name);
                return -1;
            }
            v = argv[++i];
        }
        if (parse_value(s, v, msg, msgn)) return -1;
    }
    return 0;
}
