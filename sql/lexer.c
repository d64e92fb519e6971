/* The SQL lexer (see lexer.h). A single forward pass over the text with one character of
 * lookahead; positions are counted here so that every later error can name line and column.
 * Invariant: a token's text always points into the caller's buffer, never past lx->end. */
#include "sql/lexer.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const keywords[] = {
    "SELECT", "FROM", "WHERE", "GROUP", "BY", "HAVING", "ORDER", "LIMIT", "AS", "AND", "OR", "NOT",
    "LIKE", "IN", "BETWEEN", "IS", "NULL", "CASE", "WHEN", "THEN", "ELSE", "END", "JOIN", "INNER",
    "LEFT", "RIGHT", "FULL", "CROSS", "ON", "TRUE", "FALSE", "ASC", "DESC",
};

void ek_lexer_init(ek_lexer *lx, const char *src, size_t len)
{
    lx->src = lx->p = lx->line_start = src;
    lx->end = src + len;
    lx->line = 1;
    lx->error[0] = '\0';
}

static int peekc(const ek_lexer *lx, size_t ahead)
{
    return lx->p + ahead < lx->end ? (unsigned char)lx->p[ahead] : -1;
}

static void advance(ek_lexer *lx)
{
    if (lx->p >= lx->end) return;
    if (*lx->p == '\n') {
        lx->line++;
        lx->line_start = lx->p + 1;
    }
    lx->p++;
}

static int fail(ek_lexer *lx, ek_token *t, const char *msg)
{
    snprintf(lx->error, sizeof lx->error, "%s", msg);
    t->type = EK_TK_ERROR;
    lx->p = lx->end;
    return 0;
}

/* Skips blanks and comments; returns -1 on an unterminated comment. */
static int skip_space(ek_lexer *lx)
{
    for (;;) {
        int c = peekc(lx, 0);
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
            advance(lx);
        } else if (c == '-' && peekc(lx, 1) == '-') {  /* -- comment to the end of the line */
            while (lx->p < lx->end && *lx->p != '\n') advance(lx);
        } else if (c == '/' && peekc(lx, 1) == '*') {
            advance(lx);
            advance(lx);
            while (!(peekc(lx, 0) == '*' && peekc(lx, 1) == '/')) {
                if (lx->p >= lx->end) return -1;
                advance(lx);
            }
            advance(lx);
            advance(lx);
        } else {
            return 0;
        }
    }
}

static bool ident_start(int c) { return c == '_' || isalpha(c) || c >= 0x80; }
static bool ident_char(int c) { return c == '_' || isalnum(c) || c >= 0x80; }

static void scan_ident(ek_lexer *lx, ek_token *t)
{
    while (ident_char(peekc(lx, 0))) advance(lx);
    t->len = (size_t)(lx->p - t->text);
    t->type = EK_TK_IDENT;
    if (t->len > 8) return;
    for (size_t i = 0; i < sizeof keywords / sizeof *keywords; i++) {
        if (strlen(keywords[i]) == t->len && strncasecmp(keywords[i], t->text, t->len) == 0) {
            t->type = (ek_tok)(EK_TK_KW_FIRST + (int)i);
            return;
        }
    }
}

static void scan_number(ek_lexer *lx, ek_token *t)
{
    bool is_float = false;
    while (isdigit(peekc(lx, 0))) advance(lx);
    if (peekc(lx, 0) == '.' && isdigit(peekc(lx, 1))) {
        is_float = true;
        advance(lx);
        while (isdigit(peekc(lx, 0))) advance(lx);
    }
    int c = peekc(lx, 0);
    if ((c == 'e' || c == 'E') && (isdigit(peekc(lx, 1)) ||
        ((peekc(lx, 1) == '+' || peekc(lx, 1) == '-') && isdigit(peekc(lx, 2))))) {
        is_float = true;
        advance(lx);
        advance(lx);
        while (isdigit(peekc(lx, 0))) advance(lx);
    }
    t->len = (size_t)(lx->p - t->text);
    char buf[64];
    size_t n = t->len < sizeof buf - 1 ? t->len : sizeof buf - 1;
    memcpy(buf, t->text, n);
    buf[n] = '\0';
    if (!is_float && t->len < sizeof buf - 1) {
        errno = 0;
        long long v = strtoll(buf, NULL, 10);
        if (errno == 0) {
            t->type = EK_TK_INT;
            t->ival = v;
            return;
        }
    }
    t->type = EK_TK_FLOAT;
    t->fval = t->len < sizeof buf - 1 ? strtod(buf, NULL) : HUGE_VAL;
}

/* Strings and quoted identifiers: the text excludes the quotes; a backslash escapes the next
 * character, which the parser decodes (ek_tok text stays raw). */
static void scan_quoted(ek_lexer *lx, ek_token *t, char q, ek_tok type)
{
    advance(lx);
    t->text = lx->p;
    for (;;) {
        int c = peekc(lx, 0);
        if (c < 0) {
            fail(lx, t, q == '`' ? "unterminated quoted identifier" : "unterminated string");
            return;
        }
        if (c == 0) {  /* names and strings are C strings: a NUL would silently cut them */
            fail(lx, t, "unexpected byte 0x00");
            return;
        }
        if (c == '\\' && q != '`' && lx->p + 1 < lx->end) {
            advance(lx);
        } else if (c == q) {
            break;
        }
        advance(lx);
    }
    t->len = (size_t)(lx->p - t->text);
    t->type = type;
    advance(lx);
    if (type == EK_TK_QIDENT && t->len == 0) fail(lx, t, "empty quoted identifier");
}

/* Offset of the next non-blank character after the current one (eKuiper accepts "! =" and "> ="). */
static size_t next_solid(const ek_lexer *lx)
{
    size_t k = 1;
    while (peekc(lx, k) == ' ' || peekc(lx, k) == '\t') k++;
    return k;
}

static ek_tok two_char(ek_lexer *lx, int c)
{
    int d = peekc(lx, 1);
    if (c != '-' && d != '=' && peekc(lx, next_solid(lx)) == '=') d = '=';
    switch (c) {
    case '-': if (d == '>') return EK_TK_ARROW; return EK_TK_MINUS;
    case '!': if (d == '=') return EK_TK_NE; return EK_TK_ERROR;
    case '<':
        if (d == '=') return EK_TK_LE;
        if (d == '>') return EK_TK_NE;
        return EK_TK_LT;
    case '>': if (d == '=') return EK_TK_GE; return EK_TK_GT;
    default: return EK_TK_ERROR;
    }
}

static ek_tok one_char(int c)
{
    switch (c) {
    case '(': return EK_TK_LPAREN;
    case ')': return EK_TK_RPAREN;
    case '[': return EK_TK_LBRACKET;
    case ']': return EK_TK_RBRACKET;
    case ',': return EK_TK_COMMA;
    case '.': return EK_TK_DOT;
    case ':': return EK_TK_COLON;
    case ';': return EK_TK_SEMI;
    case '+': return EK_TK_PLUS;
    case '*': return EK_TK_STAR;
    case '/': return EK_TK_SLASH;
    case '%': return EK_TK_PERCENT;
    case '&': return EK_TK_AMP;
    case '|': return EK_TK_PIPE;
    case '^': return EK_TK_CARET;
    case '=': return EK_TK_EQ;
    default: return EK_TK_ERROR;
    }
}

void ek_lexer_next(ek_lexer *lx, ek_token *t)
{
    memset(t, 0, sizeof *t);
    int unterminated = skip_space(lx);
    t->line = lx->line;
    t->col = (int)(lx->p - lx->line_start) + 1;
    t->text = lx->p;
    if (lx->error[0]) {
        t->type = EK_TK_ERROR;
        return;
    }
    if (unterminated) {
        fail(lx, t, "unterminated comment");
        return;
    }
    int c = peekc(lx, 0);
    if (c < 0) {
        t->type = EK_TK_EOF;
        return;
    }
    if (ident_start(c)) {
        scan_ident(lx, t);
    } else if (isdigit(c) || (c == '.' && isdigit(peekc(lx, 1)))) {
        scan_number(lx, t);
    } else if (c == '\'' || c == '"') {
        scan_quoted(lx, t, (char)c, EK_TK_STRING);
    } else if (c == '`') {
        scan_quoted(lx, t, '`', EK_TK_QIDENT);
    } else if (c == '-' || c == '!' || c == '<' || c == '>') {
        ek_tok k = two_char(lx, c);
        if (k == EK_TK_ERROR) {
            fail(lx, t, "unexpected character '!'");
            return;
        }
        bool two = k == EK_TK_ARROW || k == EK_TK_NE || k == EK_TK_LE || k == EK_TK_GE;
        size_t n = !two ? 1 : (k == EK_TK_ARROW || peekc(lx, 1) == '=' || peekc(lx, 1) == '>') ? 2 : next_solid(lx) + 1;
        for (size_t i = 0; i < n; i++) advance(lx);
        t->type = k;
        t->len = n;
    } else {
        ek_tok k = one_char(c);
        if (k == EK_TK_ERROR) {
            char msg[64];
            if (c >= 0x20 && c < 0x7f) snprintf(msg, sizeof msg, "unexpected character '%c'", c);
            else snprintf(msg, sizeof msg, "unexpected byte 0x%02x", (unsigned)c);
            fail(lx, t, msg);
            return;
        }
        advance(lx);
        t->type = k;
        t->len = 1;
    }
}

const char *ek_tok_name(ek_tok t)
{
    static const char *const punct[] = {
        [EK_TK_EOF] = "end of input", [EK_TK_ERROR] = "error", [EK_TK_IDENT] = "identifier",
        [EK_TK_QIDENT] = "identifier", [EK_TK_STRING] = "string", [EK_TK_INT] = "integer",
        [EK_TK_FLOAT] = "number", [EK_TK_LPAREN] = "'('", [EK_TK_RPAREN] = "')'",
        [EK_TK_LBRACKET] = "'['", [EK_TK_RBRACKET] = "']'", [EK_TK_COMMA] = "','",
        [EK_TK_DOT] = "'.'", [EK_TK_COLON] = "':'", [EK_TK_SEMI] = "';'", [EK_TK_ARROW] = "'->'",
        [EK_TK_PLUS] = "'+'", [EK_TK_MINUS] = "'-'", [EK_TK_STAR] = "'*'", [EK_TK_SLASH] = "'/'",
        [EK_TK_PERCENT] = "'%'", [EK_TK_AMP] = "'&'", [EK_TK_PIPE] = "'|'", [EK_TK_CARET] = "'^'",
        [EK_TK_EQ] = "'='", [EK_TK_NE] = "'!='", [EK_TK_LT] = "'<'", [EK_TK_LE] = "'<='",
        [EK_TK_GT] = "'>'", [EK_TK_GE] = "'>='",
    };
    if (t >= EK_TK_KW_FIRST && t <= EK_TK_KW_LAST) return keywords[t - EK_TK_KW_FIRST];
    if ((size_t)t < sizeof punct / sizeof *punct && punct[t]) return punct[t];
    return "token";
}

bool ek_tok_is_word(const ek_token *t, const char *word)
{
    if (t->type != EK_TK_IDENT && !(t->type >= EK_TK_KW_FIRST && t->type <= EK_TK_KW_LAST)) return false;
    return strlen(word) == t->len && strncasecmp(word, t->text, t->len) == 0;
}

bool ek_sql_is_reserved(const char *word)
{
    for (size_t i = 0; i < sizeof keywords / sizeof *keywords; i++)
        if (strcasecmp(keywords[i], word) == 0) return true;
    return false;
}

bool ek_sql_is_plain_ident(const char *name)
{
    if (!ident_start((unsigned char)name[0])) return false;
    for (const char *c = name; *c; c++)
        if (!ident_char((unsigned char)*c)) return false;
    return !ek_sql_is_reserved(name);
}
