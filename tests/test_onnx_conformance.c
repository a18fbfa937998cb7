/*
 * ONNX backend conformance: walks Debian's libonnx-testdata node/ and
 * pytorch-converted/ cases (model.onnx + test_data_set_N/input_K.pb,
 * output_0.pb), runs every case whose ops the importer accepts and whose
 * runtime input and output are float32, on the generic and the fast kernel
 * paths, and compares with the expected output (|got - want| <= 1e-5 +
 * 1e-3 |want|, the tolerance ONNX's own backend test uses for float).
 * Graph inputs after the first are bound as constants from their .pb files
 * (int32 ones as int64, the IR's integer type); a case with several graph
 * outputs runs once per output and passes only if all of them do. Prints
 * "conformance: N cases run, N passed, N skipped (unsupported)"; fails if any
 * case that runs fails.
 */
#include "test.h"
#include "nn/nn_int.h"

#include <dirent.h>

#ifdef AIECG_HAVE_ONNX
#include "onnx.pb-c.h"

#define ROOT "/usr/share/libonnx-testdata/data"

static int nrun, npass, nskip, nfail;
static int verbose;

static Onnx__TensorProto *read_tensor(const char *path) {
    uint8_t *d = NULL;
    size_t len = 0;
    if (aiecg__read_file(path, (size_t)1 << 30, &d, &len, NULL) != AIECG_OK) return NULL;
    Onnx__TensorProto *t = onnx__tensor_proto__unpack(NULL, len, d);
    aiecg__free(d);
    return t;
}

/* float32 / int64 TensorProto -> newly allocated data; returns dtype or 0. */
static int tensor_data(const Onnx__TensorProto *t, void **out, int64_t *ne) {
    int64_t n = 1;
    for (size_t i = 0; i < t->n_dims; i++) n *= t->dims[i];
    *ne = n;
    int dt = t->data_type;
    if (dt == ONNX__TENSOR_PROTO__DATA_TYPE__INT32) { /* e.g. LSTM sequence_lens: the IR holds int64 */
        int64_t *q = aiecg__aligned_alloc((size_t)(n ? n : 1) * 8);
        if (!q) return 0;
        int ok = 1;
        if (t->has_raw_data && t->raw_data.len == (size_t)n * 4)
            for (int64_t i = 0; i < n; i++) {
                int32_t v;
                memcpy(&v, t->raw_data.data + (size_t)i * 4, 4);
                q[i] = v;
            }
        else if (!t->has_raw_data && t->n_int32_data == (size_t)n)
            for (int64_t i = 0; i < n; i++) q[i] = t->int32_data[i];
        else ok = 0;
        if (!ok) { aiecg__aligned_free(q); return 0; }
        *out = q;
        return AIECG__DT_I64;
    }
    if (dt != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT && dt != ONNX__TENSOR_PROTO__DATA_TYPE__INT64) return 0;
    size_t es = dt == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT ? 4 : 8;
    void *p = aiecg__aligned_alloc((size_t)(n ? n : 1) * es);
    if (!p) return 0;
    if (t->has_raw_data) {
        if (t->raw_data.len != (size_t)n * es) { aiecg__aligned_free(p); return 0; }
        if (t->raw_data.len) memcpy(p, t->raw_data.data, t->raw_data.len);
    } else if (es == 4 && t->n_float_data == (size_t)n) {
        if (n) memcpy(p, t->float_data, (size_t)n * 4);
    } else if (es == 8 && t->n_int64_data == (size_t)n) {
        if (n) memcpy(p, t->int64_data, (size_t)n * 8);
    } else {
        aiecg__aligned_free(p);
        return 0;
    }
    *out = p;
    return es == 4 ? AIECG__DT_F32 : AIECG__DT_I64;
}

static int close_enough(float got, float want) {
    if (isnan(want)) return isnan(got);
    if (isinf(want)) return got == want;
    return fabsf(got - want) <= 1e-5f + 1e-3f * fabsf(want);
}

/* Output `oi` (named oname) of one case: 1 pass, 0 fail, -1 skip. Takes ownership of data. */
static int run_output(const char *dir, const char *name, uint8_t *data, size_t len, int oi, const char *oname) {
    char path[2048];
    aiecg_model *m = aiecg__calloc(1, sizeof *m);
    aiecg_error err;
    aiecg_error_clear(&err);
    aiecg_status st = aiecg__nn_import_onnx(data, len, &m->g, &err);
    aiecg__free(data);
    int result = -1;
    Onnx__TensorProto *tin = NULL, *tout = NULL;
    float *x = NULL, *want = NULL, *got = NULL;
    if (st) {
        if (verbose) printf("skip %s: %s\n", name, err.message);
        goto done;
    }
    aiecg__nn_graph *g = &m->g;
    if (g->t[g->input].dtype != AIECG__DT_F32) goto done;
    g->output = aiecg__nn_find_tensor(g, oname); /* the engine computes one graph output per model */
    if (g->output < 0 || g->output == g->input || g->t[g->output].is_const) goto done;
    /* bind further graph inputs as constants, in declaration order */
    char *produced = aiecg__calloc((size_t)g->nt + 1, 1);
    for (int i = 0; i < g->nn; i++)
        for (int k = 0; k < g->n[i].nout; k++)
            if (g->n[i].out[k] >= 0) produced[g->n[i].out[k]] = 1;
    int k = 1, bad = 0;
    for (int i = 0; i < g->nt && !bad; i++) {
        aiecg__nn_tensor *t = &g->t[i];
        if (i == g->input || t->is_const || produced[i]) continue;
        snprintf(path, sizeof path, "%s/test_data_set_0/input_%d.pb", dir, k++);
        Onnx__TensorProto *tp = read_tensor(path);
        void *d = NULL;
        int64_t ne = 0;
        int dt = tp ? tensor_data(tp, &d, &ne) : 0;
        if (!dt || tp->n_dims > AIECG_NN_MAX_DIMS) bad = 1;
        else {
            t->dtype = dt;
            t->ndim = (int)tp->n_dims;
            for (size_t j = 0; j < tp->n_dims; j++) t->dims[j] = tp->dims[j];
            t->data = d;
            t->data_owned = 1;
            t->is_const = 1;
        }
        if (tp) onnx__tensor_proto__free_unpacked(tp, NULL);
    }
    aiecg__free(produced);
    if (bad) goto done;
    snprintf(path, sizeof path, "%s/test_data_set_0/input_0.pb", dir);
    tin = read_tensor(path);
    snprintf(path, sizeof path, "%s/test_data_set_0/output_%d.pb", dir, oi);
    tout = read_tensor(path);
    int64_t nx = 0, ny = 0;
    void *px = NULL, *py = NULL;
    if (!tin || !tout || tensor_data(tin, &px, &nx) != AIECG__DT_F32 || tensor_data(tout, &py, &ny) != AIECG__DT_F32 ||
        tin->n_dims > AIECG_NN_MAX_DIMS || nx == 0 || ny == 0) {
        aiecg__aligned_free(px);
        aiecg__aligned_free(py);
        goto done;
    }
    x = px;
    want = py;
    aiecg__nn_tensor *ti = &g->t[g->input];
    ti->ndim = (int)tin->n_dims;
    for (size_t j = 0; j < tin->n_dims; j++) ti->dims[j] = tin->dims[j];
    st = aiecg__nn_optimize(g, &err);
    if (!st) st = aiecg__nn_graph_check(g, &err);
    if (st) {
        if (st == AIECG_ERR_UNSUPPORTED) {
            if (verbose) printf("skip %s: %s\n", name, err.message);
            goto done;
        }
        printf("FAIL %s: optimise: %s\n", name, err.message);
        result = 0;
        goto done;
    }
    ti = &g->t[g->input]; /* the optimiser compacts the tensor table */
    got = malloc((size_t)ny * 4 + 4);
    result = 1;
    for (int pass = 0; pass < 2 && result == 1; pass++) {
        aiecg_session_options o = aiecg_session_options_default();
        o.force_generic = pass == 0;
        o.max_batch = ti->ndim ? ti->dims[0] : 1;
        aiecg_session *s = NULL;
        int64_t od[AIECG_NN_MAX_DIMS];
        int ond = 0;
        st = aiecg_session_new(m, &o, &s, &err);
        if (!st) st = aiecg_session_run(s, x, ti->dims, ti->ndim, got, (size_t)ny, od, &ond, &err);
        aiecg_session_free(s);
        if (st == AIECG_ERR_UNSUPPORTED && pass == 0) {
            if (verbose) printf("skip %s: %s\n", name, err.message);
            result = -1;
            break;
        }
        if (st) {
            printf("FAIL %s (%s): %s\n", name, pass ? "fast" : "generic", err.message);
            result = 0;
            break;
        }
        int64_t n = 1;
        for (int j = 0; j < ond; j++) n *= od[j];
        if (n != ny || ond != (int)tout->n_dims) {
            printf("FAIL %s: output has %lld values (rank %d), want %lld (rank %zu)\n", name, (long long)n, ond,
                   (long long)ny, tout->n_dims);
            result = 0;
            break;
        }
        for (int64_t j = 0; j < ny; j++)
            if (!close_enough(got[j], want[j])) {
                printf("FAIL %s (%s): element %lld = %.9g, want %.9g\n", name, pass ? "fast" : "generic",
                       (long long)j, (double)got[j], (double)want[j]);
                result = 0;
                break;
            }
    }
done:
    if (tin) onnx__tensor_proto__free_unpacked(tin, NULL);
    if (tout) onnx__tensor_proto__free_unpacked(tout, NULL);
    aiecg__aligned_free(x);
    aiecg__aligned_free(want);
    free(got);
    aiecg_model_free(m);
    return result;
}

/*
 * A case with several graph outputs (LSTM Y and Y_h, say) runs once per
 * output, each time with that output as the model's one output; it passes
 * only if every output runs and passes.
 */
static int run_case(const char *dir, const char *name) {
    char path[2048];
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    uint8_t *data = NULL;
    size_t len = 0;
    if (aiecg__read_file(path, (size_t)1 << 30, &data, &len, NULL) != AIECG_OK) return -1;
    Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, len, data);
    int nout = mp && mp->graph ? (int)mp->graph->n_output : 0;
    int result = nout > 0 ? 1 : -1;
    for (int oi = 0; oi < nout && result == 1; oi++) {
        uint8_t *copy = aiecg__malloc(len ? len : 1);
        if (!copy) { result = 0; break; }
        memcpy(copy, data, len);
        int r = run_output(dir, name, copy, len, oi, mp->graph->output[oi]->name);
        if (r != 1) result = r;
    }
    if (mp) onnx__model_proto__free_unpacked(mp, NULL);
    aiecg__free(data);
    return result;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void walk(const char *sub) {
    char root[1024];
    snprintf(root, sizeof root, "%s/%s", ROOT, sub);
    DIR *d = opendir(root);
    if (!d) return;
    char *names[4096];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 4096)
        if (e->d_name[0] != '.') names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], cmp_str);
    const char *only = getenv("AIECG_CONFORMANCE_ONLY");
    for (int i = 0; i < n; i++) {
        char dir[2048];
        snprintf(dir, sizeof dir, "%s/%s", root, names[i]);
        if (!only || strstr(names[i], only)) {
            int r = run_case(dir, names[i]);
            if (r < 0) nskip++;
            else {
                nrun++;
                if (r) npass++;
                else nfail++;
            }
        }
        free(names[i]);
    }
}

static void test_conformance(void) {
    walk("node");
    walk("pytorch-converted");
    printf("conformance: %d cases run, %d passed, %d skipped (unsupported)\n", nrun, npass, nskip);
    CHECK_INT(nfail, 0);
    if (!getenv("AIECG_CONFORMANCE_ONLY")) CHECK(nrun > 100);
}

int main(void) {
    verbose = getenv("AIECG_CONFORMANCE_VERBOSE") != NULL;
    DIR *d = opendir(ROOT "/node");
    if (!d) {
        printf("libonnx-testdata not installed: skipped\n");
        return 77;
    }
    closedir(d);
    RUN(test_conformance);
    return test_summary();
}

#else
int main(void) {
    printf("built without ONNX support: skipped\n");
    return 77;
}
#endif
