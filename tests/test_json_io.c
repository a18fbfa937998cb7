/*
 * JSON record reader/writer: the documented layout written from a real
 * LUDB record and read back (ADC, gains, annotations, metadata), mV-only
 * input written by hand, and malformed documents (byte offsets, depth and
 * shape limits).
 */
#include "test.h"

static aiecg_status rd(const char *text, aiecg_record **r, aiecg_error *e) {
    aiecg_read_options o = aiecg_read_options_default();
    o.format = AIECG_FORMAT_JSON;
    return aiecg_record_read_memory(text, strlen(text), "x.json", &o, r, e);
}

static void hand_written(void) {
    aiecg_record *r = NULL;
    aiecg_error e;
    const char *doc = "{\"fs\": 250, \"extra\": {\"nested\": [1, [2, {\"x\": null}]], \"t\": true},\n"
                      " \"leads\": [{\"label\": \"I\"}, {\"label\": \"V2\", \"units\": \"mV\"}],\n"
                      " \"samples\": [[0.5, -1.25, null], [1e-3, 2, 3]],\n"
                      " \"annotations\": [{\"sample\": 1, \"code\": \"V\", \"aux\": \"caf\\u00e9\"}],\n"
                      " \"patient\": {\"sex\": \"F\", \"age\": 44}, \"start_time\": \"2021-05-06T07:08:09.500\"}";
    CHECK_OK(rd(doc, &r, &e), &e);
    if (!r) return;
    CHECK_NEAR(aiecg_record_fs(r), 250, 0);
    CHECK_INT(aiecg_record_nleads(r), 2);
    CHECK_INT(aiecg_record_nsamples(r), 3);
    CHECK_NEAR(aiecg_record_lead_data(r, 0)[1], -1.25, 0);
    CHECK(isnan(aiecg_record_lead_data(r, 0)[2]));
    CHECK_NEAR(aiecg_record_lead_data(r, 1)[0], 0.001, 1e-9);
    CHECK(aiecg_record_lead_adc(r, 0) == NULL);
    aiecg_lead_info li;
    aiecg_record_lead_info(r, 1, &li);
    CHECK_INT(li.lead, AIECG_LEAD_V2);
    CHECK_INT(aiecg_record_nannotations(r), 1);
    if (aiecg_record_nannotations(r) == 1) {
        CHECK_INT(aiecg_record_annotations(r)[0].code, 5);
        CHECK_STR(aiecg_record_annotations(r)[0].aux, "caf\xc3\xa9");
    }
    aiecg_record_meta m;
    aiecg_record_meta_get(r, &m);
    CHECK_INT(m.sex, 'F');
    CHECK_INT(m.age, 44);
    CHECK_INT(m.has_start_time, 1);
    CHECK_NEAR(m.second, 9.5, 1e-9);
    aiecg_record_free(r);
}

static void malformed(void) {
    aiecg_record *r = NULL;
    aiecg_error e;
    static const struct {
        const char *doc;
        aiecg_status want;
        const char *needle;
    } cases[] = {
        {"", AIECG_ERR_FORMAT, "byte 0"},
        {"[1,2]", AIECG_ERR_FORMAT, "expected an object"},
        {"{\"fs\": 100}", AIECG_ERR_FORMAT, "needs \"fs\" and \"samples\""},
        {"{\"fs\": 100, \"samples\": [[1,2],[3]]}", AIECG_ERR_FORMAT, "lead 2 has 1 samples"},
        {"{\"fs\": 100, \"samples\": [[1,2],[3,x]]}", AIECG_ERR_FORMAT, "byte 33: expected a number"},
        {"{\"fs\": 100, \"samples\": [[1,2]", AIECG_ERR_TRUNCATED, "ends inside"},
        {"{\"fs\": 100, \"samples\": [[1]], \"leads\": [{\"label\": \"I\\q\"}]}", AIECG_ERR_FORMAT, "bad escape"},
        {"{\"fs\": 0, \"samples\": [[1]]}", AIECG_ERR_RANGE, "sampling rate"},
        {"{\"fs\": 100, \"samples\": []}", AIECG_ERR_FORMAT, "no lead"},
        {"{\"fs\": 100, \"samples\": [[1]], \"adc\": [[1.5]]}", AIECG_ERR_FORMAT, "not an integer within"},
        {"{\"fs\": 100, \"samples\": [[1]], \"adc\": [[1, 2]]}", AIECG_ERR_FORMAT, "\"adc\" is 1x2"},
        {"{\"fs\": 100, \"samples\": [[1]], \"annotations\": [{\"sample\": -4}]}", AIECG_ERR_FORMAT, "out of range"},
        {"{\"fs\": 1e999, \"samples\": [[1]]}", AIECG_ERR_FORMAT, "malformed number"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        aiecg_error_clear(&e);
        aiecg_status s = rd(cases[i].doc, &r, &e);
        CHECK_INT(s, cases[i].want);
        CHECK(r == NULL);
        if (!strstr(e.message, cases[i].needle)) {
            fprintf(stderr, "case %zu: \"%s\" lacks \"%s\"\n", i, e.message, cases[i].needle);
            CHECK(0);
        }
        aiecg_record_free(r);
    }
    /* nesting deeper than the limit is refused, not recursed into */
    char deep[200] = "{\"x\": ";
    for (int i = 0; i < 60; i++) strcat(deep, "[");
    CHECK_INT(rd(deep, &r, &e), AIECG_ERR_FORMAT);
    CHECK(strstr(e.message, "nesting") != NULL);
}

static void ludb_written(void) {
    char dir[4096], rec[4200], out[4200];
    test_data_path("ludb/data", dir, sizeof dir);
    snprintf(rec, sizeof rec, "%s/7", dir);
    aiecg_read_options o = aiecg_read_options_default();
    o.annotator = "v1";
    aiecg_record *r = NULL, *q = NULL;
    aiecg_error e;
    CHECK_OK(aiecg_record_open(rec, &o, &r, &e), &e);
    if (!r) return;
    const char *bin = getenv("AIECG_BINARY_DIR");
    snprintf(out, sizeof out, "%s/test_json_io_7.json", bin ? bin : ".");
    CHECK_OK(aiecg_record_write(r, out, NULL, &e), &e);
    CHECK_OK(aiecg_record_open(out, NULL, &q, &e), &e);
    if (q) {
        CHECK_INT(aiecg_record_nleads(q), 12);
        CHECK_INT(aiecg_record_nsamples(q), 5000);
        for (int k = 0; k < 12; k++) {
            aiecg_lead_info x, y;
            aiecg_record_lead_info(r, k, &x);
            aiecg_record_lead_info(q, k, &y);
            CHECK(x.gain == y.gain);
            CHECK_INT(x.baseline, y.baseline);
            CHECK_STR(x.label, y.label);
            CHECK(memcmp(aiecg_record_lead_adc(r, k), aiecg_record_lead_adc(q, k), 5000 * 4) == 0);
            CHECK(memcmp(aiecg_record_lead_data(r, k), aiecg_record_lead_data(q, k), 5000 * 4) == 0);
        }
        CHECK(aiecg_record_nannotations(r) > 0);
        CHECK_INT(aiecg_record_nannotations(q), aiecg_record_nannotations(r));
        aiecg_record_meta a, b;
        aiecg_record_meta_get(r, &a);
        aiecg_record_meta_get(q, &b);
        CHECK_INT(a.age, b.age);
        CHECK_INT(a.sex, b.sex);
        CHECK_STR(b.format, "json");
    }
    aiecg_record_free(q);
    aiecg_record_free(r);
    remove(out);
}

#define OOM_DOC "{\"fs\": 100, \"leads\": [{\"label\": \"II\", \"gain\": 200}], \"samples\": [[0.005, 0.01]], \"adc\": [[1, 2]], \"annotations\": [{\"sample\": 0, \"code\": \"N\"}, {\"sample\": 1, \"code\": \"+\", \"aux\": \"(N\"}]}"

/* ---- allocation failure -------------------------------------------------- */
static long fail_after = -1;
static void *counting_malloc(size_t n) {
    if (fail_after == 0) return NULL;
    if (fail_after > 0) fail_after--;
    return malloc(n);
}
static void *counting_realloc(void *p, size_t n) {
    if (fail_after == 0) return NULL;
    if (fail_after > 0) fail_after--;
    return realloc(p, n);
}

static void read_oom(void) {
    int ok_seen = 0;
    for (long n = 0; n < 40; n++) {
        fail_after = n;
        aiecg_set_allocator(counting_malloc, counting_realloc, free);
        aiecg_record *r = NULL;
        aiecg_error e;
        aiecg_status s = rd(OOM_DOC, &r, &e);
        aiecg_set_allocator(NULL, NULL, NULL);
        if (s == AIECG_OK) {
            ok_seen = 1;
            CHECK_INT(aiecg_record_nannotations(r), 2);
            aiecg_record_free(r);
        } else {
            CHECK_INT(s, AIECG_ERR_NOMEM);
            CHECK(r == NULL);
        }
    }
    fail_after = -1;
    CHECK(ok_seen);
}

int main(void) {
    RUN(hand_written);
    RUN(malformed);
    RUN(ludb_written);
    RUN(read_oom);
    return test_summary();
}
