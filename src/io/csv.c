/*
 * CSV (delimited text) reader and writer.
 *
 * There is no standard for ECG in CSV; this follows RFC 4180 for fields
 * (quotes, doubled quotes) and accepts what spreadsheets and other tools
 * export: separator ',' ';' or tab (whichever the header line uses most),
 * '#' comment lines, CRLF or LF, a UTF-8 BOM, decimal commas when the
 * separator is not a comma. The first row names the columns; a first column
 * called time/t (seconds), time_ms/ms (milliseconds) or sample/index is the
 * time axis. Values are millivolts unless the column name ends in a unit,
 * "II (uV)" or "II [V]". The sampling rate comes from opt->fs (--fs), else a
 * "# fs=" comment, else the time column (which must then be uniform).
 *
 * The writer adds "# key=value" comment lines (fs, each lead's gain,
 * baseline and units, metadata) and one "#ann" line per annotation (text
 * form of edf_int.h), and prints each value with enough decimals that
 * round(mV * gain + baseline) gives back the ADC value, so WFDB -> CSV ->
 * WFDB keeps samples, gains and annotations exactly. Errors name the line
 * and column: "x.csv:17: column 3: 'abc' is not a number".
 */
#include "edf_int.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CSV_MAX_COLS (AIECG_MAX_LEADS + 1)

typedef struct csv_cell {
    const char *s;
    size_t n;
} csv_cell;

typedef struct csv_meta {
    double fs;
    int have_fs;
    double gain[AIECG_MAX_LEADS];
    int32_t baseline[AIECG_MAX_LEADS];
    int32_t adc_zero[AIECG_MAX_LEADS];
    int adc_res[AIECG_MAX_LEADS];
    char units[AIECG_MAX_LEADS][16];
    int have_lead[AIECG_MAX_LEADS];
} csv_meta;

/* Next line [*s, *e) starting at pos; returns the position after its terminator. */
static size_t next_line(const char *d, size_t len, size_t pos, size_t *s, size_t *e) {
    size_t i = pos;
    while (i < len && d[i] != '\n' && d[i] != '\r') i++;
    *s = pos;
    *e = i;
    if (i < len && d[i] == '\r') {
        i++;
        if (i < len && d[i] == '\n') i++;
    } else if (i < len && d[i] == '\n') {
        i++;
    }
    return i;
}

static int is_blank(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isspace((unsigned char)s[i])) return 0;
    return 1;
}

static int is_comment(const char *s, size_t n) {
    size_t i = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\t')) i++;
    return i < n && s[i] == '#';
}

static char pick_sep(const char *s, size_t n) {
    size_t c[3] = {0, 0, 0};
    int q = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"') q = !q;
        else if (!q && s[i] == ',') c[0]++;
        else if (!q && s[i] == ';') c[1]++;
        else if (!q && s[i] == '\t') c[2]++;
    }
    if (c[1] > c[0] && c[1] >= c[2]) return ';';
    if (c[2] > c[0] && c[2] > c[1]) return '\t';
    return ',';
}

/*
 * Splits one line into cells; quoted cells are unquoted into scratch (n+1
 * bytes). Returns the number of cells, or -1 on an unterminated quote, or
 * -2 when there are more than max.
 */
static int split(const char *s, size_t n, char sep, char *scratch, csv_cell *cells, int max) {
    int nc = 0;
    size_t i = 0, w = 0;
    for (;;) {
        if (nc == max) return -2;
        while (i < n && s[i] == ' ') i++;
        if (i < n && s[i] == '"') {
            size_t start = w;
            i++;
            for (;;) {
                if (i >= n) return -1;
                if (s[i] == '"') {
                    if (i + 1 < n && s[i + 1] == '"') {
                        scratch[w++] = '"';
                        i += 2;
                        continue;
                    }
                    i++;
                    break;
                }
                scratch[w++] = s[i++];
            }
            cells[nc].s = scratch + start;
            cells[nc].n = w - start;
            while (i < n && s[i] != sep) i++;
        } else {
            size_t a = i;
            while (i < n && s[i] != sep) i++;
            size_t b = i;
            while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t')) b--;
            cells[nc].s = s + a;
            cells[nc].n = b - a;
        }
        nc++;
        if (i >= n) break;
        i++; /* separator */
    }
    return nc;
}

/* Parses a numeric cell; empty and NaN give NaN. 1 on success. */
static int cell_number(const csv_cell *c, char sep, double *v) {
    char buf[64];
    size_t a = 0, b = c->n;
    while (a < b && isspace((unsigned char)c->s[a])) a++;
    while (b > a && isspace((unsigned char)c->s[b - 1])) b--;
    if (a == b) {
        *v = NAN;
        return 1;
    }
    if (b - a >= sizeof buf) return 0;
    memcpy(buf, c->s + a, b - a);
    buf[b - a] = '\0';
    if (sep != ',')
        for (char *p = buf; *p; p++)
            if (*p == ',') *p = '.';
    if (strcasecmp(buf, "nan") == 0) {
        *v = NAN;
        return 1;
    }
    for (char *p = buf; *p; p++)
        if (!(isdigit((unsigned char)*p) || *p == '.' || *p == '-' || *p == '+' || *p == 'e' || *p == 'E'))
            return 0;
    char *end;
    double x = strtod(buf, &end);
    if (*end || !isfinite(x)) return 0;
    *v = x;
    return 1;
}

static void cell_str(const csv_cell *c, char *out, size_t size) {
    size_t n = c->n < size - 1 ? c->n : size - 1;
    size_t a = 0;
    while (a < n && isspace((unsigned char)c->s[a])) a++;
    memcpy(out, c->s + a, n - a);
    out[n - a] = '\0';
}

typedef enum { TIME_NONE, TIME_S, TIME_MS, TIME_INDEX } time_kind;

static time_kind time_column(const char *name) {
    char b[32];
    size_t k = 0;
    for (const char *p = name; *p && k + 1 < sizeof b; p++)
        if (!isspace((unsigned char)*p)) b[k++] = (char)tolower((unsigned char)*p);
    b[k] = '\0';
    static const char *const s[] = {"time", "t", "time(s)", "time[s]", "time_s", "times", "seconds", "sec", "s"};
    static const char *const ms[] = {"time_ms", "ms", "time(ms)", "time[ms]", "timems"};
    static const char *const ix[] = {"sample", "samples", "index", "idx", "n", "sample#", "#"};
    for (size_t i = 0; i < AIECG__COUNTOF(s); i++)
        if (strcmp(b, s[i]) == 0) return TIME_S;
    for (size_t i = 0; i < AIECG__COUNTOF(ms); i++)
        if (strcmp(b, ms[i]) == 0) return TIME_MS;
    for (size_t i = 0; i < AIECG__COUNTOF(ix); i++)
        if (strcmp(b, ix[i]) == 0) return TIME_INDEX;
    return TIME_NONE;
}

/* "II (uV)" -> label "II", scale 1e-3 to mV, units "uV". */
static void label_units(const char *cell, char *label, size_t lsz, char *units, size_t usz, double *scale) {
    snprintf(label, lsz, "%s", cell);
    snprintf(units, usz, "mV");
    *scale = 1.0;
    size_t n = strlen(label);
    while (n && label[n - 1] == ' ') label[--n] = '\0';
    if (n < 3 || (label[n - 1] != ')' && label[n - 1] != ']')) return;
    char open = label[n - 1] == ')' ? '(' : '[';
    char *o = strrchr(label, open);
    if (!o) return;
    char u[16];
    size_t k = (size_t)(label + n - 1 - (o + 1));
    if (k == 0 || k >= sizeof u) return;
    memcpy(u, o + 1, k);
    u[k] = '\0';
    double sc = 0;
    if (strcmp(u, "mV") == 0 || strcasecmp(u, "mv") == 0) sc = 1;
    else if (strcmp(u, "uV") == 0 || strcasecmp(u, "uv") == 0 || strcmp(u, "\xC2\xB5V") == 0) sc = 1e-3;
    else if (strcmp(u, "V") == 0) sc = 1e3;
    if (sc == 0) return;
    *scale = sc;
    snprintf(units, usz, "%s", sc == 1e-3 ? "uV" : u);
    *o = '\0';
    n = strlen(label);
    while (n && label[n - 1] == ' ') label[--n] = '\0';
}

/* Value of "key=" in a comment body, copied to out; 1 if present. */
static int kv(const char *body, const char *key, char *out, size_t size, int rest) {
    size_t kl = strlen(key);
    const char *p = body;
    while ((p = strstr(p, key)) != NULL) {
        if ((p == body || p[-1] == ' ') && p[kl] == '=') {
            p += kl + 1;
            size_t n = 0;
            while (p[n] && (rest || p[n] != ' ') && n + 1 < size) {
                out[n] = p[n];
                n++;
            }
            out[n] = '\0';
            return 1;
        }
        p += kl;
    }
    return 0;
}

typedef struct csv_ann {
    int64_t sample;
    size_t off, n; /* text within the file */
} csv_ann;

aiecg_status aiecg__csv_read_mem(const uint8_t *data, size_t len, const char *name,
                                 const aiecg_read_options *opt, aiecg_record **out, aiecg_error *err) {
    *out = NULL;
    aiecg_read_options o = opt ? *opt : aiecg_read_options_default();
    const char *d = (const char *)data;
    size_t pos = 0;
    if (len >= 3 && memcmp(d, "\xEF\xBB\xBF", 3) == 0) pos = 3;
    csv_meta *meta = aiecg__calloc(1, sizeof *meta);
    char *scratch = NULL;
    csv_cell *cells = NULL;
    csv_ann *anns = NULL;
    size_t nanns = 0, capanns = 0;
    double *times = NULL;
    aiecg_record *r = NULL;
    aiecg_status s = AIECG_OK;
    aiecg_record_meta rm;
    char rname[256] = "", pid[256] = "", device[256] = "";
    int age = -1, has_start = 0, Y = 0, M = 0, D = 0, h = 0, mi = 0;
    double sec = 0;
    char sex = 'U';
    if (!meta) return aiecg__error_set(err, AIECG_ERR_NOMEM, "%s: out of memory", name);
    size_t maxline = 0;
    /* pass 1: comments, header, row count */
    long line = 0, header_line = 0;
    size_t hs = 0, he = 0;
    int have_header = 0;
    int64_t nrows = 0;
    char sep = ',';
    for (size_t p = pos; p < len;) {
        size_t a, b;
        size_t nx = next_line(d, len, p, &a, &b);
        line++;
        if (nx == p) break;
        p = nx;
        maxline = AIECG__MAX(maxline, b - a);
        if (is_blank(d + a, b - a)) continue;
        if (is_comment(d + a, b - a)) {
            char body[512];
            size_t k = b - a < sizeof body - 1 ? b - a : sizeof body - 1;
            memcpy(body, d + a, k);
            body[k] = '\0';
            char *c = strchr(body, '#') + 1;
            char v[256];
            if (strncmp(c, "ann ", 4) == 0) {
                char *e2;
                long long smp = strtoll(c + 4, &e2, 10);
                if (e2 == c + 4 || *e2 != ' ' || smp < 0) {
                    s = aiecg__error_set(err, AIECG_ERR_FORMAT, "%s:%ld: '#ann' line needs a sample number and text",
                                         name, line);
                    goto done;
                }
                if (smp > (1LL << 53)) { /* strtoll saturates; later sample arithmetic must not overflow */
                    s = aiecg__error_set(err, AIECG_ERR_RANGE, "%s:%ld: '#ann' sample number %s out of range", name,
                                         line, smp == LLONG_MAX ? "(overflowing)" : "above 2^53");
                    goto done;
                }
                if (nanns == capanns) {
                    size_t nc = capanns ? capanns * 2 : 256;
                    csv_ann *na = aiecg__realloc(anns, nc * sizeof *na);
                    if (!na) { s = aiecg__error_set(err, AIECG_ERR_NOMEM, "%s: out of memory", name); goto done; }
                    anns = na;
                    capanns = nc;
                }
                size_t toff = (size_t)(e2 + 1 - body) + a;
                anns[nanns++] = (csv_ann){smp, toff, b - toff};
                continue;
            }
            while (*c == ' ') c++;
            if (strncmp(c, "fs=", 3) == 0) {
                char *e2;
                double f = strtod(c + 3, &e2);
                if (e2 == c + 3 || !(f > 0)) {
                    s = aiecg__error_set(err, AIECG_ERR_FORMAT, "%s:%ld: bad sampling rate '%s'", name, line, c + 3);
                    goto done;
                }
                meta->fs = f;
                meta->have_fs = 1;
            } else if (strncmp(c, "lead=", 5) == 0) {
                int li = atoi(c + 5) - 1;
                if (li < 0 || li >= AIECG_MAX_LEADS) continue;
                if (kv(c, "gain", v, sizeof v, 0)) meta->gain[li] = strtod(v, NULL);
                if (kv(c, "baseline", v, sizeof v, 0)) {
                    long bl = strtol(v, NULL, 10);
                    meta->baseline[li] = (int32_t)(bl > (1L << 30) ? (1L << 30) : bl < -(1L << 30) ? -(1L << 30) : bl);
                }
                if (kv(c, "adc_zero", v, sizeof v, 0)) meta->adc_zero[li] = (int32_t)strtol(v, NULL, 10);
                if (kv(c, "adc_resolution", v, sizeof v, 0)) meta->adc_res[li] = atoi(v);
                kv(c, "units", meta->units[li], sizeof meta->units[li], 1);
                if (meta->gain[li] > 0 && !(meta->gain[li] < 1e12 &&
                                            meta->baseline[li] > -(1 << 30) && meta->baseline[li] < (1 << 30))) {
                    s = aiecg__error_set(err, AIECG_ERR_RANGE, "%s:%ld: lead gain or baseline out of range", name, line);
                    goto done;
                }
                meta->have_lead[li] = meta->gain[li] > 0;
            } else if (kv(c, "record", v, sizeof v, 1)) {
                memcpy(rname, v, sizeof rname);
            } else if (kv(c, "patient_id", v, sizeof v, 1)) {
                memcpy(pid, v, sizeof pid);
            } else if (kv(c, "device", v, sizeof v, 1)) {
                memcpy(device, v, sizeof device);
            } else if (kv(c, "sex", v, sizeof v, 0)) {
                sex = v[0] == 'M' ? 'M' : v[0] == 'F' ? 'F' : 'U';
            } else if (kv(c, "age", v, sizeof v, 0)) {
                age = atoi(v);
            } else if (kv(c, "start", v, sizeof v, 0)) {
                if (sscanf(v, "%d-%d-%dT%d:%d:%lf", &Y, &M, &D, &h, &mi, &sec) == 6) has_start = 1;
            }
            continue;
        }
        if (!have_header) {
            have_header = 1;
            header_line = line;
            hs = a;
            he = b;
            sep = pick_sep(d + a, b - a);
            continue;
        }
        nrows++;
    }
    if (!have_header) {
        s = aiecg__error_set(err, AIECG_ERR_FORMAT, "%s: no header row and no data", name);
        goto done;
    }
    scratch = aiecg__malloc(maxline + 1);
    cells = aiecg__calloc(CSV_MAX_COLS + 1, sizeof *cells);
    if (!scratch || !cells) { s = aiecg__error_set(err, AIECG_ERR_NOMEM, "%s: out of memory", name); goto done; }
    int ncols = split(d + hs, he - hs, sep, scratch, cells, CSV_MAX_COLS + 1);
    if (ncols == -1) {
        s = aiecg__error_set(err, AIECG_ERR_FORMAT, "%s:%ld: unterminated quote", name, header_line);
        goto done;
    }
    if (ncols < 0 || ncols > CSV_MAX_COLS) {
        s = aiecg__error_set(err, AIECG_ERR_LIMIT, "%s:%ld: more than %d columns", name, header_line, CSV_MAX_COLS);
        goto done;
    }
    /* a header of numbers is data */
    int numeric_header = 1;
    for (int i = 0; i < ncols; i++) {
        double v;
        if (!cell_number(&cells[i], sep, &v) || cells[i].n == 0) numeric_header = 0;
    }
    char labels[CSV_MAX_COLS][64], units[CSV_MAX_COLS][16];
    double scale[CSV_MAX_COLS];
    time_kind tk = TIME_NONE;
    if (numeric_header) {
        nrows++;
        for (int i = 0; i < ncols; i++) {
            snprintf(labels[i], sizeof labels[i], "col%d", i + 1);
            snprintf(units[i], sizeof units[i], "mV");
            scale[i] = 1;
        }
    } else {
        char first[64];
        cell_str(&cells[0], first, sizeof first);
        tk = ncols > 1 ? time_column(first) : TIME_NONE;
        for (int i = 0; i < ncols; i++) {
            char c[64];
            cell_str(&cells[i], c, sizeof c);
            label_units(c, labels[i], sizeof labels[i], units[i], sizeof units[i], &scale[i]);
        }
    }
    int t0c = tk != TIME_NONE ? 1 : 0;
    int nl = ncols - t0c;
    if (nl < 1 || nl > AIECG_MAX_LEADS) {
        s = aiecg__error_set(err, AIECG_ERR_LIMIT, "%s:%ld: %d signal columns (1..%d allowed)", name, header_line, nl,
                             AIECG_MAX_LEADS);
        goto done;
    }
    int64_t cap = o.max_samples > 0 ? o.max_samples : AIECG_MAX_SAMPLES_TOTAL / nl;
    if (nrows > cap) {
        s = aiecg__error_set(err, AIECG_ERR_LIMIT, "%s: %lld rows exceed the limit of %lld", name, (long long)nrows,
                             (long long)cap);
        goto done;
    }
    int all_gain = 1;
    for (int k = 0; k < nl; k++) all_gain &= meta->have_lead[k];
    if ((s = aiecg_record_new(nl, nrows, 1.0, all_gain && o.keep_adc, &r, err))) {
        aiecg__error_prefix(err, "%s", name);
        goto done;
    }
    if (t0c && tk != TIME_INDEX) {
        times = aiecg__malloc((size_t)(nrows ? nrows : 1) * sizeof *times);
        if (!times) { s = aiecg__error_set(err, AIECG_ERR_NOMEM, "%s: out of memory", name); goto done; }
    }
    /* pass 2: values */
    line = 0;
    int64_t row = 0;
    int seen_header = 0;
    for (size_t p = pos; p < len && row < nrows;) {
        size_t a, b;
        size_t nx = next_line(d, len, p, &a, &b);
        line++;
        if (nx == p) break;
        p = nx;
        if (is_blank(d + a, b - a) || is_comment(d + a, b - a)) continue;
        if (!seen_header) {
            seen_header = 1;
            if (!numeric_header) continue;
        }
        int nc = split(d + a, b - a, sep, scratch, cells, CSV_MAX_COLS + 1);
        if (nc == ncols + 1 && cells[ncols].n == 0) nc = ncols; /* trailing separator */
        if (nc == -1) {
            s = aiecg__error_set(err, AIECG_ERR_FORMAT, "%s:%ld: unterminated quote", name, line);
            goto done;
        }
        if (nc != ncols) {
            s = aiecg__error_set(err, AIECG_ERR_FORMAT, "%s:%ld: %d columns, the header has %d", name, line,
                                 nc < 0 ? CSV_MAX_COLS + 1 : nc, ncols);
            goto done;
        }
        for (int c = 0; c < ncols; c++) {
            double v;
            if (!cell_number(&cells[c], sep, &v) || (c < t0c && isnan(v))) {
                char shown[40];
                cell_str(&cells[c], shown, sizeof shown);
                s = aiecg__error_set(err, AIECG_ERR_FORMAT, "%s:%ld: column %d: '%s' is not a number", name, line,
                                     c + 1, shown);
                goto done;
            }
            if (c < t0c) {
                if (times) times[row] = tk == TIME_MS ? v / 1000.0 : v;
                continue;
            }
            int k = c - t0c;
            float *mv = r->mv + (size_t)k * (size_t)nrows;
            double x = v * scale[c];
            if (r->adc) {
                int32_t *adc = r->adc + (size_t)k * (size_t)nrows;
                if (isnan(x)) {
                    adc[row] = -32768;
                    mv[row] = NAN;
                } else {
                    double q = x * meta->gain[k] + meta->baseline[k];
                    if (!(q > -1073741824.0 && q < 1073741824.0)) {
                        s = aiecg__error_set(err, AIECG_ERR_RANGE, "%s:%ld: column %d: value out of ADC range", name,
                                             line, c + 1);
                        goto done;
                    }
                    adc[row] = (int32_t)llround(q);
                    mv[row] = (float)(((double)adc[row] - (double)meta->baseline[k]) * (1.0 / meta->gain[k]));
                }
            } else {
                mv[row] = (float)x;
            }
        }
        row++;
    }
    /* sampling rate */
    double fs = 0;
    if (o.fs > 0) fs = o.fs;
    else if (meta->have_fs) fs = meta->fs;
    else if (times && nrows >= 2) {
        double span = times[nrows - 1] - times[0];
        if (!(span > 0)) {
            s = aiecg__error_set(err, AIECG_ERR_FORMAT, "%s: time column does not increase", name);
            goto done;
        }
        fs = aiecg__snap_sig((double)(nrows - 1) / span, 9);
        for (int64_t i = 0; i < nrows; i++)
            if (fabs(times[i] - times[0] - (double)i / fs) > 0.5 / fs) {
                s = aiecg__error_set(err, AIECG_ERR_FORMAT,
                                     "%s: data row %lld: time %.6g s is off the uniform %g Hz grid (give --fs to ignore the time column)",
                                     name, (long long)i + 1, times[i], fs);
                goto done;
            }
    }
    if (!(fs > 0)) {
        s = aiecg__error_set(err, AIECG_ERR_INVALID_ARG,
                             "%s: no sampling rate: add a time column or a '# fs=' line, or give --fs", name);
        goto done;
    }
    if (!(fs >= 1 && fs <= 100000)) {
        s = aiecg__error_set(err, AIECG_ERR_RANGE, "%s: sampling rate %g Hz outside 1..100000", name, fs);
        goto done;
    }
    r->fs = fs;
    for (int k = 0; k < nl; k++) {
        aiecg_lead_info li = {0};
        li.label = labels[k + t0c];
        li.units = meta->have_lead[k] && meta->units[k][0] ? meta->units[k] : units[k + t0c];
        if (r->adc) {
            li.gain = meta->gain[k];
            li.baseline = meta->baseline[k];
            li.adc_zero = meta->adc_zero[k];
            li.adc_resolution = meta->adc_res[k];
        }
        if ((s = aiecg_record_set_lead(r, k, &li))) {
            s = aiecg__error_set(err, s, "%s: out of memory", name);
            goto done;
        }
    }
    aiecg_record_meta_get(r, &rm);
    rm.format = "csv";
    rm.record_name = rname;
    rm.patient_id = pid;
    rm.device = device;
    rm.sex = sex;
    rm.age = age;
    if (has_start) {
        rm.has_start_time = 1;
        rm.year = Y, rm.month = M, rm.day = D, rm.hour = h, rm.minute = mi, rm.second = sec;
    }
    if ((s = aiecg_record_set_meta(r, &rm))) {
        s = aiecg__error_set(err, s, "%s: out of memory", name);
        goto done;
    }
    if (!o.skip_annotations) {
        for (size_t i = 0; i < nanns; i++) {
            aiecg_annotation an = {0};
            an.sample = anns[i].sample;
            aiecg__ann_from_text(d + anns[i].off, anns[i].n, scratch, &an);
            if ((s = aiecg_record_add_annotation(r, &an))) {
                s = aiecg__error_set(err, s, "%s: cannot store annotation", name);
                goto done;
            }
        }
    }
    if (o.derive_limb_leads && (s = aiecg_record_derive_limb_leads(r, NULL)))
        s = aiecg__error_set(err, s, "%s: cannot derive limb leads", name);
done:
    aiecg__free(meta);
    aiecg__free(scratch);
    aiecg__free(cells);
    aiecg__free(anns);
    aiecg__free(times);
    if (s) {
        aiecg_record_free(r);
        return s;
    }
    *out = r;
    return AIECG_OK;
}

aiecg_status aiecg__csv_read_path(const char *path, const aiecg_read_options *opt, aiecg_record **out,
                                  aiecg_error *err) {
    return aiecg__read_path_via_mem(path, aiecg__csv_read_mem, opt, out, err);
}

int aiecg__csv_probe(const uint8_t *head, size_t len, const char *path) {
    if (aiecg__path_has_ext(path, ".csv") || aiecg__path_has_ext(path, ".tsv")) return 60;
    if (len >= 12 && memcmp(head, "# aiecg-csv", 11) == 0) return 90;
    if (aiecg__path_has_ext(path, ".txt")) {
        /* text with separators and digits */
        size_t digits = 0, bad = 0;
        for (size_t i = 0; i < len; i++) {
            if (isdigit(head[i])) digits++;
            else if (head[i] < 9 || (head[i] > 13 && head[i] < 32)) bad++;
        }
        return !bad && digits > len / 4 ? 30 : 0;
    }
    return 0;
}

/* ---- writer ------------------------------------------------------------ */

static void put_quoted(aiecg__sbuf *b, const char *s) {
    int need = strpbrk(s, ",;\t\"\n\r") != NULL || !*s;
    if (!need) {
        aiecg__sbuf_puts(b, s);
        return;
    }
    aiecg__sbuf_append(b, "\"", 1);
    for (; *s; s++) {
        if (*s == '"') aiecg__sbuf_append(b, "\"\"", 2);
        else if (*s == '\n' || *s == '\r') aiecg__sbuf_append(b, " ", 1);
        else aiecg__sbuf_append(b, s, 1);
    }
    aiecg__sbuf_append(b, "\"", 1);
}

/* One-line comment value: control characters become spaces. */
static void put_comment_value(aiecg__sbuf *b, const char *s) {
    for (; s && *s; s++) aiecg__sbuf_append(b, (unsigned char)*s < 0x20 ? " " : s, 1);
}

static void put_double(aiecg__sbuf *b, double v) {
    char t[40];
    snprintf(t, sizeof t, "%.15g", v);
    if (strtod(t, NULL) != v) snprintf(t, sizeof t, "%.17g", v);
    aiecg__sbuf_puts(b, t);
}

aiecg_status aiecg__csv_write(const aiecg_record *rec, const char *path, const aiecg_write_options *opt,
                              aiecg_error *err) {
    (void)opt;
    const int nl = rec->nleads;
    const int64_t ns = rec->nsamples;
    aiecg__sbuf b;
    aiecg__sbuf_init(&b);
    aiecg__sbuf_puts(&b, "# aiecg-csv 1: values in mV; round(mV * gain + baseline) gives the ADC value\n# fs=");
    put_double(&b, rec->fs);
    aiecg__sbuf_puts(&b, "\n");
    const aiecg_record_meta *m = &rec->meta;
    if (m->record_name && *m->record_name) { aiecg__sbuf_puts(&b, "# record="); put_comment_value(&b, m->record_name); aiecg__sbuf_puts(&b, "\n"); }
    if (m->patient_id && *m->patient_id) { aiecg__sbuf_puts(&b, "# patient_id="); put_comment_value(&b, m->patient_id); aiecg__sbuf_puts(&b, "\n"); }
    if (m->device && *m->device) { aiecg__sbuf_puts(&b, "# device="); put_comment_value(&b, m->device); aiecg__sbuf_puts(&b, "\n"); }
    if (m->sex == 'M' || m->sex == 'F') aiecg__sbuf_printf(&b, "# sex=%c\n", m->sex);
    if (m->age >= 0) aiecg__sbuf_printf(&b, "# age=%d\n", m->age);
    if (m->has_start_time)
        aiecg__sbuf_printf(&b, "# start=%04d-%02d-%02dT%02d:%02d:%06.3f\n", m->year, m->month, m->day, m->hour, m->minute,
                           m->second);
    int dec[AIECG_MAX_LEADS];
    for (int k = 0; k < nl; k++) {
        const aiecg_lead_info *li = &rec->leads[k].info;
        dec[k] = -1;
        if (!rec->adc) continue;
        double g = li->gain > 0 ? li->gain : 200.0;
        aiecg__sbuf_printf(&b, "# lead=%d gain=", k + 1);
        put_double(&b, g);
        aiecg__sbuf_printf(&b, " baseline=%d adc_zero=%d adc_resolution=%d units=", (int)li->baseline, (int)li->adc_zero,
                           li->adc_resolution);
        put_comment_value(&b, li->units && *li->units ? li->units : "mV");
        aiecg__sbuf_puts(&b, "\n");
        int dd = (int)floor(log10(g)) + 1;
        dec[k] = dd < 1 ? 1 : dd > 12 ? 12 : dd;
    }
    for (int64_t i = 0; i < rec->nann; i++) {
        aiecg__sbuf_printf(&b, "#ann %lld ", (long long)rec->ann[i].sample);
        aiecg__ann_to_text(&b, &rec->ann[i]);
        aiecg__sbuf_puts(&b, "\n");
    }
    aiecg__sbuf_puts(&b, "time");
    for (int k = 0; k < nl; k++) {
        aiecg__sbuf_puts(&b, ",");
        const char *lab = rec->leads[k].info.label;
        char tmp[32];
        if (!lab || !*lab) {
            snprintf(tmp, sizeof tmp, "lead%d", k + 1);
            lab = tmp;
        }
        put_quoted(&b, lab);
    }
    aiecg__sbuf_puts(&b, "\n");
    FILE *f = fopen(path, "wb");
    if (!f) {
        aiecg__sbuf_free(&b);
        return aiecg__error_set(err, AIECG_ERR_IO, "%s: cannot create", path);
    }
    aiecg_status s = AIECG_OK;
    int tdec = rec->fs <= 1000 ? 6 : 8;
    for (int64_t i = 0; i < ns && !b.oom; i++) {
        char t[48];
        snprintf(t, sizeof t, "%.*f", tdec, (double)i / rec->fs);
        aiecg__sbuf_puts(&b, t);
        for (int k = 0; k < nl; k++) {
            aiecg__sbuf_puts(&b, ",");
            size_t at = (size_t)k * (size_t)ns + (size_t)i;
            if (rec->adc) {
                const aiecg_lead_info *li = &rec->leads[k].info;
                double g = li->gain > 0 ? li->gain : 200.0;
                int32_t a = rec->adc[at];
                double v = (double)(a - li->baseline) / g;
                snprintf(t, sizeof t, "%.*f", dec[k], v);
                if (llround(strtod(t, NULL) * g + li->baseline) != a) snprintf(t, sizeof t, "%.17g", v);
            } else if (isfinite(rec->mv[at])) {
                snprintf(t, sizeof t, "%.9g", (double)rec->mv[at]);
            } else {
                t[0] = '\0';
            }
            aiecg__sbuf_puts(&b, t);
        }
        aiecg__sbuf_puts(&b, "\n");
        if (b.len > (1u << 20)) {
            if (fwrite(b.data, 1, b.len, f) != b.len) s = AIECG_ERR_IO;
            b.len = 0;
        }
    }
    if (b.oom) s = aiecg__error_set(err, AIECG_ERR_NOMEM, "%s: out of memory", path);
    else if (s || fwrite(b.data, 1, b.len, f) != b.len) s = aiecg__error_set(err, AIECG_ERR_IO, "%s: write failed", path);
    if (fclose(f) != 0 && !s) s = aiecg__error_set(err, AIECG_ERR_IO, "%s: write failed", path);
    aiecg__sbuf_free(&b);
    return s;
}
