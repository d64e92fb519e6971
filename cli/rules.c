/* Rules: create and validate (inline JSON or -f file), show, describe, drop, getstatus, gettopo,
 * start, stop, restart.
 *
 * The rule name given on the command line becomes the rule's "id" before the JSON is posted
 * (eKuiper's CLI passes both and the server checks they agree; we check here, with the same
 * words, because POST /rules only takes the JSON). Success texts are eKuiper's CLI texts, which
 * are not always the REST ones ("Rule r was restarted." has a period over RPC only). */
#include "cli/cli_int.h"
#include "engine/codec_json.h"
#include "engine/err.h"
#include "engine/mem.h"

#include <string.h>

/* Go's %s of a []string: "[a b c]". */
static void go_list(ek_buf *out, const cli_args *a)
{
    ek_buf_putc(out, '[');
    for (int i = 0; i < a->npos; i++) ek_buf_printf(out, "%s%s", i ? " " : "", a->pos[i]);
    ek_buf_putc(out, ']');
}

/* The rule JSON of `create|validate rule name json` or `... name -f file`, checked for the
 * argument count eKuiper expects. Returns false after printing the problem. */
static bool rule_json(ek_cli *c, const cli_args *a, ek_buf *json, int *rc)
{
    *rc = EK_CLI_USAGE;
    if (a->file) {
        if (cli__read_file(a->file, json) != 0) {
            fprintf(c->out, "The specified rule defenition file %s is not existed.\n", a->file);
            *rc = EK_CLI_FAIL;
            return false;
        }
        fprintf(c->out, "Creating a new rule from file %s.\n", a->file);
        if (a->npos != 1) {
            fprintf(c->out, "Expect rule name.\n");
            return false;
        }
        return true;
    }
    if (a->npos != 2) {
        ek_buf found = EK_BUF_INIT;
        go_list(&found, a);
        fprintf(c->out, "Expect rule name and json.\nBut found %d args:%s.\n", a->npos, found.data);
        ek_buf_free(&found);
        return false;
    }
    ek_buf_puts(json, a->pos[1]);
    return true;
}

/* Puts name into the rule JSON as its id. Returns the body to post, or NULL with *msg set. */
static char *with_id(const char *json, const char *name, char **msg)
{
    ek_value v = ek_null();
    ek_err err = {0};
    const char *why = cli__decode_object(json, &v, &err);
    if (why) {
        *msg = ek_asprintf("Parse rule %s error : %s", json, why);
        return NULL;
    }
    const ek_value *id = ek_object_get(&v, "id");
    if (id && !(id->type == EK_T_STRING && (ek_str_len(id) == 0 || strcmp(ek_str_ptr(id), name) == 0))) {
        *msg = ek_strdup("RuleId is not consistent with rule id.");
        ek_value_unref(&v);
        return NULL;
    }
    ek_value_unshare(&v);
    ek_object_set(&v, "id", ek_string(name));
    char *body = ek_json_encode_str(&v, 0);
    ek_value_unref(&v);
    return body;
}

static int create(ek_cli *c, const cli_cmd *cmd, const cli_args *a)
{
    ek_buf json = EK_BUF_INIT;
    int rc;
    if (!rule_json(c, a, &json, &rc)) {
        ek_buf_free(&json);
        return rc;
    }
    const char *name = a->pos[0];
    char *msg = NULL;
    char *body = with_id(json.data, name, &msg);
    if (!body) {
        ek_buf line = EK_BUF_INIT;
        cli__subst(&line, cmd->fail, name, msg);
        fprintf(c->out, "%s\n", line.data);
        ek_buf_free(&line);
        rc = EK_CLI_FAIL;
    } else {
        rc = cli__request_print(c, cmd, "POST", "/rules", body, name);
    }
    ek_free(msg);
    ek_free(body);
    ek_buf_free(&json);
    return rc;
}

static int validate(ek_cli *c, const cli_cmd *cmd, const cli_args *a)
{
    ek_buf json = EK_BUF_INIT;
    int rc;
    if (!rule_json(c, a, &json, &rc)) {
        ek_buf_free(&json);
        return rc;
    }
    char *msg = NULL;
    char *body = with_id(json.data, a->pos[0], &msg);
    if (!body) {
        fprintf(c->out, "%s\n", msg);
        rc = EK_CLI_FAIL;
    } else {
        rc = cli__request_print(c, cmd, "POST", "/rules/validate", body, a->pos[0]);
    }
    ek_free(msg);
    ek_free(body);
    ek_buf_free(&json);
    return rc;
}

const cli_cmd cli__rules_cmds[] = {
    {.verb = "create", .noun = "rule", .flags = CLI_F_FILE, .run = create,
     .usage = "create rule $rule_name '$rule_json' | create rule $rule_name -f $rule_def_file",
     .ok = "Rule $n was created successfully, please use 'bin/kuiper getstatus rule $n' command to get rule status.",
     .fail = "Create rule $n error : $m."},
    {.verb = "show", .noun = "rules", .run = cli__run_json_list, .path = "/rules", .usage = "show rules",
     .ok = "No rule definitions are found.", .fail = "Show rule error : $m."},
    {.verb = "describe", .noun = "rule", .run = cli__run_simple, .method = "GET", .path = "/rules/$n", .nargs = 1,
     .usage = "describe rule $rule_name", .args_msg = "Expect rule name.", .ok = NULL, .fail = "Desc rule error : $m."},
    {.verb = "drop", .noun = "rule", .run = cli__run_simple, .method = "DELETE", .path = "/rules/$n", .nargs = 1,
     .usage = "drop rule $rule_name", .args_msg = "Expect rule name.", .ok = "Rule $n is dropped.", .fail = "Drop rule error : $m."},
    {.verb = "getstatus", .noun = "rule", .run = cli__run_simple, .method = "GET", .path = "/rules/$n/status", .nargs = 1,
     .usage = "getstatus rule $rule_name", .args_msg = "Expect rule name.", .ok = NULL, .fail = NULL},
    {.verb = "gettopo", .noun = "rule", .run = cli__run_simple, .method = "GET", .path = "/rules/$n/topo", .nargs = 1,
     .usage = "gettopo rule $rule_name", .args_msg = "Expect rule name.", .ok = NULL, .fail = NULL},
    {.verb = "start", .noun = "rule", .run = cli__run_simple, .method = "POST", .path = "/rules/$n/start", .nargs = 1,
     .usage = "start rule $rule_name", .args_msg = "Expect rule name.", .ok = "Rule $n was started", .fail = NULL},
    {.verb = "stop", .noun = "rule", .run = cli__run_simple, .method = "POST", .path = "/rules/$n/stop", .nargs = 1,
     .usage = "stop rule $rule_name", .args_msg = "Expect rule name.", .ok = "Rule $n was stopped.", .fail = NULL},
    {.verb = "restart", .noun = "rule", .run = cli__run_simple, .method = "POST", .path = "/rules/$n/restart", .nargs = 1,
     .usage = "restart rule $rule_name", .args_msg = "Expect rule name.", .ok = "Rule $n was restarted.", .fail = NULL},
    {.verb = "validate", .noun = "rule", .flags = CLI_F_FILE, .run = validate,
     .usage = "validate rule $rule_name '$rule_json' | validate rule $rule_name -f $rule_def_file",
     .ok = "The rule has been successfully validated and is confirmed to be correct."},
    {0},
};
