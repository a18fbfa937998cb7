/*
 * The 12-lead paper report layout, drawn through a small vector canvas so
 * the SVG and PDF writers share it. The layout is the conventional one of
 * resting-ECG carts (IEC 60601-2-25 recording speeds and gains): 25 mm/s,
 * 10 mm/mV, a 1 mm / 5 mm grid, a 1 mV x 200 ms calibration pulse at the
 * start of every row, three rows of four 2.5 s panels
 *   I   aVR  V1  V4
 *   II  aVL  V2  V5
 *   III aVF  V3  V6
 * (each column shows its own 2.5 s of the same 10 s, as carts print) and a
 * 10 s lead II rhythm strip; a header with patient, acquisition, the global
 * measurements and the statements; a footer with the scales. Page
 * coordinates are millimetres from the top-left corner, landscape.
 */
#include "interp_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define MM_PER_S 25.0
#define MM_PER_MV 10.0
#define ROW_H 37.5
#define CAL_W 10.0
#define STRIP_S 10.0
#define GRID_MINOR 0xF6C8C8u
#define GRID_MAJOR 0xE89090u
#define TRACE 0x000000u

void aiecg__paper_size(aiecg_paper p, double *w_mm, double *h_mm) {
    if (p == AIECG_PAPER_LETTER) {
        *w_mm = 279.4;
        *h_mm = 215.9;
    } else {
        *w_mm = 297.0;
        *h_mm = 210.0;
    }
}

aiecg_report_options aiecg_report_options_default(void) {
    aiecg_report_options o;
    memset(&o, 0, sizeof o);
    o.paper = AIECG_PAPER_A4;
    return o;
}

static int find_lead(const aiecg_record *sig, aiecg_lead l) {
    int i = aiecg_record_find_lead(sig, l);
    if (i < 0 && l == AIECG_LEAD_II) i = aiecg_record_find_lead(sig, AIECG_LEAD_MLII);
    return i;
}

/* Draws samples [s0, s1) of lead li as a polyline starting at x (mm) on baseline y (mm). */
static aiecg_status trace(const aiecg__canvas_ops *ops, void *ctx, const aiecg_record *sig, int li,
                          int64_t s0, int64_t s1, double x, double y, double clip_mv, const char *cls) {
    int64_t n = aiecg_record_nsamples(sig);
    if (s1 > n) s1 = n;
    if (s1 - s0 < 2) return AIECG_OK;
    double fs = aiecg_record_fs(sig);
    const float *d = aiecg_record_lead_data(sig, li);
    int64_t np = s1 - s0;
    double *xy = aiecg__malloc((size_t)np * 2 * sizeof *xy);
    if (!xy) return AIECG_ERR_NOMEM;
    for (int64_t i = 0; i < np; i++) {
        double v = d[s0 + i];
        if (!isfinite(v)) v = 0;
        if (v > clip_mv) v = clip_mv;
        if (v < -clip_mv) v = -clip_mv;
        xy[2 * i] = x + (double)i / fs * MM_PER_S;
        xy[2 * i + 1] = y - v * MM_PER_MV;
    }
    ops->polyline(ctx, xy, (int)np, cls);
    aiecg__free(xy);
    return AIECG_OK;
}

static void line(const aiecg__canvas_ops *ops, void *ctx, double x0, double y0, double x1, double y1,
                 const char *cls) {
    double xy[4] = {x0, y0, x1, y1};
    ops->polyline(ctx, xy, 2, cls);
}

static void fmt_meas(char *buf, size_t size, const aiecg_result *r, aiecg_measurement m) {
    double v = r->meas.value[m];
    if (isfinite(v))
        snprintf(buf, size, "%.0f", v);
    else
        snprintf(buf, size, "-");
}

aiecg_status aiecg__report_draw(const aiecg_result *r, const aiecg_report_options *opt,
                                const aiecg__canvas_ops *ops, void *ctx, aiecg_error *err) {
    aiecg_report_options o = opt ? *opt : aiecg_report_options_default();
    const aiecg_record *sig = r->signal;
    if (!sig)
        return aiecg__error_set(err, AIECG_ERR_INVALID_ARG,
                                "report needs the signal: the record was not analysable or keep_signal was 0");
    double W, H;
    aiecg__paper_size(o.paper, &W, &H);
    double grid_w = CAL_W + STRIP_S * MM_PER_S; /* 260 mm */
    double gx0 = floor((W - grid_w) / 2.0);
    double gy0 = 46.0;
    double grid_h = 4 * ROW_H;
    char buf[512], a[16], b2[16], c[16];

    /* header */
    ops->group(ctx, "header", 1);
    snprintf(buf, sizeof buf, "12-lead ECG  -  %s", r->record_name && r->record_name[0] ? r->record_name : "(unnamed)");
    ops->text(ctx, gx0, 14, 11, 1, buf, "title");
    char age[16] = "unknown";
    if (r->age >= 0) snprintf(age, sizeof age, "%d y", r->age);
    snprintf(buf, sizeof buf, "Patient: %s   Age: %s   Sex: %s", r->patient_id && r->patient_id[0] ? r->patient_id : "-",
             age, r->sex == 'M' ? "male" : r->sex == 'F' ? "female" : "unknown");
    ops->text(ctx, gx0, 19.5, 8, 0, buf, "patient");
    if (r->has_start_time)
        snprintf(buf, sizeof buf, "Recorded: %04d-%02d-%02d %02d:%02d:%02d   Device: %s", r->year, r->month, r->day,
                 r->hour, r->minute, (int)r->second, r->device && r->device[0] ? r->device : "-");
    else
        snprintf(buf, sizeof buf, "Recorded: -   Device: %s", r->device && r->device[0] ? r->device : "-");
    ops->text(ctx, gx0, 23.5, 8, 0, buf, "acquisition");
    snprintf(buf, sizeof buf, "%d leads, %.0f Hz, %.1f s, quality %s", r->nleads, r->fs, r->duration_s,
             aiecg__quality_verdict_name(r->quality.verdict));
    ops->text(ctx, gx0, 27.5, 8, 0, buf, "signal");
    fmt_meas(a, sizeof a, r, AIECG_MEAS_HR);
    fmt_meas(b2, sizeof b2, r, AIECG_MEAS_PR);
    fmt_meas(c, sizeof c, r, AIECG_MEAS_QRS_DUR);
    snprintf(buf, sizeof buf, "HR %s bpm   PR %s ms   QRS %s ms", a, b2, c);
    ops->text(ctx, gx0, 33, 8, 1, buf, "measurements");
    fmt_meas(a, sizeof a, r, AIECG_MEAS_QT);
    fmt_meas(b2, sizeof b2, r, AIECG_MEAS_QTC_BAZETT);
    char pa[16], qa[16], ta[16];
    fmt_meas(pa, sizeof pa, r, AIECG_MEAS_P_AXIS);
    fmt_meas(qa, sizeof qa, r, AIECG_MEAS_QRS_AXIS);
    fmt_meas(ta, sizeof ta, r, AIECG_MEAS_T_AXIS);
    snprintf(buf, sizeof buf, "QT/QTcB %s/%s ms   P/QRS/T axes %s/%s/%s deg", a, b2, pa, qa, ta);
    ops->text(ctx, gx0, 37, 8, 1, buf, "measurements");
    double sx = gx0 + grid_w * 0.48;
    ops->text(ctx, sx, 14, 9, 1, "Interpretation", "statements");
    int maxlines = 7;
    for (int i = 0; i < r->nstmts && i < maxlines; i++) {
        const aiecg_statement *s = &r->stmts[i].pub;
        if (i == maxlines - 1 && r->nstmts > maxlines)
            snprintf(buf, sizeof buf, "... %d more (see JSON report)", r->nstmts - maxlines + 1);
        else if (isfinite(s->probability))
            snprintf(buf, sizeof buf, "%s [%s, %s, p=%.2f]", s->text, s->code, aiecg_statement_source_name(s->source),
                     s->probability);
        else
            snprintf(buf, sizeof buf, "%s [%s, %s: %s]", s->text, s->code, aiecg_statement_source_name(s->source),
                     s->evidence);
        if (strlen(buf) > 110) strcpy(buf + 106, "...]");
        ops->text(ctx, sx, 18.5 + 3.6 * i, 7, 0, buf, "statement");
    }
    if (r->nstmts == 0) ops->text(ctx, sx, 18.5, 7, 0, "(no statement)", "statement");
    ops->group(ctx, "header", 0);

    /* grid */
    ops->group(ctx, "grid-minor", 1);
    ops->line_style(ctx, 0.1, GRID_MINOR);
    for (int i = 0; i <= (int)grid_w; i++)
        if (i % 5) line(ops, ctx, gx0 + i, gy0, gx0 + i, gy0 + grid_h, "grid-minor");
    for (int i = 0; i <= (int)grid_h; i++)
        if (i % 5) line(ops, ctx, gx0, gy0 + i, gx0 + grid_w, gy0 + i, "grid-minor");
    ops->group(ctx, "grid-minor", 0);
    ops->group(ctx, "grid-major", 1);
    ops->line_style(ctx, 0.25, GRID_MAJOR);
    for (int i = 0; i <= (int)grid_w; i += 5) line(ops, ctx, gx0 + i, gy0, gx0 + i, gy0 + grid_h, "grid-major");
    for (int i = 0; i <= (int)grid_h; i += 5) line(ops, ctx, gx0, gy0 + i, gx0 + grid_w, gy0 + i, "grid-major");
    ops->group(ctx, "grid-major", 0);

    /* leads */
    static const aiecg_lead layout[3][4] = {
        {AIECG_LEAD_I, AIECG_LEAD_AVR, AIECG_LEAD_V1, AIECG_LEAD_V4},
        {AIECG_LEAD_II, AIECG_LEAD_AVL, AIECG_LEAD_V2, AIECG_LEAD_V5},
        {AIECG_LEAD_III, AIECG_LEAD_AVF, AIECG_LEAD_V3, AIECG_LEAD_V6},
    };
    double fs = aiecg_record_fs(sig);
    int64_t panel = (int64_t)llround(2.5 * fs);
    double clip = (ROW_H * 0.62) / MM_PER_MV;
    ops->line_style(ctx, 0.3, TRACE);
    for (int row = 0; row < 4; row++) {
        double base = gy0 + ROW_H * row + ROW_H * 0.55;
        double cal[12] = {gx0 + 1, base, gx0 + 2.5, base, gx0 + 2.5, base - 1.0 * MM_PER_MV, gx0 + 7.5,
                          base - 1.0 * MM_PER_MV, gx0 + 7.5, base, gx0 + 9, base};
        snprintf(buf, sizeof buf, "cal-%d", row);
        ops->group(ctx, buf, 1);
        ops->polyline(ctx, cal, 6, "cal");
        ops->group(ctx, buf, 0);
        if (row < 3) {
            for (int col = 0; col < 4; col++) {
                aiecg_lead l = layout[row][col];
                int li = find_lead(sig, l);
                double x = gx0 + CAL_W + col * 2.5 * MM_PER_S;
                snprintf(buf, sizeof buf, "lead-%s", aiecg_lead_name(l));
                ops->group(ctx, buf, 1);
                ops->text(ctx, x + 1, base - ROW_H * 0.42, 8, 1, aiecg_lead_name(l), "lead-label");
                if (col > 0) line(ops, ctx, x, base - 3, x, base + 3, "separator");
                if (li >= 0) {
                    aiecg_status st = trace(ops, ctx, sig, li, col * panel, (col + 1) * panel, x, base, clip, "trace");
                    if (st) return st;
                } else {
                    ops->text(ctx, x + 8, base + 1, 7, 0, "not recorded", "missing");
                }
                ops->group(ctx, buf, 0);
            }
        } else {
            int li = find_lead(sig, AIECG_LEAD_II);
            if (li < 0) li = 0;
            aiecg_lead_info inf;
            aiecg_record_lead_info(sig, li, &inf);
            const char *nm = inf.lead != AIECG_LEAD_UNKNOWN ? aiecg_lead_name(inf.lead) : inf.label;
            snprintf(buf, sizeof buf, "rhythm-%s", nm);
            ops->group(ctx, buf, 1);
            ops->text(ctx, gx0 + CAL_W + 1, base - ROW_H * 0.42, 8, 1, nm, "lead-label");
            int64_t ns = (int64_t)llround(STRIP_S * fs);
            aiecg_status st = trace(ops, ctx, sig, li, 0, ns, gx0 + CAL_W, base, clip, "trace");
            if (st) return st;
            ops->group(ctx, buf, 0);
            if (o.beat_marks && r->beats) {
                ops->group(ctx, "beat-marks", 1);
                for (int64_t i = 0; i < r->nbeats && r->beats[i].sample < ns; i++) {
                    double x = gx0 + CAL_W + (double)r->beats[i].sample / fs * MM_PER_S;
                    line(ops, ctx, x, base - ROW_H * 0.5 + 1, x, base - ROW_H * 0.5 + 3, "beat-mark");
                    char lb[2] = {r->beats[i].label ? r->beats[i].label : 'Q', 0};
                    if (x > gx0 + CAL_W + 6) /* keep clear of the lead label */
                        ops->text(ctx, x - 0.8, base - ROW_H * 0.5 + 6, 6, 0, lb, "beat-label");
                }
                ops->group(ctx, "beat-marks", 0);
            }
            if (o.fiducial_marks && r->waves) {
                ops->group(ctx, "fiducial-marks", 1);
                for (int64_t i = 0; i < r->nbeats && r->beats[i].sample < ns; i++) {
                    const aiecg_waves *w = &r->waves[i];
                    int64_t f[5] = {w->p_on, w->qrs_on, w->qrs_off, w->t_off, w->p_off};
                    for (int k = 0; k < 5; k++) {
                        if (f[k] < 0 || f[k] >= ns) continue;
                        double x = gx0 + CAL_W + (double)f[k] / fs * MM_PER_S;
                        line(ops, ctx, x, base + ROW_H * 0.3, x, base + ROW_H * 0.4, "fiducial");
                    }
                }
                ops->group(ctx, "fiducial-marks", 0);
            }
        }
    }

    /* footer */
    ops->group(ctx, "footer", 1);
    snprintf(buf, sizeof buf,
             "25 mm/s   10 mm/mV   baseline-corrected   |   aiecg %s%s%s   |   Computer interpretation; to be "
             "confirmed by a physician.",
             aiecg_version(), r->model_name ? ", model " : ", rules only", r->model_name ? r->model_name : "");
    ops->text(ctx, gx0, gy0 + grid_h + 5, 7, 0, buf, "footer");
    ops->group(ctx, "footer", 0);
    return AIECG_OK;
}
