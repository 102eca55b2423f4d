/*
 * svg.h -- a small SVG drawing module for the HTML report (private).
 *
 * Text goes into a growable buffer (ls_buf); figures are drawn into panels
 * that map data coordinates to pixels.  Everything is deterministic: numbers
 * are formatted by our own fixed-point code (no locale, no "-0"), so the
 * same drawing calls give the same bytes.  Log axes take data already in
 * log10 units and label their ticks as powers of ten.
 *
 * The report is a client of the public header only (docs/ARCHITECTURE.md):
 * it allocates with the C library and fills ls_error itself (rp_fail).
 */
#ifndef LS_SVG_H
#define LS_SVG_H

#include "latentscale.h"

#include <stddef.h>

/* ---------------------------------------------------------------- */
/* Text buffer                                                       */
/* ---------------------------------------------------------------- */

/* A growable string.  After an allocation failure `oom` is set and every
 * further append is ignored, so callers check once at the end. */
typedef struct ls_buf {
    char *s;      /* NUL-terminated, owned (NULL until the first append) */
    size_t len, cap;
    int oom;
} ls_buf;

void ls_buf_init(ls_buf *b);
void ls_buf_free(ls_buf *b);
void ls_buf_put(ls_buf *b, const char *s, size_t n);
void ls_buf_puts(ls_buf *b, const char *s);
/* printf-style; use for strings and integers only (numbers: ls_buf_num). */
void ls_buf_printf(ls_buf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Text with & < > " ' escaped as entities and control characters (other
 * than tab and newline) replaced by '?': safe in element text and in
 * attribute values. */
void ls_buf_escape(ls_buf *b, const char *text);
/* v with `decimals` decimals (ls_fmt_fixed). */
void ls_buf_num(ls_buf *b, double v, int decimals);

/* ---------------------------------------------------------------- */
/* Deterministic number formatting                                   */
/* ---------------------------------------------------------------- */

#define LS_FMT_LEN 48

/* v rounded to `decimals` (0..9) decimals, e.g. 2.5 -> "2.50", -0.001 at 2
 * decimals -> "0.00" (never "-0"); "NA" for NaN, "inf"/"-inf".  Values whose
 * magnitude is 1e15 or more fall back to ls_fmt_sig.  Returns buf. */
char *ls_fmt_fixed(char *buf, double v, int decimals);
/* v with `sig` (1..9) significant digits: fixed notation for 1e-4 <= |v| <
 * 1e6 ("0.001234", "12.3", "123457"), otherwise "1.23e+25" / "4.5e-07". */
char *ls_fmt_sig(char *buf, double v, int sig);

/* ---------------------------------------------------------------- */
/* Ticks                                                             */
/* ---------------------------------------------------------------- */

#define LS_MAX_TICKS 24

/* "Nice" ticks (steps 1, 2, 2.5 or 5 times a power of ten) inside [lo, hi],
 * about `target` of them (at most LS_MAX_TICKS).  Returns the count; the
 * step goes to *step.  lo == hi gets a unit-wide range around it. */
size_t ls_svg_ticks(double lo, double hi, size_t target, double *ticks, double *step);
/* Decimals needed to print multiples of step exactly (0 for step >= 1). */
int ls_svg_step_decimals(double step);

/* ---------------------------------------------------------------- */
/* Drawing                                                           */
/* ---------------------------------------------------------------- */

/* Opens <svg> with a viewBox of width x height px, role="img", the id and
 * an accessible title (escaped); default font and size. */
void ls_svg_begin(ls_buf *b, double width, double height, const char *id, const char *title);
void ls_svg_end(ls_buf *b);

/* Text at (x, y) px: anchor "start", "middle" or "end"; rotate (degrees)
 * about (x, y) when non-zero; weight 1 = bold. */
void ls_svg_text(ls_buf *b, double x, double y, const char *anchor, double size, double rotate,
                 int bold, const char *text);
void ls_svg_rect(ls_buf *b, double x, double y, double w, double h, const char *fill,
                 const char *stroke, const char *title);
void ls_svg_line(ls_buf *b, double x1, double y1, double x2, double y2, const char *stroke,
                 double width, const char *dash);

enum ls_axis_mode { LS_AXIS_LINEAR = 0, LS_AXIS_LOG10 = 1, LS_AXIS_INTEGER = 2 };

/* A plot area: (x0, y0) top-left, w x h px, showing [xlo, xhi] x [ylo, yhi]
 * (log10 units on log axes). */
typedef struct ls_svg_panel {
    ls_buf *b;
    double x0, y0, w, h;
    double xlo, xhi, ylo, yhi;
} ls_svg_panel;

void ls_svg_panel_init(ls_svg_panel *p, ls_buf *b, double x0, double y0, double w, double h,
                       double xlo, double xhi, double ylo, double yhi);
double ls_svg_px(const ls_svg_panel *p, double x);
double ls_svg_py(const ls_svg_panel *p, double y);
/* Frame, grid lines, ticks with labels and the axis titles (NULL: none). */
void ls_svg_axes(const ls_svg_panel *p, int xmode, int ymode, const char *xlabel,
                 const char *ylabel);
/* A line through the points; a NaN ends one piece and starts another.
 * dash NULL: solid. */
void ls_svg_polyline(const ls_svg_panel *p, const double *x, const double *y, size_t n,
                     const char *color, double width, const char *dash);
/* The area between lo and hi along x (one polygon per NaN-free run). */
void ls_svg_band(const ls_svg_panel *p, const double *x, const double *lo, const double *hi,
                 size_t n, const char *color, double opacity);
/* A filled circle of radius r px; title (may be NULL) becomes a tooltip. */
void ls_svg_point(const ls_svg_panel *p, double x, double y, double r, const char *fill,
                  double opacity, const char *title);

/* Marker shapes, so that series differ by more than colour: 0 circle,
 * 1 square, 2 triangle, 3 diamond, 4 inverted triangle, 5 plus, 6 cross,
 * 7 star (cycles).  Drawn as a <path class="marker" data-shape="i">. */
#define LS_MARKERS_N 8
void ls_svg_marker_px(ls_buf *b, double cx, double cy, size_t shape, double r, const char *color,
                      double opacity, const char *title);
void ls_svg_marker(const ls_svg_panel *p, double x, double y, size_t shape, double r, const char *color,
                   double opacity, const char *title);
/* Dash pattern i (cycles; 0 is solid: NULL), for lines that must differ
 * by more than colour. */
#define LS_DASHES_N 6
const char *ls_svg_dash(size_t i);
/* One legend entry: a line swatch with the dash (NULL: solid) and, when
 * shape < LS_MARKERS_N, a marker on it; the label after it. */
void ls_svg_legend_entry(ls_buf *b, double x, double y, const char *color, const char *dash, size_t shape,
                         const char *label);
/* Text like ls_svg_text where each "^" starts a superscript to the end of
 * the text ("10^21", "2\u00d710^8"): a <tspan> raised and smaller. */
void ls_svg_text_sup(ls_buf *b, double x, double y, const char *anchor, double size, const char *text);
/* "10^e" (or "m×10^e" for m != 1) for ls_svg_text_sup, into out[n]. */
void ls_svg_pow10(char *out, size_t n, double mantissa, long e);

/* A legend: one row per entry, a swatch ("line", "point" or "box") and the
 * label, starting at (x, y) px; rows `dy` apart, or in one row with entries
 * `dx` apart when dx > 0. */
void ls_svg_legend(ls_buf *b, double x, double y, const char *kind, const char *const *labels,
                   const char *const *colors, size_t n, double dx, double dy);

/* ---------------------------------------------------------------- */
/* Colours                                                           */
/* ---------------------------------------------------------------- */

#define LS_PALETTE_N 8
/* Colour-blind-safe categorical colour i (cycles); static storage. */
const char *ls_svg_palette(size_t i);
/* Diverging scale for t in [-1, 1] (clamped; NaN -> grey): blue, white,
 * red, as "#rrggbb" into out[8]. */
void ls_svg_diverging(double t, char out[8]);
/* The half-range of a diverging scale for a rows x cols matrix v whose
 * columns are items (benchmarks), robust to an extreme item: with m_c the
 * largest |v| of column c over the entries not skipped (skip may be NULL),
 * the largest m_c, unless it exceeds LS_SVG_CLIP times the median of the
 * m_c; then the scale is clipped at that multiple of the median and
 * *clipped is set (else 0).  1 when nothing is finite and non-zero. */
#define LS_SVG_CLIP 3.0
double ls_svg_robust_max(const double *v, size_t rows, size_t cols, const unsigned char *skip, int *clipped);
/* A vertical colour bar for the diverging scale over [-vmax, vmax] with
 * ticks and a label, in the box x, y, w, h px. */
void ls_svg_colorbar(ls_buf *b, double x, double y, double w, double h, double vmax,
                     const char *label);

/* ---------------------------------------------------------------- */
/* The report's own small kit (report/report.c)                      */
/* ---------------------------------------------------------------- */

/* Fill err (may be NULL) with code and a one-line message; returns code. */
int rp_fail(ls_error *err, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* LS_ERR_NOMEM, "out of memory". */
int rp_nomem(ls_error *err);
void rp_strv_free(char **v, size_t n);

#endif
