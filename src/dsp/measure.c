/*
 * Global ECG measurements on the representative beat, the way 12-lead
 * interpretation programs report them (IEC 60601-2-25 "global" intervals
 * measured on a representative complex, CSE Working Party 1985): a
 * sample-wise median beat per lead over the dominant beats, on signals whose
 * baseline is a piecewise-linear line through each beat's PQ level (the knot
 * method of Meyer & Keiser 1977, linear instead of cubic); one multi-lead
 * delineation of that median beat (delineate.c) gives P, QRS and T
 * boundaries common to all leads; amplitudes are read per lead relative to the
 * PQ level; rates and RR statistics come from all beats.
 *
 * Formulas: QTc Bazett QT/RR^(1/2), Fridericia QT/RR^(1/3), Framingham
 * QT + 154 ms (1 - RR) (Sagie et al. 1992), Hodges QT + 1.75 (HR - 60) ms
 * (RR in s). Frontal axes from net areas in I and aVF under the Einthoven
 * model (I = E cos a, aVF = E sin a * sqrt(3)/2). Sokolow-Lyon S V1 +
 * max(R V5, R V6); Cornell voltage R aVL + S V3 (magnitudes, mV).
 * Anything that cannot be measured is NaN with a static reason string.
 */
#include "dsp/dsp_int.h"
#include "core/sbuf.h"

/* delineate.c: low-rate records are measured on a 500 Hz copy */
aiecg_status aiecg__delin_upsample(const aiecg_record *rec, const aiecg_beat *beats, int64_t nbeats,
                                   aiecg_record **up, aiecg_beat **ubeats, aiecg_error *err);
void aiecg__delin_map_back(aiecg_waves *w, int64_t n, double fs, int64_t nsamples);
int aiecg__delin_needs_upsampling(double fs);

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const meas_keys[AIECG_MEAS_COUNT] = {
#define K(e, k, u) k,
    AIECG_MEASUREMENT_LIST(K)
#undef K
};
static const char *const meas_units[AIECG_MEAS_COUNT] = {
#define U(e, k, u) u,
    AIECG_MEASUREMENT_LIST(U)
#undef U
};

const char *aiecg_measurement_key(aiecg_measurement m) {
    return (m >= 0 && m < AIECG_MEAS_COUNT) ? meas_keys[m] : "?";
}
const char *aiecg_measurement_unit(aiecg_measurement m) {
    return (m >= 0 && m < AIECG_MEAS_COUNT) ? meas_units[m] : "?";
}

void aiecg_measurements_free(aiecg_measurements *m) {
    if (!m) return;
    aiecg__free(m->median_beats);
    m->median_beats = NULL;
}

/* Beats of one median are capped (spread over the record) to bound the cost. */
#define MEDIAN_MAX_BEATS 64

static void set_nan(aiecg_measurements *out, aiecg_measurement m, const char *why) {
    out->value[m] = NAN;
    if (!out->reason[m]) out->reason[m] = why;
}

static void set_val(aiecg_measurements *out, aiecg_measurement m, double v, const char *why) {
    if (isfinite(v)) {
        out->value[m] = v;
        out->reason[m] = NULL;
    } else {
        set_nan(out, m, why);
    }
}

/* Median of x[n] (reorders x): exact, by selection (was an O(n^2) insertion sort). */
static float median_f(float *x, int n) { return aiecg__median_inplace(x, n); }

/* All finite and a range above 10 uV (below that a lead is flat). The finiteness test on the bits
   and the extremes in four SSE lanes vectorise; a scalar running min is one latency-bound chain
   per sample. The range is the same (an extreme zero's sign cannot change mx - mn > 0.01). */
static int lead_usable(const float *x, int64_t n) {
    if (n <= 0) return 0;
    uint32_t bad = 0;
    for (int64_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, x + i, sizeof u);
        bad |= (u & 0x7fffffffu) >= 0x7f800000u;
    }
    if (bad) return 0;
    float mn, mx;
    aiecg__range_f(x, NULL, n, &mn, &mx);
    return mx - mn > 0.01f;
}

static double net_area(const float *x, int64_t a, int64_t b) {
    double s = 0;
    for (int64_t i = a; i <= b; i++) s += x[i];
    return s;
}

/* Frontal axis (degrees, -180..180] from values in I and aVF. */
static double axis_deg(double i_val, double avf_val) {
    if (!(fabs(i_val) > 0 || fabs(avf_val) > 0)) return NAN;
    return atan2(avf_val * 2.0 / sqrt(3.0), i_val) * (180.0 / 3.14159265358979323846);
}

aiecg_status aiecg_measure(const aiecg_record *rec, const aiecg_beat *beats, int64_t nbeats,
                           aiecg_measurements *out, aiecg_waves **waves, aiecg_error *err) {
    if (waves) *waves = NULL;
    if (!rec || !out || nbeats < 0 || (nbeats > 0 && !beats))
        return aiecg__error_set(err, AIECG_ERR_INVALID_ARG, "aiecg_measure: invalid argument");
    memset(out, 0, sizeof *out);
    if (aiecg__delin_needs_upsampling(aiecg_record_fs(rec)) && nbeats > 0) {
        aiecg_record *up = NULL;
        aiecg_beat *ub = NULL;
        aiecg_status st = aiecg__delin_upsample(rec, beats, nbeats, &up, &ub, err);
        if (st != AIECG_OK) return st;
        st = aiecg_measure(up, ub, nbeats, out, waves, err);
        if (st == AIECG_OK && waves && *waves) aiecg__delin_map_back(*waves, nbeats, aiecg_record_fs(rec), aiecg_record_nsamples(rec));
        aiecg_record_free(up);
        aiecg__free(ub);
        return st;
    }
    int nl = aiecg_record_nleads(rec);
    int64_t ns = aiecg_record_nsamples(rec);
    double fs = aiecg_record_fs(rec);
    out->nleads = nl;
    out->median_fs = fs;
    for (int m = 0; m < AIECG_MEAS_COUNT; m++) out->value[m] = NAN;
    for (int l = 0; l < nl; l++) {
        aiecg_lead_amplitudes a = {NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN};
        out->lead[l] = a;
    }
    aiecg_waves none = {-1, -1, -1, -1, -1, -1, -1, -1, -1};
    out->median = none;

    aiecg_waves *w = NULL;
    aiecg_status st = aiecg_delineate(rec, beats, nbeats, &w, err);
    if (st != AIECG_OK) return st;

    /* ---- rates from all beats */
    const char *why_rr = "fewer than 2 beats";
    if (nbeats >= 2) {
        double *rr = aiecg__malloc(sizeof(double) * (size_t)(nbeats - 1));
        if (!rr) {
            aiecg__free(w);
            return aiecg__error_set(err, AIECG_ERR_NOMEM, "aiecg_measure: out of memory");
        }
        double s = 0, s2 = 0, mn = INFINITY, mx = 0;
        int64_t m = 0;
        for (int64_t k = 1; k < nbeats; k++) {
            double v = (double)(beats[k].sample - beats[k - 1].sample) * 1000.0 / fs;
            if (!(v > 0)) continue;
            rr[m++] = v;
            s += v;
            s2 += v * v;
            if (v < mn) mn = v;
            if (v > mx) mx = v;
        }
        if (m >= 1) {
            double mean = s / (double)m;
            set_val(out, AIECG_MEAS_RR_MEAN, mean, why_rr);
            set_val(out, AIECG_MEAS_RR_SD, m > 1 ? sqrt(fmax(0.0, (s2 - s * mean) / (double)(m - 1))) : NAN,
                    "fewer than 3 beats");
            set_val(out, AIECG_MEAS_RR_MIN, mn, why_rr);
            set_val(out, AIECG_MEAS_RR_MAX, mx, why_rr);
            set_val(out, AIECG_MEAS_HR, 60000.0 / mean, why_rr);
        }
        aiecg__free(rr);
    }
    for (int m = AIECG_MEAS_HR; m <= AIECG_MEAS_RR_MAX; m++)
        if (m != AIECG_MEAS_ATRIAL_RATE && !isfinite(out->value[m])) set_nan(out, (aiecg_measurement)m, why_rr);

    /* ---- dominant beats with a delineated QRS */
    int64_t *dom = aiecg__malloc(sizeof(int64_t) * (size_t)(nbeats + 1));
    if (!dom) {
        aiecg__free(w);
        return aiecg__error_set(err, AIECG_ERR_NOMEM, "aiecg_measure: out of memory");
    }
    int64_t nd = 0, nlab = 0;
    for (int64_t k = 0; k < nbeats; k++)
        if (beats[k].label == 'N' || beats[k].family == 0) nlab++;
    for (int64_t k = 0; k < nbeats; k++) {
        int dominant = nlab == 0 || beats[k].label == 'N' || beats[k].family == 0;
        if (dominant && w[k].qrs_on >= 0 && w[k].qrs_off >= 0) dom[nd++] = k;
    }

    int usable[AIECG_MAX_LEADS];
    int nusable = 0;
    for (int l = 0; l < nl; l++) nusable += usable[l] = lead_usable(aiecg_record_lead_data(rec, l), ns);

    const char *why_med = NULL;
    if (nusable == 0)
        why_med = "signal flat or not finite in every lead";
    else if (nd < 2)
        why_med = "fewer than 2 dominant beats with a delineated QRS";

    /* windows are aligned on each beat's delineated QRS onset (less jitter than the detector's
     * fiducial, which may sit on R in one beat and S in the next); the onset lands at `pre` */
    int pre = (int)lround(0.45 * fs), post = (int)lround(0.75 * fs), L = pre + post;
#define ANCHOR(j) (w[dom[j]].qrs_on)
    float *med = NULL;
    if (!why_med) {
        med = aiecg__calloc((size_t)nl * (size_t)L, sizeof(float));
        float *rows = aiecg__malloc(sizeof(float) * MEDIAN_MAX_BEATS * (size_t)L);
        double *kv = aiecg__malloc(sizeof(double) * (size_t)nd);
        if (!med || !kv || !rows) {
            aiecg__free(med);
            aiecg__free(rows);
            aiecg__free(kv);
            aiecg__free(dom);
            aiecg__free(w);
            return aiecg__error_set(err, AIECG_ERR_NOMEM, "aiecg_measure: out of memory");
        }
        /* beats whose window fits, evenly spread, at most MEDIAN_MAX_BEATS */
        int64_t sel[MEDIAN_MAX_BEATS];
        int nsel = 0;
        int64_t fit = 0;
        for (int64_t j = 0; j < nd; j++) {
            int64_t r = ANCHOR(j);
            if (r - pre >= 0 && r + post <= ns) fit++;
        }
        double stride = fit > MEDIAN_MAX_BEATS ? (double)fit / MEDIAN_MAX_BEATS : 1.0;
        double next = 0;
        int64_t idx = 0;
        for (int64_t j = 0; j < nd && nsel < MEDIAN_MAX_BEATS; j++) {
            int64_t r = ANCHOR(j);
            if (!(r - pre >= 0 && r + post <= ns)) continue;
            if ((double)idx >= next) {
                sel[nsel++] = j;
                next += stride;
            }
            idx++;
        }
        if (nsel < 2) {
            why_med = "fewer than 2 dominant beats fit a representative-beat window";
        } else {
            int pq0 = (int)lround(0.020 * fs), pq1 = (int)lround(0.005 * fs);
            for (int l = 0; l < nl; l++) {
                if (!usable[l]) continue;
                const float *x = aiecg_record_lead_data(rec, l);
                /* PQ knots of the dominant beats: mean just before each QRS onset */
                for (int64_t j = 0; j < nd; j++) {
                    int64_t on = w[dom[j]].qrs_on, a = on - pq0, b = on - pq1;
                    if (a < 0) a = 0;
                    if (b < a) b = a;
                    kv[j] = net_area(x, a, b) / (double)(b - a + 1);
                }
                float *ml = med + (size_t)l * (size_t)L;
                /* rows[s][i]: beat s's baseline-corrected sample i, then the sample-wise median */
                for (int i = 0; i < L; i++) {
                    for (int s = 0; s < nsel; s++) {
                        int64_t j = sel[s], r = ANCHOR(j), t = r - pre + i;
                        /* baseline: line through the knots on either side of t */
                        int64_t j0 = j, j1 = j;
                        int64_t kt0 = w[dom[j]].qrs_on;
                        if (t < kt0 && j > 0) j0 = j - 1;
                        if (t >= kt0 && j + 1 < nd) j1 = j + 1;
                        double t0 = (double)w[dom[j0]].qrs_on, t1 = (double)w[dom[j1]].qrs_on;
                        double base = t1 > t0 ? kv[j0] + (kv[j1] - kv[j0]) * ((double)t - t0) / (t1 - t0)
                                              : kv[j];
                        rows[(size_t)s * L + i] = (float)(x[t] - base);
                    }
                }
                const float *rp[MEDIAN_MAX_BEATS];
                for (int s = 0; s < nsel; s++) rp[s] = rows + (size_t)s * L;
                (void)aiecg__median_rows(rp, nsel, L, ml); /* nsel <= 64: allocates nothing, cannot fail */
            }
            out->nbeats = nsel;
        }
        aiecg__free(rows);
        aiecg__free(kv);
        if (why_med) {
            aiecg__free(med);
            med = NULL;
        }
    }

    /* ---- delineation of the representative beat */
    aiecg_waves mw = none;
    if (!why_med) {
        const float *ml[AIECG_MAX_LEADS];
        int m = 0;
        for (int l = 0; l < nl; l++)
            if (usable[l]) ml[m++] = med + (size_t)l * (size_t)L;
        /* the fiducial handed to the delineator: the usual onset-to-fiducial distance */
        float d[MEDIAN_MAX_BEATS];
        int nd2 = 0;
        for (int64_t j = 0; j < nd && nd2 < MEDIAN_MAX_BEATS; j++) d[nd2++] = (float)(beats[dom[j]].sample - ANCHOR(j));
        int64_t fid = pre + (int64_t)lround(median_f(d, nd2));
        if (fid < pre) fid = pre;
        if (fid >= L) fid = L - 1;
        double rr = isfinite(out->value[AIECG_MEAS_RR_MEAN]) ? out->value[AIECG_MEAS_RR_MEAN] : 1000.0;
        st = aiecg_delineate_leads(ml, m, L, fs, &fid, 1, rr, &mw, err);
        if (st != AIECG_OK) {
            aiecg__free(med);
            aiecg__free(dom);
            aiecg__free(w);
            return st;
        }
        if (mw.qrs_on < 0 || mw.qrs_off < 0) why_med = "QRS boundaries not found in the representative beat";
        /* P waves must also be found beat by beat (steady PR): a hump in the median alone is not enough */
        int64_t withp = 0;
        for (int64_t j = 0; j < nd; j++) withp += w[dom[j]].p_peak >= 0;
        if (mw.p_peak >= 0 && withp * 2 < nd) mw.p_on = mw.p_peak = mw.p_off = -1;
        out->median = mw;
        out->median_len = L;
        out->median_fiducial = (int)fid;
        out->median_beats = med;
    }

    const char *why_qrs = why_med ? why_med : NULL;
    const char *why_p = why_med ? why_med : "no P wave found in the dominant beat";
    const char *why_t = why_med ? why_med : "T wave end not found in the dominant beat";
    double ms = 1000.0 / fs;
    if (!why_med) {
        set_val(out, AIECG_MEAS_QRS_DUR, (double)(mw.qrs_off - mw.qrs_on) * ms, why_qrs);
        if (mw.p_on >= 0 && mw.p_off >= 0) {
            set_val(out, AIECG_MEAS_P_DUR, (double)(mw.p_off - mw.p_on) * ms, why_p);
            set_val(out, AIECG_MEAS_PR, (double)(mw.qrs_on - mw.p_on) * ms, why_p);
        }
        if (mw.t_off >= 0) {
            double qt = (double)(mw.t_off - mw.qrs_on) * ms;
            set_val(out, AIECG_MEAS_QT, qt, why_t);
            double rr = out->value[AIECG_MEAS_RR_MEAN];
            const char *why_rr2 = "QTc needs the RR interval (fewer than 2 beats)";
            if (isfinite(rr)) {
                double rs = rr / 1000.0, hr = 60.0 / rs;
                set_val(out, AIECG_MEAS_QTC_BAZETT, qt / sqrt(rs), why_rr2);
                set_val(out, AIECG_MEAS_QTC_FRIDERICIA, qt / cbrt(rs), why_rr2);
                set_val(out, AIECG_MEAS_QTC_FRAMINGHAM, qt + 154.0 * (1.0 - rs), why_rr2);
                set_val(out, AIECG_MEAS_QTC_HODGES, qt + 1.75 * (hr - 60.0), why_rr2);
            } else {
                for (int m = AIECG_MEAS_QTC_BAZETT; m <= AIECG_MEAS_QTC_HODGES; m++)
                    set_nan(out, (aiecg_measurement)m, why_rr2);
            }
        }
        /* atrial rate: P waves in (nearly) every dominant beat at a steady PR means 1:1 conduction */
        if (mw.p_peak >= 0) {
            int64_t withp = 0;
            for (int64_t j = 0; j < nd; j++) withp += w[dom[j]].p_peak >= 0;
            if (withp * 10 >= nd * 8 && isfinite(out->value[AIECG_MEAS_HR]) && nd * 10 >= nbeats * 8)
                set_val(out, AIECG_MEAS_ATRIAL_RATE, out->value[AIECG_MEAS_HR], why_p);
            else
                set_nan(out, AIECG_MEAS_ATRIAL_RATE,
                        "P waves not found in most beats: 1:1 conduction not established");
        }
    }
    if (!isfinite(out->value[AIECG_MEAS_QRS_DUR]))
        set_nan(out, AIECG_MEAS_QRS_DUR, why_qrs ? why_qrs : "QRS boundaries not found");
    for (int m = AIECG_MEAS_P_DUR; m <= AIECG_MEAS_PR; m++)
        if (!isfinite(out->value[m])) set_nan(out, (aiecg_measurement)m, why_p);
    if (!isfinite(out->value[AIECG_MEAS_ATRIAL_RATE])) set_nan(out, AIECG_MEAS_ATRIAL_RATE, why_p);
    for (int m = AIECG_MEAS_QT; m <= AIECG_MEAS_QTC_HODGES; m++)
        if (!isfinite(out->value[m])) set_nan(out, (aiecg_measurement)m, why_t);

    /* ---- per-lead amplitudes on the representative beat (PQ level = 0) */
    if (!why_med) {
        int pq0 = (int)lround(0.020 * fs), pq1 = (int)lround(0.005 * fs);
        int64_t j60 = mw.qrs_off + (int64_t)lround(0.060 * fs);
        for (int l = 0; l < nl; l++) {
            if (!usable[l]) continue;
            const float *x = med + (size_t)l * (size_t)L;
            int64_t a = AIECG__MAX(0, mw.qrs_on - pq0), b = AIECG__MAX(a, mw.qrs_on - pq1);
            float pq = (float)(net_area(x, a, b) / (double)(b - a + 1));
            aiecg_lead_amplitudes *A = &out->lead[l];
            /* QRS waves (CSE conventions): R = the first positive wave above 50 uV, Q = the
             * negative wave before it, S = the negative wave after it, R' = a positive wave after
             * S; a wholly negative complex (QS) is reported as S; absent waves are 0 mV */
            const float thr = 0.05f;
            float q = 0, r = 0, s = 0, rp = 0;
            int64_t i0 = -1;
            for (int64_t i = mw.qrs_on; i <= mw.qrs_off && i0 < 0; i++)
                if (x[i] - pq > thr) i0 = i;
            if (i0 < 0) {
                for (int64_t i = mw.qrs_on; i <= mw.qrs_off; i++)
                    if (x[i] - pq < s) s = x[i] - pq;
            } else {
                for (int64_t i = mw.qrs_on; i < i0; i++)
                    if (x[i] - pq < q) q = x[i] - pq;
                int64_t i = i0;
                for (; i <= mw.qrs_off && !(x[i] - pq < -thr); i++)
                    if (x[i] - pq > r) r = x[i] - pq;
                for (; i <= mw.qrs_off && !(x[i] - pq > thr); i++)
                    if (x[i] - pq < s) s = x[i] - pq;
                for (; i <= mw.qrs_off; i++)
                    if (x[i] - pq > rp) rp = x[i] - pq;
                if (rp < thr) rp = 0;
            }
            if (q > -thr) q = 0;
            if (s > -thr) s = 0;
            A->q = q;
            A->r = r;
            A->s = s;
            A->rprime = rp;
            A->st_j = x[mw.qrs_off] - pq;
            A->st_j60 = j60 < L ? x[j60] - pq : NAN;
            if (mw.p_on >= 0 && mw.p_off >= 0) {
                float e = 0;
                for (int64_t i = mw.p_on; i <= mw.p_off; i++)
                    if (fabsf(x[i] - pq) > fabsf(e)) e = x[i] - pq;
                A->p = e;
            }
            if (mw.t_off >= 0) {
                int64_t t0 = mw.t_on >= 0 ? mw.t_on : mw.qrs_off + (int64_t)lround(0.04 * fs);
                float e = 0;
                for (int64_t i = t0; i <= mw.t_off; i++)
                    if (fabsf(x[i] - pq) > fabsf(e)) e = x[i] - pq;
                A->t = e;
            }
        }
    }

    /* ---- axes and voltage criteria */
    int li = aiecg_record_find_lead(rec, AIECG_LEAD_I), lavf = aiecg_record_find_lead(rec, AIECG_LEAD_AVF);
    int lii = aiecg_record_find_lead(rec, AIECG_LEAD_II);
    if (li >= 0 && !usable[li]) li = -1;
    if (lavf >= 0 && !usable[lavf]) lavf = -1;
    if (lii >= 0 && !usable[lii]) lii = -1;
    const char *why_axis = why_med;
    if (!why_axis && li < 0) why_axis = "lead I absent or unusable";
    if (!why_axis && lavf < 0 && lii < 0) why_axis = "lead aVF absent (and II to derive it)";
    if (!why_axis) {
        const float *xi = med + (size_t)li * (size_t)L;
        const float *xf = lavf >= 0 ? med + (size_t)lavf * (size_t)L : NULL;
        const float *x2 = lii >= 0 ? med + (size_t)lii * (size_t)L : NULL;
        /* area of aVF, or of II - I/2 when aVF is missing */
#define AVF_AREA(a, b) (xf ? net_area(xf, a, b) : net_area(x2, a, b) - 0.5 * net_area(xi, a, b))
        set_val(out, AIECG_MEAS_QRS_AXIS, axis_deg(net_area(xi, mw.qrs_on, mw.qrs_off), AVF_AREA(mw.qrs_on, mw.qrs_off)),
                "no net QRS area in I and aVF");
        if (mw.p_on >= 0 && mw.p_off >= 0)
            set_val(out, AIECG_MEAS_P_AXIS, axis_deg(net_area(xi, mw.p_on, mw.p_off), AVF_AREA(mw.p_on, mw.p_off)),
                    "no net P area in I and aVF");
        else
            set_nan(out, AIECG_MEAS_P_AXIS, why_p);
        if (mw.t_off >= 0) {
            int64_t t0 = mw.t_on >= 0 ? mw.t_on : mw.qrs_off + (int64_t)lround(0.04 * fs);
            set_val(out, AIECG_MEAS_T_AXIS, axis_deg(net_area(xi, t0, mw.t_off), AVF_AREA(t0, mw.t_off)),
                    "no net T area in I and aVF");
        } else {
            set_nan(out, AIECG_MEAS_T_AXIS, why_t);
        }
#undef AVF_AREA
    } else {
        for (int m = AIECG_MEAS_P_AXIS; m <= AIECG_MEAS_T_AXIS; m++) set_nan(out, (aiecg_measurement)m, why_axis);
    }
    int lv1 = aiecg_record_find_lead(rec, AIECG_LEAD_V1), lv5 = aiecg_record_find_lead(rec, AIECG_LEAD_V5);
    int lv6 = aiecg_record_find_lead(rec, AIECG_LEAD_V6), lavl = aiecg_record_find_lead(rec, AIECG_LEAD_AVL);
    int lv3 = aiecg_record_find_lead(rec, AIECG_LEAD_V3);
    if (why_med) {
        set_nan(out, AIECG_MEAS_SOKOLOW_LYON, why_med);
        set_nan(out, AIECG_MEAS_CORNELL, why_med);
    } else {
        if (lv1 < 0 || !usable[lv1])
            set_nan(out, AIECG_MEAS_SOKOLOW_LYON, "lead V1 absent or unusable");
        else if ((lv5 < 0 || !usable[lv5]) && (lv6 < 0 || !usable[lv6]))
            set_nan(out, AIECG_MEAS_SOKOLOW_LYON, "leads V5 and V6 absent or unusable");
        else {
            double r5 = lv5 >= 0 && usable[lv5] ? out->lead[lv5].r : 0;
            double r6 = lv6 >= 0 && usable[lv6] ? out->lead[lv6].r : 0;
            set_val(out, AIECG_MEAS_SOKOLOW_LYON, fabs(out->lead[lv1].s) + fmax(r5, r6), "not measurable");
        }
        if (lavl < 0 || !usable[lavl])
            set_nan(out, AIECG_MEAS_CORNELL, "lead aVL absent or unusable");
        else if (lv3 < 0 || !usable[lv3])
            set_nan(out, AIECG_MEAS_CORNELL, "lead V3 absent or unusable");
        else
            set_val(out, AIECG_MEAS_CORNELL, out->lead[lavl].r + fabs(out->lead[lv3].s), "not measurable");
    }
    for (int m = 0; m < AIECG_MEAS_COUNT; m++)
        if (!isfinite(out->value[m]) && !out->reason[m]) out->reason[m] = "not measurable";
    aiecg__free(dom);
    if (waves)
        *waves = w;
    else
        aiecg__free(w);
    return AIECG_OK;
}

aiecg_status aiecg_measurements_json(const aiecg_measurements *m, const aiecg_record *rec,
                                     int64_t nbeats_detected, int pretty, char **json) {
    if (!m || !json) return AIECG_ERR_INVALID_ARG;
    *json = NULL;
    aiecg__sbuf b;
    aiecg__jw w;
    aiecg__sbuf_init(&b);
    aiecg__jw_init(&w, &b, pretty != 0);
    aiecg__jw_obj_begin(&w);
    if (rec) {
        aiecg_record_meta meta;
        aiecg_record_meta_get(rec, &meta);
        aiecg__jw_key(&w, "record");
        aiecg__jw_str(&w, meta.record_name);
        aiecg__jw_key(&w, "fs");
        aiecg__jw_num(&w, aiecg_record_fs(rec));
    }
    aiecg__jw_key(&w, "beats_detected");
    aiecg__jw_int(&w, nbeats_detected);
    aiecg__jw_key(&w, "beats_in_representative");
    aiecg__jw_int(&w, m->nbeats);
    aiecg__jw_key(&w, "measurements");
    aiecg__jw_obj_begin(&w);
    for (int i = 0; i < AIECG_MEAS_COUNT; i++) {
        aiecg__jw_key(&w, meas_keys[i]);
        aiecg__jw_obj_begin(&w);
        aiecg__jw_key(&w, "value");
        aiecg__jw_numf(&w, m->value[i], strcmp(meas_units[i], "mV") == 0 ? 3 : 1);
        aiecg__jw_key(&w, "unit");
        aiecg__jw_str(&w, meas_units[i]);
        if (!isfinite(m->value[i])) {
            aiecg__jw_key(&w, "reason");
            aiecg__jw_str(&w, m->reason[i] ? m->reason[i] : "not measurable");
        }
        aiecg__jw_obj_end(&w);
    }
    aiecg__jw_obj_end(&w);
    /* fiducials of the representative beat, ms from its QRS onset */
    aiecg__jw_key(&w, "representative_beat_ms");
    if (m->median.qrs_on < 0 || !(m->median_fs > 0)) {
        aiecg__jw_null(&w);
    } else {
        static const char *const names[9] = {"p_on", "p_peak", "p_off", "qrs_on", "qrs_peak",
                                             "qrs_off", "t_on", "t_peak", "t_off"};
        const int64_t v[9] = {m->median.p_on, m->median.p_peak, m->median.p_off,
                              m->median.qrs_on, m->median.qrs_peak, m->median.qrs_off,
                              m->median.t_on, m->median.t_peak, m->median.t_off};
        aiecg__jw_obj_begin(&w);
        for (int i = 0; i < 9; i++) {
            aiecg__jw_key(&w, names[i]);
            aiecg__jw_numf(&w, v[i] >= 0 ? (double)(v[i] - m->median.qrs_on) * 1000.0 / m->median_fs : NAN, 1);
        }
        aiecg__jw_obj_end(&w);
    }
    aiecg__jw_key(&w, "leads");
    aiecg__jw_arr_begin(&w);
    for (int l = 0; l < m->nleads; l++) {
        const aiecg_lead_amplitudes *a = &m->lead[l];
        aiecg__jw_obj_begin(&w);
        aiecg__jw_key(&w, "lead");
        if (rec && l < aiecg_record_nleads(rec)) {
            aiecg_lead_info li;
            aiecg_record_lead_info(rec, l, &li);
            aiecg__jw_str(&w, li.lead != AIECG_LEAD_UNKNOWN ? aiecg_lead_name(li.lead) : li.label);
        } else {
            aiecg__jw_int(&w, l);
        }
        const char *const k[8] = {"p_mv", "q_mv", "r_mv", "s_mv", "rprime_mv", "t_mv", "st_j_mv", "st_j60_mv"};
        const float v[8] = {a->p, a->q, a->r, a->s, a->rprime, a->t, a->st_j, a->st_j60};
        for (int i = 0; i < 8; i++) {
            aiecg__jw_key(&w, k[i]);
            aiecg__jw_numf(&w, v[i], 3);
        }
        aiecg__jw_obj_end(&w);
    }
    aiecg__jw_arr_end(&w);
    aiecg__jw_obj_end(&w);
    if (b.oom) {
        aiecg__sbuf_free(&b);
        return AIECG_ERR_NOMEM;
    }
    aiecg__sbuf_puts(&b, "\n");
    *json = aiecg__sbuf_take(&b);
    return *json ? AIECG_OK : AIECG_ERR_NOMEM;
}
