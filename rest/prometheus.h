/* The Prometheus endpoint: with basic.prometheus true, kuiperd serves GET /metrics on
 * basic.prometheusPort (default 20499) in Prometheus' text format, with eKuiper's metric names
 * (kuiper_source_records_in_total, kuiper_op_process_latency_us, kuiper_sink_exceptions_total ...)
 * and labels (rule, type, op, op_instance), read from the rule engine's per-node metrics. */
#ifndef EK_PROMETHEUS_H
#define EK_PROMETHEUS_H

#include "engine/app.h"
#include "engine/buf.h"
#include "engine/err.h"

typedef struct ek_prometheus ek_prometheus;

/* Binds ip:port (0 picks a free port) and serves /metrics. */
int ek_prometheus_start(ek_app *app, const char *ip, int port, ek_prometheus **out, ek_err *err);
int ek_prometheus_port(const ek_prometheus *p);
void ek_prometheus_stop(ek_prometheus *p); /* accepts NULL */
/* Appends the exposition text for app's rules to out (what GET /metrics answers). */
void ek_prometheus_render(ek_app *app, ek_buf *out);

#endif
