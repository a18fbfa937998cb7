/*
 * Internals of the inference engine: the graph IR shared by the ONNX importer,
 * the optimiser, the .aiem writer/loader and the session.
 *
 * Invariants of a graph handed to a session (checked by aiecg__nn_graph_check):
 *  - nodes are in topological order; every input index is a tensor that is a
 *    constant, a graph input, or an output of an earlier node (or -1 when an
 *    optional input is absent);
 *  - every tensor is float32 or int64; constants carry their data;
 *  - ops come from the one X-macro list below, so each op table is sized by
 *    it and a static_assert catches a missing entry.
 * Layout is ONNX's: dense row-major NCW / NCHW; convolutions have at most two
 * spatial dimensions (1-D is the H = 1 case).
 */
#ifndef AIECG_NN_INT_H
#define AIECG_NN_INT_H

#include "aiecg/nn.h"
#include "core/core_int.h"

#include <stdatomic.h>
#include <string.h>

/* X(enum, ONNX op_type). Internal-only ops use names ONNX does not have. */
#define AIECG__NN_OPS(X)                                                       \
    X(CONV, "Conv")                                                            \
    X(CONV_TRANSPOSE, "ConvTranspose")                                         \
    X(BATCHNORM, "BatchNormalization")                                         \
    X(RELU, "Relu")                                                            \
    X(LEAKY_RELU, "LeakyRelu")                                                 \
    X(PRELU, "PRelu")                                                          \
    X(ELU, "Elu")                                                              \
    X(SELU, "Selu")                                                            \
    X(SIGMOID, "Sigmoid")                                                      \
    X(HARD_SIGMOID, "HardSigmoid")                                             \
    X(HARD_SWISH, "HardSwish")                                                 \
    X(TANH, "Tanh")                                                            \
    X(CLIP, "Clip")                                                            \
    X(EXP, "Exp")                                                              \
    X(LOG, "Log")                                                              \
    X(SQRT, "Sqrt")                                                            \
    X(NEG, "Neg")                                                              \
    X(ABS, "Abs")                                                              \
    X(RECIPROCAL, "Reciprocal")                                                \
    X(SOFTPLUS, "Softplus")                                                    \
    X(SOFTSIGN, "Softsign")                                                    \
    X(ERF, "Erf")                                                              \
    X(FLOOR, "Floor")                                                          \
    X(CEIL, "Ceil")                                                            \
    X(SOFTMAX, "Softmax")                                                      \
    X(LOG_SOFTMAX, "LogSoftmax")                                               \
    X(MAXPOOL, "MaxPool")                                                      \
    X(AVGPOOL, "AveragePool")                                                  \
    X(GLOBAL_AVGPOOL, "GlobalAveragePool")                                     \
    X(GLOBAL_MAXPOOL, "GlobalMaxPool")                                         \
    X(ADD, "Add")                                                              \
    X(SUB, "Sub")                                                              \
    X(MUL, "Mul")                                                              \
    X(DIV, "Div")                                                              \
    X(POW, "Pow")                                                              \
    X(MAX, "Max")                                                              \
    X(MIN, "Min")                                                              \
    X(CONCAT, "Concat")                                                        \
    X(GEMM, "Gemm")                                                            \
    X(MATMUL, "MatMul")                                                        \
    X(FLATTEN, "Flatten")                                                      \
    X(RESHAPE, "Reshape")                                                      \
    X(SQUEEZE, "Squeeze")                                                      \
    X(UNSQUEEZE, "Unsqueeze")                                                  \
    X(TRANSPOSE, "Transpose")                                                  \
    X(IDENTITY, "Identity")                                                    \
    X(DROPOUT, "Dropout")                                                      \
    X(PAD, "Pad")                                                              \
    X(REDUCE_MEAN, "ReduceMean")                                               \
    X(REDUCE_MAX, "ReduceMax")                                                 \
    X(REDUCE_SUM, "ReduceSum")                                                 \
    X(SLICE, "Slice")                                                          \
    X(SHAPE, "Shape")                                                          \
    X(GATHER, "Gather")                                                        \
    X(CAST, "Cast")                                                            \
    X(CONSTANT_OF_SHAPE, "ConstantOfShape")                                    \
    X(EXPAND, "Expand")                                                        \
    X(LSTM, "LSTM")                                                            \
    X(GRU, "GRU")                                                              \
    X(RNN, "RNN")

typedef enum aiecg__nn_op {
#define AIECG__NN_OP_ENUM(e, s) AIECG__OP_##e,
    AIECG__NN_OPS(AIECG__NN_OP_ENUM)
#undef AIECG__NN_OP_ENUM
    AIECG__OP_COUNT
} aiecg__nn_op;

extern const char *const aiecg__nn_op_names[AIECG__OP_COUNT];

enum { AIECG__DT_F32 = 1, AIECG__DT_I64 = 7 }; /* ONNX TensorProto codes */

/* Epilogue activation fused into Conv/Gemm/MatMul/elementwise output. */
#define AIECG__NN_ACTS(X)                                                      \
    X(NONE) X(RELU) X(LEAKY_RELU) X(CLIP) X(SIGMOID) X(HARD_SIGMOID)           \
    X(HARD_SWISH) X(TANH) X(ELU)

typedef enum aiecg__nn_act {
#define AIECG__NN_ACT_ENUM(e) AIECG__ACT_##e,
    AIECG__NN_ACTS(AIECG__NN_ACT_ENUM)
#undef AIECG__NN_ACT_ENUM
    AIECG__ACT_COUNT
} aiecg__nn_act;

/*
 * Parsed attributes of a node: one flat plain-old-data struct (fixed-width
 * fields only) so that the .aiem file can store it verbatim and the loader can
 * range-check each field.
 */
typedef struct aiecg__nn_attr {
    int64_t kernel[2], stride[2], dilation[2];
    int64_t pad_begin[2], pad_end[2], output_padding[2];
    int64_t perm[AIECG_NN_MAX_DIMS];   /* Transpose */
    int64_t axes[AIECG_NN_MAX_DIMS];   /* Reduce*, Squeeze, Unsqueeze (attribute form) */
    int64_t axis;                      /* Softmax, Concat, Flatten, Gather */
    int32_t nspatial;                  /* 1 or 2 for conv/pool */
    int32_t group;
    int32_t auto_pad;                  /* 0 NOTSET, 1 SAME_UPPER, 2 SAME_LOWER, 3 VALID */
    int32_t ceil_mode, count_include_pad;
    int32_t nperm, naxes, keepdims, noop_with_empty_axes;
    int32_t trans_a, trans_b;
    int32_t pad_mode;                  /* 0 constant, 1 reflect, 2 edge */
    int32_t cast_to;
    int32_t allowzero;
    int32_t act;                       /* aiecg__nn_act: fused epilogue */
    int32_t has_residual;              /* conv/gemm: last input is added before act */
    int32_t fp_has_min, fp_has_max;    /* Clip given by attribute/constant */
    float alpha, beta, gamma, eps;     /* LeakyRelu/Elu/Selu/HardSigmoid/Gemm/BN */
    float act_a, act_b;                /* parameters of the fused act */
    float clip_min, clip_max;
    float const_value;                 /* ConstantOfShape, Pad constant */
    int32_t softmax_legacy;            /* opset < 13: coerce to 2-D at axis */
    int32_t storage_order;
    int32_t has_shape_end;             /* Shape (opset 15): end given */
    int64_t shape_start, shape_end;
} aiecg__nn_attr;

/*
 * LSTM / GRU / RNN (ops_rnn.c) keep their attributes in existing fields of
 * aiecg__nn_attr, so the .aiem node record keeps its version-1 layout:
 *   axis        hidden_size
 *   pad_mode    direction: 0 forward, 1 reverse, 2 bidirectional
 *   allowzero   layout: 0 X [T,B,I] / Y [T,D,B,H]; 1 X [B,T,I] / Y [B,T,D,H]
 *   ceil_mode   LSTM input_forget, GRU linear_before_reset
 *   fp_has_max  clip given; clip_max = clip (> 0)
 *   nperm       activations per direction x directions; perm[i] = aiecg__rnn_act
 *   naxes       = nperm; axes[i] = IEEE bits of activation i's alpha (low 32)
 *               and beta (high 32): aiecg__rnn_ab_pack / _alpha / _beta
 * Nodes have 3 (LSTM) or 2 (GRU, RNN) outputs; out[0] (Y) always exists (the
 * importer names an internal tensor when the model omits it), Y_h / Y_c may be -1.
 */
#define AIECG__RNN_ACTS(X)                                                     \
    X(SIGMOID, "Sigmoid") X(TANH, "Tanh") X(RELU, "Relu") X(AFFINE, "Affine")  \
    X(LEAKY_RELU, "LeakyRelu") X(THRESHOLDED_RELU, "ThresholdedRelu")          \
    X(SCALED_TANH, "ScaledTanh") X(HARD_SIGMOID, "HardSigmoid") X(ELU, "Elu")  \
    X(SOFTSIGN, "Softsign") X(SOFTPLUS, "Softplus")

typedef enum aiecg__rnn_act {
#define AIECG__RNN_ACT_ENUM(e, s) AIECG__RNN_ACT_##e,
    AIECG__RNN_ACTS(AIECG__RNN_ACT_ENUM)
#undef AIECG__RNN_ACT_ENUM
    AIECG__RNN_ACT_COUNT
} aiecg__rnn_act;

static inline int64_t aiecg__rnn_ab_pack(float alpha, float beta) {
    uint32_t a, b;
    memcpy(&a, &alpha, 4);
    memcpy(&b, &beta, 4);
    return (int64_t)(((uint64_t)b << 32) | a);
}
static inline float aiecg__rnn_alpha(int64_t ab) {
    uint32_t a = (uint32_t)((uint64_t)ab & 0xffffffffu);
    float f;
    memcpy(&f, &a, 4);
    return f;
}
static inline float aiecg__rnn_beta(int64_t ab) {
    uint32_t b = (uint32_t)((uint64_t)ab >> 32);
    float f;
    memcpy(&f, &b, 4);
    return f;
}

typedef struct aiecg__nn_tensor {
    char *name;
    int32_t dtype;                     /* AIECG__DT_* */
    int32_t ndim;
    int64_t dims[AIECG_NN_MAX_DIMS];   /* -1: dynamic (graph inputs) or unknown */
    int is_const;
    void *data;                        /* constants: float[] or int64_t[] */
    int data_owned;                    /* data was allocated (else mapped) */
    int is_fp16;                       /* only while writing: store as half */
} aiecg__nn_tensor;

typedef struct aiecg__nn_node {
    int32_t op;                        /* aiecg__nn_op */
    char *name;
    int32_t nin, nout;
    int32_t *in, *out;                 /* tensor indices; -1 = absent optional */
    aiecg__nn_attr a;
} aiecg__nn_node;

typedef struct aiecg__nn_graph {
    aiecg__nn_tensor *t;
    int nt, cap_t;
    aiecg__nn_node *n;
    int nn, cap_n;
    int input, output;                 /* the one input / output tensor */
    int nmeta;
    char **meta_k, **meta_v;
} aiecg__nn_graph;

/* Conv weights re-laid once per model for the wt kernels (aiecg__pack_wt), shared read-only by its sessions. */
typedef struct aiecg__wt_cache {
    float *buf;
    const float **node;                /* per node: its panels in buf, or NULL */
    const float **fft;                 /* per node: its DFT matrices and transformed weights (conv_fft.c), or NULL */
    size_t floats;
} aiecg__wt_cache;

struct aiecg_model {
    aiecg__nn_graph g;
    void *map;                         /* mmap'd .aiem (or NULL) */
    size_t map_len;
    uint8_t *owned_buf;                /* copied buffer (load_memory) */
    float *f32_weights;                /* FP32 copy of fp16 weights, when any */
    aiecg__wt_cache *_Atomic wt;       /* built by the first session that wants it (model.c), then read-only */
};

/* model.c: the model's packed conv weights, built on first use (thread-safe); NULL on OOM or none. */
const aiecg__wt_cache *aiecg__nn_model_wt(const aiecg_model *m);

/* graph.c */
void aiecg__nn_graph_init(aiecg__nn_graph *g);
void aiecg__nn_graph_free(aiecg__nn_graph *g);
int aiecg__nn_add_tensor(aiecg__nn_graph *g, const char *name); /* -1 on OOM */
int aiecg__nn_find_tensor(const aiecg__nn_graph *g, const char *name);
aiecg__nn_node *aiecg__nn_add_node(aiecg__nn_graph *g, int op, const char *name, int nin, int nout);
aiecg_status aiecg__nn_add_meta(aiecg__nn_graph *g, const char *k, const char *v);
int64_t aiecg__nn_numel(const int64_t *dims, int ndim);
aiecg_status aiecg__nn_graph_check(const aiecg__nn_graph *g, aiecg_error *err);
int aiecg__nn_op_from_name(const char *s);
void aiecg__nn_attr_default(aiecg__nn_attr *a);
/* Removes nodes whose outputs are unused and tensors nobody refers to. */
aiecg_status aiecg__nn_compact(aiecg__nn_graph *g);

/* onnx_import.c */
aiecg_status aiecg__nn_import_onnx(const uint8_t *data, size_t len, aiecg__nn_graph *g,
                                   aiecg_error *err);

/* optimize.c */
aiecg_status aiecg__nn_optimize(aiecg__nn_graph *g, aiecg_error *err);

/* aiem.c */
aiecg_status aiecg__nn_write_aiem(const aiecg__nn_graph *g, int fp16, const char *path,
                                  aiecg_error *err);
aiecg_status aiecg__nn_load_aiem(aiecg_model *m, const uint8_t *data, size_t len,
                                 aiecg_error *err);

/* fp16.c */
uint16_t aiecg__f32_to_f16(float f);
float aiecg__f16_to_f32(uint16_t h);
void aiecg__f16_to_f32_array(const uint16_t *src, float *dst, size_t n, uint32_t features);

/* shape.c: output shapes; `ival` gives int64 tensor values (NULL if unknown). */
typedef struct aiecg__nn_shape {
    int32_t ndim;
    int64_t d[AIECG_NN_MAX_DIMS];
} aiecg__nn_shape;

/* Conv geometry, resolved for a concrete input shape. */
typedef struct aiecg__conv_geom {
    int64_t n, cin, cout, group;
    int64_t ih, iw, oh, ow, kh, kw;
    int64_t sh, sw, dh, dw, ph, pw;    /* pads at the beginning */
} aiecg__conv_geom;

/* Shape and dtype of every output of node n, from the shapes (and, for int64
 * tensors, the values in ptr[]) of its inputs. */
aiecg_status aiecg__nn_infer_node(const aiecg__nn_graph *g, const aiecg__nn_node *n,
                                  aiecg__nn_shape *sh, int32_t *dt, void *const *ptr,
                                  aiecg_error *err);

/* Shapes/dtypes of every tensor for the given input dims (session.c). */
aiecg_status aiecg__nn_infer_all(const aiecg__nn_graph *g, const int64_t *in_dims, int in_ndim,
                                 aiecg__nn_shape *sh, int32_t *dt, aiecg_error *err);
/* Accumulate per-node run time into per_node_seconds[g.nn] (NULL stops); for bench_nn. */
void aiecg__nn_session_profile(aiecg_session *s, double *per_node_seconds);
/* Bytes of arena + scratch a session planned (for RSS reporting). */
size_t aiecg__nn_session_arena_bytes(const aiecg_session *s);
/* aiecg_session_new with the sub-batch working-set budget given (bytes; tests, bench). */
aiecg_status aiecg__nn_session_new_budget(const aiecg_model *m, const aiecg_session_options *opt, size_t budget,
                                          aiecg_session **out, aiecg_error *err);
/* Records per pass through the graph (< the planned batch when the batch is split). */
int64_t aiecg__nn_session_sub_batch(const aiecg_session *s);
/* Arena bytes of one record when the graph is batch-separable (0 otherwise). */
size_t aiecg__nn_session_record_bytes(const aiecg_session *s);
/* Bytes of packed conv weights the session reads (owned by the model, shared by all its sessions). */
size_t aiecg__nn_session_packed_bytes(const aiecg_session *s);

/* Per-run execution state: per-tensor shapes and data pointers. */
typedef struct aiecg__nn_exec {
    const aiecg__nn_graph *g;
    aiecg__nn_shape *sh;
    int32_t *dt;
    void **ptr;
    float *scratch;                    /* per-thread scratch, scratch_stride floats each */
    size_t scratch_stride;
    aiecg_threadpool *pool;
    int nthreads;
    int fast;                          /* 1: SIMD kernels (gemm-based conv) */
    uint32_t features;
    const float *const *wpack;         /* per node: weights packed by aiecg__nn_conv_wt_pack, or NULL */
    const float *const *wfft;          /* per node: aiecg__conv_fft_pack's block when the conv runs by DFT, or NULL */
} aiecg__nn_exec;

/* ops_rnn.c: LSTM / GRU / RNN nodes (dispatched from aiecg__nn_exec_node). */
aiecg_status aiecg__nn_rnn_exec(aiecg__nn_exec *x, const aiecg__nn_node *n, aiecg_error *err);
/* Scratch floats an LSTM / GRU / RNN node needs (reference and fast path). */
size_t aiecg__nn_rnn_scratch(const aiecg__nn_node *n, const aiecg__nn_shape *sh, int fast);
/* Activation code for an ONNX RNN activation name (case-sensitive), or -1. */
int aiecg__rnn_act_from_name(const char *s, size_t len);
/* ONNX default alpha / beta of an RNN activation. */
void aiecg__rnn_act_defaults(int act, float *alpha, float *beta);

/* conv_fft.c: long 1-D convs by overlap-save DFT blocks of AIECG__FFT_N samples (three GEMM stages). */
#define AIECG__FFT_N 64
int aiecg__conv_fft_model_ok(const aiecg__nn_graph *g, const aiecg__nn_node *n); /* from the weights alone */
size_t aiecg__conv_fft_model_floats(const aiecg__nn_graph *g, const aiecg__nn_node *n);
void aiecg__conv_fft_pack(const aiecg__nn_graph *g, const aiecg__nn_node *n, float *dst);
int aiecg__conv_fft_use(const aiecg__conv_geom *geo, int fast, uint32_t features); /* shape + CPU rule */
size_t aiecg__conv_fft_scratch(const aiecg__conv_geom *geo);
/* ops_ref.c: node n runs by DFT at these shapes on this path (conv_wt_geom + both rules above). */
int aiecg__nn_conv_fft_at(const aiecg__nn_graph *g, const aiecg__nn_node *n, const aiecg__nn_shape *sh, int fast,
                          uint32_t features);
void aiecg__conv_fft_run(aiecg__nn_exec *x, const aiecg__conv_geom *geo, const float *px, const float *wf,
                         const float *bias, const float *res, float *py, int act, float act_a, float act_b);

/* Runs one node (shapes already inferred, outputs allocated). */
aiecg_status aiecg__nn_exec_node(aiecg__nn_exec *x, const aiecg__nn_node *n, aiecg_error *err);
/* Scratch floats node n needs per thread on the fast path (0 if none). */
size_t aiecg__nn_scratch_need(const aiecg__nn_graph *g, const aiecg__nn_node *n,
                              const aiecg__nn_shape *sh, int fast);
/* Multiply-adds x 2 of node n at the given shapes. */
double aiecg__nn_node_flops(const aiecg__nn_graph *g, const aiecg__nn_node *n,
                            const aiecg__nn_shape *sh);
/* Resolves conv/pool geometry (pads incl. auto_pad) for node n at input shape xs. */
aiecg_status aiecg__nn_conv_geom(const aiecg__nn_node *n, const aiecg__nn_shape *xs, int64_t cout,
                                 int64_t kh, int64_t kw, int transpose, aiecg__conv_geom *geo,
                                 aiecg_error *err);

/* ---- kernels ---------------------------------------------------------- */

/* ops_ref.c: plain C reference conv; out = act(conv(x,w)+b [+res]). */
void aiecg__conv_ref(const aiecg__conv_geom *g, const float *x, const float *w, const float *b,
                     const float *res, float *y, int act, float act_a, float act_b);
float aiecg__act_apply(int act, float v, float a, float b);

/*
 * C[m][n] = sum_k A[m][k] B[k][n] (+ bias, residual, act), row-major with strides.
 * Columns may be split into segments of `seg` columns (a batch folded into N):
 * column j lives in segment q = j / seg at offset t = j % seg, and segment q of
 * B rows / C / residual starts q * b_seg / c_seg / r_seg elements further.
 * Only columns [col_begin, col_end) are computed (tasks own disjoint ranges).
 */
typedef struct aiecg__gemm_args {
    int64_t m, n, k;
    const float *a; int64_t lda;       /* A[m][k] */
    const float *b; int64_t ldb;       /* B[k][n] */
    const float *const *brow;          /* optional: row p of B starts at brow[p] */
    float *c; int64_t ldc;
    const float *bias_m;               /* per-row bias, or NULL */
    const float *bias_n;               /* per-column bias (global column), or NULL */
    const float *res; int64_t ldr;     /* residual added before act, or NULL */
    int act; float act_a, act_b;
    int64_t seg, b_seg, c_seg, r_seg;  /* seg 0: one segment of n columns */
    int64_t bstride;                   /* the wt kernels only: B(p, j) at brow[p][j * bstride] (0, 1: contiguous) */
    int64_t col_begin, col_end;        /* col_end 0: all n */
} aiecg__gemm_args;

static inline int64_t aiecg__gemm_seglen(const aiecg__gemm_args *g) { return g->seg > 0 ? g->seg : (g->n > 0 ? g->n : 1); }
static inline const float *aiecg__gemm_b(const aiecg__gemm_args *g, int64_t p, int64_t j) {
    int64_t s = aiecg__gemm_seglen(g), q = j / s;
    return (g->brow ? g->brow[p] : g->b + p * g->ldb) + q * g->b_seg + (j - q * s);
}
static inline float *aiecg__gemm_c(const aiecg__gemm_args *g, int64_t i, int64_t j) {
    int64_t s = aiecg__gemm_seglen(g), q = j / s;
    return g->c + q * g->c_seg + i * g->ldc + (j - q * s);
}
static inline const float *aiecg__gemm_r(const aiecg__gemm_args *g, int64_t i, int64_t j) {
    int64_t s = aiecg__gemm_seglen(g), q = j / s;
    return g->res + q * g->r_seg + i * g->ldr + (j - q * s);
}
/* The output-channels-along-lanes conv kernels (aiecg__gemm_*_wt) walk C's columns from *j in tiles of at most
 * nr columns that never cross a segment (a record of the batch), at most tb tiles per block: tile u starts at
 * column tj[u], holds tn[u] columns and reads B from offset toff[u] of each row pointer (bstride applied). Returns the number of
 * tiles and advances *j past them. Shared by the AVX-512, AVX2 and NEON drivers. */
/* The B column stride the wt kernels take as a compile-time constant: 2 or 4 (a strided conv read in place), else 1. */
static inline int aiecg__wt_bstride(const aiecg__gemm_args *g) {
    return g->bstride == 2 || g->bstride == 4 ? (int)g->bstride : 1;
}
/* L2 blocking of the wt kernels: rows (a multiple of `lanes`, at least one panel) of a panel group whose packed
 * weights fit in 1 MiB; a group runs over all column blocks before the next one. */
static inline int64_t aiecg__wt_group_rows(const aiecg__gemm_args *g, int64_t lanes) {
    int64_t gm = ((int64_t)1 << 20) / (g->k * lanes * (int64_t)sizeof(float)) * lanes;
    return gm < lanes ? lanes : gm;
}
static inline int aiecg__wt_col_block(const aiecg__gemm_args *g, int64_t *j, int64_t ce, int tb, int nr, int64_t *tj,
                                      int64_t *toff, int *tn) {
    int64_t s = aiecg__gemm_seglen(g), xs = aiecg__wt_bstride(g);
    int nt = 0;
    for (; nt < tb && *j < ce; nt++) {
        int64_t q = *j / s, t = *j - q * s;
        int64_t w = ce - *j < s - t ? ce - *j : s - t;
        tn[nt] = (int)(w < nr ? w : nr);
        tj[nt] = *j;
        toff[nt] = q * g->b_seg + t * xs; /* column t of segment q is t * xs into the row */
        *j += tn[nt];
    }
    return nt;
}
/* Transposed store of a block's raw sums: tile[u][r][l] (rows of nr x lanes floats) is C[m0 + l][tj[u] + r] for
 * l < mr, r < tn[u]. */
static inline void aiecg__wt_store(const aiecg__gemm_args *g, int64_t m0, int mr, int nt, const int64_t *tj,
                                   const int *tn, const float *tile, int nr, int lanes) {
    for (int u = 0; u < nt; u++) {
        float *c = aiecg__gemm_c(g, m0, tj[u]);
        const float *tu = tile + (size_t)u * (size_t)nr * (size_t)lanes;
        for (int l = 0; l < mr; l++)
            for (int r = 0; r < tn[u]; r++) c[l * g->ldc + r] = tu[(size_t)r * (size_t)lanes + (size_t)l];
    }
}
/* Applies bias/residual/activation to columns [j0, j1) of row i, segment by segment (plain C). */
void aiecg__gemm_epilogue_ref(const aiecg__gemm_args *g, int64_t i, int64_t j0, int64_t j1);

void aiecg__gemm_ref(const aiecg__gemm_args *g);
#if defined(__x86_64__) || defined(_M_X64)
void aiecg__gemm_avx2(const aiecg__gemm_args *g);
void aiecg__gemm_avx512(const aiecg__gemm_args *g); /* gemm_avx512.c, target attributes */
/* Short-N GEMM with output rows along the lanes; wp = A packed by aiecg__pack_wt; same bits as gemm_avx512. */
void aiecg__gemm_avx512_wt(const aiecg__gemm_args *g, const float *wp);
/* Its AVX2+FMA twin (6 samples x 16 channels, same packed layout); same bits as gemm_avx2. */
void aiecg__gemm_avx2_wt(const aiecg__gemm_args *g, const float *wp);
void aiecg__f16_to_f32_f16c(const uint16_t *src, float *dst, size_t n);
#endif
#if defined(__aarch64__)
void aiecg__gemm_neon(const aiecg__gemm_args *g);
/* NEON twin of aiecg__gemm_avx2_wt (same packed layout); same bits as gemm_neon. */
void aiecg__gemm_neon_wt(const aiecg__gemm_args *g, const float *wp);
#endif

typedef void (*aiecg__gemm_fn)(const aiecg__gemm_args *g);

/* A[m][k] (row stride lda) as 32-row panels [ceil(m/32)][k][32], zero rows past m (ops_ref.c). */
#define AIECG__WT_ROWS 32
/* Shortest conv output (samples per record) that takes aiecg__gemm_avx2_wt / _neon_wt (and only with > 1 tap). */
#define AIECG__WT_AVX2_MIN_OW 96
void aiecg__pack_wt(const float *a, int64_t m, int64_t k, int64_t lda, float *dst);
/* Floats of packed weights conv node n wants for the short-output kernel at shapes sh (0: none). */
size_t aiecg__nn_conv_wt_floats(const aiecg__nn_graph *g, const aiecg__nn_node *n, const aiecg__nn_shape *sh,
                                int fast, uint32_t features);
/* Floats of node n's packed weights from its weight tensor alone (0: not a wt conv); the model-level cache. */
size_t aiecg__nn_conv_wt_model_floats(const aiecg__nn_graph *g, const aiecg__nn_node *n);
/* Packs node n's weights (aiecg__nn_conv_wt_model_floats floats at dst, 64-byte aligned). */
void aiecg__nn_conv_wt_pack(const aiecg__nn_graph *g, const aiecg__nn_node *n, float *dst);

/* ops_ref.c: runs a GEMM on the session's best kernel (threaded over column chunks). */
void aiecg__nn_gemm(aiecg__nn_exec *x, const aiecg__gemm_args *ga);
/* The same on weights packed by aiecg__pack_wt (wp), with the wt kernel of the session's path. */
void aiecg__nn_gemm_wt(aiecg__nn_exec *x, const aiecg__gemm_args *ga, const float *wp);

#endif
