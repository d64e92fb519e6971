/* The binder (see bind.h): resolves names of a parsed SELECT against stream definitions and
 * refuses what eKuiper refuses when a rule is created. It walks every clause once with a small
 * context saying where it is (SELECT field i, WHERE, GROUP BY ...), so the same expression
 * walker knows whether aggregates and aliases are allowed. It only writes the `bound` parts of
 * nodes and select fields' out_name, plus two rewrites: the argument of meta()/mqtt() becomes a
 * string literal (it names metadata, not a column), and a.b where a is not a source becomes a
 * nested field (how = EK_FB_NESTED). */
#include "sql/bind.h"
#include "engine/mem.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

typedef enum clause {
    CL_SELECT, CL_WHERE, CL_GROUP, CL_HAVING, CL_ORDER, CL_ON, CL_WINDOW,
} clause;

static const char *const clause_names[] = {"SELECT", "WHERE", "GROUP BY", "HAVING", "ORDER BY", "ON", "window"};

typedef struct binder {
    ek_select *sel;
    const ek_sql_schema **schema;   /* per source */
    size_t nsrc;
    bool ignore_case;
    ek_func_resolver resolve;
    void *resolve_arg;
    ek_err *err;
    clause where;
    size_t field;                   /* CL_SELECT: the field being bound; aliases before it are visible */
    bool in_agg;                    /* inside an aggregate call's arguments */
    bool in_call;                   /* binding a call's argument list: * EXCEPT(...) is allowed */
} binder;

static int fail(binder *b, const ek_expr *e, int code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fail(binder *b, const ek_expr *e, int code, const char *fmt, ...)
{
    char msg[EK_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (e) return ek_err_set(b->err, code, "line %d, column %d: %s", e->line, e->col, msg);
    return ek_err_set(b->err, code, "%s", msg);
}

static bool name_eq(const binder *b, const char *x, const char *y)
{
    return b->ignore_case ? strcasecmp(x, y) == 0 : strcmp(x, y) == 0;
}

bool ek_sql_is_window_name(const char *name)
{
    static const char *const w[] = {"tumblingwindow", "hoppingwindow", "slidingwindow", "sessionwindow",
                                    "countwindow", "statewindow"};
    for (size_t i = 0; i < sizeof w / sizeof *w; i++)
        if (strcasecmp(name, w[i]) == 0) return true;
    return false;
}

void ek_sql_schema_from_create(const ek_create_stmt *c, ek_sql_schema *s)
{
    s->name = c->name;
    s->is_table = c->is_table;
    s->schemaless = c->schemaless;
    s->cols = c->cols;
    s->ncols = c->ncols;
}

/* ---------------------------------------------------------------- fields */

static int source_index(const binder *b, const char *q)
{
    for (size_t i = 0; i < b->nsrc; i++) {
        const ek_source *s = &b->sel->sources[i];
        if ((s->alias && strcmp(s->alias, q) == 0) || strcmp(s->name, q) == 0) return (int)i;
    }
    return -1;
}

static long column_index(const binder *b, const ek_sql_schema *s, const char *name)
{
    for (size_t i = 0; i < s->ncols; i++)
        if (name_eq(b, s->cols[i].name, name)) return (long)i;
    return -1;
}

/* Binds `name` as a column of source src (known to exist). */
static int bind_in_source(binder *b, ek_expr *e, int src)
{
    const ek_sql_schema *s = b->schema[src];
    e->bound.how = EK_FB_COLUMN;
    e->bound.src = src;
    if (s->schemaless) return 0;
    long i = column_index(b, s, e->name);
    if (i < 0) return fail(b, e, EK_EPLAN, "unknown field %s in stream %s", e->name, s->name);
    e->bound.slot = (int)i;
    e->bound.type = s->cols[i].type.kind;
    if (strcmp(e->name, s->cols[i].name) != 0) {  /* ignoreCase: read the key as the schema spells it */
        ek_free(e->name);
        e->name = ek_strdup(s->cols[i].name);
    }
    return 0;
}

/* An unqualified column: the one source whose schema has it, or a schemaless source. */
static int bind_unqualified(binder *b, ek_expr *e)
{
    int found = -1, schemaless = -1, nschemaless = 0;
    for (size_t i = 0; i < b->nsrc; i++) {
        const ek_sql_schema *s = b->schema[i];
        if (s->schemaless) {
            if (schemaless < 0) schemaless = (int)i;
            nschemaless++;
        } else if (column_index(b, s, e->name) >= 0) {
            if (found >= 0) return fail(b, e, EK_EPLAN, "ambiguous field %s%s", e->name, ", qualify it with a stream name");
            found = (int)i;
        }
    }
    if (found >= 0) return bind_in_source(b, e, found);
    if (schemaless < 0) {
        if (b->nsrc == 1) return fail(b, e, EK_EPLAN, "unknown field %s in stream %s", e->name, b->schema[0]->name);
        return fail(b, e, EK_EPLAN, "unknown field %s%s", e->name, "");
    }
    e->bound.how = EK_FB_COLUMN;
    /* With several schemaless sources the field is looked up in each row at run time. */
    e->bound.src = nschemaless == 1 ? schemaless : -1;
    return 0;
}

static int find_alias(const binder *b, const char *name, size_t before)
{
    for (size_t i = 0; i < before && i < b->sel->nfields; i++) {
        const char *a = b->sel->fields[i].alias;
        if (a && name_eq(b, a, name)) return (int)i;
    }
    return -1;
}

static int bind_field(binder *b, ek_expr *e)
{
    e->bound.how = EK_FB_UNBOUND;
    e->bound.src = e->bound.slot = e->bound.alias_idx = -1;
    e->bound.type = EK_T_NULL;
    if (e->qualifier) {
        int src = source_index(b, e->qualifier);
        if (src >= 0) return bind_in_source(b, e, src);
        /* a.b with a not a stream: the nested field b of column a */
        ek_expr q = *e;
        q.qualifier = NULL;
        q.name = e->qualifier;
        int rc = bind_unqualified(b, &q);
        if (rc) return rc;
        if (q.name != e->qualifier) e->qualifier = q.name;  /* respelled under ignoreCase */
        e->bound = q.bound;
        e->bound.how = EK_FB_NESTED;
        e->bound.type = EK_T_NULL;
        return 0;
    }
    int alias = -1;
    if (b->where == CL_SELECT) alias = find_alias(b, e->name, b->field);
    if (alias >= 0) {
        e->bound.how = EK_FB_ALIAS;
        e->bound.alias_idx = alias;
        e->bound.aggregate = b->sel->fields[alias].expr->bound.aggregate;
        return 0;
    }
    if (b->where == CL_ORDER || b->where == CL_HAVING) {
        /* ORDER BY/HAVING may name a select alias, unless a schema has a column of that name. */
        int a = find_alias(b, e->name, b->sel->nfields);
        bool column = false;
        for (size_t i = 0; i < b->nsrc && a >= 0; i++)
            if (!b->schema[i]->schemaless && column_index(b, b->schema[i], e->name) >= 0) column = true;
        if (a >= 0 && !column) {
            e->bound.how = EK_FB_ALIAS;
            e->bound.alias_idx = a;
            e->bound.aggregate = b->sel->fields[a].expr->bound.aggregate;
            return 0;
        }
    }
    return bind_unqualified(b, e);
}

/* ---------------------------------------------------------------- calls */

static int bind_expr(binder *b, ek_expr *e);
static int bind_wildcard(binder *b, ek_expr *e);

static int bind_list(binder *b, ek_expr_list *l)
{
    for (size_t i = 0; i < l->count; i++) {
        ek_expr *a = l->items[i];
        int rc = a->kind == EK_E_WILDCARD && b->in_call ? bind_wildcard(b, a) : bind_expr(b, a);
        if (rc) return rc;
    }
    return 0;
}

static bool any_aggregate(const ek_expr_list *l)
{
    for (size_t i = 0; i < l->count; i++)
        if (l->items[i]->bound.aggregate) return true;
    return false;
}

/* meta(topic), meta(a.b.c), meta(*), mqtt(topic): the argument names metadata; make it a string. */
static void meta_args(ek_expr *e)
{
    for (size_t i = 0; i < e->args.count; i++) {
        ek_expr *a = e->args.items[i];
        if (a->kind != EK_E_FIELD && a->kind != EK_E_DEREF && a->kind != EK_E_WILDCARD) continue;
        char *path = a->kind == EK_E_FIELD && !a->qualifier ? ek_strdup(a->name) : ek_expr_to_string(a);
        for (char *p = path; (p = strstr(p, "->")) != NULL;) {  /* a->b prints as the path a.b */
            *p = '.';
            memmove(p + 1, p + 2, strlen(p + 2) + 1);
        }
        ek_expr *lit = ek_expr_new(EK_E_LIT, a->line, a->col);
        lit->lit = ek_string(path);
        ek_free(path);
        ek_expr_free(a);
        e->args.items[i] = lit;
    }
}

static const ek_func_def *resolve(const binder *b, const char *name)
{
    const ek_func_def *d = b->resolve ? b->resolve(name, b->resolve_arg) : NULL;
    return d ? d : ek_func_lookup(name);
}

static int check_args(binder *b, ek_expr *e, const ek_func_def *d)
{
    int n = (int)e->args.count;
    /* changed_cols takes any number of columns; the compiler packs them into its third argument. */
    int max = strcmp(d->name, "changed_cols") == 0 ? -1 : d->max_args;
    if (n < d->min_args || (max >= 0 && n > max)) {
        char want[64];
        if (max < 0) snprintf(want, sizeof want, "at least %d", d->min_args);
        else if (d->max_args == d->min_args) snprintf(want, sizeof want, "%d", d->min_args);
        else snprintf(want, sizeof want, "%d to %d", d->min_args, d->max_args);
        char got[96];
        snprintf(got, sizeof got, "%s argument%s, got %d", want, strcmp(want, "1") ? "s" : "", n);
        return fail(b, e, EK_EPLAN, "function %s expects %s", d->name, got);
    }
    if (!d->check) return 0;
    ek_func_arg_info *info = ek_malloc((n > 0 ? (size_t)n : 1) * sizeof *info);
    for (int i = 0; i < n; i++) {
        const ek_expr *a = e->args.items[i];
        info[i].is_const = a->kind == EK_E_LIT;
        info[i].value = a->kind == EK_E_LIT ? a->lit : ek_null();
        info[i].type = a->kind == EK_E_LIT ? a->lit.type : a->kind == EK_E_FIELD ? a->bound.type : EK_T_NULL;
    }
    ek_err err = {0};
    int rc = d->check(info, n, &err);
    ek_free(info);
    if (rc == 0) return 0;
    return fail(b, e, EK_EPLAN, "%s%s", err.msg[0] ? err.msg : "invalid arguments for ", err.msg[0] ? "" : d->name);
}

static int bind_call(binder *b, ek_expr *e)
{
    if (ek_sql_is_window_name(e->name))
        return fail(b, e, EK_EPLAN, "window function %s is only allowed in GROUP BY%s", e->name, "");
    const ek_func_def *d = resolve(b, e->name);
    if (!d) return fail(b, e, EK_EPLAN, "function %s not found%s", e->name, "");
    e->bound.def = d;
    if (strcmp(d->name, "meta") == 0 || strcmp(d->name, "mqtt") == 0) meta_args(e);
    bool agg = d->kind == EK_FUNC_AGGREGATE;
    if (agg && b->in_agg)
        return fail(b, e, EK_EPLAN, "invalid argument for func %s: aggregate argument is not allowed%s", d->name, "");
    if (agg && (b->where == CL_WHERE || b->where == CL_GROUP || b->where == CL_ON || b->where == CL_WINDOW))
        return fail(b, e, EK_EPLAN, "Not allowed to call aggregate functions in %s clause: %s", clause_names[b->where], d->name);
    if ((d->kind == EK_FUNC_MULTIROW) && b->where != CL_SELECT)
        return fail(b, e, EK_EPLAN, "function %s can only be used inside the select clause%s", d->name, "");
    if (e->filter && !agg)
        return fail(b, e, EK_EPLAN, "FILTER (WHERE ...) is only allowed after an aggregate function, not %s%s", d->name, "");
    if (e->has_over && d->kind != EK_FUNC_ANALYTIC && strcmp(d->name, "row_number") != 0)
        return fail(b, e, EK_EPLAN, "OVER (...) is only allowed after an analytic function, not %s%s", d->name, "");
    bool saved = b->in_agg, saved_call = b->in_call;
    b->in_agg = saved || agg;
    b->in_call = true;
    int rc = bind_list(b, &e->args);
    b->in_call = saved_call;
    if (!rc && e->filter) rc = bind_expr(b, e->filter);
    b->in_agg = saved;
    if (!rc) rc = bind_list(b, &e->partition);
    if (!rc && e->over_when) rc = bind_expr(b, e->over_when);
    if (rc) return rc;
    e->bound.aggregate = agg || any_aggregate(&e->args);
    return check_args(b, e, d);
}

/* ---------------------------------------------------------------- expressions */

static int bind_case(binder *b, ek_expr *e)
{
    int rc = e->a ? bind_expr(b, e->a) : 0;
    bool agg = e->a && e->a->bound.aggregate;
    for (size_t i = 0; !rc && i < e->nwhens; i++) {
        rc = bind_expr(b, e->whens[i].cond);
        if (!rc) rc = bind_expr(b, e->whens[i].result);
        if (!rc) agg = agg || e->whens[i].cond->bound.aggregate || e->whens[i].result->bound.aggregate;
    }
    if (!rc && e->else_) {
        rc = bind_expr(b, e->else_);
        if (!rc) agg = agg || e->else_->bound.aggregate;
    }
    e->bound.aggregate = agg;
    return rc;
}

static int bind_expr(binder *b, ek_expr *e)
{
    int rc = 0;
    switch (e->kind) {
    case EK_E_LIT: return 0;
    case EK_E_FIELD: return bind_field(b, e);
    case EK_E_WILDCARD:
        return fail(b, e, EK_EPLAN, "* is only allowed as a select field or a function argument%s%s", "", "");
    case EK_E_CALL: return bind_call(b, e);
    case EK_E_CASE: return bind_case(b, e);
    case EK_E_IN:
        rc = bind_list(b, &e->args);
        if (!rc && any_aggregate(&e->args)) e->bound.aggregate = true;
        break;
    default: break;
    }
    ek_expr *kids[3] = {e->a, e->b, e->c};
    for (int i = 0; !rc && i < 3; i++) {
        if (!kids[i]) continue;
        rc = bind_expr(b, kids[i]);
        if (!rc && kids[i]->bound.aggregate) e->bound.aggregate = true;
    }
    return rc;
}

/* ---------------------------------------------------------------- the statement */

static int bind_wildcard(binder *b, ek_expr *e)
{
    if (e->qualifier && source_index(b, e->qualifier) < 0)
        return fail(b, e, EK_EPLAN, "stream %s not found%s", e->qualifier, "");
    e->bound.src = e->qualifier ? source_index(b, e->qualifier) : -1;
    bool saved = b->in_call;
    b->in_call = false;
    int rc = bind_list(b, &e->replace);
    b->in_call = saved;
    return rc;
}

/* eKuiper's output key for an unaliased field; NULL for a wildcard. */
static char *field_name(const ek_expr *e, int *unnamed)
{
    if (e->kind == EK_E_WILDCARD) return NULL;
    if (e->kind == EK_E_FIELD) return ek_strdup(e->name);
    if (e->kind == EK_E_CALL) {
        char *n = ek_strdup(e->bound.def ? e->bound.def->name : e->name);
        if (!e->bound.def)
            for (char *p = n; *p; p++) *p = (char)tolower((unsigned char)*p);
        return n;
    }
    return ek_asprintf("kuiper_field_%d", (*unnamed)++);
}

static int bind_fields(binder *b)
{
    ek_select *sel = b->sel;
    int unnamed = 0;
    b->where = CL_SELECT;
    for (size_t i = 0; i < sel->nfields; i++) {
        ek_select_field *f = &sel->fields[i];
        b->field = i;
        int rc = f->expr->kind == EK_E_WILDCARD ? bind_wildcard(b, f->expr) : bind_expr(b, f->expr);
        if (rc) return rc;
        if (f->expr->kind == EK_E_WILDCARD && f->alias)
            return fail(b, f->expr, EK_EPLAN, "alias is not supported for *%s%s", "", "");
        ek_free(f->out_name);
        f->out_name = f->alias ? ek_strdup(f->alias) : field_name(f->expr, &unnamed);
    }
    return 0;
}

static int bind_clause(binder *b, clause c, ek_expr *e)
{
    if (!e) return 0;
    b->where = c;
    return bind_expr(b, e);
}

static int bind_sources(binder *b, const ek_sql_schema *schemas, size_t n)
{
    ek_select *sel = b->sel;
    b->nsrc = sel->nsources;
    for (size_t i = 0; i < sel->nsources; i++) {
        const ek_source *s = &sel->sources[i];
        b->schema[i] = NULL;
        for (size_t j = 0; j < n; j++)
            if (strcmp(schemas[j].name, s->name) == 0) b->schema[i] = &schemas[j];
        if (!b->schema[i])
            return ek_err_set(b->err, EK_ENOTFOUND, "line %d, column %d: fail to get stream %s, please check if "
                              "stream is created", s->line, s->col, s->name);
    }
    return 0;
}

/* Windows, joins and grouping: the structural rules of eKuiper's planner. */
static int check_structure(binder *b)
{
    ek_select *sel = b->sel;
    size_t streams = 0;
    for (size_t i = 0; i < b->nsrc; i++)
        if (!b->schema[i]->is_table) streams++;
    if (sel->window && streams == 0)
        return fail(b, NULL, EK_EPLAN, "cannot run window for TABLE sources%s%s", "", "");
    if (streams > 1 && !sel->window)
        return fail(b, NULL, EK_EPLAN, "a time window or count window is required to join multiple streams%s%s", "", "");
    if (sel->group_by.count && !sel->window)
        return fail(b, sel->group_by.items[0], EK_EPLAN, "select stmt group by should be used with window%s%s", "", "");
    if (streams == 0)
        return fail(b, NULL, EK_EPLAN, "a rule needs at least one stream in FROM or JOIN%s%s", "", "");
    return 0;
}

static int bind_window(binder *b, ek_window *w)
{
    if (!w) return 0;
    int rc = bind_clause(b, CL_WINDOW, w->begin);
    if (!rc) rc = bind_clause(b, CL_WINDOW, w->emit);
    if (!rc) rc = bind_clause(b, CL_WINDOW, w->filter);
    if (!rc) rc = bind_clause(b, CL_WINDOW, w->trigger);
    for (size_t i = 0; !rc && i < w->partition.count; i++) rc = bind_clause(b, CL_WINDOW, w->partition.items[i]);
    return rc;
}

int ek_sql_bind(ek_stmt *stmt, const ek_sql_schema *schemas, size_t nschemas, const ek_bind_opts *opts, ek_err *err)
{
    if (stmt->kind != EK_STMT_SELECT) return ek_err_set(err, EK_EINVAL, "only a SELECT statement can be bound");
    ek_select *sel = &stmt->select;
    binder b = {.sel = sel, .err = err};
    if (opts) {
        b.ignore_case = opts->ignore_case;
        b.resolve = opts->resolve;
        b.resolve_arg = opts->resolve_arg;
    }
    b.schema = ek_calloc(sel->nsources ? sel->nsources : 1, sizeof *b.schema);
    int rc = bind_sources(&b, schemas, nschemas);
    if (!rc) rc = check_structure(&b);
    if (!rc) rc = bind_fields(&b);
    for (size_t i = 1; !rc && i < sel->nsources; i++) rc = bind_clause(&b, CL_ON, sel->sources[i].on);
    if (!rc) rc = bind_clause(&b, CL_WHERE, sel->where);
    for (size_t i = 0; !rc && i < sel->group_by.count; i++) rc = bind_clause(&b, CL_GROUP, sel->group_by.items[i]);
    if (!rc) rc = bind_window(&b, sel->window);
    if (!rc) rc = bind_clause(&b, CL_HAVING, sel->having);
    for (size_t i = 0; !rc && i < sel->norder; i++) rc = bind_clause(&b, CL_ORDER, sel->order[i].expr);
    ek_free(b.schema);
    return rc;
}

bool ek_select_is_aggregate(const ek_select *sel)
{
    if (sel->group_by.count || sel->window) return true;
    for (size_t i = 0; i < sel->nfields; i++)
        if (sel->fields[i].expr->bound.aggregate) return true;
    return sel->having && sel->having->bound.aggregate;
}
