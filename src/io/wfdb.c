/*
 * WFDB records (PhysioNet signal(5), header(5)): the reader. The header is
 * parsed first (wfdb_header.c), then every signal file's length is checked
 * against what the header promises, and only then is the record allocated
 * and decoded, so sizes in a hostile header cannot cause large allocations.
 *
 * Conventions (see docs/io-wfdb.md):
 * - Samples-per-frame > 1 is read in WFDB's "high resolution" mode: the
 *   record's rate is fs * max(spf) and signals with fewer samples per frame
 *   are held (each sample repeated); annotation times are scaled to match.
 * - Skew: signal i's sample t is the file's frame t + skew_i; samples past the
 *   end of the file become invalid.
 * - Invalid samples (the format's most negative value, e.g. -32768 for 16,
 *   -2048 for 212) stay in the ADC plane and are NaN in mV.
 * - mV = (adc - baseline) / gain, gain 0 -> 200 (WFDB's default); units "uV"
 *   and "V" are scaled to mV, other physical units (mmHg, NU) are kept as is.
 * - Checksums (sum of a signal's samples as a signed 16-bit value) are
 *   verified per signal; a mismatch does not fail the read (WFDB only warns)
 *   but marks the lead AIECG_CHECKSUM_BAD.
 */
#include "wfdb_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- where signal files come from ------------------------------------ */

#define MAX_FILES AIECG_MAX_LEADS

typedef struct wfdb_src {
    int memory;                   /* 1: files given in memory, by order of appearance */
    char dir[4096];               /* path mode: directory prefix, "" or ending in '/' */
    const void *const *mdat;
    const size_t *mlen;
    int mfiles;
    int nfiles;
    char *names[MAX_FILES];
    uint8_t *owned[MAX_FILES];    /* path mode: file contents */
    const uint8_t *data[MAX_FILES];
    size_t len[MAX_FILES];
} wfdb_src;

static void src_release(wfdb_src *s) {
    for (int i = 0; i < s->nfiles; i++) {
        aiecg__free(s->names[i]);
        aiecg__free(s->owned[i]);
        s->names[i] = NULL;
        s->owned[i] = NULL;
    }
    s->nfiles = 0;
}

static aiecg_status src_get(wfdb_src *s, const char *fname, const char *hname, const uint8_t **data,
                            size_t *len, aiecg_error *err) {
    for (int i = 0; i < s->nfiles; i++)
        if (strcmp(s->names[i], fname) == 0) {
            *data = s->data[i];
            *len = s->len[i];
            return AIECG_OK;
        }
    if (s->nfiles == MAX_FILES)
        return aiecg__error_set(err, AIECG_ERR_LIMIT, "%s: more than %d signal files", hname,
                                MAX_FILES);
    int k = s->nfiles;
    if (s->memory) {
        if (k >= s->mfiles || !s->mdat || !s->mlen || !s->mdat[k])
            return aiecg__error_set(err, AIECG_ERR_NOT_FOUND,
                                    "%s: signal file '%s' (file %d in order of appearance) was not "
                                    "given: reading a WFDB header from memory needs its signal "
                                    "files (aiecg_wfdb_read_memory), or open the header by path",
                                    hname, fname, k);
        if (!(s->names[k] = aiecg__strdup(fname))) return AIECG_ERR_NOMEM;
        s->data[k] = s->mdat[k];
        s->len[k] = s->mlen[k];
    } else {
        char path[8192];
        if (snprintf(path, sizeof path, "%s%s", s->dir, fname) >= (int)sizeof path)
            return aiecg__error_set(err, AIECG_ERR_INVALID_ARG, "%s: signal file path too long",
                                    hname);
        uint8_t *d;
        size_t n;
        aiecg_error e2;
        aiecg_status st = aiecg__read_file(path, AIECG__MAX_FILE_BYTES, &d, &n, &e2);
        if (st)
            return aiecg__error_set(err, st == AIECG_ERR_IO ? AIECG_ERR_NOT_FOUND : st,
                                    "%s: signal file '%s': %s", hname, fname, e2.message);
        if (!(s->names[k] = aiecg__strdup(fname))) {
            aiecg__free(d);
            return AIECG_ERR_NOMEM;
        }
        s->owned[k] = d;
        s->data[k] = d;
        s->len[k] = n;
    }
    s->nfiles++;
    *data = s->data[k];
    *len = s->len[k];
    return AIECG_OK;
}

/* ---- sample decoding -------------------------------------------------- */

static int is_flac(int fmt) { return fmt == 508 || fmt == 516 || fmt == 524; }
/* Format 0 and file name "~" mark a signal that is not stored (header(5)). */
static int is_null_signal(const aiecg__wfdb_signal *s) { return s->fmt == 0 || strcmp(s->fname, "~") == 0; }

/* Number of whole samples that `len` bytes of format fmt hold. */
static int64_t samples_in(int fmt, uint64_t len) {
    switch (fmt) {
    case 8: case 80: return (int64_t)len;
    case 16: case 61: case 160: return (int64_t)(len / 2);
    case 24: return (int64_t)(len / 3);
    case 32: return (int64_t)(len / 4);
    case 212: return (int64_t)(len / 3 * 2 + (len % 3 >= 2 ? 1 : 0));
    case 310: return (int64_t)(len / 4 * 3 + (len % 4 >= 2 ? 1 : 0));
    case 311: return (int64_t)(len / 4 * 3 + (len % 4 >= 2 ? 1 : 0) + (len % 4 >= 3 ? 1 : 0));
    default: return 0;
    }
}

static int32_t sext(uint32_t v, int bits) {
    uint32_t m = 1u << (bits - 1);
    v &= (bits == 32) ? 0xffffffffu : ((1u << bits) - 1);
    return (int32_t)((v ^ m) - m);
}

/*
 * Decodes n samples (n <= samples_in(fmt, len)) into out. For the difference
 * format 8, sig_of[k % frame] names the signal of sample k and acc holds each
 * signal's running value (started at its initial value).
 */
static void decode(int fmt, const uint8_t *d, int64_t n, int32_t *out, const int *sig_of, int frame,
                   int32_t *acc) {
    int64_t k = 0;
    switch (fmt) {
    case 8:
        for (int pos = 0; k < n; k++) {
            int s = sig_of[pos];
            acc[s] += (int8_t)d[k];
            out[k] = acc[s];
            if (++pos == frame) pos = 0;
        }
        break;
    case 80:
        for (; k < n; k++) out[k] = (int32_t)d[k] - 128;
        break;
    case 16:
        for (; k < n; k++) out[k] = (int16_t)(uint16_t)(d[2 * k] | (d[2 * k + 1] << 8));
        break;
    case 61:
        for (; k < n; k++) out[k] = (int16_t)(uint16_t)((d[2 * k] << 8) | d[2 * k + 1]);
        break;
    case 160:
        for (; k < n; k++) out[k] = (int32_t)(d[2 * k] | (d[2 * k + 1] << 8)) - 32768;
        break;
    case 24:
        for (; k < n; k++)
            out[k] = sext((uint32_t)d[3 * k] | ((uint32_t)d[3 * k + 1] << 8) |
                              ((uint32_t)d[3 * k + 2] << 16),
                          24);
        break;
    case 32:
        for (; k < n; k++)
            out[k] = (int32_t)((uint32_t)d[4 * k] | ((uint32_t)d[4 * k + 1] << 8) |
                               ((uint32_t)d[4 * k + 2] << 16) | ((uint32_t)d[4 * k + 3] << 24));
        break;
    case 212:
        /* pairs of 12-bit samples in 3 bytes: low nibble of byte 1 tops sample 0, high nibble sample 1 */
        for (; k < n; k++) {
            const uint8_t *b = d + (k / 2) * 3;
            uint32_t v = (k & 1) ? (uint32_t)b[2] | ((uint32_t)(b[1] & 0xf0) << 4)
                                 : (uint32_t)b[0] | ((uint32_t)(b[1] & 0x0f) << 8);
            out[k] = sext(v, 12);
        }
        break;
    case 310:
        /* three 10-bit samples in two 16-bit words: bits 1..10 of each word, then the two 5-bit tops */
        for (; k < n; k++) {
            const uint8_t *b = d + (k / 3) * 4;
            uint32_t w0 = (uint32_t)b[0] | ((uint32_t)b[1] << 8), w1 = 0, v;
            int r = (int)(k % 3);
            if (r) w1 = (uint32_t)b[2] | ((uint32_t)b[3] << 8);
            if (r == 0) v = w0 >> 1;
            else if (r == 1) v = w1 >> 1;
            else v = ((w0 >> 11) & 0x1f) | (((w1 >> 11) & 0x1f) << 5);
            out[k] = sext(v, 10);
        }
        break;
    case 311:
        /* three 10-bit samples in one little-endian 32-bit word, from the bottom */
        for (; k < n; k++) {
            const uint8_t *b = d + (k / 3) * 4;
            int r = (int)(k % 3);
            uint32_t w = (uint32_t)b[0] | ((uint32_t)b[1] << 8);
            if (r) w |= ((uint32_t)b[2] << 16);
            if (r == 2) w |= ((uint32_t)b[3] << 24);
            out[k] = sext(w >> (10 * r), 10);
        }
        break;
    default:
        break;
    }
}

/* ---- physical units --------------------------------------------------- */

/* Physical units per millivolt (uV: 1000); 1 for mV and for non-voltage units (kept as they are). */
static double units_per_mv(const char *u) {
    if (!u) return 1.0;
    if (!strcmp(u, "uV") || !strcmp(u, "µV") || !strcasecmp(u, "microvolt")) return 1e3;
    if (!strcmp(u, "nV")) return 1e6;
    if (!strcmp(u, "V") || !strcasecmp(u, "volt")) return 1e-3;
    return 1.0;
}

/* ---- one segment -------------------------------------------------------- */

typedef struct decoded {
    aiecg_record *rec;
    int64_t factor; /* samples per frame expansion (max spf) */
} decoded;

/*
 * Reads a single-segment header's signals into a new record. nframes_hint
 * (>= 0) overrides the header's count (multi-segment records state it per
 * segment).
 */
static aiecg_status read_signals(const aiecg__wfdb_header *h, wfdb_src *src, const char *hname,
                                 const aiecg_read_options *opt, int64_t nframes_hint, decoded *out,
                                 aiecg_error *err) {
    out->rec = NULL;
    out->factor = 1;
    const int nsig = h->nsig;
    int maxspf = 1;
    for (int i = 0; i < nsig; i++) maxspf = AIECG__MAX(maxspf, h->sig[i].spf);

    /* groups of consecutive signals that share a file */
    int gstart[AIECG_MAX_LEADS + 1], ngroups = 0;
    for (int i = 0; i < nsig; i++)
        if (i == 0 || strcmp(h->sig[i].fname, h->sig[i - 1].fname) != 0) gstart[ngroups++] = i;
    gstart[ngroups] = nsig;
    for (int g = 0; g < ngroups; g++)
        for (int i = gstart[g] + 1; i < gstart[g + 1]; i++)
            if (h->sig[i].fmt != h->sig[gstart[g]].fmt)
                return aiecg__error_set(err, AIECG_ERR_UNSUPPORTED,
                                        "%s: signal %d: field 'format': %d differs from format %d of "
                                        "signal %d in the same file '%s'",
                                        hname, i, h->sig[i].fmt, h->sig[gstart[g]].fmt, gstart[g],
                                        h->sig[i].fname);
    for (int i = 0; i < nsig; i++)
        for (int g = 0; g < ngroups; g++)
            if (i < gstart[g] && strcmp(h->sig[i].fname, h->sig[gstart[g]].fname) == 0 &&
                strcmp(h->sig[i].fname, "~") != 0)
                return aiecg__error_set(err, AIECG_ERR_UNSUPPORTED,
                                        "%s: signal %d: file '%s' is used by signals that are not "
                                        "consecutive",
                                        hname, gstart[g], h->sig[i].fname);

    /* pass 1: lengths (no sample decoded, nothing allocated but the files) */
    const uint8_t *gdata[AIECG_MAX_LEADS + 1];
    size_t glen[AIECG_MAX_LEADS + 1];
    int64_t gavail[AIECG_MAX_LEADS + 1]; /* whole frames available */
    int gframe[AIECG_MAX_LEADS + 1];    /* samples per frame of the group */
    aiecg_status s;
    int64_t nframes = nframes_hint >= 0 ? nframes_hint : h->nsamples;
    for (int g = 0; g < ngroups; g++) {
        const aiecg__wfdb_signal *s0 = &h->sig[gstart[g]];
        int frame = 0;
        for (int i = gstart[g]; i < gstart[g + 1]; i++) frame += h->sig[i].spf;
        gframe[g] = frame;
        gdata[g] = NULL;
        glen[g] = 0;
        gavail[g] = -1;
        if (is_null_signal(s0)) continue;
        const uint8_t *d = NULL;
        size_t n = 0;
        if ((s = src_get(src, s0->fname, hname, &d, &n, err))) return s;
        if ((uint64_t)s0->offset > n)
            return aiecg__error_set(err, AIECG_ERR_TRUNCATED,
                                    "%s: signal %d: field 'byte offset': %lld is past the end of '%s' "
                                    "(%zu bytes)",
                                    hname, gstart[g], (long long)s0->offset, s0->fname, n);
        gdata[g] = d + s0->offset;
        glen[g] = n - (size_t)s0->offset;
        if (is_flac(s0->fmt)) {
            for (int i = gstart[g]; i < gstart[g + 1]; i++)
                if (h->sig[i].spf != s0->spf)
                    return aiecg__error_set(err, AIECG_ERR_UNSUPPORTED,
                                            "%s: signal %d: FLAC signals in one file must share "
                                            "samples per frame",
                                            hname, i);
            gavail[g] = -2; /* known only after decoding */
        } else {
            gavail[g] = samples_in(s0->fmt, glen[g]) / frame;
        }
        if (nframes < 0 && gavail[g] >= 0) nframes = gavail[g];
    }
    int64_t flac_need = nframes;
    if (nframes < 0) {
        /* FLAC without a length: decode what there is (bounded by the record limit below) */
        flac_need = -1;
    }
    /* bounds before any large allocation */
    int64_t cap = opt && opt->max_samples > 0 ? opt->max_samples : AIECG_MAX_SAMPLES_TOTAL / nsig;
    if (cap > AIECG_MAX_SAMPLES_TOTAL / nsig) cap = AIECG_MAX_SAMPLES_TOTAL / nsig;
    if (nframes > cap / maxspf)
        return aiecg__error_set(err, AIECG_ERR_LIMIT,
                                "%s: field 'number of samples': %lld frames x %d samples per frame "
                                "exceeds the limit of %lld samples per signal",
                                hname, (long long)nframes, maxspf, (long long)cap);
    for (int g = 0; g < ngroups; g++) {
        if (gavail[g] < 0 || nframes < 0) continue;
        if (gavail[g] < nframes) {
            const aiecg__wfdb_signal *s0 = &h->sig[gstart[g]];
            return aiecg__error_set(err, AIECG_ERR_TRUNCATED,
                                    "%s: signal file '%s' is truncated: %zu bytes from byte offset "
                                    "%lld hold %lld frames of format %d, the header says %lld",
                                    hname, s0->fname, glen[g], (long long)s0->offset,
                                    (long long)gavail[g], s0->fmt, (long long)nframes);
        }
    }

    /* FLAC groups are decoded now: their length is only known from the stream */
    int32_t *gbuf[AIECG_MAX_LEADS + 1] = {0};
    int64_t gbuf_frames[AIECG_MAX_LEADS + 1] = {0};
    for (int g = 0; g < ngroups; g++) {
        if (gavail[g] != -2) continue;
        const aiecg__wfdb_signal *s0 = &h->sig[gstart[g]];
        int nch = gstart[g + 1] - gstart[g];
        /* frames of FLAC samples per channel */
        int64_t want = flac_need >= 0 ? flac_need * s0->spf : cap;
        int maxskew = 0;
        for (int i = gstart[g]; i < gstart[g + 1]; i++) maxskew = AIECG__MAX(maxskew, h->sig[i].skew);
        if (flac_need >= 0) want += (int64_t)maxskew * s0->spf;
        if (want > AIECG_MAX_SAMPLES_TOTAL / nch) want = AIECG_MAX_SAMPLES_TOTAL / nch;
        int32_t *tmp = NULL;
        int64_t got = 0;
        s = aiecg__wfdb_flac_decode(gdata[g], glen[g], s0->fname, nch, aiecg__wfdb_format_bits(s0->fmt),
                                    want, &tmp, &got, err);
        if (s) {
            aiecg__error_prefix(err, "%s", hname);
            goto fail;
        }
        /* reorder FLAC's per-channel interleave into WFDB frames */
        int64_t fr = got / s0->spf;
        int frame = gframe[g];
        int32_t *buf = aiecg__calloc((size_t)(fr ? fr : 1) * (size_t)frame, sizeof(int32_t));
        if (!buf) {
            aiecg__free(tmp);
            s = aiecg__error_set(err, AIECG_ERR_NOMEM, "%s: out of memory for FLAC samples", hname);
            goto fail;
        }
        for (int64_t t = 0; t < fr; t++)
            for (int c = 0; c < nch; c++)
                for (int j = 0; j < s0->spf; j++)
                    buf[t * frame + c * s0->spf + j] = tmp[(t * s0->spf + j) * nch + c];
        aiecg__free(tmp);
        gbuf[g] = buf;
        gbuf_frames[g] = fr;
        gavail[g] = fr;
        if (nframes < 0) nframes = fr;
        if (fr < nframes) {
            s = aiecg__error_set(err, AIECG_ERR_TRUNCATED,
                                 "%s: FLAC signal file '%s' is truncated: it holds %lld frames, the "
                                 "header says %lld",
                                 hname, s0->fname, (long long)fr, (long long)nframes);
            goto fail;
        }
    }
    if (nframes < 0) {
        s = aiecg__error_set(err, AIECG_ERR_FORMAT,
                             "%s: field 'number of samples' is absent and no signal file gives it",
                             hname);
        goto fail;
    }
    if (nframes > cap / maxspf) {
        s = aiecg__error_set(err, AIECG_ERR_LIMIT, "%s: %lld frames exceed the sample limit", hname,
                             (long long)nframes);
        goto fail;
    }

    double fs = h->fs * maxspf;
    aiecg_record *rec = NULL;
    if ((s = aiecg_record_new(nsig, nframes * maxspf, fs, 1, &rec, err))) {
        aiecg__error_prefix(err, "%s", hname);
        goto fail;
    }

    /* pass 2: decode each group (frames needed plus the largest skew, as far as the file goes) */
    for (int g = 0; g < ngroups && !s; g++) {
        const aiecg__wfdb_signal *s0 = &h->sig[gstart[g]];
        int frame = gframe[g];
        int maxskew = 0;
        for (int i = gstart[g]; i < gstart[g + 1]; i++) maxskew = AIECG__MAX(maxskew, h->sig[i].skew);
        int32_t *buf = gbuf[g];
        int64_t have = 0;
        if (gdata[g] && !buf) {
            have = AIECG__MIN(gavail[g], nframes + maxskew);
            buf = aiecg__calloc((size_t)(have ? have : 1) * (size_t)frame, sizeof(int32_t));
            int *sig_of = aiecg__calloc((size_t)frame, sizeof(int));
            if (!buf || !sig_of) {
                aiecg__free(buf);
                aiecg__free(sig_of);
                s = aiecg__error_set(err, AIECG_ERR_NOMEM, "%s: out of memory decoding '%s'", hname,
                                     s0->fname);
                break;
            }
            int32_t acc[AIECG_MAX_LEADS];
            int pos = 0;
            for (int i = gstart[g]; i < gstart[g + 1]; i++) {
                acc[i - gstart[g]] = (int32_t)h->sig[i].init;
                for (int j = 0; j < h->sig[i].spf; j++) sig_of[pos++] = i - gstart[g];
            }
            decode(s0->fmt, gdata[g], have * frame, buf, sig_of, frame, acc);
            aiecg__free(sig_of);
        } else if (buf) {
            have = AIECG__MIN(gbuf_frames[g], nframes + maxskew);
        }
        int off = 0;
        for (int i = gstart[g]; i < gstart[g + 1]; i++) {
            const aiecg__wfdb_signal *sg = &h->sig[i];
            int32_t inval = aiecg__wfdb_invalid_value(sg->fmt);
            int32_t *adc = aiecg_record_lead_adc_mut(rec, i);
            float *mv = aiecg_record_lead_data_mut(rec, i);
            double gain = (sg->gain > 0 ? sg->gain : 200.0) * units_per_mv(sg->units); /* ADU per mV */
            int has_invalid = sg->fmt != 8; /* first differences have no reserved value */
            if (maxspf == 1) {
                /* one sample per frame (nearly every ECG record): the same values as the
                   general loop below without its per-sample 64-bit division m * spf / maxspf
                   and bounds test; frames past what the file holds are invalid */
                int64_t tend = buf ? AIECG__MIN(nframes, have - sg->skew) : 0;
                if (tend < 0) tend = 0;
                const int32_t *bp = buf ? buf + (int64_t)sg->skew * frame + off : NULL;
                for (int64_t t = 0; t < tend; t++) {
                    int32_t v = bp[t * frame];
                    adc[t] = v;
                    mv[t] = (has_invalid && v == inval) ? NAN : (float)((double)(v - sg->baseline) / gain);
                }
                for (int64_t t = tend; t < nframes; t++) {
                    adc[t] = inval;
                    mv[t] = NAN;
                }
            }
            for (int64_t t = 0; maxspf > 1 && t < nframes; t++) {
                int64_t src_t = t + sg->skew;
                for (int m = 0; m < maxspf; m++) {
                    int j = (int)((int64_t)m * sg->spf / maxspf);
                    int32_t v = inval;
                    int ok = buf && src_t < have;
                    if (ok) v = buf[src_t * frame + off + j];
                    adc[t * maxspf + m] = v;
                    mv[t * maxspf + m] =
                        (!ok || (has_invalid && v == inval)) ? NAN : (float)((double)(v - sg->baseline) / gain);
                }
            }
            /* the checksum covers the signal's samples as stored (before skew), as WFDB computes it */
            uint32_t sum = 0;
            for (int64_t t = 0; buf && t < AIECG__MIN(nframes, have); t++)
                for (int j = 0; j < sg->spf; j++) sum += (uint32_t)buf[t * frame + off + j];
            aiecg_lead_info li = {0};
            li.label = sg->desc;
            li.lead = aiecg_lead_parse(sg->desc);
            li.gain = gain;
            li.baseline = sg->baseline;
            li.adc_zero = sg->adc_zero;
            li.adc_resolution = sg->adc_res ? sg->adc_res : aiecg__wfdb_format_bits(sg->fmt);
            li.units = sg->units;
            li.initial_value = sg->init;
            li.checksum = sg->checksum;
            li.checksum_state = AIECG_CHECKSUM_ABSENT;
            if (sg->checksum_given && buf)
                li.checksum_state = (int16_t)(uint16_t)(sum & 0xffff) == (int16_t)sg->checksum
                                        ? AIECG_CHECKSUM_OK
                                        : AIECG_CHECKSUM_BAD;
            /* WFDB only warns on these too; the record keeps the declared value */
            if (sg->init_given && buf && have > 0 && buf[off] != sg->init)
                aiecg__log(opt ? &opt->logger : NULL, AIECG_LOG_WARN,
                           "%s: signal %d (%s): first stored sample %d differs from the initial value %lld",
                           hname, i, sg->desc, (int)buf[off], (long long)sg->init);
            if (li.checksum_state == AIECG_CHECKSUM_BAD)
                aiecg__log(opt ? &opt->logger : NULL, AIECG_LOG_WARN,
                           "%s: signal %d (%s): checksum %d in the header, %d in the samples", hname, i,
                           sg->desc, sg->checksum, (int)(int16_t)(uint16_t)(sum & 0xffff));
            if ((s = aiecg_record_set_lead(rec, i, &li))) {
                aiecg__error_set(err, s, "%s: out of memory for lead %d", hname, i);
                break;
            }
            off += sg->spf;
        }
        aiecg__free(buf);
        gbuf[g] = NULL;
    }
    if (s) {
        aiecg_record_free(rec);
        goto fail;
    }
    out->rec = rec;
    out->factor = maxspf;
    return AIECG_OK;
fail:
    for (int g = 0; g < ngroups; g++) aiecg__free(gbuf[g]);
    return s;
}

static aiecg_status set_meta(aiecg_record *rec, const aiecg__wfdb_header *h) {
    aiecg_record_meta m;
    aiecg_record_meta_get(rec, &m);
    m.record_name = h->name;
    m.format = "wfdb";
    m.age = h->age;
    m.sex = h->sex;
    m.has_start_time = h->has_time && h->has_date;
    if (m.has_start_time) {
        m.year = h->year;
        m.month = h->month;
        m.day = h->day;
        m.hour = h->hour;
        m.minute = h->minute;
        m.second = h->second;
    }
    return aiecg_record_set_meta(rec, &m);
}

/* ---- multi-segment records -------------------------------------------- */

static aiecg_status read_header_file(wfdb_src *src, const char *recname, const char *hname,
                                     aiecg__wfdb_header *h, aiecg_error *err);

static int file_exists(const char *dir, const char *name) {
    char p[8192];
    if (snprintf(p, sizeof p, "%s%s", dir, name) >= (int)sizeof p) return 0;
    FILE *f = fopen(p, "rb");
    if (!f) return 0;
    fclose(f);
    return 1;
}

/*
 * Multi-segment (header(5) "segments"): the record is the concatenation of
 * its segments. Fixed layout: every segment has the record's signals in the
 * same order. Variable layout: the first segment is a layout header (0
 * samples) naming the record's signals; each segment carries a subset, matched
 * by description; the rest is invalid (NaN). Null segments ("~") are gaps.
 * Pass 1 parses every segment header and checks its signal files exist, so a
 * record with a missing piece fails before the (possibly large) allocation.
 * The ADC plane is kept only when every segment maps a signal with the same
 * gain and baseline; otherwise the mV are right and the ADC plane is dropped.
 */
static aiecg_status read_multi(const aiecg__wfdb_header *h, wfdb_src *src, const char *hname,
                               const aiecg_read_options *opt, decoded *out, aiecg_error *err) {
    out->rec = NULL;
    out->factor = 1;
    if (src->memory)
        return aiecg__error_set(err, AIECG_ERR_NOT_FOUND,
                                "%s: multi-segment record: its segment headers are separate files, "
                                "which cannot be read from memory",
                                hname);
    int64_t total = 0;
    for (int i = 0; i < h->nseg; i++) {
        if (h->seg[i].nsamples > AIECG_MAX_SAMPLES_TOTAL - total)
            return aiecg__error_set(err, AIECG_ERR_LIMIT, "%s: segment %d: too many samples in total",
                                    hname, i);
        total += h->seg[i].nsamples;
    }
    if (h->nsamples >= 0 && h->nsamples != total)
        return aiecg__error_set(err, AIECG_ERR_FORMAT,
                                "%s: field 'number of samples': %lld, but the segments add up to %lld",
                                hname, (long long)h->nsamples, (long long)total);
    aiecg__wfdb_header *sh = aiecg__calloc((size_t)h->nseg, sizeof *sh);
    if (!sh) return aiecg__error_set(err, AIECG_ERR_NOMEM, "%s: out of memory for segments", hname);
    int *parsed = aiecg__calloc((size_t)h->nseg, sizeof *parsed);
    aiecg_record *rec = NULL;
    aiecg_status s = parsed ? AIECG_OK : AIECG_ERR_NOMEM;
    int first = 0, have_layout = 0;
    int64_t factor = 0;
    const aiecg__wfdb_header *layout = NULL;
    /* pass 1: headers */
    for (int k = 0; k < h->nseg && !s; k++) {
        const aiecg__wfdb_segment *sgm = &h->seg[k];
        if (strcmp(sgm->name, "~") == 0) continue;
        if (k > 0 && sgm->nsamples == 0) continue;
        if ((s = read_header_file(src, sgm->name, hname, &sh[k], err))) break;
        parsed[k] = 1;
        const aiecg__wfdb_header *g = &sh[k];
        if (g->nseg) {
            s = aiecg__error_set(err, AIECG_ERR_UNSUPPORTED, "%s: segment '%s' is itself multi-segment",
                                 hname, sgm->name);
            break;
        }
        if (k == 0 && sgm->nsamples == 0) {
            have_layout = 1;
            first = 1;
            layout = g;
            if (g->nsig != h->nsig)
                s = aiecg__error_set(err, AIECG_ERR_FORMAT,
                                     "%s: layout segment '%s' has %d signals, the record %d", hname,
                                     sgm->name, g->nsig, h->nsig);
            continue;
        }
        if (fabs(g->fs - h->fs) > 1e-9 * h->fs) {
            s = aiecg__error_set(err, AIECG_ERR_FORMAT,
                                 "%s: segment '%s': sampling frequency %g differs from the record's %g",
                                 hname, sgm->name, g->fs, h->fs);
            break;
        }
        if (!have_layout && g->nsig != h->nsig) {
            s = aiecg__error_set(err, AIECG_ERR_FORMAT,
                                 "%s: segment '%s' has %d signals, the fixed-layout record %d", hname,
                                 sgm->name, g->nsig, h->nsig);
            break;
        }
        int64_t f = 1;
        for (int i = 0; i < g->nsig; i++) {
            f = AIECG__MAX(f, g->sig[i].spf);
            if (!is_null_signal(&g->sig[i]) && !file_exists(src->dir, g->sig[i].fname)) {
                s = aiecg__error_set(err, AIECG_ERR_NOT_FOUND,
                                     "%s: segment '%s': signal file '%s' not found", hname, sgm->name,
                                     g->sig[i].fname);
                break;
            }
        }
        if (s) break;
        if (factor && f != factor) {
            s = aiecg__error_set(err, AIECG_ERR_UNSUPPORTED,
                                 "%s: segment '%s': %lld samples per frame, earlier segments %lld",
                                 hname, sgm->name, (long long)f, (long long)factor);
            break;
        }
        factor = f;
    }
    if (!factor) factor = 1;
    if (!s && (total > AIECG_MAX_SAMPLES_TOTAL / h->nsig / factor ||
               (opt && opt->max_samples > 0 && total > opt->max_samples / factor)))
        s = aiecg__error_set(err, AIECG_ERR_LIMIT,
                             "%s: %lld samples x %d signals exceed the sample limit", hname,
                             (long long)(total * factor), h->nsig);
    if (!s && (s = aiecg_record_new(h->nsig, total * factor, h->fs * (double)factor, 1, &rec, err)))
        aiecg__error_prefix(err, "%s", hname);
    int adc_ok[AIECG_MAX_LEADS], got_info[AIECG_MAX_LEADS];
    aiecg_checksum_state ck[AIECG_MAX_LEADS];
    for (int i = 0; i < h->nsig && !s; i++) {
        adc_ok[i] = 1;
        got_info[i] = 0;
        ck[i] = AIECG_CHECKSUM_ABSENT;
        float *mv = aiecg_record_lead_data_mut(rec, i);
        int32_t *adc = aiecg_record_lead_adc_mut(rec, i);
        for (int64_t t = 0; t < total * factor; t++) {
            mv[t] = NAN;
            adc[t] = INT32_MIN;
        }
        if (have_layout) {
            const aiecg__wfdb_signal *sg = &layout->sig[i];
            aiecg_lead_info li = {0};
            li.label = sg->desc;
            li.gain = (sg->gain > 0 ? sg->gain : 200.0) * units_per_mv(sg->units);
            li.baseline = sg->baseline;
            li.adc_zero = sg->adc_zero;
            li.adc_resolution = sg->adc_res;
            li.units = sg->units;
            li.initial_value = sg->init;
            if ((s = aiecg_record_set_lead(rec, i, &li))) break;
            got_info[i] = 1;
        }
    }
    /* pass 2: samples */
    int64_t at = 0;
    for (int k = first; k < h->nseg && !s; k++) {
        const aiecg__wfdb_segment *sgm = &h->seg[k];
        int64_t n = sgm->nsamples * factor;
        if (!parsed[k] || sgm->nsamples == 0) {
            at += n;
            continue;
        }
        const aiecg__wfdb_header *g = &sh[k];
        char sname[300];
        snprintf(sname, sizeof sname, "%s.hea", sgm->name);
        decoded d;
        aiecg_read_options o2 = opt ? *opt : aiecg_read_options_default();
        o2.max_samples = 0;
        s = read_signals(g, src, sname, &o2, sgm->nsamples, &d, err);
        src_release(src);
        if (s) {
            aiecg__error_prefix(err, "%s", hname);
            break;
        }
        for (int j = 0; j < g->nsig && !s; j++) {
            int dst = j;
            if (have_layout) {
                dst = -1;
                for (int i = 0; i < h->nsig; i++)
                    if (strcmp(layout->sig[i].desc, g->sig[j].desc) == 0) {
                        dst = i;
                        break;
                    }
                if (dst < 0) continue; /* a signal the layout does not name */
            }
            aiecg_lead_info li;
            aiecg_record_lead_info(d.rec, j, &li);
            if (!got_info[dst]) {
                if ((s = aiecg_record_set_lead(rec, dst, &li))) break;
                got_info[dst] = 1;
            } else {
                aiecg_lead_info have;
                aiecg_record_lead_info(rec, dst, &have);
                if (have.gain != li.gain || have.baseline != li.baseline) adc_ok[dst] = 0;
            }
            if (li.checksum_state == AIECG_CHECKSUM_BAD) ck[dst] = AIECG_CHECKSUM_BAD;
            else if (li.checksum_state == AIECG_CHECKSUM_OK && ck[dst] != AIECG_CHECKSUM_BAD)
                ck[dst] = AIECG_CHECKSUM_OK;
            memcpy(aiecg_record_lead_data_mut(rec, dst) + at, aiecg_record_lead_data(d.rec, j),
                   (size_t)n * sizeof(float));
            memcpy(aiecg_record_lead_adc_mut(rec, dst) + at, aiecg_record_lead_adc(d.rec, j),
                   (size_t)n * sizeof(int32_t));
        }
        aiecg_record_free(d.rec);
        at += n;
    }
    for (int i = 0; i < h->nsig && !s; i++) {
        aiecg_lead_info li;
        aiecg_record_lead_info(rec, i, &li);
        li.checksum_state = ck[i];
        li.lead = AIECG_LEAD_UNKNOWN;
        s = aiecg_record_set_lead(rec, i, &li);
    }
    if (!s)
        for (int i = 0; i < h->nsig; i++)
            if (!adc_ok[i]) {
                /* ADC values of different gains cannot share one lead: keep mV only */
                aiecg__free(rec->adc);
                rec->adc = NULL;
                break;
            }
    for (int k = 0; k < h->nseg; k++)
        if (parsed && parsed[k]) aiecg__wfdb_header_free(&sh[k]);
    aiecg__free(sh);
    aiecg__free(parsed);
    if (s) {
        if (s == AIECG_ERR_NOMEM && (!err || err->status != s))
            aiecg__error_set(err, s, "%s: out of memory", hname);
        aiecg_record_free(rec);
        return s;
    }
    out->rec = rec;
    out->factor = factor;
    return AIECG_OK;
}

/* ---- entry points ------------------------------------------------------ */

static aiecg_status read_header_file(wfdb_src *src, const char *recname, const char *hname,
                                     aiecg__wfdb_header *h, aiecg_error *err) {
    char path[8192];
    if (snprintf(path, sizeof path, "%s%s.hea", src->dir, recname) >= (int)sizeof path)
        return aiecg__error_set(err, AIECG_ERR_INVALID_ARG, "%s: segment path too long", hname);
    uint8_t *d;
    size_t n;
    aiecg_status s = aiecg__read_file(path, (size_t)16 << 20, &d, &n, err);
    if (s) {
        aiecg__error_prefix(err, "%s", hname);
        return s == AIECG_ERR_IO ? AIECG_ERR_NOT_FOUND : s;
    }
    s = aiecg__wfdb_header_parse((const char *)d, n, path, h, err);
    aiecg__free(d);
    return s;
}

static aiecg_status read_record(const char *text, size_t len, const char *hname, wfdb_src *src,
                                const aiecg_read_options *opt, decoded *d, aiecg_error *err) {
    d->rec = NULL;
    d->factor = 1;
    aiecg__wfdb_header h;
    aiecg_status s = aiecg__wfdb_header_parse(text, len, hname, &h, err);
    if (s) return s;
    if (h.nseg)
        s = read_multi(&h, src, hname, opt, d, err);
    else
        s = read_signals(&h, src, hname, opt, -1, d, err);
    src_release(src);
    if (!s && (s = set_meta(d->rec, &h))) aiecg__error_set(err, s, "%s: out of memory for metadata", hname);
    if (!s && opt && opt->derive_limb_leads && (s = aiecg_record_derive_limb_leads(d->rec, NULL)))
        aiecg__error_set(err, s, "%s: deriving limb leads: %s", hname, aiecg_strerror(s));
    if (s) {
        aiecg_record_free(d->rec);
        d->rec = NULL;
    }
    aiecg__wfdb_header_free(&h);
    return s;
}

aiecg_status aiecg_wfdb_read_memory(const void *header, size_t hlen, const void *const *dat,
                                    const size_t *dlen, int nfiles, const aiecg_read_options *opt,
                                    aiecg_record **out, aiecg_error *err) {
    if (out) *out = NULL;
    if (!header || !out || nfiles < 0)
        return aiecg__error_set(err, AIECG_ERR_INVALID_ARG, "aiecg_wfdb_read_memory: bad arguments");
    wfdb_src src;
    memset(&src, 0, sizeof src);
    src.memory = 1;
    src.mdat = dat;
    src.mlen = dlen;
    src.mfiles = nfiles;
    decoded d;
    aiecg_status s = read_record(header, hlen, "<memory header>", &src, opt, &d, err);
    if (!s) *out = d.rec;
    return s;
}

aiecg_status aiecg__wfdb_read_mem(const uint8_t *data, size_t len, const char *name,
                                  const aiecg_read_options *opt, aiecg_record **out, aiecg_error *err) {
    *out = NULL;
    wfdb_src src;
    memset(&src, 0, sizeof src);
    src.memory = 1;
    decoded d;
    aiecg_status s = read_record((const char *)data, len, name, &src, opt, &d, err);
    if (!s) *out = d.rec;
    return s;
}

/* Splits "dir/100.hea" or "dir/100" into "dir/" and "100". */
static aiecg_status split_path(const char *path, char *dir, size_t dsize, char *base, size_t bsize,
                               aiecg_error *err) {
    size_t n = strlen(path);
    /* "100.hea" and "100.dat" (a signal file named after its record) both mean record 100 */
    if (aiecg__path_has_ext(path, ".hea") || aiecg__path_has_ext(path, ".dat")) n -= 4;
    const char *slash = NULL;
    for (size_t i = 0; i < n; i++)
        if (path[i] == '/') slash = path + i;
    size_t dl = slash ? (size_t)(slash - path + 1) : 0;
    if (dl >= dsize || n - dl >= bsize || n == dl)
        return aiecg__error_set(err, AIECG_ERR_INVALID_ARG, "%s: not a usable WFDB record path", path);
    memcpy(dir, path, dl);
    dir[dl] = '\0';
    memcpy(base, path + dl, n - dl);
    base[n - dl] = '\0';
    return AIECG_OK;
}

aiecg_status aiecg__wfdb_read_path(const char *path, const aiecg_read_options *opt, aiecg_record **out,
                                   aiecg_error *err) {
    *out = NULL;
    wfdb_src src;
    memset(&src, 0, sizeof src);
    char base[1024];
    aiecg_status s = split_path(path, src.dir, sizeof src.dir, base, sizeof base, err);
    if (s) return s;
    char hpath[8192];
    snprintf(hpath, sizeof hpath, "%s%s.hea", src.dir, base);
    uint8_t *text;
    size_t len;
    if ((s = aiecg__read_file(hpath, (size_t)16 << 20, &text, &len, err))) return s;
    decoded d;
    s = read_record((const char *)text, len, hpath, &src, opt, &d, err);
    aiecg__free(text);
    if (s) return s;
    aiecg_record *rec = d.rec;
    if (!(opt && opt->skip_annotations)) {
        const char *ann = opt && opt->annotator && opt->annotator[0] ? opt->annotator : "atr";
        int explicit = opt && opt->annotator && opt->annotator[0];
        char apath[8192];
        snprintf(apath, sizeof apath, "%s%s.%s", src.dir, base, ann);
        FILE *f = fopen(apath, "rb");
        if (f) {
            fclose(f);
            s = aiecg_wfdb_annotations_read(apath, d.factor, rec, err);
        } else if (explicit) {
            s = aiecg__error_set(err, AIECG_ERR_NOT_FOUND, "%s: annotation file not found", apath);
        }
    }
    if (s) {
        aiecg_record_free(rec);
        return s;
    }
    *out = rec;
    return AIECG_OK;
}

int64_t aiecg_wfdb_frame_factor(const char *path) {
    char dir[4096], base[1024];
    if (!path || split_path(path, dir, sizeof dir, base, sizeof base, NULL)) return 1;
    char hpath[8192];
    snprintf(hpath, sizeof hpath, "%s%s.hea", dir, base);
    uint8_t *text;
    size_t len;
    if (aiecg__read_file(hpath, (size_t)16 << 20, &text, &len, NULL)) return 1;
    aiecg__wfdb_header h;
    int64_t f = 1;
    if (!aiecg__wfdb_header_parse((const char *)text, len, hpath, &h, NULL)) {
        for (int i = 0; i < h.nsig && h.sig; i++) f = AIECG__MAX(f, h.sig[i].spf);
        aiecg__wfdb_header_free(&h);
    }
    aiecg__free(text);
    return f;
}

int aiecg__wfdb_probe(const uint8_t *head, size_t len, const char *path) {
    if (path && aiecg__path_has_ext(path, ".hea")) return 100;
    if (path && aiecg__path_has_ext(path, ".dat")) {
        /* binary signal file: WFDB if its record's header sits beside it */
        char h[4096];
        size_t n = strlen(path);
        if (n < sizeof h) {
            memcpy(h, path, n - 4);
            memcpy(h + n - 4, ".hea", 5);
            FILE *f = fopen(h, "rb");
            if (f) {
                fclose(f);
                return 90;
            }
        }
    }
    if (!head || !len) return 0;
    /* text whose first non-comment line reads as a record line: "name[/n] nsig [fs ...]" */
    for (size_t i = 0; i < len; i++) {
        uint8_t c = head[i];
        if (c < 0x09 || (c > 0x0d && c < 0x20)) return 0;
    }
    const char *p = (const char *)head, *end = p + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        while (p < le && (*p == ' ' || *p == '\t')) p++;
        if (p < le && *p != '#' && *p != '\r') {
            char line[256];
            size_t n = AIECG__MIN((size_t)(le - p), sizeof line - 1);
            memcpy(line, p, n);
            line[n] = '\0';
            char name[128], rest[128];
            int nsig;
            if (sscanf(line, "%127[A-Za-z0-9_./-] %d%127s", name, &nsig, rest) >= 2 && nsig >= 0 &&
                nsig <= AIECG_MAX_LEADS && !strchr(name, '.'))
                return 40;
            return 0;
        }
        p = nl ? nl + 1 : end;
    }
    return 0;
}
