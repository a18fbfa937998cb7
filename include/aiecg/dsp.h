/*
 * Classic ECG signal processing: conditioning filters, signal quality, QRS
 * detection, beat families and representative beats, delineation and global
 * measurements. Functions take the sampling rate as runtime data. Streaming
 * objects (_new/_push/_reset/_free) report their delay in samples; the batch
 * functions wrap them or are their zero-phase equivalents. Objects are not
 * thread-safe; use one per thread.
 */
#ifndef AIECG_DSP_H
#define AIECG_DSP_H

#include "aiecg/record.h"

#include <math.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- conditioning ------------------------------------------------------ */
/* Zero-phase baseline-wander removal (high-pass, cut-off ~0.5 Hz) in place. */
AIECG_API aiecg_status aiecg_filter_baseline(float *x, int64_t n, double fs);
/* Detects 50 or 60 Hz mains interference: returns 50, 60 or 0 (none significant). */
AIECG_API int aiecg_powerline_detect(const float *x, int64_t n, double fs);
/* Zero-phase notch at mains_hz (and harmonics below fs/2) in place. */
AIECG_API aiecg_status aiecg_filter_powerline(float *x, int64_t n, double fs, double mains_hz);
/* Zero-phase low-pass (muscle noise), cut-off in Hz, in place. */
AIECG_API aiecg_status aiecg_filter_lowpass(float *x, int64_t n, double fs, double cutoff_hz);
/*
 * Anti-aliased polyphase resampling from fs_in to fs_out. *out is allocated
 * (aiecg_free), *nout = round(n * fs_out / fs_in). Zero-phase (delay compensated).
 */
AIECG_API aiecg_status aiecg_resample(const float *x, int64_t n, double fs_in, double fs_out,
                                      float **out, int64_t *nout);
/* New record with every lead resampled to fs_out (metadata, leads and annotations carried over). */
AIECG_API aiecg_status aiecg_record_resample(const aiecg_record *rec, double fs_out,
                                             aiecg_record **out, aiecg_error *err);

/*
 * Streaming conditioning filters. BASELINE is linear-phase (three cascaded
 * moving averages subtracted from the delayed input): its output lags the
 * input by exactly aiecg_filter_stream_delay() samples and, delay removed,
 * equals aiecg_filter_baseline away from the record edges. POWERLINE (notch
 * at mains_hz and harmonics) and LOWPASS (4th-order Butterworth) are causal
 * IIR; their delay is the group delay at 5 Hz rounded to samples. _push may
 * run in place (in == out). No allocation after _new.
 */
typedef enum aiecg_filter_kind {
    AIECG_FILTER_BASELINE = 0,
    AIECG_FILTER_POWERLINE = 1,
    AIECG_FILTER_LOWPASS = 2
} aiecg_filter_kind;

typedef struct aiecg_filter_params {
    double cutoff_hz; /* BASELINE: high-pass corner (0 = 0.67 Hz); LOWPASS: corner (0 = 40 Hz) */
    double mains_hz;  /* POWERLINE: 50 or 60 (0 = 50) */
} aiecg_filter_params;

typedef struct aiecg_filter_stream aiecg_filter_stream;
AIECG_API aiecg_status aiecg_filter_stream_new(aiecg_filter_kind kind, double fs,
                                               const aiecg_filter_params *p, aiecg_filter_stream **out);
AIECG_API void aiecg_filter_stream_push(aiecg_filter_stream *s, const float *in, float *out, int64_t n);
AIECG_API int64_t aiecg_filter_stream_delay(const aiecg_filter_stream *s); /* samples */
AIECG_API void aiecg_filter_stream_reset(aiecg_filter_stream *s);
/* Resets to the steady state of a constant input v (avoids a start-up transient). */
AIECG_API void aiecg_filter_stream_prime(aiecg_filter_stream *s, float v);
AIECG_API void aiecg_filter_stream_free(aiecg_filter_stream *s);

/*
 * Streaming polyphase resampler (Kaiser-windowed sinc, ratio L/M with
 * L, M <= 1000 approximating fs_out/fs_in). Output sample m is the value at
 * time m / fs_out; it is produced once the input reaches it plus
 * aiecg_resampler_delay() input samples. _finish flushes the tail (input
 * continued with zeros). aiecg_resample is this object fed the whole signal.
 */
typedef struct aiecg_resampler aiecg_resampler;
AIECG_API aiecg_status aiecg_resampler_new(double fs_in, double fs_out, aiecg_resampler **out);
/* Writes up to max_out outputs; *nout receives the count. Returns AIECG_ERR_LIMIT if out is too small
   (outputs beyond max_out are then lost): size out as n * fs_out / fs_in + 2. */
AIECG_API aiecg_status aiecg_resampler_push(aiecg_resampler *r, const float *in, int64_t n, float *out,
                                            int64_t max_out, int64_t *nout);
AIECG_API aiecg_status aiecg_resampler_finish(aiecg_resampler *r, float *out, int64_t max_out, int64_t *nout);
AIECG_API int64_t aiecg_resampler_delay(const aiecg_resampler *r); /* input samples */
AIECG_API void aiecg_resampler_ratio(const aiecg_resampler *r, int *up, int *down);
AIECG_API void aiecg_resampler_reset(aiecg_resampler *r);
AIECG_API void aiecg_resampler_free(aiecg_resampler *r);
/*
 * Batch resampling through a resampler used as a plan (its filter bank; its stream
 * state is neither used nor changed, so one plan may serve many leads, also from
 * several threads): the same output as aiecg_resample(x, n, fs_in, fs_out, ...) with
 * the rates the plan was made for, without designing the filter again per call.
 */
AIECG_API aiecg_status aiecg_resampler_run(const aiecg_resampler *r, const float *x, int64_t n, float **out,
                                           int64_t *nout);

/* ---- signal quality ---------------------------------------------------- */
enum {
    AIECG_QUALITY_FLAT = 1u << 0,        /* flat line / no signal */
    AIECG_QUALITY_CLIPPED = 1u << 1,     /* saturation at the ADC rails */
    AIECG_QUALITY_LEAD_OFF = 1u << 2,    /* electrode disconnected (flat or rail-to-rail steps) */
    AIECG_QUALITY_HF_NOISE = 1u << 3,    /* muscle / high-frequency noise */
    AIECG_QUALITY_BASELINE = 1u << 4,    /* baseline instability */
    AIECG_QUALITY_POWERLINE = 1u << 5,   /* strong mains interference */
    AIECG_QUALITY_NONFINITE = 1u << 6,   /* NaN or Inf samples */
    AIECG_QUALITY_TOO_SHORT = 1u << 7    /* record too short to analyse */
};

typedef enum aiecg_quality_verdict {
    AIECG_QUALITY_GOOD = 0,        /* fit for full interpretation */
    AIECG_QUALITY_ACCEPTABLE = 1,  /* usable, some leads impaired */
    AIECG_QUALITY_POOR = 2,        /* technically limited: no confident statements */
    AIECG_QUALITY_UNUSABLE = 3     /* nothing can be read */
} aiecg_quality_verdict;

typedef struct aiecg_lead_quality {
    uint32_t flags;       /* AIECG_QUALITY_* */
    float noise_mv;       /* RMS of high-frequency residual, mV */
    float snr_db;         /* QRS energy over noise, dB (NaN if no QRS) */
    aiecg_quality_verdict verdict;
} aiecg_lead_quality;

typedef struct aiecg_quality {
    int nleads;
    aiecg_lead_quality lead[AIECG_MAX_LEADS];
    uint32_t flags;               /* union over leads plus record-level flags */
    int limb_reversal_suspected;  /* 1: LA/RA (or other) reversal likely */
    const char *limb_reversal;    /* e.g. "LA/RA reversal" or NULL */
    aiecg_quality_verdict verdict;
} aiecg_quality;

AIECG_API aiecg_status aiecg_quality_assess(const aiecg_record *rec, aiecg_quality *out);

/* ---- QRS detection ----------------------------------------------------- */
typedef struct aiecg_beat {
    int64_t sample;     /* QRS fiducial (R peak / largest deflection), record sample index */
    char label;         /* 'N' normal/dominant, 'V' ventricular-like, 'S' premature supraventricular,
                           'P' paced, 'Q' unclassifiable */
    int family;         /* beat family index (0 = dominant), -1 if unassigned */
    float rr_ms;        /* interval from the previous beat, ms; NaN for the first */
    float width_ms;     /* QRS width estimate, ms */
    float corr;         /* correlation with the family template, 0..1 */
} aiecg_beat;

/*
 * aiecg_quality_assess with the beats supplied instead of detected inside
 * (beats of this record from aiecg_qrs_detect, e.g. on its conditioned copy:
 * the detector band-passes internally, so baseline removal and the notch
 * barely move them). Same result as aiecg_quality_assess when given the beats
 * aiecg_qrs_detect(rec) finds; saves that detection (~a fifth of a 12-lead
 * analysis) when the caller detects beats anyway. nbeats may be 0.
 */
AIECG_API aiecg_status aiecg_quality_assess_beats(const aiecg_record *rec, const aiecg_beat *beats,
                                                  int64_t nbeats, aiecg_quality *out);

typedef struct aiecg_qrs_options {
    double refractory_ms;  /* 0 = default (200 ms) */
    int use_leads;         /* max leads fused (0 = all usable leads) */
} aiecg_qrs_options;

/*
 * Batch detection over the leads of a record (multi-lead fused; III, aVR,
 * aVL and aVF are left out when I and II are present, being combinations of
 * them). *beats is allocated (aiecg_free); *nbeats may be 0. The beat samples
 * are exactly those of the streaming detector fed the same leads; the batch
 * function then fills rr_ms, width_ms, corr, family and label (the streaming
 * detector reports label 'Q', family -1). Errors: AIECG_ERR_UNSUPPORTED below
 * 50 Hz, AIECG_ERR_NOMEM. Thread-safe on a shared read-only record.
 */
AIECG_API aiecg_status aiecg_qrs_detect(const aiecg_record *rec, const aiecg_qrs_options *opt,
                                        aiecg_beat **beats, int64_t *nbeats, aiecg_error *err);

/*
 * Streaming detector for nleads leads at fs Hz (50..100000). All memory is
 * allocated here; _push never allocates. Not thread-safe; one per stream.
 */
typedef struct aiecg_qrs_detector aiecg_qrs_detector;
AIECG_API aiecg_status aiecg_qrs_detector_new(double fs, int nleads, const aiecg_qrs_options *opt,
                                              aiecg_qrs_detector **out);
/*
 * Pushes n samples of each lead (leads[l][i], mV). Detected beats (sample
 * indices counted from the first sample ever pushed) are written to out, up
 * to max_out; *nout receives the count. Beats are reported at most
 * aiecg_qrs_detector_delay() samples after they occur.
 */
AIECG_API aiecg_status aiecg_qrs_detector_push(aiecg_qrs_detector *d, const float *const *leads,
                                               int64_t n, aiecg_beat *out, int max_out, int *nout);
/* Flushes beats still pending at the end of the input. */
AIECG_API aiecg_status aiecg_qrs_detector_finish(aiecg_qrs_detector *d, aiecg_beat *out, int max_out,
                                                 int *nout);
AIECG_API int64_t aiecg_qrs_detector_delay(const aiecg_qrs_detector *d);
AIECG_API void aiecg_qrs_detector_reset(aiecg_qrs_detector *d);
AIECG_API void aiecg_qrs_detector_free(aiecg_qrs_detector *d);

/* ---- delineation and measurements --------------------------------------- */
/* Fiducials of one beat, record sample indices; -1 = not found. */
typedef struct aiecg_waves {
    int64_t p_on, p_peak, p_off;
    int64_t qrs_on, qrs_peak, qrs_off;  /* qrs_off is the J point */
    int64_t t_on, t_peak, t_off;
} aiecg_waves;

/*
 * Multi-lead delineation of beats in raw lead arrays (leads[l][i], mV, n
 * samples each, fs Hz). qrs[k] are the QRS fiducials (sorted ascending) of the
 * beats to delineate; out[k] receives global fiducials (earliest onset /
 * latest offset over leads by a robust agreement rule), -1 where a wave is
 * not found. rr_ms > 0 gives the RR context when qrs holds a single beat (a
 * representative beat); 0 derives it from the spacing of qrs. Stateless,
 * reentrant. Errors: AIECG_ERR_INVALID_ARG, AIECG_ERR_NOMEM.
 */
AIECG_API aiecg_status aiecg_delineate_leads(const float *const *leads, int nleads, int64_t n,
                                             double fs, const int64_t *qrs, int64_t nqrs,
                                             double rr_ms, aiecg_waves *out, aiecg_error *err);
/*
 * Delineates every beat of a record (all leads; works in blocks so memory
 * stays bounded on long records; a record not at 500 Hz is delineated on a
 * 500 Hz copy and the fiducials mapped back). *waves gets nbeats entries (aiecg_free).
 */
AIECG_API aiecg_status aiecg_delineate(const aiecg_record *rec, const aiecg_beat *beats,
                                       int64_t nbeats, aiecg_waves **waves, aiecg_error *err);
/*
 * The same on one lead alone (single-lead fiducials, e.g. for scoring each
 * lead against its own annotation). Errors as above, and AIECG_ERR_INVALID_ARG
 * for a lead index out of range.
 */
AIECG_API aiecg_status aiecg_delineate_lead(const aiecg_record *rec, const aiecg_beat *beats,
                                            int64_t nbeats, int lead, aiecg_waves **waves,
                                            aiecg_error *err);

/*
 * Per-lead amplitudes on the representative beat, mV, relative to its PQ level.
 * NaN = not measurable (no representative beat, lead flat or non-finite; p and t
 * also when the wave was not found). Inside a measured QRS an absent Q, R, S or
 * R' is 0 (CSE minimum wave amplitude 50 uV).
 */
typedef struct aiecg_lead_amplitudes {
    float p, q, r, s, rprime, t;  /* signed: q and s negative */
    float st_j, st_j60;           /* ST level at J and J+60 ms relative to the PQ baseline */
} aiecg_lead_amplitudes;

/* Global measurements: X(enum suffix, json key, unit). */
#define AIECG_MEASUREMENT_LIST(X)                                              \
    X(HR, "heart_rate", "bpm")                                                 \
    X(ATRIAL_RATE, "atrial_rate", "bpm")                                       \
    X(RR_MEAN, "rr_mean", "ms")                                                \
    X(RR_SD, "rr_sd", "ms")                                                    \
    X(RR_MIN, "rr_min", "ms")                                                  \
    X(RR_MAX, "rr_max", "ms")                                                  \
    X(P_DUR, "p_duration", "ms")                                               \
    X(PR, "pr_interval", "ms")                                                 \
    X(QRS_DUR, "qrs_duration", "ms")                                           \
    X(QT, "qt_interval", "ms")                                                 \
    X(QTC_BAZETT, "qtc_bazett", "ms")                                          \
    X(QTC_FRIDERICIA, "qtc_fridericia", "ms")                                  \
    X(QTC_FRAMINGHAM, "qtc_framingham", "ms")                                  \
    X(QTC_HODGES, "qtc_hodges", "ms")                                          \
    X(P_AXIS, "p_axis", "deg")                                                 \
    X(QRS_AXIS, "qrs_axis", "deg")                                             \
    X(T_AXIS, "t_axis", "deg")                                                 \
    X(SOKOLOW_LYON, "sokolow_lyon", "mV")                                      \
    X(CORNELL, "cornell", "mV")

typedef enum aiecg_measurement {
#define AIECG__MEAS_ENUM(e, k, u) AIECG_MEAS_##e,
    AIECG_MEASUREMENT_LIST(AIECG__MEAS_ENUM)
#undef AIECG__MEAS_ENUM
    AIECG_MEAS_COUNT
} aiecg_measurement;

AIECG_API const char *aiecg_measurement_key(aiecg_measurement m);  /* "qrs_duration" */
AIECG_API const char *aiecg_measurement_unit(aiecg_measurement m); /* "ms" */

typedef struct aiecg_measurements {
    double value[AIECG_MEAS_COUNT];       /* NaN when not measurable */
    const char *reason[AIECG_MEAS_COUNT]; /* static text when value is NaN, else NULL */
    int nleads;
    aiecg_lead_amplitudes lead[AIECG_MAX_LEADS]; /* indexed like the record's leads */
    aiecg_waves median;                   /* global fiducials on the representative beat,
                                             sample indices into the median beat (see below) */
    int median_len;                       /* samples in each representative beat */
    int median_fiducial;                  /* index of the QRS fiducial inside it */
    double median_fs;                     /* Hz of the representative beat: 500 (records at
                                             other rates are measured on a 500 Hz copy) */
    float *median_beats;                  /* [lead][median_len], mV; owned; may be NULL */
    int nbeats;                           /* beats used (dominant family) */
} aiecg_measurements;

/*
 * Delineates every beat (*waves has nbeats entries, allocated, aiecg_free)
 * and the representative beat, and computes the global measurements. beats
 * come from aiecg_qrs_detect on the same record (sorted by sample). waves may
 * be NULL. The representative beat is the sample-wise median over up to 64
 * dominant beats (label 'N' or family 0; all beats when none is), each window
 * 450 ms before to 750 ms after the beat's QRS onset. Whatever cannot be
 * measured is NaN with a static reason in out->reason[] (e.g. "no P wave
 * found in the dominant beat", "lead V1 absent or unusable"); that is not an
 * error. Reentrant (no shared state). Errors: AIECG_ERR_INVALID_ARG,
 * AIECG_ERR_NOMEM (out then holds nothing to free).
 */
AIECG_API aiecg_status aiecg_measure(const aiecg_record *rec, const aiecg_beat *beats, int64_t nbeats,
                                     aiecg_measurements *out, aiecg_waves **waves, aiecg_error *err);
/* Frees what aiecg_measure allocated inside the struct (not the struct). */
AIECG_API void aiecg_measurements_free(aiecg_measurements *m);
/*
 * JSON text of a measurement set (*json allocated, aiecg_free): record name,
 * fs, beats detected (nbeats_detected) and used, every measurement as
 * {"value", "unit"} or {"value": null, "unit", "reason"}, the representative
 * beat's fiducials in ms from its QRS onset, per-lead amplitudes in mV. rec
 * supplies lead names and may be NULL. Errors: AIECG_ERR_INVALID_ARG, AIECG_ERR_NOMEM.
 */
AIECG_API aiecg_status aiecg_measurements_json(const aiecg_measurements *m, const aiecg_record *rec,
                                               int64_t nbeats_detected, int pretty, char **json);


#ifdef __cplusplus
}
#endif
#endif
