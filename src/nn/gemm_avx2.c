/*
 * AVX2/FMA GEMM, the fast path of Conv (kernel height 1, via the implicit
 * polyphase im2col of ops_ref.c: row p of B is a pointer, brow[p]) and MatMul.
 * A register-blocked 6x16 micro-kernel (12 ymm accumulators; Goto & van de
 * Geijn 2008, "Anatomy of high-performance matrix multiplication") walks K in
 * fixed blocks of KC, so A's block stays in L2 and the 16-column B panel in
 * L1. The order of additions for each output element depends only on K and
 * KC, never on tiling or threads, which makes results identical for any
 * thread count. The epilogue (bias, residual, activation) runs once per
 * element after the last K block. Plain C twin: aiecg__gemm_ref (ops_ref.c).
 */
#include "nn_int.h"

#include <immintrin.h>

#define KC 256
#define MR 6
#define NR 16

static inline __attribute__((always_inline)) void kernel(const int mr, int64_t kc, const float *a,
                                                         int64_t lda, const float *bp, float *c,
                                                         int64_t ldc, int nr, int first) {
    __m256 acc0[MR], acc1[MR];
    for (int r = 0; r < MR; r++) {
        acc0[r] = _mm256_setzero_ps();
        acc1[r] = _mm256_setzero_ps();
    }
    for (int64_t p = 0; p < kc; p++) {
        __m256 b0 = _mm256_load_ps(bp + p * NR), b1 = _mm256_load_ps(bp + p * NR + 8);
        for (int r = 0; r < mr; r++) {
            __m256 av = _mm256_broadcast_ss(a + r * lda + p);
            acc0[r] = _mm256_fmadd_ps(av, b0, acc0[r]);
            acc1[r] = _mm256_fmadd_ps(av, b1, acc1[r]);
        }
    }
    if (nr == NR) {
        for (int r = 0; r < mr; r++) {
            float *cr = c + r * ldc;
            if (!first) {
                acc0[r] = _mm256_add_ps(_mm256_loadu_ps(cr), acc0[r]);
                acc1[r] = _mm256_add_ps(_mm256_loadu_ps(cr + 8), acc1[r]);
            }
            _mm256_storeu_ps(cr, acc0[r]);
            _mm256_storeu_ps(cr + 8, acc1[r]);
        }
    } else {
        float tmp[NR];
        for (int r = 0; r < mr; r++) {
            float *cr = c + r * ldc;
            _mm256_storeu_ps(tmp, acc0[r]);
            _mm256_storeu_ps(tmp + 8, acc1[r]);
            for (int j = 0; j < nr; j++) cr[j] = first ? tmp[j] : cr[j] + tmp[j];
        }
    }
}

/* Copies the kc x nr tile of B at (p0, col) into a contiguous, zero-padded kc x 16 panel. */
static void pack_b(const aiecg__gemm_args *g, int64_t p0, int64_t kc, int64_t col, int nr, float *bp) {
    for (int64_t p = 0; p < kc; p++) {
        const float *src = g->brow ? g->brow[p0 + p] + g->b_col0 + col : g->b + (p0 + p) * g->ldb + col;
        float *dst = bp + p * NR;
        if (nr == NR) {
            _mm256_store_ps(dst, _mm256_loadu_ps(src));
            _mm256_store_ps(dst + 8, _mm256_loadu_ps(src + 8));
        } else {
            int j = 0;
            for (; j < nr; j++) dst[j] = src[j];
            for (; j < NR; j++) dst[j] = 0.0f;
        }
    }
}

static void epilogue(const aiecg__gemm_args *g) {
    const __m256 zero = _mm256_setzero_ps();
    for (int64_t i = 0; i < g->m; i++) {
        float *c = g->c + i * g->ldc;
        const float *res = g->res ? g->res + i * g->ldr : NULL;
        float bm = g->bias_m ? g->bias_m[i] : 0.0f;
        __m256 vb = _mm256_set1_ps(bm);
        int64_t j = 0;
        if (g->act == AIECG__ACT_NONE || g->act == AIECG__ACT_RELU) {
            for (; j + 8 <= g->n; j += 8) {
                __m256 v = _mm256_add_ps(_mm256_loadu_ps(c + j), vb);
                if (g->bias_n) v = _mm256_add_ps(v, _mm256_loadu_ps(g->bias_n + j));
                if (res) v = _mm256_add_ps(v, _mm256_loadu_ps(res + j));
                if (g->act == AIECG__ACT_RELU) v = _mm256_max_ps(v, zero);
                _mm256_storeu_ps(c + j, v);
            }
        }
        for (; j < g->n; j++) {
            float v = c[j] + bm;
            if (g->bias_n) v += g->bias_n[j];
            if (res) v += res[j];
            c[j] = aiecg__act_apply(g->act, v, g->act_a, g->act_b);
        }
    }
}

void aiecg__gemm_avx2(const aiecg__gemm_args *g) {
    if (g->k == 0) {
        for (int64_t i = 0; i < g->m; i++)
            for (int64_t j = 0; j < g->n; j++) g->c[i * g->ldc + j] = 0.0f;
    }
    _Alignas(64) float bp[KC * NR];
    for (int64_t p0 = 0; p0 < g->k; p0 += KC) {
        int64_t kc = g->k - p0 < KC ? g->k - p0 : KC;
        for (int64_t j = 0; j < g->n; j += NR) {
            int nr = (int)(g->n - j < NR ? g->n - j : NR);
            pack_b(g, p0, kc, j, nr, bp);
            for (int64_t i = 0; i < g->m; i += MR) {
                int mr = (int)(g->m - i < MR ? g->m - i : MR);
                const float *a = g->a + i * g->lda + p0;
                float *c = g->c + i * g->ldc + j;
                switch (mr) {
                case 6: kernel(6, kc, a, g->lda, bp, c, g->ldc, nr, p0 == 0); break;
                case 5: kernel(5, kc, a, g->lda, bp, c, g->ldc, nr, p0 == 0); break;
                case 4: kernel(4, kc, a, g->lda, bp, c, g->ldc, nr, p0 == 0); break;
                case 3: kernel(3, kc, a, g->lda, bp, c, g->ldc, nr, p0 == 0); break;
                case 2: kernel(2, kc, a, g->lda, bp, c, g->ldc, nr, p0 == 0); break;
                default: kernel(1, kc, a, g->lda, bp, c, g->ldc, nr, p0 == 0); break;
                }
            }
        }
    }
    epilogue(g);
}
