/*
 * The model-input preprocessing of the training side (training/ptbxl.py, docs/training.md)
 * reproduced from the C library's records: PTB-XL fold-8 records read by aiecg_record_open
 * (WFDB format 16, adu -> mV), each lead's median removed (mean of the two middle order
 * statistics for even length), compared with the checksums that training/evaluate.py stored
 * for the same records in tests/data/model/ecg12_val_sample.tsv (sum and sum of |x| over the
 * 12 x 1000 input, first sample of lead I). This pins the contract on both sides: if the
 * reader's scaling, the lead order or the median convention drift, this fails.
 */
#include "test.h"
#include "aiecg/aiecg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const k_leads[12] = {"I", "II", "III", "aVR", "aVL", "aVF",
                                        "V1", "V2", "V3", "V4", "V5", "V6"};

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Median as numpy computes it for float32: mean of the two middle values for even n. */
static float median_f(const float *x, int64_t n, float *tmp) {
    memcpy(tmp, x, (size_t)n * sizeof *tmp);
    qsort(tmp, (size_t)n, sizeof *tmp, cmp_float);
    if (n % 2) return tmp[n / 2];
    return (tmp[n / 2 - 1] + tmp[n / 2]) / 2.0f;
}

static void ptbxl_inputs_match_training(void) {
    char data[4096], path[8192], line[1 << 16];
    test_data_path("ptbxl", data, sizeof data);
    const char *src = getenv("AIECG_SOURCE_DIR");
    snprintf(path, sizeof path, "%s/tests/data/model/ecg12_val_sample.tsv", src ? src : ".");
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    if (!f) return;
    int nrec = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || strncmp(line, "ecg_id", 6) == 0) continue;
        long id;
        char file[512];
        double ref_sum, ref_abs, ref_x0;
        if (sscanf(line, "%ld\t%511s\t%lf\t%lf\t%lf", &id, file, &ref_sum, &ref_abs, &ref_x0) != 5) {
            CHECK(!"malformed sample line");
            break;
        }
        snprintf(path, sizeof path, "%s/%s", data, file);
        aiecg_record *rec = NULL;
        aiecg_error err, *errp = &err;
        aiecg_error_clear(errp);
        CHECK_OK(aiecg_record_open(path, NULL, &rec, errp), errp);
        if (!rec) continue;
        CHECK_NEAR(aiecg_record_fs(rec), 100.0, 1e-9);
        int64_t n = aiecg_record_nsamples(rec);
        CHECK_INT(n, 1000);
        float *tmp = malloc((size_t)n * sizeof *tmp);
        double sum = 0, abs_sum = 0, x0 = NAN;
        for (int l = 0; l < 12 && tmp; l++) {
            int idx = aiecg_record_find_lead(rec, aiecg_lead_parse(k_leads[l]));
            CHECK(idx >= 0);
            if (idx < 0) continue;
            const float *x = aiecg_record_lead_data(rec, idx);
            float med = median_f(x, n, tmp);
            for (int64_t i = 0; i < n; i++) {
                float v = x[i] - med;
                sum += v;
                abs_sum += fabs(v);
                if (l == 0 && i == 0) x0 = v;
            }
        }
        free(tmp);
        CHECK_NEAR(sum, ref_sum, 1e-3);
        CHECK_NEAR(abs_sum, ref_abs, 1e-6 * ref_abs + 1e-3);
        CHECK_NEAR(x0, ref_x0, 1e-6);
        aiecg_record_free(rec);
        nrec++;
    }
    fclose(f);
    CHECK_INT(nrec, 32);
}

int main(void) {
    RUN(ptbxl_inputs_match_training);
    return test_summary();
}
