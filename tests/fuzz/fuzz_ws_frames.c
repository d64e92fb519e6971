/* libFuzzer target for the broker's WebSocket layer: the frame decoder and the HTTP upgrade of
 * broker/ws.c, and a WebSocket client connection through broker/transport.c and conn.c.
 *
 * The first input byte picks a mode (low two bits):
 *   0: the rest is a client's byte stream after the upgrade. It is decoded twice, once whole and
 *      once cut into pieces (sizes from the second byte), in place as the broker does; both must
 *      give the same MQTT bytes, the same control frames and the same verdict, and the decoder must
 *      never write past what it consumed.
 *   1: the rest is an HTTP request head: it must be answered, 101 only with a correct
 *      Sec-WebSocket-Accept and an MQTT subprotocol.
 *   2: the rest is payload cut into frames (sizes from the bytes themselves), masked and fragmented
 *      the way a client does; decoding must give the payload back exactly.
 *   3: the rest follows a valid upgrade request on a real broker connection over a socketpair (no
 *      reactor thread): frames, MQTT packets inside, pings, closes, garbage. */
#include "broker/broker_int.h"
#include "broker/ws.h"
#include "engine/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- mode 0: whole versus pieces ---- */

typedef struct trace {
    uint8_t *data;
    size_t len;
    int events[64];
    int nev;
    int verdict;
} trace;

static void run(const uint8_t *in, size_t len, const uint8_t *cuts, size_t ncuts, uint64_t max_frame, trace *t)
{
    broker__ws_rx rx = {.max_frame = max_frame};
    uint8_t *buf = malloc(len + 1);
    t->data = malloc(len + 1);
    t->len = 0;
    t->nev = 0;
    t->verdict = 0;
    size_t pos = 0, ci = 0;
    while (pos < len && t->verdict == 0) {
        size_t piece = ncuts ? (size_t)cuts[ci++ % ncuts] + 1 : len - pos;
        if (piece > len - pos) piece = len - pos;
        memcpy(buf, in + pos, piece);
        size_t off = 0, o = 0;
        while (off < piece) {
            size_t used, got;
            int ev = broker__ws_decode(&rx, buf + off, piece - off, &used, buf + o, &got);
            if (used > piece - off || o + got > off + used) abort(); /* output overtook input */
            off += used;
            o += got;
            if (ev < 0) {
                if (ev != -WS_CLOSE_PROTOCOL && ev != -WS_CLOSE_UNSUPPORTED && ev != -WS_CLOSE_TOO_BIG) abort();
                t->verdict = ev;
                break;
            }
            if (ev > 0) {
                if (rx.ctl_len > 125) abort();
                if (t->nev < 64) t->events[t->nev++] = ev * 1000 + rx.ctl_len;
            } else if (used == 0) {
                abort(); /* no progress */
            }
        }
        memcpy(t->data + t->len, buf, o);
        t->len += o;
        pos += piece;
    }
    free(buf);
}

static void mode_pieces(const uint8_t *data, size_t size)
{
    if (size < 2) return;
    uint64_t max_frame = 16 + (uint64_t)data[0] * 64;
    size_t ncuts = data[1] & 7;
    const uint8_t *cuts = data + 2;
    if (size < 2 + ncuts) return;
    const uint8_t *in = data + 2 + ncuts;
    size_t len = size - 2 - ncuts;
    trace a, b;
    run(in, len, NULL, 0, max_frame, &a);
    run(in, len, cuts, ncuts, max_frame, &b);
    if (a.verdict != b.verdict || a.len != b.len || memcmp(a.data, b.data, a.len) || a.nev != b.nev ||
        memcmp(a.events, b.events, sizeof a.events[0] * (size_t)a.nev))
        abort();
    free(a.data);
    free(b.data);
}

/* ---- mode 1: the upgrade ---- */

static void mode_handshake(const uint8_t *data, size_t size)
{
    size_t end = broker__ws_head_end(data, size);
    if (!end) end = size < WS_HEAD_MAX ? size : WS_HEAD_MAX;
    char resp[512];
    bool ok;
    size_t n = broker__ws_handshake((const char *)data, end, "/mqtt", resp, sizeof resp, &ok);
    if (n >= sizeof resp) abort();
    if (ok) {
        if (strncmp(resp, "HTTP/1.1 101 ", 13) || !strstr(resp, "Sec-WebSocket-Accept: ") ||
            (!strstr(resp, "Sec-WebSocket-Protocol: mqtt\r\n") && !strstr(resp, "Sec-WebSocket-Protocol: mqttv3.1\r\n")))
            abort();
    } else if (n == 0 || strncmp(resp, "HTTP/1.1 4", 10)) {
        abort();
    }
}

/* ---- mode 2: what a client frames comes back ---- */

static size_t client_frame(uint8_t *out, uint8_t op, bool fin, const uint8_t *p, size_t len, uint8_t seed)
{
    size_t h = broker__ws_header(out, op, len);
    if (!fin) out[0] &= 0x7f;
    out[1] |= 0x80;
    /* The mask goes after the length; the server's header has none, so move nothing: append it. */
    uint8_t mask[4] = {seed, (uint8_t)(seed * 7), (uint8_t)(seed + 13), (uint8_t)~seed};
    memcpy(out + h, mask, 4);
    for (size_t i = 0; i < len; i++) out[h + 4 + i] = p[i] ^ mask[i & 3];
    return h + 4 + len;
}

static void mode_roundtrip(const uint8_t *data, size_t size)
{
    uint8_t *wire = malloc(size * 2 + 64 * 16 + 64);
    size_t w = 0, pos = 0;
    bool in_msg = false;
    int frames = 0;
    while (pos < size && frames < 64) {
        size_t n = data[pos] % 300;
        bool fin = data[pos] & 1;
        pos++;
        if (n > size - pos) n = size - pos;
        if (data[pos - 1] % 5 == 0 && n <= 125) { /* a ping between fragments */
            w += client_frame(wire + w, WS_OP_PING, true, data + pos, n, (uint8_t)pos);
        }
        w += client_frame(wire + w, in_msg ? WS_OP_CONT : WS_OP_BIN, fin, data + pos, n, (uint8_t)pos);
        in_msg = !fin;
        frames++;
        pos += n;
    }
    broker__ws_rx rx = {.max_frame = 1024};
    uint8_t *out = malloc(w + 1);
    size_t off = 0, o = 0;
    while (off < w) {
        size_t used, got;
        int ev = broker__ws_decode(&rx, wire + off, w - off, &used, out + o, &got);
        if (ev < 0) abort();
        off += used;
        o += got;
    }
    /* The payload is every data frame's bytes, in order. */
    size_t expect = 0;
    pos = 0;
    frames = 0;
    while (pos < size && frames < 64) {
        size_t n = data[pos] % 300;
        pos++;
        if (n > size - pos) n = size - pos;
        if (memcmp(out + expect, data + pos, n)) abort();
        expect += n;
        pos += n;
        frames++;
    }
    if (expect != o) abort();
    free(out);
    free(wire);
}

/* ---- mode 3: a connection ---- */

static ek_broker *B;
static broker__listener_cfg LC;
static broker__listener L;

static void drain(int fd)
{
    char buf[65536];
    while (read(fd, buf, sizeof buf) > 0) {
    }
}

static void mode_conn(const uint8_t *data, size_t size)
{
    if (!B) {
        B = ek_calloc(1, sizeof *B);
        B->ep = B->evfd = -1;
        broker__cfg_load(&B->cfg, NULL, NULL);
        B->cfg.max_packet = 4096;
        B->cfg.max_queued = 8;
        if (broker__reactor_init(B, NULL)) abort();
        LC = (broker__listener_cfg){.websocket = true, .path = "/mqtt", .max_frame = 2048};
        L = (broker__listener){.b = B, .cfg = &LC};
    }
    int sp[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sp)) return;
    broker__conn *c = broker__conn_new(B, sp[0]);
    if (c && broker__tp_attach(c, &L) == 0) {
        static const char head[] = "GET /mqtt HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                                   "Sec-WebSocket-Protocol: mqtt\r\n\r\n";
        if (write(sp[1], head, sizeof head - 1) < 0) abort();
        size_t n = size < 60000 ? size : 60000;
        if (n && write(sp[1], data, n) < 0) abort();
        c->io.cb(&c->io, EPOLLIN);
        broker__conn_flush_all(B);
        drain(sp[1]);
        if (c->state != CONN_CLOSING) broker__conn_close(c, 0);
        broker__conn_flush_all(B);
    } else if (c) {
        broker__conn_close(c, 0);
    }
    broker__conn_free_all(B);
    drain(sp[1]);
    close(sp[1]);
    size_t k = 0;
    broker__session **gone = ek_calloc(B->sessions.len + 1, sizeof *gone);
    for (size_t i = 0; i < B->sessions.cap; i++) {
        broker__session *s = B->sessions.e[i].h ? B->sessions.e[i].val : NULL;
        if (s && !s->conn) gone[k++] = s;
    }
    for (size_t i = 0; i < k; i++) broker__session_destroy(gone[i]);
    ek_free(gone);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    switch (data[0] & 3) {
    case 0: mode_pieces(data + 1, size - 1); break;
    case 1: mode_handshake(data + 1, size - 1); break;
    case 2: mode_roundtrip(data + 1, size - 1); break;
    default: mode_conn(data + 1, size - 1); break;
    }
    return 0;
}
