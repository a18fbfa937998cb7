/*
 * The record object: sample planes, lead descriptions, metadata, annotations
 * and statements. Sizes are validated against AIECG_MAX_* before anything is
 * allocated, so a hostile header cannot ask for an unbounded allocation.
 */
#include "io_int.h"

#include <assert.h>
#include <ctype.h>
#include <math.h>
#include <string.h>
#include <strings.h>

static const char *const lead_names[] = {
#define AIECG__LEAD_NAME(e, s) s,
    AIECG_LEAD_LIST(AIECG__LEAD_NAME)
#undef AIECG__LEAD_NAME
};
static_assert(sizeof(lead_names) / sizeof(lead_names[0]) == AIECG_LEAD_COUNT,
              "lead name table out of step with AIECG_LEAD_LIST");

const char *aiecg_lead_name(aiecg_lead lead) {
    if ((int)lead < 0 || lead >= AIECG_LEAD_COUNT) return "?";
    return lead_names[lead];
}

aiecg_lead aiecg_lead_parse(const char *label) {
    if (!label) return AIECG_LEAD_UNKNOWN;
    char buf[64];
    size_t n = 0;
    /* keep alphanumerics only, upper-cased: "Lead aVR" -> "LEADAVR" */
    for (const char *p = label; *p && n + 1 < sizeof buf; p++)
        if (isalnum((unsigned char)*p)) buf[n++] = (char)toupper((unsigned char)*p);
    buf[n] = '\0';
    const char *s = buf;
    static const char *const prefixes[] = {"MDCECGLEAD", "ECGLEAD", "LEAD", "ECG", "DERIVATION"};
    for (size_t i = 0; i < AIECG__COUNTOF(prefixes); i++) {
        size_t k = strlen(prefixes[i]);
        if (strncmp(s, prefixes[i], k) == 0 && s[k]) {
            s += k;
            break;
        }
    }
    for (int l = 1; l < AIECG_LEAD_COUNT; l++)
        if (strcasecmp(s, lead_names[l]) == 0) return (aiecg_lead)l;
    if (strcmp(s, "1") == 0) return AIECG_LEAD_I;
    if (strcmp(s, "2") == 0) return AIECG_LEAD_II;
    if (strcmp(s, "3") == 0) return AIECG_LEAD_III;
    if (strcmp(s, "AR") == 0 || strcmp(s, "R") == 0) return AIECG_LEAD_AVR;
    if (strcmp(s, "AL") == 0 || strcmp(s, "L") == 0) return AIECG_LEAD_AVL;
    if (strcmp(s, "AF") == 0 || strcmp(s, "F") == 0) return AIECG_LEAD_AVF;
    return AIECG_LEAD_UNKNOWN;
}

/* WFDB annotation mnemonics indexed by code (ecgcodes.h / annot.c). */
static const char *const ann_names[50] = {
    " ", "N", "L", "R", "a", "V", "F", "J", "A", "S", "E", "j", "/", "Q", "~", "[15]", "|", "[17]",
    "s", "T", "*", "D", "\"", "=", "p", "B", "^", "t", "+", "u", "?", "!", "[", "]", "e", "n", "@",
    "x", "f", "(", ")", "r", "[42]", "[43]", "[44]", "[45]", "[46]", "[47]", "[48]", "[49]"};

const char *aiecg_annotation_code_name(int code) {
    if (code < 0 || code >= 50) return "?";
    return ann_names[code];
}

int aiecg_annotation_code_parse(const char *m) {
    if (!m || !*m) return -1;
    for (int i = 1; i < 50; i++)
        if (strcmp(ann_names[i], m) == 0) return i;
    return -1;
}

int aiecg_annotation_is_beat(int code) {
    /* WFDB isqrs(): N L R a V F J A S E j / Q e n f r B */
    switch (code) {
    case 1: case 2: case 3: case 4: case 5: case 6: case 7: case 8: case 9: case 10: case 11:
    case 12: case 13: case 25: case 30: case 34: case 35: case 38: case 41:
        return 1;
    default:
        return 0;
    }
}

aiecg_status aiecg_record_new(int nleads, int64_t nsamples, double fs, int with_adc,
                              aiecg_record **out, aiecg_error *err) {
    *out = NULL;
    if (nleads < 1 || nleads > AIECG_MAX_LEADS)
        return aiecg__error_set(err, AIECG_ERR_RANGE, "number of leads %d outside 1..%d", nleads,
                                AIECG_MAX_LEADS);
    if (nsamples < 0 || nsamples > AIECG_MAX_SAMPLES_TOTAL / nleads)
        return aiecg__error_set(err, AIECG_ERR_LIMIT,
                                "%lld samples x %d leads exceeds the limit of %lld samples",
                                (long long)nsamples, nleads, (long long)AIECG_MAX_SAMPLES_TOTAL);
    if (!(fs >= 1.0 && fs <= 100000.0))
        return aiecg__error_set(err, AIECG_ERR_RANGE, "sampling rate %g Hz outside 1..100000", fs);
    aiecg_record *r = aiecg__calloc(1, sizeof *r);
    if (!r) return aiecg__error_set(err, AIECG_ERR_NOMEM, "out of memory for record");
    r->fs = fs;
    r->nleads = nleads;
    r->nsamples = nsamples;
    size_t total = (size_t)nleads * (size_t)nsamples;
    r->mv = aiecg__calloc(total ? total : 1, sizeof(float));
    r->leads = aiecg__calloc((size_t)nleads, sizeof *r->leads);
    if (with_adc) r->adc = aiecg__calloc(total ? total : 1, sizeof(int32_t));
    if (!r->mv || !r->leads || (with_adc && !r->adc)) {
        aiecg_record_free(r);
        return aiecg__error_set(err, AIECG_ERR_NOMEM, "out of memory for %zu samples", total);
    }
    for (int i = 0; i < nleads; i++) {
        r->leads[i].info.label = "";
        r->leads[i].info.units = "mV";
    }
    r->meta.record_name = r->meta.format = r->meta.patient_id = r->meta.device = "";
    r->meta.age = -1;
    r->meta.sex = 'U';
    *out = r;
    return AIECG_OK;
}

void aiecg_record_free(aiecg_record *r) {
    if (!r) return;
    aiecg__free(r->mv);
    aiecg__free(r->adc);
    if (r->leads)
        for (int i = 0; i < r->nleads; i++) {
            aiecg__free(r->leads[i].label);
            aiecg__free(r->leads[i].units);
        }
    aiecg__free(r->leads);
    aiecg__free(r->s_record_name);
    aiecg__free(r->s_format);
    aiecg__free(r->s_patient_id);
    aiecg__free(r->s_device);
    aiecg_record_clear_annotations(r);
    aiecg__free(r->ann);
    for (int i = 0; i < r->nstatements; i++) aiecg__free(r->statements[i]);
    aiecg__free(r->statements);
    aiecg__free(r);
}

aiecg_status aiecg_record_set_lead(aiecg_record *r, int index, const aiecg_lead_info *info) {
    if (!r || !info || index < 0 || index >= r->nleads) return AIECG_ERR_INVALID_ARG;
    aiecg__lead *l = &r->leads[index];
    char *label = aiecg__strdup(info->label ? info->label : "");
    char *units = aiecg__strdup(info->units ? info->units : "mV");
    if (!label || !units) {
        aiecg__free(label);
        aiecg__free(units);
        return AIECG_ERR_NOMEM;
    }
    aiecg__free(l->label);
    aiecg__free(l->units);
    l->info = *info;
    l->label = label;
    l->units = units;
    l->info.label = label;
    l->info.units = units;
    if (l->info.lead == AIECG_LEAD_UNKNOWN) l->info.lead = aiecg_lead_parse(label);
    return AIECG_OK;
}

static aiecg_status replace_str(char **slot, const char **view, const char *v) {
    if (!v) return AIECG_OK;
    char *c = aiecg__strdup(v);
    if (!c) return AIECG_ERR_NOMEM;
    aiecg__free(*slot);
    *slot = c;
    *view = c;
    return AIECG_OK;
}

aiecg_status aiecg_record_set_meta(aiecg_record *r, const aiecg_record_meta *m) {
    if (!r || !m) return AIECG_ERR_INVALID_ARG;
    aiecg_status s;
    if ((s = replace_str(&r->s_record_name, &r->meta.record_name, m->record_name))) return s;
    if ((s = replace_str(&r->s_format, &r->meta.format, m->format))) return s;
    if ((s = replace_str(&r->s_patient_id, &r->meta.patient_id, m->patient_id))) return s;
    if ((s = replace_str(&r->s_device, &r->meta.device, m->device))) return s;
    r->meta.age = m->age;
    r->meta.sex = (m->sex == 'M' || m->sex == 'F') ? m->sex : 'U';
    r->meta.has_start_time = m->has_start_time;
    r->meta.year = m->year;
    r->meta.month = m->month;
    r->meta.day = m->day;
    r->meta.hour = m->hour;
    r->meta.minute = m->minute;
    r->meta.second = m->second;
    return AIECG_OK;
}

aiecg_status aiecg_record_add_annotation(aiecg_record *r, const aiecg_annotation *a) {
    if (!r || !a) return AIECG_ERR_INVALID_ARG;
    if (r->nann == r->cap_ann) {
        int64_t ncap = r->cap_ann ? r->cap_ann * 2 : 256;
        if (ncap > ((int64_t)1 << 28)) return AIECG_ERR_LIMIT;
        aiecg_annotation *n = aiecg__realloc(r->ann, (size_t)ncap * sizeof *n);
        if (!n) return AIECG_ERR_NOMEM;
        r->ann = n;
        r->cap_ann = ncap;
    }
    aiecg_annotation c = *a;
    c.aux = NULL;
    if (a->aux && !(c.aux = aiecg__strdup(a->aux))) return AIECG_ERR_NOMEM;
    int64_t i = r->nann;
    while (i > 0 && r->ann[i - 1].sample > c.sample) {
        r->ann[i] = r->ann[i - 1];
        i--;
    }
    r->ann[i] = c;
    r->nann++;
    return AIECG_OK;
}

void aiecg_record_clear_annotations(aiecg_record *r) {
    if (!r) return;
    for (int64_t i = 0; i < r->nann; i++) aiecg__free((void *)r->ann[i].aux);
    r->nann = 0;
}

aiecg_status aiecg_record_add_statement(aiecg_record *r, const char *text) {
    if (!r || !text) return AIECG_ERR_INVALID_ARG;
    if (r->nstatements >= 4096) return AIECG_ERR_LIMIT;
    char **n = aiecg__realloc(r->statements, (size_t)(r->nstatements + 1) * sizeof *n);
    if (!n) return AIECG_ERR_NOMEM;
    r->statements = n;
    if (!(n[r->nstatements] = aiecg__strdup(text))) return AIECG_ERR_NOMEM;
    r->nstatements++;
    return AIECG_OK;
}

aiecg_status aiecg_record_clone(const aiecg_record *r, aiecg_record **out) {
    if (out) *out = NULL;
    if (!r || !out) return AIECG_ERR_INVALID_ARG;
    int idx[AIECG_MAX_LEADS];
    for (int i = 0; i < r->nleads; i++) idx[i] = i;
    return aiecg_record_select_leads(r, idx, r->nleads, out, NULL);
}

aiecg_status aiecg_record_select_leads(const aiecg_record *r, const int *idx, int n, aiecg_record **out,
                                       aiecg_error *err) {
    if (out) *out = NULL;
    if (!r || !out || (n > 0 && !idx)) return AIECG_ERR_INVALID_ARG;
    if (n < 1) {
        aiecg__error_set(err, AIECG_ERR_INVALID_ARG, "lead selection is empty (a record needs at least one lead)");
        return AIECG_ERR_INVALID_ARG;
    }
    for (int i = 0; i < n; i++) {
        if (idx[i] < 0 || idx[i] >= r->nleads) {
            aiecg__error_set(err, AIECG_ERR_INVALID_ARG, "lead selection item %d: index %d is outside 0..%d", i + 1,
                             idx[i], r->nleads - 1);
            return AIECG_ERR_INVALID_ARG;
        }
        for (int j = 0; j < i; j++)
            if (idx[j] == idx[i]) {
                aiecg__error_set(err, AIECG_ERR_INVALID_ARG, "lead selection items %d and %d both pick lead %d (%s)",
                                 j + 1, i + 1, idx[i], r->leads[idx[i]].info.label ? r->leads[idx[i]].info.label : "?");
                return AIECG_ERR_INVALID_ARG;
            }
    }
    aiecg_record *c;
    aiecg_status s = aiecg_record_new(n, r->nsamples, r->fs, r->adc != NULL, &c, err);
    if (s) return s;
    size_t ns = (size_t)r->nsamples;
    for (int i = 0; i < n && !s; i++) {
        memcpy(c->mv + (size_t)i * ns, r->mv + (size_t)idx[i] * ns, ns * sizeof(float));
        if (r->adc) memcpy(c->adc + (size_t)i * ns, r->adc + (size_t)idx[i] * ns, ns * sizeof(int32_t));
        s = aiecg_record_set_lead(c, i, &r->leads[idx[i]].info);
    }
    if (!s) s = aiecg_record_set_meta(c, &r->meta);
    for (int64_t i = 0; i < r->nann && !s; i++) s = aiecg_record_add_annotation(c, &r->ann[i]);
    for (int i = 0; i < r->nstatements && !s; i++) s = aiecg_record_add_statement(c, r->statements[i]);
    if (s) {
        aiecg_record_free(c);
        aiecg__error_set(err, s, "copying the selected leads failed");
        return s;
    }
    *out = c;
    return AIECG_OK;
}

double aiecg_record_fs(const aiecg_record *r) { return r ? r->fs : 0.0; }
int aiecg_record_nleads(const aiecg_record *r) { return r ? r->nleads : 0; }
int64_t aiecg_record_nsamples(const aiecg_record *r) { return r ? r->nsamples : 0; }
double aiecg_record_duration(const aiecg_record *r) { return r ? (double)r->nsamples / r->fs : 0.0; }

const float *aiecg_record_lead_data(const aiecg_record *r, int lead) {
    if (!r || lead < 0 || lead >= r->nleads) return NULL;
    return r->mv + (size_t)lead * (size_t)r->nsamples;
}
float *aiecg_record_lead_data_mut(aiecg_record *r, int lead) {
    return (float *)aiecg_record_lead_data(r, lead);
}
const int32_t *aiecg_record_lead_adc(const aiecg_record *r, int lead) {
    if (!r || !r->adc || lead < 0 || lead >= r->nleads) return NULL;
    return r->adc + (size_t)lead * (size_t)r->nsamples;
}
int32_t *aiecg_record_lead_adc_mut(aiecg_record *r, int lead) {
    return (int32_t *)aiecg_record_lead_adc(r, lead);
}

aiecg_status aiecg_record_lead_info(const aiecg_record *r, int lead, aiecg_lead_info *out) {
    if (!r || !out || lead < 0 || lead >= r->nleads) return AIECG_ERR_INVALID_ARG;
    *out = r->leads[lead].info;
    return AIECG_OK;
}

int aiecg_record_find_lead(const aiecg_record *r, aiecg_lead lead) {
    if (!r) return -1;
    for (int i = 0; i < r->nleads; i++)
        if (r->leads[i].info.lead == lead) return i;
    return -1;
}

void aiecg_record_meta_get(const aiecg_record *r, aiecg_record_meta *out) {
    if (r && out) *out = r->meta;
}
int64_t aiecg_record_nannotations(const aiecg_record *r) { return r ? r->nann : 0; }
const aiecg_annotation *aiecg_record_annotations(const aiecg_record *r) { return r ? r->ann : NULL; }
int aiecg_record_nstatements(const aiecg_record *r) { return r ? r->nstatements : 0; }
const char *aiecg_record_statement(const aiecg_record *r, int i) {
    return (r && i >= 0 && i < r->nstatements) ? r->statements[i] : NULL;
}

aiecg_status aiecg_record_adc_to_mv(aiecg_record *r) {
    if (!r || !r->adc) return AIECG_ERR_INVALID_ARG;
    for (int l = 0; l < r->nleads; l++) {
        const aiecg_lead_info *in = &r->leads[l].info;
        double gain = in->gain > 0 ? in->gain : 200.0;
        double inv = 1.0 / gain;
        const int32_t *a = r->adc + (size_t)l * (size_t)r->nsamples;
        float *m = r->mv + (size_t)l * (size_t)r->nsamples;
        for (int64_t i = 0; i < r->nsamples; i++) m[i] = (float)((double)(a[i] - in->baseline) * inv);
    }
    return AIECG_OK;
}

/* Grows the record by `extra` leads (samples zeroed, ADC plane dropped for them). */
static aiecg_status add_leads(aiecg_record *r, int extra) {
    int n = r->nleads + extra;
    if (n > AIECG_MAX_LEADS) return AIECG_ERR_LIMIT;
    size_t total = (size_t)n * (size_t)r->nsamples;
    float *mv = aiecg__realloc(r->mv, (total ? total : 1) * sizeof(float));
    if (!mv) return AIECG_ERR_NOMEM;
    r->mv = mv;
    memset(mv + (size_t)r->nleads * (size_t)r->nsamples, 0,
           (size_t)extra * (size_t)r->nsamples * sizeof(float));
    if (r->adc) {
        int32_t *adc = aiecg__realloc(r->adc, (total ? total : 1) * sizeof(int32_t));
        if (!adc) return AIECG_ERR_NOMEM;
        r->adc = adc;
        memset(adc + (size_t)r->nleads * (size_t)r->nsamples, 0,
               (size_t)extra * (size_t)r->nsamples * sizeof(int32_t));
    }
    aiecg__lead *leads = aiecg__realloc(r->leads, (size_t)n * sizeof *leads);
    if (!leads) return AIECG_ERR_NOMEM;
    r->leads = leads;
    memset(leads + r->nleads, 0, (size_t)extra * sizeof *leads);
    for (int i = r->nleads; i < n; i++) {
        leads[i].info.label = "";
        leads[i].info.units = "mV";
    }
    r->nleads = n;
    return AIECG_OK;
}

static const aiecg_lead derivable_leads[] = {AIECG_LEAD_III, AIECG_LEAD_AVR, AIECG_LEAD_AVL, AIECG_LEAD_AVF};

/* Indices into derivable_leads of the limb leads r lacks, when I and II are there to derive them; the count. */
static int missing_limb_leads(const aiecg_record *r, int missing[4]) {
    if (aiecg_record_find_lead(r, AIECG_LEAD_I) < 0 || aiecg_record_find_lead(r, AIECG_LEAD_II) < 0) return 0;
    int nm = 0;
    for (int k = 0; k < 4; k++)
        if (aiecg_record_find_lead(r, derivable_leads[k]) < 0) missing[nm++] = k;
    return nm;
}

int aiecg_record_derivable_limb_leads(const aiecg_record *r) {
    int missing[4];
    return r ? missing_limb_leads(r, missing) : 0;
}

aiecg_status aiecg_record_derive_limb_leads(aiecg_record *r, int *added) {
    if (added) *added = 0;
    if (!r) return AIECG_ERR_INVALID_ARG;
    int missing[4];
    int nm = missing_limb_leads(r, missing);
    if (!nm) return AIECG_OK;
    int li = aiecg_record_find_lead(r, AIECG_LEAD_I), lii = aiecg_record_find_lead(r, AIECG_LEAD_II);
    int base = r->nleads;
    aiecg_status s = add_leads(r, nm);
    if (s) return s;
    const float *a = aiecg_record_lead_data(r, li), *b = aiecg_record_lead_data(r, lii);
    for (int j = 0; j < nm; j++) {
        aiecg_lead which = derivable_leads[missing[j]];
        aiecg_lead_info info = {0};
        info.label = aiecg_lead_name(which);
        info.lead = which;
        info.units = "mV";
        info.derived = 1;
        if ((s = aiecg_record_set_lead(r, base + j, &info))) return s;
        float *d = aiecg_record_lead_data_mut(r, base + j);
        for (int64_t i = 0; i < r->nsamples; i++) {
            float I = a[i], II = b[i];
            switch (which) {
            case AIECG_LEAD_III: d[i] = II - I; break;
            case AIECG_LEAD_AVR: d[i] = -0.5f * (I + II); break;
            case AIECG_LEAD_AVL: d[i] = I - 0.5f * II; break;
            default: d[i] = II - 0.5f * I; break;
            }
        }
    }
    if (added) *added = nm;
    return AIECG_OK;
}
