/* Module-private REST types: a request as handlers see it, the response they fill, the route
 * table entry, and the reply writers (reply.c is the one place that writes eKuiper's error body
 * {"error": code, "message": "..."} and maps EK_E* codes to HTTP statuses). */
#ifndef EK_REST_INT_H
#define EK_REST_INT_H

#include "engine/app.h"
#include "engine/buf.h"
#include "engine/err.h"
#include "engine/value.h"

#include <stddef.h>

#define REST_MAX_PARAMS 4
#define REST_MAX_BODY (16u * 1024 * 1024)

typedef struct rest_req {
    ek_app *app;
    const char *method;
    const char *path;
    const char *body;          /* NUL-terminated; "" when none */
    size_t body_len;
    const char *params[REST_MAX_PARAMS]; /* values of {name} segments, in order */
    int nparams;
    char pbuf[1024];           /* storage for params */
    size_t pused;
    void *conn;                /* struct MHD_Connection *, for query arguments and headers */
} rest_req;

typedef struct rest_resp {
    int status;
    const char *content_type;  /* default application/json */
    ek_buf body;
} rest_resp;

typedef void (*rest_handler)(rest_req *req, rest_resp *resp);

typedef struct rest_route {
    const char *method;        /* "GET", "POST", ... */
    const char *pattern;       /* "/rules/{id}/start" */
    rest_handler fn;
} rest_route;

/* Finds the route for method and path, filling req->params; sets *path_known when some route has
 * the path with another method (for 405). */
const rest_route *rest__route(const char *method, const char *path, rest_req *req, int *path_known);

/* Query argument of the request, or NULL. */
const char *rest__query(const rest_req *req, const char *key);
/* Request header, or NULL. */
const char *rest__header(const rest_req *req, const char *key);

/* Reply writers. */
void rest__json(rest_resp *resp, int status, const ek_value *v);
void rest__text(rest_resp *resp, int status, const char *text);
/* eKuiper's error body with an explicit eKuiper code. */
void rest__error(rest_resp *resp, int status, int code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The error body for an ek_err, status and code from the mapping table. */
void rest__err(rest_resp *resp, const ek_err *err);
/* Parses the request body as a JSON object; on failure writes a 400 and returns false. */
bool rest__body_object(const rest_req *req, rest_resp *resp, ek_value *out);

/* basic.authentication: true when the request may proceed; otherwise writes the 401. */
bool rest__authorized(const rest_req *req, rest_resp *resp);

/* Route tables of the resource files, each ending with {NULL}. */
extern const rest_route rest__routes_info[];
extern const rest_route rest__routes_streams[];
extern const rest_route rest__routes_rules[];

#endif
