/* `kuiper query`: the interactive SQL shell.
 *
 * Each SELECT runs as a temporary rule, as in eKuiper, but through the REST API only: the shell
 * opens a small HTTP receiver (recv.c) on the address it reaches kuiperd from, and creates the
 * rule {"id": "internal-ekuiper_query_rule_<pid>", "temp": true, "sql": ..., "actions":
 * [{"rest": {"url": <receiver>, "method": "post"}}]}. Every batch the rule's rest sink posts is
 * printed as it arrives (a JSON array per line) until Ctrl-C, which deletes the rule and returns
 * to the prompt; the rule's status is polled so that a rule stopped by an error is reported.
 * `quit` or `exit` (or end of input) leave. A terminal gets libedit line editing and a history in
 * $HOME/.kuiper_history; piped input is read line by line with the same prompt, and there the next
 * line also ends a running query, so scripts can drive the shell. */
#include "cli/cli_int.h"
#include "cli/recv.h"
#include "engine/app.h"
#include "engine/codec_json.h"
#include "engine/mem.h"

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <editline/readline.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define PROMPT "kuiper > "
#define STATUS_EVERY_MS 2000

/* Set by SIGINT; the only state a signal handler may touch. */
static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

typedef struct shell {
    ek_cli *c;
    bool tty;
    char rule_id[96];
    cli_recv *recv;
    char url[128];
    char history[1024];
    bool stdin_eof;   /* piped input ended while a query was running */
} shell;

/* The line libedit hands to on_line (malloc'ed, NULL at end of input) and whether it came.
 * File-scope because libedit's callback takes no user pointer; only the shell's thread uses them. */
static char *got_line;
static bool got;

static void on_line(char *line)
{
    got_line = line;
    got = true;
    rl_callback_handler_remove();
}

/* Reads a line from the terminal with libedit's callback interface, so that this loop, not
 * libedit, sees Ctrl-C: it abandons the line and shows a fresh prompt, as shells do. */
static char *read_tty_line(shell *s)
{
    got = false;
    got_line = NULL;
    interrupted = 0;
    rl_callback_handler_install(PROMPT, on_line);
    while (!got) {
        /* A Ctrl-C may land just before poll() blocks: the timeout bounds how long it waits
         * to be noticed. */
        struct pollfd pf = {.fd = STDIN_FILENO, .events = POLLIN};
        int rc = interrupted ? 0 : poll(&pf, 1, 200);
        if (interrupted) {
            interrupted = 0;
            rl_replace_line("", 0);
            rl_callback_handler_remove();
            fputc('\n', s->c->out);
            fflush(s->c->out);
            rl_callback_handler_install(PROMPT, on_line);
        } else if (rc > 0) {
            rl_callback_read_char();
        } else if (rc < 0 && errno != EINTR) {
            rl_callback_handler_remove();
            return NULL;
        }
    }
    if (!got_line) return NULL;
    char *copy = ek_strdup(got_line);
    free(got_line); /* libedit's memory comes from malloc */
    return copy;
}

/* One line from the user without its newline (ek_free it), or NULL at end of input. */
static char *read_line(shell *s)
{
    if (s->tty) return read_tty_line(s);
    if (s->stdin_eof) return NULL;
    fputs(PROMPT, s->c->out);
    fflush(s->c->out);
    ek_buf b = EK_BUF_INIT;
    int ch;
    while ((ch = getchar()) != EOF && ch != '\n') ek_buf_putc(&b, (char)ch);
    if (ch == EOF && b.len == 0) {
        ek_buf_free(&b);
        return NULL;
    }
    return ek_buf_detach(&b);
}

/* Trims white space and one trailing ';' in place. */
static char *trim(char *s)
{
    while (isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1])) n--;
    if (n > 0 && s[n - 1] == ';') n--;
    while (n > 0 && isspace((unsigned char)s[n - 1])) n--;
    s[n] = '\0';
    return s;
}

/* Opens the receiver on the address this host uses to reach kuiperd (learned from GET /ping).
 * Returns EK_CLI_OK, EK_CLI_NOSERVER or EK_CLI_FAIL, having printed why. */
static int open_receiver(shell *s)
{
    cli_resp r;
    if (cli__http(s->c, "GET", "/ping", NULL, &r) != 0) {
        fprintf(s->c->out, "%s\n", CLI_NO_SERVER_MSG);
        cli__resp_free(&r);
        return EK_CLI_NOSERVER;
    }
    const char *ip = r.local_ip[0] ? r.local_ip : "127.0.0.1";
    int rc = EK_CLI_OK;
    if (cli__recv_open(ip, &s->recv, s->url, sizeof s->url) != 0) {
        fprintf(s->c->out, "Cannot listen on %s for query results: %s\n", ip, strerror(errno));
        rc = EK_CLI_FAIL;
    }
    cli__resp_free(&r);
    return rc;
}

static char *rule_body(const shell *s, const char *sql)
{
    ek_value rest = ek_object_new(4);
    ek_object_set(&rest, "url", ek_string(s->url));
    ek_object_set(&rest, "method", ek_string("post"));
    ek_object_set(&rest, "bodyType", ek_string("json"));
    ek_object_set(&rest, "sendSingle", ek_bool(false));
    ek_value action = ek_object_new(1);
    ek_object_set(&action, "rest", rest);
    ek_value actions = ek_array_new(1);
    ek_array_push(&actions, action);
    ek_value rule = ek_object_new(5);
    ek_object_set(&rule, "id", ek_string(s->rule_id));
    ek_object_set(&rule, "sql", ek_string(sql));
    ek_object_set(&rule, "temp", ek_bool(true));
    ek_object_set(&rule, "triggered", ek_bool(true));
    ek_object_set(&rule, "actions", actions);
    char *body = ek_json_encode_str(&rule, 0);
    ek_value_unref(&rule);
    return body;
}

static void delete_rule(shell *s)
{
    ek_buf path = EK_BUF_INIT;
    ek_buf_puts(&path, "/rules/");
    cli__path_escape(&path, s->rule_id);
    cli_resp r;
    cli__http(s->c, "DELETE", path.data, NULL, &r);
    cli__resp_free(&r);
    ek_buf_free(&path);
}

/* Checks the query rule still runs; prints why not and returns false when it stopped. */
static bool rule_alive(shell *s)
{
    ek_buf path = EK_BUF_INIT;
    ek_buf_puts(&path, "/rules/");
    cli__path_escape(&path, s->rule_id);
    ek_buf_puts(&path, "/status");
    cli_resp r;
    bool alive = true;
    if (cli__http(s->c, "GET", path.data, NULL, &r) != 0) {
        fprintf(s->c->out, "%s\n", CLI_NO_SERVER_MSG);
        alive = false;
    } else if (r.status == 404) {
        fprintf(s->c->out, "query rule is stopped\n");
        alive = false;
    } else if (r.status < 400) {
        ek_value v = ek_null();
        if (ek_json_decode(r.body.data, r.body.len, 0, &v, NULL) == 0 && v.type == EK_T_OBJECT) {
            const ek_value *st = ek_object_get(&v, "status");
            const ek_value *msg = ek_object_get(&v, "message");
            if (st && st->type == EK_T_STRING && strncasecmp(ek_str_ptr(st), "stopped", 7) == 0) {
                fprintf(s->c->out, "query rule is stopped: %s\n",
                        msg && msg->type == EK_T_STRING ? ek_str_ptr(msg) : ek_str_ptr(st));
                alive = false;
            }
        }
        ek_value_unref(&v);
    }
    cli__resp_free(&r);
    ek_buf_free(&path);
    return alive;
}

/* Prints results until Ctrl-C or the rule stops; with piped input, also until the next line
 * arrives (a new statement, or `exit`), so that scripts can drive the shell. */
static void stream_results(shell *s)
{
    ek_buf body = EK_BUF_INIT;
    int64_t next_status = ek_now_ms() + STATUS_EVERY_MS;
    interrupted = 0;
    while (!interrupted) {
        int watch = s->tty || s->stdin_eof ? -1 : STDIN_FILENO;
        int rc = cli__recv_wait(s->recv, 300, watch, &body);
        if (rc < 0) break;
        if (rc == 2) {
            /* Readable at end of input too: then keep printing until Ctrl-C. */
            int ch = getchar();
            if (ch == EOF) {
                s->stdin_eof = true;
                continue;
            }
            ungetc(ch, stdin);
            break;
        }
        if (rc == 1 && body.len > 0) {
            char *text = trim(body.data);
            fprintf(s->c->out, "%s\n", text);
            fflush(s->c->out);
        }
        if (ek_now_ms() >= next_status) {
            if (!rule_alive(s)) break;
            next_status = ek_now_ms() + STATUS_EVERY_MS;
        }
    }
    if (interrupted) fputc('\n', s->c->out);
    interrupted = 0;
    ek_buf_free(&body);
}

static void run_query(shell *s, const char *sql)
{
    /* As eKuiper does, a new query replaces a leftover one (a reused pid after a crash). */
    delete_rule(s);
    char *body = rule_body(s, sql);
    cli_resp r;
    int rc = cli__http(s->c, "POST", "/rules", body, &r);
    ek_free(body);
    if (rc != 0) {
        fprintf(s->c->out, "%s\n", CLI_NO_SERVER_MSG);
    } else if (r.status >= 400) {
        cli__print_fail(s->c, NULL, &r, NULL);
    } else {
        fprintf(s->c->out, "Query was submit successfully.\n");
        fflush(s->c->out);
        stream_results(s);
        delete_rule(s);
    }
    cli__resp_free(&r);
}

static void history_open(shell *s)
{
    const char *home = getenv("HOME");
    if (!s->tty || !home || !*home) return;
    snprintf(s->history, sizeof s->history, "%s/.kuiper_history", home);
    using_history();
    stifle_history(1000);
    read_history(s->history);
}

int cli__query_shell(ek_cli *c)
{
    shell s;
    memset(&s, 0, sizeof s);
    s.c = c;
    s.tty = isatty(STDIN_FILENO) && c->out == stdout;
    /* Piped input is read unbuffered, so that poll() on the descriptor sees every line. */
    if (!s.tty) setvbuf(stdin, NULL, _IONBF, 0);
    snprintf(s.rule_id, sizeof s.rule_id, "internal-ekuiper_query_rule_%ld", (long)getpid());
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old); /* no SA_RESTART: poll and read return on Ctrl-C */
    /* Like eKuiper's client, refuse to start without a server rather than fail at the first query. */
    int rc = open_receiver(&s);
    if (rc != EK_CLI_OK) {
        sigaction(SIGINT, &old, NULL);
        return rc;
    }
    rl_catch_signals = 0; /* Ctrl-C is ours (read_tty_line), not libedit's */
    history_open(&s);
    char *line;
    bool eof = true;
    while ((line = read_line(&s)) != NULL) {
        char *sql = trim(line);
        if (strcasecmp(sql, "quit") == 0 || strcasecmp(sql, "exit") == 0) {
            ek_free(line);
            eof = false;
            break;
        }
        if (*sql) {
            if (s.history[0]) {
                add_history(sql);
                write_history(s.history);
            }
            run_query(&s, sql);
        }
        ek_free(line);
    }
    if (eof) fputc('\n', c->out);
    cli__recv_close(s.recv);
    sigaction(SIGINT, &old, NULL);
    return EK_CLI_OK;
}

static int query(ek_cli *c, const cli_cmd *cmd, const cli_args *a)
{
    (void)cmd;
    (void)a;
    return cli__query_shell(c);
}

const cli_cmd cli__query_cmds[] = {
    {.verb = "query", .run = query, .usage = "query"},
    {0},
};
