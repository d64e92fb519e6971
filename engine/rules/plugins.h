/* The plugin manager: loads shared objects that follow plugins/plugin.h and makes what they
 * provide available to the rest of kuiperd: SQL functions through ek_plugins_resolve (the
 * binder's function resolver, hooked in plan.c), source and sink types through the connector
 * registry. It also keeps the list the REST API shows (/plugins/...), installs plugins from
 * their file's content, persists them in the store (namespace "plugin") and deletes them.
 *
 * eKuiper's layout: plugins/functions/, plugins/sources/, plugins/sinks/ and, for a plugin that
 * provides several kinds, plugins/ itself. A plugin that fails to load (not a shared object, no
 * ek_plugin_entry, another ABI version, a taken name) is refused with a log line naming the file;
 * kuiperd goes on. Plugins are never unloaded; a deleted plugin's functions disappear at once,
 * its source and sink types at the next restart (as eKuiper says when deleting).
 * Every function is thread-safe (one mutex). */
#ifndef EK_RULES_PLUGINS_H
#define EK_RULES_PLUGINS_H

#include "engine/app.h"
#include "engine/err.h"
#include "engine/value.h"
#include "sql/func.h"

typedef enum ek_plugin_kind {
    EK_PLUGIN_SOURCE,
    EK_PLUGIN_SINK,
    EK_PLUGIN_FUNCTION,
} ek_plugin_kind;

/* The REST collection name ("sources", "sinks", "functions") and eKuiper's type word ("source"...). */
const char *ek_plugin_kind_dir(ek_plugin_kind k);
const char *ek_plugin_kind_word(ek_plugin_kind k);

/* Loads every plugin of app->plugins_dir (missing directories are fine) and then every plugin
 * installed through REST that the store remembers. Returns how many were loaded; refusals are
 * logged and skipped. Call once, before rules are restored. */
int ek_plugins_load_all(ek_app *app);

/* Loads one .so. kind >= 0 requires the plugin to provide that kind; name, when not NULL, must be
 * the descriptor's name. EK_EINVAL (not loadable, no entry symbol, ABI version), EK_EEXIST (a
 * taken plugin, function or type name) with err naming path and problem. */
int ek_plugins_load_file(const char *path, int kind, const char *name, ek_err *err);

/* The binder's resolver (sql/bind.h): a plugin function by name, case-insensitive, or NULL. */
const ek_func_def *ek_plugins_resolve(const char *name, void *arg);

/* REST: installs the plugin whose file content is data (a shared object, or a zip holding
 * <name>.so at its root, extracted with unzip) as kind/name: writes it to
 * plugins_dir/<kind>/<name>.so, loads it and records it in the store. The caller reads the file
 * (rest__read_uri applies basic.allowExternalFileAccess). */
int ek_plugins_install(ek_app *app, ek_plugin_kind kind, const char *name, const void *data, size_t len,
                       ek_err *err);
/* REST: forgets kind/name (store and file). EK_ENOTFOUND when absent. */
int ek_plugins_delete(ek_app *app, ek_plugin_kind kind, const char *name, ek_err *err);
/* REST: the names of the plugins providing kind (a new array). */
void ek_plugins_list(ek_plugin_kind kind, ek_value *out);
/* REST: {name, version, file[, functions]} of kind/name; EK_ENOTFOUND. */
int ek_plugins_describe(ek_plugin_kind kind, const char *name, ek_value *out, ek_err *err);
/* REST: every plugin function's name (a new array); {name, plugin} for one (EK_ENOTFOUND). */
void ek_plugins_udfs(ek_value *out);
int ek_plugins_udf(const char *name, ek_value *out, ek_err *err);
/* REST: records the function list of function plugin name (each must be one it exports). */
int ek_plugins_register_funcs(ek_app *app, const char *name, const ek_value *functions, ek_err *err);

#endif
