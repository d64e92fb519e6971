/* The vtables of the built-in connector types, for the registry's tables (registry.c). Each
 * connector file exports one const ek_source_ops or ek_sink_ops; nothing else of it is public. */
#ifndef EK_BUILTIN_H
#define EK_BUILTIN_H

#include "connectors/connector.h"

extern const ek_source_ops ek_mqtt_source_ops;
extern const ek_sink_ops ek_mqtt_sink_ops;
extern const ek_sink_ops ek_rest_sink_ops;
extern const ek_source_ops ek_httppull_source_ops;
extern const ek_source_ops ek_httppush_source_ops;
extern const ek_sink_ops ek_file_sink_ops;
extern const ek_source_ops ek_file_source_ops;
extern const ek_sink_ops ek_sqlite_sink_ops;
extern const ek_source_ops ek_sqlite_source_ops;
extern const ek_sink_ops ek_sql_sink_ops;
extern const ek_source_ops ek_sql_source_ops;

#endif
