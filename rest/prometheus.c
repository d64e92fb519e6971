/* GET /metrics for Prometheus (see prometheus.h): a small libmicrohttpd daemon of its own, on
 * basic.prometheusPort, separate from the REST API as eKuiper's is.
 *
 * Each scrape reads every rule's status object (ek_rules_rule_status_all), whose metric keys have
 * the form <type>_<op>_<instance>_<metric> (source_demo_0_records_in_total,
 * op_2_project_0_process_latency_us, sink_mqtt_0_0_exceptions_total), and turns every numeric
 * metric into one sample kuiper_<type>_<metric>{rule, type, op, op_instance}. Nothing is kept
 * between scrapes, so a dropped rule disappears from the next answer. With the bundled broker
 * running, its figures (the ones $SYS publishes, from ek_broker_stats_get) follow as
 * kuiper_broker_<name>, without labels. */
#include "rest/prometheus.h"
#include "broker/broker.h"
#include "engine/log.h"
#include "engine/mem.h"
#include "engine/rules/rules.h"
#include "rest/dispatch.h"

#include <stddef.h>
#include <string.h>
#include <unistd.h>

struct ek_prometheus {
    ek_app *app;
    struct MHD_Daemon *mhd;
    int port;
};

/* The numeric metrics of a node, with their Prometheus type and help text. */
static const struct { const char *name, *type, *help; } metrics[] = {
    {"records_in_total", "counter", "Records received by the node"},
    {"records_out_total", "counter", "Records sent on by the node"},
    {"messages_processed_total", "counter", "Messages processed by the node"},
    {"process_latency_us", "gauge", "Latency of the last record in microseconds"},
    {"buffer_length", "gauge", "Records waiting in the node's input buffer"},
    {"exceptions_total", "counter", "Errors raised by the node"},
    {"connection_status", "gauge", "Connection status: 1 connected, 0 connecting, -1 disconnected"},
};
#define NMETRICS (sizeof metrics / sizeof metrics[0])
static const char *const types[] = {"source", "op", "sink"};
#define NTYPES (sizeof types / sizeof types[0])

/* One parsed status key. */
typedef struct sample {
    size_t metric, type;
    const char *op;       /* points into key */
    size_t op_len;
    const char *inst;
    size_t inst_len;
} sample;

/* Splits "<type>_<op>_<instance>_<metric>"; false for keys that are not numeric node metrics. */
static bool parse_key(const char *key, sample *s)
{
    size_t klen = strlen(key);
    for (s->metric = 0; s->metric < NMETRICS; s->metric++) {
        size_t mlen = strlen(metrics[s->metric].name);
        if (klen > mlen + 1 && key[klen - mlen - 1] == '_' && strcmp(key + klen - mlen, metrics[s->metric].name) == 0) {
            klen -= mlen + 1;
            break;
        }
    }
    if (s->metric == NMETRICS) return false;
    for (s->type = 0; s->type < NTYPES; s->type++) {
        size_t tlen = strlen(types[s->type]);
        if (klen > tlen + 1 && strncmp(key, types[s->type], tlen) == 0 && key[tlen] == '_') break;
    }
    if (s->type == NTYPES) return false;
    s->op = key + strlen(types[s->type]) + 1;
    const char *end = key + klen, *us = end;
    while (us > s->op && us[-1] != '_') us--;
    if (us <= s->op + 1) return false;
    s->op_len = (size_t)(us - 1 - s->op);
    s->inst = us;
    s->inst_len = (size_t)(end - us);
    return true;
}

/* Appends a label value escaped as the text format wants (backslash, quote, newline). */
static void label(ek_buf *out, const char *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (v[i] == '\\' || v[i] == '"') ek_buf_putc(out, '\\');
        if (v[i] == '\n') ek_buf_puts(out, "\\n");
        else ek_buf_putc(out, v[i]);
    }
}

static void render_metric(ek_buf *out, const ek_value *all, size_t t, size_t m)
{
    bool header = false;
    for (size_t r = 0; r < ek_object_len(all); r++) {
        const char *rule = ek_object_key(all, r);
        const ek_value *st = ek_object_val(all, r);
        for (size_t i = 0; st->type == EK_T_OBJECT && i < ek_object_len(st); i++) {
            sample s;
            const ek_value *v = ek_object_val(st, i);
            if (!ek_is_number(v) || !parse_key(ek_object_key(st, i), &s) || s.type != t || s.metric != m) continue;
            if (!header) {
                ek_buf_printf(out, "# HELP kuiper_%s_%s %s\n# TYPE kuiper_%s_%s %s\n", types[t], metrics[m].name,
                              metrics[m].help, types[t], metrics[m].name, metrics[m].type);
                header = true;
            }
            ek_buf_printf(out, "kuiper_%s_%s{rule=\"", types[t], metrics[m].name);
            label(out, rule, strlen(rule));
            ek_buf_printf(out, "\",type=\"%s\",op=\"", types[t]);
            label(out, s.op, s.op_len);
            ek_buf_puts(out, "\",op_instance=\"");
            label(out, s.inst, s.inst_len);
            if (v->type == EK_T_INT) ek_buf_printf(out, "\"} %lld\n", (long long)v->i);
            else ek_buf_printf(out, "\"} %.17g\n", v->f);
        }
    }
}

/* The broker's figures: name, Prometheus type, help, and where the value sits in the snapshot. */
static const struct {
    const char *name, *type, *help;
    size_t off;
} broker_metrics[] = {
#define BM(n, t, h, f) {n, t, h, offsetof(ek_broker_stats, f)}
    BM("clients_connected", "gauge", "MQTT clients connected now", clients_connected),
    BM("clients_total", "gauge", "MQTT sessions known to the broker, connected or not", clients_total),
    BM("connects_total", "counter", "MQTT connections accepted since start", connects_total),
    BM("messages_received_total", "counter", "PUBLISH messages received by the broker", msgs_received),
    BM("messages_sent_total", "counter", "PUBLISH messages sent by the broker", msgs_sent),
    BM("messages_dropped_total", "counter", "Messages dropped by the broker (queue full, expired, too large)",
       msgs_dropped),
    BM("bytes_received_total", "counter", "Bytes received by the broker from MQTT clients", bytes_received),
    BM("bytes_sent_total", "counter", "Bytes sent by the broker to MQTT clients", bytes_sent),
    BM("subscriptions", "gauge", "Subscriptions, from clients and in-process", subscriptions),
    BM("retained_messages", "gauge", "Retained messages ($SYS's own not counted)", retained),
    BM("uptime_seconds", "gauge", "Seconds since the broker started", uptime_s),
    BM("overload_max_clients_total", "counter", "Connections closed at accept because maxClients was reached",
       refused_max_clients),
    BM("overload_connection_rate_total", "counter", "Connections closed at accept because maxConnRate was exceeded",
       refused_conn_rate),
    BM("overload_message_rate_total", "counter", "Clients disconnected for exceeding maxMessageRate",
       disconnected_msg_rate),
    BM("overload_inflight_total", "counter", "Clients disconnected for exceeding the receive maximum (maxInflight)",
       disconnected_inflight),
    BM("overload_queue_full_total", "counter", "Messages dropped from a full session queue (maxQueuedMessages)",
       dropped_queue_full),
    BM("overload_topic_levels_total", "counter", "Publishes and subscriptions refused for maxTopicLevels",
       refused_topic_levels),
    BM("overload_topic_length_total", "counter", "Publishes and subscriptions refused for maxTopicLength",
       refused_topic_length),
    BM("kicked_total", "counter", "Clients kicked out through the management API", kicked),
#undef BM
};
#define NBROKER (sizeof broker_metrics / sizeof broker_metrics[0])

static void render_broker(ek_broker *b, ek_buf *out)
{
    ek_broker_stats st;
    if (ek_broker_stats_get(b, &st)) return;
    for (size_t i = 0; i < NBROKER; i++) {
        uint64_t v;
        memcpy(&v, (const char *)&st + broker_metrics[i].off, sizeof v);
        ek_buf_printf(out, "# HELP kuiper_broker_%s %s\n# TYPE kuiper_broker_%s %s\nkuiper_broker_%s %llu\n",
                      broker_metrics[i].name, broker_metrics[i].help, broker_metrics[i].name, broker_metrics[i].type,
                      broker_metrics[i].name, (unsigned long long)v);
    }
}

void ek_prometheus_render(ek_app *app, ek_buf *out)
{
    if (app->broker) render_broker(app->broker, out);
    if (!app->rules) return;
    ek_value all;
    ek_rules_rule_status_all(app->rules, &all);
    for (size_t t = 0; t < NTYPES; t++)
        for (size_t m = 0; m < NMETRICS; m++) render_metric(out, &all, t, m);
    ek_buf_puts(out, "# HELP kuiper_rule_status Whether the rule runs: 1 running, 0 stopped\n"
                     "# TYPE kuiper_rule_status gauge\n");
    for (size_t r = 0; r < ek_object_len(&all); r++) {
        const ek_value *st = ek_object_get(ek_object_val(&all, r), "status");
        ek_buf_puts(out, "kuiper_rule_status{rule=\"");
        label(out, ek_object_key(&all, r), strlen(ek_object_key(&all, r)));
        ek_buf_printf(out, "\"} %d\n", st && st->type == EK_T_STRING && strcmp(ek_str_ptr(st), "running") == 0);
    }
    ek_value_unref(&all);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    ek_prometheus *p = cls;
    rest_resp resp = {.status = 200};
    if (strcmp(url, "/metrics") != 0) {
        rest__error(&resp, 404, 1002, "%s is not found: Prometheus metrics are at /metrics", url);
    } else if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        rest__error(&resp, 405, 1000, "method %s is not allowed on /metrics", method);
    } else {
        ek_prometheus_render(p->app, &resp.body);
        resp.content_type = "text/plain; version=0.0.4; charset=utf-8";
    }
    enum MHD_Result ret = rest__send(conn, &resp);
    ek_buf_free(&resp.body);
    return ret;
}

int ek_prometheus_start(ek_app *app, const char *ip, int port, ek_prometheus **out, ek_err *err)
{
    int bound = 0;
    int fd = rest__listen(ip, port, "Prometheus", "basic.restIp", "basic.prometheusPort", &bound, err);
    if (fd < 0) return fd;
    ek_prometheus *p = ek_calloc(1, sizeof *p);
    p->app = app;
    p->port = bound;
    p->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL, on_request, p,
                              MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_END);
    if (!p->mhd) {
        close(fd);
        ek_free(p);
        return ek_err_set(err, EK_EIO, "cannot start the Prometheus endpoint on %s:%d", ip, bound);
    }
    ek_info("Prometheus metrics on http://%s:%d/metrics", ip, bound);
    *out = p;
    return 0;
}

int ek_prometheus_port(const ek_prometheus *p)
{
    return p->port;
}

void ek_prometheus_stop(ek_prometheus *p)
{
    if (!p) return;
    MHD_stop_daemon(p->mhd);
    ek_free(p);
}
