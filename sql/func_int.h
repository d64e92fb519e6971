/* Private to the built-in function library (sql/func_*.c): the family tables the registry joins,
 * and the few helpers every family needs so that argument coercion and error messages read the
 * same in all of them ("lower: argument 1 must be string, got bigint").
 * Nothing outside sql/func_*.c includes this header, but for sql/eval_time.c, which shares the
 * calendar arithmetic. */
#ifndef EK_SQL_FUNC_INT_H
#define EK_SQL_FUNC_INT_H

#include "engine/buf.h"
#include "sql/func.h"

#include <stdbool.h>
#include <stdint.h>

extern const ek_func_def ek_funcs_math[];
extern const ek_func_def ek_funcs_str[];
extern const ek_func_def ek_funcs_conv[];
extern const ek_func_def ek_funcs_hash[];
extern const ek_func_def ek_funcs_json[];
extern const ek_func_def ek_funcs_array[];
extern const ek_func_def ek_funcs_obj[];
extern const ek_func_def ek_funcs_time[];
extern const ek_func_def ek_funcs_agg[];
extern const ek_func_def ek_funcs_analytic[];
extern const ek_func_def ek_funcs_other[];
extern const ek_func_def ek_funcs_multirow[];

#define EK_NS_PER_MS INT64_C(1000000)
#define EK_NS_PER_SEC INT64_C(1000000000)

/* Fills err with EK_ETYPE: "<fn>: argument <argi+1> must be <want>, got <type of got>". */
int func__type_err(ek_err *err, const char *fn, int argi, const char *want, const ek_value *got);
/* True when any of the n arguments is null. */
bool func__any_null(const ek_value *args, int n);

/* Numeric views. to_double accepts int and float; to_int accepts int and a float with no
 * fraction. Both return false for anything else. */
bool func__to_double(const ek_value *v, double *out);
bool func__to_int(const ek_value *v, int64_t *out);
/* The same, filling err with a type error naming fn and the argument on failure. */
int func__arg_double(const char *fn, const ek_value *args, int i, double *out, ek_err *err);
int func__arg_int(const char *fn, const ek_value *args, int i, int64_t *out, ek_err *err);
/* The argument as a borrowed string (string or bytes), or a type error. */
int func__arg_str(const char *fn, const ek_value *args, int i, const char **s, size_t *len, ek_err *err);

/* Bind-time checks (ek_func_check helpers). Each returns 0 when argument i is not a constant or is
 * acceptable, else EK_EPLAN with err naming fn and the argument. */
int func__check_word(const char *fn, const ek_func_arg_info *args, int nargs, int i, const char *const *words, ek_err *err);
int func__check_bool(const char *fn, const ek_func_arg_info *args, int nargs, int i, ek_err *err);

/* Appends v as eKuiper's ToStringAlways prints it: strings as they are, numbers as Go prints them,
 * booleans true/false, datetimes RFC 3339, containers as JSON, null as "". */
void func__append_str(const ek_value *v, ek_buf *b);
/* A float result the way eKuiper returns one: NaN becomes null. */
ek_value func__float_or_null(double f);

/* Datetime coercion as eKuiper's cast.InterfaceToTime: a datetime is itself, a number is
 * milliseconds since the epoch, a string is parsed (RFC 3339, "YYYY-MM-DD HH:MM:SS[.f]",
 * "YYYY-MM-DD", with '/' date separators too). Returns 0 or a type error naming fn and the argument. */
int func__arg_time(const char *fn, const ek_value *args, int i, int64_t *ns, ek_err *err);
/* Parses a datetime string as above; returns false when no format matches. */
bool func__parse_time(const char *s, size_t len, int64_t *ns);
/* Formats ns (UTC) with eKuiper's Java-like pattern letters (see func_time.c); returns 0 or
 * EK_EINVAL for a bad pattern, naming fn. */
int func__format_time(const char *fn, int64_t ns, const char *pattern, ek_buf *out, ek_err *err);

/* UTF-8: decodes the code point at s (len > 0 bytes left) into *cp and returns its length; an
 * invalid byte decodes as itself with length 1 (so it passes through unchanged). */
size_t func__utf8_decode(const char *s, size_t len, uint32_t *cp, bool *valid);
/* Encodes cp (<= 0x10FFFF, not a surrogate) into out; returns the length 1-4. */
size_t func__utf8_encode(uint32_t cp, char out[4]);

/* Proleptic Gregorian calendar: days since 1970-01-01 for a civil date, and back. */
int64_t func__days_from_civil(int64_t y, int m, int d);
void func__civil_from_days(int64_t days, int64_t *y, int *m, int *d);

/* The wall-clock time of the instant ns in the IANA zone name ("Asia/Shanghai", "UTC", "Local"),
 * as ns shifted by the zone's offset at that instant; the parsed zone is cached in ctx->cache
 * (func_tz.c). Returns 0, or EK_EINVAL naming convert_tz for an unknown zone. */
int func__tz_convert(ek_func_ctx *ctx, const char *name, int64_t ns, int64_t *out, ek_err *err);

/* Go's time.ParseDuration: "1h30m", "-1.5s", "200us"; returns false on a syntax error. */
bool func__parse_duration(const char *s, int64_t *ns);

#endif
