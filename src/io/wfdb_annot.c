/*
 * WFDB annotation files in MIT format (PhysioNet annot(5)). The file is a
 * stream of little-endian 16-bit words: the top 6 bits are a code A, the low
 * 10 bits a value I. A in 1..49 is an annotation whose time is the previous
 * one's plus I; the pseudo-codes that follow modify it: SKIP (59: a 32-bit
 * interval follows, high word first), NUM (60), SUB (61), CHN (62) and AUX
 * (63: I bytes of text follow, padded to an even count). A zero word ends
 * the file. num and chan carry over from one annotation to the next, subtyp
 * and aux do not (as in WFDB's getann). Time-0 NOTE annotations holding
 * "## time resolution: ..." or mnemonic-table entries describe the file, not
 * an event, and are skipped as WFDB's annopen does.
 */
#include "wfdb_int.h"
#include "../core/sbuf.h"

#include <stdio.h>
#include <string.h>

enum { A_SKIP = 59, A_NUM = 60, A_SUB = 61, A_CHN = 62, A_AUX = 63 };

static int32_t sext10(unsigned v) { return (int32_t)((v ^ 0x200u) - 0x200u); }

/* Calls sink for each annotation; stops on the first non-OK status. */
typedef aiecg_status (*ann_sink)(void *ctx, const aiecg_annotation *a);

static aiecg_status parse(const uint8_t *d, size_t len, const char *name, int64_t scale, ann_sink sink,
                          void *ctx, aiecg_error *err) {
    if (scale < 1) scale = 1;
    size_t pos = 0;
    int64_t t = 0;
    int chan = 0, num = 0;
    aiecg_annotation cur = {0};
    int have = 0;
    char aux[1024];
    aiecg_status s;
#define RET(x)                                                                                     \
    do {                                                                                           \
        aiecg_status r_ = (x);                                                                     \
        if (have) aiecg__free((void *)cur.aux);                                                    \
        return r_;                                                                                 \
    } while (0)
    while (1) {
        if (pos + 2 > len) {
            if (pos == len) break; /* no end word: accept the end of the file as end */
            RET(aiecg__error_set(err, AIECG_ERR_TRUNCATED,
                                    "%s: byte offset %zu: odd trailing byte (annotation words are 2 "
                                    "bytes)",
                                    name, pos));
        }
        unsigned w = (unsigned)d[pos] | ((unsigned)d[pos + 1] << 8);
        unsigned A = w >> 10, I = w & 0x3ff;
        size_t at = pos;
        pos += 2;
        if (A == 0 && I == 0) break;
        if (A >= 50 && A <= 58) {
            RET(aiecg__error_set(err, AIECG_ERR_FORMAT,
                                    "%s: byte offset %zu: field 'annotation code': %u is not a WFDB "
                                    "code",
                                    name, at, A));
        }
        switch (A) {
        case A_SKIP: {
            if (pos + 4 > len)
                RET(aiecg__error_set(err, AIECG_ERR_TRUNCATED,
                                        "%s: byte offset %zu: SKIP without its 4-byte interval", name,
                                        at));
            uint32_t hi = (uint32_t)d[pos] | ((uint32_t)d[pos + 1] << 8);
            uint32_t lo = (uint32_t)d[pos + 2] | ((uint32_t)d[pos + 3] << 8);
            pos += 4;
            int32_t iv = (int32_t)((hi << 16) | lo);
            if (have) {
                have = 0; /* the sink owns cur.aux from here */
                if ((s = sink(ctx, &cur))) return s;
            }
            t += iv;
            if (t < -((int64_t)1 << 40) || t > ((int64_t)1 << 40)) /* negative only in passing */
                RET(aiecg__error_set(err, AIECG_ERR_RANGE,
                                        "%s: byte offset %zu: field 'SKIP interval': time %lld out of "
                                        "range",
                                        name, at, (long long)t));
            break;
        }
        case A_NUM:
            num = sext10(I);
            if (have) cur.num = num;
            break;
        case A_SUB:
            if (have) cur.subtype = sext10(I);
            break;
        case A_CHN:
            chan = (int)I;
            if (have) cur.channel = chan;
            break;
        case A_AUX: {
            size_t n = I & 0xff, padded = n + (n & 1); /* WFDB takes the low 8 bits as the length */
            if (pos + padded > len && pos + n > len)
                RET(aiecg__error_set(err, AIECG_ERR_TRUNCATED,
                                        "%s: byte offset %zu: AUX of %zu bytes runs past the end", name,
                                        at, n));
            size_t k = 0;
            for (size_t i = 0; i < n; i++)
                if (d[pos + i]) aux[k++] = (char)d[pos + i];
                else break;
            aux[k] = '\0';
            pos += AIECG__MIN(padded, len - pos);
            if (have) {
                aiecg__free((void *)cur.aux);
                if (!(cur.aux = aiecg__strdup(aux))) RET(AIECG_ERR_NOMEM);
            }
            break;
        }
        default:
            if (have) {
                have = 0;
                if ((s = sink(ctx, &cur))) return s;
            }
            t += I;
            if (t < 0)
                RET(aiecg__error_set(err, AIECG_ERR_RANGE,
                                     "%s: byte offset %zu: annotation time %lld is negative", name, at,
                                     (long long)t));
            memset(&cur, 0, sizeof cur);
            cur.sample = t * scale;
            cur.code = (int)A;
            cur.channel = chan;
            cur.num = num;
            have = 1;
            break;
        }
    }
    if (have) return sink(ctx, &cur);
    return AIECG_OK;
#undef RET
}

/* ---- sinks -------------------------------------------------------------- */

typedef struct {
    aiecg_record *rec;
    int first;
} rec_sink_ctx;

/*
 * WFDB's annopen consumes NOTE annotations at time 0 that carry "## ..." notes
 * (time resolution) or "<code> <mnemonic> <description>" entries redefining
 * mnemonics; they describe the file, not the signal. Custom mnemonics are
 * not applied here: codes keep their standard names.
 */
static int is_time_resolution_note(const aiecg_annotation *a) {
    if (a->sample != 0 || !a->aux || (a->code != 22 && a->code != 0)) return 0;
    return a->aux[0] == '#' || (a->aux[0] >= '0' && a->aux[0] <= '9');
}

static aiecg_status to_record(void *vctx, const aiecg_annotation *a) {
    rec_sink_ctx *c = vctx;
    aiecg_status s = AIECG_OK;
    if (!is_time_resolution_note(a)) s = aiecg_record_add_annotation(c->rec, a);
    aiecg__free((void *)a->aux);
    return s;
}

typedef struct {
    aiecg_annotation *v;
    int64_t n, cap;
} arr_sink_ctx;

static aiecg_status to_array(void *vctx, const aiecg_annotation *a) {
    arr_sink_ctx *c = vctx;
    if (is_time_resolution_note(a)) {
        aiecg__free((void *)a->aux);
        return AIECG_OK;
    }
    if (c->n == c->cap) {
        int64_t nc = c->cap ? c->cap * 2 : 256;
        if (nc > ((int64_t)1 << 28)) {
            aiecg__free((void *)a->aux);
            return AIECG_ERR_LIMIT;
        }
        aiecg_annotation *nv = aiecg__realloc(c->v, (size_t)nc * sizeof *nv);
        if (!nv) {
            aiecg__free((void *)a->aux);
            return AIECG_ERR_NOMEM;
        }
        c->v = nv;
        c->cap = nc;
    }
    c->v[c->n++] = *a; /* takes the aux string */
    return AIECG_OK;
}

aiecg_status aiecg__wfdb_annot_parse(const uint8_t *data, size_t len, const char *name,
                                     int64_t sample_scale, aiecg_record *rec, aiecg_error *err) {
    rec_sink_ctx c = {rec, 1};
    aiecg_status s = parse(data, len, name, sample_scale, to_record, &c, err);
    if (s && (!err || err->status != s))
        aiecg__error_set(err, s, "%s: %s while reading annotations", name, aiecg_strerror(s));
    return s;
}

aiecg_status aiecg_wfdb_annotations_read_memory(const void *data, size_t len, const char *name,
                                                int64_t sample_scale, aiecg_record *rec,
                                                aiecg_error *err) {
    if (!data || !rec)
        return aiecg__error_set(err, AIECG_ERR_INVALID_ARG, "annotations: no buffer or record");
    return aiecg__wfdb_annot_parse(data, len, name ? name : "<memory annotations>", sample_scale, rec,
                                   err);
}

aiecg_status aiecg_wfdb_annotations_read(const char *path, int64_t sample_scale, aiecg_record *rec,
                                         aiecg_error *err) {
    if (!path || !rec) return aiecg__error_set(err, AIECG_ERR_INVALID_ARG, "annotations: no path or record");
    uint8_t *d;
    size_t n;
    aiecg_status s = aiecg__read_file(path, (size_t)1 << 30, &d, &n, err);
    if (s) return s;
    s = aiecg__wfdb_annot_parse(d, n, path, sample_scale, rec, err);
    aiecg__free(d);
    return s;
}

void aiecg_wfdb_annotations_free(aiecg_annotation *ann, int64_t count) {
    if (!ann) return;
    for (int64_t i = 0; i < count; i++) aiecg__free((void *)ann[i].aux);
    aiecg__free(ann);
}

aiecg_status aiecg_wfdb_annotations_load(const char *path, aiecg_annotation **out, int64_t *count,
                                         aiecg_error *err) {
    if (out) *out = NULL;
    if (count) *count = 0;
    if (!path || !out || !count)
        return aiecg__error_set(err, AIECG_ERR_INVALID_ARG, "annotations: bad arguments");
    uint8_t *d;
    size_t n;
    aiecg_status s = aiecg__read_file(path, (size_t)1 << 30, &d, &n, err);
    if (s) return s;
    arr_sink_ctx c = {0};
    s = parse(d, n, path, 1, to_array, &c, err);
    aiecg__free(d);
    if (s) {
        if (!err || err->status != s)
            aiecg__error_set(err, s, "%s: %s while reading annotations", path, aiecg_strerror(s));
        aiecg_wfdb_annotations_free(c.v, c.n);
        return s;
    }
    *out = c.v;
    *count = c.n;
    return AIECG_OK;
}

/* ---- writer ------------------------------------------------------------- */

static void put16(aiecg__sbuf *b, unsigned w) {
    char c[2] = {(char)(w & 0xff), (char)((w >> 8) & 0xff)};
    aiecg__sbuf_append(b, c, 2);
}

static void put_skip(aiecg__sbuf *b, int64_t delta) {
    uint32_t v = (uint32_t)(int32_t)delta;
    put16(b, A_SKIP << 10);
    put16(b, (v >> 16) & 0xffff);
    put16(b, v & 0xffff);
}

/* Encodes annotations (times divided by scale) into b. */
aiecg_status aiecg__wfdb_annot_encode(const aiecg_annotation *ann, int64_t count, int64_t scale,
                                      aiecg__sbuf *b, aiecg_error *err) {
    if (scale < 1) scale = 1;
    int64_t prev = 0;
    int chan = 0, num = 0;
    for (int64_t i = 0; i < count; i++) {
        const aiecg_annotation *a = &ann[i];
        if (a->code < 0 || a->code > 49)
            return aiecg__error_set(err, AIECG_ERR_RANGE,
                                    "annotation %lld: field 'code': %d is not a WFDB code 0..49",
                                    (long long)i, a->code);
        int64_t t = a->sample / scale;
        int64_t delta = t - prev;
        if (delta < INT32_MIN || delta > INT32_MAX || t < 0)
            return aiecg__error_set(err, AIECG_ERR_RANGE,
                                    "annotation %lld: field 'sample': %lld cannot be written",
                                    (long long)i, (long long)a->sample);
        if (a->code == 0) {
            /* a zero word would read as end-of-file: SKIP to just before, then step 1 (as putann) */
            put_skip(b, delta - 1);
            delta = 1;
        } else if (delta > 1023 || delta < 0) {
            put_skip(b, delta);
            delta = 0;
        }
        put16(b, ((unsigned)a->code << 10) | (unsigned)delta);
        if (a->subtype) put16(b, (A_SUB << 10) | ((unsigned)a->subtype & 0x3ff));
        if (a->channel != chan) put16(b, (A_CHN << 10) | ((unsigned)a->channel & 0x3ff));
        if (a->num != num) put16(b, (A_NUM << 10) | ((unsigned)a->num & 0x3ff));
        if (a->aux && a->aux[0]) {
            /* the count includes the terminating NUL, as the MIT-BIH files have it */
            size_t n = strlen(a->aux);
            if (n > 254) n = 254;
            put16(b, (A_AUX << 10) | (unsigned)(n + 1));
            aiecg__sbuf_append(b, a->aux, n);
            aiecg__sbuf_append(b, "\0\0", (n + 1) & 1 ? 2 : 1);
        }
        chan = a->channel;
        num = a->num;
        prev = t;
    }
    put16(b, 0);
    if (b->oom) return aiecg__error_set(err, AIECG_ERR_NOMEM, "out of memory encoding annotations");
    return AIECG_OK;
}

aiecg_status aiecg_wfdb_annotations_write(const char *path, const aiecg_annotation *ann, int64_t count,
                                          aiecg_error *err) {
    if (!path || (count && !ann) || count < 0)
        return aiecg__error_set(err, AIECG_ERR_INVALID_ARG, "annotations: bad arguments");
    aiecg__sbuf b;
    aiecg__sbuf_init(&b);
    aiecg_status s = aiecg__wfdb_annot_encode(ann, count, 1, &b, err);
    if (!s) {
        FILE *f = fopen(path, "wb");
        if (!f) {
            s = aiecg__error_set(err, AIECG_ERR_IO, "%s: cannot create annotation file", path);
        } else {
            if (fwrite(b.data, 1, b.len, f) != b.len) s = AIECG_ERR_IO;
            if (fclose(f) != 0) s = AIECG_ERR_IO;
            if (s) aiecg__error_set(err, s, "%s: write failed", path);
        }
    } else {
        aiecg__error_prefix(err, "%s", path);
    }
    aiecg__sbuf_free(&b);
    return s;
}
