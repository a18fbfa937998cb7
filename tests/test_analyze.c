/*
 * The analysis pipeline on real records (LUDB 12-lead 500 Hz, PTB-XL 100 Hz,
 * MIT-BIH 2-lead 360 Hz) and on unusable input (zeros, noise, NaN, 1 s):
 * sane measurements and statements on the former, quality findings and a
 * "technically limited" statement - never a confident one - on the latter;
 * identical results whatever the number of threads; the rules (sinus rate,
 * PR, QRS width, QTc, axis) on records whose references are known. Uses the
 * models of the source tree when present (rules only otherwise).
 */
#include "test.h"

#include <stdint.h>

static char ludb[4096], ptbxl[4096], mitdb[4096];
static aiecg_analyzer *an;

static aiecg_record *open_rec(const char *dir, const char *name) {
    char p[4400];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    aiecg_record *rec = NULL;
    aiecg_error err;
    aiecg_error_clear(&err);
    aiecg_read_options ro = aiecg_read_options_default();
    ro.skip_annotations = 1;
    CHECK_OK(aiecg_record_open(p, &ro, &rec, &err), &err);
    return rec;
}

static aiecg_result *analyze(const aiecg_record *rec) {
    aiecg_analyze_options o = aiecg_analyze_options_default();
    o.analyzer = an;
    aiecg_result *res = NULL;
    aiecg_error err;
    aiecg_error_clear(&err);
    CHECK_OK(aiecg_analyze(rec, &o, &res, &err), &err);
    return res;
}

static double meas(const aiecg_result *r, aiecg_measurement m) { return aiecg_result_measurements(r)->value[m]; }

static int count_confident(const aiecg_result *r) {
    int n = 0;
    for (int i = 0; i < aiecg_result_nstatements(r); i++)
        if (strcmp(aiecg_result_statement(r, i)->group, "quality") != 0) n++;
    return n;
}

static void test_ludb_sinus_brady(void) {
    /* LUDB record 1: sinus bradycardia (LUDB diagnosis), 10 s, 12 leads */
    aiecg_record *rec = open_rec(ludb, "1");
    if (!rec) return;
    aiecg_result *r = analyze(rec);
    if (r) {
        CHECK(aiecg_result_quality(r)->verdict <= AIECG_QUALITY_ACCEPTABLE);
        CHECK_NEAR(meas(r, AIECG_MEAS_HR), 45, 5);
        CHECK(meas(r, AIECG_MEAS_QRS_DUR) > 60 && meas(r, AIECG_MEAS_QRS_DUR) < 120);
        CHECK(meas(r, AIECG_MEAS_PR) > 100 && meas(r, AIECG_MEAS_PR) < 200);
        CHECK(aiecg_result_has_statement(r, "SBRAD"));
        CHECK(!aiecg_result_has_statement(r, "SR"));
        CHECK(!aiecg_result_has_statement(r, "TECHLIM"));
        for (int i = 0; i < aiecg_result_nstatements(r); i++) /* PR 144 ms: no rule calls 1AVB */
            if (!strcmp(aiecg_result_statement(r, i)->code, "1AVB"))
                CHECK(aiecg_result_statement(r, i)->source == AIECG_SOURCE_MODEL);
        CHECK(aiecg_result_nbeats(r) >= 7 && aiecg_result_nbeats(r) <= 9);
        /* every statement carries evidence and a known source */
        for (int i = 0; i < aiecg_result_nstatements(r); i++) {
            const aiecg_statement *s = aiecg_result_statement(r, i);
            CHECK(s->evidence && s->evidence[0]);
            CHECK(s->text && s->code && s->group);
        }
        char *js = NULL;
        CHECK_OK(aiecg_result_json(r, 0, &js), NULL);
        CHECK(js && strstr(js, "\"schema\":\"aiecg.result/1\""));
        CHECK(js && strstr(js, "\"code\":\"SBRAD\""));
        CHECK(js && strstr(js, "\"snomed\":\"426177001\""));
        CHECK(js && strstr(js, "\"heart_rate\":{\"value\":"));
        aiecg_free(js);
        char *txt = NULL;
        CHECK_OK(aiecg_result_text(r, &txt), NULL);
        CHECK(txt && strstr(txt, "Sinus bradycardia"));
        CHECK(txt && strstr(txt, "HR 45 bpm < 50"));
        aiecg_free(txt);
    }
    aiecg_result_free(r);
    aiecg_record_free(rec);
}

static void test_ptbxl_100hz(void) {
    /* PTB-XL 1000 and 1001 (folds 7 and 5): NORM, SR */
    const char *names[] = {"records100/01000/01000_lr", "records100/01000/01001_lr"};
    for (int k = 0; k < 2; k++) {
        aiecg_record *rec = open_rec(ptbxl, names[k]);
        if (!rec) continue;
        aiecg_result *r = analyze(rec);
        if (r) {
            CHECK(aiecg_result_quality(r)->verdict <= AIECG_QUALITY_ACCEPTABLE);
            CHECK(aiecg_result_has_statement(r, "SR"));
            CHECK(!aiecg_result_has_statement(r, "AFIB"));
            CHECK(!aiecg_result_has_statement(r, "TECHLIM"));
            CHECK(meas(r, AIECG_MEAS_HR) > 55 && meas(r, AIECG_MEAS_HR) < 75);
            if (aiecg_result_model(r)) {
                CHECK_INT(aiecg_result_nwindows(r), 1);
                CHECK(aiecg_result_probability(r, "super:NORM") > aiecg_result_probability(r, "super:MI"));
                CHECK(aiecg_result_probability(r, "stmt:SR") > 0.5);
            }
        }
        aiecg_result_free(r);
        aiecg_record_free(rec);
    }
}

static void test_mitdb_two_lead(void) {
    /* MIT-BIH 100: 30 min MLII + V5, normal sinus rhythm, 2273 beats (1 PVC, 33 APC) */
    aiecg_record *rec = open_rec(mitdb, "100");
    if (!rec) return;
    aiecg_result *r = analyze(rec);
    if (r) {
        CHECK(aiecg_result_nbeats(r) > 2200 && aiecg_result_nbeats(r) < 2350);
        CHECK(aiecg_result_has_statement(r, "SR"));
        CHECK(!aiecg_result_has_statement(r, "AFIB"));
        CHECK(!aiecg_result_has_statement(r, "TECHLIM"));
        CHECK_NEAR(meas(r, AIECG_MEAS_HR), 75, 5);
    }
    aiecg_result_free(r);
    aiecg_record_free(rec);
}

static aiecg_record *synthetic(int nleads, double fs, double seconds, int kind) {
    aiecg_record *rec = NULL;
    int64_t n = (int64_t)(fs * seconds);
    CHECK_OK(aiecg_record_new(nleads, n, fs, 0, &rec, NULL), NULL);
    if (!rec) return NULL;
    static const aiecg_lead leads[12] = {AIECG_LEAD_I,  AIECG_LEAD_II, AIECG_LEAD_III, AIECG_LEAD_AVR,
                                         AIECG_LEAD_AVL, AIECG_LEAD_AVF, AIECG_LEAD_V1, AIECG_LEAD_V2,
                                         AIECG_LEAD_V3, AIECG_LEAD_V4, AIECG_LEAD_V5, AIECG_LEAD_V6};
    uint64_t s = 12345;
    for (int l = 0; l < nleads; l++) {
        aiecg_lead_info li;
        memset(&li, 0, sizeof li);
        li.label = aiecg_lead_name(leads[l]);
        li.lead = leads[l];
        li.units = "mV";
        aiecg_record_set_lead(rec, l, &li);
        float *x = aiecg_record_lead_data_mut(rec, l);
        for (int64_t i = 0; i < n; i++) {
            if (kind == 1) { /* white Gaussian-ish noise, 0.5 mV RMS */
                double u = 0;
                for (int k = 0; k < 4; k++) {
                    s = s * 6364136223846793005ull + 1442695040888963407ull;
                    u += (double)(s >> 11) / 9007199254740992.0 - 0.5;
                }
                x[i] = (float)(u * 0.5 * 1.732);
            } else if (kind == 2) {
                x[i] = NAN;
            } else {
                x[i] = 0.0f;
            }
        }
    }
    return rec;
}

static void check_unusable(aiecg_record *rec, uint32_t expect_flag, const char *what) {
    if (!rec) return;
    aiecg_result *r = analyze(rec);
    if (r) {
        if (!aiecg_result_has_statement(r, "TECHLIM")) fprintf(stderr, "%s: no TECHLIM\n", what);
        CHECK(aiecg_result_has_statement(r, "TECHLIM"));
        if (count_confident(r) != 0) fprintf(stderr, "%s: confident statement %s\n", what, aiecg_result_statement(r, 0)->code);
        CHECK_INT(count_confident(r), 0);
        if (expect_flag) CHECK(aiecg_result_quality(r)->flags & expect_flag);
        char *js = NULL;
        CHECK_OK(aiecg_result_json(r, 0, &js), NULL);
        CHECK(js && !strstr(js, ":nan") && !strstr(js, ":-nan") && !strstr(js, ":inf"));
        aiecg_free(js);
    }
    aiecg_result_free(r);
    aiecg_record_free(rec);
}

static void test_unusable_inputs(void) {
    check_unusable(synthetic(12, 500, 10, 0), 0, "zeros");
    check_unusable(synthetic(12, 500, 10, 1), 0, "noise");
    check_unusable(synthetic(12, 500, 10, 2), AIECG_QUALITY_NONFINITE, "nan");
    check_unusable(synthetic(12, 500, 1, 0), AIECG_QUALITY_TOO_SHORT, "1 s");
    check_unusable(synthetic(1, 250, 10, 1), 0, "1-lead noise");
}

static void test_short_and_resampled(void) {
    /* a 3 s cut of LUDB 1 (>= 2.5 s is analysable) and the whole record resampled to 250 Hz */
    aiecg_record *rec = open_rec(ludb, "1");
    if (!rec) return;
    aiecg_record *cut = NULL;
    int64_t n = 1500;
    CHECK_OK(aiecg_record_new(aiecg_record_nleads(rec), n, 500, 0, &cut, NULL), NULL);
    for (int l = 0; cut && l < aiecg_record_nleads(rec); l++) {
        aiecg_lead_info li;
        aiecg_record_lead_info(rec, l, &li);
        aiecg_record_set_lead(cut, l, &li);
        memcpy(aiecg_record_lead_data_mut(cut, l), aiecg_record_lead_data(rec, l), (size_t)n * sizeof(float));
    }
    aiecg_result *r = cut ? analyze(cut) : NULL;
    if (r) { /* 3 s at 45 bpm: analysed (beats found, not "too short"), whatever the quality verdict */
        CHECK(aiecg_result_nbeats(r) >= 2);
        CHECK(!(aiecg_result_quality(r)->flags & AIECG_QUALITY_TOO_SHORT));
    }
    aiecg_result_free(r);
    aiecg_record_free(cut);
    aiecg_record *rs = NULL;
    CHECK_OK(aiecg_record_resample(rec, 250, &rs, NULL), NULL);
    r = rs ? analyze(rs) : NULL;
    if (r) {
        CHECK(aiecg_result_has_statement(r, "SBRAD"));
        CHECK_NEAR(meas(r, AIECG_MEAS_HR), 45, 5);
    }
    aiecg_result_free(r);
    aiecg_record_free(rs);
    aiecg_record_free(rec);
}

typedef struct par {
    aiecg_record **recs;
    char **json;
} par;

static void par_task(void *ctx, int task, int thread) {
    (void)thread;
    par *p = ctx;
    aiecg_analyze_options o = aiecg_analyze_options_default();
    o.analyzer = an;
    o.keep_signal = 0;
    aiecg_result *r = NULL;
    if (aiecg_analyze(p->recs[task], &o, &r, NULL) == AIECG_OK)
        aiecg_result_json(r, AIECG_JSON_NO_TIMINGS, &p->json[task]);
    aiecg_result_free(r);
}

static void test_threads_identical(void) {
    enum { N = 8 };
    aiecg_record *recs[N];
    char *j1[N] = {0}, *j4[N] = {0};
    for (int i = 0; i < N; i++) {
        char nm[16];
        snprintf(nm, sizeof nm, "%d", i + 1);
        recs[i] = open_rec(ludb, nm);
        if (!recs[i]) return;
    }
    aiecg_threadpool *p1 = NULL, *p4 = NULL;
    CHECK_OK(aiecg_threadpool_new(1, &p1), NULL);
    CHECK_OK(aiecg_threadpool_new(4, &p4), NULL);
    par a = {recs, j1}, b = {recs, j4};
    aiecg_threadpool_parallel_for(p1, N, par_task, &a);
    aiecg_threadpool_parallel_for(p4, N, par_task, &b);
    for (int i = 0; i < N; i++) {
        CHECK(j1[i] && j4[i]);
        if (j1[i] && j4[i]) CHECK_STR(j1[i], j4[i]);
        aiecg_free(j1[i]);
        aiecg_free(j4[i]);
        aiecg_record_free(recs[i]);
    }
    aiecg_threadpool_free(p1);
    aiecg_threadpool_free(p4);
}


/*
 * The C pipeline (reader, resampling, median removal, engine) against the
 * PyTorch logits the training run stored for 32 fold-8 records
 * (tests/data/model/ecg12_val_sample.tsv, docs/training.md): within 1e-4.
 */
static void test_model_matches_pytorch(void) {
    int have = 0;
    for (int i = 0; i < aiecg_analyzer_nmodels(an); i++)
        if (!strncmp(aiecg_analyzer_model_name(an, i), "ecg12.", 6)) have = 1;
    const char *src = getenv("AIECG_SOURCE_DIR");
    char tsv[4200];
    snprintf(tsv, sizeof tsv, "%s/tests/data/model/ecg12_val_sample.tsv", src ? src : ".");
    FILE *f = fopen(tsv, "r");
    if (!have || !f) {
        printf("test_model_matches_pytorch: skipped (%s)\n", !have ? "no ecg12 model" : "no sample file");
        if (f) fclose(f);
        return;
    }
    static char line[1 << 16];
    int rows = 0;
    double worst = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] < '0' || line[0] > '9') continue;
        char *save = NULL, *tok = strtok_r(line, "\t\n", &save);
        int field = 0;
        char file[512] = "";
        double ref[512];
        int nref = 0;
        for (; tok; tok = strtok_r(NULL, "\t\n", &save), field++) {
            if (field == 1) snprintf(file, sizeof file, "%s", tok);
            if (field >= 5 && nref < 512) ref[nref++] = strtod(tok, NULL);
        }
        aiecg_record *rec = open_rec(ptbxl, file);
        if (!rec) continue;
        aiecg_result *r = analyze(rec);
        if (r) {
            CHECK_INT(aiecg_result_nlabels(r), nref);
            for (int k = 0; k < nref && k < aiecg_result_nlabels(r); k++) {
                double d = fabs(aiecg_result_label_logit(r, k) - ref[k]);
                if (d > worst) worst = d;
            }
        }
        rows++;
        aiecg_result_free(r);
        aiecg_record_free(rec);
    }
    fclose(f);
    printf("model vs PyTorch: %d records, max |logit difference| %.3g\n", rows, worst);
    CHECK(rows >= 1);
    CHECK(worst < 1e-4);
}


/* Allocation-failure injection: the Nth allocation fails; aiecg_analyze and the renderers return
   AIECG_ERR_NOMEM (or succeed when the failure hit nothing they needed), never crash, and free what
   they made (ASan in CI). */
static long oom_countdown = -1;
static void *oom_malloc(size_t n) { return oom_countdown-- == 0 ? NULL : malloc(n); }
static void *oom_realloc(void *p, size_t n) { return oom_countdown-- == 0 ? NULL : realloc(p, n); }

static long alloc_count;
static void *count_malloc(size_t n) { alloc_count++; return malloc(n); }
static void *count_realloc(void *p, size_t n) { alloc_count++; return realloc(p, n); }

static void test_out_of_memory(void) {
    aiecg_record *rec = open_rec(ptbxl, "records100/01000/01000_lr"); /* 100 Hz: cheap to repeat */
    if (!rec) return;
    /* how many allocations one analysis + renderings makes */
    aiecg_set_allocator(count_malloc, count_realloc, free);
    alloc_count = 0;
    aiecg_result *r0 = NULL;
    char *j0 = NULL, *s0 = NULL;
    aiecg_analyze_options o0 = aiecg_analyze_options_default();
    o0.analyzer = an; /* the model path too, when a model is there (its session pool is warm) */
    CHECK_OK(aiecg_analyze(rec, &o0, &r0, NULL), NULL);
    aiecg_result_json(r0, 0, &j0);
    aiecg_result_svg(r0, NULL, &s0, NULL);
    long total = alloc_count;
    aiecg_free(j0);
    aiecg_free(s0);
    aiecg_result_free(r0);
    aiecg_set_allocator(oom_malloc, oom_realloc, free);
    int nomem = 0, ok = 0;
    long step = total > 200 ? total / 200 : 1;
    for (long k = 0; k <= total; k += step) {
        oom_countdown = k;
        aiecg_analyze_options o = aiecg_analyze_options_default();
        o.analyzer = an;
        aiecg_result *r = NULL;
        aiecg_status st = aiecg_analyze(rec, &o, &r, NULL);
        if (st == AIECG_OK) {
            char *js = NULL, *svg = NULL;
            aiecg_status s2 = aiecg_result_json(r, 0, &js);
            CHECK(s2 == AIECG_OK || s2 == AIECG_ERR_NOMEM);
            s2 = aiecg_result_svg(r, NULL, &svg, NULL);
            CHECK(s2 == AIECG_OK || s2 == AIECG_ERR_NOMEM);
            aiecg_free(js);
            aiecg_free(svg);
            ok++;
        } else {
            CHECK_INT(st, AIECG_ERR_NOMEM);
            CHECK(r == NULL);
            nomem++;
        }
        aiecg_result_free(r);
    }
    oom_countdown = -1;
    aiecg_set_allocator(NULL, NULL, NULL);
    CHECK(nomem > 0 && ok > 0);
    aiecg_record_free(rec);
}


/* Odd shapes: every accepted fs and lead count, exactly 2.5 s, unknown leads, a 64-lead record. */
static void test_odd_shapes(void) {
    static const struct {
        int nleads;
        double fs, seconds;
        int kind;
    } cases[] = {{1, 50, 2.5, 1}, {2, 2000, 2.5, 1}, {3, 128, 12.3, 0}, {12, 1000, 2.5, 1}, {64, 100, 3, 1}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        aiecg_record *rec = NULL;
        int64_t n = (int64_t)(cases[c].fs * cases[c].seconds);
        CHECK_OK(aiecg_record_new(cases[c].nleads, n, cases[c].fs, 0, &rec, NULL), NULL);
        if (!rec) continue;
        uint64_t st = 99;
        for (int l = 0; l < cases[c].nleads; l++) {
            float *x = aiecg_record_lead_data_mut(rec, l);
            for (int64_t i = 0; i < n; i++) {
                st = st * 6364136223846793005ull + 1442695040888963407ull;
                x[i] = cases[c].kind ? (float)((double)(st >> 11) / 9007199254740992.0 - 0.5) : 0.0f;
            }
        }
        aiecg_result *r = analyze(rec);
        CHECK(r != NULL);
        if (r) {
            char *js = NULL, *txt = NULL, *fh = NULL, *svg = NULL;
            CHECK_OK(aiecg_result_json(r, 0, &js), NULL);
            CHECK_OK(aiecg_result_text(r, &txt), NULL);
            CHECK_OK(aiecg_result_fhir(r, &fh, NULL), NULL);
            CHECK_OK(aiecg_result_svg(r, NULL, &svg, NULL), NULL);
            CHECK_INT(count_confident(r), 0); /* noise or silence: nothing but quality statements */
            aiecg_free(js);
            aiecg_free(txt);
            aiecg_free(fh);
            aiecg_free(svg);
        }
        aiecg_result_free(r);
        aiecg_record_free(rec);
    }
}


/* Model choice by the leads present: lead I alone -> lead1, I + II -> limb6 (limb leads derived),
   12 leads -> ecg12; MIT-BIH MLII + V5 -> none fits (rules only). Skipped without those models. */
static void test_model_choice(void) {
    int have = 0;
    for (int i = 0; i < aiecg_analyzer_nmodels(an); i++) {
        const char *nm = aiecg_analyzer_model_name(an, i);
        have += !strncmp(nm, "lead1.", 6) || !strncmp(nm, "limb6.", 6) || !strncmp(nm, "ecg12.", 6);
    }
    if (have < 3) {
        printf("test_model_choice: skipped (needs lead1, limb6 and ecg12)\n");
        return;
    }
    aiecg_record *rec = open_rec(ludb, "1");
    if (!rec) return;
    static const struct {
        int n;
        const char *model;
    } cases[] = {{1, "lead1."}, {2, "limb6."}, {12, "ecg12."}};
    for (size_t c = 0; c < 3; c++) {
        aiecg_record *sub = NULL;
        CHECK_OK(aiecg_record_new(cases[c].n, 5000, 500, 0, &sub, NULL), NULL);
        for (int l = 0; sub && l < cases[c].n; l++) {
            aiecg_lead_info li;
            aiecg_record_lead_info(rec, l, &li); /* LUDB order: I, II, III, ... */
            aiecg_record_set_lead(sub, l, &li);
            memcpy(aiecg_record_lead_data_mut(sub, l), aiecg_record_lead_data(rec, l), 5000 * sizeof(float));
        }
        aiecg_result *r = sub ? analyze(sub) : NULL;
        CHECK(r && aiecg_result_model(r) && !strncmp(aiecg_result_model(r), cases[c].model, 6));
        if (r) CHECK(aiecg_result_has_statement(r, "SBRAD")); /* 45 bpm: the rate rule, whatever the model */
        aiecg_result_free(r);
        aiecg_record_free(sub);
    }
    aiecg_record_free(rec);
    aiecg_record *mit = open_rec(mitdb, "100");
    aiecg_result *r = mit ? analyze(mit) : NULL;
    CHECK(r && aiecg_result_model(r) == NULL);
    aiecg_result_free(r);
    aiecg_record_free(mit);
}

static void test_invalid_args(void) {
    aiecg_result *r = (aiecg_result *)1;
    aiecg_error err;
    aiecg_error_clear(&err);
    CHECK_INT(aiecg_analyze(NULL, NULL, &r, &err), AIECG_ERR_INVALID_ARG);
    CHECK(err.message[0] != '\0');
    aiecg_result_free(NULL);
    aiecg_analyzer_free(NULL);
    CHECK_INT(aiecg_result_nstatements(NULL), 0);
    /* a models folder that does not exist: fine without require_model, an error with it */
    aiecg_analyzer_options ao = aiecg_analyzer_options_default();
    ao.models_dir = "/nonexistent/aiecg-models";
    aiecg_analyzer *a = NULL;
    CHECK_OK(aiecg_analyzer_new(&ao, &a, &err), &err);
    CHECK_INT(aiecg_analyzer_nmodels(a), 0);
    aiecg_analyzer_free(a);
    ao.require_model = 1;
    a = NULL;
    aiecg_error_clear(&err);
    CHECK_INT(aiecg_analyzer_new(&ao, &a, &err), AIECG_ERR_NOT_FOUND);
    CHECK(a == NULL);
    CHECK(strstr(err.message, "/nonexistent/aiecg-models") != NULL);
}

int main(void) {
    test_data_path("ludb/data", ludb, sizeof ludb);
    test_data_path("ptbxl", ptbxl, sizeof ptbxl);
    test_data_path("mitdb", mitdb, sizeof mitdb);
    aiecg_error err;
    aiecg_error_clear(&err);
    aiecg_analyzer_options ao = aiecg_analyzer_options_default();
    char mdir[4200];
    const char *src = getenv("AIECG_SOURCE_DIR");
    if (src) {
        snprintf(mdir, sizeof mdir, "%s/models", src);
        ao.models_dir = mdir;
    }
    CHECK_OK(aiecg_analyzer_new(&ao, &an, &err), &err);
    printf("models: %d in %s\n", aiecg_analyzer_nmodels(an), aiecg_analyzer_models_dir(an));
    RUN(test_invalid_args);
    RUN(test_ludb_sinus_brady);
    RUN(test_ptbxl_100hz);
    RUN(test_mitdb_two_lead);
    RUN(test_unusable_inputs);
    RUN(test_odd_shapes);
    RUN(test_short_and_resampled);
    RUN(test_threads_identical);
    RUN(test_model_matches_pytorch);
    RUN(test_model_choice);
    RUN(test_out_of_memory);
    aiecg_analyzer_free(an);
    return test_summary();
}
