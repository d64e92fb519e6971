/* UNSUBSCRIBE: removes each of the session's subscriptions named (the filter exactly as
 * subscribed, $share/ prefix included, after the subscribe rewrite rules, like SUBSCRIBE) and
 * answers UNSUBACK, with one reason code per filter in MQTT 5 (0x11 when there was no such
 * subscription). Removing a $exclusive/ subscription frees its filter for other clients. */
#include "broker/broker_int.h"
#include "engine/mem.h"

#include <string.h>

int broker__handle_unsubscribe(broker__conn *c, broker__pkt *p)
{
    broker__session *s = c->s;
    uint8_t *codes = ek_malloc(p->count);
    uint32_t pos = 0, i = 0;
    broker__bin f;
    uint8_t opts;
    while (broker__pkt_next_filter(p, &pos, &f, &opts)) {
        char *fstr = broker__rewrite_filter(c, (const char *)f.p, f.len);
        codes[i] = RC_NO_SUBSCRIPTION;
        for (size_t k = 0; k < s->nsubs; k++) {
            broker__sub *sub = s->subs[k];
            if (strcmp(sub->filter, fstr) != 0) continue;
            broker__exclusive_release(c->b, sub);
            broker__session_del_sub(s, sub);
            broker__tree_remove(c->b, sub);
            codes[i] = RC_SUCCESS;
            break;
        }
        ek_free(fstr);
        i++;
    }
    s->dirty = true;
    broker__pkt a = {.type = BROKER_UNSUBACK, .id = p->id, .list = {codes, i}};
    broker__conn_send(c, &a);
    ek_free(codes);
    return 0;
}
