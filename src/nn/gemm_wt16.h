/*
 * The column/panel/K loop of the 16-channel-half output-channels-along-lanes conv kernels, shared by the AVX2
 * (gemm_avx2.c) and NEON (gemm_neon.c) twins, which differ only in their register tile and their store; the
 * loop of gemm_avx512.c's aiecg__gemm_avx512_wt with each 32-row panel walked as two 16-channel halves. Before
 * including this, a file defines KC, WT_PANEL (the packed panel of aiecg__pack_wt, 32 rows), WT_NR (samples per
 * tile, <= 6), WT_TB (tiles per column block) and
 *     static void wt_tile(const int nr, const int xs, int64_t kc, const float *wq, const float *const *bq,
 *                         int64_t boff, int64_t p0, int first, float (*tl)[WT_PANEL], const float *pfw)
 * which accumulates a 16-channel x nr-sample block, sample r of tap p at bq[p0 + p][boff + r * xs] (first: store,
 * else add) and, when pfw is not NULL, prefetches
 * into L2 the line at pfw + p * WT_PANEL for each of its kc taps p; and
 *     static void wt_store_fused(const aiecg__gemm_args *g, int64_t m0, int mr, int nt, const int64_t *tj,
 *                                const int *tn, const float (*tile)[WT_NR][WT_PANEL], int64_t cb, int64_t ce)
 * which writes a finished block to C with the file's epilogue applied on the way (the twin of gemm_avx512.c's
 * store of the same name). wt16_run writes C's raw sums for columns [cb, ce) (fused 0: the caller runs its
 * epilogue afterwards) or the finished outputs (fused 1); the sums per output are those of the twin's own packed
 * GEMM (a fresh chain per KC block, blocks added in order), whatever the loop order over panels and columns.
 */
#ifndef AIECG_NN_GEMM_WT16_H
#define AIECG_NN_GEMM_WT16_H

/* wt_tile with nr (samples in the tile) and xs (B column stride) as constants, so each instance keeps its tile in
 * registers and its broadcasts at fixed offsets */
#define WT16_NR_CASES(X, ...)                                                                                  \
    do {                                                                                                       \
        switch (tn[u]) {                                                                                       \
        case 6: wt_tile(6, X, __VA_ARGS__); break;                                                             \
        case 5: wt_tile(5, X, __VA_ARGS__); break;                                                             \
        case 4: wt_tile(4, X, __VA_ARGS__); break;                                                             \
        case 3: wt_tile(3, X, __VA_ARGS__); break;                                                             \
        case 2: wt_tile(2, X, __VA_ARGS__); break;                                                             \
        default: wt_tile(1, X, __VA_ARGS__); break;                                                            \
        }                                                                                                      \
    } while (0)

static inline __attribute__((always_inline)) void wt16_run(const aiecg__gemm_args *g, const float *wp, int64_t cb,
                                                           int64_t ce, int fused) {
    const float *const *bq = g->brow;
    _Alignas(64) float tile[WT_TB][WT_NR][WT_PANEL];
    int64_t tj[WT_TB], toff[WT_TB];
    int tn[WT_TB];
    /* strided B rows (a strided conv read in place from a zero-padded copy, as on AVX-512): B(p, j) is column
     * t of segment q = j / seg at brow[p] + q * b_seg + t * xs (toff from aiecg__wt_col_block) */
    int xs = aiecg__wt_bstride(g);
    /* L2 blocking: a layer with more weights than L2 re-reads them from L2, not L3, once per column block */
    int64_t gm = aiecg__wt_group_rows(g, WT_PANEL);
    for (int64_t mg = 0; mg < g->m; mg += gm)
        for (int64_t j = cb; j < ce;) {
            int nt = aiecg__wt_col_block(g, &j, ce, WT_TB, WT_NR, tj, toff, tn);
            for (int64_t m0 = mg; m0 < g->m && m0 < mg + gm; m0 += WT_PANEL) {
                const float *wq = wp + m0 * g->k;
                int mr = (int)AIECG__MIN((int64_t)WT_PANEL, g->m - m0);
                for (int64_t p0 = 0; p0 < g->k; p0 += KC) {
                    int64_t kc = g->k - p0 < KC ? g->k - p0 : KC;
                    int first = p0 == 0;
                    for (int h = 0; h < WT_PANEL && h < mr; h += 16) { /* the block's 16-channel halves */
                        const float *wb = wq + p0 * WT_PANEL + h;
                        for (int u = 0; u < nt; u++) {
                            float(*tl)[WT_PANEL] = (float(*)[WT_PANEL])(&tile[u][0][h]);
                            /* the last tile of each half prefetches that half of the next weight block (contiguous
                             * in the packed panels; past the panels is harmless) into L2 */
                            const float *pfw = u == nt - 1 ? wb + kc * WT_PANEL : NULL;
                            if (xs == 4)
                                WT16_NR_CASES(4, kc, wb, bq, toff[u], p0, first, tl, pfw);
                            else if (xs == 2)
                                WT16_NR_CASES(2, kc, wb, bq, toff[u], p0, first, tl, pfw);
                            else
                                WT16_NR_CASES(1, kc, wb, bq, toff[u], p0, first, tl, pfw);
                        }
                    }
                }
                if (fused)
                    wt_store_fused(g, m0, mr, nt, tj, tn, (const float(*)[WT_NR][WT_PANEL])tile, cb, ce);
                else
                    aiecg__wt_store(g, m0, mr, nt, tj, tn, &tile[0][0][0], WT_NR, WT_PANEL);
            }
        }
}

#endif
