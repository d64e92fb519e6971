/* AST lifetime and printing (see ast.h). The printer writes one canonical text per tree, fully
 * parenthesised, so tests can compare "how was this parsed" as a string and EXPLAIN can show a
 * rule's plan; parsing the printed text again gives the same tree. */
#include "sql/ast.h"
#include "engine/codec_json.h"
#include "engine/mem.h"
#include "sql/lexer.h"

#include <math.h>
#include <string.h>

/* ---------------------------------------------------------------- lifetime */

ek_expr *ek_expr_new(ek_expr_kind kind, int line, int col)
{
    ek_expr *e = ek_calloc(1, sizeof *e);
    e->kind = kind;
    e->line = line;
    e->col = col;
    e->bound.src = -1;
    e->bound.slot = -1;
    e->bound.alias_idx = -1;
    return e;
}

void ek_expr_list_push(ek_expr_list *l, ek_expr *e)
{
    l->items = ek_realloc(l->items, (l->count + 1) * sizeof *l->items);
    l->items[l->count++] = e;
}

void ek_expr_list_free(ek_expr_list *l)
{
    for (size_t i = 0; i < l->count; i++) ek_expr_free(l->items[i]);
    ek_free(l->items);
    l->items = NULL;
    l->count = 0;
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++) ek_free(names[i]);
    ek_free(names);
}

void ek_expr_free(ek_expr *e)
{
    if (!e) return;
    ek_expr_free(e->a);
    ek_expr_free(e->b);
    ek_expr_free(e->c);
    ek_value_unref(&e->lit);
    ek_free(e->qualifier);
    ek_free(e->name);
    ek_expr_list_free(&e->args);
    for (size_t i = 0; i < e->nwhens; i++) {
        ek_expr_free(e->whens[i].cond);
        ek_expr_free(e->whens[i].result);
    }
    ek_free(e->whens);
    ek_expr_free(e->else_);
    ek_expr_free(e->filter);
    ek_expr_list_free(&e->partition);
    ek_expr_free(e->over_when);
    free_names(e->except, e->nexcept);
    free_names(e->replace_names, e->replace.count);
    ek_expr_list_free(&e->replace);
    ek_free(e);
}

void ek_sql_type_free(ek_sql_type *t)
{
    if (!t) return;
    if (t->elem) {
        ek_sql_type_free(t->elem);
        ek_free(t->elem);
    }
    for (size_t i = 0; i < t->nfields; i++) {
        ek_free(t->fields[i].name);
        ek_sql_type_free(&t->fields[i].type);
        ek_value_unref(&t->fields[i].def);
    }
    ek_free(t->fields);
    memset(t, 0, sizeof *t);
}

void ek_window_free(ek_window *w)
{
    if (!w) return;
    ek_expr_free(w->begin);
    ek_expr_free(w->emit);
    ek_expr_free(w->filter);
    ek_expr_free(w->trigger);
    ek_expr_list_free(&w->partition);
    ek_free(w);
}

static void select_free(ek_select *s)
{
    for (size_t i = 0; i < s->nfields; i++) {
        ek_expr_free(s->fields[i].expr);
        ek_free(s->fields[i].alias);
        ek_free(s->fields[i].out_name);
    }
    ek_free(s->fields);
    for (size_t i = 0; i < s->nsources; i++) {
        ek_free(s->sources[i].name);
        ek_free(s->sources[i].alias);
        ek_expr_free(s->sources[i].on);
    }
    ek_free(s->sources);
    ek_expr_free(s->where);
    ek_expr_list_free(&s->group_by);
    ek_window_free(s->window);
    ek_expr_free(s->having);
    for (size_t i = 0; i < s->norder; i++) ek_expr_free(s->order[i].expr);
    ek_free(s->order);
}

void ek_stmt_free(ek_stmt *s)
{
    if (!s) return;
    select_free(&s->select);
    ek_create_stmt *c = &s->create;
    ek_free(c->name);
    for (size_t i = 0; i < c->ncols; i++) {
        ek_free(c->cols[i].name);
        ek_sql_type_free(&c->cols[i].type);
        ek_value_unref(&c->cols[i].def);
    }
    ek_free(c->cols);
    for (int i = 0; i < EK_PROP_COUNT; i++) ek_free(c->props[i]);
    ek_free(s->name);
    ek_free(s);
}

/* ---------------------------------------------------------------- names */

const char *ek_op_name(ek_op op)
{
    static const char *const names[] = {
        [EK_OP_NONE] = "?", [EK_OP_NEG] = "-", [EK_OP_PLUS] = "+", [EK_OP_NOT] = "NOT",
        [EK_OP_ADD] = "+", [EK_OP_SUB] = "-", [EK_OP_MUL] = "*", [EK_OP_DIV] = "/",
        [EK_OP_MOD] = "%", [EK_OP_BITAND] = "&", [EK_OP_BITOR] = "|", [EK_OP_BITXOR] = "^",
        [EK_OP_EQ] = "=", [EK_OP_NE] = "!=", [EK_OP_LT] = "<", [EK_OP_LE] = "<=",
        [EK_OP_GT] = ">", [EK_OP_GE] = ">=", [EK_OP_AND] = "AND", [EK_OP_OR] = "OR",
    };
    return (unsigned)op < sizeof names / sizeof *names ? names[op] : "?";
}

const char *ek_window_kind_name(ek_window_kind k)
{
    static const char *const names[] = {
        "", "TUMBLINGWINDOW", "HOPPINGWINDOW", "SLIDINGWINDOW", "SESSIONWINDOW", "COUNTWINDOW", "STATEWINDOW",
    };
    return (unsigned)k < sizeof names / sizeof *names ? names[k] : "";
}

/* ---------------------------------------------------------------- printing */

/* A name as it must be written to parse back: in backticks unless it is a plain identifier. */
static void print_ident(ek_buf *out, const char *name)
{
    if (ek_sql_is_plain_ident(name)) ek_buf_puts(out, name);
    else ek_buf_printf(out, "`%s`", name);
}

static void print_lit(const ek_value *v, ek_buf *out)
{
    switch (v->type) {
    case EK_T_NULL: ek_buf_puts(out, "NULL"); break;
    case EK_T_BOOL: ek_buf_puts(out, v->b ? "TRUE" : "FALSE"); break;
    case EK_T_INT: ek_buf_printf(out, "%lld", (long long)v->i); break;
    case EK_T_FLOAT: {
        char b[32];
        if (isinf(v->f)) {  /* only from a literal too large for a double: print one back */
            ek_buf_puts(out, v->f > 0 ? "1e999" : "-1e999");
            break;
        }
        ek_json_format_double(v->f, b);
        ek_buf_puts(out, b);
        if (!strpbrk(b, ".en")) ek_buf_puts(out, ".0");
        break;
    }
    case EK_T_STRING:
        ek_buf_putc(out, '\'');
        for (size_t i = 0; i < v->s->len; i++) {
            char c = v->s->data[i];
            if (c == '\n' || c == '\t' || c == '\r') {
                ek_buf_puts(out, c == '\n' ? "\\n" : c == '\t' ? "\\t" : "\\r");
                continue;
            }
            if (c == '\'' || c == '\\') ek_buf_putc(out, '\\');
            ek_buf_putc(out, c);
        }
        ek_buf_putc(out, '\'');
        break;
    default: ek_buf_puts(out, "?"); break;
    }
}

static void print_list(const ek_expr_list *l, ek_buf *out)
{
    for (size_t i = 0; i < l->count; i++) {
        if (i) ek_buf_puts(out, ", ");
        ek_expr_print(l->items[i], out);
    }
}

static void print_names(char *const *names, size_t n, ek_buf *out)
{
    for (size_t i = 0; i < n; i++) {
        if (i) ek_buf_puts(out, ", ");
        print_ident(out, names[i]);
    }
}

static void print_call(const ek_expr *e, ek_buf *out)
{
    ek_buf_printf(out, "%s(", e->name);
    print_list(&e->args, out);
    ek_buf_putc(out, ')');
    if (e->filter) {
        ek_buf_puts(out, " FILTER (WHERE ");
        ek_expr_print(e->filter, out);
        ek_buf_putc(out, ')');
    }
    if (e->has_over) {
        ek_buf_puts(out, " OVER (");
        if (e->partition.count) {
            ek_buf_puts(out, "PARTITION BY ");
            print_list(&e->partition, out);
        }
        if (e->over_when) {
            ek_buf_puts(out, e->partition.count ? " WHEN " : "WHEN ");
            ek_expr_print(e->over_when, out);
        }
        ek_buf_putc(out, ')');
    }
}

static void print_case(const ek_expr *e, ek_buf *out)
{
    ek_buf_puts(out, "CASE");
    if (e->a) {
        ek_buf_putc(out, ' ');
        ek_expr_print(e->a, out);
    }
    for (size_t i = 0; i < e->nwhens; i++) {
        ek_buf_puts(out, " WHEN ");
        ek_expr_print(e->whens[i].cond, out);
        ek_buf_puts(out, " THEN ");
        ek_expr_print(e->whens[i].result, out);
    }
    if (e->else_) {
        ek_buf_puts(out, " ELSE ");
        ek_expr_print(e->else_, out);
    }
    ek_buf_puts(out, " END");
}

static void print_wildcard(const ek_expr *e, ek_buf *out)
{
    if (e->qualifier) {
        print_ident(out, e->qualifier);
        ek_buf_putc(out, '.');
    }
    ek_buf_putc(out, '*');
    if (e->nexcept) {
        ek_buf_puts(out, " EXCEPT(");
        print_names(e->except, e->nexcept, out);
        ek_buf_putc(out, ')');
    }
    if (e->replace.count) {
        ek_buf_puts(out, " REPLACE(");
        for (size_t i = 0; i < e->replace.count; i++) {
            if (i) ek_buf_puts(out, ", ");
            ek_expr_print(e->replace.items[i], out);
            ek_buf_puts(out, " AS ");
            print_ident(out, e->replace_names[i]);
        }
        ek_buf_putc(out, ')');
    }
}

static void print_pred(const ek_expr *e, ek_buf *out)
{
    const char *neg = e->negated ? "NOT " : "";
    ek_buf_putc(out, '(');
    ek_expr_print(e->a, out);
    switch (e->kind) {
    case EK_E_LIKE:
        ek_buf_printf(out, " %sLIKE ", neg);
        ek_expr_print(e->b, out);
        break;
    case EK_E_IN:
        ek_buf_printf(out, " %sIN ", neg);
        if (e->in_list) {
            ek_buf_putc(out, '(');
            print_list(&e->args, out);
            ek_buf_putc(out, ')');
        } else {
            ek_expr_print(e->b, out);
        }
        break;
    case EK_E_BETWEEN:
        ek_buf_printf(out, " %sBETWEEN ", neg);
        ek_expr_print(e->b, out);
        ek_buf_puts(out, " AND ");
        ek_expr_print(e->c, out);
        break;
    default: /* IS NULL */
        ek_buf_printf(out, " IS %sNULL", neg);
        break;
    }
    ek_buf_putc(out, ')');
}

void ek_expr_print(const ek_expr *e, ek_buf *out)
{
    if (!e) {
        ek_buf_puts(out, "<null>");
        return;
    }
    switch (e->kind) {
    case EK_E_LIT: print_lit(&e->lit, out); break;
    case EK_E_FIELD:
        if (e->qualifier) {
            print_ident(out, e->qualifier);
            ek_buf_putc(out, '.');
        }
        print_ident(out, e->name);
        break;
    case EK_E_WILDCARD: print_wildcard(e, out); break;
    case EK_E_UNARY:
        ek_buf_printf(out, e->op == EK_OP_NOT ? "(NOT " : "(%s", ek_op_name(e->op));
        ek_expr_print(e->a, out);
        ek_buf_putc(out, ')');
        break;
    case EK_E_BINARY:
        ek_buf_putc(out, '(');
        ek_expr_print(e->a, out);
        ek_buf_printf(out, " %s ", ek_op_name(e->op));
        ek_expr_print(e->b, out);
        ek_buf_putc(out, ')');
        break;
    case EK_E_DEREF:
        ek_expr_print(e->a, out);
        ek_buf_puts(out, "->");
        print_ident(out, e->name);
        break;
    case EK_E_INDEX:
    case EK_E_SLICE:
        ek_expr_print(e->a, out);
        ek_buf_putc(out, '[');
        if (e->b) ek_expr_print(e->b, out);
        if (e->kind == EK_E_SLICE) ek_buf_putc(out, ':');
        if (e->c) ek_expr_print(e->c, out);
        ek_buf_putc(out, ']');
        break;
    case EK_E_LIKE: case EK_E_IN: case EK_E_BETWEEN: case EK_E_ISNULL: print_pred(e, out); break;
    case EK_E_CASE: print_case(e, out); break;
    case EK_E_CALL: print_call(e, out); break;
    }
}

void ek_sql_type_print(const ek_sql_type *t, ek_buf *out)
{
    switch (t->kind) {
    case EK_T_ARRAY:
        ek_buf_puts(out, "array(");
        if (t->elem) ek_sql_type_print(t->elem, out);
        ek_buf_putc(out, ')');
        break;
    case EK_T_OBJECT:
        ek_buf_puts(out, "struct(");
        for (size_t i = 0; i < t->nfields; i++) {
            if (i) ek_buf_puts(out, ", ");
            print_ident(out, t->fields[i].name);
            ek_buf_putc(out, ' ');
            ek_sql_type_print(&t->fields[i].type, out);
        }
        ek_buf_putc(out, ')');
        break;
    default: ek_buf_puts(out, ek_type_name(t->kind)); break;
    }
}

static void print_window(const ek_window *w, ek_buf *out)
{
    ek_buf_printf(out, "%s(", ek_window_kind_name(w->kind));
    switch (w->kind) {
    case EK_WIN_COUNT:
        ek_buf_printf(out, "%lld", (long long)w->length);
        if (w->interval) ek_buf_printf(out, ", %lld", (long long)w->interval);
        break;
    case EK_WIN_STATE:
        ek_expr_print(w->begin, out);
        if (w->emit) {
            ek_buf_puts(out, ", ");
            ek_expr_print(w->emit, out);
        }
        break;
    default: {
        int64_t ms = w->unit[0] == 'd' ? 86400000 : w->unit[0] == 'h' ? 3600000 :
                     w->unit[0] == 's' ? 1000 : w->unit[1] == 'i' ? 60000 : 1;
        ek_buf_printf(out, "%s, %lld", w->unit, (long long)(w->length / ms));
        if (w->interval) ek_buf_printf(out, ", %lld", (long long)(w->interval / ms));
        if (w->delay) ek_buf_printf(out, ", %lld", (long long)(w->delay / ms));
        break;
    }
    }
    ek_buf_putc(out, ')');
    if (w->filter) {
        ek_buf_puts(out, " FILTER (WHERE ");
        ek_expr_print(w->filter, out);
        ek_buf_putc(out, ')');
    }
    if (w->trigger || w->partition.count) {
        ek_buf_puts(out, " OVER (");
        if (w->partition.count) {
            ek_buf_puts(out, "PARTITION BY ");
            print_list(&w->partition, out);
        }
        if (w->trigger) {
            ek_buf_puts(out, "WHEN ");
            ek_expr_print(w->trigger, out);
        }
        ek_buf_putc(out, ')');
    }
}

/* A stream name the parser reads without backticks though it is not an identifier: topic/#. */
static bool topic_like(const char *name)
{
    if (ek_sql_is_plain_ident(name) || strstr(name, "/*") || strstr(name, "--") || !strpbrk(name, "/#+-")) return false;
    size_t word = 0;
    for (const char *c = name; *c; c++) {
        unsigned char u = (unsigned char)*c;
        bool alpha = u == '_' || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || u >= 0x80;
        if (!alpha && !(u >= '0' && u <= '9') && !strchr("/#+-", u)) return false;
        if (c == name && !alpha && u != '/') return false;
        if (word == (size_t)(c - name) && (alpha || (u >= '0' && u <= '9'))) word++;
    }
    /* The leading word must not lex as a reserved keyword. */
    char head[16];
    if (word && word < sizeof head) {
        memcpy(head, name, word);
        head[word] = '\0';
        if (ek_sql_is_reserved(head)) return false;
    }
    return true;
}

static void print_sources(const ek_select *s, ek_buf *out)
{
    static const char *const joins[] = {"", "INNER JOIN", "LEFT JOIN", "RIGHT JOIN", "FULL JOIN", "CROSS JOIN"};
    for (size_t i = 0; i < s->nsources; i++) {
        const ek_source *src = &s->sources[i];
        ek_buf_printf(out, " %s ", i ? joins[src->join] : "FROM");
        if (topic_like(src->name)) ek_buf_puts(out, src->name);
        else print_ident(out, src->name);
        if (src->alias) {
            ek_buf_puts(out, " AS ");
            print_ident(out, src->alias);
        }
        if (src->on) {
            ek_buf_puts(out, " ON ");
            ek_expr_print(src->on, out);
        }
    }
}

static void print_select(const ek_select *s, ek_buf *out)
{
    ek_buf_puts(out, "SELECT ");
    for (size_t i = 0; i < s->nfields; i++) {
        if (i) ek_buf_puts(out, ", ");
        ek_expr_print(s->fields[i].expr, out);
        if (s->fields[i].alias) {
            ek_buf_puts(out, " AS ");
            print_ident(out, s->fields[i].alias);
        }
        if (s->fields[i].invisible) ek_buf_puts(out, " INVISIBLE");
    }
    print_sources(s, out);
    if (s->where) {
        ek_buf_puts(out, " WHERE ");
        ek_expr_print(s->where, out);
    }
    if (s->group_by.count || s->window) {
        ek_buf_puts(out, " GROUP BY ");
        print_list(&s->group_by, out);
        if (s->window) {
            if (s->group_by.count) ek_buf_puts(out, ", ");
            print_window(s->window, out);
        }
    }
    if (s->having) {
        ek_buf_puts(out, " HAVING ");
        ek_expr_print(s->having, out);
    }
    for (size_t i = 0; i < s->norder; i++) {
        ek_buf_puts(out, i ? ", " : " ORDER BY ");
        ek_expr_print(s->order[i].expr, out);
        ek_buf_puts(out, s->order[i].desc ? " DESC" : " ASC");
    }
    if (s->limit >= 0) ek_buf_printf(out, " LIMIT %lld", (long long)s->limit);
}

static void print_create(const ek_create_stmt *c, ek_buf *out)
{
    ek_buf_printf(out, "CREATE %s ", c->is_table ? "TABLE" : "STREAM");
    print_ident(out, c->name);
    ek_buf_puts(out, " (");
    for (size_t i = 0; i < c->ncols; i++) {
        if (i) ek_buf_puts(out, ", ");
        print_ident(out, c->cols[i].name);
        ek_buf_putc(out, ' ');
        ek_sql_type_print(&c->cols[i].type, out);
        if (c->cols[i].has_default) {
            ek_buf_puts(out, " DEFAULT ");
            print_lit(&c->cols[i].def, out);
        }
    }
    ek_buf_puts(out, ") WITH (");
    bool first = true;
    for (int p = 0; p < EK_PROP_COUNT; p++) {
        if (!c->props[p]) continue;
        ek_buf_printf(out, "%s%s=\"", first ? "" : ", ", ek_stream_prop_name((ek_stream_prop)p));
        for (const char *v = c->props[p]; *v; v++) {
            if (*v == '"' || *v == '\\') ek_buf_putc(out, '\\');
            ek_buf_putc(out, *v);
        }
        ek_buf_putc(out, '"');
        first = false;
    }
    ek_buf_putc(out, ')');
}

void ek_stmt_print(const ek_stmt *s, ek_buf *out)
{
    const char *what = s->target_table ? "TABLE" : "STREAM";
    switch (s->kind) {
    case EK_STMT_SELECT: print_select(&s->select, out); break;
    case EK_STMT_CREATE: print_create(&s->create, out); break;
    case EK_STMT_SHOW: ek_buf_printf(out, "SHOW %sS", what); break;
    case EK_STMT_DROP: case EK_STMT_DESCRIBE: case EK_STMT_EXPLAIN:
        ek_buf_printf(out, "%s %s ", s->kind == EK_STMT_DROP ? "DROP" : s->kind == EK_STMT_DESCRIBE ? "DESCRIBE" : "EXPLAIN", what);
        print_ident(out, s->name);
        break;
    }
}

char *ek_stmt_to_string(const ek_stmt *s)
{
    ek_buf b = EK_BUF_INIT;
    ek_stmt_print(s, &b);
    return ek_buf_detach(&b);
}

char *ek_expr_to_string(const ek_expr *e)
{
    ek_buf b = EK_BUF_INIT;
    ek_expr_print(e, &b);
    return ek_buf_detach(&b);
}
