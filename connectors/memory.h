/* The in-process memory bus behind the "memory" source and sink (eKuiper's rule pipelines): a
 * topic-based publish/subscribe of ek_values that never leave the process and are never encoded.
 * Filters use MQTT wildcards: `+` matches one level, a trailing `#` any number of levels.
 * The bus is a process-wide registry (like the connector registry): safe from any thread.
 * Callbacks run on the publisher's thread with no bus lock held, so a callback may wait (for room
 * in a full mailbox) without holding up other publishers, subscribe or unsubscribe. After
 * ek_memory_unsubscribe returns, the callback is not running and is never called again (it waits
 * for a call in progress, so a callback must not unsubscribe itself). Tests and benchmarks use
 * these functions to feed and read rules directly. */
#ifndef EK_CONNECTORS_MEMORY_H
#define EK_CONNECTORS_MEMORY_H

#include "connectors/connector.h"
#include "engine/value.h"

#include <stdbool.h>

/* msg is borrowed for the duration of the call (ref it to keep it). */
typedef void (*ek_memory_fn)(void *arg, const char *topic, const ek_value *msg);

/* Subscribes fn to filter; returns an id > 0. */
long ek_memory_subscribe(const char *filter, ek_memory_fn fn, void *arg);
void ek_memory_unsubscribe(long id);
/* Delivers msg (an object or an array of objects) to every matching subscriber. */
void ek_memory_publish(const char *topic, const ek_value *msg);
/* MQTT-style match of a topic against a filter with + and #. */
bool ek_memory_topic_match(const char *filter, const char *topic);

extern const ek_source_ops ek_memory_source_ops;
extern const ek_sink_ops ek_memory_sink_ops;
extern const ek_sink_ops ek_log_sink_ops;

#endif
