/* The catalog of streams and tables: CREATE STREAM / CREATE TABLE statements parsed by sql/,
 * kept in the store (namespaces "stream" and "table", the SQL text as value) and reloaded at start.
 * Describing a stream gives eKuiper's JSON shape (Name, StreamFields, Options, StreamType).
 * Invariant: every entry in r->streams parsed successfully; a stream a rule uses (running or not)
 * cannot be dropped. All functions take r->lock. */
#include "engine/codec_json.h"
#include "engine/log.h"
#include "engine/mem.h"
#include "engine/rules/rules_int.h"

#include <string.h>
#include <strings.h>

static void stream_free(rules__stream *s)
{
    if (!s) return;
    ek_free(s->name);
    ek_free(s->sql);
    ek_stmt_free(s->stmt);
    ek_free(s);
}

rules__stream *rules__stream_find(ek_rules *r, const char *name, int table)
{
    for (size_t i = 0; i < r->nstreams; i++) {
        rules__stream *s = r->streams[i];
        if ((table < 0 || s->table == (table != 0)) && strcmp(s->name, name) == 0) return s;
    }
    return NULL;
}

static const char *kind_word(bool table) { return table ? "Table" : "Stream"; }

/* Parses sql into a new catalog entry that must be of the given kind. */
static int parse_entry(bool table, const char *sql, rules__stream **out, ek_err *err)
{
    ek_stmt *st = NULL;
    int rc = ek_sql_parse_n(sql, strlen(sql), &st, err);
    if (rc) return rc;
    if (st->kind != EK_STMT_CREATE || st->create.is_table != table) {
        ek_stmt_free(st);
        return ek_err_set(err, EK_EPARSE, "expected a CREATE %s statement", table ? "TABLE" : "STREAM");
    }
    const char *kind = st->create.props[EK_PROP_KIND];
    if (kind && strcasecmp(kind, "scan") != 0 && strcasecmp(kind, "lookup") != 0) {
        /* kind points into st: write the message before freeing it. */
        ek_err_set(err, EK_EPARSE, "KIND must be scan or lookup, got \"%s\"", kind);
        ek_stmt_free(st);
        return EK_EPARSE;
    }
    rules__stream *s = ek_calloc(1, sizeof *s);
    s->name = ek_strdup(st->create.name);
    s->table = table;
    s->sql = ek_strdup(sql);
    s->stmt = st;
    ek_sql_schema_from_create(&st->create, &s->schema);
    *out = s;
    return 0;
}

static void add_entry(ek_rules *r, rules__stream *s)
{
    if (r->nstreams == r->streams_cap) {
        r->streams_cap = r->streams_cap ? r->streams_cap * 2 : 16;
        r->streams = ek_realloc(r->streams, r->streams_cap * sizeof *r->streams);
    }
    r->streams[r->nstreams++] = s;
}

static const char *ns_of(bool table) { return table ? RULES_NS_TABLE : RULES_NS_STREAM; }

/* Whether a graph rule's source node reads the stream (by sourceName or as its inline node). */
static bool graph_uses(const ek_value *def, const char *name)
{
    const ek_value *g = ek_object_get(def, "graph");
    const ek_value *nodes = g && g->type == EK_T_OBJECT ? ek_object_get(g, "nodes") : NULL;
    for (size_t i = 0; nodes && nodes->type == EK_T_OBJECT && i < ek_object_len(nodes); i++) {
        const ek_value *n = ek_object_val(nodes, i);
        const ek_value *type = n->type == EK_T_OBJECT ? ek_object_get(n, "type") : NULL;
        if (!type || type->type != EK_T_STRING || strcasecmp(ek_str_ptr(type), "source") != 0) continue;
        const ek_value *props = ek_object_get(n, "props");
        const ek_value *ref = props && props->type == EK_T_OBJECT ? ek_object_get_ci(props, "sourceName") : NULL;
        const char *used = ref && ref->type == EK_T_STRING ? ek_str_ptr(ref) : ek_object_key(nodes, i);
        if (strcmp(used, name) == 0) return true;
    }
    return false;
}

/* The rule whose SQL (or graph) reads the stream, or NULL; caller holds the lock. */
static const char *user_of(ek_rules *r, const char *name)
{
    for (size_t i = 0; i < r->nrules; i++) {
        if (graph_uses(&r->rules[i]->def, name)) return r->rules[i]->id;
        const ek_value *sql = ek_object_get(&r->rules[i]->def, "sql");
        if (!sql || sql->type != EK_T_STRING) continue;
        ek_stmt *st = NULL;
        ek_err e = {0};
        if (ek_sql_parse_n(ek_str_ptr(sql), ek_str_len(sql), &st, &e) != 0) continue;
        bool uses = false;
        for (size_t k = 0; st->kind == EK_STMT_SELECT && k < st->select.nsources; k++)
            if (strcmp(st->select.sources[k].name, name) == 0) uses = true;
        ek_stmt_free(st);
        if (uses) return r->rules[i]->id;
    }
    return NULL;
}

int ek_rules_stream_create(ek_rules *r, bool table, const char *sql, char **name, ek_err *err)
{
    rules__stream *s = NULL;
    int rc = parse_entry(table, sql, &s, err);
    if (rc) return rc;
    pthread_mutex_t *lock = &r->lock;
    pthread_mutex_lock(lock);
    if (rules__stream_find(r, s->name, -1)) {
        rc = ek_err_set(err, EK_EEXIST, "%s %s already exists", kind_word(table), s->name);
    } else {
        bool temp = s->stmt->create.props[EK_PROP_TEMP] && strcasecmp(s->stmt->create.props[EK_PROP_TEMP], "true") == 0;
        if (!temp) rc = ek_store_set(r->app->store, ns_of(table), s->name, sql, strlen(sql), err);
        if (rc == 0) {
            if (name) *name = ek_strdup(s->name);
            add_entry(r, s);
            s = NULL;
        }
    }
    pthread_mutex_unlock(lock);
    stream_free(s);
    return rc;
}

int ek_rules_stream_replace(ek_rules *r, bool table, const char *name, const char *sql, ek_err *err)
{
    rules__stream *s = NULL;
    int rc = parse_entry(table, sql, &s, err);
    if (rc) return rc;
    if (strcmp(s->name, name) != 0) {
        rc = ek_err_set(err, EK_EINVAL, "the name in the SQL (%s) does not match %s", s->name, name);
        stream_free(s);
        return rc;
    }
    pthread_mutex_lock(&r->lock);
    rules__stream *old = rules__stream_find(r, name, table);
    if (!old) {
        rc = ek_err_set(err, EK_ENOTFOUND, "%s %s is not found", kind_word(table), name);
    } else if ((rc = ek_store_set(r->app->store, ns_of(table), name, sql, strlen(sql), err)) == 0) {
        for (size_t i = 0; i < r->nstreams; i++)
            if (r->streams[i] == old) r->streams[i] = s;
        stream_free(old);
        s = NULL;
    }
    pthread_mutex_unlock(&r->lock);
    stream_free(s);
    return rc;
}

int ek_rules_stream_drop(ek_rules *r, bool table, const char *name, ek_err *err)
{
    int rc = 0;
    pthread_mutex_lock(&r->lock);
    rules__stream *s = rules__stream_find(r, name, table);
    const char *user = s ? user_of(r, name) : NULL;
    if (!s) {
        rc = ek_err_set(err, EK_ENOTFOUND, "%s %s is not found", kind_word(table), name);
    } else if (user) {
        rc = ek_err_set(err, EK_EBUSY, "%s %s is referenced by rule %s: delete the rule first",
                        kind_word(table), name, user);
    } else {
        ek_err e = {0};
        ek_store_delete(r->app->store, ns_of(table), name, &e); /* a TEMP stream is not stored */
        for (size_t i = 0; i < r->nstreams; i++) {
            if (r->streams[i] != s) continue;
            memmove(&r->streams[i], &r->streams[i + 1], (r->nstreams - i - 1) * sizeof *r->streams);
            r->nstreams--;
            break;
        }
        stream_free(s);
    }
    pthread_mutex_unlock(&r->lock);
    return rc;
}

static const char *table_kind(const rules__stream *s)
{
    const char *k = rules__prop(s, EK_PROP_KIND);
    return k ? k : "scan";
}

void ek_rules_stream_list(ek_rules *r, bool table, bool details, const char *kind, ek_value *out)
{
    *out = ek_array_new(8);
    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->nstreams; i++) {
        const rules__stream *s = r->streams[i];
        if (s->table != table) continue;
        if (table && kind && *kind && strcasecmp(kind, table_kind(s)) != 0) continue;
        if (!details) {
            ek_array_push(out, ek_string(s->name));
            continue;
        }
        ek_value d = ek_object_new(4);
        ek_object_set(&d, "name", ek_string(s->name));
        const char *type = rules__prop(s, EK_PROP_TYPE);
        const char *fmt = rules__prop(s, EK_PROP_FORMAT);
        ek_object_set(&d, "type", ek_string(type ? type : "mqtt"));
        ek_object_set(&d, "format", ek_string(fmt ? fmt : "json"));
        if (table) ek_object_set(&d, "kind", ek_string(table_kind(s)));
        ek_array_push(out, d);
    }
    pthread_mutex_unlock(&r->lock);
}

/* eKuiper's DataType numbers in describe output. */
static int type_code(ek_type t)
{
    switch (t) {
    case EK_T_INT: return 1;
    case EK_T_FLOAT: return 2;
    case EK_T_STRING: return 3;
    case EK_T_BYTES: return 4;
    case EK_T_DATETIME: return 5;
    case EK_T_BOOL: return 6;
    case EK_T_ARRAY: return 7;
    case EK_T_OBJECT: return 8;
    default: return 0;
    }
}

static ek_value field_type(const ek_sql_type *t);

static ek_value fields_json(const ek_col_def *cols, size_t n)
{
    ek_value arr = ek_array_new(n);
    for (size_t i = 0; i < n; i++) {
        ek_value f = ek_object_new(2);
        ek_object_set(&f, "Name", ek_string(cols[i].name));
        ek_object_set(&f, "FieldType", field_type(&cols[i].type));
        ek_array_push(&arr, f);
    }
    return arr;
}

static ek_value field_type(const ek_sql_type *t)
{
    ek_value v = ek_object_new(2);
    ek_object_set(&v, "Type", ek_int(type_code(t->kind)));
    if (t->kind == EK_T_ARRAY && t->elem) ek_object_set(&v, "ElemType", field_type(t->elem));
    if (t->kind == EK_T_OBJECT) ek_object_set(&v, "StreamFields", fields_json(t->fields, t->nfields));
    return v;
}

static rules__stream *find_or_err(ek_rules *r, bool table, const char *name, ek_err *err)
{
    rules__stream *s = rules__stream_find(r, name, table);
    if (!s) ek_err_set(err, EK_ENOTFOUND, "%s %s is not found", kind_word(table), name);
    return s;
}

int ek_rules_stream_describe(ek_rules *r, bool table, const char *name, ek_value *out, ek_err *err)
{
    pthread_mutex_lock(&r->lock);
    rules__stream *s = find_or_err(r, table, name, err);
    if (!s) {
        pthread_mutex_unlock(&r->lock);
        return EK_ENOTFOUND;
    }
    const ek_create_stmt *c = &s->stmt->create;
    ek_value v = ek_object_new(6);
    ek_object_set(&v, "Name", ek_string(s->name));
    ek_object_set(&v, "StreamFields", c->schemaless ? ek_null() : fields_json(c->cols, c->ncols));
    ek_value opts = ek_object_new(4);
    for (int p = 0; p < EK_PROP_COUNT; p++)
        if (c->props[p]) ek_object_set(&opts, ek_stream_prop_name((ek_stream_prop)p), ek_string(c->props[p]));
    ek_object_set(&v, "Options", opts);
    ek_object_set(&v, "StreamType", ek_int(table ? 1 : 0));
    ek_object_set(&v, "StreamKind", ek_string(table ? table_kind(s) : ""));
    ek_object_set(&v, "Statement", ek_string(s->sql));
    pthread_mutex_unlock(&r->lock);
    *out = v;
    return 0;
}

static ek_value schema_of(const ek_sql_type *t);

static ek_value schema_fields(const ek_col_def *cols, size_t n)
{
    ek_value o = ek_object_new(n);
    for (size_t i = 0; i < n; i++) ek_object_set(&o, cols[i].name, schema_of(&cols[i].type));
    return o;
}

static ek_value schema_of(const ek_sql_type *t)
{
    ek_value v = ek_object_new(2);
    ek_buf b = EK_BUF_INIT;
    ek_sql_type_print(t, &b);
    ek_object_set(&v, "type", ek_string(t->kind == EK_T_ARRAY ? "array" : t->kind == EK_T_OBJECT ? "struct" : b.data));
    ek_buf_free(&b);
    if (t->kind == EK_T_ARRAY && t->elem) ek_object_set(&v, "items", schema_of(t->elem));
    if (t->kind == EK_T_OBJECT) ek_object_set(&v, "properties", schema_fields(t->fields, t->nfields));
    return v;
}

int ek_rules_stream_schema(ek_rules *r, bool table, const char *name, ek_value *out, ek_err *err)
{
    pthread_mutex_lock(&r->lock);
    rules__stream *s = find_or_err(r, table, name, err);
    if (s) *out = schema_fields(s->stmt->create.cols, s->stmt->create.ncols);
    pthread_mutex_unlock(&r->lock);
    return s ? 0 : EK_ENOTFOUND;
}

typedef struct load_ctx {
    ek_rules *r;
    bool table;
} load_ctx;

static int load_one(const char *key, const char *val, size_t len, void *arg)
{
    load_ctx *lc = arg;
    rules__stream *s = NULL;
    ek_err e = {0};
    if (parse_entry(lc->table, val, &s, &e) != 0) {
        ek_error("%s %s is not loaded: %s", kind_word(lc->table), key, e.msg);
        return 0;
    }
    add_entry(lc->r, s);
    return 0;
}

int rules__catalog_load(ek_rules *r, ek_err *err)
{
    load_ctx lc = {r, false};
    int rc = ek_store_foreach(r->app->store, RULES_NS_STREAM, load_one, &lc, err);
    if (rc) return rc;
    lc.table = true;
    return ek_store_foreach(r->app->store, RULES_NS_TABLE, load_one, &lc, err);
}

void rules__catalog_free(ek_rules *r)
{
    for (size_t i = 0; i < r->nstreams; i++) stream_free(r->streams[i]);
    ek_free(r->streams);
    r->streams = NULL;
    r->nstreams = r->streams_cap = 0;
}
