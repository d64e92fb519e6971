/* Module-private types of the `kuiper` client: the session (where the REST API is, the libcurl
 * handle, where output goes), parsed command arguments, the command table entry every command
 * group file contributes, and the helpers those files share: the REST client (http.c), argument
 * and configuration parsing (args.c), and output formatting (format.c).
 *
 * A command is a table row: verb + noun ("show" "streams"), its usage text, the flags it takes,
 * and either a handler or the data a generic handler needs (method, path, reply text). Reply and
 * error texts are templates where "$n" is replaced by the name argument and "$m" by the server's
 * message, so each row reads like the eKuiper text it reproduces. */
#ifndef EK_CLI_INT_H
#define EK_CLI_INT_H

#include "cli/cli.h"
#include "engine/buf.h"
#include "engine/err.h"
#include "engine/value.h"

#include <stdbool.h>
#include <stdio.h>

#define CLI_DEFAULT_HOST "127.0.0.1"
#define CLI_DEFAULT_PORT 9081

typedef struct ek_cli {
    char host[256];
    int port;
    char etc_dir[1024];   /* where client.yaml was looked for ("" = default places) */
    void *curl;           /* CURL *, created on first request, reused (keep-alive) */
    long timeout_ms;      /* whole-request timeout */
    FILE *out;
    FILE *err;
} ek_cli;

/* ---- arguments (args.c) ---- */

/* Flags a command may take; a row lists them as a bit set. */
enum {
    CLI_F_FILE = 1 << 0,     /* -f, --file <path> */
    CLI_F_ZIP = 1 << 1,      /* -zf, --zipfile <path> */
    CLI_F_JSON = 1 << 2,     /* -json (no value) */
    CLI_F_STOP = 1 << 3,     /* -s, --stop true|false */
    CLI_F_PARTIAL = 1 << 4,  /* -p, --partial true|false */
    CLI_F_RULES = 1 << 5,    /* -r, --rules '["id",...]' */
    CLI_F_HELP = 1 << 6,     /* -h, --help, always accepted */
};

#define CLI_MAX_POS 16

typedef struct cli_args {
    int npos;
    const char *pos[CLI_MAX_POS]; /* positional arguments, borrowed from argv */
    unsigned seen;                /* CLI_F_* flags present */
    const char *file, *zipfile, *stop, *partial, *rules;
} cli_args;

/* Parses argv[0..argc) into a, accepting the flags in allowed (CLI_F_HELP always) anywhere among
 * the positional arguments; "--" ends flags. On error writes Go's flag-package message
 * ("flag provided but not defined: -x") into msg and returns -1. */
int cli__parse_args(int argc, char **argv, unsigned allowed, cli_args *a, char *msg, size_t msgsz);

/* Fills c->host and c->port: defaults, then <etc>/client.yaml (basic.host, basic.port), then the
 * environment (KUIPER_HOST, KUIPER_PORT), then host/port given on the command line (NULL: none).
 * A client.yaml that exists but cannot be read is an error written to msg (returns -1). */
int cli__resolve_server(ek_cli *c, const char *flag_host, const char *flag_port, char *msg, size_t msgsz);

/* Reads a whole file into out (NUL-terminated). Returns -1 with errno set on failure. */
int cli__read_file(const char *path, ek_buf *out);

/* ---- REST client (http.c) ---- */

typedef struct cli_resp {
    long status;             /* HTTP status; 0 when the server did not answer */
    ek_buf body;
    char local_ip[64];       /* our address on the connection (for the query result listener) */
} cli_resp;

/* Sends method path (path already URL-encoded) with an optional body (JSON) to the REST API.
 * Returns 0 when the server answered (any status), or -1 when it could not be reached; then the
 * caller prints cli__no_server. resp is reset first; free it with cli__resp_free. */
int cli__http(ek_cli *c, const char *method, const char *path, const char *body, cli_resp *resp);
void cli__resp_free(cli_resp *r);
void cli__http_close(ek_cli *c);
/* Appends s percent-encoded for one path segment. */
void cli__path_escape(ek_buf *b, const char *s);
/* The server-down line, as eKuiper prints it. */
#define CLI_NO_SERVER_MSG "Failed to connect the server, please start the server."

/* ---- formatting (format.c) ---- */

/* Replaces "$n" by name and "$m" by msg in tmpl (either may be NULL: empty). */
void cli__subst(ek_buf *out, const char *tmpl, const char *name, const char *msg);
/* The message of an error reply: the "message" of {"error":..,"message":..}, else the body text
 * trimmed, else "HTTP <status>". Returns a new string (ek_free). */
char *cli__error_message(const cli_resp *r);
/* Appends v as indented JSON the way Go's json.Indent / MarshalIndent lays it out; indent is the
 * unit ("  " or "\t"). Scalars are written by the codec. */
void cli__json_pretty(const ek_value *v, const char *indent, ek_buf *out);
/* The JSON text {"key": value} (ek_free it), as request bodies such as {"sql": ...} need. */
char *cli__json_member(const char *key, const char *value);
/* Decodes a JSON object argument (a rule, plugin or service definition) into *v. Returns NULL, or
 * why it is not one (the parse error in *err, or "expected a JSON object") with *v left null. */
const char *cli__decode_object(const char *json, ek_value *v, ek_err *err);
/* Pretty-prints a JSON text with indent "  "; text that is not JSON is returned as is. */
void cli__pretty_text(const char *text, ek_buf *out);
/* eKuiper's `describe stream` text from the stream JSON of GET /streams/{name}. */
void cli__describe_text(const ek_value *stmt, ek_buf *out);
/* eKuiper's `describe stream -json` output computed from the describe text (DescribeToJson). */
void cli__describe_to_json(const char *text, ek_buf *out);
/* Lines of a JSON array of strings, or empty_msg when the array is empty. Returns false when the
 * body is not an array. */
bool cli__name_lines(const char *body, const char *empty_msg, ek_buf *out);

/* ---- commands ---- */

typedef struct cli_cmd cli_cmd;
typedef int (*cli_handler)(ek_cli *c, const cli_cmd *cmd, const cli_args *a);

struct cli_cmd {
    const char *verb;        /* "show" */
    const char *noun;        /* "streams"; NULL for a verb without noun ("query") */
    const char *usage;       /* "show streams" */
    unsigned flags;          /* CLI_F_* accepted */
    cli_handler run;
    /* For the generic handlers (cli__run_*): */
    const char *method;      /* "GET" */
    const char *path;        /* "/rules/$n/status" ($n: the first positional, escaped) */
    int nargs;               /* positional arguments required */
    const char *args_msg;    /* printed when they are missing ("Expect rule name.") */
    const char *ok;          /* success text template; NULL: the body (pretty if JSON) */
    const char *fail;        /* error text template ("Desc rule error : $m."); NULL: "$m" */
};

/* Generic handlers: send cmd->method cmd->path and print cmd->ok (or the body pretty-printed). */
int cli__run_simple(ek_cli *c, const cli_cmd *cmd, const cli_args *a);
/* Prints a JSON array of names one per line (cmd->ok is the text for an empty list). */
int cli__run_list(ek_cli *c, const cli_cmd *cmd, const cli_args *a);
/* Prints a JSON list indented (cmd->ok is the text for an empty list), as show rules does. */
int cli__run_json_list(ek_cli *c, const cli_cmd *cmd, const cli_args *a);
/* Sends a request. On an answer below 400 returns EK_CLI_OK with the reply in *r (the caller frees
 * it with cli__resp_free); otherwise prints the no-server line or cmd's failure text and returns
 * EK_CLI_NOSERVER or EK_CLI_FAIL, r already freed. */
int cli__call(ek_cli *c, const cli_cmd *cmd, const char *method, const char *path, const char *body,
              const char *name, cli_resp *r);
/* Sends a request and prints the result the way cmd says; body may be NULL. Shared by handlers. */
int cli__request_print(ek_cli *c, const cli_cmd *cmd, const char *method, const char *path,
                       const char *body, const char *name);
/* Prints an error reply with cmd->fail. Returns EK_CLI_FAIL. */
int cli__print_fail(ek_cli *c, const cli_cmd *cmd, const cli_resp *r, const char *name);
/* Builds cmd->path with $n replaced by the escaped name. */
void cli__build_path(ek_buf *out, const char *tmpl, const char *name);

/* Command tables of the group files, each ending with a row whose verb is NULL. */
extern const cli_cmd cli__streams_cmds[];
extern const cli_cmd cli__rules_cmds[];
extern const cli_cmd cli__plugins_cmds[];
extern const cli_cmd cli__ruleset_cmds[];
extern const cli_cmd cli__services_cmds[];
extern const cli_cmd cli__query_cmds[];

/* The whole table, in help order; finds a row by verb and noun. */
const cli_cmd *cli__find(const char *verb, const char *noun, bool *verb_known);
/* Writes the top-level help, or one verb's help when verb is not NULL. */
void cli__help(FILE *f, const char *verb);

/* The interactive shell (query.c); returns an exit status. */
int cli__query_shell(ek_cli *c);

#endif
