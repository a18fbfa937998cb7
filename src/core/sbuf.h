/*
 * A growable string buffer and a small streaming JSON writer on top of it,
 * shared by every module that emits text (record info, results, FHIR, SVG).
 * Allocation failure is sticky: once `oom` is set every append is a no-op and
 * the caller checks it once at the end.
 */
#ifndef AIECG_SBUF_H
#define AIECG_SBUF_H

#include "core_int.h"

typedef struct aiecg__sbuf {
    char *data;   /* NUL-terminated when len > 0 or after sbuf_cstr */
    size_t len, cap;
    bool oom;
} aiecg__sbuf;

void aiecg__sbuf_init(aiecg__sbuf *b);
void aiecg__sbuf_free(aiecg__sbuf *b);
void aiecg__sbuf_append(aiecg__sbuf *b, const char *s, size_t n);
void aiecg__sbuf_puts(aiecg__sbuf *b, const char *s);
void aiecg__sbuf_printf(aiecg__sbuf *b, const char *fmt, ...) AIECG__PRINTF(2, 3);
/* Takes ownership of the text (caller frees with aiecg_free); NULL on OOM. */
char *aiecg__sbuf_take(aiecg__sbuf *b);

/*
 * JSON writer. Keeps a nesting stack to insert commas; keys are written with
 * jw_key before each value inside an object. Numbers that are not finite are
 * written as null (JSON has no NaN).
 */
typedef struct aiecg__jw {
    aiecg__sbuf *b;
    int depth;
    bool first[64];
    bool pretty;
} aiecg__jw;

void aiecg__jw_init(aiecg__jw *w, aiecg__sbuf *b, bool pretty);
void aiecg__jw_obj_begin(aiecg__jw *w);
void aiecg__jw_obj_end(aiecg__jw *w);
void aiecg__jw_arr_begin(aiecg__jw *w);
void aiecg__jw_arr_end(aiecg__jw *w);
void aiecg__jw_key(aiecg__jw *w, const char *key);
void aiecg__jw_str(aiecg__jw *w, const char *s);   /* NULL -> null */
void aiecg__jw_num(aiecg__jw *w, double v);        /* %.10g; non-finite -> null */
void aiecg__jw_numf(aiecg__jw *w, double v, int decimals);
void aiecg__jw_int(aiecg__jw *w, int64_t v);
void aiecg__jw_bool(aiecg__jw *w, bool v);
void aiecg__jw_null(aiecg__jw *w);
/* Writes s as a JSON string body (escaped, without quotes). */
void aiecg__json_escape(aiecg__sbuf *b, const char *s);

#endif
