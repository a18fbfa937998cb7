/*
 * aiecg info: opens a record (any readable format) and prints its
 * description as JSON (aiecg_record_info_json). Exit 0 when the record was
 * read (also when a checksum mismatched: the JSON says so), 1 when it could
 * not be read, 2 on usage errors.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

/* Library warnings (checksum or initial-value mismatch) go to stderr. */
static void warn_to_stderr(void *user, aiecg_log_level level, const char *msg) {
    (void)user;
    (void)level;
    fprintf(stderr, "aiecg %s: warning: %s\n", "info", msg);
}

static void help(FILE *f) {
    fprintf(f,
            "usage: aiecg info RECORD [--annotator EXT] [--format FORMAT] [--fs HZ] [--no-annotations]\n"
            "\n"
            "Prints a JSON description of RECORD: format, record name, fs, nsamples,\n"
            "duration_s, leads (label, lead, units, gain, baseline, adc_resolution,\n"
            "adc_zero, checksum_state), metadata (patient id, age, sex, start time),\n"
            "annotation counts by code mnemonic, and \"checksums\": verified | mismatch |\n"
            "absent. For WFDB give the header (100.hea) or the record path (data/100).\n"
            "\n"
            "  --annotator EXT     WFDB annotation file to read (default: atr, if present)\n"
            "  --format FORMAT     wfdb, edf, aecg, scp, dicom, muse, philips, ishne, csv, json\n"
            "  --fs HZ             sampling rate for files that do not state it (CSV without time column)\n"
            "  --no-annotations    do not read annotation files\n");
}

int aiecg_cli_info(int argc, char **argv) {
    const char *path = NULL;
    aiecg_read_options opt = aiecg_read_options_default();
    opt.logger.fn = warn_to_stderr;
    opt.logger.min_level = AIECG_LOG_WARN;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (cli_is_help(a)) {
            help(stdout);
            return CLI_OK;
        } else if (!strcmp(a, "--annotator") || !strcmp(a, "-a")) {
            if (++i >= argc) {
                cli_errorf("info", "--annotator needs a value");
                return CLI_USAGE;
            }
            opt.annotator = argv[i];
        } else if (!strcmp(a, "--format") || !strcmp(a, "-f")) {
            if (++i >= argc) {
                cli_errorf("info", "--format needs a value");
                return CLI_USAGE;
            }
            opt.format = aiecg_format_parse(argv[i]);
            if (opt.format == AIECG_FORMAT_AUTO && strcmp(argv[i], "auto") != 0) {
                cli_errorf("info", "unknown format '%s'", argv[i]);
                return CLI_USAGE;
            }
        } else if (!strcmp(a, "--fs")) {
            char *end = NULL;
            if (++i >= argc || !((opt.fs = strtod(argv[i], &end)) > 0) || *end) {
                cli_errorf("info", "--fs needs a positive sampling rate in Hz");
                return CLI_USAGE;
            }
        } else if (!strcmp(a, "--no-annotations")) {
            opt.skip_annotations = 1;
        } else if (a[0] == '-' && a[1]) {
            cli_errorf("info", "unknown option '%s' (see aiecg info --help)", a);
            return CLI_USAGE;
        } else if (!path) {
            path = a;
        } else {
            cli_errorf("info", "more than one record given ('%s', '%s')", path, a);
            return CLI_USAGE;
        }
    }
    if (!path) {
        help(stderr);
        return CLI_USAGE;
    }
    aiecg_record *rec = NULL;
    aiecg_status s = cli_open_record("info", path, &opt, &rec);
    if (s) return CLI_FAIL;
    char *json = NULL;
    s = aiecg_record_info_json(rec, &json);
    aiecg_record_free(rec);
    if (s) {
        cli_errorf("info", "%s", aiecg_strerror(s));
        return CLI_FAIL;
    }
    fputs(json, stdout);
    aiecg_free(json);
    return CLI_OK;
}
