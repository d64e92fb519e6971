/* End-to-end tests of the broker's sessions and flows, against a broker started in-process on
 * 127.0.0.1 with port 0, driven by raw TCP clients that speak through the broker's own codec:
 * QoS 0/1/2 flows, the in-flight window (Receive Maximum), offline queues with drop-oldest, DUP
 * redelivery after reconnect, session takeover (0x8E), wills, retained messages, topic aliases,
 * malformed and oversized packets (closing only that connection with 0x81/0x95), keep alive,
 * in-process publish/subscribe and persistence across a restart. Every wait is bounded. */
#include "broker/broker_int.h"
#include "engine/mem.h"
#include "tests/unit/test_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BIN(s) ((broker__bin){(const uint8_t *)(s), (uint32_t)strlen(s)})

/* ---- a broker per test ---- */

static ek_broker *start_with(ek_value sec, const char *yaml_like[], const char *data_dir);

static ek_broker *start(const char *yaml_like[], const char *data_dir)
{
    return start_with(ek_object_new(8), yaml_like, data_dir);
}

static ek_broker *start_with(ek_value sec, const char *yaml_like[], const char *data_dir)
{
    ek_object_set(&sec, "bind", ek_string("127.0.0.1"));
    ek_object_set(&sec, "port", ek_int(0));
    ek_object_set(&sec, "sysInterval", ek_int(0));
    for (int i = 0; yaml_like && yaml_like[i]; i += 2) ek_object_set(&sec, yaml_like[i], ek_int(atoi(yaml_like[i + 1])));
    ek_broker *b = NULL;
    ek_err err = {0};
    int rc = ek_broker_start(&sec, data_dir, &b, &err);
    if (rc) fprintf(stderr, "start: %s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    ek_value_unref(&sec);
    return b;
}

/* ---- a raw client ---- */

typedef struct cli {
    int fd;
    uint8_t v;
    uint8_t buf[1 << 16];
    size_t len, used;
} cli;

static cli *cli_open(ek_broker *b)
{
    cli *c = ek_calloc(1, sizeof *c);
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)ek_broker_port(b))};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    CU_ASSERT_EQUAL_FATAL(connect(c->fd, (struct sockaddr *)&sa, sizeof sa), 0);
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return c;
}

static void cli_close(cli *c)
{
    if (!c) return;
    close(c->fd);
    ek_free(c);
}

static void cli_raw(cli *c, const void *p, size_t n)
{
    CU_ASSERT_EQUAL((size_t)write(c->fd, p, n), n);
}

static void cli_send(cli *c, const broker__pkt *p)
{
    uint8_t tmp[70000];
    size_t n = broker__pkt_write(p, c->v, tmp);
    cli_raw(c, tmp, n);
}

/* Receives one packet within ms; returns 0, -1 on timeout, -2 when the broker closed. p holds
 * views into c->buf, valid until the next call. */
static int cli_recv(cli *c, broker__pkt *p, int ms)
{
    if (c->used) {
        memmove(c->buf, c->buf + c->used, c->len - c->used);
        c->len -= c->used;
        c->used = 0;
    }
    for (;;) {
        uint32_t hdr;
        long total = broker__pkt_frame(c->buf, c->len, &hdr);
        if (total > 0 && (size_t)total <= c->len) {
            int rc = broker__pkt_decode(c->buf, (size_t)total, c->v, p);
            CU_ASSERT_EQUAL(rc, 0);
            c->used = (size_t)total;
            return 0;
        }
        struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
        if (poll(&pfd, 1, ms) <= 0) return -1;
        ssize_t n = read(c->fd, c->buf + c->len, sizeof c->buf - c->len);
        if (n <= 0) return -2;
        c->len += (size_t)n;
    }
}

static int expect(cli *c, uint8_t type, broker__pkt *p)
{
    int rc = cli_recv(c, p, 2000);
    CU_ASSERT_EQUAL(rc, 0);
    if (rc == 0 && p->type != type) fprintf(stderr, "\n  expected packet %d, got %d", type, p->type);
    CU_ASSERT_EQUAL(rc == 0 ? p->type : 0, type);
    return rc;
}

typedef struct copts {
    const char *id;
    uint8_t v;
    bool clean;
    uint16_t keep_alive, recv_max;
    uint32_t expiry;
    const char *will_topic;
    uint32_t will_delay;
    const char *user, *pass;
    uint8_t expect; /* CONNACK reason expected */
} copts;

static cli *cli_connect(ek_broker *b, copts o, bool *present)
{
    cli *c = cli_open(b);
    c->v = o.v ? o.v : 5;
    broker__pkt p = {.type = BROKER_CONNECT, .clean = o.clean, .keep_alive = o.keep_alive};
    p.client_id = BIN(o.id ? o.id : "");
    if (c->v == 5 && o.expiry) {
        BP_SET(&p.props, BP_SESSION_EXPIRY);
        p.props.session_expiry = o.expiry;
    }
    if (c->v == 5 && o.recv_max) {
        BP_SET(&p.props, BP_RECEIVE_MAX);
        p.props.receive_max = o.recv_max;
    }
    if (o.will_topic) {
        p.will = true;
        p.will_topic = BIN(o.will_topic);
        p.will_payload = BIN("gone");
        if (o.will_delay) {
            BP_SET(&p.will_props, BP_WILL_DELAY);
            p.will_props.will_delay = o.will_delay;
        }
    }
    if (o.user) {
        p.has_user = true;
        p.username = BIN(o.user);
    }
    if (o.pass) {
        p.has_pass = true;
        p.password = BIN(o.pass);
    }
    cli_send(c, &p);
    broker__pkt a;
    expect(c, BROKER_CONNACK, &a);
    CU_ASSERT_EQUAL(a.reason, o.expect);
    if (present) *present = a.session_present;
    return c;
}

static void subscribe(cli *c, const char *filter, uint8_t opts, uint32_t subid)
{
    uint8_t list[300];
    size_t fl = strlen(filter);
    list[0] = (uint8_t)(fl >> 8);
    list[1] = (uint8_t)fl;
    memcpy(list + 2, filter, fl);
    list[2 + fl] = opts;
    broker__pkt p = {.type = BROKER_SUBSCRIBE, .id = 1, .list = {list, (uint32_t)fl + 3}};
    if (subid) {
        p.props.nsub_id = 1;
        p.props.sub_id[0] = subid;
    }
    cli_send(c, &p);
    broker__pkt a;
    expect(c, BROKER_SUBACK, &a);
    CU_ASSERT_EQUAL(a.count, 1);
}

static void publish(cli *c, const char *topic, const char *payload, uint8_t qos, bool retain, uint16_t id)
{
    broker__pkt p = {.type = BROKER_PUBLISH, .qos = qos, .retain = retain, .id = qos ? id : 0};
    p.topic = BIN(topic);
    p.payload = BIN(payload);
    cli_send(c, &p);
    broker__pkt a;
    if (qos == 1) expect(c, BROKER_PUBACK, &a);
    if (qos == 2) {
        expect(c, BROKER_PUBREC, &a);
        broker__pkt rel = {.type = BROKER_PUBREL, .id = id};
        cli_send(c, &rel);
        expect(c, BROKER_PUBCOMP, &a);
    }
}

static bool payload_is(const broker__pkt *p, const char *s)
{
    return p->payload.len == strlen(s) && memcmp(p->payload.p, s, p->payload.len) == 0;
}

/* ---- tests ---- */

static void test_qos_flows(void)
{
    ek_broker *b = start(NULL, NULL);
    cli *sub = cli_connect(b, (copts){.id = "sub", .clean = true}, NULL);
    cli *pub = cli_connect(b, (copts){.id = "pub", .v = 4, .clean = true}, NULL);
    subscribe(sub, "t/#", 2, 0);
    for (uint8_t qos = 0; qos <= 2; qos++) {
        publish(pub, "t/q", qos == 0 ? "zero" : qos == 1 ? "one" : "two", qos, false, (uint16_t)(10 + qos));
        broker__pkt p;
        expect(sub, BROKER_PUBLISH, &p);
        CU_ASSERT_EQUAL(p.qos, qos);
        CU_ASSERT(payload_is(&p, qos == 0 ? "zero" : qos == 1 ? "one" : "two"));
        uint16_t id = p.id;
        if (qos == 1) cli_send(sub, &(broker__pkt){.type = BROKER_PUBACK, .id = id});
        if (qos == 2) {
            cli_send(sub, &(broker__pkt){.type = BROKER_PUBREC, .id = id});
            expect(sub, BROKER_PUBREL, &p);
            CU_ASSERT_EQUAL(p.id, id);
            cli_send(sub, &(broker__pkt){.type = BROKER_PUBCOMP, .id = id});
        }
    }
    /* A duplicate QoS 2 PUBLISH (same id, before PUBREL) is acknowledged but not delivered twice. */
    broker__pkt p2 = {.type = BROKER_PUBLISH, .qos = 2, .id = 99, .topic = BIN("t/d"), .payload = BIN("x")};
    cli_send(pub, &p2);
    p2.dup = true;
    cli_send(pub, &p2);
    broker__pkt a;
    expect(pub, BROKER_PUBREC, &a);
    expect(pub, BROKER_PUBREC, &a);
    expect(sub, BROKER_PUBLISH, &a);
    CU_ASSERT_EQUAL(cli_recv(sub, &a, 300), -1);
    cli_close(sub);
    cli_close(pub);
    ek_broker_stop(b);
}

static void test_inflight_window(void)
{
    ek_broker *b = start(NULL, NULL);
    cli *sub = cli_connect(b, (copts){.id = "w", .clean = true, .recv_max = 2}, NULL);
    cli *pub = cli_connect(b, (copts){.id = "p", .clean = true}, NULL);
    subscribe(sub, "w", 1, 0);
    for (int i = 0; i < 5; i++) publish(pub, "w", "m", 1, false, (uint16_t)(i + 1));
    broker__pkt p;
    uint16_t ids[2];
    for (int i = 0; i < 2; i++) {
        expect(sub, BROKER_PUBLISH, &p);
        ids[i] = p.id;
    }
    CU_ASSERT_EQUAL(cli_recv(sub, &p, 300), -1); /* the window is full */
    cli_send(sub, &(broker__pkt){.type = BROKER_PUBACK, .id = ids[0]});
    expect(sub, BROKER_PUBLISH, &p);
    CU_ASSERT_EQUAL(cli_recv(sub, &p, 300), -1);
    cli_close(sub);
    cli_close(pub);
    ek_broker_stop(b);
}

static void test_offline_queue_and_dup(void)
{
    const char *cfg[] = {"maxQueuedMessages", "3", NULL};
    ek_broker *b = start(cfg, NULL);
    cli *sub = cli_connect(b, (copts){.id = "q", .clean = true, .expiry = 60}, NULL);
    cli *pub = cli_connect(b, (copts){.id = "p", .clean = true}, NULL);
    subscribe(sub, "q", 1, 0);
    publish(pub, "q", "first", 1, false, 1);
    broker__pkt p;
    expect(sub, BROKER_PUBLISH, &p);
    CU_ASSERT(payload_is(&p, "first"));
    uint16_t id = p.id;
    cli_close(sub); /* without acknowledging */
    usleep(100 * 1000);
    char msg[8];
    for (int i = 0; i < 5; i++) {
        snprintf(msg, sizeof msg, "m%d", i);
        publish(pub, "q", msg, 1, false, (uint16_t)(i + 2));
    }
    publish(pub, "q", "qos0", 0, false, 0);
    bool present = false;
    sub = cli_connect(b, (copts){.id = "q", .clean = false, .expiry = 60}, &present);
    CU_ASSERT(present);
    expect(sub, BROKER_PUBLISH, &p);
    CU_ASSERT(p.dup && p.id == id && payload_is(&p, "first"));
    /* The queue kept the newest 3 of 6 (m3, m4, qos0), dropping the oldest. */
    const char *want[] = {"m3", "m4", "qos0"};
    for (int i = 0; i < 3; i++) {
        expect(sub, BROKER_PUBLISH, &p);
        CU_ASSERT(payload_is(&p, want[i]));
        if (p.qos) cli_send(sub, &(broker__pkt){.type = BROKER_PUBACK, .id = p.id});
    }
    CU_ASSERT_EQUAL(cli_recv(sub, &p, 200), -1);
    cli_close(sub);
    /* Clean start discards the session. */
    sub = cli_connect(b, (copts){.id = "q", .clean = true}, &present);
    CU_ASSERT(!present);
    cli_close(sub);
    cli_close(pub);
    ek_broker_stop(b);
}

static void test_takeover(void)
{
    ek_broker *b = start(NULL, NULL);
    cli *a = cli_connect(b, (copts){.id = "same", .clean = true}, NULL);
    cli *c = cli_connect(b, (copts){.id = "same", .clean = true}, NULL);
    broker__pkt p;
    expect(a, BROKER_DISCONNECT, &p);
    CU_ASSERT_EQUAL(p.reason, RC_TAKEN_OVER);
    CU_ASSERT_EQUAL(cli_recv(a, &p, 1000), -2);
    cli_send(c, &(broker__pkt){.type = BROKER_PINGREQ});
    expect(c, BROKER_PINGRESP, &p);
    cli_close(a);
    cli_close(c);
    ek_broker_stop(b);
}

static void test_malformed_and_too_large(void)
{
    const char *cfg[] = {"maxPacketSize", "1024", NULL};
    ek_broker *b = start(cfg, NULL);
    cli *good = cli_connect(b, (copts){.id = "good", .clean = true}, NULL);
    subscribe(good, "x", 0, 0);
    broker__pkt p;
    /* A PUBLISH with QoS 3 is malformed: DISCONNECT 0x81, then the socket closes. */
    cli *bad = cli_connect(b, (copts){.id = "bad", .clean = true}, NULL);
    cli_raw(bad, "\x36\x05\x00\x01x\x00\x01", 7);
    expect(bad, BROKER_DISCONNECT, &p);
    CU_ASSERT_EQUAL(p.reason, RC_MALFORMED);
    CU_ASSERT_EQUAL(cli_recv(bad, &p, 1000), -2);
    cli_close(bad);
    /* Too large: 0x95. */
    bad = cli_connect(b, (copts){.id = "big", .clean = true}, NULL);
    uint8_t big[2000] = {0x30, 0xcd, 0x0f, 0x00, 0x01, 'x'};
    cli_raw(bad, big, sizeof big);
    expect(bad, BROKER_DISCONNECT, &p);
    CU_ASSERT_EQUAL(p.reason, RC_TOO_LARGE);
    cli_close(bad);
    /* Garbage before CONNECT just closes. */
    bad = cli_open(b);
    cli_raw(bad, "\xff\xff\xff\xff\xff\xff", 6);
    CU_ASSERT_EQUAL(cli_recv(bad, &p, 1000), -2);
    cli_close(bad);
    /* A protocol version we do not speak: CONNACK 0x01 in 3.1.1 terms. */
    bad = cli_open(b);
    bad->v = 4;
    cli_raw(bad, "\x10\x0c\x00\x04MQTT\x07\x02\x00\x3c\x00\x00", 14);
    expect(bad, BROKER_CONNACK, &p);
    CU_ASSERT_EQUAL(p.reason, 1);
    cli_close(bad);
    /* The other client did not notice. */
    cli *pub = cli_connect(b, (copts){.id = "p", .clean = true}, NULL);
    publish(pub, "x", "still here", 0, false, 0);
    expect(good, BROKER_PUBLISH, &p);
    CU_ASSERT(payload_is(&p, "still here"));
    cli_close(pub);
    cli_close(good);
    ek_broker_stop(b);
}

static void test_will_and_retain(void)
{
    ek_broker *b = start(NULL, NULL);
    cli *w = cli_connect(b, (copts){.id = "will", .clean = true, .will_topic = "wills/a"}, NULL);
    cli *n = cli_connect(b, (copts){.id = "nowill", .clean = true, .will_topic = "wills/b"}, NULL);
    cli *sub = cli_connect(b, (copts){.id = "s", .clean = true}, NULL);
    subscribe(sub, "wills/#", 0, 0);
    cli_send(n, &(broker__pkt){.type = BROKER_DISCONNECT});
    cli_close(n);
    cli_close(w); /* abrupt: the will goes out */
    broker__pkt p;
    expect(sub, BROKER_PUBLISH, &p);
    CU_ASSERT(p.topic.len == 7 && memcmp(p.topic.p, "wills/a", 7) == 0);
    CU_ASSERT_EQUAL(cli_recv(sub, &p, 300), -1);

    publish(sub, "r/1", "kept", 1, true, 5);
    cli *late = cli_connect(b, (copts){.id = "late", .clean = true}, NULL);
    subscribe(late, "r/+", 0, 0);
    expect(late, BROKER_PUBLISH, &p);
    CU_ASSERT(p.retain && payload_is(&p, "kept"));
    subscribe(late, "r/+", 0x20, 0); /* retain handling 2: none */
    CU_ASSERT_EQUAL(cli_recv(late, &p, 200), -1);
    subscribe(late, "r/+", 0x10, 0); /* 1: only for a new subscription, and it exists */
    CU_ASSERT_EQUAL(cli_recv(late, &p, 200), -1);
    publish(sub, "r/1", "", 0, true, 0); /* delete */
    expect(late, BROKER_PUBLISH, &p);    /* delivered live, empty */
    cli *later = cli_connect(b, (copts){.id = "later", .clean = true}, NULL);
    subscribe(later, "r/#", 0, 0);
    CU_ASSERT_EQUAL(cli_recv(later, &p, 200), -1);
    cli_close(later);
    cli_close(late);
    cli_close(sub);
    ek_broker_stop(b);
}

static void test_will_delay(void)
{
    ek_broker *b = start(NULL, NULL);
    cli *sub = cli_connect(b, (copts){.id = "s", .clean = true}, NULL);
    subscribe(sub, "wd", 0, 0);
    cli *w = cli_connect(b, (copts){.id = "wd", .clean = true, .expiry = 30, .will_topic = "wd", .will_delay = 1}, NULL);
    cli_close(w);
    broker__pkt p;
    CU_ASSERT_EQUAL(cli_recv(sub, &p, 500), -1); /* not yet */
    CU_ASSERT_EQUAL(cli_recv(sub, &p, 2000), 0);
    /* Reconnecting within the delay cancels the will. */
    w = cli_connect(b, (copts){.id = "wd2", .clean = true, .expiry = 30, .will_topic = "wd", .will_delay = 1}, NULL);
    cli_close(w);
    usleep(200 * 1000);
    w = cli_connect(b, (copts){.id = "wd2", .clean = false, .expiry = 30}, NULL);
    CU_ASSERT_EQUAL(cli_recv(sub, &p, 1500), -1);
    cli_close(w);
    cli_close(sub);
    ek_broker_stop(b);
}

static void test_v5_options(void)
{
    ek_broker *b = start(NULL, NULL);
    cli *c = cli_connect(b, (copts){.id = "c", .clean = true}, NULL);
    subscribe(c, "o/#", 0x04 | 1, 7); /* no local, subscription id 7 */
    subscribe(c, "o/+", 0x08 | 1, 9); /* retain as published, id 9 */
    cli *other = cli_connect(b, (copts){.id = "o", .clean = true}, NULL);
    publish(c, "o/x", "mine", 0, false, 0);
    broker__pkt p;
    expect(c, BROKER_PUBLISH, &p); /* only through o/+ (no local on o/#) */
    CU_ASSERT(p.props.nsub_id == 1 && p.props.sub_id[0] == 9);
    publish(other, "o/y", "theirs", 1, true, 3);
    expect(c, BROKER_PUBLISH, &p); /* both subscriptions, merged into one delivery */
    CU_ASSERT_EQUAL(p.props.nsub_id, 2);
    CU_ASSERT(p.retain); /* retain as published on o/+ */
    CU_ASSERT_EQUAL(cli_recv(c, &p, 200), -1);
    /* Topic alias from the client: set, then use with an empty topic. */
    broker__pkt a = {.type = BROKER_PUBLISH, .topic = BIN("o/alias"), .payload = BIN("1")};
    BP_SET(&a.props, BP_TOPIC_ALIAS);
    a.props.topic_alias = 1;
    cli_send(other, &a);
    a.topic = BIN("");
    a.payload = BIN("2");
    cli_send(other, &a);
    for (int i = 0; i < 2; i++) {
        expect(c, BROKER_PUBLISH, &p);
        CU_ASSERT(p.topic.len == 7 && memcmp(p.topic.p, "o/alias", 7) == 0);
    }
    /* An alias above the maximum is 0x94. */
    a.props.topic_alias = 11;
    cli_send(other, &a);
    expect(other, BROKER_DISCONNECT, &p);
    CU_ASSERT_EQUAL(p.reason, RC_ALIAS_INVALID);
    cli_close(other);
    cli_close(c);
    ek_broker_stop(b);
}

static void test_keepalive(void)
{
    ek_broker *b = start(NULL, NULL);
    cli *c = cli_connect(b, (copts){.id = "ka", .clean = true, .keep_alive = 1}, NULL);
    broker__pkt p;
    int rc = cli_recv(c, &p, 4000);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT(p.type == BROKER_DISCONNECT && p.reason == RC_KEEP_ALIVE);
    cli_close(c);
    ek_broker_stop(b);
}

static atomic_int got;

static void on_msg(void *arg, ek_broker_msg *m)
{
    size_t len;
    ek_broker_msg_payload(m, &len);
    if (strcmp(ek_broker_msg_topic(m), "in/proc") == 0) atomic_fetch_add(&got, (int)len);
}

static void test_inprocess(void)
{
    ek_broker *b = start(NULL, NULL);
    atomic_store(&got, 0);
    ek_err err = {0};
    CU_ASSERT(ek_broker_subscribe(b, "bad/#/x", 0, on_msg, NULL, &err) < 0);
    long id = ek_broker_subscribe(b, "in/#", 1, on_msg, NULL, &err);
    CU_ASSERT(id > 0);
    cli *c = cli_connect(b, (copts){.id = "c", .clean = true}, NULL);
    subscribe(c, "in/proc", 0, 0);
    CU_ASSERT_EQUAL(ek_broker_publish(b, "in/proc", "abc", 3, 0, false, &err), 0);
    broker__pkt p;
    expect(c, BROKER_PUBLISH, &p); /* an in-process publish reaches TCP clients */
    cli *pub = cli_connect(b, (copts){.id = "pub", .clean = true}, NULL);
    publish(pub, "in/proc", "defg", 1, false, 1);
    for (int i = 0; i < 100 && atomic_load(&got) < 7; i++) usleep(10000);
    CU_ASSERT_EQUAL(atomic_load(&got), 7);
    ek_broker_unsubscribe(b, id);
    expect(c, BROKER_PUBLISH, &p);
    publish(pub, "in/proc", "zz", 1, false, 2);
    expect(c, BROKER_PUBLISH, &p);
    CU_ASSERT_EQUAL(atomic_load(&got), 7);
    cli_close(pub);
    cli_close(c);
    ek_broker_stop(b);
}

static void test_acl(void)
{
    ek_value sec = ek_object_new(8), list = ek_array_new(2), r1 = ek_object_new(3), r2 = ek_object_new(3);
    ek_object_set(&r1, "permission", ek_string("deny"));
    ek_object_set(&r1, "action", ek_string("subscribe"));
    ek_object_set(&r1, "topic", ek_string("test/nosubscribe"));
    ek_object_set(&r2, "permission", ek_string("deny"));
    ek_object_set(&r2, "action", ek_string("publish"));
    ek_object_set(&r2, "topic", ek_string("ro/#"));
    ek_array_push(&list, r1);
    ek_array_push(&list, r2);
    ek_object_set(&sec, "acl", list);
    ek_broker *b = start_with(sec, NULL, NULL);
    cli *c = cli_connect(b, (copts){.id = "acl", .clean = true}, NULL);
    const uint8_t list_bytes[] = {0, 16, 't', 'e', 's', 't', '/', 'n', 'o', 's', 'u', 'b', 's', 'c', 'r', 'i', 'b', 'e', 2};
    cli_send(c, &(broker__pkt){.type = BROKER_SUBSCRIBE, .id = 3, .list = {list_bytes, sizeof list_bytes}});
    broker__pkt p;
    expect(c, BROKER_SUBACK, &p);
    CU_ASSERT(p.count == 1 && p.list.p[0] == RC_NOT_AUTHORIZED);
    subscribe(c, "ro/#", 1, 0);
    cli_send(c, &(broker__pkt){.type = BROKER_PUBLISH, .qos = 1, .id = 4, .topic = BIN("ro/x"), .payload = BIN("no")});
    expect(c, BROKER_PUBACK, &p);
    CU_ASSERT_EQUAL(p.reason, RC_NOT_AUTHORIZED);
    CU_ASSERT_EQUAL(cli_recv(c, &p, 200), -1); /* not delivered */
    cli *v3 = cli_connect(b, (copts){.id = "acl3", .v = 4, .clean = true}, NULL);
    cli_send(v3, &(broker__pkt){.type = BROKER_SUBSCRIBE, .id = 3, .list = {list_bytes, sizeof list_bytes}});
    expect(v3, BROKER_SUBACK, &p);
    CU_ASSERT(p.count == 1 && p.list.p[0] == 0x80);
    cli_close(v3);
    cli_close(c);
    ek_broker_stop(b);
}

static void test_users(void)
{
    ek_value sec = ek_object_new(8), list = ek_array_new(2), u1 = ek_object_new(2), u2 = ek_object_new(2);
    ek_object_set(&u1, "username", ek_string("alice"));
    ek_object_set(&u1, "password", ek_string("secret"));
    ek_object_set(&u2, "username", ek_string("bob"));
    /* sha256("hunter2") */
    ek_object_set(&u2, "passwordSha256",
                  ek_string("f52fbd32b2b3b86ff88ef6c490628285f482af15ddcb29541f94bcf526a3f6c7"));
    ek_array_push(&list, u1);
    ek_array_push(&list, u2);
    ek_object_set(&sec, "users", list);
    ek_object_set(&sec, "allowAnonymous", ek_bool(false));
    ek_broker *b = start_with(sec, NULL, NULL);
    cli_close(cli_connect(b, (copts){.id = "a", .clean = true, .user = "alice", .pass = "secret"}, NULL));
    cli_close(cli_connect(b, (copts){.id = "b", .clean = true, .user = "bob", .pass = "hunter2"}, NULL));
    cli_close(cli_connect(b, (copts){.id = "c", .clean = true, .user = "alice", .pass = "wrong", .expect = RC_BAD_USER_PASS}, NULL));
    cli_close(cli_connect(b, (copts){.id = "d", .clean = true, .user = "eve", .pass = "x", .expect = RC_BAD_USER_PASS}, NULL));
    cli_close(cli_connect(b, (copts){.id = "e", .clean = true, .expect = RC_NOT_AUTHORIZED}, NULL));
    cli_close(cli_connect(b, (copts){.id = "f", .v = 4, .clean = true, .user = "bob", .pass = "nope", .expect = 4}, NULL));
    ek_broker_stop(b);
}

/* Mutated valid packet sequences from many connections: the broker must survive all of them and
 * keep serving a well-behaved client. Deterministic (fixed seed), bounded (a few hundred clients). */
static void test_random_hostile_input(void)
{
    ek_broker *b = start(NULL, NULL);
    cli *good = cli_connect(b, (copts){.id = "good", .clean = true}, NULL);
    static const char *seeds[] = {
        "\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x00",
        "\x10\x0d\x00\x04MQTT\x05\x02\x00\x3c\x00\x00\x00",
        "\x82\x08\x00\x01\x00\x00\x03" "a/#\x2e",
        "\x82\x06\x00\x02\x00\x01+\x02",
        "\x35\x0b\x00\x03" "a/b\x00\x07\x03\x23\x00\x01xy",
        "\x30\x07\x00\x00\x03\x23\x00\x01z",
        "\x62\x02\x00\x07",
        "\x40\x02\x00\x01",
        "\x50\x03\x00\x01\x10",
        "\xa2\x06\x00\x03\x00\x01" "a",
        "\xe0\x07\x00\x05\x11\x00\x00\x00\x05",
        "\xc0\x00",
    };
    const size_t lens[] = {14, 15, 10, 8, 13, 9, 4, 4, 5, 8, 9, 2};
    unsigned seed = 12345;
    for (int round = 0; round < 300; round++) {
        cli *c = cli_open(b);
        uint8_t buf[512];
        size_t n = 0;
        int first = rand_r(&seed) % 2;
        memcpy(buf, seeds[first], lens[first]);
        n = lens[first];
        for (int k = 0; k < 6 && n < 400; k++) {
            size_t i = 2 + (size_t)rand_r(&seed) % (sizeof lens / sizeof lens[0] - 2);
            memcpy(buf + n, seeds[i], lens[i]);
            n += lens[i];
        }
        int flips = rand_r(&seed) % 4;
        for (int f = 0; f < flips; f++) buf[(size_t)rand_r(&seed) % n] ^= (uint8_t)(1u << (rand_r(&seed) % 8));
        cli_raw(c, buf, n);
        if (round % 3 == 0) usleep(1000);
        cli_close(c);
    }
    broker__pkt p;
    cli_send(good, &(broker__pkt){.type = BROKER_PINGREQ});
    expect(good, BROKER_PINGRESP, &p);
    cli_close(good);
    ek_broker_stop(b);
}

static ek_broker *self_b;
static atomic_long self_id;
static atomic_int self_calls;

/* Unsubscribes itself from inside the callback, during the retained delivery at subscribe. */
static void on_self(void *arg, ek_broker_msg *m)
{
    atomic_fetch_add(&self_calls, 1);
    while (atomic_load(&self_id) == 0) {
    }
    ek_broker_unsubscribe(self_b, atomic_load(&self_id));
    ek_err err = {0};
    long again = ek_broker_subscribe(self_b, "other/#", 0, on_msg, NULL, &err); /* changes the tree */
    CU_ASSERT(again > 0);
}

static void test_inprocess_callback_changes_tree(void)
{
    ek_broker *b = start(NULL, NULL);
    self_b = b;
    atomic_store(&self_id, 0);
    atomic_store(&self_calls, 0);
    ek_err err = {0};
    for (int i = 0; i < 5; i++) {
        char t[16];
        snprintf(t, sizeof t, "self/%d", i);
        CU_ASSERT_EQUAL(ek_broker_publish(b, t, "r", 1, 0, true, &err), 0);
    }
    long id = ek_broker_subscribe(b, "self/#", 0, on_self, NULL, &err);
    atomic_store(&self_id, id);
    for (int i = 0; i < 100 && atomic_load(&self_calls) == 0; i++) usleep(10000);
    usleep(50000);
    CU_ASSERT_EQUAL(atomic_load(&self_calls), 1);
    ek_broker_stop(b);
}

static void test_persistence(void)
{
    char dir[] = "/tmp/ek-broker-test-XXXXXX";
    CU_ASSERT_PTR_NOT_NULL_FATAL(ek_test_mkdtemp(dir));
    ek_broker *b = start(NULL, dir);
    cli *s = cli_connect(b, (copts){.id = "keep", .clean = true, .expiry = 300}, NULL);
    subscribe(s, "p/#", 1, 0);
    cli_close(s);
    cli *pub = cli_connect(b, (copts){.id = "pub", .clean = true}, NULL);
    publish(pub, "p/retained", "r", 1, true, 1);
    publish(pub, "p/queued", "q", 1, false, 2);
    cli_close(pub);
    usleep(100 * 1000);
    ek_broker_stop(b);

    b = start(NULL, dir);
    bool present = false;
    s = cli_connect(b, (copts){.id = "keep", .clean = false, .expiry = 300}, &present);
    CU_ASSERT(present);
    broker__pkt p;
    int n = 0;
    while (cli_recv(s, &p, 500) == 0) {
        if (p.type != BROKER_PUBLISH) continue;
        n++;
        CU_ASSERT(payload_is(&p, "r") || payload_is(&p, "q"));
        if (p.qos) cli_send(s, &(broker__pkt){.type = BROKER_PUBACK, .id = p.id});
    }
    CU_ASSERT_EQUAL(n, 2); /* the queued message and the retained one, delivered live before the stop */
    cli *late = cli_connect(b, (copts){.id = "late", .clean = true}, NULL);
    subscribe(late, "p/retained", 0, 0);
    expect(late, BROKER_PUBLISH, &p);
    CU_ASSERT(p.retain && payload_is(&p, "r"));
    cli_close(late);
    /* A message in flight (sent, not acknowledged) when the broker stops is sent again with DUP
     * after the restart. */
    cli *pub2 = cli_connect(b, (copts){.id = "pub2", .clean = true}, NULL);
    publish(pub2, "p/inflight", "f", 1, false, 9);
    expect(s, BROKER_PUBLISH, &p);
    CU_ASSERT(payload_is(&p, "f") && !p.dup);
    uint16_t mid = p.id;
    cli_close(pub2);
    ek_broker_stop(b);
    cli_close(s);
    b = start(NULL, dir);
    s = cli_connect(b, (copts){.id = "keep", .clean = false, .expiry = 300}, &present);
    CU_ASSERT(present);
    expect(s, BROKER_PUBLISH, &p);
    CU_ASSERT(p.dup && p.id == mid && payload_is(&p, "f"));
    cli_close(s);
    ek_broker_stop(b);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CU_ASSERT_EQUAL(system(cmd), 0);
}

/* An incoming QoS 2 message whose PUBREL had not arrived before a restart is not delivered twice
 * when the client sends it again afterwards. */
static void test_qos2_exactly_once_across_restart(void)
{
    char dir[] = "/tmp/ek-broker-test-XXXXXX";
    CU_ASSERT_PTR_NOT_NULL_FATAL(ek_test_mkdtemp(dir));
    ek_broker *b = start(NULL, dir);
    cli *sub = cli_connect(b, (copts){.id = "q2sub", .clean = true, .expiry = 300}, NULL);
    subscribe(sub, "q2", 0, 0);
    cli *pub = cli_connect(b, (copts){.id = "q2pub", .clean = true, .expiry = 300}, NULL);
    broker__pkt p2 = {.type = BROKER_PUBLISH, .qos = 2, .id = 77, .topic = BIN("q2"), .payload = BIN("once")};
    cli_send(pub, &p2);
    broker__pkt a;
    expect(pub, BROKER_PUBREC, &a);
    expect(sub, BROKER_PUBLISH, &a);
    ek_broker_stop(b);
    cli_close(pub);
    cli_close(sub);
    b = start(NULL, dir);
    sub = cli_connect(b, (copts){.id = "q2sub", .clean = false, .expiry = 300}, NULL);
    pub = cli_connect(b, (copts){.id = "q2pub", .clean = false, .expiry = 300}, NULL);
    p2.dup = true;
    cli_send(pub, &p2);
    expect(pub, BROKER_PUBREC, &a);
    cli_send(pub, &(broker__pkt){.type = BROKER_PUBREL, .id = 77});
    expect(pub, BROKER_PUBCOMP, &a);
    CU_ASSERT_EQUAL(a.reason, 0);
    CU_ASSERT_EQUAL(cli_recv(sub, &a, 300), -1);
    cli_close(pub);
    cli_close(sub);
    ek_broker_stop(b);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CU_ASSERT_EQUAL(system(cmd), 0);
}

/* ek_broker_stats_get returns the $SYS figures, read on the reactor thread. */
static void test_stats(void)
{
    ek_broker *b = start(NULL, NULL);
    ek_broker_stats st;
    CU_ASSERT_EQUAL(ek_broker_stats_get(NULL, &st), EK_ESTATE);
    CU_ASSERT_EQUAL(ek_broker_stats_get(b, &st), 0);
    CU_ASSERT_EQUAL(st.clients_connected, 0);
    CU_ASSERT_EQUAL(st.msgs_received, 0);
    cli *sub = cli_connect(b, (copts){.id = "st1", .clean = true}, NULL);
    subscribe(sub, "st/#", 1, 0);
    cli *pub = cli_connect(b, (copts){.id = "st2", .clean = true}, NULL);
    for (uint16_t i = 1; i <= 3; i++) publish(pub, "st/a", "x", 1, i == 3, i);
    broker__pkt a;
    for (int i = 0; i < 3; i++) expect(sub, BROKER_PUBLISH, &a);
    CU_ASSERT_EQUAL(ek_broker_stats_get(b, &st), 0);
    CU_ASSERT_EQUAL(st.clients_connected, 2);
    CU_ASSERT_EQUAL(st.clients_total, 2);
    CU_ASSERT_EQUAL(st.connects_total, 2);
    CU_ASSERT_EQUAL(st.msgs_received, 3);
    CU_ASSERT_EQUAL(st.msgs_sent, 3);
    CU_ASSERT_EQUAL(st.subscriptions, 1);
    CU_ASSERT_EQUAL(st.retained, 1);
    CU_ASSERT(st.bytes_received > 0 && st.bytes_sent > 0);
    cli_close(sub);
    cli_close(pub);
    ek_broker_stop(b);
}

/* A two-round method through ek_broker_set_auth_hook: the client must send "one" at CONNECT and
 * "two" after the broker's "next". */
static atomic_int hook_states;

static int hook_begin(void *arg, const char *client_id, const char *user, const uint8_t *data, size_t len,
                      void **state, uint8_t **out, size_t *out_len)
{
    if (len != 3 || memcmp(data, "one", 3) != 0) return 0x87;
    *state = ek_strdup(client_id);
    atomic_fetch_add(&hook_states, 1);
    *out = (uint8_t *)ek_strdup("next");
    *out_len = 4;
    return EK_BROKER_AUTH_CONTINUE;
}

static int hook_step(void *arg, void *state, const uint8_t *data, size_t len, uint8_t **out, size_t *out_len)
{
    return len == 3 && memcmp(data, "two", 3) == 0 ? EK_BROKER_AUTH_SUCCESS : 0x87;
}

static void hook_end(void *arg, void *state)
{
    atomic_fetch_sub(&hook_states, 1);
    ek_free(state);
}

static const ek_broker_auth_ops hook_ops = {"TEST-TWO-STEP", hook_begin, hook_step, hook_end};

static cli *hook_connect(ek_broker *b, const char *id, const char *first)
{
    cli *c = cli_open(b);
    c->v = 5;
    broker__pkt p = {.type = BROKER_CONNECT, .clean = true, .client_id = BIN(id)};
    BP_SET(&p.props, BP_AUTH_METHOD);
    p.props.auth_method = BIN("TEST-TWO-STEP");
    BP_SET(&p.props, BP_AUTH_DATA);
    p.props.auth_data = BIN(first);
    cli_send(c, &p);
    return c;
}

static void hook_answer(cli *c, const char *data)
{
    broker__pkt p = {.type = BROKER_AUTH, .reason = RC_CONTINUE_AUTH};
    BP_SET(&p.props, BP_AUTH_METHOD);
    p.props.auth_method = BIN("TEST-TWO-STEP");
    BP_SET(&p.props, BP_AUTH_DATA);
    p.props.auth_data = BIN(data);
    cli_send(c, &p);
}

static void test_auth_hook(void)
{
    ek_broker *b = start(NULL, NULL);
    broker__pkt a;
    cli *c = hook_connect(b, "h0", "one");  /* no hook yet: 0x8C */
    expect(c, BROKER_CONNACK, &a);
    CU_ASSERT_EQUAL(a.reason, RC_BAD_AUTH_METHOD);
    cli_close(c);
    ek_broker_set_auth_hook(b, &hook_ops, NULL);
    c = hook_connect(b, "h1", "one");
    expect(c, BROKER_AUTH, &a);
    CU_ASSERT_EQUAL(a.reason, RC_CONTINUE_AUTH);
    CU_ASSERT(a.props.auth_data.len == 4 && memcmp(a.props.auth_data.p, "next", 4) == 0);
    hook_answer(c, "two");
    expect(c, BROKER_CONNACK, &a);
    CU_ASSERT_EQUAL(a.reason, 0);
    CU_ASSERT(a.props.auth_method.len == 13 && memcmp(a.props.auth_method.p, "TEST-TWO-STEP", 13) == 0);
    publish(c, "h/t", "x", 1, false, 1);
    cli *bad = hook_connect(b, "h2", "one");
    expect(bad, BROKER_AUTH, &a);
    hook_answer(bad, "three");
    expect(bad, BROKER_CONNACK, &a);
    CU_ASSERT_EQUAL(a.reason, 0x87);
    CU_ASSERT_EQUAL(cli_recv(bad, &a, 2000), -2);
    cli_close(bad);
    cli *gone = hook_connect(b, "h3", "one");  /* closes in the middle of the exchange */
    expect(gone, BROKER_AUTH, &a);
    cli_close(gone);
    cli_close(c);
    ek_broker_stop(b);
    CU_ASSERT_EQUAL(atomic_load(&hook_states), 0);
}

void ek_register_tests(void)
{
    static const ek_test_case cases[] = {
        {"QoS 0, 1 and 2 flows", test_qos_flows},
        {"in-flight window follows Receive Maximum", test_inflight_window},
        {"offline queue drops oldest; DUP after reconnect", test_offline_queue_and_dup},
        {"session takeover sends 0x8E", test_takeover},
        {"malformed and oversized packets close only that client", test_malformed_and_too_large},
        {"will and retained messages", test_will_and_retain},
        {"will delay interval", test_will_delay},
        {"no local, retain as published, subscription ids, topic alias", test_v5_options},
        {"keep alive timeout", test_keepalive},
        {"in-process publish and subscribe", test_inprocess},
        {"in-process callback unsubscribes itself", test_inprocess_callback_changes_tree},
        {"acl denies subscribe and publish", test_acl},
        {"users and passwords", test_users},
        {"random hostile input", test_random_hostile_input},
        {"retained and sessions survive a restart", test_persistence},
        {"QoS 2 exactly once across a restart", test_qos2_exactly_once_across_restart},
        {"statistics for Prometheus", test_stats},
        {"enhanced authentication hook", test_auth_hook},
        {NULL, NULL},
    };
    ek_add_suite("broker_session", cases);
}
