/*
 * common.c -- what every command shares: the exit codes of library
 * statuses and the one-line error (option fields named as flags), usage
 * and help text, the progress bar and Ctrl-C, --json output through a
 * temporary file, the command line as JSON, fit options and the integration
 * names, and the check that an output is not an input.
 */
#include "cli/cli.h"

#include <sys/stat.h>

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

static volatile sig_atomic_t interrupted = 0;
static int bar_shown = 0;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

void cli_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* The library's messages about options name the options' fields
 * ("param_draws: expected ..."); the command line names its flags
 * ("--param-draws: ...").  Fields whose flag is not the field's name with
 * hyphens: */
static const struct {
    const char *field, *flag;
} field_flags[] = {
    {"floors_file", "--floors"},  {"floors", "--floor"},       {"ceilings_file", "--ceilings"},
    {"ceilings", "--ceiling"},    {"ceiling_list", "--ceiling"}, {"select_path", "--select"},
    {"skip_se", "--no-se"},       {"no_scale_correction", "--no-scale-correction"},
};
/* Every field a message may name (the options structs of latentscale.h). */
static const char *const fields[] = {
    "benchmarks", "covariates", "clip", "model_column", "family_column", "skills", "anchors",
    "starts", "seed", "integration", "nodes", "threads", "gtol", "max_iter", "precision_covariates",
    "logit_clamp", "estimate_ceilings", "families", "family", "missing", "chains", "warmup", "draws",
    "level", "param_draws", "latent_draws", "param_cov", "budgets", "size_range", "tokens_range",
    "folds", "top", "compare", "title", "grid", "optimal_draws", "out", "factors", "identify",
    "covariate_condition", "covariate_mode", "bound", "tol", "ridge", "loading_bootstrap", "items", "dichotomise",
    "dif", "dif_lr", "correction", "alpha", "select", "method", "pattern", "lowest", "categories", "exploratory", "format",
    "size_column", "tokens_column", "drop_incomplete", "family_effect", "family_effect_sd", "select_interaction",
    "calibration_folds", "select_ceilings",
};

/* A command whose flag for a field differs from the others' (optimal's
 * parameter draws, factor's response distribution, report's highlighted
 * families): set before the command calls the library. */
static struct {
    const char *field, *flag;
} overrides[4];
static size_t noverrides = 0;

void cli_field_flag(const char *field, const char *flag)
{
    if (noverrides < sizeof overrides / sizeof overrides[0]) {
        overrides[noverrides].field = field;
        overrides[noverrides++].flag = flag;
    }
}

/* One field as its flag into out, or 0 when name is not a field. */
static int field_flag(const char *name, size_t len, char *out, size_t n)
{
    for (size_t i = 0; i < noverrides; i++)
        if (strlen(overrides[i].field) == len && strncmp(overrides[i].field, name, len) == 0) {
            snprintf(out, n, "%s", overrides[i].flag);
            return 1;
        }
    for (size_t i = 0; i < sizeof field_flags / sizeof field_flags[0]; i++)
        if (strlen(field_flags[i].field) == len && strncmp(field_flags[i].field, name, len) == 0) {
            snprintf(out, n, "%s", field_flags[i].flag);
            return 1;
        }
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (strlen(fields[i]) == len && strncmp(fields[i], name, len) == 0) {
            size_t k = snprintf(out, n, "--");
            for (size_t c = 0; c < len && k + 1 < n; c++) out[k++] = name[c] == '_' ? '-' : name[c];
            out[k < n ? k : n - 1] = '\0';
            return 1;
        }
    return 0;
}

/* msg with a leading "field: " (or "a/b: ", "a x b: ") and every `field`
 * in flags. */
void cli_words(const char *msg, char *out, size_t n)
{
    char tmp[LS_ERROR_LEN + 256];
    size_t k0 = 0;
    for (const char *c = msg; *c && k0 + 1 < sizeof tmp; c++) {
        const char *e = *c == '`' ? strchr(c + 1, '`') : NULL;
        char fl[64];
        if (e && field_flag(c + 1, (size_t)(e - c - 1), fl, sizeof fl)) {
            k0 += (size_t)snprintf(tmp + k0, sizeof tmp - k0, "%s", fl);
            if (k0 >= sizeof tmp) k0 = sizeof tmp - 1;
            c = e;
        } else
            tmp[k0++] = *c;
    }
    tmp[k0] = '\0';
    msg = tmp;
    const char *colon = strstr(msg, ": ");
    char head[256] = "";
    size_t k = 0;
    if (colon && (size_t)(colon - msg) < 120) {
        const char *p = msg;
        while (p < colon) {
            size_t len = strspn(p, "abcdefghijklmnopqrstuvwxyz_");
            char fl[64];
            if (len == 0 || !field_flag(p, len, fl, sizeof fl)) { k = 0; break; }
            k += (size_t)snprintf(head + k, sizeof head - k, "%s", fl);
            p += len;
            if (p == colon) break;
            if (*p == '/') { head[k++] = '/'; p++; }
            else if (strncmp(p, " x ", 3) == 0) { k += (size_t)snprintf(head + k, sizeof head - k, " x "); p += 3; }
            else { k = 0; break; }
            head[k] = '\0';
        }
    }
    if (k) snprintf(out, n, "%s%s", head, colon);
    else snprintf(out, n, "%s", msg);
}

void cli_warning(FILE *to, const char *prefix, const char *msg)
{
    char w[LS_ERROR_LEN + 1024];
    cli_words(msg, w, sizeof w);
    fprintf(to, "%swarning: %s\n", prefix ? prefix : "", w);
}

int cli_name_width(const ls_result *r, const char *names, int least)
{
    int w = least;
    for (size_t i = 0; i < ls_result_nstrings(r, names); i++) {
        size_t l = strlen(ls_result_string(r, names, i));
        if (l > (size_t)w) w = l > 40 ? 40 : (int)l;
    }
    return w;
}

void cli_result_warnings(const ls_result *r)
{
    for (size_t i = 0; i < ls_result_nwarnings(r); i++) cli_warning(stderr, "latentscale: ", ls_result_warning(r, i));
}

int cli_fail(const ls_error *e)
{
    char msg[LS_ERROR_LEN + 256];
    cli_words(e->message, msg, sizeof msg);
    fprintf(stderr, "latentscale: %s\n", msg);
    switch (e->code) {
    case LS_ERR_OPTION: return EXIT_USAGE;
    case LS_ERR_IO:
    case LS_ERR_PARSE:
    case LS_ERR_INPUT: return EXIT_INPUT;
    case LS_ERR_NOMEM: return EXIT_MEMORY;
    case LS_ERR_CANCEL: return EXIT_INTERRUPT;
    default: return EXIT_NUMERIC;
    }
}

int cli_usage(const char *cmd, const char *msg)
{
    fprintf(stderr, "latentscale %s: %s\n", cmd, msg);
    return EXIT_USAGE;
}

void cli_help(const char *cmd, const char *synopsis, const char *about, const arg_spec *specs,
              const char *examples)
{
    printf("usage: latentscale %s %s\n\n%s\n\noptions:\n", cmd, synopsis, about);
    for (const arg_spec *s = specs; s->name; s++) {
        char left[64];
        if (s->kind == ARG_RENAMED) continue;
        if (s->kind == ARG_FLAG) snprintf(left, sizeof left, "--%s", s->name);
        else snprintf(left, sizeof left, "--%s %s", s->name, s->meta ? s->meta : "X");
        printf("  %-26s %s\n", left, s->help);
    }
    printf("  %-26s %s\n", "--help", "show this help");
    if (examples) printf("\nexamples:\n%s", examples);
}

int cli_progress(void *ctx, const char *stage, double done, double total)
{
    (void)ctx;
    if (interrupted) return 1;
    if (!isatty(STDERR_FILENO)) return 0;
    static double last = -1;
    if ((long)done % 10 != 0 && done > last && done - last < 10) return 0;
    last = done;
    if (total > 0)
        fprintf(stderr, "\r%-28s iteration %6.0f (limit %.0f)   ", stage, done, total);
    else
        fprintf(stderr, "\r%-28s %6.0f   ", stage, done);
    bar_shown = 1;
    return 0;
}

int cli_progress_lines(void *ctx, const char *stage, double done, double total)
{
    (void)ctx;
    if (interrupted) return 1;
    if (!isatty(STDERR_FILENO)) return 0;
    static double last = -1; /* a report repeated while a long job polls: printed once */
    if (done == last) return 0;
    last = done;
    fprintf(stderr, "%s: done (%.0f of %.0f)\n", stage, done, total);
    return 0;
}

void cli_progress_end(void)
{
    if (bar_shown) fprintf(stderr, "\r%60s\r", "");
    bar_shown = 0;
}

char *cli_argv_json(int argc, char **argv)
{
    json_t *a = json_array();
    for (int i = 0; a && i < argc; i++) json_array_append_new(a, json_string(argv[i]));
    char *s = a ? json_dumps(a, JSON_COMPACT) : NULL;
    json_decref(a);
    return s;
}

int cli_json_open(cli_json *j, int on, const char **out)
{
    memset(j, 0, sizeof *j);
    j->saved_fd = -1;
    if (!on) return 0;
    j->on = 1;
    if (!*out) {
        const char *tmp = getenv("TMPDIR");
        if (!tmp || !*tmp || strlen(tmp) > 40) tmp = "/tmp";
        snprintf(j->dir, sizeof j->dir, "%s/latentscale.XXXXXX", tmp);
        if (!mkdtemp(j->dir)) {
            fprintf(stderr, "latentscale: --json: cannot create a temporary folder in %s\n", tmp);
            j->on = 0;
            return EXIT_INPUT;
        }
        snprintf(j->path, sizeof j->path, "%s/result.json", j->dir);
        *out = j->path;
    }
    j->doc = *out;
    fflush(stdout);
    j->saved_fd = dup(STDOUT_FILENO);
    int null = open("/dev/null", O_WRONLY);
    if (j->saved_fd < 0 || null < 0 || dup2(null, STDOUT_FILENO) < 0) {
        if (null >= 0) close(null);
        fprintf(stderr, "latentscale: --json: cannot redirect the summary\n");
        return EXIT_INPUT;
    }
    close(null);
    return 0;
}

int cli_json_close(cli_json *j, int code)
{
    if (!j->on) return code;
    fflush(stdout);
    if (j->saved_fd >= 0) {
        dup2(j->saved_fd, STDOUT_FILENO);
        close(j->saved_fd);
    }
    if (code == 0 || code == EXIT_NUMERIC) {
        FILE *in = fopen(j->doc, "rb");
        if (in) {
            char buf[65536];
            size_t n;
            while ((n = fread(buf, 1, sizeof buf, in)) > 0)
                if (fwrite(buf, 1, n, stdout) != n) break;
            fclose(in);
            if (fflush(stdout) != 0 && code == 0) {
                fprintf(stderr, "latentscale: --json: writing to stdout failed\n");
                code = EXIT_INPUT;
            }
        }
    }
    if (j->dir[0]) {
        unlink(j->path);
        rmdir(j->dir);
    }
    return code;
}

/* ---------------------------------------------------------------- */
/* Options shared by the commands                                                            */
/* ---------------------------------------------------------------- */

int cli_parse_integration(const char *s, int *out)
{
    if (!s || strcmp(s, "auto") == 0) *out = LS_INT_AUTO;
    else if (strcmp(s, "laplace") == 0) *out = LS_INT_LAPLACE;
    else if (strcmp(s, "gh") == 0) *out = LS_INT_GH;
    else if (strcmp(s, "qmc") == 0) *out = LS_INT_QMC;
    else if (strcmp(s, "sparse") == 0) *out = LS_INT_SPARSE;
    else return -1;
    return 0;
}

/* Refuse an output that is one of the inputs (same file). */
int cli_same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    if (!a || !b || stat(a, &sa) != 0 || stat(b, &sb) != 0) return 0;
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

void fit_args_init(fit_args *a)
{
    memset(a, 0, sizeof *a);
    ls_data_options_init(&a->dopt);
    ls_fit_options_init(&a->fopt);
}

void cli_data_warning(const ls_data *d)
{
    if (d && ls_data_warning(d)) cli_warning(stderr, "latentscale: ", ls_data_warning(d));
}

int cli_quiet_begin(int on)
{
    if (!on) return -1;
    fflush(stdout);
    int saved = dup(STDOUT_FILENO), null = open("/dev/null", O_WRONLY);
    if (saved < 0 || null < 0 || dup2(null, STDOUT_FILENO) < 0) {
        if (null >= 0) close(null);
        if (saved >= 0) close(saved);
        return -1; /* the summary is printed after all */
    }
    close(null);
    return saved;
}

void cli_quiet_end(int saved)
{
    if (saved < 0) return;
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
}

void cli_print_calibration(const ls_fit *f, const ls_data *d, double level, const char *how)
{
    size_t ncal = 0, mcal = 0;
    if (!ls_fit_calibration(f, &ncal, &mcal, NULL)) return;
    double lo = (1 - level) / 2, hi = (1 + level) / 2;
    printf("calibration%s: %zu cells of %zu held-out largest siblings; the %.0f%% interval spans the predictive\n"
           "  levels [%.3f, %.3f] pooled, the median is the %.3f quantile; per benchmark (own ends, medians shrunk to the pooled):\n",
           how, ncal, mcal, 100 * level, ls_fit_calibrated_level(f, lo), ls_fit_calibrated_level(f, hi),
           ls_fit_calibrated_level(f, 0.5));
    size_t J = ls_data_nbenchmarks(d), col = 0;
    for (size_t j = 0; j < J; j++) {
        char cell[96];
        int w = snprintf(cell, sizeof cell, "%s%.24s [%.3f, %.3f] %.2f", col ? ", " : "  ", ls_data_benchmark(d, j),
                         ls_fit_calibrated_level_at(f, j, lo), ls_fit_calibrated_level_at(f, j, hi),
                         ls_fit_calibrated_level_at(f, j, 0.5));
        if (col && col + (size_t)w > 100) {
            printf(",\n");
            w = snprintf(cell, sizeof cell, "  %.24s [%.3f, %.3f] %.2f", ls_data_benchmark(d, j),
                         ls_fit_calibrated_level_at(f, j, lo), ls_fit_calibrated_level_at(f, j, hi),
                         ls_fit_calibrated_level_at(f, j, 0.5));
            col = 0;
        }
        fputs(cell, stdout);
        col += (size_t)w;
    }
    printf("\n");
}
