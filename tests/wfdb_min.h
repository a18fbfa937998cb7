/*
 * Test-only fallback reader for the two WFDB layouts the dsp tests need
 * (signal formats 212 and 16, MIT annotation files), used only when the
 * library's own WFDB reader cannot open the record. PhysioNet WFDB
 * "header(5)", "signal(5)" and "annot(5)" describe the layouts.
 */
#ifndef AIECG_TEST_WFDB_MIN_H
#define AIECG_TEST_WFDB_MIN_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aiecg/aiecg.h"

static unsigned char *wmin_slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    if (b) b[n] = 0;
    *len = (size_t)n;
    return b;
}

static void wmin_read_atr(aiecg_record *rec, const char *base, const char *ext) {
    char path[4096];
    snprintf(path, sizeof path, "%s.%s", base, ext);
    size_t len = 0;
    unsigned char *b = wmin_slurp(path, &len);
    if (!b) return;
    int64_t t = 0;
    int chan = 0, num = 0;
    size_t i = 0;
    while (i + 1 < len) {
        unsigned w = (unsigned)b[i] | ((unsigned)b[i + 1] << 8);
        i += 2;
        int type = (int)(w >> 10), iv = (int)(w & 0x3ff);
        if (type == 0 && iv == 0) break;
        if (type == 59) {
            if (i + 3 >= len) break;
            int32_t hi = (int32_t)((unsigned)b[i] | ((unsigned)b[i + 1] << 8));
            int32_t lo = (int32_t)((unsigned)b[i + 2] | ((unsigned)b[i + 3] << 8));
            t += (int32_t)(((uint32_t)hi << 16) | (uint32_t)lo);
            i += 4;
        } else if (type == 60) {
            num = iv;
        } else if (type == 61) {
        } else if (type == 62) {
            chan = iv;
        } else if (type == 63) {
            i += (size_t)((iv + 1) & ~1);
        } else {
            t += iv;
            aiecg_annotation a = {t, type, 0, chan, num, NULL};
            aiecg_record_add_annotation(rec, &a);
        }
    }
    free(b);
}

/* Opens base ("dir/100") through the library, else through this reader. NULL on failure. */
static aiecg_record *wmin_open(const char *base, const char *ann_ext) {
    aiecg_record *rec = NULL;
    aiecg_read_options o = aiecg_read_options_default();
    o.annotator = ann_ext;
    if (aiecg_record_open(base, &o, &rec, NULL) == AIECG_OK) return rec;
    char path[4096];
    snprintf(path, sizeof path, "%s.hea", base);
    size_t len = 0;
    char *h = (char *)wmin_slurp(path, &len);
    if (!h) return NULL;
    char *save = NULL, *line = strtok_r(h, "\n", &save);
    while (line && line[0] == '#') line = strtok_r(NULL, "\n", &save);
    char name[256];
    int ns = 0;
    double fs = 250;
    long long nsamp = 0;
    if (!line || sscanf(line, "%255s %d %lf %lld", name, &ns, &fs, &nsamp) < 4 || ns < 1 || ns > 64) {
        free(h);
        return NULL;
    }
    int fmt[64];
    double gain[64];
    int base_v[64];
    char dat[512] = "";
    char label[64][64];
    for (int s = 0; s < ns; s++) {
        line = strtok_r(NULL, "\n", &save);
        if (!line) {
            free(h);
            return NULL;
        }
        char fname[512], g[128];
        int adcres = 0, adczero = 0;
        label[s][0] = 0;
        int k = sscanf(line, "%511s %d %127s %d %d %*d %*d %*d %63s", fname, &fmt[s], g, &adcres,
                       &adczero, label[s]);
        if (k < 3) {
            free(h);
            return NULL;
        }
        snprintf(dat, sizeof dat, "%s", fname);
        gain[s] = atof(g);
        if (gain[s] == 0) gain[s] = 200;
        char *p = strchr(g, '(');
        base_v[s] = p ? atoi(p + 1) : adczero;
    }
    free(h);
    const char *slash = strrchr(base, '/');
    char dpath[4096];
    snprintf(dpath, sizeof dpath, "%.*s%s", slash ? (int)(slash - base + 1) : 0, base, dat);
    unsigned char *d = wmin_slurp(dpath, &len);
    if (!d) return NULL;
    int64_t maxs = fmt[0] == 212 ? (int64_t)(len * 2 / 3) / ns : (int64_t)(len / 2) / ns;
    if (nsamp <= 0 || nsamp > maxs) nsamp = maxs;
    if (aiecg_record_new(ns, nsamp, fs, 1, &rec, NULL) != AIECG_OK) {
        free(d);
        return NULL;
    }
    for (int s = 0; s < ns; s++) {
        aiecg_lead_info li;
        memset(&li, 0, sizeof li);
        li.label = label[s];
        li.lead = aiecg_lead_parse(label[s]);
        li.gain = gain[s];
        li.baseline = base_v[s];
        li.adc_resolution = fmt[0] == 212 ? 12 : 16;
        li.units = "mV";
        aiecg_record_set_lead(rec, s, &li);
    }
    int64_t total = nsamp * ns;
    for (int64_t j = 0; j < total; j++) {
        int v;
        if (fmt[0] == 212) {
            size_t o3 = (size_t)(j / 2) * 3;
            if (j % 2 == 0)
                v = d[o3] | ((d[o3 + 1] & 0x0f) << 8);
            else
                v = d[o3 + 2] | ((d[o3 + 1] & 0xf0) << 4);
            if (v & 0x800) v -= 0x1000;
        } else {
            v = (int16_t)(d[2 * j] | (d[2 * j + 1] << 8));
        }
        int s = (int)(j % ns);
        int64_t i = j / ns;
        aiecg_record_lead_adc_mut(rec, s)[i] = v;
        aiecg_record_lead_data_mut(rec, s)[i] = (float)((v - base_v[s]) / gain[s]);
    }
    free(d);
    if (ann_ext) wmin_read_atr(rec, base, ann_ext);
    return rec;
}

#endif
