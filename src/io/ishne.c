/*
 * ISHNE Holter reader: Badilini F, "The ISHNE Holter Standard Output File
 * Format", Ann Noninvasive Electrocardiol 1998;3:263-266, and the THEW
 * annotation file (.ann) that shares its header.
 *
 * Layout (little-endian): "ISHNE1.0", CRC-CCITT (poly 0x1021, init 0xFFFF)
 * of bytes 10 .. 522+varblock, a fixed 512-byte header (sizes, offsets,
 * subject, dates as int16 day/month/year, 12 lead specs, 12 resolutions in
 * nV, sampling rate), the variable block, then int16 samples interleaved
 * lead by lead. The annotation file beside it ("x.ann" for "x.ecg", magic
 * "ANN  1.0") holds, after its own copy of the header and variable block, a
 * uint32 first sample and 4-byte entries (label, internal byte, uint16
 * samples since the previous entry). A stored CRC of 0 is taken as "not
 * computed" (as in the sample .ann file) and logged; any other mismatch is
 * an error. Gain = 1e6 / resolution ADU per mV; baseline 0.
 */
#include "io_int.h"

#include <stdio.h>
#include <string.h>

#define ISHNE_HDR 522

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static int16_t rds16(const uint8_t *p) { return (int16_t)rd16(p); }
static int32_t rds32(const uint8_t *p) {
    return (int32_t)((uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24));
}

static uint16_t crc_ccitt(const uint8_t *p, size_t n) {
    uint16_t c = 0xFFFF;
    for (size_t i = 0; i < n; i++) {
        c ^= (uint16_t)(p[i] << 8);
        for (int k = 0; k < 8; k++) c = (c & 0x8000) ? (uint16_t)((c << 1) ^ 0x1021) : (uint16_t)(c << 1);
    }
    return c;
}

static void text_field(const uint8_t *p, size_t n, char *out) {
    size_t k = 0;
    for (size_t i = 0; i < n && p[i]; i++) out[k++] = (p[i] >= 32 && p[i] < 127) ? (char)p[i] : '?';
    while (k && out[k - 1] == ' ') k--;
    out[k] = '\0';
}

static const char *lead_label(int spec) {
    static const char *const t[] = {"?", "Bipolar", "X", "Y", "Z", "I", "II", "III", "aVR", "aVL",
                                    "aVF", "V1", "V2", "V3", "V4", "V5", "V6", "ES", "AS", "AI"};
    return spec >= 0 && spec < (int)AIECG__COUNTOF(t) ? t[spec] : "?";
}

/* Validates the shared header; *vb receives the variable block size. */
static aiecg_status check_header(const uint8_t *d, size_t len, const char *name, const char *magic, int crc_zero_ok,
                                 const aiecg_logger *lg, int32_t *vb, aiecg_error *err) {
    if (len < ISHNE_HDR)
        return aiecg__error_set(err, AIECG_ERR_TRUNCATED, "%s: byte %zu: file shorter than the %d-byte ISHNE header",
                                name, len, ISHNE_HDR);
    if (memcmp(d, magic, 8) != 0)
        return aiecg__error_set(err, AIECG_ERR_FORMAT, "%s: byte 0: magic is not \"%s\"", name, magic);
    *vb = rds32(d + 10);
    if (*vb < 0 || (size_t)*vb > len - ISHNE_HDR)
        return aiecg__error_set(err, AIECG_ERR_TRUNCATED,
                                "%s: byte 10: variable block of %d bytes does not fit in the file", name, (int)*vb);
    uint16_t stored = rd16(d + 8), calc = crc_ccitt(d + 10, (size_t)(ISHNE_HDR - 10 + *vb));
    if (stored != calc) {
        if (stored == 0 && crc_zero_ok) {
            aiecg__log(lg, AIECG_LOG_INFO, "%s: header CRC not computed (0)", name);
        } else {
            return aiecg__error_set(err, AIECG_ERR_CHECKSUM,
                                    "%s: byte 8: header CRC 0x%04X, computed 0x%04X over bytes 10..%d", name, stored,
                                    calc, ISHNE_HDR + (int)*vb - 1);
        }
    }
    return AIECG_OK;
}

static int ann_code(int c, const char **aux) {
    *aux = NULL;
    switch (c) {
    case 'N': return 1;
    case 'V': return 5;
    case 'S': return 9;
    case 'F': return 6;
    case 'P': return 12;
    case 'U': return 13;
    case 'X': return 16;
    default: return 22;
    }
}

static aiecg_status read_ann(aiecg_record *r, const uint8_t *d, size_t len, const char *name,
                             const aiecg_logger *lg, aiecg_error *err) {
    int32_t vb;
    aiecg_status s = check_header(d, len, name, "ANN  1.0", 1, lg, &vb, err);
    if (s) return s;
    size_t p = ISHNE_HDR + (size_t)vb;
    if (len < p + 4)
        return aiecg__error_set(err, AIECG_ERR_TRUNCATED, "%s: byte %zu: no first-sample field", name, len);
    int64_t t = (uint32_t)rds32(d + p);
    p += 4;
    if ((len - p) % 4)
        aiecg__log(lg, AIECG_LOG_WARN, "%s: %zu trailing bytes after the last annotation", name, (len - p) % 4);
    for (; p + 4 <= len; p += 4) {
        t += rd16(d + p + 2);
        int lab = d[p];
        if (lab == '!') continue; /* time-out marker: advances time only */
        if (lab == 0) continue;
        const char *aux;
        char txt[2] = {(char)(lab >= 32 && lab < 127 ? lab : '?'), 0};
        aiecg_annotation a = {0};
        a.sample = t;
        a.code = ann_code(lab, &aux);
        if (a.code == 22) a.aux = txt;
        if ((s = aiecg_record_add_annotation(r, &a)))
            return aiecg__error_set(err, s, "%s: byte %zu: cannot store annotation", name, p);
    }
    return AIECG_OK;
}

static aiecg_status ishne_parse(const uint8_t *d, size_t len, const char *name, const aiecg_read_options *opt,
                                const uint8_t *ann, size_t ann_len, const char *ann_name, aiecg_record **out,
                                aiecg_error *err) {
    *out = NULL;
    aiecg_read_options o = opt ? *opt : aiecg_read_options_default();
    int32_t vb;
    aiecg_status s = check_header(d, len, name, "ISHNE1.0", 0, &o.logger, &vb, err);
    if (s) return s;
    int32_t nsamp = rds32(d + 14), off_vb = rds32(d + 18), off_ecg = rds32(d + 22);
    int nleads = rds16(d + 156), fs = rds16(d + 272);
    if (nsamp < 0) return aiecg__error_set(err, AIECG_ERR_RANGE, "%s: byte 14: negative sample count %d", name, nsamp);
    if (off_vb != ISHNE_HDR)
        aiecg__log(&o.logger, AIECG_LOG_WARN, "%s: variable block offset %d, expected %d", name, off_vb, ISHNE_HDR);
    if (off_ecg < ISHNE_HDR + vb || (size_t)off_ecg > len)
        return aiecg__error_set(err, AIECG_ERR_FORMAT, "%s: byte 22: ECG block offset %d outside %d..%zu", name,
                                off_ecg, ISHNE_HDR + vb, len);
    if (nleads < 1 || nleads > 12)
        return aiecg__error_set(err, AIECG_ERR_RANGE, "%s: byte 156: number of leads %d outside 1..12", name, nleads);
    if (fs < 1) return aiecg__error_set(err, AIECG_ERR_RANGE, "%s: byte 272: sampling rate %d Hz", name, fs);
    size_t need = (size_t)nsamp * (size_t)nleads * 2;
    if (need > len - (size_t)off_ecg)
        return aiecg__error_set(err, AIECG_ERR_TRUNCATED,
                                "%s: byte %zu: file ends early: %d samples x %d leads need %zu bytes from byte %d",
                                name, len, nsamp, nleads, need, off_ecg);
    for (int k = 0; k < nleads; k++) {
        int res = rds16(d + 206 + 2 * k);
        if (res <= 0)
            return aiecg__error_set(err, AIECG_ERR_RANGE, "%s: byte %d: lead %d resolution %d nV must be > 0", name,
                                    206 + 2 * k, k + 1, res);
    }
    int64_t cap = o.max_samples > 0 ? o.max_samples : AIECG_MAX_SAMPLES_TOTAL / nleads;
    if (nsamp > cap)
        return aiecg__error_set(err, AIECG_ERR_LIMIT, "%s: %d samples exceed the limit of %lld", name, nsamp,
                                (long long)cap);
    aiecg_record *r;
    if ((s = aiecg_record_new(nleads, nsamp, fs, 1, &r, err))) return s;
    uint16_t crc = rd16(d + 8);
    for (int k = 0; k < nleads && !s; k++) {
        int spec = rds16(d + 158 + 2 * k), res = rds16(d + 206 + 2 * k);
        aiecg_lead_info li = {0};
        li.label = lead_label(spec);
        li.units = "mV";
        li.gain = 1e6 / res;
        li.adc_resolution = 16;
        li.checksum = crc;
        li.checksum_state = AIECG_CHECKSUM_OK;
        s = aiecg_record_set_lead(r, k, &li);
        int32_t *adc = r->adc + (size_t)k * (size_t)nsamp;
        const uint8_t *p = d + off_ecg + 2 * k;
        for (int32_t i = 0; i < nsamp; i++) adc[i] = rds16(p + (size_t)i * nleads * 2);
    }
    if (s) {
        aiecg_record_free(r);
        return aiecg__error_set(err, s, "%s: out of memory", name);
    }
    aiecg_record_adc_to_mv(r);
    aiecg_record_meta m;
    aiecg_record_meta_get(r, &m);
    char id[21], dev[41];
    text_field(d + 108, 20, id);
    text_field(d + 232, 40, dev);
    m.format = "ishne";
    m.record_name = id;
    m.patient_id = id;
    m.device = dev;
    int sex = rds16(d + 128);
    m.sex = sex == 1 ? 'M' : sex == 2 ? 'F' : 'U';
    int bd = rds16(d + 132), bm = rds16(d + 134), by = rds16(d + 136);
    int rd = rds16(d + 138), rmo = rds16(d + 140), ry = rds16(d + 142);
    int hh = rds16(d + 150), mi = rds16(d + 152), ss = rds16(d + 154);
    if (rd >= 1 && rd <= 31 && rmo >= 1 && rmo <= 12 && ry > 1900 && hh >= 0 && hh < 24 && mi >= 0 && mi < 60 &&
        ss >= 0 && ss <= 60) {
        m.has_start_time = 1;
        m.year = ry, m.month = rmo, m.day = rd, m.hour = hh, m.minute = mi, m.second = ss;
        if (bd >= 1 && bd <= 31 && bm >= 1 && bm <= 12 && by > 1850 && by <= ry) {
            int age = ry - by - ((rmo < bm || (rmo == bm && rd < bd)) ? 1 : 0);
            if (age >= 0 && age < 150) m.age = age;
        }
    }
    if ((s = aiecg_record_set_meta(r, &m))) {
        aiecg_record_free(r);
        return aiecg__error_set(err, s, "%s: out of memory", name);
    }
    if (ann && !o.skip_annotations && (s = read_ann(r, ann, ann_len, ann_name, &o.logger, err))) {
        aiecg_record_free(r);
        return s;
    }
    if (o.derive_limb_leads && (s = aiecg_record_derive_limb_leads(r, NULL))) {
        aiecg_record_free(r);
        return aiecg__error_set(err, s, "%s: cannot derive limb leads", name);
    }
    if (!o.keep_adc) {
        aiecg__free(r->adc);
        r->adc = NULL;
    }
    *out = r;
    return AIECG_OK;
}

aiecg_status aiecg__ishne_read_mem(const uint8_t *data, size_t len, const char *name,
                                   const aiecg_read_options *opt, aiecg_record **out, aiecg_error *err) {
    return ishne_parse(data, len, name, opt, NULL, 0, NULL, out, err);
}

aiecg_status aiecg__ishne_read_path(const char *path, const aiecg_read_options *opt, aiecg_record **out,
                                    aiecg_error *err) {
    *out = NULL;
    uint8_t *d = NULL, *a = NULL;
    size_t len = 0, alen = 0;
    aiecg_status s = aiecg__read_file(path, AIECG__MAX_FILE_BYTES, &d, &len, err);
    if (s) return s;
    char ap[4096];
    size_t n = strlen(path);
    int have_ann = 0;
    if (!(opt && opt->skip_annotations) && n > 4 && n < sizeof ap && path[n - 4] == '.') {
        static const char *const ext[] = {"ann", "ANN"};
        for (int i = 0; i < 2 && !have_ann; i++) {
            memcpy(ap, path, n - 3);
            memcpy(ap + n - 3, ext[i], 4);
            FILE *f = fopen(ap, "rb");
            if (!f) continue;
            fclose(f);
            if ((s = aiecg__read_file(ap, AIECG__MAX_FILE_BYTES, &a, &alen, err))) {
                aiecg__free(d);
                return s;
            }
            have_ann = 1;
        }
    }
    s = ishne_parse(d, len, path, opt, a, alen, have_ann ? ap : NULL, out, err);
    aiecg__free(d);
    aiecg__free(a);
    return s;
}

int aiecg__ishne_probe(const uint8_t *head, size_t len, const char *path) {
    if (len >= 8 && memcmp(head, "ISHNE1.0", 8) == 0) return 100;
    return aiecg__path_has_ext(path, ".ecg") ? 20 : 0;
}
