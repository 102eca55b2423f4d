/*
 * json_out.h -- jansson helpers shared by every JSON writer.
 */
#ifndef LS_JSON_OUT_H
#define LS_JSON_OUT_H

#include "kernel/core.h"
#include <jansson.h>

json_t *ls_json_num(double v);                    /* null when not finite */
json_t *ls_json_vec(const double *v, size_t n);
json_t *ls_json_mat(const double *v, size_t r, size_t c);
json_t *ls_json_strs(char *const *s, size_t n);
/* Parse the caller's options object (a JSON text) into opts.command_line. */
void ls_json_add_argv(json_t *opts, const char *argv_json);
/* Dump root (not consumed) atomically to path. */
int ls_json_write(json_t *root, const char *path, ls_error *err);

#endif
