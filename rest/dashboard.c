/* The dashboard server: a second libmicrohttpd daemon beside the REST API (or, with
 * dashboard.restUpstream set, in a kuiperd of its own: then /api and /tap are forwarded with
 * libcurl by proxy.c instead of served in-process: /api/broker/... and /tap to the dashboard of the
 * kuiperd running the broker, dashboard.tapUpstream, the rest to the engine's REST API). It answers
 * three kinds of request:
 *   /api/<path>   forwarded in-process to the REST routes through dispatch.c (same JWT check,
 *                 same answers), so the UI is same-origin and needs no CORS;
 *   /tap?topic=F  server-sent events of the messages the bundled broker routes to filter F, for
 *                 the UI's live previews and $SYS charts (an in-process subscription, no TCP);
 *   anything else a file of rest/dashboard/, compiled in (dashboard_int.h), "/" being index.html.
 * It runs a thread per connection, so a /tap stream may block waiting for messages; stop wakes
 * every stream before joining them. Each stream queues at most TAP_QUEUE messages and drops the
 * oldest beyond that (the count is sent with the next event), so a busy topic never holds up the
 * broker's reactor. Like the REST server (server.c), it binds its port at start and starts MHD on
 * the first connection (ek_dashboard_serve), or at once with basic.restTls. */
#include "broker/broker.h"
#include "engine/codec_json.h"
#include "engine/log.h"
#include "engine/mem.h"
#include "rest/dashboard.h"
#include "rest/dashboard_int.h"
#include "rest/dispatch.h"
#include "rest/proxy.h"

#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TAP_QUEUE 256
#define TAP_MAX 16                 /* concurrent /tap streams */
#define TAP_PAYLOAD_MAX 65536      /* bytes of a payload shown; longer ones are cut */
#define TAP_KEEPALIVE_MS 2000      /* a comment line this often, so closed streams are noticed */

struct ek_dashboard {
    ek_app *app;
    struct MHD_Daemon *mhd;
    int fd;                        /* the bound socket until MHD takes it, then -1 */
    int port;
    char *ip;
    char *cert, *key;              /* basic.restTls PEM texts, or NULL */
    pthread_mutex_t mu;            /* guards every tap's queue, ntaps and stopping */
    pthread_cond_t cv;             /* signalled on a new message and on stop */
    int ntaps;
    bool stopping;
    rest_proxy *proxy;             /* dashboard.restUpstream set: /api and /tap are forwarded */
};

typedef struct tap {
    ek_dashboard *d;
    long sub;
    ek_broker_msg *q[TAP_QUEUE];
    size_t head, count;
    uint64_t dropped;
    ek_buf out;                    /* the event being written */
    size_t off;
} tap;

static const struct {
    const char *ext, *type;
} types[] = {
    {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},   {".svg", "image/svg+xml"},
    {".png", "image/png"},                 {".ico", "image/x-icon"},
    {".json", "application/json"},         {".txt", "text/plain; charset=utf-8"},
};

static const char *content_type(const char *path)
{
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (strcmp(dot, types[i].ext) == 0) return types[i].type;
    return "application/octet-stream";
}

static enum MHD_Result send_text(struct MHD_Connection *conn, int status, const char *text)
{
    rest_resp resp = {.status = status};
    rest__text(&resp, status, text);
    enum MHD_Result ret = rest__send(conn, &resp);
    ek_buf_free(&resp.body);
    return ret;
}

static enum MHD_Result serve_file(struct MHD_Connection *conn, const char *method, const char *url)
{
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return send_text(conn, 405, "the dashboard's files are read with GET\n");
    if (strcmp(url, "/") == 0) url = "/index.html";
    const rest_asset *a = rest__dashboard_assets;
    while (a->path && strcmp(a->path, url) != 0) a++;
    if (!a->path) return send_text(conn, 404, "not found\n");
    struct MHD_Response *r = MHD_create_response_from_buffer(a->len, (void *)a->data, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, "Content-Type", content_type(a->path));
    /* The files change with the binary: always revalidate, never serve a stale UI after an upgrade. */
    MHD_add_response_header(r, "Cache-Control", "no-cache");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Content-Security-Policy",
                            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                            "frame-ancestors 'none'");
    enum MHD_Result ret = MHD_queue_response(conn, 200, r);
    MHD_destroy_response(r);
    return ret;
}

/* Runs on the broker's reactor thread: queue and wake, never block for long. */
static void tap_deliver(void *arg, ek_broker_msg *m)
{
    tap *t = arg;
    pthread_mutex_lock(&t->d->mu);
    if (t->count == TAP_QUEUE) {
        ek_broker_msg_unref(t->q[t->head]);
        t->head = (t->head + 1) % TAP_QUEUE;
        t->count--;
        t->dropped++;
    }
    t->q[(t->head + t->count) % TAP_QUEUE] = ek_broker_msg_ref(m);
    t->count++;
    pthread_cond_broadcast(&t->d->cv);
    pthread_mutex_unlock(&t->d->mu);
}

/* One server-sent event: data: {"topic","payload","qos","retain","ts"[,"truncated"][,"dropped"]}. */
static void format_event(tap *t, ek_broker_msg *m, uint64_t dropped)
{
    size_t len = 0;
    const char *p = ek_broker_msg_payload(m, &len);
    ek_value v = ek_object_new(7);
    ek_object_set(&v, "topic", ek_string(ek_broker_msg_topic(m)));
    ek_object_set(&v, "payload", ek_string_n(p, len > TAP_PAYLOAD_MAX ? TAP_PAYLOAD_MAX : len));
    ek_object_set(&v, "qos", ek_int(ek_broker_msg_qos(m)));
    ek_object_set(&v, "retain", ek_bool(ek_broker_msg_retained(m)));
    ek_object_set(&v, "ts", ek_int(ek_now_ms()));
    if (len > TAP_PAYLOAD_MAX) ek_object_set(&v, "truncated", ek_bool(true));
    if (dropped) ek_object_set(&v, "dropped", ek_int((int64_t)dropped));
    ek_buf_puts(&t->out, "data: ");
    ek_json_encode(&v, 0, &t->out);
    ek_buf_puts(&t->out, "\n\n");
    ek_value_unref(&v);
}

/* Waits (at most TAP_KEEPALIVE_MS) for the next message. Returns false when the server stops. */
static bool tap_next(tap *t, ek_broker_msg **m, uint64_t *dropped)
{
    ek_dashboard *d = t->d;
    struct timespec until = ek_deadline_in(CLOCK_MONOTONIC, TAP_KEEPALIVE_MS);
    *m = NULL;
    pthread_mutex_lock(&d->mu);
    while (!d->stopping && t->count == 0)
        if (pthread_cond_timedwait(&d->cv, &d->mu, &until) != 0) break;
    bool running = !d->stopping;
    if (running && t->count) {
        *m = t->q[t->head];
        t->head = (t->head + 1) % TAP_QUEUE;
        t->count--;
        *dropped = t->dropped;
        t->dropped = 0;
    }
    pthread_mutex_unlock(&d->mu);
    return running;
}

static ssize_t tap_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    tap *t = cls;
    if (t->off == t->out.len) {
        ek_buf_reset(&t->out);
        t->off = 0;
        ek_broker_msg *m = NULL;
        uint64_t dropped = 0;
        if (!tap_next(t, &m, &dropped)) return MHD_CONTENT_READER_END_OF_STREAM;
        if (m) {
            format_event(t, m, dropped);
            ek_broker_msg_unref(m);
        } else {
            ek_buf_puts(&t->out, ": keepalive\n\n");
        }
    }
    size_t n = t->out.len - t->off < max ? t->out.len - t->off : max;
    memcpy(buf, t->out.data + t->off, n);
    t->off += n;
    return (ssize_t)n;
}

static void tap_free(void *cls)
{
    tap *t = cls;
    ek_dashboard *d = t->d;
    /* After this returns the broker never calls tap_deliver with t again. */
    if (t->sub > 0) ek_broker_unsubscribe(d->app->broker, t->sub);
    pthread_mutex_lock(&d->mu);
    for (; t->count; t->count--, t->head = (t->head + 1) % TAP_QUEUE) ek_broker_msg_unref(t->q[t->head]);
    d->ntaps--;
    pthread_mutex_unlock(&d->mu);
    ek_buf_free(&t->out);
    ek_free(t);
}

static enum MHD_Result serve_tap(ek_dashboard *d, struct MHD_Connection *conn, const char *method)
{
    rest_resp resp = {.status = 200};
    rest_req req = {.app = d->app, .method = method, .path = "/tap", .body = "", .conn = conn};
    const char *filter = rest__query(&req, "topic");
    if (!rest__authorized(&req, &resp)) goto reply;
    if (!d->app->broker) {
        rest__error(&resp, 404, 1002, "the bundled MQTT broker is not running (broker.enable is false)");
        goto reply;
    }
    if (!filter || !*filter) {
        rest__error(&resp, 400, 1000, "/tap needs a topic filter: /tap?topic=<filter>");
        goto reply;
    }
    pthread_mutex_lock(&d->mu);
    bool full = d->ntaps >= TAP_MAX;
    if (!full) d->ntaps++;
    pthread_mutex_unlock(&d->mu);
    if (full) {
        rest__error(&resp, 503, 1000, "too many open /tap streams (at most %d)", TAP_MAX);
        goto reply;
    }
    tap *t = ek_calloc(1, sizeof *t);
    t->d = d;
    ek_err err = {0};
    t->sub = ek_broker_subscribe(d->app->broker, filter, 0, tap_deliver, t, &err);
    if (t->sub < 0) {
        tap_free(t); /* gives the slot back */
        rest__err(&resp, &err);
        goto reply;
    }
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, tap_read, t, tap_free);
    MHD_add_response_header(r, "Content-Type", "text/event-stream");
    MHD_add_response_header(r, "Cache-Control", "no-cache");
    enum MHD_Result ret = MHD_queue_response(conn, 200, r);
    MHD_destroy_response(r);
    return ret;
reply:;
    enum MHD_Result sent = rest__send(conn, &resp);
    ek_buf_free(&resp.body);
    return sent;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    ek_dashboard *d = cls;
    rest_upload *u = *con_cls;
    if (!u) {
        *con_cls = ek_calloc(1, sizeof *u);
        return MHD_YES;
    }
    if (rest__gather(u, upload, upload_size)) return MHD_YES;
    bool api = strncmp(url, "/api", 4) == 0 && (url[4] == '/' || url[4] == '\0');
    /* The broker's management calls go where the broker is: the tap upstream's own /api. */
    if (d->proxy && api && strncmp(url + 4, "/broker", 7) == 0 && (url[11] == '/' || url[11] == '\0') &&
        *rest__proxy_tap(d->proxy))
        return rest__proxy_serve(d->proxy, conn, method, rest__proxy_tap(d->proxy), url, u, false);
    if (d->proxy && api)
        return rest__proxy_serve(d->proxy, conn, method, rest__proxy_rest(d->proxy), url[4] ? url + 4 : "/", u, false);
    if (d->proxy && strcmp(url, "/tap") == 0)
        return rest__proxy_serve(d->proxy, conn, method, rest__proxy_tap(d->proxy), "/tap", u, true);
    if (api) {
        rest_resp resp = {.status = 200};
        rest__dispatch(d->app, conn, method, url[4] ? url + 4 : "/", u, &resp);
        enum MHD_Result ret = rest__send(conn, &resp);
        ek_buf_free(&resp.body);
        return ret;
    }
    if (strcmp(url, "/tap") == 0) {
        if (strcmp(method, "GET") != 0) return send_text(conn, 405, "/tap is read with GET\n");
        return serve_tap(d, conn, method);
    }
    return serve_file(conn, method, url);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    rest__upload_free(*con_cls);
    *con_cls = NULL;
}

/* Starts MHD on d->fd, which it then owns (closing it at MHD_stop_daemon). */
static int start_mhd(ek_dashboard *d, ek_err *err)
{
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
                     (d->cert ? MHD_USE_TLS : 0);
    /* MHD_OPTION_END ends the list early when there is no certificate. */
    d->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, d, MHD_OPTION_LISTEN_SOCKET, d->fd,
                              MHD_OPTION_NOTIFY_COMPLETED, on_completed, d, MHD_OPTION_CONNECTION_TIMEOUT,
                              (unsigned)60, MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
                              d->cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, d->cert, MHD_OPTION_HTTPS_MEM_KEY,
                              d->key, MHD_OPTION_END);
    if (!d->mhd)
        return ek_err_set(err, EK_EIO, "cannot start the dashboard on %s:%d%s", d->ip, d->port,
                          d->cert ? " (check basic.restTls certfile and keyfile)" : "");
    d->fd = -1;
    return 0;
}

int ek_dashboard_start(ek_app *app, const char *ip, int port, ek_dashboard **out, ek_err *err)
{
    char *cert = NULL, *key = NULL;
    if (rest__tls_material(app, &cert, &key, err)) return EK_ECONF;
    int bound = 0;
    int fd = rest__listen(ip, port, "dashboard", "dashboard.ip", "dashboard.port", &bound, err);
    if (fd < 0) {
        ek_free(cert);
        ek_free(key);
        return fd;
    }
    ek_dashboard *d = ek_calloc(1, sizeof *d);
    d->app = app;
    d->fd = fd;
    d->port = bound;
    d->ip = ek_strdup(ip);
    d->cert = cert;
    d->key = key;
    pthread_mutex_init(&d->mu, NULL);
    ek_cond_init_monotonic(&d->cv);
    const char *upstream = app->config ? ek_config_str(app->config, "dashboard.restUpstream") : "";
    if ((upstream && *upstream &&
         rest__proxy_new(upstream, ek_config_str(app->config, "dashboard.tapUpstream"), &d->proxy, err) != 0) ||
        (cert && start_mhd(d, err))) {
        int rc = err->code;
        ek_dashboard_stop(d);
        return rc;
    }
    ek_info("dashboard listening on %s://%s:%d", cert ? "https" : "http", ip, bound);
    if (d->proxy) ek_info("dashboard forwards /api to %s and /tap to %s", rest__proxy_rest(d->proxy),
                          *rest__proxy_tap(d->proxy) ? rest__proxy_tap(d->proxy) : "nowhere (dashboard.tapUpstream is empty)");
    *out = d;
    return 0;
}

int ek_dashboard_idle_fd(const ek_dashboard *d)
{
    return d->mhd ? -1 : d->fd;
}

int ek_dashboard_serve(ek_dashboard *d, ek_err *err)
{
    if (d->mhd) return 0;
    if (start_mhd(d, err)) return err->code;
    ek_debug("dashboard: first connection, the HTTP server is started");
    return 0;
}

int ek_dashboard_port(const ek_dashboard *d)
{
    return d->port;
}

void ek_dashboard_stop(ek_dashboard *d)
{
    if (!d) return;
    pthread_mutex_lock(&d->mu);
    d->stopping = true;
    pthread_cond_broadcast(&d->cv);
    pthread_mutex_unlock(&d->mu);
    rest__proxy_stop(d->proxy);
    /* MHD closes the listening socket it was given. */
    if (d->mhd) MHD_stop_daemon(d->mhd);
    else close(d->fd);
    rest__proxy_free(d->proxy);
    pthread_cond_destroy(&d->cv);
    pthread_mutex_destroy(&d->mu);
    ek_free(d->ip);
    ek_free(d->cert);
    ek_free(d->key);
    ek_free(d);
}
