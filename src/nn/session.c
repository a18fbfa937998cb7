/*
 * Sessions: plan once, then run without allocating.
 *
 * Planning infers every tensor's shape for the largest input the session will
 * see (max_batch x max_length), then gives each intermediate float tensor an
 * offset in one arena so that tensors whose lifetimes (first write .. last
 * read, in node order) overlap never share bytes: greedy by size, lowest
 * fitting offset (the "greedy by size" strategy of Pisarchyk & Lee 2020,
 * "Efficient memory management for deep neural net inference"). A run
 * re-infers shapes for the actual input and checks each tensor still fits its
 * planned slot, so smaller batches and lengths reuse the plan as is. Small
 * int64 tensors (shape arithmetic) live in a separate fixed pool and are
 * evaluated at plan time and again per run.
 */
#include "nn_int.h"

#include <math.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>

#define IVAL_SLOTS 64 /* int64 elements per shape-arithmetic tensor */
#define DEFAULT_LENGTH 4096
#define MAX_ARENA_BYTES ((size_t)1 << 32) /* 4 GiB: refuse plans no ECG model needs */

struct aiecg_session {
    const aiecg_model *m;
    aiecg__nn_shape *sh;
    int32_t *dt;
    void **ptr;
    size_t *off, *cap;
    uint8_t *arena;
    size_t arena_size;
    int64_t *ival;
    float *scratch;
    size_t scratch_floats;
    aiecg_threadpool *pool, *own_pool;
    int nthreads;
    int fast;
    uint32_t features;
    atomic_int cancel;
    int in_ndim;
    int64_t max_in[AIECG_NN_MAX_DIMS];
    double *prof; /* optional: seconds accumulated per node (bench only) */
    int64_t sub_batch; /* records per pass through the graph (batch-separable graphs), else max batch */
    size_t rec_bytes;  /* arena of one record (batch-separable graphs), else 0 */
    const float **wpack; /* per node: its panels in the model's shared aiecg__wt_cache, or NULL */
    const float **wfft;  /* per node: its DFT block there (conv_fft.c), or NULL */
    size_t wpack_floats; /* floats of them this session reads (owned by the model) */
};

void aiecg__nn_session_profile(aiecg_session *s, double *per_node_seconds) {
    if (s) s->prof = per_node_seconds;
}

static double prof_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Sets up constant and input shapes; ptr for constants. */
static void seed_tensors(const aiecg__nn_graph *g, aiecg__nn_shape *sh, int32_t *dt, void **ptr) {
    for (int i = 0; i < g->nt; i++) {
        const aiecg__nn_tensor *t = &g->t[i];
        sh[i].ndim = t->ndim < 0 ? 0 : t->ndim;
        memcpy(sh[i].d, t->dims, sizeof sh[i].d);
        dt[i] = t->dtype;
        ptr[i] = t->is_const ? t->data : NULL;
    }
}

/*
 * Infers every shape for input dims; int64 tensors are evaluated into ival
 * (IVAL_SLOTS per tensor). Float data is not touched.
 */
static aiecg_status infer_all(const aiecg__nn_graph *g, const int64_t *in_dims, int in_ndim,
                              aiecg__nn_shape *sh, int32_t *dt, void **ptr, int64_t *ival,
                              aiecg_error *err) {
    seed_tensors(g, sh, dt, ptr);
    sh[g->input].ndim = in_ndim;
    for (int i = 0; i < in_ndim; i++) sh[g->input].d[i] = in_dims[i];
    aiecg__nn_exec x = {0};
    x.g = g;
    x.sh = sh;
    x.dt = dt;
    x.ptr = ptr;
    x.nthreads = 1;
    for (int i = 0; i < g->nn; i++) {
        const aiecg__nn_node *n = &g->n[i];
        aiecg_status st = aiecg__nn_infer_node(g, n, sh, dt, ptr, err);
        if (st) return st;
        int y = n->out[0];
        if (dt[y] != AIECG__DT_I64) continue;
        if (aiecg__nn_numel(sh[y].d, sh[y].ndim) > IVAL_SLOTS)
            return aiecg__error_set(err, AIECG_ERR_UNSUPPORTED,
                                    "node '%s' (%s): int64 tensor larger than %d elements", n->name,
                                    aiecg__nn_op_names[n->op], IVAL_SLOTS);
        for (int k = 0; k < n->nin; k++) {
            int ti = n->in[k];
            if (ti >= 0 && !ptr[ti] && !(n->op == AIECG__OP_SHAPE && k == 0))
                return aiecg__error_set(err, AIECG_ERR_UNSUPPORTED,
                                        "node '%s' (%s): int64 result depends on runtime float data",
                                        n->name, aiecg__nn_op_names[n->op]);
        }
        ptr[y] = ival + (size_t)y * IVAL_SLOTS;
        st = aiecg__nn_exec_node(&x, n, err);
        if (st) return st;
    }
    return AIECG_OK;
}

aiecg_status aiecg__nn_infer_all(const aiecg__nn_graph *g, const int64_t *in_dims, int in_ndim,
                                 aiecg__nn_shape *sh, int32_t *dt, aiecg_error *err) {
    void **ptr = aiecg__calloc((size_t)g->nt + 1, sizeof *ptr);
    int64_t *ival = aiecg__calloc((size_t)g->nt * IVAL_SLOTS + 1, sizeof *ival);
    aiecg_status st = AIECG_ERR_NOMEM;
    if (ptr && ival) st = infer_all(g, in_dims, in_ndim, sh, dt, ptr, ival, err);
    else aiecg__error_set(err, st, "shape inference");
    aiecg__free(ptr);
    aiecg__free(ival);
    return st;
}

/* Input dims for planning: dynamic dims -> max_batch (dim 0) / max_length. */
static void plan_dims(const aiecg__nn_tensor *in, int64_t batch, int64_t length, int64_t *dims) {
    for (int i = 0; i < in->ndim; i++)
        dims[i] = in->dims[i] >= 0 ? in->dims[i] : (i == 0 ? batch : length);
}

int aiecg_model_input_shape(const aiecg_model *m, int64_t dims[AIECG_NN_MAX_DIMS]) {
    if (!m) return 0;
    const aiecg__nn_tensor *t = &m->g.t[m->g.input];
    for (int i = 0; i < t->ndim; i++) dims[i] = t->dims[i];
    return t->ndim;
}

int aiecg_model_output_shape(const aiecg_model *m, int64_t dims[AIECG_NN_MAX_DIMS]) {
    if (!m) return 0;
    const aiecg__nn_graph *g = &m->g;
    const aiecg__nn_tensor *in = &g->t[g->input];
    aiecg__nn_shape *s1 = aiecg__calloc((size_t)g->nt, sizeof *s1);
    aiecg__nn_shape *s2 = aiecg__calloc((size_t)g->nt, sizeof *s2);
    int32_t *dt = aiecg__calloc((size_t)g->nt, sizeof *dt);
    int nd = 0;
    if (s1 && s2 && dt) {
        int64_t d1[AIECG_NN_MAX_DIMS], d2[AIECG_NN_MAX_DIMS];
        plan_dims(in, 1, DEFAULT_LENGTH, d1);
        plan_dims(in, 2, DEFAULT_LENGTH / 2, d2);
        if (aiecg__nn_infer_all(g, d1, in->ndim, s1, dt, NULL) == AIECG_OK &&
            aiecg__nn_infer_all(g, d2, in->ndim, s2, dt, NULL) == AIECG_OK) {
            const aiecg__nn_shape *a = &s1[g->output], *b = &s2[g->output];
            nd = a->ndim;
            for (int i = 0; i < nd; i++) dims[i] = a->d[i] == b->d[i] ? a->d[i] : -1;
        }
    }
    aiecg__free(s1);
    aiecg__free(s2);
    aiecg__free(dt);
    return nd;
}

double aiecg_model_flops(const aiecg_model *m, const int64_t *input_dims, int ndim) {
    if (!m || !input_dims) return 0.0;
    const aiecg__nn_graph *g = &m->g;
    aiecg__nn_shape *sh = aiecg__calloc((size_t)g->nt, sizeof *sh);
    int32_t *dt = aiecg__calloc((size_t)g->nt, sizeof *dt);
    double f = 0.0;
    if (sh && dt && aiecg__nn_infer_all(g, input_dims, ndim, sh, dt, NULL) == AIECG_OK)
        for (int i = 0; i < g->nn; i++) f += aiecg__nn_node_flops(g, &g->n[i], sh);
    aiecg__free(sh);
    aiecg__free(dt);
    return f;
}

aiecg_session_options aiecg_session_options_default(void) {
    aiecg_session_options o;
    memset(&o, 0, sizeof o);
    o.nthreads = 1;
    return o;
}

void aiecg_session_free(aiecg_session *s) {
    if (!s) return;
    aiecg__free(s->sh);
    aiecg__free(s->dt);
    aiecg__free(s->ptr);
    aiecg__free(s->off);
    aiecg__free(s->cap);
    aiecg__aligned_free(s->arena);
    aiecg__free(s->ival);
    aiecg__aligned_free(s->scratch);
    aiecg__free(s->wpack);
    aiecg__free(s->wfft);
    aiecg_threadpool_free(s->own_pool);
    aiecg__free(s);
}

typedef struct {
    int t;
    size_t size;
    int first, last;
} live_rec;

static int cmp_live(const void *a, const void *b) {
    const live_rec *x = a, *y = b;
    if (x->size != y->size) return x->size < y->size ? 1 : -1;
    return x->t - y->t;
}

typedef struct {
    size_t off, end;
} span;

static int cmp_span(const void *a, const void *b) {
    const span *x = a, *y = b;
    return x->off < y->off ? -1 : x->off > y->off;
}

/*
 * Arena plan for the shapes in sh: offsets off[] and slot sizes cap[] of every
 * float intermediate (cap 0: not in the arena), the arena size and the largest
 * per-node scratch. lv/sp are caller-provided work arrays of nt / nt+1 entries.
 */
static aiecg_status plan_arena(const aiecg__nn_graph *g, const aiecg__nn_shape *sh, const int32_t *dt, int fast,
                               size_t *off, size_t *cap, live_rec *lv, span *sp, size_t *arena_out,
                               size_t *scratch_out) {
    size_t nt = (size_t)g->nt;
    for (size_t i = 0; i < nt; i++) off[i] = cap[i] = 0;
    /* Lifetimes of float intermediates. */
    int nl = 0;
    for (int i = 0; i < g->nt; i++) {
        if (g->t[i].is_const || i == g->input || dt[i] != AIECG__DT_F32) continue;
        lv[nl].t = i;
        lv[nl].size = ((size_t)aiecg__nn_numel(sh[i].d, sh[i].ndim) * 4 + 63) & ~(size_t)63;
        if (lv[nl].size == 0) lv[nl].size = 64;
        lv[nl].first = -1;
        lv[nl].last = -1;
        nl++;
    }
    int *lidx = aiecg__calloc(nt, sizeof(int));
    if (!lidx) return AIECG_ERR_NOMEM;
    for (int i = 0; i < g->nt; i++) lidx[i] = -1;
    for (int i = 0; i < nl; i++) lidx[lv[i].t] = i;
    size_t scratch = 0;
    for (int i = 0; i < g->nn; i++) {
        const aiecg__nn_node *n = &g->n[i];
        for (int k = 0; k < n->nout; k++)
            if (n->out[k] >= 0 && lidx[n->out[k]] >= 0 && lv[lidx[n->out[k]]].first < 0)
                lv[lidx[n->out[k]]].first = lv[lidx[n->out[k]]].last = i;
        for (int k = 0; k < n->nin; k++)
            if (n->in[k] >= 0 && lidx[n->in[k]] >= 0) lv[lidx[n->in[k]]].last = i;
        size_t need = aiecg__nn_scratch_need(g, n, sh, fast);
        if (need > scratch) scratch = need;
    }
    if (lidx[g->output] >= 0) lv[lidx[g->output]].last = g->nn;
    aiecg__free(lidx);
    qsort(lv, (size_t)nl, sizeof *lv, cmp_live);
    size_t arena = 0;
    for (int i = 0; i < nl; i++) {
        int ns = 0;
        for (int j = 0; j < i; j++)
            if (!(lv[j].last < lv[i].first || lv[i].last < lv[j].first)) {
                sp[ns].off = off[lv[j].t];
                sp[ns].end = off[lv[j].t] + lv[j].size;
                ns++;
            }
        qsort(sp, (size_t)ns, sizeof *sp, cmp_span);
        size_t best = 0;
        for (int j = 0; j < ns; j++) {
            if (sp[j].off >= best + lv[i].size) break;
            if (sp[j].end > best) best = sp[j].end;
        }
        off[lv[i].t] = best;
        cap[lv[i].t] = lv[i].size;
        if (best + lv[i].size > arena) arena = best + lv[i].size;
    }
    *arena_out = arena;
    *scratch_out = scratch;
    return AIECG_OK;
}

/*
 * Records per pass. A fully convolutional ECG net at batch 16 has ~16x the
 * activations of batch 1 (ecg12: 4.9 MB against 0.31 MB), which fall out of
 * L2 between layers and made batch 16 slower per record than batch 1. When
 * the graph treats records independently, a batch runs as consecutive
 * sub-batches whose arena fits this budget (L2 is 1-2 MiB per core on
 * current x86 and Arm server cores); results are the same bits as any other
 * split (every kernel's per-element summation order ignores the batch). When
 * one record alone overflows the budget, splitting only re-reads the weights
 * once per pass, so the batch runs whole (Ribeiro, 7.5 MB a record: batch 16
 * 28.9 ms/record whole against 32.0 in passes of one; xresnet1d50 at 1000
 * samples, 1.35 MB a record: 5.0-5.3 in passes of one against 5.7-6.1 in
 * passes of nine; bench_nn --budget, docs/nn-engine.md).
 */
#define SUB_BATCH_BYTES ((size_t)2 << 20)

/* The values of a constant int64 tensor (count in *cnt), or NULL. */
static const int64_t *const_i64(const aiecg__nn_graph *g, int t, int64_t *cnt) {
    if (t < 0 || !g->t[t].is_const || g->t[t].dtype != AIECG__DT_I64 || !g->t[t].data) return NULL;
    *cnt = aiecg__nn_numel(g->t[t].dims, g->t[t].ndim < 0 ? 0 : g->t[t].ndim);
    return g->t[t].data;
}

static int norm_axis0(int64_t ax, int r) { return (ax < 0 ? ax + r : ax) == 0; }

/*
 * 1 when no node mixes, reorders or reduces records (dim 0), judged on the
 * shapes at batch 2 (s2) and 3 (s3): every float intermediate has dim 0 equal
 * to the batch in both, and each op is one whose output record b depends only
 * on input record b (per-op rules below; unknown ops: 0).
 */
static int batch_separable(const aiecg__nn_graph *g, const aiecg__nn_shape *s2, const aiecg__nn_shape *s3,
                           const int32_t *dt) {
    for (int i = 0; i < g->nt; i++) {
        if (g->t[i].is_const || dt[i] != AIECG__DT_F32) continue;
        if (s2[i].ndim < 1 || s2[i].d[0] != 2 || s3[i].ndim != s2[i].ndim || s3[i].d[0] != 3) return 0;
    }
    for (int i = 0; i < g->nn; i++) {
        const aiecg__nn_node *n = &g->n[i];
        const aiecg__nn_attr *a = &n->a;
        if (n->nout < 1 || n->out[0] < 0) return 0;
        int y = n->out[0], r = s2[y].ndim;
        if (dt[y] == AIECG__DT_I64) continue; /* shape arithmetic: re-evaluated per pass */
        for (int k = 1; k < n->nout; k++)
            if (n->out[k] >= 0) return 0;
        int64_t cnt = 0;
        const int64_t *v;
        /* inputs this function reads: 0 always, 1 for Pad/Gemm/MatMul, the last with a residual (a loaded
           model is range-checked, but planning must not trust a node to have them) */
        if (n->nin < 1 || n->in[0] < 0) return 0;
        int need1 = n->op == AIECG__OP_PAD || n->op == AIECG__OP_GEMM || n->op == AIECG__OP_MATMUL;
        if (need1 && (n->nin < 2 || n->in[1] < 0)) return 0;
        if (a->has_residual && (n->nin < 2 || n->in[n->nin - 1] < 0)) return 0;
        switch (n->op) {
        case AIECG__OP_CONV: case AIECG__OP_CONV_TRANSPOSE: case AIECG__OP_BATCHNORM:
        case AIECG__OP_MAXPOOL: case AIECG__OP_AVGPOOL: case AIECG__OP_GLOBAL_AVGPOOL:
        case AIECG__OP_GLOBAL_MAXPOOL:
        case AIECG__OP_RELU: case AIECG__OP_LEAKY_RELU: case AIECG__OP_ELU: case AIECG__OP_SELU:
        case AIECG__OP_SIGMOID: case AIECG__OP_HARD_SIGMOID: case AIECG__OP_HARD_SWISH: case AIECG__OP_TANH:
        case AIECG__OP_CLIP: case AIECG__OP_EXP: case AIECG__OP_LOG: case AIECG__OP_SQRT: case AIECG__OP_NEG:
        case AIECG__OP_ABS: case AIECG__OP_RECIPROCAL: case AIECG__OP_SOFTPLUS: case AIECG__OP_SOFTSIGN:
        case AIECG__OP_ERF: case AIECG__OP_FLOOR: case AIECG__OP_CEIL: case AIECG__OP_IDENTITY:
        case AIECG__OP_DROPOUT: case AIECG__OP_CAST: case AIECG__OP_FLATTEN: case AIECG__OP_RESHAPE:
        case AIECG__OP_SQUEEZE: case AIECG__OP_UNSQUEEZE: case AIECG__OP_REDUCE_MEAN: case AIECG__OP_REDUCE_MAX:
        case AIECG__OP_REDUCE_SUM: case AIECG__OP_CONSTANT_OF_SHAPE:
            /* per-record by definition, or (reshapes, reductions) by the dim-0 rule above */
            if (n->in[0] < 0 || g->t[n->in[0]].is_const) return 0;
            break;
        case AIECG__OP_SOFTMAX: case AIECG__OP_LOG_SOFTMAX:
            if (norm_axis0(a->axis, r)) return 0;
            break;
        case AIECG__OP_CONCAT: case AIECG__OP_GATHER:
            if (norm_axis0(a->axis, r)) return 0;
            if (n->op == AIECG__OP_GATHER && g->t[n->in[0]].is_const) return 0;
            break;
        case AIECG__OP_TRANSPOSE:
            if (a->nperm < 1 || a->perm[0] != 0) return 0;
            break;
        case AIECG__OP_PAD:
            v = const_i64(g, n->in[1], &cnt);
            if (!v || cnt != 2 * r || v[0] != 0 || v[r] != 0) return 0;
            break;
        case AIECG__OP_SLICE:
            v = const_i64(g, n->nin > 3 ? n->in[3] : -1, &cnt);
            if (!v) return 0; /* no axes: the first starts entry slices dim 0 */
            for (int64_t k = 0; k < cnt; k++)
                if (norm_axis0(v[k], r)) return 0;
            break;
        case AIECG__OP_GEMM:
            if (a->trans_a || !g->t[n->in[1]].is_const) return 0;
            if (n->nin > 2 && n->in[2] >= 0 && !(g->t[n->in[2]].is_const && (s2[n->in[2]].ndim < 2 || s2[n->in[2]].d[0] == 1)))
                return 0;
            break;
        case AIECG__OP_MATMUL:
            if (!g->t[n->in[1]].is_const || s2[n->in[1]].ndim > 2 || s2[n->in[0]].ndim < 2) return 0;
            break;
        case AIECG__OP_ADD: case AIECG__OP_SUB: case AIECG__OP_MUL: case AIECG__OP_DIV: case AIECG__OP_POW:
        case AIECG__OP_MAX: case AIECG__OP_MIN: case AIECG__OP_PRELU:
        case AIECG__OP_EXPAND:
            for (int k = 0; k < n->nin; k++) {
                int t = n->in[k];
                if (t < 0 || dt[t] != AIECG__DT_F32) continue;
                if (g->t[t].is_const ? !(s2[t].ndim < r || s2[t].d[0] == 1) : s2[t].ndim != r) return 0;
            }
            if (n->op == AIECG__OP_EXPAND && g->t[n->in[0]].is_const) return 0;
            break;
        default:
            return 0;
        }
        if (a->has_residual && (g->t[n->in[n->nin - 1]].is_const || s2[n->in[n->nin - 1]].ndim != r)) return 0;
    }
    return 1;
}

/* *sb = records per pass (0: run the batch whole). */
static aiecg_status choose_sub_batch(const aiecg__nn_graph *g, aiecg_session *s, size_t budget, live_rec *lv,
                                     span *sp, int64_t *sb, aiecg_error *err) {
    (void)err;
    *sb = 0;
    size_t nt = (size_t)g->nt;
    aiecg__nn_shape *s1 = aiecg__calloc(nt, sizeof *s1), *s2 = aiecg__calloc(nt, sizeof *s2),
                    *s3 = aiecg__calloc(nt, sizeof *s3);
    int32_t *dt = aiecg__calloc(nt, sizeof *dt);
    size_t *off = aiecg__calloc(nt, sizeof *off), *cap = aiecg__calloc(nt, sizeof *cap);
    aiecg_status st = AIECG_OK;
    int64_t d[AIECG_NN_MAX_DIMS];
    memcpy(d, s->max_in, sizeof d);
    if (!s1 || !s2 || !s3 || !dt || !off || !cap) {
        st = aiecg__error_set(err, AIECG_ERR_NOMEM, "session");
        goto done;
    }
    d[0] = 2;
    if (aiecg__nn_infer_all(g, d, s->in_ndim, s2, dt, NULL) != AIECG_OK) goto done;
    d[0] = 3;
    if (aiecg__nn_infer_all(g, d, s->in_ndim, s3, dt, NULL) != AIECG_OK) goto done;
    if (!batch_separable(g, s2, s3, dt)) goto done;
    d[0] = 1;
    if (aiecg__nn_infer_all(g, d, s->in_ndim, s1, dt, NULL) != AIECG_OK) goto done;
    size_t arena1 = 0, scratch1 = 0;
    if (plan_arena(g, s1, dt, s->fast, off, cap, lv, sp, &arena1, &scratch1) != AIECG_OK) {
        st = aiecg__error_set(err, AIECG_ERR_NOMEM, "session");
        goto done;
    }
    size_t per = arena1 ? arena1 : 1;
    s->rec_bytes = per;
    if (per > budget) goto done; /* one record overflows: passes would only re-read the weights */
    int64_t n = (int64_t)(budget / per);
    *sb = n < 1 ? 1 : n > s->max_in[0] ? s->max_in[0] : n;
done:
    aiecg__free(s1);
    aiecg__free(s2);
    aiecg__free(s3);
    aiecg__free(dt);
    aiecg__free(off);
    aiecg__free(cap);
    return st;
}
aiecg_status aiecg_session_new(const aiecg_model *m, const aiecg_session_options *opt,
                               aiecg_session **out, aiecg_error *err) {
    return aiecg__nn_session_new_budget(m, opt, SUB_BATCH_BYTES, out, err);
}

int64_t aiecg__nn_session_sub_batch(const aiecg_session *s) { return s ? s->sub_batch : 0; }

size_t aiecg__nn_session_record_bytes(const aiecg_session *s) { return s ? s->rec_bytes : 0; }

size_t aiecg__nn_session_packed_bytes(const aiecg_session *s) { return s ? s->wpack_floats * sizeof(float) : 0; }

aiecg_status aiecg__nn_session_new_budget(const aiecg_model *m, const aiecg_session_options *opt, size_t budget,
                                          aiecg_session **out, aiecg_error *err) {
    if (!m || !out) return aiecg__error_set(err, AIECG_ERR_INVALID_ARG, "session_new: NULL argument");
    *out = NULL;
    aiecg_session_options o = opt ? *opt : aiecg_session_options_default();
    const aiecg__nn_graph *g = &m->g;
    aiecg_session *s = aiecg__calloc(1, sizeof *s);
    if (!s) return aiecg__error_set(err, AIECG_ERR_NOMEM, "session");
    s->m = m;
    atomic_init(&s->cancel, 0);
    size_t nt = (size_t)g->nt;
    s->sh = aiecg__calloc(nt, sizeof *s->sh);
    s->dt = aiecg__calloc(nt, sizeof *s->dt);
    s->ptr = aiecg__calloc(nt, sizeof *s->ptr);
    s->off = aiecg__calloc(nt, sizeof *s->off);
    s->cap = aiecg__calloc(nt, sizeof *s->cap);
    s->ival = aiecg__calloc(nt * IVAL_SLOTS, sizeof *s->ival);
    live_rec *lv = aiecg__calloc(nt, sizeof *lv);
    span *sp = aiecg__calloc(nt + 1, sizeof *sp);
    aiecg_status st = AIECG_OK;
    if (!s->sh || !s->dt || !s->ptr || !s->off || !s->cap || !s->ival || !lv || !sp) {
        st = aiecg__error_set(err, AIECG_ERR_NOMEM, "session");
        goto fail;
    }
    uint32_t feat = aiecg_cpu_features();
    if (o.cpu_features) feat &= o.cpu_features;
    s->features = feat;
    s->fast = !o.force_generic;
    if (o.pool) {
        s->pool = o.pool;
    } else if (o.nthreads > 1) {
        if (aiecg_threadpool_new(o.nthreads, &s->own_pool) != AIECG_OK) {
            st = aiecg__error_set(err, AIECG_ERR_NOMEM, "thread pool");
            goto fail;
        }
        s->pool = s->own_pool;
    }
    s->nthreads = s->pool ? aiecg_threadpool_size(s->pool) : 1;
    const aiecg__nn_tensor *in = &g->t[g->input];
    if (in->ndim < 0) {
        st = aiecg__error_set(err, AIECG_ERR_MODEL, "model input has unknown rank");
        goto fail;
    }
    s->in_ndim = in->ndim;
    plan_dims(in, o.max_batch > 0 ? o.max_batch : 16, o.max_length > 0 ? o.max_length : DEFAULT_LENGTH,
              s->max_in);
    st = infer_all(g, s->max_in, s->in_ndim, s->sh, s->dt, s->ptr, s->ival, err);
    if (st) {
        aiecg__error_prefix(err, "planning for the largest input");
        goto fail;
    }
    /* Batch-separable graphs run in sub-batches whose activations stay in cache; the arena is planned for one. */
    s->sub_batch = s->max_in[0];
    if (s->in_ndim >= 1 && in->dims[0] < 0 && s->max_in[0] > 1) {
        int64_t sb = 0;
        st = choose_sub_batch(g, s, budget, lv, sp, &sb, err);
        if (st) goto fail;
        if (sb >= 1 && sb < s->max_in[0]) {
            int64_t d[AIECG_NN_MAX_DIMS];
            memcpy(d, s->max_in, sizeof d);
            d[0] = sb;
            st = infer_all(g, d, s->in_ndim, s->sh, s->dt, s->ptr, s->ival, err);
            if (st) goto fail;
            s->sub_batch = sb;
        }
    }
    size_t arena = 0, scratch = 0;
    if (plan_arena(g, s->sh, s->dt, s->fast, s->off, s->cap, lv, sp, &arena, &scratch) != AIECG_OK) {
        st = aiecg__error_set(err, AIECG_ERR_NOMEM, "session");
        goto fail;
    }
    if (arena > MAX_ARENA_BYTES || scratch > MAX_ARENA_BYTES / sizeof(float)) {
        st = aiecg__error_set(err, AIECG_ERR_LIMIT, "session arena of %zu bytes (+ %zu scratch floats) exceeds the %zu-byte limit", arena, scratch,
                              (size_t)MAX_ARENA_BYTES);
        goto fail;
    }
    s->arena_size = arena;
    s->arena = aiecg__aligned_alloc(arena ? arena : 64);
    s->scratch_floats = scratch;
    s->scratch = scratch ? aiecg__aligned_alloc(scratch * sizeof(float)) : NULL;
    if (!s->arena || (scratch && !s->scratch)) {
        st = aiecg__error_set(err, AIECG_ERR_NOMEM, "session arena (%zu bytes)", arena);
        goto fail;
    }
    for (int i = 0; i < g->nt; i++)
        if (s->cap[i]) s->ptr[i] = s->arena + s->off[i];
    /* 1-D conv weights in the layout of the wt kernels: packed once per model, shared by its sessions */
    int wants = 0;
    for (int i = 0; i < g->nn && !wants; i++) /* the DFT blocks live in the same cache */
        wants = aiecg__nn_conv_wt_floats(g, &g->n[i], s->sh, s->fast, s->features) > 0 ||
                aiecg__nn_conv_fft_at(g, &g->n[i], s->sh, s->fast, s->features);
    if (wants) {
        const aiecg__wt_cache *wc = aiecg__nn_model_wt(m);
        s->wpack = aiecg__calloc((size_t)g->nn, sizeof *s->wpack);
        s->wfft = aiecg__calloc((size_t)g->nn, sizeof *s->wfft);
        if (!wc || !s->wpack || !s->wfft) {
            st = aiecg__error_set(err, AIECG_ERR_NOMEM, "session: packed conv weights of the model");
            goto fail;
        }
        for (int i = 0; i < g->nn; i++) {
            if (wc->fft[i] && aiecg__nn_conv_fft_at(g, &g->n[i], s->sh, s->fast, s->features)) {
                s->wfft[i] = wc->fft[i];
                s->wpack_floats += (aiecg__conv_fft_model_floats(g, &g->n[i]) + 15) & ~(size_t)15;
            }
            size_t f = aiecg__nn_conv_wt_floats(g, &g->n[i], s->sh, s->fast, s->features);
            /* the model packed from the weights alone: used only where both agree on the size */
            if (!f || !wc->node[i] || f != aiecg__nn_conv_wt_model_floats(g, &g->n[i])) continue;
            s->wpack[i] = wc->node[i];
            s->wpack_floats += (f + 15) & ~(size_t)15;
        }
    }
    aiecg__free(lv);
    aiecg__free(sp);
    *out = s;
    return AIECG_OK;
fail:
    aiecg__free(lv);
    aiecg__free(sp);
    aiecg_session_free(s);
    return st;
}

void aiecg_session_cancel(aiecg_session *s) {
    if (s) atomic_store(&s->cancel, 1);
}

const char *aiecg_session_backend(const aiecg_session *s) {
    if (!s || !s->fast) return "generic";
#if defined(__x86_64__) || defined(_M_X64)
    if ((s->features & AIECG_CPU_AVX512F) && (s->features & AIECG_CPU_FMA)) return "avx512";
    if ((s->features & AIECG_CPU_AVX2) && (s->features & AIECG_CPU_FMA)) return "avx2";
#endif
#if defined(__aarch64__)
    if (s->features & AIECG_CPU_NEON) return "neon";
#endif
    return "generic";
}

size_t aiecg__nn_session_arena_bytes(const aiecg_session *s) {
    return s ? s->arena_size + s->scratch_floats * sizeof(float) : 0;
}

/* One pass of the graph over input of shape dims (a whole batch or a sub-batch). */
static aiecg_status run_pass(aiecg_session *s, const float *input, const int64_t *dims, int nd, aiecg_error *err) {
    const aiecg__nn_graph *g = &s->m->g;
    aiecg__nn_shape *sh = s->sh;
    /* constants keep their shapes from planning; the input and intermediates are re-inferred */
    sh[g->input].ndim = nd;
    for (int i = 0; i < nd; i++) sh[g->input].d[i] = dims[i];
    s->ptr[g->input] = (void *)(uintptr_t)input;
    aiecg__nn_exec x = {0};
    x.g = g;
    x.sh = sh;
    x.dt = s->dt;
    x.ptr = s->ptr;
    x.scratch = s->scratch;
    x.scratch_stride = s->scratch_floats;
    x.pool = s->pool;
    x.nthreads = s->nthreads;
    x.fast = s->fast;
    x.features = s->features;
    x.wpack = (const float *const *)s->wpack;
    x.wfft = (const float *const *)s->wfft;
    aiecg_status st = AIECG_OK;
    for (int i = 0; i < g->nn; i++) {
        if (atomic_load(&s->cancel)) {
            st = aiecg__error_set(err, AIECG_ERR_CANCELLED, "cancelled before node %d", i);
            break;
        }
        const aiecg__nn_node *n = &g->n[i];
        st = aiecg__nn_infer_node(g, n, sh, s->dt, s->ptr, err);
        if (st) break;
        int y = n->out[0];
        size_t bytes = (size_t)aiecg__nn_numel(sh[y].d, sh[y].ndim) * (s->dt[y] == AIECG__DT_I64 ? 8 : 4);
        size_t cap = s->dt[y] == AIECG__DT_I64 ? IVAL_SLOTS * 8 : s->cap[y];
        for (int k = 1; k < n->nout; k++) /* further outputs (LSTM Y_h, Y_c) are float */
            if (n->out[k] >= 0 && (size_t)aiecg__nn_numel(sh[n->out[k]].d, sh[n->out[k]].ndim) * 4 > s->cap[n->out[k]])
                bytes = (size_t)-1;
        if (bytes > cap || aiecg__nn_scratch_need(g, n, sh, s->fast) > s->scratch_floats) {
            st = aiecg__error_set(err, AIECG_ERR_SHAPE, "node '%s' (%s): output larger than planned", n->name,
                                  aiecg__nn_op_names[n->op]);
            break;
        }
        double t0 = s->prof ? prof_now() : 0.0;
        st = aiecg__nn_exec_node(&x, n, err);
        if (s->prof) s->prof[i] += prof_now() - t0;
        if (st) break;
    }
    s->ptr[g->input] = NULL;
    return st;
}

aiecg_status aiecg_session_run(aiecg_session *s, const float *input, const int64_t *in_dims,
                               int in_ndim, float *out, size_t out_cap,
                               int64_t out_dims[AIECG_NN_MAX_DIMS], int *out_ndim,
                               aiecg_error *err) {
    if (!s || !input || !in_dims || !out)
        return aiecg__error_set(err, AIECG_ERR_INVALID_ARG, "session_run: NULL argument");
    const aiecg__nn_graph *g = &s->m->g;
    const aiecg__nn_tensor *in = &g->t[g->input];
    if (in_ndim != s->in_ndim)
        return aiecg__error_set(err, AIECG_ERR_SHAPE, "input rank %d, model expects %d", in_ndim, s->in_ndim);
    for (int i = 0; i < in_ndim; i++) {
        if (in->dims[i] >= 0 && in_dims[i] != in->dims[i])
            return aiecg__error_set(err, AIECG_ERR_SHAPE, "input dim %d is %lld, model expects %lld", i,
                                    (long long)in_dims[i], (long long)in->dims[i]);
        if (in_dims[i] < 1 || in_dims[i] > s->max_in[i])
            return aiecg__error_set(err, AIECG_ERR_SHAPE,
                                    "input dim %d is %lld; session planned for 1..%lld (raise max_batch/max_length)",
                                    i, (long long)in_dims[i], (long long)s->max_in[i]);
    }
    atomic_store(&s->cancel, 0);
    /* batch-separable graphs: consecutive sub-batches of s->sub_batch records (same bits as one pass) */
    int64_t nb = in_ndim >= 1 ? in_dims[0] : 1; /* a rank-0 input is one pass */
    int64_t sb = in_ndim >= 1 && s->sub_batch >= 1 && s->sub_batch < nb ? s->sub_batch : nb;
    size_t rec_in = in_ndim >= 1 ? (size_t)aiecg__nn_numel(in_dims + 1, in_ndim - 1) : 1, per_out = 0;
    int64_t d[AIECG_NN_MAX_DIMS];
    memcpy(d, in_dims, (size_t)in_ndim * sizeof *d);
    const aiecg__nn_shape *ys = &s->sh[g->output];
    for (int64_t b0 = 0; b0 < nb; b0 += sb) {
        d[0] = nb - b0 < sb ? nb - b0 : sb;
        aiecg_status st = run_pass(s, input + (size_t)b0 * rec_in, d, in_ndim, err);
        if (st) return st;
        size_t ny = (size_t)aiecg__nn_numel(ys->d, ys->ndim);
        if (b0 == 0) {
            size_t total = sb < nb ? ny / (size_t)d[0] * (size_t)nb : ny;
            if (total > out_cap)
                return aiecg__error_set(err, AIECG_ERR_LIMIT, "output has %zu values, buffer holds %zu", total, out_cap);
            per_out = ny / (size_t)d[0];
        }
        float *o = out + (size_t)b0 * per_out;
        if (s->dt[g->output] == AIECG__DT_F32) memcpy(o, s->ptr[g->output], ny * sizeof(float));
        else
            for (size_t i = 0; i < ny; i++) o[i] = (float)((const int64_t *)s->ptr[g->output])[i];
    }
    if (out_dims) {
        for (int i = 0; i < ys->ndim; i++) out_dims[i] = ys->d[i];
        if (ys->ndim > 0) out_dims[0] = sb < nb ? nb : ys->d[0];
    }
    if (out_ndim) *out_ndim = ys->ndim;
    return AIECG_OK;
}
