/* The front of `kuiper`: global options, finding the command row for "verb noun", help texts, and
 * the generic handlers most rows use (send one request, print eKuiper's reply text or the JSON
 * body indented, or a list of names one per line).
 *
 * Replies go to the output stream, errors from the server too (eKuiper's CLI prints everything to
 * stdout); only usage errors go to the error stream. The exit status tells scripts what happened,
 * which eKuiper's CLI does not: see the enum in cli.h. */
#include "cli/cli_int.h"
#include "engine/codec_json.h"
#include "engine/mem.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Verbs in help order, with a one-line summary. */
static const struct verb_info {
    const char *verb, *summary;
} verbs[] = {
    {"create", "create a stream, table, rule, plugin, service, schema or script"},
    {"describe", "print the definition of a stream, table, rule, plugin, udf, service, schema or script"},
    {"drop", "delete a stream, table, rule, plugin, service, schema or script"},
    {"show", "list streams, tables, rules, plugins, udfs, services, schemas or scripts"},
    {"getstatus", "print the status and metrics of a rule, or of the last data import"},
    {"gettopo", "print the topology of a rule"},
    {"start", "start a rule"},
    {"stop", "stop a rule"},
    {"restart", "restart a rule"},
    {"validate", "check a rule without creating it"},
    {"register", "register the functions of a function plugin"},
    {"import", "import a ruleset or a whole configuration"},
    {"export", "export a ruleset or a whole configuration"},
    {"query", "interactive SQL shell: each SELECT runs as a temporary rule"},
};

static const cli_cmd *const tables[] = {
    cli__streams_cmds, cli__rules_cmds, cli__plugins_cmds, cli__ruleset_cmds, cli__services_cmds,
    cli__query_cmds, NULL,
};

const cli_cmd *cli__find(const char *verb, const char *noun, bool *verb_known)
{
    *verb_known = false;
    for (size_t t = 0; tables[t]; t++) {
        for (const cli_cmd *c = tables[t]; c->verb; c++) {
            if (strcmp(c->verb, verb) != 0) continue;
            *verb_known = true;
            if (!c->noun || (noun && strcmp(c->noun, noun) == 0)) return c;
        }
    }
    return NULL;
}

void cli__help(FILE *f, const char *verb)
{
    if (verb) {
        fprintf(f, "USAGE:\n");
        for (size_t t = 0; tables[t]; t++)
            for (const cli_cmd *c = tables[t]; c->verb; c++)
                if (strcmp(c->verb, verb) == 0) fprintf(f, "   kuiper %s\n", c->usage);
        return;
    }
    fprintf(f, "NAME:\n   kuiper - the command line tool for kuiperd (eKuiper compatible)\n\n"
               "USAGE:\n   kuiper [--host HOST] [--port PORT] [--etc DIR] command [arguments...]\n\n"
               "COMMANDS:\n");
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        fprintf(f, "   %-10s %s\n", verbs[i].verb, verbs[i].summary);
    fprintf(f, "   help       show the commands, or one command's forms: kuiper help create\n\n"
               "GLOBAL OPTIONS:\n"
               "   --host HOST   REST API host (default: basic.host of etc/client.yaml, KUIPER_HOST, 127.0.0.1)\n"
               "   --port PORT   REST API port (default: basic.port of etc/client.yaml, KUIPER_PORT, 9081)\n"
               "   --etc DIR     directory holding client.yaml\n"
               "   --help, -h    show help\n"
               "   --version     print the version\n");
}

void cli__build_path(ek_buf *out, const char *tmpl, const char *name)
{
    for (const char *p = tmpl; *p; p++) {
        if (p[0] == '$' && p[1] == 'n') {
            cli__path_escape(out, name ? name : "");
            p++;
        } else {
            ek_buf_putc(out, *p);
        }
    }
}

int cli__print_fail(ek_cli *c, const cli_cmd *cmd, const cli_resp *r, const char *name)
{
    char *msg = cli__error_message(r);
    const char *tmpl = cmd && cmd->fail ? cmd->fail : "$m";
    /* A server that already words its message like eKuiper's CLI ("Stream command error: ...")
     * must not get the prefix twice. */
    const char *hole = strstr(tmpl, "$m");
    size_t plen = hole ? (size_t)(hole - tmpl) : 0;
    if (plen > 0 && !memchr(tmpl, '$', plen) && strncasecmp(msg, tmpl, plen) == 0) tmpl = "$m";
    ek_buf line = EK_BUF_INIT;
    cli__subst(&line, tmpl, name, msg);
    fprintf(c->out, "%s\n", line.data);
    ek_buf_free(&line);
    ek_free(msg);
    return EK_CLI_FAIL;
}

int cli__call(ek_cli *c, const cli_cmd *cmd, const char *method, const char *path, const char *body,
              const char *name, cli_resp *r)
{
    if (cli__http(c, method, path, body, r) != 0) {
        fprintf(c->out, "%s\n", CLI_NO_SERVER_MSG);
        cli__resp_free(r);
        return EK_CLI_NOSERVER;
    }
    if (r->status >= 400) {
        cli__print_fail(c, cmd, r, name);
        cli__resp_free(r);
        return EK_CLI_FAIL;
    }
    return EK_CLI_OK;
}

/* Writes text and a newline, and frees text. */
static void put_line(ek_cli *c, ek_buf *text)
{
    fprintf(c->out, "%s\n", text->data ? text->data : "");
    ek_buf_free(text);
}

int cli__request_print(ek_cli *c, const cli_cmd *cmd, const char *method, const char *path,
                       const char *body, const char *name)
{
    cli_resp r;
    int rc = cli__call(c, cmd, method, path, body, name, &r);
    if (rc != EK_CLI_OK) return rc;
    ek_buf text = EK_BUF_INIT;
    if (cmd->ok)
        cli__subst(&text, cmd->ok, name, r.body.data);
    else
        cli__pretty_text(r.body.data, &text);
    put_line(c, &text);
    cli__resp_free(&r);
    return EK_CLI_OK;
}

int cli__run_simple(ek_cli *c, const cli_cmd *cmd, const cli_args *a)
{
    if (a->npos < cmd->nargs) {
        fprintf(c->out, "%s\n", cmd->args_msg);
        return EK_CLI_USAGE;
    }
    const char *name = a->npos > 0 ? a->pos[0] : NULL;
    ek_buf path = EK_BUF_INIT;
    cli__build_path(&path, cmd->path, name);
    int rc = cli__request_print(c, cmd, cmd->method, path.data, NULL, name);
    ek_buf_free(&path);
    return rc;
}

int cli__run_list(ek_cli *c, const cli_cmd *cmd, const cli_args *a)
{
    (void)a;
    cli_resp r;
    int rc = cli__call(c, cmd, "GET", cmd->path, NULL, NULL, &r);
    if (rc != EK_CLI_OK) return rc;
    ek_buf text = EK_BUF_INIT;
    if (!cli__name_lines(r.body.data, cmd->ok, &text)) cli__pretty_text(r.body.data, &text);
    put_line(c, &text);
    cli__resp_free(&r);
    return EK_CLI_OK;
}

int cli__run_json_list(ek_cli *c, const cli_cmd *cmd, const cli_args *a)
{
    (void)a;
    cli_resp r;
    int rc = cli__call(c, cmd, "GET", cmd->path, NULL, NULL, &r);
    if (rc != EK_CLI_OK) return rc;
    ek_value v = ek_null();
    ek_buf text = EK_BUF_INIT;
    bool empty = ek_json_decode(r.body.data, r.body.len, 0, &v, NULL) == 0 &&
                 (v.type == EK_T_NULL || (v.type == EK_T_ARRAY && ek_array_len(&v) == 0) ||
                  (v.type == EK_T_OBJECT && ek_object_len(&v) == 0));
    if (empty)
        ek_buf_puts(&text, cmd->ok);
    else
        cli__pretty_text(r.body.data, &text);
    put_line(c, &text);
    ek_value_unref(&v);
    cli__resp_free(&r);
    return EK_CLI_OK;
}

/* Options before the verb. eKuiper's client takes -etc and -loadFileType; the latter is accepted
 * and has no effect here (client.yaml is found as docs/cli.md says). */
enum { G_HOST, G_PORT, G_ETC, G_LOADTYPE, G_HELP, G_VERSION };

static const struct global_opt {
    const char *name, *alias;
    int id;
    bool value;
} global_opts[] = {
    {"host", NULL, G_HOST, true}, {"port", NULL, G_PORT, true}, {"etc", NULL, G_ETC, true},
    {"loadFileType", NULL, G_LOADTYPE, true}, {"help", "h", G_HELP, false}, {"version", "v", G_VERSION, false},
};

static const struct global_opt *global_opt(const char *s, size_t len)
{
    for (size_t i = 0; i < sizeof global_opts / sizeof global_opts[0]; i++) {
        const struct global_opt *g = &global_opts[i];
        if ((strlen(g->name) == len && strncmp(g->name, s, len) == 0) ||
            (g->alias && strlen(g->alias) == len && strncmp(g->alias, s, len) == 0))
            return g;
    }
    return NULL;
}

/* Parses the global options. Returns the index of the verb, or -1 when done (status in *rc). */
static int global_options(ek_cli *c, int argc, char **argv, const char **host, const char **port, int *rc)
{
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *s = argv[i] + 1 + (argv[i][1] == '-');
        const char *eq = strchr(s, '=');
        size_t len = eq ? (size_t)(eq - s) : strlen(s);
        const struct global_opt *g = global_opt(s, len);
        const char *v = NULL;
        *rc = EK_CLI_USAGE;
        if (!g) {
            fprintf(c->err, "flag provided but not defined: -%.*s\n", (int)len, s);
            return -1;
        }
        if (g->value && !(v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL))) {
            fprintf(c->err, "flag needs an argument: -%.*s\n", (int)len, s);
            return -1;
        }
        *rc = EK_CLI_OK;
        switch (g->id) {
        case G_HOST: *host = v; break;
        case G_PORT: *port = v; break;
        case G_ETC: snprintf(c->etc_dir, sizeof c->etc_dir, "%s", v); break;
        case G_LOADTYPE: break;
        case G_HELP: cli__help(c->out, NULL); return -1;
        case G_VERSION: fprintf(c->out, "kuiper version %s\n", EK_VERSION); return -1;
        }
    }
    return i;
}

/* Finds and runs the command at argv[i]. */
static int dispatch(ek_cli *c, int argc, char **argv, int i, const char *host, const char *port)
{
    const char *verb = argv[i];
    if (strcmp(verb, "help") == 0) {
        cli__help(c->out, i + 1 < argc ? argv[i + 1] : NULL);
        return EK_CLI_OK;
    }
    bool verb_known = false;
    const char *noun = i + 1 < argc ? argv[i + 1] : NULL;
    const cli_cmd *cmd = cli__find(verb, noun, &verb_known);
    if (!verb_known) {
        fprintf(c->err, "No help topic for '%s'. Run 'kuiper --help' for the commands.\n", verb);
        return EK_CLI_USAGE;
    }
    if (!cmd) {
        bool asked = noun && (strcmp(noun, "-h") == 0 || strcmp(noun, "--help") == 0 || strcmp(noun, "help") == 0);
        if (!asked && noun) fprintf(c->err, "No help topic for '%s %s'.\n", verb, noun);
        cli__help(asked ? c->out : c->err, verb);
        return asked ? EK_CLI_OK : EK_CLI_USAGE;
    }
    int first = i + (cmd->noun ? 2 : 1);
    cli_args a;
    char msg[256];
    if (cli__parse_args(argc - first, argv + first, cmd->flags, &a, msg, sizeof msg) != 0) {
        fprintf(c->err, "%s\nUsage: kuiper %s\n", msg, cmd->usage);
        return EK_CLI_USAGE;
    }
    if (a.seen & CLI_F_HELP) {
        fprintf(c->out, "USAGE:\n   kuiper %s\n", cmd->usage);
        return EK_CLI_OK;
    }
    if (cli__resolve_server(c, host, port, msg, sizeof msg) != 0) {
        fprintf(c->err, "%s\n", msg);
        return EK_CLI_USAGE;
    }
    return cmd->run(c, cmd, &a);
}

int ek_cli_main(int argc, char **argv, FILE *out, FILE *err)
{
    ek_cli c;
    memset(&c, 0, sizeof c);
    c.out = out;
    c.err = err;
    c.timeout_ms = 60000;
    const char *host = NULL, *port = NULL;
    int rc = EK_CLI_OK;
    int i = global_options(&c, argc, argv, &host, &port, &rc);
    if (i < 0) return rc;
    if (i >= argc) {
        cli__help(out, NULL);
        return EK_CLI_OK;
    }
    rc = dispatch(&c, argc, argv, i, host, port);
    cli__http_close(&c);
    fflush(out);
    return rc;
}
