/* Tests for the analytic functions (sql/func_analytic.c), replaying eKuiper's documented
 * sequences through one call site's context. The compiler appends a hidden WHEN flag to every
 * analytic call; these tests append it by hand ("true" unless a case is about WHEN). */
#include "tests/unit/test_sql_func_util.h"

#include <stdio.h>

/* Calls fn once per args in seq through one ctx and checks each result. */
static void replay_at(const char *fn, const char *const *seq, const char *const *want, int line)
{
    ek_func_ctx ctx = {0};
    for (int i = 0; seq[i]; i++) check_ctx_at(fn, &ctx, seq[i], want[i], line);
    ek_func_ctx_release(&ctx);
    CU_ASSERT_PTR_NULL(ctx.state);
}
#define replay(fn, seq, want) replay_at(fn, seq, want, __LINE__)

static void test_lag(void)
{
    replay("lag", ((const char *const[]){"[1, true]", "[2, true]", "[3, true]", NULL}),
           ((const char *const[]){"null", "1", "2"}));
    replay("lag", ((const char *const[]){"[1, 2, 0, true]", "[2, 2, 0, true]", "[3, 2, 0, true]", "[4, 2, 0, true]", NULL}),
           ((const char *const[]){"0", "0", "1", "2"}));
    /* ts - lag(ts, 1, ts, true): the first row's default is its own ts. */
    replay("lag", ((const char *const[]){"[10, 1, 10, true, true]", "[15, 1, 15, true, true]", NULL}),
           ((const char *const[]){"10", "10"}));
    /* ignoreNull (default true) keeps nulls out of the history; false keeps them. */
    replay("lag", ((const char *const[]){"[1, true]", "[null, true]", "[3, true]", NULL}),
           ((const char *const[]){"null", "1", "1"}));
    replay("lag", ((const char *const[]){"[1, 1, null, false, true]", "[null, 1, null, false, true]", "[3, 1, null, false, true]", NULL}),
           ((const char *const[]){"null", "1", "null"}));
    /* WHEN false: answer from the state, leave it alone. */
    replay("lag", ((const char *const[]){"[1, true]", "[2, false]", "[3, true]", "[4, true]", NULL}),
           ((const char *const[]){"null", "1", "1", "3"}));
    fcheck_err("lag", "[1]", "WHEN");
    fcheck_err("lag", "[1, 0, true]", "offset");
}

static void test_latest(void)
{
    replay("latest", ((const char *const[]){"[1, true]", "[null, true]", "[3, true]", NULL}),
           ((const char *const[]){"1", "1", "3"}));
    replay("latest", ((const char *const[]){"[null, 9, true]", "[2, 9, true]", "[5, 9, false]", NULL}),
           ((const char *const[]){"9", "2", "2"}));
}

static void test_changed(void)
{
    /* eKuiper's example: temperature 23 23 23 25 25 25 25 25, humidity 88 88 88 88 90 91 91 91. */
    replay("changed_col", ((const char *const[]){"[true, 23, true]", "[true, 23, true]", "[true, 23, true]", "[true, 25, true]",
                                                 "[true, 25, true]", NULL}),
           ((const char *const[]){"23", "null", "null", "25", "null"}));
    replay("changed_col", ((const char *const[]){"[true, 88, true]", "[true, null, true]", "[false, null, true]", "[true, 88, true]", NULL}),
           ((const char *const[]){"88", "null", "null", "88"}));
    replay("had_changed", ((const char *const[]){"[true, 23, 88, true]", "[true, 23, 88, true]", "[true, 23, 88, true]",
                                                 "[true, 25, 88, true]", "[true, 25, 90, true]", "[true, 25, 91, true]",
                                                 "[true, 25, 91, true]", "[true, null, 91, true]", "[true, 26, 91, false]", NULL}),
           ((const char *const[]){"true", "false", "false", "true", "true", "true", "false", "false", "false"}));
    replay("changed_cols", ((const char *const[]){"[\"c_\", true, {\"temperature\": 23, \"humidity\": 88}, true]",
                                                  "[\"c_\", true, {\"temperature\": 23, \"humidity\": 88}, true]",
                                                  "[\"c_\", true, {\"temperature\": 25, \"humidity\": 88}, true]",
                                                  "[\"c_\", true, {\"temperature\": 25, \"humidity\": 90}, true]", NULL}),
           ((const char *const[]){"{\"c_temperature\":23,\"c_humidity\":88}", "{}", "{\"c_temperature\":25}", "{\"c_humidity\":90}"}));
    fcheck_err("changed_col", "[1, 2, true]", "argument 1 must be a bool");
}

static void test_acc(void)
{
    const char *const in[] = {"[1, true]", "[2, true]", "[3, true]", NULL};
    replay("acc_sum", in, ((const char *const[]){"1", "3", "6"}));
    replay("acc_max", in, ((const char *const[]){"1", "2", "3"}));
    replay("acc_min", in, ((const char *const[]){"1", "1", "1"}));
    replay("acc_count", in, ((const char *const[]){"1", "2", "3"}));
    replay("acc_avg", in, ((const char *const[]){"1", "1.5", "2"}));
    /* acc_count(a, a > 1, a < 0) over 1, 2, 1, 3, -1, 1 gives 0, 1, 2, 3, 4, 0. */
    replay("acc_count", ((const char *const[]){"[1, false, false, true]", "[2, true, false, true]", "[1, false, false, true]",
                                               "[3, true, false, true]", "[-1, false, true, true]", "[1, false, false, true]", NULL}),
           ((const char *const[]){"0", "1", "2", "3", "4", "0"}));
    replay("acc_sum", ((const char *const[]){"[1, true]", "[null, true]", "[5, false]", "[2, true]", NULL}),
           ((const char *const[]){"1", "1", "1", "3"}));
    fcheck_err("acc_max", "[\"a\", true]", "number");
    fcheck_err("acc_sum", "[1, 2, true]", "1 or 3");
}

void ek_register_tests(void)
{
    static const ek_test_case cases[] = {
        {"lag", test_lag},
        {"latest", test_latest},
        {"changed_col, had_changed, changed_cols", test_changed},
        {"acc functions", test_acc},
        {NULL, NULL},
    };
    ek_add_suite("sql_func_analytic", cases);
}
