/* libcurl, loaded when an HTTP connector first needs it rather than at kuiperd's start.
 *
 * Debian's libcurl pulls in Kerberos, LDAP, SSH, RTMP and HTTP/2 libraries: about 1.4 MB of
 * resident memory in every kuiperd, most of which never runs an HTTP source or sink
 * (bench/RESULTS.md, "Idle memory"). So kuiperd does not link libcurl: this file defines the
 * handful of curl_* functions the connectors call (http_client.c, rest_sink.c), and the first call
 * dlopen()s libcurl.so.4 and forwards to it. curl_easy_setopt and curl_easy_getinfo are variadic;
 * the option number says the type of the argument (CURLOPTTYPE_*), so it is read as that type and
 * passed on. Without libcurl on the machine, curl_easy_init returns NULL and the connectors report
 * that they cannot create a request; nothing else changes. The kuiper CLI links libcurl directly. */
#include "engine/log.h"

#include <curl/curl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>

#undef curl_easy_setopt
#undef curl_easy_getinfo

static struct {
    CURLcode (*global_init)(long flags);
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *h);
    CURLcode (*easy_setopt)(CURL *h, CURLoption opt, ...);
    CURLcode (*easy_perform)(CURL *h);
    CURLcode (*easy_getinfo)(CURL *h, CURLINFO info, ...);
    void (*easy_reset)(CURL *h);
    const char *(*easy_strerror)(CURLcode rc);
    char *(*easy_escape)(CURL *h, const char *s, int len);
    void (*free)(void *p);
    struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
    void (*slist_free_all)(struct curl_slist *l);
} fn;
static bool loaded;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void *sym(void *h, const char *name, bool *ok)
{
    void *p = dlsym(h, name);
    if (!p) *ok = false;
    return p;
}

static void load(void)
{
    void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        ek_warn("http: cannot load libcurl: %s", dlerror());
        return;
    }
    bool ok = true;
    *(void **)&fn.global_init = sym(h, "curl_global_init", &ok);
    *(void **)&fn.easy_init = sym(h, "curl_easy_init", &ok);
    *(void **)&fn.easy_cleanup = sym(h, "curl_easy_cleanup", &ok);
    *(void **)&fn.easy_setopt = sym(h, "curl_easy_setopt", &ok);
    *(void **)&fn.easy_perform = sym(h, "curl_easy_perform", &ok);
    *(void **)&fn.easy_getinfo = sym(h, "curl_easy_getinfo", &ok);
    *(void **)&fn.easy_reset = sym(h, "curl_easy_reset", &ok);
    *(void **)&fn.easy_strerror = sym(h, "curl_easy_strerror", &ok);
    *(void **)&fn.easy_escape = sym(h, "curl_easy_escape", &ok);
    *(void **)&fn.free = sym(h, "curl_free", &ok);
    *(void **)&fn.slist_append = sym(h, "curl_slist_append", &ok);
    *(void **)&fn.slist_free_all = sym(h, "curl_slist_free_all", &ok);
    if (!ok) ek_warn("http: libcurl.so.4 lacks a function kuiperd needs");
    loaded = ok; /* the handle stays open for the life of the process */
}

static bool ready(void)
{
    pthread_once(&once, load);
    return loaded;
}

CURLcode curl_global_init(long flags) { return ready() ? fn.global_init(flags) : CURLE_FAILED_INIT; }
CURL *curl_easy_init(void) { return ready() ? fn.easy_init() : NULL; }
void curl_easy_cleanup(CURL *h) { if (h && ready()) fn.easy_cleanup(h); }
CURLcode curl_easy_perform(CURL *h) { return ready() ? fn.easy_perform(h) : CURLE_FAILED_INIT; }
void curl_easy_reset(CURL *h) { if (h && ready()) fn.easy_reset(h); }
const char *curl_easy_strerror(CURLcode rc) { return ready() ? fn.easy_strerror(rc) : "libcurl is not available"; }
char *curl_easy_escape(CURL *h, const char *s, int len) { return ready() ? fn.easy_escape(h, s, len) : NULL; }
void curl_free(void *p) { if (p && ready()) fn.free(p); }
struct curl_slist *curl_slist_append(struct curl_slist *l, const char *s) { return ready() ? fn.slist_append(l, s) : NULL; }
void curl_slist_free_all(struct curl_slist *l) { if (l && ready()) fn.slist_free_all(l); }

CURLcode curl_easy_setopt(CURL *h, CURLoption opt, ...)
{
    if (!ready()) return CURLE_FAILED_INIT;
    va_list ap;
    va_start(ap, opt);
    CURLcode rc;
    if (opt < CURLOPTTYPE_OBJECTPOINT) rc = fn.easy_setopt(h, opt, va_arg(ap, long));
    else if (opt >= CURLOPTTYPE_FUNCTIONPOINT && opt < CURLOPTTYPE_OFF_T)
        rc = fn.easy_setopt(h, opt, va_arg(ap, void (*)(void)));
    else if (opt >= CURLOPTTYPE_OFF_T && opt < CURLOPTTYPE_BLOB) rc = fn.easy_setopt(h, opt, va_arg(ap, curl_off_t));
    else rc = fn.easy_setopt(h, opt, va_arg(ap, void *)); /* object pointers, strings, blobs */
    va_end(ap);
    return rc;
}

CURLcode curl_easy_getinfo(CURL *h, CURLINFO info, ...)
{
    if (!ready()) return CURLE_FAILED_INIT;
    va_list ap;
    va_start(ap, info);
    CURLcode rc = fn.easy_getinfo(h, info, va_arg(ap, void *)); /* every kind takes a pointer */
    va_end(ap);
    return rc;
}
