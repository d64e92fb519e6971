/* Scheduled rules (options.cron and options.duration): the cron parser accepts the five classic
 * fields with *, lists, ranges and steps and refuses the rest naming the field; the next match is
 * computed on the wall clock of a zone, with cron's day-of-month OR day-of-week rule; and a rule
 * with a schedule waits, runs for its duration at each match, and waits again, driven by the
 * patrol on the fixture's fake clock. */
#include "engine/rules/rules_int.h"
#include "sql/tz.h"
#include "tests/unit/rules_fixture.h"

#define JAN1_2024 INT64_C(1704067200000)  /* Monday 2024-01-01 00:00 UTC */
#define MIN INT64_C(60000)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)

static void test_parse(void)
{
    static const char *good[] = {"* * * * *", "*/5 * * * *", "0 12 * * 1-5", "0,30 8-18/2 1,15 * 0,7",
                                 "5/15 * * * *", "  59 23 31 12 6  ", NULL};
    static const struct {
        const char *text, *msg;
    } bad[] = {
        {"* * * *", "needs 5 fields"},
        {"* * * * * *", "more than 5 fields"},
        {"60 * * * *", "bad minute field"},
        {"* 24 * * *", "bad hour field"},
        {"* * 0 * *", "bad day of month field"},
        {"* * * 13 *", "bad month field"},
        {"* * * * 8", "bad day of week field"},
        {"*/0 * * * *", "bad minute field"},
        {"5-1 * * * *", "bad minute field"},
        {"a * * * *", "bad minute field"},
        {"1x * * * *", "unexpected 'x' in the minute field"},
        {NULL, NULL},
    };
    rules__cron c;
    ek_err err = {0};
    for (int i = 0; good[i]; i++) {
        int rc = rules__cron_parse(good[i], &c, &err);
        if (rc) fprintf(stderr, "\n  %s: %s\n", good[i], err.msg);
        CU_ASSERT_EQUAL(rc, 0);
    }
    for (int i = 0; bad[i].text; i++) {
        memset(&err, 0, sizeof err);
        CU_ASSERT_EQUAL(rules__cron_parse(bad[i].text, &c, &err), EK_EINVAL);
        if (!strstr(err.msg, bad[i].msg)) fprintf(stderr, "\n  %s: got \"%s\"\n", bad[i].text, err.msg);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, bad[i].msg));
    }
    CU_ASSERT_EQUAL(rules__cron_parse("0 0 * * 7", &c, &err), 0);
    CU_ASSERT_EQUAL(c.dow, 1);  /* 7 is Sunday, bit 0 */
}

static void test_next(void)
{
    static const struct {
        const char *cron;
        int64_t after, want;
    } cases[] = {
        {"*/5 * * * *", JAN1_2024, JAN1_2024 + 5 * MIN},
        {"*/5 * * * *", JAN1_2024 + 5 * MIN + 1, JAN1_2024 + 10 * MIN},
        {"* * * * *", JAN1_2024 + 30000, JAN1_2024 + MIN},
        {"5/15 * * * *", JAN1_2024, JAN1_2024 + 5 * MIN},
        {"5/15 * * * *", JAN1_2024 + 50 * MIN, JAN1_2024 + HOUR + 5 * MIN},
        {"0-10/5 3 * * *", JAN1_2024, JAN1_2024 + 3 * HOUR},
        {"0 12 * * 1", JAN1_2024, JAN1_2024 + 12 * HOUR},                 /* Monday noon */
        {"0 12 * * 1", JAN1_2024 + 12 * HOUR, JAN1_2024 + 7 * DAY + 12 * HOUR},
        {"30 2 1 3 *", JAN1_2024, JAN1_2024 + 60 * DAY + 2 * HOUR + 30 * MIN},  /* 2024-03-01 02:30 */
        {"0 0 29 2 *", JAN1_2024, JAN1_2024 + 59 * DAY},                  /* leap day */
        {"0 0 1 * 0", JAN1_2024, JAN1_2024 + 6 * DAY},                    /* day 1 OR Sunday: Sun Jan 7 */
        {"0 0 1 * *", JAN1_2024, JAN1_2024 + 31 * DAY},                   /* Feb 1 */
        {"0 0 30 2 *", JAN1_2024, INT64_MAX},                             /* never */
        {NULL, 0, 0},
    };
    rules__cron c;
    ek_err err = {0};
    for (int i = 0; cases[i].cron; i++) {
        CU_ASSERT_EQUAL_FATAL(rules__cron_parse(cases[i].cron, &c, &err), 0);
        int64_t got = rules__cron_next(&c, cases[i].after, NULL);
        if (got != cases[i].want)
            fprintf(stderr, "\n  %s after %lld: want %lld, got %lld\n", cases[i].cron, (long long)cases[i].after,
                    (long long)cases[i].want, (long long)got);
        CU_ASSERT_EQUAL(got, cases[i].want);
    }
    /* 10:15 in Kolkata (+05:30) is 04:45 UTC. */
    ek_tz *tz = NULL;
    CU_ASSERT_EQUAL_FATAL(ek_tz_open("Asia/Kolkata", &tz, &err), 0);
    CU_ASSERT_EQUAL_FATAL(rules__cron_parse("15 10 * * *", &c, &err), 0);
    CU_ASSERT_EQUAL(rules__cron_next(&c, JAN1_2024, tz), JAN1_2024 + 4 * HOUR + 45 * MIN);
    ek_tz_free(tz);
}

static bool wait_running(fx *f, const char *id, bool want)
{
    for (int i = 0; i < 300; i++) {
        if (ek_rules_rule_running(f->app.rules, id) == want) return true;
        usleep(10000);
    }
    return false;
}

/* The schedule is applied by the patrol thread, so the status settles asynchronously: wait up to
 * 3 s for it (slow sanitizer builds need the time), then assert what it settled on. */
static void check_status(fx *f, const char *id, const char *status, int64_t next)
{
    char got[256] = "";
    int64_t got_next = -1;
    for (int i = 0; i < 300; i++) {
        ek_value st;
        ek_err err = {0};
        CU_ASSERT_EQUAL_FATAL(ek_rules_rule_status(f->app.rules, id, &st, &err), 0);
        const ek_value *s = ek_object_get(&st, "status");
        snprintf(got, sizeof got, "%s", s ? ek_str_ptr(s) : "");
        ek_value_unref(&st);
        got_next = fx_status_int(f, id, "nextStartTimestamp");
        if (strcmp(got, status) == 0 && got_next == next) break;
        usleep(10000);
    }
    CU_ASSERT_STRING_EQUAL(got, status);
    CU_ASSERT_EQUAL(got_next, next);
}

static void test_scheduled_rule(void)
{
    fx f;
    fx_open_env(&f, NULL, "KUIPER__BASIC__TIMEZONE=UTC");
    fx_stream(&f, "CREATE STREAM demo () WITH (TYPE=\"memory\", DATASOURCE=\"in/demo\")");
    ek_err err = {0};
    CU_ASSERT_EQUAL(fx_rule(&f, "bad", "SELECT a FROM demo", "{\"cron\":\"61 * * * *\"}", &err), EK_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "options.cron"));
    CU_ASSERT_EQUAL(fx_rule(&f, "bad", "SELECT a FROM demo", "{\"duration\":\"30s\"}", &err), EK_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "options.duration: needs options.cron"));

    /* The fixture's clock is 1,000 s after the epoch (00:16:40): matches at 00:20, 00:25 ... */
    CU_ASSERT_EQUAL_FATAL(fx_rule(&f, "s", "SELECT a FROM demo", "{\"cron\":\"*/5 * * * *\",\"duration\":\"30s\"}", &err), 0);
    CU_ASSERT_FALSE(ek_rules_rule_running(f.app.rules, "s"));
    check_status(&f, "s", "stopped: waiting for next schedule.", 1200000);
    /* Without a duration the first match starts the rule until it is stopped. */
    CU_ASSERT_EQUAL_FATAL(fx_rule(&f, "nd", "SELECT a FROM demo WHERE a < 0", "{\"cron\":\"*/5 * * * *\"}", &err), 0);
    CU_ASSERT_FALSE(ek_rules_rule_running(f.app.rules, "nd"));
    fx_step(&f, 1199999, "demo", "{\"a\":0}");  /* not subscribed yet: nothing */
    usleep(150000);                              /* a few patrol passes: still too early */
    CU_ASSERT_FALSE(ek_rules_rule_running(f.app.rules, "s"));

    fx_step(&f, 1200000, NULL, NULL);
    CU_ASSERT_TRUE_FATAL(wait_running(&f, "s", true));
    check_status(&f, "s", "running", 0);
    fx_step(&f, 1210000, "demo", "{\"a\":1}");
    CU_ASSERT_EQUAL(f.nout, 1);

    fx_step(&f, 1230000, NULL, NULL);           /* 30 s later: the duration is over */
    CU_ASSERT_TRUE_FATAL(wait_running(&f, "s", false));
    check_status(&f, "s", "stopped: waiting for next schedule.", 1500000);
    fx_step(&f, 1240000, "demo", "{\"a\":2}");
    CU_ASSERT_EQUAL(f.nout, 1);

    CU_ASSERT_TRUE(ek_rules_rule_running(f.app.rules, "nd"));
    fx_step(&f, 1500000, NULL, NULL);           /* the next match */
    CU_ASSERT_TRUE(wait_running(&f, "s", true));
    usleep(150000);
    CU_ASSERT_TRUE(ek_rules_rule_running(f.app.rules, "nd"));
    fx_step(&f, 1500001, "demo", "{\"a\":3}");
    CU_ASSERT_EQUAL(f.nout, 2);

    CU_ASSERT_EQUAL(ek_rules_rule_stop(f.app.rules, "s", &err), 0);  /* a stop ends the schedule */
    check_status(&f, "s", "stopped", 0);
    fx_step(&f, 1800000, NULL, NULL);
    usleep(150000);
    CU_ASSERT_FALSE(ek_rules_rule_running(f.app.rules, "s"));
    CU_ASSERT_EQUAL(ek_rules_rule_start(f.app.rules, "s", &err), 0);   /* scheduled again, not run */
    CU_ASSERT_FALSE(ek_rules_rule_running(f.app.rules, "s"));
    check_status(&f, "s", "stopped: waiting for next schedule.", 2100000);
    fx_close(&f, false);
}

void ek_register_tests(void)
{
    static const ek_test_case cases[] = {
        {"cron expressions: fields, lists, ranges, steps, errors", test_parse},
        {"cron: the next match, day OR weekday, time zones", test_next},
        {"a scheduled rule runs for its duration at each match", test_scheduled_rule},
        {NULL, NULL},
    };
    ek_add_suite("rules_cron", cases);
}
