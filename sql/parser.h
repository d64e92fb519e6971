/* The SQL parser: a hand-written recursive descent over sql/lexer.h tokens producing sql/ast.h
 * trees. One entry point; the grammar is in docs/sql.md. Syntax errors are EK_EPARSE with
 * "line L, column C: found "X", expected Y". The parser checks syntax and the few rules that are
 * purely syntactic (known WITH properties, window arguments, DEFAULT types); names are checked by
 * the binder (sql/bind.h). */
#ifndef EK_SQL_PARSER_H
#define EK_SQL_PARSER_H

#include "engine/err.h"
#include "sql/ast.h"

#include <stddef.h>

/* Parses one statement (a trailing ';' is allowed) from len bytes of text. On success returns 0
 * and *out is a new statement (ek_stmt_free it). On error returns EK_EPARSE, fills err and leaves
 * *out NULL. */
int ek_sql_parse_n(const char *text, size_t len, ek_stmt **out, ek_err *err);

/* Parses a stand-alone expression (tests, rule options such as a sink's dataTemplate filters).
 * On success *out is a new expression (ek_expr_free it). */
int ek_sql_parse_expr(const char *text, ek_expr **out, ek_err *err);

#endif
