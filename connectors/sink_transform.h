/* The sink-side transform: what eKuiper does between a rule's result and a sink's connector.
 *
 * A rule hands each sink a result: an EK_T_ARRAY of objects (one per row; [] for an empty window).
 * The transform turns it into zero or more messages, in eKuiper's order:
 *   batch (batchSize / lingerInterval) -> sendSingle split -> omitIfEmpty
 *   -> dataTemplate (Go text/template, connectors/template.h)
 *   -> dataField -> fields / excludeFields -> format (json with sorted keys, or delimited)
 *   -> compression (gzip, zstd, zlib, flate)
 * and hands each message to the caller's emit callback as an ek_sink_data (value + payload), which
 * is what ek_sink_ops.collect and the cache (connectors/cache.h) take.
 *
 * Everything that can be wrong in the properties (a bad template, an unknown format, fields and
 * excludeFields together, a bad duration) is reported by ek_sink_transform_new, i.e. when the rule
 * is created, with a message naming the property. A transform is used by one sink node on one
 * thread at a time; it keeps the pending batch, nothing else. */
#ifndef EK_SINK_TRANSFORM_H
#define EK_SINK_TRANSFORM_H

#include "connectors/connector.h"
#include "engine/buf.h"
#include "engine/err.h"
#include "engine/value.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct ek_sink_transform ek_sink_transform;

/* Receives one message. d is borrowed for the call. Return 0 to go on; a negative code stops
 * the current apply/flush, which returns that code. */
typedef int (*ek_sink_emit_fn)(void *arg, const ek_sink_data *d);

/* Compiles a sink's properties (an action's object, borrowed; keys as eKuiper spells them, matched
 * case-insensitively): sendSingle, omitIfEmpty, dataTemplate, dataField, fields, excludeFields,
 * format (json | delimited), delimiter, hasHeader, batchSize, lingerInterval, compression.
 * Unknown keys are ignored (they belong to the connector). EK_EINVAL with err naming the property. */
int ek_sink_transform_new(const ek_value *props, ek_sink_transform **out, ek_err *err);
void ek_sink_transform_free(ek_sink_transform *t);  /* accepts NULL */
/* For a sink that reads only ek_sink_data.value (the memory sink, when nothing caches payloads):
 * no payload is encoded (data->payload is "" and len 0) unless a dataTemplate shapes the value. */
void ek_sink_transform_values_only(ek_sink_transform *t);
/* Whether batchSize or lingerInterval keeps rows back (the transform then needs ticks). */
bool ek_sink_transform_batches(const ek_sink_transform *t);

/* Feeds one rule result (an array of objects, or a single object) with its metadata (the first
 * row's meta, or NULL). Without batching, emits the messages at once; with batchSize/lingerInterval,
 * keeps the rows and emits when the batch is full. now_ms is the monotonic clock (ek_mono_ms).
 * Returns 0, the first negative code an emit returned, or EK_EEXEC when the template fails on this
 * data (err says why; the rule counts and drops it). */
int ek_sink_transform_apply(ek_sink_transform *t, const ek_value *result, const ek_value *meta, int64_t now_ms,
                            ek_sink_emit_fn emit, void *arg, ek_err *err);
/* Emits the pending batch if lingerInterval has passed since its first row (or always when
 * force, e.g. at rule stop). Call it when ek_sink_transform_deadline says. */
int ek_sink_transform_flush(ek_sink_transform *t, int64_t now_ms, bool force, ek_sink_emit_fn emit, void *arg,
                            ek_err *err);
/* True while a batch holds rows not yet emitted (batchSize, lingerInterval). */
bool ek_sink_transform_pending(const ek_sink_transform *t);
/* Monotonic ms at which flush should next be called, or -1 when nothing is pending. */
int64_t ek_sink_transform_deadline(const ek_sink_transform *t);

/* Re-encodes a (possibly modified) value as this sink's payload (template, fields, format and
 * compression, no batching): used by the cache to mark resent data with resendIndicatorField. */
int ek_sink_transform_encode(const ek_sink_transform *t, const ek_value *value, ek_buf *out, ek_err *err);

/* Compression and decompression shared by sinks and sources ("gzip", "zstd", "zlib", "flate"; ""
 * or NULL is none). ek_compress_check validates a name (EK_EINVAL naming it). Decompressed size is
 * bounded (64 MiB): larger input is refused with EK_EINVAL. */
int ek_compress_check(const char *alg, ek_err *err);
int ek_compress(const char *alg, const void *in, size_t len, ek_buf *out, ek_err *err);
int ek_decompress(const char *alg, const void *in, size_t len, ek_buf *out, ek_err *err);

/* Property helpers used by every connector: case-insensitive lookup in a props object and
 * lenient typing as eKuiper's mapstructure does ("true"/"false" strings, numbers as strings). */
const ek_value *ek_prop(const ek_value *props, const char *key);
const char *ek_prop_str(const ek_value *props, const char *key, const char *dflt); /* borrowed */
int ek_prop_int(const ek_value *props, const char *key, int64_t dflt, int64_t *out, ek_err *err);
int ek_prop_bool(const ek_value *props, const char *key, bool dflt, bool *out, ek_err *err);
/* A duration: a number of ms, or "10s", "500ms", "1m". */
int ek_prop_duration_ms(const ek_value *props, const char *key, int64_t dflt, int64_t *out, ek_err *err);

#endif
