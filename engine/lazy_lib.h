/* Shared libraries that kuiperd loads when a feature first needs them, not at start.
 *
 * Every shared library mapped into kuiperd costs resident memory even if it never runs: the dynamic
 * loader relocates it and the kernel maps its pages 64 KiB at a time around each touched page. An
 * idle kuiperd should pay only for what it does idle (bench/RESULTS.md, "Idle memory"), so libcurl,
 * OpenSSL, Paho MQTT C and libmicrohttpd are not linked: a small file per library (curl_lazy.c and
 * its siblings) defines the functions kuiperd calls, each forwarding to a pointer that this loader
 * fills from dlopen()/dlsym() on the first call. The forwarding functions are hidden (EK_LAZY_FN):
 * not exported, so a library loaded later never binds its own calls to them.
 *
 * Usage: a static table of { "symbol", (void **)&pointer } pairs in an ek_lazy_lib, then
 * ek_lazy_ready(&lib) before each forwarded call; it loads once, thread-safe, and says whether every
 * symbol was found (a warning names the library otherwise, once). */
#ifndef EK_LAZY_LIB_H
#define EK_LAZY_LIB_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#define EK_LAZY_FN __attribute__((visibility("hidden")))

struct ek_lazy_sym {
    const char *name;
    void **slot;
};

struct ek_lazy_lib {
    const char *soname;            /* tried in order, separated by ':' ("libssl.so.3:libssl.so") */
    const char *what;              /* for the warning: "TLS and hashing", "HTTP client" ... */
    const struct ek_lazy_sym *syms;
    size_t n_syms;
    atomic_int state;              /* 0 not tried, 1 loaded, -1 failed; starts at 0 */
};

/* Loads lib on first use; true when every symbol of lib is resolved. Cheap after the first call. */
bool ek_lazy_ready(struct ek_lazy_lib *lib);

/* True when lib has been loaded (by a call above); for the idle-memory tests and logs. */
bool ek_lazy_loaded(const struct ek_lazy_lib *lib);

#define EK_LAZY_SYM(sym, ptr) {#sym, (void **)&(ptr)}

/* True when zlib is loaded or loads now (compress_lazy.c): for callers such as crc32 whose result
 * cannot say "failed". */
bool ek_zlib_ready(void);

#endif
