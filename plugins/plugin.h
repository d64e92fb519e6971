/* The kuiperd plugin ABI: what a shared object must export to add SQL functions, source types and
 * sink types to a running kuiperd. A plugin is a .so built with -fPIC that exports one symbol,
 * ek_plugin_entry (EK_PLUGIN_ENTRY_SYMBOL), a function returning a pointer to a const
 * ek_plugin descriptor that lives as long as the library (a static const object).
 *
 * Stability rules:
 * - abi_version is the descriptor's first field and never moves: the loader reads it before
 *   anything else and refuses a plugin whose version differs from EK_PLUGIN_ABI_VERSION. Any
 *   change to this header, to ek_func_def (sql/func.h), to the connector vtables
 *   (connectors/connector.h) or to the ek_value layout (engine/value.h) bumps the version.
 * - A plugin compiles against this header, which brings in those three headers; at run time it
 *   may call the functions declared in engine/value.h, engine/err.h, engine/mem.h, engine/log.h
 *   and engine/codec_json.h, which kuiperd exports (it is linked with -rdynamic). Nothing else of
 *   kuiperd is part of the ABI.
 * - Plugins are never unloaded (as eKuiper's native plugins): pointers in the descriptor stay
 *   valid for the life of the process. Deleting one through REST takes effect at restart.
 *
 * Functions follow sql/func.h exactly: a scalar gets one row's arguments; an aggregate gets, for
 * each argument, an EK_T_ARRAY of that argument over the group. Names are matched
 * case-insensitively and must not clash with a built-in function or another plugin's function.
 * Sources and sinks are the same vtables as the built-in connectors and register by type name
 * (ek_source_ops.type / ek_sink_ops.type); a taken type name is refused. See docs/plugins.md. */
#ifndef EK_PLUGIN_H
#define EK_PLUGIN_H

#include "connectors/connector.h"
#include "engine/value.h"
#include "sql/func.h"

#include <stddef.h>

#define EK_PLUGIN_ABI_VERSION 1
#define EK_PLUGIN_ENTRY_SYMBOL "ek_plugin_entry"

typedef struct ek_plugin {
    int abi_version;                      /* EK_PLUGIN_ABI_VERSION; always the first field */
    const char *name;                     /* the plugin's name, e.g. "random" (REST {name}) */
    const char *version;                  /* free text, e.g. "1.0.0"; may be NULL */
    const ek_func_def *functions;         /* nfunctions SQL functions (scalar or aggregate) */
    size_t nfunctions;
    const ek_source_ops *const *sources;  /* nsources source types */
    size_t nsources;
    const ek_sink_ops *const *sinks;      /* nsinks sink types */
    size_t nsinks;
} ek_plugin;

/* The entry point every plugin defines:
 *     const ek_plugin *ek_plugin_entry(void) { return &my_plugin; }
 * It is called once, at load, and must not fail; keep work for open(). */
typedef const ek_plugin *(*ek_plugin_entry_fn)(void);

/* Marks the entry point as exported even when the plugin is built with -fvisibility=hidden. */
#define EK_PLUGIN_EXPORT __attribute__((visibility("default")))

#endif
