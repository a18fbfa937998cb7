/*
 * Internals of the WFDB reader/writer (PhysioNet WFDB: header(5), signal(5),
 * annot(5)). The header is parsed into a plain description first (no sample
 * is touched), every size is validated against the signal files' lengths,
 * and only then is the record allocated and decoded: a hostile header cannot
 * make the reader allocate more than its files justify.
 */
#ifndef AIECG_WFDB_INT_H
#define AIECG_WFDB_INT_H

#include "aiecg/wfdb.h"
#include "io_int.h"
#include "../core/sbuf.h"

#define AIECG__WFDB_MAX_SEGMENTS 100000
#define AIECG__WFDB_MAX_SPF 1024
#define AIECG__WFDB_MAX_LINE 4096

typedef struct aiecg__wfdb_signal {
    char *fname;            /* signal file name ("~" = null signal) */
    int fmt;                /* storage format: 8, 16, 24, 32, 61, 80, 160, 212, 310, 311, 508, 516, 524 */
    int spf;                /* samples per frame, >= 1 */
    int skew;               /* samples of this signal that precede sample 0, >= 0 */
    int64_t offset;         /* byte offset of the first sample in the file */
    double gain;            /* ADC units per physical unit; 0 when not given (200 is used) */
    int32_t baseline;       /* ADC value of 0 physical units */
    char *units;            /* physical units ("mV" when not given) */
    int adc_res;            /* bits; 0 when not given */
    int32_t adc_zero;
    int64_t init;           /* declared first sample */
    int init_given;
    int checksum;           /* declared 16-bit checksum */
    int checksum_given;
    int block_size;
    char *desc;             /* description ("" when not given) */
} aiecg__wfdb_signal;

typedef struct aiecg__wfdb_segment {
    char *name;             /* segment record name, "~" = null segment */
    int64_t nsamples;
} aiecg__wfdb_segment;

typedef struct aiecg__wfdb_header {
    char *name;
    int nseg;               /* 0: single-segment record */
    aiecg__wfdb_segment *seg;
    int nsig;
    aiecg__wfdb_signal *sig;
    double fs;              /* frames per second */
    double counter_freq;    /* 0 when not given */
    double base_counter;
    int64_t nsamples;       /* frames; -1 when not given */
    int has_time, has_date;
    int hour, minute, day, month, year;
    double second;
    int age;                /* -1 unknown */
    char sex;               /* 'M', 'F', 'U' */
    char *comments;         /* comment lines joined by '\n', without '#' */
} aiecg__wfdb_header;

/* Parses a header from memory. name is used in messages. */
aiecg_status aiecg__wfdb_header_parse(const char *text, size_t len, const char *name,
                                      aiecg__wfdb_header *h, aiecg_error *err);
void aiecg__wfdb_header_free(aiecg__wfdb_header *h);

/* Bits of a format's samples (0 for unknown formats) and its "invalid sample" value. */
int aiecg__wfdb_format_bits(int fmt);
int32_t aiecg__wfdb_invalid_value(int fmt);

/* Decodes an MIT-format annotation file from memory into rec (appending). */
aiecg_status aiecg__wfdb_annot_parse(const uint8_t *data, size_t len, const char *name,
                                     int64_t sample_scale, aiecg_record *rec, aiecg_error *err);

/* Encodes annotations (times divided by scale) as an MIT annotation file into b. */
aiecg_status aiecg__wfdb_annot_encode(const aiecg_annotation *ann, int64_t count, int64_t scale,
                                      aiecg__sbuf *b, aiecg_error *err);

/*
 * FLAC (formats 508/516/524): decodes at most nframes samples of `nchan`
 * channels into a new array *out [sample][channel] (caller frees), *got samples.
 */
aiecg_status aiecg__wfdb_flac_decode(const uint8_t *data, size_t len, const char *name, int nchan,
                                     int bits, int64_t nframes, int32_t **out, int64_t *got,
                                     aiecg_error *err);

#endif
