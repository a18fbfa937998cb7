/*
 * Internals shared by the LSTM / GRU / RNN kernels: ops_rnn.c (reference, C
 * twin of the fast path, dispatch) and ops_rnn_avx2.c (the fast path compiled
 * with AVX2/FMA). One node's resolved operands, index helpers, the scalar
 * activation functions of the ONNX list.
 */
#ifndef AIECG_NN_RNN_INT_H
#define AIECG_NN_RNN_INT_H

#include "nn_int.h"

#include <math.h>

static inline float act_apply(int act, float v, float a, float b) {
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

static inline float rf(const actf *a, float v) { return act_apply(a->act, v, a->a, a->b); }

static inline float clipv(const rnn_ctx *r, float v) {
    if (!r->has_clip) return v;
    return v < -r->clip ? -r->clip : v > r->clip ? r->clip : v;
}

/* Row of X (and of the input projection) at (t, b); offsets in floats of Y at (t, d, b) and of a state (d, b). */
static inline int64_t xrow(const rnn_ctx *r, int64_t t, int64_t b) { return r->layout ? b * r->T + t : t * r->B + b; }
static inline int64_t yoff(const rnn_ctx *r, int64_t t, int64_t d, int64_t b) {
    return (r->layout ? (b * r->T + t) * r->D + d : (t * r->D + d) * r->B + b) * r->H;
}
static inline int64_t soff(const rnn_ctx *r, int64_t d, int64_t b) { return (r->layout ? b * r->D + d : d * r->B + b) * r->H; }

static inline int64_t seq_len(const rnn_ctx *r, int64_t b) { return r->lens ? r->lens[b] : r->T; }

/* Is gate row j's recurrent bias Rb folded into the input-side bias? (Not for the GRU h gate.) */
static inline int rb_additive(const rnn_ctx *r, int64_t j) { return !r->gru || j < 2 * r->H; }

static inline void load_state(const rnn_ctx *r, int64_t d, int64_t b, float *h, float *c) {
    for (int64_t k = 0; k < r->H; k++) {
        h[k] = r->h0 ? r->h0[soff(r, d, b) + k] : 0.0f;
        if (c) c[k] = r->c0 ? r->c0[soff(r, d, b) + k] : 0.0f;
    }
}

static inline void store_state(const rnn_ctx *r, int64_t d, int64_t b, const float *h, const float *c) {
    if (r->Yh) memcpy(r->Yh + soff(r, d, b), h, (size_t)r->H * sizeof(float));
    if (r->Yc && c) memcpy(r->Yc + soff(r, d, b), c, (size_t)r->H * sizeof(float));
}

static inline int64_t up16(int64_t n) { return (n + 15) & ~(int64_t)15; }

/* Per-step recurrence: the row kernel below this many batch rows, the packed GEMM from it on. */
#define AIECG__RNN_GEMM_ROWS 8

/* Scratch floats of one direction's recurrence: R^T, bias, h R^T, h, c, r . h. */
static inline int64_t aiecg__rnn_dir_floats(int64_t B, int64_t H, int64_t GH) {
    return up16(H * GH) + up16(GH) + up16(B * GH) + 3 * up16(B * H);
}

#if defined(__x86_64__) || defined(_M_X64)
/* rnn_fast.h's run_direction compiled with -mavx2 -mfma (ops_rnn_avx2.c). */
void aiecg__rnn_direction_avx2(const rnn_ctx *r, aiecg__nn_exec *x, int64_t d, const float *xp, int64_t ldx,
                               float *ws);
#endif

#endif
