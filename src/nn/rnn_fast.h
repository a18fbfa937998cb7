/*
 * The fast path of one LSTM / GRU / RNN direction, as a kernel body included
 * twice: by ops_rnn.c (plain C, the twin every SIMD build is tested against)
 * and by ops_rnn_avx2.c (the same source compiled with -mavx2 -mfma, chosen
 * at run time from the CPU features). Only the vector width differs: the
 * operations and their order are the same (no FMA contraction under -std=c11).
 */
#ifndef AIECG_NN_RNN_FAST_H
#define AIECG_NN_RNN_FAST_H

#include "rnn_int.h"

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
 * packing. From AIECG__RNN_GEMM_ROWS batch rows on, the packed GEMM of gemm_*.c
 * is faster (crnn models, H = 24: batch 1-4 here, 8-16 there; docs/nn-engine.md).
 */
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
        if (B >= AIECG__RNN_GEMM_ROWS) aiecg__nn_gemm(x, &gr);
        else recur(&gr);
        if (!r->lstm && !r->rnn) { /* GRU: gates, then (linear_before_reset 0) the candidate's own recurrence */
            for (int64_t b = 0; b < B; b++) {
                const float *xg = xp + xrow(r, t, b) * ldx;
                gru_gates_fast(r, d, xg, bias, q + b * GH, hs + b * H, r->lbr ? NULL : rh + b * H);
            }
            if (!r->lbr) {
                gr.n = H;
                gr.a = rh;
                gr.b = rt + 2 * H;
                gr.c = q + 2 * H;
                if (B >= AIECG__RNN_GEMM_ROWS) aiecg__nn_gemm(x, &gr);
                else recur(&gr);
            }
        }
        for (int64_t b = 0; b < B; b++) {
            float *y = r->Y + yoff(r, t, d, b);
            if (t >= seq_len(r, b)) {
                memset(y, 0, (size_t)H * sizeof(float));
                continue;
            }
            const float *xg = xp + xrow(r, t, b) * ldx;
            if (r->lstm) lstm_cell_fast(r, d, xg, bias, q + b * GH, hs + b * H, cs + b * H);
            else if (r->rnn) rnn_cell_fast(r, d, xg, bias, q + b * GH, hs + b * H);
            else gru_update_fast(r, d, xg, bias, q + b * GH, Rb ? Rb + 2 * H : NULL, hs + b * H);
            memcpy(y, hs + b * H, (size_t)H * sizeof(float));
        }
    }
    for (int64_t b = 0; b < B; b++) store_state(r, d, b, hs + b * H, r->lstm ? cs + b * H : NULL);
}

#endif
