/* Cron schedules for rules (options.cron with options.duration, as in eKuiper): a rule whose
 * options name a cron expression does not run when started; it waits, runs for `duration` at
 * each time the expression matches, stops, and waits again. The patrol thread (timer.c) calls
 * rules__cron_patrol, which starts and stops such rules (rule.c does the lifecycle).
 *
 * The expression has the five classic fields, minute hour day-of-month month day-of-week, each a
 * list of `*`, `n`, `a-b`, with an optional `/step` (`*` + `/5` is every fifth; day-of-week 0 or 7
 * is Sunday). As in cron, when both day fields are restricted a day matching either one matches.
 * Times are the wall clock of basic.timezone, like window alignment. */
#include "engine/mem.h"
#include "engine/rules/rules_int.h"
#include "sql/tz.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const struct {
    const char *name;
    int lo, hi;
} fields[5] = {{"minute", 0, 59}, {"hour", 0, 23}, {"day of month", 1, 31}, {"month", 1, 12}, {"day of week", 0, 7}};

/* One number of a field; *s moves past it. */
static bool number(const char **s, int *out)
{
    if (!isdigit((unsigned char)**s)) return false;
    long v = 0;
    while (isdigit((unsigned char)**s) && v < 1000) v = v * 10 + (*(*s)++ - '0');
    *out = (int)v;
    return true;
}

/* One comma-separated item of field f into *bits: `*`, `n`, `a-b`, each with an optional `/step`. */
static bool item(const char **s, int f, uint64_t *bits)
{
    int lo = fields[f].lo, hi = fields[f].hi, step = 1;
    if (**s == '*') {
        (*s)++;
    } else {
        if (!number(s, &lo)) return false;
        hi = lo;
        if (**s == '-' && (++*s, !number(s, &hi))) return false;
    }
    if (**s == '/' && (++*s, !number(s, &step) || step < 1)) return false;
    if (lo < fields[f].lo || hi > fields[f].hi || lo > hi) return false;
    if (step > 1 && lo == hi && hi != fields[f].hi) hi = fields[f].hi;  /* "5/15": from 5 on */
    for (int v = lo; v <= hi; v += step) *bits |= UINT64_C(1) << v;
    return true;
}

int rules__cron_parse(const char *text, rules__cron *out, ek_err *err)
{
    memset(out, 0, sizeof *out);
    const char *s = text ? text : "";
    uint64_t bits[5] = {0};
    for (int f = 0; f < 5; f++) {
        while (*s == ' ' || *s == '\t') s++;
        if (!*s) return ek_err_set(err, EK_EINVAL, "options.cron: \"%s\" needs 5 fields (minute hour day month weekday)", text);
        bool star = *s == '*' && (s[1] == ' ' || s[1] == '\t' || s[1] == '\0');
        for (;;) {
            if (!item(&s, f, &bits[f]))
                return ek_err_set(err, EK_EINVAL, "options.cron: \"%s\": bad %s field (%d-%d, *, lists, ranges, /steps)",
                                  text, fields[f].name, fields[f].lo, fields[f].hi);
            if (*s != ',') break;
            s++;
        }
        if (*s && *s != ' ' && *s != '\t')
            return ek_err_set(err, EK_EINVAL, "options.cron: \"%s\": unexpected '%c' in the %s field", text, *s,
                              fields[f].name);
        if (f == 2) out->dom_star = star;
        if (f == 4) out->dow_star = star;
    }
    while (*s == ' ' || *s == '\t') s++;
    if (*s) return ek_err_set(err, EK_EINVAL, "options.cron: \"%s\" has more than 5 fields", text);
    out->minute = bits[0];
    out->hour = (uint32_t)bits[1];
    out->dom = (uint32_t)bits[2];
    out->month = (uint16_t)bits[3];
    out->dow = (uint8_t)((bits[4] | bits[4] >> 7) & 0x7f);  /* 7 is Sunday too */
    return 0;
}

static bool day_matches(const rules__cron *c, const struct tm *tm)
{
    bool dom = c->dom >> tm->tm_mday & 1, dow = c->dow >> tm->tm_wday & 1;
    if (c->dom_star || c->dow_star) return dom && dow;
    return dom || dow;
}

int64_t rules__cron_next(const rules__cron *c, int64_t after_ms, const ek_tz *tz)
{
    const int64_t minute = 60000, limit = after_ms + INT64_C(5) * 366 * 86400000;
    int64_t t = (after_ms / minute + 1) * minute;  /* minutes are whole in every real zone */
    while (t < limit) {
        int64_t off = tz ? ek_tz_offset_ms(tz, t) : 0;
        int64_t local = t + off;
        time_t secs = (time_t)(local / 1000);
        struct tm tm;
        gmtime_r(&secs, &tm);
        int64_t into_day = (int64_t)(tm.tm_hour * 60 + tm.tm_min) * minute;
        if (!(c->month >> (tm.tm_mon + 1) & 1) || !day_matches(c, &tm)) {
            t += 86400000 - into_day;  /* the next local midnight */
        } else if (!(c->hour >> tm.tm_hour & 1)) {
            t += (60 - tm.tm_min) * minute;
        } else if (!(c->minute >> tm.tm_min & 1)) {
            t += minute;
        } else {
            return t;
        }
    }
    return INT64_MAX;
}
