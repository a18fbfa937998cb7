/*
 * Internals shared by every module: the allocator indirection, error helpers
 * and logging. Library code allocates only through aiecg__malloc & co. so that
 * aiecg_set_allocator and the failure-injection tests see every allocation.
 */
#ifndef AIECG_CORE_INT_H
#define AIECG_CORE_INT_H

#include "aiecg/core.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define AIECG__PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define AIECG__PRINTF(a, b)
#endif

void *aiecg__malloc(size_t size);
void *aiecg__calloc(size_t n, size_t size); /* overflow-checked, zeroed */
void *aiecg__realloc(void *ptr, size_t size);
void aiecg__free(void *ptr);
char *aiecg__strdup(const char *s);                 /* NULL in -> NULL out */
char *aiecg__strndup(const char *s, size_t n);
/* n * size with overflow check: returns false on overflow. */
bool aiecg__mul_ok(size_t n, size_t size, size_t *out);
/* 64-byte aligned allocation for kernels; free with aiecg__aligned_free. */
void *aiecg__aligned_alloc(size_t size);
void aiecg__aligned_free(void *ptr);

/*
 * Records status and a printf-style message into err (if non-NULL) and
 * returns status, so call sites read `return aiecg__error_set(err, ...)`.
 */
aiecg_status aiecg__error_set(aiecg_error *err, aiecg_status status, const char *fmt, ...)
    AIECG__PRINTF(3, 4);
aiecg_status aiecg__error_setv(aiecg_error *err, aiecg_status status, const char *fmt, va_list ap);
/* Prepends "prefix: " to an existing message (e.g. the file name). */
void aiecg__error_prefix(aiecg_error *err, const char *fmt, ...) AIECG__PRINTF(2, 3);

void aiecg__log(const aiecg_logger *lg, aiecg_log_level level, const char *fmt, ...)
    AIECG__PRINTF(3, 4);

/* Whole file into memory (NUL-terminated for convenience; *len excludes it). max_size guards. */
aiecg_status aiecg__read_file(const char *path, size_t max_size, uint8_t **data, size_t *len,
                              aiecg_error *err);

#define AIECG__MIN(a, b) ((a) < (b) ? (a) : (b))
#define AIECG__MAX(a, b) ((a) > (b) ? (a) : (b))
#define AIECG__COUNTOF(a) (sizeof(a) / sizeof((a)[0]))

#endif
