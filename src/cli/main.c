/* aiecg: the command-line front end. A table of subcommands; each lives in cmd_<name>.c. */
#include "cli.h"

#include <stdarg.h>
#include <string.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *summary;
} commands[] = {
#define X(name, summary) {#name, aiecg_cli_##name, summary},
#include "commands.def"
#undef X
};

void cli_errorf(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "aiecg %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

aiecg_status cli_open_record(const char *cmd, const char *path, const aiecg_read_options *opt, aiecg_record **rec) {
    aiecg_error err;
    aiecg_error_clear(&err);
    aiecg_status s = aiecg_record_open(path, opt, rec, &err);
    if (s) cli_errorf(cmd, "%s (%s)", err.message[0] ? err.message : aiecg_strerror(s), aiecg_status_name(s));
    return s;
}

int cli_is_help(const char *a) { return strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0; }

static void usage(FILE *f) {
    fprintf(f, "aiecg %s - AI-ECG interpretation\n\nusage: aiecg COMMAND [ARGS]\n\ncommands:\n",
            aiecg_version());
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "  %-10s %s\n", "help", "this text; 'aiecg COMMAND --help' for one command");
}

/* The analysis allocates a few buffers of 0.1-8 MB per record. glibc maps such blocks with mmap and, after
 * free, unmaps them (or trims the heap), so every record pays its page faults again: 84,664 faults per 200
 * LUDB records against 1,442 with these thresholds, 261-273 vs 316-330 records/s of CPU time (docs/perf.md,
 * perf3). Keeping blocks below 32 MB on the heap and trimming above 64 MB bounds what a long run keeps
 * (the working set of one record per thread). The library itself leaves malloc alone. */
static void tune_malloc(void) {
#if defined(__GLIBC__) && defined(M_MMAP_THRESHOLD) && defined(M_TRIM_THRESHOLD)
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
#endif
}

int main(int argc, char **argv) {
    tune_malloc();
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "help") == 0 || cli_is_help(cmd)) {
        if (argc > 2)
            for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
                if (strcmp(commands[i].name, argv[2]) == 0) {
                    char *h[] = {argv[2], "--help", NULL};
                    return commands[i].fn(2, h);
                }
        usage(stdout);
        return CLI_OK;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("aiecg %s\n", aiecg_version());
        return CLI_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, cmd) == 0) return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "aiecg: unknown command '%s'\n", cmd);
    usage(stderr);
    return CLI_USAGE;
}
