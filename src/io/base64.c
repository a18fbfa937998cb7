/*
 * Base64 decoding (RFC 4648 section 4) for waveform blobs embedded in XML
 * (GE MUSE WaveFormData, Philips Sierra parsedwaveforms). Whitespace inside
 * the text is skipped because both exporters wrap lines; any other character
 * outside the alphabet is an error reported with its offset.
 */
#include "xml_int.h"

size_t aiecg__base64_max_decoded(size_t n) { return n / 4 * 3 + 3; }

static int b64_value(unsigned char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

int aiecg__base64_decode(const char *s, size_t n, uint8_t *out, size_t cap, size_t *out_len,
                         size_t *bad_at) {
    uint32_t acc = 0;
    int bits = 0, pad = 0;
    size_t w = 0;
    *out_len = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
        if (c == '=') {
            pad++;
            if (pad > 2) {
                *bad_at = i;
                return -1;
            }
            continue;
        }
        int v = b64_value(c);
        if (v < 0 || pad) {
            *bad_at = i;
            return -1;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (w >= cap) {
                *bad_at = i;
                return -1;
            }
            out[w++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    /* 6 leftover bits cannot encode a byte: a truncated quantum. */
    if (bits >= 6) {
        *bad_at = n;
        return -1;
    }
    *out_len = w;
    return 0;
}
