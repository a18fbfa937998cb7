/*
 * libFuzzer target for the ishne reader: any bytes must give a record or an
 * error, never a crash, a leak or an unbounded allocation.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "aiecg/aiecg.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    aiecg_read_options o = aiecg_read_options_default();
    o.format = AIECG_FORMAT_ISHNE;
    o.derive_limb_leads = 1;
    aiecg_record *r = NULL;
    aiecg_error err;
    aiecg_error_clear(&err);
    aiecg_status st = aiecg_record_read_memory(data, size, "fuzz.ishne", &o, &r, &err);
    fuzz_check_read(st, r, &err);
    return 0;
}
