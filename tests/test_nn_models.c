/*
 * PyTorch match: ECG-style networks exported by bench/models/make_models.py
 * (tests/data/nn/, see README there) must reproduce PyTorch's own output:
 * max |diff| <= 1e-4 in FP32 on every kernel path (generic, SIMD, 2 threads,
 * imported ONNX and compiled .aiem), <= 1e-3 with FP16 weights; threaded and
 * single-threaded runs must agree bit for bit.
 */
#include "test.h"
#include "nn_npy.h"

#include <unistd.h>

static const char *models[] = {"ribeiro_small", "xresnet_small", "seresnet_small", "inception_small"};

static char srcdir[1024];

static double run_model(aiecg_model *m, const aiecg_session_options *o, const float *x, const int64_t *xd,
                        int xn, const float *y, int64_t ny, float *out) {
    aiecg_session *s = NULL;
    aiecg_error err;
    aiecg_error_clear(&err);
    CHECK_OK(aiecg_session_new(m, o, &s, &err), &err);
    if (!s) return 1e9;
    int64_t od[AIECG_NN_MAX_DIMS];
    int ond = 0;
    CHECK_OK(aiecg_session_run(s, x, xd, xn, out, (size_t)ny, od, &ond, &err), &err);
    aiecg_session_free(s);
    double md = 0;
    for (int64_t i = 0; i < ny; i++) {
        double d = fabs((double)out[i] - (double)y[i]);
        if (!(d <= md)) md = d;
    }
    return md;
}

static void test_models(void) {
    for (size_t mi = 0; mi < sizeof models / sizeof models[0]; mi++) {
        char p[1200], pin[1200], pout[1200], paiem[1200], paiem16[1200];
        snprintf(p, sizeof p, "%s/tests/data/nn/%s.onnx", srcdir, models[mi]);
        snprintf(pin, sizeof pin, "%s/tests/data/nn/%s.in.npy", srcdir, models[mi]);
        snprintf(pout, sizeof pout, "%s/tests/data/nn/%s.out.npy", srcdir, models[mi]);
        snprintf(paiem, sizeof paiem, "/tmp/aiecg_test_%d_%s.aiem", (int)getpid(), models[mi]);
        snprintf(paiem16, sizeof paiem16, "/tmp/aiecg_test_%d_%s_16.aiem", (int)getpid(), models[mi]);
        int64_t xd[8], yd[8];
        int xn = 0, yn = 0;
        float *x = npy_load(pin, xd, &xn), *y = npy_load(pout, yd, &yn);
        CHECK(x && y);
        if (!x || !y) continue;
        int64_t ny = 1;
        for (int i = 0; i < yn; i++) ny *= yd[i];
        float *o1 = calloc((size_t)ny, 4), *o2 = calloc((size_t)ny, 4);
        aiecg_error err;
        aiecg_error_clear(&err);
        aiecg_model *m = NULL;
        CHECK_OK(aiecg_model_load(p, &m, &err), &err);
        if (!m) continue;
        aiecg_session_options o = aiecg_session_options_default();
        o.max_batch = xd[0];
        o.max_length = xd[2];
        o.force_generic = 1;
        double dg = run_model(m, &o, x, xd, xn, y, ny, o1);
        o.force_generic = 0;
        double df = run_model(m, &o, x, xd, xn, y, ny, o1);
        o.nthreads = 2;
        double dt = run_model(m, &o, x, xd, xn, y, ny, o2);
        CHECK(memcmp(o1, o2, (size_t)ny * 4) == 0);
        /* every SIMD level below the best one too (AVX2 when AVX-512 is present) */
        o.nthreads = 1;
        o.cpu_features = AIECG_CPU_SSE2 | AIECG_CPU_AVX | AIECG_CPU_AVX2 | AIECG_CPU_FMA | AIECG_CPU_F16C | AIECG_CPU_NEON;
        double d2 = run_model(m, &o, x, xd, xn, y, ny, o2);
        o.cpu_features = 0;
        CHECK(d2 <= 1e-4);
        printf("%-16s generic %.3g  fast %.3g  2 threads %.3g  avx2/neon %.3g\n", models[mi], dg, df, dt, d2);
        CHECK(dg <= 1e-4);
        CHECK(df <= 1e-4);
        CHECK(dt <= 1e-4);
        aiecg_model_free(m);
        /* compiled .aiem, FP32 and FP16 weights */
        const char *mk[] = {"aiecg.test"}, *mv[] = {models[mi]};
        aiecg_compile_options co = {0, 1, mk, mv};
        CHECK_OK(aiecg_model_compile(p, paiem, &co, &err), &err);
        co.fp16 = 1;
        CHECK_OK(aiecg_model_compile(p, paiem16, &co, &err), &err);
        aiecg_model *ma = NULL, *mh = NULL;
        CHECK_OK(aiecg_model_load(paiem, &ma, &err), &err);
        CHECK_OK(aiecg_model_load(paiem16, &mh, &err), &err);
        if (ma && mh) {
            CHECK_STR(aiecg_model_meta(ma, "aiecg.test"), models[mi]);
            o.nthreads = 1;
            double da = run_model(ma, &o, x, xd, xn, y, ny, o1);
            o.force_generic = 1;
            double dag = run_model(ma, &o, x, xd, xn, y, ny, o1);
            double dhg = run_model(mh, &o, x, xd, xn, y, ny, o1);
            o.force_generic = 0;
            double dh = run_model(mh, &o, x, xd, xn, y, ny, o1);
            printf("%-16s aiem %.3g  aiem generic %.3g  fp16 %.3g  fp16 generic %.3g\n", models[mi], da, dag, dh, dhg);
            CHECK(da <= 1e-4);
            CHECK(dag <= 1e-4);
            CHECK(dh <= 1e-3);
            CHECK(dhg <= 1e-3);
        }
        aiecg_model_free(ma);
        aiecg_model_free(mh);
        unlink(paiem);
        unlink(paiem16);
        free(o1);
        free(o2);
        free(x);
        free(y);
    }
}

int main(void) {
    const char *s = getenv("AIECG_SOURCE_DIR");
    snprintf(srcdir, sizeof srcdir, "%s", s ? s : ".");
    RUN(test_models);
    return test_summary();
}
