/*
 * LSTM / GRU / RNN in the inference engine (src/nn/ops_rnn.c):
 *  - PyTorch match: conv front-end + bidirectional LSTM (1 layer) or GRU
 *    (2 layers) + linear head, exported by bench/models/make_models.py --rnn
 *    (tests/data/nn/crnn_*), must reproduce PyTorch's output at batch 3 x 1000
 *    samples and batch 1 x 600 samples from one session planned for the
 *    larger: max |diff| <= 1e-4 in FP32 on the generic, the best SIMD, the
 *    AVX2/NEON and the 2-thread path, from the ONNX file and the compiled
 *    .aiem (whose output equals the ONNX one bit for bit), <= 1e-3 with FP16
 *    weights; a run allocates nothing. Batch 9 (the 3 records three times)
 *    takes the GEMM kernels for the per-step recurrence too. "C twin": CPU
 *    features masked to SSE2, so the fast path runs its plain C build.
 *  - attributes: single-node models (tests/data/nn/rnn_*) covering
 *    directions, layout 1, sequence_lens (0 included), initial states,
 *    peepholes, clip, input_forget, linear_before_reset 0/1 and non-default
 *    activations with alpha/beta, against the float64 reference in the
 *    generator (written from the ONNX spec and checked there against
 *    libonnx-testdata): every output (Y, Y_h, Y_c) within 1e-5 on the
 *    reference, the best fast path and its C twin.
 *  - import errors name the node, the op and the attribute; import + plan
 *    under allocation-failure injection give AIECG_ERR_NOMEM, never a crash;
 *    corrupted attribute fields (as an .aiem file may carry) are refused.
 */
#include "test.h"
#include "nn_npy.h"
#include "nn/nn_int.h"

#include <unistd.h>

static char srcdir[1024];

static long nallocs;
static void *count_malloc(size_t n) { nallocs++; return malloc(n); }
static void *count_realloc(void *p, size_t n) { nallocs++; return realloc(p, n); }

static void path_of(char *buf, size_t size, const char *name, const char *ext) {
    snprintf(buf, size, "%s/tests/data/nn/%s%s", srcdir, name, ext);
}

static double maxdiff(const float *a, const float *b, int64_t n) {
    double md = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (!(d <= md)) md = d;
    }
    return md;
}

typedef struct {
    float *x, *y;
    int64_t xd[8], yd[8], ny;
    int xn, yn;
} pair;

static int load_pair(pair *p, const char *model, const char *in, const char *out) {
    char a[1200], b[1200];
    path_of(a, sizeof a, model, in);
    path_of(b, sizeof b, model, out);
    p->x = npy_load(a, p->xd, &p->xn);
    p->y = npy_load(b, p->yd, &p->yn);
    p->ny = 1;
    for (int i = 0; i < p->yn; i++) p->ny *= p->yd[i];
    return p->x && p->y;
}

/* Runs both pairs through one session planned for 3 x 1000; out1/out2 receive the outputs. */
static void run_pairs(aiecg_model *m, aiecg_session_options o, const pair *p, float *out1, float *out2,
                      double *d1, double *d2) {
    aiecg_session *s = NULL;
    aiecg_error err;
    aiecg_error_clear(&err);
    o.max_batch = 3;
    o.max_length = 1000;
    *d1 = *d2 = 1e9;
    CHECK_OK(aiecg_session_new(m, &o, &s, &err), &err);
    if (!s) return;
    float *outs[2] = {out1, out2};
    double *ds[2] = {d1, d2};
    for (int k = 0; k < 2; k++) {
        int64_t od[AIECG_NN_MAX_DIMS];
        int ond = 0;
        long before = nallocs;
        CHECK_OK(aiecg_session_run(s, p[k].x, p[k].xd, p[k].xn, outs[k], (size_t)p[k].ny, od, &ond, &err), &err);
        CHECK_INT(nallocs - before, 0);
        CHECK_INT(ond, p[k].yn);
        *ds[k] = maxdiff(outs[k], p[k].y, p[k].ny);
    }
    aiecg_session_free(s);
}

#ifdef AIECG_HAVE_ONNX
static void test_pytorch_models(void) {
    static const char *models[] = {"crnn_lstm", "crnn_gru"};
    for (size_t mi = 0; mi < sizeof models / sizeof models[0]; mi++) {
        const char *name = models[mi];
        pair p[2];
        memset(p, 0, sizeof p);
        CHECK(load_pair(&p[0], name, ".in.npy", ".out.npy"));
        CHECK(load_pair(&p[1], name, ".in2.npy", ".out2.npy"));
        if (!p[0].x || !p[0].y || !p[1].x || !p[1].y) continue;
        CHECK_INT(p[0].xd[0], 3);
        CHECK_INT(p[1].xd[0], 1);
        CHECK(p[0].xd[2] != p[1].xd[2]);
        float *ref1 = calloc((size_t)p[0].ny, 4), *ref2 = calloc((size_t)p[1].ny, 4);
        float *o1 = calloc((size_t)p[0].ny, 4), *o2 = calloc((size_t)p[1].ny, 4);
        char onnx[1200], aiem[1200], aiem16[1200];
        path_of(onnx, sizeof onnx, name, ".onnx");
        snprintf(aiem, sizeof aiem, "/tmp/aiecg_test_rnn_%d_%s.aiem", (int)getpid(), name);
        snprintf(aiem16, sizeof aiem16, "/tmp/aiecg_test_rnn_%d_%s_16.aiem", (int)getpid(), name);
        aiecg_error err;
        aiecg_error_clear(&err);
        aiecg_model *m = NULL;
        CHECK_OK(aiecg_model_load(onnx, &m, &err), &err);
        if (!m) continue;
        char *desc = aiecg_model_describe(m);
        CHECK(desc && strstr(desc, mi == 0 ? "LSTM" : "GRU"));
        aiecg_free(desc);
        aiecg_session_options o = aiecg_session_options_default();
        double g1, g2, f1, f2, t1, t2, v1, v2;
        o.force_generic = 1;
        run_pairs(m, o, p, o1, o2, &g1, &g2);
        o.force_generic = 0;
        run_pairs(m, o, p, ref1, ref2, &f1, &f2);
        o.nthreads = 2;
        run_pairs(m, o, p, o1, o2, &t1, &t2);
        CHECK(memcmp(o1, ref1, (size_t)p[0].ny * 4) == 0);
        CHECK(memcmp(o2, ref2, (size_t)p[1].ny * 4) == 0);
        o.nthreads = 1;
        o.cpu_features = AIECG_CPU_SSE2 | AIECG_CPU_AVX | AIECG_CPU_AVX2 | AIECG_CPU_FMA | AIECG_CPU_F16C | AIECG_CPU_NEON;
        run_pairs(m, o, p, o1, o2, &v1, &v2);
        double c1, c2; /* no AVX2: the plain C twin of the fast path (rnn_fast.h built without -mavx2) */
        o.cpu_features = AIECG_CPU_SSE2;
        run_pairs(m, o, p, o1, o2, &c1, &c2);
        o.cpu_features = 0;
        printf("%-10s 3x1000 / 1x600: generic %.3g / %.3g  fast %.3g / %.3g  2 threads %.3g / %.3g  avx2/neon %.3g / %.3g  "
               "C twin %.3g / %.3g\n",
               name, g1, g2, f1, f2, t1, t2, v1, v2, c1, c2);
        CHECK(c1 <= 1e-4 && c2 <= 1e-4);
        CHECK(g1 <= 1e-4 && g2 <= 1e-4);
        CHECK(f1 <= 1e-4 && f2 <= 1e-4);
        CHECK(t1 <= 1e-4 && t2 <= 1e-4);
        CHECK(v1 <= 1e-4 && v2 <= 1e-4);
        /* batch 9 (the 3 records three times): the per-step recurrence takes the GEMM kernels from 8 rows on */
        {
            int64_t n3 = p[0].xd[1] * p[0].xd[2] * 3, xd9[3] = {9, p[0].xd[1], p[0].xd[2]};
            float *x9 = malloc((size_t)n3 * 3 * 4), *y9 = malloc((size_t)p[0].ny * 3 * 4), *out9 = malloc((size_t)p[0].ny * 3 * 4);
            for (int r = 0; r < 3; r++) {
                memcpy(x9 + r * n3, p[0].x, (size_t)n3 * 4);
                memcpy(y9 + r * p[0].ny, p[0].y, (size_t)p[0].ny * 4);
            }
            for (int pass = 0; pass < 4; pass++) {
                aiecg_session_options o9 = aiecg_session_options_default();
                o9.max_batch = 9;
                o9.max_length = 1000;
                o9.force_generic = pass == 0;
                if (pass == 2) o9.cpu_features = AIECG_CPU_SSE2 | AIECG_CPU_AVX | AIECG_CPU_AVX2 | AIECG_CPU_FMA | AIECG_CPU_F16C | AIECG_CPU_NEON;
                if (pass == 3) o9.cpu_features = AIECG_CPU_SSE2;
                aiecg_session *s9 = NULL;
                int64_t od[AIECG_NN_MAX_DIMS];
                int ond = 0;
                double d9 = 1e9;
                CHECK_OK(aiecg_session_new(m, &o9, &s9, &err), &err);
                if (s9) {
                    CHECK_OK(aiecg_session_run(s9, x9, xd9, 3, out9, (size_t)p[0].ny * 3, od, &ond, &err), &err);
                    d9 = maxdiff(out9, y9, p[0].ny * 3);
                }
                aiecg_session_free(s9);
                printf("%-10s batch 9 (%s): %.3g\n", name, pass == 0 ? "generic" : pass == 1 ? "fast" : pass == 2 ? "avx2/neon" : "C twin", d9);
                CHECK(d9 <= 1e-4);
            }
            free(x9);
            free(y9);
            free(out9);
        }
        aiecg_model_free(m);
        /* compiled .aiem: FP32 gives the ONNX output bit for bit, FP16 weights within 1e-3 */
        aiecg_compile_options co = {0, 0, NULL, NULL};
        CHECK_OK(aiecg_model_compile(onnx, aiem, &co, &err), &err);
        co.fp16 = 1;
        CHECK_OK(aiecg_model_compile(onnx, aiem16, &co, &err), &err);
        aiecg_model *ma = NULL, *mh = NULL;
        CHECK_OK(aiecg_model_load(aiem, &ma, &err), &err);
        CHECK_OK(aiecg_model_load(aiem16, &mh, &err), &err);
        if (ma && mh) {
            double a1, a2, h1, h2, hg1, hg2;
            run_pairs(ma, o, p, o1, o2, &a1, &a2);
            CHECK(memcmp(o1, ref1, (size_t)p[0].ny * 4) == 0);
            CHECK(memcmp(o2, ref2, (size_t)p[1].ny * 4) == 0);
            run_pairs(mh, o, p, o1, o2, &h1, &h2);
            o.force_generic = 1;
            run_pairs(mh, o, p, o1, o2, &hg1, &hg2);
            o.force_generic = 0;
            printf("%-10s aiem %.3g / %.3g  fp16 %.3g / %.3g  fp16 generic %.3g / %.3g\n", name, a1, a2, h1, h2, hg1,
                   hg2);
            CHECK(a1 <= 1e-4 && a2 <= 1e-4);
            CHECK(h1 <= 1e-3 && h2 <= 1e-3);
            CHECK(hg1 <= 1e-3 && hg2 <= 1e-3);
        }
        aiecg_model_free(ma);
        aiecg_model_free(mh);
        unlink(aiem);
        unlink(aiem16);
        free(ref1);
        free(ref2);
        free(o1);
        free(o2);
        for (int k = 0; k < 2; k++) {
            free(p[k].x);
            free(p[k].y);
        }
    }
}

/* Imports an ONNX file with graph output `oname` as the model's one output. */
static aiecg_model *load_for_output(const char *path, const char *oname, aiecg_error *err) {
    uint8_t *data = NULL;
    size_t len = 0;
    if (aiecg__read_file(path, (size_t)1 << 26, &data, &len, err) != AIECG_OK) return NULL;
    aiecg_model *m = aiecg__calloc(1, sizeof *m);
    aiecg_status st = m ? aiecg__nn_import_onnx(data, len, &m->g, err) : AIECG_ERR_NOMEM;
    aiecg__free(data);
    if (!st) {
        m->g.output = aiecg__nn_find_tensor(&m->g, oname);
        if (m->g.output < 0) st = aiecg__error_set(err, AIECG_ERR_NOT_FOUND, "no tensor %s", oname);
    }
    if (!st) st = aiecg__nn_optimize(&m->g, err);
    if (!st) st = aiecg__nn_graph_check(&m->g, err);
    if (st) {
        aiecg_model_free(m);
        return NULL;
    }
    return m;
}

static void test_attribute_cases(void) {
    static const char *cases[] = {"rnn_lstm_bidir_full", "rnn_lstm_rev_clip_coupled", "rnn_gru_fwd_layout1",
                                  "rnn_gru_bidir_lbr_clip", "rnn_rnn_bidir_relu", "rnn_rnn_rev_affine"};
    static const char *outs[] = {"Y", "Y_h", "Y_c"};
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
        char onnx[1200], pin[1200], pout[1200];
        path_of(onnx, sizeof onnx, cases[ci], ".onnx");
        path_of(pin, sizeof pin, cases[ci], ".in.npy");
        path_of(pout, sizeof pout, cases[ci], ".out.npy");
        int64_t xd[8], yd[8];
        int xn = 0, yn = 0;
        float *x = npy_load(pin, xd, &xn), *want = npy_load(pout, yd, &yn);
        CHECK(x && want && yn == 1);
        if (!x || !want) continue;
        int nouts = strstr(cases[ci], "lstm") ? 3 : 2;
        int64_t off = 0;
        for (int k = 0; k < nouts; k++) {
            aiecg_error err;
            aiecg_error_clear(&err);
            aiecg_model *m = load_for_output(onnx, outs[k], &err);
            CHECK_OK(m ? AIECG_OK : AIECG_ERR_MODEL, &err);
            if (!m) break;
            int64_t n = 0;
            double d[3] = {1e9, 1e9, 1e9};
            for (int pass = 0; pass < 3; pass++) {
                aiecg_session_options o = aiecg_session_options_default();
                o.force_generic = pass == 0;
                if (pass == 2) o.cpu_features = AIECG_CPU_SSE2; /* the fast path's plain C twin */
                o.max_batch = xd[0];
                aiecg_session *s = NULL;
                CHECK_OK(aiecg_session_new(m, &o, &s, &err), &err);
                float got[512];
                int64_t od[AIECG_NN_MAX_DIMS];
                int ond = 0;
                if (s) CHECK_OK(aiecg_session_run(s, x, xd, xn, got, 512, od, &ond, &err), &err);
                aiecg_session_free(s);
                n = 1;
                for (int i = 0; i < ond; i++) n *= od[i];
                CHECK(off + n <= yd[0]);
                if (off + n <= yd[0]) d[pass] = maxdiff(got, want + off, n);
            }
            printf("%-26s %-3s %3lld values: generic %.3g  fast %.3g  C twin %.3g\n", cases[ci], outs[k], (long long)n,
                   d[0], d[1], d[2]);
            CHECK(d[0] <= 1e-5);
            CHECK(d[1] <= 1e-5);
            CHECK(d[2] <= 1e-5);
            off += n;
            aiecg_model_free(m);
        }
        CHECK_INT(off, yd[0]);
        free(x);
        free(want);
    }
}

static void test_import_errors(void) {
    static const struct { const char *file, *want[3]; } cases[] = {
        {"rnn_bad_activation", {"'bad_activation'", "(LSTM)", "activations: 'Swish'"}},
        {"rnn_bad_direction", {"'bad_direction'", "(LSTM)", "direction"}},
        {"rnn_bad_attribute", {"'bad_attribute'", "(LSTM)", "'linear_before_reset'"}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char p[1200];
        path_of(p, sizeof p, cases[i].file, ".onnx");
        aiecg_error err;
        aiecg_error_clear(&err);
        aiecg_model *m = NULL;
        aiecg_status st = aiecg_model_load(p, &m, &err);
        CHECK_INT(st, AIECG_ERR_UNSUPPORTED);
        CHECK(m == NULL);
        for (int k = 0; k < 3; k++) {
            CHECK(strstr(err.message, cases[i].want[k]) != NULL);
            if (!strstr(err.message, cases[i].want[k])) printf("message: %s\n", err.message);
        }
        aiecg_model_free(m);
    }
}

/*
 * Allocation-failure injection: import + optimise + plan of an LSTM, a GRU
 * and the bidirectional CRNN with the Nth allocation failing, for every N
 * until it succeeds; each failure must be AIECG_ERR_NOMEM, leak nothing
 * (ASan build) and crash never.
 */
static void test_oom(void) {
    static const char *files[] = {"rnn_lstm_bidir_full", "rnn_gru_bidir_lbr_clip", "crnn_lstm"};
    for (size_t fi = 0; fi < sizeof files / sizeof files[0]; fi++) {
        char p[1200];
        path_of(p, sizeof p, files[fi], ".onnx");
        int done = 0;
        long k = 0;
        for (; k < 20000 && !done; k++) {
            aiecg_model *m = NULL;
            aiecg_session *s = NULL;
            aiecg_error err;
            aiecg_error_clear(&err);
            aiecg_session_options o = aiecg_session_options_default();
            o.max_batch = 3;
            o.max_length = 1000;
            *test_oom_left_() = k;
            aiecg_set_allocator(test_oom_malloc_, test_oom_realloc_, free);
            aiecg_status st = aiecg_model_load(p, &m, &err);
            if (!st) st = aiecg_session_new(m, &o, &s, &err);
            aiecg_set_allocator(count_malloc, count_realloc, free);
            if (st == AIECG_OK) done = 1;
            else if (st != AIECG_ERR_NOMEM) {
                printf("%s: allocation %ld failing gave %s: %s\n", files[fi], k, aiecg_status_name(st), err.message);
                CHECK_INT(st, AIECG_ERR_NOMEM);
                done = 1;
            }
            aiecg_session_free(s);
            aiecg_model_free(m);
        }
        printf("%-22s OOM sweep: %ld allocation points\n", files[fi], k);
        CHECK(done);
    }
}

/*
 * An .aiem file can carry any attribute values: planning refuses each bad
 * one with a message naming the node, the op and the field (shape.c), and a
 * sequence_lens value outside 0..T is a run-time range error.
 */
static void test_bad_attributes(void) {
    static const struct { int field; int64_t v; const char *want; } cases[] = {
        {0, 0, "hidden_size"}, {1, 5, "direction"}, {2, 2, "layout"}, {3, 99, "activations"},
        {4, 7, "activations: wrong count"}, {5, 3, "input_forget"},
    };
    char p[1200];
    path_of(p, sizeof p, "rnn_lstm_bidir_full", ".onnx");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        aiecg_error err;
        aiecg_error_clear(&err);
        aiecg_model *m = load_for_output(p, "Y", &err);
        CHECK(m != NULL);
        if (!m) continue;
        aiecg__nn_node *n = NULL;
        for (int k = 0; k < m->g.nn; k++)
            if (m->g.n[k].op == AIECG__OP_LSTM) n = &m->g.n[k];
        CHECK(n != NULL);
        if (!n) { aiecg_model_free(m); continue; }
        switch (cases[i].field) {
        case 0: n->a.axis = cases[i].v; break;
        case 1: n->a.pad_mode = (int32_t)cases[i].v; break;
        case 2: n->a.allowzero = (int32_t)cases[i].v; break;
        case 3: n->a.perm[1] = cases[i].v; break;
        case 4: n->a.nperm = n->a.naxes = (int32_t)cases[i].v; break;
        default: n->a.ceil_mode = (int32_t)cases[i].v; break;
        }
        aiecg_session_options o = aiecg_session_options_default();
        o.max_batch = 3;
        aiecg_session *s = NULL;
        aiecg_status st = aiecg_session_new(m, &o, &s, &err);
        CHECK(st != AIECG_OK && s == NULL);
        CHECK(strstr(err.message, "(LSTM)") && strstr(err.message, cases[i].want));
        if (!strstr(err.message, cases[i].want)) printf("message: %s\n", err.message);
        aiecg_session_free(s);
        aiecg_model_free(m);
    }
    /* sequence_lens = T + 1 */
    aiecg_error err;
    aiecg_error_clear(&err);
    aiecg_model *m = load_for_output(p, "Y_h", &err);
    CHECK(m != NULL);
    if (!m) return;
    int lens = aiecg__nn_find_tensor(&m->g, "sequence_lens");
    CHECK(lens >= 0 && m->g.t[lens].is_const && m->g.t[lens].dtype == AIECG__DT_I64);
    char pin[1200];
    path_of(pin, sizeof pin, "rnn_lstm_bidir_full", ".in.npy");
    int64_t xd[8];
    int xn = 0;
    float *x = npy_load(pin, xd, &xn);
    if (lens >= 0 && x) {
        ((int64_t *)m->g.t[lens].data)[1] = xd[0] + 1;
        aiecg_session_options o = aiecg_session_options_default();
        o.max_batch = 3;
        aiecg_session *s = NULL;
        CHECK_OK(aiecg_session_new(m, &o, &s, &err), &err);
        float y[64];
        int64_t od[AIECG_NN_MAX_DIMS];
        int ond = 0;
        aiecg_status st = s ? aiecg_session_run(s, x, xd, xn, y, 64, od, &ond, &err) : AIECG_ERR_INTERNAL;
        CHECK_INT(st, AIECG_ERR_RANGE);
        CHECK(strstr(err.message, "sequence_lens[1]") != NULL);
        aiecg_session_free(s);
    }
    free(x);
    aiecg_model_free(m);
}
#endif

/*
 * The compiled seed fuzz/corpus/aiem/crnn_lstm_fp16.aiem (crnn_lstm, FP16
 * weights) against PyTorch's outputs: needs no ONNX import, so it also runs
 * in the aarch64 cross build (NEON) under qemu.
 */
static void test_compiled_seed(void) {
    char path[1200];
    snprintf(path, sizeof path, "%s/fuzz/corpus/aiem/crnn_lstm_fp16.aiem", srcdir);
    pair p[2];
    memset(p, 0, sizeof p);
    CHECK(load_pair(&p[0], "crnn_lstm", ".in.npy", ".out.npy"));
    CHECK(load_pair(&p[1], "crnn_lstm", ".in2.npy", ".out2.npy"));
    aiecg_error err;
    aiecg_error_clear(&err);
    aiecg_model *m = NULL;
    CHECK_OK(aiecg_model_load(path, &m, &err), &err);
    if (m && p[0].x && p[0].y && p[1].x && p[1].y) {
        float *o1 = calloc((size_t)p[0].ny, 4), *o2 = calloc((size_t)p[1].ny, 4);
        aiecg_session_options o = aiecg_session_options_default();
        double d[3][2];
        for (int pass = 0; pass < 3; pass++) {
            o.force_generic = pass == 0;
            o.cpu_features = pass == 2 ? AIECG_CPU_SSE2 : 0;
            run_pairs(m, o, p, o1, o2, &d[pass][0], &d[pass][1]);
            CHECK(d[pass][0] <= 1e-3 && d[pass][1] <= 1e-3);
        }
        printf("crnn_lstm_fp16.aiem (%s): generic %.3g / %.3g  fast %.3g / %.3g  C twin %.3g / %.3g\n",
               aiecg_cpu_features() & AIECG_CPU_NEON ? "neon" : "x86", d[0][0], d[0][1], d[1][0], d[1][1], d[2][0],
               d[2][1]);
        free(o1);
        free(o2);
    }
    aiecg_model_free(m);
    for (int k = 0; k < 2; k++) {
        free(p[k].x);
        free(p[k].y);
    }
}

int main(void) {
    const char *s = getenv("AIECG_SOURCE_DIR");
    snprintf(srcdir, sizeof srcdir, "%s", s ? s : ".");
    aiecg_set_allocator(count_malloc, count_realloc, free);
    RUN(test_compiled_seed);
#ifdef AIECG_HAVE_ONNX
    RUN(test_pytorch_models);
    RUN(test_attribute_cases);
    RUN(test_import_errors);
    RUN(test_oom);
    RUN(test_bad_attributes);
#else
    printf("built without ONNX support: the ONNX tests are skipped\n");
#endif
    aiecg_set_allocator(NULL, NULL, NULL);
    return test_summary();
}
