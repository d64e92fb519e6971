/* Administration endpoints: POST /batch/req (several calls in one request), PATCH /configs (log
 * level, debug, console and file log, timezone at run time) and GET|POST /stop (a clean shutdown).
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

/* ---- PATCH /configs ---- */

enum { K_BOOL, K_STR };

static const struct {
    const char *key;   /* body key, as eKuiper names it */
    const char *path;  /* kuiper.yaml key */
    int type;
} patch_keys[] = {
    {"debug", "basic.debug", K_BOOL},       {"consoleLog", "basic.consoleLog", K_BOOL},
    {"fileLog", "basic.fileLog", K_BOOL},   {"logLevel", "basic.logLevel", K_STR},
    {"timezone", "basic.timezone", K_STR},
};
#define NPATCH (sizeof patch_keys / sizeof patch_keys[0])

/* The value of key in body, else the configured one. */
static const ek_value *pick(const rest_req *req, const ek_value *body, size_t k)
{
    const ek_value *v = ek_object_get(body, patch_keys[k].key);
    return v ? v : ek_config_get(req->app->config, patch_keys[k].path);
}

static bool pick_bool(const rest_req *req, const ek_value *body, size_t k)
{
    const ek_value *v = ek_object_get(body, patch_keys[k].key);
    return v ? v->b : ek_config_bool(req->app->config, patch_keys[k].path);
}

/* Checks types and values of body; writes the 400 and returns false on the first bad one. */
static bool check_patch(const ek_value *body, rest_resp *resp)
{
    for (size_t i = 0; i < ek_object_len(body); i++) {
        const char *key = ek_object_key(body, i);
        const ek_value *v = ek_object_val(body, i);
        size_t k = 0;
        while (k < NPATCH && strcmp(patch_keys[k].key, key) != 0) k++;
        if (k == NPATCH) {
            rest__error(resp, 400, 1000, "unknown setting \"%s\": debug, consoleLog, fileLog, logLevel and timezone "
                        "can be changed at run time", key);
            return false;
        }
        if ((patch_keys[k].type == K_BOOL) != (v->type == EK_T_BOOL) ||
            (patch_keys[k].type == K_STR && v->type != EK_T_STRING)) {
            rest__error(resp, 400, 1000, "%s must be %s", key, patch_keys[k].type == K_BOOL ? "true or false" : "a string");
            return false;
        }
    }
    ek_log_level lvl;
    const ek_value *level = ek_object_get(body, "logLevel");
    if (level && !ek_log_parse_level(ek_str_ptr(level), &lvl)) {
        rest__error(resp, 400, 1000, "logLevel: unknown level \"%s\" (debug, info, warn, error)", ek_str_ptr(level));
        return false;
    }
    const ek_value *tz = ek_object_get(body, "timezone");
    if (tz && strcmp(ek_str_ptr(tz), "Local") != 0 && strcmp(ek_str_ptr(tz), "UTC") != 0) {
        char *zone = ek_asprintf("/usr/share/zoneinfo/%s", ek_str_ptr(tz));
        bool ok = !strstr(ek_str_ptr(tz), "..") && access(zone, R_OK) == 0;
        ek_free(zone);
        if (!ok) {
            rest__error(resp, 400, 1000, "timezone: unknown time zone \"%s\" (an IANA name such as Europe/Berlin, "
                        "UTC or Local)", ek_str_ptr(tz));
            return false;
        }
    }
    return true;
}

static void patch_configs(rest_req *req, rest_resp *resp)
{
    ek_value body;
    if (!rest__body_object(req, resp, &body)) return;
    if (!check_patch(&body, resp) || !req->app->config) goto out;
    const ek_value *level = pick(req, &body, 3);
    ek_log_conf lc = {
        .console = pick_bool(req, &body, 1),
        .file = pick_bool(req, &body, 2),
        .dir = req->app->log_dir,
        .disable_timestamp = ek_config_bool(req->app->config, "basic.logDisableTimestamp"),
        .rotate_hours = ek_config_int(req->app->config, "basic.rotateTime"),
        .rotate_size = ek_config_int(req->app->config, "basic.rotateSize"),
        .rotate_count = ek_config_int(req->app->config, "basic.rotateCount"),
        .max_age_hours = ek_config_int(req->app->config, "basic.maxAge"),
    };
    if (!level || level->type != EK_T_STRING || !ek_log_parse_level(ek_str_ptr(level), &lc.level)) lc.level = EK_LOG_INFO;
    if (pick_bool(req, &body, 0)) lc.level = EK_LOG_DEBUG;
    ek_err err = {0};
    if (ek_log_init(&lc, &err) != 0) {
        rest__err(resp, &err);
        goto out;
    }
    const ek_value *tz = ek_object_get(&body, "timezone");
    if (tz) {
        if (strcmp(ek_str_ptr(tz), "Local") == 0) unsetenv("TZ");
        else setenv("TZ", ek_str_ptr(tz), 1);
        tzset();
    }
    ek_info("settings changed through PATCH /configs");
    rest__text(resp, 204, "");
out:
    ek_value_unref(&body);
}

const rest_route rest__routes_admin[] = {
    {"POST", "/batch/req", batch},
    {"PATCH", "/configs", patch_configs},
    {"GET", "/stop", stop},
    {"POST", "/stop", stop},
    {NULL, NULL, NULL},
};
