/* Settings of an mqtt source or sink, resolved as eKuiper does: the `default` section of
 * etc/mqtt_source.yaml (for sources; the engine merges the stream's CONF_KEY section into props),
 * then the properties, then a connectionSelector profile (etc/connections/connection.yaml, REST
 * conf keys or a /connections entry),
 * which wins for connection keys. Then it decides whether the server is the bundled broker, so a
 * stream on the local broker never opens a TCP connection to its own process. */
#include "broker/broker.h"
#include "connectors/mqtt_int.h"
#include "connectors/sink_transform.h"
#include "engine/buf.h"
#include "engine/codec_json.h"
#include "engine/confkeys.h"
#include "engine/mem.h"

#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* Connection keys as eKuiper spells them (matched case-insensitively). */
static const struct {
    const char *key;
    size_t off;
} str_keys[] = {
    {"server", offsetof(mqtt_settings, server)},
    {"username", offsetof(mqtt_settings, username)},
    {"password", offsetof(mqtt_settings, password)},
    {"clientid", offsetof(mqtt_settings, clientid)},
    {"certificationPath", offsetof(mqtt_settings, cert)},
    {"privateKeyPath", offsetof(mqtt_settings, key)},
    {"rootCaPath", offsetof(mqtt_settings, rootca)},
};

static const struct {
    const char *text;
    int version;
} versions[] = {{"3.1", 3}, {"3", 3}, {"3.1.1", 4}, {"4", 4}, {"5", 5}, {"5.0", 5}};

/* The value of key: the selected profile first, then props, then the default section. */
static const ek_value *pick(const ek_value *const layers[3], const char *key)
{
    for (int i = 0; i < 3; i++) {
        const ek_value *v = ek_prop(layers[i], key);
        if (v) return v;
    }
    return NULL;
}

static char *scalar_text(const ek_value *v)
{
    if (!v) return NULL;
    if (v->type == EK_T_STRING) return *ek_str_ptr(v) ? ek_strdup(ek_str_ptr(v)) : NULL;
    if (v->type == EK_T_INT) return ek_asprintf("%lld", (long long)v->i);
    if (v->type == EK_T_FLOAT) return ek_asprintf("%g", v->f);
    if (v->type == EK_T_ARRAY && ek_array_len(v)) return scalar_text(ek_array_get(v, 0)); /* "servers": [..] */
    return NULL;
}

/* tcp://host:port from what users write: mqtt://, mqtts://, tls://, ssl://, or host:port. */
static char *normalize_server(const char *s)
{
    static const struct {
        const char *from, *to;
        int port;
    } schemes[] = {{"tcp://", "tcp://", 1883}, {"mqtt://", "tcp://", 1883}, {"ssl://", "ssl://", 8883},
                   {"mqtts://", "ssl://", 8883}, {"tls://", "ssl://", 8883}, {"ws://", "ws://", 80},
                   {"wss://", "wss://", 443}};
    const char *scheme = "tcp://", *rest = s;
    int port = 1883;
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++)
        if (strncasecmp(s, schemes[i].from, strlen(schemes[i].from)) == 0) {
            scheme = schemes[i].to, rest = s + strlen(schemes[i].from), port = schemes[i].port;
            break;
        }
    const char *colon = strrchr(rest, ':');
    const char *bracket = strrchr(rest, ']');
    if (colon && (!bracket || colon > bracket)) return ek_asprintf("%s%s", scheme, rest);
    return ek_asprintf("%s%s:%d", scheme, rest, port);
}

/* Decodes standard base64 (whitespace ignored); false on a bad character. */
static bool base64_decode(const char *in, ek_buf *out)
{
    unsigned acc = 0;
    int bits = 0;
    for (; *in; in++) {
        char ch = *in;
        if (ch == '=' || ch == '\n' || ch == '\r' || ch == ' ' || ch == '\t') continue;
        const char *tbl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        const char *p = strchr(tbl, ch);
        if (!p || !ch) return false;
        acc = (acc << 6) | (unsigned)(p - tbl);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            ek_buf_putc(out, (char)((acc >> bits) & 0xff));
        }
    }
    return true;
}

/* certificationRaw, privateKeyRaw, rootCARaw (base64 PEM, as eKuiper takes them): written once to
 * <data>/certs/mqtt-<hash>.pem (mode 0600) because Paho reads certificates from files. */
static int raw_to_file(ek_app *app, const char *raw, const char *key, char **path, ek_err *err)
{
    ek_buf pem = EK_BUF_INIT;
    if (!base64_decode(raw, &pem) || pem.len == 0) {
        ek_buf_free(&pem);
        return ek_err_set(err, EK_EINVAL, "property %s: not base64", key);
    }
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < pem.len; i++) h = (h ^ (unsigned char)pem.data[i]) * 1099511628211ull;
    const char *base = app && app->data_dir ? app->data_dir : "data"; /* kuiperd's default */
    char *dir = ek_asprintf("%s/certs", base);
    mkdir(dir, 0700);
    *path = ek_asprintf("%s/mqtt-%016llx.pem", dir, (unsigned long long)h);
    ek_free(dir);
    int rc = 0;
    int fd = open(*path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, pem.data, pem.len) != (ssize_t)pem.len)
        rc = ek_err_set(err, EK_EIO, "property %s: cannot write %s", key, *path);
    if (fd >= 0) close(fd);
    ek_buf_free(&pem);
    return rc;
}

static int raw_certs(ek_app *app, const ek_value *const layers[3], mqtt_settings *out, ek_err *err)
{
    static const struct {
        const char *key;
        size_t off;
    } raws[] = {{"certificationRaw", offsetof(mqtt_settings, cert)},
                {"privateKeyRaw", offsetof(mqtt_settings, key)},
                {"rootCARaw", offsetof(mqtt_settings, rootca)}};
    for (size_t i = 0; i < sizeof raws / sizeof raws[0]; i++) {
        char **path = (char **)((char *)out + raws[i].off);
        const ek_value *v = pick(layers, raws[i].key);
        if (*path || !v || v->type != EK_T_STRING || !*ek_str_ptr(v)) continue;
        int rc = raw_to_file(app, ek_str_ptr(v), raws[i].key, path, err);
        if (rc) return rc;
    }
    return 0;
}

static bool is_bundled(ek_app *app, const char *server)
{
    if (!app || !app->broker || strncmp(server, "tcp://", 6) != 0) return false;
    const char *host = server + 6, *colon = strrchr(host, ':');
    if (!colon) return false;
    size_t hl = (size_t)(colon - host);
    bool local = (hl == 9 && strncmp(host, "127.0.0.1", 9) == 0) || (hl == 9 && strncasecmp(host, "localhost", 9) == 0);
    return local && atoi(colon + 1) == ek_broker_port(app->broker);
}

/* The connection profile a connectionSelector names: "<type>.<name>" is a profile of
 * etc/connections/connection.yaml or one set over REST (/metadata/connections/<type>/confKeys/<name>),
 * the layers merged by engine/confkeys.h; any other name is a connection created with
 * POST /connections (its props). Null when there is none. */
static ek_value connection_profile(ek_app *app, const char *sel)
{
    if (!app) return ek_null();
    const char *dot = strchr(sel, '.');
    if (dot && app->config) {
        char *type = ek_strndup(sel, (size_t)(dot - sel));
        ek_value all = ek_confkeys_all(app, EK_CONF_CONNECTION, type);
        ek_free(type);
        const ek_value *p = ek_object_get_ci(&all, dot + 1);
        ek_value found = p && p->type == EK_T_OBJECT ? ek_value_ref(p) : ek_null();
        ek_value_unref(&all);
        if (found.type == EK_T_OBJECT) return found;
    }
    char *text = NULL;
    size_t len = 0;
    ek_value out = ek_null();
    if (app->store && ek_store_get(app->store, EK_CONNECTIONS_NS, sel, &text, &len, NULL) == 0) {
        ek_value conn;
        if (ek_json_decode(text, len, 0, &conn, NULL) == 0) {
            const ek_value *p = ek_object_get(&conn, "props");
            if (p && p->type == EK_T_OBJECT) out = ek_value_ref(p);
            ek_value_unref(&conn);
        }
        ek_free(text);
    }
    return out;
}

static int settings_from(ek_app *app, const ek_value *props, bool source, const ek_value *profile,
                         const ek_value *dflt, mqtt_settings *out, ek_err *err);

int mqtt__settings(ek_app *app, const ek_value *props, bool source, mqtt_settings *out, ek_err *err)
{
    memset(out, 0, sizeof *out);
    const ek_value *dflt = NULL;
    if (app && app->config && source)
        dflt = ek_config_lookup(ek_config_file(app->config, "mqtt_source"), "default");
    const char *sel = ek_prop_str(props, "connectionSelector", NULL);
    if (!sel && dflt) sel = ek_prop_str(dflt, "connectionSelector", NULL);
    ek_value profile = ek_null();
    if (sel && *sel) {
        profile = connection_profile(app, sel);
        if (profile.type != EK_T_OBJECT)
            return ek_err_set(err, EK_EINVAL,
                              "connectionSelector %s: no such connection (etc/connections/connection.yaml, "
                              "/metadata/connections or /connections)", sel);
    }
    int rc = settings_from(app, props, source, profile.type == EK_T_OBJECT ? &profile : NULL, dflt, out, err);
    ek_value_unref(&profile); /* the settings hold copies */
    return rc;
}

/* mqtt__settings once the profile is resolved: layers are the profile, the properties and the
 * mqtt_source default, the first that has a key winning. */
static int settings_from(ek_app *app, const ek_value *props, bool source, const ek_value *profile,
                         const ek_value *dflt, mqtt_settings *out, ek_err *err)
{
    const ek_value *const layers[3] = {profile, props, dflt};
    for (size_t i = 0; i < sizeof str_keys / sizeof str_keys[0]; i++)
        *(char **)((char *)out + str_keys[i].off) = scalar_text(pick(layers, str_keys[i].key));
    if (!out->server) {
        char *servers = scalar_text(pick(layers, "servers"));
        out->server = servers;
    }
    if (!out->server) {
        mqtt__settings_free(out);
        return ek_err_set(err, EK_EINVAL, "property server is required (for example tcp://127.0.0.1:1883)");
    }
    if (raw_certs(app, layers, out, err)) {
        mqtt__settings_free(out);
        return EK_EINVAL;
    }
    char *norm = normalize_server(out->server);
    ek_free(out->server);
    out->server = norm;

    out->version = 4;
    char *ver = scalar_text(pick(layers, "protocolVersion"));
    if (ver) {
        out->version = 0;
        for (size_t i = 0; i < sizeof versions / sizeof versions[0] && !out->version; i++)
            if (strcmp(versions[i].text, ver) == 0) out->version = versions[i].version;
        if (!out->version) {
            ek_err_set(err, EK_EINVAL, "property protocolVersion: \"%s\" is not 3.1, 3.1.1 or 5", ver);
            ek_free(ver);
            mqtt__settings_free(out);
            return EK_EINVAL;
        }
        ek_free(ver);
    }
    const ek_value *insecure[3] = {profile, props, dflt};
    for (int i = 0; i < 3; i++)
        if (ek_prop(insecure[i], "insecureSkipVerify")) {
            if (ek_prop_bool(insecure[i], "insecureSkipVerify", false, &out->insecure, err)) {
                mqtt__settings_free(out);
                return EK_EINVAL;
            }
            break;
        }
    int64_t qos = source ? 1 : 0;
    const ek_value *qlayers[2] = {props, dflt};
    for (int i = 0; i < 2; i++)
        if (ek_prop(qlayers[i], "qos")) {
            if (ek_prop_int(qlayers[i], "qos", qos, &qos, err)) {
                mqtt__settings_free(out);
                return EK_EINVAL;
            }
            break;
        }
    if (qos < 0 || qos > 2) {
        mqtt__settings_free(out);
        return ek_err_set(err, EK_EINVAL, "property qos: %lld is not 0, 1 or 2", (long long)qos);
    }
    out->qos = (int)qos;
    const char *dc = ek_prop_str(props, "decompression", dflt ? ek_prop_str(dflt, "decompression", "") : "");
    if (ek_compress_check(dc, err)) {
        mqtt__settings_free(out);
        return ek_err_prefix(err, "property decompression");
    }
    snprintf(out->decompression, sizeof out->decompression, "%s", dc);
    const ek_value *b = ek_prop(props, "bundled");
    if (b) {
        if (ek_prop_bool(props, "bundled", false, &out->bundled, err)) {
            mqtt__settings_free(out);
            return EK_EINVAL;
        }
        if (out->bundled && (!app || !app->broker)) {
            mqtt__settings_free(out);
            return ek_err_set(err, EK_EINVAL, "property bundled: the bundled broker is not running");
        }
    } else {
        out->bundled = is_bundled(app, out->server);
    }
    return 0;
}

void mqtt__settings_free(mqtt_settings *s)
{
    for (size_t i = 0; i < sizeof str_keys / sizeof str_keys[0]; i++) {
        char **p = (char **)((char *)s + str_keys[i].off);
        ek_free(*p);
        *p = NULL;
    }
}

bool mqtt__topic_match(const char *filter, const char *topic)
{
    if (strncmp(filter, "$share/", 7) == 0) {
        const char *slash = strchr(filter + 7, '/');
        if (!slash) return false;
        filter = slash + 1;
    }
    if (topic[0] == '$' && (filter[0] == '+' || filter[0] == '#')) return false;
    for (;;) {
        if (filter[0] == '#' && filter[1] == '\0') return true;
        size_t fl = strcspn(filter, "/"), tl = strcspn(topic, "/");
        if (!(fl == 1 && filter[0] == '+') && (fl != tl || strncmp(filter, topic, fl) != 0)) return false;
        filter += fl, topic += tl;
        if (!*filter && !*topic) return true;
        if (*filter == '/' && filter[1] == '#' && filter[2] == '\0' && !*topic) return true; /* a/# matches a */
        if (!*filter || !*topic) return false;
        filter++, topic++;
    }
}
