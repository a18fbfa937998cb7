/*
 * aiecg model compile|info|run: the inference engine from the command line.
 * compile turns an ONNX file into an optimised .aiem; info prints metadata,
 * input/output shapes, op counts, parameters and FLOPs as JSON; run feeds a
 * NumPy .npy float32 tensor through the model and reports timing. The small
 * .npy reader/writer here handles version 1/2 headers, '<f4', C order.
 */
#include "cli.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *usage_text =
    "usage: aiecg model compile IN.onnx -o OUT.aiem [--fp16] [--meta KEY=VALUE ...]\n"
    "       aiecg model info MODEL\n"
    "       aiecg model run MODEL --input IN.npy [--output OUT.npy] [--threads N] [--repeat N] [--generic]\n";

static float *npy_read(const char *path, int64_t *dims, int *ndim, char *why, size_t whylen) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(why, whylen, "cannot open");
        return NULL;
    }
    unsigned char pre[12];
    float *data = NULL;
    char *h = NULL;
    if (fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0) {
        snprintf(why, whylen, "not a .npy file (magic at byte 0)");
        goto out;
    }
    size_t hl = (size_t)pre[8] | (size_t)pre[9] << 8;
    if (pre[6] >= 2) {
        if (fread(pre + 10, 1, 2, f) != 2) goto trunc;
        hl |= (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
    }
    if (hl > 65536) {
        snprintf(why, whylen, "header length %zu too large", hl);
        goto out;
    }
    h = calloc(1, hl + 1);
    if (!h || fread(h, 1, hl, f) != hl) goto trunc;
    if (!strstr(h, "'descr': '<f4'") || !strstr(h, "'fortran_order': False")) {
        snprintf(why, whylen, "only little-endian float32 ('<f4') C-order arrays are supported");
        goto out;
    }
    char *p = strstr(h, "'shape': (");
    if (!p) {
        snprintf(why, whylen, "no shape in header");
        goto out;
    }
    p += 10;
    *ndim = 0;
    int64_t n = 1;
    while (*p && *p != ')') {
        while (*p == ' ' || *p == ',') p++;
        if (*p == ')') break;
        char *e;
        long long v = strtoll(p, &e, 10);
        if (e == p || v < 0 || *ndim >= AIECG_NN_MAX_DIMS || v > (1LL << 31)) {
            snprintf(why, whylen, "bad shape in header");
            goto out;
        }
        dims[(*ndim)++] = v;
        n *= v;
        if (n > (1LL << 31)) {
            snprintf(why, whylen, "array too large");
            goto out;
        }
        p = e;
    }
    data = malloc((size_t)n * 4 + 4);
    if (!data) {
        snprintf(why, whylen, "out of memory");
        goto out;
    }
    if (fread(data, 4, (size_t)n, f) != (size_t)n) {
        free(data);
        data = NULL;
        goto trunc;
    }
    goto out;
trunc:
    snprintf(why, whylen, "truncated");
out:
    free(h);
    fclose(f);
    return data;
}

static int npy_write(const char *path, const float *d, const int64_t *dims, int ndim) {
    char hdr[256];
    int n = snprintf(hdr, sizeof hdr, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
    int64_t cnt = 1;
    for (int i = 0; i < ndim; i++) {
        n += snprintf(hdr + n, sizeof hdr - (size_t)n, "%" PRId64 "%s", dims[i], ndim == 1 ? "," : (i + 1 < ndim ? ", " : ""));
        cnt *= dims[i];
    }
    n += snprintf(hdr + n, sizeof hdr - (size_t)n, "), }");
    int total = 10 + n + 1;
    int pad = (64 - total % 64) % 64;
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0, 0};
    int hl = n + pad + 1;
    pre[8] = (unsigned char)(hl & 0xff);
    pre[9] = (unsigned char)(hl >> 8);
    int ok = fwrite(pre, 1, 10, f) == 10 && fwrite(hdr, 1, (size_t)n, f) == (size_t)n;
    for (int i = 0; i < pad && ok; i++) ok = fputc(' ', f) != EOF;
    ok = ok && fputc('\n', f) != EOF && fwrite(d, 4, (size_t)cnt, f) == (size_t)cnt;
    if (fclose(f) != 0) ok = 0;
    return ok ? 0 : -1;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void json_str(const char *s) {
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') printf("\\%c", c);
        else if (c < 0x20) printf("\\u%04x", c);
        else putchar(c);
    }
    putchar('"');
}

static void json_dims(const int64_t *d, int n) {
    putchar('[');
    for (int i = 0; i < n; i++) printf("%s%" PRId64, i ? ", " : "", d[i]);
    putchar(']');
}

static int cmd_compile(int argc, char **argv) {
    const char *in = NULL, *out = NULL;
    aiecg_compile_options co = {0};
    const char **keys = calloc((size_t)argc + 1, sizeof *keys), **vals = calloc((size_t)argc + 1, sizeof *vals);
    char **owned = calloc((size_t)argc + 1, sizeof *owned);
    int rc = CLI_OK;
    if (!keys || !vals || !owned) return CLI_FAIL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) out = argv[++i];
        else if (strcmp(argv[i], "--fp16") == 0) co.fp16 = 1;
        else if (strcmp(argv[i], "--meta") == 0 && i + 1 < argc) {
            char *kv = strdup(argv[++i]);
            char *eq = kv ? strchr(kv, '=') : NULL;
            if (!eq) {
                cli_errorf("model", "--meta wants KEY=VALUE, got '%s'", argv[i]);
                free(kv);
                rc = CLI_USAGE;
                goto done;
            }
            *eq = 0;
            owned[co.nmeta] = kv;
            keys[co.nmeta] = kv;
            vals[co.nmeta] = eq + 1;
            co.nmeta++;
        } else if (!in && argv[i][0] != '-') in = argv[i];
        else {
            cli_errorf("model", "compile: unexpected argument '%s'", argv[i]);
            rc = CLI_USAGE;
            goto done;
        }
    }
    if (!in || !out) {
        fputs(usage_text, stderr);
        rc = CLI_USAGE;
        goto done;
    }
    co.meta_keys = keys;
    co.meta_values = vals;
    aiecg_error err;
    aiecg_error_clear(&err);
    if (aiecg_model_compile(in, out, &co, &err) != AIECG_OK) {
        cli_errorf("model", "compile: %s", err.message);
        rc = CLI_FAIL;
    }
done:
    for (int i = 0; i < argc; i++) free(owned[i]);
    free(owned);
    free(keys);
    free(vals);
    return rc;
}

static int cmd_info(int argc, char **argv) {
    if (argc != 1) {
        fputs(usage_text, stderr);
        return CLI_USAGE;
    }
    aiecg_error err;
    aiecg_error_clear(&err);
    aiecg_model *m = NULL;
    if (aiecg_model_load(argv[0], &m, &err) != AIECG_OK) {
        cli_errorf("model", "%s", err.message);
        return CLI_FAIL;
    }
    int64_t in[AIECG_NN_MAX_DIMS], outd[AIECG_NN_MAX_DIMS], nominal[AIECG_NN_MAX_DIMS];
    int ni = aiecg_model_input_shape(m, in), no = aiecg_model_output_shape(m, outd);
    for (int i = 0; i < ni; i++) nominal[i] = in[i] >= 0 ? in[i] : (i == 0 ? 1 : 4096);
    printf("{\n  \"path\": ");
    json_str(argv[0]);
    printf(",\n  \"input\": ");
    json_dims(in, ni);
    printf(",\n  \"output\": ");
    json_dims(outd, no);
    printf(",\n  \"nominal_input\": ");
    json_dims(nominal, ni);
    printf(",\n  \"flops\": %.0f", aiecg_model_flops(m, nominal, ni));
    printf(",\n  \"metadata\": {");
    for (int i = 0; i < aiecg_model_meta_count(m); i++) {
        const char *k, *v;
        aiecg_model_meta_at(m, i, &k, &v);
        printf("%s\n    ", i ? "," : "");
        json_str(k);
        printf(": ");
        json_str(v);
    }
    printf("%s},\n  \"graph\": ", aiecg_model_meta_count(m) ? "\n  " : "");
    char *g = aiecg_model_describe(m);
    fputs(g ? g : "null", stdout);
    aiecg_free(g);
    printf("\n}\n");
    aiecg_model_free(m);
    return CLI_OK;
}

static int cmd_run(int argc, char **argv) {
    const char *model = NULL, *inp = NULL, *outp = NULL;
    int threads = 1, repeat = 1, generic = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--input") == 0 && i + 1 < argc) inp = argv[++i];
        else if (strcmp(argv[i], "--output") == 0 && i + 1 < argc) outp = argv[++i];
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) threads = atoi(argv[++i]);
        else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc) repeat = atoi(argv[++i]);
        else if (strcmp(argv[i], "--generic") == 0) generic = 1;
        else if (!model && argv[i][0] != '-') model = argv[i];
        else {
            cli_errorf("model", "run: unexpected argument '%s'", argv[i]);
            return CLI_USAGE;
        }
    }
    if (!model || !inp || threads < 1 || repeat < 1) {
        fputs(usage_text, stderr);
        return CLI_USAGE;
    }
    char why[128];
    int64_t xd[AIECG_NN_MAX_DIMS];
    int xn = 0;
    float *x = npy_read(inp, xd, &xn, why, sizeof why);
    if (!x) {
        cli_errorf("model", "%s: %s", inp, why);
        return CLI_FAIL;
    }
    aiecg_error err;
    aiecg_error_clear(&err);
    aiecg_model *m = NULL;
    aiecg_session *s = NULL;
    float *y = NULL;
    int rc = CLI_FAIL;
    if (aiecg_model_load(model, &m, &err) != AIECG_OK) goto fail;
    aiecg_session_options o = aiecg_session_options_default();
    o.nthreads = threads;
    o.force_generic = generic;
    o.max_batch = xn > 0 ? xd[0] : 1;
    o.max_length = xn > 0 ? xd[xn - 1] : 0;
    if (aiecg_session_new(m, &o, &s, &err) != AIECG_OK) goto fail;
    int64_t od[AIECG_NN_MAX_DIMS];
    int on = 0;
    size_t cap = 1 << 20;
    y = malloc(cap * sizeof(float));
    if (!y) goto fail;
    double best = 1e30, total = 0;
    for (int r = 0; r < repeat; r++) {
        double t0 = now_s();
        if (aiecg_session_run(s, x, xd, xn, y, cap, od, &on, &err) != AIECG_OK) goto fail;
        double dt = now_s() - t0;
        total += dt;
        if (dt < best) best = dt;
    }
    double flops = aiecg_model_flops(m, xd, xn);
    printf("{\"backend\": \"%s\", \"threads\": %d, \"input\": ", aiecg_session_backend(s), threads);
    json_dims(xd, xn);
    printf(", \"output\": ");
    json_dims(od, on);
    printf(", \"runs\": %d, \"ms_per_run_best\": %.3f, \"ms_per_run_mean\": %.3f, \"gflops\": %.3f, \"gflop_per_s\": %.2f",
           repeat, best * 1e3, total / repeat * 1e3, flops * 1e-9, flops / best * 1e-9);
    int64_t ny = 1;
    for (int i = 0; i < on; i++) ny *= od[i];
    if (ny <= 32) {
        printf(", \"values\": [");
        for (int64_t i = 0; i < ny; i++) printf("%s%.7g", i ? ", " : "", (double)y[i]);
        printf("]");
    }
    printf("}\n");
    if (outp && npy_write(outp, y, od, on) != 0) {
        cli_errorf("model", "%s: write failed", outp);
        goto done;
    }
    rc = CLI_OK;
    goto done;
fail:
    cli_errorf("model", "%s", err.message[0] ? err.message : "out of memory");
done:
    free(y);
    free(x);
    aiecg_session_free(s);
    aiecg_model_free(m);
    return rc;
}

int aiecg_cli_model(int argc, char **argv) {
    if (argc < 2 || cli_is_help(argv[1])) {
        fputs(usage_text, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    if (strcmp(argv[1], "compile") == 0) return cmd_compile(argc - 2, argv + 2);
    if (strcmp(argv[1], "info") == 0) return cmd_info(argc - 2, argv + 2);
    if (strcmp(argv[1], "run") == 0) return cmd_run(argc - 2, argv + 2);
    cli_errorf("model", "unknown subcommand '%s'", argv[1]);
    fputs(usage_text, stderr);
    return CLI_USAGE;
}
