/* The convenience entry points of sql/sql.h: parse from a C string, and parse + bind + compile
 * a rule's SELECT in one call with one error path. */
#include "sql/sql.h"

#include <string.h>

int ek_sql_parse(const char *text, ek_stmt **out, ek_err *err)
{
    return ek_sql_parse_n(text, strlen(text), out, err);
}

int ek_sql_prepare(const char *text, const ek_sql_schema *schemas, size_t nschemas,
                   const ek_bind_opts *opts, ek_stmt **stmt, ek_sql_program **prog, ek_err *err)
{
    *stmt = NULL;
    *prog = NULL;
    ek_stmt *st;
    int rc = ek_sql_parse(text, &st, err);
    if (rc) return rc;
    if (st->kind != EK_STMT_SELECT) {
        ek_stmt_free(st);
        return ek_err_set(err, EK_EPARSE, "line 1, column 1: expected a SELECT statement");
    }
    ek_compile_opts co = {.ignore_case = opts && opts->ignore_case};
    if ((rc = ek_sql_bind(st, schemas, nschemas, opts, err)) || (rc = ek_sql_compile(st, &co, prog, err))) {
        ek_stmt_free(st);
        return rc;
    }
    *stmt = st;
    return 0;
}
