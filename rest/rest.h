/* The REST API on basic.restIp:basic.restPort (default 0.0.0.0:9081), served by libmicrohttpd on
 * its own thread. Paths, bodies, status codes and error bodies follow eKuiper's REST API (see
 * docs/rest.md); routes are a table (routes.c) of method + path pattern to handler, one file per
 * resource (res_*.c). */
#ifndef EK_REST_H
#define EK_REST_H

#include "engine/app.h"
#include "engine/err.h"

typedef struct ek_rest ek_rest;

/* Binds ip:port (port 0 picks a free one) and starts serving. A port already in use fails with a
 * message that names it. */
int ek_rest_start(ek_app *app, const char *ip, int port, ek_rest **out, ek_err *err);
int ek_rest_port(const ek_rest *r);
void ek_rest_stop(ek_rest *r);  /* accepts NULL */

/* Applies the basic settings PATCH /configs stored (log settings, the engine's time zone): called
 * at start once the rule engine exists and before its rules start (res_configs.c). */
int ek_rest_restore_configs(ek_app *app, ek_err *err);

#endif
