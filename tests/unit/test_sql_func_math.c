/* Tests for the mathematical functions (sql/func_math.c): eKuiper's documented examples, integer
 * versus float results, NaN and out-of-domain inputs, nulls, and type errors naming the function. */
#include "tests/unit/test_sql_func_util.h"

#include <math.h>

static void test_documented_examples(void)
{
    fcheck("round", "[42.4]", "42");
    fcheck("round", "[42.4382, 2]", "42.44");
    fcheck("round", "[-2.5]", "-3");
    fcheck("round", "[1234.5678, -2]", "1200");
    fcheck("conv", "[\"a\", 16, 2]", "\"1010\"");
    fcheck("conv", "[\"6E\", 18, 8]", "\"172\"");
    fcheck("conv", "[-17, 10, -18]", "\"-H\"");
    fcheck("conv", "[255, 10, 16]", "\"FF\"");
    fcheck("conv", "[10, 1, 16]", "null");
    fcheck("pi", "[]", "3.141592653589793");
}

static void test_integers_and_floats(void)
{
    fcheck("abs", "[-3]", "3");
    fcheck("abs", "[-3.5]", "3.5");
    fcheck("sign", "[-7.2]", "-1");
    fcheck("sign", "[0]", "0");
    fcheck("sign", "[9]", "1");
    fcheck("ceil", "[1.2]", "2");
    fcheck("ceiling", "[-1.2]", "-1");
    fcheck("floor", "[1.8]", "1");
    fcheck("mod", "[7, 3]", "1");
    fcheck("mod", "[7.5, 2]", "1.5");
    fcheck("power", "[2, 10]", "1024");
    fcheck("pow", "[4, 0.5]", "2");
    fcheck("sqrt", "[16]", "4");
    fcheck("exp", "[0]", "1");
    fcheck("ln", "[1]", "0");
    fcheck("log", "[100]", "2");
    fcheck("log", "[2, 8]", "3");
    fcheck("degrees", "[3.141592653589793]", "180");
    fcheck("radians", "[180]", "3.141592653589793");
    fcheck("atan2", "[1, 1]", "0.7853981633974483");
    fcheck("cos", "[0]", "1");
    fcheck("sin", "[0]", "0");
    fcheck("tan", "[0]", "0");
    fcheck("cosh", "[0]", "1");
    fcheck("sinh", "[0]", "0");
    fcheck("tanh", "[0]", "0");
    fcheck("asin", "[1]", "1.5707963267948966");
    fcheck("acos", "[1]", "0");
    fcheck("atan", "[0]", "0");
    fcheck("cot", "[1]", "0.6420926159343306");
}

static void test_bits(void)
{
    fcheck("bitand", "[12, 10]", "8");
    fcheck("bitor", "[12, 10]", "14");
    fcheck("bitxor", "[12, 10]", "6");
    fcheck("bitnot", "[0]", "-1");
    /* Schemaless streams deliver whole floats; they work as integers. */
    fcheck("bitand", "[12.0, 10]", "8");
    fcheck_err("bitand", "[1.5, 1]", "integer");
    fcheck_err("bitnot", "[\"1\"]", "integer");
}

static void test_domain(void)
{
    fcheck("acos", "[2]", "null");  /* NaN becomes null */
    fcheck("log", "[0]", "null");
    fcheck("log", "[1, 5]", "null");
    fcheck_err("ln", "[0]", "positive");
    fcheck_err("sqrt", "[-1]", "positive");
    fcheck_err("cot", "[0]", "out-of-range");
}

static void test_nulls(void)
{
    static const char *const unary[] = {"abs", "acos", "asin", "atan", "ceil", "cos", "cosh", "degrees", "exp",
                                        "floor", "ln", "log", "radians", "round", "sign", "sin", "sinh", "sqrt",
                                        "tan", "tanh", "cot", "bitnot", NULL};
    for (int i = 0; unary[i]; i++) fcheck(unary[i], "[null]", "null");
    fcheck("atan2", "[null, 1]", "null");
    fcheck("power", "[2, null]", "null");
    fcheck("mod", "[null, null]", "null");
    fcheck("bitand", "[null, 1]", "null");
    fcheck("round", "[1.25, null]", "null");
    fcheck("conv", "[null, 10, 2]", "null");
}

static void test_wrong_types(void)
{
    fcheck_err("abs", "[\"x\"]", "argument 1 must be a number, got string");
    fcheck_err("sqrt", "[true]", "got boolean");
    fcheck_err("power", "[2, \"a\"]", "argument 2");
    fcheck_err("round", "[1.5, 1.5]", "integer");
    fcheck_err("atan2", "[[1], 1]", "got array");
}

static void test_extremes(void)
{
    fcheck("abs", "[-9223372036854775808]", "9223372036854776000");
    fcheck("abs", "[9223372036854775807]", "9223372036854775807");
    fcheck("round", "[1e308, 300]", "1e+308");
    fcheck("power", "[10, 400]", "null");  /* +Inf has no JSON form; encoded as null */
    fcheck("conv", "[\"ffffffffffffffff\", 16, 10]", "\"18446744073709551615\"");
    fcheck("conv", "[\"ffffffffffffffff\", -16, -10]", "\"9223372036854775807\"");
    fcheck_err("conv", "[\"fffffffffffffffff\", 16, 10]", "out of range");
}

static void test_rand(void)
{
    for (int i = 0; i < 1000; i++) {
        ek_value out;
        ek_err err = {0};
        CU_ASSERT_EQUAL_FATAL(fcall("rand", NULL, "[]", &out, &err), 0);
        CU_ASSERT_EQUAL(out.type, EK_T_FLOAT);
        CU_ASSERT(out.f >= 0 && out.f < 1);
    }
}

static void test_lookup_case_insensitive(void)
{
    CU_ASSERT_PTR_NOT_NULL(ek_func_lookup("ABS"));
    CU_ASSERT_PTR_EQUAL(ek_func_lookup("Ceil")->exec, ek_func_lookup("ceiling")->exec);
    CU_ASSERT_PTR_NULL(ek_func_lookup("no_such_function"));
    CU_ASSERT_EQUAL(ek_func_lookup("log")->min_args, 1);
    CU_ASSERT_EQUAL(ek_func_lookup("log")->max_args, 2);
    CU_ASSERT_FALSE(ek_func_lookup("rand")->deterministic);
}

void ek_register_tests(void)
{
    static const ek_test_case cases[] = {
        {"documented examples", test_documented_examples},
        {"integers and floats", test_integers_and_floats},
        {"bit operations", test_bits},
        {"out of domain", test_domain},
        {"null in, null out", test_nulls},
        {"wrong types", test_wrong_types},
        {"extreme values", test_extremes},
        {"rand in [0, 1)", test_rand},
        {"lookup", test_lookup_case_insensitive},
        {NULL, NULL},
    };
    ek_add_suite("sql_func_math", cases);
}
