/*
 * AVX2/FMA GEMM, the fast path of Conv (kernel height 1, via the implicit
 * polyphase im2col of ops_ref.c: row p of B is a pointer, brow[p]) and MatMul.
 * A register-blocked 6x16 micro-kernel (12 ymm accumulators; Goto & van de
 * Geijn 2008, "Anatomy of high-performance matrix multiplication") walks K in
 * fixed blocks of KC; A is packed into 6-row panels (MC rows at a time, so
 * the block stays in L2) and B into 16-column panels (L1). The order of additions for each output element depends only on K and
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
static inline __attribute__((always_inline)) void kernel(const int mr, int64_t kc, const float *const *ar,
                                                         int64_t ps, const float *bp, float *c,
                                                         int64_t ldc, int nr, int first,
                                                         const aiecg__gemm_args *g, int64_t i0, int64_t j0) {
    /* Named accumulators: an indexed array makes GCC keep a stack copy updated every iteration. */
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    /* all MR rows are computed (the packed A tail is zero); only mr rows are stored */
    /* ar[r]: row r of A (packed panel: ps = MR; unpacked rows: ps = 1, rows past mr repeat the last) */
    const float *a0 = ar[0], *a1 = ar[1], *a2 = ar[2], *a3 = ar[3], *a4 = ar[4], *a5 = ar[5];
    for (int64_t p = 0; p < kc; p++) {
        __m256 b0 = _mm256_load_ps(bp + p * NR), b1 = _mm256_load_ps(bp + p * NR + 8);
        int64_t o = p * ps;
        __m256 av;
        av = _mm256_broadcast_ss(a0 + o);
        c00 = _mm256_fmadd_ps(av, b0, c00);
        c01 = _mm256_fmadd_ps(av, b1, c01);
        av = _mm256_broadcast_ss(a1 + o);
        c10 = _mm256_fmadd_ps(av, b0, c10);
        c11 = _mm256_fmadd_ps(av, b1, c11);
        av = _mm256_broadcast_ss(a2 + o);
        c20 = _mm256_fmadd_ps(av, b0, c20);
        c21 = _mm256_fmadd_ps(av, b1, c21);
        av = _mm256_broadcast_ss(a3 + o);
        c30 = _mm256_fmadd_ps(av, b0, c30);
        c31 = _mm256_fmadd_ps(av, b1, c31);
        av = _mm256_broadcast_ss(a4 + o);
        c40 = _mm256_fmadd_ps(av, b0, c40);
        c41 = _mm256_fmadd_ps(av, b1, c41);
        av = _mm256_broadcast_ss(a5 + o);
        c50 = _mm256_fmadd_ps(av, b0, c50);
        c51 = _mm256_fmadd_ps(av, b1, c51);
    }
    _Alignas(32) float tile[MR][NR];
    _mm256_store_ps(tile[0], c00);
    _mm256_store_ps(tile[0] + 8, c01);
    _mm256_store_ps(tile[1], c10);
    _mm256_store_ps(tile[1] + 8, c11);
    _mm256_store_ps(tile[2], c20);
    _mm256_store_ps(tile[2] + 8, c21);
    _mm256_store_ps(tile[3], c30);
    _mm256_store_ps(tile[3] + 8, c31);
    _mm256_store_ps(tile[4], c40);
    _mm256_store_ps(tile[4] + 8, c41);
    _mm256_store_ps(tile[5], c50);
    _mm256_store_ps(tile[5] + 8, c51);
    if (c && nr == NR) {
        for (int r = 0; r < mr; r++) {
            float *cr = c + r * ldc;
            __m256 v0 = _mm256_load_ps(tile[r]), v1 = _mm256_load_ps(tile[r] + 8);
            if (!first) {
                v0 = _mm256_add_ps(_mm256_loadu_ps(cr), v0);
                v1 = _mm256_add_ps(_mm256_loadu_ps(cr + 8), v1);
            }
            _mm256_storeu_ps(cr, v0);
            _mm256_storeu_ps(cr + 8, v1);
        }
        return;
    }
    for (int r = 0; r < mr; r++) {
        if (c) {
            float *cr = c + r * ldc;
            for (int j = 0; j < nr; j++) cr[j] = first ? tile[r][j] : cr[j] + tile[r][j];
            continue;
        }
        /* the tile spans column segments: walk them without a division per element */
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
            const float *row = aiecg__gemm_b(g, p0 + p, 0);
            int64_t sl = aiecg__gemm_seglen(g), q = col / sl, t = col - q * sl;
            const float *seg = row + q * g->b_seg;
            int j = 0;
            for (; j < nr; j++) {
                dst[j] = seg[t];
                if (++t == sl) {
                    t = 0;
                    seg += g->b_seg;
                }
            }
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

/* Packs rows [i0, i0 + mb) x columns [p0, p0 + kc) of A as MR-row panels [tile][p][MR], zero-padded. */
static void pack_a(const aiecg__gemm_args *g, int64_t i0, int64_t mb, int64_t p0, int64_t kc, float *ap) {
    for (int64_t t = 0; t < mb; t += MR) {
        float *dst = ap + t * kc;
        int mr = (int)(mb - t < MR ? mb - t : MR);
        for (int r = 0; r < MR; r++) {
            const float *src = g->a + (i0 + t + r) * g->lda + p0;
            if (r < mr)
                for (int64_t p = 0; p < kc; p++) dst[p * MR + r] = src[p];
            else
                for (int64_t p = 0; p < kc; p++) dst[p * MR + r] = 0.0f;
        }
    }
}

#define MC 252 /* rows of A packed at once: MC x KC floats (252 KB) stay in L2 */

void aiecg__gemm_avx2(const aiecg__gemm_args *g) {
    int64_t cb = g->col_begin, ce = g->col_end > 0 ? g->col_end : g->n, s = aiecg__gemm_seglen(g);
    if (g->k == 0)
        for (int64_t i = 0; i < g->m; i++)
            for (int64_t j = cb; j < ce; j++) *aiecg__gemm_c(g, i, j) = 0.0f;
    _Alignas(64) float bp[KC * NR];
    _Alignas(64) float ap[MC * KC];
    for (int64_t p0 = 0; p0 < g->k; p0 += KC) {
        int64_t kc = g->k - p0 < KC ? g->k - p0 : KC;
        /* Packing A costs about one 16-column pass: only worth it for wider column ranges. */
        int packa = ce - cb >= 64;
        for (int64_t i0 = 0; i0 < g->m; i0 += MC) {
            int64_t mb = g->m - i0 < MC ? g->m - i0 : MC;
            if (packa) pack_a(g, i0, mb, p0, kc, ap);
            for (int64_t j = cb; j < ce; j += NR) {
                int nr = (int)(ce - j < NR ? ce - j : NR);
                int contig = j / s == (j + nr - 1) / s;
                pack_b(g, p0, kc, j, nr, contig, bp);
                for (int64_t t = 0; t < mb; t += MR) {
                    int64_t i = i0 + t;
                    int mr = (int)(g->m - i < MR ? g->m - i : MR);
                    float *c = contig ? aiecg__gemm_c(g, i, j) : NULL;
                    const float *ar[MR];
                    for (int r = 0; r < MR; r++)
                        ar[r] = packa ? ap + t * kc + r : g->a + (i + (r < mr ? r : mr - 1)) * g->lda + p0;
                    int64_t ps = packa ? MR : 1;
                    switch (mr) {
                    case 6: kernel(6, kc, ar, ps, bp, c, g->ldc, nr, p0 == 0, g, i, j); break;
                    case 5: kernel(5, kc, ar, ps, bp, c, g->ldc, nr, p0 == 0, g, i, j); break;
                    case 4: kernel(4, kc, ar, ps, bp, c, g->ldc, nr, p0 == 0, g, i, j); break;
                    case 3: kernel(3, kc, ar, ps, bp, c, g->ldc, nr, p0 == 0, g, i, j); break;
                    case 2: kernel(2, kc, ar, ps, bp, c, g->ldc, nr, p0 == 0, g, i, j); break;
                    default: kernel(1, kc, ar, ps, bp, c, g->ldc, nr, p0 == 0, g, i, j); break;
                    }
                }
            }
        }
    }
    epilogue(g, cb, ce);
}

/*
 * Short outputs and every 1-D ungrouped conv: C^T = B^T A^T with output
 * channels along the ymm lanes, the AVX2 twin of aiecg__gemm_avx512_wt. The
 * weights come packed once (aiecg__pack_wt: 32-row panels [M/32][K][32], the
 * one layout all wt kernels share, so a model keeps a single packed copy);
 * this kernel walks each panel as two 16-channel halves. A tile is 6 output
 * samples (one column segment, broadcast from the B rows in place) x 16
 * channels: 12 ymm accumulators + 2 weight vectors + 1 broadcast = 15 of 16.
 * Per element the sum runs over KC blocks of K exactly as in
 * aiecg__gemm_avx2 (a fresh FMA chain from zero per block, ascending p,
 * blocks added to the stored sum in order, then the same epilogue), so both
 * AVX2 kernels give the same bits.
 */
#define WT_PANEL 32 /* AIECG__WT_ROWS */
#define WT_NR 6     /* output samples per tile */
#define WT_TB 16   /* tiles per column block (96 columns, as the AVX-512 kernel) */

static inline __attribute__((always_inline)) void wt_tile(const int nr, const int xs, int64_t kc, const float *wq,
                                                          const float *const *bq, int64_t boff, int64_t p0,
                                                          int first, float (*tile)[WT_PANEL], const float *pfw) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0;
    __m256 d0 = a0, d1 = a0, e0 = a0, e1 = a0, f0 = a0, f1 = a0;
    for (int64_t p = 0; p < kc; p++) {
        const __m256 w0 = _mm256_load_ps(wq + p * WT_PANEL), w1 = _mm256_load_ps(wq + p * WT_PANEL + 8);
        const float *x = bq[p0 + p] + boff;
        if (pfw) _mm_prefetch((const char *)(pfw + p * WT_PANEL), _MM_HINT_T1); /* the next weight block (see gemm_wt16.h) */
#ifdef WT_PREFETCH
        if (p + 8 < kc) _mm_prefetch((const char *)(bq[p0 + p + 8] + boff), _MM_HINT_T0);
#endif
        __m256 v;
#define WT_ROW(r, u0, u1)                                                                                      \
        if (nr > r) {                                                                                          \
            v = _mm256_broadcast_ss(x + r * xs);                                                                    \
            u0 = _mm256_fmadd_ps(v, w0, u0);                                                                   \
            u1 = _mm256_fmadd_ps(v, w1, u1);                                                                   \
        }
        WT_ROW(0, a0, a1) WT_ROW(1, b0, b1) WT_ROW(2, c0, c1) WT_ROW(3, d0, d1) WT_ROW(4, e0, e1)
        WT_ROW(5, f0, f1)
#undef WT_ROW
    }
#define WT_PUT(r, u0, u1)                                                                                      \
    if (nr > r) {                                                                                              \
        if (first) {                                                                                           \
            _mm256_store_ps(tile[r], u0);                                                                      \
            _mm256_store_ps(tile[r] + 8, u1);                                                                  \
        } else {                                                                                               \
            _mm256_store_ps(tile[r], _mm256_add_ps(_mm256_load_ps(tile[r]), u0));                              \
            _mm256_store_ps(tile[r] + 8, _mm256_add_ps(_mm256_load_ps(tile[r] + 8), u1));                      \
        }                                                                                                      \
    }
    WT_PUT(0, a0, a1) WT_PUT(1, b0, b1) WT_PUT(2, c0, c1) WT_PUT(3, d0, d1) WT_PUT(4, e0, e1)
    WT_PUT(5, f0, f1)
#undef WT_PUT
}

/* 8x8 transpose: on return r[c] holds column c of the input rows (r[i] lane c -> r[c] lane i). */
static inline __attribute__((always_inline)) void tr8(__m256 r[8]) {
    __m256 t[8], u[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);     /* per 128-bit lane: a0 b0 a1 b1 | a4 b4 a5 b5 */
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]); /* a2 b2 a3 b3 | a6 b6 a7 b7 */
    }
    for (int i = 0; i < 8; i += 4) { /* rows i..i+3 of columns (c, c + 4) in the two 128-bit lanes */
        u[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
        u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
        u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
    }
    for (int c = 0; c < 4; c++) {
        r[c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x20);
        r[c + 4] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x31);
    }
}

/*
 * aiecg__wt_store followed by epilogue(), in registers (the twin of gemm_avx512.c's wt_store_fused): each
 * 6-sample x 8-channel piece of a tile is transposed (tr8, two zero rows) and written as 8 masked rows of C with
 * bias, residual and ReLU applied on the way. Same operations per element as epilogue(): the bias added even
 * when there is none (+0.0f, which turns -0 into +0), and ReLU by max where epilogue() vectorises but by
 * comparison in what it treats as its scalar tail (the last (n % 8) columns of each row's range in a segment;
 * max and comparison differ on NaN and -0), so the bits are those of the raw store + epilogue pass. Only for
 * what epilogue() vectorises (no column bias; no activation or ReLU).
 */
static void wt_store_fused(const aiecg__gemm_args *g, int64_t m0, int mr, int nt, const int64_t *tj, const int *tn,
                           const float (*tile)[WT_NR][WT_PANEL], int64_t cb, int64_t ce) {
    int64_t s = aiecg__gemm_seglen(g);
    const __m256 zero = _mm256_setzero_ps();
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    for (int u = 0; u < nt; u++) {
        __m256i keep = _mm256_cmpgt_epi32(_mm256_set1_epi32(tn[u]), lane); /* lanes r < tn[u] */
        /* epilogue() walks each row over [max(cb, segment start), min(ce, segment end)) in 8s; the rest of that
         * range is its scalar tail */
        int64_t q = tj[u] / s, rb = AIECG__MAX(cb, q * s), re = AIECG__MIN(ce, (q + 1) * s);
        int64_t tail0 = re - (re - rb) % 8, d = AIECG__MAX(tj[u] - tail0, (int64_t)-8); /* lane r: tj + r >= tail0 */
        __m256 tail = _mm256_castsi256_ps(
            _mm256_cmpgt_epi32(_mm256_add_epi32(_mm256_set1_epi32((int)d), lane), _mm256_set1_epi32(-1)));
        float *c0 = aiecg__gemm_c(g, m0, tj[u]);
        const float *r0 = g->res ? aiecg__gemm_r(g, m0, tj[u]) : NULL;
        for (int h = 0; h < mr; h += 8) {
            __m256 v[8];
            for (int r = 0; r < WT_NR; r++) v[r] = _mm256_load_ps(&tile[u][r][h]);
            for (int r = WT_NR; r < 8; r++) v[r] = zero;
            tr8(v);
            int nl = mr - h < 8 ? mr - h : 8;
            for (int l = 0; l < nl; l++) {
                int64_t i = h + l;
                __m256 x = _mm256_add_ps(v[l], _mm256_set1_ps(g->bias_m ? g->bias_m[m0 + i] : 0.0f));
                if (r0) x = _mm256_add_ps(x, _mm256_maskload_ps(r0 + i * g->ldr, keep));
                if (g->act == AIECG__ACT_RELU) {
                    __m256 cmp = _mm256_andnot_ps(_mm256_cmp_ps(x, zero, _CMP_LT_OQ), x); /* x < 0 ? 0 : x */
                    x = _mm256_blendv_ps(_mm256_max_ps(x, zero), cmp, tail);
                }
                _mm256_maskstore_ps(c0 + i * g->ldc, keep, x);
            }
        }
    }
}

#include "gemm_wt16.h"

void aiecg__gemm_avx2_wt(const aiecg__gemm_args *g, const float *wp) {
    int64_t cb = g->col_begin, ce = g->col_end > 0 ? g->col_end : g->n;
    if (g->k == 0 || !g->brow) { /* the conv path always has row pointers; anything else takes the packed-A kernel */
        aiecg__gemm_avx2(g);
        return;
    }
    /* what epilogue() vectorises is applied in the transposed store instead of a second pass over C */
    int fused = (g->act == AIECG__ACT_NONE || g->act == AIECG__ACT_RELU) && !g->bias_n;
    wt16_run(g, wp, cb, ce, fused);
    if (!fused) epilogue(g, cb, ce);
}
