/* The expression level of the SQL parser: precedence climbing written out as one function per
 * level, loosest first: OR, AND, NOT, comparisons (= != <> < <= > >= [NOT] LIKE/IN/BETWEEN,
 * IS [NOT] NULL), + - | ^, * / % &, unary - +, then postfix [i], [a:b], ->name, .name.
 * Calls carry their optional FILTER (WHERE ...) and OVER (PARTITION BY ... WHEN ...) here;
 * parse_select.c turns a window call in GROUP BY into an ek_window. Depth is bounded so that
 * hostile input cannot exhaust the stack. */
#include "engine/mem.h"
#include "sql/parser_int.h"

#include <string.h>

static ek_expr *parse_or(parser *p);
static ek_expr *parse_unary(parser *p);

static ek_expr *new_at(ek_expr_kind k, const ek_token *t)
{
    return ek_expr_new(k, t->line, t->col);
}

static ek_expr *binary(ek_op op, ek_expr *a, ek_expr *b)
{
    ek_expr *e = ek_expr_new(EK_E_BINARY, a->line, a->col);
    e->op = op;
    e->a = a;
    e->b = b;
    return e;
}

static bool enter(parser *p)
{
    if (++p->depth <= EK_PARSE_MAX_DEPTH) return true;
    return parser__error_at(p, p->tok.line, p->tok.col, "expression nested too deeply");
}

ek_expr *parser__expr(parser *p)
{
    if (!enter(p)) return NULL;
    ek_expr *e = parse_or(p);
    p->depth--;
    return e;
}

/* ---------------------------------------------------------------- primaries */

static ek_expr *parse_literal(parser *p)
{
    ek_expr *e = new_at(EK_E_LIT, &p->tok);
    switch (p->tok.type) {
    case EK_TK_INT: e->lit = ek_int(p->tok.ival); break;
    case EK_TK_FLOAT: e->lit = ek_float(p->tok.fval); break;
    case EK_TK_TRUE: e->lit = ek_bool(true); break;
    case EK_TK_FALSE: e->lit = ek_bool(false); break;
    case EK_TK_NULL: e->lit = ek_null(); break;
    case EK_TK_STRING: {
        char *s = parser__unescape(&p->tok);
        e->lit = ek_string(s);
        ek_free(s);
        break;
    }
    default: break;
    }
    parser__next(p);
    return e;
}

static ek_expr *parse_case(parser *p)
{
    ek_expr *e = new_at(EK_E_CASE, &p->tok);
    parser__next(p);
    if (p->tok.type != EK_TK_WHEN && !(e->a = parser__expr(p))) goto fail;
    if (p->tok.type != EK_TK_WHEN) {
        parser__expected(p, "WHEN");
        goto fail;
    }
    while (parser__accept(p, EK_TK_WHEN)) {
        e->whens = ek_realloc(e->whens, (e->nwhens + 1) * sizeof *e->whens);
        ek_when *w = &e->whens[e->nwhens++];
        w->cond = w->result = NULL;
        if (!(w->cond = parser__expr(p))) goto fail;
        if (!e->a && w->cond->kind == EK_E_LIT && w->cond->lit.type != EK_T_BOOL && w->cond->lit.type != EK_T_NULL) {
            parser__error_at(p, w->cond->line, w->cond->col, "invalid CASE expression, WHEN expression must be a bool condition");
            goto fail;
        }
        if (!parser__expect(p, EK_TK_THEN, "THEN")) goto fail;
        if (!(w->result = parser__expr(p))) goto fail;
    }
    if (parser__accept(p, EK_TK_ELSE) && !(e->else_ = parser__expr(p))) goto fail;
    if (!parser__expect(p, EK_TK_END, "WHEN, ELSE or END")) goto fail;
    return e;
fail:
    ek_expr_free(e);
    return NULL;
}

static bool parse_list(parser *p, ek_expr_list *l)
{
    do {
        ek_expr *a = parser__expr(p);
        if (!a) return false;
        ek_expr_list_push(l, a);
    } while (parser__accept(p, EK_TK_COMMA));
    return true;
}

/* After a call: FILTER (WHERE cond) and OVER ([PARTITION BY e, ...] [WHEN cond]). */
static bool parse_call_tail(parser *p, ek_expr *e)
{
    if (ek_tok_is_word(&p->tok, "filter")) {
        parser__next(p);
        if (!parser__expect(p, EK_TK_LPAREN, "'('") || !parser__expect(p, EK_TK_WHERE, "WHERE"))
            return false;
        if (!(e->filter = parser__expr(p))) return false;
        if (!parser__expect(p, EK_TK_RPAREN, "')'")) return false;
    }
    if (!ek_tok_is_word(&p->tok, "over")) return true;
    parser__next(p);
    e->has_over = true;
    if (!parser__expect(p, EK_TK_LPAREN, "'('")) return false;
    if (ek_tok_is_word(&p->tok, "partition")) {
        parser__next(p);
        if (!parser__expect(p, EK_TK_BY, "BY") || !parse_list(p, &e->partition)) return false;
    }
    if (parser__accept(p, EK_TK_WHEN) && !(e->over_when = parser__expr(p))) return false;
    return parser__expect(p, EK_TK_RPAREN, e->over_when ? "')'" : "PARTITION BY, WHEN or ')'");
}

static ek_expr *parse_call(parser *p, const ek_token *name_tok)
{
    ek_expr *e = new_at(EK_E_CALL, name_tok);
    e->name = ek_strndup(name_tok->text, name_tok->len);
    parser__next(p); /* '(' */
    if (!parser__accept(p, EK_TK_RPAREN)) {
        do {
            if (p->tok.type == EK_TK_STAR) {
                ek_expr *star = parser__star(p);  /* count(*), collect(* EXCEPT(a)) */
                if (!star) goto fail;
                ek_expr_list_push(&e->args, star);
                continue;
            }
            ek_expr *a = parser__expr(p);
            if (!a) goto fail;
            ek_expr_list_push(&e->args, a);
        } while (parser__accept(p, EK_TK_COMMA));
        if (!parser__expect(p, EK_TK_RPAREN, "')' or ','")) goto fail;
    }
    if (!parse_call_tail(p, e)) goto fail;
    return e;
fail:
    ek_expr_free(e);
    return NULL;
}

/* name, name(args), qualifier.name, qualifier.* */
static ek_expr *parse_name(parser *p)
{
    ek_token first = p->tok;
    parser__next(p);
    if (first.type == EK_TK_IDENT && p->tok.type == EK_TK_LPAREN) return parse_call(p, &first);
    ek_expr *e = new_at(EK_E_FIELD, &first);
    e->name = ek_strndup(first.text, first.len);
    if (p->tok.type != EK_TK_DOT) return e;
    parser__next(p);
    if (p->tok.type == EK_TK_STAR) {
        e->kind = EK_E_WILDCARD;
        e->qualifier = e->name;
        e->name = NULL;
        parser__next(p);
        return e;
    }
    char *name = parser__ident(p, "a field name");
    if (!name) {
        ek_expr_free(e);
        return NULL;
    }
    e->qualifier = e->name;
    e->name = name;
    return e;
}

static ek_expr *parse_primary(parser *p)
{
    switch (p->tok.type) {
    case EK_TK_INT: case EK_TK_FLOAT: case EK_TK_STRING: case EK_TK_TRUE: case EK_TK_FALSE:
    case EK_TK_NULL:
        return parse_literal(p);
    case EK_TK_IDENT: case EK_TK_QIDENT:
        return parse_name(p);
    case EK_TK_CASE:
        return parse_case(p);
    case EK_TK_LPAREN: {
        parser__next(p);
        ek_expr *e = parser__expr(p);
        if (e && !parser__expect(p, EK_TK_RPAREN, "')'")) {
            ek_expr_free(e);
            return NULL;
        }
        return e;
    }
    default:
        parser__expected(p, "an expression");
        return NULL;
    }
}

/* [i], [a:b], ->name, .name after any primary. */
static ek_expr *parse_postfix(parser *p)
{
    ek_expr *e = parse_primary(p);
    int links = 0;
    while (e) {
        ek_token t = p->tok;
        links++;
        if (!enter(p)) goto fail;
        if (parser__accept(p, EK_TK_ARROW) || parser__accept(p, EK_TK_DOT)) {
            char *name = parser__ident(p, "a field name");
            if (!name) goto fail;
            ek_expr *d = ek_expr_new(EK_E_DEREF, e->line, e->col);
            d->a = e;
            d->name = name;
            e = d;
        } else if (parser__accept(p, EK_TK_LBRACKET)) {
            ek_expr *x = ek_expr_new(EK_E_INDEX, t.line, t.col);
            x->a = e;
            e = x;
            if (p->tok.type != EK_TK_COLON && !(x->b = parser__expr(p))) goto fail;
            if (parser__accept(p, EK_TK_COLON)) {
                x->kind = EK_E_SLICE;
                if (p->tok.type != EK_TK_RBRACKET && !(x->c = parser__expr(p))) goto fail;
            }
            if (!parser__expect(p, EK_TK_RBRACKET, x->kind == EK_E_SLICE ? "']'" : "']' or ':'")) goto fail;
        } else {
            break;
        }
    }
    p->depth -= links;
    return e;
fail:
    p->depth -= links;
    ek_expr_free(e);
    return NULL;
}

static ek_expr *parse_unary(parser *p)
{
    if (p->tok.type != EK_TK_MINUS && p->tok.type != EK_TK_PLUS) return parse_postfix(p);
    ek_token t = p->tok;
    parser__next(p);
    if (!enter(p)) return NULL;
    ek_expr *a = parse_unary(p);
    p->depth--;
    if (!a) return NULL;
    /* Fold a sign into a number literal so "-1" prints and compares as the number -1. */
    if (a->kind == EK_E_LIT && (a->lit.type == EK_T_INT || a->lit.type == EK_T_FLOAT)) {
        if (t.type == EK_TK_MINUS) {
            if (a->lit.type == EK_T_INT && a->lit.i != INT64_MIN) a->lit.i = -a->lit.i;
            else if (a->lit.type == EK_T_FLOAT) a->lit.f = -a->lit.f;
            else goto wrap;
        }
        a->line = t.line;
        a->col = t.col;
        return a;
    }
wrap:;
    ek_expr *e = new_at(EK_E_UNARY, &t);
    e->op = t.type == EK_TK_MINUS ? EK_OP_NEG : EK_OP_PLUS;
    e->a = a;
    return e;
}

/* ---------------------------------------------------------------- binary levels */

static ek_op mul_op(ek_tok t)
{
    switch (t) {
    case EK_TK_STAR: return EK_OP_MUL;
    case EK_TK_SLASH: return EK_OP_DIV;
    case EK_TK_PERCENT: return EK_OP_MOD;
    case EK_TK_AMP: return EK_OP_BITAND;
    default: return EK_OP_NONE;
    }
}

static ek_op add_op(ek_tok t)
{
    switch (t) {
    case EK_TK_PLUS: return EK_OP_ADD;
    case EK_TK_MINUS: return EK_OP_SUB;
    case EK_TK_PIPE: return EK_OP_BITOR;
    case EK_TK_CARET: return EK_OP_BITXOR;
    default: return EK_OP_NONE;
    }
}

static ek_op cmp_op(ek_tok t)
{
    switch (t) {
    case EK_TK_EQ: return EK_OP_EQ;
    case EK_TK_NE: return EK_OP_NE;
    case EK_TK_LT: return EK_OP_LT;
    case EK_TK_LE: return EK_OP_LE;
    case EK_TK_GT: return EK_OP_GT;
    case EK_TK_GE: return EK_OP_GE;
    default: return EK_OP_NONE;
    }
}

static ek_expr *parse_level(parser *p, ek_op (*opof)(ek_tok), ek_expr *(*next)(parser *))
{
    ek_expr *e = next(p);
    ek_op op;
    int links = 0;
    while (e && (op = opof(p->tok.type)) != EK_OP_NONE) {
        links++;
        if (!enter(p)) {  /* each link makes the left-nested tree one deeper */
            ek_expr_free(e);
            e = NULL;
            break;
        }
        parser__next(p);
        ek_expr *b = next(p);
        if (!b) {
            ek_expr_free(e);
            e = NULL;
            break;
        }
        e = binary(op, e, b);
    }
    p->depth -= links;
    return e;
}

static ek_expr *parse_mul(parser *p) { return parse_level(p, mul_op, parse_unary); }
static ek_expr *parse_add(parser *p) { return parse_level(p, add_op, parse_mul); }

/* The right-hand side of [NOT] IN: a parenthesised list, or an array expression (a field, call,
 * x->y, x[i] ...; anything starting with '(' is a list, so "a IN (arr)" is a one-item list). */
static bool parse_in(parser *p, ek_expr *e)
{
    if (p->tok.type != EK_TK_LPAREN) return (e->b = parse_postfix(p)) != NULL;
    parser__next(p);
    e->in_list = true;
    if (!parse_list(p, &e->args)) return false;
    /* "x IN (arr)" with one element is ambiguous; eKuiper treats a one-item list as a list. */
    return parser__expect(p, EK_TK_RPAREN, "')' or ','");
}

/* One comparison-level suffix on a; returns the new node, or NULL (a freed) on error. */
static ek_expr *parse_cmp_suffix(parser *p, ek_expr *a, bool *more)
{
    ek_token t = p->tok;
    ek_op op = cmp_op(t.type);
    *more = true;
    if (op != EK_OP_NONE) {
        parser__next(p);
        ek_expr *b = parse_add(p);
        if (!b) goto fail;
        return binary(op, a, b);
    }
    bool neg = false;
    if (t.type == EK_TK_IS) {
        parser__next(p);
        neg = parser__accept(p, EK_TK_NOT);
        if (!parser__expect(p, EK_TK_NULL, neg ? "NULL" : "NOT or NULL")) goto fail;
        ek_expr *e = ek_expr_new(EK_E_ISNULL, a->line, a->col);
        e->a = a;
        e->negated = neg;
        return e;
    }
    if (t.type == EK_TK_NOT) {
        parser__next(p);
        neg = true;
        if (p->tok.type != EK_TK_LIKE && p->tok.type != EK_TK_IN && p->tok.type != EK_TK_BETWEEN) {
            parser__expected(p, "LIKE, IN or BETWEEN");
            goto fail;
        }
    }
    ek_tok k = p->tok.type;
    ek_expr_kind kind = k == EK_TK_LIKE ? EK_E_LIKE : k == EK_TK_IN ? EK_E_IN : k == EK_TK_BETWEEN ? EK_E_BETWEEN : EK_E_LIT;
    if (kind == EK_E_LIT) {
        *more = false;
        return a;
    }
    parser__next(p);
    ek_expr *e = ek_expr_new(kind, a->line, a->col);
    e->a = a;
    e->negated = neg;
    bool ok;
    if (kind == EK_E_IN) {
        ok = parse_in(p, e);
    } else if (kind == EK_E_LIKE) {
        ok = (e->b = parse_add(p)) != NULL;
    } else {
        ok = (e->b = parse_add(p)) && parser__expect(p, EK_TK_AND, "AND") && (e->c = parse_add(p));
    }
    if (!ok) {
        ek_expr_free(e);
        return NULL;
    }
    return e;
fail:
    ek_expr_free(a);
    return NULL;
}

static ek_expr *parse_cmp(parser *p)
{
    ek_expr *e = parse_add(p);
    bool more = true;
    int links = 0;
    while (e && more) {
        links++;
        if (!enter(p)) {
            ek_expr_free(e);
            e = NULL;
            break;
        }
        e = parse_cmp_suffix(p, e, &more);
    }
    p->depth -= links;
    return e;
}

static ek_expr *parse_not(parser *p)
{
    if (p->tok.type != EK_TK_NOT) return parse_cmp(p);
    ek_token t = p->tok;
    parser__next(p);
    if (!enter(p)) return NULL;
    ek_expr *a = parse_not(p);
    p->depth--;
    if (!a) return NULL;
    ek_expr *e = new_at(EK_E_UNARY, &t);
    e->op = EK_OP_NOT;
    e->a = a;
    return e;
}

static ek_op and_op(ek_tok t) { return t == EK_TK_AND ? EK_OP_AND : EK_OP_NONE; }
static ek_op or_op(ek_tok t) { return t == EK_TK_OR ? EK_OP_OR : EK_OP_NONE; }
static ek_expr *parse_and(parser *p) { return parse_level(p, and_op, parse_not); }
static ek_expr *parse_or(parser *p) { return parse_level(p, or_op, parse_and); }
