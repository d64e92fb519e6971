/* The "mqtt" sink: publishes each payload the transform made (sink_transform.h) to `topic`, which
 * may be a template over the message (`devices/{{.id}}/out`; for a list, its first row), with qos
 * and retained, on a shared connection (mqtt_conn.c): in-process when the server is the bundled
 * broker, Paho otherwise. When the broker cannot be reached collect returns EK_EIO, so the
 * runtime's cache keeps the message. `compression` is applied by the transform, not here.
 * resendDestination, when set, is the topic (a template too) for cached messages being resent. */
#include "connectors/cache.h"
#include "connectors/mqtt_int.h"
#include "connectors/sink_transform.h"
#include "connectors/template.h"
#include "engine/mem.h"

#include <string.h>
#include <unistd.h>

#define OPEN_WAIT_MS 2000

typedef struct mqtt_sink {
    mqtt_conn *conn;
    char *topic;
    ek_template *topic_tpl;  /* NULL when the topic has no action */
    char *resend;            /* resendDestination: topic for cached data being resent */
    ek_template *resend_tpl;
    int qos;
    bool retained;
} mqtt_sink;

static void sink_close(void *st);

static int sink_open(void *st, const ek_sink_conf *conf, ek_err *err)
{
    mqtt_sink *s = st;
    const char *topic = ek_prop_str(conf->props, "topic", NULL);
    if (!topic || !*topic) return ek_err_set(err, EK_EINVAL, "mqtt sink: property topic is required");
    int rc = ek_prop_bool(conf->props, "retained", false, &s->retained, err);
    if (rc) return rc;
    if (!ek_template_is_static(topic) && (rc = ek_template_compile(topic, &s->topic_tpl, err)))
        return ek_err_prefix(err, "mqtt sink: property topic");
    mqtt_settings set;
    if ((rc = mqtt__settings(conf->app, conf->props, false, &set, err))) {
        ek_template_free(s->topic_tpl);
        return ek_err_prefix(err, "mqtt sink");
    }
    s->qos = set.qos;
    rc = mqtt__conn_get(conf->app, &set, &s->conn, err);
    mqtt__settings_free(&set);
    if (rc) {
        ek_template_free(s->topic_tpl);
        return rc;
    }
    s->topic = ek_strdup(topic);
    const char *rd = ek_prop_str(conf->props, "resendDestination", "");
    if (*rd) {
        s->resend = ek_strdup(rd);
        if (!ek_template_is_static(rd) && (rc = ek_template_compile(rd, &s->resend_tpl, err))) {
            sink_close(s);
            return ek_err_prefix(err, "mqtt sink: property resendDestination");
        }
    }
    /* Give a fresh connection a moment, so a rule's first results are not all cached. */
    for (int waited = 0; waited < OPEN_WAIT_MS && !mqtt__conn_connected(s->conn); waited += 20) usleep(20000);
    return 0;
}

static int sink_collect(void *st, const ek_sink_data *d, ek_err *err)
{
    mqtt_sink *s = st;
    bool alt = s->resend && ek_sink_cache_resending();
    const char *fixed = alt ? s->resend : s->topic;
    ek_template *tpl = alt ? s->resend_tpl : s->topic_tpl;
    if (!tpl) return mqtt__conn_publish(s->conn, fixed, d->payload, d->len, s->qos, s->retained, err);
    const ek_value *v = d->value;
    if (v && v->type == EK_T_ARRAY) v = ek_array_len(v) ? ek_array_get(v, 0) : NULL;
    ek_buf topic = EK_BUF_INIT;
    int rc = ek_template_render(tpl, v, &topic, err);
    if (!rc && topic.len == 0) rc = ek_err_set(err, EK_EINVAL, "mqtt sink: topic template %s gave an empty topic", fixed);
    if (!rc) rc = mqtt__conn_publish(s->conn, topic.data, d->payload, d->len, s->qos, s->retained, err);
    ek_buf_free(&topic);
    return rc;
}

static void sink_close(void *st)
{
    mqtt_sink *s = st;
    mqtt__conn_put(s->conn);
    ek_template_free(s->topic_tpl);
    ek_template_free(s->resend_tpl);
    ek_free(s->topic);
    ek_free(s->resend);
    memset(s, 0, sizeof *s);
}

const ek_sink_ops ek_mqtt_sink_ops = {
    .type = "mqtt",
    .state_size = sizeof(mqtt_sink),
    .open = sink_open,
    .collect = sink_collect,
    .close = sink_close,
};
