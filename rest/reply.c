/* The one writer of REST replies and of eKuiper's error body {"error": code, "message": "..."}.
 * The table below is the only mapping from EK_E* codes to HTTP statuses and eKuiper error codes
 * (1000 undefined, 1002 not found, 1003 IO, 2001 SQL parse, 2101 plan, 2201 executor, 5000 config). */
#include "engine/codec_json.h"
#include "engine/mem.h"
#include "rest/rest_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct {
    int code;
    int http;
    int ekuiper;
} map[] = {
    {EK_EINVAL, 400, 1000}, {EK_ENOTFOUND, 404, 1002}, {EK_EIO, 500, 1003},  {EK_EPARSE, 400, 2001},
    {EK_EPLAN, 400, 2101},  {EK_EEXEC, 400, 2201},     {EK_ECONF, 400, 5000}, {EK_EEXIST, 400, 1000},
    {EK_EBUSY, 400, 1000},  {EK_ETYPE, 400, 1000},     {EK_ESTATE, 400, 1000}, {EK_EAUTH, 401, 1000},
    {EK_ENOMEM, 503, 1000},
};

void rest__json(rest_resp *resp, int status, const ek_value *v)
{
    resp->status = status;
    resp->content_type = "application/json";
    ek_buf_reset(&resp->body);
    ek_json_encode(v, 0, &resp->body);
}

void rest__text(rest_resp *resp, int status, const char *text)
{
    resp->status = status;
    resp->content_type = "text/plain; charset=utf-8";
    ek_buf_reset(&resp->body);
    ek_buf_puts(&resp->body, text);
}

static void error_body(rest_resp *resp, int status, int code, const char *msg)
{
    ek_value v = ek_object_new(2);
    ek_object_set(&v, "error", ek_int(code));
    ek_object_set(&v, "message", ek_string(msg));
    rest__json(resp, status, &v);
    ek_value_unref(&v);
}

void rest__error(rest_resp *resp, int status, int code, const char *fmt, ...)
{
    char msg[EK_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    error_body(resp, status, code, msg);
}

void rest__err(rest_resp *resp, const ek_err *err)
{
    int http = 500, code = 1000;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        if (map[i].code == err->code) {
            http = map[i].http;
            code = map[i].ekuiper;
            break;
        }
    }
    error_body(resp, http, code, err->msg[0] ? err->msg : ek_strerror(err->code));
}

bool rest__body_object(const rest_req *req, rest_resp *resp, ek_value *out)
{
    ek_err err = {0};
    if (req->body_len == 0) {
        rest__error(resp, 400, 1000, "the request body is empty: a JSON object is expected");
        return false;
    }
    if (ek_json_decode(req->body, req->body_len, 0, out, &err) != 0) {
        rest__error(resp, 400, 1000, "the request body is not valid JSON: %s", err.msg);
        return false;
    }
    if (out->type != EK_T_OBJECT) {
        ek_value_unref(out);
        rest__error(resp, 400, 1000, "the request body must be a JSON object");
        return false;
    }
    return true;
}

void rest__result(rest_resp *resp, int rc, ek_value *v, const ek_err *err)
{
    if (rc != 0) rest__err(resp, err);
    else rest__json(resp, 200, v);
    ek_value_unref(v);
}

ek_rules *rest__engine(const rest_req *req, rest_resp *resp)
{
    if (!req->app->rules) rest__error(resp, 503, 1000, "the rule engine is not running");
    return req->app->rules;
}
