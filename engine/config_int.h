/* Module-private parts of the configuration loader shared by yaml.c, config.c and config_keys.c. */
#ifndef EK_CONFIG_INT_H
#define EK_CONFIG_INT_H

#include "engine/config.h"

typedef enum config_kind { CK_INT, CK_BOOL, CK_FLOAT, CK_STR, CK_DURATION } config_kind;

typedef struct config_key {
    const char *path;  /* dotted, eKuiper's spelling */
    config_kind kind;
    const char *def;   /* default, as YAML would write it */
} config_key;

/* The kuiper.yaml key table (config_keys.c), ending with {NULL}. */
extern const config_key config__keys[];
const config_key *config__key(const char *path);  /* case-insensitive, or NULL */

/* A YAML scalar typed as the loader types it (plain scalars may be numbers, booleans or null). */
ek_value config__scalar(const char *s, size_t len, bool plain);
/* Loads path; when origins is an object, records "file:line" per lower-case dotted path. */
int config__yaml_load(const char *path, ek_value *out, ek_value *origins, ek_err *err);

#endif
