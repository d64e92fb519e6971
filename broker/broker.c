/* The public face of the broker (broker.h): start, stop, the listening sockets, and the
 * thread-safe in-process publish/subscribe used by kuiperd's MQTT source and sink.
 *
 * ek_broker_start loads the configuration, opens persistence and the listeners on the caller's
 * thread (so a port in use is reported as an error), then runs the reactor on its own thread.
 * Every other public call builds what it can on the caller's thread (a message is copied once,
 * there) and posts the rest to the reactor. An in-process publish to $delayed/{seconds}/{topic} is
 * delayed like a client's (topic rewrite rules are for MQTT clients only). ek_broker_unsubscribe waits for the reactor, so once
 * it returns the callback is never called again; called from a callback it runs directly. */
#include "broker/broker_int.h"
#include "engine/log.h"
#include "engine/mem.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static void on_accept(broker__io *io, uint32_t events)
{
    broker__listener *l = (broker__listener *)io;
    broker__conn_accept(l->b, io);
}

static int open_listener(ek_broker *b, const broker__listener_cfg *lc, ek_err *err)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)lc->port)};
    if (inet_pton(AF_INET, lc->bind, &sa.sin_addr) != 1)
        return ek_err_set(err, EK_ECONF, "broker: bad bind address \"%s\"", lc->bind);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 1024) < 0) {
        int e = errno;
        if (fd >= 0) close(fd);
        return ek_err_set(err, EK_EIO, "broker: cannot listen on %s:%d: %s", lc->bind, lc->port, strerror(e));
    }
    socklen_t sl = sizeof sa;
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    void *ctx = NULL;
    if (lc->tls) {
        int rc = broker__tls_ctx_new(lc, &ctx, err);
        if (rc) {
            close(fd);
            return rc;
        }
    }
    broker__listener *l = ek_calloc(1, sizeof *l);
    l->io.fd = fd;
    l->io.cb = on_accept;
    l->b = b;
    l->cfg = lc;
    l->ssl_ctx = ctx;
    b->listeners[b->nlisteners] = l;
    broker__io_add(b, &l->io, EPOLLIN);
    /* "The" port is the first plain MQTT listener's (the first listener's without one). */
    bool plain = !lc->tls && !lc->websocket;
    if (b->nlisteners == 0 || (plain && !b->port_plain)) {
        b->port = ntohs(sa.sin_port);
        b->port_plain = plain;
    }
    b->nlisteners++;
    return 0;
}

static void *thread_main(void *arg)
{
    ek_broker *b = arg;
    pthread_setname_np(pthread_self(), "ek-broker");
    broker__reactor_run(b);
    return NULL;
}

static void sweep_cb(ek_broker *b, void *arg)
{
    broker__conn_sweep(b, arg);
}

static void persist_cb(ek_broker *b, void *arg)
{
    broker__persist_flush(b);
    broker__timer_arm(b, &b->persist_timer, ek_mono_ms() + (int64_t)b->cfg.persist_interval * 1000);
}

int ek_broker_start(const ek_value *section, const char *data_dir, ek_broker **out, ek_err *err)
{
    *out = NULL;
    ek_broker *b = ek_calloc(1, sizeof *b);
    b->ep = b->evfd = -1;
    b->started_ms = ek_now_ms();
    atomic_init(&b->next_sub_id, 0);
    atomic_init(&b->pending_pub, 0);
    atomic_init(&b->stopping, false);
    b->rng = (uint64_t)ek_now_ms() * 0x9E3779B97F4A7C15ull ^ (uint64_t)(uintptr_t)b;
    int rc = broker__cfg_load(&b->cfg, section, err);
    if (!rc) rc = broker__reactor_init(b, err);
    if (!rc && b->cfg.persist && data_dir) rc = broker__persist_open(b, data_dir, err);
    if (!rc && data_dir) rc = ek_authdb_open(data_dir, &b->authdb, err);
    for (int i = 0; !rc && b->cfg.enable && i < b->cfg.nlisteners; i++) rc = open_listener(b, &b->cfg.listeners[i], err);
    if (rc) {
        ek_broker_stop(b);
        return rc;
    }
    broker__auth_install(b);
    broker__persist_load(b);
    b->sweep_timer = (broker__timer){.idx = SIZE_MAX, .fn = sweep_cb};
    broker__timer_arm(b, &b->sweep_timer, ek_mono_ms() + 1000);
    b->persist_timer = (broker__timer){.idx = SIZE_MAX, .fn = persist_cb};
    if (b->db) broker__timer_arm(b, &b->persist_timer, ek_mono_ms() + (int64_t)b->cfg.persist_interval * 1000);
    broker__sys_start(b);
    broker__bridges_start(b);
    if (pthread_create(&b->thr, NULL, thread_main, b) != 0) {
        ek_broker_stop(b);
        return ek_err_set(err, EK_EIO, "broker: cannot start the reactor thread");
    }
    b->running = true;
    *out = b;
    return 0;
}

static void wake_stop(ek_broker *b, void *arg)
{
    atomic_store(&b->stopping, true);
}

void ek_broker_stop(ek_broker *b)
{
    if (!b) return;
    broker__bridges_stop(b); /* while the reactor still runs: they unsubscribe through it */
    if (b->running) {
        broker__post(b, wake_stop, NULL);
        pthread_join(b->thr, NULL);
        b->running = false;
    }
    broker__check_stop(b);
    broker__held_stop(b);
    broker__reactor_drain(b);
    /* Persist every session still connected as if it went offline now, then free everything. */
    int64_t now = ek_now_ms();
    for (broker__conn *c = b->conns; c; c = c->next) {
        broker__session *s = c->s;
        if (!s) continue;
        s->conn = NULL;
        if (s->expiry) s->dirty = true;
        if (s->expiry && s->expiry != UINT32_MAX) s->expire_at = now + (int64_t)s->expiry * 1000;
    }
    broker__persist_flush(b);
    broker__persist_close(b);
    while (b->conns) {
        broker__conn *c = b->conns;
        c->s = NULL;
        c->will_suppress = true;
        broker__conn_close(c, RC_SHUTTING_DOWN);
    }
    broker__conn_flush_all(b);
    broker__conn_free_all(b);
    for (int i = 0; i < b->nlisteners; i++) {
        close(b->listeners[i]->io.fd);
        broker__tls_ctx_free(b->listeners[i]->ssl_ctx);
        ek_free(b->listeners[i]);
    }
    for (size_t i = 0; i < b->sessions.cap; i++)
        if (b->sessions.e[i].h) broker__session_free(b->sessions.e[i].val);
    broker__map_free(&b->sessions);
    broker__tree_free(b);
    broker__map_free(&b->inproc);
    broker__map_free(&b->exclusive);
    broker__delayed_free(b);
    ek_free(b->matched);
    ek_free(b->cand);
    broker__held_free(b);
    broker__reactor_fini(b);
    ek_authdb_close(b->authdb);
    broker__cfg_free(&b->cfg);
    ek_free(b);
}

int ek_broker_port(const ek_broker *b)
{
    return b ? b->port : 0;
}

/* ---- in-process publish/subscribe ---- */

/* In-process publishes waiting for the reactor; beyond this the publisher is told the broker is
 * busy (EK_ENOMEM) instead of the queue growing without bound, so a sink can cache and retry. */
#define MAX_PENDING_PUBLISH 65536

static void do_publish(ek_broker *b, void *arg)
{
    broker__msg *m = arg;
    atomic_fetch_sub(&b->pending_pub, 1);
    b->st.msgs_rx++;
    const char *inner;
    uint32_t delay;
    int d = b->cfg.delayed_enable ? broker__delayed_parse(m->topic, m->topic_len, &delay, &inner) : 0;
    if (d > 0) { /* the same message under the topic after the prefix */
        broker__msg *h = broker__msg_new(inner, strlen(inner), m->payload, m->len, NULL, 0, m->qos, m->retain);
        broker__delayed_add(b, h, delay);
        ek_broker_msg_unref(h);
    } else if (d == 0) {
        if (m->retain) broker__retain_set(b, m);
        broker__route(b, m);
    }
    ek_broker_msg_unref(m);
}

int ek_broker_publish(ek_broker *b, const char *topic, const void *payload, size_t len, int qos, bool retain,
                      ek_err *err)
{
    size_t tlen = topic ? strlen(topic) : 0;
    if (!b) return ek_err_set(err, EK_ESTATE, "broker: not running");
    if (!broker__topic_valid((const uint8_t *)topic, tlen) || !broker__utf8_valid((const uint8_t *)topic, tlen))
        return ek_err_set(err, EK_EINVAL, "broker: invalid topic \"%s\"", topic ? topic : "");
    if (qos < 0 || qos > 2) return ek_err_set(err, EK_EINVAL, "broker: invalid qos %d", qos);
    if (len > b->cfg.max_packet) return ek_err_set(err, EK_EINVAL, "broker: payload of %zu bytes is too large", len);
    if (atomic_fetch_add(&b->pending_pub, 1) >= MAX_PENDING_PUBLISH) {
        atomic_fetch_sub(&b->pending_pub, 1);
        return ek_err_set(err, EK_ENOMEM, "broker: busy, %d publishes are waiting", MAX_PENDING_PUBLISH);
    }
    broker__msg *m = broker__msg_new(topic, tlen, payload, len, NULL, 0, (uint8_t)qos, retain);
    broker__post(b, do_publish, m);
    return 0;
}

static void do_subscribe(ek_broker *b, void *arg)
{
    broker__sub *sub = arg;
    bool existed;
    if (sub->hold) b->nholding++;
    sub = broker__tree_add(b, sub, &existed);
    broker__map_put(&b->inproc, sub->idkey, strlen(sub->idkey), sub);
    if (!sub->group) broker__retain_deliver(b, sub, broker__share_split(sub->filter, NULL));
}

long ek_broker_subscribe(ek_broker *b, const char *filter, int qos, ek_broker_deliver_fn fn, void *arg, ek_err *err)
{
    if (!b) return ek_err_set(err, EK_ESTATE, "broker: not running");
    char *group = NULL;
    const char *real = filter && !broker__is_exclusive(filter) ? broker__share_split(filter, &group) : NULL;
    if (!real || !broker__filter_valid((const uint8_t *)real, strlen(real)) ||
        !broker__utf8_valid((const uint8_t *)filter, strlen(filter))) {
        ek_free(group);
        return ek_err_set(err, EK_EINVAL, "broker: invalid topic filter \"%s\"", filter ? filter : "");
    }
    broker__sub *sub = ek_calloc(1, sizeof *sub);
    sub->filter = ek_strdup(filter);
    sub->group = group;
    sub->hold = (qos & EK_BROKER_HOLD) != 0;
    qos &= ~EK_BROKER_HOLD;
    sub->qos = (uint8_t)(qos < 0 ? 0 : qos > 2 ? 2 : qos);
    sub->fn = fn;
    sub->arg = arg;
    sub->id = atomic_fetch_add(&b->next_sub_id, 1) + 1;
    snprintf(sub->idkey, sizeof sub->idkey, "%ld", sub->id);
    long id = sub->id;
    if (b->running && !pthread_equal(pthread_self(), b->thr)) {
        /* Wait until the subscription is in the topic tree, so that whatever is published after
         * this returns reaches it (a rule reported running must see the next message). On a
         * timeout the reactor still adds it later. */
        ek_err e = {0};
        if (broker__call(b, do_subscribe, sub, NULL, 5000, &e))
            ek_warn("broker: subscription to %s is late: %s", filter, e.msg);
    } else if (b->running) {
        do_subscribe(b, sub);
    } else {
        broker__post(b, do_subscribe, sub);
    }
    return id;
}

typedef struct unsub_req {
    long id;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
} unsub_req;

static void do_unsubscribe_id(ek_broker *b, long id)
{
    char key[24];
    int kl = snprintf(key, sizeof key, "%ld", id);
    broker__sub *sub = broker__map_del(&b->inproc, key, (size_t)kl);
    if (sub && sub->hold) b->nholding--;
    if (sub) broker__tree_remove(b, sub);
}

static void do_unsubscribe(ek_broker *b, void *arg)
{
    unsub_req *r = arg;
    do_unsubscribe_id(b, r->id);
    pthread_mutex_lock(&r->mu);
    r->done = true;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

void ek_broker_unsubscribe(ek_broker *b, long id)
{
    if (!b || id <= 0) return;
    if (!b->running || pthread_equal(pthread_self(), b->thr)) {
        do_unsubscribe_id(b, id);
        return;
    }
    unsub_req r = {.id = id, .done = false};
    pthread_mutex_init(&r.mu, NULL);
    pthread_cond_init(&r.cv, NULL);
    broker__post(b, do_unsubscribe, &r);
    pthread_mutex_lock(&r.mu);
    while (!r.done) pthread_cond_wait(&r.cv, &r.mu);
    pthread_mutex_unlock(&r.mu);
    pthread_mutex_destroy(&r.mu);
    pthread_cond_destroy(&r.cv);
}

/* ---- enhanced authentication hook ---- */

typedef struct hook_req {
    const ek_broker_auth_ops *ops;
    void *arg;
} hook_req;

static void do_set_hook(ek_broker *b, void *arg)
{
    hook_req *r = arg;
    b->auth_ops = r->ops;
    b->auth_ops_arg = r->arg;
    ek_free(r);
}

void ek_broker_set_auth_hook(ek_broker *b, const ek_broker_auth_ops *ops, void *arg)
{
    if (!b) return;
    hook_req *r = ek_malloc(sizeof *r);
    *r = (hook_req){ops, arg};
    if (!b->running || pthread_equal(pthread_self(), b->thr)) do_set_hook(b, r);
    else broker__post(b, do_set_hook, r);
}
