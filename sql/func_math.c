/* Mathematical SQL functions (eKuiper docs: sqls/functions/mathematical_functions.md).
 * They take numbers and return numbers. As in eKuiper, integers stay integers only where the
 * operation keeps them so (abs, sign, the bit operations); everything computed through floating
 * point returns a float, and a NaN result (acos(2)) becomes null. Null in gives null out. */
#include "sql/func_int.h"
#include "engine/buf.h"
#include "engine/mem.h"

#include <ctype.h>
#include <math.h>
#include <string.h>
#include <time.h>

/* Applies fn to the single numeric argument; NaN becomes null. */
static int unary(const char *name, double (*fn)(double), const ek_value *args, ek_value *out, ek_err *err)
{
    double x;
    if (args[0].type == EK_T_NULL) { *out = ek_null(); return 0; }
    if (func__arg_double(name, args, 0, &x, err)) return err->code;
    *out = func__float_or_null(fn(x));
    return 0;
}

static double deg2rad(double x) { return x * (M_PI / 180.0); }
static double rad2deg(double x) { return x * (180.0 / M_PI); }

static int f_acos(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return unary("acos", acos, a, o, e); }
static int f_asin(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return unary("asin", asin, a, o, e); }
static int f_atan(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return unary("atan", atan, a, o, e); }
static int f_ceiling(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return unary("ceiling", ceil, a, o, e); }
static int f_cos(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return unary("cos", cos, a, o, e); }
static int f_cosh(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return unary("cosh", cosh, a, o, e); }
static int f_exp(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return unary("exp", exp, a, o, e); }
static int f_floor(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return unary("floor", floor, a, o, e); }
static int f_sin(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return unary("sin", sin, a, o, e); }
static int f_sinh(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return unary("sinh", sinh, a, o, e); }
static int f_tan(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return unary("tan", tan, a, o, e); }
static int f_tanh(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return unary("tanh", tanh, a, o, e); }
static int f_radians(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return unary("radians", deg2rad, a, o, e); }
static int f_degrees(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return unary("degrees", rad2deg, a, o, e); }

/* Applies fn to two numeric arguments; null when either is null, NaN becomes null. */
static int binary(const char *name, double (*fn)(double, double), const ek_value *args, ek_value *out, ek_err *err)
{
    double x, y;
    if (func__any_null(args, 2)) { *out = ek_null(); return 0; }
    if (func__arg_double(name, args, 0, &x, err) || func__arg_double(name, args, 1, &y, err)) return err->code;
    *out = func__float_or_null(fn(x, y));
    return 0;
}

static int f_atan2(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return binary("atan2", atan2, a, o, e); }
static int f_mod(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return binary("mod", fmod, a, o, e); }
static int f_power(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return binary("power", pow, a, o, e); }

static int f_abs(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    if (a[0].type == EK_T_INT && a[0].i != INT64_MIN) { *o = ek_int(a[0].i < 0 ? -a[0].i : a[0].i); return 0; }
    return unary("abs", fabs, a, o, e);
}

static int f_sign(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    double x;
    if (a[0].type == EK_T_NULL) { *o = ek_null(); return 0; }
    if (func__arg_double("sign", a, 0, &x, e)) return e->code;
    *o = ek_int(x > 0 ? 1 : x < 0 ? -1 : 0);
    return 0;
}

static int f_ln(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    double x;
    if (a[0].type == EK_T_NULL) { *o = ek_null(); return 0; }
    if (func__arg_double("ln", a, 0, &x, e)) return e->code;
    if (!(x > 0)) return ek_err_set(e, EK_EEXEC, "ln: the argument must be a strictly positive number, got %g", x);
    *o = ek_float(log(x));
    return 0;
}

static int f_sqrt(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    double x;
    if (a[0].type == EK_T_NULL) { *o = ek_null(); return 0; }
    if (func__arg_double("sqrt", a, 0, &x, e)) return e->code;
    if (x < 0) return ek_err_set(e, EK_EEXEC, "sqrt: the argument must be a positive number, got %g", x);
    *o = ek_float(sqrt(x));
    return 0;
}

/* log(x) is base 10; log(b, x) is base b. Documented: null when x <= 0 or b <= 1... */
static int f_log(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    double b = 10, x;
    if (func__any_null(a, n)) { *o = ek_null(); return 0; }
    if (n == 2 && func__arg_double("log", a, 0, &b, e)) return e->code;
    if (func__arg_double("log", a, n - 1, &x, e)) return e->code;
    if (x <= 0 || b <= 0 || b == 1) { *o = ek_null(); return 0; }
    *o = ek_float(n == 1 ? log10(x) : log(x) / log(b));
    return 0;
}

static int f_cot(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    double x;
    if (a[0].type == EK_T_NULL) { *o = ek_null(); return 0; }
    if (func__arg_double("cot", a, 0, &x, e)) return e->code;
    double t = tan(x);
    if (t == 0) return ek_err_set(e, EK_EEXEC, "cot: out-of-range error");
    *o = func__float_or_null(1.0 / t);
    return 0;
}

static int f_pi(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    *o = ek_float(M_PI);
    return 0;
}

/* A per-thread generator: rand() must not share state between worker threads. */
static _Thread_local uint64_t rng_state;

static int f_rand(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    if (!rng_state) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        rng_state = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ (uint64_t)(uintptr_t)&rng_state;
    }
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);  /* splitmix64 */
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    *o = ek_float((double)(z >> 11) / 9007199254740992.0);
    return 0;
}

static int f_round(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    double x;
    int64_t digits = 0;
    if (func__any_null(a, n)) { *o = ek_null(); return 0; }
    if (func__arg_double("round", a, 0, &x, e)) return e->code;
    if (n == 2 && func__arg_int("round", a, 1, &digits, e)) return e->code;
    if (digits > 300) digits = 300;
    if (digits < -300) digits = -300;
    double f = pow(10, (double)digits), scaled = x * f;
    *o = ek_float(isinf(scaled) ? x : round(scaled) / f);
    return 0;
}

/* ---- bit operations on integers ---- */

typedef enum { BIT_AND, BIT_OR, BIT_XOR } bitop;

static int bits(const char *name, bitop op, const ek_value *a, ek_value *o, ek_err *e)
{
    int64_t x, y;
    if (func__any_null(a, 2)) { *o = ek_null(); return 0; }
    if (func__arg_int(name, a, 0, &x, e) || func__arg_int(name, a, 1, &y, e)) return e->code;
    *o = ek_int(op == BIT_AND ? (x & y) : op == BIT_OR ? (x | y) : (x ^ y));
    return 0;
}

static int f_bitand(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return bits("bitand", BIT_AND, a, o, e); }
static int f_bitor(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return bits("bitor", BIT_OR, a, o, e); }
static int f_bitxor(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return bits("bitxor", BIT_XOR, a, o, e); }

static int f_bitnot(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    int64_t x;
    if (a[0].type == EK_T_NULL) { *o = ek_null(); return 0; }
    if (func__arg_int("bitnot", a, 0, &x, e)) return e->code;
    *o = ek_int(~x);
    return 0;
}

/* ---- conv(n, from_base, to_base), as MySQL's CONV ---- */

static int digit_of(int ch)
{
    if (isdigit(ch)) return ch - '0';
    if (isalpha(ch)) return toupper(ch) - 'A' + 10;
    return 99;
}

static int f_conv(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    int64_t from, to;
    if (func__any_null(a, 3)) { *o = ek_null(); return 0; }
    if (func__arg_int("conv", a, 1, &from, e) || func__arg_int("conv", a, 2, &to, e)) return e->code;
    bool is_signed = from < 0, show_sign = to < 0;
    if (from < 0) from = -from;
    if (to < 0) to = -to;
    if (from < 2 || from > 36 || to < 2 || to > 36) { *o = ek_null(); return 0; }
    ek_buf num = EK_BUF_INIT;
    func__append_str(&a[0], &num);
    const char *p = num.data ? num.data : "";
    while (isspace((unsigned char)*p)) p++;
    bool neg = false;
    if (*p == '-' || *p == '+') neg = *p++ == '-';
    uint64_t val = 0;
    bool overflow = false;
    for (; *p && digit_of((unsigned char)*p) < from; p++) {
        uint64_t d = (uint64_t)digit_of((unsigned char)*p);
        if (val > (UINT64_MAX - d) / (uint64_t)from) overflow = true;
        val = val * (uint64_t)from + d;
    }
    ek_buf_free(&num);
    if (overflow) return ek_err_set(e, EK_EEXEC, "conv: value out of range");
    if (is_signed) {
        if (neg && val > (uint64_t)INT64_MAX + 1) val = (uint64_t)INT64_MAX + 1;
        if (!neg && val > (uint64_t)INT64_MAX) val = (uint64_t)INT64_MAX;
    }
    if (neg) val = (uint64_t)0 - val;
    bool out_neg = show_sign && (int64_t)val < 0;
    if (out_neg) val = (uint64_t)0 - val;
    char buf[80];
    int i = (int)sizeof buf;
    buf[--i] = 0;
    do {
        buf[--i] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[val % (uint64_t)to];
        val /= (uint64_t)to;
    } while (val);
    if (out_neg) buf[--i] = '-';
    *o = ek_string(buf + i);
    return 0;
}

const ek_func_def ek_funcs_math[] = {
    {"abs", EK_FUNC_SCALAR, 1, 1, f_abs, NULL, true},
    {"acos", EK_FUNC_SCALAR, 1, 1, f_acos, NULL, true},
    {"asin", EK_FUNC_SCALAR, 1, 1, f_asin, NULL, true},
    {"atan", EK_FUNC_SCALAR, 1, 1, f_atan, NULL, true},
    {"atan2", EK_FUNC_SCALAR, 2, 2, f_atan2, NULL, true},
    {"bitand", EK_FUNC_SCALAR, 2, 2, f_bitand, NULL, true},
    {"bitor", EK_FUNC_SCALAR, 2, 2, f_bitor, NULL, true},
    {"bitxor", EK_FUNC_SCALAR, 2, 2, f_bitxor, NULL, true},
    {"bitnot", EK_FUNC_SCALAR, 1, 1, f_bitnot, NULL, true},
    {"ceil", EK_FUNC_SCALAR, 1, 1, f_ceiling, NULL, true},
    {"ceiling", EK_FUNC_SCALAR, 1, 1, f_ceiling, NULL, true},
    {"conv", EK_FUNC_SCALAR, 3, 3, f_conv, NULL, true},
    {"cos", EK_FUNC_SCALAR, 1, 1, f_cos, NULL, true},
    {"cosh", EK_FUNC_SCALAR, 1, 1, f_cosh, NULL, true},
    {"cot", EK_FUNC_SCALAR, 1, 1, f_cot, NULL, true},
    {"degrees", EK_FUNC_SCALAR, 1, 1, f_degrees, NULL, true},
    {"exp", EK_FUNC_SCALAR, 1, 1, f_exp, NULL, true},
    {"floor", EK_FUNC_SCALAR, 1, 1, f_floor, NULL, true},
    {"ln", EK_FUNC_SCALAR, 1, 1, f_ln, NULL, true},
    {"log", EK_FUNC_SCALAR, 1, 2, f_log, NULL, true},
    {"mod", EK_FUNC_SCALAR, 2, 2, f_mod, NULL, true},
    {"pi", EK_FUNC_SCALAR, 0, 0, f_pi, NULL, true},
    {"pow", EK_FUNC_SCALAR, 2, 2, f_power, NULL, true},
    {"power", EK_FUNC_SCALAR, 2, 2, f_power, NULL, true},
    {"radians", EK_FUNC_SCALAR, 1, 1, f_radians, NULL, true},
    {"rand", EK_FUNC_SCALAR, 0, 0, f_rand, NULL, false},
    {"round", EK_FUNC_SCALAR, 1, 2, f_round, NULL, true},
    {"sign", EK_FUNC_SCALAR, 1, 1, f_sign, NULL, true},
    {"sin", EK_FUNC_SCALAR, 1, 1, f_sin, NULL, true},
    {"sinh", EK_FUNC_SCALAR, 1, 1, f_sinh, NULL, true},
    {"sqrt", EK_FUNC_SCALAR, 1, 1, f_sqrt, NULL, true},
    {"tan", EK_FUNC_SCALAR, 1, 1, f_tan, NULL, true},
    {"tanh", EK_FUNC_SCALAR, 1, 1, f_tanh, NULL, true},
    {NULL, 0, 0, 0, NULL, NULL, false},
};
