/* /metadata: the source, sink and function types kuiperd knows (from the connector registry and the
 * function library), and their conf keys: GET /metadata/{sources|sinks|connections}/yaml/{type}
 * and PUT|DELETE /metadata/{sources|sinks|connections}/{type}/confKeys/{key}.
 *
 * Conf keys and their layers (etc/ files, environment, REST changes kept in the store; REST wins)
 * are engine/confkeys.c's: this file only translates HTTP to it, and ek_confkeys_props gives
 * the engine the same view when it opens a connector. */
#include "connectors/connector.h"
#include "engine/confkeys.h"
#include "engine/mem.h"
#include "rest/rest_int.h"
#include "sql/func.h"

#include <string.h>

typedef enum { K_SOURCE, K_SINK, K_CONNECTION } kind;

static const struct { const char *word; ek_conf_kind conf; } kinds[] = {
    [K_SOURCE] = {"source", EK_CONF_SOURCE},
    [K_SINK] = {"sink", EK_CONF_SINK},
    [K_CONNECTION] = {"connection", EK_CONF_CONNECTION},
};

static kind kind_of(const rest_req *req)
{
    if (strncmp(req->path, "/metadata/sinks", 15) == 0) return K_SINK;
    if (strncmp(req->path, "/metadata/connections", 21) == 0) return K_CONNECTION;
    return K_SOURCE;
}

static bool known_type(kind k, const char *type)
{
    if (k == K_SOURCE) return ek_connector_source(type) != NULL;
    if (k == K_SINK) return ek_connector_sink(type) != NULL;
    return ek_connector_source(type) || ek_connector_sink(type);
}

static ek_value about(const char *type, const char *what)
{
    ek_value desc = ek_object_new(2);
    ek_object_set(&desc, "en_US", ek_string_fmt("The built-in %s %s of kuiperd.", type, what));
    ek_object_set(&desc, "zh_CN", ek_string_fmt("kuiperd 内置 %s %s", type, what));
    ek_value a = ek_object_new(3);
    ek_object_set(&a, "trial", ek_bool(false));
    ek_object_set(&a, "installed", ek_bool(true));
    ek_object_set(&a, "description", desc);
    return a;
}

typedef struct type_list {
    ek_value list;
    const char *word;
} type_list;

static void add_type(const char *type, void *arg)
{
    type_list *t = arg;
    ek_value o = ek_object_new(3);
    ek_object_set(&o, "name", ek_string(type));
    ek_object_set(&o, "about", about(type, t->word));
    ek_object_set(&o, "type", ek_string("internal"));
    ek_array_push(&t->list, o);
}

static void list_types(rest_req *req, rest_resp *resp)
{
    kind k = kind_of(req);
    type_list t = {.list = ek_array_new(16), .word = kinds[k].word};
    ek_connector_foreach(k == K_SINK, add_type, &t);
    rest__json(resp, 200, &t.list);
    ek_value_unref(&t.list);
}

static bool check_type(const rest_req *req, rest_resp *resp, kind k)
{
    if (known_type(k, req->params[0])) return true;
    rest__error(resp, 404, 1002, "%s type %s is not found", kinds[k].word, req->params[0]);
    return false;
}

static void yaml(rest_req *req, rest_resp *resp)
{
    kind k = kind_of(req);
    if (!check_type(req, resp, k)) return;
    ek_value v = ek_confkeys_all(req->app, kinds[k].conf, req->params[0]);
    rest__json(resp, 200, &v);
    ek_value_unref(&v);
}

static void put_key(rest_req *req, rest_resp *resp)
{
    kind k = kind_of(req);
    if (!check_type(req, resp, k)) return;
    ek_value body;
    if (!rest__body_object(req, resp, &body)) return;
    ek_err err = {0};
    if (ek_confkeys_set(req->app, kinds[k].conf, req->params[0], req->params[1], &body, &err) != 0) rest__err(resp, &err);
    else rest__text(resp, 200, "");
    ek_value_unref(&body);
}

static void delete_key(rest_req *req, rest_resp *resp)
{
    kind k = kind_of(req);
    if (!check_type(req, resp, k)) return;
    ek_err err = {0};
    if (ek_confkeys_set(req->app, kinds[k].conf, req->params[0], req->params[1], NULL, &err) != 0) rest__err(resp, &err);
    else rest__text(resp, 200, "");
}

/* GET /metadata/sources/{type}, /metadata/sinks/{type}: about, libs and the default properties. */
static void describe(rest_req *req, rest_resp *resp)
{
    kind k = kind_of(req);
    if (!check_type(req, resp, k)) return;
    ek_value props = ek_array_new(8);
    ek_value all = ek_confkeys_all(req->app, kinds[k].conf, req->params[0]);
    const ek_value *dflt = ek_object_get(&all, "default");
    for (size_t i = 0; dflt && dflt->type == EK_T_OBJECT && i < ek_object_len(dflt); i++) {
        const ek_value *v = ek_object_val(dflt, i);
        ek_value f = ek_object_new(4);
        ek_object_set(&f, "name", ek_string(ek_object_key(dflt, i)));
        ek_object_set(&f, "default", ek_value_ref(v));
        ek_object_set(&f, "type", ek_string(ek_is_number(v) ? "int" : v->type == EK_T_BOOL ? "bool" : "string"));
        ek_object_set(&f, "optional", ek_bool(true));
        ek_array_push(&props, f);
    }
    ek_value_unref(&all);
    ek_value out = ek_object_new(3);
    ek_object_set(&out, "about", about(req->params[0], kinds[k].word));
    ek_object_set(&out, "libs", ek_array_new(0));
    if (k == K_SOURCE) {
        ek_value p = ek_object_new(1);
        ek_object_set(&p, "default", props);
        ek_object_set(&out, "properties", p);
    } else {
        ek_object_set(&out, "properties", props);
    }
    rest__json(resp, 200, &out);
    ek_value_unref(&out);
}

static int add_stored(const char *key, const char *val, size_t len, void *arg)
{
    if (!ek_object_get(arg, key)) ek_object_set(arg, key, ek_null());
    return 0;
}

/* The connection types with conf keys, from etc/connections/connection.yaml and the store. */
static void connections(rest_req *req, rest_resp *resp)
{
    ek_value names = ek_object_new(4);
    const ek_value *files = req->app->config ? ek_config_file(req->app->config, "connection") : NULL;
    for (size_t i = 0; files && i < ek_object_len(files); i++) ek_object_set(&names, ek_object_key(files, i), ek_null());
    if (req->app->store) ek_store_foreach(req->app->store, ek_confkeys_ns(EK_CONF_CONNECTION), add_stored, &names, NULL);
    ek_value list = ek_array_new(ek_object_len(&names));
    for (size_t i = 0; i < ek_object_len(&names); i++) {
        ek_value o = ek_object_new(2);
        ek_object_set(&o, "name", ek_string(ek_object_key(&names, i)));
        ek_object_set(&o, "about", about(ek_object_key(&names, i), "connection"));
        ek_array_push(&list, o);
    }
    rest__json(resp, 200, &list);
    ek_value_unref(&list);
    ek_value_unref(&names);
}

static const char *kind_name(ek_func_kind k)
{
    static const char *const names[] = {"scalar", "aggregate", "analytic", "multirow"};
    return (size_t)k < sizeof names / sizeof names[0] ? names[k] : "scalar";
}

static void add_func(const ek_func_def *def, void *arg)
{
    ek_value f = ek_object_new(4);
    ek_object_set(&f, "name", ek_string(def->name));
    ek_object_set(&f, "type", ek_string(kind_name(def->kind)));
    ek_object_set(&f, "minArgs", ek_int(def->min_args));
    ek_object_set(&f, "maxArgs", ek_int(def->max_args));
    ek_array_push(arg, f);
}

static void functions(rest_req *req, rest_resp *resp)
{
    ek_value fns = ek_array_new(200);
    ek_func_foreach(add_func, &fns);
    ek_value group = ek_object_new(3);
    ek_object_set(&group, "name", ek_string("internal"));
    ek_object_set(&group, "about", about("SQL", "functions"));
    ek_object_set(&group, "functions", fns);
    ek_value out = ek_array_new(1);
    ek_array_push(&out, group);
    rest__json(resp, 200, &out);
    ek_value_unref(&out);
}

const rest_route rest__routes_metadata[] = {
    {"GET", "/metadata/sources", list_types},
    {"GET", "/metadata/sinks", list_types},
    {"GET", "/metadata/functions", functions},
    {"GET", "/metadata/connections", connections},
    {"GET", "/metadata/sources/yaml/{type}", yaml},
    {"GET", "/metadata/sinks/yaml/{type}", yaml},
    {"GET", "/metadata/connections/yaml/{type}", yaml},
    {"GET", "/metadata/sources/{type}", describe},
    {"GET", "/metadata/sinks/{type}", describe},
    {"PUT", "/metadata/sources/{type}/confKeys/{key}", put_key},
    {"DELETE", "/metadata/sources/{type}/confKeys/{key}", delete_key},
    {"PUT", "/metadata/sinks/{type}/confKeys/{key}", put_key},
    {"DELETE", "/metadata/sinks/{type}/confKeys/{key}", delete_key},
    {"PUT", "/metadata/connections/{type}/confKeys/{key}", put_key},
    {"DELETE", "/metadata/connections/{type}/confKeys/{key}", delete_key},
    {NULL, NULL, NULL},
};
