/*
 * HL7 FHIR R4 (4.0.1) rendering of a result: a Bundle of type "collection"
 * holding one DiagnosticReport (category EC, LOINC 11524-6 "EKG study"),
 * one Observation per global measurement (LOINC 8867-4 heart rate, 8625-6
 * PR, 8633-0 QRS duration, 8634-8 QT, 8636-3 QTc, 8626-4 / 8632-2 / 8638-9
 * P / QRS / T axes; valueQuantity in UCUM: /min, ms, deg), and the waveform
 * as an Observation (MDC 131328 MDC_ECG_ELEC_POTL) with one component per
 * lead (MDC_ECG_ELEC_POTL_<lead>, ISO/IEEE 11073-10101 codes in the
 * urn:oid:2.16.840.1.113883.6.24 system) carrying SampledData: origin 0 mV,
 * period in ms, factor 0.001 (integer microvolts), dimensions 1, the first
 * 10 s of the baseline-corrected signal. Statements become conclusionCode
 * entries: SNOMED CT codings where the catalogue has one, text always.
 * The patient, when the record names an id, sex or age, is a Patient
 * resource (identifier, gender) referenced as every resource's subject;
 * the age at recording, which Patient has no element for, is an
 * Observation LOINC 30525-0 "Age" in UCUM years ("a") - not part of the
 * report's results. Resource ids are derived from the record name, so the
 * output is reproducible (golden files) and needs no random source.
 */
#include "interp_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void uuid_for(const aiecg_result *r, int index, char out[48]) {
    uint64_t h = 1469598103934665603ull;
    const char *s = r->record_name ? r->record_name : "";
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    h = (h ^ (uint64_t)index) * 1099511628211ull;
    uint64_t h2 = (h ^ 0x9e3779b97f4a7c15ull) * 1099511628211ull;
    snprintf(out, 48, "%08x-%04x-4%03x-%04x-%012llx", (unsigned)(h >> 32), (unsigned)(h >> 16) & 0xffff,
             (unsigned)h & 0xfff, 0x8000 | ((unsigned)(h2 >> 48) & 0x3fff),
             (unsigned long long)(h2 & 0xffffffffffffull));
}

static void coding(aiecg__jw *w, const char *system, const char *code, const char *display) {
    aiecg__jw_obj_begin(w);
    aiecg__jw_key(w, "system");
    aiecg__jw_str(w, system);
    aiecg__jw_key(w, "code");
    aiecg__jw_str(w, code);
    if (display) {
        aiecg__jw_key(w, "display");
        aiecg__jw_str(w, display);
    }
    aiecg__jw_obj_end(w);
}

static void codeable(aiecg__jw *w, const char *system, const char *code, const char *display, const char *text) {
    aiecg__jw_obj_begin(w);
    aiecg__jw_key(w, "coding");
    aiecg__jw_arr_begin(w);
    coding(w, system, code, display);
    aiecg__jw_arr_end(w);
    if (text) {
        aiecg__jw_key(w, "text");
        aiecg__jw_str(w, text);
    }
    aiecg__jw_obj_end(w);
}

#define LOINC "http://loinc.org"
#define UCUM "http://unitsofmeasure.org"
#define SCT "http://snomed.info/sct"
#define MDC "urn:oid:2.16.840.1.113883.6.24"

/* Opens a Bundle entry: fullUrl urn:uuid:<id>, resource {resourceType, id; the caller adds the rest. */
static void entry_begin(aiecg__jw *w, const char *id, const char *type) {
    char url[64];
    snprintf(url, sizeof url, "urn:uuid:%s", id);
    aiecg__jw_obj_begin(w);
    aiecg__jw_key(w, "fullUrl");
    aiecg__jw_str(w, url);
    aiecg__jw_key(w, "resource");
    aiecg__jw_obj_begin(w);
    aiecg__jw_key(w, "resourceType");
    aiecg__jw_str(w, type);
    aiecg__jw_key(w, "id");
    aiecg__jw_str(w, id);
}

static void entry_end(aiecg__jw *w) {
    aiecg__jw_obj_end(w); /* resource */
    aiecg__jw_obj_end(w); /* entry */
}

/* valueQuantity in UCUM (unit = code). */
static void quantity(aiecg__jw *w, double v, int digits, const char *ucum) {
    aiecg__jw_key(w, "valueQuantity");
    aiecg__jw_obj_begin(w);
    aiecg__jw_key(w, "value");
    aiecg__jw_numf(w, v, digits);
    aiecg__jw_key(w, "unit");
    aiecg__jw_str(w, ucum);
    aiecg__jw_key(w, "system");
    aiecg__jw_str(w, UCUM);
    aiecg__jw_key(w, "code");
    aiecg__jw_str(w, ucum);
    aiecg__jw_obj_end(w);
}

static const struct {
    aiecg_measurement m;
    const char *loinc, *display, *ucum;
} obs_map[] = {
    {AIECG_MEAS_HR, "8867-4", "Heart rate", "/min"},
    {AIECG_MEAS_PR, "8625-6", "P-R Interval", "ms"},
    {AIECG_MEAS_QRS_DUR, "8633-0", "QRS duration", "ms"},
    {AIECG_MEAS_QT, "8634-8", "Q-T interval", "ms"},
    {AIECG_MEAS_QTC_BAZETT, "8636-3", "Q-T interval corrected", "ms"},
    {AIECG_MEAS_P_AXIS, "8626-4", "P wave axis", "deg"},
    {AIECG_MEAS_QRS_AXIS, "8632-2", "QRS axis", "deg"},
    {AIECG_MEAS_T_AXIS, "8638-9", "T wave axis", "deg"},
};

static const char *mdc_lead(const char *name, const char **display) {
    static const struct {
        const char *lead, *code, *display;
    } map[] = {
        {"I", "131329", "MDC_ECG_ELEC_POTL_I"},     {"II", "131330", "MDC_ECG_ELEC_POTL_II"},
        {"III", "131389", "MDC_ECG_ELEC_POTL_III"}, {"aVR", "131390", "MDC_ECG_ELEC_POTL_AVR"},
        {"aVL", "131391", "MDC_ECG_ELEC_POTL_AVL"}, {"aVF", "131392", "MDC_ECG_ELEC_POTL_AVF"},
        {"V1", "131331", "MDC_ECG_ELEC_POTL_V1"},   {"V2", "131332", "MDC_ECG_ELEC_POTL_V2"},
        {"V3", "131333", "MDC_ECG_ELEC_POTL_V3"},   {"V4", "131334", "MDC_ECG_ELEC_POTL_V4"},
        {"V5", "131335", "MDC_ECG_ELEC_POTL_V5"},   {"V6", "131336", "MDC_ECG_ELEC_POTL_V6"},
    };
    for (size_t i = 0; i < AIECG__COUNTOF(map); i++)
        if (strcmp(map[i].lead, name) == 0) {
            *display = map[i].display;
            return map[i].code;
        }
    *display = NULL;
    return NULL;
}

static void effective(aiecg__jw *w, const aiecg_result *r) {
    if (!r->has_start_time) return;
    char ts[40];
    snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d", r->year, r->month, r->day, r->hour, r->minute,
             (int)r->second);
    aiecg__jw_key(w, "effectiveDateTime");
    aiecg__jw_str(w, ts);
}

/* A Patient entry is written when the record names the patient, the sex or the age. */
static int has_patient(const aiecg_result *r) {
    return (r->patient_id && r->patient_id[0]) || r->sex == 'M' || r->sex == 'F' || r->age >= 0;
}

#define PATIENT_UUID_INDEX 1000 /* uuid_for index of the Patient (0 report, 1 waveform, 2.. observations) */
#define AGE_UUID_INDEX 1001

static void subject(aiecg__jw *w, const aiecg_result *r) {
    if (!has_patient(r)) return;
    char id[48], url[64];
    uuid_for(r, PATIENT_UUID_INDEX, id);
    snprintf(url, sizeof url, "urn:uuid:%s", id);
    aiecg__jw_key(w, "subject");
    aiecg__jw_obj_begin(w);
    aiecg__jw_key(w, "reference");
    aiecg__jw_str(w, url);
    if (r->patient_id && r->patient_id[0]) {
        aiecg__jw_key(w, "identifier");
        aiecg__jw_obj_begin(w);
        aiecg__jw_key(w, "value");
        aiecg__jw_str(w, r->patient_id);
        aiecg__jw_obj_end(w);
    }
    aiecg__jw_obj_end(w);
}

/* Opens an Observation entry: id, status final, category procedure. */
static void obs_head(aiecg__jw *w, const aiecg_result *r, const char *id) {
    (void)r;
    entry_begin(w, id, "Observation");
    aiecg__jw_key(w, "status");
    aiecg__jw_str(w, "final");
    aiecg__jw_key(w, "category");
    aiecg__jw_arr_begin(w);
    codeable(w, "http://terminology.hl7.org/CodeSystem/observation-category", "procedure", "Procedure", NULL);
    aiecg__jw_arr_end(w);
}

aiecg_status aiecg_result_fhir(const aiecg_result *r, char **out, aiecg_error *err) {
    if (!r || !out) return aiecg__error_set(err, AIECG_ERR_INVALID_ARG, "aiecg_result_fhir: NULL argument");
    *out = NULL;
    aiecg__sbuf b;
    aiecg__sbuf_init(&b);
    aiecg__jw w;
    aiecg__jw_init(&w, &b, true);
    char ids[16][48];
    int nobs = 0;
    int obs_idx[AIECG__COUNTOF(obs_map)];
    for (size_t i = 0; i < AIECG__COUNTOF(obs_map); i++)
        if (isfinite(r->meas.value[obs_map[i].m])) obs_idx[nobs++] = (int)i;
    int has_wave = r->signal != NULL;
    for (int i = 0; i < 2 + nobs; i++) uuid_for(r, i, ids[i]);

    aiecg__jw_obj_begin(&w);
    aiecg__jw_key(&w, "resourceType");
    aiecg__jw_str(&w, "Bundle");
    aiecg__jw_key(&w, "type");
    aiecg__jw_str(&w, "collection");
    aiecg__jw_key(&w, "entry");
    aiecg__jw_arr_begin(&w);

    /* DiagnosticReport */
    char url[64];
    entry_begin(&w, ids[0], "DiagnosticReport");
    aiecg__jw_key(&w, "status");
    aiecg__jw_str(&w, "preliminary"); /* computer interpretation, unconfirmed */
    aiecg__jw_key(&w, "category");
    aiecg__jw_arr_begin(&w);
    codeable(&w, "http://terminology.hl7.org/CodeSystem/v2-0074", "EC", "Electrocardiac (e.g., EKG, EEC, Holter)", NULL);
    aiecg__jw_arr_end(&w);
    aiecg__jw_key(&w, "code");
    codeable(&w, LOINC, "11524-6", "EKG study", "12-lead ECG interpretation (aiecg)");
    subject(&w, r);
    effective(&w, r);
    aiecg__jw_key(&w, "result");
    aiecg__jw_arr_begin(&w);
    for (int i = 0; i < nobs + has_wave; i++) {
        aiecg__jw_obj_begin(&w);
        snprintf(url, sizeof url, "urn:uuid:%s", i < nobs ? ids[2 + i] : ids[1]);
        aiecg__jw_key(&w, "reference");
        aiecg__jw_str(&w, url);
        aiecg__jw_obj_end(&w);
    }
    aiecg__jw_arr_end(&w);
    aiecg__sbuf concl;
    aiecg__sbuf_init(&concl);
    for (int i = 0; i < r->nstmts; i++)
        aiecg__sbuf_printf(&concl, "%s%s", i ? "; " : "", r->stmts[i].pub.text);
    aiecg__jw_key(&w, "conclusion");
    aiecg__jw_str(&w, r->nstmts ? concl.data : "No statement");
    aiecg__sbuf_free(&concl);
    if (r->nstmts) {
        aiecg__jw_key(&w, "conclusionCode");
        aiecg__jw_arr_begin(&w);
        for (int i = 0; i < r->nstmts; i++) {
            const aiecg_statement *s = &r->stmts[i].pub;
            if (s->snomed) {
                codeable(&w, SCT, s->snomed, s->text, s->text);
            } else {
                aiecg__jw_obj_begin(&w);
                aiecg__jw_key(&w, "text");
                aiecg__jw_str(&w, s->text);
                aiecg__jw_obj_end(&w);
            }
        }
        aiecg__jw_arr_end(&w);
    }
    entry_end(&w);

    /* measurement Observations */
    for (int k = 0; k < nobs; k++) {
        int i = obs_idx[k];
        obs_head(&w, r, ids[2 + k]);
        aiecg__jw_key(&w, "code");
        codeable(&w, LOINC, obs_map[i].loinc, obs_map[i].display, NULL);
        subject(&w, r);
        effective(&w, r);
        quantity(&w, r->meas.value[obs_map[i].m], 0, obs_map[i].ucum);
        if (obs_map[i].m == AIECG_MEAS_QTC_BAZETT) {
            aiecg__jw_key(&w, "method");
            aiecg__jw_obj_begin(&w);
            aiecg__jw_key(&w, "text");
            aiecg__jw_str(&w, "Bazett");
            aiecg__jw_obj_end(&w);
        }
        entry_end(&w);
    }

    /* waveform Observation */
    if (has_wave) {
        const aiecg_record *sig = r->signal;
        double fs = aiecg_record_fs(sig);
        int64_t ns = AIECG__MIN(aiecg_record_nsamples(sig), (int64_t)llround(10.0 * fs));
        obs_head(&w, r, ids[1]);
        aiecg__jw_key(&w, "code");
        codeable(&w, MDC, "131328", "MDC_ECG_ELEC_POTL", "ECG waveform (baseline-corrected, first 10 s)");
        subject(&w, r);
        effective(&w, r);
        aiecg__jw_key(&w, "component");
        aiecg__jw_arr_begin(&w);
        for (int l = 0; l < aiecg_record_nleads(sig); l++) {
            const char *disp;
            const char *code = mdc_lead(r->lead_names[l], &disp);
            aiecg__jw_obj_begin(&w);
            aiecg__jw_key(&w, "code");
            if (code) {
                codeable(&w, MDC, code, disp, r->lead_names[l]);
            } else {
                aiecg__jw_obj_begin(&w);
                aiecg__jw_key(&w, "text");
                aiecg__jw_str(&w, r->lead_names[l]);
                aiecg__jw_obj_end(&w);
            }
            aiecg__jw_key(&w, "valueSampledData");
            aiecg__jw_obj_begin(&w);
            aiecg__jw_key(&w, "origin");
            aiecg__jw_obj_begin(&w);
            aiecg__jw_key(&w, "value");
            aiecg__jw_int(&w, 0);
            aiecg__jw_key(&w, "unit");
            aiecg__jw_str(&w, "mV");
            aiecg__jw_key(&w, "system");
            aiecg__jw_str(&w, UCUM);
            aiecg__jw_key(&w, "code");
            aiecg__jw_str(&w, "mV");
            aiecg__jw_obj_end(&w);
            aiecg__jw_key(&w, "period");
            aiecg__jw_num(&w, 1000.0 / fs);
            aiecg__jw_key(&w, "factor");
            aiecg__jw_num(&w, 0.001);
            aiecg__jw_key(&w, "dimensions");
            aiecg__jw_int(&w, 1);
            aiecg__jw_key(&w, "data");
            aiecg__sbuf d;
            aiecg__sbuf_init(&d);
            const float *x = aiecg_record_lead_data(sig, l);
            for (int64_t i = 0; i < ns; i++) {
                double v = isfinite(x[i]) ? x[i] * 1000.0 : 0.0;
                aiecg__sbuf_printf(&d, "%s%ld", i ? " " : "", (long)lround(v));
            }
            if (d.oom) b.oom = true;
            aiecg__jw_str(&w, d.data ? d.data : "");
            aiecg__sbuf_free(&d);
            aiecg__jw_obj_end(&w);
            aiecg__jw_obj_end(&w);
        }
        aiecg__jw_arr_end(&w);
        entry_end(&w);
    }
    if (has_patient(r)) {
        char pid[48];
        uuid_for(r, PATIENT_UUID_INDEX, pid);
        entry_begin(&w, pid, "Patient");
        if (r->patient_id && r->patient_id[0]) {
            aiecg__jw_key(&w, "identifier");
            aiecg__jw_arr_begin(&w);
            aiecg__jw_obj_begin(&w);
            aiecg__jw_key(&w, "value");
            aiecg__jw_str(&w, r->patient_id);
            aiecg__jw_obj_end(&w);
            aiecg__jw_arr_end(&w);
        }
        aiecg__jw_key(&w, "gender");
        aiecg__jw_str(&w, r->sex == 'M' ? "male" : r->sex == 'F' ? "female" : "unknown");
        entry_end(&w);
        if (r->age >= 0) {
            char aid[48];
            uuid_for(r, AGE_UUID_INDEX, aid);
            entry_begin(&w, aid, "Observation");
            aiecg__jw_key(&w, "status");
            aiecg__jw_str(&w, "final");
            aiecg__jw_key(&w, "code");
            codeable(&w, LOINC, "30525-0", "Age", NULL);
            subject(&w, r);
            effective(&w, r);
            quantity(&w, r->age, 0, "a");
            entry_end(&w);
        }
    }
    aiecg__jw_arr_end(&w);
    aiecg__jw_obj_end(&w);
    aiecg__sbuf_puts(&b, "\n");
    *out = aiecg__sbuf_take(&b);
    return *out ? AIECG_OK : AIECG_ERR_NOMEM;
}
