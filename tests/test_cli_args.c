/*
 * test_cli_args.c -- the command line's option parser.
 */
#include "harness.h"
#include "cli/args.h"

#include <stdint.h>

/* argv with writable strings, as main() receives them */
static char **mkargv(int n, const char *const *src)
{
    static char buf[16][64];
    static char *v[16];
    for (int i = 0; i < n; i++) {
        snprintf(buf[i], sizeof buf[i], "%s", src[i]);
        v[i] = buf[i];
    }
    return v;
}

static void options_and_positionals_are_parsed(void)
{
    const char *s = NULL;
    size_t k = 0;
    double x = 0;
    int q = 0;
    uint64_t seed = 0;
    arg_spec sp[] = {{"out", ARG_STRING, &s, "", ""}, {"skills", ARG_SIZE, &k, "", ""},
                     {"gtol", ARG_DOUBLE, &x, "", ""}, {"quiet", ARG_FLAG, &q, "", ""},
                     {"seed", ARG_U64, &seed, "", ""}, {NULL, 0, NULL, NULL, NULL}};
    const char *args[] = {"data.csv", "--out", "f.json", "--skills=4", "--gtol", "1e-4", "--quiet",
                    "--seed", "18446744073709551615", "--", "--not-an-option"};
    arg_result r;
    char msg[200];
    CHECK(args_parse(11, mkargv(11, args), sp, &r, msg, sizeof msg) == 0);
    CHECK(r.npos == 2 && strcmp(r.pos[0], "data.csv") == 0 && strcmp(r.pos[1], "--not-an-option") == 0);
    CHECK(strcmp(s, "f.json") == 0 && k == 4 && x == 1e-4 && q == 1 && seed == UINT64_MAX);
}

static void bad_options_give_one_line_messages(void)
{
    size_t k = 0;
    int q = 0;
    double x;
    arg_spec sp[] = {{"skills", ARG_SIZE, &k, "", ""}, {"quiet", ARG_FLAG, &q, "", ""},
                     {"gtol", ARG_DOUBLE, &x, "", ""}, {NULL, 0, NULL, NULL, NULL}};
    struct { int argc; const char *argv[3]; const char *msg; } cases[] = {
        {1, {"--skils"}, "unknown option '--skils'"},
        {1, {"--skills"}, "--skills needs a value"},
        {2, {"--skills", "-3"}, "--skills: expected a non-negative integer, found '-3'"},
        {2, {"--skills", "4x"}, "found '4x'"},
        {1, {"--quiet=1"}, "--quiet takes no value"},
        {2, {"--gtol", "nan"}, "--gtol: expected a number"},
        {1, {"-k"}, "unknown option '-k'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        arg_result r;
        char msg[200] = "";
        CHECK_MSG(args_parse(cases[i].argc, mkargv(cases[i].argc, cases[i].argv), sp, &r, msg, sizeof msg) == -1, "case %zu", i);
        CHECK_MSG(strstr(msg, cases[i].msg) != NULL, "case %zu: '%s'", i, msg);
    }
}

int main(void)
{
    RUN(options_and_positionals_are_parsed);
    RUN(bad_options_give_one_line_messages);
    return h_finish();
}
