/* Plugins and UDFs: create (json, -f file or -zf local zip), describe, drop [-s], show per type,
 * show udfs, describe udf, and register the functions of a function plugin.
 *
 * The plugin type word (source, sink, function, portable, wasm) picks the REST collection
 * (/plugins/sources, ...). Argument checks and texts follow eKuiper's CLI, which validates the
 * type before anything is sent. */
#include "cli/cli_int.h"
#include "engine/codec_json.h"
#include "engine/err.h"
#include "engine/mem.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static const struct plugin_kind {
    const char *word, *collection;
} kinds[] = {
    {"source", "sources"}, {"sink", "sinks"}, {"function", "functions"}, {"portable", "portables"}, {"wasm", "wasm"},
};

/* The REST collection for a type word, or NULL after printing eKuiper's complaint. */
static const char *collection(ek_cli *c, const char *word)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kinds[i].word, word) == 0) return kinds[i].collection;
    fprintf(c->out, "Invalid plugin type %s, should be \"source\", \"sink\", \"function\" or \"portable\" or \"wasm\".\n",
            word);
    return NULL;
}

static void plugin_path(ek_buf *out, const char *coll, const char *name, const char *suffix)
{
    ek_buf_printf(out, "/plugins/%s", coll);
    if (name) {
        ek_buf_putc(out, '/');
        cli__path_escape(out, name);
    }
    if (suffix) ek_buf_puts(out, suffix);
}

static void found_args(ek_cli *c, const char *expect, const cli_args *a)
{
    fprintf(c->out, "%s\nBut found %d args:[", expect, a->npos);
    for (int i = 0; i < a->npos; i++) fprintf(c->out, "%s%s", i ? " " : "", a->pos[i]);
    fprintf(c->out, "].\n");
}

/* The plugin JSON of `create plugin` from its three forms; NULL after printing the problem. */
static char *plugin_json(ek_cli *c, const cli_args *a, int *rc)
{
    *rc = EK_CLI_USAGE;
    if (a->file && a->zipfile) {
        fprintf(c->out, "Got both zipefile and file flags, should use just one.\n");
        return NULL;
    }
    if (a->file || a->zipfile) {
        if (a->npos != 2) {
            found_args(c, "Expect plugin type, name.", a);
            return NULL;
        }
    } else if (a->npos != 3) {
        found_args(c, "Expect plugin type, name and json.", a);
        return NULL;
    }
    *rc = EK_CLI_FAIL;
    if (a->zipfile) {
        char abs[PATH_MAX];
        if (access(a->zipfile, F_OK) != 0 || !realpath(a->zipfile, abs)) {
            fprintf(c->out, "The specified zip file %s could not be found.\n", a->zipfile);
            return NULL;
        }
        ek_value o = ek_object_new(1);
        ek_object_set(&o, "file", ek_string_fmt("file://%s", abs));
        char *s = ek_json_encode_str(&o, 0);
        ek_value_unref(&o);
        return s;
    }
    if (a->file) {
        ek_buf def = EK_BUF_INIT;
        if (cli__read_file(a->file, &def) != 0) {
            fprintf(c->out, "The specified plugin defenition file %s is not existed.\n", a->file);
            ek_buf_free(&def);
            return NULL;
        }
        fprintf(c->out, "Creating a new plugin from file %s.\n", a->file);
        return ek_buf_detach(&def);
    }
    return ek_strdup(a->pos[2]);
}

/* Sets "name" in a plugin JSON object; NULL with *msg when it is not one. */
static char *named(const char *json, const char *name, char **msg)
{
    ek_value v = ek_null();
    ek_err err = {0};
    const char *why = cli__decode_object(json, &v, &err);
    if (why) {
        *msg = ek_asprintf("Parse plugin %s error : %s.", json, why);
        return NULL;
    }
    ek_value_unshare(&v);
    ek_object_set(&v, "name", ek_string(name));
    char *s = ek_json_encode_str(&v, 0);
    ek_value_unref(&v);
    return s;
}

static int create(ek_cli *c, const cli_cmd *cmd, const cli_args *a)
{
    if (a->npos < 2) {
        fprintf(c->out, "Expect plugin type and name.\n");
        return EK_CLI_USAGE;
    }
    const char *coll = collection(c, a->pos[0]);
    if (!coll) return EK_CLI_USAGE;
    int rc;
    char *json = plugin_json(c, a, &rc);
    if (!json) return rc;
    char *msg = NULL;
    char *body = named(json, a->pos[1], &msg);
    if (!body) {
        fprintf(c->out, "Create plugin error: %s\n", msg);
        rc = EK_CLI_FAIL;
    } else {
        ek_buf path = EK_BUF_INIT;
        plugin_path(&path, coll, NULL, NULL);
        rc = cli__request_print(c, cmd, "POST", path.data, body, a->pos[1]);
        ek_buf_free(&path);
    }
    ek_free(msg);
    ek_free(body);
    ek_free(json);
    return rc;
}

static int describe(ek_cli *c, const cli_cmd *cmd, const cli_args *a)
{
    if (a->npos < 1) {
        fprintf(c->out, "Expect plugin type and name.\n");
        return EK_CLI_USAGE;
    }
    const char *coll = collection(c, a->pos[0]);
    if (!coll) return EK_CLI_USAGE;
    if (a->npos != 2) {
        fprintf(c->out, "Expect plugin name.\n");
        return EK_CLI_USAGE;
    }
    ek_buf path = EK_BUF_INIT;
    plugin_path(&path, coll, a->pos[1], NULL);
    int rc = cli__request_print(c, cmd, "GET", path.data, NULL, a->pos[1]);
    ek_buf_free(&path);
    return rc;
}

static int drop(ek_cli *c, const cli_cmd *cmd, const cli_args *a)
{
    if (a->stop && strcmp(a->stop, "true") != 0 && strcmp(a->stop, "false") != 0) {
        fprintf(c->out, "Expect s flag to be a boolean value.\n");
        return EK_CLI_USAGE;
    }
    if (a->npos < 2 || a->npos > 3) {
        fprintf(c->out, "Expect plugin type and name.\n");
        return EK_CLI_USAGE;
    }
    const char *coll = collection(c, a->pos[0]);
    if (!coll) return EK_CLI_USAGE;
    bool stop = a->stop && strcmp(a->stop, "true") == 0;
    cli_cmd row = *cmd;
    if (strcmp(coll, "portables") == 0)
        row.ok = "Plugin $n is dropped .";
    else if (stop)
        row.ok = "Plugin $n is dropped and Kuiper will be stopped.";
    else
        row.ok = "Plugin $n is dropped and Kuiper must restart for the change to take effect.";
    ek_buf path = EK_BUF_INIT;
    plugin_path(&path, coll, a->pos[1], stop ? "?stop=1" : NULL);
    int rc = cli__request_print(c, &row, "DELETE", path.data, NULL, a->pos[1]);
    ek_buf_free(&path);
    return rc;
}

static int show(ek_cli *c, const cli_cmd *cmd, const cli_args *a)
{
    if (a->npos != 1) {
        fprintf(c->out, "Expect plugin type.\n");
        return EK_CLI_USAGE;
    }
    const char *coll = collection(c, a->pos[0]);
    if (!coll) return EK_CLI_USAGE;
    cli_cmd row = *cmd;
    ek_buf path = EK_BUF_INIT;
    plugin_path(&path, coll, NULL, NULL);
    row.path = path.data;
    int rc = cli__run_list(c, &row, a);
    ek_buf_free(&path);
    return rc;
}

static int reg(ek_cli *c, const cli_cmd *cmd, const cli_args *a)
{
    if (a->npos < 2) {
        fprintf(c->out, "Expect plugin type and name.\n");
        return EK_CLI_USAGE;
    }
    if (strcasecmp(a->pos[0], "function") != 0) {
        fprintf(c->out, "Plugin type must be function.\n");
        return EK_CLI_USAGE;
    }
    ek_buf json = EK_BUF_INIT;
    if (a->file) {
        if (a->npos != 2) {
            found_args(c, "Expect plugin type, name.", a);
            return EK_CLI_USAGE;
        }
        if (cli__read_file(a->file, &json) != 0) {
            fprintf(c->out, "The specified plugin defenition file %s is not existed.\n", a->file);
            ek_buf_free(&json);
            return EK_CLI_FAIL;
        }
        fprintf(c->out, "Creating a new plugin from file %s.\n", a->file);
    } else if (a->npos != 3) {
        found_args(c, "Expect plugin type, name and json.", a);
        return EK_CLI_USAGE;
    } else {
        ek_buf_puts(&json, a->pos[2]);
    }
    ek_buf path = EK_BUF_INIT;
    plugin_path(&path, "functions", a->pos[1], "/register");
    int rc = cli__request_print(c, cmd, "POST", path.data, json.data, a->pos[1]);
    ek_buf_free(&path);
    ek_buf_free(&json);
    return rc;
}

const cli_cmd cli__plugins_cmds[] = {
    {.verb = "create", .noun = "plugin", .flags = CLI_F_FILE | CLI_F_ZIP, .run = create,
     .usage = "create plugin $plugin_type $plugin_name '$plugin_json' | create plugin $plugin_type $plugin_name "
              "-f $plugin_def_file | create plugin $plugin_type $plugin_name -zf $zip_file",
     .ok = "Plugin $n is created.", .fail = "Create plugin error: $m"},
    {.verb = "describe", .noun = "plugin", .run = describe, .usage = "describe plugin $plugin_type $plugin_name",
     .fail = "Describe plugin error: $m"},
    {.verb = "drop", .noun = "plugin", .flags = CLI_F_STOP, .run = drop,
     .usage = "drop plugin $plugin_type $plugin_name [-s true|false]", .fail = "Drop plugin error: $m"},
    {.verb = "show", .noun = "plugins", .run = show, .usage = "show plugins source|sink|function|portable|wasm",
     .ok = "No plugin is found.", .fail = "Show plugin error: $m"},
    {.verb = "show", .noun = "udfs", .run = cli__run_list, .path = "/plugins/udfs", .usage = "show udfs",
     .ok = "No udf is found.", .fail = "Show UDFs error: $m"},
    {.verb = "describe", .noun = "udf", .run = cli__run_simple, .method = "GET", .path = "/plugins/udfs/$n",
     .nargs = 1, .usage = "describe udf $udf_name", .args_msg = "Expect udf name.",
     .fail = "Describe udf error: $m"},
    {.verb = "register", .noun = "plugin", .flags = CLI_F_FILE, .run = reg,
     .usage = "register plugin function $plugin_name '$functions_json' | register plugin function $plugin_name "
              "-f $plugin_def_file",
     .ok = "Plugin $n is created.", .fail = "Register plugin functions error: $m"},
    {0},
};
