/*
 * Accuracy evaluation against reference annotations, as ANSI/AAMI EC57
 * prescribes for QRS detectors (beat-by-beat comparison, WFDB bxb).
 */
#ifndef AIECG_EVAL_H
#define AIECG_EVAL_H

#include "aiecg/core.h"

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

#ifdef __cplusplus
}
#endif
#endif
