/*
 * Internals shared by the dsp files (filters, resampler, quality, QRS
 * detection, beat families, delineation). Nothing here is public API.
 * Append only: several files of the module depend on these declarations.
 */
#ifndef AIECG_DSP_INT_H
#define AIECG_DSP_INT_H

#include "aiecg/dsp.h"
#include "core/core_int.h"

#include <stdint.h>

/* ---- second-order IIR sections (filter.c) ------------------------------ */
/* Direct form II transposed biquad: y = (b0 + b1 z^-1 + b2 z^-2) / (1 + a1 z^-1 + a2 z^-2). */
typedef struct aiecg__biquad {
    double b0, b1, b2, a1, a2;
} aiecg__biquad;

/* Designs by bilinear transform (RBJ cookbook forms). f0 in Hz, q dimensionless. */
aiecg__biquad aiecg__biquad_lowpass(double fs, double f0, double q);
aiecg__biquad aiecg__biquad_highpass(double fs, double f0, double q);
aiecg__biquad aiecg__biquad_notch(double fs, double f0, double q);
/* Butterworth of even order 2*nsec as nsec sections (low-pass or high-pass). */
int aiecg__butter_sections(double fs, double fc, int nsec, int highpass, aiecg__biquad *out);
/* Runs sections in cascade over x[n] in place, state zeroed first (causal). */
void aiecg__biquad_run(const aiecg__biquad *s, int nsec, float *x, int64_t n);
/* Forward-backward (zero-phase) cascade in place, with edge padding by odd reflection. */
aiecg_status aiecg__biquad_filtfilt(const aiecg__biquad *s, int nsec, float *x, int64_t n);
/* The same on nch channels of n samples each, stepped side by side (each channel's result is
   bit-identical to aiecg__biquad_filtfilt on it alone). */
aiecg_status aiecg__biquad_filtfilt_multi(const aiecg__biquad *s, int nsec, float *const *x, int nch, int64_t n);
/* aiecg_filter_lowpass on nch channels at once (same results, channels interleaved). */
aiecg_status aiecg__filter_lowpass_multi(float *const *x, int nch, int64_t n, double fs, double cutoff_hz);

/* aiecg_filter_baseline on nch channels of n samples each: every channel's result is
   bit-identical to aiecg_filter_baseline on it alone (AVX2 + FMA: 12 channels as vector lanes,
   divisions by L replaced by an exact reciprocal step; else one channel at a time). */
aiecg_status aiecg__filter_baseline_multi(float *const *x, int nch, int64_t n, double fs);
/* Minimum and maximum of x[i] - (sub ? sub[i] : 0) over n >= 1 finite values, four SSE lanes at a time
   (quality.c); the values of a scalar scan. */
void aiecg__range_f(const float *x, const float *sub, int64_t n, float *mn_out, float *mx_out);
#if defined(__x86_64__) || defined(_M_X64)
/* filter_avx2.c: the baseline stream over G <= 3 groups of 4 interleaved channels: t has D + m
   rows of 4 G floats, the input in rows D.. (rows < D are scratch); output row i (the input D
   samples back) lands in row i. ring has 2 * L * 4 G doubles of scratch. */
void aiecg__baseline_groups_avx2(float *t, int64_t m, int G, double *ring, int L, int64_t D);
/* The whole baseline of nc <= 12 channels x[c][n] (n >= 2) through it: pads as
   aiecg_filter_baseline, interleaves into t ((D + n + 2 D + 2) rows of 4 ceil(nc / 4) floats),
   filters, and writes back the channels with ok[c] set (the others are left as they were). */
void aiecg__baseline_multi_avx2(float *const *x, int nc, int64_t n, const int *ok, float *t, double *ring, int L,
                                int64_t D);
/* One biquad section over t[m][4 G] (G <= 3 groups of 4 interleaved channels) in place, from
   the per-lane state z0[4 G], z1[4 G]; backward != 0 runs from the last row to the first. Each
   lane gets the bits of aiecg__biquad_filtfilt's scalar step. */
void aiecg__biquad_pass_avx2(float *t, int64_t m, int G, const aiecg__biquad *s, const double *z0, const double *z1,
                             int backward);
/* qrs_avx2.c: the detector's three-section band-pass for four leads (lane l: state z[l], last
   finite input last[l], input in[l][0..m)); out[4 j + l] is lane l's output j, the bits of the
   plain per-lead loop. */
void aiecg__qrs_bandpass4_avx2(const aiecg__biquad *sec, double (*z)[3][2], float *last, const float *const *in,
                               int64_t m, float *out);
#endif

/* ---- representative beat (beats.c) ------------------------------------- */
/*
 * Median (sample-wise, per lead) of the beats of `family` (family < 0: all
 * beats labelled 'N'; if none, all beats), each cut from beat.sample - pre to
 * beat.sample + post - 1 on the record's mV data after zero-phase baseline
 * removal. out is [lead][pre + post] for every lead of rec (caller-allocated,
 * nleads * (pre + post) floats). Beats whose window leaves the record are
 * skipped. *nused (may be NULL) receives the number of beats used. Returns
 * AIECG_ERR_INVALID_ARG when no beat is usable (out is then zeroed).
 */
aiecg_status aiecg__median_beat(const aiecg_record *rec, const aiecg_beat *beats, int64_t nbeats,
                                int family, int pre, int post, float *out, int *nused);
/* The same for one lead given already cleaned (non-finite zeroed, baseline removed, n samples):
   out has pre + post floats. Identical to that lead's row of aiecg__median_beat. */
aiecg_status aiecg__median_beat_lead(const float *clean, int64_t n, const aiecg_beat *beats, int64_t nbeats,
                                     int family, int pre, int post, float *out, int *nused);

/* ---- beat families (beats.c) ------------------------------------------- */
/*
 * Fills rr_ms, width_ms, corr, family and label of beats[] (sample already
 * set, sorted ascending) from the record's signals. Used by aiecg_qrs_detect.
 */
aiecg_status aiecg__beats_classify(const aiecg_record *rec, aiecg_beat *beats, int64_t nbeats);

/* ---- QRS detector (qrs.c) ---------------------------------------------- */
/* plain != 0: the detector runs its plain C stage A only (tests compare it with the SIMD one). */
void aiecg__qrs_detector_set_plain(aiecg_qrs_detector *d, int plain);
/* Lead l's stage-A rings (band-passed, |derivative|, integral; R floats each, indexed by sample
   mod R); returns R, 0 for a lead not fused. For tests. */
int64_t aiecg__qrs_detector_rings(const aiecg_qrs_detector *d, int l, const float **bp, const float **a,
                                  const float **mwi);

/* ---- quality (quality.c) ------------------------------------------------- */
/* aiecg_quality_assess_beats with the baseline-removed leads supplied: clean[l] (l < nleads of rec,
   n samples each) must be lead l with non-finite samples replaced by 0, then aiecg_filter_baseline
   (as aiecg_analyze's conditioning has them before the mains notch). Same result, without filtering
   the leads again. */
aiecg_status aiecg__quality_assess_clean(const aiecg_record *rec, const aiecg_beat *beats, int64_t nbeats,
                                         const float *const *clean, aiecg_quality *out);

/* ---- small numeric helpers ---------------------------------------------- */
/* Median of x[n] (n >= 1); scratch has n floats (x is not modified). */
float aiecg__median_f(const float *x, int n, float *scratch);
/* Median of x[n] in place (x is reordered; exact, by selection: O(n) on average). NAN if n < 1. */
float aiecg__median_inplace(float *x, int n);
/* out[t] = median over r < m of rows[r][t], for t < len (exact; vectorised for m <= 32; allocates
   nothing for m <= 512, else AIECG_ERR_NOMEM is possible). */
aiecg_status aiecg__median_rows(const float *const *rows, int m, int len, float *out);

/* ---- resampler kernels (resample.c, resample_avx2.c) ---------------------- */
#if defined(__x86_64__) || defined(_M_X64)
/* sum_j h[j] x[j], j < T, with AVX2 + FMA (callers check aiecg_cpu_features). */
float aiecg__dot_taps_avx2(const float *h, const float *x, int T);
/* Four of them at once: out[o] = aiecg__dot_taps_avx2(h[o], x[o], T), to the bit. */
void aiecg__dot_taps4_avx2(const float *const *h, const float *const *x, int T, float *out);
#endif

#endif
