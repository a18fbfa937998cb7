/*
 * Fusion of model logits with measurements (src/interp/fusion.c):
 *  - the "aiecg.fusion" metadata parser accepts what training/fuse.py writes and rejects bad text
 *    with AIECG_ERR_MODEL and a message naming the key, the line and the byte offset;
 *  - on real PTB-XL fold-8 records the C pipeline's fused probabilities equal the Python stacker's
 *    (tests/data/fusion_expected.csv, written by training/fuse.py --expected) within 2e-4, and its
 *    network probabilities equal the unfused ones;
 *  - the same for each reduced-lead model (lead1, leads2, limb6) alone, on the records reduced to its
 *    leads (tests/data/fusion_expected_<model>.csv), whose metadata declares the lead set and fusion;
 *  - ecg12 recompiled without fused labels and with the network's thresholds gives the network's
 *    probabilities bit for bit, no label fused, no "fusion"/"model_probabilities" in the JSON (a model
 *    without fusion behaves as before); ecg12 recompiled with malformed fusion metadata is refused at
 *    load with file, key and line in the message.
 */
#include "interp/interp_int.h"
#include "test.h"

#include <stdlib.h>
#include <unistd.h>

static const char *labels3[] = {"stmt:SR", "stmt:SARRH", "cinc:SA"};

/* A valid text with n features from the C list and one label line. */
static void good_text(char *buf, size_t size, const char *label_line) {
    int n = aiecg_fusion_nfeatures();
    size_t k = (size_t)snprintf(buf, size, "version=1\nfeatures=");
    for (int i = 0; i < n; i++) k += (size_t)snprintf(buf + k, size - k, "%s%s", i ? "," : "", aiecg_fusion_feature_name(i));
    k += (size_t)snprintf(buf + k, size - k, "\nmu=");
    for (int i = 0; i < n; i++) k += (size_t)snprintf(buf + k, size - k, "%s0", i ? "," : "");
    k += (size_t)snprintf(buf + k, size - k, "\nsd=");
    for (int i = 0; i < n; i++) k += (size_t)snprintf(buf + k, size - k, "%s1", i ? "," : "");
    k += (size_t)snprintf(buf + k, size - k, "\n%s\n", label_line);
}

static void weights(char *buf, size_t size, int n) {
    size_t k = 0;
    for (int i = 0; i < n; i++) k += (size_t)snprintf(buf + k, size - k, "%s0.5", i ? "," : "");
}

static void expect_error(const char *text, const char *needle) {
    aiecg__fusion *fu = (aiecg__fusion *)1;
    aiecg_error err;
    aiecg_error_clear(&err);
    aiecg_status st = aiecg__fusion_parse(text, labels3, 3, &fu, &err);
    CHECK_INT(st, AIECG_ERR_MODEL);
    CHECK(fu == NULL);
    CHECK(strstr(err.message, "aiecg.fusion") != NULL);
    if (!strstr(err.message, needle)) {
        fprintf(stderr, "message '%s' lacks '%s'\n", err.message, needle);
        CHECK(0);
    }
}

static void test_parse(void) {
    static char text[16384], line[8192], w[4096];
    int n = aiecg_fusion_nfeatures();
    CHECK(n > 40);
    weights(w, sizeof w, n);
    snprintf(line, sizeof line, "label=stmt:SARRH a=1 c=-0.5 w=%s", w);
    good_text(text, sizeof text, line);
    aiecg__fusion *fu = NULL;
    aiecg_error err;
    aiecg_error_clear(&err);
    CHECK_OK(aiecg__fusion_parse(text, labels3, 3, &fu, &err), &err);
    CHECK_INT(aiecg__fusion_nlabels(fu), 1);
    aiecg__fusion_free(fu);
    fu = (aiecg__fusion *)1;
    CHECK_OK(aiecg__fusion_parse(NULL, labels3, 3, &fu, &err), &err);
    CHECK(fu == NULL);

    /* unknown label: named, with its line */
    snprintf(line, sizeof line, "label=stmt:BIGU a=1 c=0 w=%s", w);
    good_text(text, sizeof text, line);
    expect_error(text, "line 5 (byte");
    expect_error(text, "'stmt:BIGU' is not a model output");
    /* too few weights */
    weights(w, sizeof w, n - 1);
    snprintf(line, sizeof line, "label=stmt:SR a=1 c=0 w=%s", w);
    good_text(text, sizeof text, line);
    expect_error(text, "w= needs");
    /* a non-number */
    snprintf(line, sizeof line, "label=stmt:SR a=x c=0 w=%s", w);
    good_text(text, sizeof text, line);
    expect_error(text, "a= is not one number");
    /* missing c= */
    weights(w, sizeof w, n);
    snprintf(line, sizeof line, "label=stmt:SR a=1 w=%s", w);
    good_text(text, sizeof text, line);
    expect_error(text, "needs a=, c= and w=");
    /* feature list of another build */
    good_text(text, sizeof text, "");
    char *f = strstr(text, "rr_ac1");
    CHECK(f != NULL);
    if (f) memcpy(f, "rr_xx1", 6);
    expect_error(text, "feature 5 is 'rr_xx1'");
    /* version, unknown key, sd <= 0 */
    expect_error("version=2\n", "version 2 not supported");
    expect_error("version=1\nbogus=3\n", "unknown key 'bogus'");
    expect_error("version=1\n", "missing features=");
    expect_error("version=1\nthis line has no equals sign\n", "line 2 (byte 10)");
    good_text(text, sizeof text, "");
    char *sd = strstr(text, "sd=1");
    if (sd) sd[3] = '0';
    expect_error(text, "sd of beats_10s is not > 0");
}

static aiecg_analyzer *analyzer_for(const char *dir) {
    aiecg_analyzer_options o = aiecg_analyzer_options_default();
    o.models_dir = dir;
    o.require_model = 1;
    aiecg_analyzer *an = NULL;
    aiecg_error err;
    aiecg_error_clear(&err);
    if (aiecg_analyzer_new(&o, &an, &err) != AIECG_OK) {
        fprintf(stderr, "analyzer %s: %s\n", dir, err.message);
        return NULL;
    }
    return an;
}

/* PTB-XL record id analysed as it is (leads == NULL) or reduced to the comma list leads, as
 * aiecg eval ptbxl feeds a reduced-lead model (and as training/fuse.py's features were computed). */
static aiecg_result *analyze_ptbxl_leads(aiecg_analyzer *an, const char *ptbxl, int id, const char *leads) {
    char path[4400];
    snprintf(path, sizeof path, "%s/records100/%02d000/%05d_lr", ptbxl, id / 1000, id);
    aiecg_record *rec = NULL, *sub = NULL;
    aiecg_result *res = NULL;
    if (aiecg_record_open(path, NULL, &rec, NULL) != AIECG_OK) return NULL;
    if (leads) {
        int idx[AIECG_MAX_LEADS], n = 0;
        for (const char *p = leads; *p && n < AIECG_MAX_LEADS;) {
            char name[16];
            size_t len = strcspn(p, ",");
            snprintf(name, sizeof name, "%.*s", (int)(len < sizeof name ? len : sizeof name - 1), p);
            idx[n++] = aiecg_record_find_lead(rec, aiecg_lead_parse(name));
            p += len + (p[len] == ',');
        }
        if (aiecg_record_select_leads(rec, idx, n, &sub, NULL) != AIECG_OK) {
            aiecg_record_free(rec);
            return NULL;
        }
        aiecg_record_free(rec);
        rec = sub;
    }
    aiecg_analyze_options ao = aiecg_analyze_options_default();
    ao.analyzer = an;
    ao.keep_signal = 0;
    if (aiecg_analyze(rec, &ao, &res, NULL) != AIECG_OK) res = NULL;
    aiecg_record_free(rec);
    return res;
}

static aiecg_result *analyze_ptbxl(aiecg_analyzer *an, const char *ptbxl, int id) {
    return analyze_ptbxl_leads(an, ptbxl, id, NULL);
}

static int label_index(const aiecg_result *r, const char *name) {
    for (int i = 0; i < aiecg_result_nlabels(r); i++)
        if (!strcmp(aiecg_result_label(r, i), name)) return i;
    return -1;
}

/* The C pipeline's probabilities against training/fuse.py --expected (exp) for the model(s) in
 * models_dir, records reduced to leads (NULL: as they are). Returns the last result (caller frees). */
static aiecg_result *matches_python(const char *name, const char *models_dir, const char *exp, const char *leads) {
    char ptbxl[4200];
    test_data_path("ptbxl", ptbxl, sizeof ptbxl);
    aiecg_analyzer *an = analyzer_for(models_dir);
    FILE *f = fopen(exp, "r");
    CHECK(an != NULL);
    CHECK(f != NULL);
    if (!an || !f) {
        if (f) fclose(f);
        aiecg_analyzer_free(an);
        return NULL;
    }
    char line[256];
    int cur = -1, rows = 0, fused_rows = 0, nrec = 0;
    aiecg_result *r = NULL;
    double worst = 0, worst_raw = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#') continue;
        int id;
        char label[64];
        double pn, pf;
        if (sscanf(line, "%d,%63[^,],%lf,%lf", &id, label, &pn, &pf) != 4) continue;
        if (id != cur) {
            aiecg_result_free(r);
            r = analyze_ptbxl_leads(an, ptbxl, id, leads);
            cur = id;
            nrec++;
            CHECK(r != NULL);
        }
        if (!r) continue;
        int k = label_index(r, label);
        CHECK(k >= 0);
        if (k < 0) continue;
        rows++;
        fused_rows += aiecg_result_label_fused(r, k);
        double d = fabs(aiecg_result_label_probability(r, k) - pf);
        double dr = fabs(aiecg_result_model_probability(r, k) - pn);
        if (d > worst) worst = d;
        if (dr > worst_raw) worst_raw = dr;
        if (d > 2e-4) fprintf(stderr, "%s %d %s: C %.6f vs python %.6f\n", name, id, label,
                              aiecg_result_label_probability(r, k), pf);
    }
    fclose(f);
    CHECK(rows >= 100);
    CHECK_INT(fused_rows, rows);
    CHECK(worst <= 2e-4);
    CHECK(worst_raw <= 2e-4);
    printf("fusion %s: %d label probabilities of %d records, max |C - python| fused %.2g, network %.2g\n", name,
           rows, nrec, worst, worst_raw);
    aiecg_analyzer_free(an);
    return r;
}

static void test_matches_python(void) {
    const char *src = getenv("AIECG_SOURCE_DIR");
    char models[4200], exp[4200];
    snprintf(models, sizeof models, "%s/models", src ? src : ".");
    snprintf(exp, sizeof exp, "%s/tests/data/fusion_expected.csv", src ? src : ".");
    aiecg_result *r = matches_python("ecg12", models, exp, NULL);
    /* labels the fusion leaves alone keep the network's probability; the JSON carries both */
    if (r) {
        int k = label_index(r, "super:MI");
        CHECK(k >= 0 && !aiecg_result_label_fused(r, k));
        if (k >= 0) CHECK(aiecg_result_label_probability(r, k) == aiecg_result_model_probability(r, k));
        char *js = NULL;
        CHECK_OK(aiecg_result_json(r, 0, &js), NULL);
        CHECK(js && strstr(js, "\"model_probabilities\":{") && strstr(js, "\"fusion\":{\"version\":1"));
        CHECK(js && strstr(js, "\"schema_version\":\"1.1\""));
        aiecg_free(js);
    }
    aiecg_result_free(r);
}

/*
 * The reduced-lead models (watch lead I, patch I+II, six limb leads): each shipped .aiem alone in a
 * folder parses its fusion, declares the lead set, and on PTB-XL fold-8 records reduced to those leads
 * gives the Python stacker's fused probabilities (tests/data/fusion_expected_<model>.csv).
 */
static void test_reduced_models(void) {
    static const char *names[3] = {"lead1", "leads2", "limb6"};
    static const char *leads[3] = {"I", "I,II", "I,II,III,aVR,aVL,aVF"};
    const char *src = getenv("AIECG_SOURCE_DIR");
    for (int m = 0; m < 3; m++) {
        char from[4200], dir[] = "/tmp/aiecg_fusionr_XXXXXX", to[4300], exp[4200];
        snprintf(from, sizeof from, "%s/models/%s.aiem", src ? src : ".", names[m]);
        snprintf(exp, sizeof exp, "%s/tests/data/fusion_expected_%s.csv", src ? src : ".", names[m]);
        CHECK(mkdtemp(dir) != NULL);
        snprintf(to, sizeof to, "%s/%s.aiem", dir, names[m]);
        FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
        CHECK(in && out);
        if (in && out) {
            char buf[65536];
            size_t n;
            while ((n = fread(buf, 1, sizeof buf, in)) > 0) fwrite(buf, 1, n, out);
        }
        if (in) fclose(in);
        if (out) fclose(out);
        aiecg_model *mdl = NULL;
        CHECK_OK(aiecg_model_load(to, &mdl, NULL), NULL);
        if (mdl) {
            const char *ml = aiecg_model_meta(mdl, "aiecg.input.leads");
            CHECK_STR(ml ? ml : "", leads[m]);
            CHECK(aiecg_model_meta(mdl, "aiecg.fusion") != NULL);
            CHECK(aiecg_model_meta(mdl, "aiecg.thresholds.model") != NULL);
        }
        aiecg_model_free(mdl);
        aiecg_result *r = matches_python(names[m], dir, exp, leads[m]);
        if (r) {
            CHECK_STR(aiecg_result_model(r), to + strlen(dir) + 1);
            int k = label_index(r, "super:MI"); /* not a candidate: keeps the network's probability */
            CHECK(k >= 0 && !aiecg_result_label_fused(r, k));
        }
        aiecg_result_free(r);
        unlink(to);
        rmdir(dir);
    }
}

/*
 * End to end through the model file: ecg12 recompiled with a malformed aiecg.fusion is refused at load,
 * naming the file, the key and the line; recompiled with a fusion that names no label and the network's
 * own thresholds, it gives the network's probabilities bit for bit (what the fused model reports as
 * model probabilities) and no fusion in the JSON.
 */
static void test_model_file(void) {
    const char *src = getenv("AIECG_SOURCE_DIR");
    char onnx[4200], dir[] = "/tmp/aiecg_fusion2_XXXXXX", out[4300], ptbxl[4200], models[4200];
    snprintf(onnx, sizeof onnx, "%s/models/ecg12.onnx", src ? src : ".");
    snprintf(models, sizeof models, "%s/models", src ? src : ".");
    test_data_path("ptbxl", ptbxl, sizeof ptbxl);
    CHECK(mkdtemp(dir) != NULL);
    snprintf(out, sizeof out, "%s/ecg12.aiem", dir);
    aiecg_model *m = NULL;
    aiecg_error err;
    aiecg_error_clear(&err);
    if (aiecg_model_load(onnx, &m, &err) != AIECG_OK) {
        printf("test_model_file: skipped (%s)\n", err.message); /* a build without ONNX import */
        rmdir(dir);
        return;
    }
    const char *thr_model = aiecg_model_meta(m, "aiecg.thresholds.model");
    CHECK(thr_model != NULL);
    const char *keys[2] = {"aiecg.fusion", "aiecg.thresholds"};
    const char *vals[2] = {"version=1\nfeatures=beats_10s\n", thr_model};
    aiecg_compile_options co = {0};
    co.nmeta = 1;
    co.meta_keys = keys;
    co.meta_values = vals;
    CHECK_OK(aiecg_model_compile(onnx, out, &co, &err), &err);
    aiecg_analyzer_options o = aiecg_analyzer_options_default();
    o.models_dir = dir;
    o.require_model = 1;
    aiecg_analyzer *an = NULL;
    aiecg_error_clear(&err);
    CHECK(aiecg_analyzer_new(&o, &an, &err) != AIECG_OK); /* no loadable model: the fusion error is the message */
    CHECK(strstr(err.message, "ecg12.aiem") && strstr(err.message, "aiecg.fusion: line 2 (byte 10)"));
    CHECK(strstr(err.message, "features"));
    aiecg_analyzer_free(an);

    static char text[16384];
    good_text(text, sizeof text, "");
    vals[0] = text;
    co.nmeta = 2;
    CHECK_OK(aiecg_model_compile(onnx, out, &co, &err), &err);
    an = analyzer_for(dir);
    aiecg_analyzer *fused = analyzer_for(models);
    aiecg_result *r = an ? analyze_ptbxl(an, ptbxl, 98) : NULL, *rf = fused ? analyze_ptbxl(fused, ptbxl, 98) : NULL;
    CHECK(r && rf);
    if (r && rf) {
        CHECK_INT(aiecg_result_nlabels(r), aiecg_result_nlabels(rf));
        int fused_labels = 0;
        for (int i = 0; i < aiecg_result_nlabels(r); i++) {
            CHECK(!aiecg_result_label_fused(r, i));
            CHECK(aiecg_result_label_probability(r, i) == aiecg_result_model_probability(rf, i));
            fused_labels += aiecg_result_label_fused(rf, i);
        }
        CHECK(fused_labels >= 40);
        int k = label_index(rf, "stmt:SARRH"); /* record 98: NORM, SARRH */
        CHECK(k >= 0 && aiecg_result_label_probability(rf, k) > aiecg_result_label_probability(r, k));
        char *js = NULL;
        CHECK_OK(aiecg_result_json(r, 0, &js), NULL);
        CHECK(js && !strstr(js, "\"fusion\"") && !strstr(js, "model_probabilities"));
        aiecg_free(js);
    }
    aiecg_result_free(r);
    aiecg_result_free(rf);
    aiecg_analyzer_free(an);
    aiecg_analyzer_free(fused);
    aiecg_model_free(m);
    unlink(out);
    rmdir(dir);
}

/* The features of a real record are finite where the pipeline measured, flags consistent. */
static void test_features(void) {
    const char *src = getenv("AIECG_SOURCE_DIR");
    char models[4200], ptbxl[4200];
    snprintf(models, sizeof models, "%s/models", src ? src : ".");
    test_data_path("ptbxl", ptbxl, sizeof ptbxl);
    aiecg_analyzer *an = analyzer_for(models);
    aiecg_result *r = an ? analyze_ptbxl(an, ptbxl, 1232) : NULL; /* bigeminy, 1AVB, CRBBB */
    CHECK(r != NULL);
    if (r) {
        int n = aiecg_fusion_nfeatures();
        double f[128];
        CHECK_INT(aiecg_result_features(r, f, 2), AIECG_ERR_INVALID_ARG);
        CHECK_OK(aiecg_result_features(r, f, n), NULL);
        int ac1 = -1, miss_pr = -1, pr = -1;
        for (int i = 0; i < n; i++) {
            if (!strcmp(aiecg_fusion_feature_name(i), "rr_ac1")) ac1 = i;
            if (!strcmp(aiecg_fusion_feature_name(i), "miss_pr")) miss_pr = i;
            if (!strcmp(aiecg_fusion_feature_name(i), "pr")) pr = i;
            CHECK(aiecg_fusion_feature_meaning(i) != NULL);
        }
        CHECK(ac1 >= 0 && miss_pr >= 0 && pr >= 0);
        if (ac1 >= 0) CHECK(f[ac1] < -0.3); /* short-long alternation */
        if (miss_pr >= 0 && pr >= 0) CHECK((f[miss_pr] == 1.0) == !isfinite(f[pr]));
        CHECK(aiecg_fusion_feature_name(n) == NULL);
    }
    aiecg_result_free(r);
    aiecg_analyzer_free(an);
}

/*
 * aiecg eval ptbxl with a reduced-lead model reduces the record itself, not only the network input:
 * its --dump-features row of record 98 (fold 8) equals the features of that record reduced to lead I
 * and analysed here, and the features only precordial leads give (Sokolow-Lyon, R in V1) are missing.
 */
static void test_eval_ptbxl_reduces_records(void) {
    const char *cli = getenv("AIECG_CLI"), *src = getenv("AIECG_SOURCE_DIR");
    char data[4200], ptbxl[4200];
    test_data_path("ptbxl", ptbxl, sizeof ptbxl);
    snprintf(data, sizeof data, "%s", ptbxl);
    char *slash = strrchr(data, '/');
    if (!cli || !slash) {
        printf("test_eval_ptbxl_reduces_records: skipped (no AIECG_CLI)\n");
        return;
    }
    *slash = '\0'; /* the data folder holding ptbxl/ and ptbxl-labels/ */
    char dir[] = "/tmp/aiecg_fusione_XXXXXX", from[4200], to[4300], csv[4300], cmd[16384];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(from, sizeof from, "%s/models/lead1.aiem", src ? src : ".");
    snprintf(to, sizeof to, "%s/lead1.aiem", dir);
    snprintf(csv, sizeof csv, "%s/f.csv", dir);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s' && '%s' eval ptbxl --db '%s' --models '%s' --folds 8 --threads 2 "
             "--dump-features '%s' >/dev/null 2>&1", from, to, cli, data, dir, csv);
    CHECK_INT(system(cmd), 0);
    FILE *f = fopen(csv, "r");
    CHECK(f != NULL);
    static char line[65536];
    int n = aiecg_fusion_nfeatures(), found = 0;
    double dumped[128];
    if (f && fgets(line, sizeof line, f)) {
        while (fgets(line, sizeof line, f)) {
            char *p = line, *e;
            long id = strtol(p, &e, 10);
            if (id != 98) continue;
            p = strchr(e + 1, ','); /* skip the fold */
            for (int k = 0; p && k < n; k++) {
                dumped[k] = strtod(p + 1, &e);
                p = strchr(e, ',');
            }
            found = 1;
            break;
        }
    }
    if (f) fclose(f);
    CHECK(found);
    aiecg_analyzer *an = analyzer_for(dir);
    aiecg_result *r = an ? analyze_ptbxl_leads(an, ptbxl, 98, "I") : NULL;
    CHECK(r != NULL);
    if (r && found) {
        double mine[128];
        CHECK_OK(aiecg_result_features(r, mine, n), NULL);
        int same = 0;
        for (int k = 0; k < n; k++) {
            int eq = (isnan(mine[k]) && isnan(dumped[k])) || fabs(mine[k] - dumped[k]) <= 1e-6 * (1 + fabs(mine[k]));
            if (!eq) fprintf(stderr, "feature %s: dump %.9g vs lead-I analysis %.9g\n", aiecg_fusion_feature_name(k),
                             dumped[k], mine[k]);
            same += eq;
            if (!strcmp(aiecg_fusion_feature_name(k), "sokolow") || !strcmp(aiecg_fusion_feature_name(k), "v1_r"))
                CHECK(isnan(dumped[k]));
        }
        CHECK_INT(same, n);
    }
    aiecg_result_free(r);
    aiecg_analyzer_free(an);
    unlink(csv);
    unlink(to);
    rmdir(dir);
}

int main(void) {
    RUN(test_parse);
    RUN(test_matches_python);
    RUN(test_reduced_models);
    RUN(test_model_file);
    RUN(test_features);
    RUN(test_eval_ptbxl_reduces_records);
    return test_summary();
}
