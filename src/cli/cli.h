/*
 * Shared pieces of the thin CLI: the subcommand table (commands.def) and
 * helpers for argument errors. Exit codes: 0 ok, 1 failure, 2 usage.
 * The CLI uses only the public headers.
 */
#ifndef AIECG_CLI_H
#define AIECG_CLI_H

#include "aiecg/aiecg.h"

#include <stdio.h>

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

#define X(name, summary) int aiecg_cli_##name(int argc, char **argv);
#include "commands.def"
#undef X
/* aiecg eval ptbxl (cmd_eval_ptbxl.c), dispatched by aiecg eval; argv[0] is "ptbxl". */
int aiecg_cli_eval_ptbxl(int argc, char **argv);

/* `aiecg eval delineation ...` (cmd_eval_delin.c), dispatched by cmd_eval.c; argv[0] = "delineation". */
int aiecg_cli_eval_delineation(int argc, char **argv);
/* `aiecg eval ptbxl ...` (cmd_eval_ptbxl.c), dispatched by cmd_eval.c through a weak reference. */
int aiecg_cli_eval_ptbxl(int argc, char **argv);

/* Prints "aiecg CMD: message" to stderr. */
void cli_errorf(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Opens a record; on failure prints "aiecg CMD: <message> (<STATUS>)" and returns the status (rec NULL). */
aiecg_status cli_open_record(const char *cmd, const char *path, const aiecg_read_options *opt, aiecg_record **rec);
/* 1 if argv[i] is -h/--help. */
int cli_is_help(const char *arg);

#endif
