/*
 * Signal quality per lead and per record: non-finite samples, too short
 * (< 2.5 s), flat line, clipping at the ADC rails (from the ADC plane and the
 * converter resolution when the record has them, else long runs at the
 * extremes), lead off, high-frequency noise (RMS of the residual above 40 Hz),
 * in-band noise (RMS deviation of the dominant beats from their median beat,
 * against the median beat's QRS amplitude: the snr_db field), baseline
 * instability (range of the < 0.67 Hz component) and mains interference.
 * The template-residual SNR follows the idea of beat-to-beat consistency
 * used by the PhysioNet/CinC 2011 quality entries (e.g. Clifford et al.,
 * Physiol Meas 33:1419, 2012) in simplified form.
 * LA/RA reversal is suspected only when lead I is inverted on all three
 * counts (P, QRS net deflection) and aVR is upright: conservative by design,
 * since dextrocardia shows the same limb-lead pattern.
 */
#include "dsp/dsp_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE__) || defined(_M_X64)
#include <xmmintrin.h>
#endif

#define MIN_DURATION_S 2.5

typedef struct lead_stats {
    double hf_rms, base_range, qrs_amp, resid_rms, mains_amp;
    double flat_frac, clip_frac, nonfinite_frac;
} lead_stats;

/* Minimum and maximum of x[i] - (sub ? sub[i] : 0) over n >= 1 finite values. The SSE form
   keeps four running minima and maxima (a scalar running min is one 4-cycle chain per
   sample); the values are the same (only the sign of an extreme zero could differ, which no
   range below can see). */
void aiecg__range_f(const float *x, const float *sub, int64_t n, float *mn_out, float *mx_out) {
    float mn = sub ? x[0] - sub[0] : x[0], mx = mn;
    int64_t i = 0;
#if defined(__SSE__) || defined(_M_X64)
    if (n >= 8) {
        __m128 vmn = _mm_set1_ps(mn), vmx = vmn;
        for (; i + 4 <= n; i += 4) {
            __m128 v = _mm_loadu_ps(x + i);
            if (sub) v = _mm_sub_ps(v, _mm_loadu_ps(sub + i));
            vmn = _mm_min_ps(vmn, v);
            vmx = _mm_max_ps(vmx, v);
        }
        float a[4], b[4];
        _mm_storeu_ps(a, vmn);
        _mm_storeu_ps(b, vmx);
        for (int k = 0; k < 4; k++) {
            if (a[k] < mn) mn = a[k];
            if (b[k] > mx) mx = b[k];
        }
    }
#endif
    for (; i < n; i++) {
        float v = sub ? x[i] - sub[i] : x[i];
        if (v < mn) mn = v;
        if (v > mx) mx = v;
    }
    *mn_out = mn;
    *mx_out = mx;
}

/* Goertzel amplitudes at fa and fb over the first n samples of leads 0..nl-1 of rec
   (non-finite samples read as 0, as lead_prepare's copy has them): two recurrences per lead,
   four leads side by side, so the loop is not bound by one recurrence's multiply-add latency.
   The arithmetic per lead is that of the one-lead loop it replaced, so the bits are the same. */
static void goertzel_amp2_leads(const aiecg_record *rec, int nl, int64_t n, double fs, double fa, double fb,
                                double *aa, double *ab) {
    double ca = 2 * cos(2 * 3.14159265358979323846 * fa / fs), cb = 2 * cos(2 * 3.14159265358979323846 * fb / fs);
    for (int l0 = 0; l0 < nl; l0 += 4) {
        int m = nl - l0 < 4 ? nl - l0 : 4;
        const float *x[4];
        double a1[4] = {0}, a2[4] = {0}, b1[4] = {0}, b2[4] = {0};
        for (int j = 0; j < 4; j++) x[j] = aiecg_record_lead_data(rec, l0 + (j < m ? j : 0));
        for (int64_t i = 0; i < n; i++)
            for (int j = 0; j < 4; j++) {
                float v = x[j][i];
                v = isfinite(v) ? v : 0.0f;
                double a0 = v + ca * a1[j] - a2[j], b0 = v + cb * b1[j] - b2[j];
                a2[j] = a1[j];
                a1[j] = a0;
                b2[j] = b1[j];
                b1[j] = b0;
            }
        for (int j = 0; j < m; j++) {
            double pa = a1[j] * a1[j] + a2[j] * a2[j] - ca * a1[j] * a2[j];
            double pb = b1[j] * b1[j] + b2[j] * b2[j] - cb * b1[j] * b2[j];
            aa[l0 + j] = 2 * sqrt(fmax(pa, 0)) / (double)n;
            ab[l0 + j] = 2 * sqrt(fmax(pb, 0)) / (double)n;
        }
    }
}

/* Fraction of samples in runs (>= run_min) at the extremes: ADC rails when known, else value extremes.
   all_finite: x holds no NaN or infinity (the extremes can then be found four lanes at a time). */
static double clip_fraction(const aiecg_record *rec, int l, const float *x, int64_t n, int all_finite) {
    const int32_t *adc = aiecg_record_lead_adc(rec, l);
    aiecg_lead_info li;
    int have_rails = 0;
    int64_t lo = 0, hi = 0;
    if (adc && aiecg_record_lead_info(rec, l, &li) == AIECG_OK && li.adc_resolution > 1 && li.adc_resolution < 32) {
        int64_t half = (int64_t)1 << (li.adc_resolution - 1);
        lo = li.adc_zero - half;
        hi = li.adc_zero + half - 1;
        have_rails = 1;
    }
    if (have_rails && n > 0) {
        /* no sample at a rail (the usual case): no run at one either, the fraction is 0 */
        int32_t amin = adc[0], amax = adc[0];
        for (int64_t i = 1; i < n; i++) {
            amin = adc[i] < amin ? adc[i] : amin;
            amax = adc[i] > amax ? adc[i] : amax;
        }
        if (amin > lo && amax < hi) return 0;
    }
    float vmin = INFINITY, vmax = -INFINITY;
    if (all_finite && n > 0) {
        aiecg__range_f(x, NULL, n, &vmin, &vmax); /* an extreme zero's sign cannot matter: only == and > below */
    } else {
        for (int64_t i = 0; i < n; i++)
            if (isfinite(x[i])) {
                if (x[i] < vmin) vmin = x[i];
                if (x[i] > vmax) vmax = x[i];
            }
    }
    if (!(vmax > vmin)) return 0;
    int64_t clipped = 0, run = 0;
    const int run_min = 3;
    for (int64_t i = 0; i < n; i++) {
        int at;
        if (have_rails)
            at = adc[i] <= lo || adc[i] >= hi;
        else
            at = x[i] == vmin || x[i] == vmax;
        if (at && i > 0 && (have_rails ? adc[i] == adc[i - 1] : x[i] == x[i - 1]))
            run++;
        else
            run = at ? 1 : 0;
        if (run == run_min)
            clipped += run_min;
        else if (run > run_min)
            clipped++;
    }
    return (double)clipped / (double)n;
}

/* Lead l with non-finite samples read as 0 into tmp (n floats); returns the count replaced. */
static int64_t lead_clean(const aiecg_record *rec, int l, float *tmp) {
    int64_t n = aiecg_record_nsamples(rec), nonfinite = 0;
    const float *x = aiecg_record_lead_data(rec, l);
    for (int64_t i = 0; i < n; i++) {
        tmp[i] = isfinite(x[i]) ? x[i] : 0.0f;
        nonfinite += !isfinite(x[i]);
    }
    return nonfinite;
}

/* First pass over lead l: everything up to the HF residual's low-pass, which runs on all leads
   at once afterwards (lp). tmp is n floats of scratch; hp is the baseline-removed lead (already
   filtered, for all leads at once), hf receives the signal whose > 40 Hz residual is measured
   and lp a copy of it to be low-passed. */
static aiecg_status lead_prepare(const aiecg_record *rec, int l, float *tmp, const float *hp, float *hf, float *lp,
                                 double a50, double a60, lead_stats *s) {
    double fs = aiecg_record_fs(rec);
    int64_t n = aiecg_record_nsamples(rec);
    const float *x = aiecg_record_lead_data(rec, l);
    memset(s, 0, sizeof *s);
    int64_t nonfinite = lead_clean(rec, l, tmp);
    s->nonfinite_frac = n ? (double)nonfinite / n : 0;
    s->clip_frac = clip_fraction(rec, l, x, n, nonfinite == 0);
    /* flat: 1-s windows whose range is below 20 uV */
    int64_t win = (int64_t)fs > 0 ? (int64_t)fs : 1, nwin = 0, nflat = 0; /* >= 1: fs < 1 Hz must not hang */
    for (int64_t a = 0; a + win <= n; a += win) {
        float mn, mx;
        aiecg__range_f(tmp + a, NULL, win, &mn, &mx);
        nwin++;
        nflat += (mx - mn) < 0.02f;
    }
    s->flat_frac = nwin ? (double)nflat / nwin : 1;
    /* mains amplitude over up to 10 s (a50, a60: goertzel_amp2_leads, 0 at fs <= 110 Hz) */
    if (!(fs > 130)) a60 = 0;
    s->mains_amp = fmax(a50, a60);
    /* baseline: the part the baseline filter removes */
    aiecg_status st = AIECG_OK;
    double brange = 0;
    int64_t w2 = (int64_t)(2 * fs) > 0 ? (int64_t)(2 * fs) : 1;
    for (int64_t a = 0; a < n; a += w2) {
        float mn, mx;
        aiecg__range_f(tmp + a, hp + a, (a + w2 < n ? a + w2 : n) - a, &mn, &mx);
        if (mx - mn > brange) brange = mx - mn;
    }
    s->base_range = brange;
    /* HF residual above 40 Hz (after removing mains) */
    if (fs > 100) {
        memcpy(hf, hp, (size_t)n * sizeof *hf);
        if (s->mains_amp > 0.005) {
            st = aiecg_filter_powerline(hf, n, fs, a60 > a50 ? 60 : 50);
            if (st) return st;
        }
        memcpy(lp, hf, (size_t)n * sizeof *lp);
    }
    return AIECG_OK;
}

/* Second pass: HF residual (lp now low-passed) and the template residual on hp. */
static aiecg_status lead_finish(const aiecg_record *rec, const aiecg_beat *beats, int64_t nb, const float *hp,
                                const float *hf, const float *lp, float *med, lead_stats *s) {
    double fs = aiecg_record_fs(rec);
    int64_t n = aiecg_record_nsamples(rec);
    if (fs > 100) {
        double e = 0;
        for (int64_t i = 0; i < n; i++) e += (double)(hf[i] - lp[i]) * (hf[i] - lp[i]);
        s->hf_rms = n ? sqrt(e / n) : 0;
    }
    /* template residual on dominant beats */
    s->qrs_amp = NAN;
    s->resid_rms = NAN;
    if (nb >= 3) {
        int pre = (int)lrint(0.25 * fs), post = (int)lrint(0.40 * fs), len = pre + post;
        int used = 0;
        /* the median beat of this lead alone: a one-lead view through the shared helper is
           not available, so compute it here on the baseline-removed copy */
        /* supraventricular beats (N, S): the dominant family alone would keep only the
           cleanest beats of a noisy stretch and hide the noise */
#define QBEAT(b) (((b).label == 'N' || (b).label == 'S') && (b).sample - pre >= 0 && (b).sample + post <= n)
        int64_t cnt = 0;
        for (int64_t i = 0; i < nb; i++)
            if (QBEAT(beats[i])) cnt++;
        if (cnt >= 3) {
            int64_t use = cnt < 200 ? cnt : 200, k = 0, j = 0;
            int64_t *sel = aiecg__malloc((size_t)use * sizeof *sel);
            if (!sel) return AIECG_ERR_NOMEM;
            for (int64_t i = 0; i < nb && k < use; i++)
                if (QBEAT(beats[i])) {
                    if (j++ * use / cnt == k) sel[k++] = beats[i].sample;
                }
            use = k;
            const float *rows[200];
            for (int64_t q = 0; q < use; q++) rows[q] = hp + sel[q] - pre;
            (void)aiecg__median_rows(rows, (int)use, len, med); /* use <= 200: allocates nothing */
            double e = 0, mn = INFINITY, mx = -INFINITY;
            for (int64_t q = 0; q < use; q++)
                for (int t = 0; t < len; t++) {
                    double r = hp[sel[q] - pre + t] - med[t];
                    e += r * r;
                }
            int q0 = pre - (int)lrint(0.06 * fs), q1 = pre + (int)lrint(0.06 * fs);
            for (int t = q0; t <= q1; t++) {
                if (med[t] < mn) mn = med[t];
                if (med[t] > mx) mx = med[t];
            }
            s->resid_rms = sqrt(e / ((double)use * len));
            s->qrs_amp = mx - mn;
            used = (int)use;
            aiecg__free(sel);
        }
        (void)used;
#undef QBEAT
    }
    return AIECG_OK;
}

/* Net QRS deflection and P level of a lead's median beat (baseline at PR segment); clean is
   the lead with non-finite samples zeroed and the baseline removed, as aiecg__median_beat does. */
static int lead_polarity(const aiecg_record *rec, const aiecg_beat *beats, int64_t nb, const float *clean,
                         float *qrs_max, float *qrs_min, float *p_mean) {
    double fs = aiecg_record_fs(rec);
    int pre = (int)lrint(0.30 * fs), post = (int)lrint(0.10 * fs), len = pre + post;
    float *out = aiecg__malloc((size_t)len * sizeof *out);
    if (!out) return 0;
    int used = 0;
    int ok = aiecg__median_beat_lead(clean, aiecg_record_nsamples(rec), beats, nb, 0, pre, post, out, &used) ==
                 AIECG_OK &&
             used >= 3;
    if (ok) {
        const float *m = out;
        float base = m[pre - (int)lrint(0.04 * fs)];
        float mx = -INFINITY, mn = INFINITY;
        for (int t = pre - (int)lrint(0.05 * fs); t < len; t++) {
            if (m[t] - base > mx) mx = m[t] - base;
            if (m[t] - base < mn) mn = m[t] - base;
        }
        double ps = 0;
        int np = 0;
        for (int t = pre - (int)lrint(0.22 * fs); t < pre - (int)lrint(0.08 * fs); t++, np++) ps += m[t] - base;
        *qrs_max = mx;
        *qrs_min = mn;
        *p_mean = np ? (float)(ps / np) : 0;
    }
    aiecg__free(out);
    return ok;
}

/* beats NULL: detect them here (and free them); else the caller's, kept. */
/* clean: the baseline-removed leads of rec (non-finite zeroed, then aiecg_filter_baseline), or NULL
   to compute them here. */
static aiecg_status assess(const aiecg_record *rec, const aiecg_beat *given, int64_t ngiven, int detect,
                           const float *const *clean, aiecg_quality *out) {
    if (!rec || !out || (ngiven > 0 && !given) || ngiven < 0) return AIECG_ERR_INVALID_ARG;
    memset(out, 0, sizeof *out);
    int nl = aiecg_record_nleads(rec);
    int64_t n = aiecg_record_nsamples(rec);
    double fs = aiecg_record_fs(rec);
    out->nleads = nl;
    out->limb_reversal = NULL;
    if ((double)n / fs < MIN_DURATION_S) {
        out->flags |= AIECG_QUALITY_TOO_SHORT;
        for (int l = 0; l < nl; l++) {
            out->lead[l].flags = AIECG_QUALITY_TOO_SHORT;
            out->lead[l].verdict = AIECG_QUALITY_UNUSABLE;
            out->lead[l].noise_mv = NAN;
            out->lead[l].snr_db = NAN;
        }
        out->verdict = AIECG_QUALITY_UNUSABLE;
        return AIECG_OK;
    }
    aiecg_beat *owned = NULL;
    const aiecg_beat *beats = given;
    int64_t nb = ngiven;
    aiecg_status st = AIECG_OK;
    if (detect) {
        st = aiecg_qrs_detect(rec, NULL, &owned, &nb, NULL);
        if (st == AIECG_ERR_NOMEM) return st;
        if (st) nb = 0; /* e.g. fs below what the detector supports: judged without beats */
        st = AIECG_OK;
        beats = owned;
    }
    /* the baseline-removed leads I and aVR are kept from lead_analyse for the reversal check
       (their median beats are what aiecg__median_beat would give, without filtering 12 leads twice) */
    int li = aiecg_record_find_lead(rec, AIECG_LEAD_I), lr = aiecg_record_find_lead(rec, AIECG_LEAD_AVR);
    /* scratch, then per lead: baseline-removed (unless given), HF input, its low-passed copy */
    const size_t per = clean ? 2 : 3;
    float *tmp = aiecg__malloc((size_t)n * (1 + per * (size_t)(nl > 0 ? nl : 1)) * sizeof *tmp);
    float *med = aiecg__malloc((size_t)(fs * 0.7 + 4) * sizeof *med);
    if (!tmp || !med) {
        aiecg__free(tmp);
        aiecg__free(med);
        aiecg_free(owned);
        return AIECG_ERR_NOMEM;
    }
    const float *hp[AIECG_MAX_LEADS];
    float *hpw[AIECG_MAX_LEADS], *hf[AIECG_MAX_LEADS], *lps[AIECG_MAX_LEADS];
    float *next = tmp + n;
    for (int l = 0; l < nl; l++) {
        if (!clean) {
            hpw[l] = next;
            hp[l] = next;
            next += n;
        } else {
            hp[l] = clean[l];
        }
        hf[l] = next;
        lps[l] = next + n;
        next += 2 * n;
    }
    if (!clean) {
        /* baseline: the part the baseline filter removes, all leads at once */
        for (int l = 0; l < nl; l++) (void)lead_clean(rec, l, hpw[l]);
        st = aiecg__filter_baseline_multi(hpw, nl, n, fs);
    }
    const float *keep_i = li >= 0 ? hp[li] : NULL, *keep_r = lr >= 0 ? hp[lr] : NULL;
    int n_bad = 0, n_poor = 0, n_notgood = 0;
    lead_stats stats[AIECG_MAX_LEADS];
    double g50[AIECG_MAX_LEADS] = {0}, g60[AIECG_MAX_LEADS] = {0};
    int64_t m10 = n < (int64_t)(10 * fs) ? n : (int64_t)(10 * fs);
    if (fs > 110 && nl > 0) goertzel_amp2_leads(rec, nl, m10, fs, 50, 60, g50, g60);
    for (int l = 0; l < nl && !st; l++) st = lead_prepare(rec, l, tmp, hp[l], hf[l], lps[l], g50[l], g60[l], &stats[l]);
    if (!st && fs > 100) st = aiecg__filter_lowpass_multi(lps, nl, n, fs, 40);
    for (int l = 0; l < nl && !st; l++) {
        lead_stats s = stats[l];
        st = lead_finish(rec, beats, nb, hp[l], hf[l], lps[l], med, &s);
        if (st) break;
        aiecg_lead_quality *q = &out->lead[l];
        uint32_t f = 0;
        if (s.nonfinite_frac > 0) f |= AIECG_QUALITY_NONFINITE;
        if (s.flat_frac >= 0.5) f |= AIECG_QUALITY_FLAT;
        if (s.clip_frac > 0.005) f |= AIECG_QUALITY_CLIPPED;
        if (s.flat_frac >= 0.9 || s.clip_frac > 0.2) f |= AIECG_QUALITY_LEAD_OFF;
        double snr = isfinite(s.qrs_amp) && s.resid_rms > 0 ? 20 * log10(s.qrs_amp / s.resid_rms) : NAN;
        if (s.hf_rms > 0.05 || (isfinite(s.qrs_amp) && s.hf_rms > 0.1 * s.qrs_amp)) f |= AIECG_QUALITY_HF_NOISE;
        if (s.base_range > 1.5) f |= AIECG_QUALITY_BASELINE;
        if (s.mains_amp > 0.05) f |= AIECG_QUALITY_POWERLINE;
        q->flags = f;
        q->noise_mv = (float)s.hf_rms;
        q->snr_db = (float)snr;
        aiecg_quality_verdict v = AIECG_QUALITY_GOOD;
        if (f & (AIECG_QUALITY_HF_NOISE | AIECG_QUALITY_BASELINE | AIECG_QUALITY_POWERLINE)) v = AIECG_QUALITY_ACCEPTABLE;
        if (isfinite(snr) && snr < 15) v = AIECG_QUALITY_ACCEPTABLE;
        if ((f & AIECG_QUALITY_CLIPPED) || (isfinite(snr) && snr < 10) || !isfinite(snr) ||
            s.nonfinite_frac > 0.01)
            v = AIECG_QUALITY_POOR;
        if ((f & (AIECG_QUALITY_FLAT | AIECG_QUALITY_LEAD_OFF)) || s.nonfinite_frac > 0.2) v = AIECG_QUALITY_UNUSABLE;
        q->verdict = v;
        out->flags |= f;
        n_bad += v == AIECG_QUALITY_UNUSABLE;
        n_poor += v >= AIECG_QUALITY_POOR;
        n_notgood += v != AIECG_QUALITY_GOOD;
    }
    if (!st) {
        if (n_bad == nl)
            out->verdict = AIECG_QUALITY_UNUSABLE;
        else if (2 * n_poor > nl || (n_poor && n_notgood == nl) || nb < 2)
            out->verdict = AIECG_QUALITY_POOR;
        else if (n_notgood)
            out->verdict = AIECG_QUALITY_ACCEPTABLE;
        else
            out->verdict = AIECG_QUALITY_GOOD;
        /* LA/RA reversal: lead I inverted (QRS and P) with aVR upright */
        if (li >= 0 && lr >= 0 && nb >= 3 && out->lead[li].verdict <= AIECG_QUALITY_ACCEPTABLE) {
            float imx, imn, ip, rmx, rmn, rp;
            if (lead_polarity(rec, beats, nb, keep_i, &imx, &imn, &ip) &&
                lead_polarity(rec, beats, nb, keep_r, &rmx, &rmn, &rp)) {
                int i_inverted = -imn > 1.5f * imx && -imn > 0.1f && ip < 0;
                int avr_upright = rmx > 1.5f * -rmn && rmx > 0.1f && rp > 0;
                if (i_inverted && avr_upright) {
                    out->limb_reversal_suspected = 1;
                    out->limb_reversal = "LA/RA reversal";
                }
            }
        }
    }
    aiecg__free(tmp);
    aiecg__free(med);
    aiecg_free(owned);
    return st;
}

aiecg_status aiecg_quality_assess(const aiecg_record *rec, aiecg_quality *out) {
    return assess(rec, NULL, 0, 1, NULL, out);
}

aiecg_status aiecg_quality_assess_beats(const aiecg_record *rec, const aiecg_beat *beats, int64_t nbeats,
                                        aiecg_quality *out) {
    return assess(rec, beats, nbeats, 0, NULL, out);
}

aiecg_status aiecg__quality_assess_clean(const aiecg_record *rec, const aiecg_beat *beats, int64_t nbeats,
                                         const float *const *clean, aiecg_quality *out) {
    if (!clean) return AIECG_ERR_INVALID_ARG;
    for (int l = 0; rec && l < aiecg_record_nleads(rec); l++)
        if (!clean[l]) return AIECG_ERR_INVALID_ARG;
    return assess(rec, beats, nbeats, 0, clean, out);
}
