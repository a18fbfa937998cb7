/*
 * aiecg measure: reads a record, detects QRS complexes (aiecg_qrs_detect),
 * delineates and measures (aiecg_measure) and prints the global
 * measurements as JSON: value + unit, or null + the reason it could not be
 * measured; per-lead amplitudes; the representative beat's fiducials in ms
 * from its QRS onset; beat counts. Exit 0 when the record was read and
 * processed (also when nothing was measurable: the JSON says why), 1 when
 * it could not be read, 2 on usage errors.
 */
#include "cli.h"

#include <string.h>

static void help(FILE *f) {
    fprintf(f,
            "usage: aiecg measure RECORD [--format FORMAT] [--compact]\n"
            "\n"
            "Prints the global ECG measurements of RECORD as JSON: heart and atrial rate,\n"
            "RR statistics, P duration, PR, QRS, QT, QTc (Bazett, Fridericia, Framingham,\n"
            "Hodges), P/QRS/T frontal axes, Sokolow-Lyon and Cornell voltages; per-lead\n"
            "amplitudes (P, Q, R, S, R', T, ST at J and J+60 ms, mV, relative to the PQ\n"
            "level) and the representative beat's fiducials (ms from its QRS onset).\n"
            "Unmeasurable values are null with a \"reason\". See docs/dsp-delineation.md.\n"
            "\n"
            "  --format FORMAT   wfdb, edf, aecg, scp, dicom, muse, philips, ishne, csv, json\n"
            "  --compact         one-line JSON\n");
}

int aiecg_cli_measure(int argc, char **argv) {
    const char *path = NULL;
    int pretty = 1;
    aiecg_read_options opt = aiecg_read_options_default();
    opt.skip_annotations = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (cli_is_help(a)) {
            help(stdout);
            return CLI_OK;
        } else if (!strcmp(a, "--format") || !strcmp(a, "-f")) {
            if (++i >= argc) {
                cli_errorf("measure", "--format needs a value");
                return CLI_USAGE;
            }
            opt.format = aiecg_format_parse(argv[i]);
            if (opt.format == AIECG_FORMAT_AUTO && strcmp(argv[i], "auto") != 0) {
                cli_errorf("measure", "unknown format '%s'", argv[i]);
                return CLI_USAGE;
            }
        } else if (!strcmp(a, "--compact")) {
            pretty = 0;
        } else if (a[0] == '-' && a[1]) {
            cli_errorf("measure", "unknown option '%s' (see aiecg measure --help)", a);
            return CLI_USAGE;
        } else if (!path) {
            path = a;
        } else {
            cli_errorf("measure", "more than one record given ('%s', '%s')", path, a);
            return CLI_USAGE;
        }
    }
    if (!path) {
        help(stderr);
        return CLI_USAGE;
    }
    aiecg_record *rec = NULL;
    aiecg_error err;
    aiecg_error_clear(&err);
    aiecg_status s = cli_open_record("measure", path, &opt, &rec);
    if (s) return CLI_FAIL;
    aiecg_beat *beats = NULL;
    int64_t nb = 0;
    s = aiecg_qrs_detect(rec, NULL, &beats, &nb, &err);
    aiecg_measurements m;
    memset(&m, 0, sizeof m);
    if (!s) s = aiecg_measure(rec, beats, nb, &m, NULL, &err);
    char *json = NULL;
    if (!s) s = aiecg_measurements_json(&m, rec, nb, pretty, &json);
    aiecg_measurements_free(&m);
    aiecg_free(beats);
    aiecg_record_free(rec);
    if (s) {
        cli_errorf("measure", "%s (%s)", err.message[0] ? err.message : aiecg_strerror(s),
                   aiecg_status_name(s));
        return CLI_FAIL;
    }
    fputs(json, stdout);
    aiecg_free(json);
    return CLI_OK;
}
