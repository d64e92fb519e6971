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

/* Binds ip:port (port 0 picks a free one) and starts serving; HTTPS with basic.restTls's
 * certificate when that is set. A port already in use fails with a message naming it. */
int ek_dashboard_start(ek_app *app, const char *ip, int port, ek_dashboard **out, ek_err *err);
int ek_dashboard_port(const ek_dashboard *d);
/* Ends open /tap streams, stops the server and frees it. Accepts NULL. */
void ek_dashboard_stop(ek_dashboard *d);

#endif
