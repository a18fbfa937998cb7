/*
 * Public model API: load (.aiem mapped read-only, or .onnx imported and
 * optimised in memory), metadata access, and compile (ONNX -> .aiem). The
 * file kind is decided by content (the "AIEM" magic), not by the extension.
 * A loaded model is immutable; sessions only read it. The one exception is
 * a cache: the conv weights re-laid for the wt kernels, built by the first
 * session that needs them and published with one compare-and-swap, so N
 * sessions (threads) of a model share one read-only copy instead of N.
 */
#include "nn_int.h"
#include "core/sbuf.h"

#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_MODEL_BYTES ((size_t)2 << 30)

static aiecg_status finish_onnx(aiecg_model *m, const uint8_t *data, size_t len, aiecg_error *err) {
    aiecg_status st = aiecg__nn_import_onnx(data, len, &m->g, err);
    if (!st) st = aiecg__nn_optimize(&m->g, err);
    if (!st) st = aiecg__nn_graph_check(&m->g, err);
    return st;
}

/* A throwaway session proves the graph plans for its nominal input. */
static aiecg_status validate_plan(aiecg_model *m, aiecg_error *err) {
    aiecg_session_options o = aiecg_session_options_default();
    o.max_batch = 1;
    o.force_generic = 1;
    aiecg_session *s = NULL;
    aiecg_status st = aiecg_session_new(m, &o, &s, err);
    aiecg_session_free(s);
    return st;
}

static void wt_cache_free(aiecg__wt_cache *c) {
    if (!c) return;
    aiecg__aligned_free(c->buf);
    aiecg__free(c->node);
    aiecg__free(c->fft);
    aiecg__free(c);
}

const aiecg__wt_cache *aiecg__nn_model_wt(const aiecg_model *cm) {
    /* the cache is the model's only mutable part: logically const, written once through the atomic */
    aiecg_model *m = (aiecg_model *)cm;
    aiecg__wt_cache *c = atomic_load_explicit(&m->wt, memory_order_acquire);
    if (c) return c;
    const aiecg__nn_graph *g = &m->g;
    size_t tot = 0;
    for (int i = 0; i < g->nn; i++)
        tot += ((aiecg__nn_conv_wt_model_floats(g, &g->n[i]) + 15) & ~(size_t)15) +
               ((aiecg__conv_fft_model_floats(g, &g->n[i]) + 15) & ~(size_t)15);
    c = aiecg__calloc(1, sizeof *c);
    if (!c) return NULL;
    c->node = aiecg__calloc((size_t)g->nn + 1, sizeof *c->node);
    c->fft = aiecg__calloc((size_t)g->nn + 1, sizeof *c->fft);
    c->buf = aiecg__aligned_alloc((tot ? tot : 16) * sizeof(float));
    if (!c->node || !c->fft || !c->buf) {
        wt_cache_free(c);
        return NULL;
    }
    c->floats = tot;
    size_t wo = 0;
    for (int i = 0; i < g->nn; i++) {
        size_t f = aiecg__nn_conv_wt_model_floats(g, &g->n[i]);
        if (f) {
            aiecg__nn_conv_wt_pack(g, &g->n[i], c->buf + wo);
            c->node[i] = c->buf + wo;
            wo += (f + 15) & ~(size_t)15;
        }
        size_t ff = aiecg__conv_fft_model_floats(g, &g->n[i]);
        if (ff) { /* the DFT form of a long conv (conv_fft.c), next to its direct panels */
            aiecg__conv_fft_pack(g, &g->n[i], c->buf + wo);
            c->fft[i] = c->buf + wo;
            wo += (ff + 15) & ~(size_t)15;
        }
    }
    /* two sessions created at once may both pack: the first to publish wins, the other frees its copy */
    aiecg__wt_cache *expected = NULL;
    if (!atomic_compare_exchange_strong_explicit(&m->wt, &expected, c, memory_order_acq_rel, memory_order_acquire)) {
        wt_cache_free(c);
        return expected;
    }
    return c;
}

void aiecg_model_free(aiecg_model *m) {
    if (!m) return;
    wt_cache_free(atomic_load(&m->wt));
    aiecg__nn_graph_free(&m->g);
    if (m->map) munmap(m->map, m->map_len);
    aiecg__aligned_free(m->owned_buf);
    aiecg__aligned_free(m->f32_weights);
    aiecg__free(m);
}

aiecg_status aiecg_model_load_memory(const void *data, size_t len, int keep_reference,
                                     aiecg_model **out, aiecg_error *err) {
    if (!data || !out) return aiecg__error_set(err, AIECG_ERR_INVALID_ARG, "model_load_memory: NULL argument");
    *out = NULL;
    aiecg_model *m = aiecg__calloc(1, sizeof *m);
    if (!m) return aiecg__error_set(err, AIECG_ERR_NOMEM, "model");
    aiecg__nn_graph_init(&m->g);
    aiecg_status st;
    const uint8_t *p = data;
    if (len >= 4 && memcmp(p, "AIEM", 4) == 0) {
        /* Weights are used in place: they must stay alive and be 64-byte aligned. */
        if (!keep_reference || ((uintptr_t)p & 63u)) {
            m->owned_buf = aiecg__aligned_alloc(len ? len : 1);
            if (!m->owned_buf) {
                aiecg__free(m);
                return aiecg__error_set(err, AIECG_ERR_NOMEM, "model buffer (%zu bytes)", len);
            }
            memcpy(m->owned_buf, p, len);
            p = m->owned_buf;
        }
        st = aiecg__nn_load_aiem(m, p, len, err);
    } else {
        st = finish_onnx(m, p, len, err);
    }
    if (!st) st = validate_plan(m, err);
    if (st) {
        aiecg_model_free(m);
        return st;
    }
    *out = m;
    return AIECG_OK;
}

aiecg_status aiecg_model_load(const char *path, aiecg_model **out, aiecg_error *err) {
    if (!path || !out) return aiecg__error_set(err, AIECG_ERR_INVALID_ARG, "model_load: NULL argument");
    *out = NULL;
    int fd = open(path, O_RDONLY);
    if (fd < 0) return aiecg__error_set(err, AIECG_ERR_IO, "%s: cannot open", path);
    struct stat stt;
    if (fstat(fd, &stt) != 0 || stt.st_size <= 0 || (uint64_t)stt.st_size > MAX_MODEL_BYTES) {
        close(fd);
        return aiecg__error_set(err, AIECG_ERR_IO, "%s: empty, unreadable or larger than 2 GiB", path);
    }
    size_t len = (size_t)stt.st_size;
    void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) return aiecg__error_set(err, AIECG_ERR_IO, "%s: mmap failed", path);
    aiecg_model *m = aiecg__calloc(1, sizeof *m);
    if (!m) {
        munmap(map, len);
        return aiecg__error_set(err, AIECG_ERR_NOMEM, "model");
    }
    aiecg__nn_graph_init(&m->g);
    aiecg_status st;
    if (len >= 4 && memcmp(map, "AIEM", 4) == 0) {
        m->map = map;
        m->map_len = len;
        st = aiecg__nn_load_aiem(m, map, len, err);
    } else {
        st = finish_onnx(m, map, len, err);
        munmap(map, len); /* imported graph owns copies of everything */
    }
    if (!st) st = validate_plan(m, err);
    if (st) {
        aiecg__error_prefix(err, "%s", path);
        aiecg_model_free(m);
        return st;
    }
    *out = m;
    return AIECG_OK;
}

const char *aiecg_model_meta(const aiecg_model *m, const char *key) {
    if (!m || !key) return NULL;
    for (int i = 0; i < m->g.nmeta; i++)
        if (strcmp(m->g.meta_k[i], key) == 0) return m->g.meta_v[i];
    return NULL;
}

int aiecg_model_meta_count(const aiecg_model *m) { return m ? m->g.nmeta : 0; }

void aiecg_model_meta_at(const aiecg_model *m, int i, const char **key, const char **value) {
    if (key) *key = NULL;
    if (value) *value = NULL;
    if (!m || i < 0 || i >= m->g.nmeta) return;
    if (key) *key = m->g.meta_k[i];
    if (value) *value = m->g.meta_v[i];
}

aiecg_status aiecg_model_compile(const char *onnx_path, const char *out_path,
                                 const aiecg_compile_options *opt, aiecg_error *err) {
    if (!onnx_path || !out_path) return aiecg__error_set(err, AIECG_ERR_INVALID_ARG, "compile: NULL path");
    uint8_t *data = NULL;
    size_t len = 0;
    aiecg_status st = aiecg__read_file(onnx_path, MAX_MODEL_BYTES, &data, &len, err);
    if (st) return st;
    aiecg_model *m = aiecg__calloc(1, sizeof *m);
    if (!m) {
        aiecg__free(data);
        return aiecg__error_set(err, AIECG_ERR_NOMEM, "compile");
    }
    aiecg__nn_graph_init(&m->g);
    st = finish_onnx(m, data, len, err);
    aiecg__free(data);
    if (!st && opt)
        for (int i = 0; i < opt->nmeta && !st; i++)
            if (opt->meta_keys[i] && opt->meta_values[i])
                st = aiecg__nn_add_meta(&m->g, opt->meta_keys[i], opt->meta_values[i]);
    if (!st) st = validate_plan(m, err);
    if (!st) st = aiecg__nn_write_aiem(&m->g, opt ? opt->fp16 : 0, out_path, err);
    if (st) aiecg__error_prefix(err, "%s", onnx_path);
    aiecg_model_free(m);
    return st;
}

static const char *const act_json[AIECG__ACT_COUNT] = {
#define AIECG__ACT_JSON(e) #e,
    AIECG__NN_ACTS(AIECG__ACT_JSON)
#undef AIECG__ACT_JSON
};
_Static_assert(AIECG__COUNTOF(act_json) == AIECG__ACT_COUNT, "activation name table");

char *aiecg_model_describe(const aiecg_model *m) {
    if (!m) return NULL;
    const aiecg__nn_graph *g = &m->g;
    aiecg__sbuf b;
    aiecg__sbuf_init(&b);
    aiecg__jw w;
    aiecg__jw_init(&w, &b, false);
    int counts[AIECG__OP_COUNT] = {0};
    int64_t params = 0, cbytes = 0;
    for (int i = 0; i < g->nn; i++) counts[g->n[i].op]++;
    for (int i = 0; i < g->nt; i++)
        if (g->t[i].is_const) {
            int64_t ne = aiecg__nn_numel(g->t[i].dims, g->t[i].ndim);
            if (g->t[i].dtype == AIECG__DT_F32) params += ne;
            cbytes += ne * (g->t[i].dtype == AIECG__DT_I64 ? 8 : 4);
        }
    aiecg__jw_obj_begin(&w);
    aiecg__jw_key(&w, "nodes");
    aiecg__jw_int(&w, g->nn);
    aiecg__jw_key(&w, "tensors");
    aiecg__jw_int(&w, g->nt);
    aiecg__jw_key(&w, "params");
    aiecg__jw_int(&w, params);
    aiecg__jw_key(&w, "constant_bytes_fp32");
    aiecg__jw_int(&w, cbytes);
    aiecg__jw_key(&w, "fp16_weights");
    aiecg__jw_bool(&w, m->f32_weights != NULL);
    aiecg__jw_key(&w, "ops");
    aiecg__jw_obj_begin(&w);
    for (int i = 0; i < AIECG__OP_COUNT; i++)
        if (counts[i]) {
            aiecg__jw_key(&w, aiecg__nn_op_names[i]);
            aiecg__jw_int(&w, counts[i]);
        }
    aiecg__jw_obj_end(&w);
    aiecg__jw_key(&w, "layers");
    aiecg__jw_arr_begin(&w);
    for (int i = 0; i < g->nn; i++) {
        const aiecg__nn_node *n = &g->n[i];
        aiecg__jw_obj_begin(&w);
        aiecg__jw_key(&w, "op");
        aiecg__jw_str(&w, aiecg__nn_op_names[n->op]);
        aiecg__jw_key(&w, "name");
        aiecg__jw_str(&w, n->name);
        if (n->a.act) {
            aiecg__jw_key(&w, "act");
            aiecg__jw_str(&w, act_json[n->a.act]);
        }
        if (n->a.has_residual) {
            aiecg__jw_key(&w, "residual");
            aiecg__jw_bool(&w, true);
        }
        aiecg__jw_obj_end(&w);
    }
    aiecg__jw_arr_end(&w);
    aiecg__jw_obj_end(&w);
    return aiecg__sbuf_take(&b);
}
