/* SUBSCRIBE: validates each filter, applies the subscription options (QoS capped at maxQos, no
 * local, retain as published, retain handling, subscription identifier, $share/$queue groups,
 * $exclusive/ locks), answers with SUBACK and then sends the retained messages the options ask for
 * (after the SUBACK, so the client knows the subscription exists when they arrive).
 *
 * broker__subscribe_one is the one path a subscription takes, also for auto-subscribe: the topic
 * rewrite rules first (on the filter after any $share/{g}/, $queue/ or $exclusive/ prefix), then
 * validation, the topic limits (maxTopicLevels, maxTopicLength), the ACL on the rewritten filter, the exclusive lock, and the topic tree. */
#include "broker/broker_int.h"
#include "engine/mem.h"

#include <stdio.h>
#include <string.h>

uint8_t broker__subscribe_one(broker__conn *c, const char *f, size_t flen, uint8_t opts, uint32_t subid,
                              broker__sub **out, bool *existed)
{
    ek_broker *b = c->b;
    broker__session *s = c->s;
    bool v5 = c->version == 5;
    *out = NULL;
    *existed = false;
    char *fstr = broker__rewrite_filter(c, f, flen);
    char *group = NULL;
    const char *real = broker__share_split(fstr, &group);
    bool excl = broker__is_exclusive(fstr);
    uint8_t code = 0, ov;
    if (!real || !broker__filter_valid((const uint8_t *)real, strlen(real)) || (excl && !b->cfg.exclusive_sub))
        code = v5 ? RC_FILTER_INVALID : 0x80;
    else if ((ov = broker__overload_topic(b, real, strlen(real), true))) /* maxTopicLevels/Length: 0x8F */
        code = v5 ? ov : 0x80;
    else if (!broker__acl_allow(b, c, BROKER_ACL_SUB, real)) /* without $share/{g}/, $queue/, $exclusive/ */
        code = v5 ? RC_NOT_AUTHORIZED : 0x80;
    else if (excl && !broker__exclusive_free(b, s, real))
        code = v5 ? RC_QUOTA : 0x80;
    if (code) {
        ek_free(fstr);
        ek_free(group);
        return code;
    }
    uint8_t qos = opts & 3;
    broker__sub *sub = ek_calloc(1, sizeof *sub);
    sub->s = s;
    sub->filter = fstr;
    sub->group = group;
    sub->qos = qos < b->cfg.max_qos ? qos : b->cfg.max_qos;
    sub->opts = opts;
    sub->subid = subid;
    sub = broker__tree_add(b, sub, existed);
    if (!*existed) broker__session_add_sub(s, sub);
    if (excl) broker__exclusive_hold(b, sub);
    *out = sub;
    return sub->qos;
}

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
        uint8_t rh = (opts >> 4) & 3;
        bool shared = (f.len >= 7 && (!memcmp(f.p, "$share/", 7) || !memcmp(f.p, "$queue/", 7)));
        if (shared && (opts & SUBOPT_NL)) {
            rc = RC_PROTOCOL;
            goto out;
        }
        broker__sub *sub;
        bool existed;
        codes[i] = broker__subscribe_one(c, (const char *)f.p, f.len, opts, subid, &sub, &existed);
        if (sub && !sub->group && (rh == 0 || (rh == 1 && !existed))) retained[i] = sub;
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
