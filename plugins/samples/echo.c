/* Sample function plugin "echo": a scalar SQL function returning its argument unchanged, the
 * smallest useful plugin (eKuiper ships the same sample). SELECT echo(temperature) FROM demo.
 * Built as plugins/functions/echo.so; see docs/plugins.md. */
#include "plugins/plugin.h"

static int echo_exec(ek_func_ctx *ctx, const ek_value *args, int nargs, ek_value *out, ek_err *err)
{
    *out = ek_value_ref(&args[0]);
    return 0;
}

static const ek_func_def functions[] = {
    {.name = "echo", .kind = EK_FUNC_SCALAR, .min_args = 1, .max_args = 1, .exec = echo_exec, .deterministic = true},
};

static const ek_plugin plugin = {
    .abi_version = EK_PLUGIN_ABI_VERSION,
    .name = "echo",
    .version = "1.0.0",
    .functions = functions,
    .nfunctions = sizeof functions / sizeof functions[0],
};

EK_PLUGIN_EXPORT const ek_plugin *ek_plugin_entry(void) { return &plugin; }
