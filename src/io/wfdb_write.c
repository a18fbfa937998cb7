/*
 * WFDB writer: a header, one signal file in format 16 or 212 holding every
 * lead (interleaved frames), and an MIT annotation file when the record has
 * annotations, all readable by the original WFDB tools (rdsamp, rdann).
 * Each lead is written from the ADC plane when the record has one and the
 * lead has a gain (lossless: the read-write-read round trip gives identical
 * ADC values); otherwise mV are quantised with gain 1000 ADU/mV (format 16)
 * or 200 ADU/mV (format 212), baseline 0, saturating at the format's range,
 * NaN written as the format's invalid value. The header carries gain,
 * baseline, units, ADC resolution and zero, initial value, checksum and the
 * lead label, plus the base time/date and age/sex as "#<age>:" comments.
 */
#include "wfdb_int.h"

#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static int voltage_units(const char *u) {
    return !u || !strcmp(u, "mV") || !strcmp(u, "uV") || !strcmp(u, "µV") || !strcmp(u, "V") ||
           !strcmp(u, "nV");
}

static aiecg_status write_file(const char *path, const void *data, size_t n, aiecg_error *err) {
    FILE *f = fopen(path, "wb");
    if (!f) return aiecg__error_set(err, AIECG_ERR_IO, "%s: cannot create file", path);
    int bad = n && fwrite(data, 1, n, f) != n;
    if (fclose(f) != 0) bad = 1;
    if (bad) return aiecg__error_set(err, AIECG_ERR_IO, "%s: write failed", path);
    return AIECG_OK;
}

aiecg_status aiecg__wfdb_write(const aiecg_record *rec, const char *path, const aiecg_write_options *opt,
                               aiecg_error *err) {
    int fmt = opt && opt->wfdb_format ? opt->wfdb_format : 16;
    if (fmt != 16 && fmt != 212)
        return aiecg__error_set(err, AIECG_ERR_UNSUPPORTED,
                                "%s: WFDB format %d cannot be written (16 or 212)", path, fmt);
    /* base path: strip .hea or .dat */
    char base[4096];
    size_t n = strlen(path);
    if (aiecg__path_has_ext(path, ".hea") || aiecg__path_has_ext(path, ".dat")) n -= 4;
    if (n == 0 || n >= sizeof base - 16)
        return aiecg__error_set(err, AIECG_ERR_INVALID_ARG, "%s: not a usable WFDB output path", path);
    memcpy(base, path, n);
    base[n] = '\0';
    const char *name = strrchr(base, '/');
    name = name ? name + 1 : base;
    if (!*name)
        return aiecg__error_set(err, AIECG_ERR_INVALID_ARG, "%s: no record name in the path", path);
    for (const char *q = name; *q; q++)
        if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') ||
              *q == '_' || *q == '-'))
            return aiecg__error_set(err, AIECG_ERR_INVALID_ARG,
                                    "%s: WFDB record names use letters, digits, '_' and '-' only",
                                    path);

    const int nl = aiecg_record_nleads(rec);
    const int64_t ns = aiecg_record_nsamples(rec);
    const int32_t lo = fmt == 16 ? -32768 : -2048, hi = fmt == 16 ? 32767 : 2047;
    const int32_t inval = lo;
    const double qgain = fmt == 16 ? 1000.0 : 200.0;

    /* plan: per lead, ADC or quantised; all ADC values checked before anything is written */
    int use_adc[AIECG_MAX_LEADS];
    int nquant = 0;
    for (int l = 0; l < nl; l++) {
        aiecg_lead_info li;
        aiecg_record_lead_info(rec, l, &li);
        const int32_t *a = aiecg_record_lead_adc(rec, l);
        use_adc[l] = a && li.gain > 0 && !li.derived;
        for (int64_t i = 0; use_adc[l] && i < ns; i++)
            if (a[i] < lo || a[i] > hi) use_adc[l] = 0;
        if (!use_adc[l]) nquant++;
    }
    if (nquant)
        aiecg__log(opt ? &opt->logger : NULL, AIECG_LOG_INFO,
                   "%s: %d lead(s) without usable ADC values quantised at %g ADU/mV (format %d)", path,
                   nquant, qgain, fmt);

    size_t total = (size_t)nl * (size_t)ns;
    size_t bytes = fmt == 16 ? total * 2 : (total / 2) * 3 + (total & 1) * 3;
    uint8_t *buf = aiecg__malloc(bytes ? bytes : 1);
    if (!buf) return aiecg__error_set(err, AIECG_ERR_NOMEM, "%s: out of memory for %zu bytes", path, bytes);
    uint32_t sum[AIECG_MAX_LEADS] = {0};
    int32_t first[AIECG_MAX_LEADS] = {0};
    const int32_t *adc[AIECG_MAX_LEADS];
    const float *mv[AIECG_MAX_LEADS];
    for (int l = 0; l < nl; l++) {
        adc[l] = aiecg_record_lead_adc(rec, l);
        mv[l] = aiecg_record_lead_data(rec, l);
    }
    size_t k = 0;
    int32_t pend = 0;
    for (int64_t i = 0; i < ns; i++)
        for (int l = 0; l < nl; l++, k++) {
            int32_t v;
            if (use_adc[l]) {
                v = adc[l][i];
            } else {
                float x = mv[l][i];
                if (isnan(x)) v = inval;
                else {
                    double q = nearbyint((double)x * qgain);
                    v = q < lo + 1 ? lo + 1 : q > hi ? hi : (int32_t)q; /* lo is reserved for NaN */
                }
            }
            if (i == 0) first[l] = v;
            sum[l] += (uint32_t)v;
            if (fmt == 16) {
                buf[2 * k] = (uint8_t)(v & 0xff);
                buf[2 * k + 1] = (uint8_t)((v >> 8) & 0xff);
            } else if ((k & 1) == 0) {
                pend = v;
                uint8_t *b = buf + (k / 2) * 3;
                b[0] = (uint8_t)(v & 0xff);
                b[1] = (uint8_t)((v >> 8) & 0x0f);
                b[2] = 0;
            } else {
                uint8_t *b = buf + (k / 2) * 3;
                b[1] = (uint8_t)(((pend >> 8) & 0x0f) | ((v >> 4) & 0xf0));
                b[2] = (uint8_t)(v & 0xff);
            }
        }

    /* header */
    aiecg__sbuf h;
    aiecg__sbuf_init(&h);
    aiecg_record_meta m;
    aiecg_record_meta_get(rec, &m);
    aiecg__sbuf_printf(&h, "%s %d %.12g %lld", name, nl, aiecg_record_fs(rec), (long long)ns);
    if (m.has_start_time) {
        double sec = m.second;
        aiecg__sbuf_printf(&h, " %02d:%02d:%06.3f %02d/%02d/%04d", m.hour, m.minute, sec, m.day,
                           m.month, m.year);
    }
    aiecg__sbuf_puts(&h, "\n");
    for (int l = 0; l < nl; l++) {
        aiecg_lead_info li;
        aiecg_record_lead_info(rec, l, &li);
        double gain;
        int32_t baseline, zero;
        int res;
        const char *units;
        if (use_adc[l]) {
            gain = li.gain;
            baseline = li.baseline;
            zero = li.adc_zero;
            res = li.adc_resolution > 0 ? li.adc_resolution : (fmt == 16 ? 16 : 12);
            units = voltage_units(li.units) ? "mV" : li.units;
        } else {
            gain = qgain;
            baseline = 0;
            zero = 0;
            res = fmt == 16 ? 16 : 12;
            units = voltage_units(li.units) ? "mV" : li.units;
        }
        /* labels may not hold line breaks; blanks are fine (the description is the rest of the line) */
        char label[256];
        size_t j = 0;
        for (const char *q = li.label ? li.label : ""; *q && j + 1 < sizeof label; q++)
            label[j++] = (*q == '\n' || *q == '\r') ? ' ' : *q;
        label[j] = '\0';
        char ustr[64];
        size_t u = 0;
        for (const char *q = units && *units ? units : "mV"; *q && u + 1 < sizeof ustr; q++)
            if (*q > ' ' && *q != '#') ustr[u++] = *q;
        ustr[u] = '\0';
        /* 12 significant digits unless that would not read back as the same double */
        char gstr[40];
        snprintf(gstr, sizeof gstr, "%.12g", gain);
        if (strtod(gstr, NULL) != gain) snprintf(gstr, sizeof gstr, "%.17g", gain);
        aiecg__sbuf_printf(&h, "%s.dat %d %s(%d)/%s %d %d %d %d 0 %s\n", name, fmt, gstr,
                           (int)baseline, u ? ustr : "mV", res, (int)zero, (int)first[l],
                           (int)(int16_t)(uint16_t)(sum[l] & 0xffff), label);
    }
    if (m.age >= 0) aiecg__sbuf_printf(&h, "#<age>: %d\n", m.age);
    if (m.sex == 'M' || m.sex == 'F') aiecg__sbuf_printf(&h, "#<sex>: %c\n", m.sex);
    if (h.oom) {
        aiecg__sbuf_free(&h);
        aiecg__free(buf);
        return aiecg__error_set(err, AIECG_ERR_NOMEM, "%s: out of memory for the header", path);
    }

    char p[4200];
    snprintf(p, sizeof p, "%s.dat", base);
    aiecg_status s = write_file(p, buf, bytes, err);
    aiecg__free(buf);
    if (!s) {
        snprintf(p, sizeof p, "%s.hea", base);
        s = write_file(p, h.data, h.len, err);
    }
    aiecg__sbuf_free(&h);
    const char *ann = opt && opt->annotator ? opt->annotator : "atr";
    if (!s && ann[0]) {
        if (strchr(ann, '/') || strlen(ann) > 32)
            return aiecg__error_set(err, AIECG_ERR_INVALID_ARG, "annotator '%s' is not a file extension",
                                    ann);
        snprintf(p, sizeof p, "%s.%s", base, ann);
        if (aiecg_record_nannotations(rec) > 0)
            s = aiecg_wfdb_annotations_write(p, aiecg_record_annotations(rec),
                                             aiecg_record_nannotations(rec), err);
        else
            remove(p); /* an older annotation file of this record name would be read with the new signals */
    }
    return s;
}
