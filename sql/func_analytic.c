/* Analytic SQL functions (eKuiper docs: sqls/functions/analytic_functions.md): lag, latest,
 * changed_col, had_changed, changed_cols and the rule-lifetime accumulators acc_*.
 *
 * They are called once per row in arrival order, with their state in ctx->state (one state per
 * call site and PARTITION BY key; the engine picks which ctx to pass). Calling convention, as in
 * eKuiper: after the user's arguments the compiler appends ONE hidden bool, the result of the
 * OVER (WHEN ...) condition (true when there is no WHEN). When it is false the state is left alone
 * and the function answers from what it holds. min_args/max_args count the user's arguments only. */
#include "sql/func_int.h"
#include "engine/mem.h"

#include <math.h>
#include <string.h>

typedef struct an_state {
    ek_value vals;   /* lag: the last `offset` values, oldest first; latest: [value]; had_changed: one per arg */
    bool begun;      /* acc_*: between the start and the reset condition */
    bool has;        /* acc_min / acc_max: a value has been seen */
    int64_t count;
    double acc;      /* sum, min or max */
} an_state;

static void state_free(void *p)
{
    an_state *s = p;
    ek_value_unref(&s->vals);
    ek_free(s);
}

static an_state *state_of(ek_func_ctx *c)
{
    if (!c->state) {
        an_state *s = ek_calloc(1, sizeof *s);
        s->vals = ek_null();
        c->state = s;
        c->state_free = state_free;
    }
    return c->state;
}

bool ek_func_state_save(const ek_func_ctx *ctx, ek_value *out)
{
    if (!ctx->state || ctx->state_free != state_free) return false;
    const an_state *s = ctx->state;
    *out = ek_object_new(5);
    ek_object_set(out, "vals", ek_value_ref(&s->vals));
    ek_object_set(out, "begun", ek_bool(s->begun));
    ek_object_set(out, "has", ek_bool(s->has));
    ek_object_set(out, "count", ek_int(s->count));
    ek_object_set(out, "acc", ek_float(s->acc));
    return true;
}

int ek_func_state_load(ek_func_ctx *ctx, const ek_value *in)
{
    const ek_value *vals = in->type == EK_T_OBJECT ? ek_object_get(in, "vals") : NULL;
    const ek_value *begun = vals ? ek_object_get(in, "begun") : NULL, *has = vals ? ek_object_get(in, "has") : NULL;
    const ek_value *count = vals ? ek_object_get(in, "count") : NULL, *acc = vals ? ek_object_get(in, "acc") : NULL;
    int64_t n;
    double a;
    if (ctx->state || !vals || !begun || begun->type != EK_T_BOOL || !has || has->type != EK_T_BOOL || !count ||
        !func__to_int(count, &n) || !acc || !func__to_double(acc, &a))
        return EK_EINVAL;
    an_state *s = state_of(ctx);
    s->vals = ek_value_ref(vals);
    s->begun = begun->b;
    s->has = has->b;
    s->count = n;
    s->acc = a;
    return 0;
}

/* The hidden WHEN argument; reports a missing one as the compiler's mistake. */
static int when_of(const char *fn, const ek_value *a, int n, int min_user, bool *valid, ek_err *e)
{
    if (n < min_user + 1 || a[n - 1].type != EK_T_BOOL)
        return ek_err_set(e, EK_EINVAL, "%s: missing the OVER (WHEN ...) flag the compiler appends", fn);
    *valid = a[n - 1].b;
    return 0;
}

/* eKuiper compares with reflect.DeepEqual: same type and same value; two nulls are equal. */
static bool same(const ek_value *x, const ek_value *y)
{
    if (x->type != y->type) return false;
    return x->type == EK_T_NULL || ek_value_equal(x, y);
}

/* lag(expr[, offset[, default[, ignoreNull]]]) */
static int f_lag(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    bool valid = false, ignore_null = true;
    int64_t offset = 1;
    if (when_of("lag", a, n, 1, &valid, e)) return e->code;
    int user = n - 1;
    if (user >= 2 && func__arg_int("lag", a, 1, &offset, e)) return e->code;
    if (offset < 1 || offset > 100000) return ek_err_set(e, EK_EINVAL, "lag: offset must be between 1 and 100000, got %lld", (long long)offset);
    if (user >= 4) {
        if (a[3].type != EK_T_BOOL) return func__type_err(e, "lag", 3, "a bool", &a[3]);
        ignore_null = a[3].b;
    }
    an_state *s = state_of(c);
    if (s->vals.type == EK_T_NULL) {
        s->vals = ek_array_new((size_t)offset);
        for (int64_t i = 0; i < offset; i++) ek_array_push(&s->vals, user >= 3 ? ek_value_ref(&a[2]) : ek_null());
    }
    ek_array *ring = s->vals.a;
    *o = ek_value_ref(&ring->items[0]);
    if (valid && (!ignore_null || a[0].type != EK_T_NULL)) {
        ek_value_unref(&ring->items[0]);
        memmove(ring->items, ring->items + 1, (ring->len - 1) * sizeof(ek_value));
        ring->items[ring->len - 1] = ek_value_ref(&a[0]);
    }
    return 0;
}

/* latest(expr[, default]): the latest non-null value seen. */
static int f_latest(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    bool valid = false;
    if (when_of("latest", a, n, 1, &valid, e)) return e->code;
    an_state *s = state_of(c);
    if (valid && a[0].type != EK_T_NULL) {
        ek_value_unref(&s->vals);
        s->vals = ek_value_ref(&a[0]);
    }
    if (s->vals.type != EK_T_NULL) *o = ek_value_ref(&s->vals);
    else *o = n - 1 == 2 ? ek_value_ref(&a[1]) : ek_null();
    return 0;
}

/* changed_col(ignoreNull, expr): the value when it differs from the last one, else null. */
static int f_changed_col(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    bool valid = false;
    if (when_of("changed_col", a, n, 2, &valid, e)) return e->code;
    if (a[0].type != EK_T_BOOL) return func__type_err(e, "changed_col", 0, "a bool", &a[0]);
    *o = ek_null();
    if ((a[0].b && a[1].type == EK_T_NULL) || !valid) return 0;
    an_state *s = state_of(c);
    if (!same(&s->vals, &a[1])) {
        ek_value_unref(&s->vals);
        s->vals = ek_value_ref(&a[1]);
        *o = ek_value_ref(&a[1]);
    }
    return 0;
}

/* had_changed(ignoreNull, expr, ...): whether any expression changed since the last call. */
static int f_had_changed(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    bool valid = false;
    if (when_of("had_changed", a, n, 2, &valid, e)) return e->code;
    if (a[0].type != EK_T_BOOL) return func__type_err(e, "had_changed", 0, "a bool", &a[0]);
    *o = ek_bool(false);
    if (!valid) return 0;
    an_state *s = state_of(c);
    int k = n - 2;
    if (s->vals.type == EK_T_NULL) {
        s->vals = ek_array_new((size_t)k);
        for (int i = 0; i < k; i++) ek_array_push(&s->vals, ek_null());
    }
    if (ek_array_len(&s->vals) != (size_t)k) return ek_err_set(e, EK_EINVAL, "had_changed: argument count changed between calls");
    bool changed = false;
    for (int i = 0; i < k; i++) {
        const ek_value *v = &a[1 + i];
        ek_value *prev = &s->vals.a->items[i];
        if (a[0].b && v->type == EK_T_NULL) continue;
        if (!same(prev, v)) {
            changed = true;
            ek_value_unref(prev);
            *prev = ek_value_ref(v);
        }
    }
    *o = ek_bool(changed);
    return 0;
}

/* changed_cols(prefix, ignoreNull, cols): the compiler packs the selected columns into one object
 * (the row itself for *); the result holds the changed ones, keys prefixed, for it to spread. */
static int f_changed_cols(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    bool valid = false;
    if (when_of("changed_cols", a, n, 3, &valid, e)) return e->code;
    if (a[0].type != EK_T_STRING) return func__type_err(e, "changed_cols", 0, "a string prefix", &a[0]);
    if (a[1].type != EK_T_BOOL) return func__type_err(e, "changed_cols", 1, "a bool", &a[1]);
    if (a[2].type != EK_T_OBJECT) return func__type_err(e, "changed_cols", 2, "the columns as a struct", &a[2]);
    *o = ek_object_new(0);
    if (!valid) return 0;
    an_state *s = state_of(c);
    if (s->vals.type == EK_T_NULL) s->vals = ek_object_new(0);
    for (size_t i = 0; i < ek_object_len(&a[2]); i++) {
        const char *key = ek_object_key(&a[2], i);
        const ek_value *v = ek_object_val(&a[2], i), *prev = ek_object_get(&s->vals, key);
        if (a[1].b && v->type == EK_T_NULL) continue;
        ek_value none = ek_null();
        if (same(prev ? prev : &none, v)) continue;
        ek_object_set(&s->vals, key, ek_value_ref(v));
        ek_value named = ek_string_fmt("%s%s", ek_str_ptr(&a[0]), key);
        ek_object_set(o, ek_str_ptr(&named), ek_value_ref(v));
        ek_value_unref(&named);
    }
    return 0;
}

/* ---- acc_* (expr[, startCond, resetCond]) ---- */

typedef enum { ACC_SUM, ACC_COUNT, ACC_AVG, ACC_MIN, ACC_MAX } acc_kind;
static const char *const acc_names[] = {"acc_sum", "acc_count", "acc_avg", "acc_min", "acc_max"};

static void acc_reset(an_state *s)
{
    s->count = 0;
    s->acc = 0;
    s->has = false;
}

static int acc_add(acc_kind k, an_state *s, const ek_value *v, ek_err *e)
{
    double x;
    if (k == ACC_COUNT) { s->count += v->type != EK_T_NULL; return 0; }
    if (v->type == EK_T_NULL && (k == ACC_SUM || k == ACC_AVG)) return 0;
    if (!func__to_double(v, &x)) return ek_err_set(e, EK_ETYPE, "%s: the value should be a number, got %s", acc_names[k], ek_type_name(v->type));
    if (k == ACC_MIN || k == ACC_MAX) {
        if (!s->has || (k == ACC_MIN ? x < s->acc : x > s->acc)) s->acc = x;
        s->has = true;
        return 0;
    }
    s->acc += x;
    s->count++;
    return 0;
}

static int acc(acc_kind k, ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    const char *fn = acc_names[k];
    bool valid = false;
    if (when_of(fn, a, n, 1, &valid, e)) return e->code;
    int user = n - 1;
    if (user != 1 && user != 3) return ek_err_set(e, EK_EINVAL, "%s: expects 1 or 3 arguments, got %d", fn, user);
    an_state *s = state_of(c);
    if (user == 1) {
        if (!s->begun) { s->begun = true; acc_reset(s); }
        if (valid && acc_add(k, s, &a[0], e)) return e->code;
    } else {
        if (a[1].type != EK_T_BOOL || a[2].type != EK_T_BOOL)
            return ek_err_set(e, EK_ETYPE, "%s: the start and reset conditions must be bools", fn);
        if (!s->begun) acc_reset(s);
        if (a[1].b) s->begun = true;
        if (s->begun && valid && acc_add(k, s, &a[0], e)) return e->code;
        if (a[2].b) s->begun = false;
    }
    switch (k) {
    case ACC_COUNT: *o = ek_int(s->count); break;
    case ACC_AVG: *o = ek_float(s->count ? s->acc / (double)s->count : 0); break;
    default: *o = ek_float(s->acc); break;
    }
    return 0;
}

static int f_acc_sum(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return acc(ACC_SUM, c, a, n, o, e); }
static int f_acc_count(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return acc(ACC_COUNT, c, a, n, o, e); }
static int f_acc_avg(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return acc(ACC_AVG, c, a, n, o, e); }
static int f_acc_min(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return acc(ACC_MIN, c, a, n, o, e); }
static int f_acc_max(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return acc(ACC_MAX, c, a, n, o, e); }

const ek_func_def ek_funcs_analytic[] = {
    {"acc_avg", EK_FUNC_ANALYTIC, 1, 3, f_acc_avg, NULL, false},
    {"acc_count", EK_FUNC_ANALYTIC, 1, 3, f_acc_count, NULL, false},
    {"acc_max", EK_FUNC_ANALYTIC, 1, 3, f_acc_max, NULL, false},
    {"acc_min", EK_FUNC_ANALYTIC, 1, 3, f_acc_min, NULL, false},
    {"acc_sum", EK_FUNC_ANALYTIC, 1, 3, f_acc_sum, NULL, false},
    {"changed_col", EK_FUNC_ANALYTIC, 2, 2, f_changed_col, NULL, false},
    {"changed_cols", EK_FUNC_ANALYTIC, 3, 3, f_changed_cols, NULL, false},
    {"had_changed", EK_FUNC_ANALYTIC, 2, -1, f_had_changed, NULL, false},
    {"lag", EK_FUNC_ANALYTIC, 1, 4, f_lag, NULL, false},
    {"latest", EK_FUNC_ANALYTIC, 1, 2, f_latest, NULL, false},
    {NULL, 0, 0, 0, NULL, NULL, false},
};
