/*
 * DICOM waveform reader: 12-lead ECG (1.2.840.10008.5.1.4.1.1.9.1.1),
 * General ECG (...9.1.2), Ambulatory ECG (...9.1.3) and other waveform
 * storage classes that carry ECG channels (Hemodynamic ...9.2.1 files from
 * ECG carts exist). It implements the parts of DICOM PS3.10 (preamble,
 * "DICM", file meta group) and PS3.5 (explicit and implicit VR little
 * endian, sequences and items of defined and undefined length) that a
 * waveform object needs, and the PS3.3 Waveform module C.10.9: the
 * WaveformSequence (5400,0100) multiplex groups, channel definitions
 * (source code meaning -> lead, sensitivity x correction factor, baseline,
 * units) and interleaved WaveformData (5400,1010).
 * The "RHYTHM" multiplex group is preferred over median beats. Every length
 * is checked against the bytes that remain before it is used; nesting is
 * limited to 16 levels and the element count to 1,000,000.
 */
#include "io_int.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_DEPTH 16
#define MAX_ELEMENTS 1000000

#define TAG(g, e) (((uint32_t)(g) << 16) | (uint32_t)(e))
#define T_ITEM TAG(0xFFFE, 0xE000)
#define T_ITEM_END TAG(0xFFFE, 0xE00D)
#define T_SEQ_END TAG(0xFFFE, 0xE0DD)
#define UNDEF 0xFFFFFFFFu

typedef struct dset dset;
typedef struct delem {
    uint32_t tag;
    char vr[3];
    const uint8_t *v;
    uint32_t len;
    size_t off; /* byte offset of the element's tag */
    dset *items;
    int nitems, cap_items;
} delem;
struct dset {
    delem *e;
    int n, cap;
};

typedef struct dctx {
    const uint8_t *d;
    size_t len;
    int implicit;
    const char *name;
    aiecg_error *err;
    int64_t count;
} dctx;

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static uint32_t rd32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static void dset_free(dset *s) {
    if (!s) return;
    for (int i = 0; i < s->n; i++) {
        for (int k = 0; k < s->e[i].nitems; k++) dset_free(&s->e[i].items[k]);
        aiecg__free(s->e[i].items);
    }
    aiecg__free(s->e);
    s->e = NULL;
    s->n = s->cap = 0;
}

/* Sequences this reader descends into when the VR is implicit. */
static int known_sq(uint32_t tag) {
    switch (tag) {
    case TAG(0x5400, 0x0100): /* WaveformSequence */
    case TAG(0x003A, 0x0200): /* ChannelDefinitionSequence */
    case TAG(0x003A, 0x0208): /* ChannelSourceSequence */
    case TAG(0x003A, 0x0209): /* ChannelSourceModifiersSequence */
    case TAG(0x003A, 0x0211): /* ChannelSensitivityUnitsSequence */
    case TAG(0x0008, 0x1111): case TAG(0x0008, 0x1115): case TAG(0x0008, 0x1140):
    case TAG(0x0040, 0xA730): case TAG(0x0040, 0xA043): case TAG(0x0040, 0x08EA):
    case TAG(0x0040, 0xB020): case TAG(0x0040, 0xA168): case TAG(0x0018, 0x9512):
        return 1;
    default: return 0;
    }
}

static int vr_long(const char *vr) {
    static const char *const l[] = {"OB", "OW", "OF", "SQ", "UT", "UN", "OD", "OL", "OV", "UC", "UR", "SV", "UV"};
    for (size_t i = 0; i < AIECG__COUNTOF(l); i++)
        if (vr[0] == l[i][0] && vr[1] == l[i][1]) return 1;
    return 0;
}

static aiecg_status parse_items(dctx *c, size_t *pos, size_t end, uint32_t len, delem *el, int depth);

/*
 * Parses elements from *pos up to end (defined length) or up to an item
 * delimiter (until_delim). Results go to out (may be NULL to skip).
 */
static aiecg_status parse_dataset(dctx *c, size_t *pos, size_t end, int until_delim, dset *out, int depth) {
    if (depth > MAX_DEPTH)
        return aiecg__error_set(c->err, AIECG_ERR_LIMIT, "%s: sequences nested deeper than %d at byte offset %zu",
                                c->name, MAX_DEPTH, *pos);
    while (*pos < end) {
        size_t at = *pos;
        if (end - at < 8)
            return aiecg__error_set(c->err, AIECG_ERR_TRUNCATED, "%s: element header truncated at byte offset %zu",
                                    c->name, at);
        uint32_t tag = TAG(rd16(c->d + at), rd16(c->d + at + 2));
        if (tag == T_ITEM_END) {
            *pos = at + 8;
            if (until_delim) return AIECG_OK;
            continue; /* stray delimiter in a defined-length item: tolerated */
        }
        if (tag == T_ITEM || tag == T_SEQ_END)
            return aiecg__error_set(c->err, AIECG_ERR_FORMAT, "%s: unexpected item tag (FFFE,%04X) at byte offset %zu",
                                    c->name, tag & 0xFFFF, at);
        if (++c->count > MAX_ELEMENTS)
            return aiecg__error_set(c->err, AIECG_ERR_LIMIT, "%s: more than %d elements", c->name, MAX_ELEMENTS);
        delem el;
        memset(&el, 0, sizeof el);
        el.tag = tag;
        el.off = at;
        size_t p = at + 4;
        uint32_t len;
        int explicit_vr = !c->implicit || (tag >> 16) == 0x0002;
        if (explicit_vr) {
            el.vr[0] = (char)c->d[p];
            el.vr[1] = (char)c->d[p + 1];
            if (!isupper((unsigned char)el.vr[0]) || !isupper((unsigned char)el.vr[1]))
                return aiecg__error_set(c->err, AIECG_ERR_FORMAT,
                                        "%s: element (%04X,%04X) at byte offset %zu has no valid VR", c->name,
                                        tag >> 16, tag & 0xFFFF, at);
            if (vr_long(el.vr)) {
                if (end - at < 12)
                    return aiecg__error_set(c->err, AIECG_ERR_TRUNCATED,
                                            "%s: element header truncated at byte offset %zu", c->name, at);
                len = rd32(c->d + p + 4);
                p += 8;
            } else {
                len = rd16(c->d + p + 2);
                p += 4;
            }
        } else {
            len = rd32(c->d + p);
            p += 4;
            if (known_sq(tag)) memcpy(el.vr, "SQ", 2);
            else memcpy(el.vr, "UN", 2);
        }
        int sq = el.vr[0] == 'S' && el.vr[1] == 'Q';
        int un = el.vr[0] == 'U' && el.vr[1] == 'N';
        if (sq || len == UNDEF) {
            /* UN of undefined length is an implicit-VR sequence (PS3.5 6.2.2); OB/OW ones hold raw fragments. */
            int keep = out && (sq || un);
            *pos = p;
            aiecg_status s = parse_items(c, pos, end, len, keep ? &el : NULL, depth + 1);
            if (s) {
                if (out) {
                    for (int k = 0; k < el.nitems; k++) dset_free(&el.items[k]);
                    aiecg__free(el.items);
                }
                return s;
            }
        } else {
            if (len > end - p)
                return aiecg__error_set(c->err, AIECG_ERR_TRUNCATED,
                                        "%s: element (%04X,%04X) at byte offset %zu: length %u exceeds the %zu bytes left",
                                        c->name, tag >> 16, tag & 0xFFFF, at, len, end - p);
            el.v = c->d + p;
            el.len = len;
            *pos = p + len;
        }
        if (out) {
            if (out->n == out->cap) {
                int nc = out->cap ? out->cap * 2 : 16;
                delem *ne = aiecg__realloc(out->e, (size_t)nc * sizeof *ne);
                if (!ne) {
                    for (int k = 0; k < el.nitems; k++) dset_free(&el.items[k]);
                    aiecg__free(el.items);
                    return aiecg__error_set(c->err, AIECG_ERR_NOMEM, "out of memory");
                }
                out->e = ne;
                out->cap = nc;
            }
            out->e[out->n++] = el;
        }
    }
    if (until_delim)
        return aiecg__error_set(c->err, AIECG_ERR_TRUNCATED, "%s: item of undefined length has no delimiter before byte %zu",
                                c->name, end);
    return AIECG_OK;
}

/* Items of a sequence (defined length len, or UNDEF up to the sequence delimiter). */
static aiecg_status parse_items(dctx *c, size_t *pos, size_t end, uint32_t len, delem *el, int depth) {
    size_t stop = end;
    if (len != UNDEF) {
        if (len > end - *pos)
            return aiecg__error_set(c->err, AIECG_ERR_TRUNCATED,
                                    "%s: sequence at byte offset %zu: length %u exceeds the %zu bytes left", c->name,
                                    *pos, len, end - *pos);
        stop = *pos + len;
    }
    while (*pos < stop) {
        size_t at = *pos;
        if (stop - at < 8)
            return aiecg__error_set(c->err, AIECG_ERR_TRUNCATED, "%s: item header truncated at byte offset %zu",
                                    c->name, at);
        uint32_t tag = TAG(rd16(c->d + at), rd16(c->d + at + 2));
        uint32_t ilen = rd32(c->d + at + 4);
        *pos = at + 8;
        if (tag == T_SEQ_END) {
            if (len == UNDEF) return AIECG_OK;
            continue;
        }
        if (tag != T_ITEM)
            return aiecg__error_set(c->err, AIECG_ERR_FORMAT,
                                    "%s: expected an item (FFFE,E000) at byte offset %zu, found (%04X,%04X)", c->name,
                                    at, tag >> 16, tag & 0xFFFF);
        dset item = {0};
        dset *dst = NULL;
        if (el) {
            if (el->nitems >= 100000)
                return aiecg__error_set(c->err, AIECG_ERR_LIMIT, "%s: more than 100000 items in a sequence", c->name);
            dst = &item;
        }
        aiecg_status s;
        if (ilen == UNDEF) {
            s = parse_dataset(c, pos, stop, 1, dst, depth);
        } else {
            if (ilen > stop - *pos)
                return aiecg__error_set(c->err, AIECG_ERR_TRUNCATED,
                                        "%s: item at byte offset %zu: length %u exceeds the %zu bytes left", c->name, at,
                                        ilen, stop - *pos);
            size_t iend = *pos + ilen;
            /* Items of non-sequence data (encapsulated fragments) are raw bytes: skip them unparsed. */
            if (!el) {
                *pos = iend;
                continue;
            }
            s = parse_dataset(c, pos, iend, 0, dst, depth);
            *pos = iend;
        }
        if (s) {
            dset_free(&item);
            return s;
        }
        if (el) {
            if (el->nitems == el->cap_items) {
                int nc = el->cap_items ? el->cap_items * 2 : 4;
                dset *ni = aiecg__realloc(el->items, (size_t)nc * sizeof *ni);
                if (!ni) {
                    dset_free(&item);
                    return aiecg__error_set(c->err, AIECG_ERR_NOMEM, "out of memory");
                }
                el->items = ni;
                el->cap_items = nc;
            }
            el->items[el->nitems++] = item;
        }
    }
    if (len == UNDEF)
        return aiecg__error_set(c->err, AIECG_ERR_TRUNCATED, "%s: sequence of undefined length has no delimiter",
                                c->name);
    return AIECG_OK;
}

/* ---- value access ----------------------------------------------------------- */

static const delem *find(const dset *s, uint32_t tag) {
    if (!s) return NULL;
    for (int i = 0; i < s->n; i++)
        if (s->e[i].tag == tag) return &s->e[i];
    return NULL;
}

/* String value, trimmed of padding spaces/NULs (first value of a multi-valued string). */
static void str_val(const dset *s, uint32_t tag, char *out, size_t size) {
    out[0] = 0;
    const delem *e = find(s, tag);
    if (!e || !e->v) return;
    size_t n = 0;
    for (uint32_t i = 0; i < e->len && n + 1 < size; i++) {
        char ch = (char)e->v[i];
        if (ch == '\\') break;
        if (ch == 0) break;
        out[n++] = (unsigned char)ch < 0x20 ? ' ' : ch;
    }
    while (n && out[n - 1] == ' ') n--;
    out[n] = 0;
    size_t k = 0;
    while (out[k] == ' ') k++;
    if (k) memmove(out, out + k, n - k + 1);
}

static int ds_val(const dset *s, uint32_t tag, double *v) {
    char b[64];
    str_val(s, tag, b, sizeof b);
    if (!b[0]) return 0;
    char *e;
    *v = strtod(b, &e);
    return e != b && isfinite(*v);
}

static int us_val(const dset *s, uint32_t tag, uint32_t *v) {
    const delem *e = find(s, tag);
    if (!e || !e->v) return 0;
    if (e->len == 2) *v = rd16(e->v);
    else if (e->len == 4) *v = rd32(e->v);
    else return 0;
    return 1;
}

/* Parses "YYYYMMDD" and optional "HHMMSS.frac" into meta. */
static int parse_da_tm(const char *da, const char *tm, aiecg_record_meta *m) {
    if (strlen(da) < 8) return 0;
    for (int i = 0; i < 8; i++)
        if (!isdigit((unsigned char)da[i])) return 0;
    int y = atoi((char[]){da[0], da[1], da[2], da[3], 0}), mo = (da[4] - '0') * 10 + da[5] - '0',
        d = (da[6] - '0') * 10 + da[7] - '0';
    if (mo < 1 || mo > 12 || d < 1 || d > 31) return 0;
    int h = 0, mi = 0;
    double sec = 0;
    size_t tl = strlen(tm);
    if (tl >= 2 && isdigit((unsigned char)tm[0]) && isdigit((unsigned char)tm[1])) h = (tm[0] - '0') * 10 + tm[1] - '0';
    if (tl >= 4 && isdigit((unsigned char)tm[2]) && isdigit((unsigned char)tm[3])) mi = (tm[2] - '0') * 10 + tm[3] - '0';
    if (tl >= 6 && isdigit((unsigned char)tm[4]) && isdigit((unsigned char)tm[5])) sec = strtod(tm + 4, NULL);
    if (h > 23 || mi > 59 || !(sec >= 0 && sec < 61)) return 0;
    m->year = y, m->month = mo, m->day = d, m->hour = h, m->minute = mi, m->second = sec;
    m->has_start_time = 1;
    return 1;
}

static double units_to_mv(const char *u) {
    if (!strcmp(u, "uV") || !strcasecmp(u, "microvolt")) return 1e-3;
    if (!strcmp(u, "mV") || !strcasecmp(u, "millivolt")) return 1.0;
    if (!strcmp(u, "nV")) return 1e-6;
    if (!strcmp(u, "V")) return 1e3;
    return 0;
}

/* Lead from a channel source code meaning such as "Lead I (Einthoven)" or "Lead aVR". */
static aiecg_lead lead_of(const char *meaning, char *label, size_t size) {
    char b[64];
    snprintf(b, sizeof b, "%s", meaning);
    char *paren = strchr(b, '(');
    if (paren) *paren = 0;
    char *colon = strchr(b, ':');
    if (colon) *colon = 0;
    size_t n = strlen(b);
    while (n && b[n - 1] == ' ') b[--n] = 0;
    const char *p = b;
    if (!strncasecmp(p, "Lead ", 5)) p += 5;
    snprintf(label, size, "%s", p);
    return aiecg_lead_parse(p);
}

/* Case-insensitive substring test. */
static int has_word(const char *s, const char *w) {
    size_t k = strlen(w);
    for (; *s; s++)
        if (!strncasecmp(s, w, k)) return 1;
    return 0;
}

/* ---- the reader --------------------------------------------------------------- */

aiecg_status aiecg__dicom_read_mem(const uint8_t *data, size_t len, const char *name,
                                   const aiecg_read_options *opt, aiecg_record **out, aiecg_error *err) {
    *out = NULL;
    aiecg_read_options o = opt ? *opt : aiecg_read_options_default();
    dctx c = {data, len, 0, name ? name : "<memory>", err, 0};
    if (len < 132 || memcmp(data + 128, "DICM", 4) != 0)
        return aiecg__error_set(err, AIECG_ERR_FORMAT, "%s: no \"DICM\" at byte 128 (not a DICOM Part 10 file)", c.name);
    /* File meta group: explicit VR little endian, group 0002 only. */
    dset meta = {0}, ds = {0};
    aiecg_record *rec = NULL;
    size_t pos = 132, mend = 132;
    while (mend + 8 <= len && rd16(data + mend) == 0x0002) {
        size_t p = mend + 4;
        char vr[2] = {(char)data[p], (char)data[p + 1]};
        uint32_t l;
        if (vr_long(vr)) {
            if (mend + 12 > len) break;
            l = rd32(data + p + 4);
            p += 8;
        } else {
            l = rd16(data + p + 2);
            p += 4;
        }
        if (l > len - p)
            return aiecg__error_set(err, AIECG_ERR_TRUNCATED, "%s: file meta element at byte offset %zu overruns the file",
                                    c.name, mend);
        mend = p + l;
    }
    aiecg_status s = parse_dataset(&c, &pos, mend, 0, &meta, 0);
    if (s) goto done;
    char ts[80];
    str_val(&meta, TAG(0x0002, 0x0010), ts, sizeof ts);
    if (!strcmp(ts, "1.2.840.10008.1.2")) c.implicit = 1;
    else if (!strcmp(ts, "1.2.840.10008.1.2.1") || !ts[0]) c.implicit = 0;
    else if (!strcmp(ts, "1.2.840.10008.1.2.2")) {
        s = aiecg__error_set(err, AIECG_ERR_UNSUPPORTED, "%s: explicit VR big endian (1.2.840.10008.1.2.2) is not supported",
                             c.name);
        goto done;
    } else {
        s = aiecg__error_set(err, AIECG_ERR_UNSUPPORTED, "%s: transfer syntax %s is not supported (only little endian)",
                             c.name, ts);
        goto done;
    }
    pos = mend;
    if ((s = parse_dataset(&c, &pos, len, 0, &ds, 0))) goto done;

    const delem *ws = find(&ds, TAG(0x5400, 0x0100));
    if (!ws || ws->nitems == 0) {
        s = aiecg__error_set(err, AIECG_ERR_NOT_FOUND, "%s: no WaveformSequence (5400,0100)", c.name);
        goto done;
    }
    /* Multiplex group: RHYTHM first, then anything that is not a median beat, then the first. */
    int gi = -1;
    for (int pass = 0; pass < 3 && gi < 0; pass++)
        for (int i = 0; i < ws->nitems && gi < 0; i++) {
            char lab[64];
            str_val(&ws->items[i], TAG(0x003A, 0x0020), lab, sizeof lab);
            if (pass == 0 && !strncasecmp(lab, "RHYTHM", 6)) gi = i;
            if (pass == 1 && !has_word(lab, "MEDIAN")) gi = i;
            if (pass == 2) gi = i;
        }
    const dset *g = &ws->items[gi];
    uint32_t nch = 0, nsamp = 0, bits = 0;
    double fs = 0;
    char interp[16];
    str_val(g, TAG(0x5400, 0x1006), interp, sizeof interp);
    if (!us_val(g, TAG(0x003A, 0x0005), &nch) || !us_val(g, TAG(0x003A, 0x0010), &nsamp) ||
        !ds_val(g, TAG(0x003A, 0x001A), &fs) || !us_val(g, TAG(0x5400, 0x1004), &bits)) {
        s = aiecg__error_set(err, AIECG_ERR_FORMAT,
                             "%s: waveform group %d lacks NumberOfWaveformChannels, NumberOfWaveformSamples, "
                             "SamplingFrequency or WaveformBitsAllocated", c.name, gi + 1);
        goto done;
    }
    const delem *cds = find(g, TAG(0x003A, 0x0200));
    const delem *wd = find(g, TAG(0x5400, 0x1010));
    if (!cds || !wd || !wd->v) {
        s = aiecg__error_set(err, AIECG_ERR_FORMAT, "%s: waveform group %d lacks ChannelDefinitionSequence or WaveformData",
                             c.name, gi + 1);
        goto done;
    }
    int bytes = bits == 16 ? 2 : bits == 8 ? 1 : 0;
    int is_signed = !strcmp(interp, "SS") || !strcmp(interp, "SB");
    if (!bytes || (strcmp(interp, "SS") && strcmp(interp, "US") && strcmp(interp, "SB") && strcmp(interp, "UB"))) {
        s = aiecg__error_set(err, AIECG_ERR_UNSUPPORTED, "%s: waveform bits allocated %u with interpretation \"%s\" "
                             "(supported: 16 SS/US, 8 SB/UB)", c.name, bits, interp);
        goto done;
    }
    if (!(fs >= 1 && fs <= 100000)) {
        s = aiecg__error_set(err, AIECG_ERR_RANGE, "%s: SamplingFrequency %g Hz outside 1..100000", c.name, fs);
        goto done;
    }
    /* NumberOfWaveformChannels disagreeing with the channel definitions: trust what the data size supports. */
    if ((int)nch != cds->nitems) {
        uint64_t want = (uint64_t)cds->nitems * nsamp * (uint64_t)bytes;
        if (cds->nitems > 0 && want == wd->len) {
            aiecg__log(&o.logger, AIECG_LOG_WARN,
                       "%s: NumberOfWaveformChannels is %u but %d channels are defined and the data holds them; using %d",
                       c.name, nch, cds->nitems, cds->nitems);
            nch = (uint32_t)cds->nitems;
        } else {
            s = aiecg__error_set(err, AIECG_ERR_FORMAT,
                                 "%s: NumberOfWaveformChannels %u differs from the %d channel definitions", c.name, nch,
                                 cds->nitems);
            goto done;
        }
    }
    if (nch < 1 || nch > AIECG_MAX_LEADS) {
        s = aiecg__error_set(err, AIECG_ERR_RANGE, "%s: %u channels (1..%d allowed)", c.name, nch, AIECG_MAX_LEADS);
        goto done;
    }
    if ((uint64_t)nch * nsamp * (uint64_t)bytes > wd->len) {
        s = aiecg__error_set(err, AIECG_ERR_TRUNCATED,
                             "%s: WaveformData at byte offset %zu holds %u bytes, %u channels x %u samples need %llu",
                             c.name, wd->off, wd->len, nch, nsamp, (unsigned long long)nch * nsamp * bytes);
        goto done;
    }
    int64_t ns = nsamp;
    if (o.max_samples > 0 && ns > o.max_samples) ns = o.max_samples;
    if ((s = aiecg_record_new((int)nch, ns, fs, o.keep_adc, &rec, err))) goto done;
    for (uint32_t ch = 0; ch < nch; ch++) {
        const dset *cd = &cds->items[ch];
        double sens = 1, corr = 1, base = 0;
        ds_val(cd, TAG(0x003A, 0x0210), &sens);
        ds_val(cd, TAG(0x003A, 0x0212), &corr);
        ds_val(cd, TAG(0x003A, 0x0213), &base);
        char units[32] = "";
        const delem *us = find(cd, TAG(0x003A, 0x0211));
        if (us && us->nitems) str_val(&us->items[0], TAG(0x0008, 0x0100), units, sizeof units);
        double umv = units_to_mv(units);
        if (!umv) {
            s = aiecg__error_set(err, AIECG_ERR_UNSUPPORTED, "%s: channel %u: sensitivity units \"%s\" (need uV, mV or V)",
                                 c.name, ch + 1, units);
            goto done;
        }
        if (sens == 0 || corr == 0) {
            s = aiecg__error_set(err, AIECG_ERR_FORMAT, "%s: channel %u: sensitivity or correction factor is 0", c.name, ch + 1);
            goto done;
        }
        char meaning[128] = "", label[64] = "";
        const delem *src = find(cd, TAG(0x003A, 0x0208));
        if (src && src->nitems) str_val(&src->items[0], TAG(0x0008, 0x0104), meaning, sizeof meaning);
        aiecg_lead lead = lead_of(meaning, label, sizeof label);
        if (lead == AIECG_LEAD_UNKNOWN) {
            char cl[64];
            str_val(cd, TAG(0x003A, 0x0203), cl, sizeof cl);
            if (cl[0]) {
                aiecg_lead l2 = lead_of(cl, cl, sizeof cl);
                if (l2 != AIECG_LEAD_UNKNOWN || !label[0]) {
                    lead = l2;
                    snprintf(label, sizeof label, "%s", cl);
                }
            }
        }
        /* physical = (raw * sensitivity + baseline) * correction, as PS3.3 C.10.9.1.4.3 and pydicom apply it */
        double scale = sens * corr * umv, off = base * corr * umv;
        float *mv = aiecg_record_lead_data_mut(rec, (int)ch);
        int32_t *adc = aiecg_record_lead_adc_mut(rec, (int)ch);
        const uint8_t *p = wd->v + (size_t)ch * (size_t)bytes;
        size_t stride = (size_t)nch * (size_t)bytes;
        for (int64_t i = 0; i < ns; i++, p += stride) {
            int32_t v = bytes == 2 ? (is_signed ? (int16_t)rd16(p) : (int32_t)rd16(p))
                                   : (is_signed ? (int8_t)p[0] : (int32_t)p[0]);
            if (adc) adc[i] = v;
            mv[i] = (float)(v * scale + off);
        }
        aiecg_lead_info info = {0};
        info.label = label;
        info.lead = lead;
        info.gain = 1.0 / scale;
        info.baseline = (int32_t)lrint(-off / scale);
        info.units = units;
        info.adc_resolution = (int)bits;
        uint32_t stored;
        if (us_val(cd, TAG(0x003A, 0x021A), &stored) && stored > 0 && stored <= 32) info.adc_resolution = (int)stored;
        if ((s = aiecg_record_set_lead(rec, (int)ch, &info))) {
            s = aiecg__error_set(err, s, "%s: out of memory", c.name);
            goto done;
        }
    }
    aiecg_record_meta m;
    aiecg_record_meta_get(rec, &m);
    char pid[128], sex[8], age[16], da[32], tm[32], dt[64], dev[160], manu[80], model[80], rname[128];
    str_val(&ds, TAG(0x0010, 0x0020), pid, sizeof pid);
    str_val(&ds, TAG(0x0010, 0x0040), sex, sizeof sex);
    str_val(&ds, TAG(0x0010, 0x1010), age, sizeof age);
    str_val(&ds, TAG(0x0008, 0x0018), rname, sizeof rname);
    m.patient_id = pid;
    m.record_name = rname;
    m.format = "dicom";
    if (sex[0] == 'M' || sex[0] == 'F') m.sex = sex[0];
    if (strlen(age) == 4 && isdigit((unsigned char)age[0])) {
        int a = atoi(age);
        m.age = age[3] == 'Y' ? a : age[3] == 'M' ? a / 12 : 0;
    }
    str_val(&ds, TAG(0x0008, 0x002A), dt, sizeof dt);
    int have = 0;
    if (strlen(dt) >= 8) {
        char d8[9];
        memcpy(d8, dt, 8);
        d8[8] = 0;
        have = parse_da_tm(d8, dt + 8, &m);
    }
    static const uint32_t dates[3][2] = {{TAG(0x0008, 0x0022), TAG(0x0008, 0x0032)},
                                         {TAG(0x0008, 0x0023), TAG(0x0008, 0x0033)},
                                         {TAG(0x0008, 0x0020), TAG(0x0008, 0x0030)}};
    for (int k = 0; k < 3 && !have; k++) {
        str_val(&ds, dates[k][0], da, sizeof da);
        str_val(&ds, dates[k][1], tm, sizeof tm);
        have = parse_da_tm(da, tm, &m);
    }
    if (m.age < 0 && have) {
        char bd[32];
        str_val(&ds, TAG(0x0010, 0x0030), bd, sizeof bd);
        aiecg_record_meta b = {0};
        if (parse_da_tm(bd, "", &b)) {
            int a = m.year - b.year - (m.month < b.month || (m.month == b.month && m.day < b.day));
            if (a >= 0 && a < 200) m.age = a;
        }
    }
    str_val(&ds, TAG(0x0008, 0x0070), manu, sizeof manu);
    str_val(&ds, TAG(0x0008, 0x1090), model, sizeof model);
    snprintf(dev, sizeof dev, "%s%s%s", manu, manu[0] && model[0] ? " " : "", model);
    m.device = dev;
    if ((s = aiecg_record_set_meta(rec, &m))) {
        s = aiecg__error_set(err, s, "%s: out of memory", c.name);
        goto done;
    }
    if (o.derive_limb_leads && (s = aiecg_record_derive_limb_leads(rec, NULL))) {
        s = aiecg__error_set(err, s, "%s: cannot derive limb leads", c.name);
        goto done;
    }
    *out = rec;
    rec = NULL;
done:
    aiecg_record_free(rec);
    dset_free(&meta);
    dset_free(&ds);
    return s;
}

aiecg_status aiecg__dicom_read_path(const char *path, const aiecg_read_options *opt, aiecg_record **out,
                                    aiecg_error *err) {
    return aiecg__read_path_via_mem(path, aiecg__dicom_read_mem, opt, out, err);
}

int aiecg__dicom_probe(const uint8_t *head, size_t len, const char *path) {
    if (head && len >= 132 && memcmp(head + 128, "DICM", 4) == 0) return 95;
    if (aiecg__path_has_ext(path, ".dcm")) return 30;
    return 0;
}
