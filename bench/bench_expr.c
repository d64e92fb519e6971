/* Benchmark of the SQL expression evaluator: a typical rule's WHERE plus a projection with three
 * function calls, over rows decoded once up front (as a stream shares its decoded rows with every
 * rule). Prints nanoseconds per row for WHERE alone and for WHERE + projection. The figure is for
 * comparison between versions of kuiperd on one machine, not an absolute target.
 * Usage: bench_expr [rows]   (default 2,000,000) */
#include "engine/codec_json.h"
#include "engine/mem.h"
#include "sql/sql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NROWS 1024

static const char *const stream_sql =
    "CREATE STREAM demo (id string, temperature float, humidity float, ts bigint) WITH (DATASOURCE=\"demo\")";
static const char *const rule_sql =
    "SELECT id, round(temperature * 1.8 + 32) AS f, upper(id) AS uid, abs(humidity - 50) AS dev, ts "
    "FROM demo WHERE temperature > 20 AND humidity < 80 AND id LIKE 'sensor%'";

static double now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static ek_row *make_row(int i)
{
    char json[256];
    snprintf(json, sizeof json, "{\"id\":\"%s%d\",\"temperature\":%d.%d,\"humidity\":%d.5,\"ts\":%d}",
             i % 10 ? "sensor" : "other", i, 10 + i % 25, i % 10, 40 + i % 50, 1700000000 + i);
    ek_value v;
    ek_err err;
    if (ek_json_decode(json, strlen(json), 0, &v, &err) != 0) {
        fprintf(stderr, "bench_expr: %s\n", err.msg);
        exit(1);
    }
    return ek_row_new(v, ek_null(), 0, "demo");
}

int main(int argc, char **argv)
{
    long total = argc > 1 ? atol(argv[1]) : 2000000;
    if (total < NROWS) total = NROWS;
    ek_err err = {0};
    ek_stmt *def, *st;
    ek_sql_program *pg;
    if (ek_sql_parse(stream_sql, &def, &err) != 0) goto fail;
    ek_sql_schema schema;
    ek_sql_schema_from_create(&def->create, &schema);
    if (ek_sql_prepare(rule_sql, &schema, 1, NULL, &st, &pg, &err) != 0) goto fail;
    ek_row *rows[NROWS];
    for (int i = 0; i < NROWS; i++) rows[i] = make_row(i);

    long kept = 0;
    double t0 = now_ns();
    for (long n = 0; n < total; n++) {
        const ek_row *r[1] = {rows[n % NROWS]};
        ek_eval_ctx ctx = {.rows = r, .nrows = 1};
        bool keep;
        if (ek_cexpr_eval_bool(pg->where, &ctx, &keep, &err) != 0) goto fail;
        kept += keep;
    }
    double where_ns = (now_ns() - t0) / (double)total;

    t0 = now_ns();
    for (long n = 0; n < total; n++) {
        const ek_row *r[1] = {rows[n % NROWS]};
        ek_eval_ctx ctx = {.rows = r, .nrows = 1};
        bool keep;
        if (ek_cexpr_eval_bool(pg->where, &ctx, &keep, &err) != 0) goto fail;
        if (!keep) continue;
        ek_value out;
        if (ek_sql_project(pg, &ctx, &out, &err) != 0) goto fail;
        ek_value_unref(&out);
    }
    double full_ns = (now_ns() - t0) / (double)total;

    printf("bench_expr: %ld rows, %.1f%% pass WHERE\n", total, 100.0 * (double)kept / (double)total);
    printf("bench_expr: WHERE only          %8.1f ns/row\n", where_ns);
    printf("bench_expr: WHERE + projection  %8.1f ns/row  (3 functions, 5 output fields)\n", full_ns);
    for (int i = 0; i < NROWS; i++) ek_row_unref(rows[i]);
    ek_sql_program_free(pg);
    ek_stmt_free(st);
    ek_stmt_free(def);
    return 0;
fail:
    fprintf(stderr, "bench_expr: %s\n", err.msg);
    return 1;
}
