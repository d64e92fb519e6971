/* $SYS topics: the broker's own statistics, published as retained QoS 0 messages every
 * sysInterval seconds under $SYS/brokers/<node>/ (EMQX's layout; node is "kuiperd"):
 * version, uptime, datetime, sysdescr, and the figures of the table below (clients, messages,
 * bytes, subscriptions, retained messages, overload protection); $SYS/brokers itself names the
 * node. Leading wildcards never match $SYS (topic_tree.c), so "#" subscribers do not see these;
 * clients cannot publish under $SYS. ek_broker_stats_get hands the same figures to other threads
 * (GET /broker/stats, Prometheus) through broker__call. */
#include "broker/broker_int.h"
#include "engine/mem.h"

#include <stdarg.h>
#include <stddef.h>
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

/* Every figure: its topic under $SYS/brokers/kuiperd/ (and, with '.' for '/', its key in
 * ek_broker_stats_object) and its place in ek_broker_stats. */
static const struct {
    const char *name;
    size_t off;
} figures[] = {
#define F(n, f) {n, offsetof(ek_broker_stats, f)}
    F("clients/connected", clients_connected),
    F("clients/total", clients_total),
    F("clients/connects", connects_total),
    F("clients/kicked", kicked),
    F("messages/received", msgs_received),
    F("messages/sent", msgs_sent),
    F("messages/dropped", msgs_dropped),
    F("bytes/received", bytes_received),
    F("bytes/sent", bytes_sent),
    F("subscriptions/count", subscriptions),
    F("retained/count", retained),
    F("overload/max_clients", refused_max_clients),
    F("overload/connection_rate", refused_conn_rate),
    F("overload/message_rate", disconnected_msg_rate),
    F("overload/inflight", disconnected_inflight),
    F("overload/queue_full", dropped_queue_full),
    F("overload/topic_levels", refused_topic_levels),
    F("overload/topic_length", refused_topic_length),
#undef F
};
#define NFIGURES (sizeof figures / sizeof figures[0])

static uint64_t figure(const ek_broker_stats *st, size_t i)
{
    uint64_t v;
    memcpy(&v, (const char *)st + figures[i].off, sizeof v);
    return v;
}

/* The figures, read on the reactor thread: the one place $SYS, ek_broker_stats_get and so the
 * REST API and Prometheus take them from, so they never disagree. */
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
        .refused_max_clients = b->st.ov_max_clients,
        .refused_conn_rate = b->st.ov_conn_rate,
        .disconnected_msg_rate = b->st.ov_msg_rate,
        .disconnected_inflight = b->st.ov_inflight,
        .dropped_queue_full = b->st.ov_queue_full,
        .refused_topic_levels = b->st.ov_topic_levels,
        .refused_topic_length = b->st.ov_topic_length,
        .kicked = b->st.kicked,
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
    for (size_t i = 0; i < NFIGURES; i++) pub(b, figures[i].name, "%llu", (unsigned long long)figure(&st, i));
    broker__timer_arm(b, &b->sys_timer, ek_mono_ms() + (int64_t)b->cfg.sys_interval * 1000);
}

static void do_stats(ek_broker *b, void *arg)
{
    fill(b, arg);
}

static void free_stats(void *arg)
{
    ek_free(arg);
}

int ek_broker_stats_get(ek_broker *b, ek_broker_stats *out)
{
    if (!b) return EK_ESTATE;
    /* The snapshot is filled on the heap: after a timeout the reactor still writes it. */
    ek_broker_stats *st = ek_malloc(sizeof *st);
    int rc = broker__call(b, do_stats, st, free_stats, EK_BROKER_CALL_TIMEOUT_MS, NULL);
    if (rc) return rc;
    *out = *st;
    ek_free(st);
    return 0;
}

void ek_broker_stats_object(const ek_broker_stats *st, ek_value *out)
{
    *out = ek_object_new(NFIGURES + 3);
    ek_object_set(out, "node", ek_string(NODE));
    ek_object_set(out, "version", ek_string(EK_VERSION));
    ek_object_set(out, "uptime", ek_int((int64_t)st->uptime_s));
    for (size_t i = 0; i < NFIGURES; i++) {
        char key[64];
        snprintf(key, sizeof key, "%s", figures[i].name);
        for (char *p = key; *p; p++)
            if (*p == '/') *p = '.';
        ek_object_set(out, key, ek_int((int64_t)figure(st, i)));
    }
}

void broker__sys_start(ek_broker *b)
{
    if (!b->cfg.sys_interval) return;
    b->sys_timer = (broker__timer){.idx = SIZE_MAX, .fn = tick};
    broker__timer_arm(b, &b->sys_timer, ek_mono_ms());
}
