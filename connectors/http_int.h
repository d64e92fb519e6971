/* Inside the HTTP connectors (rest sink, httppull and httppush sources): one libcurl request helper
 * shared by the rest sink and httppull, so TLS options, timeouts, headers and error mapping are
 * written once. A request that cannot reach the server (connect, DNS, timeout) or gets a 5xx
 * answer is EK_EIO (the cache keeps the message); a 4xx answer is EK_EEXEC (dropped). */
#ifndef EK_HTTP_INT_H
#define EK_HTTP_INT_H

#include "connectors/template.h"
#include "engine/buf.h"
#include "engine/err.h"
#include "engine/value.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct http_header {
    char *name;
    char *value;        /* static value, or the template's source */
    ek_template *tpl;   /* NULL when the value has no action */
} http_header;

typedef struct http_opts {
    char method[8];              /* GET, POST, PUT, PATCH, DELETE, HEAD */
    char body_type[16];          /* none, json, text, html, xml, javascript, form, binary */
    int64_t timeout_ms;
    bool insecure;
    char *cert, *key, *rootca;
    http_header *headers;
    int nheaders;
} http_opts;

/* Reads method (default dflt_method), bodyType, timeout, headers (an object of templates),
 * insecureSkipVerify, certificationPath, privateKeyPath, rootCaPath. EK_EINVAL naming the property. */
int http__opts(const ek_value *props, const char *dflt_method, http_opts *out, ek_err *err);
void http__opts_free(http_opts *o);

/* Performs one request (curl is an easy handle kept by the caller, or NULL for a fresh one);
 * data is what header templates render over (may be NULL). The response body goes to resp (may be
 * NULL), the status to *status. */
int http__request(void *curl, const http_opts *o, const char *url, const void *body, size_t len, const ek_value *data,
                  ek_buf *resp, long *status, ek_err *err);
void *http__curl_new(void);
void http__curl_free(void *curl);

#endif
