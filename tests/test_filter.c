/*
 * Conditioning filters and resampler: measured frequency response at chosen
 * frequencies (notch depth, pass-band ripple, baseline and low-pass corners),
 * resampled sine amplitude and phase, stream == batch, mains detection, and
 * a whole MIT-BIH record resampled 360 -> 500 Hz.
 */
#include "test.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

static float *sine(int64_t n, double fs, double f, double amp, double ph) {
    float *x = malloc((size_t)n * sizeof *x);
    for (int64_t i = 0; i < n; i++) x[i] = (float)(amp * sin(2 * M_PI * f * i / fs + ph));
    return x;
}

/* RMS over the central half (away from edge effects). */
static double rms_mid(const float *x, int64_t n) {
    double s = 0;
    int64_t a = n / 4, b = 3 * n / 4;
    for (int64_t i = a; i < b; i++) s += (double)x[i] * x[i];
    return sqrt(s / (double)(b - a));
}

static double gain_db(int which, double fs, double f, double param) {
    int64_t n = (int64_t)(20 * fs);
    float *x = sine(n, fs, f, 1.0, 0.3);
    double before = rms_mid(x, n);
    aiecg_status st = which == 0   ? aiecg_filter_powerline(x, n, fs, param)
                      : which == 1 ? aiecg_filter_lowpass(x, n, fs, param)
                                   : aiecg_filter_baseline(x, n, fs);
    CHECK_INT(st, AIECG_OK);
    double g = 20 * log10(rms_mid(x, n) / before);
    free(x);
    return g;
}

static void test_notch(void) {
    double g50 = gain_db(0, 500, 50, 50), g60 = gain_db(0, 500, 60, 60), g100 = gain_db(0, 500, 100, 50);
    printf("notch: 50 Hz %.1f dB, 60 Hz (60 notch) %.1f dB, 100 Hz harmonic %.1f dB\n", g50, g60, g100);
    CHECK(g50 <= -30);
    CHECK(g60 <= -30);
    CHECK(g100 <= -30);
    for (double f = 1; f <= 40; f += 3) CHECK_NEAR(gain_db(0, 500, f, 50), 0, 0.1); /* ripple < 0.1 dB */
    CHECK_NEAR(gain_db(0, 360, 20, 60), 0, 0.1);
    CHECK(gain_db(0, 360, 60, 60) <= -30);
}

static void test_lowpass(void) {
    for (double f = 0.5; f <= 20; f += 2.5) CHECK_NEAR(gain_db(1, 500, f, 40), 0, 0.1);
    double g40 = gain_db(1, 500, 40, 40), g100 = gain_db(1, 500, 100, 40);
    printf("low-pass 40 Hz: gain at 40 Hz %.1f dB, at 100 Hz %.1f dB\n", g40, g100);
    CHECK_NEAR(g40, -6.0, 1.0); /* forward-backward: -3 dB twice */
    CHECK(g100 <= -40);
}

static void test_baseline(void) {
    double g01 = gain_db(2, 500, 0.1, 0), g03 = gain_db(2, 360, 0.3, 0), g1 = gain_db(2, 500, 1.0, 0);
    printf("baseline: 0.1 Hz %.1f dB, 0.3 Hz %.1f dB, 1 Hz %.2f dB\n", g01, g03, g1);
    CHECK(g01 <= -20);
    CHECK(g03 <= -3);
    CHECK_NEAR(g1, 0, 0.5);
    for (double f = 2; f <= 40; f += 4.5) CHECK_NEAR(gain_db(2, 500, f, 0), 0, 0.15);
    /* a DC offset and a ramp go, a 5 Hz sine stays in phase */
    int64_t n = 10 * 500;
    float *x = sine(n, 500, 5, 1.0, 0), *ref = sine(n, 500, 5, 1.0, 0);
    for (int64_t i = 0; i < n; i++) x[i] += 2.0f + 0.0001f * (float)i;
    CHECK_OK(aiecg_filter_baseline(x, n, 500), NULL);
    double e = 0;
    for (int64_t i = n / 4; i < 3 * n / 4; i++) e = fmax(e, fabs(x[i] - ref[i]));
    CHECK(e < 0.02);
    free(x);
    free(ref);
}

static void test_stream_equals_batch(void) {
    double fs = 360;
    int64_t n = 20 * 360;
    float *x = sine(n, fs, 1.3, 1.0, 0), *y = malloc((size_t)n * sizeof *y);
    for (int64_t i = 0; i < n; i++) x[i] += (float)(0.5 * sin(2 * M_PI * 0.2 * i / fs) + 0.1 * ((i * 7919) % 13) / 13.0);
    float *b = malloc((size_t)n * sizeof *b);
    memcpy(b, x, (size_t)n * sizeof *b);
    CHECK_OK(aiecg_filter_baseline(b, n, fs), NULL);
    aiecg_filter_stream *s = NULL;
    CHECK_OK(aiecg_filter_stream_new(AIECG_FILTER_BASELINE, fs, NULL, &s), NULL);
    int64_t D = aiecg_filter_stream_delay(s);
    CHECK(D > 0);
    for (int64_t i = 0, c = 1; i < n; i += c, c = c * 3 % 97 + 1)
        aiecg_filter_stream_push(s, x + i, y + i, i + c <= n ? c : n - i);
    double e = 0;
    for (int64_t i = 2 * D; i < n - 2 * D; i++) e = fmax(e, fabs(y[i + D] - b[i]));
    printf("baseline stream vs batch (delay %lld samples): max diff %.2g mV\n", (long long)D, e);
    CHECK(e < 1e-4);
    aiecg_filter_stream_free(s);
    /* IIR streams report delays and reset to identical output */
    aiecg_filter_params p = {40, 0};
    CHECK_OK(aiecg_filter_stream_new(AIECG_FILTER_LOWPASS, fs, &p, &s), NULL);
    CHECK(aiecg_filter_stream_delay(s) > 0);
    aiecg_filter_stream_push(s, x, y, n);
    float first = y[100];
    aiecg_filter_stream_reset(s);
    aiecg_filter_stream_push(s, x, y, n);
    CHECK(y[100] == first);
    aiecg_filter_stream_free(s);
    CHECK(aiecg_filter_stream_new((aiecg_filter_kind)99, fs, NULL, &s) != AIECG_OK);
    CHECK(aiecg_filter_stream_new(AIECG_FILTER_BASELINE, 0, NULL, &s) != AIECG_OK);
    aiecg_filter_stream_free(NULL);
    free(x);
    free(y);
    free(b);
}

static void test_powerline_detect(void) {
    int64_t n = 10 * 500;
    float *x = sine(n, 500, 1.2, 1.0, 0);
    CHECK_INT(aiecg_powerline_detect(x, n, 500), 0);
    for (int64_t i = 0; i < n; i++) x[i] += (float)(0.05 * sin(2 * M_PI * 50 * i / 500.0));
    CHECK_INT(aiecg_powerline_detect(x, n, 500), 50);
    free(x);
    x = sine(n, 500, 1.2, 1.0, 0);
    for (int64_t i = 0; i < n; i++) x[i] += (float)(0.05 * sin(2 * M_PI * 60 * i / 500.0));
    CHECK_INT(aiecg_powerline_detect(x, n, 500), 60);
    CHECK_INT(aiecg_powerline_detect(x, n, 100), 0); /* 60 Hz is above Nyquist at 100 Hz */
    free(x);
}

static void check_resample(double fin, double fout, double f) {
    int64_t n = (int64_t)(10 * fin);
    float *x = sine(n, fin, f, 1.0, 0.7), *y = NULL;
    int64_t m = 0;
    CHECK_OK(aiecg_resample(x, n, fin, fout, &y, &m), NULL);
    CHECK_INT(m, llround(n * fout / fin));
    double e = 0;
    for (int64_t i = m / 10; i < m - m / 10; i++)
        e = fmax(e, fabs(y[i] - sin(2 * M_PI * f * i / fout + 0.7)));
    printf("resample %g -> %g Hz, %g Hz sine: max error %.2g (amplitude+phase)\n", fin, fout, f, e);
    CHECK(e < 2e-3);
    /* stream in chunks == batch */
    aiecg_resampler *r = NULL;
    CHECK_OK(aiecg_resampler_new(fin, fout, &r), NULL);
    float *z = malloc((size_t)(m + 8) * sizeof *z);
    int64_t k = 0;
    for (int64_t i = 0, c = 5; i < n; i += c, c = c * 5 % 331 + 1) {
        int64_t got = 0;
        CHECK_OK(aiecg_resampler_push(r, x + i, i + c <= n ? c : n - i, z + k, m + 8 - k, &got), NULL);
        k += got;
    }
    int64_t got = 0;
    CHECK_OK(aiecg_resampler_finish(r, z + k, m + 8 - k, &got), NULL);
    k += got;
    CHECK_INT(k, m);
    int same = 1;
    for (int64_t i = 0; i < m && i < k; i++) same &= z[i] == y[i];
    CHECK(same);
    aiecg_resampler_free(r);
    free(z);
    aiecg_free(y);
    free(x);
}

static void test_resample(void) {
    check_resample(500, 100, 5);
    check_resample(360, 500, 10);
    check_resample(1000, 250, 20);
    check_resample(250, 1000, 7);
    check_resample(257, 500, 3);
    /* anti-aliasing: 75 Hz at 500 Hz -> 100 Hz must vanish, not fold to 25 Hz */
    int64_t n = 5000, m = 0;
    float *x = sine(n, 500, 75, 1.0, 0), *y = NULL;
    CHECK_OK(aiecg_resample(x, n, 500, 100, &y, &m), NULL);
    double r = rms_mid(y, m);
    printf("75 Hz through 500 -> 100 Hz: residual rms %.2g (alias suppression %.0f dB)\n", r, 20 * log10(r / 0.7071));
    CHECK(r < 1e-3);
    aiecg_free(y);
    free(x);
    CHECK(aiecg_resample(NULL, 10, 500, 100, &y, &m) != AIECG_OK);
    CHECK(aiecg_resample(x, 10, 0, 100, &y, &m) != AIECG_OK);
}

static void test_record_resample(void) {
    char dir[4096], path[4200];
    test_data_path("mitdb", dir, sizeof dir);
    snprintf(path, sizeof path, "%s/100", dir);
    aiecg_record *rec = NULL, *out = NULL;
    aiecg_error err;
    CHECK_OK(aiecg_record_open(path, NULL, &rec, &err), &err);
    if (!rec) return;
    CHECK_OK(aiecg_record_resample(rec, 500, &out, &err), &err);
    if (out) {
        CHECK_NEAR(aiecg_record_fs(out), 500, 0);
        CHECK_INT(aiecg_record_nsamples(out), llround(aiecg_record_nsamples(rec) * 500.0 / 360.0));
        CHECK_INT(aiecg_record_nannotations(out), aiecg_record_nannotations(rec));
        /* an annotated R peak keeps its amplitude within 10 % after resampling */
        const aiecg_annotation *a = aiecg_record_annotations(rec), *b = aiecg_record_annotations(out);
        int64_t k = 10;
        float va = aiecg_record_lead_data(rec, 0)[a[k].sample];
        float vb = aiecg_record_lead_data(out, 0)[b[k].sample];
        CHECK_NEAR(vb, va, 0.1 * fabs(va) + 0.02);
        /* beats are found at the new rate */
        aiecg_beat *beats = NULL;
        int64_t nb = 0;
        CHECK_OK(aiecg_qrs_detect(out, NULL, &beats, &nb, &err), &err);
        CHECK(nb > 2200 && nb < 2300);
        aiecg_free(beats);
    }
    aiecg_record_free(out);
    aiecg_record_free(rec);
}

static long oom_left_;
static void *oom_malloc_(size_t n) { return oom_left_-- > 0 ? malloc(n) : NULL; }
static void *oom_realloc_(void *p, size_t n) { return oom_left_-- > 0 ? realloc(p, n) : NULL; }

/* Every allocation of the filters and the resampler may fail: NOMEM, nothing leaked (ASan run). */
static void test_oom(void) {
    float *x = sine(2000, 500, 5, 1, 0);
    for (int what = 0; what < 5; what++) {
        int done = 0;
        for (long k = 0; k < 1000 && !done; k++) {
            aiecg_filter_stream *fs = NULL;
            aiecg_resampler *r = NULL;
            float *y = NULL;
            int64_t m = 0;
            float *c = malloc(2000 * sizeof *c);
            memcpy(c, x, 2000 * sizeof *c);
            oom_left_ = k;
            aiecg_set_allocator(oom_malloc_, oom_realloc_, free);
            aiecg_status s = what == 0   ? aiecg_filter_stream_new(AIECG_FILTER_BASELINE, 500, NULL, &fs)
                             : what == 1 ? aiecg_resampler_new(360, 500, &r)
                             : what == 2 ? aiecg_resample(x, 2000, 500, 100, &y, &m)
                             : what == 3 ? aiecg_filter_baseline(c, 2000, 500)
                                         : aiecg_filter_powerline(c, 2000, 500, 50);
            aiecg_set_allocator(NULL, NULL, NULL);
            if (s == AIECG_OK)
                done = 1;
            else
                CHECK_INT(s, AIECG_ERR_NOMEM);
            aiecg_filter_stream_free(fs);
            aiecg_resampler_free(r);
            aiecg_free(y);
            free(c);
        }
        CHECK(done);
    }
    free(x);
}

int main(void) {
    RUN(test_oom);
    RUN(test_notch);
    RUN(test_lowpass);
    RUN(test_baseline);
    RUN(test_stream_equals_batch);
    RUN(test_powerline_detect);
    RUN(test_resample);
    RUN(test_record_resample);
    return test_summary();
}
