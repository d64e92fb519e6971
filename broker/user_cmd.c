/* `kuiperd user ...`: manages the broker's user database (<data>/broker_auth.db) from the shell,
 * as mosquitto_passwd does for Mosquitto, whether or not kuiperd is running (a running broker
 * sees the change at the user's next CONNECT).
 *
 *   kuiperd [--data DIR] user add NAME [--password P] [--superuser]
 *   kuiperd [--data DIR] user passwd NAME [--password P] [--superuser]
 *   kuiperd [--data DIR] user del NAME
 *   kuiperd [--data DIR] user list
 *   kuiperd user hash [--password P]      (prints a passwordPbkdf2 value for etc/kuiper.yaml)
 *
 * Without --password the password is asked twice on a terminal, or read as one line from standard
 * input otherwise (for scripts). Exit status 0, 1 on failure, 2 on bad usage. */
#include "broker/authdb.h"
#include "engine/mem.h"

#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static const char *USAGE =
    "Usage: kuiperd [--data DIR] user add NAME [--password P] [--superuser]\n"
    "       kuiperd [--data DIR] user passwd NAME [--password P] [--superuser]\n"
    "       kuiperd [--data DIR] user del NAME\n"
    "       kuiperd [--data DIR] user list\n"
    "       kuiperd user hash [--password P]\n";

/* Reads one line from stdin into buf without echo when it is a terminal. */
static bool read_line(const char *prompt, char *buf, size_t cap)
{
    bool tty = isatty(0);
    struct termios old, quiet;
    if (tty) {
        fprintf(stderr, "%s", prompt);
        tcgetattr(0, &old);
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(0, TCSAFLUSH, &quiet);
    }
    bool ok = fgets(buf, (int)cap, stdin) != NULL;
    if (tty) {
        tcsetattr(0, TCSAFLUSH, &old);
        fprintf(stderr, "\n");
    }
    if (ok) buf[strcspn(buf, "\r\n")] = 0;
    return ok && *buf;
}

/* Asks for the password; false, with the reason on stderr, when none was given. */
static bool ask_password(char *pw, size_t cap)
{
    char again[256];
    if (!read_line("Password: ", pw, cap)) {
        fprintf(stderr, "kuiperd user: no password given\n");
        return false;
    }
    if (!isatty(0)) return true;
    if (!read_line("Reenter password: ", again, sizeof again) || strcmp(pw, again) != 0) {
        fprintf(stderr, "kuiperd user: the passwords do not match\n");
        return false;
    }
    return true;
}

static void print_users(const ek_value *list)
{
    for (size_t i = 0; i < ek_array_len(list); i++) {
        const ek_value *u = ek_array_get(list, i);
        printf("%s%s\n", ek_str_ptr(ek_object_get(u, "username")),
               ek_object_get(u, "is_superuser")->b ? " (superuser)" : "");
    }
}

static int run(ek_authdb *db, const char *verb, const char *name, const char *pw, int super, uint32_t iterations)
{
    ek_err err = {0};
    int rc = 0;
    if (!strcmp(verb, "add") || !strcmp(verb, "passwd")) {
        rc = ek_authdb_user_put(db, name, pw, super, iterations, verb[0] == 'p', &err);
    } else if (!strcmp(verb, "del")) {
        rc = ek_authdb_user_del(db, name, &err);
    } else {
        ek_value list;
        rc = ek_authdb_user_list(db, &list, &err);
        if (!rc) print_users(&list);
        if (!rc) ek_value_unref(&list);
    }
    if (rc) fprintf(stderr, "kuiperd user %s: %s\n", verb, err.msg);
    return rc ? 1 : 0;
}

int ek_broker_user_cmd(int argc, char **argv, const char *data_dir, uint32_t iterations)
{
    const char *verb = argc > 0 ? argv[0] : "", *name = NULL, *pw = NULL;
    int super = -1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--password") && i + 1 < argc) pw = argv[++i];
        else if (!strncmp(argv[i], "--password=", 11)) pw = argv[i] + 11;
        else if (!strcmp(argv[i], "--superuser")) super = 1;
        else if (argv[i][0] != '-' && !name) name = argv[i];
        else return fprintf(stderr, "kuiperd user: unknown argument \"%s\"\n%s", argv[i], USAGE), 2;
    }
    bool needs_name = strcmp(verb, "list") && strcmp(verb, "hash");
    bool known = !strcmp(verb, "add") || !strcmp(verb, "passwd") || !strcmp(verb, "del") || !needs_name;
    if (!known || (needs_name && !name)) return fprintf(stderr, "%s", USAGE), 2;
    char buf[256];
    bool wants_pw = !strcmp(verb, "add") || !strcmp(verb, "passwd") || !strcmp(verb, "hash");
    if (wants_pw && !pw) {
        if (!ask_password(buf, sizeof buf)) return 1;
        pw = buf;
    }
    if (!strcmp(verb, "hash")) {
        char hash[EK_PASSWD_MAX];
        if (ek_passwd_hash(pw, strlen(pw), iterations, hash))
            return fprintf(stderr, "kuiperd user hash: cannot hash the password (libcrypto unavailable or no randomness)\n"), 1;
        printf("%s\n", hash);
        return 0;
    }
    ek_authdb *db = NULL;
    ek_err err = {0};
    if (ek_authdb_open(data_dir, &db, &err)) return fprintf(stderr, "kuiperd user: %s\n", err.msg), 1;
    int rc = run(db, verb, name, pw, super, iterations);
    ek_authdb_close(db);
    return rc;
}
