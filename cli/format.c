/* Output formatting of `kuiper`: what eKuiper's CLI prints, rebuilt from REST replies.
 *
 * eKuiper's CLI gets ready-made text over RPC; we get JSON over REST, so the texts are rebuilt
 * here: JSON indented as Go's json.Indent does it (two spaces, "key": value, empty containers kept
 * as {} and []), `describe stream` as the Fields/options table of eKuiper's stream processor, and
 * its `-json` form by the same text-to-JSON conversion eKuiper applies (quirks included: option
 * keys keep their colon, values lose their spaces). All JSON goes through engine/codec_json.h. */
#include "cli/cli_int.h"
#include "engine/codec_json.h"
#include "engine/mem.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void cli__subst(ek_buf *out, const char *tmpl, const char *name, const char *msg)
{
    for (const char *p = tmpl; *p; p++) {
        if (p[0] == '$' && (p[1] == 'n' || p[1] == 'm')) {
            const char *s = p[1] == 'n' ? name : msg;
            ek_buf_puts(out, s ? s : "");
            p++;
        } else {
            ek_buf_putc(out, *p);
        }
    }
    if (!out->data) ek_buf_puts(out, "");
}

/* Copies s without leading and trailing white space. */
static char *trimmed(const char *s)
{
    while (*s && isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1])) n--;
    return ek_strndup(s, n);
}

char *cli__error_message(const cli_resp *r)
{
    const char *body = r->body.data ? r->body.data : "";
    ek_value v = ek_null();
    char *msg = NULL;
    if (ek_json_decode(body, strlen(body), 0, &v, NULL) == 0 && v.type == EK_T_OBJECT) {
        const ek_value *m = ek_object_get(&v, "message");
        if (m && m->type == EK_T_STRING) msg = trimmed(ek_str_ptr(m));
    }
    ek_value_unref(&v);
    if (!msg) msg = trimmed(body);
    if (!*msg) {
        ek_free(msg);
        msg = ek_asprintf("HTTP %ld", r->status);
    }
    return msg;
}

static void put_indent(ek_buf *out, const char *indent, int depth)
{
    for (int i = 0; i < depth; i++) ek_buf_puts(out, indent);
}

static void pretty(const ek_value *v, const char *indent, int depth, ek_buf *out)
{
    if (v->type == EK_T_ARRAY && ek_array_len(v) > 0) {
        ek_buf_puts(out, "[\n");
        for (size_t i = 0; i < ek_array_len(v); i++) {
            put_indent(out, indent, depth + 1);
            pretty(ek_array_get(v, i), indent, depth + 1, out);
            ek_buf_puts(out, i + 1 < ek_array_len(v) ? ",\n" : "\n");
        }
        put_indent(out, indent, depth);
        ek_buf_putc(out, ']');
    } else if (v->type == EK_T_OBJECT && ek_object_len(v) > 0) {
        ek_buf_puts(out, "{\n");
        for (size_t i = 0; i < ek_object_len(v); i++) {
            put_indent(out, indent, depth + 1);
            ek_value key = ek_string(ek_object_key(v, i));
            ek_json_encode(&key, 0, out);
            ek_value_unref(&key);
            ek_buf_puts(out, ": ");
            pretty(ek_object_val(v, i), indent, depth + 1, out);
            ek_buf_puts(out, i + 1 < ek_object_len(v) ? ",\n" : "\n");
        }
        put_indent(out, indent, depth);
        ek_buf_putc(out, '}');
    } else {
        ek_json_encode(v, 0, out);
    }
}

void cli__json_pretty(const ek_value *v, const char *indent, ek_buf *out)
{
    pretty(v, indent, 0, out);
}

char *cli__json_member(const char *key, const char *value)
{
    ek_value o = ek_object_new(1);
    ek_object_set(&o, key, ek_string(value));
    char *s = ek_json_encode_str(&o, 0);
    ek_value_unref(&o);
    return s;
}

const char *cli__decode_object(const char *json, ek_value *v, ek_err *err)
{
    if (ek_json_decode(json, strlen(json), 0, v, err) == 0 && v->type == EK_T_OBJECT) return NULL;
    ek_value_unref(v);
    *v = ek_null();
    return err->code ? err->msg : "expected a JSON object";
}

void cli__pretty_text(const char *text, ek_buf *out)
{
    ek_value v = ek_null();
    if (ek_json_decode(text, strlen(text), 0, &v, NULL) == 0) {
        cli__json_pretty(&v, "  ", out);
        ek_value_unref(&v);
    } else {
        char *t = trimmed(text);
        ek_buf_puts(out, t);
        ek_free(t);
    }
}

bool cli__name_lines(const char *body, const char *empty_msg, ek_buf *out)
{
    ek_value v = ek_null();
    if (ek_json_decode(body, strlen(body), 0, &v, NULL) != 0 || v.type != EK_T_ARRAY) {
        ek_value_unref(&v);
        return false;
    }
    if (ek_array_len(&v) == 0) ek_buf_puts(out, empty_msg);
    for (size_t i = 0; i < ek_array_len(&v); i++) {
        const ek_value *e = ek_array_get(&v, i);
        if (i) ek_buf_putc(out, '\n');
        if (e->type == EK_T_STRING)
            ek_buf_puts(out, ek_str_ptr(e));
        else
            ek_json_encode(e, 0, out);
    }
    ek_value_unref(&v);
    return true;
}

/* ---- describe stream ---- */

/* eKuiper's data type numbers (ast.DataType), for servers that send {"Type": 1}. */
static const char *const type_names[] = {"unknown", "bigint", "float", "string", "bytea",
                                         "datetime", "boolean", "array", "struct"};

static void field_type(const ek_value *ft, ek_buf *out);

static void struct_fields(const ek_value *fields, ek_buf *out)
{
    ek_buf_puts(out, "struct(");
    for (size_t i = 0; fields && fields->type == EK_T_ARRAY && i < ek_array_len(fields); i++) {
        const ek_value *f = ek_array_get(fields, i);
        if (f->type != EK_T_OBJECT) continue;
        const ek_value *name = ek_object_get_ci(f, "Name");
        if (i) ek_buf_puts(out, ", ");
        ek_buf_puts(out, name && name->type == EK_T_STRING ? ek_str_ptr(name) : "");
        ek_buf_putc(out, ' ');
        field_type(ek_object_get_ci(f, "FieldType"), out);
    }
    ek_buf_putc(out, ')');
}

/* A field type as eKuiper's printFieldType writes it: bigint, array(float), struct(a bigint, ...). */
static void field_type(const ek_value *ft, ek_buf *out)
{
    if (!ft) return;
    if (ft->type == EK_T_STRING) {
        ek_buf_puts(out, ek_str_ptr(ft));
    } else if (ft->type == EK_T_INT) {
        ek_buf_puts(out, ft->i >= 0 && ft->i <= 8 ? type_names[ft->i] : "unknown");
    } else if (ft->type == EK_T_OBJECT) {
        const ek_value *t = ek_object_get_ci(ft, "Type");
        bool is_array = t && ((t->type == EK_T_STRING && strcmp(ek_str_ptr(t), "array") == 0) ||
                              (t->type == EK_T_INT && t->i == 7));
        bool is_struct = t && ((t->type == EK_T_STRING && strcmp(ek_str_ptr(t), "struct") == 0) ||
                               (t->type == EK_T_INT && t->i == 8));
        if (is_array) {
            const ek_value *el = ek_object_get_ci(ft, "ElementType");
            if (!el) el = ek_object_get_ci(ft, "FieldType");
            ek_buf_puts(out, "array(");
            if (el) field_type(el, out);
            ek_buf_putc(out, ')');
        } else if (is_struct) {
            const ek_value *fs = ek_object_get_ci(ft, "Fields");
            if (!fs) fs = ek_object_get_ci(ft, "StreamFields");
            struct_fields(fs, out);
        } else {
            field_type(t, out);
        }
    }
}

/* Option keys compare ignoring case and underscores: "CONF_KEY" finds "confKey". */
static bool key_eq(const char *a, const char *b)
{
    for (;;) {
        while (*a == '_') a++;
        while (*b == '_') b++;
        if (!*a || !*b) return *a == *b;
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) return false;
        a++;
        b++;
    }
}

static const ek_value *option(const ek_value *opts, const char *label)
{
    for (size_t i = 0; opts && opts->type == EK_T_OBJECT && i < ek_object_len(opts); i++)
        if (key_eq(ek_object_key(opts, i), label)) return ek_object_val(opts, i);
    return NULL;
}

/* The options eKuiper prints, in its order (printOptions). */
static const char *const option_labels[] = {
    "CONF_KEY", "DATASOURCE", "FORMAT", "SCHEMAID", "KEY", "RETAIN_SIZE", "SHARED",
    "STRICT_VALIDATION", "TIMESTAMP", "TIMESTAMP_FORMAT", "TYPE", "EXTRA", "VERSION",
};

static void print_option(const char *label, const ek_value *v, ek_buf *out)
{
    if (!v || v->type == EK_T_NULL) return;
    if (v->type == EK_T_STRING) {
        if (ek_str_len(v) == 0) return;
        if ((strcmp(label, "SHARED") == 0 || strcmp(label, "STRICT_VALIDATION") == 0) &&
            strcasecmp(ek_str_ptr(v), "true") != 0)
            return;
        if (strcmp(label, "RETAIN_SIZE") == 0 && strcmp(ek_str_ptr(v), "0") == 0) return;
        ek_buf_printf(out, "%s: %s\n", label, ek_str_ptr(v));
    } else if (v->type == EK_T_BOOL) {
        if (v->b) ek_buf_printf(out, "%s: true\n", label);
    } else if (v->type == EK_T_INT) {
        if (v->i != 0) ek_buf_printf(out, "%s: %lld\n", label, (long long)v->i);
    } else {
        ek_buf_printf(out, "%s: ", label);
        ek_json_encode(v, 0, out);
        ek_buf_putc(out, '\n');
    }
}

void cli__describe_text(const ek_value *stmt, ek_buf *out)
{
    ek_buf_puts(out, "Fields\n");
    for (int i = 0; i < 80; i++) ek_buf_putc(out, '-');
    ek_buf_putc(out, '\n');
    const ek_value *fields = stmt->type == EK_T_OBJECT ? ek_object_get_ci(stmt, "StreamFields") : NULL;
    for (size_t i = 0; fields && fields->type == EK_T_ARRAY && i < ek_array_len(fields); i++) {
        const ek_value *f = ek_array_get(fields, i);
        if (f->type != EK_T_OBJECT) continue;
        const ek_value *name = ek_object_get_ci(f, "Name");
        ek_buf_puts(out, name && name->type == EK_T_STRING ? ek_str_ptr(name) : "");
        ek_buf_putc(out, '\t');
        field_type(ek_object_get_ci(f, "FieldType"), out);
        const ek_value *def = ek_object_get_ci(f, "DefaultClause");
        if (def && def->type == EK_T_STRING) ek_buf_printf(out, "\tDEFAULT\t%s", ek_str_ptr(def));
        ek_buf_putc(out, '\n');
    }
    ek_buf_putc(out, '\n');
    const ek_value *opts = stmt->type == EK_T_OBJECT ? ek_object_get_ci(stmt, "Options") : NULL;
    for (size_t i = 0; i < sizeof option_labels / sizeof option_labels[0]; i++)
        print_option(option_labels[i], option(opts, option_labels[i]), out);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One "name\ttype[\tDEFAULT\tclause]" line into a Fields entry. */
static void describe_field(const char *line, ek_value *fields)
{
    char *parts[4] = {0};
    int n = 0;
    char *copy = ek_strdup(line), *p = copy;
    while (n < 4) {
        parts[n++] = p;
        char *tab = strchr(p, '\t');
        if (!tab) break;
        *tab = '\0';
        p = tab + 1;
    }
    if (n >= 2) {
        ek_value f = ek_object_new(3);
        ek_object_set(&f, "Name", ek_string(parts[0]));
        ek_object_set(&f, "Type", ek_string(parts[1]));
        if (n >= 4 && parts[3][0]) ek_object_set(&f, "DefaultClause", ek_string(parts[3]));
        if (fields->type == EK_T_NULL) *fields = ek_array_new(4);
        ek_array_push(fields, f);
    }
    ek_free(copy);
}

void cli__describe_to_json(const char *text, ek_buf *out)
{
    const char *body = text;
    const char *hdr = strstr(text, "Fields\n");
    if (hdr) {
        const char *nl = strchr(hdr + 7, '\n');
        body = nl ? nl + 1 : hdr + 7;
    }
    const char *split = strstr(body, "\n\n");
    char *fields_txt = split ? ek_strndup(body, (size_t)(split - body)) : ek_strdup("");
    char *opts_txt = trimmed(split ? split + 2 : body);

    ek_value fields = ek_null();
    char *save = NULL;
    for (char *line = strtok_r(fields_txt, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        describe_field(line, &fields);

    /* Options: "KEY: value words" -> "KEY:" = "valuewords"; Go's map encoding sorts the keys. */
    size_t n = 0, cap = 8;
    char **lines = ek_malloc(cap * sizeof *lines);
    for (char *line = strtok_r(opts_txt, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (n == cap) lines = ek_realloc(lines, (cap *= 2) * sizeof *lines);
        lines[n++] = line;
    }
    qsort(lines, n, sizeof *lines, cmp_str);
    ek_value opts = ek_object_new(n);
    for (size_t i = 0; i < n; i++) {
        char *sp = strchr(lines[i], ' ');
        ek_buf val = EK_BUF_INIT;
        ek_buf_puts(&val, "");
        for (const char *q = sp ? sp + 1 : ""; *q; q++)
            if (*q != ' ') ek_buf_putc(&val, *q);
        ek_object_set_n(&opts, lines[i], sp ? (size_t)(sp - lines[i]) : strlen(lines[i]), ek_string(val.data));
        ek_buf_free(&val);
    }
    ek_value o = ek_object_new(2);
    ek_object_set(&o, "Fields", fields);
    ek_object_set(&o, "Options", opts);
    cli__json_pretty(&o, "\t", out);
    ek_value_unref(&o);
    ek_free(lines);
    ek_free(fields_txt);
    ek_free(opts_txt);
}
