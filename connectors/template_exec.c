/* Evaluation of compiled templates (template.c builds the tree) and the function table.
 * Values print as Go's fmt prints the interface{} values eKuiper's sinks hold (decoded JSON), so a
 * dataTemplate written for eKuiper renders the same bytes here. Where Go would fail on a
 * comparison of mixed numbers (an int field against a float literal) we compare numerically:
 * users cannot see Go's types, and a rule should not fail on them. */
#include "connectors/template_int.h"
#include "engine/codec_json.h"
#include "engine/mem.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct var {
    const char *name;
    ek_value v;
} var;

typedef struct ctx {
    var *vars;
    int n, cap;
    ek_err *err;
} ctx;

static int eval_pipe(ctx *c, const tpl_pipe *pp, const ek_value *dot, int declare, ek_value *out);
static int exec_list(ctx *c, const tpl_list *l, const ek_value *dot, ek_buf *out);

static int xerr(ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int xerr(ctx *c, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ek_err_set(c->err, EK_EEXEC, "%s", msg);
    return EK_EEXEC;
}

/* ---- printing as Go's fmt %v ---- */

/* Shortest %g as strconv.FormatFloat(f, 'g', -1, 64). */
void tpl__go_float(double f, ek_buf *out)
{
    if (isnan(f)) return ek_buf_puts(out, "NaN");
    if (isinf(f)) return ek_buf_puts(out, f > 0 ? "+Inf" : "-Inf");
    if (f == 0) return ek_buf_puts(out, signbit(f) ? "-0" : "0");
    char buf[40];
    int p = 1;
    for (; p <= 17; p++) {
        snprintf(buf, sizeof buf, "%.*e", p - 1, f);
        if (strtod(buf, NULL) == f) break;
    }
    char digits[24];
    int nd = 0;
    const char *s = buf;
    if (*s == '-') ek_buf_putc(out, '-'), s++;
    for (; *s && *s != 'e'; s++)
        if (isdigit((unsigned char)*s)) digits[nd++] = *s;
    while (nd > 1 && digits[nd - 1] == '0') nd--;
    int exp = atoi(s + 1);
    if (exp < -4 || exp >= 6) {
        ek_buf_putc(out, digits[0]);
        if (nd > 1) ek_buf_putc(out, '.'), ek_buf_append(out, digits + 1, (size_t)nd - 1);
        ek_buf_printf(out, "e%c%02d", exp < 0 ? '-' : '+', abs(exp));
    } else if (exp >= 0) {
        for (int i = 0; i <= exp || i < nd; i++) {
            if (i == exp + 1) ek_buf_putc(out, '.');
            ek_buf_putc(out, i < nd ? digits[i] : '0');
        }
    } else {
        ek_buf_puts(out, "0.");
        for (int i = 0; i < -exp - 1; i++) ek_buf_putc(out, '0');
        ek_buf_append(out, digits, (size_t)nd);
    }
}

typedef struct keyref {
    const char *key;
    size_t i;
} keyref;

static int keyref_cmp(const void *a, const void *b)
{
    return strcmp(((const keyref *)a)->key, ((const keyref *)b)->key);
}

/* Indices of obj's keys in byte order (ek_free the result). */
static keyref *sorted_keys(const ek_value *obj)
{
    size_t n = ek_object_len(obj);
    keyref *k = ek_malloc((n ? n : 1) * sizeof *k);
    for (size_t i = 0; i < n; i++) k[i].key = ek_object_key(obj, i), k[i].i = i;
    qsort(k, n, sizeof *k, keyref_cmp);
    return k;
}

void tpl__print_value(const ek_value *v, int top, ek_buf *out)
{
    switch (v->type) {
    case EK_T_NULL: ek_buf_puts(out, top ? "<no value>" : "<nil>"); break;
    case EK_T_BOOL: ek_buf_puts(out, v->b ? "true" : "false"); break;
    case EK_T_INT: ek_buf_printf(out, "%lld", (long long)v->i); break;
    case EK_T_FLOAT: tpl__go_float(v->f, out); break;
    case EK_T_STRING: ek_buf_append(out, ek_str_ptr(v), ek_str_len(v)); break;
    case EK_T_BYTES:
        ek_buf_putc(out, '[');
        for (size_t i = 0; i < v->s->len; i++) ek_buf_printf(out, "%s%u", i ? " " : "", (unsigned char)v->s->data[i]);
        ek_buf_putc(out, ']');
        break;
    case EK_T_ARRAY:
        ek_buf_putc(out, '[');
        for (size_t i = 0; i < ek_array_len(v); i++) {
            if (i) ek_buf_putc(out, ' ');
            tpl__print_value(ek_array_get(v, i), 0, out);
        }
        ek_buf_putc(out, ']');
        break;
    case EK_T_OBJECT: {
        keyref *k = sorted_keys(v);
        ek_buf_puts(out, "map[");
        for (size_t i = 0; i < ek_object_len(v); i++) {
            ek_buf_printf(out, "%s%s:", i ? " " : "", k[i].key);
            tpl__print_value(ek_object_val(v, k[i].i), 0, out);
        }
        ek_buf_putc(out, ']');
        ek_free(k);
        break;
    }
    case EK_T_DATETIME: {
        time_t secs = (time_t)(v->t / 1000000000);
        long ns = (long)(v->t % 1000000000);
        if (ns < 0) ns += 1000000000, secs--;
        struct tm tm;
        gmtime_r(&secs, &tm);
        char b[64];
        strftime(b, sizeof b, "%Y-%m-%d %H:%M:%S", &tm);
        ek_buf_puts(out, b);
        if (ns) {
            char frac[16];
            snprintf(frac, sizeof frac, ".%09ld", ns);
            size_t n = strlen(frac);
            while (frac[n - 1] == '0') frac[--n] = '\0';
            ek_buf_puts(out, frac);
        }
        ek_buf_puts(out, " +0000 UTC");
        break;
    }
    }
}

void ek_template_print_value(const ek_value *v, ek_buf *out) { tpl__print_value(v, 0, out); }

bool tpl__truth(const ek_value *v)
{
    switch (v->type) {
    case EK_T_NULL: return false;
    case EK_T_BOOL: return v->b;
    case EK_T_INT: return v->i != 0;
    case EK_T_FLOAT: return v->f != 0;
    case EK_T_STRING:
    case EK_T_BYTES: return v->s->len > 0;
    case EK_T_ARRAY: return ek_array_len(v) > 0;
    case EK_T_OBJECT: return ek_object_len(v) > 0;
    case EK_T_DATETIME: return true;
    }
    return false;
}

const char *tpl__go_type(const ek_value *v)
{
    static const char *const names[] = {"<nil>", "bool", "int64", "float64", "string", "[]uint8",
                                        "[]interface {}", "map[string]interface {}", "time.Time"};
    return names[v->type];
}

/* ---- evaluation ---- */

static int walk(ctx *c, const ek_value *base, char *const *path, int npath, ek_value *out)
{
    const ek_value *cur = base;
    for (int i = 0; i < npath; i++) {
        if (cur->type == EK_T_NULL) return xerr(c, "template: nil pointer evaluating interface {}.%s", path[i]);
        if (cur->type != EK_T_OBJECT) {
            ek_err_set(c->err, EK_EEXEC, "template: can't evaluate field %s in type %s", path[i], tpl__go_type(cur));
            return EK_EEXEC;
        }
        const ek_value *next = ek_object_get(cur, path[i]);
        static const ek_value null_value = {.type = EK_T_NULL};
        cur = next ? next : &null_value;
    }
    *out = ek_value_ref(cur);
    return 0;
}

static const ek_value *lookup_var(ctx *c, const char *name)
{
    for (int i = c->n - 1; i >= 0; i--)
        if (strcmp(c->vars[i].name, name) == 0) return &c->vars[i].v;
    return NULL;
}

static void push_var(ctx *c, const char *name, ek_value v)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 8;
        c->vars = ek_realloc(c->vars, (size_t)c->cap * sizeof *c->vars);
    }
    c->vars[c->n].name = name;
    c->vars[c->n++].v = v;
}

static void pop_vars(ctx *c, int n)
{
    while (c->n > n) ek_value_unref(&c->vars[--c->n].v);
}

static int eval_arg(ctx *c, const tpl_arg *a, const ek_value *dot, ek_value *out)
{
    switch (a->kind) {
    case TA_DOT: *out = ek_value_ref(dot); return 0;
    case TA_FIELD: return walk(c, dot, a->path, a->npath, out);
    case TA_VAR: {
        const ek_value *v = lookup_var(c, a->name);
        if (!v) return xerr(c, "template: undefined variable %s", a->name);
        return walk(c, v, a->path, a->npath, out);
    }
    case TA_LIT: *out = ek_value_ref(&a->lit); return 0;
    case TA_NIL: *out = ek_null(); return 0;
    case TA_PIPE: {
        ek_value r;
        int rc = eval_pipe(c, a->sub, dot, 0, &r);
        if (rc) return rc;
        rc = walk(c, &r, a->path, a->npath, out);
        ek_value_unref(&r);
        return rc;
    }
    case TA_FUNC: return xerr(c, "template: function %s used as a value", a->name);
    }
    return EK_EEXEC;
}

static int eval_cmd(ctx *c, const tpl_cmd *cmd, const ek_value *dot, ek_value *final, ek_value *out)
{
    const tpl_arg *a0 = &cmd->args[0];
    if (a0->kind != TA_FUNC) {
        if (cmd->nargs > 1 || final) return xerr(c, "template: can't give argument to non-function %s",
                                                 a0->kind == TA_FIELD ? a0->path[0] : "value");
        if (a0->kind == TA_NIL) return xerr(c, "template: nil is not a command");
        return eval_arg(c, a0, dot, out);
    }
    int n = cmd->nargs - 1 + (final ? 1 : 0);
    ek_value *args = ek_calloc((size_t)n + 1, sizeof *args);
    int rc = 0, got = 0;
    for (int i = 1; i < cmd->nargs && !rc; i++, got++) rc = eval_arg(c, &cmd->args[i], dot, &args[i - 1]);
    if (!rc && final) args[got++] = ek_value_ref(final);
    if (!rc) {
        const tpl_func *f = &tpl__funcs[a0->fn];
        if (n < f->min || (f->max >= 0 && n > f->max)) {
            ek_err_set(c->err, EK_EEXEC, "template: wrong number of args for %s: got %d", f->name, n);
            rc = EK_EEXEC;
        } else {
            rc = f->fn(c->err, args, n, out);
        }
    }
    for (int i = 0; i < got; i++) ek_value_unref(&args[i]);
    ek_free(args);
    return rc;
}

/* Evaluates a pipeline; with declare, its variables are set to the result (declared or assigned). */
static int eval_pipe(ctx *c, const tpl_pipe *pp, const ek_value *dot, int declare, ek_value *out)
{
    ek_value cur = ek_null();
    int have = 0;
    for (int i = 0; i < pp->ncmds; i++) {
        ek_value next;
        int rc = eval_cmd(c, &pp->cmds[i], dot, have ? &cur : NULL, &next);
        ek_value_unref(&cur);
        if (rc) return rc;
        cur = next, have = 1;
    }
    if (declare && pp->ndecl == 1) {
        if (pp->assign) {
            for (int i = c->n - 1; i >= 0; i--)
                if (strcmp(c->vars[i].name, pp->decl[0]) == 0) {
                    ek_value_unref(&c->vars[i].v);
                    c->vars[i].v = ek_value_ref(&cur);
                    break;
                }
        } else {
            push_var(c, pp->decl[0], ek_value_ref(&cur));
        }
    }
    *out = cur;
    return 0;
}

static int exec_range(ctx *c, const tpl_node *n, const ek_value *dot, ek_buf *out)
{
    ek_value v;
    int rc = eval_pipe(c, n->pipe, dot, 0, &v);
    if (rc) return rc;
    size_t len = v.type == EK_T_ARRAY ? ek_array_len(&v) : v.type == EK_T_OBJECT ? ek_object_len(&v) : 0;
    if (v.type != EK_T_ARRAY && v.type != EK_T_OBJECT && v.type != EK_T_NULL) {
        ek_err_set(c->err, EK_EEXEC, "template: range can't iterate over %s", tpl__go_type(&v));
        ek_value_unref(&v);
        return EK_EEXEC;
    }
    keyref *keys = v.type == EK_T_OBJECT ? sorted_keys(&v) : NULL;
    int base = c->n;
    for (size_t i = 0; i < len && !rc; i++) {
        const ek_value *elem = keys ? ek_object_val(&v, keys[i].i) : ek_array_get(&v, i);
        if (n->pipe->ndecl == 2) {
            push_var(c, n->pipe->decl[0], keys ? ek_string(keys[i].key) : ek_int((int64_t)i));
            push_var(c, n->pipe->decl[1], ek_value_ref(elem));
        } else if (n->pipe->ndecl == 1) {
            push_var(c, n->pipe->decl[0], ek_value_ref(elem));
        }
        rc = exec_list(c, &n->body, elem, out);
        pop_vars(c, base);
    }
    if (!rc && len == 0) rc = exec_list(c, &n->alt, dot, out);
    ek_free(keys);
    ek_value_unref(&v);
    return rc;
}

static int exec_node(ctx *c, const tpl_node *n, const ek_value *dot, ek_buf *out)
{
    int base = c->n, rc = 0;
    ek_value v = ek_null();
    switch (n->kind) {
    case TN_TEXT: ek_buf_append(out, n->text, n->len); return 0;
    case TN_ACTION:
        rc = eval_pipe(c, n->pipe, dot, 1, &v);
        if (!rc && n->pipe->ndecl == 0) tpl__print_value(&v, 1, out);
        ek_value_unref(&v);
        return rc;   /* a declaration stays in scope until the enclosing block ends */
    case TN_IF:
    case TN_WITH:
        rc = eval_pipe(c, n->pipe, dot, 1, &v);
        if (!rc) {
            if (tpl__truth(&v)) rc = exec_list(c, &n->body, n->kind == TN_WITH ? &v : dot, out);
            else rc = exec_list(c, &n->alt, dot, out);
        }
        ek_value_unref(&v);
        break;
    case TN_RANGE: rc = exec_range(c, n, dot, out); break;
    }
    pop_vars(c, base);
    return rc;
}

static int exec_list(ctx *c, const tpl_list *l, const ek_value *dot, ek_buf *out)
{
    int base = c->n;
    int rc = 0;
    for (int i = 0; i < l->len && !rc; i++) rc = exec_node(c, l->items[i], dot, out);
    pop_vars(c, base);
    return rc;
}

int ek_template_render(const ek_template *t, const ek_value *data, ek_buf *out, ek_err *err)
{
    ek_value empty = ek_null();
    if (!data) {
        empty = ek_object_new(0);
        data = &empty;
    }
    ctx c = {.err = err};
    push_var(&c, "$", ek_value_ref(data));
    size_t start = out->len;
    int rc = exec_list(&c, &t->root, data, out);
    pop_vars(&c, 0);
    ek_free(c.vars);
    ek_value_unref(&empty);
    if (rc && out->data) {
        out->len = start;
        out->data[start] = '\0';
    }
    return rc;
}
