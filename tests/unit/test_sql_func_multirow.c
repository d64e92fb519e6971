/* Tests for the multi-row functions (sql/func_multirow.c): unnest and extract return the array the
 * engine turns into rows. */
#include "tests/unit/test_sql_func_util.h"

static void test_multirow(void)
{
    fcheck("unnest", "[[1, 2]]", "[1,2]");
    fcheck("unnest", "[[{\"a\": 1, \"b\": 2}, {\"a\": 3, \"b\": 4}]]", "[{\"a\":1,\"b\":2},{\"a\":3,\"b\":4}]");
    fcheck("unnest", "[null]", "[]");
    fcheck("extract", "[{\"k1\": \"v1\", \"k2\": \"v2\"}]", "[{\"k1\":\"v1\",\"k2\":\"v2\"}]");
    fcheck("extract", "[null]", "[]");
    fcheck_err("unnest", "[1]", "array");
    fcheck_err("extract", "[[1]]", "struct");
    CU_ASSERT_EQUAL(ek_func_lookup("unnest")->kind, EK_FUNC_MULTIROW);
}

void ek_register_tests(void)
{
    static const ek_test_case cases[] = {
        {"unnest and extract", test_multirow},
        {NULL, NULL},
    };
    ek_add_suite("sql_func_multirow", cases);
}
