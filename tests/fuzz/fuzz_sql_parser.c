/* libFuzzer target for the SQL front end: any text a user sends as a rule or a stream definition
 * must parse or be refused with an error, never crash. What parses must print, parse again and
 * print the same text (the printer is the parser's inverse). A SELECT is then bound against a
 * schemaless stream and a stream with a schema, compiled, and evaluated on a fixed row, so the
 * binder, compiler and evaluator see the same hostile trees. delay() is replaced by a no-op so a
 * fuzzed rule cannot sleep. */
#include "engine/codec_json.h"
#include "engine/mem.h"
#include "sql/sql.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int noop(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    (void)c;
    (void)e;
    *o = n > 1 ? ek_value_ref(&a[1]) : ek_null();
    return 0;
}

static const ek_func_def delay_def = {"delay", EK_FUNC_SCALAR, 2, 2, noop, NULL, false};

static const ek_func_def *resolve(const char *name, void *arg)
{
    (void)arg;
    return strcmp(name, "delay") == 0 ? &delay_def : NULL;
}

static void run(ek_stmt *st, const ek_sql_schema *schemas, size_t n)
{
    ek_bind_opts opts = {.resolve = resolve};
    ek_err err;
    if (ek_sql_bind(st, schemas, n, &opts, &err) != 0) return;
    ek_sql_program *pg;
    if (ek_sql_compile(st, NULL, &pg, &err) != 0) return;
    static const char *const json = "{\"a\":1,\"b\":2.5,\"s\":\"abc\",\"arr\":[1,2,3],\"obj\":{\"x\":1}}";
    ek_value msg;
    if (ek_json_decode(json, strlen(json), 0, &msg, &err) != 0) abort();
    ek_row *row = ek_row_new(msg, ek_null(), 0, "demo");
    const ek_row *rows[4] = {row, row, row, row};
    ek_eval_ctx ctx = {.rows = rows, .nrows = pg->nsources < 4 ? pg->nsources : 4, .group = rows, .group_len = 1};
    if (ctx.nrows == pg->nsources) {
        bool keep;
        if (pg->where) ek_cexpr_eval_bool(pg->where, &ctx, &keep, &err);
        ek_value out;
        if (ek_sql_project(pg, &ctx, &out, &err) == 0) ek_value_unref(&out);
        if (pg->having) ek_cexpr_eval_bool(pg->having, &ctx, &keep, &err);
    }
    ek_row_unref(row);
    ek_sql_program_free(pg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ek_stmt *st;
    ek_err err;
    if (ek_sql_parse_n((const char *)data, size, &st, &err) != 0) {
        if (err.code != EK_EPARSE || strncmp(err.msg, "line ", 5) != 0) abort();
        return 0;
    }
    char *text = ek_stmt_to_string(st);
    ek_stmt *again;
    if (ek_sql_parse(text, &again, &err) != 0) {
        /* The canonical text parenthesises every operation, so a long chain (a+a+...+a) prints
         * deeper than it was written and may pass the nesting bound: that alone is not a bug. */
        if (strstr(err.msg, "nested too deeply")) goto select;
        fprintf(stderr, "printed text does not parse: %s\n%s\n", text, err.msg);
        abort();
    }
    char *twice = ek_stmt_to_string(again);
    if (strcmp(text, twice) != 0) {
        fprintf(stderr, "round trip differs:\n%s\n%s\n", text, twice);
        abort();
    }
    ek_free(twice);
    ek_stmt_free(again);
select:
    ek_free(text);
    if (st->kind == EK_STMT_SELECT) {
        static ek_stmt *schema_stmt;
        if (!schema_stmt &&
            ek_sql_parse("CREATE STREAM demo (a bigint, b float, s string, arr array(bigint), obj struct(x bigint)) "
                         "WITH (DATASOURCE=\"d\")", &schema_stmt, &err) != 0)
            abort();
        ek_sql_schema schemas[3] = {{.name = "demo", .schemaless = true}, {.name = "s2", .schemaless = true},
                                    {.name = "t", .is_table = true, .schemaless = true}};
        run(st, schemas, 3);
        ek_sql_schema_from_create(&schema_stmt->create, &schemas[0]);
        run(st, schemas, 3);
    }
    ek_stmt_free(st);
    return 0;
}
