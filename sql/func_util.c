/* Helpers shared by every built-in function family: argument coercion with uniform error messages,
 * eKuiper's "print anything as a string" rule, datetime parsing and durations.
 * Keeping them in one place means every function names itself and the argument the same way when a
 * user passes the wrong type, and every family converts numbers and times alike. */
#include "sql/func_int.h"
#include "engine/codec_json.h"
#include "engine/mem.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int func__type_err(ek_err *err, const char *fn, int argi, const char *want, const ek_value *got)
{
    return ek_err_set(err, EK_ETYPE, "%s: argument %d must be %s, got %s", fn, argi + 1, want,
                      ek_type_name(got->type));
}

bool func__any_null(const ek_value *args, int n)
{
    for (int i = 0; i < n; i++)
        if (args[i].type == EK_T_NULL) return true;
    return false;
}

bool func__to_double(const ek_value *v, double *out)
{
    if (v->type == EK_T_INT) { *out = (double)v->i; return true; }
    if (v->type == EK_T_FLOAT) { *out = v->f; return true; }
    return false;
}

bool func__to_int(const ek_value *v, int64_t *out)
{
    if (v->type == EK_T_INT) { *out = v->i; return true; }
    if (v->type == EK_T_FLOAT && isfinite(v->f) && v->f == trunc(v->f) && fabs(v->f) < 9.2e18) {
        *out = (int64_t)v->f;
        return true;
    }
    return false;
}

int func__arg_double(const char *fn, const ek_value *args, int i, double *out, ek_err *err)
{
    if (func__to_double(&args[i], out)) return 0;
    return func__type_err(err, fn, i, "a number", &args[i]);
}

int func__arg_int(const char *fn, const ek_value *args, int i, int64_t *out, ek_err *err)
{
    if (func__to_int(&args[i], out)) return 0;
    return func__type_err(err, fn, i, "an integer", &args[i]);
}

int func__arg_str(const char *fn, const ek_value *args, int i, const char **s, size_t *len, ek_err *err)
{
    if (args[i].type != EK_T_STRING && args[i].type != EK_T_BYTES)
        return func__type_err(err, fn, i, "a string", &args[i]);
    *s = ek_str_ptr(&args[i]);
    *len = ek_str_len(&args[i]);
    return 0;
}

int func__check_word(const char *fn, const ek_func_arg_info *args, int nargs, int i, const char *const *words, ek_err *err)
{
    if (i >= nargs || !args[i].is_const) return 0;
    const ek_value *v = &args[i].value;
    if (v->type == EK_T_STRING)
        for (int k = 0; words[k]; k++)
            if (strcasecmp(ek_str_ptr(v), words[k]) == 0) return 0;
    ek_buf b = EK_BUF_INIT;
    for (int k = 0; words[k]; k++) ek_buf_printf(&b, "%s\"%s\"", k ? ", " : "", words[k]);
    ek_err_set(err, EK_EPLAN, "%s: argument %d must be one of %s", fn, i + 1, b.data);
    ek_buf_free(&b);
    return EK_EPLAN;
}

int func__check_bool(const char *fn, const ek_func_arg_info *args, int nargs, int i, ek_err *err)
{
    if (i >= nargs) return 0;
    ek_type t = args[i].is_const ? args[i].value.type : args[i].type;
    if (t == EK_T_NULL || t == EK_T_BOOL) return 0;
    return ek_err_set(err, EK_EPLAN, "%s: argument %d must be a bool, got %s", fn, i + 1, ek_type_name(t));
}

void func__append_str(const ek_value *v, ek_buf *b)
{
    char tmp[40];
    switch (v->type) {
    case EK_T_NULL: break;
    case EK_T_BOOL: ek_buf_puts(b, v->b ? "true" : "false"); break;
    case EK_T_INT: ek_buf_printf(b, "%" PRId64, v->i); break;
    case EK_T_FLOAT: ek_json_format_double(v->f, tmp); ek_buf_puts(b, tmp); break;
    case EK_T_STRING:
    case EK_T_BYTES: ek_buf_append(b, ek_str_ptr(v), ek_str_len(v)); break;
    case EK_T_DATETIME: ek_json_format_datetime(v->t, tmp); ek_buf_puts(b, tmp); break;
    case EK_T_ARRAY:
    case EK_T_OBJECT: ek_json_encode(v, 0, b); break;
    }
}

ek_value func__float_or_null(double f)
{
    return isnan(f) ? ek_null() : ek_float(f);
}

/* ---- UTF-8 ---- */

size_t func__utf8_decode(const char *s, size_t len, uint32_t *cp, bool *valid)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t n = u[0] < 0x80 ? 1 : (u[0] & 0xE0) == 0xC0 ? 2 : (u[0] & 0xF0) == 0xE0 ? 3 : (u[0] & 0xF8) == 0xF0 ? 4 : 0;
    uint32_t c = n == 1 ? u[0] : n == 2 ? (u[0] & 0x1Fu) : n == 3 ? (u[0] & 0x0Fu) : (u[0] & 0x07u);
    bool ok = n > 0 && n <= len;
    for (size_t i = 1; ok && i < n; i++) {
        if ((u[i] & 0xC0) != 0x80) ok = false;
        c = c << 6 | (u[i] & 0x3Fu);
    }
    static const uint32_t min_of[] = {0, 0, 0x80, 0x800, 0x10000};
    if (ok && (c < min_of[n] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))) ok = false;
    *valid = ok;
    *cp = ok ? c : u[0];
    return ok ? n : 1;
}

size_t func__utf8_encode(uint32_t cp, char out[4])
{
    if (cp < 0x80) { out[0] = (char)cp; return 1; }
    if (cp < 0x800) { out[0] = (char)(0xC0 | (cp >> 6)); out[1] = (char)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* ---- calendar ---- */

int64_t func__days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void func__civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* ---- datetime parsing ---- */

/* Reads between 1 and n digits at *p into *out (n exactly when exact). */
static bool digits_n(const char **p, const char *end, int n, bool exact, int *out)
{
    int v = 0, k = 0;
    while (k < n && *p < end && isdigit((unsigned char)**p)) {
        v = v * 10 + (*(*p)++ - '0');
        k++;
    }
    *out = v;
    return exact ? k == n : k > 0;
}

static bool digits(const char **p, const char *end, int n, int *out) { return digits_n(p, end, n, true, out); }
static bool digits12(const char **p, const char *end, int *out) { return digits_n(p, end, 2, false, out); }

/* Optional zone suffix: Z, +hh:mm, +hhmm, +hh. Sets *off_sec. */
static bool zone(const char **p, const char *end, int64_t *off_sec)
{
    *off_sec = 0;
    if (*p == end) return true;
    if (**p == 'Z' || **p == 'z') { (*p)++; return true; }
    if (**p == ' ' && end - *p == 4 && strncmp(*p, " UTC", 4) == 0) { *p = end; return true; }
    if (**p != '+' && **p != '-') return false;
    int sign = **p == '-' ? -1 : 1, hh, mm = 0;
    (*p)++;
    if (!digits(p, end, 2, &hh)) return false;
    if (*p < end && **p == ':') (*p)++;
    if (*p < end && !digits(p, end, 2, &mm)) return false;
    *off_sec = sign * (hh * 3600 + mm * 60);
    return true;
}

bool func__parse_time(const char *s, size_t len, int64_t *ns)
{
    const char *p = s, *end = s + len;
    while (p < end && isspace((unsigned char)*p)) p++;
    while (end > p && isspace((unsigned char)end[-1])) end--;
    int y, mo = 1, d = 1, h = 0, mi = 0, sec = 0;
    int64_t frac = 0, off = 0;
    /* 2006, 2006-01, 2006-1-2, 2006/01/02, then [T or space] 15[:04[:05[.999999999]]] */
    if (!digits(&p, end, 4, &y)) return false;
    if (p < end && (*p == '-' || *p == '/')) {
        char sep = *p++;
        if (!digits12(&p, end, &mo)) return false;
        if (p < end && *p == sep) {
            p++;
            if (!digits12(&p, end, &d)) return false;
        }
    }
    if (p < end && (*p == 'T' || *p == ' ') && p + 1 < end && isdigit((unsigned char)p[1])) {
        p++;
        if (!digits12(&p, end, &h)) return false;
        if (p < end && *p == ':') {
            p++;
            if (!digits12(&p, end, &mi)) return false;
        }
        if (p < end && *p == ':') {
            p++;
            if (!digits12(&p, end, &sec)) return false;
            if (p < end && (*p == '.' || *p == ',')) {
                p++;
                int n = 0;
                for (; p < end && isdigit((unsigned char)*p); p++, n++)
                    if (n < 9) frac = frac * 10 + (*p - '0');
                if (n == 0) return false;
                for (; n < 9; n++) frac *= 10;
            }
        }
    }
    if (!zone(&p, end, &off) || p != end) return false;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return false;
    int64_t days = func__days_from_civil(y, mo, d);
    *ns = ((days * 86400 + h * 3600 + mi * 60 + sec) - off) * EK_NS_PER_SEC + frac;
    return true;
}

int func__arg_time(const char *fn, const ek_value *args, int i, int64_t *ns, ek_err *err)
{
    const ek_value *v = &args[i];
    switch (v->type) {
    case EK_T_DATETIME: *ns = v->t; return 0;
    case EK_T_INT:
        if (__builtin_mul_overflow(v->i, EK_NS_PER_MS, ns)) break;
        return 0;
    case EK_T_FLOAT:
        if (!(fabs(v->f) < 9.2e12)) break;
        *ns = (int64_t)v->f * EK_NS_PER_MS;
        return 0;
    case EK_T_STRING:
        if (func__parse_time(ek_str_ptr(v), ek_str_len(v), ns)) return 0;
        return ek_err_set(err, EK_EINVAL, "%s: argument %d: cannot parse \"%s\" as a datetime", fn,
                          i + 1, ek_str_ptr(v));
    default: return func__type_err(err, fn, i, "a datetime", v);
    }
    return ek_err_set(err, EK_EINVAL, "%s: argument %d is out of the datetime range", fn, i + 1);
}

/* ---- durations ---- */

static const struct { const char *unit; int64_t ns; } units[] = {
    {"ns", 1}, {"us", 1000}, {"\xc2\xb5s", 1000}, {"\xce\xbcs", 1000}, {"ms", 1000000},
    {"s", EK_NS_PER_SEC}, {"m", 60 * EK_NS_PER_SEC}, {"h", 3600 * EK_NS_PER_SEC},
};

bool func__parse_duration(const char *s, int64_t *ns)
{
    int sign = 1;
    if (*s == '-' || *s == '+') sign = *s++ == '-' ? -1 : 1;
    if (strcmp(s, "0") == 0) { *ns = 0; return true; }
    if (!*s) return false;
    double total = 0;
    while (*s) {
        if (!isdigit((unsigned char)*s) && *s != '.') return false;
        char *e;
        double n = strtod(s, &e);
        if (e == s) return false;
        s = e;
        size_t best = 0;
        int64_t mult = 0;
        for (size_t k = 0; k < sizeof units / sizeof units[0]; k++) {
            size_t ul = strlen(units[k].unit);
            if (strncmp(s, units[k].unit, ul) == 0 && ul > best) { best = ul; mult = units[k].ns; }
        }
        if (!best) return false;
        s += best;
        total += n * (double)mult;
    }
    if (total > 9.2e18) return false;
    *ns = sign * (int64_t)total;
    return true;
}
