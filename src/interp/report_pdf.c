/*
 * A minimal PDF 1.4 writer (ISO 32000-1 subset) for the paper report: one
 * landscape page, one uncompressed content stream of vector paths and text
 * in the standard Type 1 fonts Helvetica and Helvetica-Bold, which every
 * conforming reader has built in, so nothing is embedded. The cross-reference
 * table records the exact byte offset of every object (section 7.5.4) and
 * the trailer points at it; the tests parse it back and check each offset.
 * Text is limited to printable ASCII (other bytes become '?').
 */
#include "interp_int.h"

#include <stdio.h>
#include <string.h>

#define PT_PER_MM (72.0 / 25.4)

typedef struct pdfctx {
    aiecg__sbuf *b;
    double h_mm;
} pdfctx;

static double X(double mm) { return mm * PT_PER_MM; }

static void pdf_style(void *ctx, double w, unsigned rgb) {
    pdfctx *c = ctx;
    aiecg__sbuf_printf(c->b, "%.3f w %.3f %.3f %.3f RG\n", X(w), ((rgb >> 16) & 255) / 255.0,
                       ((rgb >> 8) & 255) / 255.0, (rgb & 255) / 255.0);
}

static void pdf_polyline(void *ctx, const double *xy, int n, const char *cls) {
    pdfctx *c = ctx;
    (void)cls;
    for (int i = 0; i < n; i++)
        aiecg__sbuf_printf(c->b, "%.2f %.2f %c\n", X(xy[2 * i]), X(c->h_mm - xy[2 * i + 1]), i ? 'l' : 'm');
    aiecg__sbuf_puts(c->b, "S\n");
}

static void pdf_text(void *ctx, double x, double y, double pt, int bold, const char *s, const char *cls) {
    pdfctx *c = ctx;
    (void)cls;
    aiecg__sbuf_printf(c->b, "BT /%s %.1f Tf %.2f %.2f Td (", bold ? "F2" : "F1", pt, X(x), X(c->h_mm - y));
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '(' || *p == ')' || *p == '\\') {
            char e[2] = {'\\', (char)*p};
            aiecg__sbuf_append(c->b, e, 2);
        } else if (*p >= 0x20 && *p < 0x7f) {
            aiecg__sbuf_append(c->b, (const char *)p, 1);
        } else {
            aiecg__sbuf_append(c->b, "?", 1);
        }
    }
    aiecg__sbuf_puts(c->b, ") Tj ET\n");
}

static void pdf_rect(void *ctx, double x, double y, double w, double h, unsigned rgb) {
    pdfctx *c = ctx;
    aiecg__sbuf_printf(c->b, "%.3f %.3f %.3f rg %.2f %.2f %.2f %.2f re f 0 g\n", ((rgb >> 16) & 255) / 255.0,
                       ((rgb >> 8) & 255) / 255.0, (rgb & 255) / 255.0, X(x), X(c->h_mm - y - h), X(w), X(h));
}

static void pdf_group(void *ctx, const char *id, int begin) {
    pdfctx *c = ctx;
    /* groups are kept as comments: readable when debugging, ignored by readers */
    aiecg__sbuf_printf(c->b, "%% %s %s\n", begin ? "begin" : "end", id);
}

aiecg_status aiecg_result_pdf(const aiecg_result *r, const aiecg_report_options *opt, char **out, size_t *len,
                              aiecg_error *err) {
    if (!r || !out || !len) return aiecg__error_set(err, AIECG_ERR_INVALID_ARG, "aiecg_result_pdf: NULL argument");
    *out = NULL;
    *len = 0;
    aiecg_report_options o = opt ? *opt : aiecg_report_options_default();
    double W, H;
    aiecg__paper_size(o.paper, &W, &H);
    aiecg__sbuf content;
    aiecg__sbuf_init(&content);
    pdfctx c = {&content, H};
    aiecg__canvas_ops ops = {pdf_style, pdf_polyline, pdf_text, pdf_rect, pdf_group};
    aiecg__sbuf_puts(&content, "1 J 1 j 0 g\n");
    aiecg_status st = aiecg__report_draw(r, &o, &ops, &c, err);
    if (st || content.oom) {
        aiecg__sbuf_free(&content);
        return st ? st : AIECG_ERR_NOMEM;
    }

    aiecg__sbuf b;
    aiecg__sbuf_init(&b);
    size_t off[8];
    aiecg__sbuf_puts(&b, "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n");
    off[1] = b.len;
    aiecg__sbuf_puts(&b, "1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n");
    off[2] = b.len;
    aiecg__sbuf_puts(&b, "2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n");
    off[3] = b.len;
    aiecg__sbuf_printf(&b,
                       "3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %.2f %.2f] /Contents 4 0 R "
                       "/Resources << /Font << /F1 5 0 R /F2 6 0 R >> >> >>\nendobj\n",
                       X(W), X(H));
    off[4] = b.len;
    aiecg__sbuf_printf(&b, "4 0 obj\n<< /Length %zu >>\nstream\n", content.len);
    aiecg__sbuf_append(&b, content.data ? content.data : "", content.len);
    aiecg__sbuf_puts(&b, "\nendstream\nendobj\n");
    off[5] = b.len;
    aiecg__sbuf_puts(&b, "5 0 obj\n<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>\nendobj\n");
    off[6] = b.len;
    aiecg__sbuf_puts(&b,
                     "6 0 obj\n<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding "
                     ">>\nendobj\n");
    off[7] = b.len;
    aiecg__sbuf_printf(&b, "7 0 obj\n<< /Producer (aiecg %s) /Title (", aiecg_version());
    for (const char *p = r->record_name ? r->record_name : ""; *p; p++)
        if (*p >= 0x20 && *p < 0x7f && *p != '(' && *p != ')' && *p != '\\') aiecg__sbuf_append(&b, p, 1);
    aiecg__sbuf_puts(&b, ") >>\nendobj\n");
    size_t xref = b.len;
    aiecg__sbuf_puts(&b, "xref\n0 8\n0000000000 65535 f \n");
    for (int i = 1; i <= 7; i++) aiecg__sbuf_printf(&b, "%010zu 00000 n \n", off[i]);
    aiecg__sbuf_printf(&b, "trailer\n<< /Size 8 /Root 1 0 R /Info 7 0 R >>\nstartxref\n%zu\n%%%%EOF\n", xref);
    aiecg__sbuf_free(&content);
    size_t n = b.len;
    *out = aiecg__sbuf_take(&b);
    if (!*out) return AIECG_ERR_NOMEM;
    *len = n;
    return AIECG_OK;
}
