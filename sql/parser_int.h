/* Private to the parser files (parser.c, parse_select.c, parse_expr.c): the parser state and the
 * helpers they share. Not for use outside sql/. */
#ifndef EK_SQL_PARSER_INT_H
#define EK_SQL_PARSER_INT_H

#include "engine/err.h"
#include "sql/ast.h"
#include "sql/lexer.h"

#include <stdbool.h>

/* Deepest expression tree accepted: parentheses, unary operators and each link of an operator
 * chain (a + b + c nests left) all count, so every later recursive walk (binder, compiler,
 * evaluator, printer, free) is bounded too and hostile input cannot exhaust the stack. */
#define EK_PARSE_MAX_DEPTH 500

typedef struct parser {
    ek_lexer lx;
    ek_token tok;       /* the current (not yet consumed) token */
    ek_err *err;
    bool failed;        /* an error was reported; everything after it unwinds */
    int depth;
} parser;

/* Moves to the next token. */
void parser__next(parser *p);
/* Consumes the current token if it has type t. */
bool parser__accept(parser *p, ek_tok t);
/* Consumes the current token if it is the (unreserved or reserved) word w. */
bool parser__accept_word(parser *p, const char *w);
/* Reports "line L, column C: found "X", expected <what>" at the current token; returns false. */
bool parser__expected(parser *p, const char *what);
/* Reports "line L, column C: <msg>" at the given position; returns false. */
bool parser__error_at(parser *p, int line, int col, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Consumes t or reports that what was expected. */
bool parser__expect(parser *p, ek_tok t, const char *what);
/* An identifier (plain or `quoted`) as a new string, or NULL with an error naming what. */
char *parser__ident(parser *p, const char *what);
/* A string literal's decoded text (backslash escapes resolved) as a new string. */
char *parser__unescape(const ek_token *t);

/* A stream name in FROM/JOIN: an identifier, or a topic-like name written without quotes as
 * eKuiper allows (topic/sensor1/#, /a/+/b), taken as the contiguous run of name characters. */
char *parser__source_name(parser *p);
/* '*' [EXCEPT(names)] [REPLACE(expr AS name, ...)], at the current '*' token. */
ek_expr *parser__star(parser *p);

ek_expr *parser__expr(parser *p);
bool parser__select(parser *p, ek_select *sel);

#endif
