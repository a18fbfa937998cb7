/*
 * bench_nn: times one model through aiecg sessions and prints figures that are
 * comparable within one run (bench/run_ort_bench.sh interleaves it with ONNX
 * Runtime): ms per record at batch 1 and 16, GFLOP/s, the share of this
 * machine's single-thread FP32 FMA peak (measured here by a register-only FMA
 * loop), the heaviest conv layers' GFLOP/s, and peak extra RSS of one session.
 * Inputs are deterministic (x[i] = 0.5 sin(0.01 i)), the same formula the ORT
 * script uses, and the output sum is printed so both can be cross-checked.
 * Never part of the test verdict.
 *
 * usage: bench_nn MODEL [--batch N[,N...]] [--length L] [--repeat N] [--threads N] [--generic]
 *                       [--layers] [--all-layers] [--peak-only] [--json] [--budget BYTES] [--sessions N]
 * --sessions N: after the timing, N sessions of the model at the first batch size are created and run once
 * each; prints the RSS growth for all of them (packed conv weights are per model, so they count once).
 */
#include "aiecg/nn.h"
#include "nn/nn_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* CPU time of this thread: unlike wall time it excludes the time other processes on the shared VM hold the core. */
static double cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static long rss_kb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long v = -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0) v = atol(line + 6);
    fclose(f);
    return v;
}

static long rss_now_kb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long v = -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0) v = atol(line + 6);
    fclose(f);
    return v;
}

#if defined(__x86_64__)
#include <immintrin.h>
__attribute__((target("avx2,fma"))) static double fma_peak_gflops(void) {
    __m256 a[10], b = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
    for (int i = 0; i < 10; i++) a[i] = _mm256_set1_ps((float)i);
    const long iters = 20000000;
    double best = 0;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = now_s();
        for (long it = 0; it < iters; it++)
            for (int i = 0; i < 10; i++) a[i] = _mm256_fmadd_ps(a[i], b, c);
        double dt = now_s() - t0;
        __m256 s = a[0];
        for (int i = 1; i < 10; i++) s = _mm256_add_ps(s, a[i]);
        float out[8];
        _mm256_storeu_ps(out, s);
        if (out[0] == 12345.0f) printf(" ");
        double g = 2.0 * 8 * 10 * (double)iters / dt * 1e-9;
        if (g > best) best = g;
    }
    return best;
}
/* The same loop on zmm registers: the peak of the AVX-512 path. */
__attribute__((target("avx512f"))) static double fma_peak_gflops_512(void) {
    __m512 a[10], b = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
    for (int i = 0; i < 10; i++) a[i] = _mm512_set1_ps((float)i);
    const long iters = 20000000;
    double best = 0;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = now_s();
        for (long it = 0; it < iters; it++)
            for (int i = 0; i < 10; i++) a[i] = _mm512_fmadd_ps(a[i], b, c);
        double dt = now_s() - t0;
        __m512 s = a[0];
        for (int i = 1; i < 10; i++) s = _mm512_add_ps(s, a[i]);
        float out[16];
        _mm512_storeu_ps(out, s);
        if (out[0] == 12345.0f) printf(" ");
        double g = 2.0 * 16 * 10 * (double)iters / dt * 1e-9;
        if (g > best) best = g;
    }
    return best;
}
#else
static double fma_peak_gflops(void) { return 0.0; }
#endif

/* Peak of the widest FMA the session will use. */
static double peak_for_machine(int generic) {
#if defined(__x86_64__)
    if (!generic && (aiecg_cpu_features() & AIECG_CPU_AVX512F)) return fma_peak_gflops_512();
#endif
    (void)generic;
    return fma_peak_gflops();
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    const char *path = NULL;
    int batches[8] = {1, 16}, nb = 2, repeat = 10, threads = 1, generic = 0, layers = 0, json = 0, nsess = 0, all = 0;
    int64_t length = 0;
    size_t budget = 0; /* sub-batch working-set budget in bytes (0: the library default) */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc) {
            nb = 0;
            for (char *p = argv[++i]; *p && nb < 8;) {
                batches[nb++] = (int)strtol(p, &p, 10);
                if (*p == ',') p++;
            }
        } else if (strcmp(argv[i], "--length") == 0 && i + 1 < argc) length = atoll(argv[++i]);
        else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc) repeat = atoi(argv[++i]);
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) threads = atoi(argv[++i]);
        else if (strcmp(argv[i], "--generic") == 0) generic = 1;
        else if (strcmp(argv[i], "--budget") == 0 && i + 1 < argc) budget = (size_t)atoll(argv[++i]);
        else if (strcmp(argv[i], "--sessions") == 0 && i + 1 < argc) nsess = atoi(argv[++i]);
        else if (strcmp(argv[i], "--layers") == 0) layers = 1;
        else if (strcmp(argv[i], "--all-layers") == 0) layers = all = 1;
        else if (strcmp(argv[i], "--json") == 0) json = 1;
        else if (strcmp(argv[i], "--peak-only") == 0) {
            printf("fma_peak_gflops %.1f (widest FMA the fast path uses)\n", peak_for_machine(0));
            return 0;
        } else path = argv[i];
    }
    if (!path) {
        fprintf(stderr, "usage: bench_nn MODEL [--batch 1,16] [--length L] [--repeat N] [--threads N] [--generic] [--layers] [--all-layers] [--json] [--budget BYTES] [--sessions N]\n");
        return 2;
    }
    double peak = peak_for_machine(generic);
    long rss0 = rss_now_kb();
    aiecg_error err;
    aiecg_model *m = NULL;
    if (aiecg_model_load(path, &m, &err) != AIECG_OK) {
        fprintf(stderr, "bench_nn: %s\n", err.message);
        return 1;
    }
    long rss_model = rss_now_kb();
    int64_t dims[AIECG_NN_MAX_DIMS];
    int nd = aiecg_model_input_shape(m, dims);
    for (int i = 1; i < nd; i++)
        if (dims[i] < 0) dims[i] = length > 0 ? length : 1000;
    if (length > 0 && nd >= 3) dims[nd - 1] = length;
    for (int bi = 0; bi < nb; bi++) {
        int64_t d[AIECG_NN_MAX_DIMS];
        memcpy(d, dims, sizeof d);
        d[0] = batches[bi];
        int64_t n = 1;
        for (int i = 0; i < nd; i++) n *= d[i];
        float *x = malloc((size_t)n * sizeof(float)), *y = malloc(((size_t)1 << 20) * sizeof(float));
        for (int64_t i = 0; i < n; i++) x[i] = 0.5f * sinf(0.01f * (float)(i % 100000));
        aiecg_session_options o = aiecg_session_options_default();
        o.nthreads = threads;
        o.force_generic = generic;
        o.max_batch = d[0];
        o.max_length = nd >= 3 ? d[nd - 1] : 0;
        aiecg_session *s = NULL;
        long rss_before = rss_kb();
        if ((budget ? aiecg__nn_session_new_budget(m, &o, budget, &s, &err) : aiecg_session_new(m, &o, &s, &err)) !=
            AIECG_OK) {
            fprintf(stderr, "bench_nn: %s\n", err.message);
            return 1;
        }
        int64_t od[AIECG_NN_MAX_DIMS];
        int ond = 0;
        double *prof = layers ? calloc((size_t)m->g.nn, sizeof(double)) : NULL;
        if (aiecg_session_run(s, x, d, nd, y, (size_t)1 << 20, od, &ond, &err) != AIECG_OK) { /* warm-up */
            fprintf(stderr, "bench_nn: %s\n", err.message);
            return 1;
        }
        long rss_after = rss_kb();
        /* per-layer times: the minimum over the runs (the VM is shared: medians drift, minima are stable) */
        double *cur = layers ? calloc((size_t)m->g.nn, sizeof(double)) : NULL;
        if (prof) {
            aiecg__nn_session_profile(s, cur);
            for (int i = 0; i < m->g.nn; i++) prof[i] = 1e30;
        }
        double *t = calloc((size_t)repeat, sizeof(double)), cpu_min = 1e30;
        for (int r = 0; r < repeat; r++) {
            if (cur) memset(cur, 0, (size_t)m->g.nn * sizeof(double));
            double t0 = now_s(), c0 = cpu_s();
            aiecg_session_run(s, x, d, nd, y, (size_t)1 << 20, od, &ond, &err);
            t[r] = now_s() - t0;
            double c1 = cpu_s() - c0;
            if (c1 < cpu_min) cpu_min = c1;
            if (prof)
                for (int i = 0; i < m->g.nn; i++) prof[i] = cur[i] < prof[i] ? cur[i] : prof[i];
        }
        if (prof)
            for (int i = 0; i < m->g.nn; i++) prof[i] *= repeat; /* the report below divides by repeat */
        free(cur);
        qsort(t, (size_t)repeat, sizeof *t, cmp_d);
        double med = t[repeat / 2];
        double flops = aiecg_model_flops(m, d, nd);
        int64_t ny = 1;
        for (int i = 0; i < ond; i++) ny *= od[i];
        double sum = 0;
        for (int64_t i = 0; i < ny; i++) sum += y[i];
        if (json)
            printf("{\"engine\": \"aiecg\", \"backend\": \"%s\", \"batch\": %d, \"ms_per_record\": %.4f, \"min_ms_per_record\": %.4f, \"min_cpu_ms_per_record\": %.4f, \"gflop_per_s\": %.2f, "
                   "\"peak_gflop_per_s\": %.1f, \"pct_peak\": %.1f, \"output_sum\": %.6g, \"session_mb\": %.2f, "
                   "\"packed_mb\": %.2f, \"rss_extra_mb\": %.2f, \"model_rss_mb\": %.2f}\n",
                   aiecg_session_backend(s), batches[bi], med * 1e3 / batches[bi], t[0] * 1e3 / batches[bi],
                   cpu_min * 1e3 / batches[bi], flops / med * 1e-9, peak,
                   100.0 * flops / med * 1e-9 / peak, sum, aiecg__nn_session_arena_bytes(s) / 1048576.0,
                   aiecg__nn_session_packed_bytes(s) / 1048576.0, (rss_after - rss_before) / 1024.0,
                   (rss_model - rss0) / 1024.0);
        else
            printf("aiecg %-7s batch %3d: %8.3f ms/record (min %.3f, cpu %.3f)  %7.2f GFLOP/s  %5.1f %% of FMA peak (%.1f)  out sum %.6g  "
                   "session %.2f MB + packed weights %.2f MB (per model)  extra RSS %.2f MB\n",
                   aiecg_session_backend(s), batches[bi], med * 1e3 / batches[bi], t[0] * 1e3 / batches[bi],
                   cpu_min * 1e3 / batches[bi], flops / med * 1e-9, 100.0 * flops / med * 1e-9 / peak, peak, sum, aiecg__nn_session_arena_bytes(s) / 1048576.0,
                   aiecg__nn_session_packed_bytes(s) / 1048576.0, (rss_after - rss_before) / 1024.0);
        if (prof) {
            /* heaviest layers by FLOPs */
            aiecg__nn_shape *sh = calloc((size_t)m->g.nt, sizeof *sh);
            int32_t *dt = calloc((size_t)m->g.nt, sizeof *dt);
            aiecg__nn_infer_all(&m->g, d, nd, sh, dt, NULL);
            double tot = 0;
            for (int i = 0; i < m->g.nn; i++) tot += prof[i];
            for (int i = 0; i < m->g.nn; i++) {
                double f = aiecg__nn_node_flops(&m->g, &m->g.n[i], sh);
                double ts = prof[i] / repeat;
                if (all || f > 0.02 * flops || ts > 0.03 * tot / repeat) {
                    /* input -> output shape (per record dims after the batch) and, for convs, the kernel */
                    const aiecg__nn_node *nd_ = &m->g.n[i];
                    const aiecg__nn_shape *xs = &sh[nd_->in[0]], *ys = &sh[nd_->out[0]];
                    char shp[96];
                    int o = 0;
                    for (int k = 1; k < xs->ndim && o < 40; k++) o += snprintf(shp + o, sizeof shp - (size_t)o, "%s%lld", k > 1 ? "x" : "", (long long)xs->d[k]);
                    o += snprintf(shp + o, sizeof shp - (size_t)o, "->");
                    for (int k = 1; k < ys->ndim && o < 80; k++) o += snprintf(shp + o, sizeof shp - (size_t)o, "%s%lld", k > 1 ? "x" : "", (long long)ys->d[k]);
                    if (nd_->op == AIECG__OP_CONV && o < 84) snprintf(shp + o, sizeof shp - (size_t)o, " k%lld/s%lld", (long long)nd_->a.kernel[1], (long long)nd_->a.stride[1]);
                    printf("  layer %3d %-14s %-34.34s %-24s %7.3f ms  %7.2f GFLOP/s  %5.1f %% peak\n", i,
                           aiecg__nn_op_names[nd_->op], nd_->name, shp, ts * 1e3, f / ts * 1e-9,
                           100.0 * f / ts * 1e-9 / peak);
                }
            }
            /* time per op type (all layers) */
            double opt[AIECG__OP_COUNT] = {0};
            for (int i = 0; i < m->g.nn; i++) opt[m->g.n[i].op] += prof[i] / repeat;
            printf("  per op:");
            for (int o = 0; o < AIECG__OP_COUNT; o++)
                if (opt[o] > 0) printf(" %s %.3f ms", aiecg__nn_op_names[o], opt[o] * 1e3);
            printf("\n");
            free(sh);
            free(dt);
        }
        free(prof);
        free(t);
        aiecg_session_free(s);
        free(x);
        free(y);
    }
    if (nsess > 0) {
        /* N sessions alive at once (a server with N worker threads): RSS growth over all of them */
        int64_t d[AIECG_NN_MAX_DIMS];
        memcpy(d, dims, sizeof d);
        d[0] = batches[0];
        int64_t n = 1;
        for (int i = 0; i < nd; i++) n *= d[i];
        float *x = malloc((size_t)n * sizeof(float)), *y = malloc(((size_t)1 << 20) * sizeof(float));
        for (int64_t i = 0; i < n; i++) x[i] = 0.5f * sinf(0.01f * (float)(i % 100000));
        aiecg_session **ss = calloc((size_t)nsess, sizeof *ss);
        aiecg_session_options o = aiecg_session_options_default();
        o.nthreads = threads;
        o.force_generic = generic;
        o.max_batch = d[0];
        o.max_length = nd >= 3 ? d[nd - 1] : 0;
        long r0 = rss_now_kb();
        double own = 0;
        for (int k = 0; k < nsess; k++) {
            int64_t od[AIECG_NN_MAX_DIMS];
            int ond = 0;
            if (aiecg_session_new(m, &o, &ss[k], &err) != AIECG_OK ||
                aiecg_session_run(ss[k], x, d, nd, y, (size_t)1 << 20, od, &ond, &err) != AIECG_OK) {
                fprintf(stderr, "bench_nn: %s\n", err.message);
                return 1;
            }
            own += aiecg__nn_session_arena_bytes(ss[k]) / 1048576.0;
        }
        long r1 = rss_now_kb();
        printf("%d sessions (batch %d): RSS +%.2f MB (%.2f MB per session; arenas %.2f MB each, packed weights "
               "%.2f MB per model)\n",
               nsess, batches[0], (r1 - r0) / 1024.0, (r1 - r0) / 1024.0 / nsess, own / nsess,
               aiecg__nn_session_packed_bytes(ss[0]) / 1048576.0);
        for (int k = 0; k < nsess; k++) aiecg_session_free(ss[k]);
        free(ss);
        free(x);
        free(y);
    }
    aiecg_model_free(m);
    return 0;
}
