/* libFuzzer target for REST request bodies: the first byte picks a route that takes a body
 * (POST/PUT of /streams, /tables, /rules, /rules/validate, /rules/bulkstart|bulkstop), the rest is
 * the body, run through the same route table and handlers as the REST server (rest/routes.c,
 * res_*.c) against an in-process rule engine (fuzz_rule_engine.h), and /ruleset/import when the
 * build has it. Any body must get an answer of 2xx or 4xx with eKuiper's error object, never a
 * crash, a 5xx or a leak; what an input creates it drops again. Rules that decode as objects get
 * "triggered": false, and a ruleset's "file" is dropped, so that this target never opens a fuzzed
 * sink (a file path, a URL) nor reads a fuzzed file. */
#include "engine/codec_json.h"
#include "rest/rest_int.h"
#include "tests/fuzz/fuzz_rule_engine.h"

#include <stdint.h>

typedef enum { BODY_RAW, BODY_RULE, BODY_RULESET } fz_body;

typedef struct fz_route {
    const char *method, *path;
    fz_body body;
} fz_route;

/* Routes missing from the build (a resource not written yet) are skipped. */
static const fz_route routes[] = {
    {"POST", "/streams", BODY_RAW},          {"POST", "/tables", BODY_RAW},
    {"PUT", "/streams/fzs", BODY_RAW},       {"PUT", "/tables/fzt", BODY_RAW},
    {"POST", "/rules", BODY_RULE},           {"PUT", "/rules/fzr", BODY_RULE},
    {"POST", "/rules/validate", BODY_RAW},   {"POST", "/rules/bulkstart", BODY_RAW},
    {"POST", "/rules/bulkstop", BODY_RAW},   {"POST", "/ruleset/import", BODY_RULESET},
};
#define NROUTES (sizeof routes / sizeof routes[0])

/* A stream, a table and a stopped rule that PUT, bulk and rule bodies can refer to; the calls
 * fail harmlessly when they already exist. */
static void fixtures(ek_rules *r)
{
    ek_err err = {0};
    ek_rules_stream_create(r, false, "CREATE STREAM fzs (a BIGINT, b STRING) WITH (TYPE=\"memory\", DATASOURCE=\"fz/s\")",
                           NULL, &err);
    ek_rules_stream_create(r, true, "CREATE TABLE fzt (k STRING, v FLOAT) WITH (TYPE=\"memory\", DATASOURCE=\"fz/t\")",
                           NULL, &err);
    static const char rule[] =
        "{\"id\":\"fzr\",\"sql\":\"SELECT a FROM fzs\",\"triggered\":false,\"actions\":[{\"log\":{}}]}";
    ek_rules_rule_create(r, rule, sizeof rule - 1, NULL, &err);
}

static char *copy_bytes(const char *body, size_t len, size_t *out_len)
{
    char *copy = ek_malloc(len + 1);
    memcpy(copy, body, len);
    copy[len] = '\0';
    *out_len = len;
    return copy;
}

/* Sets "triggered" (and eKuiper's "triggerd") false in a rule object. */
static void untrigger(ek_value *rule)
{
    ek_object_set(rule, "triggered", ek_bool(false));
    ek_object_set(rule, "triggerd", ek_bool(false));
}

/* The rule body with "triggered": false when it is a JSON object; otherwise the bytes as they came. */
static char *rule_body(const char *body, size_t len, size_t *out_len)
{
    ek_value v;
    ek_err err = {0};
    if (ek_json_decode(body, len, 0, &v, &err) != 0) return copy_bytes(body, len, out_len);
    if (v.type != EK_T_OBJECT) {
        ek_value_unref(&v);
        return copy_bytes(body, len, out_len);
    }
    untrigger(&v);
    char *text = ek_json_encode_str(&v, 0);
    ek_value_unref(&v);
    *out_len = strlen(text);
    return text;
}

/* The ruleset document (eKuiper's {"content": "<JSON text>"}) with every rule's JSON text given
 * "triggered": false. A "file" member is dropped: it would make the target read files or URLs. */
static char *ruleset_body(const char *body, size_t len, size_t *out_len)
{
    ek_value v, doc;
    ek_err err = {0};
    if (ek_json_decode(body, len, 0, &v, &err) != 0) return copy_bytes(body, len, out_len);
    if (v.type != EK_T_OBJECT) {
        ek_value_unref(&v);
        return copy_bytes(body, len, out_len);
    }
    ek_object_del(&v, "file");
    const ek_value *content = ek_object_get(&v, "content");
    if (content && content->type == EK_T_STRING &&
        ek_json_decode(ek_str_ptr(content), ek_str_len(content), 0, &doc, &err) == 0) {
        const ek_value *rules = doc.type == EK_T_OBJECT ? ek_object_get(&doc, "rules") : NULL;
        if (rules && rules->type == EK_T_OBJECT) {
            ek_value fixed = ek_object_new(ek_object_len(rules));
            for (size_t i = 0; i < ek_object_len(rules); i++) {
                const ek_value *text = ek_object_val(rules, i);
                ek_value rule;
                if (text->type == EK_T_STRING && ek_json_decode(ek_str_ptr(text), ek_str_len(text), 0, &rule, &err) == 0) {
                    if (rule.type == EK_T_OBJECT) untrigger(&rule);
                    char *again = ek_json_encode_str(&rule, 0);
                    ek_object_set(&fixed, ek_object_key(rules, i), ek_string(again));
                    ek_free(again);
                    ek_value_unref(&rule);
                } else {
                    ek_object_set(&fixed, ek_object_key(rules, i), ek_value_ref(text));
                }
            }
            ek_object_set(&doc, "rules", fixed);
        }
        char *again = ek_json_encode_str(&doc, 0);
        ek_object_set(&v, "content", ek_string(again));
        ek_free(again);
        ek_value_unref(&doc);
    }
    char *text = ek_json_encode_str(&v, 0);
    ek_value_unref(&v);
    *out_len = strlen(text);
    return text;
}

/* Deletes every rule and drops every stream and table but the fixtures'. */
static void cleanup(ek_rules *r)
{
    ek_value v;
    ek_err err = {0};
    ek_rules_rule_list(r, &v);
    for (size_t i = 0; i < ek_array_len(&v); i++) {
        const ek_value *o = ek_array_get(&v, i);
        const ek_value *id = o->type == EK_T_OBJECT ? ek_object_get(o, "id") : o;
        if (id && id->type == EK_T_STRING) ek_rules_rule_delete(r, ek_str_ptr(id), &err);
    }
    ek_value_unref(&v);
    ek_value streams;
    for (int table = 0; table <= 1; table++) {
        ek_rules_stream_list(r, table, false, NULL, &streams);
        for (size_t i = 0; i < ek_array_len(&streams); i++) {
            const char *name = ek_str_ptr(ek_array_get(&streams, i));
            if (strcmp(name, table ? "fzt" : "fzs") != 0) ek_rules_stream_drop(r, table, name, &err);
        }
        ek_value_unref(&streams);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    ek_rules *r = fz_engine_get();
    fixtures(r);
    const fz_route *fr = &routes[data[0] % NROUTES];
    rest_req req = {.app = &fz_eng.app, .method = fr->method, .path = fr->path};
    int known = 0;
    const rest_route *route = rest__route(fr->method, fr->path, &req, &known);
    if (!route) return 0;
    const char *in = (const char *)data + 1;
    size_t len = size - 1;
    char *body = fr->body == BODY_RULE      ? rule_body(in, len, &len)
                 : fr->body == BODY_RULESET ? ruleset_body(in, len, &len)
                                            : copy_bytes(in, len, &len);
    req.body = body;
    req.body_len = len;
    rest_resp resp = {0};
    route->fn(&req, &resp);
    /* Every body gets an answer; a 5xx means the server, not the input, was at fault. */
    if (resp.status < 200 || resp.status >= 500) {
        fprintf(stderr, "%s %s answered %d: %.*s\n", fr->method, fr->path, resp.status, (int)resp.body.len,
                resp.body.data ? resp.body.data : "");
        abort();
    }
    ek_buf_free(&resp.body);
    cleanup(r);
    /* PUT may have replaced the fixtures' definitions: put them back. */
    ek_err err = {0};
    ek_rules_stream_replace(r, false, "fzs",
                            "CREATE STREAM fzs (a BIGINT, b STRING) WITH (TYPE=\"memory\", DATASOURCE=\"fz/s\")", &err);
    ek_rules_stream_replace(r, true, "fzt",
                            "CREATE TABLE fzt (k STRING, v FLOAT) WITH (TYPE=\"memory\", DATASOURCE=\"fz/t\")", &err);
    ek_free(body);
    return 0;
}
