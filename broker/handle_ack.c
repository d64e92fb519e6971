/* PUBACK, PUBREC, PUBREL and PUBCOMP: the QoS 1 and QoS 2 acknowledgement flows.
 *
 * Outbound (broker to client) messages sit in the session's in-flight window until PUBACK
 * (QoS 1) or PUBCOMP (QoS 2); PUBREC switches a QoS 2 entry to "PUBREL sent" and releases the
 * message itself, since only its packet id is needed from then on. Freeing a slot lets the
 * session pump its queue. Inbound QoS 2 ids wait in s->rel until the client's PUBREL. */
#include "broker/broker_int.h"
#include "engine/mem.h"

static void reply(broker__conn *c, uint8_t type, uint16_t id, uint8_t reason)
{
    broker__pkt a = {.type = type, .id = id, .reason = c->version == 5 ? reason : 0};
    broker__conn_send(c, &a);
}

static bool rel_take(broker__session *s, uint16_t id)
{
    for (uint16_t i = 0; i < s->nrel; i++) {
        if (s->rel[i] != id) continue;
        s->rel[i] = s->rel[--s->nrel];
        return true;
    }
    return false;
}

int broker__handle_ack(broker__conn *c, broker__pkt *p)
{
    broker__session *s = c->s;
    broker__qent *e;
    switch (p->type) {
    case BROKER_PUBACK:
        e = broker__session_infl_find(s, p->id);
        if (e && e->qos == 1) broker__session_infl_done(s, e);
        break;
    case BROKER_PUBREC:
        e = broker__session_infl_find(s, p->id);
        if (!e || e->qos != 2) {
            reply(c, BROKER_PUBREL, p->id, RC_ID_NOT_FOUND);
            break;
        }
        if (p->reason >= 0x80) {
            broker__session_infl_done(s, e);
            break;
        }
        e->state = 2;
        ek_broker_msg_unref(e->m);
        e->m = NULL;
        reply(c, BROKER_PUBREL, p->id, 0);
        break;
    case BROKER_PUBREL:
        reply(c, BROKER_PUBCOMP, p->id, rel_take(s, p->id) ? 0 : RC_ID_NOT_FOUND);
        break;
    case BROKER_PUBCOMP:
        e = broker__session_infl_find(s, p->id);
        if (e && e->state == 2) broker__session_infl_done(s, e);
        break;
    default:
        return RC_PROTOCOL;
    }
    return 0;
}
