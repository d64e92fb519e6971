/* Test plugin "noentry": a shared object without ek_plugin_entry, which the loader must refuse. */
#include "plugins/plugin.h"

EK_PLUGIN_EXPORT int not_a_kuiperd_plugin(void) { return 42; }
