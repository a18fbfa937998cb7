/*
 * GE MUSE resting ECG XML reader (<RestingECG>, as exported by MUSE 7-9 and
 * MAC carts; layout from GE's restecg.dtd, which is not needed and never
 * fetched). A <Waveform> of WaveformType "Rhythm" (preferred) or "Median"
 * holds one <LeadData> per stored lead: base64 <WaveFormData> of 16-bit
 * little-endian samples, LeadAmplitudeUnitsPerBit in LeadAmplitudeUnits
 * (MICROVOLTS or MILLIVOLTS) and a LeadDataCRC32 (CRC-32/IEEE of the decoded
 * bytes), checked and reported per lead as the checksum state. The rate is
 * SampleBase x 10^SampleExponent. MUSE stores 8 leads (I, II, V1-V6); III,
 * aVR, aVL and aVF are derived with aiecg_record_derive_limb_leads.
 * Demographics (PatientDemographics, TestDemographics) and Diagnosis
 * statements are read when present.
 */
#include "xml_int.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static uint32_t crc32_ieee(const uint8_t *p, size_t n) {
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return ~c;
}

static int to_long(const char *s, long *v) {
    char *e;
    if (!s || !*s) return 0;
    *v = strtol(s, &e, 10);
    return e != s && *e == 0;
}

static int to_double(const char *s, double *v) {
    char *e;
    if (!s || !*s) return 0;
    *v = strtod(s, &e);
    return e != s && *e == 0 && isfinite(*v);
}

/* "MM-DD-YYYY" (MUSE) or "YYYY-MM-DD". */
static int parse_date(const char *s, int *y, int *m, int *d) {
    int a, b, c;
    if (sscanf(s, "%d-%d-%d", &a, &b, &c) != 3) return 0;
    if (a > 31) *y = a, *m = b, *d = c;
    else *m = a, *d = b, *y = c;
    return *m >= 1 && *m <= 12 && *d >= 1 && *d <= 31 && *y >= 1800 && *y <= 2200;
}

static aiecg_status fmt_err(aiecg_error *err, const char *name, const aiecg__xml_node *n, aiecg_status st,
                            const char *what) {
    char path[256];
    aiecg__xml_node_path(n, path, sizeof path);
    return aiecg__error_set(err, st, "%s: %s at %s (byte offset %zu)", name, what, path, n->offset);
}

aiecg_status aiecg__muse_read_mem(const uint8_t *data, size_t len, const char *name,
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
    uint8_t *buf = NULL;
    const aiecg__xml_node *root = aiecg__xml_root(doc);
    if (strcmp(root->name, "RestingECG") != 0) {
        s = aiecg__error_set(err, AIECG_ERR_FORMAT, "%s: root element is <%s>, not <RestingECG>", name, root->qname);
        goto done;
    }
    const aiecg__xml_node *wf = NULL;
    for (int pass = 0; pass < 2 && !wf; pass++)
        for (aiecg__xml_node *w = aiecg__xml_child(root, "Waveform"); w && !wf; w = aiecg__xml_next_named(w, "Waveform")) {
            const char *t = aiecg__xml_path_text(w, "WaveformType");
            if (pass == 0 && strcasecmp(t, "Rhythm") == 0) wf = w;
            if (pass == 1) wf = w;
        }
    if (!wf) {
        s = aiecg__error_set(err, AIECG_ERR_NOT_FOUND, "%s: no <Waveform> in the RestingECG", name);
        goto done;
    }
    double base = 0, expo = 0;
    if (!to_double(aiecg__xml_path_text(wf, "SampleBase"), &base) || !(base > 0)) {
        s = fmt_err(err, name, wf, AIECG_ERR_FORMAT, "missing or invalid <SampleBase>");
        goto done;
    }
    to_double(aiecg__xml_path_text(wf, "SampleExponent"), &expo);
    double fs = base * pow(10.0, expo);
    if (!(fs >= 1 && fs <= 100000)) {
        s = fmt_err(err, name, wf, AIECG_ERR_RANGE, "sampling rate outside 1..100000 Hz");
        goto done;
    }
    const aiecg__xml_node *leads[AIECG_MAX_LEADS];
    int nl = 0;
    int64_t ns = -1;
    for (aiecg__xml_node *ld = aiecg__xml_child(wf, "LeadData"); ld; ld = aiecg__xml_next_named(ld, "LeadData")) {
        if (nl >= AIECG_MAX_LEADS) {
            s = fmt_err(err, name, ld, AIECG_ERR_LIMIT, "more than 64 <LeadData>");
            goto done;
        }
        long cnt, size = 2;
        if (!to_long(aiecg__xml_path_text(ld, "LeadSampleCountTotal"), &cnt) || cnt < 0 || cnt > (1L << 28)) {
            s = fmt_err(err, name, ld, AIECG_ERR_FORMAT, "missing or invalid <LeadSampleCountTotal>");
            goto done;
        }
        const char *ss = aiecg__xml_path_text(ld, "LeadSampleSize");
        if (*ss && (!to_long(ss, &size) || size != 2)) {
            s = fmt_err(err, name, ld, AIECG_ERR_UNSUPPORTED, "<LeadSampleSize> other than 2");
            goto done;
        }
        /* bound the declared count by the data actually present, before anything is allocated */
        const aiecg__xml_node *wd0 = aiecg__xml_child(ld, "WaveFormData");
        if (!wd0 || (uint64_t)aiecg__base64_max_decoded(wd0->text_len) < (uint64_t)cnt * 2) {
            s = fmt_err(err, name, ld, AIECG_ERR_TRUNCATED,
                        "<WaveFormData> is missing or too short for <LeadSampleCountTotal>");
            goto done;
        }
        if (ns < 0 || cnt < ns) ns = cnt;
        leads[nl++] = ld;
    }
    if (!nl) {
        s = fmt_err(err, name, wf, AIECG_ERR_NOT_FOUND, "waveform without <LeadData>");
        goto done;
    }
    if (o.max_samples > 0 && ns > o.max_samples) ns = o.max_samples;
    if ((s = aiecg_record_new(nl, ns, fs, o.keep_adc, &rec, err))) goto done;
    for (int l = 0; l < nl; l++) {
        const aiecg__xml_node *ld = leads[l];
        const aiecg__xml_node *wd = aiecg__xml_child(ld, "WaveFormData");
        if (!wd) {
            s = fmt_err(err, name, ld, AIECG_ERR_FORMAT, "<LeadData> without <WaveFormData>");
            goto done;
        }
        size_t cap = aiecg__base64_max_decoded(wd->text_len), nb, bad;
        aiecg__free(buf);
        buf = aiecg__malloc(cap ? cap : 1);
        if (!buf) {
            s = aiecg__error_set(err, AIECG_ERR_NOMEM, "out of memory");
            goto done;
        }
        if (aiecg__base64_decode(wd->text, wd->text_len, buf, cap, &nb, &bad)) {
            char msg[96];
            snprintf(msg, sizeof msg, "invalid base64 at character %zu", bad);
            s = fmt_err(err, name, wd, AIECG_ERR_FORMAT, msg);
            goto done;
        }
        if (nb < (size_t)ns * 2) {
            char msg[128];
            snprintf(msg, sizeof msg, "%zu decoded bytes hold fewer than %lld samples", nb, (long long)ns);
            s = fmt_err(err, name, wd, AIECG_ERR_TRUNCATED, msg);
            goto done;
        }
        double upb = 1;
        const char *u = aiecg__xml_path_text(ld, "LeadAmplitudeUnitsPerBit");
        if (*u && (!to_double(u, &upb) || upb == 0)) {
            s = fmt_err(err, name, ld, AIECG_ERR_FORMAT, "invalid <LeadAmplitudeUnitsPerBit>");
            goto done;
        }
        const char *units = aiecg__xml_path_text(ld, "LeadAmplitudeUnits");
        double umv = (!*units || strcasecmp(units, "MICROVOLTS") == 0) ? 1e-3 : strcasecmp(units, "MILLIVOLTS") == 0 ? 1.0 : 0;
        if (!umv) {
            s = fmt_err(err, name, ld, AIECG_ERR_UNSUPPORTED, "<LeadAmplitudeUnits> other than MICROVOLTS/MILLIVOLTS");
            goto done;
        }
        float *mv = aiecg_record_lead_data_mut(rec, l);
        int32_t *adc = aiecg_record_lead_adc_mut(rec, l);
        double sc = upb * umv;
        for (int64_t i = 0; i < ns; i++) {
            int16_t v = (int16_t)(buf[2 * i] | (buf[2 * i + 1] << 8));
            mv[i] = (float)(v * sc);
            if (adc) adc[i] = v;
        }
        aiecg_lead_info info = {0};
        info.label = aiecg__xml_path_text(ld, "LeadID");
        info.lead = aiecg_lead_parse(info.label);
        info.gain = 1.0 / sc;
        info.units = umv == 1.0 ? "mV" : "uV";
        info.adc_resolution = 16;
        long crc;
        const char *cs = aiecg__xml_path_text(ld, "LeadDataCRC32");
        if (*cs && to_long(cs, &crc)) {
            info.checksum = (int)(crc & 0xFFFF);
            info.checksum_state = crc32_ieee(buf, nb) == (uint32_t)crc ? AIECG_CHECKSUM_OK : AIECG_CHECKSUM_BAD;
            if (info.checksum_state == AIECG_CHECKSUM_BAD)
                aiecg__log(&o.logger, AIECG_LOG_WARN, "%s: lead %s: LeadDataCRC32 does not match its data", name,
                           info.label);
        }
        if ((s = aiecg_record_set_lead(rec, l, &info))) {
            s = aiecg__error_set(err, s, "%s: out of memory", name);
            goto done;
        }
    }
    /* Demographics */
    aiecg_record_meta m;
    aiecg_record_meta_get(rec, &m);
    m.format = "muse";
    char rname[256];
    const char *b = strrchr(name, '/');
    snprintf(rname, sizeof rname, "%s", b ? b + 1 : name);
    char *dot = strrchr(rname, '.');
    if (dot && dot != rname) *dot = 0;
    m.record_name = rname;
    const aiecg__xml_node *pd = aiecg__xml_child(root, "PatientDemographics");
    const aiecg__xml_node *td = aiecg__xml_child(root, "TestDemographics");
    if (pd) {
        m.patient_id = aiecg__xml_path_text(pd, "PatientID");
        long age;
        const char *au = aiecg__xml_path_text(pd, "AgeUnits");
        if (to_long(aiecg__xml_path_text(pd, "PatientAge"), &age) && age >= 0 && age < 200)
            m.age = (!*au || strcasecmp(au, "YEARS") == 0) ? (int)age : strcasecmp(au, "MONTHS") == 0 ? (int)(age / 12) : 0;
        const char *g = aiecg__xml_path_text(pd, "Gender");
        if (strcasecmp(g, "MALE") == 0) m.sex = 'M';
        else if (strcasecmp(g, "FEMALE") == 0) m.sex = 'F';
    }
    if (td) {
        int y, mo, d, h = 0, mi = 0, sec = 0;
        if (parse_date(aiecg__xml_path_text(td, "AcquisitionDate"), &y, &mo, &d)) {
            sscanf(aiecg__xml_path_text(td, "AcquisitionTime"), "%d:%d:%d", &h, &mi, &sec);
            if (h >= 0 && h < 24 && mi >= 0 && mi < 60 && sec >= 0 && sec < 61) {
                m.year = y, m.month = mo, m.day = d, m.hour = h, m.minute = mi, m.second = sec;
                m.has_start_time = 1;
            }
        }
        m.device = aiecg__xml_path_text(td, "AcquisitionDevice");
    }
    if ((s = aiecg_record_set_meta(rec, &m))) {
        s = aiecg__error_set(err, s, "%s: out of memory", name);
        goto done;
    }
    const aiecg__xml_node *dg = aiecg__xml_child(root, "Diagnosis");
    if (!dg) dg = aiecg__xml_child(root, "OriginalDiagnosis");
    for (aiecg__xml_node *st = aiecg__xml_child(dg, "DiagnosisStatement"); st;
         st = aiecg__xml_next_named(st, "DiagnosisStatement")) {
        const char *t = aiecg__xml_path_text(st, "StmtText");
        if (*t && (s = aiecg_record_add_statement(rec, t))) {
            s = aiecg__error_set(err, s, "%s: out of memory", name);
            goto done;
        }
    }
    /* MUSE stores 8 leads; the limb leads it does not store are always derived. */
    if ((s = aiecg_record_derive_limb_leads(rec, NULL))) {
        s = aiecg__error_set(err, s, "%s: cannot derive limb leads", name);
        goto done;
    }
    *out = rec;
    rec = NULL;
done:
    aiecg__free(buf);
    aiecg_record_free(rec);
    aiecg__xml_free(doc);
    return s;
}

aiecg_status aiecg__muse_read_path(const char *path, const aiecg_read_options *opt, aiecg_record **out,
                                   aiecg_error *err) {
    return aiecg__read_path_via_mem(path, aiecg__muse_read_mem, opt, out, err);
}

int aiecg__muse_probe(const uint8_t *head, size_t len, const char *path) {
    (void)path;
    char root[64];
    if (!aiecg__xml_probe_root(head, len, root, sizeof root)) return 0;
    return strcmp(root, "RestingECG") == 0 ? 95 : 0;
}
