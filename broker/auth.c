/* Authentication: the user list of the broker configuration (`users:` and `allowAnonymous`),
 * checked at CONNECT through the broker's authentication hook (ek_broker.auth), which an embedder
 * may also replace with its own check.
 *
 * A user has a name and either a `password` in clear or a `passwordSha256` (hex of SHA-256 of the
 * password). Comparisons run in constant time. Without any user every client is accepted; with
 * users, a client without a user name is accepted only when allowAnonymous is true, and a wrong
 * name or password gets CONNACK 0x86 (3.1.1: 4).
 *
 * With `enhancedAuth: true` the broker also offers the MQTT 5 enhanced authentication method
 * KUIPER-HMAC-SHA256, a challenge-response that keeps the password off the wire: the client names
 * its user in CONNECT's User Name (no password), the broker answers AUTH 0x18 with a 32-byte
 * random nonce, and the client proves it knows the user's clear `password` by sending back
 * HMAC-SHA256(key = password, message = nonce). Users with only passwordSha256 cannot use it. An
 * unknown user gets a nonce too and fails at the answer, so the exchange does not reveal names. */
#include "broker/broker_int.h"
#include "engine/mem.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>

static bool same(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    return alen == blen && CRYPTO_memcmp(a, b, alen) == 0;
}

static bool hexbytes(const char *hex, uint8_t *out, size_t n)
{
    if (strlen(hex) != 2 * n) return false;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1) return false;
        out[i] = (uint8_t)v;
    }
    return true;
}

static int check(void *arg, const char *client_id, const char *user, const uint8_t *pass, size_t plen)
{
    const broker__cfg *cfg = arg;
    if (!cfg->nusers) return 0;
    if (!user) return cfg->allow_anonymous ? 0 : RC_NOT_AUTHORIZED;
    for (size_t i = 0; i < cfg->nusers; i++) {
        const broker__user *u = &cfg->users[i];
        if (strcmp(u->name, user) != 0) continue;
        if (u->hashed) {
            uint8_t h[SHA256_DIGEST_LENGTH];
            SHA256(pass ? pass : (const uint8_t *)"", plen, h);
            return same(h, sizeof h, u->sha256, sizeof u->sha256) ? 0 : RC_BAD_USER_PASS;
        }
        return same((const uint8_t *)u->password, strlen(u->password), pass ? pass : (const uint8_t *)"", plen)
                   ? 0
                   : RC_BAD_USER_PASS;
    }
    return RC_BAD_USER_PASS;
}

/* ---- KUIPER-HMAC-SHA256 ---- */

#define NONCE_LEN 32

typedef struct hmac_state {
    const broker__user *user; /* NULL for an unknown user (fails at the answer) */
    uint8_t nonce[NONCE_LEN];
} hmac_state;

static int hmac_begin(void *arg, const char *client_id, const char *user, const uint8_t *data, size_t len,
                      void **state, uint8_t **out, size_t *out_len)
{
    const broker__cfg *cfg = arg;
    if (!user) return RC_NOT_AUTHORIZED;
    hmac_state *st = ek_calloc(1, sizeof *st);
    for (size_t i = 0; i < cfg->nusers && !st->user; i++)
        if (!cfg->users[i].hashed && strcmp(cfg->users[i].name, user) == 0) st->user = &cfg->users[i];
    if (RAND_bytes(st->nonce, NONCE_LEN) != 1) {
        ek_free(st);
        return RC_UNSPECIFIED;
    }
    *out = ek_malloc(NONCE_LEN);
    memcpy(*out, st->nonce, NONCE_LEN);
    *out_len = NONCE_LEN;
    *state = st;
    return EK_BROKER_AUTH_CONTINUE;
}

static int hmac_step(void *arg, void *state, const uint8_t *data, size_t len, uint8_t **out, size_t *out_len)
{
    const hmac_state *st = state;
    uint8_t mac[EVP_MAX_MD_SIZE];
    unsigned mlen = 0;
    if (!st->user) return RC_NOT_AUTHORIZED;
    const char *pw = st->user->password;
    if (!HMAC(EVP_sha256(), pw, (int)strlen(pw), st->nonce, NONCE_LEN, mac, &mlen)) return RC_UNSPECIFIED;
    return same(mac, mlen, data ? data : (const uint8_t *)"", len) ? EK_BROKER_AUTH_SUCCESS : RC_NOT_AUTHORIZED;
}

static void hmac_end(void *arg, void *state)
{
    ek_free(state);
}

static const ek_broker_auth_ops hmac_ops = {"KUIPER-HMAC-SHA256", hmac_begin, hmac_step, hmac_end};

int broker__users_load(broker__cfg *cfg, const ek_value *list, ek_err *err)
{
    if (!list || ek_is_null(list)) return 0;
    if (list->type != EK_T_ARRAY) return ek_err_set(err, EK_ECONF, "broker.users: expected a list of users");
    cfg->users = ek_calloc(ek_array_len(list) + 1, sizeof *cfg->users);
    for (size_t i = 0; i < ek_array_len(list); i++) {
        const ek_value *o = ek_array_get(list, i);
        const ek_value *name = o->type == EK_T_OBJECT ? ek_object_get_ci(o, "username") : NULL;
        const ek_value *pw = o->type == EK_T_OBJECT ? ek_object_get_ci(o, "password") : NULL;
        const ek_value *sha = o->type == EK_T_OBJECT ? ek_object_get_ci(o, "passwordSha256") : NULL;
        if (!name || name->type != EK_T_STRING)
            return ek_err_set(err, EK_ECONF, "broker.users[%zu].username: expected a string", i);
        broker__user *u = &cfg->users[cfg->nusers];
        if (sha && sha->type == EK_T_STRING) {
            if (!hexbytes(ek_str_ptr(sha), u->sha256, sizeof u->sha256))
                return ek_err_set(err, EK_ECONF, "broker.users[%zu].passwordSha256: expected 64 hex digits", i);
            u->hashed = true;
        } else if (pw && pw->type == EK_T_STRING) {
            u->password = ek_strdup(ek_str_ptr(pw));
        } else {
            return ek_err_set(err, EK_ECONF, "broker.users[%zu]: expected password or passwordSha256", i);
        }
        u->name = ek_strdup(ek_str_ptr(name));
        cfg->nusers++;
    }
    return 0;
}

void broker__users_free(broker__cfg *cfg)
{
    for (size_t i = 0; i < cfg->nusers; i++) {
        ek_free(cfg->users[i].name);
        ek_free(cfg->users[i].password);
    }
    ek_free(cfg->users);
    cfg->users = NULL;
    cfg->nusers = 0;
}

void broker__auth_install(ek_broker *b)
{
    if (b->cfg.nusers && !b->auth) {
        b->auth = check;
        b->auth_arg = &b->cfg;
    }
    if (b->cfg.enhanced_auth && !b->auth_ops) {
        b->auth_ops = &hmac_ops;
        b->auth_ops_arg = &b->cfg;
    }
}
