/* Philips Sierra ECG XML reader tests on data/formats/philips-xml: every
 * sample file (UTF-8, UTF-16LE/BE, 8-bit files that declare UTF-16), XLI
 * decoding checked by Einthoven/Goldberger consistency and against Philips'
 * own HL7 aECG conversion of the same ECG, and the files that must be rejected. */
#include "test.h"

static char dir[4096], fdir[4096];

static aiecg_record *open_in(const char *d, const char *file, aiecg_error *err) {
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", d, file);
    aiecg_record *r = NULL;
    if (aiecg_record_open(path, NULL, &r, err)) fprintf(stderr, "%s: %s\n", path, err->message);
    return r;
}

/*
 * Max deviation (mV) of III, aVR, aVL, aVF from their Einthoven/Goldberger
 * values computed from I and II: near zero for a correct XLI decode.
 */
static double limb_consistency(const aiecg_record *r) {
    int iI = aiecg_record_find_lead(r, AIECG_LEAD_I), iII = aiecg_record_find_lead(r, AIECG_LEAD_II),
        i3 = aiecg_record_find_lead(r, AIECG_LEAD_III), iR = aiecg_record_find_lead(r, AIECG_LEAD_AVR),
        iL = aiecg_record_find_lead(r, AIECG_LEAD_AVL), iF = aiecg_record_find_lead(r, AIECG_LEAD_AVF);
    if (iI < 0 || iII < 0 || i3 < 0 || iR < 0 || iL < 0 || iF < 0) return 1e9;
    const float *I = aiecg_record_lead_data(r, iI), *II = aiecg_record_lead_data(r, iII),
                *III = aiecg_record_lead_data(r, i3), *R = aiecg_record_lead_data(r, iR),
                *L = aiecg_record_lead_data(r, iL), *F = aiecg_record_lead_data(r, iF);
    double mx = 0;
    for (int64_t i = 0; i < aiecg_record_nsamples(r); i++) {
        /* the 1-mV calibration pulse the carts append is the same in every lead */
        if (fabs(I[i] - 1.0) < 1e-6 && fabs(II[i] - 1.0) < 1e-6) continue;
        mx = fmax(mx, fabs(III[i] - (II[i] - I[i])));
        mx = fmax(mx, fabs(R[i] + 0.5 * (I[i] + II[i])));
        mx = fmax(mx, fabs(L[i] - (I[i] - 0.5 * II[i])));
        mx = fmax(mx, fabs(F[i] - (II[i] - 0.5 * I[i])));
    }
    return mx;
}

static void test_files(void) {
    static const struct {
        const char *file;
        char sex;
        int year;
        double tol; /* mV; the two TraceMasterVue re-exports were filtered lead by lead */
    } want[] = {
        {"129DYPRG.XML", 'M', 2011, 0.011},
        {"3191723_ZZDEMOPTONLY_1-04_orig.xml", 'M', 2010, 0.011},
        {"ad4d3d80-d165_1-04_orig.xml", 'F', 2008, 0.011},
        {"ecg-example.xml", 'F', 2008, 0.011},
        {"2020-5-18_15-48-11.xml", 'U', 2020, 0.011},
        {"repbeats_example.xml", 'M', 2011, 0.011},
        {"Philips_TRIM3_0001_pyClear.xml", 'U', 0, 0.1},
        {"pure_orialData.xml", 'U', 0, 0.1},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        aiecg_error err = {0};
        aiecg_record *r = open_in(dir, want[i].file, &err);
        CHECK(r != NULL);
        if (!r) continue;
        aiecg_record_meta m;
        aiecg_record_meta_get(r, &m);
        CHECK_STR(m.format, "philips");
        CHECK_INT(aiecg_record_nleads(r), 12);
        CHECK_NEAR(aiecg_record_fs(r), 500, 1e-9);
        CHECK_INT(aiecg_record_nsamples(r), 5500);
        CHECK_NEAR(aiecg_record_duration(r), 11.0, 1e-9);
        CHECK_INT(m.sex, want[i].sex);
        CHECK_INT(m.has_start_time ? m.year : 0, want[i].year);
        aiecg_lead_info li;
        aiecg_record_lead_info(r, 0, &li);
        CHECK_NEAR(li.gain, 200, 1e-9); /* 5 uV */
        double c = limb_consistency(r);
        if (c > want[i].tol) fprintf(stderr, "%s: limb lead consistency %.4f mV\n", want[i].file, c);
        CHECK(c <= want[i].tol); /* 0.011: two 5-uV steps of rounding */
        aiecg_record_free(r);
    }
    aiecg_error err = {0};
    aiecg_record *r = open_in(dir, "129DYPRG.XML", &err);
    if (r) {
        aiecg_record_meta m;
        aiecg_record_meta_get(r, &m);
        CHECK_STR(m.patient_id, "1112010721168bdc");
        CHECK_INT(m.age, 50);
        CHECK_INT(m.hour, 7);
        CHECK_INT(m.minute, 27);
        CHECK_STR(m.device, "HeartstartMRx");
        CHECK_INT(aiecg_record_nstatements(r), 4);
        CHECK_STR(aiecg_record_statement(r, 0), "Sinus bradycardia; rate< 50");
        CHECK_STR(aiecg_record_statement(r, 3), ">>> Acute MI <<<");
        CHECK_INT(aiecg_record_lead_adc(r, 0)[0], 48); /* 0.24 mV / 5 uV */
        aiecg_record_free(r);
    }
}

/* UTF-16LE and UTF-16BE copies of one ECG decode identically. */
static void test_utf16_twins(void) {
    aiecg_error err = {0};
    aiecg_record *a = open_in(dir, "ad4d3d80-d165_1-04_orig.xml", &err);
    aiecg_record *b = open_in(dir, "ecg-example.xml", &err);
    CHECK(a && b);
    if (a && b) {
        int same = 1;
        for (int l = 0; l < 12; l++)
            if (memcmp(aiecg_record_lead_data(a, l), aiecg_record_lead_data(b, l), 5500 * sizeof(float))) same = 0;
        CHECK(same);
    }
    aiecg_record_free(a);
    aiecg_record_free(b);
}

/* Philips' FDA aECG export of the same PageWriter ECG (scale 5 uV, 12 x 5500 at 500 Hz). */
static void test_vs_aecg(void) {
    aiecg_error err = {0};
    aiecg_record *p = open_in(dir, "ad4d3d80-d165_1-04_orig.xml", &err);
    aiecg_record *x = open_in(fdir, "hl7-aecg/ad4d3d80-d165_1-04_converted.xml", &err);
    CHECK(p && x);
    if (p && x) {
        double ss = 0, sx = 0;
        int64_t n = 0;
        for (int l = 0; l < 12; l++) {
            aiecg_lead_info li;
            aiecg_record_lead_info(p, l, &li);
            int k = aiecg_record_find_lead(x, li.lead);
            CHECK(k >= 0);
            if (k < 0) continue;
            const float *a = aiecg_record_lead_data(p, l), *b = aiecg_record_lead_data(x, k);
            for (int i = 0; i < 5500; i++, n++) {
                ss += (a[i] - b[i]) * (a[i] - b[i]);
                sx += b[i] * b[i];
            }
        }
        double rms = sqrt(ss / (double)n), rel = sqrt(ss / sx);
        printf("ad4d3d80 Sierra XLI vs Philips aECG export: rms diff %.4f mV (%.1f%% of signal rms)\n", rms, 100 * rel);
        CHECK(rel < 0.10);
    }
    aiecg_record_free(p);
    aiecg_record_free(x);
}

static void test_oom(void) {
    char path[8192];
    snprintf(path, sizeof path, "%s/129DYPRG.XML", dir);
    FILE *f = fopen(path, "rb");
    if (!f) return;
    char *buf = malloc(1 << 20);
    size_t n = fread(buf, 1, 1 << 20, f);
    fclose(f);
    test_oom_sweep_read(buf, n, AIECG_FORMAT_PHILIPS);
    free(buf);
}

static void test_rejected(void) {
    aiecg_error err = {0};
    aiecg_record *r = open_in(dir, "invalid-doc-type.xml", &err);
    CHECK(r == NULL);
    CHECK_INT(err.status, AIECG_ERR_UNSUPPORTED);
    CHECK(strstr(err.message, "documenttype \"MortaraECG\"") != NULL);
    r = open_in(dir, "invalid-doc-version.xml", &err);
    CHECK(r == NULL);
    CHECK_INT(err.status, AIECG_ERR_UNSUPPORTED);
    CHECK(strstr(err.message, "documentversion \"1.05\"") != NULL);
    /* corrupt XLI: cut the base64 text short */
    char path[8192];
    snprintf(path, sizeof path, "%s/129DYPRG.XML", dir);
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    if (!f) return;
    char *buf = malloc(1 << 20);
    size_t n = fread(buf, 1, 1 << 20, f);
    fclose(f);
    buf[n] = 0;
    char *end = strstr(buf, "</parsedwaveforms>");
    CHECK(end != NULL);
    if (end) {
        /* drop the second half of the waveform text */
        char *start = strstr(buf, "nbitspersample=\"16\">");
        CHECK(start != NULL);
        if (start) {
            char *mid = start + (end - start) / 2;
            while (mid > start && mid[-1] != '\n') mid--; /* lines hold whole base64 quanta */
            memmove(mid, end, strlen(end) + 1);
            aiecg_read_options o = aiecg_read_options_default();
            aiecg_status st = aiecg_record_read_memory(buf, strlen(buf), "cut.xml", &o, &r, &err);
            CHECK_INT(st, AIECG_ERR_TRUNCATED);
            CHECK(strstr(err.message, "XLI") != NULL);
        }
    }
    free(buf);
}

/* The three XML dialects that share ".xml" are told apart by their root element, in any encoding. */
static void test_probe(void) {
    static const struct {
        const char *file;
        aiecg_format f;
    } want[] = {
        {"philips-xml/129DYPRG.XML", AIECG_FORMAT_PHILIPS},
        {"philips-xml/ad4d3d80-d165_1-04_orig.xml", AIECG_FORMAT_PHILIPS}, /* UTF-16LE */
        {"philips-xml/ecg-example.xml", AIECG_FORMAT_PHILIPS},             /* UTF-16BE */
        {"hl7-aecg/Example.xml", AIECG_FORMAT_AECG},
        {"hl7-aecg/minimum_aecg.xml", AIECG_FORMAT_AECG},
        {"ge-muse-xml/example1.xml", AIECG_FORMAT_MUSE},
        {"dicom-ecg/Example.dcm", AIECG_FORMAT_DICOM},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", fdir, want[i].file);
        FILE *f = fopen(path, "rb");
        CHECK(f != NULL);
        if (!f) continue;
        uint8_t head[4096];
        size_t n = fread(head, 1, sizeof head, f);
        fclose(f);
        aiecg_format got = aiecg_format_detect(head, n, "unnamed");
        if (got != want[i].f) fprintf(stderr, "%s detected as %s\n", want[i].file, aiecg_format_name(got));
        CHECK_INT(got, want[i].f);
    }
    const char *other = "<?xml version=\"1.0\"?><html><body/></html>";
    CHECK_INT(aiecg_format_detect(other, strlen(other), "page.xml"), AIECG_FORMAT_AUTO);
}

int main(void) {
    test_data_path("formats/philips-xml", dir, sizeof dir);
    test_data_path("formats", fdir, sizeof fdir);
    RUN(test_files);
    RUN(test_utf16_twins);
    RUN(test_vs_aecg);
    RUN(test_rejected);
    RUN(test_oom);
    RUN(test_probe);
    return test_summary();
}
