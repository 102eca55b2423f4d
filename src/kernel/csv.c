/*
 * csv.c -- RFC 4180 tables: the parser every command reads its input with,
 * and the writer the simulator uses.
 *
 * The whole file is read into memory and parsed in one pass.  Cells are
 * NUL-terminated copies owned by the table; each data row remembers the
 * physical line it starts on, so every later error can name file, line and
 * column.  Accepted: a UTF-8 byte-order mark, CRLF or LF line ends, a last
 * line without a newline, quoted fields with commas, doubled quotes and
 * newlines; wholly empty lines are skipped.  Rejected with a message: NUL
 * bytes, invalid UTF-8, ragged rows, stray quotes, duplicate or empty column
 * names, unterminated quotes.
 */
#include "kernel/core.h"
#include "kernel/atomic.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_FILE ((size_t)1 << 32)

struct ls_table {
    char *name;
    size_t nrow, ncol, cap;
    char **head;   /* ncol names                  */
    size_t *cells; /* nrow x ncol, row-major: offsets into text */
    size_t *line;  /* nrow: first physical line   */
    char *text;    /* every cell's bytes, each ended by NUL (one block:
                    * no allocation per cell, so a table of 10^8 cells fits) */
    size_t text_len, text_cap;
};

/* ---------------------------------------------------------------- */
/* Construction                                                      */
/* ---------------------------------------------------------------- */

void ls_table_free(ls_table *t)
{
    if (!t) return;
    ls_free(t->text);
    ls_strv_free(t->head, t->head ? t->ncol : 0);
    ls_free(t->cells);
    ls_free(t->line);
    ls_free(t->name);
    ls_free(t);
}

static ls_table *table_alloc(const char *name)
{
    ls_table *t = ls_calloc(1, sizeof *t);
    if (!t) return NULL;
    t->name = ls_strdup(name);
    if (!t->name) {
        ls_free(t);
        return NULL;
    }
    return t;
}

/* Room for one more row (cells zeroed: offset 0 is the empty string). */
static int grow(ls_table *t)
{
    if (t->nrow < t->cap) return 0;
    size_t cap = t->cap ? 2 * t->cap : 64;
    size_t *c = ls_realloc(t->cells, cap * t->ncol * sizeof *c);
    if (!c) return -1;
    t->cells = c;
    size_t *l = ls_realloc(t->line, cap * sizeof *l);
    if (!l) return -1;
    t->line = l;
    memset(t->cells + t->cap * t->ncol, 0, (cap - t->cap) * t->ncol * sizeof *c);
    t->cap = cap;
    return 0;
}

/* Room for `more` bytes of cell text (at least doubling); the text starts
 * with the empty string at offset 0. */
static int text_reserve(ls_table *t, size_t more)
{
    if (!t->text_cap) more += 1;
    if (t->text_len + more <= t->text_cap) return 0;
    size_t cap = t->text_cap ? 2 * t->text_cap : 256;
    while (cap < t->text_len + more) cap *= 2;
    char *x = ls_realloc(t->text, cap);
    if (!x) return -1;
    if (!t->text_cap) {
        x[0] = '\0';
        t->text_len = 1;
    }
    t->text = x;
    t->text_cap = cap;
    return 0;
}

/* Copy n bytes as a new cell's text; *off gets its offset. */
static int text_add(ls_table *t, const char *b, size_t n, size_t *off)
{
    if (!n) {
        if (text_reserve(t, 0)) return -1;
        *off = 0;
        return 0;
    }
    if (text_reserve(t, n + 1)) return -1;
    *off = t->text_len;
    memcpy(t->text + t->text_len, b, n);
    t->text[t->text_len + n] = '\0';
    t->text_len += n + 1;
    return 0;
}

/* ---------------------------------------------------------------- */
/* Parsing                                                           */
/* ---------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned min;
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) { len = 2; min = 0x80; }
    else if (c >= 0xe0 && c <= 0xef) { len = 3; min = 0x800; }
    else if (c >= 0xf0 && c <= 0xf4) { len = 4; min = 0x10000; }
    else return 0;
    if (n < len) return 0;
    unsigned v = c & (0x3f >> (len - 1));
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        v = (v << 6) | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return 0;
    return len;
}

typedef struct field_buf {
    char *s;
    size_t n, cap;
} field_buf;

static int fb_put(field_buf *b, char c)
{
    if (b->n + 1 >= b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 64;
        char *s = ls_realloc(b->s, cap);
        if (!s) return -1;
        b->s = s;
        b->cap = cap;
    }
    b->s[b->n++] = c;
    return 0;
}


/* Trim spaces around a header name in place. */
static void trim(char *s)
{
    size_t n = strlen(s), a = 0;
    while (a < n && (s[a] == ' ' || s[a] == '\t')) a++;
    while (n > a && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    memmove(s, s + a, n - a);
    s[n - a] = '\0';
}

typedef struct parser {
    const char *name;
    ls_table *t;
    size_t *row;      /* fields of the current record (text offsets) */
    size_t nf, capf;
    size_t row_line;  /* line the record starts on    */
} parser;

/* The field in b ends: its text goes to the table, its offset to the row. */
static int add_field(parser *p, field_buf *b)
{
    if (p->nf == p->capf) {
        size_t cap = p->capf ? 2 * p->capf : 32;
        size_t *r = ls_realloc(p->row, cap * sizeof *r);
        if (!r) return -1;
        p->row = r;
        p->capf = cap;
    }
    if (text_add(p->t, b->s, b->n, &p->row[p->nf])) return -1;
    p->nf++;
    b->n = 0;
    return 0;
}

static uint64_t name_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* Header names: trimmed, non-empty, distinct.  Duplicates are found with a
 * hash table, so a header of 10^5 columns costs milliseconds, not minutes. */
static int check_header(parser *p, char **head, ls_error *err)
{
    size_t cap = 16;
    while (cap < 2 * p->nf) cap *= 2;
    size_t *slot = ls_calloc(cap, sizeof *slot); /* column + 1; 0 = empty */
    if (!slot) return ls_nomem(err);
    int rc = LS_OK;
    for (size_t i = 0; i < p->nf && !rc; i++) {
        trim(head[i]);
        if (!*head[i]) {
            rc = ls_fail(err, LS_ERR_PARSE, "%s:%zu:%zu: empty column name", p->name,
                         p->row_line, i + 1);
            break;
        }
        size_t h = (size_t)name_hash(head[i]) & (cap - 1);
        while (slot[h] && strcmp(head[slot[h] - 1], head[i]) != 0) h = (h + 1) & (cap - 1);
        if (slot[h])
            rc = ls_fail(err, LS_ERR_PARSE,
                         "%s:%zu: duplicate column name '%.60s' (columns %zu and %zu)", p->name,
                         p->row_line, head[i], slot[h], i + 1);
        else
            slot[h] = i + 1;
    }
    ls_free(slot);
    return rc;
}

/* A record is complete: header or data row. */
static int end_record(parser *p, ls_error *err)
{
    ls_table *t = p->t;
    if (!t->head) { /* the names leave the cell text */
        t->head = ls_calloc(p->nf, sizeof *t->head);
        if (!t->head) return ls_nomem(err);
        t->ncol = p->nf;
        for (size_t c = 0; c < p->nf; c++)
            if (!(t->head[c] = ls_strdup(t->text + p->row[c]))) return ls_nomem(err);
        t->text_len = 1;
        int rc = check_header(p, t->head, err);
        p->nf = 0;
        return rc;
    }
    if (p->nf != t->ncol)
        return ls_fail(err, LS_ERR_PARSE, "%s:%zu: row has %zu fields, header has %zu", p->name,
                       p->row_line, p->nf, t->ncol);
    if (grow(t)) return ls_nomem(err);
    memcpy(t->cells + t->nrow * t->ncol, p->row, p->nf * sizeof *p->row);
    t->line[t->nrow] = p->row_line;
    t->nrow++;
    p->nf = 0;
    return LS_OK;
}

int ls_table_parse(const char *buf, size_t len, const char *name, ls_table **out, ls_error *err)
{
    *out = NULL;
    parser p = {name, NULL, NULL, 0, 0, 1};
    field_buf fb = {NULL, 0, 0};
    p.t = table_alloc(name);
    if (!p.t) return ls_nomem(err);
    /* the cells' text is at most the file's bytes plus a NUL per field */
    if (text_reserve(p.t, len + len / 8 + 64)) {
        ls_table_free(p.t);
        return ls_nomem(err);
    }
    const unsigned char *s = (const unsigned char *)buf;
    size_t i = 0, line = 1;
    if (len >= 3 && s[0] == 0xef && s[1] == 0xbb && s[2] == 0xbf) i = 3;
    int rc = LS_OK;
    /* state: at the start of a field (0), inside an unquoted field (1),
     * inside quotes (2), just after a closing quote (3) */
    int state = 0, empty_line = 1;
    size_t qline = 0;
    for (; i < len; i++) {
        unsigned char c = s[i];
        if (c == 0) {
            rc = ls_fail(err, LS_ERR_PARSE, "%s:%zu: NUL byte in column %zu", name, line, p.nf + 1);
            goto fail;
        }
        if (c >= 0x80) {
            size_t l = utf8_len(s + i, len - i);
            if (!l) {
                rc = ls_fail(err, LS_ERR_PARSE, "%s:%zu: invalid UTF-8 byte 0x%02x in column %zu", name,
                             line, c, p.nf + 1);
                goto fail;
            }
            if (state == 0) state = 1;
            if (state == 3) goto after_quote;
            for (size_t k = 0; k < l; k++)
                if (fb_put(&fb, (char)s[i + k])) goto nomem;
            i += l - 1;
            empty_line = 0;
            continue;
        }
        if (state == 2) { /* inside quotes */
            if (c == '"') {
                if (i + 1 < len && s[i + 1] == '"') {
                    if (fb_put(&fb, '"')) goto nomem;
                    i++;
                } else
                    state = 3;
            } else {
                if (c == '\n') line++;
                if (fb_put(&fb, (char)c)) goto nomem;
            }
            continue;
        }
        if (c == ',' || c == '\n' || c == '\r') {
            if (c == '\r') {
                if (i + 1 < len && s[i + 1] == '\n') i++;
            }
            int eol = c != ',';
            if (eol && empty_line && state == 0 && p.nf == 0) { /* skip an empty line */
                line++;
                p.row_line = line;
                continue;
            }
            if (add_field(&p, &fb)) goto nomem;
            state = 0;
            empty_line = 0;
            if (eol) {
                rc = end_record(&p, err);
                if (rc) goto fail;
                line++;
                p.row_line = line;
                empty_line = 1;
            }
            continue;
        }
        if (state == 3) goto after_quote;
        empty_line = 0;
        if (c == '"') {
            if (state == 0) {
                state = 2;
                qline = line;
                continue;
            }
            rc = ls_fail(err, LS_ERR_PARSE, "%s:%zu:%zu: stray quote inside an unquoted field", name,
                         line, p.nf + 1);
            goto fail;
        }
        state = 1;
        if (fb_put(&fb, (char)c)) goto nomem;
        continue;
    after_quote:
        rc = ls_fail(err, LS_ERR_PARSE,
                     "%s:%zu:%zu: characters after a closing quote (expected a comma or line end)",
                     name, line, p.nf + 1);
        goto fail;
    }
    if (state == 2) {
        rc = ls_fail(err, LS_ERR_PARSE, "%s:%zu:%zu: unterminated quoted field (started on line %zu)",
                     name, line, p.nf + 1, qline);
        goto fail;
    }
    if (!empty_line || state != 0 || p.nf) { /* last line without a newline */
        if (add_field(&p, &fb)) goto nomem;
        rc = end_record(&p, err);
        if (rc) goto fail;
    }
    if (!p.t->head) {
        rc = ls_fail(err, LS_ERR_PARSE, "%s: empty file (expected a header row)", name);
        goto fail;
    }
    ls_free(fb.s);
    ls_free(p.row);
    if (p.t->text_cap > p.t->text_len + 4096) { /* give back the growth's slack */
        char *x = ls_realloc(p.t->text, p.t->text_len);
        if (x) {
            p.t->text = x;
            p.t->text_cap = p.t->text_len;
        }
    }
    *out = p.t;
    return LS_OK;
nomem:
    rc = ls_nomem(err);
fail:
    ls_free(p.row);
    ls_free(fb.s);
    ls_table_free(p.t);
    return rc;
}

int ls_table_read(const char *path, ls_table **out, ls_error *err)
{
    *out = NULL;
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return ls_fail(err, LS_ERR_IO, "%s: is a directory, expected a file", path);
    FILE *f = fopen(path, "rb");
    if (!f) return ls_fail(err, LS_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *buf = ls_malloc(cap);
    if (!buf) {
        fclose(f);
        return ls_nomem(err);
    }
    for (;;) {
        if (n == cap) {
            if (cap >= MAX_FILE) {
                ls_free(buf);
                fclose(f);
                return ls_fail(err, LS_ERR_INPUT, "%s: file larger than 4 GiB", path);
            }
            char *b = ls_realloc(buf, cap * 2);
            if (!b) {
                ls_free(buf);
                fclose(f);
                return ls_nomem(err);
            }
            buf = b;
            cap *= 2;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        ls_free(buf);
        return ls_fail(err, LS_ERR_IO, "%s: read error", path);
    }
    int rc = ls_table_parse(buf, n, path, out, err);
    ls_free(buf);
    return rc;
}

/* ---------------------------------------------------------------- */
/* Access                                                            */
/* ---------------------------------------------------------------- */

size_t ls_table_nrow(const ls_table *t) { return t->nrow; }
size_t ls_table_ncol(const ls_table *t) { return t->ncol; }
const char *ls_table_colname(const ls_table *t, size_t col) { return col < t->ncol ? t->head[col] : ""; }
const char *ls_table_name(const ls_table *t) { return t->name; }
size_t ls_table_line(const ls_table *t, size_t row) { return row < t->nrow ? t->line[row] : 0; }

long ls_table_find(const ls_table *t, const char *name)
{
    for (size_t c = 0; c < t->ncol; c++)
        if (strcmp(t->head[c], name) == 0) return (long)c;
    return -1;
}

const char *ls_table_cell(const ls_table *t, size_t row, size_t col)
{
    if (row >= t->nrow || col >= t->ncol) return "";
    return t->text + t->cells[row * t->ncol + col];
}

int ls_table_number(const ls_table *t, size_t row, size_t col, double *value, int *missing,
                    ls_error *err)
{
    const char *s = ls_table_cell(t, row, col);
    *missing = 0;
    const char *a = s;
    while (*a == ' ' || *a == '\t') a++;
    if (!*a || strcmp(a, "NA") == 0) {
        *missing = 1;
        *value = NAN;
        return LS_OK;
    }
    char *end;
    errno = 0;
    double v = strtod(a, &end);
    while (*end == ' ' || *end == '\t') end++;
    /* strtod accepts "nan", "inf" and hex; a table cell must be a finite decimal */
    int hexlike = strpbrk(a, "xXpP") != NULL;
    /* underflow (ERANGE with a tiny result, e.g. 1e-400) is a number: 0 within
     * double precision; overflow gives HUGE_VAL and fails isfinite */
    if (end == a || *end || !isfinite(v) || hexlike) {
        char shown[48];
        size_t k = 0;
        for (; s[k] && k < 40; k++) shown[k] = (s[k] >= 32 && s[k] < 127) ? s[k] : '?';
        shown[k] = '\0';
        return ls_fail(err, LS_ERR_INPUT, "%s:%zu:%zu: column '%s': expected a number, found '%s%s'",
                       t->name, ls_table_line(t, row), col + 1, ls_table_colname(t, col), shown,
                       s[k] ? "..." : "");
    }
    *value = v;
    return LS_OK;
}

/* ---------------------------------------------------------------- */
/* Building and writing                                              */
/* ---------------------------------------------------------------- */

int ls_table_new(const char *name, size_t ncol, const char *const *colnames, ls_table **out,
                 ls_error *err)
{
    *out = NULL;
    if (ncol == 0) return ls_fail(err, LS_ERR_INPUT, "a table needs at least one column");
    ls_table *t = table_alloc(name);
    if (!t) return ls_nomem(err);
    t->head = ls_calloc(ncol, sizeof *t->head);
    if (!t->head) {
        ls_table_free(t);
        return ls_nomem(err);
    }
    t->ncol = ncol;
    for (size_t c = 0; c < ncol; c++)
        if (!(t->head[c] = ls_strdup(colnames[c]))) {
            ls_table_free(t);
            return ls_nomem(err);
        }
    *out = t;
    return LS_OK;
}

int ls_table_append(ls_table *t, const char *const *cells, ls_error *err)
{
    if (grow(t)) return ls_nomem(err);
    size_t *row = t->cells + t->nrow * t->ncol, keep = t->text_len;
    for (size_t c = 0; c < t->ncol; c++)
        if (text_add(t, cells[c], strlen(cells[c]), &row[c])) {
            memset(row, 0, t->ncol * sizeof *row);
            if (t->text_cap) t->text_len = keep;
            return ls_nomem(err);
        }
    t->line[t->nrow] = t->nrow + 2;
    t->nrow++;
    return LS_OK;
}

/* Quoted when the text needs it, or when `force` says the parser would
 * otherwise read it differently (see ls_table_write). */
static int put_field(FILE *f, const char *s, int force)
{
    if (!force && !strpbrk(s, ",\"\r\n")) return fputs(s, f) < 0 ? -1 : 0;
    if (fputc('"', f) == EOF) return -1;
    for (; *s; s++) {
        if (*s == '"' && fputc('"', f) == EOF) return -1;
        if (fputc(*s, f) == EOF) return -1;
    }
    return fputc('"', f) == EOF ? -1 : 0;
}

int ls_table_write(const ls_table *t, const char *path, ls_error *err)
{
    ls_atomic a;
    int rc = ls_atomic_open(&a, path, err);
    if (rc) return rc;
    /* What reads back differently unless quoted: a first name that starts
     * with a byte-order mark (the reader drops one at the start of the
     * file), and the empty cell of a one-column row (an empty line, which
     * the reader skips). */
    int bad = 0;
    for (size_t c = 0; c < t->ncol && !bad; c++)
        bad = (c && fputc(',', a.fp) == EOF) ||
              put_field(a.fp, t->head[c], c == 0 && strncmp(t->head[c], "\xef\xbb\xbf", 3) == 0);
    bad = bad || fputc('\n', a.fp) == EOF;
    for (size_t r = 0; r < t->nrow && !bad; r++) {
        for (size_t c = 0; c < t->ncol && !bad; c++) {
            const char *cell = t->text + t->cells[r * t->ncol + c];
            bad = (c && fputc(',', a.fp) == EOF) || put_field(a.fp, cell, t->ncol == 1 && !*cell);
        }
        bad = bad || fputc('\n', a.fp) == EOF;
    }
    if (bad) {
        ls_atomic_abort(&a);
        return ls_fail(err, LS_ERR_IO, "%s: write failed", path);
    }
    return ls_atomic_commit(&a, err);
}
