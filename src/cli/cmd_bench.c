/*
 * aiecg bench: throughput of the whole pipeline on real 12-lead records, on
 * one core (one record at a time, one inference thread): LUDB (10 s, 500 Hz)
 * and PTB-XL (10 s, 100 Hz). Prints records/s end to end and the time per
 * record of each stage (read, quality, dsp, model, interp), and records per
 * second of the thread's own CPU time (CLOCK_THREAD_CPUTIME_ID), which a busy
 * shared machine inflates far less than the wall clock, since time spent
 * waiting for a core is not counted. Numbers drift with the machine; compare
 * within one run. Never part of the test verdict.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static double cpu_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static int exists(const char *p) {
    struct stat st;
    return stat(p, &st) == 0;
}

typedef struct acc {
    int n;
    double read, quality, dsp, model, interp, total, cpu;
} acc;

static int bench_set(const char *title, char **paths, int npaths, int n, aiecg_analyzer *an, acc *a) {
    memset(a, 0, sizeof *a);
    if (npaths == 0) return 0;
    /* warm-up: first record once (page cache, session creation) */
    aiecg_record *rec = NULL;
    aiecg_result *res = NULL;
    aiecg_analyze_options ao = aiecg_analyze_options_default();
    ao.analyzer = an;
    ao.keep_signal = 0;
    if (aiecg_record_open(paths[0], NULL, &rec, NULL) == AIECG_OK && aiecg_analyze(rec, &ao, &res, NULL) == AIECG_OK) {
        aiecg_result_free(res);
        res = NULL;
    }
    aiecg_record_free(rec);
    const char *model = NULL;
    double c0 = cpu_ms();
    for (int i = 0; i < n; i++) {
        const char *p = paths[i % npaths];
        aiecg_error err;
        aiecg_error_clear(&err);
        double t0 = now_ms();
        rec = NULL;
        if (aiecg_record_open(p, NULL, &rec, &err) != AIECG_OK) {
            cli_errorf("bench", "%s: %s", p, err.message);
            return -1;
        }
        double t1 = now_ms();
        if (aiecg_analyze(rec, &ao, &res, &err) != AIECG_OK) {
            cli_errorf("bench", "%s: %s", p, err.message);
            aiecg_record_free(rec);
            return -1;
        }
        double t2 = now_ms();
        aiecg_timings t = aiecg_result_timings(res);
        a->read += t1 - t0;
        a->quality += t.quality_ms;
        a->dsp += t.dsp_ms;
        a->model += t.model_ms;
        a->interp += t.interp_ms;
        a->total += t2 - t0;
        a->n++;
        if (!model) model = aiecg_result_model(res) ? "model" : NULL;
        aiecg_result_free(res);
        aiecg_record_free(rec);
        res = NULL;
    }
    a->cpu = cpu_ms() - c0;
    printf("%-28s %5d records  %8.1f records/s   per record ms: read %.3f  quality %.3f  dsp %.3f  model %.3f  "
           "interp %.3f  total %.3f  (CPU time: %.1f records/s, %.3f ms)%s\n",
           title, a->n, a->n / (a->total / 1000.0), a->read / a->n, a->quality / a->n, a->dsp / a->n, a->model / a->n,
           a->interp / a->n, a->total / a->n, a->n / (a->cpu / 1000.0), a->cpu / a->n, model ? "" : "  (no model ran)");
    return 0;
}

static void help(FILE *f) {
    fprintf(f,
            "usage: aiecg bench [--db DIR] [--n N] [--models DIR]\n"
            "\n"
            "Runs the whole analysis pipeline (read, quality, dsp, model, interp) on one\n"
            "core over real 12-lead records and prints records/s and per-stage times:\n"
            "LUDB (DIR/ludb/data, 10 s, 500 Hz) and PTB-XL (DIR/ptbxl/records100, 100 Hz).\n"
            "\n"
            "  --db DIR      data folder (default $AIECG_DATA_DIR, else ./data)\n"
            "  --n N         records per set (default 200; records are cycled)\n"
            "  --models DIR  model folder (default as aiecg analyze)\n");
}

int aiecg_cli_bench(int argc, char **argv) {
    const char *db = getenv("AIECG_DATA_DIR");
    const char *models = NULL;
    int n = 200;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            help(stdout);
            return CLI_OK;
        } else if ((!strcmp(argv[i], "--db") || !strcmp(argv[i], "--n") || !strcmp(argv[i], "--models")) &&
                   i + 1 < argc) {
            if (!strcmp(argv[i], "--db")) db = argv[++i];
            else if (!strcmp(argv[i], "--models")) models = argv[++i];
            else {
                n = atoi(argv[++i]);
                if (n <= 0) {
                    cli_errorf("bench", "--n must be a positive number");
                    return CLI_USAGE;
                }
            }
        } else {
            cli_errorf("bench", "unknown or incomplete option '%s' (see aiecg bench --help)", argv[i]);
            return CLI_USAGE;
        }
    }
    if (!db) db = "data";
    aiecg_analyzer_options aopt = aiecg_analyzer_options_default();
    aopt.models_dir = models;
    aiecg_analyzer *an = NULL;
    aiecg_error err;
    aiecg_error_clear(&err);
    if (aiecg_analyzer_new(&aopt, &an, &err) != AIECG_OK) {
        cli_errorf("bench", "%s", err.message);
        return CLI_FAIL;
    }
    char cpu[128];
    aiecg_cpu_features_string(aiecg_cpu_features(), cpu, sizeof cpu);
    printf("aiecg %s bench: one core, %d model(s) from %s, cpu: %s\n", aiecg_version(), aiecg_analyzer_nmodels(an),
           aiecg_analyzer_models_dir(an), cpu);
    enum { MAXP = 100 };
    char *lp[MAXP], *pp[MAXP];
    int nl = 0, np = 0;
    char buf[8192];
    for (int i = 1; i <= MAXP && nl < MAXP; i++) {
        snprintf(buf, sizeof buf, "%s/ludb/data/%d.hea", db, i);
        if (exists(buf)) lp[nl++] = strdup(buf);
    }
    for (int i = 1000; i < 1000 + 5 * MAXP && np < MAXP; i++) {
        snprintf(buf, sizeof buf, "%s/ptbxl/records100/%02d000/%05d_lr.hea", db, i / 1000, i);
        if (exists(buf)) pp[np++] = strdup(buf);
    }
    if (nl == 0 && np == 0) {
        cli_errorf("bench", "no LUDB or PTB-XL records under %s (give --db)", db);
        aiecg_analyzer_free(an);
        return CLI_FAIL;
    }
    acc a, b;
    int rc = CLI_OK;
    if (bench_set("LUDB 12-lead 500 Hz 10 s", lp, nl, n, an, &a) ||
        bench_set("PTB-XL 12-lead 100 Hz 10 s", pp, np, n, an, &b))
        rc = CLI_FAIL;
    for (int i = 0; i < nl; i++) free(lp[i]);
    for (int i = 0; i < np; i++) free(pp[i]);
    aiecg_analyzer_free(an);
    return rc;
}
