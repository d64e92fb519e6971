/* Shared subscriptions ($share/{group}/{filter} and $queue/{filter}): which member of a group gets
 * a message, and what happens to a member's unacknowledged messages when it leaves.
 *
 * A group's members are the subscriptions of the node whose `group` has that name; the node keeps
 * one broker__group per name for the strategy's state (round robin position, sticky member). The
 * strategy (sharedSubscriptionStrategy) picks among the members whose client is connected, or among
 * all of them when none is (the message then waits in a persistent session's queue):
 *   round_robin  members in turn;          random  uniformly at random;
 *   sticky       one member until it leaves (disconnects or unsubscribes), then another at random;
 *   hash         by a hash of the publisher's client id, so one publisher always reaches one member.
 * Like EMQX, a QoS 1/2 message sent to a member that disconnects before acknowledging it is given to
 * another connected member of the group (broker__shared_redispatch), except on a session takeover. */
#include "broker/broker_int.h"
#include "engine/mem.h"

#include <string.h>

uint32_t broker__hash_str(const char *s, size_t len)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < len; i++) {
        h ^= (uint8_t)s[i];
        h *= 16777619u;
    }
    return h ? h : 1;
}

static uint64_t next_rand(uint64_t *rng)
{
    uint64_t x = *rng ? *rng : 0x9E3779B97F4A7C15ull;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *rng = x;
    return x;
}

size_t broker__shared_choose(int strategy, size_t n, uint64_t *rr, uint32_t hash, uint64_t *rng)
{
    switch (strategy) {
    case BROKER_SHARE_HASH: return hash % n;
    case BROKER_SHARE_RANDOM:
    case BROKER_SHARE_STICKY: return (size_t)(next_rand(rng) % n);
    default: return (size_t)((*rr)++ % n);
    }
}

int broker__shared_cfg_load(broker__cfg *cfg, const ek_value *v, ek_err *err)
{
    static const struct {
        const char *name;
        int strategy;
    } names[] = {{"round_robin", BROKER_SHARE_ROUND_ROBIN}, {"random", BROKER_SHARE_RANDOM},
                 {"sticky", BROKER_SHARE_STICKY}, {"hash", BROKER_SHARE_HASH},
                 {"hash_clientid", BROKER_SHARE_HASH}};
    if (!v || ek_is_null(v)) return 0;
    for (size_t i = 0; v->type == EK_T_STRING && i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(ek_str_ptr(v), names[i].name) != 0) continue;
        cfg->shared_strategy = (uint8_t)names[i].strategy;
        return 0;
    }
    return ek_err_set(err, EK_ECONF,
                      "broker.sharedSubscriptionStrategy: expected round_robin, random, sticky or hash");
}

/* ---- group state on a node ---- */

static broker__group *group_find(broker__node *n, const char *name)
{
    for (size_t i = 0; i < n->ngroups; i++)
        if (strcmp(n->groups[i].name, name) == 0) return &n->groups[i];
    return NULL;
}

void broker__group_join(broker__node *n, const char *group)
{
    if (group_find(n, group)) return;
    n->groups = ek_realloc(n->groups, (n->ngroups + 1) * sizeof *n->groups);
    n->groups[n->ngroups++] = (broker__group){.name = ek_strdup(group)};
}

void broker__group_leave(broker__node *n, broker__sub *sub)
{
    broker__group *g = group_find(n, sub->group);
    if (!g) return;
    if (g->sticky == sub) g->sticky = NULL;
    for (size_t i = 0; i < n->nsubs; i++)
        if (n->subs[i] != sub && n->subs[i]->group && strcmp(n->subs[i]->group, g->name) == 0) return;
    ek_free(g->name);
    *g = n->groups[--n->ngroups];
    if (!n->ngroups) {
        ek_free(n->groups);
        n->groups = NULL;
    }
}

void broker__groups_free(broker__node *n)
{
    for (size_t i = 0; i < n->ngroups; i++) ek_free(n->groups[i].name);
    ek_free(n->groups);
    n->groups = NULL;
    n->ngroups = 0;
}

/* ---- choosing a member ---- */

static bool online(const broker__sub *sub)
{
    return !sub->s || sub->s->conn;
}

/* Collects g's members into b->cand (only connected ones when online_only); returns how many. */
static size_t members(ek_broker *b, broker__node *n, const broker__group *g, bool online_only,
                      const broker__session *except)
{
    size_t k = 0;
    bool one_group = n->ngroups == 1; /* the usual case: every sub with a group is in g, no strcmp */
    for (size_t i = 0; i < n->nsubs; i++) {
        broker__sub *sub = n->subs[i];
        if (!sub->group || (!one_group && strcmp(sub->group, g->name) != 0)) continue;
        if ((online_only && !online(sub)) || (except && sub->s == except)) continue;
        if (k == b->capcand) {
            b->capcand = b->capcand ? b->capcand * 2 : 16;
            b->cand = ek_realloc(b->cand, b->capcand * sizeof *b->cand);
        }
        b->cand[k++] = sub;
    }
    return k;
}

/* The member of g for a message from the publisher hashed to hash, or NULL without candidates. */
static broker__sub *pick(ek_broker *b, broker__node *n, broker__group *g, uint32_t hash, bool online_only,
                         const broker__session *except)
{
    size_t k = members(b, n, g, true, except);
    if (!k && !online_only) k = members(b, n, g, false, except);
    if (!k) return NULL;
    int strategy = b->cfg.shared_strategy;
    if (strategy == BROKER_SHARE_STICKY) {
        for (size_t i = 0; i < k; i++)
            if (b->cand[i] == g->sticky && online(g->sticky)) return g->sticky;
    }
    broker__sub *sub = b->cand[broker__shared_choose(strategy, k, &g->rr, hash, &b->rng)];
    if (strategy == BROKER_SHARE_STICKY && online(sub)) g->sticky = sub;
    return sub;
}

void broker__shared_emit(ek_broker *b, broker__route_ctx *r, broker__node *n)
{
    const broker__msg *m = broker__route_msg(r);
    for (size_t i = 0; i < n->ngroups; i++) {
        broker__sub *sub = pick(b, n, &n->groups[i], m->from_hash, false, NULL);
        if (sub) broker__route_emit(r, sub, true);
    }
}

/* ---- a member leaves ---- */

/* Gives e's message to another connected member of the group of s it came through; true if done. */
static bool redispatch_one(broker__session *s, broker__qent *e)
{
    ek_broker *b = s->b;
    broker__msg *m = e->m;
    if (!m || e->qos == 0 || !e->shared || broker__msg_ttl(m, ek_now_ms()) == 0) return false;
    for (size_t i = 0; i < s->nsubs; i++) {
        broker__sub *mine = s->subs[i];
        if (!mine->group || !broker__filter_match(broker__share_split(mine->filter, NULL), m->topic)) continue;
        broker__group *g = group_find(mine->node, mine->group);
        broker__sub *to = g ? pick(b, mine->node, g, m->from_hash, true, s) : NULL;
        if (!to) continue;
        if (!to->s) {
            to->fn(to->arg, m);
        } else {
            uint8_t qos = m->qos < to->qos ? m->qos : to->qos;
            bool rap = (to->opts & SUBOPT_RAP) && m->retain;
            broker__session_deliver_shared(to->s, m, qos, rap, &to->subid, to->subid ? 1 : 0, true);
        }
        return true;
    }
    return false;
}

void broker__shared_redispatch(broker__session *s)
{
    for (uint16_t i = 0; s->infl && i < s->infl_cap; i++) {
        broker__qent *e = &s->infl[i];
        if (e->state != 1 || !redispatch_one(s, e)) continue;
        ek_broker_msg_unref(e->m);
        memset(e, 0, sizeof *e);
        s->ninfl--;
    }
    size_t kept = 0, n = s->qlen;
    for (size_t i = 0; i < n; i++) {
        broker__qent e = s->q[(s->qhead + i) % s->qcap];
        if (redispatch_one(s, &e)) {
            ek_broker_msg_unref(e.m);
            continue;
        }
        s->q[(s->qhead + kept++) % s->qcap] = e;
    }
    s->qlen = kept;
}
