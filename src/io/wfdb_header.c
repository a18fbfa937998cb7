/*
 * WFDB header parsing (PhysioNet header(5)). A header is a record line, then
 * one line per signal (single-segment) or per segment (multi-segment), with
 * '#' comment lines anywhere. Every field is validated as it is read and an
 * error names the file, the line and the field. Comments are scanned for
 * patient age and sex in the conventions seen on PhysioNet: MIT-BIH's
 * "# 69 M ...", LUDB's "#<age>: 51" / "#<sex>: F", PTB's "# age: 81" /
 * "# sex: female".
 */
#include "wfdb_int.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void aiecg__wfdb_header_free(aiecg__wfdb_header *h) {
    if (!h) return;
    aiecg__free(h->name);
    if (h->sig)
        for (int i = 0; i < h->nsig; i++) {
            aiecg__free(h->sig[i].fname);
            aiecg__free(h->sig[i].units);
            aiecg__free(h->sig[i].desc);
        }
    aiecg__free(h->sig);
    if (h->seg)
        for (int i = 0; i < h->nseg; i++) aiecg__free(h->seg[i].name);
    aiecg__free(h->seg);
    aiecg__free(h->comments);
    memset(h, 0, sizeof *h);
}

int aiecg__wfdb_format_bits(int fmt) {
    switch (fmt) {
    case 8: case 80: case 508: return 8;
    case 16: case 61: case 160: case 516: return 16;
    case 24: case 524: return 24;
    case 32: return 32;
    case 212: return 12;
    case 310: case 311: return 10;
    default: return 0;
    }
}

int32_t aiecg__wfdb_invalid_value(int fmt) {
    switch (fmt) {
    case 8: case 80: case 508: return -128;
    case 16: case 61: case 160: case 516: return -32768;
    case 24: case 524: return -8388608;
    case 32: return INT32_MIN;
    case 212: return -2048;
    case 310: case 311: return -512;
    default: return INT32_MIN;
    }
}

/* ---- small tokeniser over one line ---------------------------------- */

typedef struct {
    const char *p, *end;
} cursor;

static void skip_ws(cursor *c) {
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\r')) c->p++;
}

/* Next whitespace-delimited token into buf; 0 when the line is exhausted. */
static int next_token(cursor *c, char *buf, size_t size) {
    skip_ws(c);
    if (c->p >= c->end) return 0;
    size_t n = 0;
    while (c->p < c->end && *c->p != ' ' && *c->p != '\t' && *c->p != '\r') {
        if (n + 1 < size) buf[n++] = *c->p;
        c->p++;
    }
    buf[n] = '\0';
    return 1;
}

static int parse_i64(const char *s, int64_t *v) {
    if (!*s) return 0;
    errno = 0;
    char *e;
    long long x = strtoll(s, &e, 10);
    if (*e || errno) return 0;
    *v = x;
    return 1;
}

static int parse_int(const char *s, int *v) {
    int64_t x;
    if (!parse_i64(s, &x) || x < INT32_MIN || x > INT32_MAX) return 0;
    *v = (int)x;
    return 1;
}

static int parse_double(const char *s, double *v) {
    if (!*s) return 0;
    errno = 0;
    char *e;
    double x = strtod(s, &e);
    if (*e || errno || !isfinite(x)) return 0;
    *v = x;
    return 1;
}

/* Parses a leading number of s up to one of the stop characters; returns the rest. */
static const char *span_until(const char *s, const char *stops, char *buf, size_t size) {
    size_t n = 0;
    while (*s && !strchr(stops, *s)) {
        if (n + 1 < size) buf[n++] = *s;
        s++;
    }
    buf[n] = '\0';
    return s;
}

/* ---- record line ------------------------------------------------------ */

static aiecg_status parse_time(const char *s, aiecg__wfdb_header *h) {
    /* [[HH:]MM:]SS[.sss] */
    double parts[3];
    int n = 0;
    char buf[64];
    const char *p = s;
    while (*p) {
        if (n == 3) return AIECG_ERR_FORMAT;
        p = span_until(p, ":", buf, sizeof buf);
        if (!parse_double(buf, &parts[n]) || parts[n] < 0) return AIECG_ERR_FORMAT;
        n++;
        if (*p == ':') {
            p++;
            if (!*p) return AIECG_ERR_FORMAT;
        }
    }
    if (n == 0) return AIECG_ERR_FORMAT;
    double hh = 0, mm = 0, ss = parts[n - 1];
    if (n == 3) hh = parts[0], mm = parts[1];
    if (n == 2) mm = parts[0];
    if (hh != floor(hh) || mm != floor(mm) || hh > 23 || mm > 59 || ss >= 61) return AIECG_ERR_RANGE;
    h->hour = (int)hh;
    h->minute = (int)mm;
    h->second = ss;
    h->has_time = 1;
    return AIECG_OK;
}

static aiecg_status parse_date(const char *s, aiecg__wfdb_header *h) {
    /* DD/MM/YYYY */
    int d, m, y;
    char buf[32];
    const char *p = span_until(s, "/", buf, sizeof buf);
    if (*p != '/' || !parse_int(buf, &d)) return AIECG_ERR_FORMAT;
    p = span_until(p + 1, "/", buf, sizeof buf);
    if (*p != '/' || !parse_int(buf, &m)) return AIECG_ERR_FORMAT;
    p = span_until(p + 1, "", buf, sizeof buf);
    if (!parse_int(buf, &y)) return AIECG_ERR_FORMAT;
    if (d < 1 || d > 31 || m < 1 || m > 12 || y < 0 || y > 9999) return AIECG_ERR_RANGE;
    h->day = d;
    h->month = m;
    h->year = y;
    h->has_date = 1;
    return AIECG_OK;
}

static aiecg_status parse_record_line(cursor *c, const char *name, int line, aiecg__wfdb_header *h,
                                      aiecg_error *err) {
    char tok[256], buf[256];
    if (!next_token(c, tok, sizeof tok))
        return aiecg__error_set(err, AIECG_ERR_FORMAT, "%s: line %d: empty record line", name, line);
    /* record name [/segments] */
    const char *p = span_until(tok, "/", buf, sizeof buf);
    if (!buf[0])
        return aiecg__error_set(err, AIECG_ERR_FORMAT, "%s: line %d: field 'record name' is empty",
                                name, line);
    for (const char *q = buf; *q; q++)
        if (!isalnum((unsigned char)*q) && *q != '_' && *q != '-' && *q != '.' && *q != '~')
            return aiecg__error_set(err, AIECG_ERR_FORMAT,
                                    "%s: line %d: field 'record name': character 0x%02x not allowed "
                                    "in \"%s\"",
                                    name, line, (unsigned char)*q, buf);
    if (!(h->name = aiecg__strdup(buf))) return AIECG_ERR_NOMEM;
    if (*p == '/') {
        int nseg;
        if (!parse_int(p + 1, &nseg) || nseg < 1 || nseg > AIECG__WFDB_MAX_SEGMENTS)
            return aiecg__error_set(err, AIECG_ERR_RANGE,
                                    "%s: line %d: field 'number of segments': \"%s\" is not an "
                                    "integer in 1..%d",
                                    name, line, p + 1, AIECG__WFDB_MAX_SEGMENTS);
        h->nseg = nseg;
    }
    /* number of signals */
    if (!next_token(c, tok, sizeof tok))
        return aiecg__error_set(err, AIECG_ERR_FORMAT,
                                "%s: line %d: field 'number of signals' is missing", name, line);
    int64_t nsig;
    if (!parse_i64(tok, &nsig))
        return aiecg__error_set(err, AIECG_ERR_FORMAT,
                                "%s: line %d: field 'number of signals': \"%s\" is not an integer",
                                name, line, tok);
    if (nsig < 1 || nsig > AIECG_MAX_LEADS)
        return aiecg__error_set(err, AIECG_ERR_RANGE,
                                "%s: line %d: field 'number of signals': %lld outside 1..%d", name,
                                line, (long long)nsig, AIECG_MAX_LEADS);
    h->nsig = (int)nsig;
    /* sampling frequency [/counter frequency [(base counter)]] */
    h->fs = 250.0; /* WFDB's default when the field is absent */
    h->nsamples = -1;
    if (!next_token(c, tok, sizeof tok)) return AIECG_OK;
    p = span_until(tok, "/", buf, sizeof buf);
    if (!parse_double(buf, &h->fs) || !(h->fs > 0) || h->fs > 1e6)
        return aiecg__error_set(err, AIECG_ERR_RANGE,
                                "%s: line %d: field 'sampling frequency': \"%s\" is not a number in "
                                "(0, 1e6]",
                                name, line, buf);
    if (*p == '/') {
        p = span_until(p + 1, "(", buf, sizeof buf);
        if (!parse_double(buf, &h->counter_freq) || !(h->counter_freq > 0))
            return aiecg__error_set(err, AIECG_ERR_RANGE,
                                    "%s: line %d: field 'counter frequency': \"%s\" is not a "
                                    "positive number",
                                    name, line, buf);
        if (*p == '(') {
            p = span_until(p + 1, ")", buf, sizeof buf);
            if (*p != ')' || p[1] || !parse_double(buf, &h->base_counter))
                return aiecg__error_set(err, AIECG_ERR_FORMAT,
                                        "%s: line %d: field 'base counter value' is malformed",
                                        name, line);
        }
    }
    /* number of samples per signal */
    if (!next_token(c, tok, sizeof tok)) return AIECG_OK;
    int64_t ns;
    if (!parse_i64(tok, &ns))
        return aiecg__error_set(err, AIECG_ERR_FORMAT,
                                "%s: line %d: field 'number of samples': \"%s\" is not an integer",
                                name, line, tok);
    if (ns < 0)
        return aiecg__error_set(err, AIECG_ERR_RANGE,
                                "%s: line %d: field 'number of samples': %lld is negative", name, line,
                                (long long)ns);
    /* 0 means "unknown" in WFDB: derived from the signal file's length */
    h->nsamples = ns > 0 ? ns : -1;
    /* base time, base date */
    if (!next_token(c, tok, sizeof tok)) return AIECG_OK;
    aiecg_status s = parse_time(tok, h);
    if (s)
        return aiecg__error_set(err, s, "%s: line %d: field 'base time': \"%s\" is not HH:MM:SS",
                                name, line, tok);
    if (!next_token(c, tok, sizeof tok)) return AIECG_OK;
    s = parse_date(tok, h);
    if (s)
        return aiecg__error_set(err, s, "%s: line %d: field 'base date': \"%s\" is not DD/MM/YYYY",
                                name, line, tok);
    return AIECG_OK;
}

/* ---- signal line ------------------------------------------------------ */

static int known_format(int f) {
    return f == 0 || aiecg__wfdb_format_bits(f) != 0; /* 0: signal not stored */
}

static aiecg_status parse_signal_line(cursor *c, const char *name, int line, int idx,
                                      aiecg__wfdb_signal *sg, aiecg_error *err) {
    char tok[AIECG__WFDB_MAX_LINE], buf[256];
    sg->spf = 1;
    if (!next_token(c, tok, sizeof tok))
        return aiecg__error_set(err, AIECG_ERR_FORMAT, "%s: line %d: signal %d: empty line", name,
                                line, idx);
    if (strstr(tok, "..") || tok[0] == '/')
        return aiecg__error_set(err, AIECG_ERR_FORMAT,
                                "%s: line %d: signal %d: field 'file name': \"%s\" leaves the "
                                "record's directory",
                                name, line, idx, tok);
    if (!(sg->fname = aiecg__strdup(tok))) return AIECG_ERR_NOMEM;
    /* format [x spf] [: skew] [+ offset] */
    if (!next_token(c, tok, sizeof tok))
        return aiecg__error_set(err, AIECG_ERR_FORMAT,
                                "%s: line %d: signal %d: field 'format' is missing", name, line, idx);
    const char *p = span_until(tok, "x:+", buf, sizeof buf);
    if (!parse_int(buf, &sg->fmt))
        return aiecg__error_set(err, AIECG_ERR_FORMAT,
                                "%s: line %d: signal %d: field 'format': \"%s\" is not an integer",
                                name, line, idx, buf);
    if (!known_format(sg->fmt))
        return aiecg__error_set(err, AIECG_ERR_UNSUPPORTED,
                                "%s: line %d: signal %d: field 'format': format %d is not supported",
                                name, line, idx, sg->fmt);
    while (*p) {
        char which = *p;
        p = span_until(p + 1, "x:+", buf, sizeof buf);
        int64_t v;
        if (!parse_i64(buf, &v))
            return aiecg__error_set(err, AIECG_ERR_FORMAT,
                                    "%s: line %d: signal %d: field 'format': \"%c%s\" is malformed",
                                    name, line, idx, which, buf);
        if (which == 'x') {
            if (v < 1 || v > AIECG__WFDB_MAX_SPF)
                return aiecg__error_set(err, AIECG_ERR_RANGE,
                                        "%s: line %d: signal %d: field 'samples per frame': %lld "
                                        "outside 1..%d",
                                        name, line, idx, (long long)v, AIECG__WFDB_MAX_SPF);
            sg->spf = (int)v;
        } else if (which == ':') {
            if (v < 0 || v > 1000000)
                return aiecg__error_set(err, AIECG_ERR_RANGE,
                                        "%s: line %d: signal %d: field 'skew': %lld outside "
                                        "0..1000000",
                                        name, line, idx, (long long)v);
            sg->skew = (int)v;
        } else {
            if (v < 0)
                return aiecg__error_set(err, AIECG_ERR_RANGE,
                                        "%s: line %d: signal %d: field 'byte offset': %lld is "
                                        "negative",
                                        name, line, idx, (long long)v);
            sg->offset = v;
        }
    }
    sg->adc_res = 0;
    int have_zero = 0, have_baseline = 0;
    /* ADC gain [(baseline)] [/units] */
    if (next_token(c, tok, sizeof tok)) {
        p = span_until(tok, "(/", buf, sizeof buf);
        if (!parse_double(buf, &sg->gain) || sg->gain < 0)
            return aiecg__error_set(err, AIECG_ERR_RANGE,
                                    "%s: line %d: signal %d: field 'ADC gain': \"%s\" is not a "
                                    "number >= 0",
                                    name, line, idx, buf);
        if (*p == '(') {
            p = span_until(p + 1, ")", buf, sizeof buf);
            int b;
            if (*p != ')' || !parse_int(buf, &b))
                return aiecg__error_set(err, AIECG_ERR_FORMAT,
                                        "%s: line %d: signal %d: field 'baseline': \"%s\" is not an "
                                        "integer in parentheses",
                                        name, line, idx, buf);
            sg->baseline = b;
            have_baseline = 1;
            p++;
        }
        if (*p == '/') {
            if (!p[1])
                return aiecg__error_set(err, AIECG_ERR_FORMAT,
                                        "%s: line %d: signal %d: field 'units' is empty", name,
                                        line, idx);
            if (!(sg->units = aiecg__strdup(p + 1))) return AIECG_ERR_NOMEM;
        } else if (*p) {
            return aiecg__error_set(err, AIECG_ERR_FORMAT,
                                    "%s: line %d: signal %d: field 'ADC gain': trailing \"%s\"",
                                    name, line, idx, p);
        }
        /* ADC resolution */
        if (next_token(c, tok, sizeof tok)) {
            if (!parse_int(tok, &sg->adc_res) || sg->adc_res < 0 || sg->adc_res > 32)
                return aiecg__error_set(err, AIECG_ERR_RANGE,
                                        "%s: line %d: signal %d: field 'ADC resolution': \"%s\" is "
                                        "not an integer in 0..32",
                                        name, line, idx, tok);
            /* ADC zero */
            if (next_token(c, tok, sizeof tok)) {
                int z;
                if (!parse_int(tok, &z))
                    return aiecg__error_set(err, AIECG_ERR_FORMAT,
                                            "%s: line %d: signal %d: field 'ADC zero': \"%s\" is "
                                            "not an integer",
                                            name, line, idx, tok);
                sg->adc_zero = z;
                have_zero = 1;
                /* initial value */
                if (next_token(c, tok, sizeof tok)) {
                    if (!parse_i64(tok, &sg->init) || sg->init < INT32_MIN || sg->init > INT32_MAX)
                        return aiecg__error_set(err, AIECG_ERR_FORMAT,
                                                "%s: line %d: signal %d: field 'initial value': "
                                                "\"%s\" is not a 32-bit integer",
                                                name, line, idx, tok);
                    sg->init_given = 1;
                    /* checksum */
                    if (next_token(c, tok, sizeof tok)) {
                        int64_t ck;
                        if (!parse_i64(tok, &ck) || ck < -32768 || ck > 65535)
                            return aiecg__error_set(err, AIECG_ERR_FORMAT,
                                                    "%s: line %d: signal %d: field 'checksum': "
                                                    "\"%s\" is not a 16-bit integer",
                                                    name, line, idx, tok);
                        sg->checksum = (int)(int16_t)(uint16_t)(ck & 0xffff);
                        sg->checksum_given = 1;
                        /* block size */
                        if (next_token(c, tok, sizeof tok)) {
                            if (!parse_int(tok, &sg->block_size) || sg->block_size < 0)
                                return aiecg__error_set(err, AIECG_ERR_FORMAT,
                                                        "%s: line %d: signal %d: field 'block "
                                                        "size': \"%s\" is not an integer >= 0",
                                                        name, line, idx, tok);
                            /* description: the rest of the line */
                            skip_ws(c);
                            const char *e = c->end;
                            while (e > c->p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r')) e--;
                            if (!(sg->desc = aiecg__strndup(c->p, (size_t)(e - c->p))))
                                return AIECG_ERR_NOMEM;
                        }
                    }
                }
            }
        }
    }
    (void)have_zero;
    if (!have_baseline) sg->baseline = sg->adc_zero; /* header(5): baseline defaults to ADC zero */
    if (!sg->init_given) sg->init = sg->adc_zero;
    if (!sg->units && !(sg->units = aiecg__strdup("mV"))) return AIECG_ERR_NOMEM;
    if (!sg->desc && !(sg->desc = aiecg__strdup(""))) return AIECG_ERR_NOMEM;
    return AIECG_OK;
}

static aiecg_status parse_segment_line(cursor *c, const char *name, int line, int idx,
                                       aiecg__wfdb_segment *sg, aiecg_error *err) {
    char tok[256];
    if (!next_token(c, tok, sizeof tok))
        return aiecg__error_set(err, AIECG_ERR_FORMAT, "%s: line %d: segment %d: empty line", name,
                                line, idx);
    if (strchr(tok, '/') || strstr(tok, ".."))
        return aiecg__error_set(err, AIECG_ERR_FORMAT,
                                "%s: line %d: segment %d: field 'segment name': \"%s\" is not a "
                                "plain record name",
                                name, line, idx, tok);
    if (!(sg->name = aiecg__strdup(tok))) return AIECG_ERR_NOMEM;
    if (!next_token(c, tok, sizeof tok) || !parse_i64(tok, &sg->nsamples) || sg->nsamples < 0)
        return aiecg__error_set(err, AIECG_ERR_FORMAT,
                                "%s: line %d: segment %d: field 'number of samples' is missing or "
                                "not an integer >= 0",
                                name, line, idx);
    return AIECG_OK;
}

/* ---- comments: age and sex ------------------------------------------- */

static int parse_sex_word(const char *s) {
    if (!strcasecmp(s, "M") || !strcasecmp(s, "male")) return 'M';
    if (!strcasecmp(s, "F") || !strcasecmp(s, "female")) return 'F';
    return 0;
}

/* Finds "<key>:" or "key:" (case-insensitive) in a comment and copies the following word. */
static int keyed_value(const char *text, const char *key, char *out, size_t size) {
    size_t k = strlen(key);
    for (const char *p = text; *p; p++) {
        const char *q = p;
        if (*q == '<') q++;
        if (strncasecmp(q, key, k) != 0) continue;
        if (p > text && isalnum((unsigned char)p[-1])) continue;
        q += k;
        if (*q == '>') q++;
        if (*q != ':') continue;
        q++;
        while (*q == ' ' || *q == '\t') q++;
        size_t n = 0;
        while (*q && !isspace((unsigned char)*q) && n + 1 < size) out[n++] = *q++;
        out[n] = '\0';
        return n > 0;
    }
    return 0;
}

static void scan_comment(aiecg__wfdb_header *h, const char *text, int first) {
    char v[64];
    int64_t age;
    if (keyed_value(text, "age", v, sizeof v) && parse_i64(v, &age) && age >= 0 && age < 150)
        h->age = (int)age;
    if (keyed_value(text, "sex", v, sizeof v) || keyed_value(text, "gender", v, sizeof v)) {
        int s = parse_sex_word(v);
        if (s) h->sex = (char)s;
    }
    if (first && h->age < 0 && h->sex == 'U') {
        /* MIT-BIH: "# 69 M 1085 1629 x1" (age, sex first) */
        char a[32], b[32];
        cursor c = {text, text + strlen(text)};
        if (next_token(&c, a, sizeof a) && next_token(&c, b, sizeof b) && parse_i64(a, &age)) {
            int s = parse_sex_word(b);
            if (s && age >= 0 && age < 150) {
                h->age = (int)age;
                h->sex = (char)s;
            }
        }
    }
}

/* ---- driver ----------------------------------------------------------- */

aiecg_status aiecg__wfdb_header_parse(const char *text, size_t len, const char *name,
                                      aiecg__wfdb_header *h, aiecg_error *err) {
    memset(h, 0, sizeof *h);
    h->age = -1;
    h->sex = 'U';
    h->nsamples = -1;
    aiecg__sbuf com;
    aiecg__sbuf_init(&com);
    aiecg_status s = AIECG_OK;
    int line = 0, state = 0, ndone = 0, ncomments = 0;
    const char *p = text, *end = text + len;
    while (p < end && !s) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        line++;
        if (le - p > AIECG__WFDB_MAX_LINE) {
            s = aiecg__error_set(err, AIECG_ERR_LIMIT, "%s: line %d: longer than %d bytes", name,
                                 line, AIECG__WFDB_MAX_LINE);
            break;
        }
        for (const char *q = p; q < le; q++)
            if (*q == '\0') {
                s = aiecg__error_set(err, AIECG_ERR_FORMAT,
                                     "%s: line %d: NUL byte at offset %td", name, line, q - text);
                break;
            }
        if (s) break;
        cursor c = {p, le};
        skip_ws(&c);
        if (c.p < le && *c.p == '#') {
            const char *t = c.p + 1;
            size_t n = (size_t)(le - t);
            while (n && (t[n - 1] == '\r' || t[n - 1] == ' ')) n--;
            char tmp[AIECG__WFDB_MAX_LINE + 1];
            memcpy(tmp, t, n);
            tmp[n] = '\0';
            if (state == 0 || state == 2) { /* comments after the record line are about the record */
                scan_comment(h, tmp, ncomments == 0);
                ncomments++;
            }
            if (com.len) aiecg__sbuf_puts(&com, "\n");
            aiecg__sbuf_puts(&com, tmp);
        } else if (c.p < le) {
            if (state == 0) {
                s = parse_record_line(&c, name, line, h, err);
                if (s) break;
                char extra[64];
                if (next_token(&c, extra, sizeof extra)) {
                    s = aiecg__error_set(err, AIECG_ERR_FORMAT,
                                         "%s: line %d: unexpected field \"%s\" after base date",
                                         name, line, extra);
                    break;
                }
                if (h->nseg) {
                    if (!(h->seg = aiecg__calloc((size_t)h->nseg, sizeof *h->seg))) s = AIECG_ERR_NOMEM;
                } else {
                    if (!(h->sig = aiecg__calloc((size_t)h->nsig, sizeof *h->sig))) s = AIECG_ERR_NOMEM;
                }
                state = 1;
            } else if (state == 1) {
                if (h->nseg)
                    s = parse_segment_line(&c, name, line, ndone, &h->seg[ndone], err);
                else
                    s = parse_signal_line(&c, name, line, ndone, &h->sig[ndone], err);
                if (s) break;
                ndone++;
                if (ndone == (h->nseg ? h->nseg : h->nsig)) state = 2;
            } else {
                /* WFDB ignores anything after the signal lines that is not a comment;
                 * we do too, except for text that would have been a further signal */
            }
        }
        p = nl ? nl + 1 : end;
    }
    if (!s && state == 0)
        s = aiecg__error_set(err, AIECG_ERR_FORMAT, "%s: no record line (empty header)", name);
    if (!s && state == 1)
        s = aiecg__error_set(err, AIECG_ERR_TRUNCATED,
                             "%s: line %d: header declares %d %s but has %d", name, line,
                             h->nseg ? h->nseg : h->nsig, h->nseg ? "segments" : "signals", ndone);
    if (!s) {
        if (com.oom) {
            s = AIECG_ERR_NOMEM;
        } else {
            h->comments = com.len ? aiecg__sbuf_take(&com) : aiecg__strdup("");
            if (!h->comments) s = AIECG_ERR_NOMEM;
        }
    }
    aiecg__sbuf_free(&com);
    if (s == AIECG_ERR_NOMEM && (!err || err->status != AIECG_ERR_NOMEM))
        aiecg__error_set(err, AIECG_ERR_NOMEM, "%s: out of memory while parsing the header", name);
    if (s) aiecg__wfdb_header_free(h);
    return s;
}
