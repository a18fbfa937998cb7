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
#include "rnn_fast.h"

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

/* ---- fast: GEMM input projection + per-step recurrence (rnn_fast.h) --- */

static void direction(const rnn_ctx *r, aiecg__nn_exec *x, int64_t d, const float *xp, int64_t ldx, float *ws) {
#if defined(__x86_64__) || defined(_M_X64)
    if ((x->features & AIECG_CPU_AVX2) && (x->features & AIECG_CPU_FMA)) {
        aiecg__rnn_direction_avx2(r, x, d, xp, ldx, ws);
        return;
    }
#endif
    run_direction(r, x, d, xp, ldx, ws);
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
    direction(j->r, &j->x1, task, j->xp, j->ldx, j->ws[task]);
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
    float *ws0 = xp + up16(T * B * ldx), *ws1 = ws0 + aiecg__rnn_dir_floats(B, H, GH);
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
    for (int64_t d = 0; d < D; d++) direction(r, x, d, xp, ldx, d ? ws1 : ws0);
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
    return (size_t)(up16(I * D * GH) + up16(T * B * D * GH) + D * aiecg__rnn_dir_floats(B, H, GH));
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
