/* The rule endpoints eKuiper added after the first ones (rest.go of eKuiper 2.x), answered with
 * its paths, status codes and texts:
 *   GET /rules/{id}/schema        the running rule's output fields {"a": {"hasIndex": true, "index": 0}}
 *   GET /v2/rules/{id}/status     the status object as JSON with keys in name order (Go map encoding)
 *   PUT /rules/{id}/reset_state   {"type": 1, "params": {"streamName", "input"}}: rewinds a source's
 *                                 offset; kuiperd has no rewindable source, so after eKuiper's checks
 *                                 it answers eKuiper's "stream ... not found in topo"
 *   GET /rules/{id}/scantables    the rows of the scan tables a running rule joins
 *                                 [{"emitter": "tb", "content": {...}}]
 *   GET /rules/usage/cpu          {rule: CPU ms in the last 30 s} when
 *                                 basic.resourceProfileConfig.enable, else "cpu usage not enabled"
 * Handlers only translate HTTP to the engine's API (engine/rules/rules.h). */
#include "engine/codec_json.h"
#include "engine/rules/rules.h"
#include "rest/rest_int.h"

/* eKuiper's handleError: "<prefix>: <message>", 404 (1002) for an unknown rule, else 400 (1000). */
static void prefixed(rest_resp *resp, const char *prefix, const char *id, const ek_err *err)
{
    if (err->code == EK_ENOTFOUND) rest__error(resp, 404, 1002, "%s: Rule %s is not found", prefix, id);
    else rest__error(resp, 400, 1000, "%s: %s", prefix, err->msg);
}

static void schema(rest_req *req, rest_resp *resp)
{
    ek_rules *r = rest__engine(req, resp);
    if (!r) return;
    ek_value v;
    ek_err err = {0};
    if (ek_rules_rule_schema(r, req->params[0], &v, &err) != 0) {
        prefixed(resp, "get rule schema error", req->params[0], &err);
        return;
    }
    rest__json(resp, 200, &v);
    ek_value_unref(&v);
}

static void status_v2(rest_req *req, rest_resp *resp)
{
    ek_rules *r = rest__engine(req, resp);
    if (!r) return;
    ek_value v;
    ek_err err = {0};
    if (ek_rules_rule_status(r, req->params[0], &v, &err) != 0) {
        prefixed(resp, "get rule status error", req->params[0], &err);
        return;
    }
    /* Go marshals a map with its keys in byte order: the encoder's EK_JSON_SORT_KEYS */
    resp->status = 200;
    resp->content_type = "application/json";
    ek_buf_reset(&resp->body);
    ek_json_encode(&v, EK_JSON_SORT_KEYS, &resp->body);
    ek_value_unref(&v);
}

static void reset_state(rest_req *req, rest_resp *resp)
{
    ek_rules *r = rest__engine(req, resp);
    if (!r) return;
    ek_value body;
    if (!rest__body_object(req, resp, &body)) return;
    const char *id = req->params[0];
    const ek_value *type = ek_object_get(&body, "type");
    const ek_value *params = ek_object_get(&body, "params");
    const ek_value *stream = params && params->type == EK_T_OBJECT ? ek_object_get(params, "streamName") : NULL;
    long long t = type && type->type == EK_T_INT ? (long long)type->i : 0;
    ek_value def;
    ek_err err = {0};
    if (t != 1) {
        rest__error(resp, 400, 1000, "unknown stateType:%lld", t);
    } else if (ek_rules_rule_get(r, id, &def, &err) != 0) {
        rest__error(resp, 400, 1000, "Rule %s is not found in registry", id);
    } else {
        ek_value_unref(&def);
        if (!ek_rules_rule_running(r, id))
            rest__error(resp, 400, 1000, "rule %s should be running when modify state", id);
        else /* no kuiperd source can rewind: eKuiper's answer when the stream has no rewindable source */
            rest__error(resp, 400, 1000, "stream %s not found in topo",
                        stream && stream->type == EK_T_STRING ? ek_str_ptr(stream) : "");
    }
    ek_value_unref(&body);
}

/* eKuiper's answers: "failed to get topology for rule <id>: ..." when unknown or stopped, the
 * engine's "scan table error: ..." without a table or rows. */
static void scan_tables(rest_req *req, rest_resp *resp)
{
    ek_rules *r = rest__engine(req, resp);
    if (!r) return;
    ek_value v;
    ek_err err = {0};
    const char *id = req->params[0];
    if (ek_rules_rule_scan_tables(r, id, &v, &err) == 0) {
        rest__json(resp, 200, &v);
        ek_value_unref(&v);
    } else if (err.code == EK_ENOTFOUND) {
        rest__error(resp, 404, 1002, "failed to get topology for rule %s: Rule %s is not found", id, id);
    } else if (err.code == EK_ESTATE) {
        rest__error(resp, 400, 1000, "failed to get topology for rule %s: %s", id, err.msg);
    } else {
        rest__error(resp, 400, 1000, "%s", err.msg);
    }
}

/* eKuiper's text when profiling is off; else {rule: CPU ms in the last 30 s} (rule_cpu.c). */
static void usage_cpu(rest_req *req, rest_resp *resp)
{
    ek_rules *r = rest__engine(req, resp);
    if (!r) return;
    if (!ek_rules_cpu_profiling(r)) {
        rest__text(resp, 200, "cpu usage not enabled");
        return;
    }
    ek_value v;
    ek_rules_cpu_usage(r, &v);
    rest__json(resp, 200, &v);
    ek_value_unref(&v);
}

const rest_route rest__routes_rules_extra[] = {
    {"GET", "/rules/usage/cpu", usage_cpu},
    {"GET", "/rules/{id}/schema", schema},
    {"GET", "/rules/{id}/scantables", scan_tables},
    {"GET", "/v2/rules/{id}/status", status_v2},
    {"PUT", "/rules/{id}/reset_state", reset_state},
    {NULL, NULL, NULL},
};
