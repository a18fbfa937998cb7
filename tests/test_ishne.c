/*
 * ISHNE Holter reader on the sample recording in data/formats/ishne
 * (expected values from data/formats/README.md: 12 leads I..V6, 1000 Hz,
 * 95,573 samples, 5000 nV, 2000-01-01 07:00, header CRC valid; .ann with
 * checksum 0) and on corrupted copies of it: CRC, truncation, lead count,
 * resolution, sampling rate.
 */
#include "test.h"

#include <stdint.h>

static void sample_file(void) {
    char dir[4096], path[4200];
    test_data_path("formats/ishne", dir, sizeof dir);
    snprintf(path, sizeof path, "%s/ECG_P28.01.ecg", dir);
    aiecg_record *r = NULL;
    aiecg_error e;
    CHECK_INT(aiecg_format_detect("ISHNE1.0", 8, "x"), AIECG_FORMAT_ISHNE);
    CHECK_OK(aiecg_record_open(path, NULL, &r, &e), &e);
    if (!r) return;
    CHECK_INT(aiecg_record_nleads(r), 12);
    CHECK_NEAR(aiecg_record_fs(r), 1000, 0);
    CHECK_INT(aiecg_record_nsamples(r), 95573);
    aiecg_lead_info li;
    aiecg_record_lead_info(r, 0, &li);
    CHECK_STR(li.label, "I");
    CHECK_NEAR(li.gain, 200.0, 0); /* 5000 nV per ADU */
    CHECK_INT(li.checksum_state, AIECG_CHECKSUM_OK);
    aiecg_record_lead_info(r, 11, &li);
    CHECK_INT(li.lead, AIECG_LEAD_V6);
    aiecg_record_meta m;
    aiecg_record_meta_get(r, &m);
    CHECK_STR(m.format, "ishne");
    CHECK_STR(m.patient_id, "ECG_P28.01");
    CHECK_INT(m.has_start_time, 1);
    CHECK_INT(m.year, 2000);
    CHECK_INT(m.month, 1);
    CHECK_INT(m.day, 1);
    CHECK_INT(m.hour, 7);
    /* samples: lead II - lead I - lead III is ~0 (Einthoven) when all three are recorded */
    const int32_t *I = aiecg_record_lead_adc(r, 0), *II = aiecg_record_lead_adc(r, 1), *III = aiecg_record_lead_adc(r, 2);
    int64_t off = 0;
    for (int64_t i = 0; i < 95573; i++) off += abs(II[i] - I[i] - III[i]) > 2;
    CHECK(off < 95573 / 100);
    /* the .ann beside it: 97 entries from sample 804 on, every 'N' a normal beat */
    CHECK_INT(aiecg_record_nannotations(r), 97);
    const aiecg_annotation *a = aiecg_record_annotations(r);
    if (aiecg_record_nannotations(r) == 97) {
        CHECK_INT(a[0].sample, 804);
        CHECK_INT(a[0].code, 1);
        CHECK_INT(a[1].sample, 1799);
        CHECK_INT(a[1].code, 16);
        CHECK(a[96].sample < 95573);
        /* about one beat a second over the 95.6 s: mean interval 0.95..1.05 s, nearly all within 0.5..1.5 s */
        CHECK_NEAR((a[96].sample - a[0].sample) / 96.0, 1000, 50);
        int odd = 0;
        for (int i = 1; i < 97; i++) odd += (a[i].sample - a[i - 1].sample) < 500 || (a[i].sample - a[i - 1].sample) > 1500;
        CHECK(odd <= 3);
    }
    aiecg_record_free(r);
    aiecg_read_options o = aiecg_read_options_default();
    o.skip_annotations = 1;
    CHECK_OK(aiecg_record_open(path, &o, &r, &e), &e);
    if (r) CHECK_INT(aiecg_record_nannotations(r), 0);
    aiecg_record_free(r);
}

static uint8_t *load(size_t *n) {
    char dir[4096], path[4200];
    test_data_path("formats/ishne", dir, sizeof dir);
    snprintf(path, sizeof path, "%s/ECG_P28.01.ecg", dir);
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *d = malloc(*n);
    if (d && fread(d, 1, *n, f) != *n) {
        free(d);
        d = NULL;
    }
    fclose(f);
    return d;
}

static uint16_t crc(const uint8_t *p, size_t n) {
    uint16_t c = 0xFFFF;
    for (size_t i = 0; i < n; i++) {
        c ^= (uint16_t)(p[i] << 8);
        for (int k = 0; k < 8; k++) c = (c & 0x8000) ? (uint16_t)((c << 1) ^ 0x1021) : (uint16_t)(c << 1);
    }
    return c;
}

static void expect(const uint8_t *d, size_t n, aiecg_status want, const char *needle) {
    aiecg_read_options o = aiecg_read_options_default();
    o.format = AIECG_FORMAT_ISHNE;
    aiecg_record *r = NULL;
    aiecg_error e;
    aiecg_error_clear(&e);
    CHECK_INT(aiecg_record_read_memory(d, n, "h.ecg", &o, &r, &e), want);
    CHECK(r == NULL);
    if (!strstr(e.message, needle)) {
        fprintf(stderr, "\"%s\" lacks \"%s\"\n", e.message, needle);
        CHECK(0);
    }
    aiecg_record_free(r);
}

/* Sets an int16 field and fixes the CRC so only the field is wrong. */
static void set16(uint8_t *d, size_t off, int v) {
    d[off] = (uint8_t)(v & 0xFF);
    d[off + 1] = (uint8_t)((v >> 8) & 0xFF);
    uint16_t c = crc(d + 10, 512);
    d[8] = (uint8_t)(c & 0xFF);
    d[9] = (uint8_t)(c >> 8);
}

static void corrupted(void) {
    size_t n = 0;
    uint8_t *orig = load(&n);
    CHECK(orig != NULL);
    if (!orig) return;
    uint8_t *d = malloc(n);
    memcpy(d, orig, n);
    d[300] ^= 1; /* inside the CRC range */
    expect(d, n, AIECG_ERR_CHECKSUM, "byte 8: header CRC");
    memcpy(d, orig, n);
    expect(d, 400, AIECG_ERR_TRUNCATED, "byte 400");
    expect(d, n - 1, AIECG_ERR_TRUNCATED, "file ends early");
    set16(d, 156, 13);
    expect(d, n, AIECG_ERR_RANGE, "byte 156");
    memcpy(d, orig, n);
    set16(d, 156, -1);
    expect(d, n, AIECG_ERR_RANGE, "number of leads -1");
    memcpy(d, orig, n);
    set16(d, 206, 0);
    expect(d, n, AIECG_ERR_RANGE, "byte 206");
    memcpy(d, orig, n);
    set16(d, 272, -5);
    expect(d, n, AIECG_ERR_RANGE, "byte 272");
    memcpy(d, orig, n);
    memcpy(d, "ISHNE2.0", 8);
    expect(d, n, AIECG_ERR_FORMAT, "magic");
    /* a huge variable block size */
    memcpy(d, orig, n);
    d[10] = d[11] = d[12] = 0xFF;
    d[13] = 0x7F;
    expect(d, n, AIECG_ERR_TRUNCATED, "variable block");
    /* a negative sample count */
    memcpy(d, orig, n);
    d[17] = 0x80;
    {
        uint16_t c = crc(d + 10, 512);
        d[8] = (uint8_t)(c & 0xFF);
        d[9] = (uint8_t)(c >> 8);
    }
    expect(d, n, AIECG_ERR_RANGE, "byte 14");
    free(d);
    free(orig);
}

int main(void) {
    RUN(sample_file);
    RUN(corrupted);
    return test_summary();
}
