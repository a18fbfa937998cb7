/*
 * aiecg eval ptbxl: the C pipeline end to end (read -> aiecg_analyze) on the
 * PTB-XL records of the chosen folds, scored as the PTB-XL benchmark does
 * (Strodthoff et al., IEEE JBHI 25:1519, 2021): per-class ROC AUC
 * (Mann-Whitney U with tie-averaged ranks) and macro-AUC over the label sets
 * all (71 statements), diag, subdiag, superdiag, form, rhythm, skipping
 * classes without positives or negatives; per class also F1, sensitivity
 * and specificity at the model's own threshold. Ground truth: labels.csv
 * (superclasses for every record, statement codes where known: statement and
 * subclass labels are scored only on records that have them) and the groups
 * of scp_statements.csv. Folds 9 and 10 are the held-out test folds and are
 * refused. --compare-npy reports the largest absolute difference between the
 * C pipeline's outputs and the arrays the training framework saved
 * (training/out/<model>_val_probs.npy or _val_logits.npy with _val_ids.npy).
 */
#include "cli.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAXL 256

typedef struct rec {
    int id, fold;
    char file[128];
    char super[128];
    char stmts[512];
    char cinc[256];
    int has_stmts;
} rec;

typedef struct stmtdef {
    char code[16];
    int diag, form, rhythm;
    char sub[16];
} stmtdef;

/* CSV field splitter that honours double quotes; returns the number of fields. */
static int csv_split(char *line, char **f, int max) {
    int n = 0;
    char *p = line;
    while (n < max) {
        char *start = p, *w = p;
        int q = 0;
        if (*p == '"') {
            q = 1;
            p++;
        }
        while (*p) {
            if (q && *p == '"' && p[1] == '"') {
                *w++ = '"';
                p += 2;
            } else if (q && *p == '"') {
                q = 0;
                p++;
            } else if (!q && (*p == ',' || *p == '\n' || *p == '\r')) {
                break;
            } else {
                *w++ = *p++;
            }
        }
        char end = *p;
        *w = '\0';
        f[n++] = start;
        if (end != ',') break;
        p++;
    }
    return n;
}

static int has_token(const char *list, const char *tok) {
    size_t n = strlen(tok);
    for (const char *p = list; p && *p;) {
        const char *e = strchr(p, ';');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && !strncmp(p, tok, n)) return 1;
        p = e ? e + 1 : NULL;
    }
    return 0;
}

typedef struct sc {
    double s;
    int y;
} sc;
static int cmp_sc(const void *a, const void *b) {
    double x = ((const sc *)a)->s, y = ((const sc *)b)->s;
    return (x > y) - (x < y);
}

/* ROC AUC by the Mann-Whitney statistic with tie-averaged ranks; NaN without both classes. */
static double auc(sc *v, int n) {
    int npos = 0;
    for (int i = 0; i < n; i++) npos += v[i].y;
    int nneg = n - npos;
    if (!npos || !nneg) return NAN;
    qsort(v, (size_t)n, sizeof *v, cmp_sc);
    double rs = 0;
    for (int i = 0; i < n;) {
        int j = i;
        while (j + 1 < n && v[j + 1].s == v[i].s) j++;
        double rank = (i + j) / 2.0 + 1.0;
        for (int k = i; k <= j; k++)
            if (v[k].y) rs += rank;
        i = j + 1;
    }
    return (rs - npos * (npos + 1) / 2.0) / ((double)npos * nneg);
}

/* ---- .npy (format 1.0/2.0, little-endian f4/f8/i8, C order) ------------------- */
static double *npy_load(const char *path, int *rows, int *cols, char *err, size_t errsize) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errsize, "cannot open %s", path);
        return NULL;
    }
    unsigned char h[12];
    if (fread(h, 1, 10, f) != 10 || memcmp(h, "\x93NUMPY", 6) != 0) {
        snprintf(err, errsize, "%s: not a .npy file", path);
        fclose(f);
        return NULL;
    }
    size_t hl = h[8] | (h[9] << 8);
    if (h[6] >= 2) {
        if (fread(h + 10, 1, 2, f) != 2) {
            fclose(f);
            return NULL;
        }
        hl = h[8] | (h[9] << 8) | ((size_t)h[10] << 16) | ((size_t)h[11] << 24);
    }
    char *hdr = calloc(1, hl + 1);
    if (!hdr || fread(hdr, 1, hl, f) != hl) {
        snprintf(err, errsize, "%s: truncated header", path);
        free(hdr);
        fclose(f);
        return NULL;
    }
    int esz = strstr(hdr, "<f4") ? 4 : strstr(hdr, "<f8") ? 8 : strstr(hdr, "<i8") ? -8 : strstr(hdr, "<i4") ? -4 : 0;
    const char *sh = strstr(hdr, "'shape': (");
    if (!esz || !sh || strstr(hdr, "'fortran_order': True")) {
        snprintf(err, errsize, "%s: unsupported dtype/order (%s)", path, hdr);
        free(hdr);
        fclose(f);
        return NULL;
    }
    long a = 0, b = 1;
    sh += 10;
    a = strtol(sh, (char **)&sh, 10);
    if (*sh == ',') {
        sh++;
        while (*sh == ' ') sh++;
        if (*sh != ')') b = strtol(sh, NULL, 10);
    }
    free(hdr);
    size_t n = (size_t)a * (size_t)b;
    double *out = malloc((n ? n : 1) * sizeof *out);
    unsigned char *raw = malloc((n ? n : 1) * (size_t)abs(esz));
    if (!out || !raw || fread(raw, (size_t)abs(esz), n, f) != n) {
        snprintf(err, errsize, "%s: truncated data", path);
        free(out);
        free(raw);
        fclose(f);
        return NULL;
    }
    fclose(f);
    for (size_t i = 0; i < n; i++) {
        if (esz == 4) {
            float v;
            memcpy(&v, raw + 4 * i, 4);
            out[i] = v;
        } else if (esz == 8) {
            memcpy(&out[i], raw + 8 * i, 8);
        } else if (esz == -8) {
            int64_t v;
            memcpy(&v, raw + 8 * i, 8);
            out[i] = (double)v;
        } else {
            int32_t v;
            memcpy(&v, raw + 4 * i, 4);
            out[i] = v;
        }
    }
    free(raw);
    *rows = (int)a;
    *cols = (int)b;
    return out;
}

typedef struct job {
    rec *recs;
    int *sel;
    const char *db;
    aiecg_analyzer *an;
    float *probs;   /* [nsel][nlab], final (fused where the model fuses) */
    float *mprobs;  /* [nsel][nlab], the network's own */
    float *logits;
    double *feats;  /* [nsel][nfeat] or NULL */
    int nfeat;
    int nlab;
    char **labels;  /* from the first result */
    int *ok;
    aiecg_lead leads[AIECG_MAX_LEADS]; /* the model's input leads (aiecg.input.leads); 0 leads: no reduction */
    int nleads;
} job;

/* The record reduced to the model's input leads, so that the pipeline's measurements (and the fusion
 * features) see only what a device with that lead set records: a watch's lead I, not the 12 leads the
 * PTB-XL file has. *out is the record itself when it already holds exactly those leads in that order. */
static aiecg_status reduce_to_model_leads(const job *j, aiecg_record *record, aiecg_record **out, aiecg_error *err) {
    *out = record;
    if (j->nleads <= 0) return AIECG_OK;
    int idx[AIECG_MAX_LEADS], same = j->nleads == aiecg_record_nleads(record);
    for (int k = 0; k < j->nleads; k++) {
        idx[k] = aiecg_record_find_lead(record, j->leads[k]);
        if (idx[k] < 0) {
            aiecg_error_clear(err);
            snprintf(err->message, sizeof err->message, "record has no lead %s (model input)",
                     aiecg_lead_name(j->leads[k]));
            return AIECG_ERR_INVALID_ARG;
        }
        same = same && idx[k] == k;
    }
    if (same) return AIECG_OK;
    return aiecg_record_select_leads(record, idx, j->nleads, out, err);
}

static void run_rec(void *ctx, int task, int thread) {
    (void)thread;
    job *j = ctx;
    rec *r = &j->recs[j->sel[task]];
    char p[4096];
    snprintf(p, sizeof p, "%s/ptbxl/%s", j->db, r->file);
    aiecg_record *record = NULL;
    aiecg_result *res = NULL;
    aiecg_error err;
    aiecg_error_clear(&err);
    aiecg_read_options ro = aiecg_read_options_default();
    ro.skip_annotations = 1;
    if (aiecg_record_open(p, &ro, &record, &err) != AIECG_OK) {
        fprintf(stderr, "aiecg eval ptbxl: %s: %s\n", p, err.message);
        return;
    }
    aiecg_record *reduced = NULL;
    if (reduce_to_model_leads(j, record, &reduced, &err) != AIECG_OK) {
        fprintf(stderr, "aiecg eval ptbxl: %s: %s\n", p, err.message);
        aiecg_record_free(record);
        return;
    }
    aiecg_analyze_options ao = aiecg_analyze_options_default();
    ao.analyzer = j->an;
    ao.keep_signal = 0;
    if (aiecg_analyze(reduced, &ao, &res, &err) == AIECG_OK && aiecg_result_nlabels(res) == j->nlab) {
        for (int k = 0; k < j->nlab; k++) {
            j->probs[(size_t)task * j->nlab + k] = (float)aiecg_result_label_probability(res, k);
            j->logits[(size_t)task * j->nlab + k] = (float)aiecg_result_label_logit(res, k);
            j->mprobs[(size_t)task * j->nlab + k] = (float)aiecg_result_model_probability(res, k);
        }
        if (j->feats) aiecg_result_features(res, j->feats + (size_t)task * j->nfeat, j->nfeat);
        j->ok[task] = 1;
    } else {
        fprintf(stderr, "aiecg eval ptbxl: %s: %s\n", p, err.message[0] ? err.message : "no model output");
    }
    aiecg_result_free(res);
    if (reduced != record) aiecg_record_free(reduced);
    aiecg_record_free(record);
}


/* ---- --rules: the rule statements (no model) against the PTB-XL statement labels ---- */
typedef struct rjob {
    rec *recs;
    const char *db;
    aiecg_analyzer *an; /* NULL: rules only */
    char (*codes)[256]; /* ';'-separated statement codes per record */
    int *ok;
} rjob;

static void run_rules(void *ctx, int task, int thread) {
    (void)thread;
    rjob *j = ctx;
    char p[4096];
    snprintf(p, sizeof p, "%s/ptbxl/%s", j->db, j->recs[task].file);
    aiecg_record *record = NULL;
    aiecg_result *res = NULL;
    aiecg_read_options ro = aiecg_read_options_default();
    ro.skip_annotations = 1;
    if (aiecg_record_open(p, &ro, &record, NULL) != AIECG_OK) return;
    aiecg_analyze_options ao = aiecg_analyze_options_default();
    ao.analyzer = j->an;
    ao.skip_model = j->an == NULL;
    ao.keep_signal = 0;
    if (aiecg_analyze(record, &ao, &res, NULL) == AIECG_OK) {
        size_t n = 0;
        j->codes[task][0] = '\0';
        for (int i = 0; i < aiecg_result_nstatements(res); i++) {
            int k = snprintf(j->codes[task] + n, sizeof j->codes[task] - n, "%s%s", n ? ";" : "",
                             aiecg_result_statement(res, i)->code);
            if (k > 0 && (size_t)k < sizeof j->codes[task] - n) n += (size_t)k;
        }
        j->ok[task] = 1;
    }
    aiecg_result_free(res);
    aiecg_record_free(record);
}

static int eval_rules(rec *recs, int nrec, const char *db, int threads, const stmtdef *defs, int ndefs,
                      aiecg_analyzer *an) {
    rjob j = {recs, db, an, calloc((size_t)nrec, sizeof *j.codes), calloc((size_t)nrec, sizeof(int))};
    if (!j.codes || !j.ok) {
        free(j.codes);
        free(j.ok);
        return CLI_FAIL;
    }
    aiecg_threadpool *pool = NULL;
    if (threads != 1) aiecg_threadpool_new(threads, &pool);
    aiecg_threadpool_parallel_for(pool, nrec, run_rules, &j);
    aiecg_threadpool_free(pool);
    int nok = 0, nlab = 0;
    for (int i = 0; i < nrec; i++) {
        nok += j.ok[i];
        nlab += j.ok[i] && recs[i].has_stmts;
    }
    printf("%s: %d records analysed, %d with statement labels\n",
           an ? "final statements (model + rules)" : "rules only (no model)", nok, nlab);
    printf("%-8s %5s %5s %5s %6s %6s\n", "code", "ref", "pred", "tp", "Se", "PPV");
    for (int s = 0; s < ndefs; s++) {
        const char *c = defs[s].code;
        int tp = 0, fp = 0, fn = 0;
        for (int i = 0; i < nrec; i++) {
            if (!j.ok[i] || !recs[i].has_stmts) continue;
            int y = has_token(recs[i].stmts, c), p = has_token(j.codes[i], c);
            tp += p && y;
            fp += p && !y;
            fn += y && !p;
        }
        if (tp + fp == 0) continue; /* statements never made */
        printf("%-8s %5d %5d %5d %6.2f %6.2f\n", c, tp + fn, tp + fp, tp, tp + fn ? (double)tp / (tp + fn) : NAN,
               (double)tp / (tp + fp));
    }
    free(j.codes);
    free(j.ok);
    return CLI_OK;
}

static void help(FILE *f) {
    fprintf(f,
            "usage: aiecg eval ptbxl [--db DIR] [--folds LIST] [--labels FILE] [--models DIR]\n"
            "                        [--threads N] [--per-class] [--rules | --statements] [--compare-npy FILE [--ids FILE]]\n"
            "                        [--model-probs] [--dump-features FILE]\n"
            "\n"
            "Runs the C pipeline on PTB-XL records of the given folds (default 8, the\n"
            "validation fold; 9 and 10 are held out and refused) and prints macro-AUC per\n"
            "label set (all, diag, subdiag, superdiag, form, rhythm) and per-class\n"
            "AUC/F1/Se/Sp at the model thresholds (PTB-XL benchmark, Strodthoff et al. 2021).\n"
            "Each record is first reduced to the chosen model's input leads (aiecg.input.leads),\n"
            "so a reduced-lead model (--models DIR holding only it) is scored, measurements and\n"
            "fusion included, on what a device with those leads records.\n"
            "\n"
            "  --db DIR          data folder with ptbxl/ and ptbxl-labels/ (default $AIECG_DATA_DIR or data)\n"
            "  --labels FILE     labels.csv (default DIR/ptbxl-labels/labels.csv)\n"
            "  --folds LIST      comma-separated strat_fold values or ranges, e.g. 7,8 or 1-8; 0 = records\n"
            "                    of unknown fold (training records)\n"
            "  --model-probs     score the network's own probabilities, not the fused ones\n"
            "                    (same thresholds: the model's aiecg.thresholds.model where it has them)\n"
            "  --dump-features F write ecg_id, fold, the fusion features and every label's logit per\n"
            "                    record to CSV file F (input of training/fuse.py)\n"
            "  --per-class       print every class (default: the label-set summary and the 5 superclasses)\n"
            "  --rules           score the rule statements alone (no model): Se and PPV per statement\n"
            "                    against the PTB-XL statement labels\n"
            "  --statements      the same for the final statements (model + rules, as aiecg analyze)\n"
            "  --compare-npy F   max |C - PyTorch| against a saved [N, labels] array (probs or logits:\n"
            "                    '*logits*' file names compare logits); ids from --ids or F's _val_ids.npy\n");
}

int aiecg_cli_eval_ptbxl(int argc, char **argv) {
    const char *db = getenv("AIECG_DATA_DIR"), *labels_path = NULL, *models = NULL, *npy = NULL, *ids_path = NULL;
    char folds_s[64] = "8";
    int threads = 1, per_class = 0, rules = 0, model_probs = 0;
    const char *dump = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (cli_is_help(a)) {
            help(stdout);
            return CLI_OK;
        } else if (!strcmp(a, "--per-class")) {
            per_class = 1;
        } else if (!strcmp(a, "--rules")) {
            rules = 1;
        } else if (!strcmp(a, "--statements")) {
            rules = 2;
        } else if (!strcmp(a, "--model-probs")) {
            model_probs = 1;
        } else if (i + 1 < argc && !strcmp(a, "--dump-features")) {
            dump = argv[++i];
        } else if (i + 1 < argc && (!strcmp(a, "--db") || !strcmp(a, "--labels") || !strcmp(a, "--folds") ||
                                    !strcmp(a, "--models") || !strcmp(a, "--threads") ||
                                    !strcmp(a, "--compare-npy") || !strcmp(a, "--ids"))) {
            const char *v = argv[++i];
            if (!strcmp(a, "--db")) db = v;
            else if (!strcmp(a, "--labels")) labels_path = v;
            else if (!strcmp(a, "--models")) models = v;
            else if (!strcmp(a, "--compare-npy")) npy = v;
            else if (!strcmp(a, "--ids")) ids_path = v;
            else if (!strcmp(a, "--threads")) threads = atoi(v);
            else snprintf(folds_s, sizeof folds_s, "%s", v);
        } else {
            cli_errorf("eval ptbxl", "unknown or incomplete option '%s' (see aiecg eval ptbxl --help)", a);
            return CLI_USAGE;
        }
    }
    if (!db) db = "data";
    int fold_on[11] = {0};
    for (char *p = folds_s; *p;) {
        char *e;
        long f = strtol(p, &e, 10), f2 = f;
        if (e != p && *e == '-') {
            char *e2;
            f2 = strtol(e + 1, &e2, 10);
            if (e2 == e + 1) f2 = -1;
            e = e2;
        }
        if (e == p || f < 0 || f > 10 || f2 < f || f2 > 10) {
            cli_errorf("eval ptbxl", "--folds: '%s' is not a list of folds 0..8", folds_s);
            return CLI_USAGE;
        }
        if (f2 >= 9) {
            cli_errorf("eval ptbxl",
                       "fold %ld is a held-out PTB-XL test fold (9 and 10): refused; validate on fold 8", f2);
            return CLI_USAGE;
        }
        for (long q = f; q <= f2; q++) fold_on[q] = 1;
        p = *e == ',' ? e + 1 : e;
        if (*e && *e != ',') {
            cli_errorf("eval ptbxl", "--folds: '%s' is not a comma-separated list", folds_s);
            return CLI_USAGE;
        }
    }
    char lp[4096], sp[4096];
    if (!labels_path) {
        snprintf(lp, sizeof lp, "%s/ptbxl-labels/labels.csv", db);
        labels_path = lp;
    }
    snprintf(sp, sizeof sp, "%s/ptbxl/scp_statements.csv", db);

    /* scp_statements.csv */
    stmtdef defs[128];
    int ndefs = 0;
    FILE *f = fopen(sp, "r");
    if (!f) {
        cli_errorf("eval ptbxl", "cannot open %s", sp);
        return CLI_FAIL;
    }
    char line[4096];
    char *fl[32];
    if (!fgets(line, sizeof line, f)) line[0] = 0;
    while (fgets(line, sizeof line, f) && ndefs < 128) {
        int n = csv_split(line, fl, 32);
        if (n < 7) continue;
        stmtdef *d = &defs[ndefs++];
        snprintf(d->code, sizeof d->code, "%s", fl[0]);
        d->diag = !strcmp(fl[2], "1.0");
        d->form = !strcmp(fl[3], "1.0");
        d->rhythm = !strcmp(fl[4], "1.0");
        snprintf(d->sub, sizeof d->sub, "%s", fl[6]);
    }
    fclose(f);

    /* labels.csv */
    f = fopen(labels_path, "r");
    if (!f) {
        cli_errorf("eval ptbxl", "cannot open %s", labels_path);
        return CLI_FAIL;
    }
    int cap = 1024, nrec = 0;
    rec *recs = malloc((size_t)cap * sizeof *recs);
    if (!fgets(line, sizeof line, f)) line[0] = 0;
    while (recs && fgets(line, sizeof line, f)) {
        int n = csv_split(line, fl, 32);
        if (n < 5) continue;
        int fold = fl[2][0] ? atoi(fl[2]) : 0; /* 0: unknown fold */
        if (fold < 0 || fold > 10 || !fold_on[fold]) continue;
        if (nrec == cap) {
            rec *nr = realloc(recs, (size_t)(cap *= 2) * sizeof *recs);
            if (!nr) break;
            recs = nr;
        }
        rec *r = &recs[nrec++];
        r->id = atoi(fl[0]);
        r->fold = fold;
        snprintf(r->file, sizeof r->file, "%s", fl[1]);
        snprintf(r->super, sizeof r->super, "%s", fl[3]);
        snprintf(r->stmts, sizeof r->stmts, "%s", fl[4]);
        snprintf(r->cinc, sizeof r->cinc, "%s", n > 5 ? fl[5] : "");
        r->has_stmts = fl[4][0] != '\0';
    }
    fclose(f);
    if (!recs || nrec == 0) {
        cli_errorf("eval ptbxl", "no record of folds %s in %s", folds_s, labels_path);
        free(recs);
        return CLI_FAIL;
    }

    if (rules == 1) {
        int rc = eval_rules(recs, nrec, db, threads, defs, ndefs, NULL);
        free(recs);
        return rc;
    }
    aiecg_analyzer_options aopt = aiecg_analyzer_options_default();
    aopt.models_dir = models;
    aopt.require_model = 1;
    aiecg_analyzer *an = NULL;
    aiecg_error err;
    aiecg_error_clear(&err);
    if (aiecg_analyzer_new(&aopt, &an, &err) != AIECG_OK) {
        cli_errorf("eval ptbxl", "%s", err.message);
        free(recs);
        return CLI_FAIL;
    }
    if (rules == 2) {
        int rc = eval_rules(recs, nrec, db, threads, defs, ndefs, an);
        aiecg_analyzer_free(an);
        free(recs);
        return rc;
    }
    /* label names: from one analysed record */
    int *sel = malloc((size_t)nrec * sizeof *sel);
    for (int i = 0; sel && i < nrec; i++) sel[i] = i;
    char p0[4096];
    snprintf(p0, sizeof p0, "%s/ptbxl/%s", db, recs[0].file);
    aiecg_record *r0 = NULL;
    aiecg_result *res0 = NULL;
    aiecg_analyze_options ao = aiecg_analyze_options_default();
    ao.analyzer = an;
    ao.keep_signal = 0;
    if (!sel || aiecg_record_open(p0, NULL, &r0, &err) != AIECG_OK || aiecg_analyze(r0, &ao, &res0, &err) != AIECG_OK ||
        aiecg_result_nlabels(res0) == 0) {
        cli_errorf("eval ptbxl", "%s: %s", p0, err.message[0] ? err.message : "no model fits a 12-lead record");
        aiecg_result_free(res0);
        aiecg_record_free(r0);
        aiecg_analyzer_free(an);
        free(sel);
        free(recs);
        return CLI_FAIL;
    }
    int nlab = aiecg_result_nlabels(res0);
    if (nlab > MAXL) nlab = MAXL;
    char **labels = calloc((size_t)nlab, sizeof *labels);
    for (int k = 0; k < nlab; k++) labels[k] = strdup(aiecg_result_label(res0, k));
    double *thr = calloc((size_t)nlab, sizeof *thr);
    for (int k = 0; k < nlab; k++) {
        thr[k] = aiecg_result_label_threshold(res0, k);
        if (!isfinite(thr[k])) thr[k] = 0.5;
    }
    char model_name[512];
    snprintf(model_name, sizeof model_name, "%s", aiecg_result_model(res0));
    printf("aiecg eval ptbxl: %d records of fold(s) %s, model %s, %d labels\n", nrec, folds_s, model_name, nlab);
    aiecg_result_free(res0);
    aiecg_record_free(r0);

    if (model_probs) { /* the network's own thresholds, kept by training/fuse.py next to the fused ones */
        char mp[4096];
        snprintf(mp, sizeof mp, "%s/%s", aiecg_analyzer_models_dir(an), model_name);
        aiecg_model *mdl = NULL;
        if (aiecg_model_load(mp, &mdl, NULL) == AIECG_OK) {
            const char *th = aiecg_model_meta(mdl, "aiecg.thresholds.model");
            for (int k = 0; th && *th && k < nlab; k++) {
                char *end;
                double t = strtod(th, &end);
                if (end == th) break;
                thr[k] = isfinite(t) ? t : 0.5;
                th = *end == ',' ? end + 1 : end;
            }
            aiecg_model_free(mdl);
        }
    }
    /* the model's input leads: each record is reduced to them before the analysis (reduce_to_model_leads) */
    aiecg_lead mleads[AIECG_MAX_LEADS];
    int nmleads = 0;
    {
        char mp[4096];
        snprintf(mp, sizeof mp, "%s/%s", aiecg_analyzer_models_dir(an), model_name);
        aiecg_model *mdl = NULL;
        if (aiecg_model_load(mp, &mdl, NULL) == AIECG_OK) {
            const char *ls = aiecg_model_meta(mdl, "aiecg.input.leads");
            while (ls && *ls && nmleads < AIECG_MAX_LEADS) {
                char name[32];
                size_t len = strcspn(ls, ",");
                snprintf(name, sizeof name, "%.*s", (int)(len < sizeof name ? len : sizeof name - 1), ls);
                mleads[nmleads] = aiecg_lead_parse(name);
                if (mleads[nmleads] == AIECG_LEAD_UNKNOWN) {
                    nmleads = 0; /* not a lead list this program understands: analyse the record as it is */
                    break;
                }
                nmleads++;
                ls += len + (ls[len] == ',');
            }
            aiecg_model_free(mdl);
        }
        if (nmleads) {
            printf("records reduced to the model's leads:");
            for (int k = 0; k < nmleads; k++) printf("%s%s", k ? "," : " ", aiecg_lead_name(mleads[k]));
            printf("\n");
        }
    }
    int nfeat = aiecg_fusion_nfeatures();
    job j = {recs, sel, db, an, calloc((size_t)nrec * nlab, sizeof(float)), calloc((size_t)nrec * nlab, sizeof(float)),
             calloc((size_t)nrec * nlab, sizeof(float)), dump ? calloc((size_t)nrec * nfeat, sizeof(double)) : NULL,
             nfeat, nlab, labels, calloc((size_t)nrec, sizeof(int)), {AIECG_LEAD_UNKNOWN}, 0};
    if (!j.probs || !j.mprobs || !j.logits || (dump && !j.feats) || !j.ok) {
        cli_errorf("eval ptbxl", "out of memory");
        return CLI_FAIL;
    }
    j.nleads = nmleads;
    memcpy(j.leads, mleads, (size_t)nmleads * sizeof *mleads);
    aiecg_threadpool *pool = NULL;
    if (threads != 1) aiecg_threadpool_new(threads, &pool);
    aiecg_threadpool_parallel_for(pool, nrec, run_rec, &j);
    aiecg_threadpool_free(pool);
    int nok = 0;
    for (int i = 0; i < nrec; i++) nok += j.ok[i];
    printf("analysed %d of %d records\n", nok, nrec);
    if (model_probs) {
        float *t = j.probs;
        j.probs = j.mprobs;
        j.mprobs = t;
        printf("scoring the network's own probabilities (--model-probs)\n");
    }
    if (dump) {
        FILE *df = fopen(dump, "w");
        if (!df) {
            cli_errorf("eval ptbxl", "cannot write %s", dump);
        } else {
            fprintf(df, "ecg_id,fold");
            for (int k = 0; k < nfeat; k++) fprintf(df, ",%s", aiecg_fusion_feature_name(k));
            for (int k = 0; k < nlab; k++) fprintf(df, ",logit:%s", labels[k]);
            fprintf(df, "\n");
            for (int i = 0; i < nrec; i++) {
                if (!j.ok[i]) continue;
                fprintf(df, "%d,%d", recs[i].id, recs[i].fold);
                for (int k = 0; k < nfeat; k++) fprintf(df, ",%.9g", j.feats[(size_t)i * nfeat + k]);
                for (int k = 0; k < nlab; k++) fprintf(df, ",%.9g", j.logits[(size_t)i * nlab + k]);
                fprintf(df, "\n");
            }
            fclose(df);
            printf("features of %d records written to %s\n", nok, dump);
        }
    }

    /* ground truth per label; -1 = unknown (masked) */
    sc *v = malloc((size_t)nrec * sizeof *v);
    double set_sum[7] = {0};
    int set_n[7] = {0};
    static const char *set_names[7] = {"all", "diag", "subdiag", "superdiag", "form", "rhythm", "cinc"};
    if (per_class) printf("%-16s %6s %6s %7s %6s %6s %6s %6s\n", "label", "n", "pos", "AUC", "F1", "Se", "Sp", "thr");
    for (int k = 0; k < nlab && v; k++) {
        const char *lab = labels[k];
        const char *colon = strchr(lab, ':');
        const char *code = colon ? colon + 1 : lab;
        int kind = !strncmp(lab, "stmt:", 5) ? 0 : !strncmp(lab, "sub:", 4) ? 1 : !strncmp(lab, "super:", 6) ? 2
                 : !strncmp(lab, "cinc:", 5) ? 3 : -1;
        if (kind < 0) continue;
        const stmtdef *d = NULL;
        for (int s = 0; s < ndefs && kind == 0; s++)
            if (!strcmp(defs[s].code, code)) d = &defs[s];
        int n = 0, tp = 0, fp = 0, fn = 0, tn = 0;
        for (int i = 0; i < nrec; i++) {
            if (!j.ok[i]) continue;
            const rec *r = &recs[i];
            int y = -1;
            if (kind == 0 && r->has_stmts) y = has_token(r->stmts, code);
            if (kind == 1 && r->has_stmts) {
                y = 0;
                for (int s = 0; s < ndefs; s++)
                    if (defs[s].diag && !strcmp(defs[s].sub, code) && has_token(r->stmts, defs[s].code)) y = 1;
            }
            if (kind == 2) y = has_token(r->super, code);
            if (kind == 3) y = has_token(r->cinc, code);
            if (y < 0) continue;
            double pr = j.probs[(size_t)i * nlab + k];
            v[n].s = pr;
            v[n].y = y;
            n++;
            int pred = pr >= thr[k];
            tp += pred && y;
            fp += pred && !y;
            fn += !pred && y;
            tn += !pred && !y;
        }
        double a = auc(v, n);
        double f1 = 2.0 * tp + fp + fn ? 2.0 * tp / (2.0 * tp + fp + fn) : NAN;
        double se = tp + fn ? (double)tp / (tp + fn) : NAN, spc = tn + fp ? (double)tn / (tn + fp) : NAN;
        if (per_class || kind == 2)
            printf("%-16s %6d %6d %7.4f %6.3f %6.3f %6.3f %6.3f\n", lab, n, tp + fn, a, f1, se, spc, thr[k]);
        if (!isfinite(a)) continue;
        if (kind == 0) {
            set_sum[0] += a, set_n[0]++;
            if (d && d->diag) set_sum[1] += a, set_n[1]++;
            if (d && d->form) set_sum[4] += a, set_n[4]++;
            if (d && d->rhythm) set_sum[5] += a, set_n[5]++;
        } else if (kind == 1) {
            set_sum[2] += a, set_n[2]++;
        } else if (kind == 2) {
            set_sum[3] += a, set_n[3]++;
        } else {
            set_sum[6] += a, set_n[6]++;
        }
    }
    printf("macro-AUC:");
    for (int s = 0; s < 7; s++)
        if (set_n[s]) printf("  %s %.4f (%d)", set_names[s], set_sum[s] / set_n[s], set_n[s]);
    printf("\n");
    /* the training framework's own fold-8 figures, when the model file carries them */
    {
        char mp[4096];
        snprintf(mp, sizeof mp, "%s/%s", aiecg_analyzer_models_dir(an), model_name);
        aiecg_model *mdl = NULL;
        if (aiecg_model_load(mp, &mdl, NULL) == AIECG_OK) {
            int any = 0;
            for (int s = 0; s < 7; s++) {
                char key[64];
                snprintf(key, sizeof key, "aiecg.val.macro_auc.%s", set_names[s]);
                const char *val = aiecg_model_meta(mdl, key);
                if (val) printf("%s %s %s", any++ ? "" : "training framework (aiecg.val.macro_auc):", set_names[s], val);
            }
            if (any) printf("\n");
            any = 0;
            for (int s = 0; s < 7; s++) {
                char key[64];
                snprintf(key, sizeof key, "aiecg.val.fused.macro_auc.%s", set_names[s]);
                const char *val = aiecg_model_meta(mdl, key);
                if (val) printf("%s %s %s", any++ ? "" : "training/fuse.py (aiecg.val.fused.macro_auc):", set_names[s], val);
            }
            if (any) printf("\n");
            aiecg_model_free(mdl);
        }
    }

    int rc = CLI_OK;
    if (npy) {
        char e2[512] = "";
        int rows = 0, cols = 0, ir = 0, ic = 0;
        double *ref = npy_load(npy, &rows, &cols, e2, sizeof e2);
        char idp[4096];
        if (!ids_path) {
            snprintf(idp, sizeof idp, "%s", npy);
            char *q = strstr(idp, "_val_");
            if (q) snprintf(q, sizeof idp - (size_t)(q - idp), "_val_ids.npy");
            ids_path = idp;
        }
        double *ids = ref ? npy_load(ids_path, &ir, &ic, e2, sizeof e2) : NULL;
        int use_logits = strstr(npy, "logit") != NULL;
        if (!ref || !ids || cols != nlab || ir != rows) {
            cli_errorf("eval ptbxl", "--compare-npy: %s", e2[0] ? e2 : "shape does not match the model's labels");
            rc = CLI_FAIL;
        } else {
            double maxd = 0;
            int matched = 0;
            for (int i = 0; i < nrec; i++) {
                if (!j.ok[i]) continue;
                for (int q = 0; q < rows; q++)
                    if ((int)ids[q] == recs[i].id) {
                        matched++;
                        for (int k = 0; k < nlab; k++) {
                            const float *netp = model_probs ? j.probs : j.mprobs; /* the network's, not fused */
                            double c = use_logits ? j.logits[(size_t)i * nlab + k] : netp[(size_t)i * nlab + k];
                            double d = fabs(c - ref[(size_t)q * cols + k]);
                            if (d > maxd) maxd = d;
                        }
                        break;
                    }
            }
            printf("compare %s: %d records matched, max |C - reference| %s = %.3g\n", npy, matched,
                   use_logits ? "(logits)" : "(probabilities)", maxd);
        }
        free(ref);
        free(ids);
    }
    for (int k = 0; k < nlab; k++) free(labels[k]);
    free(labels);
    free(thr);
    free(v);
    free(j.probs);
    free(j.mprobs);
    free(j.feats);
    free(j.logits);
    free(j.ok);
    free(sel);
    free(recs);
    aiecg_analyzer_free(an);
    return rc;
}
