/* The "sqlite" sink and lookup source: a real SQLite database file named by `path` (or an eKuiper
 * style `url`, sqlite:/path/to.db), relative paths under the data directory.
 *
 * Sink: each row of a message goes to `table` (created with the first row's columns when missing,
 * keyField as primary key), as the row's rowkindField says: insert (default), upsert, update or
 * delete, the last two matched on keyField. The rowkind field itself is not written. A busy or
 * unwritable database is EK_EIO (cached and resent); a row the table refuses is EK_EINVAL.
 *
 * Lookup source (CREATE TABLE ... WITH (TYPE="sqlite", KIND="lookup", DATASOURCE="table")):
 * lookup returns the rows whose columns equal the given keys. Identifiers are always quoted, and
 * values always bound, never spliced into SQL.
 *
 * Both are also registered as type "sql", eKuiper's SQL connector, for its sqlite: URLs, so an
 * eKuiper rule writing to `"sql": {"url": "sqlite:/data/x.db", ...}` runs unchanged. */
#include "connectors/builtin.h"
#include "connectors/sink_transform.h"
#include "engine/app.h"
#include "engine/codec_json.h"
#include "engine/mem.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

typedef struct sqlite_conn {
    sqlite3 *db;
    char *table;
    char *key;        /* keyField */
    char *rowkind;    /* rowkindField */
    bool created;
} sqlite_conn;

static void quote_ident(ek_buf *b, const char *s)
{
    ek_buf_putc(b, '"');
    for (; *s; s++) {
        if (*s == '"') ek_buf_putc(b, '"');
        ek_buf_putc(b, *s);
    }
    ek_buf_putc(b, '"');
}

static int open_db(const ek_app *app, const ek_value *props, sqlite3 **out, ek_err *err)
{
    const char *path = ek_prop_str(props, "path", NULL);
    const char *url = ek_prop_str(props, "url", NULL);
    if (!path && url) {
        const char *colon = strstr(url, "://") ? strstr(url, "://") : strchr(url, ':');
        if (colon && strncasecmp(url, "sqlite", 6) != 0 && strncasecmp(url, "sqlite3", 7) != 0)
            return ek_err_set(err, EK_EINVAL, "property url: only sqlite: databases are supported, not %.*s",
                              (int)(colon - url), url);
        path = colon ? colon + 1 : url;
        while (path[0] == '/' && path[1] == '/') path++;
    }
    if (!path || !*path) return ek_err_set(err, EK_EINVAL, "property path (or url sqlite:/file.db) is required");
    char *full = path[0] == '/' || !app || !app->data_dir ? ek_strdup(path) : ek_asprintf("%s/%s", app->data_dir, path);
    int rc = sqlite3_open_v2(full, out, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL);
    if (rc != SQLITE_OK) {
        ek_err_set(err, EK_EIO, "cannot open database %s: %s", full, *out ? sqlite3_errmsg(*out) : "out of memory");
        sqlite3_close(*out);
        *out = NULL;
    } else {
        sqlite3_busy_timeout(*out, 2000);
    }
    ek_free(full);
    return rc == SQLITE_OK ? 0 : EK_EIO;
}

static void bind_value(sqlite3_stmt *st, int i, const ek_value *v)
{
    switch (v ? v->type : EK_T_NULL) {
    case EK_T_NULL: sqlite3_bind_null(st, i); break;
    case EK_T_BOOL: sqlite3_bind_int(st, i, v->b); break;
    case EK_T_INT: sqlite3_bind_int64(st, i, v->i); break;
    case EK_T_FLOAT: sqlite3_bind_double(st, i, v->f); break;
    case EK_T_STRING: sqlite3_bind_text(st, i, ek_str_ptr(v), (int)ek_str_len(v), SQLITE_TRANSIENT); break;
    case EK_T_BYTES: sqlite3_bind_blob(st, i, v->s->data, (int)v->s->len, SQLITE_TRANSIENT); break;
    default: {
        char *j = ek_json_encode_str(v, EK_JSON_SORT_KEYS);
        sqlite3_bind_text(st, i, j, -1, SQLITE_TRANSIENT);
        ek_free(j);
    }
    }
}

static ek_value column_value(sqlite3_stmt *st, int i)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER: return ek_int(sqlite3_column_int64(st, i));
    case SQLITE_FLOAT: return ek_float(sqlite3_column_double(st, i));
    case SQLITE_TEXT: return ek_string_n((const char *)sqlite3_column_text(st, i), (size_t)sqlite3_column_bytes(st, i));
    case SQLITE_BLOB: return ek_bytes(sqlite3_column_blob(st, i), (size_t)sqlite3_column_bytes(st, i));
    default: return ek_null();
    }
}

static int db_error(sqlite3 *db, int rc, const char *what, ek_err *err)
{
    int code = rc == SQLITE_BUSY || rc == SQLITE_LOCKED || rc == SQLITE_IOERR || rc == SQLITE_FULL ||
                       rc == SQLITE_CANTOPEN || rc == SQLITE_READONLY
                   ? EK_EIO
                   : EK_EINVAL;
    return ek_err_set(err, code, "sqlite %s: %s", what, sqlite3_errmsg(db));
}

/* ---- sink ---- */

static int sink_open(void *st, const ek_sink_conf *conf, ek_err *err)
{
    sqlite_conn *s = st;
    const char *table = ek_prop_str(conf->props, "table", NULL);
    if (!table || !*table) return ek_err_set(err, EK_EINVAL, "sqlite sink: property table is required");
    int rc = open_db(conf->app, conf->props, &s->db, err);
    if (rc) return ek_err_prefix(err, "sqlite sink");
    s->table = ek_strdup(table);
    const char *k = ek_prop_str(conf->props, "keyField", NULL), *rk = ek_prop_str(conf->props, "rowkindField", NULL);
    s->key = k && *k ? ek_strdup(k) : NULL;
    s->rowkind = rk && *rk ? ek_strdup(rk) : NULL;
    return 0;
}

static bool skip_col(const sqlite_conn *s, const char *name) { return s->rowkind && strcmp(name, s->rowkind) == 0; }

static int ensure_table(sqlite_conn *s, const ek_value *row, ek_err *err)
{
    if (s->created) return 0;
    ek_buf sql = EK_BUF_INIT;
    ek_buf_puts(&sql, "CREATE TABLE IF NOT EXISTS ");
    quote_ident(&sql, s->table);
    ek_buf_putc(&sql, '(');
    int n = 0;
    for (size_t i = 0; i < ek_object_len(row); i++) {
        if (skip_col(s, ek_object_key(row, i))) continue;
        if (n++) ek_buf_putc(&sql, ',');
        quote_ident(&sql, ek_object_key(row, i));
        if (s->key && strcmp(s->key, ek_object_key(row, i)) == 0) ek_buf_puts(&sql, " PRIMARY KEY");
    }
    ek_buf_putc(&sql, ')');
    char *msg = NULL;
    int rc = n ? sqlite3_exec(s->db, sql.data, NULL, NULL, &msg) : SQLITE_OK;
    ek_buf_free(&sql);
    if (rc != SQLITE_OK) {
        ek_err_set(err, EK_EIO, "sqlite sink: cannot create table %s: %s", s->table, msg ? msg : "");
        sqlite3_free(msg);
        return EK_EIO;
    }
    s->created = true;
    return 0;
}

/* Builds the statement for one row and its kind; binds in column order (+ key last for update). */
static void build_sql(const sqlite_conn *s, const ek_value *row, const char *kind, ek_buf *sql)
{
    bool del = strcasecmp(kind, "delete") == 0, upd = strcasecmp(kind, "update") == 0;
    if (del || upd) {
        ek_buf_puts(sql, del ? "DELETE FROM " : "UPDATE ");
        quote_ident(sql, s->table);
        if (upd) {
            ek_buf_puts(sql, " SET ");
            int n = 0;
            for (size_t i = 0; i < ek_object_len(row); i++) {
                if (skip_col(s, ek_object_key(row, i))) continue;
                if (n++) ek_buf_putc(sql, ',');
                quote_ident(sql, ek_object_key(row, i));
                ek_buf_puts(sql, "=?");
            }
        }
        ek_buf_puts(sql, " WHERE ");
        quote_ident(sql, s->key);
        ek_buf_puts(sql, "=?");
        return;
    }
    ek_buf_puts(sql, strcasecmp(kind, "upsert") == 0 ? "INSERT OR REPLACE INTO " : "INSERT INTO ");
    quote_ident(sql, s->table);
    ek_buf_putc(sql, '(');
    int n = 0;
    for (size_t i = 0; i < ek_object_len(row); i++) {
        if (skip_col(s, ek_object_key(row, i))) continue;
        if (n++) ek_buf_putc(sql, ',');
        quote_ident(sql, ek_object_key(row, i));
    }
    ek_buf_puts(sql, ") VALUES(");
    for (int i = 0; i < n; i++) ek_buf_puts(sql, i ? ",?" : "?");
    ek_buf_putc(sql, ')');
}

static int write_row(sqlite_conn *s, const ek_value *row, ek_err *err)
{
    if (row->type != EK_T_OBJECT) return ek_err_set(err, EK_EINVAL, "sqlite sink: a row must be an object");
    const ek_value *k = s->rowkind ? ek_object_get(row, s->rowkind) : NULL;
    const char *kind = k && k->type == EK_T_STRING ? ek_str_ptr(k) : "insert";
    static const char *const kinds[] = {"insert", "upsert", "update", "delete"};
    bool known = false;
    for (int i = 0; i < 4; i++) known |= strcasecmp(kind, kinds[i]) == 0;
    if (!known) return ek_err_set(err, EK_EINVAL, "sqlite sink: unknown rowkind \"%s\"", kind);
    bool keyed = strcasecmp(kind, "update") == 0 || strcasecmp(kind, "delete") == 0;
    if (keyed && (!s->key || !ek_object_get(row, s->key)))
        return ek_err_set(err, EK_EINVAL, "sqlite sink: rowkind %s needs keyField and its value in the row", kind);
    int rc = ensure_table(s, row, err);
    if (rc) return rc;
    ek_buf sql = EK_BUF_INIT;
    build_sql(s, row, kind, &sql);
    sqlite3_stmt *st = NULL;
    int src = sqlite3_prepare_v2(s->db, sql.data, -1, &st, NULL);
    ek_buf_free(&sql);
    if (src != SQLITE_OK) return db_error(s->db, src, s->table, err);
    int b = 1;
    if (strcasecmp(kind, "delete") != 0)
        for (size_t i = 0; i < ek_object_len(row); i++)
            if (!skip_col(s, ek_object_key(row, i))) bind_value(st, b++, ek_object_val(row, i));
    if (keyed) bind_value(st, b, ek_object_get(row, s->key));
    src = sqlite3_step(st);
    sqlite3_finalize(st);
    return src == SQLITE_DONE ? 0 : db_error(s->db, src, s->table, err);
}

static int sink_collect(void *st, const ek_sink_data *d, ek_err *err)
{
    sqlite_conn *s = st;
    const ek_value *v = d->value;
    if (!v) return ek_err_set(err, EK_EINVAL, "sqlite sink: no value");
    if (v->type != EK_T_ARRAY) return write_row(s, v, err);
    if (sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) return db_error(s->db, SQLITE_BUSY, "begin", err);
    int rc = 0;
    for (size_t i = 0; i < ek_array_len(v) && !rc; i++) rc = write_row(s, ek_array_get(v, i), err);
    sqlite3_exec(s->db, rc ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL);
    return rc;
}

static void conn_close(void *st)
{
    sqlite_conn *s = st;
    sqlite3_close(s->db);
    ek_free(s->table);
    ek_free(s->key);
    ek_free(s->rowkind);
    memset(s, 0, sizeof *s);
}

const ek_sink_ops ek_sqlite_sink_ops = {
    .type = "sqlite",
    .state_size = sizeof(sqlite_conn),
    .open = sink_open,
    .collect = sink_collect,
    .close = conn_close,
};

/* ---- lookup source ---- */

static int source_open(void *st, const ek_source_conf *conf, const ek_ingest *ingest, ek_err *err)
{
    sqlite_conn *s = st;
    const char *table = conf->datasource && *conf->datasource ? conf->datasource : ek_prop_str(conf->props, "table", NULL);
    if (!table || !*table) return ek_err_set(err, EK_EINVAL, "table %s: DATASOURCE (the SQLite table) is required", conf->stream);
    int rc = open_db(conf->app, conf->props, &s->db, err);
    if (rc) return ek_err_prefix(err, "table %s", conf->stream);
    s->table = ek_strdup(table);
    if (ingest && ingest->status) ingest->status(ingest->ctx, 1, NULL);
    return 0;
}

static int source_lookup(void *st, const ek_value *keys, ek_value *out, ek_err *err)
{
    sqlite_conn *s = st;
    ek_buf sql = EK_BUF_INIT;
    ek_buf_puts(&sql, "SELECT * FROM ");
    quote_ident(&sql, s->table);
    size_t nk = keys && keys->type == EK_T_OBJECT ? ek_object_len(keys) : 0;
    for (size_t i = 0; i < nk; i++) {
        ek_buf_puts(&sql, i ? " AND " : " WHERE ");
        quote_ident(&sql, ek_object_key(keys, i));
        ek_buf_puts(&sql, "=?");
    }
    sqlite3_stmt *st2 = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql.data, -1, &st2, NULL);
    ek_buf_free(&sql);
    if (rc != SQLITE_OK) return db_error(s->db, rc, s->table, err);
    for (size_t i = 0; i < nk; i++) bind_value(st2, (int)i + 1, ek_object_val(keys, i));
    ek_value rows = ek_array_new(4);
    while ((rc = sqlite3_step(st2)) == SQLITE_ROW) {
        int nc = sqlite3_column_count(st2);
        ek_value row = ek_object_new((size_t)nc);
        for (int c = 0; c < nc; c++) ek_object_set(&row, sqlite3_column_name(st2, c), column_value(st2, c));
        ek_array_push(&rows, row);
    }
    sqlite3_finalize(st2);
    if (rc != SQLITE_DONE) {
        ek_value_unref(&rows);
        return db_error(s->db, rc, s->table, err);
    }
    *out = rows;
    return 0;
}

const ek_source_ops ek_sqlite_source_ops = {
    .type = "sqlite",
    .state_size = sizeof(sqlite_conn),
    .open = source_open,
    .close = conn_close,
    .lookup = source_lookup,
};

/* eKuiper's "sql" connector names, for sqlite: URLs. */
const ek_sink_ops ek_sql_sink_ops = {
    .type = "sql",
    .state_size = sizeof(sqlite_conn),
    .open = sink_open,
    .collect = sink_collect,
    .close = conn_close,
};

const ek_source_ops ek_sql_source_ops = {
    .type = "sql",
    .state_size = sizeof(sqlite_conn),
    .open = source_open,
    .close = conn_close,
    .lookup = source_lookup,
};
