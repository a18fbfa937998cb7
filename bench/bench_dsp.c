/*
 * DSP speed: QRS detection on 24 h of 2-lead 360 Hz ECG (the 48 MIT-BIH
 * records, 30 min each, fed back to back through one streaming detector),
 * batch detection with beat classification on one record, and the whole
 * detect + delineate + measure path on a 10 s 12-lead 500 Hz LUDB record.
 * Prints times and multiples of real time; never fails the test suite.
 * usage: bench_dsp [DATA_DIR]   (default $AIECG_DATA_DIR or ./data)
 */
#include "aiecg/aiecg.h"
#include "dsp/dsp_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    const char *root = argc > 1 ? argv[1] : getenv("AIECG_DATA_DIR");
    if (!root) root = "data";
    char path[4096];
    snprintf(path, sizeof path, "%s/mitdb/RECORDS", root);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "bench_dsp: %s not found\n", path);
        return 0;
    }
    aiecg_qrs_detector *d = NULL;
    aiecg_beat out[512];
    double t_det = 0, dur = 0;
    long long beats = 0;
    char name[64];
    aiecg_record *one = NULL;
    while (fscanf(f, "%63s", name) == 1) {
        snprintf(path, sizeof path, "%s/mitdb/%s", root, name);
        aiecg_read_options o = aiecg_read_options_default();
        o.skip_annotations = 1;
        aiecg_record *rec = NULL;
        if (aiecg_record_open(path, &o, &rec, NULL) != AIECG_OK) continue;
        if (!d && aiecg_qrs_detector_new(aiecg_record_fs(rec), 2, NULL, &d) != AIECG_OK) return 1;
        int64_t n = aiecg_record_nsamples(rec);
        const float *p[2];
        double t0 = now_s();
        for (int64_t i = 0; i < n; i += 4096) {
            int64_t c = n - i < 4096 ? n - i : 4096;
            p[0] = aiecg_record_lead_data(rec, 0) + i;
            p[1] = aiecg_record_lead_data(rec, 1) + i;
            int got = 0;
            aiecg_qrs_detector_push(d, p, c, out, 512, &got);
            beats += got;
        }
        t_det += now_s() - t0;
        dur += aiecg_record_duration(rec);
        if (!one)
            one = rec;
        else
            aiecg_record_free(rec);
    }
    fclose(f);
    int got = 0;
    if (d) aiecg_qrs_detector_finish(d, out, 512, &got);
    beats += got;
    aiecg_qrs_detector_free(d);
    printf("streaming QRS detection, MIT-BIH back to back: %.1f h of 2-lead 360 Hz in %.2f s = %.0fx real time, "
           "%lld beats\n",
           dur / 3600, t_det, dur / t_det, beats);
    if (dur > 0) printf("  scaled to 24 h: %.2f s\n", t_det * 86400 / dur);
    if (one) {
        aiecg_beat *b = NULL;
        int64_t nb = 0;
        double t0 = now_s();
        aiecg_qrs_detect(one, NULL, &b, &nb, NULL);
        double t = now_s() - t0;
        printf("batch aiecg_qrs_detect (detection + families) on 30 min record 100: %.3f s = %.0fx real time\n", t,
               aiecg_record_duration(one) / t);
        aiecg_free(b);
        aiecg_record_free(one);
    }
    snprintf(path, sizeof path, "%s/ludb/data/1", root);
    aiecg_record *rec = NULL;
    aiecg_read_options o = aiecg_read_options_default();
    o.skip_annotations = 1;
    if (aiecg_record_open(path, &o, &rec, NULL) == AIECG_OK) {
        int reps = 50;
        double tq = 0, tm = 0;
        for (int r = 0; r < reps; r++) {
            aiecg_beat *b = NULL;
            int64_t nb = 0;
            double t0 = now_s();
            aiecg_qrs_detect(rec, NULL, &b, &nb, NULL);
            double t1 = now_s();
            aiecg_measurements m;
            memset(&m, 0, sizeof m);
            aiecg_waves *w = NULL;
            aiecg_measure(rec, b, nb, &m, &w, NULL);
            double t2 = now_s();
            aiecg_free(w);
            aiecg_measurements_free(&m);
            aiecg_free(b);
            tq += t1 - t0;
            tm += t2 - t1;
        }
        double dur1 = aiecg_record_duration(rec);
        printf("LUDB 1 (10 s, 12 leads, 500 Hz), mean of %d: detect %.2f ms (%.0fx), measure %.2f ms, "
               "detect+delineate+measure %.2f ms = %.0fx real time\n",
               reps, 1e3 * tq / reps, dur1 * reps / tq, 1e3 * tm / reps, 1e3 * (tq + tm) / reps,
               dur1 * reps / (tq + tm));
        /* the per-record stages of aiecg analyze that live in dsp (docs/perf.md) */
        int nl = aiecg_record_nleads(rec);
        int64_t n = aiecg_record_nsamples(rec);
        double fs = aiecg_record_fs(rec);
        float *x = malloc((size_t)n * sizeof *x);
        float *xm[AIECG_MAX_LEADS];
        int xm_ok = 1;
        for (int l = 0; l < nl; l++) xm_ok &= (xm[l] = malloc((size_t)n * sizeof(float))) != NULL;
        double tqa = 0, tqb = 0, tbl = 0, trs = 0, tlp = 0, tbm = 0;
        aiecg_beat *b = NULL;
        int64_t nb = 0;
        aiecg_qrs_detect(rec, NULL, &b, &nb, NULL);
        for (int r = 0; r < reps && x; r++) {
            aiecg_quality q;
            double t0 = now_s();
            aiecg_quality_assess(rec, &q);
            double t1 = now_s();
            aiecg_quality_assess_beats(rec, b, nb, &q);
            double t2 = now_s();
            for (int l = 0; l < nl; l++) {
                memcpy(x, aiecg_record_lead_data(rec, l), (size_t)n * sizeof *x);
                aiecg_filter_baseline(x, n, fs);
            }
            double t3 = now_s();
            for (int l = 0; l < nl; l++) {
                float *y = NULL;
                int64_t ny = 0;
                aiecg_resample(aiecg_record_lead_data(rec, l), n, fs, 100, &y, &ny);
                aiecg_free(y);
            }
            double t4 = now_s();
            for (int l = 0; l < nl; l++) {
                memcpy(x, aiecg_record_lead_data(rec, l), (size_t)n * sizeof *x);
                aiecg_filter_lowpass(x, n, fs, 40);
            }
            double t5 = now_s();
            for (int l = 0; l < nl && xm_ok; l++)
                memcpy(xm[l], aiecg_record_lead_data(rec, l), (size_t)n * sizeof(float));
            if (xm_ok) aiecg__filter_baseline_multi(xm, nl, n, fs);
            double t6 = now_s();
            tbm += t6 - t5;
            tqa += t1 - t0;
            tqb += t2 - t1;
            tbl += t3 - t2;
            trs += t4 - t3;
            tlp += t5 - t4;
        }
        aiecg_free(b);
        free(x);
        for (int l = 0; l < nl; l++) free(xm[l]);
        printf("LUDB 1, ms per record (all %d leads), mean of %d: quality %.3f, quality with given beats %.3f, "
               "baseline %.3f (all leads at once %.3f), resample 500->100 Hz %.3f, 40 Hz low-pass %.3f\n",
               nl, reps, 1e3 * tqa / reps, 1e3 * tqb / reps, 1e3 * tbl / reps, 1e3 * tbm / reps, 1e3 * trs / reps,
               1e3 * tlp / reps);
        aiecg_record_free(rec);
    }
    return 0;
}
