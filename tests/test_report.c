/*
 * Paper reports on a real record (LUDB 1, 500 Hz, 12 leads): the SVG has the
 * 12 lead panels of the 3 x 4 layout and the rhythm strip, the 1 mm and 5 mm
 * grid, and its scales are right, checked numerically from the path
 * coordinates: the calibration pulse is 10 mm high (1 mV at 10 mm/mV) and
 * 5 mm wide (200 ms at 25 mm/s), a 2.5 s panel spans 62.5 mm and the lead I
 * trace's peak sits 10 mm/mV x its amplitude above the baseline. The PDF is
 * well formed: every cross-reference offset points at its object, the
 * stream length is exact, and (when poppler-utils is installed)
 * pdftoppm renders it; rsvg-convert likewise renders the SVG.
 */
#include "test.h"

#include "interp/interp_int.h"

#include <unistd.h>

static char ludb[4096];

static aiecg_result *analyze_ludb(const char *name) {
    char p[4200];
    snprintf(p, sizeof p, "%s/%s", ludb, name);
    aiecg_record *rec = NULL;
    aiecg_error err;
    aiecg_error_clear(&err);
    CHECK_OK(aiecg_record_open(p, NULL, &rec, &err), &err);
    if (!rec) return NULL;
    aiecg_analyze_options o = aiecg_analyze_options_default();
    aiecg_result *r = NULL;
    CHECK_OK(aiecg_analyze(rec, &o, &r, &err), &err);
    aiecg_record_free(rec);
    return r;
}

static int count(const char *s, const char *needle) {
    int n = 0;
    for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle)) n++;
    return n;
}

/* Parses the points="x,y x,y ..." attribute after p into xy (max pairs); returns the count. */
static int parse_points(const char *p, double *xy, int max) {
    const char *q = strstr(p, "points=\"");
    if (!q) return 0;
    q += 8;
    int n = 0;
    while (*q && *q != '"' && n < max) {
        char *e;
        xy[2 * n] = strtod(q, &e);
        if (*e != ',') break;
        xy[2 * n + 1] = strtod(e + 1, &e);
        n++;
        q = e;
        while (*q == ' ') q++;
    }
    return n;
}

static void test_svg_structure_and_scale(void) {
    aiecg_result *r = analyze_ludb("1");
    if (!r) return;
    char *svg = NULL;
    aiecg_error err;
    aiecg_error_clear(&err);
    aiecg_report_options ro = aiecg_report_options_default();
    ro.beat_marks = 1;
    CHECK_OK(aiecg_result_svg(r, &ro, &svg, &err), &err);
    if (!svg) {
        aiecg_result_free(r);
        return;
    }
    CHECK(strstr(svg, "viewBox=\"0 0 297 210\"") != NULL);
    CHECK_INT(count(svg, "class=\"lead\""), 12);
    CHECK_INT(count(svg, "class=\"rhythm\""), 1);
    CHECK(strstr(svg, "id=\"rhythm-II\"") != NULL);
    static const char *leads[] = {"I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"};
    for (int i = 0; i < 12; i++) {
        char id[32];
        snprintf(id, sizeof id, "id=\"lead-%s\"", leads[i]);
        CHECK(strstr(svg, id) != NULL);
    }
    /* grid: 260 x 150 mm; minor every 1 mm except where a major line is */
    CHECK_INT(count(svg, "<line class=\"grid-minor\""), (261 - 53) + (151 - 31));
    CHECK_INT(count(svg, "<line class=\"grid-major\""), 53 + 31);
    CHECK_INT(count(svg, "class=\"cal\""), 4);
    CHECK_INT(count(svg, "class=\"beat-mark\""), (int)aiecg_result_nbeats(r));
    /* calibration pulse: 1 mV -> 10 mm, 200 ms -> 5 mm */
    double xy[2 * 1300];
    const char *cal = strstr(svg, "class=\"cal\"");
    int n = cal ? parse_points(cal, xy, 6) : 0;
    CHECK_INT(n, 6);
    if (n == 6) {
        CHECK_NEAR(xy[1] - xy[5], 10.0, 0.011);
        CHECK_NEAR(xy[6] - xy[2], 5.0, 0.011);
        CHECK_NEAR(xy[1], xy[11], 1e-9);
    }
    /* lead I panel: 2.5 s at 500 Hz, 25 mm/s, 10 mm/mV */
    const char *li = strstr(svg, "id=\"lead-I\"");
    const char *tr = li ? strstr(li, "class=\"trace\"") : NULL;
    n = tr ? parse_points(tr, xy, 1300) : 0;
    CHECK_INT(n, 1250);
    if (n == 1250 && r->signal) {
        CHECK_NEAR(xy[2 * 1249] - xy[0], 1249.0 / 500.0 * 25.0, 0.011);
        const float *x = aiecg_record_lead_data(r->signal, aiecg_record_find_lead(r->signal, AIECG_LEAD_I));
        double base = xy[1] + x[0] * 10.0; /* y = base - 10 * mV */
        double ymin = 1e9, vmax = -1e9;
        for (int i = 0; i < 1250; i++) {
            if (xy[2 * i + 1] < ymin) ymin = xy[2 * i + 1];
            if (x[i] > vmax) vmax = x[i];
        }
        CHECK(vmax > 0.5); /* LUDB 1 lead I R wave ~0.9 mV */
        CHECK_NEAR(base - ymin, 10.0 * vmax, 0.02);
        /* the baseline is the cal pulse's baseline of the first row */
        if (cal && parse_points(cal, xy, 6) == 6) CHECK_NEAR(base, xy[1], 0.02);
    }
    /* render with rsvg-convert when available */
    if (system("command -v rsvg-convert >/dev/null 2>&1") == 0) {
        const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
        char sp[512], pp[512], cmd[1200];
        snprintf(sp, sizeof sp, "%s/aiecg_test_report_%d.svg", tmp, (int)getpid());
        snprintf(pp, sizeof pp, "%s/aiecg_test_report_%d.png", tmp, (int)getpid());
        FILE *f = fopen(sp, "w");
        CHECK(f != NULL);
        if (f) {
            fputs(svg, f);
            fclose(f);
            snprintf(cmd, sizeof cmd, "rsvg-convert -d 96 -p 96 '%s' -o '%s'", sp, pp);
            CHECK_INT(system(cmd), 0);
            FILE *g = fopen(pp, "rb");
            unsigned char magic[8] = {0};
            CHECK(g && fread(magic, 1, 8, g) == 8 && magic[1] == 'P' && magic[2] == 'N' && magic[3] == 'G');
            if (g) fclose(g);
            remove(sp);
            remove(pp);
        }
    }
    aiecg_free(svg);
    /* Letter paper */
    ro.paper = AIECG_PAPER_LETTER;
    CHECK_OK(aiecg_result_svg(r, &ro, &svg, &err), &err);
    CHECK(svg && strstr(svg, "viewBox=\"0 0 279.4 215.9\""));
    aiecg_free(svg);
    aiecg_result_free(r);
}

static void test_pdf_well_formed(void) {
    aiecg_result *r = analyze_ludb("2");
    if (!r) return;
    char *pdf = NULL;
    size_t len = 0;
    aiecg_error err;
    aiecg_error_clear(&err);
    CHECK_OK(aiecg_result_pdf(r, NULL, &pdf, &len, &err), &err);
    if (!pdf) {
        aiecg_result_free(r);
        return;
    }
    CHECK(len > 1000 && memcmp(pdf, "%PDF-1.4\n", 9) == 0);
    CHECK(len > 6 && memcmp(pdf + len - 6, "%%EOF\n", 6) == 0);
    /* startxref -> xref table -> each object */
    const char *sx = NULL;
    for (const char *p = pdf; (p = strstr(p, "startxref\n")); p++) sx = p;
    CHECK(sx != NULL);
    if (sx) {
        size_t xo = (size_t)strtoul(sx + 10, NULL, 10);
        CHECK(xo < len && strncmp(pdf + xo, "xref\n0 8\n", 9) == 0);
        const char *e = pdf + xo + 9;
        CHECK(strncmp(e, "0000000000 65535 f \n", 20) == 0);
        for (int i = 1; i <= 7; i++) {
            const char *row = e + 20 * i;
            size_t off = (size_t)strtoul(row, NULL, 10);
            CHECK(strncmp(row + 10, " 00000 n \n", 10) == 0);
            char want[16];
            snprintf(want, sizeof want, "%d 0 obj\n", i);
            CHECK(off < len && strncmp(pdf + off, want, strlen(want)) == 0);
        }
    }
    /* exact stream length */
    const char *lp = strstr(pdf, "/Length ");
    const char *st = strstr(pdf, ">>\nstream\n");
    const char *en = strstr(pdf, "\nendstream");
    CHECK(lp && st && en);
    if (lp && st && en) CHECK_INT((long)(en - (st + 10)), strtol(lp + 8, NULL, 10));
    CHECK(strstr(pdf, "/BaseFont /Helvetica ") != NULL);
    if (system("command -v pdftoppm >/dev/null 2>&1") == 0) {
        const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
        char pp[512], cmd[1200], out[600];
        snprintf(pp, sizeof pp, "%s/aiecg_test_report_%d.pdf", tmp, (int)getpid());
        snprintf(out, sizeof out, "%s/aiecg_test_report_%d", tmp, (int)getpid());
        FILE *f = fopen(pp, "wb");
        CHECK(f != NULL);
        if (f) {
            fwrite(pdf, 1, len, f);
            fclose(f);
            snprintf(cmd, sizeof cmd, "pdftoppm -r 30 -png -singlefile '%s' '%s' 2>&1", pp, out);
            CHECK_INT(system(cmd), 0);
            char png[700];
            snprintf(png, sizeof png, "%s.png", out);
            FILE *g = fopen(png, "rb");
            CHECK(g != NULL);
            if (g) fclose(g);
            remove(png);
            remove(pp);
        }
    }
    aiecg_free(pdf);
    aiecg_result_free(r);
}

static void test_report_without_signal(void) {
    char p[4200];
    snprintf(p, sizeof p, "%s/1", ludb);
    aiecg_record *rec = NULL;
    CHECK_OK(aiecg_record_open(p, NULL, &rec, NULL), NULL);
    if (!rec) return;
    aiecg_analyze_options o = aiecg_analyze_options_default();
    o.keep_signal = 0;
    aiecg_result *r = NULL;
    CHECK_OK(aiecg_analyze(rec, &o, &r, NULL), NULL);
    char *svg = NULL;
    aiecg_error err;
    aiecg_error_clear(&err);
    CHECK_INT(aiecg_result_svg(r, NULL, &svg, &err), AIECG_ERR_INVALID_ARG);
    CHECK(svg == NULL && err.message[0]);
    aiecg_result_free(r);
    aiecg_record_free(rec);
}

int main(void) {
    test_data_path("ludb/data", ludb, sizeof ludb);
    RUN(test_svg_structure_and_scale);
    RUN(test_pdf_well_formed);
    RUN(test_report_without_signal);
    return test_summary();
}
