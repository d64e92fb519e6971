/* /metadata: the source, sink and function types kuiperd knows (from the connector registry and the
 * function library), and their conf keys: GET /metadata/{sources|sinks|connections}/yaml/{type}
 * and PUT|DELETE /metadata/{sources|sinks|connections}/{type}/confKeys/{key}.
 *
 * Shapes are eKuiper's (internal/meta): a type list is [{name, about, type}] sorted by name, where
 * about is {trial, installed, author, helpUrl, description} with {en, zh} texts; a source or sink
 * is {about, libs, properties, node, type} with properties as eKuiper's field objects (under
 * "default" for a source); /metadata/functions is the list of function files, each {about,
 * functions: [{name, example, [aggregate,] hint, args, return, node}]} with {en_US, zh_CN} texts
 * as eKuiper's etc/functions/internal.json has them. An unknown type answers 400 with code 5000
 * and "This plugin was not found:<name>", as eKuiper does.
 *
 * Conf keys and their layers (etc/ files, environment, REST changes kept in the store; REST wins)
 * are engine/confkeys.c's: this file only translates HTTP to it, and ek_confkeys_props gives
 * the engine the same view when it opens a connector. */
#include "connectors/connector.h"
#include "engine/confkeys.h"
#include "engine/mem.h"
#include "rest/rest_int.h"
#include "sql/func.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

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

static ek_value texts(const char *en_key, const char *zh_key, const char *en, const char *zh)
{
    ek_value t = ek_object_new(2);
    ek_object_set(&t, en_key, ek_string(en));
    ek_object_set(&t, zh_key, ek_string(zh));
    return t;
}

static ek_value author(void)
{
    ek_value a = ek_object_new(4);
    ek_object_set(&a, "name", ek_string("kuiperd"));
    ek_object_set(&a, "email", ek_string(""));
    ek_object_set(&a, "company", ek_string(""));
    ek_object_set(&a, "website", ek_string(""));
    return a;
}

/* eKuiper's about object; file_form uses the file's en_US/zh_CN keys (functions), else en/zh. */
static ek_value about(const char *type, const char *what, bool file_form)
{
    const char *en = file_form ? "en_US" : "en", *zh = file_form ? "zh_CN" : "zh";
    char *den = ek_asprintf("The built-in %s %s of kuiperd.", type, what);
    char *dzh = ek_asprintf("kuiperd 内置 %s %s", type, what);
    char *url = ek_asprintf("https://ekuiper.org/docs/en/latest/guide/%ss/builtin/%s.html", what, type);
    ek_value a = ek_object_new(5);
    ek_object_set(&a, "trial", ek_bool(false));
    if (!file_form) ek_object_set(&a, "installed", ek_bool(true));
    ek_object_set(&a, "author", author());
    ek_object_set(&a, "helpUrl", texts(en, zh, url, url));
    ek_object_set(&a, "description", texts(en, zh, den, dzh));
    ek_free(den);
    ek_free(dzh);
    ek_free(url);
    return a;
}

typedef struct type_list {
    ek_value list;
    kind k;
    bool lookup; /* ?kind=lookup: only sources that serve lookup tables */
} type_list;

static void add_type(const char *type, void *arg)
{
    type_list *t = arg;
    if (t->lookup) {
        const ek_source_ops *ops = ek_connector_source(type);
        if (!ops || !ops->lookup) return;
    }
    ek_value o = ek_object_new(3);
    ek_object_set(&o, "name", ek_string(type));
    ek_object_set(&o, "about", about(type, kinds[t->k].word, false));
    ek_object_set(&o, "type", ek_string("internal"));
    /* Sorted by name, as eKuiper lists them. */
    size_t i = ek_array_len(&t->list);
    ek_array_push(&t->list, o);
    ek_value *items = (ek_value *)ek_array_get(&t->list, 0);
    while (i > 0 && strcmp(ek_str_ptr(ek_object_get(&items[i - 1], "name")), type) > 0) {
        ek_value tmp = items[i - 1];
        items[i - 1] = items[i];
        items[i] = tmp;
        i--;
    }
}

static void list_types(rest_req *req, rest_resp *resp)
{
    kind k = kind_of(req);
    const char *q = rest__query(req, "kind");
    type_list t = {.list = ek_array_new(16), .k = k, .lookup = k == K_SOURCE && q && !strcasecmp(q, "lookup")};
    ek_connector_foreach(k == K_SINK, add_type, &t);
    rest__json(resp, 200, &t.list);
    ek_value_unref(&t.list);
}

static bool check_type(const rest_req *req, rest_resp *resp, kind k, bool yaml_key)
{
    if (known_type(k, req->params[0])) return true;
    static const char *const prefix[] = {[K_SOURCE] = "sources.", [K_SINK] = "sinks.", [K_CONNECTION] = "connections."};
    rest__error(resp, 400, 5000, "This plugin was not found:%s%s", yaml_key ? prefix[k] : "", req->params[0]);
    return false;
}

/* eKuiper never answers a secret: a property named password or token (any case) reads "******". */
#define MASK "******"

static bool secret(const char *key)
{
    return strcasecmp(key, "password") == 0 || strcasecmp(key, "token") == 0;
}

static void yaml(rest_req *req, rest_resp *resp)
{
    kind k = kind_of(req);
    if (!check_type(req, resp, k, true)) return;
    ek_value v = ek_confkeys_all(req->app, kinds[k].conf, req->params[0]);
    ek_value_unshare(&v);
    for (size_t i = 0; i < ek_object_len(&v); i++) {
        const ek_value *props = ek_object_val(&v, i);
        if (props->type != EK_T_OBJECT) continue;
        ek_value masked = ek_value_ref(props);
        ek_value_unshare(&masked);
        for (size_t j = 0; j < ek_object_len(&masked); j++)
            if (secret(ek_object_key(&masked, j))) ek_object_set(&masked, ek_object_key(&masked, j), ek_string(MASK));
        ek_object_set(&v, ek_object_key(&v, i), masked);
    }
    rest__json(resp, 200, &v);
    ek_value_unref(&v);
}

/* A secret sent back as "******" (read from GET .../yaml) keeps the value the key has now. */
static void unmask(const rest_req *req, kind k, ek_value *body)
{
    ek_value all = ek_confkeys_all(req->app, kinds[k].conf, req->params[0]);
    const ek_value *now = ek_object_get(&all, req->params[1]);
    ek_value_unshare(body);
    for (size_t i = 0; i < ek_object_len(body); i++) {
        const char *key = ek_object_key(body, i);
        const ek_value *v = ek_object_val(body, i);
        if (!secret(key) || v->type != EK_T_STRING || strcmp(ek_str_ptr(v), MASK) != 0) continue;
        const ek_value *old = now && now->type == EK_T_OBJECT ? ek_object_get(now, key) : NULL;
        ek_object_set(body, key, old ? ek_value_ref(old) : ek_string(""));
    }
    ek_value_unref(&all);
}

static void put_key(rest_req *req, rest_resp *resp)
{
    kind k = kind_of(req);
    if (!check_type(req, resp, k, true)) return;
    ek_value body;
    if (!rest__body_object(req, resp, &body)) return;
    unmask(req, k, &body);
    ek_err err = {0};
    if (ek_confkeys_set(req->app, kinds[k].conf, req->params[0], req->params[1], &body, &err) != 0) rest__err(resp, &err);
    else rest__text(resp, 200, "");
    ek_value_unref(&body);
}

static void delete_key(rest_req *req, rest_resp *resp)
{
    kind k = kind_of(req);
    if (!check_type(req, resp, k, true)) return;
    ek_err err = {0};
    if (ek_confkeys_set(req->app, kinds[k].conf, req->params[0], req->params[1], NULL, &err) != 0) rest__err(resp, &err);
    else rest__text(resp, 200, "");
}

/* Properties that describe the connection rather than one stream's use of it (eKuiper's
 * connection_related): what GET /metadata/connections/{type} lists. */
static bool connection_related(const char *name)
{
    static const char *const names[] = {"server", "username", "password", "clientid", "protocolVersion",
                                        "insecureSkipVerify", "certificationPath", "privateKeyPath", "rootCaPath",
                                        "certificationRaw", "privateKeyRaw", "rootCARaw", "url", "token", NULL};
    for (size_t i = 0; names[i]; i++)
        if (strcasecmp(names[i], name) == 0) return true;
    return false;
}

/* One of eKuiper's field objects for a default property. */
static ek_value field(const char *name, const ek_value *dflt)
{
    const char *type = dflt->type == EK_T_BOOL ? "bool" : dflt->type == EK_T_INT ? "int"
                     : dflt->type == EK_T_FLOAT ? "float" : dflt->type == EK_T_ARRAY ? "list_string"
                     : dflt->type == EK_T_OBJECT ? "object" : "string";
    ek_value f = ek_object_new(10);
    ek_object_set(&f, "exist", ek_bool(false));
    ek_object_set(&f, "name", ek_string(name));
    ek_object_set(&f, "default", ek_value_ref(dflt));
    ek_object_set(&f, "type", ek_string(type));
    ek_object_set(&f, "control", ek_string(dflt->type == EK_T_BOOL ? "radio" : dflt->type == EK_T_ARRAY ? "list" : "text"));
    ek_object_set(&f, "connection_related", ek_bool(connection_related(name)));
    ek_object_set(&f, "optional", ek_bool(true));
    ek_object_set(&f, "values", ek_null());
    ek_object_set(&f, "hint", texts("en", "zh", name, name));
    ek_object_set(&f, "label", texts("en", "zh", name, name));
    return f;
}

/* GET /metadata/sources/{type}, /metadata/sinks/{type}, /metadata/connections/{type} (the
 * source's connection-related properties only, as eKuiper): about, libs, the default properties as
 * field objects, the node for the flow editor and the extension type. */
static void describe(rest_req *req, rest_resp *resp)
{
    kind k = kind_of(req);
    if (!check_type(req, resp, k, false)) return;
    ek_value props = ek_array_new(8);
    ek_value all = ek_confkeys_all(req->app, k == K_CONNECTION ? EK_CONF_SOURCE : kinds[k].conf, req->params[0]);
    const ek_value *dflt = ek_object_get(&all, "default");
    for (size_t i = 0; dflt && dflt->type == EK_T_OBJECT && i < ek_object_len(dflt); i++)
        if (k != K_CONNECTION || connection_related(ek_object_key(dflt, i)))
            ek_array_push(&props, field(ek_object_key(dflt, i), ek_object_val(dflt, i)));
    ek_value_unref(&all);
    ek_value node = ek_object_new(3);
    ek_object_set(&node, "category", ek_string(kinds[k].word));
    ek_object_set(&node, "icon", ek_string("iconPath"));
    ek_object_set(&node, "label", texts("en", "zh", req->params[0], req->params[0]));
    ek_value out = ek_object_new(5);
    ek_object_set(&out, "about", about(req->params[0], kinds[k].word, false));
    ek_object_set(&out, "libs", ek_array_new(0));
    if (k != K_SINK) {
        ek_value p = ek_object_new(1);
        ek_object_set(&p, "default", props);
        ek_object_set(&out, "properties", p);
    } else {
        ek_object_set(&out, "properties", props);
    }
    ek_object_set(&out, "node", node);
    ek_object_set(&out, "type", ek_string("internal"));
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
        ek_object_set(&o, "about", about(ek_object_key(&names, i), "connection", false));
        ek_array_push(&list, o);
    }
    rest__json(resp, 200, &list);
    ek_value_unref(&list);
    ek_value_unref(&names);
}

/* One function as etc/functions/internal.json describes it. */
static void add_func(const ek_func_def *def, void *arg)
{
    int nargs = def->max_args < 0 ? (def->min_args > 0 ? def->min_args : 1) : def->max_args;
    ek_value args = ek_array_new((size_t)nargs);
    ek_buf example = EK_BUF_INIT;
    ek_buf_printf(&example, "%s(", def->name);
    for (int i = 0; i < nargs; i++) {
        char name[16];
        snprintf(name, sizeof name, "col%d", i + 1);
        ek_buf_printf(&example, "%s%s", i ? ", " : "", name);
        ek_value a = ek_object_new(6);
        ek_object_set(&a, "name", ek_string(name));
        ek_object_set(&a, "optional", ek_bool(i >= def->min_args));
        ek_object_set(&a, "control", ek_string("field"));
        ek_object_set(&a, "type", ek_string("any"));
        ek_object_set(&a, "hint", texts("en_US", "zh_CN", "An argument.", "参数"));
        ek_object_set(&a, "label", texts("en_US", "zh_CN", name, name));
        ek_array_push(&args, a);
    }
    ek_buf_putc(&example, ')');
    ek_value ret = ek_object_new(2);
    ek_object_set(&ret, "type", ek_string("any"));
    ek_object_set(&ret, "hint", texts("en_US", "zh_CN", "The result.", "结果"));
    ek_value node = ek_object_new(3);
    ek_object_set(&node, "category", ek_string("function"));
    ek_object_set(&node, "icon", ek_string("iconPath"));
    ek_object_set(&node, "label", texts("en_US", "zh_CN", def->name, def->name));
    char *hint = ek_asprintf("The %s function (see docs/sql-functions.md).", def->name);
    ek_value f = ek_object_new(7);
    ek_object_set(&f, "name", ek_string(def->name));
    ek_object_set(&f, "example", ek_string_n(example.data, example.len));
    if (def->kind == EK_FUNC_AGGREGATE) ek_object_set(&f, "aggregate", ek_bool(true));
    ek_object_set(&f, "hint", texts("en_US", "zh_CN", hint, hint));
    ek_object_set(&f, "args", args);
    ek_object_set(&f, "return", ret);
    ek_object_set(&f, "node", node);
    ek_array_push(arg, f);
    ek_free(hint);
    ek_buf_free(&example);
}

static void functions(rest_req *req, rest_resp *resp)
{
    ek_value fns = ek_array_new(200);
    ek_func_foreach(add_func, &fns);
    ek_value file = ek_object_new(2);
    ek_object_set(&file, "about", about("SQL", "functions", true));
    ek_object_set(&file, "functions", fns);
    ek_value out = ek_array_new(1);
    ek_array_push(&out, file);
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
    {"GET", "/metadata/connections/{type}", describe},
    {"PUT", "/metadata/sources/{type}/confKeys/{key}", put_key},
    {"DELETE", "/metadata/sources/{type}/confKeys/{key}", delete_key},
    {"PUT", "/metadata/sinks/{type}/confKeys/{key}", put_key},
    {"DELETE", "/metadata/sinks/{type}/confKeys/{key}", delete_key},
    {"PUT", "/metadata/connections/{type}/confKeys/{key}", put_key},
    {"DELETE", "/metadata/connections/{type}/confKeys/{key}", delete_key},
    {NULL, NULL, NULL},
};
