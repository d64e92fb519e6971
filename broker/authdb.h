/* The broker's user database and ban list: salted PBKDF2-SHA256 password hashes and banned
 * client ids, user names and peer addresses, kept in SQLite (<data dir>/broker_auth.db) so they
 * survive restarts.
 *
 * Three callers share it: the broker's thread (looking users and bans up at CONNECT), the REST
 * thread (GET/POST/DELETE /broker/users and /broker/banned) and `kuiperd user`, which opens the
 * file on its own while kuiperd may be running (SQLite's WAL and a busy timeout make that safe).
 * A handle is serialized by its own mutex, so one handle may be used from several threads. */
#ifndef EK_BROKER_AUTHDB_H
#define EK_BROKER_AUTHDB_H

#include "engine/err.h"
#include "engine/value.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- password hashes (passwd.c) ----
 * The stored form is passlib's: "$pbkdf2-sha256$<iterations>$<salt>$<hash>", salt (16 random
 * bytes) and hash (32 bytes) in base64 with '.' for '+' and no padding; the iteration count is
 * kept with the hash, so changing the default only affects new hashes. */
#define EK_PASSWD_ITERATIONS 10000
#define EK_PASSWD_MAX 160 /* bytes of a stored hash, NUL included */
/* Hashes password with a fresh random salt into out (EK_PASSWD_MAX bytes). Returns 0, or EK_EIO
 * when OpenSSL fails (no randomness). */
int ek_passwd_hash(const char *password, size_t len, uint32_t iterations, char *out);
/* Whether password matches stored (compared in constant time); false for a malformed stored hash. */
bool ek_passwd_verify(const char *stored, const uint8_t *password, size_t len);
/* Whether s is a well-formed stored hash (for configuration checks). */
bool ek_passwd_valid(const char *s);

/* ---- the database (authdb.c) ---- */
typedef struct ek_authdb ek_authdb;

/* Opens (creating if needed) <data_dir>/broker_auth.db. EK_EIO with err naming the file. */
int ek_authdb_open(const char *data_dir, ek_authdb **out, ek_err *err);
void ek_authdb_close(ek_authdb *db); /* accepts NULL */

/* Adds a user (replace false: EK_EEXIST when the name is taken) or replaces one (replace true:
 * EK_ENOTFOUND when it does not exist). The password is hashed with `iterations` rounds.
 * superuser is 0 or 1, or -1 to keep what the user had (0 for a new one). */
int ek_authdb_user_put(ek_authdb *db, const char *name, const char *password, int superuser,
                       uint32_t iterations, bool replace, ek_err *err);
int ek_authdb_user_del(ek_authdb *db, const char *name, ek_err *err); /* EK_ENOTFOUND */
/* out = array of {"username", "is_superuser", "created_at"} (seconds), sorted by name. */
int ek_authdb_user_list(ek_authdb *db, ek_value *out, ek_err *err);
/* Looks name up: 1 with its stored hash in hash (EK_PASSWD_MAX bytes) and *superuser, 0 when
 * unknown, a negative EK_E* on a database error. */
int ek_authdb_user_get(ek_authdb *db, const char *name, char *hash, bool *superuser);
bool ek_authdb_has_users(ek_authdb *db);

/* Bans: kind is "clientid", "username" or "peerhost"; until 0 = for ever; times in seconds. */
bool ek_authdb_ban_kind_valid(const char *kind);
int ek_authdb_ban_put(ek_authdb *db, const char *kind, const char *who, const char *reason, const char *by,
                      int64_t at, int64_t until, ek_err *err);
int ek_authdb_ban_del(ek_authdb *db, const char *kind, const char *who, ek_err *err); /* EK_ENOTFOUND */
/* out = array of {"as", "who", "reason", "by", "at", "until"} of the bans still in force at now
 * (expired ones are deleted on the way); at/until as RFC 3339 strings, until null for ever. */
int ek_authdb_ban_list(ek_authdb *db, int64_t now, ek_value *out, ek_err *err);
/* Whether a ban in force at now names client_id, user (may be NULL) or peerhost (may be NULL). */
bool ek_authdb_banned(ek_authdb *db, const char *client_id, const char *user, const char *peerhost, int64_t now);

/* `kuiperd user <verb> ...` (user_cmd.c): argv starts at the verb. Returns the exit status. */
int ek_broker_user_cmd(int argc, char **argv, const char *data_dir, uint32_t iterations);

#endif
