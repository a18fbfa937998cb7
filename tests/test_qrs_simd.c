/*
 * The QRS detector's stage A band-passes four leads at once on AVX2 machines
 * (qrs_avx2.c); its plain per-lead loop is the reference. On 12-lead records
 * (8 leads fused: I, II, V1-V6) from LUDB (500 Hz) and PTB-XL (100 Hz) both
 * give the same beats and the same stage-A values bit for bit (band-passed,
 * |derivative|, integral rings after every push), fed in one block or in
 * ragged chunks, and with non-finite samples in some leads.
 */
#include "test.h"

#include "dsp/dsp_int.h"

/* A plain and a SIMD detector fed the same chunks (chunk 0: one push): beats equal and, after every
   push, every fused lead's stage-A rings equal bit for bit. Returns 1 when all equal. */
static int compare(const aiecg_record *rec, int64_t chunk, float *const *x, long long *nbeats) {
    int nl = aiecg_record_nleads(rec);
    int64_t n = aiecg_record_nsamples(rec);
    aiecg_qrs_detector *d[2] = {NULL, NULL};
    for (int k = 0; k < 2; k++) {
        CHECK_OK(aiecg_qrs_detector_new(aiecg_record_fs(rec), nl, NULL, &d[k]), NULL);
        if (!d[k]) return 0;
        aiecg__qrs_detector_set_plain(d[k], k == 0);
    }
    int ok = 1;
    aiecg_beat buf[2][256];
    const float *p[AIECG_MAX_LEADS];
    for (int64_t i = 0, c = chunk ? chunk : n; i <= n; i += c, c = chunk ? c * 7 % 397 + 1 : n) {
        int got[2] = {0, 0};
        for (int k = 0; k < 2; k++) {
            if (i < n) {
                int64_t m = i + c <= n ? c : n - i;
                for (int l = 0; l < nl; l++) p[l] = x[l] + i;
                CHECK_OK(aiecg_qrs_detector_push(d[k], p, m, buf[k], 256, &got[k]), NULL);
            } else {
                CHECK_OK(aiecg_qrs_detector_finish(d[k], buf[k], 256, &got[k]), NULL);
            }
        }
        ok &= got[0] == got[1] && memcmp(buf[0], buf[1], (size_t)got[0] * sizeof buf[0][0]) == 0;
        *nbeats += got[0];
        for (int l = 0; l < nl; l++) {
            const float *r0[3], *r1[3];
            int64_t R = aiecg__qrs_detector_rings(d[0], l, &r0[0], &r0[1], &r0[2]);
            int64_t R1 = aiecg__qrs_detector_rings(d[1], l, &r1[0], &r1[1], &r1[2]);
            ok &= R == R1;
            for (int q = 0; q < 3 && R > 0 && R == R1; q++) ok &= memcmp(r0[q], r1[q], (size_t)R * sizeof(float)) == 0;
        }
        if (i >= n) break;
    }
    aiecg_qrs_detector_free(d[0]);
    aiecg_qrs_detector_free(d[1]);
    return ok;
}

static void run_set(const char *set, const char *fmt, int first, int last, int step) {
    char dir[4096], path[4400];
    test_data_path(set, dir, sizeof dir);
    int nrec = 0, ndiff = 0;
    long long nbeats = 0;
    for (int r = first; r <= last; r += step) {
        snprintf(path, sizeof path, fmt, dir, r);
        aiecg_read_options o = aiecg_read_options_default();
        o.skip_annotations = 1;
        aiecg_record *rec = NULL;
        if (aiecg_record_open(path, &o, &rec, NULL) != AIECG_OK) continue;
        int nl = aiecg_record_nleads(rec);
        int64_t n = aiecg_record_nsamples(rec);
        float *x[AIECG_MAX_LEADS];
        for (int l = 0; l < nl; l++) {
            x[l] = malloc((size_t)n * sizeof(float));
            memcpy(x[l], aiecg_record_lead_data(rec, l), (size_t)n * sizeof(float));
        }
        if (r % 3 == 0) { /* gaps in two leads: the last finite value is held */
            for (int64_t i = n / 3; i < n / 3 + 40 && i < n; i++) x[1][i] = NAN;
            if (nl > 7) x[7][n / 2] = INFINITY;
        }
        int ok = compare(rec, 0, x, &nbeats) && compare(rec, 5, x, &nbeats);
        ndiff += !ok;
        nrec++;
        for (int l = 0; l < nl; l++) free(x[l]);
        aiecg_record_free(rec);
    }
    printf("%s: %d records, %lld beats, %d differ between the plain and the AVX2 stage A\n", set, nrec, nbeats,
           ndiff);
    CHECK(nrec > 0);
    CHECK_INT(ndiff, 0);
}

static void test_ludb(void) { run_set("ludb", "%s/data/%d", 1, 100, 3); }
static void test_ptbxl(void) { run_set("ptbxl", "%s/records100/00000/%05d_lr", 1, 99, 1); }

int main(void) {
    RUN(test_ludb);
    RUN(test_ptbxl);
    return test_summary();
}
