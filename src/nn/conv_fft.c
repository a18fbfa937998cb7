/*
 * Long 1-D convolutions (9-33 taps, stride 1, >= 512 outputs: Ribeiro-style
 * ResNets, k17) by overlap-save DFT blocks of 64 samples, as three GEMM
 * stages on the engine's own kernels. Each block of 64 padded input samples
 * gives 65 - kw valid outputs (48 at kw 17); for one record:
 *
 *   X = D  Bx          forward DFT: D [66][64] (cos / -sin rows of bins
 *                      0..32), Bx[t][ci*nb + b] = xpad[ci][b*V + t]
 *   Y_f = A_f X_f      per bin f: [Yr; Yi] = [[Wr, Wi], [-Wi, Wr]] [Xr; Xi],
 *                      i.e. conj(W_f) X_f (ONNX Conv is a correlation); A_f
 *                      is packed once per model for the wt kernels
 *   T = Dinv Y         inverse real DFT of the V valid outputs: Dinv [V][66]
 *   y[co][b*V + n] = T[n][co*nb + b] + bias, then residual and activation.
 *
 * Per output 5.5 cin + 132 / cin + 176 / cout multiply-adds x 2 instead of
 * 2 kw cin (Ribeiro blocks.0/c1, 64 -> 128 channels: 3.8x fewer FLOPs;
 * blocks.1/c1, 128 -> 196: 4.6x). The GEMMs are the packed / wt kernels of
 * the session's path, which give the same bits on AVX-512, AVX2 and NEON, and
 * this file is compiled without FP contraction (CMakeLists.txt), so the DFT
 * matrices, the transformed weights and the scatter are the same bits on every
 * target too: one model file, one answer. Against the direct sum the results
 * differ by float rounding only (relative ~1e-6; test_nn_kernels compares with
 * the reference conv). Transformed weights cost 33 x 4 x cout x cin floats per
 * conv (Ribeiro: 17.5 MB for its two eligible layers), so the rule keeps the
 * FFT to layers with long outputs where the blocks amortise them.
 * Reference: overlap-save, Oppenheim & Schafer, Discrete-Time Signal
 * Processing, 3rd ed., sec. 8.7.3; fast convolution as GEMM stages, Mathieu,
 * Henaff & LeCun, "Fast training of convolutional networks through FFTs" (2014).
 */
#include "nn_int.h"

#include <string.h>

#define FN AIECG__FFT_N                    /* DFT block */
#define NBIN (FN / 2 + 1)                  /* bins 0..32 of a real block */
#define NQ (2 * NBIN)                      /* re/im rows per block */
#define PAD32(v) (((v) + 31) / 32 * 32)

/* sin(pi i / 32), i = 0..16, to double precision: the twiddles come from this table by exact symmetries, so
 * they do not depend on the platform's libm */
static const double sin32[17] = {
    0.0, 0.0980171403295606, 0.19509032201612825, 0.29028467725446233, 0.3826834323650898, 0.47139673682599764,
    0.5555702330196022, 0.6343932841636455, 0.7071067811865476, 0.773010453362737, 0.8314696123025452,
    0.881921264348355, 0.9238795325112867, 0.9569403357322088, 0.9807852804032304, 0.9951847266721969, 1.0};

/* sin(pi i / 32) for any integer i */
static double sin_t(int64_t i) {
    i %= 64;
    if (i < 0) i += 64;
    if (i <= 16) return sin32[i];
    if (i <= 32) return sin32[32 - i];
    if (i <= 48) return -sin32[i - 32];
    return -sin32[64 - i];
}
/* e^{-2 pi i j / 64} = cos - i sin of angle pi j / 32 */
static double cos64(int64_t j) { return sin_t(16 - j); }
static double sin64(int64_t j) { return sin_t(j); }

static int64_t valid_len(int64_t kw) { return FN + 1 - kw; }

int aiecg__conv_fft_model_ok(const aiecg__nn_graph *g, const aiecg__nn_node *n) {
    if (n->op != AIECG__OP_CONV || n->nin < 2 || n->in[1] < 0 || n->a.group != 1) return 0;
    if (n->a.stride[1] != 1 || n->a.dilation[1] != 1 || (n->a.nspatial == 2 && n->a.kernel[0] != 1)) return 0;
    const aiecg__nn_tensor *w = &g->t[n->in[1]];
    if (!w->is_const || !w->data || w->dtype != AIECG__DT_F32 || (w->ndim != 3 && !(w->ndim == 4 && w->dims[2] == 1)))
        return 0;
    int64_t cout = w->dims[0], cin = w->dims[1], kw = w->dims[w->ndim - 1];
    return kw >= 9 && kw <= 33 && cin >= 32 && cout >= 32 && cin <= 4096 && cout <= 4096;
}

size_t aiecg__conv_fft_model_floats(const aiecg__nn_graph *g, const aiecg__nn_node *n) {
    if (!aiecg__conv_fft_model_ok(g, n)) return 0;
    const aiecg__nn_tensor *w = &g->t[n->in[1]];
    int64_t cout = w->dims[0], cin = w->dims[1], kw = w->dims[w->ndim - 1];
    return (size_t)(NQ * FN + PAD32(valid_len(kw) * NQ) + NBIN * PAD32(2 * cout) * 2 * cin);
}

/* Layout of a node's block: D [NQ][FN], Dinv [V][NQ] (padded), then per bin A_f packed by aiecg__pack_wt. */
void aiecg__conv_fft_pack(const aiecg__nn_graph *g, const aiecg__nn_node *n, float *dst) {
    const aiecg__nn_tensor *wt = &g->t[n->in[1]];
    const float *w = wt->data;
    int64_t cout = wt->dims[0], cin = wt->dims[1], kw = wt->dims[wt->ndim - 1], v = valid_len(kw);
    float *d = dst, *dinv = dst + NQ * FN, *af = dinv + PAD32(v * NQ);
    for (int64_t f = 0; f < NBIN; f++)
        for (int64_t t = 0; t < FN; t++) {
            d[(2 * f) * FN + t] = (float)cos64(f * t);
            d[(2 * f + 1) * FN + t] = (float)-sin64(f * t);
        }
    /* c[n] = (Y_0 + (-1)^n Y_32 + 2 sum_{f=1..31} (Yr_f cos - Yi_f sin)) / 64 */
    for (int64_t r = 0; r < v; r++)
        for (int64_t f = 0; f < NBIN; f++) {
            double re, im;
            if (f == 0) {
                re = 1.0 / FN;
                im = 0.0;
            } else if (f == NBIN - 1) {
                re = (r % 2 ? -1.0 : 1.0) / FN;
                im = 0.0;
            } else {
                re = 2.0 * cos64(f * r) / FN;
                im = -2.0 * sin64(f * r) / FN;
            }
            dinv[r * NQ + 2 * f] = (float)re;
            dinv[r * NQ + 2 * f + 1] = (float)im;
        }
    /* A_f written straight into the layout of aiecg__pack_wt: row r, column p at [r / 32][p][r % 32] */
    int64_t m = 2 * cout, k = 2 * cin, blk = PAD32(m) * k;
#define AT(f, r, p) af[(f) * blk + ((r) / 32) * k * 32 + (p) * 32 + (r) % 32]
    memset(af, 0, (size_t)(NBIN * blk) * sizeof(float));
    double tc[33], ts[33]; /* kw <= 33 (aiecg__conv_fft_model_ok) */
    for (int64_t f = 0; f < NBIN; f++) {
        for (int64_t j = 0; j < kw; j++) {
            tc[j] = cos64(f * j);
            ts[j] = sin64(f * j);
        }
        for (int64_t co = 0; co < cout; co++)
            for (int64_t ci = 0; ci < cin; ci++) {
                const float *wk = w + (co * cin + ci) * kw;
                double wr = 0.0, wi = 0.0;
                for (int64_t j = 0; j < kw; j++) {
                    wr += (double)wk[j] * tc[j];
                    wi -= (double)wk[j] * ts[j];
                }
                float r = (float)wr, i = (float)wi;
                AT(f, co, ci) = r; /* Yr = Wr Xr + Wi Xi */
                AT(f, co, cin + ci) = i;
                AT(f, cout + co, ci) = -i; /* Yi = -Wi Xr + Wr Xi */
                AT(f, cout + co, cin + ci) = r;
            }
    }
#undef AT
}

int aiecg__conv_fft_use(const aiecg__conv_geom *geo, int fast, uint32_t features) {
    if (!fast) return 0;
#if defined(__x86_64__) || defined(_M_X64)
    if (!(features & AIECG_CPU_FMA) || !(features & (AIECG_CPU_AVX2 | AIECG_CPU_AVX512F))) return 0;
#elif defined(__aarch64__)
    if (!(features & AIECG_CPU_NEON)) return 0;
#else
    (void)features;
    return 0;
#endif
    /* >= 512 outputs: >= 11 blocks per record share each transformed weight (Ribeiro's 256-sample layer, 6
     * blocks, reads 26 MB of them per record and is faster direct) */
    return geo->group == 1 && geo->kh == 1 && geo->ih == 1 && geo->sw == 1 && geo->dw == 1 && geo->kw >= 9 &&
           geo->kw <= 33 && geo->cin >= 32 && geo->cout >= 32 && geo->ow >= 512;
}

static int64_t nblocks(const aiecg__conv_geom *geo) { return (geo->ow + valid_len(geo->kw) - 1) / valid_len(geo->kw); }

/* Regions of the scratch, in floats: [Bx | X] (T reuses it), Y, the B row table of the bin GEMMs. */
static void fft_regions(const aiecg__conv_geom *geo, int64_t *r1, int64_t *ry, int64_t *rt) {
    int64_t nb = nblocks(geo), v = valid_len(geo->kw);
    int64_t bx = FN * geo->cin * nb, xx = NQ * geo->cin * nb, t = v * geo->cout * nb;
    *r1 = ((bx + xx > t ? bx + xx : t) + 15) & ~(int64_t)15;
    *ry = (NQ * geo->cout * nb + 15) & ~(int64_t)15;
    *rt = 2 * geo->cin * 2 + 16; /* 2 cin pointers, 2 floats each */
}

size_t aiecg__conv_fft_scratch(const aiecg__conv_geom *geo) {
    int64_t r1, ry, rt;
    fft_regions(geo, &r1, &ry, &rt);
    return (size_t)(r1 + ry + rt + 16);
}

/* C[m][n] = A[m][k] B[k][n], all row-major and contiguous, on the session's GEMM. */
static void gemm_rows(aiecg__nn_exec *x, int64_t m, int64_t n, int64_t k, const float *a, const float *b, float *c) {
    aiecg__gemm_args g = {0};
    g.m = m;
    g.n = n;
    g.k = k;
    g.a = a;
    g.lda = k;
    g.b = b;
    g.ldb = n;
    g.c = c;
    g.ldc = n;
    aiecg__nn_gemm(x, &g);
}

void aiecg__conv_fft_run(aiecg__nn_exec *x, const aiecg__conv_geom *geo, const float *px, const float *wf,
                         const float *bias, const float *res, float *py, int act, float act_a, float act_b) {
    int64_t cin = geo->cin, cout = geo->cout, kw = geo->kw, v = valid_len(kw), nb = nblocks(geo);
    int64_t r1, ry, rt;
    fft_regions(geo, &r1, &ry, &rt);
    float *bx = x->scratch, *xq = bx + FN * cin * nb, *yq = bx + r1, *tq = bx;
    const float **brow = (const float **)(void *)(yq + ry);
    const float *d = wf, *dinv = wf + NQ * FN, *af = dinv + PAD32(v * NQ);
    int64_t ncol = cin * nb, ycol = cout * nb;
    for (int64_t item = 0; item < geo->n; item++) {
        const float *xin = px + item * cin * geo->iw;
        float *yout = py + item * cout * geo->ow;
        const float *rin = res ? res + item * cout * geo->ow : NULL;
        /* Bx[t][ci*nb + b] = xpad[ci][b*V + t], xpad[ci][p] = x[ci][p - pw] (0 outside the row) */
        for (int64_t t = 0; t < FN; t++) {
            float *row = bx + t * ncol;
            for (int64_t ci = 0; ci < cin; ci++) {
                const float *src = xin + ci * geo->iw;
                float *dst = row + ci * nb;
                for (int64_t b = 0; b < nb; b++) {
                    int64_t p = b * v + t - geo->pw;
                    dst[b] = p >= 0 && p < geo->iw ? src[p] : 0.0f;
                }
            }
        }
        gemm_rows(x, NQ, ncol, FN, d, bx, xq);
        /* per bin: [Yr; Yi] (2 cout x nb) = A_f [Xr; Xi] (2 cin x nb) */
        for (int64_t f = 0; f < NBIN; f++) {
            for (int64_t ci = 0; ci < cin; ci++) {
                brow[ci] = xq + (2 * f) * ncol + ci * nb;
                brow[cin + ci] = xq + (2 * f + 1) * ncol + ci * nb;
            }
            aiecg__gemm_args g2 = {0};
            g2.m = 2 * cout;
            g2.n = nb;
            g2.k = 2 * cin;
            g2.brow = brow;
            g2.c = yq + f * 2 * ycol;
            g2.ldc = nb;
            aiecg__nn_gemm_wt(x, &g2, af + f * PAD32(2 * cout) * 2 * cin);
        }
        /* T[n][co*nb + b]: rows q = 2f + re/im of Y are contiguous over (co, b) */
        gemm_rows(x, v, ycol, NQ, dinv, yq, tq);
        /* y[co][b*V + r] = T[r][co*nb + b] + bias (+ residual), then the activation: rows of T read in order */
        for (int64_t co = 0; co < cout; co++) {
            float bv = bias ? bias[co] : 0.0f;
            float *yr = yout + co * geo->ow;
            const float *rr = rin ? rin + co * geo->ow : NULL;
            for (int64_t r = 0; r < v; r++) {
                const float *tc = tq + r * ycol + co * nb;
                int64_t bn = r < geo->ow - (nb - 1) * v ? nb : nb - 1; /* the last block may be short */
                for (int64_t b = 0; b < bn; b++) yr[b * v + r] = tc[b] + bv;
            }
            if (rr)
                for (int64_t i = 0; i < geo->ow; i++) yr[i] += rr[i];
            if (act == AIECG__ACT_RELU) {
                for (int64_t i = 0; i < geo->ow; i++) yr[i] = yr[i] > 0.0f ? yr[i] : 0.0f;
            } else if (act != AIECG__ACT_NONE) {
                for (int64_t i = 0; i < geo->ow; i++) yr[i] = aiecg__act_apply(act, yr[i], act_a, act_b);
            }
        }
    }
}
