/* The memory source and sink and the bus between them (see memory.h): rule A's memory action
 * publishes its result values on a topic, and every stream of TYPE "memory" whose DATASOURCE
 * filter matches receives them as already-structured rows, with no encoding on the way, which is
 * how eKuiper chains rules into pipelines. Invariant: subscribers are only added and removed under
 * the write lock, and publishers hold the read lock while calling back, so unsubscribe returning
 * means no callback is running or will run. */
#include "connectors/memory.h"
#include "engine/mem.h"

#include <pthread.h>
#include <string.h>

typedef struct msub {
    long id;
    char *filter;
    ek_memory_fn fn;
    void *arg;
} msub;

/* Writers (subscribe, unsubscribe) go first: publishers that never pause must not starve a rule
 * stop. Safe because no callback publishes back into the bus while holding the read lock (a rule
 * fed from memory queues the message; its sink publishes later, from another actor). */
static pthread_rwlock_t bus_lock = PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;
static msub *subs;
static size_t nsubs, subs_cap;
static long next_id = 1;

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

long ek_memory_subscribe(const char *filter, ek_memory_fn fn, void *arg)
{
    pthread_rwlock_wrlock(&bus_lock);
    if (nsubs == subs_cap) {
        subs_cap = subs_cap ? subs_cap * 2 : 16;
        subs = ek_realloc(subs, subs_cap * sizeof *subs);
    }
    long id = next_id++;
    subs[nsubs++] = (msub){id, ek_strdup(filter), fn, arg};
    pthread_rwlock_unlock(&bus_lock);
    return id;
}

void ek_memory_unsubscribe(long id)
{
    pthread_rwlock_wrlock(&bus_lock);
    for (size_t i = 0; i < nsubs; i++) {
        if (subs[i].id != id) continue;
        ek_free(subs[i].filter);
        subs[i] = subs[--nsubs];
        break;
    }
    if (nsubs == 0) {
        ek_free(subs);
        subs = NULL;
        subs_cap = 0;
    }
    pthread_rwlock_unlock(&bus_lock);
}

void ek_memory_publish(const char *topic, const ek_value *msg)
{
    pthread_rwlock_rdlock(&bus_lock);
    for (size_t i = 0; i < nsubs; i++)
        if (ek_memory_topic_match(subs[i].filter, topic)) subs[i].fn(subs[i].arg, topic, msg);
    pthread_rwlock_unlock(&bus_lock);
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
