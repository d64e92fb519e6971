/* JSON Web Tokens (RFC 7519) verified with OpenSSL: HS256/384/512 with a shared secret, RS256/384/512
 * and ES256/384/512 with a public key. "none" and any algorithm that does not fit the key given
 * are refused, so a token cannot choose a weaker check than the one configured. The "exp" and "nbf"
 * claims, when present, must be numbers and are checked against now. Used by the broker (JWT in
 * the MQTT password or user name field). */
#ifndef EK_JWT_H
#define EK_JWT_H

#include "engine/value.h"

#include <stddef.h>
#include <stdint.h>

typedef struct evp_pkey_st EVP_PKEY;

typedef struct ek_jwt_key {
    const uint8_t *secret; /* HMAC secret, or NULL */
    size_t secret_len;
    EVP_PKEY *pub;         /* RSA or EC public key, or NULL */
} ek_jwt_key;

/* Verifies token (len bytes) at now (seconds since the epoch). Returns 0 and, when claims is not
 * NULL, the claims object (the caller unrefs it); or EK_EAUTH with why (cap bytes) saying what was
 * wrong: not a JWT, unsupported or mismatched alg, bad signature, expired, not yet valid. */
int ek_jwt_verify(const char *token, size_t len, const ek_jwt_key *key, int64_t now, ek_value *claims, char *why,
                  size_t cap);
/* Decodes header and claims without verifying anything (to choose the key by a claim, as "iss").
 * Returns 0 with both objects (the caller unrefs them), or EK_EAUTH when it is not a JWT. */
int ek_jwt_peek(const char *token, size_t len, ek_value *header, ek_value *claims);
/* Reads a PEM public key file; NULL when it cannot. */
EVP_PKEY *ek_jwt_read_pubkey(const char *path);
void ek_jwt_free_pubkey(EVP_PKEY *k);

#endif
