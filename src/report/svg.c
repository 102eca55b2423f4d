/*
 * svg.c -- a small SVG drawing module for the HTML report: a growable text
 * buffer, locale-free number formatting, nice ticks, panels with axes,
 * lines, bands, points, legends and a diverging colour scale.
 *
 * Determinism: every number written goes through ls_fmt_fixed or
 * ls_fmt_sig, which round with round() and print integers, so the output
 * depends neither on the locale nor on printf's handling of "-0".
 */
#include "report/svg.h"

#include <stdlib.h>

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ================================================================ */
/* Text buffer                                                       */
/* ================================================================ */

void ls_buf_init(ls_buf *b) { memset(b, 0, sizeof *b); }

void ls_buf_free(ls_buf *b)
{
    if (!b) return;
    free(b->s);
    memset(b, 0, sizeof *b);
}

static int buf_reserve(ls_buf *b, size_t extra)
{
    if (b->oom) return -1;
    if (b->len + extra + 1 <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra + 1) {
        if (cap > ((size_t)-1) / 2) { b->oom = 1; return -1; }
        cap *= 2;
    }
    char *s = realloc(b->s, cap);
    if (!s) { b->oom = 1; return -1; }
    b->s = s;
    b->cap = cap;
    return 0;
}

void ls_buf_put(ls_buf *b, const char *s, size_t n)
{
    if (buf_reserve(b, n)) return;
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void ls_buf_puts(ls_buf *b, const char *s) { ls_buf_put(b, s, strlen(s)); }

void ls_buf_printf(ls_buf *b, const char *fmt, ...)
{
    va_list ap, aq;
    va_start(ap, fmt);
    va_copy(aq, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) b->oom = 1;
    else if (!buf_reserve(b, (size_t)n)) {
        vsnprintf(b->s + b->len, (size_t)n + 1, fmt, aq);
        b->len += (size_t)n;
    }
    va_end(aq);
}

void ls_buf_escape(ls_buf *b, const char *text)
{
    const char *run = text;
    for (const char *c = text; *c; c++) {
        const char *rep = NULL;
        unsigned char u = (unsigned char)*c;
        switch (*c) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        default:
            if ((u < 0x20 && u != '\t' && u != '\n') || u == 0x7f) rep = "?";
        }
        if (rep) {
            ls_buf_put(b, run, (size_t)(c - run));
            ls_buf_puts(b, rep);
            run = c + 1;
        }
    }
    ls_buf_puts(b, run);
}

void ls_buf_num(ls_buf *b, double v, int decimals)
{
    char t[LS_FMT_LEN];
    ls_buf_puts(b, ls_fmt_fixed(t, v, decimals));
}

/* ================================================================ */
/* Numbers                                                           */
/* ================================================================ */

static const double POW10[10] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};

static int special(char *buf, double v)
{
    if (isnan(v)) { strcpy(buf, "NA"); return 1; }
    if (isinf(v)) { strcpy(buf, v > 0 ? "inf" : "-inf"); return 1; }
    return 0;
}

/* |v| * 10^dec rounded, as an integer printed with a decimal point; 0 when
 * it does not fit */
static int fixed_digits(char *buf, double v, int dec)
{
    double sv = round(fabs(v) * POW10[dec]);
    if (!(sv < 9e18)) return 0;
    unsigned long long u = (unsigned long long)sv, scale = (unsigned long long)POW10[dec];
    const char *sign = v < 0 && u != 0 ? "-" : "";
    if (dec == 0) snprintf(buf, LS_FMT_LEN, "%s%llu", sign, u);
    else snprintf(buf, LS_FMT_LEN, "%s%llu.%0*llu", sign, u / scale, dec, u % scale);
    return 1;
}

char *ls_fmt_fixed(char *buf, double v, int decimals)
{
    if (special(buf, v)) return buf;
    int dec = decimals < 0 ? 0 : decimals > 9 ? 9 : decimals;
    if (fabs(v) >= 1e15 || !fixed_digits(buf, v, dec)) return ls_fmt_sig(buf, v, 6);
    return buf;
}

/* drop trailing zeros after a decimal point, and the point itself */
static void trim_zeros(char *s)
{
    char *dot = strchr(s, '.');
    if (!dot) return;
    char *e = s + strlen(s);
    while (e > dot + 1 && e[-1] == '0') e--;
    if (e == dot + 1) e = dot;
    *e = '\0';
}

char *ls_fmt_sig(char *buf, double v, int sig)
{
    if (special(buf, v)) return buf;
    if (sig < 1) sig = 1;
    if (sig > 9) sig = 9;
    if (v == 0) { strcpy(buf, "0"); return buf; }
    double a = fabs(v);
    int e = (int)floor(log10(a));
    /* rounding to sig digits may carry into the next power: 9.996 -> 10.0 */
    double m = round(a / pow(10, e - (sig - 1)));
    if (m >= POW10[sig]) e++;
    if (e >= -4 && e < 6) {
        int dec = sig - 1 - e;
        if (dec < 0) dec = 0;
        if (dec > 9) dec = 9;
        fixed_digits(buf, v, dec);
        trim_zeros(buf);
        if (strcmp(buf, "-0") == 0) strcpy(buf, "0");
        return buf;
    }
    double mant = v / pow(10, e);
    char mb[LS_FMT_LEN];
    fixed_digits(mb, mant, sig - 1);
    if (fabs(round(fabs(mant) * POW10[sig - 1])) >= POW10[sig]) { /* 9.99..e5 -> 1e6 */
        e++;
        fixed_digits(mb, v / pow(10, e), sig - 1);
    }
    trim_zeros(mb);
    snprintf(buf, LS_FMT_LEN, "%.30se%c%02d", mb, e < 0 ? '-' : '+', e < 0 ? -e : e);
    return buf;
}

/* ================================================================ */
/* Ticks                                                             */
/* ================================================================ */

/* steps 1, 2, (2.5), 5 x 10^k, not below min_step */
static size_t ticks_with(double lo, double hi, size_t target, int allow25, double min_step,
                         double *ticks, double *step_out)
{
    if (!isfinite(lo) || !isfinite(hi)) { *step_out = NAN; return 0; }
    if (hi < lo) { double t = lo; lo = hi; hi = t; }
    if (hi == lo) { lo -= 0.5; hi += 0.5; }
    if (target < 2) target = 2;
    if (target > LS_MAX_TICKS - 1) target = LS_MAX_TICKS - 1;
    double raw = (hi - lo) / (double)target;
    double mag = pow(10, floor(log10(raw)));
    double norm = raw / mag, nice = 10;
    static const double steps[] = {1, 2, 2.5, 5, 10};
    for (size_t i = 0; i < 5; i++) {
        if (steps[i] == 2.5 && !allow25) continue;
        if (steps[i] >= norm * (1 - 1e-9)) { nice = steps[i]; break; }
    }
    double step = nice * mag;
    if (step < min_step) step = min_step;
    double i0 = ceil(lo / step - 1e-9), i1 = floor(hi / step + 1e-9);
    size_t n = 0;
    for (double i = i0; i <= i1 && n < LS_MAX_TICKS; i += 1) {
        double t = i * step;
        ticks[n++] = fabs(t) < 1e-12 * step ? 0 : t;
    }
    *step_out = step;
    return n;
}

size_t ls_svg_ticks(double lo, double hi, size_t target, double *ticks, double *step)
{
    return ticks_with(lo, hi, target, 1, 0, ticks, step);
}

int ls_svg_step_decimals(double step)
{
    if (!(step > 0) || !isfinite(step)) return 0;
    for (int d = 0; d <= 9; d++) {
        double s = step * POW10[d];
        if (fabs(s - round(s)) <= 1e-6 * s) return d;
    }
    return 9;
}

/* ================================================================ */
/* Drawing                                                           */
/* ================================================================ */

#define NUMDEC 1 /* pixel coordinates: one decimal */

static void attr_num(ls_buf *b, const char *name, double v)
{
    ls_buf_printf(b, " %s=\"", name);
    ls_buf_num(b, v, NUMDEC);
    ls_buf_puts(b, "\"");
}

void ls_svg_begin(ls_buf *b, double width, double height, const char *id, const char *title)
{
    ls_buf_puts(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"");
    ls_buf_escape(b, id);
    ls_buf_puts(b, "\" viewBox=\"0 0 ");
    ls_buf_num(b, width, 0);
    ls_buf_puts(b, " ");
    ls_buf_num(b, height, 0);
    ls_buf_puts(b, "\"");
    attr_num(b, "width", width);
    attr_num(b, "height", height);
    ls_buf_puts(b, " role=\"img\" font-family=\"sans-serif\" font-size=\"11\"><title>");
    ls_buf_escape(b, title);
    ls_buf_puts(b, "</title>\n");
}

void ls_svg_end(ls_buf *b) { ls_buf_puts(b, "</svg>\n"); }

void ls_svg_text(ls_buf *b, double x, double y, const char *anchor, double size, double rotate,
                 int bold, const char *text)
{
    ls_buf_puts(b, "<text");
    attr_num(b, "x", x);
    attr_num(b, "y", y);
    if (anchor && strcmp(anchor, "start") != 0) ls_buf_printf(b, " text-anchor=\"%s\"", anchor);
    if (size > 0) attr_num(b, "font-size", size);
    if (bold) ls_buf_puts(b, " font-weight=\"bold\"");
    if (rotate != 0) {
        ls_buf_puts(b, " transform=\"rotate(");
        ls_buf_num(b, rotate, NUMDEC);
        ls_buf_puts(b, " ");
        ls_buf_num(b, x, NUMDEC);
        ls_buf_puts(b, " ");
        ls_buf_num(b, y, NUMDEC);
        ls_buf_puts(b, ")\"");
    }
    ls_buf_puts(b, ">");
    ls_buf_escape(b, text);
    ls_buf_puts(b, "</text>\n");
}

void ls_svg_rect(ls_buf *b, double x, double y, double w, double h, const char *fill,
                 const char *stroke, const char *title)
{
    ls_buf_puts(b, "<rect");
    attr_num(b, "x", x);
    attr_num(b, "y", y);
    attr_num(b, "width", w);
    attr_num(b, "height", h);
    ls_buf_printf(b, " fill=\"%s\"", fill ? fill : "none");
    if (stroke) ls_buf_printf(b, " stroke=\"%s\"", stroke);
    if (title) {
        ls_buf_puts(b, "><title>");
        ls_buf_escape(b, title);
        ls_buf_puts(b, "</title></rect>\n");
    } else
        ls_buf_puts(b, "/>\n");
}

void ls_svg_line(ls_buf *b, double x1, double y1, double x2, double y2, const char *stroke,
                 double width, const char *dash)
{
    ls_buf_puts(b, "<line");
    attr_num(b, "x1", x1);
    attr_num(b, "y1", y1);
    attr_num(b, "x2", x2);
    attr_num(b, "y2", y2);
    ls_buf_printf(b, " stroke=\"%s\"", stroke);
    attr_num(b, "stroke-width", width);
    if (dash) ls_buf_printf(b, " stroke-dasharray=\"%s\"", dash);
    ls_buf_puts(b, "/>\n");
}

void ls_svg_panel_init(ls_svg_panel *p, ls_buf *b, double x0, double y0, double w, double h,
                       double xlo, double xhi, double ylo, double yhi)
{
    p->b = b;
    p->x0 = x0;
    p->y0 = y0;
    p->w = w;
    p->h = h;
    if (!(xhi > xlo)) { xlo -= 0.5; xhi = xlo + 1; }
    if (!(yhi > ylo)) { ylo -= 0.5; yhi = ylo + 1; }
    p->xlo = xlo;
    p->xhi = xhi;
    p->ylo = ylo;
    p->yhi = yhi;
}

/* data -> px, clamped a little outside the panel so stray values stay visible-ish */
double ls_svg_px(const ls_svg_panel *p, double x)
{
    double v = p->x0 + (x - p->xlo) / (p->xhi - p->xlo) * p->w;
    return fmax(p->x0 - 2, fmin(p->x0 + p->w + 2, v));
}

double ls_svg_py(const ls_svg_panel *p, double y)
{
    double v = p->y0 + p->h - (y - p->ylo) / (p->yhi - p->ylo) * p->h;
    return fmax(p->y0 - 2, fmin(p->y0 + p->h + 2, v));
}

void ls_svg_pow10(char *out, size_t n, double mantissa, long e)
{
    if (mantissa == 1) snprintf(out, n, "10^%ld", e);
    else snprintf(out, n, "%.0f\xc3\x97" "10^%ld", mantissa, e);
}

static void pow10_label(char *out, size_t n, long e) { ls_svg_pow10(out, n, 1, e); }

void ls_svg_text_sup(ls_buf *b, double x, double y, const char *anchor, double size, const char *text)
{
    const char *caret = strchr(text, '^');
    if (!caret) {
        ls_svg_text(b, x, y, anchor, size, 0, 0, text);
        return;
    }
    ls_buf_puts(b, "<text");
    attr_num(b, "x", x);
    attr_num(b, "y", y);
    if (anchor && strcmp(anchor, "start") != 0) ls_buf_printf(b, " text-anchor=\"%s\"", anchor);
    if (size > 0) attr_num(b, "font-size", size);
    ls_buf_puts(b, ">");
    char head[LS_FMT_LEN * 4];
    size_t hn = (size_t)(caret - text) < sizeof head - 1 ? (size_t)(caret - text) : sizeof head - 1;
    memcpy(head, text, hn);
    head[hn] = '\0';
    ls_buf_escape(b, head);
    ls_buf_puts(b, "<tspan");
    attr_num(b, "dy", -0.42 * (size > 0 ? size : 11));
    attr_num(b, "font-size", 0.78 * (size > 0 ? size : 11));
    ls_buf_puts(b, ">");
    ls_buf_escape(b, caret + 1);
    ls_buf_puts(b, "</tspan></text>\n");
}

/* ticks and labels of one axis */
static size_t axis_ticks(double lo, double hi, int mode, size_t target, double *t, char (*lab)[LS_FMT_LEN])
{
    double step;
    size_t n;
    if (mode == LS_AXIS_LINEAR) {
        n = ls_svg_ticks(lo, hi, target, t, &step);
        int dec = ls_svg_step_decimals(step);
        for (size_t i = 0; i < n; i++) ls_fmt_fixed(lab[i], t[i], dec);
        return n;
    }
    if (mode == LS_AXIS_INTEGER || hi - lo >= 1.5) {
        n = ticks_with(lo, hi, target, 0, 1, t, &step);
        for (size_t i = 0; i < n; i++) {
            if (mode == LS_AXIS_LOG10) pow10_label(lab[i], LS_FMT_LEN, lround(t[i]));
            else ls_fmt_fixed(lab[i], t[i], 0);
        }
        return n;
    }
    /* a log axis over less than ~1.5 decades: 1, 2, 5 x 10^k (or 1..9) */
    static const double m125[] = {1, 2, 5}, m19[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    for (int pass = 0; pass < 2; pass++) {
        const double *ms = pass ? m19 : m125;
        size_t nm = pass ? 9 : 3;
        n = 0;
        for (long e = (long)floor(lo) - 1; e <= (long)ceil(hi) && n < LS_MAX_TICKS; e++)
            for (size_t i = 0; i < nm && n < LS_MAX_TICKS; i++) {
                double v = log10(ms[i]) + (double)e;
                if (v < lo - 1e-9 || v > hi + 1e-9) continue;
                t[n] = v;
                ls_svg_pow10(lab[n], LS_FMT_LEN, ms[i], e);
                n++;
            }
        if (n >= 2) break;
    }
    return n;
}

void ls_svg_axes(const ls_svg_panel *p, int xmode, int ymode, const char *xlabel,
                 const char *ylabel)
{
    ls_buf *b = p->b;
    double t[LS_MAX_TICKS];
    char lab[LS_MAX_TICKS][LS_FMT_LEN];
    size_t tx = p->w < 250 ? 5 : p->w < 400 ? 6 : 8, ty = p->h < 120 ? 4 : 5;
    ls_buf_puts(b, "<g class=\"axes\">\n");
    ls_svg_rect(b, p->x0, p->y0, p->w, p->h, "#ffffff", NULL, NULL);
    size_t n = axis_ticks(p->xlo, p->xhi, xmode, tx, t, lab);
    for (size_t i = 0; i < n; i++) {
        double x = ls_svg_px(p, t[i]);
        ls_svg_line(b, x, p->y0, x, p->y0 + p->h, "#e4e4e4", 1, NULL);
        ls_svg_line(b, x, p->y0 + p->h, x, p->y0 + p->h + 4, "#444444", 1, NULL);
        ls_svg_text_sup(b, x, p->y0 + p->h + 15, "middle", 10, lab[i]);
    }
    n = axis_ticks(p->ylo, p->yhi, ymode, ty, t, lab);
    for (size_t i = 0; i < n; i++) {
        double y = ls_svg_py(p, t[i]);
        ls_svg_line(b, p->x0, y, p->x0 + p->w, y, "#e4e4e4", 1, NULL);
        ls_svg_line(b, p->x0 - 4, y, p->x0, y, "#444444", 1, NULL);
        ls_svg_text_sup(b, p->x0 - 6, y + 3.5, "end", 10, lab[i]);
    }
    ls_svg_rect(b, p->x0, p->y0, p->w, p->h, NULL, "#444444", NULL);
    if (xlabel) ls_svg_text(b, p->x0 + p->w / 2, p->y0 + p->h + 31, "middle", 11, 0, 0, xlabel);
    if (ylabel) ls_svg_text(b, p->x0 - 40, p->y0 + p->h / 2, "middle", 11, -90, 0, ylabel);
    ls_buf_puts(b, "</g>\n");
}

static void path_point(ls_buf *b, char cmd, double x, double y)
{
    char t[2] = {cmd, '\0'};
    ls_buf_puts(b, t);
    ls_buf_num(b, x, NUMDEC);
    ls_buf_puts(b, " ");
    ls_buf_num(b, y, NUMDEC);
}

void ls_svg_polyline(const ls_svg_panel *p, const double *x, const double *y, size_t n,
                     const char *color, double width, const char *dash)
{
    ls_buf *b = p->b;
    int open = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]) || !isfinite(y[i])) {
            if (open) ls_buf_puts(b, "\"/>\n");
            open = 0;
            continue;
        }
        if (!open) {
            ls_buf_printf(b, "<path fill=\"none\" stroke=\"%s\"", color);
            attr_num(b, "stroke-width", width);
            if (dash) ls_buf_printf(b, " stroke-dasharray=\"%s\"", dash);
            ls_buf_puts(b, " stroke-linejoin=\"round\" d=\"");
        }
        path_point(b, open ? 'L' : 'M', ls_svg_px(p, x[i]), ls_svg_py(p, y[i]));
        open = 1;
    }
    if (open) ls_buf_puts(b, "\"/>\n");
}

void ls_svg_band(const ls_svg_panel *p, const double *x, const double *lo, const double *hi,
                 size_t n, const char *color, double opacity)
{
    ls_buf *b = p->b;
    size_t i = 0;
    while (i < n) {
        while (i < n && !(isfinite(x[i]) && isfinite(lo[i]) && isfinite(hi[i]))) i++;
        size_t s = i;
        while (i < n && isfinite(x[i]) && isfinite(lo[i]) && isfinite(hi[i])) i++;
        if (i - s < 2) continue;
        ls_buf_printf(b, "<path fill=\"%s\" stroke=\"none\"", color);
        attr_num(b, "fill-opacity", opacity);
        ls_buf_puts(b, " d=\"");
        for (size_t k = s; k < i; k++) path_point(b, k == s ? 'M' : 'L', ls_svg_px(p, x[k]), ls_svg_py(p, hi[k]));
        for (size_t k = i; k-- > s;) path_point(b, 'L', ls_svg_px(p, x[k]), ls_svg_py(p, lo[k]));
        ls_buf_puts(b, "Z\"/>\n");
    }
}

void ls_svg_point(const ls_svg_panel *p, double x, double y, double r, const char *fill,
                  double opacity, const char *title)
{
    if (!isfinite(x) || !isfinite(y)) return;
    ls_buf *b = p->b;
    ls_buf_puts(b, "<circle");
    attr_num(b, "cx", ls_svg_px(p, x));
    attr_num(b, "cy", ls_svg_py(p, y));
    attr_num(b, "r", r);
    ls_buf_printf(b, " fill=\"%s\"", fill);
    if (opacity < 1) {
        ls_buf_puts(b, " fill-opacity=\"");
        ls_buf_num(b, opacity, 2);
        ls_buf_puts(b, "\"");
    }
    if (title) {
        ls_buf_puts(b, "><title>");
        ls_buf_escape(b, title);
        ls_buf_puts(b, "</title></circle>\n");
    } else
        ls_buf_puts(b, "/>\n");
}

void ls_svg_marker_px(ls_buf *b, double cx, double cy, size_t shape, double r, const char *color,
                      double opacity, const char *title)
{
    if (!isfinite(cx) || !isfinite(cy)) return;
    shape %= LS_MARKERS_N;
    ls_buf_printf(b, "<path class=\"marker\" data-shape=\"%zu\"", shape);
    int open = shape >= 5; /* plus, cross: strokes only */
    if (open) ls_buf_printf(b, " fill=\"none\" stroke=\"%s\" stroke-width=\"1.6\"", color);
    else ls_buf_printf(b, " fill=\"%s\" stroke=\"#ffffff\" stroke-width=\"0.5\"", color);
    if (opacity < 1) {
        ls_buf_puts(b, open ? " stroke-opacity=\"" : " fill-opacity=\"");
        ls_buf_num(b, opacity, 2);
        ls_buf_puts(b, "\"");
    }
    ls_buf_puts(b, " d=\"");
    double s = r;
    switch (shape) {
    case 0: /* circle: two arcs */
        path_point(b, 'M', cx - s, cy);
        ls_buf_puts(b, "a");
        ls_buf_num(b, s, NUMDEC);
        ls_buf_puts(b, " ");
        ls_buf_num(b, s, NUMDEC);
        ls_buf_puts(b, " 0 1 0 ");
        ls_buf_num(b, 2 * s, NUMDEC);
        ls_buf_puts(b, " 0a");
        ls_buf_num(b, s, NUMDEC);
        ls_buf_puts(b, " ");
        ls_buf_num(b, s, NUMDEC);
        ls_buf_puts(b, " 0 1 0 ");
        ls_buf_num(b, -2 * s, NUMDEC);
        ls_buf_puts(b, " 0Z");
        break;
    case 1: s *= 0.88;
        path_point(b, 'M', cx - s, cy - s); path_point(b, 'L', cx + s, cy - s);
        path_point(b, 'L', cx + s, cy + s); path_point(b, 'L', cx - s, cy + s); ls_buf_puts(b, "Z");
        break;
    case 2: s *= 1.2;
        path_point(b, 'M', cx, cy - s); path_point(b, 'L', cx + 0.87 * s, cy + 0.5 * s);
        path_point(b, 'L', cx - 0.87 * s, cy + 0.5 * s); ls_buf_puts(b, "Z");
        break;
    case 3: s *= 1.2;
        path_point(b, 'M', cx, cy - s); path_point(b, 'L', cx + s, cy);
        path_point(b, 'L', cx, cy + s); path_point(b, 'L', cx - s, cy); ls_buf_puts(b, "Z");
        break;
    case 4: s *= 1.2;
        path_point(b, 'M', cx, cy + s); path_point(b, 'L', cx + 0.87 * s, cy - 0.5 * s);
        path_point(b, 'L', cx - 0.87 * s, cy - 0.5 * s); ls_buf_puts(b, "Z");
        break;
    case 5: s *= 1.2;
        path_point(b, 'M', cx - s, cy); path_point(b, 'L', cx + s, cy);
        path_point(b, 'M', cx, cy - s); path_point(b, 'L', cx, cy + s);
        break;
    case 6:
        path_point(b, 'M', cx - s, cy - s); path_point(b, 'L', cx + s, cy + s);
        path_point(b, 'M', cx - s, cy + s); path_point(b, 'L', cx + s, cy - s);
        break;
    default: /* a five-pointed star */
        s *= 1.3;
        for (int k = 0; k < 10; k++) {
            double a = -1.5707963267948966 + 0.6283185307179586 * k, rr = k % 2 ? 0.45 * s : s;
            path_point(b, k ? 'L' : 'M', cx + rr * cos(a), cy + rr * sin(a));
        }
        ls_buf_puts(b, "Z");
        break;
    }
    if (title) {
        ls_buf_puts(b, "\"><title>");
        ls_buf_escape(b, title);
        ls_buf_puts(b, "</title></path>\n");
    } else
        ls_buf_puts(b, "\"/>\n");
}

void ls_svg_marker(const ls_svg_panel *p, double x, double y, size_t shape, double r, const char *color,
                   double opacity, const char *title)
{
    if (!isfinite(x) || !isfinite(y)) return;
    ls_svg_marker_px(p->b, ls_svg_px(p, x), ls_svg_py(p, y), shape, r, color, opacity, title);
}

const char *ls_svg_dash(size_t i)
{
    static const char *d[LS_DASHES_N] = {NULL, "7 3", "2 2.5", "9 3 2 3", "4 4", "12 3 2 3 2 3"};
    return d[i % LS_DASHES_N];
}

void ls_svg_legend_entry(ls_buf *b, double x, double y, const char *color, const char *dash, size_t shape,
                         const char *label)
{
    ls_svg_line(b, x, y, x + 26, y, color, 2, dash);
    if (shape < LS_MARKERS_N) ls_svg_marker_px(b, x + 13, y, shape, 3.6, color, 1, NULL);
    ls_svg_text(b, x + 31, y + 4, "start", 11, 0, 0, label);
}

void ls_svg_legend(ls_buf *b, double x, double y, const char *kind, const char *const *labels,
                   const char *const *colors, size_t n, double dx, double dy)
{
    ls_buf_puts(b, "<g class=\"legend\">\n");
    for (size_t i = 0; i < n; i++) {
        double ex = dx > 0 ? x + dx * (double)i : x, ey = dx > 0 ? y : y + dy * (double)i;
        if (strcmp(kind, "line") == 0) ls_svg_line(b, ex, ey, ex + 18, ey, colors[i], 2.5, NULL);
        else if (strcmp(kind, "box") == 0) ls_svg_rect(b, ex, ey - 5, 16, 10, colors[i], NULL, NULL);
        else {
            ls_buf_puts(b, "<circle");
            attr_num(b, "cx", ex + 8);
            attr_num(b, "cy", ey);
            ls_buf_printf(b, " r=\"4\" fill=\"%s\"/>\n", colors[i]);
        }
        ls_svg_text(b, ex + 23, ey + 4, "start", 11, 0, 0, labels[i]);
    }
    ls_buf_puts(b, "</g>\n");
}

/* ================================================================ */
/* Colours                                                           */
/* ================================================================ */

const char *ls_svg_palette(size_t i)
{
    /* Okabe and Ito's colour-blind-safe set, yellow replaced by a dark red */
    static const char *pal[LS_PALETTE_N] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                            "#E69F00", "#56B4E9", "#882255", "#000000"};
    return pal[i % LS_PALETTE_N];
}

void ls_svg_diverging(double t, char out[8])
{
    if (isnan(t)) { strcpy(out, "#bbbbbb"); return; }
    t = fmax(-1, fmin(1, t));
    static const double neg[3] = {33, 102, 172}, mid[3] = {247, 247, 247}, pos[3] = {178, 24, 43};
    const double *end = t < 0 ? neg : pos;
    double a = fabs(t);
    int c[3];
    for (int k = 0; k < 3; k++) c[k] = (int)lround(mid[k] + a * (end[k] - mid[k]));
    snprintf(out, 8, "#%02x%02x%02x", (unsigned)c[0] & 0xffu, (unsigned)c[1] & 0xffu,
             (unsigned)c[2] & 0xffu);
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double ls_svg_robust_max(const double *v, size_t rows, size_t cols, const unsigned char *skip, int *clipped)
{
    if (clipped) *clipped = 0;
    double *m = malloc((cols ? cols : 1) * sizeof(double));
    size_t n = 0;
    double top = 0;
    for (size_t c = 0; c < cols; c++) {
        double mc = -1;
        for (size_t r = 0; r < rows; r++)
            if ((!skip || !skip[r * cols + c]) && isfinite(v[r * cols + c])) mc = fmax(mc, fabs(v[r * cols + c]));
        if (mc < 0) continue; /* nothing estimated in this column */
        top = fmax(top, mc);
        if (m) m[n++] = mc;
    }
    double out = top > 0 ? top : 1;
    if (m && n >= 3) {
        qsort(m, n, sizeof(double), cmp_dbl);
        double med = n % 2 ? m[n / 2] : 0.5 * (m[n / 2 - 1] + m[n / 2]);
        if (med > 0 && top > LS_SVG_CLIP * med) {
            out = LS_SVG_CLIP * med;
            if (clipped) *clipped = 1;
        }
    }
    free(m);
    return out;
}

void ls_svg_colorbar(ls_buf *b, double x, double y, double w, double h, double vmax,
                     const char *label)
{
    if (!(vmax > 0) || !isfinite(vmax)) vmax = 1;
    ls_buf_puts(b, "<g class=\"colorbar\">\n");
    const int steps = 40;
    for (int i = 0; i < steps; i++) {
        double t = 1 - 2 * ((double)i + 0.5) / steps; /* top = +vmax */
        char col[8];
        ls_svg_diverging(t, col);
        ls_svg_rect(b, x, y + h * i / steps, w, h / steps + 0.5, col, NULL, NULL);
    }
    ls_svg_rect(b, x, y, w, h, NULL, "#444444", NULL);
    double vals[3] = {vmax, 0, -vmax};
    int dec = vmax >= 10 ? 0 : vmax >= 1 ? 1 : 2;
    for (int i = 0; i < 3; i++) {
        double ty = y + h * i / 2.0;
        char t[LS_FMT_LEN];
        ls_svg_line(b, x + w, ty, x + w + 4, ty, "#444444", 1, NULL);
        ls_svg_text(b, x + w + 6, ty + 3.5, "start", 10, 0, 0, ls_fmt_fixed(t, vals[i], dec));
    }
    if (label) ls_svg_text(b, x + w / 2, y - 8, "middle", 11, 0, 0, label);
    ls_buf_puts(b, "</g>\n");
}
