/* Payload compression for sinks (compression) and decompression for sources (decompression), with
 * the algorithm names eKuiper accepts: gzip, zlib, flate (raw deflate) on zlib, and zstd on libzstd.
 * Decompression is bounded so a hostile message cannot make the process allocate without limit. */
#include "connectors/sink_transform.h"
#include "engine/mem.h"

#include <string.h>
#include <strings.h>
#include <zlib.h>
#include <zstd.h>

#define MAX_INFLATED (64u << 20)

typedef enum { ALG_NONE, ALG_GZIP, ALG_ZLIB, ALG_FLATE, ALG_ZSTD, ALG_BAD } alg_kind;

static const struct {
    const char *name;
    alg_kind kind;
    int window_bits;  /* for zlib's deflateInit2 / inflateInit2 */
} algs[] = {
    {"gzip", ALG_GZIP, 15 + 16},
    {"zlib", ALG_ZLIB, 15},
    {"flate", ALG_FLATE, -15},
    {"zstd", ALG_ZSTD, 0},
};

static alg_kind lookup(const char *alg, int *bits)
{
    if (!alg || !*alg) return ALG_NONE;
    for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++)
        if (strcasecmp(algs[i].name, alg) == 0) {
            *bits = algs[i].window_bits;
            return algs[i].kind;
        }
    return ALG_BAD;
}

int ek_compress_check(const char *alg, ek_err *err)
{
    int bits;
    if (lookup(alg, &bits) == ALG_BAD)
        return ek_err_set(err, EK_EINVAL, "unsupported compression \"%s\": expected gzip, zlib, flate or zstd", alg);
    return 0;
}

static int zlib_deflate(int bits, const void *in, size_t len, ek_buf *out, ek_err *err)
{
    z_stream z = {0};
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, bits, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return ek_err_set(err, EK_EIO, "cannot start compression");
    size_t bound = deflateBound(&z, (uLong)len);
    ek_buf_reserve(out, bound + 1);
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)len;
    z.next_out = (Bytef *)out->data + out->len;
    z.avail_out = (uInt)bound;
    int rc = deflate(&z, Z_FINISH);
    if (rc == Z_STREAM_END) {
        out->len += z.total_out;
        out->data[out->len] = '\0';
    }
    deflateEnd(&z);
    return rc == Z_STREAM_END ? 0 : ek_err_set(err, EK_EIO, "compression failed");
}

static int zlib_inflate(int bits, const void *in, size_t len, ek_buf *out, ek_err *err)
{
    z_stream z = {0};
    if (inflateInit2(&z, bits) != Z_OK) return ek_err_set(err, EK_EIO, "cannot start decompression");
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)len;
    int rc = Z_OK;
    size_t start = out->len;
    while (rc == Z_OK) {
        ek_buf_reserve(out, len * 2 + 4096);
        z.next_out = (Bytef *)out->data + out->len;
        z.avail_out = (uInt)(out->cap - out->len - 1);
        uInt before = z.avail_out;
        rc = inflate(&z, Z_NO_FLUSH);
        out->len += before - z.avail_out;
        if (out->len - start > MAX_INFLATED) rc = Z_MEM_ERROR;
        if (rc == Z_BUF_ERROR && z.avail_in == 0) break;
        if (rc == Z_BUF_ERROR) rc = Z_OK;
    }
    inflateEnd(&z);
    if (out->data) out->data[out->len] = '\0';
    if (rc != Z_STREAM_END) return ek_err_set(err, EK_EINVAL, "cannot decompress the payload: not valid or too large");
    return 0;
}

int ek_compress(const char *alg, const void *in, size_t len, ek_buf *out, ek_err *err)
{
    int bits = 0;
    switch (lookup(alg, &bits)) {
    case ALG_NONE: ek_buf_append(out, in, len); return 0;
    case ALG_BAD: return ek_compress_check(alg, err);
    case ALG_ZSTD: {
        size_t bound = ZSTD_compressBound(len);
        ek_buf_reserve(out, bound + 1);
        size_t n = ZSTD_compress(out->data + out->len, bound, in, len, 3);
        if (ZSTD_isError(n)) return ek_err_set(err, EK_EIO, "zstd: %s", ZSTD_getErrorName(n));
        out->len += n;
        out->data[out->len] = '\0';
        return 0;
    }
    default: return zlib_deflate(bits, in, len, out, err);
    }
}

static int zstd_inflate(const void *in, size_t len, ek_buf *out, ek_err *err)
{
    ZSTD_DStream *ds = ZSTD_createDStream();
    ZSTD_initDStream(ds);
    ZSTD_inBuffer ib = {in, len, 0};
    size_t start = out->len, rc = 1;
    while (ib.pos < ib.size || rc != 0) {
        ek_buf_reserve(out, ZSTD_DStreamOutSize());
        ZSTD_outBuffer ob = {out->data + out->len, out->cap - out->len - 1, 0};
        size_t pos_before = ib.pos;
        rc = ZSTD_decompressStream(ds, &ob, &ib);
        out->len += ob.pos;
        if (ZSTD_isError(rc) || out->len - start > MAX_INFLATED || (ob.pos == 0 && ib.pos == pos_before)) break;
    }
    ZSTD_freeDStream(ds);
    if (out->data) out->data[out->len] = '\0';
    if (ZSTD_isError(rc) || rc != 0) return ek_err_set(err, EK_EINVAL, "cannot decompress the payload (zstd)");
    return 0;
}

int ek_decompress(const char *alg, const void *in, size_t len, ek_buf *out, ek_err *err)
{
    int bits = 0;
    switch (lookup(alg, &bits)) {
    case ALG_NONE: ek_buf_append(out, in, len); return 0;
    case ALG_BAD: return ek_compress_check(alg, err);
    case ALG_ZSTD: return zstd_inflate(in, len, out, err);
    default: return zlib_inflate(bits, in, len, out, err);
    }
}
