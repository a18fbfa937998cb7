/*
 * The .aiem model file (layout in docs/model-file.md): a 64-byte header
 * ("AIEM", version, section count, file size, flags), a section table, then
 * sections GRAPH (node records with their attribute struct), TENSORS (tensor
 * records), IO (int32 tensor indices of node inputs/outputs), STRINGS
 * (NUL-terminated names, metadata), META (key/value string offsets) and
 * WEIGHTS (tensor data, each tensor 64-byte aligned so it can be used in
 * place from a read-only mmap). Little endian throughout.
 *
 * The loader treats the file as hostile: every offset, size, count and index
 * is checked before use, and the resulting graph goes through the same
 * structural check and shape inference as an imported one before a session
 * runs it. fuzz/fuzz_aiem.c exercises this path.
 */
#include "nn_int.h"

#include <stdio.h>
#include <string.h>

#define AIEM_VERSION 1
#define HDR_SIZE 64
#define SEC_REC 24
enum { SEC_GRAPH = 1, SEC_TENSORS, SEC_IO, SEC_STRINGS, SEC_META, SEC_WEIGHTS, SEC_COUNT = 6 };

typedef struct {
    uint32_t name_off;
    int32_t dtype, ndim;
    uint32_t flags; /* 1 const, 2 fp16 */
    int64_t dims[AIECG_NN_MAX_DIMS];
    uint64_t data_off, data_size;
} tensor_rec;
_Static_assert(sizeof(tensor_rec) == 96, "tensor record layout");

typedef struct {
    int32_t op;
    uint32_t name_off;
    int32_t nin, nout;
    uint32_t io_off;
    uint32_t pad;
    aiecg__nn_attr a;
} node_rec;

typedef struct {
    int32_t nt, nn, input, output, nmeta, pad;
} graph_rec;

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error ".aiem files are little endian; big-endian hosts are not supported"
#endif

/* ---- writer ----------------------------------------------------------- */
typedef struct {
    uint8_t *d;
    size_t len, cap;
    int oom;
} buf;

static size_t buf_put(buf *b, const void *p, size_t n) {
    size_t at = b->len;
    if (b->oom) return at;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n) cap *= 2;
        uint8_t *d = aiecg__realloc(b->d, cap);
        if (!d) {
            b->oom = 1;
            return at;
        }
        b->d = d;
        b->cap = cap;
    }
    if (p) memcpy(b->d + b->len, p, n);
    else memset(b->d + b->len, 0, n);
    b->len += n;
    return at;
}

static void buf_align(buf *b, size_t a) {
    size_t pad = (a - b->len % a) % a;
    if (pad) buf_put(b, NULL, pad);
}

static uint32_t str_put(buf *b, const char *s) {
    return (uint32_t)buf_put(b, s, strlen(s) + 1);
}

aiecg_status aiecg__nn_write_aiem(const aiecg__nn_graph *g, int fp16, const char *path,
                                  aiecg_error *err) {
    buf sec[SEC_COUNT + 1];
    memset(sec, 0, sizeof sec);
    aiecg_status st = AIECG_OK;
    graph_rec gr = {g->nt, g->nn, g->input, g->output, g->nmeta, 0};
    buf_put(&sec[SEC_GRAPH], &gr, sizeof gr);
    for (int i = 0; i < g->nn; i++) {
        const aiecg__nn_node *n = &g->n[i];
        node_rec r;
        memset(&r, 0, sizeof r);
        r.op = n->op;
        r.name_off = str_put(&sec[SEC_STRINGS], n->name);
        r.nin = n->nin;
        r.nout = n->nout;
        r.io_off = (uint32_t)(sec[SEC_IO].len / 4);
        buf_put(&sec[SEC_IO], n->in, (size_t)n->nin * 4);
        buf_put(&sec[SEC_IO], n->out, (size_t)n->nout * 4);
        r.a = n->a;
        buf_put(&sec[SEC_GRAPH], &r, sizeof r);
    }
    for (int i = 0; i < g->nt; i++) {
        const aiecg__nn_tensor *t = &g->t[i];
        tensor_rec r;
        memset(&r, 0, sizeof r);
        r.name_off = str_put(&sec[SEC_STRINGS], t->name);
        r.dtype = t->dtype;
        r.ndim = t->ndim;
        memcpy(r.dims, t->dims, sizeof r.dims);
        if (t->is_const) {
            int64_t ne = aiecg__nn_numel(t->dims, t->ndim);
            int half = fp16 && t->dtype == AIECG__DT_F32 && ne >= 64;
            r.flags = 1u | (half ? 2u : 0u);
            buf_align(&sec[SEC_WEIGHTS], 64);
            r.data_off = sec[SEC_WEIGHTS].len;
            if (half) {
                r.data_size = (uint64_t)ne * 2;
                for (int64_t k = 0; k < ne; k++) {
                    uint16_t h = aiecg__f32_to_f16(((const float *)t->data)[k]);
                    buf_put(&sec[SEC_WEIGHTS], &h, 2);
                }
            } else {
                r.data_size = (uint64_t)ne * (t->dtype == AIECG__DT_I64 ? 8 : 4);
                buf_put(&sec[SEC_WEIGHTS], t->data, (size_t)r.data_size);
            }
        }
        buf_put(&sec[SEC_TENSORS], &r, sizeof r);
    }
    for (int i = 0; i < g->nmeta; i++) {
        uint32_t kv[2];
        kv[0] = str_put(&sec[SEC_STRINGS], g->meta_k[i]);
        kv[1] = str_put(&sec[SEC_STRINGS], g->meta_v[i]);
        buf_put(&sec[SEC_META], kv, sizeof kv);
    }
    for (int i = 1; i <= SEC_COUNT; i++)
        if (sec[i].oom) st = aiecg__error_set(err, AIECG_ERR_NOMEM, "writing %s", path);
    FILE *f = NULL;
    if (!st) {
        f = fopen(path, "wb");
        if (!f) st = aiecg__error_set(err, AIECG_ERR_IO, "%s: cannot open for writing", path);
    }
    if (!st) {
        uint8_t hdr[HDR_SIZE];
        memset(hdr, 0, sizeof hdr);
        uint64_t off = HDR_SIZE + SEC_COUNT * SEC_REC;
        uint8_t table[SEC_COUNT * SEC_REC];
        uint64_t offs[SEC_COUNT + 1];
        for (int i = 1; i <= SEC_COUNT; i++) {
            off = (off + 63) & ~(uint64_t)63;
            offs[i] = off;
            uint32_t kind = (uint32_t)i, zero = 0;
            uint64_t size = sec[i].len;
            memcpy(table + (i - 1) * SEC_REC, &kind, 4);
            memcpy(table + (i - 1) * SEC_REC + 4, &zero, 4);
            memcpy(table + (i - 1) * SEC_REC + 8, &off, 8);
            memcpy(table + (i - 1) * SEC_REC + 16, &size, 8);
            off += size;
        }
        uint32_t v = AIEM_VERSION, hs = HDR_SIZE, ns = SEC_COUNT, flags = fp16 ? 1u : 0u;
        memcpy(hdr, "AIEM", 4);
        memcpy(hdr + 4, &v, 4);
        memcpy(hdr + 8, &hs, 4);
        memcpy(hdr + 12, &ns, 4);
        memcpy(hdr + 16, &off, 8);
        memcpy(hdr + 24, &flags, 4);
        int ok = fwrite(hdr, 1, sizeof hdr, f) == sizeof hdr &&
                 fwrite(table, 1, sizeof table, f) == sizeof table;
        uint64_t pos = HDR_SIZE + sizeof table;
        static const uint8_t zeros[64] = {0};
        for (int i = 1; i <= SEC_COUNT && ok; i++) {
            if (offs[i] > pos) ok = fwrite(zeros, 1, (size_t)(offs[i] - pos), f) == offs[i] - pos;
            if (ok && sec[i].len) ok = fwrite(sec[i].d, 1, sec[i].len, f) == sec[i].len;
            pos = offs[i] + sec[i].len;
        }
        if (fclose(f) != 0) ok = 0;
        if (!ok) st = aiecg__error_set(err, AIECG_ERR_IO, "%s: write failed", path);
    }
    for (int i = 1; i <= SEC_COUNT; i++) aiecg__free(sec[i].d);
    return st;
}

/* ---- loader ----------------------------------------------------------- */
static const char *str_at(const uint8_t *s, uint64_t slen, uint32_t off) {
    if (off >= slen) return NULL;
    if (!memchr(s + off, 0, (size_t)(slen - off))) return NULL;
    return (const char *)s + off;
}

aiecg_status aiecg__nn_load_aiem(aiecg_model *m, const uint8_t *data, size_t len, aiecg_error *err) {
    aiecg__nn_graph *g = &m->g;
    aiecg__nn_graph_init(g);
    if (len < HDR_SIZE || memcmp(data, "AIEM", 4) != 0)
        return aiecg__error_set(err, AIECG_ERR_FORMAT, "not an .aiem file (bad magic at byte 0)");
    uint32_t ver, hs, ns, flags;
    uint64_t fsize;
    memcpy(&ver, data + 4, 4);
    memcpy(&hs, data + 8, 4);
    memcpy(&ns, data + 12, 4);
    memcpy(&fsize, data + 16, 8);
    memcpy(&flags, data + 24, 4);
    if (ver != AIEM_VERSION)
        return aiecg__error_set(err, AIECG_ERR_UNSUPPORTED, ".aiem version %u (byte 4); this build reads %d", ver,
                                AIEM_VERSION);
    if (hs != HDR_SIZE || ns != SEC_COUNT)
        return aiecg__error_set(err, AIECG_ERR_FORMAT, ".aiem header size %u / section count %u (bytes 8-15)", hs, ns);
    if (fsize != len)
        return aiecg__error_set(err, AIECG_ERR_TRUNCATED, ".aiem file size field %llu (byte 16) but %zu bytes present",
                                (unsigned long long)fsize, len);
    if (len < HDR_SIZE + (uint64_t)ns * SEC_REC)
        return aiecg__error_set(err, AIECG_ERR_TRUNCATED, ".aiem section table truncated");
    const uint8_t *sp[SEC_COUNT + 1] = {0};
    uint64_t sl[SEC_COUNT + 1] = {0};
    for (uint32_t i = 0; i < ns; i++) {
        const uint8_t *r = data + HDR_SIZE + i * SEC_REC;
        uint32_t kind;
        uint64_t off, size;
        memcpy(&kind, r, 4);
        memcpy(&off, r + 8, 8);
        memcpy(&size, r + 16, 8);
        if (kind != i + 1 || off > len || size > len - off || off % 64)
            return aiecg__error_set(err, AIECG_ERR_FORMAT, ".aiem section %u (table byte %u): kind %u offset %llu size %llu invalid",
                                    i, HDR_SIZE + i * SEC_REC, kind, (unsigned long long)off, (unsigned long long)size);
        sp[kind] = data + off;
        sl[kind] = size;
    }
    if (sl[SEC_GRAPH] < sizeof(graph_rec))
        return aiecg__error_set(err, AIECG_ERR_FORMAT, ".aiem GRAPH section too small");
    graph_rec gr;
    memcpy(&gr, sp[SEC_GRAPH], sizeof gr);
    if (gr.nt < 1 || gr.nn < 1 || gr.nmeta < 0 || gr.nt > (1 << 20) || gr.nn > (1 << 20) || gr.nmeta > (1 << 16) ||
        sl[SEC_GRAPH] != sizeof gr + (uint64_t)gr.nn * sizeof(node_rec) ||
        sl[SEC_TENSORS] != (uint64_t)gr.nt * sizeof(tensor_rec) || sl[SEC_META] != (uint64_t)gr.nmeta * 8 ||
        sl[SEC_IO] % 4)
        return aiecg__error_set(err, AIECG_ERR_FORMAT, ".aiem counts (tensors %d, nodes %d, meta %d) do not match section sizes",
                                gr.nt, gr.nn, gr.nmeta);
    const uint8_t *strs = sp[SEC_STRINGS];
    uint64_t slen = sl[SEC_STRINGS];
    aiecg_status st = AIECG_OK;
    /* Tensors */
    size_t half_total = 0;
    for (int i = 0; i < gr.nt && !st; i++) {
        tensor_rec r;
        memcpy(&r, sp[SEC_TENSORS] + (size_t)i * sizeof r, sizeof r);
        const char *name = str_at(strs, slen, r.name_off);
        if (!name) { st = aiecg__error_set(err, AIECG_ERR_FORMAT, ".aiem tensor %d: name offset %u", i, r.name_off); break; }
        int ti = aiecg__nn_add_tensor(g, name);
        if (ti < 0) { st = aiecg__error_set(err, AIECG_ERR_NOMEM, "load"); break; }
        aiecg__nn_tensor *t = &g->t[ti];
        t->dtype = r.dtype;
        t->ndim = r.ndim;
        if ((r.dtype != AIECG__DT_F32 && r.dtype != AIECG__DT_I64) || r.ndim < 0 || r.ndim > AIECG_NN_MAX_DIMS ||
            (r.flags & ~3u) || ((r.flags & 2u) && (!(r.flags & 1u) || r.dtype != AIECG__DT_F32))) {
            st = aiecg__error_set(err, AIECG_ERR_FORMAT, ".aiem tensor %d '%s': dtype %d rank %d flags %u", i, name,
                                  r.dtype, r.ndim, r.flags);
            break;
        }
        memcpy(t->dims, r.dims, sizeof t->dims);
        if (!(r.flags & 1u)) {
            for (int d = 0; d < r.ndim; d++)
                if (r.dims[d] < -1 || r.dims[d] > ((int64_t)1 << 31)) {
                    st = aiecg__error_set(err, AIECG_ERR_FORMAT, ".aiem tensor '%s': dim %d", name, d);
                    break;
                }
            continue;
        }
        int64_t ne = 1;
        for (int d = 0; d < r.ndim && !st; d++) {
            if (r.dims[d] < 0 || r.dims[d] > ((int64_t)1 << 31)) st = aiecg__error_set(err, AIECG_ERR_FORMAT, ".aiem tensor '%s': dim %d", name, d);
            else if ((ne *= r.dims[d]) > ((int64_t)1 << 31)) st = aiecg__error_set(err, AIECG_ERR_LIMIT, ".aiem tensor '%s' too large", name);
        }
        if (st) break;
        uint64_t esz = (r.flags & 2u) ? 2 : r.dtype == AIECG__DT_I64 ? 8 : 4;
        if (r.data_size != (uint64_t)ne * esz || r.data_off > sl[SEC_WEIGHTS] ||
            r.data_size > sl[SEC_WEIGHTS] - r.data_off || r.data_off % 64) {
            st = aiecg__error_set(err, AIECG_ERR_FORMAT, ".aiem tensor '%s': data at %llu size %llu outside WEIGHTS (%llu bytes)",
                                  name, (unsigned long long)r.data_off, (unsigned long long)r.data_size,
                                  (unsigned long long)sl[SEC_WEIGHTS]);
            break;
        }
        t->is_const = 1;
        t->data = (void *)(uintptr_t)(sp[SEC_WEIGHTS] + r.data_off);
        if (r.flags & 2u) {
            t->is_fp16 = 1;
            half_total += ((size_t)ne + 15) & ~(size_t)15;
        }
    }
    /* FP16 weights -> one FP32 copy (F16C when available). */
    if (!st && half_total) {
        m->f32_weights = aiecg__aligned_alloc(half_total * sizeof(float));
        if (!m->f32_weights) st = aiecg__error_set(err, AIECG_ERR_NOMEM, "fp16 weights (%zu floats)", half_total);
        size_t at = 0;
        uint32_t feat = aiecg_cpu_features();
        for (int i = 0; i < g->nt && !st; i++) {
            aiecg__nn_tensor *t = &g->t[i];
            if (!t->is_fp16) continue;
            size_t ne = (size_t)aiecg__nn_numel(t->dims, t->ndim);
            aiecg__f16_to_f32_array(t->data, m->f32_weights + at, ne, feat);
            t->data = m->f32_weights + at;
            at += (ne + 15) & ~(size_t)15;
        }
    }
    /* Nodes */
    const int32_t *io = (const int32_t *)(const void *)sp[SEC_IO];
    uint64_t nio = sl[SEC_IO] / 4;
    for (int i = 0; i < gr.nn && !st; i++) {
        node_rec r;
        memcpy(&r, sp[SEC_GRAPH] + sizeof gr + (size_t)i * sizeof r, sizeof r);
        const char *name = str_at(strs, slen, r.name_off);
        if (!name || r.op < 0 || r.op >= AIECG__OP_COUNT || r.nin < 0 || r.nin > 4096 || r.nout < 1 || r.nout > 16 ||
            r.io_off > nio || (uint64_t)r.nin + (uint64_t)r.nout > nio - r.io_off) {
            st = aiecg__error_set(err, AIECG_ERR_FORMAT, ".aiem node %d: op %d, %d inputs, %d outputs, io offset %u invalid",
                                  i, r.op, r.nin, r.nout, r.io_off);
            break;
        }
        aiecg__nn_node *n = aiecg__nn_add_node(g, r.op, name, r.nin, r.nout);
        if (!n) { st = aiecg__error_set(err, AIECG_ERR_NOMEM, "load"); break; }
        for (int k = 0; k < r.nin; k++) memcpy(&n->in[k], io + r.io_off + k, 4);
        for (int k = 0; k < r.nout; k++) memcpy(&n->out[k], io + r.io_off + r.nin + k, 4);
        n->a = r.a;
    }
    for (int i = 0; i < gr.nmeta && !st; i++) {
        uint32_t kv[2];
        memcpy(kv, sp[SEC_META] + (size_t)i * 8, 8);
        const char *k = str_at(strs, slen, kv[0]), *v = str_at(strs, slen, kv[1]);
        if (!k || !v) st = aiecg__error_set(err, AIECG_ERR_FORMAT, ".aiem metadata %d: string offsets", i);
        else if (aiecg__nn_add_meta(g, k, v)) st = aiecg__error_set(err, AIECG_ERR_NOMEM, "load");
    }
    if (!st) {
        g->input = gr.input;
        g->output = gr.output;
        st = aiecg__nn_graph_check(g, err);
    }
    if (st) {
        aiecg__nn_graph_free(g);
        aiecg__aligned_free(m->f32_weights);
        m->f32_weights = NULL;
    }
    (void)flags;
    return st;
}
