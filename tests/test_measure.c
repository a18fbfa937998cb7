/*
 * Global measurements: formulas on synthetic beats of known timing, frontal
 * axes of synthetic dipoles (Einthoven), physiology on real records
 * (PTB-XL records labelled 1st-degree AV block have PR > 200 ms, normal ones
 * do not; MIT-BIH atrial fibrillation segments of 201/203 have no P wave),
 * and "not measurable" with a reason, never a crash, on bad input.
 */
#include "test.h"
#include "aiecg/eval.h"
#include "wfdb_min.h"

static float gauss(double t, double mu, double sd) { return (float)exp(-0.5 * (t - mu) * (t - mu) / (sd * sd)); }

/*
 * Synthetic 12-lead record at fs: beats every rr_ms; per beat (t = 0 at the
 * QRS onset, ms) P at -pr+50 (sd 18), QRS a triangle-ish 0..qrs ms, T peak at
 * qt-80 (sd 40). Limb leads from a frontal dipole at angle `axis_deg`,
 * precordials scaled copies.
 */
static aiecg_record *synth(double fs, double secs, double rr_ms, double pr, double qrs, double qt,
                           double axis_deg, int with_p, aiecg_beat **beats, int64_t *nb) {
    int64_t n = (int64_t)(secs * fs);
    aiecg_record *rec = NULL;
    if (aiecg_record_new(12, n, fs, 0, &rec, NULL) != AIECG_OK) return NULL;
    static const char *names[12] = {"I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"};
    for (int l = 0; l < 12; l++) {
        aiecg_lead_info li;
        memset(&li, 0, sizeof li);
        li.label = names[l];
        li.lead = aiecg_lead_parse(names[l]);
        li.units = "mV";
        aiecg_record_set_lead(rec, l, &li);
    }
    float *sig = calloc((size_t)n, sizeof *sig);
    int64_t cap = (int64_t)(secs * 1000 / rr_ms) + 2, k = 0;
    *beats = calloc((size_t)cap, sizeof **beats);
    for (double on = 300; on + qt + 200 < secs * 1000; on += rr_ms) {
        double rpk = on + qrs * 0.45;
        (*beats)[k].sample = (int64_t)llround(rpk * fs / 1000);
        (*beats)[k].label = 'N';
        (*beats)[k].family = 0;
        k++;
    }
    *nb = k;
    for (int64_t i = 0; i < n; i++) {
        double t = (double)i * 1000.0 / fs, v = 0;
        for (int64_t j = 0; j < k; j++) {
            double on = 300 + rr_ms * (double)j, u = t - on;
            if (u < -400 || u > qt + 200) continue;
            if (with_p) v += 0.15 * gauss(u, -pr + 50, 16);
            /* QRS: q-R-s shape confined to [0, qrs] */
            if (u >= 0 && u <= qrs) {
                double x = u / qrs;
                v += -0.1 * sin(M_PI * fmin(1.0, x / 0.2)) * (x < 0.2) + 1.2 * sin(M_PI * (x - 0.2) / 0.5) * (x >= 0.2 && x <= 0.7) -
                     0.25 * sin(M_PI * (x - 0.7) / 0.3) * (x > 0.7);
            }
            v += 0.35 * gauss(u, qt - 90, 35);
        }
        sig[i] = (float)v;
    }
    double a = axis_deg * M_PI / 180.0;
    double g[12];
    g[0] = cos(a);                 /* I */
    g[1] = cos(a - M_PI / 3);      /* II */
    g[2] = cos(a - 2 * M_PI / 3);  /* III */
    g[3] = -(g[0] + g[1]) / 2;     /* aVR */
    g[4] = g[0] - g[1] / 2;        /* aVL */
    g[5] = g[1] - g[0] / 2;        /* aVF */
    double pre[6] = {-0.6, -0.3, 0.4, 0.8, 1.0, 0.9};
    for (int l = 6; l < 12; l++) g[l] = pre[l - 6];
    for (int l = 0; l < 12; l++) {
        float *x = aiecg_record_lead_data_mut(rec, l);
        for (int64_t i = 0; i < n; i++) x[i] = (float)(g[l] * sig[i]);
    }
    free(sig);
    return rec;
}

static void test_synthetic_intervals(void) {
    aiecg_beat *beats = NULL;
    int64_t nb = 0;
    aiecg_record *rec = synth(500, 10, 800, 160, 90, 380, 45, 1, &beats, &nb);
    CHECK(rec != NULL);
    aiecg_measurements m;
    aiecg_error err;
    aiecg_waves *w = NULL;
    CHECK_OK(aiecg_measure(rec, beats, nb, &m, &w, &err), &err);
    CHECK(w != NULL);
    CHECK_NEAR(m.value[AIECG_MEAS_HR], 75.0, 0.5);
    CHECK_NEAR(m.value[AIECG_MEAS_RR_MEAN], 800.0, 2.0);
    CHECK_NEAR(m.value[AIECG_MEAS_QRS_DUR], 90.0, 30.0); /* onset/offset biases are tuned on LUDB's gradual edges */
    CHECK_NEAR(m.value[AIECG_MEAS_PR], 160.0, 25.0);
    CHECK_NEAR(m.value[AIECG_MEAS_QT], 380.0, 30.0);
    CHECK_NEAR(m.value[AIECG_MEAS_ATRIAL_RATE], m.value[AIECG_MEAS_HR], 1e-9);
    double qt = m.value[AIECG_MEAS_QT], rr = m.value[AIECG_MEAS_RR_MEAN] / 1000.0;
    CHECK_NEAR(m.value[AIECG_MEAS_QTC_BAZETT], qt / sqrt(rr), 1e-6);
    CHECK_NEAR(m.value[AIECG_MEAS_QTC_FRIDERICIA], qt / cbrt(rr), 1e-6);
    CHECK_NEAR(m.value[AIECG_MEAS_QTC_FRAMINGHAM], qt + 154.0 * (1.0 - rr), 1e-6);
    CHECK_NEAR(m.value[AIECG_MEAS_QTC_HODGES], qt + 1.75 * (60.0 / rr - 60.0), 1e-6);
    CHECK(m.value[AIECG_MEAS_QTC_BAZETT] > qt); /* RR < 1 s */
    /* amplitudes: lead II gain cos(15 deg): R ~ 1.16 mV, T ~ 0.34 mV, P ~ 0.145 mV */
    double g2 = cos(15 * M_PI / 180);
    CHECK_NEAR(m.lead[1].r, 1.2 * g2, 0.15);
    CHECK_NEAR(m.lead[1].t, 0.35 * g2, 0.06);
    CHECK_NEAR(m.lead[1].p, 0.15 * g2, 0.04);
    CHECK(m.lead[1].s < 0);
    CHECK_NEAR(m.lead[1].st_j, 0.0, 0.1);
    /* Sokolow-Lyon = |S V1| + max(R V5, R V6); V1 is -0.6 x: its S is -0.6 * R */
    CHECK_NEAR(m.value[AIECG_MEAS_SOKOLOW_LYON], fabs(m.lead[6].s) + fmax(m.lead[10].r, m.lead[11].r), 1e-6);
    CHECK_NEAR(m.value[AIECG_MEAS_SOKOLOW_LYON], 0.6 * 1.2 + 1.0 * 1.2, 0.3);
    CHECK_NEAR(m.value[AIECG_MEAS_CORNELL], m.lead[4].r + fabs(m.lead[8].s), 1e-6);
    CHECK(m.median_beats != NULL && m.median_len > 0 && m.nbeats >= 8);
    for (int i = 0; i < AIECG_MEAS_COUNT; i++) {
        if (!isfinite(m.value[i])) fprintf(stderr, "  %s: %s\n", aiecg_measurement_key((aiecg_measurement)i), m.reason[i]);
        CHECK(isfinite(m.value[i]));
    }
    aiecg_measurements_free(&m);
    aiecg_free(w);
    aiecg_record_free(rec);
    free(beats);
}

static void test_axes(void) {
    static const double axes[] = {60, -30, 10, 80, 120, -80, 150}; /* not where I or aVF is 0 */
    for (size_t i = 0; i < sizeof axes / sizeof axes[0]; i++) {
        aiecg_beat *beats = NULL;
        int64_t nb = 0;
        aiecg_record *rec = synth(500, 8, 900, 160, 90, 380, axes[i], 1, &beats, &nb);
        aiecg_measurements m;
        CHECK_OK(aiecg_measure(rec, beats, nb, &m, NULL, NULL), NULL);
        /* every wave shares the dipole direction, so all three axes equal it */
        double d = fmod(m.value[AIECG_MEAS_QRS_AXIS] - axes[i] + 540.0, 360.0) - 180.0;
        CHECK_NEAR(d, 0.0, 3.0);
        d = fmod(m.value[AIECG_MEAS_T_AXIS] - axes[i] + 540.0, 360.0) - 180.0;
        CHECK_NEAR(d, 0.0, 3.0);
        d = fmod(m.value[AIECG_MEAS_P_AXIS] - axes[i] + 540.0, 360.0) - 180.0;
        CHECK_NEAR(d, 0.0, 5.0);
        aiecg_measurements_free(&m);
        aiecg_record_free(rec);
        free(beats);
    }
}

static void check_all_nan(const aiecg_measurements *m, int from) {
    for (int i = from; i < AIECG_MEAS_COUNT; i++) {
        CHECK(!isfinite(m->value[i]));
        CHECK(m->reason[i] != NULL && m->reason[i][0]);
    }
}

static void test_bad_input(void) {
    aiecg_beat *beats = NULL;
    int64_t nb = 0;
    aiecg_record *rec = synth(500, 10, 800, 160, 90, 380, 60, 1, &beats, &nb);
    aiecg_measurements m;
    aiecg_error err;
    /* flat: every lead zero */
    for (int l = 0; l < 12; l++) memset(aiecg_record_lead_data_mut(rec, l), 0, sizeof(float) * 5000);
    CHECK_OK(aiecg_measure(rec, beats, nb, &m, NULL, &err), &err);
    check_all_nan(&m, AIECG_MEAS_P_DUR);
    CHECK(!isfinite(m.value[AIECG_MEAS_ATRIAL_RATE]));
    CHECK_STR(m.reason[AIECG_MEAS_QRS_DUR], "signal flat or not finite in every lead");
    CHECK(m.median_beats == NULL);
    aiecg_measurements_free(&m);
    /* NaN everywhere */
    for (int l = 0; l < 12; l++) {
        float *x = aiecg_record_lead_data_mut(rec, l);
        for (int i = 0; i < 5000; i++) x[i] = NAN;
    }
    CHECK_OK(aiecg_measure(rec, beats, nb, &m, NULL, &err), &err);
    check_all_nan(&m, AIECG_MEAS_P_DUR);
    aiecg_measurements_free(&m);
    /* noise */
    unsigned s = 7;
    for (int l = 0; l < 12; l++) {
        float *x = aiecg_record_lead_data_mut(rec, l);
        for (int i = 0; i < 5000; i++) {
            s = s * 1103515245u + 12345u;
            x[i] = (float)((s >> 16) & 0x7fff) / 16384.0f - 1.0f;
        }
    }
    CHECK_OK(aiecg_measure(rec, beats, nb, &m, NULL, &err), &err);
    aiecg_measurements_free(&m);
    /* no beats at all */
    CHECK_OK(aiecg_measure(rec, NULL, 0, &m, NULL, &err), &err);
    check_all_nan(&m, 0);
    CHECK_STR(m.reason[AIECG_MEAS_HR], "fewer than 2 beats");
    aiecg_measurements_free(&m);
    aiecg_record_free(rec);
    free(beats);
    /* 1 s record, one beat */
    rec = synth(500, 1.0, 800, 160, 90, 380, 60, 1, &beats, &nb);
    CHECK(rec != NULL);
    if (rec) {
        CHECK_OK(aiecg_measure(rec, beats, nb, &m, NULL, &err), &err);
        check_all_nan(&m, 0);
        aiecg_measurements_free(&m);
        aiecg_record_free(rec);
    }
    free(beats);
    /* single lead (II only): intervals measurable, axes and voltages not, with the lead named */
    rec = synth(500, 10, 800, 160, 90, 380, 60, 1, &beats, &nb);
    aiecg_record *one = NULL;
    CHECK_OK(aiecg_record_new(1, 5000, 500, 0, &one, NULL), NULL);
    aiecg_lead_info li;
    memset(&li, 0, sizeof li);
    li.label = "II";
    li.lead = AIECG_LEAD_II;
    aiecg_record_set_lead(one, 0, &li);
    memcpy(aiecg_record_lead_data_mut(one, 0), aiecg_record_lead_data(rec, 1), sizeof(float) * 5000);
    CHECK_OK(aiecg_measure(one, beats, nb, &m, NULL, &err), &err);
    CHECK(isfinite(m.value[AIECG_MEAS_QRS_DUR]));
    CHECK(isfinite(m.value[AIECG_MEAS_QT]));
    CHECK(!isfinite(m.value[AIECG_MEAS_QRS_AXIS]));
    CHECK_STR(m.reason[AIECG_MEAS_QRS_AXIS], "lead I absent or unusable");
    CHECK_STR(m.reason[AIECG_MEAS_SOKOLOW_LYON], "lead V1 absent or unusable");
    CHECK_STR(m.reason[AIECG_MEAS_CORNELL], "lead aVL absent or unusable");
    aiecg_measurements_free(&m);
    aiecg_record_free(one);
    aiecg_record_free(rec);
    free(beats);
    /* no P waves in the input (junctional-like): PR and P measures NaN with the reason */
    rec = synth(500, 10, 800, 160, 90, 380, 60, 0, &beats, &nb);
    CHECK_OK(aiecg_measure(rec, beats, nb, &m, NULL, &err), &err);
    CHECK(!isfinite(m.value[AIECG_MEAS_PR]));
    CHECK_STR(m.reason[AIECG_MEAS_PR], "no P wave found in the dominant beat");
    CHECK_STR(m.reason[AIECG_MEAS_ATRIAL_RATE], "no P wave found in the dominant beat");
    CHECK(isfinite(m.value[AIECG_MEAS_QRS_DUR]));
    aiecg_measurements_free(&m);
    aiecg_record_free(rec);
    free(beats);
}

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

/* Measures a record with the library's own QRS detector. */
static int measure_detected(aiecg_record *rec, aiecg_measurements *m) {
    aiecg_beat *beats = NULL;
    int64_t nb = 0;
    aiecg_error err;
    if (aiecg_qrs_detect(rec, NULL, &beats, &nb, &err) != AIECG_OK) {
        fprintf(stderr, "qrs_detect: %s\n", err.message);
        return 0;
    }
    aiecg_status st = aiecg_measure(rec, beats, nb, m, NULL, &err);
    aiecg_free(beats);
    return st == AIECG_OK;
}

/* PTB-XL (folds 1-8 only): PR of records labelled 1AVB vs records labelled NORM. */
static void test_ptbxl_first_degree_block(void) {
    char dir[4096], lab[4200], base[8400], line[1024];
    test_data_path("ptbxl", dir, sizeof dir);
    snprintf(lab, sizeof lab, "%s-labels/labels.csv", dir);
    FILE *f = fopen(lab, "r");
    CHECK(f != NULL);
    if (!f) return;
    int n_avb = 0, avb_long = 0, n_norm = 0, norm_long = 0, avb_nan = 0, na = 0, nn = 0;
    float pr_avb[32], pr_norm[32];
    while (fgets(line, sizeof line, f) && (n_avb < 25 || n_norm < 25)) {
        int id = 0, fold = 0;
        char fname[256], sup[256], scp[512];
        if (sscanf(line, "%d,%255[^,],%d,%255[^,],%511[^,]", &id, fname, &fold, sup, scp) != 5) continue;
        if (fold >= 9) continue;
        int avb = strstr(scp, "1AVB") != NULL;
        int norm = strcmp(sup, "NORM") == 0 && strstr(scp, "SR") != NULL;
        if ((avb && n_avb >= 25) || (norm && n_norm >= 25) || (!avb && !norm)) continue;
        snprintf(base, sizeof base, "%s/%s", dir, fname);
        aiecg_record *rec = wmin_open(base, NULL);
        if (!rec) continue;
        aiecg_measurements m;
        if (measure_detected(rec, &m)) {
            double pr = m.value[AIECG_MEAS_PR];
            if (getenv("MEAS_VERBOSE"))
                printf("  %s %s PR %.0f P %.0f QRS %.0f QT %.0f HR %.0f nb %d (%s)\n", fname, avb ? "1AVB" : "NORM", pr,
                       m.value[AIECG_MEAS_P_DUR], m.value[AIECG_MEAS_QRS_DUR], m.value[AIECG_MEAS_QT],
                       m.value[AIECG_MEAS_HR], m.nbeats, m.reason[AIECG_MEAS_PR] ? m.reason[AIECG_MEAS_PR] : "");
            if (avb) {
                n_avb++;
                avb_long += pr > 200;
                avb_nan += !isfinite(pr);
                if (isfinite(pr)) pr_avb[na++] = (float)pr;
            } else {
                n_norm++;
                norm_long += pr > 200;
                if (isfinite(pr)) pr_norm[nn++] = (float)pr;
            }
            aiecg_measurements_free(&m);
        }
        aiecg_record_free(rec);
    }
    fclose(f);
    printf("PTB-XL 1AVB: %d/%d with PR > 200 ms (%d not measured); NORM: %d/%d with PR > 200 ms\n", avb_long,
           n_avb, avb_nan, norm_long, n_norm);
    qsort(pr_avb, (size_t)na, sizeof(float), cmp_float);
    qsort(pr_norm, (size_t)nn, sizeof(float), cmp_float);
    double med_avb = na ? pr_avb[na / 2] : NAN, med_norm = nn ? pr_norm[nn / 2] : NAN;
    printf("  median PR: 1AVB %.0f ms (%d measured), NORM %.0f ms (%d measured)\n", med_avb, na, med_norm, nn);
    CHECK(n_avb == 25 && n_norm == 25);
    CHECK(med_avb > 200);
    CHECK(med_norm < 200);
    CHECK(avb_long >= 13); /* reached 16/25 (docs/dsp-delineation.md) */
    CHECK(norm_long <= 2); /* reached 0/25 */
}

/* MIT-BIH 201 and 203: 10 s segments inside "(AFIB" episodes: no P wave, atrial rate not reported. */
static void test_mitdb_af(void) {
    char dir[4096], base[4200];
    test_data_path("mitdb", dir, sizeof dir);
    static const char *recs[] = {"201", "203"};
    int segs = 0, nop = 0;
    for (int r = 0; r < 2; r++) {
        snprintf(base, sizeof base, "%s/%s", dir, recs[r]);
        aiecg_record *rec = wmin_open(base, "atr");
        CHECK(rec != NULL);
        if (!rec) continue;
        double fs = aiecg_record_fs(rec);
        int64_t na = aiecg_record_nannotations(rec);
        const aiecg_annotation *a = aiecg_record_annotations(rec);
        int in_af = 0;
        int64_t af_start = 0;
        int taken = 0;
        for (int64_t i = 0; i < na && taken < 4; i++) {
            if (a[i].aux && a[i].aux[0] == '(') {
                int now = strncmp(a[i].aux, "(AFIB", 5) == 0;
                if (now && !in_af) af_start = a[i].sample;
                in_af = now;
                continue;
            }
            /* a 10 s window 2 s into an AF episode, whole inside it */
            if (!in_af || a[i].sample < af_start + (int64_t)(2 * fs)) continue;
            int64_t s0 = a[i].sample, s1 = s0 + (int64_t)(10 * fs);
            int ok = 1;
            for (int64_t j = i; j < na && a[j].sample < s1; j++)
                if (a[j].aux && a[j].aux[0] == '(') ok = 0;
            if (!ok || s1 > aiecg_record_nsamples(rec)) continue;
            aiecg_record *seg = NULL;
            int nl = aiecg_record_nleads(rec);
            aiecg_record_new(nl, s1 - s0, fs, 0, &seg, NULL);
            for (int l = 0; l < nl; l++) {
                aiecg_lead_info li;
                aiecg_record_lead_info(rec, l, &li);
                aiecg_record_set_lead(seg, l, &li);
                memcpy(aiecg_record_lead_data_mut(seg, l), aiecg_record_lead_data(rec, l) + s0,
                       sizeof(float) * (size_t)(s1 - s0));
            }
            aiecg_measurements m;
            if (measure_detected(seg, &m)) {
                segs++;
                nop += !isfinite(m.value[AIECG_MEAS_PR]) && !isfinite(m.value[AIECG_MEAS_ATRIAL_RATE]);
                CHECK(m.reason[AIECG_MEAS_QRS_AXIS] != NULL);
                CHECK(isfinite(m.value[AIECG_MEAS_HR]));
                aiecg_measurements_free(&m);
            }
            aiecg_record_free(seg);
            taken++;
            /* next window after this one */
            while (i + 1 < na && a[i + 1].sample < s1) i++;
        }
        aiecg_record_free(rec);
    }
    printf("MIT-BIH 201/203 AF segments: %d/%d without P wave / atrial rate\n", nop, segs);
    CHECK(segs >= 6);
    CHECK(nop >= segs - 1);
}

/*
 * Global intervals against LUDB: per record, the reference interval is the median over
 * annotated beats of the multi-lead reference (2nd-earliest onset / 2nd-latest offset over
 * the 12 leads); ours is aiecg_measure on beats from aiecg_qrs_detect.
 */
static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median_d(double *v, int n) {
    if (n <= 0) return NAN;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static void test_ludb_intervals(void) {
    static const char *ext[12] = {"i", "ii", "iii", "avr", "avl", "avf", "v1", "v2", "v3", "v4", "v5", "v6"};
    char dir[4096], base[4200], path[4300];
    test_data_path("ludb/data", dir, sizeof dir);
    /* 0 PR, 1 QRS, 2 QT, 3 P duration: sums of differences (ours - reference) */
    double sum[4] = {0}, sq[4] = {0};
    int cnt[4] = {0}, ref_only[4] = {0};
    for (int r = 1; r <= 100; r++) {
        snprintf(base, sizeof base, "%s/%d", dir, r);
        aiecg_read_options o = aiecg_read_options_default();
        o.skip_annotations = 1;
        aiecg_record *rec = NULL;
        if (aiecg_record_open(base, &o, &rec, NULL) != AIECG_OK) rec = wmin_open(base, NULL);
        CHECK(rec != NULL);
        if (!rec) continue;
        double fs = aiecg_record_fs(rec);
        aiecg_waves *w[12] = {NULL};
        int64_t n[12] = {0};
        for (int l = 0; l < 12; l++) {
            aiecg_annotation *ann = NULL;
            int64_t na = 0;
            snprintf(path, sizeof path, "%s.%s", base, ext[l]);
            if (aiecg_wfdb_annotations_load(path, &ann, &na, NULL) == AIECG_OK) {
                aiecg_delin_waves_from_annotations(ann, na, &w[l], &n[l], NULL, NULL);
                aiecg_wfdb_annotations_free(ann, na);
            }
        }
        aiecg_waves *ml = calloc((size_t)n[1] + 1, sizeof *ml);
        if (n[1]) memcpy(ml, w[1], sizeof *ml * (size_t)n[1]);
        aiecg_delin_waves_merge((const aiecg_waves *const *)w, n, 12, fs, ml, n[1]);
        double v[4][64];
        int nv[4] = {0};
        for (int64_t k = 0; k < n[1] && k < 64; k++) {
            const aiecg_waves *b = &ml[k];
            if (b->p_on >= 0 && b->qrs_on >= 0) v[0][nv[0]++] = (double)(b->qrs_on - b->p_on) * 1000 / fs;
            if (b->qrs_on >= 0 && b->qrs_off >= 0) v[1][nv[1]++] = (double)(b->qrs_off - b->qrs_on) * 1000 / fs;
            if (b->qrs_on >= 0 && b->t_off >= 0) v[2][nv[2]++] = (double)(b->t_off - b->qrs_on) * 1000 / fs;
            if (b->p_on >= 0 && b->p_off >= 0) v[3][nv[3]++] = (double)(b->p_off - b->p_on) * 1000 / fs;
        }
        aiecg_measurements m;
        if (measure_detected(rec, &m)) {
            const double ours[4] = {m.value[AIECG_MEAS_PR], m.value[AIECG_MEAS_QRS_DUR], m.value[AIECG_MEAS_QT],
                                    m.value[AIECG_MEAS_P_DUR]};
            for (int i = 0; i < 4; i++) {
                /* a reference needs the wave in at least half of the annotated beats */
                double ref = nv[i] * 2 >= n[1] && n[1] > 0 ? median_d(v[i], nv[i]) : NAN;
                if (isfinite(ref) && isfinite(ours[i])) {
                    double d = ours[i] - ref;
                    if (getenv("MEAS_VERBOSE") && fabs(d) > 30)
                        printf("  LUDB %d: interval %d ours %.0f reference %.0f\n", r, i, ours[i], ref);
                    sum[i] += d;
                    sq[i] += d * d;
                    cnt[i]++;
                } else if (isfinite(ref)) {
                    ref_only[i]++;
                }
            }
            aiecg_measurements_free(&m);
        }
        free(ml);
        for (int l = 0; l < 12; l++) aiecg_free(w[l]);
        aiecg_record_free(rec);
    }
    static const char *names[4] = {"PR", "QRS", "QT", "P duration"};
    double mean[4], sd[4];
    for (int i = 0; i < 4; i++) {
        mean[i] = cnt[i] ? sum[i] / cnt[i] : NAN;
        sd[i] = cnt[i] > 1 ? sqrt(fmax(0, (sq[i] - sum[i] * mean[i]) / (cnt[i] - 1))) : NAN;
        printf("LUDB 1-100 %-10s ours - reference: mean %6.2f ms, SD %6.2f ms over %d records (%d with a "
               "reference but not measured)\n", names[i], mean[i], sd[i], cnt[i], ref_only[i]);
    }
    /* limits: reached figures (docs/dsp-delineation.md) plus margin */
    /* (the SD of QRS and QT is dominated by a few records with frequent ectopy, where the
     * reference mixes all beats and we measure the dominant family only) */
    CHECK(cnt[1] >= 98);
    CHECK(fabs(mean[1]) <= 5 && sd[1] <= 22);
    CHECK(fabs(mean[0]) <= 4 && sd[0] <= 9);
    CHECK(fabs(mean[2]) <= 4 && sd[2] <= 26);
    CHECK(fabs(mean[3]) <= 7 && sd[3] <= 16);
    CHECK(cnt[0] >= 78); /* reached 83 */
}

/* Allocation failure at every allocation of aiecg_measure: NOMEM or OK, never a crash or leak. */
static long oom_count_, oom_fail_at_;
static void *oom_malloc(size_t n) { return ++oom_count_ == oom_fail_at_ ? NULL : malloc(n); }
static void *oom_realloc(void *p, size_t n) { return ++oom_count_ == oom_fail_at_ ? NULL : realloc(p, n); }

static void test_oom(void) {
    aiecg_beat *beats = NULL;
    int64_t nb = 0;
    aiecg_record *rec = synth(500, 10, 800, 160, 90, 380, 45, 1, &beats, &nb);
    int ok_seen = 0;
    for (long k = 1; k < 200 && !ok_seen; k++) {
        oom_count_ = 0;
        oom_fail_at_ = k;
        aiecg_set_allocator(oom_malloc, oom_realloc, free);
        aiecg_measurements m;
        aiecg_waves *w = NULL;
        aiecg_status st = aiecg_measure(rec, beats, nb, &m, &w, NULL);
        char *json = NULL;
        aiecg_status sj = st == AIECG_OK ? aiecg_measurements_json(&m, rec, nb, 1, &json) : AIECG_OK;
        aiecg_set_allocator(NULL, NULL, NULL);
        CHECK(st == AIECG_OK || st == AIECG_ERR_NOMEM);
        CHECK(sj == AIECG_OK || sj == AIECG_ERR_NOMEM);
        if (st == AIECG_OK) {
            aiecg_measurements_free(&m);
            aiecg_free(w);
            if (sj == AIECG_OK && oom_count_ < k) ok_seen = 1; /* the whole run fit before the failure point */
        } else {
            CHECK(w == NULL);
        }
        aiecg_free(json);
    }
    CHECK(ok_seen);
    aiecg_record_free(rec);
    free(beats);
}

/* The same record resampled to 250, 360, 1000 and 100 Hz gives the same intervals. */
static void test_rate_invariance(void) {
    char dir[4096], base[4200];
    test_data_path("ludb/data", dir, sizeof dir);
    static const int recs[] = {1, 2, 10};
    static const double rates[] = {250, 360, 1000, 100};
    for (size_t r = 0; r < sizeof recs / sizeof recs[0]; r++) {
        snprintf(base, sizeof base, "%s/%d", dir, recs[r]);
        aiecg_record *rec = wmin_open(base, NULL);
        CHECK(rec != NULL);
        if (!rec) continue;
        aiecg_measurements m0;
        CHECK(measure_detected(rec, &m0));
        for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++) {
            aiecg_record *rs = NULL;
            aiecg_error err;
            CHECK_OK(aiecg_record_resample(rec, rates[i], &rs, &err), &err);
            if (!rs) continue;
            aiecg_measurements m;
            CHECK(measure_detected(rs, &m));
            static const aiecg_measurement iv[] = {AIECG_MEAS_PR, AIECG_MEAS_QRS_DUR, AIECG_MEAS_QT, AIECG_MEAS_HR};
            for (size_t k = 0; k < sizeof iv / sizeof iv[0]; k++) {
                double a = m0.value[iv[k]], b = m.value[iv[k]];
                double tol = iv[k] == AIECG_MEAS_QT ? 16.0 : rates[i] < 200 ? 14.0 : 10.0;
                if (!(fabs(a - b) <= tol))
                    fprintf(stderr, "LUDB %d at %.0f Hz: %s %.1f vs %.1f at 500 Hz\n", recs[r], rates[i],
                            aiecg_measurement_key(iv[k]), b, a);
                CHECK(isfinite(a) && fabs(a - b) <= tol);
            }
            aiecg_measurements_free(&m);
            aiecg_record_free(rs);
        }
        aiecg_measurements_free(&m0);
        aiecg_record_free(rec);
    }
}

/* Random shapes, rates, beat positions (edges, duplicates) and contents: never a crash. */
static unsigned rnd_state_ = 12345;
static unsigned rnd(void) {
    rnd_state_ = rnd_state_ * 1103515245u + 12345u;
    return (rnd_state_ >> 8) & 0xffffff;
}

static void test_random_inputs(void) {
    static const double rates[] = {100, 128, 250, 257.3, 360, 500, 1000};
    int ok = 0;
    for (int trial = 0; trial < 120; trial++) {
        int nl = 1 + (int)(rnd() % 12);
        double fs = rates[rnd() % 7];
        int64_t n = 1 + (int64_t)(rnd() % 4000);
        aiecg_record *rec = NULL;
        if (aiecg_record_new(nl, n, fs, 0, &rec, NULL) != AIECG_OK) continue;
        int kind = (int)(rnd() % 4);
        for (int l = 0; l < nl; l++) {
            float *x = aiecg_record_lead_data_mut(rec, l);
            for (int64_t i = 0; i < n; i++) {
                float v = kind == 0 ? 0.0f : ((float)(rnd() % 2001) - 1000.0f) / 1000.0f;
                if (kind == 2 && rnd() % 50 == 0) v = NAN;
                if (kind == 3 && rnd() % 97 == 0) v = (rnd() & 1) ? 5.0f : -5.0f;
                x[i] = v;
            }
        }
        int64_t nb = (int64_t)(rnd() % 20);
        aiecg_beat *beats = calloc((size_t)nb + 1, sizeof *beats);
        for (int64_t k = 0; k < nb; k++) {
            int64_t p = (int64_t)(rnd() % (unsigned)n);
            if (k == 0 && rnd() % 3 == 0) p = 0;
            beats[k].sample = p;
            beats[k].label = "NVSQ"[rnd() % 4];
            beats[k].family = (int)(rnd() % 3) - 1;
        }
        int sorted = trial % 10 != 0; /* every tenth trial breaks the contract: unsorted beats */
        for (int64_t i = 1; sorted && i < nb; i++) /* sort, keeping duplicates */
            for (int64_t j = i; j > 0 && beats[j - 1].sample > beats[j].sample; j--) {
                aiecg_beat t = beats[j];
                beats[j] = beats[j - 1];
                beats[j - 1] = t;
            }
        aiecg_measurements m;
        aiecg_waves *w = NULL;
        aiecg_error err;
        aiecg_status st = aiecg_measure(rec, beats, nb, &m, &w, &err);
        CHECK(st == AIECG_OK);
        if (st == AIECG_OK) {
            ok++;
            for (int i = 0; i < AIECG_MEAS_COUNT; i++) CHECK(isfinite(m.value[i]) || m.reason[i] != NULL);
            for (int64_t k = 0; k < nb; k++) {
                const int64_t f[9] = {w[k].p_on, w[k].p_peak, w[k].p_off, w[k].qrs_on, w[k].qrs_peak,
                                      w[k].qrs_off, w[k].t_on, w[k].t_peak, w[k].t_off};
                for (int j = 0; j < 9; j++) CHECK(f[j] >= -1 && f[j] < n);
            }
            char *json = NULL;
            CHECK_OK(aiecg_measurements_json(&m, rec, nb, 0, &json), NULL);
            aiecg_free(json);
            aiecg_measurements_free(&m);
            aiecg_free(w);
        }
        free(beats);
        aiecg_record_free(rec);
    }
    CHECK(ok == 120);
}

int main(void) {
    RUN(test_synthetic_intervals);
    RUN(test_axes);
    RUN(test_bad_input);
    RUN(test_oom);
    RUN(test_random_inputs);
    RUN(test_ptbxl_first_degree_block);
    RUN(test_mitdb_af);
    RUN(test_ludb_intervals);
    RUN(test_rate_invariance);
    return test_summary();
}
