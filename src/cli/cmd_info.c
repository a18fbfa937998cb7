/* aiecg info: placeholder until the io module lands. */
#include "cli.h"

int aiecg_cli_info(int argc, char **argv) {
    (void)argc; (void)argv;
    cli_errorf("info", "not built yet");
    return CLI_FAIL;
}
