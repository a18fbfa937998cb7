/*
 * AVX2 + FMA twin of resample.c's dot_taps (the polyphase FIR inner product):
 * sixteen float lanes in two fused multiply-add accumulators, lanes and tail
 * summed in double as the plain C form does. Chosen at aiecg_resampler_new from
 * aiecg_cpu_features(); the stream and the batch paths of one resampler use the
 * same kernel, so they stay bit-identical to each other (the fused rounding makes
 * the outputs differ from the plain C kernel's in the last float bits).
 */
#include "dsp/dsp_int.h"

#include <immintrin.h>

float aiecg__dot_taps_avx2(const float *h, const float *x, int T) {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    int j = 0;
    for (; j + 16 <= T; j += 16) {
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(h + j), _mm256_loadu_ps(x + j), a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(h + j + 8), _mm256_loadu_ps(x + j + 8), a1);
    }
    float l[16];
    _mm256_storeu_ps(l, a0);
    _mm256_storeu_ps(l + 8, a1);
    double acc = 0;
    for (; j < T; j++) acc += (double)h[j] * x[j];
    for (int k = 0; k < 16; k++) acc += l[k];
    return (float)acc;
}
