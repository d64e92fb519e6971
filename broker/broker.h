/* The bundled MQTT broker: the one header the rest of kuiperd uses.
 *
 * The broker runs its own epoll reactor thread. Other threads (the engine's MQTT source and sink,
 * the REST API) never touch its structures: they call the functions below, which post to the
 * reactor through an eventfd. In-process subscribers receive messages by callback without TCP and
 * without copying the payload per subscriber (the message is reference-counted).
 *
 * Configuration comes from the `broker:` section of etc/kuiper.yaml (see docs/broker.md), passed
 * in as an ek_value object tree by kuiperd (engine/config.h). */
#ifndef EK_BROKER_H
#define EK_BROKER_H

#include "engine/err.h"
#include "engine/value.h"

#include <stddef.h>
#include <stdint.h>

typedef struct ek_broker ek_broker;

/* Starts the broker with the `broker:` section (an object, or null for defaults) and the data
 * directory for persistence (retained messages, persistent sessions). On failure (port in use,
 * bad setting) returns a negative EK_E* with err naming the port or key. */
int ek_broker_start(const ek_value *section, const char *data_dir, ek_broker **out, ek_err *err);
/* Stops accepting, disconnects clients, flushes what must be kept, joins the reactor thread and
 * frees the broker. Accepts NULL. */
void ek_broker_stop(ek_broker *b);
/* The TCP port actually bound by the first MQTT listener (useful with port 0). */
int ek_broker_port(const ek_broker *b);

/* A message delivered to an in-process subscriber. Borrowed for the duration of the callback;
 * call ek_broker_msg_ref to keep it. */
typedef struct ek_broker_msg ek_broker_msg;
const char *ek_broker_msg_topic(const ek_broker_msg *m);
const void *ek_broker_msg_payload(const ek_broker_msg *m, size_t *len);
int ek_broker_msg_qos(const ek_broker_msg *m);
bool ek_broker_msg_retained(const ek_broker_msg *m);
ek_broker_msg *ek_broker_msg_ref(ek_broker_msg *m);
void ek_broker_msg_unref(ek_broker_msg *m);

/* Called on the reactor thread: must not block. */
typedef void (*ek_broker_deliver_fn)(void *arg, ek_broker_msg *m);

/* Subscribes an in-process client to filter (MQTT wildcards allowed, $share/ too). Returns an id
 * > 0 for ek_broker_unsubscribe, or a negative EK_E* for a bad filter. Thread-safe. */
long ek_broker_subscribe(ek_broker *b, const char *filter, int qos, ek_broker_deliver_fn fn, void *arg,
                         ek_err *err);
/* Removes an in-process subscription; after it returns the callback is never called again. */
void ek_broker_unsubscribe(ek_broker *b, long id);
/* Publishes as an in-process client (copies topic and payload once). Thread-safe. */
int ek_broker_publish(ek_broker *b, const char *topic, const void *payload, size_t len, int qos, bool retain,
                      ek_err *err);

#endif
