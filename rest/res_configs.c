/* PATCH /configs (eKuiper's dynamic reload of basic settings: debug, consoleLog, fileLog, logLevel,
 * timezone) and GET /configs (kuiperd's addition: the settings in force). Like eKuiper, other fields
 * of the body are ignored; metricsDumpConfig {"enable": bool} is accepted (type-checked) and has no
 * effect, kuiperd having no metrics dump to files.
 *
 * A change is merged into one object kept in the store (namespace "configs", key "basic"), so it
 * survives a restart: kuiperd.c calls ek_rest_restore_configs before the rules start. The settings
 * in force are the configuration (etc/kuiper.yaml and KUIPER__BASIC__* overrides) overlaid with
 * that object. The time zone is engine state (ek_rules_set_timezone), never the process's TZ
 * variable: setenv while other threads call the C library's time functions is a data race. */
#include "engine/codec_json.h"
#include "engine/log.h"
#include "engine/mem.h"
#include "engine/rules/rules.h"
#include "rest/rest.h"
#include "rest/rest_int.h"
#include "sql/tz.h"

#include <string.h>

#define NS_CONFIGS "configs"
#define KEY_BASIC "basic"

enum { K_BOOL, K_STR };

static const struct {
    const char *key;   /* body key, as eKuiper names it */
    const char *path;  /* kuiper.yaml key */
    int type;
} keys[] = {
    {"debug", "basic.debug", K_BOOL},       {"consoleLog", "basic.consoleLog", K_BOOL},
    {"fileLog", "basic.fileLog", K_BOOL},   {"logLevel", "basic.logLevel", K_STR},
    {"timezone", "basic.timezone", K_STR},
};
#define NKEYS (sizeof keys / sizeof keys[0])

/* The stored changes (an object, possibly empty). */
static ek_value stored(const ek_app *app)
{
    char *val = NULL;
    size_t len = 0;
    ek_value v = ek_null();
    if (app->store && ek_store_get(app->store, NS_CONFIGS, KEY_BASIC, &val, &len, NULL) == 0)
        ek_json_decode(val, len, 0, &v, NULL);
    ek_free(val);
    if (v.type != EK_T_OBJECT) {
        ek_value_unref(&v);
        v = ek_object_new(NKEYS);
    }
    return v;
}

/* The setting k in force: the stored change, else the configuration. */
static ek_value effective(const ek_app *app, const ek_value *changes, size_t k)
{
    const ek_value *v = ek_object_get(changes, keys[k].key);
    if (v) return ek_value_ref(v);
    if (keys[k].type == K_BOOL) return ek_bool(app->config && ek_config_bool(app->config, keys[k].path));
    return ek_string(app->config ? ek_config_str(app->config, keys[k].path) : "");
}

static ek_value current(const ek_app *app, const ek_value *changes)
{
    ek_value out = ek_object_new(NKEYS);
    for (size_t k = 0; k < NKEYS; k++) ek_object_set(&out, keys[k].key, effective(app, changes, k));
    return out;
}

/* Checks the names, types and values of body; EK_EINVAL with err naming the first bad one. */
static int check(const ek_value *body, ek_err *err)
{
    for (size_t i = 0; i < ek_object_len(body); i++) {
        const char *key = ek_object_key(body, i);
        const ek_value *v = ek_object_val(body, i);
        size_t k = 0;
        while (k < NKEYS && strcmp(keys[k].key, key) != 0) k++;
        if (k == NKEYS) { /* eKuiper ignores the fields it does not reload; metricsDumpConfig is checked */
            if (strcmp(key, "metricsDumpConfig") != 0) {
                ek_warn("PATCH /configs: \"%s\" is ignored (only debug, consoleLog, fileLog, logLevel and timezone "
                        "change at run time)", key);
                continue;
            }
            if (v->type != EK_T_OBJECT && v->type != EK_T_NULL)
                return ek_err_set(err, EK_EINVAL, "metricsDumpConfig must be an object");
            const ek_value *en = v->type == EK_T_OBJECT ? ek_object_get(v, "enable") : NULL;
            if (en && en->type != EK_T_BOOL && en->type != EK_T_NULL)
                return ek_err_set(err, EK_EINVAL, "metricsDumpConfig.enable must be true or false");
            continue;
        }
        if ((keys[k].type == K_BOOL && v->type != EK_T_BOOL) || (keys[k].type == K_STR && v->type != EK_T_STRING))
            return ek_err_set(err, EK_EINVAL, "%s must be %s", key, keys[k].type == K_BOOL ? "true or false" : "a string");
    }
    ek_log_level lvl;
    const ek_value *level = ek_object_get(body, "logLevel");
    if (level && !ek_log_parse_level(ek_str_ptr(level), &lvl))
        return ek_err_set(err, EK_EINVAL, "logLevel: unknown level \"%s\" (debug, info, warn, error)", ek_str_ptr(level));
    const ek_value *tz = ek_object_get(body, "timezone");
    if (tz && strcmp(ek_str_ptr(tz), "Local") != 0 && strcmp(ek_str_ptr(tz), "UTC") != 0) {
        ek_tz *z = NULL;
        ek_err ze = {0};
        bool ok = !strstr(ek_str_ptr(tz), "..") && ek_tz_open(ek_str_ptr(tz), &z, &ze) == 0;
        ek_tz_free(z);
        if (!ok)
            return ek_err_set(err, EK_EINVAL, "timezone: unknown time zone \"%s\" (an IANA name such as Europe/Berlin, "
                              "UTC or Local)", ek_str_ptr(tz));
    }
    return 0;
}

/* Applies the settings in force (changes over the configuration) to the logger and the engine. */
static int apply(ek_app *app, const ek_value *changes, ek_err *err)
{
    ek_value now = current(app, changes);
    ek_log_conf lc = {
        .console = ek_object_get(&now, "consoleLog")->b,
        .file = ek_object_get(&now, "fileLog")->b,
        .dir = app->log_dir,
    };
    if (app->config) {
        lc.disable_timestamp = ek_config_bool(app->config, "basic.logDisableTimestamp");
        lc.rotate_hours = ek_config_int(app->config, "basic.rotateTime");
        lc.rotate_size = ek_config_int(app->config, "basic.rotateSize");
        lc.rotate_count = ek_config_int(app->config, "basic.rotateCount");
        lc.max_age_hours = ek_config_int(app->config, "basic.maxAge");
    }
    if (!ek_log_parse_level(ek_str_ptr(ek_object_get(&now, "logLevel")), &lc.level)) lc.level = EK_LOG_INFO;
    if (ek_object_get(&now, "debug")->b) lc.level = EK_LOG_DEBUG;
    int rc = 0;
    if (ek_object_get(changes, "timezone") && app->rules)
        rc = ek_rules_set_timezone(app->rules, ek_str_ptr(ek_object_get(&now, "timezone")), err);
    if (rc == 0) rc = ek_log_init(&lc, err);
    ek_value_unref(&now);
    return rc;
}

int ek_rest_restore_configs(ek_app *app, ek_err *err)
{
    ek_value changes = stored(app);
    int rc = 0;
    if (ek_object_len(&changes) > 0) {
        rc = apply(app, &changes, err);
        if (rc == 0) ek_info("basic settings changed through PATCH /configs are applied");
    }
    ek_value_unref(&changes);
    return rc;
}

static void patch_configs(rest_req *req, rest_resp *resp)
{
    ek_value body;
    if (!rest__body_object(req, resp, &body)) return;
    ek_err err = {0};
    ek_value changes = stored(req->app);
    if (check(&body, &err) != 0) goto fail;
    for (size_t k = 0; k < NKEYS; k++) {
        const ek_value *v = ek_object_get(&body, keys[k].key);
        if (v) ek_object_set(&changes, keys[k].key, ek_value_ref(v));
    }
    if (apply(req->app, &changes, &err) != 0) goto fail;
    if (req->app->store) {
        char *text = ek_json_encode_str(&changes, 0);
        int rc = ek_store_set(req->app->store, NS_CONFIGS, KEY_BASIC, text, strlen(text), &err);
        ek_free(text);
        if (rc) goto fail;
    }
    ek_info("settings changed through PATCH /configs");
    rest__text(resp, 204, "");
    goto out;
fail:
    rest__err(resp, &err);
out:
    ek_value_unref(&changes);
    ek_value_unref(&body);
}

static void get_configs(rest_req *req, rest_resp *resp)
{
    ek_value changes = stored(req->app);
    ek_value now = current(req->app, &changes);
    rest__json(resp, 200, &now);
    ek_value_unref(&now);
    ek_value_unref(&changes);
}

const rest_route rest__routes_configs[] = {
    {"PATCH", "/configs", patch_configs},
    {"GET", "/configs", get_configs},
    {NULL, NULL, NULL},
};
