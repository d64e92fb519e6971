/* ek_sql_program: a compiled SELECT (see compile.h). Builds one compiled expression per clause
 * and evaluates the projection: the output object of one tuple or group, with eKuiper's rules for
 * wildcards, EXCEPT/REPLACE, nil fields (left out), INVISIBLE fields and aliases seen by later
 * fields. ORDER BY/HAVING references to an alias compile the aliased expression in place. */
#include "engine/mem.h"
#include "sql/bind.h"
#include "sql/compile_int.h"

#include <string.h>

typedef struct program_int {
    ek_sql_program pub;
    ek_value *alias_vals;       /* per field, reused across rows */
    bool *alias_used;           /* per field: a later field reads its alias (else its value moves) */
    ek_func_ctx hit_ctx[2];     /* the rule's last_hit_* and last_agg_hit_* counters */
    ek_cexpr *proj_commit[2];   /* advance a counter after each projection (used in SELECT only) */
} program_int;

static void compile_fields(ek_sql_program *p, const ek_select *sel, ek_compile_env *env)
{
    p->nfields = sel->nfields;
    p->fields = ek_calloc(sel->nfields ? sel->nfields : 1, sizeof *p->fields);
    for (size_t i = 0; i < sel->nfields; i++) {
        const ek_select_field *f = &sel->fields[i];
        ek_proj_field *pf = &p->fields[i];
        pf->name = f->out_name;
        pf->key = ek_string(f->out_name ? f->out_name : "");
        pf->invisible = f->invisible;
        if (f->expr->kind == EK_E_WILDCARD) {
            pf->wildcard = true;
            pf->wild = f->expr;
            pf->src = f->expr->bound.src;
            if (f->expr->replace.count) {
                pf->replace = ek_malloc(f->expr->replace.count * sizeof *pf->replace);
                for (size_t r = 0; r < f->expr->replace.count; r++)
                    pf->replace[r] = ek_compile__expr(f->expr->replace.items[r], env);
            }
        } else {
            pf->expr = ek_compile__expr(f->expr, env);
            const ek_func_def *d = f->expr->kind == EK_E_CALL ? f->expr->bound.def : NULL;
            pf->spread = d && strcmp(d->name, "changed_cols") == 0;
            pf->multirow = d && d->kind == EK_FUNC_MULTIROW;
        }
    }
}

/* Marks used[i] for every alias reference to field i under e. */
static void mark_alias_refs(const ek_expr *e, bool *used)
{
    if (!e) return;
    if (e->kind == EK_E_FIELD && e->bound.how == EK_FB_ALIAS && e->bound.alias_idx >= 0) used[e->bound.alias_idx] = true;
    mark_alias_refs(e->a, used);
    mark_alias_refs(e->b, used);
    mark_alias_refs(e->c, used);
    for (size_t i = 0; i < e->args.count; i++) mark_alias_refs(e->args.items[i], used);
    for (size_t i = 0; i < e->nwhens; i++) {
        mark_alias_refs(e->whens[i].cond, used);
        mark_alias_refs(e->whens[i].result, used);
    }
    mark_alias_refs(e->else_, used);
    mark_alias_refs(e->filter, used);
    for (size_t i = 0; i < e->partition.count; i++) mark_alias_refs(e->partition.items[i], used);
    mark_alias_refs(e->over_when, used);
    for (size_t i = 0; i < e->replace.count; i++) mark_alias_refs(e->replace.items[i], used);
}

static bool tree_has_analytic(const ek_expr *e)
{
    if (!e) return false;
    if (e->kind == EK_E_CALL && e->bound.def && (e->bound.def->kind == EK_FUNC_ANALYTIC || e->has_over)) return true;
    if (tree_has_analytic(e->a) || tree_has_analytic(e->b) || tree_has_analytic(e->c)) return true;
    for (size_t i = 0; i < e->args.count; i++)
        if (tree_has_analytic(e->args.items[i])) return true;
    for (size_t i = 0; i < e->nwhens; i++)
        if (tree_has_analytic(e->whens[i].cond) || tree_has_analytic(e->whens[i].result)) return true;
    return tree_has_analytic(e->else_);
}

/* Compiles a condition; when it holds hit counters of a family, the counter advances each time
 * the condition is true (eKuiper: "in WHERE it only updates the count when the condition is true"). */
static ek_cexpr *compile_condition(const ek_expr *e, ek_compile_env *env, bool *used)
{
    int before[2] = {env->hits[0], env->hits[1]};
    ek_cexpr *c = ek_compile__expr(e, env);
    for (int f = 0; c && f < 2; f++) {
        if (env->hits[f] == before[f] || c->commit) continue;
        c->commit = ek_compile__hit_commit(f, &env->hit_ctx[f]);
        used[f] = true;
    }
    return c;
}

static void compile_window(ek_sql_program *p, const ek_window *w, ek_compile_env *env, bool *used)
{
    p->win_filter = ek_compile__expr(w->filter, env);
    p->win_trigger = compile_condition(w->trigger, env, used);
    p->state_begin = ek_compile__expr(w->begin, env);
    p->state_emit = ek_compile__expr(w->emit, env);
    p->nwin_partition = w->partition.count;
    p->win_partition = ek_calloc(p->nwin_partition ? p->nwin_partition : 1, sizeof *p->win_partition);
    for (size_t i = 0; i < p->nwin_partition; i++) p->win_partition[i] = ek_compile__expr(w->partition.items[i], env);
}

int ek_sql_compile(const ek_stmt *stmt, const ek_compile_opts *opts, ek_sql_program **out, ek_err *err)
{
    *out = NULL;
    if (stmt->kind != EK_STMT_SELECT) return ek_err_set(err, EK_EINVAL, "only a SELECT statement can be compiled");
    const ek_select *sel = &stmt->select;
    program_int *pi = ek_calloc(1, sizeof *pi);
    ek_sql_program *p = &pi->pub;
    ek_compile_env env = {.ignore_case = opts && opts->ignore_case, .hit_ctx = pi->hit_ctx};
    bool cond_used[2] = {false, false};
    p->sel = sel;
    compile_fields(p, sel, &env);
    int field_hits[2] = {env.hits[0], env.hits[1]};
    pi->alias_vals = ek_calloc(sel->nfields ? sel->nfields : 1, sizeof *pi->alias_vals);
    pi->alias_used = ek_calloc(sel->nfields ? sel->nfields : 1, sizeof *pi->alias_used);
    for (size_t i = 0; i < sel->nfields; i++) mark_alias_refs(sel->fields[i].expr, pi->alias_used);
    p->where = compile_condition(sel->where, &env, cond_used);
    p->nsources = sel->nsources;
    p->join_on = ek_calloc(sel->nsources ? sel->nsources : 1, sizeof *p->join_on);
    for (size_t i = 0; i < sel->nsources; i++) p->join_on[i] = ek_compile__expr(sel->sources[i].on, &env);
    p->ngroup = sel->group_by.count;
    p->group_by = ek_calloc(p->ngroup ? p->ngroup : 1, sizeof *p->group_by);
    for (size_t i = 0; i < p->ngroup; i++) p->group_by[i] = ek_compile__expr(sel->group_by.items[i], &env);
    env.inline_aliases = sel;
    p->having = compile_condition(sel->having, &env, cond_used);
    p->norder = sel->norder;
    p->order_by = ek_calloc(p->norder ? p->norder : 1, sizeof *p->order_by);
    for (size_t i = 0; i < p->norder; i++) p->order_by[i] = ek_compile__expr(sel->order[i].expr, &env);
    env.inline_aliases = NULL;
    if (sel->window) compile_window(p, sel->window, &env, cond_used);
    /* Hit counters read only in the select list advance once per output row. */
    for (int f = 0; f < 2; f++)
        if (field_hits[f] && !cond_used[f]) pi->proj_commit[f] = ek_compile__hit_commit(f, &pi->hit_ctx[f]);
    p->aggregate = ek_select_is_aggregate(sel);
    for (size_t i = 0; i < sel->nfields; i++)
        if (tree_has_analytic(sel->fields[i].expr)) p->has_analytic = true;
    if (tree_has_analytic(sel->where)) p->has_analytic = true;
    *out = p;
    return 0;
}

static void free_list(ek_cexpr **l, size_t n)
{
    for (size_t i = 0; i < n; i++) ek_cexpr_free(l[i]);
    ek_free(l);
}

void ek_sql_program_free(ek_sql_program *p)
{
    if (!p) return;
    program_int *pi = (program_int *)p;
    for (size_t i = 0; i < p->nfields; i++) {
        ek_cexpr_free(p->fields[i].expr);
        ek_value_unref(&p->fields[i].key);
        if (p->fields[i].replace) free_list(p->fields[i].replace, p->fields[i].wild->replace.count);
        ek_value_unref(&pi->alias_vals[i]);
    }
    ek_free(p->fields);
    ek_free(pi->alias_vals);
    ek_free(pi->alias_used);
    for (int f = 0; f < 2; f++) {
        ek_cexpr_free(pi->proj_commit[f]);
        ek_func_ctx_release(&pi->hit_ctx[f]);
    }
    ek_cexpr_free(p->where);
    free_list(p->join_on, p->nsources);
    free_list(p->group_by, p->ngroup);
    ek_cexpr_free(p->having);
    free_list(p->order_by, p->norder);
    ek_cexpr_free(p->win_filter);
    ek_cexpr_free(p->win_trigger);
    ek_cexpr_free(p->state_begin);
    ek_cexpr_free(p->state_emit);
    if (p->win_partition) free_list(p->win_partition, p->nwin_partition);
    ek_free(pi);
}

/* ---------------------------------------------------------------- projection */

/* Adds one field's value to the output, taking v; changed_cols spreads its object into the row. */
static void put_field(const ek_proj_field *f, ek_value v, ek_value *out)
{
    if (f->spread && v.type == EK_T_OBJECT) {
        for (size_t k = 0; k < ek_object_len(&v); k++)
            ek_object_set(out, ek_object_key(&v, k), ek_value_ref(ek_object_val(&v, k)));
        ek_value_unref(&v);
    } else {
        ek_object_set_str(out, f->key.s, v);
    }
}

int ek_sql_project(ek_sql_program *p, const ek_eval_ctx *ctx, ek_value *out, ek_err *err)
{
    program_int *pi = (program_int *)p;
    ek_eval_ctx c = *ctx;
    c.aliases = pi->alias_vals;
    c.naliases = 0;
    *out = ek_object_new(p->nfields);
    int rc = 0;
    for (size_t i = 0; i < p->nfields && !rc; i++) {
        const ek_proj_field *f = &p->fields[i];
        if (f->wildcard) {
            rc = ek_eval__wildcard(f->wild, f->src, f->replace, &c, out, err);
        } else {
            ek_value v;
            rc = ek_cexpr_eval(f->expr, &c, &v, err);
            if (rc) break;
            bool show = !f->invisible && !ek_is_null(&v);
            if (pi->alias_used[i]) {  /* a later field reads it: keep a reference for ctx.aliases */
                pi->alias_vals[i] = v;
                if (show) put_field(f, ek_value_ref(&v), out);
            } else if (show) {
                put_field(f, v, out);
            } else {
                ek_value_unref(&v);
            }
        }
        c.naliases = i + 1;
    }
    for (size_t i = 0; i < p->nfields; i++) ek_value_unref(&pi->alias_vals[i]);
    for (int f = 0; f < 2 && !rc; f++) {
        if (!pi->proj_commit[f]) continue;
        ek_value ignored;
        if ((rc = ek_cexpr_eval(pi->proj_commit[f], &c, &ignored, err)) == 0) ek_value_unref(&ignored);
    }
    if (rc) ek_value_unref(out);
    return rc;
}

int ek_sql_group_key(ek_sql_program *p, const ek_eval_ctx *ctx, ek_value *out, ek_err *err)
{
    *out = ek_array_new(p->ngroup);
    for (size_t i = 0; i < p->ngroup; i++) {
        ek_value v;
        int rc = ek_cexpr_eval(p->group_by[i], ctx, &v, err);
        if (rc) {
            ek_value_unref(out);
            return rc;
        }
        ek_array_push(out, v);
    }
    return 0;
}

/* ---------------------------------------------------------------- call-site state */

typedef struct walk_arg {
    const char *name;
    const ek_eval_ctx *ctx;
    ek_err *err;
    int rc;
} walk_arg;

static void walk(ek_cexpr *e, void (*fn)(ek_cexpr *, void *), void *w)
{
    if (!e) return;
    walk(e->a, fn, w);
    walk(e->b, fn, w);
    walk(e->c, fn, w);
    for (size_t i = 0; i < e->nkids; i++) walk(e->kids[i], fn, w);
    for (size_t i = 0; i < e->npartition; i++) walk(e->partition[i], fn, w);
    walk(e->filter, fn, w);
    walk(e->when, fn, w);
    fn(e, w);
}

static void update_one(ek_cexpr *e, void *arg)
{
    walk_arg *w = arg;
    if (e->op == C_ANALYTIC && w->rc == 0) w->rc = ek_eval__analytic_now(e, w->ctx, w->err);
}

int ek_sql_update_analytic(ek_sql_program *p, const ek_eval_ctx *ctx, ek_err *err)
{
    if (!p->has_analytic) return 0;
    walk_arg w = {NULL, ctx, err, 0};
    for (size_t i = 0; i < p->nfields; i++) walk(p->fields[i].expr, update_one, &w);
    walk(p->where, update_one, &w);
    return w.rc;
}

static void reset_one(ek_cexpr *e, void *arg)
{
    walk_arg *w = arg;
    if (!e->def || (w->name && strcmp(e->def->name, w->name) != 0)) return;
    ek_func_ctx_release(&e->fctx);
    ek_eval__free_parts(e);
}

void ek_compile__walk_program(ek_sql_program *p, void (*fn)(ek_cexpr *, void *), void *w)
{
    for (size_t i = 0; i < p->nfields; i++) {
        walk(p->fields[i].expr, fn, w);
        for (size_t r = 0; p->fields[i].replace && r < p->fields[i].wild->replace.count; r++)
            walk(p->fields[i].replace[r], fn, w);
    }
    ek_cexpr *single[] = {p->where, p->having, p->win_filter, p->win_trigger, p->state_begin, p->state_emit};
    for (size_t i = 0; i < sizeof single / sizeof *single; i++) walk(single[i], fn, w);
    for (size_t i = 0; i < p->nsources; i++) walk(p->join_on[i], fn, w);
    for (size_t i = 0; i < p->ngroup; i++) walk(p->group_by[i], fn, w);
    for (size_t i = 0; i < p->norder; i++) walk(p->order_by[i], fn, w);
    for (size_t i = 0; i < p->nwin_partition; i++) walk(p->win_partition[i], fn, w);
}

void ek_sql_program_reset_state(ek_sql_program *p, const char *name)
{
    walk_arg w = {name, NULL, NULL, 0};
    ek_compile__walk_program(p, reset_one, &w);
}
