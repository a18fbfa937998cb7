/*
 * CSV reader and writer: dialects (separators, quotes, comments, CRLF, BOM,
 * decimal commas, unit suffixes, time columns), the sampling-rate rules,
 * line-numbered errors, and a write/read of a real MIT-BIH excerpt.
 */
#include "test.h"

static aiecg_status rd(const char *text, double fs, aiecg_record **r, aiecg_error *e) {
    aiecg_read_options o = aiecg_read_options_default();
    o.format = AIECG_FORMAT_CSV;
    o.fs = fs;
    return aiecg_record_read_memory(text, strlen(text), "x.csv", &o, r, e);
}

static void dialects(void) {
    aiecg_record *r = NULL;
    aiecg_error e;
    /* comma, time column in seconds: fs from it */
    CHECK_OK(rd("time,I,II\n0,0.1,0.2\n0.002,0.3,0.4\n0.004,0.5,0.6\n", 0, &r, &e), &e);
    if (r) {
        CHECK_NEAR(aiecg_record_fs(r), 500, 0);
        CHECK_INT(aiecg_record_nleads(r), 2);
        CHECK_INT(aiecg_record_nsamples(r), 3);
        CHECK_NEAR(aiecg_record_lead_data(r, 1)[2], 0.6, 1e-7);
        CHECK(aiecg_record_lead_adc(r, 0) == NULL);
        aiecg_lead_info li;
        aiecg_record_lead_info(r, 1, &li);
        CHECK_INT(li.lead, AIECG_LEAD_II);
    }
    aiecg_record_free(r);
    /* semicolon + decimal comma + CRLF + BOM + comments + units + quoted label */
    CHECK_OK(rd("\xEF\xBB\xBF# exported\r\nms;\"V1 (uV)\";\"a;b [mV]\"\r\n# mid comment\r\n0;100,5;1,5\r\n4;-200;2\r\n\r\n",
                0, &r, &e), &e);
    if (r) {
        CHECK_NEAR(aiecg_record_fs(r), 250, 0);
        CHECK_NEAR(aiecg_record_lead_data(r, 0)[0], 0.1005, 1e-7);
        CHECK_NEAR(aiecg_record_lead_data(r, 0)[1], -0.2, 1e-7);
        CHECK_NEAR(aiecg_record_lead_data(r, 1)[0], 1.5, 1e-7);
        aiecg_lead_info li;
        aiecg_record_lead_info(r, 0, &li);
        CHECK_STR(li.label, "V1");
        CHECK_STR(li.units, "uV");
        CHECK_INT(li.lead, AIECG_LEAD_V1);
        aiecg_record_lead_info(r, 1, &li);
        CHECK_STR(li.label, "a;b");
    }
    aiecg_record_free(r);
    /* tab separated, sample index column: needs --fs; empty cell = NaN */
    CHECK_INT(rd("sample\tII\n0\t1\n1\t2\n", 0, &r, &e), AIECG_ERR_INVALID_ARG);
    CHECK(strstr(e.message, "--fs") != NULL);
    CHECK_OK(rd("sample\tII\tV5\n0\t1\t\n1\t2\t3\n", 360, &r, &e), &e);
    if (r) {
        CHECK_NEAR(aiecg_record_fs(r), 360, 0);
        CHECK(isnan(aiecg_record_lead_data(r, 1)[0]));
    }
    aiecg_record_free(r);
    /* no header at all: numbers only, columns named col1.. */
    CHECK_OK(rd("1,2\n3,4\n", 100, &r, &e), &e);
    if (r) {
        CHECK_INT(aiecg_record_nsamples(r), 2);
        aiecg_lead_info li;
        aiecg_record_lead_info(r, 0, &li);
        CHECK_STR(li.label, "col1");
    }
    aiecg_record_free(r);
    /* "# fs=" comment, no time column */
    CHECK_OK(rd("# fs=128\nII\n1\n2\n3\n", 0, &r, &e), &e);
    if (r) CHECK_NEAR(aiecg_record_fs(r), 128, 0);
    aiecg_record_free(r);
}

static void errors(void) {
    aiecg_record *r = NULL;
    aiecg_error e;
    CHECK_INT(rd("time,I\n0,1\n0.002,x7\n", 0, &r, &e), AIECG_ERR_FORMAT);
    CHECK(strstr(e.message, "x.csv:3: column 2: 'x7' is not a number") != NULL);
    CHECK(r == NULL);
    CHECK_INT(rd("time,I,II\n0,1,2\n0.002,1\n", 0, &r, &e), AIECG_ERR_FORMAT);
    CHECK(strstr(e.message, "x.csv:3: 2 columns, the header has 3") != NULL);
    CHECK_INT(rd("time,I\n0,1\n0.002,2\n0.009,3\n", 0, &r, &e), AIECG_ERR_FORMAT);
    CHECK(strstr(e.message, "uniform") != NULL);
    CHECK_INT(rd("I,\"II\n1,2\n", 100, &r, &e), AIECG_ERR_FORMAT);
    CHECK(strstr(e.message, "x.csv:1: unterminated quote") != NULL);
    CHECK_INT(rd("", 100, &r, &e), AIECG_ERR_FORMAT);
    CHECK_INT(rd("# only a comment\n", 100, &r, &e), AIECG_ERR_FORMAT);
    CHECK_INT(rd("# fs=0\nI\n1\n", 0, &r, &e), AIECG_ERR_FORMAT);
    CHECK(strstr(e.message, "x.csv:1:") != NULL);
    CHECK_INT(rd("#ann x N\nI\n1\n", 100, &r, &e), AIECG_ERR_FORMAT);
    CHECK(strstr(e.message, "x.csv:1:") != NULL);
    /* 70 columns: over the lead limit */
    char wide[1024] = "";
    for (int i = 0; i < 70; i++) strcat(wide, i ? ",c" : "c");
    strcat(wide, "\n");
    CHECK_INT(rd(wide, 100, &r, &e), AIECG_ERR_LIMIT);
    /* fs out of range */
    CHECK_INT(rd("I\n1\n", 1e6, &r, &e), AIECG_ERR_RANGE);
    /* non-UTF-8 bytes in a label are carried, not fatal */
    CHECK_OK(rd("\xff\xfeI\n1\n", 100, &r, &e), &e);
    aiecg_record_free(r);
}

static void mitdb_excerpt(void) {
    char dir[4096], rec[4200], out[4200];
    test_data_path("mitdb", dir, sizeof dir);
    snprintf(rec, sizeof rec, "%s/208", dir);
    aiecg_record *r = NULL, *q = NULL;
    aiecg_error e;
    CHECK_OK(aiecg_record_open(rec, NULL, &r, &e), &e);
    if (!r) return;
    const char *bin = getenv("AIECG_BINARY_DIR");
    snprintf(out, sizeof out, "%s/test_csv_208.csv", bin ? bin : ".");
    CHECK_OK(aiecg_record_write(r, out, NULL, &e), &e);
    /* read back ignoring the "# fs=" line's authority: --fs wins */
    aiecg_read_options o = aiecg_read_options_default();
    CHECK_OK(aiecg_record_open(out, &o, &q, &e), &e);
    if (q) {
        CHECK_INT(aiecg_record_nsamples(q), 650000);
        CHECK_NEAR(aiecg_record_fs(q), 360, 0);
        CHECK(memcmp(aiecg_record_lead_adc(r, 1), aiecg_record_lead_adc(q, 1), 650000 * 4) == 0);
        CHECK_INT(aiecg_record_nannotations(q), aiecg_record_nannotations(r));
        aiecg_record_meta m;
        aiecg_record_meta_get(q, &m);
        CHECK_STR(m.record_name, "208");
        CHECK_STR(m.format, "csv");
    }
    aiecg_record_free(q);
    o.fs = 250;
    CHECK_OK(aiecg_record_open(out, &o, &q, &e), &e);
    if (q) CHECK_NEAR(aiecg_record_fs(q), 250, 0);
    aiecg_record_free(q);
    aiecg_record_free(r);
    remove(out);
}

/* Metadata and awkward annotation text survive CSV writing and reading. */
static void meta_and_annotations(void) {
    aiecg_record *r = NULL, *q = NULL;
    aiecg_error e;
    CHECK_OK(aiecg_record_new(2, 10, 500, 1, &r, &e), &e);
    if (!r) return;
    aiecg_lead_info li = {.label = "V2, \"left\"", .gain = 1716, .baseline = 6, .units = "mV", .adc_zero = 0, .adc_resolution = 16};
    CHECK_OK(aiecg_record_set_lead(r, 0, &li), NULL);
    li.label = "aVF";
    li.gain = 203.7;
    li.baseline = -5;
    CHECK_OK(aiecg_record_set_lead(r, 1, &li), NULL);
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < 10; i++) aiecg_record_lead_adc_mut(r, k)[i] = (i * 977 + k) % 3000 - 1500;
    CHECK_OK(aiecg_record_adc_to_mv(r), NULL);
    aiecg_record_meta m;
    aiecg_record_meta_get(r, &m);
    m.record_name = "rec 9";
    m.patient_id = "P#7";
    m.device = "cart";
    m.sex = 'F';
    m.age = 33;
    m.has_start_time = 1;
    m.year = 2019, m.month = 7, m.day = 14, m.hour = 8, m.minute = 5, m.second = 3.5;
    CHECK_OK(aiecg_record_set_meta(r, &m), NULL);
    aiecg_annotation a1 = {.sample = 3, .code = 22, .aux = "two\nlines \\ here"};
    aiecg_annotation a2 = {.sample = 4, .code = 5, .subtype = -1, .num = 2};
    CHECK_OK(aiecg_record_add_annotation(r, &a1), NULL);
    CHECK_OK(aiecg_record_add_annotation(r, &a2), NULL);
    char out[4200];
    const char *bin = getenv("AIECG_BINARY_DIR");
    snprintf(out, sizeof out, "%s/test_csv_meta.csv", bin ? bin : ".");
    CHECK_OK(aiecg_record_write(r, out, NULL, &e), &e);
    CHECK_OK(aiecg_record_open(out, NULL, &q, &e), &e);
    if (q) {
        aiecg_lead_info y;
        aiecg_record_lead_info(q, 0, &y);
        CHECK_STR(y.label, "V2, \"left\"");
        CHECK(y.gain == 1716);
        aiecg_record_lead_info(q, 1, &y);
        CHECK(y.gain == 203.7);
        CHECK_INT(y.baseline, -5);
        for (int k = 0; k < 2; k++)
            CHECK(memcmp(aiecg_record_lead_adc(r, k), aiecg_record_lead_adc(q, k), 10 * 4) == 0);
        aiecg_record_meta n;
        aiecg_record_meta_get(q, &n);
        CHECK_STR(n.record_name, "rec 9");
        CHECK_STR(n.patient_id, "P#7");
        CHECK_STR(n.device, "cart");
        CHECK_INT(n.sex, 'F');
        CHECK_INT(n.age, 33);
        CHECK_INT(n.has_start_time, 1);
        CHECK_INT(n.day, 14);
        CHECK_NEAR(n.second, 3.5, 1e-9);
        CHECK_INT(aiecg_record_nannotations(q), 2);
        if (aiecg_record_nannotations(q) == 2) {
            const aiecg_annotation *a = aiecg_record_annotations(q);
            CHECK_STR(a[0].aux, "two\nlines \\ here");
            CHECK_INT(a[1].code, 5);
            CHECK_INT(a[1].subtype, -1);
            CHECK_INT(a[1].num, 2);
            CHECK(a[1].aux == NULL);
        }
    }
    aiecg_record_free(q);
    aiecg_record_free(r);
    remove(out);
}

#define OOM_DOC "# fs=100\n# lead=1 gain=200 baseline=0 units=mV\n#ann 0 N\n#ann 1 + aux=(N\nII\n0.005\n0.010\n"

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
        aiecg_status s = rd(OOM_DOC, 0, &r, &e);
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
    RUN(dialects);
    RUN(errors);
    RUN(mitdb_excerpt);
    RUN(meta_and_annotations);
    RUN(read_oom);
    return test_summary();
}
