/* libFuzzer target for the broker's MQTT decoder (broker/packet.c), and for what the broker does
 * with whatever the decoder accepts.
 *
 * The first input byte picks a mode. Below 0x80, its low two bits pick the protocol version in
 * effect (0: before CONNECT, 3, 4 or 5) and the rest is framed and decoded like bytes from a
 * socket; a packet that decodes is encoded again and decoded again, and both decodings must agree.
 * From 0x80 up, the rest is the byte stream of one client connection, read by a real broker
 * connection (without the reactor thread) over a socketpair: CONNECT, SUBSCRIBE, PUBLISH, acks,
 * topic aliases, wills, retained messages, all routed to a subscriber of "#". Sessions left over
 * are destroyed after each input, so inputs do not accumulate state. */
#include "broker/broker_int.h"
#include "engine/mem.h"

#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static void check_same(const broker__pkt *a, const broker__pkt *b)
{
    if (a->type != b->type || a->id != b->id || a->qos != b->qos || a->retain != b->retain ||
        a->topic.len != b->topic.len || a->payload.len != b->payload.len || a->count != b->count ||
        a->props.has != b->props.has || a->props.nuser != b->props.nuser)
        abort();
    if (a->payload.len && memcmp(a->payload.p, b->payload.p, a->payload.len)) abort();
}

static void codec(const uint8_t *data, size_t size, uint8_t v)
{
    while (size) {
        uint32_t hdr;
        long total = broker__pkt_frame(data, size, &hdr);
        if (total <= 0 || (size_t)total > size) return;
        broker__pkt p;
        if (broker__pkt_decode(data, (size_t)total, v, &p) == 0) {
            if (p.type == BROKER_CONNECT) v = p.version;
            uint32_t pos = 0;
            broker__bin f;
            uint8_t o;
            while (broker__pkt_next_filter(&p, &pos, &f, &o)) broker__filter_valid(f.p, f.len);
            /* Re-encode with the user properties carried as raw bytes. */
            size_t ulen = broker__props_filter(p.props.raw, 1ull << BP_USER, NULL);
            uint8_t *user = malloc(ulen + 1);
            broker__props_filter(p.props.raw, 1ull << BP_USER, user);
            p.props.extra = (broker__bin){user, (uint32_t)ulen};
            uint8_t ev = p.version ? p.version : v;
            size_t wlen = broker__pkt_len(&p, ev);
            uint8_t *w = malloc(wlen);
            if (broker__pkt_write(&p, ev, w) != wlen) abort();
            if (p.type != BROKER_CONNECT || !p.will) {
                broker__pkt q;
                if (broker__pkt_decode(w, wlen, p.type == BROKER_CONNECT ? 0 : v, &q) == 0) check_same(&p, &q);
            }
            free(w);
            free(user);
        }
        data += total;
        size -= (size_t)total;
    }
}

/* ---- the stateful mode ---- */

static ek_broker *B;
static int sub_peer = -1;

static void drain(int fd)
{
    char buf[65536];
    while (read(fd, buf, sizeof buf) > 0) {
    }
}

static void feed(broker__conn *c, int peer, const uint8_t *data, size_t size)
{
    if (size && write(peer, data, size) < 0) return;
    c->io.cb(&c->io, EPOLLIN);
    broker__conn_flush_all(B);
}

static void setup(void)
{
    B = ek_calloc(1, sizeof *B);
    B->ep = B->evfd = -1;
    broker__cfg_load(&B->cfg, NULL, NULL);
    B->cfg.max_queued = 8;
    B->cfg.max_retained = 64;
    B->cfg.max_packet = 8192;
    if (broker__reactor_init(B, NULL)) abort();
    int sp[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sp)) abort();
    broker__conn *s = broker__conn_new(B, sp[0]);
    static const uint8_t hello[] = {
        0x10, 0x10, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x02, 0x00, 0x00, 0x00, 0x00, 0x03, 's', 'u', 'b',
        0x82, 0x0b, 0x00, 0x01, 0x02, 0x0b, 0x07, 0x00, 0x01, '#', 0x2a, 0x00, 0x00,
    };
    feed(s, sp[1], hello, sizeof hello - 2);
    sub_peer = sp[1];
}

static void session_mode(const uint8_t *data, size_t size)
{
    if (!B) setup();
    int sp[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sp)) return;
    broker__conn *c = broker__conn_new(B, sp[0]);
    if (c) {
        feed(c, sp[1], data, size < 100000 ? size : 100000);
        if (c->state != CONN_CLOSING) broker__conn_close(c, 0);
        broker__conn_flush_all(B);
    }
    broker__conn_free_all(B);
    drain(sp[1]);
    close(sp[1]);
    drain(sub_peer);
    /* Forget every session but the subscriber's. */
    size_t n = 0;
    broker__session **gone = ek_calloc(B->sessions.len + 1, sizeof *gone);
    for (size_t i = 0; i < B->sessions.cap; i++) {
        broker__session *s = B->sessions.e[i].h ? B->sessions.e[i].val : NULL;
        if (s && !s->conn) gone[n++] = s;
    }
    for (size_t i = 0; i < n; i++) broker__session_destroy(gone[i]);
    ek_free(gone);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    if (data[0] & 0x80) {
        session_mode(data + 1, size - 1);
        return 0;
    }
    static const uint8_t versions[4] = {0, 3, 4, 5};
    codec(data + 1, size - 1, versions[data[0] & 3]);
    return 0;
}
