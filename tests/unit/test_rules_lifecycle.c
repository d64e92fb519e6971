/* Rule engine lifecycle: the catalog and the rules survive a restart of the engine (running rules
 * come back running), a bad update keeps the old version running, a stream in use cannot be
 * dropped, bad data is counted (and reaches sinks as {"error": ...} only with sendError), memory
 * pipelines with wildcards chain rules, sendSingle splits results, scan tables join, and a qos 1
 * rule's window resumes from its checkpoint after the engine stops without a final save. */
#include "tests/unit/rules_fixture.h"

#define DEMO "CREATE STREAM demo () WITH (TYPE=\"memory\", DATASOURCE=\"in/demo\")"

static int create_json(fx *f, const char *json)
{
    ek_err err = {0};
    int rc = ek_rules_rule_create(f->app.rules, json, strlen(json), NULL, &err);
    if (rc) fprintf(stderr, "create: %s\n", err.msg);
    return rc;
}

static void test_restart_keeps_catalog_and_rules(void)
{
    fx f;
    fx_open(&f, NULL);
    fx_stream(&f, DEMO);
    ek_err err = {0};
    CU_ASSERT_EQUAL(fx_rule(&f, "up", "SELECT a FROM demo", NULL, &err), 0);
    CU_ASSERT_EQUAL(fx_rule(&f, "down", "SELECT a FROM demo", NULL, &err), 0);
    CU_ASSERT_EQUAL(ek_rules_rule_stop(f.app.rules, "down", &err), 0);
    fx_restart(&f);
    ek_value names;
    ek_rules_stream_list(f.app.rules, false, false, NULL, &names);
    char *s = ek_json_encode_str(&names, 0);
    CU_ASSERT_STRING_EQUAL(s, "[\"demo\"]");
    ek_free(s);
    ek_value_unref(&names);
    CU_ASSERT_TRUE(ek_rules_rule_running(f.app.rules, "up"));
    CU_ASSERT_FALSE(ek_rules_rule_running(f.app.rules, "down"));
    fx_step(&f, f.now + 1, "demo", "{\"a\":1}");
    CU_ASSERT_EQUAL(f.nout, 1);
    fx_close(&f, false);
}

static void test_update_and_drop_rules(void)
{
    fx f;
    fx_open(&f, NULL);
    fx_stream(&f, DEMO);
    ek_err err = {0};
    CU_ASSERT_EQUAL(fx_rule(&f, "r", "SELECT a FROM demo", NULL, &err), 0);
    const char *bad = "{\"id\":\"r\",\"sql\":\"SELECT a FROM\",\"actions\":[{\"memory\":{\"topic\":\"out/r\"}}]}";
    CU_ASSERT_EQUAL(ek_rules_rule_update(f.app.rules, "r", bad, strlen(bad), &err), EK_EPARSE);
    CU_ASSERT_TRUE(ek_rules_rule_running(f.app.rules, "r"));
    fx_step(&f, f.now + 1, "demo", "{\"a\":1}");
    CU_ASSERT_EQUAL(f.nout, 1);
    CU_ASSERT_EQUAL(ek_rules_stream_drop(f.app.rules, false, "demo", &err), EK_EBUSY);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "rule r"));
    const char *good = "{\"id\":\"r\",\"sql\":\"SELECT a + 1 AS b FROM demo\",\"actions\":[{\"memory\":{\"topic\":\"out/r\"}}]}";
    CU_ASSERT_EQUAL(ek_rules_rule_update(f.app.rules, "r", good, strlen(good), &err), 0);
    fx_reset_out(&f);
    fx_step(&f, f.now + 1, "demo", "{\"a\":1}");
    CU_ASSERT_EQUAL_FATAL(f.nout, 1);
    CU_ASSERT_STRING_EQUAL(f.out[0], "[{\"b\":2}]");
    CU_ASSERT_EQUAL(ek_rules_rule_delete(f.app.rules, "r", &err), 0);
    CU_ASSERT_EQUAL(ek_rules_rule_delete(f.app.rules, "r", &err), EK_ENOTFOUND);
    /* refused at creation, naming the problem */
    CU_ASSERT_EQUAL(fx_rule(&f, "e1", "SELECT a FROM demo", "{\"isEventTime\":true}", &err), EK_EPLAN);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "TIMESTAMP"));
    CU_ASSERT_EQUAL(fx_rule(&f, "e2", "SELECT a FROM demo", "{\"qos\":5}", &err), EK_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "qos"));
    CU_ASSERT_EQUAL(fx_rule(&f, "e3", "SELECT a FROM demo", "{\"lateTolerance\":\"soon\"}", &err), EK_EINVAL);
    CU_ASSERT_EQUAL(fx_rule(&f, "e4", "SELECT a FROM demo GROUP BY a", NULL, &err), EK_EPLAN);
    fx_stream(&f, "CREATE STREAM typed (id BIGINT) WITH (TYPE=\"memory\", DATASOURCE=\"in/typed\")");
    CU_ASSERT_EQUAL(fx_rule(&f, "e5", "SELECT nosuch FROM typed", NULL, &err), EK_EPLAN);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "column"));
    CU_ASSERT_FALSE(ek_rules_rule_running(f.app.rules, "e5"));
    CU_ASSERT_EQUAL(ek_rules_stream_drop(f.app.rules, false, "demo", &err), 0);
    CU_ASSERT_EQUAL(fx_rule(&f, "x", "SELECT a FROM demo", NULL, &err), EK_ENOTFOUND);
    fx_close(&f, false);
}

static void test_bad_data(void)
{
    fx f;
    fx_open(&f, NULL);
    fx_stream(&f, "CREATE STREAM typed (id BIGINT) WITH (TYPE=\"memory\", DATASOURCE=\"in/typed\", "
                  "STRICT_VALIDATION=\"true\")");
    ek_err err = {0};
    CU_ASSERT_EQUAL(fx_rule(&f, "quiet", "SELECT id FROM typed", NULL, &err), 0);
    CU_ASSERT_EQUAL(fx_rule(&f, "loud", "SELECT id FROM typed", "{\"sendError\":true}", &err), 0);
    fx_step(&f, f.now + 1, "typed", "{\"id\":\"abc\"}");
    fx_step(&f, f.now + 1, "typed", "{\"id\":2}");
    CU_ASSERT_EQUAL(fx_status_int(&f, "quiet", "source_typed_0_exceptions_total"), 1);
    CU_ASSERT_EQUAL(fx_status_int(&f, "quiet", "source_typed_0_records_in_total"), 2);
    CU_ASSERT_TRUE(ek_rules_rule_running(f.app.rules, "quiet"));
    int errors = 0, results = 0;
    for (int i = 0; i < f.nout; i++) {
        if (strstr(f.out[i], "\"error\"") && strstr(f.out[i], "type mismatch")) errors++;
        if (strcmp(f.out[i], "[{\"id\":2}]") == 0) results++;
    }
    CU_ASSERT_EQUAL(errors, 1);  /* only the rule with sendError */
    CU_ASSERT_EQUAL(results, 2);
    fx_close(&f, false);
}

/* An option beyond int64_t (or not a number) is refused with a message, not converted (a cast of
 * 1e300 to int64_t is undefined behaviour: UBSan, found by fuzz_rule_run). */
static void test_option_out_of_range(void)
{
    fx f;
    fx_open(&f, NULL);
    fx_stream(&f, "CREATE STREAM big (id BIGINT) WITH (TYPE=\"memory\", DATASOURCE=\"in/big\")");
    ek_err err = {0};
    CU_ASSERT_NOT_EQUAL(fx_rule(&f, "huge", "SELECT id FROM big", "{\"bufferLength\":1e300}", &err), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "options.bufferLength: expected an integer"));
    err = (ek_err){0};
    CU_ASSERT_NOT_EQUAL(fx_rule(&f, "tiny", "SELECT id FROM big", "{\"checkpointInterval\":-1e19}", &err), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "expected an integer"));
    err = (ek_err){0};
    CU_ASSERT_EQUAL(fx_rule(&f, "ok", "SELECT id FROM big", "{\"bufferLength\":2048}", &err), 0);
    fx_close(&f, false);
}

static void test_pipeline_single_and_table(void)
{
    fx f;
    fx_open(&f, NULL);
    fx_stream(&f, DEMO);
    fx_stream(&f, "CREATE STREAM piped () WITH (TYPE=\"memory\", DATASOURCE=\"pipe/+/x\")");
    fx_stream(&f, "CREATE TABLE tab () WITH (TYPE=\"memory\", DATASOURCE=\"in/tab\", RETAIN_SIZE=\"2\")");
    CU_ASSERT_EQUAL(create_json(&f, "{\"id\":\"a\",\"sql\":\"SELECT a * 10 AS a FROM demo\","
                                    "\"actions\":[{\"memory\":{\"topic\":\"pipe/a/x\"}}]}"), 0);
    ek_err err = {0};
    CU_ASSERT_EQUAL(fx_rule(&f, "b", "SELECT a + 1 AS b FROM piped", NULL, &err), 0);
    CU_ASSERT_EQUAL(create_json(&f, "{\"id\":\"s\",\"sql\":\"SELECT * FROM demo GROUP BY COUNTWINDOW(2)\","
                                    "\"actions\":[{\"memory\":{\"topic\":\"out/s\",\"sendSingle\":true}}]}"), 0);
    CU_ASSERT_EQUAL(fx_rule(&f, "t", "SELECT demo.a, tab.name FROM demo INNER JOIN tab ON demo.a = tab.id", NULL, &err), 0);
    fx_step(&f, f.now + 1, "tab", "[{\"id\":1,\"name\":\"one\"},{\"id\":2,\"name\":\"two\"},{\"id\":3,\"name\":\"three\"}]");
    fx_step(&f, f.now + 1, "demo", "{\"a\":1}");
    fx_step(&f, f.now + 1, "demo", "{\"a\":3}");
    const char *want[] = {"[{\"b\":11}]", "[{\"b\":31}]", "{\"a\":1}", "{\"a\":3}", "[{\"a\":3,\"name\":\"three\"}]"};
    for (size_t w = 0; w < sizeof want / sizeof *want; w++) {
        bool found = false;
        for (int i = 0; i < f.nout; i++) found = found || strcmp(f.out[i], want[w]) == 0;
        if (!found) fprintf(stderr, "missing %s\n", want[w]);
        CU_ASSERT_TRUE(found);
    }
    CU_ASSERT_EQUAL(f.nout, 5);  /* id 1 fell out of the table (RETAIN_SIZE 2) */
    fx_close(&f, false);
}

static void test_lookup_table(void)
{
    fx f;
    fx_open(&f, NULL);
    fx_stream(&f, DEMO);
    fx_stream(&f, "CREATE TABLE lk () WITH (TYPE=\"memory\", DATASOURCE=\"in/lk\", KIND=\"lookup\", KEY=\"id\")");
    ek_err err = {0};
    CU_ASSERT_EQUAL(fx_rule(&f, "l", "SELECT demo.a, lk.name FROM demo LEFT JOIN lk ON demo.a = lk.id", NULL, &err), 0);
    fx_step(&f, f.now + 1, "lk", "[{\"id\":1,\"name\":\"a\"},{\"id\":2,\"name\":\"b\"},{\"id\":1,\"name\":\"c\"}]");
    fx_step(&f, f.now + 1, "demo", "{\"a\":1}");
    fx_step(&f, f.now + 1, "demo", "{\"a\":5}");
    CU_ASSERT_EQUAL_FATAL(f.nout, 2);
    CU_ASSERT_STRING_EQUAL(f.out[0], "[{\"a\":1,\"name\":\"c\"}]");
    CU_ASSERT_STRING_EQUAL(f.out[1], "[{\"a\":5}]");
    fx_stream(&f, "CREATE TABLE nokey () WITH (TYPE=\"memory\", DATASOURCE=\"in/nk\", KIND=\"lookup\")");
    CU_ASSERT_EQUAL(fx_rule(&f, "n", "SELECT demo.a FROM demo INNER JOIN nokey ON demo.a = nokey.id", NULL, &err), EK_EPLAN);
    fx_close(&f, false);
}

static void test_graph_rule(void)
{
    fx f;
    fx_open(&f, NULL);
    fx_stream(&f, DEMO);
    const char *g =
        "{\"id\":\"g\",\"graph\":{\"nodes\":{"
        "\"src\":{\"type\":\"source\",\"nodeType\":\"memory\",\"props\":{\"sourceName\":\"demo\"}},"
        "\"hot\":{\"type\":\"operator\",\"nodeType\":\"filter\",\"props\":{\"expr\":\"t > 20\"}},"
        "\"f\":{\"type\":\"operator\",\"nodeType\":\"function\",\"props\":{\"expr\":\"t * 2 AS dbl\"}},"
        "\"pick\":{\"type\":\"operator\",\"nodeType\":\"pick\",\"props\":{\"fields\":[\"dbl AS d\",\"id\"]}},"
        "\"out\":{\"type\":\"sink\",\"nodeType\":\"memory\",\"props\":{\"topic\":\"out/g\"}}},"
        "\"topo\":{\"sources\":[\"src\"],\"edges\":{\"src\":[\"hot\"],\"hot\":[\"f\"],\"f\":[\"pick\"],"
        "\"pick\":[\"out\"]}}}}";
    CU_ASSERT_EQUAL_FATAL(create_json(&f, g), 0);
    const char *inl =
        "{\"id\":\"h\",\"graph\":{\"nodes\":{"
        "\"raw\":{\"type\":\"source\",\"nodeType\":\"memory\",\"props\":{\"datasource\":\"in/raw\"}},"
        "\"w\":{\"type\":\"operator\",\"nodeType\":\"window\",\"props\":{\"type\":\"countwindow\",\"size\":2}},"
        "\"a\":{\"type\":\"operator\",\"nodeType\":\"aggfunc\",\"props\":{\"expr\":\"sum(t) AS s\"}},"
        "\"out\":{\"type\":\"sink\",\"nodeType\":\"memory\",\"props\":{\"topic\":\"out/h\"}}},"
        "\"topo\":{\"sources\":[\"raw\"],\"edges\":{\"raw\":[\"w\"],\"w\":[\"a\"],\"a\":[\"out\"]}}}}";
    CU_ASSERT_EQUAL_FATAL(create_json(&f, inl), 0);
    fx_step(&f, f.now + 1, "demo", "{\"id\":1,\"t\":10}");
    fx_step(&f, f.now + 1, "demo", "{\"id\":2,\"t\":30}");
    fx_step(&f, f.now + 1, "raw", "{\"t\":1}");
    fx_step(&f, f.now + 1, "raw", "{\"t\":2}");
    CU_ASSERT_EQUAL_FATAL(f.nout, 2);
    CU_ASSERT_STRING_EQUAL(f.out[0], "[{\"d\":60,\"id\":2}]");
    CU_ASSERT_STRING_EQUAL(f.out[1], "[{\"s\":3}]");
    ek_value def;
    ek_err err = {0};
    CU_ASSERT_EQUAL(ek_rules_rule_get(f.app.rules, "g", &def, &err), 0);
    CU_ASSERT_PTR_NOT_NULL(ek_object_get(&def, "graph"));
    ek_value_unref(&def);
    fx_close(&f, false);
}

/* A source type that fails to open twice, then works like a memory source on in/flaky. */
static int flaky_failures;

static int flaky_open(void *st, const ek_source_conf *conf, const ek_ingest *ingest, ek_err *err)
{
    if (__atomic_fetch_add(&flaky_failures, 1, __ATOMIC_SEQ_CST) < 2)
        return ek_err_set(err, EK_EIO, "flaky: not yet");
    return ek_memory_source_ops.open(st, conf, ingest, err);
}

static void flaky_close(void *st) { ek_memory_source_ops.close(st); }

static const ek_source_ops flaky_ops = {
    .type = "flaky", .state_size = 64, .open = flaky_open, .close = flaky_close,
};

static void test_restart_strategy(void)
{
    fx f;
    fx_open(&f, NULL);
    ek_err err = {0};
    if (!ek_connector_source("flaky")) CU_ASSERT_EQUAL_FATAL(ek_connector_register_source(&flaky_ops, &err), 0);
    fx_stream(&f, "CREATE STREAM fl () WITH (TYPE=\"flaky\", DATASOURCE=\"in/flaky\")");
    CU_ASSERT_EQUAL(fx_rule(&f, "once", "SELECT a FROM fl", NULL, &err), 0);
    CU_ASSERT_FALSE(ek_rules_rule_running(f.app.rules, "once"));
    ek_value st;
    CU_ASSERT_EQUAL(ek_rules_rule_status(f.app.rules, "once", &st, &err), 0);
    CU_ASSERT_STRING_EQUAL(ek_str_ptr(ek_object_get(&st, "status")), "stopped: stream fl: flaky: not yet");
    ek_value_unref(&st);
    CU_ASSERT_EQUAL(fx_rule(&f, "retry", "SELECT a FROM fl", "{\"restartStrategy\":{\"attempts\":3}}", &err), 0);
    for (int i = 0; i < 200 && !ek_rules_rule_running(f.app.rules, "retry"); i++) usleep(10000);
    CU_ASSERT_TRUE(ek_rules_rule_running(f.app.rules, "retry"));
    CU_ASSERT_FALSE(ek_rules_rule_running(f.app.rules, "once"));  /* no attempts: stays stopped */
    fx_step(&f, f.now + 1, "flaky", "{\"a\":1}");
    CU_ASSERT_EQUAL(f.nout, 1);
    fx_close(&f, false);
}

static void test_checkpoint_resumes_window(void)
{
    fx f;
    fx_open(&f, NULL);
    fx_stream(&f, DEMO);
    ek_err err = {0};
    int64_t base = f.now;
    CU_ASSERT_EQUAL(fx_rule(&f, "w", "SELECT count(*) AS c FROM demo GROUP BY TUMBLINGWINDOW(ss, 10)",
                            "{\"qos\":1,\"checkpointInterval\":1000}", &err), 0);
    fx_step(&f, base + 1000, "demo", "{\"a\":1}");
    fx_step(&f, base + 2000, "demo", "{\"a\":2}");
    fx_step(&f, base + 3000, NULL, NULL);
    fx_restart(&f);  /* stops without a final save, as a crash would */
    f.now = base + 4000;
    CU_ASSERT_TRUE(ek_rules_rule_running(f.app.rules, "w"));
    fx_step(&f, base + 5000, "demo", "{\"a\":3}");
    fx_step(&f, base + 10000, NULL, NULL);
    CU_ASSERT_EQUAL_FATAL(f.nout, 1);
    CU_ASSERT_STRING_EQUAL(f.out[0], "[{\"c\":3}]");
    fx_close(&f, false);
}

static void test_checkpoint_resumes_analytic(void)
{
    fx f;
    fx_open(&f, NULL);
    fx_stream(&f, DEMO);
    ek_err err = {0};
    int64_t base = f.now;
    CU_ASSERT_EQUAL(fx_rule(&f, "an", "SELECT a, lag(a) AS p, acc_sum(a) AS s, latest(b) OVER (PARTITION BY k) AS l FROM demo",
                            "{\"qos\":1,\"checkpointInterval\":1000}", &err), 0);
    fx_step(&f, base + 1000, "demo", "{\"a\":1,\"b\":\"x\",\"k\":1}");
    fx_step(&f, base + 2000, "demo", "{\"a\":2,\"k\":2}");
    fx_step(&f, base + 3000, NULL, NULL);
    fx_restart(&f);  /* stops without a final save, as a crash would */
    f.now = base + 4000;
    CU_ASSERT_TRUE(ek_rules_rule_running(f.app.rules, "an"));
    fx_step(&f, base + 5000, "demo", "{\"a\":3,\"k\":1}");
    CU_ASSERT_EQUAL_FATAL(f.nout, 1);
    CU_ASSERT_STRING_EQUAL(f.out[0], "[{\"a\":3,\"l\":\"x\",\"p\":2,\"s\":6}]");
    fx_close(&f, false);
}

static void test_explain(void)
{
    fx f;
    fx_open(&f, NULL);
    fx_stream(&f, DEMO);
    ek_err err = {0};
    CU_ASSERT_EQUAL_FATAL(fx_rule(&f, "ex", "SELECT a, count(*) AS c FROM demo WHERE a > 1 GROUP BY a, COUNTWINDOW(2)",
                                  NULL, &err), 0);
    ek_value text;
    CU_ASSERT_EQUAL_FATAL(ek_rules_rule_explain_text(f.app.rules, "ex", &text, &err), 0);
    const char *want = "{\"op\":\"ProjectPlan_0\",\"info\":\"Fields:[ a, count(*) AS c ]\"}\n"
                       "\t{\"op\":\"AggregatePlan_1\",\"info\":\"Dimension:{ a }\"}\n"
                       "\t\t\t{\"op\":\"FilterPlan_2\",\"info\":\"Condition:{ (a > 1) }\"}\n"
                       "\t\t\t\t\t{\"op\":\"WindowPlan_3\",\"info\":\"{ length:2, windowType:COUNT_WINDOW, limit: 0 }\"}\n"
                       "\t\t\t\t\t\t\t{\"op\":\"DataSourcePlan_4\",\"info\":\"StreamName: demo, StreamFields:[  ]\"}";
    if (strcmp(ek_str_ptr(&text), want) != 0) fprintf(stderr, "\n  got:\n%s\n", ek_str_ptr(&text));
    CU_ASSERT_STRING_EQUAL(ek_str_ptr(&text), want);
    ek_value_unref(&text);
    ek_value arr;
    CU_ASSERT_EQUAL_FATAL(ek_rules_rule_explain(f.app.rules, "ex", &arr, &err), 0);
    CU_ASSERT_EQUAL(ek_array_len(&arr), 5);
    CU_ASSERT_STRING_EQUAL(ek_str_ptr(ek_object_get(ek_array_get(&arr, 4), "op")), "DataSourcePlan_4");
    ek_value_unref(&arr);
    fx_close(&f, false);
}

void ek_register_tests(void)
{
    static const ek_test_case cases[] = {
        {"catalog and rules survive a restart", test_restart_keeps_catalog_and_rules},
        {"update keeps the old version on failure; drop rules", test_update_and_drop_rules},
        {"bad data is counted; sendError", test_bad_data},
        {"integer options beyond int64_t are refused", test_option_out_of_range},
        {"memory pipelines, sendSingle, scan table join", test_pipeline_single_and_table},
        {"memory lookup table join", test_lookup_table},
        {"graph rules", test_graph_rule},
        {"restartStrategy retries a rule that failed to start", test_restart_strategy},
        {"qos 1 window resumes from its checkpoint", test_checkpoint_resumes_window},
        {"qos 1 analytic function state resumes from its checkpoint", test_checkpoint_resumes_analytic},
        {"explain in eKuiper's format", test_explain},
        {NULL, NULL},
    };
    ek_add_suite("rules_lifecycle", cases);
}
