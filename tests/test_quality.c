/*
 * Signal quality on real records: clean MIT-BIH and LUDB segments are GOOD,
 * NSTDB 118e_6 (-6 dB electrode-motion noise) is POOR; synthetic flat,
 * clipped, NaN and too-short inputs are flagged; LUDB records with the arm
 * electrodes swapped synthetically are flagged as LA/RA reversal and the
 * originals are not.
 */
#include "test.h"

static const char *verdict_name(aiecg_quality_verdict v) {
    static const char *n[] = {"GOOD", "ACCEPTABLE", "POOR", "UNUSABLE"};
    return (unsigned)v < 4 ? n[v] : "?";
}

/* Copy of seconds [t0, t0 + dur) of a record (ADC plane included). */
static aiecg_record *segment(const aiecg_record *rec, double t0, double dur) {
    double fs = aiecg_record_fs(rec);
    int nl = aiecg_record_nleads(rec);
    int64_t a = (int64_t)(t0 * fs), n = (int64_t)(dur * fs);
    if (a + n > aiecg_record_nsamples(rec)) n = aiecg_record_nsamples(rec) - a;
    aiecg_record *o = NULL;
    int adc = aiecg_record_lead_adc(rec, 0) != NULL;
    if (aiecg_record_new(nl, n, fs, adc, &o, NULL) != AIECG_OK) return NULL;
    for (int l = 0; l < nl; l++) {
        aiecg_lead_info li;
        aiecg_record_lead_info(rec, l, &li);
        aiecg_record_set_lead(o, l, &li);
        memcpy(aiecg_record_lead_data_mut(o, l), aiecg_record_lead_data(rec, l) + a, (size_t)n * sizeof(float));
        if (adc)
            memcpy(aiecg_record_lead_adc_mut(o, l), aiecg_record_lead_adc(rec, l) + a, (size_t)n * sizeof(int32_t));
    }
    return o;
}

static aiecg_record *open_rec(const char *set, const char *name) {
    char dir[4096], path[4300];
    test_data_path(set, dir, sizeof dir);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    aiecg_record *rec = NULL;
    aiecg_error err;
    aiecg_read_options o = aiecg_read_options_default();
    o.skip_annotations = 1;
    CHECK_OK(aiecg_record_open(path, &o, &rec, &err), &err);
    return rec;
}

static aiecg_quality assess(const aiecg_record *rec, const char *what) {
    aiecg_quality q;
    memset(&q, 0, sizeof q);
    CHECK_OK(aiecg_quality_assess(rec, &q), NULL);
    printf("%-28s %-10s flags 0x%02x", what, verdict_name(q.verdict), q.flags);
    for (int l = 0; l < q.nleads && l < 12; l++)
        printf(" [%s %.0fdB %.3fmV]", verdict_name(q.lead[l].verdict), q.lead[l].snr_db, q.lead[l].noise_mv);
    printf("%s\n", q.limb_reversal_suspected ? " LA/RA?" : "");
    return q;
}

static void test_clean(void) {
    const char *recs[] = {"100", "103", "113", "117", "122"};
    for (int i = 0; i < 5; i++) {
        aiecg_record *r = open_rec("mitdb", recs[i]);
        if (!r) continue;
        aiecg_record *s = segment(r, 60, 30);
        char what[64];
        snprintf(what, sizeof what, "mitdb %s 60-90 s", recs[i]);
        aiecg_quality q = assess(s, what);
        CHECK_INT(q.verdict, AIECG_QUALITY_GOOD);
        CHECK(!q.limb_reversal_suspected);
        aiecg_record_free(s);
        aiecg_record_free(r);
    }
    int good = 0, total = 0;
    for (int i = 1; i <= 20; i++) {
        char nm[16];
        snprintf(nm, sizeof nm, "data/%d", i);
        aiecg_record *r = open_rec("ludb", nm);
        if (!r) continue;
        char what[64];
        snprintf(what, sizeof what, "ludb %d", i);
        aiecg_quality q = assess(r, what);
        good += q.verdict == AIECG_QUALITY_GOOD;
        total++;
        CHECK(q.verdict <= AIECG_QUALITY_ACCEPTABLE);
        CHECK(!q.limb_reversal_suspected);
        aiecg_record_free(r);
    }
    printf("LUDB 1-20: %d of %d GOOD\n", good, total);
    CHECK(good * 10 >= total * 7);
}

static void test_noisy(void) {
    aiecg_record *r = open_rec("nstdb", "118e_6");
    if (!r) return;
    aiecg_record *s = segment(r, 300, 60); /* the noise is added from 5 min on */
    aiecg_quality q = assess(s, "nstdb 118e_6 300-360 s");
    CHECK(q.verdict >= AIECG_QUALITY_POOR);
    aiecg_record_free(s);
    aiecg_record_free(r);
    r = open_rec("nstdb", "118e24");
    s = segment(r, 300, 60);
    q = assess(s, "nstdb 118e24 300-360 s");
    CHECK(q.verdict <= AIECG_QUALITY_ACCEPTABLE);
    aiecg_record_free(s);
    aiecg_record_free(r);
}

static void test_synthetic(void) {
    aiecg_record *r = open_rec("mitdb", "100");
    if (!r) return;
    aiecg_record *s = segment(r, 0, 20);
    int64_t n = aiecg_record_nsamples(s);
    /* lead 1 flat */
    memset(aiecg_record_lead_data_mut(s, 1), 0, (size_t)n * sizeof(float));
    memset(aiecg_record_lead_adc_mut(s, 1), 0, (size_t)n * sizeof(int32_t));
    aiecg_quality q = assess(s, "100, lead 2 flat");
    CHECK(q.lead[1].flags & AIECG_QUALITY_FLAT);
    CHECK_INT(q.lead[1].verdict, AIECG_QUALITY_UNUSABLE);
    CHECK(q.lead[0].verdict <= AIECG_QUALITY_ACCEPTABLE);
    CHECK(q.verdict == AIECG_QUALITY_ACCEPTABLE || q.verdict == AIECG_QUALITY_POOR);
    aiecg_record_free(s);
    /* lead 0 clipped at the 11-bit rails: amplify the ADC values and saturate */
    s = segment(r, 0, 20);
    {
        aiecg_lead_info li;
        aiecg_record_lead_info(s, 0, &li);
        int32_t *adc = aiecg_record_lead_adc_mut(s, 0);
        int64_t half = (int64_t)1 << (li.adc_resolution - 1);
        for (int64_t i = 0; i < n; i++) {
            int64_t v = li.adc_zero + (adc[i] - li.baseline) * 8;
            if (v < li.adc_zero - half) v = li.adc_zero - half;
            if (v > li.adc_zero + half - 1) v = li.adc_zero + half - 1;
            adc[i] = (int32_t)v;
        }
        aiecg_record_adc_to_mv(s);
    }
    q = assess(s, "100, lead 1 clipped");
    CHECK(q.lead[0].flags & AIECG_QUALITY_CLIPPED);
    CHECK(q.lead[0].verdict >= AIECG_QUALITY_POOR);
    aiecg_record_free(s);
    /* NaN burst */
    s = segment(r, 0, 20);
    float *x = aiecg_record_lead_data_mut(s, 0);
    for (int64_t i = 1000; i < 1400; i++) x[i] = NAN;
    x[5000] = INFINITY;
    q = assess(s, "100, NaN/Inf in lead 1");
    CHECK(q.lead[0].flags & AIECG_QUALITY_NONFINITE);
    CHECK(!(q.lead[1].flags & AIECG_QUALITY_NONFINITE));
    aiecg_record_free(s);
    /* too short */
    s = segment(r, 0, 2.0);
    q = assess(s, "100, 2 s");
    CHECK(q.flags & AIECG_QUALITY_TOO_SHORT);
    CHECK_INT(q.verdict, AIECG_QUALITY_UNUSABLE);
    aiecg_record_free(s);
    /* strong 60 Hz added */
    s = segment(r, 0, 20);
    for (int l = 0; l < 2; l++) {
        x = aiecg_record_lead_data_mut(s, l);
        for (int64_t i = 0; i < n; i++) x[i] += 0.2f * (float)sin(2 * 3.14159265 * 60 * i / 360.0);
    }
    q = assess(s, "100, 0.2 mV 60 Hz");
    CHECK(q.flags & AIECG_QUALITY_POWERLINE);
    aiecg_record_free(s);
    aiecg_record_free(r);
    CHECK(aiecg_quality_assess(NULL, &q) != AIECG_OK);
}

/* LA/RA reversal: I -> -I, II <-> III, aVR <-> aVL (aVF and the chest leads unchanged). */
static void test_limb_reversal(void) {
    int flagged = 0, total = 0;
    for (int i = 1; i <= 20; i++) {
        char nm[16];
        snprintf(nm, sizeof nm, "data/%d", i);
        aiecg_record *r = open_rec("ludb", nm);
        if (!r) continue;
        int I = aiecg_record_find_lead(r, AIECG_LEAD_I), II = aiecg_record_find_lead(r, AIECG_LEAD_II),
            III = aiecg_record_find_lead(r, AIECG_LEAD_III), R = aiecg_record_find_lead(r, AIECG_LEAD_AVR),
            L = aiecg_record_find_lead(r, AIECG_LEAD_AVL);
        CHECK(I >= 0 && II >= 0 && III >= 0 && R >= 0 && L >= 0);
        int64_t n = aiecg_record_nsamples(r);
        float *t = malloc((size_t)n * sizeof *t);
        float *xi = aiecg_record_lead_data_mut(r, I);
        for (int64_t k = 0; k < n; k++) xi[k] = -xi[k];
        memcpy(t, aiecg_record_lead_data(r, II), (size_t)n * sizeof *t);
        memcpy(aiecg_record_lead_data_mut(r, II), aiecg_record_lead_data(r, III), (size_t)n * sizeof *t);
        memcpy(aiecg_record_lead_data_mut(r, III), t, (size_t)n * sizeof *t);
        memcpy(t, aiecg_record_lead_data(r, R), (size_t)n * sizeof *t);
        memcpy(aiecg_record_lead_data_mut(r, R), aiecg_record_lead_data(r, L), (size_t)n * sizeof *t);
        memcpy(aiecg_record_lead_data_mut(r, L), t, (size_t)n * sizeof *t);
        free(t);
        aiecg_quality q;
        CHECK_OK(aiecg_quality_assess(r, &q), NULL);
        flagged += q.limb_reversal_suspected;
        total++;
        aiecg_record_free(r);
    }
    printf("LA/RA reversal flagged on %d of %d swapped LUDB records\n", flagged, total);
    CHECK(flagged * 2 >= total);
}

int main(void) {
    RUN(test_clean);
    RUN(test_noisy);
    RUN(test_synthetic);
    RUN(test_limb_reversal);
    return test_summary();
}
