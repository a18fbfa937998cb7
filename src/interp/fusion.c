/*
 * Fusion of the network's logits with the pipeline's own measurements: a
 * per-label logistic stacker (Wolpert 1992, "stacked generalization")
 *
 *     logit' = a * logit_model + c + sum_k w_k * z_k,   z_k = clip((f_k - mu_k) / sd_k, +-6)
 *
 * over a fixed feature vector f computed from the result (RR series and beat
 * labels, P-wave presence, intervals, axes, amplitudes, ST levels). Classic
 * ECG programs derive rhythm statements (sinus arrhythmia, bigeminy,
 * supraventricular arrhythmia) from exactly these numbers; the CNN on 10 s at
 * 100 Hz sees them only implicitly. The coefficients are fitted by
 * training/fuse.py on the PTB-XL training folds and shipped in the model's
 * metadata under key "aiecg.fusion" (format below), so a model without the
 * key behaves exactly as before. A feature that cannot be measured is NaN and
 * becomes z = 0 (the training mean); the miss_* features flag the main gaps.
 * The features come from the leads the record has: the reduced-lead models
 * (lead1, leads2, limb6) are fitted on PTB-XL records reduced to their own
 * leads (aiecg eval ptbxl does that), so a feature those leads cannot give
 * has weight 0 and a 12-lead record analysed by a reduced-lead model (no
 * ecg12 in the models folder) sees a few features (ST/T extremes over the
 * leads, beat detection) from more leads than the fit did.
 * Records longer than 10 s: logit_model is the mean logit over the scored
 * windows, the features come from the whole record (training saw 10 s only).
 * Thread-safety: a parsed aiecg__fusion is immutable and shared by all
 * analyses of its model; aiecg__fusion_apply writes only the result.
 *
 * "aiecg.fusion" text, one item per line:
 *   version=1
 *   features=<comma list, must equal aiecg_fusion_feature_name(0..n-1) exactly>
 *   mu=<n numbers>
 *   sd=<n numbers, > 0>
 *   label=<model label> a=<num> c=<num> w=<n numbers>
 * Unknown keys are errors (a newer format must bump the version).
 */
#include "interp_int.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* X(name, meaning) - the order is the contract with training/fuse.py. */
#define FUSION_FEATURES(X)                                                                   \
    X(beats_10s, "QRS complexes per 10 s")                                                   \
    X(hr, "heart rate, bpm")                                                                 \
    X(rr_cv, "SD/mean of all RR intervals")                                                  \
    X(rmssd_n, "RMSSD / mean RR")                                                            \
    X(rr_range_n, "(max-min)/mean RR")                                                       \
    X(rr_ac1, "autocorrelation of the RR series at lag 1 (bigeminy: strongly negative)")     \
    X(rr_ac2, "autocorrelation at lag 2")                                                    \
    X(rr_ac3, "autocorrelation at lag 3 (trigeminy: positive)")                              \
    X(alt_frac, "fraction of successive RR differences > 10 % of mean that change sign")     \
    X(prem_frac, "fraction of RR < 0.85 x median RR (premature beats)")                      \
    X(rrn_cv, "SD/mean of RR between consecutive dominant beats")                            \
    X(rmssdn_n, "RMSSD/mean of RR between consecutive dominant beats")                       \
    X(frac_v, "fraction of beats labelled ventricular-like")                                 \
    X(frac_s, "fraction of beats labelled premature supraventricular")                       \
    X(frac_paced, "fraction of beats labelled paced")                                        \
    X(frac_nondom, "fraction of beats outside the dominant family")                          \
    X(frac_p, "fraction of beats with a delineated P wave")                                  \
    X(pr_sd, "SD of the beat-to-beat PR interval, ms")                                       \
    X(atrial_rate, "atrial rate, bpm")                                                       \
    X(pr, "PR interval, ms")                                                                 \
    X(p_dur, "P duration, ms")                                                               \
    X(qrs, "QRS duration, ms")                                                               \
    X(qt, "QT interval, ms")                                                                 \
    X(qtc_fram, "QTc Framingham, ms")                                                        \
    X(qtc_baz, "QTc Bazett, ms")                                                             \
    X(p_axis_cos, "cos(P axis)")                                                             \
    X(p_axis_sin, "sin(P axis)")                                                             \
    X(qrs_axis_cos, "cos(QRS axis)")                                                         \
    X(qrs_axis_sin, "sin(QRS axis)")                                                         \
    X(t_axis_cos, "cos(T axis)")                                                             \
    X(t_axis_sin, "sin(T axis)")                                                             \
    X(sokolow, "Sokolow-Lyon index, mV")                                                     \
    X(cornell, "Cornell voltage, mV")                                                        \
    X(limb_pp_max, "largest limb-lead QRS peak-to-peak, mV")                                 \
    X(prec_pp_max, "largest precordial QRS peak-to-peak, mV")                                \
    X(v1_r, "R in V1, mV")                                                                   \
    X(v1_s, "S in V1, mV (negative)")                                                        \
    X(v1_rprime, "R' in V1, mV")                                                             \
    X(v6_r, "R in V6, mV")                                                                   \
    X(v6_s, "S in V6, mV")                                                                   \
    X(i_q, "Q in I, mV")                                                                     \
    X(st_min, "lowest ST level at J+60 ms over the leads, mV")                               \
    X(st_max, "highest ST level at J+60 ms over the leads, mV")                              \
    X(t_min, "most negative T over I, II, aVL, aVF, V2-V6, mV")                              \
    X(t_neg_frac, "fraction of I, II, aVL, aVF, V2-V6 with T < -0.05 mV")                    \
    X(p_ii, "P amplitude in II, mV")                                                         \
    X(beat_cons, "median QRS-template correlation")                                          \
    X(miss_meas, "1: no measurements at all")                                                \
    X(miss_pr, "1: PR not measurable")                                                       \
    X(miss_qt, "1: QT not measurable")                                                       \
    X(miss_p_axis, "1: P axis not measurable")

enum {
#define F_ENUM(n, d) F_##n,
    FUSION_FEATURES(F_ENUM)
#undef F_ENUM
    F_COUNT
};

static const char *const feature_names[] = {
#define F_NAME(n, d) #n,
    FUSION_FEATURES(F_NAME)
#undef F_NAME
};
_Static_assert(sizeof feature_names / sizeof feature_names[0] == F_COUNT, "feature table");

static const char *const feature_meaning[] = {
#define F_DESC(n, d) d,
    FUSION_FEATURES(F_DESC)
#undef F_DESC
};

#define Z_CLIP 6.0

int aiecg_fusion_nfeatures(void) { return F_COUNT; }
const char *aiecg_fusion_feature_name(int i) { return i >= 0 && i < F_COUNT ? feature_names[i] : NULL; }
const char *aiecg_fusion_feature_meaning(int i) { return i >= 0 && i < F_COUNT ? feature_meaning[i] : NULL; }

/* ---- features ------------------------------------------------------------ */
static double meas(const aiecg_result *r, aiecg_measurement m) {
    return r->meas_valid ? r->meas.value[m] : NAN;
}

static const aiecg_lead_amplitudes *lead_amp(const aiecg_result *r, const char *lead) {
    if (!r->meas_valid) return NULL;
    for (int l = 0; l < r->meas.nleads && l < r->nleads; l++)
        if (strcmp(r->lead_names[l], lead) == 0) return &r->meas.lead[l];
    return NULL;
}

static double qrs_pp(const aiecg_result *r, const char *lead) {
    const aiecg_lead_amplitudes *a = lead_amp(r, lead);
    if (!a || (!isfinite(a->r) && !isfinite(a->s) && !isfinite(a->q))) return NAN;
    double hi = fmax(isfinite(a->r) ? a->r : 0, isfinite(a->rprime) ? a->rprime : 0);
    double lo = fmin(isfinite(a->q) ? a->q : 0, isfinite(a->s) ? a->s : 0);
    return hi - lo;
}

static double amp_of(const aiecg_result *r, const char *lead, int which) {
    const aiecg_lead_amplitudes *a = lead_amp(r, lead);
    if (!a) return NAN;
    switch (which) {
    case 0: return a->r;
    case 1: return a->s;
    case 2: return a->rprime;
    case 3: return a->q;
    case 4: return a->p;
    default: return a->t;
    }
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Autocorrelation of x[0..n) at lag k (biased estimator); NaN when undefined. */
static double autocorr(const double *x, int n, double mean, double var, int k) {
    if (n < k + 4 || !(var > 0)) return NAN;
    double s = 0;
    for (int i = 0; i + k < n; i++) s += (x[i] - mean) * (x[i + k] - mean);
    return s / (n * var);
}

#define MAX_RR 512

void aiecg__fusion_features(const aiecg_result *r, double *f) {
    for (int k = 0; k < F_COUNT; k++) f[k] = NAN;
    int64_t nb = r->nbeats;
    f[F_beats_10s] = r->duration_s > 0 ? (double)nb * 10.0 / r->duration_s : NAN;
    f[F_hr] = meas(r, AIECG_MEAS_HR);
    /* RR series (the first MAX_RR intervals: a resting ECG has ~10-20) */
    double rr[MAX_RR], rrn[MAX_RR], srt[MAX_RR];
    int n = 0, nn = 0;
    for (int64_t i = 1; i < nb && n < MAX_RR; i++) {
        double v = r->beats[i].rr_ms;
        if (!isfinite(v) || v <= 0) continue;
        rr[n++] = v;
        if (r->beats[i].family == 0 && r->beats[i - 1].family == 0) rrn[nn++] = v;
    }
    if (n >= 2) {
        double m = 0, v = 0, d2 = 0, mn = rr[0], mx = rr[0];
        for (int i = 0; i < n; i++) m += rr[i];
        m /= n;
        for (int i = 0; i < n; i++) {
            v += (rr[i] - m) * (rr[i] - m);
            mn = fmin(mn, rr[i]);
            mx = fmax(mx, rr[i]);
            if (i) d2 += (rr[i] - rr[i - 1]) * (rr[i] - rr[i - 1]);
        }
        double var = v / n;
        f[F_rr_cv] = sqrt(v / (n - 1)) / m;
        f[F_rmssd_n] = sqrt(d2 / (n - 1)) / m;
        f[F_rr_range_n] = (mx - mn) / m;
        f[F_rr_ac1] = autocorr(rr, n, m, var, 1);
        f[F_rr_ac2] = autocorr(rr, n, m, var, 2);
        f[F_rr_ac3] = autocorr(rr, n, m, var, 3);
        if (n >= 3) {
            int alt = 0;
            for (int i = 2; i < n; i++) {
                double d1 = rr[i - 1] - rr[i - 2], d = rr[i] - rr[i - 1];
                alt += d1 * d < 0 && fabs(d1) > 0.1 * m && fabs(d) > 0.1 * m;
            }
            f[F_alt_frac] = (double)alt / (n - 2);
        }
        memcpy(srt, rr, (size_t)n * sizeof *srt);
        qsort(srt, (size_t)n, sizeof *srt, cmp_d);
        double med = n % 2 ? srt[n / 2] : 0.5 * (srt[n / 2 - 1] + srt[n / 2]);
        int prem = 0;
        for (int i = 0; i < n; i++) prem += rr[i] < 0.85 * med;
        f[F_prem_frac] = (double)prem / n;
    }
    if (nn >= 2) {
        double m = 0, v = 0, d2 = 0;
        for (int i = 0; i < nn; i++) m += rrn[i];
        m /= nn;
        for (int i = 0; i < nn; i++) {
            v += (rrn[i] - m) * (rrn[i] - m);
            if (i) d2 += (rrn[i] - rrn[i - 1]) * (rrn[i] - rrn[i - 1]);
        }
        f[F_rrn_cv] = sqrt(v / (nn - 1)) / m;
        f[F_rmssdn_n] = sqrt(d2 / (nn - 1)) / m;
    }
    if (nb > 0) {
        int64_t cv = 0, cs = 0, cp = 0, cnd = 0;
        for (int64_t i = 0; i < nb; i++) {
            cv += r->beats[i].label == 'V';
            cs += r->beats[i].label == 'S';
            cp += r->beats[i].label == 'P';
            cnd += r->beats[i].family != 0;
        }
        f[F_frac_v] = (double)cv / nb;
        f[F_frac_s] = (double)cs / nb;
        f[F_frac_paced] = (double)cp / nb;
        f[F_frac_nondom] = (double)cnd / nb;
    }
    if (r->waves && nb > 0) {
        int64_t np = 0, npr = 0;
        double s = 0, s2 = 0;
        for (int64_t i = 0; i < nb; i++) {
            const aiecg_waves *w = &r->waves[i];
            if (w->p_peak >= 0 || w->p_on >= 0) np++;
            if (w->p_on >= 0 && w->qrs_on > w->p_on && r->fs > 0) {
                double pr = (double)(w->qrs_on - w->p_on) * 1000.0 / r->fs;
                s += pr;
                s2 += pr * pr;
                npr++;
            }
        }
        f[F_frac_p] = (double)np / nb;
        if (npr >= 2) f[F_pr_sd] = sqrt(fmax(0.0, (s2 - s * s / npr) / (npr - 1)));
    }
    f[F_atrial_rate] = meas(r, AIECG_MEAS_ATRIAL_RATE);
    f[F_pr] = meas(r, AIECG_MEAS_PR);
    f[F_p_dur] = meas(r, AIECG_MEAS_P_DUR);
    f[F_qrs] = meas(r, AIECG_MEAS_QRS_DUR);
    f[F_qt] = meas(r, AIECG_MEAS_QT);
    f[F_qtc_fram] = meas(r, AIECG_MEAS_QTC_FRAMINGHAM);
    f[F_qtc_baz] = meas(r, AIECG_MEAS_QTC_BAZETT);
    const double deg = 3.14159265358979323846 / 180.0;
    double pa = meas(r, AIECG_MEAS_P_AXIS), qa = meas(r, AIECG_MEAS_QRS_AXIS), ta = meas(r, AIECG_MEAS_T_AXIS);
    f[F_p_axis_cos] = cos(pa * deg);
    f[F_p_axis_sin] = sin(pa * deg);
    f[F_qrs_axis_cos] = cos(qa * deg);
    f[F_qrs_axis_sin] = sin(qa * deg);
    f[F_t_axis_cos] = cos(ta * deg);
    f[F_t_axis_sin] = sin(ta * deg);
    f[F_sokolow] = meas(r, AIECG_MEAS_SOKOLOW_LYON);
    f[F_cornell] = meas(r, AIECG_MEAS_CORNELL);
    static const char *limb[] = {"I", "II", "III", "aVR", "aVL", "aVF"};
    static const char *prec[] = {"V1", "V2", "V3", "V4", "V5", "V6"};
    for (int i = 0; i < 6; i++) {
        double a = qrs_pp(r, limb[i]), b = qrs_pp(r, prec[i]);
        if (isfinite(a)) f[F_limb_pp_max] = isfinite(f[F_limb_pp_max]) ? fmax(f[F_limb_pp_max], a) : a;
        if (isfinite(b)) f[F_prec_pp_max] = isfinite(f[F_prec_pp_max]) ? fmax(f[F_prec_pp_max], b) : b;
    }
    f[F_v1_r] = amp_of(r, "V1", 0);
    f[F_v1_s] = amp_of(r, "V1", 1);
    f[F_v1_rprime] = amp_of(r, "V1", 2);
    f[F_v6_r] = amp_of(r, "V6", 0);
    f[F_v6_s] = amp_of(r, "V6", 1);
    f[F_i_q] = amp_of(r, "I", 3);
    f[F_p_ii] = amp_of(r, "II", 4);
    if (r->meas_valid) {
        for (int l = 0; l < r->meas.nleads && l < r->nleads; l++) {
            double st = r->meas.lead[l].st_j60;
            if (!isfinite(st)) continue;
            f[F_st_min] = isfinite(f[F_st_min]) ? fmin(f[F_st_min], st) : st;
            f[F_st_max] = isfinite(f[F_st_max]) ? fmax(f[F_st_max], st) : st;
        }
        static const char *tl[] = {"I", "II", "aVL", "aVF", "V2", "V3", "V4", "V5", "V6"};
        int nt = 0, nneg = 0;
        for (size_t i = 0; i < sizeof tl / sizeof tl[0]; i++) {
            double t = amp_of(r, tl[i], 5);
            if (!isfinite(t)) continue;
            nt++;
            nneg += t < -0.05;
            f[F_t_min] = isfinite(f[F_t_min]) ? fmin(f[F_t_min], t) : t;
        }
        if (nt) f[F_t_neg_frac] = (double)nneg / nt;
    }
    f[F_beat_cons] = r->beat_consistency;
    f[F_miss_meas] = r->meas_valid ? 0.0 : 1.0;
    f[F_miss_pr] = isfinite(f[F_pr]) ? 0.0 : 1.0;
    f[F_miss_qt] = isfinite(f[F_qt]) ? 0.0 : 1.0;
    f[F_miss_p_axis] = isfinite(pa) ? 0.0 : 1.0;
}

aiecg_status aiecg_result_features(const aiecg_result *r, double *out, int n) {
    if (!r || !out || n < F_COUNT) return AIECG_ERR_INVALID_ARG;
    aiecg__fusion_features(r, out);
    return AIECG_OK;
}

/* ---- the stacker ---------------------------------------------------------- */
typedef struct fusion_label {
    int index;   /* into the model's labels */
    double a, c;
    double w[F_COUNT];
} fusion_label;

struct aiecg__fusion {
    int version;
    double mu[F_COUNT], sd[F_COUNT];
    fusion_label *labels;
    int nlabels;
};

void aiecg__fusion_free(aiecg__fusion *fu) {
    if (!fu) return;
    aiecg__free(fu->labels);
    aiecg__free(fu);
}

int aiecg__fusion_nlabels(const aiecg__fusion *fu) { return fu ? fu->nlabels : 0; }

#define KEY "aiecg.fusion"

/* Parses exactly n comma-separated finite numbers of [s, e); returns the count read or -1. */
static int parse_nums(const char *s, const char *e, double *out, int n, const char **bad) {
    int k = 0;
    const char *p = s;
    while (p < e) {
        char *q;
        errno = 0;
        double v = strtod(p, &q);
        if (q == p || q > e || !isfinite(v)) {
            *bad = p;
            return -1;
        }
        if (k < n) out[k] = v;
        k++;
        p = q;
        if (p < e && *p == ',') p++;
        else if (p < e) {
            *bad = p;
            return -1;
        }
    }
    return k;
}

aiecg_status aiecg__fusion_parse(const char *text, const char *const *labels, int nlabels,
                                 aiecg__fusion **out, aiecg_error *err) {
    *out = NULL;
    if (!text) return AIECG_OK;
    aiecg__fusion *fu = aiecg__calloc(1, sizeof *fu);
    if (!fu) return AIECG_ERR_NOMEM;
    aiecg_status st = AIECG_OK;
    int have_feat = 0, have_mu = 0, have_sd = 0, line = 0;
    const char *p = text;
    while (*p && st == AIECG_OK) {
        const char *e = strchr(p, '\n');
        if (!e) e = p + strlen(p);
        line++;
        long off = (long)(p - text);
        const char *le = e;
        while (le > p && (le[-1] == '\r' || le[-1] == ' ')) le--;
        if (le == p) {
            p = *e ? e + 1 : e;
            continue;
        }
        const char *eq = memchr(p, '=', (size_t)(le - p));
        if (!eq) {
            st = aiecg__error_set(err, AIECG_ERR_MODEL, "%s: line %d (byte %ld): expected key=value", KEY, line, off);
            break;
        }
        size_t kl = (size_t)(eq - p);
        const char *v = eq + 1;
        const char *bad = NULL;
        if (kl == 7 && !strncmp(p, "version", 7)) {
            fu->version = atoi(v);
            if (fu->version != 1)
                st = aiecg__error_set(err, AIECG_ERR_MODEL, "%s: line %d (byte %ld): version %.*s not supported (1)",
                                      KEY, line, off, (int)(le - v), v);
        } else if (kl == 8 && !strncmp(p, "features", 8)) {
            int k = 0;
            const char *q = v;
            while (q <= le && st == AIECG_OK) {
                const char *c = memchr(q, ',', (size_t)(le - q));
                const char *ce = c ? c : le;
                size_t len = (size_t)(ce - q);
                if (k >= F_COUNT || strlen(feature_names[k]) != len || strncmp(feature_names[k], q, len))
                    st = aiecg__error_set(err, AIECG_ERR_MODEL,
                                          "%s: line %d (byte %ld): feature %d is '%.*s', this build computes '%s'",
                                          KEY, line, (long)(q - text), k, (int)len, q,
                                          k < F_COUNT ? feature_names[k] : "(none: list too long)");
                k++;
                if (!c) break;
                q = c + 1;
            }
            if (st == AIECG_OK && k != F_COUNT)
                st = aiecg__error_set(err, AIECG_ERR_MODEL, "%s: line %d (byte %ld): %d features, this build computes %d",
                                      KEY, line, off, k, F_COUNT);
            have_feat = 1;
        } else if ((kl == 2 && !strncmp(p, "mu", 2)) || (kl == 2 && !strncmp(p, "sd", 2))) {
            double *dst = p[0] == 'm' ? fu->mu : fu->sd;
            int k = parse_nums(v, le, dst, F_COUNT, &bad);
            if (k != F_COUNT)
                st = aiecg__error_set(err, AIECG_ERR_MODEL, "%s: line %d (byte %ld): %.2s: %s", KEY, line,
                                      bad ? (long)(bad - text) : off, p,
                                      k < 0 ? "not a number" : "wrong count of numbers");
            for (int i = 0; st == AIECG_OK && p[0] == 's' && i < F_COUNT; i++)
                if (!(fu->sd[i] > 0))
                    st = aiecg__error_set(err, AIECG_ERR_MODEL, "%s: line %d (byte %ld): sd of %s is not > 0", KEY,
                                          line, off, feature_names[i]);
            if (p[0] == 'm') have_mu = 1;
            else have_sd = 1;
        } else if (kl == 5 && !strncmp(p, "label", 5)) {
            /* label=NAME a=.. c=.. w=.. */
            const char *sp = memchr(v, ' ', (size_t)(le - v));
            size_t nl = sp ? (size_t)(sp - v) : (size_t)(le - v);
            int idx = -1;
            for (int i = 0; i < nlabels && idx < 0; i++)
                if (labels[i] && strlen(labels[i]) == nl && !strncmp(labels[i], v, nl)) idx = i;
            if (idx < 0) {
                st = aiecg__error_set(err, AIECG_ERR_MODEL, "%s: line %d (byte %ld): label '%.*s' is not a model output",
                                      KEY, line, (long)(v - text), (int)nl, v);
                break;
            }
            for (int i = 0; i < fu->nlabels; i++)
                if (fu->labels[i].index == idx)
                    st = aiecg__error_set(err, AIECG_ERR_MODEL, "%s: line %d (byte %ld): label '%.*s' given twice",
                                          KEY, line, (long)(v - text), (int)nl, v);
            if (st) break;
            fusion_label *nlp = aiecg__realloc(fu->labels, (size_t)(fu->nlabels + 1) * sizeof *nlp);
            if (!nlp) {
                st = AIECG_ERR_NOMEM;
                break;
            }
            fu->labels = nlp;
            fusion_label *L = &fu->labels[fu->nlabels];
            memset(L, 0, sizeof *L);
            L->index = idx;
            int got = 0; /* bits a=1 c=2 w=4 */
            const char *q = sp;
            while (q && q < le && st == AIECG_OK) {
                while (q < le && *q == ' ') q++;
                if (q >= le) break;
                const char *te = memchr(q, ' ', (size_t)(le - q));
                if (!te) te = le;
                if (te - q >= 2 && q[1] == '=' && (q[0] == 'a' || q[0] == 'c')) {
                    double x = 0;
                    int k = parse_nums(q + 2, te, &x, 1, &bad);
                    if (k != 1)
                        st = aiecg__error_set(err, AIECG_ERR_MODEL, "%s: line %d (byte %ld): %c= is not one number",
                                              KEY, line, (long)(q - text), q[0]);
                    if (q[0] == 'a') L->a = x, got |= 1;
                    else L->c = x, got |= 2;
                } else if (te - q >= 2 && q[0] == 'w' && q[1] == '=') {
                    int k = parse_nums(q + 2, te, L->w, F_COUNT, &bad);
                    if (k != F_COUNT)
                        st = aiecg__error_set(err, AIECG_ERR_MODEL, "%s: line %d (byte %ld): w= needs %d numbers, %s",
                                              KEY, line, bad ? (long)(bad - text) : (long)(q - text), F_COUNT,
                                              k < 0 ? "found a non-number" : "wrong count");
                    got |= 4;
                } else {
                    st = aiecg__error_set(err, AIECG_ERR_MODEL, "%s: line %d (byte %ld): unknown item '%.*s'", KEY,
                                          line, (long)(q - text), (int)(te - q), q);
                }
                q = te;
            }
            if (st == AIECG_OK && got != 7)
                st = aiecg__error_set(err, AIECG_ERR_MODEL, "%s: line %d (byte %ld): label needs a=, c= and w=", KEY,
                                      line, off);
            fu->nlabels++;
        } else {
            st = aiecg__error_set(err, AIECG_ERR_MODEL, "%s: line %d (byte %ld): unknown key '%.*s'", KEY, line, off,
                                  (int)kl, p);
        }
        p = *e ? e + 1 : e;
    }
    if (st == AIECG_OK && (fu->version != 1 || !have_feat || !have_mu || !have_sd))
        st = aiecg__error_set(err, AIECG_ERR_MODEL, "%s: missing %s", KEY,
                              fu->version != 1 ? "version=1" : !have_feat ? "features=" : !have_mu ? "mu=" : "sd=");
    if (st) {
        aiecg__fusion_free(fu);
        return st;
    }
    *out = fu;
    return AIECG_OK;
}

static double sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }

aiecg_status aiecg__fusion_apply(const aiecg__fusion *fu, aiecg_result *r) {
    if (!fu || fu->nlabels == 0 || r->nlabels == 0) return AIECG_OK;
    double f[F_COUNT], z[F_COUNT];
    aiecg__fusion_features(r, f);
    for (int k = 0; k < F_COUNT; k++) {
        double v = isfinite(f[k]) ? (f[k] - fu->mu[k]) / fu->sd[k] : 0.0;
        z[k] = v > Z_CLIP ? Z_CLIP : v < -Z_CLIP ? -Z_CLIP : v;
    }
    r->model_probs = aiecg__malloc((size_t)r->nlabels * sizeof *r->model_probs);
    r->fusion_ev = aiecg__calloc((size_t)r->nlabels, sizeof *r->fusion_ev);
    if (!r->model_probs || !r->fusion_ev) return AIECG_ERR_NOMEM;
    memcpy(r->model_probs, r->probs, (size_t)r->nlabels * sizeof *r->probs);
    r->fusion_version = fu->version;
    for (int i = 0; i < fu->nlabels; i++) {
        const fusion_label *L = &fu->labels[i];
        int j = L->index;
        if (j >= r->nlabels || !isfinite(r->logits[j])) continue;
        double lg = L->a * r->logits[j] + L->c;
        int top[2] = {-1, -1};
        for (int k = 0; k < F_COUNT; k++) {
            double ck = L->w[k] * z[k];
            lg += ck;
            if (top[0] < 0 || fabs(ck) > fabs(L->w[top[0]] * z[top[0]])) {
                top[1] = top[0];
                top[0] = k;
            } else if (top[1] < 0 || fabs(ck) > fabs(L->w[top[1]] * z[top[1]])) {
                top[1] = k;
            }
        }
        r->probs[j] = sigmoid(lg);
        char *ev = r->fusion_ev[j];
        size_t cap = sizeof r->fusion_ev[j];
        int m = snprintf(ev, cap, "fusion: model p=%.2f -> %.2f", r->model_probs[j], r->probs[j]);
        for (int t = 0; t < 2 && m > 0 && (size_t)m < cap; t++) {
            int k = top[t];
            double ck = k >= 0 ? L->w[k] * z[k] : 0;
            if (k < 0 || fabs(ck) < 0.05) break;
            int w = snprintf(ev + m, cap - (size_t)m, "%s %s %.3g (%+.2f)", t ? "," : ";", feature_names[k],
                             isfinite(f[k]) ? f[k] : NAN, ck);
            if (w < 0) break;
            m += w;
        }
    }
    return AIECG_OK;
}
