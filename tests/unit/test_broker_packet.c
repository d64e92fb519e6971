/* Unit tests for the MQTT codec (broker/packet.c): every packet type round-trips through
 * encode -> decode for 3.1.1 and 5.0, and every malformed input we know of is rejected with the
 * reason code the connection must be closed with (0x81 malformed, 0x82 protocol error, ...). */
#include "broker/packet_int.h"
#include "tests/unit/test_util.h"

#include <string.h>

#define BIN(s) ((broker__bin){(const uint8_t *)(s), (uint32_t)(sizeof(s) - 1)})

static size_t enc(const broker__pkt *p, uint8_t v, uint8_t *buf)
{
    size_t n = broker__pkt_len(p, v);
    CU_ASSERT_FATAL(n < 4096);
    CU_ASSERT_EQUAL(broker__pkt_write(p, v, buf), n);
    return n;
}

static int dec(const uint8_t *buf, size_t n, uint8_t v, broker__pkt *out)
{
    return broker__pkt_decode(buf, n, v, out);
}

static bool bin_eq(broker__bin a, broker__bin b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

static void test_connect_roundtrip(void)
{
    for (uint8_t v = 3; v <= 5; v++) {
        broker__pkt p = {.type = BROKER_CONNECT, .clean = true, .will = true, .will_qos = 1, .will_retain = true,
                         .has_user = true, .has_pass = true, .keep_alive = 30};
        p.client_id = BIN("client-1");
        p.will_topic = BIN("will/topic");
        p.will_payload = BIN("bye");
        p.username = BIN("user");
        p.password = BIN("pa\0ss");
        if (v == 5) {
            BP_SET(&p.props, BP_SESSION_EXPIRY);
            p.props.session_expiry = 60;
            BP_SET(&p.props, BP_RECEIVE_MAX);
            p.props.receive_max = 7;
            BP_SET(&p.will_props, BP_WILL_DELAY);
            p.will_props.will_delay = 5;
        }
        uint8_t buf[512];
        size_t n = enc(&p, v, buf);
        broker__pkt q;
        CU_ASSERT_EQUAL_FATAL(dec(buf, n, 0, &q), 0);
        CU_ASSERT_EQUAL(q.version, v);
        CU_ASSERT(q.clean && q.will && q.will_qos == 1 && q.will_retain && q.has_user && q.has_pass);
        CU_ASSERT_EQUAL(q.keep_alive, 30);
        CU_ASSERT(bin_eq(q.client_id, p.client_id));
        CU_ASSERT(bin_eq(q.will_topic, p.will_topic));
        CU_ASSERT(bin_eq(q.will_payload, p.will_payload));
        CU_ASSERT(bin_eq(q.username, p.username));
        CU_ASSERT(bin_eq(q.password, p.password));
        if (v == 5) {
            CU_ASSERT_EQUAL(q.props.session_expiry, 60);
            CU_ASSERT_EQUAL(q.props.receive_max, 7);
            CU_ASSERT_EQUAL(q.will_props.will_delay, 5);
        }
    }
}

static void test_publish_roundtrip(void)
{
    const uint8_t user[] = {BP_USER, 0, 1, 'k', 0, 2, 'v', 'v'};
    for (uint8_t v = 4; v <= 5; v++) {
        for (uint8_t qos = 0; qos <= 2; qos++) {
            broker__pkt p = {.type = BROKER_PUBLISH, .qos = qos, .retain = true, .dup = qos > 0, .id = qos ? 77 : 0};
            p.topic = BIN("a/b/c");
            p.payload = BIN("payload bytes");
            if (v == 5) {
                BP_SET(&p.props, BP_MSG_EXPIRY);
                p.props.msg_expiry = 100;
                BP_SET(&p.props, BP_CONTENT_TYPE);
                p.props.content_type = BIN("text/plain");
                BP_SET(&p.props, BP_CORRELATION);
                p.props.correlation = BIN("\x01\x02");
                p.props.nsub_id = 2;
                p.props.sub_id[0] = 1;
                p.props.sub_id[1] = 268435455;
                p.props.extra = (broker__bin){user, sizeof user};
            }
            uint8_t buf[512];
            size_t n = enc(&p, v, buf);
            broker__pkt q;
            CU_ASSERT_EQUAL_FATAL(dec(buf, n, v, &q), 0);
            CU_ASSERT_EQUAL(q.qos, qos);
            CU_ASSERT(q.retain);
            CU_ASSERT_EQUAL(q.dup, qos > 0);
            CU_ASSERT_EQUAL(q.id, p.id);
            CU_ASSERT(bin_eq(q.topic, p.topic));
            CU_ASSERT(bin_eq(q.payload, p.payload));
            if (v == 5) {
                CU_ASSERT_EQUAL(q.props.msg_expiry, 100);
                CU_ASSERT(bin_eq(q.props.content_type, p.props.content_type));
                CU_ASSERT(bin_eq(q.props.correlation, p.props.correlation));
                CU_ASSERT_EQUAL(q.props.nsub_id, 2);
                CU_ASSERT_EQUAL(q.props.sub_id[1], 268435455);
                CU_ASSERT_EQUAL(q.props.nuser, 1);
                uint8_t only[16];
                size_t k = broker__props_filter(q.props.raw, 1ull << BP_USER, only);
                CU_ASSERT_EQUAL(k, sizeof user);
                CU_ASSERT(memcmp(only, user, sizeof user) == 0);
            }
        }
    }
}

static void test_acks_roundtrip(void)
{
    const uint8_t types[] = {BROKER_PUBACK, BROKER_PUBREC, BROKER_PUBREL, BROKER_PUBCOMP};
    for (size_t i = 0; i < sizeof types; i++) {
        for (uint8_t v = 4; v <= 5; v++) {
            broker__pkt p = {.type = types[i], .id = 513, .reason = v == 5 ? RC_NO_SUBSCRIBERS : 0};
            uint8_t buf[64];
            size_t n = enc(&p, v, buf);
            CU_ASSERT_EQUAL(n, v == 5 ? 5u : 4u);
            broker__pkt q;
            CU_ASSERT_EQUAL(dec(buf, n, v, &q), 0);
            CU_ASSERT_EQUAL(q.type, types[i]);
            CU_ASSERT_EQUAL(q.id, 513);
            CU_ASSERT_EQUAL(q.reason, p.reason);
        }
    }
    /* A v5 ack with reason 0 and no properties uses the short form. */
    broker__pkt p = {.type = BROKER_PUBACK, .id = 1};
    CU_ASSERT_EQUAL(broker__pkt_len(&p, 5), 4u);
}

static void test_subscribe_roundtrip(void)
{
    const uint8_t list[] = {0, 3, 'a', '/', '#', 0x2E, 0, 1, '+', 0x01};
    broker__pkt p = {.type = BROKER_SUBSCRIBE, .id = 9, .list = {list, sizeof list}};
    p.props.nsub_id = 1;
    p.props.sub_id[0] = 42;
    uint8_t buf[64];
    size_t n = enc(&p, 5, buf);
    broker__pkt q;
    CU_ASSERT_EQUAL_FATAL(dec(buf, n, 5, &q), 0);
    CU_ASSERT_EQUAL(q.count, 2);
    CU_ASSERT_EQUAL(q.props.sub_id[0], 42);
    uint32_t pos = 0;
    broker__bin f;
    uint8_t o;
    CU_ASSERT(broker__pkt_next_filter(&q, &pos, &f, &o));
    CU_ASSERT(f.len == 3 && memcmp(f.p, "a/#", 3) == 0 && o == 0x2E);
    CU_ASSERT(broker__pkt_next_filter(&q, &pos, &f, &o));
    CU_ASSERT(f.len == 1 && f.p[0] == '+' && o == 1);
    CU_ASSERT(!broker__pkt_next_filter(&q, &pos, &f, &o));
    /* v5 options are malformed in 3.1.1. */
    n = enc(&p, 4, buf);
    CU_ASSERT_EQUAL(dec(buf, n, 4, &q), RC_MALFORMED);

    const uint8_t codes[] = {0, 1, 0x80};
    broker__pkt a = {.type = BROKER_SUBACK, .id = 9, .list = {codes, 3}};
    n = enc(&a, 4, buf);
    CU_ASSERT_EQUAL(dec(buf, n, 4, &q), 0);
    CU_ASSERT(q.count == 3 && q.list.p[2] == 0x80);
    broker__pkt u = {.type = BROKER_UNSUBACK, .id = 9, .list = {codes, 2}};
    n = enc(&u, 4, buf);
    CU_ASSERT_EQUAL(n, 4u); /* 3.1.1 UNSUBACK has no payload */
    n = enc(&u, 5, buf);
    CU_ASSERT_EQUAL(dec(buf, n, 5, &q), 0);
    CU_ASSERT_EQUAL(q.count, 2);
}

static void test_connack_disconnect_auth(void)
{
    broker__pkt p = {.type = BROKER_CONNACK, .session_present = true, .reason = 0};
    BP_SET(&p.props, BP_ASSIGNED_ID);
    p.props.assigned_id = BIN("auto-1");
    BP_SET(&p.props, BP_TOPIC_ALIAS_MAX);
    p.props.topic_alias_max = 10;
    uint8_t buf[128];
    size_t n = enc(&p, 5, buf);
    broker__pkt q;
    CU_ASSERT_EQUAL(dec(buf, n, 5, &q), 0);
    CU_ASSERT(q.session_present);
    CU_ASSERT(bin_eq(q.props.assigned_id, p.props.assigned_id));
    CU_ASSERT_EQUAL(q.props.topic_alias_max, 10);

    broker__pkt d = {.type = BROKER_DISCONNECT, .reason = RC_TAKEN_OVER};
    n = enc(&d, 5, buf);
    CU_ASSERT_EQUAL(dec(buf, n, 5, &q), 0);
    CU_ASSERT_EQUAL(q.reason, RC_TAKEN_OVER);
    n = enc(&d, 4, buf);
    CU_ASSERT_EQUAL(n, 2u);

    broker__pkt a = {.type = BROKER_AUTH, .reason = RC_CONTINUE_AUTH};
    BP_SET(&a.props, BP_AUTH_METHOD);
    a.props.auth_method = BIN("SCRAM");
    n = enc(&a, 5, buf);
    CU_ASSERT_EQUAL(dec(buf, n, 5, &q), 0);
    CU_ASSERT(bin_eq(q.props.auth_method, a.props.auth_method));
    CU_ASSERT_EQUAL(dec(buf, n, 4, &q), RC_MALFORMED); /* no AUTH in 3.1.1 */

    broker__pkt ping = {.type = BROKER_PINGREQ};
    n = enc(&ping, 4, buf);
    CU_ASSERT(n == 2 && buf[0] == 0xC0 && buf[1] == 0);
}

/* A raw case: bytes, protocol version in effect, expected result. */
typedef struct raw_case {
    const char *name;
    const char *bytes;
    size_t len;
    uint8_t version;
    int expect;
} raw_case;

#define RAW(name, s, v, e) {name, s, sizeof(s) - 1, v, e}

static const raw_case raw_cases[] = {
    RAW("valid 3.1.1 connect", "\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x00", 0, 0),
    RAW("valid 3.1 connect", "\x10\x0e\x00\x06MQIsdp\x03\x02\x00\x3c\x00\x00", 0, 0),
    RAW("bad protocol name", "\x10\x0c\x00\x04MQTX\x04\x02\x00\x3c\x00\x00", 0, RC_PROTOCOL),
    RAW("unsupported level", "\x10\x0c\x00\x04MQTT\x06\x02\x00\x3c\x00\x00", 0, RC_BAD_VERSION),
    RAW("reserved connect flag", "\x10\x0c\x00\x04MQTT\x04\x03\x00\x3c\x00\x00", 0, RC_MALFORMED),
    RAW("will qos without will", "\x10\x0c\x00\x04MQTT\x04\x0a\x00\x3c\x00\x00", 0, RC_MALFORMED),
    RAW("will qos 3", "\x10\x14\x00\x04MQTT\x04\x1e\x00\x3c\x00\x00\x00\x01t\x00\x01p", 0, RC_MALFORMED),
    RAW("password without user 3.1.1", "\x10\x0f\x00\x04MQTT\x04\x42\x00\x3c\x00\x00\x00\x01p", 0, RC_MALFORMED),
    RAW("trailing bytes in connect", "\x10\x0d\x00\x04MQTT\x04\x02\x00\x3c\x00\x00\x00", 0, RC_MALFORMED),
    RAW("connect truncated", "\x10\x0a\x00\x04MQTT\x04\x02\x00\x3c", 0, RC_MALFORMED),
    RAW("publish before connect", "\x30\x05\x00\x01" "a" "hi", 0, RC_PROTOCOL),
    RAW("client id with U+0000", "\x10\x0e\x00\x04MQTT\x04\x02\x00\x3c\x00\x02" "a\x00", 0, RC_MALFORMED),
    RAW("client id bad utf-8", "\x10\x0e\x00\x04MQTT\x04\x02\x00\x3c\x00\x02\xc3\x28", 0, RC_MALFORMED),
    RAW("client id overlong utf-8", "\x10\x0e\x00\x04MQTT\x04\x02\x00\x3c\x00\x02\xc0\xaf", 0, RC_MALFORMED),
    RAW("client id surrogate", "\x10\x0f\x00\x04MQTT\x04\x02\x00\x3c\x00\x03\xed\xa0\x80", 0, RC_MALFORMED),
    RAW("v5 connect bad property", "\x10\x0f\x00\x04MQTT\x05\x02\x00\x3c\x02\x23\x00\x00\x00", 0, RC_MALFORMED),
    RAW("v5 connect duplicate prop", "\x10\x17\x00\x04MQTT\x05\x02\x00\x3c\x0a\x11\x00\x00\x00\x01\x11\x00\x00\x00\x02\x00\x00", 0, RC_PROTOCOL),
    RAW("v5 receive maximum 0", "\x10\x10\x00\x04MQTT\x05\x02\x00\x3c\x03\x21\x00\x00\x00\x00", 0, RC_PROTOCOL),
    RAW("v5 props length past end", "\x10\x0e\x00\x04MQTT\x05\x02\x00\x3c\x09\x00\x00", 0, RC_MALFORMED),
    RAW("valid publish", "\x30\x05\x00\x01" "a" "hi", 4, 0),
    RAW("publish qos 3", "\x36\x07\x00\x01" "a\x00\x01hi", 4, RC_MALFORMED),
    RAW("publish wildcard topic", "\x30\x05\x00\x01+hi", 4, RC_TOPIC_INVALID),
    RAW("publish empty topic 3.1.1", "\x30\x04\x00\x00hi", 4, RC_TOPIC_INVALID),
    RAW("publish qos1 id 0", "\x32\x05\x00\x01" "a\x00\x00", 4, RC_MALFORMED),
    RAW("publish dup with qos 0", "\x38\x03\x00\x01" "a", 4, RC_MALFORMED),
    RAW("publish topic with U+0000", "\x30\x04\x00\x02" "a\x00", 4, RC_MALFORMED),
    RAW("v5 publish session expiry prop", "\x30\x0a\x00\x01" "a\x05\x11\x00\x00\x00\x01", 5, RC_MALFORMED),
    RAW("v5 publish payload format 2", "\x30\x06\x00\x01" "a\x02\x01\x02", 5, RC_PROTOCOL),
    RAW("v5 publish unknown prop id", "\x30\x06\x00\x01" "a\x02\x7f\x00", 5, RC_MALFORMED),
    RAW("v5 publish topic alias, empty topic", "\x30\x06\x00\x00\x03\x23\x00\x01", 5, 0),
    RAW("v5 sub id 0 in subscribe", "\x82\x09\x00\x01\x02\x0b\x00\x00\x01" "a\x00", 5, RC_PROTOCOL),
    RAW("puback wrong length", "\x40\x03\x00\x01\x00", 4, RC_MALFORMED),
    RAW("puback id 0", "\x40\x02\x00\x00", 4, RC_MALFORMED),
    RAW("pubrel bad flags", "\x60\x02\x00\x01", 4, RC_MALFORMED),
    RAW("subscribe bad flags", "\x80\x06\x00\x01\x00\x01" "a\x00", 4, RC_MALFORMED),
    RAW("subscribe no filters", "\x82\x02\x00\x01", 4, RC_PROTOCOL),
    RAW("subscribe qos 3", "\x82\x06\x00\x01\x00\x01" "a\x03", 4, RC_MALFORMED),
    RAW("subscribe reserved bits 3.1.1", "\x82\x06\x00\x01\x00\x01" "a\x04", 4, RC_MALFORMED),
    RAW("subscribe retain handling 3", "\x82\x07\x00\x01\x00\x00\x01" "a\x30", 5, RC_MALFORMED),
    RAW("subscribe truncated filter", "\x82\x06\x00\x01\x00\x05" "a\x00", 4, RC_MALFORMED),
    RAW("unsubscribe no filters", "\xa2\x02\x00\x01", 4, RC_PROTOCOL),
    RAW("pingreq with body", "\xc0\x01\x00", 4, RC_MALFORMED),
    RAW("disconnect with body 3.1.1", "\xe0\x01\x00", 4, RC_MALFORMED),
    RAW("packet type 0", "\x00\x00", 4, RC_MALFORMED),
    RAW("auth in 3.1.1", "\xf0\x00", 4, RC_MALFORMED),
    RAW("remaining length 5 bytes", "\x30\xff\xff\xff\xff\x01", 4, RC_MALFORMED),
    RAW("remaining length not minimal", "\xc0\x80\x00", 4, RC_MALFORMED),
    RAW("length mismatch", "\x30\x09\x00\x01" "a" "hi", 4, RC_MALFORMED),
    {NULL, NULL, 0, 0, 0},
};

static void test_malformed_table(void)
{
    for (const raw_case *c = raw_cases; c->name; c++) {
        broker__pkt p;
        int rc = dec((const uint8_t *)c->bytes, c->len, c->version, &p);
        if (rc != c->expect) fprintf(stderr, "\n  %s: got 0x%02x, want 0x%02x", c->name, rc, c->expect);
        CU_ASSERT_EQUAL(rc, c->expect);
    }
}

static void test_frame(void)
{
    uint32_t hdr;
    CU_ASSERT_EQUAL(broker__pkt_frame((const uint8_t *)"\x30", 1, &hdr), 0);
    CU_ASSERT_EQUAL(broker__pkt_frame((const uint8_t *)"\x30\x80", 2, &hdr), 0);
    CU_ASSERT_EQUAL(broker__pkt_frame((const uint8_t *)"\x30\x80\x01", 3, &hdr), 3 + 128);
    CU_ASSERT_EQUAL(hdr, 3);
    CU_ASSERT_EQUAL(broker__pkt_frame((const uint8_t *)"\x30\xff\xff\xff\x7f", 5, &hdr), 5 + 268435455);
    CU_ASSERT_EQUAL(broker__pkt_frame((const uint8_t *)"\x30\xff\xff\xff\xff\x01", 6, &hdr), -1);
}

static void test_topic_and_utf8_validation(void)
{
#define F(s) broker__filter_valid((const uint8_t *)(s), strlen(s))
#define T(s) broker__topic_valid((const uint8_t *)(s), strlen(s))
    CU_ASSERT(F("#") && F("+") && F("a/+/b") && F("a/#") && F("+/+") && F("/") && F("$SYS/#"));
    CU_ASSERT(!F("") && !F("a#") && !F("a/#/b") && !F("a+") && !F("a/b+") && !F("#/a") && !F("+a"));
    CU_ASSERT(T("a") && T("/") && T("a//b") && T("$SYS/x"));
    CU_ASSERT(!T("") && !T("a/+") && !T("#"));
    CU_ASSERT(broker__utf8_valid((const uint8_t *)"h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80", 15));
    CU_ASSERT(!broker__utf8_valid((const uint8_t *)"\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
    CU_ASSERT(!broker__utf8_valid((const uint8_t *)"\xe2\x82", 2));         /* truncated */
    CU_ASSERT(!broker__utf8_valid((const uint8_t *)"\x80", 1));             /* lone continuation */
    CU_ASSERT(!broker__utf8_valid((const uint8_t *)"\xe0\x80\xaf", 3));     /* overlong */
#undef F
#undef T
}

/* Every prefix of a valid packet must be rejected without reading past it. */
static void test_truncations(void)
{
    broker__pkt p = {.type = BROKER_PUBLISH, .qos = 1, .id = 5};
    p.topic = BIN("x/y");
    p.payload = BIN("data");
    BP_SET(&p.props, BP_RESPONSE_TOPIC);
    p.props.response_topic = BIN("reply/here");
    uint8_t buf[128];
    size_t n = enc(&p, 5, buf);
    for (size_t cut = 2; cut < n - 4; cut++) {
        uint8_t tmp[128];
        memcpy(tmp, buf, cut);
        tmp[1] = (uint8_t)(cut - 2);
        broker__pkt q;
        CU_ASSERT_NOT_EQUAL(dec(tmp, cut, 5, &q), 0);
    }
}

void ek_register_tests(void)
{
    static const ek_test_case cases[] = {
        {"connect round trip (3.1, 3.1.1, 5.0)", test_connect_roundtrip},
        {"publish round trip with properties", test_publish_roundtrip},
        {"acks round trip", test_acks_roundtrip},
        {"subscribe, suback, unsuback round trip", test_subscribe_roundtrip},
        {"connack, disconnect, auth, ping", test_connack_disconnect_auth},
        {"malformed packets and their reason codes", test_malformed_table},
        {"fixed header framing", test_frame},
        {"topic, filter and utf-8 validation", test_topic_and_utf8_validation},
        {"truncated packets", test_truncations},
        {NULL, NULL},
    };
    ek_add_suite("broker_packet", cases);
}
