/* The request path shared by the REST API and the dashboard (see dispatch.h): body gathering,
 * authentication, routing, error replies, sending, the listening socket and the TLS material.
 * Invariant: a request answered here gives the same status and body whichever port it came in
 * on; only the path prefix (/api on the dashboard) differs, and it is stripped by the caller. */
#include "engine/mem.h"
#include "rest/dispatch.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

const char *rest__query(const rest_req *req, const char *key)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, key);
}

const char *rest__header(const rest_req *req, const char *key)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, key);
}

bool rest__gather(rest_upload *u, const char *data, size_t *size)
{
    if (!*size) return false;
    if (u->body.len + *size > REST_MAX_BODY) u->too_large = true;
    else ek_buf_append(&u->body, data, *size);
    *size = 0;
    return true;
}

void rest__upload_free(rest_upload *u)
{
    if (!u) return;
    ek_buf_free(&u->body);
    ek_free(u);
}

enum MHD_Result rest__send(struct MHD_Connection *conn, const rest_resp *resp)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(resp->body.len, resp->body.data ? resp->body.data : "",
                                                             MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", resp->content_type ? resp->content_type : "application/json");
    MHD_add_response_header(r, "Access-Control-Allow-Origin", "*");
    if (resp->disposition) MHD_add_response_header(r, "Content-Disposition", resp->disposition);
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    return ret;
}

void rest__dispatch(ek_app *app, struct MHD_Connection *conn, const char *method, const char *path,
                    const rest_upload *u, rest_resp *resp)
{
    rest_req req = {.app = app, .method = method, .path = path, .conn = conn};
    req.body = u->body.data ? u->body.data : "";
    req.body_len = u->body.len;
    if (u->too_large) {
        rest__error(resp, 413, 1000, "request body larger than %u bytes", REST_MAX_BODY);
        return;
    }
    if (!rest__authorized(&req, resp)) return;
    int path_known = 0;
    const rest_route *route = rest__route(method, path, &req, &path_known);
    if (route) {
        route->fn(&req, resp);
    } else if (path_known) {
        rest__error(resp, 405, 1000, "method %s is not allowed on %s", method, path);
    } else {
        rest__error(resp, 404, 1002, "%s is not found", path);
    }
    /* Browsers' CORS preflight gets an empty 200 for any path. */
    if (strcmp(method, "OPTIONS") == 0 && resp->status == 404) rest__text(resp, 200, "");
}

int rest__listen(const char *ip, int port, const char *what, const char *ipkey, const char *portkey, int *bound,
                 ek_err *err)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, ip, &addr.sin_addr) != 1)
        return ek_err_set(err, EK_ECONF, "%s: \"%s\" is not an IPv4 address", ipkey, ip);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return ek_err_set(err, EK_EIO, "cannot create a socket: %s", strerror(errno));
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(fd, 128) != 0) {
        int e = errno;
        close(fd);
        if (e == EADDRINUSE)
            return ek_err_set(err, EK_EIO, "%s port %d on %s is already in use (%s)", what, port, ip, portkey);
        return ek_err_set(err, EK_EIO, "cannot listen on %s:%d for %s: %s", ip, port, what, strerror(e));
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

int rest__tls_material(const ek_app *app, char **cert, char **key, ek_err *err)
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
