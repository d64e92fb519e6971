/* The relational operators: analytic (before the window), then after it filter (WHERE),
 * aggregate (GROUP BY), having, order and project, each a small ek_op_ops over a batch.
 *
 * A batch is one event or one window firing. Filter keeps the tuples whose WHERE is true (a
 * single event that fails is not emitted at all; a window batch is emitted even when emptied, so
 * the sinks still see the firing). Aggregate orders the tuples by group (groups in order of first
 * appearance) and records the group offsets; having keeps groups; order sorts groups or tuples;
 * project evaluates the SELECT list once per group (aggregates) or per tuple and leaves the
 * objects in batch->out for the sinks. eKuiper's output rules (missing fields left out unless
 * sendNilField, later fields see earlier aliases) come from ek_sql_project. */
#include "engine/mem.h"
#include "engine/rules/rules_int.h"

#include <stdlib.h>
#include <string.h>

typedef struct sel_st {
    rules__run *run;
} sel_st;

static int sel_open(void *st, rules__run *run, ek_err *err)
{
    ((sel_st *)st)->run = run;
    return 0;
}

static void copy_frame(rules__batch *to, const rules__batch *from)
{
    rules__batch_init(to, from->width);
    to->wstart = from->wstart;
    to->wend = from->wend;
    to->window = from->window;
    to->src = from->src;
}

/* ------------------------------------------------------------------ analytic */

/* eKuiper updates analytic functions (lag, latest, acc_* ... and OVER calls) on every row before
 * WHERE; the values kept here are reused when the same row is filtered and projected. */
static int analytic_row(void *st, rules__batch *in, rules__out *emit, ek_err *err)
{
    rules__run *run = ((sel_st *)st)->run;
    for (size_t t = 0; t < in->ntuples; t++) {
        ek_eval_ctx c = rules__ctx(run, in, t);
        int rc = ek_sql_update_analytic(run->prog, &c, err);
        if (rc) return rc;
    }
    rules__emit(emit, in);
    return 0;
}

/* With qos >= 1 the analytic calls' state goes into the rule's checkpoint like a window's. */
static int analytic_snapshot(void *st, ek_value *out)
{
    return ek_sql_program_snapshot(((sel_st *)st)->run->prog, out);
}

static int analytic_restore(void *st, const ek_value *in, ek_err *err)
{
    return ek_sql_program_restore(((sel_st *)st)->run->prog, in, err);
}

const ek_op_ops rules__op_analytic = {
    .name = "analytic", .state_size = sizeof(sel_st), .open = sel_open, .on_row = analytic_row,
    .snapshot = analytic_snapshot, .restore = analytic_restore,
};

/* ------------------------------------------------------------------ filter */

static int filter_row(void *st, rules__batch *in, rules__out *emit, ek_err *err)
{
    rules__run *run = ((sel_st *)st)->run;
    if (!in->window && in->ntuples == 1) {  /* one event: pass the batch itself on, or nothing */
        ek_eval_ctx c = rules__ctx(run, in, 0);
        bool keep = false;
        int rc = ek_cexpr_eval_bool(run->prog->where, &c, &keep, err);
        if (rc == 0 && keep) rules__emit(emit, in);
        return rc;
    }
    rules__batch b;
    copy_frame(&b, in);
    int rc = 0;
    for (size_t t = 0; t < in->ntuples; t++) {
        ek_eval_ctx c = rules__ctx(run, in, t);
        bool keep = false;
        if ((rc = ek_cexpr_eval_bool(run->prog->where, &c, &keep, err)) != 0) break;
        if (keep) rules__batch_push(&b, &in->rows[t * in->width]);
    }
    if (rc == 0 && (b.ntuples > 0 || b.window)) rules__emit(emit, &b);
    rules__batch_free(&b);
    return rc;
}

const ek_op_ops rules__op_filter = {
    .name = "filter", .state_size = sizeof(sel_st), .open = sel_open, .on_row = filter_row,
};

/* ------------------------------------------------------------------ aggregate */

/* Open addressing from a group key's hash to the first tuple with that key (+1; 0 is empty). */
typedef struct gtab {
    size_t *slot;
    size_t cap;
} gtab;

/* The group id of tuple t (keys[t]): the id of an earlier tuple with an equal key, or a new one. */
static size_t group_of(gtab *tab, const ek_value *keys, const size_t *gid, size_t t, size_t *ngroups)
{
    size_t mask = tab->cap - 1, i = (size_t)ek_value_hash(&keys[t]) & mask;
    for (; tab->slot[i]; i = (i + 1) & mask) {
        size_t u = tab->slot[i] - 1;
        if (ek_value_compare(&keys[u], &keys[t]) == 0) return gid[u];
    }
    tab->slot[i] = t + 1;
    return (*ngroups)++;
}

static int agg_row(void *st, rules__batch *in, rules__out *emit, ek_err *err)
{
    rules__run *run = ((sel_st *)st)->run;
    ek_sql_program *p = run->prog;
    size_t n = in->ntuples;
    ek_value *keys = ek_calloc(n ? n : 1, sizeof *keys);
    size_t *gid = ek_calloc(n ? n : 1, sizeof *gid);
    size_t ngroups = 0;
    int rc = 0;
    gtab tab = {0};
    tab.cap = 16;
    while (tab.cap < 2 * n) tab.cap *= 2;
    tab.slot = ek_calloc(tab.cap, sizeof *tab.slot);
    for (size_t t = 0; t < n && rc == 0; t++) {
        if (p->ngroup == 0) {
            gid[t] = 0;
            ngroups = 1;
            continue;
        }
        ek_eval_ctx c = rules__ctx(run, in, t);
        if ((rc = ek_sql_group_key(p, &c, &keys[t], err)) != 0) break;
        gid[t] = group_of(&tab, keys, gid, t, &ngroups);
    }
    ek_free(tab.slot);
    if (rc == 0) {
        rules__batch b;
        copy_frame(&b, in);
        b.groups = ek_calloc(ngroups + 1, sizeof *b.groups);
        b.ngroups = ngroups;
        /* Counting sort by group id keeps arrival order inside each group. */
        size_t *next = ek_calloc(ngroups + 1, sizeof *next);
        for (size_t t = 0; t < n; t++) b.groups[gid[t] + 1]++;
        for (size_t g = 0; g < ngroups; g++) b.groups[g + 1] += b.groups[g];
        memcpy(next, b.groups, (ngroups + 1) * sizeof *next);
        size_t *order = ek_calloc(n ? n : 1, sizeof *order);
        for (size_t t = 0; t < n; t++) order[next[gid[t]]++] = t;
        for (size_t k = 0; k < n; k++) rules__batch_push(&b, &in->rows[order[k] * in->width]);
        ek_free(order);
        ek_free(next);
        rules__emit(emit, &b);
        rules__batch_free(&b);
    }
    for (size_t t = 0; t < n; t++) ek_value_unref(&keys[t]);
    ek_free(keys);
    ek_free(gid);
    return rc;
}

const ek_op_ops rules__op_aggregate = {
    .name = "aggregate", .state_size = sizeof(sel_st), .open = sel_open, .on_row = agg_row,
};

/* The context of group g (or of tuple g when the batch is not grouped). */
static ek_eval_ctx group_ctx(rules__run *run, const rules__batch *b, size_t g)
{
    if (!b->groups) return rules__ctx(run, b, g);
    ek_eval_ctx c = rules__ctx(run, b, b->groups[g]);
    c.group = (const ek_row *const *)&b->rows[b->groups[g] * b->width];
    c.group_len = b->groups[g + 1] - b->groups[g];
    return c;
}

static size_t units(const rules__batch *b) { return b->groups ? b->ngroups : b->ntuples; }

/* Copies unit g (a group or a tuple) of in to the end of out. */
static void push_unit(rules__batch *out, const rules__batch *in, size_t g)
{
    size_t from = in->groups ? in->groups[g] : g, to = in->groups ? in->groups[g + 1] : g + 1;
    for (size_t t = from; t < to; t++) rules__batch_push(out, &in->rows[t * in->width]);
}

static void regroup(rules__batch *out, const rules__batch *in, const size_t *order, size_t n)
{
    if (in->groups) out->groups = ek_calloc(n + 1, sizeof *out->groups);
    for (size_t i = 0; i < n; i++) {
        if (in->groups) out->groups[i] = out->ntuples;
        push_unit(out, in, order[i]);
    }
    if (in->groups) {
        out->groups[n] = out->ntuples;
        out->ngroups = n;
    }
}

/* ------------------------------------------------------------------ having */

static int having_row(void *st, rules__batch *in, rules__out *emit, ek_err *err)
{
    rules__run *run = ((sel_st *)st)->run;
    size_t n = units(in), kept = 0;
    size_t *order = ek_calloc(n ? n : 1, sizeof *order);
    int rc = 0;
    for (size_t g = 0; g < n && rc == 0; g++) {
        ek_eval_ctx c = group_ctx(run, in, g);
        bool keep = false;
        rc = ek_cexpr_eval_bool(run->prog->having, &c, &keep, err);
        if (keep) order[kept++] = g;
    }
    if (rc == 0 && (kept > 0 || in->window)) {
        rules__batch b;
        copy_frame(&b, in);
        regroup(&b, in, order, kept);
        rules__emit(emit, &b);
        rules__batch_free(&b);
    }
    ek_free(order);
    return rc;
}

const ek_op_ops rules__op_having = {
    .name = "having", .state_size = sizeof(sel_st), .open = sel_open, .on_row = having_row,
};

/* ------------------------------------------------------------------ order */

typedef struct sort_item {
    size_t unit;
    ek_value *keys;
} sort_item;

static int cmp_items(const void *a, const void *b, void *arg)
{
    const ek_select *sel = arg;
    const sort_item *x = a, *y = b;
    for (size_t i = 0; i < sel->norder; i++) {
        int c = ek_value_compare(&x->keys[i], &y->keys[i]);
        if (c) return sel->order[i].desc ? -c : c;
    }
    return x->unit < y->unit ? -1 : x->unit > y->unit;
}

static int order_row(void *st, rules__batch *in, rules__out *emit, ek_err *err)
{
    rules__run *run = ((sel_st *)st)->run;
    ek_sql_program *p = run->prog;
    size_t n = units(in);
    sort_item *items = ek_calloc(n ? n : 1, sizeof *items);
    int rc = 0;
    for (size_t g = 0; g < n; g++) {
        items[g].unit = g;
        items[g].keys = ek_calloc(p->norder, sizeof(ek_value));
        ek_eval_ctx c = group_ctx(run, in, g);
        for (size_t k = 0; k < p->norder && rc == 0; k++) rc = ek_cexpr_eval(p->order_by[k], &c, &items[g].keys[k], err);
    }
    if (rc == 0) {
        qsort_r(items, n, sizeof *items, cmp_items, (void *)p->sel);
        size_t *order = ek_calloc(n ? n : 1, sizeof *order);
        for (size_t g = 0; g < n; g++) order[g] = items[g].unit;
        rules__batch b;
        copy_frame(&b, in);
        regroup(&b, in, order, n);
        rules__emit(emit, &b);
        rules__batch_free(&b);
        ek_free(order);
    }
    for (size_t g = 0; g < n; g++) {
        for (size_t k = 0; k < p->norder; k++) ek_value_unref(&items[g].keys[k]);
        ek_free(items[g].keys);
    }
    ek_free(items);
    return rc;
}

const ek_op_ops rules__op_order = {
    .name = "order", .state_size = sizeof(sel_st), .open = sel_open, .on_row = order_row,
};

/* ------------------------------------------------------------------ project */

/* sendNilField: every named select field appears, null when it evaluated to nothing. */
static void add_nil_fields(const ek_sql_program *p, ek_value *obj)
{
    for (size_t i = 0; i < p->nfields; i++) {
        const ek_proj_field *f = &p->fields[i];
        if (f->wildcard || f->invisible || !f->name) continue;
        if (!ek_object_get(obj, f->name)) ek_object_set(obj, f->name, ek_null());
    }
}

/* unnest()/extract(): the multi-row field's array becomes one output row per element, the other
 * columns repeated; an element that is an object contributes its keys as columns. Takes obj. */
static void push_rows(const ek_sql_program *p, ek_value obj, ek_value *out)
{
    const ek_proj_field *mf = NULL;
    for (size_t i = 0; i < p->nfields && !mf; i++)
        if (p->fields[i].multirow && p->fields[i].name) mf = &p->fields[i];
    const ek_value *arr = mf ? ek_object_get(&obj, mf->name) : NULL;
    if (!arr || arr->type != EK_T_ARRAY) {
        ek_array_push(out, obj);
        return;
    }
    ek_value items = ek_value_ref(arr);
    ek_object_del(&obj, mf->name);
    for (size_t k = 0; k < ek_array_len(&items); k++) {
        ek_value row = ek_value_deep_copy(&obj);
        const ek_value *el = ek_array_get(&items, k);
        if (el->type == EK_T_OBJECT) {
            for (size_t j = 0; j < ek_object_len(el); j++)
                ek_object_set(&row, ek_object_key(el, j), ek_value_ref(ek_object_val(el, j)));
        } else {
            ek_object_set(&row, mf->name, ek_value_ref(el));
        }
        ek_array_push(out, row);
    }
    ek_value_unref(&items);
    ek_value_unref(&obj);
}

static int project_row(void *st, rules__batch *in, rules__out *emit, ek_err *err)
{
    rules__run *run = ((sel_st *)st)->run;
    ek_sql_program *p = run->prog;
    size_t n = units(in);
    int64_t limit = p->sel->limit;
    if (limit >= 0 && (int64_t)n > limit) n = (size_t)limit;
    ek_value out = ek_array_new(n);
    if (in->window) ek_sql_program_reset_state(p, "row_number");  /* numbered afresh in each window */
    for (size_t g = 0; g < n; g++) {
        ek_eval_ctx c = group_ctx(run, in, g);
        ek_value obj;
        int rc = ek_sql_project(p, &c, &obj, err);
        if (rc) {
            ek_value_unref(&out);
            return rc;
        }
        if (run->opts.send_nil) add_nil_fields(p, &obj);
        push_rows(p, obj, &out);
    }
    ek_value_unref(&in->out);
    in->out = out;
    rules__emit(emit, in);
    return 0;
}

const ek_op_ops rules__op_project = {
    .name = "project", .state_size = sizeof(sel_st), .open = sel_open, .on_row = project_row,
};
