/* The "mqtt" source: subscribes to the stream's DATASOURCE topic (wildcards allowed) on a shared
 * connection (mqtt_conn.c) and pushes each payload, decompressed when `decompression` is set, with
 * its metadata (topic, qos, messageId, and properties for MQTT 5) to the rule engine through
 * ek_ingest. Connection changes reach the rule's metrics through ek_ingest.status; a broker that
 * is down or goes away never fails the rule, the connection just keeps trying.
 *
 * bufferLength bounds the messages received but not yet taken by the rule engine (the oldest are
 * dropped, counted and logged when the rules fall behind). On the bundled broker the publisher's
 * acknowledgement of each message is held (ek_broker_msg_hold) and handed to the runtime with it,
 * so QoS >= 1 rules release it only once the message is safe (docs/reliability.md). */
#include "connectors/mqtt_int.h"
#include "connectors/sink_transform.h"
#include "engine/log.h"
#include "engine/mem.h"

#include <string.h>

typedef struct mqtt_source {
    ek_ingest in;
    mqtt_conn *conn;
    long sub;
    char decompression[16];
    char *name;   /* stream name, for log lines */
} mqtt_source;

/* Hands one message on, with the acknowledgement its publisher waits for when the runtime takes it. */
static void pass(mqtt_source *s, const void *payload, size_t len, ek_value meta, ek_ack *ack)
{
    if (s->in.payload_held) s->in.payload_held(s->in.ctx, payload, len, meta, ack);
    else s->in.payload(s->in.ctx, payload, len, meta);
}

static void on_message(void *arg, const void *payload, size_t len, ek_value meta, ek_ack *ack)
{
    mqtt_source *s = arg;
    if (!s->decompression[0]) {
        pass(s, payload, len, meta, ack);
        return;
    }
    ek_buf b = EK_BUF_INIT;
    ek_err err = {0};
    if (ek_decompress(s->decompression, payload, len, &b, &err)) {
        const ek_value *topic = ek_object_get(&meta, "topic");
        ek_warn("stream %s: dropped a message on %s: %s", s->name, topic ? ek_str_ptr(topic) : "?", err.msg);
        ek_value_unref(&meta);
    } else {
        pass(s, b.data ? b.data : "", b.len, meta, ack);
    }
    ek_buf_free(&b);
}

static void on_status(void *arg, int connected, const char *msg)
{
    mqtt_source *s = arg;
    if (s->in.status) s->in.status(s->in.ctx, connected, msg);
}

static int source_open(void *st, const ek_source_conf *conf, const ek_ingest *ingest, ek_err *err)
{
    mqtt_source *s = st;
    if (!conf->datasource || !*conf->datasource)
        return ek_err_set(err, EK_EINVAL, "stream %s: DATASOURCE (the MQTT topic) is required", conf->stream);
    mqtt_settings set;
    int rc = mqtt__settings(conf->app, conf->props, true, &set, err);
    if (rc) return ek_err_prefix(err, "stream %s", conf->stream);
    s->in = *ingest;
    s->name = ek_strdup(conf->stream ? conf->stream : "");
    memcpy(s->decompression, set.decompression, sizeof s->decompression);
    rc = mqtt__conn_get(conf->app, &set, &s->conn, err);
    int qos = set.qos;
    mqtt__settings_free(&set);
    if (rc) goto fail;
    int64_t buffer = 1024;
    if ((rc = ek_prop_int(conf->props, "bufferLength", 1024, &buffer, err))) goto fail;
    if (buffer < 1) buffer = 1;
    long id = mqtt__conn_subscribe(s->conn, conf->datasource, qos, (size_t)buffer, on_message, on_status, s, err);
    if (id < 0) {
        rc = (int)id;
        goto fail;
    }
    s->sub = id;
    return 0;
fail:
    mqtt__conn_put(s->conn);
    s->conn = NULL;
    ek_free(s->name);
    s->name = NULL;
    return ek_err_prefix(err, "stream %s", conf->stream);
}

static void source_close(void *st)
{
    mqtt_source *s = st;
    if (s->conn) {
        mqtt__conn_unsubscribe(s->conn, s->sub);
        mqtt__conn_put(s->conn);
    }
    ek_free(s->name);
    memset(s, 0, sizeof *s);
}

const ek_source_ops ek_mqtt_source_ops = {
    .type = "mqtt",
    .state_size = sizeof(mqtt_source),
    .open = source_open,
    .close = source_close,
    .lookup = NULL,
};
