/*
 * Philips Sierra ECG XML reader (<restingecgdata>, documenttype SierraECG or
 * PhilipsECG, documentversion 1.03, 1.04, 1.04.01; UTF-8 or UTF-16 by BOM).
 * Waveforms are in <parsedwaveforms>: base64 text, either plain 16-bit LE
 * samples lead after lead, or XLI-compressed. XLI, as documented by the
 * open-source sierra-ecg-tools project (C. Watford), is per lead: an 8-byte
 * header (int32 LE payload size, 2 bytes unused, int16 LE start value), an
 * LZW payload with fixed 10-bit codes packed most significant bit first
 * (dictionary of the 256 bytes, codes up to 1022, the decoder stops when it
 * cannot refill 25 bits), whose output bytes are the samples' high bytes
 * followed by their low bytes, and a second-order predictor:
 * x[i] = 2 x[i-1] - x[i-2] - (d[i-1] - 64) with d[1] - 64 replaced by start.
 * XLI stores III, aVR, aVL and aVF as residuals from I and II, which are
 * reconstructed here as the same project describes. Interpretation
 * statements become record statements.
 */
#include "xml_int.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LZW_BITS 10
#define LZW_MAX_CODE ((1 << LZW_BITS) - 2)

/* ---- XLI ---------------------------------------------------------------- */

typedef struct lzw {
    const uint8_t *in;
    size_t n, pos;
    uint32_t bitbuf;
    int bitcount;
    /* dictionary: each entry is (prefix code, last byte, length) */
    int prefix[LZW_MAX_CODE + 1];
    uint8_t last[LZW_MAX_CODE + 1], first[LZW_MAX_CODE + 1];
    int len[LZW_MAX_CODE + 1];
    int next;
} lzw;

/* Next 10-bit code, or -1 at the end (fewer than 25 bits could be buffered). */
static int lzw_code(lzw *z) {
    while (z->bitcount <= 24) {
        if (z->pos >= z->n) return -1;
        z->bitbuf |= (uint32_t)z->in[z->pos++] << (24 - z->bitcount);
        z->bitcount += 8;
    }
    int code = (int)(z->bitbuf >> (32 - LZW_BITS));
    z->bitbuf <<= LZW_BITS;
    z->bitcount -= LZW_BITS;
    return code;
}

/* Writes the string of `code` ending at out[end-1]; the caller knows its length. */
static void lzw_emit(const lzw *z, int code, uint8_t *out, int length) {
    for (int i = length - 1; i >= 0; i--) {
        out[i] = z->last[code];
        code = z->prefix[code];
    }
}

/*
 * Decodes one LZW payload into out (capacity cap). Returns the byte count,
 * or -1 for a corrupt stream (code beyond the dictionary), -2 when out is full.
 */
static int64_t lzw_decode(const uint8_t *in, size_t n, uint8_t *out, size_t cap) {
    lzw *z = aiecg__malloc(sizeof *z);
    if (!z) return -3;
    memset(z, 0, sizeof *z);
    z->in = in;
    z->n = n;
    for (int i = 0; i < 256; i++) {
        z->prefix[i] = -1;
        z->last[i] = z->first[i] = (uint8_t)i;
        z->len[i] = 1;
    }
    z->next = 256;
    size_t w = 0;
    int prev = -1;
    int64_t result;
    for (;;) {
        int code = lzw_code(z);
        if (code < 0 || code > LZW_MAX_CODE) break;
        int length;
        uint8_t firstb;
        if (code < z->next) {
            length = z->len[code];
            firstb = z->first[code];
        } else if (code == z->next && prev >= 0) {
            length = z->len[prev] + 1; /* the KwKwK case: previous string + its own first byte */
            firstb = z->first[prev];
        } else {
            result = -1;
            goto out;
        }
        if ((size_t)length > cap - w) {
            result = -2;
            goto out;
        }
        if (prev >= 0 && z->next <= LZW_MAX_CODE) {
            int k = z->next++;
            z->prefix[k] = prev;
            z->last[k] = firstb;
            z->first[k] = z->first[prev];
            z->len[k] = z->len[prev] + 1;
        }
        lzw_emit(z, code, out + w, length);
        w += (size_t)length;
        prev = code;
    }
    result = (int64_t)w;
out:
    aiecg__free(z);
    return result;
}

/*
 * Decodes nleads XLI chunks into out[lead][0..ns). With out NULL it only
 * checks that every chunk decodes to at least ns samples, so that a
 * declared duration is proven by the data before the sample array exists.
 */
static aiecg_status xli_decode(const uint8_t *d, size_t n, int nleads, int64_t ns, int32_t *out,
                               const char *name, aiecg_error *err) {
    size_t off = 0;
    uint8_t *buf = NULL;
    int32_t *tmp = NULL;
    aiecg_status s = AIECG_OK;
    /* Output buffer: room for the expected 2 bytes per sample, grown (up to 4 MiB) if a lead needs more. */
    const size_t max_cap = (size_t)1 << 22;
    size_t cap = (size_t)ns * 4 + 4096;
    if (cap > max_cap) cap = max_cap;
    buf = aiecg__malloc(cap + 1); /* + 1: odd byte counts are padded */
    if (!buf) return aiecg__error_set(err, AIECG_ERR_NOMEM, "out of memory");
    for (int l = 0; l < nleads; l++) {
        if (n - off < 8) {
            s = aiecg__error_set(err, AIECG_ERR_TRUNCATED, "%s: XLI data ends before lead %d (byte %zu of %zu)", name,
                                 l + 1, off, n);
            goto done;
        }
        int32_t size = (int32_t)((uint32_t)d[off] | ((uint32_t)d[off + 1] << 8) | ((uint32_t)d[off + 2] << 16) |
                                 ((uint32_t)d[off + 3] << 24));
        int16_t start = (int16_t)(d[off + 6] | (d[off + 7] << 8));
        off += 8;
        if (size < 0 || (size_t)size > n - off) {
            s = aiecg__error_set(err, AIECG_ERR_TRUNCATED,
                                 "%s: XLI lead %d: chunk size %d at byte %zu exceeds the %zu bytes left", name, l + 1,
                                 size, off - 8, n - off);
            goto done;
        }
        int64_t nb = lzw_decode(d + off, (size_t)size, buf, cap);
        while (nb == -2 && cap < max_cap) {
            cap = cap * 2 > max_cap ? max_cap : cap * 2;
            uint8_t *nbuf = aiecg__realloc(buf, cap + 1);
            if (!nbuf) {
                s = aiecg__error_set(err, AIECG_ERR_NOMEM, "out of memory");
                goto done;
            }
            buf = nbuf;
            nb = lzw_decode(d + off, (size_t)size, buf, cap);
        }
        off += (size_t)size;
        if (nb == -3) {
            s = aiecg__error_set(err, AIECG_ERR_NOMEM, "out of memory");
            goto done;
        }
        if (nb < 0) {
            s = aiecg__error_set(err, nb == -1 ? AIECG_ERR_FORMAT : AIECG_ERR_LIMIT,
                                 "%s: XLI lead %d: %s", name, l + 1,
                                 nb == -1 ? "LZW code beyond the dictionary" : "decoded data larger than 4 MiB");
            goto done;
        }
        if (nb % 2) buf[nb++] = 0;
        int64_t half = nb / 2;
        if (half < ns) {
            s = aiecg__error_set(err, AIECG_ERR_TRUNCATED, "%s: XLI lead %d decodes to %lld samples, %lld expected", name,
                                 l + 1, (long long)half, (long long)ns);
            goto done;
        }
        if (!out) continue;
        aiecg__free(tmp);
        tmp = aiecg__malloc((size_t)half * sizeof *tmp);
        if (!tmp) {
            s = aiecg__error_set(err, AIECG_ERR_NOMEM, "out of memory");
            goto done;
        }
        for (int64_t i = 0; i < half; i++) tmp[i] = (int16_t)((buf[i] << 8) | buf[half + i]);
        /* second-order prediction; the stored deltas are biased by 64 */
        int32_t *x = out + (size_t)l * (size_t)ns;
        /* 64-bit: at most 2^21 steps of a bounded second difference cannot overflow */
        int64_t a = half > 0 ? tmp[0] : 0, b = half > 1 ? tmp[1] : 0, lastd = start;
        for (int64_t i = 0; i < half && i < ns; i++) {
            if (i < 2) {
                x[i] = tmp[i];
                continue;
            }
            int64_t zv = 2 * b - a - lastd;
            lastd = tmp[i] - 64;
            x[i] = zv > INT32_MAX / 4 ? INT32_MAX / 4 : zv < INT32_MIN / 4 ? INT32_MIN / 4 : (int32_t)zv;
            a = b;
            b = zv;
        }
    }
done:
    aiecg__free(buf);
    aiecg__free(tmp);
    return s;
}

static int32_t floor_half(int32_t v) { return (int32_t)floor(v / 2.0); }

/* ---- reader --------------------------------------------------------------- */

static aiecg_status fmt_err(aiecg_error *err, const char *name, const aiecg__xml_node *n, aiecg_status st,
                            const char *what) {
    char path[256];
    aiecg__xml_node_path(n, path, sizeof path);
    return aiecg__error_set(err, st, "%s: %s at %s (byte offset %zu)", name, what, path, n->offset);
}

static int to_long(const char *s, long *v) {
    char *e;
    if (!s || !*s) return 0;
    *v = strtol(s, &e, 10);
    while (*e && isspace((unsigned char)*e)) e++;
    return e != s && *e == 0;
}

static int to_double(const char *s, double *v) {
    char *e;
    if (!s || !*s) return 0;
    *v = strtod(s, &e);
    return e != s && isfinite(*v);
}

aiecg_status aiecg__philips_read_mem(const uint8_t *data, size_t len, const char *name,
                                     const aiecg_read_options *opt, aiecg_record **out, aiecg_error *err) {
    *out = NULL;
    aiecg_read_options o = opt ? *opt : aiecg_read_options_default();
    if (!name) name = "<memory>";
    aiecg__xml_doc *doc = NULL;
    aiecg_status s = aiecg__xml_parse(data, len, NULL, &doc, err);
    if (s) {
        aiecg__error_prefix(err, "%s", name);
        return s;
    }
    aiecg_record *rec = NULL;
    uint8_t *raw = NULL;
    int32_t *samp = NULL;
    const aiecg__xml_node *root = aiecg__xml_root(doc);
    if (strcmp(root->name, "restingecgdata") != 0) {
        s = aiecg__error_set(err, AIECG_ERR_FORMAT, "%s: root element is <%s>, not <restingecgdata>", name, root->qname);
        goto done;
    }
    const char *dtype = aiecg__xml_path_text(root, "documentinfo/documenttype");
    const char *dver = aiecg__xml_path_text(root, "documentinfo/documentversion");
    if (strcmp(dtype, "SierraECG") != 0 && strcmp(dtype, "PhilipsECG") != 0) {
        s = aiecg__error_set(err, AIECG_ERR_UNSUPPORTED,
                             "%s: documenttype \"%s\" is not SierraECG or PhilipsECG", name, dtype);
        goto done;
    }
    if (strcmp(dver, "1.03") != 0 && strcmp(dver, "1.04") != 0 && strcmp(dver, "1.04.01") != 0) {
        s = aiecg__error_set(err, AIECG_ERR_UNSUPPORTED,
                             "%s: documentversion \"%s\" is not supported (1.03, 1.04, 1.04.01)", name, dver);
        goto done;
    }
    const aiecg__xml_node *sc = aiecg__xml_path(root, "dataacquisition/signalcharacteristics");
    const aiecg__xml_node *pw = aiecg__xml_path(root, "waveforms/parsedwaveforms");
    if (!pw) {
        s = aiecg__error_set(err, AIECG_ERR_NOT_FOUND, "%s: no <waveforms>/<parsedwaveforms>", name);
        goto done;
    }
    double fs = 0, res = 0, dur = 0;
    if (!to_double(aiecg__xml_get_attr(pw, "samplespersecond"), &fs))
        to_double(aiecg__xml_path_text(sc, "samplingrate"), &fs);
    if (!to_double(aiecg__xml_get_attr(pw, "resolution"), &res))
        to_double(aiecg__xml_path_text(sc, "signalresolution"), &res);
    if (!(fs >= 1 && fs <= 100000) || !(res > 0)) {
        s = fmt_err(err, name, pw, AIECG_ERR_FORMAT, "sampling rate or resolution missing or invalid");
        goto done;
    }
    if (!to_double(aiecg__xml_get_attr(pw, "durationperchannel"), &dur) || !(dur > 0) || dur > 1e8) {
        s = fmt_err(err, name, pw, AIECG_ERR_FORMAT, "durationperchannel (ms) missing or invalid");
        goto done;
    }
    int64_t ns = (int64_t)llround(dur * fs / 1000.0);
    /* lead labels: attribute (1.04) or the acquisition type's standard order (1.03) */
    char labels[AIECG_MAX_LEADS][24];
    int nl = 0;
    const char *ll = aiecg__xml_get_attr(pw, "leadlabels");
    long nleads_attr = 0;
    if (ll && *ll) {
        to_long(aiecg__xml_get_attr(pw, "numberofleads"), &nleads_attr);
        const char *p = ll;
        while (*p && nl < AIECG_MAX_LEADS) {
            while (*p == ' ') p++;
            if (!*p) break;
            size_t k = 0;
            while (p[k] && p[k] != ' ') k++;
            snprintf(labels[nl], sizeof labels[nl], "%.*s", (int)AIECG__MIN(k, 15), p);
            nl++;
            p += k;
        }
        if (nleads_attr > 0 && nleads_attr < nl) nl = (int)nleads_attr;
    } else {
        long nch = 0;
        if (!to_long(aiecg__xml_path_text(sc, "numberchannelsallocated"), &nch))
            to_long(aiecg__xml_path_text(sc, "numberchannelsvalid"), &nch);
        if (nch < 1 || nch > AIECG_MAX_LEADS) {
            s = aiecg__error_set(err, AIECG_ERR_FORMAT, "%s: numberchannelsallocated %ld outside 1..%d", name, nch,
                                 AIECG_MAX_LEADS);
            goto done;
        }
        static const char *const std12[12] = {"I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"};
        const char *acq = aiecg__xml_path_text(sc, "acquisitiontype");
        int std = !strcmp(acq, "STD-12") || !strcmp(acq, "10-WIRE");
        for (nl = 0; nl < nch; nl++) {
            if (std && nl < 12) snprintf(labels[nl], sizeof labels[nl], "%s", std12[nl]);
            else snprintf(labels[nl], sizeof labels[nl], "Channel %d", nl + 1);
        }
    }
    if (nl < 1) {
        s = fmt_err(err, name, pw, AIECG_ERR_FORMAT, "no leads");
        goto done;
    }
    if (o.max_samples > 0 && ns > o.max_samples) ns = o.max_samples;
    if (ns < 1 || ns > AIECG_MAX_SAMPLES_TOTAL / nl) {
        s = fmt_err(err, name, pw, AIECG_ERR_LIMIT, "sample count outside the limits");
        goto done;
    }
    const char *enc = aiecg__xml_get_attr(pw, "dataencoding");
    if (!enc || strcmp(enc, "Base64") != 0) {
        s = fmt_err(err, name, pw, AIECG_ERR_UNSUPPORTED, "dataencoding other than Base64");
        goto done;
    }
    const char *comp = aiecg__xml_get_attr(pw, "compressmethod");
    if (!comp) comp = aiecg__xml_get_attr(pw, "compression");
    const char *cflag = aiecg__xml_get_attr(pw, "compressflag");
    int xli = comp && strcasecmp(comp, "XLI") == 0 && !(cflag && strcasecmp(cflag, "False") == 0);
    if (comp && !xli && strcasecmp(comp, "XLI") != 0 && strcasecmp(comp, "Uncompressed") != 0 && strcasecmp(comp, "None") != 0) {
        s = fmt_err(err, name, pw, AIECG_ERR_UNSUPPORTED, "compression method other than XLI");
        goto done;
    }
    size_t cap = aiecg__base64_max_decoded(pw->text_len), nb, bad;
    /* Bound the declared duration by the data present: at most 4 MiB (2 Mi samples) per XLI lead, 2 bytes per raw sample. */
    if ((xli && ns > ((int64_t)1 << 21)) || (!xli && (uint64_t)cap < (uint64_t)nl * (uint64_t)ns * 2)) {
        s = fmt_err(err, name, pw, AIECG_ERR_TRUNCATED, "waveform data too short for durationperchannel");
        goto done;
    }
    raw = aiecg__malloc(cap ? cap : 1);
    if (!raw) {
        s = aiecg__error_set(err, AIECG_ERR_NOMEM, "out of memory");
        goto done;
    }
    if (aiecg__base64_decode(pw->text, pw->text_len, raw, cap, &nb, &bad)) {
        char msg[80];
        snprintf(msg, sizeof msg, "invalid base64 at character %zu", bad);
        s = fmt_err(err, name, pw, AIECG_ERR_FORMAT, msg);
        goto done;
    }
    if (xli && (s = xli_decode(raw, nb, nl, ns, NULL, name, err))) goto done;
    samp = aiecg__calloc((size_t)nl * (size_t)ns, sizeof *samp);
    if (!samp) {
        s = aiecg__error_set(err, AIECG_ERR_NOMEM, "out of memory");
        goto done;
    }
    if (xli) {
        if ((s = xli_decode(raw, nb, nl, ns, samp, name, err))) goto done;
        /* XLI keeps III, aVR, aVL, aVF as residuals from I and II (in this order, III first). */
        if (nl >= 6 && !strcmp(labels[0], "I") && !strcmp(labels[1], "II") && !strcmp(labels[2], "III") &&
            !strcasecmp(labels[3], "aVR") && !strcasecmp(labels[4], "aVL") && !strcasecmp(labels[5], "aVF")) {
            int32_t *I = samp, *II = samp + ns, *III = samp + 2 * ns, *R = samp + 3 * ns, *L = samp + 4 * ns,
                    *F = samp + 5 * ns;
            for (int64_t i = 0; i < ns; i++) {
                III[i] = II[i] - I[i] - III[i];
                R[i] = -R[i] - floor_half(I[i] + II[i]);
                L[i] = floor_half(I[i] - III[i]) - L[i];
                F[i] = floor_half(II[i] + III[i]) - F[i];
            }
        }
    } else {
        if (nb < (size_t)nl * (size_t)ns * 2) {
            s = fmt_err(err, name, pw, AIECG_ERR_TRUNCATED, "uncompressed data shorter than leads x samples x 2 bytes");
            goto done;
        }
        for (size_t i = 0; i < (size_t)nl * (size_t)ns; i++) samp[i] = (int16_t)(raw[2 * i] | (raw[2 * i + 1] << 8));
    }
    if ((s = aiecg_record_new(nl, ns, fs, o.keep_adc, &rec, err))) goto done;
    double mv_per = res * 1e-3;
    for (int l = 0; l < nl; l++) {
        float *mv = aiecg_record_lead_data_mut(rec, l);
        int32_t *adc = aiecg_record_lead_adc_mut(rec, l);
        const int32_t *x = samp + (size_t)l * (size_t)ns;
        for (int64_t i = 0; i < ns; i++) {
            mv[i] = (float)(x[i] * mv_per);
            if (adc) adc[i] = x[i];
        }
        aiecg_lead_info info = {0};
        info.label = labels[l];
        info.lead = aiecg_lead_parse(labels[l]);
        info.gain = 1.0 / mv_per;
        info.units = "uV";
        info.adc_resolution = 16;
        if ((s = aiecg_record_set_lead(rec, l, &info))) {
            s = aiecg__error_set(err, s, "%s: out of memory", name);
            goto done;
        }
    }
    aiecg_record_meta m;
    aiecg_record_meta_get(rec, &m);
    m.format = "philips";
    m.record_name = aiecg__xml_path_text(root, "documentinfo/documentname");
    const aiecg__xml_node *gp = aiecg__xml_path(root, "patient/generalpatientdata");
    if (gp) {
        m.patient_id = aiecg__xml_path_text(gp, "patientid");
        long age;
        if (to_long(aiecg__xml_path_text(gp, "age/years"), &age) && age >= 0 && age < 200) m.age = (int)age;
        const char *sx = aiecg__xml_path_text(gp, "sex");
        if (!strcasecmp(sx, "Male")) m.sex = 'M';
        else if (!strcasecmp(sx, "Female")) m.sex = 'F';
    }
    const aiecg__xml_node *da = aiecg__xml_child(root, "dataacquisition");
    if (da) {
        const char *dd = aiecg__xml_get_attr(da, "date"), *tt = aiecg__xml_get_attr(da, "time");
        int y, mo, d, h = 0, mi = 0, sec = 0;
        if (dd && sscanf(dd, "%d-%d-%d", &y, &mo, &d) == 3 && y >= 1800 && y <= 2200 && mo >= 1 && mo <= 12 &&
            d >= 1 && d <= 31) {
            if (tt) sscanf(tt, "%d:%d:%d", &h, &mi, &sec);
            if (h >= 0 && h < 24 && mi >= 0 && mi < 60 && sec >= 0 && sec < 61) {
                m.year = y, m.month = mo, m.day = d, m.hour = h, m.minute = mi, m.second = sec;
                m.has_start_time = 1;
            }
        }
        m.device = aiecg__xml_path_text(da, "machine");
    }
    if ((s = aiecg_record_set_meta(rec, &m))) {
        s = aiecg__error_set(err, s, "%s: out of memory", name);
        goto done;
    }
    const aiecg__xml_node *ip = aiecg__xml_path(root, "interpretations/interpretation");
    for (aiecg__xml_node *st = aiecg__xml_child(ip, "statement"); st; st = aiecg__xml_next_named(st, "statement")) {
        const char *left = aiecg__xml_path_text(st, "leftstatement"), *right = aiecg__xml_path_text(st, "rightstatement");
        if (!*left && !*right) continue;
        char text[1024];
        snprintf(text, sizeof text, "%s%s%s", left, *left && *right ? "; " : "", right);
        if ((s = aiecg_record_add_statement(rec, text))) {
            s = aiecg__error_set(err, s, "%s: out of memory", name);
            goto done;
        }
    }
    if (o.derive_limb_leads && (s = aiecg_record_derive_limb_leads(rec, NULL))) {
        s = aiecg__error_set(err, s, "%s: cannot derive limb leads", name);
        goto done;
    }
    *out = rec;
    rec = NULL;
done:
    aiecg__free(raw);
    aiecg__free(samp);
    aiecg_record_free(rec);
    aiecg__xml_free(doc);
    return s;
}

aiecg_status aiecg__philips_read_path(const char *path, const aiecg_read_options *opt, aiecg_record **out,
                                      aiecg_error *err) {
    return aiecg__read_path_via_mem(path, aiecg__philips_read_mem, opt, out, err);
}

int aiecg__philips_probe(const uint8_t *head, size_t len, const char *path) {
    (void)path;
    char root[64];
    if (!aiecg__xml_probe_root(head, len, root, sizeof root)) return 0;
    return strcmp(root, "restingecgdata") == 0 ? 95 : 0;
}
