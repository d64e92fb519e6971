/* JSON path SQL functions (eKuiper docs: sqls/json_expr.md "Json Path functions"):
 * json_path_exists, json_path_query and json_path_query_first over struct or array values.
 *
 * The dialect is the Goessner JsonPath subset eKuiper accepts: `$` root, `.key`, `["key"]` or
 * `[key]`, `[n]` (negative from the end), `[a:b]` slices, `[*]` and `.*`, `..key` recursive
 * descent, `[a,b]` unions and filters `[? @.age > 30]` / `[?(@.age > 30 && @.x == "y")]`.
 * As in eKuiper, a path made only of keys and indexes yields the value itself (a missing key is an
 * error); a path with a wildcard, slice, union, filter or descent yields an array of every match.
 * Matches are borrowed pointers into the argument while the path runs; the result takes references. */
#include "sql/func_int.h"
#include "engine/mem.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

typedef struct nodes {
    const ek_value **items;
    size_t len, cap;
} nodes;

static void nodes_push(nodes *n, const ek_value *v)
{
    if (n->len == n->cap) {
        n->cap = n->cap ? n->cap * 2 : 8;
        n->items = ek_realloc(n->items, n->cap * sizeof *n->items);
    }
    n->items[n->len++] = v;
}

typedef struct jp {
    const char *s;   /* the path text, NUL-terminated */
    size_t pos;
    bool multi;      /* a wildcard, slice, union, filter or descent was seen */
    ek_err *err;
    int rc;
} jp;

static void skip_ws(jp *p) { while (isspace((unsigned char)p->s[p->pos])) p->pos++; }

static int fail(jp *p, const char *what)
{
    if (!p->rc) p->rc = ek_err_set(p->err, EK_EINVAL, "invalid json path \"%s\" at %zu: %s", p->s, p->pos + 1, what);
    return p->rc;
}

/* Reads a bare identifier (letters, digits, _ and any non-ASCII byte) into [*b, *e). */
static bool ident(jp *p, size_t *b, size_t *e)
{
    *b = p->pos;
    while (p->s[p->pos] && (isalnum((unsigned char)p->s[p->pos]) || p->s[p->pos] == '_' ||
                            p->s[p->pos] == '-' || (unsigned char)p->s[p->pos] >= 0x80))
        p->pos++;
    *e = p->pos;
    return *e > *b;
}

/* A quoted string literal: returns a new string value (escapes \" \' \\ kept simple). */
static bool quoted(jp *p, ek_value *out)
{
    char q = p->s[p->pos];
    if (q != '"' && q != '\'') return false;
    ek_buf b = EK_BUF_INIT;
    p->pos++;
    while (p->s[p->pos] && p->s[p->pos] != q) {
        if (p->s[p->pos] == '\\' && p->s[p->pos + 1]) p->pos++;
        ek_buf_putc(&b, p->s[p->pos++]);
    }
    if (p->s[p->pos] != q) { ek_buf_free(&b); fail(p, "unterminated string"); return false; }
    p->pos++;
    *out = ek_string_n(b.data ? b.data : "", b.len);
    ek_buf_free(&b);
    return true;
}

static void child_key(const nodes *in, const char *k, size_t kl, bool multi, nodes *out, jp *p)
{
    for (size_t i = 0; i < in->len; i++) {
        const ek_value *v = in->items[i];
        const ek_value *c = v->type == EK_T_OBJECT ? ek_object_get_n(v, k, kl) : NULL;
        if (c) nodes_push(out, c);
        else if (!multi && !p->rc) p->rc = ek_err_set(p->err, EK_EINVAL, "json path: unknown key %.*s", (int)kl, k);
    }
}

static void children(const ek_value *v, nodes *out)
{
    if (v->type == EK_T_ARRAY)
        for (size_t i = 0; i < ek_array_len(v); i++) nodes_push(out, ek_array_get(v, i));
    else if (v->type == EK_T_OBJECT)
        for (size_t i = 0; i < ek_object_len(v); i++) nodes_push(out, ek_object_val(v, i));
}

static void descend(const ek_value *v, const char *k, size_t kl, nodes *out)
{
    if (v->type == EK_T_OBJECT) {
        const ek_value *c = ek_object_get_n(v, k, kl);
        if (c) nodes_push(out, c);
    }
    nodes kids = {0};
    children(v, &kids);
    for (size_t i = 0; i < kids.len; i++) descend(kids.items[i], k, kl, out);
    ek_free(kids.items);
}

static int run_steps(jp *p, nodes *cur, bool stop_at_op);

/* ---- filter expressions ---- */

static ek_value filt_or(jp *p, const ek_value *at);

static ek_value filt_operand(jp *p, const ek_value *at)
{
    skip_ws(p);
    char ch = p->s[p->pos];
    ek_value v = ek_null();
    if (ch == '(') {
        p->pos++;
        v = filt_or(p, at);
        skip_ws(p);
        if (p->s[p->pos] != ')') fail(p, "expected )");
        else p->pos++;
        return v;
    }
    if (ch == '@' || ch == '$') {
        p->pos++;
        nodes cur = {0};
        nodes_push(&cur, at);
        bool saved = p->multi;
        p->multi = true;  /* a missing key inside a filter is simply no match */
        run_steps(p, &cur, true);
        p->multi = saved;
        if (cur.len) v = ek_value_ref(cur.items[0]);
        ek_free(cur.items);
        return v;
    }
    if (quoted(p, &v)) return v;
    if (isdigit((unsigned char)ch) || ch == '-' || ch == '.') {
        char *end;
        double f = strtod(p->s + p->pos, &end);
        p->pos = (size_t)(end - p->s);
        return ek_float(f);
    }
    static const struct { const char *w; ek_type t; bool b; } words[] = {
        {"true", EK_T_BOOL, true}, {"false", EK_T_BOOL, false}, {"null", EK_T_NULL, false}};
    for (size_t i = 0; i < 3; i++) {
        size_t wl = strlen(words[i].w);
        if (strncmp(p->s + p->pos, words[i].w, wl) == 0) {
            p->pos += wl;
            return words[i].t == EK_T_BOOL ? ek_bool(words[i].b) : ek_null();
        }
    }
    fail(p, "expected a value in the filter");
    return v;
}

static bool truthy(const ek_value *v)
{
    switch (v->type) {
    case EK_T_NULL: return false;
    case EK_T_BOOL: return v->b;
    default: return true;
    }
}

static const char *const cmp_ops[] = {"==", "!=", "<=", ">=", "<", ">", "="};

static ek_value filt_cmp(jp *p, const ek_value *at)
{
    ek_value l = filt_operand(p, at);
    skip_ws(p);
    int op = -1;
    for (int i = 0; i < 7; i++)
        if (strncmp(p->s + p->pos, cmp_ops[i], strlen(cmp_ops[i])) == 0) { op = i; p->pos += strlen(cmp_ops[i]); break; }
    if (op < 0) return l;
    ek_value r = filt_operand(p, at);
    bool res = false;
    if (l.type != EK_T_NULL || r.type != EK_T_NULL) {
        bool comparable = (ek_is_number(&l) && ek_is_number(&r)) || (l.type == EK_T_STRING && r.type == EK_T_STRING);
        int c = comparable ? ek_value_compare(&l, &r) : 0;
        switch (op) {
        case 0: case 6: res = ek_value_equal(&l, &r); break;
        case 1: res = !ek_value_equal(&l, &r); break;
        case 2: res = comparable && c <= 0; break;
        case 3: res = comparable && c >= 0; break;
        case 4: res = comparable && c < 0; break;
        default: res = comparable && c > 0; break;
        }
    } else {
        res = op == 0 || op == 6;
    }
    ek_value_unref(&l);
    ek_value_unref(&r);
    return ek_bool(res);
}

static ek_value filt_not(jp *p, const ek_value *at)
{
    skip_ws(p);
    if (p->s[p->pos] == '!' && p->s[p->pos + 1] != '=') {
        p->pos++;
        ek_value v = filt_not(p, at);
        bool t = truthy(&v);
        ek_value_unref(&v);
        return ek_bool(!t);
    }
    return filt_cmp(p, at);
}

static ek_value filt_and(jp *p, const ek_value *at)
{
    ek_value l = filt_not(p, at);
    for (;;) {
        skip_ws(p);
        if (strncmp(p->s + p->pos, "&&", 2) != 0) return l;
        p->pos += 2;
        ek_value r = filt_not(p, at);
        bool t = truthy(&l) && truthy(&r);
        ek_value_unref(&l);
        ek_value_unref(&r);
        l = ek_bool(t);
    }
}

static ek_value filt_or(jp *p, const ek_value *at)
{
    ek_value l = filt_and(p, at);
    for (;;) {
        skip_ws(p);
        if (strncmp(p->s + p->pos, "||", 2) != 0) return l;
        p->pos += 2;
        ek_value r = filt_and(p, at);
        bool t = truthy(&l) || truthy(&r);
        ek_value_unref(&l);
        ek_value_unref(&r);
        l = ek_bool(t);
    }
}

/* [? expr] over the children of every node; the filter text is re-read for each candidate. */
static void filter(jp *p, const nodes *in, nodes *out)
{
    size_t start = p->pos, end = start;
    nodes cand = {0};
    for (size_t i = 0; i < in->len; i++) children(in->items[i], &cand);
    if (!cand.len) {  /* still parse the filter once to find where it ends */
        ek_value dummy = ek_null();
        ek_value v = filt_or(p, &dummy);
        ek_value_unref(&v);
        end = p->pos;
    }
    for (size_t i = 0; i < cand.len && !p->rc; i++) {
        p->pos = start;
        ek_value v = filt_or(p, cand.items[i]);
        if (truthy(&v)) nodes_push(out, cand.items[i]);
        ek_value_unref(&v);
        end = p->pos;
    }
    p->pos = end;
    ek_free(cand.items);
}

/* ---- brackets ---- */

static void index_of(const nodes *in, long idx, nodes *out, jp *p)
{
    for (size_t i = 0; i < in->len; i++) {
        const ek_value *v = in->items[i];
        if (v->type != EK_T_ARRAY) {
            if (!p->multi && !p->rc) p->rc = ek_err_set(p->err, EK_EINVAL, "json path: index %ld applied to a %s", idx, ek_type_name(v->type));
            continue;
        }
        long n = (long)ek_array_len(v), k = idx < 0 ? n + idx : idx;
        if (k >= 0 && k < n) nodes_push(out, ek_array_get(v, (size_t)k));
        else if (!p->multi && !p->rc) p->rc = ek_err_set(p->err, EK_EINVAL, "json path: index %ld out of range", idx);
    }
}

static void slice(const nodes *in, long a, long b, bool has_b, nodes *out)
{
    for (size_t i = 0; i < in->len; i++) {
        const ek_value *v = in->items[i];
        if (v->type != EK_T_ARRAY) continue;
        long n = (long)ek_array_len(v), s = a < 0 ? n + a : a, e = has_b ? (b < 0 ? n + b : b) : n;
        if (s < 0) s = 0;
        if (e > n) e = n;
        for (long k = s; k < e; k++) nodes_push(out, ek_array_get(v, (size_t)k));
    }
}

/* One bracket item: a key, an index, a slice or `*`. Sets *more when a ',' follows. */
static void bracket_item(jp *p, const nodes *in, nodes *out)
{
    skip_ws(p);
    ek_value key;
    char *end;
    if (p->s[p->pos] == '*') { p->pos++; p->multi = true; for (size_t i = 0; i < in->len; i++) children(in->items[i], out); return; }
    if (quoted(p, &key)) { child_key(in, ek_str_ptr(&key), ek_str_len(&key), p->multi, out, p); ek_value_unref(&key); return; }
    if (isdigit((unsigned char)p->s[p->pos]) || p->s[p->pos] == '-' || p->s[p->pos] == ':') {
        long a = p->s[p->pos] == ':' ? 0 : strtol(p->s + p->pos, &end, 10);
        if (p->s[p->pos] != ':') p->pos = (size_t)(end - p->s);
        skip_ws(p);
        if (p->s[p->pos] != ':') { index_of(in, a, out, p); return; }
        p->pos++;
        p->multi = true;
        skip_ws(p);
        bool has_b = isdigit((unsigned char)p->s[p->pos]) || p->s[p->pos] == '-';
        long b = has_b ? strtol(p->s + p->pos, &end, 10) : 0;
        if (has_b) p->pos = (size_t)(end - p->s);
        slice(in, a, b, has_b, out);
        return;
    }
    size_t kb, ke;
    if (ident(p, &kb, &ke)) { child_key(in, p->s + kb, ke - kb, p->multi, out, p); return; }
    fail(p, "expected a key, an index, a slice or *");
}

static void bracket(jp *p, const nodes *in, nodes *out)
{
    skip_ws(p);
    if (p->s[p->pos] == '?') {
        p->pos++;
        p->multi = true;
        filter(p, in, out);
    } else {
        bracket_item(p, in, out);
        skip_ws(p);
        while (!p->rc && p->s[p->pos] == ',') {
            p->pos++;
            p->multi = true;
            bracket_item(p, in, out);
            skip_ws(p);
        }
    }
    skip_ws(p);
    if (p->s[p->pos] != ']') fail(p, "expected ]");
    else p->pos++;
}

/* Applies path steps to cur until the text ends (or, inside a filter, an operator starts). */
static int run_steps(jp *p, nodes *cur, bool stop_at_op)
{
    while (!p->rc && p->s[p->pos]) {
        nodes next = {0};
        char ch = p->s[p->pos];
        size_t kb, ke;
        if (ch == '.' && p->s[p->pos + 1] == '.') {
            p->pos += 2;
            p->multi = true;
            if (!ident(p, &kb, &ke)) { ek_free(next.items); return fail(p, "expected a key after .."); }
            for (size_t i = 0; i < cur->len; i++) descend(cur->items[i], p->s + kb, ke - kb, &next);
        } else if (ch == '.') {
            p->pos++;
            if (p->s[p->pos] == '*') {
                p->pos++;
                p->multi = true;
                for (size_t i = 0; i < cur->len; i++) children(cur->items[i], &next);
            } else if (ident(p, &kb, &ke)) {
                child_key(cur, p->s + kb, ke - kb, p->multi, &next, p);
            } else {
                ek_free(next.items);
                return fail(p, "expected a key after .");
            }
        } else if (ch == '[') {
            p->pos++;
            bracket(p, cur, &next);
        } else if (stop_at_op) {
            ek_free(next.items);
            return 0;
        } else if (isspace((unsigned char)ch)) {
            p->pos++;
            ek_free(next.items);
            continue;
        } else {
            ek_free(next.items);
            return fail(p, "unexpected character");
        }
        ek_free(cur->items);
        *cur = next;
    }
    return p->rc;
}

/* Runs path over v. On success *out is the plain value (single-valued path) or an array. */
static int json_path(const char *fn, const ek_value *a, ek_value *out, bool *multi, ek_err *e)
{
    const char *path;
    size_t plen;
    if (func__arg_str(fn, a, 1, &path, &plen, e)) return e->code;
    jp p = {.s = path, .err = e};
    skip_ws(&p);
    if (path[p.pos] != '$') return fail(&p, "a path starts with $");
    p.pos++;
    nodes cur = {0};
    nodes_push(&cur, &a[0]);
    int rc = run_steps(&p, &cur, false);
    if (!rc) {
        *multi = p.multi;
        if (p.multi) {
            *out = ek_array_new(cur.len);
            for (size_t i = 0; i < cur.len; i++) ek_array_push(out, ek_value_ref(cur.items[i]));
        } else {
            *out = cur.len ? ek_value_ref(cur.items[0]) : ek_null();
        }
    }
    ek_free(cur.items);
    return rc;
}

static int f_json_path_query(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    bool multi;
    if (func__any_null(a, 2)) { *o = ek_null(); return 0; }
    if (a[1].type != EK_T_STRING) return func__type_err(e, "json_path_query", 1, "a json path string", &a[1]);
    if (json_path("json_path_query", a, o, &multi, e)) return ek_err_prefix(e, "json_path_query");
    return 0;
}

static int f_json_path_query_first(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    bool multi;
    ek_value r;
    if (func__any_null(a, 2)) { *o = ek_null(); return 0; }
    if (a[1].type != EK_T_STRING) return func__type_err(e, "json_path_query_first", 1, "a json path string", &a[1]);
    if (json_path("json_path_query_first", a, &r, &multi, e)) return ek_err_prefix(e, "json_path_query_first");
    if (r.type != EK_T_ARRAY) {
        ek_value_unref(&r);
        return ek_err_set(e, EK_EINVAL, "json_path_query_first: the query result is not an array");
    }
    *o = ek_array_len(&r) ? ek_value_ref(ek_array_get(&r, 0)) : ek_null();
    ek_value_unref(&r);
    return 0;
}

static int f_json_path_exists(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    bool multi;
    ek_value r;
    ek_err ignored = {0};
    if (func__any_null(a, 2)) { *o = ek_bool(false); return 0; }
    if (a[1].type != EK_T_STRING) return func__type_err(e, "json_path_exists", 1, "a string", &a[1]);
    if (json_path("json_path_exists", a, &r, &multi, &ignored)) { *o = ek_bool(false); return 0; }
    *o = ek_bool(r.type == EK_T_ARRAY ? ek_array_len(&r) > 0 : r.type != EK_T_NULL);
    ek_value_unref(&r);
    return 0;
}

const ek_func_def ek_funcs_json[] = {
    {"json_path_exists", EK_FUNC_SCALAR, 2, 2, f_json_path_exists, NULL, true},
    {"json_path_query", EK_FUNC_SCALAR, 2, 2, f_json_path_query, NULL, true},
    {"json_path_query_first", EK_FUNC_SCALAR, 2, 2, f_json_path_query_first, NULL, true},
    {NULL, 0, 0, 0, NULL, NULL, false},
};
