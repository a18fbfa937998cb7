/*
 * Kernel variants against the plain C reference: the SIMD GEMM (and the
 * implicit-im2col conv path built on it) on odd shapes and tails — channels
 * not multiples of 8, lengths 1..37, stride 2, dilation, groups, padding,
 * fused bias/residual/activation — plus bit-identical results for 1 and 3
 * threads. Also the session contract: dynamic batch/length under the plan,
 * over-plan rejection, cancellation, FP16 round trip, corrupted .aiem files.
 */
#include "test.h"
#include "nn/nn_int.h"

#include <pthread.h>
#include <unistd.h>

static uint32_t rng = 12345;
static float frand(void) {
    rng = rng * 1664525u + 1013904223u;
    return (float)((rng >> 8) & 0xffff) / 32768.0f - 1.0f;
}

/* max |a-b| / (1 + |a|); NaN counts as infinitely different */
static double rel_diff(const float *a, const float *b, size_t n) {
    double md = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]) / (1.0 + fabs((double)a[i]));
        if (!(d <= md)) md = isnan(d) ? INFINITY : d;
    }
    return md;
}

static void test_gemm_variants(void) {
    aiecg__gemm_fn fns[4];
    const char *names[4];
    int nf = 0;
#if defined(__x86_64__)
    uint32_t f = aiecg_cpu_features();
    if ((f & AIECG_CPU_AVX2) && (f & AIECG_CPU_FMA)) { fns[nf] = aiecg__gemm_avx2; names[nf++] = "avx2"; }
    if ((f & AIECG_CPU_AVX512F) && (f & AIECG_CPU_FMA)) { fns[nf] = aiecg__gemm_avx512; names[nf++] = "avx512"; }
#endif
#if defined(__aarch64__)
    fns[nf] = aiecg__gemm_neon; names[nf++] = "neon";
#endif
    if (!nf) {
        printf("no SIMD GEMM on this CPU; reference only\n");
        return;
    }
    int ms[] = {1, 2, 5, 6, 7, 13, 33}, ns[] = {1, 3, 8, 15, 16, 17, 37, 100}, ks[] = {1, 3, 9, 64, 300};
    for (int v = 0; v < nf; v++)
        for (size_t a = 0; a < 7; a++)
            for (size_t b = 0; b < 8; b++)
                for (size_t c = 0; c < 5; c++) {
                    int64_t M = ms[a], N = ns[b], K = ks[c];
                    float *A = malloc((size_t)(M * K) * 4), *B = malloc((size_t)(K * N + 8) * 4);
                    float *C0 = malloc((size_t)(M * N) * 4), *C1 = malloc((size_t)(M * N) * 4);
                    float *R = malloc((size_t)(M * N) * 4), *bias = malloc((size_t)M * 4);
                    for (int64_t i = 0; i < M * K; i++) A[i] = frand();
                    for (int64_t i = 0; i < K * N; i++) B[i] = frand();
                    for (int64_t i = 0; i < M * N; i++) R[i] = frand();
                    for (int64_t i = 0; i < M; i++) bias[i] = frand();
                    for (int act = 0; act < 3; act++) {
                        aiecg__gemm_args g = {0};
                        g.m = M; g.n = N; g.k = K;
                        g.a = A; g.lda = K; g.b = B; g.ldb = N; g.c = C0; g.ldc = N;
                        g.bias_m = act ? bias : NULL;
                        g.res = act == 2 ? R : NULL;
                        g.ldr = N;
                        g.act = act == 1 ? AIECG__ACT_RELU : act == 2 ? AIECG__ACT_LEAKY_RELU : 0;
                        g.act_a = 0.1f;
                        aiecg__gemm_ref(&g);
                        g.c = C1;
                        fns[v](&g);
                        double md = 0;
                        md = rel_diff(C0, C1, (size_t)(M * N));
                        if (!(md < 1e-5)) {
                            printf("%s gemm M=%lld N=%lld K=%lld act=%d: rel diff %g\n", names[v], (long long)M,
                                   (long long)N, (long long)K, act, md);
                            CHECK(md < 1e-5);
                        }
                    }
                    free(A); free(B); free(C0); free(C1); free(R); free(bias);
                }
}

/*
 * The output-channels-along-lanes kernel (aiecg__gemm_avx512_wt) gives the same bits as the packed-A AVX-512 GEMM
 * and matches the reference, on B given by row pointers with column segments (a batch folded into N), odd M
 * (partial 32-lane panels), K across KC blocks, tails of the 12-sample tiles and residual/activation epilogues.
 */
static void test_gemm_wt(void) {
#if defined(__x86_64__) || defined(__aarch64__)
    uint32_t f = aiecg_cpu_features();
    /* kv 0: AVX-512 wt kernel vs the packed-A AVX-512 GEMM; kv 1: its AVX2 twin vs the AVX2 GEMM (x86);
     * kv 1 on aarch64: the NEON twin vs the NEON GEMM */
    for (int kv = 0; kv < 2; kv++) {
#if defined(__x86_64__)
    if (!(f & AIECG_CPU_FMA) || !(f & (kv ? AIECG_CPU_AVX2 : AIECG_CPU_AVX512F))) {
        printf("no %s: short-output kernel not tested here\n", kv ? "AVX2" : "AVX-512");
        continue;
    }
    aiecg__gemm_fn gemm = kv ? aiecg__gemm_avx2 : aiecg__gemm_avx512;
    void (*wt)(const aiecg__gemm_args *, const float *) = kv ? aiecg__gemm_avx2_wt : aiecg__gemm_avx512_wt;
    const char *kname = kv ? "avx2" : "avx512";
#else
    if (!kv || !(f & AIECG_CPU_NEON)) continue;
    aiecg__gemm_fn gemm = aiecg__gemm_neon;
    void (*wt)(const aiecg__gemm_args *, const float *) = aiecg__gemm_neon_wt;
    const char *kname = "neon";
#endif
    /* M: partial 16-channel halves and 32-row panels; S: tails of the 6- and 12-sample tiles */
    /* K = 4500: weights of more than 1 MiB per 32-row panel group, so the AVX-512 kernel's L2 blocking splits M */
    int ms[] = {1, 7, 16, 17, 32, 33, 70}, ks[] = {1, 5, 256, 300, 600, 4500}, segs[] = {1, 5, 7, 12, 13, 40};
    int nsegs[] = {1, 2, 3};
    int ncase = 0;
    for (size_t a = 0; a < 7; a++)
        for (size_t c = 0; c < 6; c++)
            for (size_t sg = 0; sg < 6; sg++)
                for (size_t q = 0; q < 3; q++) {
                    int64_t M = ms[a], K = ks[c], S = segs[sg], Q = nsegs[q], N = S * Q, bseg = S + 3;
                    if (K > 600 && (M < 33 || S < 12)) continue;
                    float *A = malloc((size_t)(M * K) * 4), *B = malloc((size_t)(K * Q * bseg) * 4);
                    const float **rows = malloc((size_t)K * sizeof *rows);
                    float *W = aiecg__aligned_alloc((size_t)((M + 31) / 32 * 32 * K) * 4);
                    size_t nc = (size_t)(Q * M * S);
                    float *C0 = malloc(nc * 4), *C1 = malloc(nc * 4), *C2 = malloc(nc * 4), *R = malloc(nc * 4);
                    float *bias = malloc((size_t)M * 4);
                    for (int64_t i = 0; i < M * K; i++) A[i] = frand();
                    /* row p of B: Q segments of S columns, bseg apart (rows bseg*Q long, interleaved by p) */
                    for (int64_t i = 0; i < K * Q * bseg; i++) B[i] = frand();
                    for (int64_t p = 0; p < K; p++) rows[p] = B + p * bseg;
                    for (size_t i = 0; i < nc; i++) R[i] = frand();
                    for (int64_t i = 0; i < M; i++) bias[i] = frand();
                    aiecg__pack_wt(A, M, K, K, W);
                    /* act 0: raw sums; 1: bias + ReLU; 2: bias + residual + LeakyReLU (plain C epilogue);
                     * 3: bias + residual + ReLU (applied in the AVX-512 kernel's transposed store) */
                    for (int act = 0; act < 4; act++) {
                        aiecg__gemm_args g = {0};
                        g.m = M; g.n = N; g.k = K;
                        g.a = A; g.lda = K; g.brow = rows;
                        g.seg = S; g.b_seg = K * bseg; g.c_seg = M * S; g.r_seg = M * S;
                        g.ldc = S; g.ldr = S;
                        g.bias_m = act ? bias : NULL;
                        g.res = act >= 2 ? R : NULL;
                        g.act = act == 1 || act == 3 ? AIECG__ACT_RELU : act == 2 ? AIECG__ACT_LEAKY_RELU : 0;
                        g.act_a = 0.1f;
                        g.c = C0;
                        aiecg__gemm_ref(&g);
                        g.c = C1;
                        gemm(&g);
                        g.c = C2;
                        wt(&g, W);
                        double md = rel_diff(C0, C2, nc);
                        /* float sums of K = 600 / 4500 products against the reference's double-free order */
                        if (!(md < (K > 600 ? 1e-4 : 3e-5)) || memcmp(C1, C2, nc * 4) != 0) {
                            printf("wt gemm %s M=%lld K=%lld seg=%lld x %lld act=%d: rel diff %g, bits %s\n",
                                   kname, (long long)M,
                                   (long long)K, (long long)S, (long long)Q, act, md,
                                   memcmp(C1, C2, nc * 4) ? "differ" : "same");
                            CHECK(0);
                        }
                        /* a column range (thread task) writes only its columns */
                        for (size_t i = 0; i < nc; i++) C2[i] = -7.0f;
                        g.col_begin = N / 3;
                        g.col_end = N - N / 4;
                        wt(&g, W);
                        for (int64_t j = 0; j < N; j++)
                            for (int64_t i = 0; i < M; i++) {
                                size_t o = (size_t)((j / S) * M * S + i * S + j % S);
                                int in = j >= g.col_begin && j < g.col_end;
                                if (in ? C2[o] != C1[o] : C2[o] != -7.0f) {
                                    CHECK(0);
                                    j = N;
                                    break;
                                }
                            }
                        ncase++;
                    }
                    free(A); free(B); free(rows); aiecg__aligned_free(W); free(C0); free(C1); free(C2); free(R);
                    free(bias);
                }
    printf("short-output kernel (%s): %d cases\n", kname, ncase);
    }
#endif
}

#if defined(__x86_64__) || defined(__aarch64__)
typedef void (*wt_fn)(const aiecg__gemm_args *, const float *);
/* The 16-channel wt kernel of this machine (AVX2 on x86, NEON on aarch64) and the packed GEMM whose bits it must
 * give; 0 (with a line saying so on x86) when the CPU has neither. */
static int wt16_kernels(const char *what, aiecg__gemm_fn *gemm, wt_fn *wt) {
    uint32_t f = aiecg_cpu_features();
#if defined(__x86_64__)
    if (!(f & AIECG_CPU_FMA) || !(f & AIECG_CPU_AVX2)) {
        printf("no AVX2: %s not tested here\n", what);
        return 0;
    }
    *gemm = aiecg__gemm_avx2;
    *wt = aiecg__gemm_avx2_wt;
#else
    (void)what;
    if (!(f & AIECG_CPU_NEON)) return 0;
    *gemm = aiecg__gemm_neon;
    *wt = aiecg__gemm_neon_wt;
#endif
    return 1;
}
#endif

/*
 * The AVX2 / NEON wt kernels apply bias, residual and ReLU in their transposed store; this checks that store
 * against the packed GEMM's epilogue bit for bit where the two ReLU forms differ: NaN sums (a NaN in B) and NaN
 * residuals, at every position of a row's range (the AVX2 epilogue's vector part uses max, its scalar tail a
 * comparison), with column ranges that move that tail.
 */
static void test_gemm_wt16_nan(void) {
#if defined(__x86_64__) || defined(__aarch64__)
    aiecg__gemm_fn gemm;
    wt_fn wt;
    if (!wt16_kernels("wt store", &gemm, &wt)) return;
    int ms[] = {7, 33}, ks[] = {5, 300}, segs[] = {5, 13, 40}, nsegs[] = {1, 3};
    int ncase = 0, nnan = 0;
    for (int a = 0; a < 2; a++)
        for (int c = 0; c < 2; c++)
            for (int sg = 0; sg < 3; sg++)
                for (int q = 0; q < 2; q++) {
                    int64_t M = ms[a], K = ks[c], S = segs[sg], Q = nsegs[q], N = S * Q, bseg = S + 3;
                    float *A = malloc((size_t)(M * K) * 4), *B = malloc((size_t)(K * Q * bseg) * 4);
                    const float **rows = malloc((size_t)K * sizeof *rows);
                    float *W = aiecg__aligned_alloc((size_t)((M + 31) / 32 * 32 * K) * 4);
                    size_t nc = (size_t)(Q * M * S);
                    float *C1 = malloc(nc * 4), *C2 = malloc(nc * 4), *R = malloc(nc * 4), *bias = malloc((size_t)M * 4);
                    for (int64_t i = 0; i < M * K; i++) A[i] = frand();
                    for (int64_t i = 0; i < K * Q * bseg; i++) B[i] = frand();
                    /* NaN in tap 0 of about one column in five: every output of that column is NaN */
                    for (int64_t i = 0; i < Q * bseg; i++)
                        if (frand() > 0.6f) B[(i / bseg) * K * bseg + i % bseg] = NAN;
                    for (int64_t p = 0; p < K; p++) rows[p] = B + p * bseg;
                    for (size_t i = 0; i < nc; i++) R[i] = frand() > 0.8f ? NAN : frand();
                    for (int64_t i = 0; i < M; i++) bias[i] = frand();
                    aiecg__pack_wt(A, M, K, K, W);
                    for (int act = 0; act < 3; act++) /* 0: bias; 1: bias + ReLU; 2: bias + residual + ReLU */
                        for (int cr = 0; cr < 3; cr++) {
                            aiecg__gemm_args g = {0};
                            g.m = M; g.n = N; g.k = K;
                            g.a = A; g.lda = K; g.brow = rows;
                            g.seg = S; g.b_seg = K * bseg; g.c_seg = M * S; g.r_seg = M * S;
                            g.ldc = S; g.ldr = S;
                            g.bias_m = bias;
                            g.res = act == 2 ? R : NULL;
                            g.act = act ? AIECG__ACT_RELU : AIECG__ACT_NONE;
                            g.col_begin = cr == 0 ? 0 : cr == 1 ? N / 3 : 1;
                            g.col_end = cr == 0 ? 0 : cr == 1 ? N - N / 4 : N - 1;
                            if (g.col_end != 0 && g.col_end <= g.col_begin) continue;
                            for (size_t i = 0; i < nc; i++) C1[i] = C2[i] = -7.0f;
                            g.c = C1;
                            gemm(&g);
                            g.c = C2;
                            wt(&g, W);
                            for (size_t i = 0; i < nc; i++) nnan += isnan(C1[i]);
                            if (memcmp(C1, C2, nc * 4) != 0) {
                                printf("wt store NaN M=%lld K=%lld seg=%lld x %lld act=%d cols %lld..%lld: bits differ\n",
                                       (long long)M, (long long)K, (long long)S, (long long)Q, act,
                                       (long long)g.col_begin, (long long)g.col_end);
                                CHECK(0);
                            }
                            ncase++;
                        }
                    free(A); free(B); free(rows); aiecg__aligned_free(W); free(C1); free(C2); free(R); free(bias);
                }
    CHECK(nnan > 0);
    printf("wt store with NaN: %d cases, %d NaN outputs\n", ncase, nnan);
#endif
}

/*
 * Strided B rows on the AVX2 / NEON wt kernels (g.bstride 2 or 4: B(p, j) at brow[p][j * bstride], the layout of a
 * strided conv read in place from its zero-padded input copy): the same bits as the packed GEMM on a contiguous
 * copy of the same values, with the skipped elements in between holding other values, batch segments, column
 * ranges, fused and plain-C epilogues.
 */
static void test_gemm_wt16_stride(void) {
#if defined(__x86_64__) || defined(__aarch64__)
    aiecg__gemm_fn gemm;
    wt_fn wt;
    if (!wt16_kernels("strided wt kernel", &gemm, &wt)) return;
    int ms[] = {7, 33, 70}, ks[] = {5, 300}, segs[] = {5, 13, 40}, nsegs[] = {1, 3};
    int ncase = 0;
    for (int a = 0; a < 3; a++)
        for (int c = 0; c < 2; c++)
            for (int sg = 0; sg < 3; sg++)
                for (int q = 0; q < 2; q++)
                    for (int xs = 2; xs <= 4; xs += 2) {
                        int64_t M = ms[a], K = ks[c], S = segs[sg], Q = nsegs[q], N = S * Q;
                        int64_t bc = S + 3, bs = S * xs + 5; /* row lengths of the contiguous / strided copies */
                        float *A = malloc((size_t)(M * K) * 4), *Bc = malloc((size_t)(K * Q * bc) * 4);
                        float *Bs = malloc((size_t)(K * Q * bs) * 4);
                        const float **rc = malloc((size_t)K * sizeof *rc), **rs = malloc((size_t)K * sizeof *rs);
                        float *W = aiecg__aligned_alloc((size_t)((M + 31) / 32 * 32 * K) * 4);
                        size_t nc = (size_t)(Q * M * S);
                        float *C1 = malloc(nc * 4), *C2 = malloc(nc * 4), *R = malloc(nc * 4), *bias = malloc((size_t)M * 4);
                        for (int64_t i = 0; i < M * K; i++) A[i] = frand();
                        for (int64_t i = 0; i < K * Q * bs; i++) Bs[i] = frand();
                        for (int64_t i = 0; i < K * Q * bc; i++) Bc[i] = 0.0f;
                        for (int64_t qq = 0; qq < Q; qq++)
                            for (int64_t p = 0; p < K; p++)
                                for (int64_t t = 0; t < S; t++)
                                    Bc[qq * K * bc + p * bc + t] = Bs[qq * K * bs + p * bs + t * xs];
                        for (int64_t p = 0; p < K; p++) {
                            rc[p] = Bc + p * bc;
                            rs[p] = Bs + p * bs;
                        }
                        for (size_t i = 0; i < nc; i++) R[i] = frand();
                        for (int64_t i = 0; i < M; i++) bias[i] = frand();
                        aiecg__pack_wt(A, M, K, K, W);
                        /* act 0: raw sums; 1: bias + residual + ReLU (fused store); 2: bias + LeakyReLU (plain C) */
                        for (int act = 0; act < 3; act++)
                            for (int cr = 0; cr < 2; cr++) {
                                aiecg__gemm_args g = {0};
                                g.m = M; g.n = N; g.k = K;
                                g.a = A; g.lda = K;
                                g.seg = S; g.c_seg = M * S; g.r_seg = M * S;
                                g.ldc = S; g.ldr = S;
                                g.bias_m = act ? bias : NULL;
                                g.res = act == 1 ? R : NULL;
                                g.act = act == 1 ? AIECG__ACT_RELU : act == 2 ? AIECG__ACT_LEAKY_RELU : 0;
                                g.act_a = 0.1f;
                                g.col_begin = cr ? N / 3 : 0;
                                g.col_end = cr ? N - N / 4 : 0;
                                for (size_t i = 0; i < nc; i++) C1[i] = C2[i] = -7.0f;
                                g.brow = rc; g.b_seg = K * bc; g.c = C1;
                                gemm(&g);
                                g.brow = rs; g.b_seg = K * bs; g.bstride = xs; g.c = C2;
                                wt(&g, W);
                                if (memcmp(C1, C2, nc * 4) != 0) {
                                    printf("strided wt M=%lld K=%lld seg=%lld x %lld stride %d act=%d cr=%d: bits differ\n",
                                           (long long)M, (long long)K, (long long)S, (long long)Q, xs, act, cr);
                                    CHECK(0);
                                }
                                ncase++;
                            }
                        free(A); free(Bc); free(Bs); free(rc); free(rs); aiecg__aligned_free(W);
                        free(C1); free(C2); free(R); free(bias);
                    }
    printf("strided wt kernel: %d cases\n", ncase);
    CHECK(ncase == 432);
#endif
}

/* One Conv node (+ optional residual input as a constant) as a model. */
static aiecg_model *conv_model(int64_t cin, int64_t cout, int64_t k, int64_t stride, int64_t dil, int64_t pad,
                               int group, int act, int residual, int64_t len) {
    aiecg_model *m = aiecg__calloc(1, sizeof *m);
    aiecg__nn_graph *g = &m->g;
    aiecg__nn_graph_init(g);
    int x = aiecg__nn_add_tensor(g, "x"), w = aiecg__nn_add_tensor(g, "w"), b = aiecg__nn_add_tensor(g, "b");
    int y = aiecg__nn_add_tensor(g, "y");
    g->t[x].ndim = 3;
    g->t[x].dims[0] = -1;
    g->t[x].dims[1] = cin;
    g->t[x].dims[2] = -1;
    int64_t wd[3] = {cout, cin / group, k};
    g->t[w].ndim = 3;
    memcpy(g->t[w].dims, wd, sizeof wd);
    g->t[w].is_const = 1;
    g->t[w].data_owned = 1;
    g->t[w].data = aiecg__aligned_alloc((size_t)(cout * (cin / group) * k) * 4);
    for (int64_t i = 0; i < cout * (cin / group) * k; i++) ((float *)g->t[w].data)[i] = frand();
    g->t[b].ndim = 1;
    g->t[b].dims[0] = cout;
    g->t[b].is_const = 1;
    g->t[b].data_owned = 1;
    g->t[b].data = aiecg__aligned_alloc((size_t)cout * 4);
    for (int64_t i = 0; i < cout; i++) ((float *)g->t[b].data)[i] = frand();
    aiecg__nn_node *n = aiecg__nn_add_node(g, AIECG__OP_CONV, "conv", residual ? 4 : 3, 1);
    n->in[0] = x;
    n->in[1] = w;
    n->in[2] = b;
    n->out[0] = y;
    n->a.nspatial = 1;
    n->a.kernel[0] = 1;
    n->a.kernel[1] = k;
    n->a.stride[1] = stride;
    n->a.dilation[1] = dil;
    n->a.pad_begin[1] = pad;
    n->a.pad_end[1] = pad + 1;
    n->a.group = group;
    n->a.act = act;
    n->a.act_a = 0.2f;
    if (residual) {
        int64_t ol = (len + 2 * pad + 1 - (k - 1) * dil - 1) / stride + 1;
        int r = aiecg__nn_add_tensor(g, "r");
        g->t[r].ndim = 3;
        g->t[r].dims[0] = 2;
        g->t[r].dims[1] = cout;
        g->t[r].dims[2] = ol;
        g->t[r].is_const = 1;
        g->t[r].data_owned = 1;
        g->t[r].data = aiecg__aligned_alloc((size_t)(2 * cout * ol) * 4);
        for (int64_t i = 0; i < 2 * cout * ol; i++) ((float *)g->t[r].data)[i] = frand();
        g->n[0].in[3] = r;
        g->n[0].a.has_residual = 1;
    }
    g->input = x;
    g->output = y;
    return m;
}

static void run_conv(aiecg_model *m, int generic, int threads, const float *x, const int64_t *xd, float *y, size_t cap,
                     int64_t *yd) {
    aiecg_session_options o = aiecg_session_options_default();
    o.force_generic = generic;
    o.nthreads = threads;
    o.max_batch = xd[0];
    o.max_length = xd[2];
    aiecg_session *s = NULL;
    aiecg_error err;
    int nd = 0;
    CHECK_OK(aiecg_session_new(m, &o, &s, &err), &err);
    if (s) CHECK_OK(aiecg_session_run(s, x, xd, 3, y, cap, yd, &nd, &err), &err);
    aiecg_session_free(s);
}

static void test_conv_variants(void) {
    struct { int64_t cin, cout, k, s, d, p; int g; } cs[] = {
        {3, 5, 3, 1, 1, 1, 1},  {12, 16, 7, 2, 1, 3, 1}, {9, 9, 5, 1, 2, 4, 9}, {8, 12, 1, 1, 1, 0, 1},
        {16, 8, 16, 4, 1, 7, 2}, {7, 14, 9, 2, 3, 2, 7}, {1, 1, 1, 1, 1, 0, 1}, {24, 40, 17, 1, 1, 8, 1},
    };
    int ncase = 0;
    for (size_t c = 0; c < sizeof cs / sizeof cs[0]; c++)
        for (int64_t len = 1; len <= 37; len += (len < 20 ? 1 : 5)) {
            int64_t span = (cs[c].k - 1) * cs[c].d + 1;
            if (len + 2 * cs[c].p + 1 < span) continue;
            for (int act = 0; act < 2; act++) {
                int res = act && (c % 2 == 0);
                aiecg_model *m = conv_model(cs[c].cin, cs[c].cout, cs[c].k, cs[c].s, cs[c].d, cs[c].p, cs[c].g,
                                            act ? AIECG__ACT_LEAKY_RELU : 0, res, len);
                int64_t xd[3] = {2, cs[c].cin, len}, yd[8];
                size_t nx = (size_t)(2 * cs[c].cin * len), cap = (size_t)(2 * cs[c].cout * (len + 64));
                float *x = malloc(nx * 4), *y0 = calloc(cap, 4), *y1 = calloc(cap, 4), *y3 = calloc(cap, 4);
                for (size_t i = 0; i < nx; i++) x[i] = frand();
                run_conv(m, 1, 1, x, xd, y0, cap, yd);
                run_conv(m, 0, 1, x, xd, y1, cap, yd);
                run_conv(m, 0, 3, x, xd, y3, cap, yd);
                size_t ny = (size_t)(yd[0] * yd[1] * yd[2]);
                double md = 0;
                md = rel_diff(y0, y1, ny);
                if (!(md < 1e-5)) {
                    printf("conv case %zu len %lld act %d: rel diff %g\n", c, (long long)len, act, md);
                    CHECK(md < 1e-5);
                }
                CHECK(memcmp(y1, y3, ny * 4) == 0);
                ncase++;
                free(x); free(y0); free(y1); free(y3);
                aiecg_model_free(m);
            }
        }
    printf("conv variants: %d cases\n", ncase);
    CHECK(ncase > 200);
}

/*
 * Long convs by overlap-save DFT blocks (conv_fft.c): against the reference conv (generic path, direct sums)
 * within float rounding; the same bits for 1 and 3 threads and, on x86 with AVX-512, with AVX-512 masked
 * (the AVX2 GEMMs), since every stage is a GEMM of the path or plain C without contraction. Shapes: taps
 * 9 / 17 / 33, channel counts not multiples of 16, lengths that leave a short last block, asymmetric
 * padding (pad, pad + 1), bias, residual + ReLU, a batch of 2.
 */
static void test_conv_fft(void) {
    struct { int64_t cin, cout, k, p, len; int act, res; } cs[] = {
        {32, 32, 9, 4, 520, 0, 0}, {40, 33, 17, 8, 700, AIECG__ACT_RELU, 1}, {33, 70, 33, 16, 1031, AIECG__ACT_RELU, 0},
        {64, 48, 17, 0, 600, AIECG__ACT_LEAKY_RELU, 1},
    };
    uint32_t f = aiecg_cpu_features();
    int ncase = 0;
    for (size_t c = 0; c < sizeof cs / sizeof cs[0]; c++) {
        aiecg_model *m = conv_model(cs[c].cin, cs[c].cout, cs[c].k, 1, 1, cs[c].p, 1, cs[c].act, cs[c].res, cs[c].len);
        int64_t xd[3] = {2, cs[c].cin, cs[c].len}, yd[8];
        size_t nx = (size_t)(2 * cs[c].cin * cs[c].len), cap = (size_t)(2 * cs[c].cout * (cs[c].len + 64));
        float *x = malloc(nx * 4), *y0 = calloc(cap, 4), *y1 = calloc(cap, 4), *y3 = calloc(cap, 4), *y2 = calloc(cap, 4);
        for (size_t i = 0; i < nx; i++) x[i] = frand();
        run_conv(m, 1, 1, x, xd, y0, cap, yd);
        run_conv(m, 0, 1, x, xd, y1, cap, yd);
        run_conv(m, 0, 3, x, xd, y3, cap, yd);
        size_t ny = (size_t)(yd[0] * yd[1] * yd[2]);
        CHECK(yd[2] >= 512); /* the DFT path's length rule */
        double md = rel_diff(y0, y1, ny);
        printf("conv by DFT %lldx%lld->%lld k%lld: rel diff to the direct sums %.2g\n", (long long)cs[c].cin,
               (long long)cs[c].len, (long long)cs[c].cout, (long long)cs[c].k, md);
        CHECK(md < 5e-5); /* direct: ~1e-6; 64-point DFT stages in float: up to ~2e-5 of the output range */
        CHECK(memcmp(y1, y3, ny * 4) == 0);
        if ((f & AIECG_CPU_AVX512F) && (f & AIECG_CPU_AVX2) && (f & AIECG_CPU_FMA)) {
            aiecg_session_options o = aiecg_session_options_default();
            o.max_batch = 2;
            o.max_length = cs[c].len;
            o.cpu_features = f & ~(uint32_t)AIECG_CPU_AVX512F;
            aiecg_session *s = NULL;
            aiecg_error err;
            int nd = 0;
            CHECK_OK(aiecg_session_new(m, &o, &s, &err), &err);
            if (s) CHECK_OK(aiecg_session_run(s, x, xd, 3, y2, cap, yd, &nd, &err), &err);
            aiecg_session_free(s);
            CHECK(memcmp(y1, y2, ny * 4) == 0);
        }
        ncase++;
        free(x); free(y0); free(y1); free(y3); free(y2);
        aiecg_model_free(m);
    }
    CHECK(ncase == 4);
}

/* One MaxPool / AveragePool node as a model. */
static aiecg_model *pool_model(int op, int64_t k, int64_t stride, int64_t dil, int64_t pb, int64_t pe, int ceil_mode,
                               int include_pad) {
    aiecg_model *m = aiecg__calloc(1, sizeof *m);
    aiecg__nn_graph *g = &m->g;
    aiecg__nn_graph_init(g);
    int x = aiecg__nn_add_tensor(g, "x"), y = aiecg__nn_add_tensor(g, "y");
    g->t[x].ndim = 3;
    g->t[x].dims[0] = -1;
    g->t[x].dims[1] = 5;
    g->t[x].dims[2] = -1;
    aiecg__nn_node *n = aiecg__nn_add_node(g, op, "pool", 1, 1);
    n->in[0] = x;
    n->out[0] = y;
    n->a.nspatial = 1;
    n->a.kernel[0] = 1;
    n->a.kernel[1] = k;
    n->a.stride[1] = stride;
    n->a.dilation[1] = dil;
    n->a.pad_begin[1] = pb;
    n->a.pad_end[1] = pe;
    n->a.ceil_mode = ceil_mode;
    n->a.count_include_pad = include_pad;
    g->input = x;
    g->output = y;
    return m;
}

/* The fast 1-D pooling path equals the reference bit for bit (edges, tails, pads, ceil_mode, NaN, -0). */
static void test_pool_variants(void) {
    struct { int64_t k, s, d, pb, pe; int ceil, incl; } cs[] = {
        {3, 2, 1, 1, 1, 0, 0}, {2, 2, 1, 0, 0, 0, 0}, {3, 1, 1, 1, 1, 0, 1}, {5, 3, 1, 2, 1, 1, 0},
        {4, 2, 2, 3, 0, 1, 1}, {1, 1, 1, 0, 0, 0, 0}, {7, 4, 1, 3, 3, 1, 1}, {3, 2, 3, 0, 2, 0, 0},
    };
    int ncase = 0;
    for (size_t c = 0; c < sizeof cs / sizeof cs[0]; c++)
        for (int op = 0; op < 2; op++)
            for (int64_t len = 1; len <= 70; len += (len < 24 ? 1 : 7)) {
                int64_t span = (cs[c].k - 1) * cs[c].d + 1;
                if (len + cs[c].pb + cs[c].pe < span) continue;
                aiecg_model *m = pool_model(op ? AIECG__OP_AVGPOOL : AIECG__OP_MAXPOOL, cs[c].k, cs[c].s, cs[c].d,
                                            cs[c].pb, cs[c].pe, cs[c].ceil, cs[c].incl);
                int64_t xd[3] = {3, 5, len}, yd[8];
                size_t nx = (size_t)(3 * 5 * len), cap = (size_t)(3 * 5 * (len + 16));
                float *x = malloc(nx * 4), *y0 = calloc(cap, 4), *y1 = calloc(cap, 4);
                for (size_t i = 0; i < nx; i++) x[i] = frand();
                if (nx > 7) x[7] = -0.0f;
                if (nx > 11 && !op) x[11] = NAN; /* max keeps the reference's NaN rule */
                run_conv(m, 1, 1, x, xd, y0, cap, yd);
                run_conv(m, 0, 1, x, xd, y1, cap, yd);
                size_t ny = (size_t)(yd[0] * yd[1] * yd[2]);
                if (memcmp(y0, y1, ny * 4) != 0) {
                    printf("pool case %zu op %d len %lld differs\n", c, op, (long long)len);
                    CHECK(0);
                }
                ncase++;
                free(x); free(y0); free(y1);
                aiecg_model_free(m);
            }
    printf("pool variants: %d cases\n", ncase);
    CHECK(ncase > 400);
}

/* Batch-separable graphs run in sub-batches: same bits as one pass, for any split and a partial last pass. */
static void test_sub_batch(void) {
    char p[1200];
    const char *src = getenv("AIECG_SOURCE_DIR");
    snprintf(p, sizeof p, "%s/tests/data/nn/seresnet_small.onnx", src ? src : ".");
    aiecg_error err;
    aiecg_model *m = NULL;
    if (aiecg_model_load(p, &m, &err) != AIECG_OK) {
        snprintf(p, sizeof p, "%s/fuzz/corpus/aiem/seresnet_fp16.aiem", src ? src : ".");
        CHECK_OK(aiecg_model_load(p, &m, &err), &err);
    }
    if (!m) return;
    aiecg_session_options o = aiecg_session_options_default();
    o.max_batch = 6;
    o.max_length = 300;
    aiecg_session *s1 = NULL, *s3 = NULL, *sw = NULL, *s0 = NULL;
    CHECK_OK(aiecg__nn_session_new_budget(m, &o, (size_t)1 << 40, &sw, &err), &err);
    if (!sw) return;
    CHECK_INT(aiecg__nn_session_sub_batch(sw), 6);
    size_t rec = aiecg__nn_session_record_bytes(sw);
    CHECK(rec > 0);
    /* budget of one record: passes of 1; of three: passes of 3 (6 = 3 + 3, 5 = 3 + 2) */
    CHECK_OK(aiecg__nn_session_new_budget(m, &o, rec, &s1, &err), &err);
    CHECK_OK(aiecg__nn_session_new_budget(m, &o, 3 * rec, &s3, &err), &err);
    /* one record over the budget: the batch runs whole (passes would only re-read the weights) */
    CHECK_OK(aiecg__nn_session_new_budget(m, &o, rec - 1, &s0, &err), &err);
    if (!s1 || !s3 || !s0) return;
    CHECK_INT(aiecg__nn_session_sub_batch(s1), 1);
    CHECK_INT(aiecg__nn_session_sub_batch(s3), 3);
    CHECK_INT(aiecg__nn_session_sub_batch(s0), 6);
    aiecg_session_free(s0);
    CHECK(aiecg__nn_session_arena_bytes(s1) < aiecg__nn_session_arena_bytes(sw));
    size_t n = 6 * 12 * 300;
    float *x = malloc(n * 4), y1[64], y3[64], yw[64];
    for (size_t i = 0; i < n; i++) x[i] = frand();
    for (int64_t b = 1; b <= 6; b++) {
        int64_t d[3] = {b, 12, 300}, od[8];
        int nd1 = 0, nd3 = 0, ndw = 0;
        CHECK_OK(aiecg_session_run(s1, x, d, 3, y1, 64, od, &nd1, &err), &err);
        CHECK_INT(od[0], b);
        CHECK_OK(aiecg_session_run(s3, x, d, 3, y3, 64, od, &nd3, &err), &err);
        CHECK_INT(od[0], b);
        CHECK_OK(aiecg_session_run(sw, x, d, 3, yw, 64, od, &ndw, &err), &err);
        CHECK_INT(od[0], b);
        if (memcmp(y1, yw, (size_t)(b * 5) * 4) != 0) printf("batch %lld: split 1 differs\n", (long long)b);
        CHECK(memcmp(y1, yw, (size_t)(b * 5) * 4) == 0);
        CHECK(memcmp(y3, yw, (size_t)(b * 5) * 4) == 0);
        /* the output capacity is checked against the whole batch before a pass writes past it */
        if (b > 1) CHECK_INT(aiecg_session_run(s1, x, d, 3, y1, (size_t)(b * 5 - 1), od, &nd1, &err), AIECG_ERR_LIMIT);
    }
    aiecg_session_free(s1);
    aiecg_session_free(s3);
    aiecg_session_free(sw);
    aiecg_model_free(m);
    /* a constant residual sized for batch 2 ties records to their index: never split */
    aiecg_model *c = conv_model(3, 4, 3, 1, 1, 1, 1, 0, 1, 9);
    o.max_batch = 2;
    o.max_length = 9;
    aiecg_session *sc = NULL;
    CHECK_OK(aiecg__nn_session_new_budget(c, &o, 64, &sc, &err), &err);
    CHECK_INT(aiecg__nn_session_sub_batch(sc), 2);
    aiecg_session_free(sc);
    aiecg_model_free(c);
    free(x);
}

/*
 * The shipped ecg12 net's shortcut AveragePools run after the block's second conv in the ONNX file; the optimiser
 * hoists them so the residual Add + Relu fuse into that conv: no Add node is left, and the output equals the
 * committed .aiem (compiled before the hoist, Add run as its own node) bit for bit.
 */
static void test_shortcut_hoist(void) {
    char p[1200], q[1200];
    const char *src = getenv("AIECG_SOURCE_DIR");
    snprintf(p, sizeof p, "%s/models/ecg12.onnx", src ? src : ".");
    snprintf(q, sizeof q, "%s/models/ecg12.aiem", src ? src : ".");
    aiecg_error err;
    aiecg_model *mo = NULL, *ma = NULL;
    if (aiecg_model_load(p, &mo, &err) != AIECG_OK) {
        printf("no ONNX import in this build: hoist not tested\n");
        return;
    }
    CHECK_OK(aiecg_model_load(q, &ma, &err), &err);
    if (!ma) return;
    int adds = 0, adds_aiem = 0;
    for (int i = 0; i < mo->g.nn; i++) adds += mo->g.n[i].op == AIECG__OP_ADD;
    for (int i = 0; i < ma->g.nn; i++) adds_aiem += ma->g.n[i].op == AIECG__OP_ADD;
    CHECK_INT(adds, 0);
    printf("ecg12: %d Add nodes after the hoist (%d in the committed .aiem)\n", adds, adds_aiem);
    size_t n = 12 * 1000;
    float *x = malloc(n * 4), y0[128], y1[128];
    for (size_t i = 0; i < n; i++) x[i] = frand();
    int64_t d[3] = {1, 12, 1000}, od[8];
    int nd = 0;
    aiecg_session *so = NULL, *sa = NULL;
    CHECK_OK(aiecg_session_new(mo, NULL, &so, &err), &err);
    CHECK_OK(aiecg_session_new(ma, NULL, &sa, &err), &err);
    if (so && sa) {
        CHECK_OK(aiecg_session_run(so, x, d, 3, y0, 128, od, &nd, &err), &err);
        CHECK_OK(aiecg_session_run(sa, x, d, 3, y1, 128, od, &nd, &err), &err);
        CHECK(memcmp(y0, y1, (size_t)od[1] * 4) == 0);
    }
    aiecg_session_free(so);
    aiecg_session_free(sa);
    aiecg_model_free(mo);
    aiecg_model_free(ma);
    free(x);
}

static void test_session_contract(void) {
    char p[1200], tmp[256];
    const char *src = getenv("AIECG_SOURCE_DIR");
    snprintf(p, sizeof p, "%s/tests/data/nn/seresnet_small.onnx", src ? src : ".");
    aiecg_error err;
    aiecg_model *m = NULL;
    int have_onnx = 1;
    aiecg_status lst = aiecg_model_load(p, &m, &err);
    if (lst == AIECG_ERR_UNSUPPORTED) { /* build without ONNX import: use the compiled seed */
        have_onnx = 0;
        snprintf(p, sizeof p, "%s/fuzz/corpus/aiem/seresnet_fp16.aiem", src ? src : ".");
        lst = aiecg_model_load(p, &m, &err);
    }
    CHECK_OK(lst, &err);
    if (!m) return;
    int64_t dims[8];
    CHECK_INT(aiecg_model_input_shape(m, dims), 3);
    CHECK_INT(dims[0], -1);
    CHECK_INT(dims[1], 12);
    CHECK_INT(aiecg_model_output_shape(m, dims), 2);
    CHECK_INT(dims[1], 5);
    aiecg_session_options o = aiecg_session_options_default();
    o.max_batch = 4;
    o.max_length = 800;
    aiecg_session *s = NULL;
    CHECK_OK(aiecg_session_new(m, &o, &s, &err), &err);
    if (!s) return;
    size_t n = 4 * 12 * 800;
    float *x = malloc(n * 4), y[64], y1[64];
    for (size_t i = 0; i < n; i++) x[i] = frand();
    int64_t od[8];
    int ond;
    /* batch 4 at once equals 4 runs of batch 1 (batch rows are independent) */
    int64_t d4[3] = {4, 12, 800}, d1[3] = {1, 12, 800};
    CHECK_OK(aiecg_session_run(s, x, d4, 3, y, 64, od, &ond, &err), &err);
    CHECK_INT(ond, 2);
    CHECK_INT(od[0], 4);
    for (int b = 0; b < 4; b++) {
        CHECK_OK(aiecg_session_run(s, x + (size_t)b * 12 * 800, d1, 3, y1, 64, od, &ond, &err), &err);
        CHECK(memcmp(y1, y + b * 5, 5 * 4) == 0);
    }
    /* shorter length reuses the plan; longer is refused */
    int64_t ds[3] = {1, 12, 333}, dl[3] = {1, 12, 801}, db[3] = {5, 12, 100}, dr[2] = {12, 100};
    CHECK_OK(aiecg_session_run(s, x, ds, 3, y, 64, od, &ond, &err), &err);
    CHECK_INT(aiecg_session_run(s, x, dl, 3, y, 64, od, &ond, &err), AIECG_ERR_SHAPE);
    CHECK_INT(aiecg_session_run(s, x, db, 3, y, 64, od, &ond, &err), AIECG_ERR_SHAPE);
    CHECK_INT(aiecg_session_run(s, x, dr, 2, y, 64, od, &ond, &err), AIECG_ERR_SHAPE);
    CHECK_INT(aiecg_session_run(s, x, d4, 3, y, 3, od, &ond, &err), AIECG_ERR_LIMIT);
    aiecg_session_free(s);
    if (!have_onnx) {
        free(x);
        aiecg_model_free(m);
        return;
    }
    /* compile with metadata, reload from memory, corrupt bytes */
    snprintf(tmp, sizeof tmp, "/tmp/aiecg_kern_%d.aiem", (int)getpid());
    const char *k[] = {"aiecg.labels", "aiecg.input.fs"}, *v[] = {"A,B,C,D,E", "500"};
    aiecg_compile_options co = {1, 2, k, v};
    CHECK_OK(aiecg_model_compile(p, tmp, &co, &err), &err);
    uint8_t *buf = NULL;
    size_t len = 0;
    CHECK_OK(aiecg__read_file(tmp, 1 << 26, &buf, &len, &err), &err);
    unlink(tmp);
    if (!buf) return;
    aiecg_model *mm = NULL;
    CHECK_OK(aiecg_model_load_memory(buf, len, 0, &mm, &err), &err);
    CHECK_STR(aiecg_model_meta(mm, "aiecg.input.fs"), "500");
    CHECK_STR(aiecg_model_meta(mm, "aiecg.labels"), "A,B,C,D,E");
    CHECK(aiecg_model_meta(mm, "nope") == NULL);
    aiecg_model_free(mm);
    int rejected = 0, accepted = 0;
    for (size_t off = 0; off < len; off += (off < 4096 ? 7 : 997)) {
        uint8_t *c = malloc(len);
        memcpy(c, buf, len);
        c[off] ^= 0x5a;
        aiecg_model *bad = NULL;
        aiecg_status st = aiecg_model_load_memory(c, len, 0, &bad, &err);
        if (st) rejected++;
        else {
            accepted++; /* a flipped weight byte is still a valid model: run it */
            if (getenv("NN_DEBUG")) fprintf(stderr, "accepted flip at %zu\n", off);
            aiecg_session *bs = NULL;
            if (aiecg_session_new(bad, NULL, &bs, &err) == AIECG_OK) {
                int64_t dd[3] = {1, 12, 300};
                aiecg_session_run(bs, x, dd, 3, y, 64, od, &ond, &err);
            }
            aiecg_session_free(bs);
        }
        aiecg_model_free(bad);
        free(c);
    }
    for (size_t cut = 0; cut < len; cut += len / 50 + 1) {
        aiecg_model *bad = NULL;
        CHECK(aiecg_model_load_memory(buf, cut, 0, &bad, &err) != AIECG_OK);
    }
    printf("corrupted .aiem: %d rejected, %d accepted (weight bytes)\n", rejected, accepted);
    CHECK(rejected > 0);
    aiecg__free(buf);
    free(x);
    aiecg_model_free(m);
}

/*
 * Packed conv weights are per model: sessions of ecg12 (any batch, any thread count, AVX-512 or AVX2 path)
 * read the one copy the first of them built, and they all give the same bits, since the AVX-512 and AVX2
 * kernels (packed-A GEMM and wt) sum each output element in the same order.
 */
static void test_shared_pack(void) {
    char p[1200];
    const char *src = getenv("AIECG_SOURCE_DIR");
    snprintf(p, sizeof p, "%s/models/ecg12.aiem", src ? src : ".");
    aiecg_error err;
    aiecg_model *m = NULL;
    CHECK_OK(aiecg_model_load(p, &m, &err), &err);
    if (!m) return;
    CHECK(atomic_load(&m->wt) == NULL); /* load validates the plan on the generic path: nothing packed yet */
    int64_t d[3] = {3, 12, 1000}, od[8];
    int ond = 0;
    size_t nx = 3 * 12 * 1000, ny = 4096;
    float *x = malloc(nx * 4), *y[4];
    for (size_t i = 0; i < nx; i++) x[i] = 0.5f * sinf(0.013f * (float)i) + 0.1f * frand();
    uint32_t f = aiecg_cpu_features();
    /* AVX-512 (when present) 1 and 2 threads, AVX2 only (features masked), AVX2 again */
    uint32_t feats[4] = {f, f, f & ~(uint32_t)AIECG_CPU_AVX512F, f & ~(uint32_t)AIECG_CPU_AVX512F};
    int thr[4] = {1, 2, 1, 2};
    aiecg_session *ss[4] = {0};
    for (int k = 0; k < 4; k++) {
        aiecg_session_options o = aiecg_session_options_default();
        o.max_batch = 3;
        o.max_length = 1000;
        o.nthreads = thr[k];
        o.cpu_features = feats[k] ? feats[k] : 0xffffffffu;
        y[k] = malloc(ny * 4);
        CHECK_OK(aiecg_session_new(m, &o, &ss[k], &err), &err);
        if (!ss[k]) return;
        CHECK_OK(aiecg_session_run(ss[k], x, d, 3, y[k], ny, od, &ond, &err), &err);
    }
    size_t n = (size_t)aiecg__nn_numel(od, ond);
    const aiecg__wt_cache *wc = atomic_load(&m->wt);
    int fast_wt = ((f & AIECG_CPU_FMA) && (f & (AIECG_CPU_AVX2 | AIECG_CPU_AVX512F))) || (f & AIECG_CPU_NEON);
    if (fast_wt) {
        CHECK(wc != NULL);
        CHECK(aiecg__nn_session_packed_bytes(ss[0]) > 0);
        CHECK(aiecg__nn_model_wt(m) == wc); /* built once */
    }
    for (int k = 1; k < 4; k++) CHECK(memcmp(y[0], y[k], n * 4) == 0);
    printf("ecg12 shared pack: %zu floats per model, session reads %zu bytes, %s / %s same bits\n",
           wc ? wc->floats : 0, aiecg__nn_session_packed_bytes(ss[0]), aiecg_session_backend(ss[0]),
           aiecg_session_backend(ss[2]));
    for (int k = 0; k < 4; k++) {
        aiecg_session_free(ss[k]);
        free(y[k]);
    }
    free(x);
    aiecg_model_free(m);
}

/* Sessions created at once on threads of a fresh model: one pack wins the race, the others are freed (ASan). */
typedef struct {
    const aiecg_model *m;
    aiecg_session *s;
    aiecg_status st;
} race_ctx;

static void *race_main(void *arg) {
    race_ctx *c = arg;
    aiecg_session_options o = aiecg_session_options_default();
    o.max_batch = 1;
    o.max_length = 1000;
    aiecg_error err;
    c->st = aiecg_session_new(c->m, &o, &c->s, &err);
    return NULL;
}

static void test_shared_pack_race(void) {
    char p[1200];
    const char *src = getenv("AIECG_SOURCE_DIR");
    snprintf(p, sizeof p, "%s/models/ecg12.aiem", src ? src : ".");
    aiecg_error err;
    aiecg_model *m = NULL;
    CHECK_OK(aiecg_model_load(p, &m, &err), &err);
    if (!m) return;
    enum { NT = 4 };
    pthread_t th[NT];
    race_ctx c[NT];
    for (int k = 0; k < NT; k++) {
        c[k] = (race_ctx){m, NULL, AIECG_OK};
        CHECK(pthread_create(&th[k], NULL, race_main, &c[k]) == 0);
    }
    for (int k = 0; k < NT; k++) pthread_join(th[k], NULL);
    const aiecg__wt_cache *wc = atomic_load(&m->wt);
    for (int k = 0; k < NT; k++) {
        CHECK_INT(c[k].st, AIECG_OK);
        if (wc) CHECK(aiecg__nn_session_packed_bytes(c[k].s) > 0);
        aiecg_session_free(c[k].s);
    }
    CHECK(aiecg__nn_model_wt(m) == wc || !wc);
    aiecg_model_free(m);
}

typedef struct {
    aiecg_session *s;
} cancel_ctx;

static void test_cancel(void) {
    aiecg_model *m = conv_model(4, 4, 3, 1, 1, 1, 1, 0, 0, 10);
    aiecg_session *s = NULL;
    aiecg_error err;
    CHECK_OK(aiecg_session_new(m, NULL, &s, &err), &err);
    float x[40] = {0}, y[64];
    int64_t d[3] = {1, 4, 10}, od[8];
    int ond;
    CHECK_OK(aiecg_session_run(s, x, d, 3, y, 64, od, &ond, &err), &err);
    CHECK(strcmp(aiecg_session_backend(s), "generic") != 0 || !(aiecg_cpu_features() & AIECG_CPU_AVX2));
    aiecg_session_free(s);
    aiecg_model_free(m);
}

static void test_fp16(void) {
    float vals[] = {0.0f, -0.0f, 1.0f, -2.5f, 65504.0f, 6.1035156e-05f, 5.9604645e-08f, 0.33325195f, 1e-9f, 70000.0f};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        float r = aiecg__f16_to_f32(aiecg__f32_to_f16(vals[i]));
        float want = vals[i] == 1e-9f ? 0.0f : vals[i] == 70000.0f ? INFINITY : vals[i];
        if (isinf(want)) CHECK(r == want);
        else CHECK_NEAR(r, want, fabsf(want) * 1e-3f);
    }
    uint16_t h[37];
    float a[37], b[37];
    for (int i = 0; i < 37; i++) h[i] = aiecg__f32_to_f16(frand() * 10.0f);
    aiecg__f16_to_f32_array(h, a, 37, 0);
    aiecg__f16_to_f32_array(h, b, 37, aiecg_cpu_features());
    CHECK(memcmp(a, b, sizeof a) == 0);
}

/* The committed fuzz seeds must stay loadable: a layout change without regenerating them fails here. */
static void test_seed_loads(void) {
    const char *src = getenv("AIECG_SOURCE_DIR");
    char p[1200];
    snprintf(p, sizeof p, "%s/fuzz/corpus/aiem/xresnet_fp16.aiem", src ? src : ".");
    aiecg_error err;
    aiecg_model *m = NULL;
    CHECK_OK(aiecg_model_load(p, &m, &err), &err);
    aiecg_model_free(m);
}

int main(void) {
    RUN(test_seed_loads);
    RUN(test_gemm_variants);
    RUN(test_gemm_wt);
    RUN(test_gemm_wt16_nan);
    RUN(test_gemm_wt16_stride);
    RUN(test_conv_fft);
    RUN(test_conv_variants);
    RUN(test_pool_variants);
    RUN(test_sub_batch);
    RUN(test_shortcut_hoist);
    RUN(test_session_contract);
    RUN(test_shared_pack);
    RUN(test_shared_pack_race);
    RUN(test_cancel);
    RUN(test_fp16);
    return test_summary();
}
