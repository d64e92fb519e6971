/* Tests for the other functions (sql/func_other.c): null handling, ids and clocks, reading the
 * current row's metadata and the rule's context, the stateful counters, and the registry as a whole. */
#include "tests/unit/test_sql_func_util.h"

#include <time.h>

static void test_nulls(void)
{
    fcheck("isnull", "[null]", "true");
    fcheck("isNull", "[0]", "false");
    fcheck("isnull", "[[]]", "false");
    fcheck("coalesce", "[null, null, 3, 4]", "3");
    fcheck("coalesce", "[null]", "null");
}

static void test_ids_and_clocks(void)
{
    ek_value a, b;
    ek_err err = {0};
    CU_ASSERT_EQUAL_FATAL(fcall("newuuid", NULL, "[]", &a, &err), 0);
    CU_ASSERT_EQUAL_FATAL(fcall("newuuid", NULL, "[]", &b, &err), 0);
    CU_ASSERT_EQUAL(ek_str_len(&a), 36);
    CU_ASSERT_EQUAL(ek_str_ptr(&a)[8], '-');
    CU_ASSERT_EQUAL(ek_str_ptr(&a)[14], '4');
    CU_ASSERT(strcmp(ek_str_ptr(&a), ek_str_ptr(&b)) != 0);
    ek_value_unref(&a);
    ek_value_unref(&b);

    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    CU_ASSERT_EQUAL_FATAL(fcall("tstamp", NULL, "[]", &a, &err), 0);
    CU_ASSERT(a.type == EK_T_INT && a.i >= now && a.i < now + 5000);
}

static void test_context(void)
{
    ek_value msg = ek_object_new(0), meta = ek_object_new(0), reading = ek_object_new(0), device = ek_object_new(0);
    ek_object_set(&device, "name", ek_string("pump"));
    ek_object_set(&reading, "device", device);
    ek_object_set(&meta, "topic", ek_string("factory/1"));
    ek_object_set(&meta, "qos", ek_int(1));
    ek_object_set(&meta, "reading", reading);
    ek_row *row = ek_row_new(msg, meta, 1541152486013LL, "demo");
    ek_func_ctx ctx = {.rule_id = "rule1", .rule_start_ms = 1000, .row = row, .window_start_ms = 10, .window_end_ms = 20};

    fcheck_ctx("rule_id", &ctx, "[]", "\"rule1\"");
    fcheck_ctx("rule_start", &ctx, "[]", "1000");
    fcheck_ctx("window_start", &ctx, "[]", "10");
    fcheck_ctx("window_end", &ctx, "[]", "20");
    fcheck_ctx("event_time", &ctx, "[]", "1541152486013");
    fcheck_ctx("meta", &ctx, "[\"topic\"]", "\"factory/1\"");
    fcheck_ctx("meta", &ctx, "[\"demo.qos\"]", "1");
    fcheck_ctx("meta", &ctx, "[\"reading.device.name\"]", "\"pump\"");
    fcheck_ctx("meta", &ctx, "[\"demo.reading.device.name\"]", "\"pump\"");
    fcheck_ctx("meta", &ctx, "[\"nothing\"]", "null");
    fcheck_ctx("mqtt", &ctx, "[\"topic\"]", "\"factory/1\"");
    fcheck_ctx("meta", &ctx, "[\"*\"]", "{\"topic\":\"factory/1\",\"qos\":1,\"reading\":{\"device\":{\"name\":\"pump\"}}}");
    ek_func_ctx bare = {0};
    fcheck_ctx("event_time", &bare, "[]", "0");
    fcheck_ctx("window_start", &bare, "[]", "0");
    fcheck_ctx("rule_id", &bare, "[]", "\"\"");
    fcheck_ctx("meta", &bare, "[\"topic\"]", "null");
    fcheck_err("meta", "[1]", "metadata key");

    /* The hit counters answer with the value before this row and advance when the row passed. */
    ek_func_ctx hits = {.row = row};
    fcheck_ctx("last_hit_count", &hits, "[true]", "0");
    fcheck_ctx("last_hit_count", &hits, "[false]", "1");
    fcheck_ctx("last_hit_count", &hits, "[true]", "1");
    fcheck_ctx("last_hit_count", &hits, "[false]", "2");
    ek_func_ctx_release(&hits);
    hits.row = row;
    fcheck_ctx("last_agg_hit_time", &hits, "[true]", "0");
    fcheck_ctx("last_agg_hit_time", &hits, "[false]", "1541152486013");
    ek_func_ctx_release(&hits);
    fcheck_err("last_hit_time", "[]", "flag");

    ek_func_ctx rn = {0};
    fcheck_ctx("row_number", &rn, "[true]", "1");
    fcheck_ctx("row_number", &rn, "[true]", "2");
    ek_func_ctx_release(&rn);
    fcheck_ctx("row_number", &rn, "[true]", "1");
    ek_func_ctx_release(&rn);
    ek_row_unref(row);
}

static void test_delay(void)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    fcheck("delay", "[30, \"x\"]", "\"x\"");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    int64_t ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    CU_ASSERT(ms >= 29);
    fcheck_err("delay", "[-1, 1]", "between");
    fcheck_err("delay", "[\"1\", 1]", "integer");
}

static void count_def(const ek_func_def *def, void *arg)
{
    (*(int *)arg)++;
    CU_ASSERT_PTR_NOT_NULL(def->exec);
    CU_ASSERT(def->max_args < 0 || def->max_args >= def->min_args);
}

static void test_registry(void)
{
    int n = 0;
    ek_func_foreach(count_def, &n);
    CU_ASSERT(n >= 180);
}

void ek_register_tests(void)
{
    static const ek_test_case cases[] = {
        {"isnull and coalesce", test_nulls},
        {"newuuid and tstamp", test_ids_and_clocks},
        {"row metadata and rule context", test_context},
        {"delay", test_delay},
        {"registry", test_registry},
        {NULL, NULL},
    };
    ek_add_suite("sql_func_other", cases);
}
