/*
 * Conditioning filters: baseline-wander removal, mains detection and notch,
 * muscle-noise low-pass; batch (zero-phase) and streaming forms.
 *
 * Baseline removal follows the AHA/AAMI advice (Kligfield et al. 2007,
 * Circulation 115:1306) that a low cut-off of 0.67 Hz is only harmless to the
 * ST segment when the filter is linear-phase: the baseline is estimated by
 * three cascaded moving averages (each of odd length L ~ 1/0.67 Hz... 0.6 s)
 * and subtracted from the input delayed by the cascade's exact group delay
 * 3(L-1)/2 samples. The batch form is the same filter with the delay removed
 * and odd-reflected edges, hence zero-phase. The notch and low-pass are IIR
 * sections designed by bilinear transform (R. Bristow-Johnson's cookbook
 * forms, Butterworth pole placement); their batch forms run forward then
 * backward (zero-phase, squared magnitude), their streaming forms are causal
 * and report their group delay at 5 Hz rounded to samples.
 * No allocation in any per-sample path: streams allocate at _new only.
 */
#include "dsp/dsp_int.h"

#include <math.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* ---- biquads ------------------------------------------------------------ */
static aiecg__biquad bq_norm(double b0, double b1, double b2, double a0, double a1, double a2) {
    aiecg__biquad s = {b0 / a0, b1 / a0, b2 / a0, a1 / a0, a2 / a0};
    return s;
}

aiecg__biquad aiecg__biquad_lowpass(double fs, double f0, double q) {
    double w = 2 * M_PI * f0 / fs, c = cos(w), al = sin(w) / (2 * q);
    return bq_norm((1 - c) / 2, 1 - c, (1 - c) / 2, 1 + al, -2 * c, 1 - al);
}

aiecg__biquad aiecg__biquad_highpass(double fs, double f0, double q) {
    double w = 2 * M_PI * f0 / fs, c = cos(w), al = sin(w) / (2 * q);
    return bq_norm((1 + c) / 2, -(1 + c), (1 + c) / 2, 1 + al, -2 * c, 1 - al);
}

aiecg__biquad aiecg__biquad_notch(double fs, double f0, double q) {
    double w = 2 * M_PI * f0 / fs, c = cos(w), al = sin(w) / (2 * q);
    return bq_norm(1, -2 * c, 1, 1 + al, -2 * c, 1 - al);
}

int aiecg__butter_sections(double fs, double fc, int nsec, int highpass, aiecg__biquad *out) {
    /* Butterworth of order 2*nsec: section k has Q = 1 / (2 cos(theta_k)). */
    int order = 2 * nsec;
    for (int k = 0; k < nsec; k++) {
        double th = M_PI * (2.0 * k + 1) / (2.0 * order);
        double q = 1.0 / (2.0 * cos(th));
        out[k] = highpass ? aiecg__biquad_highpass(fs, fc, q) : aiecg__biquad_lowpass(fs, fc, q);
    }
    return nsec;
}

static inline float bq_step(const aiecg__biquad *s, double *z, float xin) {
    double x = xin, y = s->b0 * x + z[0];
    z[0] = s->b1 * x - s->a1 * y + z[1];
    z[1] = s->b2 * x - s->a2 * y;
    return (float)y;
}

void aiecg__biquad_run(const aiecg__biquad *s, int nsec, float *x, int64_t n) {
    for (int k = 0; k < nsec; k++) {
        double z[2] = {0, 0};
        for (int64_t i = 0; i < n; i++) x[i] = bq_step(&s[k], z, x[i]);
    }
}

/* Steady-state state for a constant input v (so the padded edge starts without a step). */
static void bq_init_const(const aiecg__biquad *s, double v, double *z) {
    double g = (s->b0 + s->b1 + s->b2) / (1 + s->a1 + s->a2);
    double y = g * v;
    z[1] = s->b2 * v - s->a2 * y;
    z[0] = s->b1 * v - s->a1 * y + z[1];
}

aiecg_status aiecg__biquad_filtfilt(const aiecg__biquad *s, int nsec, float *x, int64_t n) {
    if (n <= 0) return AIECG_OK;
    int64_t pad = 3 * 6 * nsec + 64;
    if (pad > n - 1) pad = n - 1;
    int64_t m = n + 2 * pad;
    float *t = aiecg__malloc((size_t)m * sizeof *t);
    if (!t) return AIECG_ERR_NOMEM;
    /* odd reflection about the end samples, as scipy's filtfilt */
    for (int64_t i = 0; i < pad; i++) t[i] = 2 * x[0] - x[pad - i];
    memcpy(t + pad, x, (size_t)n * sizeof *x);
    for (int64_t i = 0; i < pad; i++) t[pad + n + i] = 2 * x[n - 1] - x[n - 2 - i];
    for (int k = 0; k < nsec; k++) {
        double z[2];
        bq_init_const(&s[k], t[0], z);
        for (int64_t i = 0; i < m; i++) t[i] = bq_step(&s[k], z, t[i]);
        bq_init_const(&s[k], t[m - 1], z);
        for (int64_t i = m - 1; i >= 0; i--) t[i] = bq_step(&s[k], z, t[i]);
    }
    memcpy(x, t + pad, (size_t)n * sizeof *x);
    aiecg__free(t);
    return AIECG_OK;
}

aiecg_status aiecg__biquad_filtfilt_multi(const aiecg__biquad *s, int nsec, float *const *x, int nch, int64_t n) {
    if (n <= 0 || nch <= 0) return AIECG_OK;
    if (nch > AIECG_MAX_LEADS) {
        for (int c = 0; c < nch; c++) {
            aiecg_status st = aiecg__biquad_filtfilt(s, nsec, x[c], n);
            if (st) return st;
        }
        return AIECG_OK;
    }
    int64_t pad = 3 * 6 * nsec + 64;
    if (pad > n - 1) pad = n - 1;
    int64_t m = n + 2 * pad;
#if defined(__x86_64__) || defined(_M_X64)
    uint32_t feat = aiecg_cpu_features();
    if ((feat & AIECG_CPU_AVX2) && nch <= 12) {
        /* four channels a ymm register (idle lanes zero), up to three registers stepped side by side */
        const int G = (nch + 3) / 4, W = 4 * G;
        float *t = aiecg__malloc((size_t)m * (size_t)W * sizeof *t);
        if (!t) return AIECG_ERR_NOMEM;
        /* row by row (the rows are what the passes stream through) */
        for (int64_t i = 0; i < pad; i++) {
            float *r0 = t + i * W, *r1 = t + (pad + n + i) * W;
            for (int c = 0; c < W; c++) {
                r0[c] = c < nch ? 2 * x[c][0] - x[c][pad - i] : 0.0f;
                r1[c] = c < nch ? 2 * x[c][n - 1] - x[c][n - 2 - i] : 0.0f;
            }
        }
        for (int64_t i = 0; i < n; i++) {
            float *row = t + (pad + i) * W;
            int c = 0;
            for (; c < nch; c++) row[c] = x[c][i];
            for (; c < W; c++) row[c] = 0.0f;
        }
        double z0[12] = {0}, z1[12] = {0}, zz[2];
        for (int k = 0; k < nsec; k++) {
            for (int c = 0; c < nch; c++) {
                bq_init_const(&s[k], t[c], zz);
                z0[c] = zz[0];
                z1[c] = zz[1];
            }
            aiecg__biquad_pass_avx2(t, m, G, &s[k], z0, z1, 0);
            for (int c = 0; c < nch; c++) {
                bq_init_const(&s[k], t[(m - 1) * W + c], zz);
                z0[c] = zz[0];
                z1[c] = zz[1];
            }
            aiecg__biquad_pass_avx2(t, m, G, &s[k], z0, z1, 1);
        }
        for (int64_t i = 0; i < n; i++) {
            const float *row = t + (pad + i) * W;
            for (int c = 0; c < nch; c++) x[c][i] = row[c];
        }
        aiecg__free(t);
        return AIECG_OK;
    }
#endif
    /* channel-interleaved: t[i * nch + c], so the step over channels is one contiguous
       (vectorisable) loop; per channel it is exactly aiecg__biquad_filtfilt's arithmetic */
    float *t = aiecg__malloc((size_t)m * (size_t)nch * sizeof *t);
    if (!t) return AIECG_ERR_NOMEM;
    for (int c = 0; c < nch; c++) {
        const float *xc = x[c];
        for (int64_t i = 0; i < pad; i++) t[i * nch + c] = 2 * xc[0] - xc[pad - i];
        for (int64_t i = 0; i < n; i++) t[(pad + i) * nch + c] = xc[i];
        for (int64_t i = 0; i < pad; i++) t[(pad + n + i) * nch + c] = 2 * xc[n - 1] - xc[n - 2 - i];
    }
    /* the channels' recurrences are independent: stepping them side by side keeps the
       pipeline busy where one channel alone waits on its own multiply-add chain */
    double z0[AIECG_MAX_LEADS], z1[AIECG_MAX_LEADS];
    for (int k = 0; k < nsec; k++) {
        const double b0 = s[k].b0, b1 = s[k].b1, b2 = s[k].b2, a1 = s[k].a1, a2 = s[k].a2;
        double zz[2];
        for (int c = 0; c < nch; c++) {
            bq_init_const(&s[k], t[c], zz);
            z0[c] = zz[0];
            z1[c] = zz[1];
        }
        for (int64_t i = 0; i < m; i++) {
            float *ti = t + i * nch;
            for (int c = 0; c < nch; c++) {
                double xi = ti[c], y = b0 * xi + z0[c];
                z0[c] = b1 * xi - a1 * y + z1[c];
                z1[c] = b2 * xi - a2 * y;
                ti[c] = (float)y;
            }
        }
        for (int c = 0; c < nch; c++) {
            bq_init_const(&s[k], t[(m - 1) * nch + c], zz);
            z0[c] = zz[0];
            z1[c] = zz[1];
        }
        for (int64_t i = m - 1; i >= 0; i--) {
            float *ti = t + i * nch;
            for (int c = 0; c < nch; c++) {
                double xi = ti[c], y = b0 * xi + z0[c];
                z0[c] = b1 * xi - a1 * y + z1[c];
                z1[c] = b2 * xi - a2 * y;
                ti[c] = (float)y;
            }
        }
    }
    for (int c = 0; c < nch; c++)
        for (int64_t i = 0; i < n; i++) x[c][i] = t[(pad + i) * nch + c];
    aiecg__free(t);
    return AIECG_OK;
}

aiecg_status aiecg__filter_lowpass_multi(float *const *x, int nch, int64_t n, double fs, double cutoff_hz) {
    if (nch < 0 || (nch > 0 && !x) || n < 0 || !(fs > 0) || !isfinite(fs) || !(cutoff_hz > 0))
        return AIECG_ERR_INVALID_ARG;
    for (int c = 0; c < nch; c++)
        if (!x[c] && n > 0) return AIECG_ERR_INVALID_ARG;
    if (cutoff_hz >= fs / 2) return AIECG_OK;
    aiecg__biquad s[2];
    aiecg__butter_sections(fs, cutoff_hz, 2, 0, s);
    return aiecg__biquad_filtfilt_multi(s, 2, x, nch, n);
}

/* Group delay in samples of a section cascade at frequency f (numerical derivative of phase). */
static double cascade_group_delay(const aiecg__biquad *s, int nsec, double fs, double f) {
    double phase[2];
    for (int j = 0; j < 2; j++) {
        double w = 2 * M_PI * (f + (j ? 0.01 : -0.01)) / fs, ph = 0;
        for (int k = 0; k < nsec; k++) {
            double nr = s[k].b0 + s[k].b1 * cos(w) + s[k].b2 * cos(2 * w);
            double ni = -s[k].b1 * sin(w) - s[k].b2 * sin(2 * w);
            double dr = 1 + s[k].a1 * cos(w) + s[k].a2 * cos(2 * w);
            double di = -s[k].a1 * sin(w) - s[k].a2 * sin(2 * w);
            ph += atan2(ni, nr) - atan2(di, dr);
        }
        phase[j] = ph;
    }
    double dph = phase[1] - phase[0];
    while (dph > M_PI) dph -= 2 * M_PI;
    while (dph < -M_PI) dph += 2 * M_PI;
    return -dph / (2 * M_PI * 0.02 / fs);
}

/* ---- baseline: linear-phase moving-average cascade ----------------------- */
#define BL_STAGES 3

static int baseline_len(double fs, double cutoff_hz) {
    /* L ~ 0.443 fs / fc makes one boxcar's -3 dB point fc; three in cascade put
       the estimator's -3 dB near 0.5 fc, which after subtraction gives a high-pass
       whose -3 dB point is near cutoff_hz. */
    int L = (int)lrint(0.6 * fs / (cutoff_hz > 0 ? cutoff_hz : 0.67) / 1.0);
    if (L < 3) L = 3;
    if (L % 2 == 0) L++;
    return L;
}

static int sanity(const float *x, int64_t n, double fs) {
    return (x || n == 0) && n >= 0 && fs > 0 && isfinite(fs);
}

aiecg_status aiecg_filter_baseline(float *x, int64_t n, double fs) {
    if (!sanity(x, n, fs)) return AIECG_ERR_INVALID_ARG;
    if (n < 2) return AIECG_OK;
    aiecg_filter_stream *s = NULL;
    aiecg_filter_params p = {0};
    aiecg_status st = aiecg_filter_stream_new(AIECG_FILTER_BASELINE, fs, &p, &s);
    if (st) return st;
    int64_t D = aiecg_filter_stream_delay(s);
    int64_t pad = D + 1;
    float *buf = aiecg__malloc((size_t)(n + 2 * pad) * sizeof *buf);
    if (!buf) {
        aiecg_filter_stream_free(s);
        return AIECG_ERR_NOMEM;
    }
    int64_t m = n + 2 * pad;
    for (int64_t i = 0; i < pad; i++) {
        int64_t k = pad - i;
        if (k > n - 1) k = n - 1;
        buf[i] = 2 * x[0] - x[k];
    }
    memcpy(buf + pad, x, (size_t)n * sizeof *x);
    for (int64_t i = 0; i < pad; i++) {
        int64_t k = n - 2 - i;
        if (k < 0) k = 0;
        buf[pad + n + i] = 2 * x[n - 1] - x[k];
    }
    /* prime the stream with the first padded value so it starts in steady state */
    aiecg_filter_stream_prime(s, buf[0]);
    aiecg_filter_stream_push(s, buf, buf, m);
    /* output y[j] corresponds to input j - D */
    for (int64_t i = 0; i < n; i++) x[i] = buf[pad + i + D];
    aiecg__free(buf);
    aiecg_filter_stream_free(s);
    return AIECG_OK;
}

/* 1 when all of x[0..n) is finite (integer test on the bits, so the loop vectorises). */
static int all_finite(const float *x, int64_t n) {
    uint32_t bad = 0;
    for (int64_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, x + i, sizeof u);
        bad |= (u & 0x7fffffffu) >= 0x7f800000u;
    }
    return !bad;
}

aiecg_status aiecg__filter_baseline_multi(float *const *x, int nch, int64_t n, double fs) {
    if (nch < 0 || (nch > 0 && !x)) return AIECG_ERR_INVALID_ARG;
    for (int c = 0; c < nch; c++)
        if (!sanity(x[c], n, fs)) return AIECG_ERR_INVALID_ARG;
    if (n < 2 || nch == 0) return AIECG_OK;
#if defined(__x86_64__) || defined(_M_X64)
    uint32_t f = aiecg_cpu_features();
    if ((f & AIECG_CPU_AVX2) && (f & AIECG_CPU_FMA) && fs <= 100000) {
        /* the stream's geometry (aiecg_filter_stream_new, kind BASELINE) and aiecg_filter_baseline's padding */
        const int L = baseline_len(fs, 0.67);
        const int64_t D = (int64_t)BL_STAGES * (L - 1) / 2, pad = D + 1, m = n + 2 * pad;
        const int maxc = nch < 12 ? nch : 12, Wmax = 4 * ((maxc + 3) / 4);
        float *t = aiecg__malloc((size_t)(D + m) * (size_t)Wmax * sizeof *t);
        double *ring = aiecg__malloc((size_t)(2 * L) * (size_t)Wmax * sizeof *ring);
        if (!t || !ring) {
            aiecg__free(t);
            aiecg__free(ring);
            return AIECG_ERR_NOMEM;
        }
        aiecg_status st = AIECG_OK;
        for (int c0 = 0; c0 < nch && !st; c0 += 12) {
            int nc = nch - c0 < 12 ? nch - c0 : 12;
            /* a channel holding a non-finite value (or whose odd-reflected edge overflows)
               goes through the plain stream instead */
            int ok[12];
            for (int j = 0; j < nc; j++) {
                const float *xc = x[c0 + j];
                ok[j] = all_finite(xc, n);
                for (int64_t i = 0; i < pad && ok[j]; i++) {
                    int64_t k0 = pad - i, k1 = n - 2 - i;
                    if (k0 > n - 1) k0 = n - 1;
                    if (k1 < 0) k1 = 0;
                    ok[j] = isfinite(2 * xc[0] - xc[k0]) && isfinite(2 * xc[n - 1] - xc[k1]);
                }
            }
            aiecg__baseline_multi_avx2(x + c0, nc, n, ok, t, ring, L, D);
            for (int j = 0; j < nc && !st; j++)
                if (!ok[j]) st = aiecg_filter_baseline(x[c0 + j], n, fs);
        }
        aiecg__free(t);
        aiecg__free(ring);
        return st;
    }
#endif
    for (int c = 0; c < nch; c++) {
        aiecg_status st = aiecg_filter_baseline(x[c], n, fs);
        if (st) return st;
    }
    return AIECG_OK;
}

/* ---- mains -------------------------------------------------------------- */
/* Goertzel power |X(f)|^2 / n^2 at nf frequencies (nf <= 16) in one pass over x. */
static void goertzel_multi(const float *x, int64_t n, double fs, const double *f, int nf, double *p) {
    double c[16], s1[16], s2[16];
    for (int k = 0; k < nf; k++) {
        c[k] = 2 * cos(2 * M_PI * f[k] / fs);
        s1[k] = s2[k] = 0;
    }
    for (int64_t i = 0; i < n; i++) {
        double xi = x[i];
        for (int k = 0; k < nf; k++) {
            double s0 = xi + c[k] * s1[k] - s2[k];
            s2[k] = s1[k];
            s1[k] = s0;
        }
    }
    for (int k = 0; k < nf; k++)
        p[k] = (s1[k] * s1[k] + s2[k] * s2[k] - c[k] * s1[k] * s2[k]) / ((double)n * (double)n);
}

int aiecg_powerline_detect(const float *x, int64_t n, double fs) {
    if (!x || n < 16 || !(fs > 0)) return 0;
    /* analyse at most 10 s: mains is stationary, and Goertzel is O(n) per bin */
    int64_t m = n;
    if (m > (int64_t)(10 * fs)) m = (int64_t)(10 * fs);
    for (int64_t i = 0; i < m; i++)
        if (!isfinite(x[i])) return 0;
    /* all bins in one pass over x (independent recurrences side by side; each bin's
       arithmetic is that of the former one-bin-per-pass loop, so the powers are the same to the bit) */
    double fr[14], pw[14];
    int nb = 0;
    for (int k = 0; k < 2; k++) {
        double f = k ? 60 : 50;
        fr[nb++] = f;
        for (double d = -4; d <= 4; d += 1)
            if (fabs(d) >= 2) fr[nb++] = f + d;
    }
    goertzel_multi(x, m, fs, fr, nb, pw);
    double best = 0;
    int which = 0;
    for (int k = 0; k < 2; k++) {
        double f = k ? 60 : 50;
        if (f >= fs / 2 - 1) continue;
        const double *pk = pw + 7 * k;
        double p = pk[0];
        /* neighbouring bins (ECG energy there is small and smooth) */
        double ref = 0;
        int nref = 0, j = 1;
        for (double d = -4; d <= 4; d += 1) {
            if (fabs(d) < 2) continue;
            double fq = f + d;
            double pj = pk[j++];
            if (fq <= 0 || fq >= fs / 2) continue;
            ref += pj;
            nref++;
        }
        ref = nref ? ref / nref : 0;
        /* amplitude of a sine A: power A^2/4 per bin; require >= 10 uV and 10x neighbours */
        double amp = 2 * sqrt(p);
        if (amp > 0.01 && p > 10 * ref && p > best) {
            best = p;
            which = (int)f;
        }
    }
    return which;
}

static int notch_sections(double fs, double mains, aiecg__biquad *s, int max) {
    int k = 0;
    for (int h = 1; k < max; h++) {
        double f = mains * h;
        if (f >= fs / 2 * 0.95) break;
        s[k++] = aiecg__biquad_notch(fs, f, 30.0);
    }
    return k;
}

aiecg_status aiecg_filter_powerline(float *x, int64_t n, double fs, double mains_hz) {
    if (!sanity(x, n, fs) || !(mains_hz > 0)) return AIECG_ERR_INVALID_ARG;
    aiecg__biquad s[16];
    int k = notch_sections(fs, mains_hz, s, 16);
    if (k == 0) return AIECG_OK;
    return aiecg__biquad_filtfilt(s, k, x, n);
}

aiecg_status aiecg_filter_lowpass(float *x, int64_t n, double fs, double cutoff_hz) {
    if (!sanity(x, n, fs) || !(cutoff_hz > 0)) return AIECG_ERR_INVALID_ARG;
    if (cutoff_hz >= fs / 2) return AIECG_OK;
    aiecg__biquad s[2];
    aiecg__butter_sections(fs, cutoff_hz, 2, 0, s);
    return aiecg__biquad_filtfilt(s, 2, x, n);
}

/* ---- streaming ------------------------------------------------------------ */
struct aiecg_filter_stream {
    aiecg_filter_kind kind;
    double fs;
    int64_t delay;
    /* IIR kinds */
    aiecg__biquad sec[16];
    double z[16][2];
    int nsec;
    /* baseline kind: 3 boxcars of length L over a ring of the last ring_len inputs */
    int L;
    double sum[BL_STAGES];
    double *ring[BL_STAGES];     /* ring[k]: input of stage k (ring[0] raw input) */
    int64_t ring_len, pos;
    int unzeroed; /* rings allocated but not yet zeroed: prime overwrites them all anyway */
};

aiecg_status aiecg_filter_stream_new(aiecg_filter_kind kind, double fs, const aiecg_filter_params *p,
                                     aiecg_filter_stream **out) {
    if (!out) return AIECG_ERR_INVALID_ARG;
    *out = NULL;
    if (!(fs > 0) || !isfinite(fs) || fs > 100000) return AIECG_ERR_INVALID_ARG;
    aiecg_filter_stream *s = aiecg__calloc(1, sizeof *s);
    if (!s) return AIECG_ERR_NOMEM;
    s->kind = kind;
    s->fs = fs;
    double cut = p ? p->cutoff_hz : 0;
    switch (kind) {
    case AIECG_FILTER_BASELINE: {
        s->L = baseline_len(fs, cut > 0 ? cut : 0.67);
        s->delay = (int64_t)BL_STAGES * (s->L - 1) / 2;
        s->ring_len = (int64_t)s->L + s->delay + 1;
        for (int k = 0; k < BL_STAGES; k++) {
            s->ring[k] = aiecg__malloc((size_t)s->ring_len * sizeof(double));
            if (!s->ring[k]) {
                aiecg_filter_stream_free(s);
                return AIECG_ERR_NOMEM;
            }
        }
        s->unzeroed = 1;
        break;
    }
    case AIECG_FILTER_POWERLINE: {
        double mains = p && p->mains_hz > 0 ? p->mains_hz : 50;
        s->nsec = notch_sections(fs, mains, s->sec, 16);
        s->delay = 0;
        break;
    }
    case AIECG_FILTER_LOWPASS: {
        double fc = cut > 0 ? cut : 40;
        if (fc >= fs / 2) {
            s->nsec = 0;
        } else {
            s->nsec = aiecg__butter_sections(fs, fc, 2, 0, s->sec);
        }
        s->delay = s->nsec ? (int64_t)lrint(cascade_group_delay(s->sec, s->nsec, fs, 5.0)) : 0;
        break;
    }
    default:
        aiecg__free(s);
        return AIECG_ERR_INVALID_ARG;
    }
    *out = s;
    return AIECG_OK;
}

int64_t aiecg_filter_stream_delay(const aiecg_filter_stream *s) { return s ? s->delay : 0; }

void aiecg_filter_stream_reset(aiecg_filter_stream *s) {
    if (!s) return;
    memset(s->z, 0, sizeof s->z);
    memset(s->sum, 0, sizeof s->sum);
    s->pos = 0;
    s->unzeroed = 0;
    for (int k = 0; k < BL_STAGES; k++)
        if (s->ring[k]) memset(s->ring[k], 0, (size_t)s->ring_len * sizeof(double));
}

void aiecg_filter_stream_prime(aiecg_filter_stream *s, float v) {
    if (!s) return;
    if (s->kind == AIECG_FILTER_BASELINE) {
        /* what reset would zero is all overwritten here, so it is not zeroed first */
        s->pos = 0;
        s->unzeroed = 0;
        for (int k = 0; k < BL_STAGES; k++)
            for (int64_t i = 0; i < s->ring_len; i++) s->ring[k][i] = v;
        for (int k = 0; k < BL_STAGES; k++) s->sum[k] = (double)v * s->L;
    } else {
        aiecg_filter_stream_reset(s);
        for (int k = 0; k < s->nsec; k++) bq_init_const(&s->sec[k], v, s->z[k]);
    }
}

void aiecg_filter_stream_free(aiecg_filter_stream *s) {
    if (!s) return;
    for (int k = 0; k < BL_STAGES; k++) aiecg__free(s->ring[k]);
    aiecg__free(s);
}

void aiecg_filter_stream_push(aiecg_filter_stream *s, const float *in, float *out, int64_t n) {
    if (!s || n <= 0) return;
    if (s->kind != AIECG_FILTER_BASELINE) {
        for (int64_t i = 0; i < n; i++) {
            float v = in[i];
            for (int k = 0; k < s->nsec; k++) v = bq_step(&s->sec[k], s->z[k], v);
            out[i] = v;
        }
        return;
    }
    if (s->unzeroed) aiecg_filter_stream_reset(s); /* a stream pushed without prime starts from zeros */
    /* Ring indices advance by one per sample and wrap by compare, not by `%`
       (three 64-bit divisions per sample were most of this filter's cost).
       Where no ring index wraps within the next 4 samples, the 4 samples go
       through one stage at a time: their reads of ring[k] (L samples back) and
       of ring[0] (D samples back) are of values written before them when
       L, D >= 4, so the stage order does not matter, and a stage's 4 divisions
       by L are independent (two divpd) instead of 3 dependent scalar divisions
       per sample. The arithmetic, and so every output bit, is that of the
       plain per-sample form. */
    const int64_t R = s->ring_len, L = s->L, D = s->delay;
    int64_t p = s->pos, old = (p - L + R) % R, dl = (p - D + R) % R;
    double *r0 = s->ring[0], *r1 = s->ring[1], *r2 = s->ring[2];
    double s0 = s->sum[0], s1 = s->sum[1], s2 = s->sum[2];
    const double dL = (double)L;
    const int grp = L >= 4 && D >= 4;
    int64_t i = 0;
    while (i < n) {
        if (grp && i + 4 <= n && p + 4 <= R && old + 4 <= R && dl + 4 <= R) {
            double t[4], u[4];
            for (int j = 0; j < 4; j++) u[j] = in[i + j];
            for (int j = 0; j < 4; j++) {
                double l0 = r0[old + j];
                r0[p + j] = u[j];
                s0 += u[j] - l0;
                t[j] = s0;
            }
            for (int j = 0; j < 4; j++) t[j] = t[j] / dL;
            for (int j = 0; j < 4; j++) {
                double l1 = r1[old + j];
                r1[p + j] = t[j];
                s1 += t[j] - l1;
                u[j] = s1;
            }
            for (int j = 0; j < 4; j++) u[j] = u[j] / dL;
            for (int j = 0; j < 4; j++) {
                double l2 = r2[old + j];
                r2[p + j] = u[j];
                s2 += u[j] - l2;
                t[j] = s2;
            }
            for (int j = 0; j < 4; j++) t[j] = t[j] / dL;
            for (int j = 0; j < 4; j++) out[i + j] = (float)(r0[dl + j] - t[j]);
            i += 4;
            if ((p += 4) == R) p = 0;
            if ((old += 4) == R) old = 0;
            if ((dl += 4) == R) dl = 0;
            continue;
        }
        double e0 = in[i];
        double l0 = r0[old], l1 = r1[old], l2 = r2[old];
        r0[p] = e0;
        s0 += e0 - l0;
        double e1 = s0 / dL;
        r1[p] = e1;
        s1 += e1 - l1;
        double e2 = s1 / dL;
        r2[p] = e2;
        s2 += e2 - l2;
        double e3 = s2 / dL;
        out[i] = (float)(r0[dl] - e3);
        i++;
        if (++p == R) p = 0;
        if (++old == R) old = 0;
        if (++dl == R) dl = 0;
    }
    s->sum[0] = s0;
    s->sum[1] = s1;
    s->sum[2] = s2;
    s->pos = p;
}
