/* DISCONNECT from a client: a normal disconnect discards the will, reason 0x04 asks for it, and
 * an MQTT 5 client may lower (or, if it connected with a non-zero interval, change) the session
 * expiry interval. Raising it from 0 is a protocol error. */
#include "broker/broker_int.h"

int broker__handle_disconnect(broker__conn *c, broker__pkt *p)
{
    broker__session *s = c->s;
    if (c->version == 5 && BP_HAS(&p->props, BP_SESSION_EXPIRY)) {
        if (s->expiry == 0 && p->props.session_expiry != 0) return RC_PROTOCOL;
        uint32_t e = p->props.session_expiry;
        s->expiry = e > c->b->cfg.session_expiry_max ? c->b->cfg.session_expiry_max : e;
    }
    c->will_suppress = !(c->version == 5 && p->reason == RC_DISCONNECT_WITH_WILL);
    broker__conn_close(c, 0);
    return 0;
}
