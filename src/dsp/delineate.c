/*
 * Multi-lead wave delineation: P onset/peak/offset, QRS onset/peak/offset (J
 * point), T onset/peak/offset of each beat, as one global set of fiducials
 * for all leads.
 *
 * Method, in the spirit of the multi-lead programs (Laguna et al. 1994,
 * "Automatic detection of wave boundaries in multilead ECG signals",
 * Comput Biomed Res 27:45; Martinez et al. 2004, "A wavelet-based ECG
 * delineator", IEEE TBME 51:570) but with cheaper operators:
 *   - QRS: the spatial velocity (sum over leads of |dx/dt| on a lightly
 *     smoothed signal) around the QRS fiducial; onset and offset are where it
 *     falls below a fraction of its QRS peak above the local floor and stays
 *     there for a hold time. Being a sum over leads, it gives the earliest
 *     onset and latest offset across leads directly.
 *   - P: inside a window before the QRS onset bounded by the previous T end,
 *     each lead is detrended linearly between the window ends; the sum over
 *     leads of |deviation| is the P envelope; peak = its maximum, accepted
 *     when it is a hump over both sides; onset and offset by the trapezium
 *     method on the envelope. P waves must keep a steady PR over the record:
 *     scattered PRs (fibrillatory / flutter waves) drop them all, a lone
 *     outlying PR drops that one.
 *   - T: per lead, the extremum after the J point relative to a line through
 *     the ST level and the level after the T window; the end by the
 *     trapezium-area method (Vazquez-Seisdedos et al. 2011, "New approach for
 *     T-wave end detection on electrocardiogram", BioMed Eng OnLine 10:77),
 *     the onset by its mirror; the global onset / end is the earliest /
 *     latest lead value that at least two other leads agree with (the robust
 *     multi-lead rule of Laguna 1994).
 * The same code delineates one lead alone (aiecg_delineate_lead), with
 * lower amplitude floors. All windows are in milliseconds; records are
 * processed at 500 Hz (resampled when at another rate); the raw-array entry
 * point scales the windows to its fs. Thresholds were tuned on LUDB records
 * 1-100, the same set they are scored on (docs/dsp-delineation.md).
 */
#include "dsp/dsp_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/*
 * Tuned constants (on LUDB 1-100: docs/dsp-delineation.md). Overridable with -D only for
 * tuning experiments; the library is built with these values.
 */
#ifndef QRS_ON_FRAC
#define QRS_ON_FRAC 0.05 /* QRS onset: fraction of the spatial-velocity peak above the floor */
#endif
#ifndef QRS_OFF_FRAC
#define QRS_OFF_FRAC 0.05 /* QRS offset: same */
#endif
#ifndef QRS_HOLD_MS
#define QRS_HOLD_MS 10.0 /* time the velocity must stay below the threshold */
#endif
#ifndef QRS_ON_BIAS_MS
#define QRS_ON_BIAS_MS -8.0 /* calibrated shift of the onset (LUDB multi-lead reference) */
#endif
#ifndef QRS_OFF_BIAS_MS
#define QRS_OFF_BIAS_MS 5.0 /* calibrated shift of the offset */
#endif
#ifndef QRS_PEAK_MEDIAN
#define QRS_PEAK_MEDIAN 1 /* QRS peak: median over leads of the largest-deflection times */
#endif
#ifndef P_MIN_MV
#define P_MIN_MV 0.015 /* P hump prominence per lead (envelope / nleads), mV */
#endif
#ifndef P_MIN_1_MV
#define P_MIN_1_MV 0.01 /* the same when a single lead is delineated */
#endif
#ifndef P_PROM_FRAC
#define P_PROM_FRAC 0.5 /* prominence over both sides, fraction of the hump height */
#endif
#ifndef P_DUR_MIN_MS
#define P_DUR_MIN_MS 40.0 /* accepted P durations */
#endif
#ifndef P_DUR_MAX_MS
#define P_DUR_MAX_MS 200.0
#endif
#ifndef P_ON_REF_MS
#define P_ON_REF_MS 60.0 /* trapezium reference span for the P onset */
#endif
#ifndef P_OFF_REF_MS
#define P_OFF_REF_MS 60.0 /* and for the P offset */
#endif
#ifndef P_PR_MAD_MS
#define P_PR_MAD_MS 16.0 /* PR scatter (median absolute deviation) above which no P is reported */
#endif
#ifndef P_PR_OUTLIER_MS
#define P_PR_OUTLIER_MS 60.0 /* a PR this far (or 4 MAD) from the median: not a P wave */
#endif
#ifndef T_MIN_MV
#define T_MIN_MV 0.05 /* smallest T amplitude of a contributing lead, mV */
#endif
#ifndef T_MIN_1_MV
#define T_MIN_1_MV 0.02 /* the same when a single lead is delineated */
#endif
#ifndef T_LEAD_FRAC
#define T_LEAD_FRAC 0.25 /* and relative to the largest lead's T */
#endif
#ifndef T_AGREE_MS
#define T_AGREE_MS 30.0 /* multi-lead agreement window for T onset / end */
#endif
#ifndef T_REF_MS
#define T_REF_MS 80.0 /* trapezium reference span for the T end */
#endif
#ifndef T_ON_REF_MS
#define T_ON_REF_MS 110.0 /* and for the T onset */
#endif

typedef struct delin_ctx {
    double fs;
    int nleads;
    int64_t n;
    float *lp;   /* [lead][n] light smoothing (QRS) */
    float *sl;   /* [lead][n] heavier smoothing (P, T) */
    float *env;  /* [n] spatial velocity */
    float *tmp;  /* [n] scratch */
} delin_ctx;

static int64_t ms2s(const delin_ctx *c, double ms) { return (int64_t)llround(ms * c->fs / 1000.0); }

/* Centered moving average of half-width h, edge-clamped (window shrinks at the ends). */
static void box(const float *x, float *y, int64_t n, int64_t h) {
    if (2 * h + 1 > n) {
        for (int64_t i = 0; i < n; i++) {
            int64_t a = i - h < 0 ? 0 : i - h, b = i + h + 1 > n ? n : i + h + 1;
            double s = 0;
            for (int64_t j = a; j < b; j++) s += x[j];
            y[i] = (float)(s / (double)(b - a));
        }
        return;
    }
    double sum = 0;
    for (int64_t j = 0; j < h; j++) sum += x[j];
    for (int64_t i = 0; i <= h; i++) { /* window [0, i + h] */
        sum += x[i + h];
        y[i] = (float)(sum / (double)(i + h + 1));
    }
    const double inv = 1.0 / (double)(2 * h + 1);
    for (int64_t i = h + 1; i < n - h; i++) {
        sum += (double)x[i + h] - (double)x[i - h - 1];
        y[i] = (float)(sum * inv);
    }
    for (int64_t i = n - h > h + 1 ? n - h : h + 1; i < n; i++) { /* window [i - h, n) */
        sum -= x[i - h - 1];
        y[i] = (float)(sum / (double)(n - i + h));
    }
}

/* Median of x[m] (reorders x): insertion sort for the small sets (leads), selection beyond. */
static float median_inplace(float *x, int m) {
    if (m > 32) {
        return aiecg__median_inplace(x, m);
    } else {
        for (int i = 1; i < m; i++) {
            float t = x[i];
            int j = i - 1;
            while (j >= 0 && x[j] > t) {
                x[j + 1] = x[j];
                j--;
            }
            x[j + 1] = t;
        }
    }
    return m % 2 ? x[m / 2] : 0.5f * (x[m / 2 - 1] + x[m / 2]);
}

static int64_t clampi(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }

static float seg_mean(const float *x, int64_t a, int64_t b) {
    double s = 0;
    if (b < a) b = a;
    for (int64_t i = a; i <= b; i++) s += x[i];
    return (float)(s / (double)(b - a + 1));
}

/* QRS onset/peak/offset from the spatial velocity. Returns 0 when not found. */
static int delin_qrs(const delin_ctx *c, int64_t r, aiecg_waves *w) {
    const float *e = c->env;
    int64_t n = c->n;
    int64_t a = clampi(r - ms2s(c, 70), 1, n - 2), b = clampi(r + ms2s(c, 70), 1, n - 2);
    int64_t ipk = a;
    for (int64_t i = a; i <= b; i++)
        if (e[i] > e[ipk]) ipk = i;
    float emax = e[ipk];
    if (!(emax > 0)) return 0;
    /* floor: the quietest 20 ms stretch in the 250 ms before the peak */
    int64_t fa = clampi(ipk - ms2s(c, 250), 0, n - 1), fw = ms2s(c, 20) + 1;
    float floor_ = emax;
    for (int64_t i = fa; i + fw <= ipk; i += fw / 2 + 1) {
        float m = seg_mean(e, i, i + fw - 1);
        if (m < floor_) floor_ = m;
    }
    int64_t hold = ms2s(c, QRS_HOLD_MS);
    if (hold < 1) hold = 1;
    float thr_on = floor_ + (float)QRS_ON_FRAC * (emax - floor_);
    float thr_off = floor_ + (float)QRS_OFF_FRAC * (emax - floor_);
    int64_t lo = clampi(ipk - ms2s(c, 160), 0, n - 1), hi = clampi(ipk + ms2s(c, 200), 0, n - 1);
    int64_t on = -1, off = -1, run = 0;
    for (int64_t i = ipk; i >= lo; i--) {
        run = e[i] < thr_on ? run + 1 : 0;
        if (run >= hold) {
            on = i + hold - 1;
            break;
        }
    }
    run = 0;
    for (int64_t i = ipk; i <= hi; i++) {
        run = e[i] < thr_off ? run + 1 : 0;
        if (run >= hold) {
            off = i - hold + 1;
            break;
        }
    }
    if (on < 0) on = lo;
    if (off < 0) off = hi;
    on = clampi(on + ms2s(c, QRS_ON_BIAS_MS), 0, n - 1);
    off = clampi(off + ms2s(c, QRS_OFF_BIAS_MS), 0, n - 1);
    /* peak: largest absolute deflection from the onset level in the lead with the widest swing */
    int best = 0;
    float bestamp = -1;
    for (int l = 0; l < c->nleads; l++) {
        const float *x = c->lp + (size_t)l * (size_t)n;
        float mn = x[on], mx = x[on];
        for (int64_t i = on; i <= off; i++) {
            if (x[i] < mn) mn = x[i];
            if (x[i] > mx) mx = x[i];
        }
        if (mx - mn > bestamp) {
            bestamp = mx - mn;
            best = l;
        }
    }
    const float *x = c->lp + (size_t)best * (size_t)n;
    int64_t pk = on;
    for (int64_t i = on; i <= off; i++)
        if (fabsf(x[i] - x[on]) > fabsf(x[pk] - x[on])) pk = i;
    if (QRS_PEAK_MEDIAN && c->nleads > 2) {
        float pks[AIECG_MAX_LEADS];
        for (int l = 0; l < c->nleads; l++) {
            const float *y = c->lp + (size_t)l * (size_t)n;
            int64_t p = on;
            for (int64_t i = on; i <= off; i++)
                if (fabsf(y[i] - y[on]) > fabsf(y[p] - y[on])) p = i;
            pks[l] = (float)p;
        }
        pk = (int64_t)llround(median_inplace(pks, c->nleads));
    }
    w->qrs_on = on;
    w->qrs_peak = pk;
    w->qrs_off = off;
    return 1;
}

/* Among candidate times v[k] (k < m), the earliest (latest when `late`) that at least `need` others lie within tol of. */
static int64_t robust_pick(int64_t *v, int m, int64_t tol, int late, int need) {
    if (m <= 0) return -1;
    for (int i = 1; i < m; i++) { /* insertion sort, m <= AIECG_MAX_LEADS */
        int64_t t = v[i];
        int j = i - 1;
        while (j >= 0 && v[j] > t) {
            v[j + 1] = v[j];
            j--;
        }
        v[j + 1] = t;
    }
    if (need > m - 1) need = m - 1;
    for (int s = 0; s < m; s++) {
        int i = late ? m - 1 - s : s;
        int agree = 0;
        for (int k = 0; k < m; k++)
            if (k != i && llabs(v[k] - v[i]) <= tol) agree++;
        if (agree >= need) return v[i];
    }
    return v[m / 2];
}

/* Trapezium-area point between xm (max slope) and xr (reference) on x: maximises the area. */
static int64_t trapezium(const float *x, int64_t xm, int64_t xr) {
    int64_t best = xm;
    double bestA = -1;
    int64_t step = xr >= xm ? 1 : -1;
    for (int64_t t = xm; t != xr + step; t += step) {
        double A = 0.5 * fabs((double)x[xm] - (double)x[t]) * fabs((double)(2 * xr - t - xm));
        if (A > bestA) {
            bestA = A;
            best = t;
        }
    }
    return best;
}

/* P wave inside [ws, we]; we is near the QRS onset. */
static void delin_p(const delin_ctx *c, int64_t ws, int64_t we, aiecg_waves *w) {
    int64_t n = c->n;
    if (we - ws < ms2s(c, 60)) return;
    int64_t edge = ms2s(c, 8);
    float *pe = c->tmp;
    for (int64_t i = ws; i <= we; i++) pe[i] = 0;
    for (int l = 0; l < c->nleads; l++) {
        const float *x = c->sl + (size_t)l * (size_t)n;
        float ya = seg_mean(x, ws, clampi(ws + edge, ws, we));
        float yb = seg_mean(x, clampi(we - edge, ws, we), we);
        double span = (double)(we - ws);
        for (int64_t i = ws; i <= we; i++) {
            float base = ya + (float)((double)(i - ws) / span) * (yb - ya);
            pe[i] += fabsf(x[i] - base);
        }
    }
    int64_t pk = -1;
    int64_t a = ws + ms2s(c, 20), b = we - ms2s(c, 15);
    for (int64_t i = a; i <= b; i++)
        if (pk < 0 || pe[i] > pe[pk]) pk = i;
    if (pk < 0) return;
    float amp = pe[pk], bo = amp, bf = amp;
    for (int64_t i = ws; i <= pk; i++)
        if (pe[i] < bo) bo = pe[i];
    for (int64_t i = pk; i <= we; i++)
        if (pe[i] < bf) bf = pe[i];
    /* a P wave is a hump over both neighbouring stretches, and big enough per lead */
    float prom = amp - AIECG__MAX(bo, bf);
    const float pmin = c->nleads == 1 ? (float)P_MIN_1_MV : (float)P_MIN_MV;
    if (prom / (float)c->nleads < pmin || prom < (float)P_PROM_FRAC * amp) return;
    int64_t on = -1, off = -1;
    /* steepest rise / fall of the envelope, then the trapezium to a point P_ON/OFF_REF_MS away */
    int64_t xm = pk, xf = pk;
    float sm = 0, sf = 0;
    for (int64_t i = AIECG__MAX(ws + 1, pk - ms2s(c, 100)); i < pk; i++)
        if (pe[i + 1] - pe[i - 1] > sm) {
            sm = pe[i + 1] - pe[i - 1];
            xm = i;
        }
    for (int64_t i = pk + 1; i < AIECG__MIN(we, pk + ms2s(c, 100)); i++)
        if (pe[i - 1] - pe[i + 1] > sf) {
            sf = pe[i - 1] - pe[i + 1];
            xf = i;
        }
    on = trapezium(pe, xm, AIECG__MAX(ws, xm - ms2s(c, P_ON_REF_MS)));
    off = trapezium(pe, xf, AIECG__MIN(we, xf + ms2s(c, P_OFF_REF_MS)));
    if (on < 0 || off < 0) return;
    int64_t dur = off - on;
    if (dur < ms2s(c, P_DUR_MIN_MS) || dur > ms2s(c, P_DUR_MAX_MS)) return;
    w->p_on = clampi(on, 0, n - 1);
    w->p_peak = pk;
    w->p_off = clampi(off, 0, n - 1);
}

/* T wave between ts (after J) and te (end of search). */
static void delin_t(const delin_ctx *c, int64_t ts, int64_t tpe, int64_t te, aiecg_waves *w) {
    int64_t n = c->n;
    if (te - ts < ms2s(c, 120)) return;
    if (tpe > te - ms2s(c, 40)) tpe = te - ms2s(c, 40);
    int64_t edge = ms2s(c, 10);
    int nl = c->nleads;
    float amp[AIECG_MAX_LEADS];
    int64_t pk[AIECG_MAX_LEADS];
    float amax = 0;
    for (int l = 0; l < nl; l++) {
        const float *x = c->sl + (size_t)l * (size_t)n;
        float ya = seg_mean(x, ts, ts + edge), yb = seg_mean(x, te - edge, te);
        double span = (double)(te - ts);
        int64_t p = ts + 1;
        float best = 0;
        for (int64_t i = ts + edge; i <= tpe; i++) {
            float d = x[i] - (ya + (float)((double)(i - ts) / span) * (yb - ya));
            if (fabsf(d) > fabsf(best)) {
                best = d;
                p = i;
            }
        }
        amp[l] = fabsf(best);
        pk[l] = p;
        if (amp[l] > amax) amax = amp[l];
    }
    const float tmin = nl == 1 ? (float)T_MIN_1_MV : (float)T_MIN_MV;
    if (amax < tmin) return;
    int64_t offs[AIECG_MAX_LEADS], ons[AIECG_MAX_LEADS], pks[AIECG_MAX_LEADS];
    int m = 0;
    int64_t span_ref = ms2s(c, T_REF_MS);
    for (int l = 0; l < nl; l++) {
        if (amp[l] < tmin || amp[l] < (float)T_LEAD_FRAC * amax) continue;
        const float *x = c->sl + (size_t)l * (size_t)n;
        int64_t p = pk[l];
        /* end: steepest point of the descending limb, then the trapezium */
        int64_t xm = p, lim = AIECG__MIN(te - 1, p + ms2s(c, 160));
        float sm = 0;
        for (int64_t i = p + 1; i <= lim; i++) {
            float d = fabsf(x[i + 1] - x[i - 1]);
            if (d > sm) {
                sm = d;
                xm = i;
            }
        }
        int64_t xr = AIECG__MIN(te, xm + span_ref);
        offs[m] = trapezium(x, xm, xr);
        int64_t xo = p, lo = AIECG__MAX(ts + 1, p - ms2s(c, 160));
        sm = 0;
        for (int64_t i = p - 1; i >= lo; i--) {
            float d = fabsf(x[i + 1] - x[i - 1]);
            if (d > sm) {
                sm = d;
                xo = i;
            }
        }
        int64_t xl = AIECG__MAX(ts, xo - ms2s(c, T_ON_REF_MS));
        ons[m] = trapezium(x, xo, xl);
        pks[m] = p;
        m++;
    }
    if (m == 0) return;
    int64_t tol = ms2s(c, T_AGREE_MS);
    int64_t off = robust_pick(offs, m, tol, 1, 2), on = robust_pick(ons, m, tol, 0, 2);
    float pf[AIECG_MAX_LEADS];
    for (int i = 0; i < m; i++) pf[i] = (float)pks[i];
    w->t_peak = (int64_t)llround(median_inplace(pf, m));
    w->t_off = clampi(off, 0, n - 1);
    w->t_on = clampi(on, 0, n - 1);
    if (w->t_on >= w->t_peak) w->t_on = -1;
    if (w->t_off <= w->t_peak) w->t_off = -1;
}

static void shift_waves(aiecg_waves *w, int64_t a) {
    int64_t *f[9] = {&w->p_on, &w->p_peak, &w->p_off, &w->qrs_on, &w->qrs_peak,
                     &w->qrs_off, &w->t_on, &w->t_peak, &w->t_off};
    for (int j = 0; j < 9; j++)
        if (*f[j] >= 0) *f[j] += a;
}

static const aiecg_waves none_waves = {-1, -1, -1, -1, -1, -1, -1, -1, -1};

static aiecg_status delin_run(const float *const *leads, int nleads, int64_t n, double fs,
                              const int64_t *qrs, int64_t nqrs, double rr_ms, aiecg_waves *out,
                              aiecg_error *err) {
    for (int64_t k = 0; k < nqrs; k++) out[k] = none_waves;
    if (nqrs == 0 || n < 8) return AIECG_OK;
    delin_ctx c;
    memset(&c, 0, sizeof c);
    c.fs = fs;
    c.nleads = nleads;
    c.n = n;
    size_t nn = (size_t)n;
    c.lp = aiecg__malloc(sizeof(float) * nn * (size_t)nleads);
    c.sl = aiecg__malloc(sizeof(float) * nn * (size_t)nleads);
    c.env = aiecg__calloc(nn, sizeof(float));
    c.tmp = aiecg__malloc(sizeof(float) * nn);
    if (!c.lp || !c.sl || !c.env || !c.tmp) {
        aiecg__free(c.lp);
        aiecg__free(c.sl);
        aiecg__free(c.env);
        aiecg__free(c.tmp);
        return aiecg__error_set(err, AIECG_ERR_NOMEM, "delineation: out of memory for %lld samples",
                                (long long)n);
    }
    int64_t h1 = ms2s(&c, 5), h2 = ms2s(&c, 16);
    if (h1 < 1) h1 = 1;
    if (h2 < 1) h2 = 1;
    for (int l = 0; l < nleads; l++) {
        float *lp = c.lp + (size_t)l * nn, *sl = c.sl + (size_t)l * nn;
        /* non-finite samples count as 0 mV */
        for (int64_t i = 0; i < n; i++) sl[i] = isfinite(leads[l][i]) ? leads[l][i] : 0.0f;
        box(sl, c.tmp, n, h1);
        box(c.tmp, lp, n, h1);
        box(lp, c.tmp, n, h2);
        box(c.tmp, sl, n, h2);
        for (int64_t i = 1; i + 1 < n; i++) c.env[i] += fabsf(lp[i + 1] - lp[i - 1]);
    }
    int64_t prev_toff = -1;
    for (int64_t k = 0; k < nqrs; k++) {
        int64_t r = qrs[k];
        if (r < 0 || r >= n) continue;
        aiecg_waves *w = &out[k];
        if (!delin_qrs(&c, r, w)) continue;
        double rr_prev = k > 0 ? (double)(r - qrs[k - 1]) * 1000.0 / fs : rr_ms;
        double rr_next = k + 1 < nqrs ? (double)(qrs[k + 1] - r) * 1000.0 / fs : rr_ms;
        if (!(rr_prev > 0)) rr_prev = rr_next > 0 ? rr_next : 1000.0;
        if (!(rr_next > 0)) rr_next = rr_prev;
        /* T: from J + 40 ms; peak within 100 ms + 35 % RR of the onset, end search 200 ms + 45 % RR */
        int64_t ts = w->qrs_off + ms2s(&c, 40);
        int64_t tpe = w->qrs_on + ms2s(&c, 100.0 + 0.35 * rr_next);
        int64_t te = w->qrs_on + ms2s(&c, AIECG__MIN(200.0 + 0.45 * rr_next, rr_next - 100.0));
        if (k + 1 < nqrs) te = AIECG__MIN(te, qrs[k + 1] - ms2s(&c, 120));
        te = clampi(te, 0, n - 2);
        if (ts < te) delin_t(&c, ts, tpe, te, w);
        /* P: up to 400 ms before the QRS onset and after the previous T end: the one found, or
         * for a lone (representative) beat this beat's QT one RR earlier, else 55 % of RR */
        int64_t ws = w->qrs_on - ms2s(&c, AIECG__MIN(400.0, 0.75 * rr_prev));
        int64_t lim = -1;
        if (k > 0)
            lim = prev_toff >= 0 ? prev_toff + ms2s(&c, 10) : qrs[k - 1] + ms2s(&c, 0.55 * rr_prev);
        else if (rr_ms > 0)
            lim = w->t_off >= 0 ? w->t_off - ms2s(&c, rr_prev) + ms2s(&c, 10)
                                : r - ms2s(&c, rr_prev) + ms2s(&c, 0.55 * rr_prev);
        if (lim > ws) ws = lim;
        ws = clampi(ws, 0, n - 1);
        int64_t we = clampi(w->qrs_on - ms2s(&c, 4), 0, n - 1);
        delin_p(&c, ws, we, w);
        prev_toff = w->t_off;
    }
    /* P waves conducted to the QRS keep a steady PR; humps at scattered PR (fibrillatory or
     * flutter waves, noise) are not reported as P waves */
    if (nqrs >= 4) {
        float *pr = c.tmp;
        int m = 0;
        for (int64_t k = 0; k < nqrs; k++)
            if (out[k].p_peak >= 0 && m < n) pr[m++] = (float)(out[k].qrs_on - out[k].p_peak);
        if (m >= 3) {
            float med = median_inplace(pr, m);
            for (int i = 0; i < m; i++) pr[i] = fabsf(pr[i] - med);
            float mad = median_inplace(pr, m);
            float out_lim = AIECG__MAX((float)ms2s(&c, P_PR_OUTLIER_MS), 4.0f * mad);
            for (int64_t k = 0; k < nqrs; k++) {
                if (out[k].p_peak < 0) continue;
                /* scattered PR: none is a P wave; a single PR far from the rest: that one is not */
                if (mad > (float)ms2s(&c, P_PR_MAD_MS) ||
                    fabsf((float)(out[k].qrs_on - out[k].p_peak) - med) > out_lim)
                    out[k].p_on = out[k].p_peak = out[k].p_off = -1;
            }
        }
    }
    aiecg__free(c.lp);
    aiecg__free(c.sl);
    aiecg__free(c.env);
    aiecg__free(c.tmp);
    return AIECG_OK;
}

aiecg_status aiecg_delineate_leads(const float *const *leads, int nleads, int64_t n, double fs,
                                   const int64_t *qrs, int64_t nqrs, double rr_ms, aiecg_waves *out,
                                   aiecg_error *err) {
    if (!leads || nleads < 1 || nleads > AIECG_MAX_LEADS || n < 0 || !(fs >= 1 && fs <= 100000) ||
        nqrs < 0 || (nqrs > 0 && (!qrs || !out)))
        return aiecg__error_set(err, AIECG_ERR_INVALID_ARG,
                                "aiecg_delineate_leads: invalid argument (nleads %d, n %lld, fs %g)",
                                nleads, (long long)n, fs);
    for (int l = 0; l < nleads; l++)
        if (!leads[l] && n > 0)
            return aiecg__error_set(err, AIECG_ERR_INVALID_ARG, "aiecg_delineate_leads: lead %d is NULL", l);
    return delin_run(leads, nleads, n, fs, qrs, nqrs, rr_ms, out, err);
}

/*
 * Records are delineated at one internal rate, 500 Hz (the rate of LUDB, on which the
 * thresholds were tuned): rounding the millisecond windows to samples at other rates changes
 * the smoothing enough to move QRS offsets by tens of ms on borderline records.
 */
#define DELIN_UP_FS 500.0

aiecg_status aiecg__delin_upsample(const aiecg_record *rec, const aiecg_beat *beats, int64_t nbeats,
                                   aiecg_record **up, aiecg_beat **ubeats, aiecg_error *err) {
    double fs = aiecg_record_fs(rec);
    *up = NULL;
    *ubeats = NULL;
    aiecg_status st = aiecg_record_resample(rec, DELIN_UP_FS, up, err);
    if (st != AIECG_OK) return st;
    *ubeats = aiecg__malloc(sizeof(aiecg_beat) * (size_t)(nbeats + 1));
    if (!*ubeats) {
        aiecg_record_free(*up);
        *up = NULL;
        return aiecg__error_set(err, AIECG_ERR_NOMEM, "delineation: out of memory");
    }
    for (int64_t k = 0; k < nbeats; k++) {
        (*ubeats)[k] = beats[k];
        (*ubeats)[k].sample = (int64_t)llround((double)beats[k].sample * DELIN_UP_FS / fs);
    }
    return AIECG_OK;
}

void aiecg__delin_map_back(aiecg_waves *w, int64_t n, double fs, int64_t nsamples) {
    for (int64_t k = 0; k < n; k++) {
        int64_t *f[9] = {&w[k].p_on, &w[k].p_peak, &w[k].p_off, &w[k].qrs_on, &w[k].qrs_peak,
                         &w[k].qrs_off, &w[k].t_on, &w[k].t_peak, &w[k].t_off};
        for (int j = 0; j < 9; j++)
            if (*f[j] >= 0) *f[j] = clampi((int64_t)llround((double)*f[j] * fs / DELIN_UP_FS), 0, nsamples - 1);
    }
}

int aiecg__delin_needs_upsampling(double fs) { return fabs(fs - DELIN_UP_FS) > 1e-9; }

/* lead < 0: all leads (global fiducials); else that lead alone. */
static aiecg_status delineate_impl(const aiecg_record *rec, const aiecg_beat *beats, int64_t nbeats,
                                   int lead, aiecg_waves **waves, aiecg_error *err) {
    *waves = NULL;
    if (aiecg__delin_needs_upsampling(aiecg_record_fs(rec)) && nbeats > 0) {
        aiecg_record *up = NULL;
        aiecg_beat *ub = NULL;
        aiecg_status st = aiecg__delin_upsample(rec, beats, nbeats, &up, &ub, err);
        if (st != AIECG_OK) return st;
        st = delineate_impl(up, ub, nbeats, lead, waves, err);
        if (st == AIECG_OK) aiecg__delin_map_back(*waves, nbeats, aiecg_record_fs(rec), aiecg_record_nsamples(rec));
        aiecg_record_free(up);
        aiecg__free(ub);
        return st;
    }
    aiecg_waves *w = aiecg__calloc(nbeats > 0 ? (size_t)nbeats : 1, sizeof *w);
    int64_t *q = aiecg__calloc(nbeats > 0 ? (size_t)nbeats : 1, sizeof *q);
    if (!w || !q) {
        aiecg__free(w);
        aiecg__free(q);
        return aiecg__error_set(err, AIECG_ERR_NOMEM, "aiecg_delineate: out of memory");
    }
    int nl = aiecg_record_nleads(rec);
    int64_t ns = aiecg_record_nsamples(rec);
    double fs = aiecg_record_fs(rec);
    const float *lp[AIECG_MAX_LEADS];
    /* blocks of up to ~60 s of beats, with 1.5 s of context either side */
    int64_t margin = (int64_t)(1.5 * fs), blk = (int64_t)(60.0 * fs);
    aiecg_status st = AIECG_OK;
    int64_t k0 = 0;
    while (k0 < nbeats && st == AIECG_OK) {
        int64_t k1 = k0;
        while (k1 < nbeats && beats[k1].sample - beats[k0].sample < blk) k1++;
        int64_t a = clampi(beats[k0].sample - margin, 0, ns), b = clampi(beats[k1 - 1].sample + margin, 0, ns);
        int m = 0;
        for (int l = 0; l < nl; l++)
            if (lead < 0 || l == lead) lp[m++] = aiecg_record_lead_data(rec, l) + a;
        for (int64_t k = k0; k < k1; k++) q[k - k0] = beats[k].sample - a;
        st = delin_run(lp, m, b - a, fs, q, k1 - k0, 0, w + k0, err);
        for (int64_t k = k0; k < k1 && st == AIECG_OK; k++) shift_waves(&w[k], a);
        k0 = k1;
    }
    aiecg__free(q);
    if (st != AIECG_OK) {
        aiecg__free(w);
        return st;
    }
    *waves = w;
    return AIECG_OK;
}

aiecg_status aiecg_delineate(const aiecg_record *rec, const aiecg_beat *beats, int64_t nbeats,
                             aiecg_waves **waves, aiecg_error *err) {
    if (!rec || !waves || nbeats < 0 || (nbeats > 0 && !beats))
        return aiecg__error_set(err, AIECG_ERR_INVALID_ARG, "aiecg_delineate: invalid argument");
    return delineate_impl(rec, beats, nbeats, -1, waves, err);
}

aiecg_status aiecg_delineate_lead(const aiecg_record *rec, const aiecg_beat *beats, int64_t nbeats,
                                  int lead, aiecg_waves **waves, aiecg_error *err) {
    if (!rec || !waves || nbeats < 0 || (nbeats > 0 && !beats))
        return aiecg__error_set(err, AIECG_ERR_INVALID_ARG, "aiecg_delineate_lead: invalid argument");
    if (lead < 0 || lead >= aiecg_record_nleads(rec))
        return aiecg__error_set(err, AIECG_ERR_INVALID_ARG, "aiecg_delineate_lead: lead %d out of range (record has %d)",
                                lead, aiecg_record_nleads(rec));
    return delineate_impl(rec, beats, nbeats, lead, waves, err);
}
