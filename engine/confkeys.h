/* Conf keys: the named property sets of source, sink and connection types (eKuiper's "confKey",
 * e.g. the demo_conf section of etc/mqtt_source.yaml), from three layers, the later winning:
 * the etc/ files (mqtt_source.yaml, sources/<type>.yaml, sinks/<type>.yaml,
 * connections/connection.yaml), their environment overrides (applied when the files are loaded),
 * and the changes made over REST, kept in the store (one key per type in namespace
 * conf_source, conf_sink or conf_connection, holding {confKey: props}; a null props is a
 * tombstone: a file key deleted over REST). So REST > env > yaml, as in eKuiper. */
#ifndef EK_CONFKEYS_H
#define EK_CONFKEYS_H

#include "engine/app.h"
#include "engine/err.h"
#include "engine/value.h"

typedef enum ek_conf_kind { EK_CONF_SOURCE, EK_CONF_SINK, EK_CONF_CONNECTION } ek_conf_kind;

/* The store namespace of the connections created with POST /connections ({id, typ, props} by id). */
#define EK_CONNECTIONS_NS "connection"

/* The store namespace of a kind ("conf_source" ...). */
const char *ek_confkeys_ns(ek_conf_kind kind);
/* Every conf key of type, the layers merged: a new object {confKey: props}. */
ek_value ek_confkeys_all(const ek_app *app, ek_conf_kind kind, const char *type);
/* The properties a connector of type opens with: the "default" key overlaid with conf_key's
 * (conf_key may be NULL). A new object, empty when neither exists. */
ek_value ek_confkeys_props(const ek_app *app, ek_conf_kind kind, const char *type, const char *conf_key);
/* Sets conf key of type to props (an object, borrowed) in the REST layer; props NULL deletes it,
 * EK_ENOTFOUND when no layer has it. */
int ek_confkeys_set(const ek_app *app, ek_conf_kind kind, const char *type, const char *key, const ek_value *props,
                    ek_err *err);

#endif
