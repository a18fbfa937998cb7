/*
 * Speed of the measurement path on a 10 s, 12-lead, 500 Hz record (LUDB
 * record 1 by default): aiecg_qrs_detect, aiecg_delineate, aiecg_measure
 * (which delineates every beat and the representative beat itself). Reports
 * per record both wall time and this thread's CPU time: on a shared machine
 * the CPU time is the figure that does not depend on other load. Target of
 * the issue: detect + delineate + measure >= 2000x real time (<= 5 ms per 10 s
 * record on one core). Prints figures only; never part of the test verdict.
 *
 *   bench_measure [RECORD] [ITERATIONS]   (default $AIECG_DATA_DIR/ludb/data/1, 200)
 */
#include "aiecg/aiecg.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double clock_s(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
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
        fprintf(stderr, "bench_measure: %s: %s\n", path, err.message);
        return 0;
    }
    double dur = aiecg_record_duration(rec);
    double wall[3] = {0}, cpu[3] = {0};
    int64_t nb = 0;
    for (int it = 0; it < iters; it++) {
        aiecg_beat *beats = NULL;
        aiecg_waves *w = NULL;
        aiecg_measurements m;
        double w0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
        if (aiecg_qrs_detect(rec, NULL, &beats, &nb, &err) != AIECG_OK) return 1;
        double w1 = clock_s(CLOCK_MONOTONIC), c1 = clock_s(CLOCK_THREAD_CPUTIME_ID);
        if (aiecg_delineate(rec, beats, nb, &w, &err) != AIECG_OK) return 1;
        double w2 = clock_s(CLOCK_MONOTONIC), c2 = clock_s(CLOCK_THREAD_CPUTIME_ID);
        if (aiecg_measure(rec, beats, nb, &m, NULL, &err) != AIECG_OK) return 1;
        double w3 = clock_s(CLOCK_MONOTONIC), c3 = clock_s(CLOCK_THREAD_CPUTIME_ID);
        wall[0] += w1 - w0;
        wall[1] += w2 - w1;
        wall[2] += w3 - w2;
        cpu[0] += c1 - c0;
        cpu[1] += c2 - c1;
        cpu[2] += c3 - c2;
        aiecg_measurements_free(&m);
        aiecg_free(w);
        aiecg_free(beats);
    }
    double n = iters;
    printf("%s: %d leads, %.0f Hz, %.1f s, %lld beats, %d iterations; ms per record (wall / thread CPU)\n",
           path, aiecg_record_nleads(rec), aiecg_record_fs(rec), dur, (long long)nb, iters);
    static const char *names[3] = {"aiecg_qrs_detect", "aiecg_delineate", "aiecg_measure"};
    for (int i = 0; i < 3; i++)
        printf("  %-18s %7.3f / %7.3f\n", names[i], 1e3 * wall[i] / n, 1e3 * cpu[i] / n);
    double wt = (wall[0] + wall[2]) / n, ct = (cpu[0] + cpu[2]) / n;
    printf("  detect + measure   %7.3f / %7.3f ms = %.0fx / %.0fx real time (target >= 2000x)\n", 1e3 * wt,
           1e3 * ct, dur / wt, dur / ct);
    aiecg_record_free(rec);
    return 0;
}
