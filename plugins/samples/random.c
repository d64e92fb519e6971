/* Sample source plugin "random", after eKuiper's sample: every `interval` ms it emits one JSON
 * message built from `pattern`, where each numeric field N becomes a random integer in [0, N)
 * and other fields are copied. Settings come from etc/sources/random.yaml (default section and
 * CONF_KEY), as for any source: interval (default 1000), pattern (default {"count": 50}), seed.
 * One thread per open source; close stops and joins it, so no ingest call follows close. */
#include "engine/codec_json.h"
#include "engine/mem.h"
#include "plugins/plugin.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct random_src {
    ek_ingest ingest;
    ek_value pattern;
    int64_t interval_ms;
    unsigned seed;
    atomic_bool stop;
    bool running;
    pthread_t thread;
} random_src;

static int64_t prop_int(const ek_value *props, const char *key, int64_t dflt)
{
    const ek_value *v = ek_object_get_ci(props, key);
    double d;
    return v && ek_value_as_double(v, &d) ? (int64_t)d : dflt;
}

static void emit(random_src *s)
{
    ek_value msg = ek_object_new(ek_object_len(&s->pattern));
    for (size_t i = 0; i < ek_object_len(&s->pattern); i++) {
        const ek_value *v = ek_object_val(&s->pattern, i);
        double n;
        if (ek_value_as_double(v, &n) && n >= 1)
            ek_object_set(&msg, ek_object_key(&s->pattern, i), ek_int(rand_r(&s->seed) % (int64_t)n));
        else
            ek_object_set(&msg, ek_object_key(&s->pattern, i), ek_value_ref(v));
    }
    char *json = ek_json_encode_str(&msg, 0);
    s->ingest.payload(s->ingest.ctx, json, strlen(json), ek_null());
    ek_free(json);
    ek_value_unref(&msg);
}

static void *run(void *arg)
{
    random_src *s = arg;
    s->ingest.status(s->ingest.ctx, 1, NULL);
    while (!atomic_load(&s->stop)) {
        emit(s);
        /* Sleep in slices so that close is quick whatever the interval. */
        for (int64_t left = s->interval_ms; left > 0 && !atomic_load(&s->stop); left -= 10) {
            struct timespec ts = {0, (left < 10 ? left : 10) * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    return NULL;
}

static int random_open(void *st, const ek_source_conf *conf, const ek_ingest *ingest, ek_err *err)
{
    random_src *s = st;
    s->ingest = *ingest;
    s->interval_ms = prop_int(conf->props, "interval", 1000);
    if (s->interval_ms <= 0) return ek_err_set(err, EK_ECONF, "random: interval must be positive");
    s->seed = (unsigned)prop_int(conf->props, "seed", (int64_t)time(NULL));
    const ek_value *p = ek_object_get_ci(conf->props, "pattern");
    if (p && p->type == EK_T_OBJECT) {
        s->pattern = ek_value_ref(p);
    } else {
        s->pattern = ek_object_new(1);
        ek_object_set(&s->pattern, "count", ek_int(50));
    }
    atomic_store(&s->stop, false);
    if (pthread_create(&s->thread, NULL, run, s) != 0) {
        ek_value_unref(&s->pattern);
        return ek_err_set(err, EK_EIO, "random: cannot start a thread");
    }
    s->running = true;
    return 0;
}

static void random_close(void *st)
{
    random_src *s = st;
    if (s->running) {
        atomic_store(&s->stop, true);
        pthread_join(s->thread, NULL);
        s->running = false;
    }
    ek_value_unref(&s->pattern);
}

static const ek_source_ops random_ops = {
    .type = "random",
    .state_size = sizeof(random_src),
    .open = random_open,
    .close = random_close,
};

static const ek_source_ops *const sources[] = {&random_ops};

static const ek_plugin plugin = {
    .abi_version = EK_PLUGIN_ABI_VERSION,
    .name = "random",
    .version = "1.0.0",
    .sources = sources,
    .nsources = 1,
};

EK_PLUGIN_EXPORT const ek_plugin *ek_plugin_entry(void) { return &plugin; }
