/* Binding and evaluation semantics of SQL expressions, as eKuiper defines them: type promotion,
 * nil rules, LIKE, IN, BETWEEN, CASE, nested fields, array index and slice, output key names,
 * later fields seeing earlier aliases, aggregates over a group, analytic state, joins, and the
 * binder's refusals. Each table case is {stream definition, SELECT, input row, expected output}:
 * the statement is prepared against the stream, the row goes through WHERE and the projection,
 * and the output object is compared as JSON with sorted keys (as eKuiper's Go maps print). */
#include "engine/codec_json.h"
#include "engine/mem.h"
#include "sql/sql.h"
#include "tests/unit/test_util.h"

#include <string.h>

/* A stream definition parsed for binding; schemaless when sql is NULL. */
typedef struct stream_def {
    ek_stmt *create;
    ek_sql_schema schema;
} stream_def;

static void def_load(stream_def *d, const char *name, const char *sql)
{
    memset(d, 0, sizeof *d);
    if (!sql) {
        d->schema.name = name;
        d->schema.schemaless = true;
        return;
    }
    ek_err err = {0};
    int rc = ek_sql_parse(sql, &d->create, &err);
    if (rc) fprintf(stderr, "\n  %s: %s\n", sql, err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    ek_sql_schema_from_create(&d->create->create, &d->schema);
}

static ek_row *row_of(const char *json, bool schemaless, const char *emitter)
{
    ek_value v;
    ek_err err = {0};
    int rc = ek_json_decode(json, strlen(json), schemaless ? EK_JSON_FLOAT_NUMBERS : 0, &v, &err);
    if (rc) fprintf(stderr, "\n  bad test JSON %s: %s\n", json, err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    return ek_row_new(v, ek_null(), 0, emitter);
}

static char *to_json(const ek_value *v)
{
    return ek_json_encode_str(v, EK_JSON_SORT_KEYS);
}

/* expect: the output JSON; "-" when WHERE drops the row; "ERR:text" for an evaluation error
 * containing text; "BIND:text" for a bind error containing text. */
typedef struct xcase {
    const char *create;  /* CREATE STREAM demo ..., or NULL for a schemaless demo */
    const char *sql;
    const char *input;
    const char *expect;
} xcase;

static int run_case(const xcase *c, bool ignore_case)
{
    stream_def d;
    def_load(&d, "demo", c->create);
    ek_stmt *st = NULL;
    ek_sql_program *pg = NULL;
    ek_err err = {0};
    ek_bind_opts opts = {.ignore_case = ignore_case};
    char *got = NULL;
    int rc = ek_sql_prepare(c->sql, &d.schema, 1, &opts, &st, &pg, &err);
    if (rc) {
        got = ek_asprintf("BIND:%s", err.msg);
    } else {
        ek_row *row = row_of(c->input, c->create == NULL, "demo");
        const ek_row *rows[1] = {row};
        ek_eval_ctx ctx = {.rows = rows, .nrows = 1};
        bool keep = true;
        if (pg->where) rc = ek_cexpr_eval_bool(pg->where, &ctx, &keep, &err);
        if (!rc && !keep) {
            got = ek_strdup("-");
        } else if (!rc) {
            ek_value out;
            rc = ek_sql_project(pg, &ctx, &out, &err);
            if (!rc) {
                got = to_json(&out);
                ek_value_unref(&out);
            }
        }
        if (rc) got = ek_asprintf("ERR:%s", err.msg);
        ek_row_unref(row);
    }
    bool ok;
    if (strncmp(c->expect, "ERR:", 4) == 0 || strncmp(c->expect, "BIND:", 5) == 0) {
        size_t p = c->expect[0] == 'E' ? 4 : 5;
        ok = strncmp(got, c->expect, p) == 0 && strstr(got + p, c->expect + p) != NULL;
    } else {
        ok = strcmp(got, c->expect) == 0;
    }
    if (!ok) fprintf(stderr, "\n  sql:   %s\n  input: %s\n  got:   %s\n  want:  %s\n", c->sql, c->input, got, c->expect);
    ek_free(got);
    ek_sql_program_free(pg);
    ek_stmt_free(st);
    ek_stmt_free(d.create);
    return ok ? 0 : 1;
}

#define SCHEMA "CREATE STREAM demo (a bigint, b bigint, f float, s string, ok boolean, arr array(bigint), " \
               "obj struct(x bigint, name struct(first string)), size bigint) WITH (DATASOURCE=\"demo\")"

static const xcase cases[] = {
    /* ---- numbers: bigint stays bigint, / and % truncate; floats win ---- */
    {SCHEMA, "SELECT a / b AS q, a % b AS r, a * b AS m, a - b AS d, a + b AS s FROM demo", "{\"a\":7,\"b\":2}",
     "{\"d\":5,\"m\":14,\"q\":3,\"r\":1,\"s\":9}"},
    {SCHEMA, "SELECT a / 2.0 AS q, a + 1.5 AS s, f * 2 AS m FROM demo", "{\"a\":7,\"f\":1.25}",
     "{\"m\":2.5,\"q\":3.5,\"s\":8.5}"},
    {SCHEMA, "SELECT -7 / 2 AS q, -7 % 2 AS r, 7.5 % 2 AS fr FROM demo", "{}", "{\"fr\":1.5,\"q\":-3,\"r\":-1}"},
    {NULL, "SELECT a / b AS q FROM demo", "{\"a\":7,\"b\":2}", "{\"q\":3.5}"},
    {NULL, "SELECT a + b AS s FROM demo", "{\"a\":7,\"b\":2}", "{\"s\":9}"},
    {SCHEMA, "SELECT a & b AS x, a | b AS y, a ^ b AS z FROM demo", "{\"a\":12,\"b\":10}", "{\"x\":8,\"y\":14,\"z\":6}"},
    {SCHEMA, "SELECT ok & true AS x, ok | false AS y, ok ^ true AS z FROM demo", "{\"ok\":true}",
     "{\"x\":true,\"y\":true,\"z\":false}"},
    {SCHEMA, "SELECT a / 0 FROM demo", "{\"a\":1}", "ERR:divided by zero"},
    {SCHEMA, "SELECT a % 0 FROM demo", "{\"a\":1}", "ERR:divided by zero"},
    {SCHEMA, "SELECT f / 0 FROM demo", "{\"f\":1.5}", "ERR:divided by zero"},
    {SCHEMA, "SELECT f & 1 FROM demo", "{\"f\":1.5}", "ERR:invalid operation float(1.5) & bigint(1)"},
    {SCHEMA, "SELECT s + 1 FROM demo", "{\"s\":\"x\"}", "ERR:invalid operation string(x) + bigint(1)"},
    {SCHEMA, "SELECT -a AS n, -f AS m FROM demo", "{\"a\":3,\"f\":2.5}", "{\"m\":-2.5,\"n\":-3}"},
    {SCHEMA, "SELECT -s FROM demo", "{\"s\":\"x\"}", "ERR:invalid operation - string(x)"},
    {SCHEMA, "SELECT 9223372036854775807 + 1 AS w FROM demo", "{}", "{\"w\":-9223372036854775808}"},
    /* ---- nil: arithmetic gives nil (the key is left out), comparisons and logic are false ---- */
    {SCHEMA, "SELECT a + 1 AS x, b FROM demo", "{\"b\":1}", "{\"b\":1}"},
    {SCHEMA, "SELECT a > 1 AS gt, a = a AS eq, a != 1 AS ne FROM demo", "{}", "{\"eq\":false,\"gt\":false,\"ne\":false}"},
    {SCHEMA, "SELECT a > 1 AND TRUE AS x, a > 1 OR TRUE AS y, NOT (a > 1) AS z FROM demo", "{}",
     "{\"x\":false,\"y\":true,\"z\":true}"},
    {SCHEMA, "SELECT ok AND TRUE AS x, ok OR TRUE AS y FROM demo", "{}", "{\"x\":false,\"y\":false}"},
    {SCHEMA, "SELECT a & 1 AS x FROM demo", "{}", "{\"x\":false}"},
    {SCHEMA, "SELECT a FROM demo WHERE a > 1", "{}", "-"},
    {SCHEMA, "SELECT a FROM demo WHERE NOT (a > 1)", "{\"b\":1}", "{}"},
    {SCHEMA, "SELECT a IS NULL AS n, b IS NOT NULL AS m, isNull(a) AS i FROM demo", "{\"b\":1}",
     "{\"i\":true,\"m\":true,\"n\":true}"},
    {NULL, "SELECT * FROM demo WHERE x", "{\"x\":null}", "-"},
    {NULL, "SELECT * FROM demo WHERE x", "{\"x\":1}", "ERR:condition must be a boolean"},
    /* ---- comparisons by type ---- */
    {SCHEMA, "SELECT a < f AS x, a = 2.0 AS y, s < 'b' AS z, s >= 'a' AS w FROM demo", "{\"a\":2,\"f\":2.5,\"s\":\"a\"}",
     "{\"w\":true,\"x\":true,\"y\":true,\"z\":true}"},
    {SCHEMA, "SELECT ok = TRUE AS x, ok != TRUE AS y FROM demo", "{\"ok\":true}", "{\"x\":true,\"y\":false}"},
    {SCHEMA, "SELECT ok < TRUE FROM demo", "{\"ok\":true}", "ERR:invalid operation boolean(true) < boolean(true)"},
    {SCHEMA, "SELECT s > 1 FROM demo", "{\"s\":\"x\"}", "ERR:invalid operation string(x) > bigint(1)"},
    {SCHEMA, "SELECT arr = arr FROM demo", "{\"arr\":[1]}", "ERR:invalid operation"},
    /* ---- LIKE ---- */
    {SCHEMA, "SELECT s LIKE 'ab%' AS a1, s LIKE '_b_' AS a2, s LIKE '%c' AS a3, s LIKE 'b%' AS a4, "
             "s NOT LIKE 'ab%' AS a5, s LIKE '%' AS a6, s LIKE 'abc' AS a7 FROM demo", "{\"s\":\"abc\"}",
     "{\"a1\":true,\"a2\":true,\"a3\":true,\"a4\":false,\"a5\":false,\"a6\":true,\"a7\":true}"},
    {SCHEMA, "SELECT s LIKE '100\\%' AS a1, s LIKE '100%' AS a2, s LIKE '1\\_0%' AS a3 FROM demo", "{\"s\":\"100%\"}",
     "{\"a1\":true,\"a2\":true,\"a3\":false}"},
    {SCHEMA, "SELECT s LIKE '_é_' AS a1, s LIKE '%é' AS a2 FROM demo", "{\"s\":\"aéb\"}", "{\"a1\":true,\"a2\":false}"},
    {SCHEMA, "SELECT s LIKE '%a%b%c%' AS a1, s LIKE 'a%%c' AS a2 FROM demo", "{\"s\":\"xaybzc\"}", "{\"a1\":true,\"a2\":false}"},
    {NULL, "SELECT s LIKE p AS m FROM demo", "{\"s\":\"hello\",\"p\":\"he%\"}", "{\"m\":true}"},
    {NULL, "SELECT s LIKE 'x' AS m, s NOT LIKE 'x' AS n FROM demo", "{}", "{\"m\":false,\"n\":false}"},
    {NULL, "SELECT s LIKE 'x' FROM demo", "{\"s\":1}", "ERR:LIKE operator left operand expects string"},
    {NULL, "SELECT * FROM demo WHERE name LIKE 'sensor%'", "{\"name\":\"sensor1\"}", "{\"name\":\"sensor1\"}"},
    /* ---- IN ---- */
    {SCHEMA, "SELECT a IN (1, 2, 3) AS x, a NOT IN (1, 2) AS y, a IN (3.0) AS z, s IN ('a', 'b') AS w FROM demo",
     "{\"a\":3,\"s\":\"b\"}", "{\"w\":true,\"x\":true,\"y\":true,\"z\":true}"},
    {SCHEMA, "SELECT a IN arr AS x, 5 IN arr AS y, a NOT IN arr AS z FROM demo", "{\"a\":2,\"arr\":[1,2,3]}",
     "{\"x\":true,\"y\":false,\"z\":false}"},
    {SCHEMA, "SELECT a IN (1, 2) AS x, a NOT IN (1, 2) AS y FROM demo", "{}", "{\"x\":false,\"y\":false}"},
    {SCHEMA, "SELECT a IN s FROM demo", "{\"a\":1,\"s\":\"x\"}", "ERR:IN expects an array"},
    {SCHEMA, "SELECT a IN (b, b + 1) AS x FROM demo", "{\"a\":3,\"b\":2}", "{\"x\":true}"},
    /* ---- BETWEEN ---- */
    {SCHEMA, "SELECT a BETWEEN 1 AND 3 AS x, a BETWEEN 3 AND 5 AS y, a NOT BETWEEN 1 AND 2 AS z, "
             "f BETWEEN a AND 4 AS w FROM demo", "{\"a\":3,\"f\":3.5}", "{\"w\":true,\"x\":true,\"y\":true,\"z\":true}"},
    {SCHEMA, "SELECT a BETWEEN 1 AND 3 AS x, a NOT BETWEEN 1 AND 3 AS y FROM demo", "{}", "{\"x\":false,\"y\":false}"},
    {SCHEMA, "SELECT s BETWEEN 'a' AND 'c' AS x FROM demo", "{\"s\":\"b\"}", "{\"x\":true}"},
    {SCHEMA, "SELECT s BETWEEN 1 AND 3 FROM demo", "{\"s\":\"b\"}", "ERR:invalid operation"},
    /* ---- CASE ---- */
    {SCHEMA, "SELECT CASE s WHEN 'red' THEN 1 WHEN 'yellow' THEN 2 ELSE 3 END AS c FROM demo", "{\"s\":\"yellow\"}",
     "{\"c\":2}"},
    {SCHEMA, "SELECT CASE s WHEN 'red' THEN 1 ELSE 3 END AS c FROM demo", "{\"s\":\"blue\"}", "{\"c\":3}"},
    {SCHEMA, "SELECT CASE s WHEN 'red' THEN 1 END AS c, a FROM demo", "{\"s\":\"blue\",\"a\":1}", "{\"a\":1}"},
    {SCHEMA, "SELECT CASE WHEN size < 150 THEN 'S' WHEN size < 170 THEN 'M' ELSE 'XL' END AS l FROM demo",
     "{\"size\":160}", "{\"l\":\"M\"}"},
    {SCHEMA, "SELECT CASE WHEN a > 1 THEN 'big' ELSE 'small' END AS l FROM demo", "{}", "{\"l\":\"small\"}"},
    {SCHEMA, "SELECT CASE a WHEN 1 THEN 'one' ELSE 'other' END AS l FROM demo", "{}", "{\"l\":\"other\"}"},
    {NULL, "SELECT CASE WHEN a THEN 1 END AS l FROM demo", "{\"a\":2}", "ERR:WHEN expression must be a bool"},
    /* ---- nested fields, arrays and slices ---- */
    {SCHEMA, "SELECT obj.x AS x, obj->x AS y, obj.name.first AS f, obj->name->first AS g, demo.obj->x AS z FROM demo",
     "{\"obj\":{\"x\":5,\"name\":{\"first\":\"Tom\"}}}", "{\"f\":\"Tom\",\"g\":\"Tom\",\"x\":5,\"y\":5,\"z\":5}"},
    {NULL, "SELECT name.first AS a, name->first AS b, ops->functionA.numArgs AS num FROM demo",
     "{\"name\":{\"first\":\"Tom\"},\"ops\":{\"functionA\":{\"numArgs\":2}}}", "{\"a\":\"Tom\",\"b\":\"Tom\",\"num\":2}"},
    {NULL, "SELECT name->first AS a FROM demo", "{\"name\":null}", "{}"},
    {NULL, "SELECT name->first AS a FROM demo", "{\"name\":3}", "ERR:is not a map"},
    {SCHEMA, "SELECT arr[0] AS a, arr[2] AS b, arr[-1] AS c, arr[-3] AS d FROM demo", "{\"arr\":[1,2,3]}",
     "{\"a\":1,\"b\":3,\"c\":3,\"d\":1}"},
    {SCHEMA, "SELECT arr[3] FROM demo", "{\"arr\":[1,2,3]}", "ERR:out of index: 3 of 3"},
    {SCHEMA, "SELECT arr[-4] FROM demo", "{\"arr\":[1,2,3]}", "ERR:out of index"},
    {SCHEMA, "SELECT arr[0:1] AS x1, arr[1:-1] AS x2, arr[:] AS x3, arr[:2] AS x4, arr[1:] AS x5, arr[a:b] AS x6, "
             "arr[a + 1:] AS x7 FROM demo", "{\"arr\":[1,2,3,4],\"a\":1,\"b\":3}",
     "{\"x1\":[1],\"x2\":[2,3],\"x3\":[1,2,3,4],\"x4\":[1,2],\"x5\":[2,3,4],\"x6\":[2,3],\"x7\":[3,4]}"},
    {SCHEMA, "SELECT arr[2:1] FROM demo", "{\"arr\":[1,2,3]}", "ERR:start cannot be greater than end"},
    {SCHEMA, "SELECT arr[0:5] FROM demo", "{\"arr\":[1,2,3]}", "ERR:out of index"},
    {NULL, "SELECT friends[:2]->first AS f, friends[0]->last AS l, friends[1] AS o FROM demo",
     "{\"friends\":[{\"first\":\"Dale\",\"last\":\"Murphy\"},{\"first\":\"Roger\"},{\"first\":\"Jane\"}]}",
     "{\"f\":[\"Dale\",\"Roger\"],\"l\":\"Murphy\",\"o\":{\"first\":\"Roger\"}}"},
    {NULL, "SELECT arr[1.0] AS a FROM demo", "{\"arr\":[1,2]}", "{\"a\":2}"},
    {NULL, "SELECT arr[0] AS a, arr[1:2] AS b FROM demo", "{}", "{}"},
    {NULL, "SELECT s[0] FROM demo", "{\"s\":\"abc\"}", "ERR:[] is an invalid operation"},
    /* ---- output key names ---- */
    {SCHEMA, "SELECT a, a + 1, abs(a), b * 2, s AS name, demo.b, size FROM demo", "{\"a\":-1,\"b\":2,\"s\":\"x\",\"size\":3}",
     "{\"a\":-1,\"abs\":1,\"b\":2,\"kuiper_field_0\":0,\"kuiper_field_1\":4,\"name\":\"x\",\"size\":3}"},
    {SCHEMA, "SELECT ABS(a), Lower(s) FROM demo", "{\"a\":-1,\"s\":\"X\"}", "{\"abs\":1,\"lower\":\"x\"}"},
    {SCHEMA, "SELECT 1 AS one, 'x', TRUE FROM demo", "{}", "{\"kuiper_field_0\":\"x\",\"kuiper_field_1\":true,\"one\":1}"},
    {NULL, "SELECT obj->x, arr[0] FROM demo", "{\"obj\":{\"x\":1},\"arr\":[5]}", "{\"kuiper_field_0\":1,\"kuiper_field_1\":5}"},
    /* ---- aliases: later fields see earlier ones ---- */
    {SCHEMA, "SELECT size + 1 AS size, size + 1 AS b FROM demo", "{\"size\":10}", "{\"b\":12,\"size\":11}"},
    {SCHEMA, "SELECT a + 1 AS sum1, sum1 + 1 AS sum2 FROM demo", "{\"a\":1}", "{\"sum1\":2,\"sum2\":3}"},
    {SCHEMA, "SELECT a * 2 AS t INVISIBLE, t + 1 AS u FROM demo", "{\"a\":3}", "{\"u\":7}"},
    {SCHEMA, "SELECT b + 1 AS x FROM demo WHERE b > 1", "{\"b\":1}", "-"},
    /* ---- wildcards ---- */
    {NULL, "SELECT * FROM demo", "{\"b\":2,\"a\":1}", "{\"a\":1,\"b\":2}"},
    {NULL, "SELECT * EXCEPT(a) FROM demo", "{\"a\":1,\"b\":2,\"c\":3}", "{\"b\":2,\"c\":3}"},
    {NULL, "SELECT * REPLACE(a * 10 AS a, 'n' AS d) FROM demo", "{\"a\":1,\"b\":2}", "{\"a\":10,\"b\":2,\"d\":\"n\"}"},
    {NULL, "SELECT * EXCEPT(b) REPLACE(b + 1 AS b) FROM demo", "{\"a\":1,\"b\":2}", "{\"a\":1,\"b\":3}"},
    {NULL, "SELECT *, a + 1 AS a FROM demo", "{\"a\":1,\"b\":2}", "{\"a\":2,\"b\":2}"},
    {NULL, "SELECT demo.* FROM demo", "{\"a\":1}", "{\"a\":1}"},
    {NULL, "SELECT x FROM demo", "{\"a\":1}", "{}"},
    /* ---- constants and functions ---- */
    {SCHEMA, "SELECT abs(-3) AS a, upper('x') AS u, concat(s, '!') AS c, round(f) AS r FROM demo", "{\"s\":\"hi\",\"f\":2.4}",
     "{\"a\":3,\"c\":\"hi!\",\"r\":2,\"u\":\"X\"}"},
    {SCHEMA, "SELECT coalesce(a, b, 7) AS c FROM demo", "{\"b\":null}", "{\"c\":7}"},
    {SCHEMA, "SELECT cast(a, 'float') / 2 AS h FROM demo", "{\"a\":3}", "{\"h\":1.5}"},
    {SCHEMA, "SELECT lower(a) FROM demo", "{\"a\":3}", "ERR:call func lower error"},
    /* ---- binding refusals ---- */
    {SCHEMA, "SELECT temp FROM demo", "{}", "BIND:line 1, column 8: unknown field temp in stream demo"},
    {SCHEMA, "SELECT a FROM demo WHERE temp > 1", "{}", "BIND:line 1, column 26: unknown field temp"},
    {SCHEMA, "SELECT obj.x, nope.y FROM demo", "{}", "BIND:line 1, column 15: unknown field nope"},
    {SCHEMA, "SELECT nofunc(a) FROM demo", "{}", "BIND:line 1, column 8: function nofunc not found"},
    {SCHEMA, "SELECT abs(a, b) FROM demo", "{}", "BIND:line 1, column 8: function abs expects 1 argument, got 2"},
    {SCHEMA, "SELECT concat() FROM demo", "{}", "BIND:function concat expects at least 1 argument"},
    {SCHEMA, "SELECT a FROM demo WHERE count(*) > 1", "{}", "BIND:Not allowed to call aggregate functions in WHERE clause"},
    {SCHEMA, "SELECT a FROM demo GROUP BY sum(a), COUNTWINDOW(2)", "{}", "BIND:Not allowed to call aggregate functions in GROUP BY"},
    {SCHEMA, "SELECT sum(avg(a)) FROM demo GROUP BY COUNTWINDOW(2)", "{}", "BIND:aggregate argument is not allowed"},
    {SCHEMA, "SELECT a FROM demo GROUP BY a", "{}", "BIND:group by should be used with window"},
    {SCHEMA, "SELECT abs(a) OVER (PARTITION BY b) FROM demo", "{}", "BIND:OVER (...) is only allowed after an analytic function"},
    {SCHEMA, "SELECT abs(a) FILTER (WHERE a > 1) FROM demo", "{}", "BIND:FILTER (WHERE ...) is only allowed after an aggregate"},
    {SCHEMA, "SELECT tumblingwindow(ss, 1) FROM demo", "{}", "BIND:window function tumblingwindow is only allowed in GROUP BY"},
    {SCHEMA, "SELECT * AS x FROM demo", "{}", "BIND:alias is not supported for *"},
    {SCHEMA, "SELECT other.* FROM demo", "{}", "BIND:stream other not found"},
    {SCHEMA, "SELECT a FROM nostream", "{}", "BIND:fail to get stream nostream"},
    {SCHEMA, "SELECT a FROM demo WHERE unnest(arr) > 1", "{}", "BIND:function unnest can only be used inside the select clause"},
    {SCHEMA, "SELECT A FROM demo", "{}", "BIND:unknown field A"},
    /* ---- precedence as evaluated ---- */
    {SCHEMA, "SELECT 2 + 3 * 4 AS a, (2 + 3) * 4 AS b, 10 - 4 - 3 AS c, 2 * 3 % 4 AS d, 1 | 2 & 3 AS e FROM demo", "{}",
     "{\"a\":14,\"b\":20,\"c\":3,\"d\":2,\"e\":3}"},
    {SCHEMA, "SELECT NOT a > 1 AND b < 2 AS x, a > 1 OR b < 2 AND FALSE AS y FROM demo", "{\"a\":0,\"b\":5}",
     "{\"x\":false,\"y\":false}"},
    {SCHEMA, "SELECT a BETWEEN 1 AND 2 AND b = 5 AS x FROM demo", "{\"a\":2,\"b\":5}", "{\"x\":true}"},
    /* ---- datetimes ---- */
    {NULL, "SELECT cast(t, 'datetime') > '2024-01-01T00:00:00Z' AS x, cast(t, 'datetime') = 1704067200000 AS y, "
           "cast(t, 'datetime') < '2024-01-01 00:00:01' AS z FROM demo", "{\"t\":\"2024-01-01T00:00:00.000Z\"}",
     "{\"x\":false,\"y\":true,\"z\":true}"},
    {NULL, "SELECT cast(t, 'datetime') > 'yesterday' FROM demo", "{\"t\":\"2024-01-01T00:00:00Z\"}", "ERR:invalid operation"},
    /* ---- found by fuzzing: an operand that fails inside BETWEEN / [] / [:] is an error, not a crash ---- */
    {SCHEMA, "SELECT (s > 1) BETWEEN 1 AND 2 FROM demo", "{\"s\":\"x\"}", "ERR:invalid operation string(x) > bigint(1)"},
    {SCHEMA, "SELECT arr[s > 1] FROM demo", "{\"s\":\"x\",\"arr\":[1]}", "ERR:invalid operation"},
    {SCHEMA, "SELECT arr[s > 1:] FROM demo", "{\"s\":\"x\",\"arr\":[1]}", "ERR:invalid operation"},
    {SCHEMA, "SELECT arr[:a / 0] FROM demo", "{\"a\":1,\"arr\":[1]}", "ERR:divided by zero"},
    /* ---- WHERE on schemaless rows ---- */
    {NULL, "SELECT * FROM demo WHERE temperature > 20 AND humidity < 80", "{\"temperature\":25,\"humidity\":70}",
     "{\"humidity\":70,\"temperature\":25}"},
    {NULL, "SELECT * FROM demo WHERE temperature > 20 AND humidity < 80", "{\"temperature\":25,\"humidity\":90}", "-"},
    {NULL, "SELECT * FROM demo WHERE `from` = 'device1'", "{\"from\":\"device1\"}", "{\"from\":\"device1\"}"},
    {NULL, NULL, NULL, NULL},
};

static void test_table(void)
{
    int failures = 0;
    size_t n = 0;
    for (const xcase *c = cases; c->sql; c++, n++) failures += run_case(c, false);
    CU_ASSERT_EQUAL(failures, 0);
    CU_ASSERT(n >= 100);
}

/* ---------------------------------------------------------------- single tests */

static void prepare_ok(const char *sql, const ek_sql_schema *schemas, size_t n, const ek_bind_opts *opts,
                       ek_stmt **st, ek_sql_program **pg)
{
    ek_err err = {0};
    int rc = ek_sql_prepare(sql, schemas, n, opts, st, pg, &err);
    if (rc) fprintf(stderr, "\n  %s: %s\n", sql, err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
}

/* Projects one row and compares with expect. */
static void project_eq(ek_sql_program *pg, const ek_eval_ctx *ctx, const char *expect)
{
    ek_value out;
    ek_err err = {0};
    int rc = ek_sql_project(pg, ctx, &out, &err);
    if (rc) fprintf(stderr, "\n  project: %s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    char *got = to_json(&out);
    if (strcmp(got, expect) != 0) fprintf(stderr, "\n  got  %s\n  want %s\n", got, expect);
    CU_ASSERT_STRING_EQUAL(got, expect);
    ek_free(got);
    ek_value_unref(&out);
}

static void test_ignore_case(void)
{
    xcase ci[] = {
        {"CREATE STREAM demo (Temp bigint, Name string) WITH (DATASOURCE=\"d\")", "SELECT temp, NAME AS n FROM demo",
         "{\"Temp\":3,\"Name\":\"x\"}", "{\"Temp\":3,\"n\":\"x\"}"},
        {NULL, "SELECT temp AS t FROM demo WHERE TEMP > 1", "{\"Temp\":3}", "{\"t\":3}"},
    };
    CU_ASSERT_EQUAL(run_case(&ci[0], true), 0);
    CU_ASSERT_EQUAL(run_case(&ci[1], true), 0);
    xcase strict = {ci[0].create, ci[0].sql, ci[0].input, "BIND:unknown field temp"};
    CU_ASSERT_EQUAL(run_case(&strict, false), 0);
    xcase strict2 = {NULL, "SELECT temp AS t FROM demo", "{\"Temp\":3}", "{}"};
    CU_ASSERT_EQUAL(run_case(&strict2, false), 0);
}

/* A schema field is read from its slot when the row has it there, and by name otherwise. */
static void test_slots(void)
{
    stream_def d;
    def_load(&d, "demo", "CREATE STREAM demo (a bigint, b bigint, c string) WITH (DATASOURCE=\"d\")");
    ek_stmt *st;
    ek_sql_program *pg;
    prepare_ok("SELECT c, a, b FROM demo", &d.schema, 1, NULL, &st, &pg);
    CU_ASSERT_EQUAL(st->select.fields[0].expr->bound.slot, 2);
    CU_ASSERT_EQUAL(st->select.fields[1].expr->bound.slot, 0);
    CU_ASSERT_EQUAL(st->select.fields[0].expr->bound.type, EK_T_STRING);
    static const char *const inputs[] = {
        "{\"a\":1,\"b\":2,\"c\":\"x\"}",  /* schema order */
        "{\"c\":\"x\",\"b\":2,\"a\":1}",  /* another order: the slot check falls back to names */
        "{\"c\":\"x\",\"a\":1,\"b\":2,\"z\":0}",
    };
    for (size_t i = 0; i < 3; i++) {
        ek_row *r = row_of(inputs[i], false, "demo");
        const ek_row *rows[] = {r};
        ek_eval_ctx ctx = {.rows = rows, .nrows = 1};
        project_eq(pg, &ctx, "{\"a\":1,\"b\":2,\"c\":\"x\"}");
        ek_row_unref(r);
    }
    ek_row *r = row_of("{\"a\":1}", false, "demo");
    const ek_row *rows[] = {r};
    ek_eval_ctx ctx = {.rows = rows, .nrows = 1};
    project_eq(pg, &ctx, "{\"a\":1}");
    ek_row_unref(r);
    ek_sql_program_free(pg);
    ek_stmt_free(st);
    ek_stmt_free(d.create);
}

/* Aggregates see the whole group; other fields read the current (first) tuple. */
static void test_aggregates(void)
{
    stream_def d;
    def_load(&d, "demo", "CREATE STREAM demo (size bigint, color string, f float) WITH (DATASOURCE=\"d\")");
    ek_stmt *st;
    ek_sql_program *pg;
    prepare_ok("SELECT color, count(*), avg(size), sum(size) AS s, max(f) AS mx, avg(size) + 1 AS a1, "
               "sum(size) FILTER (WHERE size > 3) AS big, collect(color) AS cs FROM demo "
               "GROUP BY color, TUMBLINGWINDOW(ss, 10) HAVING count(*) > 1",
               &d.schema, 1, NULL, &st, &pg);
    CU_ASSERT(pg->aggregate);
    CU_ASSERT_EQUAL(pg->ngroup, 1);
    CU_ASSERT_STRING_EQUAL(pg->fields[1].name, "count");
    CU_ASSERT_STRING_EQUAL(pg->fields[2].name, "avg");
    static const char *const in[] = {"{\"size\":3,\"color\":\"red\",\"f\":1.5}", "{\"size\":6,\"color\":\"red\",\"f\":0.5}",
                                     "{\"size\":7,\"color\":\"red\",\"f\":2}"};
    const ek_row *group[3];
    for (int i = 0; i < 3; i++) group[i] = row_of(in[i], false, "demo");
    ek_eval_ctx ctx = {.rows = group, .nrows = 1, .group = group, .group_len = 3};
    bool keep = false;
    ek_err err = {0};
    CU_ASSERT_EQUAL(ek_cexpr_eval_bool(pg->having, &ctx, &keep, &err), 0);
    CU_ASSERT(keep);
    /* avg over bigint truncates: 16 / 3 = 5 */
    project_eq(pg, &ctx, "{\"a1\":6,\"avg\":5,\"big\":13,\"color\":\"red\",\"count\":3,\"cs\":[\"red\",\"red\",\"red\"],"
                         "\"mx\":2,\"s\":16}");
    ek_value key;
    CU_ASSERT_EQUAL(ek_sql_group_key(pg, &ctx, &key, &err), 0);
    char *k = to_json(&key);
    CU_ASSERT_STRING_EQUAL(k, "[\"red\"]");
    ek_free(k);
    ek_value_unref(&key);
    /* A group of one: HAVING count(*) > 1 is false. */
    ctx.group_len = 1;
    CU_ASSERT_EQUAL(ek_cexpr_eval_bool(pg->having, &ctx, &keep, &err), 0);
    CU_ASSERT(!keep);
    /* An empty group. */
    ctx.group_len = 0;
    project_eq(pg, &ctx, "{\"color\":\"red\",\"count\":0,\"cs\":[]}");
    for (int i = 0; i < 3; i++) ek_row_unref((ek_row *)group[i]);
    ek_sql_program_free(pg);
    ek_stmt_free(st);
    ek_stmt_free(d.create);
}

/* HAVING and ORDER BY may name a select alias; an aggregate without a window sees one row. */
static void test_alias_in_having_and_order(void)
{
    stream_def d;
    def_load(&d, "demo", NULL);
    ek_stmt *st;
    ek_sql_program *pg;
    prepare_ok("SELECT count(*) AS c, a AS x FROM demo GROUP BY COUNTWINDOW(2) HAVING c > 1 ORDER BY x DESC",
               &d.schema, 1, NULL, &st, &pg);
    ek_row *r1 = row_of("{\"a\":1}", true, "demo"), *r2 = row_of("{\"a\":2}", true, "demo");
    const ek_row *g[] = {r1, r2};
    ek_eval_ctx ctx = {.rows = g, .nrows = 1, .group = g, .group_len = 2};
    bool keep = false;
    CU_ASSERT_EQUAL(ek_cexpr_eval_bool(pg->having, &ctx, &keep, NULL), 0);
    CU_ASSERT(keep);
    ek_value v;
    CU_ASSERT_EQUAL(ek_cexpr_eval(pg->order_by[0], &ctx, &v, NULL), 0);
    CU_ASSERT(v.type == EK_T_FLOAT && v.f == 1.0);
    ek_sql_program_free(pg);
    ek_stmt_free(st);
    prepare_ok("SELECT count(*) AS c FROM demo", &d.schema, 1, NULL, &st, &pg);
    CU_ASSERT(pg->aggregate);
    ek_eval_ctx one = {.rows = g, .nrows = 1};
    project_eq(pg, &one, "{\"c\":1}");
    ek_sql_program_free(pg);
    ek_stmt_free(st);
    ek_row_unref(r1);
    ek_row_unref(r2);
}

/* Analytic calls keep state per call site and per PARTITION BY key; WHEN gates updates. */
static void test_analytic(void)
{
    stream_def d;
    def_load(&d, "demo", "CREATE STREAM demo (id string, t bigint) WITH (DATASOURCE=\"d\")");
    ek_stmt *st;
    ek_sql_program *pg;
    prepare_ok("SELECT t, lag(t) AS prev, lag(t) OVER (PARTITION BY id) AS pprev, "
               "latest(t) OVER (WHEN t > 10) AS big FROM demo", &d.schema, 1, NULL, &st, &pg);
    CU_ASSERT(pg->has_analytic);
    static const char *const in[] = {"{\"id\":\"a\",\"t\":1}", "{\"id\":\"b\",\"t\":20}", "{\"id\":\"a\",\"t\":3}",
                                     "{\"id\":\"b\",\"t\":4}"};
    static const char *const out[] = {
        "{\"t\":1}",
        "{\"big\":20,\"prev\":1,\"t\":20}",
        "{\"big\":20,\"pprev\":1,\"prev\":20,\"t\":3}",
        "{\"big\":20,\"pprev\":20,\"prev\":3,\"t\":4}",
    };
    for (int i = 0; i < 4; i++) {
        ek_row *r = row_of(in[i], false, "demo");
        const ek_row *rows[] = {r};
        ek_eval_ctx ctx = {.rows = rows, .nrows = 1};
        project_eq(pg, &ctx, out[i]);
        ek_row_unref(r);
    }
    ek_sql_program_free(pg);
    ek_stmt_free(st);
    /* changed_cols packs its columns and spreads the changed ones into the output. */
    prepare_ok("SELECT changed_cols('c_', true, id, t) FROM demo", &d.schema, 1, NULL, &st, &pg);
    static const char *const in2[] = {"{\"id\":\"a\",\"t\":1}", "{\"id\":\"a\",\"t\":2}"};
    static const char *const out2[] = {"{\"c_id\":\"a\",\"c_t\":1}", "{\"c_t\":2}"};
    for (int i = 0; i < 2; i++) {
        ek_row *r = row_of(in2[i], false, "demo");
        const ek_row *rows[] = {r};
        ek_eval_ctx ctx = {.rows = rows, .nrows = 1};
        project_eq(pg, &ctx, out2[i]);
        ek_row_unref(r);
    }
    ek_sql_program_free(pg);
    ek_stmt_free(st);
    /* The docs' example: an aggregate inside changed_cols is named after its function. */
    prepare_ok("SELECT CHANGED_COLS(\"t\", true, avg(t)) FROM demo GROUP BY CountWindow(2)", &d.schema, 1, NULL, &st, &pg);
    ek_row *g1 = row_of("{\"id\":\"a\",\"t\":22}", false, "demo"), *g2 = row_of("{\"id\":\"a\",\"t\":24}", false, "demo");
    const ek_row *grp[] = {g1, g2};
    ek_eval_ctx gctx = {.rows = grp, .nrows = 1, .group = grp, .group_len = 2};
    project_eq(pg, &gctx, "{\"tavg\":23}");
    project_eq(pg, &gctx, "{}");
    ek_row_unref(g1);
    ek_row_unref(g2);
    ek_sql_program_free(pg);
    ek_stmt_free(st);
    ek_stmt_free(d.create);
}

/* Joins: fields resolve to their source; an outer join's missing side reads as nil. */
static void test_joins(void)
{
    stream_def s1, s2, t;
    def_load(&s1, "s1", "CREATE STREAM s1 (id bigint, temp float) WITH (DATASOURCE=\"s1\")");
    def_load(&s2, "s2", "CREATE STREAM s2 (id bigint, hum float) WITH (DATASOURCE=\"s2\")");
    def_load(&t, "t", "CREATE TABLE t (id bigint, name string) WITH (DATASOURCE=\"t\", TYPE=\"file\")");
    ek_sql_schema schemas[] = {s1.schema, s2.schema, t.schema};
    ek_stmt *st;
    ek_sql_program *pg;
    ek_err err = {0};
    CU_ASSERT_EQUAL(ek_sql_prepare("SELECT * FROM s1 INNER JOIN s2 ON s1.id = s2.id", schemas, 3, NULL, &st, &pg, &err), EK_EPLAN);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "a time window or count window is required to join multiple streams"));
    CU_ASSERT_EQUAL(ek_sql_prepare("SELECT id FROM s1 INNER JOIN s2 ON s1.id = s2.id GROUP BY COUNTWINDOW(2)",
                                   schemas, 3, NULL, &st, &pg, &err), EK_EPLAN);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "ambiguous field id"));
    CU_ASSERT_EQUAL(ek_sql_prepare("SELECT * FROM t GROUP BY COUNTWINDOW(2)", schemas, 3, NULL, &st, &pg, &err), EK_EPLAN);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "cannot run window for TABLE sources"));
    prepare_ok("SELECT s1.id, temp, b.hum, name FROM s1 LEFT JOIN s2 AS b ON s1.id = b.id LEFT JOIN t ON t.id = s1.id "
               "GROUP BY TUMBLINGWINDOW(ss, 1)", schemas, 3, NULL, &st, &pg);
    CU_ASSERT_EQUAL(st->select.fields[1].expr->bound.src, 0);
    CU_ASSERT_EQUAL(st->select.fields[2].expr->bound.src, 1);
    CU_ASSERT_EQUAL(st->select.fields[3].expr->bound.src, 2);
    CU_ASSERT_PTR_NULL(pg->join_on[0]);
    CU_ASSERT_PTR_NOT_NULL(pg->join_on[1]);
    ek_row *a = row_of("{\"id\":1,\"temp\":20.5}", false, "s1"), *b = row_of("{\"id\":1,\"hum\":60}", false, "s2");
    const ek_row *tuple[] = {a, b, NULL};
    ek_eval_ctx ctx = {.rows = tuple, .nrows = 3};
    bool on = false;
    CU_ASSERT_EQUAL(ek_cexpr_eval_bool(pg->join_on[1], &ctx, &on, &err), 0);
    CU_ASSERT(on);
    project_eq(pg, &ctx, "{\"hum\":60,\"id\":1,\"temp\":20.5}");
    ek_sql_program_free(pg);
    ek_stmt_free(st);
    /* A stream joined with a table needs no window; * merges both rows. */
    prepare_ok("SELECT * FROM s1 INNER JOIN t ON s1.id = t.id", schemas, 3, NULL, &st, &pg);
    ek_row *c = row_of("{\"id\":1,\"name\":\"x\"}", false, "t");
    const ek_row *tuple2[] = {a, c};
    ek_eval_ctx ctx2 = {.rows = tuple2, .nrows = 2};
    project_eq(pg, &ctx2, "{\"id\":1,\"name\":\"x\",\"temp\":20.5}");
    ek_sql_program_free(pg);
    ek_stmt_free(st);
    ek_row_unref(a);
    ek_row_unref(b);
    ek_row_unref(c);
    ek_stmt_free(s1.create);
    ek_stmt_free(s2.create);
    ek_stmt_free(t.create);
}

/* meta() reads the row's metadata; its argument names a key, not a column. */
static void test_meta(void)
{
    stream_def d;
    def_load(&d, "demo", "CREATE STREAM demo (a bigint) WITH (DATASOURCE=\"d\")");
    ek_stmt *st;
    ek_sql_program *pg;
    prepare_ok("SELECT a, meta(topic) AS t, mqtt(qos) AS q, meta(props.k) AS k FROM demo", &d.schema, 1, NULL, &st, &pg);
    ek_value msg, meta;
    ek_json_decode("{\"a\":1}", 7, 0, &msg, NULL);
    const char *mj = "{\"topic\":\"dev/1\",\"qos\":1,\"props\":{\"k\":\"v\"}}";
    ek_json_decode(mj, strlen(mj), 0, &meta, NULL);
    ek_row *r = ek_row_new(msg, meta, 0, "demo");
    const ek_row *rows[] = {r};
    ek_eval_ctx ctx = {.rows = rows, .nrows = 1};
    project_eq(pg, &ctx, "{\"a\":1,\"k\":\"v\",\"q\":1,\"t\":\"dev/1\"}");
    ek_row_unref(r);
    ek_sql_program_free(pg);
    ek_stmt_free(st);
    ek_stmt_free(d.create);
}

/* Constant sub-expressions are folded when compiled; non-deterministic calls are not. */
static void test_folding(void)
{
    stream_def d;
    def_load(&d, "demo", NULL);
    ek_stmt *st;
    ek_sql_program *pg;
    prepare_ok("SELECT 1 + 2 * 3 AS a, abs(-2) + 1 AS b, upper('x') AS c, rand() AS d, 1 / 0 AS e, "
               "'a' LIKE 'a%' AS f, CASE WHEN 1 > 2 THEN 'x' ELSE 'y' END AS g FROM demo WHERE 2 > 1",
               &d.schema, 1, NULL, &st, &pg);
    const ek_value *v;
    CU_ASSERT(ek_cexpr_const(pg->fields[0].expr, &v) && v->type == EK_T_INT && v->i == 7);
    CU_ASSERT(ek_cexpr_const(pg->fields[1].expr, &v) && v->i == 3);
    CU_ASSERT(ek_cexpr_const(pg->fields[2].expr, &v) && v->type == EK_T_STRING);
    CU_ASSERT(!ek_cexpr_const(pg->fields[3].expr, NULL));
    CU_ASSERT(!ek_cexpr_const(pg->fields[4].expr, NULL));  /* 1/0 stays, to fail at run time */
    CU_ASSERT(ek_cexpr_const(pg->fields[5].expr, &v) && v->type == EK_T_BOOL && v->b);
    CU_ASSERT(ek_cexpr_const(pg->fields[6].expr, &v) && strcmp(ek_str_ptr(v), "y") == 0);
    CU_ASSERT(ek_cexpr_const(pg->where, &v) && v->b);
    ek_row *r = row_of("{}", true, "demo");
    const ek_row *rows[] = {r};
    ek_eval_ctx ctx = {.rows = rows, .nrows = 1};
    ek_value out;
    ek_err err = {0};
    CU_ASSERT_EQUAL(ek_sql_project(pg, &ctx, &out, &err), EK_EEXEC);
    CU_ASSERT_STRING_EQUAL(err.msg, "divided by zero");
    ek_row_unref(r);
    ek_sql_program_free(pg);
    ek_stmt_free(st);
}

/* A resolver lets a rule see extra functions (plugins); a def's check runs at bind time. */
static int twice(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    (void)c;
    (void)n;
    if (a[0].type != EK_T_INT) return ek_err_set(e, EK_ETYPE, "twice: expected a bigint");
    *o = ek_int(a[0].i * 2);
    return 0;
}

static int twice_check(const ek_func_arg_info *args, int n, ek_err *e)
{
    (void)n;
    if (args[0].is_const && args[0].value.type != EK_T_INT) return ek_err_set(e, EK_EPLAN, "twice: argument 1 must be a bigint");
    if (args[0].type == EK_T_STRING) return ek_err_set(e, EK_EPLAN, "twice: argument 1 is a string column");
    return 0;
}

static const ek_func_def twice_def = {"twice", EK_FUNC_SCALAR, 1, 1, twice, twice_check, true};

static const ek_func_def *resolve(const char *name, void *arg)
{
    (void)arg;
    return strcmp(name, "twice") == 0 ? &twice_def : NULL;
}

static void test_resolver_and_check(void)
{
    stream_def d;
    def_load(&d, "demo", "CREATE STREAM demo (a bigint, s string) WITH (DATASOURCE=\"d\")");
    ek_bind_opts opts = {.resolve = resolve};
    ek_stmt *st;
    ek_sql_program *pg;
    prepare_ok("SELECT twice(a), twice(3) AS k, abs(a) AS b FROM demo", &d.schema, 1, &opts, &st, &pg);
    CU_ASSERT(ek_cexpr_const(pg->fields[1].expr, NULL));
    ek_row *r = row_of("{\"a\":-4}", false, "demo");
    const ek_row *rows[] = {r};
    ek_eval_ctx ctx = {.rows = rows, .nrows = 1};
    project_eq(pg, &ctx, "{\"b\":4,\"k\":6,\"twice\":-8}");
    ek_row_unref(r);
    ek_sql_program_free(pg);
    ek_stmt_free(st);
    ek_err err = {0};
    CU_ASSERT_EQUAL(ek_sql_prepare("SELECT twice('x') FROM demo", &d.schema, 1, &opts, &st, &pg, &err), EK_EPLAN);
    CU_ASSERT_STRING_EQUAL(err.msg, "line 1, column 8: twice: argument 1 must be a bigint");
    CU_ASSERT_EQUAL(ek_sql_prepare("SELECT a,\n  twice(s) FROM demo", &d.schema, 1, &opts, &st, &pg, &err), EK_EPLAN);
    CU_ASSERT_STRING_EQUAL(err.msg, "line 2, column 3: twice: argument 1 is a string column");
    CU_ASSERT_EQUAL(ek_sql_prepare("SELECT twice(a) FROM demo", &d.schema, 1, NULL, &st, &pg, &err), EK_EPLAN);
    CU_ASSERT_STRING_EQUAL(err.msg, "line 1, column 8: function twice not found");
    CU_ASSERT_EQUAL(ek_sql_prepare("CREATE STREAM x () WITH (DATASOURCE=\"x\")", &d.schema, 1, NULL, &st, &pg, &err), EK_EPARSE);
    CU_ASSERT_EQUAL(ek_sql_prepare("SELECT FROM", &d.schema, 1, NULL, &st, &pg, &err), EK_EPARSE);
    CU_ASSERT_PTR_NULL(st);
    CU_ASSERT_PTR_NULL(pg);
    ek_stmt_free(d.create);
}

/* The window's own expressions are compiled too. */
static void test_window_exprs(void)
{
    stream_def d;
    def_load(&d, "demo", NULL);
    ek_stmt *st;
    ek_sql_program *pg;
    prepare_ok("SELECT * FROM demo GROUP BY STATEWINDOW(a > 1, a > 5) FILTER (WHERE b = 1) OVER (PARTITION BY c)",
               &d.schema, 1, NULL, &st, &pg);
    CU_ASSERT_PTR_NOT_NULL(pg->state_begin);
    CU_ASSERT_PTR_NOT_NULL(pg->state_emit);
    CU_ASSERT_PTR_NOT_NULL(pg->win_filter);
    CU_ASSERT_EQUAL(pg->nwin_partition, 1);
    ek_row *r = row_of("{\"a\":3,\"b\":1}", true, "demo");
    const ek_row *rows[] = {r};
    ek_eval_ctx ctx = {.rows = rows, .nrows = 1};
    bool b1 = false, b2 = true;
    CU_ASSERT_EQUAL(ek_cexpr_eval_bool(pg->state_begin, &ctx, &b1, NULL), 0);
    CU_ASSERT_EQUAL(ek_cexpr_eval_bool(pg->state_emit, &ctx, &b2, NULL), 0);
    CU_ASSERT(b1 && !b2);
    ek_row_unref(r);
    ek_sql_program_free(pg);
    ek_stmt_free(st);
    ek_err err = {0};
    CU_ASSERT_EQUAL(ek_sql_prepare("SELECT * FROM demo GROUP BY SLIDINGWINDOW(ss, 1) OVER (WHEN count(*) > 1)",
                                   &d.schema, 1, NULL, &st, &pg, &err), EK_EPLAN);
}

/* ek_sql_update_analytic moves analytic state for rows WHERE drops, as eKuiper does. */
static void test_analytic_before_where(void)
{
    stream_def d;
    def_load(&d, "demo", "CREATE STREAM demo (t bigint) WITH (DATASOURCE=\"d\")");
    ek_stmt *st;
    ek_sql_program *pg;
    prepare_ok("SELECT t, lag(t) AS prev, row_number() AS n FROM demo WHERE t > 1", &d.schema, 1, NULL, &st, &pg);
    static const int in[] = {1, 5, 0, 7};
    static const char *const out[] = {NULL, "{\"n\":1,\"prev\":1,\"t\":5}", NULL, "{\"n\":1,\"prev\":0,\"t\":7}"};
    for (int i = 0; i < 4; i++) {
        char json[32];
        snprintf(json, sizeof json, "{\"t\":%d}", in[i]);
        ek_row *r = row_of(json, false, "demo");
        const ek_row *rows[] = {r};
        ek_eval_ctx ctx = {.rows = rows, .nrows = 1};
        ek_err err = {0};
        CU_ASSERT_EQUAL(ek_sql_update_analytic(pg, &ctx, &err), 0);
        bool keep = false;
        CU_ASSERT_EQUAL(ek_cexpr_eval_bool(pg->where, &ctx, &keep, &err), 0);
        CU_ASSERT_EQUAL(keep, out[i] != NULL);
        if (keep) project_eq(pg, &ctx, out[i]);
        ek_sql_program_reset_state(pg, "row_number");  /* a new "window": row_number restarts */
        ek_row_unref(r);
    }
    ek_sql_program_free(pg);
    ek_stmt_free(st);
    ek_stmt_free(d.create);
}

/* last_hit_count(): one counter per rule; in WHERE it counts the rows WHERE let through, in the
 * select list the rows output. */
static void test_hit_counters(void)
{
    stream_def d;
    def_load(&d, "demo", "CREATE STREAM demo (a bigint) WITH (DATASOURCE=\"d\")");
    ek_stmt *st;
    ek_sql_program *pg;
    prepare_ok("SELECT a, last_hit_count() AS c, last_hit_count() AS c2 FROM demo WHERE a > 1", &d.schema, 1, NULL, &st, &pg);
    static const int in[] = {2, 0, 3};
    static const char *const out[] = {"{\"a\":2,\"c\":0,\"c2\":0}", NULL, "{\"a\":3,\"c\":1,\"c2\":1}"};
    for (int i = 0; i < 3; i++) {
        char json[32];
        snprintf(json, sizeof json, "{\"a\":%d}", in[i]);
        ek_row *r = row_of(json, false, "demo");
        const ek_row *rows[] = {r};
        ek_eval_ctx ctx = {.rows = rows, .nrows = 1};
        bool keep = false;
        CU_ASSERT_EQUAL(ek_cexpr_eval_bool(pg->where, &ctx, &keep, NULL), 0);
        if (keep) project_eq(pg, &ctx, out[i]);
        CU_ASSERT_EQUAL(keep, out[i] != NULL);
        ek_row_unref(r);
    }
    ek_sql_program_free(pg);
    ek_stmt_free(st);
    prepare_ok("SELECT a, last_hit_count() AS c FROM demo WHERE last_hit_count() < 2", &d.schema, 1, NULL, &st, &pg);
    static const char *const out2[] = {"{\"a\":1,\"c\":1}", "{\"a\":1,\"c\":2}", NULL, NULL};
    for (int i = 0; i < 4; i++) {
        ek_row *r = row_of("{\"a\":1}", false, "demo");
        const ek_row *rows[] = {r};
        ek_eval_ctx ctx = {.rows = rows, .nrows = 1};
        bool keep = false;
        CU_ASSERT_EQUAL(ek_cexpr_eval_bool(pg->where, &ctx, &keep, NULL), 0);
        CU_ASSERT_EQUAL(keep, out2[i] != NULL);
        if (keep) project_eq(pg, &ctx, out2[i]);
        ek_row_unref(r);
    }
    ek_sql_program_free(pg);
    ek_stmt_free(st);
    ek_stmt_free(d.create);
}

/* A datetime value in a row compares with numbers (ms) and strings. */
static void test_datetime_values(void)
{
    stream_def d;
    def_load(&d, "demo", "CREATE STREAM demo (ts datetime) WITH (DATASOURCE=\"d\")");
    ek_stmt *st;
    ek_sql_program *pg;
    prepare_ok("SELECT ts > 1000 AS a, ts = 1500 AS b, ts < '1970-01-01T00:00:02Z' AS c, ts >= ts AS d, "
               "ts BETWEEN 1000 AND 2000 AS e FROM demo", &d.schema, 1, NULL, &st, &pg);
    ek_value msg = ek_object_new(1);
    ek_object_set(&msg, "ts", ek_datetime(1500 * 1000000LL));
    ek_row *r = ek_row_new(msg, ek_null(), 0, "demo");
    const ek_row *rows[] = {r};
    ek_eval_ctx ctx = {.rows = rows, .nrows = 1};
    project_eq(pg, &ctx, "{\"a\":true,\"b\":true,\"c\":true,\"d\":true,\"e\":true}");
    ek_row_unref(r);
    ek_sql_program_free(pg);
    ek_stmt_free(st);
    ek_stmt_free(d.create);
}

/* A stand-alone expression: fields by name in the tuple's rows; a statement can be bound twice. */
static void test_standalone_and_rebind(void)
{
    ek_expr *e = NULL;
    CU_ASSERT_EQUAL_FATAL(ek_sql_parse_expr("a * 2 + b->c", &e, NULL), 0);
    ek_cexpr *c = NULL;
    CU_ASSERT_EQUAL_FATAL(ek_cexpr_compile(e, &c, NULL), 0);
    ek_row *r1 = row_of("{\"a\":4}", false, "s1"), *r2 = row_of("{\"b\":{\"c\":1}}", false, "s2");
    const ek_row *rows[] = {r1, r2};
    ek_eval_ctx ctx = {.rows = rows, .nrows = 2};
    ek_value v;
    CU_ASSERT_EQUAL(ek_cexpr_eval(c, &ctx, &v, NULL), 0);
    CU_ASSERT(v.type == EK_T_INT && v.i == 9);
    ek_cexpr_free(c);
    ek_expr_free(e);
    CU_ASSERT_EQUAL_FATAL(ek_sql_parse_expr("nosuch(a)", &e, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(ek_cexpr_compile(e, &c, NULL), 0);
    ek_err err = {0};
    CU_ASSERT_EQUAL(ek_cexpr_eval(c, &ctx, &v, &err), EK_EEXEC);
    CU_ASSERT_STRING_EQUAL(err.msg, "function nosuch not found");
    ek_cexpr_free(c);
    ek_expr_free(e);
    bool keep = false;
    CU_ASSERT_EQUAL(ek_cexpr_eval_bool(NULL, &ctx, &keep, NULL), 0);  /* no WHERE: every row passes */
    CU_ASSERT(keep);
    ek_row_unref(r1);
    ek_row_unref(r2);

    stream_def d;
    def_load(&d, "demo", NULL);
    ek_stmt *st = NULL;
    CU_ASSERT_EQUAL_FATAL(ek_sql_parse("SELECT meta(topic), a + 1, avg(a) FROM demo GROUP BY COUNTWINDOW(2)", &st, NULL), 0);
    CU_ASSERT_EQUAL(ek_sql_bind(st, &d.schema, 1, NULL, NULL), 0);
    CU_ASSERT_EQUAL(ek_sql_bind(st, &d.schema, 1, NULL, NULL), 0);
    CU_ASSERT_STRING_EQUAL(st->select.fields[0].out_name, "meta");
    CU_ASSERT_STRING_EQUAL(st->select.fields[1].out_name, "kuiper_field_0");
    CU_ASSERT_STRING_EQUAL(st->select.fields[2].out_name, "avg");
    CU_ASSERT(ek_select_is_aggregate(&st->select));
    CU_ASSERT(ek_expr_func(st->select.fields[2].expr) == ek_func_lookup("avg"));
    ek_stmt_free(st);
}

void ek_register_tests(void)
{
    static const ek_test_case tests[] = {
        {"table of expressions", test_table},
        {"basic.ignoreCase", test_ignore_case},
        {"schema slots", test_slots},
        {"aggregates over a group", test_aggregates},
        {"aliases in HAVING and ORDER BY", test_alias_in_having_and_order},
        {"analytic functions", test_analytic},
        {"joins", test_joins},
        {"meta()", test_meta},
        {"constant folding", test_folding},
        {"function resolver and check", test_resolver_and_check},
        {"window expressions", test_window_exprs},
        {"analytic functions before WHERE", test_analytic_before_where},
        {"datetime values", test_datetime_values},
        {"last_hit_count() counters", test_hit_counters},
        {"stand-alone expressions and binding twice", test_standalone_and_rebind},
        {NULL, NULL},
    };
    ek_add_suite("sql_expr", tests);
}
