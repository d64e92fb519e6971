/* The functions a template may call (template.h lists them), as one table. Each takes its evaluated
 * arguments and produces a value; printf follows Go's fmt verbs (%v %d %s %q %f %e %g %t %x %c %%,
 * flags, width and precision), including Go's %!verb(type=value) markers for a mismatched or
 * missing argument, so output matches eKuiper's where it is well defined. */
#include "connectors/template_int.h"
#include "engine/codec_json.h"
#include "engine/mem.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int bad(ek_err *err, const char *fn, const char *what)
{
    return ek_err_set(err, EK_EEXEC, "template: error calling %s: %s", fn, what);
}

static int f_json(ek_err *err, ek_value *a, int n, ek_value *out)
{
    ek_buf b = EK_BUF_INIT;
    ek_json_encode(&a[0], EK_JSON_SORT_KEYS, &b);
    *out = ek_string_n(b.data ? b.data : "", b.len);
    ek_buf_free(&b);
    return 0;
}

static int f_base64(ek_err *err, ek_value *a, int n, ek_value *out)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    ek_buf src = EK_BUF_INIT, b = EK_BUF_INIT;
    if (a[0].type == EK_T_STRING || a[0].type == EK_T_BYTES) ek_buf_append(&src, a[0].s->data, a[0].s->len);
    else ek_json_encode(&a[0], EK_JSON_SORT_KEYS, &src);
    const unsigned char *p = (const unsigned char *)(src.data ? src.data : "");
    for (size_t i = 0; i < src.len; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < src.len ? (unsigned)p[i + 1] << 8 : 0) |
                     (i + 2 < src.len ? p[i + 2] : 0);
        ek_buf_putc(&b, tbl[v >> 18 & 63]);
        ek_buf_putc(&b, tbl[v >> 12 & 63]);
        ek_buf_putc(&b, i + 1 < src.len ? tbl[v >> 6 & 63] : '=');
        ek_buf_putc(&b, i + 2 < src.len ? tbl[v & 63] : '=');
    }
    *out = ek_string_n(b.data ? b.data : "", b.len);
    ek_buf_free(&src);
    ek_buf_free(&b);
    return 0;
}

static int f_len(ek_err *err, ek_value *a, int n, ek_value *out)
{
    switch (a[0].type) {
    case EK_T_STRING:
    case EK_T_BYTES: *out = ek_int((int64_t)a[0].s->len); return 0;
    case EK_T_ARRAY: *out = ek_int((int64_t)ek_array_len(&a[0])); return 0;
    case EK_T_OBJECT: *out = ek_int((int64_t)ek_object_len(&a[0])); return 0;
    default: return bad(err, "len", "len of this type is not defined");
    }
}

static int f_index(ek_err *err, ek_value *a, int n, ek_value *out)
{
    const ek_value *cur = &a[0];
    static const ek_value null_value = {.type = EK_T_NULL};
    for (int i = 1; i < n; i++) {
        const ek_value *k = &a[i];
        if (cur->type == EK_T_OBJECT && k->type == EK_T_STRING) {
            const ek_value *v = ek_object_get(cur, ek_str_ptr(k));
            cur = v ? v : &null_value;
        } else if (cur->type == EK_T_ARRAY && (k->type == EK_T_INT || k->type == EK_T_FLOAT)) {
            int64_t idx = k->type == EK_T_INT ? k->i : (int64_t)k->f;
            if (idx < 0 || (size_t)idx >= ek_array_len(cur)) {
                ek_err_set(err, EK_EEXEC, "template: error calling index: index out of range: %lld", (long long)idx);
                return EK_EEXEC;
            }
            cur = ek_array_get(cur, (size_t)idx);
        } else if (cur->type == EK_T_NULL) {
            return bad(err, "index", "index of untyped nil");
        } else {
            ek_err_set(err, EK_EEXEC, "template: error calling index: cannot index %s with %s", tpl__go_type(cur),
                       tpl__go_type(k));
            return EK_EEXEC;
        }
    }
    *out = ek_value_ref(cur);
    return 0;
}

/* ---- comparisons ---- */

/* <0, 0, >0, or 2 when a and b cannot be ordered. */
static int order(const ek_value *a, const ek_value *b)
{
    double x, y;
    if (ek_value_as_double(a, &x) && ek_value_as_double(b, &y)) {
        if (a->type == EK_T_INT && b->type == EK_T_INT) return (a->i > b->i) - (a->i < b->i);
        return (x > y) - (x < y);
    }
    if (a->type == EK_T_STRING && b->type == EK_T_STRING) {
        int c = strcmp(ek_str_ptr(a), ek_str_ptr(b));
        return (c > 0) - (c < 0);
    }
    return 2;
}

static bool equal(const ek_value *a, const ek_value *b)
{
    if (a->type == EK_T_NULL || b->type == EK_T_NULL) return a->type == b->type;
    return ek_value_equal(a, b);
}

static int f_eq(ek_err *err, ek_value *a, int n, ek_value *out)
{
    bool r = false;
    for (int i = 1; i < n && !r; i++) r = equal(&a[0], &a[i]);
    *out = ek_bool(r);
    return 0;
}

static int f_ne(ek_err *err, ek_value *a, int n, ek_value *out)
{
    *out = ek_bool(!equal(&a[0], &a[1]));
    return 0;
}

static int cmp2(ek_err *err, const char *name, ek_value *a, int *c)
{
    *c = order(&a[0], &a[1]);
    if (*c == 2) return bad(err, name, "incompatible types for comparison");
    return 0;
}

#define CMP_FN(fname, op)                                                                                      \
    static int f_##fname(ek_err *err, ek_value *a, int n, ek_value *out)                                       \
    {                                                                                                          \
        int c;                                                                                                 \
        if (cmp2(err, #fname, a, &c)) return EK_EEXEC;                                                         \
        *out = ek_bool(c op 0);                                                                                \
        return 0;                                                                                              \
    }
CMP_FN(lt, <)
CMP_FN(le, <=)
CMP_FN(gt, >)
CMP_FN(ge, >=)

static int f_and(ek_err *err, ek_value *a, int n, ek_value *out)
{
    int i = 0;
    while (i < n - 1 && tpl__truth(&a[i])) i++;
    *out = ek_value_ref(&a[i]);
    return 0;
}

static int f_or(ek_err *err, ek_value *a, int n, ek_value *out)
{
    int i = 0;
    while (i < n - 1 && !tpl__truth(&a[i])) i++;
    *out = ek_value_ref(&a[i]);
    return 0;
}

static int f_not(ek_err *err, ek_value *a, int n, ek_value *out)
{
    *out = ek_bool(!tpl__truth(&a[0]));
    return 0;
}

/* ---- strings ---- */

static int f_case(ek_value *a, ek_value *out, int upper, ek_err *err, const char *name)
{
    if (a[0].type != EK_T_STRING) return bad(err, name, "expected a string");
    ek_value s = ek_string_n(ek_str_ptr(&a[0]), ek_str_len(&a[0]));
    for (size_t i = 0; i < s.s->len; i++)
        s.s->data[i] = (char)(upper ? toupper((unsigned char)s.s->data[i]) : tolower((unsigned char)s.s->data[i]));
    *out = s;
    return 0;
}

static int f_upper(ek_err *err, ek_value *a, int n, ek_value *out) { return f_case(a, out, 1, err, "upper"); }
static int f_lower(ek_err *err, ek_value *a, int n, ek_value *out) { return f_case(a, out, 0, err, "lower"); }

static int f_trim(ek_err *err, ek_value *a, int n, ek_value *out)
{
    if (a[0].type != EK_T_STRING) return bad(err, "trim", "expected a string");
    const char *s = ek_str_ptr(&a[0]);
    size_t len = ek_str_len(&a[0]);
    while (len && isspace((unsigned char)*s)) s++, len--;
    while (len && isspace((unsigned char)s[len - 1])) len--;
    *out = ek_string_n(s, len);
    return 0;
}

/* fmt.Sprint / Sprintln: Sprint puts spaces between operands when neither is a string. */
static void sprint(ek_value *a, int n, int ln, ek_buf *b)
{
    for (int i = 0; i < n; i++) {
        if (i && (ln || (a[i - 1].type != EK_T_STRING && a[i].type != EK_T_STRING))) ek_buf_putc(b, ' ');
        tpl__print_value(&a[i], 0, b);
    }
    if (ln) ek_buf_putc(b, '\n');
}

static int f_print(ek_err *err, ek_value *a, int n, ek_value *out)
{
    ek_buf b = EK_BUF_INIT;
    sprint(a, n, 0, &b);
    *out = ek_string_n(b.data ? b.data : "", b.len);
    ek_buf_free(&b);
    return 0;
}

static int f_println(ek_err *err, ek_value *a, int n, ek_value *out)
{
    ek_buf b = EK_BUF_INIT;
    sprint(a, n, 1, &b);
    *out = ek_string_n(b.data ? b.data : "", b.len);
    ek_buf_free(&b);
    return 0;
}

/* ---- printf ---- */

typedef struct spec {
    char flags[8];
    int width, prec;  /* -1 when absent */
    char verb;
} spec;

static void pad(ek_buf *b, const spec *sp, const char *s, size_t n)
{
    int left = strchr(sp->flags, '-') != NULL;
    size_t w = sp->width > 0 ? (size_t)sp->width : 0;
    if (!left)
        for (size_t i = n; i < w; i++) ek_buf_putc(b, ' ');
    ek_buf_append(b, s, n);
    if (left)
        for (size_t i = n; i < w; i++) ek_buf_putc(b, ' ');
}

static void bad_verb(ek_buf *b, const spec *sp, const ek_value *v)
{
    ek_buf_printf(b, "%%!%c(%s=", sp->verb, tpl__go_type(v));
    tpl__print_value(v, 0, b);
    ek_buf_putc(b, ')');
}

/* A C conversion of the spec with the given length modifier and conversion. */
static void cfmt(char *out, size_t cap, const spec *sp, const char *len, char conv)
{
    char w[16] = "", p[16] = "";
    if (sp->width >= 0) snprintf(w, sizeof w, "%d", sp->width);
    if (sp->prec >= 0) snprintf(p, sizeof p, ".%d", sp->prec);
    snprintf(out, cap, "%%%s%s%s%s%c", sp->flags, w, p, len, conv);
}

/* The C format strings below are built by cfmt from a parsed, bounded spec. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static void format_one(ek_buf *b, const spec *sp, const ek_value *v)
{
    char f[48], tmp[512];
    double d;
    ek_buf t = EK_BUF_INIT;
    switch (sp->verb) {
    case 'v':
        tpl__print_value(v, 0, &t);
        pad(b, sp, t.data ? t.data : "", t.len);
        break;
    case 'd':
        if (v->type == EK_T_INT || (v->type == EK_T_FLOAT && v->f == floor(v->f) && fabs(v->f) < 9.2e18)) {
            cfmt(f, sizeof f, sp, "ll", 'd');
            ek_buf_printf(b, f, (long long)(v->type == EK_T_INT ? v->i : (int64_t)v->f));
        } else {
            bad_verb(b, sp, v);
        }
        break;
    case 'x':
    case 'X':
    case 'o':
    case 'c':
        if (v->type == EK_T_INT && sp->verb == 'c') {
            ek_buf_putc(b, (char)v->i);
        } else if (v->type == EK_T_INT) {
            cfmt(f, sizeof f, sp, "ll", sp->verb);
            ek_buf_printf(b, f, (long long)v->i);
        } else if (v->type == EK_T_STRING && sp->verb != 'o' && sp->verb != 'c') {
            for (size_t i = 0; i < ek_str_len(v); i++)
                ek_buf_printf(b, sp->verb == 'x' ? "%02x" : "%02X", (unsigned char)ek_str_ptr(v)[i]);
        } else {
            bad_verb(b, sp, v);
        }
        break;
    case 'f':
    case 'F':
    case 'e':
    case 'E':
    case 'g':
    case 'G':
        if (!ek_value_as_double(v, &d)) {
            bad_verb(b, sp, v);
        } else if ((sp->verb == 'g' || sp->verb == 'G') && sp->prec < 0) {
            tpl__go_float(d, &t);
            pad(b, sp, t.data, t.len);
        } else {
            cfmt(f, sizeof f, sp, "", sp->verb);
            snprintf(tmp, sizeof tmp, f, d);
            ek_buf_puts(b, tmp);
        }
        break;
    case 's':
        if (v->type == EK_T_STRING) {
            size_t n = ek_str_len(v);
            if (sp->prec >= 0 && (size_t)sp->prec < n) n = (size_t)sp->prec;
            pad(b, sp, ek_str_ptr(v), n);
        } else {
            tpl__print_value(v, 0, &t);
            pad(b, sp, t.data ? t.data : "", t.len);
        }
        break;
    case 'q':
        if (v->type == EK_T_STRING) ek_json_encode(v, 0, &t);
        else bad_verb(&t, sp, v);
        pad(b, sp, t.data ? t.data : "", t.len);
        break;
    case 't':
        if (v->type == EK_T_BOOL) pad(b, sp, v->b ? "true" : "false", v->b ? 4 : 5);
        else bad_verb(b, sp, v);
        break;
    case 'T': pad(b, sp, tpl__go_type(v), strlen(tpl__go_type(v))); break;
    default: bad_verb(b, sp, v); break;
    }
    ek_buf_free(&t);
}

#pragma GCC diagnostic pop

static int f_printf(ek_err *err, ek_value *a, int n, ek_value *out)
{
    if (a[0].type != EK_T_STRING) return bad(err, "printf", "the format is not a string");
    const char *s = ek_str_ptr(&a[0]);
    ek_buf b = EK_BUF_INIT;
    int next = 1;
    while (*s) {
        if (*s != '%') {
            ek_buf_putc(&b, *s++);
            continue;
        }
        s++;
        spec sp = {.width = -1, .prec = -1};
        size_t nf = 0;
        while (*s && strchr("-+# 0", *s) && nf < sizeof sp.flags - 1) sp.flags[nf++] = *s++;
        if (isdigit((unsigned char)*s)) sp.width = (int)strtol(s, (char **)&s, 10);
        if (*s == '.') {
            s++;
            sp.prec = isdigit((unsigned char)*s) ? (int)strtol(s, (char **)&s, 10) : 0;
        }
        if (sp.width > 256) sp.width = 256;
        if (sp.prec > 64) sp.prec = 64;
        if (!*s) {
            ek_buf_puts(&b, "%!(NOVERB)");
            break;
        }
        sp.verb = *s++;
        if (sp.verb == '%') {
            ek_buf_putc(&b, '%');
            continue;
        }
        if (next >= n) {
            ek_buf_printf(&b, "%%!%c(MISSING)", sp.verb);
            continue;
        }
        format_one(&b, &sp, &a[next++]);
    }
    if (next < n) {
        ek_buf_puts(&b, "%!(EXTRA ");
        for (int i = next; i < n; i++) {
            ek_buf_printf(&b, "%s%s=", i > next ? ", " : "", tpl__go_type(&a[i]));
            tpl__print_value(&a[i], 0, &b);
        }
        ek_buf_putc(&b, ')');
    }
    *out = ek_string_n(b.data ? b.data : "", b.len);
    ek_buf_free(&b);
    return 0;
}

/* ---- a few sprig functions eKuiper users write ---- */

static int f_default(ek_err *err, ek_value *a, int n, ek_value *out)
{
    /* default DFLT VALUE: VALUE unless it is empty, else DFLT (sprig's argument order) */
    *out = ek_value_ref(n > 1 && tpl__truth(&a[1]) ? &a[1] : &a[0]);
    return 0;
}

static int f_quote(ek_err *err, ek_value *a, int n, ek_value *out)
{
    ek_buf b = EK_BUF_INIT;
    for (int i = 0; i < n; i++) {
        ek_buf t = EK_BUF_INIT;
        if (a[i].type == EK_T_STRING) ek_buf_append(&t, ek_str_ptr(&a[i]), ek_str_len(&a[i]));
        else tpl__print_value(&a[i], 0, &t);
        ek_value s = ek_string_n(t.data ? t.data : "", t.len);
        if (i) ek_buf_putc(&b, ' ');
        ek_json_encode(&s, 0, &b);
        ek_value_unref(&s);
        ek_buf_free(&t);
    }
    *out = ek_string_n(b.data ? b.data : "", b.len);
    ek_buf_free(&b);
    return 0;
}

static int f_tostring(ek_err *err, ek_value *a, int n, ek_value *out)
{
    ek_buf b = EK_BUF_INIT;
    tpl__print_value(&a[0], 0, &b);
    *out = ek_string_n(b.data ? b.data : "", b.len);
    ek_buf_free(&b);
    return 0;
}

/* add, sub, mul, div: integers stay integers, as sprig's; a float operand gives a float. */
static int arith(ek_err *err, const char *name, ek_value *a, int n, ek_value *out, char op)
{
    bool all_int = true;
    double acc = 0;
    int64_t iacc = 0;
    for (int i = 0; i < n; i++) {
        double x;
        if (!ek_value_as_double(&a[i], &x)) return bad(err, name, "expected numbers");
        all_int &= a[i].type == EK_T_INT;
        if (i == 0) {
            acc = x, iacc = a[i].type == EK_T_INT ? a[i].i : (int64_t)x;
            continue;
        }
        if (op == '/' && x == 0) return bad(err, name, "division by zero");
        int64_t xi = a[i].type == EK_T_INT ? a[i].i : (int64_t)x;
        switch (op) {
        case '+': acc += x, iacc += xi; break;
        case '-': acc -= x, iacc -= xi; break;
        case '*': acc *= x, iacc *= xi; break;
        default: acc /= x, iacc = xi ? iacc / xi : 0; break;
        }
    }
    *out = all_int ? ek_int(iacc) : ek_float(acc);
    return 0;
}

static int f_add(ek_err *err, ek_value *a, int n, ek_value *out) { return arith(err, "add", a, n, out, '+'); }
static int f_sub(ek_err *err, ek_value *a, int n, ek_value *out) { return arith(err, "sub", a, n, out, '-'); }
static int f_mul(ek_err *err, ek_value *a, int n, ek_value *out) { return arith(err, "mul", a, n, out, '*'); }
static int f_div(ek_err *err, ek_value *a, int n, ek_value *out) { return arith(err, "div", a, n, out, '/'); }

static int f_contains(ek_err *err, ek_value *a, int n, ek_value *out)
{
    /* contains SUBSTR STRING */
    if (a[0].type != EK_T_STRING || a[1].type != EK_T_STRING) return bad(err, "contains", "expected strings");
    *out = ek_bool(strstr(ek_str_ptr(&a[1]), ek_str_ptr(&a[0])) != NULL);
    return 0;
}

static int f_replace(ek_err *err, ek_value *a, int n, ek_value *out)
{
    /* replace OLD NEW STRING */
    if (a[0].type != EK_T_STRING || a[1].type != EK_T_STRING || a[2].type != EK_T_STRING)
        return bad(err, "replace", "expected strings");
    const char *s = ek_str_ptr(&a[2]), *old = ek_str_ptr(&a[0]);
    size_t ol = ek_str_len(&a[0]);
    ek_buf b = EK_BUF_INIT;
    while (*s) {
        const char *hit = ol ? strstr(s, old) : NULL;
        if (!hit) {
            ek_buf_puts(&b, s);
            break;
        }
        ek_buf_append(&b, s, (size_t)(hit - s));
        ek_buf_append(&b, ek_str_ptr(&a[1]), ek_str_len(&a[1]));
        s = hit + ol;
    }
    *out = ek_string_n(b.data ? b.data : "", b.len);
    ek_buf_free(&b);
    return 0;
}

const tpl_func tpl__funcs[] = {
    {"add", 2, -1, f_add},         {"and", 1, -1, f_and},         {"base64", 1, 1, f_base64},
    {"contains", 2, 2, f_contains}, {"default", 1, 2, f_default}, {"div", 2, -1, f_div},
    {"eq", 2, -1, f_eq},           {"ge", 2, 2, f_ge},            {"gt", 2, 2, f_gt},
    {"index", 1, -1, f_index},     {"json", 1, 1, f_json},        {"le", 2, 2, f_le},
    {"len", 1, 1, f_len},          {"lower", 1, 1, f_lower},      {"lt", 2, 2, f_lt},
    {"mul", 2, -1, f_mul},         {"ne", 2, 2, f_ne},            {"not", 1, 1, f_not},
    {"or", 1, -1, f_or},           {"print", 0, -1, f_print},     {"printf", 1, -1, f_printf},
    {"println", 0, -1, f_println}, {"quote", 1, -1, f_quote},     {"replace", 3, 3, f_replace},
    {"sub", 2, -1, f_sub},         {"toJson", 1, 1, f_json},      {"toLower", 1, 1, f_lower},
    {"toString", 1, 1, f_tostring}, {"toUpper", 1, 1, f_upper},   {"trim", 1, 1, f_trim},
    {"upper", 1, 1, f_upper},      {NULL, 0, 0, NULL},
};

int tpl__func_index(const char *name)
{
    for (int i = 0; tpl__funcs[i].name; i++)
        if (strcmp(tpl__funcs[i].name, name) == 0) return i;
    return -1;
}
