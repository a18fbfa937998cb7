/*
 * The result object of one analysis and its JSON rendering. The JSON layout
 * is the versioned contract documented in docs/result-schema.md (schema
 * "aiecg.result/1"): additions keep the version, renames or removals bump it.
 * Every measurement is {value, unit} or {value: null, unit, reason}; numbers
 * that are not finite are written as null, never as NaN.
 */
#include "interp_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

double aiecg__now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

aiecg_result *aiecg__result_new(void) {
    aiecg_result *r = aiecg__calloc(1, sizeof *r);
    if (!r) return NULL;
    for (int m = 0; m < AIECG_MEAS_COUNT; m++) {
        r->meas.value[m] = NAN;
        r->meas.reason[m] = "not computed";
    }
    r->sex = 'U';
    r->age = -1;
    r->aggregation = "mean";
    r->beat_consistency = NAN;
    return r;
}

void aiecg_result_free(aiecg_result *r) {
    if (!r) return;
    aiecg__free(r->source);
    aiecg__free(r->record_name);
    aiecg__free(r->format);
    aiecg__free(r->patient_id);
    aiecg__free(r->device);
    if (r->meas_valid) aiecg_measurements_free(&r->meas);
    aiecg_free(r->beats);
    aiecg_free(r->waves);
    for (int i = 0; i < r->nlabels; i++) aiecg__free(r->labels ? r->labels[i] : NULL);
    aiecg__free(r->labels);
    aiecg__free(r->probs);
    aiecg__free(r->logits);
    aiecg__free(r->thresholds);
    aiecg__free(r->model_probs);
    aiecg__free(r->fusion_ev);
    aiecg__free(r->model_name);
    aiecg__free(r->model_leads);
    aiecg__free(r->model_version);
    aiecg__free(r->model_backend);
    aiecg_record_free(r->signal);
    aiecg__free(r);
}

aiecg__stmt *aiecg__result_find_stmt(aiecg_result *r, const char *code) {
    for (int i = 0; i < r->nstmts; i++)
        if (strcmp(r->stmts[i].pub.code, code) == 0) return &r->stmts[i];
    return NULL;
}

void aiecg__result_remove_stmt(aiecg_result *r, const char *code) {
    for (int i = 0; i < r->nstmts; i++)
        if (strcmp(r->stmts[i].pub.code, code) == 0) {
            memmove(&r->stmts[i], &r->stmts[i + 1], (size_t)(r->nstmts - i - 1) * sizeof r->stmts[0]);
            r->nstmts--;
            /* evidence pointers point into the moved structs */
            for (int k = 0; k < r->nstmts; k++) r->stmts[k].pub.evidence = r->stmts[k].evidence;
            return;
        }
}

aiecg__stmt *aiecg__result_add_stmt(aiecg_result *r, const char *code, double p, double thr,
                                    aiecg_statement_source src, const char *fmt, ...) {
    const aiecg__stmt_def *def = aiecg__stmt_find(code);
    if (!def) return NULL;
    char ev[256] = "";
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ev, sizeof ev, fmt, ap);
        va_end(ap);
    }
    aiecg__stmt *s = aiecg__result_find_stmt(r, code);
    if (s) {
        /* merge: model and rule agree */
        if (s->pub.source != src) s->pub.source = AIECG_SOURCE_MODEL_RULE;
        if (isnan(s->pub.probability) && !isnan(p)) {
            s->pub.probability = p;
            s->pub.threshold = thr;
        }
        if (ev[0]) {
            size_t n = strlen(s->evidence);
            snprintf(s->evidence + n, sizeof s->evidence - n, "%s%s", n ? "; " : "", ev);
        }
        return s;
    }
    if (r->nstmts >= AIECG__MAX_STMTS) return NULL;
    s = &r->stmts[r->nstmts++];
    memset(s, 0, sizeof *s);
    s->pub.code = def->code;
    s->pub.snomed = def->snomed;
    s->pub.text = def->text;
    s->pub.group = def->group;
    s->pub.probability = p;
    s->pub.threshold = thr;
    s->pub.source = src;
    snprintf(s->evidence, sizeof s->evidence, "%s", ev);
    s->pub.evidence = s->evidence;
    return s;
}

/* ---- accessors -------------------------------------------------------------- */
int aiecg_result_nstatements(const aiecg_result *r) { return r ? r->nstmts : 0; }
const aiecg_statement *aiecg_result_statement(const aiecg_result *r, int i) {
    return r && i >= 0 && i < r->nstmts ? &r->stmts[i].pub : NULL;
}
int aiecg_result_has_statement(const aiecg_result *r, const char *code) {
    if (!r || !code) return 0;
    for (int i = 0; i < r->nstmts; i++)
        if (strcmp(r->stmts[i].pub.code, code) == 0) return 1;
    return 0;
}
const aiecg_quality *aiecg_result_quality(const aiecg_result *r) { return r ? &r->quality : NULL; }
const aiecg_measurements *aiecg_result_measurements(const aiecg_result *r) { return r ? &r->meas : NULL; }
int64_t aiecg_result_nbeats(const aiecg_result *r) { return r ? r->nbeats : 0; }
const aiecg_beat *aiecg_result_beats(const aiecg_result *r) { return r ? r->beats : NULL; }
int aiecg_result_nlabels(const aiecg_result *r) { return r ? r->nlabels : 0; }
const char *aiecg_result_label(const aiecg_result *r, int i) {
    return r && i >= 0 && i < r->nlabels ? r->labels[i] : NULL;
}
double aiecg_result_label_probability(const aiecg_result *r, int i) {
    return r && i >= 0 && i < r->nlabels ? r->probs[i] : NAN;
}
double aiecg_result_model_probability(const aiecg_result *r, int i) {
    if (!r || i < 0 || i >= r->nlabels) return NAN;
    return r->model_probs ? r->model_probs[i] : r->probs[i];
}
int aiecg_result_label_fused(const aiecg_result *r, int i) {
    return r && i >= 0 && i < r->nlabels && r->fusion_ev && r->fusion_ev[i][0];
}
double aiecg_result_label_logit(const aiecg_result *r, int i) {
    return r && i >= 0 && i < r->nlabels && r->logits ? r->logits[i] : NAN;
}
double aiecg_result_label_threshold(const aiecg_result *r, int i) {
    return r && i >= 0 && i < r->nlabels && r->thresholds ? r->thresholds[i] : NAN;
}
double aiecg_result_probability(const aiecg_result *r, const char *label) {
    if (!r || !label) return NAN;
    for (int i = 0; i < r->nlabels; i++) {
        const char *l = r->labels[i];
        if (strcmp(l, label) == 0) return r->probs[i];
        if (!strchr(label, ':') && strncmp(l, "stmt:", 5) == 0 && strcmp(l + 5, label) == 0)
            return r->probs[i];
    }
    return NAN;
}
const char *aiecg_result_model(const aiecg_result *r) { return r ? r->model_name : NULL; }
int aiecg_result_nwindows(const aiecg_result *r) { return r ? r->nwindows : 0; }
aiecg_timings aiecg_result_timings(const aiecg_result *r) {
    aiecg_timings t = {0};
    return r ? r->t : t;
}
void aiecg_result_set_read_ms(aiecg_result *r, double ms) {
    if (r) r->t.read_ms = ms;
}
aiecg_status aiecg_result_set_source(aiecg_result *r, const char *path) {
    if (!r) return AIECG_ERR_INVALID_ARG;
    char *d = path ? aiecg__strdup(path) : NULL;
    if (path && !d) return AIECG_ERR_NOMEM;
    aiecg__free(r->source);
    r->source = d;
    return AIECG_OK;
}

/* ---- JSON ------------------------------------------------------------------ */
static const char *verdict_name(aiecg_quality_verdict v) {
    switch (v) {
    case AIECG_QUALITY_GOOD: return "good";
    case AIECG_QUALITY_ACCEPTABLE: return "acceptable";
    case AIECG_QUALITY_POOR: return "poor";
    case AIECG_QUALITY_UNUSABLE: return "unusable";
    }
    return "unknown";
}

static const struct {
    uint32_t bit;
    const char *name;
} quality_flags[] = {
    {AIECG_QUALITY_FLAT, "flat"},           {AIECG_QUALITY_CLIPPED, "clipped"},
    {AIECG_QUALITY_LEAD_OFF, "lead_off"},   {AIECG_QUALITY_HF_NOISE, "hf_noise"},
    {AIECG_QUALITY_BASELINE, "baseline"},   {AIECG_QUALITY_POWERLINE, "powerline"},
    {AIECG_QUALITY_NONFINITE, "nonfinite"}, {AIECG_QUALITY_TOO_SHORT, "too_short"},
};

const char *aiecg__quality_verdict_name(aiecg_quality_verdict v) { return verdict_name(v); }

void aiecg__quality_flags_string(uint32_t flags, char *buf, size_t size) {
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < AIECG__COUNTOF(quality_flags); i++)
        if (flags & quality_flags[i].bit) {
            int k = snprintf(buf + n, size - n, "%s%s", n ? " " : "", quality_flags[i].name);
            if (k < 0 || (size_t)k >= size - n) break;
            n += (size_t)k;
        }
}

static void jw_flags(aiecg__jw *w, uint32_t flags) {
    aiecg__jw_arr_begin(w);
    for (size_t i = 0; i < AIECG__COUNTOF(quality_flags); i++)
        if (flags & quality_flags[i].bit) aiecg__jw_str(w, quality_flags[i].name);
    aiecg__jw_arr_end(w);
}

static void jw_kv_str(aiecg__jw *w, const char *k, const char *v) {
    aiecg__jw_key(w, k);
    aiecg__jw_str(w, v);
}
static void jw_kv_num(aiecg__jw *w, const char *k, double v, int dec) {
    aiecg__jw_key(w, k);
    if (isfinite(v))
        aiecg__jw_numf(w, v, dec);
    else
        aiecg__jw_null(w);
}

aiecg_status aiecg_result_json(const aiecg_result *r, unsigned flags, char **out) {
    if (!r || !out) return AIECG_ERR_INVALID_ARG;
    *out = NULL;
    aiecg__sbuf b;
    aiecg__sbuf_init(&b);
    aiecg__jw w;
    aiecg__jw_init(&w, &b, (flags & AIECG_JSON_PRETTY) != 0);
    aiecg__jw_obj_begin(&w);
    jw_kv_str(&w, "schema", AIECG_RESULT_SCHEMA);
    jw_kv_str(&w, "schema_version", AIECG_RESULT_SCHEMA_VERSION);
    jw_kv_str(&w, "aiecg_version", aiecg_version());
    jw_kv_str(&w, "source", r->source);

    /* record */
    aiecg__jw_key(&w, "record");
    aiecg__jw_obj_begin(&w);
    jw_kv_str(&w, "name", r->record_name);
    jw_kv_str(&w, "format", r->format);
    jw_kv_num(&w, "fs_hz", r->fs, 3);
    aiecg__jw_key(&w, "nleads");
    aiecg__jw_int(&w, r->nleads);
    aiecg__jw_key(&w, "nsamples");
    aiecg__jw_int(&w, r->nsamples);
    jw_kv_num(&w, "duration_s", r->duration_s, 3);
    aiecg__jw_key(&w, "leads");
    aiecg__jw_arr_begin(&w);
    for (int l = 0; l < r->nleads; l++) aiecg__jw_str(&w, r->lead_names[l]);
    aiecg__jw_arr_end(&w);
    aiecg__jw_key(&w, "patient");
    aiecg__jw_obj_begin(&w);
    jw_kv_str(&w, "id", r->patient_id && r->patient_id[0] ? r->patient_id : NULL);
    aiecg__jw_key(&w, "age");
    if (r->age >= 0)
        aiecg__jw_int(&w, r->age);
    else
        aiecg__jw_null(&w);
    char sx[2] = {r->sex, 0};
    jw_kv_str(&w, "sex", r->sex == 'M' || r->sex == 'F' ? sx : NULL);
    aiecg__jw_obj_end(&w);
    aiecg__jw_key(&w, "start_time");
    if (r->has_start_time) {
        char ts[40];
        snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d", r->year, r->month, r->day, r->hour,
                 r->minute, (int)r->second);
        aiecg__jw_str(&w, ts);
    } else {
        aiecg__jw_null(&w);
    }
    jw_kv_str(&w, "device", r->device && r->device[0] ? r->device : NULL);
    aiecg__jw_obj_end(&w);

    /* quality */
    aiecg__jw_key(&w, "quality");
    aiecg__jw_obj_begin(&w);
    jw_kv_str(&w, "verdict", verdict_name(r->quality.verdict));
    aiecg__jw_key(&w, "flags");
    jw_flags(&w, r->quality.flags);
    jw_kv_str(&w, "limb_reversal",
              r->quality.limb_reversal_suspected ? (r->quality.limb_reversal ? r->quality.limb_reversal
                                                                             : "suspected")
                                                 : NULL);
    jw_kv_num(&w, "beat_consistency", r->beat_consistency, 3);
    jw_kv_str(&w, "notes", r->quality_notes[0] ? r->quality_notes : NULL);
    aiecg__jw_key(&w, "leads");
    aiecg__jw_arr_begin(&w);
    for (int l = 0; l < r->quality.nleads && l < r->nleads; l++) {
        const aiecg_lead_quality *q = &r->quality.lead[l];
        aiecg__jw_obj_begin(&w);
        jw_kv_str(&w, "lead", r->lead_names[l]);
        jw_kv_str(&w, "verdict", verdict_name(q->verdict));
        aiecg__jw_key(&w, "flags");
        jw_flags(&w, q->flags);
        jw_kv_num(&w, "noise_mv", q->noise_mv, 4);
        jw_kv_num(&w, "snr_db", q->snr_db, 1);
        aiecg__jw_obj_end(&w);
    }
    aiecg__jw_arr_end(&w);
    aiecg__jw_obj_end(&w);

    /* measurements */
    aiecg__jw_key(&w, "measurements");
    aiecg__jw_obj_begin(&w);
    for (int m = 0; m < AIECG_MEAS_COUNT; m++) {
        aiecg__jw_key(&w, aiecg_measurement_key((aiecg_measurement)m));
        aiecg__jw_obj_begin(&w);
        const char *unit = aiecg_measurement_unit((aiecg_measurement)m);
        double v = r->meas.value[m];
        jw_kv_num(&w, "value", v, strcmp(unit, "mV") == 0 ? 3 : 1);
        jw_kv_str(&w, "unit", unit);
        if (!isfinite(v)) jw_kv_str(&w, "reason", r->meas.reason[m] ? r->meas.reason[m] : "not measurable");
        aiecg__jw_obj_end(&w);
    }
    aiecg__jw_key(&w, "beats_used");
    aiecg__jw_int(&w, r->meas.nbeats);
    aiecg__jw_obj_end(&w);

    /* per-lead amplitudes on the representative beat */
    aiecg__jw_key(&w, "amplitudes_mv");
    aiecg__jw_obj_begin(&w);
    if (r->meas_valid)
        for (int l = 0; l < r->meas.nleads && l < r->nleads; l++) {
            const aiecg_lead_amplitudes *a = &r->meas.lead[l];
            aiecg__jw_key(&w, r->lead_names[l]);
            aiecg__jw_obj_begin(&w);
            jw_kv_num(&w, "p", a->p, 3);
            jw_kv_num(&w, "q", a->q, 3);
            jw_kv_num(&w, "r", a->r, 3);
            jw_kv_num(&w, "s", a->s, 3);
            jw_kv_num(&w, "rprime", a->rprime, 3);
            jw_kv_num(&w, "t", a->t, 3);
            jw_kv_num(&w, "st_j", a->st_j, 3);
            jw_kv_num(&w, "st_j60", a->st_j60, 3);
            aiecg__jw_obj_end(&w);
        }
    aiecg__jw_obj_end(&w);

    /* beats */
    aiecg__jw_key(&w, "beats");
    aiecg__jw_obj_begin(&w);
    aiecg__jw_key(&w, "count");
    aiecg__jw_int(&w, r->nbeats);
    if (!(flags & AIECG_JSON_NO_BEATS)) {
        aiecg__jw_key(&w, "items");
        aiecg__jw_arr_begin(&w);
        for (int64_t i = 0; i < r->nbeats; i++) {
            aiecg__jw_obj_begin(&w);
            aiecg__jw_key(&w, "sample");
            aiecg__jw_int(&w, r->beats[i].sample);
            jw_kv_num(&w, "time_s", (double)r->beats[i].sample / r->fs, 3);
            char lb[2] = {r->beats[i].label ? r->beats[i].label : 'Q', 0};
            jw_kv_str(&w, "label", lb);
            aiecg__jw_key(&w, "family");
            aiecg__jw_int(&w, r->beats[i].family);
            jw_kv_num(&w, "width_ms", r->beats[i].width_ms, 0);
            aiecg__jw_obj_end(&w);
        }
        aiecg__jw_arr_end(&w);
    }
    aiecg__jw_obj_end(&w);

    /* statements */
    aiecg__jw_key(&w, "statements");
    aiecg__jw_arr_begin(&w);
    for (int i = 0; i < r->nstmts; i++) {
        const aiecg_statement *s = &r->stmts[i].pub;
        aiecg__jw_obj_begin(&w);
        jw_kv_str(&w, "code", s->code);
        jw_kv_str(&w, "snomed", s->snomed);
        jw_kv_str(&w, "text", s->text);
        jw_kv_str(&w, "group", s->group);
        jw_kv_num(&w, "probability", s->probability, 4);
        jw_kv_num(&w, "threshold", s->threshold, 4);
        jw_kv_str(&w, "source", aiecg_statement_source_name(s->source));
        jw_kv_str(&w, "evidence", s->evidence);
        aiecg__jw_obj_end(&w);
    }
    aiecg__jw_arr_end(&w);

    /* label probabilities: the network's, or fused with the measurements where the model says so */
    aiecg__jw_key(&w, "probabilities");
    aiecg__jw_obj_begin(&w);
    for (int i = 0; i < r->nlabels; i++) jw_kv_num(&w, r->labels[i], r->probs[i], 4);
    aiecg__jw_obj_end(&w);
    if (r->model_probs && r->fusion_ev) { /* schema 1.1 */
        aiecg__jw_key(&w, "model_probabilities");
        aiecg__jw_obj_begin(&w);
        for (int i = 0; i < r->nlabels; i++) jw_kv_num(&w, r->labels[i], r->model_probs[i], 4);
        aiecg__jw_obj_end(&w);
        aiecg__jw_key(&w, "fusion");
        aiecg__jw_obj_begin(&w);
        aiecg__jw_key(&w, "version");
        aiecg__jw_int(&w, r->fusion_version);
        aiecg__jw_key(&w, "labels");
        aiecg__jw_obj_begin(&w);
        for (int i = 0; i < r->nlabels; i++)
            if (r->fusion_ev[i][0]) jw_kv_str(&w, r->labels[i], r->fusion_ev[i]);
        aiecg__jw_obj_end(&w);
        aiecg__jw_obj_end(&w);
    }

    /* model */
    aiecg__jw_key(&w, "model");
    aiecg__jw_obj_begin(&w);
    jw_kv_str(&w, "name", r->model_name);
    jw_kv_str(&w, "version", r->model_version);
    jw_kv_str(&w, "leads", r->model_leads);
    jw_kv_str(&w, "backend", r->model_backend);
    aiecg__jw_key(&w, "windows");
    aiecg__jw_int(&w, r->nwindows);
    jw_kv_str(&w, "aggregation", r->model_name ? r->aggregation : NULL);
    jw_kv_str(&w, "note", r->model_note[0] ? r->model_note : NULL);
    aiecg__jw_obj_end(&w);

    if (!(flags & AIECG_JSON_NO_TIMINGS)) {
        aiecg__jw_key(&w, "timings_ms");
        aiecg__jw_obj_begin(&w);
        jw_kv_num(&w, "read", r->t.read_ms, 3);
        jw_kv_num(&w, "quality", r->t.quality_ms, 3);
        jw_kv_num(&w, "dsp", r->t.dsp_ms, 3);
        jw_kv_num(&w, "model", r->t.model_ms, 3);
        jw_kv_num(&w, "interp", r->t.interp_ms, 3);
        jw_kv_num(&w, "total", r->t.total_ms, 3);
        aiecg__jw_obj_end(&w);
    }
    aiecg__jw_obj_end(&w);
    *out = aiecg__sbuf_take(&b);
    return *out ? AIECG_OK : AIECG_ERR_NOMEM;
}
