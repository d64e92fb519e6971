/* The plugin endpoints, as eKuiper serves them for native plugins: list, install (a file:// URL
 * to a .so, or to a .zip holding <name>.so), describe and delete under /plugins/sources,
 * /plugins/sinks and /plugins/functions; the functions of function plugins under /plugins/udfs;
 * and the function list of a function plugin (POST /plugins/functions/{name}/register).
 * The work is done by the plugin manager (engine/rules/plugins.h); this file only maps HTTP to it
 * with eKuiper's reply texts. The kind comes from the second path segment. */
#include "engine/mem.h"
#include "engine/rules/plugins.h"
#include "rest/rest_int.h"

#include <stdio.h>
#include <string.h>

/* The kind named by "/plugins/<kind>..." (the routes below only list the three kinds). */
static ek_plugin_kind path_kind(const rest_req *req)
{
    const char *seg = req->path + strlen("/plugins/");
    if (strncmp(seg, "sources", 7) == 0) return EK_PLUGIN_SOURCE;
    if (strncmp(seg, "sinks", 5) == 0) return EK_PLUGIN_SINK;
    return EK_PLUGIN_FUNCTION;
}

static void list(rest_req *req, rest_resp *resp)
{
    ek_value v;
    ek_plugins_list(path_kind(req), &v);
    rest__json(resp, 200, &v);
    ek_value_unref(&v);
}

static const char *body_str(const ek_value *body, const char *key)
{
    const ek_value *v = ek_object_get(body, key);
    return v && v->type == EK_T_STRING ? ek_str_ptr(v) : NULL;
}

static void create(rest_req *req, rest_resp *resp)
{
    ek_plugin_kind kind = path_kind(req);
    ek_value body = ek_null();
    if (!rest__body_object(req, resp, &body)) return;
    const char *name = body_str(&body, "name"), *file = body_str(&body, "file");
    ek_err err = {0};
    ek_buf data = {0};
    char text[512];
    if (!name || !*name) {
        rest__error(resp, 400, 1000, "%s plugins create command error: invalid body: name is required",
                    ek_plugin_kind_word(kind));
    } else if (!file || !*file) {
        rest__error(resp, 400, 1000, "%s plugins create command error: invalid body: file is required",
                    ek_plugin_kind_word(kind));
    } else if (rest__read_uri(req->app, file, &data, &err) != 0 ||
               ek_plugins_install(req->app, kind, name, data.data, data.len, &err) != 0) {
        ek_err_prefix(&err, "%s plugins create command error", ek_plugin_kind_word(kind));
        rest__err(resp, &err);
    } else {
        const ek_value *fl = ek_object_get(&body, "functions");
        if (kind == EK_PLUGIN_FUNCTION && fl && fl->type == EK_T_ARRAY && ek_array_len(fl) > 0 &&
            ek_plugins_register_funcs(req->app, name, fl, &err) != 0) {
            ek_plugins_delete(req->app, kind, name, &(ek_err){0});
            ek_err_prefix(&err, "%s plugins create command error", ek_plugin_kind_word(kind));
            rest__err(resp, &err);
        } else {
            snprintf(text, sizeof text, "%s plugin %s is created", ek_plugin_kind_word(kind), name);
            rest__text(resp, 201, text);
        }
    }
    ek_buf_free(&data);
    ek_value_unref(&body);
}

static void describe(rest_req *req, rest_resp *resp)
{
    ek_plugin_kind kind = path_kind(req);
    ek_value v;
    ek_err err = {0};
    if (ek_plugins_describe(kind, req->params[0], &v, &err) != 0) {
        ek_err_prefix(&err, "describe %s plugin %s error", ek_plugin_kind_word(kind), req->params[0]);
        rest__err(resp, &err);
        return;
    }
    rest__json(resp, 200, &v);
    ek_value_unref(&v);
}

static void drop(rest_req *req, rest_resp *resp)
{
    ek_plugin_kind kind = path_kind(req);
    ek_err err = {0};
    if (ek_plugins_delete(req->app, kind, req->params[0], &err) != 0) {
        ek_err_prefix(&err, "delete %s plugin %s error", ek_plugin_kind_word(kind), req->params[0]);
        rest__err(resp, &err);
        return;
    }
    /* ?stop=1 asks eKuiper to stop; kuiperd leaves stopping to its service manager. */
    char text[512];
    snprintf(text, sizeof text, "%s plugin %s is deleted and Kuiper must restart for the change to take effect.",
             ek_plugin_kind_word(kind), req->params[0]);
    rest__text(resp, 200, text);
}

static void udfs(rest_req *req, rest_resp *resp)
{
    ek_value v;
    ek_plugins_udfs(&v);
    rest__json(resp, 200, &v);
    ek_value_unref(&v);
}

static void udf(rest_req *req, rest_resp *resp)
{
    ek_value v;
    ek_err err = {0};
    if (ek_plugins_udf(req->params[0], &v, &err) != 0) {
        ek_err_prefix(&err, "describe function %s error", req->params[0]);
        rest__err(resp, &err);
        return;
    }
    rest__json(resp, 200, &v);
    ek_value_unref(&v);
}

static void register_funcs(rest_req *req, rest_resp *resp)
{
    ek_value body = ek_null();
    if (!rest__body_object(req, resp, &body)) return;
    ek_err err = {0};
    if (ek_plugins_register_funcs(req->app, req->params[0], ek_object_get(&body, "functions"), &err) != 0) {
        ek_err_prefix(&err, "function plugins %s register functions error", req->params[0]);
        rest__err(resp, &err);
    } else {
        char text[512];
        snprintf(text, sizeof text, "function plugin %s function list is registered", req->params[0]);
        rest__text(resp, 200, text);
    }
    ek_value_unref(&body);
}

const rest_route rest__routes_plugins[] = {
    {"GET", "/plugins/udfs", udfs},
    {"GET", "/plugins/udfs/{name}", udf},
    {"POST", "/plugins/functions/{name}/register", register_funcs},
    {"GET", "/plugins/sources", list},
    {"POST", "/plugins/sources", create},
    {"GET", "/plugins/sources/{name}", describe},
    {"DELETE", "/plugins/sources/{name}", drop},
    {"GET", "/plugins/sinks", list},
    {"POST", "/plugins/sinks", create},
    {"GET", "/plugins/sinks/{name}", describe},
    {"DELETE", "/plugins/sinks/{name}", drop},
    {"GET", "/plugins/functions", list},
    {"POST", "/plugins/functions", create},
    {"GET", "/plugins/functions/{name}", describe},
    {"DELETE", "/plugins/functions/{name}", drop},
    {NULL, NULL, NULL},
};
