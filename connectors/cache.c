/* The sink offline cache (cache.h). Messages carry a sequence number; the queue is, oldest first,
 *   mem   - up to memoryCacheThreshold messages in memory (some also on disk after a sync),
 *   disk  - messages only in SQLite (data/cache.db, table cache, rows keyed by sink and seq),
 *   spill - messages on their way to disk, written a page (bufferPageSize) at a time.
 * Invariant: every disk-only or spilled message is newer than every message in mem, so resending
 * the front of mem, and refilling mem a page at a time from disk when it runs dry, keeps order.
 * Rows of resent messages are deleted lazily (everything up to `acked`) at the next sync. A sync
 * thread writes mem and spill to disk every cacheSyncInterval, so the whole cache survives kill -9
 * but for the last interval. */
#include "connectors/cache.h"
#include "connectors/sink_transform.h"
#include "engine/app.h"
#include "engine/codec_json.h"
#include "engine/log.h"
#include "engine/mem.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define RESEND_BATCH 256
#define RETRY_MS 1000
#define DROP_LOG_EVERY_MS 10000

typedef struct item {
    int64_t seq;
    ek_value value, meta;
    char *payload;
    size_t len;
    bool on_disk;
} item;

typedef struct ring {
    item *items;
    size_t head, count, cap;
} ring;

struct ek_sink_cache {
    ek_cache_conf conf;
    char *key;
    sqlite3 *db;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    bool stop;
    ring mem, spill;
    int64_t disk;        /* disk-only messages */
    int64_t next_seq, acked, deleted;
    int64_t next_resend_ms;
    int64_t last_drop_log_ms;
    ek_cache_stats st;
};

/* Set around a resend's collect, so sinks can pick resendDestination (see cache.h). */
static _Thread_local bool resending;

bool ek_sink_cache_resending(void) { return resending; }

/* ---- settings ---- */

enum { K_BOOL, K_INT, K_DUR };
static const struct {
    const char *prop, *config;
    int kind;
    size_t off;
} keys[] = {
    {"enableCache", "sink.enableCache", K_BOOL, offsetof(ek_cache_conf, enable)},
    {"memoryCacheThreshold", "sink.memoryCacheThreshold", K_INT, offsetof(ek_cache_conf, memory_threshold)},
    {"maxDiskCache", "sink.maxDiskCache", K_INT, offsetof(ek_cache_conf, max_disk)},
    {"bufferPageSize", "sink.bufferPageSize", K_INT, offsetof(ek_cache_conf, page_size)},
    {"resendInterval", "sink.resendInterval", K_DUR, offsetof(ek_cache_conf, resend_interval_ms)},
    {"cleanCacheAtStop", "sink.cleanCacheAtStop", K_BOOL, offsetof(ek_cache_conf, clean_at_stop)},
    {"resendAlterQueue", "sink.resendAlterQueue", K_BOOL, offsetof(ek_cache_conf, alter_queue)},
    {"resendPriority", "sink.resendPriority", K_INT, offsetof(ek_cache_conf, priority)},
    {"cacheSyncInterval", "sink.cacheSyncInterval", K_DUR, offsetof(ek_cache_conf, sync_interval_ms)},
};

int ek_cache_conf_load(const ek_config *cfg, const ek_value *props, ek_cache_conf *out, ek_err *err)
{
    *out = (ek_cache_conf){.memory_threshold = 1024, .max_disk = 1024000, .page_size = 256, .sync_interval_ms = 1000};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        void *p = (char *)out + keys[i].off;
        int rc = 0;
        if (keys[i].kind == K_BOOL) {
            if (cfg) *(bool *)p = ek_config_bool(cfg, keys[i].config);
            rc = ek_prop_bool(props, keys[i].prop, *(bool *)p, (bool *)p, err);
        } else {
            int64_t *n = p;
            if (cfg) *n = keys[i].kind == K_INT ? ek_config_int(cfg, keys[i].config) : ek_config_duration_ms(cfg, keys[i].config);
            rc = keys[i].kind == K_INT ? ek_prop_int(props, keys[i].prop, *n, n, err)
                                       : ek_prop_duration_ms(props, keys[i].prop, *n, n, err);
        }
        if (rc) return rc;
    }
    const char *ind = ek_prop_str(props, "resendIndicatorField", cfg ? ek_config_str(cfg, "sink.resendIndicatorField") : "");
    snprintf(out->indicator, sizeof out->indicator, "%s", ind ? ind : "");
    if (out->memory_threshold < 0 || out->max_disk < 0)
        return ek_err_set(err, EK_EINVAL, "properties memoryCacheThreshold and maxDiskCache must not be negative");
    if (out->page_size <= 0) return ek_err_set(err, EK_EINVAL, "property bufferPageSize must be positive");
    if (out->priority < -1 || out->priority > 1)
        return ek_err_set(err, EK_EINVAL, "property resendPriority must be -1, 0 or 1");
    if (out->sync_interval_ms <= 0) out->sync_interval_ms = 1000;
    return 0;
}

/* ---- the ring ---- */

static void ring_push(ring *r, item it)
{
    if (r->count == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 64;
        item *n = ek_malloc(cap * sizeof *n);
        for (size_t i = 0; i < r->count; i++) n[i] = r->items[(r->head + i) % r->cap];
        ek_free(r->items);
        r->items = n, r->cap = cap, r->head = 0;
    }
    r->items[(r->head + r->count++) % r->cap] = it;
}

static item *ring_at(ring *r, size_t i) { return &r->items[(r->head + i) % r->cap]; }

static void item_free(item *it)
{
    ek_value_unref(&it->value);
    ek_value_unref(&it->meta);
    ek_free(it->payload);
}

static item ring_pop(ring *r)
{
    item it = r->items[r->head];
    r->head = (r->head + 1) % r->cap;
    r->count--;
    return it;
}

static void ring_free(ring *r)
{
    while (r->count) {
        item it = ring_pop(r);
        item_free(&it);
    }
    ek_free(r->items);
    memset(r, 0, sizeof *r);
}

/* ---- SQLite ---- */

static int db_exec(sqlite3 *db, const char *sql, ek_err *err)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK) return 0;
    ek_err_set(err, EK_EIO, "cache database: %s", msg ? msg : "error");
    sqlite3_free(msg);
    return EK_EIO;
}

static int db_open(const char *path, sqlite3 **out, ek_err *err)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
        ek_err_set(err, EK_EIO, "cannot open the sink cache %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return EK_EIO;
    }
    sqlite3_busy_timeout(db, 5000);
    if (db_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                    "CREATE TABLE IF NOT EXISTS cache(sink TEXT NOT NULL, seq INTEGER NOT NULL, value TEXT,"
                    " payload BLOB, meta TEXT, PRIMARY KEY(sink, seq)) WITHOUT ROWID;", err)) {
        sqlite3_close(db);
        return ek_err_prefix(err, "%s", path);
    }
    *out = db;
    return 0;
}

static int db_insert(ek_sink_cache *c, sqlite3_stmt *st, const item *it)
{
    char *v = ek_json_encode_str(&it->value, 0);
    char *m = it->meta.type == EK_T_NULL ? NULL : ek_json_encode_str(&it->meta, 0);
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, c->key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, it->seq);
    sqlite3_bind_text(st, 3, v, -1, SQLITE_TRANSIENT);
    sqlite3_bind_blob(st, 4, it->payload, (int)it->len, SQLITE_STATIC);
    if (m) sqlite3_bind_text(st, 5, m, -1, SQLITE_TRANSIENT);
    else sqlite3_bind_null(st, 5);
    int rc = sqlite3_step(st);
    ek_free(v);
    ek_free(m);
    return rc == SQLITE_DONE ? 0 : EK_EIO;
}

/* Writes unsynced mem items and the spill to disk, and deletes acknowledged rows. Lock held. */
static int sync_locked(ek_sink_cache *c, ek_err *err)
{
    bool dirty = c->spill.count > 0 || c->acked > c->deleted;
    for (size_t i = 0; i < c->mem.count && !dirty; i++) dirty = !ring_at(&c->mem, i)->on_disk;
    if (!dirty) return 0;
    if (db_exec(c->db, "BEGIN", err)) return EK_EIO;
    sqlite3_stmt *ins = NULL, *del = NULL;
    int rc = sqlite3_prepare_v2(c->db, "INSERT OR REPLACE INTO cache(sink, seq, value, payload, meta) VALUES(?,?,?,?,?)",
                                -1, &ins, NULL) == SQLITE_OK ? 0 : EK_EIO;
    for (size_t i = 0; i < c->mem.count && !rc; i++) {
        item *it = ring_at(&c->mem, i);
        if (!it->on_disk && !(rc = db_insert(c, ins, it))) it->on_disk = true;
    }
    for (size_t i = 0; i < c->spill.count && !rc; i++) rc = db_insert(c, ins, ring_at(&c->spill, i));
    if (!rc && c->acked > c->deleted &&
        sqlite3_prepare_v2(c->db, "DELETE FROM cache WHERE sink = ? AND seq <= ?", -1, &del, NULL) == SQLITE_OK) {
        sqlite3_bind_text(del, 1, c->key, -1, SQLITE_STATIC);
        sqlite3_bind_int64(del, 2, c->acked);
        rc = sqlite3_step(del) == SQLITE_DONE ? 0 : EK_EIO;
    }
    sqlite3_finalize(ins);
    sqlite3_finalize(del);
    if (rc || db_exec(c->db, "COMMIT", err)) {
        db_exec(c->db, "ROLLBACK", NULL);
        for (size_t i = 0; i < c->mem.count; i++) ring_at(&c->mem, i)->on_disk = false;
        return ek_err_set(err, EK_EIO, "sink cache %s: cannot write to disk: %s", c->key, sqlite3_errmsg(c->db));
    }
    c->deleted = c->acked;
    c->disk += (int64_t)c->spill.count;
    while (c->spill.count) {
        item it = ring_pop(&c->spill);
        item_free(&it);
    }
    return 0;
}

/* Refills an empty mem with the oldest page from disk (or the spill). Lock held. */
static void refill_locked(ek_sink_cache *c)
{
    if (c->mem.count) return;
    if (c->disk == 0) {
        while (c->spill.count) ring_push(&c->mem, ring_pop(&c->spill));
        return;
    }
    if (c->spill.count) sync_locked(c, NULL);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(c->db, "SELECT seq, value, payload, meta FROM cache WHERE sink = ? AND seq > ? ORDER BY seq LIMIT ?",
                           -1, &st, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_text(st, 1, c->key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, c->acked);
    sqlite3_bind_int64(st, 3, c->conf.page_size);
    while (sqlite3_step(st) == SQLITE_ROW) {
        item it = {.seq = sqlite3_column_int64(st, 0), .on_disk = true, .value = ek_null(), .meta = ek_null()};
        const char *v = (const char *)sqlite3_column_text(st, 1);
        if (v) ek_json_decode(v, strlen(v), 0, &it.value, NULL);
        it.len = (size_t)sqlite3_column_bytes(st, 2);
        it.payload = ek_malloc(it.len + 1);
        if (it.len) memcpy(it.payload, sqlite3_column_blob(st, 2), it.len);
        it.payload[it.len] = '\0';
        const char *m = (const char *)sqlite3_column_text(st, 3);
        if (m) ek_json_decode(m, strlen(m), 0, &it.meta, NULL);
        ring_push(&c->mem, it);
        c->disk--;
    }
    sqlite3_finalize(st);
    if (c->mem.count == 0) c->disk = 0; /* the rows are gone: trust the table */
}

/* ---- the sync thread ---- */

static void *sync_thread(void *arg)
{
    ek_sink_cache *c = arg;
    pthread_mutex_lock(&c->mu);
    while (!c->stop) {
        struct timespec ts = ek_deadline_in(CLOCK_REALTIME, c->conf.sync_interval_ms);
        pthread_cond_timedwait(&c->cv, &c->mu, &ts);
        if (c->stop) break;
        ek_err err = {0};
        if (sync_locked(c, &err)) ek_warn("%s", err.msg);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

int ek_sink_cache_open(const char *db_path, const char *key, const ek_cache_conf *conf, ek_sink_cache **out,
                       ek_err *err)
{
    *out = NULL;
    if (!conf->enable) return 0;
    sqlite3 *db;
    int rc = db_open(db_path, &db, err);
    if (rc) return rc;
    ek_sink_cache *c = ek_calloc(1, sizeof *c);
    c->conf = *conf, c->db = db, c->key = ek_strdup(key);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT COUNT(*), COALESCE(MIN(seq), 1), COALESCE(MAX(seq), 0) FROM cache WHERE sink = ?",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            c->disk = sqlite3_column_int64(st, 0);
            c->acked = c->deleted = sqlite3_column_int64(st, 1) - 1;
            c->next_seq = sqlite3_column_int64(st, 2) + 1;
        }
    }
    sqlite3_finalize(st);
    if (c->disk) ek_info("sink cache %s: %lld messages from the last run wait to be resent", key, (long long)c->disk);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    if (pthread_create(&c->thread, NULL, sync_thread, c) != 0) {
        ek_sink_cache_close(c);
        return ek_err_set(err, EK_EIO, "sink cache %s: cannot start its thread", key);
    }
    *out = c;
    return 0;
}

void ek_sink_cache_close(ek_sink_cache *c)
{
    if (!c) return;
    pthread_mutex_lock(&c->mu);
    bool started = !c->stop;
    c->stop = true;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    if (started && c->thread) pthread_join(c->thread, NULL);
    if (c->conf.clean_at_stop) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(c->db, "DELETE FROM cache WHERE sink = ?", -1, &st, NULL) == SQLITE_OK) {
            sqlite3_bind_text(st, 1, c->key, -1, SQLITE_STATIC);
            sqlite3_step(st);
        }
        sqlite3_finalize(st);
    } else {
        ek_err err = {0};
        if (sync_locked(c, &err)) ek_warn("%s", err.msg);
    }
    ring_free(&c->mem);
    ring_free(&c->spill);
    sqlite3_close(c->db);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    ek_free(c->key);
    ek_free(c);
}

int ek_sink_cache_purge(const char *db_path, const char *key, ek_err *err)
{
    sqlite3 *db;
    int rc = db_open(db_path, &db, err);
    if (rc) return rc;
    sqlite3_stmt *st = NULL;
    rc = sqlite3_prepare_v2(db, "DELETE FROM cache WHERE sink = ?", -1, &st, NULL) == SQLITE_OK ? 0 : EK_EIO;
    if (!rc) {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : EK_EIO;
    }
    sqlite3_finalize(st);
    if (rc) ek_err_set(err, EK_EIO, "sink cache %s: %s", key, sqlite3_errmsg(db));
    sqlite3_close(db);
    return rc;
}

/* ---- queueing ---- */

static int64_t total_locked(ek_sink_cache *c) { return (int64_t)(c->mem.count + c->spill.count) + c->disk; }

static void drop_oldest_locked(ek_sink_cache *c)
{
    refill_locked(c);
    if (c->mem.count) {
        item it = ring_pop(&c->mem);
        c->acked = it.seq;
        item_free(&it);
    } else if (c->spill.count) {
        item it = ring_pop(&c->spill);
        item_free(&it);
    }
    c->st.dropped++;
    int64_t now = ek_mono_ms();
    if (c->last_drop_log_ms == 0 || now - c->last_drop_log_ms >= DROP_LOG_EVERY_MS) {
        c->last_drop_log_ms = now;
        ek_warn("sink cache %s is full (%lld messages): dropping the oldest, %lld dropped so far", c->key,
                (long long)(c->conf.memory_threshold + c->conf.max_disk), (long long)c->st.dropped);
    }
}

static void push_locked(ek_sink_cache *c, const ek_sink_data *d)
{
    int64_t cap = c->conf.memory_threshold + c->conf.max_disk;
    if (cap <= 0) cap = 1;
    while (total_locked(c) >= cap) drop_oldest_locked(c);
    item it = {.seq = c->next_seq++, .value = d->value ? ek_value_ref(d->value) : ek_null(),
               .meta = d->meta ? ek_value_ref(d->meta) : ek_null(), .len = d->len};
    it.payload = ek_malloc(d->len + 1);
    memcpy(it.payload, d->payload, d->len);
    it.payload[d->len] = '\0';
    if (c->disk == 0 && c->spill.count == 0 && (int64_t)c->mem.count < c->conf.memory_threshold) {
        ring_push(&c->mem, it);
    } else {
        ring_push(&c->spill, it);
        if ((int64_t)c->spill.count >= c->conf.page_size) sync_locked(c, NULL);
    }
    c->st.cached++;
}

int ek_sink_cache_deliver(ek_sink_cache *c, const ek_sink_data *d, ek_cache_collect_fn collect, void *arg,
                          ek_err *err)
{
    if (!c) return collect(arg, d, err);
    pthread_mutex_lock(&c->mu);
    bool queued = total_locked(c) > 0;
    bool behind = queued && (!c->conf.alter_queue || c->conf.priority > 0);
    if (behind) push_locked(c, d);
    pthread_mutex_unlock(&c->mu);
    if (behind) return EK_CACHE_KEPT;
    int rc = collect(arg, d, err);
    if (rc != EK_EIO) return rc;
    pthread_mutex_lock(&c->mu);
    push_locked(c, d);
    if (!queued) c->next_resend_ms = ek_mono_ms() + RETRY_MS;
    pthread_mutex_unlock(&c->mu);
    return EK_CACHE_KEPT;
}

/* The value and payload to resend: marked with resendIndicatorField when set. */
static void mark_resent(ek_sink_cache *c, item *it, ek_cache_encode_fn encode, void *arg, ek_value *v, ek_buf *p)
{
    *v = ek_value_ref(&it->value);
    if (!c->conf.indicator[0] || (v->type != EK_T_OBJECT && v->type != EK_T_ARRAY)) return;
    ek_value_unshare(v);
    if (v->type == EK_T_OBJECT) {
        ek_object_set(v, c->conf.indicator, ek_bool(true));
    } else {
        for (size_t i = 0; i < ek_array_len(v); i++) {
            ek_value *e = &v->a->items[i];
            if (e->type != EK_T_OBJECT) continue;
            ek_value_unshare(e);
            ek_object_set(e, c->conf.indicator, ek_bool(true));
        }
    }
    if (encode && encode(arg, v, p, NULL) != 0) ek_buf_reset(p);
}

int ek_sink_cache_resend(ek_sink_cache *c, int64_t now_ms, ek_cache_collect_fn collect, ek_cache_encode_fn encode,
                         void *arg)
{
    if (!c) return 0;
    int sent = 0;
    pthread_mutex_lock(&c->mu);
    while (sent < RESEND_BATCH && now_ms >= c->next_resend_ms) {
        refill_locked(c);
        if (!c->mem.count) break;
        item *front = ring_at(&c->mem, 0);
        int64_t seq = front->seq;
        ek_value v, meta = ek_value_ref(&front->meta);
        ek_buf p = EK_BUF_INIT;
        mark_resent(c, front, encode, arg, &v, &p);
        char *payload = p.len ? NULL : ek_strndup(front->payload, front->len);
        size_t len = p.len ? p.len : front->len;
        pthread_mutex_unlock(&c->mu);
        /* Delivery happens without the lock, so the sync thread is never held up by the network. */
        ek_sink_data d = {.value = &v, .payload = p.len ? p.data : payload, .len = len,
                          .meta = meta.type == EK_T_NULL ? NULL : &meta};
        ek_err err = {0};
        resending = true;
        int rc = collect(arg, &d, &err);
        resending = false;
        ek_value_unref(&v);
        ek_value_unref(&meta);
        ek_buf_free(&p);
        ek_free(payload);
        pthread_mutex_lock(&c->mu);
        if (rc == EK_EIO) {
            c->next_resend_ms = now_ms + (c->conf.resend_interval_ms > RETRY_MS ? c->conf.resend_interval_ms : RETRY_MS);
            break;
        }
        if (c->mem.count && ring_at(&c->mem, 0)->seq == seq) {
            item it = ring_pop(&c->mem);
            c->acked = it.seq;
            item_free(&it);
        }
        if (rc == 0) sent++, c->st.resent++;
        else ek_warn("sink cache %s: dropped a cached message that cannot be delivered: %s", c->key, err.msg);
        if (c->conf.resend_interval_ms > 0) {
            c->next_resend_ms = now_ms + c->conf.resend_interval_ms;
            break;
        }
    }
    pthread_mutex_unlock(&c->mu);
    return sent;
}

int64_t ek_sink_cache_deadline(const ek_sink_cache *c)
{
    if (!c) return -1;
    ek_sink_cache *m = (ek_sink_cache *)c;
    pthread_mutex_lock(&m->mu);
    int64_t r = total_locked(m) ? m->next_resend_ms : -1;
    pthread_mutex_unlock(&m->mu);
    return r;
}

void ek_sink_cache_stats(ek_sink_cache *c, ek_cache_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!c) return;
    pthread_mutex_lock(&c->mu);
    *out = c->st;
    out->memory = (int64_t)c->mem.count;
    out->disk = c->disk + (int64_t)c->spill.count;
    pthread_mutex_unlock(&c->mu);
}

int ek_sink_cache_sync(ek_sink_cache *c, ek_err *err)
{
    if (!c) return 0;
    pthread_mutex_lock(&c->mu);
    int rc = sync_locked(c, err);
    pthread_mutex_unlock(&c->mu);
    return rc;
}
