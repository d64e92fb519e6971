/* Provisioning from files in data/: at start kuiperd imports data/init.json (eKuiper's ruleset
 * format: {"streams": {name: sql}, "tables": {name: sql}, "rules": {id: rule JSON text}}) and every
 * data/rules/<name>.json (one rule JSON each), each once per change of the file's content: the content's
 * hash is kept in the store (namespace "provision", key = path) after a file imported cleanly. */
#ifndef EK_PROVISION_H
#define EK_PROVISION_H

#include "engine/app.h"
#include "engine/err.h"
#include "engine/value.h"

#include <stdbool.h>

struct ek_rules;

/* Imports what changed since the last start. A bad file, or a bad stream or rule inside one, is
 * logged with the file name, the line and what was wrong, and never stops the other files or the
 * server. Returns the number of streams, tables and rules created or replaced. */
int ek_provision_run(ek_app *app, struct ek_rules *r);

/* The steps shared with the REST imports (rest/res_ruleset.c). */
enum { EK_PROVISION_KEEP = 1 }; /* leave an existing stream or rule alone instead of replacing it */
/* Creates stream or table name from sql, or replaces it when it exists. Returns 0 when created or
 * replaced, 1 when it exists and flags has EK_PROVISION_KEEP, or an EK_E* with err set. */
int ek_provision_stream(struct ek_rules *r, bool table, const char *name, const char *sql, int flags, ek_err *err);
/* The same for a rule: def is its JSON object, given "id" = id when it has none (an "id" other
 * than id is EK_EINVAL); an existing rule is updated. */
int ek_provision_rule(struct ek_rules *r, const char *id, ek_value *def, int flags, ek_err *err);

#endif
