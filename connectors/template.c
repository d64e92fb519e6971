/* Lexing and parsing of Go text/template (see template.h for the supported subset). A template is
 * compiled once, when a rule is created, into the tree of template_int.h; every construct outside
 * the subset is refused here, naming the construct and its line:column, so a rule never fails later
 * because of its template's syntax. Variables are checked against their scopes at compile time, as
 * Go does. Evaluation lives in template_exec.c. */
#include "connectors/template_int.h"
#include "engine/mem.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { K_END, K_DOT, K_FIELD, K_VAR, K_IDENT, K_STRING, K_NUMBER, K_PIPE, K_LPAREN, K_RPAREN,
               K_DECLARE, K_ASSIGN, K_COMMA } tok_kind;

typedef struct tok {
    tok_kind kind;
    char *text;        /* identifier, field or variable name, or the decoded string */
    ek_value num;      /* K_NUMBER */
    size_t pos;        /* offset in the source, for messages */
    int adjacent;      /* no space before it (for .a.b and $x.a chains) */
} tok;

typedef struct parser {
    const char *src;
    size_t len, pos;
    ek_err *err;
    int failed;
    int trim_next;     /* the previous action ended with " -}}" */
    tok *toks;         /* the current action's tokens */
    int ntoks, cap, at;
    char **scope;      /* variables in scope, innermost last */
    int nscope, scope_cap;
    int depth;         /* open (parens) and {{if}}/{{range}}/{{with}} blocks, bounded by MAX_DEPTH */
} parser;

/* Parsing and rendering recurse once per nesting level, on whatever thread compiles or renders
 * (REST's, a rule worker's), so nesting is bounded well below what any stack holds; real templates
 * nest a handful of levels (each {{else if}} of a chain is one). fuzz_template_render overflowed
 * the stack with 1,200 open parens. */
#define MAX_DEPTH 100

static int fail(parser *p, size_t pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(parser *p, size_t pos, const char *fmt, ...)
{
    if (p->failed) return -1;
    int line = 1, col = 1;
    for (size_t i = 0; i < pos && i < p->len; i++) {
        if (p->src[i] == '\n') line++, col = 1;
        else col++;
    }
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ek_err_set(p->err, EK_EINVAL, "template: %d:%d: %s", line, col, msg);
    p->failed = 1;
    return -1;
}

/* ---- lexer: one action's tokens ---- */

static void push_tok(parser *p, tok t)
{
    if (p->ntoks == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 16;
        p->toks = ek_realloc(p->toks, (size_t)p->cap * sizeof *p->toks);
    }
    p->toks[p->ntoks++] = t;
}

static void clear_toks(parser *p)
{
    for (int i = 0; i < p->ntoks; i++) {
        ek_free(p->toks[i].text);
        ek_value_unref(&p->toks[i].num);
    }
    p->ntoks = p->at = 0;
}

static int is_ident_char(int c) { return isalnum(c) || c == '_'; }

static int lex_string(parser *p, size_t *i, tok *t)
{
    const char *s = p->src;
    char q = s[*i];
    ek_buf b = EK_BUF_INIT;
    size_t j = *i + 1;
    for (; j < p->len && s[j] != q; j++) {
        char c = s[j];
        if (q == '"' && c == '\n') break;
        if (q == '"' && c == '\\' && j + 1 < p->len) {
            char e = s[++j];
            static const char from[] = "ntr\\\"'0", to[] = "\n\t\r\\\"'\0";
            const char *k = strchr(from, e);
            if (!k || !e) {
                ek_buf_free(&b);
                return fail(p, j, "unknown escape sequence \\%c", e);
            }
            c = to[k - from];
        }
        ek_buf_putc(&b, c);
    }
    if (j >= p->len || s[j] != q) {
        ek_buf_free(&b);
        return fail(p, *i, "unterminated quoted string");
    }
    t->kind = K_STRING;
    t->text = ek_buf_detach(&b);
    *i = j + 1;
    return 0;
}

static int lex_number(parser *p, size_t *i, tok *t)
{
    const char *start = p->src + *i;
    char *end = NULL;
    long long iv = strtoll(start, &end, 0);
    char *fend = NULL;
    double dv = strtod(start, &fend);
    if (fend > end) {
        t->num = ek_float(dv);
        end = fend;
    } else {
        t->num = ek_int(iv);
    }
    if (end == start || is_ident_char((unsigned char)*end)) return fail(p, *i, "bad number syntax");
    t->kind = K_NUMBER;
    *i += (size_t)(end - start);
    return 0;
}

/* Lexes the action starting after "{{" at *i up to "}}"; sets *i after it. */
static int lex_action(parser *p, size_t *i, int *trim_right)
{
    const char *s = p->src;
    size_t j = *i;
    int space = 1;
    clear_toks(p);
    *trim_right = 0;
    for (;;) {
        if (j >= p->len) return fail(p, *i, "unclosed action");
        char c = s[j];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            if (j + 3 < p->len && s[j + 1] == '-' && s[j + 2] == '}' && s[j + 3] == '}') {
                *trim_right = 1;
                *i = j + 4;
                return 0;
            }
            j++, space = 1;
            continue;
        }
        if (c == '}' && j + 1 < p->len && s[j + 1] == '}') {
            *i = j + 2;
            return 0;
        }
        tok t = {.pos = j, .adjacent = !space};
        space = 0;
        if (c == '.' && j + 1 < p->len && (isalpha((unsigned char)s[j + 1]) || s[j + 1] == '_')) {
            size_t k = j + 1;
            while (k < p->len && is_ident_char((unsigned char)s[k])) k++;
            t.kind = K_FIELD, t.text = ek_strndup(s + j + 1, k - j - 1), j = k;
        } else if (c == '.' && !(j + 1 < p->len && isdigit((unsigned char)s[j + 1]))) {
            t.kind = K_DOT, j++;
        } else if (c == '$') {
            size_t k = j + 1;
            while (k < p->len && is_ident_char((unsigned char)s[k])) k++;
            t.kind = K_VAR, t.text = ek_strndup(s + j, k - j), j = k;
        } else if (isalpha((unsigned char)c) || c == '_') {
            size_t k = j;
            while (k < p->len && is_ident_char((unsigned char)s[k])) k++;
            t.kind = K_IDENT, t.text = ek_strndup(s + j, k - j), j = k;
        } else if (c == '"' || c == '`') {
            if (lex_string(p, &j, &t)) return -1;
        } else if (isdigit((unsigned char)c) || ((c == '-' || c == '+' || c == '.') && j + 1 < p->len &&
                                                  isdigit((unsigned char)s[j + 1]))) {
            if (lex_number(p, &j, &t)) return -1;
        } else if (c == ':' && j + 1 < p->len && s[j + 1] == '=') {
            t.kind = K_DECLARE, j += 2;
        } else {
            static const char single[] = "|()=,";
            static const tok_kind kinds[] = {K_PIPE, K_LPAREN, K_RPAREN, K_ASSIGN, K_COMMA};
            const char *k = strchr(single, c);
            if (!k) return fail(p, j, "unexpected \"%c\" in action", c);
            t.kind = kinds[k - single], j++;
        }
        push_tok(p, t);
    }
}

/* ---- scopes ---- */

static void scope_push(parser *p, const char *name)
{
    if (p->nscope == p->scope_cap) {
        p->scope_cap = p->scope_cap ? p->scope_cap * 2 : 8;
        p->scope = ek_realloc(p->scope, (size_t)p->scope_cap * sizeof *p->scope);
    }
    p->scope[p->nscope++] = ek_strdup(name);
}

static void scope_pop_to(parser *p, int n)
{
    while (p->nscope > n) ek_free(p->scope[--p->nscope]);
}

static int scope_has(parser *p, const char *name)
{
    for (int i = p->nscope - 1; i >= 0; i--)
        if (strcmp(p->scope[i], name) == 0) return 1;
    return 0;
}

/* ---- pipelines ---- */

static tok *peek(parser *p)
{
    static tok end = {.kind = K_END};
    return p->at < p->ntoks ? &p->toks[p->at] : &end;
}

static void pipe_free(tpl_pipe *pp);
static tpl_pipe *parse_pipe(parser *p, int max_decl, int in_paren);

static void arg_free(tpl_arg *a)
{
    ek_free(a->name);
    for (int i = 0; i < a->npath; i++) ek_free(a->path[i]);
    ek_free(a->path);
    ek_value_unref(&a->lit);
    pipe_free(a->sub);
}

static void pipe_free(tpl_pipe *pp)
{
    if (!pp) return;
    for (int i = 0; i < pp->ndecl; i++) ek_free(pp->decl[i]);
    for (int i = 0; i < pp->ncmds; i++) {
        for (int j = 0; j < pp->cmds[i].nargs; j++) arg_free(&pp->cmds[i].args[j]);
        ek_free(pp->cmds[i].args);
    }
    ek_free(pp->cmds);
    ek_free(pp);
}

/* Field chain directly after an operand: .a.b */
static void parse_chain(parser *p, tpl_arg *a)
{
    while (peek(p)->kind == K_FIELD && peek(p)->adjacent) {
        a->path = ek_realloc(a->path, (size_t)(a->npath + 1) * sizeof *a->path);
        a->path[a->npath++] = ek_strdup(peek(p)->text);
        p->at++;
    }
}

static int parse_operand(parser *p, tpl_arg *a, int first)
{
    tok *t = peek(p);
    memset(a, 0, sizeof *a);
    switch (t->kind) {
    case K_DOT: a->kind = TA_DOT, p->at++; return 0;
    case K_FIELD:
        a->kind = TA_FIELD;
        a->path = ek_malloc(sizeof *a->path);
        a->path[a->npath++] = ek_strdup(t->text);
        p->at++;
        parse_chain(p, a);
        return 0;
    case K_VAR:
        if (!scope_has(p, t->text)) return fail(p, t->pos, "undefined variable \"%s\"", t->text);
        a->kind = TA_VAR, a->name = ek_strdup(t->text), p->at++;
        parse_chain(p, a);
        return 0;
    case K_STRING: a->kind = TA_LIT, a->lit = ek_string(t->text), p->at++; return 0;
    case K_NUMBER: a->kind = TA_LIT, a->lit = t->num, t->num = ek_null(), p->at++; return 0;
    case K_LPAREN: {
        size_t pos = t->pos;
        if (p->depth >= MAX_DEPTH) return fail(p, pos, "expression nested more than %d deep", MAX_DEPTH);
        p->at++;
        a->kind = TA_PIPE;
        p->depth++;
        a->sub = parse_pipe(p, 0, 1);
        p->depth--;
        if (!a->sub) return -1;
        if (peek(p)->kind != K_RPAREN) return fail(p, pos, "unclosed left paren");
        p->at++;
        parse_chain(p, a);
        return 0;
    }
    case K_IDENT:
        if (strcmp(t->text, "true") == 0 || strcmp(t->text, "false") == 0) {
            a->kind = TA_LIT, a->lit = ek_bool(t->text[0] == 't'), p->at++;
            return 0;
        }
        if (strcmp(t->text, "nil") == 0) {
            a->kind = TA_NIL, p->at++;
            return 0;
        }
        a->fn = tpl__func_index(t->text);
        if (a->fn < 0) return fail(p, t->pos, "function \"%s\" not defined", t->text);
        if (!first) return fail(p, t->pos, "function \"%s\" as an argument: write (%s ...)", t->text, t->text);
        a->kind = TA_FUNC, a->name = ek_strdup(t->text), p->at++;
        return 0;
    default: return fail(p, t->pos, "unexpected token in operand");
    }
}

static int parse_decl(parser *p, tpl_pipe *pp, int max_decl)
{
    /* $x := / $x = / $i, $v := */
    int n = 0;
    while (p->at + n * 2 < p->ntoks && p->toks[p->at + n * 2].kind == K_VAR) {
        tok_kind next = p->at + n * 2 + 1 < p->ntoks ? p->toks[p->at + n * 2 + 1].kind : K_END;
        if (next == K_DECLARE || next == K_ASSIGN) {
            if (n + 1 > max_decl) return fail(p, p->toks[p->at].pos, "too many declarations");
            pp->assign = next == K_ASSIGN;
            for (int i = 0; i <= n; i++) {
                const char *name = p->toks[p->at + i * 2].text;
                if (pp->assign && !scope_has(p, name))
                    return fail(p, p->toks[p->at].pos, "undefined variable \"%s\"", name);
                pp->decl[pp->ndecl++] = ek_strdup(name);
            }
            p->at += n * 2 + 2;
            return 0;
        }
        if (next != K_COMMA || max_decl < 2) break;
        n++;
    }
    return 0;
}

static tpl_pipe *parse_pipe(parser *p, int max_decl, int in_paren)
{
    tpl_pipe *pp = ek_calloc(1, sizeof *pp);
    size_t start = peek(p)->pos;
    if (max_decl && parse_decl(p, pp, max_decl)) goto bad;
    for (;;) {
        tpl_cmd c = {0};
        while (peek(p)->kind != K_END && peek(p)->kind != K_PIPE && peek(p)->kind != K_RPAREN) {
            c.args = ek_realloc(c.args, (size_t)(c.nargs + 1) * sizeof *c.args);
            if (parse_operand(p, &c.args[c.nargs], c.nargs == 0)) {
                for (int i = 0; i <= c.nargs; i++) arg_free(&c.args[i]);
                ek_free(c.args);
                goto bad;
            }
            c.nargs++;
        }
        pp->cmds = ek_realloc(pp->cmds, (size_t)(pp->ncmds + 1) * sizeof *pp->cmds);
        pp->cmds[pp->ncmds++] = c;
        if (c.nargs == 0) {
            fail(p, peek(p)->pos ? peek(p)->pos : start, "missing value for command");
            goto bad;
        }
        if (peek(p)->kind != K_PIPE) break;
        p->at++;
    }
    if (peek(p)->kind == K_RPAREN && !in_paren) {
        fail(p, peek(p)->pos, "unexpected right paren");
        goto bad;
    }
    for (int i = 0; i < pp->ndecl && !pp->assign; i++) scope_push(p, pp->decl[i]);
    return pp;
bad:
    pipe_free(pp);
    return NULL;
}

/* ---- lists and control structures ---- */

typedef enum { TERM_EOF, TERM_END, TERM_ELSE } term_kind;

static void list_add(tpl_list *l, tpl_node *n)
{
    if (l->len == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->items = ek_realloc(l->items, (size_t)l->cap * sizeof *l->items);
    }
    l->items[l->len++] = n;
}

static void node_free(tpl_node *n)
{
    if (!n) return;
    ek_free(n->text);
    pipe_free(n->pipe);
    tpl__list_free(&n->body);
    tpl__list_free(&n->alt);
    ek_free(n);
}

void tpl__list_free(tpl_list *l)
{
    for (int i = 0; i < l->len; i++) node_free(l->items[i]);
    ek_free(l->items);
    l->items = NULL;
    l->len = l->cap = 0;
}

static int parse_list(parser *p, tpl_list *l, term_kind *term, size_t *term_pos);

static void add_text(parser *p, tpl_list *l, const char *s, size_t n, int trim_right_ws)
{
    if (p->trim_next)
        while (n && isspace((unsigned char)*s)) s++, n--;
    p->trim_next = 0;
    if (trim_right_ws)
        while (n && isspace((unsigned char)s[n - 1])) n--;
    if (!n) return;
    tpl_node *t = ek_calloc(1, sizeof *t);
    t->kind = TN_TEXT;
    t->text = ek_strndup(s, n);
    t->len = n;
    list_add(l, t);
}

/* Parses {{if|with|range pipe}} body [{{else [if ...]}} alt] {{end}}; the action's tokens after the
 * keyword are current. */
static tpl_node *parse_control_body(parser *p, tpl_node_kind kind, size_t pos);

/* {{if}}, {{range}} or {{with}} up to its {{end}}, nesting bounded by MAX_DEPTH. */
static tpl_node *parse_control(parser *p, tpl_node_kind kind, size_t pos)
{
    if (p->depth >= MAX_DEPTH) {
        fail(p, pos, "blocks nested more than %d deep", MAX_DEPTH);
        return NULL;
    }
    p->depth++;
    tpl_node *n = parse_control_body(p, kind, pos);
    p->depth--;
    return n;
}

static tpl_node *parse_control_body(parser *p, tpl_node_kind kind, size_t pos)
{
    const char *kw = kind == TN_IF ? "if" : kind == TN_WITH ? "with" : "range";
    int saved = p->nscope;
    tpl_node *n = ek_calloc(1, sizeof *n);
    n->kind = kind;
    n->pipe = parse_pipe(p, kind == TN_RANGE ? 2 : 1, 0);
    if (!n->pipe) goto bad;
    if (peek(p)->kind != K_END) {
        fail(p, peek(p)->pos, "unexpected token after %s pipeline", kw);
        goto bad;
    }
    term_kind term;
    size_t tpos;
    if (parse_list(p, &n->body, &term, &tpos)) goto bad;
    scope_pop_to(p, saved);
    if (term == TERM_ELSE) {
        tok *t = peek(p);
        if (t->kind == K_IDENT && (strcmp(t->text, "if") == 0 || strcmp(t->text, "with") == 0) && kind != TN_RANGE) {
            tpl_node_kind k = t->text[0] == 'i' ? TN_IF : TN_WITH;
            p->at++;
            tpl_node *nested = parse_control(p, k, t->pos);
            if (!nested) goto bad;
            list_add(&n->alt, nested);
            return n;   /* the nested chain consumed the {{end}} */
        }
        if (t->kind != K_END) {
            fail(p, t->pos, "unexpected token after else");
            goto bad;
        }
        if (parse_list(p, &n->alt, &term, &tpos)) goto bad;
        scope_pop_to(p, saved);
        if (term == TERM_ELSE) {
            fail(p, tpos, "expected end; found {{else}}");
            goto bad;
        }
    }
    if (term != TERM_END) {
        fail(p, pos, "unexpected EOF: {{%s}} without {{end}}", kw);
        goto bad;
    }
    return n;
bad:
    scope_pop_to(p, saved);
    node_free(n);
    return NULL;
}

static int parse_action(parser *p, tpl_list *l, term_kind *term, size_t *term_pos, int *done)
{
    tok *t = peek(p);
    *done = 0;
    if (t->kind == K_END) return fail(p, p->pos, "missing value for command");
    if (t->kind == K_IDENT) {
        static const char *const unsupported[] = {"define", "template", "block", "break", "continue", NULL};
        for (int i = 0; unsupported[i]; i++)
            if (strcmp(t->text, unsupported[i]) == 0)
                return fail(p, t->pos, "{{%s}} is not supported in kuiperd templates", t->text);
        if (strcmp(t->text, "end") == 0 || strcmp(t->text, "else") == 0) {
            *term = t->text[1] == 'n' ? TERM_END : TERM_ELSE;
            *term_pos = t->pos;
            p->at++;
            if (*term == TERM_END && peek(p)->kind != K_END) return fail(p, peek(p)->pos, "unexpected token in end");
            *done = 1;
            return 0;
        }
        static const struct { const char *kw; tpl_node_kind kind; } ctl[] = {
            {"if", TN_IF}, {"range", TN_RANGE}, {"with", TN_WITH}};
        for (size_t i = 0; i < sizeof ctl / sizeof ctl[0]; i++) {
            if (strcmp(t->text, ctl[i].kw) != 0) continue;
            size_t pos = t->pos;
            p->at++;
            tpl_node *n = parse_control(p, ctl[i].kind, pos);
            if (!n) return -1;
            list_add(l, n);
            return 0;
        }
    }
    tpl_node *n = ek_calloc(1, sizeof *n);
    n->kind = TN_ACTION;
    n->pipe = parse_pipe(p, 1, 0);
    if (!n->pipe) {
        ek_free(n);
        return -1;
    }
    list_add(l, n);
    if (peek(p)->kind != K_END) return fail(p, peek(p)->pos, "unexpected token in command");
    return 0;
}

/* Parses text and actions into l until {{end}}, {{else}} (its remaining tokens stay current) or
 * the end of the source. */
static int parse_list(parser *p, tpl_list *l, term_kind *term, size_t *term_pos)
{
    *term = TERM_EOF;
    for (;;) {
        const char *open = p->pos < p->len ? strstr(p->src + p->pos, "{{") : NULL;
        if (!open) {
            add_text(p, l, p->src + p->pos, p->len - p->pos, 0);
            p->pos = p->len;
            return 0;
        }
        size_t at = (size_t)(open - p->src);
        size_t i = at + 2;
        int trim_left = i + 1 < p->len && p->src[i] == '-' && (p->src[i + 1] == ' ' || p->src[i + 1] == '\t' ||
                                                               p->src[i + 1] == '\n' || p->src[i + 1] == '\r');
        add_text(p, l, p->src + p->pos, at - p->pos, trim_left);
        if (trim_left) i++;
        while (i < p->len && isspace((unsigned char)p->src[i]) && trim_left) i++;
        if (strncmp(p->src + i, "/*", 2) == 0) {
            const char *close = strstr(p->src + i + 2, "*/");
            if (!close) return fail(p, at, "unclosed comment");
            size_t j = (size_t)(close - p->src) + 2;
            while (j < p->len && isspace((unsigned char)p->src[j])) j++;
            int trim_right = 0;
            if (j + 2 < p->len && p->src[j] == '-' && p->src[j + 1] == '}' && p->src[j + 2] == '}')
                trim_right = 1, j++;
            if (strncmp(p->src + j, "}}", 2) != 0) return fail(p, at, "comment ends before closing delimiter");
            p->pos = j + 2;
            p->trim_next = trim_right;
            continue;
        }
        int trim_right;
        if (lex_action(p, &i, &trim_right)) return -1;
        p->pos = i;
        int done;
        if (parse_action(p, l, term, term_pos, &done)) return -1;
        p->trim_next = trim_right;
        if (done) return 0;
    }
}

int ek_template_compile(const char *text, ek_template **out, ek_err *err)
{
    parser p = {.src = text, .len = strlen(text), .err = err};
    ek_template *t = ek_calloc(1, sizeof *t);
    scope_push(&p, "$");
    term_kind term;
    size_t tpos = 0;
    int rc = parse_list(&p, &t->root, &term, &tpos);
    if (!rc && term != TERM_EOF) rc = fail(&p, tpos, "unexpected {{%s}}", term == TERM_END ? "end" : "else");
    clear_toks(&p);
    ek_free(p.toks);
    scope_pop_to(&p, 0);
    ek_free(p.scope);
    if (rc) {
        ek_template_free(t);
        return EK_EINVAL;
    }
    *out = t;
    return 0;
}

void ek_template_free(ek_template *t)
{
    if (!t) return;
    tpl__list_free(&t->root);
    ek_free(t);
}

bool ek_template_is_static(const char *text)
{
    return text == NULL || strstr(text, "{{") == NULL;
}
