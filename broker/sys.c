/* $SYS topics: the broker's own statistics, published as retained QoS 0 messages every
 * sysInterval seconds under $SYS/brokers/<node>/ (EMQX's layout; node is "kuiperd"):
 * version, uptime, datetime, sysdescr, clients/connected, clients/total, messages/received,
 * messages/sent, messages/dropped, bytes/received, bytes/sent, subscriptions/count and
 * retained/count; $SYS/brokers itself names the node. Leading wildcards never match $SYS
 * (topic_tree.c), so "#" subscribers do not see these; clients cannot publish under $SYS.
 * ek_broker_stats_get hands the same figures to other threads (Prometheus) through the post queue. */
#include "broker/broker_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define NODE "kuiperd"

static void pub(ek_broker *b, const char *suffix, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void pub(ek_broker *b, const char *suffix, const char *fmt, ...)
{
    char topic[128], val[128];
    int tl = suffix ? snprintf(topic, sizeof topic, "$SYS/brokers/" NODE "/%s", suffix)
                    : snprintf(topic, sizeof topic, "$SYS/brokers");
    va_list ap;
    va_start(ap, fmt);
    int vl = vsnprintf(val, sizeof val, fmt, ap);
    va_end(ap);
    broker__msg *m = broker__msg_new(topic, (size_t)tl, val, (size_t)vl, NULL, 0, 0, true);
    m->sys = true;
    broker__retain_set(b, m);
    broker__route(b, m);
    ek_broker_msg_unref(m);
}

/* The figures, read on the reactor thread: the one place both $SYS and ek_broker_stats_get take
 * them from, so the two never disagree. */
static void fill(ek_broker *b, ek_broker_stats *o)
{
    size_t connected = 0;
    for (broker__conn *c = b->conns; c; c = c->next) connected += c->state == CONN_ACTIVE;
    *o = (ek_broker_stats){
        .clients_connected = connected,
        .clients_total = b->sessions.len,
        .connects_total = b->st.clients_total,
        .msgs_received = b->st.msgs_rx,
        .msgs_sent = b->st.msgs_tx,
        .msgs_dropped = b->st.dropped,
        .bytes_received = b->st.bytes_rx,
        .bytes_sent = b->st.bytes_tx,
        .subscriptions = b->nsubs_total,
        .retained = b->nretained - b->nretained_sys, /* $SYS's own not counted */
        .uptime_s = (uint64_t)((ek_now_ms() - b->started_ms) / 1000),
    };
}

static void tick(ek_broker *b, void *arg)
{
    ek_broker_stats st;
    fill(b, &st);
    char dt[40];
    time_t t = (time_t)(ek_now_ms() / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(dt, sizeof dt, "%Y-%m-%dT%H:%M:%SZ", &tm);
    pub(b, NULL, "%s", NODE);
    pub(b, "version", "%s", EK_VERSION);
    pub(b, "uptime", "%llu seconds", (unsigned long long)st.uptime_s);
    pub(b, "datetime", "%s", dt);
    pub(b, "sysdescr", "%s", "kuiperd bundled MQTT broker (MQTT 3.1, 3.1.1, 5.0)");
    pub(b, "clients/connected", "%llu", (unsigned long long)st.clients_connected);
    pub(b, "clients/total", "%llu", (unsigned long long)st.clients_total);
    pub(b, "messages/received", "%llu", (unsigned long long)st.msgs_received);
    pub(b, "messages/sent", "%llu", (unsigned long long)st.msgs_sent);
    pub(b, "messages/dropped", "%llu", (unsigned long long)st.msgs_dropped);
    pub(b, "bytes/received", "%llu", (unsigned long long)st.bytes_received);
    pub(b, "bytes/sent", "%llu", (unsigned long long)st.bytes_sent);
    pub(b, "subscriptions/count", "%llu", (unsigned long long)st.subscriptions);
    pub(b, "retained/count", "%llu", (unsigned long long)st.retained);
    broker__timer_arm(b, &b->sys_timer, ek_mono_ms() + (int64_t)b->cfg.sys_interval * 1000);
}

typedef struct stats_req {
    ek_broker_stats *out;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
} stats_req;

static void do_stats(ek_broker *b, void *arg)
{
    stats_req *r = arg;
    fill(b, r->out);
    pthread_mutex_lock(&r->mu);
    r->done = true;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

int ek_broker_stats_get(ek_broker *b, ek_broker_stats *out)
{
    if (!b) return EK_ESTATE;
    if (!b->running || pthread_equal(pthread_self(), b->thr)) {
        fill(b, out);
        return 0;
    }
    stats_req r = {.out = out, .done = false};
    pthread_mutex_init(&r.mu, NULL);
    pthread_cond_init(&r.cv, NULL);
    broker__post(b, do_stats, &r);
    pthread_mutex_lock(&r.mu);
    while (!r.done) pthread_cond_wait(&r.cv, &r.mu);
    pthread_mutex_unlock(&r.mu);
    pthread_mutex_destroy(&r.mu);
    pthread_cond_destroy(&r.cv);
    return 0;
}

void broker__sys_start(ek_broker *b)
{
    if (!b->cfg.sys_interval) return;
    b->sys_timer = (broker__timer){.idx = SIZE_MAX, .fn = tick};
    broker__timer_arm(b, &b->sys_timer, ek_mono_ms());
}
