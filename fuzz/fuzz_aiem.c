/*
 * libFuzzer target for the .aiem loader and the session built on it: any
 * byte string must either be rejected with an error or load into a model
 * that plans and runs (on a small zero input) without touching memory it
 * does not own. Seeds in fuzz/corpus/aiem/ are compiled test models.
 */
#include "fuzz_model.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 4 || memcmp(data, "AIEM", 4) != 0) return 0; /* the ONNX path is protobuf-c's */
    aiecg_model *m = NULL;
    aiecg_error err;
    if (aiecg_model_load_memory(data, size, 0, &m, &err) != AIECG_OK) return 0;
    fuzz_plan_and_run(m);
    return 0;
}
