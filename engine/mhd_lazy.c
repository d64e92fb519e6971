/* libmicrohttpd, loaded when kuiperd first serves HTTP rather than at its start.
 *
 * libmicrohttpd pulls in GnuTLS, p11-kit, nettle and gmp: about 2.5 MB of resident memory in a
 * kuiperd that nobody has called yet (bench/RESULTS.md, "Idle memory"). So nothing links it: this
 * file defines the MHD_* functions the REST API, the dashboard, Prometheus and the httppush source
 * call, and the first call dlopen()s libmicrohttpd.so.12 and forwards to it (engine/lazy_lib.h).
 * kuiperd binds its HTTP ports at start and starts the daemons on the first connection
 * (rest/server.c), so the first call normally comes with the first request. MHD_start_daemon is
 * variadic: it forwards its option list unchanged through MHD_start_daemon_va. Without
 * libmicrohttpd on the machine, MHD_start_daemon returns NULL and the caller reports that it
 * cannot start its server; the other functions are only reached from a running daemon. */
#include "engine/lazy_lib.h"

#include <stdarg.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <microhttpd.h>

static struct {
    struct MHD_Daemon *(*start_daemon_va)(unsigned int flags, uint16_t port, MHD_AcceptPolicyCallback apc,
                                          void *apc_cls, MHD_AccessHandlerCallback dh, void *dh_cls, va_list ap);
    void (*stop_daemon)(struct MHD_Daemon *d);
    enum MHD_Result (*is_feature_supported)(enum MHD_FEATURE feature);
    const char *(*lookup_connection_value)(struct MHD_Connection *c, enum MHD_ValueKind kind, const char *key);
    int (*get_connection_values)(struct MHD_Connection *c, enum MHD_ValueKind kind, MHD_KeyValueIterator it,
                                 void *it_cls);
    struct MHD_Response *(*create_response_from_buffer)(size_t size, void *buffer, enum MHD_ResponseMemoryMode mode);
    struct MHD_Response *(*create_response_from_callback)(uint64_t size, size_t block_size,
                                                          MHD_ContentReaderCallback crc, void *crc_cls,
                                                          MHD_ContentReaderFreeCallback crfc);
    enum MHD_Result (*add_response_header)(struct MHD_Response *r, const char *header, const char *content);
    enum MHD_Result (*queue_response)(struct MHD_Connection *c, unsigned int status, struct MHD_Response *r);
    void (*destroy_response)(struct MHD_Response *r);
} fn;
static const struct ek_lazy_sym syms[] = {
    EK_LAZY_SYM(MHD_start_daemon_va, fn.start_daemon_va),
    EK_LAZY_SYM(MHD_stop_daemon, fn.stop_daemon),
    EK_LAZY_SYM(MHD_is_feature_supported, fn.is_feature_supported),
    EK_LAZY_SYM(MHD_lookup_connection_value, fn.lookup_connection_value),
    EK_LAZY_SYM(MHD_get_connection_values, fn.get_connection_values),
    EK_LAZY_SYM(MHD_create_response_from_buffer, fn.create_response_from_buffer),
    EK_LAZY_SYM(MHD_create_response_from_callback, fn.create_response_from_callback),
    EK_LAZY_SYM(MHD_add_response_header, fn.add_response_header),
    EK_LAZY_SYM(MHD_queue_response, fn.queue_response),
    EK_LAZY_SYM(MHD_destroy_response, fn.destroy_response),
};
static struct ek_lazy_lib mhd_lib = {"libmicrohttpd.so.12", "HTTP server", syms, sizeof syms / sizeof syms[0], 0};

static bool ready(void) { return ek_lazy_ready(&mhd_lib); }

EK_LAZY_FN struct MHD_Daemon *MHD_start_daemon(unsigned int flags, uint16_t port, MHD_AcceptPolicyCallback apc,
                                               void *apc_cls, MHD_AccessHandlerCallback dh, void *dh_cls, ...)
{
    if (!ready()) return NULL;
    va_list ap;
    va_start(ap, dh_cls);
    struct MHD_Daemon *d = fn.start_daemon_va(flags, port, apc, apc_cls, dh, dh_cls, ap);
    va_end(ap);
    return d;
}

/* A daemon exists only if the library was loaded, so these need no fallback beyond "not loaded". */
EK_LAZY_FN void MHD_stop_daemon(struct MHD_Daemon *d) { if (d && ready()) fn.stop_daemon(d); }
EK_LAZY_FN enum MHD_Result MHD_is_feature_supported(enum MHD_FEATURE feature)
{
    return ready() ? fn.is_feature_supported(feature) : MHD_NO;
}
EK_LAZY_FN const char *MHD_lookup_connection_value(struct MHD_Connection *c, enum MHD_ValueKind kind, const char *key)
{
    return ready() ? fn.lookup_connection_value(c, kind, key) : NULL;
}
EK_LAZY_FN int MHD_get_connection_values(struct MHD_Connection *c, enum MHD_ValueKind kind, MHD_KeyValueIterator it,
                                         void *it_cls)
{
    return ready() ? fn.get_connection_values(c, kind, it, it_cls) : -1;
}
EK_LAZY_FN struct MHD_Response *MHD_create_response_from_buffer(size_t size, void *buffer,
                                                                enum MHD_ResponseMemoryMode mode)
{
    return ready() ? fn.create_response_from_buffer(size, buffer, mode) : NULL;
}
EK_LAZY_FN struct MHD_Response *MHD_create_response_from_callback(uint64_t size, size_t block_size,
                                                                  MHD_ContentReaderCallback crc, void *crc_cls,
                                                                  MHD_ContentReaderFreeCallback crfc)
{
    return ready() ? fn.create_response_from_callback(size, block_size, crc, crc_cls, crfc) : NULL;
}
EK_LAZY_FN enum MHD_Result MHD_add_response_header(struct MHD_Response *r, const char *header, const char *content)
{
    return r && ready() ? fn.add_response_header(r, header, content) : MHD_NO;
}
EK_LAZY_FN enum MHD_Result MHD_queue_response(struct MHD_Connection *c, unsigned int status, struct MHD_Response *r)
{
    return ready() ? fn.queue_response(c, status, r) : MHD_NO;
}
EK_LAZY_FN void MHD_destroy_response(struct MHD_Response *r) { if (r && ready()) fn.destroy_response(r); }
