/*
 * Reading and writing ECG files. Each reader validates every header field and
 * size before it allocates, and fails with a message naming the file, the
 * field and the byte offset (or line). Readers know nothing of dsp or nn.
 */
#ifndef AIECG_IO_H
#define AIECG_IO_H

#include "aiecg/record.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * X(enum suffix, name, typical extensions, RW | RO). AIECG_FORMAT_AUTO (0) precedes the list.
 * RO formats have no writer: aiecg_record_write reports them as unsupported.
 */
#define AIECG_FORMAT_LIST(X)                                                   \
    X(WFDB, wfdb, ".hea", RW)                                                  \
    X(EDF, edf, ".edf .bdf", RW)                                               \
    X(AECG, aecg, ".xml", RO)                                                  \
    X(SCP, scp, ".scp", RO)                                                    \
    X(DICOM, dicom, ".dcm", RO)                                                \
    X(MUSE, muse, ".xml", RO)                                                  \
    X(PHILIPS, philips, ".xml", RO)                                            \
    X(ISHNE, ishne, ".ecg", RO)                                                \
    X(CSV, csv, ".csv .txt", RW)                                               \
    X(JSON, json, ".json", RW)

typedef enum aiecg_format {
    AIECG_FORMAT_AUTO = 0,
#define AIECG__FMT_ENUM(e, id, x, rw) AIECG_FORMAT_##e,
    AIECG_FORMAT_LIST(AIECG__FMT_ENUM)
#undef AIECG__FMT_ENUM
    AIECG_FORMAT_COUNT
} aiecg_format;

AIECG_API const char *aiecg_format_name(aiecg_format f);
/* "wfdb" -> AIECG_FORMAT_WFDB; AIECG_FORMAT_AUTO when unknown. */
AIECG_API aiecg_format aiecg_format_parse(const char *name);

typedef struct aiecg_read_options {
    aiecg_format format;      /* AUTO: from content and extension */
    double fs;                /* Hz, for formats that do not state it (CSV without a time column); 0 = none */
    int skip_annotations;     /* 1: do not look for annotation files */
    const char *annotator;    /* WFDB annotator extension to read, e.g. "atr"; NULL = "atr" if present */
    int keep_adc;             /* 1: keep the ADC plane (default readers keep it when the format has one) */
    int derive_limb_leads;    /* 1: add III/aVR/aVL/aVF from I and II when missing */
    int64_t max_samples;      /* per-lead cap; 0 = library default (AIECG_MAX_SAMPLES_TOTAL / nleads) */
    aiecg_logger logger;
} aiecg_read_options;

/* Zeroed options with format AUTO. */
AIECG_API aiecg_read_options aiecg_read_options_default(void);

/*
 * Opens a record from a path. For WFDB give the header path ("100.hea") or
 * the record path without extension ("data/100"). opt may be NULL.
 * On success *out owns a new record (free with aiecg_record_free).
 */
AIECG_API aiecg_status aiecg_record_open(const char *path, const aiecg_read_options *opt,
                                         aiecg_record **out, aiecg_error *err);
/*
 * Reads a record from one memory buffer. `name` is used in messages (may be
 * NULL). WFDB from memory needs the header and its signal files: see
 * aiecg_wfdb_read_memory in wfdb.h.
 */
AIECG_API aiecg_status aiecg_record_read_memory(const void *data, size_t len, const char *name,
                                                const aiecg_read_options *opt, aiecg_record **out,
                                                aiecg_error *err);

/* Detects a format from the first bytes and/or the file name; AUTO if none fits. */
AIECG_API aiecg_format aiecg_format_detect(const void *head, size_t len, const char *path);

typedef struct aiecg_write_options {
    aiecg_format format;      /* AUTO: from the extension of path */
    int wfdb_format;          /* WFDB storage format: 16 (default) or 212 */
    const char *annotator;    /* WFDB annotation extension to write, default "atr"; "" = none */
    aiecg_logger logger;
} aiecg_write_options;

AIECG_API aiecg_write_options aiecg_write_options_default(void);

/*
 * Writes a record. WFDB: path is the header path or record base path; the .dat
 * (and annotation file, if the record has annotations) go beside it.
 * EDF+: annotations go to an "EDF Annotations" signal. CSV: a header row of
 * lead names, one row per sample, millivolts. JSON: see docs/.
 */
AIECG_API aiecg_status aiecg_record_write(const aiecg_record *rec, const char *path,
                                          const aiecg_write_options *opt, aiecg_error *err);

/*
 * Describes a record as JSON (what `aiecg info` prints): format, record name,
 * fs (Hz), nsamples, duration_s, leads [{label, lead, units, gain (ADU/mV),
 * baseline, adc_resolution, adc_zero, checksum_state}], metadata (patient_id,
 * age, sex, start_time ISO 8601 or null), annotations {total, beats,
 * by_code {mnemonic: count}}, checksums "verified" | "mismatch" | "absent"
 * (mismatch if any lead is BAD, verified if every lead with a checksum is OK).
 * *json is NUL-terminated, owned by the caller (free with aiecg_free).
 * Thread-safe for a record no one mutates.
 */
AIECG_API aiecg_status aiecg_record_info_json(const aiecg_record *rec, char **json);

#ifdef __cplusplus
}
#endif
#endif
