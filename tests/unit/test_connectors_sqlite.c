/* Tests of the sqlite sink and lookup source on a temporary database: rows written are read back
 * with SQLite itself; rowkindField insert / upsert / update / delete change the table as eKuiper's
 * updatable sinks do; the lookup source returns the rows matching its keys. */
#include "connectors/connector.h"
#include "engine/codec_json.h"
#include "engine/mem.h"
#include "tests/unit/test_connectors_util.h"
#include "tests/unit/test_util.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

static char db[128];

/* Points db at file in a new temporary directory. */
static void fresh_db(const char *file)
{
    char dir[] = "/tmp/ek-sqlite-XXXXXX";
    CU_ASSERT_PTR_NOT_NULL_FATAL(ek_test_mkdtemp(dir));
    snprintf(db, sizeof db, "%s/%s", dir, file);
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
    fresh_db("out.db");
    char pj[256];
    snprintf(pj, sizeof pj, "{\"url\":\"sqlite:%s\",\"table\":\"readings\",\"keyField\":\"id\",\"rowkindField\":\"op\"}", db);
    tc_sink s;
    ek_err err = {0};
    CU_ASSERT_EQUAL_FATAL(tc_sink_open(&s, "sqlite", pj, &err), 0);
    static const char *const msgs[] = {
        "[{\"id\":1,\"t\":20.5,\"name\":\"a\"},{\"id\":2,\"t\":21,\"name\":\"b\"}]",
        "{\"id\":1,\"t\":30,\"name\":\"a2\",\"op\":\"update\"}",
        "{\"id\":3,\"t\":1,\"name\":\"c\",\"op\":\"upsert\"}",
        "{\"id\":2,\"op\":\"delete\"}",
    };
    for (size_t i = 0; i < 4; i++) {
        int rc = tc_sink_send_json(&s, msgs[i], &err);
        if (rc) fprintf(stderr, "\n%s: %s\n", msgs[i], err.msg);
        CU_ASSERT_EQUAL(rc, 0);
    }
    char *rows = query("SELECT id, t, name FROM readings ORDER BY id");
    CU_ASSERT_STRING_EQUAL(rows, "1,30,a2;3,1,c;");
    ek_free(rows);
    /* A duplicate key on insert is refused as bad data, not as an outage. */
    CU_ASSERT_EQUAL(tc_sink_collect(&s, "{\"id\":3,\"t\":0,\"name\":\"dup\"}", "", 0, &err), EK_EINVAL);
    CU_ASSERT_EQUAL(tc_sink_collect(&s, "{\"id\":3,\"op\":\"merge\"}", "", 0, &err), EK_EINVAL);
    tc_sink_close(&s);

    /* The lookup source reads the same table. */
    const ek_source_ops *src = ek_connector_source("sqlite");
    CU_ASSERT_PTR_NOT_NULL_FATAL(src);
    CU_ASSERT_PTR_NOT_NULL_FATAL(src->lookup);
    void *ls = ek_calloc(1, src->state_size);
    snprintf(pj, sizeof pj, "{\"path\":\"%s\"}", db);
    ek_value sp = tc_json(pj);
    ek_app app = {0};
    ek_source_conf sc = {.app = &app, .stream = "lk", .datasource = "readings", .props = &sp};
    ek_ingest in = {0};
    CU_ASSERT_EQUAL_FATAL(src->open(ls, &sc, &in, &err), 0);
    ek_value keys = tc_json("{\"id\":3}"), out = ek_null();
    CU_ASSERT_EQUAL(src->lookup(ls, &keys, &out, &err), 0);
    char *text = ek_json_encode_str(&out, 0);
    CU_ASSERT_STRING_EQUAL(text, "[{\"id\":3,\"t\":1,\"name\":\"c\"}]");
    ek_free(text);
    ek_value_unref(&out);
    ek_value_unref(&keys);
    keys = tc_json("{\"id\":99}");
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
    fresh_db("x.db");
    char pj[256];
    snprintf(pj, sizeof pj, "{\"url\":\"sqlite://%s\",\"table\":\"t\"}", db);
    tc_sink s;
    ek_err err = {0};
    CU_ASSERT_EQUAL_FATAL(tc_sink_open(&s, "sql", pj, &err), 0);
    CU_ASSERT_EQUAL(tc_sink_collect(&s, "{\"a\":1}", "", 0, &err), 0);
    tc_sink_close(&s);
    char *rows = query("SELECT a FROM t");
    CU_ASSERT_STRING_EQUAL(rows, "1;");
    ek_free(rows);
    CU_ASSERT_EQUAL(tc_sink_open(&s, "sql", "{\"url\":\"mysql://u:p@host/db\",\"table\":\"t\"}", &err), EK_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "mysql"));
    tc_sink_close(&s);
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
