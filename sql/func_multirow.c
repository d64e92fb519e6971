/* Multi-row SQL functions (eKuiper docs: sqls/functions/multi_row_functions.md): unnest and
 * extract. Both return an array and the engine turns it into rows: one row per element, and an
 * element that is an object becomes that row's columns (beside the other selected columns).
 * So unnest([1, 2]) gives two rows {"unnest": 1} and {"unnest": 2}, and extract(obj) is a one-row
 * unnest of [obj]: its keys become columns of the current row. Only one such function may appear
 * in a SELECT, as in eKuiper; the planner checks that. */
#include "sql/func_int.h"

static int f_unnest(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    if (a[0].type == EK_T_NULL) { *o = ek_array_new(0); return 0; }
    if (a[0].type != EK_T_ARRAY) return func__type_err(e, "unnest", 0, "an array", &a[0]);
    *o = ek_value_ref(&a[0]);
    return 0;
}

static int f_extract(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    if (a[0].type == EK_T_NULL) { *o = ek_array_new(0); return 0; }
    if (a[0].type != EK_T_OBJECT) return func__type_err(e, "extract", 0, "a struct", &a[0]);
    *o = ek_array_new(1);
    ek_array_push(o, ek_value_ref(&a[0]));
    return 0;
}

const ek_func_def ek_funcs_multirow[] = {
    {"extract", EK_FUNC_MULTIROW, 1, 1, f_extract, NULL, false},
    {"unnest", EK_FUNC_MULTIROW, 1, 1, f_unnest, NULL, false},
    {NULL, 0, 0, 0, NULL, NULL, false},
};
