/* Array SQL functions (eKuiper docs: sqls/functions/array_functions.md).
 * Arrays are immutable ek_values: every function builds a new array holding references to the
 * input's elements, never a copy of them. Equality (for positions, removal and the set functions)
 * is SQL '=' as ek_value_equal sees it, so 1 and 1.0 are the same element. Where eKuiper documents
 * what a null array gives (-1, 0, false or null) that is what it gives here. */
#include "sql/func_int.h"
#include "engine/mem.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Largest array repeat() and sequence() may build: a bad row must not take the box's memory. */
#define ARRAY_BUILD_MAX 1000000

static int want_array(const char *fn, const ek_value *a, int i, ek_err *e)
{
    return a[i].type == EK_T_ARRAY ? 0 : func__type_err(e, fn, i, "an array", &a[i]);
}

/* Element equality: SQL '=' except that two nulls are the same element. */
static bool same(const ek_value *x, const ek_value *y)
{
    if (x->type == EK_T_NULL || y->type == EK_T_NULL) return x->type == y->type;
    return ek_value_equal(x, y);
}

static bool contains(const ek_value *arr, const ek_value *v)
{
    for (size_t i = 0; i < ek_array_len(arr); i++)
        if (same(ek_array_get(arr, i), v)) return true;
    return false;
}

/* ---- sizes and positions ---- */

static int f_cardinality(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    *o = ek_int(a[0].type == EK_T_ARRAY ? (int64_t)ek_array_len(&a[0]) : 0);
    return 0;
}

static int f_array_cardinality(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    if (a[0].type == EK_T_NULL) { *o = ek_int(0); return 0; }
    if (want_array("array_cardinality", a, 0, e)) return e->code;
    int64_t k = 0;
    for (size_t i = 0; i < ek_array_len(&a[0]); i++) k += ek_array_get(&a[0], i)->type != EK_T_NULL;
    *o = ek_int(k);
    return 0;
}

static int position(const char *fn, bool last, const ek_value *a, ek_value *o, ek_err *e)
{
    if (a[0].type == EK_T_NULL) { *o = ek_int(-1); return 0; }
    if (want_array(fn, a, 0, e)) return e->code;
    int64_t hit = -1;
    size_t len = ek_array_len(&a[0]);
    for (size_t k = 0; k < len; k++) {
        size_t i = last ? len - 1 - k : k;
        if (same(ek_array_get(&a[0], i), &a[1])) { hit = (int64_t)i; break; }
    }
    *o = ek_int(hit);
    return 0;
}

static int f_array_position(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return position("array_position", false, a, o, e); }
static int f_array_last_position(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return position("array_last_position", true, a, o, e); }

/* element_at(array, i): 0-based, negative from the end; on an object, the value of key i. */
static int f_element_at(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    int64_t i;
    if (func__any_null(a, 2)) { *o = ek_null(); return 0; }
    if (a[0].type == EK_T_OBJECT) {
        if (a[1].type != EK_T_STRING) return func__type_err(e, "element_at", 1, "a string key", &a[1]);
        const ek_value *v = ek_object_get(&a[0], ek_str_ptr(&a[1]));
        *o = v ? ek_value_ref(v) : ek_null();
        return 0;
    }
    if (a[0].type != EK_T_ARRAY) return func__type_err(e, "element_at", 0, "an array or a struct", &a[0]);
    if (func__arg_int("element_at", a, 1, &i, e)) return e->code;
    int64_t len = (int64_t)ek_array_len(&a[0]);
    if (i >= len || i < -len) return ek_err_set(e, EK_EINVAL, "element_at: index %lld out of range (size %lld)", (long long)i, (long long)len);
    *o = ek_value_ref(ek_array_get(&a[0], (size_t)(i < 0 ? len + i : i)));
    return 0;
}

static int f_array_contains(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    if (a[0].type == EK_T_NULL) { *o = ek_null(); return 0; }
    if (want_array("array_contains", a, 0, e)) return e->code;
    *o = ek_bool(contains(&a[0], &a[1]));
    return 0;
}

static int f_array_contains_any(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    if (a[0].type == EK_T_NULL || a[1].type == EK_T_NULL) { *o = ek_bool(false); return 0; }
    if (want_array("array_contains_any", a, 0, e) || want_array("array_contains_any", a, 1, e)) return e->code;
    bool any = false;
    for (size_t i = 0; i < ek_array_len(&a[0]) && !any; i++) any = contains(&a[1], ek_array_get(&a[0], i));
    *o = ek_bool(any);
    return 0;
}

/* ---- building ---- */

static int f_array_create(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    *o = ek_array_new((size_t)n);
    for (int i = 0; i < n; i++) ek_array_push(o, ek_value_ref(&a[i]));
    return 0;
}

static int f_array_remove(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    if (a[0].type == EK_T_NULL) { *o = ek_null(); return 0; }
    if (want_array("array_remove", a, 0, e)) return e->code;
    *o = ek_array_new(ek_array_len(&a[0]));
    for (size_t i = 0; i < ek_array_len(&a[0]); i++)
        if (!same(ek_array_get(&a[0], i), &a[1])) ek_array_push(o, ek_value_ref(ek_array_get(&a[0], i)));
    return 0;
}

/* Appends the elements of src not yet in dst (and, with filter, present or absent in other). */
typedef enum { SET_ALL, SET_IN, SET_NOT_IN } set_mode;

static void add_distinct(ek_value *dst, const ek_value *src, set_mode mode, const ek_value *other)
{
    for (size_t i = 0; i < ek_array_len(src); i++) {
        const ek_value *v = ek_array_get(src, i);
        if (mode == SET_IN && !contains(other, v)) continue;
        if (mode == SET_NOT_IN && contains(other, v)) continue;
        if (!contains(dst, v)) ek_array_push(dst, ek_value_ref(v));
    }
}

static int set_op(const char *fn, set_mode mode, const ek_value *a, ek_value *o, ek_err *e)
{
    if (a[0].type == EK_T_NULL && mode != SET_ALL) { *o = ek_null(); return 0; }
    for (int i = 0; i < 2; i++)
        if (a[i].type != EK_T_NULL && want_array(fn, a, i, e)) return e->code;
    ek_value empty = ek_array_new(0);
    const ek_value *x = a[0].type == EK_T_NULL ? &empty : &a[0], *y = a[1].type == EK_T_NULL ? &empty : &a[1];
    *o = ek_array_new(0);
    add_distinct(o, x, mode, y);
    if (mode == SET_ALL) add_distinct(o, y, SET_ALL, NULL);
    ek_value_unref(&empty);
    return 0;
}

static int f_array_union(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return set_op("array_union", SET_ALL, a, o, e); }
static int f_array_intersect(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return set_op("array_intersect", SET_IN, a, o, e); }
static int f_array_except(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return set_op("array_except", SET_NOT_IN, a, o, e); }

static int f_array_distinct(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    if (a[0].type == EK_T_NULL) { *o = ek_null(); return 0; }
    if (want_array("array_distinct", a, 0, e)) return e->code;
    *o = ek_array_new(0);
    add_distinct(o, &a[0], SET_ALL, NULL);
    return 0;
}

/* array_max / array_min: nulls ignored; numbers compare with numbers, strings with strings. */
static int extreme(const char *fn, int sign, const ek_value *a, ek_value *o, ek_err *e)
{
    if (a[0].type == EK_T_NULL) { *o = ek_null(); return 0; }
    if (want_array(fn, a, 0, e)) return e->code;
    const ek_value *best = NULL;
    for (size_t i = 0; i < ek_array_len(&a[0]); i++) {
        const ek_value *v = ek_array_get(&a[0], i);
        if (v->type == EK_T_NULL) continue;
        if (best && !(ek_is_number(best) && ek_is_number(v)) && best->type != v->type)
            return ek_err_set(e, EK_ETYPE, "%s: cannot compare %s with %s", fn, ek_type_name(best->type), ek_type_name(v->type));
        if (!best || ek_value_compare(v, best) * sign > 0) best = v;
    }
    *o = best ? ek_value_ref(best) : ek_null();
    return 0;
}

static int f_array_max(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return extreme("array_max", 1, a, o, e); }
static int f_array_min(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return extreme("array_min", -1, a, o, e); }

static int f_repeat(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    int64_t k;
    if (func__any_null(a, 2)) { *o = ek_null(); return 0; }
    if (func__arg_int("repeat", a, 1, &k, e)) return e->code;
    if (k < 0 || k > ARRAY_BUILD_MAX) return ek_err_set(e, EK_EINVAL, "repeat: count must be between 0 and %d", ARRAY_BUILD_MAX);
    *o = ek_array_new((size_t)k);
    for (int64_t i = 0; i < k; i++) ek_array_push(o, ek_value_ref(&a[0]));
    return 0;
}

static int f_sequence(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    int64_t start, stop, step;
    if (func__any_null(a, n)) { *o = ek_null(); return 0; }
    if (func__arg_int("sequence", a, 0, &start, e) || func__arg_int("sequence", a, 1, &stop, e)) return e->code;
    if (n == 3) {
        if (func__arg_int("sequence", a, 2, &step, e)) return e->code;
        if (step == 0) return ek_err_set(e, EK_EINVAL, "sequence: invalid step: should not be zero");
    } else {
        step = start <= stop ? 1 : -1;
    }
    /* Count first, in unsigned arithmetic, so no step can overflow. */
    uint64_t span = step > 0 ? (uint64_t)stop - (uint64_t)start : (uint64_t)start - (uint64_t)stop;
    uint64_t ustep = step > 0 ? (uint64_t)step : (uint64_t)0 - (uint64_t)step;
    bool empty = step > 0 ? start > stop : start < stop;
    uint64_t count = empty ? 0 : span / ustep;
    if (!empty && count++ >= ARRAY_BUILD_MAX) return ek_err_set(e, EK_EINVAL, "sequence: more than %d elements", ARRAY_BUILD_MAX);
    *o = ek_array_new((size_t)count);
    for (uint64_t i = 0; i < count; i++) ek_array_push(o, ek_int((int64_t)((uint64_t)start + i * (uint64_t)step)));
    return 0;
}

static int f_array_flatten(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    if (a[0].type == EK_T_NULL) { *o = ek_null(); return 0; }
    if (want_array("array_flatten", a, 0, e)) return e->code;
    *o = ek_array_new(0);
    for (size_t i = 0; i < ek_array_len(&a[0]); i++) {
        const ek_value *v = ek_array_get(&a[0], i);
        if (v->type != EK_T_ARRAY) { ek_array_push(o, ek_value_ref(v)); continue; }
        for (size_t k = 0; k < ek_array_len(v); k++) ek_array_push(o, ek_value_ref(ek_array_get(v, k)));
    }
    return 0;
}

static int f_array_concat(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    for (int i = 0; i < n; i++)
        if (a[i].type != EK_T_NULL && want_array("array_concat", a, i, e)) return e->code;
    *o = ek_array_new(0);
    for (int i = 0; i < n; i++)
        if (a[i].type == EK_T_ARRAY)
            for (size_t k = 0; k < ek_array_len(&a[i]); k++) ek_array_push(o, ek_value_ref(ek_array_get(&a[i], k)));
    return 0;
}

static int cmp_values(const void *x, const void *y) { return ek_value_compare(x, y); }

static int f_array_sort(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    if (a[0].type == EK_T_NULL) { *o = ek_null(); return 0; }
    if (want_array("array_sort", a, 0, e)) return e->code;
    *o = ek_array_new(ek_array_len(&a[0]));
    for (size_t i = 0; i < ek_array_len(&a[0]); i++) ek_array_push(o, ek_value_ref(ek_array_get(&a[0], i)));
    qsort(o->a->items, o->a->len, sizeof(ek_value), cmp_values);
    return 0;
}

static _Thread_local uint64_t shuffle_state;

static uint64_t next_random(void)
{
    if (!shuffle_state) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        shuffle_state = ((uint64_t)ts.tv_nsec << 1 | 1) ^ (uint64_t)(uintptr_t)&shuffle_state;
    }
    shuffle_state ^= shuffle_state << 13;
    shuffle_state ^= shuffle_state >> 7;
    shuffle_state ^= shuffle_state << 17;
    return shuffle_state;
}

static int f_array_shuffle(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    if (a[0].type == EK_T_NULL) { *o = ek_null(); return 0; }
    if (want_array("array_shuffle", a, 0, e)) return e->code;
    size_t len = ek_array_len(&a[0]);
    *o = ek_array_new(len);
    for (size_t i = 0; i < len; i++) ek_array_push(o, ek_value_ref(ek_array_get(&a[0], i)));
    for (size_t i = len; i > 1; i--) {
        size_t j = (size_t)(next_random() % i);
        ek_value t = o->a->items[i - 1];
        o->a->items[i - 1] = o->a->items[j];
        o->a->items[j] = t;
    }
    return 0;
}

/* array_join(array, delimiter[, null_replacement]): nulls are skipped unless replaced. */
static int f_array_join(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    const char *delim, *repl = NULL;
    size_t dl, rl = 0;
    if (func__any_null(a, n)) { *o = ek_null(); return 0; }
    if (want_array("array_join", a, 0, e) || func__arg_str("array_join", a, 1, &delim, &dl, e)) return e->code;
    if (n == 3 && func__arg_str("array_join", a, 2, &repl, &rl, e)) return e->code;
    ek_buf b = EK_BUF_INIT;
    bool first = true;
    for (size_t i = 0; i < ek_array_len(&a[0]); i++) {
        const ek_value *v = ek_array_get(&a[0], i);
        if (v->type == EK_T_NULL && rl == 0) continue;
        if (v->type == EK_T_ARRAY || v->type == EK_T_OBJECT) {
            ek_buf_free(&b);
            return ek_err_set(e, EK_ETYPE, "array_join: element %zu is a %s, not a string", i, ek_type_name(v->type));
        }
        if (!first) ek_buf_append(&b, delim, dl);
        first = false;
        if (v->type == EK_T_NULL) ek_buf_append(&b, repl, rl);
        else func__append_str(v, &b);
    }
    *o = ek_string_n(b.data ? b.data : "", b.len);
    ek_buf_free(&b);
    return 0;
}

/* array_map(function_name, array): applies a one-argument scalar function to each element. */
static int f_array_map(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    if (func__any_null(a, 2)) { *o = ek_null(); return 0; }
    if (a[0].type != EK_T_STRING) return func__type_err(e, "array_map", 0, "a function name", &a[0]);
    if (want_array("array_map", a, 1, e)) return e->code;
    const ek_func_def *def = ek_func_lookup(ek_str_ptr(&a[0]));
    if (!def) return ek_err_set(e, EK_EINVAL, "array_map: unknown built-in function: %s", ek_str_ptr(&a[0]));
    if (def->kind != EK_FUNC_SCALAR || def->min_args > 1 || (def->max_args >= 0 && def->max_args < 1))
        return ek_err_set(e, EK_EINVAL, "array_map: %s is not a one-argument scalar function", def->name);
    ek_func_ctx inner = {0};
    if (c) { inner.rule_id = c->rule_id; inner.rule_start_ms = c->rule_start_ms; inner.row = c->row; }
    *o = ek_array_new(ek_array_len(&a[1]));
    for (size_t i = 0; i < ek_array_len(&a[1]); i++) {
        ek_value r = ek_null();
        int rc = def->exec(&inner, ek_array_get(&a[1], i), 1, &r, e);
        if (rc) { ek_value_unref(o); ek_func_ctx_release(&inner); return ek_err_prefix(e, "array_map"); }
        ek_array_push(o, r);
    }
    ek_func_ctx_release(&inner);
    return 0;
}

/* kvpair_array_to_obj([{"key": k, "value": v}, ...]) -> {k: v, ...} */
static int f_kvpair_array_to_obj(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    if (a[0].type == EK_T_NULL) { *o = ek_null(); return 0; }
    if (want_array("kvpair_array_to_obj", a, 0, e)) return e->code;
    *o = ek_object_new(ek_array_len(&a[0]));
    for (size_t i = 0; i < ek_array_len(&a[0]); i++) {
        const ek_value *pair = ek_array_get(&a[0], i);
        const ek_value *k = pair->type == EK_T_OBJECT ? ek_object_get(pair, "key") : NULL;
        const ek_value *v = pair->type == EK_T_OBJECT ? ek_object_get(pair, "value") : NULL;
        if (!k || k->type != EK_T_STRING) {
            ek_value_unref(o);
            return ek_err_set(e, EK_EINVAL, "kvpair_array_to_obj: element %zu is not {\"key\": string, \"value\": any}", i);
        }
        ek_object_set_n(o, ek_str_ptr(k), ek_str_len(k), v ? ek_value_ref(v) : ek_null());
    }
    return 0;
}

const ek_func_def ek_funcs_array[] = {
    {"array_cardinality", EK_FUNC_SCALAR, 1, 1, f_array_cardinality, NULL, true},
    {"array_concat", EK_FUNC_SCALAR, 1, -1, f_array_concat, NULL, true},
    {"array_contains", EK_FUNC_SCALAR, 2, 2, f_array_contains, NULL, true},
    {"array_contains_any", EK_FUNC_SCALAR, 2, 2, f_array_contains_any, NULL, true},
    {"array_create", EK_FUNC_SCALAR, 0, -1, f_array_create, NULL, true},
    {"array_distinct", EK_FUNC_SCALAR, 1, 1, f_array_distinct, NULL, true},
    {"array_except", EK_FUNC_SCALAR, 2, 2, f_array_except, NULL, true},
    {"array_flatten", EK_FUNC_SCALAR, 1, 1, f_array_flatten, NULL, true},
    {"array_intersect", EK_FUNC_SCALAR, 2, 2, f_array_intersect, NULL, true},
    {"array_join", EK_FUNC_SCALAR, 2, 3, f_array_join, NULL, true},
    {"array_last_position", EK_FUNC_SCALAR, 2, 2, f_array_last_position, NULL, true},
    {"array_map", EK_FUNC_SCALAR, 2, 2, f_array_map, NULL, false},
    {"array_max", EK_FUNC_SCALAR, 1, 1, f_array_max, NULL, true},
    {"array_min", EK_FUNC_SCALAR, 1, 1, f_array_min, NULL, true},
    {"array_position", EK_FUNC_SCALAR, 2, 2, f_array_position, NULL, true},
    {"array_remove", EK_FUNC_SCALAR, 2, 2, f_array_remove, NULL, true},
    {"array_shuffle", EK_FUNC_SCALAR, 1, 1, f_array_shuffle, NULL, false},
    {"array_sort", EK_FUNC_SCALAR, 1, 1, f_array_sort, NULL, true},
    {"array_union", EK_FUNC_SCALAR, 2, 2, f_array_union, NULL, true},
    {"cardinality", EK_FUNC_SCALAR, 1, 1, f_cardinality, NULL, true},
    {"element_at", EK_FUNC_SCALAR, 2, 2, f_element_at, NULL, true},
    {"kvpair_array_to_obj", EK_FUNC_SCALAR, 1, 1, f_kvpair_array_to_obj, NULL, true},
    {"repeat", EK_FUNC_SCALAR, 2, 2, f_repeat, NULL, true},
    {"sequence", EK_FUNC_SCALAR, 2, 3, f_sequence, NULL, true},
    {NULL, 0, 0, 0, NULL, NULL, false},
};
