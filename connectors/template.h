/* Go text/template, the subset eKuiper users write in dataTemplate, topics, paths and headers.
 *
 * Supported: text and {{actions}} with {{- -}} trimming and comments ({{/ * ... * /}} without the spaces); data access
 * {{.}}, {{.a.b}}, {{$}}, {{$x}}, {{$x.a}}; literals (numbers, "strings", `raw`, true, false, nil);
 * pipelines with | and (parenthesised) sub-pipelines; {{$x := ...}} and {{$x = ...}};
 * {{if}} / {{else if}} / {{else}} / {{end}}, {{range}} (with $i, $v := and {{else}}), {{with}};
 * functions json, printf, print, println, index, len, eq, ne, lt, le, gt, ge, and, or, not, base64,
 * and from sprig upper, lower, toUpper, toLower, trim, toJson, toString, default, quote, add, sub,
 * mul, div, contains, replace.
 * Anything else (define, template, block, an unknown function, a bad token) is refused by
 * ek_template_compile with a message naming it and where: `template: 1:12: function "foo" not
 * defined`.
 *
 * Values print as Go's fmt %v would for decoded JSON: integers as integers, floats as %g in their
 * shortest form (1.5, 3, 1e+06), objects as map[k:v ...] with sorted keys, arrays as [a b], a
 * missing or null field as <no value> (and null inside a container as <nil>). A compiled template is immutable: render from any thread. */
#ifndef EK_TEMPLATE_H
#define EK_TEMPLATE_H

#include "engine/buf.h"
#include "engine/err.h"
#include "engine/value.h"

#include <stdbool.h>

typedef struct ek_template ek_template;

/* Compiles text; EK_EINVAL with err saying what and where. */
int ek_template_compile(const char *text, ek_template **out, ek_err *err);
void ek_template_free(ek_template *t);  /* accepts NULL */
/* Appends the rendering of t over data (borrowed; NULL renders over an empty object, as a sink
 * with no row to show does) to out. EK_EEXEC when evaluation fails (a field
 * of a non-object, a bad index, a printf verb that does not fit), with err saying why. */
int ek_template_render(const ek_template *t, const ek_value *data, ek_buf *out, ek_err *err);
/* True when text has no {{ action }} (rendering it would give text back). */
bool ek_template_is_static(const char *text);
/* Formats v as Go's fmt %v does (appends to out). */
void ek_template_print_value(const ek_value *v, ek_buf *out);

#endif
