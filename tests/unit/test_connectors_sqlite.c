/* Tests of the sqlite sink and lookup source on a temporary database: rows written are read back
 * with SQLite itself; rowkindField insert / upsert / update / delete change the table as eKuiper's
 * updatable sinks do; the lookup source returns the rows matching its keys. */
#include "connectors/connector.h"
#include "engine/codec_json.h"
#include "engine/mem.h"
#include "tests/unit/test_util.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

static char db[128];

static ek_value jv(const char *s)
{
    ek_value v;
    if (ek_json_decode(s, strlen(s), 0, &v, NULL)) return ek_null();
    return v;
}

static char *query(const char *sql)
{
    sqlite3 *h;
    sqlite3_open(db, &h);
    sqlite3_stmt *st;
    ek_buf b = EK_BUF_INIT;
    if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW) {
            for (int c = 0; c < sqlite3_column_count(st); c++)
                ek_buf_printf(&b, "%s%s", c ? "," : "", sqlite3_column_text(st, c) ? (const char *)sqlite3_column_text(st, c) : "NULL");
            ek_buf_putc(&b, ';');
        }
        sqlite3_finalize(st);
    }
    sqlite3_close(h);
    return ek_buf_detach(&b);
}

static void test_sink_rowkinds(void)
{
    char dir[] = "/tmp/ek-sqlite-XXXXXX";
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    snprintf(db, sizeof db, "%s/out.db", dir);
    const ek_sink_ops *ops = ek_connector_sink("sqlite");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ops);
    void *st = ek_calloc(1, ops->state_size);
    char pj[256];
    snprintf(pj, sizeof pj, "{\"url\":\"sqlite:%s\",\"table\":\"readings\",\"keyField\":\"id\",\"rowkindField\":\"op\"}", db);
    ek_value props = jv(pj);
    ek_app app = {0};
    ek_sink_conf conf = {.app = &app, .props = &props};
    ek_err err = {0};
    CU_ASSERT_EQUAL_FATAL(ops->open(st, &conf, &err), 0);
    static const char *const msgs[] = {
        "[{\"id\":1,\"t\":20.5,\"name\":\"a\"},{\"id\":2,\"t\":21,\"name\":\"b\"}]",
        "{\"id\":1,\"t\":30,\"name\":\"a2\",\"op\":\"update\"}",
        "{\"id\":3,\"t\":1,\"name\":\"c\",\"op\":\"upsert\"}",
        "{\"id\":2,\"op\":\"delete\"}",
    };
    for (size_t i = 0; i < 4; i++) {
        ek_value v = jv(msgs[i]);
        ek_sink_data d = {.value = &v, .payload = msgs[i], .len = strlen(msgs[i])};
        int rc = ops->collect(st, &d, &err);
        if (rc) fprintf(stderr, "\n%s: %s\n", msgs[i], err.msg);
        CU_ASSERT_EQUAL(rc, 0);
        ek_value_unref(&v);
    }
    char *rows = query("SELECT id, t, name FROM readings ORDER BY id");
    CU_ASSERT_STRING_EQUAL(rows, "1,30,a2;3,1,c;");
    ek_free(rows);
    /* A duplicate key on insert is refused as bad data, not as an outage. */
    ek_value dup = jv("{\"id\":3,\"t\":0,\"name\":\"dup\"}");
    ek_sink_data d = {.value = &dup, .payload = "", .len = 0};
    CU_ASSERT_EQUAL(ops->collect(st, &d, &err), EK_EINVAL);
    ek_value_unref(&dup);
    ek_value bad = jv("{\"id\":3,\"op\":\"merge\"}");
    d.value = &bad;
    CU_ASSERT_EQUAL(ops->collect(st, &d, &err), EK_EINVAL);
    ek_value_unref(&bad);
    ops->close(st);
    ek_free(st);
    ek_value_unref(&props);

    /* The lookup source reads the same table. */
    const ek_source_ops *src = ek_connector_source("sqlite");
    CU_ASSERT_PTR_NOT_NULL_FATAL(src);
    CU_ASSERT_PTR_NOT_NULL_FATAL(src->lookup);
    void *ls = ek_calloc(1, src->state_size);
    snprintf(pj, sizeof pj, "{\"path\":\"%s\"}", db);
    ek_value sp = jv(pj);
    ek_source_conf sc = {.app = &app, .stream = "lk", .datasource = "readings", .props = &sp};
    ek_ingest in = {0};
    CU_ASSERT_EQUAL_FATAL(src->open(ls, &sc, &in, &err), 0);
    ek_value keys = jv("{\"id\":3}"), out = ek_null();
    CU_ASSERT_EQUAL(src->lookup(ls, &keys, &out, &err), 0);
    char *text = ek_json_encode_str(&out, 0);
    CU_ASSERT_STRING_EQUAL(text, "[{\"id\":3,\"t\":1,\"name\":\"c\"}]");
    ek_free(text);
    ek_value_unref(&out);
    ek_value_unref(&keys);
    keys = jv("{\"id\":99}");
    CU_ASSERT_EQUAL(src->lookup(ls, &keys, &out, &err), 0);
    CU_ASSERT_EQUAL(ek_array_len(&out), 0);
    ek_value_unref(&out);
    ek_value_unref(&keys);
    src->close(ls);
    ek_free(ls);
    ek_value_unref(&sp);
}

/* eKuiper's "sql" type with a sqlite: URL writes the same way; other drivers are refused. */
static void test_sql_alias(void)
{
    char dir[] = "/tmp/ek-sql-XXXXXX";
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    snprintf(db, sizeof db, "%s/x.db", dir);
    const ek_sink_ops *ops = ek_connector_sink("sql");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ops);
    void *st = ek_calloc(1, ops->state_size);
    char pj[256];
    snprintf(pj, sizeof pj, "{\"url\":\"sqlite://%s\",\"table\":\"t\"}", db);
    ek_value props = jv(pj);
    ek_sink_conf conf = {.props = &props};
    ek_err err = {0};
    CU_ASSERT_EQUAL_FATAL(ops->open(st, &conf, &err), 0);
    ek_value v = jv("{\"a\":1}");
    ek_sink_data d = {.value = &v, .payload = "", .len = 0};
    CU_ASSERT_EQUAL(ops->collect(st, &d, &err), 0);
    ops->close(st);
    ek_value_unref(&v);
    ek_value_unref(&props);
    char *rows = query("SELECT a FROM t");
    CU_ASSERT_STRING_EQUAL(rows, "1;");
    ek_free(rows);
    props = jv("{\"url\":\"mysql://u:p@host/db\",\"table\":\"t\"}");
    memset(st, 0, ops->state_size);
    CU_ASSERT_EQUAL(ops->open(st, &conf, &err), EK_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "mysql"));
    ek_value_unref(&props);
    ek_free(st);
}

void ek_register_tests(void)
{
    static const ek_test_case cases[] = {
        {"sink rowkinds and lookup", test_sink_rowkinds},
        {"sql type with sqlite: urls", test_sql_alias},
        {NULL, NULL},
    };
    ek_add_suite("connectors_sqlite", cases);
}
