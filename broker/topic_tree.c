/* The topic tree: one node per topic level, holding the subscriptions whose filter ends there
 * and the retained message whose topic ends there (retain.c walks the same nodes).
 *
 * Routing walks the levels of a topic name once, following the exact child, the "+" child and
 * the "#" child at each level (except "+" and "#" at the first level of a topic starting with
 * '$', so "#" does not see $SYS). Overlapping subscriptions of one session are merged into one
 * delivery with the highest QoS and every subscription identifier (the per-session `gen` stamp
 * avoids a set); each $share group on a node delivers to one member, chosen by shared.c.
 * In-process callbacks run after the walk, so they may unsubscribe without breaking it. */
#include "broker/broker_int.h"
#include "engine/mem.h"

#include <stdio.h>
#include <string.h>

static broker__node *node_new(broker__node *parent, const char *name, size_t len)
{
    broker__node *n = ek_calloc(1, sizeof *n);
    n->name = ek_strndup(name, len);
    n->nlen = len;
    n->parent = parent;
    return n;
}

broker__node *broker__tree_node(ek_broker *b, const char *topic, size_t len, bool create)
{
    if (!b->root) b->root = node_new(NULL, "", 0);
    broker__node *n = b->root;
    size_t start = 0;
    for (;;) {
        const char *slash = memchr(topic + start, '/', len - start);
        size_t end = slash ? (size_t)(slash - topic) : len;
        broker__node *ch = broker__map_get(&n->children, topic + start, end - start);
        if (!ch) {
            if (!create) return NULL;
            ch = node_new(n, topic + start, end - start);
            broker__map_put(&n->children, ch->name, ch->nlen, ch);
        }
        n = ch;
        if (!slash) return n;
        start = end + 1;
    }
}

void broker__tree_prune(ek_broker *b, broker__node *n)
{
    while (n && n != b->root && !n->nsubs && !n->children.len && !n->retained) {
        broker__node *p = n->parent;
        broker__map_del(&p->children, n->name, n->nlen);
        broker__map_free(&n->children);
        ek_free(n->subs);
        broker__groups_free(n);
        ek_free(n->name);
        ek_free(n);
        n = p;
    }
}

const char *broker__share_split(const char *filter, char **group)
{
    if (group) *group = NULL;
    if (strncmp(filter, "$exclusive/", 11) == 0) {
        const char *f = filter + 11;
        if (!*f || strncmp(f, "$share/", 7) == 0 || strncmp(f, "$queue/", 7) == 0 || strncmp(f, "$exclusive/", 11) == 0)
            return NULL;
        return f;
    }
    if (strncmp(filter, "$queue/", 7) == 0) {
        if (!filter[7]) return NULL;
        if (group) *group = ek_strdup("$queue");
        return filter + 7;
    }
    if (strncmp(filter, "$share/", 7) != 0) return filter;
    const char *g = filter + 7;
    const char *slash = strchr(g, '/');
    if (!slash || slash == g || slash[1] == 0) return NULL;
    for (const char *p = g; p < slash; p++)
        if (*p == '+' || *p == '#') return NULL;
    if (group) *group = ek_strndup(g, (size_t)(slash - g));
    return slash + 1;
}

bool broker__is_exclusive(const char *filter)
{
    return strncmp(filter, "$exclusive/", 11) == 0;
}

static void sub_free(broker__sub *sub)
{
    ek_free(sub->filter);
    ek_free(sub->group);
    ek_free(sub);
}

broker__sub *broker__tree_add(ek_broker *b, broker__sub *sub, bool *existed)
{
    const char *real = broker__share_split(sub->filter, NULL);
    broker__node *n = broker__tree_node(b, real, strlen(real), true);
    *existed = false;
    if (sub->s) {
        for (size_t i = 0; i < n->nsubs; i++) {
            broker__sub *o = n->subs[i];
            if (o->s != sub->s || strcmp(o->filter, sub->filter) != 0) continue;
            o->qos = sub->qos;
            o->opts = sub->opts;
            o->subid = sub->subid;
            sub_free(sub);
            *existed = true;
            return o;
        }
    }
    if (n->nsubs == n->capsubs) {
        n->capsubs = n->capsubs ? n->capsubs * 2 : 2;
        n->subs = ek_realloc(n->subs, n->capsubs * sizeof *n->subs);
    }
    n->subs[n->nsubs++] = sub;
    sub->node = n;
    if (sub->group) broker__group_join(n, sub->group);
    b->nsubs_total++;
    return sub;
}

void broker__tree_remove(ek_broker *b, broker__sub *sub)
{
    broker__node *n = sub->node;
    for (size_t i = 0; n && i < n->nsubs; i++) {
        if (n->subs[i] != sub) continue;
        memmove(&n->subs[i], &n->subs[i + 1], (n->nsubs - i - 1) * sizeof *n->subs);
        n->nsubs--;
        b->nsubs_total--;
        if (sub->group) broker__group_leave(n, sub);
        break;
    }
    sub_free(sub);
    broker__tree_prune(b, n);
}

/* ---- routing ---- */

struct broker__route_ctx {
    ek_broker *b;
    broker__msg *m;
    long *inproc;
    size_t ninproc, capinproc;
};
typedef struct broker__route_ctx route;

const broker__msg *broker__route_msg(const route *r)
{
    return r->m;
}

void broker__route_emit(route *r, broker__sub *sub, bool shared)
{
    ek_broker *b = r->b;
    if (!sub->s) {
        if (r->ninproc == r->capinproc) {
            r->capinproc = r->capinproc ? r->capinproc * 2 : 8;
            r->inproc = ek_realloc(r->inproc, r->capinproc * sizeof *r->inproc);
        }
        r->inproc[r->ninproc++] = sub->id;
        return;
    }
    broker__session *s = sub->s;
    if ((sub->opts & SUBOPT_NL) && r->m->origin == s->uid) return;
    bool rap = (sub->opts & SUBOPT_RAP) && r->m->retain;
    if (s->gen != b->gen) {
        s->gen = b->gen;
        s->mqos = sub->qos;
        s->mretain = rap;
        s->mnsub = 0;
        s->mshared = s->mplain = false;
        if (b->nmatched == b->capmatched) {
            b->capmatched = b->capmatched ? b->capmatched * 2 : 16;
            b->matched = ek_realloc(b->matched, b->capmatched * sizeof *b->matched);
        }
        b->matched[b->nmatched++] = s;
    } else {
        if (sub->qos > s->mqos) s->mqos = sub->qos;
        s->mretain |= rap;
    }
    if (shared) s->mshared = true;
    else s->mplain = true;
    if (sub->subid && s->mnsub < BROKER_MAX_SUBIDS) s->msubid[s->mnsub++] = sub->subid;
}

static void emit_node(route *r, broker__node *n)
{
    for (size_t i = 0; i < n->nsubs; i++)
        if (!n->subs[i]->group) broker__route_emit(r, n->subs[i], false);
    if (n->ngroups) broker__shared_emit(r->b, r, n);
}

static void walk(route *r, broker__node *n, const char *t, size_t len, bool end, bool root)
{
    if (end) {
        emit_node(r, n);
        broker__node *h = broker__map_get(&n->children, "#", 1);
        if (h) emit_node(r, h);
        return;
    }
    const char *slash = memchr(t, '/', len);
    size_t seg = slash ? (size_t)(slash - t) : len;
    const char *rest = slash ? slash + 1 : NULL;
    size_t rlen = slash ? len - seg - 1 : 0;
    if (!(root && len && t[0] == '$')) {
        broker__node *h = broker__map_get(&n->children, "#", 1);
        if (h) emit_node(r, h);
        broker__node *p = broker__map_get(&n->children, "+", 1);
        if (p) walk(r, p, rest, rlen, !slash, false);
    }
    broker__node *x = broker__map_get(&n->children, t, seg);
    if (x) walk(r, x, rest, rlen, !slash, false);
}

size_t broker__route(ek_broker *b, broker__msg *m)
{
    if (!b->root) return 0;
    route r = {.b = b, .m = m};
    b->gen++;
    b->nmatched = 0;
    walk(&r, b->root, m->topic, m->topic_len, false, true);
    size_t n = b->nmatched + r.ninproc;
    /* Deliver from a private copy: a delivery may route again (a will, a $SYS publish). */
    size_t nm = b->nmatched;
    broker__session **ms = NULL;
    broker__session *small[32];
    if (nm) {
        ms = nm <= 32 ? small : ek_malloc(nm * sizeof *ms);
        memcpy(ms, b->matched, nm * sizeof *ms);
    }
    for (size_t i = 0; i < nm; i++) {
        broker__session *s = ms[i];
        uint8_t qos = m->qos < s->mqos ? m->qos : s->mqos;
        broker__session_deliver_shared(s, m, qos, s->mretain, s->msubid, s->mnsub, s->mshared && !s->mplain);
    }
    if (ms != small) ek_free(ms);
    for (size_t i = 0; i < r.ninproc; i++) {
        char key[24];
        int kl = snprintf(key, sizeof key, "%ld", r.inproc[i]);
        broker__sub *sub = broker__map_get(&b->inproc, key, (size_t)kl);
        if (sub) sub->fn(sub->arg, m);
    }
    ek_free(r.inproc);
    return n;
}

static void free_node(broker__node *n)
{
    for (size_t i = 0; i < n->children.cap; i++)
        if (n->children.e[i].h) free_node(n->children.e[i].val);
    for (size_t i = 0; i < n->nsubs; i++) sub_free(n->subs[i]);
    broker__groups_free(n);
    ek_broker_msg_unref(n->retained);
    broker__map_free(&n->children);
    ek_free(n->subs);
    ek_free(n->name);
    ek_free(n);
}

void broker__tree_free(ek_broker *b)
{
    if (b->root) free_node(b->root);
    b->root = NULL;
}
