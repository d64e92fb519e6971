/* Configuration: etc/kuiper.yaml, etc/mqtt_source.yaml and etc/connections/connection.yaml,
 * read with libyaml into ek_value object trees, then overridden from the environment in eKuiper's
 * convention: KUIPER__BASIC__RESTPORT=9090 sets basic.restPort of kuiper.yaml (the first segment
 * names the file, `__` separates levels, matching is case-insensitive); MQTT_SOURCE__DEFAULT__SERVER
 * and CONNECTION__MQTT__CONF1__SERVER likewise. Environment values are typed like YAML scalars.
 *
 * kuiper.yaml keys are described in a table (config_keys.c) with their type and default; loading
 * checks every known key, so a wrong type stops kuiperd with the file, the line and the key:
 *   etc/kuiper.yaml:12: basic.restPort: expected an integer, got "abc"
 * After a successful load the typed getters cannot fail; unknown keys are kept and ignored. */
#ifndef EK_CONFIG_H
#define EK_CONFIG_H

#include "engine/buf.h"
#include "engine/err.h"
#include "engine/value.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct ek_config ek_config;

/* Loads the files under etc_dir (kuiper.yaml is required; the others are optional) and applies
 * environment overrides from envp (NULL: the process environment). */
int ek_config_load(const char *etc_dir, char **envp, ek_config **out, ek_err *err);
void ek_config_free(ek_config *c);

/* The whole tree of one file: "kuiper", "mqtt_source" or "connection" (an object, never NULL). */
const ek_value *ek_config_file(const ek_config *c, const char *file);
/* The value at a dotted path in kuiper.yaml ("basic.restPort"), case-insensitive, or NULL. */
const ek_value *ek_config_get(const ek_config *c, const char *path);
/* The same in any file's tree. */
const ek_value *ek_config_lookup(const ek_value *tree, const char *path);

/* Typed getters for kuiper.yaml keys; the default comes from the key table when absent. */
int64_t ek_config_int(const ek_config *c, const char *path);
bool ek_config_bool(const ek_config *c, const char *path);
double ek_config_float(const ek_config *c, const char *path);
const char *ek_config_str(const ek_config *c, const char *path);  /* borrowed */
int64_t ek_config_duration_ms(const ek_config *c, const char *path);

/* Parses "10s", "3m", "1h", "250ms", "2d" or a bare number of ms. Returns false if malformed. */
bool ek_parse_duration_ms(const char *s, int64_t *ms);

/* Loads one YAML file into an object tree (mapping keys as strings, scalars typed: integers,
 * floats, true/false, null/~, else strings). Errors name the file, line and column. */
int ek_yaml_load(const char *path, ek_value *out, ek_err *err);
/* The same from text in memory; name stands for the file in messages. */
int ek_yaml_parse(const char *text, size_t len, const char *name, ek_value *out, ek_err *err);
/* Writes v (an object or array tree) as a YAML document to out (yaml_emit.c). */
void ek_yaml_emit(const ek_value *v, ek_buf *out);

#endif
