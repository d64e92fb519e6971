/* CONNECT: protocol negotiation, client identifier, authentication hook, session resume or
 * takeover, will registration and the CONNACK (with the server's limits as MQTT 5 properties).
 *
 * A second connection with the same client id takes the session over: the old connection is
 * closed with 0x8E (its will follows the usual rules, and a will delay is cancelled if the new
 * connection resumes the session). Clean Start / Clean Session discards the stored session.
 * A CONNECT from a banned client id, user name or address is refused first (0x8A, banned.c). A
 * CONNECT naming an Authentication Method goes through handle_auth.c, which comes back to
 * broker__connect_accept once the method accepts the client (the password checks of auth.c are
 * then skipped). After the CONNACK, the autoSubscribe entries are subscribed for the client
 * (autosub.c). */
#include "broker/broker_int.h"
#include "engine/mem.h"

#include <stdio.h>
#include <string.h>

static broker__msg *make_will(const broker__pkt *p, int64_t now)
{
    const uint64_t fwd = (1ull << BP_PAYLOAD_FORMAT) | (1ull << BP_CONTENT_TYPE) |
                         (1ull << BP_RESPONSE_TOPIC) | (1ull << BP_CORRELATION) | (1ull << BP_USER);
    size_t plen = broker__props_filter(p->will_props.raw, fwd, NULL);
    broker__msg *m = broker__msg_new((const char *)p->will_topic.p, p->will_topic.len, p->will_payload.p,
                                     p->will_payload.len, NULL, plen, p->will_qos, p->will_retain);
    broker__props_filter(p->will_props.raw, fwd, m->props);
    if (BP_HAS(&p->will_props, BP_MSG_EXPIRY)) {
        m->has_expiry = true;
        m->expire_at = now + (int64_t)p->will_props.msg_expiry * 1000;
    }
    return m;
}

static uint32_t session_expiry(const ek_broker *b, const broker__pkt *p)
{
    if (p->version < 5) {
        if (p->clean) return 0;
        return b->cfg.v3_session_expiry ? b->cfg.v3_session_expiry : UINT32_MAX;
    }
    uint32_t e = BP_HAS(&p->props, BP_SESSION_EXPIRY) ? p->props.session_expiry : 0;
    if (e > b->cfg.session_expiry_max && e != UINT32_MAX) e = b->cfg.session_expiry_max;
    if (e == UINT32_MAX && b->cfg.session_expiry_max != UINT32_MAX) e = b->cfg.session_expiry_max;
    return e;
}

static void send_connack(broker__conn *c, bool present, const char *assigned, uint32_t expiry,
                         bool expiry_changed, bool ka_changed)
{
    ek_broker *b = c->b;
    broker__pkt a = {.type = BROKER_CONNACK, .session_present = present};
    if (c->version == 5) {
        broker__props *pr = &a.props;
        BP_SET(pr, BP_RECEIVE_MAX);
        pr->receive_max = b->cfg.max_inflight;
        BP_SET(pr, BP_MAX_PACKET);
        pr->max_packet = b->cfg.max_packet;
        BP_SET(pr, BP_TOPIC_ALIAS_MAX);
        pr->topic_alias_max = b->cfg.topic_alias_max;
        if (b->cfg.max_qos < 2) {
            BP_SET(pr, BP_MAX_QOS);
            pr->max_qos = b->cfg.max_qos;
        }
        if (!b->cfg.retain_available) {
            BP_SET(pr, BP_RETAIN_AVAIL);
            pr->retain_avail = 0;
        }
        if (assigned) {
            BP_SET(pr, BP_ASSIGNED_ID);
            pr->assigned_id = (broker__bin){(const uint8_t *)assigned, (uint32_t)strlen(assigned)};
        }
        if (expiry_changed) {
            BP_SET(pr, BP_SESSION_EXPIRY);
            pr->session_expiry = expiry;
        }
        if (ka_changed) {
            BP_SET(pr, BP_SERVER_KEEP_ALIVE);
            pr->server_keep_alive = c->keep_alive;
        }
        BP_SET(pr, BP_SHARED_AVAIL);
        pr->shared_avail = 1;
        if (c->enhanced) {
            BP_SET(pr, BP_AUTH_METHOD);
            pr->auth_method = (broker__bin){(const uint8_t *)c->auth_ops->method, (uint32_t)strlen(c->auth_ops->method)};
        }
    }
    c->max_packet_out = c->max_packet_out ? c->max_packet_out : b->cfg.max_packet;
    broker__conn_send(c, &a);
}

int broker__handle_connect(broker__conn *c, broker__pkt *p)
{
    ek_broker *b = c->b;
    c->version = p->version;
    if (p->will && p->will_qos > b->cfg.max_qos) return RC_QOS_UNSUPPORTED;
    if (p->will && p->will_retain && !b->cfg.retain_available) return RC_RETAIN_UNSUPPORTED;
    char *cid = ek_strndup((const char *)p->client_id.p, p->client_id.len);
    bool banned = broker__banned(c, cid, p);
    ek_free(cid);
    if (banned) return RC_BANNED;
    if (p->version == 5 && BP_HAS(&p->props, BP_AUTH_METHOD)) return broker__auth_begin(c, p);
    if (p->version == 5 && BP_HAS(&p->props, BP_AUTH_DATA)) return RC_PROTOCOL;
    return broker__connect_accept(c, p);
}

int broker__connect_accept(broker__conn *c, broker__pkt *p)
{
    ek_broker *b = c->b;

    char idbuf[40];
    const char *assigned = NULL;
    const char *id = (const char *)p->client_id.p;
    size_t idlen = p->client_id.len;
    if (idlen == 0) {
        if (p->version < 5 && !p->clean) return RC_BAD_CLIENT_ID;
        snprintf(idbuf, sizeof idbuf, "kuiperd-%llx-%llx", (unsigned long long)ek_now_ms(),
                 (unsigned long long)++b->next_uid);
        id = assigned = idbuf;
        idlen = strlen(idbuf);
    }
    if (!c->enhanced && !c->authed) {
        char *cid = ek_strndup(id, idlen);
        int rc = broker__authenticate(c, cid, p);
        ek_free(cid);
        if (rc == BROKER_CHECK_PENDING) return 0; /* auth_check.c comes back here */
        if (rc) return rc;
    }

    if (p->has_user) c->username = ek_strndup((const char *)p->username.p, p->username.len);
    /* Connection limits the client asked for. */
    if (p->version == 5) {
        if (BP_HAS(&p->props, BP_RECEIVE_MAX)) c->recv_max_out = p->props.receive_max;
        if (BP_HAS(&p->props, BP_MAX_PACKET)) c->max_packet_out = p->props.max_packet;
        if (BP_HAS(&p->props, BP_TOPIC_ALIAS_MAX))
            c->alias_max_out = p->props.topic_alias_max < b->cfg.topic_alias_out ? p->props.topic_alias_max
                                                                                 : b->cfg.topic_alias_out;
        c->alias_max_in = b->cfg.topic_alias_max;
    }
    bool ka_changed = false;
    c->keep_alive = p->keep_alive;
    if (p->version == 5 && b->cfg.max_keepalive && (p->keep_alive == 0 || p->keep_alive > b->cfg.max_keepalive)) {
        c->keep_alive = b->cfg.max_keepalive;
        ka_changed = true;
    }
    uint32_t expiry = session_expiry(b, p);
    bool expiry_changed = p->version == 5 && BP_HAS(&p->props, BP_SESSION_EXPIRY) &&
                          expiry != p->props.session_expiry;

    broker__session *s = broker__map_get(&b->sessions, id, idlen);
    if (s && s->conn) {
        s->conn->will_suppress = false;
        broker__conn_close(s->conn, RC_TAKEN_OVER);
        s = broker__map_get(&b->sessions, id, idlen);
    }
    if (s && p->clean) {
        broker__session_destroy(s);
        s = NULL;
    }
    bool present = s != NULL;
    if (!s) s = broker__session_new(b, id, idlen);
    broker__timer_cancel(b, &s->expiry_timer);
    broker__timer_cancel(b, &s->will_timer);
    ek_broker_msg_unref(s->will);
    s->will = NULL;
    s->conn = c;
    c->s = s;
    s->version = c->version;
    ek_free(s->username);
    s->username = c->username ? ek_strdup(c->username) : NULL;
    s->expiry = expiry;
    s->dirty = true;
    if (p->will) {
        s->will = make_will(p, ek_now_ms());
        s->will->from_hash = s->id_hash;
        s->will_delay = BP_HAS(&p->will_props, BP_WILL_DELAY) ? p->will_props.will_delay : 0;
    }
    uint16_t window = c->recv_max_out < b->cfg.max_inflight ? c->recv_max_out : b->cfg.max_inflight;
    broker__session_set_window(s, window);
    c->state = CONN_ACTIVE;
    c->connected_at = ek_now_ms();
    b->st.clients_total++;
    send_connack(c, present, assigned, expiry, expiry_changed, ka_changed);
    broker__session_resend(s);
    broker__autosub_apply(c);
    broker__session_pump(s);
    return 0;
}
