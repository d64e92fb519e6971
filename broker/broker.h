/* The bundled MQTT broker: the one header the rest of kuiperd uses.
 *
 * The broker runs its own epoll reactor thread. Other threads (the engine's MQTT source and sink,
 * the REST API) never touch its structures: they call the functions below, which post to the
 * reactor through an eventfd. In-process subscribers receive messages by callback without TCP and
 * without copying the payload per subscriber (the message is reference-counted).
 *
 * Configuration comes from the `broker:` section of etc/kuiper.yaml (see docs/broker.md), passed
 * in as an ek_value object tree by kuiperd (engine/config.h). */
#ifndef EK_BROKER_H
#define EK_BROKER_H

#include "broker/authdb.h"
#include "engine/ack.h"
#include "engine/err.h"
#include "engine/value.h"

#include <stddef.h>
#include <stdint.h>

typedef struct ek_broker ek_broker;

/* Starts the broker with the `broker:` section (an object, or null for defaults) and the data
 * directory for persistence (retained messages, persistent sessions). On failure (port in use,
 * bad setting) returns a negative EK_E* with err naming the port or key. */
int ek_broker_start(const ek_value *section, const char *data_dir, ek_broker **out, ek_err *err);
/* Stops accepting, disconnects clients, flushes what must be kept, joins the reactor thread and
 * frees the broker. Accepts NULL. */
void ek_broker_stop(ek_broker *b);
/* The TCP port actually bound by the first MQTT listener (useful with port 0). */
int ek_broker_port(const ek_broker *b);

/* A message delivered to an in-process subscriber. Borrowed for the duration of the callback;
 * call ek_broker_msg_ref to keep it. */
typedef struct ek_broker_msg ek_broker_msg;
const char *ek_broker_msg_topic(const ek_broker_msg *m);
const void *ek_broker_msg_payload(const ek_broker_msg *m, size_t *len);
int ek_broker_msg_qos(const ek_broker_msg *m);
bool ek_broker_msg_retained(const ek_broker_msg *m);
ek_broker_msg *ek_broker_msg_ref(ek_broker_msg *m);
void ek_broker_msg_unref(ek_broker_msg *m);

/* Called on the reactor thread: must not block. */
typedef void (*ek_broker_deliver_fn)(void *arg, ek_broker_msg *m);

/* Subscribes an in-process client to filter (MQTT wildcards allowed, $share/ too). Returns an id
 * > 0 for ek_broker_unsubscribe, or a negative EK_E* for a bad filter. Thread-safe; once it returns
 * (with the broker running) the subscription receives every message published afterwards.
 * qos | EK_BROKER_HOLD: the subscriber may hold messages (ek_broker_msg_hold). */
long ek_broker_subscribe(ek_broker *b, const char *filter, int qos, ek_broker_deliver_fn fn, void *arg,
                         ek_err *err);
enum { EK_BROKER_HOLD = 0x100 };
/* In a delivery callback of an EK_BROKER_HOLD subscription: delays the acknowledgement of a
 * client's QoS 1 or 2 PUBLISH (PUBACK, PUBREC) until every reference returned here is dropped with
 * ek_ack_unref, from any thread, once the message is safe; the publisher resends what was never
 * acknowledged (after a crash, say). Acknowledgements stay in the order of the PUBLISHes. NULL
 * when nothing waits (QoS 0, an in-process publish, a retained message replayed). */
ek_ack *ek_broker_msg_hold(ek_broker_msg *m);
/* Removes an in-process subscription; after it returns the callback is never called again. */
void ek_broker_unsubscribe(ek_broker *b, long id);
/* Publishes as an in-process client (copies topic and payload once). Thread-safe. */
int ek_broker_publish(ek_broker *b, const char *topic, const void *payload, size_t len, int qos, bool retain,
                      ek_err *err);

/* MQTT 5 enhanced authentication (CONNECT -> AUTH 0x18 ... -> CONNACK, and re-authentication
 * with AUTH 0x19): a method the broker offers, called on the reactor thread, so it must not block.
 * begin starts an exchange for the CONNECT (or re-authentication) of client_id with user (NULL
 * without a user name) and the client's Authentication Data; step takes each later AUTH's data.
 * Both return EK_BROKER_AUTH_SUCCESS, EK_BROKER_AUTH_CONTINUE with *out (allocated with ek_malloc,
 * the broker frees it) sent to the client as Authentication Data, or an MQTT reason code >= 0x80
 * (0x87 Not authorized...) that refuses the client. *state is the method's, kept by the broker
 * between calls and released with end (with NULL never called). */
enum { EK_BROKER_AUTH_SUCCESS = 0, EK_BROKER_AUTH_CONTINUE = 0x18 };
typedef struct ek_broker_auth_ops {
    const char *method; /* the Authentication Method name, compared exactly */
    int (*begin)(void *arg, const char *client_id, const char *user, const uint8_t *data, size_t len, void **state,
                 uint8_t **out, size_t *out_len);
    int (*step)(void *arg, void *state, const uint8_t *data, size_t len, uint8_t **out, size_t *out_len);
    void (*end)(void *arg, void *state);
} ek_broker_auth_ops;
/* Offers ops (borrowed, with arg, until the broker stops or another call replaces it; NULL
 * removes it) to clients naming ops->method; any other method still gets CONNACK 0x8C. Replaces
 * the built-in KUIPER-HMAC-SHA256 method of `enhancedAuth: true`. Thread-safe (posted to the
 * reactor: clients connecting meanwhile see the previous hook). */
void ek_broker_set_auth_hook(ek_broker *b, const ek_broker_auth_ops *ops, void *arg);

/* The broker's figures, the same ones $SYS publishes (sys.c). */
typedef struct ek_broker_stats {
    uint64_t clients_connected;   /* connections past CONNACK */
    uint64_t clients_total;       /* sessions known, connected or not ($SYS clients/total) */
    uint64_t connects_total;      /* CONNECTs accepted since start */
    uint64_t msgs_received, msgs_sent, msgs_dropped;
    uint64_t bytes_received, bytes_sent;
    uint64_t subscriptions;       /* client and in-process subscriptions */
    uint64_t retained;            /* retained messages, $SYS's own not counted */
    uint64_t uptime_s;
    /* Overload protection (docs/broker.md): refusals, disconnections and drops, by limit. */
    uint64_t refused_max_clients;    /* connections closed at accept: maxClients reached */
    uint64_t refused_conn_rate;      /* connections closed at accept: maxConnRate exceeded */
    uint64_t disconnected_msg_rate;  /* clients disconnected for maxMessageRate (0x96) */
    uint64_t disconnected_inflight;  /* clients disconnected for exceeding maxInflight (0x93) */
    uint64_t dropped_queue_full;     /* messages dropped from a full session queue */
    uint64_t refused_topic_levels;   /* publishes and subscriptions over maxTopicLevels */
    uint64_t refused_topic_length;   /* publishes and subscriptions over maxTopicLength */
    uint64_t kicked;                 /* clients disconnected through the management API */
} ek_broker_stats;

/* Fills out with a consistent snapshot of the figures, taken on the reactor thread (the call posts
 * and waits up to EK_BROKER_CALL_TIMEOUT_MS; from a delivery callback it runs directly instead).
 * Thread-safe. Returns 0, EK_ESTATE when b is NULL, or EK_ENOMEM when the broker did not answer. */
int ek_broker_stats_get(ek_broker *b, ek_broker_stats *out);
/* The figures as one JSON-ready object: "node", "version", then every $SYS figure under its
 * topic suffix with '/' turned into '.' ("clients.connected", "overload.message_rate"...).
 * Sets *out (the caller unrefs it). */
void ek_broker_stats_object(const ek_broker_stats *st, ek_value *out);

/* ---- management (admin.c): what GET/DELETE /broker/... of the REST API show and do ----
 * Each call runs on the reactor thread and waits up to EK_BROKER_CALL_TIMEOUT_MS for it, so it
 * is thread-safe and never reads broker state from the caller's thread; a broker too busy to
 * answer in time gives EK_ENOMEM. The rows are objects, documented in docs/rest.md. */
#define EK_BROKER_CALL_TIMEOUT_MS 5000

/* Which rows a listing returns: those matching every filter that is set (exact comparison),
 * from the offset-th match on, at most limit of them (0: all). total gets the number of matches. */
typedef struct ek_broker_query {
    const char *clientid, *username, *topic;
    size_t offset, limit;
    size_t total;  /* out */
} ek_broker_query;

/* Sessions, connected or not: clientid, username (of its last connection), ip_address, port, proto_ver, keepalive,
 * connected, connected_at, expiry_interval, subscriptions_cnt, inflight_cnt, inflight_max,
 * mqueue_len, mqueue_max, mqueue_dropped, recv_msg, send_msg, recv_oct, send_oct. Sets *rows
 * to an array (filters: clientid, username). */
int ek_broker_clients(ek_broker *b, ek_broker_query *q, ek_value *rows, ek_err *err);
/* One session as an object; EK_ENOTFOUND when there is none with that client id. */
int ek_broker_client_get(ek_broker *b, const char *clientid, ek_value *out, ek_err *err);
/* Kicks a client out as EMQX does: an MQTT 5 client gets DISCONNECT 0x98 (administrative
 * action), its will is published now, and its session is discarded (an offline session too).
 * EK_ENOTFOUND when there is no session with that client id. */
int ek_broker_client_kick(ek_broker *b, const char *clientid, ek_err *err);
/* Client subscriptions: clientid, topic (as subscribed, $share/... included), qos, nl, rap, rh,
 * and subid and share_group when set (filters: clientid, topic). */
int ek_broker_subscriptions(ek_broker *b, ek_broker_query *q, ek_value *rows, ek_err *err);
/* Topic filters with subscribers (the routes): topic, subscribers (MQTT clients), internal
 * (in-process subscribers: rules, the dashboard) (filter: topic). */
int ek_broker_topics(ek_broker *b, ek_broker_query *q, ek_value *rows, ek_err *err);
/* Retained messages, $SYS's own not included: topic, qos, size, payload (the first 64 bytes),
 * payload_encoding ("text", or "base64" when it is not UTF-8), truncated, publish_at, and
 * expiry_interval (seconds left) when it expires (filter: topic). */
int ek_broker_retained(ek_broker *b, ek_broker_query *q, ek_value *rows, ek_err *err);
/* The retained message of topic with its whole payload; EK_ENOTFOUND when there is none. */
int ek_broker_retained_get(ek_broker *b, const char *topic, ek_value *out, ek_err *err);
/* Deletes the retained message of topic, as an empty retained PUBLISH would; EK_ENOTFOUND when
 * there is none. */
int ek_broker_retained_delete(ek_broker *b, const char *topic, ek_err *err);

/* ---- users and bans (REST /broker/users, /broker/banned; see authdb.h and docs/broker.md) ---- */

/* The running broker's user and ban database (borrowed), or NULL without a data directory. */
ek_authdb *ek_broker_authdb(ek_broker *b);
/* PBKDF2 rounds for new password hashes (broker.passwordIterations). */
uint32_t ek_broker_password_iterations(const ek_broker *b);
/* Appends the users of the configuration (read-only) to the array out as {username,
 * is_superuser, source: "config"}. */
void ek_broker_config_users(const ek_broker *b, ek_value *out);
/* Disconnects every connected client that a ban of kind ("clientid", "username", "peerhost") on
 * who names (DISCONNECT 0x98 in MQTT 5). Thread-safe: posted to the broker's thread. */
void ek_broker_kick_banned(ek_broker *b, const char *kind, const char *who);

#endif
