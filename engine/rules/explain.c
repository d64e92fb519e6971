/* GET /rules/{id}/explain: a rule's plan as eKuiper describes it. eKuiper prints its logical plan
 * from the top: ProjectPlan_0, then each operator below it, down to one DataSourcePlan per stream
 * (siblings at the bottom), numbered in that order. Its text form is one JSON object
 * {"op", "info"} per line, each child line indented by 2 * depth - 1 tabs:
 *   {"op":"ProjectPlan_0","info":"Fields:[ a ]"}
 *   \t{"op":"FilterPlan_1","info":"Condition:{ a > 1 }"}
 *   \t\t\t{"op":"DataSourcePlan_2","info":"StreamName: demo, StreamFields:[ a ]"}
 * Our plan is the same chain (plan.c) read from its end. The info texts follow eKuiper's labels
 * (Fields, Condition, Dimension, StreamName ...) with our SQL printer for the expressions, not
 * Go's AST dump. */
#include "engine/codec_json.h"
#include "engine/mem.h"
#include "engine/rules/rules_int.h"

#include <stdio.h>
#include <string.h>

static void put_expr(ek_buf *b, const ek_expr *e)
{
    char *t = ek_expr_to_string(e);
    ek_buf_append(b, t, strlen(t));
    ek_free(t);
}

static void put_str(ek_buf *b, const char *s) { ek_buf_append(b, s, strlen(s)); }

static const char *window_type(ek_window_kind k)
{
    static const char *names[] = {"", "TUMBLING_WINDOW", "HOPPING_WINDOW", "SLIDING_WINDOW", "SESSION_WINDOW",
                                  "COUNT_WINDOW", "STATE_WINDOW"};
    return (size_t)k < sizeof names / sizeof *names ? names[k] : "";
}

static const char *join_type(ek_join_kind k)
{
    static const char *names[] = {"", "INNER_JOIN", "LEFT_JOIN", "RIGHT_JOIN", "FULL_JOIN", "CROSS_JOIN"};
    return (size_t)k < sizeof names / sizeof *names ? names[k] : "";
}

/* The operator's eKuiper name (without the _N) and its info text into b. */
static const char *describe(const rules__run *run, const rules__node *n, ek_buf *b)
{
    const ek_select *sel = &run->stmt->select;
    const char *op = n->ops->name;
    if (strcmp(op, "project") == 0) {
        put_str(b, "Fields:[ ");
        for (size_t i = 0; i < sel->nfields; i++) {
            if (i) put_str(b, ", ");
            put_expr(b, sel->fields[i].expr);
            if (sel->fields[i].alias) {
                put_str(b, " AS ");
                put_str(b, sel->fields[i].alias);
            }
        }
        put_str(b, " ]");
        return "ProjectPlan";
    }
    if (strcmp(op, "filter") == 0 || strcmp(op, "having") == 0) {
        put_str(b, "Condition:{ ");
        put_expr(b, op[0] == 'f' ? sel->where : sel->having);
        put_str(b, " }");
        return op[0] == 'f' ? "FilterPlan" : "HavingPlan";
    }
    if (strcmp(op, "aggregate") == 0) {
        put_str(b, "Dimension:{ ");
        for (size_t i = 0; i < sel->group_by.count; i++) {
            if (i) put_str(b, ", ");
            put_expr(b, sel->group_by.items[i]);
        }
        put_str(b, " }");
        return "AggregatePlan";
    }
    if (strcmp(op, "order") == 0) {
        put_str(b, "SortFields:[ ");
        for (size_t i = 0; i < sel->norder; i++) {
            if (i) put_str(b, ", ");
            put_expr(b, sel->order[i].expr);
            put_str(b, sel->order[i].desc ? " DESC" : " ASC");
        }
        put_str(b, " ]");
        return "OrderPlan";
    }
    if (strcmp(op, "join") == 0) {
        put_str(b, "Joins:[ ");
        for (size_t i = 1; i < sel->nsources; i++) {
            ek_buf_printf(b, "%s{ joinType:%s, ", i > 1 ? ", " : "", join_type(sel->sources[i].join));
            if (sel->sources[i].on) {
                put_str(b, "expr:");
                put_expr(b, sel->sources[i].on);
                put_str(b, " ");
            }
            put_str(b, "}");
        }
        put_str(b, " ]");
        return "JoinPlan";
    }
    if (strcmp(op, "window") == 0) {
        const ek_window *w = sel->window;
        ek_buf_printf(b, "{ length:%lld, windowType:%s, limit: %lld", (long long)w->length, window_type(w->kind),
                      (long long)(sel->limit > 0 ? sel->limit : 0));
        if (w->interval) ek_buf_printf(b, ", interval:%lld", (long long)w->interval);
        if (w->filter) {
            put_str(b, ", filter:");
            put_expr(b, w->filter);
        }
        put_str(b, " }");
        return "WindowPlan";
    }
    if (strcmp(op, "watermark") == 0) {
        ek_buf_printf(b, "lateTolerance:%lldms", (long long)run->opts.late_tolerance);
        return "WatermarkPlan";
    }
    if (strcmp(op, "analytic") == 0) {
        put_str(b, "analytic functions of the SELECT list and WHERE, updated on every row");
        return "AnalyticFuncsPlan";
    }
    put_str(b, op);
    return "Plan";
}

static void describe_source(const rules__run *run, size_t i, ek_buf *b)
{
    const ek_sql_schema *s = &run->schemas[i];
    ek_buf_printf(b, "StreamName: %s, StreamFields:[ ", run->stmt->select.sources[i].name);
    for (size_t c = 0; !s->schemaless && c < s->ncols; c++) ek_buf_printf(b, "%s%s", c ? ", " : "", s->cols[c].name);
    put_str(b, " ]");
}

static ek_value entry(const char *op, size_t k, ek_buf *info)
{
    ek_value o = ek_object_new(2);
    ek_object_set(&o, "op", ek_string_fmt("%s_%zu", op, k));
    ek_object_set(&o, "info", ek_string_n(info->data ? info->data : "", info->len));
    info->len = 0;
    return o;
}

/* Appends one part's plan (a graph rule runs as several parts) to out. */
static void explain_part(rules__run *run, ek_value *out, size_t *k)
{
    ek_buf info = EK_BUF_INIT;
    size_t depth = 0;
    for (size_t i = run->nnodes; i-- > 0; (*k)++, depth++) {
        const char *op = describe(run, &run->nodes[i], &info);
        ek_value o = entry(op, *k, &info);
        ek_object_set(&o, "depth", ek_int((int64_t)depth));
        ek_array_push(out, o);
    }
    for (size_t i = 0; i < run->nsrc; i++) {
        describe_source(run, i, &info);
        ek_value o = entry("DataSourcePlan", *k + i, &info);
        ek_object_set(&o, "depth", ek_int((int64_t)depth));
        ek_array_push(out, o);
    }
    *k += run->nsrc;
    ek_buf_free(&info);
}

void rules__run_explain(rules__run *run, ek_value *out)
{
    *out = ek_array_new(run->nnodes + run->nsrc);
    size_t k = 0;
    for (rules__run *p = run; p; p = p->part_next) explain_part(p, out, &k);
}

void rules__run_explain_text(rules__run *run, ek_value *out)
{
    ek_value plan;
    rules__run_explain(run, &plan);
    ek_buf text = EK_BUF_INIT;
    for (size_t i = 0; i < ek_array_len(&plan); i++) {
        const ek_value *o = ek_array_get(&plan, i);
        int64_t depth = ek_object_get(o, "depth")->i;
        if (i) ek_buf_append(&text, "\n", 1);
        for (int64_t t = 0; t < 2 * depth - 1; t++) ek_buf_append(&text, "\t", 1);
        ek_value line = ek_object_new(2);  /* op and info only, in eKuiper's key order */
        ek_object_set(&line, "op", ek_value_ref(ek_object_get(o, "op")));
        ek_object_set(&line, "info", ek_value_ref(ek_object_get(o, "info")));
        char *json = ek_json_encode_str(&line, 0);
        ek_buf_append(&text, json, strlen(json));
        ek_free(json);
        ek_value_unref(&line);
    }
    *out = ek_string_n(text.data ? text.data : "", text.len);
    ek_buf_free(&text);
    ek_value_unref(&plan);
}
