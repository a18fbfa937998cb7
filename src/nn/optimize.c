/*
 * Graph optimiser, run after import (and so baked into every .aiem file):
 *  1. shape folding: a Shape whose value is the same at two different probe
 *     input shapes (batch 1 / 3, length 4096 / 1536) is static and becomes a
 *     constant; then every node whose inputs are all constant is evaluated
 *     with the reference kernels (constant folding);
 *  2. Identity, Dropout (inference) and Pad by zero are removed;
 *  3. BatchNormalization following a Conv or Gemm is folded into its weights
 *     and bias (Ioffe & Szegedy 2015; the standard inference-time fold);
 *  4. a residual Add whose other operand already exists is fused into the
 *     producing Conv/Gemm/MatMul epilogue (a shortcut computed after the conv
 *     from inputs that exist before it is first moved above the conv), then a
 *     following activation
 *     (Relu, LeakyRelu, Clip, Sigmoid, HardSigmoid, HardSwish, Tanh, Elu) too;
 *  5. dead nodes and tensors are dropped.
 * Every rewrite keeps the graph in topological order; a pass only fuses a
 * tensor that has exactly one consumer and is not the graph output.
 */
#include "nn_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    aiecg__nn_graph *g;
    int *uses;     /* consumers per tensor (+1 for the graph output) */
    int *producer; /* node index or -1 */
} ctx;

static aiecg_status index_graph(ctx *c) {
    aiecg__nn_graph *g = c->g;
    aiecg__free(c->uses);
    aiecg__free(c->producer);
    c->uses = aiecg__calloc((size_t)g->nt + 1, sizeof(int));
    c->producer = aiecg__calloc((size_t)g->nt + 1, sizeof(int));
    if (!c->uses || !c->producer) return AIECG_ERR_NOMEM;
    for (int i = 0; i < g->nt; i++) c->producer[i] = -1;
    for (int i = 0; i < g->nn; i++) {
        for (int k = 0; k < g->n[i].nin; k++)
            if (g->n[i].in[k] >= 0) c->uses[g->n[i].in[k]]++;
        for (int k = 0; k < g->n[i].nout; k++)
            if (g->n[i].out[k] >= 0) c->producer[g->n[i].out[k]] = i;
    }
    if (g->output >= 0) c->uses[g->output]++;
    return AIECG_OK;
}

static void kill_node(aiecg__nn_node *n) {
    for (int k = 0; k < n->nout; k++) n->out[k] = -1;
}

static void replace_uses(aiecg__nn_graph *g, int from, int to, int after) {
    for (int i = after; i < g->nn; i++)
        for (int k = 0; k < g->n[i].nin; k++)
            if (g->n[i].in[k] == from) g->n[i].in[k] = to;
}

static int new_const(aiecg__nn_graph *g, const char *base, int dtype, const aiecg__nn_shape *s) {
    char name[200];
    snprintf(name, sizeof name, "%.150s#folded%d", base, g->nt);
    int ti = aiecg__nn_add_tensor(g, name);
    if (ti < 0) return -1;
    aiecg__nn_tensor *t = &g->t[ti];
    t->dtype = dtype;
    t->ndim = s->ndim;
    memcpy(t->dims, s->d, sizeof(int64_t) * (size_t)s->ndim);
    int64_t ne = aiecg__nn_numel(s->d, s->ndim);
    t->data = aiecg__aligned_alloc((size_t)(ne > 0 ? ne : 1) * (dtype == AIECG__DT_I64 ? 8 : 4));
    if (!t->data) return -1;
    t->data_owned = 1;
    t->is_const = 1;
    return ti;
}

/* ---- 1. shape + constant folding ------------------------------------- */
static aiecg_status fold_shapes(aiecg__nn_graph *g) {
    const aiecg__nn_tensor *in = &g->t[g->input];
    if (in->ndim < 0) return AIECG_OK;
    aiecg__nn_shape *s1 = aiecg__calloc((size_t)g->nt, sizeof *s1);
    aiecg__nn_shape *s2 = aiecg__calloc((size_t)g->nt, sizeof *s2);
    int32_t *dt = aiecg__calloc((size_t)g->nt, sizeof *dt);
    aiecg_status st = AIECG_OK;
    if (!s1 || !s2 || !dt) st = AIECG_ERR_NOMEM;
    int64_t d1[AIECG_NN_MAX_DIMS], d2[AIECG_NN_MAX_DIMS];
    for (int i = 0; i < in->ndim; i++) {
        d1[i] = in->dims[i] >= 0 ? in->dims[i] : (i == 0 ? 1 : 4096);
        d2[i] = in->dims[i] >= 0 ? in->dims[i] : (i == 0 ? 3 : 1536);
    }
    if (!st && aiecg__nn_infer_all(g, d1, in->ndim, s1, dt, NULL) == AIECG_OK &&
        aiecg__nn_infer_all(g, d2, in->ndim, s2, dt, NULL) == AIECG_OK) {
        int nn = g->nn;
        for (int i = 0; i < nn && !st; i++) {
            aiecg__nn_node *n = &g->n[i];
            if (n->op != AIECG__OP_SHAPE) continue;
            const aiecg__nn_shape *a = &s1[n->in[0]], *b = &s2[n->in[0]];
            if (a->ndim != b->ndim || memcmp(a->d, b->d, sizeof(int64_t) * (size_t)a->ndim) != 0) continue;
            int y = n->out[0];
            int64_t b0 = n->a.shape_start, e0 = n->a.has_shape_end ? n->a.shape_end : a->ndim;
            if (b0 < 0) b0 += a->ndim;
            if (e0 < 0) e0 += a->ndim;
            b0 = b0 < 0 ? 0 : b0 > a->ndim ? a->ndim : b0;
            e0 = e0 < b0 ? b0 : e0 > a->ndim ? a->ndim : e0;
            aiecg__nn_shape os = {1, {e0 - b0}};
            int ct = new_const(g, g->t[y].name, AIECG__DT_I64, &os);
            if (ct < 0) { st = AIECG_ERR_NOMEM; break; }
            n = &g->n[i];
            memcpy(g->t[ct].data, a->d + b0, sizeof(int64_t) * (size_t)(e0 - b0));
            replace_uses(g, y, ct, i + 1);
            if (g->output == y) g->output = ct;
            kill_node(n);
        }
    }
    aiecg__free(s1);
    aiecg__free(s2);
    aiecg__free(dt);
    return st;
}

static aiecg_status fold_constants(aiecg__nn_graph *g, aiecg_error *err) {
    aiecg__nn_shape *sh = aiecg__calloc((size_t)g->nt + 64, sizeof *sh);
    int32_t *dt = aiecg__calloc((size_t)g->nt + 64, sizeof *dt);
    void **ptr = aiecg__calloc((size_t)g->nt + 64, sizeof *ptr);
    aiecg_status st = AIECG_OK;
    if (!sh || !dt || !ptr) st = AIECG_ERR_NOMEM;
    int nt0 = g->nt;
    for (int i = 0; i < nt0 && !st; i++) {
        sh[i].ndim = g->t[i].ndim < 0 ? 0 : g->t[i].ndim;
        memcpy(sh[i].d, g->t[i].dims, sizeof sh[i].d);
        dt[i] = g->t[i].dtype;
        ptr[i] = g->t[i].is_const ? g->t[i].data : NULL;
    }
    for (int i = 0; i < g->nn && !st; i++) {
        aiecg__nn_node *n = &g->n[i];
        if (n->out[0] < 0 || n->out[0] == g->output) continue;
        int all = 1;
        for (int k = 0; k < n->nin; k++)
            if (n->in[k] >= 0 && !g->t[n->in[k]].is_const) all = 0;
        if (!all || n->nout != 1) continue;
        aiecg_error e2;
        if (aiecg__nn_infer_node(g, n, sh, dt, ptr, &e2) != AIECG_OK) continue; /* left for run time */
        int y = n->out[0];
        if (aiecg__nn_numel(sh[y].d, sh[y].ndim) > (1 << 24)) continue;
        aiecg__nn_tensor *t = &g->t[y];
        t->dtype = dt[y];
        t->ndim = sh[y].ndim;
        memcpy(t->dims, sh[y].d, sizeof t->dims);
        int64_t ne = aiecg__nn_numel(sh[y].d, sh[y].ndim);
        t->data = aiecg__aligned_alloc((size_t)(ne > 0 ? ne : 1) * (dt[y] == AIECG__DT_I64 ? 8 : 4));
        if (!t->data) { st = AIECG_ERR_NOMEM; break; }
        t->data_owned = 1;
        ptr[y] = t->data;
        aiecg__nn_exec x = {0};
        x.g = g;
        x.sh = sh;
        x.dt = dt;
        x.ptr = ptr;
        x.nthreads = 1;
        st = aiecg__nn_exec_node(&x, n, err);
        if (st) break;
        t->is_const = 1;
        kill_node(n);
    }
    if (st == AIECG_ERR_NOMEM) aiecg__error_set(err, st, "constant folding");
    aiecg__free(sh);
    aiecg__free(dt);
    aiecg__free(ptr);
    return st;
}

/* ---- 2. Identity / Dropout ------------------------------------------- */
/* A Pad whose constant pads are all zero (PyTorch's export of a ceil-mode AvgPool1d on an even length) copies
 * its input: any mode, any fill value. */
static int zero_pad(const aiecg__nn_graph *g, const aiecg__nn_node *n) {
    if (n->op != AIECG__OP_PAD || n->nin < 2 || n->in[1] < 0) return 0;
    const aiecg__nn_tensor *t = &g->t[n->in[1]];
    if (!t->is_const || !t->data || t->dtype != AIECG__DT_I64) return 0;
    int64_t cnt = aiecg__nn_numel(t->dims, t->ndim);
    for (int64_t i = 0; i < cnt; i++)
        if (((const int64_t *)t->data)[i] != 0) return 0;
    return 1;
}

static void remove_identity(aiecg__nn_graph *g) {
    for (int i = 0; i < g->nn; i++) {
        aiecg__nn_node *n = &g->n[i];
        if ((n->op != AIECG__OP_IDENTITY && n->op != AIECG__OP_DROPOUT && !zero_pad(g, n)) || n->out[0] < 0) continue;
        int src = n->in[0], y = n->out[0];
        if (y == g->output) {
            if (src == g->input || g->t[src].is_const) continue;
            g->output = src;
        }
        replace_uses(g, y, src, i + 1);
        kill_node(n);
    }
}

/* ---- 3. BatchNorm folding -------------------------------------------- */
static aiecg_status fold_bn(ctx *c) {
    aiecg__nn_graph *g = c->g;
    for (int i = 0; i < g->nn; i++) {
        aiecg__nn_node *bn = &g->n[i];
        if (bn->op != AIECG__OP_BATCHNORM || bn->out[0] < 0) continue;
        int x = bn->in[0];
        int p = c->producer[x];
        if (p < 0 || c->uses[x] != 1 || x == g->output) continue;
        int ok = 1;
        for (int k = 1; k < 5; k++)
            if (!g->t[bn->in[k]].is_const || g->t[bn->in[k]].dtype != AIECG__DT_F32) ok = 0;
        if (!ok) continue;
        aiecg__nn_node *cv = &g->n[p];
        int is_conv = cv->op == AIECG__OP_CONV, is_gemm = cv->op == AIECG__OP_GEMM;
        if ((!is_conv && !is_gemm) || cv->a.act || cv->a.has_residual) continue;
        const aiecg__nn_tensor *w = &g->t[cv->in[1]];
        if (!w->is_const) continue;
        int hb = cv->nin > 2 && cv->in[2] >= 0;
        if (hb && !g->t[cv->in[2]].is_const) continue;
        int64_t cout;
        if (is_conv) cout = w->dims[0];
        else {
            if (w->ndim != 2 || cv->a.trans_a || cv->a.alpha != 1.0f || (hb && cv->a.beta != 1.0f)) continue;
            cout = cv->a.trans_b ? w->dims[0] : w->dims[1];
            if (hb && aiecg__nn_numel(g->t[cv->in[2]].dims, g->t[cv->in[2]].ndim) != cout) continue;
        }
        if (aiecg__nn_numel(g->t[bn->in[1]].dims, g->t[bn->in[1]].ndim) != cout) continue;
        if (hb && aiecg__nn_numel(g->t[cv->in[2]].dims, g->t[cv->in[2]].ndim) != cout) continue;
        aiecg__nn_shape ws = {w->ndim, {0}};
        memcpy(ws.d, w->dims, sizeof ws.d);
        aiecg__nn_shape bs = {1, {cout}};
        int nw = new_const(g, w->name, AIECG__DT_F32, &ws);
        int nb = nw < 0 ? -1 : new_const(g, w->name, AIECG__DT_F32, &bs);
        if (nb < 0) return AIECG_ERR_NOMEM;
        bn = &g->n[i];
        cv = &g->n[p];
        w = &g->t[cv->in[1]];
        const float *sc = g->t[bn->in[1]].data, *be = g->t[bn->in[2]].data;
        const float *mu = g->t[bn->in[3]].data, *var = g->t[bn->in[4]].data;
        const float *ob = hb ? g->t[cv->in[2]].data : NULL;
        float *W = g->t[nw].data, *B = g->t[nb].data;
        const float *W0 = w->data;
        int64_t ne = aiecg__nn_numel(w->dims, w->ndim);
        for (int64_t o = 0; o < cout; o++) {
            double k = (double)sc[o] / sqrt((double)var[o] + (double)bn->a.eps);
            B[o] = (float)(((ob ? ob[o] : 0.0) - mu[o]) * k + be[o]);
            if (is_conv || cv->a.trans_b) {
                int64_t per = ne / cout;
                for (int64_t j = 0; j < per; j++) W[o * per + j] = (float)(W0[o * per + j] * k);
            } else {
                int64_t K = w->dims[0];
                for (int64_t j = 0; j < K; j++) W[j * cout + o] = (float)(W0[j * cout + o] * k);
            }
        }
        if (!hb) {
            /* grow the conv's input list to hold a bias */
            int32_t *in = aiecg__realloc(cv->in, (size_t)(cv->nin < 3 ? 3 : cv->nin) * sizeof(int32_t));
            if (!in) return AIECG_ERR_NOMEM;
            cv->in = in;
            if (cv->nin < 3) cv->nin = 3;
        }
        cv->in[1] = nw;
        cv->in[2] = nb;
        if (is_gemm) cv->a.beta = 1.0f;
        cv->out[0] = bn->out[0];
        kill_node(bn);
        aiecg_status st = index_graph(c);
        if (st) return st;
    }
    return AIECG_OK;
}

/* ---- 4. residual + activation fusion ---------------------------------- */
static int fusable_producer(ctx *c, int t) {
    aiecg__nn_graph *g = c->g;
    int p = c->producer[t];
    if (p < 0 || c->uses[t] != 1 || t == g->output) return -1;
    aiecg__nn_node *n = &g->n[p];
    if (n->op != AIECG__OP_CONV && n->op != AIECG__OP_GEMM && n->op != AIECG__OP_MATMUL) return -1;
    if (n->a.act || n->a.has_residual) return -1;
    return p;
}

/*
 * Moves node q (single output) and, first, those of its producers that run at or after p, to just above p,
 * so that q's output exists when node p runs. A chain such as Pad -> AveragePool (xresnet's shortcut of a
 * channel-preserving downsampling block) moves whole; nodes p..q-1 cannot read q's output (topological
 * order), so the order stays valid. Returns the new index of the node that was at p, or -1 (nothing moved)
 * when the chain is deeper than `depth` or a node on it has several outputs.
 */
static int hoist_above(ctx *c, int q, int p, int depth) {
    aiecg__nn_graph *g = c->g;
    if (depth <= 0 || g->n[q].nout != 1) return -1;
    for (int k = 0; k < g->n[q].nin; k++) { /* a dry run: every producer on the chain must be movable */
        int t = g->n[q].in[k], pr = t >= 0 ? c->producer[t] : -1;
        if (pr >= p && (g->n[pr].nout != 1 || depth <= 1)) return -1;
    }
    for (int k = 0; k < g->n[q].nin; k++) {
        int t = g->n[q].in[k], pr = t >= 0 ? c->producer[t] : -1;
        if (pr < p) continue;
        int np = hoist_above(c, pr, p, depth - 1);
        if (np < 0) return -1;
        p = np; /* pr went to p and p..pr-1 one down; q (after pr) keeps its index */
        k = -1; /* producers changed: check the inputs again */
    }
    aiecg__nn_node tmp = g->n[q];
    memmove(&g->n[p + 1], &g->n[p], (size_t)(q - p) * sizeof *g->n);
    g->n[p] = tmp;
    if (index_graph(c)) return -1;
    return p + 1;
}

static aiecg_status fuse_residual(ctx *c, const aiecg__nn_shape *s1, const aiecg__nn_shape *s2) {
    aiecg__nn_graph *g = c->g;
    for (int i = 0; i < g->nn; i++) {
        aiecg__nn_node *add = &g->n[i];
        if (add->op != AIECG__OP_ADD || add->out[0] < 0 || add->a.act || add->a.has_residual) continue;
        for (int side = 0; side < 2; side++) {
            int t = add->in[side], o = add->in[1 - side];
            int p = fusable_producer(c, t);
            if (p < 0 || o < 0 || g->t[o].dtype != AIECG__DT_F32) continue;
            int po = c->producer[o];
            if (po > p) {
                /* the other operand (a shortcut such as the AveragePool of the block input, or a Pad ->
                   AveragePool chain) is computed after the conv: hoist it above the conv */
                int np = hoist_above(c, po, p, 3);
                if (np < 0) continue;
                p = np;
                po = c->producer[o];
            }
            if (po >= p) continue; /* the other operand must exist before the conv runs */
            if (s1[o].ndim != s1[t].ndim || memcmp(s1[o].d, s1[t].d, sizeof(int64_t) * (size_t)s1[t].ndim) ||
                s2[o].ndim != s2[t].ndim || memcmp(s2[o].d, s2[t].d, sizeof(int64_t) * (size_t)s2[t].ndim))
                continue;
            aiecg__nn_node *cv = &g->n[p];
            int base = cv->op == AIECG__OP_MATMUL ? 3 : 3; /* x, w, bias slot, residual */
            int32_t *in = aiecg__realloc(cv->in, (size_t)(base + 1) * sizeof(int32_t));
            if (!in) return AIECG_ERR_NOMEM;
            cv->in = in;
            for (int k = cv->nin; k < base; k++) cv->in[k] = -1;
            cv->nin = base + 1;
            cv->in[base] = o;
            cv->a.has_residual = 1;
            cv->out[0] = add->out[0];
            kill_node(add);
            aiecg_status st = index_graph(c);
            if (st) return st;
            break;
        }
    }
    return AIECG_OK;
}

static aiecg_status fuse_act(ctx *c) {
    aiecg__nn_graph *g = c->g;
    for (int i = 0; i < g->nn; i++) {
        aiecg__nn_node *an = &g->n[i];
        if (an->out[0] < 0 || an->in[0] < 0) continue;
        int act = 0;
        float aa = 0, ab = 0;
        switch (an->op) {
        case AIECG__OP_RELU: act = AIECG__ACT_RELU; break;
        case AIECG__OP_LEAKY_RELU: act = AIECG__ACT_LEAKY_RELU; aa = an->a.alpha; break;
        case AIECG__OP_SIGMOID: act = AIECG__ACT_SIGMOID; break;
        case AIECG__OP_HARD_SIGMOID: act = AIECG__ACT_HARD_SIGMOID; aa = an->a.alpha; ab = an->a.beta; break;
        case AIECG__OP_HARD_SWISH: act = AIECG__ACT_HARD_SWISH; break;
        case AIECG__OP_TANH: act = AIECG__ACT_TANH; break;
        case AIECG__OP_ELU: act = AIECG__ACT_ELU; aa = an->a.alpha; break;
        case AIECG__OP_CLIP: {
            int mn = an->nin > 1 ? an->in[1] : -1, mx = an->nin > 2 ? an->in[2] : -1;
            if ((mn >= 0 && !g->t[mn].is_const) || (mx >= 0 && !g->t[mx].is_const)) break;
            act = AIECG__ACT_CLIP;
            aa = mn >= 0 ? *(const float *)g->t[mn].data : -INFINITY;
            ab = mx >= 0 ? *(const float *)g->t[mx].data : INFINITY;
            break;
        }
        default: break;
        }
        if (!act) continue;
        int x = an->in[0];
        int p = c->producer[x];
        if (p < 0 || c->uses[x] != 1 || x == g->output) continue;
        aiecg__nn_node *cv = &g->n[p];
        if (cv->op != AIECG__OP_CONV && cv->op != AIECG__OP_GEMM && cv->op != AIECG__OP_MATMUL &&
            cv->op != AIECG__OP_ADD)
            continue;
        if (cv->a.act) continue;
        cv->a.act = act;
        cv->a.act_a = aa;
        cv->a.act_b = ab;
        cv->out[0] = an->out[0];
        kill_node(an);
        aiecg_status st = index_graph(c);
        if (st) return st;
    }
    return AIECG_OK;
}

aiecg_status aiecg__nn_optimize(aiecg__nn_graph *g, aiecg_error *err) {
    aiecg_status st = fold_shapes(g);
    if (!st) st = aiecg__nn_compact(g);
    if (!st) st = fold_constants(g, err);
    if (st) return st == AIECG_ERR_NOMEM ? aiecg__error_set(err, st, "optimiser") : st;
    remove_identity(g);
    if ((st = aiecg__nn_compact(g))) return aiecg__error_set(err, st, "optimiser");
    ctx c = {g, NULL, NULL};
    st = index_graph(&c);
    if (!st) st = fold_bn(&c);
    if (!st) st = aiecg__nn_compact(g);
    /* residual fusion needs shapes at two probe sizes */
    const aiecg__nn_tensor *in = &g->t[g->input];
    if (!st && in->ndim >= 0) {
        aiecg__nn_shape *s1 = aiecg__calloc((size_t)g->nt, sizeof *s1);
        aiecg__nn_shape *s2 = aiecg__calloc((size_t)g->nt, sizeof *s2);
        int32_t *dt = aiecg__calloc((size_t)g->nt, sizeof *dt);
        int64_t d1[AIECG_NN_MAX_DIMS], d2[AIECG_NN_MAX_DIMS];
        for (int i = 0; i < in->ndim; i++) {
            d1[i] = in->dims[i] >= 0 ? in->dims[i] : (i == 0 ? 1 : 4096);
            d2[i] = in->dims[i] >= 0 ? in->dims[i] : (i == 0 ? 3 : 1536);
        }
        if (!s1 || !s2 || !dt) st = AIECG_ERR_NOMEM;
        else if (aiecg__nn_infer_all(g, d1, in->ndim, s1, dt, NULL) == AIECG_OK &&
                 aiecg__nn_infer_all(g, d2, in->ndim, s2, dt, NULL) == AIECG_OK) {
            st = index_graph(&c);
            if (!st) st = fuse_residual(&c, s1, s2);
        }
        aiecg__free(s1);
        aiecg__free(s2);
        aiecg__free(dt);
        if (!st) st = aiecg__nn_compact(g);
    }
    if (!st) st = index_graph(&c);
    if (!st) st = fuse_act(&c);
    if (!st) st = aiecg__nn_compact(g);
    aiecg__free(c.uses);
    aiecg__free(c.producer);
    if (st) return aiecg__error_set(err, st, "optimiser");
    return AIECG_OK;
}
