/* The REST server on libmicrohttpd: accepts requests on MHD's own thread, gathers the body
 * (bounded at REST_MAX_BODY), dispatches through the route table and sends what the handler
 * wrote. The listening socket is created here, not by MHD, so that "address in use" can be
 * reported with the port number and port 0 can pick a free port for tests. */
#include "engine/log.h"
#include "engine/mem.h"
#include "rest/rest.h"
#include "rest/rest_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct ek_rest {
    ek_app *app;
    struct MHD_Daemon *mhd;
    int fd;
    int port;
    char *cert, *key; /* PEM texts for HTTPS, or NULL */
};

typedef struct conn_state {
    ek_buf body;
    bool too_large;
} conn_state;

const char *rest__query(const rest_req *req, const char *key)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, key);
}

const char *rest__header(const rest_req *req, const char *key)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, key);
}

static enum MHD_Result send_resp(struct MHD_Connection *conn, rest_resp *resp)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(resp->body.len, resp->body.data ? resp->body.data : "",
                                                             MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", resp->content_type ? resp->content_type : "application/json");
    MHD_add_response_header(r, "Access-Control-Allow-Origin", "*");
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    return ret;
}

static void dispatch(ek_rest *srv, struct MHD_Connection *conn, const char *method, const char *url,
                     conn_state *cs, rest_resp *resp)
{
    rest_req req = {.app = srv->app, .method = method, .path = url, .conn = conn};
    req.body = cs->body.data ? cs->body.data : "";
    req.body_len = cs->body.len;
    if (cs->too_large) {
        rest__error(resp, 413, 1000, "request body larger than %u bytes", REST_MAX_BODY);
        return;
    }
    if (!rest__authorized(&req, resp)) return;
    int path_known = 0;
    const rest_route *route = rest__route(method, url, &req, &path_known);
    if (route) {
        route->fn(&req, resp);
    } else if (path_known) {
        rest__error(resp, 405, 1000, "method %s is not allowed on %s", method, url);
    } else {
        rest__error(resp, 404, 1002, "%s is not found", url);
    }
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    ek_rest *srv = cls;
    conn_state *cs = *con_cls;
    if (!cs) {
        cs = ek_calloc(1, sizeof *cs);
        *con_cls = cs;
        return MHD_YES;
    }
    if (*upload_size) {
        if (cs->body.len + *upload_size > REST_MAX_BODY) cs->too_large = true;
        else ek_buf_append(&cs->body, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    rest_resp resp = {.status = 200};
    dispatch(srv, conn, method, url, cs, &resp);
    if (strcmp(method, "OPTIONS") == 0 && resp.status == 404) rest__text(&resp, 200, "");
    enum MHD_Result ret = send_resp(conn, &resp);
    ek_buf_free(&resp.body);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    conn_state *cs = *con_cls;
    if (!cs) return;
    ek_buf_free(&cs->body);
    ek_free(cs);
    *con_cls = NULL;
}

static int listen_on(const char *ip, int port, int *bound, ek_err *err)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, ip, &addr.sin_addr) != 1)
        return ek_err_set(err, EK_ECONF, "basic.restIp: \"%s\" is not an IPv4 address", ip);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return ek_err_set(err, EK_EIO, "cannot create a socket: %s", strerror(errno));
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(fd, 128) != 0) {
        int e = errno;
        close(fd);
        if (e == EADDRINUSE)
            return ek_err_set(err, EK_EIO, "REST port %d on %s is already in use (basic.restPort)", port, ip);
        return ek_err_set(err, EK_EIO, "cannot listen on %s:%d for REST: %s", ip, port, strerror(e));
    }
    socklen_t len = sizeof addr;
    getsockname(fd, (struct sockaddr *)&addr, &len);
    *bound = ntohs(addr.sin_port);
    return fd;
}

static char *read_pem(const char *path, const char *key, ek_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        ek_err_set(err, EK_ECONF, "basic.restTls.%s: cannot read %s: %s", key, path, strerror(errno));
        return NULL;
    }
    ek_buf b = EK_BUF_INIT;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) ek_buf_append(&b, chunk, n);
    fclose(f);
    return ek_buf_detach(&b);
}

/* basic.restTls: both files set means HTTPS. Returns 0 and the PEM texts (or NULLs for HTTP). */
static int tls_material(const ek_app *app, char **cert, char **key, ek_err *err)
{
    *cert = *key = NULL;
    if (!app->config) return 0;
    const char *certfile = ek_config_str(app->config, "basic.restTls.certfile");
    const char *keyfile = ek_config_str(app->config, "basic.restTls.keyfile");
    if (!*certfile && !*keyfile) return 0;
    if (!*certfile || !*keyfile)
        return ek_err_set(err, EK_ECONF, "basic.restTls needs both certfile and keyfile");
    if (!MHD_is_feature_supported(MHD_FEATURE_TLS))
        return ek_err_set(err, EK_ECONF, "basic.restTls is set but libmicrohttpd was built without TLS");
    *cert = read_pem(certfile, "certfile", err);
    if (*cert) *key = read_pem(keyfile, "keyfile", err);
    if (!*cert || !*key) {
        ek_free(*cert);
        *cert = NULL;
        return EK_ECONF;
    }
    return 0;
}

int ek_rest_start(ek_app *app, const char *ip, int port, ek_rest **out, ek_err *err)
{
    char *cert = NULL, *key = NULL;
    if (tls_material(app, &cert, &key, err)) return EK_ECONF;
    int bound = 0;
    int fd = listen_on(ip, port, &bound, err);
    if (fd < 0) {
        ek_free(cert);
        ek_free(key);
        return fd;
    }
    ek_rest *srv = ek_calloc(1, sizeof *srv);
    srv->app = app;
    srv->fd = fd;
    srv->port = bound;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | (cert ? MHD_USE_TLS : 0);
    if (cert)
        srv->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_LISTEN_SOCKET, fd,
                                    MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_CONNECTION_TIMEOUT,
                                    (unsigned)60, MHD_OPTION_HTTPS_MEM_CERT, cert, MHD_OPTION_HTTPS_MEM_KEY, key,
                                    MHD_OPTION_END);
    else
        srv->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_LISTEN_SOCKET, fd,
                                    MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_CONNECTION_TIMEOUT,
                                    (unsigned)60, MHD_OPTION_END);
    /* MHD copies neither PEM: keep them until stop. */
    srv->cert = cert;
    srv->key = key;
    if (!srv->mhd) {
        close(fd);
        ek_free(cert);
        ek_free(key);
        ek_free(srv);
        return ek_err_set(err, EK_EIO, "cannot start the REST server on %s:%d%s", ip, bound,
                          cert ? " (check basic.restTls certfile and keyfile)" : "");
    }
    ek_info("REST API listening on %s://%s:%d", cert ? "https" : "http", ip, bound);
    *out = srv;
    return 0;
}

int ek_rest_port(const ek_rest *r)
{
    return r->port;
}

void ek_rest_stop(ek_rest *r)
{
    if (!r) return;
    MHD_stop_daemon(r->mhd);
    close(r->fd);
    ek_free(r->cert);
    ek_free(r->key);
    ek_free(r);
}
