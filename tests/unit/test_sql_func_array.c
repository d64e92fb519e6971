/* Tests for the array functions (sql/func_array.c): eKuiper's documented examples and null rules,
 * set operations without duplicates, and type errors. */
#include "tests/unit/test_sql_func_util.h"

static void test_documented_examples(void)
{
    fcheck("array_flatten", "[[[1, 4], [2, 3]]]", "[1,4,2,3]");
    fcheck("array_join", "[[1, 2, 3], \",\"]", "\"1,2,3\"");
    fcheck("array_sort", "[[3, 2, \"b\", \"a\"]]", "[2,3,\"a\",\"b\"]");
    fcheck("kvpair_array_to_obj", "[[{\"key\": \"key1\", \"value\": 1}, {\"key\": \"key2\", \"value\": 2}]]", "{\"key1\":1,\"key2\":2}");
}

static void test_positions(void)
{
    fcheck("cardinality", "[[1, null, 3]]", "3");
    fcheck("cardinality", "[null]", "0");
    fcheck("array_cardinality", "[[1, null, 3]]", "2");
    fcheck("array_cardinality", "[null]", "0");
    fcheck("array_position", "[[1, 2, 1], 1]", "0");
    fcheck("array_position", "[[1, 2, 1], 5]", "-1");
    fcheck("array_position", "[null, 1]", "-1");
    fcheck("array_last_position", "[[1, 2, 1], 1]", "2");
    fcheck("array_last_position", "[null, 1]", "-1");
    fcheck("element_at", "[[1, 2, 3], 0]", "1");
    fcheck("element_at", "[[1, 2, 3], -1]", "3");
    fcheck("element_at", "[{\"a\": 5}, \"a\"]", "5");
    fcheck("element_at", "[{\"a\": 5}, \"b\"]", "null");
    fcheck("element_at", "[null, 1]", "null");
    fcheck_err("element_at", "[[1, 2], 2]", "out of range");
    fcheck_err("element_at", "[[1, 2], -3]", "out of range");
    fcheck("array_contains", "[[1, \"a\"], \"a\"]", "true");
    fcheck("array_contains", "[[1, 2], 3]", "false");
    fcheck("array_contains", "[[1.0, 2], 1]", "true");
    fcheck("array_contains", "[null, 1]", "null");
    fcheck("array_contains_any", "[[1, 2], [3, 2]]", "true");
    fcheck("array_contains_any", "[[1, 2], [3]]", "false");
    fcheck("array_contains_any", "[null, [3]]", "false");
}

static void test_building(void)
{
    fcheck("array_create", "[1, \"a\", null, [2]]", "[1,\"a\",null,[2]]");
    fcheck("array_create", "[]", "[]");
    fcheck("array_remove", "[[1, 2, 1, 3], 1]", "[2,3]");
    fcheck("array_remove", "[null, 1]", "null");
    fcheck("array_union", "[[1, 2, 2], [2, 3]]", "[1,2,3]");
    fcheck("array_union", "[null, [1, 1]]", "[1]");
    fcheck("array_intersect", "[[1, 2, 2, 3], [2, 3, 4]]", "[2,3]");
    fcheck("array_intersect", "[null, [1]]", "null");
    fcheck("array_except", "[[1, 2, 2, 3], [3]]", "[1,2]");
    fcheck("array_except", "[null, [3]]", "null");
    fcheck("array_distinct", "[[1, 1, \"a\", \"a\", null, null]]", "[1,\"a\",null]");
    fcheck("array_max", "[[1, null, 5.5, 3]]", "5.5");
    fcheck("array_min", "[[4, null, 2, 3]]", "2");
    fcheck("array_max", "[[\"a\", \"c\", \"b\"]]", "\"c\"");
    fcheck("array_max", "[[null]]", "null");
    fcheck("array_min", "[null]", "null");
    fcheck_err("array_max", "[[1, \"a\"]]", "cannot compare");
    fcheck("repeat", "[\"a\", 3]", "[\"a\",\"a\",\"a\"]");
    fcheck("repeat", "[1, 0]", "[]");
    fcheck_err("repeat", "[1, -1]", "between");
    fcheck("sequence", "[1, 5]", "[1,2,3,4,5]");
    fcheck("sequence", "[5, 1]", "[5,4,3,2,1]");
    fcheck("sequence", "[1, 10, 3]", "[1,4,7,10]");
    fcheck("sequence", "[10, 1, -4]", "[10,6,2]");
    fcheck("sequence", "[1, 5, -1]", "[]");
    fcheck_err("sequence", "[1, 5, 0]", "zero");
    fcheck("sequence", "[9223372036854775806, 9223372036854775807]", "[9223372036854775806,9223372036854775807]");
    fcheck("sequence", "[-9223372036854775808, -9223372036854775807, 5]", "[-9223372036854775808]");
    fcheck_err("sequence", "[-9223372036854775808, 9223372036854775807]", "more than");
    fcheck_err("element_at", "[[1], -9223372036854775808]", "out of range");
    fcheck("array_flatten", "[[[1], 2, []]]", "[1,2]");
    fcheck("array_flatten", "[null]", "null");
    fcheck("array_concat", "[[1], null, [2, 3]]", "[1,2,3]");
    fcheck_err("array_concat", "[[1], 2]", "argument 2 must be an array");
    fcheck("array_sort", "[[3, 1.5, 2]]", "[1.5,2,3]");
    fcheck("array_sort", "[null]", "null");
    fcheck("array_join", "[[\"a\", null, \"b\"], \"-\"]", "\"a-b\"");
    fcheck("array_join", "[[\"a\", null, \"b\"], \"-\", \"x\"]", "\"a-x-b\"");
    fcheck("array_join", "[[], \",\"]", "\"\"");
    fcheck_err("array_join", "[[[1]], \",\"]", "not a string");
    fcheck("array_map", "[\"upper\", [\"a\", \"b\"]]", "[\"A\",\"B\"]");
    fcheck("array_map", "[\"abs\", [-1, 2]]", "[1,2]");
    fcheck_err("array_map", "[\"nope\", [1]]", "unknown");
    fcheck_err("array_map", "[\"sum\", [1]]", "scalar");
    fcheck_err("array_map", "[\"upper\", [1]]", "string");
    fcheck_err("kvpair_array_to_obj", "[[{\"k\": 1}]]", "key");
}

static void test_shuffle(void)
{
    ek_value out;
    ek_err err = {0};
    CU_ASSERT_EQUAL_FATAL(fcall("array_shuffle", NULL, "[[1, 2, 3, 4, 5, 6, 7, 8]]", &out, &err), 0);
    CU_ASSERT_EQUAL(ek_array_len(&out), 8);
    int64_t sum = 0;
    for (size_t i = 0; i < ek_array_len(&out); i++) sum += ek_array_get(&out, i)->i;
    CU_ASSERT_EQUAL(sum, 36);
    ek_value_unref(&out);
    fcheck("array_shuffle", "[null]", "null");
}

static void test_wrong_types(void)
{
    fcheck_err("array_position", "[\"abc\", 1]", "argument 1 must be an array, got string");
    fcheck_err("array_distinct", "[{\"a\": 1}]", "array");
    fcheck_err("element_at", "[[1], \"a\"]", "integer");
    fcheck_err("array_union", "[[1], 2]", "argument 2");
}

void ek_register_tests(void)
{
    static const ek_test_case cases[] = {
        {"documented examples", test_documented_examples},
        {"sizes and positions", test_positions},
        {"building arrays", test_building},
        {"shuffle keeps elements", test_shuffle},
        {"wrong types", test_wrong_types},
        {NULL, NULL},
    };
    ek_add_suite("sql_func_array", cases);
}
