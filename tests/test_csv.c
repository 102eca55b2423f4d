/*
 * test_csv.c -- the CSV table: RFC 4180 features, line numbers, every
 * syntax error with its message, numeric cells, writing and reading back,
 * and allocation failures.
 */
#include "harness.h"
#include "kernel/core.h"
#include "latentscale.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static ls_table *parse(const char *s, ls_error *e) {
    ls_table *t = NULL;
    ls_table_parse(s, strlen(s), "t.csv", &t, e);
    return t;
}

static int parse_code(const char *s, size_t n, ls_error *e)
{
    ls_table *t = NULL;
    int rc = ls_table_parse(s, n, "t.csv", &t, e);
    CHECK((rc == LS_OK) == (t != NULL));
    ls_table_free(t);
    return rc;
}

static void quoted_fields_keep_commas_quotes_and_newlines(void)
{
    ls_error e;
    ls_table *t = parse("\xef\xbb\xbf" "a,b , c\r\n1,\"x,y\",\"say \"\"hi\"\"\"\r\n\n2,\"two\nlines\",z\n3,,\n4,é,end", &e);
    CHECK(t != NULL);
    if (!t) return;
    CHECK(ls_table_ncol(t) == 3 && ls_table_nrow(t) == 4);
    CHECK(strcmp(ls_table_colname(t, 0), "a") == 0 && strcmp(ls_table_colname(t, 1), "b") == 0);
    CHECK(ls_table_find(t, "c") == 2 && ls_table_find(t, "d") == -1);
    CHECK(strcmp(ls_table_cell(t, 0, 1), "x,y") == 0);
    CHECK(strcmp(ls_table_cell(t, 0, 2), "say \"hi\"") == 0);
    CHECK(strcmp(ls_table_cell(t, 1, 1), "two\nlines") == 0);
    CHECK(strcmp(ls_table_cell(t, 2, 1), "") == 0);
    CHECK(strcmp(ls_table_cell(t, 3, 2), "end") == 0);
    CHECK(ls_table_line(t, 0) == 2 && ls_table_line(t, 1) == 4 && ls_table_line(t, 2) == 6);
    ls_table_free(t);
}

static void syntax_errors_name_file_line_and_column(void)
{
    ls_error e;
    struct { const char *in; size_t n; const char *msg; } cases[] = {
        {"", 0, "t.csv: empty file"},
        {"\n\n", 2, "t.csv: empty file"},
        {"a,b\n1,2,3\n", 0, "t.csv:2: row has 3 fields, header has 2"},
        {"a,b\n1\n", 0, "t.csv:2: row has 1 fields, header has 2"},
        {"a,a\n1,2\n", 0, "t.csv:1: duplicate column name 'a' (columns 1 and 2)"},
        {"a,,c\n1,2,3\n", 0, "t.csv:1:2: empty column name"},
        {"a,b\n1,\"open\n2,3\n", 0, "unterminated quoted field (started on line 2)"},
        {"a,b\n1,x\"y\n", 0, "t.csv:2:2: stray quote inside an unquoted field"},
        {"a,b\n1,\"x\"y\n", 0, "t.csv:2:2: characters after a closing quote"},
        {"a,b\n1,\xff\n", 0, "t.csv:2: invalid UTF-8 byte 0xff"},
        {"a,b\n1,\xc3\x28\n", 0, "invalid UTF-8 byte 0xc3"},
        {"a,b\n1,2\0\n", 8, "t.csv:2: NUL byte"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = cases[i].n ? cases[i].n : strlen(cases[i].in);
        CHECK_MSG(parse_code(cases[i].in, n, &e) == LS_ERR_PARSE, "case %zu", i);
        CHECK_MSG(strstr(e.message, cases[i].msg) != NULL, "case %zu: got '%s'", i, e.message);
    }
    CHECK(parse_code("a,b\n", 4, &e) == LS_OK); /* header only: the caller decides */
}

static void numeric_cells_accept_decimals_and_reject_the_rest(void)
{
    ls_error e;
    ls_table *t = parse("v\n1e-3\n 2.5 \nNA\n\"\"\nabc\nnan\ninf\n1.5x\n0x10\n1e999\n", &e);
    double v;
    int miss;
    CHECK(ls_table_number(t, 0, 0, &v, &miss, &e) == LS_OK && v == 1e-3 && !miss);
    CHECK(ls_table_number(t, 1, 0, &v, &miss, &e) == LS_OK && v == 2.5);
    CHECK(ls_table_number(t, 2, 0, &v, &miss, &e) == LS_OK && miss && isnan(v));
    CHECK(ls_table_number(t, 3, 0, &v, &miss, &e) == LS_OK && miss);
    for (size_t r = 4; r < 10; r++) CHECK_MSG(ls_table_number(t, r, 0, &v, &miss, &e) == LS_ERR_INPUT, "row %zu", r);
    ls_table_number(t, 4, 0, &v, &miss, &e);
    CHECK_MSG(strstr(e.message, "t.csv:6:1: column 'v': expected a number, found 'abc'"), "%s", e.message);
    ls_table_free(t);
}

static void written_tables_read_back_identically(void)
{
    char dir[] = "/tmp/ls-csv-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    const char *cols[3] = {"name", "note", "x"};
    ls_table *t = NULL, *back = NULL;
    ls_error e;
    CHECK(ls_table_new("mem", 3, cols, &t, &e) == LS_OK);
    const char *r1[3] = {"a", "with, comma", "1"}, *r2[3] = {"b", "quote \" and\nnewline", ""};
    CHECK(ls_table_append(t, r1, &e) == LS_OK && ls_table_append(t, r2, &e) == LS_OK);
    char path[256];
    snprintf(path, sizeof path, "%s/out.csv", dir);
    CHECK(ls_table_write(t, path, &e) == LS_OK);
    CHECK(ls_table_read(path, &back, &e) == LS_OK);
    if (back) {
        CHECK(ls_table_nrow(back) == 2);
        for (size_t r = 0; r < 2; r++)
            for (size_t c = 0; c < 3; c++) CHECK(strcmp(ls_table_cell(t, r, c), ls_table_cell(back, r, c)) == 0);
    }
    /* a directory is not a file: fails, creates nothing */
    CHECK(ls_table_write(t, dir, &e) == LS_ERR_IO);
    CHECK(strstr(e.message, "is a directory") != NULL);
    ls_table *dirt = NULL;
    CHECK(ls_table_read(dir, &dirt, &e) == LS_ERR_IO && dirt == NULL);
    CHECK(strstr(e.message, "is a directory, expected a file") != NULL);
    ls_table *none = NULL;
    CHECK(ls_table_read("/nonexistent/x.csv", &none, &e) == LS_ERR_IO && none == NULL);
    CHECK(strstr(e.message, "/nonexistent/x.csv: cannot read") != NULL);
    ls_table_free(t);
    ls_table_free(back);
    unlink(path);
    rmdir(dir);
}

static void allocation_failures_return_nomem_without_leaks(void)
{
    const char *in = "a,b,c\n1,\"x,y\",3\n4,5,6\n";
    ls_error e;
    int ok = 0;
    for (long n = 1; n < 500 && !ok; n++) {
        ls_table *t = NULL;
        ls_fault_set(n);
        int rc = ls_table_parse(in, strlen(in), "t.csv", &t, &e);
        ls_fault_set(0);
        if (rc == LS_OK) ok = 1;
        else CHECK_MSG(rc == LS_ERR_NOMEM && t == NULL, "allocation %ld: rc %d", n, rc);
        ls_table_free(t);
    }
    CHECK(ok);
}

int main(void)
{
    RUN(quoted_fields_keep_commas_quotes_and_newlines);
    RUN(syntax_errors_name_file_line_and_column);
    RUN(numeric_cells_accept_decimals_and_reject_the_rest);
    RUN(written_tables_read_back_identically);
    RUN(allocation_failures_return_nomem_without_leaks);
    return h_finish();
}
