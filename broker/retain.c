/* Retained messages: at most one per topic, kept on the topic tree node of that topic, so setting
 * one is a tree walk and delivering them to a new subscription walks the tree along the filter.
 *
 * An empty payload deletes the retained message. maxRetained bounds how many are kept (a new
 * topic beyond it is not retained, and counted as dropped). Changes go to persist.c, which writes
 * them to SQLite in batches; $SYS messages are retained but never persisted. Expired retained
 * messages are skipped when delivered and dropped at that point. */
#include "broker/broker_int.h"
#include "engine/mem.h"

#include <string.h>

void broker__retain_set(ek_broker *b, broker__msg *m)
{
    if (m->len == 0) {
        broker__node *n = broker__tree_node(b, m->topic, m->topic_len, false);
        if (!n || !n->retained) return;
        ek_broker_msg_unref(n->retained);
        n->retained = NULL;
        b->nretained--;
        if (!m->sys) broker__persist_retained(b, m, true);
        broker__tree_prune(b, n);
        return;
    }
    broker__node *n = broker__tree_node(b, m->topic, m->topic_len, true);
    if (!n->retained) {
        if (b->cfg.max_retained && b->nretained >= b->cfg.max_retained) {
            b->st.dropped++;
            broker__tree_prune(b, n);
            return;
        }
        b->nretained++;
    }
    ek_broker_msg_unref(n->retained);
    n->retained = ek_broker_msg_ref(m);
    if (!m->sys) broker__persist_retained(b, m, false);
}

static void send_one(ek_broker *b, broker__sub *sub, broker__node *n, int64_t now)
{
    broker__msg *m = n->retained;
    if (!m) return;
    if (m->has_expiry && now >= m->expire_at) {
        n->retained = NULL;
        b->nretained--;
        if (!m->sys) broker__persist_retained(b, m, true);
        ek_broker_msg_unref(m);
        return;
    }
    if (!sub->s) {
        sub->fn(sub->arg, m);
        return;
    }
    uint8_t qos = m->qos < sub->qos ? m->qos : sub->qos;
    broker__session_deliver(sub->s, m, qos, true, &sub->subid, sub->subid ? 1 : 0);
}

static void send_all(ek_broker *b, broker__sub *sub, broker__node *n, bool root, int64_t now)
{
    if (!root) send_one(b, sub, n, now);
    for (size_t i = 0; i < n->children.cap; i++) {
        broker__node *ch = n->children.e[i].h ? n->children.e[i].val : NULL;
        if (!ch || (root && ch->nlen && ch->name[0] == '$')) continue;
        send_all(b, sub, ch, false, now);
    }
}

static void rwalk(ek_broker *b, broker__sub *sub, broker__node *n, const char *f, bool end, bool root,
                  int64_t now)
{
    if (end) {
        send_one(b, sub, n, now);
        return;
    }
    const char *slash = strchr(f, '/');
    size_t seg = slash ? (size_t)(slash - f) : strlen(f);
    if (seg == 1 && f[0] == '#') {
        send_all(b, sub, n, root, now);
        return;
    }
    if (seg == 1 && f[0] == '+') {
        /* Children may be pruned while sending (an expired message): collect them first. */
        size_t cnt = 0;
        broker__node **kids = ek_malloc((n->children.len + 1) * sizeof *kids);
        for (size_t i = 0; i < n->children.cap; i++) {
            broker__node *ch = n->children.e[i].h ? n->children.e[i].val : NULL;
            if (ch && !(root && ch->nlen && ch->name[0] == '$')) kids[cnt++] = ch;
        }
        for (size_t i = 0; i < cnt; i++) rwalk(b, sub, kids[i], slash ? slash + 1 : "", !slash, false, now);
        ek_free(kids);
        return;
    }
    broker__node *ch = broker__map_get(&n->children, f, seg);
    if (ch) rwalk(b, sub, ch, slash ? slash + 1 : "", !slash, false, now);
}

void broker__retain_deliver(ek_broker *b, broker__sub *sub, const char *filter)
{
    if (!b->root || !b->nretained) return;
    rwalk(b, sub, b->root, filter, false, true, broker__wallms());
}
