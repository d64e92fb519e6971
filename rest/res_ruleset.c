/* /ruleset/import and /ruleset/export (streams, tables and rules) and the whole-configuration
 * endpoints /data/export, /data/import (?partial=1, &stop=1) and /data/import/status, in eKuiper's
 * formats: every section maps a name to a string (a CREATE statement, a rule's JSON text, a conf-key
 * object's JSON text). Sections kuiperd has no counterpart for (plugins, services, schemas,
 * scripts) are exported empty and accepted, ignored, on import.
 *
 * Order matters: imports create streams, then tables, then rules (rules need their streams); a
 * full import first drops every rule, then every stream and table. One bad item never stops the
 * others: its error is kept per item and served by /data/import/status (kept in the store, so it
 * survives a restart as eKuiper's does). */
#include "engine/codec_json.h"
#include "engine/confkeys.h"
#include "engine/log.h"
#include "engine/mem.h"
#include "engine/rules/provision.h"
#include "engine/rules/rules.h"
#include "rest/rest_int.h"

#include <stdio.h>
#include <string.h>

/* The sections of eKuiper's configuration export, in its order. */
static const char *const sections[] = {
    "streams", "tables", "rules", "nativePlugins", "portablePlugins", "sourceConfig",
    "sinkConfig", "connectionConfig", "Service", "Schema", "uploads", "scripts",
};
#define NSECTIONS (sizeof sections / sizeof sections[0])

/* Conf-key sections and the kinds they hold. */
static const struct { const char *section; ek_conf_kind kind; } conf_sections[] = {
    {"sourceConfig", EK_CONF_SOURCE},
    {"sinkConfig", EK_CONF_SINK},
    {"connectionConfig", EK_CONF_CONNECTION},
};

static ek_value empty_sections(void)
{
    ek_value v = ek_object_new(NSECTIONS);
    for (size_t i = 0; i < NSECTIONS; i++) ek_object_set(&v, sections[i], ek_object_new(0));
    return v;
}

/* Adds name: statement of one stream or table to *section. */
static void add_stream(ek_rules *r, bool table, const char *name, ek_value *section)
{
    ek_value d;
    if (ek_rules_stream_describe(r, table, name, &d, NULL) != 0) return;
    const ek_value *sql = ek_object_get(&d, "Statement");
    if (sql && sql->type == EK_T_STRING) ek_object_set(section, name, ek_value_ref(sql));
    ek_value_unref(&d);
}

static void add_all_streams(ek_rules *r, bool table, ek_value *section)
{
    ek_value names;
    ek_rules_stream_list(r, table, false, NULL, &names);
    for (size_t i = 0; i < ek_array_len(&names); i++) add_stream(r, table, ek_str_ptr(ek_array_get(&names, i)), section);
    ek_value_unref(&names);
}

/* Adds id: rule JSON text; EK_ENOTFOUND for an unknown id. */
static int add_rule(ek_rules *r, const char *id, ek_value *section, ek_err *err)
{
    ek_value def;
    if (ek_rules_rule_get(r, id, &def, err) != 0) return err->code;
    char *text = ek_json_encode_str(&def, 0);
    ek_object_set(section, id, ek_string(text));
    ek_free(text);
    ek_value_unref(&def);
    return 0;
}

/* The streams and tables rule id reads, from its topology ("source_<name>"). */
static void add_rule_sources(ek_rules *r, const char *id, ek_value *streams, ek_value *tables)
{
    ek_value topo;
    if (ek_rules_rule_topo(r, id, &topo, NULL) != 0) return;
    const ek_value *src = ek_object_get(&topo, "sources");
    for (size_t i = 0; src && src->type == EK_T_ARRAY && i < ek_array_len(src); i++) {
        const char *n = ek_str_ptr(ek_array_get(src, i));
        if (strncmp(n, "source_", 7) == 0) n += 7;
        add_stream(r, false, n, streams);
        add_stream(r, true, n, tables);
    }
    ek_value_unref(&topo);
}

static void set_section(ek_value *all, const char *key, ek_value *v)
{
    ek_object_set(all, key, *v);
    *v = ek_null();
}

/* Exports streams, tables and rules: all of them, or the rules in ids (an array) and what they read. */
static int export_rules(ek_rules *r, const ek_value *ids, ek_value *all, ek_err *err)
{
    ek_value streams = ek_object_new(8), tables = ek_object_new(8), rules = ek_object_new(8);
    int rc = 0;
    if (!ids) {
        add_all_streams(r, false, &streams);
        add_all_streams(r, true, &tables);
        ek_value list;
        ek_rules_rule_list(r, &list);
        for (size_t i = 0; i < ek_array_len(&list); i++)
            add_rule(r, ek_str_ptr(ek_object_get(ek_array_get(&list, i), "id")), &rules, NULL);
        ek_value_unref(&list);
    }
    for (size_t i = 0; ids && i < ek_array_len(ids) && !rc; i++) {
        const ek_value *id = ek_array_get(ids, i);
        if (id->type != EK_T_STRING) {
            rc = ek_err_set(err, EK_EINVAL, "expected an array of rule ids, item %zu is not a string", i);
            break;
        }
        rc = add_rule(r, ek_str_ptr(id), &rules, err);
        if (!rc) add_rule_sources(r, ek_str_ptr(id), &streams, &tables);
    }
    set_section(all, "streams", &streams);
    set_section(all, "tables", &tables);
    set_section(all, "rules", &rules);
    return rc;
}

static int export_conf(const char *key, const char *val, size_t len, void *arg)
{
    ek_object_set(arg, key, ek_string_n(val, len));
    return 0;
}

static void ruleset_export(rest_req *req, rest_resp *resp)
{
    ek_rules *r = rest__engine(req, resp);
    if (!r) return;
    ek_value all = ek_object_new(3);
    export_rules(r, NULL, &all, NULL);
    rest__json(resp, 200, &all);
    ek_value_unref(&all);
}

/* ---- import ---- */

typedef struct import_ctx {
    ek_rules *r;
    bool skip_existing; /* ruleset import: an existing item is kept; data import replaces it */
    ek_value status;   /* section -> {name: error} */
    int counts[3];     /* streams, tables, rules created */
    bool failed;
} import_ctx;

/* Records name's error under section; returns false for the callers' convenience. */
static bool item_error(import_ctx *c, const char *section, const char *name, const char *msg)
{
    ek_value *sec = (ek_value *)ek_object_get(&c->status, section);
    ek_object_set(sec, name, ek_string(msg));
    c->failed = true;
    ek_warn("import: %s %s: %s", section, name, msg);
    return false;
}

static int keep_flag(const import_ctx *c)
{
    return c->skip_existing ? EK_PROVISION_KEEP : 0;
}

/* Creates, or replaces, one stream or table; false when it failed (the error is recorded). */
static bool import_stream(import_ctx *c, bool table, const char *name, const ek_value *sql)
{
    const char *section = table ? "tables" : "streams";
    if (sql->type != EK_T_STRING) return item_error(c, section, name, "expected a CREATE statement string");
    ek_err err = {0};
    int rc = ek_provision_stream(c->r, table, name, ek_str_ptr(sql), keep_flag(c), &err);
    if (rc < 0) return item_error(c, section, name, err.msg);
    if (rc == 0) c->counts[table ? 1 : 0]++;
    return true;
}

/* Creates, or updates, one rule given as JSON text; false when it failed (the error is recorded). */
static bool import_rule(import_ctx *c, const char *id, const ek_value *text)
{
    if (text->type != EK_T_STRING) return item_error(c, "rules", id, "expected the rule's JSON as a string");
    ek_err err = {0};
    ek_value def;
    if (ek_json_decode(ek_str_ptr(text), ek_str_len(text), 0, &def, &err) != 0) return item_error(c, "rules", id, err.msg);
    int rc = def.type == EK_T_OBJECT ? ek_provision_rule(c->r, id, &def, keep_flag(c), &err)
                                     : ek_err_set(&err, EK_EINVAL, "the rule must be a JSON object");
    ek_value_unref(&def);
    if (rc < 0) return item_error(c, "rules", id, err.msg);
    if (rc == 0) c->counts[2]++;
    return true;
}

static void import_conf(import_ctx *c, ek_store *store, const char *section, const char *ns, const ek_value *sec)
{
    for (size_t i = 0; i < ek_object_len(sec); i++) {
        const char *type = ek_object_key(sec, i);
        const ek_value *text = ek_object_val(sec, i);
        ek_value v;
        ek_err err = {0};
        if (text->type != EK_T_STRING || ek_json_decode(ek_str_ptr(text), ek_str_len(text), 0, &v, &err) != 0) {
            item_error(c, section, type, err.code ? err.msg : "expected the conf keys as a JSON string");
            continue;
        }
        bool obj = v.type == EK_T_OBJECT;
        ek_value_unref(&v);
        if (!obj) item_error(c, section, type, "expected a JSON object of conf keys");
        else if (ek_store_set(store, ns, type, ek_str_ptr(text), ek_str_len(text), &err) != 0)
            item_error(c, section, type, err.msg);
    }
}

/* Imports every known section of doc (an object) into the engine and the store. */
static void import_doc(import_ctx *c, ek_app *app, const ek_value *doc)
{
    static const char *const order[] = {"streams", "tables", "rules"};
    for (size_t s = 0; s < 3; s++) {
        const ek_value *sec = ek_object_get(doc, order[s]);
        if (!sec || sec->type != EK_T_OBJECT) continue;
        for (size_t i = 0; i < ek_object_len(sec); i++) {
            if (s < 2) import_stream(c, s == 1, ek_object_key(sec, i), ek_object_val(sec, i));
            else import_rule(c, ek_object_key(sec, i), ek_object_val(sec, i));
        }
    }
    for (size_t k = 0; app->store && k < sizeof conf_sections / sizeof conf_sections[0]; k++) {
        const ek_value *sec = ek_object_get(doc, conf_sections[k].section);
        if (sec && sec->type == EK_T_OBJECT) import_conf(c, app->store, conf_sections[k].section, ek_confkeys_ns(conf_sections[k].kind), sec);
    }
}

/* Decodes the body's content or file into a JSON object; writes the 400 otherwise. */
bool rest__read_doc(const rest_req *req, rest_resp *resp, const char *what, ek_value *doc)
{
    ek_value body;
    if (!rest__body_object(req, resp, &body)) return false;
    ek_buf text = EK_BUF_INIT;
    ek_err err = {0};
    bool ok = rest__content(req, &body, &text, &err) == 0;
    if (!ok) rest__error(resp, 400, 1000, "%s error: %s", what, err.msg);
    if (ok && ek_json_decode(text.data ? text.data : "", text.len, 0, doc, &err) != 0) {
        rest__error(resp, 400, 1000, "%s error: the content is not valid JSON: %s", what, err.msg);
        ok = false;
    } else if (ok && doc->type != EK_T_OBJECT) {
        ek_value_unref(doc);
        rest__error(resp, 400, 1000, "%s error: the content must be a JSON object with \"streams\", \"tables\" "
                    "and \"rules\"", what);
        ok = false;
    }
    ek_buf_free(&text);
    ek_value_unref(&body);
    return ok;
}

static void ruleset_import(rest_req *req, rest_resp *resp)
{
    ek_rules *r = rest__engine(req, resp);
    ek_value doc;
    if (!r || !rest__read_doc(req, resp, "import ruleset", &doc)) return;
    import_ctx c = {.r = r, .skip_existing = true, .status = empty_sections()};
    static const char *const keep[] = {"streams", "tables", "rules"};
    ek_value only = ek_object_new(3);
    for (size_t i = 0; i < 3; i++) {
        const ek_value *sec = ek_object_get(&doc, keep[i]);
        if (sec) ek_object_set(&only, keep[i], ek_value_ref(sec));
    }
    import_doc(&c, req->app, &only);
    char text[160];
    snprintf(text, sizeof text, "imported %d streams, %d tables and %d rules", c.counts[0], c.counts[1], c.counts[2]);
    rest__text(resp, 200, text);
    ek_value_unref(&only);
    ek_value_unref(&c.status);
    ek_value_unref(&doc);
}

/* Full import: drops every rule, then every stream and table, and the stored conf keys. */
static void reset_all(ek_app *app, ek_rules *r)
{
    ek_value list;
    ek_rules_rule_list(r, &list);
    for (size_t i = 0; i < ek_array_len(&list); i++)
        ek_rules_rule_delete(r, ek_str_ptr(ek_object_get(ek_array_get(&list, i), "id")), NULL);
    ek_value_unref(&list);
    for (int table = 0; table < 2; table++) {
        ek_rules_stream_list(r, table, false, NULL, &list);
        for (size_t i = 0; i < ek_array_len(&list); i++)
            ek_rules_stream_drop(r, table, ek_str_ptr(ek_array_get(&list, i)), NULL);
        ek_value_unref(&list);
    }
    for (size_t k = 0; app->store && k < sizeof conf_sections / sizeof conf_sections[0]; k++)
        ek_store_clear(app->store, ek_confkeys_ns(conf_sections[k].kind), NULL);
}

bool rest__import_doc(ek_app *app, const ek_value *doc, bool partial, ek_value *status)
{
    if (!partial) reset_all(app, app->rules);
    import_ctx c = {.r = app->rules, .status = empty_sections()};
    import_doc(&c, app, doc);
    if (app->store) {
        char *s = ek_json_encode_str(&c.status, 0);
        ek_store_set(app->store, REST_NS_IMPORT, "status", s, strlen(s), NULL);
        ek_free(s);
    }
    *status = c.status;
    return !c.failed;
}

bool rest__flag(const rest_req *req, const char *key)
{
    const char *v = rest__query(req, key);
    return v && (!strcmp(v, "1") || !strcmp(v, "true"));
}

static void data_import(rest_req *req, rest_resp *resp)
{
    ek_rules *r = rest__engine(req, resp);
    ek_value doc, status;
    if (!r || !rest__read_doc(req, resp, "import configuration", &doc)) return;
    bool partial = rest__flag(req, "partial");
    bool ok = rest__import_doc(req->app, &doc, partial, &status);
    if (partial) {
        ek_value out = ek_object_new(2);
        ek_object_set(&out, "ErrorMsg", ek_string(ok ? "" : "some items failed to import, see ConfigResponse"));
        ek_object_set(&out, "ConfigResponse", ek_value_ref(&status));
        rest__json(resp, ok ? 200 : 400, &out);
        ek_value_unref(&out);
    } else {
        rest__text(resp, 200, "");
    }
    if (rest__flag(req, "stop")) rest__shutdown_later(req->app);
    ek_value_unref(&status);
    ek_value_unref(&doc);
}

static void import_status(rest_req *req, rest_resp *resp)
{
    char *val = NULL;
    size_t len = 0;
    ek_value v = ek_null();
    if (req->app->store && ek_store_get(req->app->store, REST_NS_IMPORT, "status", &val, &len, NULL) == 0)
        ek_json_decode(val, len, 0, &v, NULL);
    ek_free(val);
    if (v.type != EK_T_OBJECT) {
        ek_value_unref(&v);
        v = empty_sections();
    }
    rest__json(resp, 200, &v);
    ek_value_unref(&v);
}

int rest__export_doc(ek_app *app, const ek_value *ids, ek_value *all, ek_err *err)
{
    *all = empty_sections();
    if (!app->rules) return ek_err_set(err, EK_ESTATE, "the rule engine is not running");
    if (export_rules(app->rules, ids, all, err) != 0) return err->code;
    for (size_t k = 0; app->store && k < sizeof conf_sections / sizeof conf_sections[0]; k++) {
        ek_value sec = ek_object_new(4);
        ek_store_foreach(app->store, ek_confkeys_ns(conf_sections[k].kind), export_conf, &sec, NULL);
        ek_object_set(all, conf_sections[k].section, sec);
    }
    return 0;
}

static void data_export(rest_req *req, rest_resp *resp)
{
    ek_rules *r = rest__engine(req, resp);
    if (!r) return;
    ek_value ids = ek_null();
    ek_err err = {0};
    if (strcmp(req->method, "POST") == 0 && req->body_len > 0) {
        if (ek_json_decode(req->body, req->body_len, 0, &ids, &err) != 0 || ids.type != EK_T_ARRAY) {
            if (!err.code) ek_value_unref(&ids);
            rest__error(resp, 400, 1000, "export configuration error: the body must be a JSON array of rule ids%s%s",
                        err.code ? ": " : "", err.msg);
            return;
        }
    }
    ek_value all;
    if (rest__export_doc(req->app, ids.type == EK_T_ARRAY ? &ids : NULL, &all, &err) != 0) rest__err(resp, &err);
    else rest__json(resp, 200, &all);
    ek_value_unref(&all);
    ek_value_unref(&ids);
}

const rest_route rest__routes_ruleset[] = {
    {"POST", "/ruleset/import", ruleset_import},
    {"POST", "/ruleset/export", ruleset_export},
    {"GET", "/data/export", data_export},
    {"POST", "/data/export", data_export},
    {"POST", "/data/import", data_import},
    {"GET", "/data/import/status", import_status},
    {NULL, NULL, NULL},
};
