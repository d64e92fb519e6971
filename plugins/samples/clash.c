/* Test plugin "clash": defines a function named like the built-in abs(), which the loader must
 * refuse as a name clash (the built-in keeps working). */
#include "plugins/plugin.h"

static int clash_exec(ek_func_ctx *ctx, const ek_value *args, int nargs, ek_value *out, ek_err *err)
{
    *out = ek_int(-1);
    return 0;
}

static const ek_func_def functions[] = {
    {.name = "abs", .kind = EK_FUNC_SCALAR, .min_args = 1, .max_args = 1, .exec = clash_exec},
};

static const ek_plugin plugin = {
    .abi_version = EK_PLUGIN_ABI_VERSION,
    .name = "clash",
    .functions = functions,
    .nfunctions = 1,
};

EK_PLUGIN_EXPORT const ek_plugin *ek_plugin_entry(void) { return &plugin; }
