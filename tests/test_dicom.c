/* DICOM waveform reader tests on data/formats/dicom-ecg (values from
 * data/formats/README.md), cross-checked against the same ECGs in other
 * formats, plus malformed input. */
#include "test.h"

static char dir[4096], fdir[4096];

static aiecg_record *open_in(const char *d, const char *file, aiecg_error *err) {
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", d, file);
    aiecg_record *r = NULL;
    if (aiecg_record_open(path, NULL, &r, err)) fprintf(stderr, "%s: %s\n", path, err->message);
    return r;
}

static uint8_t *slurp(const char *d, const char *file, size_t *n) {
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", d, file);
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)sz + 1);
    *n = fread(b, 1, (size_t)sz, f);
    fclose(f);
    return b;
}

static void test_files(void) {
    static const struct {
        const char *file;
        int nleads;
        double fs;
        int64_t ns;
        char sex;
    } want[] = {
        {"waveform_ecg.dcm", 12, 1000, 10000, 'F'},
        {"test_ecg.dcm", 12, 240, 2400, 'M'},
        {"Example.dcm", 12, 500, 5000, 'M'},
        {"CaboLabs_dicom-waveform/Example.dcm", 12, 500, 4999, 'M'},
        {"1074466202.fixed.dcm", 12, 500, 5000, 'U'},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        aiecg_error err = {0};
        aiecg_record *r = open_in(dir, want[i].file, &err);
        CHECK(r != NULL);
        if (!r) continue;
        CHECK_INT(aiecg_record_nleads(r), want[i].nleads);
        CHECK_NEAR(aiecg_record_fs(r), want[i].fs, 1e-9);
        CHECK_INT(aiecg_record_nsamples(r), want[i].ns);
        aiecg_record_meta m;
        aiecg_record_meta_get(r, &m);
        CHECK_STR(m.format, "dicom");
        CHECK_INT(m.sex, want[i].sex);
        CHECK_INT(m.has_start_time, 1);
        CHECK(aiecg_record_find_lead(r, AIECG_LEAD_I) == 0);
        CHECK(aiecg_record_find_lead(r, AIECG_LEAD_V6) >= 0);
        aiecg_record_free(r);
    }
    aiecg_error err = {0};
    aiecg_record *r = open_in(dir, "waveform_ecg.dcm", &err);
    if (r) {
        aiecg_lead_info li;
        aiecg_record_lead_info(r, 0, &li);
        CHECK_NEAR(li.gain, 800, 1e-6); /* 1.25 uV per unit */
        CHECK_STR(li.units, "uV");
        aiecg_record_meta m;
        aiecg_record_meta_get(r, &m);
        CHECK_INT(m.year, 2013);
        CHECK_INT(m.month, 1);
        CHECK_INT(m.day, 25);
        CHECK(strstr(m.device, "el250") != NULL);
        aiecg_record_free(r);
    }
    r = open_in(dir, "test_ecg.dcm", &err);
    if (r) {
        aiecg_lead_info li;
        aiecg_record_lead_info(r, 0, &li);
        CHECK_NEAR(1.0 / li.gain, 0.00122, 1e-9); /* mV per unit */
        aiecg_record_meta m;
        aiecg_record_meta_get(r, &m);
        CHECK_INT(m.year, 1999);
        CHECK_INT(m.month, 12);
        CHECK_INT(m.day, 23);
        aiecg_record_free(r);
    }
}

/* Example.dcm (implicit VR) is the HL7 example ECG: lead by lead equal to hl7-aecg/Example.xml. */
static void test_cross_aecg(void) {
    aiecg_error err = {0};
    aiecg_record *d = open_in(dir, "Example.dcm", &err);
    aiecg_record *x = open_in(fdir, "hl7-aecg/Example.xml", &err);
    CHECK(d && x);
    if (d && x) {
        double mx = 0;
        for (int l = 0; l < 12; l++) {
            aiecg_lead_info li;
            aiecg_record_lead_info(d, l, &li);
            int k = aiecg_record_find_lead(x, li.lead);
            CHECK(k >= 0);
            if (k < 0) continue;
            const float *a = aiecg_record_lead_data(d, l), *b = aiecg_record_lead_data(x, k);
            for (int i = 0; i < 5000; i++) mx = fmax(mx, fabs(a[i] - b[i]));
        }
        printf("Example.dcm vs Example.xml: max |diff| %.6f mV\n", mx);
        CHECK(mx < 1e-6);
    }
    aiecg_record_free(d);
    aiecg_record_free(x);
}

/* PixelMed's conversion of PFE105 (1 uV units) against the raw CSE reference. */
static void test_pfe105(void) {
    aiecg_error err = {0};
    aiecg_record *r = open_in(dir, "1074466202.fixed.dcm", &err);
    size_t n;
    uint8_t *ref = slurp(fdir, "scp-ecg/PFE105.dat", &n);
    CHECK(r && ref && n == 80000);
    if (r && ref && n == 80000) {
        static const aiecg_lead order[8] = {AIECG_LEAD_I,  AIECG_LEAD_II, AIECG_LEAD_V1, AIECG_LEAD_V2,
                                            AIECG_LEAD_V3, AIECG_LEAD_V4, AIECG_LEAD_V5, AIECG_LEAD_V6};
        double mx = 0;
        for (int l = 0; l < 8; l++) {
            int k = aiecg_record_find_lead(r, order[l]);
            CHECK(k >= 0);
            if (k < 0) continue;
            const float *x = aiecg_record_lead_data(r, k);
            for (int i = 0; i < 5000; i++) {
                int16_t v = (int16_t)(ref[2 * (8 * i + l)] | (ref[2 * (8 * i + l) + 1] << 8));
                mx = fmax(mx, fabs(x[i] * 1000.0 - v));
            }
        }
        printf("1074466202.fixed.dcm vs PFE105.dat: max %.2f uV\n", mx);
        CHECK(mx <= 2.5); /* PixelMed converted the 5-uV SCP encoding */
    }
    aiecg_record_free(r);
    free(ref);
}

static void test_oom(void) {
    size_t n;
    uint8_t *b = slurp(dir, "Example.dcm", &n);
    if (!b) return;
    test_oom_sweep_read(b, n, AIECG_FORMAT_DICOM);
    free(b);
}

static aiecg_status read_buf(const uint8_t *b, size_t n, aiecg_error *err) {
    aiecg_read_options o = aiecg_read_options_default();
    o.format = AIECG_FORMAT_DICOM;
    aiecg_record *r = NULL;
    aiecg_status s = aiecg_record_read_memory(b, n, "t.dcm", &o, &r, err);
    aiecg_record_free(r);
    return s;
}

static void test_bad(void) {
    aiecg_error err = {0};
    size_t n;
    uint8_t *b = slurp(dir, "waveform_ecg.dcm", &n);
    CHECK(b != NULL);
    if (!b) return;
    uint8_t *c = malloc(n);
    memcpy(c, b, n);
    c[129] = 'X';
    CHECK_INT(read_buf(c, n, &err), AIECG_ERR_FORMAT);
    CHECK(strstr(err.message, "no \"DICM\" at byte 128") != NULL);
    /* explicit VR big endian: same-length UID in the file meta group */
    memcpy(c, b, n);
    int patched = 0;
    for (size_t i = 132; i + 20 < 1000 && !patched; i++)
        if (!memcmp(c + i, "1.2.840.10008.1.2.1", 19) && (c[i + 19] == 0 || c[i + 19] == ' ')) {
            c[i + 18] = '2';
            patched = 1;
        }
    CHECK(patched);
    CHECK_INT(read_buf(c, n, &err), AIECG_ERR_UNSUPPORTED);
    CHECK(strstr(err.message, "big endian") != NULL);
    /* truncations anywhere: an error, never a crash */
    for (size_t k = 0; k < n; k += 1231) CHECK(read_buf(b, k, &err) != AIECG_OK);
    /* a huge element length */
    memcpy(c, b, n);
    size_t wd = 0;
    for (size_t i = 132; i + 12 < n; i++)
        if (c[i] == 0x00 && c[i + 1] == 0x54 && c[i + 2] == 0x10 && c[i + 3] == 0x10 && c[i + 4] == 'O') wd = i;
    CHECK(wd > 0);
    if (wd) {
        c[wd + 8] = c[wd + 9] = c[wd + 10] = 0xFF;
        c[wd + 11] = 0x7F;
        CHECK_INT(read_buf(c, n, &err), AIECG_ERR_TRUNCATED);
        CHECK(strstr(err.message, "(5400,1010)") != NULL);
    }
    free(c);
    free(b);
}

int main(void) {
    test_data_path("formats/dicom-ecg", dir, sizeof dir);
    test_data_path("formats", fdir, sizeof fdir);
    RUN(test_files);
    RUN(test_cross_aecg);
    RUN(test_pfe105);
    RUN(test_bad);
    RUN(test_oom);
    return test_summary();
}
