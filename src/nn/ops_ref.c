/*
 * Reference kernels (plain C, the ground truth every SIMD path is tested
 * against) and the per-node dispatcher. Semantics follow the ONNX operator
 * specification; loops are written for clarity first, with the reduction
 * order fixed (ascending input index) so results never depend on threads.
 * Convolutions with kernel height 1 take the GEMM path in gemm.c when the
 * session runs its fast kernels; everything else runs here.
 */
#include "nn_int.h"

#include <float.h>
#include <math.h>
#include <string.h>

float aiecg__act_apply(int act, float v, float a, float b) {
    switch (act) {
    case AIECG__ACT_RELU: return v > 0.0f ? v : 0.0f;
    case AIECG__ACT_LEAKY_RELU: return v >= 0.0f ? v : v * a;
    case AIECG__ACT_CLIP: return v < a ? a : v > b ? b : v;
    case AIECG__ACT_SIGMOID: return 1.0f / (1.0f + expf(-v));
    case AIECG__ACT_HARD_SIGMOID: { float t = a * v + b; return t < 0.0f ? 0.0f : t > 1.0f ? 1.0f : t; }
    case AIECG__ACT_HARD_SWISH: { float t = v / 6.0f + 0.5f; t = t < 0.0f ? 0.0f : t > 1.0f ? 1.0f : t; return v * t; }
    case AIECG__ACT_TANH: return tanhf(v);
    case AIECG__ACT_ELU: return v >= 0.0f ? v : a * (expf(v) - 1.0f);
    default: return v;
    }
}


void aiecg__conv_ref(const aiecg__conv_geom *g, const float *x, const float *w, const float *b,
                     const float *res, float *y, int act, float act_a, float act_b) {
    int64_t cig = g->cin / g->group, cog = g->cout / g->group;
    for (int64_t n = 0; n < g->n; n++)
        for (int64_t gr = 0; gr < g->group; gr++)
            for (int64_t oc = 0; oc < cog; oc++) {
                int64_t co = gr * cog + oc;
                const float *wc = w + co * cig * g->kh * g->kw;
                float *yc = y + (n * g->cout + co) * g->oh * g->ow;
                const float *rc = res ? res + (n * g->cout + co) * g->oh * g->ow : NULL;
                for (int64_t oy = 0; oy < g->oh; oy++)
                    for (int64_t ox = 0; ox < g->ow; ox++) {
                        float acc = 0.0f;
                        for (int64_t ic = 0; ic < cig; ic++) {
                            const float *xc = x + (n * g->cin + gr * cig + ic) * g->ih * g->iw;
                            const float *wk = wc + ic * g->kh * g->kw;
                            for (int64_t ky = 0; ky < g->kh; ky++) {
                                int64_t iy = oy * g->sh - g->ph + ky * g->dh;
                                if (iy < 0 || iy >= g->ih) continue;
                                for (int64_t kx = 0; kx < g->kw; kx++) {
                                    int64_t ix = ox * g->sw - g->pw + kx * g->dw;
                                    if (ix < 0 || ix >= g->iw) continue;
                                    acc += xc[iy * g->iw + ix] * wk[ky * g->kw + kx];
                                }
                            }
                        }
                        if (b) acc += b[co];
                        if (rc) acc += rc[oy * g->ow + ox];
                        yc[oy * g->ow + ox] = aiecg__act_apply(act, acc, act_a, act_b);
                    }
            }
}

static void conv_transpose_ref(const aiecg__conv_geom *g, const float *x, const float *w,
                               const float *b, float *y) {
    int64_t cig = g->cin / g->group, cog = g->cout / g->group;
    int64_t osz = g->oh * g->ow;
    for (int64_t n = 0; n < g->n; n++)
        for (int64_t co = 0; co < g->cout; co++)
            for (int64_t i = 0; i < osz; i++) y[(n * g->cout + co) * osz + i] = b ? b[co] : 0.0f;
    for (int64_t n = 0; n < g->n; n++)
        for (int64_t gr = 0; gr < g->group; gr++)
            for (int64_t ic = 0; ic < cig; ic++) {
                int64_t ci = gr * cig + ic;
                const float *xc = x + (n * g->cin + ci) * g->ih * g->iw;
                for (int64_t oc = 0; oc < cog; oc++) {
                    int64_t co = gr * cog + oc;
                    const float *wk = w + (ci * cog + oc) * g->kh * g->kw;
                    float *yc = y + (n * g->cout + co) * osz;
                    for (int64_t iy = 0; iy < g->ih; iy++)
                        for (int64_t ix = 0; ix < g->iw; ix++) {
                            float v = xc[iy * g->iw + ix];
                            for (int64_t ky = 0; ky < g->kh; ky++) {
                                int64_t oy = iy * g->sh - g->ph + ky * g->dh;
                                if (oy < 0 || oy >= g->oh) continue;
                                for (int64_t kx = 0; kx < g->kw; kx++) {
                                    int64_t ox = ix * g->sw - g->pw + kx * g->dw;
                                    if (ox < 0 || ox >= g->ow) continue;
                                    yc[oy * g->ow + ox] += v * wk[ky * g->kw + kx];
                                }
                            }
                        }
                }
            }
}

/* Kernel taps [*k0, *k1) whose input index o*s - p + k*d lies in [lo, hi). */
static void tap_range(int64_t o, int64_t s, int64_t p, int64_t d, int64_t k, int64_t lo, int64_t hi, int64_t *k0,
                      int64_t *k1) {
    int64_t base = o * s - p; /* input index of tap 0 */
    int64_t a = base >= lo ? 0 : (lo - base + d - 1) / d;
    int64_t b = base >= hi ? 0 : (hi - 1 - base) / d + 1;
    *k0 = a < k ? a : k;
    *k1 = b < k ? b : k;
    if (*k1 < *k0) *k1 = *k0;
}

static void pool_ref(const aiecg__conv_geom *g, int is_max, int include_pad, const float *x, float *y) {
    for (int64_t c = 0; c < g->n * g->cin; c++) {
        const float *xc = x + c * g->ih * g->iw;
        float *yc = y + c * g->oh * g->ow;
        for (int64_t oy = 0; oy < g->oh; oy++) {
            int64_t ky0, ky1, py0, py1;
            tap_range(oy, g->sh, g->ph, g->dh, g->kh, 0, g->ih, &ky0, &ky1);
            /* count_include_pad counts taps inside the explicitly padded input, not ceil_mode overhang */
            tap_range(oy, g->sh, g->ph, g->dh, g->kh, -g->ph, g->ih + g->ph, &py0, &py1);
            for (int64_t ox = 0; ox < g->ow; ox++) {
                int64_t kx0, kx1, px0, px1;
                tap_range(ox, g->sw, g->pw, g->dw, g->kw, 0, g->iw, &kx0, &kx1);
                tap_range(ox, g->sw, g->pw, g->dw, g->kw, -g->pw, g->iw + g->pw, &px0, &px1);
                float acc = is_max ? -INFINITY : 0.0f;
                for (int64_t ky = ky0; ky < ky1; ky++) {
                    const float *row = xc + (oy * g->sh - g->ph + ky * g->dh) * g->iw + ox * g->sw - g->pw;
                    if (is_max)
                        for (int64_t kx = kx0; kx < kx1; kx++) {
                            float v = row[kx * g->dw];
                            acc = v > acc ? v : acc;
                        }
                    else
                        for (int64_t kx = kx0; kx < kx1; kx++) acc += row[kx * g->dw];
                }
                if (!is_max) {
                    int64_t cnt = include_pad ? (py1 - py0) * (px1 - px0) : (ky1 - ky0) * (kx1 - kx0);
                    acc = acc / (float)(cnt ? cnt : 1);
                }
                yc[oy * g->ow + ox] = acc;
            }
        }
    }
}

/*
 * 1-D pooling (ih = kh = 1) on the fast path: outputs whose window lies fully
 * inside the row run tap-major over a contiguous output range (no per-output
 * tap_range divisions; the compiler vectorises the stride-1/2 loops), the few
 * edge outputs use pool_ref's per-output rule. Each output sees the same
 * operations in the same order as pool_ref (max: `v > acc ? v : acc` from
 * -inf; average: 0 + taps in ascending order, then one division), so the
 * result is bit-identical to the reference (test_nn_kernels checks it).
 */
static void pool1d_fast(const aiecg__conv_geom *g, int is_max, int include_pad, const float *x, float *y) {
    int64_t s = g->sw, d = g->dw, k = g->kw, p = g->pw, iw = g->iw, ow = g->ow;
    int64_t lo = (p + s - 1) / s, last = iw - 1 + p - (k - 1) * d; /* interior: lo*s >= p, ox*s - p + (k-1)d < iw */
    int64_t hi = last < 0 ? 0 : last / s + 1;
    if (lo > ow) lo = ow;
    if (hi > ow) hi = ow;
    if (hi < lo) hi = lo;
    for (int64_t c = 0; c < g->n * g->cin; c++) {
        const float *xc = x + c * iw;
        float *yc = y + c * ow;
        for (int64_t ox = lo; ox < hi; ox++) yc[ox] = is_max ? -INFINITY : 0.0f;
        for (int64_t t = 0; t < k; t++) {
            const float *src = xc + lo * s - p + t * d;
            float *dst = yc + lo;
            int64_t nn = hi - lo;
            if (is_max) {
                if (s == 1)
                    for (int64_t o = 0; o < nn; o++) { float v = src[o]; dst[o] = v > dst[o] ? v : dst[o]; }
                else if (s == 2)
                    for (int64_t o = 0; o < nn; o++) { float v = src[2 * o]; dst[o] = v > dst[o] ? v : dst[o]; }
                else
                    for (int64_t o = 0; o < nn; o++) { float v = src[o * s]; dst[o] = v > dst[o] ? v : dst[o]; }
            } else {
                if (s == 1)
                    for (int64_t o = 0; o < nn; o++) dst[o] += src[o];
                else if (s == 2)
                    for (int64_t o = 0; o < nn; o++) dst[o] += src[2 * o];
                else
                    for (int64_t o = 0; o < nn; o++) dst[o] += src[o * s];
            }
        }
        if (!is_max && hi > lo) {
            float cnt = (float)k;
            for (int64_t ox = lo; ox < hi; ox++) yc[ox] = yc[ox] / cnt;
        }
        /* edges: pool_ref's rule, output by output */
        for (int64_t ox = 0; ox < ow; ox++) {
            if (ox == lo && hi > lo) ox = hi;
            if (ox >= ow) break;
            int64_t k0, k1, q0, q1;
            tap_range(ox, s, p, d, k, 0, iw, &k0, &k1);
            tap_range(ox, s, p, d, k, -p, iw + p, &q0, &q1);
            const float *row = xc + ox * s - p;
            float acc = is_max ? -INFINITY : 0.0f;
            for (int64_t t = k0; t < k1; t++) {
                float v = row[t * d];
                if (is_max) acc = v > acc ? v : acc;
                else acc += v;
            }
            if (!is_max) {
                int64_t cnt = include_pad ? q1 - q0 : k1 - k0;
                acc = acc / (float)(cnt ? cnt : 1);
            }
            yc[ox] = acc;
        }
    }
}

/* Strides of `in` broadcast to rank r of `out` (0 on broadcast dims). */
static void bcast_strides(const aiecg__nn_shape *in, const aiecg__nn_shape *out, int64_t *st) {
    int64_t s = 1;
    for (int i = out->ndim - 1; i >= 0; i--) {
        int ii = i - (out->ndim - in->ndim);
        if (ii < 0) {
            st[i] = 0;
            continue;
        }
        st[i] = in->d[ii] == 1 ? 0 : s;
        s *= in->d[ii];
    }
}

static float fbin(int op, float a, float b) {
    switch (op) {
    case AIECG__OP_ADD: return a + b;
    case AIECG__OP_SUB: return a - b;
    case AIECG__OP_MUL: return a * b;
    case AIECG__OP_DIV: return a / b;
    case AIECG__OP_POW: return powf(a, b);
    case AIECG__OP_MAX: return a > b || isnan(a) ? a : b;
    case AIECG__OP_MIN: return a < b || isnan(a) ? a : b;
    case AIECG__OP_PRELU: return a < 0.0f ? a * b : a;
    default: return 0.0f;
    }
}

static int64_t ibin(int op, int64_t a, int64_t b) {
    switch (op) {
    case AIECG__OP_ADD: return (int64_t)((uint64_t)a + (uint64_t)b);
    case AIECG__OP_SUB: return (int64_t)((uint64_t)a - (uint64_t)b);
    case AIECG__OP_MUL: return (int64_t)((uint64_t)a * (uint64_t)b);
    case AIECG__OP_DIV: return b == 0 || (a == INT64_MIN && b == -1) ? 0 : a / b;
    case AIECG__OP_MAX: return a > b ? a : b;
    case AIECG__OP_MIN: return a < b ? a : b;
    default: return 0;
    }
}

static void binary(int op, int isint, const aiecg__nn_shape *as, const void *pa, const aiecg__nn_shape *bs,
                   const void *pb, const aiecg__nn_shape *os, void *po) {
    int64_t sa[AIECG_NN_MAX_DIMS], sb[AIECG_NN_MAX_DIMS], idx[AIECG_NN_MAX_DIMS] = {0};
    int64_t total = aiecg__nn_numel(os->d, os->ndim);
    if (total == 0) return;
    int r = os->ndim;
    bcast_strides(as, os, sa);
    bcast_strides(bs, os, sb);
    int64_t inner = r ? os->d[r - 1] : 1, isa = r ? sa[r - 1] : 0, isb = r ? sb[r - 1] : 0;
    int64_t oa = 0, ob = 0;
    for (int64_t o = 0; o < total; o += inner) {
        if (isint) {
            const int64_t *a = pa, *b = pb;
            int64_t *y = (int64_t *)po + o;
            for (int64_t i = 0; i < inner; i++) y[i] = ibin(op, a[oa + i * isa], b[ob + i * isb]);
        } else {
            const float *a = pa, *b = pb;
            float *y = (float *)po + o;
            if (op == AIECG__OP_ADD && isa == 1 && isb == 1)
                for (int64_t i = 0; i < inner; i++) y[i] = a[oa + i] + b[ob + i];
            else if (op == AIECG__OP_MUL && isa == 1 && isb == 0)
                for (int64_t i = 0; i < inner; i++) y[i] = a[oa + i] * b[ob];
            else if (op == AIECG__OP_ADD && isa == 1 && isb == 0)
                for (int64_t i = 0; i < inner; i++) y[i] = a[oa + i] + b[ob];
            else
                for (int64_t i = 0; i < inner; i++) y[i] = fbin(op, a[oa + i * isa], b[ob + i * isb]);
        }
        /* advance the outer counter */
        for (int d = r - 2; d >= 0; d--) {
            idx[d]++;
            oa += sa[d];
            ob += sb[d];
            if (idx[d] < os->d[d]) break;
            oa -= sa[d] * idx[d];
            ob -= sb[d] * idx[d];
            idx[d] = 0;
        }
    }
}

static float unary(int op, float v, const aiecg__nn_attr *a) {
    switch (op) {
    case AIECG__OP_RELU: return v > 0.0f ? v : 0.0f;
    case AIECG__OP_LEAKY_RELU: return v >= 0.0f ? v : v * a->alpha;
    case AIECG__OP_ELU: return v >= 0.0f ? v : a->alpha * (expf(v) - 1.0f);
    case AIECG__OP_SELU: return v > 0.0f ? a->gamma * v : a->gamma * (a->alpha * expf(v) - a->alpha);
    case AIECG__OP_SIGMOID: return 1.0f / (1.0f + expf(-v));
    case AIECG__OP_HARD_SIGMOID: return aiecg__act_apply(AIECG__ACT_HARD_SIGMOID, v, a->alpha, a->beta);
    case AIECG__OP_HARD_SWISH: return aiecg__act_apply(AIECG__ACT_HARD_SWISH, v, 0, 0);
    case AIECG__OP_TANH: return tanhf(v);
    case AIECG__OP_EXP: return expf(v);
    case AIECG__OP_LOG: return logf(v);
    case AIECG__OP_SQRT: return sqrtf(v);
    case AIECG__OP_NEG: return -v;
    case AIECG__OP_ABS: return fabsf(v);
    case AIECG__OP_RECIPROCAL: return 1.0f / v;
    case AIECG__OP_SOFTPLUS: return v > 20.0f ? v : log1pf(expf(v));
    case AIECG__OP_SOFTSIGN: return v / (1.0f + fabsf(v));
    case AIECG__OP_ERF: return erff(v);
    case AIECG__OP_FLOOR: return floorf(v);
    case AIECG__OP_CEIL: return ceilf(v);
    default: return v;
    }
}

static void epilogue(float *y, int64_t n, const float *res, int act, float aa, float ab) {
    if (res)
        for (int64_t i = 0; i < n; i++) y[i] += res[i];
    if (act)
        for (int64_t i = 0; i < n; i++) y[i] = aiecg__act_apply(act, y[i], aa, ab);
}

void aiecg__gemm_epilogue_ref(const aiecg__gemm_args *g, int64_t i, int64_t j0, int64_t j1) {
    int64_t s = aiecg__gemm_seglen(g);
    for (int64_t j = j0; j < j1;) {
        int64_t end = (j / s + 1) * s;
        if (end > j1) end = j1;
        float *c = aiecg__gemm_c(g, i, j);
        const float *r = g->res ? aiecg__gemm_r(g, i, j) : NULL;
        for (int64_t t = 0; t < end - j; t++) {
            float v = c[t];
            if (g->bias_m) v += g->bias_m[i];
            if (g->bias_n) v += g->bias_n[j + t];
            if (r) v += r[t];
            c[t] = aiecg__act_apply(g->act, v, g->act_a, g->act_b);
        }
        j = end;
    }
}

void aiecg__gemm_ref(const aiecg__gemm_args *g) {
    int64_t cb = g->col_begin, ce = g->col_end > 0 ? g->col_end : g->n, s = aiecg__gemm_seglen(g);
    for (int64_t i = 0; i < g->m; i++) {
        const float *a = g->a + i * g->lda;
        for (int64_t j = cb; j < ce;) {
            int64_t end = (j / s + 1) * s;
            if (end > ce) end = ce;
            float *c = aiecg__gemm_c(g, i, j);
            for (int64_t t = 0; t < end - j; t++) c[t] = 0.0f;
            for (int64_t p = 0; p < g->k; p++) {
                const float *b = aiecg__gemm_b(g, p, j);
                float av = a[p];
                for (int64_t t = 0; t < end - j; t++) c[t] += av * b[t];
            }
            j = end;
        }
        aiecg__gemm_epilogue_ref(g, i, cb, ce);
    }
}

/* Gathers strided/transposed operands into the session scratch for a plain GEMM call. */
static void run_gemm(aiecg__nn_exec *x, const aiecg__gemm_args *ga);
/* run_gemm, or the wt kernel of the CPU's path (aiecg__gemm_avx512_wt / _avx2_wt) on weights wp packed by
 * aiecg__pack_wt when wp is not NULL. */
static void run_gemm_wt(aiecg__nn_exec *x, const aiecg__gemm_args *ga, const float *wp);

static size_t esize(int dt) { return dt == AIECG__DT_I64 ? 8 : 4; }

/* Length of one stride phase of the zero-padded input row. */
static int64_t conv_phase_len(const aiecg__conv_geom *geo) {
    int64_t s = geo->sw;
    int64_t wp = geo->iw + geo->pw + (geo->ow - 1) * s + (geo->kw - 1) * geo->dw + 1;
    return (wp + s - 1) / s;
}

/*
 * Floats between consecutive rows of the polyphase copy: the phase length
 * rounded up to 16 floats, with an odd number of 64-byte lines, so that the
 * rows a 12-column tile reads for consecutive (channel, tap) fall into
 * different L1 sets. (Ribeiro's stride-4 layers have rows of 1028 floats,
 * 4 KB + 16 B apart, so groups of four rows shared one set.) Layout only.
 */
static int64_t conv_row_stride(const aiecg__conv_geom *geo) {
    int64_t r = (conv_phase_len(geo) + 15) & ~(int64_t)15;
    if ((r / 16) % 2 == 0) r += 16;
    return r;
}

/*
 * Strided convs on the wt kernels read their input in place instead of
 * a polyphase copy: a zero-padded copy of each row (not de-interleaved) whose
 * taps the kernel broadcasts at a fixed stride (x[r * s] for the tile's r-th
 * sample). Same values summed in the same order as from the polyphase rows,
 * so the same bits; the broadcasts of a tap stay within the row's cache lines
 * instead of cycling over s phase rows (microbenchmark with the data in L1:
 * 160 -> 170-180 GFLOP/s at stride 4). Row length: the span the taps read,
 * padded like conv_row_stride.
 */
static int64_t conv_span(const aiecg__conv_geom *geo) { return (geo->ow - 1) * geo->sw + (geo->kw - 1) * geo->dw + 1; }
static int64_t conv_strided_row(const aiecg__conv_geom *geo) {
    int64_t r = (conv_span(geo) + 15) & ~(int64_t)15;
    if ((r / 16) % 2 == 0) r += 16;
    return r;
}

/* Fold the batch into GEMM columns when one item's output is too short to fill tiles. */
static int conv_fold(const aiecg__conv_geom *geo) { return geo->n > 1 && geo->ow < 256; }


/*
 * Geometry of a 1-D, ungrouped conv with constant weights: on AVX-512 these
 * take aiecg__gemm_avx512_wt, on AVX2+FMA aiecg__gemm_avx2_wt, with weights
 * packed once (see aiecg__nn_conv_wt_floats). Measured
 * against the packed-A GEMM (bench_nn, interleaved runs, docs/nn-engine.md) it
 * won on every shape of the benchmark nets, from 8 output samples (no lanes
 * wasted on the short side, each weight read once per column block) to
 * Ribeiro's 4096 (no B packing pass), so it is not restricted by shape.
 */
static int conv_wt_geom(const aiecg__nn_graph *g, const aiecg__nn_node *n, const aiecg__nn_shape *sh,
                        aiecg__conv_geom *geo) {
    if (n->op != AIECG__OP_CONV || n->nin < 2 || n->in[1] < 0 || !g->t[n->in[1]].is_const || !g->t[n->in[1]].data)
        return 0;
    const aiecg__nn_shape *xs = &sh[n->in[0]], *ws = &sh[n->in[1]];
    if (ws->ndim < 3 || aiecg__nn_conv_geom(n, xs, ws->d[0], n->a.nspatial == 2 ? ws->d[2] : 1, ws->d[ws->ndim - 1], 0,
                                            geo, NULL))
        return 0;
    return geo->kh == 1 && geo->ih == 1 && geo->group == 1;
}

void aiecg__pack_wt(const float *a, int64_t m, int64_t k, int64_t lda, float *dst) {
    for (int64_t m0 = 0; m0 < m; m0 += AIECG__WT_ROWS)
        for (int64_t p = 0; p < k; p++)
            for (int64_t l = 0; l < AIECG__WT_ROWS; l++)
                *dst++ = m0 + l < m ? a[(m0 + l) * lda + p] : 0.0f;
}

size_t aiecg__nn_conv_wt_floats(const aiecg__nn_graph *g, const aiecg__nn_node *n, const aiecg__nn_shape *sh,
                                int fast, uint32_t features) {
#if defined(__aarch64__)
    /* the NEON kernel has the AVX2 one's tile (6 samples x 16 channels): the same length rule, not timed on
     * ARM hardware (tested under qemu only) */
    aiecg__conv_geom geo;
    if (!fast || !(features & AIECG_CPU_NEON) || !conv_wt_geom(g, n, sh, &geo) || geo.ow < AIECG__WT_AVX2_MIN_OW ||
        geo.kw == 1)
        return 0;
    return (size_t)((geo.cout + AIECG__WT_ROWS - 1) / AIECG__WT_ROWS * AIECG__WT_ROWS * geo.cin * geo.kw);
#elif defined(__x86_64__) || defined(_M_X64)
    aiecg__conv_geom geo;
    if (!fast || !(features & AIECG_CPU_FMA) || !(features & (AIECG_CPU_AVX512F | AIECG_CPU_AVX2)) ||
        !conv_wt_geom(g, n, sh, &geo))
        return 0;
    /* AVX2 (6-sample tiles, 16 ymm): the wt kernel beat the packed GEMM by ~10 % on 5-tap convs of >= 125
     * samples but lost 5-25 % on xresnet1d50's 32-63-sample layers and on its long 1x1 convs, whose contiguous
     * B rows the GEMM packs into an L1 panel cheaply (bench_nn --layers, AIECG_CPU=avx2, docs/nn-engine.md) */
    if (!(features & AIECG_CPU_AVX512F) && (geo.ow < AIECG__WT_AVX2_MIN_OW || geo.kw == 1)) return 0;
    return (size_t)((geo.cout + AIECG__WT_ROWS - 1) / AIECG__WT_ROWS * AIECG__WT_ROWS * geo.cin * geo.kw);
#else
    (void)g; (void)n; (void)sh; (void)fast; (void)features;
    return 0;
#endif
}

int aiecg__nn_conv_fft_at(const aiecg__nn_graph *g, const aiecg__nn_node *n, const aiecg__nn_shape *sh, int fast,
                          uint32_t features) {
    aiecg__conv_geom geo;
    return conv_wt_geom(g, n, sh, &geo) && aiecg__conv_fft_model_ok(g, n) && aiecg__conv_fft_use(&geo, fast, features);
}

/*
 * The model-level half of conv_wt_geom, from the weight tensor alone (no
 * input shape): an ungrouped conv whose constant weights are [cout][cin][kw]
 * or [cout][cin][1][kw]. Its packed panels are what any session whose shapes
 * pass conv_wt_geom reads (cout rows, cin * kw columns, the same either way).
 */
size_t aiecg__nn_conv_wt_model_floats(const aiecg__nn_graph *g, const aiecg__nn_node *n) {
    if (n->op != AIECG__OP_CONV || n->nin < 2 || n->in[1] < 0 || n->a.group != 1) return 0;
    const aiecg__nn_tensor *w = &g->t[n->in[1]];
    if (!w->is_const || !w->data || w->dtype != AIECG__DT_F32 || (w->ndim != 3 && !(w->ndim == 4 && w->dims[2] == 1)))
        return 0;
    int64_t cout = w->dims[0], k = aiecg__nn_numel(w->dims + 1, w->ndim - 1);
    if (cout <= 0 || k <= 0) return 0;
    return (size_t)((cout + AIECG__WT_ROWS - 1) / AIECG__WT_ROWS * AIECG__WT_ROWS * k);
}

void aiecg__nn_conv_wt_pack(const aiecg__nn_graph *g, const aiecg__nn_node *n, float *dst) {
    const aiecg__nn_tensor *w = &g->t[n->in[1]];
    int64_t k = aiecg__nn_numel(w->dims + 1, w->ndim - 1);
    aiecg__pack_wt(w->data, w->dims[0], k, k, dst);
}

aiecg_status aiecg__nn_exec_node(aiecg__nn_exec *x, const aiecg__nn_node *n, aiecg_error *err) {
    const aiecg__nn_attr *a = &n->a;
    aiecg__nn_shape *sh = x->sh;
    int i0 = n->in[0], yo = n->out[0];
    const aiecg__nn_shape *xs = &sh[i0], *ys = &sh[yo];
    const void *px = x->ptr[i0];
    void *py = x->ptr[yo];
    int64_t ny = aiecg__nn_numel(ys->d, ys->ndim), nx = aiecg__nn_numel(xs->d, xs->ndim);
    const float *res = a->has_residual ? x->ptr[n->in[n->nin - 1]] : NULL;
    int nin_eff = a->has_residual ? n->nin - 1 : n->nin;
#define IN(k) ((k) < nin_eff && n->in[k] >= 0 ? x->ptr[n->in[k]] : NULL)
    switch (n->op) {
    case AIECG__OP_CONV:
    case AIECG__OP_CONV_TRANSPOSE: {
        const aiecg__nn_shape *ws = &sh[n->in[1]];
        int tr = n->op == AIECG__OP_CONV_TRANSPOSE;
        int64_t cout = tr ? ws->d[1] * a->group : ws->d[0];
        aiecg__conv_geom geo;
        aiecg_status st = aiecg__nn_conv_geom(n, xs, cout, a->nspatial == 2 ? ws->d[2] : 1,
                                              ws->d[ws->ndim - 1], tr, &geo, err);
        if (st) return st;
        if (tr) {
            conv_transpose_ref(&geo, px, IN(1), IN(2), py);
            epilogue(py, ny, res, a->act, a->act_a, a->act_b);
        } else if (x->wfft && x->wfft[n - x->g->n] && aiecg__conv_fft_use(&geo, x->fast, x->features)) {
            aiecg__conv_fft_run(x, &geo, px, x->wfft[n - x->g->n], IN(2), res, py, a->act, a->act_a, a->act_b);
        } else if (x->fast && geo.kh == 1 && geo.ih == 1) {
            const float *w = IN(1), *b = IN(2);
            int64_t cig = geo.cin / geo.group, cog = geo.cout / geo.group;
            int64_t s = geo.sw, d = geo.dw;
            const float *wpn = x->wpack && geo.group == 1 ? x->wpack[n - x->g->n] : NULL;
            /* packed weights mean a wt kernel runs (AVX-512, AVX2 or NEON): all three read strided rows */
            int strided = (s == 2 || s == 4) && wpn;
            int64_t pl = conv_phase_len(&geo), rs = strided ? conv_strided_row(&geo) : conv_row_stride(&geo);
            int64_t bseg = strided ? cig * rs : s * cig * rs; /* one batch item's polyphase (or strided) copy */
            int64_t nfold = conv_fold(&geo) ? geo.n : 1;   /* batch items folded into GEMM columns */
            float *xp = x->scratch;                          /* [nfold][s][cig][pl] */
            const float **brow = (const float **)(void *)(xp + nfold * bseg + 16);
            /* a 1x1, stride-1, unpadded conv reads its B rows straight from the input: no copy to make */
            int direct = s == 1 && geo.kw == 1 && geo.pw == 0 && geo.ow == geo.iw;
            if (direct) bseg = geo.cin * geo.iw;
            for (int64_t b0 = 0; b0 < geo.n; b0 += nfold)
                for (int64_t gr = 0; gr < geo.group; gr++) {
                    for (int64_t bi = 0; bi < nfold && strided; bi++) {
                        const float *xin = (const float *)px + ((b0 + bi) * geo.cin + gr * cig) * geo.iw;
                        int64_t span = conv_span(&geo), a0 = AIECG__MIN(geo.pw, span);
                        int64_t a1 = AIECG__MAX(a0, AIECG__MIN(geo.pw + geo.iw, span));
                        for (int64_t ci = 0; ci < cig; ci++) { /* zero-padded row, read at stride s in place */
                            float *dst = xp + bi * bseg + ci * rs;
                            for (int64_t m = 0; m < a0; m++) dst[m] = 0.0f;
                            if (a1 > a0) memcpy(dst + a0, xin + ci * geo.iw + (a0 - geo.pw), (size_t)(a1 - a0) * sizeof(float));
                            for (int64_t m = a1; m < span; m++) dst[m] = 0.0f;
                        }
                    }
                    for (int64_t bi = 0; bi < nfold && !direct && !strided; bi++) {
                        const float *xin = (const float *)px + ((b0 + bi) * geo.cin + gr * cig) * geo.iw;
                        /* zero-padded, de-interleaved by stride phase: B row (ci,k) is contiguous */
                        for (int64_t ph = 0; ph < s; ph++) {
                            /* m in [m0, m1) maps inside the row (pos = m*s + ph - pw); the rest is padding */
                            int64_t off = ph - geo.pw;
                            int64_t m0 = off >= 0 ? 0 : (-off + s - 1) / s;
                            int64_t m1 = geo.iw - off > 0 ? (geo.iw - off + s - 1) / s : 0;
                            if (m0 > pl) m0 = pl;
                            if (m1 > pl) m1 = pl;
                            if (m1 < m0) m1 = m0;
                            for (int64_t ci = 0; ci < cig; ci++) {
                                float *dst = xp + bi * bseg + (ph * cig + ci) * rs;
                                const float *src = xin + ci * geo.iw + off;
                                for (int64_t m = 0; m < m0; m++) dst[m] = 0.0f;
                                if (s == 1) {
                                    if (m1 > m0) memcpy(dst + m0, src + m0, (size_t)(m1 - m0) * sizeof(float));
                                } else {
                                    for (int64_t m = m0; m < m1; m++) dst[m] = src[m * s];
                                }
                                for (int64_t m = m1; m < pl; m++) dst[m] = 0.0f;
                            }
                        }
                    }
                    if (direct) {
                        const float *xin = (const float *)px + (b0 * geo.cin + gr * cig) * geo.iw;
                        for (int64_t ci = 0; ci < cig; ci++) brow[ci] = xin + ci * geo.iw;
                    }
                    for (int64_t k = 0; k < geo.kw && strided; k++)
                        for (int64_t ci = 0; ci < cig; ci++) brow[ci * geo.kw + k] = xp + ci * rs + k * d;
                    for (int64_t k = 0; k < geo.kw && !direct && !strided; k++) { /* one division per tap, not per (channel, tap) */
                        int64_t off = k * d;
                        const float *base = xp + (off % s) * cig * rs + off / s;
                        for (int64_t ci = 0; ci < cig; ci++) brow[ci * geo.kw + k] = base + ci * rs;
                    }
                    aiecg__gemm_args ga = {0};
                    ga.m = cog;
                    ga.n = nfold * geo.ow;
                    ga.k = cig * geo.kw;
                    ga.a = w + gr * cog * cig * geo.kw;
                    ga.lda = cig * geo.kw;
                    ga.brow = brow;
                    ga.c = (float *)py + (b0 * geo.cout + gr * cog) * geo.ow;
                    ga.ldc = geo.ow;
                    ga.bias_m = b ? b + gr * cog : NULL;
                    ga.res = res ? res + (b0 * geo.cout + gr * cog) * geo.ow : NULL;
                    ga.ldr = geo.ow;
                    ga.act = a->act;
                    ga.act_a = a->act_a;
                    ga.act_b = a->act_b;
                    ga.seg = geo.ow;
                    ga.b_seg = bseg;
                    ga.c_seg = geo.cout * geo.ow;
                    ga.r_seg = geo.cout * geo.ow;
                    ga.bstride = strided ? s : 1;
                    run_gemm_wt(x, &ga, wpn);
                }
        } else {
            aiecg__conv_ref(&geo, px, IN(1), IN(2), res, py, a->act, a->act_a, a->act_b);
        }
        return AIECG_OK;
    }
    case AIECG__OP_MAXPOOL:
    case AIECG__OP_AVGPOOL: {
        aiecg__conv_geom geo;
        aiecg_status st = aiecg__nn_conv_geom(n, xs, xs->d[1], 1, 1, 0, &geo, err);
        if (st) return st;
        if (x->fast && geo.ih == 1 && geo.kh == 1 && geo.oh == 1 && geo.ph == 0)
            pool1d_fast(&geo, n->op == AIECG__OP_MAXPOOL, a->count_include_pad, px, py);
        else
            pool_ref(&geo, n->op == AIECG__OP_MAXPOOL, a->count_include_pad, px, py);
        return AIECG_OK;
    }
    case AIECG__OP_GLOBAL_AVGPOOL:
    case AIECG__OP_GLOBAL_MAXPOOL: {
        int64_t nc = xs->d[0] * xs->d[1], sp = nc ? nx / nc : 0;
        for (int64_t c = 0; c < nc; c++) {
            const float *p = (const float *)px + c * sp;
            float acc = n->op == AIECG__OP_GLOBAL_MAXPOOL ? -INFINITY : 0.0f;
            for (int64_t i = 0; i < sp; i++) acc = n->op == AIECG__OP_GLOBAL_MAXPOOL ? (p[i] > acc ? p[i] : acc) : acc + p[i];
            ((float *)py)[c] = n->op == AIECG__OP_GLOBAL_MAXPOOL ? acc : acc / (float)(sp ? sp : 1);
        }
        return AIECG_OK;
    }
    case AIECG__OP_BATCHNORM: {
        const float *sc = IN(1), *bi = IN(2), *mu = IN(3), *var = IN(4);
        int64_t c = xs->d[1], inner = aiecg__nn_numel(xs->d + 2, xs->ndim - 2);
        for (int64_t b0 = 0; b0 < xs->d[0]; b0++)
            for (int64_t ch = 0; ch < c; ch++) {
                float k = sc[ch] / sqrtf(var[ch] + a->eps), o = bi[ch] - mu[ch] * k;
                const float *p = (const float *)px + (b0 * c + ch) * inner;
                float *q = (float *)py + (b0 * c + ch) * inner;
                for (int64_t i = 0; i < inner; i++) q[i] = p[i] * k + o;
            }
        return AIECG_OK;
    }
    case AIECG__OP_ADD: case AIECG__OP_SUB: case AIECG__OP_MUL: case AIECG__OP_DIV:
    case AIECG__OP_POW: case AIECG__OP_MAX: case AIECG__OP_MIN: case AIECG__OP_PRELU:
        if (x->dt[i0] == AIECG__DT_I64 && n->op == AIECG__OP_POW)
            return aiecg__error_set(err, AIECG_ERR_UNSUPPORTED, "node '%s': integer Pow", n->name);
        if (n->op == AIECG__OP_POW && x->dt[n->in[1]] != AIECG__DT_F32)
            return aiecg__error_set(err, AIECG_ERR_UNSUPPORTED, "node '%s': integer exponent", n->name);
        {
            aiecg__nn_shape bs = sh[n->in[1]];
            if (n->op == AIECG__OP_PRELU && bs.ndim == 1 && xs->ndim > 2 && bs.d[0] == xs->d[1] &&
                bs.d[0] != xs->d[xs->ndim - 1]) {
                bs.ndim = xs->ndim - 1; /* per-channel slope (opset < 9) */
                for (int d = 1; d < bs.ndim; d++) bs.d[d] = 1;
            }
            binary(n->op, x->dt[i0] == AIECG__DT_I64, xs, px, &bs, x->ptr[n->in[1]], ys, py);
        }
        epilogue(py, ny, res, a->act, a->act_a, a->act_b);
        return AIECG_OK;
    case AIECG__OP_CLIP: {
        const float *mn = IN(1), *mx = IN(2);
        float lo = mn ? *mn : -INFINITY, hi = mx ? *mx : INFINITY;
        for (int64_t i = 0; i < ny; i++) {
            float v = ((const float *)px)[i];
            ((float *)py)[i] = v < lo ? lo : v > hi ? hi : v;
        }
        return AIECG_OK;
    }
    case AIECG__OP_SOFTMAX:
    case AIECG__OP_LOG_SOFTMAX: {
        int64_t ax = a->axis < 0 ? a->axis + xs->ndim : a->axis;
        int64_t outer, len, inner;
        if (a->softmax_legacy) {
            outer = aiecg__nn_numel(xs->d, (int)ax);
            len = aiecg__nn_numel(xs->d + ax, xs->ndim - (int)ax);
            inner = 1;
        } else {
            outer = aiecg__nn_numel(xs->d, (int)ax);
            len = xs->d[ax];
            inner = aiecg__nn_numel(xs->d + ax + 1, xs->ndim - (int)ax - 1);
        }
        for (int64_t o = 0; o < outer; o++)
            for (int64_t in = 0; in < inner; in++) {
                const float *p = (const float *)px + o * len * inner + in;
                float *q = (float *)py + o * len * inner + in;
                float mx = -INFINITY;
                for (int64_t i = 0; i < len; i++) mx = p[i * inner] > mx ? p[i * inner] : mx;
                float sum = 0.0f;
                for (int64_t i = 0; i < len; i++) sum += expf(p[i * inner] - mx);
                for (int64_t i = 0; i < len; i++)
                    q[i * inner] = n->op == AIECG__OP_SOFTMAX ? expf(p[i * inner] - mx) / sum
                                                              : p[i * inner] - mx - logf(sum);
            }
        return AIECG_OK;
    }
    case AIECG__OP_CONCAT: {
        int64_t ax = a->axis < 0 ? a->axis + xs->ndim : a->axis;
        size_t es = esize(x->dt[yo]);
        int64_t outer = aiecg__nn_numel(xs->d, (int)ax), inner = aiecg__nn_numel(ys->d + ax + 1, ys->ndim - (int)ax - 1);
        int64_t ostride = ys->d[ax] * inner, off = 0;
        for (int k = 0; k < n->nin; k++) {
            const aiecg__nn_shape *s = &sh[n->in[k]];
            int64_t chunk = s->d[ax] * inner;
            for (int64_t o = 0; o < outer; o++)
                memcpy((char *)py + (size_t)(o * ostride + off) * es,
                       (const char *)x->ptr[n->in[k]] + (size_t)(o * chunk) * es, (size_t)chunk * es);
            off += chunk;
        }
        return AIECG_OK;
    }
    case AIECG__OP_GEMM: {
        const aiecg__nn_shape *bs = &sh[n->in[1]];
        int64_t m = ys->d[0], nn = ys->d[1], k = a->trans_a ? xs->d[0] : xs->d[1];
        const float *A = px, *B = IN(1), *C = IN(2);
        float *Y = py;
        int64_t nc = C ? aiecg__nn_numel(sh[n->in[2]].d, sh[n->in[2]].ndim) : 0;
        int row_bias = !C || (a->beta == 1.0f && nc == nn && sh[n->in[2]].d[sh[n->in[2]].ndim - 1] == nn);
        if (x->fast && !a->trans_a && a->trans_b && a->alpha == 1.0f && row_bias &&
            (m <= 4 || (double)nn * (double)k <= 1048576.0)) {
            /* a few rows, or a classifier head of any batch (so a row's result never depends on the
               batch size or split): dot products with 8 fixed partial sums */
            for (int64_t i = 0; i < m; i++)
                for (int64_t j = 0; j < nn; j++) {
                    const float *wr = B + j * k, *xr = A + i * k;
                    float part[8] = {0};
                    int64_t p = 0;
                    for (; p + 8 <= k; p += 8)
                        for (int q = 0; q < 8; q++) part[q] += wr[p + q] * xr[p + q];
                    float acc = ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
                    for (; p < k; p++) acc += wr[p] * xr[p];
                    if (C) acc += C[j];
                    if (res) acc += res[i * nn + j];
                    Y[i * nn + j] = aiecg__act_apply(a->act, acc, a->act_a, a->act_b);
                }
            return AIECG_OK;
        }
        if (x->fast && !a->trans_a && a->alpha == 1.0f && row_bias) {
            aiecg__gemm_args ga = {0};
            if (a->trans_b) { /* Y^T = W A^T: rows of W are contiguous, batch rows are column segments */
                ga.m = nn;
                ga.n = m;
                ga.k = k;
                ga.a = B;
                ga.lda = k;
                ga.b = A;
                ga.ldb = 1;
                ga.seg = 1;
                ga.b_seg = k;
                ga.c = Y;
                ga.ldc = 1;
                ga.c_seg = nn;
                ga.bias_m = C;
                ga.res = res;
                ga.ldr = 1;
                ga.r_seg = nn;
            } else {
                ga.m = m;
                ga.n = nn;
                ga.k = k;
                ga.a = A;
                ga.lda = k;
                ga.b = B;
                ga.ldb = nn;
                ga.c = Y;
                ga.ldc = nn;
                ga.bias_n = C;
                ga.res = res;
                ga.ldr = nn;
            }
            ga.act = a->act;
            ga.act_a = a->act_a;
            ga.act_b = a->act_b;
            run_gemm(x, &ga);
            return AIECG_OK;
        }
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < nn; j++) {
                float acc = 0.0f;
                for (int64_t p = 0; p < k; p++) {
                    float av = a->trans_a ? A[p * m + i] : A[i * k + p];
                    float bv = a->trans_b ? B[j * bs->d[1] + p] : B[p * nn + j];
                    acc += av * bv;
                }
                Y[i * nn + j] = a->alpha * acc;
            }
        if (C) {
            aiecg__nn_shape cs = sh[n->in[2]];
            int64_t st[AIECG_NN_MAX_DIMS];
            bcast_strides(&cs, ys, st);
            for (int64_t i = 0; i < m; i++)
                for (int64_t j = 0; j < nn; j++) Y[i * nn + j] += a->beta * C[i * st[0] + j * st[1]];
        }
        epilogue(Y, ny, res, a->act, a->act_a, a->act_b);
        return AIECG_OK;
    }
    case AIECG__OP_MATMUL: {
        aiecg__nn_shape as = *xs, bs = sh[n->in[1]];
        if (as.ndim == 1) { as.ndim = 2; as.d[1] = as.d[0]; as.d[0] = 1; }
        if (bs.ndim == 1) { bs.ndim = 2; bs.d[1] = 1; }
        int64_t M = as.d[as.ndim - 2], K = as.d[as.ndim - 1], N = bs.d[bs.ndim - 1];
        aiecg__nn_shape ab = as, bb = bs, ob;
        ab.ndim -= 2;
        bb.ndim -= 2;
        ob.ndim = AIECG__MAX(ab.ndim, bb.ndim);
        for (int i = 0; i < ob.ndim; i++) {
            int ia = i - (ob.ndim - ab.ndim), ib = i - (ob.ndim - bb.ndim);
            int64_t da = ia >= 0 ? ab.d[ia] : 1, db = ib >= 0 ? bb.d[ib] : 1;
            ob.d[i] = da > db ? da : db;
        }
        int64_t sa[AIECG_NN_MAX_DIMS], sb[AIECG_NN_MAX_DIMS], idx[AIECG_NN_MAX_DIMS] = {0};
        bcast_strides(&ab, &ob, sa);
        bcast_strides(&bb, &ob, sb);
        int64_t nb = aiecg__nn_numel(ob.d, ob.ndim);
        const float *bias = IN(2);
        for (int64_t bi = 0; bi < nb; bi++) {
            int64_t oa = 0, obb = 0, rem = bi;
            for (int d = ob.ndim - 1; d >= 0; d--) {
                idx[d] = rem % ob.d[d];
                rem /= ob.d[d];
                oa += idx[d] * sa[d];
                obb += idx[d] * sb[d];
            }
            aiecg__gemm_args ga = {0};
            ga.m = M;
            ga.n = N;
            ga.k = K;
            ga.a = (const float *)px + oa * M * K;
            ga.lda = K;
            ga.b = (const float *)x->ptr[n->in[1]] + obb * K * N;
            ga.ldb = N;
            ga.c = (float *)py + bi * M * N;
            ga.ldc = N;
            ga.bias_n = bias;
            ga.res = res ? res + bi * M * N : NULL;
            ga.ldr = N;
            ga.act = a->act;
            ga.act_a = a->act_a;
            ga.act_b = a->act_b;
            run_gemm(x, &ga);
        }
        return AIECG_OK;
    }
    case AIECG__OP_FLATTEN: case AIECG__OP_RESHAPE: case AIECG__OP_SQUEEZE:
    case AIECG__OP_UNSQUEEZE: case AIECG__OP_IDENTITY: case AIECG__OP_DROPOUT:
        if (py != px) memcpy(py, px, (size_t)ny * esize(x->dt[yo]));
        return AIECG_OK;
    case AIECG__OP_TRANSPOSE: {
        size_t es = esize(x->dt[yo]);
        int r = xs->ndim;
        int64_t ist[AIECG_NN_MAX_DIMS], st[AIECG_NN_MAX_DIMS], idx[AIECG_NN_MAX_DIMS] = {0};
        int64_t s = 1;
        for (int i = r - 1; i >= 0; i--) { ist[i] = s; s *= xs->d[i]; }
        for (int i = 0; i < r; i++) st[i] = ist[a->nperm ? a->perm[i] : r - 1 - i];
        int64_t off = 0;
        for (int64_t o = 0; o < ny; o++) {
            memcpy((char *)py + (size_t)o * es, (const char *)px + (size_t)off * es, es);
            for (int d = r - 1; d >= 0; d--) {
                idx[d]++;
                off += st[d];
                if (idx[d] < ys->d[d]) break;
                off -= st[d] * idx[d];
                idx[d] = 0;
            }
        }
        return AIECG_OK;
    }
    case AIECG__OP_PAD: {
        const int64_t *pads = x->ptr[n->in[1]];
        const float *cv = n->nin > 2 && n->in[2] >= 0 ? x->ptr[n->in[2]] : NULL;
        float fill = cv ? *cv : 0.0f;
        int r = xs->ndim;
        int64_t ist[AIECG_NN_MAX_DIMS], idx[AIECG_NN_MAX_DIMS] = {0};
        int64_t s = 1;
        for (int i = r - 1; i >= 0; i--) { ist[i] = s; s *= xs->d[i]; }
        if (x->dt[yo] != AIECG__DT_F32) return aiecg__error_set(err, AIECG_ERR_UNSUPPORTED, "node '%s': Pad of int64", n->name);
        if (x->fast && a->pad_mode == 0 && r >= 1) {
            /* constant mode, row by row over the last axis: one copy + fills per row (same values) */
            int64_t lin = xs->d[r - 1], lout = ys->d[r - 1], pb = pads[r - 1];
            int64_t o0 = pb > 0 ? pb : 0, o1 = lin + pb < lout ? lin + pb : lout;
            if (o1 < o0) o1 = o0;
            for (int64_t row = 0; row * lout < ny; row++) {
                float *q = (float *)py + row * lout;
                int64_t off = 0, inside = 1;
                for (int d = 0; d < r - 1; d++) {
                    int64_t p = idx[d] - pads[d];
                    if (p < 0 || p >= xs->d[d]) inside = 0;
                    off += p * ist[d];
                }
                if (!inside || o1 == o0) {
                    for (int64_t o = 0; o < lout; o++) q[o] = fill;
                } else {
                    for (int64_t o = 0; o < o0; o++) q[o] = fill;
                    memcpy(q + o0, (const float *)px + off + (o0 - pb), (size_t)(o1 - o0) * sizeof(float));
                    for (int64_t o = o1; o < lout; o++) q[o] = fill;
                }
                for (int d = r - 2; d >= 0; d--) {
                    if (++idx[d] < ys->d[d]) break;
                    idx[d] = 0;
                }
            }
            return AIECG_OK;
        }
        for (int64_t o = 0; o < ny; o++) {
            int64_t off = 0, inside = 1;
            for (int d = 0; d < r; d++) {
                int64_t p = idx[d] - pads[d], len = xs->d[d];
                if (p < 0 || p >= len) {
                    if (a->pad_mode == 0) { inside = 0; break; }
                    if (a->pad_mode == 1) {
                        if (len == 1) p = 0;
                        else {
                            int64_t per = 2 * (len - 1);
                            p = ((p % per) + per) % per;
                            if (p >= len) p = per - p;
                        }
                    } else p = p < 0 ? 0 : len - 1;
                }
                off += p * ist[d];
            }
            ((float *)py)[o] = inside ? ((const float *)px)[off] : fill;
            for (int d = r - 1; d >= 0; d--) {
                if (++idx[d] < ys->d[d]) break;
                idx[d] = 0;
            }
        }
        return AIECG_OK;
    }
    case AIECG__OP_REDUCE_MEAN:
    case AIECG__OP_REDUCE_MAX:
    case AIECG__OP_REDUCE_SUM: {
        int r = xs->ndim;
        int mark[AIECG_NN_MAX_DIMS] = {0};
        const int64_t *ax = n->nin > 1 && n->in[1] >= 0 ? x->ptr[n->in[1]] : NULL;
        int64_t cnt = ax ? aiecg__nn_numel(sh[n->in[1]].d, sh[n->in[1]].ndim) : 0;
        for (int64_t i = 0; i < cnt; i++) mark[ax[i] < 0 ? ax[i] + r : ax[i]] = 1;
        if (cnt == 0 && !a->noop_with_empty_axes)
            for (int i = 0; i < r; i++) mark[i] = 1;
        /* output strides for each input dim (0 on reduced dims) */
        int64_t ost[AIECG_NN_MAX_DIMS], s = 1, idx[AIECG_NN_MAX_DIMS] = {0};
        for (int i = r - 1; i >= 0; i--) {
            ost[i] = mark[i] ? 0 : s;
            if (!mark[i]) s *= xs->d[i];
        }
        float *y = py;
        for (int64_t o = 0; o < ny; o++) y[o] = n->op == AIECG__OP_REDUCE_MAX ? -INFINITY : 0.0f;
        int sfx = r > 0 && ny > 0; /* reduced axes = a suffix of the dims: each output sums one contiguous run */
        for (int i = 0, seen = 0; i < r && sfx; i++) {
            if (mark[i]) seen = 1;
            else if (seen) sfx = 0;
        }
        if (sfx) {
            /* eight outputs at a time on independent chains, each summed in index order like the loop below
             * (same bits; the concat-pooling heads of xresnet-style nets: 0.037 -> ~0.01 ms a reduction) */
            const float *xv = px;
            int64_t inner = nx / ny, o = 0, mx = n->op == AIECG__OP_REDUCE_MAX;
            for (; o + 8 <= ny; o += 8) {
                float acc[8];
                for (int l = 0; l < 8; l++) acc[l] = y[o + l];
                for (int64_t i = 0; i < inner; i++)
                    for (int l = 0; l < 8; l++) {
                        float v = xv[(o + l) * inner + i];
                        acc[l] = mx ? (v > acc[l] ? v : acc[l]) : acc[l] + v;
                    }
                for (int l = 0; l < 8; l++) y[o + l] = acc[l];
            }
            for (; o < ny; o++)
                for (int64_t i = 0; i < inner; i++) {
                    float v = xv[o * inner + i];
                    y[o] = mx ? (v > y[o] ? v : y[o]) : y[o] + v;
                }
        }
        int64_t off = 0;
        for (int64_t i = 0; i < nx && !sfx; i++) {
            float v = ((const float *)px)[i];
            if (n->op == AIECG__OP_REDUCE_MAX) y[off] = v > y[off] ? v : y[off];
            else y[off] += v;
            for (int d = r - 1; d >= 0; d--) {
                idx[d]++;
                off += ost[d];
                if (idx[d] < xs->d[d]) break;
                off -= ost[d] * idx[d];
                idx[d] = 0;
            }
        }
        if (n->op == AIECG__OP_REDUCE_MEAN && ny) {
            float div = (float)(nx / ny);
            for (int64_t o = 0; o < ny; o++) y[o] /= div;
        }
        return AIECG_OK;
    }
    case AIECG__OP_SLICE: {
        const int64_t *st = x->ptr[n->in[1]];
        const int64_t *axp = n->nin > 3 && n->in[3] >= 0 ? x->ptr[n->in[3]] : NULL;
        const int64_t *stp = n->nin > 4 && n->in[4] >= 0 ? x->ptr[n->in[4]] : NULL;
        int64_t c1 = aiecg__nn_numel(sh[n->in[1]].d, sh[n->in[1]].ndim);
        int r = xs->ndim;
        int64_t start[AIECG_NN_MAX_DIMS] = {0}, step[AIECG_NN_MAX_DIMS], ist[AIECG_NN_MAX_DIMS], idx[AIECG_NN_MAX_DIMS] = {0};
        for (int i = 0; i < r; i++) step[i] = 1;
        for (int64_t i = 0; i < c1; i++) {
            int64_t axis = axp ? axp[i] : i;
            if (axis < 0) axis += r;
            int64_t dim = xs->d[axis], s = stp ? stp[i] : 1, b = st[i];
            if (b < 0) b += dim;
            if (s > 0) b = b < 0 ? 0 : b > dim ? dim : b;
            else b = b < 0 ? -1 : b > dim - 1 ? dim - 1 : b;
            start[axis] = b;
            step[axis] = s;
        }
        int64_t s = 1;
        for (int i = r - 1; i >= 0; i--) { ist[i] = s; s *= xs->d[i]; }
        size_t es = esize(x->dt[yo]);
        for (int64_t o = 0; o < ny; o++) {
            int64_t off = 0;
            for (int d = 0; d < r; d++) off += (start[d] + idx[d] * step[d]) * ist[d];
            memcpy((char *)py + (size_t)o * es, (const char *)px + (size_t)off * es, es);
            for (int d = r - 1; d >= 0; d--) {
                if (++idx[d] < ys->d[d]) break;
                idx[d] = 0;
            }
        }
        return AIECG_OK;
    }
    case AIECG__OP_SHAPE: {
        int64_t b = a->shape_start < 0 ? a->shape_start + xs->ndim : a->shape_start;
        b = b < 0 ? 0 : b;
        for (int64_t i = 0; i < ny; i++) ((int64_t *)py)[i] = xs->d[b + i];
        return AIECG_OK;
    }
    case AIECG__OP_GATHER: {
        int64_t ax = a->axis < 0 ? a->axis + xs->ndim : a->axis;
        const int64_t *ind = x->ptr[n->in[1]];
        int64_t ni = aiecg__nn_numel(sh[n->in[1]].d, sh[n->in[1]].ndim);
        int64_t outer = aiecg__nn_numel(xs->d, (int)ax), dim = xs->d[ax];
        int64_t inner = aiecg__nn_numel(xs->d + ax + 1, xs->ndim - (int)ax - 1);
        size_t es = esize(x->dt[yo]);
        for (int64_t i = 0; i < ni; i++)
            if (ind[i] < -dim || ind[i] >= dim)
                return aiecg__error_set(err, AIECG_ERR_RANGE, "node '%s' (Gather): index %lld out of range",
                                        n->name, (long long)ind[i]);
        for (int64_t o = 0; o < outer; o++)
            for (int64_t i = 0; i < ni; i++) {
                int64_t k = ind[i] < 0 ? ind[i] + dim : ind[i];
                memcpy((char *)py + (size_t)((o * ni + i) * inner) * es,
                       (const char *)px + (size_t)((o * dim + k) * inner) * es, (size_t)inner * es);
            }
        return AIECG_OK;
    }
    case AIECG__OP_CAST:
        for (int64_t i = 0; i < ny; i++) {
            if (x->dt[i0] == AIECG__DT_F32 && a->cast_to == AIECG__DT_F32) ((float *)py)[i] = ((const float *)px)[i];
            else if (x->dt[i0] == AIECG__DT_F32) {
                float v = ((const float *)px)[i];
                ((int64_t *)py)[i] = isfinite(v) && fabsf(v) < 9e18f ? (int64_t)v : 0;
            } else if (a->cast_to == AIECG__DT_F32) ((float *)py)[i] = (float)((const int64_t *)px)[i];
            else ((int64_t *)py)[i] = ((const int64_t *)px)[i];
        }
        return AIECG_OK;
    case AIECG__OP_CONSTANT_OF_SHAPE:
        for (int64_t i = 0; i < ny; i++) {
            if (a->cast_to == AIECG__DT_F32) ((float *)py)[i] = a->const_value;
            else ((int64_t *)py)[i] = (int64_t)a->const_value;
        }
        return AIECG_OK;
    case AIECG__OP_EXPAND: {
        int64_t st[AIECG_NN_MAX_DIMS], idx[AIECG_NN_MAX_DIMS] = {0};
        bcast_strides(xs, ys, st);
        size_t es = esize(x->dt[yo]);
        int64_t off = 0;
        for (int64_t o = 0; o < ny; o++) {
            memcpy((char *)py + (size_t)o * es, (const char *)px + (size_t)off * es, es);
            for (int d = ys->ndim - 1; d >= 0; d--) {
                idx[d]++;
                off += st[d];
                if (idx[d] < ys->d[d]) break;
                off -= st[d] * idx[d];
                idx[d] = 0;
            }
        }
        return AIECG_OK;
    }
    case AIECG__OP_LSTM:
    case AIECG__OP_GRU:
    case AIECG__OP_RNN:
        return aiecg__nn_rnn_exec(x, n, err);
    default:
        if (x->dt[i0] == AIECG__DT_I64) {
            for (int64_t i = 0; i < ny; i++) {
                int64_t v = ((const int64_t *)px)[i];
                ((int64_t *)py)[i] = n->op == AIECG__OP_NEG ? -v : n->op == AIECG__OP_ABS ? (v < 0 ? -v : v) : v;
            }
            return AIECG_OK;
        }
        for (int64_t i = 0; i < ny; i++) ((float *)py)[i] = unary(n->op, ((const float *)px)[i], a);
        epilogue(py, ny, res, a->act, a->act_a, a->act_b);
        return AIECG_OK;
    }
#undef IN
}

size_t aiecg__nn_scratch_need(const aiecg__nn_graph *g, const aiecg__nn_node *n,
                              const aiecg__nn_shape *sh, int fast) {
    (void)g;
    if (n->op == AIECG__OP_LSTM || n->op == AIECG__OP_GRU || n->op == AIECG__OP_RNN)
        return aiecg__nn_rnn_scratch(n, sh, fast);
    if (!fast || n->op != AIECG__OP_CONV) return 0;
    const aiecg__nn_shape *xs = &sh[n->in[0]], *ws = &sh[n->in[1]];
    aiecg__conv_geom geo;
    if (aiecg__nn_conv_geom(n, xs, ws->d[0], n->a.nspatial == 2 ? ws->d[2] : 1, ws->d[ws->ndim - 1], 0,
                            &geo, NULL))
        return 0;
    if (geo.kh != 1 || geo.ih == 0 || geo.ih != 1) return 0;
    int64_t cig = geo.cin / geo.group;
    double est = (double)geo.sw * (double)cig * ((double)geo.iw + (double)geo.pw + (double)geo.ow * (double)geo.sw +
                                                 (double)geo.kw * (double)geo.dw) * (double)geo.n;
    if (est > 1e11 || (double)cig * (double)geo.kw > 1e11) return (size_t)1 << 60; /* refused by the session limit */
    int64_t bseg = AIECG__MAX(geo.sw * cig * conv_row_stride(&geo), cig * conv_strided_row(&geo));
    int64_t nfold = conv_fold(&geo) ? geo.n : 1;
    /* polyphase (or strided) copies + row pointer table (a pointer counted as 2 floats) */
    size_t need = (size_t)(nfold * bseg + 16 + 2 * cig * geo.kw + 16);
    if (aiecg__conv_fft_use(&geo, fast, AIECG_CPU_FMA | AIECG_CPU_AVX2 | AIECG_CPU_AVX512F | AIECG_CPU_NEON)) {
        size_t f = aiecg__conv_fft_scratch(&geo); /* the shape rule alone: sized whether or not the CPU takes it */
        if (f > need) need = f;
    }
    return need;
}

/* ---- threaded GEMM driver: tasks own disjoint column ranges of C ------ */
typedef struct {
    const aiecg__gemm_args *ga;
    aiecg__gemm_fn fn;
    int64_t chunk;
    const float *wp; /* packed weights: the short-output kernel wtfn instead of fn */
    void (*wtfn)(const aiecg__gemm_args *g, const float *wp);
} gemm_job;

static void gemm_call(const gemm_job *j, const aiecg__gemm_args *ga) {
    if (j->wp && j->wtfn) {
        j->wtfn(ga, j->wp);
        return;
    }
    j->fn(ga);
}

static void gemm_task(void *ctx, int task, int thread) {
    (void)thread;
    const gemm_job *j = ctx;
    aiecg__gemm_args sub = *j->ga;
    sub.col_begin = (int64_t)task * j->chunk;
    sub.col_end = AIECG__MIN(sub.col_begin + j->chunk, j->ga->n);
    gemm_call(j, &sub);
}

static void run_gemm(aiecg__nn_exec *x, const aiecg__gemm_args *ga) { run_gemm_wt(x, ga, NULL); }

static void run_gemm_wt(aiecg__nn_exec *x, const aiecg__gemm_args *ga, const float *wp) {
    aiecg__gemm_fn fn = aiecg__gemm_ref;
    void (*wtfn)(const aiecg__gemm_args *g, const float *wp) = NULL;
#if defined(__x86_64__) || defined(_M_X64)
    if (x->fast && (x->features & AIECG_CPU_AVX2) && (x->features & AIECG_CPU_FMA)) {
        fn = aiecg__gemm_avx2;
        wtfn = aiecg__gemm_avx2_wt;
    }
    /* 32-column zmm panels waste lanes on short outputs: there the 16-column AVX2 tile wins */
    if (x->fast && (x->features & AIECG_CPU_AVX512F) && (x->features & AIECG_CPU_FMA) && ga->n >= 64)
        fn = aiecg__gemm_avx512;
    if (x->fast && (x->features & AIECG_CPU_AVX512F) && (x->features & AIECG_CPU_FMA)) wtfn = aiecg__gemm_avx512_wt;
#endif
#if defined(__aarch64__)
    if (x->fast && (x->features & AIECG_CPU_NEON)) {
        fn = aiecg__gemm_neon;
        wtfn = aiecg__gemm_neon_wt;
    }
#endif
    /* Column chunks are a fixed function of the shape, never of the thread count. */
    int64_t chunk = 256;
    int ntasks = (int)((ga->n + chunk - 1) / chunk);
    gemm_job j = {ga, fn, chunk, wp, wtfn};
    if (ntasks <= 1 || x->nthreads <= 1 || (double)ga->m * (double)ga->k * (double)ga->n < 2e5) {
        gemm_call(&j, ga);
        return;
    }
    aiecg_threadpool_parallel_for(x->pool, ntasks, gemm_task, &j);
}

void aiecg__nn_gemm(aiecg__nn_exec *x, const aiecg__gemm_args *ga) { run_gemm(x, ga); }
void aiecg__nn_gemm_wt(aiecg__nn_exec *x, const aiecg__gemm_args *ga, const float *wp) { run_gemm_wt(x, ga, wp); }
