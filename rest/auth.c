/* REST authentication as eKuiper does it when basic.authentication is true: every request carries
 * "Authorization: <JWT>" (a "Bearer " prefix is accepted too), signed RS256 with the private key
 * whose public half is etc/mgmt/<iss>, with "eKuiper" in aud and an exp in the future. Anything
 * else is answered 401 before routing. GET /ping stays open for health checks. The token is checked
 * by engine/jwt.c (OpenSSL), the same code that checks MQTT clients' JWTs. */
#include "engine/jwt.h"
#include "engine/mem.h"
#include "rest/rest_int.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static bool aud_ok(const ek_value *aud)
{
    if (!aud) return false;
    if (aud->type == EK_T_STRING) return strcmp(ek_str_ptr(aud), "eKuiper") == 0;
    if (aud->type != EK_T_ARRAY) return false;
    for (size_t i = 0; i < ek_array_len(aud); i++) {
        const ek_value *a = ek_array_get(aud, i);
        if (a->type == EK_T_STRING && strcmp(ek_str_ptr(a), "eKuiper") == 0) return true;
    }
    return false;
}

/* Checks the token; on failure writes why into msg. */
static bool token_ok(const ek_app *app, const char *token, char *msg, size_t cap)
{
    ek_value header, claims;
    if (ek_jwt_peek(token, strlen(token), &header, &claims)) {
        snprintf(msg, cap, "the token is not a JWT with base64url JSON header and claims");
        return false;
    }
    bool ok = false;
    const ek_value *alg = ek_object_get(&header, "alg"), *iss = ek_object_get(&claims, "iss");
    if (!alg || alg->type != EK_T_STRING || strcmp(ek_str_ptr(alg), "RS256") != 0) {
        snprintf(msg, cap, "the token must be signed with RS256");
    } else if (!iss || iss->type != EK_T_STRING || strchr(ek_str_ptr(iss), '/') || ek_str_ptr(iss)[0] == '.') {
        snprintf(msg, cap, "the token's iss must name a public key file in etc/mgmt");
    } else if (!aud_ok(ek_object_get(&claims, "aud"))) {
        snprintf(msg, cap, "the token's aud must be \"eKuiper\"");
    } else {
        char *keypath = ek_asprintf("%s/mgmt/%s", app->etc_dir, ek_str_ptr(iss));
        ek_jwt_key key = {NULL, 0, ek_jwt_read_pubkey(keypath)};
        char why[128];
        if (!key.pub) snprintf(msg, cap, "no public key etc/mgmt/%s", ek_str_ptr(iss));
        else if (ek_jwt_verify(token, strlen(token), &key, (int64_t)time(NULL), NULL, why, sizeof why) != 0)
            snprintf(msg, cap, "%s (etc/mgmt/%s)", why, ek_str_ptr(iss));
        else ok = true;
        ek_jwt_free_pubkey(key.pub);
        ek_free(keypath);
    }
    ek_value_unref(&header);
    ek_value_unref(&claims);
    return ok;
}

bool rest__authorized(const rest_req *req, rest_resp *resp)
{
    if (!req->app->config || !ek_config_bool(req->app->config, "basic.authentication")) return true;
    /* Health checks (docker, load balancers) carry no token. */
    if (strcmp(req->path, "/ping") == 0) return true;
    const char *h = rest__header(req, "Authorization");
    if (!h || !*h) {
        rest__error(resp, 401, 1000, "authentication is required: send \"Authorization: <JWT>\"");
        return false;
    }
    if (strncmp(h, "Bearer ", 7) == 0) h += 7;
    char msg[160];
    if (!token_ok(req->app, h, msg, sizeof msg)) {
        rest__error(resp, 401, 1000, "unauthorized: %s", msg);
        return false;
    }
    return true;
}
