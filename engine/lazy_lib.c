/* The loader behind engine/lazy_lib.h: one dlopen per library, under a lock the first time only. */
#include "engine/lazy_lib.h"

#include "engine/log.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;

static void *open_any(const char *sonames, char *why, size_t why_len)
{
    const char *p = sonames;
    why[0] = '\0';
    while (*p) {
        const char *end = strchr(p, ':');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char name[128];
        if (len < sizeof name) {
            memcpy(name, p, len);
            name[len] = '\0';
            void *h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
            if (h) return h;
            const char *e = dlerror();
            if (e && !why[0]) snprintf(why, why_len, "%s", e);
        }
        if (!end) break;
        p = end + 1;
    }
    return NULL;
}

static int load(const struct ek_lazy_lib *lib)
{
    char why[256];
    void *h = open_any(lib->soname, why, sizeof why);
    if (!h) {
        ek_warn("%s: cannot load %s: %s", lib->what, lib->soname, why);
        return -1;
    }
    for (size_t i = 0; i < lib->n_syms; i++) {
        void *p = dlsym(h, lib->syms[i].name);
        if (!p) {
            ek_warn("%s: %s lacks %s, which kuiperd needs", lib->what, lib->soname, lib->syms[i].name);
            return -1; /* the handle stays open: the library may be in use by another loader */
        }
        *lib->syms[i].slot = p;
    }
    return 1; /* the handle stays open for the life of the process */
}

bool ek_lazy_ready(struct ek_lazy_lib *lib)
{
    int s = atomic_load_explicit(&lib->state, memory_order_acquire);
    if (s) return s > 0;
    pthread_mutex_lock(&load_lock);
    s = atomic_load_explicit(&lib->state, memory_order_relaxed);
    if (!s) {
        s = load(lib);
        atomic_store_explicit(&lib->state, s, memory_order_release);
    }
    pthread_mutex_unlock(&load_lock);
    return s > 0;
}

bool ek_lazy_loaded(const struct ek_lazy_lib *lib)
{
    return atomic_load_explicit(&((struct ek_lazy_lib *)lib)->state, memory_order_acquire) > 0;
}
