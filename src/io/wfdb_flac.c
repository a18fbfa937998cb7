/*
 * WFDB FLAC signal files (formats 508, 516, 524: signal(5)): one FLAC stream
 * per signal file, one FLAC channel per signal, samples of 8, 16 or 24 bits.
 * Decoded with libFLAC from memory when the build found it
 * (AIECG_HAVE_FLAC); without it these formats fail with
 * AIECG_ERR_UNSUPPORTED. libFLAC keeps its state in the decoder object, so
 * concurrent reads are safe.
 */
#include "wfdb_int.h"

#include <string.h>

#ifdef AIECG_HAVE_FLAC
#include <FLAC/stream_decoder.h>

typedef struct {
    const uint8_t *data;
    size_t len, pos;
    int nchan, bits;
    int64_t cap, got, alloc; /* samples per channel: limit, decoded, allocated */
    int32_t *out;            /* [sample][channel], grown as the stream decodes */
    int bad;          /* 1: channel count or bit depth differ from the header */
} flac_ctx;

static FLAC__StreamDecoderReadStatus rd(const FLAC__StreamDecoder *d, FLAC__byte buf[], size_t *n,
                                        void *u) {
    (void)d;
    flac_ctx *c = u;
    if (c->pos >= c->len) {
        *n = 0;
        return FLAC__STREAM_DECODER_READ_STATUS_END_OF_STREAM;
    }
    size_t k = AIECG__MIN(*n, c->len - c->pos);
    memcpy(buf, c->data + c->pos, k);
    c->pos += k;
    *n = k;
    return FLAC__STREAM_DECODER_READ_STATUS_CONTINUE;
}

static FLAC__StreamDecoderWriteStatus wr(const FLAC__StreamDecoder *d, const FLAC__Frame *f,
                                         const FLAC__int32 *const buf[], void *u) {
    (void)d;
    flac_ctx *c = u;
    if ((int)f->header.channels != c->nchan) {
        c->bad = 1;
        return FLAC__STREAM_DECODER_WRITE_STATUS_ABORT;
    }
    /* grow with what the stream really holds: FLAC compresses constant signals a thousandfold,
     * so the file size says nothing about the sample count, and the header's count may lie */
    int64_t need = AIECG__MIN(c->cap, c->got + (int64_t)f->header.blocksize);
    if (need > c->alloc) {
        int64_t na = AIECG__MAX(need, AIECG__MIN(c->cap, c->alloc * 2 + 4096));
        int32_t *n = aiecg__realloc(c->out, (size_t)na * (size_t)c->nchan * sizeof(int32_t));
        if (!n) {
            c->bad = 3;
            return FLAC__STREAM_DECODER_WRITE_STATUS_ABORT;
        }
        c->out = n;
        c->alloc = na;
    }
    for (unsigned i = 0; i < f->header.blocksize && c->got < c->cap; i++, c->got++)
        for (int ch = 0; ch < c->nchan; ch++) c->out[c->got * c->nchan + ch] = buf[ch][i];
    return FLAC__STREAM_DECODER_WRITE_STATUS_CONTINUE;
}

static void er(const FLAC__StreamDecoder *d, FLAC__StreamDecoderErrorStatus st, void *u) {
    (void)d;
    (void)st;
    ((flac_ctx *)u)->bad = 2;
}

aiecg_status aiecg__wfdb_flac_decode(const uint8_t *data, size_t len, const char *name, int nchan,
                                     int bits, int64_t nframes, int32_t **out, int64_t *got,
                                     aiecg_error *err) {
    *got = 0;
    *out = NULL;
    FLAC__StreamDecoder *dec = FLAC__stream_decoder_new();
    if (!dec) return aiecg__error_set(err, AIECG_ERR_NOMEM, "%s: cannot create a FLAC decoder", name);
    flac_ctx c = {data, len, 0, nchan, bits, nframes, 0, 0, NULL, 0};
    aiecg_status s = AIECG_OK;
    if (FLAC__stream_decoder_init_stream(dec, rd, NULL, NULL, NULL, NULL, wr, NULL, er, &c) !=
        FLAC__STREAM_DECODER_INIT_STATUS_OK) {
        s = aiecg__error_set(err, AIECG_ERR_FORMAT, "%s: FLAC decoder init failed", name);
    } else if (!FLAC__stream_decoder_process_until_end_of_stream(dec) || c.bad) {
        if (c.bad == 3)
            s = aiecg__error_set(err, AIECG_ERR_NOMEM, "%s: out of memory decoding FLAC", name);
        else if (c.bad == 1)
            s = aiecg__error_set(err, AIECG_ERR_FORMAT,
                                 "%s: FLAC stream's channel count differs from the %d signals the "
                                 "header puts in this file",
                                 name, nchan);
        else if (c.got < c.cap)
            s = aiecg__error_set(err, AIECG_ERR_FORMAT,
                                 "%s: FLAC stream is corrupt near byte offset %zu (%s)", name, c.pos,
                                 FLAC__StreamDecoderStateString[FLAC__stream_decoder_get_state(dec)]);
    }
    FLAC__stream_decoder_finish(dec);
    FLAC__stream_decoder_delete(dec);
    *got = c.got;
    (void)bits;
    if (s) {
        aiecg__free(c.out);
        c.out = NULL;
        *got = 0;
    }
    *out = c.out;
    return s;
}

#else

aiecg_status aiecg__wfdb_flac_decode(const uint8_t *data, size_t len, const char *name, int nchan,
                                     int bits, int64_t nframes, int32_t **out, int64_t *got,
                                     aiecg_error *err) {
    (void)data; (void)len; (void)nchan; (void)bits; (void)nframes;
    *got = 0;
    *out = NULL;
    return aiecg__error_set(err, AIECG_ERR_UNSUPPORTED,
                            "%s: FLAC signal files (formats 508/516/524) need libFLAC, which this "
                            "build lacks",
                            name);
}

#endif
