/* OpenSSL, loaded when a feature first needs it rather than at kuiperd's start.
 *
 * libssl and libcrypto cost about 1.8 MB of resident memory merely by being mapped, and an idle
 * kuiperd with the default configuration uses neither (bench/RESULTS.md, "Idle memory"). So
 * kuiperd does not link OpenSSL: this file defines every OpenSSL function its libraries call, and
 * the first call dlopen()s the library and forwards to it (engine/lazy_lib.h). Two libraries, so
 * that hashing, JWT, passwords and base64 (libcrypto) do not map libssl too; TLS listeners
 * (libssl) bring libcrypto with them. The OpenSSL headers are included, so the compiler checks
 * each definition and pointer (__typeof__) against the real prototype; a header macro
 * (SSL_CTX_set_mode, OPENSSL_free...) is served by the function it expands to.
 *
 * Without OpenSSL on the machine, a warning names the missing library once and every function
 * fails the way OpenSSL itself reports failure (NULL, 0, -1, SSL_ERROR_SSL): TLS listeners do not
 * start, hash and base64 functions return errors, JWT and password checks refuse. Nothing unsafe
 * happens: comparisons report "different". EVP_EncodeBlock, which callers trust never to fail,
 * falls back to a small encoder, and OPENSSL_cleanse needs no library at all (explicit_bzero). The forwarding functions are
 * hidden, so OpenSSL itself, Paho, libcurl or a test that links libcrypto bind to the real ones. */
#include "engine/lazy_lib.h"

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

#define LIBCRYPTO "libcrypto.so.3"
#define LIBSSL "libssl.so.3"

/* libcrypto: digests, MACs, signatures, randomness, base64, errors. */
static struct {
    __typeof__(BN_bin2bn) *bn_bin2bn;
    __typeof__(BN_free) *bn_free;
    __typeof__(CRYPTO_free) *crypto_free;
    __typeof__(CRYPTO_memcmp) *crypto_memcmp;
    __typeof__(ECDSA_SIG_free) *ecdsa_sig_free;
    __typeof__(ECDSA_SIG_new) *ecdsa_sig_new;
    __typeof__(ECDSA_SIG_set0) *ecdsa_sig_set0;
    __typeof__(ERR_clear_error) *err_clear_error;
    __typeof__(ERR_error_string_n) *err_error_string_n;
    __typeof__(ERR_get_error) *err_get_error;
    __typeof__(ERR_peek_error) *err_peek_error;
    __typeof__(EVP_DecodeBlock) *decode_block;
    __typeof__(EVP_EncodeBlock) *encode_block;
    __typeof__(EVP_Digest) *digest;
    __typeof__(EVP_DigestVerify) *digest_verify;
    __typeof__(EVP_DigestVerifyInit) *digest_verify_init;
    __typeof__(EVP_MD_CTX_free) *md_ctx_free;
    __typeof__(EVP_MD_CTX_new) *md_ctx_new;
    __typeof__(EVP_PKEY_free) *pkey_free;
    __typeof__(EVP_PKEY_get_base_id) *pkey_get_base_id;
    __typeof__(EVP_md5) *md5;
    __typeof__(EVP_sha1) *sha1;
    __typeof__(EVP_sha224) *sha224;
    __typeof__(EVP_sha256) *sha256;
    __typeof__(EVP_sha384) *sha384;
    __typeof__(EVP_sha512) *sha512;
    __typeof__(HMAC) *hmac;
    __typeof__(PEM_read_PUBKEY) *pem_read_pubkey;
    __typeof__(PKCS5_PBKDF2_HMAC) *pbkdf2_hmac;
    __typeof__(RAND_bytes) *rand_bytes;
    __typeof__(SHA1) *sha1_oneshot;
    __typeof__(SHA256) *sha256_oneshot;
    __typeof__(X509_verify_cert_error_string) *x509_verify_cert_error_string;
    __typeof__(i2d_ECDSA_SIG) *i2d_ecdsa_sig;
} c;
static const struct ek_lazy_sym crypto_syms[] = {
    EK_LAZY_SYM(BN_bin2bn, c.bn_bin2bn),
    EK_LAZY_SYM(BN_free, c.bn_free),
    EK_LAZY_SYM(CRYPTO_free, c.crypto_free),
    EK_LAZY_SYM(CRYPTO_memcmp, c.crypto_memcmp),
    EK_LAZY_SYM(ECDSA_SIG_free, c.ecdsa_sig_free),
    EK_LAZY_SYM(ECDSA_SIG_new, c.ecdsa_sig_new),
    EK_LAZY_SYM(ECDSA_SIG_set0, c.ecdsa_sig_set0),
    EK_LAZY_SYM(ERR_clear_error, c.err_clear_error),
    EK_LAZY_SYM(ERR_error_string_n, c.err_error_string_n),
    EK_LAZY_SYM(ERR_get_error, c.err_get_error),
    EK_LAZY_SYM(ERR_peek_error, c.err_peek_error),
    EK_LAZY_SYM(EVP_DecodeBlock, c.decode_block),
    EK_LAZY_SYM(EVP_EncodeBlock, c.encode_block),
    EK_LAZY_SYM(EVP_Digest, c.digest),
    EK_LAZY_SYM(EVP_DigestVerify, c.digest_verify),
    EK_LAZY_SYM(EVP_DigestVerifyInit, c.digest_verify_init),
    EK_LAZY_SYM(EVP_MD_CTX_free, c.md_ctx_free),
    EK_LAZY_SYM(EVP_MD_CTX_new, c.md_ctx_new),
    EK_LAZY_SYM(EVP_PKEY_free, c.pkey_free),
    EK_LAZY_SYM(EVP_PKEY_get_base_id, c.pkey_get_base_id),
    EK_LAZY_SYM(EVP_md5, c.md5),
    EK_LAZY_SYM(EVP_sha1, c.sha1),
    EK_LAZY_SYM(EVP_sha224, c.sha224),
    EK_LAZY_SYM(EVP_sha256, c.sha256),
    EK_LAZY_SYM(EVP_sha384, c.sha384),
    EK_LAZY_SYM(EVP_sha512, c.sha512),
    EK_LAZY_SYM(HMAC, c.hmac),
    EK_LAZY_SYM(PEM_read_PUBKEY, c.pem_read_pubkey),
    EK_LAZY_SYM(PKCS5_PBKDF2_HMAC, c.pbkdf2_hmac),
    EK_LAZY_SYM(RAND_bytes, c.rand_bytes),
    EK_LAZY_SYM(SHA1, c.sha1_oneshot),
    EK_LAZY_SYM(SHA256, c.sha256_oneshot),
    EK_LAZY_SYM(X509_verify_cert_error_string, c.x509_verify_cert_error_string),
    EK_LAZY_SYM(i2d_ECDSA_SIG, c.i2d_ecdsa_sig),
};
static struct ek_lazy_lib crypto_lib = {LIBCRYPTO, "OpenSSL (hashing, JWT, passwords, base64)", crypto_syms,
                                        sizeof crypto_syms / sizeof crypto_syms[0], 0};

/* libssl: the broker's TLS listeners (broker/tls.c). */
static struct {
    __typeof__(SSL_CTX_check_private_key) *ctx_check_private_key;
    __typeof__(SSL_CTX_ctrl) *ctx_ctrl;
    __typeof__(SSL_CTX_free) *ctx_free;
    __typeof__(SSL_CTX_load_verify_locations) *ctx_load_verify_locations;
    __typeof__(SSL_CTX_new) *ctx_new;
    __typeof__(SSL_CTX_set_client_CA_list) *ctx_set_client_ca_list;
    __typeof__(SSL_CTX_set_options) *ctx_set_options;
    __typeof__(SSL_CTX_set_session_id_context) *ctx_set_session_id_context;
    __typeof__(SSL_CTX_set_verify) *ctx_set_verify;
    __typeof__(SSL_CTX_use_PrivateKey_file) *ctx_use_private_key_file;
    __typeof__(SSL_CTX_use_certificate_chain_file) *ctx_use_certificate_chain_file;
    __typeof__(SSL_free) *free;
    __typeof__(SSL_get_error) *get_error;
    __typeof__(SSL_get_verify_result) *get_verify_result;
    __typeof__(SSL_is_init_finished) *is_init_finished;
    __typeof__(SSL_load_client_CA_file) *load_client_ca_file;
    __typeof__(SSL_new) *new;
    __typeof__(SSL_pending) *pending;
    __typeof__(SSL_read) *read;
    __typeof__(SSL_set_accept_state) *set_accept_state;
    __typeof__(SSL_set_fd) *set_fd;
    __typeof__(SSL_shutdown) *shutdown;
    __typeof__(SSL_write) *write;
    __typeof__(TLS_server_method) *tls_server_method;
} s;
static const struct ek_lazy_sym ssl_syms[] = {
    EK_LAZY_SYM(SSL_CTX_check_private_key, s.ctx_check_private_key),
    EK_LAZY_SYM(SSL_CTX_ctrl, s.ctx_ctrl),
    EK_LAZY_SYM(SSL_CTX_free, s.ctx_free),
    EK_LAZY_SYM(SSL_CTX_load_verify_locations, s.ctx_load_verify_locations),
    EK_LAZY_SYM(SSL_CTX_new, s.ctx_new),
    EK_LAZY_SYM(SSL_CTX_set_client_CA_list, s.ctx_set_client_ca_list),
    EK_LAZY_SYM(SSL_CTX_set_options, s.ctx_set_options),
    EK_LAZY_SYM(SSL_CTX_set_session_id_context, s.ctx_set_session_id_context),
    EK_LAZY_SYM(SSL_CTX_set_verify, s.ctx_set_verify),
    EK_LAZY_SYM(SSL_CTX_use_PrivateKey_file, s.ctx_use_private_key_file),
    EK_LAZY_SYM(SSL_CTX_use_certificate_chain_file, s.ctx_use_certificate_chain_file),
    EK_LAZY_SYM(SSL_free, s.free),
    EK_LAZY_SYM(SSL_get_error, s.get_error),
    EK_LAZY_SYM(SSL_get_verify_result, s.get_verify_result),
    EK_LAZY_SYM(SSL_is_init_finished, s.is_init_finished),
    EK_LAZY_SYM(SSL_load_client_CA_file, s.load_client_ca_file),
    EK_LAZY_SYM(SSL_new, s.new),
    EK_LAZY_SYM(SSL_pending, s.pending),
    EK_LAZY_SYM(SSL_read, s.read),
    EK_LAZY_SYM(SSL_set_accept_state, s.set_accept_state),
    EK_LAZY_SYM(SSL_set_fd, s.set_fd),
    EK_LAZY_SYM(SSL_shutdown, s.shutdown),
    EK_LAZY_SYM(SSL_write, s.write),
    EK_LAZY_SYM(TLS_server_method, s.tls_server_method),
};
static struct ek_lazy_lib ssl_lib = {LIBSSL, "OpenSSL (TLS listeners)", ssl_syms, sizeof ssl_syms / sizeof ssl_syms[0], 0};

/* Which library a failed call of this thread needed, so that the caller's usual error report
 * (ERR_get_error, then ERR_error_string_n) names it rather than "unknown error". */
#define NOT_LOADED_SSL (~0UL)
#define NOT_LOADED_CRYPTO (~0UL - 1)
static _Thread_local unsigned long missing; /* 0 or one of the two above */

static bool crypto(void)
{
    if (ek_lazy_ready(&crypto_lib)) return true;
    missing = NOT_LOADED_CRYPTO;
    return false;
}

static bool ssl(void)
{
    if (ek_lazy_ready(&ssl_lib)) return true;
    missing = NOT_LOADED_SSL;
    return false;
}

/* libcrypto */

EK_LAZY_FN BIGNUM *BN_bin2bn(const unsigned char *p, int len, BIGNUM *ret) { return crypto() ? c.bn_bin2bn(p, len, ret) : NULL; }
EK_LAZY_FN void BN_free(BIGNUM *a) { if (a && crypto()) c.bn_free(a); }
EK_LAZY_FN void CRYPTO_free(void *p, const char *file, int line) { if (p && crypto()) c.crypto_free(p, file, line); }
EK_LAZY_FN int CRYPTO_memcmp(const void *a, const void *b, size_t len) { return crypto() ? c.crypto_memcmp(a, b, len) : 1; }
EK_LAZY_FN void ECDSA_SIG_free(ECDSA_SIG *sig) { if (sig && crypto()) c.ecdsa_sig_free(sig); }
EK_LAZY_FN ECDSA_SIG *ECDSA_SIG_new(void) { return crypto() ? c.ecdsa_sig_new() : NULL; }
EK_LAZY_FN int ECDSA_SIG_set0(ECDSA_SIG *sig, BIGNUM *r, BIGNUM *sv) { return crypto() ? c.ecdsa_sig_set0(sig, r, sv) : 0; }
EK_LAZY_FN void ERR_clear_error(void)
{
    if (crypto()) c.err_clear_error();
    missing = 0;
}
EK_LAZY_FN unsigned long ERR_peek_error(void) { return !missing && crypto() ? c.err_peek_error() : missing; }

/* Pops, like OpenSSL's: a thread's "not available" is reported once. */
EK_LAZY_FN unsigned long ERR_get_error(void)
{
    if (!missing && crypto()) return c.err_get_error();
    unsigned long e = missing;
    missing = 0;
    return e;
}
EK_LAZY_FN int EVP_DecodeBlock(unsigned char *t, const unsigned char *f, int n) { return crypto() ? c.decode_block(t, f, n) : -1; }
EK_LAZY_FN int EVP_DigestVerify(EVP_MD_CTX *ctx, const unsigned char *sig, size_t siglen, const unsigned char *tbs, size_t tbslen)
{
    return crypto() ? c.digest_verify(ctx, sig, siglen, tbs, tbslen) : 0;
}
EK_LAZY_FN int EVP_DigestVerifyInit(EVP_MD_CTX *ctx, EVP_PKEY_CTX **pctx, const EVP_MD *type, ENGINE *e, EVP_PKEY *pkey)
{
    return crypto() ? c.digest_verify_init(ctx, pctx, type, e, pkey) : 0;
}
EK_LAZY_FN void EVP_MD_CTX_free(EVP_MD_CTX *ctx) { if (ctx && crypto()) c.md_ctx_free(ctx); }
EK_LAZY_FN EVP_MD_CTX *EVP_MD_CTX_new(void) { return crypto() ? c.md_ctx_new() : NULL; }
EK_LAZY_FN void EVP_PKEY_free(EVP_PKEY *pkey) { if (pkey && crypto()) c.pkey_free(pkey); }
EK_LAZY_FN int EVP_PKEY_get_base_id(const EVP_PKEY *pkey) { return crypto() ? c.pkey_get_base_id(pkey) : EVP_PKEY_NONE; }
EK_LAZY_FN const EVP_MD *EVP_md5(void) { return crypto() ? c.md5() : NULL; }
EK_LAZY_FN const EVP_MD *EVP_sha1(void) { return crypto() ? c.sha1() : NULL; }
EK_LAZY_FN const EVP_MD *EVP_sha224(void) { return crypto() ? c.sha224() : NULL; }
EK_LAZY_FN const EVP_MD *EVP_sha256(void) { return crypto() ? c.sha256() : NULL; }
EK_LAZY_FN const EVP_MD *EVP_sha384(void) { return crypto() ? c.sha384() : NULL; }
EK_LAZY_FN const EVP_MD *EVP_sha512(void) { return crypto() ? c.sha512() : NULL; }
EK_LAZY_FN int RAND_bytes(unsigned char *buf, int num) { return crypto() ? c.rand_bytes(buf, num) : 0; }
EK_LAZY_FN unsigned char *SHA1(const unsigned char *d, size_t n, unsigned char *md) { return crypto() ? c.sha1_oneshot(d, n, md) : NULL; }
EK_LAZY_FN unsigned char *SHA256(const unsigned char *d, size_t n, unsigned char *md) { return crypto() ? c.sha256_oneshot(d, n, md) : NULL; }
EK_LAZY_FN int i2d_ECDSA_SIG(const ECDSA_SIG *sig, unsigned char **pp) { return crypto() ? c.i2d_ecdsa_sig(sig, pp) : -1; }

EK_LAZY_FN int EVP_Digest(const void *data, size_t count, unsigned char *md, unsigned int *size, const EVP_MD *type, ENGINE *impl)
{
    return crypto() ? c.digest(data, count, md, size, type, impl) : 0;
}

EK_LAZY_FN unsigned char *HMAC(const EVP_MD *evp_md, const void *key, int key_len, const unsigned char *data, size_t data_len,
                               unsigned char *md, unsigned int *md_len)
{
    return crypto() ? c.hmac(evp_md, key, key_len, data, data_len, md, md_len) : NULL;
}

EK_LAZY_FN EVP_PKEY *PEM_read_PUBKEY(FILE *fp, EVP_PKEY **x, pem_password_cb *cb, void *u)
{
    return crypto() ? c.pem_read_pubkey(fp, x, cb, u) : NULL;
}

EK_LAZY_FN int PKCS5_PBKDF2_HMAC(const char *pass, int passlen, const unsigned char *salt, int saltlen, int iter,
                                 const EVP_MD *digest, int keylen, unsigned char *out)
{
    return crypto() ? c.pbkdf2_hmac(pass, passlen, salt, saltlen, iter, digest, keylen, out) : 0;
}

EK_LAZY_FN void ERR_error_string_n(unsigned long e, char *buf, size_t len)
{
    if (e == NOT_LOADED_SSL || e == NOT_LOADED_CRYPTO || !crypto()) {
        if (len) snprintf(buf, len, "OpenSSL (%s) is not available", e == NOT_LOADED_SSL ? LIBSSL : LIBCRYPTO);
        return;
    }
    c.err_error_string_n(e, buf, len);
}

EK_LAZY_FN const char *X509_verify_cert_error_string(long n)
{
    return crypto() ? c.x509_verify_cert_error_string(n) : "OpenSSL (" LIBCRYPTO ") is not available";
}

/* Callers rely on base64 never failing (4 characters per 3 bytes, NUL-terminated): bytes in JSON
 * output, encode(), the WebSocket handshake. Without libcrypto this small encoder keeps that true. */
EK_LAZY_FN int EVP_EncodeBlock(unsigned char *t, const unsigned char *f, int n)
{
    if (crypto()) return c.encode_block(t, f, n);
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    int len = 0;
    for (int i = 0; i < n; i += 3) {
        unsigned long v = (unsigned long)f[i] << 16 | (i + 1 < n ? (unsigned long)f[i + 1] << 8 : 0) | (i + 2 < n ? f[i + 2] : 0);
        t[len++] = (unsigned char)abc[v >> 18 & 63];
        t[len++] = (unsigned char)abc[v >> 12 & 63];
        t[len++] = i + 1 < n ? (unsigned char)abc[v >> 6 & 63] : '=';
        t[len++] = i + 2 < n ? (unsigned char)abc[v & 63] : '=';
    }
    t[len] = '\0';
    return len;
}

/* Wiping memory needs no library; explicit_bzero is not optimised away either. */
EK_LAZY_FN void OPENSSL_cleanse(void *p, size_t len) { explicit_bzero(p, len); }

/* libssl: an SSL or SSL_CTX exists only once libssl has loaded, so most of these cannot fail. */

EK_LAZY_FN int SSL_CTX_check_private_key(const SSL_CTX *ctx) { return ssl() ? s.ctx_check_private_key(ctx) : 0; }
EK_LAZY_FN long SSL_CTX_ctrl(SSL_CTX *ctx, int cmd, long larg, void *parg) { return ssl() ? s.ctx_ctrl(ctx, cmd, larg, parg) : 0; }
EK_LAZY_FN void SSL_CTX_free(SSL_CTX *ctx) { if (ctx && ssl()) s.ctx_free(ctx); }
EK_LAZY_FN SSL_CTX *SSL_CTX_new(const SSL_METHOD *meth) { return ssl() ? s.ctx_new(meth) : NULL; }
EK_LAZY_FN void SSL_CTX_set_client_CA_list(SSL_CTX *ctx, STACK_OF(X509_NAME) *list) { if (ssl()) s.ctx_set_client_ca_list(ctx, list); }
EK_LAZY_FN uint64_t SSL_CTX_set_options(SSL_CTX *ctx, uint64_t op) { return ssl() ? s.ctx_set_options(ctx, op) : 0; }
EK_LAZY_FN void SSL_CTX_set_verify(SSL_CTX *ctx, int mode, SSL_verify_cb cb) { if (ssl()) s.ctx_set_verify(ctx, mode, cb); }
EK_LAZY_FN void SSL_free(SSL *h) { if (h && ssl()) s.free(h); }
EK_LAZY_FN int SSL_get_error(const SSL *h, int ret) { return ssl() ? s.get_error(h, ret) : SSL_ERROR_SSL; }
EK_LAZY_FN long SSL_get_verify_result(const SSL *h) { return ssl() ? s.get_verify_result(h) : X509_V_ERR_UNSPECIFIED; }
EK_LAZY_FN int SSL_is_init_finished(const SSL *h) { return ssl() ? s.is_init_finished(h) : 0; }
EK_LAZY_FN STACK_OF(X509_NAME) *SSL_load_client_CA_file(const char *file) { return ssl() ? s.load_client_ca_file(file) : NULL; }
EK_LAZY_FN SSL *SSL_new(SSL_CTX *ctx) { return ssl() ? s.new(ctx) : NULL; }
EK_LAZY_FN int SSL_pending(const SSL *h) { return ssl() ? s.pending(h) : 0; }
EK_LAZY_FN int SSL_read(SSL *h, void *buf, int num) { return ssl() ? s.read(h, buf, num) : -1; }
EK_LAZY_FN void SSL_set_accept_state(SSL *h) { if (ssl()) s.set_accept_state(h); }
EK_LAZY_FN int SSL_set_fd(SSL *h, int fd) { return ssl() ? s.set_fd(h, fd) : 0; }
EK_LAZY_FN int SSL_shutdown(SSL *h) { return ssl() ? s.shutdown(h) : -1; }
EK_LAZY_FN int SSL_write(SSL *h, const void *buf, int num) { return ssl() ? s.write(h, buf, num) : -1; }
EK_LAZY_FN const SSL_METHOD *TLS_server_method(void) { return ssl() ? s.tls_server_method() : NULL; }

EK_LAZY_FN int SSL_CTX_load_verify_locations(SSL_CTX *ctx, const char *cafile, const char *capath)
{
    return ssl() ? s.ctx_load_verify_locations(ctx, cafile, capath) : 0;
}

EK_LAZY_FN int SSL_CTX_set_session_id_context(SSL_CTX *ctx, const unsigned char *sid_ctx, unsigned int sid_ctx_len)
{
    return ssl() ? s.ctx_set_session_id_context(ctx, sid_ctx, sid_ctx_len) : 0;
}

EK_LAZY_FN int SSL_CTX_use_PrivateKey_file(SSL_CTX *ctx, const char *file, int type)
{
    return ssl() ? s.ctx_use_private_key_file(ctx, file, type) : 0;
}

EK_LAZY_FN int SSL_CTX_use_certificate_chain_file(SSL_CTX *ctx, const char *file)
{
    return ssl() ? s.ctx_use_certificate_chain_file(ctx, file) : 0;
}
