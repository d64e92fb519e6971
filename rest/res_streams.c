/* /streams and /tables: create, list, describe, schema, replace and drop, with eKuiper's paths,
 * bodies and reply texts ("Stream demo is created.", "Table t is dropped."). The two resources
 * differ only in kind, so one set of handlers serves both, the kind read from the path.
 * All work is done by the rule engine's catalog (engine/rules/rules.h). */
#include "engine/mem.h"
#include "engine/rules/rules.h"
#include "rest/rest_int.h"

#include <stdio.h>
#include <string.h>

static bool is_table(const rest_req *req)
{
    return strncmp(req->path, "/table", 6) == 0;
}

static const char *word(bool table) { return table ? "Table" : "Stream"; }

/* Replies eKuiper's plain text for a done change: "Stream demo is created." */
static void reply_done(rest_resp *resp, int status, bool table, const char *name, const char *done)
{
    char text[300];
    snprintf(text, sizeof text, "%s %s is %s.", word(table), name, done);
    rest__text(resp, status, text);
}

/* The "sql" string of the body, or NULL after writing a 400. *body must be freed by the caller. */
static const char *body_sql(const rest_req *req, rest_resp *resp, ek_value *body)
{
    if (!rest__body_object(req, resp, body)) return NULL;
    const ek_value *sql = ek_object_get(body, "sql");
    if (!sql || sql->type != EK_T_STRING) {
        rest__error(resp, 400, 1000, "the body must have a \"sql\" string");
        return NULL;
    }
    return ek_str_ptr(sql);
}

/* POST /streams creates from the body's sql, PUT /streams/{name} replaces; both reply eKuiper's text. */
static void save(rest_req *req, rest_resp *resp, bool is_new)
{
    ek_rules *r = rest__engine(req, resp);
    if (!r) return;
    bool table = is_table(req);
    ek_value body = ek_null();
    const char *sql = body_sql(req, resp, &body);
    if (sql) {
        ek_err err = {0};
        char *name = NULL;
        int rc = is_new ? ek_rules_stream_create(r, table, sql, &name, &err)
                        : ek_rules_stream_replace(r, table, req->params[0], sql, &err);
        if (rc != 0) rest__err(resp, &err);
        else if (is_new) reply_done(resp, 201, table, name, "created");
        else reply_done(resp, 200, table, req->params[0], "replaced");
        ek_free(name);
    }
    ek_value_unref(&body);
}

static void create(rest_req *req, rest_resp *resp)
{
    save(req, resp, true);
}

/* GET /streams (names) and GET /streamdetails (name, type, format ...), same for tables. */
static void list_streams(rest_req *req, rest_resp *resp, bool with_details)
{
    ek_rules *r = rest__engine(req, resp);
    if (!r) return;
    ek_value v;
    ek_rules_stream_list(r, is_table(req), with_details, rest__query(req, "kind"), &v);
    rest__json(resp, 200, &v);
    ek_value_unref(&v);
}

static void list(rest_req *req, rest_resp *resp)
{
    list_streams(req, resp, false);
}

static void details(rest_req *req, rest_resp *resp)
{
    list_streams(req, resp, true);
}

/* GET /streams/{name} and its /schema: one catalog lookup replied as JSON or as the error. */
static void reply_lookup(rest_req *req, rest_resp *resp,
                         int (*lookup)(ek_rules *, bool, const char *, ek_value *, ek_err *))
{
    ek_rules *r = rest__engine(req, resp);
    if (!r) return;
    ek_value v = ek_null();
    ek_err err = {0};
    int rc = lookup(r, is_table(req), req->params[0], &v, &err);
    rest__result(resp, rc, &v, &err);
}

static void describe(rest_req *req, rest_resp *resp)
{
    reply_lookup(req, resp, ek_rules_stream_describe);
}

static void schema(rest_req *req, rest_resp *resp)
{
    reply_lookup(req, resp, ek_rules_stream_schema);
}

static void replace(rest_req *req, rest_resp *resp)
{
    save(req, resp, false);
}

static void drop(rest_req *req, rest_resp *resp)
{
    ek_rules *r = rest__engine(req, resp);
    if (!r) return;
    bool table = is_table(req);
    ek_err err = {0};
    if (ek_rules_stream_drop(r, table, req->params[0], &err) != 0) {
        rest__err(resp, &err);
        return;
    }
    reply_done(resp, 200, table, req->params[0], "dropped");
}

const rest_route rest__routes_streams[] = {
    {"POST", "/streams", create},
    {"GET", "/streams", list},
    {"GET", "/streamdetails", details},
    {"GET", "/streams/{name}", describe},
    {"GET", "/streams/{name}/schema", schema},
    {"PUT", "/streams/{name}", replace},
    {"DELETE", "/streams/{name}", drop},
    {"POST", "/tables", create},
    {"GET", "/tables", list},
    {"GET", "/tabledetails", details},
    {"GET", "/tables/{name}", describe},
    {"GET", "/tables/{name}/schema", schema},
    {"PUT", "/tables/{name}", replace},
    {"DELETE", "/tables/{name}", drop},
    {NULL, NULL, NULL},
};
