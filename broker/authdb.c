/* The broker's user database and ban list in SQLite (see authdb.h for who uses it and how).
 *
 * <data dir>/broker_auth.db, WAL mode, a busy timeout so that `kuiperd user` can write while
 * kuiperd reads. Each handle has one connection and one mutex. The three queries every CONNECT
 * makes (has users, user lookup, ban check) are prepared once, on first use, and reset after each
 * run; the others (REST requests, `kuiperd user`) are prepared per call. Expired bans are ignored
 * when checked and deleted when listed. */
#include "broker/authdb.h"
#include "broker/sqlite_open.h"
#include "engine/codec_json.h"
#include "engine/log.h"
#include "engine/mem.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

struct ek_authdb {
    sqlite3 *db;
    pthread_mutex_t mu;
    sqlite3_stmt *has_users, *user_get, *banned; /* the CONNECT queries, prepared on first use */
};

static const char *SCHEMA =
    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
    "CREATE TABLE IF NOT EXISTS users(username TEXT PRIMARY KEY, hash TEXT NOT NULL,"
    " superuser INT NOT NULL DEFAULT 0, created_at INT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS banned(kind TEXT NOT NULL, who TEXT NOT NULL, reason TEXT, by TEXT,"
    " at INT NOT NULL, until INT NOT NULL, PRIMARY KEY(kind, who));";

int ek_authdb_open(const char *data_dir, ek_authdb **out, ek_err *err)
{
    char *path = ek_asprintf("%s/broker_auth.db", data_dir);
    sqlite3 *db = NULL;
    int rc = broker__sqlite_open(path, SQLITE_OPEN_NOMUTEX, 2000, SCHEMA, &db, err);
    ek_free(path);
    if (rc) return rc;
    sqlite3_db_release_memory(db); /* the pages the schema read: a CONNECT reads what it needs */
    ek_authdb *a = ek_calloc(1, sizeof *a);
    a->db = db;
    pthread_mutex_init(&a->mu, NULL);
    *out = a;
    return 0;
}

void ek_authdb_close(ek_authdb *a)
{
    if (!a) return;
    sqlite3_finalize(a->has_users);
    sqlite3_finalize(a->user_get);
    sqlite3_finalize(a->banned);
    sqlite3_close(a->db);
    pthread_mutex_destroy(&a->mu);
    ek_free(a);
}

/* Prepares sql under the lock (taken here, released by done). */
static sqlite3_stmt *begin(ek_authdb *a, const char *sql)
{
    sqlite3_stmt *st = NULL;
    pthread_mutex_lock(&a->mu);
    if (sqlite3_prepare_v2(a->db, sql, -1, &st, NULL) != SQLITE_OK) st = NULL;
    return st;
}

static void done(ek_authdb *a, sqlite3_stmt *st)
{
    sqlite3_finalize(st);
    pthread_mutex_unlock(&a->mu);
}

/* As begin, for a query kept in *slot across calls (released by reuse, not done). */
static sqlite3_stmt *begin_kept(ek_authdb *a, sqlite3_stmt **slot, const char *sql)
{
    pthread_mutex_lock(&a->mu);
    if (!*slot && sqlite3_prepare_v3(a->db, sql, -1, SQLITE_PREPARE_PERSISTENT, slot, NULL) != SQLITE_OK) {
        sqlite3_finalize(*slot);
        *slot = NULL;
    }
    return *slot;
}

static void reuse(ek_authdb *a, sqlite3_stmt *st)
{
    if (st) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
    pthread_mutex_unlock(&a->mu);
}

static int db_error(ek_authdb *a, sqlite3_stmt *st, ek_err *err)
{
    ek_err_set(err, EK_EIO, "broker_auth.db: %s", sqlite3_errmsg(a->db));
    done(a, st);
    return EK_EIO;
}

/* For the checks made at CONNECT, which have no error to return: the reason goes to the log. */
static void warn_db(ek_authdb *a, const char *what)
{
    ek_warn("broker_auth.db: %s: %s", what, sqlite3_errmsg(a->db));
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s) sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else sqlite3_bind_null(st, i);
}

/* ---- users ---- */

int ek_authdb_user_put(ek_authdb *a, const char *name, const char *password, int superuser, uint32_t iterations,
                       bool replace, ek_err *err)
{
    char hash[EK_PASSWD_MAX];
    if (!name || !*name) return ek_err_set(err, EK_EINVAL, "a user needs a non-empty username");
    if (!password) return ek_err_set(err, EK_EINVAL, "user %s: a password is required", name);
    if (ek_passwd_hash(password, strlen(password), iterations, hash))
        return ek_err_set(err, EK_EIO, "user %s: cannot hash the password (libcrypto unavailable or no randomness)", name);
    sqlite3_stmt *st = begin(a, replace ? "UPDATE users SET hash=?2, superuser=IFNULL(?3, superuser) WHERE username=?1"
                                        : "INSERT OR IGNORE INTO users VALUES(?1,?2,?3,?4)");
    if (!st) return db_error(a, st, err);
    bind_text(st, 1, name);
    bind_text(st, 2, hash);
    if (superuser >= 0) sqlite3_bind_int(st, 3, superuser);
    else if (!replace) sqlite3_bind_int(st, 3, 0);
    if (!replace) sqlite3_bind_int64(st, 4, (sqlite3_int64)time(NULL));
    if (sqlite3_step(st) != SQLITE_DONE) return db_error(a, st, err);
    int changed = sqlite3_changes(a->db);
    done(a, st);
    if (changed) return 0;
    return replace ? ek_err_set(err, EK_ENOTFOUND, "user %s is not found", name)
                   : ek_err_set(err, EK_EEXIST, "user %s already exists", name);
}

int ek_authdb_user_del(ek_authdb *a, const char *name, ek_err *err)
{
    sqlite3_stmt *st = begin(a, "DELETE FROM users WHERE username=?");
    if (!st) return db_error(a, st, err);
    bind_text(st, 1, name);
    if (sqlite3_step(st) != SQLITE_DONE) return db_error(a, st, err);
    int changed = sqlite3_changes(a->db);
    done(a, st);
    return changed ? 0 : ek_err_set(err, EK_ENOTFOUND, "user %s is not found", name);
}

/* Runs the query st (prepared by begin) and returns its rows as an array of row(st) objects. */
static int rows(ek_authdb *a, sqlite3_stmt *st, ek_value (*row)(sqlite3_stmt *), ek_value *out, ek_err *err)
{
    if (!st) return db_error(a, st, err);
    *out = ek_array_new(8);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) ek_array_push(out, row(st));
    if (rc != SQLITE_DONE) {
        ek_value_unref(out);
        return db_error(a, st, err);
    }
    done(a, st);
    return 0;
}

static ek_value user_row(sqlite3_stmt *st)
{
    ek_value o = ek_object_new(3);
    ek_object_set(&o, "username", ek_string((const char *)sqlite3_column_text(st, 0)));
    ek_object_set(&o, "is_superuser", ek_bool(sqlite3_column_int(st, 1) != 0));
    ek_object_set(&o, "created_at", ek_int(sqlite3_column_int64(st, 2)));
    return o;
}

int ek_authdb_user_list(ek_authdb *a, ek_value *out, ek_err *err)
{
    return rows(a, begin(a, "SELECT username, superuser, created_at FROM users ORDER BY username"), user_row, out, err);
}

int ek_authdb_user_get(ek_authdb *a, const char *name, char *hash, bool *superuser)
{
    sqlite3_stmt *st = begin_kept(a, &a->user_get, "SELECT hash, superuser FROM users WHERE username=?");
    if (!st) {
        warn_db(a, "cannot look up a user");
        reuse(a, st);
        return EK_EIO;
    }
    bind_text(st, 1, name);
    int rc = sqlite3_step(st), found = 0;
    if (rc == SQLITE_ROW) {
        snprintf(hash, EK_PASSWD_MAX, "%s", (const char *)sqlite3_column_text(st, 0));
        *superuser = sqlite3_column_int(st, 1) != 0;
        found = 1;
    } else if (rc != SQLITE_DONE) {
        warn_db(a, "cannot look up a user");
        found = EK_EIO;
    }
    reuse(a, st);
    return found;
}

bool ek_authdb_has_users(ek_authdb *a)
{
    sqlite3_stmt *st = begin_kept(a, &a->has_users, "SELECT 1 FROM users LIMIT 1");
    int rc = st ? sqlite3_step(st) : SQLITE_ERROR;
    bool any = rc == SQLITE_ROW;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) warn_db(a, "cannot tell whether it holds users");
    reuse(a, st);
    return any;
}

/* ---- bans ---- */

bool ek_authdb_ban_kind_valid(const char *kind)
{
    return kind && (!strcmp(kind, "clientid") || !strcmp(kind, "username") || !strcmp(kind, "peerhost"));
}

int ek_authdb_ban_put(ek_authdb *a, const char *kind, const char *who, const char *reason, const char *by,
                      int64_t at, int64_t until, ek_err *err)
{
    if (!ek_authdb_ban_kind_valid(kind))
        return ek_err_set(err, EK_EINVAL, "\"as\" must be clientid, username or peerhost");
    if (!who || !*who) return ek_err_set(err, EK_EINVAL, "\"who\" must be a non-empty string");
    sqlite3_stmt *st = begin(a, "INSERT OR REPLACE INTO banned VALUES(?,?,?,?,?,?)");
    if (!st) return db_error(a, st, err);
    bind_text(st, 1, kind);
    bind_text(st, 2, who);
    bind_text(st, 3, reason);
    bind_text(st, 4, by);
    sqlite3_bind_int64(st, 5, at);
    sqlite3_bind_int64(st, 6, until);
    if (sqlite3_step(st) != SQLITE_DONE) return db_error(a, st, err);
    done(a, st);
    return 0;
}

int ek_authdb_ban_del(ek_authdb *a, const char *kind, const char *who, ek_err *err)
{
    sqlite3_stmt *st = begin(a, "DELETE FROM banned WHERE kind=? AND who=?");
    if (!st) return db_error(a, st, err);
    bind_text(st, 1, kind);
    bind_text(st, 2, who);
    if (sqlite3_step(st) != SQLITE_DONE) return db_error(a, st, err);
    int changed = sqlite3_changes(a->db);
    done(a, st);
    return changed ? 0 : ek_err_set(err, EK_ENOTFOUND, "no ban of %s %s", kind ? kind : "", who ? who : "");
}

static ek_value rfc3339(int64_t secs)
{
    char buf[40];
    ek_json_format_datetime(secs * 1000000000LL, buf);
    return ek_string(buf);
}

static ek_value text_or_null(sqlite3_stmt *st, int col)
{
    const char *s = (const char *)sqlite3_column_text(st, col);
    return s ? ek_string(s) : ek_null();
}

static ek_value ban_row(sqlite3_stmt *st)
{
    ek_value o = ek_object_new(6);
    ek_object_set(&o, "as", text_or_null(st, 0));
    ek_object_set(&o, "who", text_or_null(st, 1));
    ek_object_set(&o, "reason", text_or_null(st, 2));
    ek_object_set(&o, "by", text_or_null(st, 3));
    ek_object_set(&o, "at", rfc3339(sqlite3_column_int64(st, 4)));
    int64_t until = sqlite3_column_int64(st, 5);
    ek_object_set(&o, "until", until ? rfc3339(until) : ek_null());
    return o;
}

int ek_authdb_ban_list(ek_authdb *a, int64_t now, ek_value *out, ek_err *err)
{
    sqlite3_stmt *st = begin(a, "DELETE FROM banned WHERE until > 0 AND until <= ?");
    if (!st) return db_error(a, st, err);
    sqlite3_bind_int64(st, 1, now);
    sqlite3_step(st);
    done(a, st);
    st = begin(a, "SELECT kind, who, reason, by, at, until FROM banned ORDER BY at, kind, who");
    return rows(a, st, ban_row, out, err);
}

bool ek_authdb_banned(ek_authdb *a, const char *client_id, const char *user, const char *peerhost, int64_t now)
{
    sqlite3_stmt *st = begin_kept(a, &a->banned, "SELECT 1 FROM banned WHERE (until = 0 OR until > ?4) AND"
                                               " ((kind='clientid' AND who=?1) OR (kind='username' AND who=?2)"
                                               " OR (kind='peerhost' AND who=?3)) LIMIT 1");
    if (st) {
        sqlite3_bind_int64(st, 4, now);
        bind_text(st, 1, client_id);
        bind_text(st, 2, user);
        bind_text(st, 3, peerhost);
    }
    int rc = st ? sqlite3_step(st) : SQLITE_ERROR;
    bool hit = rc == SQLITE_ROW;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) warn_db(a, "cannot read the ban list");
    reuse(a, st);
    return hit;
}
