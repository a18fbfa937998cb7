/*
 * libFuzzer target for ONNX import (protobuf decoding by protobuf-c, then our
 * graph building, attribute/initializer checks, shape inference and the
 * optimiser) and the session built on the result: any byte string must
 * either be refused with an error or give a model that plans and runs on a
 * small zero input without touching memory it does not own. Seeds in
 * fuzz/corpus/onnx/ are the small test models of tests/data/nn.
 */
#include "fuzz_model.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size >= 4 && memcmp(data, "AIEM", 4) == 0) return 0; /* fuzz_aiem's input */
    aiecg_model *m = NULL;
    aiecg_error err;
    if (aiecg_model_load_memory(data, size, 0, &m, &err) != AIECG_OK) return 0;
    fuzz_plan_and_run(m);
    return 0;
}
