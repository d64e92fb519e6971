/* eKuiper's YAML configuration export and import: GET /v2/data/export and POST /v2/data/import.
 *
 * The YAML form differs from /data/export's JSON one in shape, not in content: streams and tables
 * map a name to {sql: ...}, rules map an id to the rule object itself, and conf keys are flattened
 * to "sources.<type>.<confKey>", "sinks.<type>.<confKey>" and "connections.<type>.<confKey>" mapping
 * to their properties. Export goes through rest__export_doc and reshapes; import reshapes to the
 * JSON form and goes through rest__import_doc, like eKuiper replacing what the file names and
 * keeping everything else (there is no full reset in this form); conf keys are set one by one. */
#include "engine/codec_json.h"
#include "engine/config.h"
#include "engine/confkeys.h"
#include "engine/mem.h"
#include "rest/rest_int.h"

#include <stdio.h>
#include <string.h>

/* The three conf-key sections: JSON export section, YAML key prefix, kind. */
static const struct {
    const char *section, *prefix;
    ek_conf_kind kind;
} confs[] = {
    {"sourceConfig", "sources", EK_CONF_SOURCE},
    {"sinkConfig", "sinks", EK_CONF_SINK},
    {"connectionConfig", "connections", EK_CONF_CONNECTION},
};
#define NCONFS (sizeof confs / sizeof confs[0])

/* ---- export ---- */

/* {type: "{confKey: props}"} to {"<prefix>.<type>.<confKey>": props}. */
static ek_value flatten_conf(const ek_value *sec, const char *prefix)
{
    ek_value out = ek_object_new(4);
    for (size_t i = 0; sec && sec->type == EK_T_OBJECT && i < ek_object_len(sec); i++) {
        const ek_value *text = ek_object_val(sec, i);
        ek_value keys;
        if (text->type != EK_T_STRING || ek_json_decode(ek_str_ptr(text), ek_str_len(text), 0, &keys, NULL) != 0)
            continue;
        for (size_t k = 0; keys.type == EK_T_OBJECT && k < ek_object_len(&keys); k++) {
            char *name = ek_asprintf("%s.%s.%s", prefix, ek_object_key(sec, i), ek_object_key(&keys, k));
            ek_object_set(&out, name, ek_value_ref(ek_object_val(&keys, k)));
            ek_free(name);
        }
        ek_value_unref(&keys);
    }
    return out;
}

/* {name: "CREATE ..."} to {name: {sql: "CREATE ..."}}. */
static ek_value wrap_sql(const ek_value *sec)
{
    ek_value out = ek_object_new(4);
    for (size_t i = 0; sec && sec->type == EK_T_OBJECT && i < ek_object_len(sec); i++) {
        ek_value o = ek_object_new(1);
        ek_object_set(&o, "sql", ek_value_ref(ek_object_val(sec, i)));
        ek_object_set(&out, ek_object_key(sec, i), o);
    }
    return out;
}

/* {id: "rule json"} to {id: rule object}. */
static ek_value decode_rules(const ek_value *sec)
{
    ek_value out = ek_object_new(4);
    for (size_t i = 0; sec && sec->type == EK_T_OBJECT && i < ek_object_len(sec); i++) {
        const ek_value *text = ek_object_val(sec, i);
        ek_value def;
        if (text->type == EK_T_STRING && ek_json_decode(ek_str_ptr(text), ek_str_len(text), 0, &def, NULL) == 0)
            ek_object_set(&out, ek_object_key(sec, i), def);
    }
    return out;
}

static void export_v2(rest_req *req, rest_resp *resp)
{
    ek_value doc;
    ek_err err = {0};
    if (rest__export_doc(req->app, NULL, &doc, &err) != 0) {
        ek_value_unref(&doc);
        rest__err(resp, &err);
        return;
    }
    /* eKuiper's field order; empty conf and table sections are left out (omitempty). */
    ek_value out = ek_object_new(6);
    for (size_t k = 0; k < NCONFS; k++) {
        ek_value flat = flatten_conf(ek_object_get(&doc, confs[k].section), confs[k].prefix);
        if (ek_object_len(&flat)) ek_object_set(&out, confs[k].section, flat);
        else ek_value_unref(&flat);
    }
    ek_object_set(&out, "streams", wrap_sql(ek_object_get(&doc, "streams")));
    ek_value tables = wrap_sql(ek_object_get(&doc, "tables"));
    if (ek_object_len(&tables)) ek_object_set(&out, "tables", tables);
    else ek_value_unref(&tables);
    ek_object_set(&out, "rules", decode_rules(ek_object_get(&doc, "rules")));
    resp->status = 200;
    resp->content_type = "application/octet-stream";
    resp->disposition = "Attachment; filename=ekuiper_export.yaml";
    ek_buf_reset(&resp->body);
    ek_yaml_emit(&out, &resp->body);
    ek_value_unref(&out);
    ek_value_unref(&doc);
}

/* ---- import ---- */

/* Appends "what: message" to msgs, separated by "; ". */
static void note(ek_buf *msgs, const char *what, const char *msg)
{
    if (msgs->len) ek_buf_puts(msgs, "; ");
    ek_buf_printf(msgs, "%s: %s", what, msg);
}

/* Sets every "<prefix>.<type>.<confKey>" of the YAML's conf sections. */
static void import_confs(ek_app *app, const ek_value *m, ek_buf *msgs)
{
    for (size_t k = 0; k < NCONFS; k++) {
        const ek_value *sec = ek_object_get(m, confs[k].section);
        for (size_t i = 0; sec && sec->type == EK_T_OBJECT && i < ek_object_len(sec); i++) {
            const char *key = ek_object_key(sec, i);
            const ek_value *props = ek_object_val(sec, i);
            char type[128], name[128];
            const char *dot1 = strchr(key, '.'), *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
            ek_err err = {0};
            if (!dot2 || strchr(dot2 + 1, '.') || (size_t)(dot1 - key) != strlen(confs[k].prefix) ||
                strncmp(key, confs[k].prefix, strlen(confs[k].prefix)) != 0 || (size_t)(dot2 - dot1) > sizeof type ||
                strlen(dot2 + 1) >= sizeof name || dot2 == dot1 + 1 || !dot2[1]) {
                ek_err_set(&err, EK_EINVAL, "%s isn't valid conf key (expected %s.<type>.<name>)", key, confs[k].prefix);
            } else if (props->type != EK_T_OBJECT) {
                ek_err_set(&err, EK_EINVAL, "the properties must be a mapping");
            } else {
                snprintf(type, sizeof type, "%.*s", (int)(dot2 - dot1 - 1), dot1 + 1);
                snprintf(name, sizeof name, "%s", dot2 + 1);
                ek_confkeys_set(app, confs[k].kind, type, name, props, &err);
            }
            if (err.code) note(msgs, key, err.msg);
        }
    }
}

/* The YAML's streams, tables and rules in /data/import's JSON form; wrong shapes go to msgs. */
static ek_value to_json_doc(const ek_value *m, ek_buf *msgs)
{
    static const char *const kinds[] = {"streams", "tables"};
    ek_value doc = ek_object_new(3);
    for (size_t s = 0; s < 2; s++) {
        const ek_value *sec = ek_object_get(m, kinds[s]);
        ek_value out = ek_object_new(4);
        for (size_t i = 0; sec && sec->type == EK_T_OBJECT && i < ek_object_len(sec); i++) {
            const ek_value *sql = ek_object_get(ek_object_val(sec, i), "sql");
            if (ek_object_val(sec, i)->type == EK_T_OBJECT && sql && sql->type == EK_T_STRING)
                ek_object_set(&out, ek_object_key(sec, i), ek_value_ref(sql));
            else note(msgs, ek_object_key(sec, i), "expected {sql: \"CREATE ...\"}");
        }
        ek_object_set(&doc, kinds[s], out);
    }
    const ek_value *rules = ek_object_get(m, "rules");
    ek_value out = ek_object_new(4);
    for (size_t i = 0; rules && rules->type == EK_T_OBJECT && i < ek_object_len(rules); i++) {
        const ek_value *def = ek_object_val(rules, i);
        if (def->type != EK_T_OBJECT) {
            note(msgs, ek_object_key(rules, i), "expected the rule as a mapping");
            continue;
        }
        char *text = ek_json_encode_str(def, 0);
        ek_object_set(&out, ek_object_key(rules, i), ek_string(text));
        ek_free(text);
    }
    ek_object_set(&doc, "rules", out);
    return doc;
}

/* Appends every per-item error of an import status to msgs. */
static void status_messages(const ek_value *status, ek_buf *msgs)
{
    for (size_t s = 0; s < ek_object_len(status); s++) {
        const ek_value *sec = ek_object_val(status, s);
        for (size_t i = 0; sec->type == EK_T_OBJECT && i < ek_object_len(sec); i++) {
            char *what = ek_asprintf("%s %s", ek_object_key(status, s), ek_object_key(sec, i));
            const ek_value *msg = ek_object_val(sec, i);
            note(msgs, what, msg->type == EK_T_STRING ? ek_str_ptr(msg) : "failed");
            ek_free(what);
        }
    }
}

static void import_v2(rest_req *req, rest_resp *resp)
{
    if (!rest__engine(req, resp)) return;
    ek_value body;
    if (!rest__body_object(req, resp, &body)) return;
    const ek_value *content = ek_object_get(&body, "content"), *file = ek_object_get(&body, "file");
    bool has_content = content && content->type == EK_T_STRING && ek_str_len(content);
    bool has_file = file && file->type == EK_T_STRING && ek_str_len(file);
    ek_buf text = EK_BUF_INIT, msgs = EK_BUF_INIT;
    ek_value m = ek_null();
    ek_err err = {0};
    if (has_content && has_file) {
        rest__error(resp, 400, 1000, "Invalid body: Cannot specify both content and file");
        goto out;
    }
    if (!has_content && !has_file) {
        rest__error(resp, 400, 1000, "Invalid body: must specify content or file");
        goto out;
    }
    if (rest__content(req, &body, &text, &err) != 0) {
        rest__error(resp, 400, 1000, "Fail to read file: %s", err.msg);
        goto out;
    }
    if (ek_yaml_parse(text.data ? text.data : "", text.len, "the YAML content", &m, &err) != 0) {
        rest__error(resp, 400, 1000, "import failed: %s", err.msg);
        goto out;
    }
    import_confs(req->app, &m, &msgs);
    ek_value doc = to_json_doc(&m, &msgs), status;
    rest__import_doc(req->app, &doc, true, &status);
    status_messages(&status, &msgs);
    ek_value_unref(&status);
    ek_value_unref(&doc);
    if (msgs.len) rest__error(resp, 400, 1000, "import failed: %.*s", (int)msgs.len, msgs.data);
    else rest__text(resp, 200, "success");
    if (rest__flag(req, "stop")) rest__shutdown_later(req->app);
out:
    ek_value_unref(&m);
    ek_buf_free(&text);
    ek_buf_free(&msgs);
    ek_value_unref(&body);
}

const rest_route rest__routes_data_v2[] = {
    {"GET", "/v2/data/export", export_v2},
    {"POST", "/v2/data/import", import_v2},
    {NULL, NULL, NULL},
};
