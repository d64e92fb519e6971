/* UNSUBSCRIBE: removes each of the session's subscriptions named (the filter exactly as
 * subscribed, $share/ prefix included) and answers UNSUBACK, with one reason code per filter in
 * MQTT 5 (0x11 when there was no such subscription). */
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
        codes[i] = RC_NO_SUBSCRIPTION;
        for (size_t k = 0; k < s->nsubs; k++) {
            broker__sub *sub = s->subs[k];
            if (strlen(sub->filter) != f.len || memcmp(sub->filter, f.p, f.len) != 0) continue;
            broker__session_del_sub(s, sub);
            broker__tree_remove(c->b, sub);
            codes[i] = RC_SUCCESS;
            break;
        }
        i++;
    }
    s->dirty = true;
    broker__pkt a = {.type = BROKER_UNSUBACK, .id = p->id, .list = {codes, i}};
    broker__conn_send(c, &a);
    ek_free(codes);
    return 0;
}
