/* Parser tests, part 3: every SQL statement of eKuiper's SQL reference documentation
 * (docs/en_US/sqls: statements, streams, tables, windows, joins, JSON expressions, lexical
 * elements, and the function pages' usage examples), verbatim, with the canonical text each must
 * print. Placeholders in the docs' syntax summaries ("column1, column2, ...", "<data_type>") are
 * not statements and are left out; everything else is here. */
#include "engine/mem.h"
#include "sql/sql.h"
#include "tests/unit/test_util.h"

#include <string.h>

static const char *const cases[][2] = {
    {"SELECT collect(a) as r1 FROM test GROUP BY TumblingWindow(ss, 10)",
     "SELECT collect(a) AS r1 FROM test GROUP BY TUMBLINGWINDOW(ss, 10)"},
    {"SELECT collect(*) as r1 FROM test GROUP BY TumblingWindow(ss, 10)",
     "SELECT collect(*) AS r1 FROM test GROUP BY TUMBLINGWINDOW(ss, 10)"},
    {"SELECT collect(*)[1]->a as r1 FROM test GROUP BY TumblingWindow(ss, 10)",
     "SELECT collect(*)[1]->a AS r1 FROM test GROUP BY TUMBLINGWINDOW(ss, 10)"},
    {"select lag(Status) as Status, ts - lag(ts, 1, ts, true) OVER (WHEN had_changed(true, statusCode)) as duration from demo",
     "SELECT lag(Status) AS Status, (ts - lag(ts, 1, ts, TRUE) OVER (WHEN had_changed(TRUE, statusCode))) AS duration FROM demo"},
    {"SELECT echo(avg) as r1 FROM test",
     "SELECT echo(avg) AS r1 FROM test"},
    {"SELECT countPlusOne(avg) as r1 FROM test",
     "SELECT countPlusOne(avg) AS r1 FROM test"},
    {"SELECT accumulateWordCount(avg,sep) as r1 FROM test",
     "SELECT accumulateWordCount(avg, sep) AS r1 FROM test"},
    {"SELECT resize(avg,width,height) as r1 FROM test",
     "SELECT resize(avg, width, height) AS r1 FROM test"},
    {"SELECT countPlusOne(avg,maxWidth, maxHeight) as r1 FROM test",
     "SELECT countPlusOne(avg, maxWidth, maxHeight) AS r1 FROM test"},
    {"SELECT geohashEncode(la,lo) FROM test",
     "SELECT geohashEncode(la, lo) FROM test"},
    {"SELECT geohashEncodeInt(la,lo) FROM test",
     "SELECT geohashEncodeInt(la, lo) FROM test"},
    {"SELECT geohashDecode(hash) FROM test",
     "SELECT geohashDecode(hash) FROM test"},
    {"SELECT geohashDecodeInt(hash) FROM test",
     "SELECT geohashDecodeInt(hash) FROM test"},
    {"SELECT geohashBoundingBox(hash) FROM test",
     "SELECT geohashBoundingBox(hash) FROM test"},
    {"SELECT geohashBoundingBoxInt(hash) FROM test",
     "SELECT geohashBoundingBoxInt(hash) FROM test"},
    {"SELECT geohashNeighbor(hash,direction) FROM test",
     "SELECT geohashNeighbor(hash, direction) FROM test"},
    {"SELECT geohashNeighborInt(hash,direction) FROM test",
     "SELECT geohashNeighborInt(hash, direction) FROM test"},
    {"SELECT geohashNeighbors(hash) FROM test",
     "SELECT geohashNeighbors(hash) FROM test"},
    {"SELECT geohashNeighborsInt(hash) FROM test",
     "SELECT geohashNeighborsInt(hash) FROM test"},
    {"SELECT labelImage(self) FROM tfdemo",
     "SELECT labelImage(self) FROM tfdemo"},
    {"SELECT tfLite(model_name, input_data) FROM tfdemo",
     "SELECT tfLite(model_name, input_data) FROM tfdemo"},
    {"SELECT lpad(col, len) from source WHERE len < 999",
     "SELECT lpad(col, len) FROM source WHERE (len < 999)"},
    {"SELECT rpad(col, len) from source WHERE len < 999999",
     "SELECT rpad(col, len) FROM source WHERE (len < 999999)"},
    {"SELECT children FROM demo",
     "SELECT children FROM demo"},
    {"SELECT children[0] FROM demo",
     "SELECT children[0] FROM demo"},
    {"SELECT children[1] FROM demo",
     "SELECT children[1] FROM demo"},
    {"SELECT children[-1] FROM demo",
     "SELECT children[-1] FROM demo"},
    {"SELECT children[-2] FROM demo",
     "SELECT children[-2] FROM demo"},
    {"SELECT d.friends[0]->last FROM demo AS d",
     "SELECT d.friends[0]->last FROM demo AS d"},
    {"SELECT children[0:1] FROM demo",
     "SELECT children[0:1] FROM demo"},
    {"SELECT children[1:-1] FROM demo",
     "SELECT children[1:-1] FROM demo"},
    {"SELECT children[0:-1] FROM demo",
     "SELECT children[0:-1] FROM demo"},
    {"SELECT children[:2] FROM demo",
     "SELECT children[:2] FROM demo"},
    {"SELECT children[x:y] FROM demo",
     "SELECT children[x:y] FROM demo"},
    {"SELECT children[x+1:y] FROM demo",
     "SELECT children[(x + 1):y] FROM demo"},
    {"SELECT followers->Group1[:1]->first FROM demo",
     "SELECT followers->Group1[:1]->first FROM demo"},
    {"SELECT json_path_query(followers, \"$.Group1[*].last\") FROM demo",
     "SELECT json_path_query(followers, '$.Group1[*].last') FROM demo"},
    {"SELECT name->last FROM demo where json_path_exists(followers, \"$.Group1[? @.age>30]\")",
     "SELECT name->last FROM demo WHERE json_path_exists(followers, '$.Group1[? @.age>30]')"},
    {"SELECT json_path_exists(followers, \"$.Group1[? @.age>30].last\") FROM demo",
     "SELECT json_path_exists(followers, '$.Group1[? @.age>30].last') FROM demo"},
    {"SELECT json_path_exists(followers, \"$[\\\"my.follower\\\"]\") FROM demo",
     "SELECT json_path_exists(followers, '$[\"my.follower\"]') FROM demo"},
    {"SELECT * FROM demo1 where `from`=\"device1\"",
     "SELECT * FROM demo1 WHERE (`from` = 'device1')"},
    {"CREATE STREAM `stream` ( USERID BIGINT, FIRST_NAME STRING, LAST_NAME STRING, NICKNAMES ARRAY(STRING), Gender BOOLEAN, `地址` STRUCT(STREET_NAME STRING, NUMBER BIGINT), ) WITH (DATASOURCE=\"users\", FORMAT=\"JSON\")",
     "CREATE STREAM stream (USERID bigint, FIRST_NAME string, LAST_NAME string, NICKNAMES array(string), Gender boolean, 地址 struct(STREET_NAME string, NUMBER bigint)) WITH (DATASOURCE=\"users\", FORMAT=\"JSON\")"},
    {"SELECT TRUE AS field1 FROM demo",
     "SELECT TRUE AS field1 FROM demo"},
    {"select * from demo",
     "SELECT * FROM demo"},
    {"select * except(a,b) from demo",
     "SELECT * EXCEPT(a, b) FROM demo"},
    {"select * replace(a+b as c) from demo",
     "SELECT * REPLACE((a + b) AS c) FROM demo"},
    {"SELECT * EXCEPT(column_name1, column_name2) REPLACE(expression1 as column_name1, expression3 as column_name3) FROM stream1",
     "SELECT * EXCEPT(column_name1, column_name2) REPLACE(expression1 AS column_name1, expression3 AS column_name3) FROM stream1"},
    {"select a + 1 as sum1, sum1 + 1 as sum2 from demo",
     "SELECT (a + 1) AS sum1, (sum1 + 1) AS sum2 FROM demo"},
    {"select a + 1 as a, a + 2 as sum2 from demo",
     "SELECT (a + 1) AS a, (a + 2) AS sum2 FROM demo"},
    {"SELECT column_name(s) FROM stream1 LEFT JOIN stream2 ON stream1.column_name = stream2.column_name",
     "SELECT column_name(s) FROM stream1 LEFT JOIN stream2 ON (stream1.column_name = stream2.column_name)"},
    {"select * from stream1 left join stream2 on stream1.column = stream2.column group by countwindow(5)",
     "SELECT * FROM stream1 LEFT JOIN stream2 ON (stream1.column = stream2.column) GROUP BY COUNTWINDOW(5)"},
    {"SELECT column_name(s) FROM stream1 RIGHT JOIN stream2 ON stream1.column_name = stream2.column_name",
     "SELECT column_name(s) FROM stream1 RIGHT JOIN stream2 ON (stream1.column_name = stream2.column_name)"},
    {"select * from stream1 right join stream2 on stream1.column = stream2.column group by countwindow(5)",
     "SELECT * FROM stream1 RIGHT JOIN stream2 ON (stream1.column = stream2.column) GROUP BY COUNTWINDOW(5)"},
    {"SELECT column_name(s) FROM stream1 FULL JOIN stream2 ON stream1.column_name = stream2.column_name WHERE condition",
     "SELECT column_name(s) FROM stream1 FULL JOIN stream2 ON (stream1.column_name = stream2.column_name) WHERE condition"},
    {"select * from stream1 full join stream2 on stream1.column = stream2.column group by countwindow(5)",
     "SELECT * FROM stream1 FULL JOIN stream2 ON (stream1.column = stream2.column) GROUP BY COUNTWINDOW(5)"},
    {"select * from demo where a > 10",
     "SELECT * FROM demo WHERE (a > 10)"},
    {"select * from demo where a > 10 and a < 15",
     "SELECT * FROM demo WHERE ((a > 10) AND (a < 15))"},
    {"select * from demo where a > 10 or a < 15",
     "SELECT * FROM demo WHERE ((a > 10) OR (a < 15))"},
    {"select * from demo where a between 10 and 15",
     "SELECT * FROM demo WHERE (a BETWEEN 10 AND 15)"},
    {"select * from demo where a like \"prefix%\"",
     "SELECT * FROM demo WHERE (a LIKE 'prefix%')"},
    {"SELECT column_name(s) FROM stream1 GROUP BY column_name",
     "SELECT column_name(s) FROM stream1 GROUP BY column_name"},
    {"select * from demo group by a, countwindow(5)",
     "SELECT * FROM demo GROUP BY a, COUNTWINDOW(5)"},
    {"SELECT temp AS t, name FROM topic/sensor1 WHERE name = \"dname\" GROUP BY name HAVING count(name) > 3",
     "SELECT temp AS t, name FROM topic/sensor1 WHERE (name = 'dname') GROUP BY name HAVING (count(name) > 3)"},
    {"select * from demo group by countwindow(5) having a > 10",
     "SELECT * FROM demo GROUP BY COUNTWINDOW(5) HAVING (a > 10)"},
    {"select * from demo group by countwindow(5) order by a ASC",
     "SELECT * FROM demo GROUP BY COUNTWINDOW(5) ORDER BY a ASC"},
    {"select * from demo where a > 10 group by countwindow(5) limit 10",
     "SELECT * FROM demo WHERE (a > 10) GROUP BY COUNTWINDOW(5) LIMIT 10"},
    {"SELECT CASE color WHEN \"red\" THEN 1 WHEN \"yellow\" THEN 2 ELSE 3 END as colorInteger, humidity FROM tbl",
     "SELECT CASE color WHEN 'red' THEN 1 WHEN 'yellow' THEN 2 ELSE 3 END AS colorInteger, humidity FROM tbl"},
    {"SELECT CASE WHEN size < 150 THEN \"S\" WHEN size < 170 THEN \"M\" WHEN size < 175 THEN \"L\" ELSE \"XL\" END as sizeLabel FROM tbl",
     "SELECT CASE WHEN (size < 150) THEN 'S' WHEN (size < 170) THEN 'M' WHEN (size < 175) THEN 'L' ELSE 'XL' END AS sizeLabel FROM tbl"},
    {"CREATE STREAM my_stream () WITH ( datasource = \"topic/temperature\", FORMAT = \"json\", KEY = \"id\")",
     "CREATE STREAM my_stream () WITH (DATASOURCE=\"topic/temperature\", FORMAT=\"json\", KEY=\"id\")"},
    {"DESCRIBE STREAM stream_name",
     "DESCRIBE STREAM stream_name"},
    {"DROP STREAM stream_name",
     "DROP STREAM stream_name"},
    {"SHOW STREAMS",
     "SHOW STREAMS"},
    {"DESCRIBE TABLE table_name",
     "DESCRIBE TABLE table_name"},
    {"DROP TABLE stream_name",
     "DROP TABLE stream_name"},
    {"SHOW TABLES",
     "SHOW TABLES"},
    {"SELECT count(*) FROM demo GROUP BY ID, TUMBLINGWINDOW(ss, 10)",
     "SELECT count(*) FROM demo GROUP BY ID, TUMBLINGWINDOW(ss, 10)"},
    {"SELECT count(*) FROM demo GROUP BY ID, HOPPINGWINDOW(ss, 10, 5)",
     "SELECT count(*) FROM demo GROUP BY ID, HOPPINGWINDOW(ss, 10, 5)"},
    {"SELECT count(*) FROM demo GROUP BY ID, SLIDINGWINDOW(mi, 1)",
     "SELECT count(*) FROM demo GROUP BY ID, SLIDINGWINDOW(mi, 1)"},
    {"SELECT count(*) FROM demo GROUP BY ID, SLIDINGWINDOW(ss, 5, 5)",
     "SELECT count(*) FROM demo GROUP BY ID, SLIDINGWINDOW(ss, 5, 5)"},
    {"SELECT count(*) FROM demo GROUP BY ID, SESSIONWINDOW(mi, 2, 1)",
     "SELECT count(*) FROM demo GROUP BY ID, SESSIONWINDOW(mi, 2, 1)"},
    {"SELECT * from demo group by statewindow(a > 1, a > 5)",
     "SELECT * FROM demo GROUP BY STATEWINDOW((a > 1), (a > 5))"},
    {"SELECT * from demo group by statewindow(a > 1)",
     "SELECT * FROM demo GROUP BY STATEWINDOW((a > 1))"},
    {"SELECT * from demo group by statewindow(a = 1, a = 5) over (partition by b)",
     "SELECT * FROM demo GROUP BY STATEWINDOW((a = 1), (a = 5)) OVER (PARTITION BY b)"},
    {"SELECT * FROM demo WHERE temperature > 20 GROUP BY COUNTWINDOW(5)",
     "SELECT * FROM demo WHERE (temperature > 20) GROUP BY COUNTWINDOW(5)"},
    {"SELECT * FROM demo WHERE temperature > 20 GROUP BY COUNTWINDOW(5,1) HAVING COUNT(*) > 2",
     "SELECT * FROM demo WHERE (temperature > 20) GROUP BY COUNTWINDOW(5, 1) HAVING (COUNT(*) > 2)"},
    {"SELECT * FROM demo GROUP BY COUNTWINDOW(3,1) FILTER(where revenue > 100)",
     "SELECT * FROM demo GROUP BY COUNTWINDOW(3, 1) FILTER (WHERE (revenue > 100))"},
    {"SELECT * FROM demo GROUP BY SlidingWindow(ss,1) FILTER(where revenue > 100) OVER(when revenue > 200)",
     "SELECT * FROM demo GROUP BY SLIDINGWINDOW(ss, 1) FILTER (WHERE (revenue > 100)) OVER (WHEN (revenue > 200))"},
    {"SELECT * FROM demo GROUP BY SlidingWindow(ss,1) OVER(when revenue > 200)",
     "SELECT * FROM demo GROUP BY SLIDINGWINDOW(ss, 1) OVER (WHEN (revenue > 200))"},
    {"SELECT CHANGED_COL(true, temperature) AS myTemp, CHANGED_COL(true, humidity) AS myHum FROM demo",
     "SELECT CHANGED_COL(TRUE, temperature) AS myTemp, CHANGED_COL(TRUE, humidity) AS myHum FROM demo"},
    {"SELECT CHANGED_COLS(\"\", true, temperature) FROM demo",
     "SELECT CHANGED_COLS('', TRUE, temperature) FROM demo"},
    {"SELECT CHANGED_COLS(\"c_\", false, *) FROM demo",
     "SELECT CHANGED_COLS('c_', FALSE, *) FROM demo"},
    {"SELECT CHANGED_COLS(\"c_\", true, temperature, humidity) FROM demo",
     "SELECT CHANGED_COLS('c_', TRUE, temperature, humidity) FROM demo"},
    {"SELECT CHANGED_COLS(\"t\", true, avg(temperature)) FROM demo GROUP BY CountWindow(2)",
     "SELECT CHANGED_COLS('t', TRUE, avg(temperature)) FROM demo GROUP BY COUNTWINDOW(2)"},
    {"SELECT deduplicate(a, false)->a as r1 FROM demo GROUP BY SlidingWindow(hh, 1)",
     "SELECT deduplicate(a, FALSE)->a AS r1 FROM demo GROUP BY SLIDINGWINDOW(hh, 1)"},
    {"SELECT deduplicate(a, true) as r1 FROM test GROUP BY TumblingWindow(ss, 10)",
     "SELECT deduplicate(a, TRUE) AS r1 FROM test GROUP BY TUMBLINGWINDOW(ss, 10)"},
    {"SELECT demo.age FROM demo",
     "SELECT demo.age FROM demo"},
    {"SELECT demo.name->first FROM demo",
     "SELECT demo.name->first FROM demo"},
    {"SELECT demo.name.first FROM demo",
     "SELECT demo.name->first FROM demo"},
    {"SELECT extract(data) FROM demo",
     "SELECT extract(data) FROM demo"},
    {"SELECT friends[:1]->first FROM demo",
     "SELECT friends[:1]->first FROM demo"},
    {"SELECT merge_agg(*) as r1 FROM test GROUP BY TumblingWindow(ss, 10)",
     "SELECT merge_agg(*) AS r1 FROM test GROUP BY TUMBLINGWINDOW(ss, 10)"},
    {"SELECT merge_agg(a) as r1 FROM test GROUP BY TumblingWindow(ss, 10)",
     "SELECT merge_agg(a) AS r1 FROM test GROUP BY TUMBLINGWINDOW(ss, 10)"},
    {"SELECT merge_agg(b) as r1 FROM test GROUP BY TumblingWindow(ss, 10)",
     "SELECT merge_agg(b) AS r1 FROM test GROUP BY TUMBLINGWINDOW(ss, 10)"},
    {"SELECT name->first AS fname FROM demo",
     "SELECT name->first AS fname FROM demo"},
    {"SELECT name.first AS fname FROM demo",
     "SELECT name.first AS fname FROM demo"},
    {"SELECT ops->functionA.numArgs AS num FROM demo",
     "SELECT ops->functionA->numArgs AS num FROM demo"},
    {"SELECT ts, temperature, humidity FROM demo",
     "SELECT ts, temperature, humidity FROM demo"},
    {"SELECT unnest(a) FROM demo",
     "SELECT unnest(a) FROM demo"},
    {"SELECT unnest(a), b FROM demo",
     "SELECT unnest(a), b FROM demo"},
    {"SELECT unnest(x), c FROM demo",
     "SELECT unnest(x), c FROM demo"},
    {"Select temperature * 2 from demo where temperature > 20",
     "SELECT (temperature * 2) FROM demo WHERE (temperature > 20)"},
    {NULL, NULL},
};

/* Forms the docs show as unsupported, or that are typos there: refused with a clear message. */
static const char *const refused[][2] = {
    {"SELECT demo.friends[*]->first FROM demo", "line 1, column 21: found \"*\", expected an expression"},
    {"SELECT ops->*->numArgs FROM demo", "line 1, column 13: found \"*\", expected a field name"},
    {"select * from stream1 cross outer join on stream2 stream1.column = stream2.column group by countwindow(5);",
     "line 1, column 40: found \"on\", expected a stream or table name"},
    {NULL, NULL},
};

static void test_doc_refused(void)
{
    for (size_t i = 0; refused[i][0]; i++) {
        ek_stmt *st = NULL;
        ek_err err = {0};
        CU_ASSERT_EQUAL(ek_sql_parse(refused[i][0], &st, &err), EK_EPARSE);
        if (strcmp(err.msg, refused[i][1]) != 0) fprintf(stderr, "\n  %s\n  got  %s\n  want %s\n", refused[i][0], err.msg, refused[i][1]);
        CU_ASSERT_STRING_EQUAL(err.msg, refused[i][1]);
    }
}

static void test_doc_examples(void)
{
    int failures = 0;
    size_t n = 0;
    for (; cases[n][0]; n++) {
        ek_stmt *st = NULL;
        ek_err err = {0};
        if (ek_sql_parse(cases[n][0], &st, &err) != 0) {
            fprintf(stderr, "\n  parse failed: %s\n    %s\n", cases[n][0], err.msg);
            failures++;
            continue;
        }
        char *got = ek_stmt_to_string(st);
        if (strcmp(got, cases[n][1]) != 0) {
            fprintf(stderr, "\n  sql:  %s\n  got:  %s\n  want: %s\n", cases[n][0], got, cases[n][1]);
            failures++;
        }
        ek_free(got);
        ek_stmt_free(st);
    }
    CU_ASSERT_EQUAL(failures, 0);
    CU_ASSERT(n >= 100);
}

void ek_register_tests(void)
{
    static const ek_test_case tests[] = {
        {"every SQL example of eKuiper's SQL docs", test_doc_examples},
        {"unsupported forms the docs mention", test_doc_refused},
        {NULL, NULL},
    };
    ek_add_suite("sql_parser_docs", tests);
}
