/* The statement level of the SQL parser: token helpers shared by the parser files, error
 * messages, CREATE/DROP/SHOW/DESCRIBE/EXPLAIN, and the entry points. SELECT clauses live in
 * parse_select.c and expressions in parse_expr.c. Every parse function returns false (or NULL)
 * after reporting the first error into p->err; later code only unwinds and frees. */
#include "sql/parser.h"
#include "engine/mem.h"
#include "sql/parser_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ---------------------------------------------------------------- token helpers */

void parser__next(parser *p)
{
    ek_lexer_next(&p->lx, &p->tok);
}

bool parser__accept(parser *p, ek_tok t)
{
    if (p->tok.type != t) return false;
    parser__next(p);
    return true;
}

bool parser__accept_word(parser *p, const char *w)
{
    if (!ek_tok_is_word(&p->tok, w)) return false;
    parser__next(p);
    return true;
}

bool parser__error_at(parser *p, int line, int col, const char *fmt, ...)
{
    if (p->failed) return false;
    p->failed = true;
    char msg[EK_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ek_err_set(p->err, EK_EPARSE, "line %d, column %d: %s", line, col, msg);
    return false;
}

bool parser__expected(parser *p, const char *what)
{
    const ek_token *t = &p->tok;
    if (t->type == EK_TK_ERROR)
        return parser__error_at(p, t->line, t->col, "%s, expected %s", p->lx.error, what);
    if (t->type == EK_TK_EOF)
        return parser__error_at(p, t->line, t->col, "found EOF, expected %s", what);
    int n = t->len > 40 ? 40 : (int)t->len;
    const char *q = t->type == EK_TK_STRING ? "'" : t->type == EK_TK_QIDENT ? "`" : "";
    return parser__error_at(p, t->line, t->col, "found \"%s%.*s%s\", expected %s", q, n, t->text, q, what);
}

bool parser__expect(parser *p, ek_tok t, const char *what)
{
    if (parser__accept(p, t)) return true;
    return parser__expected(p, what);
}

char *parser__ident(parser *p, const char *what)
{
    if (p->tok.type != EK_TK_IDENT && p->tok.type != EK_TK_QIDENT) {
        parser__expected(p, what);
        return NULL;
    }
    char *s = ek_strndup(p->tok.text, p->tok.len);
    parser__next(p);
    return s;
}

static bool name_char(char c)
{
    return c == '_' || c == '/' || c == '#' || c == '+' || c == '-' || (c >= '0' && c <= '9') ||
           (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (unsigned char)c >= 0x80;
}

char *parser__source_name(parser *p)
{
    ek_tok t = p->tok.type;
    if (t == EK_TK_QIDENT || (t != EK_TK_IDENT && t != EK_TK_SLASH)) return parser__ident(p, "a stream or table name");
    const char *start = p->tok.text, *end = start;
    /* The run stops where a comment starts. */
    while (end < p->lx.end && name_char(*end) &&
           !(end + 1 < p->lx.end && ((end[0] == '/' && end[1] == '*') || (end[0] == '-' && end[1] == '-'))))
        end++;
    if (end == start + p->tok.len && t == EK_TK_IDENT) return parser__ident(p, "a stream or table name");
    /* Re-position the lexer after the run (it holds no newline, so the line does not change). */
    p->lx.p = end;
    char *name = ek_strndup(start, (size_t)(end - start));
    parser__next(p);
    return name;
}

char *parser__unescape(const ek_token *t)
{
    char *out = ek_malloc(t->len + 1), *o = out;
    for (size_t i = 0; i < t->len; i++) {
        char c = t->text[i];
        if (c == '\\' && i + 1 < t->len) {
            /* Known escapes are decoded; any other backslash stays, so LIKE's \% and regular
             * expressions such as "\d+" keep their meaning. */
            char n = t->text[i + 1];
            switch (n) {
            case 'n': c = '\n'; i++; break;
            case 't': c = '\t'; i++; break;
            case 'r': c = '\r'; i++; break;
            case '\\': case '\'': case '"': case '`': c = n; i++; break;
            default: break;
            }
        }
        *o++ = c;
    }
    *o = '\0';
    return out;
}

/* ---------------------------------------------------------------- CREATE STREAM / TABLE */

static const char *const prop_names[EK_PROP_COUNT] = {
    "DATASOURCE", "FORMAT", "TYPE", "KEY", "CONF_KEY", "EXTRA", "SHARED", "TIMESTAMP",
    "TIMESTAMP_FORMAT", "STRICT_VALIDATION", "SCHEMAID", "DELIMITER", "RETAIN_SIZE", "KIND",
    "VERSION", "TEMP",
};

const char *ek_stream_prop_name(ek_stream_prop prop)
{
    return (unsigned)prop < EK_PROP_COUNT ? prop_names[prop] : "";
}

int ek_stream_prop_lookup(const char *key)
{
    for (int i = 0; i < EK_PROP_COUNT; i++)
        if (strcasecmp(key, prop_names[i]) == 0) return i;
    return -1;
}

static bool parse_type(parser *p, ek_sql_type *t);

static bool parse_struct_fields(parser *p, ek_sql_type *t)
{
    if (!parser__expect(p, EK_TK_LPAREN, "'('")) return false;
    do {
        t->fields = ek_realloc(t->fields, (t->nfields + 1) * sizeof *t->fields);
        ek_col_def *f = &t->fields[t->nfields];
        memset(f, 0, sizeof *f);
        f->name = parser__ident(p, "field name");
        t->nfields++;
        if (!f->name || !parse_type(p, &f->type)) return false;
    } while (parser__accept(p, EK_TK_COMMA));
    return parser__expect(p, EK_TK_RPAREN, "')' or ','");
}

static bool parse_type(parser *p, ek_sql_type *t)
{
    static const struct { const char *name; ek_type kind; } simple[] = {
        {"bigint", EK_T_INT}, {"float", EK_T_FLOAT}, {"string", EK_T_STRING},
        {"datetime", EK_T_DATETIME}, {"boolean", EK_T_BOOL}, {"bytea", EK_T_BYTES},
    };
    memset(t, 0, sizeof *t);
    if (++p->depth > EK_PARSE_MAX_DEPTH)
        return parser__error_at(p, p->tok.line, p->tok.col, "types nested too deeply");
    bool ok = false;
    for (size_t i = 0; i < sizeof simple / sizeof *simple; i++) {
        if (parser__accept_word(p, simple[i].name)) {
            t->kind = simple[i].kind;
            ok = true;
            goto out;
        }
    }
    if (parser__accept_word(p, "array")) {
        t->kind = EK_T_ARRAY;
        t->elem = ek_calloc(1, sizeof *t->elem);
        ok = parser__expect(p, EK_TK_LPAREN, "'('") && parse_type(p, t->elem) &&
             parser__expect(p, EK_TK_RPAREN, "')'");
    } else if (parser__accept_word(p, "struct")) {
        t->kind = EK_T_OBJECT;
        ok = parse_struct_fields(p, t);
    } else {
        ok = parser__expected(p, "a type (bigint, float, string, datetime, boolean, bytea, array, struct)");
    }
out:
    p->depth--;
    return ok;
}

/* DEFAULT literal: only for bigint, float, string and boolean columns, of a matching type. */
static bool parse_default(parser *p, ek_col_def *c)
{
    int line = p->tok.line, col = p->tok.col;
    ek_expr *e = parser__expr(p);
    if (!e) return false;
    bool neg = false;
    ek_expr *lit = e;
    if (e->kind == EK_E_UNARY && e->op == EK_OP_NEG && e->a->kind == EK_E_LIT) {
        neg = true;
        lit = e->a;
    }
    bool ok = lit->kind == EK_E_LIT;
    ek_value v = ok ? lit->lit : ek_null();
    if (ok && neg) ok = v.type == EK_T_INT || v.type == EK_T_FLOAT;
    if (ok) {
        switch (c->type.kind) {
        case EK_T_INT: ok = v.type == EK_T_INT; break;
        case EK_T_FLOAT: ok = v.type == EK_T_INT || v.type == EK_T_FLOAT; break;
        case EK_T_STRING: ok = v.type == EK_T_STRING; break;
        case EK_T_BOOL: ok = v.type == EK_T_BOOL; break;
        default: ok = false; break;
        }
    }
    if (!ok) {
        ek_expr_free(e);
        return parser__error_at(p, line, col, "invalid DEFAULT for column %s of type %s: only a "
                                "literal of the column's type, for bigint, float, string and boolean",
                                c->name, ek_type_name(c->type.kind));
    }
    if (c->type.kind == EK_T_FLOAT && v.type == EK_T_INT) v = ek_float((double)v.i);
    if (neg) v = v.type == EK_T_INT ? ek_int(-v.i) : ek_float(-v.f);
    c->def = ek_value_ref(&v);
    c->has_default = true;
    ek_expr_free(e);
    return true;
}

static bool parse_columns(parser *p, ek_create_stmt *c)
{
    if (!parser__expect(p, EK_TK_LPAREN, "'('")) return false;
    if (parser__accept(p, EK_TK_RPAREN)) {
        c->schemaless = true;
        return true;
    }
    do {
        if (p->tok.type == EK_TK_RPAREN) break; /* a trailing comma, as eKuiper's docs write it */
        int line = p->tok.line, col = p->tok.col;
        c->cols = ek_realloc(c->cols, (c->ncols + 1) * sizeof *c->cols);
        ek_col_def *d = &c->cols[c->ncols];
        memset(d, 0, sizeof *d);
        d->name = parser__ident(p, "column name");
        c->ncols++;
        if (!d->name || !parse_type(p, &d->type)) return false;
        for (size_t i = 0; i + 1 < c->ncols; i++)
            if (strcmp(c->cols[i].name, d->name) == 0)
                return parser__error_at(p, line, col, "duplicate column %s", d->name);
        if (parser__accept_word(p, "default") && !parse_default(p, d)) return false;
    } while (parser__accept(p, EK_TK_COMMA));
    return parser__expect(p, EK_TK_RPAREN, "')' or ','");
}

/* FORMAT: one of the formats eKuiper knows; binary only for a stream of one bytea field or none. */
static bool check_format(parser *p, const ek_create_stmt *c, const char *f, int line, int col)
{
    static const char *const formats[] = {"json", "binary", "protobuf", "delimited", "custom", "urlencoded", "xml"};
    bool known = false;
    for (size_t i = 0; i < sizeof formats / sizeof *formats; i++)
        if (strcasecmp(f, formats[i]) == 0) known = true;
    if (!known) return parser__error_at(p, line, col, "option 'format=%s' is invalid", f);
    if (strcasecmp(f, "binary") != 0) return true;
    if (c->is_table) return parser__error_at(p, line, col, "'binary' format is not supported for table");
    if (c->ncols > 1) return parser__error_at(p, line, col, "'binary' format stream can have only one field");
    if (c->ncols == 1 && c->cols[0].type.kind != EK_T_BYTES)
        return parser__error_at(p, line, col, "'binary' format stream can have only 'bytea' type field");
    return true;
}

static bool parse_props(parser *p, ek_create_stmt *c)
{
    if (!parser__accept_word(p, "with")) return parser__expected(p, "WITH");
    if (!parser__expect(p, EK_TK_LPAREN, "'('")) return false;
    do {
        /* eKuiper accepts a trailing comma, and writes one itself: WITH (..., SHARED="false", ) */
        if (p->tok.type == EK_TK_RPAREN) {
            bool any = false;
            for (int i = 0; i < EK_PROP_COUNT && !any; i++) any = c->props[i] != NULL;
            if (any) break;
        }
        int line = p->tok.line, col = p->tok.col;
        char *key = parser__ident(p, "a property name");
        if (!key) return false;
        int prop = ek_stream_prop_lookup(key);
        if (prop < 0) {
            parser__error_at(p, line, col, "unknown property %s, expected one of DATASOURCE, FORMAT, "
                             "TYPE, KEY, CONF_KEY, EXTRA, SHARED, TIMESTAMP, TIMESTAMP_FORMAT, "
                             "STRICT_VALIDATION, SCHEMAID, DELIMITER, RETAIN_SIZE, KIND, VERSION, TEMP", key);
            ek_free(key);
            return false;
        }
        ek_free(key);
        if (!parser__expect(p, EK_TK_EQ, "'='")) return false;
        char *val = NULL;
        if (p->tok.type == EK_TK_STRING) val = parser__unescape(&p->tok);
        else if (p->tok.type == EK_TK_TRUE) val = ek_strdup("true");
        else if (p->tok.type == EK_TK_FALSE) val = ek_strdup("false");
        else if (p->tok.type == EK_TK_INT) val = ek_strndup(p->tok.text, p->tok.len);
        else return parser__expected(p, "a string, TRUE or FALSE");
        int vline = p->tok.line, vcol = p->tok.col;
        parser__next(p);
        if (prop == EK_PROP_FORMAT && !check_format(p, c, val, vline, vcol)) {
            ek_free(val);
            return false;
        }
        ek_free(c->props[prop]);
        c->props[prop] = val;
    } while (parser__accept(p, EK_TK_COMMA));
    return parser__expect(p, EK_TK_RPAREN, "')' or ','");
}

static bool parse_create(parser *p, ek_stmt *s)
{
    s->kind = EK_STMT_CREATE;
    ek_create_stmt *c = &s->create;
    if (parser__accept_word(p, "table")) c->is_table = true;
    else if (!parser__accept_word(p, "stream")) return parser__expected(p, "STREAM or TABLE");
    c->name = parser__ident(p, c->is_table ? "table name" : "stream name");
    return c->name && parse_columns(p, c) && parse_props(p, c);
}

/* DROP|DESCRIBE|EXPLAIN STREAM|TABLE name; SHOW STREAMS|TABLES. */
static bool parse_target(parser *p, ek_stmt *s, bool plural)
{
    if (parser__accept_word(p, plural ? "tables" : "table")) s->target_table = true;
    else if (!parser__accept_word(p, plural ? "streams" : "stream"))
        return parser__expected(p, plural ? "STREAMS or TABLES" : "STREAM or TABLE");
    if (plural) return true;
    s->name = parser__ident(p, s->target_table ? "table name" : "stream name");
    return s->name != NULL;
}

static bool parse_stmt(parser *p, ek_stmt *s)
{
    if (p->tok.type == EK_TK_SELECT) {
        s->kind = EK_STMT_SELECT;
        return parser__select(p, &s->select);
    }
    if (parser__accept_word(p, "create")) return parse_create(p, s);
    if (parser__accept_word(p, "drop")) {
        s->kind = EK_STMT_DROP;
        return parse_target(p, s, false);
    }
    if (parser__accept_word(p, "show")) {
        s->kind = EK_STMT_SHOW;
        return parse_target(p, s, true);
    }
    if (parser__accept_word(p, "describe")) {
        s->kind = EK_STMT_DESCRIBE;
        return parse_target(p, s, false);
    }
    if (parser__accept_word(p, "explain")) {
        s->kind = EK_STMT_EXPLAIN;
        return parse_target(p, s, false);
    }
    return parser__expected(p, "SELECT, CREATE, DROP, SHOW, DESCRIBE or EXPLAIN");
}

static void parser_init(parser *p, const char *text, size_t len, ek_err *err)
{
    memset(p, 0, sizeof *p);
    p->err = err;
    ek_lexer_init(&p->lx, text, len);
    parser__next(p);
}

int ek_sql_parse_n(const char *text, size_t len, ek_stmt **out, ek_err *err)
{
    parser p;
    parser_init(&p, text, len, err);
    ek_stmt *s = ek_calloc(1, sizeof *s);
    s->select.limit = -1;
    bool ok = parse_stmt(&p, s);
    if (ok) {
        parser__accept(&p, EK_TK_SEMI);
        if (p.tok.type != EK_TK_EOF) ok = parser__expected(&p, "EOF");
    }
    if (!ok || p.failed) {
        if (!p.failed) ek_err_set(err, EK_EPARSE, "parse error");
        ek_stmt_free(s);
        *out = NULL;
        return EK_EPARSE;
    }
    *out = s;
    return 0;
}

int ek_sql_parse_expr(const char *text, ek_expr **out, ek_err *err)
{
    parser p;
    parser_init(&p, text, strlen(text), err);
    ek_expr *e = parser__expr(&p);
    if (e && p.tok.type != EK_TK_EOF) parser__expected(&p, "an operator or EOF");
    if (!e || p.failed) {
        ek_expr_free(e);
        *out = NULL;
        return EK_EPARSE;
    }
    *out = e;
    return 0;
}
