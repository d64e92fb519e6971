/* Module-private declarations of the broker: the structures every broker source file shares.
 *
 * Everything here is touched only on the reactor thread, except ek_broker_msg's refcount (atomic,
 * since in-process subscribers may keep a message on other threads) and the post queue (mutex).
 * Ownership in one sentence each:
 *   - a broker__msg is immutable once routed and shared by reference by every queue that holds it;
 *   - a session owns its queue entries, in-flight entries and subscriptions (broker__sub);
 *   - a connection points to its session and back; a session outlives its connection when it has
 *     a session expiry interval, a connection never outlives the reactor iteration that closed it;
 *   - the topic tree owns its nodes; a node is pruned when it has no subs, children or retained. */
#ifndef EK_BROKER_INT_H
#define EK_BROKER_INT_H

#include "broker/broker.h"
#include "broker/packet_int.h"
#include "engine/app.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct broker__session broker__session;
typedef struct broker__conn broker__conn;
typedef struct broker__node broker__node;
typedef struct broker__sub broker__sub;
typedef struct ek_broker_msg broker__msg;

/* ---- string-keyed hash map (map.c); keys are borrowed from the values they map to ---- */
typedef struct broker__mapent {
    uint64_t h;
    const char *key;
    size_t klen;
    void *val;
} broker__mapent;
typedef struct broker__map {
    broker__mapent *e;
    size_t cap, len;
} broker__map;
void *broker__map_get(const broker__map *m, const char *key, size_t klen);
void broker__map_put(broker__map *m, const char *key, size_t klen, void *val);
void *broker__map_del(broker__map *m, const char *key, size_t klen);
void broker__map_free(broker__map *m);

/* ---- configuration (config.c) ---- */
#define BROKER_MAX_LISTENERS 4
typedef struct broker__listener_cfg {
    char bind[64];
    int port;
} broker__listener_cfg;

enum { BROKER_ACL_PUB = 1, BROKER_ACL_SUB = 2 };
typedef struct broker__acl_rule {
    bool allow;
    int actions;              /* BROKER_ACL_PUB | BROKER_ACL_SUB */
    char *topic, *clientid, *username;
} broker__acl_rule;

typedef struct broker__user {
    char *name, *password;    /* password NULL when hashed */
    bool hashed;
    uint8_t sha256[32];
} broker__user;

typedef struct broker__cfg {
    bool enable;
    broker__listener_cfg listeners[BROKER_MAX_LISTENERS];
    int nlisteners;
    uint32_t max_packet;       /* bytes, incoming and the default for outgoing */
    uint16_t max_inflight;     /* Receive Maximum advertised, and the cap on our outbound window */
    uint32_t max_queued;       /* per-session queue bound (messages) */
    uint32_t max_out_bytes;    /* per-connection write buffer high-water mark */
    bool queue_qos0;           /* queue QoS 0 messages for offline persistent sessions */
    uint32_t sys_interval;     /* seconds, 0 disables $SYS */
    bool retain_available;
    uint32_t max_retained;     /* 0 = unlimited */
    uint8_t max_qos;
    uint32_t session_expiry_max;  /* seconds */
    uint32_t v3_session_expiry;   /* seconds kept for a 3.1.1 clean-session=0 client */
    uint16_t max_keepalive;       /* 0 = any; larger client keep alives are lowered (v5) */
    uint16_t topic_alias_max;     /* aliases a client may use towards us */
    uint16_t topic_alias_out;     /* aliases we use towards a client (bounded by its maximum) */
    uint32_t connect_timeout;     /* seconds a socket may stay without CONNECT */
    uint32_t max_clients;         /* 0 = unlimited */
    bool persist;
    uint32_t persist_interval;    /* seconds between flushes of retained/session changes */
    broker__acl_rule *acl;        /* acl.c */
    size_t nacl;
    broker__user *users;          /* auth.c */
    size_t nusers;
    bool allow_anonymous;
    bool enhanced_auth;           /* offer KUIPER-HMAC-SHA256 (auth.c) */
} broker__cfg;
int broker__cfg_load(broker__cfg *cfg, const ek_value *section, ek_err *err);
void broker__cfg_free(broker__cfg *cfg);

/* ---- authentication (auth.c) ---- */
int broker__users_load(broker__cfg *cfg, const ek_value *list, ek_err *err);
void broker__users_free(broker__cfg *cfg);
/* Installs the user-list check as the authentication hook when users are configured, and the
 * KUIPER-HMAC-SHA256 enhanced authentication method when enhancedAuth is true. */
void broker__auth_install(ek_broker *b);
/* Enhanced authentication (handle_auth.c): starts the exchange for a CONNECT naming a method;
 * returns 0 (AUTH sent, or the client accepted) or the reason code to refuse it with. */
int broker__auth_begin(broker__conn *c, broker__pkt *p);
/* Releases the method's state of c (at close). */
void broker__auth_end(broker__conn *c);

/* ---- authorization (acl.c) ---- */
int broker__acl_load(broker__cfg *cfg, const ek_value *list, ek_err *err);
/* Whether the client of c may publish to topic (BROKER_ACL_PUB) or subscribe to a filter. */
bool broker__acl_allow(ek_broker *b, const broker__conn *c, int action, const char *topic);
/* Whether topic filter matches topic name (the "$" rule included). */
bool broker__filter_match(const char *filter, const char *topic);

/* ---- messages (message.c) ---- */
struct ek_broker_msg {
    atomic_int refs;
    uint8_t qos;
    bool retain;
    bool has_expiry;
    bool sys;             /* a $SYS message: never persisted */
    uint32_t len;         /* payload bytes */
    uint32_t props_len;   /* forwarded v5 properties (encoded) */
    uint16_t topic_len;
    int64_t expire_at;    /* wall clock ms, when has_expiry */
    uint64_t origin;      /* uid of the publishing session (no local); 0 = in-process */
    ek_ack *ack;          /* while a held publish is routed: its acknowledgement (hold.c) */
    char *topic;          /* NUL-terminated */
    uint8_t *props;
    uint8_t *payload;
    uint8_t data[];
};
broker__msg *broker__msg_new(const char *topic, size_t tlen, const void *payload, size_t len,
                             const void *props, size_t plen, uint8_t qos, bool retain);
/* The seconds left before m expires (>= 1) or 0 when it has expired; UINT32_MAX without expiry. */
uint32_t broker__msg_ttl(const broker__msg *m, int64_t now_ms);

/* ---- reactor (reactor.c) ---- */
typedef struct broker__io broker__io;
struct broker__io {
    int fd;
    void (*cb)(broker__io *io, uint32_t events);
};
typedef struct broker__timer {
    int64_t at;   /* monotonic ms */
    size_t idx;   /* position in the heap, SIZE_MAX when not armed */
    void (*fn)(ek_broker *b, void *arg);
    void *arg;
} broker__timer;
typedef void (*broker__post_fn)(ek_broker *b, void *arg);

int broker__reactor_init(ek_broker *b, ek_err *err);
void broker__reactor_fini(ek_broker *b);
void broker__reactor_run(ek_broker *b);
void broker__reactor_drain(ek_broker *b); /* runs what was posted, on the calling thread */
int broker__io_add(ek_broker *b, broker__io *io, uint32_t events);
void broker__io_mod(ek_broker *b, broker__io *io, uint32_t events);
void broker__io_del(ek_broker *b, broker__io *io);
void broker__timer_arm(ek_broker *b, broker__timer *t, int64_t at);
void broker__timer_cancel(ek_broker *b, broker__timer *t);
/* Runs fn(b, arg) on the reactor thread soon. Thread-safe (ek_reactor_post of DESIGN.md). */
void broker__post(ek_broker *b, broker__post_fn fn, void *arg);
/* Clocks: ek_mono_ms() (monotonic) and ek_now_ms() (wall) from engine/app.h. */

/* ---- connections (conn.c) ---- */
enum { CONN_NEW, CONN_AUTH, CONN_ACTIVE, CONN_CLOSING };

struct broker__conn {
    broker__io io;
    ek_broker *b;
    uint8_t state, version;
    bool in_flush, want_out, will_suppress;
    uint8_t close_reason;
    broker__session *s;
    broker__conn *prev, *next;      /* all connections */
    broker__conn *flush_next;       /* connections with pending output */
    uint8_t *in;                    /* partial packet carried over between reads */
    size_t in_len, in_cap;
    uint8_t *out;
    size_t out_len, out_off, out_cap;
    int64_t last_rx;
    uint16_t keep_alive;            /* seconds, after the server's adjustment */
    uint32_t max_packet_out;        /* the client's Maximum Packet Size */
    uint16_t recv_max_out;          /* the client's Receive Maximum */
    uint16_t alias_max_in, alias_max_out;
    char **alias_in;                /* [alias_max_in + 1] topics set by the client */
    broker__map alias_out;          /* topic -> alias number (stored as uintptr_t) */
    char **alias_out_topics;        /* [alias_max_out + 1] */
    uint16_t alias_out_next;
    char *username;                 /* from CONNECT, for the ACL */
    bool enhanced;                  /* connected with an Authentication Method */
    bool reauth;                    /* a re-authentication is under way */
    const ek_broker_auth_ops *auth_ops; /* the method in use (enhanced), and its argument */
    void *auth_ops_arg;
    void *auth_state;               /* the method's, between AUTH packets */
    uint8_t *auth_connect;          /* the CONNECT, kept while CONN_AUTH */
    size_t auth_connect_len;
    char peer[64];
    struct broker__held *held_head, *held_tail; /* acknowledgements waiting, in order (hold.c) */
};

void broker__conn_accept(ek_broker *b, broker__io *listener);
/* Adopts a connected non-blocking socket as a new client connection (accept, and the fuzz target). */
broker__conn *broker__conn_new(ek_broker *b, int fd);
/* Queues bytes of an encoded packet for this connection; returns a pointer to n bytes to fill. */
uint8_t *broker__conn_reserve(broker__conn *c, size_t n);
/* Encodes pkt into the connection's output. Returns false (and sends nothing) when it is larger
 * than the client's maximum packet size. */
bool broker__conn_send(broker__conn *c, const broker__pkt *pkt);
/* Closes the connection with reason (a v5 DISCONNECT is sent first when reason >= 0x80 and the
 * connection is active); the will is published unless will_suppress. */
void broker__conn_close(broker__conn *c, uint8_t reason);
void broker__conn_flush_all(ek_broker *b);
void broker__conn_reap(ek_broker *b);  /* frees (or lingers) connections closed in this iteration */
void broker__conn_free_all(ek_broker *b); /* at stop: frees dead and lingering connections */
bool broker__conn_writable(const broker__conn *c);  /* below the write high-water mark */
void broker__conn_sweep(ek_broker *b, void *arg);  /* keep alive and connect timeout */

/* ---- held acknowledgements (hold.c) ---- */
typedef struct broker__held broker__held;
typedef struct broker__hub broker__hub;
/* Queues the acknowledgement (type PUBACK or PUBREC) of packet id behind c's waiting ones. */
broker__held *broker__held_push(broker__conn *c, uint8_t type, uint16_t id, uint8_t reason);
/* Makes r wait for an ek_ack (returned with the broker's reference) set on the message routed;
 * rel: QoS 2, add id to the session's released set when the PUBREC goes. */
ek_ack *broker__held_ack(broker__held *r, bool rel);
/* After routing: r's final reason code; drops the broker's reference to a (NULL: r is ready). */
void broker__held_ready(broker__conn *c, broker__held *r, uint8_t reason, ek_ack *a);
void broker__held_detach(broker__conn *c);  /* the connection closes: its acks are never sent */
void broker__held_stop(ek_broker *b);       /* the reactor stopped: completions stop posting */
void broker__held_free(ek_broker *b);

/* ---- packet handlers (handle_*.c) ---- */
int broker__handle_connect(broker__conn *c, broker__pkt *p);
/* Accepts an authenticated CONNECT: session, will, CONNACK (handle_connect.c). */
int broker__connect_accept(broker__conn *c, broker__pkt *p);
int broker__handle_publish(broker__conn *c, broker__pkt *p);
int broker__handle_ack(broker__conn *c, broker__pkt *p);   /* PUBACK PUBREC PUBREL PUBCOMP */
int broker__handle_subscribe(broker__conn *c, broker__pkt *p);
int broker__handle_unsubscribe(broker__conn *c, broker__pkt *p);
int broker__handle_ping(broker__conn *c, broker__pkt *p);
int broker__handle_disconnect(broker__conn *c, broker__pkt *p);
int broker__handle_auth(broker__conn *c, broker__pkt *p);
/* Sends one PUBLISH of m; false if it was dropped (expired or too large). */
bool broker__send_publish(broker__conn *c, broker__msg *m, uint8_t qos, bool retain, uint16_t mid, bool dup,
                          const uint32_t *subids, uint8_t nsubids);

/* ---- sessions (session.c) ---- */
typedef struct broker__qent {
    broker__msg *m;
    uint8_t qos, nsub;
    bool retain;
    uint8_t state;   /* in flight: 0 free, 1 PUBLISH sent, 2 PUBREL sent */
    uint16_t mid;
    uint32_t subid[BROKER_MAX_SUBIDS];
} broker__qent;

struct broker__session {
    ek_broker *b;
    char *id;
    uint64_t uid;
    broker__conn *conn;
    uint8_t version;
    bool dirty;
    bool persisted;          /* has rows in broker.db that must go when it ends */
    uint32_t expiry;         /* session expiry interval, seconds; UINT32_MAX = never */
    int64_t expire_at;       /* wall ms when offline */
    broker__timer expiry_timer;
    broker__sub **subs;
    size_t nsubs, capsubs;
    broker__qent *q;         /* ring */
    size_t qhead, qlen, qcap;
    uint64_t dropped;
    broker__qent *infl;      /* outbound in flight, infl_cap slots (NULL until first needed) */
    uint16_t ninfl, infl_cap;
    uint16_t next_mid;
    uint16_t *rel;           /* inbound QoS 2 ids awaiting PUBREL */
    uint16_t nrel, caprel;
    broker__msg *will;
    uint32_t will_delay;
    broker__timer will_timer;
    /* Routing scratch: merges overlapping subscriptions into one delivery. */
    uint32_t gen;
    uint8_t mqos, mnsub;
    bool mretain;
    uint32_t msubid[BROKER_MAX_SUBIDS];
};

broker__session *broker__session_new(ek_broker *b, const char *id, size_t idlen);
void broker__session_free(broker__session *s);
/* Removes a session everywhere (subscriptions, map, persistence) and frees it. */
void broker__session_destroy(broker__session *s);
/* Delivers m to s (queues when offline, over the window or over the write high-water mark). */
void broker__session_deliver(broker__session *s, broker__msg *m, uint8_t qos, bool retain,
                             const uint32_t *subids, uint8_t nsub);
/* Sends queued messages while the window and the connection allow. */
void broker__session_pump(broker__session *s);
/* Resends in-flight messages after a reconnect (DUP set, PUBREL again). */
void broker__session_resend(broker__session *s);
/* The connection went away: arms will delay and session expiry, or destroys the session. */
void broker__session_offline(broker__session *s, bool publish_will);
void broker__session_set_window(broker__session *s, uint16_t window);
void broker__session_infl_alloc(broker__session *s);
broker__qent *broker__session_infl_find(broker__session *s, uint16_t mid);
void broker__session_infl_done(broker__session *s, broker__qent *e);
void broker__session_publish_will(broker__session *s);
void broker__session_add_sub(broker__session *s, broker__sub *sub);
/* Remembers an incoming QoS 2 packet id until its PUBREL. */
void broker__session_rel_add(broker__session *s, uint16_t id);
void broker__session_del_sub(broker__session *s, broker__sub *sub);

/* ---- topic tree (topic_tree.c) ---- */
enum { SUBOPT_NL = 0x04, SUBOPT_RAP = 0x08 };

struct broker__sub {
    broker__session *s;            /* NULL for an in-process subscription */
    ek_broker_deliver_fn fn;       /* in-process */
    void *arg;
    long id;                       /* in-process id */
    broker__node *node;
    char *filter;                  /* as subscribed, $share/... included */
    char *group;                   /* shared subscription group, or NULL */
    uint8_t qos, opts;             /* opts: the v5 subscription options byte */
    uint32_t subid;
    char idkey[24];                /* in-process: decimal id, the key in b->inproc */
    bool hold;                     /* in-process: subscribed with EK_BROKER_HOLD */
};

struct broker__node {
    char *name;
    size_t nlen;
    broker__node *parent;
    broker__map children;
    broker__sub **subs;
    size_t nsubs, capsubs;
    size_t rr;                     /* shared subscriptions: next member */
    broker__msg *retained;
};

broker__node *broker__tree_node(ek_broker *b, const char *topic, size_t len, bool create);
void broker__tree_prune(ek_broker *b, broker__node *n);
/* Adds sub (taken) under its filter (sub->filter is the full string, $share/ included). When the
 * same session already has that filter, updates the existing entry's options, frees sub, sets
 * *existed and returns the existing entry; otherwise returns sub. */
broker__sub *broker__tree_add(ek_broker *b, broker__sub *sub, bool *existed);
void broker__tree_remove(ek_broker *b, broker__sub *sub);  /* frees sub */
/* Routes m to every matching subscriber (overlaps merged per session, shared groups once). */
size_t broker__route(ek_broker *b, broker__msg *m);
/* Splits a $share/group/filter; returns the filter part and sets group (or NULL). */
const char *broker__share_split(const char *filter, char **group);
void broker__tree_free(ek_broker *b);

/* ---- retained messages (retain.c) ---- */
/* Stores (takes a reference to) or, with an empty payload, deletes the retained message. */
void broker__retain_set(ek_broker *b, broker__msg *m);
/* Sends the retained messages matching filter to sub (retain handling checked by the caller). */
void broker__retain_deliver(ek_broker *b, broker__sub *sub, const char *filter);

/* ---- $SYS (sys.c) and persistence (persist.c) ---- */
void broker__sys_start(ek_broker *b);
int broker__persist_open(ek_broker *b, const char *data_dir, ek_err *err);
void broker__persist_load(ek_broker *b);
void broker__persist_retained(ek_broker *b, broker__msg *m, bool del);
void broker__persist_session(ek_broker *b, broker__session *s);
void broker__persist_session_del(ek_broker *b, const char *id);
void broker__persist_flush(ek_broker *b);
void broker__persist_close(ek_broker *b);

/* ---- the broker ---- */
typedef struct broker__post_item {
    broker__post_fn fn;
    void *arg;
    struct broker__post_item *next;
} broker__post_item;

typedef struct broker__stats {
    uint64_t msgs_rx, msgs_tx, bytes_rx, bytes_tx, dropped, clients_total;
} broker__stats;

struct ek_broker {
    broker__cfg cfg;
    int ep, evfd;
    pthread_t thr;
    bool running;
    atomic_bool stopping;
    broker__io *listeners[BROKER_MAX_LISTENERS];
    int nlisteners, port;
    bool listen_paused;
    broker__io wake;
    pthread_mutex_t post_mu;
    broker__post_item *post_head, *post_tail;
    broker__timer **heap;
    size_t nheap, capheap;
    broker__conn *conns, *flush_head, *dead, *linger;
    size_t nconns, nlinger;
    broker__map sessions;
    broker__node *root;
    size_t nretained, nretained_sys, nsubs_total;
    uint8_t *rbuf;
    size_t rbuf_cap;
    uint64_t next_uid;
    uint32_t gen;
    broker__session **matched;
    size_t nmatched, capmatched;
    broker__map inproc;            /* in-process subscriptions by decimal id */
    size_t nholding;               /* of which made with EK_BROKER_HOLD */
    struct broker__hub *hub;       /* held acknowledgements (hold.c), created on first use */
    atomic_long next_sub_id;
    atomic_int pending_pub;        /* in-process publishes posted but not yet routed */
    broker__stats st;
    int64_t started_ms;
    broker__timer sweep_timer, sys_timer, persist_timer;
    void *db;                      /* sqlite3 *, or NULL without persistence */
    void *db_stmts;                /* persist.c's prepared statements */
    /* Authentication hook: returns an MQTT reason code (0 accepts). NULL accepts everyone. */
    int (*auth)(void *arg, const char *client_id, const char *user, const uint8_t *pass, size_t plen);
    void *auth_arg;
    const ek_broker_auth_ops *auth_ops;  /* enhanced authentication; NULL refuses every method */
    void *auth_ops_arg;
};

#endif
