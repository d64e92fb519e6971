/* The route table: method + path pattern to handler, joined from the resource files' tables.
 * A pattern segment "{name}" matches one path segment and is passed to the handler in
 * req->params, in order; a last segment "{name...}" matches the rest of the path, '/' included
 * (an MQTT topic or client id). Matching is a linear scan: the table is small and requests are rare
 * next to messages. */
#include "rest/rest_int.h"

#include <string.h>

static const rest_route *const tables[] = {
    rest__routes_info,
    rest__routes_streams,
    rest__routes_rules,
    rest__routes_rule_tags,
    rest__routes_plugins,
    rest__routes_ruleset,
    rest__routes_uploads,
    rest__routes_metadata,
    rest__routes_connections,
    rest__routes_admin,
    rest__routes_broker_mgmt,
    rest__routes_broker_auth,
    rest__routes_configs,
    rest__routes_async,
    rest__routes_data_v2,
    rest__routes_rules_extra,
    NULL,
};

/* Matches pattern against path, capturing {name} segments into req. */
static int match(const char *pattern, const char *path, rest_req *req)
{
    int n = 0;
    const char *p = pattern, *s = path;
    while (*p && *s) {
        if (*p == '{') {
            const char *close = strchr(p, '}');
            bool rest = close && close[1] == '\0' && close - p > 4 && memcmp(close - 3, "...", 3) == 0;
            size_t len = rest ? strlen(s) : strcspn(s, "/");
            if (!close || len == 0 || n >= REST_MAX_PARAMS || req->pused + len + 1 > sizeof req->pbuf) return 0;
            char *dst = req->pbuf + req->pused;
            memcpy(dst, s, len);
            dst[len] = '\0';
            req->pused += len + 1;
            req->params[n++] = dst;
            p = close + 1;
            s += len;
            continue;
        }
        if (*p != *s) return 0;
        p++;
        s++;
    }
    /* Allow one trailing slash on the request path. */
    if (*s == '/' && s[1] == '\0') s++;
    if (*p || *s) return 0;
    req->nparams = n;
    return 1;
}

const rest_route *rest__route(const char *method, const char *path, rest_req *req, int *path_known)
{
    *path_known = 0;
    for (size_t t = 0; tables[t]; t++) {
        for (const rest_route *r = tables[t]; r->method; r++) {
            rest_req probe = *req;
            probe.pused = 0;
            if (!match(r->pattern, path, &probe)) continue;
            if (strcmp(r->method, method) != 0) {
                *path_known = 1;
                continue;
            }
            *req = probe;
            for (int i = 0; i < req->nparams; i++) /* re-point into req's own buffer */
                req->params[i] = req->pbuf + (probe.params[i] - probe.pbuf);
            return r;
        }
    }
    return NULL;
}
