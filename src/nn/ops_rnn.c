/*
 * LSTM, GRU and simple RNN nodes, as the ONNX operator specification
 * (Operators.md, opsets 7-14) defines them: LSTM after Hochreiter &
 * Schmidhuber 1997 with the peepholes of Gers & Schmidhuber 2000 and the
 * optional coupled input/forget gate; GRU after Cho et al. 2014, with the
 * reset gate applied before (linear_before_reset = 0) or after (= 1, cuDNN's
 * and PyTorch's form) the recurrent product; RNN: Ht = f(Xt W^T + Ht-1 R^T + b).
 *
 * Two paths compute the same equations:
 *  - reference: batch item by batch item, one dot product per gate value
 *    straight from W and R in ascending index order; the ground truth;
 *  - fast: per direction, the input projection X W^T + biases of all time
 *    steps in one GEMM (T*B rows; most of the FLOPs), then per step one GEMM
 *    of the B state rows with R^T (a GEMV at batch 1) and the gate
 *    non-linearities. W and R are transposed into the scratch once per run
 *    (1/(T*B) of the work).
 * Both work in the session scratch that aiecg__nn_rnn_scratch asks for and
 * never allocate. sequence_lens: batch item b runs steps t < len[b] only (the
 * reverse direction from t = len[b]-1 down to 0); Y is zero for the other
 * steps and Y_h / Y_c hold the last state (the initial one when len[b] = 0).
 * Gate non-linearities are plain C on both paths (no x86 intrinsics here).
 */
#include "nn_int.h"

#include <math.h>
#include <strings.h>

static const char *const rnn_act_names[AIECG__RNN_ACT_COUNT] = {
#define AIECG__RNN_ACT_NAME(e, s) s,
    AIECG__RNN_ACTS(AIECG__RNN_ACT_NAME)
#undef AIECG__RNN_ACT_NAME
};
_Static_assert(sizeof rnn_act_names / sizeof rnn_act_names[0] == AIECG__RNN_ACT_COUNT, "RNN activation table");

int aiecg__rnn_act_from_name(const char *s, size_t len) {
    if (!s) return -1;
    for (int i = 0; i < AIECG__RNN_ACT_COUNT; i++)
        if (strlen(rnn_act_names[i]) == len && strncasecmp(rnn_act_names[i], s, len) == 0) return i;
    return -1;
}

void aiecg__rnn_act_defaults(int act, float *alpha, float *beta) {
    *alpha = 1.0f;
    *beta = 0.0f;
    switch (act) {
    case AIECG__RNN_ACT_LEAKY_RELU: *alpha = 0.01f; break;
    case AIECG__RNN_ACT_SCALED_TANH: *beta = 1.0f; break;
    case AIECG__RNN_ACT_HARD_SIGMOID: *alpha = 0.2f; *beta = 0.5f; break;
    default: break; /* Affine 1, 0; ThresholdedRelu 1; Elu 1 */
    }
}

static float act_apply(int act, float v, float a, float b) {
    switch (act) {
    case AIECG__RNN_ACT_SIGMOID: return 1.0f / (1.0f + expf(-v));
    case AIECG__RNN_ACT_TANH: return tanhf(v);
    case AIECG__RNN_ACT_RELU: return v > 0.0f ? v : 0.0f;
    case AIECG__RNN_ACT_AFFINE: return a * v + b;
    case AIECG__RNN_ACT_LEAKY_RELU: return v >= 0.0f ? v : a * v;
    case AIECG__RNN_ACT_THRESHOLDED_RELU: return v > a ? v : 0.0f;
    case AIECG__RNN_ACT_SCALED_TANH: return a * tanhf(b * v);
    case AIECG__RNN_ACT_HARD_SIGMOID: { float t = a * v + b; return t < 0.0f ? 0.0f : t > 1.0f ? 1.0f : t; }
    case AIECG__RNN_ACT_ELU: return v >= 0.0f ? v : a * (expf(v) - 1.0f);
    case AIECG__RNN_ACT_SOFTSIGN: return v / (1.0f + fabsf(v));
    case AIECG__RNN_ACT_SOFTPLUS: return v > 20.0f ? v : log1pf(expf(v));
    default: return v;
    }
}

typedef struct {
    int act;
    float a, b;
} actf;

/* One node's resolved geometry and operands. */
typedef struct {
    const aiecg__nn_node *n;
    int lstm, gru, rnn;
    int64_t G, D, T, B, I, H, GH;
    int layout, reverse_only, coupled, lbr, has_clip;
    float clip;
    const float *X, *W, *R, *bias, *h0, *c0, *P;
    const int64_t *lens;
    float *Y, *Yh, *Yc;
    actf f[2], g[2], h[2]; /* per direction: gate, candidate, cell-output activations */
} rnn_ctx;

static float rf(const actf *a, float v) { return act_apply(a->act, v, a->a, a->b); }

static float clipv(const rnn_ctx *r, float v) {
    if (!r->has_clip) return v;
    return v < -r->clip ? -r->clip : v > r->clip ? r->clip : v;
}

static aiecg_status setup(rnn_ctx *r, aiecg__nn_exec *x, const aiecg__nn_node *n, aiecg_error *err) {
    const aiecg__nn_attr *a = &n->a;
    const aiecg__nn_shape *xs = &x->sh[n->in[0]];
    memset(r, 0, sizeof *r);
    r->n = n;
    r->lstm = n->op == AIECG__OP_LSTM;
    r->gru = n->op == AIECG__OP_GRU;
    r->rnn = n->op == AIECG__OP_RNN;
    r->G = r->lstm ? 4 : r->gru ? 3 : 1;
    r->D = a->pad_mode == 2 ? 2 : 1;
    r->reverse_only = a->pad_mode == 1;
    r->layout = a->allowzero;
    r->T = r->layout ? xs->d[1] : xs->d[0];
    r->B = r->layout ? xs->d[0] : xs->d[1];
    r->I = xs->d[2];
    r->H = a->axis;
    r->GH = r->G * r->H;
    r->coupled = r->lstm && a->ceil_mode;
    r->lbr = r->gru && a->ceil_mode;
    r->has_clip = a->fp_has_max;
    r->clip = a->clip_max;
#define PTR(k) (n->nin > (k) && n->in[k] >= 0 ? x->ptr[n->in[k]] : NULL)
    r->X = PTR(0);
    r->W = PTR(1);
    r->R = PTR(2);
    r->bias = PTR(3);
    r->lens = PTR(4);
    r->h0 = PTR(5);
    r->c0 = r->lstm ? PTR(6) : NULL;
    r->P = r->lstm ? PTR(7) : NULL;
#undef PTR
    r->Y = x->ptr[n->out[0]];
    r->Yh = n->nout > 1 && n->out[1] >= 0 ? x->ptr[n->out[1]] : NULL;
    r->Yc = r->lstm && n->out[2] >= 0 ? x->ptr[n->out[2]] : NULL;
    if (!r->X || !r->W || !r->R || !r->Y || (n->nin > 4 && n->in[4] >= 0 && !r->lens))
        return aiecg__error_set(err, AIECG_ERR_MODEL, "node '%s' (%s): input or output without data", n->name,
                                aiecg__nn_op_names[n->op]);
    int per = (int)(r->lstm ? 3 : r->gru ? 2 : 1);
    for (int64_t d = 0; d < r->D; d++) {
        actf *slot[3] = {&r->f[d], &r->g[d], &r->h[d]};
        for (int k = 0; k < per; k++) {
            int i = (int)d * per + k;
            slot[k]->act = (int)a->perm[i];
            slot[k]->a = aiecg__rnn_alpha(a->axes[i]);
            slot[k]->b = aiecg__rnn_beta(a->axes[i]);
        }
    }
    if (r->lens)
        for (int64_t b = 0; b < r->B; b++)
            if (r->lens[b] < 0 || r->lens[b] > r->T)
                return aiecg__error_set(err, AIECG_ERR_RANGE, "node '%s' (%s): sequence_lens[%lld] = %lld outside 0..%lld",
                                        n->name, aiecg__nn_op_names[n->op], (long long)b, (long long)r->lens[b],
                                        (long long)r->T);
    return AIECG_OK;
}

/* Row of X (and of the input projection) at (t, b); offsets in floats of Y at (t, d, b) and of a state (d, b). */
static int64_t xrow(const rnn_ctx *r, int64_t t, int64_t b) { return r->layout ? b * r->T + t : t * r->B + b; }
static int64_t yoff(const rnn_ctx *r, int64_t t, int64_t d, int64_t b) {
    return (r->layout ? (b * r->T + t) * r->D + d : (t * r->D + d) * r->B + b) * r->H;
}
static int64_t soff(const rnn_ctx *r, int64_t d, int64_t b) { return (r->layout ? b * r->D + d : d * r->B + b) * r->H; }

static int64_t seq_len(const rnn_ctx *r, int64_t b) { return r->lens ? r->lens[b] : r->T; }

/*
 * Gate combination of one (direction, step, batch item), shared by both
 * paths. xg: input part of the G*H gate pre-activations (X W^T + Wb, and + Rb
 * where the bias is additive); hg: recurrent part (h R^T, + Rb for the GRU
 * h gate); for the GRU with linear_before_reset = 0 hg's h part is
 * (r . h) Rh^T + Rbh, computed by the caller after phase 1 gave r.
 * h, c: state, updated in place.
 */
static void lstm_cell(const rnn_ctx *r, int64_t d, const float *xg, const float *hg, float *h, float *c) {
    int64_t H = r->H;
    const float *P = r->P ? r->P + d * 3 * H : NULL;
    for (int64_t k = 0; k < H; k++) {
        float gi = xg[k] + hg[k], go = xg[H + k] + hg[H + k];
        float gf = xg[2 * H + k] + hg[2 * H + k], gc = xg[3 * H + k] + hg[3 * H + k];
        if (P) {
            gi += P[k] * c[k];
            gf += P[2 * H + k] * c[k];
        }
        float i = rf(&r->f[d], clipv(r, gi));
        float f = r->coupled ? 1.0f - i : rf(&r->f[d], clipv(r, gf));
        float cc = rf(&r->g[d], clipv(r, gc));
        float cn = f * c[k] + i * cc;
        if (P) go += P[H + k] * cn;
        float o = rf(&r->f[d], clipv(r, go));
        c[k] = cn;
        h[k] = o * rf(&r->h[d], cn);
    }
}

/* GRU phase 1: z into zr[0..H), r into zr[H..2H); rh = r . h when linear_before_reset = 0. */
static void gru_gates(const rnn_ctx *r, int64_t d, const float *xg, const float *hg, const float *h, float *zr,
                      float *rh) {
    int64_t H = r->H;
    for (int64_t k = 0; k < 2 * H; k++) zr[k] = rf(&r->f[d], clipv(r, xg[k] + hg[k]));
    if (rh)
        for (int64_t k = 0; k < H; k++) rh[k] = zr[H + k] * h[k];
}

/* GRU phase 2: hh from the h parts, then the state update. rbh: Rbh (NULL when absent). */
static void gru_update(const rnn_ctx *r, int64_t d, const float *xg, const float *hgh, const float *rbh,
                       const float *zr, float *h) {
    int64_t H = r->H;
    for (int64_t k = 0; k < H; k++) {
        float v;
        if (r->lbr) v = xg[2 * H + k] + zr[H + k] * (hgh[k] + (rbh ? rbh[k] : 0.0f));
        else v = xg[2 * H + k] + hgh[k] + (rbh ? rbh[k] : 0.0f);
        float hh = rf(&r->g[d], clipv(r, v));
        float z = zr[k];
        h[k] = (1.0f - z) * hh + z * h[k];
    }
}

static void rnn_cell(const rnn_ctx *r, int64_t d, const float *xg, const float *hg, float *h) {
    for (int64_t k = 0; k < r->H; k++) h[k] = rf(&r->f[d], clipv(r, xg[k] + hg[k]));
}

/* Is gate row j's recurrent bias Rb folded into the input-side bias? (Not for the GRU h gate.) */
static int rb_additive(const rnn_ctx *r, int64_t j) { return !r->gru || j < 2 * r->H; }

static void load_state(const rnn_ctx *r, int64_t d, int64_t b, float *h, float *c) {
    for (int64_t k = 0; k < r->H; k++) {
        h[k] = r->h0 ? r->h0[soff(r, d, b) + k] : 0.0f;
        if (c) c[k] = r->c0 ? r->c0[soff(r, d, b) + k] : 0.0f;
    }
}

static void store_state(const rnn_ctx *r, int64_t d, int64_t b, const float *h, const float *c) {
    if (r->Yh) memcpy(r->Yh + soff(r, d, b), h, (size_t)r->H * sizeof(float));
    if (r->Yc && c) memcpy(r->Yc + soff(r, d, b), c, (size_t)r->H * sizeof(float));
}

static int64_t up16(int64_t n) { return (n + 15) & ~(int64_t)15; }

/* ---- reference --------------------------------------------------------- */
static void run_ref(const rnn_ctx *r, float *scratch) {
    int64_t H = r->H, GH = r->GH, I = r->I;
    float *xg = scratch, *hg = xg + up16(GH), *h = hg + up16(GH), *c = h + up16(H), *rh = c + up16(H);
    float *zr = rh + up16(H);
    for (int64_t d = 0; d < r->D; d++) {
        int rev = r->reverse_only || d == 1;
        const float *W = r->W + d * GH * I, *R = r->R + d * GH * H;
        const float *Wb = r->bias ? r->bias + d * 2 * GH : NULL, *Rb = Wb ? Wb + GH : NULL;
        for (int64_t b = 0; b < r->B; b++) {
            load_state(r, d, b, h, c);
            int64_t len = seq_len(r, b);
            for (int64_t s = 0; s < r->T; s++) {
                int64_t t = rev ? r->T - 1 - s : s;
                float *y = r->Y + yoff(r, t, d, b);
                if (t >= len) {
                    memset(y, 0, (size_t)H * sizeof(float));
                    continue;
                }
                const float *xt = r->X + xrow(r, t, b) * I;
                for (int64_t j = 0; j < GH; j++) {
                    float ax = 0.0f, ah = 0.0f;
                    for (int64_t p = 0; p < I; p++) ax += W[j * I + p] * xt[p];
                    xg[j] = ax + (Wb ? Wb[j] : 0.0f) + (Rb && rb_additive(r, j) ? Rb[j] : 0.0f);
                    if (r->gru && !r->lbr && j >= 2 * H) continue; /* needs r . h first */
                    for (int64_t p = 0; p < H; p++) ah += R[j * H + p] * h[p];
                    hg[j] = ah;
                }
                if (r->lstm) lstm_cell(r, d, xg, hg, h, c);
                else if (r->rnn) rnn_cell(r, d, xg, hg, h);
                else {
                    gru_gates(r, d, xg, hg, h, zr, r->lbr ? NULL : rh);
                    if (!r->lbr)
                        for (int64_t j = 2 * H; j < GH; j++) {
                            float ah = 0.0f;
                            for (int64_t p = 0; p < H; p++) ah += R[j * H + p] * rh[p];
                            hg[j] = ah;
                        }
                    gru_update(r, d, xg, hg + 2 * H, Rb ? Rb + 2 * H : NULL, zr, h);
                }
                memcpy(y, h, (size_t)H * sizeof(float));
            }
            store_state(r, d, b, h, r->lstm ? c : NULL);
        }
    }
}

/* ---- fast: GEMM input projection + per-step GEMM recurrence ------------ */

/*
 * exp for the fast path's gates: x = n ln2 + r with |r| <= ln2/2 (ln2 split in
 * two for an exact n ln2), the degree-6 polynomial of Moshier's Cephes expf,
 * 2^n put straight into the exponent bits. Branch-free, so the block loops
 * below vectorise; inputs are clamped to [-87, 88] (normal results only).
 * Within a few ulp of expf; sigmoid / tanh built on it stay within 2e-7
 * absolute of libm's (test_nn_rnn bounds the end result).
 */
#if defined(__GNUC__) && !defined(__clang__)
/* GCC keeps float clamps as branches under the default -ftrapping-math; values are the same without it */
#define RNN_VECTORISE __attribute__((optimize("no-trapping-math")))
#else
#define RNN_VECTORISE
#endif

RNN_VECTORISE static inline float exp_approx(float x) {
    x = x > -87.0f ? x : -87.0f;
    x = x < 88.0f ? x : 88.0f;
    float t = x * 1.44269504088896341f + 12582912.0f; /* round to nearest by the 1.5 * 2^23 shift */
    float n = t - 12582912.0f;
    float r = x - n * 0.693359375f + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int32_t bits = ((int32_t)n + 127) * (1 << 23);
    float s;
    memcpy(&s, &bits, 4);
    return p * s;
}

/* v[0..n) = act(v): Sigmoid and Tanh through exp_approx (vectorised), the rest as the reference. */
RNN_VECTORISE static void act_block(const actf *a, float *v, int64_t n) {
    if (a->act == AIECG__RNN_ACT_SIGMOID)
        for (int64_t i = 0; i < n; i++) v[i] = 1.0f / (1.0f + exp_approx(-v[i]));
    else if (a->act == AIECG__RNN_ACT_TANH)
        for (int64_t i = 0; i < n; i++) v[i] = 2.0f / (1.0f + exp_approx(-2.0f * v[i])) - 1.0f;
    else
        for (int64_t i = 0; i < n; i++) v[i] = act_apply(a->act, v[i], a->a, a->b);
}

RNN_VECTORISE static void clip_block(const rnn_ctx *r, float *v, int64_t n) {
    if (!r->has_clip) return;
    float c = r->clip;
    for (int64_t i = 0; i < n; i++) {
        float t = v[i] > -c ? v[i] : -c;
        v[i] = t < c ? t : c;
    }
}

/*
 * The per-step recurrence q[b][0..n) = h[b] R^T for a few state rows, row by
 * row with 16 running sums over the contiguous R^T rows (vectorised), no
 * packing. From RECUR_GEMM_ROWS batch rows on, the packed GEMM of gemm_*.c
 * is faster (crnn models, H = 24: batch 1-4 here, 8-16 there; docs/nn-engine.md).
 */
#define RECUR_GEMM_ROWS 8
static void recur(const aiecg__gemm_args *g) {
    for (int64_t b = 0; b < g->m; b++) {
        float *q = g->c + b * g->ldc;
        const float *h = g->a + b * g->lda;
        int64_t j = 0;
        for (; j + 16 <= g->n; j += 16) { /* 16 sums stay in registers over the whole k loop */
            float acc[16] = {0};
            for (int64_t p = 0; p < g->k; p++) {
                const float *rr = g->b + p * g->ldb + j;
                float hp = h[p];
                for (int t = 0; t < 16; t++) acc[t] += hp * rr[t];
            }
            memcpy(q + j, acc, sizeof acc);
        }
        for (; j < g->n; j++) {
            float acc = 0.0f;
            for (int64_t p = 0; p < g->k; p++) acc += h[p] * g->b[p * g->ldb + j];
            q[j] = acc;
        }
    }
}

/* LSTM step of one batch item on blocks of H: g holds h R^T and becomes the gates. */
static void lstm_cell_fast(const rnn_ctx *r, int64_t d, const float *xg, const float *bx, float *g, float *h, float *c) {
    int64_t H = r->H;
    const float *P = r->P ? r->P + d * 3 * H : NULL;
    float *gi = g, *go = g + H, *gf = g + 2 * H, *gc = g + 3 * H;
    for (int64_t j = 0; j < 4 * H; j++) g[j] += xg[j] + bx[j];
    if (P)
        for (int64_t k = 0; k < H; k++) {
            gi[k] += P[k] * c[k];
            gf[k] += P[2 * H + k] * c[k];
        }
    clip_block(r, gi, H);
    clip_block(r, gf, 2 * H); /* f and c blocks */
    act_block(&r->f[d], gi, H);
    if (r->coupled)
        for (int64_t k = 0; k < H; k++) gf[k] = 1.0f - gi[k];
    else
        act_block(&r->f[d], gf, H);
    act_block(&r->g[d], gc, H);
    for (int64_t k = 0; k < H; k++) c[k] = gf[k] * c[k] + gi[k] * gc[k];
    if (P)
        for (int64_t k = 0; k < H; k++) go[k] += P[H + k] * c[k];
    clip_block(r, go, H);
    act_block(&r->f[d], go, H);
    memcpy(gc, c, (size_t)H * sizeof(float));
    act_block(&r->h[d], gc, H);
    for (int64_t k = 0; k < H; k++) h[k] = go[k] * gc[k];
}

/* GRU phase 1 on g = h R^T (z, r columns): z, r in place; rh = r . h when linear_before_reset = 0. */
static void gru_gates_fast(const rnn_ctx *r, int64_t d, const float *xg, const float *bx, float *g, const float *h,
                           float *rh) {
    int64_t H = r->H;
    for (int64_t j = 0; j < 2 * H; j++) g[j] += xg[j] + bx[j];
    clip_block(r, g, 2 * H);
    act_block(&r->f[d], g, 2 * H);
    if (rh)
        for (int64_t k = 0; k < H; k++) rh[k] = g[H + k] * h[k];
}

/* GRU phase 2: g[2H..3H) holds h Rh^T or (r . h) Rh^T; rbh: Rbh or NULL. */
static void gru_update_fast(const rnn_ctx *r, int64_t d, const float *xg, const float *bx, float *g, const float *rbh,
                            float *h) {
    int64_t H = r->H;
    float *z = g, *rr = g + H, *v = g + 2 * H;
    const float *xh = xg + 2 * H, *bh = bx + 2 * H;
    if (r->lbr)
        for (int64_t k = 0; k < H; k++) v[k] = xh[k] + bh[k] + rr[k] * (v[k] + (rbh ? rbh[k] : 0.0f));
    else
        for (int64_t k = 0; k < H; k++) v[k] = xh[k] + bh[k] + v[k] + (rbh ? rbh[k] : 0.0f);
    clip_block(r, v, H);
    act_block(&r->g[d], v, H);
    for (int64_t k = 0; k < H; k++) h[k] = (1.0f - z[k]) * v[k] + z[k] * h[k];
}

static void rnn_cell_fast(const rnn_ctx *r, int64_t d, const float *xg, const float *bx, float *g, float *h) {
    for (int64_t k = 0; k < r->H; k++) g[k] += xg[k] + bx[k];
    clip_block(r, g, r->H);
    act_block(&r->f[d], g, r->H);
    memcpy(h, g, (size_t)r->H * sizeof(float));
}
/* Scratch floats of one direction's recurrence: R^T, bias, h R^T, h, c, r . h. */
static int64_t dir_floats(int64_t B, int64_t H, int64_t GH) {
    return up16(H * GH) + up16(GH) + up16(B * GH) + 3 * up16(B * H);
}

/*
 * The recurrence of direction d over all steps. xp: input projection of both
 * directions, row (t, b) at xrow(t, b) * ldx, this direction's columns at d*GH.
 */
static void run_direction(const rnn_ctx *r, aiecg__nn_exec *x, int64_t d, const float *xp, int64_t ldx, float *ws) {
    int64_t H = r->H, GH = r->GH, B = r->B, T = r->T;
    float *rt = ws;                          /* [H][GH]  R^T */
    float *bias = rt + up16(H * GH);         /* [GH]     Wb (+ Rb where additive) */
    float *q = bias + up16(GH);              /* [B][GH]  h R^T */
    float *hs = q + up16(B * GH);            /* [B][H]   state */
    float *cs = hs + up16(B * H);            /* [B][H] */
    float *rh = cs + up16(B * H);            /* [B][H]   GRU r . h */
    int rev = r->reverse_only || d == 1;
    const float *R = r->R + d * GH * H;
    const float *Wb = r->bias ? r->bias + d * 2 * GH : NULL, *Rb = Wb ? Wb + GH : NULL;
    for (int64_t j = 0; j < GH; j++) {
        for (int64_t p = 0; p < H; p++) rt[p * GH + j] = R[j * H + p];
        bias[j] = (Wb ? Wb[j] : 0.0f) + (Rb && rb_additive(r, j) ? Rb[j] : 0.0f);
    }
    xp += d * GH;
    for (int64_t b = 0; b < B; b++) load_state(r, d, b, hs + b * H, cs + b * H);
    /* the GRU with reset before the product multiplies only its z, r columns first */
    int64_t ncol = r->gru && !r->lbr ? 2 * H : GH;
    for (int64_t s = 0; s < T; s++) {
        int64_t t = rev ? T - 1 - s : s;
        aiecg__gemm_args gr = {0};
        gr.m = B;
        gr.n = ncol;
        gr.k = H;
        gr.a = hs;
        gr.lda = H;
        gr.b = rt;
        gr.ldb = GH;
        gr.c = q;
        gr.ldc = GH;
        if (B >= RECUR_GEMM_ROWS) aiecg__nn_gemm(x, &gr);
        else recur(&gr);
        if (r->lstm || r->rnn) {
            for (int64_t b = 0; b < B; b++) {
                float *y = r->Y + yoff(r, t, d, b);
                if (t >= seq_len(r, b)) {
                    memset(y, 0, (size_t)H * sizeof(float));
                    continue;
                }
                const float *xg = xp + xrow(r, t, b) * ldx;
                if (r->lstm) lstm_cell_fast(r, d, xg, bias, q + b * GH, hs + b * H, cs + b * H);
                else rnn_cell_fast(r, d, xg, bias, q + b * GH, hs + b * H);
                memcpy(y, hs + b * H, (size_t)H * sizeof(float));
            }
            continue;
        }
        for (int64_t b = 0; b < B; b++) {
            const float *xg = xp + xrow(r, t, b) * ldx;
            gru_gates_fast(r, d, xg, bias, q + b * GH, hs + b * H, r->lbr ? NULL : rh + b * H);
        }
        if (!r->lbr) {
            gr.n = H;
            gr.a = rh;
            gr.b = rt + 2 * H;
            gr.c = q + 2 * H;
            if (B >= RECUR_GEMM_ROWS) aiecg__nn_gemm(x, &gr);
            else recur(&gr);
        }
        for (int64_t b = 0; b < B; b++) {
            float *y = r->Y + yoff(r, t, d, b);
            if (t >= seq_len(r, b)) {
                memset(y, 0, (size_t)H * sizeof(float));
                continue;
            }
            const float *xg = xp + xrow(r, t, b) * ldx;
            gru_update_fast(r, d, xg, bias, q + b * GH, Rb ? Rb + 2 * H : NULL, hs + b * H);
            memcpy(y, hs + b * H, (size_t)H * sizeof(float));
        }
    }
    for (int64_t b = 0; b < B; b++) store_state(r, d, b, hs + b * H, r->lstm ? cs + b * H : NULL);
}

typedef struct {
    const rnn_ctx *r;
    aiecg__nn_exec x1; /* single-threaded view: a task never starts another parallel_for */
    const float *xp;
    int64_t ldx;
    float *ws[2];
} dir_job;

static void dir_task(void *ctx, int task, int thread) {
    (void)thread;
    dir_job *j = ctx;
    run_direction(j->r, &j->x1, task, j->xp, j->ldx, j->ws[task]);
}

/*
 * One GEMM projects X on both directions' W (n = D*G*H columns), then each
 * direction runs its recurrence; with a thread pool the two directions of a
 * bidirectional node run at once (independent, so bit-identical either way).
 */
static void run_fast(const rnn_ctx *r, aiecg__nn_exec *x) {
    int64_t H = r->H, GH = r->GH, I = r->I, B = r->B, T = r->T, D = r->D, ldx = D * GH;
    float *wt = x->scratch;                  /* [I][D*GH]   W^T of both directions */
    float *xp = wt + up16(I * ldx);          /* [T*B][D*GH] X W^T, rows in X's order (bias added per step) */
    float *ws0 = xp + up16(T * B * ldx), *ws1 = ws0 + dir_floats(B, H, GH);
    for (int64_t d = 0; d < D; d++) {
        const float *W = r->W + d * GH * I;
        for (int64_t j = 0; j < GH; j++)
            for (int64_t p = 0; p < I; p++) wt[p * ldx + d * GH + j] = W[j * I + p];
    }
    aiecg__gemm_args ga = {0};
    ga.m = T * B;
    ga.n = ldx;
    ga.k = I;
    ga.a = r->X;
    ga.lda = I;
    ga.b = wt;
    ga.ldb = ldx;
    ga.c = xp;
    ga.ldc = ldx;
    aiecg__nn_gemm(x, &ga);
    if (D == 2 && x->pool && x->nthreads > 1) {
        dir_job j = {r, *x, xp, ldx, {ws0, ws1}};
        j.x1.pool = NULL;
        j.x1.nthreads = 1;
        aiecg_threadpool_parallel_for(x->pool, 2, dir_task, &j);
        return;
    }
    for (int64_t d = 0; d < D; d++) run_direction(r, x, d, xp, ldx, d ? ws1 : ws0);
}

size_t aiecg__nn_rnn_scratch(const aiecg__nn_node *n, const aiecg__nn_shape *sh, int fast) {
    if (n->nin < 3 || n->in[0] < 0 || n->in[1] < 0) return 0;
    const aiecg__nn_shape *xs = &sh[n->in[0]], *ws = &sh[n->in[1]];
    if (xs->ndim != 3 || ws->ndim != 3 || n->a.axis < 1) return 0; /* shape inference refuses these */
    int64_t T = n->a.allowzero ? xs->d[1] : xs->d[0], B = n->a.allowzero ? xs->d[0] : xs->d[1], I = xs->d[2];
    int64_t H = n->a.axis, GH = ws->d[1];
    double est = fast ? 2.0 * (((double)I + (double)H + 1.0) * (double)GH + (double)T * (double)B * (double)GH +
                                  (double)B * ((double)GH + 3.0 * (double)H)) + 16.0 * 12
                      : 2.0 * (double)GH + 5.0 * (double)H + 16.0 * 6;
    if (est > 1e11) return (size_t)1 << 60; /* refused by the session limit */
    if (!fast) return (size_t)(2 * up16(GH) + 4 * up16(H) + up16(2 * H));
    int64_t D = n->a.pad_mode == 2 ? 2 : 1;
    return (size_t)(up16(I * D * GH) + up16(T * B * D * GH) + D * dir_floats(B, H, GH));
}

aiecg_status aiecg__nn_rnn_exec(aiecg__nn_exec *x, const aiecg__nn_node *n, aiecg_error *err) {
    rnn_ctx r;
    aiecg_status st = setup(&r, x, n, err);
    if (st) return st;
    if (!x->scratch || x->scratch_stride < aiecg__nn_rnn_scratch(n, x->sh, x->fast))
        return aiecg__error_set(err, AIECG_ERR_INTERNAL, "node '%s' (%s): scratch not planned", n->name,
                                aiecg__nn_op_names[n->op]);
    if (x->fast) run_fast(&r, x);
    else run_ref(&r, x->scratch);
    return AIECG_OK;
}
