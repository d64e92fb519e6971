/* Client connections: accepting, reading and framing packets, dispatching them to the
 * handle_<packet>.c files, buffering output and closing.
 *
 * Reads go into the reactor's shared 64 KiB buffer and packets are decoded in place; only the
 * tail of a partial packet is copied into the connection, so an idle client holds no buffer.
 * Output is appended to one buffer per connection and written once per reactor iteration (every
 * packet produced for a client in that iteration leaves in a single write); EPOLLOUT is asked for
 * only when the socket pushes back. A connection is never freed where it is closed: it moves to
 * the dead list and is freed after the iteration's flush, so handlers may close freely. */
#include "broker/broker_int.h"
#include "engine/mem.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <unistd.h>

#define SHRINK_AT (256 * 1024)

static void flush_one(broker__conn *c);

static void want_flush(broker__conn *c)
{
    if (c->in_flush) return;
    c->in_flush = true;
    c->flush_next = c->b->flush_head;
    c->b->flush_head = c;
}

void broker__conn_want_flush(broker__conn *c)
{
    want_flush(c);
}

uint8_t *broker__conn_reserve(broker__conn *c, size_t n)
{
    if (c->out_len + n > c->out_cap) {
        if (c->out_off) {
            memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
            c->out_len -= c->out_off;
            c->out_off = 0;
        }
        if (c->out_len + n > c->out_cap) {
            size_t cap = c->out_cap ? c->out_cap : 4096;
            while (cap < c->out_len + n) cap *= 2;
            c->out = ek_realloc(c->out, cap);
            c->out_cap = cap;
        }
    }
    uint8_t *p = c->out + c->out_len;
    c->out_len += n;
    want_flush(c);
    return p;
}

bool broker__conn_send(broker__conn *c, const broker__pkt *pkt)
{
    size_t n = broker__pkt_len(pkt, c->version);
    if (c->max_packet_out && n > c->max_packet_out) return false;
    broker__pkt_write(pkt, c->version, broker__conn_reserve(c, n));
    return true;
}

bool broker__conn_writable(const broker__conn *c)
{
    return c->state == CONN_ACTIVE && c->out_len - c->out_off + broker__tp_pending(c) < c->b->cfg.max_out_bytes;
}

/* The Reason String sent with a DISCONNECT or a refused CONNACK (MQTT 5). */
static const char *reason_text(uint8_t rc)
{
    switch (rc) {
    case RC_MALFORMED: return "malformed packet";
    case RC_PROTOCOL: return "protocol error";
    case RC_BAD_VERSION: return "unsupported protocol version";
    case RC_BAD_CLIENT_ID: return "client identifier not valid";
    case RC_BAD_USER_PASS: return "bad user name or password";
    case RC_NOT_AUTHORIZED: return "not authorized";
    case RC_BAD_AUTH_METHOD: return "authentication method not supported";
    case RC_KEEP_ALIVE: return "keep alive timeout";
    case RC_TAKEN_OVER: return "session taken over";
    case RC_TOPIC_INVALID: return "topic name invalid";
    case RC_RECEIVE_MAX: return "receive maximum exceeded";
    case RC_ALIAS_INVALID: return "topic alias invalid";
    case RC_TOO_LARGE: return "packet too large";
    case RC_MSG_RATE: return "message rate too high";
    case RC_ADMIN_ACTION: return "administrative action";
    case RC_RETAIN_UNSUPPORTED: return "retain not supported";
    case RC_QOS_UNSUPPORTED: return "QoS not supported";
    case RC_SHUTTING_DOWN: return "server shutting down";
    case RC_BANNED: return "banned";
    case RC_BUSY: return "server busy";
    default: return NULL;
    }
}

static void set_reason(broker__pkt *p, uint8_t rc)
{
    const char *t = reason_text(rc);
    if (!t) return;
    BP_SET(&p->props, BP_REASON);
    p->props.reason = (broker__bin){(const uint8_t *)t, (uint32_t)strlen(t)};
}

/* The 3.1.1 CONNACK return code for a v5 reason code. */
static uint8_t v3_connack_code(uint8_t reason)
{
    switch (reason) {
    case RC_BAD_VERSION: return 1;
    case RC_BAD_CLIENT_ID: return 2;
    case RC_BAD_USER_PASS: return 4;
    case RC_NOT_AUTHORIZED: case RC_BANNED: return 5;
    default: return 3;
    }
}

void broker__conn_close(broker__conn *c, uint8_t reason)
{
    if (c->state == CONN_CLOSING) return;
    ek_broker *b = c->b;
    if ((c->state == CONN_NEW || c->state == CONN_AUTH) && c->version && reason >= 0x80) {
        broker__pkt p = {.type = BROKER_CONNACK};
        p.reason = c->version == 5 ? reason : v3_connack_code(reason);
        if (c->version == 5) set_reason(&p, reason);
        if (c->version == 5 || reason == RC_BAD_VERSION || reason == RC_BAD_CLIENT_ID ||
            reason == RC_BAD_USER_PASS || reason == RC_NOT_AUTHORIZED || reason == RC_UNAVAILABLE ||
            reason == RC_BANNED || reason == RC_BUSY)
            broker__conn_send(c, &p);
    } else if (c->state == CONN_ACTIVE && c->version == 5 && reason >= 0x80) {
        broker__pkt p = {.type = BROKER_DISCONNECT, .reason = reason};
        set_reason(&p, reason);
        broker__conn_send(c, &p);
    }
    broker__check_cancel(c);
    broker__tp_closing(c);
    c->close_reason = reason;
    c->state = CONN_CLOSING;
    broker__held_detach(c);
    if (c->s) {
        broker__session *s = c->s;
        c->s = NULL;
        s->conn = NULL;
        broker__exclusive_drop(s);
        if (reason != RC_TAKEN_OVER) broker__shared_redispatch(s);
        broker__session_offline(s, !c->will_suppress);
    }
    if (c->prev) c->prev->next = c->next;
    else b->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    b->nconns--;
    c->next = b->dead;
    b->dead = c;
    want_flush(c);
}

static int dispatch(broker__conn *c, broker__pkt *p)
{
    if (p->type == BROKER_CONNECT)
        return c->state == CONN_NEW ? broker__handle_connect(c, p) : RC_PROTOCOL;
    if (p->type == BROKER_AUTH && (c->state == CONN_AUTH || c->state == CONN_ACTIVE))
        return broker__handle_auth(c, p);
    if (c->state != CONN_ACTIVE) return RC_PROTOCOL;
    switch (p->type) {
    case BROKER_PUBLISH: return broker__handle_publish(c, p);
    case BROKER_PUBACK: case BROKER_PUBREC: case BROKER_PUBREL: case BROKER_PUBCOMP:
        return broker__handle_ack(c, p);
    case BROKER_SUBSCRIBE: return broker__handle_subscribe(c, p);
    case BROKER_UNSUBSCRIBE: return broker__handle_unsubscribe(c, p);
    case BROKER_PINGREQ: return broker__handle_ping(c, p);
    case BROKER_DISCONNECT: return broker__handle_disconnect(c, p);
    default: return RC_PROTOCOL;
    }
}

/* Decodes and handles every whole packet in buf; returns the bytes consumed. */
static size_t parse(broker__conn *c, const uint8_t *buf, size_t len)
{
    size_t off = 0;
    while (off < len && c->state != CONN_CLOSING && !c->checking) {
        uint32_t hdr;
        long total = broker__pkt_frame(buf + off, len - off, &hdr);
        if (total < 0) {
            broker__conn_close(c, RC_MALFORMED);
            break;
        }
        if (total == 0) break;
        if ((uint64_t)total > c->b->cfg.max_packet) {
            broker__conn_close(c, RC_TOO_LARGE);
            break;
        }
        if ((size_t)total > len - off) break;
        broker__pkt p;
        int rc = broker__pkt_decode(buf + off, (size_t)total, c->version, &p);
        if (rc && p.type == BROKER_CONNECT && c->state == CONN_NEW && p.version) c->version = p.version;
        if (!rc) rc = dispatch(c, &p);
        if (rc) {
            broker__conn_close(c, (uint8_t)rc);
            break;
        }
        off += (size_t)total;
    }
    return off;
}

/* Handles data (len bytes, which may be c->in itself): whole packets now, the partial rest kept
 * in c->in for the next read. */
static void consume(broker__conn *c, const uint8_t *data, size_t len)
{
    size_t used = parse(c, data, len);
    if (c->state == CONN_CLOSING) return;
    size_t rest = len - used;
    if (rest && data != c->in) {
        if (rest > c->in_cap) {
            c->in_cap = rest < 4096 ? 4096 : rest;
            c->in = ek_realloc(c->in, c->in_cap);
        }
        memcpy(c->in, data + used, rest);
    } else if (rest && used) {
        memmove(c->in, c->in + used, rest);
    }
    c->in_len = rest;
    if (!rest && c->in_cap > SHRINK_AT) {
        ek_free(c->in);
        c->in = NULL;
        c->in_cap = 0;
    }
}

static void on_readable(broker__conn *c)
{
    ek_broker *b = c->b;
    for (int rounds = 0; rounds < 8 && c->state != CONN_CLOSING && !c->checking; rounds++) {
        bool more;
        long n = broker__tp_read(c, b->rbuf, b->rbuf_cap, &more);
        if (n == TP_AGAIN) return;
        if (n < 0) {
            if (c->state != CONN_CLOSING) broker__conn_close(c, RC_UNSPECIFIED);
            return;
        }
        c->bytes_in += (uint64_t)n;
        c->last_rx = ek_mono_ms();
        if (n == 0) { /* transport bytes only (TLS handshake, WebSocket header or control frame) */
            if (broker__tp_peer_closed(c)) broker__conn_close(c, RC_UNSPECIFIED);
            if (!more) return;
            continue;
        }
        const uint8_t *data = b->rbuf;
        size_t len = (size_t)n;
        if (c->in_len) {
            if (c->in_len + len > c->in_cap) {
                c->in_cap = c->in_len + len;
                c->in = ek_realloc(c->in, c->in_cap);
            }
            memcpy(c->in + c->in_len, data, len);
            data = c->in;
            len = c->in_len + len;
        }
        consume(c, data, len);
        if (c->state == CONN_CLOSING) return;
        if (broker__tp_peer_closed(c)) { /* the client's WebSocket close frame followed these packets */
            broker__conn_close(c, RC_UNSPECIFIED);
            return;
        }
        if (!more) return;
    }
}

void broker__conn_resume(broker__conn *c)
{
    if (c->state == CONN_CLOSING) return;
    broker__io_mod(c->b, &c->io, EPOLLIN | (c->want_out ? EPOLLOUT : 0));
    if (c->in_len) consume(c, c->in, c->in_len);
    /* A TLS or WebSocket layer may hold decoded bytes that epoll will not announce again. */
    if (c->state != CONN_CLOSING && !c->checking && (c->tls || c->ws)) on_readable(c);
}

static void on_io(broker__io *io, uint32_t events)
{
    broker__conn *c = (broker__conn *)io;
    if (c->state == CONN_CLOSING) return;
    if (c->checking && (events & (EPOLLHUP | EPOLLERR))) { /* gone while its password is checked */
        broker__conn_close(c, RC_UNSPECIFIED);
        return;
    }
    if (events & EPOLLOUT) flush_one(c);
    bool retry = c->tls_read_wants_write && (events & EPOLLOUT); /* a TLS read waited to write */
    if (retry) c->tls_read_wants_write = false;
    if (c->state != CONN_CLOSING && (retry || (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))) on_readable(c);
}

broker__conn *broker__conn_new(ek_broker *b, int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
    broker__conn *c = ek_calloc(1, sizeof *c);
    c->io.fd = fd;
    c->io.cb = on_io;
    c->b = b;
    c->last_rx = c->accepted_ms = ek_mono_ms();
    c->max_packet_out = b->cfg.max_packet;
    c->recv_max_out = 65535;
    c->next = b->conns;
    if (b->conns) b->conns->prev = c;
    b->conns = c;
    b->nconns++;
    if (broker__io_add(b, &c->io, EPOLLIN) < 0) {
        broker__conn_close(c, 0);
        return NULL;
    }
    return c;
}

void broker__conn_accept(ek_broker *b, broker__io *lio)
{
    for (;;) {
        struct sockaddr_storage sa;
        socklen_t salen = sizeof sa;
        int fd = accept4(lio->fd, (struct sockaddr *)&sa, &salen, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            /* Out of descriptors or memory: stop listening until the next sweep rather than
             * spinning on a listener that stays readable. */
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                broker__io_mod(b, lio, 0);
                b->listen_paused = true;
            }
            return;
        }
        if (!broker__overload_accept(b, lio)) {
            close(fd);
            continue;
        }
        broker__conn *c = broker__conn_new(b, fd);
        if (c && broker__tp_attach(c, (const broker__listener *)lio) != 0) {
            broker__conn_close(c, 0);
            continue;
        }
        if (c && sa.ss_family == AF_INET) {
            struct sockaddr_in *in = (struct sockaddr_in *)&sa;
            char ip[INET_ADDRSTRLEN];
            inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip);
            snprintf(c->peer, sizeof c->peer, "%s:%d", ip, ntohs(in->sin_port));
        }
    }
}

static void flush_one(broker__conn *c)
{
    ek_broker *b = c->b;
    for (;;) {
        int r = broker__tp_flush(c);
        if (r == 0) {
            if (!c->want_out && c->state != CONN_CLOSING) {
                c->want_out = true;
                broker__io_mod(b, &c->io, (c->checking ? 0 : EPOLLIN) | EPOLLOUT);
            }
            return;
        }
        if (r < 0) {
            c->out_off = c->out_len; /* the peer is gone: drop the output */
            if (c->state != CONN_CLOSING) broker__conn_close(c, RC_UNSPECIFIED);
            return;
        }
        c->out_off = c->out_len = 0;
        if (c->out_cap) { /* an idle client holds no buffer; malloc is cheaper than the memory */
            ek_free(c->out);
            c->out = NULL;
            c->out_cap = 0;
        }
        if (c->want_out && c->state != CONN_CLOSING && !c->tls_read_wants_write) {
            c->want_out = false;
            broker__io_mod(b, &c->io, c->checking ? 0 : EPOLLIN);
        }
        if (c->state != CONN_ACTIVE || !c->s || !c->s->qlen) return;
        broker__session_pump(c->s);
        if (c->out_len == 0) return;
    }
}

void broker__conn_flush_all(ek_broker *b)
{
    while (b->flush_head) {
        broker__conn *c = b->flush_head;
        b->flush_head = c->flush_next;
        c->in_flush = false;
        flush_one(c);
    }
}

#define LINGER_MS 2000
#define LINGER_MAX 1024

static void free_parts(broker__conn *c)
{
    if (c->alias_in)
        for (uint32_t i = 0; i <= c->alias_max_in; i++) ek_free(c->alias_in[i]);
    ek_free(c->alias_in);
    c->alias_in = NULL;
    if (c->alias_out_topics)
        for (uint32_t i = 0; i <= c->alias_max_out; i++) ek_free(c->alias_out_topics[i]);
    ek_free(c->alias_out_topics);
    c->alias_out_topics = NULL;
    broker__map_free(&c->alias_out);
    ek_free(c->in);
    c->in = NULL;
    ek_free(c->username);
    c->username = NULL;
    broker__auth_end(c);
}

static void destroy(ek_broker *b, broker__conn *c)
{
    broker__io_del(b, &c->io);
    broker__tp_free(c);
    close(c->io.fd);
    free_parts(c);
    ek_free(c->out);
    ek_free(c);
}

/* Ends a lingering connection: unlinks, closes and frees it. */
static void linger_end(ek_broker *b, broker__conn *c)
{
    if (c->prev) c->prev->next = c->next;
    else b->linger = c->next;
    if (c->next) c->next->prev = c->prev;
    b->nlinger--;
    destroy(b, c);
}

/* A connection the broker closed with an error: its last packet (DISCONNECT or CONNACK) is
 * written, then FIN is sent and the client's input is read and discarded until it closes or
 * LINGER_MS pass. Closing at once would make the kernel answer the client's in-flight packets
 * with a reset, which can destroy the DISCONNECT before the client reads it. */
static void on_linger(broker__io *io, uint32_t events)
{
    broker__conn *c = (broker__conn *)io;
    ek_broker *b = c->b;
    if (c->out_off < c->out_len || broker__tp_pending(c)) {
        int r = broker__tp_flush(c);
        if (r < 0) {
            linger_end(b, c);
            return;
        }
        if (r == 1) {
            broker__tp_shutdown(c);
            broker__io_mod(b, &c->io, EPOLLIN);
        }
    }
    if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR))) return;
    for (int i = 0; i < 16; i++) {
        ssize_t n = read(c->io.fd, b->rbuf, b->rbuf_cap);
        if (n > 0) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        if (n < 0 && errno == EINTR) continue;
        linger_end(b, c);
        return;
    }
}

void broker__conn_reap(ek_broker *b)
{
    while (b->dead) {
        broker__conn *c = b->dead;
        b->dead = c->next;
        bool linger = c->close_reason >= 0x80 && c->version && b->nlinger < LINGER_MAX &&
                      !atomic_load(&b->stopping);
        if (!linger) {
            destroy(b, c);
            continue;
        }
        free_parts(c);
        c->io.cb = on_linger;
        c->last_rx = ek_mono_ms();
        if (c->out_off < c->out_len || broker__tp_pending(c)) {
            broker__io_mod(b, &c->io, EPOLLIN | EPOLLOUT);
        } else {
            broker__tp_shutdown(c);
            broker__io_mod(b, &c->io, EPOLLIN);
        }
        c->prev = NULL;
        c->next = b->linger;
        if (b->linger) b->linger->prev = c;
        b->linger = c;
        b->nlinger++;
    }
}

void broker__conn_free_all(ek_broker *b)
{
    broker__conn_reap(b);
    while (b->linger) linger_end(b, b->linger);
}

void broker__conn_sweep(ek_broker *b, void *arg)
{
    int64_t now = ek_mono_ms();
    broker__conn *next;
    for (broker__conn *c = b->conns; c; c = next) {
        next = c->next;
        if (c->state != CONN_ACTIVE) {
            /* From the accept, not the last byte: a client trickling its handshake or CONNECT
             * byte by byte is closed all the same; one whose password is still queued for
             * checking is told the server is busy. */
            if (now - c->accepted_ms > (int64_t)b->cfg.connect_timeout * 1000) broker__conn_close(c, c->checking ? RC_BUSY : 0);
        } else if (c->keep_alive && now - c->last_rx > (int64_t)c->keep_alive * 1500) {
            broker__conn_close(c, RC_KEEP_ALIVE);
        }
    }
    if (b->listen_paused) {
        b->listen_paused = false;
        for (int i = 0; i < b->nlisteners; i++) broker__io_mod(b, &b->listeners[i]->io, EPOLLIN);
    }
    for (broker__conn *c = b->linger; c; c = next) {
        next = c->next;
        if (now - c->last_rx > LINGER_MS) linger_end(b, c);
    }
    broker__timer_arm(b, &b->sweep_timer, now + 1000);
}
