/* Aggregate SQL functions (eKuiper docs: sqls/functions/aggregate_functions.md).
 * Each argument arrives as an EK_T_ARRAY holding that argument evaluated over every row of the
 * group (func.h). For `*` the compiler passes each row's message object, so count(*) counts rows and
 * collect(*) / merge_agg(*) see whole rows. Nulls are ignored. Types follow eKuiper: over integers
 * sum is an integer and avg truncates (16 / 5 gives 3); once a float is seen the result is a float.
 * Statistics (stddev, var, percentiles) follow the Go stats package eKuiper uses. */
#include "sql/func_int.h"
#include "engine/mem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The group's values of argument i; every aggregate argument must be an array. */
static int group_of(const char *fn, const ek_value *a, int i, ek_err *e)
{
    return a[i].type == EK_T_ARRAY ? 0 : ek_err_set(e, EK_EINVAL, "%s: argument %d must be the group's values (an array), got %s", fn, i + 1, ek_type_name(a[i].type));
}

/* First non-null value of a group argument (a constant's value), or NULL. */
static const ek_value *first_valid(const ek_value *arr)
{
    for (size_t i = 0; i < ek_array_len(arr); i++)
        if (ek_array_get(arr, i)->type != EK_T_NULL) return ek_array_get(arr, i);
    return NULL;
}

/* Collects the non-null numbers of arr as doubles; fails on any other type. */
static int numbers(const char *fn, const ek_value *arr, double **out, size_t *n, bool *all_int, ek_err *e)
{
    *out = ek_malloc((ek_array_len(arr) + 1) * sizeof **out);
    *n = 0;
    *all_int = true;
    for (size_t i = 0; i < ek_array_len(arr); i++) {
        const ek_value *v = ek_array_get(arr, i);
        if (v->type == EK_T_NULL) continue;
        if (!ek_is_number(v)) {
            ek_free(*out);
            *out = NULL;
            return ek_err_set(e, EK_ETYPE, "%s: found a %s value, expected a number", fn, ek_type_name(v->type));
        }
        if (v->type == EK_T_FLOAT) *all_int = false;
        (*out)[(*n)++] = v->type == EK_T_INT ? (double)v->i : v->f;
    }
    return 0;
}

/* ---- sum, avg, count ---- */

static int total(const char *fn, bool average, const ek_value *a, ek_value *o, ek_err *e)
{
    if (group_of(fn, a, 0, e)) return e->code;
    int64_t isum = 0, count = 0;
    double fsum = 0;
    bool is_float = false;
    for (size_t i = 0; i < ek_array_len(&a[0]); i++) {
        const ek_value *v = ek_array_get(&a[0], i);
        if (v->type == EK_T_NULL) continue;
        if (!ek_is_number(v)) return ek_err_set(e, EK_ETYPE, "%s: found a %s value, expected a number", fn, ek_type_name(v->type));
        /* A float, or an integer sum leaving int64, continues in floating point. */
        int64_t next;
        if (!is_float && v->type == EK_T_INT && !__builtin_add_overflow(isum, v->i, &next)) {
            isum = next;
            count++;
            continue;
        }
        if (!is_float) { is_float = true; fsum = (double)isum; }
        fsum += v->type == EK_T_INT ? (double)v->i : v->f;
        count++;
    }
    if (count == 0) { *o = ek_null(); return 0; }
    if (average) *o = is_float ? ek_float(fsum / (double)count) : ek_int(isum / count);
    else *o = is_float ? ek_float(fsum) : ek_int(isum);
    return 0;
}

static int f_sum(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return total("sum", false, a, o, e); }
static int f_avg(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return total("avg", true, a, o, e); }

static int f_count(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    if (group_of("count", a, 0, e)) return e->code;
    int64_t k = 0;
    for (size_t i = 0; i < ek_array_len(&a[0]); i++) k += ek_array_get(&a[0], i)->type != EK_T_NULL;
    *o = ek_int(k);
    return 0;
}

/* max / min: numbers compare with numbers, strings with strings; mixing is an error. */
static int extreme(const char *fn, int sign, const ek_value *a, ek_value *o, ek_err *e)
{
    if (group_of(fn, a, 0, e)) return e->code;
    const ek_value *best = NULL;
    for (size_t i = 0; i < ek_array_len(&a[0]); i++) {
        const ek_value *v = ek_array_get(&a[0], i);
        if (v->type == EK_T_NULL) continue;
        bool num = ek_is_number(v);
        if (!num && v->type != EK_T_STRING && v->type != EK_T_DATETIME && v->type != EK_T_BOOL)
            return ek_err_set(e, EK_ETYPE, "%s: cannot compare %s values", fn, ek_type_name(v->type));
        if (best && num != ek_is_number(best) && (num || best->type != v->type))
            return ek_err_set(e, EK_ETYPE, "%s: cannot compare %s with %s", fn, ek_type_name(best->type), ek_type_name(v->type));
        if (!best || ek_value_compare(v, best) * sign > 0) best = v;
    }
    *o = best ? ek_value_ref(best) : ek_null();
    return 0;
}

static int f_max(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return extreme("max", 1, a, o, e); }
static int f_min(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return extreme("min", -1, a, o, e); }

/* ---- collecting ---- */

static int f_collect(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    if (group_of("collect", a, 0, e)) return e->code;
    *o = ek_value_ref(&a[0]);
    return 0;
}

/* merge_agg: the union of the group's objects' keys, later rows winning; non-objects ignored. */
static int f_merge_agg(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    if (group_of("merge_agg", a, 0, e)) return e->code;
    *o = ek_object_new(0);
    for (size_t i = 0; i < ek_array_len(&a[0]); i++) {
        const ek_value *v = ek_array_get(&a[0], i);
        if (v->type != EK_T_OBJECT) continue;
        for (size_t k = 0; k < ek_object_len(v); k++) ek_object_set(o, ek_object_key(v, k), ek_value_ref(ek_object_val(v, k)));
    }
    return 0;
}

/* last_value(col, ignoreNull) */
static int f_last_value(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    if (group_of("last_value", a, 0, e) || group_of("last_value", a, 1, e)) return e->code;
    size_t len = ek_array_len(&a[0]);
    if (len == 0) { *o = ek_null(); return 0; }
    const ek_value *flag = first_valid(&a[1]);
    if (!flag || flag->type != EK_T_BOOL) return ek_err_set(e, EK_ETYPE, "last_value: argument 2 must be a bool");
    if (flag->b)
        for (size_t i = len; i-- > 0;)
            if (ek_array_get(&a[0], i)->type != EK_T_NULL) { *o = ek_value_ref(ek_array_get(&a[0], i)); return 0; }
    *o = ek_value_ref(ek_array_get(&a[0], len - 1));
    return 0;
}

/* deduplicate(col, all[, rows]): the compiler appends the group's whole rows as a third argument.
 * all: every row whose key was not seen earlier; otherwise the last row if its key is new, else {}. */
static int f_deduplicate(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    for (int i = 0; i < n; i++)
        if (group_of("deduplicate", a, i, e)) return e->code;
    const ek_value *keys = &a[0], *rows = n == 3 ? &a[2] : &a[0];
    const ek_value *flag = first_valid(&a[1]);
    if (!flag || flag->type != EK_T_BOOL) return ek_err_set(e, EK_ETYPE, "deduplicate: argument 2 must be a bool");
    size_t len = ek_array_len(keys);
    if (ek_array_len(rows) != len) return ek_err_set(e, EK_EINVAL, "deduplicate: the rows and keys differ in number");
    if (!flag->b) {
        if (len == 0) { *o = ek_object_new(0); return 0; }
        const ek_value *last = ek_array_get(keys, len - 1);
        for (size_t i = 0; i + 1 < len; i++)
            if (ek_value_equal(ek_array_get(keys, i), last)) { *o = ek_object_new(0); return 0; }
        *o = ek_value_ref(ek_array_get(rows, len - 1));
        return 0;
    }
    *o = ek_array_new(len);
    for (size_t i = 0; i < len; i++) {
        bool seen = false;
        for (size_t k = 0; k < i && !seen; k++) seen = ek_value_equal(ek_array_get(keys, k), ek_array_get(keys, i));
        if (!seen) ek_array_push(o, ek_value_ref(ek_array_get(rows, i)));
    }
    return 0;
}

/* ---- statistics ---- */

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

typedef enum { ST_STDDEV, ST_STDDEVS, ST_VAR, ST_VARS } stat_kind;

static int spread(const char *fn, stat_kind k, const ek_value *a, ek_value *o, ek_err *e)
{
    double *xs;
    size_t n;
    bool all_int;
    if (group_of(fn, a, 0, e) || numbers(fn, &a[0], &xs, &n, &all_int, e)) return e->code;
    bool sample = k == ST_STDDEVS || k == ST_VARS;
    if (n == 0 || (sample && n < 2)) { ek_free(xs); *o = ek_null(); return 0; }
    double mean = 0, ss = 0;
    for (size_t i = 0; i < n; i++) mean += xs[i];
    mean /= (double)n;
    for (size_t i = 0; i < n; i++) ss += (xs[i] - mean) * (xs[i] - mean);
    double var = ss / (double)(sample ? n - 1 : n);
    *o = ek_float(k == ST_STDDEV || k == ST_STDDEVS ? sqrt(var) : var);
    ek_free(xs);
    return 0;
}

static int f_stddev(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return spread("stddev", ST_STDDEV, a, o, e); }
static int f_stddevs(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return spread("stddevs", ST_STDDEVS, a, o, e); }
static int f_var(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return spread("var", ST_VAR, a, o, e); }
static int f_vars(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return spread("vars", ST_VARS, a, o, e); }

static int f_median(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    double *xs;
    size_t len;
    bool all_int;
    if (group_of("median", a, 0, e) || numbers("median", &a[0], &xs, &len, &all_int, e)) return e->code;
    if (len == 0) { ek_free(xs); *o = ek_int(0); return 0; }
    qsort(xs, len, sizeof *xs, cmp_double);
    double m = len % 2 ? xs[len / 2] : (xs[len / 2 - 1] + xs[len / 2]) / 2;
    *o = ek_float(m);
    ek_free(xs);
    return 0;
}

/* percentile_cont / percentile_disc (col, p), p in (0, 1]. */
static int percentile(const char *fn, bool discrete, const ek_value *a, ek_value *o, ek_err *e)
{
    double *xs, p = 1;
    size_t len;
    bool all_int;
    if (group_of(fn, a, 0, e) || group_of(fn, a, 1, e)) return e->code;
    const ek_value *pv = first_valid(&a[1]);
    if (pv && !func__to_double(pv, &p)) return ek_err_set(e, EK_ETYPE, "%s: argument 2 must be a number, got %s", fn, ek_type_name(pv->type));
    if (numbers(fn, &a[0], &xs, &len, &all_int, e)) return e->code;
    if (len == 0) { ek_free(xs); *o = ek_null(); return 0; }
    double pct = p * 100;
    if (pct <= 0 || pct > 100) { ek_free(xs); return ek_err_set(e, EK_EINVAL, "%s: the percentile must be in (0, 1], got %g", fn, p); }
    qsort(xs, len, sizeof *xs, cmp_double);
    double r;
    if (discrete) {
        size_t rank = (size_t)ceil((double)len * pct / 100);
        r = pct == 100 ? xs[len - 1] : xs[rank ? rank - 1 : 0];
    } else {
        double idx = pct / 100 * (double)len;
        size_t i = (size_t)idx;
        if (idx == (double)i) r = xs[i - 1];
        else if (idx > 1) r = (xs[i - 1] + xs[i]) / 2;
        else { ek_free(xs); return ek_err_set(e, EK_EINVAL, "%s: the percentile %g is out of bounds for %zu values", fn, p, len); }
    }
    ek_free(xs);
    *o = ek_float(r);
    return 0;
}

static int f_percentile_cont(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return percentile("percentile_cont", false, a, o, e); }
static int f_percentile_disc(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return percentile("percentile_disc", true, a, o, e); }

/* ---- bind-time checks ---- */

static int last_value_check(const ek_func_arg_info *args, int nargs, ek_err *err) { return func__check_bool("last_value", args, nargs, 1, err); }
static int deduplicate_check(const ek_func_arg_info *args, int nargs, ek_err *err) { return func__check_bool("deduplicate", args, nargs, 1, err); }

/* The percentile, when a constant (eKuiper requires one), must be in (0, 1]. */
static int check_percent(const char *fn, const ek_func_arg_info *args, int nargs, ek_err *err)
{
    double p;
    if (nargs < 2 || !args[1].is_const) return 0;
    if (!func__to_double(&args[1].value, &p) || p <= 0 || p > 1)
        return ek_err_set(err, EK_EPLAN, "%s: argument 2 must be a number in (0, 1]", fn);
    return 0;
}

static int percentile_cont_check(const ek_func_arg_info *args, int nargs, ek_err *err) { return check_percent("percentile_cont", args, nargs, err); }
static int percentile_disc_check(const ek_func_arg_info *args, int nargs, ek_err *err) { return check_percent("percentile_disc", args, nargs, err); }

const ek_func_def ek_funcs_agg[] = {
    {"avg", EK_FUNC_AGGREGATE, 1, 1, f_avg, NULL, false},
    {"collect", EK_FUNC_AGGREGATE, 1, 1, f_collect, NULL, false},
    {"count", EK_FUNC_AGGREGATE, 1, 1, f_count, NULL, false},
    {"deduplicate", EK_FUNC_AGGREGATE, 2, 3, f_deduplicate, deduplicate_check, false},
    {"last_value", EK_FUNC_AGGREGATE, 2, 2, f_last_value, last_value_check, false},
    {"max", EK_FUNC_AGGREGATE, 1, 1, f_max, NULL, false},
    {"median", EK_FUNC_AGGREGATE, 1, 1, f_median, NULL, false},
    {"merge_agg", EK_FUNC_AGGREGATE, 1, 1, f_merge_agg, NULL, false},
    {"min", EK_FUNC_AGGREGATE, 1, 1, f_min, NULL, false},
    {"percentile", EK_FUNC_AGGREGATE, 2, 2, f_percentile_cont, percentile_cont_check, false},
    {"percentile_cont", EK_FUNC_AGGREGATE, 2, 2, f_percentile_cont, percentile_cont_check, false},
    {"percentile_disc", EK_FUNC_AGGREGATE, 2, 2, f_percentile_disc, percentile_disc_check, false},
    {"stddev", EK_FUNC_AGGREGATE, 1, 1, f_stddev, NULL, false},
    {"stddevs", EK_FUNC_AGGREGATE, 1, 1, f_stddevs, NULL, false},
    {"sum", EK_FUNC_AGGREGATE, 1, 1, f_sum, NULL, false},
    {"var", EK_FUNC_AGGREGATE, 1, 1, f_var, NULL, false},
    {"vars", EK_FUNC_AGGREGATE, 1, 1, f_vars, NULL, false},
    {NULL, 0, 0, 0, NULL, NULL, false},
};
