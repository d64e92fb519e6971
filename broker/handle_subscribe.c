/* SUBSCRIBE: validates each filter, applies the subscription options (QoS capped at maxQos, no
 * local, retain as published, retain handling, subscription identifier, $share groups), answers
 * with SUBACK and then sends the retained messages the options ask for (after the SUBACK, so the
 * client knows the subscription exists when they arrive). */
#include "broker/broker_int.h"
#include "engine/mem.h"

#include <string.h>

int broker__handle_subscribe(broker__conn *c, broker__pkt *p)
{
    ek_broker *b = c->b;
    broker__session *s = c->s;
    uint32_t subid = c->version == 5 && p->props.nsub_id ? p->props.sub_id[0] : 0;
    uint8_t *codes = ek_malloc(p->count);
    broker__sub **retained = ek_calloc(p->count, sizeof *retained);
    uint32_t pos = 0, i = 0;
    broker__bin f;
    uint8_t opts;
    int rc = 0;
    while (broker__pkt_next_filter(p, &pos, &f, &opts)) {
        char *fstr = ek_strndup((const char *)f.p, f.len);
        char *group = NULL;
        const char *real = broker__share_split(fstr, &group);
        uint8_t qos = opts & 3, rh = (opts >> 4) & 3;
        if (!real || !broker__filter_valid((const uint8_t *)real, strlen(real))) {
            codes[i++] = c->version == 5 ? RC_FILTER_INVALID : 0x80;
            ek_free(fstr);
            ek_free(group);
            continue;
        }
        if (!broker__acl_allow(b, c, BROKER_ACL_SUB, real)) { /* $share/<group>/ is not part of the ACL's topic */
            codes[i++] = c->version == 5 ? RC_NOT_AUTHORIZED : 0x80;
            ek_free(fstr);
            ek_free(group);
            continue;
        }
        if (group && (opts & SUBOPT_NL)) {
            ek_free(fstr);
            ek_free(group);
            rc = RC_PROTOCOL;
            goto out;
        }
        broker__sub *sub = ek_calloc(1, sizeof *sub);
        sub->s = s;
        sub->filter = fstr;
        sub->group = group;
        sub->qos = qos < b->cfg.max_qos ? qos : b->cfg.max_qos;
        sub->opts = opts;
        sub->subid = subid;
        bool existed = false;
        sub = broker__tree_add(b, sub, &existed);
        if (!existed) broker__session_add_sub(s, sub);
        codes[i] = sub->qos;
        if (!sub->group && (rh == 0 || (rh == 1 && !existed))) retained[i] = sub;
        i++;
    }
    s->dirty = true;
    broker__pkt a = {.type = BROKER_SUBACK, .id = p->id, .list = {codes, i}};
    broker__conn_send(c, &a);
    for (uint32_t k = 0; k < i; k++) {
        if (!retained[k]) continue;
        const char *real = broker__share_split(retained[k]->filter, NULL);
        broker__retain_deliver(b, retained[k], real);
    }
out:
    ek_free(codes);
    ek_free(retained);
    return rc;
}
