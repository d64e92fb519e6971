/* Shared MQTT connections for the mqtt source and sink (see mqtt_int.h): a pool keyed by the
 * resolved settings, each entry either in-process (the bundled broker) or a Paho MQTTAsync client
 * kept connected by its own small thread (exponential backoff 1 s .. 10 s, forever; a rule never
 * stops because a broker went away). The pool is the one piece of process-wide state here: Paho
 * itself is process-wide, and a connection must be shared by every rule that can share it.
 *
 * Threads never wait on the rule engine where they must not: Paho's receive thread (one for all
 * clients) and the broker's reactor only append to the connection's bounded queue (bufferLength,
 * the oldest dropped and counted when full); the connection's dispatcher thread hands messages and
 * status changes to the subscribers, and it alone may block on a full rule mailbox.
 *
 * Locks: `mu` guards the subscribers and is held while the dispatcher delivers, so after
 * unsubscribe returns no callback runs; `smu` guards the connection state for the upkeep thread;
 * `qmu` guards the queue. No Paho function is called with `mu` held. */
#include "broker/broker.h"
#include "connectors/mqtt_int.h"
#include "connectors/paho_dial.h"
#include "engine/log.h"
#include "engine/mem.h"

#include <MQTTAsync.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 10000
#define PUBLISH_TIMEOUT_MS 5000
#define DEFAULT_BUFFER 1024

typedef struct sub {
    long id;
    char *filter;
    int qos;
    mqtt_msg_fn fn;
    mqtt_status_fn status;
    void *arg;
    long broker_id;      /* in-process subscription */
    mqtt_conn *conn;
    struct sub *next;
} sub;

/* A queued message (or, with status set, a connection change) for the dispatcher. */
typedef struct item {
    long sub_id;         /* in-process: the one subscriber; 0: every subscriber whose filter matches */
    char *topic;
    void *payload;
    size_t len;
    ek_broker_msg *bm;   /* in-process: the broker's message (payload not copied) */
    ek_ack *ack;         /* in-process: held until the subscriber has the message safe */
    int qos;
    long msgid;
    ek_value props;      /* MQTT 5 properties, or null */
    bool status;
    int connected;
    char *msg;
} item;

struct mqtt_conn {
    mqtt_conn *next;     /* in the pool */
    int refs;
    char *key;
    ek_app *app;
    mqtt_settings s;
    char *clientid;
    /* subscribers */
    pthread_mutex_t mu;
    sub *subs;
    long next_id;
    atomic_uint msg_seq; /* messageId of in-process messages */
    /* the dispatch queue */
    pthread_mutex_t qmu;
    pthread_cond_t qcv;
    item *q;
    size_t qhead, qlen, qcap, qlimit;
    int64_t dropped, last_drop_log;
    bool qstop;
    pthread_t dispatcher;
    bool dispatcher_started;
    /* Paho state */
    MQTTAsync client;
    atomic_bool connected;
    pthread_mutex_t smu;
    pthread_cond_t cv;
    bool connecting, stop, thread_started, need_resub;
    int64_t next_try_ms;
    int backoff_ms;
    pthread_t thread;
};

static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static mqtt_conn *pool;
static atomic_uint client_seq;

static char *make_key(ek_app *app, const mqtt_settings *s)
{
    return ek_asprintf("%p|%s|%s|%s|%s|%d|%s|%s|%s|%d|%d", (void *)app, s->server, s->username ? s->username : "",
                       s->password ? s->password : "", s->clientid ? s->clientid : "", s->version,
                       s->cert ? s->cert : "", s->key ? s->key : "", s->rootca ? s->rootca : "", s->insecure,
                       s->bundled);
}

static char *dup_or_null(const char *s) { return s ? ek_strdup(s) : NULL; }

/* ---- the dispatch queue ---- */

static void item_free(item *it)
{
    ek_free(it->topic);
    ek_free(it->payload);
    ek_free(it->msg);
    if (it->bm) ek_broker_msg_unref(it->bm);
    ek_ack_unref(it->ack);
    ek_value_unref(&it->props);
}

/* Appends it (taken); when the queue is full the oldest message goes, counted and logged. */
static void enqueue(mqtt_conn *c, item it)
{
    pthread_mutex_lock(&c->qmu);
    size_t limit = c->qlimit ? c->qlimit : DEFAULT_BUFFER;
    if (!it.status && c->qlen >= limit) {
        item_free(&c->q[c->qhead]);
        c->qhead = (c->qhead + 1) % c->qcap;
        c->qlen--;
        c->dropped++;
        int64_t now = ek_mono_ms();
        if (c->last_drop_log == 0 || now - c->last_drop_log >= 10000) {
            c->last_drop_log = now;
            ek_warn("mqtt %s: the rules do not keep up; dropped the oldest of %zu buffered messages "
                    "(%lld so far; see bufferLength)", c->s.server, limit, (long long)c->dropped);
        }
    }
    if (c->qlen == c->qcap) {
        size_t cap = c->qcap ? c->qcap * 2 : 64;
        item *n = ek_malloc(cap * sizeof *n);
        for (size_t i = 0; i < c->qlen; i++) n[i] = c->q[(c->qhead + i) % c->qcap];
        ek_free(c->q);
        c->q = n, c->qcap = cap, c->qhead = 0;
    }
    c->q[(c->qhead + c->qlen++) % c->qcap] = it;
    pthread_cond_signal(&c->qcv);
    pthread_mutex_unlock(&c->qmu);
}

static void notify(mqtt_conn *c, int connected, const char *msg)
{
    enqueue(c, (item){.status = true, .connected = connected, .msg = msg ? ek_strdup(msg) : NULL,
                      .props = ek_null()});
}

static ek_value make_meta(const char *topic, int qos, long msgid);

/* Delivers one item to its subscribers; mu held. */
static void deliver(mqtt_conn *c, item *it)
{
    for (sub *s = c->subs; s; s = s->next) {
        if (it->status) {
            if (s->status) s->status(s->arg, it->connected, it->msg);
            continue;
        }
        if (it->sub_id ? s->id != it->sub_id : !mqtt__topic_match(s->filter, it->topic)) continue;
        ek_value meta = make_meta(it->topic, it->qos, it->msgid);
        if (it->props.type != EK_T_NULL) ek_object_set(&meta, "properties", ek_value_ref(&it->props));
        size_t len = it->len;
        const void *p = it->bm ? ek_broker_msg_payload(it->bm, &len) : it->payload;
        s->fn(s->arg, p ? p : "", len, meta, it->ack);
    }
}

static void *dispatch(void *arg)
{
    mqtt_conn *c = arg;
    for (;;) {
        pthread_mutex_lock(&c->qmu);
        while (!c->qstop && c->qlen == 0) pthread_cond_wait(&c->qcv, &c->qmu);
        if (c->qlen == 0) {
            pthread_mutex_unlock(&c->qmu);
            return NULL;
        }
        item it = c->q[c->qhead];
        c->qhead = (c->qhead + 1) % c->qcap;
        c->qlen--;
        pthread_mutex_unlock(&c->qmu);
        pthread_mutex_lock(&c->mu);
        deliver(c, &it);
        pthread_mutex_unlock(&c->mu);
        item_free(&it);
    }
}

/* ---- received messages ---- */

static ek_value make_meta(const char *topic, int qos, long msgid)
{
    ek_value meta = ek_object_new(4);
    ek_object_set(&meta, "topic", ek_string(topic));
    ek_object_set(&meta, "qos", ek_int(qos));
    ek_object_set(&meta, "messageId", ek_int(msgid));
    return meta;
}

static ek_value v5_properties(const MQTTProperties *props)
{
    if (!props || props->count == 0) return ek_null();
    ek_value p = ek_object_new((size_t)props->count);
    ek_value user = ek_object_new(0);
    for (int i = 0; i < props->count; i++) {
        const MQTTProperty *pr = &props->array[i];
        const char *name = MQTTPropertyName(pr->identifier);
        switch (MQTTProperty_getType(pr->identifier)) {
        case MQTTPROPERTY_TYPE_UTF_8_STRING_PAIR:
            ek_object_set_n(&user, pr->value.data.data, (size_t)pr->value.data.len,
                            ek_string_n(pr->value.value.data, (size_t)pr->value.value.len));
            break;
        case MQTTPROPERTY_TYPE_UTF_8_ENCODED_STRING:
        case MQTTPROPERTY_TYPE_BINARY_DATA:
            ek_object_set(&p, name, ek_string_n(pr->value.data.data, (size_t)pr->value.data.len));
            break;
        case MQTTPROPERTY_TYPE_BYTE: ek_object_set(&p, name, ek_int(pr->value.byte)); break;
        case MQTTPROPERTY_TYPE_TWO_BYTE_INTEGER: ek_object_set(&p, name, ek_int(pr->value.integer2)); break;
        default: ek_object_set(&p, name, ek_int(pr->value.integer4)); break;
        }
    }
    if (ek_object_len(&user)) ek_object_set(&p, "User Property", user);
    else ek_value_unref(&user);
    return p;
}

static int on_paho_message(void *ctx, char *topic_name, int topic_len, MQTTAsync_message *m)
{
    mqtt_conn *c = ctx;
    item it = {.topic = topic_len > 0 ? ek_strndup(topic_name, (size_t)topic_len) : ek_strdup(topic_name),
               .len = (size_t)m->payloadlen, .qos = m->qos, .msgid = m->msgid,
               .props = c->s.version == 5 ? v5_properties(&m->properties) : ek_null()};
    it.payload = ek_malloc(it.len + 1);
    if (it.len) memcpy(it.payload, m->payload, it.len);
    enqueue(c, it);
    MQTTAsync_freeMessage(&m);
    MQTTAsync_free(topic_name);
    return 1;
}

static void on_broker_message(void *arg, ek_broker_msg *m)
{
    sub *s = arg;
    mqtt_conn *c = s->conn;
    enqueue(c, (item){.sub_id = s->id, .topic = ek_strdup(ek_broker_msg_topic(m)), .bm = ek_broker_msg_ref(m),
                      .ack = ek_broker_msg_hold(m),
                      .qos = ek_broker_msg_qos(m), .msgid = (long)(atomic_fetch_add(&c->msg_seq, 1) % 65535 + 1),
                      .props = ek_null()});
}

/* ---- Paho connection upkeep ---- */

/* Subscribes every distinct filter (highest QoS asked) again after a (re)connect; upkeep thread. */
static void resubscribe(mqtt_conn *c)
{
    pthread_mutex_lock(&c->mu);
    int n = 0;
    for (sub *s = c->subs; s; s = s->next) n++;
    char **filters = ek_calloc((size_t)n + 1, sizeof *filters);
    int *qos = ek_calloc((size_t)n + 1, sizeof *qos), k = 0;
    for (sub *s = c->subs; s; s = s->next) {
        int seen = 0;
        for (int i = 0; i < k && !seen; i++)
            if (strcmp(filters[i], s->filter) == 0) seen = 1, qos[i] = qos[i] > s->qos ? qos[i] : s->qos;
        if (!seen) filters[k] = ek_strdup(s->filter), qos[k++] = s->qos;
    }
    pthread_mutex_unlock(&c->mu);
    for (int i = 0; i < k; i++) {
        MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
        int rc = MQTTAsync_subscribe(c->client, filters[i], qos[i], &ro);
        if (rc == MQTTASYNC_SUCCESS) rc = MQTTAsync_waitForCompletion(c->client, ro.token, PUBLISH_TIMEOUT_MS);
        if (rc != MQTTASYNC_SUCCESS) ek_warn("mqtt %s: cannot subscribe to %s: %s", c->s.server, filters[i],
                                            MQTTAsync_strerror(rc));
        ek_free(filters[i]);
    }
    ek_free(filters);
    ek_free(qos);
    /* Up means data flows: reported once the subscriptions are back. */
    if (atomic_load(&c->connected)) notify(c, 1, NULL);
}

static void connected_ok(mqtt_conn *c)
{
    pthread_mutex_lock(&c->smu);
    atomic_store(&c->connected, true);
    c->connecting = false, c->backoff_ms = BACKOFF_MIN_MS, c->need_resub = true;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->smu);
    ek_info("mqtt: connected to %s as %s", c->s.server, c->clientid);
}

static void went_down(mqtt_conn *c, const char *msg, bool retry_now)
{
    pthread_mutex_lock(&c->smu);
    atomic_store(&c->connected, false);
    c->connecting = false;
    if (retry_now) {
        c->next_try_ms = ek_mono_ms();
    } else {
        c->next_try_ms = ek_mono_ms() + c->backoff_ms;
        c->backoff_ms = c->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : c->backoff_ms * 2;
    }
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->smu);
    notify(c, 0, msg);
}

static void connect_failed(mqtt_conn *c, int code, const char *why)
{
    char msg[300];
    snprintf(msg, sizeof msg, "cannot connect to %s: %s (%d)", c->s.server, why ? why : "connection refused", code);
    went_down(c, msg, false);
}

static void on_connect3(void *ctx, MQTTAsync_successData *d) { connected_ok(ctx); }
static void on_connect5(void *ctx, MQTTAsync_successData5 *d) { connected_ok(ctx); }
static void on_fail3(void *ctx, MQTTAsync_failureData *d) { connect_failed(ctx, d ? d->code : -1, d ? d->message : NULL); }
static void on_fail5(void *ctx, MQTTAsync_failureData5 *d)
{
    connect_failed(ctx, d ? (d->reasonCode ? (int)d->reasonCode : d->code) : -1, d ? d->message : NULL);
}

static void on_lost(void *ctx, char *cause)
{
    mqtt_conn *c = ctx;
    char msg[300];
    snprintf(msg, sizeof msg, "connection to %s lost%s%s", c->s.server, cause ? ": " : "", cause ? cause : "");
    ek_warn("mqtt: %s", msg);
    went_down(c, msg, true);
}

static int start_connect(mqtt_conn *c)
{
    ek_paho_dial d = {.server = c->s.server,
                      .version = c->s.version,
                      .keepalive = 30,
                      .username = c->s.username,
                      .password = c->s.password,
                      .cafile = c->s.rootca,
                      .certfile = c->s.cert,
                      .keyfile = c->s.key,
                      .insecure = c->s.insecure,
                      .context = c,
                      .on_success3 = on_connect3,
                      .on_failure3 = on_fail3,
                      .on_success5 = on_connect5,
                      .on_failure5 = on_fail5};
    return ek_paho_connect(c->client, &d);
}

static void *upkeep(void *arg)
{
    mqtt_conn *c = arg;
    pthread_mutex_lock(&c->smu);
    while (!c->stop) {
        int64_t now = ek_mono_ms();
        if (c->need_resub) {
            c->need_resub = false;
            pthread_mutex_unlock(&c->smu);
            resubscribe(c);
            pthread_mutex_lock(&c->smu);
            continue;
        }
        bool up = atomic_load(&c->connected);
        if (!up && !c->connecting && now >= c->next_try_ms) {
            c->connecting = true;
            pthread_mutex_unlock(&c->smu);
            int rc = start_connect(c);
            pthread_mutex_lock(&c->smu);
            if (rc != MQTTASYNC_SUCCESS) {
                c->connecting = false;
                c->next_try_ms = now + c->backoff_ms;
                c->backoff_ms = c->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : c->backoff_ms * 2;
            }
            continue;
        }
        int64_t wait = up || c->connecting ? 1000 : c->next_try_ms - now;
        if (wait < 1) wait = 1;
        struct timespec ts = ek_deadline_in(CLOCK_MONOTONIC, wait);
        pthread_cond_timedwait(&c->cv, &c->smu, &ts);
    }
    pthread_mutex_unlock(&c->smu);
    return NULL;
}

static int paho_open(mqtt_conn *c, ek_err *err)
{
    int rc = ek_paho_create(&c->client, c->s.server, c->clientid, c->s.version);
    if (rc != MQTTASYNC_SUCCESS)
        return ek_err_set(err, EK_EINVAL, "mqtt server %s: %s", c->s.server, MQTTAsync_strerror(rc));
    MQTTAsync_setCallbacks(c->client, c, on_lost, on_paho_message, NULL);
    c->backoff_ms = BACKOFF_MIN_MS;
    if (pthread_create(&c->thread, NULL, upkeep, c) != 0) {
        MQTTAsync_destroy(&c->client);
        return ek_err_set(err, EK_EIO, "mqtt: cannot start a thread");
    }
    c->thread_started = true;
    return 0;
}

static void conn_destroy(mqtt_conn *c)
{
    if (c->thread_started) {
        pthread_mutex_lock(&c->smu);
        c->stop = true;
        pthread_cond_broadcast(&c->cv);
        pthread_mutex_unlock(&c->smu);
        pthread_join(c->thread, NULL);
    }
    if (c->client) {
        MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
        d.timeout = 200;
        if (MQTTAsync_isConnected(c->client) && MQTTAsync_disconnect(c->client, &d) == MQTTASYNC_SUCCESS)
            for (int i = 0; i < 50 && MQTTAsync_isConnected(c->client); i++) usleep(10000);
        MQTTAsync_destroy(&c->client);
    }
    if (c->dispatcher_started) {
        pthread_mutex_lock(&c->qmu);
        c->qstop = true;
        pthread_cond_broadcast(&c->qcv);
        pthread_mutex_unlock(&c->qmu);
        pthread_join(c->dispatcher, NULL);
    }
    while (c->qlen) {
        item_free(&c->q[c->qhead]);
        c->qhead = (c->qhead + 1) % c->qcap;
        c->qlen--;
    }
    ek_free(c->q);
    pthread_mutex_destroy(&c->mu);
    pthread_mutex_destroy(&c->qmu);
    pthread_mutex_destroy(&c->smu);
    pthread_cond_destroy(&c->qcv);
    pthread_cond_destroy(&c->cv);
    mqtt__settings_free(&c->s);
    ek_free(c->clientid);
    ek_free(c->key);
    ek_free(c);
}

/* ---- the pool ---- */

int mqtt__conn_get(ek_app *app, const mqtt_settings *s, mqtt_conn **out, ek_err *err)
{
    char *key = make_key(app, s);
    pthread_mutex_lock(&pool_mu);
    for (mqtt_conn *c = pool; c; c = c->next)
        if (strcmp(c->key, key) == 0) {
            c->refs++;
            pthread_mutex_unlock(&pool_mu);
            ek_free(key);
            *out = c;
            return 0;
        }
    /* The same client id on one server with other settings would make the broker drop one
     * connection each time the other connects: refuse it up front. */
    for (mqtt_conn *o = pool; o && s->clientid && !s->bundled; o = o->next)
        if (o->s.clientid && strcmp(o->s.clientid, s->clientid) == 0 && strcmp(o->s.server, s->server) == 0) {
            pthread_mutex_unlock(&pool_mu);
            ek_free(key);
            return ek_err_set(err, EK_EINVAL,
                              "clientid %s is already used on %s by a connection with other settings", s->clientid,
                              s->server);
        }
    mqtt_conn *c = ek_calloc(1, sizeof *c);
    c->key = key, c->app = app, c->refs = 1;
    c->s = (mqtt_settings){.server = ek_strdup(s->server), .username = dup_or_null(s->username),
                           .password = dup_or_null(s->password), .clientid = dup_or_null(s->clientid),
                           .version = s->version, .cert = dup_or_null(s->cert), .key = dup_or_null(s->key),
                           .rootca = dup_or_null(s->rootca), .insecure = s->insecure, .bundled = s->bundled};
    c->clientid = s->clientid ? ek_strdup(s->clientid)
                              : ek_asprintf("kuiperd_%x_%u", (unsigned)(getpid() ^ (ek_now_ms() & 0xffff)),
                                            atomic_fetch_add(&client_seq, 1));
    pthread_mutex_init(&c->mu, NULL);
    pthread_mutex_init(&c->qmu, NULL);
    pthread_mutex_init(&c->smu, NULL);
    pthread_cond_init(&c->qcv, NULL);
    ek_cond_init_monotonic(&c->cv); /* upkeep's timed waits: immune to wall-clock jumps */
    int rc = 0;
    if (pthread_create(&c->dispatcher, NULL, dispatch, c) != 0) rc = ek_err_set(err, EK_EIO, "mqtt: cannot start a thread");
    else c->dispatcher_started = true;
    if (!rc && !c->s.bundled) rc = paho_open(c, err);
    if (rc) {
        pthread_mutex_unlock(&pool_mu);
        conn_destroy(c);
        return rc;
    }
    c->next = pool, pool = c;
    pthread_mutex_unlock(&pool_mu);
    *out = c;
    return 0;
}

void mqtt__conn_put(mqtt_conn *c)
{
    if (!c) return;
    pthread_mutex_lock(&pool_mu);
    if (--c->refs > 0) {
        pthread_mutex_unlock(&pool_mu);
        return;
    }
    for (mqtt_conn **p = &pool; *p; p = &(*p)->next)
        if (*p == c) {
            *p = c->next;
            break;
        }
    pthread_mutex_unlock(&pool_mu);
    conn_destroy(c);
}

long mqtt__conn_subscribe(mqtt_conn *c, const char *filter, int qos, size_t buffer, mqtt_msg_fn fn,
                          mqtt_status_fn status, void *arg, ek_err *err)
{
    sub *s = ek_calloc(1, sizeof *s);
    s->filter = ek_strdup(filter), s->qos = qos, s->fn = fn, s->status = status, s->arg = arg, s->conn = c;
    pthread_mutex_lock(&c->qmu);
    if (buffer > c->qlimit) c->qlimit = buffer;
    pthread_mutex_unlock(&c->qmu);
    pthread_mutex_lock(&c->mu);
    int first = 1;
    for (sub *o = c->subs; o; o = o->next)
        if (strcmp(o->filter, filter) == 0 && o->qos >= qos) first = 0;
    s->id = ++c->next_id;
    s->next = c->subs, c->subs = s;
    bool connected = c->s.bundled || atomic_load(&c->connected);
    if (status) status(arg, connected, connected ? NULL : "connecting");
    pthread_mutex_unlock(&c->mu);
    if (c->s.bundled) {
        /* s is in the list already, so the first message finds it */
        /* Held: the publisher's PUBACK waits for the rules (see ek_broker_msg_hold). */
        long bid = ek_broker_subscribe(c->app->broker, filter, qos | EK_BROKER_HOLD, on_broker_message, s, err);
        if (bid < 0) {
            mqtt__conn_unsubscribe(c, s->id);
            return bid;
        }
        s->broker_id = bid;
    } else if (first && connected) {
        /* The rule starts with its subscription in place (at most a few seconds' wait). */
        MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
        int rc = MQTTAsync_subscribe(c->client, filter, qos, &ro);
        if (rc == MQTTASYNC_SUCCESS) rc = MQTTAsync_waitForCompletion(c->client, ro.token, PUBLISH_TIMEOUT_MS);
        if (rc != MQTTASYNC_SUCCESS) ek_warn("mqtt %s: cannot subscribe to %s: %s", c->s.server, filter,
                                            MQTTAsync_strerror(rc));
    }
    return s->id;
}

void mqtt__conn_unsubscribe(mqtt_conn *c, long id)
{
    pthread_mutex_lock(&c->mu);
    sub *found = NULL;
    for (sub **p = &c->subs; *p; p = &(*p)->next)
        if ((*p)->id == id) {
            found = *p;
            *p = found->next;
            break;
        }
    int last = 1;
    for (sub *o = c->subs; o && found; o = o->next)
        if (strcmp(o->filter, found->filter) == 0) last = 0;
    pthread_mutex_unlock(&c->mu);
    if (!found) return;
    /* Messages still queued for it find no subscriber with its id: they are dropped. */
    if (c->s.bundled && found->broker_id > 0) ek_broker_unsubscribe(c->app->broker, found->broker_id);
    else if (!c->s.bundled && last && atomic_load(&c->connected)) {
        MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
        MQTTAsync_unsubscribe(c->client, found->filter, &ro);
    }
    ek_free(found->filter);
    ek_free(found);
}

/* A QoS 1 or 2 publish waits for the broker's acknowledgement through Paho's callbacks, not
 * MQTTAsync_waitForCompletion: that one polls every 100 ms, which held a sink to about ten messages
 * a second (found by test_fault_kill9.py: a 50 msg/s stream fell further behind every second).
 * The waiter has two references, the publisher's and the callback's, so a callback that arrives
 * after the timeout still finds it allocated; if Paho never calls back, it is leaked, not freed
 * under a callback. */
typedef struct pub_wait {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int refs;
    int done;  /* 0 waiting, 1 acknowledged, -1 failed */
    int code;  /* Paho's code of a failure */
} pub_wait;

static pub_wait *pub_wait_new(void)
{
    pub_wait *w = ek_calloc(1, sizeof *w);
    pthread_mutex_init(&w->mu, NULL);
    ek_cond_init_monotonic(&w->cv);
    w->refs = 2;
    return w;
}

static void pub_wait_unref(pub_wait *w)
{
    pthread_mutex_lock(&w->mu);
    int left = --w->refs;
    pthread_mutex_unlock(&w->mu);
    if (left) return;
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    ek_free(w);
}

static void pub_finish(pub_wait *w, int done, int code)
{
    pthread_mutex_lock(&w->mu);
    w->done = done;
    w->code = code == MQTTASYNC_SUCCESS ? MQTTASYNC_FAILURE : code;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pub_wait_unref(w);
}

static void on_pub_ok3(void *ctx, MQTTAsync_successData *r)
{
    (void)r;
    pub_finish(ctx, 1, 0);
}

static void on_pub_fail3(void *ctx, MQTTAsync_failureData *r) { pub_finish(ctx, -1, r ? r->code : 0); }

static void on_pub_ok5(void *ctx, MQTTAsync_successData5 *r)
{
    (void)r;
    pub_finish(ctx, 1, 0);
}

static void on_pub_fail5(void *ctx, MQTTAsync_failureData5 *r) { pub_finish(ctx, -1, r ? r->code : 0); }

/* Waits up to ms for the acknowledgement; MQTTASYNC_SUCCESS, Paho's failure code, or
 * MQTTASYNC_FAILURE on timeout (as MQTTAsync_waitForCompletion answered). */
static int pub_wait_for(pub_wait *w, int ms)
{
    struct timespec ts = ek_deadline_in(CLOCK_MONOTONIC, ms);
    pthread_mutex_lock(&w->mu);
    int rc = 0;
    while (!w->done && rc == 0) rc = pthread_cond_timedwait(&w->cv, &w->mu, &ts);
    int out = w->done == 1 ? MQTTASYNC_SUCCESS : w->done == -1 ? w->code : MQTTASYNC_FAILURE;
    pthread_mutex_unlock(&w->mu);
    return out;
}

int mqtt__conn_publish(mqtt_conn *c, const char *topic, const void *payload, size_t len, int qos, bool retained,
                       ek_err *err)
{
    if (c->s.bundled) {
        int rc = ek_broker_publish(c->app->broker, topic, payload, len, qos, retained, err);
        return rc == 0 || rc == EK_EINVAL ? rc : EK_EIO;
    }
    if (!atomic_load(&c->connected)) return ek_err_set(err, EK_EIO, "not connected to %s", c->s.server);
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    MQTTAsync_message m = MQTTAsync_message_initializer;
    m.payload = (void *)(uintptr_t)payload;
    m.payloadlen = (int)len;
    m.qos = qos;
    m.retained = retained;
    pub_wait *w = NULL;
    if (qos > 0) {
        w = pub_wait_new();
        ro.context = w;
        if (c->s.version == 5) ro.onSuccess5 = on_pub_ok5, ro.onFailure5 = on_pub_fail5;
        else ro.onSuccess = on_pub_ok3, ro.onFailure = on_pub_fail3;
    }
    int rc = MQTTAsync_sendMessage(c->client, topic, &m, &ro);
    if (w) {
        if (rc == MQTTASYNC_SUCCESS) rc = pub_wait_for(w, PUBLISH_TIMEOUT_MS);
        else pub_wait_unref(w); /* refused at once: no callback will drop its reference */
        pub_wait_unref(w);
    }
    if (rc == MQTTASYNC_BAD_UTF8_STRING || rc == MQTTASYNC_BAD_QOS || rc == MQTTASYNC_BAD_MQTT_OPTION)
        return ek_err_set(err, EK_EINVAL, "cannot publish to %s: %s", topic, MQTTAsync_strerror(rc));
    if (rc != MQTTASYNC_SUCCESS)
        return ek_err_set(err, EK_EIO, "cannot publish to %s on %s: %s", topic, c->s.server, MQTTAsync_strerror(rc));
    return 0;
}

bool mqtt__conn_connected(mqtt_conn *c) { return c->s.bundled || atomic_load(&c->connected); }

const char *mqtt__conn_server(const mqtt_conn *c) { return c->s.server; }
