/* The "httppush" source: an HTTP server (libmicrohttpd) on source.httpServerIp:httpServerPort
 * (kuiper.yaml, default 0.0.0.0:10081) shared by every httppush stream; each stream's DATASOURCE
 * is a path (`/api/data`) and `method` (default POST) the method it accepts. A request body is
 * pushed to every stream on that path; the answer is 200, or 404 for an unknown path, 405 for a
 * wrong method, 413 for a body over 16 MiB. The server starts with the first stream and stops
 * with the last. Routes are guarded by the server's lock, held while a request is dispatched, so
 * no ingest runs after close returns. */
#include "connectors/builtin.h"
#include "connectors/sink_transform.h"
#include "engine/app.h"
#include "engine/log.h"
#include "engine/mem.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MAX_BODY (16u << 20)

typedef struct route {
    struct route *next;
    char *path;
    char method[8];
    ek_ingest in;
} route;

typedef struct push_server {
    struct push_server *next;
    ek_app *app;
    char ip[64];
    int port;
    int refs;
    struct MHD_Daemon *d;
    pthread_mutex_t mu;
    route *routes;
} push_server;

typedef struct httppush {
    push_server *srv;
    route *r;
} httppush;

static pthread_mutex_t servers_mu = PTHREAD_MUTEX_INITIALIZER;
static push_server *servers;

typedef struct upload {
    ek_buf body;
    bool too_big;
} upload;

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned code, const char *text)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)(uintptr_t)text, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret = MHD_queue_response(conn, code, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *data, size_t *size, void **con_cls)
{
    push_server *srv = cls;
    upload *u = *con_cls;
    if (!u) {
        *con_cls = ek_calloc(1, sizeof *u);
        return MHD_YES;
    }
    if (*size) {
        if (u->body.len + *size > MAX_BODY) u->too_big = true;
        else ek_buf_append(&u->body, data, *size);
        *size = 0;
        return MHD_YES;
    }
    if (u->too_big) return reply(conn, MHD_HTTP_CONTENT_TOO_LARGE, "{\"error\":\"body too large\"}");
    int found = 0, delivered = 0;
    pthread_mutex_lock(&srv->mu);
    for (route *r = srv->routes; r; r = r->next) {
        if (strcmp(r->path, url) != 0) continue;
        found = 1;
        if (strcasecmp(r->method, method) != 0) continue;
        ek_value meta = ek_object_new(2);
        ek_object_set(&meta, "path", ek_string(url));
        ek_object_set(&meta, "method", ek_string(method));
        r->in.payload(r->in.ctx, u->body.data ? u->body.data : "", u->body.len, meta);
        delivered = 1;
    }
    pthread_mutex_unlock(&srv->mu);
    if (!found) return reply(conn, MHD_HTTP_NOT_FOUND, "{\"error\":\"no stream on this path\"}");
    if (!delivered) return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "{\"error\":\"method not allowed\"}");
    return reply(conn, MHD_HTTP_OK, "");
}

static void on_done(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    upload *u = *con_cls;
    if (!u) return;
    ek_buf_free(&u->body);
    ek_free(u);
    *con_cls = NULL;
}

static int server_start(push_server *s, ek_err *err)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)s->port)};
    if (inet_pton(AF_INET, s->ip, &addr.sin_addr) != 1)
        return ek_err_set(err, EK_ECONF, "source.httpServerIp: \"%s\" is not an IPv4 address", s->ip);
    s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL_LINUX_ONLY, (uint16_t)s->port, NULL, NULL,
                            on_request, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_NOTIFY_COMPLETED,
                            on_done, s, MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
    if (!s->d) return ek_err_set(err, EK_EIO, "httppush: cannot listen on %s:%d (port in use?)", s->ip, s->port);
    ek_info("httppush: listening on %s:%d", s->ip, s->port);
    return 0;
}

static int push_open(void *st, const ek_source_conf *conf, const ek_ingest *ingest, ek_err *err)
{
    httppush *p = st;
    const char *path = conf->datasource;
    if (!path || path[0] != '/')
        return ek_err_set(err, EK_EINVAL, "stream %s: DATASOURCE must be a URL path such as /api/data", conf->stream);
    const char *method = ek_prop_str(conf->props, "method", "POST");
    static const char *const methods[] = {"POST", "PUT", "PATCH", "GET", "DELETE"};
    const char *m = NULL;
    for (size_t i = 0; i < sizeof methods / sizeof methods[0] && !m; i++)
        if (strcasecmp(method, methods[i]) == 0) m = methods[i];
    if (!m) return ek_err_set(err, EK_EINVAL, "stream %s: property method: \"%s\" is not supported", conf->stream, method);
    const char *ip = conf->app && conf->app->config ? ek_config_str(conf->app->config, "source.httpServerIp") : "0.0.0.0";
    int port = conf->app && conf->app->config ? (int)ek_config_int(conf->app->config, "source.httpServerPort") : 10081;
    pthread_mutex_lock(&servers_mu);
    push_server *s = servers;
    while (s && !(s->app == conf->app && s->port == port && strcmp(s->ip, ip) == 0)) s = s->next;
    if (!s) {
        s = ek_calloc(1, sizeof *s);
        s->app = conf->app, s->port = port;
        snprintf(s->ip, sizeof s->ip, "%s", ip);
        pthread_mutex_init(&s->mu, NULL);
        int rc = server_start(s, err);
        if (rc) {
            pthread_mutex_unlock(&servers_mu);
            pthread_mutex_destroy(&s->mu);
            ek_free(s);
            return rc;
        }
        s->next = servers, servers = s;
    }
    s->refs++;
    pthread_mutex_unlock(&servers_mu);
    route *r = ek_calloc(1, sizeof *r);
    r->path = ek_strdup(path), r->in = *ingest;
    snprintf(r->method, sizeof r->method, "%s", m);
    pthread_mutex_lock(&s->mu);
    r->next = s->routes, s->routes = r;
    pthread_mutex_unlock(&s->mu);
    if (ingest->status) ingest->status(ingest->ctx, 1, NULL);
    p->srv = s, p->r = r;
    return 0;
}

static void push_close(void *st)
{
    httppush *p = st;
    push_server *s = p->srv;
    if (!s) return;
    pthread_mutex_lock(&s->mu);
    for (route **rr = &s->routes; *rr; rr = &(*rr)->next)
        if (*rr == p->r) {
            *rr = p->r->next;
            break;
        }
    pthread_mutex_unlock(&s->mu);
    ek_free(p->r->path);
    ek_free(p->r);
    pthread_mutex_lock(&servers_mu);
    bool last = --s->refs == 0;
    if (last)
        for (push_server **ps = &servers; *ps; ps = &(*ps)->next)
            if (*ps == s) {
                *ps = s->next;
                break;
            }
    pthread_mutex_unlock(&servers_mu);
    if (last) {
        MHD_stop_daemon(s->d);
        pthread_mutex_destroy(&s->mu);
        ek_free(s);
    }
    memset(p, 0, sizeof *p);
}

const ek_source_ops ek_httppush_source_ops = {
    .type = "httppush",
    .state_size = sizeof(httppush),
    .open = push_open,
    .close = push_close,
    .lookup = NULL,
};
