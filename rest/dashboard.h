/* The web dashboard on dashboard.ip:dashboard.port (default 0.0.0.0:9082): a second HTTP server
 * that serves the UI of rest/dashboard/ (compiled into the binary, no file is read at run time),
 * forwards /api/<path> in-process to the REST routes (same authentication, same answers, so the
 * browser needs no CORS), and streams MQTT messages of the bundled broker to the UI at /tap
 * (server-sent events). See docs/dashboard.md. */
#ifndef EK_DASHBOARD_H
#define EK_DASHBOARD_H

#include "engine/app.h"
#include "engine/err.h"

typedef struct ek_dashboard ek_dashboard;

/* Binds ip:port (port 0 picks a free one); a port already in use fails with a message naming it.
 * With basic.restTls it serves HTTPS with that certificate at once; otherwise it waits for
 * ek_dashboard_serve, as the REST server does (rest/rest.h, ek_rest_idle_fd). */
int ek_dashboard_start(ek_app *app, const char *ip, int port, ek_dashboard **out, ek_err *err);
int ek_dashboard_port(const ek_dashboard *d);
/* The listening socket while the dashboard waits to be started, or -1 once it serves. */
int ek_dashboard_idle_fd(const ek_dashboard *d);
/* Starts serving on the bound socket (the waiting connection is the first request); does nothing
 * when already serving. Errors: EK_EIO when libmicrohttpd cannot be loaded or started. Call from
 * the thread that stops the dashboard. */
int ek_dashboard_serve(ek_dashboard *d, ek_err *err);
/* Ends open /tap streams, stops the server and frees it. Accepts NULL. */
void ek_dashboard_stop(ek_dashboard *d);

#endif
