/* Management of the running broker (broker.h's ek_broker_clients ... ek_broker_retained_delete):
 * list and kick clients, list subscriptions and topics, read and delete retained messages, for
 * the REST API's /broker/... resources (rest/res_broker_mgmt.c).
 *
 * Every operation is one function that runs on the reactor thread, where broker state lives, and
 * answers with ek_value rows (objects shaped as EMQX's management API shapes them). The public
 * functions copy their inputs into a request on the heap and hand it to broker__call, which waits
 * with a timeout; nothing here reads broker state from the caller's thread. Listings are sliced
 * (offset, limit) on the reactor, so a page of clients never costs a copy of all of them. */
#include "broker/broker_int.h"
#include "engine/buf.h"
#include "engine/mem.h"

#include <stdlib.h>
#include <string.h>

#define PREVIEW 64 /* payload bytes shown per retained message in a listing */

typedef struct req req;
typedef void (*op_fn)(ek_broker *b, req *r);

struct req {
    op_fn fn;
    char *key;               /* the client id or topic an operation is about, or NULL */
    char *clientid, *username, *topic;  /* listing filters (copies) */
    size_t offset, limit, total;
    ek_value out;
    ek_err err;
    int rc;
};

static void req_free(void *arg)
{
    req *r = arg;
    ek_value_unref(&r->out);
    ek_free(r->key);
    ek_free(r->clientid);
    ek_free(r->username);
    ek_free(r->topic);
    ek_free(r);
}

static void run(ek_broker *b, void *arg)
{
    req *r = arg;
    r->fn(b, r);
}

/* Runs fn on the reactor; on success moves its result to *out (when out is not NULL). */
static int call(ek_broker *b, op_fn fn, const char *key, ek_broker_query *q, ek_value *out, ek_err *err)
{
    if (out) *out = ek_null();
    if (!b) return ek_err_set(err, EK_ESTATE, "the bundled broker is not running (broker.enable is false)");
    req *r = ek_calloc(1, sizeof *r);
    r->fn = fn;
    r->key = key ? ek_strdup(key) : NULL;
    r->out = ek_null();
    if (q) {
        r->clientid = q->clientid ? ek_strdup(q->clientid) : NULL;
        r->username = q->username ? ek_strdup(q->username) : NULL;
        r->topic = q->topic ? ek_strdup(q->topic) : NULL;
        r->offset = q->offset;
        r->limit = q->limit;
    }
    int rc = broker__call(b, run, r, req_free, EK_BROKER_CALL_TIMEOUT_MS, err);
    if (rc) return rc; /* r now belongs to the broker */
    rc = r->rc;
    if (rc && err) *err = r->err;
    if (!rc && q) q->total = r->total;
    if (!rc && out) {
        *out = r->out;
        r->out = ek_null();
    }
    req_free(r);
    return rc;
}

/* Counts a match and tells whether it falls in the requested page. */
static bool take(req *r)
{
    size_t i = r->total++;
    return i >= r->offset && (!r->limit || i < r->offset + r->limit);
}

static ek_value when(int64_t ms)
{
    return ek_datetime(ms * 1000000);
}

/* ---- clients ---- */

static ek_value client_row(ek_broker *b, const broker__session *s)
{
    const broker__conn *c = s->conn;
    ek_value o = ek_object_new(21);
    ek_object_set(&o, "clientid", ek_string(s->id));
    ek_object_set(&o, "username", s->username ? ek_string(s->username) : ek_null());
    const char *colon = c ? strrchr(c->peer, ':') : NULL;
    ek_object_set(&o, "ip_address", colon ? ek_string_n(c->peer, (size_t)(colon - c->peer)) : ek_null());
    ek_object_set(&o, "port", colon ? ek_int(atoi(colon + 1)) : ek_null());
    ek_object_set(&o, "proto_ver", ek_int(s->version));
    const char *tp = c ? (c->ws ? (c->tls ? "wss" : "ws") : (c->tls ? "tls" : "tcp")) : NULL;
    ek_object_set(&o, "transport", tp ? ek_string(tp) : ek_null());
    ek_object_set(&o, "keepalive", c ? ek_int(c->keep_alive) : ek_null());
    ek_object_set(&o, "connected", ek_bool(c != NULL));
    ek_object_set(&o, "connected_at", c ? when(c->connected_at) : ek_null());
    ek_object_set(&o, "expiry_interval", ek_int(s->expiry));
    ek_object_set(&o, "subscriptions_cnt", ek_int((int64_t)s->nsubs));
    ek_object_set(&o, "inflight_cnt", ek_int(s->ninfl));
    ek_object_set(&o, "inflight_max", ek_int(s->infl_cap));
    ek_object_set(&o, "mqueue_len", ek_int((int64_t)s->qlen));
    ek_object_set(&o, "mqueue_max", ek_int(b->cfg.max_queued));
    ek_object_set(&o, "mqueue_dropped", ek_int((int64_t)s->dropped));
    ek_object_set(&o, "recv_msg", ek_int(c ? (int64_t)c->msgs_in : 0));
    ek_object_set(&o, "send_msg", ek_int(c ? (int64_t)c->msgs_out : 0));
    ek_object_set(&o, "recv_oct", ek_int(c ? (int64_t)c->bytes_in : 0));
    ek_object_set(&o, "send_oct", ek_int(c ? (int64_t)c->bytes_out : 0));
    return o;
}

static bool client_match(const req *r, const broker__session *s)
{
    if (r->clientid && strcmp(r->clientid, s->id) != 0) return false;
    if (r->username && !(s->username && strcmp(s->username, r->username) == 0)) return false;
    return true;
}

static void op_clients(ek_broker *b, req *r)
{
    r->out = ek_array_new(0);
    if (r->clientid) { /* one lookup instead of a scan */
        const broker__session *s = broker__map_get(&b->sessions, r->clientid, strlen(r->clientid));
        if (s && client_match(r, s) && take(r)) ek_array_push(&r->out, client_row(b, s));
        return;
    }
    for (size_t i = 0; i < b->sessions.cap; i++) {
        const broker__session *s = b->sessions.e[i].h ? b->sessions.e[i].val : NULL;
        if (s && client_match(r, s) && take(r)) ek_array_push(&r->out, client_row(b, s));
    }
}

static broker__session *session_of(ek_broker *b, req *r)
{
    broker__session *s = broker__map_get(&b->sessions, r->key, strlen(r->key));
    if (!s) r->rc = ek_err_set(&r->err, EK_ENOTFOUND, "client %s is not found", r->key);
    return s;
}

static void op_client(ek_broker *b, req *r)
{
    broker__session *s = session_of(b, r);
    if (s) r->out = client_row(b, s);
}

static void op_kick(ek_broker *b, req *r)
{
    broker__session *s = session_of(b, r);
    if (!s) return;
    b->st.kicked++;
    /* The session ends with the connection: no will delay, no expiry (EMQX's kick). */
    s->expiry = 0;
    s->will_delay = 0;
    if (s->conn) {
        s->conn->will_suppress = false;
        broker__conn_close(s->conn, RC_ADMIN_ACTION); /* publishes the will, destroys s */
        return;
    }
    broker__session_publish_will(s);
    broker__session_destroy(s);
}

/* ---- subscriptions and topics ---- */

static ek_value sub_row(const broker__session *s, const broker__sub *sub)
{
    ek_value o = ek_object_new(8);
    ek_object_set(&o, "clientid", ek_string(s->id));
    ek_object_set(&o, "topic", ek_string(sub->filter));
    ek_object_set(&o, "qos", ek_int(sub->qos));
    ek_object_set(&o, "nl", ek_int((sub->opts & SUBOPT_NL) != 0));
    ek_object_set(&o, "rap", ek_int((sub->opts & SUBOPT_RAP) != 0));
    ek_object_set(&o, "rh", ek_int((sub->opts >> 4) & 3));
    if (sub->subid) ek_object_set(&o, "subid", ek_int(sub->subid));
    if (sub->group) ek_object_set(&o, "share_group", ek_string(sub->group));
    return o;
}

static void op_subscriptions(ek_broker *b, req *r)
{
    r->out = ek_array_new(0);
    for (size_t i = 0; i < b->sessions.cap; i++) {
        const broker__session *s = b->sessions.e[i].h ? b->sessions.e[i].val : NULL;
        if (!s || (r->clientid && strcmp(r->clientid, s->id) != 0)) continue;
        for (size_t k = 0; k < s->nsubs; k++) {
            const broker__sub *sub = s->subs[k];
            if (r->topic && strcmp(r->topic, sub->filter) != 0) continue;
            if (take(r)) ek_array_push(&r->out, sub_row(s, sub));
        }
    }
}

/* Walks the tree depth first; path holds the topic of n (its levels joined by '/'), depth is
 * n's level (0 for the root, which is no topic). */
static void walk(req *r, const broker__node *n, ek_buf *path, int depth,
                 void (*visit)(req *r, const broker__node *n, const char *topic))
{
    size_t keep = path->len;
    if (depth > 0) {
        if (depth > 1) ek_buf_putc(path, '/');
        ek_buf_append(path, n->name, n->nlen);
        visit(r, n, path->data ? path->data : "");
    }
    for (size_t i = 0; i < n->children.cap; i++)
        if (n->children.e[i].h) walk(r, n->children.e[i].val, path, depth + 1, visit);
    path->len = keep;
    if (path->data) path->data[keep] = 0;
}

static void visit_topic(req *r, const broker__node *n, const char *topic)
{
    if (!n->nsubs || (r->topic && strcmp(r->topic, topic) != 0) || !take(r)) return;
    size_t internal = 0;
    for (size_t i = 0; i < n->nsubs; i++) internal += n->subs[i]->s == NULL;
    ek_value o = ek_object_new(3);
    ek_object_set(&o, "topic", ek_string(topic));
    ek_object_set(&o, "subscribers", ek_int((int64_t)(n->nsubs - internal)));
    ek_object_set(&o, "internal", ek_int((int64_t)internal));
    ek_array_push(&r->out, o);
}

static void walk_tree(ek_broker *b, req *r, void (*visit)(req *r, const broker__node *n, const char *topic))
{
    r->out = ek_array_new(0);
    if (!b->root) return;
    ek_buf path = EK_BUF_INIT;
    walk(r, b->root, &path, 0, visit);
    ek_buf_free(&path);
}

static void op_topics(ek_broker *b, req *r)
{
    walk_tree(b, r, visit_topic);
}

/* ---- retained messages ---- */

static bool live(const broker__msg *m)
{
    return m && !m->sys && !(m->has_expiry && ek_now_ms() >= m->expire_at);
}

static ek_value retained_row(const broker__msg *m, size_t max)
{
    size_t n = m->len < max ? m->len : max;
    bool text = broker__utf8_valid(m->payload, m->len);
    if (text) /* cut on a character boundary */
        while (n < m->len && n > 0 && (m->payload[n] & 0xC0) == 0x80) n--;
    ek_value o = ek_object_new(8);
    ek_object_set(&o, "topic", ek_string_n(m->topic, m->topic_len));
    ek_object_set(&o, "qos", ek_int(m->qos));
    ek_object_set(&o, "size", ek_int(m->len));
    ek_object_set(&o, "payload", text ? ek_string_n((const char *)m->payload, n) : ek_bytes(m->payload, n));
    ek_object_set(&o, "payload_encoding", ek_string(text ? "text" : "base64"));
    ek_object_set(&o, "truncated", ek_bool(n < m->len));
    ek_object_set(&o, "publish_at", when(m->stored_at));
    if (m->has_expiry) ek_object_set(&o, "expiry_interval", ek_int(broker__msg_ttl(m, ek_now_ms())));
    return o;
}

static void visit_retained(req *r, const broker__node *n, const char *topic)
{
    if (!live(n->retained) || (r->topic && strcmp(r->topic, topic) != 0) || !take(r)) return;
    ek_array_push(&r->out, retained_row(n->retained, PREVIEW));
}

static void op_retained(ek_broker *b, req *r)
{
    walk_tree(b, r, visit_retained);
}

static broker__node *retained_node(ek_broker *b, req *r)
{
    broker__node *n = broker__tree_node(b, r->key, strlen(r->key), false);
    if (n && live(n->retained)) return n;
    r->rc = ek_err_set(&r->err, EK_ENOTFOUND, "no retained message on topic %s", r->key);
    return NULL;
}

static void op_retained_get(ek_broker *b, req *r)
{
    broker__node *n = retained_node(b, r);
    if (n) r->out = retained_row(n->retained, n->retained->len);
}

static void op_retained_delete(ek_broker *b, req *r)
{
    if (!retained_node(b, r)) return;
    broker__msg *m = broker__msg_new(r->key, strlen(r->key), NULL, 0, NULL, 0, 0, true);
    broker__retain_set(b, m); /* an empty payload deletes, as a client's empty retained PUBLISH */
    ek_broker_msg_unref(m);
}

/* ---- the public calls ---- */

int ek_broker_clients(ek_broker *b, ek_broker_query *q, ek_value *rows, ek_err *err)
{
    return call(b, op_clients, NULL, q, rows, err);
}

int ek_broker_client_get(ek_broker *b, const char *clientid, ek_value *out, ek_err *err)
{
    return call(b, op_client, clientid, NULL, out, err);
}

int ek_broker_client_kick(ek_broker *b, const char *clientid, ek_err *err)
{
    return call(b, op_kick, clientid, NULL, NULL, err);
}

int ek_broker_subscriptions(ek_broker *b, ek_broker_query *q, ek_value *rows, ek_err *err)
{
    return call(b, op_subscriptions, NULL, q, rows, err);
}

int ek_broker_topics(ek_broker *b, ek_broker_query *q, ek_value *rows, ek_err *err)
{
    return call(b, op_topics, NULL, q, rows, err);
}

int ek_broker_retained(ek_broker *b, ek_broker_query *q, ek_value *rows, ek_err *err)
{
    return call(b, op_retained, NULL, q, rows, err);
}

int ek_broker_retained_get(ek_broker *b, const char *topic, ek_value *out, ek_err *err)
{
    return call(b, op_retained_get, topic, NULL, out, err);
}

int ek_broker_retained_delete(ek_broker *b, const char *topic, ek_err *err)
{
    return call(b, op_retained_delete, topic, NULL, NULL, err);
}
