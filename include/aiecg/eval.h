/*
 * Accuracy evaluation against reference annotations, as ANSI/AAMI EC57
 * prescribes for QRS detectors (beat-by-beat comparison, WFDB bxb).
 */
#ifndef AIECG_EVAL_H
#define AIECG_EVAL_H

#include "aiecg/core.h"
#include "aiecg/dsp.h" /* aiecg_waves, for delineation scoring */

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct aiecg_qrs_match {
    int64_t tp;   /* reference beats matched by a detected beat */
    int64_t fn;   /* reference beats with no detection within the window */
    int64_t fp;   /* detections matching no reference beat */
    double se;    /* tp / (tp + fn), 0..1; NaN when there is no reference beat */
    double ppv;   /* tp / (tp + fp), 0..1 (+P); NaN when nothing was detected */
} aiecg_qrs_match;

/*
 * One-to-one matching of reference and test beat times (sample indices,
 * each array sorted ascending) within +-window_s seconds (EC57: 0.150 s);
 * each reference pairs with at most one detection, a detection lying nearer
 * the next reference is kept for it. Only beats with start <= sample < end
 * are scored (end < 0: no upper bound), as EC57 scores from a chosen start
 * (bxb -f; EC57 itself skips the first 5 minutes for some statistics).
 * Errors: AIECG_ERR_INVALID_ARG on NULL arrays with nonzero counts, fs or
 * window not positive, or unsorted input.
 */
AIECG_API aiecg_status aiecg_eval_qrs_match(const int64_t *ref, int64_t nref, const int64_t *test,
                                            int64_t ntest, double fs, double window_s, int64_t start,
                                            int64_t end, aiecg_qrs_match *out);

/* Adds b's counts to a (gross statistics) and recomputes se/ppv. */
AIECG_API void aiecg_qrs_match_add(aiecg_qrs_match *a, const aiecg_qrs_match *b);

/* ---- delineation scoring (src/dsp/eval_delin.c) ------------------------- */
/* Fiducial kinds of aiecg_waves (dsp.h), in its field order. */
typedef enum aiecg_fiducial {
    AIECG_FID_P_ON, AIECG_FID_P_PEAK, AIECG_FID_P_OFF,
    AIECG_FID_QRS_ON, AIECG_FID_QRS_PEAK, AIECG_FID_QRS_OFF,
    AIECG_FID_T_ON, AIECG_FID_T_PEAK, AIECG_FID_T_OFF,
    AIECG_FID_COUNT
} aiecg_fiducial;

AIECG_API const char *aiecg_fiducial_name(aiecg_fiducial f); /* "qrs_on" */

/* Running totals per fiducial; errors are detected - reference, ms. */
typedef struct aiecg_delin_score {
    int64_t tp[AIECG_FID_COUNT], fn[AIECG_FID_COUNT], fp[AIECG_FID_COUNT];
    double err_sum[AIECG_FID_COUNT], err_sq[AIECG_FID_COUNT]; /* ms, ms^2 */
} aiecg_delin_score;

AIECG_API void aiecg_delin_score_init(aiecg_delin_score *s);
/*
 * Adds one record. For each fiducial, reference and detected marks (sample
 * indices at fs; -1 = absent) are sorted and matched greedily, each
 * reference taking the nearest unused detection within tol_ms (<= 0: 150).
 * Every detection may match; an unmatched one counts as a false positive
 * only inside [span_lo, span_hi] (the annotated part of the record).
 */
AIECG_API aiecg_status aiecg_delin_score_add(aiecg_delin_score *s, const aiecg_waves *ref, int64_t nref,
                                             const aiecg_waves *det, int64_t ndet, double fs,
                                             int64_t span_lo, int64_t span_hi, double tol_ms);
/* Se, P+ (0..1), mean and SD of the error (ms); NaN where undefined. Any out pointer may be NULL. */
AIECG_API void aiecg_delin_score_get(const aiecg_delin_score *s, aiecg_fiducial f, double *se,
                                     double *ppv, double *mean_ms, double *sd_ms);
/*
 * Builds one aiecg_waves per beat annotation from LUDB-style marks ('(' onset,
 * peak 'p' / beat code / 't', ')' offset); a P wave goes to the next QRS, a T
 * wave to the previous one. *out is allocated (aiecg_free). span_lo/hi
 * (may be NULL) get the first and last annotated sample.
 */
AIECG_API aiecg_status aiecg_delin_waves_from_annotations(const aiecg_annotation *ann, int64_t nann,
                                                          aiecg_waves **out, int64_t *nout,
                                                          int64_t *span_lo, int64_t *span_hi);
/*
 * Multi-lead reference: for each wave of out[] (a template list, e.g. lead
 * II's), onsets become the second-earliest and offsets the second-latest over
 * the lists (leads) that annotate the same wave (peak within 60 ms); with
 * fewer than three leads the extreme one.
 */
AIECG_API aiecg_status aiecg_delin_waves_merge(const aiecg_waves *const *lead_waves,
                                               const int64_t *counts, int nlists, double fs,
                                               aiecg_waves *out, int64_t nout);

#ifdef __cplusplus
}
#endif
#endif
