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

/* Four outputs at once, each with aiecg__dot_taps_avx2's arithmetic to the bit (the same fused
   multiply-adds into the same two accumulators, the same tail and lane sum in double): the
   lane sums are a serial chain of 16 double additions per output, so four outputs side by side
   keep the adder busy where one waits on its own chain. */
void aiecg__dot_taps4_avx2(const float *const *h, const float *const *x, int T, float *out) {
    __m256 a0[4], a1[4];
    for (int o = 0; o < 4; o++) a0[o] = a1[o] = _mm256_setzero_ps();
    int j = 0;
    for (; j + 16 <= T; j += 16)
        for (int o = 0; o < 4; o++) {
            a0[o] = _mm256_fmadd_ps(_mm256_loadu_ps(h[o] + j), _mm256_loadu_ps(x[o] + j), a0[o]);
            a1[o] = _mm256_fmadd_ps(_mm256_loadu_ps(h[o] + j + 8), _mm256_loadu_ps(x[o] + j + 8), a1[o]);
        }
    float l[4][16];
    double acc[4];
    for (int o = 0; o < 4; o++) {
        _mm256_storeu_ps(l[o], a0[o]);
        _mm256_storeu_ps(l[o] + 8, a1[o]);
        acc[o] = 0;
        for (int k = j; k < T; k++) acc[o] += (double)h[o][k] * x[o][k];
    }
    for (int k = 0; k < 16; k++)
        for (int o = 0; o < 4; o++) acc[o] += l[o][k];
    for (int o = 0; o < 4; o++) out[o] = (float)acc[o];
}
