/*
 * AVX2 + FMA twin of filter.c's baseline stream (three cascaded boxcars of
 * odd length L, subtracted from the input delayed by D = 3(L-1)/2), run over
 * up to twelve channels at once: channels are the vector lanes (4 per ymm,
 * 3 ymm side by side), so each channel's running sums are independent chains
 * that overlap in the pipeline instead of one chain per call.
 *
 * The three divisions per sample by L (the plain form's cost: the divider
 * passes ~0.5 doubles a cycle whatever the vector width) are replaced by an
 * exact reciprocal step: q0 = s * r with r = RN(1/L), e = s - q0 L (one fused
 * multiply-add; exact: L is an integer and q0 within a few ulps of s/L, so e is a
 * multiple of ulp(q0) of a few times L in magnitude), q = RN(q0 + e r) (fused).
 * q equals RN(s/L) for every finite s: the fused sum misses s/L by at most
 * |q0 - s/L| * 2^-53 (about 2^-52 ulp), while s/L lies at least ulp/(2L)
 * away from any rounding midpoint (L odd and far below 2^50: s/L is never a midpoint, and
 * s - M L is a non-zero multiple of ulp/2 for a midpoint M). See Markstein,
 * IBM J. Res. Dev. 34 (1990) 111 for the fused-correction idea. A zero sum
 * comes out +0, which is what the division gives: a divided sum is never -0
 * (a sum is -0 only as primed with v = -0, and its first update adds
 * u - l = u - (-0), which is +0 for u = -0, so it leaves -0 for good before it
 * is divided). Callers route channels holding non-finite values to the plain
 * form. So the output is bit-identical to aiecg_filter_baseline
 * (test_baseline_multi).
 *
 * Also here: one biquad section over up to twelve interleaved channels (the
 * zero-phase low-pass of aiecg__biquad_filtfilt_multi), the plain step's
 * operations per lane without fused multiply-adds, so the same bits
 * (test_filter_fastpaths).
 */
#include "dsp/dsp_int.h"

#include <immintrin.h>

/* RN(s / L) for finite s not -0 (see above); r = RN(1 / L) */
static inline __m256d div_L(__m256d s, __m256d Ld, __m256d r) {
    __m256d q0 = _mm256_mul_pd(s, r);
    __m256d e = _mm256_fnmadd_pd(q0, Ld, s);
    return _mm256_fmadd_pd(e, r, q0);
}

/* G groups of 4 channels (G a compile-time constant after inlining). t has D + m rows of 4 G
   floats: rows D.. hold the input, rows < D are filled here with the priming value (row D), the
   stream's ring of raw input is t itself (L and D rows back), and output row i overwrites row i,
   the input D samples back, once read: D > L, so no later step reads it. */
static inline __attribute__((always_inline)) void run_groups(float *t, int64_t m, int G, double *r1, double *r2,
                                                             int L, int64_t D) {
    const int W = 4 * G;
    const __m256d Ld = _mm256_set1_pd((double)L), rc = _mm256_set1_pd(1.0 / (double)L);
    __m256d s0[3], s1[3], s2[3];
    for (int g = 0; g < G; g++) {
        /* prime: every earlier input and every stage's ring slot hold the first value, each sum is v * L */
        __m128 v4 = _mm_loadu_ps(t + D * W + 4 * g);
        __m256d v = _mm256_cvtps_pd(v4);
        for (int64_t i = 0; i < D; i++) _mm_storeu_ps(t + i * W + 4 * g, v4);
        for (int i = 0; i < L; i++) {
            _mm256_storeu_pd(r1 + i * W + 4 * g, v);
            _mm256_storeu_pd(r2 + i * W + 4 * g, v);
        }
        s0[g] = s1[g] = s2[g] = _mm256_mul_pd(v, Ld);
    }
    int p = 0;
    for (int64_t i = 0; i < m; i++) {
        float *in = t + (D + i) * W, *old = in - (int64_t)L * W, *dl = t + i * W;
        double *a1 = r1 + (int64_t)p * W, *a2 = r2 + (int64_t)p * W;
        for (int g = 0; g < G; g++) {
            __m256d u = _mm256_cvtps_pd(_mm_loadu_ps(in + 4 * g));
            __m256d l0 = _mm256_cvtps_pd(_mm_loadu_ps(old + 4 * g));
            __m256d l1 = _mm256_loadu_pd(a1 + 4 * g), l2 = _mm256_loadu_pd(a2 + 4 * g);
            s0[g] = _mm256_add_pd(s0[g], _mm256_sub_pd(u, l0));
            __m256d e1 = div_L(s0[g], Ld, rc);
            _mm256_storeu_pd(a1 + 4 * g, e1);
            s1[g] = _mm256_add_pd(s1[g], _mm256_sub_pd(e1, l1));
            __m256d e2 = div_L(s1[g], Ld, rc);
            _mm256_storeu_pd(a2 + 4 * g, e2);
            s2[g] = _mm256_add_pd(s2[g], _mm256_sub_pd(e2, l2));
            __m256d e3 = div_L(s2[g], Ld, rc);
            __m256d y = _mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(dl + 4 * g)), e3);
            _mm_storeu_ps(dl + 4 * g, _mm256_cvtpd_ps(y));
        }
        if (++p == L) p = 0;
    }
}

/* Transposes 4 x 4 floats: rows a[k] (k < 4, 4 floats each) to columns. */
static inline void transpose4(__m128 *r0, __m128 *r1, __m128 *r2, __m128 *r3) {
    __m128 t0 = _mm_unpacklo_ps(*r0, *r1), t1 = _mm_unpacklo_ps(*r2, *r3);
    __m128 t2 = _mm_unpackhi_ps(*r0, *r1), t3 = _mm_unpackhi_ps(*r2, *r3);
    *r0 = _mm_movelh_ps(t0, t1);
    *r1 = _mm_movehl_ps(t1, t0);
    *r2 = _mm_movelh_ps(t2, t3);
    *r3 = _mm_movehl_ps(t3, t2);
}

void aiecg__baseline_multi_avx2(float *const *x, int nc, int64_t n, const int *ok, float *t, double *ring, int L,
                                int64_t D) {
    const int G = (nc + 3) / 4, W = 4 * G;
    const int64_t pad = D + 1, m = n + 2 * pad;
    const float *src[12];
    for (int j = 0; j < W; j++) src[j] = x[j < nc ? j : 0]; /* idle lanes repeat channel 0, unused */
    float *in = t + D * W; /* padded input: row i = padded sample i, as aiecg_filter_baseline pads */
    for (int64_t i = 0; i < pad; i++) {
        int64_t k0 = pad - i, k1 = n - 2 - i;
        if (k0 > n - 1) k0 = n - 1;
        if (k1 < 0) k1 = 0;
        for (int j = 0; j < W; j++) {
            in[i * W + j] = 2 * src[j][0] - src[j][k0];
            in[(pad + n + i) * W + j] = 2 * src[j][n - 1] - src[j][k1];
        }
    }
    float *body = in + pad * W;
    for (int g = 0; g < G; g++) {
        const float *a = src[4 * g], *b = src[4 * g + 1], *c = src[4 * g + 2], *d = src[4 * g + 3];
        int64_t i = 0;
        for (; i + 4 <= n; i += 4) {
            __m128 r0 = _mm_loadu_ps(a + i), r1 = _mm_loadu_ps(b + i), r2 = _mm_loadu_ps(c + i),
                   r3 = _mm_loadu_ps(d + i);
            transpose4(&r0, &r1, &r2, &r3);
            _mm_storeu_ps(body + i * W + 4 * g, r0);
            _mm_storeu_ps(body + (i + 1) * W + 4 * g, r1);
            _mm_storeu_ps(body + (i + 2) * W + 4 * g, r2);
            _mm_storeu_ps(body + (i + 3) * W + 4 * g, r3);
        }
        for (; i < n; i++)
            for (int j = 0; j < 4; j++) body[i * W + 4 * g + j] = src[4 * g + j][i];
    }
    aiecg__baseline_groups_avx2(t, m, G, ring, L, D);
    /* output y[i] is the input i - D: sample k of a channel is row pad + D + k */
    const float *out = t + (pad + D) * W;
    for (int g = 0; g < G; g++) {
        int full = 4 * g + 3 < nc && ok[4 * g] && ok[4 * g + 1] && ok[4 * g + 2] && ok[4 * g + 3];
        int64_t i = 0;
        if (full) {
            float *a = x[4 * g], *b = x[4 * g + 1], *c = x[4 * g + 2], *d = x[4 * g + 3];
            for (; i + 4 <= n; i += 4) {
                __m128 r0 = _mm_loadu_ps(out + i * W + 4 * g), r1 = _mm_loadu_ps(out + (i + 1) * W + 4 * g),
                       r2 = _mm_loadu_ps(out + (i + 2) * W + 4 * g), r3 = _mm_loadu_ps(out + (i + 3) * W + 4 * g);
                transpose4(&r0, &r1, &r2, &r3);
                _mm_storeu_ps(a + i, r0);
                _mm_storeu_ps(b + i, r1);
                _mm_storeu_ps(c + i, r2);
                _mm_storeu_ps(d + i, r3);
            }
        }
        for (int j = 4 * g; j < 4 * g + 4 && j < nc; j++)
            if (ok[j])
                for (int64_t k = i; k < n; k++) x[j][k] = out[k * W + j];
    }
}

void aiecg__baseline_groups_avx2(float *t, int64_t m, int G, double *ring, int L, int64_t D) {
    double *r1 = ring, *r2 = ring + (int64_t)L * 4 * G;
    switch (G) {
    case 1: run_groups(t, m, 1, r1, r2, L, D); break;
    case 2: run_groups(t, m, 2, r1, r2, L, D); break;
    default: run_groups(t, m, 3, r1, r2, L, D); break;
    }
}

/* One biquad section over G <= 3 groups of 4 interleaved channels t[m][4 G], forward
   (backward != 0: from the last row down), state z0/z1 per lane given: the plain loop's
   operations in the same order per lane (no fused multiply-add), so the same bits. */
static inline __attribute__((always_inline)) void bq_groups(float *t, int64_t m, int G, const aiecg__biquad *s,
                                                            const double *z0i, const double *z1i, int backward) {
    const int W = 4 * G;
    const __m256d b0 = _mm256_set1_pd(s->b0), b1 = _mm256_set1_pd(s->b1), b2 = _mm256_set1_pd(s->b2),
                  a1 = _mm256_set1_pd(s->a1), a2 = _mm256_set1_pd(s->a2);
    __m256d z0[3], z1[3];
    for (int g = 0; g < G; g++) {
        z0[g] = _mm256_loadu_pd(z0i + 4 * g);
        z1[g] = _mm256_loadu_pd(z1i + 4 * g);
    }
    const int64_t step = backward ? -W : W;
    float *ti = backward ? t + (m - 1) * W : t;
    for (int64_t i = 0; i < m; i++, ti += step)
        for (int g = 0; g < G; g++) {
            __m256d x = _mm256_cvtps_pd(_mm_loadu_ps(ti + 4 * g));
            __m256d y = _mm256_add_pd(_mm256_mul_pd(b0, x), z0[g]);
            z0[g] = _mm256_add_pd(_mm256_sub_pd(_mm256_mul_pd(b1, x), _mm256_mul_pd(a1, y)), z1[g]);
            z1[g] = _mm256_sub_pd(_mm256_mul_pd(b2, x), _mm256_mul_pd(a2, y));
            _mm_storeu_ps(ti + 4 * g, _mm256_cvtpd_ps(y));
        }
}

void aiecg__biquad_pass_avx2(float *t, int64_t m, int G, const aiecg__biquad *s, const double *z0, const double *z1,
                             int backward) {
    switch (G) {
    case 1: bq_groups(t, m, 1, s, z0, z1, backward); break;
    case 2: bq_groups(t, m, 2, s, z0, z1, backward); break;
    default: bq_groups(t, m, 3, s, z0, z1, backward); break;
    }
}
