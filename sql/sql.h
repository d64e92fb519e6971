/* The public face of sql/: what the rule engine, the REST API and the CLI include.
 *
 * Life of a rule's SQL:
 *   ek_stmt *st;  ek_sql_parse(text, &st, err)                 text -> AST (sql/ast.h)
 *   ek_sql_bind(st, schemas, n, &opts, err)                    names -> sources, slots, functions
 *   ek_sql_program *pg;  ek_sql_compile(st, NULL, &pg, err)     AST -> evaluable program
 *   per row:    ek_sql_update_analytic(pg, &ctx, err)          (if pg->has_analytic: eKuiper's lag()
 *                                                               and friends see rows WHERE drops)
 *               ek_cexpr_eval_bool(pg->where, &ctx, &keep, err)
 *               ek_sql_project(pg, &ctx, &obj, err)            -> the output object
 *   per window: set ctx.group / group_len, then HAVING, ORDER BY keys and ek_sql_project per
 *               group; ek_sql_program_reset_state(pg, "row_number") per window and partition
 *   ek_sql_program_free(pg); ek_stmt_free(st);                  (program first: it borrows names)
 * ek_sql_prepare() does the first three steps at once. CREATE STREAM/TABLE statements are parsed
 * by the same ek_sql_parse; ek_sql_schema_from_create() turns one into a schema for binding. */
#ifndef EK_SQL_SQL_H
#define EK_SQL_SQL_H

#include "engine/err.h"
#include "sql/ast.h"
#include "sql/bind.h"
#include "sql/compile.h"
#include "sql/parser.h"

/* Parses one NUL-terminated statement. See ek_sql_parse_n. */
int ek_sql_parse(const char *text, ek_stmt **out, ek_err *err);

/* Parses, binds and compiles a SELECT. On success *stmt and *prog are new (free prog first).
 * A statement that is not a SELECT is EK_EPARSE ("expected SELECT"). */
int ek_sql_prepare(const char *text, const ek_sql_schema *schemas, size_t nschemas,
                   const ek_bind_opts *opts, ek_stmt **stmt, ek_sql_program **prog, ek_err *err);

#endif
