/* The "rest" sink: sends each payload to an HTTP endpoint with libcurl (http_client.c). url and
 * header values may be templates over the message (`http://host/{{.device}}`; for a list, its first
 * row). bodyType form sends the message's fields url-encoded; the other body types send the
 * payload the transform made, with the matching Content-Type. An unreachable server or a 5xx reply
 * is EK_EIO (the cache keeps the message); a 4xx reply is counted and dropped. resendDestination,
 * when set, is the url (a template too) for cached messages being resent. */
#include "connectors/builtin.h"
#include "connectors/cache.h"
#include "connectors/http_int.h"
#include "connectors/sink_transform.h"
#include "engine/log.h"
#include "engine/mem.h"

#include <curl/curl.h>
#include <string.h>

typedef struct rest_sink {
    http_opts o;
    char *url;
    ek_template *url_tpl;
    char *resend;            /* resendDestination: url for cached data being resent */
    ek_template *resend_tpl;
    bool debug;
    void *curl;
    char *rule;
} rest_sink;

static int rest_open(void *st, const ek_sink_conf *conf, ek_err *err)
{
    rest_sink *s = st;
    const char *url = ek_prop_str(conf->props, "url", NULL);
    if (!url || !*url) return ek_err_set(err, EK_EINVAL, "rest sink: property url is required");
    int rc = http__opts(conf->props, "GET", &s->o, err);
    if (!rc) rc = ek_prop_bool(conf->props, "debugResp", false, &s->debug, err);
    if (!rc && !ek_template_is_static(url) && (rc = ek_template_compile(url, &s->url_tpl, err)))
        ek_err_prefix(err, "property url");
    if (rc) {
        http__opts_free(&s->o);
        return ek_err_prefix(err, "rest sink");
    }
    const char *rd = ek_prop_str(conf->props, "resendDestination", "");
    if (*rd && !ek_template_is_static(rd) && (rc = ek_template_compile(rd, &s->resend_tpl, err))) {
        http__opts_free(&s->o);
        ek_template_free(s->url_tpl);
        return ek_err_prefix(err, "rest sink: property resendDestination");
    }
    s->resend = *rd ? ek_strdup(rd) : NULL;
    s->url = ek_strdup(url);
    s->curl = http__curl_new();
    s->rule = ek_strdup(conf->rule_id ? conf->rule_id : "");
    return 0;
}

static void urlencode_object(void *curl, const ek_value *obj, ek_buf *out)
{
    for (size_t i = 0; obj && obj->type == EK_T_OBJECT && i < ek_object_len(obj); i++) {
        ek_buf v = EK_BUF_INIT;
        const ek_value *val = ek_object_val(obj, i);
        if (val->type == EK_T_STRING) ek_buf_puts(&v, ek_str_ptr(val));
        else ek_template_print_value(val, &v);
        char *k = curl_easy_escape(curl, ek_object_key(obj, i), 0);
        char *e = curl_easy_escape(curl, v.data ? v.data : "", (int)v.len);
        ek_buf_printf(out, "%s%s=%s", i ? "&" : "", k, e);
        curl_free(k);
        curl_free(e);
        ek_buf_free(&v);
    }
}

static int rest_collect(void *st, const ek_sink_data *d, ek_err *err)
{
    rest_sink *s = st;
    const ek_value *row = d->value;
    if (row && row->type == EK_T_ARRAY) row = ek_array_len(row) ? ek_array_get(row, 0) : NULL;
    ek_buf url = EK_BUF_INIT, body = EK_BUF_INIT, resp = EK_BUF_INIT;
    int rc = 0;
    bool alt = s->resend && ek_sink_cache_resending();
    ek_template *tpl = alt ? s->resend_tpl : s->url_tpl;
    if (tpl) {
        rc = ek_template_render(tpl, row, &url, err);
    } else {
        ek_buf_puts(&url, alt ? s->resend : s->url);
    }
    if (!rc && strcmp(s->o.body_type, "form") == 0) urlencode_object(s->curl, row, &body);
    else if (!rc) ek_buf_append(&body, d->payload, d->len);
    long status = 0;
    if (!rc) rc = http__request(s->curl, &s->o, url.data, body.data, body.len, row, &resp, &status, err);
    if (s->debug) ek_log_rule(EK_LOG_INFO, s->rule, "rest sink %s %s: status %ld, body %.*s", s->o.method, url.data,
                              status, (int)(resp.len > 1024 ? 1024 : resp.len), resp.data ? resp.data : "");
    ek_buf_free(&url);
    ek_buf_free(&body);
    ek_buf_free(&resp);
    return rc;
}

static void rest_close(void *st)
{
    rest_sink *s = st;
    http__opts_free(&s->o);
    ek_template_free(s->url_tpl);
    ek_template_free(s->resend_tpl);
    ek_free(s->url);
    ek_free(s->resend);
    ek_free(s->rule);
    http__curl_free(s->curl);
    memset(s, 0, sizeof *s);
}

const ek_sink_ops ek_rest_sink_ops = {
    .type = "rest",
    .state_size = sizeof(rest_sink),
    .open = rest_open,
    .collect = rest_collect,
    .close = rest_close,
};
