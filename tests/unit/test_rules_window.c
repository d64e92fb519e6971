/* Table-driven rule tests (eKuiper's topotest in C): SQL, timed input and the exact sink messages,
 * through memory streams and a memory sink with a fake clock. Covers projection, filters,
 * aggregates, every window kind on processing time, windows on event time with the watermark and
 * late events, and stream joins. Times in the tables are ms after a round 100 s boundary, so a
 * 10 s window ends at t = 10000. */
#include "tests/unit/rules_fixture.h"

static const char *streams[] = {
    "CREATE STREAM demo () WITH (TYPE=\"memory\", DATASOURCE=\"in/demo\")",
    "CREATE STREAM demo1 () WITH (TYPE=\"memory\", DATASOURCE=\"in/demo1\")",
    "CREATE STREAM demoE () WITH (TYPE=\"memory\", DATASOURCE=\"in/demoE\", TIMESTAMP=\"ts\")",
    "CREATE STREAM demoE2 () WITH (TYPE=\"memory\", DATASOURCE=\"in/demoE2\", TIMESTAMP=\"ts\")",
    "CREATE STREAM typed (id BIGINT, size FLOAT, color STRING DEFAULT \"none\") WITH (TYPE=\"memory\", "
    "DATASOURCE=\"in/typed\", STRICT_VALIDATION=\"true\")",
    NULL,
};

static const fx_case plain[] = {
    {"project", "SELECT color, size * 2 AS s FROM demo", NULL,
     {{1, "demo", "{\"color\":\"red\",\"size\":3}"}},
     {"[{\"color\":\"red\",\"s\":6}]"}},
    {"filter", "SELECT * FROM demo WHERE size > 2", NULL,
     {{1, "demo", "{\"color\":\"a\",\"size\":1}"}, {2, "demo", "{\"color\":\"b\",\"size\":3}"}},
     {"[{\"color\":\"b\",\"size\":3}]"}},
    {"missing field omitted", "SELECT color, ts FROM demo", NULL,
     {{1, "demo", "{\"color\":\"red\"}"}},
     {"[{\"color\":\"red\"}]"}},
    {"sendNilField", "SELECT color, ts FROM demo", "{\"sendNilField\":true}",
     {{1, "demo", "{\"color\":\"red\"}"}},
     {"[{\"color\":\"red\",\"ts\":null}]"}},
    {"unnamed expression", "SELECT size + 1, abs(size) FROM demo", NULL,
     {{1, "demo", "{\"size\":-3}"}},
     {"[{\"abs\":3,\"kuiper_field_0\":-2}]"}},
    {"schemaless division is float", "SELECT size / 2 AS h FROM demo", NULL,
     {{1, "demo", "{\"size\":7}"}},
     {"[{\"h\":3.5}]"}},
    {"strict schema default", "SELECT id, color FROM typed", NULL,
     {{1, "typed", "{\"id\":1,\"size\":2}"}},
     {"[{\"color\":\"none\",\"id\":1}]"}},
    {"analytic before where", "SELECT a, lag(a) AS p FROM demo WHERE a > 1", NULL,
     {{1, "demo", "{\"a\":1}"}, {2, "demo", "{\"a\":2}"}, {3, "demo", "{\"a\":3}"}},
     {"[{\"a\":2,\"p\":1}]", "[{\"a\":3,\"p\":2}]"}},
    {"unnest makes rows", "SELECT id, unnest(list) AS v FROM demo", NULL,
     {{1, "demo", "{\"id\":1,\"list\":[1,2]}"}},
     {"[{\"id\":1,\"v\":1},{\"id\":1,\"v\":2}]"}},
    {"aggregate without window", "SELECT count(*) AS c FROM demo", NULL,
     {{1, "demo", "{\"a\":1}"}},
     {"[{\"c\":1}]"}},
    {NULL},
};

static const fx_case processing[] = {
    {"tumbling", "SELECT count(*) AS c, avg(size) AS a FROM demo GROUP BY TUMBLINGWINDOW(ss, 10)", NULL,
     {{1000, "demo", "{\"size\":1}"}, {2000, "demo", "{\"size\":3}"}, {10000, NULL, NULL}, {20000, NULL, NULL}},
     {"[{\"a\":2,\"c\":2}]", "[]"}},
    {"tumbling bounds", "SELECT window_start() AS ws, window_end() AS we, count(*) AS c FROM demo "
     "GROUP BY TUMBLINGWINDOW(ss, 10)", NULL,
     {{1000, "demo", "{\"size\":1}"}, {10000, NULL, NULL}},
     {"[{\"c\":1,\"we\":1110000,\"ws\":1100000}]"}},
    {"group by", "SELECT color, count(*) AS c FROM demo GROUP BY color, TUMBLINGWINDOW(ss, 10)", NULL,
     {{1000, "demo", "{\"color\":\"red\"}"}, {2000, "demo", "{\"color\":\"blue\"}"},
      {3000, "demo", "{\"color\":\"red\"}"}, {10000, NULL, NULL}},
     {"[{\"c\":2,\"color\":\"red\"},{\"c\":1,\"color\":\"blue\"}]"}},
    {"incremental tumbling", "SELECT count(*) AS c, avg(size) AS a FROM demo GROUP BY TUMBLINGWINDOW(ss, 10)",
     "{\"planOptimizeStrategy\":{\"enableIncrementalWindow\":true}}",
     {{1000, "demo", "{\"size\":1}"}, {2000, "demo", "{\"size\":3}"}, {10000, NULL, NULL}, {20000, NULL, NULL}},
     {"[{\"a\":2,\"c\":2}]", "[]"}},
    {"incremental group by", "SELECT color, count(*) AS c, sum(size) AS s, min(size) AS lo, max(size) AS hi, "
     "avg(size) AS a FROM demo WHERE size > 0 GROUP BY color, TUMBLINGWINDOW(ss, 10)",
     "{\"planOptimizeStrategy\":{\"enableIncrementalWindow\":true}}",
     {{1000, "demo", "{\"color\":\"red\",\"size\":4}"}, {2000, "demo", "{\"color\":\"blue\",\"size\":1.5}"},
      {3000, "demo", "{\"color\":\"red\",\"size\":2}"}, {4000, "demo", "{\"color\":\"red\",\"size\":-1}"},
      {10000, NULL, NULL}},
     {"[{\"a\":3,\"c\":2,\"color\":\"red\",\"hi\":4,\"lo\":2,\"s\":6},"
      "{\"a\":1.5,\"c\":1,\"color\":\"blue\",\"hi\":1.5,\"lo\":1.5,\"s\":1.5}]"}},
    {"ordinary group by, same output", "SELECT color, count(*) AS c, sum(size) AS s, min(size) AS lo, max(size) AS hi, "
     "avg(size) AS a FROM demo WHERE size > 0 GROUP BY color, TUMBLINGWINDOW(ss, 10)", NULL,
     {{1000, "demo", "{\"color\":\"red\",\"size\":4}"}, {2000, "demo", "{\"color\":\"blue\",\"size\":1.5}"},
      {3000, "demo", "{\"color\":\"red\",\"size\":2}"}, {4000, "demo", "{\"color\":\"red\",\"size\":-1}"},
      {10000, NULL, NULL}},
     {"[{\"a\":3,\"c\":2,\"color\":\"red\",\"hi\":4,\"lo\":2,\"s\":6},"
      "{\"a\":1.5,\"c\":1,\"color\":\"blue\",\"hi\":1.5,\"lo\":1.5,\"s\":1.5}]"}},
    {"having and order", "SELECT color, count(*) AS c FROM demo GROUP BY color, TUMBLINGWINDOW(ss, 10) "
     "HAVING count(*) < 3 ORDER BY color", NULL,
     {{1000, "demo", "{\"color\":\"red\"}"}, {2000, "demo", "{\"color\":\"blue\"}"},
      {3000, "demo", "{\"color\":\"red\"}"}, {10000, NULL, NULL}},
     {"[{\"c\":1,\"color\":\"blue\"},{\"c\":2,\"color\":\"red\"}]"}},
    {"where after window", "SELECT * FROM demo WHERE size > 1 GROUP BY TUMBLINGWINDOW(ss, 10)", NULL,
     {{1000, "demo", "{\"size\":1}"}, {2000, "demo", "{\"size\":2}"}, {10000, NULL, NULL}},
     {"[{\"size\":2}]"}},
    {"filter before window", "SELECT count(*) AS c FROM demo GROUP BY COUNTWINDOW(2) FILTER (WHERE size > 1)", NULL,
     {{1000, "demo", "{\"size\":1}"}, {2000, "demo", "{\"size\":2}"}, {3000, "demo", "{\"size\":3}"}},
     {"[{\"c\":2}]"}},
    {"hopping", "SELECT count(*) AS c FROM demo GROUP BY HOPPINGWINDOW(ss, 10, 5)", NULL,
     {{1000, "demo", "{\"size\":1}"}, {5000, NULL, NULL}, {6000, "demo", "{\"size\":2}"}, {10000, NULL, NULL},
      {15000, NULL, NULL}},
     {"[{\"c\":1}]", "[{\"c\":2}]", "[{\"c\":1}]"}},
    {"count window", "SELECT * FROM demo GROUP BY COUNTWINDOW(2)", NULL,
     {{1, "demo", "{\"a\":1}"}, {2, "demo", "{\"a\":2}"}, {3, "demo", "{\"a\":3}"}},
     {"[{\"a\":1},{\"a\":2}]"}},
    {"row_number per window", "SELECT a, row_number() AS n FROM demo GROUP BY COUNTWINDOW(2)", NULL,
     {{1, "demo", "{\"a\":1}"}, {2, "demo", "{\"a\":2}"}, {3, "demo", "{\"a\":3}"}, {4, "demo", "{\"a\":4}"}},
     {"[{\"a\":1,\"n\":1},{\"a\":2,\"n\":2}]", "[{\"a\":3,\"n\":1},{\"a\":4,\"n\":2}]"}},
    {"count window with interval", "SELECT * FROM demo GROUP BY COUNTWINDOW(3, 1)", NULL,
     {{1, "demo", "{\"a\":1}"}, {2, "demo", "{\"a\":2}"}, {3, "demo", "{\"a\":3}"}, {4, "demo", "{\"a\":4}"}},
     {"[{\"a\":1},{\"a\":2},{\"a\":3}]", "[{\"a\":2},{\"a\":3},{\"a\":4}]"}},
    {"sliding", "SELECT count(*) AS c FROM demo GROUP BY SLIDINGWINDOW(ss, 5)", NULL,
     {{1000, "demo", "{\"a\":1}"}, {3000, "demo", "{\"a\":2}"}, {8000, "demo", "{\"a\":3}"}},
     {"[{\"c\":1}]", "[{\"c\":2}]", "[{\"c\":2}]"}},
    {"sliding with trigger", "SELECT count(*) AS c FROM demo GROUP BY SLIDINGWINDOW(ss, 5) OVER (WHEN a > 1)", NULL,
     {{1000, "demo", "{\"a\":1}"}, {3000, "demo", "{\"a\":2}"}},
     {"[{\"c\":2}]"}},
    {"sliding with delay", "SELECT count(*) AS c FROM demo GROUP BY SLIDINGWINDOW(ss, 5, 2)", NULL,
     {{1000, "demo", "{\"a\":1}"}, {2000, "demo", "{\"a\":2}"}, {3000, NULL, NULL}, {4000, NULL, NULL}},
     {"[{\"c\":2}]", "[{\"c\":2}]"}},
    {"session", "SELECT count(*) AS c FROM demo GROUP BY SESSIONWINDOW(ss, 100, 5)", NULL,
     {{1000, "demo", "{\"a\":1}"}, {3000, "demo", "{\"a\":2}"}, {9000, NULL, NULL}, {20000, "demo", "{\"a\":3}"},
      {30000, NULL, NULL}},
     {"[{\"c\":2}]", "[{\"c\":1}]"}},
    {"state window", "SELECT count(*) AS c FROM demo GROUP BY STATEWINDOW(a = 1, a = 3)", NULL,
     {{1, "demo", "{\"a\":0}"}, {2, "demo", "{\"a\":1}"}, {3, "demo", "{\"a\":2}"}, {4, "demo", "{\"a\":3}"},
      {5, "demo", "{\"a\":4}"}},
     {"[{\"c\":3}]"}},
    {"state window, one condition", "SELECT count(*) AS c FROM demo GROUP BY STATEWINDOW(a = 1)", NULL,
     {{1, "demo", "{\"a\":1}"}, {2, "demo", "{\"a\":2}"}, {3, "demo", "{\"a\":1}"}, {4, "demo", "{\"a\":2}"}},
     {"[{\"c\":2}]"}},
    {"state window by partition", "SELECT id, count(*) AS c FROM demo GROUP BY STATEWINDOW(a = 1, a = 3) "
     "OVER (PARTITION BY id)", NULL,
     {{1, "demo", "{\"id\":1,\"a\":1}"}, {2, "demo", "{\"id\":2,\"a\":1}"}, {3, "demo", "{\"id\":1,\"a\":3}"},
      {4, "demo", "{\"id\":2,\"a\":2}"}, {5, "demo", "{\"id\":2,\"a\":3}"}},
     {"[{\"c\":2,\"id\":1}]", "[{\"c\":3,\"id\":2}]"}},
    {"join in window", "SELECT demo.color, demo1.size FROM demo INNER JOIN demo1 ON demo.id = demo1.id "
     "GROUP BY TUMBLINGWINDOW(ss, 10)", NULL,
     {{1000, "demo", "{\"id\":1,\"color\":\"red\"}"}, {2000, "demo1", "{\"id\":1,\"size\":5}"},
      {3000, "demo1", "{\"id\":2,\"size\":6}"}, {10000, NULL, NULL}},
     {"[{\"color\":\"red\",\"size\":5}]"}},
    {"right join in window", "SELECT demo.id, demo1.size FROM demo RIGHT JOIN demo1 ON demo.id = demo1.id "
     "GROUP BY TUMBLINGWINDOW(ss, 10)", NULL,
     {{1000, "demo", "{\"id\":1}"}, {2000, "demo1", "{\"id\":1,\"size\":5}"},
      {3000, "demo1", "{\"id\":2,\"size\":6}"}, {10000, NULL, NULL}},
     {"[{\"id\":1,\"size\":5},{\"size\":6}]"}},
    {"full join in window", "SELECT demo.id, demo1.size FROM demo FULL JOIN demo1 ON demo.id = demo1.id "
     "GROUP BY TUMBLINGWINDOW(ss, 10)", NULL,
     {{1000, "demo", "{\"id\":1}"}, {1500, "demo", "{\"id\":3}"}, {2000, "demo1", "{\"id\":1,\"size\":5}"},
      {3000, "demo1", "{\"id\":2,\"size\":6}"}, {10000, NULL, NULL}},
     {"[{\"id\":1,\"size\":5},{\"id\":3},{\"size\":6}]"}},
    {"cross join in window", "SELECT demo.id, demo1.size FROM demo CROSS JOIN demo1 GROUP BY TUMBLINGWINDOW(ss, 10)", NULL,
     {{1000, "demo", "{\"id\":1}"}, {1500, "demo", "{\"id\":3}"}, {2000, "demo1", "{\"size\":5}"},
      {10000, NULL, NULL}},
     {"[{\"id\":1,\"size\":5},{\"id\":3,\"size\":5}]"}},
    {"two joins with aggregate", "SELECT count(*) AS c FROM demo INNER JOIN demo1 ON demo.id = demo1.id "
     "INNER JOIN demoE ON demo.id = demoE.id GROUP BY TUMBLINGWINDOW(ss, 10)", NULL,
     {{1000, "demo", "{\"id\":1}"}, {2000, "demo1", "{\"id\":1}"}, {3000, "demoE", "{\"id\":1,\"ts\":1}"},
      {4000, "demoE", "{\"id\":2,\"ts\":1}"}, {10000, NULL, NULL}},
     {"[{\"c\":1}]"}},
    {"left join in window", "SELECT demo.id, demo1.size FROM demo LEFT JOIN demo1 ON demo.id = demo1.id "
     "GROUP BY TUMBLINGWINDOW(ss, 10)", NULL,
     {{1000, "demo", "{\"id\":1}"}, {2000, "demo", "{\"id\":2}"}, {3000, "demo1", "{\"id\":2,\"size\":6}"},
      {10000, NULL, NULL}},
     {"[{\"id\":1},{\"id\":2,\"size\":6}]"}},
    {NULL},
};

static const fx_case event[] = {
    {"event tumbling", "SELECT count(*) AS c, window_start() AS ws, window_end() AS we FROM demoE "
     "GROUP BY TUMBLINGWINDOW(ss, 10)", "{\"isEventTime\":true,\"lateTolerance\":0}",
     {{1, "demoE", "{\"ts\":5005000}"}, {2, "demoE", "{\"ts\":5008000}"}, {3, "demoE", "{\"ts\":5012000}"},
      {4, "demoE", "{\"ts\":5003000}"}, {5, "demoE", "{\"ts\":5025000}"}},
     {"[{\"c\":2,\"we\":5010000,\"ws\":5005000}]", "[{\"c\":1,\"we\":5020000,\"ws\":5010000}]"}},
    {"event time with tolerance", "SELECT ts FROM demoE GROUP BY TUMBLINGWINDOW(ss, 10)",
     "{\"isEventTime\":true,\"lateTolerance\":\"2s\"}",
     {{1, "demoE", "{\"ts\":6001000}"}, {2, "demoE", "{\"ts\":6011000}"}, {3, "demoE", "{\"ts\":6009000}"},
      {4, "demoE", "{\"ts\":6012000}"}},
     {"[{\"ts\":6001000},{\"ts\":6009000}]"}},
    {"event order restored", "SELECT ts FROM demoE", "{\"isEventTime\":true,\"lateTolerance\":1000}",
     {{1, "demoE", "{\"ts\":7002000}"}, {2, "demoE", "{\"ts\":7001500}"}, {3, "demoE", "{\"ts\":7004000}"}},
     {"[{\"ts\":7001500}]", "[{\"ts\":7002000}]"}},
    {"event hopping", "SELECT count(*) AS c FROM demoE GROUP BY HOPPINGWINDOW(ss, 10, 5)",
     "{\"isEventTime\":true,\"lateTolerance\":0}",
     {{1, "demoE", "{\"ts\":10001000}"}, {2, "demoE", "{\"ts\":10004000}"}, {3, "demoE", "{\"ts\":10007000}"},
      {4, "demoE", "{\"ts\":10016000}"}},
     {"[{\"c\":2}]", "[{\"c\":3}]", "[{\"c\":1}]"}},
    {"event count window", "SELECT ts FROM demoE GROUP BY COUNTWINDOW(2)", "{\"isEventTime\":true}",
     {{1, "demoE", "{\"ts\":11002000}"}, {2, "demoE", "{\"ts\":11001500}"}, {3, "demoE", "{\"ts\":11005000}"}},
     {"[{\"ts\":11001500},{\"ts\":11002000}]"}},
    {"event time late event dropped", "SELECT ts FROM demoE", "{\"isEventTime\":true,\"lateTolerance\":0}",
     {{1, "demoE", "{\"ts\":12005000}"}, {2, "demoE", "{\"ts\":12001000}"}, {3, "demoE", "{\"ts\":12006000}"}},
     {"[{\"ts\":12005000}]", "[{\"ts\":12006000}]"}},
    {"event time from RFC 3339 strings", "SELECT count(*) AS c, window_end() AS we FROM demoE "
     "GROUP BY TUMBLINGWINDOW(ss, 10)", "{\"isEventTime\":true,\"lateTolerance\":0}",
     {{1, "demoE", "{\"ts\":\"2026-01-01T00:00:01.500Z\"}"}, {2, "demoE", "{\"ts\":\"2026-01-01T01:00:12+01:00\"}"}},
     {"[{\"c\":1,\"we\":1767225610000}]"}},
    {"event join waits for both streams", "SELECT count(*) AS c FROM demoE INNER JOIN demoE2 ON demoE.id = demoE2.id "
     "GROUP BY TUMBLINGWINDOW(ss, 10)", "{\"isEventTime\":true,\"lateTolerance\":0}",
     {{1, "demoE", "{\"id\":1,\"ts\":14001000}"}, {2, "demoE", "{\"id\":2,\"ts\":14012000}"},
      {3, "demoE2", "{\"id\":1,\"ts\":14002000}"}, {4, "demoE2", "{\"id\":2,\"ts\":14013000}"}},
     {"[{\"c\":1}]"}},
    {"event sliding", "SELECT count(*) AS c FROM demoE GROUP BY SLIDINGWINDOW(ss, 2)",
     "{\"isEventTime\":true,\"lateTolerance\":0}",
     {{1, "demoE", "{\"ts\":8001000}"}, {2, "demoE", "{\"ts\":8002000}"}, {3, "demoE", "{\"ts\":8004500}"}},
     {"[{\"c\":1}]", "[{\"c\":2}]", "[{\"c\":1}]"}},
    {"event session", "SELECT count(*) AS c FROM demoE GROUP BY SESSIONWINDOW(ss, 100, 3)",
     "{\"isEventTime\":true,\"lateTolerance\":0}",
     {{1, "demoE", "{\"ts\":9001000}"}, {2, "demoE", "{\"ts\":9002000}"}, {3, "demoE", "{\"ts\":9009000}"},
      {4, "demoE", "{\"ts\":9013000}"}},
     {"[{\"c\":2}]", "[{\"c\":1}]"}},
    {"event session cut at max duration", "SELECT count(*) AS c FROM demoE GROUP BY SESSIONWINDOW(ss, 10, 5)",
     "{\"isEventTime\":true,\"lateTolerance\":0}",
     {{1, "demoE", "{\"ts\":13001000}"}, {2, "demoE", "{\"ts\":13004000}"}, {3, "demoE", "{\"ts\":13008000}"},
      {4, "demoE", "{\"ts\":13012000}"}, {5, "demoE", "{\"ts\":13016000}"}, {6, "demoE", "{\"ts\":13021000}"},
      {7, "demoE", "{\"ts\":13030000}"}},
     {"[{\"c\":5}]", "[{\"c\":1}]"}},
    {NULL},
};

static void test_plain(void) { fx_run_cases(streams, plain); }
static void test_processing_windows(void) { fx_run_cases(streams, processing); }
static void test_event_windows(void) { fx_run_cases(streams, event); }

/* A one-hour tumbling window under basic.timezone (env, or NULL for the default Local) started at
 * the fixture's clock (1,000 s after the epoch): checks it has not fired 1 ms before boundary and
 * has fired at it. */
static void hour_window_ends_at(const char *env, int64_t boundary)
{
    fx f;
    fx_open_env(&f, NULL, env);
    fx_stream(&f, streams[0]);
    ek_err err = {0};
    CU_ASSERT_EQUAL_FATAL(fx_rule(&f, "tz", "SELECT count(*) AS c FROM demo GROUP BY TUMBLINGWINDOW(hh, 1)", NULL, &err), 0);
    fx_step(&f, f.now + 1, "demo", "{\"a\":1}");
    fx_step(&f, boundary - 1, NULL, NULL);
    CU_ASSERT_EQUAL(f.nout, 0);
    fx_step(&f, boundary, NULL, NULL);
    CU_ASSERT_EQUAL(f.nout, 1);
    if (f.nout != 1) fprintf(stderr, "\n  %s: expected the window to end at %lld\n", env, (long long)boundary);
    else CU_ASSERT_STRING_EQUAL(f.out[0], "[{\"c\":1}]");
    fx_close(&f, false);
}

/* eKuiper gives a count window's window_start() and window_end() as the wall clock when it fires
 * (both the same), not its rows' times; in event time too. */
static void test_count_window_bounds(void)
{
    fx f;
    fx_open(&f, NULL);
    fx_stream(&f, streams[0]);
    fx_stream(&f, streams[2]);
    ek_err err = {0};
    CU_ASSERT_EQUAL_FATAL(fx_rule(&f, "cw", "SELECT count(*) AS c, window_start() AS ws, window_end() AS we FROM demo "
                                  "GROUP BY COUNTWINDOW(2)", NULL, &err), 0);
    fx_step(&f, 1000001, "demo", "{\"a\":1}");
    fx_step(&f, 1000005, "demo", "{\"a\":2}");
    CU_ASSERT_EQUAL_FATAL(f.nout, 1);
    CU_ASSERT_STRING_EQUAL(f.out[0], "[{\"c\":2,\"we\":1000005,\"ws\":1000005}]");
    fx_reset_out(&f);
    CU_ASSERT_EQUAL_FATAL(fx_rule(&f, "cwe", "SELECT count(*) AS c, window_start() AS ws, window_end() AS we FROM demoE "
                                  "GROUP BY COUNTWINDOW(2)", "{\"isEventTime\":true,\"lateTolerance\":0}", &err), 0);
    fx_step(&f, 1000010, "demoE", "{\"ts\":10}");
    fx_step(&f, 1000020, "demoE", "{\"ts\":20}");
    CU_ASSERT_EQUAL_FATAL(f.nout, 1);  /* no tolerance: the watermark reaches 20 with the second row */
    CU_ASSERT_STRING_EQUAL(f.out[0], "[{\"c\":2,\"we\":1000020,\"ws\":1000020}]");
    fx_close(&f, false);
}

/* The incremental window evaluates its plain fields under basic.timezone as the ordinary one does. */
static void test_incremental_timezone(void)
{
    fx f;
    fx_open_env(&f, NULL, "KUIPER__BASIC__TIMEZONE=Asia/Kolkata");
    fx_stream(&f, streams[0]);
    ek_err err = {0};
    const char *sql = "SELECT format_time(window_end(), 'HH:mm') AS t, count(*) AS c FROM demo "
                      "GROUP BY TUMBLINGWINDOW(hh, 1)";
    CU_ASSERT_EQUAL_FATAL(fx_rule(&f, "inc", sql, "{\"planOptimizeStrategy\":{\"enableIncrementalWindow\":true}}",
                                  &err), 0);
    CU_ASSERT_EQUAL_FATAL(fx_rule(&f, "ord", sql, NULL, &err), 0);
    fx_step(&f, f.now + 1, "demo", "{\"a\":1}");
    fx_step(&f, 1800000, NULL, NULL);  /* +05:30: the hour ends at 00:30 UTC, 06:00 in Kolkata */
    CU_ASSERT_EQUAL_FATAL(f.nout, 2);
    CU_ASSERT_STRING_EQUAL(f.out[0], "[{\"c\":1,\"t\":\"06:00\"}]");
    CU_ASSERT_STRING_EQUAL(f.out[1], "[{\"c\":1,\"t\":\"06:00\"}]");
    fx_close(&f, false);
}

/* A plain field the incremental window cannot evaluate is left out of the output and counted as
 * an exception of the operator, not lost. */
static void test_incremental_field_error(void)
{
    fx f;
    fx_open(&f, NULL);
    fx_stream(&f, streams[0]);
    ek_err err = {0};
    CU_ASSERT_EQUAL_FATAL(fx_rule(&f, "incerr", "SELECT abs(color) AS x, count(*) AS c FROM demo GROUP BY color, "
                                  "TUMBLINGWINDOW(ss, 10)",
                                  "{\"planOptimizeStrategy\":{\"enableIncrementalWindow\":true}}", &err), 0);
    fx_step(&f, 1001000, "demo", "{\"color\":\"red\"}");
    fx_step(&f, 1010000, NULL, NULL);
    CU_ASSERT_EQUAL_FATAL(f.nout, 1);
    CU_ASSERT_STRING_EQUAL(f.out[0], "[{\"c\":1}]");
    CU_ASSERT_EQUAL(fx_status_int(&f, "incerr", "op_2_inc_agg_window_0_exceptions_total"), 1);
    fx_close(&f, false);
}

static void test_timezone(void)
{
    hour_window_ends_at("KUIPER__BASIC__TIMEZONE=UTC", 3600000);
    hour_window_ends_at("KUIPER__BASIC__TIMEZONE=Asia/Kolkata", 1800000);    /* +05:30: ends at 00:30 UTC */
    hour_window_ends_at("KUIPER__BASIC__TIMEZONE=Australia/Eucla", 4500000);  /* +08:45 (in 1970): ends at 01:15 UTC */
    fx f;
    fx_open_env(&f, NULL, "KUIPER__BASIC__TIMEZONE=Mars/Olympus_Mons");
    fx_stream(&f, streams[0]);
    ek_err err = {0};
    CU_ASSERT_NOT_EQUAL(fx_rule(&f, "bad", "SELECT count(*) AS c FROM demo GROUP BY TUMBLINGWINDOW(hh, 1)", NULL, &err), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "basic.timezone: unknown time zone \"Mars/Olympus_Mons\""));
    fx_close(&f, false);
}

void ek_register_tests(void)
{
    static const ek_test_case cases[] = {
        {"projection, filter, output shapes", test_plain},
        {"windows on processing time", test_processing_windows},
        {"windows on event time", test_event_windows},
        {"windows align to basic.timezone", test_timezone},
        {"the incremental window's fields read basic.timezone", test_incremental_timezone},
        {"the incremental window counts a field it cannot evaluate", test_incremental_field_error},
        {"count window bounds are the wall clock at the firing", test_count_window_bounds},
        {NULL, NULL},
    };
    ek_add_suite("rules_window", cases);
}
