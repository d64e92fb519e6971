/* SQLite key-value store (see store.h). Namespaces map to tables named kv_<ns>; a namespace name
 * is restricted to [A-Za-z0-9_] so it can be spliced into SQL safely. Statements are prepared per
 * call: the store is used for definitions and checkpoints, not on the per-message path. */
#include "engine/store.h"
#include "engine/mem.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

struct ek_store {
    sqlite3 *db;
    pthread_mutex_t mu;
    int lock_fd;
    char *path;
};

static int db_error(ek_store *s, int rc, ek_err *err, const char *what)
{
    if (rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT)
        return ek_err_set(err, EK_EIO, "%s is not a valid SQLite database (corrupt?): %s", s->path,
                          sqlite3_errmsg(s->db));
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
        return ek_err_set(err, EK_EBUSY, "%s is locked by another process", s->path);
    return ek_err_set(err, EK_EIO, "%s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
}

static int check_ns(const char *ns, ek_err *err)
{
    if (!*ns || strlen(ns) > 64) return ek_err_set(err, EK_EINVAL, "invalid store namespace \"%s\"", ns);
    for (const char *p = ns; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_')
            return ek_err_set(err, EK_EINVAL, "invalid store namespace \"%s\"", ns);
    return 0;
}

static pthread_once_t sqlite_once = PTHREAD_ONCE_INIT;

static void sqlite_setup(void)
{
    /* By default each connection allocates SQLITE_DEFAULT_PCACHE_INITSZ (20) pages of cache in
     * one block and touches them all; kuiperd keeps three connections open (this store, broker.db,
     * broker_auth.db) that read a few pages each while idle (bench/RESULTS.md, "Idle memory").
     * Without the block a page is allocated when first used; cache_size, the limit, is unchanged.
     * SQLITE_MISUSE when SQLite was initialised already: then nothing changes. */
    sqlite3_config(SQLITE_CONFIG_PAGECACHE, NULL, 0, 0);
}

void ek_store_sqlite_setup(void)
{
    pthread_once(&sqlite_once, sqlite_setup);
}

int ek_store_open(const char *path, ek_store **out, ek_err *err)
{
    ek_store_sqlite_setup();
    char *lockpath = ek_asprintf("%s.lock", path);
    int fd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        ek_err_set(err, EK_EIO, "cannot create %s: %s", lockpath, strerror(errno));
        ek_free(lockpath);
        return EK_EIO;
    }
    ek_free(lockpath);
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);
        return ek_err_set(err, EK_EBUSY,
                          "%s is in use by another process (is another kuiperd running with this data directory?)",
                          path);
    }
    ek_store *s = ek_calloc(1, sizeof *s);
    s->lock_fd = fd;
    s->path = ek_strdup(path);
    pthread_mutex_init(&s->mu, NULL);
    int rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_busy_timeout(s->db, 2000);
    /* The first statement reads the header: a corrupt file fails here. */
    if (rc == SQLITE_OK) rc = sqlite3_exec(s->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL, NULL, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_exec(s->db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        int code = db_error(s, rc, err, "cannot open");
        ek_store_close(s);
        return code;
    }
    *out = s;
    return 0;
}

void ek_store_close(ek_store *s)
{
    if (!s) return;
    if (s->db) sqlite3_close(s->db);
    if (s->lock_fd >= 0) close(s->lock_fd);
    pthread_mutex_destroy(&s->mu);
    ek_free(s->path);
    ek_free(s);
}

/* Prepares `before kv_<ns> after`, creating the namespace table if needed. */
static int prepare(ek_store *s, const char *ns, const char *before, const char *after, sqlite3_stmt **st,
                   ek_err *err)
{
    if (check_ns(ns, err)) return EK_EINVAL;
    char create[160];
    snprintf(create, sizeof create, "CREATE TABLE IF NOT EXISTS kv_%s (key TEXT PRIMARY KEY, val BLOB)", ns);
    int rc = sqlite3_exec(s->db, create, NULL, NULL, NULL);
    if (rc != SQLITE_OK) return db_error(s, rc, err, "create namespace");
    char sql[256];
    snprintf(sql, sizeof sql, "%skv_%s%s", before, ns, after);
    rc = sqlite3_prepare_v2(s->db, sql, -1, st, NULL);
    if (rc != SQLITE_OK) return db_error(s, rc, err, "prepare");
    return 0;
}

int ek_store_set(ek_store *s, const char *ns, const char *key, const void *val, size_t len, ek_err *err)
{
    sqlite3_stmt *st = NULL;
    pthread_mutex_lock(&s->mu);
    int rc = prepare(s, ns, "INSERT OR REPLACE INTO ", " (key, val) VALUES (?1, ?2)", &st, err);
    if (!rc) {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 2, val, (int)len, SQLITE_STATIC);
        int r = sqlite3_step(st);
        if (r != SQLITE_DONE) rc = db_error(s, r, err, "write");
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int ek_store_get(ek_store *s, const char *ns, const char *key, char **val, size_t *len, ek_err *err)
{
    sqlite3_stmt *st = NULL;
    pthread_mutex_lock(&s->mu);
    int rc = prepare(s, ns, "SELECT val FROM ", " WHERE key = ?1", &st, err);
    if (!rc) {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        int r = sqlite3_step(st);
        if (r == SQLITE_ROW) {
            size_t n = (size_t)sqlite3_column_bytes(st, 0);
            *val = ek_strndup(n ? sqlite3_column_blob(st, 0) : "", n);
            if (len) *len = n;
        } else if (r == SQLITE_DONE) {
            rc = ek_err_set(err, EK_ENOTFOUND, "%s %s not found", ns, key);
        } else {
            rc = db_error(s, r, err, "read");
        }
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int ek_store_delete(ek_store *s, const char *ns, const char *key, ek_err *err)
{
    sqlite3_stmt *st = NULL;
    pthread_mutex_lock(&s->mu);
    int rc = prepare(s, ns, "DELETE FROM ", " WHERE key = ?1", &st, err);
    if (!rc) {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        int r = sqlite3_step(st);
        if (r != SQLITE_DONE) rc = db_error(s, r, err, "delete");
        else if (sqlite3_changes(s->db) == 0) rc = ek_err_set(err, EK_ENOTFOUND, "%s %s not found", ns, key);
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int ek_store_foreach(ek_store *s, const char *ns,
                     int (*fn)(const char *key, const char *val, size_t len, void *arg), void *arg, ek_err *err)
{
    sqlite3_stmt *st = NULL;
    pthread_mutex_lock(&s->mu);
    int rc = prepare(s, ns, "SELECT key, val FROM ", " ORDER BY key", &st, err);
    while (!rc) {
        int r = sqlite3_step(st);
        if (r == SQLITE_DONE) break;
        if (r != SQLITE_ROW) {
            rc = db_error(s, r, err, "read");
            break;
        }
        size_t n = (size_t)sqlite3_column_bytes(st, 1);
        char *val = ek_strndup(n ? sqlite3_column_blob(st, 1) : "", n);
        int stop = fn((const char *)sqlite3_column_text(st, 0), val, n, arg);
        ek_free(val);
        if (stop) break;
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int ek_store_clear(ek_store *s, const char *ns, ek_err *err)
{
    sqlite3_stmt *st = NULL;
    pthread_mutex_lock(&s->mu);
    int rc = prepare(s, ns, "DELETE FROM ", "", &st, err);
    if (!rc && sqlite3_step(st) != SQLITE_DONE) rc = db_error(s, SQLITE_ERROR, err, "clear");
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

void ek_store_release_memory(ek_store *s)
{
    if (!s) return;
    pthread_mutex_lock(&s->mu);
    sqlite3_db_release_memory(s->db);
    pthread_mutex_unlock(&s->mu);
}
