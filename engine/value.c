/* ek_value implementation (see value.h).
 * Reference counts are atomic: a row decoded once is read by rules on different workers. A
 * container is only written while its count is 1, so readers never need a lock. */
#include "engine/value.h"
#include "engine/mem.h"

#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ---- strings ---- */

ek_str *ek_str_new(size_t len)
{
    ek_str *s = ek_malloc(sizeof *s + len + 1);
    atomic_init(&s->refs, 1);
    s->len = len;
    s->data[len] = '\0';
    return s;
}

static ek_str *str_from(const char *p, size_t len)
{
    ek_str *s = ek_str_new(len);
    if (len) memcpy(s->data, p, len);
    return s;
}

static void str_unref(ek_str *s)
{
    if (s && atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) == 1) ek_free(s);
}

static ek_str *str_ref(ek_str *s)
{
    atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
    return s;
}

ek_value ek_string_take(ek_str *s)
{
    ek_value v = {.type = EK_T_STRING, .s = s};
    return v;
}

ek_value ek_string(const char *s)
{
    return ek_string_take(str_from(s, strlen(s)));
}

ek_value ek_string_n(const char *s, size_t len)
{
    return ek_string_take(str_from(s, len));
}

ek_value ek_string_fmt(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    ek_str *s = ek_str_new(n > 0 ? (size_t)n : 0);
    va_start(ap, fmt);
    vsnprintf(s->data, s->len + 1, fmt, ap);
    va_end(ap);
    return ek_string_take(s);
}

ek_value ek_bytes(const void *p, size_t len)
{
    ek_value v = {.type = EK_T_BYTES, .s = str_from(p, len)};
    return v;
}

/* ---- arrays ---- */

ek_value ek_array_new(size_t cap_hint)
{
    ek_array *a = ek_malloc(sizeof *a + cap_hint * sizeof(ek_value));
    atomic_init(&a->refs, 1);
    a->len = 0;
    a->cap = cap_hint;
    a->inl = cap_hint > 0;
    a->items = cap_hint ? (ek_value *)(a + 1) : NULL;
    ek_value v = {.type = EK_T_ARRAY, .a = a};
    return v;
}

void ek_array_push(ek_value *arr, ek_value item)
{
    assert(arr->type == EK_T_ARRAY && atomic_load(&arr->a->refs) == 1);
    ek_array *a = arr->a;
    if (a->len == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 4;
        if (a->inl) {
            ek_value *items = ek_malloc(a->cap * sizeof *items);
            if (a->len) memcpy(items, a->items, a->len * sizeof *items);
            a->items = items;
            a->inl = false;
        } else {
            a->items = ek_realloc(a->items, a->cap * sizeof *a->items);
        }
    }
    a->items[a->len++] = item;
}

static void array_free(ek_array *a)
{
    for (size_t i = 0; i < a->len; i++) ek_value_unref(&a->items[i]);
    if (!a->inl) ek_free(a->items);
    ek_free(a);
}

/* ---- objects ---- */

ek_value ek_object_new(size_t cap_hint)
{
    /* Header, then vals, then keys: the ek_value array stays 8-byte aligned after the header. */
    ek_object *o = ek_malloc(sizeof *o + cap_hint * (sizeof(ek_value) + sizeof(ek_str *)));
    atomic_init(&o->refs, 1);
    o->len = 0;
    o->cap = cap_hint;
    o->inl = cap_hint > 0;
    o->vals = cap_hint ? (ek_value *)(o + 1) : NULL;
    o->keys = cap_hint ? (ek_str **)(o->vals + cap_hint) : NULL;
    ek_value v = {.type = EK_T_OBJECT, .o = o};
    return v;
}

/* Doubles the room for fields, moving inline storage to its own allocations. */
static void object_grow(ek_object *o)
{
    o->cap = o->cap ? o->cap * 2 : 4;
    if (o->inl) {
        ek_str **keys = ek_malloc(o->cap * sizeof *keys);
        ek_value *vals = ek_malloc(o->cap * sizeof *vals);
        if (o->len) {
            memcpy(keys, o->keys, o->len * sizeof *keys);
            memcpy(vals, o->vals, o->len * sizeof *vals);
        }
        o->keys = keys;
        o->vals = vals;
        o->inl = false;
    } else {
        o->keys = ek_realloc(o->keys, o->cap * sizeof *o->keys);
        o->vals = ek_realloc(o->vals, o->cap * sizeof *o->vals);
    }
}

static long find_key(const ek_object *o, const char *key, size_t keylen)
{
    for (size_t i = 0; i < o->len; i++) {
        if (o->keys[i]->len == keylen && memcmp(o->keys[i]->data, key, keylen) == 0) return (long)i;
    }
    return -1;
}

void ek_object_set_n(ek_value *obj, const char *key, size_t keylen, ek_value v)
{
    assert(obj->type == EK_T_OBJECT && atomic_load(&obj->o->refs) == 1);
    ek_object *o = obj->o;
    long i = find_key(o, key, keylen);
    if (i >= 0) {
        ek_value_unref(&o->vals[i]);
        o->vals[i] = v;
        return;
    }
    if (o->len == o->cap) object_grow(o);
    o->keys[o->len] = str_from(key, keylen);
    o->vals[o->len] = v;
    o->len++;
}

void ek_object_set_str(ek_value *obj, ek_str *key, ek_value v)
{
    assert(obj->type == EK_T_OBJECT && atomic_load(&obj->o->refs) == 1);
    ek_object *o = obj->o;
    if (o->len && find_key(o, key->data, key->len) >= 0) {
        ek_object_set_n(obj, key->data, key->len, v);
        return;
    }
    if (o->len == o->cap) object_grow(o);
    o->keys[o->len] = str_ref(key);
    o->vals[o->len] = v;
    o->len++;
}

void ek_object_set(ek_value *obj, const char *key, ek_value v)
{
    ek_object_set_n(obj, key, strlen(key), v);
}

bool ek_object_del(ek_value *obj, const char *key)
{
    assert(obj->type == EK_T_OBJECT && atomic_load(&obj->o->refs) == 1);
    ek_object *o = obj->o;
    long i = find_key(o, key, strlen(key));
    if (i < 0) return false;
    str_unref(o->keys[i]);
    ek_value_unref(&o->vals[i]);
    size_t rest = o->len - (size_t)i - 1;
    memmove(&o->keys[i], &o->keys[i + 1], rest * sizeof *o->keys);
    memmove(&o->vals[i], &o->vals[i + 1], rest * sizeof *o->vals);
    o->len--;
    return true;
}

const ek_value *ek_object_get_n(const ek_value *obj, const char *key, size_t keylen)
{
    if (obj->type != EK_T_OBJECT) return NULL;
    long i = find_key(obj->o, key, keylen);
    return i < 0 ? NULL : &obj->o->vals[i];
}

const ek_value *ek_object_get(const ek_value *obj, const char *key)
{
    return ek_object_get_n(obj, key, strlen(key));
}

const ek_value *ek_object_get_ci(const ek_value *obj, const char *key)
{
    if (obj->type != EK_T_OBJECT) return NULL;
    const ek_object *o = obj->o;
    for (size_t i = 0; i < o->len; i++) {
        if (strcasecmp(o->keys[i]->data, key) == 0) return &o->vals[i];
    }
    return NULL;
}

long ek_object_index(const ek_value *obj, const char *key)
{
    if (obj->type != EK_T_OBJECT) return -1;
    return find_key(obj->o, key, strlen(key));
}

static void object_free(ek_object *o)
{
    for (size_t i = 0; i < o->len; i++) {
        str_unref(o->keys[i]);
        ek_value_unref(&o->vals[i]);
    }
    if (!o->inl) {
        ek_free(o->keys);
        ek_free(o->vals);
    }
    ek_free(o);
}

/* ---- lifetime ---- */

ek_value ek_value_ref(const ek_value *v)
{
    switch (v->type) {
    case EK_T_STRING:
    case EK_T_BYTES: str_ref(v->s); break;
    case EK_T_ARRAY: atomic_fetch_add_explicit(&v->a->refs, 1, memory_order_relaxed); break;
    case EK_T_OBJECT: atomic_fetch_add_explicit(&v->o->refs, 1, memory_order_relaxed); break;
    default: break;
    }
    return *v;
}

void ek_value_unref(ek_value *v)
{
    if (!v) return;
    switch (v->type) {
    case EK_T_STRING:
    case EK_T_BYTES: str_unref(v->s); break;
    case EK_T_ARRAY:
        if (atomic_fetch_sub_explicit(&v->a->refs, 1, memory_order_acq_rel) == 1) array_free(v->a);
        break;
    case EK_T_OBJECT:
        if (atomic_fetch_sub_explicit(&v->o->refs, 1, memory_order_acq_rel) == 1) object_free(v->o);
        break;
    default: break;
    }
    v->type = EK_T_NULL;
}

void ek_value_unshare(ek_value *v)
{
    if (v->type == EK_T_ARRAY && atomic_load(&v->a->refs) > 1) {
        ek_value copy = ek_array_new(v->a->len);
        for (size_t i = 0; i < v->a->len; i++) ek_array_push(&copy, ek_value_ref(&v->a->items[i]));
        ek_value_unref(v);
        *v = copy;
    } else if (v->type == EK_T_OBJECT && atomic_load(&v->o->refs) > 1) {
        ek_value copy = ek_object_new(v->o->len);
        ek_object *o = v->o, *c = copy.o;
        for (size_t i = 0; i < o->len; i++) {
            c->keys[i] = str_ref(o->keys[i]);
            c->vals[i] = ek_value_ref(&o->vals[i]);
        }
        c->len = o->len;
        ek_value_unref(v);
        *v = copy;
    }
}

ek_value ek_value_deep_copy(const ek_value *v)
{
    switch (v->type) {
    case EK_T_STRING: return ek_string_n(v->s->data, v->s->len);
    case EK_T_BYTES: return ek_bytes(v->s->data, v->s->len);
    case EK_T_ARRAY: {
        ek_value c = ek_array_new(v->a->len);
        for (size_t i = 0; i < v->a->len; i++) ek_array_push(&c, ek_value_deep_copy(&v->a->items[i]));
        return c;
    }
    case EK_T_OBJECT: {
        ek_value c = ek_object_new(v->o->len);
        for (size_t i = 0; i < v->o->len; i++)
            ek_object_set_n(&c, v->o->keys[i]->data, v->o->keys[i]->len, ek_value_deep_copy(&v->o->vals[i]));
        return c;
    }
    default: return *v;
    }
}

/* ---- comparison ---- */

bool ek_value_as_double(const ek_value *v, double *out)
{
    if (v->type == EK_T_INT) { *out = (double)v->i; return true; }
    if (v->type == EK_T_FLOAT) { *out = v->f; return true; }
    return false;
}

static int type_rank(ek_type t)
{
    switch (t) {
    case EK_T_NULL: return 0;
    case EK_T_BOOL: return 1;
    case EK_T_INT:
    case EK_T_FLOAT: return 2;
    case EK_T_STRING: return 3;
    case EK_T_BYTES: return 4;
    case EK_T_DATETIME: return 5;
    case EK_T_ARRAY: return 6;
    case EK_T_OBJECT: return 7;
    }
    return 8;
}

static int cmp_num(const ek_value *a, const ek_value *b)
{
    if (a->type == EK_T_INT && b->type == EK_T_INT) return (a->i > b->i) - (a->i < b->i);
    double x = 0, y = 0;
    ek_value_as_double(a, &x);
    ek_value_as_double(b, &y);
    return (x > y) - (x < y);
}

static int cmp_str(const ek_str *a, const ek_str *b)
{
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->data, b->data, n);
    if (c) return c;
    return (a->len > b->len) - (a->len < b->len);
}

int ek_value_compare(const ek_value *a, const ek_value *b)
{
    int ra = type_rank(a->type), rb = type_rank(b->type);
    if (ra != rb) return ra - rb;
    switch (a->type) {
    case EK_T_NULL: return 0;
    case EK_T_BOOL: return (int)a->b - (int)b->b;
    case EK_T_INT:
    case EK_T_FLOAT: return cmp_num(a, b);
    case EK_T_STRING:
    case EK_T_BYTES: return cmp_str(a->s, b->s);
    case EK_T_DATETIME: return (a->t > b->t) - (a->t < b->t);
    case EK_T_ARRAY: {
        size_t n = a->a->len < b->a->len ? a->a->len : b->a->len;
        for (size_t i = 0; i < n; i++) {
            int c = ek_value_compare(&a->a->items[i], &b->a->items[i]);
            if (c) return c;
        }
        return (a->a->len > b->a->len) - (a->a->len < b->a->len);
    }
    case EK_T_OBJECT: {
        if (a->o->len != b->o->len) return (a->o->len > b->o->len) - (a->o->len < b->o->len);
        for (size_t i = 0; i < a->o->len; i++) {
            int c = cmp_str(a->o->keys[i], b->o->keys[i]);
            if (c) return c;
            c = ek_value_compare(&a->o->vals[i], &b->o->vals[i]);
            if (c) return c;
        }
        return 0;
    }
    }
    return 0;
}

bool ek_value_equal(const ek_value *a, const ek_value *b)
{
    if (a->type == EK_T_NULL || b->type == EK_T_NULL) return false;
    if (a->type == EK_T_OBJECT && b->type == EK_T_OBJECT) {
        if (a->o->len != b->o->len) return false;
        for (size_t i = 0; i < a->o->len; i++) {
            const ek_value *bv = ek_object_get_n(b, a->o->keys[i]->data, a->o->keys[i]->len);
            if (!bv || !ek_value_equal(&a->o->vals[i], bv)) return false;
        }
        return true;
    }
    if (type_rank(a->type) != type_rank(b->type)) return false;
    return ek_value_compare(a, b) == 0;
}

static uint64_t fnv(const void *p, size_t n, uint64_t h)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++) { h ^= c[i]; h *= 1099511628211ULL; }
    return h;
}

uint64_t ek_value_hash(const ek_value *v)
{
    uint64_t h = 1469598103934665603ULL ^ (uint64_t)type_rank(v->type);
    switch (v->type) {
    case EK_T_NULL: return h;
    case EK_T_BOOL: return fnv(&v->b, 1, h);
    case EK_T_INT:
    case EK_T_FLOAT: {
        double d = 0;
        ek_value_as_double(v, &d);
        if (d == 0) d = 0; /* -0.0 and 0.0 hash alike */
        return fnv(&d, sizeof d, h);
    }
    case EK_T_STRING:
    case EK_T_BYTES: return fnv(v->s->data, v->s->len, h);
    case EK_T_DATETIME: return fnv(&v->t, sizeof v->t, h);
    case EK_T_ARRAY:
        for (size_t i = 0; i < v->a->len; i++) h = h * 31 + ek_value_hash(&v->a->items[i]);
        return h;
    case EK_T_OBJECT:
        for (size_t i = 0; i < v->o->len; i++)
            h ^= fnv(v->o->keys[i]->data, v->o->keys[i]->len, 0) * 31 + ek_value_hash(&v->o->vals[i]);
        return h;
    }
    return h;
}

const char *ek_type_name(ek_type t)
{
    switch (t) {
    case EK_T_NULL: return "null";
    case EK_T_BOOL: return "boolean";
    case EK_T_INT: return "bigint";
    case EK_T_FLOAT: return "float";
    case EK_T_STRING: return "string";
    case EK_T_BYTES: return "bytea";
    case EK_T_ARRAY: return "array";
    case EK_T_OBJECT: return "struct";
    case EK_T_DATETIME: return "datetime";
    }
    return "unknown";
}
