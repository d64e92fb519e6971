/* The SQL lexer: turns statement text into tokens with 1-based line and column.
 *
 * Keywords are recognised case-insensitively. Only the words that would make the grammar
 * ambiguous are reserved (SELECT, FROM, AND, CASE ...); words with a meaning in one place only
 * (STREAM, WITH, EXCEPT, OVER, the type names, the window units) stay identifiers and the parser
 * matches them by text, so a column may be called `type` or `kind` without backticks.
 * Both '...' and "..." are string literals (as in eKuiper); `...` is a quoted identifier.
 * Comments are slash-star ... star-slash, and -- to the end of the line, as in eKuiper.
 * The lexer never allocates: tokens point into the text, and the parser unescapes strings. */
#ifndef EK_SQL_LEXER_H
#define EK_SQL_LEXER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum ek_tok {
    EK_TK_EOF = 0,
    EK_TK_ERROR,        /* bad character, unterminated string or comment: see ek_lexer.error */
    EK_TK_IDENT,        /* plain identifier (not a reserved word) */
    EK_TK_QIDENT,       /* `quoted identifier`: text excludes the backticks */
    EK_TK_STRING,       /* '...' or "...": text excludes the quotes, still escaped */
    EK_TK_INT,
    EK_TK_FLOAT,
    /* punctuation and operators */
    EK_TK_LPAREN, EK_TK_RPAREN, EK_TK_LBRACKET, EK_TK_RBRACKET, EK_TK_COMMA, EK_TK_DOT,
    EK_TK_COLON, EK_TK_SEMI, EK_TK_ARROW,
    EK_TK_PLUS, EK_TK_MINUS, EK_TK_STAR, EK_TK_SLASH, EK_TK_PERCENT,
    EK_TK_AMP, EK_TK_PIPE, EK_TK_CARET,
    EK_TK_EQ, EK_TK_NE, EK_TK_LT, EK_TK_LE, EK_TK_GT, EK_TK_GE,
    /* reserved words */
    EK_TK_KW_FIRST,
    EK_TK_SELECT = EK_TK_KW_FIRST, EK_TK_FROM, EK_TK_WHERE, EK_TK_GROUP, EK_TK_BY, EK_TK_HAVING,
    EK_TK_ORDER, EK_TK_LIMIT, EK_TK_AS, EK_TK_AND, EK_TK_OR, EK_TK_NOT, EK_TK_LIKE, EK_TK_IN,
    EK_TK_BETWEEN, EK_TK_IS, EK_TK_NULL, EK_TK_CASE, EK_TK_WHEN, EK_TK_THEN, EK_TK_ELSE,
    EK_TK_END, EK_TK_JOIN, EK_TK_INNER, EK_TK_LEFT, EK_TK_RIGHT, EK_TK_FULL, EK_TK_CROSS,
    EK_TK_ON, EK_TK_TRUE, EK_TK_FALSE, EK_TK_ASC, EK_TK_DESC,
    EK_TK_KW_LAST = EK_TK_DESC,
} ek_tok;

typedef struct ek_token {
    ek_tok type;
    const char *text;   /* points into the source */
    size_t len;
    int line, col;
    int64_t ival;       /* EK_TK_INT */
    double fval;        /* EK_TK_FLOAT */
} ek_token;

typedef struct ek_lexer {
    const char *src, *end, *p;
    int line;
    const char *line_start;
    char error[128];    /* set with EK_TK_ERROR */
} ek_lexer;

/* src need not be NUL-terminated; the lexer reads len bytes. */
void ek_lexer_init(ek_lexer *lx, const char *src, size_t len);
/* Scans the next token into *t. After EK_TK_EOF or EK_TK_ERROR it keeps returning the same. */
void ek_lexer_next(ek_lexer *lx, ek_token *t);
/* How a token type is named in "expected ..." messages: "FROM", "','", "identifier". */
const char *ek_tok_name(ek_tok t);
/* True for an identifier-like token (plain, quoted or a reserved word) whose text equals word,
 * ignoring ASCII case. Quoted identifiers never match keywords. */
bool ek_tok_is_word(const ek_token *t, const char *word);

/* True when word is a reserved keyword (case-insensitive): it needs backticks as a name. */
bool ek_sql_is_reserved(const char *word);
/* True when name can be written without backticks: a plain identifier, not reserved. */
bool ek_sql_is_plain_ident(const char *name);

#endif
