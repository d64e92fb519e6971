/* PUBLISH in both directions: a client's PUBLISH (message rate, topic alias resolution, QoS and
 * retain limits, the QoS 2 duplicate check, topic limits and ACL, routing, PUBACK/PUBREC) and the PUBLISH the broker sends to a client
 * (remaining message expiry, subscription identifiers, outbound topic aliases, the client's
 * maximum packet size).
 *
 * Before anything else the topic goes through broker__publish_topic: a $delayed/{seconds}/ prefix
 * hands the message to delayed.c, and the publish rewrite rules give the topic that the $SYS guard,
 * the ACL, retained storage and routing then see.
 *
 * A received message is built once (topic, forwarded properties and payload in one block) and
 * routed by reference; QoS 2 uses "method B": the message is routed when the PUBLISH arrives and
 * only its packet id is kept until PUBREL, so a duplicate is acknowledged but not routed again.
 * While in-process subscribers may hold messages (EK_BROKER_HOLD), a QoS 1/2 acknowledgement
 * waits in the connection's queue until they release it (hold.c). */
#include "broker/broker_int.h"
#include "engine/mem.h"

#include <string.h>

static const uint64_t FWD_PROPS = (1ull << BP_PAYLOAD_FORMAT) | (1ull << BP_CONTENT_TYPE) |
                                  (1ull << BP_RESPONSE_TOPIC) | (1ull << BP_CORRELATION) | (1ull << BP_USER);

static bool rel_has(const broker__session *s, uint16_t id)
{
    for (uint16_t i = 0; i < s->nrel; i++)
        if (s->rel[i] == id) return true;
    return false;
}

/* Resolves a v5 topic alias; returns 0 or the reason code to disconnect with. */
static int resolve_alias(broker__conn *c, broker__pkt *p, const char **topic, size_t *tlen)
{
    uint16_t a = p->props.topic_alias;
    if (a == 0 || a > c->alias_max_in) return RC_ALIAS_INVALID;
    if (!c->alias_in) c->alias_in = ek_calloc((size_t)c->alias_max_in + 1, sizeof *c->alias_in);
    if (*tlen) {
        ek_free(c->alias_in[a]);
        c->alias_in[a] = ek_strndup(*topic, *tlen);
    } else {
        if (!c->alias_in[a]) return RC_PROTOCOL;
        *topic = c->alias_in[a];
        *tlen = strlen(*topic);
    }
    return 0;
}

static bool acl_ok(broker__conn *c, const char *topic, size_t tlen)
{
    char small[256];
    char *t = tlen < sizeof small ? small : ek_malloc(tlen + 1);
    memcpy(t, topic, tlen);
    t[tlen] = 0;
    bool ok = broker__acl_allow(c->b, c, BROKER_ACL_PUB, t);
    if (t != small) ek_free(t);
    return ok;
}

int broker__publish_topic(ek_broker *b, const char *clientid, const char *username, const char *topic, size_t tlen,
                          char **out, uint32_t *delay)
{
    *out = NULL;
    *delay = UINT32_MAX;
    bool prefixed = b->cfg.delayed_enable && tlen >= 9 && memcmp(topic, "$delayed/", 9) == 0;
    if (!prefixed && !b->cfg.nrewrite) return 0; /* the common case: nothing to do, nothing copied */
    char *t = ek_strndup(topic, tlen);
    const char *inner;
    int d = b->cfg.delayed_enable ? broker__delayed_parse(t, tlen, delay, &inner) : 0;
    char *rw = NULL;
    if (d == 0) { /* a rule may turn a plain topic into a $delayed/ one; its result is not rewritten again */
        rw = broker__rewrite_apply(&b->cfg, BROKER_RW_PUB, t, clientid, username);
        if (rw && b->cfg.delayed_enable) d = broker__delayed_parse(rw, strlen(rw), delay, &inner);
        if (d > 0) memmove(rw, inner, strlen(inner) + 1);
    } else if (d > 0) {
        rw = broker__rewrite_apply(&b->cfg, BROKER_RW_PUB, inner, clientid, username);
        if (!rw) rw = ek_strdup(inner);
    }
    if (rw) {
        ek_free(t);
        t = rw;
    }
    size_t n = strlen(t);
    if (d < 0 || !broker__topic_valid((const uint8_t *)t, n) || !broker__utf8_valid((const uint8_t *)t, n) ||
        n > UINT16_MAX) {
        ek_free(t);
        *delay = UINT32_MAX;
        return RC_TOPIC_INVALID;
    }
    *out = t;
    return 0;
}

/* Writes a PUBACK or PUBREC; in MQTT 5 always with its reason byte (the long form), and returns
 * where that byte is relative to the unsent output, so it can be changed until the flush. */
static size_t ack_begin(broker__conn *c, uint8_t type, uint16_t id, uint8_t reason)
{
    bool v5 = c->version == 5;
    uint8_t *w = broker__conn_reserve(c, v5 ? 5 : 4);
    w[0] = (uint8_t)(type << 4);
    w[1] = v5 ? 3 : 2;
    w[2] = (uint8_t)(id >> 8);
    w[3] = (uint8_t)id;
    if (!v5) return SIZE_MAX;
    w[4] = reason;
    return (size_t)(w + 4 - c->out) - c->out_off;
}

static void ack(broker__conn *c, uint8_t type, uint16_t id, uint8_t reason)
{
    broker__pkt a = {.type = type, .id = id, .reason = c->version == 5 ? reason : 0};
    broker__conn_send(c, &a);
}

int broker__handle_publish(broker__conn *c, broker__pkt *p)
{
    ek_broker *b = c->b;
    broker__session *s = c->s;
    if (!broker__overload_publish(c)) return RC_MSG_RATE;
    if (p->qos > b->cfg.max_qos) return RC_QOS_UNSUPPORTED;
    if (p->retain && !b->cfg.retain_available) return RC_RETAIN_UNSUPPORTED;
    const char *topic = (const char *)p->topic.p;
    size_t tlen = p->topic.len;
    if (c->version == 5 && BP_HAS(&p->props, BP_TOPIC_ALIAS)) {
        int rc = resolve_alias(c, p, &topic, &tlen);
        if (rc) return rc;
    }
    b->st.msgs_rx++;
    c->msgs_in++;
    if (p->qos == 2) {
        if (rel_has(s, p->id)) {
            ack(c, BROKER_PUBREC, p->id, 0);
            return 0;
        }
        if (s->nrel >= b->cfg.max_inflight) {
            b->st.ov_inflight++;
            return RC_RECEIVE_MAX;
        }
    }
    /* The acknowledgement goes out before the message is routed, so that a client subscribed to
     * its own topic reads the PUBACK before its copy of the message (some clients check for
     * unacknowledged messages as soon as the copy arrives). The v5 reason byte is filled in
     * after routing: 0x10 when nobody matched. */
    char *final;
    uint32_t delay;
    uint8_t reason = (uint8_t)broker__publish_topic(b, s->id, c->username, topic, tlen, &final, &delay);
    if (final) {
        topic = final;
        tlen = strlen(final);
    }
    if (!reason) reason = broker__overload_topic(b, topic, tlen, false); /* 0x90: too long, too many levels */
    if (!reason && tlen >= 4 && memcmp(topic, "$SYS", 4) == 0) reason = RC_NOT_AUTHORIZED; /* the broker's */
    if (!reason && (b->cfg.nacl || b->cfg.acl_deny) && !acl_ok(c, topic, tlen)) reason = RC_NOT_AUTHORIZED;
    broker__msg *m = NULL;
    if (!reason) {
        size_t plen = c->version == 5 ? broker__props_filter(p->props.raw, FWD_PROPS, NULL) : 0;
        m = broker__msg_new(topic, tlen, p->payload.p, p->payload.len, NULL, plen, p->qos, p->retain);
        if (plen) broker__props_filter(p->props.raw, FWD_PROPS, m->props);
        m->origin = s->uid;
        m->from_hash = s->id_hash;
        if (c->version == 5 && BP_HAS(&p->props, BP_MSG_EXPIRY)) {
            m->has_expiry = true;
            m->expire_at = ek_now_ms() + (int64_t)p->props.msg_expiry * 1000;
        }
        if (delay != UINT32_MAX && !broker__delayed_add(b, m, delay)) reason = RC_QUOTA;
    }
    ek_free(final);
    bool routed_now = !reason && delay == UINT32_MAX; /* a delayed message is routed by delayed.c later */
    uint8_t type = p->qos == 2 ? BROKER_PUBREC : BROKER_PUBACK;
    size_t at = SIZE_MAX, n = 0;
    /* Held: subscribers may keep the acknowledgement back, or one is already waiting. */
    bool may_hold = p->qos && routed_now && b->nholding > 0;
    broker__held *held = p->qos && (may_hold || c->held_head) ? broker__held_push(c, type, p->id, reason) : NULL;
    ek_ack *hold = may_hold ? broker__held_ack(held, p->qos == 2) : NULL;
    if (p->qos == 2 && !reason && !hold) broker__session_rel_add(s, p->id);
    if (p->qos && !held) at = ack_begin(c, type, p->id, reason);
    if (routed_now) {
        if (p->retain) broker__retain_set(b, m);
        m->ack = hold;
        n = broker__route(b, m);
        m->ack = NULL;
        if (n == 0 && at != SIZE_MAX && c->state != CONN_CLOSING) c->out[c->out_off + at] = RC_NO_SUBSCRIBERS;
    }
    ek_broker_msg_unref(m);
    if (held) broker__held_ready(c, held, routed_now && n == 0 ? RC_NO_SUBSCRIBERS : reason, hold);
    return 0;
}

/* Picks the outbound alias for m's topic: returns the alias and sets *send_topic to false when
 * the client already knows it. */
static uint16_t alias_out(broker__conn *c, const broker__msg *m, bool *send_topic, bool *fresh)
{
    *send_topic = true;
    *fresh = false;
    uintptr_t a = (uintptr_t)broker__map_get(&c->alias_out, m->topic, m->topic_len);
    if (a) {
        *send_topic = false;
        return (uint16_t)a;
    }
    if (c->alias_out_next >= c->alias_max_out) return 0;
    if (!c->alias_out_topics) c->alias_out_topics = ek_calloc((size_t)c->alias_max_out + 1, sizeof(char *));
    a = ++c->alias_out_next;
    c->alias_out_topics[a] = ek_strndup(m->topic, m->topic_len);
    broker__map_put(&c->alias_out, c->alias_out_topics[a], m->topic_len, (void *)a);
    *fresh = true;
    return (uint16_t)a;
}

static void alias_undo(broker__conn *c, uint16_t a)
{
    broker__map_del(&c->alias_out, c->alias_out_topics[a], strlen(c->alias_out_topics[a]));
    ek_free(c->alias_out_topics[a]);
    c->alias_out_topics[a] = NULL;
    c->alias_out_next--;
}

bool broker__send_publish(broker__conn *c, broker__msg *m, uint8_t qos, bool retain, uint16_t mid, bool dup,
                          const uint32_t *subids, uint8_t nsubids)
{
    broker__pkt o = {.type = BROKER_PUBLISH, .qos = qos, .retain = retain, .dup = dup, .id = mid};
    o.topic = (broker__bin){(const uint8_t *)m->topic, m->topic_len};
    o.payload = (broker__bin){m->payload, m->len};
    if (m->has_expiry) {
        uint32_t ttl = broker__msg_ttl(m, ek_now_ms());
        if (ttl == 0) return false;
        BP_SET(&o.props, BP_MSG_EXPIRY);
        o.props.msg_expiry = ttl;
    }
    uint16_t alias = 0;
    bool fresh = false;
    if (c->version == 5) {
        o.props.extra = (broker__bin){m->props, m->props_len};
        o.props.nsub_id = nsubids;
        for (uint8_t i = 0; i < nsubids && i < BROKER_MAX_SUBIDS; i++) o.props.sub_id[i] = subids[i];
        if (c->alias_max_out) {
            bool send_topic;
            alias = alias_out(c, m, &send_topic, &fresh);
            if (alias) {
                BP_SET(&o.props, BP_TOPIC_ALIAS);
                o.props.topic_alias = alias;
                if (!send_topic) o.topic.len = 0;
            }
        }
    }
    if (!broker__conn_send(c, &o)) {
        if (fresh) alias_undo(c, alias);
        c->b->st.dropped++;
        return false;
    }
    c->b->st.msgs_tx++;
    c->msgs_out++;
    return true;
}
