/* Streams and tables: create (inline or -f file), show, describe (text or -json), drop.
 *
 * eKuiper's CLI sends the words of the command line as one SQL statement ("create stream demo
 * (...) WITH (...)"); we do the same through POST /streams {"sql": ...} and print the server's
 * reply text ("Stream demo is created."). describe rebuilds eKuiper's Fields/options table from
 * the JSON of GET /streams/{name}. Stream and table rows differ only in their words and paths. */
#include "cli/cli_int.h"
#include "engine/codec_json.h"
#include "engine/mem.h"

#include <ctype.h>
#include <string.h>

/* "stream" or "table", from the row. */
static const char *kind(const cli_cmd *cmd)
{
    return strncmp(cmd->noun, "table", 5) == 0 ? "table" : "stream";
}

/* Reads a definition file as eKuiper does, announcing it. Returns false (after printing) if not. */
static bool read_def(ek_cli *c, const char *path, const char *what, ek_buf *out)
{
    if (cli__read_file(path, out) != 0) {
        fprintf(c->out, "The specified %s defenition file %s is not existed.\n", what, path);
        return false;
    }
    fprintf(c->out, "Creating a new %s from file %s.\n", what, path);
    return true;
}

static int create(ek_cli *c, const cli_cmd *cmd, const cli_args *a)
{
    const char *k = kind(cmd);
    ek_buf sql = EK_BUF_INIT;
    if (a->file) {
        ek_buf def = EK_BUF_INIT;
        if (!read_def(c, a->file, k, &def)) {
            ek_buf_free(&def);
            return EK_CLI_FAIL;
        }
        /* A statement in a file often ends with ';' and a newline: neither is part of it. */
        size_t n = def.len;
        while (n > 0 && (isspace((unsigned char)def.data[n - 1]) || def.data[n - 1] == ';')) n--;
        ek_buf_printf(&sql, "CREATE %s %.*s", strcmp(k, "table") == 0 ? "TABLE" : "STREAM", (int)n, def.data);
        ek_buf_free(&def);
    } else {
        if (a->npos < 1) {
            fprintf(c->out, "Expect %s name and definition.\n", k);
            return EK_CLI_USAGE;
        }
        ek_buf_printf(&sql, "create %s", k);
        for (int i = 0; i < a->npos; i++) ek_buf_printf(&sql, " %s", a->pos[i]);
    }
    char *body = cli__json_member("sql", sql.data);
    int rc = cli__request_print(c, cmd, "POST", cmd->path, body, NULL);
    ek_free(body);
    ek_buf_free(&sql);
    return rc;
}

static int describe(ek_cli *c, const cli_cmd *cmd, const cli_args *a)
{
    if (a->npos < 1) {
        fprintf(c->out, "%s\n", cmd->args_msg);
        return EK_CLI_USAGE;
    }
    const char *name = a->pos[0];
    ek_buf path = EK_BUF_INIT;
    cli__build_path(&path, cmd->path, name);
    cli_resp r;
    int rc = cli__call(c, cmd, "GET", path.data, NULL, name, &r);
    ek_buf_free(&path);
    if (rc != EK_CLI_OK) return rc;
    ek_value stmt = ek_null();
    ek_buf text = EK_BUF_INIT, json = EK_BUF_INIT;
    if (ek_json_decode(r.body.data, r.body.len, 0, &stmt, NULL) != 0 || stmt.type != EK_T_OBJECT) {
        fprintf(c->out, "%s\n", r.body.data);
    } else {
        cli__describe_text(&stmt, &text);
        if (a->seen & CLI_F_JSON) {
            cli__describe_to_json(text.data, &json);
            fprintf(c->out, "%s\n", json.data);
        } else {
            fprintf(c->out, "%s", text.data);
        }
    }
    ek_value_unref(&stmt);
    ek_buf_free(&text);
    ek_buf_free(&json);
    cli__resp_free(&r);
    return rc;
}

const cli_cmd cli__streams_cmds[] = {
    {.verb = "create", .noun = "stream", .flags = CLI_F_FILE, .run = create, .path = "/streams",
     .usage = "create stream $stream_name '$stream_def' | create stream -f $stream_def_file",
     .fail = "Stream command error: $m"},
    {.verb = "create", .noun = "table", .flags = CLI_F_FILE, .run = create, .path = "/tables",
     .usage = "create table $table_name '$table_def' | create table -f $table_def_file",
     .fail = "Stream command error: $m"},
    {.verb = "show", .noun = "streams", .run = cli__run_list, .path = "/streams", .usage = "show streams",
     .ok = "No stream definitions are found.", .fail = "Stream command error: $m"},
    {.verb = "show", .noun = "tables", .run = cli__run_list, .path = "/tables", .usage = "show tables",
     .ok = "No table definitions are found.", .fail = "Stream command error: $m"},
    {.verb = "describe", .noun = "stream", .flags = CLI_F_JSON, .run = describe, .path = "/streams/$n",
     .usage = "describe stream $stream_name [-json]", .args_msg = "Expect stream name.",
     .fail = "Stream command error: $m"},
    {.verb = "describe", .noun = "table", .flags = CLI_F_JSON, .run = describe, .path = "/tables/$n",
     .usage = "describe table $table_name [-json]", .args_msg = "Expect table name.",
     .fail = "Stream command error: $m"},
    {.verb = "drop", .noun = "stream", .run = cli__run_simple, .method = "DELETE", .path = "/streams/$n",
     .nargs = 1, .usage = "drop stream $stream_name", .args_msg = "Expect stream name.",
     .fail = "Stream command error: $m"},
    {.verb = "drop", .noun = "table", .run = cli__run_simple, .method = "DELETE", .path = "/tables/$n",
     .nargs = 1, .usage = "drop table $table_name", .args_msg = "Expect table name.",
     .fail = "Stream command error: $m"},
    {0},
};
