/*
 * aiecg analyze: runs the whole pipeline (aiecg_analyze) on one or many
 * records and prints the result as a text report, one JSON object per line
 * (schema aiecg.result/1, docs/result-schema.md) or a FHIR R4 bundle; writes
 * SVG/PDF paper reports on request. Inputs are files, directories (their
 * RECORDS list, else every record file in them), WFDB RECORDS lists, or "-"
 * for a list of paths on stdin. Records are analysed in parallel on a thread
 * pool, chunk by chunk, and printed in input order, so the output does not
 * depend on --threads. Exit 1 when some record could not be read or
 * analysed (each failure is reported on stderr and, in JSON mode, as an
 * error object on stdout), 2 on usage errors.
 */
#include "cli.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

enum { OUT_TEXT, OUT_JSON, OUT_FHIR };

typedef struct list {
    char **v;
    int n, cap;
} list;

static int list_add(list *l, const char *s) {
    if (l->n == l->cap) {
        int nc = l->cap ? l->cap * 2 : 16;
        char **nv = realloc(l->v, (size_t)nc * sizeof *nv);
        if (!nv) return -1;
        l->v = nv;
        l->cap = nc;
    }
    size_t len = strlen(s);
    l->v[l->n] = malloc(len + 1);
    if (!l->v[l->n]) return -1;
    memcpy(l->v[l->n], s, len + 1);
    l->n++;
    return 0;
}

static void list_free(list *l) {
    for (int i = 0; i < l->n; i++) free(l->v[i]);
    free(l->v);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

/* Reads a list of record names/paths (one per line), relative to dir when not absolute. */
static int read_list(FILE *f, const char *dir, list *out) {
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        size_t n = strlen(line);
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' ')) line[--n] = '\0';
        if (!n || line[0] == '#') continue;
        char path[8192];
        if (dir && line[0] != '/')
            snprintf(path, sizeof path, "%s/%s", dir, line);
        else
            snprintf(path, sizeof path, "%s", line);
        if (list_add(out, path)) return -1;
    }
    return 0;
}

static int expand(const char *arg, list *out) {
    if (strcmp(arg, "-") == 0) return read_list(stdin, NULL, out);
    if (is_dir(arg)) {
        char rec[8192];
        snprintf(rec, sizeof rec, "%s/RECORDS", arg);
        FILE *f = fopen(rec, "r");
        if (f) {
            int rc = read_list(f, arg, out);
            fclose(f);
            return rc;
        }
        DIR *d = opendir(arg);
        if (!d) return list_add(out, arg);
        list tmp = {0};
        struct dirent *e;
        static const char *exts[] = {".hea", ".edf", ".bdf", ".scp", ".dcm", ".xml", ".ecg"};
        while ((e = readdir(d))) {
            for (size_t k = 0; k < sizeof exts / sizeof exts[0]; k++)
                if (ends_with(e->d_name, exts[k])) {
                    char p[8192];
                    snprintf(p, sizeof p, "%s/%s", arg, e->d_name);
                    if (list_add(&tmp, p)) {
                        closedir(d);
                        list_free(&tmp);
                        return -1;
                    }
                    break;
                }
        }
        closedir(d);
        qsort(tmp.v, (size_t)tmp.n, sizeof tmp.v[0], cmp_str);
        for (int i = 0; i < tmp.n; i++)
            if (list_add(out, tmp.v[i])) {
                list_free(&tmp);
                return -1;
            }
        list_free(&tmp);
        return 0;
    }
    const char *base = strrchr(arg, '/');
    base = base ? base + 1 : arg;
    if (strcmp(base, "RECORDS") == 0) {
        FILE *f = fopen(arg, "r");
        if (f) {
            char dir[8192];
            if (base == arg)
                snprintf(dir, sizeof dir, ".");
            else
                snprintf(dir, sizeof dir, "%.*s", (int)(base - arg - 1), arg);
            int rc = read_list(f, dir, out);
            fclose(f);
            return rc;
        }
    }
    return list_add(out, arg);
}

static void json_escape(FILE *f, const char *s) {
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
}

typedef struct job {
    const char *path;
    char *text;      /* rendered output (malloc'd by the library) */
    char errmsg[600];
    aiecg_status st;
} job;

typedef struct ctx {
    job *jobs;
    int base;
    aiecg_analyzer *an;
    int mode, pretty, skip_model, no_timings;
    const char *svg, *pdf;
    aiecg_report_options ropt;
} ctx;

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static int write_file(const char *path, const char *data, size_t len, char *err, size_t errsize) {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len) {
        snprintf(err, errsize, "cannot write %s", path);
        if (f) fclose(f);
        return -1;
    }
    if (fclose(f) != 0) {
        snprintf(err, errsize, "cannot write %s", path);
        return -1;
    }
    return 0;
}

static void run_one(void *vctx, int task, int thread) {
    (void)thread;
    ctx *c = vctx;
    job *j = &c->jobs[c->base + task];
    aiecg_error err;
    aiecg_error_clear(&err);
    aiecg_record *rec = NULL;
    aiecg_result *res = NULL;
    double t0 = now_ms();
    aiecg_read_options ro = aiecg_read_options_default();
    ro.skip_annotations = 1;
    j->st = aiecg_record_open(j->path, &ro, &rec, &err);
    double t_read = now_ms() - t0;
    if (j->st == AIECG_OK) {
        aiecg_analyze_options ao = aiecg_analyze_options_default();
        ao.analyzer = c->an;
        ao.skip_model = c->skip_model;
        ao.keep_signal = c->svg || c->pdf || c->mode == OUT_FHIR;
        j->st = aiecg_analyze(rec, &ao, &res, &err);
    }
    if (j->st == AIECG_OK) {
        aiecg_result_set_read_ms(res, t_read);
        aiecg_result_set_source(res, j->path);
        if (c->mode == OUT_JSON)
            j->st = aiecg_result_json(res, (c->pretty ? AIECG_JSON_PRETTY : 0) | (c->no_timings ? AIECG_JSON_NO_TIMINGS : 0),
                                     &j->text);
        else if (c->mode == OUT_FHIR)
            j->st = aiecg_result_fhir(res, &j->text, &err);
        else
            j->st = aiecg_result_text(res, &j->text);
        if (j->st == AIECG_OK && c->svg) {
            char *svg = NULL;
            j->st = aiecg_result_svg(res, &c->ropt, &svg, &err);
            if (j->st == AIECG_OK && write_file(c->svg, svg, strlen(svg), err.message, sizeof err.message))
                j->st = AIECG_ERR_IO;
            aiecg_free(svg);
        }
        if (j->st == AIECG_OK && c->pdf) {
            char *pdf = NULL;
            size_t len = 0;
            j->st = aiecg_result_pdf(res, &c->ropt, &pdf, &len, &err);
            if (j->st == AIECG_OK && write_file(c->pdf, pdf, len, err.message, sizeof err.message))
                j->st = AIECG_ERR_IO;
            aiecg_free(pdf);
        }
    }
    if (j->st != AIECG_OK)
        snprintf(j->errmsg, sizeof j->errmsg, "%s", err.message[0] ? err.message : aiecg_strerror(j->st));
    aiecg_result_free(res);
    aiecg_record_free(rec);
}

static void log_stderr(void *user, aiecg_log_level level, const char *msg) {
    (void)user;
    fprintf(stderr, "aiecg analyze: %s: %s\n", level >= AIECG_LOG_ERROR ? "error" : "warning", msg);
}

static void help(FILE *f) {
    fprintf(f,
            "usage: aiecg analyze REC... [--json | --text | --fhir] [--svg FILE] [--pdf FILE]\n"
            "                     [--paper a4|letter] [--beats] [--fiducials] [--threads N]\n"
            "                     [--models DIR] [--no-model] [--pretty] [--no-timings]\n"
            "\n"
            "Interprets ECG records: quality, measurements, statements (model + rules).\n"
            "REC is a record file (WFDB .hea or record path, EDF, SCP, DICOM, aECG, ...),\n"
            "a directory (its RECORDS list, else every record file in it), a RECORDS file,\n"
            "or '-' to read paths from stdin.\n"
            "\n"
            "  --text        plain-text report (default for one record)\n"
            "  --json        one JSON object per line per record (default for several);\n"
            "                schema aiecg.result/1, see docs/result-schema.md\n"
            "  --fhir        HL7 FHIR R4 Bundle (DiagnosticReport + Observations)\n"
            "  --svg FILE    12-lead paper report as SVG (one record only)\n"
            "  --pdf FILE    the same report as PDF (one record only)\n"
            "  --paper P     a4 (default) or letter\n"
            "  --beats       mark detected beats on the rhythm strip\n"
            "  --fiducials   mark P/QRS/T onsets and ends on the rhythm strip\n"
            "  --threads N   records analysed in parallel (default 1; 0 = all CPUs)\n"
            "  --models DIR  model folder (default $AIECG_MODEL_DIR, installed, source tree)\n"
            "  --no-model    rules only\n"
            "  --pretty      indented JSON\n"
            "  --no-timings  leave the stage timings out of the JSON (reproducible output)\n");
}

int aiecg_cli_analyze(int argc, char **argv) {
    list in = {0};
    int mode = -1, threads = 1, pretty = 0, skip_model = 0, no_timings = 0;
    const char *svg = NULL, *pdf = NULL, *models = NULL;
    aiecg_report_options ropt = aiecg_report_options_default();
    int rc = CLI_OK;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (cli_is_help(a)) {
            help(stdout);
            list_free(&in);
            return CLI_OK;
        } else if (!strcmp(a, "--json")) {
            mode = OUT_JSON;
        } else if (!strcmp(a, "--text")) {
            mode = OUT_TEXT;
        } else if (!strcmp(a, "--fhir")) {
            mode = OUT_FHIR;
        } else if (!strcmp(a, "--pretty")) {
            pretty = 1;
        } else if (!strcmp(a, "--no-timings")) {
            no_timings = 1;
        } else if (!strcmp(a, "--beats")) {
            ropt.beat_marks = 1;
        } else if (!strcmp(a, "--fiducials")) {
            ropt.fiducial_marks = 1;
        } else if (!strcmp(a, "--no-model")) {
            skip_model = 1;
        } else if (!strcmp(a, "--svg") || !strcmp(a, "--pdf") || !strcmp(a, "--threads") ||
                   !strcmp(a, "--models") || !strcmp(a, "--paper")) {
            if (++i >= argc) {
                cli_errorf("analyze", "%s needs a value", a);
                list_free(&in);
                return CLI_USAGE;
            }
            if (!strcmp(a, "--svg")) svg = argv[i];
            else if (!strcmp(a, "--pdf")) pdf = argv[i];
            else if (!strcmp(a, "--models")) models = argv[i];
            else if (!strcmp(a, "--threads")) {
                char *end;
                long t = strtol(argv[i], &end, 10);
                if (*end || t < 0 || t > 256) {
                    cli_errorf("analyze", "--threads: '%s' is not a number in 0..256", argv[i]);
                    list_free(&in);
                    return CLI_USAGE;
                }
                threads = (int)t;
            } else {
                if (!strcmp(argv[i], "a4")) ropt.paper = AIECG_PAPER_A4;
                else if (!strcmp(argv[i], "letter")) ropt.paper = AIECG_PAPER_LETTER;
                else {
                    cli_errorf("analyze", "--paper: '%s' is not a4 or letter", argv[i]);
                    list_free(&in);
                    return CLI_USAGE;
                }
            }
        } else if (a[0] == '-' && a[1]) {
            cli_errorf("analyze", "unknown option '%s' (see aiecg analyze --help)", a);
            list_free(&in);
            return CLI_USAGE;
        } else if (expand(a, &in)) {
            cli_errorf("analyze", "out of memory");
            list_free(&in);
            return CLI_FAIL;
        }
    }
    if (in.n == 0) {
        cli_errorf("analyze", "no record given (see aiecg analyze --help)");
        list_free(&in);
        return CLI_USAGE;
    }
    if ((svg || pdf) && in.n > 1) {
        cli_errorf("analyze", "--svg/--pdf take one record, %d given", in.n);
        list_free(&in);
        return CLI_USAGE;
    }
    if (mode < 0) mode = in.n == 1 ? OUT_TEXT : OUT_JSON;

    aiecg_error err;
    aiecg_error_clear(&err);
    aiecg_analyzer *an = NULL;
    if (!skip_model) {
        aiecg_analyzer_options aopt = aiecg_analyzer_options_default();
        aopt.models_dir = models;
        aopt.require_model = models != NULL;
        aopt.logger.fn = log_stderr; /* a model that does not load is said, not silently skipped */
        aopt.logger.min_level = AIECG_LOG_WARN;
        aiecg_status st = aiecg_analyzer_new(&aopt, &an, &err);
        if (st) {
            cli_errorf("analyze", "%s", err.message[0] ? err.message : aiecg_strerror(st));
            list_free(&in);
            return CLI_FAIL;
        }
    }
    aiecg_threadpool *pool = NULL;
    if (threads != 1 && in.n > 1 && aiecg_threadpool_new(threads, &pool) != AIECG_OK) pool = NULL;
    job *jobs = calloc((size_t)in.n, sizeof *jobs);
    if (!jobs) {
        cli_errorf("analyze", "out of memory");
        aiecg_analyzer_free(an);
        aiecg_threadpool_free(pool);
        list_free(&in);
        return CLI_FAIL;
    }
    ctx c = {jobs, 0, an, mode, pretty, skip_model, no_timings, svg, pdf, ropt};
    const int chunk = 64;
    for (int base = 0; base < in.n; base += chunk) {
        int n = in.n - base < chunk ? in.n - base : chunk;
        for (int k = 0; k < n; k++) jobs[base + k].path = in.v[base + k];
        c.base = base;
        aiecg_threadpool_parallel_for(pool, n, run_one, &c);
        for (int k = 0; k < n; k++) {
            job *j = &jobs[base + k];
            if (j->st == AIECG_OK) {
                fputs(j->text, stdout);
                if (mode == OUT_JSON) fputc('\n', stdout);
            } else {
                rc = CLI_FAIL;
                cli_errorf("analyze", "%s: %s", j->path, j->errmsg);
                if (mode == OUT_JSON) {
                    printf("{\"schema\":\"%s\",\"source\":\"", AIECG_RESULT_SCHEMA);
                    json_escape(stdout, j->path);
                    printf("\",\"error\":{\"status\":\"%s\",\"message\":\"", aiecg_status_name(j->st));
                    json_escape(stdout, j->errmsg);
                    printf("\"}}\n");
                }
            }
            aiecg_free(j->text);
            j->text = NULL;
        }
        fflush(stdout);
    }
    free(jobs);
    aiecg_threadpool_free(pool);
    aiecg_analyzer_free(an);
    list_free(&in);
    return rc;
}
