/* The expression evaluator: walks a compiled tree (compile_int.h) over an ek_eval_ctx.
 * Semantics are eKuiper's (see compile.h): int op int stays int, floats win, nil propagates
 * through arithmetic and makes comparisons and logic false, mixed types are errors. Every
 * function returns 0 with *out owned by the caller, or EK_EEXEC with err set and *out null. */
#include "engine/mem.h"
#include "sql/compile_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define NODE_ERR(err, ...) ek_err_set((err), EK_EEXEC, __VA_ARGS__)

/* A short "type(value)" for messages, as eKuiper's invalid operation errors show operands. */
static const char *describe(const ek_value *v, char *buf, size_t n)
{
    switch (v->type) {
    case EK_T_INT: snprintf(buf, n, "bigint(%lld)", (long long)v->i); break;
    case EK_T_FLOAT: snprintf(buf, n, "float(%g)", v->f); break;
    case EK_T_BOOL: snprintf(buf, n, "boolean(%s)", v->b ? "true" : "false"); break;
    case EK_T_STRING: snprintf(buf, n, "string(%.40s)", v->s->data); break;
    default: snprintf(buf, n, "%s", ek_type_name(v->type)); break;
    }
    return buf;
}

static int invalid_op(ek_op op, const ek_value *x, const ek_value *y, ek_err *err)
{
    char a[64], b[64];
    return NODE_ERR(err, "invalid operation %s %s %s", describe(x, a, sizeof a), ek_op_name(op),
                    describe(y, b, sizeof b));
}

/* ---------------------------------------------------------------- fields */

static const ek_value *row_field(const ek_row *r, const ek_cexpr *e)
{
    const ek_value *m = &r->msg;
    if (m->type != EK_T_OBJECT) return NULL;
    if (e->slot >= 0 && (size_t)e->slot < m->o->len) {
        const ek_str *k = m->o->keys[e->slot];
        if (k->len == e->name_len && memcmp(k->data, e->name, e->name_len) == 0) return &m->o->vals[e->slot];
    }
    return e->ci ? ek_object_get_ci(m, e->name) : ek_object_get_n(m, e->name, e->name_len);
}

/* The field's value in the current tuple (borrowed from the row), or NULL when absent. */
static const ek_value *field_ptr(const ek_cexpr *e, const ek_eval_ctx *ctx)
{
    if (e->src >= 0)
        return (size_t)e->src < ctx->nrows && ctx->rows[e->src] ? row_field(ctx->rows[e->src], e) : NULL;
    for (size_t i = 0; i < ctx->nrows; i++) {
        const ek_value *v = ctx->rows[i] ? row_field(ctx->rows[i], e) : NULL;
        if (v) return v;
    }
    return NULL;
}

static int eval_field(const ek_cexpr *e, const ek_eval_ctx *ctx, ek_value *out)
{
    const ek_value *v = field_ptr(e, ctx);
    *out = v ? ek_value_ref(v) : ek_null();
    return 0;
}

/* Evaluates an operand without taking a reference when its value already lives in a row or in the
 * tree (fields, constants): *p points at the value, and *tmp holds an owned value otherwise.
 * The caller releases *tmp (null when borrowed). Saves two atomic operations per string operand. */
const ek_value *ek_eval__borrow(const ek_cexpr *e, const ek_eval_ctx *ctx)
{
    static const ek_value nil = {.type = EK_T_NULL};
    if (e->op == C_CONST) return &e->val;
    if (e->op != C_FIELD) return NULL;
    const ek_value *v = field_ptr(e, ctx);
    return v ? v : &nil;
}

static int eval_ref(ek_cexpr *e, const ek_eval_ctx *ctx, ek_value *tmp, const ek_value **p, ek_err *err)
{
    *tmp = ek_null();
    if ((*p = ek_eval__borrow(e, ctx)) != NULL) return 0;
    *p = tmp;
    return ek_eval__node(e, ctx, tmp, err);
}

static void eval_row(const ek_eval_ctx *ctx, ek_value *out)
{
    size_t present = 0, last = 0;
    for (size_t i = 0; i < ctx->nrows; i++)
        if (ctx->rows[i]) present++, last = i;
    if (present == 0) {
        *out = ek_object_new(0);
        return;
    }
    if (present == 1) {
        *out = ek_value_ref(&ctx->rows[last]->msg);
        return;
    }
    *out = ek_object_new(8);
    for (size_t i = 0; i < ctx->nrows; i++) {
        if (!ctx->rows[i]) continue;
        const ek_value *m = &ctx->rows[i]->msg;
        for (size_t k = 0; k < ek_object_len(m); k++)
            if (!ek_object_get(out, ek_object_key(m, k)))
                ek_object_set(out, ek_object_key(m, k), ek_value_ref(ek_object_val(m, k)));
    }
}

static bool excepted(const ek_expr *w, const char *key)
{
    for (size_t i = 0; i < w->nexcept; i++)
        if (strcmp(w->except[i], key) == 0) return true;
    return false;
}

int ek_eval__wildcard(const ek_expr *wild, int src, ek_cexpr **replace, const ek_eval_ctx *ctx, ek_value *obj,
                      ek_err *err)
{
    for (size_t r = 0; r < ctx->nrows; r++) {
        if (!ctx->rows[r] || (src >= 0 && (size_t)src != r)) continue;
        const ek_value *m = &ctx->rows[r]->msg;
        for (size_t k = 0; k < ek_object_len(m); k++) {
            const char *key = ek_object_key(m, k);
            if (excepted(wild, key) || ek_object_get(obj, key)) continue;
            ek_object_set(obj, key, ek_value_ref(ek_object_val(m, k)));
        }
    }
    for (size_t i = 0; i < wild->replace.count; i++) {
        ek_value v;
        int rc = ek_eval__node(replace[i], ctx, &v, err);
        if (rc) return rc;
        if (ek_is_null(&v)) ek_object_del(obj, wild->replace_names[i]);
        else ek_object_set(obj, wild->replace_names[i], v);
    }
    return 0;
}

/* ---------------------------------------------------------------- operators */

static int arith_int(ek_op op, int64_t x, int64_t y, ek_value *out, ek_err *err)
{
    uint64_t ux = (uint64_t)x, uy = (uint64_t)y;
    switch (op) {
    case EK_OP_ADD: *out = ek_int((int64_t)(ux + uy)); return 0;
    case EK_OP_SUB: *out = ek_int((int64_t)(ux - uy)); return 0;
    case EK_OP_MUL: *out = ek_int((int64_t)(ux * uy)); return 0;
    case EK_OP_DIV:
        if (y == 0) return NODE_ERR(err, "divided by zero");
        *out = ek_int(y == -1 ? (int64_t)(0 - ux) : x / y);
        return 0;
    case EK_OP_MOD:
        if (y == 0) return NODE_ERR(err, "divided by zero");
        *out = ek_int(y == -1 ? 0 : x % y);
        return 0;
    case EK_OP_BITAND: *out = ek_int(x & y); return 0;
    case EK_OP_BITOR: *out = ek_int(x | y); return 0;
    case EK_OP_BITXOR: *out = ek_int(x ^ y); return 0;
    default: return NODE_ERR(err, "invalid arithmetic operator");
    }
}

static int arith(ek_op op, const ek_value *x, const ek_value *y, ek_value *out, ek_err *err)
{
    *out = ek_null();
    if (ek_is_null(x) || ek_is_null(y)) {
        /* eKuiper: nil in arithmetic is nil, but bitwise operators with nil are false. */
        if (op == EK_OP_BITAND || op == EK_OP_BITOR || op == EK_OP_BITXOR) *out = ek_bool(false);
        return 0;
    }
    if (x->type == EK_T_INT && y->type == EK_T_INT) return arith_int(op, x->i, y->i, out, err);
    if (x->type == EK_T_BOOL && y->type == EK_T_BOOL) {
        switch (op) {
        case EK_OP_BITAND: *out = ek_bool(x->b && y->b); return 0;
        case EK_OP_BITOR: *out = ek_bool(x->b || y->b); return 0;
        case EK_OP_BITXOR: *out = ek_bool(x->b != y->b); return 0;
        default: return invalid_op(op, x, y, err);
        }
    }
    double a, b;
    if (!ek_value_as_double(x, &a) || !ek_value_as_double(y, &b)) return invalid_op(op, x, y, err);
    switch (op) {
    case EK_OP_ADD: *out = ek_float(a + b); return 0;
    case EK_OP_SUB: *out = ek_float(a - b); return 0;
    case EK_OP_MUL: *out = ek_float(a * b); return 0;
    case EK_OP_DIV:
        if (b == 0) return NODE_ERR(err, "divided by zero");
        *out = ek_float(a / b);
        return 0;
    case EK_OP_MOD:
        if (b == 0) return NODE_ERR(err, "divided by zero");
        *out = ek_float(fmod(a, b));
        return 0;
    default: return invalid_op(op, x, y, err);
    }
}

static bool cmp_result(ek_op op, int c)
{
    switch (op) {
    case EK_OP_EQ: return c == 0;
    case EK_OP_NE: return c != 0;
    case EK_OP_LT: return c < 0;
    case EK_OP_LE: return c <= 0;
    case EK_OP_GT: return c > 0;
    default: return c >= 0;
    }
}

/* Compares two non-nil values for op; *res gets the truth. */
static int compare(ek_op op, const ek_value *x, const ek_value *y, bool *res, ek_err *err)
{
    if (ek_is_number(x) && ek_is_number(y)) {
        if (x->type == EK_T_INT && y->type == EK_T_INT) *res = cmp_result(op, (x->i > y->i) - (x->i < y->i));
        else {
            double a = 0, b = 0;
            ek_value_as_double(x, &a);
            ek_value_as_double(y, &b);
            *res = op == EK_OP_NE ? a != b : cmp_result(op, (a > b) - (a < b)) && !(isnan(a) || isnan(b));
        }
        return 0;
    }
    if (x->type == EK_T_STRING && y->type == EK_T_STRING) {
        *res = cmp_result(op, ek_value_compare(x, y));
        return 0;
    }
    if (x->type == EK_T_BOOL && y->type == EK_T_BOOL && (op == EK_OP_EQ || op == EK_OP_NE)) {
        *res = (x->b == y->b) == (op == EK_OP_EQ);
        return 0;
    }
    if (x->type == EK_T_DATETIME || y->type == EK_T_DATETIME) {
        /* A number beside a datetime is epoch milliseconds. */
        int64_t a, b;
        const ek_value *o = x->type == EK_T_DATETIME ? y : x;
        int64_t other = o->type == EK_T_DATETIME ? o->t : o->type == EK_T_INT ? o->i * 1000000 :
                        o->type == EK_T_FLOAT ? (int64_t)(o->f * 1e6) : 0;
        bool ok = o->type == EK_T_DATETIME || ek_is_number(o) ||
                  (o->type == EK_T_STRING && ek_eval__parse_time(ek_str_ptr(o), ek_str_len(o), &other));
        if (!ok) return invalid_op(op, x, y, err);
        a = x->type == EK_T_DATETIME ? x->t : other;
        b = y->type == EK_T_DATETIME ? y->t : other;
        *res = cmp_result(op, (a > b) - (a < b));
        return 0;
    }
    return invalid_op(op, x, y, err);
}

/* Both operands of a binary node, borrowed where they can be; on error none is left to free. */
static int eval_pair(ek_cexpr *e, const ek_eval_ctx *ctx, ek_value tmp[2], const ek_value **x, const ek_value **y,
                     ek_err *err)
{
    int rc = eval_ref(e->a, ctx, &tmp[0], x, err);
    if (rc) return rc;
    if ((rc = eval_ref(e->b, ctx, &tmp[1], y, err))) ek_value_unref(&tmp[0]);
    return rc;
}

static int eval_cmp(ek_cexpr *e, const ek_eval_ctx *ctx, ek_value *out, ek_err *err)
{
    ek_value t[2];
    const ek_value *x, *y;
    int rc = eval_pair(e, ctx, t, &x, &y, err);
    if (rc) return rc;
    bool res = false;
    if (!ek_is_null(x) && !ek_is_null(y)) rc = compare(e->bop, x, y, &res, err);
    ek_value_unref(&t[0]);
    ek_value_unref(&t[1]);
    *out = rc ? ek_null() : ek_bool(res);
    return rc;
}

static int eval_arith(ek_cexpr *e, const ek_eval_ctx *ctx, ek_value *out, ek_err *err)
{
    ek_value t[2];
    const ek_value *x, *y;
    int rc = eval_pair(e, ctx, t, &x, &y, err);
    if (rc) return rc;
    rc = arith(e->bop, x, y, out, err);
    ek_value_unref(&t[0]);
    ek_value_unref(&t[1]);
    return rc;
}

/* AND / OR as eKuiper: short-circuit on a bool, nil on either side gives false. */
static int eval_logic(ek_cexpr *e, const ek_eval_ctx *ctx, ek_value *out, ek_err *err)
{
    bool is_and = e->op == C_AND;
    ek_value x, y;
    *out = ek_null();
    int rc = ek_eval__node(e->a, ctx, &x, err);
    if (rc) return rc;
    if (x.type == EK_T_BOOL && x.b != is_and) {
        *out = ek_bool(!is_and);
        return 0;
    }
    if ((rc = ek_eval__node(e->b, ctx, &y, err))) {
        ek_value_unref(&x);
        return rc;
    }
    if (ek_is_null(&x) || ek_is_null(&y)) *out = ek_bool(false);
    else if (x.type == EK_T_BOOL && y.type == EK_T_BOOL) *out = ek_bool(is_and ? x.b && y.b : x.b || y.b);
    else rc = invalid_op(is_and ? EK_OP_AND : EK_OP_OR, &x, &y, err);
    ek_value_unref(&x);
    ek_value_unref(&y);
    return rc;
}

static int eval_unary(ek_cexpr *e, const ek_eval_ctx *ctx, ek_value *out, ek_err *err)
{
    ek_value x;
    int rc = ek_eval__node(e->a, ctx, &x, err);
    if (rc) return rc;
    *out = ek_null();
    if (ek_is_null(&x)) return 0;
    if (e->op == C_NOT && x.type == EK_T_BOOL) *out = ek_bool(!x.b);
    else if (e->op == C_NEG && x.type == EK_T_INT) *out = ek_int((int64_t)(0 - (uint64_t)x.i));
    else if (e->op == C_NEG && x.type == EK_T_FLOAT) *out = ek_float(-x.f);
    else {
        char a[64];
        rc = NODE_ERR(err, "invalid operation %s %s", e->op == C_NOT ? "NOT" : "-", describe(&x, a, sizeof a));
    }
    ek_value_unref(&x);
    return rc;
}

/* ---------------------------------------------------------------- nested values */

static int deref(const ek_cexpr *e, const ek_value *x, ek_value *out, ek_err *err)
{
    *out = ek_null();
    if (ek_is_null(x)) return 0;
    if (x->type == EK_T_OBJECT) {
        const ek_value *v = e->ci ? ek_object_get_ci(x, e->name) : ek_object_get_n(x, e->name, e->name_len);
        if (v) *out = ek_value_ref(v);
        return 0;
    }
    if (x->type == EK_T_ARRAY) {  /* arr[:2]->name maps over the elements */
        ek_value arr = ek_array_new(ek_array_len(x));
        for (size_t i = 0; i < ek_array_len(x); i++) {
            ek_value v;
            int rc = deref(e, ek_array_get(x, i), &v, err);
            if (rc) {
                ek_value_unref(&arr);
                return rc;
            }
            ek_array_push(&arr, v);
        }
        *out = arr;
        return 0;
    }
    char a[64];
    return NODE_ERR(err, "the result %s is not a map, cannot read ->%s", describe(x, a, sizeof a), e->name);
}

static int eval_deref(ek_cexpr *e, const ek_eval_ctx *ctx, ek_value *out, ek_err *err)
{
    ek_value x;
    int rc = ek_eval__node(e->a, ctx, &x, err);
    if (rc) return rc;
    rc = deref(e, &x, out, err);
    ek_value_unref(&x);
    return rc;
}

/* An index operand: an integer, or a whole float. */
static int as_index(const ek_value *v, int64_t *out, ek_err *err)
{
    if (v->type == EK_T_INT) *out = v->i;
    else if (v->type == EK_T_FLOAT && v->f == floor(v->f) && fabs(v->f) < 9e15) *out = (int64_t)v->f;
    else {
        char a[64];
        return NODE_ERR(err, "index %s is not int", describe(v, a, sizeof a));
    }
    return 0;
}

static int eval_index(ek_cexpr *e, const ek_eval_ctx *ctx, ek_value *out, ek_err *err)
{
    ek_value x = ek_null(), i = ek_null();
    *out = ek_null();
    int rc = ek_eval__node(e->a, ctx, &x, err);
    if (rc) return rc;
    if ((rc = ek_eval__node(e->b, ctx, &i, err))) goto out;
    if (ek_is_null(&x) || ek_is_null(&i)) goto out;
    int64_t k;
    if ((rc = as_index(&i, &k, err))) goto out;
    if (x.type != EK_T_ARRAY) {
        char a[64];
        rc = NODE_ERR(err, "[] is an invalid operation for %s", describe(&x, a, sizeof a));
        goto out;
    }
    int64_t n = (int64_t)ek_array_len(&x);
    if (k < 0) k += n;
    if (k < 0 || k >= n) rc = NODE_ERR(err, "out of index: %lld of %lld", (long long)(k < 0 ? k - n : k), (long long)n);
    else *out = ek_value_ref(ek_array_get(&x, (size_t)k));
out:
    ek_value_unref(&x);
    ek_value_unref(&i);
    return rc;
}

static int slice_bound(ek_cexpr *b, const ek_eval_ctx *ctx, int64_t dflt, int64_t *out, ek_err *err)
{
    *out = dflt;
    if (!b) return 0;
    ek_value v = ek_null();
    int rc = ek_eval__node(b, ctx, &v, err);
    if (!rc && !ek_is_null(&v)) rc = as_index(&v, out, err);
    ek_value_unref(&v);
    return rc;
}

static int eval_slice(ek_cexpr *e, const ek_eval_ctx *ctx, ek_value *out, ek_err *err)
{
    ek_value x;
    *out = ek_null();
    int rc = ek_eval__node(e->a, ctx, &x, err);
    if (rc || ek_is_null(&x)) return rc;
    int64_t lo, hi, n = x.type == EK_T_ARRAY ? (int64_t)ek_array_len(&x) : 0;
    if (x.type != EK_T_ARRAY) {
        char a[64];
        rc = NODE_ERR(err, "[:] is an invalid operation for %s", describe(&x, a, sizeof a));
    } else if (!(rc = slice_bound(e->b, ctx, 0, &lo, err)) && !(rc = slice_bound(e->c, ctx, n, &hi, err))) {
        if (lo < 0) lo += n;
        if (hi < 0) hi += n;
        if (lo < 0 || hi < 0 || hi > n || (lo >= n && n > 0))
            rc = NODE_ERR(err, "out of index: %lld:%lld of %lld", (long long)lo, (long long)hi, (long long)n);
        else if (lo > hi)
            rc = NODE_ERR(err, "start cannot be greater than end. start:%lld  end:%lld", (long long)lo, (long long)hi);
        else {
            *out = ek_array_new((size_t)(hi - lo));
            for (int64_t k = lo; k < hi; k++) ek_array_push(out, ek_value_ref(ek_array_get(&x, (size_t)k)));
        }
    }
    ek_value_unref(&x);
    return rc;
}

/* ---------------------------------------------------------------- predicates */

static int eval_like(ek_cexpr *e, const ek_eval_ctx *ctx, ek_value *out, ek_err *err)
{
    ek_value tx, p = ek_null();
    const ek_value *x;
    *out = ek_bool(false);
    int rc = eval_ref(e->a, ctx, &tx, &x, err);
    if (rc) return rc;
    if (!e->pat && (rc = ek_eval__node(e->b, ctx, &p, err))) goto out;
    if (ek_is_null(x) || (!e->pat && ek_is_null(&p))) goto out;
    if (x->type != EK_T_STRING) {
        char a[64];
        rc = NODE_ERR(err, "LIKE operator left operand expects string, but found %s", describe(x, a, sizeof a));
        goto out;
    }
    bool m;
    if (e->pat) {
        m = ek_like_match(e->pat, ek_str_ptr(x), ek_str_len(x));
    } else if (p.type == EK_T_STRING) {
        like_pat *lp = ek_like_compile(ek_str_ptr(&p), ek_str_len(&p));
        m = ek_like_match(lp, ek_str_ptr(x), ek_str_len(x));
        ek_like_free(lp);
    } else {
        char a[64];
        rc = NODE_ERR(err, "LIKE operator right operand expects string, but found %s", describe(&p, a, sizeof a));
        goto out;
    }
    *out = ek_bool(m != e->negated);
out:
    ek_value_unref(&tx);
    ek_value_unref(&p);
    return rc;
}

static int eval_in(ek_cexpr *e, const ek_eval_ctx *ctx, ek_value *out, ek_err *err)
{
    ek_value x, arr = ek_null();
    *out = ek_bool(false);
    int rc = ek_eval__node(e->a, ctx, &x, err);
    if (rc) return rc;
    bool found = false;
    if (e->b) {
        if ((rc = ek_eval__node(e->b, ctx, &arr, err))) goto out;
        if (ek_is_null(&arr)) goto out;
        if (arr.type != EK_T_ARRAY) {
            char a[64];
            rc = NODE_ERR(err, "IN expects an array on its right, got %s", describe(&arr, a, sizeof a));
            goto out;
        }
        for (size_t i = 0; i < ek_array_len(&arr) && !found; i++) found = ek_value_equal(&x, ek_array_get(&arr, i));
    } else {
        for (size_t i = 0; i < e->nkids && !found; i++) {
            ek_value v;
            if ((rc = ek_eval__node(e->kids[i], ctx, &v, err))) goto out;
            found = ek_value_equal(&x, &v);
            ek_value_unref(&v);
        }
    }
    if (!ek_is_null(&x)) *out = ek_bool(found != e->negated);
out:
    ek_value_unref(&x);
    ek_value_unref(&arr);
    return rc;
}

static int eval_between(ek_cexpr *e, const ek_eval_ctx *ctx, ek_value *out, ek_err *err)
{
    ek_value x = ek_null(), lo = ek_null(), hi = ek_null();
    *out = ek_bool(false);
    int rc = ek_eval__node(e->a, ctx, &x, err);
    if (!rc) rc = ek_eval__node(e->b, ctx, &lo, err);
    if (!rc) rc = ek_eval__node(e->c, ctx, &hi, err);
    if (!rc && !ek_is_null(&x) && !ek_is_null(&lo) && !ek_is_null(&hi)) {
        bool ge = false, le = false;
        rc = compare(EK_OP_GE, &x, &lo, &ge, err);
        if (!rc) rc = compare(EK_OP_LE, &x, &hi, &le, err);
        if (!rc) *out = ek_bool((ge && le) != e->negated);
    }
    ek_value_unref(&x);
    ek_value_unref(&lo);
    ek_value_unref(&hi);
    return rc;
}

static int eval_case(ek_cexpr *e, const ek_eval_ctx *ctx, ek_value *out, ek_err *err)
{
    ek_value subject = ek_null();
    *out = ek_null();
    int rc = e->a ? ek_eval__node(e->a, ctx, &subject, err) : 0;
    if (rc) return rc;
    for (size_t i = 0; i + 1 < e->nkids; i += 2) {
        ek_value c;
        if ((rc = ek_eval__node(e->kids[i], ctx, &c, err))) break;
        bool hit = false;
        if (e->a) {
            if (!ek_is_null(&subject) && !ek_is_null(&c)) rc = compare(EK_OP_EQ, &subject, &c, &hit, err);
        } else if (c.type == EK_T_BOOL) {
            hit = c.b;
        } else if (!ek_is_null(&c)) {
            rc = NODE_ERR(err, "invalid CASE expression, WHEN expression must be a bool condition");
        }
        ek_value_unref(&c);
        if (rc) break;
        if (hit) {
            rc = ek_eval__node(e->kids[i + 1], ctx, out, err);
            ek_value_unref(&subject);
            return rc;
        }
    }
    ek_value_unref(&subject);
    if (rc) return rc;
    return e->c ? ek_eval__node(e->c, ctx, out, err) : 0;
}

/* ---------------------------------------------------------------- dispatch */

int ek_eval__node(ek_cexpr *e, const ek_eval_ctx *ctx, ek_value *out, ek_err *err)
{
    *out = ek_null();  /* so a node that fails leaves nothing its caller could release twice */
    switch (e->op) {
    case C_CONST: *out = ek_value_ref(&e->val); return 0;
    case C_FIELD: return eval_field(e, ctx, out);
    case C_ROW: eval_row(ctx, out); return 0;
    case C_PACK: {
        *out = ek_object_new(e->nkids);
        for (size_t i = 0; i < e->nkids; i++) {
            ek_value v;
            int rc = ek_eval__node(e->kids[i], ctx, &v, err);
            if (rc) {
                ek_value_unref(out);
                return rc;
            }
            if (e->names[i][0]) {
                ek_object_set(out, e->names[i], v);
                continue;
            }
            for (size_t k = 0; v.type == EK_T_OBJECT && k < ek_object_len(&v); k++)
                ek_object_set(out, ek_object_key(&v, k), ek_value_ref(ek_object_val(&v, k)));
            ek_value_unref(&v);
        }
        return 0;
    }
    case C_WILD: {
        *out = ek_object_new(8);
        int rc = ek_eval__wildcard(e->wild, e->src, e->kids, ctx, out, err);
        if (rc) ek_value_unref(out);
        return rc;
    }
    case C_ALIAS:
        *out = ctx->aliases && (size_t)e->alias_idx < ctx->naliases ? ek_value_ref(&ctx->aliases[e->alias_idx]) : ek_null();
        return 0;
    case C_NEG: case C_NOT: return eval_unary(e, ctx, out, err);
    case C_ARITH: return eval_arith(e, ctx, out, err);
    case C_CMP: return eval_cmp(e, ctx, out, err);
    case C_AND: case C_OR: return eval_logic(e, ctx, out, err);
    case C_DEREF: return eval_deref(e, ctx, out, err);
    case C_INDEX: return eval_index(e, ctx, out, err);
    case C_SLICE: return eval_slice(e, ctx, out, err);
    case C_LIKE: return eval_like(e, ctx, out, err);
    case C_IN: return eval_in(e, ctx, out, err);
    case C_BETWEEN: return eval_between(e, ctx, out, err);
    case C_ISNULL: {
        ek_value x;
        int rc = ek_eval__node(e->a, ctx, &x, err);
        if (rc) return rc;
        *out = ek_bool(ek_is_null(&x) != e->negated);
        ek_value_unref(&x);
        return 0;
    }
    case C_CASE: return eval_case(e, ctx, out, err);
    case C_CALL: case C_AGG: case C_ANALYTIC: return ek_eval__call(e, ctx, out, err);
    }
    *out = ek_null();
    return NODE_ERR(err, "unknown expression");
}

int ek_cexpr_eval(ek_cexpr *e, const ek_eval_ctx *ctx, ek_value *out, ek_err *err)
{
    *out = ek_null();
    int rc = ek_eval__node(e, ctx, out, err);
    if (rc) *out = ek_null();  /* nodes never hold a reference when they fail */
    return rc;
}

int ek_cexpr_eval_bool(ek_cexpr *e, const ek_eval_ctx *ctx, bool *out, ek_err *err)
{
    ek_value v;
    *out = e == NULL;  /* an absent clause holds */
    if (!e) return 0;
    int rc = ek_cexpr_eval(e, ctx, &v, err);
    if (rc) return rc;
    if (v.type == EK_T_BOOL) *out = v.b;
    else if (!ek_is_null(&v)) {
        char a[64];
        rc = NODE_ERR(err, "condition must be a boolean, got %s", describe(&v, a, sizeof a));
    }
    ek_value_unref(&v);
    if (rc == 0 && *out && e->commit) {  /* a WHERE/HAVING holding hit counters passed: count it */
        ek_value ignored;
        rc = ek_eval__node(e->commit, ctx, &ignored, err);
        if (rc == 0) ek_value_unref(&ignored);
    }
    return rc;
}
