/* Dialing a remote MQTT server with Paho MQTTAsync, shared by the two places kuiperd is an MQTT
 * client: the MQTT source/sink connections (connectors/mqtt_conn.c) and the bundled broker's
 * bridges (broker/bridge.c). Both create the client for the wanted protocol version and connect
 * with a clean session, the caller's callbacks, and TLS options when the server is ssl://,
 * mqtts:// or wss://.
 *
 * Header-only (static inline) because ek_connectors links ek_broker and not the other way round,
 * so a function here serves both without a link cycle. Paho itself is loaded, and initialised once,
 * by the first call into it (engine/paho_lazy.c). */
#ifndef EK_CONNECTORS_PAHO_DIAL_H
#define EK_CONNECTORS_PAHO_DIAL_H

#include <MQTTAsync.h>
#include <stdbool.h>
#include <string.h>

/* What ek_paho_connect needs: the server, the protocol and the session's callbacks. */
typedef struct {
    const char *server;                /* tcp://, ssl://, mqtts://, ws:// or wss://host:port */
    int version;                       /* 3 (3.1), 4 (3.1.1) or 5 */
    int keepalive;                     /* seconds */
    const char *username, *password;   /* NULL: none */
    const char *cafile, *certfile, *keyfile; /* TLS files, NULL: none */
    bool insecure;                     /* TLS without checking the server's certificate */
    void *context;                     /* handed to the callbacks */
    MQTTAsync_onSuccess *on_success3;  /* MQTT 3.1 / 3.1.1 */
    MQTTAsync_onFailure *on_failure3;
    MQTTAsync_onSuccess5 *on_success5; /* MQTT 5 */
    MQTTAsync_onFailure5 *on_failure5;
} ek_paho_dial;

/* Creates a client (no persistence) for server speaking version; loads Paho on the first call. */
static inline int ek_paho_create(MQTTAsync *client, const char *server, const char *clientid, int version)
{
    MQTTAsync_createOptions co3 = MQTTAsync_createOptions_initializer;
    MQTTAsync_createOptions co5 = MQTTAsync_createOptions_initializer5;
    return MQTTAsync_createWithOptions(client, server, clientid, MQTTCLIENT_PERSISTENCE_NONE, NULL,
                                       version == 5 ? &co5 : &co3);
}

/* Starts connecting (clean session, 5 s timeout); the outcome arrives in the callbacks. Returns
 * MQTTAsync_connect's code. */
static inline int ek_paho_connect(MQTTAsync client, const ek_paho_dial *d)
{
    MQTTAsync_connectOptions o3 = MQTTAsync_connectOptions_initializer;
    MQTTAsync_connectOptions o5 = MQTTAsync_connectOptions_initializer5;
    MQTTAsync_connectOptions *o = d->version == 5 ? &o5 : &o3;
    o->keepAliveInterval = d->keepalive;
    o->connectTimeout = 5;
    o->context = d->context;
    o->username = d->username;
    o->password = d->password;
    if (d->version == 5) {
        o->cleanstart = 1, o->onSuccess5 = d->on_success5, o->onFailure5 = d->on_failure5;
    } else {
        o->cleansession = 1, o->onSuccess = d->on_success3, o->onFailure = d->on_failure3;
        o->MQTTVersion = d->version == 3 ? MQTTVERSION_3_1 : MQTTVERSION_3_1_1;
    }
    MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
    if (!strncmp(d->server, "ssl://", 6) || !strncmp(d->server, "mqtts://", 8) || !strncmp(d->server, "wss://", 6)) {
        ssl.trustStore = d->cafile;
        ssl.keyStore = d->certfile;
        ssl.privateKey = d->keyfile;
        ssl.enableServerCertAuth = !d->insecure;
        ssl.verify = !d->insecure;
        o->ssl = &ssl;
    }
    return MQTTAsync_connect(client, o);
}

#endif
