/*
 * FHIR R4 output of a real record (LUDB 1) checked against the FHIR JSON
 * rules (https://hl7.org/fhir/R4/json.html) with a small JSON parser: valid
 * JSON; no null values and no empty strings, arrays or objects; a Bundle of
 * type collection whose entries each have a urn:uuid fullUrl and a resource
 * with resourceType and id; the DiagnosticReport has status, code (LOINC
 * coding with system + code), conclusionCode codings with system + code,
 * and every result reference resolves inside the bundle; every measurement
 * Observation has status, a LOINC code and a valueQuantity with UCUM system,
 * code and unit (8867-4 in /min, intervals in ms, axes in deg; every LOINC code passes its mod-10 check digit); the waveform
 * Observation's components carry SampledData with origin, period (ms),
 * factor, dimensions 1 and exactly 10 s of samples.
 */
#include "test.h"

#include <ctype.h>

/* ---- minimal JSON tree ------------------------------------------------------ */
enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };
typedef struct jv {
    int type;
    double num;
    char *str;          /* J_STR */
    struct jv **items;  /* J_ARR / J_OBJ values */
    char **keys;        /* J_OBJ */
    int n;
} jv;

static const char *jp;

static void ws(void) {
    while (*jp == ' ' || *jp == '\n' || *jp == '\r' || *jp == '\t') jp++;
}

static jv *parse(void);

static char *parse_string(void) {
    if (*jp != '"') return NULL;
    jp++;
    size_t cap = 64, n = 0;
    char *s = malloc(cap);
    while (*jp && *jp != '"') {
        char c = *jp++;
        if (c == '\\') {
            c = *jp++;
            if (c == 'u') {
                jp += 4;
                c = '?';
            } else if (c == 'n') c = '\n';
            else if (c == 't') c = '\t';
        }
        if (n + 2 >= cap) s = realloc(s, cap *= 2);
        s[n++] = c;
    }
    if (*jp != '"') {
        free(s);
        return NULL;
    }
    jp++;
    s[n] = 0;
    return s;
}

static jv *parse(void) {
    ws();
    jv *v = calloc(1, sizeof *v);
    if (*jp == '{' || *jp == '[') {
        int obj = *jp == '{';
        v->type = obj ? J_OBJ : J_ARR;
        jp++;
        ws();
        char close = obj ? '}' : ']';
        while (*jp && *jp != close) {
            char *k = NULL;
            if (obj) {
                k = parse_string();
                ws();
                if (!k || *jp != ':') return NULL;
                jp++;
            }
            jv *c = parse();
            if (!c) return NULL;
            v->items = realloc(v->items, sizeof *v->items * (size_t)(v->n + 1));
            v->keys = realloc(v->keys, sizeof *v->keys * (size_t)(v->n + 1));
            v->items[v->n] = c;
            v->keys[v->n] = k;
            v->n++;
            ws();
            if (*jp == ',') {
                jp++;
                ws();
            } else if (*jp != close) {
                return NULL;
            }
        }
        if (*jp != close) return NULL;
        jp++;
    } else if (*jp == '"') {
        v->type = J_STR;
        v->str = parse_string();
        if (!v->str) return NULL;
    } else if (!strncmp(jp, "null", 4)) {
        v->type = J_NULL;
        jp += 4;
    } else if (!strncmp(jp, "true", 4) || !strncmp(jp, "false", 5)) {
        v->type = J_BOOL;
        jp += *jp == 't' ? 4 : 5;
    } else {
        char *e;
        v->type = J_NUM;
        v->num = strtod(jp, &e);
        if (e == jp) return NULL;
        jp = e;
    }
    return v;
}

static const jv *get(const jv *o, const char *key) {
    if (!o || o->type != J_OBJ) return NULL;
    for (int i = 0; i < o->n; i++)
        if (!strcmp(o->keys[i], key)) return o->items[i];
    return NULL;
}

static const char *gets_(const jv *o, const char *key) {
    const jv *v = get(o, key);
    return v && v->type == J_STR ? v->str : NULL;
}

static void free_jv(jv *v) {
    if (!v) return;
    for (int i = 0; i < v->n; i++) {
        free_jv(v->items[i]);
        free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->str);
    free(v);
}

/* FHIR JSON: no nulls, no empty strings/arrays/objects anywhere. */
static int fhir_clean(const jv *v, int *nulls, int *empties) {
    if (v->type == J_NULL) (*nulls)++;
    if (v->type == J_STR && !v->str[0]) (*empties)++;
    if ((v->type == J_ARR || v->type == J_OBJ) && v->n == 0) (*empties)++;
    for (int i = 0; i < v->n; i++) fhir_clean(v->items[i], nulls, empties);
    return *nulls + *empties;
}

/* LOINC codes end in a mod-10 (Luhn) check digit: "8867-4". */
static int loinc_valid(const char *code) {
    const char *dash = strchr(code, '-');
    if (!dash || !dash[1] || dash[2]) return 0;
    int sum = 0, dbl = 1;
    for (const char *p = dash - 1; p >= code; p--, dbl = !dbl) {
        if (!isdigit((unsigned char)*p)) return 0;
        int d = (*p - '0') * (dbl ? 2 : 1);
        sum += d / 10 + d % 10;
    }
    return (10 - sum % 10) % 10 == dash[1] - '0';
}

static void check_coding(const jv *cc, const char *system) {
    const jv *coding = get(cc, "coding");
    CHECK(coding && coding->type == J_ARR && coding->n >= 1);
    for (int i = 0; coding && i < coding->n; i++) {
        CHECK(gets_(coding->items[i], "system") != NULL);
        CHECK(gets_(coding->items[i], "code") != NULL);
        if (system && gets_(coding->items[i], "system")) CHECK_STR(gets_(coding->items[i], "system"), system);
        if (gets_(coding->items[i], "system") && !strcmp(gets_(coding->items[i], "system"), "http://loinc.org") &&
            gets_(coding->items[i], "code")) {
            if (!loinc_valid(gets_(coding->items[i], "code")))
                fprintf(stderr, "LOINC check digit wrong: %s\n", gets_(coding->items[i], "code"));
            CHECK(loinc_valid(gets_(coding->items[i], "code")));
        }
    }
}

static void test_fhir_bundle(void) {
    char dir[4096], p[4200];
    test_data_path("ludb/data", dir, sizeof dir);
    snprintf(p, sizeof p, "%s/1", dir);
    aiecg_record *rec = NULL;
    aiecg_error err;
    aiecg_error_clear(&err);
    CHECK_OK(aiecg_record_open(p, NULL, &rec, &err), &err);
    if (!rec) return;
    aiecg_result *r = NULL;
    aiecg_analyze_options o = aiecg_analyze_options_default();
    CHECK_OK(aiecg_analyze(rec, &o, &r, &err), &err);
    char *js = NULL;
    CHECK_OK(aiecg_result_fhir(r, &js, &err), &err);
    if (!js) {
        aiecg_result_free(r);
        aiecg_record_free(rec);
        return;
    }
    jp = js;
    jv *root = parse();
    ws();
    CHECK(root != NULL && *jp == '\0');
    if (!root) {
        aiecg_free(js);
        aiecg_result_free(r);
        aiecg_record_free(rec);
        return;
    }
    int nulls = 0, empties = 0;
    fhir_clean(root, &nulls, &empties);
    CHECK_INT(nulls, 0);
    CHECK_INT(empties, 0);
    CHECK_STR(gets_(root, "resourceType"), "Bundle");
    CHECK_STR(gets_(root, "type"), "collection");
    const jv *entry = get(root, "entry");
    CHECK(entry && entry->type == J_ARR && entry->n >= 2);
    int ndr = 0, nobs = 0, nwave = 0, npat = 0, nage = 0;
    const char *patient_url = NULL;
    const jv *dr = NULL;
    for (int i = 0; entry && i < entry->n; i++) {
        const jv *e = entry->items[i];
        const char *url = gets_(e, "fullUrl");
        CHECK(url && !strncmp(url, "urn:uuid:", 9) && strlen(url) == 9 + 36);
        const jv *res = get(e, "resource");
        CHECK(res && gets_(res, "resourceType") && gets_(res, "id"));
        if (url && res && gets_(res, "id")) CHECK_STR(url + 9, gets_(res, "id"));
        const char *rt = res ? gets_(res, "resourceType") : NULL;
        if (!rt) continue;
        if (!strcmp(rt, "Patient")) { /* LUDB 1: female, no patient id */
            npat++;
            patient_url = url;
            CHECK_STR(gets_(res, "gender"), "female");
            CHECK(get(res, "identifier") == NULL);
            continue;
        }
        CHECK(gets_(res, "status") != NULL);
        check_coding(get(res, "code"), NULL);
        if (!strcmp(rt, "DiagnosticReport")) {
            ndr++;
            dr = res;
            check_coding(get(res, "code"), "http://loinc.org");
            const jv *cc = get(res, "conclusionCode");
            CHECK(cc && cc->type == J_ARR && cc->n == aiecg_result_nstatements(r));
            for (int k = 0; cc && k < cc->n; k++)
                if (get(cc->items[k], "coding")) check_coding(cc->items[k], "http://snomed.info/sct");
            /* LUDB 1: sinus bradycardia -> SNOMED CT 426177001 */
            CHECK(strstr(js, "\"426177001\"") != NULL);
        } else if (!strcmp(rt, "Observation")) {
            const jv *vq = get(res, "valueQuantity");
            if (vq) {
                nobs++;
                check_coding(get(res, "code"), "http://loinc.org");
                CHECK(get(vq, "value") && get(vq, "value")->type == J_NUM);
                CHECK_STR(gets_(vq, "system"), "http://unitsofmeasure.org");
                CHECK(gets_(vq, "code") && gets_(vq, "unit"));
                const jv *coding = get(get(res, "code"), "coding");
                const char *code = coding && coding->n ? gets_(coding->items[0], "code") : NULL;
                const char *u = gets_(vq, "code");
                if (code && u) {
                    if (!strcmp(code, "30525-0")) { /* age: not one of the report's results */
                        nobs--;
                        nage++;
                        CHECK_STR(u, "a");
                        CHECK_NEAR(get(vq, "value")->num, 51, 0); /* LUDB 1: 51 years */
                    } else if (!strcmp(code, "8867-4")) {
                        CHECK_STR(u, "/min");
                        CHECK_NEAR(get(vq, "value")->num, 45, 5);
                    } else if (!strcmp(code, "8625-6") || !strcmp(code, "8633-0") || !strcmp(code, "8634-8") ||
                               !strcmp(code, "8636-3")) {
                        CHECK_STR(u, "ms");
                    } else {
                        CHECK(!strcmp(code, "8626-4") || !strcmp(code, "8632-2") || !strcmp(code, "8638-9"));
                        CHECK_STR(u, "deg");
                    }
                }
            } else {
                nwave++;
                const jv *comp = get(res, "component");
                CHECK(comp && comp->type == J_ARR && comp->n == 12);
                for (int k = 0; comp && k < comp->n; k++) {
                    const jv *sd = get(comp->items[k], "valueSampledData");
                    CHECK(sd != NULL);
                    CHECK(get(get(sd, "origin"), "value") != NULL);
                    CHECK(get(sd, "period") && get(sd, "period")->num > 0);
                    if (get(sd, "period")) CHECK_NEAR(get(sd, "period")->num, 2.0, 1e-9);
                    CHECK(get(sd, "factor") != NULL);
                    CHECK(get(sd, "dimensions") && get(sd, "dimensions")->num == 1);
                    const char *d = gets_(sd, "data");
                    CHECK(d != NULL);
                    int tokens = 0;
                    for (const char *q = d; q && *q;) {
                        while (*q == ' ') q++;
                        if (!*q) break;
                        tokens++;
                        while (*q && *q != ' ') q++;
                    }
                    CHECK_INT(tokens, 5000);
                    check_coding(get(comp->items[k], "code"), "urn:oid:2.16.840.1.113883.6.24");
                }
            }
        }
    }
    CHECK_INT(npat, 1);
    CHECK_INT(nage, 1);
    /* every other resource names the Patient as its subject */
    for (int i = 0; entry && patient_url && i < entry->n; i++) {
        const jv *res2 = get(entry->items[i], "resource");
        const char *rt = res2 ? gets_(res2, "resourceType") : NULL;
        if (!rt || !strcmp(rt, "Patient")) continue;
        CHECK_STR(gets_(get(res2, "subject"), "reference"), patient_url);
    }
    CHECK_INT(ndr, 1);
    CHECK(nobs >= 5);
    CHECK_INT(nwave, 1);
    /* every result reference resolves */
    const jv *res = dr ? get(dr, "result") : NULL;
    CHECK(res && res->n == nobs + nwave);
    for (int i = 0; res && i < res->n; i++) {
        const char *ref = gets_(res->items[i], "reference");
        int found = 0;
        for (int k = 0; ref && k < entry->n; k++)
            if (gets_(entry->items[k], "fullUrl") && !strcmp(gets_(entry->items[k], "fullUrl"), ref)) found = 1;
        CHECK(found);
    }
    free_jv(root);
    aiecg_free(js);
    aiecg_result_free(r);
    aiecg_record_free(rec);
}

int main(void) {
    RUN(test_fhir_bundle);
    return test_summary();
}
