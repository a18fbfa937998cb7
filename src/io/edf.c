/*
 * EDF, EDF+ and BDF reader; EDF+ writer.
 *
 * Standards: Kemp et al., "A simple format for exchange of digitized
 * polygraphic recordings", EEG Clin Neurophysiol 1992 (EDF); Kemp & Olivan,
 * "European data format 'plus' (EDF+)", Clin Neurophysiol 2003 (edfplus.info:
 * EDF+C/EDF+D, TALs, patient/recording subfields); BioSemi's 24-bit variant.
 *
 * Reading. Every header field is checked (printable ASCII for numbers, whole
 * field numeric, ranges) before anything is allocated, and the data size
 * implied by the header must be present in the file, so the allocation is
 * bounded by the input size. A record holds one sampling rate: the reader
 * keeps the ordinary signals whose rate equals that of the ECG-like signals
 * (labels that parse as a lead or contain ECG/EKG), or else the most common
 * rate, and logs the others as skipped. EDF+D gaps between data records are
 * filled with NaN (ADC value -32768). TALs become annotations (see
 * edf_int.h for the text form). The ADC plane holds the digital values;
 * gain = (dmax - dmin) / (pmax - pmin) per physical unit, converted to per mV
 * for uV/mV/V/nV; when the offset dmin - pmin*gain is an integer the mV plane
 * is (adc - baseline) / gain exactly as aiecg_record_adc_to_mv computes it,
 * otherwise the exact EDF linear map is used and the baseline is rounded.
 *
 * Writing. The ADC plane is written as the digital values; the physical range
 * is chosen (search in choose_range) so that the reader recovers exactly the
 * record's gain and baseline from 8-character decimal fields. Records whose
 * length is not a whole number of data records are padded with the last
 * sample and carry an "aiecg:data-end" TAL that this reader uses to trim the
 * padding (other readers show it as an annotation at the end of the data).
 */
#include "edf_int.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define EDF_MAX_SIGNALS 512
#define EDF_DATA_END "aiecg:data-end"

/* ---- annotation text (shared with csv.c and json.c) ------------------- */

double aiecg__snap_sig(double x, int digits) {
    if (!isfinite(x) || x == 0) return x;
    char buf[64];
    snprintf(buf, sizeof buf, "%.*g", digits, x);
    return strtod(buf, NULL);
}

static int text_is_plain(const char *s) {
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == '\\' || *p == 0x7f) return 0;
    return 1;
}

void aiecg__ann_to_text(aiecg__sbuf *b, const aiecg_annotation *a) {
    int code = (a->code >= 1 && a->code < 50) ? a->code : 22;
    if (code == 22 && !a->subtype && !a->channel && !a->num && a->aux && a->aux[0] &&
        text_is_plain(a->aux)) {
        /* plain free text: written alone if it reads back as the same NOTE */
        aiecg_annotation t = {0};
        char scratch[1024];
        size_t n = strlen(a->aux);
        if (n < sizeof scratch) {
            aiecg__ann_from_text(a->aux, n, scratch, &t);
            if (t.code == 22 && t.aux && strcmp(t.aux, a->aux) == 0 && !t.subtype && !t.channel &&
                !t.num) {
                aiecg__sbuf_puts(b, a->aux);
                return;
            }
        }
    }
    aiecg__sbuf_puts(b, aiecg_annotation_code_name(code));
    if (a->subtype) aiecg__sbuf_printf(b, " sub=%d", a->subtype);
    if (a->channel) aiecg__sbuf_printf(b, " chan=%d", a->channel);
    if (a->num) aiecg__sbuf_printf(b, " num=%d", a->num);
    if (a->aux) {
        aiecg__sbuf_puts(b, " aux=");
        for (const unsigned char *p = (const unsigned char *)a->aux; *p; p++) {
            if (*p < 0x20 || *p == '\\' || *p == 0x7f)
                aiecg__sbuf_printf(b, "\\x%02X", *p);
            else
                aiecg__sbuf_append(b, (const char *)p, 1);
        }
    }
}

/* Copies n bytes replacing invalid UTF-8 sequences by '?'; returns the length written. */
static size_t utf8_sanitize(const unsigned char *s, size_t n, char *out) {
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        size_t k = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        int ok = k > 0 && i + k <= n && c != 0;
        for (size_t j = 1; ok && j < k; j++) ok = (s[i + j] & 0xC0) == 0x80;
        if (ok && k == 2 && c < 0xC2) ok = 0; /* overlong */
        if (ok) {
            memcpy(out + o, s + i, k);
            o += k;
            i += k;
        } else {
            out[o++] = '?';
            i++;
        }
    }
    out[o] = '\0';
    return o;
}

static int parse_int_tok(const char *s, size_t n, int *v) {
    if (n == 0 || n > 11) return 0;
    char buf[16];
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *end;
    long x = strtol(buf, &end, 10);
    if (*end || x < -2147483647L || x > 2147483647L) return 0;
    *v = (int)x;
    return 1;
}

static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

void aiecg__ann_from_text(const char *text, size_t n, char *scratch, aiecg_annotation *out) {
    int64_t sample = out->sample;
    size_t len = utf8_sanitize((const unsigned char *)text, n, scratch);
    aiecg_annotation a = {0};
    a.sample = sample;
    /* structured form: MNEMONIC [fields] */
    size_t sp = 0;
    while (sp < len && scratch[sp] != ' ') sp++;
    char mn[8];
    int code = -1;
    if (sp > 0 && sp < sizeof mn) {
        memcpy(mn, scratch, sp);
        mn[sp] = '\0';
        code = aiecg_annotation_code_parse(mn);
    }
    int ok = code >= 1;
    size_t p = sp;
    const char *aux_start = NULL;
    while (ok && p < len) {
        p++; /* the space */
        size_t q = p;
        while (q < len && scratch[q] != ' ') q++;
        const char *t = scratch + p;
        size_t tn = q - p;
        if (tn >= 4 && memcmp(t, "aux=", 4) == 0) {
            aux_start = t + 4;
            break;
        } else if (tn > 4 && memcmp(t, "sub=", 4) == 0) {
            ok = parse_int_tok(t + 4, tn - 4, &a.subtype);
        } else if (tn > 5 && memcmp(t, "chan=", 5) == 0) {
            ok = parse_int_tok(t + 5, tn - 5, &a.channel);
        } else if (tn > 4 && memcmp(t, "num=", 4) == 0) {
            ok = parse_int_tok(t + 4, tn - 4, &a.num);
        } else {
            ok = 0;
        }
        p = q;
    }
    if (ok) {
        a.code = code;
        if (aux_start) {
            /* unescape \xHH in place (the result is never longer) */
            char *w = scratch;
            const char *r = aux_start, *end = scratch + len;
            while (r < end) {
                int h1, h2;
                int ch;
                /* only the escapes the encoder writes: bytes below 0x20, backslash, DEL */
                if (r[0] == '\\' && end - r >= 4 && r[1] == 'x' && (h1 = hexval(r[2])) >= 0 &&
                    (h2 = hexval(r[3])) >= 0 && (ch = h1 * 16 + h2) != 0 &&
                    (ch < 0x20 || ch == '\\' || ch == 0x7f)) {
                    *w++ = (char)ch;
                    r += 4;
                } else {
                    *w++ = *r++;
                }
            }
            *w = '\0';
            a.aux = scratch;
        }
    } else {
        memset(&a, 0, sizeof a);
        a.sample = sample;
        a.code = 22;
        a.aux = scratch;
    }
    *out = a;
}

/* ---- reader ------------------------------------------------------------ */

typedef struct edf_sig {
    char label[17];
    char units[9];
    double pmin, pmax;
    long dmin, dmax;
    long spr;          /* samples per data record */
    size_t off;        /* byte offset of this signal within a data record */
    int is_annot;
    double unit_scale; /* physical unit -> mV; 1 for non-voltage units */
} edf_sig;

typedef struct edf_tal {
    double onset;
    const char *text; /* into the file buffer */
    size_t len;
} edf_tal;

typedef struct edf_ctx {
    const uint8_t *d;
    size_t len;
    const char *name;
    aiecg_error *err;
    int bdf;
} edf_ctx;

static aiecg_status fail(edf_ctx *c, aiecg_status s, size_t off, const char *what) {
    return aiecg__error_set(c->err, s, "%s: byte %zu: %s", c->name, off, what);
}

/* Text field: trimmed, non-printable bytes replaced by '?'. */
static void field_text(const uint8_t *p, size_t n, char *out, size_t outsz) {
    size_t a = 0, b = n;
    while (a < b && (p[a] == ' ' || p[a] == 0)) a++;
    while (b > a && (p[b - 1] == ' ' || p[b - 1] == 0)) b--;
    size_t k = 0;
    for (size_t i = a; i < b && k + 1 < outsz; i++) out[k++] = (p[i] >= 32 && p[i] < 127) ? (char)p[i] : '?';
    out[k] = '\0';
}

static aiecg_status field_num(edf_ctx *c, size_t off, size_t n, const char *what, double *v) {
    char buf[96];
    const uint8_t *p = c->d + off;
    for (size_t i = 0; i < n; i++)
        if (p[i] < 32 || p[i] > 126)
            return aiecg__error_set(c->err, AIECG_ERR_FORMAT,
                                    "%s: byte %zu: field '%s' holds a non-ASCII byte 0x%02X", c->name,
                                    off + i, what, p[i]);
    field_text(p, n, buf, sizeof buf);
    char *end;
    double x = buf[0] ? strtod(buf, &end) : 0;
    if (!buf[0] || *end || !isfinite(x))
        return aiecg__error_set(c->err, AIECG_ERR_FORMAT,
                                "%s: byte %zu: field '%s' is not a number (\"%s\")", c->name, off, what,
                                buf);
    *v = x;
    return AIECG_OK;
}

static aiecg_status field_long(edf_ctx *c, size_t off, size_t n, const char *what, long lo, long hi,
                               long *v) {
    double x = 0;
    aiecg_status s = field_num(c, off, n, what, &x);
    if (s) return s;
    if (x != floor(x))
        return aiecg__error_set(c->err, AIECG_ERR_FORMAT, "%s: byte %zu: field '%s' is not an integer (%g)",
                                c->name, off, what, x);
    if (x < (double)lo || x > (double)hi)
        return aiecg__error_set(c->err, AIECG_ERR_RANGE, "%s: byte %zu: field '%s' = %.0f outside %ld..%ld",
                                c->name, off, what, x, lo, hi);
    *v = (long)x;
    return AIECG_OK;
}

static double unit_scale_of(const uint8_t *raw, size_t n, const char *clean) {
    /* raw bytes too: "µV" arrives as Latin-1 0xB5 or UTF-8 C2 B5 */
    size_t a = 0;
    while (a < n && raw[a] == ' ') a++;
    if (a < n && raw[a] == 0xB5 && a + 1 < n && (raw[a + 1] == 'V' || raw[a + 1] == 'v')) return 1e-3;
    if (a + 2 < n && raw[a] == 0xC2 && raw[a + 1] == 0xB5 && (raw[a + 2] == 'V' || raw[a + 2] == 'v'))
        return 1e-3;
    if (strcmp(clean, "uV") == 0 || strcasecmp(clean, "uv") == 0) return 1e-3;
    if (strcmp(clean, "mV") == 0 || strcasecmp(clean, "mv") == 0) return 1.0;
    if (strcmp(clean, "V") == 0 || strcmp(clean, "v") == 0) return 1e3;
    if (strcmp(clean, "nV") == 0) return 1e-6;
    return 0; /* not a voltage */
}

static int looks_ecg(const char *label) {
    if (aiecg_lead_parse(label) != AIECG_LEAD_UNKNOWN) return 1;
    char up[17];
    size_t i = 0;
    for (; label[i] && i < 16; i++) up[i] = (char)toupper((unsigned char)label[i]);
    up[i] = '\0';
    return strstr(up, "ECG") || strstr(up, "EKG");
}

static const char *const month_names[12] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                            "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};

/* "02-MAR-2002" -> y, m, d; 0 on mismatch. */
static int parse_edfplus_date(const char *s, int *y, int *m, int *d) {
    if (strlen(s) != 11 || s[2] != '-' || s[6] != '-') return 0;
    if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1])) return 0;
    for (int i = 7; i < 11; i++)
        if (!isdigit((unsigned char)s[i])) return 0;
    int mm = -1;
    for (int i = 0; i < 12; i++)
        if (strncasecmp(s + 3, month_names[i], 3) == 0) mm = i + 1;
    if (mm < 0) return 0;
    *d = (s[0] - '0') * 10 + (s[1] - '0');
    *m = mm;
    *y = atoi(s + 7);
    return *d >= 1 && *d <= 31;
}

/* Splits a space-separated EDF+ subfield list; returns the count (at most max). */
static int split_fields(char *s, char **f, int max) {
    int n = 0;
    char *p = s;
    while (*p && n < max) {
        while (*p == ' ') p++;
        if (!*p) break;
        f[n++] = p;
        while (*p && *p != ' ') p++;
        if (*p) *p++ = '\0';
    }
    return n;
}

static void underscores_to_spaces(char *s) {
    for (; *s; s++)
        if (*s == '_') *s = ' ';
}

static int parse_two(const uint8_t *p, int *v) {
    if (!isdigit(p[0]) || !isdigit(p[1])) return 0;
    *v = (p[0] - '0') * 10 + (p[1] - '0');
    return 1;
}

/* Parses one TAL number: [+-]digits[.digits]. */
static int tal_number(const uint8_t *p, size_t n, int need_sign, double *v) {
    if (n == 0 || n > 40) return 0;
    size_t i = 0;
    if (p[0] == '+' || p[0] == '-') i = 1;
    else if (need_sign) return 0;
    int digits = 0, dot = 0;
    for (size_t j = i; j < n; j++) {
        if (isdigit(p[j])) digits++;
        else if (p[j] == '.' && !dot) dot = 1;
        else return 0;
    }
    if (!digits) return 0;
    char buf[48];
    memcpy(buf, p, n);
    buf[n] = '\0';
    *v = strtod(buf, NULL);
    return isfinite(*v);
}

typedef struct tal_list {
    edf_tal *v;
    size_t n, cap;
} tal_list;

static aiecg_status tal_push(tal_list *l, double onset, const char *t, size_t len) {
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 64;
        edf_tal *nv = aiecg__realloc(l->v, nc * sizeof *nv);
        if (!nv) return AIECG_ERR_NOMEM;
        l->v = nv;
        l->cap = nc;
    }
    l->v[l->n++] = (edf_tal){onset, t, len};
    return AIECG_OK;
}

/*
 * Parses the TALs of one annotation signal block [off, off+n). *keep receives
 * the onset of the first TAL when want_keep (the time-keeping TAL).
 */
static aiecg_status parse_tals(edf_ctx *c, size_t off, size_t n, int want_keep, double *keep,
                               int *have_keep, tal_list *out) {
    const uint8_t *p = c->d + off, *end = p + n;
    int first = 1;
    while (p < end && *p != 0) {
        size_t tal_off = (size_t)(p - c->d);
        const uint8_t *q = p;
        while (q < end && *q != 0x14 && *q != 0x15 && *q != 0) q++;
        double onset, dur;
        if (q >= end || *q == 0 || !tal_number(p, (size_t)(q - p), 1, &onset))
            return fail(c, AIECG_ERR_FORMAT, tal_off, "annotation TAL onset is not +/-seconds");
        if (*q == 0x15) {
            const uint8_t *r = ++q;
            while (q < end && *q != 0x14 && *q != 0) q++;
            if (q >= end || *q != 0x14 || !tal_number(r, (size_t)(q - r), 0, &dur))
                return fail(c, AIECG_ERR_FORMAT, (size_t)(r - c->d), "annotation TAL duration is not a number");
        }
        q++; /* past 0x14 */
        if (first && want_keep) {
            *keep = onset;
            *have_keep = 1;
        }
        for (;;) {
            if (q >= end) return fail(c, AIECG_ERR_TRUNCATED, tal_off, "annotation TAL not terminated");
            if (*q == 0) {
                q++;
                break;
            }
            const uint8_t *t = q;
            while (q < end && *q != 0x14 && *q != 0) q++;
            if (q >= end || *q != 0x14)
                return fail(c, AIECG_ERR_FORMAT, (size_t)(t - c->d), "annotation text not closed by 0x14");
            if (q > t) {
                aiecg_status s = tal_push(out, onset, (const char *)t, (size_t)(q - t));
                if (s) return aiecg__error_set(c->err, s, "%s: out of memory for annotations", c->name);
            }
            q++;
        }
        p = q;
        first = 0;
    }
    return AIECG_OK;
}

static const char *base_name(const char *path, char *buf, size_t size) {
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    snprintf(buf, size, "%s", b);
    char *dot = strchr(buf, '.');
    if (dot && dot != buf) *dot = '\0';
    return buf;
}

aiecg_status aiecg__edf_read_mem(const uint8_t *data, size_t len, const char *name,
                                 const aiecg_read_options *opt, aiecg_record **out, aiecg_error *err) {
    *out = NULL;
    edf_ctx c = {data, len, name, err, 0};
    aiecg_read_options o = opt ? *opt : aiecg_read_options_default();
    if (len < 256) return fail(&c, AIECG_ERR_TRUNCATED, len, "file shorter than the 256-byte EDF header");
    if (data[0] == 0xFF && memcmp(data + 1, "BIOSEMI", 7) == 0) {
        c.bdf = 1;
    } else if (memcmp(data, "0       ", 8) != 0) {
        return fail(&c, AIECG_ERR_FORMAT, 0, "version field is not \"0\" (not an EDF file)");
    }
    aiecg_status s;
    long hdr_bytes = 0, nrec = 0, ns = 0;
    double duration = 0;
    if ((s = field_long(&c, 252, 4, "number of signals", 1, EDF_MAX_SIGNALS, &ns))) return s;
    if ((s = field_long(&c, 184, 8, "header bytes", 256, 256L * (EDF_MAX_SIGNALS + 1), &hdr_bytes))) return s;
    if (hdr_bytes != 256 * (ns + 1))
        return aiecg__error_set(err, AIECG_ERR_FORMAT,
                                "%s: byte 184: header bytes %ld but %ld signals need %ld", name, hdr_bytes,
                                ns, 256 * (ns + 1));
    if ((s = field_long(&c, 236, 8, "number of data records", -1, 99999999, &nrec))) return s;
    if ((s = field_num(&c, 244, 8, "duration of a data record", &duration))) return s;
    if ((size_t)hdr_bytes > len) return fail(&c, AIECG_ERR_TRUNCATED, len, "file ends inside the signal headers");

    char reserved[45];
    field_text(data + 192, 44, reserved, sizeof reserved);
    int edfplus = strncmp(reserved, "EDF+", 4) == 0 || strncmp(reserved, "BDF+", 4) == 0;
    int discontinuous = edfplus && reserved[4] == 'D';

    edf_sig *sig = aiecg__calloc((size_t)ns, sizeof *sig);
    if (!sig) return aiecg__error_set(err, AIECG_ERR_NOMEM, "%s: out of memory", name);
    tal_list tals = {0};
    aiecg_record *r = NULL;
    int64_t *rec_pos = NULL;
    int *pick = NULL;
    char *scratch = NULL;
    const int bps = c.bdf ? 3 : 2;
    const long dlo = c.bdf ? -8388608L : -32768L, dhi = c.bdf ? 8388607L : 32767L;
    size_t rec_bytes = 0;
    int nann_sig = 0;
    for (long i = 0; i < ns; i++) {
        edf_sig *g = &sig[i];
        size_t b = 256;
        size_t o_label = b + (size_t)i * 16; b += (size_t)ns * 16;
        b += (size_t)ns * 80; /* transducer */
        size_t o_dim = b + (size_t)i * 8; b += (size_t)ns * 8;
        size_t o_pmin = b + (size_t)i * 8; b += (size_t)ns * 8;
        size_t o_pmax = b + (size_t)i * 8; b += (size_t)ns * 8;
        size_t o_dmin = b + (size_t)i * 8; b += (size_t)ns * 8;
        size_t o_dmax = b + (size_t)i * 8; b += (size_t)ns * 8;
        b += (size_t)ns * 80; /* prefiltering */
        size_t o_spr = b + (size_t)i * 8;
        field_text(data + o_label, 16, g->label, sizeof g->label);
        field_text(data + o_dim, 8, g->units, sizeof g->units);
        g->is_annot = edfplus && (strcmp(g->label, "EDF Annotations") == 0 || strcmp(g->label, "BDF Annotations") == 0);
        if ((s = field_num(&c, o_pmin, 8, "physical minimum", &g->pmin)) ||
            (s = field_num(&c, o_pmax, 8, "physical maximum", &g->pmax)) ||
            (s = field_long(&c, o_dmin, 8, "digital minimum", dlo, dhi, &g->dmin)) ||
            (s = field_long(&c, o_dmax, 8, "digital maximum", dlo, dhi, &g->dmax)) ||
            (s = field_long(&c, o_spr, 8, "samples per data record", 1, 10000000, &g->spr)))
            goto done;
        if (!g->is_annot) {
            if (g->dmax <= g->dmin) {
                s = aiecg__error_set(err, AIECG_ERR_FORMAT,
                                     "%s: byte %zu: signal %ld (%s): digital maximum %ld <= digital minimum %ld",
                                     name, o_dmax, i + 1, g->label, g->dmax, g->dmin);
                goto done;
            }
            if (g->pmax == g->pmin) {
                s = aiecg__error_set(err, AIECG_ERR_FORMAT,
                                     "%s: byte %zu: signal %ld (%s): physical maximum equals physical minimum (%g)",
                                     name, o_pmax, i + 1, g->label, g->pmax);
                goto done;
            }
        } else {
            nann_sig++;
        }
        g->unit_scale = unit_scale_of(data + o_dim, 8, g->units);
        g->off = rec_bytes;
        rec_bytes += (size_t)g->spr * bps;
        if (rec_bytes > ((size_t)1 << 30)) {
            s = fail(&c, AIECG_ERR_LIMIT, o_spr, "data record larger than 1 GiB");
            goto done;
        }
    }
    size_t avail = len - (size_t)hdr_bytes;
    if (nrec == -1) {
        nrec = (long)(avail / rec_bytes);
        aiecg__log(&o.logger, AIECG_LOG_WARN, "%s: number of data records -1, %ld from the file size", name, nrec);
    }
    if ((double)nrec * (double)rec_bytes > (double)avail) {
        s = aiecg__error_set(err, AIECG_ERR_TRUNCATED,
                             "%s: byte %zu: file ends early: %ld data records of %zu bytes need %zu bytes after the header, %zu present",
                             name, len, nrec, rec_bytes, (size_t)nrec * rec_bytes, avail);
        goto done;
    }
    if ((size_t)nrec * rec_bytes < avail)
        aiecg__log(&o.logger, AIECG_LOG_WARN, "%s: %zu bytes after the last data record ignored", name,
                   avail - (size_t)nrec * rec_bytes);

    /* which signals: the rate of the ECG-like signals, else the most common one */
    long target = 0;
    int best_count = 0;
    for (long i = 0; i < ns; i++)
        if (!sig[i].is_annot && looks_ecg(sig[i].label) && sig[i].spr > target) target = sig[i].spr;
    if (!target)
        for (long i = 0; i < ns; i++) {
            if (sig[i].is_annot) continue;
            int cnt = 0;
            for (long j = 0; j < ns; j++) cnt += !sig[j].is_annot && sig[j].spr == sig[i].spr;
            if (cnt > best_count || (cnt == best_count && sig[i].spr > target)) {
                best_count = cnt;
                target = sig[i].spr;
            }
        }
    if (!target) {
        s = aiecg__error_set(err, AIECG_ERR_NOT_FOUND,
                             "%s: no ordinary signal (the file holds only annotations)", name);
        goto done;
    }
    if (!(duration > 0)) {
        s = fail(&c, AIECG_ERR_FORMAT, 244, "duration of a data record must be > 0 when the file has signals");
        goto done;
    }
    double fs = aiecg__snap_sig((double)target / duration, 12);
    pick = aiecg__calloc(AIECG_MAX_LEADS, sizeof *pick);
    if (!pick) { s = aiecg__error_set(err, AIECG_ERR_NOMEM, "%s: out of memory", name); goto done; }
    int nl = 0;
    for (long i = 0; i < ns; i++) {
        if (sig[i].is_annot) continue;
        if (sig[i].spr != target) {
            aiecg__log(&o.logger, AIECG_LOG_WARN, "%s: signal %ld (%s) at %g Hz skipped (record rate %g Hz)",
                       name, i + 1, sig[i].label, (double)sig[i].spr / duration, fs);
            continue;
        }
        if (nl == AIECG_MAX_LEADS) {
            aiecg__log(&o.logger, AIECG_LOG_WARN, "%s: signal %ld (%s) skipped: more than %d signals", name,
                       i + 1, sig[i].label, AIECG_MAX_LEADS);
            continue;
        }
        pick[nl++] = (int)i;
    }

    /* annotations and record onsets (EDF+) */
    rec_pos = aiecg__calloc(nrec > 0 ? (size_t)nrec : 1, sizeof *rec_pos);
    if (!rec_pos) { s = aiecg__error_set(err, AIECG_ERR_NOMEM, "%s: out of memory", name); goto done; }
    double t0 = 0;
    int64_t total = 0;
    for (long rr = 0; rr < nrec; rr++) {
        size_t rbase = (size_t)hdr_bytes + (size_t)rr * rec_bytes;
        double keep = 0;
        int have_keep = 0, first_ann = 1;
        for (long i = 0; i < ns; i++) {
            if (!sig[i].is_annot) continue;
            if ((s = parse_tals(&c, rbase + sig[i].off, (size_t)sig[i].spr * bps, first_ann, &keep, &have_keep,
                                &tals)))
                goto done;
            first_ann = 0;
        }
        if (rr == 0 && have_keep) t0 = keep;
        int64_t pos = (int64_t)rr * target;
        if (discontinuous) {
            if (!have_keep) {
                s = fail(&c, AIECG_ERR_FORMAT, rbase, "EDF+D data record without a time-keeping TAL");
                goto done;
            }
            double p = (keep - t0) * fs;
            p = (p > -1 && p < 9e15) ? (double)llround(p) : -1;
            if (!(p >= (double)total)) {
                s = aiecg__error_set(err, AIECG_ERR_FORMAT,
                                     "%s: byte %zu: data record %ld starts at %.6f s, before the end of the previous one",
                                     name, rbase, rr + 1, keep);
                goto done;
            }
            pos = (int64_t)p;
        }
        rec_pos[rr] = pos;
        total = pos + target;
    }
    if (nrec == 0) total = 0;
    int64_t data_samples = (int64_t)nrec * target;
    if (discontinuous && total > 10 * data_samples + (int64_t)(fs * 60)) {
        s = aiecg__error_set(err, AIECG_ERR_LIMIT,
                             "%s: EDF+D gaps span %lld samples for %lld recorded (refused: more than 10x)", name,
                             (long long)total, (long long)data_samples);
        goto done;
    }
    /* trim our own padding */
    int64_t nsamples = total;
    for (size_t k = 0; k < tals.n; k++)
        if (tals.v[k].len == strlen(EDF_DATA_END) && memcmp(tals.v[k].text, EDF_DATA_END, tals.v[k].len) == 0) {
            double e = (tals.v[k].onset - t0) * fs;
            if (e > -0.5 && e <= (double)total) nsamples = (int64_t)llround(e);
        }
    int64_t cap = o.max_samples > 0 ? o.max_samples : AIECG_MAX_SAMPLES_TOTAL / nl;
    if (nsamples > cap) {
        s = aiecg__error_set(err, AIECG_ERR_LIMIT, "%s: %lld samples per lead exceed the limit of %lld", name,
                             (long long)nsamples, (long long)cap);
        goto done;
    }
    int with_adc = o.keep_adc != 0;
    if ((s = aiecg_record_new(nl, nsamples, fs, 1, &r, err))) {
        aiecg__error_prefix(err, "%s", name);
        goto done;
    }
    /* leads */
    for (int k = 0; k < nl; k++) {
        edf_sig *g = &sig[pick[k]];
        double scale = g->unit_scale > 0 ? g->unit_scale : 1.0;
        double gain_u = (double)(g->dmax - g->dmin) / (g->pmax - g->pmin);
        double gain = aiecg__snap_sig(gain_u / scale, 12);
        double b = (double)g->dmin - g->pmin * gain_u;
        aiecg_lead_info li = {0};
        li.label = g->label;
        li.units = g->units[0] ? g->units : "";
        li.gain = gain;
        /* |baseline| <= 2^30 keeps adc - baseline inside int32 for every consumer */
        li.baseline = (int32_t)(b > 1073741824.0 ? 1073741824.0 : b < -1073741824.0 ? -1073741824.0 : llround(b));
        li.adc_zero = (int32_t)((g->dmin + g->dmax + 1) / 2);
        int bits = 1;
        while (bits < 31 && ((int64_t)1 << bits) < (int64_t)(g->dmax - g->dmin + 1)) bits++;
        li.adc_resolution = bits;
        if ((s = aiecg_record_set_lead(r, k, &li))) {
            s = aiecg__error_set(err, s, "%s: out of memory", name);
            goto done;
        }
        int exact = fabs(b) <= 1073741824.0 && fabs(b - llround(b)) < 1e-3 && gain > 0;
        int32_t *adc = aiecg_record_lead_adc_mut(r, k);
        float *mv = aiecg_record_lead_data_mut(r, k);
        for (int64_t i = 0; i < nsamples; i++) {
            mv[i] = NAN;
            adc[i] = -32768;
        }
        for (long rr = 0; rr < nrec; rr++) {
            const uint8_t *src = data + hdr_bytes + (size_t)rr * rec_bytes + g->off;
            int64_t pos = rec_pos[rr];
            for (long i = 0; i < target && pos + i < nsamples; i++) {
                int32_t v;
                if (c.bdf) {
                    uint32_t u = (uint32_t)src[3 * i] | ((uint32_t)src[3 * i + 1] << 8) | ((uint32_t)src[3 * i + 2] << 16);
                    v = (u & 0x800000u) ? (int32_t)(u | 0xFF000000u) : (int32_t)u;
                } else {
                    v = (int16_t)((uint16_t)src[2 * i] | ((uint16_t)src[2 * i + 1] << 8));
                }
                adc[pos + i] = v;
                if (exact)
                    mv[pos + i] = (float)(((double)v - (double)li.baseline) * (1.0 / gain));
                else
                    mv[pos + i] = (float)((g->pmin + (double)(v - g->dmin) / gain_u) * scale);
            }
        }
    }
    /* metadata */
    {
        aiecg_record_meta m;
        aiecg_record_meta_get(r, &m);
        char patient[81], recording[81], nm[256];
        field_text(data + 8, 80, patient, sizeof patient);
        field_text(data + 88, 80, recording, sizeof recording);
        m.format = c.bdf ? "bdf" : "edf";
        m.record_name = base_name(name, nm, sizeof nm);
        m.patient_id = patient;
        int dd, mo, yy, hh, mi, ss;
        const uint8_t *dp = data + 168, *tp = data + 176;
        if (!(parse_two(dp, &dd) && dp[2] == '.' && parse_two(dp + 3, &mo) && dp[5] == '.' && parse_two(dp + 6, &yy) &&
              parse_two(tp, &hh) && tp[2] == '.' && parse_two(tp + 3, &mi) && tp[5] == '.' && parse_two(tp + 6, &ss)) ||
            dd < 1 || dd > 31 || mo < 1 || mo > 12 || hh > 23 || mi > 59 || ss > 60) {
            s = fail(&c, AIECG_ERR_FORMAT, 168, "start date/time is not dd.mm.yy hh.mm.ss");
            goto done;
        }
        m.has_start_time = 1;
        m.year = yy >= 85 ? 1900 + yy : 2000 + yy;
        m.month = mo;
        m.day = dd;
        m.hour = hh;
        m.minute = mi;
        m.second = ss + (t0 > 0 && t0 < 1 ? t0 : 0);
        char pcopy[81], rcopy[81];
        if (edfplus) {
            char *pf[8], *rf[8];
            memcpy(pcopy, patient, sizeof pcopy);
            int np = split_fields(pcopy, pf, 8);
            if (np >= 1) m.patient_id = strcmp(pf[0], "X") == 0 ? "" : (underscores_to_spaces(pf[0]), pf[0]);
            for (int k = 4; k < np; k++) /* our additional subfield "Age:NN" when the birthdate is unknown */
                if (strncmp(pf[k], "Age:", 4) == 0 && isdigit((unsigned char)pf[k][4])) {
                    int age = atoi(pf[k] + 4);
                    if (age >= 0 && age < 150) m.age = age;
                }
            if (np >= 2) m.sex = pf[1][0] == 'M' ? 'M' : pf[1][0] == 'F' ? 'F' : 'U';
            int by, bm, bd;
            if (np >= 3 && parse_edfplus_date(pf[2], &by, &bm, &bd)) {
                int age = m.year - by - ((m.month < bm || (m.month == bm && m.day < bd)) ? 1 : 0);
                if (age >= 0 && age < 150) m.age = age;
            }
            memcpy(rcopy, recording, sizeof rcopy);
            int nr = split_fields(rcopy, rf, 8);
            if (nr >= 2 && strcmp(rf[0], "Startdate") == 0) {
                int y, mm2, d2;
                if (strcmp(rf[1], "X") == 0) m.has_start_time = 0;
                else if (parse_edfplus_date(rf[1], &y, &mm2, &d2)) m.year = y;
            }
            if (nr >= 3 && strcmp(rf[2], "X") != 0) m.record_name = (underscores_to_spaces(rf[2]), rf[2]);
            if (nr >= 5 && strcmp(rf[4], "X") != 0) m.device = (underscores_to_spaces(rf[4]), rf[4]);
        }
        if ((s = aiecg_record_set_meta(r, &m))) {
            s = aiecg__error_set(err, s, "%s: out of memory", name);
            goto done;
        }
    }
    /* annotations */
    if (!o.skip_annotations && tals.n) {
        size_t maxlen = 0;
        for (size_t k = 0; k < tals.n; k++) maxlen = AIECG__MAX(maxlen, tals.v[k].len);
        scratch = aiecg__malloc(maxlen + 1);
        if (!scratch) { s = aiecg__error_set(err, AIECG_ERR_NOMEM, "%s: out of memory", name); goto done; }
        for (size_t k = 0; k < tals.n; k++) {
            const edf_tal *t = &tals.v[k];
            if (t->len == strlen(EDF_DATA_END) && memcmp(t->text, EDF_DATA_END, t->len) == 0) continue;
            double smp = (t->onset - t0) * fs;
            smp = (smp > -0.5 && smp < 9e15) ? (double)llround(smp) : -1;
            if (smp < 0) {
                aiecg__log(&o.logger, AIECG_LOG_WARN, "%s: annotation at %.3f s before the start skipped", name,
                           t->onset);
                continue;
            }
            aiecg_annotation a = {0};
            a.sample = (int64_t)smp;
            aiecg__ann_from_text(t->text, t->len, scratch, &a);
            if ((s = aiecg_record_add_annotation(r, &a))) {
                s = aiecg__error_set(err, s, "%s: cannot store annotation %zu", name, k);
                goto done;
            }
        }
    }
    if (!with_adc) {
        /* the reader needs the digital values to build mV; drop them afterwards */
        aiecg__free(r->adc);
        r->adc = NULL;
    }
    if (o.derive_limb_leads && (s = aiecg_record_derive_limb_leads(r, NULL)))
        s = aiecg__error_set(err, s, "%s: cannot derive limb leads", name);
done:
    aiecg__free(sig);
    aiecg__free(tals.v);
    aiecg__free(rec_pos);
    aiecg__free(pick);
    aiecg__free(scratch);
    if (s) {
        aiecg_record_free(r);
        return s;
    }
    *out = r;
    return AIECG_OK;
}

aiecg_status aiecg__edf_read_path(const char *path, const aiecg_read_options *opt, aiecg_record **out,
                                  aiecg_error *err) {
    return aiecg__read_path_via_mem(path, aiecg__edf_read_mem, opt, out, err);
}

int aiecg__edf_probe(const uint8_t *head, size_t len, const char *path) {
    int ext = aiecg__path_has_ext(path, ".edf") || aiecg__path_has_ext(path, ".bdf") ||
              aiecg__path_has_ext(path, ".rec");
    if (len >= 8 && head[0] == 0xFF && memcmp(head + 1, "BIOSEMI", 7) == 0) return 95;
    if (len >= 256 && memcmp(head, "0       ", 8) == 0) {
        int digits = 1;
        for (int i = 184; i < 192; i++)
            if (!(isdigit(head[i]) || head[i] == ' ')) digits = 0;
        if (digits) return 90;
    }
    return ext ? 40 : 0;
}

/* ---- writer ------------------------------------------------------------ */

/* What the reader will compute from these fields; 1 when it gives gain g and baseline b exactly. */
static int range_reads_back(long dmin, long dmax, const char *pmin_s, const char *pmax_s, double scale, double g,
                            int32_t b) {
    double pmin = strtod(pmin_s, NULL), pmax = strtod(pmax_s, NULL);
    if (pmax == pmin) return 0;
    double gain_u = (double)(dmax - dmin) / (pmax - pmin);
    double gain = aiecg__snap_sig(gain_u / scale, 12);
    double bb = (double)dmin - pmin * gain_u;
    return gain == g && fabs(bb - (double)b) < 1e-3;
}

static int fmt8(char *out, double v, int decimals) {
    char buf[64];
    snprintf(buf, sizeof buf, "%.*f", decimals, v);
    if (strcmp(buf, "-0") == 0) strcpy(buf, "0");
    if (strlen(buf) > 8) return 0;
    strcpy(out, buf);
    return 1;
}

/*
 * Chooses digital and physical ranges so that digital = ADC value and the
 * reader gets back gain g and baseline b. Physical endpoints are P = k*10^-j
 * in mV (or uV) with b + P*g an integer, which holds for every multiple of
 * the smallest k making k*g*10^-j integral. The first (coarsest) grid whose
 * range covers [lo, hi] wins; if none does, the widest one is used and the
 * caller clips.
 */
static int choose_range(double g, int32_t b, long lo, long hi, long *dmin, long *dmax, char *pmin_s,
                        char *pmax_s, const char **units) {
    int found = 0;
    long best_w = -1;
    for (int j = 0; j <= 6; j++) {
        double q = pow(10.0, -j);
        double gq = g * q;
        long kmin = 0;
        for (long k = 1; k <= 100000; k++) {
            double v = (double)k * gq;
            if (fabs(v - llround(v)) < 1e-7 * AIECG__MAX(1.0, fabs(v))) {
                kmin = k;
                break;
            }
        }
        if (!kmin) continue;
        long step = llround((double)kmin * gq);
        if (step <= 0 || step > 65535) continue;
        long klo = (long)ceil((-32768.0 - b) / (double)step), khi = (long)floor((32767.0 - b) / (double)step);
        if (khi <= klo) continue;
        long d0 = b + klo * step, d1 = b + khi * step;
        double p0 = (double)klo * kmin * q, p1 = (double)khi * kmin * q;
        for (int u = 0; u < 2; u++) {
            char s0[16], s1[16];
            double sc = u ? 1e-3 : 1.0;
            int dec = u ? AIECG__MAX(0, j - 3) : j;
            if (!fmt8(s0, p0 / sc, dec) || !fmt8(s1, p1 / sc, dec)) continue;
            if (!range_reads_back(d0, d1, s0, s1, sc, g, b)) continue;
            int covers = d0 <= lo && d1 >= hi;
            if (covers || d1 - d0 > best_w) {
                best_w = d1 - d0;
                *dmin = d0;
                *dmax = d1;
                strcpy(pmin_s, s0);
                strcpy(pmax_s, s1);
                *units = u ? "uV" : "mV";
                found = 1;
            }
            if (covers) return 2;
            break;
        }
    }
    return found;
}

static void put_field(uint8_t *dst, size_t n, const char *s) {
    memset(dst, ' ', n);
    for (size_t i = 0; i < n && s[i]; i++) {
        unsigned char ch = (unsigned char)s[i];
        dst[i] = (ch >= 32 && ch < 127) ? ch : '?';
    }
}

/* EDF+ subfield: spaces -> '_', empty -> "X". */
static void subfield(aiecg__sbuf *b, const char *s) {
    if (!s || !*s) {
        aiecg__sbuf_puts(b, "X");
        return;
    }
    for (; *s; s++) aiecg__sbuf_append(b, *s == ' ' ? "_" : s, 1);
}

typedef struct wr_lead {
    long dmin, dmax;
    char pmin[16], pmax[16];
    const char *units;
    double g;
    int32_t b;
    const int32_t *adc;   /* record ADC plane, or NULL: quantise mv */
    const float *mv;
} wr_lead;

static int32_t sample_digital(const wr_lead *l, int64_t i) {
    double v;
    if (l->adc) v = l->adc[i];
    else if (!isfinite(l->mv[i])) v = l->dmin;
    else v = llround((double)l->mv[i] * l->g) + l->b;
    if (v < l->dmin) v = l->dmin;
    if (v > l->dmax) v = l->dmax;
    return (int32_t)v;
}

/* Onset of a sample: t0 (the sub-second part of the start time, EDF+ section 2.2.4) + sample / fs. */
static void onset_str(char *buf, size_t size, double t0, int64_t sample, double fs, int dec) {
    snprintf(buf, size, "+%.*f", dec, t0 + (double)sample / fs);
    /* trim trailing zeros for readability: "+12.500000" -> "+12.5" */
    char *dot = strchr(buf, '.');
    if (dot) {
        char *e = buf + strlen(buf) - 1;
        while (e > dot && *e == '0') *e-- = '\0';
        if (e == dot) *e = '\0';
    }
}

aiecg_status aiecg__edf_write(const aiecg_record *rec, const char *path, const aiecg_write_options *opt,
                              aiecg_error *err) {
    const int nl = rec->nleads;
    const double fs = rec->fs;
    const int64_t ns = rec->nsamples;
    aiecg_write_options o = opt ? *opt : aiecg_write_options_default();
    /* data record duration: 1 s when fs is whole, else the shortest whole number of seconds that fits */
    double dur = 0;
    long spr = 0;
    static const double durs[] = {1, 0.5, 2, 4, 5, 8, 10, 20, 25, 50, 100};
    for (size_t i = 0; i < AIECG__COUNTOF(durs) && !spr; i++) {
        double v = fs * durs[i];
        if (fabs(v - llround(v)) < 1e-6 && llround(v) >= 1 && aiecg__snap_sig((double)llround(v) / durs[i], 12) == fs) {
            spr = (long)llround(v);
            dur = durs[i];
        }
    }
    if (!spr)
        return aiecg__error_set(err, AIECG_ERR_UNSUPPORTED,
                                "%s: sampling rate %.9g Hz gives no whole number of samples per EDF data record",
                                path, fs);
    int64_t nrec = ns > 0 ? (ns + spr - 1) / spr : 1;
    if (nrec > 99999999) return aiecg__error_set(err, AIECG_ERR_LIMIT, "%s: too many data records", path);
    int64_t padded = nrec * spr;
    int dec = fs <= 1000 ? 6 : 8;

    wr_lead *L = aiecg__calloc((size_t)nl, sizeof *L);
    aiecg__sbuf ab, hb;
    aiecg__sbuf_init(&ab);
    aiecg__sbuf_init(&hb);
    size_t *ann_off = NULL; /* [nrec + 1] start of each record's TAL bytes in ab */
    uint8_t *skip = NULL;   /* [nrec] 1: data record not written (a gap) */
    uint8_t *recbuf = NULL;
    FILE *f = NULL;
    aiecg_status s = AIECG_OK;
    if (!L) return aiecg__error_set(err, AIECG_ERR_NOMEM, "%s: out of memory", path);
    for (int k = 0; k < nl; k++) {
        const aiecg__lead *ld = &rec->leads[k];
        wr_lead *l = &L[k];
        l->adc = rec->adc ? rec->adc + (size_t)k * (size_t)ns : NULL;
        l->mv = rec->mv + (size_t)k * (size_t)ns;
        long lo = 0, hi = 0;
        if (l->adc) {
            l->g = ld->info.gain > 0 ? ld->info.gain : 200.0;
            l->b = ld->info.baseline;
            if (ns) lo = hi = l->adc[0];
            for (int64_t i = 1; i < ns; i++) {
                lo = AIECG__MIN(lo, (long)l->adc[i]);
                hi = AIECG__MAX(hi, (long)l->adc[i]);
            }
        } else {
            double mx = 0;
            for (int64_t i = 0; i < ns; i++)
                if (isfinite(l->mv[i])) mx = AIECG__MAX(mx, fabs((double)l->mv[i]));
            l->g = mx < 32.0 ? 1000.0 : floor(32000.0 / mx);
            if (l->g < 1) l->g = 1;
            l->b = 0;
            lo = (long)-(llround(mx * l->g));
            hi = -lo;
        }
        int got = choose_range(l->g, l->b, lo, hi, &l->dmin, &l->dmax, l->pmin, l->pmax, &l->units);
        if (!got) {
            s = aiecg__error_set(err, AIECG_ERR_UNSUPPORTED,
                                 "%s: lead %d (%s): gain %.12g adu/mV with baseline %d has no exact 16-bit EDF range",
                                 path, k + 1, ld->info.label, l->g, (int)l->b);
            goto done;
        }
        if (got == 1)
            aiecg__log(&o.logger, AIECG_LOG_WARN, "%s: lead %d (%s): ADC values %ld..%ld clipped to %ld..%ld", path,
                       k + 1, ld->info.label, lo, hi, l->dmin, l->dmax);
    }

    /* annotation TALs, grouped per data record */
    double t0 = 0;
    if (rec->meta.has_start_time && rec->meta.second > 0 && rec->meta.second < 61) {
        t0 = rec->meta.second - floor(rec->meta.second);
        t0 = floor(t0 * 1e6 + 0.5) / 1e6;
        if (t0 >= 1) t0 = 0;
    }
    ann_off = aiecg__calloc((size_t)nrec + 1, sizeof *ann_off);
    skip = aiecg__calloc((size_t)nrec, 1);
    if (!ann_off || !skip) { s = aiecg__error_set(err, AIECG_ERR_NOMEM, "%s: out of memory", path); goto done; }
    /* data records where every lead is NaN (EDF+D gaps read earlier) are left out: EDF+D */
    int64_t nkept = nrec;
    for (int64_t rr = 1; rr + 1 < nrec; rr++) {
        int gap = 1;
        for (int k = 0; k < nl && gap; k++)
            for (long i = 0; i < spr && gap; i++) gap = !isfinite(L[k].mv[rr * spr + i]);
        skip[rr] = (uint8_t)gap;
        nkept -= gap;
    }
    {
        int64_t ai = 0;
        size_t maxbytes = 0;
        for (int64_t rr = 0; rr < nrec; rr++) {
            ann_off[rr] = ab.len;
            if (skip[rr]) continue; /* its annotations go to the next record written */
            char t[48];
            onset_str(t, sizeof t, t0, rr * spr, fs, dec);
            aiecg__sbuf_puts(&ab, t);
            aiecg__sbuf_append(&ab, "\x14\x14\x00", 3);
            int64_t end = (rr + 1) * spr;
            for (; ai < rec->nann && (rr == nrec - 1 || rec->ann[ai].sample < end); ai++) {
                const aiecg_annotation *a = &rec->ann[ai];
                onset_str(t, sizeof t, t0, a->sample < 0 ? 0 : a->sample, fs, dec);
                aiecg__sbuf_puts(&ab, t);
                aiecg__sbuf_append(&ab, "\x14", 1);
                aiecg__ann_to_text(&ab, a);
                aiecg__sbuf_append(&ab, "\x14\x00", 2);
            }
            if (rr == nrec - 1 && padded != ns) {
                onset_str(t, sizeof t, t0, ns, fs, dec);
                aiecg__sbuf_puts(&ab, t);
                aiecg__sbuf_append(&ab, "\x14" EDF_DATA_END "\x14\x00", strlen(EDF_DATA_END) + 3);
            }
            maxbytes = AIECG__MAX(maxbytes, ab.len - ann_off[rr]);
        }
        ann_off[nrec] = ab.len;
        if (ab.oom) { s = aiecg__error_set(err, AIECG_ERR_NOMEM, "%s: out of memory", path); goto done; }
        long ann_spr = (long)((maxbytes + 1) / 2);
        if (ann_spr > 10000000) { s = aiecg__error_set(err, AIECG_ERR_LIMIT, "%s: annotations too dense", path); goto done; }

        /* header */
        int nsig = nl + 1;
        size_t hdr = 256 * (size_t)(nsig + 1);
        uint8_t *h = aiecg__calloc(hdr, 1);
        if (!h) { s = aiecg__error_set(err, AIECG_ERR_NOMEM, "%s: out of memory", path); goto done; }
        const aiecg_record_meta *m = &rec->meta;
        char buf[128];
        put_field(h, 8, "0");
        aiecg__sbuf_init(&hb);
        subfield(&hb, m->patient_id);
        aiecg__sbuf_puts(&hb, m->sex == 'M' ? " M X X" : m->sex == 'F' ? " F X X" : " X X X");
        if (m->age >= 0 && m->age < 150) aiecg__sbuf_printf(&hb, " Age:%d", m->age);
        put_field(h + 8, 80, hb.len ? hb.data : "X X X X");
        aiecg__sbuf_free(&hb);
        aiecg__sbuf_init(&hb);
        int yy = 1985, mo = 1, dd = 1, hh = 0, mi = 0, sc = 0;
        if (m->has_start_time && m->year >= 1985 && m->year <= 2084) {
            yy = m->year, mo = m->month, dd = m->day, hh = m->hour, mi = m->minute, sc = (int)m->second;
            snprintf(buf, sizeof buf, "Startdate %02d-%s-%04d ", dd, month_names[(mo >= 1 && mo <= 12) ? mo - 1 : 0], yy);
            aiecg__sbuf_puts(&hb, buf);
        } else {
            aiecg__sbuf_puts(&hb, "Startdate X ");
        }
        subfield(&hb, m->record_name);
        aiecg__sbuf_puts(&hb, " X ");
        subfield(&hb, m->device);
        put_field(h + 88, 80, hb.len ? hb.data : "Startdate X X X X");
        aiecg__sbuf_free(&hb);
        snprintf(buf, sizeof buf, "%02d.%02d.%02d", dd % 100, mo % 100, yy % 100);
        put_field(h + 168, 8, buf);
        snprintf(buf, sizeof buf, "%02d.%02d.%02d", hh % 100, mi % 100, sc % 100);
        put_field(h + 176, 8, buf);
        snprintf(buf, sizeof buf, "%zu", hdr);
        put_field(h + 184, 8, buf);
        put_field(h + 192, 44, nkept < nrec ? "EDF+D" : "EDF+C");
        snprintf(buf, sizeof buf, "%lld", (long long)nkept);
        put_field(h + 236, 8, buf);
        snprintf(buf, sizeof buf, "%g", dur);
        put_field(h + 244, 8, buf);
        snprintf(buf, sizeof buf, "%d", nsig);
        put_field(h + 252, 4, buf);
        size_t b0 = 256;
        for (int i = 0; i < nsig; i++) {
            int an = i == nl;
            const wr_lead *l = an ? NULL : &L[i];
            size_t b = b0;
            put_field(h + b + (size_t)i * 16, 16, an ? "EDF Annotations" : rec->leads[i].info.label);
            b += (size_t)nsig * 16;
            put_field(h + b + (size_t)i * 80, 80, "");
            b += (size_t)nsig * 80;
            put_field(h + b + (size_t)i * 8, 8, an ? "" : l->units);
            b += (size_t)nsig * 8;
            put_field(h + b + (size_t)i * 8, 8, an ? "-1" : l->pmin);
            b += (size_t)nsig * 8;
            put_field(h + b + (size_t)i * 8, 8, an ? "1" : l->pmax);
            b += (size_t)nsig * 8;
            snprintf(buf, sizeof buf, "%ld", an ? -32768L : l->dmin);
            put_field(h + b + (size_t)i * 8, 8, buf);
            b += (size_t)nsig * 8;
            snprintf(buf, sizeof buf, "%ld", an ? 32767L : l->dmax);
            put_field(h + b + (size_t)i * 8, 8, buf);
            b += (size_t)nsig * 8;
            put_field(h + b + (size_t)i * 80, 80, "");
            b += (size_t)nsig * 80;
            snprintf(buf, sizeof buf, "%ld", an ? ann_spr : spr);
            put_field(h + b + (size_t)i * 8, 8, buf);
            b += (size_t)nsig * 8;
            put_field(h + b + (size_t)i * 32, 32, "");
        }
        f = fopen(path, "wb");
        if (!f) {
            aiecg__free(h);
            s = aiecg__error_set(err, AIECG_ERR_IO, "%s: cannot create", path);
            goto done;
        }
        size_t wrote = fwrite(h, 1, hdr, f);
        aiecg__free(h);
        if (wrote != hdr) { s = aiecg__error_set(err, AIECG_ERR_IO, "%s: write failed", path); goto done; }

        size_t rec_bytes = ((size_t)nl * (size_t)spr + (size_t)ann_spr) * 2;
        recbuf = aiecg__malloc(rec_bytes);
        if (!recbuf) { s = aiecg__error_set(err, AIECG_ERR_NOMEM, "%s: out of memory", path); goto done; }
        for (int64_t rr = 0; rr < nrec; rr++) {
            if (skip[rr]) continue;
            uint8_t *p = recbuf;
            for (int k = 0; k < nl; k++) {
                for (long i = 0; i < spr; i++) {
                    int64_t idx = rr * spr + i;
                    if (idx >= ns) idx = ns - 1;
                    int32_t v = ns > 0 ? sample_digital(&L[k], idx) : 0;
                    uint16_t u = (uint16_t)(int16_t)v;
                    *p++ = (uint8_t)(u & 0xFF);
                    *p++ = (uint8_t)(u >> 8);
                }
            }
            size_t na = ann_off[rr + 1] - ann_off[rr];
            memcpy(p, ab.data + ann_off[rr], na);
            memset(p + na, 0, (size_t)ann_spr * 2 - na);
            if (fwrite(recbuf, 1, rec_bytes, f) != rec_bytes) {
                s = aiecg__error_set(err, AIECG_ERR_IO, "%s: write failed", path);
                goto done;
            }
        }
    }
done:
    if (f && fclose(f) != 0 && !s) s = aiecg__error_set(err, AIECG_ERR_IO, "%s: write failed", path);
    aiecg__free(L);
    aiecg__free(ann_off);
    aiecg__free(skip);
    aiecg__free(recbuf);
    aiecg__sbuf_free(&ab);
    aiecg__sbuf_free(&hb);
    return s;
}
