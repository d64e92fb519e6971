/* The join operator: turns a window's rows (from several streams) or one event (joined with scan
 * tables) into tuples of width nsources, one row per source, left-deep in JOIN order:
 * INNER keeps matching pairs, LEFT keeps unmatched left tuples with a NULL right row, RIGHT keeps
 * unmatched right rows with NULL left rows, FULL both, CROSS every pair. A scan table contributes
 * its latest RETAIN_SIZE rows, read from its feed at the moment the stream side triggers.
 * Rows of the window are assigned to a source by their emitter (stream name). The ON condition
 * sees the tuple built so far, with NULL for sources not joined yet.
 * A lookup table whose source answers queries (sqlite) is queried per tuple instead: the equalities
 * `table.col = <expression of the other sources>` of its ON condition give the keys (eKuiper needs at
 * least one), and the rows found are joined INNER or LEFT as the JOIN says. */
#include "engine/mem.h"
#include "engine/rules/rules_int.h"

#include <string.h>
#include <strings.h>

typedef struct lkey {
    const char *col;            /* borrowed from the statement */
    ek_cexpr *val;
} lkey;

typedef struct join_st {
    rules__run *run;
    lkey **keys;                /* per source: the lookup keys of its ON condition (NULL: none) */
    size_t *nkeys;
} join_st;

typedef struct rowlist {
    ek_row **v;
    size_t n;
    bool owned;                 /* table rows: references to drop */
} rowlist;

typedef struct tuples {
    ek_row **v;                 /* n * width, borrowed */
    size_t n, cap, width;
} tuples;

static void tuples_add(tuples *t, ek_row *const *row)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        t->v = ek_realloc(t->v, t->cap * t->width * sizeof *t->v);
    }
    memcpy(&t->v[t->n * t->width], row, t->width * sizeof *t->v);
    t->n++;
}

/* Whether e reads a field of source j (named name or alias). */
static bool mentions(const ek_expr *e, size_t j, const ek_source *src)
{
    if (!e) return false;
    if (e->kind == EK_E_FIELD) {
        if (e->bound.src == (int)j) return true;
        return e->qualifier && (strcmp(e->qualifier, src->name) == 0 || (src->alias && strcmp(e->qualifier, src->alias) == 0));
    }
    if (mentions(e->a, j, src) || mentions(e->b, j, src) || mentions(e->c, j, src)) return true;
    for (size_t i = 0; i < e->args.count; i++)
        if (mentions(e->args.items[i], j, src)) return true;
    return false;
}

/* Collects the `j.col = expr` equalities under the AND chain of e. */
static int collect_keys(join_st *js, const ek_expr *e, size_t j, const ek_source *src, ek_err *err)
{
    if (!e || e->kind != EK_E_BINARY) return 0;
    if (e->op == EK_OP_AND) {
        int rc = collect_keys(js, e->a, j, src, err);
        return rc ? rc : collect_keys(js, e->b, j, src, err);
    }
    if (e->op != EK_OP_EQ) return 0;
    const ek_expr *col = e->a, *val = e->b;
    if (!(col->kind == EK_E_FIELD && mentions(col, j, src) && !mentions(val, j, src))) {
        col = e->b;
        val = e->a;
        if (!(col->kind == EK_E_FIELD && mentions(col, j, src) && !mentions(val, j, src))) return 0;
    }
    ek_cexpr *c = NULL;
    int rc = ek_cexpr_compile(val, &c, err);
    if (rc) return rc;
    js->keys[j] = ek_realloc(js->keys[j], (js->nkeys[j] + 1) * sizeof **js->keys);
    js->keys[j][js->nkeys[j]++] = (lkey){col->name, c};
    return 0;
}

static void join_close(void *st)
{
    join_st *js = st;
    for (size_t j = 0; js->keys && j < js->run->nsrc; j++) {
        for (size_t k = 0; k < js->nkeys[j]; k++) ek_cexpr_free(js->keys[j][k].val);
        ek_free(js->keys[j]);
    }
    ek_free(js->keys);
    ek_free(js->nkeys);
    js->keys = NULL;
    js->nkeys = NULL;
}

static int join_open(void *st, rules__run *run, ek_err *err)
{
    join_st *js = st;
    js->run = run;
    js->keys = ek_calloc(run->nsrc, sizeof *js->keys);
    js->nkeys = ek_calloc(run->nsrc, sizeof *js->nkeys);
    for (size_t j = 1; j < run->nsrc; j++) {
        const ek_source *src = &run->stmt->select.sources[j];
        const char *type = rules__prop_of(run, j, EK_PROP_TYPE), *kind = rules__prop_of(run, j, EK_PROP_KIND);
        const ek_source_ops *ops = ek_connector_source(type ? type : "mqtt");
        if (!kind || strcasecmp(kind, "lookup") != 0 || !ops || !ops->lookup) continue;
        int rc = collect_keys(js, src->on, j, src, err);
        if (!rc && js->nkeys[j] == 0)
            rc = ek_err_set(err, EK_EPLAN, "join with lookup table %s needs at least one equi-join predicate (%s.col = ...)",
                            src->name, src->alias ? src->alias : src->name);
        if (rc) { /* a node whose open fails is not closed: free what was collected */
            join_close(js);
            return rc;
        }
    }
    return 0;
}


static int source_of(const rules__run *run, const ek_row *row)
{
    const char *em = ek_row_emitter(row);
    for (size_t i = 0; i < run->nsrc; i++)
        if (strcmp(run->stmt->select.sources[i].name, em) == 0) return (int)i;
    return -1;
}

static int on_true(rules__run *run, size_t j, ek_row **tuple, bool *ok, ek_err *err)
{
    *ok = true;
    ek_cexpr *on = run->prog->join_on ? run->prog->join_on[j] : NULL;
    if (!on) return 0;
    ek_eval_ctx c = {.rows = (const ek_row *const *)tuple, .nrows = run->nsrc, .rule_id = run->id,
                     .rule_start_ms = run->start_ms, .tz = rules__tz(run->eng)};
    return ek_cexpr_eval_bool(on, &c, ok, err);
}

/* Joins the tuples in cur with the rows of source j into next. */
static int join_step(rules__run *run, size_t j, ek_join_kind kind, const tuples *cur, const rowlist *right, tuples *next,
                     ek_err *err)
{
    size_t w = run->nsrc;
    ek_row **tmp = ek_calloc(w, sizeof *tmp);
    bool *rmatched = ek_calloc(right->n ? right->n : 1, sizeof *rmatched);
    int rc = 0;
    for (size_t t = 0; t < cur->n && rc == 0; t++) {
        bool any = false;
        for (size_t k = 0; k < right->n && rc == 0; k++) {
            memcpy(tmp, &cur->v[t * w], w * sizeof *tmp);
            tmp[j] = right->v[k];
            bool ok = true;
            if (kind != EK_JOIN_CROSS && (rc = on_true(run, j, tmp, &ok, err)) != 0) break;
            if (!ok) continue;
            any = rmatched[k] = true;
            tuples_add(next, tmp);
        }
        if (!any && (kind == EK_JOIN_LEFT || kind == EK_JOIN_FULL)) {
            memcpy(tmp, &cur->v[t * w], w * sizeof *tmp);
            tmp[j] = NULL;
            tuples_add(next, tmp);
        }
    }
    for (size_t k = 0; k < right->n && rc == 0 && (kind == EK_JOIN_RIGHT || kind == EK_JOIN_FULL); k++) {
        if (rmatched[k]) continue;
        memset(tmp, 0, w * sizeof *tmp);
        tmp[j] = right->v[k];
        tuples_add(next, tmp);
    }
    ek_free(rmatched);
    ek_free(tmp);
    return rc;
}

/* Joins each tuple of cur with the rows the lookup table's source finds for its keys; the rows
 * found are added to keep (the tuples borrow them until the batch is built). */
static int lookup_step(join_st *js, size_t j, const tuples *cur, tuples *next, rowlist *keep, ek_err *err)
{
    rules__run *run = js->run;
    ek_join_kind kind = run->stmt->select.sources[j].join == EK_JOIN_LEFT ? EK_JOIN_LEFT : EK_JOIN_INNER;
    int rc = 0;
    for (size_t t = 0; t < cur->n && rc == 0; t++) {
        tuples one = {.v = &cur->v[t * cur->width], .n = 1, .width = cur->width};
        ek_eval_ctx c = {.rows = (const ek_row *const *)one.v, .nrows = run->nsrc, .rule_id = run->id,
                         .rule_start_ms = run->start_ms, .tz = rules__tz(run->eng)};
        ek_value keys = ek_object_new(js->nkeys[j]);
        for (size_t k = 0; k < js->nkeys[j] && rc == 0; k++) {
            ek_value v = ek_null();
            rc = ek_cexpr_eval(js->keys[j][k].val, &c, &v, err);
            ek_object_set(&keys, js->keys[j][k].col, v);
        }
        rowlist found = {0};
        if (rc == 0) rc = rules__feed_lookup(run->subs[j].feed, &keys, &found.v, &found.n, err);
        if (rc == 0) rc = join_step(run, j, kind, &one, &found, next, err);
        keep->v = ek_realloc(keep->v, (keep->n + found.n + 1) * sizeof *keep->v);
        for (size_t k = 0; k < found.n; k++) keep->v[keep->n++] = found.v[k];
        ek_free(found.v);
        ek_value_unref(&keys);
    }
    return rc;
}

static int join_row(void *st, rules__batch *in, rules__out *emit, ek_err *err)
{
    join_st *js = st;
    rules__run *run = js->run;
    size_t w = run->nsrc;
    rowlist *parts = ek_calloc(w, sizeof *parts);
    for (size_t i = 0; i < w; i++) {
        if (run->subs[i].table && run->subs[i].feed && !js->nkeys[i]) {
            parts[i].n = rules__feed_table_rows(run->subs[i].feed, &parts[i].v);
            parts[i].owned = true;
        } else {
            parts[i].v = ek_calloc(in->ntuples ? in->ntuples : 1, sizeof(ek_row *));
        }
    }
    for (size_t t = 0; t < in->ntuples; t++) {
        ek_row *row = in->rows[t * in->width];
        int s = in->window ? source_of(run, row) : in->src;
        if (s >= 0 && !parts[s].owned) parts[s].v[parts[s].n++] = row;
    }
    tuples cur = {.width = w};
    rowlist keep = {0};         /* rows found in lookup tables, referenced until the batch holds them */
    ek_row **first = ek_calloc(w, sizeof *first);
    for (size_t k = 0; k < parts[0].n; k++) {
        first[0] = parts[0].v[k];
        tuples_add(&cur, first);
    }
    ek_free(first);
    int rc = 0;
    for (size_t j = 1; j < w && rc == 0; j++) {
        tuples next = {.width = w};
        if (js->nkeys[j]) rc = lookup_step(js, j, &cur, &next, &keep, err);
        else rc = join_step(run, j, run->stmt->select.sources[j].join, &cur, &parts[j], &next, err);
        ek_free(cur.v);
        cur = next;
    }
    if (rc == 0 && (cur.n > 0 || in->window)) {
        rules__batch b;
        rules__batch_init(&b, w);
        b.window = in->window;
        b.wstart = in->wstart;
        b.wend = in->wend;
        for (size_t t = 0; t < cur.n; t++) rules__batch_push(&b, &cur.v[t * w]);
        rules__emit(emit, &b);
        rules__batch_free(&b);
    }
    ek_free(cur.v);
    for (size_t k = 0; k < keep.n; k++) ek_row_unref(keep.v[k]);
    ek_free(keep.v);
    for (size_t i = 0; i < w; i++) {
        if (parts[i].owned)
            for (size_t k = 0; k < parts[i].n; k++) ek_row_unref(parts[i].v[k]);
        ek_free(parts[i].v);
    }
    ek_free(parts);
    return rc;
}

const ek_op_ops rules__op_join = {
    .name = "join", .state_size = sizeof(join_st), .open = join_open, .on_row = join_row, .close = join_close,
};
