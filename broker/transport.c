/* The byte transports under a client connection: plain TCP, TLS (tls.c), and WebSocket (ws.c)
 * over either. conn.c reads MQTT bytes and writes its output buffer only through these functions,
 * so the packet code never knows how a client is connected.
 *
 * Two layers: the lower one moves bytes on the socket (send/read, or SSL_write/SSL_read); the
 * WebSocket layer above it answers the HTTP upgrade, decodes frames in place in the reactor's read
 * buffer (MQTT packets may be split across frames, several may share one) and frames the
 * connection's output. Output is framed only when the previous frame has left entirely, so c->out
 * keeps the backpressure meaning conn.c gives it and a frame is never interleaved with another;
 * control frames (pong, close) are appended after whole frames. */
#include "broker/broker_int.h"
#include "broker/ws.h"
#include "engine/mem.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct broker__wsconn {
    const broker__listener_cfg *cfg;
    bool open;              /* the upgrade was accepted */
    bool closing;           /* our close frame is queued: nothing more is framed */
    bool peer_closed;       /* the client's close frame arrived */
    uint16_t close_code;    /* the status our close frame carries; 0 = 1000 */
    broker__ws_rx rx;
    uint8_t *hs;            /* the request head, while the upgrade is under way */
    size_t hs_len;
    uint8_t *out;           /* transport bytes for the lower layer */
    size_t out_len, out_off, out_cap;
};

int broker__tp_attach(broker__conn *c, const broker__listener *l)
{
    if (l->ssl_ctx && !(c->tls = broker__tls_new(l->ssl_ctx, c->io.fd))) return EK_EIO;
    if (l->cfg->websocket) {
        c->ws = ek_calloc(1, sizeof *c->ws);
        c->ws->cfg = l->cfg;
        c->ws->rx.max_frame = l->cfg->max_frame ? l->cfg->max_frame : c->b->cfg.max_packet;
    }
    return 0;
}

/* ---- the lower layer ---- */

static long lower_read(broker__conn *c, uint8_t *buf, size_t cap, bool *more)
{
    if (c->tls) return broker__tls_read(c, buf, cap, more);
    for (;;) {
        ssize_t n = read(c->io.fd, buf, cap);
        if (n > 0) {
            *more = (size_t)n == cap;
            return n;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return TP_AGAIN;
        return TP_CLOSED;
    }
}

static long lower_write(broker__conn *c, const uint8_t *buf, size_t len)
{
    if (c->tls) return broker__tls_write(c, buf, len);
    for (;;) {
        ssize_t n = send(c->io.fd, buf, len, MSG_NOSIGNAL);
        if (n >= 0) return n;
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return TP_AGAIN;
        return TP_CLOSED;
    }
}

/* Writes buf[*off..len) through the lower layer: 1 all written, 0 pushed back, -1 error. */
static int write_all(broker__conn *c, const uint8_t *buf, size_t *off, size_t len)
{
    while (*off < len) {
        long n = lower_write(c, buf + *off, len - *off);
        if (n == TP_AGAIN) return 0;
        if (n < 0) return -1;
        *off += (size_t)n;
        c->b->st.bytes_tx += (uint64_t)n;
        c->bytes_out += (uint64_t)n;
    }
    return 1;
}

/* ---- WebSocket ---- */

static uint8_t *ws_reserve(broker__wsconn *w, size_t n)
{
    if (w->out_off == w->out_len) w->out_off = w->out_len = 0;
    if (w->out_len + n > w->out_cap) {
        size_t cap = w->out_cap ? w->out_cap : 1024;
        while (cap < w->out_len + n) cap *= 2;
        w->out = ek_realloc(w->out, cap);
        w->out_cap = cap;
    }
    uint8_t *p = w->out + w->out_len;
    w->out_len += n;
    return p;
}

static void ws_frame(broker__conn *c, uint8_t op, const uint8_t *payload, size_t len)
{
    uint8_t hdr[10];
    size_t hl = broker__ws_header(hdr, op, len);
    uint8_t *p = ws_reserve(c->ws, hl + len);
    memcpy(p, hdr, hl);
    if (len) memcpy(p + hl, payload, len);
    broker__conn_want_flush(c);
}

/* Moves the connection's pending MQTT bytes into one binary frame. */
static void ws_wrap(broker__conn *c)
{
    if (c->out_off == c->out_len) return;
    ws_frame(c, WS_OP_BIN, c->out + c->out_off, c->out_len - c->out_off);
    c->out_off = c->out_len;
}

static void ws_close_frame(broker__conn *c, int code)
{
    uint8_t p[2] = {(uint8_t)(code >> 8), (uint8_t)code};
    ws_frame(c, WS_OP_CLOSE, p, code == WS_CLOSE_NO_STATUS ? 0 : 2);
    c->ws->closing = true;
}

/* A protocol violation: close with code (the MQTT reason follows it for MQTT 5 clients). */
static long ws_fail(broker__conn *c, int code)
{
    c->ws->close_code = (uint16_t)code;
    broker__conn_close(c, code == WS_CLOSE_TOO_BIG ? RC_TOO_LARGE : RC_PROTOCOL);
    return TP_CLOSED;
}

/* Collects the request head; answers it once whole. Returns the bytes of buf it used, or TP_CLOSED. */
static long ws_upgrade(broker__conn *c, const uint8_t *buf, size_t n)
{
    broker__wsconn *w = c->ws;
    if (!w->hs) w->hs = ek_malloc(WS_HEAD_MAX);
    size_t old = w->hs_len, take = n < WS_HEAD_MAX - old ? n : WS_HEAD_MAX - old;
    memcpy(w->hs + old, buf, take);
    w->hs_len += take;
    size_t from = old > 3 ? old - 3 : 0;
    size_t end = broker__ws_head_end(w->hs + from, w->hs_len - from);
    char resp[512];
    bool ok = false;
    size_t rl;
    if (end) {
        end += from;
        rl = broker__ws_handshake((const char *)w->hs, end, w->cfg->path, resp, sizeof resp, &ok);
    } else if (w->hs_len == WS_HEAD_MAX) {
        rl = (size_t)snprintf(resp, sizeof resp, "HTTP/1.1 431 Request Header Fields Too Large\r\n"
                                                 "Connection: close\r\nContent-Length: 0\r\n\r\n");
    } else {
        return (long)n;
    }
    memcpy(ws_reserve(w, rl), resp, rl);
    broker__conn_want_flush(c);
    ek_free(w->hs);
    w->hs = NULL;
    w->hs_len = 0;
    if (!ok) {
        broker__conn_close(c, 0);
        return TP_CLOSED;
    }
    w->open = true;
    return (long)(end - old);
}

/* Decodes the frames in buf[off..n) in place; returns the MQTT bytes now at buf[0..), or TP_CLOSED. */
static long ws_input(broker__conn *c, uint8_t *buf, size_t n)
{
    broker__wsconn *w = c->ws;
    size_t off = 0, o = 0;
    if (!w->open) {
        long used = ws_upgrade(c, buf, n);
        if (used < 0) return used;
        off = (size_t)used;
    }
    while (off < n && !w->peer_closed) {
        size_t used, got;
        int ev = broker__ws_decode(&w->rx, buf + off, n - off, &used, buf + o, &got);
        off += used;
        o += got;
        if (ev < 0) return ws_fail(c, -ev);
        if (ev == WS_RX_PING) {
            ws_frame(c, WS_OP_PONG, w->rx.ctl, w->rx.ctl_len);
        } else if (ev == WS_RX_CLOSE) {
            /* Echo the code; the connection closes once the packets before it are handled. */
            w->peer_closed = true;
            ws_wrap(c);
            ws_close_frame(c, broker__ws_close_code(w->rx.ctl, w->rx.ctl_len));
        }
    }
    return (long)o;
}

/* ---- the connection's transport ---- */

long broker__tp_read(broker__conn *c, uint8_t *buf, size_t cap, bool *more)
{
    *more = false;
    if (c->ws && c->ws->peer_closed) return TP_CLOSED;
    long n = lower_read(c, buf, cap, more);
    if (n <= 0) return n;
    c->b->st.bytes_rx += (uint64_t)n;
    return c->ws ? ws_input(c, buf, (size_t)n) : n;
}

int broker__tp_flush(broker__conn *c)
{
    broker__wsconn *w = c->ws;
    if (!w) return write_all(c, c->out, &c->out_off, c->out_len);
    for (;;) {
        if (w->out_off == w->out_len) {
            if (!w->open || w->closing) c->out_off = c->out_len; /* nothing may follow a close */
            else ws_wrap(c);
        }
        if (w->out_off == w->out_len) return 1;
        int r = write_all(c, w->out, &w->out_off, w->out_len);
        if (r <= 0) return r;
        if (w->out_cap > 64 * 1024) { /* an idle client holds no large buffer */
            ek_free(w->out);
            w->out = NULL;
            w->out_cap = w->out_len = w->out_off = 0;
        }
    }
}

size_t broker__tp_pending(const broker__conn *c)
{
    return c->ws ? c->ws->out_len - c->ws->out_off : 0;
}

void broker__tp_closing(broker__conn *c)
{
    broker__wsconn *w = c->ws;
    if (!w || !w->open || w->closing) return;
    ws_wrap(c);
    ws_close_frame(c, w->close_code ? w->close_code : WS_CLOSE_NORMAL);
}

bool broker__tp_peer_closed(const broker__conn *c)
{
    return c->ws && c->ws->peer_closed;
}

void broker__tp_shutdown(broker__conn *c)
{
    if (c->tls) broker__tls_shutdown(c->tls);
    shutdown(c->io.fd, SHUT_WR);
}

void broker__tp_free(broker__conn *c)
{
    if (c->tls) {
        broker__tls_shutdown(c->tls);
        broker__tls_free(c->tls);
        c->tls = NULL;
    }
    if (c->ws) {
        ek_free(c->ws->hs);
        ek_free(c->ws->out);
        ek_free(c->ws);
        c->ws = NULL;
    }
}
