/* The receiving end of `kuiper query`: a minimal HTTP/1.1 server on an ephemeral port that the
 * temporary query rule's rest sink posts its results to. Only what a sink sends is understood:
 * requests with a Content-Length or a chunked body, possibly several on one kept-alive
 * connection; every request is answered "200 OK" with an empty body. One thread, poll(2), a few
 * connections, bounded buffers: a peer that sends more than CLI_RECV_MAX is disconnected. */
#include "cli/recv.h"
#include "engine/mem.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define CLI_RECV_CONNS 8
#define CLI_RECV_MAX (16u * 1024 * 1024)

struct cli_recv {
    int fd;
    struct {
        int fd;          /* -1: free slot */
        ek_buf in;
    } conns[CLI_RECV_CONNS];
};

int cli__recv_open(const char *ip, cli_recv **out, char *url, size_t urlsz)
{
    bool v6 = strchr(ip, ':') != NULL;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t len;
    if (v6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        if (inet_pton(AF_INET6, ip, &a->sin6_addr) != 1) return -1;
        len = sizeof *a;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        if (inet_pton(AF_INET, ip, &a->sin_addr) != 1) return -1;
        len = sizeof *a;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 8) != 0 ||
        getsockname(fd, (struct sockaddr *)&ss, &len) != 0) {
        close(fd);
        return -1;
    }
    int port = v6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port) : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    snprintf(url, urlsz, v6 ? "http://[%s]:%d/" : "http://%s:%d/", ip, port);
    cli_recv *r = ek_calloc(1, sizeof *r);
    r->fd = fd;
    for (int i = 0; i < CLI_RECV_CONNS; i++) r->conns[i].fd = -1;
    *out = r;
    return 0;
}

static void drop_conn(cli_recv *r, int i)
{
    close(r->conns[i].fd);
    r->conns[i].fd = -1;
    ek_buf_free(&r->conns[i].in);
}

/* Value of header name in the header block [h, end), or NULL; *n gets its length. */
static const char *header(const char *h, const char *end, const char *name, size_t *n)
{
    size_t nl = strlen(name);
    for (const char *line = h; line < end;) {
        const char *eol = memchr(line, '\n', (size_t)(end - line));
        if (!eol) eol = end;
        if ((size_t)(eol - line) > nl && strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
            const char *v = line + nl + 1;
            while (v < eol && (*v == ' ' || *v == '\t')) v++;
            const char *ve = eol;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ')) ve--;
            *n = (size_t)(ve - v);
            return v;
        }
        line = eol + 1;
    }
    return NULL;
}

/* Decodes a chunked body starting at p; returns bytes consumed, 0 if incomplete, -1 if bad. */
static long dechunk(const char *p, const char *end, ek_buf *body)
{
    const char *s = p;
    for (;;) {
        const char *eol = memchr(s, '\n', (size_t)(end - s));
        if (!eol) return 0;
        char *hend = NULL;
        unsigned long sz = strtoul(s, &hend, 16);
        if (hend == s || sz > CLI_RECV_MAX) return -1;
        s = eol + 1;
        if (sz == 0) {
            /* Trailers end with an empty line. */
            const char *fin = memmem(s - 2, (size_t)(end - (s - 2)), "\r\n\r\n", 4);
            if (!fin) return 0;
            return (long)(fin + 4 - p);
        }
        if ((size_t)(end - s) < sz + 2) return 0;
        ek_buf_append(body, s, sz);
        s += sz + 2;
    }
}

/* Takes one complete request from connection i: 1 with its body, 0 if incomplete, -1 if bad. */
static int take(cli_recv *r, int i, ek_buf *body)
{
    ek_buf *in = &r->conns[i].in;
    if (!in->data) return 0;
    const char *hend = memmem(in->data, in->len, "\r\n\r\n", 4);
    if (!hend) return in->len > 65536 ? -1 : 0;
    const char *end = in->data + in->len, *start = hend + 4;
    size_t n = 0;
    const char *te = header(in->data, hend, "Transfer-Encoding", &n);
    long used;
    ek_buf_reset(body);
    if (te && n >= 7 && strncasecmp(te, "chunked", 7) == 0) {
        used = dechunk(start, end, body);
        if (used <= 0) return (int)used;
    } else {
        const char *cl = header(in->data, hend, "Content-Length", &n);
        unsigned long len = cl ? strtoul(cl, NULL, 10) : 0;
        if (len > CLI_RECV_MAX) return -1;
        if ((size_t)(end - start) < len) return 0;
        ek_buf_append(body, start, len);
        used = (long)len;
    }
    if (!body->data) ek_buf_puts(body, "");
    static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    if (write(r->conns[i].fd, ok, sizeof ok - 1) < 0) return -1;
    size_t consumed = (size_t)(start - in->data) + (size_t)used;
    memmove(in->data, in->data + consumed, in->len - consumed);
    in->len -= consumed;
    in->data[in->len] = '\0';
    return 1;
}

/* Reads what connection i has; false when it closed or misbehaved. */
static bool fill(cli_recv *r, int i)
{
    char chunk[16384];
    ssize_t n = read(r->conns[i].fd, chunk, sizeof chunk);
    if (n <= 0) return n < 0 && errno == EINTR;
    if (r->conns[i].in.len + (size_t)n > CLI_RECV_MAX + 65536) return false;
    ek_buf_append(&r->conns[i].in, chunk, (size_t)n);
    return true;
}

static void accept_one(cli_recv *r)
{
    int fd = accept4(r->fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) return;
    for (int i = 0; i < CLI_RECV_CONNS; i++) {
        if (r->conns[i].fd < 0) {
            r->conns[i].fd = fd;
            return;
        }
    }
    close(fd); /* all slots busy: the sink will retry */
}

int cli__recv_wait(cli_recv *r, int timeout_ms, int watch_fd, ek_buf *body)
{
    for (int i = 0; i < CLI_RECV_CONNS; i++) {
        if (r->conns[i].fd < 0) continue;
        int rc = take(r, i, body);
        if (rc == 1) return 1;
        if (rc < 0) drop_conn(r, i);
    }
    struct pollfd pf[CLI_RECV_CONNS + 2];
    int idx[CLI_RECV_CONNS + 2], n = 0;
    pf[n].fd = r->fd;
    pf[n].events = POLLIN;
    idx[n++] = -1;
    if (watch_fd >= 0) {
        pf[n].fd = watch_fd;
        pf[n].events = POLLIN;
        idx[n++] = -2;
    }
    for (int i = 0; i < CLI_RECV_CONNS; i++) {
        if (r->conns[i].fd < 0) continue;
        pf[n].fd = r->conns[i].fd;
        pf[n].events = POLLIN;
        idx[n++] = i;
    }
    int ready = poll(pf, (nfds_t)n, timeout_ms);
    if (ready < 0) return errno == EINTR ? 0 : -1;
    bool watched = false;
    for (int k = 0; k < n; k++) {
        if (!(pf[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        if (idx[k] == -2) {
            watched = true;
        } else if (idx[k] < 0) {
            accept_one(r);
        } else if (!fill(r, idx[k])) {
            drop_conn(r, idx[k]);
        }
    }
    for (int i = 0; i < CLI_RECV_CONNS; i++) {
        if (r->conns[i].fd < 0) continue;
        int rc = take(r, i, body);
        if (rc == 1) return 1;
        if (rc < 0) drop_conn(r, i);
    }
    return watched ? 2 : 0;
}

void cli__recv_close(cli_recv *r)
{
    if (!r) return;
    for (int i = 0; i < CLI_RECV_CONNS; i++)
        if (r->conns[i].fd >= 0) drop_conn(r, i);
    close(r->fd);
    ek_free(r);
}
