/* Test plugin "badabi": claims an ABI version kuiperd does not speak, so the loader must refuse
 * it (with a log line naming the file) before reading anything else of the descriptor. */
#include "plugins/plugin.h"

static const ek_plugin plugin = {
    .abi_version = EK_PLUGIN_ABI_VERSION + 1000,
    .name = "badabi",
};

EK_PLUGIN_EXPORT const ek_plugin *ek_plugin_entry(void) { return &plugin; }
