/* Checkpoints of a compiled program's call-site state: what the analytic calls of a rule (lag,
 * latest, had_changed, acc_* ...) remember, per call site and PARTITION BY key, as one value the
 * rule engine stores with its checkpoint, and back into a fresh program compiled from the same
 * statement. Call sites are matched by their position in ek_compile__walk_program's fixed order,
 * so a snapshot only fits the statement it was taken from (the engine drops a rule's checkpoint
 * when the rule changes). Function caches (compiled regexes ...) are not state and not saved. */
#include "engine/mem.h"
#include "sql/compile_int.h"

#include <string.h>

typedef struct snap_walk {
    ek_value *out;              /* snapshot: the array being built */
    const ek_value *in;         /* restore: the array being read */
    size_t next;                /* restore: the next call site's index in `in` */
    int rc;
} snap_walk;

/* One analytic call site as [[key, state], ...] (partitions holding no known state left out). */
static void save_one(ek_cexpr *e, void *arg)
{
    snap_walk *w = arg;
    if (e->op != C_ANALYTIC) return;
    ek_value parts = ek_array_new(e->nparts);
    for (size_t i = 0; i < e->nparts; i++) {
        ek_value st;
        if (!ek_func_state_save(&e->parts[i].fctx, &st)) continue;
        ek_value pair = ek_array_new(2);
        ek_array_push(&pair, ek_value_ref(&e->parts[i].key));
        ek_array_push(&pair, st);
        ek_array_push(&parts, pair);
    }
    ek_array_push(w->out, parts);
}

static void load_one(ek_cexpr *e, void *arg)
{
    snap_walk *w = arg;
    if (e->op != C_ANALYTIC || w->rc) return;
    if (w->next >= ek_array_len(w->in)) {
        w->rc = EK_EINVAL;
        return;
    }
    const ek_value *parts = ek_array_get(w->in, w->next++);
    if (parts->type != EK_T_ARRAY || e->nparts) {
        w->rc = EK_EINVAL;
        return;
    }
    for (size_t i = 0; i < ek_array_len(parts); i++) {
        const ek_value *pair = ek_array_get(parts, i);
        if (pair->type != EK_T_ARRAY || ek_array_len(pair) != 2) {
            w->rc = EK_EINVAL;
            return;
        }
        e->parts = ek_realloc(e->parts, (e->nparts + 1) * sizeof *e->parts);
        part_state *p = &e->parts[e->nparts++];
        memset(p, 0, sizeof *p);
        p->key = ek_value_ref(ek_array_get(pair, 0));
        if (ek_func_state_load(&p->fctx, ek_array_get(pair, 1)) != 0) w->rc = EK_EINVAL;
    }
}

int ek_sql_program_snapshot(ek_sql_program *p, ek_value *out)
{
    *out = ek_array_new(4);
    snap_walk w = {.out = out};
    ek_compile__walk_program(p, save_one, &w);
    return 0;
}

int ek_sql_program_restore(ek_sql_program *p, const ek_value *in, ek_err *err)
{
    if (in->type != EK_T_ARRAY) return ek_err_set(err, EK_EINVAL, "analytic state: expected an array");
    snap_walk w = {.in = in};
    ek_compile__walk_program(p, load_one, &w);
    if (w.rc == 0 && w.next != ek_array_len(in)) w.rc = EK_EINVAL;
    if (w.rc) {
        ek_sql_program_reset_state(p, NULL);  /* all or nothing: a partial restore would mix states */
        return ek_err_set(err, w.rc, "analytic state does not fit this statement's %zu call sites", w.next);
    }
    return 0;
}
