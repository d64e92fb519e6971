/* Conversion and transform SQL functions (eKuiper docs: sqls/functions/transform_functions.md, plus
 * to_json and parse_json from json_functions.md).
 * cast() follows eKuiper's lenient conversions (a string "12" becomes the bigint 12, a number is
 * milliseconds when it becomes a datetime). Base64 goes through OpenSSL, compression through zlib
 * and libzstd, JSON through the one codec in engine/codec_json.c: nothing here re-implements them. */
#include "sql/func_int.h"
#include "engine/codec_json.h"
#include "engine/base64.h"
#include "engine/mem.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>
#include <zstd.h>

/* Decompressed output is bounded so one small message cannot expand into the box's whole memory. */
#define INFLATE_MAX (64 * 1024 * 1024)

/* ---- cast ---- */

static const char *const cast_types[] = {"bigint", "float", "string", "boolean", "datetime", "bytea"};
enum { C_BIGINT, C_FLOAT, C_STRING, C_BOOLEAN, C_DATETIME, C_BYTEA, C_COUNT };

static int cast_kind(const ek_value *v)
{
    if (v->type != EK_T_STRING) return -1;
    for (int i = 0; i < C_COUNT; i++)
        if (strcasecmp(ek_str_ptr(v), cast_types[i]) == 0) return i;
    return -1;
}

static int cast_check(const ek_func_arg_info *args, int nargs, ek_err *err)
{
    if (nargs == 2 && args[1].is_const && cast_kind(&args[1].value) < 0)
        return ek_err_set(err, EK_EPLAN, "cast: argument 2 must be one of bigint, float, string, boolean, datetime, bytea");
    return 0;
}

static bool parse_number(const char *s, bool want_int, ek_value *out)
{
    while (isspace((unsigned char)*s)) s++;
    if (!*s) return false;
    char *end;
    errno = 0;
    long long i = strtoll(s, &end, 10);
    if (!*end && errno == 0) { *out = want_int ? ek_int(i) : ek_float((double)i); return true; }
    double f = strtod(s, &end);
    if (*end || errno) return false;
    if (want_int) {
        if (!isfinite(f) || fabs(f) > 9.2e18) return false;
        *out = ek_int((int64_t)f);
    } else {
        *out = ek_float(f);
    }
    return true;
}

static int cast_to_number(const ek_value *v, bool want_int, ek_value *o, ek_err *e)
{
    switch (v->type) {
    case EK_T_INT: *o = want_int ? ek_int(v->i) : ek_float((double)v->i); return 0;
    case EK_T_FLOAT:
        if (!want_int) { *o = ek_float(v->f); return 0; }
        if (!isfinite(v->f) || fabs(v->f) > 9.2e18) break;
        *o = ek_int((int64_t)v->f);
        return 0;
    case EK_T_BOOL: *o = want_int ? ek_int(v->b) : ek_float(v->b); return 0;
    case EK_T_DATETIME: *o = want_int ? ek_int(v->t / EK_NS_PER_MS) : ek_float((double)(v->t / EK_NS_PER_MS)); return 0;
    case EK_T_STRING:
        if (parse_number(ek_str_ptr(v), want_int, o)) return 0;
        return ek_err_set(e, EK_EINVAL, "cast: cannot convert string \"%s\" to %s", ek_str_ptr(v), want_int ? "bigint" : "float");
    default: break;
    }
    return ek_err_set(e, EK_ETYPE, "cast: cannot convert %s to %s", ek_type_name(v->type), want_int ? "bigint" : "float");
}

static int cast_to_bool(const ek_value *v, ek_value *o, ek_err *e)
{
    static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
    static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};
    switch (v->type) {
    case EK_T_BOOL: *o = *v; return 0;
    case EK_T_INT: *o = ek_bool(v->i != 0); return 0;
    case EK_T_FLOAT: *o = ek_bool(v->f != 0); return 0;
    case EK_T_STRING:
        for (size_t i = 0; i < 6; i++) {
            if (strcmp(ek_str_ptr(v), yes[i]) == 0) { *o = ek_bool(true); return 0; }
            if (strcmp(ek_str_ptr(v), no[i]) == 0) { *o = ek_bool(false); return 0; }
        }
        return ek_err_set(e, EK_EINVAL, "cast: cannot convert string \"%s\" to boolean", ek_str_ptr(v));
    default: return ek_err_set(e, EK_ETYPE, "cast: cannot convert %s to boolean", ek_type_name(v->type));
    }
}

/* Base64 decoding (standard alphabet, padded); returns false on malformed input. */
static bool b64_decode(const char *s, size_t len, ek_value *out)
{
    uint8_t *buf = ek_malloc(ek_base64_decoded_max(len) + 1);
    long n = ek_base64_decode(s, len, EK_B64_STD, buf);
    if (n >= 0) *out = ek_bytes(buf, (size_t)n);
    ek_free(buf);
    return n >= 0;
}

static ek_value b64_encode(const char *s, size_t len)
{
    ek_str *r = ek_str_new((len + 2) / 3 * 4);
    EVP_EncodeBlock((unsigned char *)r->data, (const unsigned char *)s, (int)len);
    return ek_string_take(r);
}

static int f_cast(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    int kind = cast_kind(&a[1]);
    if (kind < 0) return ek_err_set(e, EK_EINVAL, "cast: argument 2 must be one of bigint, float, string, boolean, datetime, bytea");
    const ek_value *v = &a[0];
    if (v->type == EK_T_NULL) { *o = ek_null(); return 0; }
    switch (kind) {
    case C_BIGINT: return cast_to_number(v, true, o, e);
    case C_FLOAT: return cast_to_number(v, false, o, e);
    case C_BOOLEAN: return cast_to_bool(v, o, e);
    case C_STRING: {
        ek_buf b = EK_BUF_INIT;
        if (v->type == EK_T_DATETIME) {
            /* eKuiper's default datetime text, 2006-01-02T15:04:05.000Z07:00, in UTC. */
            int rc = func__format_time("cast", v->t, "yyyy-MM-ddTHH:mm:ssSSS", &b, e);
            if (rc) { ek_buf_free(&b); return rc; }
            ek_buf_putc(&b, 'Z');
        } else {
            func__append_str(v, &b);
        }
        *o = ek_string_n(b.data ? b.data : "", b.len);
        ek_buf_free(&b);
        return 0;
    }
    case C_DATETIME: {
        int64_t ns;
        if (func__arg_time("cast", a, 0, &ns, e)) return e->code;
        *o = ek_datetime(ns);
        return 0;
    }
    default: /* C_BYTEA */
        if (v->type == EK_T_BYTES) { *o = ek_value_ref(v); return 0; }
        if (v->type != EK_T_STRING) return ek_err_set(e, EK_ETYPE, "cast: cannot convert %s to bytea", ek_type_name(v->type));
        if (!b64_decode(ek_str_ptr(v), ek_str_len(v), o)) *o = ek_bytes(ek_str_ptr(v), ek_str_len(v));
        return 0;
    }
}

/* ---- encode / decode ---- */

static int want_base64(const char *fn, const ek_value *a, ek_err *e)
{
    if (a[1].type != EK_T_STRING) return func__type_err(e, fn, 1, "a string", &a[1]);
    if (strcasecmp(ek_str_ptr(&a[1]), "base64") != 0)
        return ek_err_set(e, EK_EINVAL, "%s: only base64 is supported, got \"%s\"", fn, ek_str_ptr(&a[1]));
    return 0;
}

static int f_encode(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    const char *s;
    size_t len;
    if (func__any_null(a, 2)) { *o = ek_null(); return 0; }
    if (want_base64("encode", a, e) || func__arg_str("encode", a, 0, &s, &len, e)) return e->code;
    *o = b64_encode(s, len);
    return 0;
}

static int f_decode(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    if (func__any_null(a, 2)) { *o = ek_null(); return 0; }
    if (want_base64("decode", a, e)) return e->code;
    if (a[0].type != EK_T_STRING) return func__type_err(e, "decode", 0, "a string", &a[0]);
    if (!b64_decode(ek_str_ptr(&a[0]), ek_str_len(&a[0]), o))
        return ek_err_set(e, EK_EINVAL, "decode: fail to decode base64 string");
    return 0;
}

static const char *const base64_only[] = {"base64", NULL};

static int encode_check(const ek_func_arg_info *args, int nargs, ek_err *err) { return func__check_word("encode", args, nargs, 1, base64_only, err); }
static int decode_check(const ek_func_arg_info *args, int nargs, ek_err *err) { return func__check_word("decode", args, nargs, 1, base64_only, err); }

/* ---- compress / decompress ---- */

typedef enum { Z_ZLIB, Z_GZIP, Z_FLATE, Z_ZSTD } zmethod;
static const char *const zmethods[] = {"zlib", "gzip", "flate", "zstd", NULL};

static int compress_check(const ek_func_arg_info *args, int nargs, ek_err *err) { return func__check_word("compress", args, nargs, 1, zmethods, err); }
static int decompress_check(const ek_func_arg_info *args, int nargs, ek_err *err) { return func__check_word("decompress", args, nargs, 1, zmethods, err); }

static int method_of(const char *fn, const ek_value *a, zmethod *m, ek_err *e)
{
    if (a[1].type != EK_T_STRING) return func__type_err(e, fn, 1, "a string", &a[1]);
    for (int i = 0; i < 4; i++)
        if (strcasecmp(ek_str_ptr(&a[1]), zmethods[i]) == 0) { *m = (zmethod)i; return 0; }
    return ek_err_set(e, EK_EINVAL, "%s: unsupported compression method \"%s\" (zlib, gzip, flate or zstd)", fn, ek_str_ptr(&a[1]));
}

static int window_bits(zmethod m) { return m == Z_ZLIB ? 15 : m == Z_GZIP ? 15 + 16 : -15; }

static int f_compress(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    const char *s;
    size_t len;
    zmethod m;
    if (a[0].type == EK_T_NULL) { *o = ek_null(); return 0; }
    if (func__arg_str("compress", a, 0, &s, &len, e) || method_of("compress", a, &m, e)) return e->code;
    if (m == Z_ZSTD) {
        size_t cap = ZSTD_compressBound(len);
        char *buf = ek_malloc(cap);
        size_t got = ZSTD_compress(buf, cap, s, len, 3);
        if (ZSTD_isError(got)) { ek_free(buf); return ek_err_set(e, EK_EEXEC, "compress: %s", ZSTD_getErrorName(got)); }
        *o = ek_bytes(buf, got);
        ek_free(buf);
        return 0;
    }
    z_stream zs = {0};
    if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, window_bits(m), 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return ek_err_set(e, EK_EEXEC, "compress: cannot initialise %s", zmethods[m]);
    size_t cap = deflateBound(&zs, (uLong)len);
    unsigned char *buf = ek_malloc(cap);
    zs.next_in = (Bytef *)s;
    zs.avail_in = (uInt)len;
    zs.next_out = buf;
    zs.avail_out = (uInt)cap;
    int rc = deflate(&zs, Z_FINISH);
    size_t got = zs.total_out;
    deflateEnd(&zs);
    if (rc != Z_STREAM_END) { ek_free(buf); return ek_err_set(e, EK_EEXEC, "compress: %s failed", zmethods[m]); }
    *o = ek_bytes(buf, got);
    ek_free(buf);
    return 0;
}

static int inflate_z(zmethod m, const char *s, size_t len, ek_buf *out)
{
    z_stream zs = {0};
    if (inflateInit2(&zs, window_bits(m)) != Z_OK) return -1;
    zs.next_in = (Bytef *)s;
    zs.avail_in = (uInt)len;
    int rc;
    do {
        ek_buf_reserve(out, 16384);
        zs.next_out = (Bytef *)out->data + out->len;
        zs.avail_out = 16384;
        rc = inflate(&zs, Z_NO_FLUSH);
        out->len = zs.total_out;
        if (out->len > INFLATE_MAX) rc = Z_MEM_ERROR;
    } while (rc == Z_OK);
    inflateEnd(&zs);
    return rc == Z_STREAM_END ? 0 : -1;
}

static int inflate_zstd(const char *s, size_t len, ek_buf *out)
{
    ZSTD_DStream *ds = ZSTD_createDStream();
    ZSTD_inBuffer in = {s, len, 0};
    size_t rc = 1;
    while (in.pos < in.size && !ZSTD_isError(rc)) {
        ek_buf_reserve(out, 16384);
        ZSTD_outBuffer ob = {out->data + out->len, 16384, 0};
        rc = ZSTD_decompressStream(ds, &ob, &in);
        out->len += ob.pos;
        if (out->len > INFLATE_MAX) break;
        if (rc == 0 && in.pos == in.size) break;
        if (ob.pos == 0 && !ZSTD_isError(rc) && in.pos == in.size) break;
    }
    ZSTD_freeDStream(ds);
    return ZSTD_isError(rc) || rc != 0 || out->len > INFLATE_MAX ? -1 : 0;
}

static int f_decompress(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    const char *s;
    size_t len;
    zmethod m;
    if (a[0].type == EK_T_NULL) { *o = ek_null(); return 0; }
    if (func__arg_str("decompress", a, 0, &s, &len, e) || method_of("decompress", a, &m, e)) return e->code;
    ek_buf b = EK_BUF_INIT;
    int rc = m == Z_ZSTD ? inflate_zstd(s, len, &b) : inflate_z(m, s, len, &b);
    if (rc == 0) *o = ek_bytes(b.data ? b.data : "", b.len);
    ek_buf_free(&b);
    if (rc) return ek_err_set(e, EK_EINVAL, "decompress: the input is not valid %s data (or exceeds %d bytes)", zmethods[m], INFLATE_MAX);
    return 0;
}

/* ---- numbers and characters ---- */

/* trunc(x, n): cut to n decimals (n clamped to 0..34), towards zero. */
static int f_trunc(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    double x;
    int64_t d;
    if (func__any_null(a, 2)) { *o = ek_null(); return 0; }
    if (func__arg_double("trunc", a, 0, &x, e) || func__arg_int("trunc", a, 1, &d, e)) return e->code;
    if (d < 0) d = 0;
    if (d > 34) d = 34;
    double f = pow(10, (double)d), scaled = x * f;
    *o = ek_float(isinf(scaled) ? x : trunc(scaled) / f);
    return 0;
}

static int f_chr(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    int64_t cp;
    if (a[0].type == EK_T_NULL) { *o = ek_null(); return 0; }
    if (a[0].type == EK_T_STRING) {
        if (ek_str_len(&a[0]) > 1) return ek_err_set(e, EK_EINVAL, "chr: parameter length cannot be larger than 1");
        *o = ek_value_ref(&a[0]);
        return 0;
    }
    if (a[0].type == EK_T_FLOAT && fabs(a[0].f) < 2e6) cp = (int64_t)a[0].f;
    else if (func__arg_int("chr", a, 0, &cp, e)) return e->code;
    if (cp < 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return ek_err_set(e, EK_EINVAL, "chr: %lld is not a valid character code", (long long)cp);
    char buf[4];
    size_t k = func__utf8_encode((uint32_t)cp, buf);
    *o = ek_string_n(buf, k);
    return 0;
}

static int f_hex2dec(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    if (a[0].type == EK_T_NULL) { *o = ek_null(); return 0; }
    if (a[0].type != EK_T_STRING) return func__type_err(e, "hex2dec", 0, "a hex string", &a[0]);
    const char *s = ek_str_ptr(&a[0]);
    if (strncmp(s, "0x", 2) == 0) s += 2;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 16);
    if (!*s || *end || errno || *s == ' ' || *s == '+')
        return ek_err_set(e, EK_EINVAL, "hex2dec: invalid hexadecimal value: %s", s);
    *o = ek_int(v);
    return 0;
}

static int f_dec2hex(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    int64_t v;
    if (a[0].type == EK_T_NULL) { *o = ek_null(); return 0; }
    if (func__arg_int("dec2hex", a, 0, &v, e)) return e->code;
    uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    *o = ek_string_fmt("%s0x%llx", v < 0 ? "-" : "", (unsigned long long)mag);
    return 0;
}

/* ---- JSON ---- */

static int f_to_json(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    if (a[0].type == EK_T_NULL) { *o = ek_null(); return 0; }
    ek_buf b = EK_BUF_INIT;
    ek_json_encode(&a[0], EK_JSON_SORT_KEYS, &b);
    *o = ek_string_n(b.data ? b.data : "", b.len);
    ek_buf_free(&b);
    return 0;
}

static int f_parse_json(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    const char *s;
    size_t len;
    if (a[0].type == EK_T_NULL) { *o = ek_null(); return 0; }
    if (func__arg_str("parse_json", a, 0, &s, &len, e)) return e->code;
    if (ek_json_decode(s, len, EK_JSON_FLOAT_NUMBERS, o, e)) return ek_err_prefix(e, "parse_json");
    return 0;
}

const ek_func_def ek_funcs_conv[] = {
    {"cast", EK_FUNC_SCALAR, 2, 2, f_cast, cast_check, true},
    {"chr", EK_FUNC_SCALAR, 1, 1, f_chr, NULL, true},
    {"compress", EK_FUNC_SCALAR, 2, 2, f_compress, compress_check, true},
    {"dec2hex", EK_FUNC_SCALAR, 1, 1, f_dec2hex, NULL, true},
    {"decode", EK_FUNC_SCALAR, 2, 2, f_decode, decode_check, true},
    {"decompress", EK_FUNC_SCALAR, 2, 2, f_decompress, decompress_check, true},
    {"encode", EK_FUNC_SCALAR, 2, 2, f_encode, encode_check, true},
    {"hex2dec", EK_FUNC_SCALAR, 1, 1, f_hex2dec, NULL, true},
    {"parse_json", EK_FUNC_SCALAR, 1, 1, f_parse_json, NULL, true},
    {"to_json", EK_FUNC_SCALAR, 1, 1, f_to_json, NULL, true},
    {"trunc", EK_FUNC_SCALAR, 2, 2, f_trunc, NULL, true},
    {NULL, 0, 0, 0, NULL, NULL, false},
};
