/*
 * aiecg core: status codes, error detail, logging and allocator hooks, CPU
 * features and an explicit thread pool. Everything above this layer (io, dsp,
 * nn, interp) reports failure through aiecg_status values and an optional
 * caller-owned aiecg_error; nothing in the library prints, exits or aborts on
 * input. Status values come from one X-macro list so that the name and message
 * tables cannot drift from the enum (cf. libuv's errno map).
 */
#ifndef AIECG_CORE_H
#define AIECG_CORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(AIECG_SHARED_BUILD)
#define AIECG_API __declspec(dllexport)
#elif defined(__GNUC__)
#define AIECG_API __attribute__((visibility("default")))
#else
#define AIECG_API
#endif

#define AIECG_VERSION_MAJOR 0
#define AIECG_VERSION_MINOR 1
#define AIECG_VERSION_PATCH 0
#define AIECG_VERSION_STRING "0.1.0"

/* X(name, value, message). 0 is success, every failure is negative. */
#define AIECG_STATUS_LIST(X)                                                   \
    X(OK, 0, "success")                                                        \
    X(ERR_NOMEM, -1, "out of memory")                                          \
    X(ERR_INVALID_ARG, -2, "invalid argument")                                 \
    X(ERR_IO, -3, "input/output error")                                        \
    X(ERR_FORMAT, -4, "malformed input")                                       \
    X(ERR_UNSUPPORTED, -5, "unsupported feature")                              \
    X(ERR_CHECKSUM, -6, "checksum mismatch")                                   \
    X(ERR_RANGE, -7, "value out of range")                                     \
    X(ERR_NOT_FOUND, -8, "not found")                                          \
    X(ERR_TRUNCATED, -9, "input truncated")                                    \
    X(ERR_LIMIT, -10, "size limit exceeded")                                   \
    X(ERR_CANCELLED, -11, "operation cancelled")                               \
    X(ERR_SHAPE, -12, "tensor shape mismatch")                                 \
    X(ERR_MODEL, -13, "invalid model")                                         \
    X(ERR_NOT_MEASURABLE, -14, "not measurable")                               \
    X(ERR_INTERNAL, -15, "internal error")

typedef enum aiecg_status {
#define AIECG__STATUS_ENUM(name, value, msg) AIECG_##name = value,
    AIECG_STATUS_LIST(AIECG__STATUS_ENUM)
#undef AIECG__STATUS_ENUM
} aiecg_status;

/* Human-readable text for a status ("checksum mismatch"); never NULL. */
AIECG_API const char *aiecg_strerror(aiecg_status s);
/* Symbolic name without prefix ("ERR_CHECKSUM"); "UNKNOWN" for values not in the list. */
AIECG_API const char *aiecg_status_name(aiecg_status s);

/*
 * Caller-owned error detail. Functions that take an `aiecg_error *err` fill it
 * on failure (err may be NULL). `message` names what was wrong and where: the
 * file, the byte offset or line, the field. Thread-safe by construction: each
 * caller owns its struct.
 */
#define AIECG_ERROR_MESSAGE_MAX 512
typedef struct aiecg_error {
    aiecg_status status;                   /* same value the function returned */
    char message[AIECG_ERROR_MESSAGE_MAX]; /* NUL-terminated, may be empty */
} aiecg_error;

/* Clears an error struct (status OK, empty message). NULL is accepted. */
AIECG_API void aiecg_error_clear(aiecg_error *err);

/* ---- logging ---------------------------------------------------------- */
typedef enum aiecg_log_level {
    AIECG_LOG_DEBUG = 0,
    AIECG_LOG_INFO = 1,
    AIECG_LOG_WARN = 2,
    AIECG_LOG_ERROR = 3
} aiecg_log_level;

typedef void (*aiecg_log_fn)(void *user, aiecg_log_level level, const char *msg);

/* A log sink travels inside options structs; a zeroed logger discards messages. */
typedef struct aiecg_logger {
    aiecg_log_fn fn;  /* may be NULL: messages are dropped */
    void *user;       /* passed back to fn */
    aiecg_log_level min_level;
} aiecg_logger;

/* ---- allocator hooks -------------------------------------------------- */
/*
 * Replaces the allocator used by the whole library. Call it before creating
 * any aiecg object (memory must be freed by the allocator that made it); it is
 * the one process-wide setting, like uv_replace_allocator. Any NULL restores
 * the C library's functions. Not thread-safe against concurrent library use.
 */
typedef void *(*aiecg_malloc_fn)(size_t size);
typedef void *(*aiecg_realloc_fn)(void *ptr, size_t size);
typedef void (*aiecg_free_fn)(void *ptr);
AIECG_API aiecg_status aiecg_set_allocator(aiecg_malloc_fn m, aiecg_realloc_fn r, aiecg_free_fn f);

/* Frees memory the library handed out (strings, arrays). NULL is accepted. */
AIECG_API void aiecg_free(void *ptr);

/* ---- CPU features ----------------------------------------------------- */
enum {
    AIECG_CPU_SSE2 = 1u << 0,
    AIECG_CPU_AVX = 1u << 1,
    AIECG_CPU_AVX2 = 1u << 2,
    AIECG_CPU_FMA = 1u << 3,
    AIECG_CPU_F16C = 1u << 4,
    AIECG_CPU_AVX512F = 1u << 5,
    AIECG_CPU_NEON = 1u << 8,
    AIECG_CPU_NEON_FP16 = 1u << 9
};

/*
 * Features of the running CPU (detected once, cached; thread-safe). The
 * environment variable AIECG_CPU=generic masks every SIMD feature, so the same
 * binary can be made to run its reference kernels.
 */
AIECG_API uint32_t aiecg_cpu_features(void);
/* Writes a space-separated list of feature names into buf ("avx2 fma f16c"). */
AIECG_API void aiecg_cpu_features_string(uint32_t features, char *buf, size_t size);

/* ---- thread pool ------------------------------------------------------ */
/*
 * An explicit pool of worker threads. nthreads counts the calling thread, so a
 * pool of 1 runs everything inline and starts no thread. One parallel_for at a
 * time per pool (calls from several threads are serialised by the pool).
 */
typedef struct aiecg_threadpool aiecg_threadpool;
typedef void (*aiecg_task_fn)(void *ctx, int task, int thread);

/* nthreads <= 0 picks the number of online CPUs. */
AIECG_API aiecg_status aiecg_threadpool_new(int nthreads, aiecg_threadpool **out);
AIECG_API void aiecg_threadpool_free(aiecg_threadpool *pool);
AIECG_API int aiecg_threadpool_size(const aiecg_threadpool *pool);
/*
 * Runs fn(ctx, task, thread) for task in [0, ntasks), thread in [0, size),
 * and returns when all have finished. pool may be NULL (runs inline).
 */
AIECG_API void aiecg_threadpool_parallel_for(aiecg_threadpool *pool, int ntasks, aiecg_task_fn fn,
                                             void *ctx);

/* Library version string, e.g. "0.1.0". */
AIECG_API const char *aiecg_version(void);

#ifdef __cplusplus
}
#endif
#endif
