/* $SYS topics: the broker's own statistics, published as retained QoS 0 messages every
 * sysInterval seconds under $SYS/brokers/<node>/ (EMQX's layout; node is "kuiperd"):
 * version, uptime, datetime, sysdescr, clients/connected, clients/total, messages/received,
 * messages/sent, messages/dropped, bytes/received, bytes/sent, subscriptions/count and
 * retained/count; $SYS/brokers itself names the node. Leading wildcards never match $SYS
 * (topic_tree.c), so "#" subscribers do not see these; clients cannot publish under $SYS. */
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

static void tick(ek_broker *b, void *arg)
{
    int64_t now = ek_now_ms();
    size_t connected = 0;
    for (broker__conn *c = b->conns; c; c = c->next) connected += c->state == CONN_ACTIVE;
    char dt[40];
    time_t t = (time_t)(now / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(dt, sizeof dt, "%Y-%m-%dT%H:%M:%SZ", &tm);
    pub(b, NULL, "%s", NODE);
    pub(b, "version", "%s", EK_VERSION);
    pub(b, "uptime", "%lld seconds", (long long)((now - b->started_ms) / 1000));
    pub(b, "datetime", "%s", dt);
    pub(b, "sysdescr", "%s", "kuiperd bundled MQTT broker (MQTT 3.1, 3.1.1, 5.0)");
    pub(b, "clients/connected", "%zu", connected);
    pub(b, "clients/total", "%zu", b->sessions.len);
    pub(b, "messages/received", "%llu", (unsigned long long)b->st.msgs_rx);
    pub(b, "messages/sent", "%llu", (unsigned long long)b->st.msgs_tx);
    pub(b, "messages/dropped", "%llu", (unsigned long long)b->st.dropped);
    pub(b, "bytes/received", "%llu", (unsigned long long)b->st.bytes_rx);
    pub(b, "bytes/sent", "%llu", (unsigned long long)b->st.bytes_tx);
    pub(b, "subscriptions/count", "%zu", b->nsubs_total);
    pub(b, "retained/count", "%zu", b->nretained - b->nretained_sys); /* $SYS's own not counted */
    broker__timer_arm(b, &b->sys_timer, ek_mono_ms() + (int64_t)b->cfg.sys_interval * 1000);
}

void broker__sys_start(ek_broker *b)
{
    if (!b->cfg.sys_interval) return;
    b->sys_timer = (broker__timer){.idx = SIZE_MAX, .fn = tick};
    broker__timer_arm(b, &b->sys_timer, ek_mono_ms());
}
