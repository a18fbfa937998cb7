/*
 * libFuzzer target for ONNX import (protobuf decoding by protobuf-c, then our
 * graph building, attribute/initializer checks, shape inference and the
 * optimiser) and the session built on the result: any byte string must
 * either be refused with an error or give a model that plans and runs on a
 * small zero input without touching memory it does not own. Seeds in
 * fuzz/corpus/onnx/ are the small test models of tests/data/nn.
 */
#include "aiecg/nn.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size >= 4 && memcmp(data, "AIEM", 4) == 0) return 0; /* fuzz_aiem's input */
    aiecg_model *m = NULL;
    aiecg_error err;
    if (aiecg_model_load_memory(data, size, 0, &m, &err) != AIECG_OK) return 0;
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
    return 0;
}
