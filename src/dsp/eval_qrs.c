/*
 * ANSI/AAMI EC57 beat-by-beat comparison (the matching rule of WFDB bxb):
 * a detection within the match window (150 ms) of a reference beat is a
 * true positive; each side is used once; when two candidates compete the
 * nearer pair wins. Works on sorted sample indices in one linear pass.
 */
#include "aiecg/eval.h"

#include "core/core_int.h"

#include <math.h>
#include <stdlib.h>

static void finish(aiecg_qrs_match *m) {
    m->se = m->tp + m->fn > 0 ? (double)m->tp / (double)(m->tp + m->fn) : NAN;
    m->ppv = m->tp + m->fp > 0 ? (double)m->tp / (double)(m->tp + m->fp) : NAN;
}

void aiecg_qrs_match_add(aiecg_qrs_match *a, const aiecg_qrs_match *b) {
    if (!a || !b) return;
    a->tp += b->tp;
    a->fn += b->fn;
    a->fp += b->fp;
    finish(a);
}

static int64_t dist(int64_t a, int64_t b) { return a > b ? a - b : b - a; }

aiecg_status aiecg_eval_qrs_match(const int64_t *ref, int64_t nref, const int64_t *test, int64_t ntest,
                                  double fs, double window_s, int64_t start, int64_t end,
                                  aiecg_qrs_match *out) {
    if (!out || (nref > 0 && !ref) || (ntest > 0 && !test) || nref < 0 || ntest < 0 || !(fs > 0) ||
        !(window_s > 0))
        return AIECG_ERR_INVALID_ARG;
    for (int64_t i = 1; i < nref; i++)
        if (ref[i] < ref[i - 1]) return AIECG_ERR_INVALID_ARG;
    for (int64_t i = 1; i < ntest; i++)
        if (test[i] < test[i - 1]) return AIECG_ERR_INVALID_ARG;
    aiecg_qrs_match m = {0, 0, 0, NAN, NAN};
    int64_t w = (int64_t)floor(window_s * fs + 1e-9);
    int64_t i = 0, j = 0;
#define IN(s) ((s) >= start && (end < 0 || (s) < end))
    while (i < nref && j < ntest) {
        int64_t r = ref[i], t = test[j], d = t - r;
        if (d < -w) {
            if (IN(t)) m.fp++;
            j++;
        } else if (d > w) {
            if (IN(r)) m.fn++;
            i++;
        } else {
            /* the next detection is nearer this reference (and not nearer the next one) */
            if (j + 1 < ntest && dist(test[j + 1], r) < dist(t, r) &&
                !(i + 1 < nref && dist(test[j + 1], ref[i + 1]) < dist(test[j + 1], r))) {
                if (IN(t)) m.fp++;
                j++;
                continue;
            }
            /* this detection is nearer the next reference (which has no nearer detection) */
            if (i + 1 < nref && dist(t, ref[i + 1]) < dist(t, r) &&
                !(j + 1 < ntest && dist(test[j + 1], ref[i + 1]) < dist(t, ref[i + 1]))) {
                if (IN(r)) m.fn++;
                i++;
                continue;
            }
            /* a pair straddling the start counts by its reference beat */
            if (IN(r)) m.tp++;
            i++;
            j++;
        }
    }
    for (; i < nref; i++)
        if (IN(ref[i])) m.fn++;
    for (; j < ntest; j++)
        if (IN(test[j])) m.fp++;
#undef IN
    finish(&m);
    *out = m;
    return AIECG_OK;
}
