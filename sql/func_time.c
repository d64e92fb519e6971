/* Date and time SQL functions (eKuiper docs: sqls/functions/datetime_functions.md, format_time's
 * patterns from string_functions.md, to_seconds from transform_functions.md).
 *
 * A datetime is an int64 of nanoseconds since the epoch; arguments may also be numbers
 * (milliseconds) or strings, converted as cast(x, "datetime") does. kuiperd computes calendar fields
 * on the wall clock of basic.timezone (ctx->tz, the engine's zone; UTC without one), as eKuiper does:
 * format_time, now, cur_date, cur_time, date_calc, from_unix_time, hour(), day() ...; text uses
 * eKuiper's formats ("YYYY-MM-DD HH:mm:ss" for now(), "yyyy-MM-dd" for dates).
 * format_time patterns are Java-like letters translated here, one run of letters at a time. */
#include "sql/func_int.h"
#include "sql/tz.h"
#include "engine/mem.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *const month_names[] = {"January", "February", "March", "April", "May", "June", "July",
                                          "August", "September", "October", "November", "December"};
static const char *const day_names[] = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};

typedef struct civil {
    int64_t year;
    int month, day, hour, min, sec, wday, yday;
    int64_t nsec;
} civil;

static int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

static civil to_civil(int64_t ns)
{
    civil c;
    int64_t secs = floor_div(ns, EK_NS_PER_SEC), days = floor_div(secs, 86400), sod = secs - days * 86400;
    c.nsec = ns - secs * EK_NS_PER_SEC;
    func__civil_from_days(days, &c.year, &c.month, &c.day);
    c.hour = (int)(sod / 3600);
    c.min = (int)(sod / 60 % 60);
    c.sec = (int)(sod % 60);
    c.wday = (int)(((days % 7) + 11) % 7);  /* 1970-01-01 was a Thursday */
    c.yday = (int)(days - func__days_from_civil(c.year, 1, 1)) + 1;
    return c;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * EK_NS_PER_SEC + ts.tv_nsec;
}

/* The offset of basic.timezone (ctx->tz, the engine's zone) at ns, in ns; 0 without a zone (UTC). */
static int64_t zone_off(const ek_func_ctx *ctx, int64_t ns)
{
    return ctx && ctx->tz ? ek_tz_offset_ms(ctx->tz, ns / 1000000) * 1000000 : 0;
}

/* ---- format_time ---- */

/* Length of the run of ch starting at p[i]. */
static size_t run_of(const char *p, size_t i, char ch)
{
    size_t n = 0;
    while (p[i + n] == ch) n++;
    return n;
}

/* Appends an offset of off seconds as +hh, +hhmm or +hh:mm (form 1, 2, 3). */
static void put_offset(ek_buf *b, int32_t off, int form)
{
    int32_t a = off < 0 ? -off : off;
    ek_buf_printf(b, "%c%02d", off < 0 ? '-' : '+', (int)(a / 3600));
    if (form >= 2) ek_buf_printf(b, form == 3 ? ":%02d" : "%02d", (int)(a / 60 % 60));
}

/* format_time at the wall clock off seconds east of UTC (the zone letters print that offset). */
static int format_zoned(const char *fn, int64_t ns, int32_t off, const char *pat, ek_buf *b, ek_err *e)
{
    civil c = to_civil(ns + (int64_t)off * EK_NS_PER_SEC);
    for (size_t i = 0; pat[i];) {
        char ch = pat[i];
        size_t n = run_of(pat, i, ch);
        bool ok = true;
        switch (ch) {
        case '\\':
            if (!pat[i + 1]) return ek_err_set(e, EK_EINVAL, "%s: format \"%s\" ends with an escape", fn, pat);
            ek_buf_putc(b, pat[i + 1]);
            i += 2;
            continue;
        case '\'': {
            const char *end = strchr(pat + i + 1, '\'');
            if (end == pat + i + 1) { ek_buf_putc(b, '\''); i += 2; continue; }
            size_t len = end ? (size_t)(end - pat - i - 1) : strlen(pat + i + 1);
            ek_buf_append(b, pat + i + 1, len);
            i += len + 1 + (end != NULL);
            continue;
        }
        case 'Y': case 'y':
            if (n == 4) ek_buf_printf(b, "%04lld", (long long)c.year);
            else if (n == 2) ek_buf_printf(b, "%02lld", (long long)(c.year % 100));
            else ok = false;
            break;
        case 'G': n = 1; ek_buf_puts(b, "AD"); break;
        case 'M':
            if (n > 4) n = 4;
            if (n == 1) ek_buf_printf(b, "%d", c.month);
            else if (n == 2) ek_buf_printf(b, "%02d", c.month);
            else if (n == 3) ek_buf_append(b, month_names[c.month - 1], 3);
            else ek_buf_puts(b, month_names[c.month - 1]);
            break;
        case 'd':
            if (n > 2) n = 2;
            ek_buf_printf(b, n == 1 ? "%d" : "%02d", c.day);
            break;
        case 'E':
            if (n == 3) ek_buf_append(b, day_names[c.wday], 3);
            else if (n == 4) ek_buf_puts(b, day_names[c.wday]);
            else ok = false;
            break;
        case 'H':
            if (n == 2) ek_buf_printf(b, "%02d", c.hour);
            else ok = false;
            break;
        case 'h': {
            int h12 = c.hour % 12 ? c.hour % 12 : 12;
            if (n > 2) n = 2;
            ek_buf_printf(b, n == 1 ? "%d" : "%02d", h12);
            break;
        }
        case 'a': n = 1; ek_buf_puts(b, c.hour < 12 ? "AM" : "PM"); break;
        case 'm':
            if (n > 2) n = 2;
            ek_buf_printf(b, n == 1 ? "%d" : "%02d", c.min);
            break;
        case 's':
            if (n > 2) n = 2;
            ek_buf_printf(b, n == 1 ? "%d" : "%02d", c.sec);
            break;
        case 'S': {
            char frac[10];
            snprintf(frac, sizeof frac, "%09lld", (long long)c.nsec);
            ek_buf_putc(b, '.');
            for (size_t k = 0; k < n; k++) ek_buf_putc(b, k < 9 ? frac[k] : '0');
            break;
        }
        case 'z':
            n = 1;
            if (off) put_offset(b, off, 2);
            else ek_buf_puts(b, "UTC");
            break;
        case 'Z': n = 1; put_offset(b, off, 2); break;
        case 'X':
            if (n > 3) n = 3;
            put_offset(b, off, (int)n);
            break;
        default: n = 1; ek_buf_putc(b, ch); break;
        }
        if (!ok) return ek_err_set(e, EK_EINVAL, "%s: invalid time format \"%s\" for %c", fn, pat, ch);
        i += n;
    }
    return 0;
}

int func__format_time(const char *fn, int64_t ns, const char *pat, ek_buf *b, ek_err *e)
{
    return format_zoned(fn, ns, 0, pat, b, e);
}

/* format_time's result at the wall clock of basic.timezone (ctx->tz; UTC without one). */
static int format_to(const ek_func_ctx *c, const char *fn, int64_t ns, const char *pat, ek_value *o, ek_err *e)
{
    ek_buf b = EK_BUF_INIT;
    int32_t off = (int32_t)(zone_off(c, ns) / EK_NS_PER_SEC);
    int rc = format_zoned(fn, ns, off, pat, &b, e);
    if (!rc) *o = ek_string_n(b.data ? b.data : "", b.len);
    ek_buf_free(&b);
    return rc;
}

static int f_format_time(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    int64_t ns;
    if (func__any_null(a, 2)) { *o = ek_null(); return 0; }
    if (func__arg_time("format_time", a, 0, &ns, e)) return e->code;
    if (a[1].type != EK_T_STRING) return func__type_err(e, "format_time", 1, "a string", &a[1]);
    return format_to(c, "format_time", ns, ek_str_ptr(&a[1]), o, e);
}

/* ---- current time ---- */

static int fsp_of(const char *fn, const ek_value *a, int n, int64_t *fsp, ek_err *e)
{
    *fsp = 0;
    if (n == 0 || a[0].type == EK_T_NULL) return 0;
    if (func__arg_int(fn, a, 0, fsp, e)) return e->code;
    if (*fsp < 0 || *fsp > 6) return ek_err_set(e, EK_EINVAL, "%s: fractional seconds precision must be 0 to 6, got %lld", fn, (long long)*fsp);
    return 0;
}

static int current(const ek_func_ctx *c, const char *fn, const char *base, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    int64_t fsp;
    if (fsp_of(fn, a, n, &fsp, e)) return e->code;
    char pat[40];
    snprintf(pat, sizeof pat, "%s%.*s", base, (int)fsp, "SSSSSS");
    return format_to(c, fn, now_ns(), pat, o, e);
}

static int f_now(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return current(c, "now", "yyyy-MM-dd HH:mm:ss", a, n, o, e); }
static int f_cur_time(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return current(c, "cur_time", "HH:mm:ss", a, n, o, e); }
static int f_cur_date(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return format_to(c, "cur_date", now_ns(), "yyyy-MM-dd", o, e); }

/* ---- arithmetic ---- */

static int f_date_calc(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    int64_t ns, d;
    if (func__any_null(a, 2)) { *o = ek_null(); return 0; }
    if (func__arg_time("date_calc", a, 0, &ns, e)) return e->code;
    if (a[1].type != EK_T_STRING) return func__type_err(e, "date_calc", 1, "a duration string", &a[1]);
    if (!func__parse_duration(ek_str_ptr(&a[1]), &d))
        return ek_err_set(e, EK_EINVAL, "date_calc: invalid duration \"%s\"", ek_str_ptr(&a[1]));
    if (__builtin_add_overflow(ns, d, &ns)) return ek_err_set(e, EK_EINVAL, "date_calc: the result is out of the datetime range");
    return format_to(c, "date_calc", ns, "yyyy-MM-dd HH:mm:ss", o, e);
}

/* date_diff(d1, d2): whole days from d1 to d2 (documented as a difference in days). */
static int f_date_diff(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    int64_t t1, t2;
    if (func__any_null(a, 2)) { *o = ek_null(); return 0; }
    if (func__arg_time("date_diff", a, 0, &t1, e) || func__arg_time("date_diff", a, 1, &t2, e)) return e->code;
    int64_t diff;
    if (__builtin_sub_overflow(t2, t1, &diff)) return ek_err_set(e, EK_EINVAL, "date_diff: the dates are too far apart");
    *o = ek_int(diff / (86400 * EK_NS_PER_SEC));
    return 0;
}

static int f_from_days(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    int64_t days;
    if (a[0].type == EK_T_NULL) { *o = ek_null(); return 0; }
    if (func__arg_int("from_days", a, 0, &days, e)) return e->code;
    if (days == 0) { *o = ek_null(); return 0; }
    if (days > 106751 || days < -106751) return ek_err_set(e, EK_EINVAL, "from_days: %lld is out of range", (long long)days);
    return format_to(NULL, "from_days", (days - 1) * 86400 * EK_NS_PER_SEC, "yyyy-MM-dd", o, e);
}

static int f_from_unix_time(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    int64_t s;
    if (a[0].type == EK_T_NULL) { *o = ek_null(); return 0; }
    if (func__arg_int("from_unix_time", a, 0, &s, e)) return e->code;
    if (s == 0) { *o = ek_null(); return 0; }
    if (s > INT64_MAX / EK_NS_PER_SEC || s < INT64_MIN / EK_NS_PER_SEC)
        return ek_err_set(e, EK_EINVAL, "from_unix_time: %lld is out of range", (long long)s);
    return format_to(c, "from_unix_time", s * EK_NS_PER_SEC, "yyyy-MM-dd HH:mm:ss", o, e);
}

static int f_last_day(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    int64_t ns;
    if (a[0].type == EK_T_NULL) { *o = ek_null(); return 0; }
    if (func__arg_time("last_day", a, 0, &ns, e)) return e->code;
    civil cv = to_civil(ns + zone_off(c, ns));
    int64_t y = cv.year + (cv.month == 12), m = cv.month == 12 ? 1 : cv.month + 1;
    int64_t last = func__days_from_civil(y, (int)m, 1) - 1;
    return format_to(NULL, "last_day", last * 86400 * EK_NS_PER_SEC, "yyyy-MM-dd", o, e);
}

static int f_to_seconds(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    int64_t ns;
    if (a[0].type == EK_T_NULL) { *o = ek_null(); return 0; }
    if (func__arg_time("to_seconds", a, 0, &ns, e)) return e->code;
    *o = ek_int(floor_div(ns, EK_NS_PER_SEC));
    return 0;
}

/* convert_tz(t, zone): kuiperd's datetimes carry no zone, so the result is shifted so that its wall
 * clock in basic.timezone is t's wall clock in zone: format_time, hour() and the other field
 * functions (which read basic.timezone) then give zone's local time, as they do on eKuiper's zoned
 * value; printed directly it keeps the Z suffix. */
static int f_convert_tz(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    int64_t ns, local;
    if (func__any_null(a, 2)) { *o = ek_null(); return 0; }
    if (func__arg_time("convert_tz", a, 0, &ns, e)) return e->code;
    if (a[1].type != EK_T_STRING) return func__type_err(e, "convert_tz", 1, "a time zone name", &a[1]);
    if (func__tz_convert(c, ek_str_ptr(&a[1]), ns, &local, e)) return e->code;
    if (__builtin_sub_overflow(local, zone_off(c, ns), &local))
        return ek_err_set(e, EK_EINVAL, "convert_tz: the result is out of the datetime range");
    *o = ek_datetime(local);
    return 0;
}

/* ---- calendar fields ---- */

typedef enum { F_DAY, F_WDAY, F_YDAY, F_HOUR, F_MIN, F_SEC, F_MICRO, F_MONTH, F_DAY_NAME, F_MONTH_NAME } field;

/* A calendar field of a[0] on the wall clock of basic.timezone (ctx->tz). */
static int field_of(const ek_func_ctx *ctx, const char *fn, field f, const ek_value *a, ek_value *o, ek_err *e)
{
    int64_t ns;
    if (a[0].type == EK_T_NULL) { *o = ek_null(); return 0; }
    if (func__arg_time(fn, a, 0, &ns, e)) return e->code;
    civil c = to_civil(ns + zone_off(ctx, ns));
    switch (f) {
    case F_DAY: *o = ek_int(c.day); break;
    case F_WDAY: *o = ek_int(c.wday + 1); break;
    case F_YDAY: *o = ek_int(c.yday); break;
    case F_HOUR: *o = ek_int(c.hour); break;
    case F_MIN: *o = ek_int(c.min); break;
    case F_SEC: *o = ek_int(c.sec); break;
    case F_MICRO: *o = ek_int(c.nsec / 1000); break;
    case F_MONTH: *o = ek_int(c.month); break;
    case F_DAY_NAME: *o = ek_string(day_names[c.wday]); break;
    case F_MONTH_NAME: *o = ek_string(month_names[c.month - 1]); break;
    }
    return 0;
}

static int f_day_of_month(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return field_of(c, "day_of_month", F_DAY, a, o, e); }
static int f_day_of_week(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return field_of(c, "day_of_week", F_WDAY, a, o, e); }
static int f_day_of_year(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return field_of(c, "day_of_year", F_YDAY, a, o, e); }
static int f_hour(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return field_of(c, "hour", F_HOUR, a, o, e); }
static int f_minute(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return field_of(c, "minute", F_MIN, a, o, e); }
static int f_second(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return field_of(c, "second", F_SEC, a, o, e); }
static int f_microsecond(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return field_of(c, "microsecond", F_MICRO, a, o, e); }
static int f_month(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return field_of(c, "month", F_MONTH, a, o, e); }
static int f_day_name(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return field_of(c, "day_name", F_DAY_NAME, a, o, e); }
static int f_month_name(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return field_of(c, "month_name", F_MONTH_NAME, a, o, e); }

const ek_func_def ek_funcs_time[] = {
    {"convert_tz", EK_FUNC_SCALAR, 2, 2, f_convert_tz, NULL, true},
    {"cur_date", EK_FUNC_SCALAR, 0, 0, f_cur_date, NULL, false},
    {"cur_time", EK_FUNC_SCALAR, 0, 1, f_cur_time, NULL, false},
    {"current_date", EK_FUNC_SCALAR, 0, 0, f_cur_date, NULL, false},
    {"current_time", EK_FUNC_SCALAR, 0, 1, f_cur_time, NULL, false},
    {"current_timestamp", EK_FUNC_SCALAR, 0, 1, f_now, NULL, false},
    {"date_calc", EK_FUNC_SCALAR, 2, 2, f_date_calc, NULL, true},
    {"date_diff", EK_FUNC_SCALAR, 2, 2, f_date_diff, NULL, true},
    {"day", EK_FUNC_SCALAR, 1, 1, f_day_of_month, NULL, true},
    {"day_name", EK_FUNC_SCALAR, 1, 1, f_day_name, NULL, true},
    {"day_of_month", EK_FUNC_SCALAR, 1, 1, f_day_of_month, NULL, true},
    {"day_of_week", EK_FUNC_SCALAR, 1, 1, f_day_of_week, NULL, true},
    {"day_of_year", EK_FUNC_SCALAR, 1, 1, f_day_of_year, NULL, true},
    {"format_time", EK_FUNC_SCALAR, 2, 2, f_format_time, NULL, true},
    {"from_days", EK_FUNC_SCALAR, 1, 1, f_from_days, NULL, true},
    {"from_unix_time", EK_FUNC_SCALAR, 1, 1, f_from_unix_time, NULL, true},
    {"hour", EK_FUNC_SCALAR, 1, 1, f_hour, NULL, true},
    {"last_day", EK_FUNC_SCALAR, 1, 1, f_last_day, NULL, true},
    {"local_time", EK_FUNC_SCALAR, 0, 1, f_now, NULL, false},
    {"local_timestamp", EK_FUNC_SCALAR, 0, 1, f_now, NULL, false},
    {"microsecond", EK_FUNC_SCALAR, 1, 1, f_microsecond, NULL, true},
    {"minute", EK_FUNC_SCALAR, 1, 1, f_minute, NULL, true},
    {"month", EK_FUNC_SCALAR, 1, 1, f_month, NULL, true},
    {"month_name", EK_FUNC_SCALAR, 1, 1, f_month_name, NULL, true},
    {"now", EK_FUNC_SCALAR, 0, 1, f_now, NULL, false},
    {"second", EK_FUNC_SCALAR, 1, 1, f_second, NULL, true},
    {"to_seconds", EK_FUNC_SCALAR, 1, 1, f_to_seconds, NULL, true},
    {NULL, 0, 0, 0, NULL, NULL, false},
};
