/* Tests for the JSON functions: to_json and parse_json (sql/func_conv.c) and the JSON path
 * functions (sql/func_json.c) over the structure eKuiper's json_expr.md uses. */
#include "tests/unit/test_sql_func_util.h"

#include <stdio.h>

static void test_to_and_parse_json(void)
{
    fcheck("to_json", "[{\"b\": 1, \"a\": [1, 2.5, \"x\"]}]", "\"{\\\"a\\\":[1,2.5,\\\"x\\\"],\\\"b\\\":1}\"");
    fcheck("to_json", "[\"x\"]", "\"\\\"x\\\"\"");
    fcheck("to_json", "[null]", "null");
    fcheck("parse_json", "[\"{\\\"a\\\": {\\\"b\\\": [1, 2]}}\"]", "{\"a\":{\"b\":[1,2]}}");
    fcheck("parse_json", "[\"null\"]", "null");
    fcheck("parse_json", "[null]", "null");
    fcheck_err("parse_json", "[\"{bad\"]", "invalid JSON");
    fcheck_err("parse_json", "[1]", "string");
}

static const char *people =
    "{\"name\": {\"first\": \"Tom\", \"last\": \"Anderson\"}, \"age\": 37, \"children\": [\"Sara\", \"Alex\", \"Jack\"],"
    " \"fav.movie\": \"Deer Hunter\", \"friends\": [{\"first\": \"Dale\", \"last\": \"Murphy\", \"age\": 44},"
    " {\"first\": \"Roger\", \"last\": \"Craig\", \"age\": 68}, {\"first\": \"Jane\", \"last\": \"Murphy\", \"age\": 47}]}";

static void path(const char *fn, const char *p, const char *expect)
{
    char args[1024];
    snprintf(args, sizeof args, "[%s, \"%s\"]", people, p);
    fcheck(fn, args, expect);
}

static void test_json_path(void)
{
    path("json_path_query", "$.age", "37");
    path("json_path_query", "$.name.first", "\"Tom\"");
    path("json_path_query", "$.children", "[\"Sara\",\"Alex\",\"Jack\"]");
    path("json_path_query", "$.children[0]", "\"Sara\"");
    path("json_path_query", "$.children[-1]", "\"Jack\"");
    path("json_path_query", "$.friends[0][last]", "\"Murphy\"");
    path("json_path_query", "$[\\\"fav.movie\\\"]", "\"Deer Hunter\"");
    path("json_path_query", "$.friends[*].first", "[\"Dale\",\"Roger\",\"Jane\"]");
    path("json_path_query", "$.friends[? @.age>60].first", "[\"Roger\"]");
    path("json_path_query", "$.friends[? (@.age > 45 && @.last == 'Murphy')].first", "[\"Jane\"]");
    path("json_path_query", "$.friends[?(@.age < 45 || @.age > 60)].first", "[\"Dale\",\"Roger\"]");
    path("json_path_query", "$.children[0:2]", "[\"Sara\",\"Alex\"]");
    path("json_path_query", "$.children[1:]", "[\"Alex\",\"Jack\"]");
    path("json_path_query", "$.children[0,2]", "[\"Sara\",\"Jack\"]");
    path("json_path_query", "$..first", "[\"Tom\",\"Dale\",\"Roger\",\"Jane\"]");
    path("json_path_query", "$.friends[? @.age>100]", "[]");
    path("json_path_query_first", "$.friends[*].age", "44");
    path("json_path_query_first", "$.friends[? @.age>100]", "null");
    path("json_path_exists", "$.friends[? @.age>60]", "true");
    path("json_path_exists", "$.friends[? @.age>100]", "false");
    path("json_path_exists", "$.nothing", "false");
    path("json_path_exists", "$.age", "true");
    fcheck_err("json_path_query", "[{\"a\": 1}, \"$.b\"]", "unknown key b");
    fcheck_err("json_path_query", "[{\"a\": 1}, \"a.b\"]", "starts with $");
    fcheck_err("json_path_query", "[{\"a\": [1]}, \"$.a[0\"]", "expected ]");
    fcheck_err("json_path_query_first", "[{\"a\": 1}, \"$.a\"]", "not an array");
    fcheck("json_path_query", "[[1, 2, 3], \"$[1]\"]", "2");
    fcheck("json_path_query", "[null, \"$.a\"]", "null");
    fcheck("json_path_exists", "[null, \"$.a\"]", "false");
}

void ek_register_tests(void)
{
    static const ek_test_case cases[] = {
        {"to_json and parse_json", test_to_and_parse_json},
        {"json paths", test_json_path},
        {NULL, NULL},
    };
    ek_add_suite("sql_func_json", cases);
}
