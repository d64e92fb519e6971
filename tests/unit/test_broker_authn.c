/* Unit tests for the broker's authentication and authorization building blocks: PBKDF2 password
 * hashes (passwd.c, checked against a hash computed by Python's hashlib), JWT verification
 * (engine/jwt.c: HS256/RS256 good, bad signature, expired, not yet valid, alg none, an alg that
 * does not fit the key), the user database (authdb.c) and the ACL's placeholders, CIDR blocks,
 * "eq" topics, filter coverage and aclNoMatch (acl.c). */
#include "broker/broker_int.h"
#include "engine/mem.h"
#include "tests/unit/test_util.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- PBKDF2 ---- */

static void test_passwd(void)
{
    /* hashlib.pbkdf2_hmac("sha256", b"password", b"0123456789abcdef", 1000), passlib's format. */
    const char *py = "$pbkdf2-sha256$1000$MDEyMzQ1Njc4OWFiY2RlZg$hRRjgXWkW8ResfIvBP99J/T4vkgEmMRV/0tJTOjR59I";
    CU_ASSERT(ek_passwd_valid(py));
    CU_ASSERT(ek_passwd_verify(py, (const uint8_t *)"password", 8));
    CU_ASSERT(!ek_passwd_verify(py, (const uint8_t *)"passwore", 8));
    CU_ASSERT(!ek_passwd_verify(py, (const uint8_t *)"password", 7));
    char h1[EK_PASSWD_MAX], h2[EK_PASSWD_MAX];
    CU_ASSERT_EQUAL(ek_passwd_hash("s3cret", 6, 1500, h1), 0);
    CU_ASSERT_EQUAL(ek_passwd_hash("s3cret", 6, 1500, h2), 0);
    CU_ASSERT_STRING_NOT_EQUAL(h1, h2); /* random salts */
    CU_ASSERT(strncmp(h1, "$pbkdf2-sha256$1500$", 20) == 0);
    CU_ASSERT(ek_passwd_verify(h1, (const uint8_t *)"s3cret", 6) && ek_passwd_verify(h2, (const uint8_t *)"s3cret", 6));
    CU_ASSERT(!ek_passwd_verify(h1, (const uint8_t *)"s3creT", 6));
    static const char *bad[] = {"", "$pbkdf2-sha256$", "$pbkdf2-sha256$0$MDEyMzQ1Njc4OWFiY2RlZg$hRRj",
                                "$pbkdf2-sha1$1000$MDEyMzQ1Njc4OWFiY2RlZg$hRRjgXWkW8ResfIvBP99J/T4vkgEmMRV/0tJTOjR59I",
                                "$pbkdf2-sha256$1000$MDEy!zQ1Njc4OWFiY2RlZg$hRRjgXWkW8ResfIvBP99J/T4vkgEmMRV/0tJTOjR59I",
                                "$pbkdf2-sha256$99999999999$MDEyMzQ1Njc4OWFiY2RlZg$hRRjgXWkW8ResfIvBP99J/T4vkgEmMRV/0tJTOjR59I",
                                "$pbkdf2-sha256$1000$MDEyMzQ1Njc4OWFiY2RlZg$hRRjgXWkW8ResfIvBP99J", NULL};
    for (int i = 0; bad[i]; i++) {
        CU_ASSERT(!ek_passwd_valid(bad[i]));
        CU_ASSERT(!ek_passwd_verify(bad[i], (const uint8_t *)"password", 8));
    }
}

/* ---- JWT ---- */

static char *b64url(const uint8_t *in, size_t len)
{
    char *out = ek_malloc(len * 4 / 3 + 8);
    int n = EVP_EncodeBlock((unsigned char *)out, in, (int)len);
    while (n > 0 && out[n - 1] == '=') n--;
    out[n] = 0;
    for (char *p = out; *p; p++) *p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
    return out;
}

/* "header.claims" for alg and the claims JSON text. */
static char *unsigned_part(const char *alg, const char *claims)
{
    char hdr[64];
    snprintf(hdr, sizeof hdr, "{\"alg\":\"%s\",\"typ\":\"JWT\"}", alg);
    char *h = b64url((const uint8_t *)hdr, strlen(hdr)), *c = b64url((const uint8_t *)claims, strlen(claims));
    char *out = ek_asprintf("%s.%s", h, c);
    ek_free(h);
    ek_free(c);
    return out;
}

static char *with_sig(char *msg, const uint8_t *sig, size_t len)
{
    char *s = b64url(sig, len), *out = ek_asprintf("%s.%s", msg, s);
    ek_free(s);
    ek_free(msg);
    return out;
}

static char *hs256(const char *claims, const char *secret)
{
    char *msg = unsigned_part("HS256", claims);
    uint8_t mac[32];
    unsigned n = 0;
    HMAC(EVP_sha256(), secret, (int)strlen(secret), (const uint8_t *)msg, strlen(msg), mac, &n);
    return with_sig(msg, mac, n);
}

static char *rs256(const char *claims, EVP_PKEY *key)
{
    char *msg = unsigned_part("RS256", claims);
    uint8_t sig[512];
    size_t n = sizeof sig;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key);
    EVP_DigestSign(ctx, sig, &n, (const uint8_t *)msg, strlen(msg));
    EVP_MD_CTX_free(ctx);
    return with_sig(msg, sig, n);
}

/* Verifies token against key at now; returns the result and frees token. */
static int verify(char *token, const ek_jwt_key *key, int64_t now, char *why)
{
    int rc = ek_jwt_verify(token, strlen(token), key, now, NULL, why, 128);
    ek_free(token);
    return rc;
}

static void test_jwt_hmac(void)
{
    const char *secret = "emqxsecret";
    ek_jwt_key key = {(const uint8_t *)secret, strlen(secret), NULL};
    char why[128];
    int64_t now = 1700000000;
    char *tok = hs256("{\"sub\":\"dev1\",\"exp\":1700000600}", secret);
    ek_value claims;
    CU_ASSERT_EQUAL_FATAL(ek_jwt_verify(tok, strlen(tok), &key, now, &claims, why, sizeof why), 0);
    CU_ASSERT_STRING_EQUAL(ek_str_ptr(ek_object_get(&claims, "sub")), "dev1");
    ek_value_unref(&claims);
    tok[strlen(tok) - 2] = tok[strlen(tok) - 2] == 'A' ? 'B' : 'A';
    CU_ASSERT_EQUAL(verify(tok, &key, now, why), EK_EAUTH);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "signature"));
    CU_ASSERT_EQUAL(verify(hs256("{\"exp\":1700000600}", "other"), &key, now, why), EK_EAUTH);
    CU_ASSERT_EQUAL(verify(hs256("{\"exp\":1699999999}", secret), &key, now, why), EK_EAUTH);
    CU_ASSERT_STRING_EQUAL(why, "the token has expired");
    CU_ASSERT_EQUAL(verify(hs256("{\"exp\":1700000000}", secret), &key, now, why), EK_EAUTH); /* exp == now */
    CU_ASSERT_EQUAL(verify(hs256("{\"nbf\":1700000100}", secret), &key, now, why), EK_EAUTH);
    CU_ASSERT_STRING_EQUAL(why, "the token is not valid yet");
    CU_ASSERT_EQUAL(verify(hs256("{\"nbf\":1699999000}", secret), &key, now, why), 0);
    CU_ASSERT_EQUAL(verify(hs256("{\"exp\":\"1800000000\"}", secret), &key, now, why), EK_EAUTH);
    /* alg none, with and without a signature part. */
    char *none = unsigned_part("none", "{\"exp\":1700000600}");
    char *t1 = ek_asprintf("%s.", none), *t2 = ek_asprintf("%s.c2ln", none);
    ek_free(none);
    CU_ASSERT_EQUAL(verify(t1, &key, now, why), EK_EAUTH);
    CU_ASSERT_EQUAL(verify(t2, &key, now, why), EK_EAUTH);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "alg none"));
    static const char *junk[] = {"", "a.b", "a.b.c.d", "!!!.???.***", "e30.e30.", NULL};
    for (int i = 0; junk[i]; i++) CU_ASSERT_EQUAL(ek_jwt_verify(junk[i], strlen(junk[i]), &key, now, NULL, why, 128), EK_EAUTH);
}

static void test_jwt_rsa(void)
{
    EVP_PKEY *priv = EVP_RSA_gen(2048);
    CU_ASSERT_PTR_NOT_NULL_FATAL(priv);
    ek_jwt_key key = {NULL, 0, priv}, hkey = {(const uint8_t *)"k", 1, NULL};
    char why[128];
    int64_t now = 1700000000;
    CU_ASSERT_EQUAL(verify(rs256("{\"exp\":1700000600}", priv), &key, now, why), 0);
    CU_ASSERT_EQUAL(verify(rs256("{\"exp\":1600000000}", priv), &key, now, why), EK_EAUTH);
    /* An HS256 token offered where only a public key is configured, and the reverse. */
    CU_ASSERT_EQUAL(verify(hs256("{\"exp\":1700000600}", "k"), &key, now, why), EK_EAUTH);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "HS256"));
    CU_ASSERT_EQUAL(verify(rs256("{\"exp\":1700000600}", priv), &hkey, now, why), EK_EAUTH);
    /* Signed by another key. */
    EVP_PKEY *other = EVP_RSA_gen(2048);
    CU_ASSERT_EQUAL(verify(rs256("{\"exp\":1700000600}", other), &key, now, why), EK_EAUTH);
    EVP_PKEY_free(other);
    EVP_PKEY_free(priv);
}

/* ---- the user database ---- */

static void test_authdb(void)
{
    char dir[] = "/tmp/ek-authdb-XXXXXX";
    CU_ASSERT_PTR_NOT_NULL_FATAL(ek_test_mkdtemp(dir));
    ek_authdb *db = NULL;
    ek_err err = {0};
    CU_ASSERT_EQUAL_FATAL(ek_authdb_open(dir, &db, &err), 0);
    CU_ASSERT(!ek_authdb_has_users(db));
    CU_ASSERT_EQUAL(ek_authdb_user_put(db, "alice", "pw", 1, 1000, false, &err), 0);
    CU_ASSERT_EQUAL(ek_authdb_user_put(db, "alice", "pw", 0, 1000, false, &err), EK_EEXIST);
    CU_ASSERT_EQUAL(ek_authdb_user_put(db, "bob", "pw", -1, 1000, true, &err), EK_ENOTFOUND);
    CU_ASSERT(ek_authdb_has_users(db));
    char hash[EK_PASSWD_MAX];
    bool su = false;
    CU_ASSERT_EQUAL(ek_authdb_user_get(db, "alice", hash, &su), 1);
    CU_ASSERT(su && ek_passwd_verify(hash, (const uint8_t *)"pw", 2));
    CU_ASSERT_EQUAL(ek_authdb_user_put(db, "alice", "pw2", -1, 1000, true, &err), 0); /* keeps superuser */
    CU_ASSERT_EQUAL(ek_authdb_user_get(db, "alice", hash, &su), 1);
    CU_ASSERT(su && ek_passwd_verify(hash, (const uint8_t *)"pw2", 3));
    CU_ASSERT_EQUAL(ek_authdb_user_get(db, "nobody", hash, &su), 0);
    CU_ASSERT_EQUAL(ek_authdb_ban_put(db, "clientid", "c1", "why", "test", 100, 0, &err), 0);
    CU_ASSERT_EQUAL(ek_authdb_ban_put(db, "peerhost", "10.0.0.1", NULL, NULL, 100, 200, &err), 0);
    CU_ASSERT_EQUAL(ek_authdb_ban_put(db, "ip", "x", NULL, NULL, 100, 0, &err), EK_EINVAL);
    CU_ASSERT(ek_authdb_banned(db, "c1", NULL, NULL, 150));
    CU_ASSERT(ek_authdb_banned(db, "c2", "u", "10.0.0.1", 150));
    CU_ASSERT(!ek_authdb_banned(db, "c2", "u", "10.0.0.1", 200)); /* expired at until */
    CU_ASSERT(!ek_authdb_banned(db, "c2", "c1", "10.0.0.2", 150)); /* a user named c1 is not client c1 */
    ek_value list;
    CU_ASSERT_EQUAL(ek_authdb_ban_list(db, 300, &list, &err), 0);
    CU_ASSERT_EQUAL(ek_array_len(&list), 1);
    ek_value_unref(&list);
    CU_ASSERT_EQUAL(ek_authdb_ban_del(db, "clientid", "c1", &err), 0);
    CU_ASSERT_EQUAL(ek_authdb_ban_del(db, "clientid", "c1", &err), EK_ENOTFOUND);
    CU_ASSERT_EQUAL(ek_authdb_user_del(db, "alice", &err), 0);
    CU_ASSERT(!ek_authdb_has_users(db));
    ek_authdb_close(db);
    char *cmd = ek_asprintf("rm -rf %s", dir);
    CU_ASSERT_EQUAL(system(cmd), 0);
    ek_free(cmd);
}

/* ---- ACL ---- */

static ek_value rule(const char *perm, const char *action, const char *topic, const char *ip)
{
    ek_value r = ek_object_new(4);
    ek_object_set(&r, "permission", ek_string(perm));
    ek_object_set(&r, "action", ek_string(action));
    ek_object_set(&r, "topic", ek_string(topic));
    if (ip) ek_object_set(&r, "ipaddress", ek_string(ip));
    return r;
}

static void test_acl_placeholders(void)
{
    ek_value sec = ek_object_new(2), list = ek_array_new(5);
    ek_array_push(&list, rule("deny", "subscribe", "eq #", NULL));
    ek_array_push(&list, rule("allow", "all", "devices/%u/%c/#", NULL));
    ek_array_push(&list, rule("allow", "publish", "lan/#", "192.168.1.0/24"));
    ek_array_push(&list, rule("allow", "subscribe", "up/+/x", NULL));
    ek_object_set(&sec, "acl", list);
    ek_object_set(&sec, "aclNoMatch", ek_string("deny"));
    broker__cfg c;
    ek_err err = {0};
    CU_ASSERT_EQUAL_FATAL(broker__cfg_load(&c, &sec, &err), 0);
    ek_broker b = {.cfg = c};
    broker__session s1 = {.id = "c1"}, plus = {.id = "+"};
    broker__conn u1 = {.s = &s1, .username = "u1", .peer_ip = 0xC0A80105 /* 192.168.1.5 */};
    broker__conn anon = {.s = &s1, .peer_ip = 0xC0A80205};
    broker__conn wild = {.s = &plus, .username = "#"}, slash = {.s = &s1, .username = "a/b"};
    broker__conn root = {.s = &s1, .username = "x", .superuser = true};
    CU_ASSERT(broker__acl_allow(&b, &u1, BROKER_ACL_PUB, "devices/u1/c1/temp"));
    CU_ASSERT(broker__acl_allow(&b, &u1, BROKER_ACL_SUB, "devices/u1/c1/#"));
    CU_ASSERT(broker__acl_allow(&b, &u1, BROKER_ACL_SUB, "devices/u1/c1/+/t"));
    CU_ASSERT(!broker__acl_allow(&b, &u1, BROKER_ACL_SUB, "devices/u1/+/#"));
    CU_ASSERT(!broker__acl_allow(&b, &u1, BROKER_ACL_PUB, "devices/u2/c1/temp"));
    CU_ASSERT(!broker__acl_allow(&b, &anon, BROKER_ACL_PUB, "devices//c1/temp")); /* no user name: no match */
    CU_ASSERT(!broker__acl_allow(&b, &wild, BROKER_ACL_SUB, "devices/#"));
    CU_ASSERT(!broker__acl_allow(&b, &wild, BROKER_ACL_SUB, "devices/#/+/#"));
    CU_ASSERT(!broker__acl_allow(&b, &slash, BROKER_ACL_PUB, "devices/a/b/c1/x"));
    CU_ASSERT(broker__acl_allow(&b, &u1, BROKER_ACL_PUB, "lan/x"));     /* 192.168.1.5 */
    CU_ASSERT(!broker__acl_allow(&b, &anon, BROKER_ACL_PUB, "lan/x"));  /* 192.168.2.5 */
    CU_ASSERT(!broker__acl_allow(&b, &u1, BROKER_ACL_SUB, "#"));        /* eq # */
    CU_ASSERT(!broker__acl_allow(&b, &u1, BROKER_ACL_SUB, "other"));    /* aclNoMatch: deny */
    CU_ASSERT(broker__acl_allow(&b, &u1, BROKER_ACL_SUB, "up/+/x"));
    CU_ASSERT(broker__acl_allow(&b, &u1, BROKER_ACL_SUB, "up/a/x"));
    CU_ASSERT(!broker__acl_allow(&b, &u1, BROKER_ACL_SUB, "up/#"));
    CU_ASSERT(broker__acl_allow(&b, &root, BROKER_ACL_SUB, "#"));       /* superuser */
    broker__cfg_free(&c);
    ek_value_unref(&sec);

    static const char *bad_ip[] = {"10.0.0.0/33", "10.0.0", "host", "10.0.0.1/x", NULL};
    for (int i = 0; bad_ip[i]; i++) {
        sec = ek_object_new(1);
        list = ek_array_new(1);
        ek_array_push(&list, rule("allow", "all", "a", bad_ip[i]));
        ek_object_set(&sec, "acl", list);
        CU_ASSERT_EQUAL(broker__cfg_load(&c, &sec, &err), EK_ECONF);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "broker.acl[0].ipaddress"));
        broker__cfg_free(&c);
        ek_value_unref(&sec);
    }
}

static void test_filter_covers(void)
{
    static const struct { const char *rule, *filter; bool covers; } t[] = {
        {"#", "a/b", true},        {"#", "#", true},         {"#", "$SYS/x", false},   {"a/#", "a", true},
        {"a/#", "a/+/c", true},    {"a/+", "a/+", true},     {"a/+", "a/#", false},    {"a/+/c", "a/b/c", true},
        {"a/b", "a/+", false},     {"+/b", "a/b", true},     {"+", "$x", false},       {"a/b/c", "a/b", false},
        {"a/b", "a/b/c", false},   {"a/+/#", "a/b", true},   {"a/+/#", "a", false},    {"$SYS/#", "$SYS/a", true},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        CU_ASSERT_EQUAL(broker__filter_covers(t[i].rule, t[i].filter), t[i].covers);
        if (broker__filter_covers(t[i].rule, t[i].filter) != t[i].covers)
            fprintf(stderr, "covers(%s, %s) != %d\n", t[i].rule, t[i].filter, t[i].covers);
    }
}

void ek_register_tests(void)
{
    static const ek_test_case cases[] = {
        {"PBKDF2 hashes", test_passwd},
        {"JWT with HMAC", test_jwt_hmac},
        {"JWT with RSA", test_jwt_rsa},
        {"user and ban database", test_authdb},
        {"ACL placeholders, CIDR, eq, aclNoMatch", test_acl_placeholders},
        {"filter coverage", test_filter_covers},
        {NULL, NULL},
    };
    ek_add_suite("broker_authn", cases);
}
