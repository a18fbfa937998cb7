/*
 * libFuzzer target for the "aiecg.fusion" model metadata parser
 * (src/interp/fusion.c): any text must either be refused with an error or
 * parse into a fusion whose labels are among the model's. The text comes
 * from a model file, i.e. from whoever made the model. Seeds in
 * fuzz/corpus/fusion/ are cut from models/ecg12.onnx's metadata.
 */
#include "interp/interp_int.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char *const labels[] = {"stmt:SR", "stmt:AFIB", "super:NORM", "stmt:1AVB"};
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    aiecg__fusion *fu = NULL;
    aiecg_error err;
    aiecg_error_clear(&err);
    if (aiecg__fusion_parse(text, labels, 4, &fu, &err) == AIECG_OK && fu) {
        int n = aiecg__fusion_nlabels(fu);
        if (n < 0 || n > 4) abort(); /* a fusion can only name the model's labels */
    } else if (fu) {
        abort(); /* an error must leave no object behind */
    }
    aiecg__fusion_free(fu);
    free(text);
    return 0;
}
