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

/*
 * 6x16 tile: C[0..mr)[0..nr) (+)= A[0..mr)[0..kc) * panel. `c` is the tile's
 * first element when the tile lies in one column segment; otherwise (c NULL)
 * the tile is scattered column by column through the segment mapping.
 */
static inline __attribute__((always_inline)) void kernel(const int mr, int64_t kc, const float *a,
                                                         int64_t lda, const float *bp, float *c,
                                                         int64_t ldc, int nr, int first,
                                                         const aiecg__gemm_args *g, int64_t i0, int64_t j0) {
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
    if (c && nr == NR) {
        for (int r = 0; r < mr; r++) {
            float *cr = c + r * ldc;
            if (!first) {
                acc0[r] = _mm256_add_ps(_mm256_loadu_ps(cr), acc0[r]);
                acc1[r] = _mm256_add_ps(_mm256_loadu_ps(cr + 8), acc1[r]);
            }
            _mm256_storeu_ps(cr, acc0[r]);
            _mm256_storeu_ps(cr + 8, acc1[r]);
        }
        return;
    }
    float tmp[NR];
    for (int r = 0; r < mr; r++) {
        _mm256_storeu_ps(tmp, acc0[r]);
        _mm256_storeu_ps(tmp + 8, acc1[r]);
        for (int j = 0; j < nr; j++) {
            float *cp = c ? c + r * ldc + j : aiecg__gemm_c(g, i0 + r, j0 + j);
            *cp = first ? tmp[j] : *cp + tmp[j];
        }
    }
}

/* Copies the kc x nr tile of B at (p0, col) into a contiguous, zero-padded kc x 16 panel. */
static void pack_b(const aiecg__gemm_args *g, int64_t p0, int64_t kc, int64_t col, int nr, int contig, float *bp) {
    for (int64_t p = 0; p < kc; p++) {
        float *dst = bp + p * NR;
        if (contig) {
            const float *src = aiecg__gemm_b(g, p0 + p, col);
            if (nr == NR) {
                _mm256_store_ps(dst, _mm256_loadu_ps(src));
                _mm256_store_ps(dst + 8, _mm256_loadu_ps(src + 8));
                continue;
            }
            int j = 0;
            for (; j < nr; j++) dst[j] = src[j];
            for (; j < NR; j++) dst[j] = 0.0f;
        } else {
            int j = 0;
            for (; j < nr; j++) dst[j] = *aiecg__gemm_b(g, p0 + p, col + j);
            for (; j < NR; j++) dst[j] = 0.0f;
        }
    }
}

static void epilogue(const aiecg__gemm_args *g, int64_t cb, int64_t ce) {
    const __m256 zero = _mm256_setzero_ps();
    int64_t s = aiecg__gemm_seglen(g);
    if ((g->act != AIECG__ACT_NONE && g->act != AIECG__ACT_RELU) || g->bias_n) {
        for (int64_t i = 0; i < g->m; i++) aiecg__gemm_epilogue_ref(g, i, cb, ce);
        return;
    }
    for (int64_t i = 0; i < g->m; i++) {
        __m256 vb = _mm256_set1_ps(g->bias_m ? g->bias_m[i] : 0.0f);
        for (int64_t j = cb; j < ce;) {
            int64_t end = (j / s + 1) * s;
            if (end > ce) end = ce;
            float *c = aiecg__gemm_c(g, i, j);
            const float *res = g->res ? aiecg__gemm_r(g, i, j) : NULL;
            int64_t n = end - j, t = 0;
            for (; t + 8 <= n; t += 8) {
                __m256 v = _mm256_add_ps(_mm256_loadu_ps(c + t), vb);
                if (res) v = _mm256_add_ps(v, _mm256_loadu_ps(res + t));
                if (g->act == AIECG__ACT_RELU) v = _mm256_max_ps(v, zero);
                _mm256_storeu_ps(c + t, v);
            }
            for (; t < n; t++) {
                float v = c[t] + (g->bias_m ? g->bias_m[i] : 0.0f);
                if (res) v += res[t];
                c[t] = g->act == AIECG__ACT_RELU && v < 0.0f ? 0.0f : v;
            }
            j = end;
        }
    }
}

void aiecg__gemm_avx2(const aiecg__gemm_args *g) {
    int64_t cb = g->col_begin, ce = g->col_end > 0 ? g->col_end : g->n, s = aiecg__gemm_seglen(g);
    if (g->k == 0)
        for (int64_t i = 0; i < g->m; i++)
            for (int64_t j = cb; j < ce; j++) *aiecg__gemm_c(g, i, j) = 0.0f;
    _Alignas(64) float bp[KC * NR];
    for (int64_t p0 = 0; p0 < g->k; p0 += KC) {
        int64_t kc = g->k - p0 < KC ? g->k - p0 : KC;
        for (int64_t j = cb; j < ce; j += NR) {
            int nr = (int)(ce - j < NR ? ce - j : NR);
            int contig = j / s == (j + nr - 1) / s;
            pack_b(g, p0, kc, j, nr, contig, bp);
            for (int64_t i = 0; i < g->m; i += MR) {
                int mr = (int)(g->m - i < MR ? g->m - i : MR);
                const float *a = g->a + i * g->lda + p0;
                float *c = contig ? aiecg__gemm_c(g, i, j) : NULL;
                switch (mr) {
                case 6: kernel(6, kc, a, g->lda, bp, c, g->ldc, nr, p0 == 0, g, i, j); break;
                case 5: kernel(5, kc, a, g->lda, bp, c, g->ldc, nr, p0 == 0, g, i, j); break;
                case 4: kernel(4, kc, a, g->lda, bp, c, g->ldc, nr, p0 == 0, g, i, j); break;
                case 3: kernel(3, kc, a, g->lda, bp, c, g->ldc, nr, p0 == 0, g, i, j); break;
                case 2: kernel(2, kc, a, g->lda, bp, c, g->ldc, nr, p0 == 0, g, i, j); break;
                default: kernel(1, kc, a, g->lda, bp, c, g->ldc, nr, p0 == 0, g, i, j); break;
                }
            }
        }
    }
    epilogue(g, cb, ce);
}
