/* Rule tags, as eKuiper's REST API has them: PUT /rules/{id}/tags resets a rule's tags, PATCH adds
 * to them, DELETE removes some ({"tags": [...]}; eKuiper's documentation says "keys" for DELETE and
 * for the match, its code reads "tags": both are accepted), and GET /rules/tags/match answers
 * {"rules": [ids]} of the rules carrying every given tag. Tags are part of the stored rule JSON;
 * changing them never restarts a rule. rest__rules_tagged serves /rules/bulkstart|bulkstop too. */
#include "engine/codec_json.h"
#include "engine/mem.h"
#include "engine/rules/rules.h"
#include "rest/rest_int.h"

#include <string.h>

/* The tag list of a request body {"tags": [...]} or {"keys": [...]}; writes the 400 otherwise.
 * Without a body, ?tags=a,b gives the list (GET /rules/tags/match?tags=a,b). */
static bool read_tags(const rest_req *req, rest_resp *resp, ek_value *tags)
{
    const char *q = rest__query(req, "tags");
    if (req->body_len == 0 && q) {
        *tags = ek_array_new(4);
        for (const char *p = q; *p;) {
            size_t n = strcspn(p, ",");
            if (n) ek_array_push(tags, ek_string_n(p, n));
            p += n + (p[n] == ',');
        }
        return true;
    }
    ek_value body;
    ek_err err = {0};
    if (ek_json_decode(req->body, req->body_len, 0, &body, &err) != 0 || body.type != EK_T_OBJECT) {
        if (!err.code) ek_value_unref(&body);
        rest__error(resp, 400, 1000, "decode body error: %s", err.code ? err.msg : "expected {\"tags\": [...]}");
        return false;
    }
    const ek_value *list = ek_object_get(&body, "tags");
    if (!list) list = ek_object_get(&body, "keys");
    bool ok = list && list->type == EK_T_ARRAY;
    for (size_t i = 0; ok && i < ek_array_len(list); i++) ok = ek_array_get(list, i)->type == EK_T_STRING;
    if (ok) *tags = ek_value_ref(list);
    else rest__error(resp, 400, 1000, "decode body error: \"tags\" must be an array of strings");
    ek_value_unref(&body);
    return ok;
}

static bool has_tag(const ek_value *list, const char *tag)
{
    for (size_t i = 0; list && list->type == EK_T_ARRAY && i < ek_array_len(list); i++) {
        const ek_value *t = ek_array_get(list, i);
        if (t->type == EK_T_STRING && strcmp(ek_str_ptr(t), tag) == 0) return true;
    }
    return false;
}

void rest__rules_tagged(ek_rules *r, const ek_value *tags, ek_value *ids)
{
    *ids = ek_array_new(8);
    ek_value list;
    ek_rules_rule_list(r, &list);
    for (size_t i = 0; i < ek_array_len(&list); i++) {
        const ek_value *ru = ek_array_get(&list, i);
        const ek_value *have = ek_object_get(ru, "tags");
        bool all = true;
        for (size_t t = 0; all && t < ek_array_len(tags); t++) all = has_tag(have, ek_str_ptr(ek_array_get(tags, t)));
        if (all) ek_array_push(ids, ek_value_ref(ek_object_get(ru, "id")));
    }
    ek_value_unref(&list);
}

typedef enum { RESET, ADD, REMOVE } tag_op;

static void change(rest_req *req, rest_resp *resp, tag_op op)
{
    ek_rules *r = rest__engine(req, resp);
    if (!r) return;
    ek_value tags, def;
    if (!read_tags(req, resp, &tags)) return;
    ek_err err = {0};
    if (ek_rules_rule_get(r, req->params[0], &def, &err) != 0) {
        ek_value_unref(&tags);
        rest__err(resp, &err);
        return;
    }
    const ek_value *have = ek_object_get(&def, "tags");
    ek_value next = ek_array_new(8);
    if (op == RESET) {
        for (size_t i = 0; i < ek_array_len(&tags); i++) ek_array_push(&next, ek_value_ref(ek_array_get(&tags, i)));
    } else {
        for (size_t i = 0; have && have->type == EK_T_ARRAY && i < ek_array_len(have); i++) {
            const ek_value *t = ek_array_get(have, i);
            if (t->type == EK_T_STRING && (op == ADD || !has_tag(&tags, ek_str_ptr(t)))) ek_array_push(&next, ek_value_ref(t));
        }
        for (size_t i = 0; op == ADD && i < ek_array_len(&tags); i++)
            if (!has_tag(&next, ek_str_ptr(ek_array_get(&tags, i)))) ek_array_push(&next, ek_value_ref(ek_array_get(&tags, i)));
    }
    if (ek_rules_rule_set_tags(r, req->params[0], &next, &err) != 0) rest__err(resp, &err);
    else rest__text(resp, 200, "");
    ek_value_unref(&next);
    ek_value_unref(&def);
    ek_value_unref(&tags);
}

static void reset_tags(rest_req *req, rest_resp *resp) { change(req, resp, RESET); }
static void add_tags(rest_req *req, rest_resp *resp) { change(req, resp, ADD); }
static void remove_tags(rest_req *req, rest_resp *resp) { change(req, resp, REMOVE); }

static void match(rest_req *req, rest_resp *resp)
{
    if (!rest__engine(req, resp)) return;
    ek_value tags, ids;
    if (!read_tags(req, resp, &tags)) return;
    rest__rules_tagged(req->app->rules, &tags, &ids);
    /* eKuiper's {"rules": [...]} has omitempty: no match is {}. */
    ek_value out = ek_object_new(1);
    if (ek_array_len(&ids)) ek_object_set(&out, "rules", ek_value_ref(&ids));
    rest__json(resp, 200, &out);
    ek_value_unref(&out);
    ek_value_unref(&ids);
    ek_value_unref(&tags);
}

const rest_route rest__routes_rule_tags[] = {
    {"GET", "/rules/tags/match", match},
    {"PUT", "/rules/{id}/tags", reset_tags},
    {"PATCH", "/rules/{id}/tags", add_tags},
    {"DELETE", "/rules/{id}/tags", remove_tags},
    {NULL, NULL, NULL},
};
