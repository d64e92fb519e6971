/* The `kuiper` command-line client as a library: cli/main.c is only a call to ek_cli_main, so the
 * unit tests link the same code. The client talks to kuiperd only through its REST API (the same
 * paths and bodies as eKuiper's), and prints what eKuiper's own CLI prints for each command. */
#ifndef EK_CLI_H
#define EK_CLI_H

#include <stdio.h>

/* Exit statuses of `kuiper`. */
enum {
    EK_CLI_OK = 0,
    EK_CLI_FAIL = 1,     /* the server refused the command, or a local file could not be used */
    EK_CLI_USAGE = 2,    /* wrong arguments */
    EK_CLI_NOSERVER = 3, /* the REST API did not answer */
};

/* Runs the program with argv (argv[0] is the program name), writing normal output to out and usage
 * errors to err. The environment is read for KUIPER_HOST, KUIPER_PORT and HOME. Returns an exit
 * status from the enum above. */
int ek_cli_main(int argc, char **argv, FILE *out, FILE *err);

#endif
