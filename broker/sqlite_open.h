/* Opening one of the broker's own SQLite files (broker.db in persist.c, broker_auth.db in
 * authdb.c): create it if missing, set the busy timeout, run the schema, and on failure an error
 * that names the file. */
#ifndef EK_BROKER_SQLITE_OPEN_H
#define EK_BROKER_SQLITE_OPEN_H

#include "engine/err.h"

#include <sqlite3.h>

/* Opens (creating) path with SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | extra_flags, waits up to
 * busy_ms for a lock held by another connection (0: not at all), and runs schema. 0 and *out set,
 * or EK_EIO with err set ("broker: cannot open PATH: why") and nothing left open. */
int broker__sqlite_open(const char *path, int extra_flags, int busy_ms, const char *schema, sqlite3 **out,
                        ek_err *err);

#endif
