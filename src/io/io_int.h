/*
 * Internals of the io module: the record's layout and the per-format entry
 * points. Every reader is a pair of functions (from memory, from a path) plus
 * a probe; the dispatch table in formats.c is generated from
 * AIECG_FORMAT_LIST, so a format listed without its functions fails to link.
 */
#ifndef AIECG_IO_INT_H
#define AIECG_IO_INT_H

#include "aiecg/io.h"
#include "../core/core_int.h"

typedef struct aiecg__lead {
    aiecg_lead_info info;   /* string fields point into label/units below */
    char *label;
    char *units;
} aiecg__lead;

struct aiecg_record {
    double fs;
    int nleads;
    int64_t nsamples;
    float *mv;          /* [lead][sample], mV; nleads * nsamples */
    int32_t *adc;       /* [lead][sample] or NULL */
    aiecg__lead *leads; /* [nleads] */
    aiecg_record_meta meta; /* strings point to the owned copies below */
    char *s_record_name, *s_format, *s_patient_id, *s_device;
    aiecg_annotation *ann;  /* sorted by sample */
    int64_t nann, cap_ann;
    char **statements;
    int nstatements;
};

/*
 * Per-format functions. read_mem: parse a whole file from memory (name for
 * messages). read_path: from a file path (most formats read the file and
 * call read_mem). probe: 0..100 confidence from the first bytes and the path.
 * write: only for formats marked RW in AIECG_FORMAT_LIST (NULL in the table for RO ones).
 */
typedef aiecg_status (*aiecg__read_mem_fn)(const uint8_t *data, size_t len, const char *name,
                                           const aiecg_read_options *opt, aiecg_record **out,
                                           aiecg_error *err);
typedef aiecg_status (*aiecg__read_path_fn)(const char *path, const aiecg_read_options *opt,
                                            aiecg_record **out, aiecg_error *err);
typedef int (*aiecg__probe_fn)(const uint8_t *head, size_t len, const char *path);
typedef aiecg_status (*aiecg__write_fn)(const aiecg_record *rec, const char *path,
                                        const aiecg_write_options *opt, aiecg_error *err);

#define AIECG__DECLARE_WRITER_RW(id)                                                               \
    aiecg_status aiecg__##id##_write(const aiecg_record *rec, const char *path,                     \
                                    const aiecg_write_options *opt, aiecg_error *err);
#define AIECG__DECLARE_WRITER_RO(id)
#define AIECG__DECLARE_FORMAT(e, id, x, rw)                                                        \
    aiecg_status aiecg__##id##_read_mem(const uint8_t *data, size_t len, const char *name,          \
                                       const aiecg_read_options *opt, aiecg_record **out,          \
                                       aiecg_error *err);                                          \
    aiecg_status aiecg__##id##_read_path(const char *path, const aiecg_read_options *opt,           \
                                        aiecg_record **out, aiecg_error *err);                     \
    int aiecg__##id##_probe(const uint8_t *head, size_t len, const char *path);                     \
    AIECG__DECLARE_WRITER_##rw(id)
AIECG_FORMAT_LIST(AIECG__DECLARE_FORMAT)
#undef AIECG__DECLARE_FORMAT

/* Reads the file then calls read_mem; the common read_path for one-file formats. */
aiecg_status aiecg__read_path_via_mem(const char *path, aiecg__read_mem_fn fn,
                                      const aiecg_read_options *opt, aiecg_record **out,
                                      aiecg_error *err);
/* Default size limit for whole-file reads (bytes). */
#define AIECG__MAX_FILE_BYTES ((size_t)4 << 30)

/* Case-insensitive suffix test on a path ("x.HEA" has ".hea"). */
int aiecg__path_has_ext(const char *path, const char *ext);

#endif
