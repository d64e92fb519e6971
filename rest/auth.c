/* REST authentication as eKuiper does it when basic.authentication is true: every request carries
 * "Authorization: <JWT>" (a "Bearer " prefix is accepted too), signed RS256 with the private key
 * whose public half is etc/mgmt/<iss>, with "eKuiper" in aud and an exp in the future. Anything
 * else is answered 401 before routing. GET /ping stays open for health checks. Verification uses OpenSSL; no JWT code is hand-rolled
 * beyond splitting the three base64url parts. */
#include "engine/codec_json.h"
#include "engine/mem.h"
#include "rest/rest_int.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Decodes base64url (no padding) into a fresh buffer; returns its length or -1. */
static long b64url_decode(const char *in, size_t len, unsigned char **out)
{
    size_t padded = (len + 3) / 4 * 4;
    char *tmp = ek_malloc(padded + 1);
    for (size_t i = 0; i < len; i++) tmp[i] = in[i] == '-' ? '+' : in[i] == '_' ? '/' : in[i];
    for (size_t i = len; i < padded; i++) tmp[i] = '=';
    tmp[padded] = '\0';
    unsigned char *buf = ek_malloc(padded / 4 * 3 + 1);
    int n = EVP_DecodeBlock(buf, (unsigned char *)tmp, (int)padded);
    ek_free(tmp);
    if (n < 0) {
        ek_free(buf);
        return -1;
    }
    n -= (int)(padded - len); /* EVP_DecodeBlock counts the padding as zero bytes */
    *out = buf;
    return n;
}

static int decode_json_part(const char *p, size_t len, ek_value *out)
{
    unsigned char *raw = NULL;
    long n = b64url_decode(p, len, &raw);
    if (n < 0) return -1;
    int rc = ek_json_decode((char *)raw, (size_t)n, 0, out, NULL);
    ek_free(raw);
    return rc == 0 && out->type == EK_T_OBJECT ? 0 : -1;
}

static bool aud_ok(const ek_value *aud)
{
    if (!aud) return false;
    if (aud->type == EK_T_STRING) return strcmp(ek_str_ptr(aud), "eKuiper") == 0;
    if (aud->type != EK_T_ARRAY) return false;
    for (size_t i = 0; i < ek_array_len(aud); i++) {
        const ek_value *a = ek_array_get(aud, i);
        if (a->type == EK_T_STRING && strcmp(ek_str_ptr(a), "eKuiper") == 0) return true;
    }
    return false;
}

static bool signature_ok(const char *keypath, const char *signed_part, size_t signed_len, const char *sig_b64,
                         size_t sig_len)
{
    FILE *f = fopen(keypath, "r");
    if (!f) return false;
    EVP_PKEY *key = PEM_read_PUBKEY(f, NULL, NULL, NULL);
    fclose(f);
    if (!key) return false;
    unsigned char *sig = NULL;
    long n = b64url_decode(sig_b64, sig_len, &sig);
    bool ok = false;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (n > 0 && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1)
        ok = EVP_DigestVerify(md, sig, (size_t)n, (const unsigned char *)signed_part, signed_len) == 1;
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(key);
    ek_free(sig);
    return ok;
}

/* Checks the token; on failure writes why into msg. */
static bool token_ok(const ek_app *app, const char *token, char *msg, size_t cap)
{
    const char *d1 = strchr(token, '.');
    const char *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    if (!d1 || !d2) {
        snprintf(msg, cap, "the token is not a JWT");
        return false;
    }
    ek_value header = ek_null(), claims = ek_null();
    bool ok = false;
    if (decode_json_part(token, (size_t)(d1 - token), &header) || decode_json_part(d1 + 1, (size_t)(d2 - d1 - 1), &claims)) {
        snprintf(msg, cap, "the token's header or claims are not valid base64url JSON");
        goto out;
    }
    const ek_value *alg = ek_object_get(&header, "alg");
    if (!alg || alg->type != EK_T_STRING || strcmp(ek_str_ptr(alg), "RS256") != 0) {
        snprintf(msg, cap, "the token must be signed with RS256");
        goto out;
    }
    const ek_value *iss = ek_object_get(&claims, "iss");
    if (!iss || iss->type != EK_T_STRING || strchr(ek_str_ptr(iss), '/') || ek_str_ptr(iss)[0] == '.') {
        snprintf(msg, cap, "the token's iss must name a public key file in etc/mgmt");
        goto out;
    }
    if (!aud_ok(ek_object_get(&claims, "aud"))) {
        snprintf(msg, cap, "the token's aud must be \"eKuiper\"");
        goto out;
    }
    const ek_value *exp = ek_object_get(&claims, "exp");
    double e = 0;
    if (exp && ek_value_as_double(exp, &e) && e < (double)time(NULL)) {
        snprintf(msg, cap, "the token has expired");
        goto out;
    }
    char *keypath = ek_asprintf("%s/mgmt/%s", app->etc_dir, ek_str_ptr(iss));
    ok = signature_ok(keypath, token, (size_t)(d2 - token), d2 + 1, strlen(d2 + 1));
    if (!ok) snprintf(msg, cap, "the token's signature does not verify with etc/mgmt/%s", ek_str_ptr(iss));
    ek_free(keypath);
out:
    ek_value_unref(&header);
    ek_value_unref(&claims);
    return ok;
}

bool rest__authorized(const rest_req *req, rest_resp *resp)
{
    if (!req->app->config || !ek_config_bool(req->app->config, "basic.authentication")) return true;
    /* Health checks (docker, load balancers) carry no token. */
    if (strcmp(req->path, "/ping") == 0) return true;
    const char *h = rest__header(req, "Authorization");
    if (!h || !*h) {
        rest__error(resp, 401, 1000, "authentication is required: send \"Authorization: <JWT>\"");
        return false;
    }
    if (strncmp(h, "Bearer ", 7) == 0) h += 7;
    char msg[160];
    if (!token_ok(req->app, h, msg, sizeof msg)) {
        rest__error(resp, 401, 1000, "unauthorized: %s", msg);
        return false;
    }
    return true;
}
