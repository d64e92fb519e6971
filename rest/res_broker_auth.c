/* /broker/users and /broker/banned: the bundled broker's user database and ban list over REST,
 * in EMQX's shapes. Users: GET lists {username, is_superuser, source} (the configuration's users
 * are listed read-only), POST {username, password, is_superuser} adds one, PUT /broker/users/{name}
 * changes a password, DELETE removes one. Bans: GET lists {as, who, reason, by, at, until}, POST
 * adds one ({"as": "clientid|username|peerhost", "who", "reason", "until"}, until as seconds since
 * the epoch or an RFC 3339 time, absent for ever) and disconnects a matching client at once,
 * DELETE /broker/banned/{as}/{who} lifts one. Both are kept by the broker in SQLite
 * (broker/authdb.h), so they survive restarts; a CONNECT checks them as it arrives. */
#include "broker/broker.h"
#include "engine/codec_json.h"
#include "engine/mem.h"
#include "rest/rest_int.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static ek_authdb *authdb(const rest_req *req, rest_resp *resp)
{
    ek_authdb *db = ek_broker_authdb(req->app->broker);
    if (!db) rest__error(resp, 503, 1000, "the bundled MQTT broker is not running");
    return db;
}

static void list_result(rest_resp *resp, int rc, ek_value *data, const ek_err *err)
{
    if (rc) {
        rest__err(resp, err);
        return;
    }
    ek_value out = ek_object_new(2), meta = ek_object_new(1);
    ek_object_set(&meta, "count", ek_int((int64_t)ek_array_len(data)));
    ek_object_set(&out, "data", *data);
    ek_object_set(&out, "meta", meta);
    rest__json(resp, 200, &out);
    ek_value_unref(&out);
}

/* ---- users ---- */

static bool config_user(const rest_req *req, const char *name)
{
    ek_value cu = ek_array_new(4);
    ek_broker_config_users(req->app->broker, &cu);
    bool found = false;
    for (size_t i = 0; i < ek_array_len(&cu) && !found; i++)
        found = !strcmp(ek_str_ptr(ek_object_get(ek_array_get(&cu, i), "username")), name);
    ek_value_unref(&cu);
    return found;
}

static void users_list(rest_req *req, rest_resp *resp)
{
    ek_authdb *db = authdb(req, resp);
    if (!db) return;
    ek_value data;
    ek_err err = {0};
    int rc = ek_authdb_user_list(db, &data, &err);
    if (!rc) ek_broker_config_users(req->app->broker, &data);
    list_result(resp, rc, &data, &err);
}

/* Writes a user from the body; name is the path's (PUT) or NULL (POST, from the body). */
static void user_put(rest_req *req, rest_resp *resp, const char *name)
{
    bool create = !name;
    ek_authdb *db = authdb(req, resp);
    ek_value body;
    if (!db || !rest__body_object(req, resp, &body)) return;
    const ek_value *u = ek_object_get(&body, "username"), *pw = ek_object_get(&body, "password");
    const ek_value *su = ek_object_get(&body, "is_superuser");
    if (!name) name = u && u->type == EK_T_STRING ? ek_str_ptr(u) : NULL;
    ek_err err = {0};
    if (!name || !*name) {
        rest__error(resp, 400, 1000, "the body needs \"username\", a non-empty string");
    } else if (!pw || pw->type != EK_T_STRING || ek_str_len(pw) == 0) {
        rest__error(resp, 400, 1000, "the body needs \"password\", a non-empty string");
    } else if (su && su->type != EK_T_BOOL) {
        rest__error(resp, 400, 1000, "\"is_superuser\" must be true or false");
    } else if (config_user(req, name)) {
        rest__error(resp, 400, 1000, "user %s is defined in the configuration (broker.users) and cannot be changed here",
                    name);
    } else if (ek_authdb_user_put(db, name, ek_str_ptr(pw), su ? su->b : -1, ek_broker_password_iterations(req->app->broker),
                                  !create, &err)) {
        rest__err(resp, &err);
    } else {
        ek_value out = ek_object_new(1);
        ek_object_set(&out, "username", ek_string(name));
        if (su || create) ek_object_set(&out, "is_superuser", ek_bool(su && su->b));
        rest__json(resp, create ? 201 : 200, &out);
        ek_value_unref(&out);
    }
    ek_value_unref(&body);
}

static void users_add(rest_req *req, rest_resp *resp)
{
    user_put(req, resp, NULL);
}

static void user_update(rest_req *req, rest_resp *resp)
{
    user_put(req, resp, req->params[0]);
}

static void user_del(rest_req *req, rest_resp *resp)
{
    ek_authdb *db = authdb(req, resp);
    if (!db) return;
    ek_err err = {0};
    char msg[300];
    if (config_user(req, req->params[0])) {
        rest__error(resp, 400, 1000, "user %s is defined in the configuration (broker.users)", req->params[0]);
    } else if (ek_authdb_user_del(db, req->params[0], &err)) {
        rest__err(resp, &err);
    } else {
        snprintf(msg, sizeof msg, "user %s is deleted", req->params[0]);
        rest__text(resp, 200, msg);
    }
}

/* ---- bans ---- */

/* Seconds since the epoch from a number or an RFC 3339 string ("2030-01-02T03:04:05Z",
 * "...+08:00"); false when it is neither. */
static bool epoch_secs(const ek_value *v, int64_t *out)
{
    if (v->type == EK_T_INT) *out = v->i;
    else if (v->type == EK_T_FLOAT) *out = (int64_t)v->f;
    else if (v->type != EK_T_STRING) return false;
    else {
        struct tm tm = {0};
        const char *s = ek_str_ptr(v), *rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
        if (!rest) return false;
        if (*rest == '.')
            while (*++rest >= '0' && *rest <= '9') {}
        int off = 0, hh = 0, mm = 0;
        if ((*rest == '+' || *rest == '-') && sscanf(rest + 1, "%2d:%2d", &hh, &mm) == 2 && strlen(rest) == 6)
            off = (*rest == '+' ? 1 : -1) * (hh * 3600 + mm * 60);
        else if (strcmp(rest, "Z") != 0) return false;
        *out = (int64_t)timegm(&tm) - off;
    }
    return true;
}

static const char *opt_str(const ek_value *o, const char *key)
{
    const ek_value *v = ek_object_get(o, key);
    return v && v->type == EK_T_STRING ? ek_str_ptr(v) : NULL;
}

static void banned_list(rest_req *req, rest_resp *resp)
{
    ek_authdb *db = authdb(req, resp);
    if (!db) return;
    ek_value data;
    ek_err err = {0};
    int rc = ek_authdb_ban_list(db, (int64_t)time(NULL), &data, &err);
    list_result(resp, rc, &data, &err);
}

static void banned_add(rest_req *req, rest_resp *resp)
{
    ek_authdb *db = authdb(req, resp);
    ek_value body;
    if (!db || !rest__body_object(req, resp, &body)) return;
    const char *as = opt_str(&body, "as"), *who = opt_str(&body, "who");
    const char *by = opt_str(&body, "by");
    const ek_value *until = ek_object_get(&body, "until");
    int64_t now = (int64_t)time(NULL), end = 0;
    ek_err err = {0};
    if (!ek_authdb_ban_kind_valid(as) || !who || !*who) {
        rest__error(resp, 400, 1000, "the body needs \"as\" (clientid, username or peerhost) and \"who\"");
    } else if (until && !ek_is_null(until) && (!epoch_secs(until, &end) || end <= now)) {
        rest__error(resp, 400, 1000, "\"until\" must be a time in the future (seconds since the epoch or RFC 3339)");
    } else if (ek_authdb_ban_put(db, as, who, opt_str(&body, "reason"), by ? by : "rest", now, end, &err)) {
        rest__err(resp, &err);
    } else {
        ek_broker_kick_banned(req->app->broker, as, who);
        char at[40], till[40];
        ek_json_format_datetime(now * 1000000000LL, at);
        ek_json_format_datetime(end * 1000000000LL, till);
        ek_value out = ek_object_new(6);
        ek_object_set(&out, "as", ek_string(as));
        ek_object_set(&out, "who", ek_string(who));
        ek_object_set(&out, "reason", opt_str(&body, "reason") ? ek_string(opt_str(&body, "reason")) : ek_null());
        ek_object_set(&out, "by", ek_string(by ? by : "rest"));
        ek_object_set(&out, "at", ek_string(at));
        ek_object_set(&out, "until", end ? ek_string(till) : ek_null());
        rest__json(resp, 201, &out);
        ek_value_unref(&out);
    }
    ek_value_unref(&body);
}

static void banned_del(rest_req *req, rest_resp *resp)
{
    ek_authdb *db = authdb(req, resp);
    if (!db) return;
    ek_err err = {0};
    char msg[300];
    if (!ek_authdb_ban_kind_valid(req->params[0])) {
        rest__error(resp, 400, 1000, "\"%s\" is not one of clientid, username, peerhost", req->params[0]);
    } else if (ek_authdb_ban_del(db, req->params[0], req->params[1], &err)) {
        rest__err(resp, &err);
    } else {
        snprintf(msg, sizeof msg, "the ban of %s %s is lifted", req->params[0], req->params[1]);
        rest__text(resp, 200, msg);
    }
}

const rest_route rest__routes_broker_auth[] = {
    {"GET", "/broker/users", users_list},
    {"POST", "/broker/users", users_add},
    {"PUT", "/broker/users/{name}", user_update},
    {"DELETE", "/broker/users/{name}", user_del},
    {"GET", "/broker/banned", banned_list},
    {"POST", "/broker/banned", banned_add},
    {"DELETE", "/broker/banned/{as}/{who}", banned_del},
    {NULL, NULL, NULL},
};
