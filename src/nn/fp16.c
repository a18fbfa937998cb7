/*
 * IEEE 754 binary16 <-> binary32 conversion for FP16 weight storage in .aiem
 * files. Weights are converted once at load into an FP32 copy (F16C when the
 * CPU has it, this portable twin otherwise); all arithmetic stays FP32.
 * Rounding is round-to-nearest-even, matching F16C's _MM_FROUND_TO_NEAREST_INT
 * and numpy's astype(float16).
 */
#include "nn_int.h"

#include <string.h>

uint16_t aiecg__f32_to_f16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t mant = x & 0x7fffffu;
    int32_t exp = (int32_t)((x >> 23) & 0xffu);
    if (exp == 0xff) return (uint16_t)(sign | 0x7c00u | (mant ? 0x200u : 0)); /* inf / nan */
    exp = exp - 127 + 15;
    if (exp >= 0x1f) return (uint16_t)(sign | 0x7c00u); /* overflow -> inf */
    if (exp <= 0) {
        if (exp < -10) return (uint16_t)sign; /* underflow -> signed zero */
        mant |= 0x800000u;
        uint32_t shift = (uint32_t)(14 - exp);
        uint32_t half = mant >> shift;
        uint32_t rem = mant & ((1u << shift) - 1);
        uint32_t mid = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (half & 1))) half++;
        return (uint16_t)(sign | half);
    }
    uint32_t half = ((uint32_t)exp << 10) | (mant >> 13);
    uint32_t rem = mant & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (half & 1))) half++; /* may carry into exp: correct */
    return (uint16_t)(sign | half);
}

float aiecg__f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t mant = h & 0x3ffu;
    uint32_t x;
    if (exp == 0) {
        if (mant == 0) x = sign;
        else {
            exp = 127 - 15 + 1;
            while (!(mant & 0x400u)) {
                mant <<= 1;
                exp--;
            }
            mant &= 0x3ffu;
            x = sign | (exp << 23) | (mant << 13);
        }
    } else if (exp == 0x1f) {
        x = sign | 0x7f800000u | (mant << 13);
    } else {
        x = sign | ((exp - 15 + 127) << 23) | (mant << 13);
    }
    float f;
    memcpy(&f, &x, 4);
    return f;
}

void aiecg__f16_to_f32_array(const uint16_t *src, float *dst, size_t n, uint32_t features) {
#if defined(__x86_64__) || defined(_M_X64)
    if (features & AIECG_CPU_F16C) {
        aiecg__f16_to_f32_f16c(src, dst, n);
        return;
    }
#endif
    (void)features;
    for (size_t i = 0; i < n; i++) dst[i] = aiecg__f16_to_f32(src[i]);
}
