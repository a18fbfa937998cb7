/*
 * F16C half -> float conversion of FP16 weights at load (compiled with
 * -mf16c; chosen only when aiecg_cpu_features() reports F16C). The plain C
 * twin is aiecg__f16_to_f32 in fp16.c; both are exact (every half is a float).
 */
#include "nn_int.h"

#include <immintrin.h>

void aiecg__f16_to_f32_f16c(const uint16_t *src, float *dst, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(src + i))));
    for (; i < n; i++) dst[i] = aiecg__f16_to_f32(src[i]);
}
