/* The dashboard-only mode's forwarder (kuiperd --dashboard-only): the dashboard server of such a
 * kuiperd has no engine and no broker of its own, so it relays /api/<path> to the engine's REST
 * API (dashboard.restUpstream), and /tap and /api/broker/... to the dashboard of a kuiperd that has
 * the broker (dashboard.tapUpstream), with libcurl. Method, query, body, Authorization and
 * Content-Type go up; status, Content-Type and the body come back as they arrive, so the
 * server-sent events of /tap stream through unchanged.
 *
 * Each relayed request runs its transfer on a thread of its own and hands the body to the MHD
 * connection thread through a buffer (bounded: the transfer pauses while the browser is slow).
 * When the browser goes away, or the dashboard stops, the transfer is aborted and joined. */
#include "engine/log.h"
#include "engine/mem.h"
#include "rest/dispatch.h"
#include "rest/proxy.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define BUF_HIGH (1024 * 1024) /* bytes buffered before the transfer waits for the browser */

struct rest_proxy {
    char *rest, *tap;          /* upstream base URLs without a trailing slash ("" when unset) */
    pthread_mutex_t mu;        /* every stream's state and stopping */
    pthread_cond_t cv;
    bool stopping;
};

typedef struct pstream {
    rest_proxy *p;
    CURL *curl;
    struct curl_slist *hdrs;
    pthread_t thread;
    char *url;
    ek_buf body;               /* request body (kept until the transfer ends) */
    ek_buf buf;                /* response bytes not yet given to MHD, from off */
    size_t off;
    bool started, headers, done, abort;
    long status;
    char ctype[128];
    CURLcode rc;
    char errbuf[CURL_ERROR_SIZE];
} pstream;

static char *trim_base(const char *url)
{
    char *s = ek_strdup(url ? url : "");
    size_t n = strlen(s);
    while (n && s[n - 1] == '/') s[--n] = '\0';
    return s;
}

int rest__proxy_new(const char *rest_upstream, const char *tap_upstream, rest_proxy **out, ek_err *err)
{
    if (!rest_upstream || strncmp(rest_upstream, "http", 4) != 0)
        return ek_err_set(err, EK_ECONF, "dashboard.restUpstream: \"%s\" is not an http:// or https:// URL "
                          "(set it, or pass --rest-upstream, with --dashboard-only)", rest_upstream ? rest_upstream : "");
    if (tap_upstream && *tap_upstream && strncmp(tap_upstream, "http", 4) != 0)
        return ek_err_set(err, EK_ECONF, "dashboard.tapUpstream: \"%s\" is not an http:// or https:// URL", tap_upstream);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    rest_proxy *p = ek_calloc(1, sizeof *p);
    p->rest = trim_base(rest_upstream);
    p->tap = trim_base(tap_upstream);
    pthread_mutex_init(&p->mu, NULL);
    ek_cond_init_monotonic(&p->cv);
    *out = p;
    return 0;
}

const char *rest__proxy_rest(const rest_proxy *p) { return p->rest; }
const char *rest__proxy_tap(const rest_proxy *p) { return p->tap; }

void rest__proxy_stop(rest_proxy *p)
{
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->stopping = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

void rest__proxy_free(rest_proxy *p)
{
    if (!p) return;
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    ek_free(p->rest);
    ek_free(p->tap);
    ek_free(p);
}

/* ---- the transfer thread ---- */

/* Called with p->mu held: the status and type are known once the first byte or the end arrives. */
static void note_headers(pstream *s)
{
    if (s->headers) return;
    curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &s->status);
    s->headers = true;
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    pstream *s = arg;
    rest_proxy *p = s->p;
    size_t len = size * n;
    pthread_mutex_lock(&p->mu);
    note_headers(s);
    while (!s->abort && !p->stopping && s->buf.len - s->off > BUF_HIGH) pthread_cond_wait(&p->cv, &p->mu);
    bool go = !s->abort && !p->stopping;
    if (go) ek_buf_append(&s->buf, data, len);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return go ? len : 0; /* 0 aborts the transfer */
}

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
    pstream *s = arg;
    size_t len = size * n;
    if (len > 13 && strncasecmp(data, "Content-Type:", 13) == 0) {
        const char *v = data + 13;
        while (*v == ' ') v++;
        size_t vl = len - (size_t)(v - data);
        while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n')) vl--;
        snprintf(s->ctype, sizeof s->ctype, "%.*s", (int)vl, v);
    }
    return len;
}

/* Aborts a transfer whose browser left or whose dashboard stops, even while no byte arrives. */
static int on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    pstream *s = arg;
    pthread_mutex_lock(&s->p->mu);
    int stop = s->abort || s->p->stopping;
    pthread_mutex_unlock(&s->p->mu);
    return stop;
}

static void *transfer(void *arg)
{
    pstream *s = arg;
    CURLcode rc = curl_easy_perform(s->curl);
    pthread_mutex_lock(&s->p->mu);
    s->rc = rc;
    if (rc == CURLE_OK) note_headers(s);
    s->done = true;
    pthread_cond_broadcast(&s->p->cv);
    pthread_mutex_unlock(&s->p->mu);
    return NULL;
}

/* ---- the MHD side ---- */

static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
    pstream *s = cls;
    rest_proxy *p = s->p;
    pthread_mutex_lock(&p->mu);
    while (!p->stopping && !s->done && s->buf.len == s->off) pthread_cond_wait(&p->cv, &p->mu);
    ssize_t n;
    if (s->buf.len > s->off && !p->stopping) {
        size_t k = s->buf.len - s->off < max ? s->buf.len - s->off : max;
        memcpy(out, s->buf.data + s->off, k);
        s->off += k;
        if (s->off == s->buf.len) {
            ek_buf_reset(&s->buf);
            s->off = 0;
        }
        n = (ssize_t)k;
    } else {
        n = s->done && s->rc == CURLE_OK && !p->stopping ? MHD_CONTENT_READER_END_OF_STREAM
                                                         : MHD_CONTENT_READER_END_WITH_ERROR;
    }
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return n;
}

static void stream_free(void *cls)
{
    pstream *s = cls;
    if (s->started) {
        pthread_mutex_lock(&s->p->mu);
        s->abort = true;
        pthread_cond_broadcast(&s->p->cv);
        pthread_mutex_unlock(&s->p->mu);
        pthread_join(s->thread, NULL);
    }
    curl_easy_cleanup(s->curl);
    curl_slist_free_all(s->hdrs);
    ek_buf_free(&s->body);
    ek_buf_free(&s->buf);
    ek_free(s->url);
    ek_free(s);
}

typedef struct query_ctx {
    ek_buf *url;
    CURL *curl;
    bool first;
} query_ctx;

static enum MHD_Result add_arg(void *arg, enum MHD_ValueKind kind, const char *key, const char *value)
{
    query_ctx *q = arg;
    char *k = curl_easy_escape(q->curl, key, 0);
    ek_buf_printf(q->url, "%c%s", q->first ? '?' : '&', k);
    curl_free(k);
    if (value) {
        char *v = curl_easy_escape(q->curl, value, 0);
        ek_buf_printf(q->url, "=%s", v);
        curl_free(v);
    }
    q->first = false;
    return MHD_YES;
}

static void forward_header(pstream *s, struct MHD_Connection *conn, const char *name)
{
    const char *v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
    if (!v) return;
    char *line = ek_asprintf("%s: %s", name, v);
    s->hdrs = curl_slist_append(s->hdrs, line);
    ek_free(line);
}

/* Sets up the transfer of method base+path (+ the request's query) with the request's body. */
static pstream *prepare(rest_proxy *p, struct MHD_Connection *conn, const char *method, const char *base,
                        const char *path, const rest_upload *u, bool stream)
{
    pstream *s = ek_calloc(1, sizeof *s);
    s->p = p;
    s->curl = curl_easy_init();
    ek_buf url = EK_BUF_INIT;
    ek_buf_printf(&url, "%s%s", base, path);
    query_ctx q = {.url = &url, .curl = s->curl, .first = true};
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, add_arg, &q);
    s->url = ek_buf_detach(&url);
    forward_header(s, conn, "Authorization");
    forward_header(s, conn, "Content-Type");
    forward_header(s, conn, "Accept");
    s->hdrs = curl_slist_append(s->hdrs, "Expect:");
    curl_easy_setopt(s->curl, CURLOPT_URL, s->url);
    curl_easy_setopt(s->curl, CURLOPT_CUSTOMREQUEST, method);
    if (u && u->body.len) {
        ek_buf_append(&s->body, u->body.data, u->body.len);
        curl_easy_setopt(s->curl, CURLOPT_POSTFIELDS, s->body.data);
        curl_easy_setopt(s->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)s->body.len);
    } else if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(s->curl, CURLOPT_NOBODY, 1L);
    }
    curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, s->hdrs);
    curl_easy_setopt(s->curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(s->curl, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(s->curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(s->curl, CURLOPT_HEADERDATA, s);
    curl_easy_setopt(s->curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(s->curl, CURLOPT_XFERINFODATA, s);
    curl_easy_setopt(s->curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(s->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(s->curl, CURLOPT_ERRORBUFFER, s->errbuf);
    curl_easy_setopt(s->curl, CURLOPT_CONNECTTIMEOUT, 5L);
    if (!stream) curl_easy_setopt(s->curl, CURLOPT_TIMEOUT, 120L);
    curl_easy_setopt(s->curl, CURLOPT_PROTOCOLS_STR, "http,https");
    return s;
}

enum MHD_Result rest__proxy_serve(rest_proxy *p, struct MHD_Connection *conn, const char *method, const char *base,
                                  const char *path, const rest_upload *u, bool stream)
{
    rest_resp err = {.status = 200};
    if (u && u->too_large) {
        rest__error(&err, 413, 1000, "request body larger than %u bytes", REST_MAX_BODY);
        goto fail;
    }
    if (!*base) {
        rest__error(&err, 404, 1002, "%s is not forwarded: this dashboard has no upstream for it (%s)", path,
                    stream ? "dashboard.tapUpstream, --tap-upstream" : "dashboard.restUpstream, --rest-upstream");
        goto fail;
    }
    pstream *s = prepare(p, conn, method, base, path, u, stream);
    if (pthread_create(&s->thread, NULL, transfer, s) != 0) {
        stream_free(s);
        rest__error(&err, 500, 1000, "cannot start forwarding %s", path);
        goto fail;
    }
    s->started = true;
    /* Wait for the status line: the first byte of the body, or the end of the transfer. */
    pthread_mutex_lock(&p->mu);
    while (!s->headers && !s->done && !p->stopping) pthread_cond_wait(&p->cv, &p->mu);
    bool failed = !s->headers;
    pthread_mutex_unlock(&p->mu);
    if (failed) {
        rest__error(&err, 502, 1000, "the upstream %s did not answer: %s", base,
                    s->errbuf[0] ? s->errbuf : curl_easy_strerror(s->rc));
        stream_free(s);
        goto fail;
    }
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, stream_read, s, stream_free);
    MHD_add_response_header(r, "Content-Type", s->ctype[0] ? s->ctype : "application/octet-stream");
    if (stream) MHD_add_response_header(r, "Cache-Control", "no-cache");
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)s->status, r);
    MHD_destroy_response(r);
    return ret;
fail:;
    enum MHD_Result sent = rest__send(conn, &err);
    ek_buf_free(&err.body);
    return sent;
}
