/* Durability across restarts: retained messages and persistent sessions (subscriptions, queued
 * and in-flight messages, inbound QoS 2 ids) in SQLite, <data dir>/broker.db, WAL mode.
 *
 * The reactor thread only appends to the WAL (synchronous=NORMAL: no fsync at commit, and no
 * automatic checkpoint); a checkpointer thread with its own connection folds the WAL into the
 * database every 2 seconds, so the fsync a checkpoint needs never stalls a client. That thread
 * starts with the first flush that changes the database: a broker that keeps nothing (no retained
 * message, no persistent session) runs no checkpointer and opens no second connection. What the
 * start itself wrote (the schema of a new file, a WAL left by a crash) is folded once at the end
 * of loading, before the reactor runs.
 *
 * Writes are batched: retained changes are appended to a pending list and sessions are marked
 * dirty; every persistInterval seconds (and at stop) one transaction writes the pending retained
 * changes and rewrites each dirty session with a non-zero expiry. A crash therefore loses at most
 * the last interval; a clean stop (SIGTERM) loses nothing. Loading happens once at start, before
 * the reactor runs. Will messages waiting for their delay are not kept across a restart.
 * Delayed messages (delayed.c, table `delayed`) are written in the same transaction. */
#include "broker/broker_int.h"
#include "broker/sqlite_open.h"
#include "engine/mem.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

typedef struct pend {
    broker__msg *m;
    bool del;
} pend;

typedef struct stmts {
    sqlite3_stmt *ret_put, *ret_del, *ses_put, *ses_del, *sub_put, *sub_del, *msg_put, *msg_del;
    sqlite3_stmt *rel_put, *rel_del;
    pend *pending;
    size_t npend, cappend;
    char **dels; /* ids of persisted sessions that ended since the last flush */
    size_t ndel, capdel;
    /* The checkpointer: its own connection on its own thread, so the fsync of a WAL checkpoint
     * never stalls the reactor (the reactor's connection has wal_autocheckpoint=0). */
    char *path;
    pthread_t thr;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop, started;
} stmts;

static const char *SCHEMA =
    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=0;"
    "CREATE TABLE IF NOT EXISTS retained(topic TEXT PRIMARY KEY, qos INT, props BLOB, payload BLOB, expire_at INT);"
    "CREATE TABLE IF NOT EXISTS sessions(id TEXT PRIMARY KEY, version INT, expiry INT, expire_at INT);"
    "CREATE TABLE IF NOT EXISTS subs(session TEXT, filter TEXT, opts INT, qos INT, subid INT);"
    "CREATE INDEX IF NOT EXISTS subs_session ON subs(session);"
    "CREATE TABLE IF NOT EXISTS msgs(session TEXT, seq INT, topic TEXT, qos INT, retain INT, props BLOB,"
    " payload BLOB, expire_at INT, mid INT, state INT, subid INT);"
    "CREATE INDEX IF NOT EXISTS msgs_session ON msgs(session);"
    "CREATE TABLE IF NOT EXISTS rel(session TEXT, mid INT);"
    "CREATE INDEX IF NOT EXISTS rel_session ON rel(session);";

static void *checkpointer(void *arg)
{
    stmts *st = arg;
    sqlite3 *db = NULL;
    pthread_setname_np(pthread_self(), "ek-checkpoint");
    if (sqlite3_open(st->path, &db) != SQLITE_OK) {
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 1000);
    pthread_mutex_lock(&st->mu);
    while (!st->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 2;
        pthread_cond_timedwait(&st->cv, &st->mu, &ts);
        if (st->stop) break;
        pthread_mutex_unlock(&st->mu);
        sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        pthread_mutex_lock(&st->mu);
    }
    pthread_mutex_unlock(&st->mu);
    sqlite3_close(db);
    return NULL;
}

int broker__persist_open(ek_broker *b, const char *dir, ek_err *err)
{
    char *path = ek_asprintf("%s/broker.db", dir);
    sqlite3 *db = NULL;
    int rc = broker__sqlite_open(path, 0, 0, SCHEMA, &db, err);
    if (rc) {
        ek_free(path);
        return rc;
    }
    stmts *st = ek_calloc(1, sizeof *st);
    st->path = path;
    pthread_mutex_init(&st->mu, NULL);
    pthread_cond_init(&st->cv, NULL);
    sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO retained VALUES(?,?,?,?,?)", -1, &st->ret_put, NULL);
    sqlite3_prepare_v2(db, "DELETE FROM retained WHERE topic=?", -1, &st->ret_del, NULL);
    sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO sessions VALUES(?,?,?,?)", -1, &st->ses_put, NULL);
    sqlite3_prepare_v2(db, "DELETE FROM sessions WHERE id=?", -1, &st->ses_del, NULL);
    sqlite3_prepare_v2(db, "INSERT INTO subs VALUES(?,?,?,?,?)", -1, &st->sub_put, NULL);
    sqlite3_prepare_v2(db, "DELETE FROM subs WHERE session=?", -1, &st->sub_del, NULL);
    sqlite3_prepare_v2(db, "INSERT INTO msgs VALUES(?,?,?,?,?,?,?,?,?,?,?)", -1, &st->msg_put, NULL);
    sqlite3_prepare_v2(db, "DELETE FROM msgs WHERE session=?", -1, &st->msg_del, NULL);
    sqlite3_prepare_v2(db, "INSERT INTO rel VALUES(?,?)", -1, &st->rel_put, NULL);
    sqlite3_prepare_v2(db, "DELETE FROM rel WHERE session=?", -1, &st->rel_del, NULL);
    b->db = db;
    b->db_stmts = st;
    return 0;
}

static void step(sqlite3_stmt *s)
{
    sqlite3_step(s);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
}

void broker__persist_retained(ek_broker *b, broker__msg *m, bool del)
{
    stmts *st = b->db_stmts;
    if (!st) return;
    if (st->npend == st->cappend) {
        st->cappend = st->cappend ? st->cappend * 2 : 64;
        st->pending = ek_realloc(st->pending, st->cappend * sizeof *st->pending);
    }
    st->pending[st->npend++] = (pend){ek_broker_msg_ref(m), del};
}

static void write_msg(stmts *st, const char *sid, int seq, const broker__qent *e)
{
    sqlite3_stmt *q = st->msg_put;
    broker__msg *m = e->m;
    sqlite3_bind_text(q, 1, sid, -1, SQLITE_STATIC);
    sqlite3_bind_int(q, 2, seq);
    if (m) {
        sqlite3_bind_text(q, 3, m->topic, m->topic_len, SQLITE_STATIC);
        sqlite3_bind_blob(q, 6, m->props, (int)m->props_len, SQLITE_STATIC);
        sqlite3_bind_blob(q, 7, m->payload, (int)m->len, SQLITE_STATIC);
        sqlite3_bind_int64(q, 8, m->has_expiry ? m->expire_at : 0);
    }
    sqlite3_bind_int(q, 4, e->qos);
    sqlite3_bind_int(q, 5, e->retain);
    sqlite3_bind_int(q, 9, e->mid);
    sqlite3_bind_int(q, 10, e->state);
    sqlite3_bind_int64(q, 11, e->nsub ? e->subid[0] : 0);
    step(q);
}

static void del_rows(stmts *st, const char *id)
{
    sqlite3_stmt *d[] = {st->ses_del, st->sub_del, st->msg_del, st->rel_del};
    for (int i = 0; i < 4; i++) {
        sqlite3_bind_text(d[i], 1, id, -1, SQLITE_STATIC);
        step(d[i]);
    }
}

void broker__persist_session(ek_broker *b, broker__session *s)
{
    stmts *st = b->db_stmts;
    s->dirty = false;
    if (!st) return;
    if (s->persisted) del_rows(st, s->id);
    s->persisted = false;
    if (s->expiry == 0) return;
    s->persisted = true;
    int64_t exp = s->expiry == UINT32_MAX ? 0 : s->conn ? ek_now_ms() + (int64_t)s->expiry * 1000 : s->expire_at;
    sqlite3_bind_text(st->ses_put, 1, s->id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st->ses_put, 2, s->version);
    sqlite3_bind_int64(st->ses_put, 3, s->expiry);
    sqlite3_bind_int64(st->ses_put, 4, exp);
    step(st->ses_put);
    for (size_t i = 0; i < s->nsubs; i++) {
        broker__sub *sub = s->subs[i];
        if (broker__is_exclusive(sub->filter)) continue; /* lasts as long as the connection */
        sqlite3_bind_text(st->sub_put, 1, s->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st->sub_put, 2, sub->filter, -1, SQLITE_STATIC);
        sqlite3_bind_int(st->sub_put, 3, sub->opts);
        sqlite3_bind_int(st->sub_put, 4, sub->qos);
        sqlite3_bind_int64(st->sub_put, 5, sub->subid);
        step(st->sub_put);
    }
    int seq = 0;
    for (uint16_t i = 0; s->infl && i < s->infl_cap; i++)
        if (s->infl[i].state) write_msg(st, s->id, seq++, &s->infl[i]);
    for (size_t i = 0; i < s->qlen; i++) write_msg(st, s->id, seq++, &s->q[(s->qhead + i) % s->qcap]);
    for (uint16_t i = 0; i < s->nrel; i++) {
        sqlite3_bind_text(st->rel_put, 1, s->id, -1, SQLITE_STATIC);
        sqlite3_bind_int(st->rel_put, 2, s->rel[i]);
        step(st->rel_put);
    }
}

void broker__persist_session_del(ek_broker *b, const char *id)
{
    stmts *st = b->db_stmts;
    if (!st) return;
    /* Deleted with the next flush, in its transaction: no database work on the CONNECT path. */
    if (st->ndel == st->capdel) {
        st->capdel = st->capdel ? st->capdel * 2 : 16;
        st->dels = ek_realloc(st->dels, st->capdel * sizeof *st->dels);
    }
    st->dels[st->ndel++] = ek_strdup(id);
}

void broker__persist_flush(ek_broker *b)
{
    stmts *st = b->db_stmts;
    if (!st) return;
    sqlite3_int64 changes = sqlite3_total_changes64(b->db);
    sqlite3_exec(b->db, "BEGIN", NULL, NULL, NULL);
    for (size_t i = 0; i < st->ndel; i++) {
        del_rows(st, st->dels[i]);
        ek_free(st->dels[i]);
    }
    st->ndel = 0;
    for (size_t i = 0; i < st->npend; i++) {
        broker__msg *m = st->pending[i].m;
        if (st->pending[i].del) {
            sqlite3_bind_text(st->ret_del, 1, m->topic, m->topic_len, SQLITE_STATIC);
            step(st->ret_del);
        } else {
            sqlite3_stmt *q = st->ret_put;
            sqlite3_bind_text(q, 1, m->topic, m->topic_len, SQLITE_STATIC);
            sqlite3_bind_int(q, 2, m->qos);
            sqlite3_bind_blob(q, 3, m->props, (int)m->props_len, SQLITE_STATIC);
            sqlite3_bind_blob(q, 4, m->payload, (int)m->len, SQLITE_STATIC);
            sqlite3_bind_int64(q, 5, m->has_expiry ? m->expire_at : 0);
            step(q);
        }
        ek_broker_msg_unref(m);
    }
    st->npend = 0;
    for (size_t i = 0; i < b->sessions.cap; i++) {
        broker__session *s = b->sessions.e[i].h ? b->sessions.e[i].val : NULL;
        if (s && s->dirty) broker__persist_session(b, s);
    }
    broker__delayed_persist_flush(b);
    sqlite3_exec(b->db, "COMMIT", NULL, NULL, NULL);
    /* The WAL grew: from now on the checkpointer folds it (tried again at the next change if the
     * thread could not start). */
    if (!st->started && sqlite3_total_changes64(b->db) != changes)
        st->started = pthread_create(&st->thr, NULL, checkpointer, st) == 0;
}

static broker__msg *row_msg(sqlite3_stmt *q, int ct, int cq, int cr, int cp, int cpl, int ce)
{
    const char *topic = (const char *)sqlite3_column_text(q, ct);
    if (!topic) return NULL;
    broker__msg *m = broker__msg_new(topic, strlen(topic), sqlite3_column_blob(q, cpl),
                                     (size_t)sqlite3_column_bytes(q, cpl), sqlite3_column_blob(q, cp),
                                     (size_t)sqlite3_column_bytes(q, cp), (uint8_t)sqlite3_column_int(q, cq),
                                     cr >= 0 ? sqlite3_column_int(q, cr) : true);
    int64_t exp = sqlite3_column_int64(q, ce);
    if (exp) {
        m->has_expiry = true;
        m->expire_at = exp;
    }
    return m;
}

static void load_sessions(ek_broker *b, sqlite3 *db, int64_t now)
{
    sqlite3_stmt *q;
    sqlite3_prepare_v2(db, "SELECT id, version, expiry, expire_at FROM sessions", -1, &q, NULL);
    while (sqlite3_step(q) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(q, 0);
        int64_t exp = sqlite3_column_int64(q, 3);
        if (!id || (exp && exp <= now)) continue;
        broker__session *s = broker__session_new(b, id, strlen(id));
        s->version = (uint8_t)sqlite3_column_int(q, 1);
        s->expiry = (uint32_t)sqlite3_column_int64(q, 2);
        s->expire_at = exp;
        s->persisted = true;
        broker__session_set_window(s, b->cfg.max_inflight);
        if (exp) broker__timer_arm(b, &s->expiry_timer, ek_mono_ms() + (exp - now));
    }
    sqlite3_finalize(q);
    sqlite3_prepare_v2(db, "SELECT session, filter, opts, qos, subid FROM subs", -1, &q, NULL);
    while (sqlite3_step(q) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(q, 0);
        const char *filter = (const char *)sqlite3_column_text(q, 1);
        broker__session *s = id ? broker__map_get(&b->sessions, id, strlen(id)) : NULL;
        if (!s || !filter || broker__is_exclusive(filter)) continue;
        broker__sub *sub = ek_calloc(1, sizeof *sub);
        sub->s = s;
        sub->filter = ek_strdup(filter);
        if (!broker__share_split(filter, &sub->group)) {
            ek_free(sub->filter);
            ek_free(sub);
            continue;
        }
        sub->opts = (uint8_t)sqlite3_column_int(q, 2);
        sub->qos = (uint8_t)sqlite3_column_int(q, 3);
        sub->subid = (uint32_t)sqlite3_column_int64(q, 4);
        bool existed;
        sub = broker__tree_add(b, sub, &existed);
        if (!existed) broker__session_add_sub(s, sub);
    }
    sqlite3_finalize(q);
    sqlite3_prepare_v2(db, "SELECT session, topic, qos, retain, props, payload, expire_at, mid, state, subid"
                           " FROM msgs ORDER BY session, seq", -1, &q, NULL);
    while (sqlite3_step(q) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(q, 0);
        broker__session *s = id ? broker__map_get(&b->sessions, id, strlen(id)) : NULL;
        if (!s) continue;
        broker__qent e = {.qos = (uint8_t)sqlite3_column_int(q, 2), .retain = sqlite3_column_int(q, 3)};
        e.m = row_msg(q, 1, 2, 3, 4, 5, 6);
        e.mid = (uint16_t)sqlite3_column_int(q, 7);
        e.state = (uint8_t)sqlite3_column_int(q, 8);
        e.subid[0] = (uint32_t)sqlite3_column_int64(q, 9);
        e.nsub = e.subid[0] ? 1 : 0;
        if (e.state && s->ninfl < s->infl_cap) {
            broker__session_infl_alloc(s);
            s->infl[s->ninfl++] = e;
            if (e.mid >= s->next_mid) s->next_mid = (uint16_t)(e.mid + 1 ? e.mid + 1 : 1);
        } else if (e.m) {
            e.state = 0;
            broker__session_deliver(s, e.m, e.qos, e.retain, e.subid, e.nsub);
            ek_broker_msg_unref(e.m);
        }
    }
    sqlite3_finalize(q);
    sqlite3_prepare_v2(db, "SELECT session, mid FROM rel", -1, &q, NULL);
    while (sqlite3_step(q) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(q, 0);
        broker__session *s = id ? broker__map_get(&b->sessions, id, strlen(id)) : NULL;
        if (s) broker__session_rel_add(s, (uint16_t)sqlite3_column_int(q, 1));
    }
    sqlite3_finalize(q);
}

void broker__persist_load(ek_broker *b)
{
    sqlite3 *db = b->db;
    if (!db) return;
    void *st = b->db_stmts;
    b->db_stmts = NULL; /* loading must not queue writes of what it reads */
    int64_t now = ek_now_ms();
    sqlite3_stmt *q;
    sqlite3_prepare_v2(db, "SELECT topic, qos, props, payload, expire_at FROM retained", -1, &q, NULL);
    while (sqlite3_step(q) == SQLITE_ROW) {
        broker__msg *m = row_msg(q, 0, 1, -1, 2, 3, 4);
        if (m && !(m->has_expiry && m->expire_at <= now)) broker__retain_set(b, m);
        ek_broker_msg_unref(m);
    }
    sqlite3_finalize(q);
    load_sessions(b, db, now);
    broker__delayed_load(b);
    b->db_stmts = st;
    /* The checkpointer starts only with the first change (broker__persist_flush): what is in the
     * WAL now (a new file's schema, the tail a crash left) is folded here, once. */
    sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    sqlite3_db_release_memory(db); /* the pages loading read: the next flush reads what it needs */
}

void broker__persist_close(ek_broker *b)
{
    stmts *st = b->db_stmts;
    if (!st) return;
    if (st->started) {
        pthread_mutex_lock(&st->mu);
        st->stop = true;
        pthread_cond_signal(&st->cv);
        pthread_mutex_unlock(&st->mu);
        pthread_join(st->thr, NULL);
    }
    pthread_mutex_destroy(&st->mu);
    pthread_cond_destroy(&st->cv);
    for (size_t i = 0; i < st->npend; i++) ek_broker_msg_unref(st->pending[i].m);
    for (size_t i = 0; i < st->ndel; i++) ek_free(st->dels[i]);
    ek_free(st->dels);
    ek_free(st->path);
    sqlite3_stmt *all[] = {st->ret_put, st->ret_del, st->ses_put, st->ses_del, st->sub_put,
                           st->sub_del, st->msg_put, st->msg_del, st->rel_put, st->rel_del};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) sqlite3_finalize(all[i]);
    ek_free(st->pending);
    ek_free(st);
    sqlite3_close(b->db);
    b->db = NULL;
    b->db_stmts = NULL;
}
