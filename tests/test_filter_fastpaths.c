/*
 * The fast paths of the dsp layer give the same numbers as the plain forms
 * they replaced (docs/perf.md): the vectorised sample-wise median of beat
 * windows equals sorting, the multi-channel zero-phase low-pass equals the
 * one-channel one bit for bit, and quality assessment with caller-supplied
 * beats equals the self-detecting form when given the beats it would find,
 * and a resampler plan shared by 12 leads equals aiecg_resample per lead.
 * Real data: LUDB 12-lead 500 Hz records.
 */
#include "test.h"

#include "dsp/dsp_int.h"

static aiecg_record *open_ludb(int i) {
    char dir[4096], path[4300];
    test_data_path("ludb", dir, sizeof dir);
    snprintf(path, sizeof path, "%s/data/%d", dir, i);
    aiecg_record *rec = NULL;
    aiecg_error err;
    aiecg_read_options o = aiecg_read_options_default();
    o.skip_annotations = 1;
    CHECK_OK(aiecg_record_open(path, &o, &rec, &err), &err);
    return rec;
}

static float sorted_median(float *c, int m) {
    for (int i = 1; i < m; i++) {
        float v = c[i];
        int j = i - 1;
        while (j >= 0 && c[j] > v) {
            c[j + 1] = c[j];
            j--;
        }
        c[j + 1] = v;
    }
    return m % 2 ? c[m / 2] : 0.5f * (c[m / 2 - 1] + c[m / 2]);
}

/* random sets (with ties) of 1..40 rows: network (<= 32), selection (> 32), tails */
static void test_median_rows_random(void) {
    unsigned s = 12345;
    int bad = 0, total = 0;
    for (int it = 0; it < 2000; it++) {
        s = s * 1103515245u + 12345u;
        int m = 1 + (int)(s >> 16) % 40;
        s = s * 1103515245u + 12345u;
        int len = 1 + (int)(s >> 16) % 41;
        float buf[40 * 41], out[41], col[40];
        const float *rows[40];
        for (int i = 0; i < m * len; i++) {
            s = s * 1103515245u + 12345u;
            unsigned v = s >> 16;
            buf[i] = v % 5 == 0 ? (float)(v % 3) : (float)(v % 1000) / 1000.0f - 0.5f;
        }
        for (int r = 0; r < m; r++) rows[r] = buf + r * len;
        CHECK_OK(aiecg__median_rows(rows, m, len, out), NULL);
        for (int t = 0; t < len; t++) {
            for (int r = 0; r < m; r++) col[r] = rows[r][t];
            float ref = sorted_median(col, m);
            for (int r = 0; r < m; r++) col[r] = rows[r][t];
            bad += out[t] != ref;
            bad += aiecg__median_inplace(col, m) != ref;
            total++;
        }
    }
    printf("median_rows / median_inplace vs sorting: %d of %d medians differ\n", bad, total);
    CHECK_INT(bad, 0);
}

/* real beat windows of LUDB record 1, every lead */
static void test_median_rows_real(void) {
    aiecg_record *rec = open_ludb(1);
    if (!rec) return;
    aiecg_beat *b = NULL;
    int64_t nb = 0;
    CHECK_OK(aiecg_qrs_detect(rec, NULL, &b, &nb, NULL), NULL);
    CHECK(nb >= 5);
    int64_t n = aiecg_record_nsamples(rec);
    int pre = 150, post = 300, len = pre + post, bad = 0, m = 0;
    const float *rows[64];
    float out[450], col[64];
    for (int l = 0; l < aiecg_record_nleads(rec); l++) {
        const float *x = aiecg_record_lead_data(rec, l);
        m = 0;
        for (int64_t i = 0; i < nb && m < 64; i++)
            if (b[i].sample - pre >= 0 && b[i].sample + post <= n) rows[m++] = x + b[i].sample - pre;
        CHECK_OK(aiecg__median_rows(rows, m, len, out), NULL);
        for (int t = 0; t < len; t++) {
            for (int r = 0; r < m; r++) col[r] = rows[r][t];
            bad += out[t] != sorted_median(col, m);
        }
    }
    printf("LUDB 1: %d beats per median, %d of %d samples differ from sorting\n", m, bad,
           len * aiecg_record_nleads(rec));
    CHECK_INT(bad, 0);
    aiecg_free(b);
    aiecg_record_free(rec);
}

static void test_lowpass_multi(void) {
    aiecg_record *rec = open_ludb(2);
    if (!rec) return;
    int nl = aiecg_record_nleads(rec);
    int64_t n = aiecg_record_nsamples(rec);
    double fs = aiecg_record_fs(rec);
    float *a[AIECG_MAX_LEADS], *c[AIECG_MAX_LEADS];
    for (int l = 0; l < nl; l++) {
        a[l] = malloc((size_t)n * sizeof(float));
        c[l] = malloc((size_t)n * sizeof(float));
        memcpy(a[l], aiecg_record_lead_data(rec, l), (size_t)n * sizeof(float));
        memcpy(c[l], a[l], (size_t)n * sizeof(float));
        CHECK_OK(aiecg_filter_lowpass(a[l], n, fs, 40), NULL);
    }
    CHECK_OK(aiecg__filter_lowpass_multi(c, nl, n, fs, 40), NULL);
    int64_t diff = 0;
    for (int l = 0; l < nl; l++) {
        diff += memcmp(a[l], c[l], (size_t)n * sizeof(float)) != 0;
        free(a[l]);
        free(c[l]);
    }
    printf("40 Hz low-pass, %d leads at once vs one by one: %lld leads differ\n", nl, (long long)diff);
    CHECK_INT(diff, 0);
    aiecg_record_free(rec);
}

static void test_quality_given_beats(void) {
    for (int i = 1; i <= 6; i++) {
        aiecg_record *rec = open_ludb(i * 7);
        if (!rec) return;
        aiecg_quality q1, q2;
        CHECK_OK(aiecg_quality_assess(rec, &q1), NULL);
        aiecg_beat *b = NULL;
        int64_t nb = 0;
        CHECK_OK(aiecg_qrs_detect(rec, NULL, &b, &nb, NULL), NULL);
        CHECK_OK(aiecg_quality_assess_beats(rec, b, nb, &q2), NULL);
        CHECK_INT(q1.verdict, q2.verdict);
        CHECK_INT(q1.flags, q2.flags);
        CHECK_INT(q1.limb_reversal_suspected, q2.limb_reversal_suspected);
        int same = 1;
        for (int l = 0; l < q1.nleads; l++) {
            same &= q1.lead[l].verdict == q2.lead[l].verdict && q1.lead[l].flags == q2.lead[l].flags;
            same &= memcmp(&q1.lead[l].snr_db, &q2.lead[l].snr_db, sizeof(float)) == 0;
            same &= memcmp(&q1.lead[l].noise_mv, &q2.lead[l].noise_mv, sizeof(float)) == 0;
        }
        CHECK(same);
        printf("LUDB %d: quality with given beats == self-detected (%lld beats, lead I snr %.1f dB)\n", i * 7,
               (long long)nb, q1.lead[0].snr_db);
        aiecg_free(b);
        aiecg_record_free(rec);
    }
    aiecg_quality q;
    CHECK_INT(aiecg_quality_assess_beats(NULL, NULL, 0, &q), AIECG_ERR_INVALID_ARG);
}

/* one plan for 12 leads == aiecg_resample per lead, 500 -> 100 Hz and 500 -> 360 Hz */
static void test_resampler_plan(void) {
    aiecg_record *rec = open_ludb(3);
    if (!rec) return;
    double outs[2] = {100, 360};
    for (int k = 0; k < 2; k++) {
        aiecg_resampler *plan = NULL;
        CHECK_OK(aiecg_resampler_new(aiecg_record_fs(rec), outs[k], &plan), NULL);
        int diff = 0;
        for (int l = 0; l < aiecg_record_nleads(rec); l++) {
            float *y1 = NULL, *y2 = NULL;
            int64_t n1 = 0, n2 = 0;
            const float *x = aiecg_record_lead_data(rec, l);
            CHECK_OK(aiecg_resample(x, aiecg_record_nsamples(rec), aiecg_record_fs(rec), outs[k], &y1, &n1), NULL);
            CHECK_OK(aiecg_resampler_run(plan, x, aiecg_record_nsamples(rec), &y2, &n2), NULL);
            CHECK_INT(n1, n2);
            diff += n1 != n2 || memcmp(y1, y2, (size_t)n1 * sizeof *y1) != 0;
            aiecg_free(y1);
            aiecg_free(y2);
        }
        printf("resampler plan, 500 -> %g Hz: %d of 12 leads differ from aiecg_resample\n", outs[k], diff);
        CHECK_INT(diff, 0);
        aiecg_resampler_free(plan);
    }
    float *y = NULL;
    int64_t ny = 0;
    CHECK_INT(aiecg_resampler_run(NULL, NULL, 0, &y, &ny), AIECG_ERR_INVALID_ARG);
    aiecg_record_free(rec);
}

int main(void) {
    RUN(test_resampler_plan);
    RUN(test_median_rows_random);
    RUN(test_median_rows_real);
    RUN(test_lowpass_multi);
    RUN(test_quality_given_beats);
    return test_summary();
}
