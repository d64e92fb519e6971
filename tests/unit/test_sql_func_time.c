/* Tests for the date and time functions (sql/func_time.c): format_time's pattern letters,
 * calendar fields (UTC), date arithmetic, the current-time functions' shapes, nulls and errors. */
#include "tests/unit/test_sql_func_util.h"
#include "sql/tz.h"

#include <regex.h>

/* 1541152486013 ms is 2018-11-02T09:54:46.013Z, a Friday (eKuiper's demo data starts there). */
#define DEMO_TS "1541152486013"

static void test_format_time(void)
{
    fcheck("format_time", "[" DEMO_TS ", \"YYYY-MM-dd HH:mm:ss\"]", "\"2018-11-02 09:54:46\"");
    fcheck("format_time", "[" DEMO_TS ", \"yyyy-MM-dd HH:mm:ssSSS\"]", "\"2018-11-02 09:54:46.013\"");
    fcheck("format_time", "[" DEMO_TS ", \"YYYY/MM/dd HH:mm:ssSSS XXX\"]", "\"2018/11/02 09:54:46.013 +00:00\"");
    fcheck("format_time", "[" DEMO_TS ", \"yyyy-MM-ddTHH:mm:ssSS\\\\ZXX\"]", "\"2018-11-02T09:54:46.01Z+0000\"");
    fcheck("format_time", "[" DEMO_TS ", \"EEE, MMM d, h:mm a\"]", "\"Fri, Nov 2, 9:54 AM\"");
    fcheck("format_time", "[" DEMO_TS ", \"EEEE MMMM YY G z Z X\"]", "\"Friday November 18 AD UTC +0000 +00\"");
    fcheck("format_time", "[" DEMO_TS ", \"M/d hh 'at' s\"]", "\"11/2 09 at 46\"");
    fcheck("format_time", "[\"2019-01-01T15:04:05Z\", \"hh a\"]", "\"03 PM\"");
    fcheck("format_time", "[null, \"YYYY\"]", "null");
    fcheck_err("format_time", "[" DEMO_TS ", \"Y\"]", "invalid time format");
    fcheck_err("format_time", "[" DEMO_TS ", \"H\"]", "invalid time format");
    fcheck_err("format_time", "[" DEMO_TS ", \"E\"]", "invalid time format");
    fcheck_err("format_time", "[true, \"YYYY\"]", "datetime");
    fcheck_err("format_time", "[\"not a date\", \"YYYY\"]", "cannot parse");
}

static void test_fields(void)
{
    const char *t = "[\"2019-01-01 10:11:12.345678\"]";
    fcheck("day_name", t, "\"Tuesday\"");
    fcheck("day_of_month", t, "1");
    fcheck("day", t, "1");
    fcheck("day_of_week", t, "3");  /* Sunday is 1 */
    fcheck("day_of_week", "[\"2019-01-06\"]", "1");
    fcheck("day_of_year", "[\"2019-02-01\"]", "32");
    fcheck("day_of_year", "[\"2020-12-31\"]", "366");
    fcheck("hour", t, "10");
    fcheck("minute", t, "11");
    fcheck("second", t, "12");
    fcheck("microsecond", t, "345678");
    fcheck("month", t, "1");
    fcheck("month_name", t, "\"January\"");
    fcheck("hour", "[" DEMO_TS "]", "9");
    fcheck("day_name", "[" DEMO_TS "]", "\"Friday\"");
    fcheck("hour", "[\"2019-01-01T10:00:00+08:00\"]", "2");
}

static void test_arithmetic(void)
{
    fcheck("date_calc", "[\"2019-01-01\", \"1h\"]", "\"2019-01-01 01:00:00\"");
    fcheck("date_calc", "[\"2019-01-01\", \"1h30m\"]", "\"2019-01-01 01:30:00\"");
    fcheck("date_calc", "[\"2019-01-01\", \"1h30m10s100ms200us300ns\"]", "\"2019-01-01 01:30:10\"");
    fcheck("date_calc", "[\"2019-01-01\", \"-1h30m\"]", "\"2018-12-31 22:30:00\"");
    fcheck("date_calc", "[\"2019-01-01\", \"1.5h\"]", "\"2019-01-01 01:30:00\"");
    fcheck_err("date_calc", "[\"2019-01-01\", \"1 hour\"]", "invalid duration");
    fcheck_err("date_calc", "[\"2019-01-01\", 5]", "duration");
    fcheck("date_diff", "[\"2019-01-01\", \"2019-01-11\"]", "10");
    fcheck("date_diff", "[\"2019-01-11\", \"2019-01-01 12:00:00\"]", "-9");
    fcheck("from_days", "[1]", "\"1970-01-01\"");
    fcheck("from_days", "[365]", "\"1970-12-31\"");
    fcheck("from_days", "[0]", "null");
    fcheck("from_unix_time", "[1]", "\"1970-01-01 00:00:01\"");
    fcheck("from_unix_time", "[1546300800]", "\"2019-01-01 00:00:00\"");
    fcheck("from_unix_time", "[0]", "null");
    fcheck("last_day", "[\"2024-02-10\"]", "\"2024-02-29\"");
    fcheck("last_day", "[\"2019-12-05\"]", "\"2019-12-31\"");
    fcheck("to_seconds", "[" DEMO_TS "]", "1541152486");
    fcheck("to_seconds", "[\"2019-01-01T00:00:00Z\"]", "1546300800");
    fcheck("to_seconds", "[\"1969-12-31T23:59:59.5Z\"]", "-1");
    fcheck_err("hour", "[9223372036854775807]", "out of the datetime range");
    fcheck_err("hour", "[1e300]", "out of the datetime range");
    fcheck_err("date_calc", "[\"2262-04-11\", \"2000h\"]", "out of the datetime range");
    fcheck("date_calc", "[\"1900-03-01\", \"-24h\"]", "\"1900-02-28 00:00:00\"");
}

static void test_datetime_values(void)
{
    ek_value args[1] = {ek_datetime(1541152486013LL * 1000000 + 456)}, out;
    ek_err err = {0};
    CU_ASSERT_EQUAL(fcallv("microsecond", NULL, args, 1, &out, &err), 0);
    CU_ASSERT_EQUAL(out.i, 13000);
    CU_ASSERT_EQUAL(fcallv("second", NULL, args, 1, &out, &err), 0);
    CU_ASSERT_EQUAL(out.i, 46);
}

static void test_convert_tz(void)
{
    fcheck("convert_tz", "[\"2019-01-01T00:00:00Z\", \"Asia/Shanghai\"]", "\"2019-01-01T08:00:00Z\"");
    fcheck("convert_tz", "[\"2019-01-01T00:00:00Z\", \"UTC\"]", "\"2019-01-01T00:00:00Z\"");
    /* New York: EST in winter, EDT in summer, also past the file's last transition (2037). */
    fcheck("convert_tz", "[\"2019-01-15T12:00:00Z\", \"America/New_York\"]", "\"2019-01-15T07:00:00Z\"");
    fcheck("convert_tz", "[\"2019-07-15T12:00:00Z\", \"America/New_York\"]", "\"2019-07-15T08:00:00Z\"");
    fcheck("convert_tz", "[\"2050-07-15T12:00:00Z\", \"America/New_York\"]", "\"2050-07-15T08:00:00Z\"");
    fcheck("convert_tz", "[\"2050-12-15T12:00:00Z\", \"America/New_York\"]", "\"2050-12-15T07:00:00Z\"");
    /* Southern hemisphere: Sydney is on daylight time in January. */
    fcheck("convert_tz", "[\"2050-01-15T00:00:00Z\", \"Australia/Sydney\"]", "\"2050-01-15T11:00:00Z\"");
    fcheck("convert_tz", "[\"2050-07-15T00:00:00Z\", \"Australia/Sydney\"]", "\"2050-07-15T10:00:00Z\"");
    fcheck("convert_tz", "[\"2019-01-01T00:00:00Z\", \"Asia/Kolkata\"]", "\"2019-01-01T05:30:00Z\"");
    fcheck("convert_tz", "[null, \"UTC\"]", "null");
    fcheck_err("convert_tz", "[\"2019-01-01\", \"Mars/Olympus\"]", "unknown time zone");
    fcheck_err("convert_tz", "[\"2019-01-01\", \"../../etc/passwd\"]", "unknown time zone");

    /* The zone stays in the call site's cache. */
    ek_func_ctx ctx = {0};
    fcheck_ctx("convert_tz", &ctx, "[1541152486013, \"Asia/Shanghai\"]", "\"2018-11-02T17:54:46.013Z\"");
    void *cached = ctx.cache;
    fcheck_ctx("convert_tz", &ctx, "[1541152486013, \"Asia/Shanghai\"]", "\"2018-11-02T17:54:46.013Z\"");
    CU_ASSERT_PTR_EQUAL(ctx.cache, cached);
    ek_func_ctx_release(&ctx);
}

/* basic.timezone (ctx.tz, the engine's zone): the wall-clock functions read it, and convert_tz to
 * another zone then formats as that zone, not shifted twice. */
static void test_basic_timezone(void)
{
    ek_tz *tz = NULL;
    ek_err err = {0};
    CU_ASSERT_EQUAL_FATAL(ek_tz_open("Asia/Kolkata", &tz, &err), 0);
    ek_func_ctx ctx = {.tz = tz};
    fcheck_ctx("format_time", &ctx, "[\"2024-01-01T00:00:00Z\", \"yyyy-MM-dd HH:mm XXX\"]", "\"2024-01-01 05:30 +05:30\"");
    fcheck_ctx("hour", &ctx, "[\"2024-01-01T20:00:00Z\"]", "1");
    fcheck_ctx("day_of_month", &ctx, "[\"2024-01-01T20:00:00Z\"]", "2");
    fcheck_ctx("from_unix_time", &ctx, "[1704067200]", "\"2024-01-01 05:30:00\"");
    ek_func_ctx conv = {.tz = tz};
    ek_value out;
    CU_ASSERT_EQUAL_FATAL(fcall("convert_tz", &conv, "[\"2024-01-01T00:00:00Z\", \"Asia/Tokyo\"]", &out, &err), 0);
    ek_value h;
    CU_ASSERT_EQUAL(fcallv("hour", &ctx, &out, 1, &h, &err), 0);
    CU_ASSERT_EQUAL(h.i, 9);  /* Tokyo's 09:00, read through Kolkata's wall clock */
    ek_value_unref(&out);
    ek_func_ctx_release(&conv);
    ek_func_ctx_release(&ctx);
    /* Without a zone the functions stay on UTC. */
    fcheck("hour", "[\"2024-01-01T20:00:00Z\"]", "20");
    ek_tz_free(tz);
}

static bool matches(const char *text, const char *re)
{
    regex_t r;
    regcomp(&r, re, REG_EXTENDED | REG_NOSUB);
    bool ok = regexec(&r, text, 0, NULL, 0) == 0;
    regfree(&r);
    return ok;
}

static void shape(const char *fn, const char *args, const char *re)
{
    ek_value out;
    ek_err err = {0};
    CU_ASSERT_EQUAL_FATAL(fcall(fn, NULL, args, &out, &err), 0);
    CU_ASSERT_EQUAL_FATAL(out.type, EK_T_STRING);
    if (!matches(ek_str_ptr(&out), re)) fprintf(stderr, "\n  %s%s = %s, want %s\n", fn, args, ek_str_ptr(&out), re);
    CU_ASSERT(matches(ek_str_ptr(&out), re));
    ek_value_unref(&out);
}

static void test_now(void)
{
    const char *dt = "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$";
    shape("now", "[]", dt);
    shape("current_timestamp", "[]", dt);
    shape("local_time", "[]", dt);
    shape("local_timestamp", "[]", dt);
    shape("now", "[3]", "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}$");
    shape("cur_date", "[]", "^[0-9]{4}-[0-9]{2}-[0-9]{2}$");
    shape("current_date", "[]", "^[0-9]{4}-[0-9]{2}-[0-9]{2}$");
    shape("cur_time", "[]", "^[0-9]{2}:[0-9]{2}:[0-9]{2}$");
    shape("current_time", "[6]", "^[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}$");
    fcheck_err("now", "[7]", "precision");
    fcheck_err("now", "[\"a\"]", "integer");
}

static void test_nulls(void)
{
    static const char *const unary[] = {"day_name", "day_of_month", "day", "day_of_week", "day_of_year", "hour",
                                        "minute", "second", "microsecond", "month", "month_name", "last_day",
                                        "from_days", "from_unix_time", "to_seconds", NULL};
    for (int i = 0; unary[i]; i++) fcheck(unary[i], "[null]", "null");
    fcheck("date_calc", "[null, \"1h\"]", "null");
    fcheck("date_diff", "[\"2019-01-01\", null]", "null");
    fcheck_err("hour", "[true]", "argument 1 must be a datetime, got boolean");
    fcheck_err("from_days", "[\"a\"]", "integer");
}

void ek_register_tests(void)
{
    static const ek_test_case cases[] = {
        {"format_time patterns", test_format_time},
        {"calendar fields", test_fields},
        {"date arithmetic", test_arithmetic},
        {"datetime values", test_datetime_values},
        {"current time shapes", test_now},
        {"convert_tz", test_convert_tz},
        {"basic.timezone", test_basic_timezone},
        {"nulls and errors", test_nulls},
        {NULL, NULL},
    };
    ek_add_suite("sql_func_time", cases);
}
