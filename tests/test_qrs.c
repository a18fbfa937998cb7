/*
 * QRS detector: ANSI/AAMI EC57 beat-by-beat scores on all 48 MIT-BIH
 * records (gross Se and +P must not regress beyond the stated margin),
 * NSTDB 118e06, streaming == batch on every record, and bad input.
 * AIECG_QRS_VERBOSE=1 prints the per-record table.
 */
#include "test.h"
#include "wfdb_min.h"

#include "aiecg/eval.h"

/* Figures reached (docs/dsp-qrs.md), minus a 0.05 percentage-point margin. */
#define MITDB_SE_MIN 0.99754
#define MITDB_PPV_MIN 0.99756
#define NSTDB_MIN 0.97

static int verbose(void) {
    const char *v = getenv("AIECG_QRS_VERBOSE");
    return v && v[0] == '1';
}

/* Reference beat samples of a record (EC57 beat annotations only). */
static int64_t ref_beats(const aiecg_record *rec, int64_t **out) {
    int64_t na = aiecg_record_nannotations(rec), k = 0;
    const aiecg_annotation *a = aiecg_record_annotations(rec);
    *out = malloc((size_t)(na + 1) * sizeof **out);
    for (int64_t i = 0; i < na; i++)
        if (aiecg_annotation_is_beat(a[i].code)) (*out)[k++] = a[i].sample;
    return k;
}

static const char *aiecg_record_meta_name(const aiecg_record *rec) {
    static aiecg_record_meta m;
    aiecg_record_meta_get(rec, &m);
    return m.record_name;
}

/* Ventricular-beat agreement of matched beats (MIT-BIH V and E are ventricular). */
static long long g_vtp, g_vfn, g_vfp;
static void score_labels(const aiecg_record *rec, const aiecg_beat *b, int64_t nb) {
    const aiecg_annotation *a = aiecg_record_annotations(rec);
    int64_t na = aiecg_record_nannotations(rec), j = 0;
    int64_t w = (int64_t)(0.15 * aiecg_record_fs(rec));
    int cv = aiecg_annotation_code_parse("V"), ce = aiecg_annotation_code_parse("E");
    for (int64_t i = 0; i < na; i++) {
        if (!aiecg_annotation_is_beat(a[i].code)) continue;
        while (j < nb && b[j].sample < a[i].sample - w) j++;
        if (j >= nb || b[j].sample > a[i].sample + w) continue;
        int rv = a[i].code == cv || a[i].code == ce, tv = b[j].label == 'V';
        if (getenv("AIECG_QRS_LABELS") && rv != tv) printf("  label %s %.2f ref %s got %c fam %d w %.0f corr %.2f\n", aiecg_record_meta_name(rec), a[i].sample / aiecg_record_fs(rec), aiecg_annotation_code_name(a[i].code), b[j].label, b[j].family, b[j].width_ms, b[j].corr);
        g_vtp += rv && tv;
        g_vfn += rv && !tv;
        g_vfp += !rv && tv;
    }
}

static aiecg_qrs_match score_record(const char *dir, const char *name, int check_stream) {
    char base[4096];
    snprintf(base, sizeof base, "%s/%s", dir, name);
    aiecg_qrs_match m = {0, 0, 0, NAN, NAN};
    aiecg_record *rec = wmin_open(base, "atr");
    CHECK(rec != NULL);
    if (!rec) return m;
    aiecg_beat *b = NULL;
    int64_t nb = 0;
    aiecg_error err;
    CHECK_OK(aiecg_qrs_detect(rec, NULL, &b, &nb, &err), &err);
    int64_t *ref = NULL, nref = ref_beats(rec, &ref);
    int64_t *tst = malloc((size_t)(nb + 1) * sizeof *tst);
    for (int64_t i = 0; i < nb; i++) tst[i] = b[i].sample;
    CHECK_OK(aiecg_eval_qrs_match(ref, nref, tst, nb, aiecg_record_fs(rec), 0.150, 0, -1, &m), NULL);
    score_labels(rec, b, nb);
    if (check_stream) {
        /* the same record through the streaming object in odd-sized chunks */
        int nl = aiecg_record_nleads(rec);
        int64_t n = aiecg_record_nsamples(rec);
        aiecg_qrs_detector *d = NULL;
        CHECK_OK(aiecg_qrs_detector_new(aiecg_record_fs(rec), nl, NULL, &d), NULL);
        int64_t ns = 0, mismatch = 0;
        aiecg_beat out[64];
        const float *p[AIECG_MAX_LEADS];
        int64_t chunk = 1;
        for (int64_t i = 0; d && i < n;) {
            int64_t c = chunk < n - i ? chunk : n - i;
            for (int l = 0; l < nl; l++) p[l] = aiecg_record_lead_data(rec, l) + i;
            int got = 0;
            CHECK_OK(aiecg_qrs_detector_push(d, p, c, out, 64, &got), NULL);
            for (int k = 0; k < got; k++, ns++) {
                if (ns >= nb || out[k].sample != b[ns].sample) mismatch++;
                if (ns < nb) CHECK(out[k].sample - b[ns].sample <= aiecg_qrs_detector_delay(d));
            }
            i += c;
            chunk = chunk * 7 % 3001 + 1;
        }
        int got = 0;
        if (d) CHECK_OK(aiecg_qrs_detector_finish(d, out, 64, &got), NULL);
        for (int k = 0; k < got; k++, ns++)
            if (ns >= nb || out[k].sample != b[ns].sample) mismatch++;
        CHECK_INT(ns, nb);
        CHECK_INT(mismatch, 0);
        aiecg_qrs_detector_free(d);
    }
    if (verbose())
        printf("%-8s %6lld %6lld %5lld %5lld %8.3f %8.3f\n", name, (long long)nref, (long long)m.tp,
               (long long)m.fn, (long long)m.fp, 100 * m.se, 100 * m.ppv);
    free(ref);
    free(tst);
    aiecg_free(b);
    aiecg_record_free(rec);
    return m;
}

static void test_mitdb_all(void) {
    char dir[4096];
    test_data_path("mitdb", dir, sizeof dir);
    char path[4200];
    snprintf(path, sizeof path, "%s/RECORDS", dir);
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    if (!f) return;
    const char *only = getenv("AIECG_QRS_RECORDS");
    aiecg_qrs_match g = {0, 0, 0, NAN, NAN};
    char name[64];
    int nrec = 0;
    while (fscanf(f, "%63s", name) == 1) {
        if (only && !strstr(only, name)) continue;
        aiecg_qrs_match m = score_record(dir, name, getenv("AIECG_QRS_NOSTREAM") == NULL);
        aiecg_qrs_match_add(&g, &m);
        nrec++;
    }
    fclose(f);
    printf("MIT-BIH %d records: TP %lld FN %lld FP %lld gross Se %.3f %% +P %.3f %%\n", nrec,
           (long long)g.tp, (long long)g.fn, (long long)g.fp, 100 * g.se, 100 * g.ppv);
    printf("MIT-BIH ventricular labels on matched beats: Se %.1f %% +P %.1f %% (V/E vs 'V')\n",
           100.0 * g_vtp / (g_vtp + g_vfn + 1e-9), 100.0 * g_vtp / (g_vtp + g_vfp + 1e-9));
    if (!only) {
        CHECK_INT(nrec, 48);
        CHECK(g.se >= MITDB_SE_MIN);
        CHECK(g.ppv >= MITDB_PPV_MIN);
    }
}

static void test_nstdb(void) {
    char dir[4096];
    test_data_path("nstdb", dir, sizeof dir);
    const char *recs[] = {"118e24", "118e18", "118e12", "118e06", "118e00", "118e_6"};
    for (int i = 0; i < 6; i++) {
        aiecg_qrs_match m = score_record(dir, recs[i], 0);
        printf("NSTDB %s: Se %.2f %% +P %.2f %%\n", recs[i], 100 * m.se, 100 * m.ppv);
        if (strcmp(recs[i], "118e06") == 0) {
            CHECK(m.se >= NSTDB_MIN);
            CHECK(m.ppv >= NSTDB_MIN);
        }
    }
}

/* Deterministic Gaussian noise (xorshift + Box-Muller). */
static float gauss(unsigned *st) {
    double u[2];
    for (int k = 0; k < 2; k++) {
        *st ^= *st << 13;
        *st ^= *st >> 17;
        *st ^= *st << 5;
        u[k] = (*st + 1.0) / 4294967297.0;
    }
    return (float)(sqrt(-2 * log(u[0])) * cos(6.283185307179586 * u[1]));
}

static int64_t detect_synth(int nl, int64_t n, double fs, int kind) {
    aiecg_record *rec = NULL;
    CHECK_OK(aiecg_record_new(nl, n, fs, 0, &rec, NULL), NULL);
    if (!rec) return -1;
    unsigned st = 12345;
    for (int l = 0; l < nl; l++) {
        float *x = aiecg_record_lead_data_mut(rec, l);
        for (int64_t i = 0; i < n; i++) {
            switch (kind) {
            case 0: x[i] = 0; break;
            case 1: x[i] = 0.2f * gauss(&st); break;
            case 2: x[i] = (i % 7 == 0) ? NAN : (i % 11 == 0 ? INFINITY : 0); break;
            case 3: x[i] = (gauss(&st) > 0) ? 5.0f : -5.0f; break; /* rail to rail */
            case 4: x[i] = 1.0f; break;
            }
        }
    }
    aiecg_beat *b = NULL;
    int64_t nb = -1;
    aiecg_error err;
    aiecg_status s = aiecg_qrs_detect(rec, NULL, &b, &nb, &err);
    CHECK(s == AIECG_OK || s == AIECG_ERR_UNSUPPORTED);
    aiecg_free(b);
    aiecg_record_free(rec);
    return nb;
}

static void test_bad_input(void) {
    CHECK_INT(detect_synth(2, 3600, 360, 0), 0);   /* zeros */
    CHECK_INT(detect_synth(12, 5000, 500, 0), 0);
    CHECK_INT(detect_synth(1, 360, 360, 0), 0);    /* 1 s */
    CHECK_INT(detect_synth(2, 36000, 360, 2), 0);  /* NaN / Inf on zeros */
    CHECK_INT(detect_synth(1, 5000, 500, 4), 0);   /* constant */
    int64_t nn = detect_synth(2, 36000, 360, 1);   /* white noise, 100 s */
    printf("beats on 100 s of white noise: %lld\n", (long long)nn);
    CHECK_INT(nn, 0);
    int64_t nc = detect_synth(1, 5000, 500, 3);
    printf("beats on 10 s of rail-to-rail noise: %lld\n", (long long)nc);
    CHECK(nc >= 0);
    /* below 50 Hz the detector declines */
    {
        aiecg_record *r = NULL;
        aiecg_beat *b = NULL;
        int64_t nb = 0;
        aiecg_error err;
        CHECK_OK(aiecg_record_new(1, 400, 40, 0, &r, NULL), NULL);
        CHECK_INT(aiecg_qrs_detect(r, NULL, &b, &nb, &err), AIECG_ERR_UNSUPPORTED);
        CHECK(b == NULL && nb == 0);
        aiecg_record_free(r);
    }
    /* detector objects reject nonsense */
    aiecg_qrs_detector *d = NULL;
    CHECK(aiecg_qrs_detector_new(0, 1, NULL, &d) != AIECG_OK);
    CHECK(aiecg_qrs_detector_new(360, 0, NULL, &d) != AIECG_OK);
    CHECK(aiecg_qrs_detector_new(360, 65, NULL, &d) != AIECG_OK);
    CHECK(d == NULL);
    aiecg_qrs_detector_free(NULL);
}

/* Allocation-failure injection: the Nth allocation fails, for every N until the call succeeds. */
static long oom_left_;
static void *oom_malloc_(size_t n) { return oom_left_-- > 0 ? malloc(n) : NULL; }
static void *oom_realloc_(void *p, size_t n) { return oom_left_-- > 0 ? realloc(p, n) : NULL; }

static void test_oom(void) {
    aiecg_record *rec = NULL;
    CHECK_OK(aiecg_record_new(2, 3600, 360, 0, &rec, NULL), NULL);
    if (!rec) return;
    for (int l = 0; l < 2; l++) {
        float *x = aiecg_record_lead_data_mut(rec, l);
        for (int64_t i = 0; i < 3600; i++) x[i] = (i % 300 < 8) ? 1.0f : 0.0f; /* spikes at 72 bpm */
    }
    for (int what = 0; what < 3; what++) {
        int done = 0;
        for (long k = 0; k < 100000 && !done; k++) {
            aiecg_status s;
            aiecg_beat *b = NULL;
            int64_t nb = 0;
            aiecg_qrs_detector *d = NULL;
            aiecg_quality q;
            oom_left_ = k;
            aiecg_set_allocator(oom_malloc_, oom_realloc_, free);
            if (what == 0)
                s = aiecg_qrs_detector_new(360, 2, NULL, &d);
            else if (what == 1)
                s = aiecg_qrs_detect(rec, NULL, &b, &nb, NULL);
            else
                s = aiecg_quality_assess(rec, &q);
            aiecg_set_allocator(NULL, NULL, NULL);
            if (s == AIECG_OK) {
                done = 1;
                if (what == 1) CHECK(nb > 5);
            } else {
                CHECK_INT(s, AIECG_ERR_NOMEM);
                if (s != AIECG_ERR_NOMEM) done = 1;
                CHECK(d == NULL && b == NULL);
            }
            aiecg_qrs_detector_free(d);
            aiecg_free(b);
        }
        CHECK(done);
    }
    aiecg_record_free(rec);
}

int main(void) {
    RUN(test_oom);
    RUN(test_bad_input);
    if (!getenv("AIECG_QRS_SKIP_MITDB")) RUN(test_mitdb_all);
    RUN(test_nstdb);
    return test_summary();
}
