/* Bridges from the bundled broker to remote brokers, on Paho MQTT C (MQTTAsync): each bridge
 * forwards local topics out (an in-process subscription per `forward` rule, remotePrefix added) and
 * remote topics in (a remote subscription per `subscribe` rule, localPrefix added).
 *
 * Threads: the reactor only appends outgoing messages to the bridge's bounded queue (the oldest is
 * dropped and counted when it is full, which is what happens while the remote is away); the
 * bridge's own thread connects (backoff 1 s doubling to reconnectMax), re-subscribes after every
 * connect and sends the queue with at most WINDOW messages in flight; Paho's thread hands incoming
 * messages to the reactor through broker__post. A send the remote never acknowledged (the
 * connection dropped) goes back to the head of the queue.
 *
 * No loops: a message that came in through a bridge carries that bridge's origin id and is never
 * forwarded by it again, and with MQTT 5 (the default) the remote subscriptions set No Local, so
 * what a bridge forwards never comes back to it. Status and counters are published under
 * $SYS/brokers/kuiperd/bridges/<name>/. */
#include "broker/broker_int.h"
#include "connectors/paho_dial.h"
#include "engine/log.h"
#include "engine/mem.h"

#include <MQTTAsync.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define WINDOW 64
#define BACKOFF_MIN_MS 1000

typedef struct bridge_fwd {
    char *local, *prefix;
    int qos;
} bridge_fwd;

typedef struct bridge_in {
    char *remote, *prefix;
    int qos;
} bridge_in;

struct broker__bridge_cfg {
    char *name, *server, *clientid, *username, *password;
    char *cafile, *certfile, *keyfile;
    bool insecure;
    int version;               /* 4 (3.1.1) or 5 */
    int keepalive;             /* seconds */
    uint32_t max_queued;
    uint32_t reconnect_max;    /* seconds */
    bridge_fwd *fwd;
    size_t nfwd;
    bridge_in *in;
    size_t nin;
};

/* ---- configuration ---- */

static int get_str(const ek_value *o, const char *key, char **out, bool required, const char *where, ek_err *err)
{
    const ek_value *v = ek_object_get_ci(o, key);
    if (!v || ek_is_null(v)) {
        if (required) return ek_err_set(err, EK_ECONF, "%s.%s: required", where, key);
        return 0;
    }
    if (v->type != EK_T_STRING) return ek_err_set(err, EK_ECONF, "%s.%s: expected a string", where, key);
    *out = ek_strdup(ek_str_ptr(v));
    return 0;
}

static int get_int(const ek_value *o, const char *key, int lo, int hi, int *out, const char *where, ek_err *err)
{
    const ek_value *v = ek_object_get_ci(o, key);
    double d;
    if (!v || ek_is_null(v)) return 0;
    if (!ek_value_as_double(v, &d) || d != (double)(int64_t)d || d < lo || d > hi)
        return ek_err_set(err, EK_ECONF, "%s.%s: expected an integer from %d to %d", where, key, lo, hi);
    *out = (int)d;
    return 0;
}

/* forward: [{local, remotePrefix, qos}] and subscribe: [{remote, localPrefix, qos}]. */
static int load_rules(broker__bridge_cfg *bc, const ek_value *o, bool out, const char *where, ek_err *err)
{
    const char *key = out ? "forward" : "subscribe";
    const ek_value *l = ek_object_get_ci(o, key);
    if (!l || ek_is_null(l)) return 0;
    if (l->type != EK_T_ARRAY) return ek_err_set(err, EK_ECONF, "%s.%s: expected a list", where, key);
    size_t n = ek_array_len(l);
    if (out) bc->fwd = ek_calloc(n ? n : 1, sizeof *bc->fwd);
    else bc->in = ek_calloc(n ? n : 1, sizeof *bc->in);
    for (size_t i = 0; i < n; i++) {
        const ek_value *r = ek_array_get(l, i);
        char w[160];
        snprintf(w, sizeof w, "%s.%s[%zu]", where, key, i);
        if (r->type != EK_T_OBJECT) return ek_err_set(err, EK_ECONF, "%s: expected a mapping", w);
        char **filter = out ? &bc->fwd[i].local : &bc->in[i].remote;
        char **prefix = out ? &bc->fwd[i].prefix : &bc->in[i].prefix;
        int *qos = out ? &bc->fwd[i].qos : &bc->in[i].qos;
        *qos = out ? 2 : 1;
        if (out) bc->nfwd++;
        else bc->nin++;
        int rc = get_str(r, out ? "local" : "remote", filter, true, w, err);
        if (!rc) rc = get_str(r, out ? "remotePrefix" : "localPrefix", prefix, false, w, err);
        if (!rc) rc = get_int(r, "qos", 0, 2, qos, w, err);
        if (rc) return rc;
        if (!*prefix) *prefix = ek_strdup("");
        char *group = NULL;
        const char *real = broker__share_split(*filter, &group);
        ek_free(group);
        if (!broker__filter_valid((const uint8_t *)real, strlen(real)) || strchr(*prefix, '+') || strchr(*prefix, '#'))
            return ek_err_set(err, EK_ECONF, "%s: invalid topic filter \"%s\" or prefix \"%s\"", w, *filter, *prefix);
    }
    return 0;
}

static int load_one(broker__bridge_cfg *bc, const ek_value *o, const char *where, ek_err *err)
{
    if (o->type != EK_T_OBJECT) return ek_err_set(err, EK_ECONF, "%s: expected a mapping", where);
    bc->version = 5;
    bc->keepalive = 60;
    bc->max_queued = 1000;
    bc->reconnect_max = 30;
    int rc = get_str(o, "name", &bc->name, true, where, err);
    if (!rc) rc = get_str(o, "server", &bc->server, true, where, err);
    if (!rc) rc = get_str(o, "clientid", &bc->clientid, false, where, err);
    if (!rc) rc = get_str(o, "username", &bc->username, false, where, err);
    if (!rc) rc = get_str(o, "password", &bc->password, false, where, err);
    int mq = (int)bc->max_queued, rmax = (int)bc->reconnect_max;
    if (!rc) rc = get_int(o, "keepalive", 5, 65535, &bc->keepalive, where, err);
    if (!rc) rc = get_int(o, "maxQueued", 1, 10000000, &mq, where, err);
    if (!rc) rc = get_int(o, "reconnectMax", 1, 3600, &rmax, where, err);
    if (!rc) rc = load_rules(bc, o, true, where, err);
    if (!rc) rc = load_rules(bc, o, false, where, err);
    if (rc) return rc;
    bc->max_queued = (uint32_t)mq;
    bc->reconnect_max = (uint32_t)rmax;
    for (const char *p = bc->name; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-')
            return ek_err_set(err, EK_ECONF, "%s.name: letters, digits, _ and - only", where);
    if (!*bc->name) return ek_err_set(err, EK_ECONF, "%s.name: required", where);
    if (strncmp(bc->server, "tcp://", 6) && strncmp(bc->server, "ssl://", 6) && strncmp(bc->server, "mqtt://", 7) &&
        strncmp(bc->server, "mqtts://", 8) && strncmp(bc->server, "ws://", 5) && strncmp(bc->server, "wss://", 6))
        return ek_err_set(err, EK_ECONF, "%s.server: expected tcp://host:port (or ssl://, ws://, wss://)", where);
    const ek_value *v = ek_object_get_ci(o, "protocolVersion");
    if (v && !ek_is_null(v)) {
        char s[16] = "";
        if (v->type == EK_T_STRING) snprintf(s, sizeof s, "%s", ek_str_ptr(v));
        else if (ek_is_number(v)) { double d; ek_value_as_double(v, &d); snprintf(s, sizeof s, "%g", d); }
        if (strcmp(s, "5") == 0) bc->version = 5;
        else if (strcmp(s, "3.1.1") == 0 || strcmp(s, "4") == 0) bc->version = 4;
        else return ek_err_set(err, EK_ECONF, "%s.protocolVersion: expected \"3.1.1\" or \"5\"", where);
    }
    if ((v = ek_object_get_ci(o, "tls")) && !ek_is_null(v)) {
        if (v->type != EK_T_OBJECT) return ek_err_set(err, EK_ECONF, "%s.tls: expected a mapping", where);
        char w[160];
        snprintf(w, sizeof w, "%s.tls", where);
        rc = get_str(v, "cafile", &bc->cafile, false, w, err);
        if (!rc) rc = get_str(v, "certfile", &bc->certfile, false, w, err);
        if (!rc) rc = get_str(v, "keyfile", &bc->keyfile, false, w, err);
        const ek_value *iv = ek_object_get_ci(v, "insecureSkipVerify");
        if (iv && iv->type == EK_T_BOOL) bc->insecure = iv->b;
        if (rc) return rc;
    }
    if (!bc->clientid) bc->clientid = ek_asprintf("kuiperd-bridge-%s", bc->name);
    return 0;
}

int broker__bridges_load(broker__cfg *c, const ek_value *list, ek_err *err)
{
    if (!list || ek_is_null(list)) return 0;
    if (list->type != EK_T_ARRAY) return ek_err_set(err, EK_ECONF, "broker.bridges: expected a list");
    size_t n = ek_array_len(list);
    c->bridges = ek_calloc(n ? n : 1, sizeof *c->bridges);
    for (size_t i = 0; i < n; i++) {
        char where[48];
        snprintf(where, sizeof where, "broker.bridges[%zu]", i);
        c->nbridges++;
        int rc = load_one(&c->bridges[i], ek_array_get(list, i), where, err);
        if (rc) return rc;
        for (size_t j = 0; j < i; j++)
            if (strcmp(c->bridges[j].name, c->bridges[i].name) == 0)
                return ek_err_set(err, EK_ECONF, "%s.name: \"%s\" is used twice", where, c->bridges[i].name);
    }
    return 0;
}

void broker__bridges_free(broker__cfg *c)
{
    for (size_t i = 0; i < c->nbridges; i++) {
        broker__bridge_cfg *bc = &c->bridges[i];
        char *strs[] = {bc->name, bc->server, bc->clientid, bc->username, bc->password, bc->cafile, bc->certfile,
                        bc->keyfile};
        for (size_t k = 0; k < sizeof strs / sizeof strs[0]; k++) ek_free(strs[k]);
        for (size_t k = 0; k < bc->nfwd; k++) ek_free(bc->fwd[k].local), ek_free(bc->fwd[k].prefix);
        for (size_t k = 0; k < bc->nin; k++) ek_free(bc->in[k].remote), ek_free(bc->in[k].prefix);
        ek_free(bc->fwd);
        ek_free(bc->in);
    }
    ek_free(c->bridges);
    c->bridges = NULL;
    c->nbridges = 0;
}

/* ---- running bridges ---- */

typedef struct qitem {
    ek_broker_msg *m;          /* the local message (its payload is sent) */
    char *topic;               /* on the remote */
    uint8_t qos;
    bool retain;
} qitem;

typedef struct fwd_sub {
    struct broker__bridge *br;
    const bridge_fwd *rule;
    long id;
} fwd_sub;

typedef struct broker__bridge {
    ek_broker *b;
    const broker__bridge_cfg *cfg;
    uint64_t uid;              /* the origin of messages it brings in */
    MQTTAsync client;
    fwd_sub *subs;
    pthread_t thread;
    bool thread_started;
    pthread_mutex_t mu;        /* everything below */
    pthread_cond_t cv;
    qitem *q;                  /* ring of cfg->max_queued */
    size_t qhead, qlen;
    int inflight;
    bool connected, connecting, need_sub, stop;
    int64_t next_try_ms, backoff_ms, next_stats_ms;
    uint64_t dropped, forwarded, received;
} broker__bridge;

static void item_free(qitem *it)
{
    ek_broker_msg_unref(it->m);
    ek_free(it->topic);
}

/* Adds it at the tail (or, for a send that failed, the head); the oldest goes when full. mu held. */
static void queue_put(broker__bridge *br, qitem it, bool front)
{
    size_t cap = br->cfg->max_queued;
    if (br->qlen == cap) {
        if (front) { /* the returning message is the oldest of all */
            item_free(&it);
            br->dropped++;
            return;
        }
        item_free(&br->q[br->qhead]);
        br->qhead = (br->qhead + 1) % cap;
        br->qlen--;
        br->dropped++;
    }
    if (front) {
        br->qhead = (br->qhead + cap - 1) % cap;
        br->q[br->qhead] = it;
    } else {
        br->q[(br->qhead + br->qlen) % cap] = it;
    }
    br->qlen++;
    pthread_cond_signal(&br->cv);
}

/* ---- $SYS: status and counters, published on the reactor ---- */

typedef struct sys_item {
    char topic[160];
    char val[32];
} sys_item;

static void do_sys(ek_broker *b, void *arg)
{
    sys_item *s = arg;
    broker__msg *m = broker__msg_new(s->topic, strlen(s->topic), s->val, strlen(s->val), NULL, 0, 0, true);
    m->sys = true;
    broker__retain_set(b, m);
    broker__route(b, m);
    ek_broker_msg_unref(m);
    ek_free(s);
}

/* Publishes a figure (sv NULL) or a word. */
static void post_sys(broker__bridge *br, const char *what, unsigned long long v, const char *sv)
{
    if (!br->b->cfg.sys_interval) return;
    sys_item *s = ek_malloc(sizeof *s);
    snprintf(s->topic, sizeof s->topic, "$SYS/brokers/kuiperd/bridges/%s/%s", br->cfg->name, what);
    if (sv) snprintf(s->val, sizeof s->val, "%s", sv);
    else snprintf(s->val, sizeof s->val, "%llu", v);
    broker__post(br->b, do_sys, s);
}

/* mu held. */
static void post_stats(broker__bridge *br)
{
    post_sys(br, "queued", br->qlen, NULL);
    post_sys(br, "dropped", br->dropped, NULL);
    post_sys(br, "forwarded", br->forwarded, NULL);
    post_sys(br, "received", br->received, NULL);
}

/* ---- local to remote ---- */

/* The in-process subscription of a forward rule (reactor thread; must not block long). */
static void on_local(void *arg, ek_broker_msg *m)
{
    fwd_sub *fs = arg;
    broker__bridge *br = fs->br;
    if (m->origin == br->uid || m->sys) return; /* it came from this bridge's remote */
    size_t pl = strlen(fs->rule->prefix);
    if (pl + m->topic_len > 65535) return;
    qitem it = {.m = ek_broker_msg_ref(m), .qos = m->qos < fs->rule->qos ? m->qos : (uint8_t)fs->rule->qos,
                .retain = m->retain};
    it.topic = ek_asprintf("%s%s", fs->rule->prefix, m->topic);
    pthread_mutex_lock(&br->mu);
    queue_put(br, it, false);
    pthread_mutex_unlock(&br->mu);
}

typedef struct send_ctx {
    struct broker__bridge *br;
    qitem it;
} send_ctx;

/* A send ended (Paho's callback, or refused at once): counted, or back to the head of the queue. */
static void sent_done(send_ctx *s, bool ok)
{
    broker__bridge *br = s->br;
    pthread_mutex_lock(&br->mu);
    br->inflight--;
    if (ok) {
        br->forwarded++;
        item_free(&s->it);
    } else {
        queue_put(br, s->it, true);
    }
    pthread_cond_signal(&br->cv);
    pthread_mutex_unlock(&br->mu);
    ek_free(s);
}

static void on_sent3(void *ctx, MQTTAsync_successData *d) { sent_done(ctx, true); }
static void on_sent5(void *ctx, MQTTAsync_successData5 *d) { sent_done(ctx, true); }
static void on_unsent3(void *ctx, MQTTAsync_failureData *d) { sent_done(ctx, false); }
static void on_unsent5(void *ctx, MQTTAsync_failureData5 *d)
{
    /* A reason code from the remote (not authorized, ...) is final: retrying would not help. */
    sent_done(ctx, d && d->reasonCode >= 0x80);
}

/* Sends the head of the queue. mu held on entry and exit (released around Paho). */
static void send_one(broker__bridge *br)
{
    send_ctx *s = ek_malloc(sizeof *s);
    s->br = br;
    s->it = br->q[br->qhead];
    br->qhead = (br->qhead + 1) % br->cfg->max_queued;
    br->qlen--;
    br->inflight++;
    pthread_mutex_unlock(&br->mu);
    size_t len;
    const void *payload = ek_broker_msg_payload(s->it.m, &len);
    MQTTAsync_message msg = MQTTAsync_message_initializer;
    msg.payload = (void *)(uintptr_t)payload;
    msg.payloadlen = (int)len;
    msg.qos = s->it.qos;
    msg.retained = s->it.retain;
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    ro.context = s;
    if (br->cfg->version == 5) ro.onSuccess5 = on_sent5, ro.onFailure5 = on_unsent5;
    else ro.onSuccess = on_sent3, ro.onFailure = on_unsent3;
    int rc = MQTTAsync_sendMessage(br->client, s->it.topic, &msg, &ro);
    if (rc != MQTTASYNC_SUCCESS) sent_done(s, false); /* no callback will come */
    pthread_mutex_lock(&br->mu);
}

/* ---- remote to local ---- */

static void do_inbound(ek_broker *b, void *arg)
{
    broker__msg *m = arg;
    atomic_fetch_sub(&b->pending_pub, 1);
    b->st.msgs_rx++;
    if (m->retain) broker__retain_set(b, m);
    broker__route(b, m);
    ek_broker_msg_unref(m);
}

static int on_remote(void *ctx, char *topic, int tlen, MQTTAsync_message *pm)
{
    broker__bridge *br = ctx;
    size_t tl = tlen > 0 ? (size_t)tlen : strlen(topic);
    char *t = ek_malloc(tl + 1);
    memcpy(t, topic, tl);
    t[tl] = '\0';
    const bridge_in *rule = NULL;
    for (size_t i = 0; i < br->cfg->nin && !rule; i++) {
        char *group = NULL;
        const char *f = broker__share_split(br->cfg->in[i].remote, &group);
        ek_free(group);
        if (broker__filter_match(f, t)) rule = &br->cfg->in[i];
    }
    char *local = rule ? ek_asprintf("%s%s", rule->prefix, t) : NULL;
    size_t ll = local ? strlen(local) : 0;
    if (local && ll <= 65535 && broker__topic_valid((const uint8_t *)local, ll) &&
        atomic_fetch_add(&br->b->pending_pub, 1) < 65536) {
        uint8_t qos = (uint8_t)(pm->qos < rule->qos ? pm->qos : rule->qos);
        broker__msg *m = broker__msg_new(local, ll, pm->payload, (size_t)pm->payloadlen, NULL, 0, qos, pm->retained);
        m->origin = br->uid;
        pthread_mutex_lock(&br->mu);
        br->received++;
        pthread_mutex_unlock(&br->mu);
        broker__post(br->b, do_inbound, m);
    } else if (local && ll <= 65535 && broker__topic_valid((const uint8_t *)local, ll)) {
        atomic_fetch_sub(&br->b->pending_pub, 1);
    }
    ek_free(local);
    ek_free(t);
    MQTTAsync_freeMessage(&pm);
    MQTTAsync_free(topic);
    return 1;
}

static void subscribe_all(broker__bridge *br)
{
    for (size_t i = 0; i < br->cfg->nin; i++) {
        MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
        if (br->cfg->version == 5) {
            ro.subscribeOptions.noLocal = 1;          /* what we forward never comes back */
            ro.subscribeOptions.retainAsPublished = 1;
        }
        int rc = MQTTAsync_subscribe(br->client, br->cfg->in[i].remote, br->cfg->in[i].qos, &ro);
        if (rc != MQTTASYNC_SUCCESS)
            ek_warn("broker: bridge %s: cannot subscribe to %s: %s", br->cfg->name, br->cfg->in[i].remote,
                    MQTTAsync_strerror(rc));
    }
}

/* ---- connection ---- */

static void went_up(broker__bridge *br)
{
    pthread_mutex_lock(&br->mu);
    br->connected = true;
    br->connecting = false;
    br->need_sub = true;
    br->backoff_ms = BACKOFF_MIN_MS;
    pthread_cond_signal(&br->cv);
    pthread_mutex_unlock(&br->mu);
    ek_info("broker: bridge %s connected to %s", br->cfg->name, br->cfg->server);
    post_sys(br, "status", 0, "connected");
}

static void went_down(broker__bridge *br, bool was_up, const char *why)
{
    pthread_mutex_lock(&br->mu);
    br->connected = false;
    br->connecting = false;
    int64_t retry = was_up ? 0 : br->backoff_ms;
    bool first_failure = !was_up && br->backoff_ms == BACKOFF_MIN_MS;
    br->next_try_ms = ek_mono_ms() + retry;
    if (!was_up) {
        br->backoff_ms *= 2;
        if (br->backoff_ms > (int64_t)br->cfg->reconnect_max * 1000) br->backoff_ms = (int64_t)br->cfg->reconnect_max * 1000;
    }
    pthread_cond_signal(&br->cv);
    pthread_mutex_unlock(&br->mu);
    if (!was_up) /* the first failure in a row at warn, the retries after it at debug */
        ek_log(first_failure ? EK_LOG_WARN : EK_LOG_DEBUG, "broker: bridge %s cannot connect to %s: %s; retrying in %lld s",
               br->cfg->name, br->cfg->server, why ? why : "connection refused", (long long)(retry / 1000));
    if (was_up) {
        ek_warn("broker: bridge %s lost %s%s%s", br->cfg->name, br->cfg->server, why ? ": " : "", why ? why : "");
        post_sys(br, "status", 0, "disconnected");
    }
}

static void on_conn3(void *ctx, MQTTAsync_successData *d) { went_up(ctx); }
static void on_conn5(void *ctx, MQTTAsync_successData5 *d) { went_up(ctx); }
static void on_connfail3(void *ctx, MQTTAsync_failureData *d) { went_down(ctx, false, d ? d->message : NULL); }
static void on_connfail5(void *ctx, MQTTAsync_failureData5 *d) { went_down(ctx, false, d ? d->message : NULL); }
static void on_lost(void *ctx, char *cause) { went_down(ctx, true, cause); }

static int start_connect(broker__bridge *br)
{
    const broker__bridge_cfg *bc = br->cfg;
    ek_paho_dial d = {.server = bc->server,
                      .version = bc->version,
                      .keepalive = bc->keepalive,
                      .username = bc->username,
                      .password = bc->password,
                      .cafile = bc->cafile,
                      .certfile = bc->certfile,
                      .keyfile = bc->keyfile,
                      .insecure = bc->insecure,
                      .context = br,
                      .on_success3 = on_conn3,
                      .on_failure3 = on_connfail3,
                      .on_success5 = on_conn5,
                      .on_failure5 = on_connfail5};
    return ek_paho_connect(br->client, &d);
}

static void *bridge_main(void *arg)
{
    broker__bridge *br = arg;
    pthread_mutex_lock(&br->mu);
    while (!br->stop) {
        int64_t now = ek_mono_ms();
        if (!br->connected && !br->connecting && now >= br->next_try_ms) {
            br->connecting = true;
            pthread_mutex_unlock(&br->mu);
            int rc = start_connect(br);
            pthread_mutex_lock(&br->mu);
            if (rc != MQTTASYNC_SUCCESS) {
                pthread_mutex_unlock(&br->mu);
                went_down(br, false, MQTTAsync_strerror(rc));
                pthread_mutex_lock(&br->mu);
            }
            continue;
        }
        if (br->connected && br->need_sub) {
            br->need_sub = false;
            pthread_mutex_unlock(&br->mu);
            subscribe_all(br);
            pthread_mutex_lock(&br->mu);
            continue;
        }
        if (br->connected && br->qlen && br->inflight < WINDOW) {
            send_one(br);
            continue;
        }
        if (now >= br->next_stats_ms) {
            post_stats(br);
            br->next_stats_ms = now + (int64_t)(br->b->cfg.sys_interval ? br->b->cfg.sys_interval : 10) * 1000;
        }
        int64_t wait = 1000;
        if (!br->connected && !br->connecting && br->next_try_ms - now < wait) wait = br->next_try_ms - now;
        if (wait < 1) wait = 1;
        struct timespec ts = ek_deadline_in(CLOCK_REALTIME, wait);
        pthread_cond_timedwait(&br->cv, &br->mu, &ts);
    }
    pthread_mutex_unlock(&br->mu);
    return NULL;
}


static void bridge_free(broker__bridge *br);

static broker__bridge *bridge_new(ek_broker *b, const broker__bridge_cfg *bc)
{
    broker__bridge *br = ek_calloc(1, sizeof *br);
    br->b = b;
    br->cfg = bc;
    br->uid = ++b->next_uid;
    br->q = ek_calloc(bc->max_queued, sizeof *br->q);
    br->backoff_ms = BACKOFF_MIN_MS;
    pthread_mutex_init(&br->mu, NULL);
    pthread_cond_init(&br->cv, NULL);
    int rc = ek_paho_create(&br->client, bc->server, bc->clientid, bc->version);
    if (rc != MQTTASYNC_SUCCESS) {
        ek_warn("broker: bridge %s: cannot use server %s: %s", bc->name, bc->server, MQTTAsync_strerror(rc));
        br->client = NULL;
        bridge_free(br);
        return NULL;
    }
    MQTTAsync_setCallbacks(br->client, br, on_lost, on_remote, NULL);
    br->subs = ek_calloc(bc->nfwd ? bc->nfwd : 1, sizeof *br->subs);
    for (size_t i = 0; i < bc->nfwd; i++) {
        br->subs[i] = (fwd_sub){br, &bc->fwd[i], 0};
        br->subs[i].id = ek_broker_subscribe(b, bc->fwd[i].local, bc->fwd[i].qos, on_local, &br->subs[i], NULL);
    }
    post_sys(br, "status", 0, "disconnected");
    br->thread_started = pthread_create(&br->thread, NULL, bridge_main, br) == 0;
    return br;
}

static void bridge_free(broker__bridge *br)
{
    for (size_t i = 0; br->subs && i < br->cfg->nfwd; i++) ek_broker_unsubscribe(br->b, br->subs[i].id);
    if (br->thread_started) {
        pthread_mutex_lock(&br->mu);
        br->stop = true;
        pthread_cond_broadcast(&br->cv);
        pthread_mutex_unlock(&br->mu);
        pthread_join(br->thread, NULL);
    }
    if (br->client) {
        MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
        d.timeout = 200;
        if (MQTTAsync_isConnected(br->client) && MQTTAsync_disconnect(br->client, &d) == MQTTASYNC_SUCCESS)
            for (int i = 0; i < 50 && MQTTAsync_isConnected(br->client); i++) {
                struct timespec ts = {0, 10 * 1000000};
                nanosleep(&ts, NULL);
            }
        MQTTAsync_destroy(&br->client); /* pending sends fail back into the queue first */
    }
    while (br->qlen) {
        item_free(&br->q[br->qhead]);
        br->qhead = (br->qhead + 1) % br->cfg->max_queued;
        br->qlen--;
    }
    ek_free(br->q);
    ek_free(br->subs);
    pthread_mutex_destroy(&br->mu);
    pthread_cond_destroy(&br->cv);
    ek_free(br);
}

void broker__bridges_start(ek_broker *b)
{
    if (!b->cfg.nbridges) return;
    b->bridges = ek_calloc(b->cfg.nbridges, sizeof *b->bridges);
    for (size_t i = 0; i < b->cfg.nbridges; i++) b->bridges[i] = bridge_new(b, &b->cfg.bridges[i]);
}

void broker__bridges_stop(ek_broker *b)
{
    for (size_t i = 0; b->bridges && i < b->cfg.nbridges; i++)
        if (b->bridges[i]) bridge_free(b->bridges[i]);
    ek_free(b->bridges);
    b->bridges = NULL;
}
