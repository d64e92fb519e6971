/* Base64 decoding in the three forms kuiperd reads: standard padded text (SQL decode(), cast to
 * bytes, a JWT HMAC secret given as base64), base64url without padding (JWT segments, RFC 7515) and
 * passlib's adapted alphabet without padding ('.' for '+': the PBKDF2 hashes of the broker's user
 * database). OpenSSL's EVP_DecodeBlock does the decoding; this file only maps the alphabet, adds the
 * padding it needs and removes what the padding adds to its count. Encoding is EVP_EncodeBlock at
 * each caller. */
#ifndef EK_BASE64_H
#define EK_BASE64_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    EK_B64_STD,     /* "+/", padded to a multiple of 4; EVP_DecodeBlock judges the characters */
    EK_B64_URL,     /* "-_", no padding; '+', '/' and '=' are refused */
    EK_B64_PASSLIB, /* "./" for "+/", no padding; anything outside the alphabet is refused */
} ek_b64_form;

/* The size out must have for len characters of input. */
static inline size_t ek_base64_decoded_max(size_t len) { return (len + 3) / 4 * 3; }

/* Decodes len characters of in, written in form, into out (ek_base64_decoded_max(len) bytes);
 * returns the number of bytes decoded, or -1 when in is not base64 of that form. */
long ek_base64_decode(const char *in, size_t len, ek_b64_form form, uint8_t *out);

#endif
