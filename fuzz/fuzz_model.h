/*
 * Shared by fuzz_aiem and fuzz_onnx: a model that loaded must plan a
 * session and run once on a small zero input (dynamic batch 1, dynamic
 * length 64) without touching memory it does not own; any failure on the
 * way is an error value, which is fine. Frees the model.
 */
#ifndef AIECG_FUZZ_MODEL_H
#define AIECG_FUZZ_MODEL_H

#include "aiecg/nn.h"

#include <stdlib.h>

static void fuzz_plan_and_run(aiecg_model *m) {
    aiecg_error err;
    int64_t dims[AIECG_NN_MAX_DIMS];
    int nd = aiecg_model_input_shape(m, dims);
    int64_t total = 1;
    for (int i = 0; i < nd; i++) {
        if (dims[i] < 0) dims[i] = i == 0 ? 1 : 64;
        total *= dims[i] ? dims[i] : 1;
    }
    aiecg_session_options o = aiecg_session_options_default();
    o.max_batch = 1;
    o.max_length = 64;
    aiecg_session *s = NULL;
    if (total <= (1 << 20) && aiecg_session_new(m, &o, &s, &err) == AIECG_OK) {
        float *x = calloc((size_t)total, sizeof(float));
        float *y = calloc(1 << 16, sizeof(float));
        int64_t od[AIECG_NN_MAX_DIMS];
        int ond = 0;
        if (x && y) aiecg_session_run(s, x, dims, nd, y, 1 << 16, od, &ond, &err);
        free(x);
        free(y);
    }
    aiecg_session_free(s);
    aiecg_model_free(m);
}

#endif
