/*
 * Shape inference: output shape and dtype of each op from its input shapes
 * (and the values of small int64 inputs such as Reshape's target shape),
 * following the ONNX operator specification (onnx/docs/Operators.md) for
 * broadcasting, negative axes, auto_pad and ceil_mode. The session runs it
 * once for the largest planned shapes and again per run for the actual ones,
 * so every size is checked here before a kernel touches memory.
 */
#include "nn_int.h"

#include <string.h>

#define LIM ((int64_t)1 << 40)

static aiecg_status bad(aiecg_error *err, const aiecg__nn_node *n, const char *what) {
    return aiecg__error_set(err, AIECG_ERR_SHAPE, "node '%s' (%s): %s", n->name,
                            aiecg__nn_op_names[n->op], what);
}

aiecg_status aiecg__nn_conv_geom(const aiecg__nn_node *n, const aiecg__nn_shape *xs, int64_t cout,
                                 int64_t kh, int64_t kw, int transpose, aiecg__conv_geom *geo,
                                 aiecg_error *err) {
    const aiecg__nn_attr *a = &n->a;
    int nsp = a->nspatial;
    if (xs->ndim != 2 + nsp) return bad(err, n, "input rank does not match kernel");
    if (nsp == 1 && (a->pad_begin[0] || a->pad_end[0] || a->stride[0] != 1 || a->dilation[0] != 1 ||
                     a->output_padding[0] || (a->kernel[0] != 0 && a->kernel[0] != 1)))
        return bad(err, n, "height parameters set on a 1-D op");
    memset(geo, 0, sizeof *geo);
    geo->n = xs->d[0];
    geo->cin = xs->d[1];
    geo->cout = cout;
    geo->group = a->group;
    int64_t in[2] = {nsp == 2 ? xs->d[2] : 1, xs->d[2 + nsp - 1]};
    int64_t k[2] = {a->kernel[0] > 0 ? a->kernel[0] : kh, a->kernel[1] > 0 ? a->kernel[1] : kw};
    if (nsp == 1) k[0] = 1;
    int64_t out[2], pb[2];
    int is_pool = n->op == AIECG__OP_MAXPOOL || n->op == AIECG__OP_AVGPOOL;
    for (int i = 0; i < 2; i++) {
        int64_t s = a->stride[i], d = a->dilation[i];
        int64_t b = a->pad_begin[i], e = a->pad_end[i];
        if (k[i] < 1 || s < 1 || d < 1 || in[i] < 0 || in[i] > LIM || k[i] > LIM || s > LIM ||
            d > LIM || b < 0 || e < 0 || b > LIM || e > LIM || a->output_padding[i] < 0 ||
            a->output_padding[i] > LIM || (double)(k[i] - 1) * (double)d > (double)LIM)
            return bad(err, n, "bad kernel geometry");
        int64_t ek = (k[i] - 1) * d + 1;
        if (transpose) {
            int64_t op = a->output_padding[i];
            if (a->auto_pad == 1 || a->auto_pad == 2) {
                int64_t total = s * (in[i] - 1) + op + ek - in[i] * s;
                if (total < 0) total = 0;
                b = a->auto_pad == 1 ? total / 2 : total - total / 2;
                e = total - b;
            } else if (a->auto_pad == 3) {
                b = e = 0;
            }
            out[i] = s * (in[i] - 1) + op + ek - b - e;
        } else {
            if (a->auto_pad == 1 || a->auto_pad == 2) {
                int64_t o = (in[i] + s - 1) / s;
                int64_t total = (o - 1) * s + ek - in[i];
                if (total < 0) total = 0;
                b = a->auto_pad == 1 ? total / 2 : total - total / 2;
                e = total - b;
                out[i] = o;
            } else {
                if (a->auto_pad == 3) b = e = 0;
                int64_t span = in[i] + b + e - ek;
                if (span < 0) return bad(err, n, "kernel larger than padded input");
                if (is_pool && a->ceil_mode) {
                    out[i] = (span + s - 1) / s + 1;
                    if ((out[i] - 1) * s >= in[i] + b) out[i]--;
                } else {
                    out[i] = span / s + 1;
                }
            }
        }
        if (out[i] < 1) return bad(err, n, "empty output");
        pb[i] = b;
    }
    geo->ih = in[0];
    geo->iw = in[1];
    geo->kh = k[0];
    geo->kw = k[1];
    geo->oh = out[0];
    geo->ow = out[1];
    geo->sh = a->stride[0];
    geo->sw = a->stride[1];
    geo->dh = a->dilation[0];
    geo->dw = a->dilation[1];
    geo->ph = pb[0];
    geo->pw = pb[1];
    return AIECG_OK;
}

static int norm_axis(int64_t ax, int rank, int64_t *out) {
    if (ax < 0) ax += rank;
    if (ax < 0 || ax >= rank) return -1;
    *out = ax;
    return 0;
}

static int broadcast(const aiecg__nn_shape *a, const aiecg__nn_shape *b, aiecg__nn_shape *o) {
    int r = AIECG__MAX(a->ndim, b->ndim);
    o->ndim = r;
    for (int i = 0; i < r; i++) {
        int ia = i - (r - a->ndim), ib = i - (r - b->ndim);
        int64_t da = ia >= 0 ? a->d[ia] : 1, db = ib >= 0 ? b->d[ib] : 1;
        if (da == db || db == 1) o->d[i] = da;
        else if (da == 1) o->d[i] = db;
        else return -1;
    }
    return 0;
}

/*
 * LSTM / GRU / RNN (ONNX opsets 7-14, attributes as nn_int.h maps them):
 * X [T,B,I] (layout 1: [B,T,I]), W [D,G*H,I], R [D,G*H,H], B [D,2*G*H],
 * sequence_lens [B] int64, initial_h / initial_c [D,B,H] ([B,D,H]), P [D,3H];
 * Y [T,D,B,H] ([B,T,D,H]), Y_h / Y_c like initial_h. G gates: 4, 3, 1. Every
 * attribute is range-checked here because an .aiem file may carry anything.
 */
static aiecg_status rnn_shapes(const aiecg__nn_node *n, aiecg__nn_shape *sh, int32_t *dt, aiecg_error *err) {
    const aiecg__nn_attr *a = &n->a;
    int lstm = n->op == AIECG__OP_LSTM, gru = n->op == AIECG__OP_GRU;
    int64_t G = lstm ? 4 : gru ? 3 : 1, nact = lstm ? 3 : gru ? 2 : 1;
    int maxin = lstm ? 8 : 6, nout = lstm ? 3 : 2;
    if (n->nin < 3 || n->nin > maxin || n->nout != nout) return bad(err, n, "number of inputs/outputs");
    for (int k = 0; k < 3; k++)
        if (n->in[k] < 0) return bad(err, n, "X, W and R are required");
    if (a->pad_mode < 0 || a->pad_mode > 2) return bad(err, n, "attribute direction out of range");
    if (a->allowzero != 0 && a->allowzero != 1) return bad(err, n, "attribute layout out of range");
    if (a->ceil_mode != 0 && (a->ceil_mode != 1 || n->op == AIECG__OP_RNN))
        return bad(err, n, "attribute input_forget / linear_before_reset out of range");
    if (a->fp_has_max != 0 && (a->fp_has_max != 1 || !(a->clip_max > 0.0f)))
        return bad(err, n, "attribute clip must be positive");
    int64_t D = a->pad_mode == 2 ? 2 : 1, H = a->axis;
    if (H < 1 || H > ((int64_t)1 << 20)) return bad(err, n, "attribute hidden_size out of range");
    if (a->nperm != nact * D || a->naxes != a->nperm) return bad(err, n, "attribute activations: wrong count");
    for (int i = 0; i < a->nperm; i++)
        if (a->perm[i] < 0 || a->perm[i] >= AIECG__RNN_ACT_COUNT) return bad(err, n, "attribute activations: unknown code");
    for (int k = 0; k < n->nin; k++) {
        int ti = n->in[k];
        if (ti >= 0 && dt[ti] != (k == 4 ? AIECG__DT_I64 : AIECG__DT_F32))
            return bad(err, n, k == 4 ? "sequence_lens must be int64 (int32 in ONNX)" : "float input required");
    }
    const aiecg__nn_shape *xs = &sh[n->in[0]], *ws = &sh[n->in[1]], *rs = &sh[n->in[2]];
    if (xs->ndim != 3) return bad(err, n, "X must have rank 3");
    int64_t T = a->allowzero ? xs->d[1] : xs->d[0], B = a->allowzero ? xs->d[0] : xs->d[1], I = xs->d[2];
    if (T < 1 || B < 1 || I < 1) return bad(err, n, "X has an empty dimension");
    if (ws->ndim != 3 || ws->d[0] != D || ws->d[1] != G * H || ws->d[2] != I)
        return bad(err, n, "W must be [num_directions, gates x hidden_size, input_size]");
    if (rs->ndim != 3 || rs->d[0] != D || rs->d[1] != G * H || rs->d[2] != H)
        return bad(err, n, "R must be [num_directions, gates x hidden_size, hidden_size]");
    if (n->nin > 3 && n->in[3] >= 0) {
        const aiecg__nn_shape *bs = &sh[n->in[3]];
        if (bs->ndim != 2 || bs->d[0] != D || bs->d[1] != 2 * G * H)
            return bad(err, n, "B must be [num_directions, 2 x gates x hidden_size]");
    }
    if (n->nin > 4 && n->in[4] >= 0) {
        const aiecg__nn_shape *ls = &sh[n->in[4]];
        if (ls->ndim != 1 || ls->d[0] != B) return bad(err, n, "sequence_lens must be [batch_size]");
    }
    aiecg__nn_shape hs = {3, {a->allowzero ? B : D, a->allowzero ? D : B, H}};
    for (int k = 5; k < 7 && k < n->nin; k++) {
        if (n->in[k] < 0) continue;
        const aiecg__nn_shape *s0 = &sh[n->in[k]];
        if (s0->ndim != 3 || memcmp(s0->d, hs.d, 3 * sizeof(int64_t)) != 0)
            return bad(err, n, k == 5 ? "initial_h shape" : "initial_c shape");
    }
    if (n->nin > 7 && n->in[7] >= 0) {
        const aiecg__nn_shape *ps = &sh[n->in[7]];
        if (ps->ndim != 2 || ps->d[0] != D || ps->d[1] != 3 * H) return bad(err, n, "P must be [num_directions, 3 x hidden_size]");
    }
    if ((double)T * (double)B * (double)G * (double)H * (double)D > (double)LIM ||
        (double)G * (double)H * ((double)I + (double)H) > (double)LIM)
        return bad(err, n, "too large");
    aiecg__nn_shape *ys = &sh[n->out[0]];
    ys->ndim = 4;
    if (a->allowzero) { ys->d[0] = B; ys->d[1] = T; ys->d[2] = D; ys->d[3] = H; }
    else { ys->d[0] = T; ys->d[1] = D; ys->d[2] = B; ys->d[3] = H; }
    dt[n->out[0]] = AIECG__DT_F32;
    for (int k = 1; k < n->nout; k++)
        if (n->out[k] >= 0) {
            sh[n->out[k]] = hs;
            dt[n->out[k]] = AIECG__DT_F32;
        }
    return AIECG_OK;
}

aiecg_status aiecg__nn_infer_node(const aiecg__nn_graph *g, const aiecg__nn_node *n,
                                  aiecg__nn_shape *sh, int32_t *dt, void *const *ptr,
                                  aiecg_error *err) {
    const aiecg__nn_attr *a = &n->a;
    /* Every input except optional absent ones must exist; arity per op checked below. */
    if (n->nin < 1 && n->op != AIECG__OP_CONCAT) return bad(err, n, "no inputs");
    int x0 = n->in[0];
    if (x0 < 0) return bad(err, n, "missing first input");
    const aiecg__nn_shape *xs = &sh[x0];
    int y = n->out[0];
    aiecg__nn_shape *ys = &sh[y];
    dt[y] = dt[x0];
    const aiecg__nn_shape *in1 = n->nin > 1 && n->in[1] >= 0 ? &sh[n->in[1]] : NULL;
#define NEED(k) if (n->nin < (k) || n->in[(k) - 1] < 0) return bad(err, n, "missing input")
#define IVAL(k, p, cnt)                                                                          \
    do {                                                                                         \
        int ti_ = n->in[k];                                                                      \
        if (ti_ < 0 || dt[ti_] != AIECG__DT_I64 || !ptr[ti_])                                    \
            return bad(err, n, "int64 input value unknown");                                    \
        p = (const int64_t *)ptr[ti_];                                                          \
        cnt = aiecg__nn_numel(sh[ti_].d, sh[ti_].ndim);                                          \
    } while (0)
    for (int k = 0; k < n->nin; k++) {
        int ti = n->in[k];
        if (ti < 0) continue;
        for (int d = 0; d < sh[ti].ndim; d++)
            if (sh[ti].d[d] < 0 || sh[ti].d[d] > LIM) return bad(err, n, "input dimension unknown or too large");
    }
    switch (n->op) {
    case AIECG__OP_CONV:
    case AIECG__OP_CONV_TRANSPOSE: {
        NEED(2);
        const aiecg__nn_shape *ws = in1;
        int tr = n->op == AIECG__OP_CONV_TRANSPOSE;
        if (ws->ndim != 2 + a->nspatial || xs->ndim != ws->ndim) return bad(err, n, "weight rank");
        if (dt[x0] != AIECG__DT_F32) return bad(err, n, "float input required");
        int64_t cout = tr ? ws->d[1] * a->group : ws->d[0];
        if (tr ? ws->d[0] != xs->d[1] : ws->d[1] * a->group != xs->d[1])
            return bad(err, n, "input channels do not match weight");
        if (!tr && cout % a->group) return bad(err, n, "output channels not divisible by group");
        int64_t kh = a->nspatial == 2 ? ws->d[2] : 1, kw = ws->d[ws->ndim - 1];
        aiecg__conv_geom geo;
        aiecg_status st = aiecg__nn_conv_geom(n, xs, cout, kh, kw, tr, &geo, err);
        if (st) return st;
        if ((a->kernel[1] > 0 && a->kernel[1] != kw) || (a->nspatial == 2 && a->kernel[0] > 0 && a->kernel[0] != kh))
            return bad(err, n, "kernel_shape does not match weight");
        if (n->nin > 2 && n->in[2] >= 0 && aiecg__nn_numel(sh[n->in[2]].d, sh[n->in[2]].ndim) != cout)
            return bad(err, n, "bias size");
        ys->ndim = xs->ndim;
        ys->d[0] = xs->d[0];
        ys->d[1] = cout;
        if (a->nspatial == 2) ys->d[2] = geo.oh;
        ys->d[ys->ndim - 1] = geo.ow;
        break;
    }
    case AIECG__OP_MAXPOOL:
    case AIECG__OP_AVGPOOL: {
        aiecg__conv_geom geo;
        if (a->nspatial < 1) return bad(err, n, "kernel_shape");
        aiecg_status st = aiecg__nn_conv_geom(n, xs, xs->ndim > 1 ? xs->d[1] : 0, 1, 1, 0, &geo, err);
        if (st) return st;
        *ys = *xs;
        if (a->nspatial == 2) ys->d[2] = geo.oh;
        ys->d[ys->ndim - 1] = geo.ow;
        break;
    }
    case AIECG__OP_GLOBAL_AVGPOOL:
    case AIECG__OP_GLOBAL_MAXPOOL:
        if (xs->ndim < 3) return bad(err, n, "rank < 3");
        *ys = *xs;
        for (int i = 2; i < ys->ndim; i++) ys->d[i] = 1;
        break;
    case AIECG__OP_BATCHNORM:
        if (n->nin != 5 || xs->ndim < 2) return bad(err, n, "inputs");
        for (int k = 1; k < 5; k++)
            if (n->in[k] < 0 || aiecg__nn_numel(sh[n->in[k]].d, sh[n->in[k]].ndim) != xs->d[1])
                return bad(err, n, "parameter size");
        *ys = *xs;
        break;
    case AIECG__OP_ADD: case AIECG__OP_SUB: case AIECG__OP_MUL: case AIECG__OP_DIV:
    case AIECG__OP_POW: case AIECG__OP_MAX: case AIECG__OP_MIN: case AIECG__OP_PRELU:
        NEED(2);
        if (n->op != AIECG__OP_POW && dt[n->in[1]] != dt[x0]) return bad(err, n, "dtype mismatch");
        if (n->op == AIECG__OP_PRELU && in1->ndim == 1 && xs->ndim > 2 && in1->d[0] == xs->d[1] && in1->d[0] != xs->d[xs->ndim - 1]) {
            *ys = *xs; /* opset < 9: slope [C] is per channel */
            break;
        }
        if (broadcast(xs, in1, ys)) return bad(err, n, "shapes do not broadcast");
        if (n->op == AIECG__OP_PRELU && (ys->ndim != xs->ndim || memcmp(ys->d, xs->d, sizeof(int64_t) * (size_t)xs->ndim)))
            return bad(err, n, "slope does not broadcast to the input");
        break;
    case AIECG__OP_CLIP:
        for (int k = 1; k < n->nin && k < 3; k++)
            if (n->in[k] >= 0 && aiecg__nn_numel(sh[n->in[k]].d, sh[n->in[k]].ndim) != 1)
                return bad(err, n, "min/max must be scalars");
        *ys = *xs;
        break;
    case AIECG__OP_SOFTMAX:
    case AIECG__OP_LOG_SOFTMAX: {
        int64_t ax;
        if (xs->ndim < 1 || norm_axis(a->axis, xs->ndim, &ax)) return bad(err, n, "axis");
        *ys = *xs;
        break;
    }
    case AIECG__OP_CONCAT: {
        if (n->nin < 1) return bad(err, n, "no inputs");
        int64_t ax;
        if (norm_axis(a->axis, xs->ndim, &ax)) return bad(err, n, "axis");
        *ys = *xs;
        ys->d[ax] = 0;
        for (int k = 0; k < n->nin; k++) {
            if (n->in[k] < 0) return bad(err, n, "missing input");
            const aiecg__nn_shape *s = &sh[n->in[k]];
            if (s->ndim != xs->ndim || dt[n->in[k]] != dt[x0]) return bad(err, n, "rank/dtype mismatch");
            for (int d = 0; d < s->ndim; d++)
                if (d != ax && s->d[d] != xs->d[d]) return bad(err, n, "shape mismatch");
            ys->d[ax] += s->d[ax];
        }
        break;
    }
    case AIECG__OP_GEMM: {
        NEED(2);
        if (xs->ndim != 2 || in1->ndim != 2) return bad(err, n, "Gemm needs 2-D inputs");
        int64_t m = a->trans_a ? xs->d[1] : xs->d[0], k = a->trans_a ? xs->d[0] : xs->d[1];
        int64_t k2 = a->trans_b ? in1->d[1] : in1->d[0], nn = a->trans_b ? in1->d[0] : in1->d[1];
        if (k != k2) return bad(err, n, "inner dimensions differ");
        ys->ndim = 2;
        ys->d[0] = m;
        ys->d[1] = nn;
        if (n->nin > 2 && n->in[2] >= 0) {
            aiecg__nn_shape tmp;
            if (broadcast(ys, &sh[n->in[2]], &tmp) || tmp.ndim != 2 || tmp.d[0] != m || tmp.d[1] != nn)
                return bad(err, n, "C does not broadcast to the output");
        }
        break;
    }
    case AIECG__OP_MATMUL: {
        NEED(2);
        if (xs->ndim < 1 || in1->ndim < 1) return bad(err, n, "rank 0");
        aiecg__nn_shape as = *xs, bs = *in1;
        int a1 = as.ndim == 1, b1 = bs.ndim == 1;
        if (a1) { as.ndim = 2; as.d[1] = as.d[0]; as.d[0] = 1; }
        if (b1) { bs.ndim = 2; bs.d[1] = 1; }
        if (as.d[as.ndim - 1] != bs.d[bs.ndim - 2]) return bad(err, n, "inner dimensions differ");
        aiecg__nn_shape ab = as, bb = bs, ob;
        ab.ndim -= 2;
        bb.ndim -= 2;
        if (broadcast(&ab, &bb, &ob)) return bad(err, n, "batch dims do not broadcast");
        *ys = ob;
        if (!a1) ys->d[ys->ndim++] = as.d[as.ndim - 2];
        if (!b1) ys->d[ys->ndim++] = bs.d[bs.ndim - 1];
        if (ys->ndim > AIECG_NN_MAX_DIMS) return bad(err, n, "rank");
        break;
    }
    case AIECG__OP_FLATTEN: {
        int64_t ax = a->axis < 0 ? a->axis + xs->ndim : a->axis;
        if (ax < 0 || ax > xs->ndim) return bad(err, n, "axis");
        ys->ndim = 2;
        ys->d[0] = aiecg__nn_numel(xs->d, (int)ax);
        ys->d[1] = aiecg__nn_numel(xs->d + ax, xs->ndim - (int)ax);
        break;
    }
    case AIECG__OP_RESHAPE: {
        NEED(2);
        const int64_t *v;
        int64_t cnt;
        IVAL(1, v, cnt);
        if (cnt > AIECG_NN_MAX_DIMS) return bad(err, n, "rank");
        int neg = -1;
        int64_t known = 1;
        ys->ndim = (int)cnt;
        for (int i = 0; i < cnt; i++) {
            int64_t d = v[i];
            if (d == 0 && !a->allowzero) {
                if (i >= xs->ndim) return bad(err, n, "0 refers past input rank");
                d = xs->d[i];
            }
            if (d == -1) {
                if (neg >= 0) return bad(err, n, "two -1 dims");
                neg = i;
                d = 1;
            } else if (d < 0 || d > LIM) return bad(err, n, "negative dim");
            ys->d[i] = d;
            if (d && known > LIM / d) return bad(err, n, "too large"); /* before the product can overflow */
            known *= d;
        }
        int64_t total = aiecg__nn_numel(xs->d, xs->ndim);
        if (neg >= 0) {
            if (known == 0 || total % known) return bad(err, n, "cannot infer -1");
            ys->d[neg] = total / known;
        } else if (known != total) return bad(err, n, "element count differs");
        break;
    }
    case AIECG__OP_SQUEEZE:
    case AIECG__OP_UNSQUEEZE: {
        const int64_t *v = NULL;
        int64_t cnt = 0;
        if (n->nin > 1 && n->in[1] >= 0) IVAL(1, v, cnt);
        if (cnt > AIECG_NN_MAX_DIMS) return bad(err, n, "axes");
        int mark[AIECG_NN_MAX_DIMS * 2] = {0};
        if (n->op == AIECG__OP_SQUEEZE) {
            for (int i = 0; i < cnt; i++) {
                int64_t ax;
                if (norm_axis(v[i], xs->ndim, &ax) || xs->d[ax] != 1) return bad(err, n, "axis");
                mark[ax] = 1;
            }
            ys->ndim = 0;
            for (int i = 0; i < xs->ndim; i++) {
                if (cnt ? mark[i] : xs->d[i] == 1) continue;
                ys->d[ys->ndim++] = xs->d[i];
            }
        } else {
            int r = xs->ndim + (int)cnt;
            if (r > AIECG_NN_MAX_DIMS) return bad(err, n, "rank");
            for (int i = 0; i < cnt; i++) {
                int64_t ax;
                if (norm_axis(v[i], r, &ax) || mark[ax]) return bad(err, n, "axis");
                mark[ax] = 1;
            }
            ys->ndim = r;
            for (int i = 0, j = 0; i < r; i++) ys->d[i] = mark[i] ? 1 : xs->d[j++];
        }
        break;
    }
    case AIECG__OP_TRANSPOSE: {
        if (a->nperm && a->nperm != xs->ndim) return bad(err, n, "perm length");
        int seen[AIECG_NN_MAX_DIMS] = {0};
        ys->ndim = xs->ndim;
        for (int i = 0; i < xs->ndim; i++) {
            int64_t p = a->nperm ? a->perm[i] : xs->ndim - 1 - i;
            if (p < 0 || p >= xs->ndim || seen[p]) return bad(err, n, "perm");
            seen[p] = 1;
            ys->d[i] = xs->d[p];
        }
        break;
    }
    case AIECG__OP_PAD: {
        NEED(2);
        const int64_t *v;
        int64_t cnt;
        IVAL(1, v, cnt);
        if (cnt != 2 * xs->ndim) return bad(err, n, "pads length");
        *ys = *xs;
        for (int i = 0; i < xs->ndim; i++) {
            if (v[i] > LIM || v[i] < -LIM || v[i + xs->ndim] > LIM || v[i + xs->ndim] < -LIM)
                return bad(err, n, "pad");
            ys->d[i] = xs->d[i] + v[i] + v[i + xs->ndim];
            if (ys->d[i] < 0) return bad(err, n, "negative size");
            if (a->pad_mode && xs->d[i] == 0 && ys->d[i] > 0) return bad(err, n, "reflect/edge of empty dim");
            if (a->pad_mode == 1 && (v[i] >= xs->d[i] || v[i + xs->ndim] >= xs->d[i]) && (v[i] > 0 || v[i + xs->ndim] > 0))
                return bad(err, n, "reflect pad larger than input");
        }
        if (n->nin > 2 && n->in[2] >= 0 && aiecg__nn_numel(sh[n->in[2]].d, sh[n->in[2]].ndim) != 1)
            return bad(err, n, "constant_value");
        break;
    }
    case AIECG__OP_REDUCE_MEAN:
    case AIECG__OP_REDUCE_MAX:
    case AIECG__OP_REDUCE_SUM: {
        const int64_t *v = NULL;
        int64_t cnt = 0;
        if (n->nin > 1 && n->in[1] >= 0) IVAL(1, v, cnt);
        if (cnt > AIECG_NN_MAX_DIMS) return bad(err, n, "axes");
        int mark[AIECG_NN_MAX_DIMS] = {0};
        for (int i = 0; i < cnt; i++) {
            int64_t ax;
            if (norm_axis(v[i], xs->ndim, &ax)) return bad(err, n, "axis");
            mark[ax] = 1;
        }
        if (cnt == 0 && !a->noop_with_empty_axes)
            for (int i = 0; i < xs->ndim; i++) mark[i] = 1;
        ys->ndim = 0;
        for (int i = 0; i < xs->ndim; i++) {
            if (mark[i] && xs->d[i] == 0 && n->op == AIECG__OP_REDUCE_MAX) return bad(err, n, "empty reduce");
            if (!mark[i]) ys->d[ys->ndim++] = xs->d[i];
            else if (a->keepdims) ys->d[ys->ndim++] = 1;
        }
        break;
    }
    case AIECG__OP_SLICE: {
        if (n->nin < 3) return bad(err, n, "inputs");
        const int64_t *st, *en, *ax = NULL, *stp = NULL;
        int64_t c1, c2, c3 = 0, c4 = 0;
        IVAL(1, st, c1);
        IVAL(2, en, c2);
        if (n->nin > 3 && n->in[3] >= 0) IVAL(3, ax, c3);
        if (n->nin > 4 && n->in[4] >= 0) IVAL(4, stp, c4);
        if (c1 != c2 || (ax && c3 != c1) || (stp && c4 != c1) || c1 > xs->ndim) return bad(err, n, "parameter lengths");
        *ys = *xs;
        int seen[AIECG_NN_MAX_DIMS] = {0};
        for (int i = 0; i < c1; i++) {
            int64_t axis = ax ? ax[i] : i;
            if (norm_axis(axis, xs->ndim, &axis) || seen[axis]) return bad(err, n, "axes");
            seen[axis] = 1;
            int64_t dim = xs->d[axis], s = stp ? stp[i] : 1, b = st[i], e = en[i];
            if (s == 0) return bad(err, n, "step 0");
            if (b < 0) b += dim;
            if (e < 0) e += dim;
            if (s > 0) {
                b = b < 0 ? 0 : b > dim ? dim : b;
                e = e < 0 ? 0 : e > dim ? dim : e;
                ys->d[axis] = e > b ? (e - b + s - 1) / s : 0;
            } else {
                b = b < 0 ? -1 : b > dim - 1 ? dim - 1 : b;
                e = e < -1 ? -1 : e > dim - 1 ? dim - 1 : e;
                ys->d[axis] = b > e ? (b - e + (-s) - 1) / (-s) : 0;
            }
        }
        break;
    }
    case AIECG__OP_SHAPE: {
        int64_t b = a->shape_start, e = a->has_shape_end ? a->shape_end : xs->ndim;
        if (b < 0) b += xs->ndim;
        if (e < 0) e += xs->ndim;
        b = b < 0 ? 0 : b > xs->ndim ? xs->ndim : b;
        e = e < 0 ? 0 : e > xs->ndim ? xs->ndim : e;
        ys->ndim = 1;
        ys->d[0] = e > b ? e - b : 0;
        dt[y] = AIECG__DT_I64;
        break;
    }
    case AIECG__OP_GATHER: {
        NEED(2);
        int64_t ax;
        if (norm_axis(a->axis, xs->ndim, &ax) || dt[n->in[1]] != AIECG__DT_I64) return bad(err, n, "axis/indices");
        if (xs->ndim - 1 + in1->ndim > AIECG_NN_MAX_DIMS) return bad(err, n, "rank");
        ys->ndim = 0;
        for (int i = 0; i < ax; i++) ys->d[ys->ndim++] = xs->d[i];
        for (int i = 0; i < in1->ndim; i++) ys->d[ys->ndim++] = in1->d[i];
        for (int i = (int)ax + 1; i < xs->ndim; i++) ys->d[ys->ndim++] = xs->d[i];
        break;
    }
    case AIECG__OP_CAST:
        *ys = *xs;
        dt[y] = a->cast_to;
        break;
    case AIECG__OP_CONSTANT_OF_SHAPE:
    case AIECG__OP_EXPAND: {
        int k = n->op == AIECG__OP_EXPAND ? 1 : 0;
        if (k) NEED(2);
        const int64_t *v;
        int64_t cnt;
        IVAL(k, v, cnt);
        if (cnt > AIECG_NN_MAX_DIMS) return bad(err, n, "rank");
        aiecg__nn_shape s;
        s.ndim = (int)cnt;
        int64_t tot = 1;
        for (int i = 0; i < cnt; i++) {
            if (v[i] < 0 || v[i] > LIM) return bad(err, n, "dim");
            s.d[i] = v[i];
            if (v[i] && tot > LIM / v[i]) return bad(err, n, "too large"); /* before the product can overflow */
            tot *= v[i] ? v[i] : 1;
        }
        if (k) {
            if (broadcast(xs, &s, ys)) return bad(err, n, "shape does not broadcast");
        } else {
            *ys = s;
            dt[y] = a->cast_to;
        }
        break;
    }
    case AIECG__OP_LSTM:
    case AIECG__OP_GRU:
    case AIECG__OP_RNN: {
        aiecg_status st = rnn_shapes(n, sh, dt, err);
        if (st) return st;
        break;
    }
    default: /* unary elementwise, Identity, Dropout */
        *ys = *xs;
        if (n->op != AIECG__OP_IDENTITY && n->op != AIECG__OP_DROPOUT && n->op != AIECG__OP_NEG &&
            n->op != AIECG__OP_ABS && dt[x0] != AIECG__DT_F32)
            return bad(err, n, "float input required");
        break;
    }
    /* Fused residual must match the output exactly. */
    if (a->has_residual) {
        int r = n->in[n->nin - 1];
        if (r < 0 || sh[r].ndim != ys->ndim || memcmp(sh[r].d, ys->d, sizeof(int64_t) * (size_t)ys->ndim) != 0)
            return bad(err, n, "fused residual shape differs from output");
    }
    for (int i = 0; i < ys->ndim; i++)
        if (ys->d[i] < 0 || ys->d[i] > LIM) return bad(err, n, "output dimension out of range");
    if (aiecg__nn_numel(ys->d, ys->ndim) > LIM) return bad(err, n, "output too large");
    return AIECG_OK;
#undef NEED
#undef IVAL
}

double aiecg__nn_node_flops(const aiecg__nn_graph *g, const aiecg__nn_node *n,
                            const aiecg__nn_shape *sh) {
    const aiecg__nn_shape *ys = &sh[n->out[0]];
    double out = (double)aiecg__nn_numel(ys->d, ys->ndim);
    switch (n->op) {
    case AIECG__OP_CONV: {
        const aiecg__nn_shape *ws = &sh[n->in[1]];
        return 2.0 * out * (double)aiecg__nn_numel(ws->d + 1, ws->ndim - 1);
    }
    case AIECG__OP_CONV_TRANSPOSE: {
        const aiecg__nn_shape *xs = &sh[n->in[0]], *ws = &sh[n->in[1]];
        return 2.0 * (double)aiecg__nn_numel(xs->d, xs->ndim) * (double)aiecg__nn_numel(ws->d + 1, ws->ndim - 1);
    }
    case AIECG__OP_GEMM: {
        const aiecg__nn_shape *xs = &sh[n->in[0]];
        return 2.0 * out * (double)(n->a.trans_a ? xs->d[0] : xs->d[1]);
    }
    case AIECG__OP_MATMUL: {
        const aiecg__nn_shape *xs = &sh[n->in[0]];
        return 2.0 * out * (double)xs->d[xs->ndim - 1];
    }
    case AIECG__OP_LSTM:
    case AIECG__OP_GRU:
    case AIECG__OP_RNN: {
        /* Y has T*D*B*H values; each needs G gate rows of I + H multiply-adds */
        const aiecg__nn_shape *ws = &sh[n->in[1]], *rs = &sh[n->in[2]];
        return n->a.axis > 0 ? 2.0 * out * (double)(ws->d[1] / n->a.axis) * (double)(ws->d[2] + rs->d[2]) : 0.0;
    }
    default: return 0.0;
    }
    (void)g;
}
