/*
 * aiecg eval delineation: scores the delineator on a LUDB-style database
 * (Kalyakulina et al. 2020): per record DIR/<name>.hea/.dat and one MIT
 * annotation file per lead (.i .ii .iii .avr .avl .avf .v1 ... .v6), each wave
 * marked '(' onset, peak ('p', beat code, 't'), ')' offset. For every
 * fiducial it reports Se, P+ and the mean and SD of the error (ms) after
 * matching within the tolerance (aiecg_delin_score_add), against the lead II
 * annotation and against the multi-lead one (second-earliest onset /
 * second-latest offset over the 12 leads); and the single-lead delineator
 * (aiecg_delineate_lead) of each lead against that lead's own file. Only detections inside the
 * annotated span of lead II count as false positives (LUDB annotates a
 * central part of each record). Beats come from aiecg_qrs_detect (the whole
 * pipeline) or, with --beats ref, from LUDB's lead II QRS marks.
 */
#include "cli.h"
#include "aiecg/eval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const lead_ext[12] = {"i", "ii", "iii", "avr", "avl", "avf",
                                         "v1", "v2", "v3", "v4", "v5", "v6"};

static void help(FILE *f) {
    fprintf(f,
            "usage: aiecg eval delineation --db DIR [--records LIST] [--tolerance-ms MS]\n"
            "                              [--beats detect|ref] [--json]\n"
            "\n"
            "Scores P on/peak/off, QRS on/peak/off and T on/peak/off of the multi-lead\n"
            "delineator against LUDB-style per-lead annotations: Se, P+, mean and SD of\n"
            "the error in ms, matched within MS (default 150), against lead II and\n"
            "against the multi-lead reference.\n"
            "\n"
            "  --db DIR          folder with <rec>.hea/.dat/.i/.ii/.../.v6 (LUDB: ludb/data)\n"
            "  --records LIST    e.g. 1-100 or 1,5,9 (default: DIR/../RECORDS, else 1-200)\n"
            "  --tolerance-ms MS matching window (default 150)\n"
            "  --beats detect    beats from aiecg_qrs_detect (default); ref: LUDB QRS marks\n"
            "  --json            JSON instead of a table\n");
}

/* Parses "1-100,105,110-112" into names; returns the count (at most max). */
static int parse_list(const char *s, char names[][64], int max) {
    int n = 0;
    while (*s && n < max) {
        char *end;
        long a = strtol(s, &end, 10);
        if (end == s) return -1;
        long b = a;
        if (*end == '-') {
            const char *t = end + 1;
            b = strtol(t, &end, 10);
            if (end == t) return -1;
        }
        for (long v = a; v <= b && n < max; v++) snprintf(names[n++], 64, "%ld", v);
        if (*end == ',') end++;
        else if (*end) return -1;
        s = end;
    }
    return n;
}

static int records_file(const char *db, char names[][64], int max) {
    char path[4200];
    snprintf(path, sizeof path, "%s/../RECORDS", db);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    int n = 0;
    char line[256];
    while (n < max && fgets(line, sizeof line, f)) {
        char *p = strrchr(line, '/');
        p = p ? p + 1 : line;
        p[strcspn(p, "\r\n")] = 0;
        if (*p) snprintf(names[n++], 64, "%.63s", p);
    }
    fclose(f);
    return n;
}

static void print_table(const char *title, const aiecg_delin_score *s) {
    printf("%s\n  %-9s %7s %7s %8s %8s %7s\n", title, "fiducial", "Se%", "P+%", "mean_ms", "sd_ms", "TP");
    for (int f = 0; f < AIECG_FID_COUNT; f++) {
        double se, ppv, m, sd;
        aiecg_delin_score_get(s, (aiecg_fiducial)f, &se, &ppv, &m, &sd);
        printf("  %-9s %7.2f %7.2f %8.2f %8.2f %7lld\n", aiecg_fiducial_name((aiecg_fiducial)f), 100 * se,
               100 * ppv, m, sd, (long long)s->tp[f]);
    }
}

/* JSON number or null (NaN: nothing to score). */
static void jnum(const char *key, double v, int dec, const char *sep) {
    if (isfinite(v)) printf("\"%s\": %.*f%s", key, dec, v, sep);
    else printf("\"%s\": null%s", key, sep);
}

static void print_json_score(const char *key, const aiecg_delin_score *s, int last) {
    printf("  \"%s\": {\n", key);
    for (int f = 0; f < AIECG_FID_COUNT; f++) {
        double se, ppv, m, sd;
        aiecg_delin_score_get(s, (aiecg_fiducial)f, &se, &ppv, &m, &sd);
        printf("    \"%s\": {", aiecg_fiducial_name((aiecg_fiducial)f));
        jnum("se", se, 4, ", ");
        jnum("ppv", ppv, 4, ", ");
        jnum("mean_ms", m, 2, ", ");
        jnum("sd_ms", sd, 2, ", ");
        printf("\"tp\": %lld, \"fn\": %lld, \"fp\": %lld}%s\n", (long long)s->tp[f], (long long)s->fn[f],
               (long long)s->fp[f], f + 1 < AIECG_FID_COUNT ? "," : "");
    }
    printf("  }%s\n", last ? "" : ",");
}

#define MAX_RECORDS 4096

int aiecg_cli_eval_delineation(int argc, char **argv) {
    const char *db = NULL, *list = NULL;
    double tol = 150;
    int use_ref = 0, json = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (cli_is_help(a)) {
            help(stdout);
            return CLI_OK;
        } else if (!strcmp(a, "--db") || !strcmp(a, "--records") || !strcmp(a, "--tolerance-ms") ||
                   !strcmp(a, "--beats")) {
            if (++i >= argc) {
                cli_errorf("eval delineation", "%s needs a value", a);
                return CLI_USAGE;
            }
            if (!strcmp(a, "--db")) db = argv[i];
            else if (!strcmp(a, "--records")) list = argv[i];
            else if (!strcmp(a, "--tolerance-ms")) {
                tol = atof(argv[i]);
                if (!(tol > 0 && tol <= 1000)) {
                    cli_errorf("eval delineation", "--tolerance-ms must be in (0, 1000], got '%s'", argv[i]);
                    return CLI_USAGE;
                }
            } else if (!strcmp(argv[i], "ref")) use_ref = 1;
            else if (!strcmp(argv[i], "detect")) use_ref = 0;
            else {
                cli_errorf("eval delineation", "--beats takes detect or ref, got '%s'", argv[i]);
                return CLI_USAGE;
            }
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else {
            cli_errorf("eval delineation", "unexpected argument '%s' (see --help)", a);
            return CLI_USAGE;
        }
    }
    if (!db) {
        help(stderr);
        return CLI_USAGE;
    }
    char(*names)[64] = calloc(MAX_RECORDS, sizeof *names);
    if (!names) {
        cli_errorf("eval delineation", "out of memory");
        return CLI_FAIL;
    }
    int nrec = list ? parse_list(list, names, MAX_RECORDS) : records_file(db, names, MAX_RECORDS);
    if (nrec < 0) {
        cli_errorf("eval delineation", "bad --records list '%s' (e.g. 1-100,120)", list);
        free(names);
        return CLI_USAGE;
    }
    if (nrec == 0) nrec = parse_list("1-200", names, MAX_RECORDS);
    aiecg_delin_score s_ii, s_ml, s_pl;
    aiecg_delin_score_init(&s_ii);
    aiecg_delin_score_init(&s_ml);
    aiecg_delin_score_init(&s_pl);
    int scored = 0, failed = 0;
    for (int r = 0; r < nrec; r++) {
        char base[4200], path[4300];
        if (strlen(db) + strlen(names[r]) + 2 > sizeof base) {
            cli_errorf("eval delineation", "path too long: %s/%s", db, names[r]);
            failed++;
            continue;
        }
        snprintf(base, sizeof base, "%.4000s/%.63s", db, names[r]);
        aiecg_read_options opt = aiecg_read_options_default();
        opt.skip_annotations = 1;
        aiecg_record *rec = NULL;
        aiecg_error err;
        aiecg_error_clear(&err);
        if (aiecg_record_open(base, &opt, &rec, &err) != AIECG_OK) {
            cli_errorf("eval delineation", "%s: %s", base, err.message);
            failed++;
            continue;
        }
        double fs = aiecg_record_fs(rec);
        aiecg_waves *ref[12] = {NULL};
        int64_t nref[12] = {0}, lo = 0, hi = -1, llo[12] = {0}, lhi[12] = {0};
        int ok = 1;
        for (int l = 0; l < 12 && ok; l++) {
            snprintf(path, sizeof path, "%s.%s", base, lead_ext[l]);
            aiecg_annotation *ann = NULL;
            int64_t na = 0;
            if (aiecg_wfdb_annotations_load(path, &ann, &na, &err) != AIECG_OK) {
                cli_errorf("eval delineation", "%s: %s", path, err.message);
                ok = 0;
                break;
            }
            int64_t a = 0, b = -1;
            if (aiecg_delin_waves_from_annotations(ann, na, &ref[l], &nref[l], &a, &b) != AIECG_OK) ok = 0;
            llo[l] = a;
            lhi[l] = b;
            if (l == 1) {
                lo = a;
                hi = b;
            }
            aiecg_wfdb_annotations_free(ann, na);
        }
        aiecg_beat *beats = NULL;
        int64_t nb = 0;
        if (ok && use_ref) {
            nb = nref[1];
            beats = calloc((size_t)nb + 1, sizeof *beats);
            if (!beats) ok = 0;
            for (int64_t k = 0; ok && k < nb; k++) {
                beats[k].sample = ref[1][k].qrs_peak;
                beats[k].label = 'N';
                beats[k].family = 0;
            }
        } else if (ok && aiecg_qrs_detect(rec, NULL, &beats, &nb, &err) != AIECG_OK) {
            cli_errorf("eval delineation", "%s: QRS detection: %s", base, err.message);
            ok = 0;
        }
        aiecg_waves *det = NULL;
        if (ok && aiecg_delineate(rec, beats, nb, &det, &err) != AIECG_OK) {
            cli_errorf("eval delineation", "%s: delineation: %s", base, err.message);
            ok = 0;
        }
        aiecg_waves *ml = ok ? malloc(sizeof *ml * ((size_t)nref[1] + 1)) : NULL;
        if (ok && ml) {
            if (nref[1]) memcpy(ml, ref[1], sizeof *ml * (size_t)nref[1]);
            aiecg_delin_waves_merge((const aiecg_waves *const *)ref, nref, 12, fs, ml, nref[1]);
            aiecg_delin_score_add(&s_ii, ref[1], nref[1], det, nb, fs, lo, hi, tol);
            aiecg_delin_score_add(&s_ml, ml, nref[1], det, nb, fs, lo, hi, tol);
            /* single-lead delineation of each lead that the record has, against its own file */
            for (int l = 0; l < 12; l++) {
                int idx = aiecg_record_find_lead(rec, aiecg_lead_parse(lead_ext[l]));
                aiecg_waves *lw = NULL;
                if (idx >= 0 && aiecg_delineate_lead(rec, beats, nb, idx, &lw, &err) == AIECG_OK)
                    aiecg_delin_score_add(&s_pl, ref[l], nref[l], lw, nb, fs, llo[l], lhi[l], tol);
                aiecg_free(lw);
            }
            scored++;
        } else {
            failed++;
        }
        free(ml);
        aiecg_free(det);
        if (use_ref) free(beats);
        else aiecg_free(beats);
        for (int l = 0; l < 12; l++) aiecg_free(ref[l]);
        aiecg_record_free(rec);
    }
    if (scored == 0) {
        cli_errorf("eval delineation", "no record of %s could be scored (%d failed)", db, failed);
        free(names);
        return CLI_FAIL;
    }
    if (json) {
        printf("{\n  \"records_scored\": %d,\n  \"records_failed\": %d,\n  \"tolerance_ms\": %g,\n  \"beats\": \"%s\",\n",
               scored, failed, tol, use_ref ? "ref" : "detect");
        print_json_score("lead_ii", &s_ii, 0);
        print_json_score("multi_lead", &s_ml, 0);
        print_json_score("single_lead_each_vs_own", &s_pl, 1);
        printf("}\n");
    } else {
        printf("records scored: %d (failed: %d), tolerance %g ms, beats: %s\n", scored, failed, tol,
               use_ref ? "LUDB lead II QRS marks" : "aiecg_qrs_detect");
        print_table("reference: lead II annotation", &s_ii);
        print_table("reference: multi-lead (2nd-earliest onset / 2nd-latest offset over 12 leads)", &s_ml);
        print_table("single-lead delineation, each lead vs its own annotation", &s_pl);
    }
    free(names);
    return scored > 0 && failed == 0 ? CLI_OK : CLI_FAIL;
}
