/* The key-value store on SQLite (data/sqliteKV.db, WAL mode): stream, table and rule definitions,
 * rule checkpoints and anything else kuiperd must keep across a restart. Keys live in namespaces
 * (one SQLite table each, e.g. "stream", "rule", "checkpoint"). Values are opaque bytes (JSON text
 * in practice). One connection guarded by a mutex: safe to call from any thread.
 *
 * Opening takes an exclusive lock on "<path>.lock", so a second kuiperd on the same data directory
 * is told so at once instead of corrupting state; a file that is not a SQLite database is reported
 * as such with its path. */
#ifndef EK_STORE_H
#define EK_STORE_H

#include "engine/err.h"

#include <stddef.h>

typedef struct ek_store ek_store;

int ek_store_open(const char *path, ek_store **out, ek_err *err);
/* SQLite's process-wide settings, applied once before the first connection of the process opens
 * (ek_store_open and the broker's files call it; a later call changes nothing): connections take
 * page-cache memory as they read pages instead of 20 pages (about 85 kB) each up front. */
void ek_store_sqlite_setup(void);
void ek_store_close(ek_store *s);  /* accepts NULL */

/* Sets ns/key to val (len bytes), replacing any previous value. */
int ek_store_set(ek_store *s, const char *ns, const char *key, const void *val, size_t len, ek_err *err);
/* Gets ns/key into a fresh NUL-terminated buffer (ek_free it). EK_ENOTFOUND when absent. */
int ek_store_get(ek_store *s, const char *ns, const char *key, char **val, size_t *len, ek_err *err);
/* Deletes ns/key. EK_ENOTFOUND when absent. */
int ek_store_delete(ek_store *s, const char *ns, const char *key, ek_err *err);
/* Calls fn for every key of ns in key order; fn returns non-zero to stop. The store's lock is held
 * during the walk: fn must not call back into the store. */
int ek_store_foreach(ek_store *s, const char *ns,
                     int (*fn)(const char *key, const char *val, size_t len, void *arg), void *arg, ek_err *err);
/* Removes every key of ns. */
int ek_store_clear(ek_store *s, const char *ns, ek_err *err);
/* Frees the pages the connection caches (read again from the file when next needed): after
 * start-up, which read every definition, so an idle kuiperd does not keep them. Accepts NULL. */
void ek_store_release_memory(ek_store *s);

#endif
