/*
 * DSP speed: QRS detection, delineation and measurement of a 10 s, 12-lead,
 * 500 Hz record (LUDB record 1 by default), as milliseconds per record and
 * multiples of real time on one core. The target is detect +
 * delineate + measure >= 2000x real time (<= 5 ms per 10 s record). Prints
 * figures only; never part of the test verdict.
 *
 *   bench_dsp [RECORD] [ITERATIONS]   (RECORD default: $AIECG_DATA_DIR/ludb/data/1)
 */
#include "aiecg/aiecg.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv) {
    char def[4096];
    const char *root = getenv("AIECG_DATA_DIR");
    snprintf(def, sizeof def, "%s/ludb/data/1", root ? root : "data");
    const char *path = argc > 1 ? argv[1] : def;
    int iters = argc > 2 ? atoi(argv[2]) : 200;
    if (iters < 1) iters = 1;
    aiecg_record *rec = NULL;
    aiecg_error err;
    aiecg_read_options opt = aiecg_read_options_default();
    opt.skip_annotations = 1;
    if (aiecg_record_open(path, &opt, &rec, &err) != AIECG_OK) {
        fprintf(stderr, "bench_dsp: %s: %s\n", path, err.message);
        return 1;
    }
    double dur = aiecg_record_duration(rec);
    double t_det = 0, t_del = 0, t_meas = 0, best = 1e9;
    int64_t nb = 0;
    for (int it = 0; it < iters; it++) {
        aiecg_beat *beats = NULL;
        aiecg_waves *w = NULL;
        aiecg_measurements m;
        double t0 = now_s();
        if (aiecg_qrs_detect(rec, NULL, &beats, &nb, &err) != AIECG_OK) {
            fprintf(stderr, "bench_dsp: detect: %s\n", err.message);
            return 1;
        }
        double t1 = now_s();
        if (aiecg_delineate(rec, beats, nb, &w, &err) != AIECG_OK) return 1;
        double t2 = now_s();
        /* aiecg_measure delineates again (every beat, then the representative beat) */
        if (aiecg_measure(rec, beats, nb, &m, NULL, &err) != AIECG_OK) return 1;
        double t3 = now_s();
        t_det += t1 - t0;
        t_del += t2 - t1;
        t_meas += t3 - t2;
        if ((t1 - t0) + (t3 - t2) < best) best = (t1 - t0) + (t3 - t2);
        aiecg_measurements_free(&m);
        aiecg_free(w);
        aiecg_free(beats);
    }
    double n = iters;
    printf("record %s: %d leads, %.0f Hz, %.1f s, %lld beats, %d iterations\n", path, aiecg_record_nleads(rec),
           aiecg_record_fs(rec), dur, (long long)nb, iters);
    printf("  qrs_detect        %8.3f ms/record  %8.0fx real time\n", 1e3 * t_det / n, dur * n / t_det);
    printf("  delineate         %8.3f ms/record  %8.0fx real time\n", 1e3 * t_del / n, dur * n / t_del);
    printf("  measure (incl. delineation) %8.3f ms/record  %8.0fx real time\n", 1e3 * t_meas / n,
           dur * n / t_meas);
    printf("  detect + measure  %8.3f ms/record  %8.0fx real time (target >= 2000x)\n",
           1e3 * (t_det + t_meas) / n, dur * n / (t_det + t_meas));
    /* the machine is shared: the fastest iteration shows the cost without interference */
    printf("  detect + measure, fastest iteration %8.3f ms/record  %8.0fx real time\n", 1e3 * best, dur / best);
    aiecg_record_free(rec);
    return 0;
}
