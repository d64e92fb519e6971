/* Sessions: what the broker keeps for a client id across connections.
 *
 * A session owns its subscriptions, a bounded queue of messages waiting to be sent (a ring; when
 * full the oldest is dropped and counted), the outbound in-flight window (sized by the smaller of
 * the client's Receive Maximum and maxInflight; QoS 1/2 messages stay there until acknowledged
 * and are resent with DUP after a reconnect), the inbound QoS 2 ids awaiting PUBREL, and the will.
 * When its connection goes, the will is published now or after the will delay, and the session
 * is destroyed now (expiry 0) or when its expiry timer fires. Queue entries hold references to
 * shared messages, never copies. */
#include "broker/broker_int.h"
#include "engine/mem.h"

#include <string.h>

static void on_expiry(ek_broker *b, void *arg);
static void on_will(ek_broker *b, void *arg);

broker__session *broker__session_new(ek_broker *b, const char *id, size_t idlen)
{
    broker__session *s = ek_calloc(1, sizeof *s);
    s->b = b;
    s->id = ek_strndup(id, idlen);
    s->id_hash = broker__hash_str(s->id, idlen);
    s->uid = ++b->next_uid;
    s->next_mid = 1;
    s->expiry_timer = (broker__timer){.idx = SIZE_MAX, .fn = on_expiry, .arg = s};
    s->will_timer = (broker__timer){.idx = SIZE_MAX, .fn = on_will, .arg = s};
    broker__map_put(&b->sessions, s->id, idlen, s);
    return s;
}

void broker__session_free(broker__session *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->qlen; i++) ek_broker_msg_unref(s->q[(s->qhead + i) % s->qcap].m);
    for (uint16_t i = 0; s->infl && i < s->infl_cap; i++) ek_broker_msg_unref(s->infl[i].m);
    ek_broker_msg_unref(s->will);
    ek_free(s->username);
    ek_free(s->q);
    ek_free(s->infl);
    ek_free(s->rel);
    ek_free(s->subs);
    ek_free(s->id);
    ek_free(s);
}

void broker__session_destroy(broker__session *s)
{
    ek_broker *b = s->b;
    while (s->nsubs) {
        broker__sub *sub = s->subs[--s->nsubs];
        broker__tree_remove(b, sub);
    }
    broker__timer_cancel(b, &s->expiry_timer);
    broker__timer_cancel(b, &s->will_timer);
    broker__map_del(&b->sessions, s->id, strlen(s->id));
    if (s->persisted) broker__persist_session_del(b, s->id);
    if (s->conn) s->conn->s = NULL;
    broker__session_free(s);
}

void broker__session_add_sub(broker__session *s, broker__sub *sub)
{
    if (s->nsubs == s->capsubs) {
        s->capsubs = s->capsubs ? s->capsubs * 2 : 4;
        s->subs = ek_realloc(s->subs, s->capsubs * sizeof *s->subs);
    }
    s->subs[s->nsubs++] = sub;
}

void broker__session_del_sub(broker__session *s, broker__sub *sub)
{
    for (size_t i = 0; i < s->nsubs; i++) {
        if (s->subs[i] != sub) continue;
        memmove(&s->subs[i], &s->subs[i + 1], (s->nsubs - i - 1) * sizeof *s->subs);
        s->nsubs--;
        return;
    }
}

void broker__session_rel_add(broker__session *s, uint16_t id)
{
    if (s->nrel == s->caprel) {
        s->caprel = s->caprel ? (uint16_t)(s->caprel * 2) : 8;
        s->rel = ek_realloc(s->rel, s->caprel * sizeof *s->rel);
    }
    s->rel[s->nrel++] = id;
}

/* ---- the queue ---- */

static void q_push(broker__session *s, const broker__qent *e)
{
    ek_broker *b = s->b;
    if (s->qlen >= b->cfg.max_queued) {
        broker__qent *old = &s->q[s->qhead];
        ek_broker_msg_unref(old->m);
        s->qhead = (s->qhead + 1) % s->qcap;
        s->qlen--;
        s->dropped++;
        b->st.dropped++;
        b->st.ov_queue_full++;
    }
    if (s->qlen == s->qcap) {
        size_t cap = s->qcap ? s->qcap * 2 : 16;
        broker__qent *q = ek_malloc(cap * sizeof *q);
        for (size_t i = 0; i < s->qlen; i++) q[i] = s->q[(s->qhead + i) % s->qcap];
        ek_free(s->q);
        s->q = q;
        s->qcap = cap;
        s->qhead = 0;
    }
    s->q[(s->qhead + s->qlen) % s->qcap] = *e;
    s->qlen++;
}

/* ---- the in-flight window ---- */

void broker__session_set_window(broker__session *s, uint16_t window)
{
    if (window == 0) window = 1;
    if (window < s->ninfl) window = s->ninfl;
    if (window == s->infl_cap) return;
    if (!s->infl) { /* allocated on the first QoS 1/2 delivery (broker__session_infl_alloc) */
        s->infl_cap = window;
        return;
    }
    broker__qent *n = ek_calloc(window, sizeof *n);
    uint16_t k = 0;
    for (uint16_t i = 0; i < s->infl_cap; i++)
        if (s->infl[i].state) n[k++] = s->infl[i];
    ek_free(s->infl);
    s->infl = n;
    s->infl_cap = window;
}

void broker__session_infl_alloc(broker__session *s)
{
    if (!s->infl) s->infl = ek_calloc(s->infl_cap ? s->infl_cap : 1, sizeof *s->infl);
    if (!s->infl_cap) s->infl_cap = 1;
}

broker__qent *broker__session_infl_find(broker__session *s, uint16_t mid)
{
    if (!s->infl) return NULL;
    for (uint16_t i = 0; i < s->infl_cap; i++)
        if (s->infl[i].state && s->infl[i].mid == mid) return &s->infl[i];
    return NULL;
}

void broker__session_infl_done(broker__session *s, broker__qent *e)
{
    ek_broker_msg_unref(e->m);
    memset(e, 0, sizeof *e);
    s->ninfl--;
    broker__session_pump(s);
}

static uint16_t next_mid(broker__session *s)
{
    for (;;) {
        uint16_t mid = s->next_mid++;
        if (s->next_mid == 0) s->next_mid = 1;
        if (!broker__session_infl_find(s, mid)) return mid;
    }
}

/* Puts m into a free in-flight slot (the caller checked there is one) and sends it. */
static void send_inflight(broker__session *s, const broker__qent *src)
{
    broker__qent *e = NULL;
    broker__session_infl_alloc(s);
    for (uint16_t i = 0; i < s->infl_cap && !e; i++)
        if (!s->infl[i].state) e = &s->infl[i];
    *e = *src;
    e->state = 1;
    e->mid = next_mid(s);
    s->ninfl++;
    if (!broker__send_publish(s->conn, e->m, e->qos, e->retain, e->mid, false, e->subid, e->nsub)) {
        ek_broker_msg_unref(e->m);
        memset(e, 0, sizeof *e);
        s->ninfl--;
    }
}

void broker__session_deliver(broker__session *s, broker__msg *m, uint8_t qos, bool retain,
                             const uint32_t *subids, uint8_t nsub)
{
    broker__session_deliver_shared(s, m, qos, retain, subids, nsub, false);
}

void broker__session_deliver_shared(broker__session *s, broker__msg *m, uint8_t qos, bool retain,
                                    const uint32_t *subids, uint8_t nsub, bool shared)
{
    broker__conn *c = s->conn;
    broker__qent e = {.m = m, .qos = qos, .retain = retain, .nsub = nsub, .shared = shared};
    for (uint8_t i = 0; i < nsub && i < BROKER_MAX_SUBIDS; i++) e.subid[i] = subids[i];
    if (!c) {
        if (qos == 0 && !s->b->cfg.queue_qos0) return;
        ek_broker_msg_ref(m);
        q_push(s, &e);
        s->dirty = true;
        return;
    }
    if (s->qlen == 0 && broker__conn_writable(c)) {
        if (qos == 0) {
            broker__send_publish(c, m, 0, retain, 0, false, subids, nsub);
            return;
        }
        if (s->ninfl < s->infl_cap) {
            ek_broker_msg_ref(m);
            send_inflight(s, &e);
            return;
        }
    }
    ek_broker_msg_ref(m);
    q_push(s, &e);
}

void broker__session_pump(broker__session *s)
{
    while (s->qlen && s->conn && broker__conn_writable(s->conn)) {
        broker__qent *e = &s->q[s->qhead];
        if (e->qos && s->ninfl >= s->infl_cap) return;
        broker__qent copy = *e;
        s->qhead = (s->qhead + 1) % s->qcap;
        s->qlen--;
        if (copy.qos == 0) {
            broker__send_publish(s->conn, copy.m, 0, copy.retain, 0, false, copy.subid, copy.nsub);
            ek_broker_msg_unref(copy.m);
        } else {
            send_inflight(s, &copy);
        }
    }
}

void broker__session_resend(broker__session *s)
{
    for (uint16_t i = 0; s->infl && i < s->infl_cap; i++) {
        broker__qent *e = &s->infl[i];
        if (e->state == 1) {
            if (!broker__send_publish(s->conn, e->m, e->qos, e->retain, e->mid, true, e->subid, e->nsub)) {
                ek_broker_msg_unref(e->m);
                memset(e, 0, sizeof *e);
                s->ninfl--;
            }
        } else if (e->state == 2) {
            broker__pkt r = {.type = BROKER_PUBREL, .id = e->mid};
            broker__conn_send(s->conn, &r);
        }
    }
}

/* ---- going offline, will and expiry ---- */

void broker__session_publish_will(broker__session *s)
{
    broker__msg *m = s->will;
    if (!m) return;
    s->will = NULL;
    broker__timer_cancel(s->b, &s->will_timer);
    if (m->retain) broker__retain_set(s->b, m);
    broker__route(s->b, m);
    ek_broker_msg_unref(m);
}

static void on_will(ek_broker *b, void *arg)
{
    broker__session *s = arg;
    if (!s->conn) broker__session_publish_will(s);
}

static void on_expiry(ek_broker *b, void *arg)
{
    broker__session *s = arg;
    if (s->conn) return;
    broker__session_publish_will(s);
    broker__session_destroy(s);
}

void broker__session_offline(broker__session *s, bool publish_will)
{
    ek_broker *b = s->b;
    if (!publish_will) {
        ek_broker_msg_unref(s->will);
        s->will = NULL;
    }
    if (s->will && (s->will_delay == 0 || s->expiry == 0)) broker__session_publish_will(s);
    else if (s->will) broker__timer_arm(b, &s->will_timer, ek_mono_ms() + (int64_t)s->will_delay * 1000);
    if (s->expiry == 0) {
        broker__session_destroy(s);
        return;
    }
    s->dirty = true;
    if (s->expiry != UINT32_MAX) {
        s->expire_at = ek_now_ms() + (int64_t)s->expiry * 1000;
        broker__timer_arm(b, &s->expiry_timer, ek_mono_ms() + (int64_t)s->expiry * 1000);
    }
}
