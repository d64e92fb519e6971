/* /connections: named connection resources {id, typ, props} as eKuiper 2 manages them: create,
 * list, get, replace and delete. Each is kept in the store (namespace "connection", key = id,
 * value = the JSON object), so it survives a restart. typ must name a registered source or sink
 * type; a connection that a rule still references (props connectionSelector or resourceId equal
 * to the id in any action) cannot be deleted. */
#include "connectors/connector.h"
#include "engine/codec_json.h"
#include "engine/confkeys.h"
#include "engine/mem.h"
#include "engine/rules/rules.h"
#include "rest/rest_int.h"

#include <stdio.h>
#include <string.h>

#define NS EK_CONNECTIONS_NS

/* Checks a body {id, typ, props}; on success *norm holds the normalised object. id_hint, when
 * not NULL, is the id from the path (a body id must equal it). */
static bool check_body(const rest_req *req, rest_resp *resp, const char *id_hint, ek_value *norm)
{
    ek_value body;
    if (!rest__body_object(req, resp, &body)) return false;
    const ek_value *id = ek_object_get(&body, "id"), *typ = ek_object_get(&body, "typ");
    const ek_value *props = ek_object_get(&body, "props");
    const char *msg = NULL;
    if (!id_hint && (!id || id->type != EK_T_STRING || ek_str_len(id) == 0))
        msg = "the body needs \"id\", a non-empty string";
    else if (id_hint && id && (id->type != EK_T_STRING || strcmp(ek_str_ptr(id), id_hint) != 0))
        msg = "the \"id\" in the body differs from the one in the path";
    else if (!typ || typ->type != EK_T_STRING)
        msg = "the body needs \"typ\", the connection type (for example mqtt)";
    else if (props && props->type != EK_T_OBJECT)
        msg = "\"props\" must be an object";
    if (msg) {
        rest__error(resp, 400, 1000, "%s", msg);
    } else if (!ek_connector_source(ek_str_ptr(typ)) && !ek_connector_sink(ek_str_ptr(typ))) {
        rest__error(resp, 400, 1000, "unknown connection type \"%s\": see GET /metadata/sources and /metadata/sinks",
                    ek_str_ptr(typ));
        msg = "bad";
    }
    if (!msg) {
        *norm = ek_object_new(3);
        ek_object_set(norm, "id", ek_string(id_hint ? id_hint : ek_str_ptr(id)));
        ek_object_set(norm, "typ", ek_value_ref(typ));
        ek_object_set(norm, "props", props ? ek_value_ref(props) : ek_object_new(0));
    }
    ek_value_unref(&body);
    return msg == NULL;
}

static bool exists(const rest_req *req, const char *id)
{
    char *val = NULL;
    size_t len = 0;
    bool ok = ek_store_get(req->app->store, NS, id, &val, &len, NULL) == 0;
    ek_free(val);
    return ok;
}

static void save(rest_req *req, rest_resp *resp, const ek_value *conn, int status, const char *verb)
{
    const char *id = ek_str_ptr(ek_object_get(conn, "id"));
    char *text = ek_json_encode_str(conn, 0);
    ek_err err = {0};
    if (ek_store_set(req->app->store, NS, id, text, strlen(text), &err) != 0) {
        rest__err(resp, &err);
    } else {
        char msg[300];
        snprintf(msg, sizeof msg, "connection %s is %s", id, verb);
        rest__text(resp, status, msg);
    }
    ek_free(text);
}

static bool have_store(const rest_req *req, rest_resp *resp)
{
    if (!req->app->store) rest__error(resp, 503, 1000, "no store is open");
    return req->app->store != NULL;
}

static void create(rest_req *req, rest_resp *resp)
{
    ek_value conn;
    if (!have_store(req, resp) || !check_body(req, resp, NULL, &conn)) return;
    const char *id = ek_str_ptr(ek_object_get(&conn, "id"));
    if (exists(req, id)) rest__error(resp, 400, 1000, "connection %s already exists", id);
    else save(req, resp, &conn, 201, "created");
    ek_value_unref(&conn);
}

static int add_one(const char *key, const char *val, size_t len, void *arg)
{
    ek_value v;
    if (ek_json_decode(val, len, 0, &v, NULL) == 0) ek_array_push(arg, v);
    return 0;
}

static void list(rest_req *req, rest_resp *resp)
{
    if (!have_store(req, resp)) return;
    ek_value out = ek_array_new(8);
    ek_store_foreach(req->app->store, NS, add_one, &out, NULL);
    rest__json(resp, 200, &out);
    ek_value_unref(&out);
}

static void show(rest_req *req, rest_resp *resp)
{
    if (!have_store(req, resp)) return;
    char *val = NULL;
    size_t len = 0;
    ek_value v;
    if (ek_store_get(req->app->store, NS, req->params[0], &val, &len, NULL) != 0 ||
        ek_json_decode(val, len, 0, &v, NULL) != 0) {
        rest__error(resp, 404, 1002, "connection %s is not found", req->params[0]);
    } else {
        rest__json(resp, 200, &v);
        ek_value_unref(&v);
    }
    ek_free(val);
}

static void update(rest_req *req, rest_resp *resp)
{
    ek_value conn;
    if (!have_store(req, resp)) return;
    if (!exists(req, req->params[0])) {
        rest__error(resp, 404, 1002, "connection %s is not found", req->params[0]);
        return;
    }
    if (!check_body(req, resp, req->params[0], &conn)) return;
    save(req, resp, &conn, 200, "updated");
    ek_value_unref(&conn);
}

/* The first rule whose actions name id as connectionSelector or resourceId, or NULL (ek_free it). */
static char *user_of(ek_rules *r, const char *id)
{
    char *found = NULL;
    ek_value list;
    if (!r) return NULL;
    ek_rules_rule_list(r, &list);
    for (size_t i = 0; i < ek_array_len(&list) && !found; i++) {
        const char *rid = ek_str_ptr(ek_object_get(ek_array_get(&list, i), "id"));
        ek_value def;
        if (ek_rules_rule_get(r, rid, &def, NULL) != 0) continue;
        char *text = ek_json_encode_str(&def, 0);
        char *a = ek_asprintf("\"connectionSelector\":\"%s\"", id), *b = ek_asprintf("\"resourceId\":\"%s\"", id);
        if (strstr(text, a) || strstr(text, b)) found = ek_strdup(rid);
        ek_free(a);
        ek_free(b);
        ek_free(text);
        ek_value_unref(&def);
    }
    ek_value_unref(&list);
    return found;
}

static void drop(rest_req *req, rest_resp *resp)
{
    if (!have_store(req, resp)) return;
    char *rule = user_of(req->app->rules, req->params[0]);
    ek_err err = {0};
    if (rule)
        rest__error(resp, 400, 1000, "connection %s is used by rule %s: delete or change the rule first",
                    req->params[0], rule);
    else if (ek_store_delete(req->app->store, NS, req->params[0], &err) == EK_ENOTFOUND)
        rest__error(resp, 404, 1002, "connection %s is not found", req->params[0]);
    else if (err.code)
        rest__err(resp, &err);
    else {
        char msg[300];
        snprintf(msg, sizeof msg, "connection %s is dropped", req->params[0]);
        rest__text(resp, 200, msg);
    }
    ek_free(rule);
}

const rest_route rest__routes_connections[] = {
    {"GET", "/connections", list},
    {"POST", "/connections", create},
    {"GET", "/connections/{id}", show},
    {"PUT", "/connections/{id}", update},
    {"DELETE", "/connections/{id}", drop},
    {NULL, NULL, NULL},
};
