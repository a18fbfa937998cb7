/*
 * aiecg eval: accuracy evaluation against reference databases, one
 * sub-subcommand each. `qrs` (here) scores aiecg_qrs_detect beat by beat as
 * ANSI/AAMI EC57 prescribes (WFDB bxb matching, 150 ms window) on a WFDB
 * database such as the MIT-BIH Arrhythmia Database. Other evaluations live in
 * their own files and are linked in when built; the table below reaches them
 * through weak references so this file builds without them.
 */
#include "cli.h"
#include "aiecg/eval.h"

#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int aiecg_cli_eval_delineation(int argc, char **argv) __attribute__((weak));
int aiecg_cli_eval_ptbxl(int argc, char **argv) __attribute__((weak));
static int eval_qrs(int argc, char **argv);

/* Names and summaries; the functions come from sub_fn() (weak ones may be NULL). */
static const struct {
    const char *name;
    const char *summary;
} subs[] = {
    {"qrs", "EC57 beat-by-beat QRS detection scores on a WFDB database (MIT-BIH, NSTDB)"},
    {"delineation", "P/QRS/T onset, peak, offset errors on LUDB"},
    {"ptbxl", "statement scores on PTB-XL"},
};

static int (*sub_fn(int i))(int, char **) {
    if (i == 0) return eval_qrs;
    if (i == 1) return aiecg_cli_eval_delineation;
    if (i == 2) return aiecg_cli_eval_ptbxl;
    return NULL;
}

static void help(FILE *f) {
    fprintf(f, "usage: aiecg eval WHAT [ARGS]   ('aiecg eval WHAT --help' for one)\n\n");
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
        fprintf(f, "  %-12s %s%s\n", subs[i].name, subs[i].summary, sub_fn((int)i) ? "" : " (not built)");
}

int aiecg_cli_eval(int argc, char **argv) {
    if (argc < 2) {
        help(stderr);
        return CLI_USAGE;
    }
    if (cli_is_help(argv[1])) {
        help(stdout);
        return CLI_OK;
    }
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
        if (!strcmp(argv[1], subs[i].name)) {
            int (*fn)(int, char **) = sub_fn((int)i);
            if (!fn) {
                cli_errorf("eval", "'%s' is not built into this aiecg", subs[i].name);
                return CLI_FAIL;
            }
            return fn(argc - 1, argv + 1);
        }
    cli_errorf("eval", "unknown evaluation '%s' (see aiecg eval --help)", argv[1]);
    return CLI_USAGE;
}

/* ---- eval qrs --------------------------------------------------------------- */
static void qrs_help(FILE *f) {
    fprintf(f,
            "usage: aiecg eval qrs --db DIR [--records LIST] [--annotator EXT] [--start-s S]\n"
            "                      [--window-ms MS] [--json]\n"
            "\n"
            "Runs the QRS detector over every record of DIR (the names in DIR/RECORDS, else\n"
            "every .hea) and matches its beats with the reference beat annotations\n"
            "(non-beat annotations ignored) one to one within +-MS (default 150, EC57).\n"
            "Prints per record: ref beats, TP, FN, FP, Se %%, +P %%; then gross (pooled) and\n"
            "average (per-record mean) Se and +P. Beats are scored from S seconds (default\n"
            "0: the whole record); the summary also gives the\n"
            "figures from 300 s (EC57's 5-minute learning period) and with ventricular\n"
            "flutter/fibrillation episodes ('(VF'/'(VFL' rhythms, '['..']') excluded.\n"
            "\n"
            "  --records LIST   comma-separated record names (default: all)\n"
            "  --annotator EXT  reference annotation file (default atr)\n"
            "  --json           one JSON object instead of the table\n");
}

typedef struct name_list {
    char **v;
    int n, cap;
} name_list;

static int names_add(name_list *l, const char *s) {
    if (l->n == l->cap) {
        int nc = l->cap ? 2 * l->cap : 64;
        char **nv = realloc(l->v, (size_t)nc * sizeof *nv);
        if (!nv) return -1;
        l->v = nv;
        l->cap = nc;
    }
    l->v[l->n] = strdup(s);
    return l->v[l->n] ? l->n++, 0 : -1;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int list_records(const char *db, const char *only, name_list *out) {
    if (only) {
        char *dup = strdup(only), *save = NULL;
        if (!dup) return -1;
        for (char *t = strtok_r(dup, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) names_add(out, t);
        free(dup);
        return 0;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/RECORDS", db);
    FILE *f = fopen(path, "r");
    if (f) {
        char line[512];
        while (fgets(line, sizeof line, f)) {
            char *s = line + strspn(line, " \t");
            s[strcspn(s, " \t\r\n")] = 0;
            if (*s && *s != '#') names_add(out, s);
        }
        fclose(f);
        return 0;
    }
    DIR *d = opendir(db);
    if (!d) return -1;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n > 4 && !strcmp(e->d_name + n - 4, ".hea")) {
            char nm[512];
            snprintf(nm, sizeof nm, "%.*s", (int)(n - 4), e->d_name);
            names_add(out, nm);
        }
    }
    closedir(d);
    qsort(out->v, (size_t)out->n, sizeof *out->v, cmp_str);
    return 0;
}

/* Keeps the samples outside the [start, end) intervals; returns the new count. */
static int64_t drop_in(int64_t *s, int64_t n, const int64_t *iv, int niv) {
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++) {
        int in = 0;
        for (int j = 0; j < niv && !in; j++) in = s[i] >= iv[2 * j] && s[i] < iv[2 * j + 1];
        if (!in) s[k++] = s[i];
    }
    return k;
}

/* Ventricular flutter/fibrillation intervals from rhythm and VF-marker annotations. */
static int vf_intervals(const aiecg_record *rec, int64_t *iv, int max) {
    const aiecg_annotation *a = aiecg_record_annotations(rec);
    int64_t na = aiecg_record_nannotations(rec), on = -1;
    int n = 0, vfon = aiecg_annotation_code_parse("["), vfoff = aiecg_annotation_code_parse("]");
    int rhythm = aiecg_annotation_code_parse("+");
    for (int64_t i = 0; i < na && n < max; i++) {
        int is_rhythm = a[i].code == rhythm && a[i].aux;
        int starts = (is_rhythm && !strncmp(a[i].aux, "(VF", 3)) || a[i].code == vfon;
        int stops = (is_rhythm && strncmp(a[i].aux, "(VF", 3) != 0) || a[i].code == vfoff;
        if (on < 0 && starts) {
            on = a[i].sample;
        } else if (on >= 0 && stops) {
            iv[2 * n] = on;
            iv[2 * n + 1] = a[i].sample;
            n++;
            on = -1;
        }
    }
    if (on >= 0 && n < max) {
        iv[2 * n] = on;
        iv[2 * n + 1] = aiecg_record_nsamples(rec);
        n++;
    }
    return n;
}

static void pct(FILE *f, double v) {
    if (isfinite(v))
        fprintf(f, "%8.3f", 100 * v);
    else
        fprintf(f, "%8s", "-");
}

static int eval_qrs(int argc, char **argv) {
    const char *db = NULL, *only = NULL, *ann = "atr";
    double start_s = 0, window_ms = 150;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (cli_is_help(a)) {
            qrs_help(stdout);
            return CLI_OK;
        }
        int has = i + 1 < argc;
        if (!strcmp(a, "--db") && has)
            db = argv[++i];
        else if (!strcmp(a, "--records") && has)
            only = argv[++i];
        else if (!strcmp(a, "--annotator") && has)
            ann = argv[++i];
        else if (!strcmp(a, "--start-s") && has)
            start_s = atof(argv[++i]);
        else if (!strcmp(a, "--window-ms") && has)
            window_ms = atof(argv[++i]);
        else if (!strcmp(a, "--json"))
            json = 1;
        else {
            cli_errorf("eval qrs", "unknown or incomplete option '%s' (see aiecg eval qrs --help)", a);
            return CLI_USAGE;
        }
    }
    if (!db) {
        cli_errorf("eval qrs", "--db DIR is required");
        return CLI_USAGE;
    }
    if (!(window_ms > 0) || start_s < 0) {
        cli_errorf("eval qrs", "--window-ms must be > 0 and --start-s >= 0");
        return CLI_USAGE;
    }
    name_list names = {0};
    if (list_records(db, only, &names) != 0 || names.n == 0) {
        cli_errorf("eval qrs", "no records found in '%s'", db);
        free(names.v);
        return CLI_FAIL;
    }
    aiecg_qrs_match gross = {0, 0, 0, NAN, NAN}, gross300 = gross, grossvf = gross;
    double sum_se = 0, sum_ppv = 0;
    int nse = 0, nppv = 0, failed = 0;
    if (json)
        printf("{\"db\":\"%s\",\"window_ms\":%g,\"start_s\":%g,\"records\":[", db, window_ms, start_s);
    else
        printf("%-10s %7s %7s %6s %6s %8s %8s\n", "record", "ref", "TP", "FN", "FP", "Se%", "+P%");
    for (int r = 0; r < names.n; r++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", db, names.v[r]);
        aiecg_read_options o = aiecg_read_options_default();
        o.annotator = ann;
        aiecg_record *rec = NULL;
        aiecg_error err;
        aiecg_error_clear(&err);
        if (aiecg_record_open(path, &o, &rec, &err) != AIECG_OK) {
            /* a record that opens without its annotations (NSTDB's bw, ma, em noise
               records) has nothing to score against: skipped, not failed */
            aiecg_read_options o2 = o;
            o2.skip_annotations = 1;
            if (aiecg_record_open(path, &o2, &rec, NULL) == AIECG_OK) {
                aiecg_record_free(rec);
                fprintf(stderr, "aiecg eval qrs: %s: no '%s' annotations, skipped\n", path, ann);
                continue;
            }
            cli_errorf("eval qrs", "%s: %s", path, err.message);
            failed++;
            continue;
        }
        aiecg_beat *b = NULL;
        int64_t nb = 0;
        if (aiecg_qrs_detect(rec, NULL, &b, &nb, &err) != AIECG_OK) {
            cli_errorf("eval qrs", "%s: %s", path, err.message);
            aiecg_record_free(rec);
            failed++;
            continue;
        }
        int64_t na = aiecg_record_nannotations(rec), nref = 0;
        const aiecg_annotation *a = aiecg_record_annotations(rec);
        int64_t *ref = malloc((size_t)(na + 1) * sizeof *ref), *tst = malloc((size_t)(nb + 1) * sizeof *tst);
        int64_t ivs[2 * 64];
        if (!ref || !tst) {
            cli_errorf("eval qrs", "out of memory");
            return CLI_FAIL;
        }
        for (int64_t i = 0; i < na; i++)
            if (aiecg_annotation_is_beat(a[i].code)) ref[nref++] = a[i].sample;
        for (int64_t i = 0; i < nb; i++) tst[i] = b[i].sample;
        double fs = aiecg_record_fs(rec);
        aiecg_qrs_match m, m300, mvf;
        aiecg_eval_qrs_match(ref, nref, tst, nb, fs, window_ms / 1000, (int64_t)llround(start_s * fs), -1, &m);
        aiecg_eval_qrs_match(ref, nref, tst, nb, fs, window_ms / 1000, (int64_t)llround(300 * fs), -1, &m300);
        int niv = vf_intervals(rec, ivs, 64);
        int64_t nref2 = drop_in(ref, nref, ivs, niv), nb2 = drop_in(tst, nb, ivs, niv);
        aiecg_eval_qrs_match(ref, nref2, tst, nb2, fs, window_ms / 1000, (int64_t)llround(start_s * fs), -1, &mvf);
        aiecg_qrs_match_add(&gross, &m);
        aiecg_qrs_match_add(&gross300, &m300);
        aiecg_qrs_match_add(&grossvf, &mvf);
        if (isfinite(m.se)) sum_se += m.se, nse++;
        if (isfinite(m.ppv)) sum_ppv += m.ppv, nppv++;
        int64_t nscored = m.tp + m.fn;
        if (json) {
            printf("%s{\"record\":\"%s\",\"ref\":%lld,\"tp\":%lld,\"fn\":%lld,\"fp\":%lld,\"se\":", r ? "," : "",
                   names.v[r], (long long)nscored, (long long)m.tp, (long long)m.fn, (long long)m.fp);
            isfinite(m.se) ? printf("%.6f", m.se) : printf("null");
            printf(",\"ppv\":");
            isfinite(m.ppv) ? printf("%.6f", m.ppv) : printf("null");
            printf("}");
        } else {
            printf("%-10s %7lld %7lld %6lld %6lld ", names.v[r], (long long)nscored, (long long)m.tp,
                   (long long)m.fn, (long long)m.fp);
            pct(stdout, m.se);
            printf(" ");
            pct(stdout, m.ppv);
            printf("\n");
        }
        free(ref);
        free(tst);
        aiecg_free(b);
        aiecg_record_free(rec);
    }
    double avg_se = nse ? sum_se / nse : NAN, avg_ppv = nppv ? sum_ppv / nppv : NAN;
    if (json) {
        printf("],\"gross\":{\"tp\":%lld,\"fn\":%lld,\"fp\":%lld,\"se\":%.6f,\"ppv\":%.6f},", (long long)gross.tp,
               (long long)gross.fn, (long long)gross.fp, gross.se, gross.ppv);
        printf("\"average\":{\"se\":%.6f,\"ppv\":%.6f},", avg_se, avg_ppv);
        printf("\"gross_from_300s\":{\"tp\":%lld,\"fn\":%lld,\"fp\":%lld,\"se\":%.6f,\"ppv\":%.6f},",
               (long long)gross300.tp, (long long)gross300.fn, (long long)gross300.fp, gross300.se, gross300.ppv);
        printf("\"gross_vf_excluded\":{\"tp\":%lld,\"fn\":%lld,\"fp\":%lld,\"se\":%.6f,\"ppv\":%.6f},",
               (long long)grossvf.tp, (long long)grossvf.fn, (long long)grossvf.fp, grossvf.se, grossvf.ppv);
        printf("\"failed_records\":%d}\n", failed);
    } else {
        printf("%-10s %7lld %7lld %6lld %6lld ", "gross", (long long)(gross.tp + gross.fn), (long long)gross.tp,
               (long long)gross.fn, (long long)gross.fp);
        pct(stdout, gross.se);
        printf(" ");
        pct(stdout, gross.ppv);
        printf("\n%-10s %7s %7s %6s %6s ", "average", "", "", "", "");
        pct(stdout, avg_se);
        printf(" ");
        pct(stdout, avg_ppv);
        printf("\n%-10s %7lld %7lld %6lld %6lld ", "gross>300s", (long long)(gross300.tp + gross300.fn),
               (long long)gross300.tp, (long long)gross300.fn, (long long)gross300.fp);
        pct(stdout, gross300.se);
        printf(" ");
        pct(stdout, gross300.ppv);
        printf("\n%-10s %7lld %7lld %6lld %6lld ", "gross-VF", (long long)(grossvf.tp + grossvf.fn),
               (long long)grossvf.tp, (long long)grossvf.fn, (long long)grossvf.fp);
        pct(stdout, grossvf.se);
        printf(" ");
        pct(stdout, grossvf.ppv);
        printf("\n");
        if (failed) printf("(%d records could not be evaluated)\n", failed);
    }
    for (int r = 0; r < names.n; r++) free(names.v[r]);
    free(names.v);
    return failed ? CLI_FAIL : CLI_OK;
}
