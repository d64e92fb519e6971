/* Paho MQTT C (libpaho-mqtt3as), loaded when kuiperd first dials a remote MQTT server.
 *
 * Only MQTT sources and sinks pointed at another server (connectors/mqtt_conn.c) and the broker's
 * bridges (broker/bridge.c) use Paho; a stream on the bundled broker never does. Linked, Paho and
 * the OpenSSL it links cost every kuiperd resident memory (bench/RESULTS.md, "Idle memory"), so
 * this file defines the MQTTAsync_* functions those two call, and the first call dlopen()s
 * libpaho-mqtt3as.so.1 (engine/lazy_lib.h) and runs MQTTAsync_global_init once, under
 * pthread_once, before forwarding. It lives in engine/ because both ek_broker and ek_connectors use
 * it. The prototypes come from Paho's headers, so the compiler checks them.
 *
 * Without Paho on the machine, a warning names the library once; creating a client fails with
 * MQTTASYNC_FAILURE and MQTTAsync_strerror says that the library is missing, which is what the
 * rule or bridge reports. The functions are hidden, so Paho never binds its own calls to them. */
#include "engine/lazy_lib.h"

#include <MQTTAsync.h>
#include <MQTTProperties.h>
#include <pthread.h>
#include <stddef.h>

#define LIBPAHO "libpaho-mqtt3as.so.1"

static struct {
    __typeof__(MQTTAsync_global_init) *global_init;
    __typeof__(MQTTAsync_connect) *connect;
    __typeof__(MQTTAsync_createWithOptions) *create_with_options;
    __typeof__(MQTTAsync_destroy) *destroy;
    __typeof__(MQTTAsync_disconnect) *disconnect;
    __typeof__(MQTTAsync_free) *free;
    __typeof__(MQTTAsync_freeMessage) *free_message;
    __typeof__(MQTTAsync_isConnected) *is_connected;
    __typeof__(MQTTAsync_sendMessage) *send_message;
    __typeof__(MQTTAsync_setCallbacks) *set_callbacks;
    __typeof__(MQTTAsync_strerror) *strerror;
    __typeof__(MQTTAsync_subscribe) *subscribe;
    __typeof__(MQTTAsync_unsubscribe) *unsubscribe;
    __typeof__(MQTTAsync_waitForCompletion) *wait_for_completion;
    __typeof__(MQTTPropertyName) *property_name;
    __typeof__(MQTTProperty_getType) *property_get_type;
} fn;
static const struct ek_lazy_sym syms[] = {
    EK_LAZY_SYM(MQTTAsync_global_init, fn.global_init),
    EK_LAZY_SYM(MQTTAsync_connect, fn.connect),
    EK_LAZY_SYM(MQTTAsync_createWithOptions, fn.create_with_options),
    EK_LAZY_SYM(MQTTAsync_destroy, fn.destroy),
    EK_LAZY_SYM(MQTTAsync_disconnect, fn.disconnect),
    EK_LAZY_SYM(MQTTAsync_free, fn.free),
    EK_LAZY_SYM(MQTTAsync_freeMessage, fn.free_message),
    EK_LAZY_SYM(MQTTAsync_isConnected, fn.is_connected),
    EK_LAZY_SYM(MQTTAsync_sendMessage, fn.send_message),
    EK_LAZY_SYM(MQTTAsync_setCallbacks, fn.set_callbacks),
    EK_LAZY_SYM(MQTTAsync_strerror, fn.strerror),
    EK_LAZY_SYM(MQTTAsync_subscribe, fn.subscribe),
    EK_LAZY_SYM(MQTTAsync_unsubscribe, fn.unsubscribe),
    EK_LAZY_SYM(MQTTAsync_waitForCompletion, fn.wait_for_completion),
    EK_LAZY_SYM(MQTTPropertyName, fn.property_name),
    EK_LAZY_SYM(MQTTProperty_getType, fn.property_get_type),
};
static struct ek_lazy_lib paho_lib = {LIBPAHO, "MQTT client (remote servers, bridges)", syms, sizeof syms / sizeof syms[0], 0};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void global_init(void)
{
    MQTTAsync_init_options io = MQTTAsync_init_options_initializer;
    io.do_openssl_init = 0; /* OpenSSL 3 initialises itself on first use */
    fn.global_init(&io);
}

static bool ready(void)
{
    if (!ek_lazy_ready(&paho_lib)) return false;
    pthread_once(&init_once, global_init);
    return true;
}

EK_LAZY_FN int MQTTAsync_connect(MQTTAsync h, const MQTTAsync_connectOptions *o) { return ready() ? fn.connect(h, o) : MQTTASYNC_FAILURE; }
EK_LAZY_FN void MQTTAsync_destroy(MQTTAsync *h) { if (h && *h && ready()) fn.destroy(h); }
EK_LAZY_FN int MQTTAsync_disconnect(MQTTAsync h, const MQTTAsync_disconnectOptions *o) { return ready() ? fn.disconnect(h, o) : MQTTASYNC_FAILURE; }
EK_LAZY_FN void MQTTAsync_free(void *p) { if (p && ready()) fn.free(p); }
EK_LAZY_FN void MQTTAsync_freeMessage(MQTTAsync_message **m) { if (m && *m && ready()) fn.free_message(m); }
EK_LAZY_FN int MQTTAsync_isConnected(MQTTAsync h) { return ready() ? fn.is_connected(h) : 0; }
EK_LAZY_FN const char *MQTTPropertyName(enum MQTTPropertyCodes v) { return ready() ? fn.property_name(v) : NULL; }
EK_LAZY_FN int MQTTProperty_getType(enum MQTTPropertyCodes v) { return ready() ? fn.property_get_type(v) : -1; }

EK_LAZY_FN const char *MQTTAsync_strerror(int code)
{
    return ready() ? fn.strerror(code) : "the MQTT client library (" LIBPAHO ") is not available";
}

EK_LAZY_FN int MQTTAsync_createWithOptions(MQTTAsync *h, const char *uri, const char *id, int persistence_type,
                                           void *persistence_context, MQTTAsync_createOptions *o)
{
    return ready() ? fn.create_with_options(h, uri, id, persistence_type, persistence_context, o) : MQTTASYNC_FAILURE;
}

EK_LAZY_FN int MQTTAsync_sendMessage(MQTTAsync h, const char *topic, const MQTTAsync_message *m, MQTTAsync_responseOptions *r)
{
    return ready() ? fn.send_message(h, topic, m, r) : MQTTASYNC_FAILURE;
}

EK_LAZY_FN int MQTTAsync_setCallbacks(MQTTAsync h, void *context, MQTTAsync_connectionLost *cl, MQTTAsync_messageArrived *ma,
                                      MQTTAsync_deliveryComplete *dc)
{
    return ready() ? fn.set_callbacks(h, context, cl, ma, dc) : MQTTASYNC_FAILURE;
}

EK_LAZY_FN int MQTTAsync_subscribe(MQTTAsync h, const char *topic, int qos, MQTTAsync_responseOptions *r)
{
    return ready() ? fn.subscribe(h, topic, qos, r) : MQTTASYNC_FAILURE;
}

EK_LAZY_FN int MQTTAsync_unsubscribe(MQTTAsync h, const char *topic, MQTTAsync_responseOptions *r)
{
    return ready() ? fn.unsubscribe(h, topic, r) : MQTTASYNC_FAILURE;
}

EK_LAZY_FN int MQTTAsync_waitForCompletion(MQTTAsync h, MQTTAsync_token token, unsigned long timeout)
{
    return ready() ? fn.wait_for_completion(h, token, timeout) : MQTTASYNC_FAILURE;
}
