/* Parser tests, part 2: what a user is told when a statement is wrong (every message names line,
 * column, what was found and what was expected), the lexer's tokens and positions, and the
 * finer structure of the AST that the printer does not show (window lengths in ms, join kinds,
 * CREATE columns, defaults and properties, positions of expressions). */
#include "engine/mem.h"
#include "sql/lexer.h"
#include "sql/sql.h"
#include "tests/unit/test_util.h"

#include <ctype.h>
#include <string.h>

typedef struct ecase {
    const char *sql;
    const char *err;
} ecase;

static const ecase cases[] = {
    {"SELECT a FORM demo",
     "line 1, column 10: found \"FORM\", expected FROM or ','"},
    {"SELECT a, b FROM",
     "line 1, column 17: found EOF, expected a stream or table name"},
    {"SELECT",
     "line 1, column 7: found EOF, expected an expression"},
    {"SELECT FROM demo",
     "line 1, column 8: found \"FROM\", expected an expression"},
    {"SELECT a FROM demo WHERE",
     "line 1, column 25: found EOF, expected an expression"},
    {"SELECT a FROM demo WHERE a >",
     "line 1, column 29: found EOF, expected an expression"},
    {"SELECT a FROM demo WHERE a > 1 AND",
     "line 1, column 35: found EOF, expected an expression"},
    {"SELECT a FROM demo GROUP a",
     "line 1, column 26: found \"a\", expected BY"},
    {"SELECT a FROM demo ORDER a",
     "line 1, column 26: found \"a\", expected BY"},
    {"SELECT a FROM demo LIMIT",
     "line 1, column 25: found EOF, expected a non-negative integer"},
    {"SELECT a FROM demo LIMIT -1",
     "line 1, column 26: found \"-\", expected a non-negative integer"},
    {"SELECT a FROM demo LIMIT 1.5",
     "line 1, column 26: found \"1.5\", expected a non-negative integer"},
    {"SELECT a FROM demo LIMIT 1 2",
     "line 1, column 28: found \"2\", expected EOF"},
    {"SELECT a FROM demo WHERE a = 1 b",
     "line 1, column 32: found \"b\", expected GROUP BY, HAVING, ORDER BY, LIMIT or EOF"},
    {"SELECT a FROM demo GROUP BY COUNTWINDOW(5) x",
     "line 1, column 44: found \"x\", expected ',', HAVING, ORDER BY, LIMIT or EOF"},
    {"SELECT a b FROM demo",
     "line 1, column 10: found \"b\", expected FROM or ','"},
    {"SELECT a AS FROM demo",
     "line 1, column 13: found \"FROM\", expected an alias"},
    {"SELECT a AS 1 FROM demo",
     "line 1, column 13: found \"1\", expected an alias"},
    {"SELECT (a FROM demo",
     "line 1, column 11: found \"FROM\", expected ')'"},
    {"SELECT a) FROM demo",
     "line 1, column 9: found \")\", expected FROM or ','"},
    {"SELECT f(a FROM demo",
     "line 1, column 12: found \"FROM\", expected ')' or ','"},
    {"SELECT f(a,) FROM demo",
     "line 1, column 12: found \")\", expected an expression"},
    {"SELECT f(,a) FROM demo",
     "line 1, column 10: found \",\", expected an expression"},
    {"SELECT a[1 FROM demo",
     "line 1, column 12: found \"FROM\", expected ']' or ':'"},
    {"SELECT a[] FROM demo",
     "line 1, column 10: found \"]\", expected an expression"},
    {"SELECT a[1:2:3] FROM demo",
     "line 1, column 13: found \":\", expected ']'"},
    {"SELECT a-> FROM demo",
     "line 1, column 12: found \"FROM\", expected a field name"},
    {"SELECT a->1 FROM demo",
     "line 1, column 11: found \"1\", expected a field name"},
    {"SELECT a. FROM demo",
     "line 1, column 11: found \"FROM\", expected a field name"},
    {"SELECT 'abc FROM demo",
     "line 1, column 8: unterminated string, expected an expression"},
    {"SELECT \"abc' FROM tbl",
     "line 1, column 8: unterminated string, expected an expression"},
    {"SELECT `abc FROM demo",
     "line 1, column 8: unterminated quoted identifier, expected an expression"},
    {"SELECT a FROM demo /* never closed",
     "line 1, column 35: unterminated comment, expected WHERE, GROUP BY, HAVING, ORDER BY, LIMIT, JOIN or EOF"},
    {"SELECT a ! b FROM demo",
     "line 1, column 10: unexpected character '!', expected FROM or ','"},
    {"SELECT a FROM demo WHERE a # 1",
     "line 1, column 28: unexpected character '#', expected GROUP BY, HAVING, ORDER BY, LIMIT or EOF"},
    {"SELECT a FROM demo WHERE a ~ 1",
     "line 1, column 28: unexpected character '~', expected GROUP BY, HAVING, ORDER BY, LIMIT or EOF"},
    {"SELECT a FROM demo WHERE a IS 1",
     "line 1, column 31: found \"1\", expected NOT or NULL"},
    {"SELECT a FROM demo WHERE a IS NOT 1",
     "line 1, column 35: found \"1\", expected NULL"},
    {"SELECT a FROM demo WHERE a NOT 1",
     "line 1, column 32: found \"1\", expected LIKE, IN or BETWEEN"},
    {"SELECT a FROM demo WHERE a BETWEEN 1",
     "line 1, column 37: found EOF, expected AND"},
    {"SELECT a FROM demo WHERE a BETWEEN 1 OR 2",
     "line 1, column 38: found \"OR\", expected AND"},
    {"SELECT a FROM demo WHERE a IN ()",
     "line 1, column 32: found \")\", expected an expression"},
    {"SELECT a FROM demo WHERE a IN (1, 2",
     "line 1, column 36: found EOF, expected ')' or ','"},
    {"SELECT a FROM demo WHERE a IN (1 2)",
     "line 1, column 34: found \"2\", expected ')' or ','"},
    {"SELECT a FROM demo WHERE a LIKE",
     "line 1, column 32: found EOF, expected an expression"},
    {"SELECT CASE END FROM demo",
     "line 1, column 13: found \"END\", expected an expression"},
    {"SELECT CASE a END FROM demo",
     "line 1, column 15: found \"END\", expected WHEN"},
    {"SELECT CASE WHEN a THEN 1 FROM demo",
     "line 1, column 27: found \"FROM\", expected WHEN, ELSE or END"},
    {"SELECT CASE WHEN a 1 END FROM demo",
     "line 1, column 20: found \"1\", expected THEN"},
    {"SELECT CASE ELSE 1 END FROM demo",
     "line 1, column 13: found \"ELSE\", expected an expression"},
    {"SELECT CASE WHEN 30 THEN \"high\" ELSE \"low\" END AS label FROM tbl",
     "line 1, column 18: invalid CASE expression, WHEN expression must be a bool condition"},
    {"SELECT CASE WHEN 'x' THEN 1 END FROM tbl",
     "line 1, column 18: invalid CASE expression, WHEN expression must be a bool condition"},
    {"SELECT * EXCEPT FROM demo",
     "line 1, column 17: found \"FROM\", expected '('"},
    {"SELECT * EXCEPT() FROM demo",
     "line 1, column 17: found \")\", expected a field name"},
    {"SELECT * EXCEPT(a FROM demo",
     "line 1, column 19: found \"FROM\", expected ')' or ','"},
    {"SELECT * REPLACE(a) FROM demo",
     "line 1, column 19: found \")\", expected AS"},
    {"SELECT * REPLACE(a AS) FROM demo",
     "line 1, column 22: found \")\", expected a field name"},
    {"SELECT f(a) FILTER WHERE a > 1 FROM demo",
     "line 1, column 20: found \"WHERE\", expected '('"},
    {"SELECT f(a) FILTER (a > 1) FROM demo",
     "line 1, column 21: found \"a\", expected WHERE"},
    {"SELECT f(a) OVER FROM demo",
     "line 1, column 18: found \"FROM\", expected '('"},
    {"SELECT f(a) OVER (PARTITION a) FROM demo",
     "line 1, column 29: found \"a\", expected BY"},
    {"SELECT f(a) OVER (WHEN) FROM demo",
     "line 1, column 23: found \")\", expected an expression"},
    {"SELECT f(a) OVER (ORDER BY a) FROM demo",
     "line 1, column 19: found \"ORDER\", expected PARTITION BY, WHEN or ')'"},
    {"SELECT a FROM demo JOIN",
     "line 1, column 24: found EOF, expected a stream or table name"},
    {"SELECT a FROM s1 JOIN s2",
     "line 1, column 25: found EOF, expected ON"},
    {"SELECT a FROM s1 LEFT s2 ON a = b",
     "line 1, column 23: found \"s2\", expected JOIN"},
    {"SELECT a FROM s1 LEFT JOIN s2 ON",
     "line 1, column 33: found EOF, expected an expression"},
    {"SELECT a FROM s1 CROSS JOIN s2 ON s1.a = s2.a",
     "line 1, column 32: On expression is not required for cross join type"},
    {"SELECT a FROM demo AS",
     "line 1, column 22: found EOF, expected an alias"},
    {"SELECT a FROM demo GROUP BY TUMBLINGWINDOW(ss)",
     "line 1, column 29: TUMBLINGWINDOW expects 2 arguments, got 1"},
    {"SELECT a FROM demo GROUP BY TUMBLINGWINDOW(ss, 10, 5)",
     "line 1, column 29: TUMBLINGWINDOW expects 2 arguments, got 3"},
    {"SELECT a FROM demo GROUP BY TUMBLINGWINDOW(xx, 10)",
     "line 1, column 44: invalid time unit, expected DD, HH, MI, SS or MS"},
    {"SELECT a FROM demo GROUP BY TUMBLINGWINDOW(ss, 0)",
     "line 1, column 48: window length must be a positive integer"},
    {"SELECT a FROM demo GROUP BY TUMBLINGWINDOW(ss, -1)",
     "line 1, column 48: window length must be a positive integer"},
    {"SELECT a FROM demo GROUP BY TUMBLINGWINDOW(ss, 1.5)",
     "line 1, column 48: window length must be a positive integer"},
    {"SELECT a FROM demo GROUP BY TUMBLINGWINDOW(ss, a)",
     "line 1, column 48: window length must be a positive integer"},
    {"SELECT a FROM demo GROUP BY TUMBLINGWINDOW(10, ss)",
     "line 1, column 44: invalid time unit, expected DD, HH, MI, SS or MS"},
    {"SELECT a FROM demo GROUP BY HOPPINGWINDOW(ss, 10)",
     "line 1, column 29: HOPPINGWINDOW expects 3 arguments, got 2"},
    {"SELECT a FROM demo GROUP BY HOPPINGWINDOW(ss, 5, 10)",
     "line 1, column 50: hop size must not exceed the window length"},
    {"SELECT a FROM demo GROUP BY SLIDINGWINDOW(ss)",
     "line 1, column 29: SLIDINGWINDOW expects 2 or 3 arguments, got 1"},
    {"SELECT a FROM demo GROUP BY SLIDINGWINDOW(ss, 1, 2, 3)",
     "line 1, column 29: SLIDINGWINDOW expects 2 or 3 arguments, got 4"},
    {"SELECT a FROM demo GROUP BY SESSIONWINDOW(mi, 2)",
     "line 1, column 29: SESSIONWINDOW expects 3 arguments, got 2"},
    {"SELECT a FROM demo GROUP BY COUNTWINDOW()",
     "line 1, column 29: COUNTWINDOW expects 1 or 2 arguments, got 0"},
    {"SELECT a FROM demo GROUP BY COUNTWINDOW(0)",
     "line 1, column 41: window count must be a positive integer"},
    {"SELECT a FROM demo GROUP BY COUNTWINDOW(3, 5)",
     "line 1, column 29: count interval must not exceed the window count"},
    {"SELECT a FROM demo GROUP BY COUNTWINDOW(3, 1, 1)",
     "line 1, column 29: COUNTWINDOW expects 1 or 2 arguments, got 3"},
    {"SELECT a FROM demo GROUP BY STATEWINDOW()",
     "line 1, column 29: STATEWINDOW expects 1 or 2 arguments, got 0"},
    {"SELECT a FROM demo GROUP BY STATEWINDOW(a, b, c)",
     "line 1, column 29: STATEWINDOW expects 1 or 2 arguments, got 3"},
    {"SELECT a FROM demo GROUP BY TUMBLINGWINDOW(ss, 1), COUNTWINDOW(5)",
     "line 1, column 52: only one window is allowed in GROUP BY"},
    {"SELECT a FROM demo GROUP BY TUMBLINGWINDOW(ss, 1) OVER (WHEN a > 1)",
     "line 1, column 29: OVER (WHEN ...) is only allowed after SLIDINGWINDOW"},
    {"SELECT a FROM demo GROUP BY COUNTWINDOW(5) OVER (PARTITION BY a)",
     "line 1, column 29: OVER (PARTITION BY ...) is only allowed after STATEWINDOW"},
    {"SELECT a FROM demo GROUP BY TUMBLINGWINDOW(ss, 1) FILTER (a > 1)",
     "line 1, column 59: found \"a\", expected WHERE"},
    {"SELECT a FROM demo WHERE a = 1 GROUP BY",
     "line 1, column 40: found EOF, expected an expression"},
    {"SELECT a FROM demo HAVING",
     "line 1, column 26: found EOF, expected an expression"},
    {"SELECT a FROM demo ORDER BY",
     "line 1, column 28: found EOF, expected an expression"},
    {"SELECT a FROM demo ORDER BY a DESC b",
     "line 1, column 36: found \"b\", expected ',', LIMIT or EOF"},
    {"SELECT a FROM demo; SELECT b FROM demo",
     "line 1, column 21: found \"SELECT\", expected EOF"},
    {"INSERT INTO demo VALUES (1)",
     "line 1, column 1: found \"INSERT\", expected SELECT, CREATE, DROP, SHOW, DESCRIBE or EXPLAIN"},
    {"SELEC a FROM demo",
     "line 1, column 1: found \"SELEC\", expected SELECT, CREATE, DROP, SHOW, DESCRIBE or EXPLAIN"},
    {"CREATE demo () WITH (DATASOURCE=\"x\")",
     "line 1, column 8: found \"demo\", expected STREAM or TABLE"},
    {"CREATE STREAM () WITH (DATASOURCE=\"x\")",
     "line 1, column 15: found \"(\", expected stream name"},
    {"CREATE STREAM demo WITH (DATASOURCE=\"x\")",
     "line 1, column 20: found \"WITH\", expected '('"},
    {"CREATE STREAM demo ()",
     "line 1, column 22: found EOF, expected WITH"},
    {"CREATE STREAM demo () WITH",
     "line 1, column 27: found EOF, expected '('"},
    {"CREATE STREAM demo () WITH ()",
     "line 1, column 29: found \")\", expected a property name"},
    {"CREATE STREAM demo () WITH (DATASOURCE)",
     "line 1, column 39: found \")\", expected '='"},
    {"CREATE STREAM demo () WITH (DATASOURCE=)",
     "line 1, column 40: found \")\", expected a string, TRUE or FALSE"},
    {"CREATE STREAM demo () WITH (DATASOURCE=abc)",
     "line 1, column 40: found \"abc\", expected a string, TRUE or FALSE"},
    {"CREATE STREAM demo () WITH (DATASOURCE=\"x\" FORMAT=\"json\")",
     "line 1, column 44: found \"FORMAT\", expected ')' or ','"},
    {"CREATE STREAM demo () WITH (DATASOURCE=\"x\", UNKNOWN=\"y\")",
     "line 1, column 45: unknown property UNKNOWN, expected one of DATASOURCE, FORMAT, TYPE, KEY, CONF_KEY, EXTRA, SHARED, TIMESTAMP, TIMESTAMP_FORMAT, STRICT_VALIDATION, SCHEMAID, DELIMITER, RETAIN_SIZE, KIND, VERSION, TEMP"},
    /* A trailing comma is accepted as eKuiper does (it writes one in exports); an empty list is not. */
    {"CREATE STREAM demo () WITH ()",
     "line 1, column 29: found \")\", expected a property name"},
    {"CREATE STREAM demo (a) WITH (DATASOURCE=\"x\")",
     "line 1, column 22: found \")\", expected a type (bigint, float, string, datetime, boolean, bytea, array, struct)"},
    {"CREATE STREAM demo (a int) WITH (DATASOURCE=\"x\")",
     "line 1, column 23: found \"int\", expected a type (bigint, float, string, datetime, boolean, bytea, array, struct)"},
    {"CREATE STREAM demo (a bigint b float) WITH (DATASOURCE=\"x\")",
     "line 1, column 30: found \"b\", expected ')' or ','"},
    {"CREATE STREAM demo (a bigint, a float) WITH (DATASOURCE=\"x\")",
     "line 1, column 31: duplicate column a"},
    {"CREATE STREAM demo (a array) WITH (DATASOURCE=\"x\")",
     "line 1, column 28: found \")\", expected '('"},
    {"CREATE STREAM demo (a array(bigint) WITH (DATASOURCE=\"x\")",
     "line 1, column 37: found \"WITH\", expected ')' or ','"},
    {"CREATE STREAM demo (a struct()) WITH (DATASOURCE=\"x\")",
     "line 1, column 30: found \")\", expected field name"},
    {"CREATE STREAM demo (a struct(b)) WITH (DATASOURCE=\"x\")",
     "line 1, column 31: found \")\", expected a type (bigint, float, string, datetime, boolean, bytea, array, struct)"},
    {"CREATE STREAM demo (a bigint DEFAULT \"x\") WITH (DATASOURCE=\"x\")",
     "line 1, column 38: invalid DEFAULT for column a of type bigint: only a literal of the column's type, for bigint, float, string and boolean"},
    {"CREATE STREAM demo (a bigint DEFAULT 1.5) WITH (DATASOURCE=\"x\")",
     "line 1, column 38: invalid DEFAULT for column a of type bigint: only a literal of the column's type, for bigint, float, string and boolean"},
    {"CREATE STREAM demo (a datetime DEFAULT 1) WITH (DATASOURCE=\"x\")",
     "line 1, column 40: invalid DEFAULT for column a of type datetime: only a literal of the column's type, for bigint, float, string and boolean"},
    {"CREATE STREAM demo (a string DEFAULT b) WITH (DATASOURCE=\"x\")",
     "line 1, column 38: invalid DEFAULT for column a of type string: only a literal of the column's type, for bigint, float, string and boolean"},
    {"CREATE STREAM demo (a boolean DEFAULT 1) WITH (DATASOURCE=\"x\")",
     "line 1, column 39: invalid DEFAULT for column a of type boolean: only a literal of the column's type, for bigint, float, string and boolean"},
    {"CREATE STREAM demo (a bigint DEFAULT) WITH (DATASOURCE=\"x\")",
     "line 1, column 37: found \")\", expected an expression"},
    {"CREATE STREAM demo () WITH (DATASOURCE=\"x\") extra",
     "line 1, column 45: found \"extra\", expected EOF"},
    {"CREATE VIEW demo () WITH (DATASOURCE=\"x\")",
     "line 1, column 8: found \"VIEW\", expected STREAM or TABLE"},
    {"DROP demo",
     "line 1, column 6: found \"demo\", expected STREAM or TABLE"},
    {"DROP STREAM",
     "line 1, column 12: found EOF, expected stream name"},
    {"DROP STREAM demo extra",
     "line 1, column 18: found \"extra\", expected EOF"},
    {"DROP STREAMS demo",
     "line 1, column 6: found \"STREAMS\", expected STREAM or TABLE"},
    {"SHOW",
     "line 1, column 5: found EOF, expected STREAMS or TABLES"},
    {"SHOW STREAM",
     "line 1, column 6: found \"STREAM\", expected STREAMS or TABLES"},
    {"SHOW TABLES extra",
     "line 1, column 13: found \"extra\", expected EOF"},
    {"DESCRIBE demo",
     "line 1, column 10: found \"demo\", expected STREAM or TABLE"},
    {"DESCRIBE STREAM",
     "line 1, column 16: found EOF, expected stream name"},
    {"EXPLAIN STREAMS",
     "line 1, column 9: found \"STREAMS\", expected STREAM or TABLE"},
    {"SELECT a FROM demo WHERE a = 1 AND (b = 2",
     "line 1, column 42: found EOF, expected ')'"},
    /* formats */
    {"CREATE STREAM demo () WITH (DATASOURCE=\"x\", FORMAT=\"yaml\")",
     "line 1, column 52: option 'format=yaml' is invalid"},
    {"CREATE TABLE demo () WITH (DATASOURCE=\"x\", FORMAT=\"binary\")",
     "line 1, column 51: 'binary' format is not supported for table"},
    {"CREATE STREAM demo (a bigint) WITH (DATASOURCE=\"x\", FORMAT=\"BINARY\")",
     "line 1, column 60: 'binary' format stream can have only 'bytea' type field"},
    {"CREATE STREAM demo (a bytea, b bytea) WITH (FORMAT=\"binary\")",
     "line 1, column 52: 'binary' format stream can have only one field"},
    /* positions on later lines */
    {"SELECT a\nFROM demo\nWHERE a = = 1",
     "line 3, column 11: found \"=\", expected an expression"},
    {"SELECT a,\n  b c\nFROM demo",
     "line 2, column 5: found \"c\", expected FROM or ','"},
    {"SELECT a FROM demo\n  GROUP BY TUMBLINGWINDOW(ss, 10),\n  COUNTWINDOW(5)",
     "line 3, column 3: only one window is allowed in GROUP BY"},
    {"/* a\ncomment */ SELECT a FORM demo",
     "line 2, column 21: found \"FORM\", expected FROM or ','"},
    {"", "line 1, column 1: found EOF, expected SELECT, CREATE, DROP, SHOW, DESCRIBE or EXPLAIN"},
    /* found by fuzzing: each once printed text that did not parse back the same */
    {"SELECT * FROM demo WHERE a NOT IN arr - x",
     "line 1, column 39: found \"-\", expected GROUP BY, HAVING, ORDER BY, LIMIT or EOF"},
    {"SELECT ``< `*` FROM demo", "line 1, column 8: empty quoted identifier, expected an expression"},
    {"SELECT c FROM ``", "line 1, column 15: empty quoted identifier, expected a stream or table name"},
    {NULL, NULL},
};

static void test_errors(void)
{
    int failures = 0;
    size_t n = 0;
    for (const ecase *c = cases; c->sql; c++, n++) {
        ek_stmt *st = (ek_stmt *)1;
        ek_err err = {0};
        int rc = ek_sql_parse(c->sql, &st, &err);
        if (rc != EK_EPARSE || st != NULL || err.code != EK_EPARSE || strcmp(err.msg, c->err) != 0) {
            fprintf(stderr, "\n  sql:  %s\n  rc %d, got:  %s\n  want: %s\n", c->sql, rc, err.msg, c->err);
            failures++;
        }
        if (rc == 0) ek_stmt_free(st);
    }
    CU_ASSERT_EQUAL(failures, 0);
    CU_ASSERT(n >= 100);
}

/* A NUL byte inside a name or string is refused rather than cutting it short. */
static void test_nul_bytes(void)
{
    static const char sql1[] = "SELECT c FROM `a\0b`";
    static const char sql2[] = "SELECT 'a\0b' FROM demo";
    ek_stmt *st = NULL;
    ek_err err = {0};
    CU_ASSERT_EQUAL(ek_sql_parse_n(sql1, sizeof sql1 - 1, &st, &err), EK_EPARSE);
    CU_ASSERT_STRING_EQUAL(err.msg, "line 1, column 15: unexpected byte 0x00, expected a stream or table name");
    CU_ASSERT_EQUAL(ek_sql_parse_n(sql2, sizeof sql2 - 1, &st, &err), EK_EPARSE);
    CU_ASSERT_EQUAL(ek_sql_parse_n("SELECT a\0 FROM demo", 20, &st, &err), EK_EPARSE);
    CU_ASSERT_STRING_EQUAL(err.msg, "line 1, column 9: unexpected byte 0x00, expected FROM or ','");
}

/* Hostile nesting is refused with an error, not a crash. */
static void test_deep_nesting(void)
{
    ek_buf b = EK_BUF_INIT;
    ek_buf_puts(&b, "SELECT ");
    for (int i = 0; i < 5000; i++) ek_buf_putc(&b, '(');
    ek_buf_puts(&b, "a FROM demo");
    ek_stmt *st = NULL;
    ek_err err = {0};
    CU_ASSERT_EQUAL(ek_sql_parse(b.data, &st, &err), EK_EPARSE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "nested too deeply"));
    ek_buf_reset(&b);
    ek_buf_puts(&b, "SELECT ");
    for (int i = 0; i < 5000; i++) ek_buf_puts(&b, "- ");
    ek_buf_puts(&b, "a FROM demo");
    CU_ASSERT_EQUAL(ek_sql_parse(b.data, &st, &err), EK_EPARSE);
    /* Long operator chains nest just as deep. */
    ek_buf_reset(&b);
    ek_buf_puts(&b, "SELECT a");
    for (int i = 0; i < 5000; i++) ek_buf_puts(&b, " + a");
    ek_buf_puts(&b, " FROM demo");
    CU_ASSERT_EQUAL(ek_sql_parse(b.data, &st, &err), EK_EPARSE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "nested too deeply"));
    ek_buf_reset(&b);
    ek_buf_puts(&b, "SELECT a");
    for (int i = 0; i < 5000; i++) ek_buf_puts(&b, "[0]");
    ek_buf_puts(&b, " FROM demo");
    CU_ASSERT_EQUAL(ek_sql_parse(b.data, &st, &err), EK_EPARSE);
    /* A realistic long chain is fine. */
    ek_buf_reset(&b);
    ek_buf_puts(&b, "SELECT a FROM demo WHERE a = 0");
    for (int i = 1; i < 300; i++) ek_buf_printf(&b, " OR a = %d", i);
    CU_ASSERT_EQUAL(ek_sql_parse(b.data, &st, &err), 0);
    ek_stmt_free(st);
    ek_buf_reset(&b);
    ek_buf_puts(&b, "CREATE STREAM s (a ");
    for (int i = 0; i < 5000; i++) ek_buf_puts(&b, "array(");
    CU_ASSERT_EQUAL(ek_sql_parse(b.data, &st, &err), EK_EPARSE);
    ek_buf_free(&b);
}

/* ---------------------------------------------------------------- lexer */

static void test_lexer_tokens(void)
{
    const char *src = "SELECT `a b`, 'x''y' \"q\" 12 3.5 1e2 -> != <> <= >= ;\n  /* c */ from";
    ek_lexer lx;
    ek_lexer_init(&lx, src, strlen(src));
    static const struct { ek_tok t; int line, col; const char *text; } want[] = {
        {EK_TK_SELECT, 1, 1, "SELECT"}, {EK_TK_QIDENT, 1, 8, "a b"}, {EK_TK_COMMA, 1, 13, ","},
        {EK_TK_STRING, 1, 15, "x"}, {EK_TK_STRING, 1, 18, "y"}, {EK_TK_STRING, 1, 22, "q"},
        {EK_TK_INT, 1, 26, "12"}, {EK_TK_FLOAT, 1, 29, "3.5"}, {EK_TK_FLOAT, 1, 33, "1e2"},
        {EK_TK_ARROW, 1, 37, "->"}, {EK_TK_NE, 1, 40, "!="}, {EK_TK_NE, 1, 43, "<>"},
        {EK_TK_LE, 1, 46, "<="}, {EK_TK_GE, 1, 49, ">="}, {EK_TK_SEMI, 1, 52, ";"},
        {EK_TK_FROM, 2, 11, "from"}, {EK_TK_EOF, 2, 15, ""},
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        ek_token t;
        ek_lexer_next(&lx, &t);
        if (t.type != want[i].t || t.line != want[i].line || t.col != want[i].col ||
            t.len != strlen(want[i].text) || strncmp(t.text, want[i].text, t.len) != 0)
            fprintf(stderr, "\n  token %zu: type %d at %d:%d '%.*s'\n", i, t.type, t.line, t.col, (int)t.len, t.text);
        CU_ASSERT_EQUAL(t.type, want[i].t);
        CU_ASSERT_EQUAL(t.line, want[i].line);
        CU_ASSERT_EQUAL(t.col, want[i].col);
    }
}

static void test_lexer_numbers_and_words(void)
{
    ek_lexer lx;
    ek_token t;
    const char *src = "9223372036854775807 9223372036854775808 .25 stream Select";
    ek_lexer_init(&lx, src, strlen(src));
    ek_lexer_next(&lx, &t);
    CU_ASSERT_EQUAL(t.type, EK_TK_INT);
    CU_ASSERT_EQUAL(t.ival, INT64_MAX);
    ek_lexer_next(&lx, &t);
    CU_ASSERT_EQUAL(t.type, EK_TK_FLOAT);  /* beyond int64: a float */
    ek_lexer_next(&lx, &t);
    CU_ASSERT_EQUAL(t.type, EK_TK_FLOAT);
    CU_ASSERT_DOUBLE_EQUAL(t.fval, 0.25, 0);
    ek_lexer_next(&lx, &t);
    CU_ASSERT_EQUAL(t.type, EK_TK_IDENT);  /* not reserved */
    CU_ASSERT(ek_tok_is_word(&t, "STREAM"));
    ek_lexer_next(&lx, &t);
    CU_ASSERT_EQUAL(t.type, EK_TK_SELECT);
    CU_ASSERT(ek_sql_is_reserved("from"));
    CU_ASSERT(!ek_sql_is_reserved("stream"));
    CU_ASSERT(ek_sql_is_plain_ident("a_1"));
    CU_ASSERT(!ek_sql_is_plain_ident("a-b"));
    CU_ASSERT(!ek_sql_is_plain_ident("select"));
}

/* ---------------------------------------------------------------- AST structure */

static ek_stmt *parse_ok(const char *sql)
{
    ek_stmt *st = NULL;
    ek_err err = {0};
    int rc = ek_sql_parse(sql, &st, &err);
    if (rc) fprintf(stderr, "\n  %s: %s\n", sql, err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    return st;
}

static void test_window_structure(void)
{
    static const struct { const char *sql; ek_window_kind kind; int64_t length, interval, delay; } w[] = {
        {"SELECT * FROM d GROUP BY TUMBLINGWINDOW(ss, 10)", EK_WIN_TUMBLING, 10000, 0, 0},
        {"SELECT * FROM d GROUP BY HOPPINGWINDOW(mi, 10, 5)", EK_WIN_HOPPING, 600000, 300000, 0},
        {"SELECT * FROM d GROUP BY SLIDINGWINDOW(ms, 10, 5)", EK_WIN_SLIDING, 10, 0, 5},
        {"SELECT * FROM d GROUP BY SESSIONWINDOW(hh, 2, 1)", EK_WIN_SESSION, 7200000, 3600000, 0},
        {"SELECT * FROM d GROUP BY TUMBLINGWINDOW(dd, 1)", EK_WIN_TUMBLING, 86400000, 0, 0},
        {"SELECT * FROM d GROUP BY COUNTWINDOW(5, 2)", EK_WIN_COUNT, 5, 2, 0},
        {"SELECT * FROM d GROUP BY COUNTWINDOW(5)", EK_WIN_COUNT, 5, 0, 0},
    };
    for (size_t i = 0; i < sizeof w / sizeof *w; i++) {
        ek_stmt *st = parse_ok(w[i].sql);
        const ek_window *win = st->select.window;
        CU_ASSERT_PTR_NOT_NULL_FATAL(win);
        CU_ASSERT_EQUAL(win->kind, w[i].kind);
        CU_ASSERT_EQUAL(win->length, w[i].length);
        CU_ASSERT_EQUAL(win->interval, w[i].interval);
        CU_ASSERT_EQUAL(win->delay, w[i].delay);
        CU_ASSERT_EQUAL(st->select.group_by.count, 0);
        ek_stmt_free(st);
    }
    ek_stmt *st = parse_ok("SELECT * FROM d GROUP BY a, STATEWINDOW(a > 1, a > 5) FILTER (WHERE b) OVER (PARTITION BY c, d)");
    const ek_window *win = st->select.window;
    CU_ASSERT_EQUAL(win->kind, EK_WIN_STATE);
    CU_ASSERT_PTR_NOT_NULL(win->begin);
    CU_ASSERT_PTR_NOT_NULL(win->emit);
    CU_ASSERT_PTR_NOT_NULL(win->filter);
    CU_ASSERT_EQUAL(win->partition.count, 2);
    CU_ASSERT_EQUAL(st->select.group_by.count, 1);
    ek_stmt_free(st);
    st = parse_ok("SELECT * FROM d GROUP BY SLIDINGWINDOW(ss, 1) OVER (WHEN a > 1)");
    CU_ASSERT_PTR_NOT_NULL(st->select.window->trigger);
    CU_ASSERT_STRING_EQUAL(st->select.window->unit, "ss");
    ek_stmt_free(st);
}

static void test_join_structure(void)
{
    ek_stmt *st = parse_ok("SELECT * FROM s1 AS a LEFT JOIN s2 ON a.x = s2.x RIGHT JOIN s3 AS c ON c.y = a.y "
                           "FULL JOIN s4 ON s4.z = a.z CROSS JOIN s5 INNER JOIN s6 ON TRUE");
    const ek_select *s = &st->select;
    CU_ASSERT_EQUAL_FATAL(s->nsources, 6);
    static const ek_join_kind kinds[] = {EK_JOIN_NONE, EK_JOIN_LEFT, EK_JOIN_RIGHT, EK_JOIN_FULL, EK_JOIN_CROSS, EK_JOIN_INNER};
    for (size_t i = 0; i < 6; i++) CU_ASSERT_EQUAL(s->sources[i].join, kinds[i]);
    CU_ASSERT_STRING_EQUAL(s->sources[0].alias, "a");
    CU_ASSERT_PTR_NULL(s->sources[1].alias);
    CU_ASSERT_PTR_NULL(s->sources[4].on);
    CU_ASSERT_PTR_NOT_NULL(s->sources[5].on);
    CU_ASSERT_EQUAL(s->sources[2].line, 1);
    CU_ASSERT_EQUAL(s->sources[2].col, 61);
    ek_stmt_free(st);
}

static void test_create_structure(void)
{
    ek_stmt *st = parse_ok("CREATE TABLE t (a bigint DEFAULT -5, b array(struct(x float, y string)), c boolean DEFAULT false, "
                           "`d e` bytea) WITH (datasource=\"topic/#\", Key=\"id\", shared=TRUE, retain_size=\"2\")");
    const ek_create_stmt *c = &st->create;
    CU_ASSERT_EQUAL(st->kind, EK_STMT_CREATE);
    CU_ASSERT(c->is_table);
    CU_ASSERT(!c->schemaless);
    CU_ASSERT_STRING_EQUAL(c->name, "t");
    CU_ASSERT_EQUAL_FATAL(c->ncols, 4);
    CU_ASSERT_EQUAL(c->cols[0].type.kind, EK_T_INT);
    CU_ASSERT(c->cols[0].has_default);
    CU_ASSERT_EQUAL(c->cols[0].def.type, EK_T_INT);
    CU_ASSERT_EQUAL(c->cols[0].def.i, -5);
    CU_ASSERT_EQUAL(c->cols[1].type.kind, EK_T_ARRAY);
    CU_ASSERT_EQUAL(c->cols[1].type.elem->kind, EK_T_OBJECT);
    CU_ASSERT_EQUAL(c->cols[1].type.elem->nfields, 2);
    CU_ASSERT_STRING_EQUAL(c->cols[1].type.elem->fields[1].name, "y");
    CU_ASSERT(c->cols[2].has_default && c->cols[2].def.type == EK_T_BOOL && !c->cols[2].def.b);
    CU_ASSERT_STRING_EQUAL(c->cols[3].name, "d e");
    CU_ASSERT_STRING_EQUAL(c->props[EK_PROP_DATASOURCE], "topic/#");
    CU_ASSERT_STRING_EQUAL(c->props[EK_PROP_KEY], "id");
    CU_ASSERT_STRING_EQUAL(c->props[EK_PROP_SHARED], "true");
    CU_ASSERT_STRING_EQUAL(c->props[EK_PROP_RETAIN_SIZE], "2");
    CU_ASSERT_PTR_NULL(c->props[EK_PROP_FORMAT]);
    ek_buf b = EK_BUF_INIT;
    ek_sql_type_print(&c->cols[1].type, &b);
    CU_ASSERT_STRING_EQUAL(b.data, "array(struct(x float, y string))");
    ek_buf_free(&b);
    ek_stmt_free(st);
    /* All 16 properties are known, case-insensitively. */
    for (int p = 0; p < EK_PROP_COUNT; p++) {
        char lower[32];
        const char *name = ek_stream_prop_name((ek_stream_prop)p);
        size_t i = 0;
        for (; name[i] && i < sizeof lower - 1; i++) lower[i] = (char)tolower((unsigned char)name[i]);
        lower[i] = '\0';
        CU_ASSERT_EQUAL(ek_stream_prop_lookup(lower), p);
    }
    CU_ASSERT_EQUAL(ek_stream_prop_lookup("nope"), -1);
}

static void test_other_statements(void)
{
    static const struct { const char *sql; ek_stmt_kind kind; bool table; const char *name; } s[] = {
        {"DROP STREAM demo", EK_STMT_DROP, false, "demo"}, {"DROP TABLE t", EK_STMT_DROP, true, "t"},
        {"SHOW STREAMS", EK_STMT_SHOW, false, NULL},        {"SHOW TABLES", EK_STMT_SHOW, true, NULL},
        {"DESCRIBE STREAM demo", EK_STMT_DESCRIBE, false, "demo"},
        {"EXPLAIN TABLE t", EK_STMT_EXPLAIN, true, "t"},
    };
    for (size_t i = 0; i < sizeof s / sizeof *s; i++) {
        ek_stmt *st = parse_ok(s[i].sql);
        CU_ASSERT_EQUAL(st->kind, s[i].kind);
        CU_ASSERT_EQUAL(st->target_table, s[i].table);
        if (s[i].name) CU_ASSERT_STRING_EQUAL(st->name, s[i].name);
        ek_stmt_free(st);
    }
}

static void test_expression_positions(void)
{
    ek_stmt *st = parse_ok("SELECT a,\n  f(b) + 1 AS x\nFROM demo WHERE\n    c > 2");
    const ek_select *s = &st->select;
    CU_ASSERT_EQUAL(s->fields[1].expr->line, 2);
    CU_ASSERT_EQUAL(s->fields[1].expr->col, 3);
    CU_ASSERT_EQUAL(s->fields[1].expr->a->kind, EK_E_CALL);
    CU_ASSERT_EQUAL(s->fields[1].expr->a->args.items[0]->col, 5);
    CU_ASSERT_EQUAL(s->where->line, 4);
    CU_ASSERT_EQUAL(s->where->col, 5);
    CU_ASSERT_EQUAL(s->limit, -1);
    ek_stmt_free(st);
}

void ek_register_tests(void)
{
    static const ek_test_case tests[] = {
        {"syntax errors name line, column, found and expected", test_errors},
        {"deep nesting is an error, not a crash", test_deep_nesting},
        {"NUL bytes are refused", test_nul_bytes},
        {"lexer tokens and positions", test_lexer_tokens},
        {"lexer numbers and words", test_lexer_numbers_and_words},
        {"window structure", test_window_structure},
        {"join structure", test_join_structure},
        {"CREATE structure", test_create_structure},
        {"DROP, SHOW, DESCRIBE, EXPLAIN", test_other_statements},
        {"expression positions", test_expression_positions},
        {NULL, NULL},
    };
    ek_add_suite("sql_parser_errors", tests);
}
