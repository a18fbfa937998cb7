/*
 * Delineation scoring against reference wave annotations, the way the
 * delineation literature scores QTDB and LUDB (Martinez et al. 2004;
 * Kalyakulina et al. 2020, "LUDB: a new open-access validation tool for
 * electrocardiogram delineation algorithms", IEEE Access 8:186181): for each
 * fiducial separately, a reference mark and a detected mark of the same kind
 * match when they are within a tolerance (150 ms by default); matched pairs
 * are true positives and contribute their error (detected - reference, ms) to
 * the mean and SD; unmatched reference marks are false negatives, unmatched
 * detections inside the annotated span are false positives.
 * Se = TP / (TP + FN), P+ = TP / (TP + FP).
 */
#include "dsp/dsp_int.h"
#include "aiecg/eval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int64_t fid_get(const aiecg_waves *w, int f) {
    switch (f) {
    case AIECG_FID_P_ON: return w->p_on;
    case AIECG_FID_P_PEAK: return w->p_peak;
    case AIECG_FID_P_OFF: return w->p_off;
    case AIECG_FID_QRS_ON: return w->qrs_on;
    case AIECG_FID_QRS_PEAK: return w->qrs_peak;
    case AIECG_FID_QRS_OFF: return w->qrs_off;
    case AIECG_FID_T_ON: return w->t_on;
    case AIECG_FID_T_PEAK: return w->t_peak;
    case AIECG_FID_T_OFF: return w->t_off;
    default: return -1;
    }
}

static const char *const fid_names[AIECG_FID_COUNT] = {"p_on",   "p_peak",   "p_off",
                                                      "qrs_on", "qrs_peak", "qrs_off",
                                                      "t_on",   "t_peak",   "t_off"};

const char *aiecg_fiducial_name(aiecg_fiducial f) {
    return (f >= 0 && f < AIECG_FID_COUNT) ? fid_names[f] : "?";
}

void aiecg_delin_score_init(aiecg_delin_score *s) {
    if (s) memset(s, 0, sizeof *s);
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

aiecg_status aiecg_delin_score_add(aiecg_delin_score *s, const aiecg_waves *ref, int64_t nref,
                                   const aiecg_waves *det, int64_t ndet, double fs, int64_t span_lo,
                                   int64_t span_hi, double tol_ms) {
    if (!s || nref < 0 || ndet < 0 || (nref && !ref) || (ndet && !det) || !(fs > 0))
        return AIECG_ERR_INVALID_ARG;
    if (!(tol_ms > 0)) tol_ms = 150;
    int64_t tol = (int64_t)llround(tol_ms * fs / 1000.0);
    int64_t *r = aiecg__malloc(sizeof(int64_t) * (size_t)(nref + 1));
    int64_t *d = aiecg__malloc(sizeof(int64_t) * (size_t)(ndet + 1));
    if (!r || !d) {
        aiecg__free(r);
        aiecg__free(d);
        return AIECG_ERR_NOMEM;
    }
    for (int f = 0; f < AIECG_FID_COUNT; f++) {
        int64_t nr = 0, nd = 0;
        for (int64_t i = 0; i < nref; i++) {
            int64_t v = fid_get(&ref[i], f);
            if (v >= 0) r[nr++] = v;
        }
        for (int64_t i = 0; i < ndet; i++) {
            int64_t v = fid_get(&det[i], f);
            if (v >= 0) d[nd++] = v;
        }
        qsort(r, (size_t)nr, sizeof *r, cmp_i64);
        qsort(d, (size_t)nd, sizeof *d, cmp_i64);
        /* both sorted: each reference takes the nearest unused later detection within tol */
        int64_t j = 0, tp = 0, fp = 0;
        for (int64_t i = 0; i < nr; i++) {
            while (j < nd && d[j] < r[i] - tol) {
                if (d[j] >= span_lo && d[j] <= span_hi) fp++;
                j++;
            }
            if (j >= nd || d[j] > r[i] + tol) continue;
            int64_t best = j;
            for (int64_t q = j + 1; q < nd && d[q] <= r[i] + tol; q++)
                if (llabs(d[q] - r[i]) < llabs(d[best] - r[i])) best = q;
            double e = (double)(d[best] - r[i]) * 1000.0 / fs;
            s->err_sum[f] += e;
            s->err_sq[f] += e * e;
            tp++;
            for (int64_t q = j; q < best; q++)
                if (d[q] >= span_lo && d[q] <= span_hi) fp++;
            j = best + 1;
        }
        for (; j < nd; j++)
            if (d[j] >= span_lo && d[j] <= span_hi) fp++;
        s->tp[f] += tp;
        s->fn[f] += nr - tp;
        s->fp[f] += fp;
    }
    aiecg__free(r);
    aiecg__free(d);
    return AIECG_OK;
}

void aiecg_delin_score_get(const aiecg_delin_score *s, aiecg_fiducial f, double *se, double *ppv,
                           double *mean_ms, double *sd_ms) {
    double n = 0, a = NAN, b = NAN, m = NAN, sd = NAN;
    if (s && f >= 0 && f < AIECG_FID_COUNT) {
        n = (double)s->tp[f];
        if (s->tp[f] + s->fn[f] > 0) a = n / (double)(s->tp[f] + s->fn[f]);
        if (s->tp[f] + s->fp[f] > 0) b = n / (double)(s->tp[f] + s->fp[f]);
        if (n > 0) {
            m = s->err_sum[f] / n;
            double v = s->err_sq[f] / n - m * m;
            sd = n > 1 ? sqrt(fmax(0.0, v) * n / (n - 1)) : 0.0;
        }
    }
    if (se) *se = a;
    if (ppv) *ppv = b;
    if (mean_ms) *mean_ms = m;
    if (sd_ms) *sd_ms = sd;
}

/* LUDB code mnemonics: '(' WFON 39, ')' WFOFF 40, 'p' PWAVE 24, 't' TWAVE 27, N 1 (and other beats). */
#define CODE_WFON 39
#define CODE_WFOFF 40
#define CODE_P 24
#define CODE_T 27

aiecg_status aiecg_delin_waves_from_annotations(const aiecg_annotation *ann, int64_t nann,
                                                aiecg_waves **out, int64_t *nout, int64_t *span_lo,
                                                int64_t *span_hi) {
    if (!out || !nout || nann < 0 || (nann && !ann)) return AIECG_ERR_INVALID_ARG;
    *out = NULL;
    *nout = 0;
    int64_t nq = 0;
    for (int64_t i = 0; i < nann; i++)
        if (aiecg_annotation_is_beat(ann[i].code)) nq++;
    aiecg_waves *w = aiecg__malloc(sizeof *w * (size_t)(nq + 1));
    if (!w) return AIECG_ERR_NOMEM;
    int64_t lo = INT64_MAX, hi = -1;
    /* P and T waves are attached to the QRS that follows (P) or precedes (T) them */
    int64_t k = -1;
    int64_t pend_p_on = -1, pend_p = -1, pend_p_off = -1;
    for (int64_t i = 0; i < nann; i++) {
        int c = ann[i].code;
        int is_peak = c == CODE_P || c == CODE_T || aiecg_annotation_is_beat(c);
        if (!is_peak) continue;
        int64_t on = -1, off = -1;
        if (i > 0 && ann[i - 1].code == CODE_WFON) on = ann[i - 1].sample;
        if (i + 1 < nann && ann[i + 1].code == CODE_WFOFF) off = ann[i + 1].sample;
        int64_t first = on >= 0 ? on : ann[i].sample, last = off >= 0 ? off : ann[i].sample;
        if (first < lo) lo = first;
        if (last > hi) hi = last;
        if (c == CODE_P) {
            pend_p_on = on;
            pend_p = ann[i].sample;
            pend_p_off = off;
        } else if (c == CODE_T) {
            if (k >= 0 && w[k].t_peak < 0) {
                w[k].t_on = on;
                w[k].t_peak = ann[i].sample;
                w[k].t_off = off;
            }
        } else {
            k++;
            aiecg_waves z = {-1, -1, -1, on, ann[i].sample, off, -1, -1, -1};
            w[k] = z;
            if (pend_p >= 0) {
                w[k].p_on = pend_p_on;
                w[k].p_peak = pend_p;
                w[k].p_off = pend_p_off;
            }
            pend_p = pend_p_on = pend_p_off = -1;
        }
    }
    *out = w;
    *nout = k + 1;
    if (span_lo) *span_lo = hi >= 0 ? lo : 0;
    if (span_hi) *span_hi = hi;
    return AIECG_OK;
}

static int64_t pick_edge(int64_t *v, int m, int late) {
    if (m == 0) return -1;
    qsort(v, (size_t)m, sizeof *v, cmp_i64);
    if (m >= 3) return late ? v[m - 2] : v[1]; /* second extreme: one stray lead does not decide */
    return late ? v[m - 1] : v[0];
}

aiecg_status aiecg_delin_waves_merge(const aiecg_waves *const *lead_waves, const int64_t *counts,
                                     int nlists, double fs, aiecg_waves *out, int64_t nout) {
    /* out[] holds the template list (e.g. lead II's); each of its waves takes the
     * fiducials of the same wave in every list (peak within 60 ms) */
    if (!lead_waves || !counts || nlists < 1 || nlists > AIECG_MAX_LEADS || (nout && !out))
        return AIECG_ERR_INVALID_ARG;
    int64_t tol = (int64_t)llround(0.06 * fs);
    for (int64_t k = 0; k < nout; k++) {
        int64_t peaks[3] = {out[k].p_peak, out[k].qrs_peak, out[k].t_peak};
        for (int wv = 0; wv < 3; wv++) {
            if (peaks[wv] < 0) continue;
            int64_t ons[AIECG_MAX_LEADS], offs[AIECG_MAX_LEADS];
            int mo = 0, mf = 0;
            for (int l = 0; l < nlists; l++) {
                const aiecg_waves *lw = lead_waves[l];
                for (int64_t i = 0; lw && i < counts[l]; i++) {
                    int64_t p = wv == 0 ? lw[i].p_peak : wv == 1 ? lw[i].qrs_peak : lw[i].t_peak;
                    if (p < 0 || llabs(p - peaks[wv]) > tol) continue;
                    int64_t on = wv == 0 ? lw[i].p_on : wv == 1 ? lw[i].qrs_on : lw[i].t_on;
                    int64_t off = wv == 0 ? lw[i].p_off : wv == 1 ? lw[i].qrs_off : lw[i].t_off;
                    if (on >= 0) ons[mo++] = on;
                    if (off >= 0) offs[mf++] = off;
                    break;
                }
            }
            int64_t on = pick_edge(ons, mo, 0), off = pick_edge(offs, mf, 1);
            if (wv == 0) {
                if (on >= 0) out[k].p_on = on;
                if (off >= 0) out[k].p_off = off;
            } else if (wv == 1) {
                if (on >= 0) out[k].qrs_on = on;
                if (off >= 0) out[k].qrs_off = off;
            } else {
                if (on >= 0) out[k].t_on = on;
                if (off >= 0) out[k].t_off = off;
            }
        }
    }
    return AIECG_OK;
}
