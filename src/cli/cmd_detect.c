/*
 * aiecg detect: QRS detection (aiecg_qrs_detect) on any readable record,
 * beats as JSON; optionally a WFDB annotation file of the beats and, with
 * --waves, the P/QRS/T boundaries of aiecg_measure in the LUDB / ecgpuwave
 * convention: '(' onset, peak mnemonic ('p', the beat label, 't'), ')' offset.
 */
#include "cli.h"
#include "aiecg/wfdb.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void help(FILE *f) {
    fprintf(f,
            "usage: aiecg detect RECORD [--annotate EXT [--waves]] [--out-dir DIR] [--quiet]\n"
            "\n"
            "Detects QRS complexes over all leads and prints JSON: record, fs, nbeats and\n"
            "beats [{sample, time_s, label (N V S P Q), family, rr_ms, width_ms}].\n"
            "\n"
            "  --annotate EXT  also write the beats as a WFDB annotation file\n"
            "                  DIR/<record>.EXT (N, V, S, / paced, Q)\n"
            "  --waves         add P, QRS and T onset/peak/offset from the delineator\n"
            "                  ( p ) ( N ) ( t ) to the annotation file\n"
            "  --out-dir DIR   where to write (default: the record's directory)\n"
            "  --quiet         no JSON on stdout\n");
}

static int code_for(char label) {
    const char *m = label == 'V' ? "V" : label == 'S' ? "S" : label == 'P' ? "/" : label == 'Q' ? "Q" : "N";
    int c = aiecg_annotation_code_parse(m);
    return c > 0 ? c : 1;
}

typedef struct ann_buf {
    aiecg_annotation *a;
    int64_t n, cap;
} ann_buf;

static int push(ann_buf *b, int64_t sample, const char *mnemonic, int code) {
    if (sample < 0) return 0;
    if (b->n == b->cap) {
        int64_t nc = b->cap ? 2 * b->cap : 1024;
        aiecg_annotation *na = realloc(b->a, (size_t)nc * sizeof *na);
        if (!na) return -1;
        b->a = na;
        b->cap = nc;
    }
    aiecg_annotation *x = &b->a[b->n++];
    memset(x, 0, sizeof *x);
    x->sample = sample;
    x->code = mnemonic ? aiecg_annotation_code_parse(mnemonic) : code;
    if (x->code < 0) x->code = 1;
    return 0;
}

static int cmp_ann(const void *a, const void *b) {
    const aiecg_annotation *x = a, *y = b;
    return (x->sample > y->sample) - (x->sample < y->sample);
}

int aiecg_cli_detect(int argc, char **argv) {
    const char *path = NULL, *ext = NULL, *outdir = NULL;
    int waves = 0, quiet = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (cli_is_help(a)) {
            help(stdout);
            return CLI_OK;
        } else if (!strcmp(a, "--annotate") && i + 1 < argc) {
            ext = argv[++i];
        } else if (!strcmp(a, "--out-dir") && i + 1 < argc) {
            outdir = argv[++i];
        } else if (!strcmp(a, "--waves")) {
            waves = 1;
        } else if (!strcmp(a, "--quiet")) {
            quiet = 1;
        } else if (a[0] == '-' && a[1]) {
            cli_errorf("detect", "unknown or incomplete option '%s' (see aiecg detect --help)", a);
            return CLI_USAGE;
        } else if (!path) {
            path = a;
        } else {
            cli_errorf("detect", "more than one record given");
            return CLI_USAGE;
        }
    }
    if (!path) {
        help(stderr);
        return CLI_USAGE;
    }
    if (waves && !ext) {
        cli_errorf("detect", "--waves needs --annotate EXT");
        return CLI_USAGE;
    }
    aiecg_read_options o = aiecg_read_options_default();
    o.skip_annotations = 1;
    aiecg_record *rec = NULL;
    aiecg_error err;
    aiecg_error_clear(&err);
    if (cli_open_record("detect", path, &o, &rec) != AIECG_OK) return CLI_FAIL;
    aiecg_beat *b = NULL;
    int64_t nb = 0;
    if (aiecg_qrs_detect(rec, NULL, &b, &nb, &err) != AIECG_OK) {
        cli_errorf("detect", "%s", err.message);
        aiecg_record_free(rec);
        return CLI_FAIL;
    }
    double fs = aiecg_record_fs(rec);
    aiecg_record_meta meta;
    aiecg_record_meta_get(rec, &meta);
    int rc = CLI_OK;
    if (!quiet) {
        printf("{\"record\":\"");
        for (const char *p = meta.record_name ? meta.record_name : ""; *p; p++)
            if (*p == '"' || *p == '\\')
                printf("\\%c", *p);
            else if ((unsigned char)*p >= 0x20)
                putchar(*p);
        printf("\",\"fs\":%g,\"nbeats\":%lld,\"beats\":[", fs, (long long)nb);
        for (int64_t i = 0; i < nb; i++) {
            printf("%s{\"sample\":%lld,\"time_s\":%.4f,\"label\":\"%c\",\"family\":%d,\"rr_ms\":", i ? "," : "",
                   (long long)b[i].sample, b[i].sample / fs, b[i].label, b[i].family);
            isfinite(b[i].rr_ms) ? printf("%.1f", b[i].rr_ms) : printf("null");
            printf(",\"width_ms\":");
            isfinite(b[i].width_ms) ? printf("%.1f", b[i].width_ms) : printf("null");
            printf("}");
        }
        printf("]}\n");
    }
    if (ext) {
        ann_buf ab = {0};
        aiecg_waves *w = NULL;
        if (waves) {
            aiecg_measurements m;
            memset(&m, 0, sizeof m);
            if (aiecg_measure(rec, b, nb, &m, &w, &err) != AIECG_OK) {
                cli_errorf("detect", "delineation failed: %s", err.message);
                w = NULL;
                rc = CLI_FAIL;
            }
            aiecg_measurements_free(&m);
        }
        for (int64_t i = 0; i < nb && rc == CLI_OK; i++) {
            if (w) {
                const aiecg_waves *x = &w[i];
                if (x->p_peak >= 0) {
                    push(&ab, x->p_on, "(", 0);
                    push(&ab, x->p_peak, "p", 0);
                    push(&ab, x->p_off, ")", 0);
                }
                push(&ab, x->qrs_on, "(", 0);
                push(&ab, x->qrs_peak >= 0 ? x->qrs_peak : b[i].sample, NULL, code_for(b[i].label));
                push(&ab, x->qrs_off, ")", 0);
                if (x->t_peak >= 0) {
                    push(&ab, x->t_on, "(", 0);
                    push(&ab, x->t_peak, "t", 0);
                    push(&ab, x->t_off, ")", 0);
                }
            } else {
                push(&ab, b[i].sample, NULL, code_for(b[i].label));
            }
        }
        aiecg_free(w);
        qsort(ab.a, (size_t)ab.n, sizeof *ab.a, cmp_ann);
        char dir[4096], out[4352];
        if (outdir) {
            snprintf(dir, sizeof dir, "%s", outdir);
        } else {
            snprintf(dir, sizeof dir, "%s", path);
            char *sl = strrchr(dir, '/');
            if (sl)
                *sl = 0;
            else
                snprintf(dir, sizeof dir, ".");
        }
        snprintf(out, sizeof out, "%s/%s.%s", dir, meta.record_name && *meta.record_name ? meta.record_name : "record",
                 ext);
        if (rc == CLI_OK && aiecg_wfdb_annotations_write(out, ab.a, ab.n, &err) != AIECG_OK) {
            cli_errorf("detect", "%s", err.message);
            rc = CLI_FAIL;
        }
        free(ab.a);
    }
    aiecg_free(b);
    aiecg_record_free(rec);
    return rc;
}
