/* The SELECT level of the SQL parser: the field list (with * EXCEPT / REPLACE and aliases),
 * FROM and JOINs, WHERE, GROUP BY with its window, HAVING, ORDER BY and LIMIT. A window is
 * parsed as an ordinary call in the GROUP BY list and then checked and converted here into an
 * ek_window (units applied, arguments validated), so the two share one call grammar. */
#include "engine/mem.h"
#include "sql/parser_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ---------------------------------------------------------------- fields */

static bool parse_name_list(parser *p, char ***names, size_t *count)
{
    if (!parser__expect(p, EK_TK_LPAREN, "'('")) return false;
    do {
        char *n = parser__ident(p, "a field name");
        if (!n) return false;
        *names = ek_realloc(*names, (*count + 1) * sizeof **names);
        (*names)[(*count)++] = n;
    } while (parser__accept(p, EK_TK_COMMA));
    return parser__expect(p, EK_TK_RPAREN, "')' or ','");
}

static bool parse_replace(parser *p, ek_expr *w)
{
    if (!parser__expect(p, EK_TK_LPAREN, "'('")) return false;
    do {
        ek_expr *e = parser__expr(p);
        if (!e) return false;
        ek_expr_list_push(&w->replace, e);
        w->replace_names = ek_realloc(w->replace_names, w->replace.count * sizeof *w->replace_names);
        w->replace_names[w->replace.count - 1] = NULL;
        if (!parser__expect(p, EK_TK_AS, "AS")) return false;
        if (!(w->replace_names[w->replace.count - 1] = parser__ident(p, "a field name"))) return false;
    } while (parser__accept(p, EK_TK_COMMA));
    return parser__expect(p, EK_TK_RPAREN, "')' or ','");
}

ek_expr *parser__star(parser *p)
{
    ek_expr *w = ek_expr_new(EK_E_WILDCARD, p->tok.line, p->tok.col);
    parser__next(p);
    for (;;) {
        if (ek_tok_is_word(&p->tok, "except") && !w->nexcept) {
            parser__next(p);
            if (!parse_name_list(p, &w->except, &w->nexcept)) goto fail;
        } else if (ek_tok_is_word(&p->tok, "replace") && !w->replace.count) {
            parser__next(p);
            if (!parse_replace(p, w)) goto fail;
        } else {
            return w;
        }
    }
fail:
    ek_expr_free(w);
    return NULL;
}

static bool parse_fields(parser *p, ek_select *sel)
{
    do {
        sel->fields = ek_realloc(sel->fields, (sel->nfields + 1) * sizeof *sel->fields);
        ek_select_field *f = &sel->fields[sel->nfields];
        memset(f, 0, sizeof *f);
        f->expr = p->tok.type == EK_TK_STAR ? parser__star(p) : parser__expr(p);
        if (!f->expr) return false;
        sel->nfields++;
        if (parser__accept(p, EK_TK_AS) && !(f->alias = parser__ident(p, "an alias"))) return false;
        if (parser__accept_word(p, "invisible")) f->invisible = true;
    } while (parser__accept(p, EK_TK_COMMA));
    return true;
}

/* ---------------------------------------------------------------- FROM and JOIN */

static bool parse_source(parser *p, ek_select *sel, ek_join_kind kind)
{
    sel->sources = ek_realloc(sel->sources, (sel->nsources + 1) * sizeof *sel->sources);
    ek_source *s = &sel->sources[sel->nsources];
    memset(s, 0, sizeof *s);
    s->join = kind;
    s->line = p->tok.line;
    s->col = p->tok.col;
    s->name = parser__source_name(p);
    sel->nsources++;
    if (!s->name) return false;
    if (parser__accept(p, EK_TK_AS) && !(s->alias = parser__ident(p, "an alias"))) return false;
    if (kind == EK_JOIN_NONE) return true;
    if (kind == EK_JOIN_CROSS) {
        if (p->tok.type != EK_TK_ON) return true;
        return parser__error_at(p, p->tok.line, p->tok.col, "On expression is not required for cross join type");
    }
    if (!parser__expect(p, EK_TK_ON, "ON")) return false;
    return (s->on = parser__expr(p)) != NULL;
}

static ek_join_kind join_kind(parser *p)
{
    ek_join_kind k;
    switch (p->tok.type) {
    case EK_TK_JOIN: parser__next(p); return EK_JOIN_INNER;
    case EK_TK_INNER: k = EK_JOIN_INNER; break;
    case EK_TK_LEFT: k = EK_JOIN_LEFT; break;
    case EK_TK_RIGHT: k = EK_JOIN_RIGHT; break;
    case EK_TK_FULL: k = EK_JOIN_FULL; break;
    case EK_TK_CROSS: k = EK_JOIN_CROSS; break;
    default: return EK_JOIN_NONE;
    }
    parser__next(p);
    if (k != EK_JOIN_INNER) parser__accept_word(p, "outer");
    if (!parser__expect(p, EK_TK_JOIN, "JOIN")) return (ek_join_kind)-1;
    return k;
}

static bool parse_from(parser *p, ek_select *sel)
{
    if (!parse_source(p, sel, EK_JOIN_NONE)) return false;
    for (;;) {
        ek_join_kind k = join_kind(p);
        if ((int)k == -1) return false;
        if (k == EK_JOIN_NONE) return true;
        if (!parse_source(p, sel, k)) return false;
    }
}

/* ---------------------------------------------------------------- windows */

static const struct { const char *name; ek_window_kind kind; int min, max; } windows[] = {
    {"tumblingwindow", EK_WIN_TUMBLING, 2, 2}, {"hoppingwindow", EK_WIN_HOPPING, 3, 3},
    {"slidingwindow", EK_WIN_SLIDING, 2, 3},   {"sessionwindow", EK_WIN_SESSION, 3, 3},
    {"countwindow", EK_WIN_COUNT, 1, 2},       {"statewindow", EK_WIN_STATE, 1, 2},
};

static int window_index(const ek_expr *e)
{
    if (e->kind != EK_E_CALL) return -1;
    for (size_t i = 0; i < sizeof windows / sizeof *windows; i++)
        if (strcasecmp(e->name, windows[i].name) == 0) return (int)i;
    return -1;
}

static int64_t unit_ms(const char *u)
{
    static const struct { const char *u; int64_t ms; } units[] = {
        {"dd", 86400000}, {"hh", 3600000}, {"mi", 60000}, {"ss", 1000}, {"ms", 1},
    };
    for (size_t i = 0; i < sizeof units / sizeof *units; i++)
        if (strcasecmp(u, units[i].u) == 0) return units[i].ms;
    return 0;
}

/* A positive integer window argument. */
static bool window_int(parser *p, const ek_expr *a, const char *what, int64_t *out)
{
    if (a->kind != EK_E_LIT || a->lit.type != EK_T_INT || a->lit.i <= 0)
        return parser__error_at(p, a->line, a->col, "%s must be a positive integer", what);
    *out = a->lit.i;
    return true;
}

static bool window_times(parser *p, ek_window *w, ek_expr *call)
{
    ek_expr **a = call->args.items;
    int64_t ms = 0;
    if (a[0]->kind == EK_E_FIELD && !a[0]->qualifier) ms = unit_ms(a[0]->name);
    if (!ms) return parser__error_at(p, a[0]->line, a[0]->col, "invalid time unit, expected DD, HH, MI, SS or MS");
    snprintf(w->unit, sizeof w->unit, "%c%c", a[0]->name[0] | 0x20, a[0]->name[1] | 0x20);
    if (!window_int(p, a[1], "window length", &w->length)) return false;
    if (call->args.count > 2 && !window_int(p, a[2], w->kind == EK_WIN_SLIDING ? "delay" :
                                            w->kind == EK_WIN_SESSION ? "timeout" : "hop size",
                                            w->kind == EK_WIN_SLIDING ? &w->delay : &w->interval))
        return false;
    if (w->length > INT64_MAX / ms || w->interval > INT64_MAX / ms || w->delay > INT64_MAX / ms)
        return parser__error_at(p, call->line, call->col, "window length out of range");
    w->length *= ms;
    w->interval *= ms;
    w->delay *= ms;
    if (w->kind == EK_WIN_HOPPING && w->interval > w->length)
        return parser__error_at(p, a[2]->line, a[2]->col, "hop size must not exceed the window length");
    return true;
}

/* Turns a window call (taken) into sel->window. */
static bool make_window(parser *p, ek_select *sel, ek_expr *call, int idx)
{
    if (sel->window) {
        parser__error_at(p, call->line, call->col, "only one window is allowed in GROUP BY");
        ek_expr_free(call);
        return false;
    }
    ek_window *w = ek_calloc(1, sizeof *w);
    sel->window = w;
    w->kind = windows[idx].kind;
    w->line = call->line;
    w->col = call->col;
    bool ok = true;
    int n = (int)call->args.count;
    if (n < windows[idx].min || n > windows[idx].max) {
        char want[16];
        if (windows[idx].max == windows[idx].min) snprintf(want, sizeof want, "%d", windows[idx].min);
        else snprintf(want, sizeof want, "%d or %d", windows[idx].min, windows[idx].max);
        ok = parser__error_at(p, call->line, call->col, "%s expects %s arguments, got %d",
                              ek_window_kind_name(w->kind), want, n);
    } else if (w->kind == EK_WIN_COUNT) {
        ok = window_int(p, call->args.items[0], "window count", &w->length) &&
             (n < 2 || window_int(p, call->args.items[1], "count interval", &w->interval));
        if (ok && w->interval > w->length)
            ok = parser__error_at(p, call->line, call->col, "count interval must not exceed the window count");
    } else if (w->kind == EK_WIN_STATE) {
        w->begin = call->args.items[0];
        w->emit = n > 1 ? call->args.items[1] : NULL;
        call->args.count = 0;
    } else {
        ok = window_times(p, w, call);
    }
    if (ok && call->over_when && w->kind != EK_WIN_SLIDING)
        ok = parser__error_at(p, call->line, call->col, "OVER (WHEN ...) is only allowed after SLIDINGWINDOW");
    if (ok && call->partition.count && w->kind != EK_WIN_STATE)
        ok = parser__error_at(p, call->line, call->col, "OVER (PARTITION BY ...) is only allowed after STATEWINDOW");
    w->filter = call->filter;
    w->trigger = call->over_when;
    w->partition = call->partition;
    call->filter = call->over_when = NULL;
    memset(&call->partition, 0, sizeof call->partition);
    ek_expr_free(call);
    return ok;
}

static bool parse_group_by(parser *p, ek_select *sel)
{
    do {
        ek_expr *e = parser__expr(p);
        if (!e) return false;
        int idx = window_index(e);
        if (idx >= 0) {
            if (!make_window(p, sel, e, idx)) return false;
        } else {
            ek_expr_list_push(&sel->group_by, e);
        }
    } while (parser__accept(p, EK_TK_COMMA));
    return true;
}

/* ---------------------------------------------------------------- the statement */

static bool parse_order(parser *p, ek_select *sel)
{
    do {
        ek_expr *e = parser__expr(p);
        if (!e) return false;
        sel->order = ek_realloc(sel->order, (sel->norder + 1) * sizeof *sel->order);
        sel->order[sel->norder].expr = e;
        sel->order[sel->norder].desc = false;
        if (parser__accept(p, EK_TK_DESC)) sel->order[sel->norder].desc = true;
        else parser__accept(p, EK_TK_ASC);
        sel->norder++;
    } while (parser__accept(p, EK_TK_COMMA));
    return true;
}

/* What may follow the clauses parsed so far, for the error at an unexpected token. */
static const char *after_clauses(const ek_select *sel)
{
    if (sel->limit >= 0) return "EOF";
    if (sel->norder) return "',', LIMIT or EOF";
    if (sel->having) return "ORDER BY, LIMIT or EOF";
    if (sel->group_by.count || sel->window) return "',', HAVING, ORDER BY, LIMIT or EOF";
    if (sel->where) return "GROUP BY, HAVING, ORDER BY, LIMIT or EOF";
    return "WHERE, GROUP BY, HAVING, ORDER BY, LIMIT, JOIN or EOF";
}

bool parser__select(parser *p, ek_select *sel)
{
    parser__next(p); /* SELECT */
    if (!parse_fields(p, sel)) return false;
    if (!parser__accept(p, EK_TK_FROM)) return parser__expected(p, "FROM or ','");
    if (!parse_from(p, sel)) return false;
    if (parser__accept(p, EK_TK_WHERE) && !(sel->where = parser__expr(p))) return false;
    if (parser__accept(p, EK_TK_GROUP)) {
        if (!parser__expect(p, EK_TK_BY, "BY") || !parse_group_by(p, sel)) return false;
    }
    if (parser__accept(p, EK_TK_HAVING) && !(sel->having = parser__expr(p))) return false;
    if (parser__accept(p, EK_TK_ORDER)) {
        if (!parser__expect(p, EK_TK_BY, "BY") || !parse_order(p, sel)) return false;
    }
    if (parser__accept(p, EK_TK_LIMIT)) {
        if (p->tok.type != EK_TK_INT || p->tok.ival < 0) return parser__expected(p, "a non-negative integer");
        sel->limit = p->tok.ival;
        parser__next(p);
    }
    if (p->tok.type != EK_TK_EOF && p->tok.type != EK_TK_SEMI) return parser__expected(p, after_clauses(sel));
    return true;
}
