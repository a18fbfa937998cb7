/*
 * Run-time CPU feature detection. Kernels are chosen from this mask, never
 * from compile-time macros alone, so one binary runs everywhere. AIECG_CPU=generic
 * in the environment masks all SIMD features (used by tests to prove every
 * path gives the same answer); AIECG_CPU=avx2 masks AVX-512 only, so the
 * AVX2+FMA kernels (what Zen 2/3 and most laptops run) can be tested and
 * benchmarked on an AVX-512 machine.
 */
#include "core_int.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
static uint32_t detect(void) {
    uint32_t f = 0, a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    if (d & (1u << 26)) f |= AIECG_CPU_SSE2;
    int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
    int fma = (c >> 12) & 1, f16c = (c >> 29) & 1;
    if (osxsave && avx) {
        uint32_t xlo, xhi;
        __asm__ volatile("xgetbv" : "=a"(xlo), "=d"(xhi) : "c"(0));
        (void)xhi;
        if ((xlo & 6) == 6) {
            f |= AIECG_CPU_AVX;
            if (fma) f |= AIECG_CPU_FMA;
            if (f16c) f |= AIECG_CPU_F16C;
            if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
                if (b & (1u << 5)) f |= AIECG_CPU_AVX2;
                if ((b & (1u << 16)) && (xlo & 0xe6) == 0xe6) f |= AIECG_CPU_AVX512F;
            }
        }
    }
    return f;
}
#elif defined(__aarch64__)
static uint32_t detect(void) { return AIECG_CPU_NEON; }
#else
static uint32_t detect(void) { return 0; }
#endif

uint32_t aiecg_cpu_features(void) {
    static _Atomic uint32_t cached = 0xffffffffu;
    uint32_t v = atomic_load(&cached);
    if (v != 0xffffffffu) return v;
    v = detect();
    const char *env = getenv("AIECG_CPU");
    if (env && strcmp(env, "generic") == 0) v = 0;
    if (env && strcmp(env, "avx2") == 0) v &= ~(uint32_t)AIECG_CPU_AVX512F;
    atomic_store(&cached, v);
    return v;
}

void aiecg_cpu_features_string(uint32_t f, char *buf, size_t size) {
    static const struct {
        uint32_t bit;
        const char *name;
    } names[] = {{AIECG_CPU_SSE2, "sse2"}, {AIECG_CPU_AVX, "avx"},         {AIECG_CPU_AVX2, "avx2"},
                 {AIECG_CPU_FMA, "fma"},   {AIECG_CPU_F16C, "f16c"},       {AIECG_CPU_AVX512F, "avx512f"},
                 {AIECG_CPU_NEON, "neon"}, {AIECG_CPU_NEON_FP16, "neon-fp16"}};
    if (!buf || !size) return;
    buf[0] = '\0';
    size_t used = 0;
    for (size_t i = 0; i < AIECG__COUNTOF(names); i++) {
        if (!(f & names[i].bit)) continue;
        int n = snprintf(buf + used, size - used, "%s%s", used ? " " : "", names[i].name);
        if (n < 0 || (size_t)n >= size - used) break;
        used += (size_t)n;
    }
    if (!used) snprintf(buf, size, "generic");
}
