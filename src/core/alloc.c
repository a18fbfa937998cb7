/*
 * The allocator indirection. One process-wide hook (like libuv's
 * uv_replace_allocator) so embedders can route memory to their own heap and
 * tests can inject failures; everything else in the library is per object.
 */
#include "core_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct {
    aiecg_malloc_fn m;
    aiecg_realloc_fn r;
    aiecg_free_fn f;
} allocator = {malloc, realloc, free};

aiecg_status aiecg_set_allocator(aiecg_malloc_fn m, aiecg_realloc_fn r, aiecg_free_fn f) {
    if (!m || !r || !f) {
        allocator.m = malloc;
        allocator.r = realloc;
        allocator.f = free;
    } else {
        allocator.m = m;
        allocator.r = r;
        allocator.f = f;
    }
    return AIECG_OK;
}

void *aiecg__malloc(size_t size) { return allocator.m(size ? size : 1); }

bool aiecg__mul_ok(size_t n, size_t size, size_t *out) {
    if (size && n > SIZE_MAX / size) return false;
    *out = n * size;
    return true;
}

void *aiecg__calloc(size_t n, size_t size) {
    size_t total;
    if (!aiecg__mul_ok(n, size, &total)) return NULL;
    void *p = aiecg__malloc(total);
    if (p) memset(p, 0, total ? total : 1);
    return p;
}

void *aiecg__realloc(void *ptr, size_t size) { return allocator.r(ptr, size ? size : 1); }

void aiecg__free(void *ptr) {
    if (ptr) allocator.f(ptr);
}

void aiecg_free(void *ptr) { aiecg__free(ptr); }

char *aiecg__strndup(const char *s, size_t n) {
    if (!s) return NULL;
    size_t len = strnlen(s, n);
    char *d = aiecg__malloc(len + 1);
    if (!d) return NULL;
    memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

char *aiecg__strdup(const char *s) { return s ? aiecg__strndup(s, strlen(s)) : NULL; }

/* Over-allocate and keep the raw pointer just before the aligned block. */
void *aiecg__aligned_alloc(size_t size) {
    const size_t align = 64;
    if (size > SIZE_MAX - align - sizeof(void *)) return NULL;
    unsigned char *raw = aiecg__malloc(size + align + sizeof(void *));
    if (!raw) return NULL;
    uintptr_t p = ((uintptr_t)(raw + sizeof(void *)) + align - 1) & ~(uintptr_t)(align - 1);
    ((void **)p)[-1] = raw;
    return (void *)p;
}

void aiecg__aligned_free(void *ptr) {
    if (ptr) aiecg__free(((void **)ptr)[-1]);
}

aiecg_status aiecg__read_file(const char *path, size_t max_size, uint8_t **data, size_t *len,
                              aiecg_error *err) {
    *data = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return aiecg__error_set(err, AIECG_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = aiecg__malloc(cap + 1);
    if (!buf) {
        fclose(f);
        return aiecg__error_set(err, AIECG_ERR_NOMEM, "%s: out of memory", path);
    }
    for (;;) {
        if (n == cap) {
            if (cap >= max_size) {
                aiecg__free(buf);
                fclose(f);
                return aiecg__error_set(err, AIECG_ERR_LIMIT, "%s: file larger than %zu bytes", path,
                                        max_size);
            }
            size_t ncap = cap * 2 > max_size ? max_size : cap * 2;
            uint8_t *nb = aiecg__realloc(buf, ncap + 1);
            if (!nb) {
                aiecg__free(buf);
                fclose(f);
                return aiecg__error_set(err, AIECG_ERR_NOMEM, "%s: out of memory", path);
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        aiecg__free(buf);
        return aiecg__error_set(err, AIECG_ERR_IO, "%s: read error", path);
    }
    buf[n] = 0;
    *data = buf;
    *len = n;
    return AIECG_OK;
}
