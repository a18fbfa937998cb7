/* SCP-ECG reader tests on data/formats/scp-ecg: every sample file, the
 * PFE105 decoded samples against the raw CSE reference, CRC and bounds errors. */
#include "test.h"

static char dir[4096];

static aiecg_record *open_file(const char *file, aiecg_error *err) {
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    aiecg_record *r = NULL;
    if (aiecg_record_open(path, NULL, &r, err)) fprintf(stderr, "%s: %s\n", path, err->message);
    return r;
}

static uint8_t *slurp(const char *file, size_t *n) {
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", dir, file);
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

/* Max and RMS error (uV) of a record's 8 leads against PFE105.dat (int16 LE, 1 uV, I II V1..V6 interleaved). */
static void compare_pfe105(const aiecg_record *r, int skip, double *max_uv, double *rms_uv) {
    size_t n;
    uint8_t *ref = slurp("PFE105.dat", &n);
    *max_uv = 1e9;
    *rms_uv = 1e9;
    if (!ref || n != 80000) {
        free(ref);
        return;
    }
    static const aiecg_lead order[8] = {AIECG_LEAD_I,  AIECG_LEAD_II, AIECG_LEAD_V1, AIECG_LEAD_V2,
                                        AIECG_LEAD_V3, AIECG_LEAD_V4, AIECG_LEAD_V5, AIECG_LEAD_V6};
    double mx = 0, ss = 0;
    for (int l = 0; l < 8; l++) {
        int k = aiecg_record_find_lead(r, order[l]);
        if (k < 0) return;
        const float *x = aiecg_record_lead_data(r, k);
        for (int i = skip; i < 5000; i++) {
            int16_t v = (int16_t)(ref[2 * (8 * i + l)] | (ref[2 * (8 * i + l) + 1] << 8));
            double e = fabs(x[i] * 1000.0 - v);
            if (e > mx) mx = e;
            ss += e * e;
        }
    }
    *max_uv = mx;
    *rms_uv = sqrt(ss / (8.0 * (5000 - skip)));
    free(ref);
}

static void test_pfe105(void) {
    aiecg_error err = {0};
    /* Lossless (2nd differences + default Huffman) at AVM 5 uV: within half a quantum of the 1-uV reference. */
    aiecg_record *r = open_file("PFE105_redred.scp", &err);
    CHECK(r != NULL);
    if (r) {
        CHECK_INT(aiecg_record_nleads(r), 8);
        CHECK_NEAR(aiecg_record_fs(r), 500, 1e-9);
        CHECK_INT(aiecg_record_nsamples(r), 5000);
        double mx, rms;
        compare_pfe105(r, 0, &mx, &rms);
        printf("PFE105_redred vs PFE105.dat: max %.2f uV, rms %.2f uV\n", mx, rms);
        CHECK(mx <= 2.5);
        aiecg_record_meta m;
        aiecg_record_meta_get(r, &m);
        CHECK_INT(m.sex, 'M');
        CHECK_INT(m.age, 62);
        CHECK_INT(m.year, 1983);
        CHECK(aiecg_record_nstatements(r) >= 1);
        aiecg_record_free(r);
    }
    /* High compression: reference beat subtraction + bimodal (decimation by 4 outside protected zones). */
    r = open_file("PFE105_high.scp", &err);
    CHECK(r != NULL);
    if (r) {
        CHECK_INT(aiecg_record_nsamples(r), 5000);
        double mx, rms;
        compare_pfe105(r, 0, &mx, &rms);
        printf("PFE105_high vs PFE105.dat: max %.2f uV, rms %.2f uV\n", mx, rms);
        CHECK(rms <= 12);
        /* The largest errors sit in the first decimation groups (a steep start-up transient). */
        compare_pfe105(r, 50, &mx, &rms);
        printf("PFE105_high vs PFE105.dat after 100 ms: max %.2f uV, rms %.2f uV\n", mx, rms);
        CHECK(mx <= 150);
        CHECK(rms <= 10);
        aiecg_record_free(r);
    }
}

static void test_files(void) {
    static const struct {
        const char *file;
        int nleads;
        double fs;
        int64_t ns;
    } want[] = {
        {"Example.scp", 12, 500, 5000},
        {"demo.scp", 8, 1000, 10000},
        {"0000050.ECG.scp", 12, 800, 32767}, /* lengths clamped to 65534 bytes by its writer */
        {"ECG_20060620_112352_FINAL001.SCP", 8, 1e6 / 1667, 6000},
        {"ECG_20060620_112352_ANON000002.SCP", 8, 1e6 / 1667, 6000},
        {"ECG_20070321_110542_191010101010.SCP", 8, 1e6 / 1667, 6000},
        {"ECG_20081029_105642_191010101010.SCP", 8, 1e6 / 1667, 6000},
        {"ECG_20170504_163507_123456789.SCP", 8, 1e6 / 1667, 6000},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        aiecg_error err = {0};
        aiecg_record *r = open_file(want[i].file, &err);
        CHECK(r != NULL);
        if (!r) continue;
        CHECK_INT(aiecg_record_nleads(r), want[i].nleads);
        CHECK_NEAR(aiecg_record_fs(r), want[i].fs, 1e-6);
        CHECK_INT(aiecg_record_nsamples(r), want[i].ns);
        aiecg_record_meta m;
        aiecg_record_meta_get(r, &m);
        CHECK_STR(m.format, "scp");
        aiecg_record_free(r);
    }
    aiecg_error err = {0};
    aiecg_record *r = open_file("Example.scp", &err);
    if (r) {
        /* Same ECG as hl7-aecg/Example.xml: lead I begins -2 -2 -2 -2 -3 x 2.5 uV */
        const float *I = aiecg_record_lead_data(r, 0);
        CHECK_NEAR(I[0], -0.005, 1e-6);
        CHECK_NEAR(I[4], -0.0075, 1e-6);
        aiecg_record_meta m;
        aiecg_record_meta_get(r, &m);
        CHECK_STR(m.patient_id, "SBJ-123");
        CHECK_INT(m.sex, 'M');
        CHECK_INT(m.year, 2002);
        CHECK_INT(m.hour, 9);
        CHECK_INT(m.minute, 10);
        aiecg_record_free(r);
    }
    r = open_file("ECG_20060620_112352_FINAL001.SCP", &err);
    if (r) {
        CHECK(aiecg_record_find_lead(r, AIECG_LEAD_V3R) >= 0);
        CHECK(aiecg_record_find_lead(r, AIECG_LEAD_V7) >= 0);
        aiecg_record_meta m;
        aiecg_record_meta_get(r, &m);
        CHECK_INT(m.year, 2006);
        CHECK_INT(m.month, 6);
        CHECK_INT(m.day, 20);
        CHECK_INT(m.hour, 11);
        CHECK_INT(m.minute, 23);
        CHECK(strstr(m.device, "MDW14") != NULL);
        aiecg_record_free(r);
    }
    /* The anonymiser wrote the year big-endian (53255): the date is not trusted. */
    r = open_file("ECG_20060620_112352_ANON000002.SCP", &err);
    if (r) {
        aiecg_record_meta m;
        aiecg_record_meta_get(r, &m);
        CHECK_INT(m.has_start_time, 0);
        aiecg_record_free(r);
    }
    r = open_file("demo.scp", &err);
    if (r) {
        aiecg_record_meta m;
        aiecg_record_meta_get(r, &m);
        CHECK_INT(m.age, 47);
        aiecg_record_free(r);
    }
}

/* Allocation-failure injection: the Nth allocation fails, for every N until the read succeeds. */
static long oom_left_;
static void *oom_malloc_(size_t n) { return oom_left_-- > 0 ? malloc(n) : NULL; }
static void *oom_realloc_(void *p, size_t n) { return oom_left_-- > 0 ? realloc(p, n) : NULL; }

static void oom_sweep(const void *data, size_t n, aiecg_format f) {
    aiecg_read_options o = aiecg_read_options_default();
    o.format = f;
    o.derive_limb_leads = 1;
    int done = 0;
    for (long k = 0; k < 100000 && !done; k++) {
        aiecg_record *r = NULL;
        aiecg_error err = {0};
        oom_left_ = k;
        aiecg_set_allocator(oom_malloc_, oom_realloc_, free);
        aiecg_status s = aiecg_record_read_memory(data, n, "oom", &o, &r, &err);
        aiecg_set_allocator(NULL, NULL, NULL);
        if (s == AIECG_OK) {
            done = 1;
            CHECK(r != NULL);
        } else if (s != AIECG_ERR_NOMEM) {
            fprintf(stderr, "allocation %ld failing gave %s: %s\n", k, aiecg_status_name(s), err.message);
            CHECK_INT(s, AIECG_ERR_NOMEM);
            done = 1;
        }
        aiecg_record_free(r);
    }
    CHECK(done);
}
static void test_oom(void) {
    size_t n;
    uint8_t *b = slurp("PFE105_high.scp", &n);
    if (!b) return;
    oom_sweep(b, n, AIECG_FORMAT_SCP);
    free(b);
}

static aiecg_status read_buf(const uint8_t *b, size_t n, aiecg_error *err) {
    aiecg_read_options o = aiecg_read_options_default();
    o.format = AIECG_FORMAT_SCP;
    aiecg_record *r = NULL;
    aiecg_status s = aiecg_record_read_memory(b, n, "t.scp", &o, &r, err);
    aiecg_record_free(r);
    return s;
}

static void put16(uint8_t *p, unsigned v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static uint16_t crc(const uint8_t *p, size_t n) {
    uint16_t c = 0xFFFF;
    for (size_t i = 0; i < n; i++) {
        c ^= (uint16_t)(p[i] << 8);
        for (int b = 0; b < 8; b++) c = (c & 0x8000) ? (uint16_t)((c << 1) ^ 0x1021) : (uint16_t)(c << 1);
    }
    return c;
}

static void test_bad(void) {
    aiecg_error err = {0};
    /* Healforce export: bogus record length */
    aiecg_record *r = open_file("62.SCP", &err);
    CHECK(r == NULL);
    CHECK_INT(err.status, AIECG_ERR_TRUNCATED);
    CHECK(strstr(err.message, "record length field 1928331264 exceeds the file size 32768") != NULL);
    aiecg_record_free(r);
    size_t n;
    uint8_t *b = slurp("Example.scp", &n);
    CHECK(b != NULL);
    if (!b) return;
    /* flip one sample byte inside section 6: the record CRC fails */
    uint8_t *c = malloc(n);
    memcpy(c, b, n);
    c[n - 100] ^= 0x55;
    CHECK_INT(read_buf(c, n, &err), AIECG_ERR_CHECKSUM);
    CHECK(strstr(err.message, "record CRC") != NULL);
    /* fix the record CRC: now the section CRC names its section */
    put16(c, crc(c + 2, n - 2));
    CHECK_INT(read_buf(c, n, &err), AIECG_ERR_CHECKSUM);
    CHECK(strstr(err.message, "section 7 (byte offset") != NULL); /* the last section */
    /* truncation at every 997th length */
    for (size_t k = 0; k < n; k += 997) CHECK(read_buf(b, k, &err) != AIECG_OK);
    /* CRC-consistent garbage in section 3 (lead count 0) */
    memcpy(c, b, n);
    size_t s3 = 0;
    for (size_t i = 6 + 16; i < 6 + 136; i += 10)
        if (c[i] == 3 && c[i + 1] == 0) s3 = (size_t)(c[i + 6] | (c[i + 7] << 8) | (c[i + 8] << 16)) - 1;
    CHECK(s3 > 0);
    c[s3 + 16] = 0;
    put16(c + s3, crc(c + s3 + 2, (size_t)(c[s3 + 4] | (c[s3 + 5] << 8)) - 2));
    put16(c, crc(c + 2, n - 2));
    CHECK_INT(read_buf(c, n, &err), AIECG_ERR_FORMAT);
    CHECK(strstr(err.message, "section 3: 0 leads") != NULL);
    free(c);
    free(b);
}

static void test_probe(void) {
    size_t n;
    uint8_t *b = slurp("Example.scp", &n);
    CHECK(b != NULL);
    if (!b) return;
    CHECK_INT(aiecg_format_detect(b, 4096, "x.bin"), AIECG_FORMAT_SCP);
    b[40] ^= 1; /* in the section 0 pointer table: layout still matches, CRC does not */
    CHECK_INT(aiecg_format_detect(b, 4096, "x.bin"), AIECG_FORMAT_SCP);
    b[16] = 'X'; /* no SCPECG tag: only the extension speaks */
    CHECK_INT(aiecg_format_detect(b, 4096, "x.bin"), AIECG_FORMAT_AUTO);
    CHECK_INT(aiecg_format_detect(b, 4096, "x.SCP"), AIECG_FORMAT_SCP);
    free(b);
}

int main(void) {
    test_data_path("formats/scp-ecg", dir, sizeof dir);
    RUN(test_pfe105);
    RUN(test_files);
    RUN(test_bad);
    RUN(test_probe);
    RUN(test_oom);
    return test_summary();
}
