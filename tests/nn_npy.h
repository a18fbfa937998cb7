/* Minimal NumPy .npy (v1/v2, little-endian float32, C order) reader for the nn tests. */
#ifndef AIECG_TEST_NN_NPY_H
#define AIECG_TEST_NN_NPY_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static float *npy_load(const char *path, int64_t *dims, int *ndim) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    unsigned char pre[10];
    if (fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0) { fclose(f); return NULL; }
    size_t hl = pre[6] == 1 ? (size_t)(pre[8] | pre[9] << 8) : 0;
    if (pre[6] != 1) {
        unsigned char b[2];
        if (fread(b, 1, 2, f) != 2) { fclose(f); return NULL; }
        hl = (size_t)(pre[8] | pre[9] << 8 | b[0] << 16 | b[1] << 24);
    }
    char *h = calloc(1, hl + 1);
    if (!h || fread(h, 1, hl, f) != hl || !strstr(h, "'<f4'") || strstr(h, "'fortran_order': True")) {
        free(h);
        fclose(f);
        return NULL;
    }
    char *p = strchr(strstr(h, "'shape'"), '(');
    *ndim = 0;
    int64_t n = 1;
    for (p++; *p && *p != ')';) {
        while (*p == ' ' || *p == ',') p++;
        if (*p == ')') break;
        dims[(*ndim)++] = strtoll(p, &p, 10);
        n *= dims[*ndim - 1];
    }
    free(h);
    float *d = malloc((size_t)n * 4 + 4);
    if (d && fread(d, 4, (size_t)n, f) != (size_t)n) { free(d); d = NULL; }
    fclose(f);
    return d;
}

#endif
