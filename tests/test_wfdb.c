/*
 * WFDB reader/writer tests on real data: every MIT-BIH, LUDB and NSTDB record,
 * a 1-in-30 sample of PTB-XL, the readable records of the wfdb-formats
 * collection (every storage format, skew, samples per frame, byte offsets,
 * FLAC, multi-segment), each read with every checksum verified; annotation
 * counts against published values; write -> read round trips in formats 16
 * and 212; and hostile headers, signal files and annotation files.
 */
#include "test.h"

#include "aiecg/wfdb.h"

#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

static char g_tmp[512];
static uint8_t *slurp(const char *path, size_t *n);

static aiecg_record *open_rec(const char *path, const aiecg_read_options *opt) {
    aiecg_record *r = NULL;
    aiecg_error e;
    aiecg_error_clear(&e);
    aiecg_status s = aiecg_record_open(path, opt, &r, &e);
    if (s) fprintf(stderr, "open %s: %s: %s\n", path, aiecg_status_name(s), e.message);
    return r;
}

/* Every lead has a checksum and it is OK; the first stored sample equals the initial value. */
static int all_checksums_ok(const aiecg_record *r, int check_init, const char *what) {
    int ok = 1;
    for (int l = 0; l < aiecg_record_nleads(r); l++) {
        aiecg_lead_info li;
        aiecg_record_lead_info(r, l, &li);
        if (li.checksum_state != AIECG_CHECKSUM_OK) {
            fprintf(stderr, "%s lead %d (%s): checksum state %d\n", what, l, li.label, li.checksum_state);
            ok = 0;
        }
        const int32_t *a = aiecg_record_lead_adc(r, l);
        if (check_init && (!a || a[0] != li.initial_value)) {
            fprintf(stderr, "%s lead %d: first sample %d, initial value %lld\n", what, l, a ? a[0] : 0,
                    (long long)li.initial_value);
            ok = 0;
        }
    }
    return ok;
}

static int64_t count_code(const aiecg_record *r, int code) {
    int64_t n = 0;
    const aiecg_annotation *a = aiecg_record_annotations(r);
    for (int64_t i = 0; i < aiecg_record_nannotations(r); i++) n += a[i].code == code;
    return n;
}

static int64_t count_beats(const aiecg_record *r) {
    int64_t n = 0;
    const aiecg_annotation *a = aiecg_record_annotations(r);
    for (int64_t i = 0; i < aiecg_record_nannotations(r); i++) n += aiecg_annotation_is_beat(a[i].code);
    return n;
}

/* Reads a RECORDS-style list "a\nb\n" from dir/RECORDS into names (max n). */
static int read_records(const char *dir, char names[][64], int n) {
    char p[600];
    if (strlen(dir) > 500) return 0;
    snprintf(p, sizeof p, "%s/RECORDS", dir);
    FILE *f = fopen(p, "r");
    if (!f) return 0;
    int k = 0;
    char line[256];
    while (k < n && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0]) continue;
        line[63] = '\0';
        memcpy(names[k++], line, strlen(line) + 1);
    }
    fclose(f);
    return k;
}

/* ---- MIT-BIH ---------------------------------------------------------- */

static void test_mitdb_all(void) {
    char dir[512], names[64][64], p[1200];
    test_data_path("mitdb", dir, sizeof dir);
    int n = read_records(dir, names, 64);
    CHECK_INT(n, 48);
    int64_t total_beats = 0;
    int verified = 0;
    for (int i = 0; i < n; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        aiecg_record *r = open_rec(p, NULL);
        CHECK(r != NULL);
        if (!r) continue;
        CHECK_NEAR(aiecg_record_fs(r), 360.0, 0);
        CHECK_INT(aiecg_record_nsamples(r), 650000);
        CHECK_INT(aiecg_record_nleads(r), 2);
        if (all_checksums_ok(r, 1, p)) verified++;
        CHECK(aiecg_record_nannotations(r) > 0);
        total_beats += count_beats(r);
        aiecg_record_meta m;
        aiecg_record_meta_get(r, &m);
        CHECK_STR(m.record_name, names[i]);
        CHECK_STR(m.format, "wfdb");
        aiecg_record_free(r);
    }
    CHECK_INT(verified, 48);
    printf("mitdb: %d/48 records, every checksum verified; %lld beat annotations\n", verified,
           (long long)total_beats);
    /* MIT-BIH has 109,494 beat labels over its 48 records (PhysioNet MIT-BIH directory) */
    CHECK_INT(total_beats, 109494);
}

static void test_mitdb_100(void) {
    char dir[512], p[700];
    test_data_path("mitdb", dir, sizeof dir);
    snprintf(p, sizeof p, "%s/100.hea", dir);
    aiecg_record *r = open_rec(p, NULL);
    CHECK(r != NULL);
    if (!r) return;
    /* 100.atr: 2239 N, 33 A, 1 V and one rhythm (+) annotation */
    CHECK_INT(aiecg_record_nannotations(r), 2274);
    CHECK_INT(count_beats(r), 2273);
    CHECK_INT(count_code(r, aiecg_annotation_code_parse("N")), 2239);
    CHECK_INT(count_code(r, aiecg_annotation_code_parse("A")), 33);
    CHECK_INT(count_code(r, aiecg_annotation_code_parse("V")), 1);
    CHECK_INT(count_code(r, aiecg_annotation_code_parse("+")), 1);
    const aiecg_annotation *a = aiecg_record_annotations(r);
    CHECK_STR(a[0].aux, "(N");
    CHECK_INT(a[0].code, 28);
    CHECK_INT(a[1].sample, 77); /* first beat, as rdann prints it */
    aiecg_lead_info li;
    aiecg_record_lead_info(r, 0, &li);
    CHECK_STR(li.label, "MLII");
    CHECK_INT(li.lead, AIECG_LEAD_MLII);
    CHECK_NEAR(li.gain, 200, 0);
    CHECK_INT(li.baseline, 1024);
    CHECK_INT(li.adc_resolution, 11);
    CHECK_INT(li.initial_value, 995);
    /* mV = (adc - 1024) / 200 */
    CHECK_NEAR(aiecg_record_lead_data(r, 0)[0], (995 - 1024) / 200.0, 1e-6);
    aiecg_record_meta m;
    aiecg_record_meta_get(r, &m);
    CHECK_INT(m.age, 69);
    CHECK_INT(m.sex, 'M');
    aiecg_record_free(r);
    /* no annotations when asked */
    aiecg_read_options o = aiecg_read_options_default();
    o.skip_annotations = 1;
    r = open_rec(p, &o);
    CHECK(r && aiecg_record_nannotations(r) == 0);
    aiecg_record_free(r);
    /* an annotator that does not exist is an error */
    o = aiecg_read_options_default();
    o.annotator = "nosuch";
    aiecg_error e;
    CHECK_INT(aiecg_record_open(p, &o, &r, &e), AIECG_ERR_NOT_FOUND);
    CHECK(strstr(e.message, "100.nosuch") != NULL);
}

static void test_mitdb_aux(void) {
    /* 201 has rhythm changes with aux text, including "(AFIB" */
    char dir[512], p[700];
    test_data_path("mitdb", dir, sizeof dir);
    snprintf(p, sizeof p, "%s/201", dir);
    aiecg_record *r = open_rec(p, NULL);
    CHECK(r != NULL);
    if (!r) return;
    int afib = 0;
    const aiecg_annotation *a = aiecg_record_annotations(r);
    for (int64_t i = 0; i < aiecg_record_nannotations(r); i++)
        if (a[i].aux && !strcmp(a[i].aux, "(AFIB")) afib++;
    CHECK(afib > 0);
    aiecg_record_free(r);
}

/* ---- LUDB --------------------------------------------------------------- */

static void test_ludb_all(void) {
    char dir[512], p[700];
    test_data_path("ludb", dir, sizeof dir);
    int verified = 0;
    static const aiecg_lead want[12] = {AIECG_LEAD_I,  AIECG_LEAD_II, AIECG_LEAD_III, AIECG_LEAD_AVR,
                                        AIECG_LEAD_AVL, AIECG_LEAD_AVF, AIECG_LEAD_V1, AIECG_LEAD_V2,
                                        AIECG_LEAD_V3, AIECG_LEAD_V4, AIECG_LEAD_V5, AIECG_LEAD_V6};
    int64_t waves = 0;
    for (int i = 1; i <= 100; i++) {
        snprintf(p, sizeof p, "%s/data/%d", dir, i);
        aiecg_read_options o = aiecg_read_options_default();
        o.annotator = "ii";
        aiecg_record *r = open_rec(p, &o);
        CHECK(r != NULL);
        if (!r) continue;
        CHECK_INT(aiecg_record_nleads(r), 12);
        CHECK_INT(aiecg_record_nsamples(r), 5000);
        CHECK_NEAR(aiecg_record_fs(r), 500, 0);
        if (all_checksums_ok(r, 1, p)) verified++;
        for (int l = 0; l < 12; l++) {
            aiecg_lead_info li;
            aiecg_record_lead_info(r, l, &li);
            CHECK_INT(li.lead, want[l]);
        }
        aiecg_record_meta m;
        aiecg_record_meta_get(r, &m);
        CHECK(m.age >= 0 || m.age == -1);
        CHECK(m.sex == 'M' || m.sex == 'F');
        /* the lead II delineation: P, QRS (N), T peaks with "(" and ")" around them */
        CHECK(aiecg_record_nannotations(r) > 0);
        CHECK(count_code(r, aiecg_annotation_code_parse("(")) > 0);
        CHECK(count_code(r, aiecg_annotation_code_parse(")")) > 0);
        waves += count_code(r, aiecg_annotation_code_parse("N"));
        aiecg_record_free(r);
    }
    CHECK_INT(verified, 100);
    printf("ludb: %d/100 records, every checksum verified; %lld QRS marks in lead II\n", verified,
           (long long)waves);
    /* record 1 comments: "#<age>: 51", "#<sex>: F" */
    snprintf(p, sizeof p, "%s/data/1", dir);
    aiecg_record *r = open_rec(p, NULL);
    if (r) {
        aiecg_record_meta m;
        aiecg_record_meta_get(r, &m);
        CHECK_INT(m.age, 51);
        CHECK_INT(m.sex, 'F');
        aiecg_record_free(r);
    }
}

static void test_ludb_per_lead_files(void) {
    char dir[512], p[700], ap[760];
    test_data_path("ludb", dir, sizeof dir);
    snprintf(p, sizeof p, "%s/data/1", dir);
    aiecg_read_options o = aiecg_read_options_default();
    o.skip_annotations = 1;
    aiecg_record *r = open_rec(p, &o);
    CHECK(r != NULL);
    if (!r) return;
    static const char *ext[12] = {"i", "ii", "iii", "avr", "avl", "avf", "v1", "v2", "v3", "v4", "v5", "v6"};
    int64_t before = 0;
    for (int k = 0; k < 12; k++) {
        snprintf(ap, sizeof ap, "%s.%s", p, ext[k]);
        aiecg_error e;
        CHECK_OK(aiecg_wfdb_annotations_read(ap, 1, r, &e), &e);
        CHECK(aiecg_record_nannotations(r) > before);
        before = aiecg_record_nannotations(r);
        aiecg_annotation *arr;
        int64_t n;
        CHECK_OK(aiecg_wfdb_annotations_load(ap, &arr, &n, &e), &e);
        CHECK(n > 0);
        for (int64_t i = 1; i < n; i++) CHECK(arr[i].sample >= arr[i - 1].sample);
        for (int64_t i = 0; i < n; i++) CHECK(arr[i].sample >= 0 && arr[i].sample < 5000);
        aiecg_wfdb_annotations_free(arr, n);
    }
    aiecg_record_free(r);
}

/* ---- NSTDB, PTB-XL ---------------------------------------------------- */

static void test_nstdb_all(void) {
    char dir[512], names[64][64], p[1200];
    test_data_path("nstdb", dir, sizeof dir);
    int n = read_records(dir, names, 64), verified = 0;
    CHECK(n >= 8);
    for (int i = 0; i < n; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        aiecg_record *r = open_rec(p, NULL);
        CHECK(r != NULL);
        if (!r) continue;
        if (all_checksums_ok(r, 1, p)) verified++;
        aiecg_record_free(r);
    }
    CHECK_INT(verified, n);
    printf("nstdb: %d/%d records, every checksum verified\n", verified, n);
}

static void test_ptbxl_sample(void) {
    char dir[512], p[800];
    test_data_path("ptbxl", dir, sizeof dir);
    int tried = 0, verified = 0;
    /* ecg_id 1..21837 (some ids are absent: folds 9/10 are not in this tree); every 30th */
    for (int id = 1; id <= 21837; id += 30) {
        snprintf(p, sizeof p, "%s/records100/%02d000/%05d_lr.hea", dir, id / 1000, id);
        FILE *f = fopen(p, "r");
        if (!f) continue;
        fclose(f);
        tried++;
        aiecg_record *r = open_rec(p, NULL);
        CHECK(r != NULL);
        if (!r) continue;
        CHECK_INT(aiecg_record_nleads(r), 12);
        CHECK_INT(aiecg_record_nsamples(r), 1000);
        CHECK_NEAR(aiecg_record_fs(r), 100, 0);
        aiecg_lead_info li;
        aiecg_record_lead_info(r, 3, &li);
        CHECK_INT(li.lead, AIECG_LEAD_AVR);
        if (all_checksums_ok(r, 1, p)) verified++;
        aiecg_record_free(r);
    }
    CHECK(tried >= 500);
    CHECK_INT(verified, tried);
    printf("ptbxl: %d/%d sampled records, every checksum verified\n", verified, tried);
}

/* ---- wfdb-formats --------------------------------------------------------- */

static void test_formats_collection(void) {
    char dir[512], p[800];
    test_data_path("wfdb-formats", dir, sizeof dir);
    static const struct {
        const char *name;
        double fs;
        int64_t ns;
        int nl;
        int init_ok; /* header initial values match the data (some test headers are edited copies) */
    } recs[] = {
        {"100", 360, 650000, 2, 1},           {"100-no-len", 360, 650000, 2, 1},
        {"100_3chan", 360, 999, 3, 1},        {"100skew", 360, 650000, 2, 0},
        {"03700181", 500, 300000, 3, 0},     {"3000003_0003", 125, 1028, 2, 1},
        {"310derive", 250, 1026, 2, 1},       {"310derive_2", 360, 1020, 1, 1},
        {"310derive_3", 360, 1018, 1, 1},     {"311derive", 250, 1026, 1, 1},
        {"311derive_2", 360, 1020, 1, 1},     {"311derive_3", 360, 1019, 1, 1},
        {"311derive_4", 360, 1018, 1, 1},     {"a103l", 250, 82500, 3, 1},
        {"a103l-no-len", 250, 82500, 3, 1},   {"binformats", 200, 499, 10, 1},
        {"flacformats", 200, 499, 3, 1},      {"flac_3_constant", 250, 5600000, 3, 1},
        {"mixedsignals", 62.4725 * 4, 14400 * 4, 6, 0}, {"p10143", 500, 450000, 2, 1},
        {"s0010_re", 1000, 38400, 15, 1},     {"test01_00s", 500, 4000, 4, 1},
        {"test01_00s_frame", 1000, 8000, 3, 0}, {"test01_00s_skew", 500, 4000, 4, 0},
        {"test01_00s_skewframe", 1000, 8000, 3, 0}, {"test_generator_2", 200, 120000, 12, 0},
        {"v102s", 250, 75000, 4, 1},
        {"multi-segment/041s/041s", 500, 8000, 7, 0},
        {"multi-segment/fixed1/v102s", 250, 225000, 4, 0},
        {"multi-segment/s00001/s00001-2896-10-09-01-56", 125, 7500, 4, 0},
        {"multi-segment/s25047/s25047-2704-05-04-10-44", 125, 543240, 3, 0},
    };
    int ok = 0;
    for (size_t i = 0; i < sizeof recs / sizeof recs[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, recs[i].name);
        aiecg_record *r = open_rec(p, NULL);
        CHECK(r != NULL);
        if (!r) {
            fprintf(stderr, "  (%s)\n", recs[i].name);
            continue;
        }
        CHECK_NEAR(aiecg_record_fs(r), recs[i].fs, 1e-6);
        CHECK_INT(aiecg_record_nsamples(r), recs[i].ns);
        CHECK_INT(aiecg_record_nleads(r), recs[i].nl);
        int all = 1;
        int any = 0;
        for (int l = 0; l < aiecg_record_nleads(r); l++) {
            aiecg_lead_info li;
            aiecg_record_lead_info(r, l, &li);
            if (li.checksum_state == AIECG_CHECKSUM_BAD) {
                fprintf(stderr, "%s lead %d: checksum mismatch\n", recs[i].name, l);
                all = 0;
            }
            any += li.checksum_state == AIECG_CHECKSUM_OK;
        }
        if (strstr(recs[i].name, "s00001") == NULL) CHECK(any > 0);
        if (recs[i].init_ok) all &= all_checksums_ok(r, 1, recs[i].name);
        CHECK(all);
        ok += all;
        aiecg_record_free(r);
    }
    printf("wfdb-formats: %d/%zu records read with no checksum mismatch\n", ok,
           sizeof recs / sizeof recs[0]);
}

static aiecg_record *open_fmt(const char *name) {
    char dir[512], p[800];
    test_data_path("wfdb-formats", dir, sizeof dir);
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return open_rec(p, NULL);
}

static void test_skew_frame_offset(void) {
    aiecg_record *base = open_fmt("test01_00s"), *skew = open_fmt("test01_00s_skew"),
                 *frame = open_fmt("test01_00s_frame"), *sf = open_fmt("test01_00s_skewframe");
    CHECK(base && skew && frame && sf);
    if (base && skew && frame && sf) {
        const int32_t *b1 = aiecg_record_lead_adc(base, 1), *s1 = aiecg_record_lead_adc(skew, 1);
        for (int t = 0; t < 3997; t++) CHECK_INT(s1[t], b1[t + 3]);
        /* past the end of the file: invalid (NaN in mV) */
        CHECK(isnan(aiecg_record_lead_data(skew, 1)[3998]));
        /* frame: 1 + 2 + 1 samples; signal 1 takes samples 1 and 2 of each 4-sample frame */
        const int32_t *b0 = aiecg_record_lead_adc(base, 0), *b2 = aiecg_record_lead_adc(base, 2),
                      *b3 = aiecg_record_lead_adc(base, 3);
        const int32_t *f0 = aiecg_record_lead_adc(frame, 0), *f1 = aiecg_record_lead_adc(frame, 1),
                      *f2 = aiecg_record_lead_adc(frame, 2);
        for (int t = 0; t < 4000; t++) {
            CHECK_INT(f1[2 * t], b1[t]);
            CHECK_INT(f1[2 * t + 1], b2[t]);
            CHECK_INT(f0[2 * t], b0[t]); /* held over both samples of the frame */
            CHECK_INT(f0[2 * t + 1], b0[t]);
            CHECK_INT(f2[2 * t], b3[t]);
        }
        const int32_t *sf0 = aiecg_record_lead_adc(sf, 0);
        for (int t = 0; t < 3990; t++) CHECK_INT(sf0[2 * t], b0[t + 3]);
    }
    aiecg_record_free(base);
    aiecg_record_free(skew);
    aiecg_record_free(frame);
    aiecg_record_free(sf);
    /* 100skew: V5 is 100's V5 three samples later */
    aiecg_record *a = open_fmt("100"), *b = open_fmt("100skew");
    CHECK(a && b);
    if (a && b) {
        const int32_t *x = aiecg_record_lead_adc(a, 1), *y = aiecg_record_lead_adc(b, 1);
        int same = 1;
        for (int t = 0; t < 649997; t++) same &= y[t] == x[t + 3];
        CHECK(same);
    }
    aiecg_record_free(a);
    aiecg_record_free(b);
    /* a103l: signals start at byte offset 24 */
    a = open_fmt("a103l");
    b = open_fmt("a103l-no-len");
    CHECK(a && b);
    if (a && b) {
        for (int l = 0; l < 3; l++)
            CHECK(!memcmp(aiecg_record_lead_adc(a, l), aiecg_record_lead_adc(b, l), 82500 * 4));
    }
    aiecg_record_free(a);
    aiecg_record_free(b);
}

static void test_multisegment(void) {
    aiecg_record *m = open_fmt("multi-segment/fixed1/v102s");
    aiecg_record *s[3] = {open_fmt("multi-segment/fixed1/v102s_1"), open_fmt("multi-segment/fixed1/v102s_2"),
                          open_fmt("multi-segment/fixed1/v102s_3")};
    CHECK(m && s[0] && s[1] && s[2]);
    if (m && s[0] && s[1] && s[2]) {
        for (int k = 0; k < 3; k++)
            for (int l = 0; l < 4; l++)
                CHECK(!memcmp(aiecg_record_lead_adc(m, l) + 75000 * k, aiecg_record_lead_adc(s[k], l),
                              75000 * 4));
    }
    aiecg_record_free(m);
    for (int k = 0; k < 3; k++) aiecg_record_free(s[k]);
    /* variable layout with a null segment first: s25047 has signals that come and go */
    m = open_fmt("multi-segment/s25047/s25047-2704-05-04-10-44");
    CHECK(m != NULL);
    if (m) {
        aiecg_lead_info li;
        aiecg_record_lead_info(m, 0, &li);
        int nan0 = 0;
        const float *d = aiecg_record_lead_data(m, 0);
        for (int64_t t = 0; t < aiecg_record_nsamples(m); t++) nan0 += isnan(d[t]);
        CHECK(nan0 > 0 && nan0 < aiecg_record_nsamples(m));
        aiecg_record_free(m);
    }
    /* 041s: two segments with 4 samples per frame, read at 500 Hz */
    m = open_fmt("multi-segment/041s/041s");
    s[0] = open_fmt("multi-segment/041s/041s01");
    s[1] = open_fmt("multi-segment/041s/041s02");
    CHECK(m && s[0] && s[1]);
    if (m && s[0] && s[1])
        for (int k = 0; k < 2; k++)
            for (int l = 0; l < 7; l++)
                CHECK(!memcmp(aiecg_record_lead_adc(m, l) + 4000 * k, aiecg_record_lead_adc(s[k], l), 4000 * 4));
    aiecg_record_free(m);
    aiecg_record_free(s[0]);
    aiecg_record_free(s[1]);
    /* a segment whose files are missing fails before allocating, naming the file */
    char dir[512], p[800];
    test_data_path("wfdb-formats", dir, sizeof dir);
    snprintf(p, sizeof p, "%s/multi-segment/s00001/s00001-2896-10-10-00-31", dir);
    aiecg_record *r;
    aiecg_error e;
    CHECK_INT(aiecg_record_open(p, NULL, &r, &e), AIECG_ERR_NOT_FOUND);
    CHECK(strstr(e.message, "3975656_0009") != NULL);
}

/* ---- round trips ---------------------------------------------------------- */

static int same_annotations(const aiecg_record *a, const aiecg_record *b) {
    if (aiecg_record_nannotations(a) != aiecg_record_nannotations(b)) {
        fprintf(stderr, "annotation counts %lld vs %lld\n", (long long)aiecg_record_nannotations(a),
                (long long)aiecg_record_nannotations(b));
        return 0;
    }
    const aiecg_annotation *x = aiecg_record_annotations(a), *y = aiecg_record_annotations(b);
    for (int64_t i = 0; i < aiecg_record_nannotations(a); i++) {
        int auxeq = (!x[i].aux && !y[i].aux) || (x[i].aux && y[i].aux && !strcmp(x[i].aux, y[i].aux));
        if (x[i].sample != y[i].sample || x[i].code != y[i].code || x[i].subtype != y[i].subtype ||
            x[i].channel != y[i].channel || x[i].num != y[i].num || !auxeq) {
            fprintf(stderr, "annotation %lld differs: t %lld/%lld code %d/%d\n", (long long)i,
                    (long long)x[i].sample, (long long)y[i].sample, x[i].code, y[i].code);
            return 0;
        }
    }
    return 1;
}

static int same_adc(const aiecg_record *a, const aiecg_record *b) {
    if (aiecg_record_nleads(a) != aiecg_record_nleads(b) || aiecg_record_nsamples(a) != aiecg_record_nsamples(b))
        return 0;
    for (int l = 0; l < aiecg_record_nleads(a); l++) {
        const int32_t *x = aiecg_record_lead_adc(a, l), *y = aiecg_record_lead_adc(b, l);
        if (!x || !y || memcmp(x, y, (size_t)aiecg_record_nsamples(a) * 4)) {
            fprintf(stderr, "lead %d: ADC values differ\n", l);
            return 0;
        }
        aiecg_lead_info p, q;
        aiecg_record_lead_info(a, l, &p);
        aiecg_record_lead_info(b, l, &q);
        if (p.gain != q.gain || p.baseline != q.baseline || strcmp(p.label, q.label)) {
            fprintf(stderr, "lead %d: gain %g/%g baseline %d/%d label %s/%s\n", l, p.gain, q.gain,
                    p.baseline, q.baseline, p.label, q.label);
            return 0;
        }
        if (q.checksum_state != AIECG_CHECKSUM_OK) return 0;
        const float *u = aiecg_record_lead_data(a, l), *v = aiecg_record_lead_data(b, l);
        for (int64_t i = 0; i < aiecg_record_nsamples(a); i++)
            if (!(u[i] == v[i] || (isnan(u[i]) && isnan(v[i])))) {
                fprintf(stderr, "lead %d sample %lld: %g vs %g mV\n", l, (long long)i, u[i], v[i]);
                return 0;
            }
    }
    return 1;
}

static void round_trip(const char *set, const char *rec, int fmt) {
    static int serial = 0;
    char dir[512], p[800], out[800];
    test_data_path(set, dir, sizeof dir);
    snprintf(p, sizeof p, "%s/%s", dir, rec);
    aiecg_record *a = open_rec(p, NULL);
    CHECK(a != NULL);
    if (!a) return;
    snprintf(out, sizeof out, "%s/rt%d_%d.hea", g_tmp, fmt, serial++);
    aiecg_write_options wo = aiecg_write_options_default();
    wo.format = AIECG_FORMAT_WFDB;
    wo.wfdb_format = fmt;
    aiecg_error e;
    CHECK_OK(aiecg_record_write(a, out, &wo, &e), &e);
    aiecg_record *b = open_rec(out, NULL);
    CHECK(b != NULL);
    if (b) {
        CHECK(same_adc(a, b));
        CHECK(same_annotations(a, b));
        CHECK_NEAR(aiecg_record_fs(a), aiecg_record_fs(b), 1e-9);
        aiecg_record_meta ma, mb;
        aiecg_record_meta_get(a, &ma);
        aiecg_record_meta_get(b, &mb);
        CHECK_INT(ma.age, mb.age);
        CHECK_INT(ma.sex, mb.sex);
        CHECK_INT(ma.has_start_time, mb.has_start_time);
        if (ma.has_start_time) {
            CHECK_INT(ma.year, mb.year);
            CHECK_INT(ma.hour, mb.hour);
            CHECK_NEAR(ma.second, mb.second, 1e-3);
        }
    }
    aiecg_record_free(a);
    aiecg_record_free(b);
}

static void test_round_trips(void) {
    round_trip("mitdb", "100", 16);
    round_trip("mitdb", "100", 212);
    round_trip("mitdb", "201", 212); /* aux rhythm labels */
    round_trip("mitdb", "208", 16);
    round_trip("ludb", "data/1", 16);
    round_trip("ptbxl", "records100/00000/00001_lr", 16);
    round_trip("wfdb-formats", "3000003_0003", 212); /* base time */
    round_trip("wfdb-formats", "test_generator_2", 16); /* base date, spf expanded */
}

static int same_file(const char *a, const char *b) {
    size_t na, nb;
    uint8_t *x = slurp(a, &na), *y = slurp(b, &nb);
    int same = x && y && na == nb && !memcmp(x, y, na);
    free(x);
    free(y);
    return same;
}

/* Every MIT-BIH record written back in format 212: the signal file comes out byte for byte. */
static void test_mitdb_rewrite_all(void) {
    char dir[512], names[64][64], p[1200], out[1200], f1[1300], f2[1300];
    test_data_path("mitdb", dir, sizeof dir);
    int n = read_records(dir, names, 64), dat_same = 0, atr_same = 0, ann_same = 0;
    for (int i = 0; i < n; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        aiecg_record *a = open_rec(p, NULL);
        if (!a) {
            CHECK(0);
            continue;
        }
        snprintf(out, sizeof out, "%s/w%s", g_tmp, names[i]);
        aiecg_write_options wo = aiecg_write_options_default();
        wo.format = AIECG_FORMAT_WFDB;
        wo.wfdb_format = 212;
        aiecg_error e;
        CHECK_OK(aiecg_record_write(a, out, &wo, &e), &e);
        snprintf(f1, sizeof f1, "%s.dat", p);
        snprintf(f2, sizeof f2, "%s.dat", out);
        dat_same += same_file(f1, f2);
        remove(f2);
        snprintf(f1, sizeof f1, "%s.atr", p);
        snprintf(f2, sizeof f2, "%s.atr", out);
        atr_same += same_file(f1, f2);
        aiecg_record *b = NULL;
        if (aiecg_record_new(1, 1, 360, 0, &b, NULL) == AIECG_OK && aiecg_wfdb_annotations_read(f2, 1, b, &e) == AIECG_OK) ann_same += same_annotations(a, b);
        aiecg_record_free(b);
        remove(f2);
        snprintf(f2, sizeof f2, "%s.hea", out);
        remove(f2);
        aiecg_record_free(a);
    }
    printf("mitdb rewrite (212): %d/%d signal files byte-identical, %d/%d annotation files with identical "
           "annotations, %d/%d byte-identical\n",
           dat_same, n, ann_same, n, atr_same, n);
    CHECK_INT(dat_same, n);
    CHECK_INT(ann_same, n);
    CHECK(atr_same >= 40); /* the rest differ only in whether an AUX count includes its NUL */
}

/* Samples per frame 2: the record runs at twice the frame rate and annotation times follow. */
static void test_spf_annotations(void) {
    char p[700];
    snprintf(p, sizeof p, "%s/spf.hea", g_tmp);
    FILE *f = fopen(p, "w");
    fprintf(f, "spf 2 100 50\nspf.dat 16x2 100/mV\nspf.dat 16 100/mV\n");
    fclose(f);
    snprintf(p, sizeof p, "%s/spf.dat", g_tmp);
    f = fopen(p, "wb");
    for (int i = 0; i < 150; i++) {
        int16_t v = (int16_t)i;
        fwrite(&v, 2, 1, f);
    }
    fclose(f);
    aiecg_annotation a[2] = {{10, 1, 0, 0, 0, NULL}, {40, 5, 0, 0, 0, NULL}};
    snprintf(p, sizeof p, "%s/spf.atr", g_tmp);
    aiecg_error e;
    CHECK_OK(aiecg_wfdb_annotations_write(p, a, 2, &e), &e);
    snprintf(p, sizeof p, "%s/spf", g_tmp);
    CHECK_INT(aiecg_wfdb_frame_factor(p), 2);
    aiecg_record *r = open_rec(p, NULL);
    CHECK(r != NULL);
    if (!r) return;
    CHECK_NEAR(aiecg_record_fs(r), 200, 0);
    CHECK_INT(aiecg_record_nsamples(r), 100);
    CHECK_INT(aiecg_record_nannotations(r), 2);
    CHECK_INT(aiecg_record_annotations(r)[0].sample, 20);
    CHECK_INT(aiecg_record_annotations(r)[1].sample, 80);
    /* frame t = stored samples 3t, 3t+1 (signal 0) and 3t+2 (signal 1, held) */
    const int32_t *s0 = aiecg_record_lead_adc(r, 0), *s1 = aiecg_record_lead_adc(r, 1);
    for (int t = 0; t < 50; t++) {
        CHECK_INT(s0[2 * t], 3 * t);
        CHECK_INT(s0[2 * t + 1], 3 * t + 1);
        CHECK_INT(s1[2 * t], 3 * t + 2);
        CHECK_INT(s1[2 * t + 1], 3 * t + 2);
    }
    aiecg_record_free(r);
}

static void write_text(const char *dir, const char *name, const char *text) {
    char p[700];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    fputs(text, f);
    fclose(f);
}

/* Variable layout built by hand: signals matched by description, gaps NaN, ADC dropped on gain change. */
static void test_variable_layout(void) {
    char p[700];
    write_text(g_tmp, "vl.hea", "vl/4 2 100 30\nvl_layout 0\nvl_1 10\n~ 5\nvl_2 15\n");
    write_text(g_tmp, "vl_layout.hea", "vl_layout 2 100 0\n~ 0 100/mV 16 0 0 0 0 A\n~ 0 100/mV 16 0 0 0 0 B\n");
    write_text(g_tmp, "vl_1.hea", "vl_1 1 100 10\nvl_1.dat 16 100/mV 16 0 0 45 0 B\n");
    write_text(g_tmp, "vl_2.hea", "vl_2 2 100 15\nvl_2.dat 16 50/mV 16 0 0 105 0 A\nvl_2.dat 16 100/mV 16 0 0 105 0 B\n");
    int16_t a[10], b[30];
    for (int i = 0; i < 10; i++) a[i] = (int16_t)i;
    for (int i = 0; i < 15; i++) b[2 * i] = b[2 * i + 1] = (int16_t)i;
    snprintf(p, sizeof p, "%s/vl_1.dat", g_tmp);
    FILE *f = fopen(p, "wb");
    fwrite(a, 2, 10, f);
    fclose(f);
    snprintf(p, sizeof p, "%s/vl_2.dat", g_tmp);
    f = fopen(p, "wb");
    fwrite(b, 2, 30, f);
    fclose(f);
    snprintf(p, sizeof p, "%s/vl", g_tmp);
    aiecg_record *r = open_rec(p, NULL);
    CHECK(r != NULL);
    if (!r) return;
    CHECK_INT(aiecg_record_nsamples(r), 30);
    const float *A = aiecg_record_lead_data(r, 0), *B = aiecg_record_lead_data(r, 1);
    for (int t = 0; t < 15; t++) CHECK(isnan(A[t])); /* A is absent from vl_1, and from the gap */
    for (int t = 0; t < 10; t++) CHECK_NEAR(B[t], t / 100.0, 1e-6);
    for (int t = 10; t < 15; t++) CHECK(isnan(B[t]));
    for (int t = 0; t < 15; t++) {
        CHECK_NEAR(A[15 + t], t / 50.0, 1e-6);
        CHECK_NEAR(B[15 + t], t / 100.0, 1e-6);
    }
    /* A's gain differs from the layout's (50 vs 100): no single ADC plane can hold it */
    CHECK(aiecg_record_lead_adc(r, 0) == NULL);
    aiecg_lead_info li;
    aiecg_record_lead_info(r, 1, &li);
    CHECK_INT(li.checksum_state, AIECG_CHECKSUM_OK);
    CHECK_STR(li.label, "B");
    aiecg_record_free(r);
}

static void test_write_quantised(void) {
    /* a record without ADC values: mV quantised at 1000 ADU/mV (16) / 200 ADU/mV (212) */
    aiecg_record *r;
    aiecg_error e;
    CHECK_OK(aiecg_record_new(2, 500, 250, 0, &r, &e), &e);
    for (int l = 0; l < 2; l++) {
        float *d = aiecg_record_lead_data_mut(r, l);
        for (int i = 0; i < 500; i++) d[i] = (float)(sin(i * 0.05 + l) * 1.5);
        aiecg_lead_info li = {0};
        li.label = l ? "V1" : "II";
        li.units = "mV";
        aiecg_record_set_lead(r, l, &li);
    }
    aiecg_record_lead_data_mut(r, 1)[7] = NAN;
    aiecg_annotation an = {0};
    an.sample = 100;
    an.code = 1;
    aiecg_record_add_annotation(r, &an);
    for (int fmt = 16; fmt <= 212; fmt += 196) {
        char out[700];
        snprintf(out, sizeof out, "%s/q%d", g_tmp, fmt);
        aiecg_write_options wo = aiecg_write_options_default();
        wo.wfdb_format = fmt;
        wo.format = AIECG_FORMAT_WFDB;
        CHECK_OK(aiecg_record_write(r, out, &wo, &e), &e);
        aiecg_record *b = open_rec(out, NULL);
        CHECK(b != NULL);
        if (!b) continue;
        double step = fmt == 16 ? 1e-3 : 5e-3;
        for (int l = 0; l < 2; l++) {
            aiecg_lead_info li;
            aiecg_record_lead_info(b, l, &li);
            CHECK_NEAR(li.gain, fmt == 16 ? 1000 : 200, 0);
            CHECK_INT(li.checksum_state, AIECG_CHECKSUM_OK);
            for (int i = 0; i < 500; i++) {
                float x = aiecg_record_lead_data(r, l)[i], y = aiecg_record_lead_data(b, l)[i];
                if (isnan(x)) CHECK(isnan(y));
                else CHECK_NEAR(x, y, step / 2 + 1e-6);
            }
        }
        CHECK_INT(aiecg_record_nannotations(b), 1);
        aiecg_record_free(b);
    }
    aiecg_write_options wo = aiecg_write_options_default();
    wo.wfdb_format = 8;
    char out[700];
    snprintf(out, sizeof out, "%s/bad.hea", g_tmp);
    CHECK_INT(aiecg_record_write(r, out, &wo, &e), AIECG_ERR_UNSUPPORTED);
    aiecg_record_free(r);
}

static void test_annotation_codec(void) {
    /* every pseudo-annotation: big gaps (SKIP), subtype, channel, num, odd and even aux, code 0 */
    aiecg_record *r;
    aiecg_error e;
    CHECK_OK(aiecg_record_new(1, 10, 100, 0, &r, &e), &e);
    aiecg_annotation a[] = {
        {0, 28, 0, 0, 0, "(N"},     {5, 1, 0, 0, 0, NULL},      {2000, 5, 2, 1, 0, NULL},
        {2000, 1, 0, 1, 3, "abc"},  {100000, 22, -1, 0, -5, "note"}, {100001, 0, 0, 0, 0, NULL},
        {5000000000LL / 4, 14, 1, 1000, 511, NULL},
    };
    char p[700];
    snprintf(p, sizeof p, "%s/codec.atr", g_tmp);
    CHECK_OK(aiecg_wfdb_annotations_write(p, a, 7, &e), &e);
    aiecg_annotation *b;
    int64_t n;
    CHECK_OK(aiecg_wfdb_annotations_load(p, &b, &n, &e), &e);
    CHECK_INT(n, 7);
    for (int64_t i = 0; i < n && i < 7; i++) {
        CHECK_INT(b[i].sample, a[i].sample);
        CHECK_INT(b[i].code, a[i].code);
        CHECK_INT(b[i].subtype, a[i].subtype);
        CHECK_INT(b[i].channel, a[i].channel);
        CHECK_INT(b[i].num, a[i].num);
        if (a[i].aux) CHECK_STR(b[i].aux, a[i].aux);
        else CHECK(b[i].aux == NULL);
    }
    aiecg_wfdb_annotations_free(b, n);
    /* time-0 NOTE entries describing the file are consumed, as WFDB's annopen does */
    aiecg_annotation c[] = {{0, 22, 0, 0, 0, "## time resolution: 1000"}, {0, 22, 0, 0, 0, "5 V ventricular"},
                            {0, 22, 0, 0, 0, "a real note"}, {10, 1, 0, 0, 0, NULL}};
    CHECK_OK(aiecg_wfdb_annotations_write(p, c, 4, &e), &e);
    CHECK_OK(aiecg_wfdb_annotations_load(p, &b, &n, &e), &e);
    CHECK_INT(n, 2);
    if (n == 2) {
        CHECK_STR(b[0].aux, "a real note");
        CHECK_INT(b[1].sample, 10);
    }
    aiecg_wfdb_annotations_free(b, n);
    aiecg_record_free(r);
}

/* ---- memory API and hostile input -------------------------------------- */

static uint8_t *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *d = malloc((size_t)len + 1);
    *n = fread(d, 1, (size_t)len, f);
    fclose(f);
    return d;
}

static void test_memory_api(void) {
    char dir[512], p[700];
    test_data_path("mitdb", dir, sizeof dir);
    size_t hn, dn;
    snprintf(p, sizeof p, "%s/100.hea", dir);
    uint8_t *h = slurp(p, &hn);
    snprintf(p, sizeof p, "%s/100.dat", dir);
    uint8_t *d = slurp(p, &dn);
    CHECK(h && d);
    if (!h || !d) return;
    const void *files[1] = {d};
    size_t lens[1] = {dn};
    aiecg_record *m = NULL, *f = NULL;
    aiecg_error e;
    CHECK_OK(aiecg_wfdb_read_memory(h, hn, files, lens, 1, NULL, &m, &e), &e);
    snprintf(p, sizeof p, "%s/100", dir);
    aiecg_read_options o = aiecg_read_options_default();
    o.skip_annotations = 1;
    f = open_rec(p, &o);
    CHECK(m && f && same_adc(m, f));
    aiecg_record_free(m);
    aiecg_record_free(f);
    /* the signal file's path opens its record */
    snprintf(p, sizeof p, "%s/100.dat", dir);
    f = open_rec(p, NULL);
    CHECK(f && aiecg_record_nannotations(f) == 2274);
    aiecg_record_free(f);
    /* header alone: clear error naming the missing signal file */
    CHECK_INT(aiecg_wfdb_read_memory(h, hn, NULL, NULL, 0, NULL, &m, &e), AIECG_ERR_NOT_FOUND);
    CHECK(strstr(e.message, "100.dat") != NULL);
    CHECK(m == NULL);
    CHECK_INT(aiecg_record_read_memory(h, hn, "100.hea", NULL, &m, &e), AIECG_ERR_NOT_FOUND);
    CHECK(strstr(e.message, "100.dat") != NULL);
    /* probe: by extension and by content */
    CHECK_INT(aiecg_format_detect(h, hn, "x.hea"), AIECG_FORMAT_WFDB);
    CHECK_INT(aiecg_format_detect(h, hn, NULL), AIECG_FORMAT_WFDB);
    /* annotations from memory */
    snprintf(p, sizeof p, "%s/100.atr", dir);
    size_t an;
    uint8_t *a = slurp(p, &an);
    CHECK_OK(aiecg_record_new(2, 650000, 360, 0, &m, &e), &e);
    CHECK_OK(aiecg_wfdb_annotations_read_memory(a, an, "100.atr", 1, m, &e), &e);
    CHECK_INT(aiecg_record_nannotations(m), 2274);
    /* every truncation of the annotation file: no crash, OK or TRUNCATED */
    for (size_t cut = 0; cut < 200; cut++) {
        aiecg_record_clear_annotations(m);
        aiecg_status s = aiecg_wfdb_annotations_read_memory(a, cut, "cut.atr", 1, m, &e);
        CHECK(s == AIECG_OK || s == AIECG_ERR_TRUNCATED);
    }
    aiecg_record_free(m);
    free(a);
    free(h);
    free(d);
}

/* Reads header text + one signal file from memory; returns status, message in e. */
static aiecg_status mem_read(const char *hdr, const void *dat, size_t dlen, aiecg_record **r, aiecg_error *e) {
    const void *files[1] = {dat};
    size_t lens[1] = {dlen};
    aiecg_error_clear(e);
    return aiecg_wfdb_read_memory(hdr, strlen(hdr), files, lens, dat ? 1 : 0, NULL, r, e);
}

#define EXPECT_FAIL(hdr, dat, dlen, status, needle)                                               \
    do {                                                                                           \
        aiecg_record *r_ = NULL;                                                                   \
        aiecg_error e_;                                                                            \
        aiecg_status s_ = mem_read(hdr, dat, dlen, &r_, &e_);                                      \
        CHECK_INT(s_, status);                                                                     \
        CHECK(r_ == NULL);                                                                         \
        if (!strstr(e_.message, needle)) {                                                         \
            fprintf(stderr, "message \"%s\" lacks \"%s\"\n", e_.message, needle);                  \
            CHECK(0);                                                                              \
        }                                                                                          \
        aiecg_record_free(r_);                                                                     \
    } while (0)

static int g_warnings;
static void count_warnings(void *user, aiecg_log_level level, const char *msg) {
    (void)user;
    (void)msg;
    if (level == AIECG_LOG_WARN) g_warnings++;
}

static void test_hostile(void) {
    int16_t dat[1000];
    for (int i = 0; i < 1000; i++) dat[i] = (int16_t)(i - 500);
    /* sum of -500..499 = -500 */
    aiecg_record *r = NULL;
    aiecg_error e;
    CHECK_OK(mem_read("t 1 100 1000\nt.dat 16 100/mV 16 0 -500 -500 0 II\n", dat, sizeof dat, &r, &e), &e);
    if (r) {
        aiecg_lead_info li;
        aiecg_record_lead_info(r, 0, &li);
        CHECK_INT(li.checksum_state, AIECG_CHECKSUM_OK);
        CHECK_NEAR(aiecg_record_lead_data(r, 0)[1], -4.99, 1e-6);
        aiecg_record_free(r);
    }
    /* wrong checksum: read succeeds, lead marked BAD, info says mismatch */
    CHECK_OK(mem_read("t 1 100 1000\nt.dat 16 100/mV 16 0 -500 1234 0 II\n", dat, sizeof dat, &r, &e), &e);
    if (r) {
        aiecg_lead_info li;
        aiecg_record_lead_info(r, 0, &li);
        CHECK_INT(li.checksum_state, AIECG_CHECKSUM_BAD);
        char *js;
        CHECK_OK(aiecg_record_info_json(r, &js), NULL);
        CHECK(strstr(js, "\"checksums\": \"mismatch\"") != NULL);
        aiecg_free(js);
        aiecg_record_free(r);
    }
    /* both mismatches go to the logger as warnings (init 7 is not the first sample either) */
    {
        aiecg_read_options o = aiecg_read_options_default();
        o.logger.fn = count_warnings;
        o.logger.user = NULL;
        o.logger.min_level = AIECG_LOG_WARN;
        g_warnings = 0;
        const char *hdr = "t 1 100 1000\nt.dat 16 100/mV 16 0 7 1234 0 II\n";
        const void *files[1] = {dat};
        size_t lens[1] = {sizeof dat};
        CHECK_OK(aiecg_wfdb_read_memory(hdr, strlen(hdr), files, lens, 1, &o, &r, &e), &e);
        aiecg_record_free(r);
        CHECK_INT(g_warnings, 2);
    }
    /* invalid sample -32768 -> NaN */
    dat[10] = -32768;
    CHECK_OK(mem_read("t 1 100 1000\nt.dat 16 100/mV\n", dat, sizeof dat, &r, &e), &e);
    if (r) {
        CHECK(isnan(aiecg_record_lead_data(r, 0)[10]));
        CHECK_INT(aiecg_record_lead_adc(r, 0)[10], -32768);
        aiecg_lead_info li;
        aiecg_record_lead_info(r, 0, &li);
        CHECK_INT(li.checksum_state, AIECG_CHECKSUM_ABSENT);
        aiecg_record_free(r);
    }
    /* CRLF line ends, tabs, comments between signal lines */
    dat[10] = 10 - 500;
    CHECK_OK(mem_read("t 1 100 1000\r\n# note\r\nt.dat\t16\t100/mV 16 0 -500 -500 0 lead II\r\n#<age>: 7\r\n", dat,
                      sizeof dat, &r, &e),
             &e);
    if (r) {
        aiecg_lead_info li;
        aiecg_record_lead_info(r, 0, &li);
        CHECK_STR(li.label, "lead II");
        CHECK_INT(li.lead, AIECG_LEAD_II);
        CHECK_INT(li.checksum_state, AIECG_CHECKSUM_OK);
        aiecg_record_meta m;
        aiecg_record_meta_get(r, &m);
        CHECK_INT(m.age, 7);
        aiecg_record_free(r);
    }
    /* no sample count: from the file length */
    CHECK_OK(mem_read("t 1 100\nt.dat 16\n", dat, 2 * 777, &r, &e), &e);
    CHECK(r && aiecg_record_nsamples(r) == 777);
    aiecg_record_free(r);
    EXPECT_FAIL("t 1 100 1000\nt.dat 16 100/mV\n", dat, 100, AIECG_ERR_TRUNCATED, "truncated");
    EXPECT_FAIL("t 1 0 1000\nt.dat 16\n", dat, sizeof dat, AIECG_ERR_RANGE, "sampling frequency");
    EXPECT_FAIL("t 1 -5 1000\nt.dat 16\n", dat, sizeof dat, AIECG_ERR_RANGE, "sampling frequency");
    EXPECT_FAIL("t 1 nan 1000\nt.dat 16\n", dat, sizeof dat, AIECG_ERR_RANGE, "sampling frequency");
    EXPECT_FAIL("t 1 100 1000000000000\nt.dat 16\n", dat, sizeof dat, AIECG_ERR_LIMIT, "number of samples");
    EXPECT_FAIL("t 1 100 -7\nt.dat 16\n", dat, sizeof dat, AIECG_ERR_RANGE, "number of samples");
    EXPECT_FAIL("t 10000 100 10\nt.dat 16\n", dat, sizeof dat, AIECG_ERR_RANGE, "number of signals");
    EXPECT_FAIL("t 0 100 10\n", dat, sizeof dat, AIECG_ERR_RANGE, "number of signals");
    EXPECT_FAIL("t 2 100 10\nt.dat 16\n", dat, sizeof dat, AIECG_ERR_TRUNCATED, "declares 2 signals");
    EXPECT_FAIL("t 1 100 10\nt.dat 16+-4\n", dat, sizeof dat, AIECG_ERR_RANGE, "byte offset");
    EXPECT_FAIL("t 1 100 10\nt.dat 16+100000\n", dat, sizeof dat, AIECG_ERR_TRUNCATED, "byte offset");
    EXPECT_FAIL("t 1 100 10\nt.dat 16:-1\n", dat, sizeof dat, AIECG_ERR_RANGE, "skew");
    EXPECT_FAIL("t 1 100 10\nt.dat 16x0\n", dat, sizeof dat, AIECG_ERR_RANGE, "samples per frame");
    EXPECT_FAIL("t 1 100 10\nt.dat 999\n", dat, sizeof dat, AIECG_ERR_UNSUPPORTED, "format");
    EXPECT_FAIL("t 1 100 10\nt.dat 16 -200/mV\n", dat, sizeof dat, AIECG_ERR_RANGE, "ADC gain");
    EXPECT_FAIL("t 1 100 10\nt.dat 16 200(x)/mV\n", dat, sizeof dat, AIECG_ERR_FORMAT, "baseline");
    EXPECT_FAIL("t 1 100 10\nt.dat 16 200 99\n", dat, sizeof dat, AIECG_ERR_RANGE, "ADC resolution");
    EXPECT_FAIL("t 1 100 10\nt.dat 16 200 12 0 0 99999\n", dat, sizeof dat, AIECG_ERR_FORMAT, "checksum");
    EXPECT_FAIL("t 1 100 10 25:99:00\nt.dat 16\n", dat, sizeof dat, AIECG_ERR_RANGE, "base time");
    EXPECT_FAIL("t 1 100 10 10:00:00 40/13/2000\nt.dat 16\n", dat, sizeof dat, AIECG_ERR_RANGE, "base date");
    EXPECT_FAIL("t 1 100 10\n../../etc/passwd 16\n", dat, sizeof dat, AIECG_ERR_FORMAT, "file name");
    EXPECT_FAIL("", dat, sizeof dat, AIECG_ERR_FORMAT, "no record line");
    EXPECT_FAIL("\x01\x02garbage\xff\xfe 1 2 3\n", dat, sizeof dat, AIECG_ERR_FORMAT, "record name");
    EXPECT_FAIL("t 1 100 10\na.dat 16\n", NULL, 0, AIECG_ERR_NOT_FOUND, "a.dat");
    EXPECT_FAIL("t/3 1 100 10\na 5\nb 5\nc 0\n", dat, sizeof dat, AIECG_ERR_NOT_FOUND, "multi-segment");
    EXPECT_FAIL("t 2 100 10\na.dat 16\na.dat 212\n", dat, sizeof dat, AIECG_ERR_UNSUPPORTED, "format");
    /* deterministic mutations of a real header: never a crash, always a status */
    char dir[512], p[700];
    test_data_path("mitdb", dir, sizeof dir);
    snprintf(p, sizeof p, "%s/100.hea", dir);
    size_t hn, dn;
    uint8_t *h = slurp(p, &hn);
    snprintf(p, sizeof p, "%s/100.dat", dir);
    uint8_t *d = slurp(p, &dn);
    uint32_t seed = 12345;
    int okc = 0;
    for (int it = 0; h && d && it < 400; it++) {
        char buf[512];
        size_t n = hn < sizeof buf - 1 ? hn : sizeof buf - 1;
        memcpy(buf, h, n);
        for (int k = 0; k < 3; k++) {
            seed = seed * 1103515245u + 12345u;
            size_t at = (seed >> 8) % n;
            seed = seed * 1103515245u + 12345u;
            static const char alphabet[] = "0123456789-+x:/() \n#.e~";
            buf[at] = (seed >> 16) & 1 ? alphabet[(seed >> 20) % (sizeof alphabet - 1)] : (char)(seed >> 24);
        }
        buf[n] = '\0';
        const void *files[1] = {d};
        size_t lens[1] = {dn / (1 + it % 3)};
        aiecg_record *x = NULL;
        aiecg_status s = aiecg_wfdb_read_memory(buf, n, files, lens, 1, NULL, &x, &e);
        if (s == AIECG_OK) okc++;
        else CHECK(x == NULL && e.message[0]);
        aiecg_record_free(x);
    }
    printf("mutated headers: %d of 400 still read\n", okc);
    free(h);
    free(d);
}

static void test_info_json(void) {
    char dir[512], p[700];
    test_data_path("ludb", dir, sizeof dir);
    snprintf(p, sizeof p, "%s/data/1", dir);
    aiecg_read_options o = aiecg_read_options_default();
    o.annotator = "i";
    aiecg_record *r = open_rec(p, &o);
    CHECK(r != NULL);
    if (!r) return;
    char *js = NULL;
    CHECK_OK(aiecg_record_info_json(r, &js), NULL);
    CHECK(js && strstr(js, "\"checksums\": \"verified\""));
    CHECK(js && strstr(js, "\"age\": 51"));
    CHECK(js && strstr(js, "\"sex\": \"F\""));
    CHECK(js && strstr(js, "\"lead\": \"aVR\""));
    CHECK(js && strstr(js, "\"fs\": 500"));
    aiecg_free(js);
    aiecg_record_free(r);
}

/* ---- allocation failure injection --------------------------------------- */

static long g_alloc_left = -1; /* -1: never fail */
static void *fail_malloc(size_t n) {
    if (g_alloc_left == 0) return NULL;
    if (g_alloc_left > 0) g_alloc_left--;
    return malloc(n);
}
static void *fail_realloc(void *p, size_t n) {
    if (g_alloc_left == 0) return NULL;
    if (g_alloc_left > 0) g_alloc_left--;
    return realloc(p, n);
}

/* Fails the 1st, 2nd, ... allocation of a read until one succeeds: every failure must be a clean error. */
static void oom_case(const char *path, const aiecg_read_options *o) {
    int ok = 0, n;
    for (n = 0; n < 2000 && !ok; n++) {
        aiecg_set_allocator(fail_malloc, fail_realloc, free);
        g_alloc_left = n;
        aiecg_record *r = NULL;
        aiecg_error e;
        aiecg_status s = aiecg_record_open(path, o, &r, &e);
        g_alloc_left = -1;
        aiecg_set_allocator(NULL, NULL, NULL);
        if (s == AIECG_OK) {
            ok = 1;
            aiecg_record_free(r);
        } else {
            CHECK(r == NULL);
            if (s != AIECG_ERR_NOMEM && s != AIECG_ERR_IO) {
                fprintf(stderr, "%s: allocation %d failed -> %s (%s)\n", path, n, aiecg_status_name(s), e.message);
                CHECK(0);
            }
        }
    }
    CHECK(ok);
    printf("oom: %s survives failure of each of its first %d allocations\n", path, n - 1);
}

static void test_oom(void) {
    char dir[512], p[800];
    test_data_path("wfdb-formats", dir, sizeof dir);
    snprintf(p, sizeof p, "%s/multi-segment/fixed1/v102s", dir);
    oom_case(p, NULL);
    snprintf(p, sizeof p, "%s/flacformats", dir);
    oom_case(p, NULL);
    aiecg_read_options o = aiecg_read_options_default();
    o.derive_limb_leads = 1;
    test_data_path("ludb", dir, sizeof dir);
    snprintf(p, sizeof p, "%s/data/2", dir);
    o.annotator = "ii";
    oom_case(p, &o);
}

int main(void) {
    const char *t = getenv("TMPDIR");
    snprintf(g_tmp, sizeof g_tmp, "%s/aiecg_test_wfdb_%d", t ? t : "/tmp", (int)getpid());
    mkdir(g_tmp, 0700);
    RUN(test_mitdb_100);
    RUN(test_mitdb_aux);
    RUN(test_mitdb_all);
    RUN(test_ludb_all);
    RUN(test_ludb_per_lead_files);
    RUN(test_nstdb_all);
    RUN(test_ptbxl_sample);
    RUN(test_formats_collection);
    RUN(test_skew_frame_offset);
    RUN(test_multisegment);
    RUN(test_round_trips);
    RUN(test_mitdb_rewrite_all);
    RUN(test_write_quantised);
    RUN(test_spf_annotations);
    RUN(test_variable_layout);
    RUN(test_annotation_codec);
    RUN(test_memory_api);
    RUN(test_hostile);
    RUN(test_info_json);
    RUN(test_oom);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_tmp);
    return test_summary();
}
