/* Messages: one allocation per published message, shared by reference by every subscriber queue,
 * in-flight window and in-process callback that holds it (the public ek_broker_msg).
 *
 * The topic, the forwarded MQTT 5 properties (payload format, content type, response topic,
 * correlation data, user properties, already encoded) and the payload follow the header in the
 * same block, so routing a message to N subscribers costs N refcount bumps and no copy. The
 * refcount is atomic because in-process subscribers may keep a message on their own threads. */
#include "broker/broker_int.h"
#include "engine/mem.h"

#include <string.h>

broker__msg *broker__msg_new(const char *topic, size_t tlen, const void *payload, size_t len,
                             const void *props, size_t plen, uint8_t qos, bool retain)
{
    broker__msg *m = ek_malloc(sizeof *m + tlen + 1 + plen + len);
    memset(m, 0, sizeof *m);
    atomic_init(&m->refs, 1);
    m->qos = qos;
    m->retain = retain;
    m->topic_len = (uint16_t)tlen;
    m->topic = (char *)m->data;
    memcpy(m->topic, topic, tlen);
    m->topic[tlen] = 0;
    m->props = m->data + tlen + 1;
    m->props_len = (uint32_t)plen;
    if (plen && props) memcpy(m->props, props, plen);
    m->payload = m->props + plen;
    m->len = (uint32_t)len;
    if (len) memcpy(m->payload, payload, len);
    return m;
}

uint32_t broker__msg_ttl(const broker__msg *m, int64_t now_ms)
{
    if (!m->has_expiry) return UINT32_MAX;
    if (now_ms >= m->expire_at) return 0;
    int64_t left = (m->expire_at - now_ms + 999) / 1000;
    return left > 0 ? (uint32_t)left : 1;
}

const char *ek_broker_msg_topic(const ek_broker_msg *m)
{
    return m->topic;
}

const void *ek_broker_msg_payload(const ek_broker_msg *m, size_t *len)
{
    if (len) *len = m->len;
    return m->payload;
}

int ek_broker_msg_qos(const ek_broker_msg *m)
{
    return m->qos;
}

bool ek_broker_msg_retained(const ek_broker_msg *m)
{
    return m->retain;
}

ek_broker_msg *ek_broker_msg_ref(ek_broker_msg *m)
{
    if (m) atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
    return m;
}

void ek_broker_msg_unref(ek_broker_msg *m)
{
    if (m && atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) == 1) ek_free(m);
}
