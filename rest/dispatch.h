/* Module-private plumbing shared by the two HTTP servers of rest/: the REST API (server.c, port
 * 9081) and the dashboard (dashboard.c, port 9082), which forwards /api/<path> in-process to the
 * same routes. Both gather a request body the same way, run it through authentication and the
 * route table the same way, and send the reply the same way, so a call through the dashboard
 * answers exactly what the REST port answers. */
#ifndef EK_REST_DISPATCH_H
#define EK_REST_DISPATCH_H

#include "rest/rest_int.h"

#include <microhttpd.h>
#include <stdbool.h>

/* A request body as MHD hands it over in pieces, bounded at REST_MAX_BODY. */
typedef struct rest_upload {
    ek_buf body;
    bool too_large;
} rest_upload;

/* MHD's request callback protocol: returns true while the body is still arriving (the caller
 * answers MHD_YES), having appended the piece and set *size to 0; false once it is complete. */
bool rest__gather(rest_upload *u, const char *data, size_t *size);
void rest__upload_free(rest_upload *u);  /* accepts NULL; frees u itself */

/* Runs method + path (the path as the REST API sees it, without any /api prefix) through
 * authentication and the route table and fills resp: 401, 404, 405 and 413 are answered here in
 * eKuiper's error body. conn is the MHD connection, for headers and query arguments. */
void rest__dispatch(ek_app *app, struct MHD_Connection *conn, const char *method, const char *path,
                    const rest_upload *u, rest_resp *resp);

/* Queues resp on conn (copying the body) with its content type; resp stays the caller's. */
enum MHD_Result rest__send(struct MHD_Connection *conn, const rest_resp *resp);

/* Creates a listening socket on ip:port (port 0 picks one) and stores the bound port. what names
 * the server in messages ("REST", "dashboard"), ipkey and portkey the settings, so that a port in
 * use reads "dashboard port 9082 on 0.0.0.0 is already in use (dashboard.port)". Returns the fd
 * or a negative EK_E* with err set. */
int rest__listen(const char *ip, int port, const char *what, const char *ipkey, const char *portkey, int *bound,
                 ek_err *err);

/* basic.restTls: when both certfile and keyfile are set, returns 0 with the two PEM texts (the
 * caller frees them); when neither is, 0 with both NULL; otherwise EK_ECONF with err set. */
int rest__tls_material(const ek_app *app, char **cert, char **key, ek_err *err);

#endif
