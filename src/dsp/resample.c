/*
 * Rational polyphase resampling (Crochiere & Rabiner, "Multirate Digital
 * Signal Processing", 1983): upsample by L, low-pass, downsample by M, with
 * the prototype low-pass a Kaiser-windowed sinc (Kaiser 1974; beta 8.0,
 * about 80 dB stop-band) of 24 zero crossings each side at the narrower of
 * the two Nyquist rates (cut-off at 0.9 of it). fs_out/fs_in is approximated
 * by L/M with L, M <= 1000 (continued fractions), so 500->100 is 1/5,
 * 360->500 is 25/18, 1000->250 is 1/4.
 *
 * Output m is the signal at time m/fs_out exactly (the filter is symmetric
 * and centred), so the batch function is zero-phase. The stream holds the
 * first input as the value before time 0 and, at _finish, the last input as
 * the value after the end, which keeps the record edges free of a step.
 * Inputs are kept twice in a ring so each output is one contiguous dot product.
 * Only the kept outputs are computed (500->100 is a direct decimating FIR,
 * T = 241 MACs per output); the taps are stored time-reversed so the dot
 * product runs forward over both operands, in eight float lanes that the
 * compiler keeps in vector registers. aiecg_resample does not run the
 * per-sample stream: it pads the whole input once (first/last value, as the
 * stream does) and evaluates the same kernel on it, so stream and batch stay
 * bit-identical.
 */
#include "dsp/dsp_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#define RS_ZEROS 24
#define RS_BETA 8.0
#define RS_MAX_FACTOR 1000

struct aiecg_resampler {
    int L, M;
    int T;          /* taps per phase */
    int D;          /* look-ahead in input samples: ceil(H / L) */
    float *taps;    /* [L][T]: taps[phi][j] multiplies x[q - D + j] (time-reversed kernel) */
    float *hist;    /* 2 * R floats: x[k] at k % R and k % R + R */
    int64_t R;
    int64_t nin;    /* inputs received */
    int64_t nout;   /* outputs produced */
    int64_t wpos;   /* nin % R */
    int64_t q;      /* input index of output nout: floor(nout * M / L) */
    int phi;        /* its phase: nout * M mod L */
    int qstep, pstep; /* M / L, M % L */
    float last;
    int started;
    double fs_in, fs_out;
    float (*dot)(const float *, const float *, int); /* dot_taps or its AVX2 twin */
    void (*dot4)(const float *const *, const float *const *, int, float *); /* four dots, the same bits */
};

/* sum_j h[j] x[j] in eight independent float lanes (vectorisable), lanes summed in double. */
static float dot_taps(const float *restrict h, const float *restrict x, int T) {
    float a[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int j = 0;
    for (; j + 8 <= T; j += 8)
        for (int k = 0; k < 8; k++) a[k] += h[j + k] * x[j + k];
    double acc = 0;
    for (; j < T; j++) acc += (double)h[j] * x[j];
    for (int k = 0; k < 8; k++) acc += a[k];
    return (float)acc;
}

static void dot_taps4(const float *const *h, const float *const *x, int T, float *out) {
    for (int o = 0; o < 4; o++) out[o] = dot_taps(h[o], x[o], T);
}

static double bessel_i0(double x) {
    double s = 1, t = 1;
    for (int k = 1; k < 50; k++) {
        t *= (x / (2 * k)) * (x / (2 * k));
        s += t;
        if (t < 1e-12 * s) break;
    }
    return s;
}

static int64_t gcd64(int64_t a, int64_t b) {
    while (b) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* Best rational L/M ~ r with L, M <= RS_MAX_FACTOR. */
static void rational(double fs_in, double fs_out, int *L, int *M) {
    if (fs_in == floor(fs_in) && fs_out == floor(fs_out) && fs_in < 1e9 && fs_out < 1e9) {
        int64_t a = (int64_t)fs_out, b = (int64_t)fs_in, g = gcd64(a, b);
        a /= g;
        b /= g;
        if (a <= RS_MAX_FACTOR && b <= RS_MAX_FACTOR) {
            *L = (int)a;
            *M = (int)b;
            return;
        }
    }
    double r = fs_out / fs_in, x = r;
    int64_t p0 = 0, q0 = 1, p1 = 1, q1 = 0;
    int bestL = (int)fmax(1, lrint(r)), bestM = 1;
    for (int it = 0; it < 40; it++) {
        double a = floor(x);
        int64_t p2 = (int64_t)a * p1 + p0, q2 = (int64_t)a * q1 + q0;
        if (p2 > RS_MAX_FACTOR || q2 > RS_MAX_FACTOR || p2 < 1) break;
        bestL = (int)p2;
        bestM = (int)q2;
        p0 = p1;
        q0 = q1;
        p1 = p2;
        q1 = q2;
        double f = x - a;
        if (f < 1e-12) break;
        x = 1 / f;
    }
    *L = bestL;
    *M = bestM;
}

aiecg_status aiecg_resampler_new(double fs_in, double fs_out, aiecg_resampler **out) {
    if (!out) return AIECG_ERR_INVALID_ARG;
    *out = NULL;
    if (!(fs_in > 0) || !(fs_out > 0) || !isfinite(fs_in) || !isfinite(fs_out) || fs_in > 1e6 ||
        fs_out > 1e6)
        return AIECG_ERR_INVALID_ARG;
    aiecg_resampler *r = aiecg__calloc(1, sizeof *r);
    if (!r) return AIECG_ERR_NOMEM;
    r->fs_in = fs_in;
    r->fs_out = fs_out;
    rational(fs_in, fs_out, &r->L, &r->M);
    int L = r->L, M = r->M, mx = L > M ? L : M;
    double fc = 0.5 / mx * 0.9; /* cycles per upsampled sample */
    int H = RS_ZEROS * mx;      /* half-length, upsampled samples */
    if (L == 1 && M == 1) H = 0;
    r->D = (H + L - 1) / L;
    r->T = 2 * r->D + 1;
    r->taps = aiecg__calloc((size_t)L * (size_t)r->T, sizeof(float));
    r->R = r->T + 1;
    r->hist = aiecg__calloc((size_t)(2 * r->R), sizeof(float));
    if (!r->taps || !r->hist) {
        aiecg_resampler_free(r);
        return AIECG_ERR_NOMEM;
    }
    double i0b = bessel_i0(RS_BETA);
    /* the prototype is even in k and its formula is exactly so in floating point (t*t, and
       sin(-a)/(-a) == sin(a)/a), so it is evaluated for k >= 0 only, once per k, and mirrored */
    double *proto = H ? aiecg__malloc((size_t)(H + 1) * sizeof *proto) : NULL;
    if (H && !proto) {
        aiecg_resampler_free(r);
        return AIECG_ERR_NOMEM;
    }
    for (int k = 0; k <= H && H; k++) {
        double t = (double)k / H;
        double w = bessel_i0(RS_BETA * sqrt(fmax(0, 1 - t * t))) / i0b;
        double a = 2 * M_PI * fc * k;
        double sn = k == 0 ? 1 : sin(a) / a;
        proto[k] = 2 * fc * sn * w * L;
    }
    for (int phi = 0; phi < L; phi++) {
        for (int i = 0; i < r->T; i++) {
            /* x[q + D - i] sits at upsampled offset u - (q + D - i) L = phi + (i - D) L */
            int k = phi + (i - r->D) * L;
            double h = 0;
            if (H == 0)
                h = k == 0 ? 1 : 0;
            else if (abs(k) <= H)
                h = proto[abs(k)];
            r->taps[(size_t)phi * r->T + i] = (float)h;
        }
    }
    aiecg__free(proto);
    /* normalise each phase to unit DC gain (removes the small ripple of the window) */
    for (int phi = 0; phi < L && H; phi++) {
        double s = 0;
        for (int i = 0; i < r->T; i++) s += r->taps[(size_t)phi * r->T + i];
        if (s != 0)
            for (int i = 0; i < r->T; i++) r->taps[(size_t)phi * r->T + i] = (float)(r->taps[(size_t)phi * r->T + i] / s);
    }
    /* time-reverse each phase: taps[phi][j] then multiplies the j-th oldest input of the window */
    for (int phi = 0; phi < L; phi++) {
        float *h = r->taps + (size_t)phi * r->T;
        for (int i = 0, j = r->T - 1; i < j; i++, j--) {
            float t = h[i];
            h[i] = h[j];
            h[j] = t;
        }
    }
    r->qstep = M / L;
    r->pstep = M % L;
    r->dot = dot_taps;
    r->dot4 = dot_taps4;
#if defined(__x86_64__) || defined(_M_X64)
    {
        uint32_t f = aiecg_cpu_features();
        if ((f & AIECG_CPU_AVX2) && (f & AIECG_CPU_FMA)) {
            r->dot = aiecg__dot_taps_avx2;
            r->dot4 = aiecg__dot_taps4_avx2;
        }
    }
#endif
    *out = r;
    return AIECG_OK;
}

void aiecg_resampler_free(aiecg_resampler *r) {
    if (!r) return;
    aiecg__free(r->taps);
    aiecg__free(r->hist);
    aiecg__free(r);
}

void aiecg_resampler_reset(aiecg_resampler *r) {
    if (!r) return;
    r->nin = r->nout = 0;
    r->wpos = 0;
    r->q = 0;
    r->phi = 0;
    r->started = 0;
    r->last = 0;
    memset(r->hist, 0, (size_t)(2 * r->R) * sizeof(float));
}

int64_t aiecg_resampler_delay(const aiecg_resampler *r) { return r ? r->D : 0; }

void aiecg_resampler_ratio(const aiecg_resampler *r, int *up, int *down) {
    if (up) *up = r ? r->L : 0;
    if (down) *down = r ? r->M : 0;
}

static inline void put(aiecg_resampler *r, float v) {
    int64_t k = r->wpos;
    r->hist[k] = v;
    r->hist[k + r->R] = v;
    r->nin++;
    if (++r->wpos == r->R) r->wpos = 0;
}

static inline void advance(aiecg_resampler *r) {
    r->nout++;
    r->q += r->qstep;
    r->phi += r->pstep;
    if (r->phi >= r->L) {
        r->phi -= r->L;
        r->q++;
    }
}

/* Emits every output whose newest needed input (q + D) has arrived. */
static aiecg_status drain(aiecg_resampler *r, int64_t avail, float *out, int64_t max_out, int64_t *nout,
                          int64_t limit) {
    const int T = r->T, D = r->D;
    aiecg_status st = AIECG_OK;
    for (;;) {
        if (limit >= 0 && r->nout >= limit) break;
        int64_t q = r->q;
        if (q + D >= avail) break;
        /* inputs q + D - T + 1 .. q + D, oldest first, are contiguous in hist */
        int64_t newest = q + D, oldest = newest - T + 1;
        int64_t start = ((oldest % r->R) + r->R) % r->R;
        const float *x = r->hist + start; /* x[j] = input oldest + j */
        const float *h = r->taps + (size_t)r->phi * T;
        if (*nout < max_out)
            out[(*nout)++] = r->dot(h, x, T);
        else
            st = AIECG_ERR_LIMIT;
        advance(r);
    }
    return st;
}

aiecg_status aiecg_resampler_push(aiecg_resampler *r, const float *in, int64_t n, float *out,
                                  int64_t max_out, int64_t *nout) {
    if (!r || !nout || (n > 0 && !in)) return AIECG_ERR_INVALID_ARG;
    *nout = 0;
    aiecg_status st = AIECG_OK;
    for (int64_t i = 0; i < n; i++) {
        if (!r->started) {
            /* history before time 0 holds the first value */
            r->started = 1;
            for (int64_t k = 0; k < 2 * r->R; k++) r->hist[k] = in[0];
            r->nin = 0;
            r->wpos = 0;
            /* pretend D samples of in[0] precede it: indices -D..-1 are already in hist */
        }
        put(r, in[i]);
        r->last = in[i];
        if (r->q + r->D < r->nin) {
            aiecg_status s2 = drain(r, r->nin, out, max_out, nout, -1);
            if (s2) st = s2;
        }
    }
    return st;
}

aiecg_status aiecg_resampler_finish(aiecg_resampler *r, float *out, int64_t max_out, int64_t *nout) {
    if (!r || !nout) return AIECG_ERR_INVALID_ARG;
    *nout = 0;
    if (!r->started) return AIECG_OK;
    int64_t real = r->nin;
    int64_t target = (real * r->L + r->M / 2) / r->M;
    aiecg_status st = AIECG_OK;
    while (r->nout < target) {
        put(r, r->last);
        aiecg_status s2 = drain(r, r->nin, out, max_out, nout, target);
        if (s2) st = s2;
    }
    r->nin = real;
    r->wpos = real % r->R;
    return st;
}

aiecg_status aiecg_resampler_run(const aiecg_resampler *r, const float *x, int64_t n, float **out,
                                 int64_t *nout) {
    if (!r || !out || !nout || (n > 0 && !x) || n < 0) return AIECG_ERR_INVALID_ARG;
    *out = NULL;
    *nout = 0;
    double fs_in = r->fs_in, fs_out = r->fs_out;
    int64_t want = llround((double)n * fs_out / fs_in);
    int64_t cap = (int64_t)((double)n * r->L / r->M) + 4;
    if (cap < want) cap = want;
    float *y = aiecg__malloc((size_t)(cap > 0 ? cap : 1) * sizeof *y);
    if (!y) return AIECG_ERR_NOMEM;
    int64_t got = 0;
    if (n > 0) {
        /* What push + finish compute, without the ring: the stream's history is in[0] before time 0
           and its flush repeats the last input, so pad once and slide the same kernel along. */
        const int T = r->T, D = r->D;
        int64_t target = (n * r->L + r->M / 2) / r->M;
        int64_t pushable = 0; /* outputs push alone would emit: q + D <= n - 1 */
        int64_t span = target;
        {
            /* count with the same incremental (q, phi) walk the stream uses */
            int64_t q = 0;
            int phi = 0;
            for (int64_t m = 0;; m++) {
                if (q + D > n - 1) break;
                pushable = m + 1;
                q += r->qstep;
                phi += r->pstep;
                if (phi >= r->L) {
                    phi -= r->L;
                    q++;
                }
            }
        }
        if (pushable > span) span = pushable;
        if (span > cap) {
            aiecg__free(y);
            return AIECG_ERR_LIMIT;
        }
        int64_t qmax = ((span > 0 ? span - 1 : 0) * r->M) / r->L;
        int64_t np = qmax + 2 * (int64_t)D + 2; /* xp[k] = input k - D, clamped to the ends */
        if (np < n + 2 * (int64_t)D) np = n + 2 * (int64_t)D;
        float *xp = aiecg__malloc((size_t)np * sizeof *xp);
        if (!xp) {
            aiecg__free(y);
            return AIECG_ERR_NOMEM;
        }
        for (int64_t k = 0; k < D && k < np; k++) xp[k] = x[0];
        memcpy(xp + D, x, (size_t)n * sizeof *x);
        for (int64_t k = D + n; k < np; k++) xp[k] = x[n - 1];
        int64_t q = 0;
        int phi = 0;
        /* outputs four at a time (dot4 gives each the bits dot would: stream == batch) */
        const float *hs[4], *xs[4];
        int k4 = 0;
        for (int64_t m = 0; m < span; m++) {
            hs[k4] = r->taps + (size_t)phi * T; /* window q - D .. q + D */
            xs[k4] = xp + q;
            if (++k4 == 4) {
                r->dot4(hs, xs, T, y + m - 3);
                k4 = 0;
            }
            q += r->qstep;
            phi += r->pstep;
            if (phi >= r->L) {
                phi -= r->L;
                q++;
            }
        }
        for (int k = 0; k < k4; k++) y[span - k4 + k] = r->dot(hs[k], xs[k], T);
        aiecg__free(xp);
        got = span;
    }
    for (int64_t i = got; i < want; i++) y[i] = got ? y[got - 1] : 0;
    *out = y;
    *nout = want;
    return AIECG_OK;
}

aiecg_status aiecg_resample(const float *x, int64_t n, double fs_in, double fs_out, float **out,
                            int64_t *nout) {
    if (!out || !nout || (n > 0 && !x) || n < 0) return AIECG_ERR_INVALID_ARG;
    *out = NULL;
    *nout = 0;
    aiecg_resampler *r = NULL;
    aiecg_status st = aiecg_resampler_new(fs_in, fs_out, &r);
    if (st) return st;
    st = aiecg_resampler_run(r, x, n, out, nout);
    aiecg_resampler_free(r);
    return st;
}

aiecg_status aiecg_record_resample(const aiecg_record *rec, double fs_out, aiecg_record **out,
                                   aiecg_error *err) {
    if (!rec || !out) return aiecg__error_set(err, AIECG_ERR_INVALID_ARG, "resample: NULL argument");
    *out = NULL;
    double fs = aiecg_record_fs(rec);
    int nl = aiecg_record_nleads(rec);
    int64_t n = aiecg_record_nsamples(rec);
    int64_t m = llround((double)n * fs_out / fs);
    aiecg_resampler *plan = NULL;
    aiecg_status st = aiecg_resampler_new(fs, fs_out, &plan);
    if (st) return aiecg__error_set(err, st, "resample: %s", aiecg_strerror(st));
    aiecg_record *o = NULL;
    st = aiecg_record_new(nl, m, fs_out, 0, &o, err);
    if (st) {
        aiecg_resampler_free(plan);
        return st;
    }
    aiecg_record_meta meta;
    aiecg_record_meta_get(rec, &meta);
    st = aiecg_record_set_meta(o, &meta);
    for (int l = 0; l < nl && !st; l++) {
        aiecg_lead_info li;
        st = aiecg_record_lead_info(rec, l, &li);
        if (st) break;
        li.checksum_state = AIECG_CHECKSUM_ABSENT;
        st = aiecg_record_set_lead(o, l, &li);
        if (st) break;
        float *y = NULL;
        int64_t ny = 0;
        st = aiecg_resampler_run(plan, aiecg_record_lead_data(rec, l), n, &y, &ny); /* one filter bank for all leads */
        if (st) break;
        memcpy(aiecg_record_lead_data_mut(o, l), y, (size_t)(ny < m ? ny : m) * sizeof(float));
        aiecg__free(y);
    }
    const aiecg_annotation *a = aiecg_record_annotations(rec);
    for (int64_t i = 0; i < aiecg_record_nannotations(rec) && !st; i++) {
        aiecg_annotation b = a[i];
        b.sample = llround((double)a[i].sample * fs_out / fs);
        if (b.sample >= m) b.sample = m > 0 ? m - 1 : 0;
        st = aiecg_record_add_annotation(o, &b);
    }
    for (int i = 0; i < aiecg_record_nstatements(rec) && !st; i++)
        st = aiecg_record_add_statement(o, aiecg_record_statement(rec, i));
    aiecg_resampler_free(plan);
    if (st) {
        aiecg_record_free(o);
        return aiecg__error_set(err, st, "resample: %s", aiecg_strerror(st));
    }
    *out = o;
    return AIECG_OK;
}
