/*
 * The ECG record: 1 to 64 leads sampled at one runtime sampling rate, as float
 * millivolts plus (where the source had them) the original ADC values and the
 * gain/baseline that map one to the other; patient metadata; annotations.
 * Readers for every supported file format produce this object, writers consume
 * it, and dsp/interp read it through these accessors. A record is not
 * thread-safe for mutation; concurrent reads of an unchanging record are safe.
 */
#ifndef AIECG_RECORD_H
#define AIECG_RECORD_H

#include "aiecg/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Standard lead names. M(enum suffix, canonical name); the parameter is not X because X is a lead. */
#define AIECG_LEAD_LIST(M)                                                     \
    M(UNKNOWN, "?")                                                            \
    M(I, "I")                                                                  \
    M(II, "II")                                                                \
    M(III, "III")                                                              \
    M(AVR, "aVR")                                                              \
    M(AVL, "aVL")                                                              \
    M(AVF, "aVF")                                                              \
    M(V1, "V1")                                                                \
    M(V2, "V2")                                                                \
    M(V3, "V3")                                                                \
    M(V4, "V4")                                                                \
    M(V5, "V5")                                                                \
    M(V6, "V6")                                                                \
    M(X, "X")                                                                  \
    M(Y, "Y")                                                                  \
    M(Z, "Z")                                                                  \
    M(MLI, "MLI")                                                              \
    M(MLII, "MLII")                                                            \
    M(MLIII, "MLIII")                                                          \
    M(V3R, "V3R")                                                              \
    M(V4R, "V4R")                                                              \
    M(V5R, "V5R")                                                              \
    M(V7, "V7")                                                                \
    M(V8, "V8")                                                                \
    M(V9, "V9")

typedef enum aiecg_lead {
#define AIECG__LEAD_ENUM(e, s) AIECG_LEAD_##e,
    AIECG_LEAD_LIST(AIECG__LEAD_ENUM)
#undef AIECG__LEAD_ENUM
    AIECG_LEAD_COUNT
} aiecg_lead;

/* Canonical name ("aVR"); "?" for out-of-range values. */
AIECG_API const char *aiecg_lead_name(aiecg_lead lead);
/*
 * Parses a lead label as found in files: case-insensitive, tolerant of
 * prefixes and spellings seen in the wild ("Lead II", "AVR", "V1-V6" style
 * "V1", "ECG I", "MDC_ECG_LEAD_II"). Unknown labels give AIECG_LEAD_UNKNOWN.
 */
AIECG_API aiecg_lead aiecg_lead_parse(const char *label);

/* Checksum state of one signal, as the file's own metadata allows. */
typedef enum aiecg_checksum_state {
    AIECG_CHECKSUM_ABSENT = 0, /* the file carries no checksum for this signal */
    AIECG_CHECKSUM_OK = 1,
    AIECG_CHECKSUM_BAD = 2
} aiecg_checksum_state;

/* Description of one lead (signal). */
typedef struct aiecg_lead_info {
    const char *label;        /* label as written in the file, e.g. "MLII" */
    aiecg_lead lead;          /* parsed standard lead */
    double gain;              /* ADC units per physical unit (per mV after conversion); 0 if none */
    int32_t baseline;         /* ADC value that corresponds to 0 mV */
    int32_t adc_zero;         /* ADC value at the midpoint of the converter's range */
    int adc_resolution;       /* bits; 0 if unknown */
    const char *units;        /* physical units of the source, e.g. "mV", "uV" */
    int64_t initial_value;    /* first ADC sample as declared by the header (WFDB) */
    int checksum;             /* header checksum (16-bit), when present */
    aiecg_checksum_state checksum_state;
    int derived;              /* 1 if computed by aiecg (e.g. III = II - I), not read */
} aiecg_lead_info;

/* One annotation (WFDB semantics: code is the WFDB annotation code, 1 = NORMAL, ...). */
typedef struct aiecg_annotation {
    int64_t sample;       /* sample index at the record's sampling rate */
    int code;             /* WFDB anntyp (0..49); see aiecg_annotation_code_name */
    int subtype;          /* WFDB subtyp */
    int channel;          /* WFDB chan */
    int num;              /* WFDB num */
    const char *aux;      /* auxiliary text or NULL (e.g. "(AFIB" rhythm labels) */
} aiecg_annotation;

/* WFDB's mnemonic for an annotation code ("N", "V", "+", "(", ...). */
AIECG_API const char *aiecg_annotation_code_name(int code);
/* Inverse of the above; -1 when unknown. */
AIECG_API int aiecg_annotation_code_parse(const char *mnemonic);
/* 1 if the code is a beat annotation in the ANSI/AAMI EC57 sense (WFDB isqrs). */
AIECG_API int aiecg_annotation_is_beat(int code);

typedef struct aiecg_record aiecg_record;

/* Patient and acquisition metadata. Strings are owned by the record. */
typedef struct aiecg_record_meta {
    const char *record_name;  /* e.g. "100"; may be "" */
    const char *format;       /* reader that produced it: "wfdb", "edf", "scp", ... */
    const char *patient_id;   /* may be "" */
    int age;                  /* years; -1 unknown */
    char sex;                 /* 'M', 'F' or 'U' */
    int has_start_time;       /* 1 if the fields below are valid */
    int year, month, day, hour, minute; /* civil time of the first sample */
    double second;            /* including fraction */
    const char *device;       /* acquisition device text, may be "" */
} aiecg_record_meta;

/* ---- construction (for readers, streaming front-ends and embedders) ----- */

/*
 * Creates a record of nleads x nsamples zeroed float samples at fs Hz.
 * fs in [1, 100000], nleads in [1, AIECG_MAX_LEADS], nsamples >= 0 and
 * nleads*nsamples below AIECG_MAX_SAMPLES_TOTAL. with_adc allocates the
 * int32 ADC plane as well. Free with aiecg_record_free.
 */
#define AIECG_MAX_LEADS 64
#define AIECG_MAX_SAMPLES_TOTAL ((int64_t)1 << 31)
AIECG_API aiecg_status aiecg_record_new(int nleads, int64_t nsamples, double fs, int with_adc,
                                        aiecg_record **out, aiecg_error *err);
AIECG_API void aiecg_record_free(aiecg_record *rec);
/* Deep copy. */
AIECG_API aiecg_status aiecg_record_clone(const aiecg_record *rec, aiecg_record **out);
/* A new record holding only the leads at indices idx[0..n-1] of rec (in that order; an index may not repeat),
 * with rec's samples (mV and ADC), lead descriptions, metadata, annotations and statements. An index out of
 * range or repeated is AIECG_ERR_INVALID_ARG with err naming it. For reduced-lead tests of 12-lead data. */
AIECG_API aiecg_status aiecg_record_select_leads(const aiecg_record *rec, const int *idx, int n,
                                                 aiecg_record **out, aiecg_error *err);

/* Sets a lead's description; strings are copied. Does not touch samples. */
AIECG_API aiecg_status aiecg_record_set_lead(aiecg_record *rec, int index, const aiecg_lead_info *info);
/* Metadata setters: strings are copied; NULL leaves a field as it is. */
AIECG_API aiecg_status aiecg_record_set_meta(aiecg_record *rec, const aiecg_record_meta *meta);
/* Appends an annotation (aux copied). Keeps them sorted by sample (stable). */
AIECG_API aiecg_status aiecg_record_add_annotation(aiecg_record *rec, const aiecg_annotation *ann);
/* Removes all annotations. */
AIECG_API void aiecg_record_clear_annotations(aiecg_record *rec);
/* Appends an interpretive statement carried by the file (SCP section 8/11, MUSE, Philips). */
AIECG_API aiecg_status aiecg_record_add_statement(aiecg_record *rec, const char *text);

/* ---- access ------------------------------------------------------------- */
AIECG_API double aiecg_record_fs(const aiecg_record *rec);        /* Hz */
AIECG_API int aiecg_record_nleads(const aiecg_record *rec);
AIECG_API int64_t aiecg_record_nsamples(const aiecg_record *rec); /* per lead */
AIECG_API double aiecg_record_duration(const aiecg_record *rec);  /* seconds */
/* Samples of one lead, [sample], millivolts. Mutable variant for builders. */
AIECG_API const float *aiecg_record_lead_data(const aiecg_record *rec, int lead);
AIECG_API float *aiecg_record_lead_data_mut(aiecg_record *rec, int lead);
/* ADC plane of one lead [sample], or NULL when the record has none. */
AIECG_API const int32_t *aiecg_record_lead_adc(const aiecg_record *rec, int lead);
AIECG_API int32_t *aiecg_record_lead_adc_mut(aiecg_record *rec, int lead);
/* Lead description (pointers stay valid until the record changes or is freed). */
AIECG_API aiecg_status aiecg_record_lead_info(const aiecg_record *rec, int lead, aiecg_lead_info *out);
/* Index of the first lead that is `lead`, or -1. */
AIECG_API int aiecg_record_find_lead(const aiecg_record *rec, aiecg_lead lead);
AIECG_API void aiecg_record_meta_get(const aiecg_record *rec, aiecg_record_meta *out);
AIECG_API int64_t aiecg_record_nannotations(const aiecg_record *rec);
AIECG_API const aiecg_annotation *aiecg_record_annotations(const aiecg_record *rec);
AIECG_API int aiecg_record_nstatements(const aiecg_record *rec);
AIECG_API const char *aiecg_record_statement(const aiecg_record *rec, int i);

/* Recomputes mV from the ADC plane: mv = (adc - baseline) / gain (gain 0 -> 200 ADU/mV, as WFDB). */
AIECG_API aiecg_status aiecg_record_adc_to_mv(aiecg_record *rec);

/*
 * Adds the limb leads that are missing but derivable from I and II
 * (III = II - I, aVR = -(I+II)/2, aVL = I - II/2, aVF = II - I/2), marked
 * derived. No-op when I or II is absent. *added receives the count (may be NULL).
 */
AIECG_API aiecg_status aiecg_record_derive_limb_leads(aiecg_record *rec, int *added);
/* How many leads aiecg_record_derive_limb_leads would add to rec (0 when I or II is absent or none is missing). */
AIECG_API int aiecg_record_derivable_limb_leads(const aiecg_record *rec);

#ifdef __cplusplus
}
#endif
#endif
