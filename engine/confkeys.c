/* Conf keys of source, sink and connection types in three layers (see confkeys.h).
 *
 * The file layer is read on each call (etc/ files are small and conf keys are looked up when a
 * rule starts or a REST call asks, never per message), so an edited etc/sources/<type>.yaml is
 * seen by the next rule start. The REST layer is one JSON object per type in the store; a
 * tombstone (null) hides a key that a file still holds, across restarts. */
#include "engine/confkeys.h"
#include "engine/codec_json.h"
#include "engine/config.h"
#include "engine/mem.h"

#include <string.h>
#include <strings.h>

static const struct { const char *ns, *dir; } kinds[] = {
    [EK_CONF_SOURCE] = {"conf_source", "sources"},
    [EK_CONF_SINK] = {"conf_sink", "sinks"},
    [EK_CONF_CONNECTION] = {"conf_connection", "connections"},
};

const char *ek_confkeys_ns(ek_conf_kind kind)
{
    return kinds[kind].ns;
}

/* v if it is an object, else an empty object (v is consumed). */
static ek_value object_or_empty(ek_value v)
{
    if (v.type == EK_T_OBJECT) return v;
    ek_value_unref(&v);
    return ek_object_new(0);
}

/* The etc/ layer for type (environment overrides included for the files the config loads). */
static ek_value file_layer(const ek_app *app, ek_conf_kind kind, const char *type)
{
    ek_value tree = ek_null();
    if (kind == EK_CONF_SOURCE && strcasecmp(type, "mqtt") == 0 && app->config) {
        tree = ek_value_ref(ek_config_file(app->config, "mqtt_source"));
    } else if (kind == EK_CONF_CONNECTION) {
        const ek_value *t = app->config ? ek_object_get_ci(ek_config_file(app->config, "connection"), type) : NULL;
        if (t) tree = ek_value_ref(t);
    } else {
        char *path = ek_asprintf("%s/%s/%s.yaml", app->etc_dir ? app->etc_dir : "etc", kinds[kind].dir, type);
        if (ek_yaml_load(path, &tree, NULL) != 0) tree = ek_null();
        ek_free(path);
    }
    return object_or_empty(tree);
}

/* The REST layer for type ({key: props|null}). */
static ek_value rest_layer(const ek_app *app, ek_conf_kind kind, const char *type)
{
    char *val = NULL;
    size_t len = 0;
    ek_value v = ek_null();
    if (app->store && ek_store_get(app->store, kinds[kind].ns, type, &val, &len, NULL) == 0)
        ek_json_decode(val, len, 0, &v, NULL);
    ek_free(val);
    return object_or_empty(v);
}

ek_value ek_confkeys_all(const ek_app *app, ek_conf_kind kind, const char *type)
{
    ek_value out = file_layer(app, kind, type);
    ek_value layer = rest_layer(app, kind, type);
    ek_value_unshare(&out);
    for (size_t i = 0; i < ek_object_len(&layer); i++) {
        const ek_value *v = ek_object_val(&layer, i);
        if (v->type == EK_T_NULL) ek_object_del(&out, ek_object_key(&layer, i));
        else ek_object_set(&out, ek_object_key(&layer, i), ek_value_ref(v));
    }
    ek_value_unref(&layer);
    return out;
}

ek_value ek_confkeys_props(const ek_app *app, ek_conf_kind kind, const char *type, const char *conf_key)
{
    ek_value all = ek_confkeys_all(app, kind, type);
    ek_value out = ek_object_new(8);
    const char *keys[2] = {"default", conf_key};
    for (int k = 0; k < 2; k++) {
        const ek_value *sec = keys[k] ? ek_object_get_ci(&all, keys[k]) : NULL;
        for (size_t i = 0; sec && sec->type == EK_T_OBJECT && i < ek_object_len(sec); i++)
            ek_object_set(&out, ek_object_key(sec, i), ek_value_ref(ek_object_val(sec, i)));
    }
    ek_value_unref(&all);
    return out;
}

int ek_confkeys_set(const ek_app *app, ek_conf_kind kind, const char *type, const char *key, const ek_value *props,
                    ek_err *err)
{
    if (!app->store) return ek_err_set(err, EK_EIO, "no store is open");
    ek_value layer = rest_layer(app, kind, type);
    ek_value_unshare(&layer);
    int rc = 0;
    if (props) {
        ek_object_set(&layer, key, ek_value_ref(props));
    } else {
        ek_value files = file_layer(app, kind, type);
        const ek_value *in_layer = ek_object_get(&layer, key);
        bool in_files = ek_object_get(&files, key) != NULL;
        if (in_layer ? in_layer->type == EK_T_NULL : !in_files)
            rc = ek_err_set(err, EK_ENOTFOUND, "conf key %s of %s %s is not found", key,
                            kind == EK_CONF_SINK ? "sink" : kind == EK_CONF_CONNECTION ? "connection" : "source", type);
        else if (in_files)
            ek_object_set(&layer, key, ek_null());
        else
            ek_object_del(&layer, key);
        ek_value_unref(&files);
    }
    if (!rc) {
        char *text = ek_json_encode_str(&layer, 0);
        rc = ek_store_set(app->store, kinds[kind].ns, type, text, strlen(text), err);
        ek_free(text);
    }
    ek_value_unref(&layer);
    return rc;
}
