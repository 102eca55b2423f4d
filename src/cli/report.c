/*
 * report.c -- `latentscale report FIT DATA --out report.html`: one
 * self-contained HTML page with SVG figures of a fit (ls_report_write).
 */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>

int cmd_report(int argc, char **argv)
{
    ls_report_options o;
    ls_report_options_init(&o);
    const char *out = NULL;
    int quiet = 0;
    cli_field_flag("families", "--highlight");
    arg_spec specs[] = {
        {"out", ARG_STRING, &out, "write the HTML report here (required)", "FILE"},
        {"highlight", ARG_STRING, &o.families, "families highlighted in figure 1, at most 8 (default: the largest)", "A,B,.."},
        {"top", ARG_SIZE, &o.top, "without --highlight: highlight the N largest families (default 4; 0 = a new family's curve)", "N"},
        {"compare", ARG_STRING, &o.compare, "draw the comparison of two families (figure 6)", "A,B"},
        {"select", ARG_STRING, &o.select_path, "JSON of `latentscale select --out` for figure 4", "FILE"},
        {"title", ARG_STRING, &o.title, "page title (default: latentscale report)", "TEXT"},
        {"level", ARG_DOUBLE, &o.level, "interval level of bands and intervals (default 0.9)", "L"},
        {"grid", ARG_SIZE, &o.grid, "compute points per curve (default 30)", "N"},
        {"param-draws", ARG_SIZE, &o.param_draws, "parameter draws for bands and comparison (default 200, as predict and compare; 0 = plug-in)", "N"},
        {"param-cov", ARG_STRING, &o.param_cov, "covariance of the parameter draws: hessian (default) or sandwich", "KIND"},
        {"latent-draws", ARG_SIZE, &o.latent_draws, "family draws per parameter draw (default 50, as predict and compare)", "N"},
        {"optimal-draws", ARG_SIZE, &o.optimal_draws, "draws for the frontiers' intervals (default 1000; 0 = none)", "N"},
        {"seed", ARG_U64, &o.seed, "random seed (default 1)", "N"},
        {"threads", ARG_UINT, &o.threads, "worker threads (default: all cores)", "N"},
        {"quiet", ARG_FLAG, &quiet, "print nothing but errors and warnings", NULL},
        CLI_RENAMED("families", "--families is now --highlight (the families highlighted in figure 1)"),
        {NULL, 0, NULL, NULL, NULL}};
    arg_result r;
    char msg[256];
    if (args_parse(argc, argv, specs, &r, msg, sizeof msg)) return cli_usage("report", msg);
    if (r.help) {
        cli_help("report", "FIT DATA --out report.html [options]",
                 "One self-contained HTML file (inline CSS and SVG, no scripts or network) with figures of a fit:\n"
                 "  1. observed scores against log10 training compute C = 6ND, one panel per benchmark, with\n"
                 "     predicted curves and bands for the highlighted families along compute;\n"
                 "  2. the loadings heatmap; 3. the skill correlation matrix;\n"
                 "  4. AIC, BIC (and CV) against K, with --select;\n"
                 "  5. compute-optimal parameters and tokens per skill against budget;\n"
                 "  6. a family comparison (forest plot), with --compare;\n"
                 "and the fit table.  DATA is the file FIT was fitted on.  The page records the version, the\n"
                 "options and the seed; the same inputs and seed give the same bytes." CLI_LEADERBOARD_UNITS,
                 specs,
                 "  latentscale report fit.json leaderboard.csv --out report.html\n"
                 "  latentscale select leaderboard.csv --skills 1..5 --out select.json\n"
                 "  latentscale report fit.json leaderboard.csv --select select.json \\\n"
                 "      --highlight qwen2.5,llama-3 --compare yi-1.5-chat,yi-1.5 --out report.html\n");
        return 0;
    }
    if (r.npos != 2) return cli_usage("report", "expected FIT and DATA (see --help)");
    if (!out) return cli_usage("report", "--out: required");
    const char *inputs[] = {r.pos[0], r.pos[1], o.select_path};
    for (size_t i = 0; i < 3; i++)
        if (inputs[i] && cli_same_file(out, inputs[i]))
            return cli_usage("report", "--out names an input file; refusing to overwrite it");
    o.fit_name = r.pos[0];
    ls_error e = {0, ""};
    ls_table *t = NULL;
    ls_data *d = NULL;
    ls_fit *f = NULL;
    int rc = ls_items_table_read(r.pos[1], &t, &e);
    if (!rc) rc = ls_fit_load(r.pos[0], t, o.threads, &d, &f, &e);
    if (!rc) cli_data_warning(d);
    char *aj = rc ? NULL : cli_argv_json(argc, argv);
    o.argv_json = aj;
    if (!rc) rc = ls_report_write(f, d, &o, out, &e);
    int code = 0;
    if (rc) code = cli_fail(&e);
    else if (!quiet) printf("wrote %s\n", out);
    free(aj);
    ls_fit_free(f);
    ls_data_free(d);
    ls_table_free(t);
    return code;
}
