/* The memory source and sink and the bus between them (see memory.h): rule A's memory action
 * publishes its result values on a topic, and every stream of TYPE "memory" whose DATASOURCE
 * filter matches receives them as already-structured rows, with no encoding on the way, which is
 * how eKuiper chains rules into pipelines.
 *
 * Locking. A callback may wait for a long time: a memory source hands the message to a rule's
 * mailbox and, when that mailbox is full, the publisher waits for room (back-pressure, nothing is
 * dropped). The rule worker that makes room may itself have to publish first (its memory sink, on
 * its own thread or on the sink pool it waits for). So no thread ever calls back, and so never
 * waits for room, while holding a bus lock:
 * - The subscribers are an immutable, reference-counted array (`cur`). Subscribe and unsubscribe
 *   build a new array and swap it in under `bus_lock`; a publisher holds `bus_lock` only to take a
 *   reference to the current array, then delivers with no lock held, in subscription order, and
 *   drops its reference (the last holder of an array frees it and the subscribers only it held).
 * - Unsubscribe returning still means the callback is not running and will not run again: each
 *   subscriber counts its deliveries in flight; a publisher raises the count and then checks the
 *   `gone` flag, unsubscribe sets `gone` and then waits (on `flight_done`) for the count to reach
 *   zero. Both are sequentially consistent atomics, so either the publisher sees `gone` and skips,
 *   or unsubscribe sees the delivery and waits for it. It waits only for deliveries to the
 *   subscriber it removes, never for the bus, so a publisher waiting for room blocks no other
 *   publisher, subscriber or unsubscriber. A callback must not unsubscribe itself.
 * - One publisher's messages reach each subscriber in the order published; messages published at
 *   once by several threads have no order between them (as before). */
#include "connectors/memory.h"
#include "engine/mem.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

typedef struct msub {
    atomic_int refs;      /* one per subscriber array holding it */
    atomic_int inflight;  /* deliveries running now */
    atomic_bool gone;     /* unsubscribed: no new delivery starts */
    long id;
    char *filter;
    ek_memory_fn fn;
    void *arg;
} msub;

typedef struct msubs {
    atomic_int refs;      /* `cur` holds one, each publisher delivering from it one */
    size_t n;
    msub *v[];
} msubs;

static pthread_mutex_t bus_lock = PTHREAD_MUTEX_INITIALIZER;  /* guards cur and next_id */
static msubs *cur;
static long next_id = 1;
static pthread_mutex_t flight_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t flight_done = PTHREAD_COND_INITIALIZER;  /* a removed subscriber's last delivery ended */

bool ek_memory_topic_match(const char *filter, const char *topic)
{
    const char *f = filter, *t = topic;
    for (;;) {
        if (f[0] == '#' && f[1] == '\0') return true;
        const char *fe = strchr(f, '/'), *te = strchr(t, '/');
        size_t fl = fe ? (size_t)(fe - f) : strlen(f), tl = te ? (size_t)(te - t) : strlen(t);
        if (!(fl == 1 && f[0] == '+') && (fl != tl || memcmp(f, t, fl) != 0)) return false;
        if (!fe && !te) return true;
        if (!te) return fe && strcmp(fe + 1, "#") == 0;
        if (!fe) return false;
        f = fe + 1;
        t = te + 1;
    }
}

static void sub_unref(msub *s)
{
    if (atomic_fetch_sub(&s->refs, 1) != 1) return;
    ek_free(s->filter);
    ek_free(s);
}

static void subs_unref(msubs *a)
{
    if (!a || atomic_fetch_sub(&a->refs, 1) != 1) return;
    for (size_t i = 0; i < a->n; i++) sub_unref(a->v[i]);
    ek_free(a);
}

/* A new array of the current subscribers without `drop` (may be NULL) and with `add` (may be
 * NULL); NULL when empty. Caller holds bus_lock. */
static msubs *subs_copy(msub *drop, msub *add)
{
    size_t n = 0, have = cur ? cur->n : 0;
    msubs *a = ek_malloc(sizeof *a + (have + 1) * sizeof a->v[0]);
    for (size_t i = 0; i < have; i++)
        if (cur->v[i] != drop) a->v[n++] = cur->v[i];
    if (add) a->v[n++] = add;
    if (n == 0) {
        ek_free(a);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) atomic_fetch_add(&a->v[i]->refs, 1);
    atomic_init(&a->refs, 1);
    a->n = n;
    return a;
}

long ek_memory_subscribe(const char *filter, ek_memory_fn fn, void *arg)
{
    msub *s = ek_calloc(1, sizeof *s);
    atomic_init(&s->refs, 0);
    atomic_init(&s->inflight, 0);
    atomic_init(&s->gone, false);
    s->filter = ek_strdup(filter);
    s->fn = fn;
    s->arg = arg;
    pthread_mutex_lock(&bus_lock);
    s->id = next_id++;
    long id = s->id;
    msubs *old = cur;
    cur = subs_copy(NULL, s);
    pthread_mutex_unlock(&bus_lock);
    subs_unref(old);
    return id;
}

void ek_memory_unsubscribe(long id)
{
    pthread_mutex_lock(&bus_lock);
    msub *s = NULL;
    for (size_t i = 0; cur && i < cur->n && !s; i++)
        if (cur->v[i]->id == id) s = cur->v[i];
    if (!s) {
        pthread_mutex_unlock(&bus_lock);
        return;
    }
    msubs *old = cur;
    cur = subs_copy(s, NULL);
    atomic_store(&s->gone, true);
    pthread_mutex_unlock(&bus_lock);
    /* s stays allocated while old is referenced, and old until we drop it below. */
    pthread_mutex_lock(&flight_lock);
    while (atomic_load(&s->inflight) > 0) pthread_cond_wait(&flight_done, &flight_lock);
    pthread_mutex_unlock(&flight_lock);
    subs_unref(old);
}

void ek_memory_publish(const char *topic, const ek_value *msg)
{
    pthread_mutex_lock(&bus_lock);
    msubs *a = cur;
    if (a) atomic_fetch_add_explicit(&a->refs, 1, memory_order_relaxed);  /* cur's own ref keeps it alive */
    pthread_mutex_unlock(&bus_lock);
    if (!a) return;
    for (size_t i = 0; i < a->n; i++) {
        msub *s = a->v[i];
        if (!ek_memory_topic_match(s->filter, topic)) continue;
        atomic_fetch_add(&s->inflight, 1);
        if (!atomic_load(&s->gone)) s->fn(s->arg, topic, msg);
        if (atomic_fetch_sub(&s->inflight, 1) == 1 && atomic_load(&s->gone)) {
            pthread_mutex_lock(&flight_lock);  /* so the wake-up cannot fall between check and wait */
            pthread_cond_broadcast(&flight_done);
            pthread_mutex_unlock(&flight_lock);
        }
    }
    subs_unref(a);
}

/* ------------------------------------------------------------------ source */

typedef struct msource {
    long id;
    ek_ingest ingest;
} msource;

static void source_cb(void *arg, const char *topic, const ek_value *msg)
{
    msource *s = arg;
    ek_value meta = ek_object_new(1);
    ek_object_set(&meta, "topic", ek_string(topic));
    s->ingest.value(s->ingest.ctx, ek_value_ref(msg), meta);
}

static int source_open(void *st, const ek_source_conf *conf, const ek_ingest *ingest, ek_err *err)
{
    msource *s = st;
    if (!conf->datasource || !*conf->datasource)
        return ek_err_set(err, EK_ECONF, "memory source: DATASOURCE (the topic) is required");
    s->ingest = *ingest;
    s->id = ek_memory_subscribe(conf->datasource, source_cb, s);
    if (s->ingest.status) s->ingest.status(s->ingest.ctx, 1, NULL);
    return 0;
}

static void source_close(void *st)
{
    msource *s = st;
    ek_memory_unsubscribe(s->id);
}

const ek_source_ops ek_memory_source_ops = {
    .type = "memory",
    .state_size = sizeof(msource),
    .open = source_open,
    .close = source_close,
};

/* ------------------------------------------------------------------ sink */

typedef struct msink {
    char *topic;
} msink;

static int sink_open(void *st, const ek_sink_conf *conf, ek_err *err)
{
    msink *s = st;
    const ek_value *t = conf->props ? ek_object_get(conf->props, "topic") : NULL;
    if (!t || t->type != EK_T_STRING || ek_str_len(t) == 0)
        return ek_err_set(err, EK_ECONF, "memory sink: property topic is required");
    if (strchr(ek_str_ptr(t), '+') || strchr(ek_str_ptr(t), '#'))
        return ek_err_set(err, EK_ECONF, "memory sink: topic %s must not contain wildcards", ek_str_ptr(t));
    s->topic = ek_strdup(ek_str_ptr(t));
    return 0;
}

static int sink_collect(void *st, const ek_sink_data *data, ek_err *err)
{
    msink *s = st;
    ek_memory_publish(s->topic, data->value);
    return 0;
}

static void sink_close(void *st)
{
    msink *s = st;
    ek_free(s->topic);
}

const ek_sink_ops ek_memory_sink_ops = {
    .type = "memory",
    .state_size = sizeof(msink),
    .open = sink_open,
    .collect = sink_collect,
    .close = sink_close,
    .values_only = true,
};
