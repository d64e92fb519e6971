/* Sample function plugin "countPlusOne": an aggregate SQL function returning the number of rows
 * in the group plus one, as eKuiper's sample of the same name. An aggregate receives each
 * argument as an array over the group (sql/func.h), so this is the array's length + 1.
 * SELECT countPlusOne(temperature) FROM demo GROUP BY TUMBLINGWINDOW(ss, 1). */
#include "plugins/plugin.h"

static int count_exec(ek_func_ctx *ctx, const ek_value *args, int nargs, ek_value *out, ek_err *err)
{
    if (args[0].type != EK_T_ARRAY)
        return ek_err_set(err, EK_EEXEC, "countPlusOne: expected the group's values, got %s", ek_type_name(args[0].type));
    *out = ek_int((int64_t)ek_array_len(&args[0]) + 1);
    return 0;
}

static const ek_func_def functions[] = {
    {.name = "countPlusOne", .kind = EK_FUNC_AGGREGATE, .min_args = 1, .max_args = 1, .exec = count_exec},
};

static const ek_plugin plugin = {
    .abi_version = EK_PLUGIN_ABI_VERSION,
    .name = "countPlusOne",
    .version = "1.0.0",
    .functions = functions,
    .nfunctions = sizeof functions / sizeof functions[0],
};

EK_PLUGIN_EXPORT const ek_plugin *ek_plugin_entry(void) { return &plugin; }
