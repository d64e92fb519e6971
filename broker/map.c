/* A small string-keyed hash map for the broker (sessions by client id, topic tree children,
 * outbound topic aliases, in-process subscriptions).
 *
 * Open addressing with linear probing and backward-shift deletion, so there are no tombstones and
 * lookups stay short after churn. Keys are not copied: each key points into the value it maps to
 * (a node's name, a session's id) and must live as long as the entry. Capacity is a power of two
 * and the load factor stays under 3/4. */
#include "broker/broker_int.h"
#include "engine/mem.h"

#include <string.h>

static uint64_t hash(const char *k, size_t n)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= (uint8_t)k[i];
        h *= 1099511628211ULL;
    }
    return h ? h : 1;
}

static broker__mapent *find(const broker__map *m, uint64_t h, const char *key, size_t klen)
{
    if (!m->cap) return NULL;
    size_t mask = m->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        broker__mapent *e = &m->e[i];
        if (!e->h) return NULL;
        if (e->h == h && e->klen == klen && memcmp(e->key, key, klen) == 0) return e;
    }
}

void *broker__map_get(const broker__map *m, const char *key, size_t klen)
{
    broker__mapent *e = find(m, hash(key, klen), key, klen);
    return e ? e->val : NULL;
}

static void insert(broker__map *m, uint64_t h, const char *key, size_t klen, void *val)
{
    size_t mask = m->cap - 1;
    size_t i = h & mask;
    while (m->e[i].h) i = (i + 1) & mask;
    m->e[i] = (broker__mapent){h, key, klen, val};
    m->len++;
}

static void grow(broker__map *m)
{
    broker__mapent *old = m->e;
    size_t oldcap = m->cap;
    m->cap = oldcap ? oldcap * 2 : 8;
    m->e = ek_calloc(m->cap, sizeof *m->e);
    m->len = 0;
    for (size_t i = 0; i < oldcap; i++)
        if (old[i].h) insert(m, old[i].h, old[i].key, old[i].klen, old[i].val);
    ek_free(old);
}

void broker__map_put(broker__map *m, const char *key, size_t klen, void *val)
{
    uint64_t h = hash(key, klen);
    broker__mapent *e = find(m, h, key, klen);
    if (e) {
        e->key = key;
        e->val = val;
        return;
    }
    if ((m->len + 1) * 4 > m->cap * 3) grow(m);
    insert(m, h, key, klen, val);
}

void *broker__map_del(broker__map *m, const char *key, size_t klen)
{
    broker__mapent *e = find(m, hash(key, klen), key, klen);
    if (!e) return NULL;
    void *val = e->val;
    size_t mask = m->cap - 1;
    size_t i = (size_t)(e - m->e);
    /* Backward shift: move later entries of the probe run into the hole. */
    for (size_t j = (i + 1) & mask; m->e[j].h; j = (j + 1) & mask) {
        size_t home = m->e[j].h & mask;
        bool between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (between) continue;
        m->e[i] = m->e[j];
        i = j;
    }
    m->e[i].h = 0;
    m->len--;
    return val;
}

void broker__map_free(broker__map *m)
{
    ek_free(m->e);
    m->e = NULL;
    m->cap = m->len = 0;
}
