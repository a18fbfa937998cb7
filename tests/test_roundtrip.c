/*
 * Lossless round trips on real WFDB records through every writable text or
 * binary interchange format of this module:
 *   WFDB -> EDF+ -> WFDB, WFDB -> CSV -> WFDB, WFDB -> JSON -> WFDB
 * for MIT-BIH 100, 208, 232 (212 format, 11-bit, 360 Hz, reference beat
 * annotations), LUDB 1, 2, 50 (12 leads at 500 Hz, per-lead gains such as
 * 1716(6)/mV, lead II delineation annotations) and PTB-XL 00001, 00002,
 * 00547 (100 Hz, 16-bit). After the trip the record must have identical
 * ADC samples, fs, length, labels, gains, baselines and annotations
 * (sample, code, subtype, channel, num, aux).
 */
#include "test.h"

#include <sys/stat.h>

static char tmpdir[4096];

static int compare(const aiecg_record *a, const aiecg_record *b, const char *what) {
    int bad = 0;
#define RT_CHECK(c)                                                                                \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "%s: %s failed\n", what, #c);                                          \
            bad++;                                                                                 \
        }                                                                                          \
    } while (0)
    RT_CHECK(aiecg_record_nleads(a) == aiecg_record_nleads(b));
    RT_CHECK(aiecg_record_nsamples(a) == aiecg_record_nsamples(b));
    RT_CHECK(aiecg_record_fs(a) == aiecg_record_fs(b));
    if (bad) return bad;
    int64_t n = aiecg_record_nsamples(a);
    for (int k = 0; k < aiecg_record_nleads(a); k++) {
        aiecg_lead_info x, y;
        aiecg_record_lead_info(a, k, &x);
        aiecg_record_lead_info(b, k, &y);
        RT_CHECK(strcmp(x.label, y.label) == 0);
        RT_CHECK(x.gain == y.gain);
        RT_CHECK(x.baseline == y.baseline);
        const int32_t *p = aiecg_record_lead_adc(a, k), *q = aiecg_record_lead_adc(b, k);
        RT_CHECK(p && q);
        if (p && q && memcmp(p, q, (size_t)n * sizeof *p) != 0) {
            int64_t i = 0;
            while (p[i] == q[i]) i++;
            fprintf(stderr, "%s: lead %d sample %lld: %d vs %d\n", what, k, (long long)i, p[i], q[i]);
            bad++;
        }
        const float *u = aiecg_record_lead_data(a, k), *v = aiecg_record_lead_data(b, k);
        int64_t off = 0;
        for (int64_t i = 0; i < n; i++) off += fabsf(u[i] - v[i]) > 1e-6f;
        RT_CHECK(off == 0);
        if (bad) {
            fprintf(stderr, "%s: lead %d %s gain %.12g/%.12g base %d/%d\n", what, k, x.label, x.gain, y.gain,
                    x.baseline, y.baseline);
            return bad;
        }
    }
    RT_CHECK(aiecg_record_nannotations(a) == aiecg_record_nannotations(b));
    if (bad) {
        fprintf(stderr, "%s: %lld vs %lld annotations\n", what, (long long)aiecg_record_nannotations(a),
                (long long)aiecg_record_nannotations(b));
        return bad;
    }
    const aiecg_annotation *s = aiecg_record_annotations(a), *t = aiecg_record_annotations(b);
    for (int64_t i = 0; i < aiecg_record_nannotations(a); i++) {
        int same = s[i].sample == t[i].sample && s[i].code == t[i].code && s[i].subtype == t[i].subtype &&
                   s[i].channel == t[i].channel && s[i].num == t[i].num &&
                   (s[i].aux == NULL) == (t[i].aux == NULL) && (!s[i].aux || strcmp(s[i].aux, t[i].aux) == 0);
        if (!same) {
            fprintf(stderr, "%s: annotation %lld: %lld %s/%d/%d/%d '%s' vs %lld %s/%d/%d/%d '%s'\n", what,
                    (long long)i, (long long)s[i].sample, aiecg_annotation_code_name(s[i].code), s[i].subtype,
                    s[i].channel, s[i].num, s[i].aux ? s[i].aux : "", (long long)t[i].sample,
                    aiecg_annotation_code_name(t[i].code), t[i].subtype, t[i].channel, t[i].num,
                    t[i].aux ? t[i].aux : "");
            return bad + 1;
        }
    }
    return bad;
#undef RT_CHECK
}

/* WFDB -> fmt -> WFDB, compared with the original. */
static void trip(const char *record, const char *annotator, const char *ext, const char *tag) {
    aiecg_read_options ro = aiecg_read_options_default();
    ro.annotator = annotator;
    aiecg_record *orig = NULL, *mid = NULL, *back = NULL;
    aiecg_error e;
    char what[512], p1[4200], p2[4200];
    snprintf(what, sizeof what, "%s via %s", record, ext);
    CHECK_OK(aiecg_record_open(record, &ro, &orig, &e), &e);
    if (!orig) return;
    if (annotator) CHECK(aiecg_record_nannotations(orig) > 0);
    snprintf(p1, sizeof p1, "%s/%s%s", tmpdir, tag, ext);
    snprintf(p2, sizeof p2, "%s/%s_back.hea", tmpdir, tag);
    CHECK_OK(aiecg_record_write(orig, p1, NULL, &e), &e);
    CHECK_OK(aiecg_record_open(p1, NULL, &mid, &e), &e);
    if (mid) {
        CHECK(compare(orig, mid, what) == 0);
        CHECK_OK(aiecg_record_write(mid, p2, NULL, &e), &e);
        aiecg_read_options bo = aiecg_read_options_default();
        bo.annotator = aiecg_record_nannotations(mid) ? "atr" : NULL;
        CHECK_OK(aiecg_record_open(p2, &bo, &back, &e), &e);
        if (back) {
            snprintf(what, sizeof what, "%s via %s and back to WFDB", record, ext);
            CHECK(compare(orig, back, what) == 0);
        }
    }
    aiecg_record_free(orig);
    aiecg_record_free(mid);
    aiecg_record_free(back);
    remove(p1);
    char base[4200];
    snprintf(base, sizeof base, "%s/%s_back.hea", tmpdir, tag);
    remove(base);
    snprintf(base, sizeof base, "%s/%s_back.dat", tmpdir, tag);
    remove(base);
    snprintf(base, sizeof base, "%s/%s_back.atr", tmpdir, tag);
    remove(base);
}

static const char *const exts[] = {".edf", ".csv", ".json"};

static void mitdb(void) {
    char dir[4096], rec[4200];
    test_data_path("mitdb", dir, sizeof dir);
    static const char *const recs[] = {"100", "208", "232"};
    for (size_t i = 0; i < sizeof recs / sizeof recs[0]; i++)
        for (size_t x = 0; x < sizeof exts / sizeof exts[0]; x++) {
            snprintf(rec, sizeof rec, "%s/%s", dir, recs[i]);
            trip(rec, "atr", exts[x], recs[i]);
        }
}

static void ludb(void) {
    char dir[4096], rec[4200], tag[64];
    test_data_path("ludb/data", dir, sizeof dir);
    static const char *const recs[] = {"1", "2", "50"};
    for (size_t i = 0; i < sizeof recs / sizeof recs[0]; i++)
        for (size_t x = 0; x < sizeof exts / sizeof exts[0]; x++) {
            snprintf(rec, sizeof rec, "%s/%s", dir, recs[i]);
            snprintf(tag, sizeof tag, "ludb%s", recs[i]);
            trip(rec, "ii", exts[x], tag);
        }
}

static void ptbxl(void) {
    char dir[4096], rec[4200], tag[64];
    test_data_path("ptbxl/records100/00000", dir, sizeof dir);
    static const char *const recs[] = {"00001_lr", "00002_lr", "00547_lr"};
    for (size_t i = 0; i < sizeof recs / sizeof recs[0]; i++)
        for (size_t x = 0; x < sizeof exts / sizeof exts[0]; x++) {
            snprintf(rec, sizeof rec, "%s/%s", dir, recs[i]);
            snprintf(tag, sizeof tag, "ptbxl%s", recs[i]);
            trip(rec, NULL, exts[x], tag);
        }
}

int main(void) {
    const char *bin = getenv("AIECG_BINARY_DIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/roundtrip_tmp", bin ? bin : ".");
    mkdir(tmpdir, 0777);
    RUN(mitdb);
    RUN(ludb);
    RUN(ptbxl);
    return test_summary();
}
