/*
 * Multi-lead QRS detection, streaming, any sampling rate.
 *
 * Stage A (per lead, per sample): band-pass 5-25 Hz (2nd-order Butterworth
 * high-pass, 4th-order low-pass, designed for the runtime fs), a derivative
 * over ~10 ms, its magnitude, and a moving-window integral over ~120 ms
 * (Pan & Tompkins, IEEE TBME 32(3):230, 1985; Hamilton & Tompkins, IEEE TBME
 * 33(12):1157, 1986, who use the magnitude rather than the square, which
 * keeps the fused function linear in amplitude).
 * Stage B (fused): each lead's integral is divided by its running QRS level
 * and weighted by how far that level stands above the lead's own non-QRS
 * peaks (a noisy lead counts less), then summed. Peaks of the
 * fused function (local maxima over +-120 ms) are classified against adaptive
 * signal/noise levels (threshold = NL + 0.25 (QL - NL)), with
 *   - a refractory period (200 ms by default),
 *   - T-wave discrimination: a peak within 360 ms of the previous beat whose
 *     steepest slope is below half that beat's is noise (Pan & Tompkins),
 *     unless it reaches half the QRS level (an early PVC is tall),
 *   - search-back: with no beat for 1.66 mean RR, the largest candidate above
 *     half the threshold since the last beat becomes a beat,
 *   - a prominence gate against a slew-limited follower of the fused function
 *     (it moves by at most 2 QL per second, so it lags a QRS upstroke and sits
 *     near the floor between beats, but rides along with sustained noise):
 *     2x, or 1.5x when the candidate's band-passed shape correlates > 0.8
 *     with one of the last 8 beats, so pure noise or a flat line gives no beats;
 *     and 2.05x a running median of it (the same tracker 20x slower), which
 *     rejects flutter waves and sustained noise,
 *   - caps on how much one beat can raise the levels, and a decay of the QRS
 *     level after long silence, so an artefact cannot lock the detector out.
 * The first 2 s are buffered to learn initial levels and then replayed, so
 * beats at the very start are found. The fiducial is the sample of largest
 * weighted band-passed magnitude in the integration window, corrected for
 * the band-pass group delay. Beats leave the detector at most
 * aiecg_qrs_detector_delay() samples after their fiducial.
 * Every constant below was tuned on the MIT-BIH Arrhythmia Database, which is
 * also the benchmark it is reported on (docs/dsp-qrs.md says so).
 * No allocation after _new; the batch function feeds this object.
 */
#include "dsp/dsp_int.h"

#include <math.h>
#include <string.h>
#ifdef QRS_TRACE
#include <stdio.h>
#endif

#define LEARN_S 2.0
/* Tuned on MIT-BIH (see docs/dsp-qrs.md). */
#ifndef QRS_THR
#define QRS_THR 0.25f
#endif
#ifndef QRS_PROM
#define QRS_PROM 2.0f
#endif
#ifndef QRS_PROM2
#define QRS_PROM2 1.5f
#endif
#ifndef QRS_CORR
#define QRS_CORR 0.8f
#endif
#ifndef QRS_TSLOPE
#define QRS_TSLOPE 0.5f
#endif
#ifndef QRS_TWIN
#define QRS_TWIN 0.360
#endif
#ifndef QRS_SB
#define QRS_SB 1.66f
#endif
#ifndef QRS_SBF
#define QRS_SBF 0.5f
#endif
#ifndef QRS_HP
#define QRS_HP 5.0
#endif
#ifndef QRS_LP
#define QRS_LP 25.0
#endif
#ifndef QRS_WS
#define QRS_WS 0.120
#endif
#ifndef QRS_WPOW
#define QRS_WPOW(q) ((q) * (q))
#endif
#ifndef QRS_NLVA
#define QRS_NLVA 0.125f
#endif
#ifndef QRS_CAP
#define QRS_CAP 1.5f
#endif
#ifndef QRS_DECAY
#define QRS_DECAY 0.78f
#endif
#ifndef QRS_ETA
#define QRS_ETA 2.0f
#endif
#ifndef QRS_ETAS
#define QRS_ETAS 0.1f
#endif
#ifndef QRS_PROMS
#define QRS_PROMS 2.05f
#endif
#ifndef QRS_TH
#define QRS_TH 0.5f
#endif
#ifndef QRS_PS
#define QRS_PS 0.120
#endif
#define CAND_MAX 64
#define NSHAPE 8
#define OUTQ_MAX 256

typedef struct cand {
    int64_t t;      /* fused-function peak time (stage-B sample index) */
    float h;        /* fused height */
    float slope;    /* steepest fused slope before the peak */
    int64_t fid;    /* fiducial, record samples */
    float lm[AIECG_MAX_LEADS]; /* each fused lead's integral at the peak */
    float corr;     /* best correlation with the recent beats' shapes */
} cand;

typedef struct lead_state {
    aiecg__biquad sec[3];
    double z[3][2];
    float last_finite;
    double asum;     /* running integral */
    float *bp;       /* ring [R], band-passed */
    float *a;        /* ring [R], |derivative| */
    float *mwi;      /* ring [R], integral */
    float lvl;       /* running QRS level of mwi */
    float nlv;       /* running level of mwi at non-QRS peaks */
    float g;         /* weight in the fused function */
    float learn_max;
} lead_state;

struct aiecg_qrs_detector {
    double fs;
    int nleads;       /* leads pushed */
    int nuse;         /* leads fused */
    int64_t R;        /* ring size (power of two) */
    int64_t mask;
    int K;            /* derivative lag */
    int W;            /* integration window */
    int P;            /* peak half-width */
    int refr;         /* refractory, samples */
    int t_wave;       /* T-wave window, samples */
    int gd;           /* band-pass group delay, samples */
    int64_t delay;
    int64_t n;        /* samples processed by stage A */
    int64_t nb;       /* samples processed by stage B */
    lead_state lead[AIECG_MAX_LEADS];
    float *F;         /* ring [R], fused integral */
    float *D;         /* ring [R], fused |derivative| */
    /* learning */
    int learning;
    int64_t learn_len;
    float *learn;     /* [learn_len][nuse][3]: bp, a, mwi */
    float *scratch;   /* [2 learn_len] */
    /* shapes of the last NSHAPE beats: weighted band-passed leads around the fiducial */
    int hw;           /* half-width of a shape, samples */
    int shape_len;    /* nuse * (2 hw + 1) */
    float *shapes;    /* [NSHAPE][shape_len] */
    float *cur;       /* [shape_len] */
    float *env;       /* [W + K + 1] fiducial envelope */
    int sm;           /* envelope smoothing, samples */
    int nshape, shape_pos;
    /* stage B */
    float pk_h;
    int64_t pk_t;
    float fmed;
    float fslow;      /* running median of the fused function (slow sign-step tracker) */
    float ql, nl;
    int have_beat;
    int64_t last_t;
    float last_slope;
    float sl_avg;
    float rr[8];
    int nrr;
    int64_t last_fid;
    cand cands[CAND_MAX];
    int ncand;
    int sb_dirty;
    int64_t decay_at; /* stage-B time of the next lock-out decay (0: none armed) */
    int64_t max_age;  /* oldest candidate search-back may pick, samples before now */
    aiecg_beat outq[OUTQ_MAX];
    int outq_head, outq_n;
    int simd4; /* stage A may band-pass four leads at once (AVX2, all leads' sections equal) */
};

static int64_t pow2_at_least(int64_t v) {
    int64_t r = 1;
    while (r < v) r <<= 1;
    return r;
}

aiecg_status aiecg_qrs_detector_new(double fs, int nleads, const aiecg_qrs_options *opt,
                                    aiecg_qrs_detector **out) {
    if (!out) return AIECG_ERR_INVALID_ARG;
    *out = NULL;
    if (!(fs >= 50 && fs <= 100000) || nleads < 1 || nleads > AIECG_MAX_LEADS)
        return AIECG_ERR_INVALID_ARG;
    aiecg_qrs_detector *d = aiecg__calloc(1, sizeof *d);
    if (!d) return AIECG_ERR_NOMEM;
    d->fs = fs;
    d->nleads = nleads;
    d->nuse = nleads;
    if (opt && opt->use_leads > 0 && opt->use_leads < nleads) d->nuse = opt->use_leads;
    double refr_ms = opt && opt->refractory_ms > 0 ? opt->refractory_ms : 200;
    d->K = (int)lrint(0.010 * fs);
    if (d->K < 1) d->K = 1;
    d->W = (int)lrint(QRS_WS * fs);
    if (d->W < 2) d->W = 2;
    d->P = (int)lrint(QRS_PS * fs);
    d->refr = (int)lrint(refr_ms * 1e-3 * fs);
    d->t_wave = (int)lrint(QRS_TWIN * fs);
    d->R = pow2_at_least((int64_t)(1.0 * fs) + d->W + d->P + 8);
    d->mask = d->R - 1;
    d->learn_len = (int64_t)lrint(LEARN_S * fs);
    d->max_age = (int64_t)(3.0 * fs);
    d->delay = d->max_age + d->W + d->K + 8 + (int64_t)ceil(0.2 * fs) + d->learn_len;
    for (int l = 0; l < d->nuse; l++) {
        lead_state *ls = &d->lead[l];
        ls->sec[0] = aiecg__biquad_highpass(fs, QRS_HP, 0.70710678);
        aiecg__butter_sections(fs, QRS_LP, 2, 0, &ls->sec[1]);
        ls->bp = aiecg__calloc((size_t)d->R, sizeof(float));
        ls->a = aiecg__calloc((size_t)d->R, sizeof(float));
        ls->mwi = aiecg__calloc((size_t)d->R, sizeof(float));
        if (!ls->bp || !ls->a || !ls->mwi) {
            aiecg_qrs_detector_free(d);
            return AIECG_ERR_NOMEM;
        }
    }
    d->F = aiecg__calloc((size_t)d->R, sizeof(float));
    d->D = aiecg__calloc((size_t)d->R, sizeof(float));
    d->learn = aiecg__calloc((size_t)d->learn_len * (size_t)d->nuse * 3, sizeof(float));
    d->scratch = aiecg__calloc((size_t)d->learn_len * 2, sizeof(float));
    d->hw = (int)lrint(0.060 * fs);
    d->shape_len = d->nuse * (2 * d->hw + 1);
    d->shapes = aiecg__calloc((size_t)NSHAPE * (size_t)d->shape_len, sizeof(float));
    d->cur = aiecg__calloc((size_t)d->shape_len, sizeof(float));
    d->env = aiecg__calloc((size_t)(d->W + d->K + 2), sizeof(float));
    d->sm = (int)lrint(0.040 * fs) | 1;
    if (!d->env || !d->F || !d->D || !d->learn || !d->scratch || !d->shapes || !d->cur) {
        aiecg_qrs_detector_free(d);
        return AIECG_ERR_NOMEM;
    }
    /* group delay of the band-pass near 10 Hz, where QRS energy concentrates */
    {
        double w = 2 * 3.14159265358979 * 10.0 / fs, ph[2];
        for (int j = 0; j < 2; j++) {
            double ww = w * (j ? 1.001 : 0.999), p = 0;
            for (int k = 0; k < 3; k++) {
                const aiecg__biquad *s = &d->lead[0].sec[k];
                p += atan2(-s->b1 * sin(ww) - s->b2 * sin(2 * ww), s->b0 + s->b1 * cos(ww) + s->b2 * cos(2 * ww)) -
                     atan2(-s->a1 * sin(ww) - s->a2 * sin(2 * ww), 1 + s->a1 * cos(ww) + s->a2 * cos(2 * ww));
            }
            ph[j] = p;
        }
        double gd = -(ph[1] - ph[0]) / (w * 0.002);
        d->gd = (int)lrint(gd > 0 ? gd : 0);
    }
    aiecg__qrs_detector_set_plain(d, 0);
    aiecg_qrs_detector_reset(d);
    *out = d;
    return AIECG_OK;
}

void aiecg_qrs_detector_reset(aiecg_qrs_detector *d) {
    if (!d) return;
    d->n = d->nb = 0;
    for (int l = 0; l < d->nuse; l++) {
        lead_state *ls = &d->lead[l];
        memset(ls->z, 0, sizeof ls->z);
        ls->last_finite = 0;
        ls->asum = 0;
        memset(ls->bp, 0, (size_t)d->R * sizeof(float));
        memset(ls->a, 0, (size_t)d->R * sizeof(float));
        memset(ls->mwi, 0, (size_t)d->R * sizeof(float));
        ls->lvl = 0;
        ls->g = 0;
        ls->learn_max = 0;
    }
    memset(d->F, 0, (size_t)d->R * sizeof(float));
    memset(d->D, 0, (size_t)d->R * sizeof(float));
    d->learning = 1;
    d->pk_h = -1;
    d->pk_t = 0;
    d->fmed = 0;
    d->fslow = 0;
    d->ql = d->nl = 0;
    d->have_beat = 0;
    d->last_t = 0;
    d->last_slope = 0;
    d->sl_avg = 0;
    d->nrr = 0;
    d->last_fid = -1;
    d->ncand = 0;
    d->sb_dirty = 0;
    d->decay_at = 0;
    d->outq_head = d->outq_n = 0;
    d->nshape = d->shape_pos = 0;
}

void aiecg_qrs_detector_free(aiecg_qrs_detector *d) {
    if (!d) return;
    for (int l = 0; l < AIECG_MAX_LEADS; l++) {
        aiecg__free(d->lead[l].bp);
        aiecg__free(d->lead[l].a);
        aiecg__free(d->lead[l].mwi);
    }
    aiecg__free(d->F);
    aiecg__free(d->D);
    aiecg__free(d->learn);
    aiecg__free(d->scratch);
    aiecg__free(d->shapes);
    aiecg__free(d->cur);
    aiecg__free(d->env);
    aiecg__free(d);
}

int64_t aiecg_qrs_detector_delay(const aiecg_qrs_detector *d) { return d ? d->delay : 0; }

/* ---- stage B ------------------------------------------------------------ */
static float rr_mean(const aiecg_qrs_detector *d) {
    if (d->nrr == 0) return (float)d->fs;
    float s = 0;
    int n = d->nrr < 8 ? d->nrr : 8;
    for (int i = 0; i < n; i++) s += d->rr[i];
    return s / n;
}

static void emit(aiecg_qrs_detector *d, int64_t fid) {
    if (d->outq_n >= OUTQ_MAX) return; /* caller keeps the queue drained; see _push */
    aiecg_beat *b = &d->outq[(d->outq_head + d->outq_n) % OUTQ_MAX];
    memset(b, 0, sizeof *b);
    b->sample = fid;
    b->label = 'Q';
    b->family = -1;
    b->rr_ms = d->last_fid >= 0 ? (float)((fid - d->last_fid) * 1000.0 / d->fs) : NAN;
    b->width_ms = NAN;
    b->corr = NAN;
    d->outq_n++;
    d->last_fid = fid;
}

/*
 * Lead weights: 1 / QRS level scales every lead alike; a lead whose QRS
 * level stands little above its own non-QRS peaks (noise, artefact) gets a
 * proportionally smaller share. The weights sum to one over usable leads, so
 * the fused function is ~1 at a QRS whatever the number of leads.
 */
static void update_gains(aiecg_qrs_detector *d) {
    float maxlvl = 0;
    for (int l = 0; l < d->nuse; l++)
        if (d->lead[l].g > 0 && d->lead[l].lvl > maxlvl) maxlvl = d->lead[l].lvl;
    float w[AIECG_MAX_LEADS], ws = 0;
    for (int l = 0; l < d->nuse; l++) {
        lead_state *ls = &d->lead[l];
        w[l] = 0;
        if (!(ls->g > 0) || !(ls->lvl > 1e-3f * maxlvl)) continue;
        float snr = ls->nlv > 0 ? ls->lvl / ls->nlv : 10.0f;
        if (snr > 10) snr = 10;
        float q = snr - 1.0f;
        w[l] = q > 0.05f ? QRS_WPOW(q) : 0.05f * 0.05f;
        ws += w[l];
    }
    for (int l = 0; l < d->nuse; l++) {
        lead_state *ls = &d->lead[l];
        if (ls->g > 0 && ws > 0) ls->g = w[l] / ws / ls->lvl;
    }
}

static void accept_beat(aiecg_qrs_detector *d, const cand *c, int searchback) {
    if (d->have_beat) {
        float rr = (float)(c->t - d->last_t);
        memmove(d->rr + 1, d->rr, 7 * sizeof(float));
        d->rr[0] = rr;
        if (d->nrr < 8) d->nrr++;
    }
    /* an artefact taken for a beat must not lock the detector out: cap what one beat adds */
    float h = c->h < QRS_CAP * d->ql ? c->h : QRS_CAP * d->ql;
    if (searchback)
        d->ql = 0.75f * d->ql + 0.25f * h;
    else
        d->ql = 0.875f * d->ql + 0.125f * h;
    d->have_beat = 1;
    d->last_t = c->t;
    /* the slope reference follows the beats, an outsized one counts as 1.5x the average */
    d->sl_avg = d->sl_avg > 0 ? 0.875f * d->sl_avg + 0.125f * (c->slope < 2 * d->sl_avg ? c->slope : 2 * d->sl_avg)
                              : c->slope;
    d->last_slope = c->slope < 1.5f * d->sl_avg ? c->slope : 1.5f * d->sl_avg;
    /* per-lead levels follow each lead's own integral at the beat */
    for (int l = 0; l < d->nuse; l++) {
        lead_state *ls = &d->lead[l];
        float m = c->lm[l] < QRS_CAP * ls->lvl ? c->lm[l] : QRS_CAP * ls->lvl;
        if (ls->g > 0) ls->lvl = 0.875f * ls->lvl + 0.125f * m;
    }
    update_gains(d);
    int64_t fid = c->fid;
    if (d->last_fid >= 0 && fid <= d->last_fid) fid = d->last_fid + 1;
    emit(d, fid);
    d->ncand = 0;
    d->sb_dirty = 0;
    d->decay_at = 0;
}

static float threshold(const aiecg_qrs_detector *d) { return d->nl + QRS_THR * (d->ql - d->nl); }

/*
 * Prominence over the slew-limited follower of the fused function. A peak well
 * above it is a QRS candidate on its own; a lesser one only if its shape
 * repeats one of the last beats (noise does not repeat).
 */
static int prominent(const aiecg_qrs_detector *d, float h, float corr) {
    if (!(h > 1e-12f)) return 0;
    if (!(h > QRS_PROMS * d->fslow)) return 0;
    if (h > QRS_PROM * d->fmed) return 1;
    return h > QRS_PROM2 * d->fmed && corr > QRS_CORR;
}

/* Snapshot of the weighted band-passed leads around ring index c into d->cur; returns its norm. */
static void take_shape(aiecg_qrs_detector *d, int64_t c) {
    int len = 2 * d->hw + 1;
    for (int l = 0; l < d->nuse; l++) {
        float g = d->lead[l].g;
        const float *bp = d->lead[l].bp;
        for (int i = 0; i < len; i++) d->cur[l * len + i] = g * bp[(c - d->hw + i) & d->mask];
    }
}

static float pearson(const float *a, const float *b, int n) {
    double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
    for (int i = 0; i < n; i++) {
        sa += a[i];
        sb += b[i];
        saa += (double)a[i] * a[i];
        sbb += (double)b[i] * b[i];
        sab += (double)a[i] * b[i];
    }
    double va = saa - sa * sa / n, vb = sbb - sb * sb / n;
    if (!(va > 0) || !(vb > 0)) return 0;
    return (float)((sab - sa * sb / n) / sqrt(va * vb));
}

static void try_searchback(aiecg_qrs_detector *d, int64_t now) {
    if (!d->have_beat) return;
    float rm = rr_mean(d);
    if (rm > 1.5f * (float)d->fs) rm = 1.5f * (float)d->fs;
    if ((float)(now - d->last_t) < QRS_SB * rm) return;
    if (now >= d->decay_at) {
        /* nothing for long: lower the QRS level (lock-out recovery) and search again */
        if (d->decay_at > 0) {
            d->ql *= QRS_DECAY;
            if (d->ql < d->nl) d->ql = d->nl;
            d->sb_dirty = 1;
        }
        d->decay_at = now + (int64_t)d->fs;
    }
    if (!d->sb_dirty) return;
    float thr2 = QRS_SBF * threshold(d);
    int best = -1;
    for (int i = 0; i < d->ncand; i++) {
        const cand *c = &d->cands[i];
        if (c->t - d->last_t < d->refr) continue;
        if (now - c->t > d->max_age) continue;
        if (c->t - d->last_t < d->t_wave && c->slope < QRS_TSLOPE * d->last_slope && c->h < QRS_TH * d->ql) continue;
        if (c->h <= thr2 || !prominent(d, c->h, c->corr)) continue;
        if (best < 0 || c->h > d->cands[best].h) best = i;
    }
    d->sb_dirty = 0;
    if (best >= 0) {
        cand c = d->cands[best];
        /* candidates after the chosen one stay candidates for the next search */
        int k = 0;
        for (int i = 0; i < d->ncand; i++)
            if (d->cands[i].t > c.t) d->cands[k++] = d->cands[i];
        accept_beat(d, &c, 1);
        d->ncand = k;
        d->sb_dirty = k > 0;
    }
}

static void on_peak(aiecg_qrs_detector *d, int64_t t, float h) {
    cand c;
    c.t = t;
    c.h = h;
    /* steepest fused slope and fiducial in the window the integral covers: the
       fiducial is the peak of the weighted band-passed magnitude smoothed over
       ~40 ms, i.e. the centre of the QRS energy, which does not jump between
       lobes of similar size from beat to beat */
    float sl = 0;
    int64_t lo = t - d->W - d->K;
    int m = (int)(t - lo + 1);
    for (int64_t k = lo; k <= t; k++) {
        float v = d->D[k & d->mask];
        if (v > sl) sl = v;
        float e = 0;
        for (int l = 0; l < d->nuse; l++) e += d->lead[l].g * fabsf(d->lead[l].bp[k & d->mask]);
        d->env[k - lo] = e;
    }
    int hs = d->sm / 2;
    double acc = 0;
    float best = -1;
    int64_t bi = t;
    for (int j = 0; j < m + hs; j++) {
        if (j < m) acc += d->env[j];
        if (j - d->sm >= 0) acc -= d->env[j - d->sm];
        int centre = j - hs;
        if (centre >= 0 && centre < m && acc > best) {
            best = (float)acc;
            bi = lo + centre;
        }
    }
    c.slope = sl;
    for (int l = 0; l < d->nuse; l++) {
        float mx = 0;
        for (int64_t k = t - d->P / 2; k <= t; k++) {
            float v = d->lead[l].mwi[k & d->mask];
            if (v > mx) mx = v;
        }
        c.lm[l] = mx;
    }
    take_shape(d, bi);
    c.corr = 0;
    for (int i = 0; i < d->nshape; i++) {
        float r = pearson(d->cur, d->shapes + (size_t)i * d->shape_len, d->shape_len);
        if (r > c.corr) c.corr = r;
    }
    c.fid = bi - d->gd;
    if (c.fid < 0) c.fid = 0;
    int is_beat = 0;
#ifdef QRS_TRACE
    fprintf(stderr, "peak %.2f h %.3f thr %.3f ql %.3f nl %.3f fmed %.3f g0 %.4g g1 %.4g lv %.3g %.3g nlv %.3g %.3g sl %.3g/%.3g corr %.2f\n", t / d->fs, h,
            threshold(d), d->ql, d->nl, d->fmed, d->lead[0].g, d->lead[1].g, d->lead[0].lvl, d->lead[1].lvl,
            d->lead[0].nlv, d->lead[1].nlv, sl, d->last_slope, c.corr);
#endif
    if (h > threshold(d) && prominent(d, h, c.corr)) {
        if (!d->have_beat || t - d->last_t >= d->refr) {
            if (d->have_beat && t - d->last_t < d->t_wave && sl < QRS_TSLOPE * d->last_slope && h < QRS_TH * d->ql)
                is_beat = 0;
            else
                is_beat = 1;
        } else {
            return; /* inside the refractory period: ignored */
        }
    }
    if (is_beat) {
        memcpy(d->shapes + (size_t)d->shape_pos * d->shape_len, d->cur, (size_t)d->shape_len * sizeof(float));
        d->shape_pos = (d->shape_pos + 1) % NSHAPE;
        if (d->nshape < NSHAPE) d->nshape++;
        accept_beat(d, &c, 0);
    } else {
        d->nl = 0.875f * d->nl + 0.125f * h;
        for (int l = 0; l < d->nuse; l++) d->lead[l].nlv += QRS_NLVA * (c.lm[l] - d->lead[l].nlv);
        if (d->ncand == CAND_MAX) {
            memmove(d->cands, d->cands + 1, (CAND_MAX - 1) * sizeof(cand));
            d->ncand--;
        }
        d->cands[d->ncand++] = c;
        d->sb_dirty = 1;
    }
}

/*
 * One stage-B step at time nb. Stage A has put this sample's per-lead values
 * in the rings, except on the replay after learning, where vals
 * (vals[l*3 + {0,1,2}] = bp, a, mwi) carries them and they are put back first.
 */
static void stage_b(aiecg_qrs_detector *d, const float *vals) {
    int64_t t = d->nb, k = t & d->mask;
    float f = 0, dd = 0;
    if (vals)
        for (int l = 0; l < d->nuse; l++) {
            lead_state *ls = &d->lead[l];
            ls->bp[k] = vals[3 * l];
            ls->a[k] = vals[3 * l + 1];
            ls->mwi[k] = vals[3 * l + 2];
        }
    for (int l = 0; l < d->nuse; l++) {
        const lead_state *ls = &d->lead[l];
        f += ls->g * ls->mwi[k];
        dd += ls->g * ls->a[k];
    }
    d->F[k] = f;
    d->D[k] = dd;
    /* slew-limited follower of the fused function (sign steps of 2 QL/s, O(1)) and, 20x
       slower, a running median of it (see prominent()) */
    {
        float ref = d->ql > d->fmed ? d->ql : d->fmed;
        float eta = QRS_ETA * (ref > 1e-6f ? ref : 1e-6f) / (float)d->fs;
        d->fmed += f > d->fmed ? eta : -eta;
        if (d->fmed < 0) d->fmed = 0;
        float eta2 = QRS_ETAS * (ref > 1e-6f ? ref : 1e-6f) / (float)d->fs;
        d->fslow += f > d->fslow ? eta2 : -eta2;
        if (d->fslow < 0) d->fslow = 0;
    }
    /* local-maximum tracking over +-P */
    if (f > d->pk_h) {
        d->pk_h = f;
        d->pk_t = t;
    } else if (t - d->pk_t >= d->P) {
        int ok = d->pk_h > 0;
        for (int64_t j = d->pk_t - d->P; ok && j < d->pk_t; j++)
            if (j >= 0 && d->F[j & d->mask] >= d->pk_h) ok = 0;
        if (ok) on_peak(d, d->pk_t, d->pk_h);
        /* restart from the highest value after the old peak */
        d->pk_h = -1;
        for (int64_t j = d->pk_t + 1; j <= t; j++)
            if (d->F[j & d->mask] > d->pk_h) {
                d->pk_h = d->F[j & d->mask];
                d->pk_t = j;
            }
    }
    try_searchback(d, t);
    d->nb++;
}

/* Ends learning: initial lead levels and thresholds from the buffered samples, then replay. */
static void end_learning(aiecg_qrs_detector *d) {
    int64_t n = d->n < d->learn_len ? d->n : d->learn_len;
    float maxlvl = 0;
    for (int l = 0; l < d->nuse; l++) {
        float m = 0;
        for (int64_t i = 0; i < n; i++) {
            float v = d->learn[((size_t)i * d->nuse + l) * 3 + 2];
            if (v > m) m = v;
        }
        d->lead[l].learn_max = m;
        if (m > maxlvl) maxlvl = m;
    }
    /* a lead whose integral never exceeds 1e-4 mV per sample of window carries no ECG */
    float floor_abs = 1e-4f * (float)d->W;
    for (int l = 0; l < d->nuse; l++) {
        lead_state *ls = &d->lead[l];
        ls->lvl = 0.5f * ls->learn_max;
        ls->nlv = 0;
        ls->g = (ls->learn_max > floor_abs && ls->learn_max > 1e-3f * maxlvl) ? 1.0f / ls->lvl : 0;
    }
    update_gains(d);
    double fmax = 0, fsum = 0;
    for (int64_t i = 0; i < n; i++) {
        double f = 0;
        for (int l = 0; l < d->nuse; l++) f += d->lead[l].g * d->learn[((size_t)i * d->nuse + l) * 3 + 2];
        if (f > fmax) fmax = f;
        fsum += f;
    }
    d->ql = (float)(fmax / 3.0 * 1.5);
    d->nl = n ? (float)(0.5 * fsum / n) : 0;
    /* exact median of the learning window seeds the tracker */
    for (int64_t i = 0; i < n; i++) {
        double f = 0;
        for (int l = 0; l < d->nuse; l++) f += d->lead[l].g * d->learn[((size_t)i * d->nuse + l) * 3 + 2];
        d->scratch[i] = (float)f;
    }
    d->fmed = n ? aiecg__median_f(d->scratch, (int)n, d->scratch + d->learn_len) : 0;
    d->fslow = d->fmed;
    d->learning = 0;
    for (int64_t i = 0; i < n; i++) stage_b(d, d->learn + (size_t)i * d->nuse * 3);
}

static int drain_out(aiecg_qrs_detector *d, aiecg_beat *out, int max_out, int *nout) {
    while (d->outq_n > 0 && *nout < max_out) {
        out[(*nout)++] = d->outq[d->outq_head];
        d->outq_head = (d->outq_head + 1) % OUTQ_MAX;
        d->outq_n--;
    }
    return d->outq_n > 0;
}

/*
 * Stage A for m samples of one lead starting at time t0 (lead-major, so each
 * lead's filter chain runs in a tight loop): band-pass, |derivative|,
 * moving integral, into the rings and, while learning, the learn buffer.
 */
static void stage_a(aiecg_qrs_detector *d, int l, const float *in, int64_t m, int64_t t0) {
    lead_state *ls = &d->lead[l];
    const int64_t mask = d->mask, K = d->K, W = d->W;
    float *bp = ls->bp, *ab = ls->a, *mw = ls->mwi;
    float *learn = d->learning ? d->learn : NULL;
    const int nuse = d->nuse;
    double z00 = ls->z[0][0], z01 = ls->z[0][1], z10 = ls->z[1][0], z11 = ls->z[1][1], z20 = ls->z[2][0],
           z21 = ls->z[2][1];
    const aiecg__biquad q0 = ls->sec[0], q1 = ls->sec[1], q2 = ls->sec[2];
    double asum = ls->asum;
    float last = ls->last_finite;
    for (int64_t j = 0; j < m; j++) {
        int64_t t = t0 + j;
        float x = in[j];
        if (!isfinite(x)) x = last;
        if (t == 0) {
            /* start in the steady state of the first value: no step transient */
            double v = x, zz[3][2];
            const aiecg__biquad *qs[3] = {&q0, &q1, &q2};
            for (int s2 = 0; s2 < 3; s2++) {
                const aiecg__biquad *q = qs[s2];
                double g = (q->b0 + q->b1 + q->b2) / (1 + q->a1 + q->a2), y = g * v;
                zz[s2][1] = q->b2 * v - q->a2 * y;
                zz[s2][0] = q->b1 * v - q->a1 * y + zz[s2][1];
                v = y;
            }
            z00 = zz[0][0], z01 = zz[0][1], z10 = zz[1][0], z11 = zz[1][1], z20 = zz[2][0], z21 = zz[2][1];
        }
        last = x;
        double y0 = q0.b0 * x + z00;
        z00 = q0.b1 * x - q0.a1 * y0 + z01;
        z01 = q0.b2 * x - q0.a2 * y0;
        double y1 = q1.b0 * y0 + z10;
        z10 = q1.b1 * y0 - q1.a1 * y1 + z11;
        z11 = q1.b2 * y0 - q1.a2 * y1;
        double y2 = q2.b0 * y1 + z20;
        z20 = q2.b1 * y1 - q2.a1 * y2 + z21;
        z21 = q2.b2 * y1 - q2.a2 * y2;
        float v = (float)y2;
        int64_t k = t & mask;
        /* the rings start zeroed, so reads before time K or W give 0 */
        float a = fabsf(v - bp[(t - K) & mask]);
        asum += (double)a - ab[(t - W) & mask];
        if (asum < 0) asum = 0;
        bp[k] = v;
        ab[k] = a;
        mw[k] = (float)asum;
        if (learn) {
            float *o = learn + ((size_t)t * nuse + l) * 3;
            o[0] = v;
            o[1] = a;
            o[2] = (float)asum;
        }
    }
    ls->z[0][0] = z00, ls->z[0][1] = z01, ls->z[1][0] = z10, ls->z[1][1] = z11, ls->z[2][0] = z20,
    ls->z[2][1] = z21;
    ls->asum = asum;
    ls->last_finite = last;
}

/* Stage A for leads l..l+3 with their band-pass in one AVX2 pass (t0 > 0: the steady-state
   start at t = 0 is the plain loop's), then each lead's derivative and integral as stage_a. */
static void stage_a4(aiecg_qrs_detector *d, int l, const float *const *in, int64_t m, int64_t t0) {
#if defined(__x86_64__) || defined(_M_X64)
    float v[4 * 128];
    double z[4][3][2];
    float last[4];
    for (int q = 0; q < 4; q++) {
        memcpy(z[q], d->lead[l + q].z, sizeof z[q]);
        last[q] = d->lead[l + q].last_finite;
    }
    aiecg__qrs_bandpass4_avx2(d->lead[l].sec, z, last, in, m, v);
    const int64_t mask = d->mask, K = d->K, W = d->W;
    const int nuse = d->nuse;
    for (int q = 0; q < 4; q++) {
        lead_state *ls = &d->lead[l + q];
        memcpy(ls->z, z[q], sizeof z[q]);
        ls->last_finite = last[q];
        float *bp = ls->bp, *ab = ls->a, *mw = ls->mwi;
        float *learn = d->learning ? d->learn : NULL;
        double asum = ls->asum;
        for (int64_t j = 0; j < m; j++) {
            int64_t t = t0 + j, k = t & mask;
            float x = v[4 * j + q];
            float a = fabsf(x - bp[(t - K) & mask]);
            asum += (double)a - ab[(t - W) & mask];
            if (asum < 0) asum = 0;
            bp[k] = x;
            ab[k] = a;
            mw[k] = (float)asum;
            if (learn) {
                float *o = learn + ((size_t)t * nuse + (l + q)) * 3;
                o[0] = x;
                o[1] = a;
                o[2] = (float)asum;
            }
        }
        ls->asum = asum;
    }
#else
    for (int q = 0; q < 4; q++) stage_a(d, l + q, in[q], m, t0);
#endif
}

void aiecg__qrs_detector_set_plain(aiecg_qrs_detector *d, int plain) {
    if (!d) return;
    d->simd4 = 0;
#if defined(__x86_64__) || defined(_M_X64)
    if (!plain && (aiecg_cpu_features() & AIECG_CPU_AVX2)) {
        d->simd4 = 1;
        for (int l = 1; l < d->nuse; l++)
            d->simd4 &= memcmp(d->lead[l].sec, d->lead[0].sec, sizeof d->lead[0].sec) == 0;
    }
#endif
}

int64_t aiecg__qrs_detector_rings(const aiecg_qrs_detector *d, int l, const float **bp, const float **a,
                                  const float **mwi) {
    if (!d || l < 0 || l >= d->nuse) return 0;
    *bp = d->lead[l].bp;
    *a = d->lead[l].a;
    *mwi = d->lead[l].mwi;
    return d->R;
}

aiecg_status aiecg_qrs_detector_push(aiecg_qrs_detector *d, const float *const *leads, int64_t n,
                                     aiecg_beat *out, int max_out, int *nout) {
    if (!d || !nout || (n > 0 && !leads)) return AIECG_ERR_INVALID_ARG;
    *nout = 0;
    aiecg_status st = AIECG_OK;
    /* blocks short enough that stage A never runs a ring length ahead of stage B,
       and split at the end of learning (the replay rewrites ring slots) */
    const int64_t B = d->R / 4 < 128 ? d->R / 4 : 128;
    for (int64_t i = 0; i < n;) {
        int64_t m = n - i < B ? n - i : B;
        if (d->learning && d->n + m > d->learn_len) m = d->learn_len - d->n;
        int l = 0;
        if (d->simd4 && d->n > 0 && m <= 128)
            for (; l + 4 <= d->nuse; l += 4) {
                const float *in4[4] = {leads[l] + i, leads[l + 1] + i, leads[l + 2] + i, leads[l + 3] + i};
                stage_a4(d, l, in4, m, d->n);
            }
        for (; l < d->nuse; l++) stage_a(d, l, leads[l] + i, m, d->n);
        if (d->learning) {
            d->n += m;
            if (d->n >= d->learn_len) end_learning(d);
        } else {
            for (int64_t j = 0; j < m; j++) {
                d->n++;
                stage_b(d, NULL);
            }
        }
        i += m;
        if (d->outq_n > OUTQ_MAX / 2 && drain_out(d, out, max_out, nout)) st = AIECG_ERR_LIMIT;
    }
    if (drain_out(d, out, max_out, nout)) st = AIECG_ERR_LIMIT;
    return st;
}

aiecg_status aiecg_qrs_detector_finish(aiecg_qrs_detector *d, aiecg_beat *out, int max_out, int *nout) {
    if (!d || !nout) return AIECG_ERR_INVALID_ARG;
    *nout = 0;
    if (d->learning && d->n > 0) end_learning(d);
    /* confirm a peak still open at the end, then a final search-back over what is left */
    if (d->pk_h > 0) {
        int ok = 1;
        for (int64_t j = d->pk_t - d->P; ok && j < d->pk_t; j++)
            if (j >= 0 && d->F[j & d->mask] >= d->pk_h) ok = 0;
        if (ok && d->nb - d->pk_t >= d->W / 2) on_peak(d, d->pk_t, d->pk_h);
        d->pk_h = -1;
    }
    try_searchback(d, d->nb);
    return drain_out(d, out, max_out, nout) ? AIECG_ERR_LIMIT : AIECG_OK;
}

/* ---- batch --------------------------------------------------------------- */
aiecg_status aiecg_qrs_detect(const aiecg_record *rec, const aiecg_qrs_options *opt, aiecg_beat **beats,
                              int64_t *nbeats, aiecg_error *err) {
    if (!rec || !beats || !nbeats)
        return aiecg__error_set(err, AIECG_ERR_INVALID_ARG, "qrs_detect: NULL argument");
    *beats = NULL;
    *nbeats = 0;
    double fs = aiecg_record_fs(rec);
    int nl = aiecg_record_nleads(rec);
    int64_t n = aiecg_record_nsamples(rec);
    if (fs < 50)
        return aiecg__error_set(err, AIECG_ERR_UNSUPPORTED,
                                "qrs_detect: sampling rate %g Hz is below the 50 Hz the detector needs", fs);
    /* With I and II present, III, aVR, aVL and aVF are linear combinations of them
       and add nothing to the fused function but cost: leave them out. */
    int sel[AIECG_MAX_LEADS], nsel = 0;
    int has_i = aiecg_record_find_lead(rec, AIECG_LEAD_I) >= 0, has_ii = aiecg_record_find_lead(rec, AIECG_LEAD_II) >= 0;
    for (int l = 0; l < nl; l++) {
        aiecg_lead_info li;
        int redundant = 0;
        if (has_i && has_ii && aiecg_record_lead_info(rec, l, &li) == AIECG_OK)
            redundant = li.lead == AIECG_LEAD_III || li.lead == AIECG_LEAD_AVR || li.lead == AIECG_LEAD_AVL ||
                        li.lead == AIECG_LEAD_AVF;
        if (!redundant) sel[nsel++] = l;
    }
    aiecg_qrs_detector *d = NULL;
    aiecg_status st = aiecg_qrs_detector_new(fs, nsel, opt, &d);
    if (st) return aiecg__error_set(err, st, "qrs_detect: cannot create detector: %s", aiecg_strerror(st));
    int64_t cap = 1024, cnt = 0;
    aiecg_beat *b = aiecg__malloc((size_t)cap * sizeof *b);
    aiecg_beat chunk_out[OUTQ_MAX];
    const float *ptr[AIECG_MAX_LEADS];
    if (!b) {
        aiecg_qrs_detector_free(d);
        return aiecg__error_set(err, AIECG_ERR_NOMEM, "qrs_detect: out of memory");
    }
    const int64_t CH = 4096;
    for (int64_t i = 0; i < n + CH && !st; i += CH) {
        int got = 0;
        if (i < n) {
            for (int l = 0; l < nsel; l++) ptr[l] = aiecg_record_lead_data(rec, sel[l]) + i;
            st = aiecg_qrs_detector_push(d, ptr, AIECG__MIN(CH, n - i), chunk_out, OUTQ_MAX, &got);
        } else {
            st = aiecg_qrs_detector_finish(d, chunk_out, OUTQ_MAX, &got);
        }
        if (cnt + got > cap) {
            int64_t nc = cap * 2 + got;
            aiecg_beat *nb = aiecg__realloc(b, (size_t)nc * sizeof *nb);
            if (!nb) {
                st = AIECG_ERR_NOMEM;
                break;
            }
            b = nb;
            cap = nc;
        }
        memcpy(b + cnt, chunk_out, (size_t)got * sizeof *b);
        cnt += got;
        if (i >= n) break;
    }
    aiecg_qrs_detector_free(d);
    if (!st && cnt > 0) st = aiecg__beats_classify(rec, b, cnt);
    if (st) {
        aiecg__free(b);
        return aiecg__error_set(err, st, "qrs_detect: %s", aiecg_strerror(st));
    }
    *beats = b;
    *nbeats = cnt;
    return AIECG_OK;
}
