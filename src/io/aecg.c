/*
 * HL7 v3 Annotated ECG reader (HL7 aECG, ANSI/HL7 V3 ECG R1-2004, the format
 * the FDA asked for in its 2005 ECG guidance; see the HL7 aECG implementation
 * guide). The document is an <AnnotatedECG> whose <series> (RHYTHM, or
 * REPRESENTATIVE_BEAT / median beats, possibly nested as derivedSeries) hold
 * a <sequenceSet> of <sequence>s: one time sequence (TIME_ABSOLUTE GLIST_TS or
 * TIME_RELATIVE GLIST_PQ, whose <increment> is the sample interval) and one
 * sequence per lead, coded MDC_ECG_LEAD_*, whose SLIST_PQ value gives
 * physical = origin + scale * digit with units on origin and scale.
 * The rhythm series is preferred; representative beats are read only when a
 * file has no rhythm series. Leads of unequal length are cut to the shortest.
 */
#include "xml_int.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Millivolts per one unit of `u` ("uV", "mV", "V"); 0 when unknown. */
static double unit_to_mv(const char *u) {
    if (!u || !*u) return 0;
    if (strcmp(u, "uV") == 0 || strcmp(u, "microV") == 0 || strcasecmp(u, "uv") == 0) return 1e-3;
    if (strcasecmp(u, "mV") == 0) return 1.0;
    if (strcmp(u, "nV") == 0) return 1e-6;
    if (strcmp(u, "V") == 0) return 1e3;
    return 0;
}

static int parse_double(const char *s, double *v) {
    if (!s) return 0;
    char *e;
    errno = 0;
    *v = strtod(s, &e);
    if (e == s || errno == ERANGE || !isfinite(*v)) return 0;
    while (*e && isspace((unsigned char)*e)) e++;
    return *e == 0;
}

/* HL7 TS "YYYYMMDDHHMMSS.UUUU[+-ZZzz]" into meta (date part required). */
static int parse_ts(const char *s, aiecg_record_meta *m) {
    if (!s) return 0;
    int f[6] = {0, 0, 0, 0, 0, 0}, widths[6] = {4, 2, 2, 2, 2, 2}, k = 0;
    const char *p = s;
    for (; k < 6; k++) {
        int v = 0, w = 0;
        while (w < widths[k] && isdigit((unsigned char)p[w])) v = v * 10 + (p[w] - '0'), w++;
        if (w < widths[k]) break;
        f[k] = v;
        p += w;
    }
    if (k < 3 || f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > 31 || f[3] > 23 || f[4] > 59 || f[5] > 60) return 0;
    double frac = 0;
    if (k == 6 && *p == '.') {
        double sc = 0.1;
        for (p++; isdigit((unsigned char)*p); p++, sc *= 0.1) frac += (*p - '0') * sc;
    }
    m->year = f[0];
    m->month = f[1];
    m->day = f[2];
    m->hour = f[3];
    m->minute = f[4];
    m->second = f[5] + frac;
    m->has_start_time = 1;
    return 1;
}

static const char *code_of(const aiecg__xml_node *n) {
    const char *c = aiecg__xml_get_attr(aiecg__xml_child(n, "code"), "code");
    return c ? c : "";
}

/* Counts whitespace-separated tokens of a digits list. */
static int64_t count_tokens(const char *s) {
    int64_t n = 0;
    while (*s) {
        while (*s && isspace((unsigned char)*s)) s++;
        if (!*s) break;
        n++;
        while (*s && !isspace((unsigned char)*s)) s++;
    }
    return n;
}

typedef struct lead_seq {
    const aiecg__xml_node *seq, *digits;
    const char *code;
    double origin_mv, scale_mv;
    int64_t n;
} lead_seq;

/* Score of a series for selection: rhythm first, then representative/median beats. */
static int series_rank(const aiecg__xml_node *s) {
    const char *c = code_of(s);
    if (strcmp(c, "RHYTHM") == 0) return 3;
    if (strcmp(c, "REPRESENTATIVE_BEAT") == 0 || strstr(c, "MEDIAN")) return 2;
    return 1;
}

static aiecg_status fmt_err(aiecg_error *err, const char *name, const aiecg__xml_node *n, const char *what) {
    char path[256];
    aiecg__xml_node_path(n, path, sizeof path);
    return aiecg__error_set(err, AIECG_ERR_FORMAT, "%s: %s at %s (byte offset %zu)", name, what, path, n->offset);
}

aiecg_status aiecg__aecg_read_mem(const uint8_t *data, size_t len, const char *name,
                                  const aiecg_read_options *opt, aiecg_record **out, aiecg_error *err) {
    *out = NULL;
    aiecg_read_options o = opt ? *opt : aiecg_read_options_default();
    if (!name) name = "<memory>";
    aiecg__xml_doc *doc = NULL;
    aiecg_status s = aiecg__xml_parse(data, len, NULL, &doc, err);
    if (s) {
        aiecg__error_prefix(err, "%s", name);
        return s;
    }
    aiecg__xml_node *root = aiecg__xml_root(doc);
    lead_seq *leads = NULL;
    aiecg_record *rec = NULL;
    if (strcmp(root->name, "AnnotatedECG") != 0) {
        s = aiecg__error_set(err, AIECG_ERR_FORMAT, "%s: root element is <%s>, not <AnnotatedECG>", name,
                             root->qname);
        goto done;
    }

    /* Pick the series: highest rank, then document order. */
    const aiecg__xml_node *series = NULL;
    int best = 0;
    for (aiecg__xml_node *n = aiecg__xml_walk(root, root, NULL); n; n = aiecg__xml_walk(root, n, NULL)) {
        if (strcmp(n->name, "series") != 0 && strcmp(n->name, "derivedSeries") != 0) continue;
        int r = series_rank(n);
        if (r > best) best = r, series = n;
    }
    if (!series) {
        s = aiecg__error_set(err, AIECG_ERR_NOT_FOUND, "%s: no <series> in the AnnotatedECG", name);
        goto done;
    }
    /* First sequenceSet of that series that has lead sequences (not one of a nested derivedSeries). */
    const aiecg__xml_node *set = NULL;
    for (aiecg__xml_node *c = aiecg__xml_child(series, "component"); c && !set;
         c = aiecg__xml_next_named(c, "component"))
        set = aiecg__xml_child(c, "sequenceSet");
    if (!set) {
        s = fmt_err(err, name, series, "series without a <sequenceSet>");
        goto done;
    }
    double fs = 0;
    int nl = 0;
    const char *head_ts = NULL; /* TIME_ABSOLUTE <head>: the first sample's time */
    leads = aiecg__calloc(AIECG_MAX_LEADS, sizeof *leads);
    if (!leads) {
        s = aiecg__error_set(err, AIECG_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (aiecg__xml_node *c = aiecg__xml_child(set, "component"); c; c = aiecg__xml_next_named(c, "component")) {
        const aiecg__xml_node *seq = aiecg__xml_child(c, "sequence");
        if (!seq) continue;
        const char *code = code_of(seq);
        const aiecg__xml_node *val = aiecg__xml_child(seq, "value");
        if (!val) continue;
        const char *type = aiecg__xml_get_attr(val, "xsi:type");
        if (!type) type = aiecg__xml_get_attr(val, "type");
        if (!type) type = "";
        if (strncmp(code, "TIME_", 5) == 0) {
            const aiecg__xml_node *inc = aiecg__xml_child(val, "increment");
            double v;
            if (!inc || !parse_double(aiecg__xml_get_attr(inc, "value"), &v) || !(v > 0)) {
                s = fmt_err(err, name, seq, "time sequence without a positive <increment value>");
                goto done;
            }
            const char *u = aiecg__xml_get_attr(inc, "unit");
            double unit_s = (!u || strcmp(u, "s") == 0) ? 1.0 : strcmp(u, "ms") == 0 ? 1e-3
                                                             : strcmp(u, "us") == 0 ? 1e-6 : 0;
            if (!unit_s) {
                s = fmt_err(err, name, inc, "unknown time unit of <increment>");
                goto done;
            }
            fs = 1.0 / (v * unit_s);
            head_ts = aiecg__xml_get_attr(aiecg__xml_child(val, "head"), "value");
            if (!(fs >= 1 && fs <= 100000)) {
                s = fmt_err(err, name, inc, "sampling interval gives a rate outside 1..100000 Hz");
                goto done;
            }
            continue;
        }
        if (strcmp(type, "SLIST_PQ") != 0 && strcmp(type, "SLIST_INT") != 0) continue;
        if (nl >= AIECG_MAX_LEADS) {
            s = aiecg__error_set(err, AIECG_ERR_LIMIT, "%s: more than %d lead sequences", name, AIECG_MAX_LEADS);
            goto done;
        }
        lead_seq *L = &leads[nl];
        L->seq = seq;
        L->code = code;
        L->digits = aiecg__xml_child(val, "digits");
        if (!L->digits) {
            s = fmt_err(err, name, val, "SLIST value without <digits>");
            goto done;
        }
        L->origin_mv = 0;
        L->scale_mv = 1e-3; /* SLIST_INT: digits are the values; assume uV as the guide's examples */
        const aiecg__xml_node *og = aiecg__xml_child(val, "origin"), *sc = aiecg__xml_child(val, "scale");
        if (sc) {
            double v;
            double u = unit_to_mv(aiecg__xml_get_attr(sc, "unit"));
            if (!parse_double(aiecg__xml_get_attr(sc, "value"), &v) || v == 0 || !u) {
                s = fmt_err(err, name, sc, "<scale> needs a non-zero value and a unit of uV, mV or V");
                goto done;
            }
            L->scale_mv = v * u;
        }
        if (og) {
            double v;
            double u = unit_to_mv(aiecg__xml_get_attr(og, "unit"));
            if (!parse_double(aiecg__xml_get_attr(og, "value"), &v) || !u) {
                s = fmt_err(err, name, og, "<origin> needs a value and a unit of uV, mV or V");
                goto done;
            }
            L->origin_mv = v * u;
        }
        L->n = count_tokens(L->digits->text);
        nl++;
    }
    if (!nl) {
        s = fmt_err(err, name, set, "no lead sequence (SLIST_PQ) in the sequenceSet");
        goto done;
    }
    if (!fs) {
        s = fmt_err(err, name, set, "no time sequence (TIME_ABSOLUTE/TIME_RELATIVE) giving the sample interval");
        goto done;
    }
    int64_t ns = leads[0].n;
    for (int i = 1; i < nl; i++) ns = AIECG__MIN(ns, leads[i].n);
    if (o.max_samples > 0 && ns > o.max_samples) ns = o.max_samples;
    if (ns > AIECG_MAX_SAMPLES_TOTAL / nl) {
        s = aiecg__error_set(err, AIECG_ERR_LIMIT, "%s: %lld samples x %d leads exceeds the sample limit", name,
                             (long long)ns, nl);
        goto done;
    }
    if ((s = aiecg_record_new(nl, ns, fs, o.keep_adc, &rec, err))) goto done;
    for (int i = 0; i < nl; i++) {
        lead_seq *L = &leads[i];
        float *mv = aiecg_record_lead_data_mut(rec, i);
        int32_t *adc = aiecg_record_lead_adc_mut(rec, i);
        const char *p = L->digits->text;
        for (int64_t k = 0; k < ns; k++) {
            char *e;
            errno = 0;
            long v = strtol(p, &e, 10);
            if (e == p || errno == ERANGE || v < INT32_MIN || v > INT32_MAX ||
                (*e && !isspace((unsigned char)*e))) {
                char msg[96];
                snprintf(msg, sizeof msg, "digit %lld of lead %s is not an integer", (long long)k, L->code);
                s = fmt_err(err, name, L->digits, msg);
                goto done;
            }
            p = e;
            mv[k] = (float)(L->origin_mv + L->scale_mv * (double)v);
            if (adc) adc[k] = (int32_t)v;
        }
        aiecg_lead_info info = {0};
        const char *label = L->code;
        if (strncmp(label, "MDC_ECG_LEAD_", 13) == 0) label += 13;
        info.label = label;
        info.lead = aiecg_lead_parse(L->code);
        info.gain = 1.0 / L->scale_mv;
        info.baseline = (int32_t)lrint(-L->origin_mv / L->scale_mv);
        const char *u = aiecg__xml_get_attr(aiecg__xml_path(L->seq, "value/scale"), "unit");
        info.units = u ? u : "uV";
        if ((s = aiecg_record_set_lead(rec, i, &info))) {
            s = aiecg__error_set(err, s, "%s: cannot set lead %d", name, i);
            goto done;
        }
    }

    /* Metadata: subject, times, device, statements. */
    aiecg_record_meta m;
    aiecg_record_meta_get(rec, &m);
    m.format = "aecg";
    const char *id = aiecg__xml_get_attr(aiecg__xml_child(root, "id"), "root");
    m.record_name = id ? id : "";
    const aiecg__xml_node *subj = aiecg__xml_find(root, "trialSubject");
    if (subj) {
        const char *pid = aiecg__xml_get_attr(aiecg__xml_child(subj, "id"), "extension");
        if (pid) m.patient_id = pid;
        const aiecg__xml_node *dp = aiecg__xml_child(subj, "subjectDemographicPerson");
        const char *g = aiecg__xml_get_attr(aiecg__xml_child(dp, "administrativeGenderCode"), "code");
        if (g && (g[0] == 'M' || g[0] == 'F')) m.sex = g[0];
        const char *bt = aiecg__xml_get_attr(aiecg__xml_child(dp, "birthTime"), "value");
        aiecg_record_meta birth = {0};
        if (bt) parse_ts(bt, &birth);
        const aiecg__xml_node *ageq = NULL;
        for (aiecg__xml_node *n = aiecg__xml_walk(dp, dp, "age"); n && !ageq; n = aiecg__xml_walk(dp, n, "age"))
            ageq = n;
        double av;
        if (ageq && parse_double(aiecg__xml_get_attr(ageq, "value"), &av) && av >= 0 && av < 200) m.age = (int)av;
        m.has_start_time = 0;
        /* start time: series low, then the document's effectiveTime */
        const char *t = aiecg__xml_get_attr(aiecg__xml_path(series, "effectiveTime/low"), "value");
        if (!t) t = aiecg__xml_get_attr(aiecg__xml_path(root, "effectiveTime/center"), "value");
        if (!t) t = aiecg__xml_get_attr(aiecg__xml_path(root, "effectiveTime/low"), "value");
        if (!t) t = head_ts;
        if (t) parse_ts(t, &m);
        if (m.age < 0 && birth.has_start_time && m.has_start_time) {
            int a = m.year - birth.year - ((m.month < birth.month || (m.month == birth.month && m.day < birth.day)));
            if (a >= 0 && a < 200) m.age = a;
        }
    } else {
        const char *t = aiecg__xml_get_attr(aiecg__xml_path(series, "effectiveTime/low"), "value");
        if (!t) t = aiecg__xml_get_attr(aiecg__xml_path(root, "effectiveTime/center"), "value");
        if (!t) t = head_ts;
        if (t) parse_ts(t, &m);
    }
    const aiecg__xml_node *model = aiecg__xml_find(series, "manufacturerModelName");
    if (!model) model = aiecg__xml_find(root, "manufacturerModelName");
    if (model) m.device = model->text;
    if ((s = aiecg_record_set_meta(rec, &m))) {
        s = aiecg__error_set(err, s, "%s: out of memory for metadata", name);
        goto done;
    }
    for (aiecg__xml_node *n = aiecg__xml_walk(root, root, "annotation"); n; n = aiecg__xml_walk(root, n, "annotation")) {
        const char *c = code_of(n);
        if (strcmp(c, "MDC_ECG_INTERPRETATION_STATEMENT") != 0 && strcmp(c, "MDC_ECG_INTERPRETATION_SUMMARY") != 0)
            continue;
        const aiecg__xml_node *v = aiecg__xml_child(n, "value");
        if (v && v->text_len && (s = aiecg_record_add_statement(rec, v->text))) {
            s = aiecg__error_set(err, s, "%s: out of memory for statements", name);
            goto done;
        }
    }
    if (o.derive_limb_leads && (s = aiecg_record_derive_limb_leads(rec, NULL))) {
        s = aiecg__error_set(err, s, "%s: cannot derive limb leads", name);
        goto done;
    }
    *out = rec;
    rec = NULL;
done:
    aiecg_record_free(rec);
    aiecg__free(leads);
    aiecg__xml_free(doc);
    return s;
}

aiecg_status aiecg__aecg_read_path(const char *path, const aiecg_read_options *opt, aiecg_record **out,
                                   aiecg_error *err) {
    return aiecg__read_path_via_mem(path, aiecg__aecg_read_mem, opt, out, err);
}

int aiecg__aecg_probe(const uint8_t *head, size_t len, const char *path) {
    (void)path;
    char root[64];
    if (!aiecg__xml_probe_root(head, len, root, sizeof root)) return 0;
    return strcmp(root, "AnnotatedECG") == 0 ? 95 : 0;
}
