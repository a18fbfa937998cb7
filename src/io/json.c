/*
 * JSON reader and writer for aiecg's own record layout (RFC 8259 text):
 *
 *   {"format":"aiecg-json","version":1,"record":"100","fs":360,"nsamples":N,
 *    "patient":{"id":"","sex":"M","age":69},"start_time":"2002-03-02T10:11:12.000"|null,
 *    "device":"", "leads":[{"label","lead","gain","baseline","adc_zero","adc_resolution","units"}],
 *    "samples":[[mV of lead 0 ...],[lead 1 ...]],   (lead-major; NaN as null)
 *    "adc":[[...],[...]],                           (only when the record has an ADC plane)
 *    "annotations":[{"sample","code":"N","subtype","channel","num","aux"}]}
 *
 * With "adc" present the reader rebuilds mV from it (exactly as
 * aiecg_record_adc_to_mv), so WFDB -> JSON -> WFDB is lossless. The reader
 * is a bounded recursive-descent parser (nesting depth 32), sizes every
 * array before it allocates, and reports errors with byte offsets. Unknown
 * keys are skipped, so the format can grow.
 */
#include "edf_int.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- writer ------------------------------------------------------------ */

static void put_num(aiecg__sbuf *b, double v) {
    char t[40];
    snprintf(t, sizeof t, "%.15g", v);
    if (strtod(t, NULL) != v) snprintf(t, sizeof t, "%.17g", v);
    aiecg__sbuf_puts(b, t);
}

static aiecg_status flush(aiecg__sbuf *b, FILE *f) {
    if (b->oom) return AIECG_ERR_NOMEM;
    if (b->len && fwrite(b->data, 1, b->len, f) != b->len) return AIECG_ERR_IO;
    b->len = 0;
    return AIECG_OK;
}

aiecg_status aiecg__json_write(const aiecg_record *rec, const char *path, const aiecg_write_options *opt,
                               aiecg_error *err) {
    (void)opt;
    FILE *f = fopen(path, "wb");
    if (!f) return aiecg__error_set(err, AIECG_ERR_IO, "%s: cannot create", path);
    aiecg__sbuf b;
    aiecg__sbuf_init(&b);
    aiecg__jw w;
    aiecg__jw_init(&w, &b, false);
    const aiecg_record_meta *m = &rec->meta;
    aiecg_status s = AIECG_OK;
    aiecg__jw_obj_begin(&w);
    aiecg__jw_key(&w, "format"); aiecg__jw_str(&w, "aiecg-json");
    aiecg__jw_key(&w, "version"); aiecg__jw_int(&w, 1);
    aiecg__jw_key(&w, "record"); aiecg__jw_str(&w, m->record_name ? m->record_name : "");
    aiecg__jw_key(&w, "source_format"); aiecg__jw_str(&w, m->format ? m->format : "");
    aiecg__jw_key(&w, "fs"); aiecg__sbuf_puts(&b, ""); put_num(&b, rec->fs);
    aiecg__jw_key(&w, "nsamples"); aiecg__jw_int(&w, rec->nsamples);
    aiecg__jw_key(&w, "patient");
    aiecg__jw_obj_begin(&w);
    aiecg__jw_key(&w, "id"); aiecg__jw_str(&w, m->patient_id ? m->patient_id : "");
    char sx[2] = {m->sex == 'M' || m->sex == 'F' ? m->sex : 'U', 0};
    aiecg__jw_key(&w, "sex"); aiecg__jw_str(&w, sx);
    aiecg__jw_key(&w, "age");
    if (m->age >= 0) aiecg__jw_int(&w, m->age); else aiecg__jw_null(&w);
    aiecg__jw_obj_end(&w);
    aiecg__jw_key(&w, "start_time");
    if (m->has_start_time) {
        char t[64];
        snprintf(t, sizeof t, "%04d-%02d-%02dT%02d:%02d:%06.3f", m->year, m->month, m->day, m->hour, m->minute,
                 m->second);
        aiecg__jw_str(&w, t);
    } else {
        aiecg__jw_null(&w);
    }
    aiecg__jw_key(&w, "device"); aiecg__jw_str(&w, m->device ? m->device : "");
    aiecg__jw_key(&w, "leads");
    aiecg__jw_arr_begin(&w);
    for (int k = 0; k < rec->nleads; k++) {
        const aiecg_lead_info *li = &rec->leads[k].info;
        aiecg__jw_obj_begin(&w);
        aiecg__jw_key(&w, "label"); aiecg__jw_str(&w, li->label);
        aiecg__jw_key(&w, "lead"); aiecg__jw_str(&w, aiecg_lead_name(li->lead));
        aiecg__jw_key(&w, "gain"); aiecg__sbuf_puts(&b, ""); put_num(&b, li->gain);
        aiecg__jw_key(&w, "baseline"); aiecg__jw_int(&w, li->baseline);
        aiecg__jw_key(&w, "adc_zero"); aiecg__jw_int(&w, li->adc_zero);
        aiecg__jw_key(&w, "adc_resolution"); aiecg__jw_int(&w, li->adc_resolution);
        aiecg__jw_key(&w, "units"); aiecg__jw_str(&w, li->units);
        if (li->derived) { aiecg__jw_key(&w, "derived"); aiecg__jw_bool(&w, true); }
        aiecg__jw_obj_end(&w);
    }
    aiecg__jw_arr_end(&w);
    /* samples: written by hand (per-lead precision), the JSON writer's comma state is kept by jw_key */
    aiecg__jw_key(&w, "samples");
    aiecg__sbuf_puts(&b, "[");
    for (int k = 0; k < rec->nleads && !s; k++) {
        const aiecg_lead_info *li = &rec->leads[k].info;
        const float *mv = rec->mv + (size_t)k * (size_t)rec->nsamples;
        int dec = 0;
        if (rec->adc) {
            double g = li->gain > 0 ? li->gain : 200.0;
            dec = (int)floor(log10(g)) + 1;
            dec = dec < 1 ? 1 : dec > 12 ? 12 : dec;
        }
        aiecg__sbuf_puts(&b, k ? ",[" : "[");
        for (int64_t i = 0; i < rec->nsamples; i++) {
            char t[40];
            if (!isfinite(mv[i])) snprintf(t, sizeof t, "null");
            else if (dec) snprintf(t, sizeof t, "%.*f", dec, (double)mv[i]);
            else snprintf(t, sizeof t, "%.9g", (double)mv[i]);
            if (i) aiecg__sbuf_append(&b, ",", 1);
            aiecg__sbuf_puts(&b, t);
            if (b.len > (1u << 20)) s = flush(&b, f);
        }
        aiecg__sbuf_puts(&b, "]");
    }
    aiecg__sbuf_puts(&b, "]");
    if (rec->adc) {
        aiecg__jw_key(&w, "adc");
        aiecg__sbuf_puts(&b, "[");
        for (int k = 0; k < rec->nleads && !s; k++) {
            const int32_t *a = rec->adc + (size_t)k * (size_t)rec->nsamples;
            aiecg__sbuf_puts(&b, k ? ",[" : "[");
            for (int64_t i = 0; i < rec->nsamples; i++) {
                aiecg__sbuf_printf(&b, i ? ",%d" : "%d", (int)a[i]);
                if (b.len > (1u << 20)) s = flush(&b, f);
            }
            aiecg__sbuf_puts(&b, "]");
        }
        aiecg__sbuf_puts(&b, "]");
    }
    aiecg__jw_key(&w, "annotations");
    aiecg__jw_arr_begin(&w);
    for (int64_t i = 0; i < rec->nann && !s; i++) {
        const aiecg_annotation *a = &rec->ann[i];
        aiecg__jw_obj_begin(&w);
        aiecg__jw_key(&w, "sample"); aiecg__jw_int(&w, a->sample);
        aiecg__jw_key(&w, "code"); aiecg__jw_str(&w, aiecg_annotation_code_name(a->code));
        aiecg__jw_key(&w, "subtype"); aiecg__jw_int(&w, a->subtype);
        aiecg__jw_key(&w, "channel"); aiecg__jw_int(&w, a->channel);
        aiecg__jw_key(&w, "num"); aiecg__jw_int(&w, a->num);
        aiecg__jw_key(&w, "aux");
        aiecg__jw_str(&w, a->aux);
        aiecg__jw_obj_end(&w);
        if (b.len > (1u << 20)) s = flush(&b, f);
    }
    aiecg__jw_arr_end(&w);
    aiecg__jw_obj_end(&w);
    aiecg__sbuf_puts(&b, "\n");
    if (!s) s = flush(&b, f);
    if (fclose(f) != 0 && !s) s = AIECG_ERR_IO;
    aiecg__sbuf_free(&b);
    if (s) return aiecg__error_set(err, s, "%s: %s", path, s == AIECG_ERR_NOMEM ? "out of memory" : "write failed");
    return AIECG_OK;
}

/* ---- reader ------------------------------------------------------------ */

typedef struct jr {
    const char *d;
    size_t len, p;
    const char *name;
    aiecg_error *err;
} jr;

static aiecg_status jfail(jr *j, const char *what) {
    return aiecg__error_set(j->err, AIECG_ERR_FORMAT, "%s: byte %zu: %s", j->name, j->p, what);
}

static void ws(jr *j) {
    while (j->p < j->len && (j->d[j->p] == ' ' || j->d[j->p] == '\n' || j->d[j->p] == '\r' || j->d[j->p] == '\t'))
        j->p++;
}

static int peek(jr *j) {
    ws(j);
    return j->p < j->len ? (unsigned char)j->d[j->p] : -1;
}

/* Parses a string into out (size bytes, truncated); out may be NULL to skip. */
static aiecg_status jstr(jr *j, char *out, size_t size) {
    if (peek(j) != '"') return jfail(j, "expected a string");
    j->p++;
    size_t w = 0;
    while (j->p < j->len) {
        unsigned char c = (unsigned char)j->d[j->p++];
        if (c == '"') {
            if (out) out[w < size ? w : size - 1] = '\0';
            return AIECG_OK;
        }
        if (c < 0x20) return jfail(j, "control character in string");
        if (c == '\\') {
            if (j->p >= j->len) break;
            char e = j->d[j->p++];
            unsigned cp = 0;
            switch (e) {
            case '"': case '\\': case '/': c = (unsigned char)e; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'n': c = '\n'; break;
            case 'r': c = '\r'; break;
            case 't': c = '\t'; break;
            case 'u':
                if (j->p + 4 > j->len) return jfail(j, "short \\u escape");
                for (int i = 0; i < 4; i++) {
                    int h = j->d[j->p + i];
                    int v = isdigit(h) ? h - '0' : (h >= 'a' && h <= 'f') ? h - 'a' + 10 : (h >= 'A' && h <= 'F') ? h - 'A' + 10 : -1;
                    if (v < 0) return jfail(j, "bad \\u escape");
                    cp = cp * 16 + (unsigned)v;
                }
                j->p += 4;
                if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF)) cp = '?';
                {
                    char u[4];
                    int n = 0;
                    if (cp < 0x80) u[n++] = (char)cp;
                    else if (cp < 0x800) { u[n++] = (char)(0xC0 | (cp >> 6)); u[n++] = (char)(0x80 | (cp & 0x3F)); }
                    else { u[n++] = (char)(0xE0 | (cp >> 12)); u[n++] = (char)(0x80 | ((cp >> 6) & 0x3F)); u[n++] = (char)(0x80 | (cp & 0x3F)); }
                    for (int i = 0; i < n; i++)
                        if (out && w + 1 < size) out[w++] = u[i];
                }
                continue;
            default: return jfail(j, "bad escape in string");
            }
        }
        if (out && w + 1 < size) out[w++] = (char)c;
    }
    return aiecg__error_set(j->err, AIECG_ERR_TRUNCATED, "%s: byte %zu: unterminated string", j->name, j->len);
}

static aiecg_status jnum(jr *j, double *v, int *is_null) {
    int c = peek(j);
    if (is_null) *is_null = 0;
    if (c == 'n' && j->p + 4 <= j->len && memcmp(j->d + j->p, "null", 4) == 0) {
        j->p += 4;
        *v = NAN;
        if (is_null) *is_null = 1;
        return AIECG_OK;
    }
    size_t a = j->p;
    while (j->p < j->len && (isdigit((unsigned char)j->d[j->p]) || strchr("+-.eE", j->d[j->p]))) j->p++;
    size_t n = j->p - a;
    if (n == 0 || n > 40) {
        j->p = a;
        return jfail(j, "expected a number");
    }
    char buf[48];
    memcpy(buf, j->d + a, n);
    buf[n] = '\0';
    char *end;
    *v = strtod(buf, &end);
    if (*end || !isfinite(*v)) {
        j->p = a;
        return jfail(j, "malformed number");
    }
    return AIECG_OK;
}

static aiecg_status jskip(jr *j, int depth) {
    if (depth > 32) return jfail(j, "nesting deeper than 32");
    int c = peek(j);
    aiecg_status s;
    if (c == '"') return jstr(j, NULL, 0);
    if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        j->p++;
        if (peek(j) == close) { j->p++; return AIECG_OK; }
        for (;;) {
            if (c == '{') {
                if ((s = jstr(j, NULL, 0))) return s;
                if (peek(j) != ':') return jfail(j, "expected ':'");
                j->p++;
            }
            if ((s = jskip(j, depth + 1))) return s;
            int d = peek(j);
            if (d == ',') { j->p++; continue; }
            if (d == close) { j->p++; return AIECG_OK; }
            if (d < 0) return aiecg__error_set(j->err, AIECG_ERR_TRUNCATED, "%s: byte %zu: input ends inside a value", j->name, j->len);
            return jfail(j, "expected ',' or a closing bracket");
        }
    }
    static const char *const lit[] = {"true", "false", "null"};
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(lit[i]);
        if (j->p + n <= j->len && memcmp(j->d + j->p, lit[i], n) == 0) { j->p += n; return AIECG_OK; }
    }
    double v;
    return jnum(j, &v, NULL);
}

/* Iterates an array: call with *first = 1; returns 1 while there is another element. */
static int jarr_next(jr *j, int *first, aiecg_status *s) {
    int c = peek(j);
    if (*first) {
        *first = 0;
        if (c != '[') { *s = jfail(j, "expected an array"); return 0; }
        j->p++;
        if (peek(j) == ']') { j->p++; return 0; }
        return 1;
    }
    if (c == ',') { j->p++; return 1; }
    if (c == ']') { j->p++; return 0; }
    *s = c < 0 ? aiecg__error_set(j->err, AIECG_ERR_TRUNCATED, "%s: byte %zu: input ends inside an array", j->name, j->len)
               : jfail(j, "expected ',' or ']'");
    return 0;
}

/* Same for objects; *key receives the key. */
static int jobj_next(jr *j, int *first, char *key, size_t ksz, aiecg_status *s) {
    int c = peek(j);
    if (*first) {
        *first = 0;
        if (c != '{') { *s = jfail(j, "expected an object"); return 0; }
        j->p++;
        if (peek(j) == '}') { j->p++; return 0; }
    } else if (c == ',') {
        j->p++;
    } else if (c == '}') {
        j->p++;
        return 0;
    } else {
        *s = c < 0 ? aiecg__error_set(j->err, AIECG_ERR_TRUNCATED, "%s: byte %zu: input ends inside an object", j->name, j->len)
                   : jfail(j, "expected ',' or '}'");
        return 0;
    }
    if ((*s = jstr(j, key, ksz))) return 0;
    if (peek(j) != ':') { *s = jfail(j, "expected ':'"); return 0; }
    j->p++;
    return 1;
}

/* Counts the elements of the array of arrays at j->p: *outer, and the length of each inner (must agree). */
static aiecg_status count_matrix(jr *j, int *outer, int64_t *inner) {
    aiecg_status s = AIECG_OK;
    int f = 1, n = 0;
    *inner = -1;
    while (jarr_next(j, &f, &s)) {
        size_t at = j->p;
        int g = 1;
        int64_t m = 0;
        while (jarr_next(j, &g, &s)) {
            double v;
            if ((s = jnum(j, &v, NULL))) return s;
            m++;
        }
        if (s) return s;
        if (*inner >= 0 && m != *inner)
            return aiecg__error_set(j->err, AIECG_ERR_FORMAT, "%s: byte %zu: lead %d has %lld samples, lead 1 has %lld",
                                    j->name, at, n + 1, (long long)m, (long long)*inner);
        *inner = m;
        if (++n > AIECG_MAX_LEADS) return aiecg__error_set(j->err, AIECG_ERR_LIMIT, "%s: byte %zu: more than %d leads", j->name, at, AIECG_MAX_LEADS);
    }
    *outer = n;
    if (*inner < 0) *inner = 0;
    return s;
}

typedef struct jlead {
    char label[64], units[16];
    double gain;
    double baseline, adc_zero, adc_res;
    int derived;
} jlead;

aiecg_status aiecg__json_read_mem(const uint8_t *data, size_t len, const char *name,
                                  const aiecg_read_options *opt, aiecg_record **out, aiecg_error *err) {
    *out = NULL;
    aiecg_read_options o = opt ? *opt : aiecg_read_options_default();
    jr j = {(const char *)data, len, 0, name, err};
    aiecg_status s = AIECG_OK;
    size_t at_leads = 0, at_samples = 0, at_adc = 0, at_ann = 0;
    int have_leads = 0, have_samples = 0, have_adc = 0, have_ann = 0, have_fs = 0;
    double fs = 0;
    char key[64], rname[256] = "", pid[256] = "", device[256] = "", start[64] = "", sex[8] = "U";
    double age = -1;
    int first = 1;
    while (jobj_next(&j, &first, key, sizeof key, &s)) {
        if (strcmp(key, "fs") == 0) {
            if ((s = jnum(&j, &fs, NULL))) return s;
            have_fs = 1;
            continue;
        }
        if (strcmp(key, "record") == 0 && peek(&j) == '"') { if ((s = jstr(&j, rname, sizeof rname))) return s; continue; }
        if (strcmp(key, "device") == 0 && peek(&j) == '"') { if ((s = jstr(&j, device, sizeof device))) return s; continue; }
        if (strcmp(key, "start_time") == 0 && peek(&j) == '"') { if ((s = jstr(&j, start, sizeof start))) return s; continue; }
        if (strcmp(key, "patient") == 0 && peek(&j) == '{') {
            int f2 = 1;
            char k2[32];
            while (jobj_next(&j, &f2, k2, sizeof k2, &s)) {
                int isn;
                if (strcmp(k2, "id") == 0 && peek(&j) == '"') s = jstr(&j, pid, sizeof pid);
                else if (strcmp(k2, "sex") == 0 && peek(&j) == '"') s = jstr(&j, sex, sizeof sex);
                else if (strcmp(k2, "age") == 0) { s = jnum(&j, &age, &isn); if (isn) age = -1; }
                else s = jskip(&j, 1);
                if (s) return s;
            }
            if (s) return s;
            continue;
        }
        size_t at = j.p;
        if (strcmp(key, "leads") == 0) at_leads = at, have_leads = 1;
        else if (strcmp(key, "samples") == 0) at_samples = at, have_samples = 1;
        else if (strcmp(key, "adc") == 0) at_adc = at, have_adc = 1;
        else if (strcmp(key, "annotations") == 0) at_ann = at, have_ann = 1;
        if ((s = jskip(&j, 1))) return s;
    }
    if (s) return s;
    if (!have_fs || !have_samples)
        return aiecg__error_set(err, AIECG_ERR_FORMAT, "%s: not an aiecg JSON record (needs \"fs\" and \"samples\")", name);
    int nl = 0;
    int64_t ns = 0;
    j.p = at_samples;
    if ((s = count_matrix(&j, &nl, &ns))) return s;
    if (nl < 1) return aiecg__error_set(err, AIECG_ERR_FORMAT, "%s: byte %zu: \"samples\" has no lead", name, at_samples);
    if (have_adc) {
        int nl2;
        int64_t ns2;
        j.p = at_adc;
        if ((s = count_matrix(&j, &nl2, &ns2))) return s;
        if (nl2 != nl || ns2 != ns)
            return aiecg__error_set(err, AIECG_ERR_FORMAT, "%s: byte %zu: \"adc\" is %dx%lld, \"samples\" %dx%lld", name,
                                    at_adc, nl2, (long long)ns2, nl, (long long)ns);
    }
    int64_t cap = o.max_samples > 0 ? o.max_samples : AIECG_MAX_SAMPLES_TOTAL / nl;
    if (ns > cap) return aiecg__error_set(err, AIECG_ERR_LIMIT, "%s: %lld samples exceed the limit", name, (long long)ns);
    jlead *L = aiecg__calloc((size_t)nl, sizeof *L);
    if (!L) return aiecg__error_set(err, AIECG_ERR_NOMEM, "%s: out of memory", name);
    aiecg_record *r = NULL;
    if (have_leads) {
        j.p = at_leads;
        int f = 1, k = 0;
        while (!s && jarr_next(&j, &f, &s)) {
            jlead tmp, *l = k < nl ? &L[k] : &tmp;
            memset(l, 0, sizeof *l);
            int g = 1;
            char k2[32];
            while (jobj_next(&j, &g, k2, sizeof k2, &s)) {
                int isn;
                if (strcmp(k2, "label") == 0 && peek(&j) == '"') s = jstr(&j, l->label, sizeof l->label);
                else if (strcmp(k2, "units") == 0 && peek(&j) == '"') s = jstr(&j, l->units, sizeof l->units);
                else if (strcmp(k2, "gain") == 0) s = jnum(&j, &l->gain, &isn);
                else if (strcmp(k2, "baseline") == 0) s = jnum(&j, &l->baseline, &isn);
                else if (strcmp(k2, "adc_zero") == 0) s = jnum(&j, &l->adc_zero, &isn);
                else if (strcmp(k2, "adc_resolution") == 0) s = jnum(&j, &l->adc_res, &isn);
                else if (strcmp(k2, "derived") == 0) { l->derived = peek(&j) == 't'; s = jskip(&j, 2); }
                else s = jskip(&j, 2);
                if (s) break;
            }
            k++;
        }
        if (s) goto done;
    }
    for (int k = 0; k < nl; k++)
        if (!(fabs(L[k].baseline) < 1073741824.0) || !(fabs(L[k].adc_zero) < 1073741824.0) || !(L[k].gain >= 0 && L[k].gain < 1e12) ||
            !(L[k].adc_res >= 0 && L[k].adc_res <= 32)) {
            s = aiecg__error_set(err, AIECG_ERR_RANGE, "%s: byte %zu: lead %d: gain/baseline/adc_zero/adc_resolution out of range",
                                 name, at_leads, k + 1);
            goto done;
        }
    if ((s = aiecg_record_new(nl, ns, fs, have_adc && o.keep_adc, &r, err))) {
        aiecg__error_prefix(err, "%s", name);
        goto done;
    }
    for (int k = 0; k < nl && !s; k++) {
        aiecg_lead_info li = {0};
        li.label = L[k].label;
        li.units = L[k].units[0] ? L[k].units : "mV";
        li.gain = L[k].gain;
        li.baseline = (int32_t)L[k].baseline;
        li.adc_zero = (int32_t)L[k].adc_zero;
        li.adc_resolution = (int)L[k].adc_res;
        li.derived = L[k].derived;
        s = aiecg_record_set_lead(r, k, &li);
    }
    if (s) { s = aiecg__error_set(err, s, "%s: out of memory", name); goto done; }
    {
        j.p = (r->adc) ? at_adc : at_samples;
        int f = 1, k = 0;
        while (!s && jarr_next(&j, &f, &s)) {
            int g = 1;
            int64_t i = 0;
            while (jarr_next(&j, &g, &s)) {
                double v;
                if ((s = jnum(&j, &v, NULL))) break;
                if (r->adc) {
                    if (!(v > -1073741824.0 && v < 1073741824.0) || v != floor(v)) { s = jfail(&j, "ADC value is not an integer within +-2^30"); break; }
                    r->adc[(size_t)k * (size_t)ns + (size_t)i] = (int32_t)v;
                } else {
                    r->mv[(size_t)k * (size_t)ns + (size_t)i] = (float)v;
                }
                i++;
            }
            k++;
        }
        if (s) goto done;
        if (r->adc) aiecg_record_adc_to_mv(r);
    }
    aiecg_record_meta m;
    aiecg_record_meta_get(r, &m);
    m.format = "json";
    m.record_name = rname;
    m.patient_id = pid;
    m.device = device;
    m.sex = sex[0];
    m.age = age >= 0 && age < 200 ? (int)age : -1;
    if (start[0] && sscanf(start, "%d-%d-%dT%d:%d:%lf", &m.year, &m.month, &m.day, &m.hour, &m.minute, &m.second) == 6)
        m.has_start_time = 1;
    if ((s = aiecg_record_set_meta(r, &m))) { s = aiecg__error_set(err, s, "%s: out of memory", name); goto done; }
    if (have_ann && !o.skip_annotations) {
        j.p = at_ann;
        int f = 1;
        while (!s && jarr_next(&j, &f, &s)) {
            int g = 1;
            char k2[32], code[16] = "\"", aux[1024];
            int has_aux = 0;
            double smp = 0, sub = 0, chan = 0, num = 0;
            while (jobj_next(&j, &g, k2, sizeof k2, &s)) {
                int isn = 0;
                if (strcmp(k2, "sample") == 0) s = jnum(&j, &smp, &isn);
                else if (strcmp(k2, "code") == 0 && peek(&j) == '"') s = jstr(&j, code, sizeof code);
                else if (strcmp(k2, "subtype") == 0) s = jnum(&j, &sub, &isn);
                else if (strcmp(k2, "channel") == 0) s = jnum(&j, &chan, &isn);
                else if (strcmp(k2, "num") == 0) s = jnum(&j, &num, &isn);
                else if (strcmp(k2, "aux") == 0 && peek(&j) == '"') { s = jstr(&j, aux, sizeof aux); has_aux = 1; }
                else s = jskip(&j, 3);
                if (s) break;
            }
            if (s) break;
            /* written so that NaN (a null) fails too: converting it to int is undefined */
            if (!(smp >= 0 && smp < 9e15) || !(fabs(sub) <= 1e9) || !(fabs(chan) <= 1e9) || !(fabs(num) <= 1e9)) {
                s = jfail(&j, "annotation field out of range");
                break;
            }
            aiecg_annotation a = {0};
            a.sample = (int64_t)smp;
            a.code = aiecg_annotation_code_parse(code);
            if (a.code < 0) a.code = 22;
            a.subtype = (int)sub;
            a.channel = (int)chan;
            a.num = (int)num;
            a.aux = has_aux ? aux : NULL;
            if ((s = aiecg_record_add_annotation(r, &a))) s = aiecg__error_set(err, s, "%s: cannot store annotation", name);
        }
        if (s) goto done;
    }
    if (o.derive_limb_leads && (s = aiecg_record_derive_limb_leads(r, NULL)))
        s = aiecg__error_set(err, s, "%s: cannot derive limb leads", name);
done:
    aiecg__free(L);
    if (s) {
        aiecg_record_free(r);
        return s;
    }
    *out = r;
    return AIECG_OK;
}

aiecg_status aiecg__json_read_path(const char *path, const aiecg_read_options *opt, aiecg_record **out,
                                   aiecg_error *err) {
    return aiecg__read_path_via_mem(path, aiecg__json_read_mem, opt, out, err);
}

int aiecg__json_probe(const uint8_t *head, size_t len, const char *path) {
    size_t i = 0;
    while (i < len && isspace(head[i])) i++;
    int obj = i < len && head[i] == '{';
    if (obj && len >= 16) {
        const char *h = (const char *)head;
        for (size_t k = i; k + 12 <= len; k++)
            if (memcmp(h + k, "\"aiecg-json\"", 12) == 0) return 95;
    }
    if (aiecg__path_has_ext(path, ".json")) return obj ? 70 : 30;
    return 0;
}
