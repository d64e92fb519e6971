/* Module-private REST types: a request as handlers see it, the response they fill, the route
 * table entry, and the reply writers (reply.c is the one place that writes eKuiper's error body
 * {"error": code, "message": "..."} and maps EK_E* codes to HTTP statuses). */
#ifndef EK_REST_INT_H
#define EK_REST_INT_H

#include "engine/app.h"
#include "engine/buf.h"
#include "engine/err.h"
#include "engine/value.h"
#include "engine/rules/rules.h"

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
    char pbuf[4096];           /* storage for params (a topic may be long) */
    size_t pused;
    void *conn;                /* struct MHD_Connection *, for query arguments and headers */
} rest_req;

typedef struct rest_resp {
    int status;
    const char *content_type;  /* default application/json */
    const char *disposition;   /* Content-Disposition, or NULL */
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
/* Replies 200 with *v when rc is 0, else the error body for err; releases *v either way. */
void rest__result(rest_resp *resp, int rc, ek_value *v, const ek_err *err);
/* Parses the request body as a JSON object; on failure writes a 400 and returns false. */
bool rest__body_object(const rest_req *req, rest_resp *resp, ek_value *out);

/* The rule engine, or NULL after writing the 503 "the rule engine is not running". */
ek_rules *rest__engine(const rest_req *req, rest_resp *resp);

/* basic.authentication: true when the request may proceed; otherwise writes the 401. */
bool rest__authorized(const rest_req *req, rest_resp *resp);

/* Route tables of the resource files, each ending with {NULL}. */
extern const rest_route rest__routes_info[];
extern const rest_route rest__routes_streams[];
extern const rest_route rest__routes_rules[];
extern const rest_route rest__routes_plugins[];
extern const rest_route rest__routes_ruleset[];
extern const rest_route rest__routes_uploads[];
extern const rest_route rest__routes_metadata[];
extern const rest_route rest__routes_connections[];
extern const rest_route rest__routes_admin[];
extern const rest_route rest__routes_broker_mgmt[];
extern const rest_route rest__routes_broker_auth[];
extern const rest_route rest__routes_configs[];
extern const rest_route rest__routes_async[];
extern const rest_route rest__routes_data_v2[];
extern const rest_route rest__routes_rule_tags[];
extern const rest_route rest__routes_rules_extra[];

/* Store namespace of the last data import's status (res_ruleset.c). */
#define REST_NS_IMPORT "import_status"

/* data/uploads under app->data_dir (ek_free it). */
char *rest__uploads_dir(const ek_app *app);
/* Appends the file a "file:///abs/path" URI names to out: only inside data/uploads unless
 * basic.allowExternalFileAccess (res_uploads.c). EK_EINVAL with err saying why otherwise. */
int rest__read_uri(const ek_app *app, const char *uri, ek_buf *out, ek_err *err);
/* The text a body {"content": "..."} or {"file": "file:///..."} gives, appended to out. */
int rest__content(const rest_req *req, const ek_value *body, ek_buf *out, ek_err *err);
/* res_ruleset.c, shared with the YAML (/v2/data) and asynchronous forms:
 * eKuiper's configuration export (sections of strings), of every rule or of the rules in ids. */
int rest__export_doc(ek_app *app, const ek_value *ids, ek_value *all, ek_err *err);
/* Imports a configuration document (after dropping everything unless partial); *status gets the
 * per-item errors by section, also kept for GET /data/import/status. True when nothing failed. */
bool rest__import_doc(ek_app *app, const ek_value *doc, bool partial, ek_value *status);
/* Decodes a body {"content": "json"} or {"file": "file:///..."} into a JSON object; writes the 400. */
bool rest__read_doc(const rest_req *req, rest_resp *resp, const char *what, ek_value *doc);
/* A query flag: ?name=1 or ?name=true. */
bool rest__flag(const rest_req *req, const char *key);
/* res_rule_tags.c: the ids (a new array) of the rules carrying every tag of tags (strings). */
void rest__rules_tagged(ek_rules *r, const ek_value *tags, ek_value *ids);
/* res_async.c: the background import tasks in app->rest_tasks, made when the REST server starts
 * and joined and freed when it stops. */
void rest__tasks_new(ek_app *app);
void rest__tasks_free(ek_app *app);
/* Stops kuiperd cleanly a moment after the current reply is sent (res_admin.c). */
void rest__shutdown_later(ek_app *app);

#endif
