/*
 * The interpretation pipeline: record -> signal quality -> conditioning ->
 * QRS detection, delineation, measurements -> neural model (on the 100 Hz
 * input the training contract in docs/training.md fixes) -> interpretation
 * statements from model probabilities and measurement rules -> one result
 * object, which renders itself as JSON (docs/result-schema.md, schema
 * "aiecg.result/1"), a plain-text report, an SVG or PDF 12-lead paper report
 * (25 mm/s, 10 mm/mV) and an HL7 FHIR R4 DiagnosticReport bundle.
 *
 * Thread-safety: an aiecg_analyzer (the loaded models) is immutable after
 * aiecg_analyzer_new and may be shared by any number of threads; it hands each
 * concurrent aiecg_analyze call its own inference session from an internal
 * pool. An aiecg_result is immutable after aiecg_analyze and may be read from
 * any thread.
 */
#ifndef AIECG_ANALYZE_H
#define AIECG_ANALYZE_H

#include "aiecg/dsp.h"
#include "aiecg/record.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AIECG_RESULT_SCHEMA "aiecg.result/1"
/* Minor revision within aiecg.result/1 (members added only): 1.1 added
   model_probabilities and fusion (docs/result-schema.md). */
#define AIECG_RESULT_SCHEMA_VERSION "1.1"

/* ---- analyzer: loaded models ------------------------------------------- */
typedef struct aiecg_analyzer aiecg_analyzer;

typedef struct aiecg_analyzer_options {
    /* Folder of *.aiem (or *.onnx) models. NULL: $AIECG_MODEL_DIR, else
       <install datadir>/aiecg/models, else the source tree's models/. */
    const char *models_dir;
    int require_model;     /* 1: fail with AIECG_ERR_NOT_FOUND when no model loads */
    int session_threads;   /* threads per inference session (0 = 1) */
    aiecg_logger logger;
} aiecg_analyzer_options;

AIECG_API aiecg_analyzer_options aiecg_analyzer_options_default(void);
/*
 * Loads every model of the models folder once. A folder without models is
 * not an error unless require_model is set: the analyzer then interprets by
 * rules alone. Free with aiecg_analyzer_free (NULL accepted).
 */
AIECG_API aiecg_status aiecg_analyzer_new(const aiecg_analyzer_options *opt, aiecg_analyzer **out,
                                          aiecg_error *err);
AIECG_API void aiecg_analyzer_free(aiecg_analyzer *a);
/* Number of loaded models, and the file name / input lead list of model i. */
AIECG_API int aiecg_analyzer_nmodels(const aiecg_analyzer *a);
AIECG_API const char *aiecg_analyzer_model_name(const aiecg_analyzer *a, int i);
AIECG_API const char *aiecg_analyzer_model_leads(const aiecg_analyzer *a, int i);
/* The folder the models were looked for in (never NULL). */
AIECG_API const char *aiecg_analyzer_models_dir(const aiecg_analyzer *a);

/* ---- analysis ----------------------------------------------------------- */
typedef struct aiecg_analyze_options {
    aiecg_analyzer *analyzer; /* borrowed; NULL = rules only, no model */
    int skip_model;           /* 1: do not run the model even if one fits */
    int keep_signal;          /* 1 (default): keep the conditioned signal for SVG/PDF/FHIR reports */
    double mains_hz;          /* 50 or 60 forces the notch; 0 = detect; -1 = no notch */
} aiecg_analyze_options;

AIECG_API aiecg_analyze_options aiecg_analyze_options_default(void);

typedef struct aiecg_result aiecg_result;

/*
 * Analyses one record. Records of 1 to 64 leads at any fs in [50, 2000] Hz
 * are accepted; shorter than 2.5 s, all-NaN, flat or noise-only records are
 * not an error: the result then carries quality findings and a "technically
 * limited" statement instead of interpretive ones. Longer records are
 * scored by the model in 10 s windows whose probabilities are averaged
 * (mean); measurements use the whole record. The record is not modified.
 * Fails only on invalid arguments, out of memory or an inference error.
 * Thread-safe when each caller passes its own record.
 */
AIECG_API aiecg_status aiecg_analyze(const aiecg_record *rec, const aiecg_analyze_options *opt,
                                     aiecg_result **out, aiecg_error *err);
AIECG_API void aiecg_result_free(aiecg_result *r);

/* Where a statement comes from. */
typedef enum aiecg_statement_source {
    AIECG_SOURCE_MODEL = 0,
    AIECG_SOURCE_RULE = 1,
    AIECG_SOURCE_MODEL_RULE = 2
} aiecg_statement_source;
AIECG_API const char *aiecg_statement_source_name(aiecg_statement_source s); /* "model", "rule", "model+rule" */

typedef struct aiecg_statement {
    const char *code;        /* SCP-ECG statement acronym as PTB-XL uses it ("1AVB", "CLBBB"),
                                or an aiecg extension ("LAD", "TECHLIM"): see docs/result-schema.md */
    const char *snomed;      /* SNOMED CT concept id, or NULL where none is known */
    const char *text;        /* English statement text */
    const char *group;       /* "rhythm", "conduction", "axis", "hypertrophy", "infarction",
                                "st-t", "form", "normal", "quality", "interval", "voltage" */
    double probability;      /* model probability 0..1, NaN for rule-only statements */
    double threshold;        /* model decision threshold, NaN for rule-only statements */
    aiecg_statement_source source;
    const char *evidence;    /* "PR 232 ms > 200 ms; p=0.91 >= 0.43"; owned by the result */
} aiecg_statement;

AIECG_API int aiecg_result_nstatements(const aiecg_result *r);
AIECG_API const aiecg_statement *aiecg_result_statement(const aiecg_result *r, int i);
/* 1 if the result carries the statement code. */
AIECG_API int aiecg_result_has_statement(const aiecg_result *r, const char *code);

AIECG_API const aiecg_quality *aiecg_result_quality(const aiecg_result *r);
AIECG_API const aiecg_measurements *aiecg_result_measurements(const aiecg_result *r);
AIECG_API int64_t aiecg_result_nbeats(const aiecg_result *r);
AIECG_API const aiecg_beat *aiecg_result_beats(const aiecg_result *r);

/* Raw model outputs: nlabels labels ("stmt:NORM", "super:CD", ...) and sigmoid probabilities. */
AIECG_API int aiecg_result_nlabels(const aiecg_result *r);
AIECG_API const char *aiecg_result_label(const aiecg_result *r, int i);
AIECG_API double aiecg_result_label_probability(const aiecg_result *r, int i);
/* Model logit of label i, mean over windows (for comparison with the training framework). */
AIECG_API double aiecg_result_label_logit(const aiecg_result *r, int i);
/* Decision threshold of label i from the model metadata (NaN when the model gives none). */
AIECG_API double aiecg_result_label_threshold(const aiecg_result *r, int i);
/* Probability of a label by name ("stmt:AFIB" or bare "AFIB" = the stmt label); NaN if absent. */
AIECG_API double aiecg_result_probability(const aiecg_result *r, const char *label);
/* File name of the model used, or NULL when none ran. */
AIECG_API const char *aiecg_result_model(const aiecg_result *r);
/* Number of 10 s model windows that were averaged. */
AIECG_API int aiecg_result_nwindows(const aiecg_result *r);
/*
 * Fusion (src/interp/fusion.c): when the model carries "aiecg.fusion"
 * metadata, aiecg_result_label_probability gives the fused probability of
 * the labels it names; this gives the network's own probability of label i
 * (equal to aiecg_result_label_probability when no fusion ran).
 */
AIECG_API double aiecg_result_model_probability(const aiecg_result *r, int i);
/* 1 when fusion changed label i's probability. */
AIECG_API int aiecg_result_label_fused(const aiecg_result *r, int i);
/* The fixed fusion feature vector: count, names ("rr_ac1") and one-line meanings. */
AIECG_API int aiecg_fusion_nfeatures(void);
AIECG_API const char *aiecg_fusion_feature_name(int i);
AIECG_API const char *aiecg_fusion_feature_meaning(int i);
/* Writes the feature vector of r to out[0..aiecg_fusion_nfeatures()) (NaN = not measurable). */
AIECG_API aiecg_status aiecg_result_features(const aiecg_result *r, double *out, int n);

/* Timing of the pipeline stages, milliseconds. */
typedef struct aiecg_timings {
    double read_ms;      /* set by the caller (aiecg_result_set_read_ms); 0 otherwise */
    double quality_ms, dsp_ms, model_ms, interp_ms, total_ms;
} aiecg_timings;
AIECG_API aiecg_timings aiecg_result_timings(const aiecg_result *r);
AIECG_API void aiecg_result_set_read_ms(aiecg_result *r, double ms);
/* Sets the source path echoed in reports (copied). */
AIECG_API aiecg_status aiecg_result_set_source(aiecg_result *r, const char *path);

/* ---- renderings (each allocates *out; free with aiecg_free) -------------- */
enum {
    AIECG_JSON_PRETTY = 1u << 0,   /* indented, one member per line */
    AIECG_JSON_NO_BEATS = 1u << 1, /* omit the beat list */
    AIECG_JSON_NO_TIMINGS = 1u << 2 /* omit timings (for golden files) */
};
AIECG_API aiecg_status aiecg_result_json(const aiecg_result *r, unsigned flags, char **out);
/* Plain-text report for terminals: record, quality, measurement table, statements with evidence. */
AIECG_API aiecg_status aiecg_result_text(const aiecg_result *r, char **out);

typedef enum aiecg_paper { AIECG_PAPER_A4 = 0, AIECG_PAPER_LETTER = 1 } aiecg_paper;
typedef struct aiecg_report_options {
    aiecg_paper paper;
    int beat_marks;      /* 1: mark detected beats on the rhythm strip */
    int fiducial_marks;  /* 1: mark P/QRS/T onsets and ends on the rhythm strip */
} aiecg_report_options;
AIECG_API aiecg_report_options aiecg_report_options_default(void);
/* 12-lead paper report (3 x 4 panels of 2.5 s + 10 s lead II rhythm strip). Needs keep_signal. */
AIECG_API aiecg_status aiecg_result_svg(const aiecg_result *r, const aiecg_report_options *opt,
                                        char **out, aiecg_error *err);
/* The same layout as a PDF 1.4 document (*len bytes; binary-safe). */
AIECG_API aiecg_status aiecg_result_pdf(const aiecg_result *r, const aiecg_report_options *opt,
                                        char **out, size_t *len, aiecg_error *err);
/* HL7 FHIR R4 Bundle (collection): DiagnosticReport + Observations (LOINC) + waveform SampledData. */
AIECG_API aiecg_status aiecg_result_fhir(const aiecg_result *r, char **out, aiecg_error *err);

#ifdef __cplusplus
}
#endif
#endif
