/*
 * AVX-512F GEMM: the gemm_avx2.c algorithm (KC blocks of K, A packed into
 * MR-row panels, B into NR-column panels, fused epilogue) with a 12x32 tile
 * held in 24 zmm accumulators (Goto & van de Geijn 2008). Compiled in a plain
 * translation unit with per-function target attributes, chosen at run time
 * only when aiecg_cpu_features() reports AVX512F. Per-element summation order
 * depends only on K and KC, so results are identical for any thread count.
 * Plain C twin: aiecg__gemm_ref (ops_ref.c).
 */
#include "nn_int.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#define KC 256
#define MR 12
#define NR 32
#define MC 252
#define TGT __attribute__((target("avx512f,avx2,fma")))

TGT static inline __attribute__((always_inline)) void kernel(int mr, int64_t kc, const float *ap, const float *bp,
                                                             float *c, int64_t ldc, int nr, int first,
                                                             const aiecg__gemm_args *g, int64_t i0, int64_t j0) {
    const __m512 z = _mm512_setzero_ps();
    __m512 c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z, c40 = z, c41 = z, c50 = z, c51 = z, c60 = z, c61 = z, c70 = z, c71 = z, c80 = z, c81 = z, c90 = z, c91 = z, c100 = z, c101 = z, c110 = z, c111 = z;
    for (int64_t p = 0; p < kc; p++) {
        __m512 b0 = _mm512_load_ps(bp + p * NR), b1 = _mm512_load_ps(bp + p * NR + 16);
        const float *a = ap + p * MR;
        __m512 av;
        av = _mm512_set1_ps(a[0]);
        c00 = _mm512_fmadd_ps(av, b0, c00);
        c01 = _mm512_fmadd_ps(av, b1, c01);
        av = _mm512_set1_ps(a[1]);
        c10 = _mm512_fmadd_ps(av, b0, c10);
        c11 = _mm512_fmadd_ps(av, b1, c11);
        av = _mm512_set1_ps(a[2]);
        c20 = _mm512_fmadd_ps(av, b0, c20);
        c21 = _mm512_fmadd_ps(av, b1, c21);
        av = _mm512_set1_ps(a[3]);
        c30 = _mm512_fmadd_ps(av, b0, c30);
        c31 = _mm512_fmadd_ps(av, b1, c31);
        av = _mm512_set1_ps(a[4]);
        c40 = _mm512_fmadd_ps(av, b0, c40);
        c41 = _mm512_fmadd_ps(av, b1, c41);
        av = _mm512_set1_ps(a[5]);
        c50 = _mm512_fmadd_ps(av, b0, c50);
        c51 = _mm512_fmadd_ps(av, b1, c51);
        av = _mm512_set1_ps(a[6]);
        c60 = _mm512_fmadd_ps(av, b0, c60);
        c61 = _mm512_fmadd_ps(av, b1, c61);
        av = _mm512_set1_ps(a[7]);
        c70 = _mm512_fmadd_ps(av, b0, c70);
        c71 = _mm512_fmadd_ps(av, b1, c71);
        av = _mm512_set1_ps(a[8]);
        c80 = _mm512_fmadd_ps(av, b0, c80);
        c81 = _mm512_fmadd_ps(av, b1, c81);
        av = _mm512_set1_ps(a[9]);
        c90 = _mm512_fmadd_ps(av, b0, c90);
        c91 = _mm512_fmadd_ps(av, b1, c91);
        av = _mm512_set1_ps(a[10]);
        c100 = _mm512_fmadd_ps(av, b0, c100);
        c101 = _mm512_fmadd_ps(av, b1, c101);
        av = _mm512_set1_ps(a[11]);
        c110 = _mm512_fmadd_ps(av, b0, c110);
        c111 = _mm512_fmadd_ps(av, b1, c111);
    }
    _Alignas(64) float tile[MR][NR];
    _mm512_store_ps(tile[0], c00);
    _mm512_store_ps(tile[0] + 16, c01);
    _mm512_store_ps(tile[1], c10);
    _mm512_store_ps(tile[1] + 16, c11);
    _mm512_store_ps(tile[2], c20);
    _mm512_store_ps(tile[2] + 16, c21);
    _mm512_store_ps(tile[3], c30);
    _mm512_store_ps(tile[3] + 16, c31);
    _mm512_store_ps(tile[4], c40);
    _mm512_store_ps(tile[4] + 16, c41);
    _mm512_store_ps(tile[5], c50);
    _mm512_store_ps(tile[5] + 16, c51);
    _mm512_store_ps(tile[6], c60);
    _mm512_store_ps(tile[6] + 16, c61);
    _mm512_store_ps(tile[7], c70);
    _mm512_store_ps(tile[7] + 16, c71);
    _mm512_store_ps(tile[8], c80);
    _mm512_store_ps(tile[8] + 16, c81);
    _mm512_store_ps(tile[9], c90);
    _mm512_store_ps(tile[9] + 16, c91);
    _mm512_store_ps(tile[10], c100);
    _mm512_store_ps(tile[10] + 16, c101);
    _mm512_store_ps(tile[11], c110);
    _mm512_store_ps(tile[11] + 16, c111);
    for (int r = 0; r < mr; r++) {
        if (c && nr == NR) {
            float *cr = c + r * ldc;
            __m512 v0 = _mm512_load_ps(tile[r]), v1 = _mm512_load_ps(tile[r] + 16);
            if (!first) {
                v0 = _mm512_add_ps(_mm512_loadu_ps(cr), v0);
                v1 = _mm512_add_ps(_mm512_loadu_ps(cr + 16), v1);
            }
            _mm512_storeu_ps(cr, v0);
            _mm512_storeu_ps(cr + 16, v1);
            continue;
        }
        if (c) {
            float *cr = c + r * ldc;
            for (int j = 0; j < nr; j++) cr[j] = first ? tile[r][j] : cr[j] + tile[r][j];
            continue;
        }
        int64_t sl = aiecg__gemm_seglen(g), q = j0 / sl, t = j0 - q * sl;
        float *seg = aiecg__gemm_c(g, i0 + r, q * sl);
        for (int j = 0; j < nr; j++) {
            seg[t] = first ? tile[r][j] : seg[t] + tile[r][j];
            if (++t == sl) {
                t = 0;
                seg += g->c_seg;
            }
        }
    }
}

TGT static void pack_b(const aiecg__gemm_args *g, int64_t p0, int64_t kc, int64_t col, int nr, int contig, float *bp) {
    for (int64_t p = 0; p < kc; p++) {
        float *dst = bp + p * NR;
        if (contig && nr == NR) {
            const float *src = aiecg__gemm_b(g, p0 + p, col);
            _mm512_store_ps(dst, _mm512_loadu_ps(src));
            _mm512_store_ps(dst + 16, _mm512_loadu_ps(src + 16));
            continue;
        }
        int j = 0;
        if (contig) {
            const float *src = aiecg__gemm_b(g, p0 + p, col);
            for (; j < nr; j++) dst[j] = src[j];
        } else {
            /* the panel spans segments: walk them without a division per element */
            const float *row = aiecg__gemm_b(g, p0 + p, 0);
            int64_t sl = aiecg__gemm_seglen(g), q = col / sl, t = col - q * sl;
            const float *seg = row + q * g->b_seg;
            for (; j < nr; j++) {
                dst[j] = seg[t];
                if (++t == sl) {
                    t = 0;
                    seg += g->b_seg;
                }
            }
        }
        for (; j < NR; j++) dst[j] = 0.0f;
    }
}

TGT static void pack_a(const aiecg__gemm_args *g, int64_t i0, int64_t mb, int64_t p0, int64_t kc, float *ap) {
    for (int64_t t = 0; t < mb; t += MR) {
        float *dst = ap + t * kc;
        int mr = (int)(mb - t < MR ? mb - t : MR);
        for (int r = 0; r < MR; r++) {
            const float *src = g->a + (i0 + t + r) * g->lda + p0;
            for (int64_t p = 0; p < kc; p++) dst[p * MR + r] = r < mr ? src[p] : 0.0f;
        }
    }
}

TGT static void epilogue(const aiecg__gemm_args *g, int64_t cb, int64_t ce) {
    int64_t s = aiecg__gemm_seglen(g);
    if ((g->act != AIECG__ACT_NONE && g->act != AIECG__ACT_RELU) || g->bias_n) {
        for (int64_t i = 0; i < g->m; i++) aiecg__gemm_epilogue_ref(g, i, cb, ce);
        return;
    }
    const __m512 zero = _mm512_setzero_ps();
    for (int64_t i = 0; i < g->m; i++) {
        float bm = g->bias_m ? g->bias_m[i] : 0.0f;
        __m512 vb = _mm512_set1_ps(bm);
        for (int64_t j = cb; j < ce;) {
            int64_t end = (j / s + 1) * s;
            if (end > ce) end = ce;
            float *c = aiecg__gemm_c(g, i, j);
            const float *res = g->res ? aiecg__gemm_r(g, i, j) : NULL;
            int64_t n = end - j, t = 0;
            for (; t + 16 <= n; t += 16) {
                __m512 v = _mm512_add_ps(_mm512_loadu_ps(c + t), vb);
                if (res) v = _mm512_add_ps(v, _mm512_loadu_ps(res + t));
                if (g->act == AIECG__ACT_RELU) v = _mm512_max_ps(v, zero);
                _mm512_storeu_ps(c + t, v);
            }
            for (; t < n; t++) {
                float v = c[t] + bm;
                if (res) v += res[t];
                c[t] = g->act == AIECG__ACT_RELU && v < 0.0f ? 0.0f : v;
            }
            j = end;
        }
    }
}

TGT void aiecg__gemm_avx512(const aiecg__gemm_args *g) {
    int64_t cb = g->col_begin, ce = g->col_end > 0 ? g->col_end : g->n, s = aiecg__gemm_seglen(g);
    if (g->k == 0)
        for (int64_t i = 0; i < g->m; i++)
            for (int64_t j = cb; j < ce; j++) *aiecg__gemm_c(g, i, j) = 0.0f;
    _Alignas(64) float bp[KC * NR];
    _Alignas(64) float ap[MC * KC];
    for (int64_t p0 = 0; p0 < g->k; p0 += KC) {
        int64_t kc = g->k - p0 < KC ? g->k - p0 : KC;
        for (int64_t i0 = 0; i0 < g->m; i0 += MC) {
            int64_t mb = g->m - i0 < MC ? g->m - i0 : MC;
            pack_a(g, i0, mb, p0, kc, ap);
            for (int64_t j = cb; j < ce; j += NR) {
                int nr = (int)(ce - j < NR ? ce - j : NR);
                int contig = j / s == (j + nr - 1) / s;
                pack_b(g, p0, kc, j, nr, contig, bp);
                for (int64_t t = 0; t < mb; t += MR) {
                    int64_t i = i0 + t;
                    int mr = (int)(g->m - i < MR ? g->m - i : MR);
                    kernel(mr, kc, ap + t * kc, bp, contig ? aiecg__gemm_c(g, i, j) : NULL, g->ldc, nr, p0 == 0, g, i, j);
                }
            }
        }
    }
    epilogue(g, cb, ce);
}


/*
 * Short outputs (a conv with 8-64 output samples at batch 1): C^T = B^T A^T,
 * output channels along the zmm lanes. A (the weights) is packed once per
 * session by aiecg__pack_wt into 32-row panels [M/32][K][32], so the kernel
 * streams each weight exactly once per column tile and never wastes lanes on
 * the short N side; up to 12 output samples (one column segment) broadcast
 * from the B rows in place. Per element the sum runs over KC blocks of K
 * exactly as in aiecg__gemm_avx512 (a fresh FMA chain per block, blocks added
 * in order, then the same epilogue), so both kernels give the same bits.
 */
#define WT_NR 12 /* output samples per tile (rows of C^T) */
#define WT_TB 8  /* tiles per column block */

TGT static inline __attribute__((always_inline)) void wt_tile(const int nr, const int xs, int64_t kc, const float *wq,
                                                              const float *const *bq, int64_t boff, int64_t p0,
                                                              int first, float (*tile)[NR], const float *pfw) {
    const __m512 z = _mm512_setzero_ps();
    __m512 a0 = z, a1 = z, b0 = z, b1 = z, c0 = z, c1 = z, d0 = z, d1 = z, e0 = z, e1 = z, f0 = z, f1 = z;
    __m512 g0 = z, g1 = z, h0 = z, h1 = z, i0 = z, i1 = z, j0 = z, j1 = z, k0 = z, k1 = z, l0 = z, l1 = z;
#pragma GCC unroll 2
    for (int64_t p = 0; p < kc; p++) {
        const __m512 w0 = _mm512_load_ps(wq + p * NR), w1 = _mm512_load_ps(wq + p * NR + 16);
        const float *x = bq[p0 + p] + boff;
        /* the sample rows of tap p + 8 (a new cache line per tap on 1x1 convs) */
        if (p + 8 < kc) _mm_prefetch((const char *)(bq[p0 + p + 8] + boff), _MM_HINT_T0);
        if (pfw) { /* the next weight block, two lines per tap, while this tile computes (see the driver) */
            _mm_prefetch((const char *)(pfw + p * NR), _MM_HINT_T1);
            _mm_prefetch((const char *)(pfw + p * NR + 16), _MM_HINT_T1);
        }
        __m512 v;
#define WT_ROW(r, u0, u1)                                                                                      \
        if (nr > r) {                                                                                          \
            v = _mm512_set1_ps(x[r * xs]);                                                                     \
            u0 = _mm512_fmadd_ps(v, w0, u0);                                                                   \
            u1 = _mm512_fmadd_ps(v, w1, u1);                                                                   \
        }
        WT_ROW(0, a0, a1) WT_ROW(1, b0, b1) WT_ROW(2, c0, c1) WT_ROW(3, d0, d1) WT_ROW(4, e0, e1)
        WT_ROW(5, f0, f1) WT_ROW(6, g0, g1) WT_ROW(7, h0, h1) WT_ROW(8, i0, i1) WT_ROW(9, j0, j1)
        WT_ROW(10, k0, k1) WT_ROW(11, l0, l1)
#undef WT_ROW
    }
#define WT_PUT(r, u0, u1)                                                                                      \
    if (nr > r) {                                                                                              \
        if (first) {                                                                                           \
            _mm512_store_ps(tile[r], u0);                                                                      \
            _mm512_store_ps(tile[r] + 16, u1);                                                                 \
        } else {                                                                                               \
            _mm512_store_ps(tile[r], _mm512_add_ps(_mm512_load_ps(tile[r]), u0));                              \
            _mm512_store_ps(tile[r] + 16, _mm512_add_ps(_mm512_load_ps(tile[r] + 16), u1));                    \
        }                                                                                                      \
    }
    WT_PUT(0, a0, a1) WT_PUT(1, b0, b1) WT_PUT(2, c0, c1) WT_PUT(3, d0, d1) WT_PUT(4, e0, e1)
    WT_PUT(5, f0, f1) WT_PUT(6, g0, g1) WT_PUT(7, h0, h1) WT_PUT(8, i0, i1) WT_PUT(9, j0, j1)
    WT_PUT(10, k0, k1) WT_PUT(11, l0, l1)
#undef WT_PUT
}

/* 16x16 transpose: on return r[c] holds column c of the input rows (r[i] lane c -> r[c] lane i). */
TGT static inline __attribute__((always_inline)) void tr16(__m512 r[16]) {
    __m512 t[16], u[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);     /* per 128-bit lane: a0 b0 a1 b1 */
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]); /* a2 b2 a3 b3 */
    }
    for (int i = 0; i < 16; i += 4) { /* rows i..i+3, columns c, c+4, c+8, c+12 in the four 128-bit lanes */
        u[i] = _mm512_shuffle_ps(t[i], t[i + 2], 0x44);
        u[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], 0xEE);
        u[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        u[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
    }
    for (int c = 0; c < 4; c++) {
        /* rows 0-7 / 8-15: lanes (c, c+8 of the first group, c, c+8 of the second) and (c+4, c+12, ...) */
        __m512 a0 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x88), a1 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xDD);
        __m512 b0 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x88), b1 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xDD);
        r[c] = _mm512_shuffle_f32x4(a0, b0, 0x88);
        r[c + 8] = _mm512_shuffle_f32x4(a0, b0, 0xDD);
        r[c + 4] = _mm512_shuffle_f32x4(a1, b1, 0x88);
        r[c + 12] = _mm512_shuffle_f32x4(a1, b1, 0xDD);
    }
}

/*
 * aiecg__wt_store followed by this file's epilogue, in registers: each 12-sample x 16-channel half of a tile is
 * transposed (tr16) and written as 16 masked rows of C with bias, residual and ReLU applied on the way. Same
 * operations per element as epilogue(), including which columns it treats as its scalar tail (ReLU by
 * comparison, not max: they differ on NaN and -0), so the bits are those of the raw store + epilogue pass.
 * Only for what epilogue() vectorises (no column bias; no activation or ReLU).
 */
TGT static void wt_store_fused(const aiecg__gemm_args *g, int64_t m0, int mr, int nt, const int64_t *tj, const int *tn,
                               const float (*tile)[WT_NR][NR], int64_t cb, int64_t ce) {
    int64_t s = aiecg__gemm_seglen(g);
    const __m512 zero = _mm512_setzero_ps();
    for (int u = 0; u < nt; u++) {
        __mmask16 keep = (__mmask16)((1u << tn[u]) - 1u);
        /* epilogue() walks each row over [max(cb, segment start), min(ce, segment end)) in 16s; the rest of that
         * range is its scalar tail */
        int64_t q = tj[u] / s, rb = AIECG__MAX(cb, q * s), re = AIECG__MIN(ce, (q + 1) * s);
        int64_t tail0 = re - (re - rb) % 16;
        __mmask16 tail = 0;
        for (int r = 0; r < tn[u]; r++)
            if (tj[u] + r >= tail0) tail |= (__mmask16)(1u << r);
        float *c0 = aiecg__gemm_c(g, m0, tj[u]);
        const float *r0 = g->res ? aiecg__gemm_r(g, m0, tj[u]) : NULL;
        for (int h = 0; h < mr; h += 16) {
            __m512 v[16];
            for (int r = 0; r < WT_NR; r++) v[r] = _mm512_load_ps(&tile[u][r][h]);
            for (int r = WT_NR; r < 16; r++) v[r] = zero;
            tr16(v);
            int nl = mr - h < 16 ? mr - h : 16;
            for (int l = 0; l < nl; l++) {
                int64_t i = h + l;
                __m512 x = _mm512_add_ps(v[l], _mm512_set1_ps(g->bias_m ? g->bias_m[m0 + i] : 0.0f));
                if (r0) x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(keep, r0 + i * g->ldr));
                if (g->act == AIECG__ACT_RELU) {
                    __mmask16 neg = _mm512_cmp_ps_mask(x, zero, _CMP_LT_OQ);
                    x = _mm512_mask_blend_ps(tail, _mm512_max_ps(x, zero), _mm512_mask_mov_ps(x, neg, zero));
                }
                _mm512_mask_storeu_ps(c0 + i * g->ldc, keep, x);
            }
        }
    }
}

/* wt_tile for a last panel of at most 16 channels (Ribeiro's 196 = 6 x 32 + 4): one weight vector per tap,
 * half the FMAs; each element's FMA chain is wt_tile's, so the same bits. Writes lanes 0-15 of the tile. */
TGT static inline __attribute__((always_inline)) void wt_tile16(const int nr, const int xs, int64_t kc, const float *wq,
                                                                const float *const *bq, int64_t boff, int64_t p0,
                                                                int first, float (*tile)[NR], const float *pfw) {
    const __m512 z = _mm512_setzero_ps();
    __m512 a0 = z, b0 = z, c0 = z, d0 = z, e0 = z, f0 = z, g0 = z, h0 = z, i0 = z, j0 = z, k0 = z, l0 = z;
    for (int64_t p = 0; p < kc; p++) {
        const __m512 w0 = _mm512_load_ps(wq + p * NR);
        const float *x = bq[p0 + p] + boff;
        if (pfw) _mm_prefetch((const char *)(pfw + p * NR), _MM_HINT_T1);
#define WT_ROW(r, u0)                                                                                          \
        if (nr > r) u0 = _mm512_fmadd_ps(_mm512_set1_ps(x[r * xs]), w0, u0);
        WT_ROW(0, a0) WT_ROW(1, b0) WT_ROW(2, c0) WT_ROW(3, d0) WT_ROW(4, e0) WT_ROW(5, f0) WT_ROW(6, g0)
        WT_ROW(7, h0) WT_ROW(8, i0) WT_ROW(9, j0) WT_ROW(10, k0) WT_ROW(11, l0)
#undef WT_ROW
    }
#define WT_PUT(r, u0)                                                                                          \
    if (nr > r) _mm512_store_ps(tile[r], first ? u0 : _mm512_add_ps(_mm512_load_ps(tile[r]), u0));
    WT_PUT(0, a0) WT_PUT(1, b0) WT_PUT(2, c0) WT_PUT(3, d0) WT_PUT(4, e0) WT_PUT(5, f0) WT_PUT(6, g0)
    WT_PUT(7, h0) WT_PUT(8, i0) WT_PUT(9, j0) WT_PUT(10, k0) WT_PUT(11, l0)
#undef WT_PUT
}

/* fn(nr, xs, ...) with nr (samples in the tile) and xs (B column stride: 1, 2 or 4) as constants, so each
 * instance keeps its tile in registers and its broadcasts at fixed offsets */
#define WT_NR_CASES(fn, X, nr, ...)                                                                            \
    switch (nr) {                                                                                              \
    case 12: fn(12, X, __VA_ARGS__); break;                                                                    \
    case 11: fn(11, X, __VA_ARGS__); break;                                                                    \
    case 10: fn(10, X, __VA_ARGS__); break;                                                                    \
    case 9: fn(9, X, __VA_ARGS__); break;                                                                      \
    case 8: fn(8, X, __VA_ARGS__); break;                                                                      \
    case 7: fn(7, X, __VA_ARGS__); break;                                                                      \
    case 6: fn(6, X, __VA_ARGS__); break;                                                                      \
    case 5: fn(5, X, __VA_ARGS__); break;                                                                      \
    case 4: fn(4, X, __VA_ARGS__); break;                                                                      \
    case 3: fn(3, X, __VA_ARGS__); break;                                                                      \
    case 2: fn(2, X, __VA_ARGS__); break;                                                                      \
    default: fn(1, X, __VA_ARGS__); break;                                                                     \
    }
#define WT_DISPATCH(fn, xs, nr, ...)                                                                           \
    do {                                                                                                       \
        if ((xs) == 4) {                                                                                       \
            WT_NR_CASES(fn, 4, nr, __VA_ARGS__)                                                                \
        } else if ((xs) == 2) {                                                                                \
            WT_NR_CASES(fn, 2, nr, __VA_ARGS__)                                                                \
        } else {                                                                                               \
            WT_NR_CASES(fn, 1, nr, __VA_ARGS__)                                                                \
        }                                                                                                      \
    } while (0)

TGT void aiecg__gemm_avx512_wt(const aiecg__gemm_args *g, const float *wp) {
    int64_t cb = g->col_begin, ce = g->col_end > 0 ? g->col_end : g->n;
    if (g->k == 0) {
        for (int64_t i = 0; i < g->m; i++)
            for (int64_t j = cb; j < ce; j++) *aiecg__gemm_c(g, i, j) = 0.0f;
        epilogue(g, cb, ce);
        return;
    }
    if (!g->brow) { /* the conv path always has row pointers; anything else takes the packed-A kernel */
        aiecg__gemm_avx512(g);
        return;
    }
    const float *const *bq = g->brow;
    /* column blocks of WT_TB tiles: each KC x 32 weight block is loaded once per block and reused from L1 */
    _Alignas(64) float tile[WT_TB][WT_NR][NR];
    int64_t tj[WT_TB], toff[WT_TB];
    int tn[WT_TB];
    /* what epilogue() vectorises is applied in the transposed store instead of a second pass over C */
    int fused = (g->act == AIECG__ACT_NONE || g->act == AIECG__ACT_RELU) && !g->bias_n;
    int xs = aiecg__wt_bstride(g);
    /* L2 blocking: a layer with more weights than L2 (Ribeiro's later blocks: 2-7 MB) re-reads them from L2, not
     * from L3, once per column block (Ribeiro 2-3 % faster in interleaved runs; same sums, other order) */
    int64_t gm = aiecg__wt_group_rows(g, NR);
    for (int64_t mg = 0; mg < g->m; mg += gm)
    for (int64_t j = cb; j < ce;) {
        int nt = aiecg__wt_col_block(g, &j, ce, WT_TB, WT_NR, tj, toff, tn);
        for (int64_t m0 = mg; m0 < g->m && m0 < mg + gm; m0 += NR) {
            const float *wq = wp + m0 * g->k;
            for (int64_t p0 = 0; p0 < g->k; p0 += KC) {
                int64_t kc = g->k - p0 < KC ? g->k - p0 : KC;
                const float *wb = wq + p0 * NR;
                for (int u = 0; u < nt; u++) {
                    int64_t boff = toff[u];
                    int first = p0 == 0;
                    /* the last tile of the block prefetches the next weight block into L2 (contiguous in the
                     * packed panels): at batch 1 the layers with more weights than L2 read them once per record
                     * from L3 or memory, streaming; prefetching past the panels is harmless */
                    const float *pfw = u == nt - 1 ? wb + kc * NR : NULL;
                    if (g->m - m0 <= 16) {
                        WT_DISPATCH(wt_tile16, xs, tn[u], kc, wb, bq, boff, p0, first, tile[u], pfw);
                    } else {
                        WT_DISPATCH(wt_tile, xs, tn[u], kc, wb, bq, boff, p0, first, tile[u], pfw);
                    }
                }
            }
            /* transposed store of the raw sums: lane l of row r is C[m0 + l][j + r] */
            int mr = (int)AIECG__MIN((int64_t)NR, g->m - m0);
            if (fused)
                wt_store_fused(g, m0, mr, nt, tj, tn, (const float(*)[WT_NR][NR])tile, cb, ce);
            else
                aiecg__wt_store(g, m0, mr, nt, tj, tn, &tile[0][0][0], WT_NR, NR);
        }
    }
    if (!fused) epilogue(g, cb, ce);
}

#endif
