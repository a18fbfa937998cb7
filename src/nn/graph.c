/*
 * The graph IR: growable tensor and node arrays, the op name table generated
 * from the one X-macro list, the structural check every graph passes before a
 * session sees it, and dead-code removal. The check is what makes a graph from
 * an untrusted .aiem file safe to execute: indices in range, topological
 * order, dtypes known, ranks bounded.
 */
#include "nn_int.h"

#include <string.h>

const char *const aiecg__nn_op_names[AIECG__OP_COUNT] = {
#define AIECG__NN_OP_NAME(e, s) s,
    AIECG__NN_OPS(AIECG__NN_OP_NAME)
#undef AIECG__NN_OP_NAME
};
_Static_assert(AIECG__COUNTOF(aiecg__nn_op_names) == AIECG__OP_COUNT, "op name table");

void aiecg__nn_graph_init(aiecg__nn_graph *g) {
    memset(g, 0, sizeof *g);
    g->input = g->output = -1;
}

void aiecg__nn_graph_free(aiecg__nn_graph *g) {
    if (!g) return;
    for (int i = 0; i < g->nt; i++) {
        aiecg__free(g->t[i].name);
        if (g->t[i].data_owned) aiecg__aligned_free(g->t[i].data);
    }
    for (int i = 0; i < g->nn; i++) {
        aiecg__free(g->n[i].name);
        aiecg__free(g->n[i].in);
        aiecg__free(g->n[i].out);
    }
    for (int i = 0; i < g->nmeta; i++) {
        aiecg__free(g->meta_k[i]);
        aiecg__free(g->meta_v[i]);
    }
    aiecg__free(g->meta_k);
    aiecg__free(g->meta_v);
    aiecg__free(g->t);
    aiecg__free(g->n);
    aiecg__nn_graph_init(g);
}

int aiecg__nn_add_tensor(aiecg__nn_graph *g, const char *name) {
    if (g->nt == g->cap_t) {
        int cap = g->cap_t ? g->cap_t * 2 : 64;
        aiecg__nn_tensor *t = aiecg__realloc(g->t, (size_t)cap * sizeof *t);
        if (!t) return -1;
        g->t = t;
        g->cap_t = cap;
    }
    aiecg__nn_tensor *t = &g->t[g->nt];
    memset(t, 0, sizeof *t);
    t->name = aiecg__strdup(name ? name : "");
    if (!t->name) return -1;
    t->dtype = AIECG__DT_F32;
    return g->nt++;
}

int aiecg__nn_find_tensor(const aiecg__nn_graph *g, const char *name) {
    if (!name) name = ""; /* protobuf-c leaves an absent string field NULL */
    for (int i = g->nt - 1; i >= 0; i--)
        if (strcmp(g->t[i].name, name) == 0) return i;
    return -1;
}

void aiecg__nn_attr_default(aiecg__nn_attr *a) {
    memset(a, 0, sizeof *a);
    for (int i = 0; i < 2; i++) a->stride[i] = a->dilation[i] = 1;
    a->group = 1;
    a->keepdims = 1;
    a->alpha = 1.0f;
    a->beta = 1.0f;
    a->eps = 1e-5f;
    a->axis = 0;
    a->cast_to = AIECG__DT_F32;
}

aiecg__nn_node *aiecg__nn_add_node(aiecg__nn_graph *g, int op, const char *name, int nin, int nout) {
    if (g->nn == g->cap_n) {
        int cap = g->cap_n ? g->cap_n * 2 : 64;
        aiecg__nn_node *n = aiecg__realloc(g->n, (size_t)cap * sizeof *n);
        if (!n) return NULL;
        g->n = n;
        g->cap_n = cap;
    }
    aiecg__nn_node *n = &g->n[g->nn];
    memset(n, 0, sizeof *n);
    aiecg__nn_attr_default(&n->a);
    n->op = op;
    n->name = aiecg__strdup(name ? name : "");
    n->in = aiecg__calloc((size_t)(nin > 0 ? nin : 1), sizeof(int32_t));
    n->out = aiecg__calloc((size_t)(nout > 0 ? nout : 1), sizeof(int32_t));
    if (!n->name || !n->in || !n->out) {
        aiecg__free(n->name);
        aiecg__free(n->in);
        aiecg__free(n->out);
        return NULL;
    }
    for (int i = 0; i < nin; i++) n->in[i] = -1;
    for (int i = 0; i < nout; i++) n->out[i] = -1;
    n->nin = nin;
    n->nout = nout;
    g->nn++;
    return n;
}

aiecg_status aiecg__nn_add_meta(aiecg__nn_graph *g, const char *k, const char *v) {
    for (int i = 0; i < g->nmeta; i++)
        if (strcmp(g->meta_k[i], k) == 0) {
            char *nv = aiecg__strdup(v);
            if (!nv) return AIECG_ERR_NOMEM;
            aiecg__free(g->meta_v[i]);
            g->meta_v[i] = nv;
            return AIECG_OK;
        }
    char **nk = aiecg__realloc(g->meta_k, (size_t)(g->nmeta + 1) * sizeof *nk);
    if (!nk) return AIECG_ERR_NOMEM;
    g->meta_k = nk;
    char **nv = aiecg__realloc(g->meta_v, (size_t)(g->nmeta + 1) * sizeof *nv);
    if (!nv) return AIECG_ERR_NOMEM;
    g->meta_v = nv;
    g->meta_k[g->nmeta] = aiecg__strdup(k);
    g->meta_v[g->nmeta] = aiecg__strdup(v);
    if (!g->meta_k[g->nmeta] || !g->meta_v[g->nmeta]) {
        aiecg__free(g->meta_k[g->nmeta]);
        aiecg__free(g->meta_v[g->nmeta]);
        return AIECG_ERR_NOMEM;
    }
    g->nmeta++;
    return AIECG_OK;
}

int64_t aiecg__nn_numel(const int64_t *dims, int ndim) {
    /* saturates at INT64_MAX so that hostile dims fail the callers' size limits instead of wrapping */
    int64_t n = 1;
    for (int i = 0; i < ndim; i++)
        if (__builtin_mul_overflow(n, dims[i], &n)) return INT64_MAX;
    return n;
}

int aiecg__nn_op_from_name(const char *s) {
    for (int i = 0; i < AIECG__OP_COUNT; i++)
        if (strcmp(aiecg__nn_op_names[i], s) == 0) return i;
    return -1;
}

aiecg_status aiecg__nn_graph_check(const aiecg__nn_graph *g, aiecg_error *err) {
    if (g->input < 0 || g->input >= g->nt || g->output < 0 || g->output >= g->nt)
        return aiecg__error_set(err, AIECG_ERR_MODEL, "graph input/output index out of range");
    char *produced = aiecg__calloc((size_t)g->nt + 1, 1);
    if (!produced) return aiecg__error_set(err, AIECG_ERR_NOMEM, "graph check");
    aiecg_status st = AIECG_OK;
    for (int i = 0; i < g->nt && st == AIECG_OK; i++) {
        const aiecg__nn_tensor *t = &g->t[i];
        if (t->dtype != AIECG__DT_F32 && t->dtype != AIECG__DT_I64)
            st = aiecg__error_set(err, AIECG_ERR_MODEL, "tensor %d '%s': dtype %d", i, t->name,
                                  (int)t->dtype);
        else if (t->ndim < 0 || t->ndim > AIECG_NN_MAX_DIMS)
            st = aiecg__error_set(err, AIECG_ERR_MODEL, "tensor %d '%s': rank %d", i, t->name,
                                  (int)t->ndim);
        else if (t->is_const) {
            if (!t->data && aiecg__nn_numel(t->dims, t->ndim) > 0)
                st = aiecg__error_set(err, AIECG_ERR_MODEL, "constant %d '%s' has no data", i,
                                      t->name);
            for (int d = 0; d < t->ndim; d++)
                if (t->dims[d] < 0)
                    st = aiecg__error_set(err, AIECG_ERR_MODEL, "constant '%s' dim %d < 0",
                                          t->name, d);
            produced[i] = 1;
        }
    }
    if (st == AIECG_OK) {
        if (g->t[g->input].dtype != AIECG__DT_F32 || g->t[g->input].is_const)
            st = aiecg__error_set(err, AIECG_ERR_MODEL, "graph input must be a float32 value");
        produced[g->input] = 1;
    }
    for (int i = 0; i < g->nn && st == AIECG_OK; i++) {
        const aiecg__nn_node *n = &g->n[i];
        if (n->op < 0 || n->op >= AIECG__OP_COUNT) {
            st = aiecg__error_set(err, AIECG_ERR_MODEL, "node %d: op %d out of range", i, (int)n->op);
            break;
        }
        if (n->nin < 0 || n->nout < 1 || n->nin > 4096 || n->nout > 16) {
            st = aiecg__error_set(err, AIECG_ERR_MODEL, "node %d: bad input/output count", i);
            break;
        }
        if (n->a.act < 0 || n->a.act >= AIECG__ACT_COUNT || n->a.nperm < 0 ||
            n->a.nperm > AIECG_NN_MAX_DIMS || n->a.naxes < 0 || n->a.naxes > AIECG_NN_MAX_DIMS ||
            n->a.nspatial < 0 || n->a.nspatial > 2 || n->a.group < 1 ||
            (n->a.cast_to != AIECG__DT_F32 && n->a.cast_to != AIECG__DT_I64) ||
            n->a.has_residual < 0 || n->a.has_residual > 1 || (n->a.has_residual && n->nin < 2)) {
            st = aiecg__error_set(err, AIECG_ERR_MODEL, "node %d (%s): attribute out of range", i,
                                  aiecg__nn_op_names[n->op]);
            break;
        }
        for (int k = 0; k < n->nin && st == AIECG_OK; k++) {
            int ti = n->in[k];
            if (ti == -1) continue;
            if (ti < 0 || ti >= g->nt || !produced[ti])
                st = aiecg__error_set(err, AIECG_ERR_MODEL,
                                      "node %d (%s): input %d refers to tensor %d not yet produced",
                                      i, aiecg__nn_op_names[n->op], k, ti);
        }
        for (int k = 0; k < n->nout && st == AIECG_OK; k++) {
            int ti = n->out[k];
            if (ti == -1 && k > 0) continue;
            if (ti < 0 || ti >= g->nt || produced[ti])
                st = aiecg__error_set(err, AIECG_ERR_MODEL,
                                      "node %d (%s): output %d tensor %d invalid or produced twice",
                                      i, aiecg__nn_op_names[n->op], k, ti);
            else
                produced[ti] = 1;
        }
    }
    if (st == AIECG_OK && !produced[g->output])
        st = aiecg__error_set(err, AIECG_ERR_MODEL, "graph output is never produced");
    aiecg__free(produced);
    return st;
}

aiecg_status aiecg__nn_compact(aiecg__nn_graph *g) {
    /* Mark live nodes backwards from the output. */
    char *live_t = aiecg__calloc((size_t)g->nt + 1, 1);
    char *live_n = aiecg__calloc((size_t)g->nn + 1, 1);
    int *remap = aiecg__calloc((size_t)g->nt + 1, sizeof(int));
    if (!live_t || !live_n || !remap) {
        aiecg__free(live_t);
        aiecg__free(live_n);
        aiecg__free(remap);
        return AIECG_ERR_NOMEM;
    }
    if (g->output >= 0) live_t[g->output] = 1;
    if (g->input >= 0) live_t[g->input] = 1;
    for (int i = g->nn - 1; i >= 0; i--) {
        aiecg__nn_node *n = &g->n[i];
        int used = 0;
        for (int k = 0; k < n->nout; k++)
            if (n->out[k] >= 0 && live_t[n->out[k]] && n->out[k] != g->input) used = 1;
        if (!used) continue;
        live_n[i] = 1;
        for (int k = 0; k < n->nout; k++)
            if (n->out[k] >= 0) live_t[n->out[k]] = 1;
        for (int k = 0; k < n->nin; k++)
            if (n->in[k] >= 0) live_t[n->in[k]] = 1;
    }
    int nt = 0;
    for (int i = 0; i < g->nt; i++) {
        if (live_t[i]) {
            remap[i] = nt;
            g->t[nt++] = g->t[i];
        } else {
            remap[i] = -1;
            aiecg__free(g->t[i].name);
            if (g->t[i].data_owned) aiecg__aligned_free(g->t[i].data);
        }
    }
    g->nt = nt;
    int nn = 0;
    for (int i = 0; i < g->nn; i++) {
        aiecg__nn_node *n = &g->n[i];
        if (!live_n[i]) {
            aiecg__free(n->name);
            aiecg__free(n->in);
            aiecg__free(n->out);
            continue;
        }
        for (int k = 0; k < n->nin; k++)
            if (n->in[k] >= 0) n->in[k] = remap[n->in[k]];
        for (int k = 0; k < n->nout; k++)
            if (n->out[k] >= 0) n->out[k] = remap[n->out[k]];
        g->n[nn++] = *n;
    }
    g->nn = nn;
    if (g->input >= 0) g->input = remap[g->input];
    if (g->output >= 0) g->output = remap[g->output];
    aiecg__free(live_t);
    aiecg__free(live_n);
    aiecg__free(remap);
    return AIECG_OK;
}
