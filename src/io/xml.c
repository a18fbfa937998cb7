/*
 * Safe XML pull parser and tree (see xml_int.h for the contract). It reads
 * the subset of XML 1.0 that ECG exports use: elements, attributes, text,
 * CDATA, comments, processing instructions and an ignored DOCTYPE. Entity
 * expansion is limited to the five predefined entities and character
 * references (XML 1.0 section 4.6 and 4.1), which makes entity-expansion
 * attacks impossible by construction rather than by a counter. Every scan is
 * bounded by the input length; nothing recurses, so depth is only limited to
 * keep malicious documents from building huge stacks of open elements.
 */
#include "xml_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define DEF_MAX_INPUT ((size_t)512 << 20)
#define DEF_MAX_DEPTH 256
#define DEF_MAX_ATTRS 64
#define DEF_MAX_ELEMENTS 4000000
#define MAX_NAME 1024

/* ---- encoding ------------------------------------------------------------ */

static size_t put_utf8(char *o, uint32_t c) {
    if (c < 0x80) {
        o[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        o[0] = (char)(0xC0 | (c >> 6));
        o[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        o[0] = (char)(0xE0 | (c >> 12));
        o[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        o[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (c >> 18));
    o[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((c >> 6) & 0x3F));
    o[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t utf8_seq(const uint8_t *s, size_t n) {
    uint8_t c = s[0];
    if (c < 0x80) return 1;
    size_t k;
    uint32_t cp, min;
    if (c >= 0xC2 && c <= 0xDF) k = 2, cp = c & 0x1F, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF) k = 3, cp = c & 0x0F, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4) k = 4, cp = c & 0x07, min = 0x10000;
    else return 0;
    if (n < k) return 0;
    for (size_t i = 1; i < k; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return k;
}

/* Encoding name from an XML declaration at the start of 8-bit text ("" if none). */
static void declared_encoding(const uint8_t *d, size_t n, char *enc, size_t size) {
    enc[0] = 0;
    if (n < 6 || memcmp(d, "<?xml", 5) != 0) return;
    size_t end = 0;
    while (end + 1 < n && end < 512 && !(d[end] == '?' && d[end + 1] == '>')) end++;
    for (size_t i = 5; i + 8 < end; i++) {
        if (memcmp(d + i, "encoding", 8) != 0) continue;
        size_t j = i + 8;
        while (j < end && (d[j] == ' ' || d[j] == '\t' || d[j] == '\r' || d[j] == '\n')) j++;
        if (j >= end || d[j] != '=') return;
        j++;
        while (j < end && (d[j] == ' ' || d[j] == '\t' || d[j] == '\r' || d[j] == '\n')) j++;
        if (j >= end || (d[j] != '"' && d[j] != '\'')) return;
        uint8_t q = d[j++];
        size_t k = 0;
        while (j < end && d[j] != q && k + 1 < size) enc[k++] = (char)d[j++];
        enc[k] = 0;
        return;
    }
}

aiecg_status aiecg__xml_to_utf8(const uint8_t *data, size_t len, size_t max_input, char **out,
                                size_t *out_len, int *transcoded, aiecg_error *err) {
    *out = NULL;
    *out_len = 0;
    *transcoded = 0;
    if (!max_input) max_input = DEF_MAX_INPUT;
    if (len > max_input)
        return aiecg__error_set(err, AIECG_ERR_LIMIT, "XML input of %zu bytes exceeds the %zu-byte limit",
                                len, max_input);
    int utf16 = 0; /* 1 LE, 2 BE */
    size_t skip = 0;
    if (len >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF) skip = 3;
    else if (len >= 2 && data[0] == 0xFF && data[1] == 0xFE) utf16 = 1, skip = 2;
    else if (len >= 2 && data[0] == 0xFE && data[1] == 0xFF) utf16 = 2, skip = 2;
    else if (len >= 4 && data[0] == '<' && data[1] == 0 && data[2] == '?' && data[3] == 0) utf16 = 1;
    else if (len >= 4 && data[0] == 0 && data[1] == '<' && data[2] == 0 && data[3] == '?') utf16 = 2;

    if (utf16) {
        size_t units = (len - skip) / 2;
        if ((len - skip) % 2)
            return aiecg__error_set(err, AIECG_ERR_TRUNCATED,
                                    "UTF-16 text has an odd number of bytes (%zu)", len);
        size_t cap;
        if (!aiecg__mul_ok(units, 3, &cap) || cap + 1 < cap)
            return aiecg__error_set(err, AIECG_ERR_LIMIT, "UTF-16 text too large");
        char *o = aiecg__malloc(cap + 1);
        if (!o) return aiecg__error_set(err, AIECG_ERR_NOMEM, "out of memory transcoding UTF-16");
        size_t w = 0;
        const uint8_t *p = data + skip;
        for (size_t i = 0; i < units; i++) {
            uint32_t u = utf16 == 1 ? (uint32_t)(p[2 * i] | (p[2 * i + 1] << 8))
                                    : (uint32_t)((p[2 * i] << 8) | p[2 * i + 1]);
            if (u >= 0xD800 && u <= 0xDBFF) {
                uint32_t v = 0;
                if (i + 1 < units)
                    v = utf16 == 1 ? (uint32_t)(p[2 * i + 2] | (p[2 * i + 3] << 8))
                                   : (uint32_t)((p[2 * i + 2] << 8) | p[2 * i + 3]);
                if (!(v >= 0xDC00 && v <= 0xDFFF)) {
                    aiecg__free(o);
                    return aiecg__error_set(err, AIECG_ERR_FORMAT,
                                            "unpaired UTF-16 high surrogate at byte %zu", skip + 2 * i);
                }
                u = 0x10000 + ((u - 0xD800) << 10) + (v - 0xDC00);
                i++;
            } else if (u >= 0xDC00 && u <= 0xDFFF) {
                aiecg__free(o);
                return aiecg__error_set(err, AIECG_ERR_FORMAT, "unpaired UTF-16 low surrogate at byte %zu",
                                        skip + 2 * i);
            }
            if (u == 0) {
                aiecg__free(o);
                return aiecg__error_set(err, AIECG_ERR_FORMAT, "NUL character at byte %zu", skip + 2 * i);
            }
            w += put_utf8(o + w, u);
        }
        o[w] = 0;
        *out = o;
        *out_len = w;
        *transcoded = 1;
        return AIECG_OK;
    }

    const uint8_t *p = data + skip;
    size_t n = len - skip;
    char enc[64];
    declared_encoding(p, n, enc, sizeof enc);
    int latin1 = strcasecmp(enc, "ISO-8859-1") == 0 || strcasecmp(enc, "latin1") == 0 ||
                 strcasecmp(enc, "ISO_8859-1") == 0 || strcasecmp(enc, "windows-1252") == 0 ||
                 strcasecmp(enc, "ISO-8859-15") == 0;
    size_t cap;
    if (!aiecg__mul_ok(n, latin1 ? 2 : 1, &cap) || cap + 1 < cap)
        return aiecg__error_set(err, AIECG_ERR_LIMIT, "XML text too large");
    char *o = aiecg__malloc(cap + 1);
    if (!o) return aiecg__error_set(err, AIECG_ERR_NOMEM, "out of memory for XML text");
    size_t w = 0;
    for (size_t i = 0; i < n;) {
        if (p[i] == 0) {
            aiecg__free(o);
            return aiecg__error_set(err, AIECG_ERR_FORMAT, "NUL byte at byte offset %zu", skip + i);
        }
        if (latin1) {
            w += put_utf8(o + w, p[i]);
            if (p[i] >= 0x80) *transcoded = 1;
            i++;
            continue;
        }
        size_t k = utf8_seq(p + i, n - i);
        if (!k) {
            aiecg__free(o);
            return aiecg__error_set(err, AIECG_ERR_FORMAT,
                                    "invalid UTF-8 byte 0x%02X at byte offset %zu", p[i], skip + i);
        }
        memcpy(o + w, p + i, k);
        w += k;
        i += k;
    }
    o[w] = 0;
    *out = o;
    *out_len = w;
    return AIECG_OK;
}

/* ---- pull parser ---------------------------------------------------------- */

typedef struct open_el {
    size_t off, len; /* name in the text */
} open_el;

struct aiecg__xml_reader {
    const char *s;
    size_t n, pos;
    aiecg__xml_limits lim;
    open_el *stack;
    int depth;
    int64_t elements;
    int seen_root, root_closed, pending_end;
    /* current event */
    size_t ev_off;
    int ev_depth;
    char *buf; /* scratch: decoded names, values and text */
    size_t blen, bcap;
    size_t name_at;
    aiecg__xml_rattr *attrs;
    size_t *attr_at; /* pairs of offsets into buf */
    int nattrs;
    size_t text_at, text_len;
};

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
static int is_name_start(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == ':' || c >= 0x80;
}
static int is_name_char(unsigned char c) {
    return is_name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

static aiecg_status fail(aiecg__xml_reader *r, aiecg_error *err, aiecg_status st, size_t at,
                         const char *what) {
    return aiecg__error_set(err, st, "XML: %s at byte offset %zu", what, at);
}

static int buf_reserve(aiecg__xml_reader *r, size_t extra) {
    if (r->blen + extra + 1 <= r->bcap) return 1;
    size_t nc = r->bcap ? r->bcap : 256;
    while (nc < r->blen + extra + 1) {
        if (nc > ((size_t)-1) / 2) return 0;
        nc *= 2;
    }
    char *nb = aiecg__realloc(r->buf, nc);
    if (!nb) return 0;
    r->buf = nb;
    r->bcap = nc;
    return 1;
}

aiecg_status aiecg__xml_reader_new(const char *text, size_t len, const aiecg__xml_limits *lim,
                                   aiecg__xml_reader **out, aiecg_error *err) {
    *out = NULL;
    aiecg__xml_reader *r = aiecg__calloc(1, sizeof *r);
    if (!r) return aiecg__error_set(err, AIECG_ERR_NOMEM, "out of memory for XML reader");
    if (lim) r->lim = *lim;
    if (!r->lim.max_input) r->lim.max_input = DEF_MAX_INPUT;
    if (r->lim.max_depth <= 0) r->lim.max_depth = DEF_MAX_DEPTH;
    if (r->lim.max_attrs <= 0) r->lim.max_attrs = DEF_MAX_ATTRS;
    if (r->lim.max_elements <= 0) r->lim.max_elements = DEF_MAX_ELEMENTS;
    r->s = text;
    r->n = len;
    if (len > r->lim.max_input) {
        aiecg__free(r);
        return aiecg__error_set(err, AIECG_ERR_LIMIT, "XML input of %zu bytes exceeds the %zu-byte limit", len,
                                r->lim.max_input);
    }
    r->stack = aiecg__calloc((size_t)r->lim.max_depth, sizeof *r->stack);
    r->attrs = aiecg__calloc((size_t)r->lim.max_attrs, sizeof *r->attrs);
    r->attr_at = aiecg__calloc((size_t)r->lim.max_attrs * 2, sizeof *r->attr_at);
    if (!r->stack || !r->attrs || !r->attr_at) {
        aiecg__xml_reader_free(r);
        return aiecg__error_set(err, AIECG_ERR_NOMEM, "out of memory for XML reader");
    }
    *out = r;
    return AIECG_OK;
}

void aiecg__xml_reader_free(aiecg__xml_reader *r) {
    if (!r) return;
    aiecg__free(r->stack);
    aiecg__free(r->attrs);
    aiecg__free(r->attr_at);
    aiecg__free(r->buf);
    aiecg__free(r);
}

/* Finds `pat` from pos; returns its offset or n. */
static size_t find(const aiecg__xml_reader *r, size_t pos, const char *pat) {
    size_t k = strlen(pat);
    for (size_t i = pos; i + k <= r->n; i++)
        if (r->s[i] == pat[0] && memcmp(r->s + i, pat, k) == 0) return i;
    return r->n;
}

/* Is code point c allowed as an XML 1.0 Char? */
static int xml_char_ok(uint32_t c) {
    return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) || (c >= 0xE000 && c <= 0xFFFD) ||
           (c >= 0x10000 && c <= 0x10FFFF);
}

/*
 * Appends s[a..b) to buf with references expanded. stop: the end offset.
 * Normalises CR LF / CR to LF as XML 1.0 section 2.11 requires.
 */
static aiecg_status decode_into(aiecg__xml_reader *r, size_t a, size_t b, int in_attr, aiecg_error *err) {
    if (!buf_reserve(r, b - a)) return aiecg__error_set(err, AIECG_ERR_NOMEM, "out of memory in XML text");
    for (size_t i = a; i < b;) {
        char c = r->s[i];
        if (c == '&') {
            size_t semi = i + 1;
            while (semi < b && semi - i < 40 && r->s[semi] != ';') semi++;
            if (semi >= b || r->s[semi] != ';')
                return fail(r, err, AIECG_ERR_FORMAT, i, "'&' not followed by a reference ending in ';'");
            const char *e = r->s + i + 1;
            size_t el = semi - i - 1;
            char ch = 0;
            if (el == 2 && memcmp(e, "lt", 2) == 0) ch = '<';
            else if (el == 2 && memcmp(e, "gt", 2) == 0) ch = '>';
            else if (el == 3 && memcmp(e, "amp", 3) == 0) ch = '&';
            else if (el == 4 && memcmp(e, "apos", 4) == 0) ch = '\'';
            else if (el == 4 && memcmp(e, "quot", 4) == 0) ch = '"';
            if (ch) {
                r->buf[r->blen++] = ch;
            } else if (el >= 2 && e[0] == '#') {
                uint32_t cp = 0;
                int hex = e[1] == 'x', ok = 1;
                size_t j = hex ? 2 : 1;
                if (j >= el) ok = 0;
                for (; j < el && ok; j++) {
                    char d = e[j];
                    int v = (d >= '0' && d <= '9') ? d - '0'
                            : hex && (d >= 'a' && d <= 'f') ? d - 'a' + 10
                            : hex && (d >= 'A' && d <= 'F') ? d - 'A' + 10
                                                            : -1;
                    if (v < 0) ok = 0;
                    else cp = cp * (hex ? 16u : 10u) + (uint32_t)v;
                    if (cp > 0x10FFFF) ok = 0;
                }
                if (!ok || !xml_char_ok(cp))
                    return fail(r, err, AIECG_ERR_FORMAT, i, "invalid character reference");
                /* A reference expands to at most 4 bytes, never more than its own text. */
                r->blen += put_utf8(r->buf + r->blen, cp);
            } else {
                return aiecg__error_set(err, AIECG_ERR_UNSUPPORTED,
                                        "XML: undefined entity '&%.*s;' at byte offset %zu (only the 5 "
                                        "predefined entities are expanded; DTD entities are not processed)",
                                        (int)AIECG__MIN(el, 32), e, i);
            }
            i = semi + 1;
        } else if (c == '<' && in_attr) {
            return fail(r, err, AIECG_ERR_FORMAT, i, "'<' in an attribute value");
        } else if (c == '\r') {
            r->buf[r->blen++] = in_attr ? ' ' : '\n';
            i++;
            if (i < b && r->s[i] == '\n') i++;
        } else {
            if (in_attr && (c == '\t' || c == '\n')) c = ' ';
            r->buf[r->blen++] = c;
            i++;
        }
    }
    r->buf[r->blen] = 0;
    return AIECG_OK;
}

/* Skips <!DOCTYPE ...> including an internal subset, without interpreting it. */
static aiecg_status skip_doctype(aiecg__xml_reader *r, aiecg_error *err) {
    size_t start = r->pos, i = r->pos + 9;
    int in_subset = 0;
    char q = 0;
    for (; i < r->n; i++) {
        char c = r->s[i];
        if (q) {
            if (c == q) q = 0;
        } else if (c == '"' || c == '\'') {
            q = c;
        } else if (in_subset && c == '<' && i + 3 < r->n && memcmp(r->s + i, "<!--", 4) == 0) {
            size_t e = find(r, i + 4, "-->");
            if (e >= r->n) break;
            i = e + 2;
        } else if (c == '[') {
            in_subset = 1;
        } else if (c == ']') {
            in_subset = 0;
        } else if (c == '>' && !in_subset) {
            r->pos = i + 1;
            return AIECG_OK;
        }
    }
    return fail(r, err, AIECG_ERR_TRUNCATED, start, "unterminated DOCTYPE");
}

static aiecg_status parse_name(aiecg__xml_reader *r, size_t *len, aiecg_error *err) {
    size_t i = r->pos;
    if (i >= r->n || !is_name_start((unsigned char)r->s[i]))
        return fail(r, err, i >= r->n ? AIECG_ERR_TRUNCATED : AIECG_ERR_FORMAT, i, "expected a name");
    while (i < r->n && is_name_char((unsigned char)r->s[i])) i++;
    if (i - r->pos > MAX_NAME) return fail(r, err, AIECG_ERR_LIMIT, r->pos, "name longer than 1024 bytes");
    *len = i - r->pos;
    return AIECG_OK;
}

static aiecg_status parse_start(aiecg__xml_reader *r, aiecg__xml_event *ev, aiecg_error *err) {
    size_t lt = r->pos;
    if (r->root_closed) return fail(r, err, AIECG_ERR_FORMAT, lt, "second root element");
    if (r->depth >= r->lim.max_depth) {
        return aiecg__error_set(err, AIECG_ERR_LIMIT,
                                "XML: nesting deeper than %d elements at byte offset %zu", r->lim.max_depth, lt);
    }
    if (++r->elements > r->lim.max_elements)
        return aiecg__error_set(err, AIECG_ERR_LIMIT, "XML: more than %lld elements at byte offset %zu",
                                (long long)r->lim.max_elements, lt);
    r->pos++;
    size_t nlen;
    aiecg_status s = parse_name(r, &nlen, err);
    if (s) return s;
    size_t name_off = r->pos;
    r->blen = 0;
    if (!buf_reserve(r, nlen)) return aiecg__error_set(err, AIECG_ERR_NOMEM, "out of memory");
    memcpy(r->buf, r->s + name_off, nlen);
    r->buf[nlen] = 0;
    r->blen = nlen + 1;
    r->name_at = 0;
    r->pos += nlen;
    r->nattrs = 0;
    for (;;) {
        size_t sp = r->pos;
        while (r->pos < r->n && is_space(r->s[r->pos])) r->pos++;
        if (r->pos >= r->n) return fail(r, err, AIECG_ERR_TRUNCATED, lt, "unterminated start tag");
        char c = r->s[r->pos];
        int empty = 0;
        if (c == '/') {
            if (r->pos + 1 >= r->n || r->s[r->pos + 1] != '>')
                return fail(r, err, AIECG_ERR_FORMAT, r->pos, "expected '/>'");
            empty = 1;
            r->pos += 2;
        } else if (c == '>') {
            r->pos++;
        } else {
            if (sp == r->pos) return fail(r, err, AIECG_ERR_FORMAT, r->pos, "expected space before attribute");
            if (r->nattrs >= r->lim.max_attrs)
                return aiecg__error_set(err, AIECG_ERR_LIMIT, "XML: more than %d attributes at byte offset %zu",
                                        r->lim.max_attrs, lt);
            size_t alen;
            if ((s = parse_name(r, &alen, err))) return s;
            size_t aoff = r->pos;
            r->pos += alen;
            while (r->pos < r->n && is_space(r->s[r->pos])) r->pos++;
            if (r->pos >= r->n || r->s[r->pos] != '=')
                return fail(r, err, r->pos >= r->n ? AIECG_ERR_TRUNCATED : AIECG_ERR_FORMAT, r->pos,
                            "expected '=' after attribute name");
            r->pos++;
            while (r->pos < r->n && is_space(r->s[r->pos])) r->pos++;
            if (r->pos >= r->n || (r->s[r->pos] != '"' && r->s[r->pos] != '\''))
                return fail(r, err, r->pos >= r->n ? AIECG_ERR_TRUNCATED : AIECG_ERR_FORMAT, r->pos,
                            "expected a quoted attribute value");
            char q = r->s[r->pos++];
            size_t vb = r->pos;
            while (r->pos < r->n && r->s[r->pos] != q) r->pos++;
            if (r->pos >= r->n) return fail(r, err, AIECG_ERR_TRUNCATED, vb, "unterminated attribute value");
            for (int k = 0; k < r->nattrs; k++) {
                const char *prev = r->buf + r->attr_at[2 * k];
                if (strlen(prev) == alen && memcmp(prev, r->s + aoff, alen) == 0)
                    return fail(r, err, AIECG_ERR_FORMAT, aoff, "duplicate attribute");
            }
            if (!buf_reserve(r, alen + 1)) return aiecg__error_set(err, AIECG_ERR_NOMEM, "out of memory");
            r->attr_at[2 * r->nattrs] = r->blen;
            memcpy(r->buf + r->blen, r->s + aoff, alen);
            r->blen += alen;
            r->buf[r->blen++] = 0;
            r->attr_at[2 * r->nattrs + 1] = r->blen;
            if ((s = decode_into(r, vb, r->pos, 1, err))) return s;
            r->blen++; /* keep the NUL */
            r->nattrs++;
            r->pos++;
            continue;
        }
        for (int k = 0; k < r->nattrs; k++) {
            r->attrs[k].name = r->buf + r->attr_at[2 * k];
            r->attrs[k].value = r->buf + r->attr_at[2 * k + 1];
        }
        r->stack[r->depth].off = name_off;
        r->stack[r->depth].len = nlen;
        r->depth++;
        r->seen_root = 1;
        r->ev_off = lt;
        r->ev_depth = r->depth;
        r->pending_end = empty;
        *ev = AIECG__XML_START;
        return AIECG_OK;
    }
}

static aiecg_status pop_element(aiecg__xml_reader *r, aiecg__xml_event *ev) {
    r->depth--;
    open_el *e = &r->stack[r->depth];
    r->blen = 0;
    buf_reserve(r, e->len); /* cannot fail: the start tag used as much */
    memcpy(r->buf, r->s + e->off, e->len);
    r->buf[e->len] = 0;
    r->name_at = 0;
    r->nattrs = 0;
    r->ev_depth = r->depth + 1;
    if (r->depth == 0) r->root_closed = 1;
    *ev = AIECG__XML_END;
    return AIECG_OK;
}

aiecg_status aiecg__xml_next(aiecg__xml_reader *r, aiecg__xml_event *ev, aiecg_error *err) {
    *ev = AIECG__XML_EOF;
    if (r->pending_end) {
        r->pending_end = 0;
        return pop_element(r, ev);
    }
    for (;;) {
        if (r->pos >= r->n) {
            if (r->depth > 0) {
                open_el *e = &r->stack[r->depth - 1];
                return aiecg__error_set(err, AIECG_ERR_TRUNCATED,
                                        "XML: document ends inside <%.*s> (opened at byte offset %zu)",
                                        (int)AIECG__MIN(e->len, 64), r->s + e->off, e->off - 1);
            }
            if (!r->seen_root) return fail(r, err, AIECG_ERR_FORMAT, r->pos, "no root element");
            return AIECG_OK;
        }
        const char *p = r->s + r->pos;
        size_t left = r->n - r->pos;
        if (p[0] != '<') {
            size_t a = r->pos;
            while (r->pos < r->n && r->s[r->pos] != '<') r->pos++;
            if (r->depth == 0) {
                for (size_t i = a; i < r->pos; i++)
                    if (!is_space(r->s[i])) return fail(r, err, AIECG_ERR_FORMAT, i, "text outside the root element");
                continue;
            }
            r->blen = 0;
            aiecg_status s = decode_into(r, a, r->pos, 0, err);
            if (s) return s;
            r->text_at = 0;
            r->text_len = r->blen;
            r->ev_off = a;
            r->ev_depth = r->depth;
            *ev = AIECG__XML_TEXT;
            return AIECG_OK;
        }
        if (left >= 4 && memcmp(p, "<!--", 4) == 0) {
            size_t e = find(r, r->pos + 4, "-->");
            if (e >= r->n) return fail(r, err, AIECG_ERR_TRUNCATED, r->pos, "unterminated comment");
            r->pos = e + 3;
            continue;
        }
        if (left >= 9 && memcmp(p, "<![CDATA[", 9) == 0) {
            if (r->depth == 0) return fail(r, err, AIECG_ERR_FORMAT, r->pos, "CDATA outside the root element");
            size_t e = find(r, r->pos + 9, "]]>");
            if (e >= r->n) return fail(r, err, AIECG_ERR_TRUNCATED, r->pos, "unterminated CDATA section");
            size_t a = r->pos + 9;
            r->blen = 0;
            if (!buf_reserve(r, e - a)) return aiecg__error_set(err, AIECG_ERR_NOMEM, "out of memory");
            memcpy(r->buf, r->s + a, e - a);
            r->blen = e - a;
            r->buf[r->blen] = 0;
            r->text_at = 0;
            r->text_len = r->blen;
            r->ev_off = r->pos;
            r->ev_depth = r->depth;
            r->pos = e + 3;
            *ev = AIECG__XML_TEXT;
            return AIECG_OK;
        }
        if (left >= 9 && memcmp(p, "<!DOCTYPE", 9) == 0) {
            if (r->seen_root) return fail(r, err, AIECG_ERR_FORMAT, r->pos, "DOCTYPE after the root element");
            aiecg_status s = skip_doctype(r, err);
            if (s) return s;
            continue;
        }
        if (left >= 2 && p[1] == '?') {
            size_t e = find(r, r->pos + 2, "?>");
            if (e >= r->n) return fail(r, err, AIECG_ERR_TRUNCATED, r->pos, "unterminated processing instruction");
            r->pos = e + 2;
            continue;
        }
        if (left >= 2 && p[1] == '!') return fail(r, err, AIECG_ERR_FORMAT, r->pos, "unsupported markup '<!'");
        if (left >= 2 && p[1] == '/') {
            size_t lt = r->pos;
            if (r->depth == 0) return fail(r, err, AIECG_ERR_FORMAT, lt, "end tag without a start tag");
            r->pos += 2;
            size_t nlen;
            aiecg_status s = parse_name(r, &nlen, err);
            if (s) return s;
            open_el *e = &r->stack[r->depth - 1];
            if (nlen != e->len || memcmp(r->s + r->pos, r->s + e->off, nlen) != 0)
                return aiecg__error_set(err, AIECG_ERR_FORMAT,
                                        "XML: end tag </%.*s> at byte offset %zu does not match <%.*s>",
                                        (int)AIECG__MIN(nlen, 64), r->s + r->pos, lt, (int)AIECG__MIN(e->len, 64),
                                        r->s + e->off);
            r->pos += nlen;
            while (r->pos < r->n && is_space(r->s[r->pos])) r->pos++;
            if (r->pos >= r->n) return fail(r, err, AIECG_ERR_TRUNCATED, lt, "unterminated end tag");
            if (r->s[r->pos] != '>') return fail(r, err, AIECG_ERR_FORMAT, r->pos, "expected '>'");
            r->pos++;
            r->ev_off = lt;
            return pop_element(r, ev);
        }
        return parse_start(r, ev, err);
    }
}

const char *aiecg__xml_ev_name(const aiecg__xml_reader *r) { return r->buf + r->name_at; }
int aiecg__xml_ev_nattrs(const aiecg__xml_reader *r) { return r->nattrs; }
const aiecg__xml_rattr *aiecg__xml_ev_attr(const aiecg__xml_reader *r, int i) {
    return (i >= 0 && i < r->nattrs) ? &r->attrs[i] : NULL;
}
const char *aiecg__xml_ev_text(const aiecg__xml_reader *r, size_t *len) {
    if (len) *len = r->text_len;
    return r->buf + r->text_at;
}
size_t aiecg__xml_ev_offset(const aiecg__xml_reader *r) { return r->ev_off; }
int aiecg__xml_ev_depth(const aiecg__xml_reader *r) { return r->ev_depth; }

/* ---- tree ---------------------------------------------------------------- */

typedef struct chunk {
    struct chunk *next;
    size_t used, cap;
    max_align_t data[];
} chunk;

struct aiecg__xml_doc {
    chunk *chunks;
    aiecg__xml_node *root;
    int transcoded;
};

static void *arena_alloc(aiecg__xml_doc *d, size_t n) {
    n = (n + 15) & ~(size_t)15;
    chunk *c = d->chunks;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > 60000 ? n : 60000;
        chunk *nc = aiecg__malloc(sizeof(chunk) + cap);
        if (!nc) return NULL;
        nc->cap = cap;
        nc->used = 0;
        if (c && n > 60000) { /* keep filling the current chunk after a big one */
            nc->next = c->next;
            c->next = nc;
        } else {
            nc->next = c;
            d->chunks = nc;
        }
        c = nc;
    }
    void *p = (char *)c->data + c->used;
    c->used += n;
    return p;
}

static char *arena_str(aiecg__xml_doc *d, const char *s, size_t n) {
    char *p = arena_alloc(d, n + 1);
    if (!p) return NULL;
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

static const char *local_name(const char *q) {
    const char *c = strchr(q, ':');
    return c ? c + 1 : q;
}

void aiecg__xml_free(aiecg__xml_doc *doc) {
    if (!doc) return;
    chunk *c = doc->chunks;
    while (c) {
        chunk *n = c->next;
        aiecg__free(c);
        c = n;
    }
    aiecg__free(doc);
}

/* Trims node text in place once the element is closed. */
static void trim_text(aiecg__xml_node *n) {
    const char *t = n->text;
    size_t len = n->text_len;
    if (!len) return;
    while (len && is_space(*t)) t++, len--;
    while (len && is_space(t[len - 1])) len--;
    n->text = t;
    n->text_len = len;
    ((char *)t)[len] = 0; /* non-empty text lives in the arena; writable */
}

aiecg_status aiecg__xml_parse(const uint8_t *data, size_t len, const aiecg__xml_limits *lim,
                              aiecg__xml_doc **out, aiecg_error *err) {
    *out = NULL;
    char *text;
    size_t tlen;
    int transcoded;
    aiecg_status s = aiecg__xml_to_utf8(data, len, lim ? lim->max_input : 0, &text, &tlen, &transcoded, err);
    if (s) return s;
    aiecg__xml_reader *r;
    if ((s = aiecg__xml_reader_new(text, tlen, lim, &r, err))) {
        aiecg__free(text);
        return s;
    }
    aiecg__xml_doc *d = aiecg__calloc(1, sizeof *d);
    if (!d) {
        aiecg__xml_reader_free(r);
        aiecg__free(text);
        return aiecg__error_set(err, AIECG_ERR_NOMEM, "out of memory for XML tree");
    }
    d->transcoded = transcoded;
    static const char empty[1] = "";
    aiecg__xml_node *cur = NULL;
    for (;;) {
        aiecg__xml_event ev;
        if ((s = aiecg__xml_next(r, &ev, err))) break;
        if (ev == AIECG__XML_EOF) break;
        if (ev == AIECG__XML_START) {
            aiecg__xml_node *n = arena_alloc(d, sizeof *n);
            if (!n) goto oom;
            memset(n, 0, sizeof *n);
            const char *q = aiecg__xml_ev_name(r);
            if (!(n->qname = arena_str(d, q, strlen(q)))) goto oom;
            n->name = local_name(n->qname);
            n->text = empty;
            n->offset = aiecg__xml_ev_offset(r);
            int na = aiecg__xml_ev_nattrs(r);
            if (na) {
                n->attrs = arena_alloc(d, (size_t)na * sizeof *n->attrs);
                if (!n->attrs) goto oom;
                for (int i = 0; i < na; i++) {
                    const aiecg__xml_rattr *a = aiecg__xml_ev_attr(r, i);
                    if (!(n->attrs[i].qname = arena_str(d, a->name, strlen(a->name)))) goto oom;
                    if (!(n->attrs[i].value = arena_str(d, a->value, strlen(a->value)))) goto oom;
                    n->attrs[i].name = local_name(n->attrs[i].qname);
                }
                n->nattrs = na;
            }
            n->parent = cur;
            if (cur) {
                if (cur->last) cur->last->next = n;
                else cur->first = n;
                cur->last = n;
            } else {
                d->root = n;
            }
            cur = n;
        } else if (ev == AIECG__XML_END) {
            if (cur) {
                trim_text(cur);
                cur = cur->parent;
            }
        } else if (ev == AIECG__XML_TEXT && cur) {
            size_t tl;
            const char *t = aiecg__xml_ev_text(r, &tl);
            if (cur->text_len == 0) {
                size_t k = 0;
                while (k < tl && is_space(t[k])) k++;
                if (k == tl) continue; /* whitespace between child elements */
                char *c = arena_str(d, t, tl);
                if (!c) goto oom;
                cur->text = c;
                cur->text_len = tl;
                cur->text_cap_ = tl;
            } else {
                /* mixed content: grow geometrically so many pieces cost linear memory */
                if (cur->text_len + tl > cur->text_cap_) {
                    size_t cap = (cur->text_len + tl) * 2;
                    char *c = arena_alloc(d, cap + 1);
                    if (!c) goto oom;
                    memcpy(c, cur->text, cur->text_len);
                    cur->text = c;
                    cur->text_cap_ = cap;
                }
                char *c = (char *)cur->text;
                memcpy(c + cur->text_len, t, tl);
                cur->text_len += tl;
                c[cur->text_len] = 0;
            }
        }
    }
    aiecg__xml_reader_free(r);
    aiecg__free(text);
    if (s) {
        aiecg__xml_free(d);
        return s;
    }
    *out = d;
    return AIECG_OK;
oom:
    aiecg__xml_reader_free(r);
    aiecg__free(text);
    aiecg__xml_free(d);
    return aiecg__error_set(err, AIECG_ERR_NOMEM, "out of memory for XML tree");
}

aiecg__xml_node *aiecg__xml_root(const aiecg__xml_doc *doc) { return doc ? doc->root : NULL; }
int aiecg__xml_transcoded(const aiecg__xml_doc *doc) { return doc ? doc->transcoded : 0; }

aiecg__xml_node *aiecg__xml_child(const aiecg__xml_node *n, const char *name) {
    if (!n) return NULL;
    for (aiecg__xml_node *c = n->first; c; c = c->next)
        if (!name || strcmp(c->name, name) == 0) return c;
    return NULL;
}

aiecg__xml_node *aiecg__xml_next_named(const aiecg__xml_node *n, const char *name) {
    if (!n) return NULL;
    for (aiecg__xml_node *c = n->next; c; c = c->next)
        if (!name || strcmp(c->name, name) == 0) return c;
    return NULL;
}

aiecg__xml_node *aiecg__xml_path(const aiecg__xml_node *n, const char *path) {
    const aiecg__xml_node *cur = n;
    const char *p = path;
    char part[128];
    while (cur && *p) {
        const char *slash = strchr(p, '/');
        size_t k = slash ? (size_t)(slash - p) : strlen(p);
        if (k >= sizeof part) return NULL;
        memcpy(part, p, k);
        part[k] = 0;
        cur = aiecg__xml_child(cur, part);
        p += k;
        if (*p == '/') p++;
    }
    return (aiecg__xml_node *)cur;
}

aiecg__xml_node *aiecg__xml_find(const aiecg__xml_node *n, const char *name) {
    if (!n) return NULL;
    const aiecg__xml_node *c = n->first;
    while (c) {
        if (strcmp(c->name, name) == 0) return (aiecg__xml_node *)c;
        if (c->first) {
            c = c->first;
            continue;
        }
        while (c && !c->next) {
            c = c->parent;
            if (c == n) return NULL;
        }
        if (c) c = c->next;
    }
    return NULL;
}

aiecg__xml_node *aiecg__xml_walk(const aiecg__xml_node *top, const aiecg__xml_node *cur, const char *name) {
    if (!top || !cur) return NULL;
    for (;;) {
        if (cur->first) {
            cur = cur->first;
        } else {
            while (cur != top && !cur->next) cur = cur->parent;
            if (cur == top) return NULL;
            cur = cur->next;
        }
        if (!name || strcmp(cur->name, name) == 0) return (aiecg__xml_node *)cur;
    }
}

const char *aiecg__xml_get_attr(const aiecg__xml_node *n, const char *name) {
    if (!n) return NULL;
    for (int i = 0; i < n->nattrs; i++)
        if (strcmp(n->attrs[i].qname, name) == 0) return n->attrs[i].value;
    for (int i = 0; i < n->nattrs; i++)
        if (strcmp(n->attrs[i].name, name) == 0 && strncmp(n->attrs[i].qname, "xmlns", 5) != 0)
            return n->attrs[i].value;
    return NULL;
}

const char *aiecg__xml_path_text(const aiecg__xml_node *n, const char *path) {
    const aiecg__xml_node *c = aiecg__xml_path(n, path);
    return c ? c->text : "";
}

const char *aiecg__xml_node_path(const aiecg__xml_node *n, char *buf, size_t size) {
    if (!size) return buf;
    buf[0] = 0;
    const aiecg__xml_node *chain[32];
    int k = 0;
    for (const aiecg__xml_node *c = n; c && k < 32; c = c->parent) chain[k++] = c;
    size_t w = 0;
    for (int i = k - 1; i >= 0 && w + 1 < size; i--) {
        int m = snprintf(buf + w, size - w, "/%s", chain[i]->name);
        if (m < 0) break;
        w += (size_t)m;
    }
    return buf;
}

int aiecg__xml_probe_root(const uint8_t *head, size_t len, char *name, size_t size) {
    if (!head || !size) return 0;
    name[0] = 0;
    char buf[4096];
    size_t n = 0;
    /* Dropping NUL bytes turns ASCII-range UTF-16 into 8-bit text. */
    for (size_t i = 0; i < len && n + 1 < sizeof buf; i++)
        if (head[i]) buf[n++] = (char)head[i];
    buf[n] = 0;
    size_t i = 0;
    while (i < n) {
        if (buf[i] != '<') {
            i++;
            continue;
        }
        if (strncmp(buf + i, "<!--", 4) == 0) {
            const char *e = strstr(buf + i + 4, "-->");
            if (!e) return 0;
            i = (size_t)(e - buf) + 3;
            continue;
        }
        if (buf[i + 1] == '?' || buf[i + 1] == '!') {
            i++;
            continue; /* declaration, DOCTYPE: its '>' is skipped by the scan */
        }
        size_t j = i + 1, k = 0;
        while (j < n && is_name_char((unsigned char)buf[j])) j++;
        if (j == i + 1) return 0;
        const char *q = buf + i + 1;
        size_t ql = j - i - 1;
        for (size_t t = 0; t < ql; t++)
            if (q[t] == ':') q += t + 1, ql -= t + 1, t = 0;
        for (k = 0; k < ql && k + 1 < size; k++) name[k] = q[k];
        name[k] = 0;
        return k > 0;
    }
    return 0;
}
