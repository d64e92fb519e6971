/* Argument and configuration parsing for `kuiper`.
 *
 * Flags are described in one table (names, whether they take a value, where the value goes) and
 * may appear anywhere among a command's positional arguments, with one or two dashes and either
 * "-f x" or "-f=x", as eKuiper's urfave/cli accepts them; "--" ends the flags. Errors use the Go
 * flag package's words so that scripts written against eKuiper see the same text.
 *
 * The server address comes from defaults, etc/client.yaml (basic.host, basic.port, as eKuiper's
 * client reads it), the environment, then the command line, each overriding the one before. */
#include "cli/cli_int.h"
#include "engine/config.h"
#include "engine/err.h"
#include "engine/mem.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct flag_def {
    const char *short_name, *long_name;
    unsigned bit;
    size_t slot;                 /* offsetof the value pointer in cli_args; 0 for switches */
} flag_def;

#define SLOT(field) offsetof(cli_args, field)

static const flag_def flags[] = {
    {"f", "file", CLI_F_FILE, SLOT(file)},
    {"zf", "zipfile", CLI_F_ZIP, SLOT(zipfile)},
    {"json", "json", CLI_F_JSON, 0},
    {"s", "stop", CLI_F_STOP, SLOT(stop)},
    {"p", "partial", CLI_F_PARTIAL, SLOT(partial)},
    {"r", "rules", CLI_F_RULES, SLOT(rules)},
    {"h", "help", CLI_F_HELP, 0},
};

static const flag_def *find_flag(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        const flag_def *f = &flags[i];
        if ((strlen(f->short_name) == len && strncmp(f->short_name, name, len) == 0) ||
            (strlen(f->long_name) == len && strncmp(f->long_name, name, len) == 0))
            return f;
    }
    return NULL;
}

/* A word is a flag when it starts with '-' and has a letter after the dashes. */
static bool is_flag(const char *s)
{
    if (s[0] != '-') return false;
    const char *p = s + 1 + (s[1] == '-');
    return (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z');
}

int cli__parse_args(int argc, char **argv, unsigned allowed, cli_args *a, char *msg, size_t msgsz)
{
    memset(a, 0, sizeof *a);
    allowed |= CLI_F_HELP;
    bool flags_done = false;
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i];
        if (!flags_done && strcmp(s, "--") == 0) {
            flags_done = true;
            continue;
        }
        if (flags_done || !is_flag(s)) {
            if (a->npos == CLI_MAX_POS) {
                snprintf(msg, msgsz, "too many arguments");
                return -1;
            }
            a->pos[a->npos++] = s;
            continue;
        }
        const char *name = s + 1 + (s[1] == '-');
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const flag_def *f = find_flag(name, len);
        if (!f || !(f->bit & allowed)) {
            snprintf(msg, msgsz, "flag provided but not defined: -%.*s", (int)len, name);
            return -1;
        }
        a->seen |= f->bit;
        if (!f->slot) {
            if (eq) {
                snprintf(msg, msgsz, "invalid boolean flag %.*s: %s", (int)len, name, eq + 1);
                return -1;
            }
            continue;
        }
        const char *value = eq ? eq + 1 : NULL;
        if (!value) {
            if (i + 1 >= argc) {
                snprintf(msg, msgsz, "flag needs an argument: -%.*s", (int)len, name);
                return -1;
            }
            value = argv[++i];
        }
        *(const char **)((char *)a + f->slot) = value;
    }
    return 0;
}

/* Parses a TCP port; false unless 1..65535. */
static bool parse_port(const char *s, int *port)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 1 || v > 65535) return false;
    *port = (int)v;
    return true;
}

/* The etc directory next to the binary (<bin>/../etc), as eKuiper's "relative" load type finds it. */
static bool exe_etc(char *out, size_t sz)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return false;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash) return false;
    *slash = '\0';
    int n2 = snprintf(out, sz, "%.*s/../etc", (int)(sz > 16 ? sz - 16 : 0), exe);
    return n2 > 0 && (size_t)n2 < sz;
}

/* Finds client.yaml: in c->etc_dir when given, else next to the binary, else ./etc. */
static bool find_client_yaml(const ek_cli *c, char *path, size_t sz)
{
    char dir[PATH_MAX];
    if (c->etc_dir[0]) {
        snprintf(path, sz, "%s/client.yaml", c->etc_dir);
        return access(path, F_OK) == 0;
    }
    if (exe_etc(dir, sizeof dir)) {
        snprintf(path, sz, "%s/client.yaml", dir);
        if (access(path, F_OK) == 0) return true;
    }
    snprintf(path, sz, "etc/client.yaml");
    return access(path, F_OK) == 0;
}

static int load_client_yaml(ek_cli *c, char *msg, size_t msgsz)
{
    char path[PATH_MAX + 16];
    if (!find_client_yaml(c, path, sizeof path)) return 0;
    ek_value tree = ek_null();
    ek_err err = {0};
    if (ek_yaml_load(path, &tree, &err) != 0) {
        snprintf(msg, msgsz, "Failed to load config file with error %s.", err.msg);
        return -1;
    }
    int rc = 0;
    const ek_value *basic = tree.type == EK_T_OBJECT ? ek_object_get_ci(&tree, "basic") : NULL;
    if (basic && basic->type == EK_T_OBJECT) {
        const ek_value *host = ek_object_get_ci(basic, "host");
        const ek_value *port = ek_object_get_ci(basic, "port");
        if (host && host->type == EK_T_STRING && ek_str_len(host) > 0)
            snprintf(c->host, sizeof c->host, "%s", ek_str_ptr(host));
        if (port && port->type == EK_T_INT && port->i >= 1 && port->i <= 65535) {
            c->port = (int)port->i;
        } else if (port && !(port->type == EK_T_STRING && parse_port(ek_str_ptr(port), &c->port))) {
            snprintf(msg, msgsz, "%s: basic.port: expected a port number", path);
            rc = -1;
        }
    }
    ek_value_unref(&tree);
    return rc;
}

int cli__resolve_server(ek_cli *c, const char *flag_host, const char *flag_port, char *msg, size_t msgsz)
{
    snprintf(c->host, sizeof c->host, "%s", CLI_DEFAULT_HOST);
    c->port = CLI_DEFAULT_PORT;
    if (load_client_yaml(c, msg, msgsz) != 0) return -1;
    const char *env_host = getenv("KUIPER_HOST");
    const char *env_port = getenv("KUIPER_PORT");
    if (env_host && *env_host) snprintf(c->host, sizeof c->host, "%s", env_host);
    if (env_port && *env_port && !parse_port(env_port, &c->port)) {
        snprintf(msg, msgsz, "KUIPER_PORT: invalid port \"%s\"", env_port);
        return -1;
    }
    if (flag_host) snprintf(c->host, sizeof c->host, "%s", flag_host);
    if (flag_port && !parse_port(flag_port, &c->port)) {
        snprintf(msg, msgsz, "--port: invalid port \"%s\"", flag_port);
        return -1;
    }
    return 0;
}

int cli__read_file(const char *path, ek_buf *out)
{
    int rc = ek_buf_read_file(out, path, 0);
    if (!out->data) ek_buf_puts(out, "");
    return rc;
}
