/* WebSocket (RFC 6455) framing and the HTTP upgrade, as pure functions over bytes: no sockets, no
 * connection, no allocation. broker/transport.c drives them for the WebSocket listeners; the
 * libFuzzer target tests/fuzz/fuzz_ws_frames.c drives them with arbitrary input.
 *
 * The decoder is a streaming state machine with constant-size state: it unmasks the payload of
 * data frames into an output buffer that may be the input buffer itself (output never runs ahead
 * of input), so a connection decodes in place and keeps no frame in memory. Control frames
 * (payload at most 125 bytes) are collected whole in the state and reported one at a time. */
#ifndef EK_BROKER_WS_H
#define EK_BROKER_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { WS_OP_CONT = 0, WS_OP_TEXT = 1, WS_OP_BIN = 2, WS_OP_CLOSE = 8, WS_OP_PING = 9, WS_OP_PONG = 10 };

/* Close status codes (RFC 6455 section 7.4.1) the broker sends. */
enum {
    WS_CLOSE_NORMAL = 1000,
    WS_CLOSE_GOING_AWAY = 1001,
    WS_CLOSE_PROTOCOL = 1002,
    WS_CLOSE_UNSUPPORTED = 1003,
    WS_CLOSE_NO_STATUS = 1005,   /* never sent: a close frame without a code */
    WS_CLOSE_INVALID = 1007,
    WS_CLOSE_POLICY = 1008,
    WS_CLOSE_TOO_BIG = 1009,
};

/* What broker__ws_decode stopped at: a whole control frame, whose payload is rx->ctl[0..ctl_len). */
enum { WS_RX_MORE = 0, WS_RX_PING = 1, WS_RX_PONG = 2, WS_RX_CLOSE = 3 };

typedef struct broker__ws_rx {
    uint64_t max_frame;   /* largest data frame payload accepted (set before decoding) */
    uint64_t left;        /* payload bytes still to come in the current frame */
    uint8_t hdr[14];      /* a header received in pieces */
    uint8_t hlen, need;   /* header bytes held, and the header's full size once known */
    uint8_t mask[4], mpos;
    uint8_t op;           /* opcode of the current frame */
    bool fin;
    bool in_frame;        /* the header is complete, payload follows */
    bool in_msg;          /* a fragmented data message is under way (continuations expected) */
    uint8_t ctl_len;
    uint8_t ctl[125];     /* the payload of the current control frame */
} broker__ws_rx;

/* Decodes len bytes of a client's stream. The payload of data frames is unmasked into out (which
 * may be in itself: the output never overtakes the input), *out_len bytes. Returns WS_RX_MORE when
 * every byte was consumed (*used == len), a WS_RX_* event when a control frame just ended (*used
 * bytes consumed; call again with the rest), or minus a close status code for a protocol
 * violation: -1002 (bad header, unmasked frame, misplaced continuation, bad close frame), -1003
 * (a text frame: MQTT travels in binary frames only) or -1009 (a frame over rx->max_frame). */
int broker__ws_decode(broker__ws_rx *rx, const uint8_t *in, size_t len, size_t *used, uint8_t *out,
                      size_t *out_len);

/* Writes the header of an unmasked, final server frame with opcode op and a payload of len bytes
 * into hdr; returns its size (2, 4 or 10). */
size_t broker__ws_header(uint8_t hdr[10], uint8_t op, uint64_t len);

/* The status code of a close frame's payload: 1005 when empty, the code when it is one a peer may
 * send (1000-1003, 1007-1011, 3000-4999) with a valid UTF-8 reason, else -1. */
int broker__ws_close_code(const uint8_t *p, size_t len);

/* ---- the HTTP upgrade ---- */

#define WS_HEAD_MAX 8192  /* the largest request head accepted */

/* The length of the request head in buf (through the blank line), or 0 while incomplete. */
size_t broker__ws_head_end(const uint8_t *buf, size_t len);

/* Answers the request head (head_len bytes, through the blank line) for a listener serving path:
 * writes the HTTP response into resp (cap at least 512) and returns its length. *ok is true for
 * "101 Switching Protocols" (the upgrade to subprotocol mqtt or mqttv3.1, whichever the client
 * lists first), false for 400 (not a valid upgrade or no MQTT subprotocol), 404 (another path), 405
 * (not GET) or 426 (a WebSocket version other than 13); after those the connection is closed. */
size_t broker__ws_handshake(const char *head, size_t head_len, const char *path, char *resp, size_t cap,
                            bool *ok);

/* Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA-1(key + the RFC's GUID)), 28 chars + NUL. */
void broker__ws_accept_key(const char *key, size_t klen, char out[29]);

#endif
