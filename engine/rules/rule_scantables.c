/* The rows a running rule currently sees in its scan tables, for eKuiper's GET
 * /rules/{id}/scantables: [{"emitter": table, "content": row}], read from each table's shared feed
 * (the latest RETAIN_SIZE rows, what the join reads when an event comes). Kept apart from rule.c:
 * it only reads a running plan's subscriptions. */
#include "engine/mem.h"
#include "engine/rules/rules_int.h"

#include <pthread.h>

int ek_rules_rule_scan_tables(ek_rules *r, const char *id, ek_value *out, ek_err *err)
{
    /* op_lock keeps the run alive (stopping takes it); r->lock is not held while the feeds' own
     * locks are taken. */
    pthread_mutex_lock(&r->op_lock);
    pthread_mutex_lock(&r->lock);
    rules__rule *ru = rules__rule_find(r, id);
    rules__run *run = ru ? ru->run : NULL;
    pthread_mutex_unlock(&r->lock);
    int rc = 0;
    if (!ru) rc = ek_err_set(err, EK_ENOTFOUND, "Rule %s is not found", id);
    else if (!run) rc = ek_err_set(err, EK_ESTATE, "topology not initialized, rule may not have been started");
    if (rc) goto out;
    size_t tables = 0;
    *out = ek_array_new(4);
    for (rules__run *part = run; part; part = part->part_next) {
        for (size_t i = 0; i < part->nsubs; i++) {
            if (!part->subs[i].table || !part->subs[i].feed) continue;
            tables++;
            ek_row **rows = NULL;
            size_t n = rules__feed_table_rows(part->subs[i].feed, &rows);
            for (size_t k = 0; k < n; k++) {
                ek_value item = ek_object_new(2);
                ek_object_set(&item, "emitter", ek_string(ek_row_emitter(rows[k])));
                ek_object_set(&item, "content", ek_value_ref(&rows[k]->msg));
                ek_array_push(out, item);
                ek_row_unref(rows[k]);
            }
            ek_free(rows);
        }
    }
    if (!tables) rc = ek_err_set(err, EK_EINVAL, "scan table error: join node is not found for %s", id);
    else if (ek_array_len(out) == 0)
        rc = ek_err_set(err, EK_EINVAL, "scan table error: unable to find tuples for the given scan table");
    if (rc) ek_value_unref(out);
out:
    pthread_mutex_unlock(&r->op_lock);
    return rc;
}
