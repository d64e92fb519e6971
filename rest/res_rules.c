/* /rules: create, list, show, update, delete, start, stop, restart, status, topo, explain,
 * validate, bulk start and stop, with eKuiper's paths, bodies and reply texts
 * ("Rule rule1 was created successfully.", "Rule rule1 was started"). Handlers only translate
 * HTTP to the rule engine's API (engine/rules/rules.h) and its errors to eKuiper's error body. */
#include "engine/codec_json.h"
#include "engine/mem.h"
#include "engine/rules/rules.h"
#include "rest/rest_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void reply_text(rest_resp *resp, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void reply_text(rest_resp *resp, int status, const char *fmt, ...)
{
    char text[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    rest__text(resp, status, text);
}

static void reply_value(rest_resp *resp, int rc, ek_value *v, const ek_err *err)
{
    if (rc) {
        rest__err(resp, err);
        return;
    }
    rest__json(resp, 200, v);
    ek_value_unref(v);
}

static void create(rest_req *req, rest_resp *resp)
{
    ek_rules *r = rest__engine(req, resp);
    if (!r) return;
    ek_err err = {0};
    char *id = NULL;
    if (ek_rules_rule_create(r, req->body, req->body_len, &id, &err) != 0) rest__err(resp, &err);
    else reply_text(resp, 201, "Rule %s was created successfully.", id);
    ek_free(id);
}

static void list(rest_req *req, rest_resp *resp)
{
    ek_rules *r = rest__engine(req, resp);
    if (!r) return;
    ek_value v;
    ek_rules_rule_list(r, &v);
    reply_value(resp, 0, &v, NULL);
}

static void show(rest_req *req, rest_resp *resp)
{
    ek_rules *r = rest__engine(req, resp);
    if (!r) return;
    ek_value v;
    ek_err err = {0};
    int rc = ek_rules_rule_get(r, req->params[0], &v, &err);
    reply_value(resp, rc, &v, &err);
}

static void update(rest_req *req, rest_resp *resp)
{
    ek_rules *r = rest__engine(req, resp);
    if (!r) return;
    ek_err err = {0};
    if (ek_rules_rule_update(r, req->params[0], req->body, req->body_len, &err) != 0) rest__err(resp, &err);
    else reply_text(resp, 200, "Rule %s was updated successfully.", req->params[0]);
}

static void drop(rest_req *req, rest_resp *resp)
{
    ek_rules *r = rest__engine(req, resp);
    if (!r) return;
    ek_err err = {0};
    if (ek_rules_rule_delete(r, req->params[0], &err) != 0) rest__err(resp, &err);
    else reply_text(resp, 200, "Rule %s is dropped.", req->params[0]);
}

static void start(rest_req *req, rest_resp *resp)
{
    ek_rules *r = rest__engine(req, resp);
    if (!r) return;
    ek_err err = {0};
    if (ek_rules_rule_start(r, req->params[0], &err) != 0) rest__err(resp, &err);
    else reply_text(resp, 200, "Rule %s was started", req->params[0]);
}

static void stop(rest_req *req, rest_resp *resp)
{
    ek_rules *r = rest__engine(req, resp);
    if (!r) return;
    ek_err err = {0};
    if (ek_rules_rule_stop(r, req->params[0], &err) != 0) rest__err(resp, &err);
    else reply_text(resp, 200, "Rule %s was stopped.", req->params[0]);
}

static void restart(rest_req *req, rest_resp *resp)
{
    ek_rules *r = rest__engine(req, resp);
    if (!r) return;
    ek_err err = {0};
    if (ek_rules_rule_restart(r, req->params[0], &err) != 0) rest__err(resp, &err);
    else reply_text(resp, 200, "Rule %s was restarted", req->params[0]);
}

static void status(rest_req *req, rest_resp *resp)
{
    ek_rules *r = rest__engine(req, resp);
    if (!r) return;
    ek_value v;
    ek_err err = {0};
    int rc = ek_rules_rule_status(r, req->params[0], &v, &err);
    reply_value(resp, rc, &v, &err);
}

static void status_all(rest_req *req, rest_resp *resp)
{
    ek_rules *r = rest__engine(req, resp);
    if (!r) return;
    ek_value v;
    ek_rules_rule_status_all(r, &v);
    reply_value(resp, 0, &v, NULL);
}

static void topo(rest_req *req, rest_resp *resp)
{
    ek_rules *r = rest__engine(req, resp);
    if (!r) return;
    ek_value v;
    ek_err err = {0};
    int rc = ek_rules_rule_topo(r, req->params[0], &v, &err);
    reply_value(resp, rc, &v, &err);
}

/* eKuiper answers the plan as text: one {"op","info"} JSON object per line, indented by depth. */
static void explain(rest_req *req, rest_resp *resp)
{
    ek_rules *r = rest__engine(req, resp);
    if (!r) return;
    ek_value v;
    ek_err err = {0};
    if (ek_rules_rule_explain_text(r, req->params[0], &v, &err) != 0) {
        if (err.code == EK_ENOTFOUND) rest__err(resp, &err);
        else rest__error(resp, 400, 1000, "explain rules error: %s", err.msg);
        return;
    }
    rest__text(resp, 200, v.type == EK_T_STRING ? ek_str_ptr(&v) : "");
    ek_value_unref(&v);
}

static void validate(rest_req *req, rest_resp *resp)
{
    ek_rules *r = rest__engine(req, resp);
    if (!r) return;
    ek_err err = {0};
    if (ek_rules_rule_validate(r, req->body, req->body_len, &err) == 0) {
        rest__text(resp, 200, "The rule has been successfully validated and is confirmed to be correct.");
        return;
    }
    rest__err(resp, &err);
    if (err.code == EK_EPLAN || err.code == EK_ENOTFOUND) resp->status = 422;
}

/* eKuiper's bulk form {"tags": [...]}: starts or stops every rule carrying all the tags and answers
 * [{"ruleId", "success"[, "error"]}]; no matching rule is a 400. */
static void bulk_by_tags(rest_req *req, rest_resp *resp, const ek_value *tags, bool start_them)
{
    ek_rules *r = req->app->rules;
    for (size_t i = 0; i < ek_array_len(tags); i++)
        if (ek_array_get(tags, i)->type != EK_T_STRING) {
            rest__error(resp, 400, 1000, "decode body error: \"tags\" must be an array of strings");
            return;
        }
    ek_value ids;
    rest__rules_tagged(r, tags, &ids);
    if (ek_array_len(&ids) == 0) {
        rest__error(resp, 400, 1000, "bulk %s failed: no matching rules", start_them ? "start" : "stop");
        ek_value_unref(&ids);
        return;
    }
    ek_value out = ek_array_new(ek_array_len(&ids));
    for (size_t i = 0; i < ek_array_len(&ids); i++) {
        const ek_value *id = ek_array_get(&ids, i);
        ek_err e = {0};
        int rc = start_them ? ek_rules_rule_start(r, ek_str_ptr(id), &e) : ek_rules_rule_stop(r, ek_str_ptr(id), &e);
        ek_value o = ek_object_new(3);
        ek_object_set(&o, "ruleId", ek_value_ref(id));
        ek_object_set(&o, "success", ek_bool(rc == 0));
        if (rc) ek_object_set(&o, "error", ek_string(e.msg));
        ek_array_push(&out, o);
    }
    ek_value_unref(&ids);
    reply_value(resp, 0, &out, NULL);
}

/* A bulk request: eKuiper's {"tags": [...]}, or kuiperd's ids ["a", "b"], [{"id": "a"}] or
 * {"rules": [...]} of either, answered [{"id", "error"}]. */
static void bulk(rest_req *req, rest_resp *resp, bool start_them)
{
    ek_rules *r = rest__engine(req, resp);
    if (!r) return;
    ek_value body;
    ek_err err = {0};
    if (ek_json_decode(req->body, req->body_len, 0, &body, &err) != 0) {
        rest__error(resp, 400, 1000, "the request body is not valid JSON: %s", err.msg);
        return;
    }
    const ek_value *tags = body.type == EK_T_OBJECT ? ek_object_get(&body, "tags") : NULL;
    if (tags && tags->type == EK_T_ARRAY) {
        bulk_by_tags(req, resp, tags, start_them);
        ek_value_unref(&body);
        return;
    }
    const ek_value *list = body.type == EK_T_OBJECT ? ek_object_get(&body, "rules") : &body;
    if (!list || list->type != EK_T_ARRAY) {
        ek_value_unref(&body);
        rest__error(resp, 400, 1000, "expected {\"tags\": [...]} or an array of rule ids");
        return;
    }
    ek_value out = ek_array_new(ek_array_len(list));
    for (size_t i = 0; i < ek_array_len(list); i++) {
        const ek_value *it = ek_array_get(list, i);
        if (it->type == EK_T_OBJECT) it = ek_object_get(it, "id");
        if (!it || it->type != EK_T_STRING) continue;
        ek_err e = {0};
        int rc = start_them ? ek_rules_rule_start(r, ek_str_ptr(it), &e) : ek_rules_rule_stop(r, ek_str_ptr(it), &e);
        ek_value o = ek_object_new(2);
        ek_object_set(&o, "id", ek_value_ref(it));
        ek_object_set(&o, "error", ek_string(rc ? e.msg : ""));
        ek_array_push(&out, o);
    }
    ek_value_unref(&body);
    reply_value(resp, 0, &out, NULL);
}

static void bulkstart(rest_req *req, rest_resp *resp) { bulk(req, resp, true); }
static void bulkstop(rest_req *req, rest_resp *resp) { bulk(req, resp, false); }

const rest_route rest__routes_rules[] = {
    {"POST", "/rules", create},
    {"GET", "/rules", list},
    {"GET", "/rules/status/all", status_all},
    {"POST", "/rules/validate", validate},
    {"POST", "/rules/bulkstart", bulkstart},
    {"POST", "/rules/bulkstop", bulkstop},
    {"GET", "/rules/{id}", show},
    {"PUT", "/rules/{id}", update},
    {"DELETE", "/rules/{id}", drop},
    {"POST", "/rules/{id}/start", start},
    {"POST", "/rules/{id}/stop", stop},
    {"POST", "/rules/{id}/restart", restart},
    {"GET", "/rules/{id}/status", status},
    {"GET", "/rules/{id}/topo", topo},
    {"GET", "/rules/{id}/explain", explain},
    {NULL, NULL, NULL},
};
