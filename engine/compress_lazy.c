/* zlib and libzstd, loaded on first use (engine/lazy_lib.h): only the compress/decompress and crc32
 * SQL functions and the connectors' `compression` property need them, and an idle kuiperd should
 * not carry them (bench/RESULTS.md, "Idle memory"). The functions below are the ones kuiperd calls
 * (sql/func_conv.c, sql/func_hash.c, connectors/compress.c), with the prototypes of zlib.h and
 * zstd.h; each forwards to the library. Without the library, they fail the way the library itself
 * reports a failure (Z_VERSION_ERROR, a zstd error code), so the callers' error paths apply. */
#include "engine/lazy_lib.h"

#include <zlib.h>
/* zstd.h marks its functions visibility("default"); the forwarders here must stay hidden (lazy_lib.h). */
#define ZSTDLIB_VISIBLE
#define ZSTDERRORLIB_VISIBLE
#include <zstd.h>
#include <zstd_errors.h>

static struct {
    __typeof__(crc32) *crc32;
    __typeof__(deflateInit2_) *deflateInit2_;
    __typeof__(deflate) *deflate;
    __typeof__(deflateBound) *deflateBound;
    __typeof__(deflateEnd) *deflateEnd;
    __typeof__(inflateInit2_) *inflateInit2_;
    __typeof__(inflate) *inflate;
    __typeof__(inflateEnd) *inflateEnd;
} z;

static const struct ek_lazy_sym z_syms[] = {
    EK_LAZY_SYM(crc32, z.crc32),           EK_LAZY_SYM(deflateInit2_, z.deflateInit2_),
    EK_LAZY_SYM(deflate, z.deflate),       EK_LAZY_SYM(deflateBound, z.deflateBound),
    EK_LAZY_SYM(deflateEnd, z.deflateEnd), EK_LAZY_SYM(inflateInit2_, z.inflateInit2_),
    EK_LAZY_SYM(inflate, z.inflate),       EK_LAZY_SYM(inflateEnd, z.inflateEnd),
};
static struct ek_lazy_lib zlib_lib = {"libz.so.1", "compression (zlib)", z_syms, sizeof z_syms / sizeof z_syms[0], 0};

static struct {
    __typeof__(ZSTD_compress) *compress;
    __typeof__(ZSTD_compressBound) *compressBound;
    __typeof__(ZSTD_getErrorName) *getErrorName;
    __typeof__(ZSTD_createDStream) *createDStream;
    __typeof__(ZSTD_initDStream) *initDStream;
    __typeof__(ZSTD_decompressStream) *decompressStream;
    __typeof__(ZSTD_freeDStream) *freeDStream;
    __typeof__(ZSTD_DStreamOutSize) *DStreamOutSize;
} zs;

static const struct ek_lazy_sym zs_syms[] = {
    EK_LAZY_SYM(ZSTD_compress, zs.compress),           EK_LAZY_SYM(ZSTD_compressBound, zs.compressBound),
    EK_LAZY_SYM(ZSTD_getErrorName, zs.getErrorName),   EK_LAZY_SYM(ZSTD_createDStream, zs.createDStream),
    EK_LAZY_SYM(ZSTD_initDStream, zs.initDStream),     EK_LAZY_SYM(ZSTD_decompressStream, zs.decompressStream),
    EK_LAZY_SYM(ZSTD_freeDStream, zs.freeDStream),     EK_LAZY_SYM(ZSTD_DStreamOutSize, zs.DStreamOutSize),
};
static struct ek_lazy_lib zstd_lib = {"libzstd.so.1", "compression (zstd)", zs_syms, sizeof zs_syms / sizeof zs_syms[0], 0};

#define ZOK (ek_lazy_ready(&zlib_lib))

bool ek_zlib_ready(void) { return ZOK; }
#define ZSOK (ek_lazy_ready(&zstd_lib))
#define ZSTD_FAILED ((size_t)-ZSTD_error_GENERIC)

EK_LAZY_FN uLong crc32(uLong crc, const Bytef *buf, uInt len) { return ZOK ? z.crc32(crc, buf, len) : 0; }
EK_LAZY_FN int deflateInit2_(z_streamp s, int level, int method, int bits, int mem, int strategy, const char *version,
                             int size)
{
    return ZOK ? z.deflateInit2_(s, level, method, bits, mem, strategy, version, size) : Z_VERSION_ERROR;
}
EK_LAZY_FN int deflate(z_streamp s, int flush) { return ZOK ? z.deflate(s, flush) : Z_STREAM_ERROR; }
EK_LAZY_FN uLong deflateBound(z_streamp s, uLong len) { return ZOK ? z.deflateBound(s, len) : 0; }
EK_LAZY_FN int deflateEnd(z_streamp s) { return ZOK ? z.deflateEnd(s) : Z_STREAM_ERROR; }
EK_LAZY_FN int inflateInit2_(z_streamp s, int bits, const char *version, int size)
{
    return ZOK ? z.inflateInit2_(s, bits, version, size) : Z_VERSION_ERROR;
}
EK_LAZY_FN int inflate(z_streamp s, int flush) { return ZOK ? z.inflate(s, flush) : Z_STREAM_ERROR; }
EK_LAZY_FN int inflateEnd(z_streamp s) { return ZOK ? z.inflateEnd(s) : Z_STREAM_ERROR; }

EK_LAZY_FN size_t ZSTD_compress(void *dst, size_t cap, const void *src, size_t len, int level)
{
    return ZSOK ? zs.compress(dst, cap, src, len, level) : ZSTD_FAILED;
}
EK_LAZY_FN size_t ZSTD_compressBound(size_t len) { return ZSOK ? zs.compressBound(len) : 0; }
/* Needs no library: the error-code convention is part of zstd's stable API. */
EK_LAZY_FN unsigned ZSTD_isError(size_t code) { return code > (size_t)-ZSTD_error_maxCode; }
EK_LAZY_FN const char *ZSTD_getErrorName(size_t code)
{
    return ZSOK ? zs.getErrorName(code) : "libzstd is not available";
}
EK_LAZY_FN ZSTD_DStream *ZSTD_createDStream(void) { return ZSOK ? zs.createDStream() : NULL; }
EK_LAZY_FN size_t ZSTD_initDStream(ZSTD_DStream *d) { return ZSOK ? zs.initDStream(d) : ZSTD_FAILED; }
EK_LAZY_FN size_t ZSTD_decompressStream(ZSTD_DStream *d, ZSTD_outBuffer *out, ZSTD_inBuffer *in)
{
    return ZSOK ? zs.decompressStream(d, out, in) : ZSTD_FAILED;
}
EK_LAZY_FN size_t ZSTD_freeDStream(ZSTD_DStream *d) { return d && ZSOK ? zs.freeDStream(d) : 0; }
EK_LAZY_FN size_t ZSTD_DStreamOutSize(void) { return ZSOK ? zs.DStreamOutSize() : 16384; }
