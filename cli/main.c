/* kuiper: the command-line client of kuiperd, compatible with eKuiper's `bin/kuiper`.
 * Everything lives in ek_cli (the other files of cli/) so that the unit tests run the same code. */
#include "cli/cli.h"

#include <stdio.h>

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    return ek_cli_main(argc, argv, stdout, stderr);
}
