/* Parser tests, part 1: statements that must parse, each with the canonical text the printer
 * gives back (fully parenthesised, keywords upper case), so a test says exactly how the statement
 * was understood. The table holds every SQL example of eKuiper's SQL reference (statements,
 * windows, joins, JSON expressions, lexical elements, function usage) plus our own cases; every
 * case is also printed, parsed again and printed again to check the printer round-trips.
 * Errors and the AST's finer structure are in test_sql_parser_errors.c. */
#include "engine/mem.h"
#include "sql/sql.h"
#include "tests/unit/test_util.h"

#include <string.h>

typedef struct pcase {
    const char *sql;
    const char *expect;
} pcase;

static const pcase cases[] = {
    {"SELECT * FROM demo",
     "SELECT * FROM demo"},
    {"select * from demo;",
     "SELECT * FROM demo"},
    {"SELECT a, b, c FROM demo",
     "SELECT a, b, c FROM demo"},
    {"SELECT a AS x, b AS `select` FROM demo",
     "SELECT a AS x, b AS `select` FROM demo"},
    {"SELECT demo.a FROM demo",
     "SELECT demo.a FROM demo"},
    {"SELECT d.a FROM demo AS d",
     "SELECT d.a FROM demo AS d"},
    {"SELECT `a-b`, `hello world`, `中文Chinese` FROM demo",
     "SELECT `a-b`, `hello world`, 中文Chinese FROM demo"},
    {"SELECT `select`, `and` FROM demo",
     "SELECT `select`, `and` FROM demo"},
    {"SELECT * FROM demo1 WHERE `from` = \"device1\"",
     "SELECT * FROM demo1 WHERE (`from` = 'device1')"},
    {"SELECT TRUE AS field1, FALSE AS field2 FROM demo",
     "SELECT TRUE AS field1, FALSE AS field2 FROM demo"},
    {"SELECT 1, 2.5, -3, -4.25, 'str', \"dq\" FROM demo",
     "SELECT 1, 2.5, -3, -4.25, 'str', 'dq' FROM demo"},
    {"SELECT 1e3, 2.5E-2, .5 FROM demo",
     "SELECT 1000.0, 0.025, 0.5 FROM demo"},
    {"SELECT 9223372036854775807 FROM demo",
     "SELECT 9223372036854775807 FROM demo"},
    {"SELECT a + b * c FROM demo",
     "SELECT (a + (b * c)) FROM demo"},
    {"SELECT (a + b) * c FROM demo",
     "SELECT ((a + b) * c) FROM demo"},
    {"SELECT a - b - c FROM demo",
     "SELECT ((a - b) - c) FROM demo"},
    {"SELECT a / b % c FROM demo",
     "SELECT ((a / b) % c) FROM demo"},
    {"SELECT a & b | c ^ d FROM demo",
     "SELECT (((a & b) | c) ^ d) FROM demo"},
    {"SELECT a * b & c FROM demo",
     "SELECT ((a * b) & c) FROM demo"},
    {"SELECT -a, +b, - -c FROM demo",
     "SELECT (-a), (+b), (-(-c)) FROM demo"},
    {"SELECT a = 1, a != 1, a <> 1, a < 1, a <= 1, a > 1, a >= 1 FROM demo",
     "SELECT (a = 1), (a != 1), (a != 1), (a < 1), (a <= 1), (a > 1), (a >= 1) FROM demo"},
    {"SELECT * FROM demo WHERE a > 10 AND b < 5 OR c = 1",
     "SELECT * FROM demo WHERE (((a > 10) AND (b < 5)) OR (c = 1))"},
    {"SELECT * FROM demo WHERE a > 10 AND (b < 5 OR c = 1)",
     "SELECT * FROM demo WHERE ((a > 10) AND ((b < 5) OR (c = 1)))"},
    {"SELECT * FROM demo WHERE NOT a > 10",
     "SELECT * FROM demo WHERE (NOT (a > 10))"},
    {"SELECT * FROM demo WHERE NOT (a > 10 AND b)",
     "SELECT * FROM demo WHERE (NOT ((a > 10) AND b))"},
    {"SELECT * FROM demo WHERE a BETWEEN 10 AND 15",
     "SELECT * FROM demo WHERE (a BETWEEN 10 AND 15)"},
    {"SELECT * FROM demo WHERE a NOT BETWEEN 10 AND 15 AND b",
     "SELECT * FROM demo WHERE ((a NOT BETWEEN 10 AND 15) AND b)"},
    {"SELECT * FROM demo WHERE a BETWEEN b + 1 AND c * 2",
     "SELECT * FROM demo WHERE (a BETWEEN (b + 1) AND (c * 2))"},
    {"SELECT * FROM demo WHERE a LIKE \"prefix%\"",
     "SELECT * FROM demo WHERE (a LIKE 'prefix%')"},
    {"SELECT * FROM demo WHERE a NOT LIKE '%_x\\%'",
     "SELECT * FROM demo WHERE (a NOT LIKE '%_x\\\\%')"},
    {"SELECT * FROM demo WHERE a LIKE b",
     "SELECT * FROM demo WHERE (a LIKE b)"},
    {"SELECT * FROM demo WHERE a IN (1, 2, 3)",
     "SELECT * FROM demo WHERE (a IN (1, 2, 3))"},
    {"SELECT * FROM demo WHERE a NOT IN (\"x\", \"y\")",
     "SELECT * FROM demo WHERE (a NOT IN ('x', 'y'))"},
    {"SELECT * FROM demo WHERE a IN arr",
     "SELECT * FROM demo WHERE (a IN arr)"},
    {"SELECT * FROM demo WHERE a NOT IN arr->list",
     "SELECT * FROM demo WHERE (a NOT IN arr->list)"},
    {"SELECT * FROM demo WHERE a IN (b)",
     "SELECT * FROM demo WHERE (a IN (b))"},
    {"SELECT * FROM demo WHERE a IS NULL",
     "SELECT * FROM demo WHERE (a IS NULL)"},
    {"SELECT * FROM demo WHERE a IS NOT NULL AND b IS NULL",
     "SELECT * FROM demo WHERE ((a IS NOT NULL) AND (b IS NULL))"},
    {"SELECT * FROM demo WHERE isNull(a)",
     "SELECT * FROM demo WHERE isNull(a)"},
    {"SELECT CASE color WHEN \"red\" THEN 1 WHEN \"yellow\" THEN 2 ELSE 3 END AS colorInteger, humidity FROM tbl",
     "SELECT CASE color WHEN 'red' THEN 1 WHEN 'yellow' THEN 2 ELSE 3 END AS colorInteger, humidity FROM tbl"},
    {"SELECT CASE WHEN size < 150 THEN \"S\" WHEN size < 170 THEN \"M\" WHEN size < 175 THEN \"L\" ELSE \"XL\" END AS sizeLabel FROM tbl",
     "SELECT CASE WHEN (size < 150) THEN 'S' WHEN (size < 170) THEN 'M' WHEN (size < 175) THEN 'L' ELSE 'XL' END AS sizeLabel FROM tbl"},
    {"SELECT CASE WHEN a THEN 1 END FROM demo",
     "SELECT CASE WHEN a THEN 1 END FROM demo"},
    {"SELECT CASE a + 1 WHEN 2 THEN CASE WHEN b THEN 'x' END END FROM demo",
     "SELECT CASE (a + 1) WHEN 2 THEN CASE WHEN b THEN 'x' END END FROM demo"},
    {"SELECT a->b, a->b->c, a.b, a.b.c FROM demo",
     "SELECT a->b, a->b->c, a.b, a.b->c FROM demo"},
    {"SELECT demo.name->first, demo.name.first FROM demo",
     "SELECT demo.name->first, demo.name->first FROM demo"},
    {"SELECT ops->functionA.numArgs AS num FROM demo",
     "SELECT ops->functionA->numArgs AS num FROM demo"},
    {"SELECT children[0], children[1], children[-1], children[-2] FROM demo",
     "SELECT children[0], children[1], children[-1], children[-2] FROM demo"},
    {"SELECT d.friends[0]->last FROM demo AS d",
     "SELECT d.friends[0]->last FROM demo AS d"},
    {"SELECT children[0:1], children[1:-1], children[0:-1], children[:], children[:2], children[1:] FROM demo",
     "SELECT children[0:1], children[1:-1], children[0:-1], children[:], children[:2], children[1:] FROM demo"},
    {"SELECT children[x:y], children[x + 1:y] FROM demo",
     "SELECT children[x:y], children[(x + 1):y] FROM demo"},
    {"SELECT followers->Group1[:1]->first FROM demo",
     "SELECT followers->Group1[:1]->first FROM demo"},
    {"SELECT friends[:1]->first FROM demo",
     "SELECT friends[:1]->first FROM demo"},
    {"SELECT a[0][1], a[0]->b[2] FROM demo",
     "SELECT a[0][1], a[0]->b[2] FROM demo"},
    {"SELECT collect(*)[1]->a AS r1 FROM test GROUP BY TumblingWindow(ss, 10)",
     "SELECT collect(*)[1]->a AS r1 FROM test GROUP BY TUMBLINGWINDOW(ss, 10)"},
    {"SELECT count(*), avg(size), max(a) AS m FROM demo GROUP BY TUMBLINGWINDOW(ss, 10)",
     "SELECT count(*), avg(size), max(a) AS m FROM demo GROUP BY TUMBLINGWINDOW(ss, 10)"},
    {"SELECT * EXCEPT(a, b) FROM demo",
     "SELECT * EXCEPT(a, b) FROM demo"},
    {"SELECT * REPLACE(a + b AS c) FROM demo",
     "SELECT * REPLACE((a + b) AS c) FROM demo"},
    {"SELECT * EXCEPT(a) REPLACE(b * 2 AS b, 'x' AS c) FROM demo",
     "SELECT * EXCEPT(a) REPLACE((b * 2) AS b, 'x' AS c) FROM demo"},
    {"SELECT count(* EXCEPT(a, b, c)) FROM tbl",
     "SELECT count(* EXCEPT(a, b, c)) FROM tbl"},
    {"SELECT count(* REPLACE(a * 2 AS a)) FROM tbl",
     "SELECT count(* REPLACE((a * 2) AS a)) FROM tbl"},
    {"SELECT changed_cols(\"c_\", true, a, b) FROM demo",
     "SELECT changed_cols('c_', TRUE, a, b) FROM demo"},
    {"SELECT changed_cols(\"c_\", true, *) FROM demo",
     "SELECT changed_cols('c_', TRUE, *) FROM demo"},
    {"SELECT demo.* FROM demo",
     "SELECT demo.* FROM demo"},
    {"SELECT s1.*, s2.b FROM s1 INNER JOIN s2 ON s1.id = s2.id GROUP BY TUMBLINGWINDOW(ss, 10)",
     "SELECT s1.*, s2.b FROM s1 INNER JOIN s2 ON (s1.id = s2.id) GROUP BY TUMBLINGWINDOW(ss, 10)"},
    {"SELECT a + 1 AS sum1, sum1 + 1 AS sum2 FROM demo",
     "SELECT (a + 1) AS sum1, (sum1 + 1) AS sum2 FROM demo"},
    {"SELECT a INVISIBLE, a + 1 AS b FROM demo",
     "SELECT a INVISIBLE, (a + 1) AS b FROM demo"},
    {"SELECT a AS x INVISIBLE FROM demo",
     "SELECT a AS x INVISIBLE FROM demo"},
    {"SELECT meta(topic), meta(*), mqtt(topic) FROM demo",
     "SELECT meta(topic), meta(*), mqtt(topic) FROM demo"},
    {"SELECT meta(device.id) AS d FROM demo",
     "SELECT meta(device.id) AS d FROM demo"},
    {"SELECT lag(Status) AS Status, ts - lag(ts, 1, ts, true) OVER (WHEN had_changed(true, statusCode)) AS duration FROM demo",
     "SELECT lag(Status) AS Status, (ts - lag(ts, 1, ts, TRUE) OVER (WHEN had_changed(TRUE, statusCode))) AS duration FROM demo"},
    {"SELECT lag(temp) OVER (PARTITION BY deviceId) FROM demo",
     "SELECT lag(temp) OVER (PARTITION BY deviceId) FROM demo"},
    {"SELECT lag(temp) OVER (PARTITION BY deviceId, line WHEN temp > 10) FROM demo",
     "SELECT lag(temp) OVER (PARTITION BY deviceId, line WHEN (temp > 10)) FROM demo"},
    {"SELECT latest(a, 0) OVER (WHEN b) FROM demo",
     "SELECT latest(a, 0) OVER (WHEN b) FROM demo"},
    {"SELECT acc_sum(a, a > 1, a > 10) FROM demo",
     "SELECT acc_sum(a, (a > 1), (a > 10)) FROM demo"},
    {"SELECT row_number() FROM demo",
     "SELECT row_number() FROM demo"},
    {"SELECT sum(a) FILTER (WHERE a > 1) FROM demo GROUP BY COUNTWINDOW(5)",
     "SELECT sum(a) FILTER (WHERE (a > 1)) FROM demo GROUP BY COUNTWINDOW(5)"},
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
    {"SELECT * FROM demo GROUP BY statewindow(a > 1, a > 5)",
     "SELECT * FROM demo GROUP BY STATEWINDOW((a > 1), (a > 5))"},
    {"SELECT * FROM demo GROUP BY statewindow(a > 1)",
     "SELECT * FROM demo GROUP BY STATEWINDOW((a > 1))"},
    {"SELECT * FROM demo GROUP BY statewindow(a = 1, a = 5) OVER (PARTITION BY b)",
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
    {"SELECT * FROM demo GROUP BY TUMBLINGWINDOW(dd, 1)",
     "SELECT * FROM demo GROUP BY TUMBLINGWINDOW(dd, 1)"},
    {"SELECT * FROM demo GROUP BY TUMBLINGWINDOW(hh, 2)",
     "SELECT * FROM demo GROUP BY TUMBLINGWINDOW(hh, 2)"},
    {"SELECT * FROM demo GROUP BY TUMBLINGWINDOW(ms, 500)",
     "SELECT * FROM demo GROUP BY TUMBLINGWINDOW(ms, 500)"},
    {"SELECT * FROM demo GROUP BY TUMBLINGWINDOW(MI, 3), a, b",
     "SELECT * FROM demo GROUP BY a, b, TUMBLINGWINDOW(mi, 3)"},
    {"SELECT * FROM demo GROUP BY a, TUMBLINGWINDOW(ss, 10), b",
     "SELECT * FROM demo GROUP BY a, b, TUMBLINGWINDOW(ss, 10)"},
    {"SELECT * FROM demo GROUP BY TUMBLINGWINDOW(ss, 10) FILTER (WHERE a > 1)",
     "SELECT * FROM demo GROUP BY TUMBLINGWINDOW(ss, 10) FILTER (WHERE (a > 1))"},
    {"SELECT * FROM demo GROUP BY HOPPINGWINDOW(ss, 10, 10)",
     "SELECT * FROM demo GROUP BY HOPPINGWINDOW(ss, 10, 10)"},
    {"SELECT window_start(), window_end(), count(*) FROM demo GROUP BY TUMBLINGWINDOW(ss, 10)",
     "SELECT window_start(), window_end(), count(*) FROM demo GROUP BY TUMBLINGWINDOW(ss, 10)"},
    {"SELECT * FROM demo GROUP BY COUNTWINDOW(5) HAVING a > 10",
     "SELECT * FROM demo GROUP BY COUNTWINDOW(5) HAVING (a > 10)"},
    {"SELECT * FROM demo GROUP BY COUNTWINDOW(5) ORDER BY a ASC",
     "SELECT * FROM demo GROUP BY COUNTWINDOW(5) ORDER BY a ASC"},
    {"SELECT * FROM demo GROUP BY COUNTWINDOW(5) ORDER BY a DESC, b, c ASC",
     "SELECT * FROM demo GROUP BY COUNTWINDOW(5) ORDER BY a DESC, b ASC, c ASC"},
    {"SELECT * FROM demo WHERE a > 10 GROUP BY COUNTWINDOW(5) LIMIT 10",
     "SELECT * FROM demo WHERE (a > 10) GROUP BY COUNTWINDOW(5) LIMIT 10"},
    {"SELECT * FROM demo LIMIT 0",
     "SELECT * FROM demo LIMIT 0"},
    {"SELECT * FROM demo ORDER BY a LIMIT 3",
     "SELECT * FROM demo ORDER BY a ASC LIMIT 3"},
    {"SELECT * FROM stream1 LEFT JOIN stream2 ON stream1.column = stream2.column GROUP BY COUNTWINDOW(5)",
     "SELECT * FROM stream1 LEFT JOIN stream2 ON (stream1.column = stream2.column) GROUP BY COUNTWINDOW(5)"},
    {"SELECT * FROM stream1 RIGHT JOIN stream2 ON stream1.column = stream2.column GROUP BY COUNTWINDOW(5)",
     "SELECT * FROM stream1 RIGHT JOIN stream2 ON (stream1.column = stream2.column) GROUP BY COUNTWINDOW(5)"},
    {"SELECT * FROM stream1 FULL JOIN stream2 ON stream1.column = stream2.column GROUP BY COUNTWINDOW(5)",
     "SELECT * FROM stream1 FULL JOIN stream2 ON (stream1.column = stream2.column) GROUP BY COUNTWINDOW(5)"},
    {"SELECT * FROM stream1 CROSS JOIN stream2 GROUP BY COUNTWINDOW(5)",
     "SELECT * FROM stream1 CROSS JOIN stream2 GROUP BY COUNTWINDOW(5)"},
    {"SELECT * FROM stream1 JOIN stream2 ON stream1.a = stream2.a",
     "SELECT * FROM stream1 INNER JOIN stream2 ON (stream1.a = stream2.a)"},
    {"SELECT * FROM stream1 INNER JOIN stream2 ON stream1.a = stream2.a",
     "SELECT * FROM stream1 INNER JOIN stream2 ON (stream1.a = stream2.a)"},
    {"SELECT * FROM s1 LEFT OUTER JOIN s2 ON s1.a = s2.a",
     "SELECT * FROM s1 LEFT JOIN s2 ON (s1.a = s2.a)"},
    {"SELECT * FROM s1 AS a LEFT JOIN s2 AS b ON a.id = b.id INNER JOIN s3 AS c ON b.id = c.id GROUP BY TUMBLINGWINDOW(ss, 10)",
     "SELECT * FROM s1 AS a LEFT JOIN s2 AS b ON (a.id = b.id) INNER JOIN s3 AS c ON (b.id = c.id) GROUP BY TUMBLINGWINDOW(ss, 10)"},
    {"SELECT * FROM s1 JOIN s2 ON s1.a = s2.a AND s1.b > s2.b JOIN s3 ON s3.x = s1.x",
     "SELECT * FROM s1 INNER JOIN s2 ON ((s1.a = s2.a) AND (s1.b > s2.b)) INNER JOIN s3 ON (s3.x = s1.x)"},
    {"SELECT name FROM topic/sensor1",
     "SELECT name FROM topic/sensor1"},
    {"SELECT t1.name FROM topic/sensor1 AS t1",
     "SELECT t1.name FROM topic/sensor1 AS t1"},
    {"SELECT name FROM topic/sensor1/# AS t2",
     "SELECT name FROM topic/sensor1/# AS t2"},
    {"SELECT name FROM /topic/sensor1/+/temp1/",
     "SELECT name FROM /topic/sensor1/+/temp1/"},
    {"SELECT * FROM topic/sensor1 AS t1 LEFT JOIN topic1/sensor2 AS t2 ON t1.f = t2.k",
     "SELECT * FROM topic/sensor1 AS t1 LEFT JOIN topic1/sensor2 AS t2 ON (t1.f = t2.k)"},
    {"SELECT name FROM tbl/*SELECT comment FROM testComments*/",
     "SELECT name FROM tbl"},
    {"SELECT field2 FROM tbl WHERE field2 ! = 5",
     "SELECT field2 FROM tbl WHERE (field2 != 5)"},
    {"SELECT temp AS t FROM demo WHERE t> = 20.5",
     "SELECT temp AS t FROM demo WHERE (t >= 20.5)"},
    {"SELECT 'it\\'s', \"say \\\"hi\\\"\", 'a\\\\b', \"tab\\tnew\\nline\" FROM demo",
     "SELECT 'it\\'s', 'say \"hi\"', 'a\\\\b', 'tab\\tnew\\nline' FROM demo"},
    {"SELECT '' , \"\" FROM demo",
     "SELECT '', '' FROM demo"},
    {"SELECT format(12332.1234567, 4, \"en_US\") FROM demo",
     "SELECT format(12332.1234567, 4, 'en_US') FROM demo"},
    {"SELECT lpad(col, len) FROM source WHERE len < 999",
     "SELECT lpad(col, len) FROM source WHERE (len < 999)"},
    {"SELECT json_path_query(followers, \"$.Group1[*].last\") FROM demo",
     "SELECT json_path_query(followers, '$.Group1[*].last') FROM demo"},
    {"SELECT json_path_exists(followers, \"$[\\\"my.follower\\\"]\") FROM demo",
     "SELECT json_path_exists(followers, '$[\"my.follower\"]') FROM demo"},
    {"SELECT cast(a, \"bigint\"), concat(a, b, c) FROM demo",
     "SELECT cast(a, 'bigint'), concat(a, b, c) FROM demo"},
    {"SELECT abs(-1), ABS(a), Abs(b) FROM demo",
     "SELECT abs(-1), ABS(a), Abs(b) FROM demo"},
    {"SELECT nested(f(g(h(1)))) FROM demo",
     "SELECT nested(f(g(h(1)))) FROM demo"},
    {"SELECT a FROM demo WHERE a = (1)",
     "SELECT a FROM demo WHERE (a = 1)"},
    {"SELECT ((((a)))) FROM demo",
     "SELECT a FROM demo"},
    {"SELECT a FROM demo WHERE a > 1 AND b < 2 AND c = 3 OR d != 4 OR e <> 5",
     "SELECT a FROM demo WHERE (((((a > 1) AND (b < 2)) AND (c = 3)) OR (d != 4)) OR (e != 5))"},
    {"SELECT a FROM demo WHERE a = 1 = TRUE",
     "SELECT a FROM demo WHERE ((a = 1) = TRUE)"},
    {"select A, B from Demo where A > 1 group by TumblingWindow(SS, 1) order by A desc limit 1",
     "SELECT A, B FROM Demo WHERE (A > 1) GROUP BY TUMBLINGWINDOW(ss, 1) ORDER BY A DESC LIMIT 1"},
    {"SELECT \"a\" AS `b c` FROM `my stream`",
     "SELECT 'a' AS `b c` FROM `my stream`"},
    {"SELECT a FROM demo WHERE arr[0] IN (1, 2) AND arr[1:2] IN arr2",
     "SELECT a FROM demo WHERE ((arr[0] IN (1, 2)) AND (arr[1:2] IN arr2))"},
    {"SELECT a->b[0]->c[1:2] FROM demo",
     "SELECT a->b[0]->c[1:2] FROM demo"},
    {"SELECT a FROM demo WHERE NOT NOT a",
     "SELECT a FROM demo WHERE (NOT (NOT a))"},
    {"SELECT a FROM demo WHERE NOT a IS NULL",
     "SELECT a FROM demo WHERE (NOT (a IS NULL))"},
    {"SELECT a % 2 = 0 FROM demo",
     "SELECT ((a % 2) = 0) FROM demo"},
    {"SELECT 7 / 2, 7.0 / 2, 7 % 3 FROM demo",
     "SELECT (7 / 2), (7.0 / 2), (7 % 3) FROM demo"},
    {"SELECT NULL FROM demo",
     "SELECT NULL FROM demo"},
    {"SELECT a FROM demo WHERE a LIKE 'x' AND b NOT LIKE 'y' OR c IN (1) AND d NOT IN (2)",
     "SELECT a FROM demo WHERE (((a LIKE 'x') AND (b NOT LIKE 'y')) OR ((c IN (1)) AND (d NOT IN (2))))"},
    {"CREATE STREAM demo (USERID BIGINT, FIRST_NAME STRING, LAST_NAME STRING, NICKNAMES ARRAY(STRING), Gender BOOLEAN, ADDRESS STRUCT(STREET_NAME STRING, NUMBER BIGINT)) WITH (DATASOURCE=\"users\", FORMAT=\"JSON\")",
     "CREATE STREAM demo (USERID bigint, FIRST_NAME string, LAST_NAME string, NICKNAMES array(string), Gender boolean, ADDRESS struct(STREET_NAME string, NUMBER bigint)) WITH (DATASOURCE=\"users\", FORMAT=\"JSON\")"},
    {"CREATE STREAM `stream` ( USERID BIGINT, FIRST_NAME STRING, LAST_NAME STRING, NICKNAMES ARRAY(STRING), Gender BOOLEAN, `地址` STRUCT(STREET_NAME STRING, NUMBER BIGINT), ) WITH (DATASOURCE=\"users\", FORMAT=\"JSON\")",
     "CREATE STREAM stream (USERID bigint, FIRST_NAME string, LAST_NAME string, NICKNAMES array(string), Gender boolean, 地址 struct(STREET_NAME string, NUMBER bigint)) WITH (DATASOURCE=\"users\", FORMAT=\"JSON\")"},
    {"CREATE STREAM my_stream () WITH ( datasource = \"topic/temperature\", FORMAT = \"json\", KEY = \"id\")",
     "CREATE STREAM my_stream () WITH (DATASOURCE=\"topic/temperature\", FORMAT=\"json\", KEY=\"id\")"},
    {"CREATE STREAM demo () WITH (DATASOURCE=\"demo\", TYPE=\"mqtt\", CONF_KEY=\"default\", SHARED=\"true\")",
     "CREATE STREAM demo () WITH (DATASOURCE=\"demo\", TYPE=\"mqtt\", CONF_KEY=\"default\", SHARED=\"true\")"},
    {"CREATE STREAM demo () WITH (DATASOURCE=\"demo\", SHARED=true, STRICT_VALIDATION=false)",
     "CREATE STREAM demo () WITH (DATASOURCE=\"demo\", SHARED=\"true\", STRICT_VALIDATION=\"false\")"},
    {"CREATE STREAM demo () WITH (DATASOURCE=\"demo\", TIMESTAMP=\"ts\", TIMESTAMP_FORMAT=\"YYYY-MM-dd HH:mm:ss\")",
     "CREATE STREAM demo () WITH (DATASOURCE=\"demo\", TIMESTAMP=\"ts\", TIMESTAMP_FORMAT=\"YYYY-MM-dd HH:mm:ss\")"},
    {"CREATE STREAM demo () WITH (DATASOURCE=\"demo\", FORMAT=\"protobuf\", SCHEMAID=\"proto1.Book\")",
     "CREATE STREAM demo () WITH (DATASOURCE=\"demo\", FORMAT=\"protobuf\", SCHEMAID=\"proto1.Book\")"},
    {"CREATE STREAM demo () WITH (DATASOURCE=\"demo\", FORMAT=\"delimited\", DELIMITER=\" \")",
     "CREATE STREAM demo () WITH (DATASOURCE=\"demo\", FORMAT=\"delimited\", DELIMITER=\" \")"},
    {"CREATE STREAM demo () WITH (DATASOURCE=\"demo\", EXTRA=\"{\\\"a\\\":1}\", VERSION=\"1.0\", TEMP=\"true\")",
     "CREATE STREAM demo () WITH (DATASOURCE=\"demo\", EXTRA=\"{\\\"a\\\":1}\", VERSION=\"1.0\", TEMP=\"true\")"},
    {"CREATE STREAM demo (a float, b datetime, c bytea, d array(array(bigint)), e struct(f struct(g string))) WITH (DATASOURCE=\"demo\")",
     "CREATE STREAM demo (a float, b datetime, c bytea, d array(array(bigint)), e struct(f struct(g string))) WITH (DATASOURCE=\"demo\")"},
    {"CREATE STREAM demo (a bigint DEFAULT 1, b float DEFAULT -2.5, c string DEFAULT \"x\", d boolean DEFAULT true, e float DEFAULT 3) WITH (DATASOURCE=\"demo\")",
     "CREATE STREAM demo (a bigint DEFAULT 1, b float DEFAULT -2.5, c string DEFAULT 'x', d boolean DEFAULT TRUE, e float DEFAULT 3.0) WITH (DATASOURCE=\"demo\")"},
    {"CREATE STREAM demo (a bigint) WITH (DATASOURCE=\"demo\");",
     "CREATE STREAM demo (a bigint) WITH (DATASOURCE=\"demo\")"},
    {"create stream demo (a BIGINT) with (datasource=\"demo\", format=\"json\")",
     "CREATE STREAM demo (a bigint) WITH (DATASOURCE=\"demo\", FORMAT=\"json\")"},
    {"CREATE TABLE table1 (name STRING, size BIGINT, id BIGINT) WITH (DATASOURCE=\"lookup.json\", FORMAT=\"json\", TYPE=\"file\")",
     "CREATE TABLE table1 (name string, size bigint, id bigint) WITH (DATASOURCE=\"lookup.json\", FORMAT=\"json\", TYPE=\"file\")"},
    {"CREATE TABLE alertTable () WITH (DATASOURCE=\"0\", TYPE=\"redis\", KIND=\"lookup\")",
     "CREATE TABLE alertTable () WITH (DATASOURCE=\"0\", TYPE=\"redis\", KIND=\"lookup\")"},
    {"CREATE TABLE t () WITH (DATASOURCE=\"t\", KEY=\"id\", RETAIN_SIZE=\"3\", KIND=\"scan\")",
     "CREATE TABLE t () WITH (DATASOURCE=\"t\", KEY=\"id\", RETAIN_SIZE=\"3\", KIND=\"scan\")"},
    {"DROP STREAM demo",
     "DROP STREAM demo"},
    {"DROP TABLE tab1",
     "DROP TABLE tab1"},
    {"drop stream `my stream`;",
     "DROP STREAM `my stream`"},
    {"SHOW STREAMS",
     "SHOW STREAMS"},
    {"SHOW TABLES",
     "SHOW TABLES"},
    {"show streams;",
     "SHOW STREAMS"},
    {"DESCRIBE STREAM demo",
     "DESCRIBE STREAM demo"},
    {"DESCRIBE TABLE tab1",
     "DESCRIBE TABLE tab1"},
    {"EXPLAIN STREAM demo",
     "EXPLAIN STREAM demo"},
    {"EXPLAIN TABLE tab1",
     "EXPLAIN TABLE tab1"},
    /* several lines, comments across lines */
    {"SELECT a\nFROM demo\nWHERE b > 1",
     "SELECT a FROM demo WHERE (b > 1)"},
    {"SELECT /* comment */ a /* another\n multi-line one */ FROM demo",
     "SELECT a FROM demo"},
    {"\n\n  SELECT\ta\r\n  FROM\tdemo  ;  ",
     "SELECT a FROM demo"},
    {"SELECT a -- the column\nFROM demo -- the stream\nWHERE b > 1;  --SELECT comment FROM topic/comment",
     "SELECT a FROM demo WHERE (b > 1)"},
    {"SELECT a - -1, a - - 1 FROM demo", "SELECT (a - -1), (a - -1) FROM demo"},
    /* found by fuzzing: names that must print in backticks to parse back */
    {"SELECT `*`, `a,b` FROM `em,5`", "SELECT `*`, `a,b` FROM `em,5`"},
    {"SELECT a FROM `select/x` AS `from`", "SELECT a FROM `select/x` AS `from`"},
    {"SELECT a FROM x/y AS t", "SELECT a FROM x/y AS t"},
    {"SELECT a FROM demo--comment", "SELECT a FROM demo"},
    {"CREATE STREAM bin (img bytea) WITH (DATASOURCE=\"x\", FORMAT=\"BINARY\")",
     "CREATE STREAM bin (img bytea) WITH (DATASOURCE=\"x\", FORMAT=\"BINARY\")"},
    {"CREATE STREAM bin () WITH (FORMAT=\"binary\")", "CREATE STREAM bin () WITH (FORMAT=\"binary\")"},
    {"CREATE STREAM d () WITH (FORMAT=\"urlencoded\")", "CREATE STREAM d () WITH (FORMAT=\"urlencoded\")"},
    {"SELECT a FROM `a--b`", "SELECT a FROM `a--b`"},
    {"SELECT a FROM demo WHERE a IN arr->x[0]", "SELECT a FROM demo WHERE (a IN arr->x[0])"},
    {"SELECT 1e999, -1e999 FROM demo", "SELECT 1e999, -1e999 FROM demo"},
    {NULL, NULL},
};

static int failures;

static void check_case(const pcase *c)
{
    ek_stmt *st = NULL;
    ek_err err = {0};
    int rc = ek_sql_parse(c->sql, &st, &err);
    if (rc != 0) {
        fprintf(stderr, "\n  parse failed: %s\n    %s\n", c->sql, err.msg);
        failures++;
        return;
    }
    char *got = ek_stmt_to_string(st);
    if (strcmp(got, c->expect) != 0) {
        fprintf(stderr, "\n  sql:  %s\n  got:  %s\n  want: %s\n", c->sql, got, c->expect);
        failures++;
    }
    /* The printed text parses to the same tree. */
    ek_stmt *again = NULL;
    if (ek_sql_parse(got, &again, &err) != 0) {
        fprintf(stderr, "\n  reparse failed: %s\n    %s\n", got, err.msg);
        failures++;
    } else {
        char *twice = ek_stmt_to_string(again);
        if (strcmp(twice, got) != 0) {
            fprintf(stderr, "\n  round trip changed: %s\n    -> %s\n", got, twice);
            failures++;
        }
        ek_free(twice);
        ek_stmt_free(again);
    }
    ek_free(got);
    ek_stmt_free(st);
}

static void test_statements_parse(void)
{
    failures = 0;
    size_t n = 0;
    for (const pcase *c = cases; c->sql; c++, n++) check_case(c);
    CU_ASSERT_EQUAL(failures, 0);
    CU_ASSERT(n >= 150);
}

/* The same statements in lower case, or with keywords in mixed case, mean the same. */
static void test_keywords_case_insensitive(void)
{
    static const char *const pairs[][2] = {
        {"select a from demo where a > 1 group by tumblingwindow(ss, 1) having count(*) > 1 order by a desc limit 2",
         "SELECT a FROM demo WHERE a > 1 GROUP BY TUMBLINGWINDOW(SS, 1) HAVING count(*) > 1 ORDER BY a DESC LIMIT 2"},
        {"SeLeCt * FrOm s1 LeFt JoIn s2 On s1.a = s2.a", "SELECT * FROM s1 LEFT JOIN s2 ON s1.a = s2.a"},
        {"create table t (a BIGINT) with (datasource=\"x\", kind=\"lookup\")",
         "CREATE TABLE t (a bigint) WITH (DATASOURCE=\"x\", KIND=\"lookup\")"},
        {"select case when a is not null then true else false end from demo",
         "SELECT CASE WHEN a IS NOT NULL THEN TRUE ELSE FALSE END FROM demo"},
    };
    for (size_t i = 0; i < sizeof pairs / sizeof *pairs; i++) {
        ek_stmt *a = NULL, *b = NULL;
        CU_ASSERT_EQUAL_FATAL(ek_sql_parse(pairs[i][0], &a, NULL), 0);
        CU_ASSERT_EQUAL_FATAL(ek_sql_parse(pairs[i][1], &b, NULL), 0);
        char *x = ek_stmt_to_string(a), *y = ek_stmt_to_string(b);
        CU_ASSERT_STRING_EQUAL(x, y);
        ek_free(x);
        ek_free(y);
        ek_stmt_free(a);
        ek_stmt_free(b);
    }
}

/* A stand-alone expression parses on its own (used for sink templates and tests). */
static void test_parse_expr(void)
{
    static const char *const exprs[][2] = {
        {"a + 1", "(a + 1)"},
        {"a->b[0] LIKE 'x%'", "(a->b[0] LIKE 'x%')"},
        {"CASE WHEN a THEN 1 ELSE 2 END", "CASE WHEN a THEN 1 ELSE 2 END"},
        {"-(-1)", "1"},
        {"NOT a AND b", "((NOT a) AND b)"},
        {"a BETWEEN 1 AND 2 AND c", "((a BETWEEN 1 AND 2) AND c)"},
    };
    for (size_t i = 0; i < sizeof exprs / sizeof *exprs; i++) {
        ek_expr *e = NULL;
        ek_err err = {0};
        CU_ASSERT_EQUAL_FATAL(ek_sql_parse_expr(exprs[i][0], &e, &err), 0);
        char *s = ek_expr_to_string(e);
        if (strcmp(s, exprs[i][1]) != 0) fprintf(stderr, "\n  %s -> %s\n", exprs[i][0], s);
        CU_ASSERT_STRING_EQUAL(s, exprs[i][1]);
        ek_free(s);
        ek_expr_free(e);
    }
    ek_expr *e = NULL;
    ek_err err = {0};
    CU_ASSERT_EQUAL(ek_sql_parse_expr("a +", &e, &err), EK_EPARSE);
    CU_ASSERT_PTR_NULL(e);
    CU_ASSERT_STRING_EQUAL(err.msg, "line 1, column 4: found EOF, expected an expression");
    CU_ASSERT_EQUAL(ek_sql_parse_expr("a b", &e, &err), EK_EPARSE);
    CU_ASSERT_STRING_EQUAL(err.msg, "line 1, column 3: found \"b\", expected an operator or EOF");
}

void ek_register_tests(void)
{
    static const ek_test_case tests[] = {
        {"statements parse and print canonically", test_statements_parse},
        {"keywords are case-insensitive", test_keywords_case_insensitive},
        {"stand-alone expressions", test_parse_expr},
        {NULL, NULL},
    };
    ek_add_suite("sql_parser", tests);
}
