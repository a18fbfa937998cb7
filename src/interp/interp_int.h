/*
 * Internals of the interpretation layer shared by the pipeline (analyze.c),
 * the statement catalogue (statements.c), the rules (rules.c), the result
 * object (result.c) and the renderers (report_*.c, fhir.c). interp uses io,
 * dsp and nn only through their public headers.
 */
#ifndef AIECG_INTERP_INT_H
#define AIECG_INTERP_INT_H

#include "aiecg/analyze.h"
#include "aiecg/io.h"
#include "aiecg/nn.h"
#include "core/core_int.h"
#include "core/sbuf.h"

/* ---- statement catalogue ------------------------------------------------ */
typedef struct aiecg__stmt_def {
    const char *code;    /* SCP-ECG acronym as in PTB-XL scp_statements.csv, or aiecg extension */
    const char *group;   /* see aiecg_statement.group */
    const char *snomed;  /* SNOMED CT id or NULL */
    const char *text;
    int ptbxl_kind;      /* bit 1 diagnostic, 2 form, 4 rhythm (PTB-XL); 0 = aiecg extension */
} aiecg__stmt_def;

/* Definition by code, NULL if the code is not in the catalogue. */
const aiecg__stmt_def *aiecg__stmt_find(const char *code);
int aiecg__stmt_count(void);
const aiecg__stmt_def *aiecg__stmt_at(int i);

/* ---- result object -------------------------------------------------------- */
typedef struct aiecg__stmt {
    aiecg_statement pub;
    char evidence[256];
} aiecg__stmt;

#define AIECG__MAX_STMTS 64

struct aiecg_result {
    /* record identity */
    char *source;
    char *record_name, *format, *patient_id, *device;
    int age;
    char sex;
    int has_start_time, year, month, day, hour, minute;
    double second;
    double fs;
    int nleads;
    int64_t nsamples;
    double duration_s;
    char lead_names[AIECG_MAX_LEADS][12];
    int lead_derived[AIECG_MAX_LEADS];

    aiecg_quality quality;
    char quality_notes[256];  /* pipeline-level findings ("no reliable QRS complexes") */
    aiecg_measurements meas;  /* NaN everywhere when not run */
    int meas_valid;
    aiecg_beat *beats;
    int64_t nbeats;
    aiecg_waves *waves;       /* nbeats entries or NULL */
    double beat_consistency;  /* median QRS-template correlation, NaN if < 3 beats */

    aiecg__stmt stmts[AIECG__MAX_STMTS];
    int nstmts;

    int nlabels;
    char **labels;            /* "stmt:NORM" ... */
    double *probs;            /* sigmoid probabilities, mean over windows */
    double *logits;           /* logits, mean over windows */
    double *thresholds;       /* per label, NaN when the model gave none */
    double *model_probs;      /* network probabilities before fusion (fusion.c); NULL: no fusion ran,
                                 probs are the network's own */
    char (*fusion_ev)[160];   /* per label: what the fusion changed ("" for labels it leaves alone) */
    int fusion_version;       /* "aiecg.fusion" version applied, 0 = none */
    char *model_name, *model_leads, *model_version, *model_backend;
    int nwindows;
    const char *aggregation;  /* "mean" */
    char model_note[160];     /* why no model ran, when none did */

    aiecg_timings t;
    aiecg_record *signal;     /* conditioned copy (baseline removed), NULL unless keep_signal */
};

aiecg_result *aiecg__result_new(void);
/* Adds (or merges into an existing statement of the same code) a statement. */
aiecg__stmt *aiecg__result_add_stmt(aiecg_result *r, const char *code, double p, double thr,
                                    aiecg_statement_source src, const char *evidence_fmt, ...)
    AIECG__PRINTF(6, 7);
aiecg__stmt *aiecg__result_find_stmt(aiecg_result *r, const char *code);
void aiecg__result_remove_stmt(aiecg_result *r, const char *code);

/* ---- fusion of model logits with measurements (fusion.c) ---------------------- */
typedef struct aiecg__fusion aiecg__fusion;
/*
 * Parses the "aiecg.fusion" metadata text (NULL text: *out = NULL, OK)
 * against the model's label names. Errors (AIECG_ERR_MODEL) name the key,
 * the line and the byte offset in the text.
 */
aiecg_status aiecg__fusion_parse(const char *text, const char *const *labels, int nlabels,
                                 aiecg__fusion **out, aiecg_error *err);
void aiecg__fusion_free(aiecg__fusion *fu);
int aiecg__fusion_nlabels(const aiecg__fusion *fu);
/* Feature vector of r (aiecg_fusion_nfeatures() values, NaN = not measurable). */
void aiecg__fusion_features(const aiecg_result *r, double *f);
/* Replaces r->probs of the fused labels (raw ones kept in r->model_probs). */
aiecg_status aiecg__fusion_apply(const aiecg__fusion *fu, aiecg_result *r);

/* ---- rules -------------------------------------------------------------- */
/* Turns probabilities, measurements and quality of r into r->stmts. */
void aiecg__interpret(aiecg_result *r);

/* ---- report drawing ------------------------------------------------------- */
/*
 * A tiny vector canvas so that the SVG and PDF reports share one layout.
 * Coordinates are millimetres from the top-left corner of the page.
 */
typedef struct aiecg__canvas aiecg__canvas;
typedef struct aiecg__canvas_ops {
    void (*line_style)(void *ctx, double width_mm, unsigned rgb);
    void (*polyline)(void *ctx, const double *xy, int npoints, const char *cls);
    void (*text)(void *ctx, double x, double y, double size_pt, int bold, const char *s,
                 const char *cls);
    void (*rect_fill)(void *ctx, double x, double y, double w, double h, unsigned rgb);
    void (*group)(void *ctx, const char *id, int begin);
} aiecg__canvas_ops;

/* Page size in mm for a paper. */
void aiecg__paper_size(aiecg_paper p, double *w_mm, double *h_mm);
/* Draws the whole report through ops. */
aiecg_status aiecg__report_draw(const aiecg_result *r, const aiecg_report_options *opt,
                                const aiecg__canvas_ops *ops, void *ctx, aiecg_error *err);

double aiecg__now_ms(void);
const char *aiecg__quality_verdict_name(aiecg_quality_verdict v);
/* Space-separated flag names ("hf_noise baseline") into buf. */
void aiecg__quality_flags_string(uint32_t flags, char *buf, size_t size);

#endif
