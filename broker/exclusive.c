/* Exclusive subscriptions ($exclusive/{filter}, EMQX's feature, off unless exclusiveSubscription is
 * true): at most one client holds a filter at a time. Another client subscribing to the same
 * $exclusive/ filter gets SUBACK 0x97 Quota exceeded (0x80 in 3.1.1) until the holder unsubscribes or
 * its connection ends; with the feature off, $exclusive/ filters get 0x8F Topic Filter invalid.
 *
 * The holder's subscription is an ordinary one on the filter after the prefix, so it receives what
 * plain subscribers of that filter receive. The lock table maps that filter to the holding
 * subscription (the key points into the subscription's own filter string). An exclusive
 * subscription lasts as long as the connection: it is removed when the connection ends, even from a
 * persistent session, and never written to broker.db. */
#include "broker/broker_int.h"

#include <string.h>

static const char *real(const broker__sub *sub)
{
    return sub->filter + strlen("$exclusive/");
}

bool broker__exclusive_free(ek_broker *b, const broker__session *s, const char *f)
{
    broker__sub *holder = broker__map_get(&b->exclusive, f, strlen(f));
    return !holder || holder->s == s;
}

void broker__exclusive_hold(ek_broker *b, broker__sub *sub)
{
    const char *f = real(sub);
    broker__map_put(&b->exclusive, f, strlen(f), sub);
}

void broker__exclusive_release(ek_broker *b, broker__sub *sub)
{
    if (!broker__is_exclusive(sub->filter)) return;
    const char *f = real(sub);
    if (broker__map_get(&b->exclusive, f, strlen(f)) == sub) broker__map_del(&b->exclusive, f, strlen(f));
}

void broker__exclusive_drop(broker__session *s)
{
    ek_broker *b = s->b;
    for (size_t i = 0; i < s->nsubs;) {
        broker__sub *sub = s->subs[i];
        if (!broker__is_exclusive(sub->filter)) {
            i++;
            continue;
        }
        broker__exclusive_release(b, sub);
        broker__session_del_sub(s, sub);
        broker__tree_remove(b, sub);
        s->dirty = true;
    }
}
