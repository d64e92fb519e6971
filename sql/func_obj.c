/* Object (struct/map) SQL functions (eKuiper docs: sqls/functions/object_functions.md, plus the
 * undocumented object_size the registry also has).
 * Objects keep insertion order (ek_value objects are ordered), so keys() and items() list fields in
 * the order the message carried them; eKuiper's Go maps have no order, so any order is compatible.
 * Results share the input's values by reference. Null in gives null out. */
#include "sql/func_int.h"
#include "engine/mem.h"

#include <string.h>

static int want_obj(const char *fn, const ek_value *a, int i, ek_err *e)
{
    return a[i].type == EK_T_OBJECT ? 0 : func__type_err(e, fn, i, "a struct", &a[i]);
}

typedef enum { LIST_KEYS, LIST_VALUES, LIST_ITEMS, LIST_KVPAIRS } list_kind;

static int list_of(const char *fn, list_kind kind, const ek_value *a, ek_value *o, ek_err *e)
{
    if (a[0].type == EK_T_NULL) { *o = ek_null(); return 0; }
    if (want_obj(fn, a, 0, e)) return e->code;
    size_t len = ek_object_len(&a[0]);
    *o = ek_array_new(len);
    for (size_t i = 0; i < len; i++) {
        ek_value k = ek_string(ek_object_key(&a[0], i)), v = ek_value_ref(ek_object_val(&a[0], i));
        if (kind == LIST_KEYS) { ek_array_push(o, k); ek_value_unref(&v); continue; }
        if (kind == LIST_VALUES) { ek_array_push(o, v); ek_value_unref(&k); continue; }
        ek_value item;
        if (kind == LIST_ITEMS) {
            item = ek_array_new(2);
            ek_array_push(&item, k);
            ek_array_push(&item, v);
        } else {
            item = ek_object_new(2);
            ek_object_set(&item, "key", k);
            ek_object_set(&item, "value", v);
        }
        ek_array_push(o, item);
    }
    return 0;
}

static int f_keys(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return list_of("keys", LIST_KEYS, a, o, e); }
static int f_values(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return list_of("values", LIST_VALUES, a, o, e); }
static int f_items(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return list_of("items", LIST_ITEMS, a, o, e); }
static int f_obj_to_kvpair_array(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return list_of("obj_to_kvpair_array", LIST_KVPAIRS, a, o, e); }

static int f_object_size(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    if (a[0].type == EK_T_NULL) { *o = ek_int(0); return 0; }
    if (want_obj("object_size", a, 0, e)) return e->code;
    *o = ek_int((int64_t)ek_object_len(&a[0]));
    return 0;
}

/* object(keys, values): two arrays of the same length, keys all strings. */
static int f_object(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    if (func__any_null(a, 2)) { *o = ek_null(); return 0; }
    for (int i = 0; i < 2; i++)
        if (a[i].type != EK_T_ARRAY) return func__type_err(e, "object", i, "an array", &a[i]);
    size_t len = ek_array_len(&a[0]);
    if (len != ek_array_len(&a[1]))
        return ek_err_set(e, EK_EINVAL, "object: the keys and values arrays must have the same length (%zu and %zu)", len, ek_array_len(&a[1]));
    for (size_t i = 0; i < len; i++)
        if (ek_array_get(&a[0], i)->type != EK_T_STRING)
            return ek_err_set(e, EK_ETYPE, "object: key %zu must be a string, got %s", i, ek_type_name(ek_array_get(&a[0], i)->type));
    *o = ek_object_new(len);
    for (size_t i = 0; i < len; i++) {
        const ek_value *k = ek_array_get(&a[0], i);
        ek_object_set_n(o, ek_str_ptr(k), ek_str_len(k), ek_value_ref(ek_array_get(&a[1], i)));
    }
    return 0;
}

/* zip([[k, v], ...]) */
static int f_zip(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    if (a[0].type == EK_T_NULL) { *o = ek_null(); return 0; }
    if (a[0].type != EK_T_ARRAY) return func__type_err(e, "zip", 0, "an array", &a[0]);
    for (size_t i = 0; i < ek_array_len(&a[0]); i++) {
        const ek_value *p = ek_array_get(&a[0], i);
        if (p->type != EK_T_ARRAY || ek_array_len(p) != 2 || ek_array_get(p, 0)->type != EK_T_STRING)
            return ek_err_set(e, EK_EINVAL, "zip: entry %zu must be an array [string key, value]", i);
    }
    *o = ek_object_new(ek_array_len(&a[0]));
    for (size_t i = 0; i < ek_array_len(&a[0]); i++) {
        const ek_value *p = ek_array_get(&a[0], i), *k = ek_array_get(p, 0);
        ek_object_set_n(o, ek_str_ptr(k), ek_str_len(k), ek_value_ref(ek_array_get(p, 1)));
    }
    return 0;
}

/* object_construct(k1, v1, k2, v2, ...): pairs whose value is null are left out. */
static int f_object_construct(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    if (n % 2) return ek_err_set(e, EK_EINVAL, "object_construct: the arguments must come in key, value pairs");
    for (int i = 0; i < n; i += 2)
        if (a[i].type != EK_T_STRING) return func__type_err(e, "object_construct", i, "a string key", &a[i]);
    *o = ek_object_new((size_t)n / 2);
    for (int i = 0; i < n; i += 2)
        if (a[i + 1].type != EK_T_NULL) ek_object_set_n(o, ek_str_ptr(&a[i]), ek_str_len(&a[i]), ek_value_ref(&a[i + 1]));
    return 0;
}

static int object_construct_check(const ek_func_arg_info *args, int nargs, ek_err *err)
{
    if (nargs % 2) return ek_err_set(err, EK_EPLAN, "object_construct: the arguments must come in key, value pairs");
    return 0;
}

/* object_concat(o1, o2, ...): later objects win on duplicate keys; null objects are skipped. */
static int f_object_concat(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    for (int i = 0; i < n; i++)
        if (a[i].type != EK_T_NULL && want_obj("object_concat", a, i, e)) return e->code;
    *o = ek_object_new(0);
    for (int i = 0; i < n; i++) {
        if (a[i].type == EK_T_NULL) continue;
        for (size_t k = 0; k < ek_object_len(&a[i]); k++)
            ek_object_set(o, ek_object_key(&a[i], k), ek_value_ref(ek_object_val(&a[i], k)));
    }
    return 0;
}

/* Is key named by k (a string, or an array of strings)? */
static bool key_listed(const ek_value *k, const char *key)
{
    if (k->type == EK_T_STRING) return strcmp(ek_str_ptr(k), key) == 0;
    for (size_t i = 0; i < ek_array_len(k); i++) {
        const ek_value *v = ek_array_get(k, i);
        if (v->type == EK_T_STRING && strcmp(ek_str_ptr(v), key) == 0) return true;
    }
    return false;
}

static int keep_keys(const char *fn, bool keep, const ek_value *a, ek_value *o, ek_err *e)
{
    if (a[0].type == EK_T_NULL) { *o = ek_null(); return 0; }
    if (want_obj(fn, a, 0, e)) return e->code;
    if (a[1].type != EK_T_STRING && a[1].type != EK_T_ARRAY) return func__type_err(e, fn, 1, "a string or an array of strings", &a[1]);
    if (a[1].type == EK_T_ARRAY)
        for (size_t i = 0; i < ek_array_len(&a[1]); i++)
            if (ek_array_get(&a[1], i)->type != EK_T_STRING)
                return ek_err_set(e, EK_ETYPE, "%s: argument 2 must be an array of strings", fn);
    *o = ek_object_new(0);
    for (size_t i = 0; i < ek_object_len(&a[0]); i++) {
        const char *key = ek_object_key(&a[0], i);
        if (key_listed(&a[1], key) == keep) ek_object_set(o, key, ek_value_ref(ek_object_val(&a[0], i)));
    }
    return 0;
}

static int f_erase(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return keep_keys("erase", false, a, o, e); }

/* Copies the value at a dotted path ("k1.temp") from src into res, creating the enclosing objects:
 * object_pick({"k1": {"temp": 23, "hum": 34}}, "k1.temp") is {"k1": {"temp": 23}}. */
static void pick(ek_value *res, const ek_value *src, const char *path)
{
    const char *dot = strchr(path, '.');
    if (!dot) {
        const ek_value *v = ek_object_get(src, path);
        if (v) ek_object_set(res, path, ek_value_ref(v));
        return;
    }
    size_t hl = (size_t)(dot - path);
    const ek_value *sub = ek_object_get_n(src, path, hl);
    if (!sub || sub->type != EK_T_OBJECT) return;
    const ek_value *have = ek_object_get_n(res, path, hl);
    ek_value child = have && have->type == EK_T_OBJECT ? ek_value_ref(have) : ek_object_new(0);
    ek_value_unshare(&child);
    pick(&child, sub, dot + 1);
    if (ek_object_len(&child)) ek_object_set_n(res, path, hl, child);
    else ek_value_unref(&child);
}

/* object_pick(obj, k[, k2 ...]) or object_pick(obj, [k, ...]): keys may be dotted paths; non-string
 * keys are skipped, as in eKuiper. */
static int f_object_pick(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    if (a[0].type == EK_T_NULL) { *o = ek_null(); return 0; }
    if (want_obj("object_pick", a, 0, e)) return e->code;
    *o = ek_object_new(0);
    if (a[1].type == EK_T_ARRAY) {
        for (size_t i = 0; i < ek_array_len(&a[1]); i++)
            if (ek_array_get(&a[1], i)->type == EK_T_STRING) pick(o, &a[0], ek_str_ptr(ek_array_get(&a[1], i)));
        return 0;
    }
    for (int i = 1; i < n; i++)
        if (a[i].type == EK_T_STRING) pick(o, &a[0], ek_str_ptr(&a[i]));
    return 0;
}

const ek_func_def ek_funcs_obj[] = {
    {"erase", EK_FUNC_SCALAR, 2, 2, f_erase, NULL, true},
    {"items", EK_FUNC_SCALAR, 1, 1, f_items, NULL, true},
    {"keys", EK_FUNC_SCALAR, 1, 1, f_keys, NULL, true},
    {"obj_to_kvpair_array", EK_FUNC_SCALAR, 1, 1, f_obj_to_kvpair_array, NULL, true},
    {"object", EK_FUNC_SCALAR, 2, 2, f_object, NULL, true},
    {"object_concat", EK_FUNC_SCALAR, 1, -1, f_object_concat, NULL, true},
    {"object_construct", EK_FUNC_SCALAR, 0, -1, f_object_construct, object_construct_check, true},
    {"object_pick", EK_FUNC_SCALAR, 2, -1, f_object_pick, NULL, true},
    {"object_size", EK_FUNC_SCALAR, 1, 1, f_object_size, NULL, true},
    {"values", EK_FUNC_SCALAR, 1, 1, f_values, NULL, true},
    {"zip", EK_FUNC_SCALAR, 1, 1, f_zip, NULL, true},
    {NULL, 0, 0, 0, NULL, NULL, false},
};
