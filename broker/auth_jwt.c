/* JWT authentication of MQTT clients, in EMQX's way: with `jwt: {enable: true}` a client puts a
 * JSON Web Token in its password (or, with `from: username`, its user name) and is accepted when
 * the token's signature verifies with the configured HMAC `secret` (HS256/384/512) or `publicKey`
 * PEM file (RS256/384/512, ES256/384/512) and its exp/nbf claims hold (engine/jwt.c does the
 * verifying). A field that does not look like a JWT (three dot-separated parts) is left to the
 * other checks of auth.c; a JWT that fails is refused with 0x86 (3.1.1: 4). */
#include "broker/broker_int.h"
#include "engine/base64.h"
#include "engine/log.h"
#include "engine/mem.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Decodes base64 secret text into cfg->jwt.secret; false when it is not base64. */
static bool secret_b64(broker__cfg *cfg, const char *s, size_t len)
{
    cfg->jwt.secret = ek_malloc(ek_base64_decoded_max(len) + 1);
    long n = ek_base64_decode(s, len, EK_B64_STD, cfg->jwt.secret);
    if (n < 0) return false;
    cfg->jwt.key.secret_len = (size_t)n;
    return true;
}

static const char *str(const ek_value *o, const char *key)
{
    const ek_value *v = ek_object_get_ci(o, key);
    return v && v->type == EK_T_STRING ? ek_str_ptr(v) : NULL;
}

int broker__jwt_load(broker__cfg *cfg, const ek_value *o, ek_err *err)
{
    if (!o || ek_is_null(o)) return 0;
    if (o->type != EK_T_OBJECT) return ek_err_set(err, EK_ECONF, "broker.jwt: expected a mapping");
    const ek_value *en = ek_object_get_ci(o, "enable"), *b64 = ek_object_get_ci(o, "secretBase64");
    cfg->jwt.enable = en && en->type == EK_T_BOOL && en->b;
    if (!cfg->jwt.enable) return 0;
    const char *from = str(o, "from"), *secret = str(o, "secret"), *pub = str(o, "publicKey");
    if (from && strcmp(from, "password") && strcmp(from, "username"))
        return ek_err_set(err, EK_ECONF, "broker.jwt.from: expected password or username");
    cfg->jwt.from_username = from && !strcmp(from, "username");
    if (!secret && !pub) return ek_err_set(err, EK_ECONF, "broker.jwt: expected a secret or a publicKey");
    if (secret && *secret) {
        if (b64 && b64->type == EK_T_BOOL && b64->b) {
            if (!secret_b64(cfg, secret, strlen(secret)))
                return ek_err_set(err, EK_ECONF, "broker.jwt.secret: expected base64 (secretBase64 is true)");
        } else {
            cfg->jwt.secret = (uint8_t *)ek_strdup(secret);
            cfg->jwt.key.secret_len = strlen(secret);
        }
        cfg->jwt.key.secret = cfg->jwt.secret;
    }
    if (pub && *pub) {
        cfg->jwt.key.pub = ek_jwt_read_pubkey(pub);
        if (!cfg->jwt.key.pub) { /* tell a missing or unreadable file from one that holds no key */
            FILE *f = fopen(pub, "r");
            if (!f) return ek_err_set(err, EK_ECONF, "broker.jwt.publicKey: cannot open %s: %s", pub, strerror(errno));
            fclose(f);
            return ek_err_set(err, EK_ECONF,
                              "broker.jwt.publicKey: %s holds no PEM public key (-----BEGIN PUBLIC KEY-----)", pub);
        }
    }
    return 0;
}

void broker__jwt_free(broker__cfg *cfg)
{
    ek_free(cfg->jwt.secret);
    ek_jwt_free_pubkey(cfg->jwt.key.pub);
    memset(&cfg->jwt, 0, sizeof cfg->jwt);
}

/* Whether s (len bytes) has a JWT's shape: three non-empty parts separated by two dots. */
static bool jwt_shaped(const uint8_t *s, size_t len)
{
    int dots = 0;
    for (size_t i = 0; i < len; i++)
        if (s[i] == '.') dots++;
    return dots == 2 && len > 4 && s[0] != '.' && s[len - 1] != '.';
}

int broker__jwt_check(const broker__cfg *cfg, const char *user, const broker__pkt *p)
{
    if (!cfg->jwt.enable) return -1;
    const uint8_t *tok = cfg->jwt.from_username ? (const uint8_t *)user : p->password.p;
    size_t len = cfg->jwt.from_username ? (user ? strlen(user) : 0) : p->password.len;
    if (!tok || !jwt_shaped(tok, len)) return -1;
    char why[128];
    if (ek_jwt_verify((const char *)tok, len, &cfg->jwt.key, (int64_t)time(NULL), NULL, why, sizeof why) == 0)
        return 0;
    ek_debug("broker: JWT of client %.*s refused: %s", (int)p->client_id.len, (const char *)p->client_id.p, why);
    return RC_BAD_USER_PASS;
}
