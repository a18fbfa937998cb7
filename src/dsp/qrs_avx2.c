/*
 * AVX2 twin of the QRS detector's stage-A band-pass (qrs.c: three cascaded
 * biquads per lead, Pan & Tompkins 1985 style pre-filtering) for four leads
 * at once, one lead per double lane. One lead's cascade is a chain of
 * dependent multiply-adds per sample (about 16 cycles of latency per
 * section), so four leads side by side take about the time of one. The
 * operations per lane are the plain loop's, in its order and without fused
 * multiply-add, and a non-finite input is replaced by the lane's last finite
 * one as there: the band-passed values are the same bits (test_qrs_simd).
 */
#include "dsp/dsp_int.h"

#include <immintrin.h>

void aiecg__qrs_bandpass4_avx2(const aiecg__biquad *sec, double (*z)[3][2], float *last, const float *const *in,
                               int64_t m, float *out) {
    __m256d b0[3], b1[3], b2[3], a1[3], a2[3], z0[3], z1[3];
    for (int s = 0; s < 3; s++) {
        b0[s] = _mm256_set1_pd(sec[s].b0);
        b1[s] = _mm256_set1_pd(sec[s].b1);
        b2[s] = _mm256_set1_pd(sec[s].b2);
        a1[s] = _mm256_set1_pd(sec[s].a1);
        a2[s] = _mm256_set1_pd(sec[s].a2);
        z0[s] = _mm256_set_pd(z[3][s][0], z[2][s][0], z[1][s][0], z[0][s][0]);
        z1[s] = _mm256_set_pd(z[3][s][1], z[2][s][1], z[1][s][1], z[0][s][1]);
    }
    const __m128 inf = _mm_set1_ps(INFINITY), sign = _mm_set1_ps(-0.0f);
    __m128 lastv = _mm_loadu_ps(last);
    const float *i0 = in[0], *i1 = in[1], *i2 = in[2], *i3 = in[3];
    for (int64_t j = 0; j < m; j++) {
        __m128 x = _mm_set_ps(i3[j], i2[j], i1[j], i0[j]);
        __m128 fin = _mm_cmplt_ps(_mm_andnot_ps(sign, x), inf); /* false for NaN and +-inf */
        x = _mm_or_ps(_mm_and_ps(fin, x), _mm_andnot_ps(fin, lastv));
        lastv = x;
        __m256d v = _mm256_cvtps_pd(x);
        for (int s = 0; s < 3; s++) {
            __m256d y = _mm256_add_pd(_mm256_mul_pd(b0[s], v), z0[s]);
            z0[s] = _mm256_add_pd(_mm256_sub_pd(_mm256_mul_pd(b1[s], v), _mm256_mul_pd(a1[s], y)), z1[s]);
            z1[s] = _mm256_sub_pd(_mm256_mul_pd(b2[s], v), _mm256_mul_pd(a2[s], y));
            v = y;
        }
        _mm_storeu_ps(out + 4 * j, _mm256_cvtpd_ps(v));
    }
    _mm_storeu_ps(last, lastv);
    double t0[4], t1[4];
    for (int s = 0; s < 3; s++) {
        _mm256_storeu_pd(t0, z0[s]);
        _mm256_storeu_pd(t1, z1[s]);
        for (int l = 0; l < 4; l++) {
            z[l][s][0] = t0[l];
            z[l][s][1] = t1[l];
        }
    }
}
