/* The REST server on libmicrohttpd: accepts requests on MHD's own thread, gathers the body
 * (bounded at REST_MAX_BODY), dispatches through the route table and sends what the handler
 * wrote (the request path itself is in dispatch.c, shared with the dashboard). The listening
 * socket is created by us, not by MHD, so that "address in use" can be reported with the port
 * number and port 0 can pick a free port for tests. Without HTTPS the daemon starts only when the
 * first connection waits on that socket (ek_rest_serve, called from kuiperd's main thread), so an
 * idle kuiperd neither loads libmicrohttpd and GnuTLS nor runs their thread; MHD is handed the
 * socket and accepts the waiting connection itself. With basic.restTls it starts at once, so a
 * certificate MHD rejects still stops kuiperd at start. */
#include "engine/log.h"
#include "engine/mem.h"
#include "rest/dispatch.h"
#include "rest/rest.h"

#include <unistd.h>

struct ek_rest {
    ek_app *app;
    struct MHD_Daemon *mhd;
    int fd;   /* the bound socket until MHD takes it, then -1 */
    int port;
    char *ip;
    char *cert, *key; /* PEM texts for HTTPS, or NULL */
};

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    ek_rest *srv = cls;
    rest_upload *u = *con_cls;
    if (!u) {
        *con_cls = ek_calloc(1, sizeof *u);
        return MHD_YES;
    }
    if (rest__gather(u, upload, upload_size)) return MHD_YES;
    rest_resp resp = {.status = 200};
    rest__dispatch(srv->app, conn, method, url, u, &resp);
    enum MHD_Result ret = rest__send(conn, &resp);
    ek_buf_free(&resp.body);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    rest__upload_free(*con_cls);
    *con_cls = NULL;
}

/* Starts MHD on srv->fd, which it then owns (closing it at MHD_stop_daemon). */
static int start_mhd(ek_rest *srv, ek_err *err)
{
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | (srv->cert ? MHD_USE_TLS : 0);
    /* MHD copies neither PEM: they are kept until stop. MHD_OPTION_END ends the list early when
     * there is no certificate. */
    srv->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_LISTEN_SOCKET, srv->fd,
                                MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_CONNECTION_TIMEOUT,
                                (unsigned)60, srv->cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, srv->cert,
                                MHD_OPTION_HTTPS_MEM_KEY, srv->key, MHD_OPTION_END);
    if (!srv->mhd)
        return ek_err_set(err, EK_EIO, "cannot start the REST server on %s:%d%s", srv->ip, srv->port,
                          srv->cert ? " (check basic.restTls certfile and keyfile)" : "");
    srv->fd = -1;
    return 0;
}

int ek_rest_start(ek_app *app, const char *ip, int port, ek_rest **out, ek_err *err)
{
    char *cert = NULL, *key = NULL;
    if (rest__tls_material(app, &cert, &key, err)) return EK_ECONF;
    int bound = 0;
    int fd = rest__listen(ip, port, "REST", "basic.restIp", "basic.restPort", &bound, err);
    if (fd < 0) {
        ek_free(cert);
        ek_free(key);
        return fd;
    }
    ek_rest *srv = ek_calloc(1, sizeof *srv);
    srv->app = app;
    rest__tasks_new(app); /* before the first request can ask for a task */
    srv->fd = fd;
    srv->port = bound;
    srv->ip = ek_strdup(ip);
    srv->cert = cert;
    srv->key = key;
    if (cert && start_mhd(srv, err)) {
        ek_rest_stop(srv);
        return err->code;
    }
    ek_info("REST API listening on %s://%s:%d", cert ? "https" : "http", ip, bound);
    *out = srv;
    return 0;
}

int ek_rest_idle_fd(const ek_rest *r)
{
    return r->mhd ? -1 : r->fd;
}

int ek_rest_serve(ek_rest *r, ek_err *err)
{
    if (r->mhd) return 0;
    if (start_mhd(r, err)) return err->code;
    ek_debug("REST API: first connection, the HTTP server is started");
    return 0;
}

int ek_rest_port(const ek_rest *r)
{
    return r->port;
}

void ek_rest_stop(ek_rest *r)
{
    if (!r) return;
    if (r->mhd) MHD_stop_daemon(r->mhd); /* closes the listening socket too */
    else close(r->fd);
    rest__tasks_free(r->app);  /* no request can start another task now */
    ek_free(r->ip);
    ek_free(r->cert);
    ek_free(r->key);
    ek_free(r);
}
