/* TLS for the broker's listeners, on OpenSSL with non-blocking sockets driven by the reactor.
 *
 * One SSL_CTX per TLS listener, built at start from its certfile/keyfile (and cafile when client
 * certificates are verified), TLS 1.2 at least, renegotiation off. Each accepted socket gets an SSL
 * in accept state; the handshake runs inside the first SSL_read calls. An SSL_read that needs to
 * write (handshake data the socket would not take) asks the reactor for EPOLLOUT and is retried
 * when it comes (conn.c's on_io). Writes use partial-write mode with a moving buffer, so a write
 * may be retried with the connection's output buffer moved or grown, never changed in content.
 * The per-thread OpenSSL error queue is cleared before each call, so one client's failure is never
 * read as another's. */
#include "broker/broker_int.h"
#include "engine/log.h"

#include <limits.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <sys/epoll.h>

#define TLS_RECORD_MAX 16384 /* the largest plaintext of one record */

static int ssl_fail(ek_err *err, const broker__listener_cfg *lc, const char *what, const char *file)
{
    char msg[256];
    unsigned long e = ERR_get_error();
    ERR_error_string_n(e, msg, sizeof msg);
    ERR_clear_error();
    return ek_err_set(err, EK_ECONF, "broker: TLS listener %s:%d: %s \"%s\": %s", lc->bind, lc->port, what,
                      file ? file : "", e ? msg : "unknown error");
}

int broker__tls_ctx_new(const broker__listener_cfg *lc, void **out, ek_err *err)
{
    const broker__tls_cfg *t = &lc->tlsc;
    *out = NULL;
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) return ssl_fail(err, lc, "cannot create a TLS context", NULL);
    int rc = 0;
    SSL_CTX_set_min_proto_version(ctx, t->min_version == 13 ? TLS1_3_VERSION : TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_RELEASE_BUFFERS);
    if (SSL_CTX_use_certificate_chain_file(ctx, t->certfile) != 1)
        rc = ssl_fail(err, lc, "cannot load certfile", t->certfile);
    else if (SSL_CTX_use_PrivateKey_file(ctx, t->keyfile, SSL_FILETYPE_PEM) != 1)
        rc = ssl_fail(err, lc, "cannot load keyfile", t->keyfile);
    else if (SSL_CTX_check_private_key(ctx) != 1)
        rc = ssl_fail(err, lc, "keyfile does not match certfile", t->keyfile);
    else if (t->cafile && SSL_CTX_load_verify_locations(ctx, t->cafile, NULL) != 1)
        rc = ssl_fail(err, lc, "cannot load cafile", t->cafile);
    if (rc) {
        SSL_CTX_free(ctx);
        return rc;
    }
    if (t->cafile) {
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(t->cafile);
        if (names) SSL_CTX_set_client_CA_list(ctx, names);
    }
    if (t->verify_peer)
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | (t->fail_if_no_cert ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0), NULL);
    /* Session resumption with client certificates needs an id context. */
    SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"kuiperd", 7);
    *out = ctx;
    return 0;
}

void broker__tls_ctx_free(void *ctx)
{
    SSL_CTX_free(ctx);
}

void *broker__tls_new(void *ctx, int fd)
{
    SSL *ssl = SSL_new(ctx);
    if (!ssl) return NULL;
    if (SSL_set_fd(ssl, fd) != 1) {
        SSL_free(ssl);
        return NULL;
    }
    SSL_set_accept_state(ssl);
    return ssl;
}

/* Logs why a TLS connection failed (a refused or missing client certificate, a protocol mismatch). */
static void log_failure(broker__conn *c, SSL *ssl, int e)
{
    char msg[256] = "connection closed";
    unsigned long code = ERR_peek_error();
    if (code) ERR_error_string_n(code, msg, sizeof msg);
    long vr = SSL_get_verify_result(ssl);
    ek_debug("broker: TLS %s with %s failed: %s%s%s", SSL_is_init_finished(ssl) ? "session" : "handshake",
             c->peer[0] ? c->peer : "a client", msg, vr != X509_V_OK ? ", certificate: " : "",
             vr != X509_V_OK ? X509_verify_cert_error_string(vr) : "");
    ERR_clear_error();
}

long broker__tls_read(broker__conn *c, uint8_t *buf, size_t cap, bool *more)
{
    SSL *ssl = c->tls;
    size_t got = 0;
    *more = false;
    /* Whole records only (room for one is kept), so OpenSSL never holds decrypted bytes the
     * reactor would not be woken for. */
    while (got == 0 || cap - got >= TLS_RECORD_MAX) {
        size_t room = cap - got;
        ERR_clear_error();
        int n = SSL_read(ssl, buf + got, room > INT_MAX ? INT_MAX : (int)room);
        if (n > 0) {
            got += (size_t)n;
            continue;
        }
        int e = SSL_get_error(ssl, n);
        if (e == SSL_ERROR_WANT_READ) break;
        if (e == SSL_ERROR_WANT_WRITE) {
            c->tls_read_wants_write = true;
            if (!c->want_out) {
                c->want_out = true;
                broker__io_mod(c->b, &c->io, EPOLLIN | EPOLLOUT);
            }
            break;
        }
        if (e != SSL_ERROR_ZERO_RETURN) log_failure(c, ssl, e);
        return got ? (long)got : TP_CLOSED; /* an error repeats on the next call */
    }
    if (!got) return TP_AGAIN;
    *more = cap - got < TLS_RECORD_MAX || SSL_pending(ssl) > 0;
    return (long)got;
}

long broker__tls_write(broker__conn *c, const uint8_t *buf, size_t len)
{
    SSL *ssl = c->tls;
    ERR_clear_error();
    int n = SSL_write(ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
    if (n > 0) return n;
    int e = SSL_get_error(ssl, n);
    if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) return TP_AGAIN;
    log_failure(c, ssl, e);
    return TP_CLOSED;
}

void broker__tls_shutdown(void *ssl)
{
    ERR_clear_error();
    if (SSL_is_init_finished(ssl)) SSL_shutdown(ssl); /* sends close_notify; the reply is not awaited */
    ERR_clear_error();
}

void broker__tls_free(void *ssl)
{
    SSL_free(ssl);
}
