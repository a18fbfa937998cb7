/*
 * aiecg__filter_baseline_multi (12 channels as vector lanes, the divisions by L
 * replaced by an exact fused reciprocal step on AVX2 + FMA machines) gives
 * every channel bit for bit what aiecg_filter_baseline gives it alone: on the
 * 12 leads of real LUDB records at 500 Hz and resampled rates, on 1..13
 * channels and short/odd lengths, on random signals spanning 70 binades (the
 * running sums then cover every exponent the reciprocal step can meet), on
 * signed zeros, and on channels with NaN or infinity (those go the plain way).
 */
#include "test.h"

#include "dsp/dsp_int.h"

#include <stdint.h>

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

/* multi on copies of src[0..nch) vs aiecg_filter_baseline one by one; returns channels differing */
static int compare(float *const *src, int nch, int64_t n, double fs) {
    float *a[AIECG_MAX_LEADS], *b[AIECG_MAX_LEADS];
    for (int c = 0; c < nch; c++) {
        a[c] = malloc((size_t)(n > 0 ? n : 1) * sizeof(float));
        b[c] = malloc((size_t)(n > 0 ? n : 1) * sizeof(float));
        memcpy(a[c], src[c], (size_t)n * sizeof(float));
        memcpy(b[c], src[c], (size_t)n * sizeof(float));
        CHECK_OK(aiecg_filter_baseline(a[c], n, fs), NULL);
    }
    CHECK_OK(aiecg__filter_baseline_multi(b, nch, n, fs), NULL);
    int diff = 0;
    for (int c = 0; c < nch; c++) {
        diff += memcmp(a[c], b[c], (size_t)n * sizeof(float)) != 0;
        free(a[c]);
        free(b[c]);
    }
    return diff;
}

static void test_real_leads(void) {
    int recs[] = {1, 17, 58, 100};
    for (int r = 0; r < 4; r++) {
        aiecg_record *rec = open_ludb(recs[r]);
        if (!rec) return;
        int nl = aiecg_record_nleads(rec);
        int64_t n = aiecg_record_nsamples(rec);
        float *x[AIECG_MAX_LEADS];
        for (int l = 0; l < nl; l++) x[l] = (float *)aiecg_record_lead_data(rec, l);
        int d12 = compare(x, nl, n, aiecg_record_fs(rec));
        CHECK_INT(d12, 0);
        /* other channel counts (idle lanes, more than 12: two passes) and lengths */
        int counts[] = {1, 3, 4, 5, 8, 11, 13};
        int dn = 0;
        float *y[13];
        for (int k = 0; k < 7; k++) {
            for (int c = 0; c < counts[k]; c++) y[c] = x[c % nl];
            dn += compare(y, counts[k], n, aiecg_record_fs(rec));
            dn += compare(y, counts[k], 1237, aiecg_record_fs(rec));
        }
        CHECK_INT(dn, 0);
        /* the same leads resampled: other boxcar lengths L */
        double rates[] = {100, 257, 360, 1000};
        int dr = 0;
        for (int k = 0; k < 4; k++) {
            float *z[AIECG_MAX_LEADS];
            int64_t nz = 0;
            for (int l = 0; l < nl; l++) CHECK_OK(aiecg_resample(x[l], n, 500, rates[k], &z[l], &nz), NULL);
            dr += compare(z, nl, nz, rates[k]);
            for (int l = 0; l < nl; l++) aiecg_free(z[l]);
        }
        CHECK_INT(dr, 0);
        printf("LUDB %d: 12 leads at once vs one by one: %d differ; other counts/lengths %d; resampled %d\n",
               recs[r], d12, dn, dr);
        aiecg_record_free(rec);
    }
}

static uint64_t rng = 88172645463325252ull;
static uint64_t next_u64(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void test_random_and_special(void) {
    const int64_t n = 20000;
    float *x[12];
    for (int c = 0; c < 12; c++) {
        x[c] = malloc((size_t)n * sizeof(float));
        for (int64_t i = 0; i < n; i++) {
            uint64_t u = next_u64();
            double mant = (double)(u >> 11) / 9007199254740992.0 - 0.5;
            int e = c < 6 ? (int)((u >> 3) % 70) - 35 : (c - 6) * 5 - 12; /* mixed, or one scale per channel */
            x[c][i] = (float)ldexp(mant, e);
        }
    }
    int d = 0;
    double rates[] = {500, 360, 128, 77.7};
    for (int k = 0; k < 4; k++) d += compare(x, 12, n, rates[k]);
    CHECK_INT(d, 0);
    /* signed zeros, a constant, a step, tiny values */
    for (int64_t i = 0; i < n; i++) {
        x[0][i] = -0.0f;
        x[1][i] = 0.0f;
        x[2][i] = i < n / 2 ? -0.0f : 0.0f;
        x[3][i] = 1.25f;
        x[4][i] = i < 3000 ? 0.0f : -3.0f;
        x[5][i] = i % 2 ? 1e-30f : -1e-30f;
        x[6][i] = (float)(i % 97) * 1e-40f; /* subnormal floats */
    }
    int ds = compare(x, 7, n, 500);
    CHECK_INT(ds, 0);
    /* non-finite channels (plain path) next to finite ones */
    x[1][100] = NAN;
    x[3][5000] = INFINITY;
    x[5][0] = -INFINITY;
    x[7][n - 1] = 3e38f; /* finite, but its odd reflection overflows */
    x[7][n - 2] = -3e38f;
    int dnf = compare(x, 12, n, 500);
    CHECK_INT(dnf, 0);
    printf("random (70 binades, 4 rates): %d channels differ; signed zeros etc.: %d; non-finite: %d\n", d, ds, dnf);
    for (int c = 0; c < 12; c++) free(x[c]);
    float *one[1] = {NULL};
    CHECK_OK(aiecg__filter_baseline_multi(one, 1, 0, 500), NULL);
    CHECK_INT(aiecg__filter_baseline_multi(one, 1, 10, 500), AIECG_ERR_INVALID_ARG);
    CHECK_INT(aiecg__filter_baseline_multi(NULL, 2, 10, 500), AIECG_ERR_INVALID_ARG);
}

int main(void) {
    RUN(test_real_leads);
    RUN(test_random_and_special);
    return test_summary();
}
