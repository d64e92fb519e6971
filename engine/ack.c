/* ek_ack (ack.h): an atomic count and a completion, plus the list a holder keeps them in.
 * The count is the only shared state; whoever brings it to zero runs the completion, so it
 * runs exactly once and nothing touches the ack afterwards. */
#include "engine/ack.h"
#include "engine/mem.h"

#include <stdatomic.h>

struct ek_ack {
    atomic_uint refs;
    void (*done)(void *arg);
    void *arg;
};

ek_ack *ek_ack_new(void (*done)(void *arg), void *arg)
{
    ek_ack *a = ek_malloc(sizeof *a);
    atomic_init(&a->refs, 1);
    a->done = done;
    a->arg = arg;
    return a;
}

ek_ack *ek_ack_ref(ek_ack *a)
{
    if (a) atomic_fetch_add_explicit(&a->refs, 1, memory_order_relaxed);
    return a;
}

void ek_ack_unref(ek_ack *a)
{
    if (!a || atomic_fetch_sub_explicit(&a->refs, 1, memory_order_acq_rel) != 1) return;
    if (a->done) a->done(a->arg);
    ek_free(a);
}

void ek_ack_list_add(ek_ack_list *l, ek_ack *a)
{
    if (!a) return;
    if (l->len == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->v = ek_realloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->len++] = ek_ack_ref(a);
}

void ek_ack_list_release(ek_ack_list *l)
{
    for (unsigned i = 0; i < l->len; i++) ek_ack_unref(l->v[i]);
    l->len = 0;
}

void ek_ack_list_free(ek_ack_list *l)
{
    ek_ack_list_release(l);
    ek_free(l->v);
    l->v = NULL;
    l->cap = 0;
}
