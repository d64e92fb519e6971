/* Sink nodes: the end of a rule. Each action of the rule is an actor of its own on the sink pool
 * (a bounded mailbox of results, sink property bufferLength, default 1024), so a slow destination
 * holds a sink worker and, once its mailbox is full, slows its own rule, never the others. Behind
 * the mailbox: the connectors layer's transform (connectors/sink_transform.h: sendSingle,
 * omitIfEmpty, dataTemplate, fields, format, batching), the offline cache (connectors/cache.h:
 * enableCache, resend in order when the destination is back) and the connector's collect.
 * Batches waiting for lingerInterval and cached messages waiting for a resend publish when they
 * next need a tick (want) and arm the rule's timer; the rule's tick forwards it to the sink actor.
 * A cache that opens with data from an earlier run publishes its wish at once, so the resend
 * starts when the rule starts (rules__run_go arms the timer), not at the rule's first message.
 * Invariant: the transform, cache and connector of a sink are only touched by its actor (or by
 * rules__sinks_close once the actor is closed).
 * Metrics: records_in counts results handed to the sink, records_out messages delivered,
 * exceptions every failed delivery (kept in the cache when it is enabled, else lost and counted).
 * With a cache, cache_dropped_total counts the oldest messages a full cache dropped; each drop is
 * an exception too, with last_exception saying the cache was full (the cache logs it). */
#include "connectors/cache.h"
#include "connectors/sink_transform.h"
#include "engine/mem.h"
#include "engine/rules/rules_int.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* The connector's collect with metrics; what the cache calls to deliver or resend. */
static int collect(void *arg, const ek_sink_data *d, ek_err *err)
{
    rules__sink *s = arg;
    bool timed = rules__m_timed(&s->m, false);
    int64_t t0 = timed ? rules__mono_us() : 0;
    int rc = s->ops->collect(s->st, d, err);
    if (timed) rules__m_set(&s->m.latency_us, rules__mono_us() - t0);
    if (rc == 0) {
        rules__m_add(&s->m.out, 1);
        if (atomic_load(&s->m.conn_status) != 1) atomic_store(&s->m.conn_status, 1);
    } else {
        rules__metrics_exception(&s->m, err->msg[0] ? err->msg : ek_strerror(rc));
        if (rc == EK_EIO) {
            atomic_store(&s->m.conn_status, -1);
            atomic_store(&s->m.conn_last_disconnected, ek_now_ms());
        }
    }
    return rc;
}

static int encode(void *arg, const ek_value *value, ek_buf *out, ek_err *err)
{
    rules__sink *s = arg;
    return ek_sink_transform_encode(s->tf, value, out, err);
}

/* Reports what a full cache dropped since the last look in the sink's metrics. */
static void check_cache(rules__sink *s)
{
    if (!s->cache) return;
    ek_cache_stats st;
    ek_sink_cache_stats(s->cache, &st);
    long long before = atomic_load(&s->m.cache_dropped);
    if (st.dropped <= before) return;
    atomic_store(&s->m.cache_dropped, st.dropped);
    char msg[160];
    snprintf(msg, sizeof msg, "sink cache is full (%lld messages): dropped the oldest, %lld dropped so far",
             (long long)(st.memory + st.disk), (long long)st.dropped);
    rules__metrics_exception(&s->m, msg);
    atomic_fetch_add(&s->m.exceptions, st.dropped - before - 1);  /* one exception per dropped message */
}

/* One message out of the transform: through the cache (a NULL cache just collects). */
static int emit(void *arg, const ek_sink_data *d)
{
    rules__sink *s = arg;
    ek_err err = {0};
    if (ek_sink_cache_deliver(s->cache, d, collect, s, &err) == EK_CACHE_KEPT) {
        s->kept = true;
        check_cache(s);
    }
    return 0;
}

/* Releases the acknowledgements the sink holds once what they stand for is safe: no batch
 * pending, and whatever the cache took since its last sync written to disk (at most once per
 * emptied mailbox, so an unreachable destination costs one write per burst, not per message).
 * A batch waits for lingerInterval at most; one with batchSize alone could wait for messages
 * that held publishers can no longer send, so its rows are not waited for. */
static bool mailbox_empty(rules__actor *a)
{
    pthread_mutex_lock(&a->lock);
    bool empty = a->len == 0;
    pthread_mutex_unlock(&a->lock);
    return empty;
}

/* idle: the caller knows the mailbox is empty (a tick); else it is looked at, under its lock, only
 * when a cache sync would be needed (not once per message). */
static void release_held(rules__sink *s, bool idle)
{
    if (!s->held.len) return;
    if (ek_sink_transform_pending(s->tf) && ek_sink_transform_deadline(s->tf) >= 0) return;
    if (s->kept) {
        if (!idle && !mailbox_empty(&s->actor)) return;
        ek_err err = {0};
        if (ek_sink_cache_sync(s->cache, &err) != 0) return; /* kept, tried again at the next mail or tick */
        s->kept = false;
    }
    ek_ack_list_release(&s->held);
}

static void send(rules__sink *s, const ek_value *v, const ek_value *meta)
{
    ek_err err = {0};
    rules__m_add(&s->m.in, 1);
    rules__m_add(&s->m.processed, 1);
    rules__m_set(&s->m.last_invocation, rules__coarse_ms());
    int64_t mono = s->batches ? ek_mono_ms() : 0;  /* only batching reads the clock */
    if (ek_sink_transform_apply(s->tf, v, meta, mono, emit, s, &err) != 0)
        rules__metrics_exception(&s->m, err.msg[0] ? err.msg : ek_strerror(err.code));
}

/* Runs on the rule's thread: hands the value to every sink's mailbox (taking nothing), with the
 * acknowledgement of the row being handled, if any. */
static void post_all(rules__run *run, const ek_value *v, const ek_value *meta)
{
    for (size_t i = 0; i < run->nsinks; i++) {
        rules__sink *s = &run->sinks[i];
        rules__mail m = {.kind = MAIL_RESULT, .v = ek_value_ref(v), .meta = meta ? ek_value_ref(meta) : ek_null(),
                         .ack = ek_ack_ref(run->cur_ack)};
        rules__actor_post(run->eng, &s->actor, &m);
    }
}

void rules__sinks_collect(rules__run *run, rules__batch *b)
{
    if (b->out.type != EK_T_ARRAY) return;
    const ek_value *meta = NULL;
    if (run->opts.send_meta && b->ntuples > 0 && b->rows[0]) meta = &b->rows[0]->meta;
    post_all(run, &b->out, meta);
}

void rules__send_error(rules__run *run, const char *msg)
{
    if (!run->opts.send_error) return;
    ek_value o = ek_object_new(1);
    ek_object_set(&o, "error", ek_string(msg));
    post_all(run, &o, NULL);
    ek_value_unref(&o);
}

/* When the sink next needs a tick on the rule clock (now): the earlier of the transform's and the
 * cache's monotonic deadlines, as a delay from now (at least 1 ms); INT64_MAX for none. */
static int64_t next_want(rules__sink *s, int64_t now, int64_t mono)
{
    int64_t want = INT64_MAX;
    int64_t next[2] = {ek_sink_transform_deadline(s->tf), ek_sink_cache_deadline(s->cache)};
    for (int k = 0; k < 2; k++) {
        if (next[k] < 0) continue;
        int64_t at = now + (next[k] > mono ? next[k] - mono : 1);  /* a monotonic delay on the rule clock */
        if (at < want) want = at;
    }
    return want;
}

/* On the sink's thread: flushes a due batch, resends due cached data, publishes the next wish. */
static void service(rules__sink *s, int64_t now)
{
    int64_t mono = ek_mono_ms();
    ek_err err = {0};
    int64_t d = ek_sink_transform_deadline(s->tf);
    if (d >= 0 && d <= mono) ek_sink_transform_flush(s->tf, mono, false, emit, s, &err);
    d = ek_sink_cache_deadline(s->cache);
    if (d >= 0 && d <= mono) ek_sink_cache_resend(s->cache, mono, collect, encode, s);
    int64_t want = next_want(s, now, mono);
    atomic_store(&s->want, want);
    if (want != INT64_MAX) rules__timer_set(s->run->eng, s->run, want);
}

static void sink_handle(rules__actor *a, rules__mail *m)
{
    rules__sink *s = (rules__sink *)a;
    rules__m_set(&s->m.buffer_len, (long long)a->len_at_take);
    send(s, &m->v, m->meta.type == EK_T_NULL ? NULL : &m->meta);
    ek_ack_list_add(&s->held, m->ack);
    if (ek_sink_transform_deadline(s->tf) >= 0 || ek_sink_cache_deadline(s->cache) >= 0)
        service(s, rules__now(s->run->eng));
    release_held(s, false);
}

static void sink_tick(rules__actor *a, int64_t now)
{
    service((rules__sink *)a, now);
    release_held((rules__sink *)a, true);
}

bool rules__sinks_waiting(const rules__run *run)
{
    for (size_t i = 0; i < run->nsinks; i++)
        if (atomic_load_explicit(&run->sinks[i].want, memory_order_relaxed) != INT64_MAX) return true;
    return false;
}

int64_t rules__sinks_tick(rules__run *run, int64_t now)
{
    int64_t want = INT64_MAX;
    for (size_t i = 0; i < run->nsinks; i++) {
        int64_t w = atomic_load(&run->sinks[i].want);
        if (w == INT64_MAX) continue;
        if (w <= now) rules__actor_post_tick(run->eng, &run->sinks[i].actor, now);
        else if (w < want) want = w;
    }
    return want;
}

static char *cache_path(const rules__run *run)
{
    const char *dir = run->eng->app->data_dir ? run->eng->app->data_dir : ".";
    return ek_asprintf("%s/cache.db", dir);
}

static int open_cache(rules__run *run, rules__sink *s, size_t index, ek_err *err)
{
    ek_cache_conf conf;
    int rc = ek_cache_conf_load(run->eng->app->config, &s->props, &conf, err);
    if (rc || !conf.enable) return rc;
    char *path = cache_path(run);
    char *key = ek_asprintf("%s_%zu", run->id, index);
    rc = ek_sink_cache_open(path, key, &conf, &s->cache, err);
    ek_free(key);
    ek_free(path);
    s->m.cache = rc == 0;
    /* Data a previous run left in the cache is resent without waiting for the rule's first new
     * message: the wish is published here and rules__run_go arms the rule's timer with it. */
    if (rc == 0 && ek_sink_cache_deadline(s->cache) >= 0)
        atomic_store(&s->want, next_want(s, rules__now(run->eng), ek_mono_ms()));
    return rc;
}

int rules__sinks_open(rules__run *run, const ek_value *actions, ek_err *err)
{
    size_t n = actions ? ek_array_len(actions) : 0;
    run->sinks = ek_calloc(n ? n : 1, sizeof *run->sinks);
    for (size_t i = 0; i < n; i++) {
        const ek_value *act = ek_array_get(actions, i);
        const char *type = ek_object_key(act, 0);
        const ek_value *props = ek_object_val(act, 0);
        const ek_sink_ops *ops = ek_connector_sink(type);
        if (!ops) return ek_err_set(err, EK_EPLAN, "sink type %s is not available", type);
        rules__sink *s = &run->sinks[run->nsinks];
        ek_err perr = {0};
        int64_t blen = 1024;
        ek_prop_int(props->type == EK_T_OBJECT ? props : NULL, "bufferLength", 1024, &blen, &perr);
        rules__actor_init(&s->actor, (size_t)(blen > 0 ? blen : 1024));
        s->actor.pool_kind = RULES_POOL_SINK;
        s->actor.handle = sink_handle;
        s->actor.tick = sink_tick;
        s->run = run;
        atomic_store(&s->want, INT64_MAX);
        s->ops = ops;
        s->type = ek_strdup(type);
        s->props = props->type == EK_T_OBJECT ? ek_value_ref(props) : ek_object_new(0);
        char name[96];
        size_t idx = run->sink_base + i;  /* numbered across a graph rule's parts */
        snprintf(name, sizeof name, "sink_%s_%zu_0", type, idx);
        rules__metrics_init(&s->m, name, true);
        run->nsinks++;
        if (ek_sink_transform_new(&s->props, &s->tf, err) != 0) return ek_err_prefix(err, "sink %s", type);
        s->st = ek_calloc(1, ops->state_size ? ops->state_size : 1);
        ek_sink_conf conf = {.app = run->eng->app, .rule_id = run->id, .index = (int)idx, .props = &s->props};
        if (ops->open(s->st, &conf, err) != 0) {
            ek_free(s->st);
            s->st = NULL;
            return ek_err_prefix(err, "sink %s", type);
        }
        if (open_cache(run, s, idx, err) != 0) return ek_err_prefix(err, "sink %s", type);
        if (ops->values_only && !s->cache) ek_sink_transform_values_only(s->tf);  /* a cache stores payloads */
        s->batches = ek_sink_transform_batches(s->tf);
    }
    return 0;
}

void rules__sinks_stop(rules__run *run)
{
    for (size_t i = 0; i < run->nsinks; i++) rules__actor_drain(run->eng, &run->sinks[i].actor);
    for (size_t i = 0; i < run->nsinks; i++) rules__actor_close(run->eng, &run->sinks[i].actor);
}

void rules__sinks_close(rules__run *run)
{
    for (size_t i = 0; i < run->nsinks; i++) {
        rules__sink *s = &run->sinks[i];
        rules__actor_destroy(&s->actor);
        ek_err err = {0};
        if (s->st && s->tf) ek_sink_transform_flush(s->tf, ek_mono_ms(), true, emit, s, &err);
        ek_sink_cache_close(s->cache);  /* writes what it holds to disk: the held acks may go */
        ek_ack_list_free(&s->held);
        if (s->st && s->ops->close) s->ops->close(s->st);
        ek_free(s->st);
        ek_free(s->type);
        ek_value_unref(&s->props);
        ek_sink_transform_free(s->tf);
        rules__metrics_destroy(&s->m);
    }
    ek_free(run->sinks);
    run->sinks = NULL;
    run->nsinks = 0;
}

/* The number of edge targets of a graph rule: an upper bound of its sinks' indexes. */
static size_t graph_edge_count(const ek_value *def)
{
    const ek_value *g = ek_object_get(def, "graph");
    const ek_value *topo = g && g->type == EK_T_OBJECT ? ek_object_get(g, "topo") : NULL;
    const ek_value *edges = topo && topo->type == EK_T_OBJECT ? ek_object_get(topo, "edges") : NULL;
    size_t n = 0;
    for (size_t i = 0; edges && edges->type == EK_T_OBJECT && i < ek_object_len(edges); i++) {
        const ek_value *to = ek_object_val(edges, i);
        for (size_t k = 0; to->type == EK_T_ARRAY && k < ek_array_len(to); k++) {
            const ek_value *t = ek_array_get(to, k);
            n += t->type == EK_T_ARRAY ? ek_array_len(t) : 1;
        }
    }
    return n;
}

void rules__sinks_purge(ek_rules *r, const char *id, const ek_value *def)
{
    if (!r->app->data_dir) return;
    const ek_value *actions = ek_object_get(def, "actions");
    size_t n = actions && actions->type == EK_T_ARRAY ? ek_array_len(actions) : 0;
    if (!actions) n = graph_edge_count(def);  /* at least as many as a graph rule's sink numbers */
    const char *dir = r->app->data_dir ? r->app->data_dir : ".";
    char *path = ek_asprintf("%s/cache.db", dir);
    for (size_t i = 0; i < n; i++) {
        char *key = ek_asprintf("%s_%zu", id, i);
        ek_err err = {0};
        ek_sink_cache_purge(path, key, &err);
        ek_free(key);
    }
    ek_free(path);
}
