/* HL7 aECG reader tests on the real sample files of data/formats/hl7-aecg
 * (values from data/formats/README.md and the files themselves). */
#include "test.h"

static char dir[4096];

static aiecg_record *open_file(const char *file, aiecg_error *err) {
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    aiecg_record *r = NULL;
    aiecg_read_options o = aiecg_read_options_default();
    aiecg_status s = aiecg_record_open(path, &o, &r, err);
    if (s) fprintf(stderr, "%s: %s\n", path, err->message);
    return r;
}

static void test_example(void) {
    aiecg_error err = {0};
    aiecg_record *r = open_file("Example.xml", &err);
    CHECK(r != NULL);
    if (!r) return;
    aiecg_record_meta m;
    aiecg_record_meta_get(r, &m);
    CHECK_STR(m.format, "aecg");
    CHECK_INT(aiecg_record_nleads(r), 12);
    CHECK_NEAR(aiecg_record_fs(r), 500, 1e-9);
    CHECK_INT(aiecg_record_nsamples(r), 5000);
    CHECK_NEAR(aiecg_record_duration(r), 10.0, 1e-9);
    aiecg_lead_info li;
    CHECK_OK(aiecg_record_lead_info(r, 0, &li), &err);
    CHECK_INT(li.lead, AIECG_LEAD_I);
    CHECK_NEAR(li.gain, 400, 1e-9); /* 2.5 uV per digit */
    /* Lead I digits begin "-2 -2 -2 -2 -3": x 2.5 uV */
    const float *I = aiecg_record_lead_data(r, 0);
    CHECK_NEAR(I[0], -0.005, 1e-7);
    CHECK_NEAR(I[4], -0.0075, 1e-7);
    CHECK_INT(aiecg_record_lead_adc(r, 0)[4], -3);
    CHECK(aiecg_record_find_lead(r, AIECG_LEAD_V6) >= 0);
    CHECK(aiecg_record_find_lead(r, AIECG_LEAD_AVF) >= 0);
    CHECK_STR(m.patient_id, "SBJ-123");
    CHECK_INT(m.sex, 'M');
    CHECK_INT(m.age, 49); /* born 1953-05-08, recorded 2002-11-22 */
    CHECK_INT(m.has_start_time, 1);
    CHECK_INT(m.year, 2002);
    CHECK_INT(m.month, 11);
    CHECK_INT(m.day, 22);
    CHECK_INT(m.hour, 9);
    CHECK_INT(m.minute, 10);
    CHECK_STR(m.device, "ELI250");
    aiecg_record_free(r);
}

static void test_others(void) {
    static const struct {
        const char *file;
        int nleads;
        double fs;
        int64_t ns;
    } want[] = {
        {"hl7aecg-Example2.xml", 12, 1000, 10000},
        {"ad4d3d80-d165_1-04_converted.xml", 12, 500, 5500},
        {"hl7aecg_example.xml", 12, 100, 1000},
        {"minimum_aecg.xml", 1, 500, 13},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        aiecg_error err = {0};
        aiecg_record *r = open_file(want[i].file, &err);
        CHECK(r != NULL);
        if (!r) continue;
        CHECK_INT(aiecg_record_nleads(r), want[i].nleads);
        CHECK_NEAR(aiecg_record_fs(r), want[i].fs, 1e-6);
        CHECK_INT(aiecg_record_nsamples(r), want[i].ns);
        aiecg_record_free(r);
    }
    aiecg_error err = {0};
    aiecg_record *r = open_file("minimum_aecg.xml", &err);
    if (r) {
        aiecg_lead_info li;
        aiecg_record_lead_info(r, 0, &li);
        CHECK_INT(li.lead, AIECG_LEAD_II);
        CHECK_NEAR(aiecg_record_lead_data(r, 0)[12], -9 * 0.0025, 1e-7);
        aiecg_record_free(r);
    }
    r = open_file("hl7aecg_example.xml", &err);
    if (r) {
        CHECK(aiecg_record_nstatements(r) >= 2);
        if (aiecg_record_nstatements(r) >= 1) CHECK_STR(aiecg_record_statement(r, 0), "Rythme sinusal avec ESA");
        aiecg_record_free(r);
    }
    /* Philips' own conversion: scale 5 uV */
    r = open_file("ad4d3d80-d165_1-04_converted.xml", &err);
    if (r) {
        aiecg_lead_info li;
        aiecg_record_lead_info(r, 0, &li);
        CHECK_NEAR(li.gain, 200, 1e-9);
        aiecg_record_free(r);
    }
}

static aiecg_status read_str(const char *s, aiecg_error *err) {
    aiecg_read_options o = aiecg_read_options_default();
    o.format = AIECG_FORMAT_AECG;
    aiecg_record *r = NULL;
    aiecg_status st = aiecg_record_read_memory(s, strlen(s), "t.xml", &o, &r, err);
    aiecg_record_free(r);
    return st;
}

static void test_oom(void) {
    char path[8192];
    snprintf(path, sizeof path, "%s/minimum_aecg.xml", dir);
    FILE *f = fopen(path, "rb");
    if (!f) return;
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    test_oom_sweep_read(buf, n, AIECG_FORMAT_AECG);
}

static void test_bad(void) {
    aiecg_error err = {0};
    const char *seq = "<AnnotatedECG xmlns=\"urn:hl7-org:v3\" xmlns:xsi=\"x\"><component><series>"
                      "<code code=\"RHYTHM\"/><component><sequenceSet>%s</sequenceSet></component></series>"
                      "</component></AnnotatedECG>";
    char buf[2048];
    CHECK_INT(read_str("<RestingECG/>", &err), AIECG_ERR_FORMAT);
    CHECK(strstr(err.message, "not <AnnotatedECG>") != NULL);
    snprintf(buf, sizeof buf, seq, "");
    CHECK_INT(read_str(buf, &err), AIECG_ERR_FORMAT);
    CHECK(strstr(err.message, "no lead sequence") != NULL);
    snprintf(buf, sizeof buf, seq,
             "<component><sequence><code code=\"MDC_ECG_LEAD_I\"/><value xsi:type=\"SLIST_PQ\">"
             "<origin value=\"0\" unit=\"uV\"/><scale value=\"5\" unit=\"uV\"/><digits>1 2 3</digits>"
             "</value></sequence></component>");
    CHECK_INT(read_str(buf, &err), AIECG_ERR_FORMAT);
    CHECK(strstr(err.message, "no time sequence") != NULL);
    snprintf(buf, sizeof buf, seq,
             "<component><sequence><code code=\"TIME_ABSOLUTE\"/><value xsi:type=\"GLIST_TS\">"
             "<increment value=\"0.004\" unit=\"s\"/></value></sequence></component>"
             "<component><sequence><code code=\"MDC_ECG_LEAD_I\"/><value xsi:type=\"SLIST_PQ\">"
             "<origin value=\"0\" unit=\"uV\"/><scale value=\"5\" unit=\"uV\"/><digits>1 2 x3</digits>"
             "</value></sequence></component>");
    CHECK_INT(read_str(buf, &err), AIECG_ERR_FORMAT);
    CHECK(strstr(err.message, "digit 2 of lead MDC_ECG_LEAD_I") != NULL);
    CHECK(strstr(err.message, "/AnnotatedECG/component/series/component/sequenceSet/component/sequence/value/digits") != NULL);
    /* The same with valid digits reads at 250 Hz */
    snprintf(buf, sizeof buf, seq,
             "<component><sequence><code code=\"TIME_ABSOLUTE\"/><value xsi:type=\"GLIST_TS\">"
             "<increment value=\"4\" unit=\"ms\"/></value></sequence></component>"
             "<component><sequence><code code=\"MDC_ECG_LEAD_I\"/><value xsi:type=\"SLIST_PQ\">"
             "<origin value=\"1\" unit=\"mV\"/><scale value=\"5\" unit=\"uV\"/><digits>1 2 3</digits>"
             "</value></sequence></component>");
    aiecg_read_options o = aiecg_read_options_default();
    aiecg_record *r = NULL;
    CHECK_OK(aiecg_record_read_memory(buf, strlen(buf), "t.xml", &o, &r, &err), &err);
    if (r) {
        CHECK_NEAR(aiecg_record_fs(r), 250, 1e-9);
        CHECK_NEAR(aiecg_record_lead_data(r, 0)[2], 1.015, 1e-6);
        aiecg_record_free(r);
    }
    /* truncated real file */
    char path[8192];
    snprintf(path, sizeof path, "%s/minimum_aecg.xml", dir);
    FILE *f = fopen(path, "rb");
    char data[4096];
    size_t n = f ? fread(data, 1, sizeof data, f) : 0;
    if (f) fclose(f);
    CHECK(n > 1000);
    o.format = AIECG_FORMAT_AECG;
    /* cut before the final end tag */
    size_t cut = n;
    while (cut > 0 && data[cut - 1] != '<') cut--;
    CHECK(cut > 0);
    CHECK_INT(aiecg_record_read_memory(data, cut - 1, "half.xml", &o, &r, &err), AIECG_ERR_TRUNCATED);
    CHECK(strstr(err.message, "half.xml: XML: document ends inside") != NULL);
}

/* A rhythm series is read even when representative beats come first; without one the beats are read. */
static void test_series_choice(void) {
    const char *fmt = "<AnnotatedECG xmlns:xsi=\"x\">%s%s</AnnotatedECG>";
    const char *beat = "<component><series><code code=\"REPRESENTATIVE_BEAT\"/><component><sequenceSet>"
                       "<component><sequence><code code=\"TIME_RELATIVE\"/><value xsi:type=\"GLIST_PQ\">"
                       "<increment value=\"0.001\" unit=\"s\"/></value></sequence></component>"
                       "<component><sequence><code code=\"MDC_ECG_LEAD_V2\"/><value xsi:type=\"SLIST_PQ\">"
                       "<origin value=\"0\" unit=\"uV\"/><scale value=\"1\" unit=\"uV\"/><digits>1 2 3</digits>"
                       "</value></sequence></component></sequenceSet></component></series></component>";
    const char *rhythm = "<component><series><code code=\"RHYTHM\"/><component><sequenceSet>"
                         "<component><sequence><code code=\"TIME_ABSOLUTE\"/><value xsi:type=\"GLIST_TS\">"
                         "<head value=\"20240229235959.5\"/><increment value=\"0.002\" unit=\"s\"/></value></sequence></component>"
                         "<component><sequence><code code=\"MDC_ECG_LEAD_AVR\"/><value xsi:type=\"SLIST_PQ\">"
                         "<origin value=\"0\" unit=\"uV\"/><scale value=\"2\" unit=\"uV\"/><digits>4 5 6 7</digits>"
                         "</value></sequence></component></sequenceSet></component></series></component>";
    char buf[4096];
    aiecg_error err = {0};
    aiecg_record *r = NULL;
    aiecg_read_options o = aiecg_read_options_default();
    snprintf(buf, sizeof buf, fmt, beat, rhythm);
    CHECK_OK(aiecg_record_read_memory(buf, strlen(buf), "t.xml", &o, &r, &err), &err);
    if (r) {
        CHECK_INT(aiecg_record_nsamples(r), 4);
        CHECK_NEAR(aiecg_record_fs(r), 500, 1e-9);
        aiecg_lead_info li;
        aiecg_record_lead_info(r, 0, &li);
        CHECK_INT(li.lead, AIECG_LEAD_AVR);
        CHECK_NEAR(aiecg_record_lead_data(r, 0)[3], 0.014, 1e-7);
        aiecg_record_meta m;
        aiecg_record_meta_get(r, &m);
        CHECK_INT(m.has_start_time, 1); /* from the TIME_ABSOLUTE head */
        CHECK_INT(m.day, 29);
        CHECK_NEAR(m.second, 59.5, 1e-9);
        aiecg_record_free(r);
    }
    snprintf(buf, sizeof buf, fmt, beat, "");
    CHECK_OK(aiecg_record_read_memory(buf, strlen(buf), "t.xml", &o, &r, &err), &err);
    if (r) {
        CHECK_INT(aiecg_record_nsamples(r), 3);
        CHECK_NEAR(aiecg_record_fs(r), 1000, 1e-9);
        aiecg_record_free(r);
    }
}

int main(void) {
    test_data_path("formats/hl7-aecg", dir, sizeof dir);
    RUN(test_example);
    RUN(test_others);
    RUN(test_bad);
    RUN(test_oom);
    RUN(test_series_choice);
    return test_summary();
}
