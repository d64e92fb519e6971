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

#include "broker/authdb.h"
#include "broker/broker.h"
#include "broker/packet_int.h"
#include "engine/app.h"
#include "engine/jwt.h"

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
#define BROKER_MAX_LISTENERS 8
/* TLS of a listener (tls.c); the file names are owned. */
typedef struct broker__tls_cfg {
    char *certfile, *keyfile, *cafile;
    bool verify_peer;          /* ask for a client certificate and verify it against cafile */
    bool fail_if_no_cert;      /* and refuse clients that send none */
    int min_version;           /* 12 (TLS 1.2) or 13 */
} broker__tls_cfg;
typedef struct broker__listener_cfg {
    char bind[64];
    int port;
    bool tls, websocket;
    broker__tls_cfg tlsc;
    char path[128];            /* WebSocket: the only path upgraded */
    uint32_t max_frame;        /* WebSocket: largest frame payload; 0 = maxPacketSize */
} broker__listener_cfg;
typedef struct broker__bridge_cfg broker__bridge_cfg;  /* bridge.c */

enum { BROKER_ACL_PUB = 1, BROKER_ACL_SUB = 2 };
typedef struct broker__acl_rule {
    bool allow;
    int actions;              /* BROKER_ACL_PUB | BROKER_ACL_SUB */
    char *topic, *clientid, *username;  /* topic may hold %u and %c */
    bool eq;                  /* "eq <topic>": the exact string only */
    bool has_ip;              /* ipaddress: the peer's IPv4 address within ip/mask */
    uint32_t ip, mask;        /* host order */
} broker__acl_rule;

typedef struct broker__user {
    char *name, *password;    /* password NULL when hashed */
    char *pbkdf2;             /* passwordPbkdf2: a stored hash (authdb.h), or NULL */
    bool hashed;              /* passwordSha256 */
    bool superuser;           /* skips the ACL */
    uint8_t sha256[32];
} broker__user;

/* Routing extensions of the configuration (shared.c, autosub.c, rewrite.c, delayed.c). */
enum { BROKER_SHARE_ROUND_ROBIN, BROKER_SHARE_RANDOM, BROKER_SHARE_STICKY, BROKER_SHARE_HASH };
typedef struct broker__autosub {
    char *topic;               /* with ${clientid}, ${username}, ${host} placeholders */
    uint8_t opts;              /* SUBSCRIBE options byte: qos | nl << 2 | rap << 3 | rh << 4 */
} broker__autosub;
enum { BROKER_RW_PUB = 1, BROKER_RW_SUB = 2 };
#define BROKER_MAX_REWRITE 30
typedef struct broker__rewrite {
    int actions;               /* BROKER_RW_PUB | BROKER_RW_SUB */
    char *source, *dest;       /* source: a topic filter; dest: with $1... and ${clientid}/${username} */
    void *re;                  /* pcre2_code * */
} broker__rewrite;
typedef struct broker__jwt_cfg {
    bool enable;
    bool from_username;       /* the token is in the user name field, else in the password */
    uint8_t *secret;          /* owned by the configuration */
    ek_jwt_key key;           /* what ek_jwt_verify checks against */
} broker__jwt_cfg;

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
    broker__acl_rule *acl;        /* acl.c: the inline rules, then those of aclFile */
    size_t nacl;
    bool acl_deny;                /* aclNoMatch: deny */
    broker__user *users;          /* auth.c */
    size_t nusers;
    bool allow_anonymous;
    uint32_t pw_iterations;       /* PBKDF2 rounds of new hashes (REST) */
    broker__jwt_cfg jwt;          /* auth_jwt.c */
    bool enhanced_auth;           /* offer KUIPER-HMAC-SHA256 (auth.c) */
    uint8_t shared_strategy;      /* BROKER_SHARE_* (shared.c) */
    bool exclusive_sub;           /* $exclusive/ subscriptions allowed (exclusive.c) */
    bool delayed_enable;          /* $delayed/ publishes held back (delayed.c) */
    uint32_t max_delayed;         /* pending delayed messages, 0 = unlimited */
    broker__autosub *autosub;     /* autosub.c */
    size_t nautosub;
    broker__rewrite *rewrite;     /* rewrite.c */
    size_t nrewrite;
    /* Overload protection (overload.c); 0 = no limit. */
    uint32_t max_conn_rate;       /* new connections per second per listener */
    uint32_t max_msg_rate;        /* PUBLISH packets per second per client */
    uint32_t max_topic_levels;    /* levels of a published topic or subscribed filter */
    uint32_t max_topic_length;    /* bytes of a published topic or subscribed filter */
    broker__bridge_cfg *bridges;  /* bridge.c */
    size_t nbridges;
} broker__cfg;
int broker__cfg_load(broker__cfg *cfg, const ek_value *section, ek_err *err);
void broker__cfg_free(broker__cfg *cfg);
/* The routing keys that are not plain numbers: sharedSubscriptionStrategy, autoSubscribe, rewrite. */
int broker__shared_cfg_load(broker__cfg *cfg, const ek_value *v, ek_err *err);
int broker__autosub_load(broker__cfg *cfg, const ek_value *list, ek_err *err);
void broker__autosub_free(broker__cfg *cfg);
int broker__rewrite_load(broker__cfg *cfg, const ek_value *list, ek_err *err);
void broker__rewrite_free(broker__cfg *cfg);
void broker__listeners_free(broker__cfg *cfg);  /* config.c: the listeners' TLS file names */

/* ---- bridges to remote brokers (bridge.c) ---- */
int broker__bridges_load(broker__cfg *cfg, const ek_value *list, ek_err *err);
void broker__bridges_free(broker__cfg *cfg);
/* Starts a Paho client and thread per configured bridge (before the reactor runs). */
void broker__bridges_start(ek_broker *b);
/* Stops them; called while the reactor still runs (the forward subscriptions are removed through it). */
void broker__bridges_stop(ek_broker *b);

/* ---- authentication (auth.c, auth_jwt.c) and bans (banned.c) ---- */
int broker__users_load(broker__cfg *cfg, const ek_value *list, ek_err *err);
void broker__users_free(broker__cfg *cfg);
int broker__jwt_load(broker__cfg *cfg, const ek_value *obj, ek_err *err);
void broker__jwt_free(broker__cfg *cfg);
/* Checks the JWT of a CONNECT: 0 accepted, RC_BAD_USER_PASS refused, -1 when there is no token
 * to check (JWT off, or the field does not hold a JWT). */
int broker__jwt_check(const broker__cfg *cfg, const char *user, const broker__pkt *p);
/* Installs the KUIPER-HMAC-SHA256 enhanced authentication method when enhancedAuth is true. */
void broker__auth_install(ek_broker *b);
/* Authenticates a CONNECT (JWT, configured users, the user database, allowAnonymous); returns 0
 * (and sets c->superuser), the reason code to refuse it with, or BROKER_CHECK_PENDING when a
 * PBKDF2 hash is being verified off the reactor thread (auth_check.c). */
#define BROKER_CHECK_PENDING (-1)
int broker__authenticate(broker__conn *c, const char *client_id, const broker__pkt *p);
/* auth_check.c: the thread that verifies PBKDF2 hashes, so that a slow hash (or a flood of wrong
 * passwords) never stalls the reactor. check_start queues the verification of password p against
 * hash for c (refused whatever the result unless known), keeps the CONNECT aside and stops reading from c until the answer comes back; then
 * the CONNECT is accepted (broker__connect_accept) or refused with 0x86, and reading resumes. */
/* Starts the thread on the first call (reactor thread only); false when it cannot: then hashes are
 * verified on the reactor thread. */
bool broker__check_ready(ek_broker *b);
void broker__check_stop(ek_broker *b);   /* joins the thread; after the reactor has stopped */
void broker__check_start(broker__conn *c, const broker__pkt *p, const char *hash, bool superuser, bool known);
void broker__check_cancel(broker__conn *c); /* at close: the answer is dropped */
/* The peer's address without its port ("" when unknown), into buf (64 bytes). */
const char *broker__peer_host(const broker__conn *c, char *buf);
/* Whether a ban names this CONNECT's client id, user name or peer address. */
bool broker__banned(broker__conn *c, const char *client_id, const broker__pkt *p);
/* Enhanced authentication (handle_auth.c): starts the exchange for a CONNECT naming a method;
 * returns 0 (AUTH sent, or the client accepted) or the reason code to refuse it with. */
int broker__auth_begin(broker__conn *c, broker__pkt *p);
/* Releases the method's state of c (at close). */
void broker__auth_end(broker__conn *c);

/* ---- authorization (acl.c) ---- */
/* Reads acl, aclFile and aclNoMatch of the broker: section sec. */
int broker__acl_load(broker__cfg *cfg, const ek_value *sec, ek_err *err);
/* Whether the client of c may publish to topic (BROKER_ACL_PUB) or subscribe to a filter. */
bool broker__acl_allow(ek_broker *b, const broker__conn *c, int action, const char *topic);
/* Whether topic filter matches topic name (the "$" rule included). */
bool broker__filter_match(const char *filter, const char *topic);
/* Whether every topic that filter matches is matched by rule (for a topic name: filter_match). */
bool broker__filter_covers(const char *rule, const char *filter);

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
    int64_t stored_at;    /* wall clock ms, when it became the retained message of its topic */
    uint64_t origin;      /* uid of the publishing session (no local); 0 = in-process */
    uint32_t from_hash;   /* hash of the publisher's client id (shared strategy hash); 0 = in-process */
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

/* ---- overload protection (overload.c) ---- */
/* A token bucket: rate tokens a second, at most rate in reserve (one second's burst). Refilled
 * lazily from the clock when a token is asked for, so it needs no timer. */
typedef struct broker__bucket {
    int64_t milli;   /* thousandths of a token in reserve */
    int64_t at;      /* monotonic ms of the last refill; 0 = never used (full) */
} broker__bucket;
/* Takes a token (true) or tells that the rate is exceeded (false). rate 0 never limits. */
bool broker__bucket_take(broker__bucket *k, uint32_t rate, int64_t now_ms);
/* Whether a socket just accepted on listener lio may stay (maxClients, maxConnRate); counts
 * the refusals. */
bool broker__overload_accept(ek_broker *b, broker__io *lio);
/* Whether c may publish one more message now (maxMessageRate); counts the refusals. */
bool broker__overload_publish(broker__conn *c);
/* 0 when a topic name (or, with filter, a subscription's filter) is within maxTopicLevels and
 * maxTopicLength; else the reason code to refuse it with (0x90 or 0x8F), counted. */
uint8_t broker__overload_topic(ek_broker *b, const char *topic, size_t len, bool filter);

/* ---- calls from other threads that wait for an answer (call.c) ---- */
/* Runs fn(b, arg) on the reactor thread and waits up to timeout_ms for it; called on the
 * reactor thread, or while the reactor does not run, it runs fn at once. Returns 0 once fn has
 * run (the caller still owns arg and reads fn's results from it), or EK_ENOMEM with err saying
 * the broker did not answer in time: arg then belongs to the broker, which still runs fn later
 * and then releases arg with free_arg. */
int broker__call(ek_broker *b, broker__post_fn fn, void *arg, void (*free_arg)(void *arg), int timeout_ms,
                 ek_err *err);
/* ---- listeners (broker.c) and transports (tls.c, transport.c, ws.c) ---- */
typedef struct broker__listener {
    broker__io io;
    ek_broker *b;
    const broker__listener_cfg *cfg;
    void *ssl_ctx;                  /* SSL_CTX *, for a TLS listener */
} broker__listener;

/* Loads the certificate, key and CA of a TLS listener into a new SSL_CTX (TLS 1.2 at least);
 * errors name the listener and the file. */
int broker__tls_ctx_new(const broker__listener_cfg *lc, void **out, ek_err *err);
void broker__tls_ctx_free(void *ctx);
void *broker__tls_new(void *ctx, int fd);   /* an SSL in accept state on fd, or NULL */
void broker__tls_free(void *ssl);
void broker__tls_shutdown(void *ssl);

typedef struct broker__wsconn broker__wsconn;
enum { TP_AGAIN = -1, TP_CLOSED = -2 };
/* Sets up the transport of a connection accepted on l (TLS session, WebSocket handshake state). */
int broker__tp_attach(broker__conn *c, const broker__listener *l);
/* Reads MQTT bytes (after TLS and WebSocket decoding) into buf: returns their count (0 when only
 * transport bytes arrived), TP_AGAIN when nothing can be read now, or TP_CLOSED when the peer is
 * gone or broke the transport (the connection may already be closed). *more: read again now. */
long broker__tp_read(broker__conn *c, uint8_t *buf, size_t cap, bool *more);
/* Writes the connection's pending output: 1 when all is written, 0 when the socket pushed back
 * (wait for EPOLLOUT), -1 on a write error. */
int broker__tp_flush(broker__conn *c);
/* Bytes the transport still holds for the peer (beyond c->out). */
size_t broker__tp_pending(const broker__conn *c);
/* The connection is closing: WebSocket frames the rest of c->out and appends a close frame. */
void broker__tp_closing(broker__conn *c);
/* Sends TLS close_notify (best effort) and shuts the socket down for writing. */
void broker__tp_shutdown(broker__conn *c);
/* The peer ended the WebSocket (close frame received): close once its last packets are handled. */
bool broker__tp_peer_closed(const broker__conn *c);
void broker__tp_free(broker__conn *c);
/* TLS reads and writes with the same results as broker__tp_read and a lower-layer write. */
long broker__tls_read(broker__conn *c, uint8_t *buf, size_t cap, bool *more);
long broker__tls_write(broker__conn *c, const uint8_t *buf, size_t len);

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
    bool superuser;                 /* authenticated as a superuser: the ACL is skipped */
    bool checking;                  /* a password check is under way: not reading (auth_check.c) */
    bool authed;                    /* the password check passed: CONNECT goes on */
    struct broker__check *check;    /* that check, until its answer arrives */
    uint32_t peer_ip;               /* IPv4 address of the peer, host order (0 unknown) */
    bool enhanced;                  /* connected with an Authentication Method */
    bool reauth;                    /* a re-authentication is under way */
    const ek_broker_auth_ops *auth_ops; /* the method in use (enhanced), and its argument */
    void *auth_ops_arg;
    void *auth_state;               /* the method's, between AUTH packets */
    uint8_t *auth_connect;          /* the CONNECT, kept while CONN_AUTH */
    size_t auth_connect_len;
    char peer[64];
    /* Management (admin.c) and overload protection (overload.c). */
    int64_t connected_at;           /* wall ms of the CONNACK */
    uint64_t msgs_in, msgs_out, bytes_in, bytes_out;
    broker__bucket msg_rate;        /* maxMessageRate */
    int64_t accepted_ms;            /* CONNACK is due within connectTimeout of this */
    void *tls;                      /* SSL *, on a TLS listener */
    bool tls_read_wants_write;      /* SSL_read needs the socket writable */
    broker__wsconn *ws;             /* on a WebSocket listener */
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
void broker__conn_want_flush(broker__conn *c);     /* flush c at the end of this iteration */
void broker__conn_sweep(ek_broker *b, void *arg);  /* keep alive and connect timeout */
/* Reads from c again after a password check, first handling the bytes that arrived meanwhile. */
void broker__conn_resume(broker__conn *c);

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
/* The topic a message published to topic (tlen bytes) goes to, by a client (clientid and username
 * may be NULL): the $delayed/{seconds}/ prefix taken off (*delay set, else UINT32_MAX) and the publish
 * rewrite rules applied. Returns 0 with *out (a new string, or NULL when the topic is unchanged), or
 * RC_TOPIC_INVALID to drop it. */
int broker__publish_topic(ek_broker *b, const char *clientid, const char *username, const char *topic, size_t tlen,
                          char **out, uint32_t *delay);
/* Sends one PUBLISH of m; false if it was dropped (expired or too large). */
bool broker__send_publish(broker__conn *c, broker__msg *m, uint8_t qos, bool retain, uint16_t mid, bool dup,
                          const uint32_t *subids, uint8_t nsubids);

/* ---- sessions (session.c) ---- */
typedef struct broker__qent {
    broker__msg *m;
    uint8_t qos, nsub;
    bool retain;
    uint8_t state;   /* in flight: 0 free, 1 PUBLISH sent, 2 PUBREL sent */
    bool shared;     /* delivered through a shared group only: redispatched if the client leaves */
    uint16_t mid;
    uint32_t subid[BROKER_MAX_SUBIDS];
} broker__qent;

struct broker__session {
    ek_broker *b;
    char *id;
    uint32_t id_hash;        /* broker__hash_str of id: the shared strategy hash of its messages */
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
    char *username;          /* of the last connection, for the management API; NULL if none */
    /* Routing scratch: merges overlapping subscriptions into one delivery. */
    uint32_t gen;
    uint8_t mqos, mnsub;
    bool mretain, mshared, mplain;
    uint32_t msubid[BROKER_MAX_SUBIDS];
};

broker__session *broker__session_new(ek_broker *b, const char *id, size_t idlen);
void broker__session_free(broker__session *s);
/* Removes a session everywhere (subscriptions, map, persistence) and frees it. */
void broker__session_destroy(broker__session *s);
/* Delivers m to s (queues when offline, over the window or over the write high-water mark). */
void broker__session_deliver(broker__session *s, broker__msg *m, uint8_t qos, bool retain,
                             const uint32_t *subids, uint8_t nsub);
/* The same, marking the delivery as made through a shared group (redispatched when s leaves). */
void broker__session_deliver_shared(broker__session *s, broker__msg *m, uint8_t qos, bool retain,
                                    const uint32_t *subids, uint8_t nsub, bool shared);
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
    struct broker__group *groups;  /* shared subscription groups with members here (shared.c) */
    size_t ngroups;
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
/* Splits a subscription filter: "$share/{group}/{f}", "$queue/{f}" (group "$queue") and
 * "$exclusive/{f}" give f; returns NULL when malformed; sets group (or NULL) when not NULL. */
const char *broker__share_split(const char *filter, char **group);
bool broker__is_exclusive(const char *filter);
void broker__tree_free(ek_broker *b);
/* Emits (route) one member of every shared group on node n. Internal to topic_tree.c/shared.c. */
typedef struct broker__route_ctx broker__route_ctx;
void broker__route_emit(broker__route_ctx *r, broker__sub *sub, bool shared);
const broker__msg *broker__route_msg(const broker__route_ctx *r);

/* ---- shared subscriptions (shared.c) ---- */
typedef struct broker__group {
    char *name;
    uint64_t rr;                   /* round robin position */
    broker__sub *sticky;           /* sticky: the member chosen until it leaves */
} broker__group;
/* Group bookkeeping when a shared sub is added to or removed from its node. */
void broker__group_join(broker__node *n, const char *group);
void broker__group_leave(broker__node *n, broker__sub *sub);
void broker__groups_free(broker__node *n);
void broker__shared_emit(ek_broker *b, broker__route_ctx *r, broker__node *n);
/* The index (< n) a strategy picks among n candidates; rr and rng are the group's and broker's state. */
size_t broker__shared_choose(int strategy, size_t n, uint64_t *rr, uint32_t hash, uint64_t *rng);
uint32_t broker__hash_str(const char *s, size_t len);
/* s's connection went away (not a takeover): its unacknowledged QoS 1/2 messages that came through a
 * shared group go to another online member of that group, when there is one. */
void broker__shared_redispatch(broker__session *s);

/* ---- exclusive subscriptions (exclusive.c) ---- */
/* Whether s may hold topic filter f (nobody else does). */
bool broker__exclusive_free(ek_broker *b, const broker__session *s, const char *f);
/* Records sub (a $exclusive/ subscription just added) as the holder of its filter. */
void broker__exclusive_hold(ek_broker *b, broker__sub *sub);
/* Forgets sub as a holder (before it is removed from the tree). */
void broker__exclusive_release(ek_broker *b, broker__sub *sub);
/* Removes s's exclusive subscriptions (its connection ended). */
void broker__exclusive_drop(broker__session *s);

/* ---- subscribing (handle_subscribe.c), auto-subscribe (autosub.c) ---- */
/* Subscribes c's session to filter with the options byte; returns the SUBACK code and sets *out
 * to the subscription (NULL when refused) and *existed. Rewrite and ACL are applied. */
uint8_t broker__subscribe_one(broker__conn *c, const char *filter, size_t flen, uint8_t opts, uint32_t subid,
                              broker__sub **out, bool *existed);
void broker__autosub_apply(broker__conn *c);
/* Expands ${clientid}, ${username} and ${host} in tmpl; NULL when a value is missing. */
char *broker__placeholders(const char *tmpl, const char *clientid, const char *username, const char *host);

/* ---- topic rewrite (rewrite.c) ---- */
/* The topic after the first rule of action whose source filter matches (NULL when unchanged);
 * the caller frees it. */
char *broker__rewrite_apply(const broker__cfg *cfg, int action, const char *topic, const char *clientid,
                            const char *username);
/* A SUBSCRIBE/UNSUBSCRIBE filter of c (flen bytes) after the subscribe rules, applied to the part
 * after any $share/{g}/, $queue/ or $exclusive/ prefix: a new string. */
char *broker__rewrite_filter(broker__conn *c, const char *f, size_t flen);

/* ---- delayed publish (delayed.c) ---- */
/* Parses "$delayed/{seconds}/{topic}": 1 and sets *delay and *inner when topic is one, 0 when it
 * is not a $delayed topic, -1 when it is one with a bad interval or no topic (drop it). */
int broker__delayed_parse(const char *topic, size_t len, uint32_t *delay, const char **inner);
/* Holds m (a reference is taken) for delay seconds; false when maxDelayedMessages is reached. */
bool broker__delayed_add(ek_broker *b, broker__msg *m, uint32_t delay);
void broker__delayed_persist_flush(ek_broker *b);  /* inside persist.c's transaction */
void broker__delayed_load(ek_broker *b);
void broker__delayed_free(ek_broker *b);

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
    /* overload protection: refusals, disconnections and drops, by limit */
    uint64_t ov_max_clients, ov_conn_rate, ov_msg_rate, ov_inflight, ov_queue_full, ov_topic_levels,
        ov_topic_length, kicked;
} broker__stats;

struct ek_broker {
    broker__cfg cfg;
    int ep, evfd;
    pthread_t thr;
    bool running;
    atomic_bool stopping;
    broker__listener *listeners[BROKER_MAX_LISTENERS];
    int nlisteners, port;
    bool port_plain;               /* port is a plain MQTT listener's */
    struct broker__bridge **bridges; /* bridge.c, one per configured bridge */
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
    broker__bucket conn_rate[BROKER_MAX_LISTENERS]; /* maxConnRate, per listener */
    int64_t started_ms;
    broker__timer sweep_timer, sys_timer, persist_timer;
    void *db;                      /* sqlite3 *, or NULL without persistence */
    void *db_stmts;                /* persist.c's prepared statements */
    ek_authdb *authdb;             /* users and bans (<data>/broker_auth.db), NULL without a data dir */
    struct broker__checker *checker; /* auth_check.c; NULL until the first password check */
    bool checker_failed;             /* its thread could not start: checks run on the reactor */
    const ek_broker_auth_ops *auth_ops;  /* enhanced authentication; NULL refuses every method */
    void *auth_ops_arg;
    uint64_t rng;                  /* random and sticky shared strategies (xorshift) */
    broker__map exclusive;         /* exclusive.c: filter -> holding session */
    struct broker__delayed *delayed; /* delayed.c */
    broker__sub **cand;            /* shared.c: routing scratch */
    size_t capcand;
};

#endif
