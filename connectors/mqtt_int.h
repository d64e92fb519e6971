/* Inside the mqtt connector: settings resolution (mqtt_conf.c) and shared connections
 * (mqtt_conn.c) used by the source (mqtt_source.c) and the sink (mqtt_sink.c).
 *
 * A connection is either in-process (the server is the bundled broker: ek_broker_subscribe and
 * ek_broker_publish, no TCP) or a Paho MQTTAsync client. Connections are shared: every source and
 * sink whose settings resolve to the same server, credentials, client id, protocol and TLS files
 * uses one connection, and a topic filter is subscribed once on it however many streams read it.
 * Received messages wait in the connection's bounded queue (bufferLength) for its dispatcher thread,
 * so neither Paho's thread nor the broker's reactor ever waits for a rule.
 * A Paho connection reconnects forever with exponential backoff (1s to 10s) and re-subscribes; its
 * subscribers hear about every change through their status callback. */
#ifndef EK_MQTT_INT_H
#define EK_MQTT_INT_H

#include "connectors/connector.h"

#include <stdbool.h>

typedef struct mqtt_settings {
    char *server;        /* as Paho wants it: tcp://host:port or ssl://host:port */
    char *username, *password;
    char *clientid;      /* NULL: generated */
    int version;         /* 3 (3.1), 4 (3.1.1) or 5 */
    char *cert, *key, *rootca;
    bool insecure;       /* insecureSkipVerify */
    bool bundled;        /* go through the bundled broker in-process */
    int qos;             /* qos: props, else the default section (sources: 1, sinks: 0) */
    char decompression[16]; /* sources: decompression */
} mqtt_settings;

/* Resolves the connection settings of a source or sink: the mqtt_source.yaml `default` section
 * (sources only) under props, and a connectionSelector's profile (etc/connections/connection.yaml)
 * over both. The server is the bundled broker when app->broker is set and the server is
 * tcp://127.0.0.1|localhost:<its port>, or when the property bundled is true. */
int mqtt__settings(ek_app *app, const ek_value *props, bool source, mqtt_settings *out, ek_err *err);
void mqtt__settings_free(mqtt_settings *s);

typedef struct mqtt_conn mqtt_conn;

/* A received message; meta is a fresh object (topic, qos, messageId, properties for v5) the
 * callback takes. Called on the connection's dispatcher thread, which may block (backpressure). */
/* A received message (takes meta); ack is borrowed and non-NULL when the bundled broker's publisher
 * waits for it (ek_broker_msg_hold): take a reference to keep the acknowledgement back. */
typedef void (*mqtt_msg_fn)(void *arg, const void *payload, size_t len, ek_value meta, ek_ack *ack);
typedef void (*mqtt_status_fn)(void *arg, int connected, const char *msg);

/* Gets (or creates) the shared connection for s, one reference. A Paho connection starts
 * connecting in the background: this never fails because the broker is down. */
int mqtt__conn_get(ek_app *app, const mqtt_settings *s, mqtt_conn **out, ek_err *err);
void mqtt__conn_put(mqtt_conn *c);
/* Adds a subscriber to filter (subscribing on the wire if it is the first); status is called at
 * once with the current state. buffer (bufferLength) bounds the connection's queue of messages
 * not yet handed to subscribers (the largest asked wins). Returns an id > 0, or a negative EK_E*. */
long mqtt__conn_subscribe(mqtt_conn *c, const char *filter, int qos, size_t buffer, mqtt_msg_fn fn,
                          mqtt_status_fn status, void *arg, ek_err *err);
/* Removes a subscriber; after it returns its callbacks are never called again. */
void mqtt__conn_unsubscribe(mqtt_conn *c, long id);
/* Publishes; with qos > 0 waits (at most 5 s) for the broker's acknowledgement. EK_EIO when not
 * connected or not acknowledged: the sink's cache keeps the message. */
int mqtt__conn_publish(mqtt_conn *c, const char *topic, const void *payload, size_t len, int qos, bool retained,
                       ek_err *err);
bool mqtt__conn_connected(mqtt_conn *c);
const char *mqtt__conn_server(const mqtt_conn *c);

/* MQTT topic filter matching (+ and #, $-topics not matched by a leading wildcard). */
bool mqtt__topic_match(const char *filter, const char *topic);

#endif
