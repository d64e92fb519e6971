/* The libcurl side of the rest sink and the httppull source (see http_int.h): options read once
 * from the properties, then one request per call on an easy handle the connector keeps, so
 * connections are reused. Content types follow eKuiper's bodyType names. */
#include "connectors/http_int.h"
#include "connectors/sink_transform.h"
#include "engine/mem.h"

#include <curl/curl.h>
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MAX_RESPONSE (16u << 20)

static const struct {
    const char *name, *content_type;
} body_types[] = {
    {"none", NULL},
    {"json", "application/json"},
    {"text", "text/plain"},
    {"html", "text/html"},
    {"xml", "application/xml"},
    {"javascript", "application/javascript"},
    {"form", "application/x-www-form-urlencoded"},
    {"binary", "application/octet-stream"},
};

static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

void *http__curl_new(void)
{
    pthread_once(&curl_once, curl_init);
    return curl_easy_init();
}

void http__curl_free(void *curl)
{
    if (curl) curl_easy_cleanup(curl);
}

static char *dup_prop(const ek_value *props, const char *key)
{
    const char *s = ek_prop_str(props, key, NULL);
    return s && *s ? ek_strdup(s) : NULL;
}

int http__opts(const ek_value *props, const char *dflt_method, http_opts *out, ek_err *err)
{
    memset(out, 0, sizeof *out);
    const char *m = ek_prop_str(props, "method", dflt_method);
    for (size_t i = 0; i < sizeof methods / sizeof methods[0] && !out->method[0]; i++)
        if (strcasecmp(m, methods[i]) == 0) snprintf(out->method, sizeof out->method, "%s", methods[i]);
    if (!out->method[0]) return ek_err_set(err, EK_EINVAL, "property method: \"%s\" is not an HTTP method", m);
    const char *bt = ek_prop_str(props, "bodyType", "json");
    for (size_t i = 0; i < sizeof body_types / sizeof body_types[0] && !out->body_type[0]; i++)
        if (strcasecmp(bt, body_types[i].name) == 0) snprintf(out->body_type, sizeof out->body_type, "%s", body_types[i].name);
    if (!out->body_type[0]) return ek_err_set(err, EK_EINVAL, "property bodyType: \"%s\" is not supported", bt);
    int rc = ek_prop_int(props, "timeout", 5000, &out->timeout_ms, err);
    if (!rc) rc = ek_prop_bool(props, "insecureSkipVerify", false, &out->insecure, err);
    if (rc) return rc;
    out->cert = dup_prop(props, "certificationPath");
    out->key = dup_prop(props, "privateKeyPath");
    out->rootca = dup_prop(props, "rootCaPath");
    const ek_value *h = ek_prop(props, "headers");
    if (h && h->type != EK_T_OBJECT) {
        http__opts_free(out);
        return ek_err_set(err, EK_EINVAL, "property headers: expected an object of header names to values");
    }
    size_t n = h ? ek_object_len(h) : 0;
    out->headers = ek_calloc(n + 1, sizeof *out->headers);
    for (size_t i = 0; i < n; i++) {
        const ek_value *v = ek_object_val(h, i);
        http_header *hd = &out->headers[out->nheaders++];
        hd->name = ek_strdup(ek_object_key(h, i));
        if (v->type == EK_T_STRING) {
            hd->value = ek_strdup(ek_str_ptr(v));
        } else {
            ek_buf b = EK_BUF_INIT;
            ek_template_print_value(v, &b);
            hd->value = ek_buf_detach(&b);
        }
        if (!ek_template_is_static(hd->value) && ek_template_compile(hd->value, &hd->tpl, err)) {
            ek_err_prefix(err, "property headers.%s", hd->name);
            http__opts_free(out);
            return EK_EINVAL;
        }
    }
    return 0;
}

void http__opts_free(http_opts *o)
{
    for (int i = 0; i < o->nheaders; i++) {
        ek_free(o->headers[i].name);
        ek_free(o->headers[i].value);
        ek_template_free(o->headers[i].tpl);
    }
    ek_free(o->headers);
    ek_free(o->cert);
    ek_free(o->key);
    ek_free(o->rootca);
    memset(o, 0, sizeof *o);
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    ek_buf *b = arg;
    if (b->len + size * n > MAX_RESPONSE) return 0;
    ek_buf_append(b, p, size * n);
    return size * n;
}

static const char *content_type(const char *body_type)
{
    for (size_t i = 0; i < sizeof body_types / sizeof body_types[0]; i++)
        if (strcmp(body_types[i].name, body_type) == 0) return body_types[i].content_type;
    return NULL;
}

static struct curl_slist *build_headers(const http_opts *o, const ek_value *data, ek_err *err, int *rc)
{
    struct curl_slist *list = NULL;
    bool has_ct = false;
    for (int i = 0; i < o->nheaders && !*rc; i++) {
        const http_header *h = &o->headers[i];
        ek_buf line = EK_BUF_INIT;
        ek_buf_printf(&line, "%s: ", h->name);
        if (h->tpl) {
            *rc = ek_template_render(h->tpl, data, &line, err);
        } else {
            ek_buf_puts(&line, h->value);
        }
        has_ct |= strcasecmp(h->name, "Content-Type") == 0;
        if (!*rc) list = curl_slist_append(list, line.data);
        ek_buf_free(&line);
    }
    const char *ct = content_type(o->body_type);
    if (!has_ct && ct) {
        char line[96];
        snprintf(line, sizeof line, "Content-Type: %s", ct);
        list = curl_slist_append(list, line);
    }
    return list;
}

int http__request(void *curl, const http_opts *o, const char *url, const void *body, size_t len, const ek_value *data,
                  ek_buf *resp, long *status, ek_err *err)
{
    CURL *c = curl ? curl : http__curl_new();
    int rc = 0;
    struct curl_slist *hdrs = build_headers(o, data, err, &rc);
    if (rc) goto out;
    ek_buf sink = EK_BUF_INIT;
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(o->timeout_ms > 0 ? o->timeout_ms : 5000));
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, o->method);
    if (strcmp(o->method, "HEAD") == 0) curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    bool send_body = strcmp(o->method, "GET") != 0 && strcmp(o->method, "HEAD") != 0 && strcmp(o->body_type, "none") != 0;
    if (send_body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, resp ? resp : &sink);
    if (o->insecure) {
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (o->rootca) curl_easy_setopt(c, CURLOPT_CAINFO, o->rootca);
    if (o->cert) curl_easy_setopt(c, CURLOPT_SSLCERT, o->cert);
    if (o->key) curl_easy_setopt(c, CURLOPT_SSLKEY, o->key);
    CURLcode cc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    if (status) *status = code;
    if (cc != CURLE_OK) rc = ek_err_set(err, EK_EIO, "%s %s: %s", o->method, url, curl_easy_strerror(cc));
    else if (code >= 500) rc = ek_err_set(err, EK_EIO, "%s %s: HTTP %ld", o->method, url, code);
    else if (code >= 400) rc = ek_err_set(err, EK_EEXEC, "%s %s: HTTP %ld", o->method, url, code);
    ek_buf_free(&sink);
out:
    curl_slist_free_all(hdrs);
    if (!curl) http__curl_free(c);
    return rc;
}
