/* The one JSON <-> ek_value codec of kuiperd (built on cJSON).
 *
 * Decoding keeps integers exact: a number literal without '.', 'e' or 'E' that fits int64 becomes
 * EK_T_INT, anything else EK_T_FLOAT; EK_JSON_FLOAT_NUMBERS makes every number a float, which is
 * what eKuiper does for schemaless streams (so 7 / 2 is 3.5 there). Strings round-trip exact UTF-8;
 * a byte that does not start a well-formed UTF-8 sequence decodes as U+FFFD, as in Go.
 *
 * Encoding prints numbers as eKuiper (Go) does: integers as integers, floats in the shortest form
 * that reads back the same, without ".0" for whole floats, exponent form below 1e-6 and from 1e21.
 * Datetimes print as RFC 3339 strings in UTC, bytes as base64, as Go's encoding/json would. */
#ifndef EK_CODEC_JSON_H
#define EK_CODEC_JSON_H

#include "engine/buf.h"
#include "engine/err.h"
#include "engine/value.h"

enum {
    EK_JSON_FLOAT_NUMBERS = 1, /* decode: every number is a float */
    EK_JSON_SORT_KEYS = 2,     /* encode: object keys in byte order, as Go's maps marshal */
};

/* Parses len bytes of JSON into *out (owned by the caller on success). On failure returns
 * EK_EPARSE and err says where: "invalid JSON at line L, column C". Nesting is bounded. */
int ek_json_decode(const char *text, size_t len, int flags, ek_value *out, ek_err *err);
/* Appends the JSON text of v to out. */
void ek_json_encode(const ek_value *v, int flags, ek_buf *out);
/* The JSON text of v as a new string (ek_free it). */
char *ek_json_encode_str(const ek_value *v, int flags);
/* Formats a double as Go's strconv/json would; out needs 32 bytes. NaN and infinities print "null". */
void ek_json_format_double(double f, char out[32]);
/* Formats a datetime (ns since epoch) as RFC 3339 with nanoseconds trimmed, UTC; out needs 40 bytes. */
void ek_json_format_datetime(int64_t ns, char out[40]);

#endif
