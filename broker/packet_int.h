/* The MQTT packet codec shared by every part of the broker (and by its tests and fuzz target).
 *
 * One codec serves MQTT 3.1 (protocol level 3), 3.1.1 (4) and 5.0 (5). Decoding never allocates:
 * a decoded broker__pkt holds views (broker__bin) into the caller's buffer, so it lives as long as
 * that buffer. Decoding is strict (remaining length, flags, UTF-8 well-formedness, no U+0000 in
 * strings, property ids allowed per packet type, no duplicated single-valued property) and returns
 * the MQTT reason code that the connection must be closed with (0x81 malformed, 0x82 protocol
 * error...). Encoding is a single writer that either counts or writes, so the size of a packet is
 * known before it is written (maximum packet size checks) and there is one encoder per packet. */
#ifndef EK_BROKER_PACKET_INT_H
#define EK_BROKER_PACKET_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    BROKER_CONNECT = 1, BROKER_CONNACK, BROKER_PUBLISH, BROKER_PUBACK, BROKER_PUBREC, BROKER_PUBREL,
    BROKER_PUBCOMP, BROKER_SUBSCRIBE, BROKER_SUBACK, BROKER_UNSUBSCRIBE, BROKER_UNSUBACK,
    BROKER_PINGREQ, BROKER_PINGRESP, BROKER_DISCONNECT, BROKER_AUTH,
};

/* MQTT 5 property identifiers. */
enum {
    BP_PAYLOAD_FORMAT = 0x01, BP_MSG_EXPIRY = 0x02, BP_CONTENT_TYPE = 0x03, BP_RESPONSE_TOPIC = 0x08,
    BP_CORRELATION = 0x09, BP_SUB_ID = 0x0B, BP_SESSION_EXPIRY = 0x11, BP_ASSIGNED_ID = 0x12,
    BP_SERVER_KEEP_ALIVE = 0x13, BP_AUTH_METHOD = 0x15, BP_AUTH_DATA = 0x16, BP_REQ_PROBLEM = 0x17,
    BP_WILL_DELAY = 0x18, BP_REQ_RESPONSE = 0x19, BP_RESPONSE_INFO = 0x1A, BP_SERVER_REF = 0x1C,
    BP_REASON = 0x1F, BP_RECEIVE_MAX = 0x21, BP_TOPIC_ALIAS_MAX = 0x22, BP_TOPIC_ALIAS = 0x23,
    BP_MAX_QOS = 0x24, BP_RETAIN_AVAIL = 0x25, BP_USER = 0x26, BP_MAX_PACKET = 0x27,
    BP_WILDCARD_AVAIL = 0x28, BP_SUBID_AVAIL = 0x29, BP_SHARED_AVAIL = 0x2A,
};
#define BP_WILL 16 /* pseudo packet type used to validate will properties */
#define BP_HAS(props, id) (((props)->has >> (id)) & 1u)
#define BP_SET(props, id) ((props)->has |= (uint64_t)1 << (id))

/* MQTT 5 reason codes the broker sends (3.1.1 return codes are mapped where needed). */
enum {
    RC_SUCCESS = 0x00, RC_GRANTED_QOS1 = 0x01, RC_GRANTED_QOS2 = 0x02, RC_DISCONNECT_WITH_WILL = 0x04,
    RC_NO_SUBSCRIBERS = 0x10, RC_NO_SUBSCRIPTION = 0x11, RC_CONTINUE_AUTH = 0x18, RC_REAUTH = 0x19,
    RC_UNSPECIFIED = 0x80, RC_MALFORMED = 0x81, RC_PROTOCOL = 0x82, RC_IMPL_SPECIFIC = 0x83,
    RC_BAD_VERSION = 0x84, RC_BAD_CLIENT_ID = 0x85, RC_BAD_USER_PASS = 0x86, RC_NOT_AUTHORIZED = 0x87,
    RC_UNAVAILABLE = 0x88, RC_BUSY = 0x89, RC_BAD_AUTH_METHOD = 0x8C, RC_KEEP_ALIVE = 0x8D,
    RC_TAKEN_OVER = 0x8E, RC_FILTER_INVALID = 0x8F, RC_TOPIC_INVALID = 0x90, RC_ID_IN_USE = 0x91,
    RC_ID_NOT_FOUND = 0x92, RC_RECEIVE_MAX = 0x93, RC_ALIAS_INVALID = 0x94, RC_TOO_LARGE = 0x95,
    RC_MSG_RATE = 0x96, RC_QUOTA = 0x97, RC_ADMIN_ACTION = 0x98, RC_PAYLOAD_FORMAT = 0x99,
    RC_RETAIN_UNSUPPORTED = 0x9A, RC_QOS_UNSUPPORTED = 0x9B,
    RC_SHARED_UNSUPPORTED = 0x9E, RC_SUBID_UNSUPPORTED = 0xA1, RC_WILDCARD_UNSUPPORTED = 0xA2,
    RC_SHUTTING_DOWN = 0x8B,
    RC_BANNED = 0x8A,
};

typedef struct broker__bin {
    const uint8_t *p;
    uint32_t len;
} broker__bin;

#define BROKER_MAX_SUBIDS 4

typedef struct broker__props {
    uint64_t has; /* bit (1 << id) for each single-valued property present */
    uint8_t payload_format, req_problem, req_response, max_qos, retain_avail;
    uint8_t wildcard_avail, subid_avail, shared_avail;
    uint16_t server_keep_alive, receive_max, topic_alias_max, topic_alias;
    uint32_t msg_expiry, session_expiry, will_delay, max_packet;
    uint32_t sub_id[BROKER_MAX_SUBIDS];
    uint32_t nsub_id; /* subscription identifiers seen (only the first BROKER_MAX_SUBIDS are kept) */
    broker__bin content_type, response_topic, correlation, assigned_id, auth_method, auth_data;
    broker__bin response_info, server_ref, reason;
    uint32_t nuser;    /* decode: user properties seen */
    broker__bin raw;   /* decode: the whole property block (without its length) */
    broker__bin extra; /* encode: already-encoded properties appended verbatim (user props...) */
} broker__props;

typedef struct broker__pkt {
    uint8_t type, flags; /* packet type and the low nibble of the fixed header */
    uint8_t version;     /* 3, 4 or 5 */
    uint8_t reason;      /* reason code (v5 acks, CONNACK return code, DISCONNECT, AUTH) */
    uint16_t id;         /* packet identifier */
    uint8_t qos;
    bool dup, retain;
    broker__props props;
    /* CONNECT */
    bool clean, will, will_retain, has_user, has_pass;
    uint8_t will_qos;
    uint16_t keep_alive;
    broker__bin client_id, username, password, will_topic, will_payload;
    broker__props will_props;
    /* CONNACK */
    bool session_present;
    /* PUBLISH */
    broker__bin topic, payload;
    /* SUBSCRIBE, UNSUBSCRIBE: the entries; SUBACK, UNSUBACK: the reason codes */
    broker__bin list;
    uint32_t count;
    broker__bin wire;    /* decode: the whole packet as received */
} broker__pkt;

/* Parses the fixed header at buf. Returns the total packet length (>= 2) when the header is
 * complete, 0 when more bytes are needed, or -1 when the remaining length is malformed. Sets
 * *hdr to the fixed header's length. */
long broker__pkt_frame(const uint8_t *buf, size_t len, uint32_t *hdr);
/* Decodes one whole packet (buf, len exactly as framed) sent with protocol version `version`
 * (0 before CONNECT: only CONNECT is then accepted and sets pkt->version). Returns 0 or the
 * reason code to close the connection with. pkt holds views into buf. */
int broker__pkt_decode(const uint8_t *buf, size_t len, uint8_t version, broker__pkt *pkt);
/* The encoded length of pkt (fixed header included) for `version`. */
size_t broker__pkt_len(const broker__pkt *pkt, uint8_t version);
/* Writes pkt to dst, which has room for broker__pkt_len() bytes; returns the bytes written. */
size_t broker__pkt_write(const broker__pkt *pkt, uint8_t version, uint8_t *dst);

/* Iterates SUBSCRIBE (filter and options byte) and UNSUBSCRIBE (filter, opts 0) entries of a
 * decoded packet. *pos starts at 0. Returns false at the end. */
bool broker__pkt_next_filter(const broker__pkt *pkt, uint32_t *pos, broker__bin *filter, uint8_t *opts);
/* Appends to dst the properties of raw (a decoded property block) whose id is in `mask`
 * (bit 1 << id); returns the bytes appended. dst may be NULL to count. */
size_t broker__props_filter(broker__bin raw, uint64_t mask, uint8_t *dst);

/* Validation helpers (also used for in-process subscribe and publish). */
bool broker__utf8_valid(const uint8_t *s, size_t len);
bool broker__topic_valid(const uint8_t *s, size_t len);  /* a topic name: no wildcards */
bool broker__filter_valid(const uint8_t *s, size_t len); /* a topic filter */
/* The number of bytes of a variable byte integer for v. */
size_t broker__varint_len(uint32_t v);

#endif
