/* Tests for the aggregate functions (sql/func_agg.c). Each argument is the group's values as an
 * array, the way the engine calls them; the cases come from eKuiper's docs and its demo stream
 * (sizes 3, 6, 2, 4, 1 as BIGINT: sum 16, avg 3). */
#include "tests/unit/test_sql_func_util.h"

#include <stdio.h>

#define ROWS "[{\"a\": {\"a\": 2}, \"b\": 2, \"c\": 3}, {\"a\": {\"b\": 2}, \"b\": 5, \"d\": 6}, {\"a\": {\"a\": 3}, \"b\": 8}]"

static void test_basic(void)
{
    fcheck("sum", "[[3, 6, 2, 4, 1]]", "16");
    fcheck("avg", "[[3, 6, 2, 4, 1]]", "3");  /* BIGINT: integer division */
    fcheck("avg", "[[3.0, 6, 2, 4, 1]]", "3.2");
    fcheck("avg", "[[1, 2.0]]", "1.5");
    fcheck("sum", "[[1.5, null, 2.5]]", "4");
    fcheck("avg", "[[null, null]]", "null");
    fcheck("sum", "[[]]", "null");
    fcheck("count", "[[1, null, 3]]", "2");
    fcheck("count", "[[]]", "0");
    fcheck("count", "[" ROWS "]", "3");  /* count(*): the compiler passes each row's object */
    fcheck("sum", "[[9223372036854775807, 1]]", "9223372036854776000");  /* leaves int64: float */
    fcheck("avg", "[[9223372036854775807, 9223372036854775807]]", "9223372036854776000");
    fcheck("max", "[[3, 6, null, 2]]", "6");
    fcheck("min", "[[3, 6, null, 2.5]]", "2.5");
    fcheck("max", "[[\"blue\", \"red\", \"yellow\"]]", "\"yellow\"");
    fcheck("min", "[[null]]", "null");
    fcheck("collect", "[[1, null, 2]]", "[1,null,2]");
    fcheck("collect", "[" ROWS "]", "[{\"a\":{\"a\":2},\"b\":2,\"c\":3},{\"a\":{\"b\":2},\"b\":5,\"d\":6},{\"a\":{\"a\":3},\"b\":8}]");
}

static void test_merge_and_last(void)
{
    fcheck("merge_agg", "[" ROWS "]", "{\"a\":{\"a\":3},\"b\":8,\"c\":3,\"d\":6}");
    fcheck("merge_agg", "[[{\"a\": 2}, {\"b\": 2}, {\"a\": 3}]]", "{\"a\":3,\"b\":2}");
    fcheck("merge_agg", "[[2, 5, 8]]", "{}");
    fcheck("last_value", "[[1, 2, null], [true, true, true]]", "2");
    fcheck("last_value", "[[1, 2, null], [false, false, false]]", "null");
    fcheck("last_value", "[[], []]", "null");
    fcheck_err("last_value", "[[1], [1]]", "bool");
}

static void test_deduplicate(void)
{
    const char *rows = "[{\"a\": 1, \"b\": \"x\"}, {\"a\": 2}, {\"a\": 1, \"b\": \"y\"}]";
    char args[512];
    snprintf(args, sizeof args, "[[1, 2, 1], [true, true, true], %s]", rows);
    fcheck("deduplicate", args, "[{\"a\":1,\"b\":\"x\"},{\"a\":2}]");
    snprintf(args, sizeof args, "[[1, 2, 1], [false, false, false], %s]", rows);
    fcheck("deduplicate", args, "{}");
    snprintf(args, sizeof args, "[[1, 2, 3], [false, false, false], %s]", rows);
    fcheck("deduplicate", args, "{\"a\":1,\"b\":\"y\"}");
    fcheck("deduplicate", "[[1, 1, 2], [true, true, true]]", "[1,2]");
    fcheck_err("deduplicate", "[[1], [1]]", "bool");
}

static void test_statistics(void)
{
    const char *xs = "[[2, 4, 4, 4, 5, 5, 7, 9]]";
    fcheck("stddev", xs, "2");
    fcheck("var", xs, "4");
    fcheck("vars", xs, "4.571428571428571");
    fcheck("stddevs", xs, "2.138089935299395");
    fcheck("stddevs", "[[1]]", "null");
    fcheck("stddev", "[[]]", "null");
    fcheck("median", "[[1, 3, 2]]", "2");
    fcheck("median", "[[1, 2, 3, 4]]", "2.5");
    fcheck("median", "[[]]", "0");
    const char *ten = "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]";
    char args[256];
    snprintf(args, sizeof args, "[%s, [0.5]]", ten);
    fcheck("percentile_cont", args, "5");
    fcheck("percentile", args, "5");
    snprintf(args, sizeof args, "[%s, [0.25]]", ten);
    fcheck("percentile_cont", args, "2.5");
    fcheck("percentile_disc", args, "3");
    snprintf(args, sizeof args, "[%s, [1]]", ten);
    fcheck("percentile_disc", args, "10");
    snprintf(args, sizeof args, "[%s, [1.5]]", ten);
    fcheck_err("percentile_disc", args, "(0, 1]");
    fcheck("percentile_cont", "[[], [0.5]]", "null");
}

static void test_errors(void)
{
    fcheck_err("sum", "[[1, \"a\"]]", "string");
    fcheck_err("avg", "[[true]]", "boolean");
    fcheck_err("max", "[[1, \"a\"]]", "cannot compare");
    fcheck_err("stddev", "[[\"x\"]]", "number");
    fcheck_err("count", "[5]", "group");
    CU_ASSERT_EQUAL(ek_func_lookup("AVG")->kind, EK_FUNC_AGGREGATE);
    CU_ASSERT_FALSE(ek_func_lookup("sum")->deterministic);
}

static void test_bind_checks(void)
{
    ek_err err = {0};
    ek_func_arg_info p[2] = {{false, ek_null(), EK_T_NULL}, {true, ek_float(1.5), EK_T_FLOAT}};
    CU_ASSERT_EQUAL(ek_func_lookup("percentile_disc")->check(p, 2, &err), EK_EPLAN);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "percentile_disc: argument 2"));
    p[1].value = ek_float(0.5);
    CU_ASSERT_EQUAL(ek_func_lookup("percentile")->check(p, 2, &err), 0);
    ek_func_arg_info d[2] = {{false, ek_null(), EK_T_NULL}, {false, ek_null(), EK_T_STRING}};
    CU_ASSERT_EQUAL(ek_func_lookup("deduplicate")->check(d, 2, &err), EK_EPLAN);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "must be a bool"));
    d[1] = (ek_func_arg_info){true, ek_bool(true), EK_T_BOOL};
    CU_ASSERT_EQUAL(ek_func_lookup("last_value")->check(d, 2, &err), 0);
}

void ek_register_tests(void)
{
    static const ek_test_case cases[] = {
        {"sum avg count max min collect", test_basic},
        {"merge_agg and last_value", test_merge_and_last},
        {"deduplicate", test_deduplicate},
        {"statistics", test_statistics},
        {"errors", test_errors},
        {"bind-time checks", test_bind_checks},
        {NULL, NULL},
    };
    ek_add_suite("sql_func_agg", cases);
}
