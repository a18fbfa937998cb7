/*
 * libFuzzer target for WFDB signal decoding: header and signal files in one
 * buffer. Layout: u16 little-endian header length, the header text, then any
 * number of signal files, each a u32 little-endian length and its bytes (in
 * the order the header names them; a short last chunk is taken as is). The
 * per-signal cap keeps each run small; hostile sizes must be refused before
 * they are allocated.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "aiecg/aiecg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2) return 0;
    size_t hlen = (size_t)data[0] | ((size_t)data[1] << 8);
    if (hlen > size - 2) hlen = size - 2;
    const uint8_t *hdr = data + 2;
    const uint8_t *p = hdr + hlen, *end = data + size;
    const void *files[AIECG_MAX_LEADS];
    size_t lens[AIECG_MAX_LEADS];
    int n = 0;
    while (p < end && n < AIECG_MAX_LEADS) {
        if (end - p < 4) {
            files[n] = p;
            lens[n++] = (size_t)(end - p);
            break;
        }
        size_t l = (size_t)p[0] | ((size_t)p[1] << 8) | ((size_t)p[2] << 16) | ((size_t)p[3] << 24);
        p += 4;
        if (l > (size_t)(end - p)) l = (size_t)(end - p);
        files[n] = p;
        lens[n++] = l;
        p += l;
    }
    aiecg_read_options o = aiecg_read_options_default();
    o.max_samples = (int64_t)1 << 20;
    aiecg_record *r = NULL;
    aiecg_error err;
    aiecg_error_clear(&err);
    aiecg_status s = aiecg_wfdb_read_memory(hdr, hlen, files, lens, n, &o, &r, &err);
    if (s == AIECG_OK) {
        char *js = NULL;
        if (aiecg_record_info_json(r, &js) == AIECG_OK) aiecg_free(js);
        for (int l = 0; l < aiecg_record_nleads(r); l++) (void)aiecg_record_lead_data(r, l)[0];
        aiecg_record_free(r);
    } else if (r || !err.message[0]) {
        abort();
    }
    return 0;
}
