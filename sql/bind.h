/* The binder: name resolution and semantic checks of a parsed SELECT against the definitions of
 * the streams and tables it reads. It annotates the tree in place (ek_expr.bound and
 * ek_select_field.out_name) so that sql/compile.c can turn it into slot reads and function
 * pointers, and it refuses what eKuiper refuses at rule creation:
 *   - a source that is not defined                          (EK_ENOTFOUND)
 *   - an unknown field of a stream with a schema             (EK_EPLAN, "line 1, column 8: unknown field ...")
 *   - an unknown function, a wrong number of arguments, or the function's own check
 *   - an aggregate function in WHERE, in GROUP BY, in a JOIN's ON, or nested in another aggregate
 *   - GROUP BY without a window, a window on a table, a stream-stream join without a window
 *   - FILTER (WHERE ...) on a non-aggregate call, OVER on a function that is neither analytic nor a window
 * Output keys follow eKuiper: the alias; else the column name; else the function name for a call;
 * else kuiper_field_N, N counting the unnamed fields from 0.
 * A name in a select field that matches the alias of an earlier field reads that field's value
 * (so in "size + 1 AS size, size + 1 AS b", b is the original size plus 2). */
#ifndef EK_SQL_BIND_H
#define EK_SQL_BIND_H

#include "engine/err.h"
#include "sql/ast.h"
#include "sql/func.h"

#include <stdbool.h>
#include <stddef.h>

/* What the binder needs to know of a stream or table. cols are borrowed, typically from the
 * stream's parsed CREATE statement (see ek_sql_schema_from_create). A schemaless stream has
 * schemaless set and no columns; any field name is accepted and resolved at run time. */
typedef struct ek_sql_schema {
    const char *name;
    bool is_table;
    bool schemaless;
    const ek_col_def *cols;
    size_t ncols;
} ek_sql_schema;

/* Fills *s from a CREATE STREAM/TABLE statement (borrowing from it). */
void ek_sql_schema_from_create(const ek_create_stmt *c, ek_sql_schema *s);

/* Resolves a function name; returns NULL when unknown. Lets a rule see plugin functions or tests
 * see fakes: the binder tries it first and falls back to ek_func_lookup(). */
typedef const ek_func_def *(*ek_func_resolver)(const char *name, void *arg);

typedef struct ek_bind_opts {
    bool ignore_case;           /* basic.ignoreCase: column names match case-insensitively */
    ek_func_resolver resolve;   /* optional, see above */
    void *resolve_arg;
} ek_bind_opts;

/* Binds a SELECT statement in place. schemas lists the definitions of (at least) every source
 * named in FROM and JOIN, found by name (case-sensitive, as eKuiper). opts may be NULL.
 * Returns 0, or EK_ENOTFOUND / EK_EPLAN with err naming line, column and the problem.
 * Binding the same statement twice is allowed (the second pass overwrites the first). */
int ek_sql_bind(ek_stmt *stmt, const ek_sql_schema *schemas, size_t nschemas, const ek_bind_opts *opts,
                ek_err *err);

/* The function a bound call resolved to (same as e->bound.def), for callers walking the tree. */
static inline const ek_func_def *ek_expr_func(const ek_expr *e) { return e->bound.def; }

/* True when the select has aggregate functions or GROUP BY, i.e. rows are evaluated per group. */
bool ek_select_is_aggregate(const ek_select *sel);

/* The name eKuiper's window and scalar-looking built-ins that the binder knows itself (window
 * functions are not in the function registry): true for tumblingwindow ... statewindow. */
bool ek_sql_is_window_name(const char *name);

#endif
