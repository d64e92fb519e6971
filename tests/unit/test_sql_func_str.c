/* Tests for the string functions (sql/func_str.c): eKuiper's documented examples, UTF-8 handling,
 * regular expressions (and their per-call-site cache), nulls and wrong types. */
#include "tests/unit/test_sql_func_util.h"

static void test_documented_examples(void)
{
    fcheck("split_value", "[\"/test/device001/message\", \"/\", 0]", "\"\"");
    fcheck("split_value", "[\"/test/device001/message\", \"/\", 3]", "\"message\"");
    fcheck("format", "[12332.1234567, 4, \"en_US\"]", "\"12,332.1235\"");
    fcheck("format", "[123456.78, 2, \"en_US\"]", "\"123,456.78\"");
    fcheck("format", "[123456.78, 2, \"de_DE\"]", "\"123.456,78\"");
    fcheck("format", "[-123456.7899, 2, \"de_CH\"]", "\"-123\u2019456.79\"");
    fcheck("format", "[12332.2, 2, \"fr_FR\"]", "\"12\u00a0332,20\"");
    fcheck("format", "[12332.2, 0, \"ar_DZ\"]", "\"12.332\"");
    fcheck("format", "[12332.1234, 4, \"ar_IN\"]", "\"\u0661\u0662\u066c\u0663\u0663\u0662\u066b\u0661\u0662\u0663\u0664\"");
    fcheck("format", "[12332.1, 4, \"zz_ZZ\"]", "\"12,332.1000\"");
    fcheck("format", "[12332.2, 2]", "\"12332.20\"");
    fcheck("format", "[12332.1234567, 4]", "\"12332.1235\"");
    fcheck("format", "[-1234567.891, 0, \"en_GB\"]", "\"-1,234,568\"");
    /* substring's third argument is the end index (eKuiper's code), not a length. */
    fcheck("substring", "[\"hello world\", 0, 5]", "\"hello\"");
    fcheck("substring", "[\"hello world\", 6]", "\"world\"");
}

static void test_basic(void)
{
    fcheck("concat", "[\"a\", \"b\", \"c\"]", "\"abc\"");
    fcheck("concat", "[\"n=\", 1, \" \", 2.5, \" \", true]", "\"n=1 2.5 true\"");
    fcheck("concat", "[null, \"a\"]", "\"a\"");
    fcheck("concat", "[[1, 2], [3], null]", "[1,2,3]");
    fcheck("endswith", "[\"hello\", \"lo\"]", "true");
    fcheck("endswith", "[\"hello\", \"he\"]", "false");
    fcheck("startswith", "[\"hello\", \"he\"]", "true");
    fcheck("startswith", "[\"he\", \"hello\"]", "false");
    fcheck("indexof", "[\"hello\", \"l\"]", "2");
    fcheck("indexof", "[\"hello\", \"z\"]", "-1");
    fcheck("length", "[\"h\u00e9llo \u6e29\u5ea6\"]", "8");
    fcheck("length", "[[1, 2, 3]]", "3");
    fcheck("length", "[{\"a\": 1}]", "1");
    fcheck("numbytes", "[\"h\u00e9\"]", "3");
    fcheck("lower", "[\"HeLLo\"]", "\"hello\"");
    fcheck("upper", "[\"HeLLo \u00e9\"]", "\"HELLO \u00c9\"");
    fcheck("lower", "[\"\u0414\u041e\u041c \u00c9T\u00c9\"]", "\"\u0434\u043e\u043c \u00e9t\u00e9\"");
    fcheck("upper", "[\"\u03b1\u03b2\u03b3 \u6e29\u5ea6\"]", "\"\u0391\u0392\u0393 \u6e29\u5ea6\"");
    fcheck("lpad", "[\"a\", 2]", "\"  a\"");
    fcheck("rpad", "[\"a\", 2]", "\"a  \"");
    fcheck("lpad", "[\"a\", 0]", "\"a\"");
    fcheck("trim", "[\"\\t  a b \\n\"]", "\"a b\"");
    fcheck("ltrim", "[\"  a \"]", "\"a \"");
    fcheck("rtrim", "[\"  a \"]", "\"  a\"");
    fcheck("trim", "[\"   \"]", "\"\"");
    fcheck("reverse", "[\"h\u00e9llo\"]", "\"oll\u00e9h\"");
    fcheck("reverse", "[\"\"]", "\"\"");
}

static void test_substring_and_split(void)
{
    fcheck("substring", "[\"hello\", 1, 3]", "\"el\"");
    fcheck("substring", "[\"hello\", 2]", "\"llo\"");
    fcheck("substring", "[\"hello\", 9]", "\"\"");
    fcheck("substring", "[\"hello\", 2, 99]", "\"llo\"");
    fcheck("substring", "[\"h\u00e9llo\", 1, 2]", "\"\u00e9\"");
    fcheck_err("substring", "[\"hello\", -1]", "positive");
    fcheck_err("substring", "[\"hello\", 3, 1]", "smaller");
    fcheck("split_value", "[\"a,b,c\", \",\", -1]", "\"c\"");
    fcheck("split_value", "[\"abc\", \"\", 1]", "\"b\"");
    fcheck_err("split_value", "[\"a,b\", \",\", 2]", "out of index");
    fcheck_err("split_value", "[\"a,b\", \",\", -3]", "out of index");
}

static void test_regex(void)
{
    fcheck("regexp_matches", "[\"abc123\", \"[0-9]+\"]", "true");
    fcheck("regexp_matches", "[\"abc\", \"^[0-9]+$\"]", "false");
    fcheck("regexp_replace", "[\"a1b22c\", \"[0-9]+\", \"#\"]", "\"a#b#c\"");
    fcheck("regexp_replace", "[\"john smith\", \"(\\\\w+) (\\\\w+)\", \"$2 $1\"]", "\"smith john\"");
    fcheck("regexp_substr", "[\"abc123def456\", \"[0-9]+\"]", "\"123\"");
    fcheck("regexp_substring", "[\"abc\", \"[0-9]+\"]", "\"\"");
    fcheck("regexp_matches", "[\"\u6e29\u5ea6\", \"^.{2}$\"]", "true");
    fcheck_err("regexp_matches", "[\"a\", \"(\"]", "regular expression");
    fcheck_err("regexp_replace", "[\"a\", \"[\", \"b\"]", "regular expression");

    /* The compiled pattern stays in the call site's cache until the pattern changes. */
    ek_func_ctx ctx = {0};
    fcheck_ctx("regexp_matches", &ctx, "[\"x1\", \"[0-9]\"]", "true");
    void *first = ctx.cache;
    CU_ASSERT_PTR_NOT_NULL(first);
    fcheck_ctx("regexp_matches", &ctx, "[\"xy\", \"[0-9]\"]", "false");
    CU_ASSERT_PTR_EQUAL(ctx.cache, first);
    fcheck_ctx("regexp_substr", &ctx, "[\"xy\", \"y\"]", "\"y\"");
    CU_ASSERT_PTR_NOT_NULL(ctx.cache);
    ek_func_ctx_release(&ctx);
    CU_ASSERT_PTR_NULL(ctx.cache);
}

static void test_nulls(void)
{
    static const char *const unary_null[] = {"lower", "upper", "trim", "ltrim", "rtrim", "reverse", NULL};
    for (int i = 0; unary_null[i]; i++) fcheck(unary_null[i], "[null]", "null");
    fcheck("length", "[null]", "0");
    fcheck("numbytes", "[null]", "0");
    fcheck("endswith", "[null, \"a\"]", "false");
    fcheck("startswith", "[\"a\", null]", "false");
    fcheck("indexof", "[null, \"a\"]", "-1");
    fcheck("regexp_matches", "[null, \"a\"]", "false");
    fcheck("regexp_replace", "[null, \"a\", \"b\"]", "null");
    fcheck("regexp_substr", "[\"a\", null]", "null");
    fcheck("lpad", "[null, 2]", "null");
    fcheck("substring", "[null, 1]", "null");
    fcheck("split_value", "[\"a\", null, 0]", "null");
    fcheck("format", "[null, 2]", "null");
}

static void test_wrong_types(void)
{
    fcheck_err("lower", "[1]", "argument 1 must be a string, got bigint");
    fcheck_err("lpad", "[\"a\", \"2\"]", "argument 2 must be an integer");
    fcheck_err("lpad", "[\"a\", -1]", "between");
    fcheck_err("substring", "[\"abc\", 1.5]", "integer");
    fcheck_err("format", "[1.5, 2, \"english\"]", "locale");
    fcheck_err("format", "[\"x\", 2]", "number");
    fcheck_err("indexof", "[\"a\", [1]]", "string");
}

void ek_register_tests(void)
{
    static const ek_test_case cases[] = {
        {"documented examples", test_documented_examples},
        {"basic", test_basic},
        {"substring and split_value", test_substring_and_split},
        {"regular expressions", test_regex},
        {"nulls", test_nulls},
        {"wrong types", test_wrong_types},
        {NULL, NULL},
    };
    ek_add_suite("sql_func_str", cases);
}
