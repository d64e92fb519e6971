/* /broker/...: management of the bundled MQTT broker over REST, in EMQX's shapes: clients (list,
 * get, kick), subscriptions, topics (routes), retained messages (list, get, delete) and the
 * broker's figures (the ones $SYS publishes).
 *
 * Listings answer {"data": [rows], "meta": {"page", "limit", "count", "hasnext"}} with the query
 * arguments page (from 1), limit (default 100) and the filters clientid, username, topic; the
 * dashboard's broker page shows the data array as a table. Every call goes through broker.h,
 * which runs it on the broker's own thread and waits with a timeout (a busy broker answers 503);
 * this file never touches broker state. A retained topic may contain '/', so it is the rest of
 * the path, URL-encoded or not (so is a client id). Authentication is the one of every route (dispatch.c). */
#include "broker/broker.h"
#include "rest/rest_int.h"

#include <stdlib.h>
#include <string.h>

#define DEFAULT_LIMIT 100
#define MAX_LIMIT 10000

typedef int (*list_fn)(ek_broker *b, ek_broker_query *q, ek_value *rows, ek_err *err);

/* Reads a positive integer query argument; false (and a 400) when it is not one. */
static bool positive(const rest_req *req, rest_resp *resp, const char *key, size_t def, size_t max, size_t *out)
{
    const char *v = rest__query(req, key);
    *out = def;
    if (!v) return true;
    char *end;
    long long n = strtoll(v, &end, 10);
    if (*v == '\0' || *end || n < 1 || (unsigned long long)n > max) {
        rest__error(resp, 400, 1000, "query argument %s must be an integer from 1 to %zu, not \"%s\"", key, max, v);
        return false;
    }
    *out = (size_t)n;
    return true;
}

static void list(rest_req *req, rest_resp *resp, list_fn fn)
{
    size_t page, limit;
    if (!positive(req, resp, "page", 1, 1000000000, &page) ||
        !positive(req, resp, "limit", DEFAULT_LIMIT, MAX_LIMIT, &limit))
        return;
    ek_broker_query q = {
        .clientid = rest__query(req, "clientid"),
        .username = rest__query(req, "username"),
        .topic = rest__query(req, "topic"),
        .offset = (page - 1) * limit,
        .limit = limit,
    };
    ek_value rows;
    ek_err err = {0};
    int rc = fn(req->app->broker, &q, &rows, &err);
    if (rc) {
        rest__err(resp, &err);
        return;
    }
    ek_value meta = ek_object_new(4);
    ek_object_set(&meta, "page", ek_int((int64_t)page));
    ek_object_set(&meta, "limit", ek_int((int64_t)limit));
    ek_object_set(&meta, "count", ek_int((int64_t)q.total));
    ek_object_set(&meta, "hasnext", ek_bool(q.offset + ek_array_len(&rows) < q.total));
    ek_value body = ek_object_new(2);
    ek_object_set(&body, "data", rows);
    ek_object_set(&body, "meta", meta);
    rest__json(resp, 200, &body);
    ek_value_unref(&body);
}

static void clients(rest_req *req, rest_resp *resp)
{
    list(req, resp, ek_broker_clients);
}

static void subscriptions(rest_req *req, rest_resp *resp)
{
    list(req, resp, ek_broker_subscriptions);
}

static void topics(rest_req *req, rest_resp *resp)
{
    list(req, resp, ek_broker_topics);
}

static void retained(rest_req *req, rest_resp *resp)
{
    list(req, resp, ek_broker_retained);
}

static void client_get(rest_req *req, rest_resp *resp)
{
    ek_value v;
    ek_err err = {0};
    int rc = ek_broker_client_get(req->app->broker, req->params[0], &v, &err);
    rest__result(resp, rc, &v, &err);
}

/* 204 after a change, or the error body. */
static void done(rest_resp *resp, int rc, const ek_err *err)
{
    if (rc) rest__err(resp, err);
    else rest__text(resp, 204, "");
}

static void client_kick(rest_req *req, rest_resp *resp)
{
    ek_err err = {0};
    done(resp, ek_broker_client_kick(req->app->broker, req->params[0], &err), &err);
}

static void retained_get(rest_req *req, rest_resp *resp)
{
    ek_value v;
    ek_err err = {0};
    int rc = ek_broker_retained_get(req->app->broker, req->params[0], &v, &err);
    rest__result(resp, rc, &v, &err);
}

static void retained_delete(rest_req *req, rest_resp *resp)
{
    ek_err err = {0};
    done(resp, ek_broker_retained_delete(req->app->broker, req->params[0], &err), &err);
}

static void stats(rest_req *req, rest_resp *resp)
{
    ek_broker_stats st;
    if (!req->app->broker) {
        rest__error(resp, 400, 1000, "the bundled broker is not running (broker.enable is false)");
        return;
    }
    if (ek_broker_stats_get(req->app->broker, &st)) {
        rest__error(resp, 503, 1000, "broker: no answer within %d ms, it is busy", EK_BROKER_CALL_TIMEOUT_MS);
        return;
    }
    ek_value v;
    ek_broker_stats_object(&st, &v);
    rest__json(resp, 200, &v);
    ek_value_unref(&v);
}

const rest_route rest__routes_broker_mgmt[] = {
    {"GET", "/broker/clients", clients},
    {"GET", "/broker/clients/{clientid...}", client_get},
    {"DELETE", "/broker/clients/{clientid...}", client_kick},
    {"GET", "/broker/subscriptions", subscriptions},
    {"GET", "/broker/topics", topics},
    {"GET", "/broker/retained", retained},
    {"GET", "/broker/retained/{topic...}", retained_get},
    {"DELETE", "/broker/retained/{topic...}", retained_delete},
    {"GET", "/broker/stats", stats},
    {NULL, NULL, NULL},
};
