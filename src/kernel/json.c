/*
 * json.c -- jansson helpers shared by every JSON writer of the library:
 * numbers (null when not finite), vectors, matrices, string lists, the
 * caller's command line, and the atomic write with 17 significant digits so
 * that doubles round-trip.
 */
#include "kernel/json.h"
#include "kernel/atomic.h"

#include <math.h>

json_t *ls_json_num(double v) { return isfinite(v) ? json_real(v) : json_null(); }

json_t *ls_json_vec(const double *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++) json_array_append_new(a, ls_json_num(v[i]));
    return a;
}

json_t *ls_json_mat(const double *v, size_t r, size_t c)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < r; i++) json_array_append_new(a, ls_json_vec(v + i * c, c));
    return a;
}

json_t *ls_json_strs(char *const *s, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++) json_array_append_new(a, json_string(s[i]));
    return a;
}

int ls_json_write(json_t *root, const char *path, ls_error *err)
{
    if (!root) return ls_nomem(err);
    ls_atomic a;
    int rc = ls_atomic_open(&a, path, err);
    if (rc) return rc;
    if (json_dumpf(root, a.fp, JSON_INDENT(2) | JSON_REAL_PRECISION(17)) != 0 ||
        fputc('\n', a.fp) == EOF) {
        ls_atomic_abort(&a);
        return ls_fail(err, LS_ERR_IO, "%s: write failed", path);
    }
    return ls_atomic_commit(&a, err);
}

/* Attach the caller's options object (a JSON text) under "argv". */
void ls_json_add_argv(json_t *opts, const char *argv_json)
{
    if (!argv_json) return;
    json_error_t je;
    json_t *a = json_loads(argv_json, 0, &je);
    if (a) json_object_set_new(opts, "command_line", a);
}
