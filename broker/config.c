/* The broker's configuration: the `broker:` section of etc/kuiper.yaml as an ek_value tree,
 * read through one table of keys (name, kind, bounds, field) instead of a chain of strcmp.
 *
 * Unknown keys are ignored (so newer configs load on older binaries) but a known key with a
 * wrong type or an out-of-range value fails the start with an error naming the key. Listeners
 * come either from `listeners:` (a list of {bind, port, enable, tls, websocket, path}) or from
 * top-level `bind`/`port` (plain MQTT over TCP).
 * Every key and its default is documented in docs/broker.md and in the broker: section of etc/kuiper.yaml. */
#include "broker/broker_int.h"
#include "engine/mem.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

enum { K_BOOL, K_U8, K_U16, K_U32 };

static const struct {
    const char *name;
    int kind;
    uint32_t min, max;
    size_t off;
} keys[] = {
    {"enable", K_BOOL, 0, 1, offsetof(broker__cfg, enable)},
    {"maxPacketSize", K_U32, 16, 268435455, offsetof(broker__cfg, max_packet)},
    {"maxInflight", K_U16, 1, 65535, offsetof(broker__cfg, max_inflight)},
    {"maxQueuedMessages", K_U32, 1, 10000000, offsetof(broker__cfg, max_queued)},
    {"maxOutBytes", K_U32, 4096, 1u << 30, offsetof(broker__cfg, max_out_bytes)},
    {"queueQos0", K_BOOL, 0, 1, offsetof(broker__cfg, queue_qos0)},
    {"sysInterval", K_U32, 0, 86400, offsetof(broker__cfg, sys_interval)},
    {"retainAvailable", K_BOOL, 0, 1, offsetof(broker__cfg, retain_available)},
    {"maxRetained", K_U32, 0, UINT32_MAX, offsetof(broker__cfg, max_retained)},
    {"maxQos", K_U8, 0, 2, offsetof(broker__cfg, max_qos)},
    {"sessionExpiryMax", K_U32, 0, UINT32_MAX, offsetof(broker__cfg, session_expiry_max)},
    {"v3SessionExpiry", K_U32, 0, UINT32_MAX, offsetof(broker__cfg, v3_session_expiry)},
    {"maxKeepalive", K_U16, 0, 65535, offsetof(broker__cfg, max_keepalive)},
    {"topicAliasMax", K_U16, 0, 65535, offsetof(broker__cfg, topic_alias_max)},
    {"topicAliasOut", K_U16, 0, 65535, offsetof(broker__cfg, topic_alias_out)},
    {"connectTimeout", K_U32, 1, 3600, offsetof(broker__cfg, connect_timeout)},
    {"maxClients", K_U32, 0, UINT32_MAX, offsetof(broker__cfg, max_clients)},
    {"persist", K_BOOL, 0, 1, offsetof(broker__cfg, persist)},
    {"persistInterval", K_U32, 1, 3600, offsetof(broker__cfg, persist_interval)},
    {"allowAnonymous", K_BOOL, 0, 1, offsetof(broker__cfg, allow_anonymous)},
    {"enhancedAuth", K_BOOL, 0, 1, offsetof(broker__cfg, enhanced_auth)},
    {"exclusiveSubscription", K_BOOL, 0, 1, offsetof(broker__cfg, exclusive_sub)},
    {"delayedPublish", K_BOOL, 0, 1, offsetof(broker__cfg, delayed_enable)},
    {"maxDelayedMessages", K_U32, 0, UINT32_MAX, offsetof(broker__cfg, max_delayed)},
    {"maxConnRate", K_U32, 0, UINT32_MAX, offsetof(broker__cfg, max_conn_rate)},
    {"maxMessageRate", K_U32, 0, UINT32_MAX, offsetof(broker__cfg, max_msg_rate)},
    {"maxTopicLevels", K_U32, 0, 65535, offsetof(broker__cfg, max_topic_levels)},
    {"maxTopicLength", K_U32, 0, 65535, offsetof(broker__cfg, max_topic_length)},
    {"passwordIterations", K_U32, 1000, 10000000, offsetof(broker__cfg, pw_iterations)},
};

static void defaults(broker__cfg *c)
{
    memset(c, 0, sizeof *c);
    c->enable = true;
    c->nlisteners = 1;
    snprintf(c->listeners[0].bind, sizeof c->listeners[0].bind, "0.0.0.0");
    c->listeners[0].port = 1883;
    c->max_packet = 1024 * 1024;
    c->max_inflight = 32;
    c->max_queued = 1000;
    c->max_out_bytes = 1024 * 1024;
    c->queue_qos0 = true;
    c->sys_interval = 10;
    c->retain_available = true;
    c->max_qos = 2;
    c->session_expiry_max = 7 * 24 * 3600;
    c->v3_session_expiry = 0;
    c->max_keepalive = 0;
    c->topic_alias_max = 10;
    c->topic_alias_out = 10;
    c->connect_timeout = 10;
    c->persist = true;
    c->persist_interval = 1;
    c->allow_anonymous = true;
    c->shared_strategy = BROKER_SHARE_ROUND_ROBIN;
    c->delayed_enable = true;
    c->max_topic_levels = 128; /* EMQX's default */
    c->pw_iterations = EK_PASSWD_ITERATIONS;
}

static int set_key(broker__cfg *c, size_t k, const ek_value *v, ek_err *err)
{
    char *field = (char *)c + keys[k].off;
    if (keys[k].kind == K_BOOL) {
        if (v->type != EK_T_BOOL) return ek_err_set(err, EK_ECONF, "broker.%s: expected true or false", keys[k].name);
        *(bool *)field = v->b;
        return 0;
    }
    double d;
    if (!ek_value_as_double(v, &d) || d != (double)(int64_t)d || d < keys[k].min || d > keys[k].max)
        return ek_err_set(err, EK_ECONF, "broker.%s: expected an integer from %u to %u", keys[k].name,
                          keys[k].min, keys[k].max);
    if (keys[k].kind == K_U8) *(uint8_t *)field = (uint8_t)d;
    else if (keys[k].kind == K_U16) *(uint16_t *)field = (uint16_t)d;
    else *(uint32_t *)field = (uint32_t)d;
    return 0;
}

static int str_key(const ek_value *obj, const char *key, char **out, const char *where, ek_err *err)
{
    const ek_value *v = ek_object_get_ci(obj, key);
    if (!v || ek_is_null(v)) return 0;
    if (v->type != EK_T_STRING || !ek_str_len(v))
        return ek_err_set(err, EK_ECONF, "%s.%s: expected a file name", where, key);
    *out = ek_strdup(ek_str_ptr(v));
    return 0;
}

static int bool_key(const ek_value *obj, const char *key, bool *out, const char *where, ek_err *err)
{
    const ek_value *v = ek_object_get_ci(obj, key);
    if (!v || ek_is_null(v)) return 0;
    if (v->type != EK_T_BOOL) return ek_err_set(err, EK_ECONF, "%s.%s: expected true or false", where, key);
    *out = v->b;
    return 0;
}

/* Reads a listener's tls: {certfile, keyfile, cafile, verifyPeer, failIfNoPeerCert, minVersion}. */
static int tls_cfg(const ek_value *o, broker__tls_cfg *t, const char *where, ek_err *err)
{
    char w[64];
    snprintf(w, sizeof w, "%s.tls", where);
    if (o->type != EK_T_OBJECT) return ek_err_set(err, EK_ECONF, "%s: expected a mapping", w);
    t->min_version = 12;
    int rc = str_key(o, "certfile", &t->certfile, w, err);
    if (!rc) rc = str_key(o, "keyfile", &t->keyfile, w, err);
    if (!rc) rc = str_key(o, "cafile", &t->cafile, w, err);
    if (!rc) rc = bool_key(o, "verifyPeer", &t->verify_peer, w, err);
    if (!rc) rc = bool_key(o, "failIfNoPeerCert", &t->fail_if_no_cert, w, err);
    if (rc) return rc;
    if (!t->certfile || !t->keyfile) return ek_err_set(err, EK_ECONF, "%s: certfile and keyfile are required", w);
    if (t->fail_if_no_cert) t->verify_peer = true;
    if (t->verify_peer && !t->cafile)
        return ek_err_set(err, EK_ECONF, "%s: verifyPeer needs cafile, the CA that signs client certificates", w);
    const ek_value *v = ek_object_get_ci(o, "minVersion");
    if (v && !ek_is_null(v)) {
        char s[16] = "";
        if (v->type == EK_T_STRING) snprintf(s, sizeof s, "%s", ek_str_ptr(v));
        else if (ek_is_number(v)) { double d; ek_value_as_double(v, &d); snprintf(s, sizeof s, "%g", d); }
        if (strcmp(s, "1.2") == 0) t->min_version = 12;
        else if (strcmp(s, "1.3") == 0) t->min_version = 13;
        else return ek_err_set(err, EK_ECONF, "%s.minVersion: expected \"1.2\" or \"1.3\"", w);
    }
    return 0;
}

/* The WebSocket keys of a listener: websocket, path, maxFrameSize. */
static int ws_cfg(const ek_value *obj, broker__listener_cfg *l, const char *where, ek_err *err)
{
    int rc = bool_key(obj, "websocket", &l->websocket, where, err);
    if (rc || !l->websocket) return rc;
    snprintf(l->path, sizeof l->path, "/mqtt");
    const ek_value *v = ek_object_get_ci(obj, "path");
    if (v && !ek_is_null(v)) {
        if (v->type != EK_T_STRING || ek_str_ptr(v)[0] != '/' || ek_str_len(v) >= sizeof l->path)
            return ek_err_set(err, EK_ECONF, "%s.path: expected a path starting with /", where);
        snprintf(l->path, sizeof l->path, "%s", ek_str_ptr(v));
    }
    if ((v = ek_object_get_ci(obj, "maxFrameSize")) && !ek_is_null(v)) {
        double d;
        if (!ek_value_as_double(v, &d) || d != (double)(int64_t)d || d < 16 || d > 268435455)
            return ek_err_set(err, EK_ECONF, "%s.maxFrameSize: expected an integer from 16 to 268435455", where);
        l->max_frame = (uint32_t)d;
    }
    return 0;
}

/* Reads bind/port/enable (and, in a listeners: entry, tls and websocket) from obj into l; returns
 * 1 if enabled, 0 if disabled, or an error. The default port follows the transport: 1883, 8883
 * with TLS, 8083 with WebSocket, 8084 with both. */
static int listener(const ek_value *obj, broker__listener_cfg *l, const char *where, bool transports, ek_err *err)
{
    const ek_value *v;
    if ((v = ek_object_get_ci(obj, "enable")) && v->type == EK_T_BOOL && !v->b) return 0;
    if ((v = ek_object_get_ci(obj, "bind"))) {
        if (v->type != EK_T_STRING || ek_str_len(v) >= sizeof l->bind)
            return ek_err_set(err, EK_ECONF, "%s.bind: expected an IPv4 address", where);
        snprintf(l->bind, sizeof l->bind, "%s", ek_str_ptr(v));
    }
    if (transports) {
        int rc = ws_cfg(obj, l, where, err);
        if (rc) return rc;
        if ((v = ek_object_get_ci(obj, "tls")) && !ek_is_null(v)) {
            l->tls = true;
            if ((rc = tls_cfg(v, &l->tlsc, where, err))) return rc;
        }
        l->port = l->tls ? (l->websocket ? 8084 : 8883) : (l->websocket ? 8083 : 1883);
    }
    if ((v = ek_object_get_ci(obj, "port"))) {
        double d;
        if (!ek_value_as_double(v, &d) || d < 0 || d > 65535 || d != (double)(int)d)
            return ek_err_set(err, EK_ECONF, "%s.port: expected a port number from 0 to 65535", where);
        l->port = (int)d;
    }
    return 1;
}

void broker__listeners_free(broker__cfg *c)
{
    for (int i = 0; i < c->nlisteners; i++) {
        broker__tls_cfg *t = &c->listeners[i].tlsc;
        ek_free(t->certfile);
        ek_free(t->keyfile);
        ek_free(t->cafile);
        *t = (broker__tls_cfg){0};
    }
}

int broker__cfg_load(broker__cfg *c, const ek_value *sec, ek_err *err)
{
    defaults(c);
    if (!sec || sec->type == EK_T_NULL) return 0;
    if (sec->type != EK_T_OBJECT) return ek_err_set(err, EK_ECONF, "broker: expected a mapping");
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        const ek_value *v = ek_object_get_ci(sec, keys[k].name);
        if (v && !ek_is_null(v)) {
            int rc = set_key(c, k, v, err);
            if (rc) return rc;
        }
    }
    int arc = broker__acl_load(c, sec, err);
    if (!arc) arc = broker__users_load(c, ek_object_get_ci(sec, "users"), err);
    if (!arc) arc = broker__shared_cfg_load(c, ek_object_get_ci(sec, "sharedSubscriptionStrategy"), err);
    if (!arc) arc = broker__autosub_load(c, ek_object_get_ci(sec, "autoSubscribe"), err);
    if (!arc) arc = broker__rewrite_load(c, ek_object_get_ci(sec, "rewrite"), err);
    if (!arc) arc = broker__jwt_load(c, ek_object_get_ci(sec, "jwt"), err);
    if (!arc) arc = broker__bridges_load(c, ek_object_get_ci(sec, "bridges"), err);
    if (arc) return arc;
    const ek_value *ls = ek_object_get_ci(sec, "listeners");
    if (ls && ls->type == EK_T_ARRAY) {
        c->nlisteners = 0;
        if (ek_array_len(ls) > BROKER_MAX_LISTENERS)
            return ek_err_set(err, EK_ECONF, "broker.listeners: at most %d listeners", BROKER_MAX_LISTENERS);
        for (size_t i = 0; i < ek_array_len(ls); i++) {
            const ek_value *o = ek_array_get(ls, i);
            if (o->type != EK_T_OBJECT) return ek_err_set(err, EK_ECONF, "broker.listeners[%zu]: expected a mapping", i);
            broker__listener_cfg *l = &c->listeners[c->nlisteners++]; /* counted now so cfg_free frees it */
            *l = (broker__listener_cfg){.bind = "0.0.0.0", .port = 1883};
            char where[48];
            snprintf(where, sizeof where, "broker.listeners[%zu]", i);
            int rc = listener(o, l, where, true, err);
            if (rc < 0) return rc;
            if (rc == 0) c->nlisteners--; /* disabled: nothing was read */
        }
    } else {
        int rc = listener(sec, &c->listeners[0], "broker", false, err);
        if (rc < 0) return rc;
    }
    return 0;
}
