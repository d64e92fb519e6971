/* WebSocket framing and upgrade for the broker's ws:// and wss:// listeners (see ws.h): pure
 * functions over bytes, so the fuzzer reaches every branch the network does.
 *
 * The invariant of the decoder: every byte of input is either part of a header (kept in rx->hdr
 * until the header is whole), payload of a control frame (kept in rx->ctl, at most 125 bytes) or
 * payload of a data frame (unmasked to out at an index no greater than its own). Nothing else is
 * buffered, so a connection's WebSocket state is a fixed 170-odd bytes whatever the frame size. */
#include "broker/ws.h"
#include "broker/packet_int.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ---- frames ---- */

/* Checks the first two header bytes and sets the header's full size; 0 or -code. */
static int header_start(broker__ws_rx *rx)
{
    uint8_t b0 = rx->hdr[0], b1 = rx->hdr[1];
    uint8_t op = b0 & 0x0f, len7 = b1 & 0x7f;
    if (b0 & 0x70) return -WS_CLOSE_PROTOCOL; /* no extension was negotiated */
    if (!(b1 & 0x80)) return -WS_CLOSE_PROTOCOL; /* clients must mask (RFC 6455 5.1) */
    switch (op) {
    case WS_OP_CLOSE: case WS_OP_PING: case WS_OP_PONG:
        if (!(b0 & 0x80) || len7 > 125) return -WS_CLOSE_PROTOCOL;
        break;
    case WS_OP_TEXT:
        return -WS_CLOSE_UNSUPPORTED; /* MQTT-6.0.0-1: binary frames only */
    case WS_OP_BIN:
        if (rx->in_msg) return -WS_CLOSE_PROTOCOL;
        break;
    case WS_OP_CONT:
        if (!rx->in_msg) return -WS_CLOSE_PROTOCOL;
        break;
    default:
        return -WS_CLOSE_PROTOCOL;
    }
    rx->need = (uint8_t)(2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + 4);
    return 0;
}

/* The header is whole: reads the length (minimal encoding required) and the mask. */
static int header_end(broker__ws_rx *rx)
{
    uint8_t len7 = rx->hdr[1] & 0x7f;
    uint64_t n = len7;
    const uint8_t *p = rx->hdr + 2;
    if (len7 == 126) {
        n = (uint64_t)p[0] << 8 | p[1];
        if (n < 126) return -WS_CLOSE_PROTOCOL;
        p += 2;
    } else if (len7 == 127) {
        n = 0;
        for (int i = 0; i < 8; i++) n = n << 8 | p[i];
        if (n >> 63 || n <= 0xffff) return -WS_CLOSE_PROTOCOL;
        p += 8;
    }
    rx->op = rx->hdr[0] & 0x0f;
    rx->fin = (rx->hdr[0] & 0x80) != 0;
    if (!(rx->op & 0x08) && n > rx->max_frame) return -WS_CLOSE_TOO_BIG;
    memcpy(rx->mask, p, 4);
    rx->mpos = 0;
    rx->left = n;
    rx->ctl_len = 0;
    rx->hlen = 0;
    rx->need = 0;
    rx->in_frame = true;
    return 0;
}

/* A frame's payload has all arrived: the event to report, or -code. */
static int frame_end(broker__ws_rx *rx)
{
    rx->in_frame = false;
    switch (rx->op) {
    case WS_OP_PING: return WS_RX_PING;
    case WS_OP_PONG: return WS_RX_PONG;
    case WS_OP_CLOSE: return broker__ws_close_code(rx->ctl, rx->ctl_len) < 0 ? -WS_CLOSE_PROTOCOL : WS_RX_CLOSE;
    default: rx->in_msg = !rx->fin; return WS_RX_MORE;
    }
}

int broker__ws_decode(broker__ws_rx *rx, const uint8_t *in, size_t len, size_t *used, uint8_t *out,
                      size_t *out_len)
{
    size_t i = 0, o = 0;
    int rc = WS_RX_MORE;
    while (i < len && rc == WS_RX_MORE) {
        if (!rx->in_frame) {
            rx->hdr[rx->hlen++] = in[i++];
            if (rx->hlen == 2) rc = header_start(rx);
            if (rc == WS_RX_MORE && rx->need && rx->hlen == rx->need) {
                rc = header_end(rx);
                if (rc == WS_RX_MORE && rx->left == 0) rc = frame_end(rx);
            }
            continue;
        }
        size_t n = len - i < rx->left ? len - i : (size_t)rx->left;
        uint8_t *dst = (rx->op & 0x08) ? rx->ctl + rx->ctl_len : out + o;
        /* Mask and position in locals: dst may alias rx, so the compiler would reload them per byte. */
        const uint8_t mask[4] = {rx->mask[0], rx->mask[1], rx->mask[2], rx->mask[3]};
        unsigned mp = rx->mpos;
        for (size_t k = 0; k < n; k++) {
            dst[k] = in[i + k] ^ mask[mp];
            mp = (mp + 1) & 3;
        }
        rx->mpos = (uint8_t)mp;
        if (rx->op & 0x08) rx->ctl_len = (uint8_t)(rx->ctl_len + n);
        else o += n;
        i += n;
        rx->left -= n;
        if (rx->left == 0) rc = frame_end(rx);
    }
    *used = i;
    *out_len = o;
    return rc;
}

size_t broker__ws_header(uint8_t hdr[10], uint8_t op, uint64_t len)
{
    hdr[0] = (uint8_t)(0x80 | (op & 0x0f));
    if (len < 126) {
        hdr[1] = (uint8_t)len;
        return 2;
    }
    if (len <= 0xffff) {
        hdr[1] = 126;
        hdr[2] = (uint8_t)(len >> 8);
        hdr[3] = (uint8_t)len;
        return 4;
    }
    hdr[1] = 127;
    for (int i = 0; i < 8; i++) hdr[2 + i] = (uint8_t)(len >> (56 - 8 * i));
    return 10;
}

int broker__ws_close_code(const uint8_t *p, size_t len)
{
    if (len == 0) return WS_CLOSE_NO_STATUS;
    if (len == 1) return -1;
    int code = p[0] << 8 | p[1];
    bool ok = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) || (code >= 3000 && code <= 4999);
    if (!ok || !broker__utf8_valid(p + 2, len - 2)) return -1;
    return code;
}

/* ---- the HTTP upgrade ---- */

size_t broker__ws_head_end(const uint8_t *buf, size_t len)
{
    for (size_t i = 3; i < len; i++)
        if (buf[i] == '\n' && buf[i - 1] == '\r' && buf[i - 2] == '\n' && buf[i - 3] == '\r') return i + 1;
    return 0;
}

void broker__ws_accept_key(const char *key, size_t klen, char out[29])
{
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    uint8_t buf[128], md[SHA_DIGEST_LENGTH];
    if (klen > sizeof buf - (sizeof guid - 1)) klen = sizeof buf - (sizeof guid - 1);
    memcpy(buf, key, klen);
    memcpy(buf + klen, guid, sizeof guid - 1);
    SHA1(buf, klen + sizeof guid - 1, md);
    EVP_EncodeBlock((unsigned char *)out, md, SHA_DIGEST_LENGTH);
}

/* A slice of the request head. */
typedef struct span {
    const char *p;
    size_t n;
} span;

static span trim(const char *p, size_t n)
{
    while (n && (*p == ' ' || *p == '\t')) p++, n--;
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t')) n--;
    return (span){p, n};
}

static bool span_is(span s, const char *lit)
{
    return s.n == strlen(lit) && strncasecmp(s.p, lit, s.n) == 0;
}

/* Calls back each comma-separated token of v (trimmed) until fn returns true; returns that. */
static bool each_token(span v, bool (*fn)(span tok, void *arg), void *arg)
{
    while (v.n) {
        const char *c = memchr(v.p, ',', v.n);
        size_t n = c ? (size_t)(c - v.p) : v.n;
        if (fn(trim(v.p, n), arg)) return true;
        v.p += c ? n + 1 : n;
        v.n -= c ? n + 1 : n;
    }
    return false;
}

static bool is_websocket(span t, void *arg) { return span_is(t, "websocket"); }
static bool is_upgrade(span t, void *arg) { return span_is(t, "upgrade"); }
static bool pick_proto(span t, void *arg)
{
    const char **proto = arg;
    if (span_is(t, "mqtt")) *proto = "mqtt";
    else if (span_is(t, "mqttv3.1")) *proto = "mqttv3.1";
    return *proto != NULL;
}

/* A Sec-WebSocket-Key: the base64 encoding of 16 bytes, so 22 characters and "==". */
static bool key_valid(span k)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (k.n != 24 || k.p[22] != '=' || k.p[23] != '=') return false;
    for (size_t i = 0; i < 22; i++)
        if (!memchr(b64, k.p[i], sizeof b64 - 1)) return false;
    return true;
}

typedef struct request {
    bool upgrade, connection, version_ok, bad;
    span key;
    const char *proto;
} request;

static void header(request *r, span name, span value)
{
    if (span_is(name, "upgrade")) r->upgrade |= each_token(value, is_websocket, NULL);
    else if (span_is(name, "connection")) r->connection |= each_token(value, is_upgrade, NULL);
    else if (span_is(name, "sec-websocket-key")) {
        if (r->key.p) r->bad = true;
        r->key = value;
    } else if (span_is(name, "sec-websocket-version")) {
        r->version_ok = value.n == 2 && memcmp(value.p, "13", 2) == 0;
    } else if (span_is(name, "sec-websocket-protocol") && !r->proto) {
        each_token(value, pick_proto, &r->proto);
    }
}

static size_t refuse(char *resp, size_t cap, int status, const char *text, const char *why, const char *extra)
{
    int n = snprintf(resp, cap,
                     "HTTP/1.1 %d %s\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                     "%s\r\n%s",
                     status, text, strlen(why), extra, why);
    return n < 0 ? 0 : (size_t)n >= cap ? cap - 1 : (size_t)n;
}

size_t broker__ws_handshake(const char *head, size_t hl, const char *path, char *resp, size_t cap, bool *ok)
{
    *ok = false;
    const char *eol = memchr(head, '\n', hl);
    if (!eol || eol == head || eol[-1] != '\r') return refuse(resp, cap, 400, "Bad Request", "bad request line\n", "");
    span line = {head, (size_t)(eol - head) - 1};
    const char *sp1 = memchr(line.p, ' ', line.n);
    const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', line.n - (size_t)(sp1 + 1 - line.p)) : NULL;
    if (!sp2) return refuse(resp, cap, 400, "Bad Request", "bad request line\n", "");
    span method = {line.p, (size_t)(sp1 - line.p)};
    span target = {sp1 + 1, (size_t)(sp2 - sp1 - 1)};
    span version = {sp2 + 1, line.n - (size_t)(sp2 + 1 - line.p)};
    if (!span_is(method, "GET")) return refuse(resp, cap, 405, "Method Not Allowed", "only GET upgrades\n", "Allow: GET\r\n");
    if (!span_is(version, "HTTP/1.1")) return refuse(resp, cap, 400, "Bad Request", "HTTP/1.1 required\n", "");
    const char *q = memchr(target.p, '?', target.n);
    if (q) target.n = (size_t)(q - target.p);
    if (target.n != strlen(path) || memcmp(target.p, path, target.n) != 0)
        return refuse(resp, cap, 404, "Not Found", "no MQTT endpoint at this path\n", "");

    request r = {0};
    const char *p = eol + 1, *end = head + hl;
    while (p < end) {
        const char *e = memchr(p, '\n', (size_t)(end - p));
        if (!e || e == p || e[-1] != '\r') { r.bad = true; break; }
        size_t n = (size_t)(e - p) - 1;
        if (n == 0) break; /* the blank line */
        const char *colon = memchr(p, ':', n);
        if (!colon || colon == p || *p == ' ' || *p == '\t') { r.bad = true; break; }
        header(&r, (span){p, (size_t)(colon - p)}, trim(colon + 1, n - (size_t)(colon + 1 - p)));
        p = e + 1;
    }
    /* The body names the requirement that failed, so the client's author knows what to fix. */
    const char *why = r.bad               ? "malformed header line, or Sec-WebSocket-Key repeated\n"
                      : !r.upgrade        ? "Upgrade: websocket header required\n"
                      : !r.connection     ? "Connection: Upgrade header required\n"
                      : !key_valid(r.key) ? "Sec-WebSocket-Key missing, or not 16 bytes in base64\n"
                                          : NULL;
    if (why) return refuse(resp, cap, 400, "Bad Request", why, "");
    if (!r.version_ok)
        return refuse(resp, cap, 426, "Upgrade Required", "WebSocket version 13 required\n", "Sec-WebSocket-Version: 13\r\n");
    if (!r.proto)
        return refuse(resp, cap, 400, "Bad Request", "subprotocol mqtt (or mqttv3.1) required\n", "");
    char accept[29];
    broker__ws_accept_key(r.key.p, r.key.n, accept);
    int n = snprintf(resp, cap,
                     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Accept: %s\r\nSec-WebSocket-Protocol: %s\r\n\r\n",
                     accept, r.proto);
    *ok = n > 0 && (size_t)n < cap;
    return *ok ? (size_t)n : 0;
}
