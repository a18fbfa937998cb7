/* aiecg convert: placeholder until the io module lands. */
#include "cli.h"

int aiecg_cli_convert(int argc, char **argv) {
    (void)argc; (void)argv;
    cli_errorf("convert", "not built yet");
    return CLI_FAIL;
}
