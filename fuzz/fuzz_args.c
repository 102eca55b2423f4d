/*
 * fuzz_args.c -- libFuzzer harness for the command line's option parser
 * (src/cli/args.c) with a table holding every kind of option the commands
 * use.  Input: the arguments separated by NUL bytes (argv cannot hold NUL,
 * it can hold anything else, newlines included).
 *
 * Properties: success or a message of one line (it goes to stderr as is);
 * positionals within ARGS_MAX_POS and pointing into argv; integers never
 * negative in disguise (a value parsed from text that starts with a
 * non-digit is refused); doubles finite.
 */
#include "fuzz_common.h"
#include "cli/args.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ARGS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    char *argv[MAX_ARGS + 1];
    int argc = 0;
    for (size_t i = 0; i <= size && argc < MAX_ARGS;) {
        argv[argc++] = buf + i;
        i += strlen(buf + i) + 1;
    }
    argv[argc] = NULL;

    const char *out = NULL, *bench = NULL;
    size_t skills = 7;
    unsigned starts = 8;
    uint64_t seed = 1;
    double clip = 0.001, gtol = 1e-2;
    int quiet = 0, nose = 0;
    arg_spec specs[] = {
        {"out", ARG_STRING, &out, "", "FILE"},
        {"benchmarks", ARG_STRING, &bench, "", "A,B"},
        {"skills", ARG_SIZE, &skills, "", "K"},
        {"starts", ARG_UINT, &starts, "", "N"},
        {"seed", ARG_U64, &seed, "", "N"},
        {"clip", ARG_DOUBLE, &clip, "", "EPS"},
        {"gtol", ARG_DOUBLE, &gtol, "", "X"},
        {"quiet", ARG_FLAG, &quiet, "", NULL},
        {"no-se", ARG_FLAG, &nose, "", NULL},
        {NULL, 0, NULL, NULL, NULL}};
    arg_result r;
    char msg[200];
    memset(msg, 'x', sizeof msg);
    int rc = args_parse(argc, argv, specs, &r, msg, sizeof msg);
    if (rc) {
        REQUIRE(rc == -1);
        size_t n = strnlen(msg, sizeof msg);
        REQUIRE(n > 0 && n < sizeof msg);
        for (size_t i = 0; i < n; i++) REQUIRE(msg[i] != '\n' && msg[i] != '\r');
    } else {
        REQUIRE(r.npos <= ARGS_MAX_POS);
        for (size_t i = 0; i < r.npos; i++)
            REQUIRE(r.pos[i] >= buf && r.pos[i] <= buf + size);
        REQUIRE(isfinite(clip) && isfinite(gtol));
        REQUIRE(quiet == 0 || quiet == 1);
        if (out) REQUIRE(out >= buf && out <= buf + size);
    }
    free(buf);
    return 0;
}
