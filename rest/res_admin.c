/* Administration endpoints: POST /batch/req (several calls in one request) and GET|POST /stop (a
 * clean shutdown); PATCH /configs is res_configs.c's.
 *
 * A batch runs each call through the same route table as a direct request, in order, on the REST
 * thread; authentication was checked once for the batch. A shutdown is a SIGTERM to ourselves a
 * moment after the reply is queued, so kuiperd stops through its one ordered path in kuiperd.c. */
#include "engine/codec_json.h"
#include "engine/log.h"
#include "engine/mem.h"
#include "rest/rest_int.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void *stop_soon(void *arg)
{
    struct timespec ts = {0, 200 * 1000 * 1000};
    nanosleep(&ts, NULL);
    kill(getpid(), SIGTERM);
    return NULL;
}

void rest__shutdown_later(ek_app *app)
{
    pthread_t t;
    ek_info("shutdown requested through the REST API");
    if (pthread_create(&t, NULL, stop_soon, app) == 0) pthread_detach(t);
}

static void stop(rest_req *req, rest_resp *resp)
{
    rest__text(resp, 200, "stop kuiperd");
    rest__shutdown_later(req->app);
}

/* ---- POST /batch/req ---- */

/* Runs one {method, path, body} and appends {code, response} to out. */
static void run_one(rest_req *outer, const ek_value *call, ek_value *out)
{
    const ek_value *method = ek_object_get(call, "method"), *path = ek_object_get(call, "path");
    const ek_value *body = ek_object_get(call, "body");
    rest_resp r = {.status = 200};
    if (!method || method->type != EK_T_STRING || !path || path->type != EK_T_STRING) {
        rest__error(&r, 400, 1000, "each call needs \"method\" and \"path\" strings");
    } else if (strcmp(ek_str_ptr(path), "/batch/req") == 0) {
        rest__error(&r, 400, 1000, "a batch cannot contain /batch/req");
    } else {
        char *text = NULL;
        if (body && body->type == EK_T_STRING) text = ek_strdup(ek_str_ptr(body));
        else if (body && body->type != EK_T_NULL) text = ek_json_encode_str(body, 0);
        rest_req sub = {.app = outer->app, .conn = outer->conn, .method = ek_str_ptr(method),
                        .path = ek_str_ptr(path), .body = text ? text : "", .body_len = text ? strlen(text) : 0};
        int known = 0;
        const rest_route *route = rest__route(sub.method, sub.path, &sub, &known);
        if (route) route->fn(&sub, &r);
        else if (known) rest__error(&r, 405, 1000, "method %s is not allowed on %s", sub.method, sub.path);
        else rest__error(&r, 404, 1002, "%s is not found", sub.path);
        ek_free(text);
    }
    ek_value o = ek_object_new(2);
    ek_object_set(&o, "code", ek_int(r.status));
    ek_object_set(&o, "response", ek_string_n(r.body.data ? r.body.data : "", r.body.len));
    ek_array_push(out, o);
    ek_buf_free(&r.body);
}

static void batch(rest_req *req, rest_resp *resp)
{
    ek_value calls;
    ek_err err = {0};
    if (ek_json_decode(req->body, req->body_len, 0, &calls, &err) != 0) {
        rest__error(resp, 400, 1000, "the request body is not valid JSON: %s", err.msg);
        return;
    }
    if (calls.type != EK_T_ARRAY) {
        ek_value_unref(&calls);
        rest__error(resp, 400, 1000, "the body must be an array of {\"method\", \"path\", \"body\"}");
        return;
    }
    ek_value out = ek_array_new(ek_array_len(&calls));
    for (size_t i = 0; i < ek_array_len(&calls); i++) {
        const ek_value *c = ek_array_get(&calls, i);
        ek_value empty = ek_object_new(0);
        run_one(req, c->type == EK_T_OBJECT ? c : &empty, &out);
        ek_value_unref(&empty);
    }
    rest__json(resp, 200, &out);
    ek_value_unref(&out);
    ek_value_unref(&calls);
}

const rest_route rest__routes_admin[] = {
    {"POST", "/batch/req", batch},
    {"GET", "/stop", stop},
    {"POST", "/stop", stop},
    {NULL, NULL, NULL},
};
