/* Tests for the object functions (sql/func_obj.c): eKuiper's documented examples, key order,
 * nulls and wrong types. */
#include "tests/unit/test_sql_func_util.h"

static void test_documented_examples(void)
{
    fcheck("keys", "[{\"a\": 1, \"b\": 2}]", "[\"a\",\"b\"]");
    fcheck("values", "[{\"a\": 1, \"b\": 2}]", "[1,2]");
    fcheck("object", "[[\"a\", \"b\"], [1, 2]]", "{\"a\":1,\"b\":2}");
    fcheck("zip", "[[[\"a\", 1], [\"b\", 2]]]", "{\"a\":1,\"b\":2}");
    fcheck("items", "[{\"a\": 1, \"b\": 2}]", "[[\"a\",1],[\"b\",2]]");
    fcheck("object_construct", "[\"a\", 1, \"b\", 2]", "{\"a\":1,\"b\":2}");
    fcheck("object_concat", "[{\"a\": 1}, {\"b\": 2}, {\"b\": 3}]", "{\"a\":1,\"b\":3}");
    fcheck("erase", "[{\"baz\": [1, 2, 3], \"bar\": \"hello world\", \"foo\": \"emq\"}, \"foo\"]",
           "{\"baz\":[1,2,3],\"bar\":\"hello world\"}");
    fcheck("object_pick", "[{\"baz\": [1, 2, 3], \"bar\": \"hello world\", \"foo\": \"emq\"}, \"foo\"]", "{\"foo\":\"emq\"}");
    fcheck("obj_to_kvpair_array", "[{\"key1\": 1, \"key2\": 2}]",
           "[{\"key\":\"key1\",\"value\":1},{\"key\":\"key2\",\"value\":2}]");
}

static void test_more(void)
{
    fcheck("object_construct", "[\"a\", null, \"b\", 2]", "{\"b\":2}");
    fcheck("object_construct", "[]", "{}");
    fcheck_err("object_construct", "[\"a\"]", "pairs");
    fcheck_err("object_construct", "[1, 2]", "string key");
    fcheck("erase", "[{\"a\": 1, \"b\": 2, \"c\": 3}, [\"a\", \"c\"]]", "{\"b\":2}");
    fcheck("object_pick", "[{\"a\": 1, \"b\": 2, \"c\": 3}, [\"a\", \"c\", \"z\"]]", "{\"a\":1,\"c\":3}");
    fcheck("object_concat", "[{\"a\": 1}, null]", "{\"a\":1}");
    fcheck("object_pick", "[{\"k1\": {\"temp\": 23, \"hum\": 34}, \"k2\": \"2\"}, \"k1.temp\"]", "{\"k1\":{\"temp\":23}}");
    fcheck("object_pick", "[{\"k1\": {\"temp\": 23, \"hum\": 34}, \"k2\": \"2\"}, \"k1.temp\", \"k2\", \"k1.hum\"]",
           "{\"k1\":{\"temp\":23,\"hum\":34},\"k2\":\"2\"}");
    fcheck("object_pick", "[{\"k1\": null, \"k2\": \"2\"}, \"k1\"]", "{\"k1\":null}");
    fcheck("object_pick", "[{\"k1\": 1}, \"k1.x\"]", "{}");
    fcheck("object_size", "[{\"a\": 1, \"b\": 2}]", "2");
    fcheck("object_size", "[null]", "0");
    fcheck("keys", "[{}]", "[]");
    fcheck_err("object", "[[\"a\"], [1, 2]]", "same length");
    fcheck_err("object", "[[1], [1]]", "must be a string");
    fcheck_err("zip", "[[[\"a\"]]]", "entry 0");
    fcheck_err("erase", "[{\"a\": 1}, [1]]", "array of strings");
}

static void test_nulls_and_types(void)
{
    static const char *const unary[] = {"keys", "values", "items", "obj_to_kvpair_array", "zip", NULL};
    for (int i = 0; unary[i]; i++) fcheck(unary[i], "[null]", "null");
    fcheck("object", "[null, [1]]", "null");
    fcheck("erase", "[null, \"a\"]", "null");
    fcheck("object_pick", "[null, \"a\"]", "null");
    fcheck_err("keys", "[[1]]", "argument 1 must be a struct, got array");
    fcheck_err("object_concat", "[{\"a\": 1}, 3]", "argument 2 must be a struct");
    fcheck("object_pick", "[{\"a\": 1}, 3]", "{}");
    fcheck("object_pick", "[{\"k1\": null, \"k2\": \"2\"}, null]", "{}");
}

void ek_register_tests(void)
{
    static const ek_test_case cases[] = {
        {"documented examples", test_documented_examples},
        {"more cases", test_more},
        {"nulls and wrong types", test_nulls_and_types},
        {NULL, NULL},
    };
    ek_add_suite("sql_func_obj", cases);
}
