/* Held acknowledgements: the PUBACK (QoS 1) or PUBREC (QoS 2) of a client's PUBLISH waits until
 * every in-process subscriber that holds the message (ek_broker_msg_hold) has released it, so a
 * publisher resends what kuiperd had not made safe when it died (docs/reliability.md).
 *
 * Only subscriptions made with EK_BROKER_HOLD can hold; while there are none, handle_publish acks
 * at once as before. A held publish gets a record in its connection's FIFO and an ek_ack whose
 * completion (on any thread) posts the record back to the reactor. Acknowledgements leave in the
 * order the PUBLISHes came (MQTT 3.1.1 section 4.6): while a held record waits at the head, later
 * ones, held or not, queue behind it. A QoS 2 packet id joins the session's "released" set only
 * when its PUBREC goes out, so a duplicate sent after a reconnect is routed again rather than
 * acknowledged unseen.
 *
 * Lifetime: a record is freed once it has left its FIFO (acknowledged, or its connection closed)
 * and its ek_ack has completed, whichever is last. The hub outlives the broker while acks are
 * outstanding; after ek_broker_stop a completion just frees its record. hub->mu guards the
 * records' `c` and `pending` across threads and hub->b. */
#include "broker/broker_int.h"
#include "engine/mem.h"

#include <pthread.h>

struct broker__hub {
    pthread_mutex_t mu;
    ek_broker *b;                  /* NULL once the broker stopped */
    unsigned refs;                 /* the broker's, and one per record */
};

struct broker__held {
    broker__held *next;            /* in the connection's FIFO */
    broker__conn *c;               /* NULL once the connection closed */
    broker__hub *hub;
    uint16_t id;
    uint8_t type, reason;
    bool pending;                  /* the ack has not completed */
    bool rel;                      /* QoS 2: add id to the session's released set when acked */
};

static void hub_unref(broker__hub *h)
{
    pthread_mutex_lock(&h->mu);
    bool freed = --h->refs == 0;
    pthread_mutex_unlock(&h->mu);
    if (freed) {
        pthread_mutex_destroy(&h->mu);
        ek_free(h);
    }
}

static void held_free(broker__held *r)
{
    broker__hub *h = r->hub;
    ek_free(r);
    hub_unref(h);
}

static void write_ack(broker__conn *c, broker__held *r)
{
    if (r->rel && c->s) broker__session_rel_add(c->s, r->id);
    broker__pkt a = {.type = r->type, .id = r->id, .reason = c->version == 5 ? r->reason : 0};
    broker__conn_send(c, &a);
}

/* Sends the acknowledgements at the head of c's FIFO that are ready. */
static void flush(broker__conn *c)
{
    while (c->held_head && !c->held_head->pending) {
        broker__held *r = c->held_head;
        c->held_head = r->next;
        if (!c->held_head) c->held_tail = NULL;
        if (c->state != CONN_CLOSING) write_ack(c, r);
        held_free(r);
    }
}

/* On the reactor: a held message was released. */
static void released(ek_broker *b, void *arg)
{
    broker__held *r = arg;
    pthread_mutex_lock(&r->hub->mu);
    r->pending = false;
    broker__conn *c = r->c;
    pthread_mutex_unlock(&r->hub->mu);
    if (c) flush(c);
    else held_free(r);
}

/* The ek_ack's completion, on whichever thread dropped the last hold. */
static void completed(void *arg)
{
    broker__held *r = arg;
    broker__hub *h = r->hub;
    pthread_mutex_lock(&h->mu);
    ek_broker *b = h->b;
    if (b && pthread_equal(pthread_self(), b->thr)) {
        pthread_mutex_unlock(&h->mu);
        released(b, r);
        return;
    }
    if (b) {
        broker__post(b, released, r);
        pthread_mutex_unlock(&h->mu);
        return;
    }
    r->pending = false;
    bool detached = r->c == NULL;
    pthread_mutex_unlock(&h->mu);
    if (detached) held_free(r);
}

broker__held *broker__held_push(broker__conn *c, uint8_t type, uint16_t id, uint8_t reason)
{
    ek_broker *b = c->b;
    if (!b->hub) {
        b->hub = ek_calloc(1, sizeof *b->hub);
        pthread_mutex_init(&b->hub->mu, NULL);
        b->hub->b = b;
        b->hub->refs = 1;
    }
    broker__held *r = ek_calloc(1, sizeof *r);
    r->c = c;
    r->hub = b->hub;
    r->id = id;
    r->type = type;
    r->reason = reason;
    r->pending = true;
    pthread_mutex_lock(&b->hub->mu);
    b->hub->refs++;
    pthread_mutex_unlock(&b->hub->mu);
    if (c->held_tail) c->held_tail->next = r;
    else c->held_head = r;
    c->held_tail = r;
    return r;
}

ek_ack *broker__held_ack(broker__held *r, bool rel)
{
    r->rel = rel;
    return ek_ack_new(completed, r);
}

void broker__held_ready(broker__conn *c, broker__held *r, uint8_t reason, ek_ack *a)
{
    r->reason = reason;
    if (a) {
        ek_ack_unref(a); /* the broker's own reference: the last one unless a subscriber holds */
        return;
    }
    /* Routing may have closed c (its own slow queue): then r left the FIFO already. */
    pthread_mutex_lock(&r->hub->mu);
    r->pending = false;
    bool detached = r->c == NULL;
    pthread_mutex_unlock(&r->hub->mu);
    if (detached) held_free(r);
    else flush(c);
}

void broker__held_detach(broker__conn *c)
{
    while (c->held_head) {
        broker__held *r = c->held_head;
        c->held_head = r->next;
        pthread_mutex_lock(&r->hub->mu);
        bool done = !r->pending;
        r->c = NULL;
        pthread_mutex_unlock(&r->hub->mu);
        if (done) held_free(r);
    }
    c->held_tail = NULL;
}

void broker__held_stop(ek_broker *b)
{
    broker__hub *h = b->hub;
    if (!h) return;
    pthread_mutex_lock(&h->mu);
    h->b = NULL;
    pthread_mutex_unlock(&h->mu);
}

void broker__held_free(ek_broker *b)
{
    if (b->hub) hub_unref(b->hub);
    b->hub = NULL;
}

ek_ack *ek_broker_msg_hold(ek_broker_msg *m)
{
    return m ? ek_ack_ref(m->ack) : NULL;
}
