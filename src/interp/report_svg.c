/*
 * SVG 1.1 rendering of the paper report (layout in report_draw.c). User
 * units are millimetres (viewBox = page in mm, width/height in mm), so a
 * path coordinate difference of 10 is 10 mm = 1 mV on paper, which the tests
 * check on the calibration pulse. Styling is one CSS block keyed by the
 * element classes (grid-minor, grid-major, trace, cal, ...); every lead
 * panel is a <g id="lead-NAME"> and the rhythm strip <g id="rhythm-NAME">.
 */
#include "interp_int.h"

#include <stdio.h>
#include <string.h>

typedef struct svgctx {
    aiecg__sbuf *b;
} svgctx;

static void xml_escape(aiecg__sbuf *b, const char *s) {
    for (; *s; s++) {
        switch (*s) {
        case '&': aiecg__sbuf_puts(b, "&amp;"); break;
        case '<': aiecg__sbuf_puts(b, "&lt;"); break;
        case '>': aiecg__sbuf_puts(b, "&gt;"); break;
        case '"': aiecg__sbuf_puts(b, "&quot;"); break;
        default:
            if ((unsigned char)*s < 0x20) aiecg__sbuf_puts(b, " ");
            else aiecg__sbuf_append(b, s, 1);
        }
    }
}

static void svg_style(void *ctx, double w, unsigned rgb) { (void)ctx, (void)w, (void)rgb; }

static void svg_polyline(void *ctx, const double *xy, int n, const char *cls) {
    svgctx *c = ctx;
    if (n == 2) {
        aiecg__sbuf_printf(c->b, "<line class=\"%s\" x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n", cls, xy[0],
                           xy[1], xy[2], xy[3]);
        return;
    }
    aiecg__sbuf_printf(c->b, "<polyline class=\"%s\" points=\"", cls);
    for (int i = 0; i < n; i++) aiecg__sbuf_printf(c->b, "%s%.2f,%.2f", i ? " " : "", xy[2 * i], xy[2 * i + 1]);
    aiecg__sbuf_puts(c->b, "\"/>\n");
}

static void svg_text(void *ctx, double x, double y, double pt, int bold, const char *s, const char *cls) {
    svgctx *c = ctx;
    aiecg__sbuf_printf(c->b, "<text class=\"%s\" x=\"%.2f\" y=\"%.2f\" font-size=\"%.2f\"%s>", cls, x, y,
                       pt * 25.4 / 72.0, bold ? " font-weight=\"bold\"" : "");
    xml_escape(c->b, s);
    aiecg__sbuf_puts(c->b, "</text>\n");
}

static void svg_rect(void *ctx, double x, double y, double w, double h, unsigned rgb) {
    svgctx *c = ctx;
    aiecg__sbuf_printf(c->b, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"#%06x\"/>\n", x, y, w,
                       h, rgb);
}

static void svg_group(void *ctx, const char *id, int begin) {
    svgctx *c = ctx;
    if (begin) {
        const char *cls = strncmp(id, "lead-", 5) == 0 ? "lead" : strncmp(id, "rhythm-", 7) == 0 ? "rhythm" : id;
        aiecg__sbuf_printf(c->b, "<g id=\"%s\" class=\"%s\">\n", id, cls);
    } else {
        aiecg__sbuf_puts(c->b, "</g>\n");
    }
}

aiecg_status aiecg_result_svg(const aiecg_result *r, const aiecg_report_options *opt, char **out,
                              aiecg_error *err) {
    if (!r || !out) return aiecg__error_set(err, AIECG_ERR_INVALID_ARG, "aiecg_result_svg: NULL argument");
    *out = NULL;
    aiecg_report_options o = opt ? *opt : aiecg_report_options_default();
    double W, H;
    aiecg__paper_size(o.paper, &W, &H);
    aiecg__sbuf b;
    aiecg__sbuf_init(&b);
    aiecg__sbuf_printf(&b,
                       "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                       "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" xml:space=\"preserve\" width=\"%gmm\" height=\"%gmm\" "
                       "viewBox=\"0 0 %g %g\" data-mm-per-s=\"25\" data-mm-per-mv=\"10\">\n",
                       W, H, W, H);
    aiecg__sbuf_puts(&b, "<title>");
    xml_escape(&b, r->record_name && r->record_name[0] ? r->record_name : "ECG");
    aiecg__sbuf_puts(&b,
                     " - aiecg report</title>\n<style>\n"
                     "text{font-family:Helvetica,Arial,sans-serif;fill:#000}\n"
                     "line,polyline{fill:none;stroke-linejoin:round;stroke-linecap:round}\n"
                     ".grid-minor{stroke:#f6c8c8;stroke-width:0.1}\n"
                     ".grid-major{stroke:#e89090;stroke-width:0.25}\n"
                     ".trace,.cal{stroke:#000;stroke-width:0.3}\n"
                     ".separator{stroke:#000;stroke-width:0.3}\n"
                     ".beat-mark{stroke:#1040c0;stroke-width:0.3}.beat-label{fill:#1040c0}\n"
                     ".fiducial{stroke:#10a040;stroke-width:0.3}\n"
                     ".missing{fill:#888}\n"
                     "</style>\n");
    aiecg__sbuf_printf(&b, "<rect x=\"0\" y=\"0\" width=\"%g\" height=\"%g\" fill=\"#fff\"/>\n", W, H);
    svgctx c = {&b};
    aiecg__canvas_ops ops = {svg_style, svg_polyline, svg_text, svg_rect, svg_group};
    aiecg_status st = aiecg__report_draw(r, &o, &ops, &c, err);
    if (st) {
        aiecg__sbuf_free(&b);
        return st;
    }
    aiecg__sbuf_puts(&b, "</svg>\n");
    *out = aiecg__sbuf_take(&b);
    return *out ? AIECG_OK : AIECG_ERR_NOMEM;
}
