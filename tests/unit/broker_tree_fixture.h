/* Test fixture for the broker's topic tree, shared by test_broker_topic.c and
 * test_broker_routing.c: a bare ek_broker (default configuration, no reactor, no sockets) and
 * in-process subscribers added to and removed from its tree, each counting what it receives in
 * hits[slot]. */
#ifndef EK_TEST_BROKER_TREE_FIXTURE_H
#define EK_TEST_BROKER_TREE_FIXTURE_H

#include "broker/broker_int.h"
#include "engine/mem.h"
#include "tests/unit/test_util.h"

#include <stdio.h>
#include <string.h>

static int hits[8];

static inline void on_msg(void *arg, ek_broker_msg *m)
{
    hits[(long)arg]++;
}

static inline ek_broker *bare(void)
{
    ek_broker *b = ek_calloc(1, sizeof *b);
    broker__cfg_load(&b->cfg, NULL, NULL);
    return b;
}

static inline void bare_free(ek_broker *b)
{
    broker__tree_free(b);
    broker__map_free(&b->inproc);
    ek_free(b->matched);
    ek_free(b->cand);
    ek_free(b);
}

/* Subscribes filter (a $share/ group too) in process; what it receives counts in hits[slot]. */
static inline broker__sub *add(ek_broker *b, const char *filter, long slot)
{
    static long next = 1;
    broker__sub *sub = ek_calloc(1, sizeof *sub);
    sub->filter = ek_strdup(filter);
    CU_ASSERT_PTR_NOT_NULL(broker__share_split(filter, &sub->group));
    sub->fn = on_msg;
    sub->arg = (void *)slot;
    sub->id = next++;
    snprintf(sub->idkey, sizeof sub->idkey, "%ld", sub->id);
    bool existed;
    sub = broker__tree_add(b, sub, &existed);
    broker__map_put(&b->inproc, sub->idkey, strlen(sub->idkey), sub);
    return sub;
}

static inline void del(ek_broker *b, broker__sub *sub)
{
    broker__map_del(&b->inproc, sub->idkey, strlen(sub->idkey));
    broker__tree_remove(b, sub);
}

#endif
