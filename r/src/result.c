/*
 * result.c -- the one converter from an ls_result (include/latentscale.h,
 * "Results: one convention") to an R named list, and the small helpers
 * every entry point shares.
 *
 * Entries keep the result's order.  Strings become character vectors.
 * Numbers (rows x cols, row-major) become:
 *   - a matrix with dimnames (R's column-major order) when the entry has
 *     column labels or more than one row and more than one column;
 *   - otherwise a vector (1 x 1: a scalar), named by the row labels of an
 *     n x 1 entry when it has them.
 * A label entry is used only when its count matches the dimension.  The
 * list gets class c("ls_<kind>", "ls_result") ('-' in the kind becomes
 * '_': "factor-fit" -> "ls_factor_fit"), attribute "kind" (as the library
 * names it) and attribute "warnings" (a character vector).
 */
#include "latentscale_r.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static SEXP labels(const ls_result *r, const char *name, size_t n)
{
    if (!name || ls_result_type(r, name) != LS_ENTRY_STRINGS || ls_result_nstrings(r, name) != n) return R_NilValue;
    SEXP v = PROTECT(Rf_allocVector(STRSXP, (R_xlen_t)n));
    for (size_t i = 0; i < n; i++) SET_STRING_ELT(v, (R_xlen_t)i, Rf_mkCharCE(ls_result_string(r, name, i), CE_UTF8));
    UNPROTECT(1);
    return v;
}

static SEXP numbers(const ls_result *r, const char *name)
{
    size_t rows = 0, cols = 0;
    const double *x = ls_result_numbers(r, name, &rows, &cols);
    SEXP rl = PROTECT(labels(r, ls_result_row_labels(r, name), rows));
    SEXP cl = PROTECT(labels(r, ls_result_col_labels(r, name), cols));
    SEXP v;
    if (ls_result_col_labels(r, name) || (rows > 1 && cols > 1)) {
        v = PROTECT(Rf_allocMatrix(REALSXP, (int)rows, (int)cols));
        double *y = REAL(v);
        for (size_t i = 0; i < rows; i++)
            for (size_t j = 0; j < cols; j++) y[j * rows + i] = x[i * cols + j];
        if (rl != R_NilValue || cl != R_NilValue) {
            SEXP dn = PROTECT(Rf_allocVector(VECSXP, 2));
            SET_VECTOR_ELT(dn, 0, rl);
            SET_VECTOR_ELT(dn, 1, cl);
            Rf_setAttrib(v, R_DimNamesSymbol, dn);
            UNPROTECT(1);
        }
    } else {
        size_t n = rows * cols;
        v = PROTECT(Rf_allocVector(REALSXP, (R_xlen_t)n));
        if (n) memcpy(REAL(v), x, n * sizeof *x);
        if (cols == 1 && rl != R_NilValue) Rf_setAttrib(v, R_NamesSymbol, rl);
    }
    UNPROTECT(3);
    return v;
}

SEXP lsr_result_to_list(const ls_result *r)
{
    size_t n = ls_result_nentries(r);
    SEXP out = PROTECT(Rf_allocVector(VECSXP, (R_xlen_t)n));
    SEXP names = PROTECT(Rf_allocVector(STRSXP, (R_xlen_t)n));
    for (size_t i = 0; i < n; i++) {
        const char *name = ls_result_entry(r, i);
        SET_STRING_ELT(names, (R_xlen_t)i, Rf_mkCharCE(name, CE_UTF8));
        if (ls_result_type(r, name) == LS_ENTRY_STRINGS)
            SET_VECTOR_ELT(out, (R_xlen_t)i, labels(r, name, ls_result_nstrings(r, name)));
        else
            SET_VECTOR_ELT(out, (R_xlen_t)i, numbers(r, name));
    }
    Rf_setAttrib(out, R_NamesSymbol, names);
    const char *kind = ls_result_kind(r);
    size_t nk = strlen(kind);
    char *cls = R_alloc(nk + 4, 1);
    strcpy(cls, "ls_");
    for (size_t i = 0; i <= nk; i++) cls[3 + i] = kind[i] == '-' ? '_' : kind[i];
    SEXP klass = PROTECT(Rf_allocVector(STRSXP, 2));
    SET_STRING_ELT(klass, 0, Rf_mkChar(cls));
    SET_STRING_ELT(klass, 1, Rf_mkChar("ls_result"));
    Rf_setAttrib(out, R_ClassSymbol, klass);
    Rf_setAttrib(out, Rf_install("kind"), Rf_mkString(kind));
    size_t nw = ls_result_nwarnings(r);
    SEXP w = PROTECT(Rf_allocVector(STRSXP, (R_xlen_t)nw));
    for (size_t i = 0; i < nw; i++) SET_STRING_ELT(w, (R_xlen_t)i, Rf_mkCharCE(ls_result_warning(r, i), CE_UTF8));
    Rf_setAttrib(out, Rf_install("warnings"), w);
    UNPROTECT(4);
    return out;
}

SEXP lsr_error(const ls_error *e)
{
    SEXP out = PROTECT(Rf_allocVector(VECSXP, 3));
    SEXP names = PROTECT(Rf_allocVector(STRSXP, 3));
    SET_STRING_ELT(names, 0, Rf_mkChar("code"));
    SET_STRING_ELT(names, 1, Rf_mkChar("status"));
    SET_STRING_ELT(names, 2, Rf_mkChar("message"));
    SET_VECTOR_ELT(out, 0, Rf_ScalarInteger(e->code));
    SET_VECTOR_ELT(out, 1, Rf_mkString(ls_status_name(e->code)));
    SET_VECTOR_ELT(out, 2, Rf_ScalarString(Rf_mkCharCE(e->message, CE_UTF8)));
    Rf_setAttrib(out, R_NamesSymbol, names);
    Rf_setAttrib(out, R_ClassSymbol, Rf_mkString("ls_c_error"));
    UNPROTECT(2);
    return out;
}

/* R_CheckUserInterrupt longjmps; run it at top level so the library sees a
 * plain "cancel" and unwinds through its own cleanup. */
static void check_interrupt(void *unused)
{
    (void)unused;
    R_CheckUserInterrupt();
}

int lsr_progress(void *ctx, const char *stage, double done, double total)
{
    (void)ctx, (void)stage, (void)done, (void)total;
    return R_ToplevelExec(check_interrupt, NULL) == FALSE;
}

const char *lsr_str(SEXP s)
{
    if (TYPEOF(s) != STRSXP || XLENGTH(s) < 1 || STRING_ELT(s, 0) == NA_STRING) return NULL;
    return Rf_translateCharUTF8(STRING_ELT(s, 0));
}

double lsr_num(SEXP s, double dflt)
{
    if (s == R_NilValue || XLENGTH(s) < 1) return dflt;
    double v = Rf_asReal(s);
    return ISNA(v) ? dflt : v;
}

SEXP lsr_wrap(void *p, R_CFinalizer_t fin)
{
    SEXP x = PROTECT(R_MakeExternalPtr(p, R_NilValue, R_NilValue));
    R_RegisterCFinalizerEx(x, fin, TRUE);
    UNPROTECT(1);
    return x;
}

void *lsr_ptr(SEXP x) { return TYPEOF(x) == EXTPTRSXP ? R_ExternalPtrAddr(x) : NULL; }

void lsr_clear(SEXP x)
{
    if (TYPEOF(x) == EXTPTRSXP) R_ClearExternalPtr(x);
}

void lsr_fin_table(SEXP x)
{
    ls_table_free(lsr_ptr(x));
    lsr_clear(x);
}

void lsr_fin_result(SEXP x)
{
    ls_result_free(lsr_ptr(x));
    lsr_clear(x);
}

SEXP lsr_version(void) { return Rf_mkString(ls_version()); }
