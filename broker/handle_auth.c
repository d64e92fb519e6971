/* AUTH: MQTT 5 enhanced authentication (MQTT 5.0 section 4.12), driving the method offered through
 * ek_broker_set_auth_hook (or the built-in KUIPER-HMAC-SHA256 of auth.c).
 *
 * A CONNECT naming the offered method starts the exchange: while the method answers CONTINUE the
 * connection sits in CONN_AUTH, the CONNECT bytes kept aside, and each AUTH 0x18 carries the
 * client's next step; on success the kept CONNECT is decoded again and accepted as usual (CONNACK
 * carrying the method), on failure the client gets a CONNACK with the method's reason code. Once
 * connected, AUTH 0x19 re-authenticates the same way, ending in AUTH 0x00 or a DISCONNECT with the
 * reason code. Any other method gets 0x8C, and an AUTH out of turn or naming another method is a
 * protocol error (0x82), as the specification asks. */
#include "broker/broker_int.h"
#include "engine/mem.h"

#include <assert.h>
#include <string.h>

static bool same_method(const ek_broker_auth_ops *ops, const broker__pkt *p)
{
    const char *m = ops ? ops->method : NULL;
    return m && BP_HAS(&p->props, BP_AUTH_METHOD) && p->props.auth_method.len == strlen(m) &&
           memcmp(p->props.auth_method.p, m, strlen(m)) == 0;
}

static void send_auth(broker__conn *c, uint8_t reason, const uint8_t *data, size_t len)
{
    broker__pkt a = {.type = BROKER_AUTH, .reason = reason};
    const char *m = c->auth_ops->method;
    BP_SET(&a.props, BP_AUTH_METHOD);
    a.props.auth_method = (broker__bin){(const uint8_t *)m, (uint32_t)strlen(m)};
    if (len) {
        BP_SET(&a.props, BP_AUTH_DATA);
        a.props.auth_data = (broker__bin){data, (uint32_t)len};
    }
    broker__conn_send(c, &a);
}

/* Ends the method's state (the method that made it: the hook may have been replaced since). */
static void end_state(broker__conn *c)
{
    if (c->auth_state && c->auth_ops->end) c->auth_ops->end(c->auth_ops_arg, c->auth_state);
    c->auth_state = NULL;
}

/* Sends the method's answer on: AUTH 0x18 when it continues. Returns the method's verdict, with
 * anything that is neither success, continue nor a failure code turned into 0x87. */
static int answer(broker__conn *c, int rc, uint8_t *out, size_t out_len)
{
    if (rc == EK_BROKER_AUTH_CONTINUE) send_auth(c, RC_CONTINUE_AUTH, out, out_len);
    ek_free(out);
    if (rc != EK_BROKER_AUTH_CONTINUE) end_state(c);
    if (rc != EK_BROKER_AUTH_SUCCESS && rc != EK_BROKER_AUTH_CONTINUE && (rc < 0x80 || rc > 0xFF))
        rc = RC_NOT_AUTHORIZED;
    return rc;
}

static int start(broker__conn *c, const char *client_id, size_t idlen, const char *user, broker__bin data)
{
    char *cid = ek_strndup(client_id, idlen);
    uint8_t *out = NULL;
    size_t out_len = 0;
    end_state(c);
    int rc = c->auth_ops->begin(c->auth_ops_arg, cid, user, data.p, data.len, &c->auth_state, &out, &out_len);
    ek_free(cid);
    return answer(c, rc, out, out_len);
}

int broker__auth_begin(broker__conn *c, broker__pkt *p)
{
    if (!same_method(c->b->auth_ops, p)) return RC_BAD_AUTH_METHOD;
    c->enhanced = true;
    c->auth_ops = c->b->auth_ops;
    c->auth_ops_arg = c->b->auth_ops_arg;
    char *user = p->has_user ? ek_strndup((const char *)p->username.p, p->username.len) : NULL;
    int rc = start(c, (const char *)p->client_id.p, p->client_id.len, user, p->props.auth_data);
    ek_free(user);
    if (rc != EK_BROKER_AUTH_CONTINUE) return rc ? rc : broker__connect_accept(c, p);
    c->auth_connect = ek_malloc(p->wire.len);
    memcpy(c->auth_connect, p->wire.p, p->wire.len);
    c->auth_connect_len = p->wire.len;
    c->state = CONN_AUTH;
    return 0;
}

/* The method accepted the client of a connection in CONN_AUTH: accept its kept CONNECT. */
static int connect_done(broker__conn *c)
{
    broker__pkt p;
    uint8_t *buf = c->auth_connect;
    c->auth_connect = NULL;
    int rc = broker__pkt_decode(buf, c->auth_connect_len, 0, &p);
    assert(rc == 0); /* it was decoded once already */
    c->state = CONN_NEW;
    rc = broker__connect_accept(c, &p);
    ek_free(buf);
    return rc;
}

int broker__handle_auth(broker__conn *c, broker__pkt *p)
{
    if (!c->enhanced || !same_method(c->auth_ops, p)) return RC_PROTOCOL;
    int rc;
    if (p->reason == RC_REAUTH && c->state == CONN_ACTIVE && !c->reauth) {
        c->reauth = true;
        rc = start(c, c->s->id, strlen(c->s->id), c->username, p->props.auth_data);
    } else if (p->reason == RC_CONTINUE_AUTH && c->auth_state && (c->state == CONN_AUTH || c->reauth)) {
        uint8_t *out = NULL;
        size_t out_len = 0;
        rc = c->auth_ops->step(c->auth_ops_arg, c->auth_state, p->props.auth_data.p, p->props.auth_data.len, &out,
                               &out_len);
        rc = answer(c, rc, out, out_len);
    } else {
        return RC_PROTOCOL;
    }
    if (rc) return rc == EK_BROKER_AUTH_CONTINUE ? 0 : rc;
    if (c->state == CONN_AUTH) return connect_done(c);
    c->reauth = false;
    send_auth(c, 0, NULL, 0);
    return 0;
}

void broker__auth_end(broker__conn *c)
{
    end_state(c);
    ek_free(c->auth_connect);
    c->auth_connect = NULL;
}
