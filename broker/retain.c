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
        if (n->retained->sys) b->nretained_sys--;
        ek_broker_msg_unref(n->retained);
        n->retained = NULL;
        b->nretained--;
        if (!m->sys) broker__persist_retained(b, m, true);
        broker__tree_prune(b, n);
        return;
    }
    broker__node *n = broker__tree_node(b, m->topic, m->topic_len, true);
    if (!n->retained) {
        if (m->sys) b->nretained_sys++;
        else if (b->cfg.max_retained && b->nretained - b->nretained_sys >= b->cfg.max_retained) {
            b->st.dropped++;
            broker__tree_prune(b, n);
            return;
        }
        b->nretained++;
    }
    ek_broker_msg_unref(n->retained);
    m->stored_at = ek_now_ms(); /* before anyone else reads m: it is not routed yet */
    n->retained = ek_broker_msg_ref(m);
    if (!m->sys) broker__persist_retained(b, m, false);
}

/* One delivery of retained messages to a new subscription. For an in-process subscriber the
 * messages are collected during the walk and delivered after it, since its callback may
 * subscribe or unsubscribe (changing the tree being walked). */
typedef struct rctx {
    ek_broker *b;
    broker__sub *sub;
    int64_t now;
    broker__msg **later;
    size_t n, cap;
} rctx;

static void send_one(rctx *x, broker__node *n)
{
    ek_broker *b = x->b;
    broker__msg *m = n->retained;
    if (!m) return;
    if (m->has_expiry && x->now >= m->expire_at) {
        n->retained = NULL;
        b->nretained--;
        if (!m->sys) broker__persist_retained(b, m, true);
        ek_broker_msg_unref(m);
        return;
    }
    broker__sub *sub = x->sub;
    if (!sub->s) {
        if (x->n == x->cap) {
            x->cap = x->cap ? x->cap * 2 : 16;
            x->later = ek_realloc(x->later, x->cap * sizeof *x->later);
        }
        x->later[x->n++] = ek_broker_msg_ref(m);
        return;
    }
    uint8_t qos = m->qos < sub->qos ? m->qos : sub->qos;
    broker__session_deliver(sub->s, m, qos, true, &sub->subid, sub->subid ? 1 : 0);
}

static void send_all(rctx *x, broker__node *n, bool root)
{
    if (!root) send_one(x, n);
    for (size_t i = 0; i < n->children.cap; i++) {
        broker__node *ch = n->children.e[i].h ? n->children.e[i].val : NULL;
        if (!ch || (root && ch->nlen && ch->name[0] == '$')) continue;
        send_all(x, ch, false);
    }
}

static void rwalk(rctx *x, broker__node *n, const char *f, bool end, bool root)
{
    if (end) {
        send_one(x, n);
        return;
    }
    const char *slash = strchr(f, '/');
    size_t seg = slash ? (size_t)(slash - f) : strlen(f);
    if (seg == 1 && f[0] == '#') {
        send_all(x, n, root);
        return;
    }
    if (seg == 1 && f[0] == '+') {
        for (size_t i = 0; i < n->children.cap; i++) {
            broker__node *ch = n->children.e[i].h ? n->children.e[i].val : NULL;
            if (ch && !(root && ch->nlen && ch->name[0] == '$')) rwalk(x, ch, slash ? slash + 1 : "", !slash, false);
        }
        return;
    }
    broker__node *ch = broker__map_get(&n->children, f, seg);
    if (ch) rwalk(x, ch, slash ? slash + 1 : "", !slash, false);
}

void broker__retain_deliver(ek_broker *b, broker__sub *sub, const char *filter)
{
    if (!b->root || !b->nretained) return;
    rctx x = {.b = b, .sub = sub, .now = ek_now_ms()};
    rwalk(&x, b->root, filter, false, true);
    /* In-process: deliver while the subscription lasts (a callback may end it). */
    char key[sizeof sub->idkey];
    memcpy(key, sub->idkey, sizeof key);
    ek_broker_deliver_fn fn = sub->fn;
    void *arg = sub->arg;
    for (size_t i = 0; i < x.n; i++) {
        if (broker__map_get(&b->inproc, key, strlen(key)) == sub) fn(arg, x.later[i]);
        ek_broker_msg_unref(x.later[i]);
    }
    ek_free(x.later);
}
