/* Authentication: the user list of the broker configuration (`users:` and `allowAnonymous`),
 * checked at CONNECT through the broker's authentication hook (ek_broker.auth), which an embedder
 * may also replace with its own check.
 *
 * A user has a name and either a `password` in clear or a `passwordSha256` (hex of SHA-256 of the
 * password). Comparisons run in constant time. Without any user every client is accepted; with
 * users, a client without a user name is accepted only when allowAnonymous is true, and a wrong
 * name or password gets CONNACK 0x86 (3.1.1: 4). */
#include "broker/broker_int.h"
#include "engine/mem.h"

#include <openssl/crypto.h>
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
}
