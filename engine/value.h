/* ek_value: the one value representation of kuiperd's SQL and engine.
 *
 * A tagged union of null, bool, int64, double, string, bytes, array, object and datetime.
 * Strings, bytes, arrays and objects live on the heap, are reference-counted (atomically, so a
 * decoded message can be shared by rules on several worker threads) and are immutable once shared:
 * copying a value is ek_value_ref(), a refcount bump. Builders (ek_array_push, ek_object_set) may
 * only modify a container whose refcount is 1; ek_value_unshare() makes one so.
 *
 * Objects keep insertion order (a schema stream's fields are in schema order, so the binder can
 * resolve a field to its slot index). A datetime is nanoseconds since the Unix epoch, UTC.
 *
 * Ownership: an ek_value held in a variable owns one reference. Functions that "take" a value
 * consume that reference; getters return borrowed pointers valid while the container lives. */
#ifndef EK_VALUE_H
#define EK_VALUE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum ek_type {
    EK_T_NULL = 0,
    EK_T_BOOL,
    EK_T_INT,
    EK_T_FLOAT,
    EK_T_STRING,
    EK_T_BYTES,
    EK_T_ARRAY,
    EK_T_OBJECT,
    EK_T_DATETIME,
} ek_type;

/* Heap string or byte buffer; data is always NUL-terminated (bytes may also contain NULs). */
typedef struct ek_str {
    atomic_int refs;
    size_t len;
    char data[];
} ek_str;

typedef struct ek_array ek_array;
typedef struct ek_object ek_object;

typedef struct ek_value {
    ek_type type;
    union {
        bool b;
        int64_t i;
        double f;
        int64_t t;   /* datetime: ns since epoch */
        ek_str *s;   /* string and bytes */
        ek_array *a;
        ek_object *o;
    };
} ek_value;

/* items (and keys, vals) start in the same allocation as the header when made with a capacity
 * hint (inl), so a small array or object costs one malloc; they move to their own on growth. */
struct ek_array {
    atomic_int refs;
    bool inl;
    size_t len, cap;
    ek_value *items;
};

struct ek_object {
    atomic_int refs;
    bool inl;
    size_t len, cap;
    ek_str **keys;
    ek_value *vals;
};

/* ---- scalars (no allocation) ---- */
static inline ek_value ek_null(void) { ek_value v = {.type = EK_T_NULL}; return v; }
static inline ek_value ek_bool(bool b) { ek_value v = {.type = EK_T_BOOL, .b = b}; return v; }
static inline ek_value ek_int(int64_t i) { ek_value v = {.type = EK_T_INT, .i = i}; return v; }
static inline ek_value ek_float(double f) { ek_value v = {.type = EK_T_FLOAT, .f = f}; return v; }
static inline ek_value ek_datetime(int64_t ns) { ek_value v = {.type = EK_T_DATETIME, .t = ns}; return v; }
static inline bool ek_is_null(const ek_value *v) { return v->type == EK_T_NULL; }
static inline bool ek_is_number(const ek_value *v) { return v->type == EK_T_INT || v->type == EK_T_FLOAT; }

/* ---- strings and bytes ---- */
ek_value ek_string(const char *s);                 /* copies a NUL-terminated string */
ek_value ek_string_n(const char *s, size_t len);   /* copies len bytes */
ek_value ek_string_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
ek_value ek_bytes(const void *p, size_t len);
/* A string value taking ownership of an ek_str made by ek_str_new. */
ek_value ek_string_take(ek_str *s);
/* A fresh ek_str with refs 1 and room for len bytes plus NUL (contents uninitialised but the NUL). */
ek_str *ek_str_new(size_t len);
static inline const char *ek_str_ptr(const ek_value *v) { return v->s->data; }
static inline size_t ek_str_len(const ek_value *v) { return v->s->len; }

/* ---- arrays ---- */
ek_value ek_array_new(size_t cap_hint);
/* Appends item, taking it. arr must be unshared (refs == 1). */
void ek_array_push(ek_value *arr, ek_value item);
static inline size_t ek_array_len(const ek_value *arr) { return arr->a->len; }
static inline const ek_value *ek_array_get(const ek_value *arr, size_t i) { return &arr->a->items[i]; }

/* ---- objects (ordered maps with string keys) ---- */
ek_value ek_object_new(size_t cap_hint);
/* Sets key to v, taking v; replaces an existing key in place (keeping its position).
 * obj must be unshared (refs == 1). */
void ek_object_set(ek_value *obj, const char *key, ek_value v);
void ek_object_set_n(ek_value *obj, const char *key, size_t keylen, ek_value v);
/* Removes key if present; returns whether it was. obj must be unshared. */
bool ek_object_del(ek_value *obj, const char *key);
/* Borrowed pointer to the value of key, or NULL. */
const ek_value *ek_object_get(const ek_value *obj, const char *key);
/* Like ek_object_set, sharing the key string (a reference is taken) instead of copying it: for
 * hot paths that set the same keys on many objects (a projection's output names). */
void ek_object_set_str(ek_value *obj, ek_str *key, ek_value v);
const ek_value *ek_object_get_n(const ek_value *obj, const char *key, size_t keylen);
/* The same with ASCII case-insensitive key comparison. */
const ek_value *ek_object_get_ci(const ek_value *obj, const char *key);
/* Index of key, or -1. */
long ek_object_index(const ek_value *obj, const char *key);
static inline size_t ek_object_len(const ek_value *obj) { return obj->o->len; }
static inline const char *ek_object_key(const ek_value *obj, size_t i) { return obj->o->keys[i]->data; }
static inline const ek_value *ek_object_val(const ek_value *obj, size_t i) { return &obj->o->vals[i]; }

/* ---- lifetime ---- */
/* Returns a new reference to the same value (a refcount bump for heap values). */
ek_value ek_value_ref(const ek_value *v);
/* Drops v's reference and sets it to null. Accepts NULL and null values. */
void ek_value_unref(ek_value *v);
/* Makes the container in *v unshared, copying it shallowly (children are ref'ed) if refs > 1. */
void ek_value_unshare(ek_value *v);
/* A deep copy with no sharing at any level. */
ek_value ek_value_deep_copy(const ek_value *v);

/* ---- comparison ---- */
/* Equality as SQL '=' sees it: int and float compare numerically; containers compare deeply.
 * A null never equals anything (callers wanting IS semantics test ek_is_null first). */
bool ek_value_equal(const ek_value *a, const ek_value *b);
/* Total order for sorting: null < bool < numbers < string < bytes < datetime < array < object;
 * numbers compare numerically. Returns <0, 0, >0. */
int ek_value_compare(const ek_value *a, const ek_value *b);
/* Hash consistent with ek_value_equal for scalars (1 and 1.0 hash alike). */
uint64_t ek_value_hash(const ek_value *v);

/* ---- misc ---- */
const char *ek_type_name(ek_type t);  /* "null", "bool", "bigint", "float", "string", ... */
/* Numeric view: int or float as double. Returns false for other types. */
bool ek_value_as_double(const ek_value *v, double *out);

#endif
