/*
 * The analysis pipeline and the analyzer that owns the loaded models.
 *
 * read (caller) -> quality (aiecg_quality_assess) -> conditioning (NaN
 * replaced, baseline wander and mains removed, limb leads derived) -> QRS
 * detection, delineation and global measurements on the whole record ->
 * model -> interpretation (rules.c) -> result.
 *
 * The model input follows the training contract of docs/training.md
 * exactly: the record's own millivolt samples (not the conditioned ones),
 * resampled to 100 Hz, cut into 10 s windows of 1000 samples, each lead of a
 * window minus its median (numpy's median: mean of the two middle values for
 * even lengths), leads in the order of the model's "aiecg.input.leads".
 * Records shorter than 10 s are zero-padded after the median is removed;
 * longer ones are scored window by window (a last window is aligned to the
 * end when at least 2.5 s remain) and the sigmoid probabilities averaged.
 *
 * The model is chosen from the leads present: the loaded model whose input
 * leads are all available (after deriving III, aVR, aVL, aVF from I and II)
 * and that uses the most leads. The analyzer keeps a pool of inference
 * sessions per model, so concurrent aiecg_analyze calls each get their own
 * session without creating one per call; the pool lock is held only to pop
 * or push a session, never while inference runs.
 */
#include "interp_int.h"

#include "dsp/dsp_int.h"

#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef AIECG_MODELS_INSTALL_DIR
#define AIECG_MODELS_INSTALL_DIR "/usr/local/share/aiecg/models"
#endif

#define MODEL_FS 100.0
#define MODEL_SAMPLES 1000
#define MAX_BATCH 16
#define MAX_WINDOWS 360

typedef struct amodel {
    aiecg_model *m;
    char *name, *leads_str, *version;
    aiecg_lead leads[AIECG_MAX_LEADS];
    int nleads;
    int nout;
    char **labels;
    double *thr;
    aiecg__fusion *fusion; /* "aiecg.fusion" metadata, NULL when the model has none */
    pthread_mutex_t mu;
    aiecg_session **pool;
    int npool, cappool;
} amodel;

struct aiecg_analyzer {
    amodel *models;
    int n;
    char *dir;
    int session_threads;
    aiecg_logger logger;
};

aiecg_analyzer_options aiecg_analyzer_options_default(void) {
    aiecg_analyzer_options o;
    memset(&o, 0, sizeof o);
    return o;
}

aiecg_analyze_options aiecg_analyze_options_default(void) {
    aiecg_analyze_options o;
    memset(&o, 0, sizeof o);
    o.keep_signal = 1;
    return o;
}

static int is_dir(const char *p) {
    struct stat st;
    return p && stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int has_models(const char *dir) {
    if (!is_dir(dir)) return 0;
    DIR *d = opendir(dir);
    int found = 0;
    struct dirent *e;
    while (d && !found && (e = readdir(d))) {
        size_t len = strlen(e->d_name);
        found = len > 5 && (!strcmp(e->d_name + len - 5, ".aiem") || !strcmp(e->d_name + len - 5, ".onnx"));
    }
    if (d) closedir(d);
    return found;
}

static void amodel_clear(amodel *am) {
    for (int i = 0; i < am->npool; i++) aiecg_session_free(am->pool[i]);
    aiecg__free(am->pool);
    if (am->labels)
        for (int i = 0; i < am->nout; i++) aiecg__free(am->labels[i]);
    aiecg__free(am->labels);
    aiecg__free(am->thr);
    aiecg__fusion_free(am->fusion);
    aiecg__free(am->name);
    aiecg__free(am->leads_str);
    aiecg__free(am->version);
    aiecg_model_free(am->m);
    pthread_mutex_destroy(&am->mu);
}

/* Splits a comma list into at most max newly allocated strings; returns the count or -1 on OOM. */
static int split_list(const char *s, char **items, int max) {
    int n = 0;
    while (s && *s && n < max) {
        const char *e = strchr(s, ',');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        while (len && (*s == ' ')) s++, len--;
        items[n] = aiecg__strndup(s, len);
        if (!items[n]) return -1;
        n++;
        s = e ? e + 1 : NULL;
    }
    return n;
}

static aiecg_status amodel_init(amodel *am, const char *path, const char *fname, aiecg_error *err) {
    memset(am, 0, sizeof *am);
    pthread_mutex_init(&am->mu, NULL);
    aiecg_status st = aiecg_model_load(path, &am->m, err);
    if (st) return st;
    am->name = aiecg__strdup(fname);
    const char *leads = aiecg_model_meta(am->m, "aiecg.input.leads");
    if (!leads) leads = "I,II,III,aVR,aVL,aVF,V1,V2,V3,V4,V5,V6";
    am->leads_str = aiecg__strdup(leads);
    const char *ver = aiecg_model_meta(am->m, "aiecg.model.version");
    am->version = ver ? aiecg__strdup(ver) : NULL;
    if (!am->name || !am->leads_str || (ver && !am->version)) return AIECG_ERR_NOMEM;
    char *items[AIECG_MAX_LEADS];
    int n = split_list(leads, items, AIECG_MAX_LEADS);
    if (n < 0) return AIECG_ERR_NOMEM;
    for (int i = 0; i < n; i++) {
        am->leads[i] = aiecg_lead_parse(items[i]);
        if (am->leads[i] == AIECG_LEAD_UNKNOWN)
            st = aiecg__error_set(err, AIECG_ERR_MODEL, "%s: aiecg.input.leads: unknown lead '%s'",
                                  path, items[i]);
        aiecg__free(items[i]);
    }
    if (st) return st;
    am->nleads = n;
    const char *fs = aiecg_model_meta(am->m, "aiecg.input.fs");
    const char *ns = aiecg_model_meta(am->m, "aiecg.input.samples");
    if ((fs && atof(fs) != MODEL_FS) || (ns && atoi(ns) != MODEL_SAMPLES))
        return aiecg__error_set(err, AIECG_ERR_MODEL,
                                "%s: input must be %d samples at %g Hz (aiecg.input.fs=%s, samples=%s)",
                                path, MODEL_SAMPLES, MODEL_FS, fs ? fs : "?", ns ? ns : "?");
    int64_t dims[AIECG_NN_MAX_DIMS];
    int nd = aiecg_model_input_shape(am->m, dims);
    if (nd == 3 && dims[1] > 0 && dims[1] != n)
        return aiecg__error_set(err, AIECG_ERR_MODEL, "%s: input has %lld channels, aiecg.input.leads %d",
                                path, (long long)dims[1], n);
    nd = aiecg_model_output_shape(am->m, dims);
    if (nd < 2 || dims[nd - 1] <= 0)
        return aiecg__error_set(err, AIECG_ERR_MODEL, "%s: output shape not [batch, labels]", path);
    am->nout = (int)dims[nd - 1];
    am->labels = aiecg__calloc((size_t)am->nout, sizeof *am->labels);
    am->thr = aiecg__calloc((size_t)am->nout, sizeof *am->thr);
    if (!am->labels || !am->thr) return AIECG_ERR_NOMEM;
    const char *lab = aiecg_model_meta(am->m, "aiecg.labels");
    int nl = split_list(lab, am->labels, am->nout);
    if (nl < 0) return AIECG_ERR_NOMEM;
    for (int i = nl; i < am->nout; i++) {
        char tmp[32];
        snprintf(tmp, sizeof tmp, "out:%d", i);
        am->labels[i] = aiecg__strdup(tmp);
        if (!am->labels[i]) return AIECG_ERR_NOMEM;
    }
    const char *th = aiecg_model_meta(am->m, "aiecg.thresholds");
    for (int i = 0; i < am->nout; i++) am->thr[i] = NAN;
    for (int i = 0; th && *th && i < am->nout; i++) {
        char *end;
        am->thr[i] = strtod(th, &end);
        if (end == th) break;
        th = *end == ',' ? end + 1 : end;
    }
    st = aiecg__fusion_parse(aiecg_model_meta(am->m, "aiecg.fusion"), (const char *const *)am->labels, am->nout,
                             &am->fusion, err);
    if (st && st != AIECG_ERR_NOMEM) aiecg__error_prefix(err, "%s", path);
    return st;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

aiecg_status aiecg_analyzer_new(const aiecg_analyzer_options *opt, aiecg_analyzer **out,
                                aiecg_error *err) {
    if (!out) return aiecg__error_set(err, AIECG_ERR_INVALID_ARG, "aiecg_analyzer_new: out is NULL");
    *out = NULL;
    aiecg_analyzer_options o = opt ? *opt : aiecg_analyzer_options_default();
    aiecg_analyzer *a = aiecg__calloc(1, sizeof *a);
    if (!a) return AIECG_ERR_NOMEM;
    a->session_threads = o.session_threads > 1 ? o.session_threads : 1;
    a->logger = o.logger;
    const char *dir = o.models_dir;
    if (!dir) dir = getenv("AIECG_MODEL_DIR");
    if (dir && !dir[0]) dir = NULL;
    /* installed models first, then the source tree's; an existing folder without models is skipped */
    if (!dir && has_models(AIECG_MODELS_INSTALL_DIR)) dir = AIECG_MODELS_INSTALL_DIR;
#ifdef AIECG_MODELS_SOURCE_DIR
    if (!dir) dir = AIECG_MODELS_SOURCE_DIR;
#endif
    if (!dir) dir = "models";
    a->dir = aiecg__strdup(dir);
    if (!a->dir) {
        aiecg_analyzer_free(a);
        return AIECG_ERR_NOMEM;
    }
    /* collect model files: *.aiem, and *.onnx whose stem has no .aiem */
    char *names[64];
    int nn = 0;
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) && nn < 64) {
            size_t len = strlen(e->d_name);
            if ((len > 5 && strcmp(e->d_name + len - 5, ".aiem") == 0) ||
                (len > 5 && strcmp(e->d_name + len - 5, ".onnx") == 0)) {
                names[nn] = aiecg__strdup(e->d_name);
                if (names[nn]) nn++;
            }
        }
        closedir(d);
    }
    qsort(names, (size_t)nn, sizeof names[0], cmp_str);
    a->models = aiecg__calloc((size_t)(nn ? nn : 1), sizeof *a->models);
    aiecg_status st = a->models ? AIECG_OK : AIECG_ERR_NOMEM;
    for (int i = 0; i < nn && st == AIECG_OK; i++) {
        size_t len = strlen(names[i]);
        if (strcmp(names[i] + len - 5, ".onnx") == 0) {
            int dup = 0;
            for (int k = 0; k < nn; k++)
                if (strlen(names[k]) == len && strncmp(names[k], names[i], len - 5) == 0 &&
                    strcmp(names[k] + len - 5, ".aiem") == 0)
                    dup = 1;
            if (dup) continue;
        }
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        aiecg_error e2;
        aiecg_error_clear(&e2);
        aiecg_status s2 = amodel_init(&a->models[a->n], path, names[i], &e2);
        if (s2 == AIECG_OK) {
            a->n++;
        } else {
            amodel_clear(&a->models[a->n]);
            aiecg__log(&a->logger, AIECG_LOG_WARN, "model %s not loaded: %s", path, e2.message);
            if (s2 == AIECG_ERR_NOMEM) st = s2;
            if (o.require_model && err && err->message[0] == '\0')
                aiecg__error_set(err, s2, "%s", e2.message);
        }
    }
    for (int i = 0; i < nn; i++) aiecg__free(names[i]);
    if (st == AIECG_OK && o.require_model && a->n == 0) {
        if (!err || err->status == AIECG_OK || err->message[0] == '\0')
            aiecg__error_set(err, AIECG_ERR_NOT_FOUND, "no loadable model (*.aiem, *.onnx) in %s", dir);
        st = AIECG_ERR_NOT_FOUND;
    }
    if (st) {
        aiecg_analyzer_free(a);
        return st;
    }
    *out = a;
    return AIECG_OK;
}

void aiecg_analyzer_free(aiecg_analyzer *a) {
    if (!a) return;
    for (int i = 0; i < a->n; i++) amodel_clear(&a->models[i]);
    aiecg__free(a->models);
    aiecg__free(a->dir);
    aiecg__free(a);
}

int aiecg_analyzer_nmodels(const aiecg_analyzer *a) { return a ? a->n : 0; }
const char *aiecg_analyzer_model_name(const aiecg_analyzer *a, int i) {
    return a && i >= 0 && i < a->n ? a->models[i].name : NULL;
}
const char *aiecg_analyzer_model_leads(const aiecg_analyzer *a, int i) {
    return a && i >= 0 && i < a->n ? a->models[i].leads_str : NULL;
}
const char *aiecg_analyzer_models_dir(const aiecg_analyzer *a) { return a && a->dir ? a->dir : ""; }

static aiecg_status session_acquire(aiecg_analyzer *a, amodel *am, aiecg_session **out,
                                    aiecg_error *err) {
    pthread_mutex_lock(&am->mu);
    aiecg_session *s = am->npool ? am->pool[--am->npool] : NULL;
    pthread_mutex_unlock(&am->mu);
    if (s) {
        *out = s;
        return AIECG_OK;
    }
    aiecg_session_options so = aiecg_session_options_default();
    so.nthreads = a->session_threads;
    so.max_batch = MAX_BATCH;
    so.max_length = MODEL_SAMPLES;
    return aiecg_session_new(am->m, &so, out, err);
}

static void session_release(amodel *am, aiecg_session *s) {
    pthread_mutex_lock(&am->mu);
    if (am->npool == am->cappool) {
        int nc = am->cappool ? am->cappool * 2 : 4;
        aiecg_session **np = aiecg__realloc(am->pool, (size_t)nc * sizeof *np);
        if (!np) {
            pthread_mutex_unlock(&am->mu);
            aiecg_session_free(s);
            return;
        }
        am->pool = np;
        am->cappool = nc;
    }
    am->pool[am->npool++] = s;
    pthread_mutex_unlock(&am->mu);
}

/* ---- preprocessing ------------------------------------------------------- */
static void swapf(float *a, float *b) {
    float t = *a;
    *a = *b;
    *b = t;
}

/* k-th smallest of x[0..n) (x is reordered). */
static float select_k(float *x, int n, int k) {
    int lo = 0, hi = n - 1;
    while (lo < hi) {
        float piv = x[lo + (hi - lo) / 2];
        int i = lo, j = hi;
        while (i <= j) {
            while (x[i] < piv) i++;
            while (x[j] > piv) j--;
            if (i <= j) {
                swapf(&x[i], &x[j]);
                i++;
                j--;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            return x[k];
    }
    return x[k];
}

/* numpy.median of x[0..n) in float32 arithmetic; tmp has n floats. */
static float median_np(const float *x, int n, float *tmp) {
    memcpy(tmp, x, (size_t)n * sizeof *tmp);
    if (n % 2) return select_k(tmp, n, n / 2);
    float hi = select_k(tmp, n, n / 2);
    float lo = tmp[0];
    for (int i = 1; i < n / 2; i++)
        if (tmp[i] > lo) lo = tmp[i];
    return (float)(((double)lo + (double)hi) * 0.5);
}

static int lead_available(const aiecg_record *rec, aiecg_lead l) {
    return aiecg_record_find_lead(rec, l) >= 0;
}

static amodel *choose_model(aiecg_analyzer *a, const aiecg_record *rec) {
    amodel *best = NULL;
    for (int i = 0; a && i < a->n; i++) {
        amodel *am = &a->models[i];
        int ok = 1;
        for (int k = 0; k < am->nleads && ok; k++) ok = lead_available(rec, am->leads[k]);
        if (ok && (!best || am->nleads > best->nleads)) best = am;
    }
    return best;
}

static double sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }

/* Runs the model on raw (NaN-free, limb leads derived) and fills r's label arrays. */
static aiecg_status run_model(aiecg_analyzer *a, amodel *am, const aiecg_record *raw, aiecg_result *r,
                              aiecg_error *err) {
    double fs = aiecg_record_fs(raw);
    int64_t n = aiecg_record_nsamples(raw);
    int nl = am->nleads;
    float *lead100[AIECG_MAX_LEADS] = {0};
    int64_t n100 = 0;
    aiecg_status st = AIECG_OK;
    float *in = NULL, *outp = NULL, *tmp = NULL;
    double *sum = NULL, *lsum = NULL;
    aiecg_session *sess = NULL;
    aiecg_resampler *plan = NULL; /* one filter design serves every lead */
    if (fabs(fs - MODEL_FS) >= 1e-9) {
        st = aiecg_resampler_new(fs, MODEL_FS, &plan);
        if (st) {
            aiecg__error_set(err, st, "no resampler from %g Hz to 100 Hz", fs);
            goto done;
        }
    }
    for (int k = 0; k < nl && st == AIECG_OK; k++) {
        const float *x = aiecg_record_lead_data(raw, aiecg_record_find_lead(raw, am->leads[k]));
        if (!plan) {
            lead100[k] = aiecg__malloc((size_t)(n ? n : 1) * sizeof(float));
            if (!lead100[k]) {
                st = AIECG_ERR_NOMEM;
                break;
            }
            memcpy(lead100[k], x, (size_t)n * sizeof(float));
            n100 = n;
        } else {
            st = aiecg_resampler_run(plan, x, n, &lead100[k], &n100);
            if (st) aiecg__error_set(err, st, "resampling lead %s from %g Hz to 100 Hz failed",
                                     aiecg_lead_name(am->leads[k]), fs);
        }
    }
    aiecg_resampler_free(plan);
    if (st) goto done;
    int64_t starts[MAX_WINDOWS];
    int nw = 0;
    if (n100 <= MODEL_SAMPLES) {
        starts[nw++] = 0;
    } else {
        int64_t full = n100 / MODEL_SAMPLES;
        int64_t stride = MODEL_SAMPLES;
        if (full > MAX_WINDOWS) stride = (n100 - MODEL_SAMPLES) / (MAX_WINDOWS - 1);
        for (int64_t s0 = 0; s0 + MODEL_SAMPLES <= n100 && nw < MAX_WINDOWS; s0 += stride) starts[nw++] = s0;
        int64_t last_end = starts[nw - 1] + MODEL_SAMPLES;
        if (n100 - last_end >= MODEL_SAMPLES / 4 && nw < MAX_WINDOWS) starts[nw++] = n100 - MODEL_SAMPLES;
    }
    size_t per = (size_t)nl * MODEL_SAMPLES;
    /* batches of up to MAX_BATCH windows, but buffers only for the windows there are: a 10 s
       record has one (48 KB rather than 16 windows' 768 KB zeroed per call) */
    const int bmax = AIECG__MIN(MAX_BATCH, nw);
    in = aiecg__calloc((size_t)bmax * per, sizeof *in);
    outp = aiecg__calloc((size_t)bmax * (size_t)am->nout, sizeof *outp);
    tmp = aiecg__malloc(MODEL_SAMPLES * sizeof *tmp);
    sum = aiecg__calloc((size_t)am->nout, sizeof *sum);
    lsum = aiecg__calloc((size_t)am->nout, sizeof *lsum);
    if (!in || !outp || !tmp || !sum || !lsum) {
        st = AIECG_ERR_NOMEM;
        goto done;
    }
    st = session_acquire(a, am, &sess, err);
    if (st) goto done;
    for (int w0 = 0; w0 < nw; w0 += bmax) {
        int nb = AIECG__MIN(bmax, nw - w0);
        memset(in, 0, (size_t)nb * per * sizeof *in);
        for (int b = 0; b < nb; b++) {
            int64_t s0 = starts[w0 + b];
            int len = (int)AIECG__MIN((int64_t)MODEL_SAMPLES, n100 - s0);
            for (int k = 0; k < nl; k++) {
                const float *x = lead100[k] + s0;
                float med = len > 0 ? median_np(x, len, tmp) : 0.0f;
                float *dst = in + (size_t)b * per + (size_t)k * MODEL_SAMPLES;
                for (int i = 0; i < len; i++) dst[i] = x[i] - med;
            }
        }
        int64_t dims[3] = {nb, nl, MODEL_SAMPLES};
        int64_t od[AIECG_NN_MAX_DIMS];
        int ond = 0;
        st = aiecg_session_run(sess, in, dims, 3, outp, (size_t)bmax * (size_t)am->nout, od, &ond, err);
        if (st) goto done;
        for (int b = 0; b < nb; b++)
            for (int j = 0; j < am->nout; j++) {
                double lg = outp[(size_t)b * (size_t)am->nout + (size_t)j];
                lsum[j] += lg;
                sum[j] += sigmoid(lg);
            }
    }
    r->labels = aiecg__calloc((size_t)am->nout, sizeof *r->labels);
    r->probs = aiecg__calloc((size_t)am->nout, sizeof *r->probs);
    r->logits = aiecg__calloc((size_t)am->nout, sizeof *r->logits);
    r->thresholds = aiecg__calloc((size_t)am->nout, sizeof *r->thresholds);
    r->model_name = aiecg__strdup(am->name);
    r->model_leads = aiecg__strdup(am->leads_str);
    r->model_version = am->version ? aiecg__strdup(am->version) : NULL;
    r->model_backend = aiecg__strdup(aiecg_session_backend(sess));
    if (!r->labels || !r->probs || !r->logits || !r->thresholds || !r->model_name || !r->model_leads ||
        !r->model_backend) {
        st = AIECG_ERR_NOMEM;
        goto done;
    }
    r->nlabels = am->nout;
    for (int j = 0; j < am->nout; j++) {
        r->labels[j] = aiecg__strdup(am->labels[j]);
        if (!r->labels[j]) st = AIECG_ERR_NOMEM;
        r->probs[j] = sum[j] / nw;
        r->logits[j] = lsum[j] / nw;
        r->thresholds[j] = am->thr[j];
    }
    r->nwindows = nw;
done:
    if (sess) session_release(am, sess);
    for (int k = 0; k < nl; k++) aiecg_free(lead100[k]);
    aiecg__free(in);
    aiecg__free(outp);
    aiecg__free(tmp);
    aiecg__free(sum);
    aiecg__free(lsum);
    return st;
}

/* ---- beat consistency ------------------------------------------------------- */
/*
 * Median, over beats, of the Pearson correlation of each QRS window
 * (-60..+60 ms around the fiducial) with the sample-wise median template,
 * taking per beat the best of the first three leads. Real complexes give
 * 0.8-1.0; a detector triggered by noise gives windows that do not resemble
 * each other (< 0.5). NaN when fewer than 3 beats. At most 256 beats, evenly
 * spread, are used so long records cost the same.
 */
#define CONS_MAX_BEATS 256
static double beat_consistency(const aiecg_record *sig, const aiecg_beat *beats, int64_t nb) {
    double fs = aiecg_record_fs(sig);
    int64_t n = aiecg_record_nsamples(sig);
    int half = (int)lround(0.06 * fs);
    int w = 2 * half + 1;
    int64_t idx[CONS_MAX_BEATS];
    int k = 0;
    for (int64_t i = 0; i < nb && k < CONS_MAX_BEATS; i++) {
        int64_t j = nb <= CONS_MAX_BEATS ? i : i * nb / CONS_MAX_BEATS;
        if (j >= nb) break;
        if (beats[j].sample - half >= 0 && beats[j].sample + half < n) idx[k++] = beats[j].sample;
    }
    if (k < 3) return NAN;
    int nl = AIECG__MIN(3, aiecg_record_nleads(sig));
    float *tpl = aiecg__malloc((size_t)w * sizeof *tpl);
    float *col = aiecg__malloc((size_t)k * sizeof *col);
    double *best = aiecg__malloc((size_t)k * sizeof *best);
    double res = NAN;
    if (!tpl || !col || !best) goto done;
    for (int b = 0; b < k; b++) best[b] = -1;
    for (int l = 0; l < nl; l++) {
        const float *x = aiecg_record_lead_data(sig, l);
        for (int t = 0; t < w; t++) {
            for (int b = 0; b < k; b++) col[b] = x[idx[b] - half + t];
            tpl[t] = select_k(col, k, k / 2); /* sample-wise median (upper for even k) */
        }
        double tm = 0;
        for (int t = 0; t < w; t++) tm += tpl[t];
        tm /= w;
        for (int b = 0; b < k; b++) {
            const float *y = x + idx[b] - half;
            double ym = 0;
            for (int t = 0; t < w; t++) ym += y[t];
            ym /= w;
            double sxy = 0, sxx = 0, syy = 0;
            for (int t = 0; t < w; t++) {
                double a = tpl[t] - tm, c = y[t] - ym;
                sxy += a * c;
                sxx += a * a;
                syy += c * c;
            }
            double cr = sxx > 0 && syy > 0 ? sxy / sqrt(sxx * syy) : 0;
            if (cr > best[b]) best[b] = cr;
        }
    }
    /* median of best[] */
    for (int i = 1; i < k; i++) {
        double v = best[i];
        int j = i - 1;
        while (j >= 0 && best[j] > v) {
            best[j + 1] = best[j];
            j--;
        }
        best[j + 1] = v;
    }
    res = best[k / 2];
done:
    aiecg__free(tpl);
    aiecg__free(col);
    aiecg__free(best);
    return res;
}

/* ---- the pipeline ---------------------------------------------------------- */
static aiecg_status fill_record_info(aiecg_result *r, const aiecg_record *rec) {
    aiecg_record_meta m;
    aiecg_record_meta_get(rec, &m);
    r->record_name = aiecg__strdup(m.record_name ? m.record_name : "");
    r->format = aiecg__strdup(m.format ? m.format : "");
    r->patient_id = aiecg__strdup(m.patient_id ? m.patient_id : "");
    r->device = aiecg__strdup(m.device ? m.device : "");
    if (!r->record_name || !r->format || !r->patient_id || !r->device) return AIECG_ERR_NOMEM;
    r->age = m.age;
    r->sex = m.sex == 'M' || m.sex == 'F' ? m.sex : 'U';
    r->has_start_time = m.has_start_time;
    r->year = m.year;
    r->month = m.month;
    r->day = m.day;
    r->hour = m.hour;
    r->minute = m.minute;
    r->second = m.second;
    r->fs = aiecg_record_fs(rec);
    r->nsamples = aiecg_record_nsamples(rec);
    r->duration_s = aiecg_record_duration(rec);
    return AIECG_OK;
}

static void set_lead_names(aiecg_result *r, const aiecg_record *rec) {
    r->nleads = aiecg_record_nleads(rec);
    for (int l = 0; l < r->nleads; l++) {
        aiecg_lead_info li;
        if (aiecg_record_lead_info(rec, l, &li) != AIECG_OK) continue;
        const char *nm = li.lead != AIECG_LEAD_UNKNOWN ? aiecg_lead_name(li.lead) : li.label;
        snprintf(r->lead_names[l], sizeof r->lead_names[l], "%s", nm ? nm : "?");
        r->lead_derived[l] = li.derived;
    }
}

static void note(aiecg_result *r, const char *s) {
    size_t n = strlen(r->quality_notes);
    snprintf(r->quality_notes + n, sizeof r->quality_notes - n, "%s%s", n ? "; " : "", s);
}

aiecg_status aiecg_analyze(const aiecg_record *rec, const aiecg_analyze_options *opt, aiecg_result **out,
                           aiecg_error *err) {
    if (!rec || !out) return aiecg__error_set(err, AIECG_ERR_INVALID_ARG, "aiecg_analyze: NULL argument");
    *out = NULL;
    aiecg_analyze_options o = opt ? *opt : aiecg_analyze_options_default();
    double t0 = aiecg__now_ms(), t;
    aiecg_result *r = aiecg__result_new();
    if (!r) return AIECG_ERR_NOMEM;
    aiecg_record *sig = NULL, *raw = NULL;
    const aiecg_record *mraw = rec; /* the model's input: rec itself, or raw when that had to be changed */
    float *clean_copy = NULL;                /* the record's leads baseline-removed, when the notch changes sig's */
    const float *clean[AIECG_MAX_LEADS] = {0}; /* quality's baseline-removed leads (filtered once, here) */
    aiecg_status st = fill_record_info(r, rec);
    if (st) goto fail;
    set_lead_names(r, rec);

    double fs = aiecg_record_fs(rec);
    int64_t n = aiecg_record_nsamples(rec);
    int too_short = r->duration_s < 2.5, bad_fs = fs < 50 || fs > 2000;
    int analysable = !too_short && !bad_fs;

    /* conditioning + QRS + measurements */
    t = aiecg__now_ms();
    if (analysable) {
        /* non-finite samples read as 0 and III, aVR, aVL, aVF derived from I and II where missing
           where missing: on a copy only when there is one to do */
        int64_t nonfinite = 0;
        for (int l = 0; l < aiecg_record_nleads(rec); l++) {
            const float *x = aiecg_record_lead_data(rec, l);
            for (int64_t i = 0; i < n; i++) nonfinite += !isfinite(x[i]);
        }
        int derive = aiecg_record_derivable_limb_leads(rec) > 0;
        if (nonfinite || derive) {
            st = aiecg_record_clone(rec, &raw);
            if (st) goto fail;
            for (int l = 0; nonfinite && l < aiecg_record_nleads(raw); l++) {
                float *x = aiecg_record_lead_data_mut(raw, l);
                for (int64_t i = 0; i < n; i++)
                    if (!isfinite(x[i])) x[i] = 0.0f;
            }
            st = aiecg_record_derive_limb_leads(raw, NULL);
            if (st) goto fail;
            mraw = raw;
        }
        if (nonfinite) {
            char msg[80];
            snprintf(msg, sizeof msg, "%lld non-finite samples replaced by 0", (long long)nonfinite);
            note(r, msg);
        }
        st = aiecg_record_clone(mraw, &sig);
        if (st) goto fail;
        /* mains interference is a property of the recording: detect it once, on II (or the first lead) */
        double mains = o.mains_hz;
        if (mains == 0) {
            int li = aiecg_record_find_lead(sig, AIECG_LEAD_II);
            mains = aiecg_powerline_detect(aiecg_record_lead_data(sig, li >= 0 ? li : 0), n, fs);
        }
        /* baseline wander of all leads at once (each lead bit-identical to aiecg_filter_baseline);
           the record's own leads at this point are what quality would filter them to, so it gets them */
        int nls = aiecg_record_nleads(sig), nlr = aiecg_record_nleads(rec);
        int notch = mains > 0 && mains < fs / 2;
        float *bl[AIECG_MAX_LEADS];
        for (int l = 0; l < nls; l++) bl[l] = aiecg_record_lead_data_mut(sig, l);
        st = aiecg__filter_baseline_multi(bl, nls, n, fs);
        if (st) goto fail;
        if (notch) {
            clean_copy = aiecg__malloc((size_t)n * (size_t)nlr * sizeof *clean_copy);
            if (!clean_copy) {
                st = AIECG_ERR_NOMEM;
                goto fail;
            }
        }
        for (int l = 0; l < nlr; l++) {
            if (notch) memcpy(clean_copy + (size_t)l * (size_t)n, bl[l], (size_t)n * sizeof *clean_copy);
            clean[l] = notch ? clean_copy + (size_t)l * (size_t)n : bl[l];
        }
        for (int l = 0; notch && l < nls; l++) aiecg_filter_powerline(bl[l], n, fs, mains);
        set_lead_names(r, sig);
        aiecg_error e2;
        aiecg_error_clear(&e2);
        st = aiecg_qrs_detect(sig, NULL, &r->beats, &r->nbeats, &e2);
        if (st) {
            if (st == AIECG_ERR_NOMEM) goto fail;
            r->beats = NULL;
            r->nbeats = 0;
            note(r, "QRS detection failed");
            st = AIECG_OK;
        }
        r->beat_consistency = beat_consistency(sig, r->beats, r->nbeats);
        if (r->nbeats >= 2) {
            aiecg_error_clear(&e2);
            st = aiecg_measure(sig, r->beats, r->nbeats, &r->meas, &r->waves, &e2);
            if (st == AIECG_OK) {
                r->meas_valid = 1;
                if (r->meas.nbeats < 0 || r->meas.nbeats > r->nbeats) { /* guard the dsp contract */
                    int k = 0;
                    for (int64_t i = 0; i < r->nbeats; i++) k += r->beats[i].family == 0;
                    r->meas.nbeats = k;
                }
            } else {
                if (st == AIECG_ERR_NOMEM) goto fail;
                for (int m = 0; m < AIECG_MEAS_COUNT; m++) {
                    r->meas.value[m] = NAN;
                    r->meas.reason[m] = "delineation failed";
                }
                r->waves = NULL;
                note(r, "delineation failed");
                st = AIECG_OK;
            }
        } else {
            for (int m = 0; m < AIECG_MEAS_COUNT; m++) r->meas.reason[m] = "fewer than 2 QRS complexes";
        }
    } else {
        for (int m = 0; m < AIECG_MEAS_COUNT; m++) r->meas.reason[m] = "record not analysable";
    }
    r->t.dsp_ms = aiecg__now_ms() - t;

    /* quality: on the raw record, reusing the beats detected above (one QRS detection per analysis) */
    t = aiecg__now_ms();
    st = analysable ? aiecg__quality_assess_clean(rec, r->beats, r->nbeats, clean, &r->quality)
                    : aiecg_quality_assess(rec, &r->quality);
    if (st) {
        if (st == AIECG_ERR_NOMEM) goto fail;
        memset(&r->quality, 0, sizeof r->quality);
        r->quality.verdict = AIECG_QUALITY_UNUSABLE;
        note(r, "quality assessment failed");
        st = AIECG_OK;
    }
    if (too_short) {
        r->quality.flags |= AIECG_QUALITY_TOO_SHORT;
        r->quality.verdict = AIECG_QUALITY_UNUSABLE;
        note(r, "record shorter than 2.5 s");
    }
    if (bad_fs) {
        r->quality.verdict = AIECG_QUALITY_UNUSABLE;
        note(r, "sampling rate outside 50-2000 Hz");
    }
    r->t.quality_ms = aiecg__now_ms() - t;

    /* model */
    t = aiecg__now_ms();
    if (analysable && !o.skip_model) {
        amodel *am = choose_model(o.analyzer, mraw);
        if (am) {
            st = run_model(o.analyzer, am, mraw, r, err);
            if (st == AIECG_OK) st = aiecg__fusion_apply(am->fusion, r); /* measurements are ready */
            if (st) goto fail;
        } else {
            snprintf(r->model_note, sizeof r->model_note, "%s",
                     !o.analyzer || o.analyzer->n == 0 ? "no model loaded"
                                                       : "no loaded model fits the leads of this record");
        }
    } else {
        snprintf(r->model_note, sizeof r->model_note, "%s",
                 o.skip_model ? "model disabled" : "record not analysable");
    }
    r->t.model_ms = aiecg__now_ms() - t;

    t = aiecg__now_ms();
    aiecg__interpret(r);
    r->t.interp_ms = aiecg__now_ms() - t;
    aiecg__free(clean_copy);
    if (o.keep_signal && sig) {
        r->signal = sig;
        sig = NULL;
    }
    aiecg_record_free(sig);
    aiecg_record_free(raw);
    r->t.total_ms = aiecg__now_ms() - t0;
    *out = r;
    return AIECG_OK;
fail:
    if (st == AIECG_ERR_NOMEM && err && err->status == AIECG_OK)
        aiecg__error_set(err, st, "out of memory during analysis");
    aiecg__free(clean_copy);
    aiecg_record_free(sig);
    aiecg_record_free(raw);
    aiecg_result_free(r);
    return st;
}
