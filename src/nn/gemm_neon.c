/*
 * NEON GEMM for aarch64: the same blocking as gemm_avx2.c (KC blocks of K,
 * B packed into contiguous zero-padded panels) with a 4x16 register tile
 * (16 float32x4 accumulators of the 32 NEON registers). Each output element
 * sums its K block in ascending order, so results do not depend on threads.
 * Plain C twin: aiecg__gemm_ref in ops_ref.c. Compiled only for aarch64.
 */
#include "nn_int.h"

#include <arm_neon.h>

#define KC 256
#define MR 4
#define NR 16

static inline __attribute__((always_inline)) void kernel(const int mr, int64_t kc, const float *a, int64_t lda,
                                                         const float *bp, int nr, int first,
                                                         const aiecg__gemm_args *g, int64_t i0, int64_t j0) {
    float32x4_t acc[MR][4];
    for (int r = 0; r < MR; r++)
        for (int q = 0; q < 4; q++) acc[r][q] = vdupq_n_f32(0.0f);
    for (int64_t p = 0; p < kc; p++) {
        float32x4_t b0 = vld1q_f32(bp + p * NR), b1 = vld1q_f32(bp + p * NR + 4);
        float32x4_t b2 = vld1q_f32(bp + p * NR + 8), b3 = vld1q_f32(bp + p * NR + 12);
        for (int r = 0; r < mr; r++) {
            float32x4_t av = vdupq_n_f32(a[r * lda + p]);
            acc[r][0] = vfmaq_f32(acc[r][0], av, b0);
            acc[r][1] = vfmaq_f32(acc[r][1], av, b1);
            acc[r][2] = vfmaq_f32(acc[r][2], av, b2);
            acc[r][3] = vfmaq_f32(acc[r][3], av, b3);
        }
    }
    float tmp[NR];
    for (int r = 0; r < mr; r++) {
        for (int q = 0; q < 4; q++) vst1q_f32(tmp + 4 * q, acc[r][q]);
        for (int j = 0; j < nr; j++) {
            float *cp = aiecg__gemm_c(g, i0 + r, j0 + j);
            *cp = first ? tmp[j] : *cp + tmp[j];
        }
    }
}

static void pack_b(const aiecg__gemm_args *g, int64_t p0, int64_t kc, int64_t col, int nr, float *bp) {
    for (int64_t p = 0; p < kc; p++) {
        float *dst = bp + p * NR;
        int j = 0;
        for (; j < nr; j++) dst[j] = *aiecg__gemm_b(g, p0 + p, col + j);
        for (; j < NR; j++) dst[j] = 0.0f;
    }
}

void aiecg__gemm_neon(const aiecg__gemm_args *g) {
    int64_t cb = g->col_begin, ce = g->col_end > 0 ? g->col_end : g->n;
    if (g->k == 0)
        for (int64_t i = 0; i < g->m; i++)
            for (int64_t j = cb; j < ce; j++) *aiecg__gemm_c(g, i, j) = 0.0f;
    _Alignas(64) float bp[KC * NR];
    for (int64_t p0 = 0; p0 < g->k; p0 += KC) {
        int64_t kc = g->k - p0 < KC ? g->k - p0 : KC;
        for (int64_t j = cb; j < ce; j += NR) {
            int nr = (int)(ce - j < NR ? ce - j : NR);
            pack_b(g, p0, kc, j, nr, bp);
            for (int64_t i = 0; i < g->m; i += MR) {
                int mr = (int)(g->m - i < MR ? g->m - i : MR);
                const float *a = g->a + i * g->lda + p0;
                switch (mr) {
                case 4: kernel(4, kc, a, g->lda, bp, nr, p0 == 0, g, i, j); break;
                case 3: kernel(3, kc, a, g->lda, bp, nr, p0 == 0, g, i, j); break;
                case 2: kernel(2, kc, a, g->lda, bp, nr, p0 == 0, g, i, j); break;
                default: kernel(1, kc, a, g->lda, bp, nr, p0 == 0, g, i, j); break;
                }
            }
        }
    }
    for (int64_t i = 0; i < g->m; i++) aiecg__gemm_epilogue_ref(g, i, cb, ce);
}

/*
 * The NEON twin of aiecg__gemm_avx2_wt / aiecg__gemm_avx512_wt: output
 * channels along the lanes (C^T = B^T A^T), weights in the shared 32-row
 * panels of aiecg__pack_wt walked as two 16-channel halves, a tile of 6 output
 * samples (one column segment, broadcast from the B rows in place) x 16
 * channels = 24 q accumulators + 4 weight vectors + 1 broadcast of the 32.
 * Per element: a fresh FMA chain from zero per KC block of K, ascending p,
 * blocks added to the stored sum in order, then aiecg__gemm_epilogue_ref -
 * the order of aiecg__gemm_neon, so both NEON kernels give the same bits.
 */
#define WT_PANEL 32 /* AIECG__WT_ROWS */
#define WT_NR 6
#define WT_TB 16

static inline __attribute__((always_inline)) void wt_tile(const int nr, int64_t kc, const float *wq,
                                                          const float *const *bq, int64_t boff, int64_t p0,
                                                          int first, float (*tile)[WT_PANEL]) {
    float32x4_t acc[WT_NR][4];
    for (int r = 0; r < WT_NR; r++)
        for (int q = 0; q < 4; q++) acc[r][q] = vdupq_n_f32(0.0f);
    for (int64_t p = 0; p < kc; p++) {
        const float *w = wq + p * WT_PANEL;
        float32x4_t w0 = vld1q_f32(w), w1 = vld1q_f32(w + 4), w2 = vld1q_f32(w + 8), w3 = vld1q_f32(w + 12);
        const float *x = bq[p0 + p] + boff;
        for (int r = 0; r < nr; r++) {
            float32x4_t v = vld1q_dup_f32(x + r);
            acc[r][0] = vfmaq_f32(acc[r][0], v, w0);
            acc[r][1] = vfmaq_f32(acc[r][1], v, w1);
            acc[r][2] = vfmaq_f32(acc[r][2], v, w2);
            acc[r][3] = vfmaq_f32(acc[r][3], v, w3);
        }
    }
    for (int r = 0; r < nr; r++)
        for (int q = 0; q < 4; q++) {
            float *t = tile[r] + 4 * q;
            vst1q_f32(t, first ? acc[r][q] : vaddq_f32(vld1q_f32(t), acc[r][q]));
        }
}

#include "gemm_wt16.h"

void aiecg__gemm_neon_wt(const aiecg__gemm_args *g, const float *wp) {
    int64_t cb = g->col_begin, ce = g->col_end > 0 ? g->col_end : g->n;
    if (g->k == 0 || !g->brow) { /* the conv path always has row pointers; anything else takes the GEMM */
        aiecg__gemm_neon(g);
        return;
    }
    wt16_run(g, wp, cb, ce);
    for (int64_t i = 0; i < g->m; i++) aiecg__gemm_epilogue_ref(g, i, cb, ce);
}
