/* Opening the broker's SQLite files, shared by persist.c and authdb.c (see sqlite_open.h). */
#include "broker/sqlite_open.h"
#include "engine/store.h"

int broker__sqlite_open(const char *path, int extra_flags, int busy_ms, const char *schema, sqlite3 **out,
                        ek_err *err)
{
    ek_store_sqlite_setup(); /* when the broker opens the process's first database (--broker-only) */
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | extra_flags, NULL);
    if (rc == SQLITE_OK) sqlite3_busy_timeout(db, busy_ms);
    if (rc == SQLITE_OK) rc = sqlite3_exec(db, schema, NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        ek_err_set(err, EK_EIO, "broker: cannot open %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return EK_EIO;
    }
    *out = db;
    return 0;
}
