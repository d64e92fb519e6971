/* Sources and sinks: the vtables every connector implements, as in eKuiper's lifecycle
 * (open, then ingest or collect, then close). Built-in types (mqtt, memory, log, rest, file,
 * sqlite, httppull, httppush ...) and plugin types register by name in one registry
 * (registry.c); nothing is special-cased. The runtime allocates each instance's state
 * (state_size bytes, zeroed) and frees it after close, as NNG does for its transports.
 *
 * Data flow:
 * - A source pushes what it receives through an ek_ingest: raw payloads (decoded once per stream
 *   by the stream's FORMAT through engine/codec_json.h) or, for the memory
 *   source, values that never leave the process. Callbacks may come from any thread; the runtime
 *   queues them into the rule actors.
 * - A sink receives ek_sink_data: the rule's result as values (after fields / excludeFields /
 *   dataField / sendSingle) and the payload encoded by format / dataTemplate. collect returns 0
 *   when delivered, EK_EIO when the destination is unreachable (the runtime then caches and
 *   resends), or another code for data that can never be delivered (counted and dropped). */
#ifndef EK_CONNECTOR_H
#define EK_CONNECTOR_H

#include "engine/ack.h"
#include "engine/app.h"
#include "engine/err.h"
#include "engine/value.h"

#include <stddef.h>
#include <stdint.h>

/* ---- sources ---- */

typedef struct ek_ingest {
    void *ctx;
    /* A raw message: payload bytes and metadata (topic, qos, messageId ...; takes meta). */
    void (*payload)(void *ctx, const void *data, size_t len, ek_value meta);
    /* An already-structured message (memory source); takes msg (an object or an array of
     * objects) and meta. */
    void (*value)(void *ctx, ek_value msg, ek_value meta);
    /* The connection went up (connected = 1) or down (0, msg says why): rule metrics
     * connection_status and last_exception. */
    void (*status)(void *ctx, int connected, const char *msg);
    /* Optional (NULL: use payload): a raw message whose publisher waits for ack (borrowed, may be
     * NULL) to be released. The runtime takes a reference for every QoS >= 1 rule until the
     * message is safe: delivered or cached on disk by the rule's sinks, or in its checkpoint
     * (engine/ack.h). A source hands its messages to one of the two, never to both. */
    void (*payload_held)(void *ctx, const void *data, size_t len, ek_value meta, ek_ack *ack);
} ek_ingest;

typedef struct ek_source_conf {
    ek_app *app;
    const char *stream;       /* the stream or table name */
    const char *rule_id;      /* the rule this instance serves; NULL when shared by several */
    const char *datasource;   /* DATASOURCE (topic, url path, memory topic, file name ...) */
    const ek_value *props;    /* the source's settings: etc/<type> default merged with CONF_KEY,
                               * connectionSelector resolved; an object (borrowed) */
} ek_source_conf;

typedef struct ek_source_ops {
    const char *type;         /* "mqtt", "memory" ... */
    size_t state_size;
    /* Validates props and starts delivering through ingest (copied by the source). */
    int (*open)(void *st, const ek_source_conf *conf, const ek_ingest *ingest, ek_err *err);
    /* Stops delivery; no ingest callback runs after close returns. */
    void (*close)(void *st);
    /* Lookup tables only (NULL otherwise): rows whose key fields equal keys (an object of
     * field -> value); *out is an array of objects. */
    int (*lookup)(void *st, const ek_value *keys, ek_value *out, ek_err *err);
} ek_source_ops;

/* ---- sinks ---- */

typedef struct ek_sink_conf {
    ek_app *app;
    const char *rule_id;
    int index;                /* position among the rule's actions, for metric names */
    const ek_value *props;    /* the action's properties (an object, borrowed) */
} ek_sink_conf;

typedef struct ek_sink_data {
    const ek_value *value;    /* an object, or an array of objects */
    const char *payload;      /* value encoded by format / dataTemplate */
    size_t len;
    const ek_value *meta;     /* the first input row's metadata when sendMetaToSink, else NULL */
} ek_sink_data;

typedef struct ek_sink_ops {
    const char *type;
    size_t state_size;
    int (*open)(void *st, const ek_sink_conf *conf, ek_err *err);
    int (*collect)(void *st, const ek_sink_data *data, ek_err *err);
    void (*close)(void *st);
    bool values_only;         /* collect reads data->value only: the payload need not be encoded */
} ek_sink_ops;

/* ---- registry ---- */

/* Registers a source or sink type (plugins call these at load); EK_EEXIST for a taken name. */
int ek_connector_register_source(const ek_source_ops *ops, ek_err *err);
int ek_connector_register_sink(const ek_sink_ops *ops, ek_err *err);
/* The type's vtable (case-insensitive name), or NULL. */
const ek_source_ops *ek_connector_source(const char *type);
const ek_sink_ops *ek_connector_sink(const char *type);
/* Calls fn for every registered type name (for /metadata/sources and /metadata/sinks). */
void ek_connector_foreach(int sinks, void (*fn)(const char *type, void *arg), void *arg);

#endif
