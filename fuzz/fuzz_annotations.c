/*
 * libFuzzer target for the MIT annotation parser (annot(5)): any bytes must
 * give annotations or an error, never a crash or leak. Whatever is read is
 * written back with the encoder and read again: the second read must give
 * the same count (the encoder must never emit what the parser rejects).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "io/wfdb_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    aiecg_record *r = NULL;
    if (aiecg_record_new(1, 1, 250, 0, &r, NULL) != AIECG_OK) return 0;
    aiecg_error err;
    if (aiecg_wfdb_annotations_read_memory(data, size, "fuzz.atr", 1, r, &err) == AIECG_OK) {
        aiecg__sbuf b;
        aiecg__sbuf_init(&b);
        int64_t n = aiecg_record_nannotations(r);
        if (aiecg__wfdb_annot_encode(aiecg_record_annotations(r), n, 1, &b, &err) == AIECG_OK) {
            aiecg_record *r2 = NULL;
            if (aiecg_record_new(1, 1, 250, 0, &r2, NULL) == AIECG_OK) {
                if (aiecg_wfdb_annotations_read_memory(b.data, b.len, "re.atr", 1, r2, &err) != AIECG_OK ||
                    aiecg_record_nannotations(r2) != n)
                    abort();
                aiecg_record_free(r2);
            }
        }
        aiecg__sbuf_free(&b);
    }
    aiecg_record_free(r);
    return 0;
}
