/* The expression compiler (see compile.h): turns bound AST expressions into ek_cexpr trees,
 * folding constants as it goes, and builds the ek_sql_program of a SELECT, including the
 * projection that produces eKuiper's output objects. Folding evaluates a node whose operands
 * are all constants with an empty context; if that fails (1/0), the node is kept so the error
 * surfaces at run time, as in eKuiper. */
#include "engine/mem.h"
#include "sql/bind.h"
#include "sql/compile_int.h"

#include <string.h>

static ek_cexpr *node(cop op)
{
    ek_cexpr *c = ek_calloc(1, sizeof *c);
    c->op = op;
    c->src = c->slot = c->alias_idx = -1;
    return c;
}

void ek_cexpr_free(ek_cexpr *c)
{
    if (!c) return;
    ek_cexpr_free(c->a);
    ek_cexpr_free(c->b);
    ek_cexpr_free(c->c);
    for (size_t i = 0; i < c->nkids; i++) ek_cexpr_free(c->kids[i]);
    ek_free(c->kids);
    if (c->names)
        for (size_t i = 0; i < c->nkids; i++) ek_free(c->names[i]);
    ek_free(c->names);
    for (size_t i = 0; i < c->npartition; i++) ek_cexpr_free(c->partition[i]);
    ek_free(c->partition);
    ek_cexpr_free(c->filter);
    ek_cexpr_free(c->when);
    ek_cexpr_free(c->commit);
    ek_value_unref(&c->val);
    ek_free(c->name);
    ek_func_ctx_release(&c->fctx);
    ek_eval__free_parts(c);
    if (c->pat) ek_like_free(c->pat);
    ek_free(c);
}

bool ek_cexpr_const(const ek_cexpr *e, const ek_value **v)
{
    if (!e || e->op != C_CONST) return false;
    if (v) *v = &e->val;
    return true;
}

static bool is_const(const ek_cexpr *c) { return !c || c->op == C_CONST; }

/* Replaces c by its value when every operand is constant and the node is pure. */
static ek_cexpr *fold(ek_cexpr *c)
{
    switch (c->op) {
    case C_CONST: case C_FIELD: case C_ROW: case C_WILD: case C_PACK: case C_ALIAS: case C_AGG: case C_ANALYTIC:
        return c;
    case C_CALL:
        if (!c->def || !c->def->deterministic || c->def->kind != EK_FUNC_SCALAR) return c;
        break;
    default: break;
    }
    if (!is_const(c->a) || !is_const(c->b) || !is_const(c->c)) return c;
    for (size_t i = 0; i < c->nkids; i++)
        if (!is_const(c->kids[i])) return c;
    ek_eval_ctx ctx = {0};
    ek_value v;
    ek_err err = {0};
    if (ek_cexpr_eval(c, &ctx, &v, &err) != 0) return c;
    ek_cexpr *k = node(C_CONST);
    k->val = v;
    ek_cexpr_free(c);
    return k;
}

/* How to compile (see ek_compile_env); depth bounds alias inlining. HAVING and ORDER BY inline
 * aliases because they run before the projection that computes alias values. */
typedef struct cctx {
    bool ci;
    const ek_select *sel;  /* non-NULL: inline alias references */
    int depth;
    ek_compile_env *env;   /* may be NULL */
} cctx;

static ek_cexpr *compile(const ek_expr *e, const cctx *cc);

static ek_cexpr **compile_list(const ek_expr_list *l, const cctx *cc)
{
    ek_cexpr **out = ek_malloc((l->count ? l->count : 1) * sizeof *out);
    for (size_t i = 0; i < l->count; i++) out[i] = compile(l->items[i], cc);
    return out;
}

static void set_name(ek_cexpr *c, const char *name)
{
    c->name = ek_strdup(name);
    c->name_len = strlen(name);
}

static ek_cexpr *compile_field(const ek_expr *e, const cctx *cc)
{
    if (e->bound.how == EK_FB_ALIAS && cc->sel && cc->depth < 16 && (size_t)e->bound.alias_idx < cc->sel->nfields) {
        cctx inner = *cc;
        inner.depth++;
        return compile(cc->sel->fields[e->bound.alias_idx].expr, &inner);
    }
    if (e->bound.how == EK_FB_ALIAS) {
        ek_cexpr *c = node(C_ALIAS);
        c->alias_idx = e->bound.alias_idx;
        return c;
    }
    ek_cexpr *c = node(C_FIELD);
    c->src = e->bound.src;
    c->slot = e->bound.slot;
    c->ci = cc->ci && c->slot < 0;
    if (e->bound.how != EK_FB_NESTED) {
        set_name(c, e->name);
        return c;
    }
    set_name(c, e->qualifier);  /* a.b: field a, then ->b */
    ek_cexpr *d = node(C_DEREF);
    d->a = c;
    set_name(d, e->name);
    return d;
}

/* changed_cols(prefix, ignoreNull, cols...): the columns become one object {name: value}; a
 * wildcard contributes the row's fields (func_analytic.c expects exactly three arguments). */
static ek_cexpr *pack_columns(const ek_expr *e, const cctx *cc)
{
    ek_cexpr *k = node(C_PACK);
    k->nkids = e->args.count - 2;
    k->kids = ek_malloc((k->nkids ? k->nkids : 1) * sizeof *k->kids);
    k->names = ek_calloc(k->nkids ? k->nkids : 1, sizeof *k->names);
    for (size_t i = 0; i < k->nkids; i++) {
        const ek_expr *a = e->args.items[i + 2];
        k->kids[i] = compile(a, cc);
        bool whole = a->kind == EK_E_WILDCARD;
        /* Named as output columns are: the column, or the function name (avg(t) -> "avg"). */
        k->names[i] = whole ? ek_strdup("") : a->kind == EK_E_FIELD ? ek_strdup(a->name) :
                      a->kind == EK_E_CALL && a->bound.def ? ek_strdup(a->bound.def->name) : ek_expr_to_string(a);
    }
    return k;
}

static ek_cexpr *compile_call(const ek_expr *e, const cctx *cc)
{
    const ek_func_def *d = e->bound.def;
    if (!d) {  /* not bound: evaluates to an error naming the function */
        ek_cexpr *u = node(C_CALL);
        set_name(u, e->name);
        return u;
    }
    cop op = d->kind == EK_FUNC_AGGREGATE ? C_AGG : (d->kind == EK_FUNC_ANALYTIC || e->has_over) ? C_ANALYTIC : C_CALL;
    ek_cexpr *c = node(op);
    c->def = d;
    set_name(c, d->name);
    c->hidden_when = op == C_ANALYTIC;
    int family = ek_compile__hit_family(d->name);
    if (family >= 0 && cc->env && cc->env->hit_ctx) {
        /* One counter per rule, read by every call site; the program advances it once per hit. */
        c->shared = &cc->env->hit_ctx[family];
        c->read_only = true;
        cc->env->hits[family]++;
    }
    if (strcmp(d->name, "changed_cols") == 0 && e->args.count >= 3) {
        c->nkids = 3;
        c->kids = ek_malloc(3 * sizeof *c->kids);
        c->kids[0] = compile(e->args.items[0], cc);
        c->kids[1] = compile(e->args.items[1], cc);
        c->kids[2] = pack_columns(e, cc);
    } else {
        c->nkids = e->args.count;
        c->kids = compile_list(&e->args, cc);
    }
    if (strcmp(d->name, "deduplicate") == 0 && c->nkids == 2) {  /* func_agg.c wants the rows too */
        c->kids = ek_realloc(c->kids, 3 * sizeof *c->kids);
        c->kids[c->nkids++] = node(C_ROW);
    }
    if (e->filter) c->filter = compile(e->filter, cc);
    if (e->partition.count) {
        c->npartition = e->partition.count;
        c->partition = compile_list(&e->partition, cc);
    }
    if (e->over_when) c->when = compile(e->over_when, cc);
    return c;
}

static ek_cexpr *compile_case(const ek_expr *e, const cctx *cc)
{
    ek_cexpr *c = node(C_CASE);
    if (e->a) c->a = compile(e->a, cc);
    c->nkids = e->nwhens * 2;
    c->kids = ek_malloc((c->nkids ? c->nkids : 1) * sizeof *c->kids);
    for (size_t i = 0; i < e->nwhens; i++) {
        c->kids[2 * i] = compile(e->whens[i].cond, cc);
        c->kids[2 * i + 1] = compile(e->whens[i].result, cc);
    }
    if (e->else_) c->c = compile(e->else_, cc);
    return c;
}

static cop binary_cop(ek_op op)
{
    switch (op) {
    case EK_OP_AND: return C_AND;
    case EK_OP_OR: return C_OR;
    case EK_OP_EQ: case EK_OP_NE: case EK_OP_LT: case EK_OP_LE: case EK_OP_GT: case EK_OP_GE: return C_CMP;
    default: return C_ARITH;
    }
}

static ek_cexpr *compile_node(const ek_expr *e, const cctx *cc)
{
    ek_cexpr *c;
    switch (e->kind) {
    case EK_E_LIT:
        c = node(C_CONST);
        c->val = ek_value_ref(&e->lit);
        return c;
    case EK_E_FIELD: return compile_field(e, cc);
    case EK_E_CALL: return compile_call(e, cc);
    case EK_E_CASE: return compile_case(e, cc);
    case EK_E_WILDCARD:
        if (!e->nexcept && !e->replace.count && !e->qualifier) return node(C_ROW);
        c = node(C_WILD);
        c->wild = e;
        c->src = e->bound.src;
        c->nkids = e->replace.count;
        c->kids = compile_list(&e->replace, cc);
        return c;
    case EK_E_UNARY:
        if (e->op == EK_OP_PLUS) return compile(e->a, cc);
        c = node(e->op == EK_OP_NOT ? C_NOT : C_NEG);
        break;
    case EK_E_BINARY: c = node(binary_cop(e->op)); break;
    case EK_E_DEREF:
        c = node(C_DEREF);
        set_name(c, e->name);
        c->ci = cc->ci;
        break;
    case EK_E_INDEX: c = node(C_INDEX); break;
    case EK_E_SLICE: c = node(C_SLICE); break;
    case EK_E_LIKE: c = node(C_LIKE); break;
    case EK_E_IN:
        c = node(C_IN);
        if (e->in_list) {
            c->nkids = e->args.count;
            c->kids = compile_list(&e->args, cc);
        }
        break;
    case EK_E_BETWEEN: c = node(C_BETWEEN); break;
    case EK_E_ISNULL: c = node(C_ISNULL); break;
    default: return node(C_CONST);
    }
    c->bop = e->op;
    c->negated = e->negated;
    if (e->a) c->a = compile(e->a, cc);
    if (e->b) c->b = compile(e->b, cc);
    if (e->c) c->c = compile(e->c, cc);
    if (c->op == C_LIKE && c->b->op == C_CONST && c->b->val.type == EK_T_STRING)
        c->pat = ek_like_compile(ek_str_ptr(&c->b->val), ek_str_len(&c->b->val));
    return c;
}

static ek_cexpr *compile(const ek_expr *e, const cctx *cc)
{
    return fold(compile_node(e, cc));
}

ek_cexpr *ek_compile__expr(const ek_expr *e, ek_compile_env *env)
{
    cctx cc = {env->ignore_case, env->inline_aliases, 0, env};
    return e ? compile(e, &cc) : NULL;
}

int ek_compile__hit_family(const char *name)
{
    if (strcmp(name, "last_hit_count") == 0 || strcmp(name, "last_hit_time") == 0) return 0;
    if (strcmp(name, "last_agg_hit_count") == 0 || strcmp(name, "last_agg_hit_time") == 0) return 1;
    return -1;
}

ek_cexpr *ek_compile__hit_commit(int family, ek_func_ctx *shared)
{
    const ek_func_def *d = ek_func_lookup(family ? "last_agg_hit_count" : "last_hit_count");
    if (!d) return NULL;
    ek_cexpr *c = node(C_ANALYTIC);
    c->def = d;
    set_name(c, d->name);
    c->hidden_when = true;
    c->shared = shared;
    return c;
}

int ek_cexpr_compile(const ek_expr *e, ek_cexpr **out, ek_err *err)
{
    (void)err;
    cctx cc = {false, NULL, 0, NULL};
    *out = compile(e, &cc);
    return 0;
}
