/* Delayed publish (EMQX's emqx_delayed): a PUBLISH to "$delayed/{seconds}/{topic}" is held by the
 * broker and published to {topic} that many seconds later (0 to 4294967, about 49.7 days), as if
 * its publisher sent it then: retained if it was sent retained, with its properties, QoS and
 * message expiry (counted from the original publication). An interval that is not a plain decimal
 * integer in that range, or a missing topic, drops the message.
 *
 * Each held message has its own reactor timer (the reactor's heap orders them), so release costs
 * O(log n) and nothing polls. Held messages are written to broker.db (table `delayed`) with the
 * retained changes in persist.c's periodic transaction, deleted when released, and loaded at start:
 * they survive a restart, and one whose time passed while kuiperd was down is released at start.
 * maxDelayedMessages bounds how many are held (0: no bound); over it the publish is refused with
 * 0x97 Quota exceeded (MQTT 5). */
#include "broker/broker_int.h"
#include "engine/log.h"
#include "engine/mem.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#define MAX_DELAY 4294967u

typedef struct dent {
    broker__timer t;          /* first: the timer's arg is the entry */
    ek_broker *b;
    broker__msg *m;
    int64_t id, due;          /* row id in broker.db; due: wall clock ms */
    struct dent *prev, *next;
} dent;

typedef struct dput {
    int64_t id, due;
    broker__msg *m;
} dput;

struct broker__delayed {
    dent *head;
    size_t count;
    int64_t next_id;
    dput *puts;               /* rows to insert at the next flush */
    size_t nput, capput;
    int64_t *dels;            /* rows to delete at the next flush */
    size_t ndel, capdel;
};

int broker__delayed_parse(const char *topic, size_t len, uint32_t *delay, const char **inner)
{
    if (len < 9 || memcmp(topic, "$delayed/", 9) != 0) return 0;
    const char *p = topic + 9, *end = topic + len;
    uint64_t v = 0;
    const char *digits = p;
    while (p < end && *p >= '0' && *p <= '9' && v <= MAX_DELAY) v = v * 10 + (uint64_t)(*p++ - '0');
    if (p == digits || p >= end || *p != '/' || v > MAX_DELAY || p + 1 == end) return -1;
    *delay = (uint32_t)v;
    *inner = p + 1;
    return 1;
}

static struct broker__delayed *state(ek_broker *b)
{
    if (!b->delayed) b->delayed = ek_calloc(1, sizeof *b->delayed);
    return b->delayed;
}

static void on_due(ek_broker *b, void *arg)
{
    dent *e = arg;
    struct broker__delayed *d = b->delayed;
    if (e->prev) e->prev->next = e->next;
    else d->head = e->next;
    if (e->next) e->next->prev = e->prev;
    d->count--;
    if (b->db) {
        if (d->ndel == d->capdel) {
            d->capdel = d->capdel ? d->capdel * 2 : 64;
            d->dels = ek_realloc(d->dels, d->capdel * sizeof *d->dels);
        }
        d->dels[d->ndel++] = e->id;
    }
    broker__msg *m = e->m;
    ek_free(e);
    if (m->retain) broker__retain_set(b, m);
    broker__route(b, m);
    ek_broker_msg_unref(m);
}

/* Holds m (takes a reference) until due (wall ms). */
static dent *hold(ek_broker *b, broker__msg *m, int64_t id, int64_t due)
{
    struct broker__delayed *d = state(b);
    dent *e = ek_calloc(1, sizeof *e);
    e->t = (broker__timer){.idx = SIZE_MAX, .fn = on_due, .arg = e};
    e->b = b;
    e->m = ek_broker_msg_ref(m);
    e->id = id;
    e->due = due;
    e->next = d->head;
    if (d->head) d->head->prev = e;
    d->head = e;
    d->count++;
    if (id >= d->next_id) d->next_id = id + 1;
    int64_t wait = due - ek_now_ms();
    broker__timer_arm(b, &e->t, ek_mono_ms() + (wait > 0 ? wait : 0));
    return e;
}

bool broker__delayed_add(ek_broker *b, broker__msg *m, uint32_t delay)
{
    struct broker__delayed *d = state(b);
    if (b->cfg.max_delayed && d->count >= b->cfg.max_delayed) {
        b->st.dropped++;
        return false;
    }
    dent *e = hold(b, m, d->next_id ? d->next_id : 1, ek_now_ms() + (int64_t)delay * 1000);
    if (b->db) {
        if (d->nput == d->capput) {
            d->capput = d->capput ? d->capput * 2 : 64;
            d->puts = ek_realloc(d->puts, d->capput * sizeof *d->puts);
        }
        d->puts[d->nput++] = (dput){e->id, e->due, ek_broker_msg_ref(m)};
    }
    return true;
}

void broker__delayed_persist_flush(ek_broker *b)
{
    struct broker__delayed *d = b->delayed;
    if (!d || !b->db || (!d->nput && !d->ndel)) return;
    sqlite3 *db = b->db;
    sqlite3_stmt *put = NULL, *del = NULL;
    sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO delayed VALUES(?,?,?,?,?,?,?,?,?)", -1, &put, NULL);
    sqlite3_prepare_v2(db, "DELETE FROM delayed WHERE id=?", -1, &del, NULL);
    size_t failed = 0;
    char why[160] = "";
    for (size_t i = 0; i < d->nput; i++) {
        broker__msg *m = d->puts[i].m;
        sqlite3_bind_int64(put, 1, d->puts[i].id);
        sqlite3_bind_int64(put, 2, d->puts[i].due);
        sqlite3_bind_text(put, 3, m->topic, m->topic_len, SQLITE_STATIC);
        sqlite3_bind_int(put, 4, m->qos);
        sqlite3_bind_int(put, 5, m->retain);
        sqlite3_bind_blob(put, 6, m->props, (int)m->props_len, SQLITE_STATIC);
        sqlite3_bind_blob(put, 7, m->payload, (int)m->len, SQLITE_STATIC);
        sqlite3_bind_int64(put, 8, m->has_expiry ? m->expire_at : 0);
        sqlite3_bind_int64(put, 9, m->from_hash);
        if (sqlite3_step(put) != SQLITE_DONE && !failed++) snprintf(why, sizeof why, "%s", sqlite3_errmsg(db));
        sqlite3_reset(put);
        ek_broker_msg_unref(m);
    }
    /* The messages are still held in memory and will be published; only a restart would lose them. */
    if (failed)
        ek_warn("broker: %zu delayed message(s) not saved to broker.db (%s); they are lost if kuiperd restarts "
                "before they are due",
                failed, why);
    d->nput = 0;
    for (size_t i = 0; i < d->ndel; i++) {
        sqlite3_bind_int64(del, 1, d->dels[i]);
        sqlite3_step(del);
        sqlite3_reset(del);
    }
    d->ndel = 0;
    sqlite3_finalize(put);
    sqlite3_finalize(del);
}

void broker__delayed_load(ek_broker *b)
{
    sqlite3 *db = b->db;
    if (!db) return;
    sqlite3_exec(db,
                 "CREATE TABLE IF NOT EXISTS delayed(id INTEGER PRIMARY KEY, due INT, topic TEXT, qos INT,"
                 " retain INT, props BLOB, payload BLOB, expire_at INT, from_hash INT)",
                 NULL, NULL, NULL);
    sqlite3_stmt *q = NULL;
    sqlite3_prepare_v2(db, "SELECT id, due, topic, qos, retain, props, payload, expire_at, from_hash FROM delayed",
                       -1, &q, NULL);
    while (q && sqlite3_step(q) == SQLITE_ROW) {
        const char *topic = (const char *)sqlite3_column_text(q, 2);
        if (!topic) continue;
        broker__msg *m = broker__msg_new(topic, strlen(topic), sqlite3_column_blob(q, 6),
                                         (size_t)sqlite3_column_bytes(q, 6), sqlite3_column_blob(q, 5),
                                         (size_t)sqlite3_column_bytes(q, 5), (uint8_t)sqlite3_column_int(q, 3),
                                         sqlite3_column_int(q, 4) != 0);
        int64_t exp = sqlite3_column_int64(q, 7);
        if (exp) {
            m->has_expiry = true;
            m->expire_at = exp;
        }
        m->from_hash = (uint32_t)sqlite3_column_int64(q, 8);
        hold(b, m, sqlite3_column_int64(q, 0), sqlite3_column_int64(q, 1));
        ek_broker_msg_unref(m);
    }
    sqlite3_finalize(q);
}

void broker__delayed_free(ek_broker *b)
{
    struct broker__delayed *d = b->delayed;
    if (!d) return;
    while (d->head) {
        dent *e = d->head;
        d->head = e->next;
        ek_broker_msg_unref(e->m);
        ek_free(e);
    }
    for (size_t i = 0; i < d->nput; i++) ek_broker_msg_unref(d->puts[i].m);
    ek_free(d->puts);
    ek_free(d->dels);
    ek_free(d);
    b->delayed = NULL;
}
