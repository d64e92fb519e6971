/* Overload protection: the limits that keep one client, or a crowd of them, from taking the
 * broker down (maxClients, maxConnRate, maxMessageRate, maxTopicLevels, maxTopicLength; the
 * in-flight and queue bounds live with the session). Each refusal is counted in b->st, and so
 * shows in $SYS/brokers/kuiperd/overload/..., GET /broker/stats and Prometheus.
 *
 * Rates are token buckets refilled from the monotonic clock when a token is asked for: a bucket
 * is two integers in the connection or listener, and no timer runs per client. A bucket holds at
 * most one second of tokens, so a client may burst up to its rate and then keep to it. */
#include "broker/broker_int.h"

#include <string.h>

bool broker__bucket_take(broker__bucket *k, uint32_t rate, int64_t now_ms)
{
    if (!rate) return true;
    int64_t cap = (int64_t)rate * 1000;
    if (!k->at || now_ms - k->at >= 1000) {
        k->milli = cap; /* a second or more since the last take: full */
    } else if (now_ms > k->at) {
        /* rate tokens per 1000 ms = rate thousandths of a token per ms */
        int64_t add = (now_ms - k->at) * (int64_t)rate;
        k->milli = add >= cap - k->milli ? cap : k->milli + add;
    }
    k->at = now_ms > 0 ? now_ms : 1;
    if (k->milli < 1000) return false;
    k->milli -= 1000;
    return true;
}

bool broker__overload_accept(ek_broker *b, broker__io *lio)
{
    if (b->cfg.max_clients && b->nconns >= b->cfg.max_clients) {
        b->st.ov_max_clients++;
        return false;
    }
    if (!b->cfg.max_conn_rate) return true;
    for (int i = 0; i < b->nlisteners; i++) {
        if (&b->listeners[i]->io != lio) continue;
        if (broker__bucket_take(&b->conn_rate[i], b->cfg.max_conn_rate, ek_mono_ms())) return true;
        b->st.ov_conn_rate++;
        return false;
    }
    return true;
}

bool broker__overload_publish(broker__conn *c)
{
    ek_broker *b = c->b;
    if (!b->cfg.max_msg_rate) return true; /* no clock read per message when there is no limit */
    if (broker__bucket_take(&c->msg_rate, b->cfg.max_msg_rate, ek_mono_ms())) return true;
    b->st.ov_msg_rate++;
    return false;
}

uint8_t broker__overload_topic(ek_broker *b, const char *topic, size_t len, bool filter)
{
    uint8_t refuse = filter ? RC_FILTER_INVALID : RC_TOPIC_INVALID;
    /* $SYS topics are the broker's own and deeper than a tight limit: watching them stays possible. */
    if (filter && len >= 5 && memcmp(topic, "$SYS/", 5) == 0) return 0;
    if (b->cfg.max_topic_length && len > b->cfg.max_topic_length) {
        b->st.ov_topic_length++;
        return refuse;
    }
    if (!b->cfg.max_topic_levels) return 0;
    uint32_t levels = 1;
    for (const char *p = topic, *end = topic + len; (p = memchr(p, '/', (size_t)(end - p))) != NULL; p++)
        if (++levels > b->cfg.max_topic_levels) {
            b->st.ov_topic_levels++;
            return refuse;
        }
    return 0;
}
