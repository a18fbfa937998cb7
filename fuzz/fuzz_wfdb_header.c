/*
 * libFuzzer target for the WFDB header parser (header(5)): any bytes must
 * give a parsed header or an error with a message, never a crash, a leak or
 * an unbounded allocation. The probe sees the same bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "io/wfdb_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    (void)aiecg__wfdb_probe(data, size, NULL);
    aiecg__wfdb_header h;
    aiecg_error err;
    aiecg_error_clear(&err);
    if (aiecg__wfdb_header_parse((const char *)data, size, "fuzz.hea", &h, &err) == AIECG_OK) {
        if (h.nsig < 1 || h.nsig > AIECG_MAX_LEADS || !(h.fs > 0)) abort();
        for (int i = 0; i < h.nsig && h.sig; i++)
            if (h.sig[i].spf < 1 || h.sig[i].skew < 0 || h.sig[i].offset < 0) abort();
        aiecg__wfdb_header_free(&h);
    } else if (!err.message[0]) {
        abort(); /* every failure names what was wrong */
    }
    return 0;
}
