/* The output schema of a running rule (eKuiper's GET /rules/{id}/schema): each field its SELECT
 * puts in a result, by output name, with its position {"hasIndex": true, "index": i}. Kept apart
 * from rule.c: it only reads the running plan's statement under the engine's locks. */
#include "engine/rules/rules_int.h"

#include <pthread.h>

/* Fields in SELECT order; "*" and INVISIBLE ones are not outputs, a repeated name keeps its first
 * position (eKuiper refuses such a rule at planning). */
static void schema_of(const ek_select *sel, ek_value *out)
{
    *out = ek_object_new(sel->nfields);
    int64_t index = 0;
    for (size_t i = 0; i < sel->nfields; i++) {
        const ek_select_field *f = &sel->fields[i];
        if (f->invisible || (f->expr && f->expr->kind == EK_E_WILDCARD)) continue;
        const char *name = f->out_name ? f->out_name : f->alias;
        if (!name || ek_object_get(out, name)) continue;
        ek_value field = ek_object_new(2);
        ek_object_set(&field, "hasIndex", ek_bool(true));
        ek_object_set(&field, "index", ek_int(index++));
        ek_object_set(out, name, field);
    }
}

int ek_rules_rule_schema(ek_rules *r, const char *id, ek_value *out, ek_err *err)
{
    pthread_mutex_lock(&r->op_lock);
    pthread_mutex_lock(&r->lock);
    rules__rule *ru = rules__rule_find(r, id);
    int rc = 0;
    if (!ru) rc = ek_err_set(err, EK_ENOTFOUND, "Rule %s is not found", id);
    else if (!ru->run || !ru->run->stmt)
        rc = ek_err_set(err, EK_EINVAL, "Fail to get rule %s's topo, make sure the rule has been started before", id);
    else schema_of(&ru->run->stmt->select, out);
    pthread_mutex_unlock(&r->lock);
    pthread_mutex_unlock(&r->op_lock);
    return rc;
}
