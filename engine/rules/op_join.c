/* The join operator: turns a window's rows (from several streams) or one event (joined with scan
 * tables) into tuples of width nsources, one row per source, left-deep in JOIN order:
 * INNER keeps matching pairs, LEFT keeps unmatched left tuples with a NULL right row, RIGHT keeps
 * unmatched right rows with NULL left rows, FULL both, CROSS every pair. A scan table contributes
 * its latest RETAIN_SIZE rows, read from its feed at the moment the stream side triggers.
 * Rows of the window are assigned to a source by their emitter (stream name). The ON condition
 * sees the tuple built so far, with NULL for sources not joined yet. */
#include "engine/mem.h"
#include "engine/rules/rules_int.h"

#include <string.h>

typedef struct join_st {
    rules__run *run;
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

static int join_open(void *st, rules__run *run, ek_err *err)
{
    ((join_st *)st)->run = run;
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
static int join_step(rules__run *run, size_t j, const tuples *cur, const rowlist *right, tuples *next, ek_err *err)
{
    ek_join_kind kind = run->stmt->select.sources[j].join;
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

static int join_row(void *st, rules__batch *in, rules__out *emit, ek_err *err)
{
    rules__run *run = ((join_st *)st)->run;
    size_t w = run->nsrc;
    rowlist *parts = ek_calloc(w, sizeof *parts);
    for (size_t i = 0; i < w; i++) {
        if (run->subs[i].table && run->subs[i].feed) {
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
    ek_row **first = ek_calloc(w, sizeof *first);
    for (size_t k = 0; k < parts[0].n; k++) {
        first[0] = parts[0].v[k];
        tuples_add(&cur, first);
    }
    ek_free(first);
    int rc = 0;
    for (size_t j = 1; j < w && rc == 0; j++) {
        tuples next = {.width = w};
        rc = join_step(run, j, &cur, &parts[j], &next, err);
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
    for (size_t i = 0; i < w; i++) {
        if (parts[i].owned)
            for (size_t k = 0; k < parts[i].n; k++) ek_row_unref(parts[i].v[k]);
        ek_free(parts[i].v);
    }
    ek_free(parts);
    return rc;
}

const ek_op_ops rules__op_join = {
    .name = "join", .state_size = sizeof(join_st), .open = join_open, .on_row = join_row,
};
