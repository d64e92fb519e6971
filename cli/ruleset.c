/* Rulesets and whole configurations: import ruleset -f, export ruleset <file>, import data -f
 * [-p] [-s], export data <file> [-r '["rule1"]'], getstatus import.
 *
 * eKuiper's CLI hands a file name to the server, which reads or writes it on its own disk; over
 * REST the client reads the file and sends its content ({"content": ...}), and writes what the
 * export endpoints return, so the files live where the user runs `kuiper`. */
#include "cli/cli_int.h"
#include "engine/codec_json.h"
#include "engine/err.h"
#include "engine/mem.h"

#include <errno.h>
#include <string.h>

/* Reads path for an import; prints eKuiper's complaint and returns NULL when it cannot. */
static char *import_body(ek_cli *c, const char *path)
{
    ek_buf text = EK_BUF_INIT;
    if (cli__read_file(path, &text) != 0) {
        fprintf(c->out, "fail to read file %s: %s\n", path, strerror(errno));
        ek_buf_free(&text);
        return NULL;
    }
    char *body = cli__json_member("content", text.data);
    ek_buf_free(&text);
    return body;
}

static bool write_file(ek_cli *c, const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    bool ok = f && fwrite(data, 1, len, f) == len;
    if (f && fclose(f) != 0) ok = false;
    if (!ok) fprintf(c->out, "fail to save to file %s:%s\n", path, strerror(errno));
    return ok;
}

static int import_ruleset(ek_cli *c, const cli_cmd *cmd, const cli_args *a)
{
    if (!a->file) {
        fprintf(c->out, "Required ruleset json file to import\n");
        return EK_CLI_USAGE;
    }
    char *body = import_body(c, a->file);
    if (!body) return EK_CLI_FAIL;
    int rc = cli__request_print(c, cmd, "POST", "/ruleset/import", body, NULL);
    ek_free(body);
    return rc;
}

/* Number of members of key in an exported ruleset. */
static size_t count(const ek_value *v, const char *key)
{
    const ek_value *m = ek_object_get(v, key);
    return m && m->type == EK_T_OBJECT ? ek_object_len(m) : 0;
}

/* GETs or POSTs an export endpoint and writes the reply to file; returns the status, and the
 * decoded reply in *v when asked. */
static int export_to(ek_cli *c, const cli_cmd *cmd, const char *method, const char *path, const char *body,
                     const char *file, ek_value *v)
{
    cli_resp r;
    int rc = cli__call(c, cmd, method, path, body, NULL, &r);
    if (rc != EK_CLI_OK) return rc;
    if (!write_file(c, file, r.body.data, r.body.len))
        rc = EK_CLI_FAIL;
    else if (v && (ek_json_decode(r.body.data, r.body.len, 0, v, NULL) != 0 || v->type != EK_T_OBJECT))
        ek_value_unref(v);
    cli__resp_free(&r);
    return rc;
}

static int export_ruleset(ek_cli *c, const cli_cmd *cmd, const cli_args *a)
{
    if (a->npos < 1) {
        fprintf(c->out, "Require exported file name.\n");
        return EK_CLI_USAGE;
    }
    ek_value v = ek_null();
    int rc = export_to(c, cmd, "POST", "/ruleset/export", NULL, a->pos[0], &v);
    if (rc == EK_CLI_OK)
        fprintf(c->out, "exported %zu streams, %zu tables and %zu rules\n",
                v.type == EK_T_OBJECT ? count(&v, "streams") : 0, v.type == EK_T_OBJECT ? count(&v, "tables") : 0,
                v.type == EK_T_OBJECT ? count(&v, "rules") : 0);
    ek_value_unref(&v);
    return rc;
}

/* -p and -s take "true" or "false"; absent means false. */
static bool bool_flag(ek_cli *c, const char *v, char letter, bool *out)
{
    *out = v && strcmp(v, "true") == 0;
    if (v && !*out && strcmp(v, "false") != 0) {
        fprintf(c->out, "Expect %c flag to be a boolean value.\n", letter);
        return false;
    }
    return true;
}

static int import_data(ek_cli *c, const cli_cmd *cmd, const cli_args *a)
{
    if (!a->file) {
        fprintf(c->out, "Required configuration json file to import\n");
        return EK_CLI_USAGE;
    }
    bool stop, partial;
    if (!bool_flag(c, a->stop, 's', &stop) || !bool_flag(c, a->partial, 'p', &partial)) return EK_CLI_USAGE;
    char *body = import_body(c, a->file);
    if (!body) return EK_CLI_FAIL;
    const char *path = partial ? (stop ? "/data/import?partial=1&stop=1" : "/data/import?partial=1")
                               : (stop ? "/data/import?stop=1" : "/data/import");
    int rc = cli__request_print(c, cmd, "POST", path, body, NULL);
    ek_free(body);
    return rc;
}

/* -r '["rule1","rule2"]': checks it is a JSON array of strings and returns it re-encoded. */
static char *rules_body(ek_cli *c, const char *text)
{
    ek_value v = ek_null();
    ek_err err = {0};
    bool ok = ek_json_decode(text, strlen(text), 0, &v, &err) == 0 && v.type == EK_T_ARRAY;
    for (size_t i = 0; ok && i < ek_array_len(&v); i++) ok = ek_array_get(&v, i)->type == EK_T_STRING;
    char *s = NULL;
    if (ok)
        s = ek_json_encode_str(&v, 0);
    else
        fprintf(c->out, "rules %s unmarshal error %s\n", text, err.code ? err.msg : "expected an array of rule ids");
    ek_value_unref(&v);
    return s;
}

static int export_data(ek_cli *c, const cli_cmd *cmd, const cli_args *a)
{
    char *rules = NULL;
    if (a->rules && !(rules = rules_body(c, a->rules))) return EK_CLI_USAGE;
    if (a->npos != 1) {
        fprintf(c->out, "Expect configuration file.\n");
        ek_free(rules);
        return EK_CLI_USAGE;
    }
    int rc = export_to(c, cmd, rules ? "POST" : "GET", "/data/export", rules, a->pos[0], NULL);
    if (rc == EK_CLI_OK) fprintf(c->out, "export configuration success\n");
    ek_free(rules);
    return rc;
}

const cli_cmd cli__ruleset_cmds[] = {
    {.verb = "import", .noun = "ruleset", .flags = CLI_F_FILE, .run = import_ruleset,
     .usage = "import ruleset -f $ruleset_file", .fail = "import ruleset error: $m"},
    {.verb = "export", .noun = "ruleset", .run = export_ruleset, .usage = "export ruleset $ruleset_file",
     .fail = "export ruleset error: $m"},
    {.verb = "import", .noun = "data", .flags = CLI_F_FILE | CLI_F_PARTIAL | CLI_F_STOP, .run = import_data,
     .usage = "import data -f $configuration_file [-p true|false] [-s true|false]",
     .fail = "import configuration error: $m"},
    {.verb = "export", .noun = "data", .flags = CLI_F_RULES, .run = export_data,
     .usage = "export data $configuration_file [-r '[\"rule1\",...]']", .fail = "export configuration error: $m"},
    {.verb = "getstatus", .noun = "import", .run = cli__run_simple, .method = "GET", .path = "/data/import/status",
     .usage = "getstatus import"},
    {0},
};
