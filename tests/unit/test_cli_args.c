/* Unit tests for the kuiper CLI's front: flags anywhere among the arguments with Go's flag-package
 * errors, the server address from client.yaml, environment and command line in that order, and
 * the texts of argument errors and of an unreachable server, all without a running kuiperd. */
#include "cli/cli_int.h"
#include "engine/mem.h"
#include "tests/unit/test_net_util.h"
#include "tests/unit/test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Runs ek_cli_main on a NULL-terminated word list; returns the status, output in *out. */
static int run(char **out, char **err, const char *const *words)
{
    char *argv[32];
    int argc = 0;
    argv[argc++] = (char *)"kuiper";
    for (; *words; words++) argv[argc++] = (char *)*words;
    argv[argc] = NULL;
    size_t olen = 0, elen = 0;
    FILE *o = open_memstream(out, &olen), *e = open_memstream(err, &elen);
    int rc = ek_cli_main(argc, argv, o, e);
    fclose(o);
    fclose(e);
    return rc;
}

static void test_flags_anywhere(void)
{
    char *argv[] = {"rule1", "-f", "/tmp/r.json"};
    cli_args a;
    char msg[128];
    CU_ASSERT_EQUAL_FATAL(cli__parse_args(3, argv, CLI_F_FILE, &a, msg, sizeof msg), 0);
    CU_ASSERT_EQUAL(a.npos, 1);
    CU_ASSERT_STRING_EQUAL(a.pos[0], "rule1");
    CU_ASSERT_STRING_EQUAL(a.file, "/tmp/r.json");

    char *argv2[] = {"--file=/x", "demo", "-json"};
    CU_ASSERT_EQUAL_FATAL(cli__parse_args(3, argv2, CLI_F_FILE | CLI_F_JSON, &a, msg, sizeof msg), 0);
    CU_ASSERT_STRING_EQUAL(a.file, "/x");
    CU_ASSERT_TRUE(a.seen & CLI_F_JSON);
    CU_ASSERT_EQUAL(a.npos, 1);

    char *argv3[] = {"source", "random", "-zf", "r.zip", "-s=true"};
    CU_ASSERT_EQUAL_FATAL(cli__parse_args(5, argv3, CLI_F_ZIP | CLI_F_STOP, &a, msg, sizeof msg), 0);
    CU_ASSERT_STRING_EQUAL(a.zipfile, "r.zip");
    CU_ASSERT_STRING_EQUAL(a.stop, "true");
    CU_ASSERT_EQUAL(a.npos, 2);
}

static void test_definitions_are_positional(void)
{
    char *argv[] = {"demo", "(id bigint, name string) WITH (DATASOURCE=\"d\")", "--", "-f"};
    cli_args a;
    char msg[128];
    CU_ASSERT_EQUAL_FATAL(cli__parse_args(4, argv, CLI_F_FILE, &a, msg, sizeof msg), 0);
    CU_ASSERT_EQUAL(a.npos, 3);
    CU_ASSERT_STRING_EQUAL(a.pos[2], "-f");
    CU_ASSERT_PTR_NULL(a.file);
    char *neg[] = {"-1", "{\"sql\":\"SELECT 1\"}"};
    CU_ASSERT_EQUAL_FATAL(cli__parse_args(2, neg, 0, &a, msg, sizeof msg), 0);
    CU_ASSERT_EQUAL(a.npos, 2);
}

static void test_flag_errors(void)
{
    cli_args a;
    char msg[128];
    char *unknown[] = {"demo", "-x"};
    CU_ASSERT_EQUAL(cli__parse_args(2, unknown, CLI_F_FILE, &a, msg, sizeof msg), -1);
    CU_ASSERT_STRING_EQUAL(msg, "flag provided but not defined: -x");
    char *not_here[] = {"rule1", "-json"};
    CU_ASSERT_EQUAL(cli__parse_args(2, not_here, CLI_F_FILE, &a, msg, sizeof msg), -1);
    CU_ASSERT_STRING_EQUAL(msg, "flag provided but not defined: -json");
    char *no_value[] = {"rule1", "-f"};
    CU_ASSERT_EQUAL(cli__parse_args(2, no_value, CLI_F_FILE, &a, msg, sizeof msg), -1);
    CU_ASSERT_STRING_EQUAL(msg, "flag needs an argument: -f");
    char *help[] = {"--help"};
    CU_ASSERT_EQUAL(cli__parse_args(1, help, 0, &a, msg, sizeof msg), 0);
    CU_ASSERT_TRUE(a.seen & CLI_F_HELP);
}

static void write_yaml(const char *dir, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/client.yaml", dir);
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
}

static void test_server_address_order(void)
{
    char dir[] = "/tmp/ek-cli-XXXXXX";
    CU_ASSERT_PTR_NOT_NULL_FATAL(ek_test_mkdtemp(dir));
    unsetenv("KUIPER_HOST");
    unsetenv("KUIPER_PORT");
    ek_cli c;
    memset(&c, 0, sizeof c);
    char msg[256];
    snprintf(c.etc_dir, sizeof c.etc_dir, "%s", dir);
    CU_ASSERT_EQUAL(cli__resolve_server(&c, NULL, NULL, msg, sizeof msg), 0);
    CU_ASSERT_STRING_EQUAL(c.host, "127.0.0.1");
    CU_ASSERT_EQUAL(c.port, 9081);

    write_yaml(dir, "basic:\n  host: 10.0.0.7\n  port: 20498\n");
    CU_ASSERT_EQUAL(cli__resolve_server(&c, NULL, NULL, msg, sizeof msg), 0);
    CU_ASSERT_STRING_EQUAL(c.host, "10.0.0.7");
    CU_ASSERT_EQUAL(c.port, 20498);

    setenv("KUIPER_PORT", "9999", 1);
    CU_ASSERT_EQUAL(cli__resolve_server(&c, NULL, NULL, msg, sizeof msg), 0);
    CU_ASSERT_EQUAL(c.port, 9999);
    CU_ASSERT_EQUAL(cli__resolve_server(&c, "localhost", "1234", msg, sizeof msg), 0);
    CU_ASSERT_STRING_EQUAL(c.host, "localhost");
    CU_ASSERT_EQUAL(c.port, 1234);
    CU_ASSERT_EQUAL(cli__resolve_server(&c, NULL, "port", msg, sizeof msg), -1);
    CU_ASSERT_STRING_EQUAL(msg, "--port: invalid port \"port\"");
    setenv("KUIPER_PORT", "70000", 1);
    CU_ASSERT_EQUAL(cli__resolve_server(&c, NULL, NULL, msg, sizeof msg), -1);
    unsetenv("KUIPER_PORT");

    write_yaml(dir, "basic: 'unterminated\n");
    CU_ASSERT_EQUAL(cli__resolve_server(&c, NULL, NULL, msg, sizeof msg), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "Failed to load config file with error"));
    char path[256];
    snprintf(path, sizeof path, "%s/client.yaml", dir);
    unlink(path);
    rmdir(dir);
}

static void test_help_and_unknown_commands(void)
{
    char *out, *err;
    CU_ASSERT_EQUAL(run(&out, &err, (const char *[]){"--help", NULL}), EK_CLI_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "COMMANDS:"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "query"));
    free(out);
    free(err);
    CU_ASSERT_EQUAL(run(&out, &err, (const char *[]){"create", "--help", NULL}), EK_CLI_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "kuiper create rule $rule_name '$rule_json'"));
    free(out);
    free(err);
    CU_ASSERT_EQUAL(run(&out, &err, (const char *[]){"drop", "rule", "-h", NULL}), EK_CLI_OK);
    CU_ASSERT_STRING_EQUAL(out, "USAGE:\n   kuiper drop rule $rule_name\n");
    free(out);
    free(err);
    CU_ASSERT_EQUAL(run(&out, &err, (const char *[]){"frobnicate", NULL}), EK_CLI_USAGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "No help topic for 'frobnicate'"));
    free(out);
    free(err);
    CU_ASSERT_EQUAL(run(&out, &err, (const char *[]){"show", "widgets", NULL}), EK_CLI_USAGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "kuiper show streams"));
    free(out);
    free(err);
}

/* Argument errors are found before anything is sent, with eKuiper's texts. */
static void test_argument_texts(void)
{
    char *out, *err;
    CU_ASSERT_EQUAL(run(&out, &err, (const char *[]){"create", "rule", "rule1", NULL}), EK_CLI_USAGE);
    CU_ASSERT_STRING_EQUAL(out, "Expect rule name and json.\nBut found 1 args:[rule1].\n");
    free(out);
    free(err);
    CU_ASSERT_EQUAL(run(&out, &err, (const char *[]){"start", "rule", NULL}), EK_CLI_USAGE);
    CU_ASSERT_STRING_EQUAL(out, "Expect rule name.\n");
    free(out);
    free(err);
    CU_ASSERT_EQUAL(run(&out, &err, (const char *[]){"show", "plugins", "gadget", NULL}), EK_CLI_USAGE);
    CU_ASSERT_STRING_EQUAL(out, "Invalid plugin type gadget, should be \"source\", \"sink\", \"function\" or "
                                "\"portable\" or \"wasm\".\n");
    free(out);
    free(err);
    CU_ASSERT_EQUAL(run(&out, &err, (const char *[]){"register", "plugin", "sink", "x", "{}", NULL}), EK_CLI_USAGE);
    CU_ASSERT_STRING_EQUAL(out, "Plugin type must be function.\n");
    free(out);
    free(err);
    CU_ASSERT_EQUAL(run(&out, &err, (const char *[]){"import", "data", "-f", "x", "-s", "maybe", NULL}),
                    EK_CLI_USAGE);
    CU_ASSERT_STRING_EQUAL(out, "Expect s flag to be a boolean value.\n");
    free(out);
    free(err);
    CU_ASSERT_EQUAL(run(&out, &err, (const char *[]){"create", "stream", "-f", "/nonexistent/s.txt", NULL}),
                    EK_CLI_FAIL);
    CU_ASSERT_STRING_EQUAL(out, "The specified stream defenition file /nonexistent/s.txt is not existed.\n");
    free(out);
    free(err);
}

static void test_server_down(void)
{
    char port[16];
    snprintf(port, sizeof port, "%d", tc_free_port());
    char *out, *err;
    CU_ASSERT_EQUAL(run(&out, &err, (const char *[]){"--port", port, "show", "streams", NULL}), EK_CLI_NOSERVER);
    CU_ASSERT_STRING_EQUAL(out, "Failed to connect the server, please start the server.\n");
    free(out);
    free(err);
}

void ek_register_tests(void)
{
    static const ek_test_case cases[] = {
        {"flags anywhere, with values", test_flags_anywhere},
        {"definitions and -- stay positional", test_definitions_are_positional},
        {"flag errors use Go's words", test_flag_errors},
        {"server address: yaml, env, flags", test_server_address_order},
        {"help and unknown commands", test_help_and_unknown_commands},
        {"argument errors use eKuiper's texts", test_argument_texts},
        {"server down is one line", test_server_down},
        {NULL, NULL},
    };
    ek_add_suite("cli_args", cases);
}
