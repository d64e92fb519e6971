/* Password hashes for the broker's users: salted PBKDF2-HMAC-SHA256 through OpenSSL, in passlib's
 * "$pbkdf2-sha256$<iterations>$<salt>$<hash>" form so that hashes made by Python's passlib (or by
 * `kuiperd user hash`) can be pasted into the configuration. See authdb.h for the format.
 *
 * The iteration count travels with each hash; verification recomputes the hash with the stored
 * salt and count and compares in constant time. Counts are bounded so that a hash written by hand
 * cannot make one CONNECT cost minutes. */
#include "broker/authdb.h"
#include "engine/base64.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PREFIX "$pbkdf2-sha256$"
#define SALT_LEN 16
#define HASH_LEN 32
#define MIN_ITER 1
#define MAX_ITER 10000000u

/* passlib's "adapted base64": standard alphabet with '.' for '+', no padding. */
static void ab64_encode(const uint8_t *in, size_t len, char *out)
{
    int n = EVP_EncodeBlock((unsigned char *)out, in, (int)len);
    while (n > 0 && out[n - 1] == '=') n--;
    out[n] = 0;
    for (char *p = out; *p; p++)
        if (*p == '+') *p = '.';
}

/* Decodes exactly want bytes from in (len characters); false on anything else. */
static bool ab64_decode(const char *in, size_t len, uint8_t *out, size_t want)
{
    uint8_t buf[72];
    if (len == 0 || ek_base64_decoded_max(len) > sizeof buf) return false;
    long n = ek_base64_decode(in, len, EK_B64_PASSLIB, buf);
    if (n < 0 || (size_t)n != want) return false;
    memcpy(out, buf, want);
    return true;
}

static bool derive(const uint8_t *pw, size_t len, const uint8_t *salt, uint32_t iter, uint8_t *out)
{
    return PKCS5_PBKDF2_HMAC((const char *)(pw ? pw : (const uint8_t *)""), (int)len, salt, SALT_LEN, (int)iter,
                             EVP_sha256(), HASH_LEN, out) == 1;
}

int ek_passwd_hash(const char *password, size_t len, uint32_t iterations, char *out)
{
    uint8_t salt[SALT_LEN], h[HASH_LEN];
    char s64[32], h64[48];
    if (iterations < MIN_ITER || iterations > MAX_ITER) iterations = EK_PASSWD_ITERATIONS;
    if (RAND_bytes(salt, SALT_LEN) != 1 || !derive((const uint8_t *)password, len, salt, iterations, h))
        return EK_EIO;
    ab64_encode(salt, SALT_LEN, s64);
    ab64_encode(h, HASH_LEN, h64);
    snprintf(out, EK_PASSWD_MAX, PREFIX "%u$%s$%s", iterations, s64, h64);
    return 0;
}

/* Splits a stored hash into its parts; false when malformed. */
static bool parse(const char *s, uint32_t *iter, uint8_t *salt, uint8_t *h)
{
    if (!s || strncmp(s, PREFIX, strlen(PREFIX)) != 0) return false;
    s += strlen(PREFIX);
    char *end;
    unsigned long it = strtoul(s, &end, 10);
    if (end == s || *end != '$' || it < MIN_ITER || it > MAX_ITER) return false;
    const char *salt64 = end + 1, *d = strchr(salt64, '$');
    if (!d || !ab64_decode(salt64, (size_t)(d - salt64), salt, SALT_LEN)) return false;
    if (!ab64_decode(d + 1, strlen(d + 1), h, HASH_LEN)) return false;
    *iter = (uint32_t)it;
    return true;
}

bool ek_passwd_valid(const char *s)
{
    uint32_t it;
    uint8_t salt[SALT_LEN], h[HASH_LEN];
    return parse(s, &it, salt, h);
}

bool ek_passwd_verify(const char *stored, const uint8_t *password, size_t len)
{
    uint32_t it;
    uint8_t salt[SALT_LEN], want[HASH_LEN], got[HASH_LEN];
    if (!parse(stored, &it, salt, want) || !derive(password, len, salt, it, got)) return false;
    return CRYPTO_memcmp(want, got, HASH_LEN) == 0;
}
