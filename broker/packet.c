/* The MQTT codec: one decoder and one encoder for MQTT 3.1, 3.1.1 and 5.0 (see packet_int.h).
 *
 * The decoder reads a whole framed packet through a bounds-checked reader (rd) that records the
 * first error; nothing is read past the end and nothing is allocated, so a hostile packet can at
 * worst be rejected. Every property is checked against a table saying which packets may carry it
 * and of which data type it is. The encoder (wr) runs once in counting mode (dst NULL) and once
 * writing, so sizes are exact and there is a single description of each packet's layout. */
#include "broker/packet_int.h"

#include <string.h>

/* ---- validation ---- */

bool broker__utf8_valid(const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint8_t c = s[i];
        if (c < 0x80) {
            if (c == 0) return false;
            i++;
            continue;
        }
        uint32_t cp;
        size_t n;
        if ((c & 0xE0) == 0xC0) { cp = c & 0x1F; n = 1; }
        else if ((c & 0xF0) == 0xE0) { cp = c & 0x0F; n = 2; }
        else if ((c & 0xF8) == 0xF0) { cp = c & 0x07; n = 3; }
        else return false;
        if (len - i - 1 < n) return false;
        for (size_t k = 1; k <= n; k++) {
            uint8_t cc = s[i + k];
            if ((cc & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (cc & 0x3F);
        }
        /* Overlong forms, surrogates and code points past U+10FFFF are not well-formed. */
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000)) return false;
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += n + 1;
    }
    return true;
}

bool broker__topic_valid(const uint8_t *s, size_t len)
{
    if (len == 0 || len > 65535) return false;
    for (size_t i = 0; i < len; i++)
        if (s[i] == '+' || s[i] == '#' || s[i] == 0) return false;
    return true;
}

bool broker__filter_valid(const uint8_t *s, size_t len)
{
    if (len == 0 || len > 65535) return false;
    for (size_t i = 0; i < len; i++) {
        bool start = i == 0 || s[i - 1] == '/';
        bool end = i + 1 == len || s[i + 1] == '/';
        if (s[i] == 0) return false;
        if (s[i] == '+' && !(start && end)) return false;
        if (s[i] == '#' && !(start && i + 1 == len)) return false;
    }
    return true;
}

size_t broker__varint_len(uint32_t v)
{
    return v < 128 ? 1 : v < 16384 ? 2 : v < 2097152 ? 3 : 4;
}

/* ---- property table ---- */

enum { PT_NONE, PT_BYTE, PT_U16, PT_U32, PT_VARINT, PT_STR, PT_BIN, PT_PAIR };

#define PK(t) (1u << (t))
#define PK_WILL PK(BP_WILL)
#define PK_ACKS (PK(BROKER_PUBACK) | PK(BROKER_PUBREC) | PK(BROKER_PUBREL) | PK(BROKER_PUBCOMP))

static const struct {
    uint8_t type;
    uint32_t packets;
} props_tab[0x2B] = {
    [BP_PAYLOAD_FORMAT] = {PT_BYTE, PK(BROKER_PUBLISH) | PK_WILL},
    [BP_MSG_EXPIRY] = {PT_U32, PK(BROKER_PUBLISH) | PK_WILL},
    [BP_CONTENT_TYPE] = {PT_STR, PK(BROKER_PUBLISH) | PK_WILL},
    [BP_RESPONSE_TOPIC] = {PT_STR, PK(BROKER_PUBLISH) | PK_WILL},
    [BP_CORRELATION] = {PT_BIN, PK(BROKER_PUBLISH) | PK_WILL},
    [BP_SUB_ID] = {PT_VARINT, PK(BROKER_PUBLISH) | PK(BROKER_SUBSCRIBE)},
    [BP_SESSION_EXPIRY] = {PT_U32, PK(BROKER_CONNECT) | PK(BROKER_CONNACK) | PK(BROKER_DISCONNECT)},
    [BP_ASSIGNED_ID] = {PT_STR, PK(BROKER_CONNACK)},
    [BP_SERVER_KEEP_ALIVE] = {PT_U16, PK(BROKER_CONNACK)},
    [BP_AUTH_METHOD] = {PT_STR, PK(BROKER_CONNECT) | PK(BROKER_CONNACK) | PK(BROKER_AUTH)},
    [BP_AUTH_DATA] = {PT_BIN, PK(BROKER_CONNECT) | PK(BROKER_CONNACK) | PK(BROKER_AUTH)},
    [BP_REQ_PROBLEM] = {PT_BYTE, PK(BROKER_CONNECT)},
    [BP_WILL_DELAY] = {PT_U32, PK_WILL},
    [BP_REQ_RESPONSE] = {PT_BYTE, PK(BROKER_CONNECT)},
    [BP_RESPONSE_INFO] = {PT_STR, PK(BROKER_CONNACK)},
    [BP_SERVER_REF] = {PT_STR, PK(BROKER_CONNACK) | PK(BROKER_DISCONNECT)},
    [BP_REASON] = {PT_STR, PK(BROKER_CONNACK) | PK_ACKS | PK(BROKER_SUBACK) | PK(BROKER_UNSUBACK) |
                               PK(BROKER_DISCONNECT) | PK(BROKER_AUTH)},
    [BP_RECEIVE_MAX] = {PT_U16, PK(BROKER_CONNECT) | PK(BROKER_CONNACK)},
    [BP_TOPIC_ALIAS_MAX] = {PT_U16, PK(BROKER_CONNECT) | PK(BROKER_CONNACK)},
    [BP_TOPIC_ALIAS] = {PT_U16, PK(BROKER_PUBLISH)},
    [BP_MAX_QOS] = {PT_BYTE, PK(BROKER_CONNACK)},
    [BP_RETAIN_AVAIL] = {PT_BYTE, PK(BROKER_CONNACK)},
    [BP_USER] = {PT_PAIR, 0xFFFEu | PK_WILL},
    [BP_MAX_PACKET] = {PT_U32, PK(BROKER_CONNECT) | PK(BROKER_CONNACK)},
    [BP_WILDCARD_AVAIL] = {PT_BYTE, PK(BROKER_CONNACK)},
    [BP_SUBID_AVAIL] = {PT_BYTE, PK(BROKER_CONNACK)},
    [BP_SHARED_AVAIL] = {PT_BYTE, PK(BROKER_CONNACK)},
};

/* ---- reader ---- */

typedef struct rd {
    const uint8_t *p, *end;
    int err;
} rd;

static bool need(rd *r, size_t n)
{
    if (r->err) return false;
    if ((size_t)(r->end - r->p) < n) {
        r->err = RC_MALFORMED;
        return false;
    }
    return true;
}

static uint8_t rd_u8(rd *r)
{
    return need(r, 1) ? *r->p++ : 0;
}

static uint16_t rd_u16(rd *r)
{
    if (!need(r, 2)) return 0;
    uint16_t v = (uint16_t)(r->p[0] << 8 | r->p[1]);
    r->p += 2;
    return v;
}

static uint32_t rd_u32(rd *r)
{
    if (!need(r, 4)) return 0;
    uint32_t v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 | (uint32_t)r->p[2] << 8 | r->p[3];
    r->p += 4;
    return v;
}

static uint32_t rd_varint(rd *r)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        uint8_t b = rd_u8(r);
        if (r->err) return 0;
        v |= (uint32_t)(b & 0x7F) << (7 * i);
        if (!(b & 0x80)) {
            if (i > 0 && b == 0) r->err = RC_MALFORMED; /* not the minimal encoding */
            return v;
        }
    }
    r->err = RC_MALFORMED;
    return 0;
}

static broker__bin rd_bin(rd *r)
{
    broker__bin b = {NULL, 0};
    uint16_t n = rd_u16(r);
    if (!need(r, n)) return b;
    b.p = r->p;
    b.len = n;
    r->p += n;
    return b;
}

static broker__bin rd_str(rd *r)
{
    broker__bin b = rd_bin(r);
    if (!r->err && !broker__utf8_valid(b.p, b.len)) r->err = RC_MALFORMED;
    return b;
}

static void rd_props(rd *r, uint8_t ptype, broker__props *pr)
{
    memset(pr, 0, sizeof *pr);
    uint32_t n = rd_varint(r);
    if (!need(r, n)) return;
    rd sub = {r->p, r->p + n, 0};
    pr->raw.p = r->p;
    pr->raw.len = n;
    r->p += n;
    while (!sub.err && sub.p < sub.end) {
        uint32_t id = rd_varint(&sub);
        if (sub.err) break;
        if (id >= sizeof props_tab / sizeof props_tab[0] || !(props_tab[id].packets & PK(ptype))) {
            sub.err = RC_MALFORMED;
            break;
        }
        if (id != BP_USER && id != BP_SUB_ID && BP_HAS(pr, id)) {
            sub.err = RC_PROTOCOL;
            break;
        }
        if (id != BP_USER) BP_SET(pr, id);
        uint32_t v = 0;
        broker__bin b = {NULL, 0};
        switch (props_tab[id].type) {
        case PT_BYTE: v = rd_u8(&sub); break;
        case PT_U16: v = rd_u16(&sub); break;
        case PT_U32: v = rd_u32(&sub); break;
        case PT_VARINT: v = rd_varint(&sub); break;
        case PT_STR: b = rd_str(&sub); break;
        case PT_BIN: b = rd_bin(&sub); break;
        case PT_PAIR: rd_str(&sub); rd_str(&sub); pr->nuser++; break;
        default: sub.err = RC_MALFORMED;
        }
        if (sub.err) break;
        switch (id) {
        case BP_PAYLOAD_FORMAT: pr->payload_format = (uint8_t)v; if (v > 1) sub.err = RC_PROTOCOL; break;
        case BP_MSG_EXPIRY: pr->msg_expiry = v; break;
        case BP_CONTENT_TYPE: pr->content_type = b; break;
        case BP_RESPONSE_TOPIC:
            pr->response_topic = b;
            if (!broker__topic_valid(b.p, b.len)) sub.err = RC_PROTOCOL;
            break;
        case BP_CORRELATION: pr->correlation = b; break;
        case BP_SUB_ID:
            if (v == 0) sub.err = RC_PROTOCOL;
            if (pr->nsub_id < BROKER_MAX_SUBIDS) pr->sub_id[pr->nsub_id] = v;
            pr->nsub_id++;
            if (ptype == BROKER_SUBSCRIBE && pr->nsub_id > 1) sub.err = RC_PROTOCOL;
            break;
        case BP_SESSION_EXPIRY: pr->session_expiry = v; break;
        case BP_ASSIGNED_ID: pr->assigned_id = b; break;
        case BP_SERVER_KEEP_ALIVE: pr->server_keep_alive = (uint16_t)v; break;
        case BP_AUTH_METHOD: pr->auth_method = b; break;
        case BP_AUTH_DATA: pr->auth_data = b; break;
        case BP_REQ_PROBLEM: pr->req_problem = (uint8_t)v; if (v > 1) sub.err = RC_PROTOCOL; break;
        case BP_WILL_DELAY: pr->will_delay = v; break;
        case BP_REQ_RESPONSE: pr->req_response = (uint8_t)v; if (v > 1) sub.err = RC_PROTOCOL; break;
        case BP_RESPONSE_INFO: pr->response_info = b; break;
        case BP_SERVER_REF: pr->server_ref = b; break;
        case BP_REASON: pr->reason = b; break;
        case BP_RECEIVE_MAX: pr->receive_max = (uint16_t)v; if (v == 0) sub.err = RC_PROTOCOL; break;
        case BP_TOPIC_ALIAS_MAX: pr->topic_alias_max = (uint16_t)v; break;
        case BP_TOPIC_ALIAS: pr->topic_alias = (uint16_t)v; break;
        case BP_MAX_QOS: pr->max_qos = (uint8_t)v; if (v > 1) sub.err = RC_PROTOCOL; break;
        case BP_RETAIN_AVAIL: pr->retain_avail = (uint8_t)v; if (v > 1) sub.err = RC_PROTOCOL; break;
        case BP_MAX_PACKET: pr->max_packet = v; if (v == 0) sub.err = RC_PROTOCOL; break;
        case BP_WILDCARD_AVAIL: pr->wildcard_avail = (uint8_t)v; if (v > 1) sub.err = RC_PROTOCOL; break;
        case BP_SUBID_AVAIL: pr->subid_avail = (uint8_t)v; if (v > 1) sub.err = RC_PROTOCOL; break;
        case BP_SHARED_AVAIL: pr->shared_avail = (uint8_t)v; if (v > 1) sub.err = RC_PROTOCOL; break;
        default: break;
        }
    }
    if (sub.err && !r->err) r->err = sub.err;
}

/* ---- decoder ---- */

long broker__pkt_frame(const uint8_t *buf, size_t len, uint32_t *hdr)
{
    uint32_t v = 0;
    for (size_t i = 1; i <= 4; i++) {
        if (i >= len) return 0;
        uint8_t b = buf[i];
        v |= (uint32_t)(b & 0x7F) << (7 * (i - 1));
        if (!(b & 0x80)) {
            if (i > 1 && b == 0) return -1;
            *hdr = (uint32_t)(i + 1);
            return (long)(i + 1) + (long)v;
        }
    }
    return -1;
}

static int dec_connect(rd *r, broker__pkt *p)
{
    broker__bin name = rd_bin(r);
    uint8_t level = rd_u8(r);
    if (r->err) return r->err;
    bool mqtt = name.len == 4 && memcmp(name.p, "MQTT", 4) == 0;
    bool isdp = name.len == 6 && memcmp(name.p, "MQIsdp", 6) == 0;
    if (!mqtt && !isdp) return RC_PROTOCOL;
    if ((isdp && level != 3) || (mqtt && level != 4 && level != 5)) {
        p->version = level == 5 ? 5 : 4;
        return RC_BAD_VERSION;
    }
    p->version = level;
    uint8_t f = rd_u8(r);
    p->keep_alive = rd_u16(r);
    if (r->err) return r->err;
    if (f & 0x01) return RC_MALFORMED;
    p->clean = f & 0x02;
    p->will = f & 0x04;
    p->will_qos = (f >> 3) & 3;
    p->will_retain = f & 0x20;
    p->has_pass = f & 0x40;
    p->has_user = f & 0x80;
    if (!p->will && (p->will_qos || p->will_retain)) return RC_MALFORMED;
    if (p->will_qos == 3) return RC_MALFORMED;
    if (level < 5 && p->has_pass && !p->has_user) return RC_MALFORMED;
    if (level == 5) rd_props(r, BROKER_CONNECT, &p->props);
    p->client_id = rd_str(r);
    if (p->will) {
        if (level == 5) rd_props(r, BP_WILL, &p->will_props);
        p->will_topic = rd_str(r);
        p->will_payload = rd_bin(r);
        if (!r->err && !broker__topic_valid(p->will_topic.p, p->will_topic.len)) return RC_TOPIC_INVALID;
    }
    if (p->has_user) p->username = rd_str(r);
    if (p->has_pass) p->password = rd_bin(r);
    if (!r->err && r->p != r->end) return RC_MALFORMED;
    return r->err;
}

static int dec_publish(rd *r, broker__pkt *p)
{
    p->qos = (p->flags >> 1) & 3;
    p->dup = p->flags & 8;
    p->retain = p->flags & 1;
    if (p->qos == 3) return RC_MALFORMED;
    if (p->qos == 0 && p->dup) return p->version == 5 ? RC_PROTOCOL : RC_MALFORMED;
    p->topic = rd_str(r);
    if (p->qos) {
        p->id = rd_u16(r);
        if (!r->err && p->id == 0) return RC_MALFORMED;
    }
    if (p->version == 5) rd_props(r, BROKER_PUBLISH, &p->props);
    if (r->err) return r->err;
    for (uint32_t i = 0; i < p->topic.len; i++)
        if (p->topic.p[i] == '+' || p->topic.p[i] == '#') return RC_TOPIC_INVALID;
    if (p->topic.len == 0 && !(p->version == 5 && BP_HAS(&p->props, BP_TOPIC_ALIAS))) return RC_TOPIC_INVALID;
    p->payload.p = r->p;
    p->payload.len = (uint32_t)(r->end - r->p);
    r->p = r->end;
    return 0;
}

/* PUBACK, PUBREC, PUBREL, PUBCOMP, and the v5 forms with reason code and properties. */
static int dec_ack(rd *r, broker__pkt *p)
{
    p->id = rd_u16(r);
    if (!r->err && p->id == 0) return RC_MALFORMED;
    if (p->version == 5 && r->p < r->end) p->reason = rd_u8(r);
    if (p->version == 5 && r->p < r->end) rd_props(r, p->type, &p->props);
    if (!r->err && r->p != r->end) return RC_MALFORMED;
    return r->err;
}

/* SUBSCRIBE and UNSUBSCRIBE: validates every entry now so that handlers can iterate freely. */
static int dec_sub(rd *r, broker__pkt *p)
{
    p->id = rd_u16(r);
    if (!r->err && p->id == 0) return RC_MALFORMED;
    if (p->version == 5) rd_props(r, p->type, &p->props);
    if (r->err) return r->err;
    p->list.p = r->p;
    p->list.len = (uint32_t)(r->end - r->p);
    if (p->list.len == 0) return RC_PROTOCOL;
    while (!r->err && r->p < r->end) {
        rd_str(r);
        if (p->type == BROKER_SUBSCRIBE) {
            uint8_t o = rd_u8(r);
            if ((o & 3) == 3) return RC_MALFORMED;
            if (p->version < 5 && (o & 0xFC)) return RC_MALFORMED;
            if (p->version == 5 && ((o & 0xC0) || ((o >> 4) & 3) == 3)) return RC_MALFORMED;
        }
        p->count++;
    }
    return r->err;
}

static int dec_suback(rd *r, broker__pkt *p)
{
    p->id = rd_u16(r);
    if (p->version == 5) rd_props(r, p->type, &p->props);
    if (r->err) return r->err;
    if (p->type == BROKER_UNSUBACK && p->version < 5 && r->p != r->end) return RC_MALFORMED;
    p->list.p = r->p;
    p->list.len = p->count = (uint32_t)(r->end - r->p);
    r->p = r->end;
    return 0;
}

static int dec_reason(rd *r, broker__pkt *p)
{
    if (p->version < 5) return r->p == r->end ? 0 : RC_MALFORMED;
    if (r->p < r->end) p->reason = rd_u8(r);
    if (r->p < r->end) rd_props(r, p->type, &p->props);
    if (!r->err && r->p != r->end) return RC_MALFORMED;
    return r->err;
}

static const uint8_t fixed_flags[16] = {
    [BROKER_PUBREL] = 2, [BROKER_SUBSCRIBE] = 2, [BROKER_UNSUBSCRIBE] = 2,
};

int broker__pkt_decode(const uint8_t *buf, size_t len, uint8_t version, broker__pkt *p)
{
    memset(p, 0, sizeof *p);
    uint32_t hdr = 0;
    long total = broker__pkt_frame(buf, len, &hdr);
    if (total <= 0 || (size_t)total != len) return RC_MALFORMED;
    p->type = buf[0] >> 4;
    p->flags = buf[0] & 0x0F;
    p->version = version;
    p->wire = (broker__bin){buf, (uint32_t)len};
    rd r = {buf + hdr, buf + len, 0};
    if (p->type == 0 || (p->type == BROKER_AUTH && version != 5 && version != 0)) return RC_MALFORMED;
    if (p->type != BROKER_PUBLISH && p->flags != fixed_flags[p->type]) return RC_MALFORMED;
    if (version == 0 && p->type != BROKER_CONNECT) return RC_PROTOCOL;
    switch (p->type) {
    case BROKER_CONNECT: return dec_connect(&r, p);
    case BROKER_CONNACK:
        p->session_present = rd_u8(&r) & 1;
        p->reason = rd_u8(&r);
        if (version == 5) rd_props(&r, p->type, &p->props);
        return r.err ? r.err : r.p == r.end ? 0 : RC_MALFORMED;
    case BROKER_PUBLISH: return dec_publish(&r, p);
    case BROKER_PUBACK: case BROKER_PUBREC: case BROKER_PUBREL: case BROKER_PUBCOMP: return dec_ack(&r, p);
    case BROKER_SUBSCRIBE: case BROKER_UNSUBSCRIBE: return dec_sub(&r, p);
    case BROKER_SUBACK: case BROKER_UNSUBACK: return dec_suback(&r, p);
    case BROKER_PINGREQ: case BROKER_PINGRESP: return r.p == r.end ? 0 : RC_MALFORMED;
    case BROKER_DISCONNECT: case BROKER_AUTH: return dec_reason(&r, p);
    default: return RC_MALFORMED;
    }
}

bool broker__pkt_next_filter(const broker__pkt *p, uint32_t *pos, broker__bin *filter, uint8_t *opts)
{
    if (*pos >= p->list.len) return false;
    rd r = {p->list.p + *pos, p->list.p + p->list.len, 0};
    *filter = rd_bin(&r);
    *opts = p->type == BROKER_SUBSCRIBE ? rd_u8(&r) : 0;
    if (r.err) return false;
    *pos = (uint32_t)(r.p - p->list.p);
    return true;
}

size_t broker__props_filter(broker__bin raw, uint64_t mask, uint8_t *dst)
{
    if (!raw.len) return 0;
    rd r = {raw.p, raw.p + raw.len, 0};
    size_t n = 0;
    while (!r.err && r.p < r.end) {
        const uint8_t *start = r.p;
        uint32_t id = rd_varint(&r);
        if (r.err || id >= sizeof props_tab / sizeof props_tab[0]) break;
        switch (props_tab[id].type) {
        case PT_BYTE: rd_u8(&r); break;
        case PT_U16: rd_u16(&r); break;
        case PT_U32: rd_u32(&r); break;
        case PT_VARINT: rd_varint(&r); break;
        case PT_STR: case PT_BIN: rd_bin(&r); break;
        case PT_PAIR: rd_bin(&r); rd_bin(&r); break;
        default: r.err = 1;
        }
        if (r.err) break;
        if ((mask >> id) & 1u) {
            size_t k = (size_t)(r.p - start);
            if (dst) memcpy(dst + n, start, k);
            n += k;
        }
    }
    return n;
}

/* ---- encoder ---- */

typedef struct wr {
    uint8_t *p; /* NULL: only count */
    size_t n;
} wr;

static void w_u8(wr *w, uint8_t v)
{
    if (w->p) w->p[w->n] = v;
    w->n++;
}

static void w_u16(wr *w, uint16_t v)
{
    w_u8(w, (uint8_t)(v >> 8));
    w_u8(w, (uint8_t)v);
}

static void w_u32(wr *w, uint32_t v)
{
    w_u16(w, (uint16_t)(v >> 16));
    w_u16(w, (uint16_t)v);
}

static void w_varint(wr *w, uint32_t v)
{
    do {
        uint8_t b = v & 0x7F;
        v >>= 7;
        w_u8(w, (uint8_t)(b | (v ? 0x80 : 0)));
    } while (v);
}

static void w_raw(wr *w, const void *src, size_t n)
{
    if (w->p && n) memcpy(w->p + w->n, src, n);
    w->n += n;
}

static void w_bin(wr *w, broker__bin b)
{
    w_u16(w, (uint16_t)b.len);
    w_raw(w, b.p, b.len);
}

static void w_props_body(wr *w, const broker__props *pr)
{
    static const uint8_t order[] = {
        BP_PAYLOAD_FORMAT, BP_MSG_EXPIRY, BP_CONTENT_TYPE, BP_RESPONSE_TOPIC, BP_CORRELATION,
        BP_SESSION_EXPIRY, BP_ASSIGNED_ID, BP_SERVER_KEEP_ALIVE, BP_AUTH_METHOD, BP_AUTH_DATA,
        BP_REQ_PROBLEM, BP_WILL_DELAY, BP_REQ_RESPONSE, BP_RESPONSE_INFO, BP_SERVER_REF, BP_REASON,
        BP_RECEIVE_MAX, BP_TOPIC_ALIAS_MAX, BP_TOPIC_ALIAS, BP_MAX_QOS, BP_RETAIN_AVAIL, BP_MAX_PACKET,
        BP_WILDCARD_AVAIL, BP_SUBID_AVAIL, BP_SHARED_AVAIL,
    };
    for (size_t i = 0; i < sizeof order; i++) {
        uint8_t id = order[i];
        if (!BP_HAS(pr, id)) continue;
        w_u8(w, id);
        switch (id) {
        case BP_PAYLOAD_FORMAT: w_u8(w, pr->payload_format); break;
        case BP_MSG_EXPIRY: w_u32(w, pr->msg_expiry); break;
        case BP_CONTENT_TYPE: w_bin(w, pr->content_type); break;
        case BP_RESPONSE_TOPIC: w_bin(w, pr->response_topic); break;
        case BP_CORRELATION: w_bin(w, pr->correlation); break;
        case BP_SESSION_EXPIRY: w_u32(w, pr->session_expiry); break;
        case BP_ASSIGNED_ID: w_bin(w, pr->assigned_id); break;
        case BP_SERVER_KEEP_ALIVE: w_u16(w, pr->server_keep_alive); break;
        case BP_AUTH_METHOD: w_bin(w, pr->auth_method); break;
        case BP_AUTH_DATA: w_bin(w, pr->auth_data); break;
        case BP_REQ_PROBLEM: w_u8(w, pr->req_problem); break;
        case BP_WILL_DELAY: w_u32(w, pr->will_delay); break;
        case BP_REQ_RESPONSE: w_u8(w, pr->req_response); break;
        case BP_RESPONSE_INFO: w_bin(w, pr->response_info); break;
        case BP_SERVER_REF: w_bin(w, pr->server_ref); break;
        case BP_REASON: w_bin(w, pr->reason); break;
        case BP_RECEIVE_MAX: w_u16(w, pr->receive_max); break;
        case BP_TOPIC_ALIAS_MAX: w_u16(w, pr->topic_alias_max); break;
        case BP_TOPIC_ALIAS: w_u16(w, pr->topic_alias); break;
        case BP_MAX_QOS: w_u8(w, pr->max_qos); break;
        case BP_RETAIN_AVAIL: w_u8(w, pr->retain_avail); break;
        case BP_MAX_PACKET: w_u32(w, pr->max_packet); break;
        case BP_WILDCARD_AVAIL: w_u8(w, pr->wildcard_avail); break;
        case BP_SUBID_AVAIL: w_u8(w, pr->subid_avail); break;
        case BP_SHARED_AVAIL: w_u8(w, pr->shared_avail); break;
        default: break;
        }
    }
    uint32_t nsub = pr->nsub_id < BROKER_MAX_SUBIDS ? pr->nsub_id : BROKER_MAX_SUBIDS;
    for (uint32_t i = 0; i < nsub; i++) {
        w_u8(w, BP_SUB_ID);
        w_varint(w, pr->sub_id[i]);
    }
    w_raw(w, pr->extra.p, pr->extra.len);
}

static bool props_empty(const broker__props *pr)
{
    return !pr->has && !pr->nsub_id && !pr->extra.len;
}

static void w_props(wr *w, const broker__props *pr)
{
    wr c = {NULL, 0};
    w_props_body(&c, pr);
    w_varint(w, (uint32_t)c.n);
    w_props_body(w, pr);
}

static void w_connect(wr *w, const broker__pkt *p, uint8_t v)
{
    if (v == 3) w_bin(w, (broker__bin){(const uint8_t *)"MQIsdp", 6});
    else w_bin(w, (broker__bin){(const uint8_t *)"MQTT", 4});
    w_u8(w, v);
    uint8_t f = (uint8_t)((p->clean ? 2 : 0) | (p->will ? 4 | (p->will_qos << 3) | (p->will_retain ? 0x20 : 0) : 0) |
                          (p->has_pass ? 0x40 : 0) | (p->has_user ? 0x80 : 0));
    w_u8(w, f);
    w_u16(w, p->keep_alive);
    if (v == 5) w_props(w, &p->props);
    w_bin(w, p->client_id);
    if (p->will) {
        if (v == 5) w_props(w, &p->will_props);
        w_bin(w, p->will_topic);
        w_bin(w, p->will_payload);
    }
    if (p->has_user) w_bin(w, p->username);
    if (p->has_pass) w_bin(w, p->password);
}

static void w_body(wr *w, const broker__pkt *p, uint8_t v)
{
    switch (p->type) {
    case BROKER_CONNECT: w_connect(w, p, v); break;
    case BROKER_CONNACK:
        w_u8(w, p->session_present ? 1 : 0);
        w_u8(w, p->reason);
        if (v == 5) w_props(w, &p->props);
        break;
    case BROKER_PUBLISH:
        w_bin(w, p->topic);
        if (p->qos) w_u16(w, p->id);
        if (v == 5) w_props(w, &p->props);
        w_raw(w, p->payload.p, p->payload.len);
        break;
    case BROKER_PUBACK: case BROKER_PUBREC: case BROKER_PUBREL: case BROKER_PUBCOMP:
        w_u16(w, p->id);
        if (v == 5 && (p->reason || !props_empty(&p->props))) {
            w_u8(w, p->reason);
            if (!props_empty(&p->props)) w_props(w, &p->props);
        }
        break;
    case BROKER_SUBSCRIBE: case BROKER_UNSUBSCRIBE: case BROKER_SUBACK: case BROKER_UNSUBACK:
        w_u16(w, p->id);
        if (v == 5) w_props(w, &p->props);
        if (v == 5 || p->type != BROKER_UNSUBACK) w_raw(w, p->list.p, p->list.len);
        break;
    case BROKER_DISCONNECT: case BROKER_AUTH:
        if (v == 5 && (p->reason || !props_empty(&p->props) || p->type == BROKER_AUTH)) {
            w_u8(w, p->reason);
            w_props(w, &p->props);
        }
        break;
    default: break;
    }
}

static uint8_t first_byte(const broker__pkt *p)
{
    uint8_t f = fixed_flags[p->type & 15];
    if (p->type == BROKER_PUBLISH)
        f = (uint8_t)((p->dup ? 8 : 0) | (p->qos << 1) | (p->retain ? 1 : 0));
    return (uint8_t)(p->type << 4 | f);
}

size_t broker__pkt_len(const broker__pkt *p, uint8_t v)
{
    wr w = {NULL, 0};
    w_body(&w, p, v);
    return 1 + broker__varint_len((uint32_t)w.n) + w.n;
}

size_t broker__pkt_write(const broker__pkt *p, uint8_t v, uint8_t *dst)
{
    wr c = {NULL, 0};
    w_body(&c, p, v);
    wr w = {dst, 0};
    w_u8(&w, first_byte(p));
    w_varint(&w, (uint32_t)c.n);
    w_body(&w, p, v);
    return w.n;
}
