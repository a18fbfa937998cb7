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

static void test_oom(void) {
    size_t n;
    uint8_t *b = slurp("PFE105_high.scp", &n);
    if (!b) return;
    test_oom_sweep_read(b, n, AIECG_FORMAT_SCP);
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

/* ---- a synthetic record: custom Huffman tables with table switching, first differences ---- */

typedef struct wbuf {
    uint8_t d[4096];
    size_t n;
} wbuf;

static void w8(wbuf *b, unsigned v) { b->d[b->n++] = (uint8_t)v; }
static void w16(wbuf *b, unsigned v) { w8(b, v & 0xFF), w8(b, (v >> 8) & 0xFF); }
static void w32(wbuf *b, uint32_t v) { w16(b, v & 0xFFFF), w16(b, v >> 16); }

/* Appends a section (header + body) and returns its offset. */
static size_t add_section(wbuf *b, int id, const wbuf *body) {
    size_t off = b->n, len = 16 + body->n;
    w16(b, 0);
    w16(b, (unsigned)id);
    w32(b, (uint32_t)len);
    w8(b, 20);
    w8(b, 20);
    for (int i = 0; i < 6; i++) w8(b, id == 0 ? (unsigned)"SCPECG"[i] : 0);
    memcpy(b->d + b->n, body->d, body->n);
    b->n += body->n;
    put16(b->d + off, crc(b->d + off + 2, len - 2));
    return off;
}

/* MSB-first bit writer for the Huffman stream */
static void put_bits(wbuf *b, int *bit, const char *bits) {
    for (; *bits; bits++) {
        if (*bits == ' ') continue;
        if (*bit == 0) b->d[b->n++] = 0;
        if (*bits == '1') b->d[b->n - 1] |= (uint8_t)(0x80 >> *bit);
        *bit = (*bit + 1) & 7;
    }
}

static size_t build_synthetic(uint8_t *out) {
    wbuf s1 = {{0}, 0}, s2 = {{0}, 0}, s3 = {{0}, 0}, s6 = {{0}, 0};
    w8(&s1, 2), w16(&s1, 3), w8(&s1, 'P'), w8(&s1, '7'), w8(&s1, 0);
    w8(&s1, 8), w16(&s1, 1), w8(&s1, 2);
    w8(&s1, 25), w16(&s1, 4), w16(&s1, 2021), w8(&s1, 3), w8(&s1, 4);
    w8(&s1, 26), w16(&s1, 3), w8(&s1, 5), w8(&s1, 6), w8(&s1, 7);
    w8(&s1, 255), w16(&s1, 0);
    /* table 1: 0 -> 0, 10 -> +1, 110 -> table 2, 111 + 8 bits; table 2: 0 -> 5, 1 -> table 1.
       Base codes are stored bit-reversed (first transmitted bit in bit 0). */
    static const struct { int prefix, total, mode, base; uint32_t code; } t1[] = {
        {1, 1, 1, 0, 0}, {2, 2, 1, 1, 1}, {3, 3, 0, 2, 3}, {3, 11, 1, 0, 7}};
    static const struct { int prefix, total, mode, base; uint32_t code; } t2[] = {{1, 1, 1, 5, 0}, {1, 1, 0, 1, 1}};
    w16(&s2, 2);
    w16(&s2, 4);
    for (int i = 0; i < 4; i++) w8(&s2, (unsigned)t1[i].prefix), w8(&s2, (unsigned)t1[i].total), w8(&s2, (unsigned)t1[i].mode), w16(&s2, (unsigned)t1[i].base), w32(&s2, t1[i].code);
    w16(&s2, 2);
    for (int i = 0; i < 2; i++) w8(&s2, (unsigned)t2[i].prefix), w8(&s2, (unsigned)t2[i].total), w8(&s2, (unsigned)t2[i].mode), w16(&s2, (unsigned)t2[i].base), w32(&s2, t2[i].code);
    w8(&s3, 1), w8(&s3, 0x04), w32(&s3, 1), w32(&s3, 7), w8(&s3, 1);
    /* differences 0 1 1 [->table 2] 5 5 [->table 1] -3, and the two padding bits give one more 0:
       first differences make the samples 0 1 2 7 12 9 9 */
    wbuf data = {{0}, 0};
    int bit = 0;
    put_bits(&data, &bit, "0 10 10 110 0 0 1 111 11111101");
    w16(&s6, 1000), w16(&s6, 2000), w8(&s6, 1), w8(&s6, 0), w16(&s6, (unsigned)data.n);
    memcpy(s6.d + s6.n, data.d, data.n);
    s6.n += data.n;
    /* record: CRC, length, section 0 (12 pointers), sections 1, 2, 3, 6 */
    wbuf r = {{0}, 0};
    w16(&r, 0), w32(&r, 0);
    wbuf s0 = {{0}, 0};
    for (int id = 0; id < 12; id++) w16(&s0, (unsigned)id), w32(&s0, 0), w32(&s0, 0);
    size_t s0off = add_section(&r, 0, &s0);
    const wbuf *bodies[4] = {&s1, &s2, &s3, &s6};
    const int ids[4] = {1, 2, 3, 6};
    size_t offs[4];
    for (int k = 0; k < 4; k++) offs[k] = add_section(&r, ids[k], bodies[k]);
    /* fill the pointers (1-based index) and re-CRC section 0 */
    uint8_t *p0 = r.d + s0off + 16;
    for (int id = 0; id < 12; id++) {
        size_t off = id == 0 ? s0off : 0, len = id == 0 ? 136 : 0;
        for (int k = 0; k < 4; k++)
            if (ids[k] == id) off = offs[k], len = 16 + bodies[k]->n;
        if (!len) continue;
        uint8_t *e = p0 + 10 * id;
        e[2] = (uint8_t)len, e[3] = (uint8_t)(len >> 8), e[4] = e[5] = 0;
        uint32_t idx = (uint32_t)off + 1;
        e[6] = (uint8_t)idx, e[7] = (uint8_t)(idx >> 8), e[8] = (uint8_t)(idx >> 16), e[9] = 0;
    }
    put16(r.d + s0off, crc(r.d + s0off + 2, 136 - 2));
    r.d[2] = (uint8_t)r.n, r.d[3] = (uint8_t)(r.n >> 8), r.d[4] = r.d[5] = 0;
    put16(r.d, crc(r.d + 2, r.n - 2));
    memcpy(out, r.d, r.n);
    return r.n;
}

static void test_synthetic(void) {
    uint8_t b[4096];
    size_t n = build_synthetic(b);
    aiecg_read_options o = aiecg_read_options_default();
    aiecg_record *r = NULL;
    aiecg_error err = {0};
    CHECK_OK(aiecg_record_read_memory(b, n, "synthetic.scp", &o, &r, &err), &err);
    if (!r) return;
    CHECK_INT(aiecg_record_nleads(r), 1);
    CHECK_INT(aiecg_record_nsamples(r), 7);
    CHECK_NEAR(aiecg_record_fs(r), 500, 1e-9);
    static const int want[7] = {0, 1, 2, 7, 12, 9, 9};
    const float *x = aiecg_record_lead_data(r, 0);
    for (int i = 0; i < 7; i++) {
        CHECK_INT(aiecg_record_lead_adc(r, 0)[i], want[i]);
        CHECK_NEAR(x[i], want[i] * 0.001, 1e-7);
    }
    aiecg_record_meta m;
    aiecg_record_meta_get(r, &m);
    CHECK_STR(m.patient_id, "P7");
    CHECK_INT(m.sex, 'F');
    CHECK_INT(m.year, 2021);
    CHECK_INT(m.second, 7);
    aiecg_record_free(r);
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
    RUN(test_synthetic);
    RUN(test_oom);
    return test_summary();
}
