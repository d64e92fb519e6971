/* External services, schemas and JavaScript functions (scripts): create, describe, drop, show,
 * over /services, /schemas/{type} and /udf/javascript, with eKuiper's CLI texts. */
#include "cli/cli_int.h"
#include "engine/codec_json.h"
#include "engine/err.h"
#include "engine/mem.h"

#include <string.h>

/* Decodes a JSON object argument; prints fail (with "$m" the parse error) and returns false when
 * it is not one. */
static bool object_arg(ek_cli *c, const char *json, const char *fail, ek_value *v)
{
    ek_err err = {0};
    const char *why = cli__decode_object(json, v, &err);
    if (!why) return true;
    ek_buf line = EK_BUF_INIT;
    cli__subst(&line, fail, json, why);
    fprintf(c->out, "%s\n", line.data);
    ek_buf_free(&line);
    return false;
}

static const char *str_member(const ek_value *v, const char *key)
{
    const ek_value *m = ek_object_get(v, key);
    return m && m->type == EK_T_STRING ? ek_str_ptr(m) : "";
}

static int create_service(ek_cli *c, const cli_cmd *cmd, const cli_args *a)
{
    if (a->npos < 2) {
        fprintf(c->out, "Expect service name and json.\n");
        return EK_CLI_USAGE;
    }
    ek_value v = ek_null();
    if (!object_arg(c, a->pos[1], "Parse service $n error : $m.", &v)) return EK_CLI_FAIL;
    int rc;
    if (strcmp(str_member(&v, "name"), a->pos[0]) != 0) {
        fprintf(c->out, "Create service error: name mismatch.\n");
        rc = EK_CLI_FAIL;
    } else {
        rc = cli__request_print(c, cmd, "POST", "/services", a->pos[1], a->pos[0]);
    }
    ek_value_unref(&v);
    return rc;
}

/* "/schemas/<type>[/<name>]" */
static void schema_path(ek_buf *out, const char *type, const char *name)
{
    ek_buf_puts(out, "/schemas/");
    cli__path_escape(out, type);
    if (name) {
        ek_buf_putc(out, '/');
        cli__path_escape(out, name);
    }
}

static int create_schema(ek_cli *c, const cli_cmd *cmd, const cli_args *a)
{
    if (a->npos < 3) {
        fprintf(c->out, "Expect plugin type, name and json.\n");
        return EK_CLI_USAGE;
    }
    ek_value v = ek_null();
    if (!object_arg(c, a->pos[2], "Parse service $n error : $m.", &v)) return EK_CLI_FAIL;
    int rc;
    const char *given = str_member(&v, "name");
    if (*given && strcmp(given, a->pos[1]) != 0) {
        fprintf(c->out, "Create schema error: name mismatch.\n");
        rc = EK_CLI_FAIL;
    } else {
        ek_value_unshare(&v);
        ek_object_set(&v, "name", ek_string(a->pos[1]));
        char *body = ek_json_encode_str(&v, 0);
        ek_buf path = EK_BUF_INIT;
        schema_path(&path, a->pos[0], NULL);
        rc = cli__request_print(c, cmd, "POST", path.data, body, a->pos[1]);
        ek_buf_free(&path);
        ek_free(body);
    }
    ek_value_unref(&v);
    return rc;
}

/* describe and drop schema: type and name. */
static int schema_one(ek_cli *c, const cli_cmd *cmd, const cli_args *a)
{
    if (a->npos != 2) {
        fprintf(c->out, "Expect schema type and name.\n");
        return EK_CLI_USAGE;
    }
    ek_buf path = EK_BUF_INIT;
    schema_path(&path, a->pos[0], a->pos[1]);
    int rc = cli__request_print(c, cmd, cmd->method, path.data, NULL, a->pos[1]);
    ek_buf_free(&path);
    return rc;
}

static int show_schemas(ek_cli *c, const cli_cmd *cmd, const cli_args *a)
{
    if (a->npos != 1) {
        fprintf(c->out, "Expect schema type.\n");
        return EK_CLI_USAGE;
    }
    ek_buf path = EK_BUF_INIT;
    schema_path(&path, a->pos[0], NULL);
    cli_cmd row = *cmd;
    row.path = path.data;
    int rc = cli__run_json_list(c, &row, a);
    ek_buf_free(&path);
    return rc;
}

static int create_script(ek_cli *c, const cli_cmd *cmd, const cli_args *a)
{
    if (a->npos < 1) {
        fprintf(c->out, "Expect JavaScript function definition JSON.\n");
        return EK_CLI_USAGE;
    }
    ek_value v = ek_null();
    if (!object_arg(c, a->pos[0], "Parse JavaScript function error : $m.", &v)) return EK_CLI_FAIL;
    int rc = cli__request_print(c, cmd, "POST", "/udf/javascript", a->pos[0], str_member(&v, "id"));
    ek_value_unref(&v);
    return rc;
}

const cli_cmd cli__services_cmds[] = {
    {.verb = "create", .noun = "service", .run = create_service, .usage = "create service $service_name '$service_json'",
     .ok = "Service $n is created.", .fail = "Create service error: $m"},
    {.verb = "describe", .noun = "service", .run = cli__run_simple, .method = "GET", .path = "/services/$n", .nargs = 1,
     .usage = "describe service $service_name", .args_msg = "Expect service name.",
     .fail = "Desc service error : $m."},
    {.verb = "describe", .noun = "service_func", .run = cli__run_simple, .method = "GET",
     .path = "/services/functions/$n", .nargs = 1, .usage = "describe service_func $service_func_name",
     .args_msg = "Expect service func name.", .fail = "Desc service func error : $m."},
    {.verb = "drop", .noun = "service", .run = cli__run_simple, .method = "DELETE", .path = "/services/$n", .nargs = 1,
     .usage = "drop service $service_name", .args_msg = "Expect service name.", .ok = "Service $n is dropped",
     .fail = "Drop service error : $m."},
    {.verb = "show", .noun = "services", .run = cli__run_json_list, .path = "/services", .usage = "show services",
     .ok = "No service definitions are found.", .fail = "Show service error: $m."},
    {.verb = "show", .noun = "service_funcs", .run = cli__run_json_list, .path = "/services/functions",
     .usage = "show service_funcs", .ok = "No service definitions are found.", .fail = "Show service funcs error: $m."},
    {.verb = "create", .noun = "schema", .run = create_schema,
     .usage = "create schema $schema_type $schema_name '$schema_json'", .ok = "Schema $n is created.",
     .fail = "Create schema error: $m"},
    {.verb = "describe", .noun = "schema", .run = schema_one, .method = "GET",
     .usage = "describe schema $schema_type $schema_name", .fail = "Desc schema error : $m."},
    {.verb = "drop", .noun = "schema", .run = schema_one, .method = "DELETE",
     .usage = "drop schema $schema_type $schema_name", .ok = "Schema $n is dropped", .fail = "Drop schema error : $m."},
    {.verb = "show", .noun = "schemas", .run = show_schemas, .usage = "show schemas $schema_type",
     .ok = "No schema definitions are found.", .fail = "Show schemas error: $m."},
    {.verb = "create", .noun = "script", .run = create_script, .usage = "create script '$script_json'",
     .ok = "JavaScript function $n is created.", .fail = "Create JavaScript function error: $m"},
    {.verb = "describe", .noun = "script", .run = cli__run_simple, .method = "GET", .path = "/udf/javascript/$n",
     .nargs = 1, .usage = "describe script $script_name", .args_msg = "Expect JavaScript function name.",
     .fail = "Describe JavaScript function error : $m."},
    {.verb = "drop", .noun = "script", .run = cli__run_simple, .method = "DELETE", .path = "/udf/javascript/$n",
     .nargs = 1, .usage = "drop script $script_name", .args_msg = "Expect script name.",
     .ok = "JavaScript function $n is dropped", .fail = "Drop JavaScript function error : $m."},
    {.verb = "show", .noun = "scripts", .run = cli__run_json_list, .path = "/udf/javascript", .usage = "show scripts",
     .ok = "No JavaScript functions are found.", .fail = "Show JavaScript functions error: $m."},
    {0},
};
