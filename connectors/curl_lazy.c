/* libcurl, loaded when an HTTP connector first needs it rather than at kuiperd's start.
 *
 * Debian's libcurl pulls in Kerberos, LDAP, SSH, RTMP and HTTP/2 libraries: about 1.4 MB of
 * resident memory in every kuiperd, most of which never runs an HTTP source or sink
 * (bench/RESULTS.md, "Idle memory"). So kuiperd does not link libcurl: this file defines the
 * handful of curl_* functions the connectors call (http_client.c, rest_sink.c), and the first call
 * dlopen()s libcurl.so.4 and forwards to it (engine/lazy_lib.h). curl_easy_setopt and curl_easy_getinfo are variadic;
 * the option number says the type of the argument (CURLOPTTYPE_*), so it is read as that type and
 * passed on. Without libcurl on the machine, curl_easy_init returns NULL and the connectors report
 * that they cannot create a request; nothing else changes. The kuiper CLI links libcurl directly. */
#include "engine/lazy_lib.h"

#include <curl/curl.h>
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
static const struct ek_lazy_sym syms[] = {
    EK_LAZY_SYM(curl_global_init, fn.global_init),     EK_LAZY_SYM(curl_easy_init, fn.easy_init),
    EK_LAZY_SYM(curl_easy_cleanup, fn.easy_cleanup),   EK_LAZY_SYM(curl_easy_setopt, fn.easy_setopt),
    EK_LAZY_SYM(curl_easy_perform, fn.easy_perform),   EK_LAZY_SYM(curl_easy_getinfo, fn.easy_getinfo),
    EK_LAZY_SYM(curl_easy_reset, fn.easy_reset),       EK_LAZY_SYM(curl_easy_strerror, fn.easy_strerror),
    EK_LAZY_SYM(curl_easy_escape, fn.easy_escape),     EK_LAZY_SYM(curl_free, fn.free),
    EK_LAZY_SYM(curl_slist_append, fn.slist_append),   EK_LAZY_SYM(curl_slist_free_all, fn.slist_free_all),
};
static struct ek_lazy_lib curl_lib = {"libcurl.so.4", "http", syms, sizeof syms / sizeof syms[0], 0};

static bool ready(void) { return ek_lazy_ready(&curl_lib); }

EK_LAZY_FN CURLcode curl_global_init(long flags) { return ready() ? fn.global_init(flags) : CURLE_FAILED_INIT; }
EK_LAZY_FN CURL *curl_easy_init(void) { return ready() ? fn.easy_init() : NULL; }
EK_LAZY_FN void curl_easy_cleanup(CURL *h) { if (h && ready()) fn.easy_cleanup(h); }
EK_LAZY_FN CURLcode curl_easy_perform(CURL *h) { return ready() ? fn.easy_perform(h) : CURLE_FAILED_INIT; }
EK_LAZY_FN void curl_easy_reset(CURL *h) { if (h && ready()) fn.easy_reset(h); }
EK_LAZY_FN const char *curl_easy_strerror(CURLcode rc) { return ready() ? fn.easy_strerror(rc) : "libcurl is not available"; }
EK_LAZY_FN char *curl_easy_escape(CURL *h, const char *s, int len) { return ready() ? fn.easy_escape(h, s, len) : NULL; }
EK_LAZY_FN void curl_free(void *p) { if (p && ready()) fn.free(p); }
EK_LAZY_FN struct curl_slist *curl_slist_append(struct curl_slist *l, const char *s) { return ready() ? fn.slist_append(l, s) : NULL; }
EK_LAZY_FN void curl_slist_free_all(struct curl_slist *l) { if (l && ready()) fn.slist_free_all(l); }

EK_LAZY_FN CURLcode curl_easy_setopt(CURL *h, CURLoption opt, ...)
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

EK_LAZY_FN CURLcode curl_easy_getinfo(CURL *h, CURLINFO info, ...)
{
    if (!ready()) return CURLE_FAILED_INIT;
    va_list ap;
    va_start(ap, info);
    CURLcode rc = fn.easy_getinfo(h, info, va_arg(ap, void *)); /* every kind takes a pointer */
    va_end(ap);
    return rc;
}
