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

static inline __attribute__((always_inline)) void wt_tile(const int nr, const int xs, int64_t kc, const float *wq,
                                                          const float *const *bq, int64_t boff, int64_t p0,
                                                          int first, float (*tile)[WT_PANEL], const float *pfw) {
    float32x4_t acc[WT_NR][4];
    for (int r = 0; r < WT_NR; r++)
        for (int q = 0; q < 4; q++) acc[r][q] = vdupq_n_f32(0.0f);
    for (int64_t p = 0; p < kc; p++) {
        const float *w = wq + p * WT_PANEL;
        float32x4_t w0 = vld1q_f32(w), w1 = vld1q_f32(w + 4), w2 = vld1q_f32(w + 8), w3 = vld1q_f32(w + 12);
        const float *x = bq[p0 + p] + boff;
        if (pfw) __builtin_prefetch(pfw + p * WT_PANEL, 0, 2); /* the next weight block (see gemm_wt16.h) */
        for (int r = 0; r < nr; r++) {
            float32x4_t v = vld1q_dup_f32(x + r * xs);
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

/*
 * aiecg__wt_store followed by aiecg__gemm_epilogue_ref, in registers (the twin of gemm_avx512.c's and gemm_avx2.c's
 * wt_store_fused): each 6-sample x 4-channel piece of a tile is transposed (4x4 by vtrn + the two-sample rest)
 * and written as 4 rows of C with bias, residual and ReLU applied on the way, in epilogue_ref's order and
 * operations: + bias only when there is one, + residual, ReLU as v > 0 ? v : 0 (a comparison and select, which
 * maps NaN and -0 to +0 like the C expression). Tiles of fewer than 6 samples take the same operations per
 * element in scalar code. Only for no column bias and no activation or ReLU.
 */
static void wt_store_fused(const aiecg__gemm_args *g, int64_t m0, int mr, int nt, const int64_t *tj, const int *tn,
                           const float (*tile)[WT_NR][WT_PANEL], int64_t cb, int64_t ce) {
    (void)cb;
    (void)ce;
    const float32x4_t zero = vdupq_n_f32(0.0f);
    const float32x2_t zero2 = vdup_n_f32(0.0f);
    int relu = g->act == AIECG__ACT_RELU;
    for (int u = 0; u < nt; u++) {
        float *c0 = aiecg__gemm_c(g, m0, tj[u]);
        const float *r0 = g->res ? aiecg__gemm_r(g, m0, tj[u]) : NULL;
        if (tn[u] < WT_NR) {
            for (int l = 0; l < mr; l++)
                for (int r = 0; r < tn[u]; r++) {
                    float v = tile[u][r][l];
                    if (g->bias_m) v += g->bias_m[m0 + l];
                    if (r0) v += r0[l * g->ldr + r];
                    c0[l * g->ldc + r] = relu ? (v > 0.0f ? v : 0.0f) : v;
                }
            continue;
        }
        for (int h = 0; h < mr; h += 4) {
            float32x4_t a0 = vld1q_f32(&tile[u][0][h]), a1 = vld1q_f32(&tile[u][1][h]);
            float32x4_t a2 = vld1q_f32(&tile[u][2][h]), a3 = vld1q_f32(&tile[u][3][h]);
            float32x4_t a4 = vld1q_f32(&tile[u][4][h]), a5 = vld1q_f32(&tile[u][5][h]);
            float32x4x2_t t01 = vtrnq_f32(a0, a1), t23 = vtrnq_f32(a2, a3), t45 = vtrnq_f32(a4, a5);
            float32x4_t lo[4]; /* samples 0-3 of channel h + l */
            float32x2_t hi[4]; /* samples 4-5 */
            lo[0] = vcombine_f32(vget_low_f32(t01.val[0]), vget_low_f32(t23.val[0]));
            lo[1] = vcombine_f32(vget_low_f32(t01.val[1]), vget_low_f32(t23.val[1]));
            lo[2] = vcombine_f32(vget_high_f32(t01.val[0]), vget_high_f32(t23.val[0]));
            lo[3] = vcombine_f32(vget_high_f32(t01.val[1]), vget_high_f32(t23.val[1]));
            hi[0] = vget_low_f32(t45.val[0]);
            hi[1] = vget_low_f32(t45.val[1]);
            hi[2] = vget_high_f32(t45.val[0]);
            hi[3] = vget_high_f32(t45.val[1]);
            int nl = mr - h < 4 ? mr - h : 4;
            for (int l = 0; l < nl; l++) {
                int64_t i = h + l;
                float32x4_t x = lo[l];
                float32x2_t y = hi[l];
                if (g->bias_m) {
                    x = vaddq_f32(x, vdupq_n_f32(g->bias_m[m0 + i]));
                    y = vadd_f32(y, vdup_n_f32(g->bias_m[m0 + i]));
                }
                if (r0) {
                    x = vaddq_f32(x, vld1q_f32(r0 + i * g->ldr));
                    y = vadd_f32(y, vld1_f32(r0 + i * g->ldr + 4));
                }
                if (relu) {
                    x = vbslq_f32(vcgtq_f32(x, zero), x, zero);
                    y = vbsl_f32(vcgt_f32(y, zero2), y, zero2);
                }
                vst1q_f32(c0 + i * g->ldc, x);
                vst1_f32(c0 + i * g->ldc + 4, y);
            }
        }
    }
}

#include "gemm_wt16.h"

void aiecg__gemm_neon_wt(const aiecg__gemm_args *g, const float *wp) {
    int64_t cb = g->col_begin, ce = g->col_end > 0 ? g->col_end : g->n;
    if (g->k == 0 || !g->brow) { /* the conv path always has row pointers; anything else takes the GEMM */
        aiecg__gemm_neon(g);
        return;
    }
    /* bias/residual/ReLU applied in the transposed store instead of a second pass over C */
    int fused = (g->act == AIECG__ACT_NONE || g->act == AIECG__ACT_RELU) && !g->bias_n;
    wt16_run(g, wp, cb, ce, fused);
    if (!fused)
        for (int64_t i = 0; i < g->m; i++) aiecg__gemm_epilogue_ref(g, i, cb, ce);
}
