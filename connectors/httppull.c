/* The "httppull" source: polls `url` (the stream's DATASOURCE is appended when it is a path, as
 * eKuiper does) every `interval` (default 10 s) with libcurl and pushes each 2xx response body to
 * the rule engine. With `incremental`, a body equal to the previous one is skipped. A server that
 * does not answer is reported through ek_ingest.status and polled again at the next interval; the
 * rule keeps running. One thread per source instance, stopped and joined by close. */
#include "connectors/builtin.h"
#include "connectors/http_int.h"
#include "connectors/poller.h"
#include "connectors/sink_transform.h"
#include "engine/app.h"
#include "engine/mem.h"

#include <string.h>

typedef struct httppull {
    ek_ingest in;
    http_opts o;
    char *url, *body;
    int64_t interval_ms;
    bool incremental;
    char *last;          /* the previous body, for incremental */
    ek_poller poll;
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
    while (!ek_poller_stopped(&s->poll)) {
        poll_once(s, curl);
        ek_poller_nap(&s->poll, s->interval_ms);
    }
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
    if (ek_poller_start(&s->poll, run, s) != 0) {
        http__opts_free(&s->o);
        ek_free(s->url);
        ek_free(s->body);
        return ek_err_set(err, EK_EIO, "stream %s: cannot start the poller", conf->stream);
    }
    return 0;
}

static void pull_close(void *st)
{
    httppull *s = st;
    if (!s->poll.started) return;
    ek_poller_stop(&s->poll);
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
