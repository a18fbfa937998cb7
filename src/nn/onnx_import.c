/*
 * ONNX import (ONNX IR, opsets 11-17 of the default domain): protobuf bytes
 * -> graph IR. Parsing is done by protobuf-c code generated from Debian's
 * onnx.proto at build time; this file maps nodes and attributes onto the IR.
 * Every attribute of every node must be understood: an unknown one is an
 * error naming the node, the op and the attribute, never silently ignored.
 * Attribute forms that later opsets moved to inputs (Squeeze axes, Pad pads,
 * Clip min/max, Reduce axes) become constant inputs, so the session has one
 * code path. Only the graph's first input is a runtime input; any further
 * graph inputs are left as data-less tensors that the caller must bind (the
 * conformance test does) or the graph check rejects the model.
 */
#include "nn_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#ifdef AIECG_HAVE_ONNX
#include "onnx.pb-c.h"

/* protobuf-c leaves absent (proto2 optional) string fields NULL; names in messages and lookups use "". */
static const char *pbs(const char *s) { return s ? s : ""; }

typedef struct {
    const Onnx__NodeProto *np;
    const char *name;
    const char *op;
    uint64_t used; /* bitmask of consumed attributes */
} node_ctx;

static const Onnx__AttributeProto *attr_find(node_ctx *c, const char *name) {
    for (size_t i = 0; i < c->np->n_attribute && i < 64; i++)
        if (c->np->attribute[i]->name && strcmp(c->np->attribute[i]->name, name) == 0) {
            c->used |= 1ull << i;
            return c->np->attribute[i];
        }
    return NULL;
}

static int64_t attr_i(node_ctx *c, const char *name, int64_t def) {
    const Onnx__AttributeProto *a = attr_find(c, name);
    return a ? a->i : def;
}

static float attr_f(node_ctx *c, const char *name, float def) {
    const Onnx__AttributeProto *a = attr_find(c, name);
    return a ? a->f : def;
}

/* Copies up to max ints; returns count or -1 when there are more than max. */
static int attr_ints(node_ctx *c, const char *name, int64_t *out, int max) {
    const Onnx__AttributeProto *a = attr_find(c, name);
    if (!a) return 0;
    if ((int64_t)a->n_ints > max) return -1;
    for (size_t i = 0; i < a->n_ints; i++) out[i] = a->ints[i];
    return (int)a->n_ints;
}

static int attr_s_is(node_ctx *c, const char *name, const char *val, int *present) {
    const Onnx__AttributeProto *a = attr_find(c, name);
    if (!a) {
        if (present) *present = 0;
        return 0;
    }
    if (present) *present = 1;
    size_t n = strlen(val);
    return a->s.len == n && memcmp(a->s.data, val, n) == 0;
}

/* Converts a TensorProto into a constant tensor of the graph (float32 or int64). */
static aiecg_status tensor_from_proto(aiecg__nn_graph *g, int ti, const Onnx__TensorProto *tp,
                                      aiecg_error *err) {
    aiecg__nn_tensor *t = &g->t[ti];
    if (tp->n_dims > AIECG_NN_MAX_DIMS)
        return aiecg__error_set(err, AIECG_ERR_UNSUPPORTED, "tensor '%s': rank %zu > %d", t->name,
                                tp->n_dims, AIECG_NN_MAX_DIMS);
    if (tp->has_data_location && tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
        return aiecg__error_set(err, AIECG_ERR_UNSUPPORTED, "tensor '%s': external data", t->name);
    int64_t n = 1;
    t->ndim = (int)tp->n_dims;
    for (size_t i = 0; i < tp->n_dims; i++) {
        if (tp->dims[i] < 0 || tp->dims[i] > ((int64_t)1 << 31))
            return aiecg__error_set(err, AIECG_ERR_FORMAT, "tensor '%s': dim %zu = %lld", t->name, i,
                                    (long long)tp->dims[i]);
        t->dims[i] = tp->dims[i];
        n *= tp->dims[i];
        if (n > ((int64_t)1 << 31))
            return aiecg__error_set(err, AIECG_ERR_LIMIT, "tensor '%s' too large", t->name);
    }
    int dt = tp->data_type;
    int is_float = dt == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT || dt == ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE ||
                   dt == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16;
    int is_int = dt == ONNX__TENSOR_PROTO__DATA_TYPE__INT64 || dt == ONNX__TENSOR_PROTO__DATA_TYPE__INT32 ||
                 dt == ONNX__TENSOR_PROTO__DATA_TYPE__INT8 || dt == ONNX__TENSOR_PROTO__DATA_TYPE__UINT8 ||
                 dt == ONNX__TENSOR_PROTO__DATA_TYPE__BOOL || dt == ONNX__TENSOR_PROTO__DATA_TYPE__INT16;
    if (!is_float && !is_int)
        return aiecg__error_set(err, AIECG_ERR_UNSUPPORTED, "tensor '%s': data type %d", t->name, dt);
    t->dtype = is_float ? AIECG__DT_F32 : AIECG__DT_I64;
    size_t esz = 0;
    switch (dt) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: esz = 4; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: esz = 8; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16: esz = 2; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: esz = 8; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: esz = 4; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT16: esz = 2; break;
    default: esz = 1; break;
    }
    /* The declared shape must match the values present before anything is allocated for it: a file of a
     * few bytes must not make us allocate gigabytes (found by fuzz_onnx). */
    size_t have = 0;
    switch (dt) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: have = tp->n_float_data; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: have = tp->n_double_data; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: have = tp->n_int64_data; break;
    default: have = tp->n_int32_data; break;
    }
    if (tp->has_raw_data && tp->raw_data.len != (size_t)n * esz)
        return aiecg__error_set(err, AIECG_ERR_FORMAT, "tensor '%s': raw_data %zu bytes, want %lld",
                                t->name, tp->raw_data.len, (long long)n * (long long)esz);
    if (!tp->has_raw_data && have != (size_t)n)
        return aiecg__error_set(err, AIECG_ERR_FORMAT, "tensor '%s': %zu values, want %lld", t->name,
                                have, (long long)n);
    t->data = aiecg__aligned_alloc((size_t)(n > 0 ? n : 1) * (is_float ? 4 : 8));
    if (!t->data) return aiecg__error_set(err, AIECG_ERR_NOMEM, "tensor '%s'", t->name);
    t->data_owned = 1;
    t->is_const = 1;
    float *f = t->data;
    int64_t *q = t->data;
    if (tp->has_raw_data) {
        const uint8_t *r = tp->raw_data.data;
        for (int64_t i = 0; i < n; i++) {
            const uint8_t *p = r + (size_t)i * esz;
            switch (dt) {
            case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: memcpy(&f[i], p, 4); break;
            case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: { double d; memcpy(&d, p, 8); f[i] = (float)d; } break;
            case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16: { uint16_t h; memcpy(&h, p, 2); f[i] = aiecg__f16_to_f32(h); } break;
            case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: memcpy(&q[i], p, 8); break;
            case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: { int32_t v; memcpy(&v, p, 4); q[i] = v; } break;
            case ONNX__TENSOR_PROTO__DATA_TYPE__INT16: { int16_t v; memcpy(&v, p, 2); q[i] = v; } break;
            case ONNX__TENSOR_PROTO__DATA_TYPE__INT8: q[i] = (int8_t)p[0]; break;
            default: q[i] = p[0]; break;
            }
        }
        return AIECG_OK;
    }
    for (int64_t i = 0; i < n; i++) {
        switch (dt) {
        case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: f[i] = tp->float_data[i]; break;
        case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: f[i] = (float)tp->double_data[i]; break;
        case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16: f[i] = aiecg__f16_to_f32((uint16_t)tp->int32_data[i]); break;
        case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: q[i] = tp->int64_data[i]; break;
        default: q[i] = tp->int32_data[i]; break;
        }
    }
    return AIECG_OK;
}

/* A new constant int64 / float tensor (for attribute forms turned into inputs). */
static int const_i64(aiecg__nn_graph *g, const char *base, const int64_t *v, int n) {
    char name[256];
    snprintf(name, sizeof name, "%s#const%d", base, g->nt);
    int ti = aiecg__nn_add_tensor(g, name);
    if (ti < 0) return -1;
    aiecg__nn_tensor *t = &g->t[ti];
    t->dtype = AIECG__DT_I64;
    t->ndim = 1;
    t->dims[0] = n;
    t->data = aiecg__aligned_alloc((size_t)(n > 0 ? n : 1) * 8);
    if (!t->data) return -1;
    t->data_owned = 1;
    t->is_const = 1;
    if (n) memcpy(t->data, v, (size_t)n * 8);
    return ti;
}

static int const_f32(aiecg__nn_graph *g, const char *base, float v) {
    char name[256];
    snprintf(name, sizeof name, "%s#const%d", base, g->nt);
    int ti = aiecg__nn_add_tensor(g, name);
    if (ti < 0) return -1;
    aiecg__nn_tensor *t = &g->t[ti];
    t->ndim = 0;
    t->data = aiecg__aligned_alloc(4);
    if (!t->data) return -1;
    t->data_owned = 1;
    t->is_const = 1;
    *(float *)t->data = v;
    return ti;
}

static aiecg_status conv_pool_attrs(node_ctx *c, aiecg__nn_attr *a, int nspatial, int is_pool,
                                    aiecg_error *err) {
    int64_t tmp[8];
    int nk = attr_ints(c, "kernel_shape", tmp, 8);
    if (nk < 0 || nk > 2 || (is_pool && nk == 0))
        return aiecg__error_set(err, AIECG_ERR_UNSUPPORTED, "node '%s' (%s): kernel_shape of rank %d",
                                c->name, c->op, nk);
    if (nk) nspatial = nk;
    if (nspatial < 1 || nspatial > 2)
        return aiecg__error_set(err, AIECG_ERR_UNSUPPORTED,
                                "node '%s' (%s): %d spatial dims (1 or 2 supported)", c->name, c->op,
                                nspatial);
    a->nspatial = nspatial;
    /* 1-D is stored as H = 1: index 0 is H, index 1 is W. */
    int off = 2 - nspatial;
    for (int i = 0; i < 2; i++) {
        a->kernel[i] = 1 - (nk ? 0 : 1); /* 0 = infer from weights */
        a->stride[i] = a->dilation[i] = 1;
        a->pad_begin[i] = a->pad_end[i] = 0;
    }
    if (!nk) a->kernel[0] = a->kernel[1] = 0;
    else {
        a->kernel[0] = 1;
        for (int i = 0; i < nk; i++) a->kernel[off + i] = tmp[i];
    }
    int n = attr_ints(c, "strides", tmp, 8);
    if (n < 0 || (n && n != nspatial))
        return aiecg__error_set(err, AIECG_ERR_UNSUPPORTED, "node '%s' (%s): attribute strides", c->name, c->op);
    for (int i = 0; i < n; i++) a->stride[off + i] = tmp[i];
    n = attr_ints(c, "dilations", tmp, 8);
    if (n < 0 || (n && n != nspatial))
        return aiecg__error_set(err, AIECG_ERR_UNSUPPORTED, "node '%s' (%s): attribute dilations", c->name, c->op);
    for (int i = 0; i < n; i++) a->dilation[off + i] = tmp[i];
    n = attr_ints(c, "pads", tmp, 8);
    if (n < 0 || (n && n != 2 * nspatial))
        return aiecg__error_set(err, AIECG_ERR_UNSUPPORTED, "node '%s' (%s): attribute pads", c->name, c->op);
    for (int i = 0; i < n / 2; i++) {
        a->pad_begin[off + i] = tmp[i];
        a->pad_end[off + i] = tmp[i + nspatial];
    }
    for (int i = 0; i < 2; i++)
        if (a->stride[i] < 1 || a->dilation[i] < 1 || a->pad_begin[i] < 0 || a->pad_end[i] < 0 ||
            a->kernel[i] < 0)
            return aiecg__error_set(err, AIECG_ERR_FORMAT, "node '%s' (%s): bad stride/dilation/pad",
                                    c->name, c->op);
    int present = 0;
    if (attr_s_is(c, "auto_pad", "SAME_UPPER", &present)) a->auto_pad = 1;
    else if (present && attr_s_is(c, "auto_pad", "SAME_LOWER", NULL)) a->auto_pad = 2;
    else if (present && attr_s_is(c, "auto_pad", "VALID", NULL)) a->auto_pad = 3;
    else if (present && !attr_s_is(c, "auto_pad", "NOTSET", NULL))
        return aiecg__error_set(err, AIECG_ERR_UNSUPPORTED, "node '%s' (%s): auto_pad value", c->name, c->op);
    return AIECG_OK;
}

/*
 * LSTM / GRU / RNN attributes (ONNX Operators.md) onto the fields nn_int.h
 * names. activation_alpha / activation_beta are consumed in the order of the
 * activations, one value by each activation that takes the parameter; the
 * others keep the ONNX defaults of the same-named operators.
 */
static aiecg_status rnn_attrs(node_ctx *c, int op, const aiecg__nn_graph *g, const int32_t *inarr, int nin,
                              aiecg__nn_attr *a, aiecg_error *err) {
    int present = 0;
    a->pad_mode = 0;
    if (attr_s_is(c, "direction", "reverse", &present)) a->pad_mode = 1;
    else if (present && attr_s_is(c, "direction", "bidirectional", NULL)) a->pad_mode = 2;
    else if (present && !attr_s_is(c, "direction", "forward", NULL))
        return aiecg__error_set(err, AIECG_ERR_UNSUPPORTED, "node '%s' (%s): attribute direction must be forward, reverse or bidirectional",
                                c->name, c->op);
    int D = a->pad_mode == 2 ? 2 : 1;
    int64_t H = attr_i(c, "hidden_size", 0);
    if (!attr_find(c, "hidden_size") && nin > 2 && inarr[2] >= 0 && g->t[inarr[2]].ndim == 3) H = g->t[inarr[2]].dims[2];
    if (H < 1 || H > ((int64_t)1 << 20))
        return aiecg__error_set(err, AIECG_ERR_FORMAT, "node '%s' (%s): attribute hidden_size %lld", c->name, c->op,
                                (long long)H);
    a->axis = H;
    int64_t layout = attr_i(c, "layout", 0);
    if (layout != 0 && layout != 1)
        return aiecg__error_set(err, AIECG_ERR_UNSUPPORTED, "node '%s' (%s): attribute layout %lld", c->name, c->op,
                                (long long)layout);
    a->allowzero = (int32_t)layout;
    a->ceil_mode = 0;
    if (op == AIECG__OP_LSTM || op == AIECG__OP_GRU) {
        int64_t v = attr_i(c, op == AIECG__OP_LSTM ? "input_forget" : "linear_before_reset", 0);
        if (v != 0 && v != 1)
            return aiecg__error_set(err, AIECG_ERR_UNSUPPORTED, "node '%s' (%s): attribute %s %lld", c->name, c->op,
                                    op == AIECG__OP_LSTM ? "input_forget" : "linear_before_reset", (long long)v);
        a->ceil_mode = (int32_t)v;
    }
    const Onnx__AttributeProto *cl = attr_find(c, "clip");
    a->fp_has_max = cl != NULL;
    a->clip_max = cl ? cl->f : 0.0f;
    if (cl && !(cl->f > 0.0f))
        return aiecg__error_set(err, AIECG_ERR_FORMAT, "node '%s' (%s): attribute clip %g must be positive", c->name,
                                c->op, (double)cl->f);
    static const char *const defs[3][3] = {{"Sigmoid", "Tanh", "Tanh"}, {"Sigmoid", "Tanh", NULL}, {"Tanh", NULL, NULL}};
    int which = op == AIECG__OP_LSTM ? 0 : op == AIECG__OP_GRU ? 1 : 2, per = 3 - which;
    const Onnx__AttributeProto *acts = attr_find(c, "activations");
    if (acts && (int)acts->n_strings != per * D)
        return aiecg__error_set(err, AIECG_ERR_FORMAT, "node '%s' (%s): attribute activations has %zu names, want %d",
                                c->name, c->op, acts->n_strings, per * D);
    const Onnx__AttributeProto *al = attr_find(c, "activation_alpha"), *be = attr_find(c, "activation_beta");
    size_t ia = 0, ib = 0;
    a->nperm = a->naxes = per * D;
    for (int i = 0; i < per * D; i++) {
        int code;
        if (acts) {
            code = aiecg__rnn_act_from_name((const char *)acts->strings[i].data, acts->strings[i].len);
            if (code < 0)
                return aiecg__error_set(err, AIECG_ERR_UNSUPPORTED, "node '%s' (%s): attribute activations: '%.*s' is not an RNN activation",
                                        c->name, c->op, (int)(acts->strings[i].len > 64 ? 64 : acts->strings[i].len),
                                        (const char *)acts->strings[i].data);
        } else {
            code = aiecg__rnn_act_from_name(defs[which][i % per], strlen(defs[which][i % per]));
        }
        float fa, fb;
        aiecg__rnn_act_defaults(code, &fa, &fb);
        int ua = code == AIECG__RNN_ACT_AFFINE || code == AIECG__RNN_ACT_LEAKY_RELU || code == AIECG__RNN_ACT_THRESHOLDED_RELU ||
                 code == AIECG__RNN_ACT_SCALED_TANH || code == AIECG__RNN_ACT_HARD_SIGMOID || code == AIECG__RNN_ACT_ELU;
        int ub = code == AIECG__RNN_ACT_AFFINE || code == AIECG__RNN_ACT_SCALED_TANH || code == AIECG__RNN_ACT_HARD_SIGMOID;
        if (ua && al && ia < al->n_floats) fa = al->floats[ia++];
        if (ub && be && ib < be->n_floats) fb = be->floats[ib++];
        a->perm[i] = code;
        a->axes[i] = aiecg__rnn_ab_pack(fa, fb);
    }
    if ((al && ia != al->n_floats) || (be && ib != be->n_floats))
        return aiecg__error_set(err, AIECG_ERR_UNSUPPORTED,
                                "node '%s' (%s): attribute activation_alpha/activation_beta has more values than the activations take",
                                c->name, c->op);
    return AIECG_OK;
}

/* The LSTM / GRU / RNN node: Y is always materialised (the kernel writes every step there). */
static aiecg_status rnn_node(aiecg__nn_graph *g, const Onnx__NodeProto *np, const node_ctx *c, int op,
                             const int32_t *inarr, int nin, const aiecg__nn_attr *a, aiecg_error *err) {
    int nout = op == AIECG__OP_LSTM ? 3 : 2, maxin = op == AIECG__OP_LSTM ? 8 : 6;
    if (nin < 3 || nin > maxin)
        return aiecg__error_set(err, AIECG_ERR_FORMAT, "node '%s' (%s): %d inputs (3..%d)", c->name, c->op, nin, maxin);
    if ((int)np->n_output > nout)
        return aiecg__error_set(err, AIECG_ERR_FORMAT, "node '%s' (%s): %zu outputs (at most %d)", c->name, c->op,
                                np->n_output, nout);
    int outs[3] = {-1, -1, -1};
    for (int k = 0; k < nout; k++) {
        const char *name = k < (int)np->n_output && np->output[k][0] ? np->output[k] : NULL;
        char buf[200];
        if (!name && k > 0) continue;
        if (!name) {
            snprintf(buf, sizeof buf, "%.150s#Y%d", c->name, g->nt);
            name = buf;
        }
        outs[k] = aiecg__nn_add_tensor(g, name);
        if (outs[k] < 0) return aiecg__error_set(err, AIECG_ERR_NOMEM, "import");
    }
    aiecg__nn_node *nd = aiecg__nn_add_node(g, op, c->name, nin, nout);
    if (!nd) return aiecg__error_set(err, AIECG_ERR_NOMEM, "import");
    for (int i = 0; i < nin; i++) nd->in[i] = inarr[i];
    for (int k = 0; k < nout; k++) nd->out[k] = outs[k];
    nd->a = *a;
    return AIECG_OK;
}

static aiecg_status import_node(aiecg__nn_graph *g, const Onnx__NodeProto *np, int idx, int opset,
                                aiecg_error *err) {
    node_ctx c = {np, np->name && np->name[0] ? np->name : NULL, np->op_type, 0};
    char namebuf[128];
    if (!c.name) {
        snprintf(namebuf, sizeof namebuf, "%s#%d", np->op_type ? np->op_type : "?", idx);
        c.name = namebuf;
    }
    if (!np->op_type || !np->op_type[0])
        return aiecg__error_set(err, AIECG_ERR_FORMAT, "node '%s': no op_type", c.name);
    if (np->n_output < 1) /* every ONNX operator has an output */
        return aiecg__error_set(err, AIECG_ERR_FORMAT, "node '%s' (%s): no output", c.name, np->op_type);
    if (np->domain && np->domain[0] && strcmp(np->domain, "ai.onnx") != 0)
        return aiecg__error_set(err, AIECG_ERR_UNSUPPORTED, "node '%s': op %s of domain '%s'", c.name,
                                np->op_type, np->domain);
    if (np->n_attribute > 64)
        return aiecg__error_set(err, AIECG_ERR_UNSUPPORTED, "node '%s': too many attributes", c.name);
    /* Constant: becomes a constant tensor, no node. */
    if (strcmp(np->op_type, "Constant") == 0) {
        if (np->n_output != 1 || np->n_attribute != 1)
            return aiecg__error_set(err, AIECG_ERR_UNSUPPORTED, "node '%s' (Constant): form", c.name);
        int ti = aiecg__nn_add_tensor(g, np->output[0]);
        if (ti < 0) return aiecg__error_set(err, AIECG_ERR_NOMEM, "import");
        const Onnx__AttributeProto *a = np->attribute[0];
        aiecg__nn_tensor *t = &g->t[ti];
        const char *an = pbs(a->name);
        if (strcmp(an, "value") == 0 && a->t) return tensor_from_proto(g, ti, a->t, err);
        int isf = strcmp(an, "value_float") == 0, isfs = strcmp(an, "value_floats") == 0;
        int isi = strcmp(an, "value_int") == 0, isis = strcmp(an, "value_ints") == 0;
        if (!isf && !isfs && !isi && !isis)
            return aiecg__error_set(err, AIECG_ERR_UNSUPPORTED, "node '%s' (Constant): attribute '%s'",
                                    c.name, an);
        size_t n = isfs ? a->n_floats : isis ? a->n_ints : 1;
        t->dtype = (isf || isfs) ? AIECG__DT_F32 : AIECG__DT_I64;
        t->ndim = (isfs || isis) ? 1 : 0;
        t->dims[0] = (int64_t)n;
        t->data = aiecg__aligned_alloc((n ? n : 1) * 8);
        if (!t->data) return aiecg__error_set(err, AIECG_ERR_NOMEM, "import");
        t->data_owned = 1;
        t->is_const = 1;
        for (size_t i = 0; i < n; i++) {
            if (isf) ((float *)t->data)[i] = a->f;
            if (isfs) ((float *)t->data)[i] = a->floats[i];
            if (isi) ((int64_t *)t->data)[i] = a->i;
            if (isis) ((int64_t *)t->data)[i] = a->ints[i];
        }
        return AIECG_OK;
    }
    int op = aiecg__nn_op_from_name(np->op_type);
    if (op < 0)
        return aiecg__error_set(err, AIECG_ERR_UNSUPPORTED, "node '%s': unsupported op %s", c.name,
                                np->op_type);
    /* Inputs, extra constant inputs for attribute forms appended below. */
    int nin = (int)np->n_input;
    int32_t ins[16];
    if (nin > 16 && op != AIECG__OP_CONCAT)
        return aiecg__error_set(err, AIECG_ERR_UNSUPPORTED, "node '%s' (%s): %d inputs", c.name,
                                np->op_type, nin);
    int32_t *inarr = nin > 16 ? aiecg__calloc((size_t)nin + 4, sizeof(int32_t)) : ins;
    if (!inarr) return aiecg__error_set(err, AIECG_ERR_NOMEM, "import");
    aiecg_status st = AIECG_OK;
    for (int i = 0; i < nin; i++) {
        if (!np->input[i][0]) {
            inarr[i] = -1;
            continue;
        }
        inarr[i] = aiecg__nn_find_tensor(g, np->input[i]);
        if (inarr[i] < 0) {
            st = aiecg__error_set(err, AIECG_ERR_MODEL, "node '%s' (%s): input '%s' is not defined",
                                  c.name, np->op_type, np->input[i]);
            goto done;
        }
    }
    aiecg__nn_attr a;
    aiecg__nn_attr_default(&a);
    int64_t tmp[16];
    int n;
    switch (op) {
    case AIECG__OP_CONV:
    case AIECG__OP_CONV_TRANSPOSE:
        a.group = (int32_t)attr_i(&c, "group", 1);
        if (a.group < 1) {
            st = aiecg__error_set(err, AIECG_ERR_FORMAT, "node '%s': group %d", c.name, a.group);
            goto done;
        }
        {
            int nsp = 0;
            if (nin >= 2 && inarr[1] >= 0 && g->t[inarr[1]].ndim >= 3) nsp = g->t[inarr[1]].ndim - 2;
            st = conv_pool_attrs(&c, &a, nsp, 0, err);
            if (st) goto done;
        }
        if (op == AIECG__OP_CONV_TRANSPOSE) {
            n = attr_ints(&c, "output_padding", tmp, 8);
            if (n < 0 || (n && n != a.nspatial)) {
                st = aiecg__error_set(err, AIECG_ERR_UNSUPPORTED, "node '%s' (ConvTranspose): attribute output_padding", c.name);
                goto done;
            }
            for (int i = 0; i < n; i++) a.output_padding[2 - a.nspatial + i] = tmp[i];
            if (attr_find(&c, "output_shape")) {
                st = aiecg__error_set(err, AIECG_ERR_UNSUPPORTED, "node '%s' (ConvTranspose): attribute output_shape", c.name);
                goto done;
            }
        }
        break;
    case AIECG__OP_MAXPOOL:
    case AIECG__OP_AVGPOOL:
        st = conv_pool_attrs(&c, &a, 0, 1, err);
        if (st) goto done;
        a.ceil_mode = (int32_t)attr_i(&c, "ceil_mode", 0);
        a.count_include_pad = (int32_t)attr_i(&c, "count_include_pad", 0);
        a.storage_order = (int32_t)attr_i(&c, "storage_order", 0);
        if (np->n_output > 1 && np->output[1][0]) {
            st = aiecg__error_set(err, AIECG_ERR_UNSUPPORTED, "node '%s' (MaxPool): Indices output", c.name);
            goto done;
        }
        break;
    case AIECG__OP_BATCHNORM:
        a.eps = attr_f(&c, "epsilon", 1e-5f);
        attr_f(&c, "momentum", 0.9f);
        attr_i(&c, "spatial", 1);
        if (attr_i(&c, "training_mode", 0) != 0 || nin != 5) {
            st = aiecg__error_set(err, AIECG_ERR_UNSUPPORTED, "node '%s' (BatchNormalization): training mode", c.name);
            goto done;
        }
        break;
    case AIECG__OP_LEAKY_RELU: a.alpha = attr_f(&c, "alpha", 0.01f); break;
    case AIECG__OP_ELU: a.alpha = attr_f(&c, "alpha", 1.0f); break;
    case AIECG__OP_SELU:
        a.alpha = attr_f(&c, "alpha", 1.67326319217681884765625f);
        a.gamma = attr_f(&c, "gamma", 1.05070102214813232421875f);
        break;
    case AIECG__OP_HARD_SIGMOID:
        a.alpha = attr_f(&c, "alpha", 0.2f);
        a.beta = attr_f(&c, "beta", 0.5f);
        break;
    case AIECG__OP_CLIP:
        if (opset < 11 || attr_find(&c, "min") || attr_find(&c, "max")) {
            const Onnx__AttributeProto *mn = attr_find(&c, "min"), *mx = attr_find(&c, "max");
            int t0 = const_f32(g, c.name, mn ? mn->f : -INFINITY);
            int t1 = const_f32(g, c.name, mx ? mx->f : INFINITY);
            if (t0 < 0 || t1 < 0) { st = aiecg__error_set(err, AIECG_ERR_NOMEM, "import"); goto done; }
            inarr[1] = t0;
            inarr[2] = t1;
            nin = 3;
        }
        break;
    case AIECG__OP_SOFTMAX:
    case AIECG__OP_LOG_SOFTMAX:
        a.softmax_legacy = opset < 13;
        a.axis = attr_i(&c, "axis", opset < 13 ? 1 : -1);
        break;
    case AIECG__OP_CONCAT:
        a.axis = attr_i(&c, "axis", 0);
        if (!attr_find(&c, "axis")) {
            st = aiecg__error_set(err, AIECG_ERR_FORMAT, "node '%s' (Concat): missing attribute axis", c.name);
            goto done;
        }
        break;
    case AIECG__OP_GATHER: a.axis = attr_i(&c, "axis", 0); break;
    case AIECG__OP_FLATTEN: a.axis = attr_i(&c, "axis", 1); break;
    case AIECG__OP_GEMM:
        a.alpha = attr_f(&c, "alpha", 1.0f);
        a.beta = attr_f(&c, "beta", 1.0f);
        a.trans_a = (int32_t)attr_i(&c, "transA", 0);
        a.trans_b = (int32_t)attr_i(&c, "transB", 0);
        break;
    case AIECG__OP_TRANSPOSE:
        a.nperm = attr_ints(&c, "perm", a.perm, AIECG_NN_MAX_DIMS);
        if (a.nperm < 0) { st = aiecg__error_set(err, AIECG_ERR_UNSUPPORTED, "node '%s' (Transpose): perm", c.name); goto done; }
        break;
    case AIECG__OP_SHAPE:
        a.shape_start = attr_i(&c, "start", 0);
        a.has_shape_end = attr_find(&c, "end") != NULL;
        a.shape_end = attr_i(&c, "end", 0);
        break;
    case AIECG__OP_RESHAPE: a.allowzero = (int32_t)attr_i(&c, "allowzero", 0); break;
    case AIECG__OP_CAST:
        {
            int64_t to = attr_i(&c, "to", 1);
            if (to == 1 || to == 10 || to == 11) a.cast_to = AIECG__DT_F32;
            else if (to == 7 || to == 6) a.cast_to = AIECG__DT_I64;
            else { st = aiecg__error_set(err, AIECG_ERR_UNSUPPORTED, "node '%s' (Cast): to=%lld", c.name, (long long)to); goto done; }
        }
        break;
    case AIECG__OP_CONSTANT_OF_SHAPE:
        {
            const Onnx__AttributeProto *v = attr_find(&c, "value");
            a.const_value = 0.0f;
            a.cast_to = AIECG__DT_F32;
            if (v && v->t) {
                int ti = aiecg__nn_add_tensor(g, "#cos");
                if (ti < 0) { st = aiecg__error_set(err, AIECG_ERR_NOMEM, "import"); goto done; }
                st = tensor_from_proto(g, ti, v->t, err);
                if (st) goto done;
                if (aiecg__nn_numel(g->t[ti].dims, g->t[ti].ndim) != 1) {
                    st = aiecg__error_set(err, AIECG_ERR_FORMAT, "node '%s' (ConstantOfShape): value", c.name);
                    goto done;
                }
                a.cast_to = g->t[ti].dtype;
                a.const_value = g->t[ti].dtype == AIECG__DT_F32 ? *(float *)g->t[ti].data
                                                                 : (float)*(int64_t *)g->t[ti].data;
            }
        }
        break;
    case AIECG__OP_PAD:
        {
            int present = 0;
            if (attr_s_is(&c, "mode", "reflect", &present)) a.pad_mode = 1;
            else if (present && attr_s_is(&c, "mode", "edge", NULL)) a.pad_mode = 2;
            else if (present && !attr_s_is(&c, "mode", "constant", NULL)) {
                st = aiecg__error_set(err, AIECG_ERR_UNSUPPORTED, "node '%s' (Pad): mode", c.name);
                goto done;
            }
            n = attr_ints(&c, "pads", tmp, 16);
            if (n > 0) {
                int t0 = const_i64(g, c.name, tmp, n);
                int t1 = const_f32(g, c.name, attr_f(&c, "value", 0.0f));
                if (t0 < 0 || t1 < 0) { st = aiecg__error_set(err, AIECG_ERR_NOMEM, "import"); goto done; }
                inarr[1] = t0;
                inarr[2] = t1;
                nin = 3;
            }
            if (nin > 3) { st = aiecg__error_set(err, AIECG_ERR_UNSUPPORTED, "node '%s' (Pad): axes input", c.name); goto done; }
        }
        break;
    case AIECG__OP_SQUEEZE:
    case AIECG__OP_UNSQUEEZE:
    case AIECG__OP_REDUCE_MEAN:
    case AIECG__OP_REDUCE_MAX:
    case AIECG__OP_REDUCE_SUM:
        if (op >= AIECG__OP_REDUCE_MEAN) {
            a.keepdims = (int32_t)attr_i(&c, "keepdims", 1);
            a.noop_with_empty_axes = (int32_t)attr_i(&c, "noop_with_empty_axes", 0);
        }
        n = attr_ints(&c, "axes", tmp, 8);
        if (n < 0) { st = aiecg__error_set(err, AIECG_ERR_UNSUPPORTED, "node '%s' (%s): axes", c.name, np->op_type); goto done; }
        if (n > 0) {
            int t0 = const_i64(g, c.name, tmp, n);
            if (t0 < 0) { st = aiecg__error_set(err, AIECG_ERR_NOMEM, "import"); goto done; }
            inarr[1] = t0;
            nin = 2;
        }
        break;
    case AIECG__OP_LSTM:
    case AIECG__OP_GRU:
    case AIECG__OP_RNN:
        st = rnn_attrs(&c, op, g, inarr, nin, &a, err);
        if (st) goto done;
        break;
    case AIECG__OP_DROPOUT:
        attr_i(&c, "seed", 0);
        attr_f(&c, "ratio", 0.5f);
        if (nin > 1) nin = 1; /* ratio / training_mode: inference ignores them */
        if (np->n_output > 1 && np->output[1][0]) {
            st = aiecg__error_set(err, AIECG_ERR_UNSUPPORTED, "node '%s' (Dropout): mask output", c.name);
            goto done;
        }
        break;
    default: break;
    }
    for (size_t i = 0; i < np->n_attribute; i++)
        if (!(c.used & (1ull << i))) {
            st = aiecg__error_set(err, AIECG_ERR_UNSUPPORTED, "node '%s' (%s): unsupported attribute '%s'",
                                  c.name, np->op_type, pbs(np->attribute[i]->name));
            goto done;
        }
    if (op == AIECG__OP_LSTM || op == AIECG__OP_GRU || op == AIECG__OP_RNN) {
        st = rnn_node(g, np, &c, op, inarr, nin, &a, err);
        goto done;
    }
    /* Variadic Max/Min become a chain of binary nodes. */
    if ((op == AIECG__OP_MAX || op == AIECG__OP_MIN) && nin != 2) {
        if (nin < 1) { st = aiecg__error_set(err, AIECG_ERR_FORMAT, "node '%s': no inputs", c.name); goto done; }
        int acc = inarr[0];
        for (int i = 1; i < nin; i++) {
            int outt = i == nin - 1 ? aiecg__nn_add_tensor(g, np->output[0]) : aiecg__nn_add_tensor(g, "#chain");
            aiecg__nn_node *nd = outt < 0 ? NULL : aiecg__nn_add_node(g, op, c.name, 2, 1);
            if (!nd) { st = aiecg__error_set(err, AIECG_ERR_NOMEM, "import"); goto done; }
            nd->in[0] = acc;
            nd->in[1] = inarr[i];
            nd->out[0] = outt;
            acc = outt;
        }
        if (nin == 1) {
            int outt = aiecg__nn_add_tensor(g, np->output[0]);
            aiecg__nn_node *nd = outt < 0 ? NULL : aiecg__nn_add_node(g, AIECG__OP_IDENTITY, c.name, 1, 1);
            if (!nd) { st = aiecg__error_set(err, AIECG_ERR_NOMEM, "import"); goto done; }
            nd->in[0] = inarr[0];
            nd->out[0] = outt;
        }
        goto done;
    }
    {
        int nout = (int)np->n_output;
        if (op == AIECG__OP_DROPOUT || op == AIECG__OP_MAXPOOL) nout = 1;
        if (nout != 1) {
            st = aiecg__error_set(err, AIECG_ERR_UNSUPPORTED, "node '%s' (%s): %d outputs", c.name,
                                  np->op_type, nout);
            goto done;
        }
        int outt = aiecg__nn_add_tensor(g, np->output[0]);
        aiecg__nn_node *nd = outt < 0 ? NULL : aiecg__nn_add_node(g, op, c.name, nin, 1);
        if (!nd) { st = aiecg__error_set(err, AIECG_ERR_NOMEM, "import"); goto done; }
        for (int i = 0; i < nin; i++) nd->in[i] = inarr[i];
        nd->out[0] = outt;
        nd->a = a;
    }
done:
    if (inarr != ins) aiecg__free(inarr);
    return st;
}

aiecg_status aiecg__nn_import_onnx(const uint8_t *data, size_t len, aiecg__nn_graph *g,
                                   aiecg_error *err) {
    aiecg__nn_graph_init(g);
    Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, len, data);
    if (!mp) return aiecg__error_set(err, AIECG_ERR_FORMAT, "not a valid ONNX protobuf (%zu bytes)", len);
    aiecg_status st = AIECG_OK;
    int opset = 0;
    for (size_t i = 0; i < mp->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *o = mp->opset_import[i];
        if (!o->domain || !o->domain[0] || strcmp(o->domain, "ai.onnx") == 0) opset = (int)o->version;
    }
    const Onnx__GraphProto *gp = mp->graph;
    if (!gp) {
        st = aiecg__error_set(err, AIECG_ERR_MODEL, "ONNX model has no graph");
        goto out;
    }
    if (opset < 6 || opset > 18) {
        st = aiecg__error_set(err, AIECG_ERR_UNSUPPORTED, "ONNX opset %d (6..18 accepted, 11..17 tested)", opset);
        goto out;
    }
    for (size_t i = 0; i < mp->n_metadata_props; i++) {
        const Onnx__StringStringEntryProto *e = mp->metadata_props[i];
        if (e->key && e->value && aiecg__nn_add_meta(g, e->key, e->value)) {
            st = aiecg__error_set(err, AIECG_ERR_NOMEM, "metadata");
            goto out;
        }
    }
    for (size_t i = 0; i < gp->n_initializer; i++) {
        int ti = aiecg__nn_add_tensor(g, gp->initializer[i]->name);
        if (ti < 0) { st = aiecg__error_set(err, AIECG_ERR_NOMEM, "import"); goto out; }
        st = tensor_from_proto(g, ti, gp->initializer[i], err);
        if (st) goto out;
    }
    for (size_t i = 0; i < gp->n_input; i++) {
        const Onnx__ValueInfoProto *vi = gp->input[i];
        if (aiecg__nn_find_tensor(g, vi->name) >= 0) continue; /* initializer */
        int ti = aiecg__nn_add_tensor(g, vi->name);
        if (ti < 0) { st = aiecg__error_set(err, AIECG_ERR_NOMEM, "import"); goto out; }
        aiecg__nn_tensor *t = &g->t[ti];
        if (vi->type && vi->type->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE &&
            vi->type->tensor_type) {
            const Onnx__TypeProto__Tensor *tt = vi->type->tensor_type;
            int et = tt->elem_type;
            t->dtype = et == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT ? AIECG__DT_F32
                       : et == ONNX__TENSOR_PROTO__DATA_TYPE__INT64 ? AIECG__DT_I64 : -et;
            if (tt->shape) {
                if (tt->shape->n_dim > AIECG_NN_MAX_DIMS) {
                    st = aiecg__error_set(err, AIECG_ERR_UNSUPPORTED, "input '%s': rank %zu", vi->name, tt->shape->n_dim);
                    goto out;
                }
                t->ndim = (int)tt->shape->n_dim;
                for (size_t d = 0; d < tt->shape->n_dim; d++) {
                    const Onnx__TensorShapeProto__Dimension *dm = tt->shape->dim[d];
                    t->dims[d] = dm->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE ? dm->dim_value : -1;
                }
            } else {
                t->ndim = -1;
            }
        }
        if (g->input < 0) g->input = ti;
    }
    if (g->input < 0) {
        st = aiecg__error_set(err, AIECG_ERR_UNSUPPORTED, "ONNX graph has no runtime input");
        goto out;
    }
    for (size_t i = 0; i < gp->n_node; i++) {
        st = import_node(g, gp->node[i], (int)i, opset, err);
        if (st) goto out;
    }
    if (gp->n_output < 1) {
        st = aiecg__error_set(err, AIECG_ERR_MODEL, "ONNX graph has no output");
        goto out;
    }
    g->output = aiecg__nn_find_tensor(g, gp->output[0]->name);
    if (g->output < 0 || g->output == g->input || g->t[g->output].is_const) {
        st = aiecg__error_set(err, AIECG_ERR_UNSUPPORTED, "graph output '%s' is not computed by a node",
                              pbs(gp->output[0]->name));
        goto out;
    }
out:
    onnx__model_proto__free_unpacked(mp, NULL);
    if (st) aiecg__nn_graph_free(g);
    return st;
}

#else

aiecg_status aiecg__nn_import_onnx(const uint8_t *data, size_t len, aiecg__nn_graph *g,
                                   aiecg_error *err) {
    (void)data;
    (void)len;
    aiecg__nn_graph_init(g);
    return aiecg__error_set(err, AIECG_ERR_UNSUPPORTED, "this build has no ONNX support (protobuf-c)");
}

#endif
