/*
 * Format dispatch: names, detection and the open/read/write entry points.
 * Detection asks every reader's probe for a 0..100 score on the first 4 KiB
 * and the path and takes the highest, so XML dialects that share ".xml"
 * (HL7 aECG, GE MUSE, Philips) are told apart by content.
 */
#include "io_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const struct {
    const char *name;
    aiecg__read_mem_fn read_mem;
    aiecg__read_path_fn read_path;
    aiecg__probe_fn probe;
    aiecg__write_fn write;
} formats[AIECG_FORMAT_COUNT] = {
    [AIECG_FORMAT_AUTO] = {"auto", NULL, NULL, NULL, NULL},
#define AIECG__WRITER_RW(id) aiecg__##id##_write
#define AIECG__WRITER_RO(id) NULL
#define AIECG__FMT_ROW(e, id, x, rw)                                                               \
    [AIECG_FORMAT_##e] = {#id, aiecg__##id##_read_mem, aiecg__##id##_read_path, aiecg__##id##_probe, \
                          AIECG__WRITER_##rw(id)},
    AIECG_FORMAT_LIST(AIECG__FMT_ROW)
#undef AIECG__FMT_ROW
};

const char *aiecg_format_name(aiecg_format f) {
    if ((int)f < 0 || f >= AIECG_FORMAT_COUNT) return "?";
    return formats[f].name;
}

aiecg_format aiecg_format_parse(const char *name) {
    if (!name) return AIECG_FORMAT_AUTO;
    for (int f = 1; f < AIECG_FORMAT_COUNT; f++)
        if (strcasecmp(name, formats[f].name) == 0) return (aiecg_format)f;
    if (strcasecmp(name, "edf+") == 0 || strcasecmp(name, "bdf") == 0) return AIECG_FORMAT_EDF;
    if (strcasecmp(name, "hea") == 0) return AIECG_FORMAT_WFDB;
    if (strcasecmp(name, "dcm") == 0) return AIECG_FORMAT_DICOM;
    return AIECG_FORMAT_AUTO;
}

aiecg_read_options aiecg_read_options_default(void) {
    aiecg_read_options o;
    memset(&o, 0, sizeof o);
    o.keep_adc = 1;
    return o;
}

aiecg_write_options aiecg_write_options_default(void) {
    aiecg_write_options o;
    memset(&o, 0, sizeof o);
    o.wfdb_format = 16;
    o.annotator = "atr";
    return o;
}

int aiecg__path_has_ext(const char *path, const char *ext) {
    if (!path || !ext) return 0;
    size_t n = strlen(path), k = strlen(ext);
    return n >= k && strcasecmp(path + n - k, ext) == 0;
}

aiecg_format aiecg_format_detect(const void *head, size_t len, const char *path) {
    int best = 0;
    aiecg_format which = AIECG_FORMAT_AUTO;
    for (int f = 1; f < AIECG_FORMAT_COUNT; f++) {
        int score = formats[f].probe((const uint8_t *)head, len, path);
        if (score > best) {
            best = score;
            which = (aiecg_format)f;
        }
    }
    return which;
}

aiecg_status aiecg__read_path_via_mem(const char *path, aiecg__read_mem_fn fn,
                                      const aiecg_read_options *opt, aiecg_record **out,
                                      aiecg_error *err) {
    uint8_t *data;
    size_t len;
    aiecg_status s = aiecg__read_file(path, AIECG__MAX_FILE_BYTES, &data, &len, err);
    if (s) return s;
    s = fn(data, len, path, opt, out, err);
    aiecg__free(data);
    return s;
}

/* WFDB records are named without extension: "mitdb/100" means "mitdb/100.hea". */
static int wfdb_header_exists(const char *path) {
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s.hea", path) >= (int)sizeof buf) return 0;
    FILE *f = fopen(buf, "rb");
    if (!f) return 0;
    fclose(f);
    return 1;
}

aiecg_status aiecg_record_open(const char *path, const aiecg_read_options *opt, aiecg_record **out,
                               aiecg_error *err) {
    if (out) *out = NULL;
    if (!path || !out) return aiecg__error_set(err, AIECG_ERR_INVALID_ARG, "no path given");
    aiecg_read_options o = opt ? *opt : aiecg_read_options_default();
    aiecg_format f = o.format;
    if (f == AIECG_FORMAT_AUTO) {
        FILE *fp = fopen(path, "rb");
        if (!fp) {
            if (wfdb_header_exists(path)) {
                f = AIECG_FORMAT_WFDB;
            } else {
                return aiecg__error_set(err, AIECG_ERR_IO, "%s: cannot open (no such file, and no %s.hea)",
                                        path, path);
            }
        } else {
            uint8_t head[4096];
            size_t n = fread(head, 1, sizeof head, fp);
            fclose(fp);
            f = aiecg_format_detect(head, n, path);
            if (f == AIECG_FORMAT_AUTO)
                return aiecg__error_set(err, AIECG_ERR_UNSUPPORTED,
                                        "%s: file format not recognised (give --format)", path);
        }
    }
    if (f <= AIECG_FORMAT_AUTO || f >= AIECG_FORMAT_COUNT)
        return aiecg__error_set(err, AIECG_ERR_INVALID_ARG, "invalid format %d", (int)f);
    return formats[f].read_path(path, &o, out, err);
}

aiecg_status aiecg_record_read_memory(const void *data, size_t len, const char *name,
                                      const aiecg_read_options *opt, aiecg_record **out,
                                      aiecg_error *err) {
    if (out) *out = NULL;
    if (!data || !out) return aiecg__error_set(err, AIECG_ERR_INVALID_ARG, "no buffer given");
    aiecg_read_options o = opt ? *opt : aiecg_read_options_default();
    aiecg_format f = o.format;
    if (f == AIECG_FORMAT_AUTO) f = aiecg_format_detect(data, len < 4096 ? len : 4096, name);
    if (f == AIECG_FORMAT_AUTO)
        return aiecg__error_set(err, AIECG_ERR_UNSUPPORTED, "%s: format not recognised",
                                name ? name : "<memory>");
    if (f < 0 || f >= AIECG_FORMAT_COUNT)
        return aiecg__error_set(err, AIECG_ERR_INVALID_ARG, "invalid format %d", (int)f);
    return formats[f].read_mem((const uint8_t *)data, len, name ? name : "<memory>", &o, out, err);
}

static aiecg_format format_from_ext(const char *path) {
    static const struct {
        const char *ext;
        aiecg_format f;
    } map[] = {{".hea", AIECG_FORMAT_WFDB}, {".dat", AIECG_FORMAT_WFDB}, {".edf", AIECG_FORMAT_EDF},
               {".csv", AIECG_FORMAT_CSV},  {".json", AIECG_FORMAT_JSON}, {".scp", AIECG_FORMAT_SCP},
               {".dcm", AIECG_FORMAT_DICOM}, {".ecg", AIECG_FORMAT_ISHNE}};
    for (size_t i = 0; i < AIECG__COUNTOF(map); i++)
        if (aiecg__path_has_ext(path, map[i].ext)) return map[i].f;
    return AIECG_FORMAT_AUTO;
}

aiecg_status aiecg_record_write(const aiecg_record *rec, const char *path,
                                const aiecg_write_options *opt, aiecg_error *err) {
    if (!rec || !path) return aiecg__error_set(err, AIECG_ERR_INVALID_ARG, "no record or path given");
    aiecg_write_options o = opt ? *opt : aiecg_write_options_default();
    aiecg_format f = o.format;
    if (f == AIECG_FORMAT_AUTO) f = format_from_ext(path);
    if (f == AIECG_FORMAT_AUTO)
        return aiecg__error_set(err, AIECG_ERR_INVALID_ARG,
                                "%s: cannot tell the output format from the extension (give --to)", path);
    if (f < 0 || f >= AIECG_FORMAT_COUNT)
        return aiecg__error_set(err, AIECG_ERR_INVALID_ARG, "invalid format %d", (int)f);
    if (!formats[f].write)
        return aiecg__error_set(err, AIECG_ERR_UNSUPPORTED,
                                "%s: writing %s is not supported (read-only format)", path, formats[f].name);
    return formats[f].write(rec, path, &o, err);
}
