/* The REST API on basic.restIp:basic.restPort (default 0.0.0.0:9081), served by libmicrohttpd on
 * its own thread once the first connection arrives. Paths, bodies, status codes and error bodies
 * follow eKuiper's REST API (see docs/rest.md); routes are a table (routes.c) of method + path
 * pattern to handler, one file per resource (res_*.c). */
#ifndef EK_REST_H
#define EK_REST_H

#include "engine/app.h"
#include "engine/err.h"

typedef struct ek_rest ek_rest;

/* Binds ip:port (port 0 picks a free one). A port already in use fails with a message that names
 * it. With basic.restTls the server serves at once; otherwise it waits for ek_rest_serve. */
int ek_rest_start(ek_app *app, const char *ip, int port, ek_rest **out, ek_err *err);
int ek_rest_port(const ek_rest *r);
/* The listening socket while the server waits to be started, or -1 once it serves. The owner
 * polls it and calls ek_rest_serve when a connection waits, so that libmicrohttpd is loaded only
 * when HTTP is used. */
int ek_rest_idle_fd(const ek_rest *r);
/* Starts serving on the bound socket (the waiting connection is the first request); does nothing
 * when already serving. Errors: EK_EIO when libmicrohttpd cannot be loaded or started. Not thread-safe
 * against ek_rest_stop: call both from one thread. */
int ek_rest_serve(ek_rest *r, ek_err *err);
void ek_rest_stop(ek_rest *r);  /* accepts NULL */

/* Applies the basic settings PATCH /configs stored (log settings, the engine's time zone): called
 * at start once the rule engine exists and before its rules start (res_configs.c). */
int ek_rest_restore_configs(ek_app *app, ek_err *err);

#endif
