/*
 * Beat features, families and the representative (median) beat.
 *
 * Each beat is described on the baseline-removed signal by its RR interval,
 * a QRS width estimate (span around the fiducial where the lead-summed
 * absolute slope stays above 15 % of its peak, the slope criterion of
 * classic Holter beat typing) and its waveform from -100 ms to +150 ms on up
 * to three leads. Beats are grouped greedily into families by correlation
 * with running family templates (correlation >= 0.90 and amplitude within
 * 0.6..1.6 of the template); the dominant family is the most populous one of
 * normal width (< 120 ms) and is renumbered 0. Labels: dominant-family beats
 * and other narrow families that are not premature are 'N'; narrow premature
 * beats (RR < 85 % of the local mean) 'S'; wide or dissimilar families 'V';
 * beats preceded by a pacemaker spike 'P'; beats too near an edge 'Q'.
 * This is a morphology grouping, not an AAMI-validated classifier.
 *
 * The median beat is the sample-wise median across the beats of a family,
 * which suppresses ectopics and noise better than the mean (the
 * "representative beat" of IEC 60601-2-25 measurement programs).
 */
#include "dsp/dsp_int.h"

#include <math.h>
#if defined(__SSE__) || defined(_M_X64)
#include <xmmintrin.h>
#endif
#include <stdlib.h>
#include <string.h>

#define MAX_FAM 24
#define MAX_CLS_LEADS 3
#define MEDIAN_MAX_BEATS 300
#ifndef BEAT_FAMCORR
#define BEAT_FAMCORR 0.85f
#endif
#ifndef BEAT_VRULE
#define BEAT_VRULE wide && cd < 0.8f && off_time
#endif

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* k-th smallest of x[n] by Hoare selection (Wirth's form), O(n) on average, reordering x so
   that x[0..k-1] <= x[k] <= x[k+1..]. Same value as sorting and indexing. */
static float select_k(float *x, int n, int k) {
    int lo = 0, hi = n - 1;
    while (lo < hi) {
        float piv = x[lo + (hi - lo) / 2];
        int i = lo, j = hi;
        do {
            while (x[i] < piv) i++;
            while (piv < x[j]) j--;
            if (i <= j) {
                float t = x[i];
                x[i] = x[j];
                x[j] = t;
                i++;
                j--;
            }
        } while (i <= j);
        if (j < k) lo = i;
        if (k < i) hi = j;
    }
    return x[k];
}

float aiecg__median_inplace(float *x, int n) {
    if (n <= 0) return NAN;
    for (int i = 0; i < n; i++)
        if (x[i] != x[i]) { /* NaN: keep the sort-based definition */
            qsort(x, (size_t)n, sizeof *x, cmp_float);
            return n % 2 ? x[n / 2] : 0.5f * (x[n / 2 - 1] + x[n / 2]);
        }
    if (n <= 24) { /* small sets (a 10 s record has ~12 beats): insertion sort, same value */
        for (int i = 1; i < n; i++) {
            float t = x[i];
            int j = i - 1;
            while (j >= 0 && x[j] > t) {
                x[j + 1] = x[j];
                j--;
            }
            x[j + 1] = t;
        }
        return n % 2 ? x[n / 2] : 0.5f * (x[n / 2 - 1] + x[n / 2]);
    }
    float hi = select_k(x, n, n / 2);
    if (n % 2) return hi;
    float lo = x[0];
    for (int i = 1; i < n / 2; i++)
        if (x[i] > lo) lo = x[i];
    return 0.5f * (lo + hi);
}

/*
 * Sample-wise median of m rows: out[t] = median_r rows[r][t], t < len. For m <= 32 the
 * values of eight consecutive t are sorted together by Batcher's odd-even merge network
 * (Knuth, TAOCP vol. 3, 5.3.4), pruned to m inputs (rows past m would hold +inf, which no
 * comparator moves, so comparators that touch them are dropped); each compare-exchange is
 * a min and a max across the eight lanes, which the compiler turns into vector code.
 * Larger m, or any NaN in a block, use the per-t selection. Same values as sorting.
 */
#define MR_LANES 8
#define MR_NET_MAX 32

/* Compare-exchange of eight lanes: lo = x < y ? x : y, hi = x < y ? y : x. SSE: minps(x, y)
   is exactly x < y ? x : y and maxps(y, x) exactly y > x ? y : x, so both forms agree to the
   bit (ties and signed zeros included); the plain C form is the twin for other targets. */
static inline void cx_lanes(float *restrict lo, float *restrict hi) {
#if defined(__SSE__) || defined(_M_X64)
    for (int p = 0; p < MR_LANES; p += 4) {
        __m128 x = _mm_loadu_ps(lo + p), y = _mm_loadu_ps(hi + p);
        _mm_storeu_ps(lo + p, _mm_min_ps(x, y));
        _mm_storeu_ps(hi + p, _mm_max_ps(y, x));
    }
#else
    for (int p = 0; p < MR_LANES; p++) {
        float x = lo[p], y = hi[p];
        lo[p] = x < y ? x : y;
        hi[p] = x < y ? y : x;
    }
#endif
}

static int batcher_pairs(int m, short (*pr)[2]) {
    int P = 1, np = 0;
    while (P < m) P <<= 1;
    for (int p = 1; p < P; p <<= 1)
        for (int k = p; k >= 1; k >>= 1)
            for (int j = k % p; j + k < P; j += 2 * k)
                for (int i = 0; i < k && i + j + k < P; i++)
                    if ((i + j) / (2 * p) == (i + j + k) / (2 * p) && i + j + k < m) {
                        pr[np][0] = (short)(i + j);
                        pr[np][1] = (short)(i + j + k);
                        np++;
                    }
    return np;
}

aiecg_status aiecg__median_rows(const float *const *rows, int m, int len, float *out) {
    if (m <= 0 || len <= 0) {
        for (int t = 0; t < len; t++) out[t] = NAN;
        return AIECG_OK;
    }
    float colbuf[512], *col = m <= 512 ? colbuf : aiecg__malloc((size_t)m * sizeof *col);
    if (!col) return AIECG_ERR_NOMEM;
    int t = 0;
    if (m <= MR_NET_MAX && m > 1) {
        short pr[256][2]; /* 191 comparators for 32 inputs */
        int np = batcher_pairs(m, pr);
        float b[MR_NET_MAX][MR_LANES];
        for (; t + MR_LANES <= len; t += MR_LANES) {
            int nan = 0;
            for (int r = 0; r < m; r++)
                for (int p = 0; p < MR_LANES; p++) {
                    float v = rows[r][t + p];
                    b[r][p] = v;
                    nan |= v != v;
                }
            if (nan) {
                for (int p = 0; p < MR_LANES; p++) {
                    for (int r = 0; r < m; r++) col[r] = rows[r][t + p];
                    out[t + p] = aiecg__median_inplace(col, m);
                }
                continue;
            }
            for (int c = 0; c < np; c++) cx_lanes(b[pr[c][0]], b[pr[c][1]]);
            for (int p = 0; p < MR_LANES; p++)
                out[t + p] = m % 2 ? b[m / 2][p] : 0.5f * (b[m / 2 - 1][p] + b[m / 2][p]);
        }
    }
    for (; t < len; t++) {
        for (int r = 0; r < m; r++) col[r] = rows[r][t];
        out[t] = aiecg__median_inplace(col, m);
    }
    if (col != colbuf) aiecg__free(col);
    return AIECG_OK;
}

float aiecg__median_f(const float *x, int n, float *scratch) {
    if (n <= 0) return NAN;
    memcpy(scratch, x, (size_t)n * sizeof *x);
    return aiecg__median_inplace(scratch, n);
}

/* Baseline-removed copies of the first nl leads (non-finite samples zeroed). */
static aiecg_status clean_leads(const aiecg_record *rec, int nl, float **out) {
    int64_t n = aiecg_record_nsamples(rec);
    double fs = aiecg_record_fs(rec);
    for (int l = 0; l < nl; l++) out[l] = NULL;
    for (int l = 0; l < nl; l++) {
        out[l] = aiecg__malloc((size_t)(n > 0 ? n : 1) * sizeof(float));
        if (!out[l]) return AIECG_ERR_NOMEM;
        const float *x = aiecg_record_lead_data(rec, l);
        for (int64_t i = 0; i < n; i++) out[l][i] = isfinite(x[i]) ? x[i] : 0.0f;
    }
    return aiecg__filter_baseline_multi(out, nl, n, fs); /* = aiecg_filter_baseline per lead */
}

static void free_leads(float **x, int nl) {
    for (int l = 0; l < nl; l++) aiecg__free(x[l]);
}

typedef struct fam_t {
    float *tmpl; /* [len] */
    double norm;
    int count;
    float width_ms; /* mean */
} fam_t;

static float corr_vec(const float *a, const float *b, int n, double *ratio) {
    double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
    for (int i = 0; i < n; i++) {
        sa += a[i];
        sb += b[i];
        saa += (double)a[i] * a[i];
        sbb += (double)b[i] * b[i];
        sab += (double)a[i] * b[i];
    }
    double va = saa - sa * sa / n, vb = sbb - sb * sb / n;
    if (ratio) *ratio = vb > 0 ? sqrt(va / vb) : 0;
    if (!(va > 0) || !(vb > 0)) return 0;
    return (float)((sab - sa * sb / n) / sqrt(va * vb));
}

/* Pacemaker spike: a step of > 0.5 mV within 2 ms in any lead, in the 80 ms before the fiducial. */
static int paced(const aiecg_record *rec, int64_t s, double fs) {
    int64_t n = aiecg_record_nsamples(rec);
    int k = (int)ceil(0.002 * fs);
    if (fs < 500) return 0; /* spikes are not resolved reliably below 500 Hz */
    for (int l = 0; l < aiecg_record_nleads(rec); l++) {
        const float *x = aiecg_record_lead_data(rec, l);
        for (int64_t i = s - (int64_t)(0.08 * fs); i <= s; i++) {
            if (i - k < 0 || i >= n) continue;
            float d = x[i] - x[i - k];
            if (fabsf(d) > 0.5f) {
                /* a spike returns: the next 2 ms go back the other way */
                if (i + k < n && fabsf(x[i + k] - x[i]) > 0.5f * fabsf(d) && (x[i + k] - x[i]) * d < 0)
                    return 1;
            }
        }
    }
    return 0;
}

aiecg_status aiecg__beats_classify(const aiecg_record *rec, aiecg_beat *beats, int64_t nbeats) {
    double fs = aiecg_record_fs(rec);
    int64_t n = aiecg_record_nsamples(rec);
    int nl = aiecg_record_nleads(rec);
    if (nl > MAX_CLS_LEADS) nl = MAX_CLS_LEADS;
    for (int64_t i = 0; i < nbeats; i++) {
        beats[i].rr_ms = i ? (float)((beats[i].sample - beats[i - 1].sample) * 1000.0 / fs) : NAN;
        beats[i].label = 'Q';
        beats[i].family = -1;
        beats[i].width_ms = NAN;
        beats[i].corr = NAN;
    }
    if (nbeats == 0) return AIECG_OK;
    float *x[MAX_CLS_LEADS];
    aiecg_status st = clean_leads(rec, nl, x);
    int pre = (int)lrint(0.100 * fs), post = (int)lrint(0.150 * fs);
    int seg = pre + post, len = seg * nl;
    fam_t fam[MAX_FAM];
    int nfam = 0;
    float *v = aiecg__malloc((size_t)len * sizeof *v);
    int *famidx = aiecg__malloc((size_t)nbeats * sizeof *famidx);
    if (!v || !famidx) st = st ? st : AIECG_ERR_NOMEM;
    for (int64_t i = 0; i < nbeats && !st; i++) {
        famidx[i] = -1;
        int64_t s = beats[i].sample;
        if (s - pre < 0 || s + post > n) continue;
        for (int l = 0; l < nl; l++) memcpy(v + l * seg, x[l] + s - pre, (size_t)seg * sizeof(float));
        /* width: lead-summed |slope| above 15 % of its peak, contiguous around the fiducial */
        {
            int w = (int)lrint(0.1 * fs), c = pre, lo = c, hi = c, k = (int)fmax(1, lrint(0.004 * fs));
            float peak = 0, sl[1024];
            int m = 2 * w + 1 < 1024 ? 2 * w + 1 : 1024;
            w = (m - 1) / 2;
            for (int j = 0; j < m; j++) {
                int64_t t = s - w + j;
                float a = 0;
                for (int l = 0; l < nl; l++)
                    if (t - k >= 0 && t + k < n) a += fabsf(x[l][t + k] - x[l][t - k]);
                sl[j] = a;
                if (a > peak) peak = a;
            }
            int cj = w;
            /* start from the steepest point within 40 ms of the fiducial */
            int r40 = (int)lrint(0.04 * fs);
            for (int j = w - r40; j <= w + r40; j++)
                if (j >= 0 && j < m && sl[j] > sl[cj]) cj = j;
            /* extend over gaps of up to 30 ms below the threshold: the slope vanishes at the
               apex of each wave inside a broad QRS */
            int gap = (int)lrint(0.030 * fs);
            lo = hi = cj;
            for (int j = cj - 1; j >= 0 && lo - j <= gap; j--)
                if (sl[j] > 0.15f * peak) lo = j;
            for (int j = cj + 1; j < m && j - hi <= gap; j++)
                if (sl[j] > 0.15f * peak) hi = j;
            (void)c;
            beats[i].width_ms = (float)((hi - lo + 2 * k) * 1000.0 / fs);
        }
        int best = -1;
        float bc = -1;
        double bratio = 0;
        for (int f = 0; f < nfam; f++) {
            double ratio;
            float r = corr_vec(v, fam[f].tmpl, len, &ratio);
            if (r > bc) {
                bc = r;
                best = f;
                bratio = ratio;
            }
        }
        if (best >= 0 && bc >= BEAT_FAMCORR && bratio > 0.6 && bratio < 1.6) {
            fam_t *F = &fam[best];
            float a = F->count < 16 ? 1.0f / (F->count + 1) : 1.0f / 16;
            for (int j = 0; j < len; j++) F->tmpl[j] += a * (v[j] - F->tmpl[j]);
            F->width_ms += a * (beats[i].width_ms - F->width_ms);
            F->count++;
            famidx[i] = best;
            beats[i].corr = bc;
        } else if (nfam < MAX_FAM) {
            fam_t *F = &fam[nfam];
            F->tmpl = aiecg__malloc((size_t)len * sizeof(float));
            if (!F->tmpl) {
                st = AIECG_ERR_NOMEM;
                break;
            }
            memcpy(F->tmpl, v, (size_t)len * sizeof(float));
            F->count = 1;
            F->width_ms = beats[i].width_ms;
            famidx[i] = nfam++;
            beats[i].corr = 1.0f;
        } else if (best >= 0) {
            famidx[i] = best; /* no room: nearest family */
            fam[best].count++;
            beats[i].corr = bc > 0 ? bc : 0;
        }
    }
    if (!st && nfam > 0) {
        /* order families by size; the dominant is the largest of normal width */
        int order[MAX_FAM], rank[MAX_FAM];
        for (int f = 0; f < nfam; f++) order[f] = f;
        for (int a = 1; a < nfam; a++)
            for (int b = a; b > 0 && fam[order[b]].count > fam[order[b - 1]].count; b--) {
                int t = order[b];
                order[b] = order[b - 1];
                order[b - 1] = t;
            }
        int dom = 0;
        for (int a = 0; a < nfam; a++)
            if (fam[order[a]].width_ms < 120 && fam[order[a]].count * 4 >= fam[order[0]].count) {
                dom = a;
                break;
            }
        int t = order[dom];
        memmove(order + 1, order, (size_t)dom * sizeof *order);
        order[0] = t;
        for (int a = 0; a < nfam; a++) rank[order[a]] = a;
        const fam_t *D = &fam[order[0]];
        for (int64_t i = 0; i < nbeats; i++) {
            if (famidx[i] < 0) continue;
            int f = rank[famidx[i]];
            beats[i].family = f;
            const fam_t *F = &fam[famidx[i]];
            double ratio;
            float cd = f == 0 ? 1.0f : corr_vec(F->tmpl, D->tmpl, len, &ratio);
            /* wide against a narrow dominant rhythm, or much wider than a wide one (BBB) */
            int wide = (F->width_ms >= 120 && D->width_ms < 110) || F->width_ms > D->width_ms + 40;
            /* local mean RR from the neighbouring dominant-family beats */
            double rr_loc = 0;
            int nr = 0;
            for (int64_t j = i - 8; j <= i + 8; j++)
                if (j > 0 && j < nbeats && j != i && isfinite(beats[j].rr_ms) && famidx[j] >= 0 &&
                    rank[famidx[j]] == 0) {
                    rr_loc += beats[j].rr_ms;
                    nr++;
                }
            rr_loc = nr ? rr_loc / nr : NAN;
            int premature = isfinite(beats[i].rr_ms) && nr >= 2 && beats[i].rr_ms < 0.85 * rr_loc;
            /* a different morphology on time is a conduction change (bundle branch block,
               pacing without a visible spike), not an ectopic: ectopics are early or late */
            int off_time = !isfinite(beats[i].rr_ms) || nr < 2 || beats[i].rr_ms < 0.92 * rr_loc ||
                           beats[i].rr_ms > 1.3 * rr_loc;
            if (paced(rec, beats[i].sample, fs))
                beats[i].label = 'P';
            else if (f != 0 && (BEAT_VRULE))
                beats[i].label = 'V';
            else if (premature)
                beats[i].label = 'S';
            else
                beats[i].label = 'N';
        }
    }
    for (int f = 0; f < nfam; f++) aiecg__free(fam[f].tmpl);
    aiecg__free(v);
    aiecg__free(famidx);
    free_leads(x, nl);
    return st;
}

/* The beats median_beat uses (window inside [0, n), the family or 'N' else all, at most
   MEDIAN_MAX_BEATS evenly spread). sel has nbeats slots; returns the count. */
static int64_t median_select(const aiecg_beat *beats, int64_t nbeats, int64_t n, int family, int pre, int post,
                             int64_t *sel) {
    int64_t ns = 0;
    for (int pass = 0; pass < 2 && ns == 0; pass++)
        for (int64_t i = 0; i < nbeats; i++) {
            int64_t s = beats[i].sample;
            if (s - pre < 0 || s + post > n) continue;
            int ok = pass == 1 || (family >= 0 ? beats[i].family == family : beats[i].label == 'N');
            if (ok) sel[ns++] = s;
        }
    int64_t use = ns < MEDIAN_MAX_BEATS ? ns : MEDIAN_MAX_BEATS;
    for (int64_t k = 0; k < use; k++) sel[k] = sel[k * ns / use];
    return use;
}

static aiecg_status median_of(const float *seg, const int64_t *sel, int64_t use, int pre, int len, float *out) {
    const float *rows[MEDIAN_MAX_BEATS];
    for (int64_t k = 0; k < use; k++) rows[k] = seg + sel[k] - pre;
    return aiecg__median_rows(rows, (int)use, len, out);
}

aiecg_status aiecg__median_beat_lead(const float *clean, int64_t n, const aiecg_beat *beats, int64_t nbeats,
                                     int family, int pre, int post, float *out, int *nused) {
    if (nused) *nused = 0;
    if (!clean || !out || pre < 0 || post < 1 || (nbeats > 0 && !beats)) return AIECG_ERR_INVALID_ARG;
    int len = pre + post;
    memset(out, 0, (size_t)len * sizeof *out);
    int64_t *sel = aiecg__malloc((size_t)(nbeats > 0 ? nbeats : 1) * sizeof *sel);
    if (!sel) return AIECG_ERR_NOMEM;
    int64_t use = median_select(beats, nbeats, n, family, pre, post, sel);
    if (use == 0) {
        aiecg__free(sel);
        return AIECG_ERR_INVALID_ARG;
    }
    aiecg_status st = median_of(clean, sel, use, pre, len, out);
    aiecg__free(sel);
    if (st) return st;
    if (nused) *nused = (int)use;
    return AIECG_OK;
}

aiecg_status aiecg__median_beat(const aiecg_record *rec, const aiecg_beat *beats, int64_t nbeats,
                                int family, int pre, int post, float *out, int *nused) {
    if (nused) *nused = 0;
    if (!rec || !out || pre < 0 || post < 1 || (nbeats > 0 && !beats)) return AIECG_ERR_INVALID_ARG;
    int nl = aiecg_record_nleads(rec);
    int64_t n = aiecg_record_nsamples(rec);
    int len = pre + post;
    memset(out, 0, (size_t)nl * (size_t)len * sizeof *out);
    /* choose the beats: the family, or 'N' beats, or all */
    int64_t *sel = aiecg__malloc((size_t)(nbeats > 0 ? nbeats : 1) * sizeof *sel);
    if (!sel) return AIECG_ERR_NOMEM;
    int64_t use = median_select(beats, nbeats, n, family, pre, post, sel);
    if (use == 0) {
        aiecg__free(sel);
        return AIECG_ERR_INVALID_ARG;
    }
    /* baseline removal over the whole of every lead (all leads at once) keeps it simple */
    float *seg = aiecg__malloc((size_t)(n > 0 ? n : 1) * (size_t)(nl > 0 ? nl : 1) * sizeof(float));
    aiecg_status st = seg ? AIECG_OK : AIECG_ERR_NOMEM;
    float *lead[AIECG_MAX_LEADS];
    for (int l = 0; l < nl && !st; l++) {
        const float *raw = aiecg_record_lead_data(rec, l);
        lead[l] = seg + (size_t)l * (size_t)n;
        for (int64_t i = 0; i < n; i++) lead[l][i] = isfinite(raw[i]) ? raw[i] : 0.0f;
    }
    if (!st) st = aiecg__filter_baseline_multi(lead, nl, n, aiecg_record_fs(rec));
    for (int l = 0; l < nl && !st; l++) st = median_of(lead[l], sel, use, pre, len, out + (size_t)l * len);
    aiecg__free(seg);
    aiecg__free(sel);
    if (!st && nused) *nused = (int)use;
    return st;
}
