/* The "httppull" source: polls `url` (the stream's DATASOURCE is appended when it is a path, as
 * eKuiper does) every `interval` (default 10 s) with libcurl and pushes each 2xx response body to
 * the rule engine. With `incremental`, a body equal to the previous one is skipped. A server that
 * does not answer is reported through ek_ingest.status and polled again at the next interval; the
 * rule keeps running. One thread per source instance, stopped and joined by close. */
#include "connectors/builtin.h"
#include "connectors/http_int.h"
#include "connectors/sink_transform.h"
#include "engine/app.h"
#include "engine/mem.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

typedef struct httppull {
    ek_ingest in;
    http_opts o;
    char *url, *body;
    int64_t interval_ms;
    bool incremental;
    char *last;          /* the previous body, for incremental */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop, started;
    int up;              /* last reported status: -1 none yet */
} httppull;

static void poll_once(httppull *s, void *curl)
{
    ek_buf resp = EK_BUF_INIT;
    ek_err err = {0};
    long status = 0;
    int rc = http__request(curl, &s->o, s->url, s->body, s->body ? strlen(s->body) : 0, NULL, &resp, &status, &err);
    int up = rc != EK_EIO;
    if (up != s->up && s->in.status) s->in.status(s->in.ctx, up, up ? NULL : err.msg);
    s->up = up;
    if (!rc && status >= 200 && status < 300) {
        const char *body = resp.data ? resp.data : "";
        if (!s->incremental || !s->last || strcmp(s->last, body) != 0) {
            ek_value meta = ek_object_new(1);
            ek_object_set(&meta, "url", ek_string(s->url));
            s->in.payload(s->in.ctx, body, resp.len, meta);
            ek_free(s->last);
            s->last = ek_strdup(body);
        }
    }
    ek_buf_free(&resp);
}

static void *run(void *arg)
{
    httppull *s = arg;
    void *curl = http__curl_new();
    pthread_mutex_lock(&s->mu);
    while (!s->stop) {
        pthread_mutex_unlock(&s->mu);
        poll_once(s, curl);
        pthread_mutex_lock(&s->mu);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += s->interval_ms / 1000;
        ts.tv_nsec += (s->interval_ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
        while (!s->stop && pthread_cond_timedwait(&s->cv, &s->mu, &ts) == 0) {
        }
    }
    pthread_mutex_unlock(&s->mu);
    http__curl_free(curl);
    return NULL;
}

static int pull_open(void *st, const ek_source_conf *conf, const ek_ingest *ingest, ek_err *err)
{
    httppull *s = st;
    const char *url = ek_prop_str(conf->props, "url", NULL);
    const char *ds = conf->datasource ? conf->datasource : "";
    if ((!url || !*url) && !*ds) return ek_err_set(err, EK_EINVAL, "stream %s: property url is required", conf->stream);
    int rc = http__opts(conf->props, "GET", &s->o, err);
    if (!rc) rc = ek_prop_duration_ms(conf->props, "interval", 10000, &s->interval_ms, err);
    if (!rc) rc = ek_prop_bool(conf->props, "incremental", false, &s->incremental, err);
    if (rc) {
        http__opts_free(&s->o);
        return ek_err_prefix(err, "stream %s", conf->stream);
    }
    if (s->interval_ms <= 0) s->interval_ms = 10000;
    if (url && *url && *ds == '/') s->url = ek_asprintf("%s%s", url, ds);
    else s->url = ek_strdup(url && *url ? url : ds);
    const char *body = ek_prop_str(conf->props, "body", NULL);
    s->body = body ? ek_strdup(body) : NULL;
    s->in = *ingest;
    s->up = -1;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    if (pthread_create(&s->thread, NULL, run, s) != 0) {
        http__opts_free(&s->o);
        ek_free(s->url);
        ek_free(s->body);
        return ek_err_set(err, EK_EIO, "stream %s: cannot start the poller", conf->stream);
    }
    s->started = true;
    return 0;
}

static void pull_close(void *st)
{
    httppull *s = st;
    if (!s->started) return;
    pthread_mutex_lock(&s->mu);
    s->stop = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    http__opts_free(&s->o);
    ek_free(s->url);
    ek_free(s->body);
    ek_free(s->last);
    memset(s, 0, sizeof *s);
}

const ek_source_ops ek_httppull_source_ops = {
    .type = "httppull",
    .state_size = sizeof(httppull),
    .open = pull_open,
    .close = pull_close,
    .lookup = NULL,
};
