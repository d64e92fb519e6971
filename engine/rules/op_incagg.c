/* The incremental tumbling window ("inc_agg_window", eKuiper's planOptimizeStrategy
 * enableIncrementalWindow): instead of holding every row until the window closes and aggregating
 * them then, it keeps one running state per group (count, sum, avg, min, max) and the group's
 * first row, and at the window's end emits one object per group. Memory is per group, not per
 * row, and the work happens as rows arrive.
 *
 * Used only when it gives what the ordinary window, aggregate and project operators give
 * (rules__incagg_fits): a processing-time TUMBLINGWINDOW over one stream, qos 0, no analytic
 * functions, FILTER, HAVING, ORDER BY or LIMIT, and a SELECT list of count/sum/avg/min/max calls
 * (one plain argument, or * for count) and expressions evaluated on the group's first row (group
 * keys, window_start(), window_end() ...). WHERE runs on each row as it arrives, which is what it
 * does on the window's rows. Type rules match sql/func_agg.c: integer sums stay integers (avg
 * truncates) until a float appears. Groups come out in order of first appearance. */
#include "engine/mem.h"
#include "engine/rules/rules_int.h"

#include <string.h>
#include <strings.h>

enum { A_NONE, A_COUNT, A_SUM, A_AVG, A_MIN, A_MAX };

typedef struct acc {
    int64_t count, isum;
    double fsum;
    bool is_float, bad;
    ek_value best;              /* min, max */
} acc;

typedef struct group {
    ek_value key;
    ek_row *first;
    acc *accs;                  /* one per select field (unused for plain fields) */
} group;

typedef struct inc_st {
    rules__run *run;
    int *kind;                  /* per select field: A_* */
    ek_cexpr **arg;             /* per aggregate field: its argument, NULL for count(*) */
    size_t nf;
    group *g;
    size_t ng, gcap;
    size_t *slot;               /* open addressing: group index + 1, 0 empty */
    size_t scap;
    bool started;
    int64_t next_end;
    const struct ek_tz *tz;
    struct ek_tz *own_tz;       /* the zone when this window opened it itself */
    int64_t tz_off;
} inc_st;

static int agg_kind(const ek_expr *e)
{
    static const char *names[] = {"", "count", "sum", "avg", "min", "max"};
    if (e->kind != EK_E_CALL || !e->name || e->filter || e->has_over || e->args.count > 1) return A_NONE;
    if (e->args.count == 1 && e->args.items[0]->bound.aggregate) return A_NONE;
    for (int k = A_COUNT; k <= A_MAX; k++)
        if (strcasecmp(e->name, names[k]) == 0) return k;
    return A_NONE;
}

static bool reads_alias(const ek_expr *e)
{
    if (!e) return false;
    if (e->kind == EK_E_FIELD && e->bound.how == EK_FB_ALIAS) return true;
    if (reads_alias(e->a) || reads_alias(e->b) || reads_alias(e->c)) return true;
    for (size_t i = 0; i < e->args.count; i++)
        if (reads_alias(e->args.items[i])) return true;
    return false;
}

bool rules__incagg_fits(const rules__run *run)
{
    const ek_select *sel = &run->stmt->select;
    const ek_sql_program *p = run->prog;
    if (!run->opts.inc_window || run->opts.event_time || run->opts.qos > 0 || run->nsrc != 1 || !sel->window ||
        sel->window->kind != EK_WIN_TUMBLING || p->has_analytic || p->win_filter || p->having || p->norder ||
        sel->limit >= 0)
        return false;
    for (size_t i = 0; i < sel->nfields; i++) {
        const ek_expr *e = sel->fields[i].expr;
        if (p->fields[i].wildcard || p->fields[i].spread || p->fields[i].multirow || reads_alias(e)) return false;
        if (e->bound.aggregate && agg_kind(e) == A_NONE) return false;
    }
    return true;
}

static void inc_close(void *st);

static int inc_open(void *st, rules__run *run, ek_err *err)
{
    inc_st *s = st;
    const ek_select *sel = &run->stmt->select;
    s->run = run;
    s->nf = sel->nfields;
    s->kind = ek_calloc(s->nf + 1, sizeof *s->kind);
    s->arg = ek_calloc(s->nf + 1, sizeof *s->arg);
    for (size_t i = 0; i < s->nf; i++) {
        const ek_expr *e = sel->fields[i].expr;
        s->kind[i] = e->bound.aggregate ? agg_kind(e) : A_NONE;
        const ek_expr *a = s->kind[i] != A_NONE && e->args.count ? e->args.items[0] : NULL;
        int rc = a && a->kind != EK_E_WILDCARD ? ek_cexpr_compile(a, &s->arg[i], err) : 0;
        if (rc) {
            inc_close(s);  /* the runtime closes only operators that opened */
            return rc;
        }
    }
    int rc = rules__window_zone(run, run->eng->app->config, &s->tz, &s->own_tz, &s->tz_off, err);
    if (rc == 0 && sel->window->length <= 0) rc = ek_err_set(err, EK_EPLAN, "TUMBLINGWINDOW: the length must be positive");
    if (rc) inc_close(s);
    return rc;
}

/* ------------------------------------------------------------------ groups */

static void groups_clear(inc_st *s)
{
    for (size_t i = 0; i < s->ng; i++) {
        group *g = &s->g[i];
        ek_value_unref(&g->key);
        ek_row_unref(g->first);
        for (size_t f = 0; f < s->nf; f++) ek_value_unref(&g->accs[f].best);
        ek_free(g->accs);
    }
    s->ng = 0;
    if (s->slot) memset(s->slot, 0, s->scap * sizeof *s->slot);
}

static void rehash(inc_st *s)
{
    s->scap = s->scap ? s->scap * 2 : 64;
    ek_free(s->slot);
    s->slot = ek_calloc(s->scap, sizeof *s->slot);
    for (size_t i = 0; i < s->ng; i++) {
        size_t k = (size_t)ek_value_hash(&s->g[i].key) & (s->scap - 1);
        while (s->slot[k]) k = (k + 1) & (s->scap - 1);
        s->slot[k] = i + 1;
    }
}

/* The group of key (taken), created with row as its first row when new. */
static group *group_for(inc_st *s, ek_value key, ek_row *row)
{
    if (2 * (s->ng + 1) > s->scap) rehash(s);
    size_t k = (size_t)ek_value_hash(&key) & (s->scap - 1);
    for (; s->slot[k]; k = (k + 1) & (s->scap - 1)) {
        group *g = &s->g[s->slot[k] - 1];
        if (ek_value_compare(&g->key, &key) == 0) {
            ek_value_unref(&key);
            return g;
        }
    }
    if (s->ng == s->gcap) {
        s->gcap = s->gcap ? s->gcap * 2 : 16;
        s->g = ek_realloc(s->g, s->gcap * sizeof *s->g);
    }
    group *g = &s->g[s->ng];
    g->key = key;
    g->first = ek_row_ref(row);
    g->accs = ek_calloc(s->nf + 1, sizeof *g->accs);
    s->slot[k] = ++s->ng;
    return g;
}

/* Adds one argument value to an accumulator, as sql/func_agg.c would over the whole group. */
static void accumulate(acc *a, int kind, const ek_value *v)
{
    if (v->type == EK_T_NULL || a->bad) return;
    if (kind == A_COUNT) {
        a->count++;
        return;
    }
    if (kind == A_MIN || kind == A_MAX) {
        bool num = ek_is_number(v);
        const ek_value *b = &a->best;
        if ((!num && v->type != EK_T_STRING && v->type != EK_T_DATETIME && v->type != EK_T_BOOL) ||
            (b->type != EK_T_NULL && num != ek_is_number(b) && (num || b->type != v->type))) {
            a->bad = true;  /* func_agg.c fails the group: the output leaves the field out */
            return;
        }
        if (b->type == EK_T_NULL || ek_value_compare(v, b) * (kind == A_MAX ? 1 : -1) > 0) {
            ek_value_unref(&a->best);
            a->best = ek_value_ref(v);
        }
        return;
    }
    if (!ek_is_number(v)) {
        a->bad = true;
        return;
    }
    int64_t next;
    a->count++;
    if (!a->is_float && v->type == EK_T_INT && !__builtin_add_overflow(a->isum, v->i, &next)) {
        a->isum = next;
        return;
    }
    if (!a->is_float) {
        a->is_float = true;
        a->fsum = (double)a->isum;
    }
    a->fsum += v->type == EK_T_INT ? (double)v->i : v->f;
}

static ek_value result(const acc *a, int kind)
{
    if (a->bad) return ek_null();
    switch (kind) {
    case A_COUNT: return ek_int(a->count);
    case A_MIN:
    case A_MAX: return ek_value_ref(&a->best);
    default:
        if (a->count == 0) return ek_null();
        if (kind == A_AVG) return a->is_float ? ek_float(a->fsum / (double)a->count) : ek_int(a->isum / a->count);
        return a->is_float ? ek_float(a->fsum) : ek_int(a->isum);
    }
}

static int inc_row(void *st, rules__batch *in, rules__out *emit, ek_err *err)
{
    inc_st *s = st;
    rules__run *run = s->run;
    ek_sql_program *p = run->prog;
    for (size_t t = 0; t < in->ntuples; t++) {
        ek_eval_ctx c = rules__ctx(run, in, t);
        bool keep = true;
        int rc = p->where ? ek_cexpr_eval_bool(p->where, &c, &keep, err) : 0;
        if (rc) return rc;
        if (!keep) continue;
        ek_value key = ek_null();
        if (p->ngroup == 1) rc = ek_cexpr_eval(p->group_by[0], &c, &key, err);
        else if (p->ngroup > 1) rc = ek_sql_group_key(p, &c, &key, err);
        if (rc) return rc;
        group *g = group_for(s, key, in->rows[t * in->width]);
        for (size_t f = 0; f < s->nf; f++) {
            if (s->kind[f] == A_NONE) continue;
            if (!s->arg[f]) {  /* count(*) */
                g->accs[f].count++;
                continue;
            }
            ek_value v = ek_null();
            if ((rc = ek_cexpr_eval(s->arg[f], &c, &v, err)) != 0) return rc;
            accumulate(&g->accs[f], s->kind[f], &v);
            ek_value_unref(&v);
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ firing */

/* Emits one object per group; a field whose expression fails is left out, and the first failure
 * goes to err (the node's exception metrics) rather than being lost. */
static void fire(inc_st *s, rules__out *emit, int64_t ws, int64_t we, ek_err *err)
{
    rules__run *run = s->run;
    ek_sql_program *p = run->prog;
    rules__batch b;
    rules__batch_init(&b, 1);
    b.window = true;
    b.wstart = ws;
    b.wend = we;
    b.out = ek_array_new(s->ng);
    for (size_t i = 0; i < s->ng; i++) {
        group *g = &s->g[i];
        ek_value obj = ek_object_new(s->nf);
        ek_eval_ctx c = {.rows = (const ek_row *const *)&g->first, .nrows = 1, .window_start_ms = ws,
                         .window_end_ms = we, .rule_id = run->id, .rule_start_ms = run->start_ms,
                         .tz = rules__tz(run->eng)};
        for (size_t f = 0; f < s->nf; f++) {
            if (p->fields[f].invisible) continue;
            ek_value v = ek_null();
            ek_err e = {0};
            if (s->kind[f] != A_NONE) v = result(&g->accs[f], s->kind[f]);
            else if (ek_cexpr_eval(p->fields[f].expr, &c, &v, &e) != 0) {
                v = ek_null();
                if (!err->code) *err = e;
            }
            if (v.type != EK_T_NULL || run->opts.send_nil) ek_object_set_str(&obj, p->fields[f].key.s, v);
        }
        ek_array_push(&b.out, obj);
    }
    rules__emit(emit, &b);
    rules__batch_free(&b);
    groups_clear(s);
}

static int64_t inc_tick(void *st, int64_t now, rules__out *emit, ek_err *err)
{
    inc_st *s = st;
    int64_t len = s->run->stmt->select.window->length;
    if (!s->started) {
        s->started = true;
        s->next_end = rules__window_align(s->tz, s->tz_off, now, len);
        return s->next_end;
    }
    for (int guard = 0; s->next_end <= now; guard++) {
        if (guard > 1000 && s->ng == 0) {  /* a long pause: skip the empty windows in between */
            s->next_end = rules__window_align(s->tz, s->tz_off, now, len);
            break;
        }
        fire(s, emit, s->next_end - len, s->next_end, err);
        s->next_end += len;
    }
    return s->next_end;
}

static void inc_close(void *st)
{
    inc_st *s = st;
    groups_clear(s);
    ek_free(s->g);
    ek_free(s->slot);
    for (size_t f = 0; f < s->nf; f++) ek_cexpr_free(s->arg[f]);
    ek_free(s->arg);
    ek_free(s->kind);
    rules__window_zone_free(s->own_tz);
    memset(s, 0, sizeof *s);
}

const ek_op_ops rules__op_incagg = {
    .name = "inc_agg_window",
    .state_size = sizeof(inc_st),
    .open = inc_open,
    .on_row = inc_row,
    .on_tick = inc_tick,
    .close = inc_close,
};
