/* Unit tests for the broker's WebSocket layer (broker/ws.c) and the configuration of its
 * transports (listeners with tls/websocket, bridges): frames decoded whole, byte by byte and in
 * place; every protocol violation with its close code; the upgrade's answers; the RFC 6455 example
 * key; and configuration errors that name the key. */
#include "broker/broker_int.h"
#include "broker/ws.h"
#include "tests/unit/test_util.h"

#include <string.h>

/* A masked client frame of payload p into out; returns its size. */
static size_t cframe(uint8_t *out, uint8_t b0, const void *p, size_t len)
{
    static const uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};
    size_t h = broker__ws_header(out, b0 & 0x0f, len);
    out[0] = b0;
    out[1] |= 0x80;
    memcpy(out + h, mask, 4);
    for (size_t i = 0; i < len; i++) out[h + 4 + i] = ((const uint8_t *)p)[i] ^ mask[i & 3];
    return h + 4 + len;
}

/* Decodes all of in (len bytes) in steps of `step` bytes; returns the last result, output in out. */
static int decode(const uint8_t *in, size_t len, size_t step, uint64_t max, uint8_t *out, size_t *olen, int *events)
{
    broker__ws_rx rx = {.max_frame = max};
    size_t pos = 0, o = 0;
    int rc = 0, nev = 0;
    while (pos < len) {
        size_t n = len - pos < step ? len - pos : step, off = 0;
        while (off < n) {
            size_t used, got;
            rc = broker__ws_decode(&rx, in + pos + off, n - off, &used, out + o, &got);
            off += used;
            o += got;
            if (rc < 0) goto out;
            if (rc > 0) nev++;
        }
        pos += n;
    }
out:
    *olen = o;
    if (events) *events = nev;
    return rc;
}

static void test_frames(void)
{
    uint8_t wire[300000], out[300000];
    size_t w = 0, olen;
    w += cframe(wire + w, 0x82, "hello", 5);
    w += cframe(wire + w, 0x02, " wor", 4);               /* first fragment */
    w += cframe(wire + w, 0x89, "ping!", 5);              /* a ping between fragments */
    w += cframe(wire + w, 0x80, "ld", 2);                 /* last continuation */
    static uint8_t big[70000];
    memset(big, 'b', sizeof big);
    w += cframe(wire + w, 0x82, big, sizeof big);         /* 64-bit length */
    w += cframe(wire + w, 0x82, big, 300);                /* 16-bit length */
    int nev;
    const size_t steps[] = {1, 3, 7, sizeof wire};
    for (size_t i = 0; i < 4; i++) {
        CU_ASSERT_EQUAL(decode(wire, w, steps[i], 100000, out, &olen, &nev), WS_RX_MORE);
        CU_ASSERT_EQUAL(olen, 11 + sizeof big + 300);
        CU_ASSERT_EQUAL(memcmp(out, "hello world", 11), 0);
        CU_ASSERT_EQUAL(memcmp(out + 11, big, sizeof big), 0);
        CU_ASSERT_EQUAL(nev, 1);
    }
    /* In place, as the broker decodes. */
    memcpy(out, wire, w);
    CU_ASSERT_EQUAL(decode(out, w, w, 100000, out, &olen, NULL), WS_RX_MORE);
    CU_ASSERT_EQUAL(memcmp(out, "hello world", 11), 0);
}

static void test_control_frames(void)
{
    uint8_t wire[64];
    broker__ws_rx rx = {.max_frame = 100};
    size_t w = cframe(wire, 0x89, "abc", 3), used, got;
    w += cframe(wire + w, 0x88, "\x03\xe8" "bye", 5);
    uint8_t out[64];
    CU_ASSERT_EQUAL(broker__ws_decode(&rx, wire, w, &used, out, &got), WS_RX_PING);
    CU_ASSERT_EQUAL(rx.ctl_len, 3);
    CU_ASSERT_EQUAL(memcmp(rx.ctl, "abc", 3), 0);
    size_t off = used;
    CU_ASSERT_EQUAL(broker__ws_decode(&rx, wire + off, w - off, &used, out, &got), WS_RX_CLOSE);
    CU_ASSERT_EQUAL(broker__ws_close_code(rx.ctl, rx.ctl_len), 1000);
    CU_ASSERT_EQUAL(broker__ws_close_code(NULL, 0), WS_CLOSE_NO_STATUS);
    CU_ASSERT_EQUAL(broker__ws_close_code((const uint8_t *)"\x0f\xa0", 2), 4000);
    CU_ASSERT_EQUAL(broker__ws_close_code((const uint8_t *)"\x03\xe8\xff", 3), -1); /* reason not UTF-8 */
    CU_ASSERT_EQUAL(broker__ws_close_code((const uint8_t *)"\x03\xed", 2), -1);     /* 1005 is never sent */
    CU_ASSERT_EQUAL(broker__ws_close_code((const uint8_t *)"\x03\xe7", 2), -1);     /* 999 */
}

static void test_violations(void)
{
    static const struct {
        const char *name;
        uint8_t bytes[16];
        size_t len;
        int expect;
    } cases[] = {
        {"unmasked", {0x82, 0x01, 'x'}, 3, -1002},
        {"text", {0x81, 0x80, 0, 0, 0, 0}, 6, -1003},
        {"reserved bit", {0xc2, 0x80, 0, 0, 0, 0}, 6, -1002},
        {"unknown opcode", {0x83, 0x80, 0, 0, 0, 0}, 6, -1002},
        {"continuation first", {0x80, 0x80, 0, 0, 0, 0}, 6, -1002},
        {"fragmented ping", {0x09, 0x80, 0, 0, 0, 0}, 6, -1002},
        {"ping of 126", {0x89, 0xfe, 0x00, 0x7e}, 4, -1002},
        {"16-bit length under 126", {0x82, 0xfe, 0x00, 0x10, 1, 2, 3, 4}, 8, -1002},
        {"64-bit length under 65536", {0x82, 0xff, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4}, 14, -1002},
        {"64-bit length top bit", {0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4}, 14, -1002},
        {"over max_frame", {0x82, 0xfe, 0x04, 0x01, 1, 2, 3, 4}, 8, -1009},
        {"one-byte close", {0x88, 0x81, 0, 0, 0, 0, 0x03}, 7, -1002},
        {"binary inside a fragmented message", {0x02, 0x80, 0, 0, 0, 0, 0x82, 0x80, 0, 0, 0, 0}, 12, -1002},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t out[16];
        size_t olen;
        int rc = decode(cases[i].bytes, cases[i].len, 1, 1024, out, &olen, NULL);
        if (rc != cases[i].expect) fprintf(stderr, "case %s: %d\n", cases[i].name, rc);
        CU_ASSERT_EQUAL(rc, cases[i].expect);
    }
}

static void test_header_encoding(void)
{
    uint8_t h[10];
    CU_ASSERT_EQUAL(broker__ws_header(h, WS_OP_BIN, 125), 2);
    CU_ASSERT(h[0] == 0x82 && h[1] == 125);
    CU_ASSERT_EQUAL(broker__ws_header(h, WS_OP_BIN, 126), 4);
    CU_ASSERT(h[1] == 126 && h[2] == 0 && h[3] == 126);
    CU_ASSERT_EQUAL(broker__ws_header(h, WS_OP_CLOSE, 65536), 10);
    CU_ASSERT(h[0] == 0x88 && h[1] == 127 && h[7] == 1 && h[8] == 0 && h[9] == 0);
}

static size_t answer(const char *req, char *resp, bool *ok)
{
    return broker__ws_handshake(req, strlen(req), "/mqtt", resp, 512, ok);
}

static void test_upgrade(void)
{
    char out[29], resp[512];
    broker__ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", 24, out); /* RFC 6455 section 1.3 */
    CU_ASSERT_STRING_EQUAL(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    bool ok;
    const char *good = "GET /mqtt?x=1 HTTP/1.1\r\nHost: h\r\nUpgrade: WebSocket\r\nConnection: keep-alive, Upgrade\r\n"
                       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                       "Sec-WebSocket-Protocol: chat, mqttv3.1, mqtt\r\n\r\n";
    CU_ASSERT_EQUAL(broker__ws_head_end((const uint8_t *)good, strlen(good)), strlen(good));
    CU_ASSERT_EQUAL(broker__ws_head_end((const uint8_t *)good, strlen(good) - 1), 0);
    CU_ASSERT(answer(good, resp, &ok) > 0 && ok);
    CU_ASSERT_PTR_NOT_NULL(strstr(resp, "HTTP/1.1 101 Switching Protocols\r\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(resp, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(resp, "Sec-WebSocket-Protocol: mqttv3.1\r\n")); /* the client's first */
    static const struct {
        const char *req, *status;
    } bad[] = {
        {"GET /other HTTP/1.1\r\nUpgrade: websocket\r\n\r\n", "HTTP/1.1 404"},
        {"POST /mqtt HTTP/1.1\r\n\r\n", "HTTP/1.1 405"},
        {"GET /mqtt HTTP/1.0\r\n\r\n", "HTTP/1.1 400"},
        {"GET /mqtt HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: short\r\n"
         "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n", "HTTP/1.1 400"},
        {"GET /mqtt HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
         "Sec-WebSocket-Version: 8\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n", "HTTP/1.1 426"},
        {"GET /mqtt HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
         "Sec-WebSocket-Version: 13\r\n\r\n", "HTTP/1.1 400"},
        {"GET /mqtt HTTP/1.1\r\nno colon here\r\n\r\n", "HTTP/1.1 400"},
        {"GET /mqtt HTTP/1.1\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
         "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n", "HTTP/1.1 400"},
        {"garbage\r\n\r\n", "HTTP/1.1 400"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t n = answer(bad[i].req, resp, &ok);
        CU_ASSERT(n > 0 && !ok);
        CU_ASSERT_EQUAL(strncmp(resp, bad[i].status, strlen(bad[i].status)), 0);
    }
    CU_ASSERT_PTR_NOT_NULL(strstr(resp, "Connection: close"));
    answer(bad[3].req, resp, &ok); /* the body says which requirement failed */
    CU_ASSERT_PTR_NOT_NULL(strstr(resp, "\r\n\r\nSec-WebSocket-Key missing, or not 16 bytes in base64\n"));
    answer(bad[7].req, resp, &ok);
    CU_ASSERT_PTR_NOT_NULL(strstr(resp, "\r\n\r\nUpgrade: websocket header required\n"));
}

static ek_value listener_obj(int port, bool ws, const char *cert, const char *key, bool verify, const char *ca)
{
    ek_value l = ek_object_new(4);
    if (port) ek_object_set(&l, "port", ek_int(port));
    if (ws) ek_object_set(&l, "websocket", ek_bool(true));
    if (cert || key) {
        ek_value t = ek_object_new(4);
        if (cert) ek_object_set(&t, "certfile", ek_string(cert));
        if (key) ek_object_set(&t, "keyfile", ek_string(key));
        if (ca) ek_object_set(&t, "caFile", ek_string(ca));
        if (verify) ek_object_set(&t, "verifyPeer", ek_bool(true));
        ek_object_set(&l, "tls", t);
    }
    return l;
}

static int load_listeners(ek_value *items, size_t n, broker__cfg *c, ek_err *err)
{
    ek_value sec = ek_object_new(1), ls = ek_array_new(n);
    for (size_t i = 0; i < n; i++) ek_array_push(&ls, items[i]);
    ek_object_set(&sec, "listeners", ls);
    int rc = broker__cfg_load(c, &sec, err);
    ek_value_unref(&sec);
    return rc;
}

static void test_listener_config(void)
{
    ek_value ls[4] = {listener_obj(0, true, NULL, NULL, false, NULL), listener_obj(0, false, "c.pem", "k.pem", false, NULL),
                      listener_obj(0, true, "c.pem", "k.pem", true, "ca.pem"), listener_obj(1999, false, NULL, NULL, false, NULL)};
    broker__cfg c;
    ek_err err = {0};
    CU_ASSERT_EQUAL_FATAL(load_listeners(ls, 4, &c, &err), 0);
    CU_ASSERT_EQUAL(c.nlisteners, 4);
    CU_ASSERT(c.listeners[0].websocket && !c.listeners[0].tls && c.listeners[0].port == 8083);
    CU_ASSERT_STRING_EQUAL(c.listeners[0].path, "/mqtt");
    CU_ASSERT(!c.listeners[1].websocket && c.listeners[1].tls && c.listeners[1].port == 8883);
    CU_ASSERT_STRING_EQUAL(c.listeners[1].tlsc.certfile, "c.pem");
    CU_ASSERT_EQUAL(c.listeners[1].tlsc.min_version, 12);
    CU_ASSERT(c.listeners[2].websocket && c.listeners[2].tls && c.listeners[2].port == 8084);
    CU_ASSERT(c.listeners[2].tlsc.verify_peer && !c.listeners[2].tlsc.fail_if_no_cert);
    CU_ASSERT_STRING_EQUAL(c.listeners[2].tlsc.cafile, "ca.pem");
    CU_ASSERT_EQUAL(c.listeners[3].port, 1999);
    broker__cfg_free(&c);

    static const char *expect[] = {"broker.listeners[0].tls: certfile and keyfile are required",
                                   "broker.listeners[0].tls: verifyPeer needs cafile"};
    ek_value one[1] = {listener_obj(0, false, "c.pem", NULL, false, NULL)};
    CU_ASSERT_EQUAL(load_listeners(one, 1, &c, &err), EK_ECONF);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, expect[0]));
    broker__cfg_free(&c);
    one[0] = listener_obj(0, false, "c.pem", "k.pem", true, NULL);
    CU_ASSERT_EQUAL(load_listeners(one, 1, &c, &err), EK_ECONF);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, expect[1]));
    broker__cfg_free(&c);
    one[0] = listener_obj(0, true, NULL, NULL, false, NULL);
    ek_object_set(&one[0], "path", ek_string("mqtt"));
    CU_ASSERT_EQUAL(load_listeners(one, 1, &c, &err), EK_ECONF);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "broker.listeners[0].path"));
    broker__cfg_free(&c);
}

/* A bridges: list of one bridge built from its pieces. */
static int load_bridge(const char *name, const char *server, const char *filter, bool twice, broker__cfg *c, ek_err *err)
{
    ek_value sec = ek_object_new(1), list = ek_array_new(2);
    for (int i = 0; i < (twice ? 2 : 1); i++) {
        ek_value br = ek_object_new(4), fwd = ek_array_new(1), rule = ek_object_new(2);
        if (name) ek_object_set(&br, "name", ek_string(name));
        if (server) ek_object_set(&br, "server", ek_string(server));
        ek_object_set(&rule, "local", ek_string(filter));
        ek_object_set(&rule, "remotePrefix", ek_string("edge/"));
        ek_array_push(&fwd, rule);
        ek_object_set(&br, "forward", fwd);
        ek_array_push(&list, br);
    }
    ek_object_set(&sec, "bridges", list);
    int rc = broker__cfg_load(c, &sec, err);
    ek_value_unref(&sec);
    return rc;
}

static void test_bridge_config(void)
{
    broker__cfg c;
    ek_err err = {0};
    CU_ASSERT_EQUAL(load_bridge("cloud", "tcp://127.0.0.1:1883", "a/#", false, &c, &err), 0);
    CU_ASSERT_EQUAL(c.nbridges, 1);
    broker__cfg_free(&c);
    static const struct {
        const char *name, *server, *filter;
        bool twice;
        const char *expect;
    } bad[] = {
        {NULL, "tcp://h:1", "a/#", false, "broker.bridges[0].name: required"},
        {"x", NULL, "a/#", false, "broker.bridges[0].server: required"},
        {"x", "http://h:1", "a/#", false, "broker.bridges[0].server: expected tcp://"},
        {"x y", "tcp://h:1", "a/#", false, "broker.bridges[0].name: letters"},
        {"x", "tcp://h:1", "a/#/b", false, "broker.bridges[0].forward[0]: invalid topic filter"},
        {"x", "tcp://h:1", "a/#", true, "broker.bridges[1].name: \"x\" is used twice"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CU_ASSERT_EQUAL(load_bridge(bad[i].name, bad[i].server, bad[i].filter, bad[i].twice, &c, &err), EK_ECONF);
        if (!strstr(err.msg, bad[i].expect)) fprintf(stderr, "got: %s\n", err.msg);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, bad[i].expect));
        broker__cfg_free(&c);
    }
}

void ek_register_tests(void)
{
    static const ek_test_case cases[] = {
        {"frames whole, in pieces and in place", test_frames},
        {"ping and close frames", test_control_frames},
        {"protocol violations and their close codes", test_violations},
        {"server frame headers", test_header_encoding},
        {"the HTTP upgrade", test_upgrade},
        {"tls and websocket listeners", test_listener_config},
        {"bridges", test_bridge_config},
        {NULL, NULL},
    };
    ek_add_suite("broker_ws", cases);
}
