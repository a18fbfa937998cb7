/*
 * libFuzzer target for the SCP-ECG reader (EN 1064): any bytes must give a
 * record or an error, never a crash or leak.
 *
 * Every SCP section and the record carry a CRC-CCITT, so almost every
 * mutation would stop at the first CRC check and the decoders behind it
 * (Huffman, reference beat, rhythm data) would stay unexplored. The target
 * therefore rewrites the CRCs of a copy before reading it: each section that
 * Section 0's pointer table names, then Section 0, then the record. Inputs
 * whose size is 7 mod 8 are read as given, so the CRC checks stay fuzzed
 * too. The fix-up happens in the replay build as well, so every corpus file
 * reproduces there exactly as under libFuzzer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aiecg/aiecg.h"
#include "fuzz_check.h"

static uint32_t rd32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static uint16_t crc_ccitt(const uint8_t *p, size_t n) {
    uint16_t c = 0xFFFF;
    for (size_t i = 0; i < n; i++) {
        c ^= (uint16_t)(p[i] << 8);
        for (int b = 0; b < 8; b++) c = (c & 0x8000) ? (uint16_t)((c << 1) ^ 0x1021) : (uint16_t)(c << 1);
    }
    return c;
}

static void put_crc(uint8_t *d, size_t n, size_t off, size_t len) {
    if (len < 2 || off > n || len > n - off) return;
    uint16_t c = crc_ccitt(d + off + 2, len - 2);
    d[off] = (uint8_t)c;
    d[off + 1] = (uint8_t)(c >> 8);
}

static void fix_crcs(uint8_t *d, size_t n) {
    if (n < 6 + 16) return;
    size_t reclen = rd32(d + 2);
    if (reclen > n) reclen = n;
    size_t s0len = rd32(d + 6 + 4);
    for (size_t i = 6 + 16; s0len <= n && i + 10 <= 6 + s0len && i + 10 <= n; i += 10) {
        uint32_t len = rd32(d + i + 2), idx = rd32(d + i + 6);
        if (len && idx && idx - 1 != 6) put_crc(d, reclen, (size_t)idx - 1, len);
    }
    put_crc(d, reclen, 6, s0len);
    put_crc(d, reclen, 0, reclen);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy) return 0;
    if (size) memcpy(copy, data, size);
    if (size % 8 != 7) fix_crcs(copy, size);
    aiecg_read_options o = aiecg_read_options_default();
    o.format = AIECG_FORMAT_SCP;
    o.derive_limb_leads = 1;
    aiecg_record *r = NULL;
    aiecg_error err;
    aiecg_error_clear(&err);
    aiecg_status st = aiecg_record_read_memory(copy, size, "fuzz", &o, &r, &err);
    fuzz_check_read(st, r, &err);
    free(copy);
    return 0;
}
