/* Hashing SQL functions (eKuiper docs: sqls/functions/hashing_functions.md).
 * Each hashes the string form of its argument and returns lower-case hex, as eKuiper does
 * (crc32 prints without leading zeros, like Go's %x). The digests come from OpenSSL's EVP interface
 * and crc32 from zlib: no hash is written by hand here. */
#include "sql/func_int.h"
#include "engine/lazy_lib.h"
#include "engine/mem.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <zlib.h>

static int digest(const char *fn, const EVP_MD *md, const ek_value *a, ek_value *o, ek_err *e)
{
    if (a[0].type == EK_T_NULL) { *o = ek_null(); return 0; }
    ek_buf b = EK_BUF_INIT;
    func__append_str(&a[0], &b);
    unsigned char raw[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    int ok = EVP_Digest(b.data ? b.data : "", b.len, raw, &len, md, NULL);
    ek_buf_free(&b);
    if (!ok) return ek_err_set(e, EK_EEXEC, "%s: digest failed", fn);
    ek_str *r = ek_str_new(len * 2);
    for (unsigned int i = 0; i < len; i++) {
        r->data[2 * i] = "0123456789abcdef"[raw[i] >> 4];
        r->data[2 * i + 1] = "0123456789abcdef"[raw[i] & 15];
    }
    *o = ek_string_take(r);
    return 0;
}

static int f_md5(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return digest("md5", EVP_md5(), a, o, e); }
static int f_sha1(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return digest("sha1", EVP_sha1(), a, o, e); }
static int f_sha224(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return digest("sha224", EVP_sha224(), a, o, e); }
static int f_sha256(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return digest("sha256", EVP_sha256(), a, o, e); }
static int f_sha384(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return digest("sha384", EVP_sha384(), a, o, e); }
static int f_sha512(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return digest("sha512", EVP_sha512(), a, o, e); }

static int f_crc32(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    if (a[0].type == EK_T_NULL) { *o = ek_null(); return 0; }
    if (!ek_zlib_ready()) return ek_err_set(e, EK_EEXEC, "crc32: zlib (libz.so.1) is not available");
    ek_buf b = EK_BUF_INIT;
    func__append_str(&a[0], &b);
    uLong crc = crc32(0L, Z_NULL, 0);
    crc = crc32(crc, (const Bytef *)(b.data ? b.data : ""), (uInt)b.len);
    ek_buf_free(&b);
    *o = ek_string_fmt("%lx", (unsigned long)crc);
    return 0;
}

const ek_func_def ek_funcs_hash[] = {
    {"crc32", EK_FUNC_SCALAR, 1, 1, f_crc32, NULL, true},
    {"md5", EK_FUNC_SCALAR, 1, 1, f_md5, NULL, true},
    {"sha1", EK_FUNC_SCALAR, 1, 1, f_sha1, NULL, true},
    {"sha224", EK_FUNC_SCALAR, 1, 1, f_sha224, NULL, true},
    {"sha256", EK_FUNC_SCALAR, 1, 1, f_sha256, NULL, true},
    {"sha384", EK_FUNC_SCALAR, 1, 1, f_sha384, NULL, true},
    {"sha512", EK_FUNC_SCALAR, 1, 1, f_sha512, NULL, true},
    {NULL, 0, 0, 0, NULL, NULL, false},
};
