/* Authentication at CONNECT: JWT (auth_jwt.c), the user list of the broker configuration
 * (`users:`), the user database (authdb.h: `kuiperd user`, REST /broker/users) and
 * `allowAnonymous`, plus the MQTT 5 enhanced authentication method KUIPER-HMAC-SHA256.
 *
 * A configured user has a name and a `password` in clear, a `passwordSha256` (hex of SHA-256 of the
 * password) or a `passwordPbkdf2` (a salted PBKDF2-SHA256 hash, passwd.c); database users always
 * have the PBKDF2 form. Comparisons run in constant time. With no user anywhere and JWT off every
 * client is accepted. Otherwise a JWT in the configured field decides when there is one; a client
 * without a user name is accepted only when allowAnonymous is true (else 0x87, 3.1.1: 5); a known
 * name with the right password is accepted (the configuration is searched before the database),
 * and anything else gets 0x86 (3.1.1: 4). A superuser skips the ACL. PBKDF2 hashes are verified
 * on the checker thread of auth_check.c, so a slow hash never stalls the reactor.
 *
 * With `enhancedAuth: true` the broker also offers the MQTT 5 enhanced authentication method
 * KUIPER-HMAC-SHA256, a challenge-response that keeps the password off the wire: the client names
 * its user in CONNECT's User Name (no password), the broker answers AUTH 0x18 with a 32-byte
 * random nonce, and the client proves it knows the user's clear `password` by sending back
 * HMAC-SHA256(key = password, message = nonce). Users with only a hash cannot use it. An
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

/* Whether pass is u's password. */
static bool user_ok(const broker__user *u, const uint8_t *pass, size_t plen)
{
    if (!pass) pass = (const uint8_t *)"";
    if (u->hashed) {
        uint8_t h[SHA256_DIGEST_LENGTH];
        SHA256(pass, plen, h);
        return same(h, sizeof h, u->sha256, sizeof u->sha256);
    }
    return same((const uint8_t *)u->password, strlen(u->password), pass, plen);
}

/* A hash no password is accepted for: an unknown user costs the same PBKDF2 work as a known one,
 * so the time of the answer does not tell which names exist. */
static const char UNKNOWN[] = "$pbkdf2-sha256$10000$n2wqtr.vKt6Nmq888bENyQ$m0xyHZZwvjV5m9.20Lu8uJa.Bf6vTRn8EQTdQ4tln8o";

/* Verifies a PBKDF2 hash: on the checker thread when there is one (BROKER_CHECK_PENDING). */
static int check_hash(broker__conn *c, const broker__pkt *p, const char *hash, bool superuser)
{
    if (broker__check_ready(c->b)) {
        broker__check_start(c, p, hash, superuser, hash != UNKNOWN);
        return BROKER_CHECK_PENDING;
    }
    if (hash == UNKNOWN) return RC_BAD_USER_PASS;
    if (!ek_passwd_verify(hash, p->password.p ? p->password.p : (const uint8_t *)"", p->password.len))
        return RC_BAD_USER_PASS;
    c->superuser = superuser;
    return 0;
}

/* Checks user against the configuration then the database: 0, RC_BAD_USER_PASS, or
 * BROKER_CHECK_PENDING. */
static int check_user(broker__conn *c, const char *user, const broker__pkt *p)
{
    const broker__cfg *cfg = &c->b->cfg;
    for (size_t i = 0; i < cfg->nusers; i++) {
        const broker__user *u = &cfg->users[i];
        if (!u->name || strcmp(u->name, user) != 0) continue;
        if (u->pbkdf2) return check_hash(c, p, u->pbkdf2, u->superuser);
        if (!user_ok(u, p->password.p, p->password.len)) return RC_BAD_USER_PASS;
        c->superuser = u->superuser;
        return 0;
    }
    char hash[EK_PASSWD_MAX];
    bool super = false;
    if (c->b->authdb && ek_authdb_user_get(c->b->authdb, user, hash, &super) == 1)
        return check_hash(c, p, hash, super);
    return check_hash(c, p, UNKNOWN, false);
}

int broker__authenticate(broker__conn *c, const char *client_id, const broker__pkt *p)
{
    ek_broker *b = c->b;
    const broker__cfg *cfg = &b->cfg;
    c->superuser = false;
    if (!cfg->nusers && !cfg->jwt.enable && !(b->authdb && ek_authdb_has_users(b->authdb))) return 0;
    char *user = p->has_user ? ek_strndup((const char *)p->username.p, p->username.len) : NULL;
    int rc = broker__jwt_check(cfg, user, p);
    if (rc < 0) {
        if (!user) rc = cfg->allow_anonymous ? 0 : RC_NOT_AUTHORIZED;
        else rc = check_user(c, user, p);
    }
    ek_free(user);
    return rc;
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
        if (cfg->users[i].password && strcmp(cfg->users[i].name, user) == 0) st->user = &cfg->users[i];
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

/* Reads one user {username, password | passwordSha256 | passwordPbkdf2, superuser} into u. */
static int user_load(const ek_value *o, broker__user *u, size_t i, ek_err *err)
{
    const ek_value *name = o->type == EK_T_OBJECT ? ek_object_get_ci(o, "username") : NULL;
    if (!name || name->type != EK_T_STRING)
        return ek_err_set(err, EK_ECONF, "broker.users[%zu].username: expected a string", i);
    const ek_value *pw = ek_object_get_ci(o, "password"), *sha = ek_object_get_ci(o, "passwordSha256");
    const ek_value *pb = ek_object_get_ci(o, "passwordPbkdf2"), *su = ek_object_get_ci(o, "superuser");
    if (pb && pb->type == EK_T_STRING) {
        if (!ek_passwd_valid(ek_str_ptr(pb)))
            return ek_err_set(err, EK_ECONF,
                              "broker.users[%zu].passwordPbkdf2: expected $pbkdf2-sha256$<iterations>$<salt>$<hash> "
                              "(kuiperd user hash)", i);
        u->pbkdf2 = ek_strdup(ek_str_ptr(pb));
    } else if (sha && sha->type == EK_T_STRING) {
        if (!hexbytes(ek_str_ptr(sha), u->sha256, sizeof u->sha256))
            return ek_err_set(err, EK_ECONF, "broker.users[%zu].passwordSha256: expected 64 hex digits", i);
        u->hashed = true;
    } else if (pw && pw->type == EK_T_STRING) {
        u->password = ek_strdup(ek_str_ptr(pw));
    } else {
        return ek_err_set(err, EK_ECONF, "broker.users[%zu]: expected password, passwordSha256 or passwordPbkdf2", i);
    }
    if (su && su->type != EK_T_BOOL)
        return ek_err_set(err, EK_ECONF, "broker.users[%zu].superuser: expected true or false", i);
    u->superuser = su && su->b;
    u->name = ek_strdup(ek_str_ptr(name));
    return 0;
}

int broker__users_load(broker__cfg *cfg, const ek_value *list, ek_err *err)
{
    if (!list || ek_is_null(list)) return 0;
    if (list->type != EK_T_ARRAY) return ek_err_set(err, EK_ECONF, "broker.users: expected a list of users");
    cfg->users = ek_calloc(ek_array_len(list) + 1, sizeof *cfg->users);
    for (size_t i = 0; i < ek_array_len(list); i++) {
        int rc = user_load(ek_array_get(list, i), &cfg->users[cfg->nusers], i, err);
        cfg->nusers++; /* counted even when it failed half-way, so that broker__users_free frees it */
        if (rc) return rc;
    }
    return 0;
}

void broker__users_free(broker__cfg *cfg)
{
    for (size_t i = 0; i < cfg->nusers; i++) {
        ek_free(cfg->users[i].name);
        ek_free(cfg->users[i].password);
        ek_free(cfg->users[i].pbkdf2);
    }
    ek_free(cfg->users);
    cfg->users = NULL;
    cfg->nusers = 0;
}

void broker__auth_install(ek_broker *b)
{
    if (b->cfg.enhanced_auth && !b->auth_ops) {
        b->auth_ops = &hmac_ops;
        b->auth_ops_arg = &b->cfg;
    }
}
