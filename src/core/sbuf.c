/* String buffer and JSON writer; see sbuf.h. Output is UTF-8 passed through, control bytes escaped. */
#include "sbuf.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void aiecg__sbuf_init(aiecg__sbuf *b) { memset(b, 0, sizeof *b); }

void aiecg__sbuf_free(aiecg__sbuf *b) {
    aiecg__free(b->data);
    memset(b, 0, sizeof *b);
}

static bool reserve(aiecg__sbuf *b, size_t extra) {
    if (b->oom) return false;
    if (b->len + extra + 1 <= b->cap) return true;
    size_t ncap = b->cap ? b->cap : 256;
    while (ncap < b->len + extra + 1) {
        if (ncap > SIZE_MAX / 2) {
            b->oom = true;
            return false;
        }
        ncap *= 2;
    }
    char *n = aiecg__realloc(b->data, ncap);
    if (!n) {
        b->oom = true;
        return false;
    }
    b->data = n;
    b->cap = ncap;
    return true;
}

void aiecg__sbuf_append(aiecg__sbuf *b, const char *s, size_t n) {
    if (!reserve(b, n)) return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void aiecg__sbuf_puts(aiecg__sbuf *b, const char *s) { aiecg__sbuf_append(b, s, strlen(s)); }

void aiecg__sbuf_printf(aiecg__sbuf *b, const char *fmt, ...) {
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof tmp) {
        aiecg__sbuf_append(b, tmp, (size_t)n);
        return;
    }
    if (!reserve(b, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

char *aiecg__sbuf_take(aiecg__sbuf *b) {
    if (b->oom) {
        aiecg__sbuf_free(b);
        return NULL;
    }
    if (!reserve(b, 0)) return NULL;
    b->data[b->len] = '\0';
    char *d = b->data;
    memset(b, 0, sizeof *b);
    return d;
}

void aiecg__json_escape(aiecg__sbuf *b, const char *s) {
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        switch (c) {
        case '"': aiecg__sbuf_append(b, "\\\"", 2); break;
        case '\\': aiecg__sbuf_append(b, "\\\\", 2); break;
        case '\n': aiecg__sbuf_append(b, "\\n", 2); break;
        case '\r': aiecg__sbuf_append(b, "\\r", 2); break;
        case '\t': aiecg__sbuf_append(b, "\\t", 2); break;
        default:
            if (c < 0x20) aiecg__sbuf_printf(b, "\\u%04x", c);
            else aiecg__sbuf_append(b, (const char *)p, 1);
        }
    }
}

void aiecg__jw_init(aiecg__jw *w, aiecg__sbuf *b, bool pretty) {
    memset(w, 0, sizeof *w);
    w->b = b;
    w->pretty = pretty;
    w->first[0] = true;
}

static void newline(aiecg__jw *w) {
    if (!w->pretty) return;
    aiecg__sbuf_append(w->b, "\n", 1);
    for (int i = 0; i < w->depth; i++) aiecg__sbuf_append(w->b, "  ", 2);
}

/* Called before any value: separates array items. Object values follow jw_key. */
static void before_value(aiecg__jw *w) {
    if (w->depth > 0 && w->b->len && w->b->data[w->b->len - 1] == ':') return;
    if (w->depth > 0 && w->pretty && w->b->len >= 2 && w->b->data[w->b->len - 2] == ':' &&
        w->b->data[w->b->len - 1] == ' ')
        return;
    if (!w->first[w->depth]) aiecg__sbuf_append(w->b, ",", 1);
    w->first[w->depth] = false;
    if (w->depth > 0) newline(w);
}

static void open_(aiecg__jw *w, char c) {
    before_value(w);
    aiecg__sbuf_append(w->b, &c, 1);
    if (w->depth < 63) w->depth++;
    w->first[w->depth] = true;
}

static void close_(aiecg__jw *w, char c) {
    bool empty = w->first[w->depth];
    if (w->depth > 0) w->depth--;
    if (!empty) newline(w);
    aiecg__sbuf_append(w->b, &c, 1);
}

void aiecg__jw_obj_begin(aiecg__jw *w) { open_(w, '{'); }
void aiecg__jw_obj_end(aiecg__jw *w) { close_(w, '}'); }
void aiecg__jw_arr_begin(aiecg__jw *w) { open_(w, '['); }
void aiecg__jw_arr_end(aiecg__jw *w) { close_(w, ']'); }

void aiecg__jw_key(aiecg__jw *w, const char *key) {
    if (!w->first[w->depth]) aiecg__sbuf_append(w->b, ",", 1);
    w->first[w->depth] = false;
    newline(w);
    aiecg__sbuf_append(w->b, "\"", 1);
    aiecg__json_escape(w->b, key);
    aiecg__sbuf_puts(w->b, w->pretty ? "\": " : "\":");
}

void aiecg__jw_str(aiecg__jw *w, const char *s) {
    before_value(w);
    if (!s) {
        aiecg__sbuf_puts(w->b, "null");
        return;
    }
    aiecg__sbuf_append(w->b, "\"", 1);
    aiecg__json_escape(w->b, s);
    aiecg__sbuf_append(w->b, "\"", 1);
}

void aiecg__jw_num(aiecg__jw *w, double v) {
    before_value(w);
    if (!isfinite(v)) aiecg__sbuf_puts(w->b, "null");
    else aiecg__sbuf_printf(w->b, "%.10g", v);
}

void aiecg__jw_numf(aiecg__jw *w, double v, int decimals) {
    before_value(w);
    if (!isfinite(v)) aiecg__sbuf_puts(w->b, "null");
    else aiecg__sbuf_printf(w->b, "%.*f", decimals, v);
}

void aiecg__jw_int(aiecg__jw *w, int64_t v) {
    before_value(w);
    aiecg__sbuf_printf(w->b, "%lld", (long long)v);
}

void aiecg__jw_bool(aiecg__jw *w, bool v) {
    before_value(w);
    aiecg__sbuf_puts(w->b, v ? "true" : "false");
}

void aiecg__jw_null(aiecg__jw *w) {
    before_value(w);
    aiecg__sbuf_puts(w->b, "null");
}
