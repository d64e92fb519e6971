/* JWT verification (see jwt.h). The token is split into its three base64url parts, header and
 * claims decoded with the one JSON codec, and the signature checked over "header.claims" with
 * OpenSSL: HMAC for HS*, EVP_DigestVerify for RS* and ES* (whose raw r||s signature is turned into
 * DER first, as OpenSSL expects). Sizes are bounded before anything is allocated. */
#include "engine/jwt.h"

#include "engine/base64.h"
#include "engine/codec_json.h"
#include "engine/err.h"
#include "engine/mem.h"

#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define MAX_TOKEN 16384

/* Decodes base64url (no padding) into a fresh buffer; returns its length or -1. */
static long b64url_decode(const char *in, size_t len, uint8_t **out)
{
    uint8_t *buf = ek_malloc(ek_base64_decoded_max(len) + 1);
    long n = ek_base64_decode(in, len, EK_B64_URL, buf);
    if (n < 0) ek_free(buf);
    else *out = buf;
    return n;
}

static int json_part(const char *p, size_t len, ek_value *out)
{
    uint8_t *raw = NULL;
    long n = b64url_decode(p, len, &raw);
    if (n < 0) return -1;
    int rc = ek_json_decode((const char *)raw, (size_t)n, 0, out, NULL);
    ek_free(raw);
    if (rc == 0 && out->type != EK_T_OBJECT) {
        ek_value_unref(out);
        rc = -1;
    }
    return rc ? -1 : 0;
}

__attribute__((format(printf, 3, 4))) static int fail(char *why, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, cap, fmt, ap);
    va_end(ap);
    return EK_EAUTH;
}

static const EVP_MD *digest(const char *alg)
{
    const char *bits = alg + 2;
    if (!strcmp(bits, "256")) return EVP_sha256();
    if (!strcmp(bits, "384")) return EVP_sha384();
    if (!strcmp(bits, "512")) return EVP_sha512();
    return NULL;
}

/* ES*: the JWS signature is r||s, each half the curve's size; OpenSSL wants DER. */
static bool es_to_der(const uint8_t *sig, size_t len, uint8_t **der, size_t *dlen)
{
    if (len == 0 || len % 2 || len > 132) return false;
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, (int)(len / 2), NULL), *s = BN_bin2bn(sig + len / 2, (int)(len / 2), NULL);
    if (!es || !r || !s || ECDSA_SIG_set0(es, r, s) != 1) {
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(es);
        return false;
    }
    unsigned char *p = NULL;
    int n = i2d_ECDSA_SIG(es, &p);
    ECDSA_SIG_free(es);
    if (n <= 0) return false;
    *der = ek_malloc((size_t)n);
    memcpy(*der, p, (size_t)n);
    OPENSSL_free(p);
    *dlen = (size_t)n;
    return true;
}

static bool check_sig(const char *alg, const ek_jwt_key *key, const char *msg, size_t mlen, const uint8_t *sig,
                      size_t slen)
{
    const EVP_MD *md = digest(alg);
    if (!md) return false;
    if (alg[0] == 'H') {
        uint8_t mac[EVP_MAX_MD_SIZE];
        unsigned n = 0;
        if (!HMAC(md, key->secret, (int)key->secret_len, (const uint8_t *)msg, mlen, mac, &n)) return false;
        return n == slen && CRYPTO_memcmp(mac, sig, n) == 0;
    }
    uint8_t *der = NULL;
    if (alg[0] == 'E') {
        if (!es_to_der(sig, slen, &der, &slen)) return false;
        sig = der;
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx && EVP_DigestVerifyInit(ctx, NULL, md, NULL, key->pub) == 1 &&
              EVP_DigestVerify(ctx, sig, slen, (const uint8_t *)msg, mlen) == 1;
    EVP_MD_CTX_free(ctx);
    ek_free(der);
    return ok;
}

/* Whether alg is one we verify and the key given fits it. */
static bool alg_fits(const char *alg, const ek_jwt_key *key)
{
    if (strlen(alg) != 5 || !digest(alg)) return false;
    if (!strncmp(alg, "HS", 2)) return key->secret != NULL;
    int id = key->pub ? EVP_PKEY_get_base_id(key->pub) : 0;
    if (!strncmp(alg, "RS", 2)) return id == EVP_PKEY_RSA;
    if (!strncmp(alg, "ES", 2)) return id == EVP_PKEY_EC;
    return false;
}

static bool number(const ek_value *v, double *out)
{
    if (v->type == EK_T_INT) *out = (double)v->i;
    else if (v->type == EK_T_FLOAT) *out = v->f;
    else return false;
    return true;
}

/* Checks exp and nbf; 0 or EK_EAUTH. */
static int check_times(const ek_value *claims, int64_t now, char *why, size_t cap)
{
    const ek_value *exp = ek_object_get(claims, "exp"), *nbf = ek_object_get(claims, "nbf");
    double t;
    if (exp && !number(exp, &t)) return fail(why, cap, "the token's exp is not a number");
    if (exp && t <= (double)now) return fail(why, cap, "the token has expired");
    if (nbf && !number(nbf, &t)) return fail(why, cap, "the token's nbf is not a number");
    if (nbf && t > (double)now) return fail(why, cap, "the token is not valid yet");
    return 0;
}

/* Finds the two dots of a JWT; false when there are not exactly two. */
static bool split(const char *token, size_t len, const char **d1, const char **d2)
{
    if (len > MAX_TOKEN) return false;
    *d1 = memchr(token, '.', len);
    *d2 = *d1 ? memchr(*d1 + 1, '.', len - (size_t)(*d1 + 1 - token)) : NULL;
    return *d2 && !memchr(*d2 + 1, '.', len - (size_t)(*d2 + 1 - token));
}

int ek_jwt_peek(const char *token, size_t len, ek_value *header, ek_value *claims)
{
    const char *d1, *d2;
    *header = ek_null();
    *claims = ek_null();
    if (!split(token, len, &d1, &d2) || json_part(token, (size_t)(d1 - token), header)) return EK_EAUTH;
    if (json_part(d1 + 1, (size_t)(d2 - d1 - 1), claims)) {
        ek_value_unref(header);
        return EK_EAUTH;
    }
    return 0;
}

int ek_jwt_verify(const char *token, size_t len, const ek_jwt_key *key, int64_t now, ek_value *claims, char *why,
                  size_t cap)
{
    const char *d1, *d2;
    if (!split(token, len, &d1, &d2)) return fail(why, cap, "the token is not a JWT");
    ek_value header, body;
    uint8_t *sig = NULL;
    int rc = EK_EAUTH;
    if (ek_jwt_peek(token, len, &header, &body)) return fail(why, cap, "the token's header or claims are not base64url JSON");
    const ek_value *alg = ek_object_get(&header, "alg");
    if (!alg || alg->type != EK_T_STRING || !alg_fits(ek_str_ptr(alg), key)) {
        fail(why, cap, "the token's alg %s is not accepted", alg && alg->type == EK_T_STRING ? ek_str_ptr(alg) : "(none)");
        goto out;
    }
    long slen = b64url_decode(d2 + 1, len - (size_t)(d2 + 1 - token), &sig);
    if (slen <= 0 || !check_sig(ek_str_ptr(alg), key, token, (size_t)(d2 - token), sig, (size_t)slen)) {
        fail(why, cap, "the token's signature does not verify");
        goto out;
    }
    rc = check_times(&body, now, why, cap);
    if (!rc && claims) {
        *claims = body;
        body = ek_null();
    }
out:
    ek_free(sig);
    ek_value_unref(&header);
    ek_value_unref(&body);
    return rc;
}

EVP_PKEY *ek_jwt_read_pubkey(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    EVP_PKEY *k = PEM_read_PUBKEY(f, NULL, NULL, NULL);
    fclose(f);
    return k;
}

void ek_jwt_free_pubkey(EVP_PKEY *k)
{
    EVP_PKEY_free(k);
}
