/* The dashboard-only mode's forwarder (proxy.c): relays the dashboard's /api/<path> calls to the
 * engine's REST API, and its /tap streams and /api/broker/... calls to the dashboard of a kuiperd
 * that has the broker, with libcurl, streaming
 * the answers back through libmicrohttpd. Module-private to rest/. */
#ifndef EK_REST_PROXY_H
#define EK_REST_PROXY_H

#include "engine/err.h"
#include "rest/dispatch.h"

#include <microhttpd.h>
#include <stdbool.h>

typedef struct rest_proxy rest_proxy;

/* rest_upstream is required ("http://engine:9081"); tap_upstream may be NULL or "" (then /tap
 * answers 404). EK_ECONF with err naming the setting when a URL is not http(s). */
int rest__proxy_new(const char *rest_upstream, const char *tap_upstream, rest_proxy **out, ek_err *err);
/* The base URLs, without a trailing slash ("" when unset). */
const char *rest__proxy_rest(const rest_proxy *p);
const char *rest__proxy_tap(const rest_proxy *p);
/* Forwards method base+path (plus the request's query string and body u) and queues the upstream's
 * answer on conn as it arrives; stream marks a long-lived answer (no overall time limit). An
 * unreachable upstream answers 502 in eKuiper's error body. Runs on the connection's own thread. */
enum MHD_Result rest__proxy_serve(rest_proxy *p, struct MHD_Connection *conn, const char *method, const char *base,
                                  const char *path, const rest_upload *u, bool stream);
/* Ends every relayed answer (the dashboard is stopping); then MHD_stop_daemon joins them. */
void rest__proxy_stop(rest_proxy *p);
void rest__proxy_free(rest_proxy *p);  /* after the daemon stopped; accepts NULL */

#endif
