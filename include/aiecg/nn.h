/*
 * The inference engine: loads an ONNX model or an optimised .aiem model file,
 * and runs it on the generic C, AVX2/FMA or NEON kernels, batched and
 * threaded. It knows nothing about ECGs; model metadata is an opaque list of
 * key/value strings that higher layers interpret.
 *
 * Thread-safety: an aiecg_model is immutable after load and may be shared by
 * any number of sessions on any threads. An aiecg_session is used by one
 * thread at a time (its run may itself use a thread pool).
 */
#ifndef AIECG_NN_H
#define AIECG_NN_H

#include "aiecg/core.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AIECG_NN_MAX_DIMS 8

typedef struct aiecg_model aiecg_model;
typedef struct aiecg_session aiecg_session;

/*
 * Loads a model from a path: a compiled .aiem file (memory-mapped, validated
 * offset by offset) or an .onnx file (imported and optimised in memory; needs
 * a build with ONNX support). Free with aiecg_model_free.
 */
AIECG_API aiecg_status aiecg_model_load(const char *path, aiecg_model **out, aiecg_error *err);
/* Loads from memory; the buffer is copied unless it outlives the model and keep_reference is 1. */
AIECG_API aiecg_status aiecg_model_load_memory(const void *data, size_t len, int keep_reference,
                                               aiecg_model **out, aiecg_error *err);
AIECG_API void aiecg_model_free(aiecg_model *m);

/* Metadata value for a key, or NULL. Keys used by aiecg: see docs/model-file.md. */
AIECG_API const char *aiecg_model_meta(const aiecg_model *m, const char *key);
AIECG_API int aiecg_model_meta_count(const aiecg_model *m);
AIECG_API void aiecg_model_meta_at(const aiecg_model *m, int i, const char **key, const char **value);

/* Shape of input/output 0; -1 marks a dynamic dimension (batch, length). */
AIECG_API int aiecg_model_input_shape(const aiecg_model *m, int64_t dims[AIECG_NN_MAX_DIMS]);
AIECG_API int aiecg_model_output_shape(const aiecg_model *m, int64_t dims[AIECG_NN_MAX_DIMS]);
/* FLOPs (2 x multiply-adds) of one run at the given input shape; 0 if unknown. */
AIECG_API double aiecg_model_flops(const aiecg_model *m, const int64_t *input_dims, int ndim);

/*
 * JSON description of the graph after optimisation: op counts, parameter
 * count, constant bytes, and one entry per node (op, name, fused activation,
 * residual). Caller frees with aiecg_free; NULL on out-of-memory.
 */
AIECG_API char *aiecg_model_describe(const aiecg_model *m);

typedef struct aiecg_session_options {
    int nthreads;              /* 0 or 1: single thread; ignored when pool is set */
    aiecg_threadpool *pool;    /* borrowed, may be shared by sessions used one at a time */
    uint32_t cpu_features;     /* mask applied to aiecg_cpu_features(); 0 = all detected */
    int force_generic;         /* 1: reference C kernels only */
    int64_t max_batch;         /* largest batch planned for (0 = 16) */
    int64_t max_length;        /* largest dynamic length planned for (0 = model's nominal) */
} aiecg_session_options;

AIECG_API aiecg_session_options aiecg_session_options_default(void);
/* Plans the run (layout, arena) for the largest shapes; no allocation happens during a run. */
AIECG_API aiecg_status aiecg_session_new(const aiecg_model *m, const aiecg_session_options *opt,
                                         aiecg_session **out, aiecg_error *err);
AIECG_API void aiecg_session_free(aiecg_session *s);
/*
 * Runs input 0 -> output 0. input is dense row-major float32 of shape
 * in_dims[0..in_ndim). Output is written to out (capacity out_cap floats);
 * its shape to out_dims/out_ndim. Results are identical for any thread count
 * and batch split. Returns AIECG_ERR_CANCELLED if aiecg_session_cancel was
 * called (checked between layers).
 */
AIECG_API aiecg_status aiecg_session_run(aiecg_session *s, const float *input, const int64_t *in_dims,
                                         int in_ndim, float *out, size_t out_cap,
                                         int64_t out_dims[AIECG_NN_MAX_DIMS], int *out_ndim,
                                         aiecg_error *err);
/* Asks a running session to stop at the next layer boundary; thread-safe. */
AIECG_API void aiecg_session_cancel(aiecg_session *s);
/* Name of the kernel path the session uses ("avx2", "neon", "generic"). */
AIECG_API const char *aiecg_session_backend(const aiecg_session *s);

typedef struct aiecg_compile_options {
    int fp16;                  /* store weights as IEEE half; FP32 accumulation */
    int nmeta;                 /* extra metadata key/value pairs */
    const char *const *meta_keys;
    const char *const *meta_values;
} aiecg_compile_options;

/* ONNX (path) -> optimised .aiem file (path). Needs a build with ONNX support. */
AIECG_API aiecg_status aiecg_model_compile(const char *onnx_path, const char *out_path,
                                           const aiecg_compile_options *opt, aiecg_error *err);

#ifdef __cplusplus
}
#endif
#endif
