/*
 * EDF/EDF+ reader and writer: the real files in data/formats/edf and
 * data/wfdb-formats (expected values from data/formats/README.md and the
 * files' own headers), EDF+ written and read back, EDF+D gaps, and hostile
 * headers built byte by byte (each must fail with the right status and a
 * message naming the byte offset), plus allocation-failure injection.
 */
#include "test.h"

#include <stdint.h>

/* ---- a tiny EDF builder for crafted inputs ------------------------------ */
typedef struct {
    char buf[1 << 16];
    size_t len;
} blob;

static void put(blob *b, size_t off, size_t n, const char *s) {
    memset(b->buf + off, ' ', n);
    memcpy(b->buf + off, s, strlen(s) < n ? strlen(s) : n);
}

/*
 * Two signals: "ECG II" (spr samples) and "EDF Annotations" (ann_spr samples),
 * nrec records of duration "1". Sample i of record r is r*100+i; each record's
 * annotation block is tal[r] (already TAL-encoded, NULL = time-keeping only).
 */
static void build(blob *b, const char *reserved, int nrec, int spr, int ann_spr, const char *const *tal,
                  const char *const *onsets) {
    memset(b, 0, sizeof *b);
    const int ns = 2;
    size_t h = 256 * (ns + 1);
    memset(b->buf, ' ', h);
    put(b, 0, 8, "0");
    put(b, 8, 80, "P-123 F 02-MAR-1951 Jane_Doe");
    put(b, 88, 80, "Startdate 02-MAR-2002 REC-7 tech Holter_X");
    put(b, 168, 8, "02.03.02");
    put(b, 176, 8, "10.11.12");
    char t[32];
    snprintf(t, sizeof t, "%zu", h);
    put(b, 184, 8, t);
    put(b, 192, 44, reserved);
    snprintf(t, sizeof t, "%d", nrec);
    put(b, 236, 8, t);
    put(b, 244, 8, "1");
    put(b, 252, 4, "2");
    size_t o = 256;
    put(b, o, 16, "ECG II"); put(b, o + 16, 16, "EDF Annotations"); o += 32;
    o += 160; /* transducer */
    put(b, o, 8, "uV"); o += 16;
    put(b, o, 8, "-3276.8"); put(b, o + 8, 8, "-1"); o += 16;
    put(b, o, 8, "3276.7"); put(b, o + 8, 8, "1"); o += 16;
    put(b, o, 8, "-32768"); put(b, o + 8, 8, "-32768"); o += 16;
    put(b, o, 8, "32767"); put(b, o + 8, 8, "32767"); o += 16;
    o += 160; /* prefiltering */
    snprintf(t, sizeof t, "%d", spr);
    put(b, o, 8, t);
    snprintf(t, sizeof t, "%d", ann_spr);
    put(b, o + 8, 8, t);
    b->len = h;
    for (int r = 0; r < nrec; r++) {
        for (int i = 0; i < spr; i++) {
            int16_t v = (int16_t)(r * 100 + i);
            b->buf[b->len++] = (char)(v & 0xFF);
            b->buf[b->len++] = (char)((v >> 8) & 0xFF);
        }
        char a[512];
        size_t n = 0;
        if (onsets) {
            n = (size_t)snprintf(a, sizeof a, "%s\x14\x14", onsets[r]) + 1; /* keeps the NUL */
        } else {
            n = (size_t)snprintf(a, sizeof a, "+%d\x14\x14", r) + 1;
        }
        if (tal && tal[r]) { /* '|' stands for the NUL that ends a TAL */
            for (const char *c = tal[r]; *c && n < sizeof a; c++) a[n++] = *c == '|' ? '\0' : *c;
        }
        memset(b->buf + b->len, 0, (size_t)ann_spr * 2);
        memcpy(b->buf + b->len, a, n < (size_t)ann_spr * 2 ? n : (size_t)ann_spr * 2);
        b->len += (size_t)ann_spr * 2;
    }
}

static aiecg_status read_blob(const blob *b, aiecg_record **r, aiecg_error *e) {
    aiecg_read_options o = aiecg_read_options_default();
    o.format = AIECG_FORMAT_EDF;
    return aiecg_record_read_memory(b->buf, b->len, "t.edf", &o, r, e);
}

/* ---- real files ---------------------------------------------------------- */
static void contec_edf(void) {
    char dir[4096], path[4200];
    test_data_path("formats/edf", dir, sizeof dir);
    snprintf(path, sizeof path, "%s/0000050.ECG.edf", dir);
    aiecg_record *r = NULL;
    aiecg_error e;
    CHECK_OK(aiecg_record_open(path, NULL, &r, &e), &e);
    if (!r) return;
    /* README: 12 signals I..V6 at 800 Hz, 47.3 s, 1 sample per 0.00125 s record, phys +-1000 mV */
    CHECK_INT(aiecg_record_nleads(r), 12);
    CHECK_NEAR(aiecg_record_fs(r), 800.0, 0);
    CHECK_INT(aiecg_record_nsamples(r), 37855);
    aiecg_lead_info li;
    aiecg_record_lead_info(r, 0, &li);
    CHECK_STR(li.label, "I");
    CHECK_INT(li.lead, AIECG_LEAD_I);
    CHECK_STR(li.units, "mV");
    CHECK_NEAR(li.gain, 65535.0 / 2000.0, 1e-12);
    aiecg_record_lead_info(r, 11, &li);
    CHECK_INT(li.lead, AIECG_LEAD_V6);
    aiecg_record_meta m;
    aiecg_record_meta_get(r, &m);
    CHECK_STR(m.format, "edf");
    CHECK_INT(m.has_start_time, 1);
    CHECK_INT(m.year, 2020);
    CHECK_INT(m.month, 11);
    CHECK_INT(m.day, 16);
    CHECK_INT(m.hour, 21);
    CHECK_INT(m.minute, 44);
    CHECK_NEAR(m.second, 39, 0);
    /* mV follows the EDF map exactly: -1000 + (d + 32768) * 2000 / 65535 */
    const int32_t *a = aiecg_record_lead_adc(r, 1);
    const float *v = aiecg_record_lead_data(r, 1);
    CHECK(a != NULL);
    int bad = 0;
    for (int64_t i = 0; a && i < aiecg_record_nsamples(r); i++)
        bad += fabs(v[i] - (-1000.0 + (a[i] + 32768.0) * 2000.0 / 65535.0)) > 1e-4;
    CHECK_INT(bad, 0);
    /* Einthoven: III = II - I within the 30.5 uV step of this file (three roundings) */
    const int32_t *I = aiecg_record_lead_adc(r, 0), *II = a, *III = aiecg_record_lead_adc(r, 2);
    int off = 0;
    for (int64_t i = 0; I && III && i < aiecg_record_nsamples(r); i++) off += abs(II[i] - I[i] - III[i]) > 2;
    CHECK(off < aiecg_record_nsamples(r) / 100);
    aiecg_record_free(r);
}

/*
 * The same Contec recording as SCP-ECG (data/formats/README.md, cross-format
 * set): the EDF digital values must equal the SCP samples one for one. The
 * two files disagree on the scale (EDF header: +-1000 mV over 16 bits =
 * 30.5 uV per step; SCP: 5 uV), so only the ADC planes are compared.
 */
static void contec_edf_vs_scp(void) {
    char dir[4096], p1[4200], p2[4200];
    test_data_path("formats", dir, sizeof dir);
    snprintf(p1, sizeof p1, "%s/edf/0000050.ECG.edf", dir);
    snprintf(p2, sizeof p2, "%s/scp-ecg/0000050.ECG.scp", dir);
    aiecg_record *a = NULL, *b = NULL;
    aiecg_error e;
    CHECK_OK(aiecg_record_open(p1, NULL, &a, &e), &e);
    if (aiecg_record_open(p2, NULL, &b, &e) != AIECG_OK) {
        fprintf(stderr, "note: SCP reader failed (%s); cross-format check not run\n", e.message);
        aiecg_record_free(a);
        return;
    }
    if (a && b) {
        CHECK_INT(aiecg_record_nleads(b), 12);
        int64_t n = aiecg_record_nsamples(b) < aiecg_record_nsamples(a) ? aiecg_record_nsamples(b) : aiecg_record_nsamples(a);
        CHECK(n > 30000);
        for (int k = 0; k < 12 && k < aiecg_record_nleads(b); k++) {
            const int32_t *x = aiecg_record_lead_adc(a, k), *y = aiecg_record_lead_adc(b, k);
            int64_t diff = 0;
            for (int64_t i = 0; x && y && i < n; i++) diff += x[i] != y[i];
            CHECK_INT(diff, 0);
        }
    }
    aiecg_record_free(a);
    aiecg_record_free(b);
}

static void generator_edfplus(void) {
    char dir[4096], path[4200];
    test_data_path("wfdb-formats", dir, sizeof dir);
    snprintf(path, sizeof path, "%s/test_generator_2.edf", dir);
    aiecg_record *r = NULL;
    aiecg_error e;
    CHECK_OK(aiecg_record_open(path, NULL, &r, &e), &e);
    if (!r) return;
    /* EDFbrowser generator: 11 signals at 200 Hz, 600 records of 1 s, plus EDF Annotations */
    CHECK_INT(aiecg_record_nleads(r), 11);
    CHECK_NEAR(aiecg_record_fs(r), 200.0, 0);
    CHECK_INT(aiecg_record_nsamples(r), 120000);
    aiecg_lead_info li;
    aiecg_record_lead_info(r, 3, &li);
    CHECK_STR(li.label, "ECG");
    CHECK_STR(li.units, "uV");
    CHECK_NEAR(li.gain, 65535.0 / 2000.0 * 1000.0, 1e-6); /* per mV */
    aiecg_record_lead_info(r, 5, &li);
    CHECK_STR(li.label, "sine 1 Hz");
    /* a 1 Hz sine repeats every 200 samples; amplitude 100 uV = 0.1 mV */
    const float *s1 = aiecg_record_lead_data(r, 5);
    float mx = -1e9f;
    int mism = 0;
    for (int i = 0; i < 2000; i++) {
        if (s1[i] > mx) mx = s1[i];
        mism += fabs(s1[i] - s1[i + 200]) > 1e-4;
    }
    CHECK_NEAR(mx, 0.1, 0.002);
    CHECK_INT(mism, 0);
    /* header bytes 0xB0 (degree sign) in two units fields become '?' */
    aiecg_record_lead_info(r, 8, &li);
    CHECK(strchr(li.units, '?') != NULL);
    aiecg_record_meta m;
    aiecg_record_meta_get(r, &m);
    CHECK_INT(m.year, 2009);
    CHECK_INT(m.month, 12);
    CHECK_STR(m.device, "test generator");
    /* its two TALs: "RECORD START" at 0 s and "REC STOP" at 600 s */
    CHECK_INT(aiecg_record_nannotations(r), 2);
    const aiecg_annotation *an = aiecg_record_annotations(r);
    if (aiecg_record_nannotations(r) == 2) {
        CHECK_INT(an[0].code, 22);
        CHECK_STR(an[0].aux, "RECORD START");
        CHECK_INT(an[1].sample, 120000);
        CHECK_STR(an[1].aux, "REC STOP");
    }
    aiecg_record_free(r);

    snprintf(path, sizeof path, "%s/test_edfann.edf", dir);
    CHECK_INT(aiecg_record_open(path, NULL, &r, &e), AIECG_ERR_NOT_FOUND);
    CHECK(strstr(e.message, "only annotations") != NULL);
}

/* ---- crafted files ------------------------------------------------------- */
static void crafted_edfplus(void) {
    static const char *const tal[3] = {
        ("+0.5\x14N\x14|+0.75\x15" "0.25\x14V sub=1 chan=1 aux=(VT\x14|"),
        "+1.2\x14Recording paused\x14|",
        "+2.3\x14\xff\xfe bad utf8\x14|"};
    blob b;
    build(&b, "EDF+C", 3, 100, 60, tal, NULL);
    aiecg_record *r = NULL;
    aiecg_error e;
    CHECK_OK(read_blob(&b, &r, &e), &e);
    if (!r) return;
    CHECK_INT(aiecg_record_nleads(r), 1);
    CHECK_NEAR(aiecg_record_fs(r), 100, 0);
    CHECK_INT(aiecg_record_nsamples(r), 300);
    aiecg_lead_info li;
    aiecg_record_lead_info(r, 0, &li);
    CHECK_INT(li.lead, AIECG_LEAD_II);
    CHECK_NEAR(li.gain, 10000.0, 1e-9); /* 65535 / 6553.5 uV = 10 per uV */
    CHECK_INT(li.baseline, 0);
    CHECK_INT(aiecg_record_lead_adc(r, 0)[150], 150);
    CHECK_NEAR(aiecg_record_lead_data(r, 0)[250], 0.0250, 1e-7);
    aiecg_record_meta m;
    aiecg_record_meta_get(r, &m);
    CHECK_STR(m.patient_id, "P-123");
    CHECK_INT(m.sex, 'F');
    CHECK_INT(m.age, 51);
    CHECK_STR(m.record_name, "REC-7");
    CHECK_STR(m.device, "Holter X");
    CHECK_INT(m.year, 2002);
    CHECK_INT(aiecg_record_nannotations(r), 4);
    const aiecg_annotation *a = aiecg_record_annotations(r);
    if (aiecg_record_nannotations(r) == 4) {
        CHECK_INT(a[0].sample, 50);
        CHECK_INT(a[0].code, 1);
        CHECK_INT(a[1].sample, 75);
        CHECK_INT(a[1].code, 5);
        CHECK_INT(a[1].subtype, 1);
        CHECK_INT(a[1].channel, 1);
        CHECK_STR(a[1].aux, "(VT");
        CHECK_INT(a[2].code, 22);
        CHECK_STR(a[2].aux, "Recording paused");
        CHECK_STR(a[3].aux, "?? bad utf8");
    }
    aiecg_record_free(r);
}

static void crafted_edfplus_d(void) {
    /* EDF+D: records at 0, 1 and 3.5 s: a 1.5 s gap filled with NaN */
    static const char *const on[3] = {"+0", "+1", "+3.5"};
    blob b;
    build(&b, "EDF+D", 3, 100, 20, NULL, on);
    aiecg_record *r = NULL;
    aiecg_error e;
    CHECK_OK(read_blob(&b, &r, &e), &e);
    if (!r) return;
    CHECK_INT(aiecg_record_nsamples(r), 450);
    const float *v = aiecg_record_lead_data(r, 0);
    const int32_t *a = aiecg_record_lead_adc(r, 0);
    CHECK(isnan(v[200]) && isnan(v[349]));
    CHECK_INT(a[300], -32768);
    CHECK_INT(a[350], 200);
    CHECK_INT(a[199], 199);
    /* written back: the gap records are left out again (EDF+D) and read back identical */
    char path[4200];
    const char *bin = getenv("AIECG_BINARY_DIR");
    snprintf(path, sizeof path, "%s/test_edf_d.edf", bin ? bin : ".");
    CHECK_OK(aiecg_record_write(r, path, NULL, &e), &e);
    aiecg_record *q = NULL;
    CHECK_OK(aiecg_record_open(path, NULL, &q, &e), &e);
    if (q) {
        CHECK_INT(aiecg_record_nsamples(q), 450);
        CHECK(memcmp(aiecg_record_lead_adc(q, 0), a, 450 * 4) == 0);
        CHECK(isnan(aiecg_record_lead_data(q, 0)[250]));
        CHECK_NEAR(aiecg_record_lead_data(q, 0)[400], v[400], 0);
    }
    FILE *fp = fopen(path, "rb");
    char hdr[256] = "";
    if (fp) {
        CHECK(fread(hdr, 1, sizeof hdr, fp) == sizeof hdr);
        fclose(fp);
    }
    CHECK(memcmp(hdr + 192, "EDF+D", 5) == 0);
    CHECK(memcmp(hdr + 236, "4 ", 2) == 0); /* 5 records of 1 s, the one at 2 s left out */
    aiecg_record_free(q);
    remove(path);
    aiecg_record_free(r);

    /* going back in time is an error */
    static const char *const back[3] = {"+0", "+2", "+2.5"};
    build(&b, "EDF+D", 3, 100, 20, NULL, back);
    CHECK_INT(read_blob(&b, &r, &e), AIECG_ERR_FORMAT);
    CHECK(strstr(e.message, "before the end") != NULL);
    /* a gap a thousand times the data is refused, not allocated */
    static const char *const far[3] = {"+0", "+1", "+99999"};
    build(&b, "EDF+D", 3, 100, 20, NULL, far);
    CHECK_INT(read_blob(&b, &r, &e), AIECG_ERR_LIMIT);
}

static void expect_fail(blob *b, aiecg_status want, const char *needle) {
    aiecg_record *r = NULL;
    aiecg_error e;
    aiecg_error_clear(&e);
    aiecg_status s = read_blob(b, &r, &e);
    CHECK_INT(s, want);
    CHECK(r == NULL);
    if (needle && !strstr(e.message, needle)) {
        fprintf(stderr, "message \"%s\" lacks \"%s\"\n", e.message, needle);
        CHECK(0);
    }
    aiecg_record_free(r);
}

static void bad_headers(void) {
    blob b;
    build(&b, "EDF+C", 2, 100, 20, NULL, NULL);
    size_t full = b.len;
    /* truncation anywhere: header, signal headers, data */
    size_t cuts[] = {0, 100, 255, 300, 767, 900, full - 1};
    for (size_t i = 0; i < (sizeof(cuts) / sizeof(cuts[0])); i++) {
        build(&b, "EDF+C", 2, 100, 20, NULL, NULL);
        b.len = cuts[i];
        expect_fail(&b, b.len < 256 || b.len >= 768 ? AIECG_ERR_TRUNCATED : AIECG_ERR_TRUNCATED, "byte");
    }
    build(&b, "EDF+C", 2, 100, 20, NULL, NULL);
    put(&b, 252, 4, "9999");
    expect_fail(&b, AIECG_ERR_RANGE, "byte 252");
    build(&b, "EDF+C", 2, 100, 20, NULL, NULL);
    put(&b, 252, 4, "0");
    expect_fail(&b, AIECG_ERR_RANGE, "number of signals");
    build(&b, "EDF+C", 2, 100, 20, NULL, NULL);
    put(&b, 236, 8, "-5");
    expect_fail(&b, AIECG_ERR_RANGE, "byte 236");
    build(&b, "EDF+C", 2, 100, 20, NULL, NULL);
    put(&b, 236, 8, "9999999");
    expect_fail(&b, AIECG_ERR_TRUNCATED, "file ends early");
    build(&b, "EDF+C", 2, 100, 20, NULL, NULL);
    put(&b, 244, 8, "abc");
    expect_fail(&b, AIECG_ERR_FORMAT, "byte 244: field 'duration of a data record' is not a number");
    build(&b, "EDF+C", 2, 100, 20, NULL, NULL);
    put(&b, 244, 8, "0");
    expect_fail(&b, AIECG_ERR_FORMAT, "must be > 0");
    build(&b, "EDF+C", 2, 100, 20, NULL, NULL);
    put(&b, 184, 8, "1024");
    expect_fail(&b, AIECG_ERR_FORMAT, "header bytes");
    build(&b, "EDF+C", 2, 100, 20, NULL, NULL);
    put(&b, 0, 8, "1");
    expect_fail(&b, AIECG_ERR_FORMAT, "byte 0");
    /* samples per record of signal 1 at 256 + 2*(16+80+8*5+80) = 688 */
    build(&b, "EDF+C", 2, 100, 20, NULL, NULL);
    put(&b, 688, 8, "-1");
    expect_fail(&b, AIECG_ERR_RANGE, "byte 688");
    /* digital max (signal 1 at 256 + 2*(16+80+8*4) = 512) equal to digital min */
    build(&b, "EDF+C", 2, 100, 20, NULL, NULL);
    put(&b, 512, 8, "-32768");
    expect_fail(&b, AIECG_ERR_FORMAT, "digital maximum");
    build(&b, "EDF+C", 2, 100, 20, NULL, NULL);
    put(&b, 512, 8, "99999");
    expect_fail(&b, AIECG_ERR_RANGE, "byte 512");
    /* physical max (at 256 + 2*(16+80+8+8) = 480) equal to physical min */
    build(&b, "EDF+C", 2, 100, 20, NULL, NULL);
    put(&b, 480, 8, "-3276.8");
    expect_fail(&b, AIECG_ERR_FORMAT, "physical maximum equals");
    /* a non-ASCII byte inside a numeric field */
    build(&b, "EDF+C", 2, 100, 20, NULL, NULL);
    b.buf[482] = (char)0xE9;
    expect_fail(&b, AIECG_ERR_FORMAT, "byte 482");
    build(&b, "EDF+C", 2, 100, 20, NULL, NULL);
    put(&b, 168, 8, "2.3.2002");
    expect_fail(&b, AIECG_ERR_FORMAT, "start date");
}

static void bad_tals(void) {
    static const char *const cases[][2] = {
        {"0.5\x14N\x14|", "onset"},           /* no sign */
        {"+0.5\x15x\x14N\x14|", "duration"},  /* bad duration */
        {"+1e3\x14N\x14|", "onset"},          /* exponent not allowed */
        {"+0.5\x14N|", "0x14"},               /* text not closed */
        {"+0.5", "onset"},                        /* cut inside onset */
    };
    for (size_t i = 0; i < (sizeof(cases) / sizeof(cases[0])); i++) {
        const char *tal[2] = {cases[i][0], NULL};
        blob b;
        build(&b, "EDF+C", 2, 100, 20, tal, NULL);
        aiecg_record *r = NULL;
        aiecg_error e;
        aiecg_status s = read_blob(&b, &r, &e);
        CHECK(s == AIECG_ERR_FORMAT || s == AIECG_ERR_TRUNCATED);
        CHECK(strstr(e.message, "byte") != NULL);
        if (!strstr(e.message, cases[i][1])) {
            fprintf(stderr, "case %zu: \"%s\"\n", i, e.message);
            CHECK(0);
        }
        aiecg_record_free(r);
    }
    /* a TAL that fills the block exactly, no terminating NUL */
    blob b;
    const char *tal[2] = {"+0.5\x14NNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNN\x14", NULL};
    build(&b, "EDF+C", 2, 100, 20, tal, NULL);
    aiecg_record *r = NULL;
    aiecg_error e;
    aiecg_status s = read_blob(&b, &r, &e);
    CHECK(s == AIECG_ERR_FORMAT || s == AIECG_ERR_TRUNCATED);
    aiecg_record_free(r);
}

/* Seeds of the fuzz corpus (generated, see fuzz/corpus/edf): two rates, and BDF 24-bit. */
static void corpus_variants(void) {
    const char *src = getenv("AIECG_SOURCE_DIR");
    char path[4200];
    aiecg_record *r = NULL;
    aiecg_error e;
    snprintf(path, sizeof path, "%s/fuzz/corpus/edf/plain_two_rates.edf", src ? src : ".");
    CHECK_OK(aiecg_record_open(path, NULL, &r, &e), &e);
    if (r) {
        /* "EKG" at 16 per 0.125 s = 128 Hz kept; "Resp" at 32 Hz skipped */
        CHECK_INT(aiecg_record_nleads(r), 1);
        CHECK_NEAR(aiecg_record_fs(r), 128, 0);
        CHECK_INT(aiecg_record_nsamples(r), 32);
        aiecg_lead_info li;
        aiecg_record_lead_info(r, 0, &li);
        CHECK_STR(li.label, "EKG");
        /* sample k of record r is (r*37 + k*11) % 200 - 100 */
        CHECK_INT(aiecg_record_lead_adc(r, 0)[16 + 3], (37 + 33) % 200 - 100);
    }
    aiecg_record_free(r);
    snprintf(path, sizeof path, "%s/fuzz/corpus/edf/bdf.bdf", src ? src : ".");
    CHECK_OK(aiecg_record_open(path, NULL, &r, &e), &e);
    if (r) {
        aiecg_record_meta m;
        aiecg_record_meta_get(r, &m);
        CHECK_STR(m.format, "bdf");
        CHECK_INT(aiecg_record_nsamples(r), 16);
        CHECK_INT(aiecg_record_lead_adc(r, 0)[0], -100);
        CHECK_INT(aiecg_record_lead_adc(r, 0)[8 + 2], (37 + 22) % 200 - 100);
        aiecg_lead_info li;
        aiecg_record_lead_info(r, 0, &li);
        CHECK_INT(li.adc_resolution, 24);
        CHECK_NEAR(li.gain, 16777215.0 / 524.287, 1e-6);
    }
    aiecg_record_free(r);
}

/* ---- writer ---------------------------------------------------------------- */
static void write_read_back(void) {
    /* a record built in memory: 3 leads at 250 Hz, odd gains, 1001 samples (padding needed) */
    aiecg_record *r;
    aiecg_error e;
    CHECK_OK(aiecg_record_new(3, 1001, 250, 1, &r, &e), &e);
    static const double gains[3] = {200, 1716, 203.7};
    static const int32_t base[3] = {1024, 6, -5};
    static const char *const labels[3] = {"MLII", "V1", "aVF"};
    for (int k = 0; k < 3; k++) {
        aiecg_lead_info li = {0};
        li.label = labels[k];
        li.gain = gains[k];
        li.baseline = base[k];
        li.units = "mV";
        CHECK_OK(aiecg_record_set_lead(r, k, &li), NULL);
        int32_t *a = aiecg_record_lead_adc_mut(r, k);
        for (int i = 0; i < 1001; i++) a[i] = base[k] + (int32_t)(((i * 37 + k * 11) % 4001) - 2000);
    }
    CHECK_OK(aiecg_record_adc_to_mv(r), NULL);
    aiecg_record_meta m;
    aiecg_record_meta_get(r, &m);
    m.record_name = "rec one";
    m.patient_id = "ID 42";
    m.sex = 'M';
    m.age = 63;
    m.has_start_time = 1;
    m.year = 2024, m.month = 2, m.day = 29, m.hour = 23, m.minute = 59, m.second = 58.25;
    CHECK_OK(aiecg_record_set_meta(r, &m), NULL);
    aiecg_annotation a1 = {.sample = 0, .code = 28, .aux = "(AFIB"};
    aiecg_annotation a2 = {.sample = 77, .code = 1};
    aiecg_annotation a3 = {.sample = 77, .code = 5, .subtype = 2, .channel = 1, .num = 3, .aux = "x\ny\\z"};
    aiecg_annotation a4 = {.sample = 1000, .code = 22, .aux = "free text note"};
    aiecg_annotation a5 = {.sample = 500, .code = 22, .aux = "N looks like a beat"};
    CHECK_OK(aiecg_record_add_annotation(r, &a1), NULL);
    CHECK_OK(aiecg_record_add_annotation(r, &a2), NULL);
    CHECK_OK(aiecg_record_add_annotation(r, &a3), NULL);
    CHECK_OK(aiecg_record_add_annotation(r, &a4), NULL);
    CHECK_OK(aiecg_record_add_annotation(r, &a5), NULL);
    char path[4200];
    const char *bin = getenv("AIECG_BINARY_DIR");
    snprintf(path, sizeof path, "%s/test_edf_out.edf", bin ? bin : ".");
    CHECK_OK(aiecg_record_write(r, path, NULL, &e), &e);
    aiecg_record *q = NULL;
    CHECK_OK(aiecg_record_open(path, NULL, &q, &e), &e);
    if (q) {
        CHECK_INT(aiecg_record_nsamples(q), 1001);
        CHECK_NEAR(aiecg_record_fs(q), 250, 0);
        for (int k = 0; k < 3; k++) {
            aiecg_lead_info x, y;
            aiecg_record_lead_info(r, k, &x);
            aiecg_record_lead_info(q, k, &y);
            CHECK_STR(y.label, x.label);
            CHECK_STR(y.units, "mV");
            CHECK(y.gain == x.gain);
            CHECK_INT(y.baseline, x.baseline);
            CHECK(memcmp(aiecg_record_lead_adc(r, k), aiecg_record_lead_adc(q, k), 1001 * 4) == 0);
            CHECK(memcmp(aiecg_record_lead_data(r, k), aiecg_record_lead_data(q, k), 1001 * 4) == 0);
        }
        aiecg_record_meta n;
        aiecg_record_meta_get(q, &n);
        CHECK_STR(n.record_name, "rec one");
        CHECK_STR(n.patient_id, "ID 42");
        CHECK_INT(n.sex, 'M');
        CHECK_INT(n.age, 63);
        CHECK_INT(n.year, 2024);
        CHECK_INT(n.day, 29);
        CHECK_INT(n.minute, 59);
        CHECK_NEAR(n.second, 58.25, 1e-9);
        CHECK_INT(aiecg_record_nannotations(q), 5);
        const aiecg_annotation *x = aiecg_record_annotations(r), *y = aiecg_record_annotations(q);
        for (int i = 0; i < 5 && aiecg_record_nannotations(q) == 5; i++) {
            CHECK_INT(y[i].sample, x[i].sample);
            CHECK_INT(y[i].code, x[i].code);
            CHECK_INT(y[i].subtype, x[i].subtype);
            CHECK_INT(y[i].channel, x[i].channel);
            CHECK_INT(y[i].num, x[i].num);
            CHECK((x[i].aux == NULL) == (y[i].aux == NULL));
            if (x[i].aux && y[i].aux) CHECK_STR(y[i].aux, x[i].aux);
        }
    }
    aiecg_record_free(q);
    aiecg_record_free(r);
    remove(path);

    /* mV-only record: quantised at 1 uV */
    CHECK_OK(aiecg_record_new(1, 500, 500, 0, &r, &e), &e);
    float *v = aiecg_record_lead_data_mut(r, 0);
    for (int i = 0; i < 500; i++) v[i] = (float)(1.5 * sin(i * 0.05));
    CHECK_OK(aiecg_record_write(r, path, NULL, &e), &e);
    CHECK_OK(aiecg_record_open(path, NULL, &q, &e), &e);
    if (q) {
        double worst = 0;
        for (int i = 0; i < 500; i++) worst = fmax(worst, fabs(aiecg_record_lead_data(q, 0)[i] - v[i]));
        CHECK(worst <= 0.0005 + 1e-6);
    }
    aiecg_record_free(q);
    aiecg_record_free(r);
    remove(path);
}

static void probe(void) {
    blob b;
    build(&b, "EDF+C", 1, 10, 10, NULL, NULL);
    CHECK_INT(aiecg_format_detect(b.buf, b.len, "x.dat"), AIECG_FORMAT_EDF);
    CHECK_INT(aiecg_format_detect("0       garbage", 15, "x.edf"), AIECG_FORMAT_EDF);
}

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
    static const char *const tal[3] = {"+0.5\x14N\x14|+0.7\x14V\x14|", "+1.5\x14" "A\x14|", NULL};
    blob b;
    build(&b, "EDF+C", 3, 100, 30, tal, NULL);
    int ok_seen = 0;
    for (long n = 0; n < 60; n++) {
        fail_after = n;
        aiecg_set_allocator(counting_malloc, counting_realloc, free);
        aiecg_record *r = NULL;
        aiecg_error e;
        aiecg_status s = read_blob(&b, &r, &e);
        aiecg_set_allocator(NULL, NULL, NULL);
        if (s == AIECG_OK) {
            ok_seen = 1;
            CHECK_INT(aiecg_record_nannotations(r), 3);
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
    RUN(contec_edf);
    RUN(contec_edf_vs_scp);
    RUN(generator_edfplus);
    RUN(crafted_edfplus);
    RUN(crafted_edfplus_d);
    RUN(bad_headers);
    RUN(bad_tals);
    RUN(corpus_variants);
    RUN(write_read_back);
    RUN(probe);
    RUN(read_oom);
    return test_summary();
}
