/*
 * aiecg convert: reads a record in any readable format and writes it with
 * aiecg_record_write. The output format comes from OUT's extension (.hea or
 * .dat: WFDB, .edf, .csv, .json) or from --to. Exit 0 ok, 1 failure (the
 * message names file, field and byte offset), 2 usage.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

/* Library warnings (checksum or initial-value mismatch) go to stderr. */
static void warn_to_stderr(void *user, aiecg_log_level level, const char *msg) {
    (void)user;
    (void)level;
    fprintf(stderr, "aiecg %s: warning: %s\n", "convert", msg);
}

static void help(FILE *f) {
    fprintf(f,
            "usage: aiecg convert IN OUT [--to FORMAT] [--from FORMAT] [--wfdb-format 16|212]\n"
            "                            [--fs HZ] [--annotator EXT] [--no-annotations] [--leads LIST]\n"
            "\n"
            "Converts a record. OUT's format comes from its extension (.hea/.dat: WFDB,\n"
            ".edf: EDF+, .csv, .json) unless --to names it. WFDB output is a header,\n"
            "one signal file (format 16 by default, or 212) and, when the record has\n"
            "annotations, an annotation file (extension --annotator, default atr).\n"
            "\n"
            "  --to FORMAT          output format: wfdb, edf, csv, json\n"
            "  --from FORMAT        input format (default: detected)\n"
            "  --wfdb-format N      WFDB storage format, 16 or 212\n"
            "  --fs HZ              input sampling rate when IN does not state it (CSV)\n"
            "  --annotator EXT      annotation file extension for reading and writing WFDB\n"
            "  --no-annotations     neither read nor write annotations\n"
            "  --leads LIST         keep only these leads, in this order, e.g. I or I,II or\n"
            "                       I,II,III,aVR,aVL,aVF (standard names or the file's labels)\n");
}

/* Resolves "I,II,..." against rec's leads (standard name first, then the file's label). */
static int pick_leads(const aiecg_record *rec, const char *list, int *idx, int max) {
    int n = 0;
    const char *p = list;
    while (*p) {
        const char *q = strchr(p, ',');
        size_t len = q ? (size_t)(q - p) : strlen(p);
        char name[64];
        if (len == 0 || len >= sizeof name) {
            cli_errorf("convert", "--leads: item %d of '%s' is %s", n + 1, list, len ? "too long" : "empty");
            return -1;
        }
        memcpy(name, p, len);
        name[len] = 0;
        if (n >= max) {
            cli_errorf("convert", "--leads: more than %d leads in '%s'", max, list);
            return -1;
        }
        int found = -1;
        aiecg_lead want = aiecg_lead_parse(name);
        if (want != AIECG_LEAD_UNKNOWN) found = aiecg_record_find_lead(rec, want);
        for (int i = 0; found < 0 && i < aiecg_record_nleads(rec); i++) {
            aiecg_lead_info li;
            if (!aiecg_record_lead_info(rec, i, &li) && li.label && !strcmp(li.label, name)) found = i;
        }
        if (found < 0) {
            cli_errorf("convert", "--leads: the record has no lead '%s' (item %d of '%s')", name, n + 1, list);
            return -1;
        }
        idx[n++] = found;
        p += len;
        if (*p == ',' && !*++p) {
            cli_errorf("convert", "--leads: item %d of '%s' is empty", n + 1, list);
            return -1;
        }
    }
    if (n == 0) cli_errorf("convert", "--leads: the list is empty");
    return n ? n : -1;
}

static int need(int i, int argc, const char *opt) {
    if (i >= argc) {
        cli_errorf("convert", "%s needs a value", opt);
        return 0;
    }
    return 1;
}

int aiecg_cli_convert(int argc, char **argv) {
    const char *in = NULL, *out = NULL, *leads = NULL;
    aiecg_read_options ro = aiecg_read_options_default();
    ro.logger.fn = warn_to_stderr;
    ro.logger.min_level = AIECG_LOG_WARN;
    aiecg_write_options wo = aiecg_write_options_default();
    wo.logger.fn = warn_to_stderr;
    wo.logger.min_level = AIECG_LOG_INFO;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (cli_is_help(a)) {
            help(stdout);
            return CLI_OK;
        } else if (!strcmp(a, "--to") || !strcmp(a, "--from")) {
            if (!need(++i, argc, a)) return CLI_USAGE;
            aiecg_format f = aiecg_format_parse(argv[i]);
            if (f == AIECG_FORMAT_AUTO) {
                cli_errorf("convert", "unknown format '%s'", argv[i]);
                return CLI_USAGE;
            }
            if (a[2] == 't') wo.format = f;
            else ro.format = f;
        } else if (!strcmp(a, "--wfdb-format")) {
            if (!need(++i, argc, a)) return CLI_USAGE;
            char *e;
            long v = strtol(argv[i], &e, 10);
            if (*e || (v != 16 && v != 212)) {
                cli_errorf("convert", "--wfdb-format must be 16 or 212, not '%s'", argv[i]);
                return CLI_USAGE;
            }
            wo.wfdb_format = (int)v;
        } else if (!strcmp(a, "--fs")) {
            if (!need(++i, argc, a)) return CLI_USAGE;
            char *e;
            ro.fs = strtod(argv[i], &e);
            if (*e || !(ro.fs > 0)) {
                cli_errorf("convert", "--fs must be a positive sampling rate in Hz, not '%s'", argv[i]);
                return CLI_USAGE;
            }
        } else if (!strcmp(a, "--annotator")) {
            if (!need(++i, argc, a)) return CLI_USAGE;
            ro.annotator = argv[i];
            wo.annotator = argv[i];
        } else if (!strcmp(a, "--leads")) {
            if (!need(++i, argc, a)) return CLI_USAGE;
            leads = argv[i];
        } else if (!strcmp(a, "--no-annotations")) {
            ro.skip_annotations = 1;
            wo.annotator = "";
        } else if (a[0] == '-' && a[1]) {
            cli_errorf("convert", "unknown option '%s' (see aiecg convert --help)", a);
            return CLI_USAGE;
        } else if (!in) {
            in = a;
        } else if (!out) {
            out = a;
        } else {
            cli_errorf("convert", "unexpected argument '%s'", a);
            return CLI_USAGE;
        }
    }
    if (!in || !out) {
        help(stderr);
        return CLI_USAGE;
    }
    aiecg_error err;
    aiecg_error_clear(&err);
    aiecg_record *rec = NULL;
    aiecg_status s = aiecg_record_open(in, &ro, &rec, &err);
    if (s) {
        cli_errorf("convert", "reading %s: %s (%s)", in, err.message[0] ? err.message : aiecg_strerror(s),
                   aiecg_status_name(s));
        return CLI_FAIL;
    }
    if (leads) {
        int idx[AIECG_MAX_LEADS];
        int n = pick_leads(rec, leads, idx, AIECG_MAX_LEADS);
        aiecg_record *sub = NULL;
        aiecg_error_clear(&err);
        if (n < 0 || aiecg_record_select_leads(rec, idx, n, &sub, &err)) {
            if (n >= 0) cli_errorf("convert", "--leads %s: %s", leads, err.message);
            aiecg_record_free(rec);
            return n < 0 ? CLI_USAGE : CLI_FAIL;
        }
        aiecg_record_free(rec);
        rec = sub;
    }
    aiecg_error_clear(&err);
    s = aiecg_record_write(rec, out, &wo, &err);
    aiecg_record_free(rec);
    if (s) {
        cli_errorf("convert", "writing %s: %s (%s)", out, err.message[0] ? err.message : aiecg_strerror(s),
                   aiecg_status_name(s));
        return CLI_FAIL;
    }
    return CLI_OK;
}
