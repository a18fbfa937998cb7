/*
 * libFuzzer target for the aiecg-json reader (src/io/json.c, RFC 8259 text):
 * any bytes must give a record or an error value with a message, never a
 * crash, a leak, deep recursion or an allocation sized by a number in the
 * file rather than by the bytes present. A record that reads must also
 * describe itself (info JSON) and expose every lead and annotation it claims.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "aiecg/aiecg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    aiecg_read_options o = aiecg_read_options_default();
    o.format = AIECG_FORMAT_JSON;
    o.derive_limb_leads = size && (data[size - 1] & 1);
    o.max_samples = (int64_t)1 << 20;
    aiecg_record *r = NULL;
    aiecg_error err;
    aiecg_error_clear(&err);
    aiecg_status s = aiecg_record_read_memory(data, size, "fuzz.json", &o, &r, &err);
    if (s == AIECG_OK) {
        char *js = NULL;
        if (aiecg_record_info_json(r, &js) == AIECG_OK) aiecg_free(js);
        int64_t n = aiecg_record_nsamples(r);
        for (int l = 0; l < aiecg_record_nleads(r); l++) {
            const float *d = aiecg_record_lead_data(r, l);
            if (n > 0) (void)(d[0] + d[n - 1]);
        }
        const aiecg_annotation *a = aiecg_record_annotations(r);
        int64_t na = aiecg_record_nannotations(r);
        if (na > 0) (void)(a[0].sample ^ a[na - 1].sample);
        aiecg_record_free(r);
    } else if (r || !err.message[0]) {
        abort();
    }
    return 0;
}
